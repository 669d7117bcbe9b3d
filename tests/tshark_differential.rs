//! Differential test against tshark: for every capture in `testdata/`, our
//! `initial_rtt_ms` must equal tshark's `tcp.analysis.initial_rtt` for the
//! same `tcp.stream` within 0.1 ms. Skipped (with a message) when tshark is
//! not installed; `tests/captures.rs` checks recorded tshark values anyway.

mod testkit;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

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

/// Per (tcp.stream, source port, analysis flag) counts from tshark.
fn tshark_flag_counts(file: &Path) -> BTreeMap<(u64, u16, &'static str), u64> {
    let mut m = BTreeMap::new();
    for flag in FLAGS {
        let out = Command::new("tshark")
            .args(["-n", "-r"])
            .arg(file)
            .args([
                "-Y",
                &format!("tcp.analysis.{flag}"),
                "-T",
                "fields",
                "-e",
                "tcp.stream",
                "-e",
                "tcp.srcport",
            ])
            .output()
            .expect("run tshark");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let mut it = line.split('\t');
            let (Some(s), Some(p)) = (it.next(), it.next()) else {
                continue;
            };
            if let (Ok(s), Ok(p)) = (s.parse::<u64>(), p.parse::<u16>()) {
                *m.entry((s, p, *flag)).or_insert(0) += 1;
            }
        }
    }
    m
}

const FLAGS: &[&str] = &[
    "retransmission",
    "fast_retransmission",
    "out_of_order",
    "duplicate_ack",
    "zero_window",
    "keep_alive",
];

/// Our counters for one direction, under tshark's flag names. tshark calls
/// Linux's zero-window probes (seq = SND.UNA - 1, no data) keep-alives; we
/// count them as probes, so `keep_alive` compares with the sum.
fn ours(c: &Value, dir: &str, flag: &str) -> u64 {
    let t = &c["tcp"];
    let g = |k: &str| t[format!("{k}_{dir}")].as_u64().unwrap();
    match flag {
        "retransmission" => c[format!("retransmissions_{dir}")].as_u64().unwrap(),
        "fast_retransmission" => g("fast_retransmissions"),
        "out_of_order" => g("out_of_order"),
        "duplicate_ack" => g("dup_acks"),
        "zero_window" => g("zero_windows"),
        "keep_alive" => g("keep_alives") + g("zero_window_probes"),
        _ => unreachable!(),
    }
}

fn tshark_present() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn analyze(file: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .args(["analyze", "--format", "json"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", file.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn analysis_flags_agree_with_tshark() {
    if !tshark_present() {
        eprintln!("tshark not installed: skipping the live differential test");
        return;
    }
    let mut compared = 0;
    for file in testkit::shipped_captures() {
        let theirs = tshark_flag_counts(&file);
        let doc = analyze(&file);
        for c in doc["connections"].as_array().unwrap() {
            let id = c["id"].as_u64().unwrap();
            for (dir, port) in [("c2s", &c["client_port"]), ("s2c", &c["server_port"])] {
                let port = port.as_u64().unwrap() as u16;
                for flag in FLAGS {
                    let t = theirs.get(&(id, port, *flag)).copied().unwrap_or(0);
                    let o = ours(c, dir, flag);
                    assert_eq!(
                        o,
                        t,
                        "{} stream {id} {dir} {flag}: ours {o}, tshark {t}",
                        file.display()
                    );
                    compared += t;
                }
            }
        }
    }
    assert!(compared >= 100, "only {compared} flagged packets compared");
}

#[test]
fn initial_rtt_agrees_with_tshark() {
    if !tshark_present() {
        eprintln!("tshark not installed: skipping the live differential test");
        return;
    }
    let mut compared = 0;
    for file in testkit::shipped_captures() {
        let theirs = tshark_irtt(&file);
        let doc = analyze(&file);
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
