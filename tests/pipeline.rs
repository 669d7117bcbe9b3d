//! The file analysis reads and decodes on one thread and tracks on another
//! (`analyze::run`). These tests check that this gives exactly what one
//! thread feeding an [`Engine`] frame by frame gives: the same report, the
//! same connections handed out at the same sweeps, in the same order, over
//! many batches (HTTP requests included); and that a consumer saying
//! "stop" stops the reading.

mod testkit;

use tcptriage::analyze::{AnalyzeError, Engine, Settings, analyze, analyze_collect};
use tcptriage::report::{Collect, Each, Wants};
use tcptriage::report::{ConnectionReport, Report, to_writer_line, write_json};
use tcptriage::source::{MemorySource, PacketSource, SourceError, open_path};
use tcptriage::time::Ts;

/// The frames of `name` in testdata/, repeated `times` times, each copy
/// 100 s after the one before (so that tombstones of the copy before have
/// expired and its 4-tuples start new connections).
fn repeated(name: &str, times: i64) -> Vec<(Ts, u32, Vec<u8>)> {
    let path = testkit::testdata().join(name);
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

/// [`analyze`] handing each connection to `f` as soon as it closed (and
/// the rest at the end, by id), as NDJSON and live do.
fn stream(
    src: &mut dyn PacketSource,
    opts: &Settings,
    f: impl FnMut(ConnectionReport) -> bool,
) -> Result<Report, AnalyzeError> {
    analyze(
        src,
        "x",
        opts,
        &mut Each::new(Wants::EveryAsItCloses, f),
        None,
    )
}

/// The connections of `rep` as [`line`]s, and `rep` without them.
fn split(mut rep: Report) -> (Vec<String>, Report) {
    let lines = rep.connections.iter().map(line).collect();
    rep.connections.clear();
    (lines, rep)
}

/// One thread, frame by frame, sweeping like the streaming analysis.
fn reference(frames: &[(Ts, u32, Vec<u8>)], opts: &Settings, sweep: bool) -> (Vec<String>, Report) {
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
        // HTTP request heads, whole and cut by the snaplen.
        ("gomod_ok.pcap", 240),
        ("gomod_reset.pcap", 170),
        ("snaplen96.pcap", 70),
    ] {
        let frames = repeated(name, times);
        assert!(frames.len() > 4096, "{name}: more than two batches");
        for sweep_every in [7, 1000] {
            let opts = Settings {
                sweep_every,
                ..Settings::default()
            };
            // Whole-file analysis: nothing handed out while reading.
            let (_, want) = reference(&frames, &opts, false);
            let got = analyze_collect(
                &mut MemorySource::new(frames.clone()),
                "x",
                &opts,
                Collect::every(),
            )
            .unwrap();
            assert_eq!(json(&got), json(&want), "{name}: analyze");

            // Streaming: the same connections at the same sweeps.
            // (Handed out while reading, then the rest at the end.)
            let (mut want_handed, want) = reference(&frames, &opts, true);
            handed_in_all += want_handed.len();
            let (rest, want) = split(want);
            want_handed.extend(rest);
            let mut handed = Vec::new();
            let got = stream(&mut MemorySource::new(frames.clone()), &opts, |c| {
                handed.push(line(&c));
                true
            })
            .unwrap();
            assert_eq!(handed, want_handed, "{name}: sweep {sweep_every}");
            assert_eq!(json(&got), json(&want), "{name}: the report");
        }
    }
    assert!(handed_in_all > 100, "connections handed out while reading");
}

#[test]
fn a_consumer_that_stops_stops_the_reading() {
    let frames = repeated("all_failures.pcap", 200);
    let total = frames.len() as u64;
    let opts = Settings {
        sweep_every: 7,
        ..Settings::default()
    };
    let mut seen = 0;
    let rep = stream(&mut MemorySource::new(frames), &opts, |_| {
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
    let frames = repeated("all_failures.pcap", 40);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.pcapng");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    testkit::capture::pcapng(
        file,
        frames[0].1,
        65535,
        frames
            .iter()
            .map(|(ts, _, d)| (*ts, d.len() as u32, &d[..])),
    );
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
        let opts = Settings {
            sweep_every,
            ..Settings::default()
        };
        let (_, want) = reference(&back, &opts, false);
        let got = analyze_collect(
            open_path(&path).unwrap().as_mut(),
            "x",
            &opts,
            Collect::every(),
        )
        .unwrap();
        assert_eq!(body(&got), body(&want), "sweep {sweep_every}: analyze");
        let (mut want_handed, want) = reference(&back, &opts, true);
        assert!(!want_handed.is_empty());
        let (rest, want) = split(want);
        want_handed.extend(rest);
        let mut handed = Vec::new();
        let got = stream(open_path(&path).unwrap().as_mut(), &opts, |c| {
            handed.push(line(&c));
            true
        })
        .unwrap();
        assert_eq!(handed, want_handed, "sweep {sweep_every}: streaming");
        assert_eq!(body(&got), body(&want), "sweep {sweep_every}: the report");
    }
}

