//! Runs the binary on every file under `../shared/captures/public/` (the
//! public captures, truncated and malformed ones included). The only
//! acceptable outcomes are exit 0 with a report, or exit 2 with one line on
//! stderr naming the file (`tcptriage: FILE: what happened`; for a capture
//! whose link types are all unsupported, `unsupported link type N (NAME)`),
//! each within 5 s. Skipped when the folder is not there.

mod testkit;

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn every_public_capture_gives_a_report_or_one_clear_error() {
    let Some(root) = testkit::public_corpus() else {
        eprintln!("no public capture corpus here: skipping");
        return;
    };
    let files = testkit::corpus_files(&root);
    assert!(files.len() > 1000, "corpus too small: {}", files.len());
    let (mut ok, mut refused, mut unsupported) = (0, 0, 0);
    for f in &files {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
            .args(["analyze", "--format", "json"])
            .arg(f)
            .output()
            .unwrap();
        let took = started.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{}: {err}", f.display());
        assert!(
            took < Duration::from_secs(5),
            "{}: took {took:?}",
            f.display()
        );
        match out.status.code() {
            Some(0) => {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("{}: bad JSON: {e}", f.display()));
                assert!(v["summary"]["packets"].is_u64(), "{}", f.display());
                ok += 1;
            }
            Some(2) => {
                assert_eq!(err.lines().count(), 1, "{}: {err}", f.display());
                let name = f.file_name().unwrap().to_string_lossy();
                assert!(err.contains(&*name), "{}: {err}", f.display());
                assert!(
                    err.starts_with(&format!("tcptriage: {}: ", f.display())),
                    "{}: {err}",
                    f.display()
                );
                assert!(
                    !err.contains("Error {") && !err.contains("Custom {"),
                    "{}: a debug dump: {err}",
                    f.display()
                );
                if err.contains("unsupported link type") {
                    unsupported += 1;
                }
                refused += 1;
            }
            other => panic!("{}: exit {other:?}: {err}", f.display()),
        }
    }
    eprintln!("{ok} analysed, {refused} refused ({unsupported} for their link types only)");
    assert!(ok > 1000);
    // 802.11, PPP, Frame Relay... captures with no packet we can decode.
    assert!(unsupported > 100, "{unsupported}");
}
