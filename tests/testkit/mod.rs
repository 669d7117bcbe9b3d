//! The integration tests' one shared kit, included by each test file as
//! `mod testkit;`:
//!
//! - here: where the captures are, and waiting for a child process with a
//!   time limit;
//! - [`rng`]: the one seeded random generator ([`Rng`]);
//! - [`frames`]: segment builders (raw IPv4/TCP bytes, or through
//!   etherparse's `PacketBuilder`);
//! - [`capture`]: capture files, well-formed through the library's own
//!   `source::PcapngWriter`, or byte by byte (pcap records, pcapng blocks)
//!   where a test needs exact offsets or lying length fields;
//! - [`hostile`]: application payloads carrying whatever bytes a test wants
//!   to smuggle in (a TLS ClientHello's SNI, a DNS query's labels).
//!
//! `src/` unit tests cannot reach this directory and keep their own helpers.
#![allow(dead_code, unused_imports)] // each test file uses only some of it

pub mod capture;
pub mod frames;
pub mod hostile;
pub mod rng;

pub use rng::Rng;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// The report of `frames` (time, link type, bytes) with default settings,
/// every connection in it.
pub fn analyze_frames(
    frames: Vec<(tcptriage::time::Ts, u32, Vec<u8>)>,
) -> tcptriage::report::Report {
    tcptriage::analyze::analyze_collect(
        &mut tcptriage::source::MemorySource::new(frames),
        "mem",
        &tcptriage::analyze::Settings::default(),
        tcptriage::report::Collect::every(),
    )
    .unwrap()
}

/// `testdata/` of this crate.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Every capture shipped in `testdata/` and `testdata/public/`, sorted.
pub fn shipped_captures() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in [testdata(), testdata().join("public")] {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            ) {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

/// The public capture corpus (`../shared/captures/public` beside the
/// checkout, as CI lays it out), when it is there.
pub fn public_corpus() -> Option<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        here.join("../shared/captures/public"),
        PathBuf::from("/work/shared/captures/public"),
    ]
    .into_iter()
    .find(|p| p.join("INDEX.md").exists())
}

/// Every file under `dir` (recursively) except the corpus's INDEX.md and
/// MANIFEST.tsv, sorted.
pub fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if !matches!(
                p.file_name().and_then(|n| n.to_str()),
                Some("INDEX.md" | "MANIFEST.tsv")
            ) {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, &mut v);
    v.sort();
    v
}

/// Waits for `child` at most `limit` (killing it and failing after that);
/// its exit code and what it wrote to the stdout and stderr it was given
/// as pipes (empty for the others).
pub fn wait_output(mut child: Child, limit: Duration) -> (Option<i32>, String, String) {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let mut out = String::new();
            let mut err = String::new();
            if let Some(mut o) = child.stdout.take() {
                o.read_to_string(&mut out).unwrap();
            }
            if let Some(mut e) = child.stderr.take() {
                e.read_to_string(&mut err).unwrap();
            }
            return (st.code(), out, err);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("timed out after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