/// A source that hides its buffer hand-over: the analysis then copies
/// every frame into its batches (the path of in-memory and live sources).
struct Copying(Box<dyn PacketSource>);

impl PacketSource for Copying {
    fn next_frame(&mut self) -> Result<Option<tcptriage::packet::Frame<'_>>, SourceError> {
        self.0.next_frame()
    }
    fn warnings(&self) -> &[String] {
        self.0.warnings()
    }
    fn format(&self) -> String {
        self.0.format()
    }
    fn bytes_read(&self) -> Option<u64> {
        self.0.bytes_read()
    }
}

/// A pipe that hands out reads of random sizes (1 byte to 70 kB).
struct Chunky {
    data: Vec<u8>,
    at: usize,
    rng: testkit::Rng,
}

impl std::io::Read for Chunky {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = ((self.rng.next_u64() % 70_000) as usize + 1)
            .min(buf.len())
            .min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Damaged captures (bits flipped, cut short) of several read buffers give
/// the same report whether the reader hands its buffers over (read through
/// a pipe of random read sizes) or the frames are copied; streamed
/// connections come out the same and in the same order. After a review's
/// mutation run of the hand-over (2026-11-26).
#[test]
fn handed_over_and_copied_frames_give_the_same_report_on_damaged_captures() {
    use tcptriage::source::file::open_reader;
    let frames = repeated("all_failures.pcap", 25);
    let clean = testkit::capture::pcapng(
        Vec::new(),
        frames[0].1,
        65535,
        frames
            .iter()
            .map(|(ts, _, d)| (*ts, d.len() as u32, &d[..])),
    );
    assert!(clean.len() > 3 * 256 * 1024, "several read buffers");
    let body = |r: &Report| {
        let mut r = r.clone();
        r.capture.format.clear();
        json(&r)
    };
    let mut rng = testkit::Rng::new(0x1234_5678_9abc_def1);
    let mut next = move || rng.next_u64();
    for round in 0..5 {
        let mut f = clean.clone();
        if round > 0 {
            for _ in 0..next() % 50 {
                let i = 100 + (next() as usize % (f.len() - 100));
                f[i] ^= 1 << (next() % 8);
            }
            if round % 2 == 0 {
                let n = f.len() - (next() as usize % 100_000);
                f.truncate(n);
            }
        }
        for sweep_every in [7, 8192] {
            let opts = Settings {
                sweep_every,
                ..Settings::default()
            };
            let pipe = Chunky {
                data: f.clone(),
                at: 0,
                rng: testkit::Rng::new(next() | 1),
            };
            let a = analyze_collect(
                open_reader(pipe).unwrap().as_mut(),
                "x",
                &opts,
                Collect::every(),
            );
            let b = analyze_collect(
                &mut Copying(open_reader(std::io::Cursor::new(f.clone())).unwrap()),
                "x",
                &opts,
                Collect::every(),
            );
            match (a, b) {
                (Ok(a), Ok(b)) => assert_eq!(body(&a), body(&b), "round {round}"),
                (a, b) => assert_eq!(a.is_ok(), b.is_ok(), "round {round}"),
            }
            let mut streamed = [Vec::new(), Vec::new()];
            for (i, copy) in [false, true].into_iter().enumerate() {
                let src = open_reader(std::io::Cursor::new(f.clone())).unwrap();
                let mut src: Box<dyn PacketSource> =
                    if copy { Box::new(Copying(src)) } else { src };
                let out = &mut streamed[i];
                let _ = stream(src.as_mut(), &opts, |c| {
                    out.push(line(&c));
                    true
                });
            }
            assert_eq!(streamed[0], streamed[1], "round {round}: streamed");
        }
    }
}
