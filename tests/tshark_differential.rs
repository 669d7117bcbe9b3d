//! Differential test against tshark: for every capture in `testdata/`, our
//! `initial_rtt_ms` must equal tshark's `tcp.analysis.initial_rtt` for the
//! same `tcp.stream` within 0.1 ms. Skipped (with a message) when tshark is
//! not installed; `tests/captures.rs` checks recorded tshark values anyway.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn captures() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in [testdata(), testdata().join("public")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext == "pcap" || ext == "pcapng" {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

fn tshark_irtt(file: &Path) -> BTreeMap<u64, f64> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args([
            "-Y",
            "tcp.analysis.initial_rtt",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.analysis.initial_rtt",
        ])
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark failed on {}", file.display());
    let mut m = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut it = line.split('\t');
        let (Some(s), Some(r)) = (it.next(), it.next()) else {
            continue;
        };
        if let (Ok(s), Ok(r)) = (s.parse::<u64>(), r.parse::<f64>()) {
            m.entry(s).or_insert(r * 1000.0);
        }
    }
    m
}

#[test]
fn initial_rtt_agrees_with_tshark() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("tshark not installed: skipping the live differential test");
        return;
    }
    let mut compared = 0;
    for file in captures() {
        let theirs = tshark_irtt(&file);
        let out = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
            .args(["analyze", "--format", "json"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", file.display());
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        for c in doc["connections"].as_array().unwrap() {
            let id = c["id"].as_u64().unwrap();
            let Some(ours) = c["timings"]["initial_rtt_ms"].as_f64() else {
                continue;
            };
            let t = theirs.get(&id).unwrap_or_else(|| {
                panic!(
                    "{} stream {id}: we have an initial RTT, tshark has none",
                    file.display()
                )
            });
            assert!(
                (ours - t).abs() < 0.1,
                "{} stream {id}: ours {ours} ms, tshark {t} ms",
                file.display()
            );
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} handshakes compared");
}
