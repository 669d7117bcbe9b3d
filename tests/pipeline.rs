//! The file analysis reads and decodes on one thread and tracks on another
//! (`analyze::run`). These tests check that this gives exactly what one
//! thread feeding an [`Engine`] frame by frame gives: the same report, the
//! same connections handed out at the same sweeps, in the same order, over
//! many batches; and that a consumer saying "stop" stops the reading.

use std::path::Path;
use tcptriage::analyze::{Engine, Options, analyze, analyze_streaming};
use tcptriage::report::{ConnectionReport, Report, to_writer_line, write_json};
use tcptriage::source::{MemorySource, PacketSource, open_path};
use tcptriage::time::Ts;

/// The frames of `name` in testdata/, repeated `times` times, each copy
/// 100 s after the one before (so that tombstones of the copy before have
/// expired and its 4-tuples start new connections).
fn repeated(name: &str, times: i64) -> Vec<(Ts, u32, Vec<u8>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    let mut src = open_path(&path).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        frames.push((f.ts, f.linktype, f.data.to_vec()));
    }
    let mut out = Vec::new();
    for k in 0..times {
        for (ts, lt, d) in &frames {
            out.push((Ts(ts.0 + k * 100_000_000_000), *lt, d.clone()));
        }
    }
    out
}

fn json(r: &Report) -> String {
    let mut v = Vec::new();
    write_json(&mut v, std::slice::from_ref(r)).unwrap();
    String::from_utf8(v).unwrap()
}

fn line(c: &ConnectionReport) -> String {
    let mut v = Vec::new();
    to_writer_line(&mut v, c).unwrap();
    String::from_utf8(v).unwrap()
}

/// One thread, frame by frame, sweeping like the streaming analysis.
fn reference(frames: &[(Ts, u32, Vec<u8>)], opts: &Options, sweep: bool) -> (Vec<String>, Report) {
    let mut src = MemorySource::new(frames.to_vec());
    let mut e = Engine::new(opts.clone());
    let mut handed = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        e.push(&f);
        if sweep && e.packets().is_multiple_of(opts.sweep_every) {
            let now = e.now().unwrap();
            handed.extend(e.take_closed(now).iter().map(line));
        }
    }
    let format = src.format();
    (handed, e.finish(None, "x", format, Vec::new()))
}

#[test]
fn two_threads_give_what_one_gives_over_many_batches() {
    let mut handed_in_all = 0;
    for (name, times) in [
        ("all_failures.pcap", 40),
        ("loss_ok.pcap", 20),
        ("mixed.pcapng", 70),
    ] {
        let frames = repeated(name, times);
        assert!(frames.len() > 4096, "{name}: more than two batches");
        for sweep_every in [7, 1000] {
            let opts = Options {
                sweep_every,
                ..Options::default()
            };
            // Whole-file analysis: nothing handed out while reading.
            let (_, want) = reference(&frames, &opts, false);
            let got = analyze(&mut MemorySource::new(frames.clone()), "x", &opts).unwrap();
            assert_eq!(json(&got), json(&want), "{name}: analyze");

            // Streaming: the same connections at the same sweeps.
            let (want_handed, want) = reference(&frames, &opts, true);
            handed_in_all += want_handed.len();
            let mut handed = Vec::new();
            let got = analyze_streaming(
                &mut MemorySource::new(frames.clone()),
                "x",
                &opts,
                &mut |c| {
                    handed.push(line(&c));
                    true
                },
            )
            .unwrap();
            assert_eq!(handed, want_handed, "{name}: sweep {sweep_every}");
            assert_eq!(json(&got), json(&want), "{name}: the rest");
        }
    }
    assert!(handed_in_all > 100, "connections handed out while reading");
}

#[test]
fn a_consumer_that_stops_stops_the_reading() {
    let frames = repeated("all_failures.pcap", 200);
    let total = frames.len() as u64;
    let opts = Options {
        sweep_every: 7,
        ..Options::default()
    };
    let mut seen = 0;
    let rep = analyze_streaming(&mut MemorySource::new(frames), "x", &opts, &mut |_| {
        seen += 1;
        seen < 3
    })
    .unwrap();
    assert_eq!(seen, 3, "nothing is handed out after the stop");
    // The reader stops at the next batch; what was in flight is analysed.
    assert!(
        rep.summary.packets < total / 2,
        "read {} of {total} packets",
        rep.summary.packets
    );
}

/// A capture file of many read buffers: the analysis hands each buffer
/// whole to the tracking thread instead of copying its frames
/// (`source::Handoff`). It must give what one thread gives on the same
/// frames, whole-file and streaming, whatever the sweeps.
#[test]
fn a_file_handed_over_buffer_by_buffer_gives_what_one_thread_gives() {
    use std::io::Write as _;
    use tcptriage::source::PcapngWriter;
    let frames = repeated("all_failures.pcap", 40);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.pcapng");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut w = PcapngWriter::new(file, frames[0].1, 65535).unwrap();
    for (ts, _, d) in &frames {
        w.write(*ts, d.len() as u32, d).unwrap();
    }
    w.finish().unwrap().flush().unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 3 << 20, "{len} bytes: several read buffers");
    // The frames as read back (timestamps at the file's resolution).
    let mut src = open_path(&path).unwrap();
    let mut back = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        back.push((f.ts, f.linktype, f.data.to_vec()));
    }
    assert_eq!(back.len(), frames.len());
    // The capture's name and format differ from the in-memory reference.
    let body = |r: &Report| {
        let mut r = r.clone();
        r.capture.format.clear();
        json(&r)
    };
    for sweep_every in [7, 1000] {
        let opts = Options {
            sweep_every,
            ..Options::default()
        };
        let (_, want) = reference(&back, &opts, false);
        let got = analyze(open_path(&path).unwrap().as_mut(), "x", &opts).unwrap();
        assert_eq!(body(&got), body(&want), "sweep {sweep_every}: analyze");
        let (want_handed, want) = reference(&back, &opts, true);
        let mut handed = Vec::new();
        let got = analyze_streaming(open_path(&path).unwrap().as_mut(), "x", &opts, &mut |c| {
            handed.push(line(&c));
            true
        })
        .unwrap();
        assert!(!want_handed.is_empty());
        assert_eq!(handed, want_handed, "sweep {sweep_every}: streaming");
        assert_eq!(body(&got), body(&want), "sweep {sweep_every}: the rest");
    }
}
