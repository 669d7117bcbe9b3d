//! The command line as scripts use it: exit codes, standard input, formats,
//! error messages, broken pipes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcptriage"))
}

fn td(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn table_is_the_default_and_lists_failures_only() {
    let out = run(&["analyze", td("all_failures.pcap").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = s(&out.stdout);
    for v in [
        "firewall_drop",
        "service_down",
        "app_stall",
        "midstream_reset",
    ] {
        assert!(text.contains(v), "{v} missing:\n{text}");
    }
    assert!(text.contains("Evidence"));
    assert!(text.contains("Summary"));
    assert!(text.contains(
        "5 (1 ok, 1 firewall_drop, 1 service_down, 1 app_stall, 1 midstream_reset, 0 incomplete)"
    ));
    // The ok connection (client port 50130) is not listed without --all.
    assert!(!text.contains(":50130 →"), "{text}");
    let all = s(&run(&[
        "analyze",
        "--all",
        td("all_failures.pcap").to_str().unwrap(),
    ])
    .stdout);
    assert!(all.contains(":50130 →"), "{all}");
    // NDJSON holds every connection, one per line, ok included.
    let nd = s(&run(&[
        "analyze",
        "-F",
        "ndjson",
        td("all_failures.pcap").to_str().unwrap(),
    ])
    .stdout);
    let verdicts: Vec<String> = nd
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["verdict"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            "ok",
            "firewall_drop",
            "service_down",
            "app_stall",
            "midstream_reset"
        ]
    );
    assert!(out.stderr.is_empty(), "{}", s(&out.stderr));
}

#[test]
fn standard_input_gives_the_same_report() {
    let file = td("mixed.pcapng");
    let bytes = std::fs::read(&file).unwrap();
    let mut child = bin()
        .args(["analyze", "--format", "ndjson", "--all", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // Small writes, as a live tcpdump pipe delivers them.
        for chunk in bytes.chunks(100) {
            stdin.write_all(chunk).unwrap();
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let from_file = run(&[
        "analyze",
        "--format",
        "ndjson",
        "--all",
        file.to_str().unwrap(),
    ]);
    assert_eq!(s(&out.stdout), s(&from_file.stdout));
    assert_eq!(s(&out.stdout).lines().count(), 2);
}

#[test]
fn fail_on_failure_sets_exit_code_one() {
    let bad = run(&[
        "analyze",
        "--fail-on-failure",
        td("syn_drop.pcap").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let good = run(&[
        "analyze",
        "--fail-on-failure",
        td("ok_download.pcap").to_str().unwrap(),
    ]);
    assert_eq!(good.status.code(), Some(0));
    // incomplete is not a failure.
    let inc = run(&[
        "analyze",
        "--fail-on-failure",
        td("accept_no_response_capture_cut.pcap").to_str().unwrap(),
    ]);
    assert_eq!(inc.status.code(), Some(0));
    // Without the flag, failures still exit 0.
    assert_eq!(
        run(&["analyze", td("syn_drop.pcap").to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn unreadable_input_exits_two_with_one_line_naming_the_file() {
    let out = run(&["analyze", "/nonexistent/x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    let err = s(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/x.pcap"), "{err}");

    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let out = run(&["analyze", readme.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = s(&out.stderr);
    assert!(
        err.contains("README.md") && err.contains("not a pcap or pcapng"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn one_bad_file_does_not_stop_the_others() {
    let out = run(&[
        "analyze",
        "--format",
        "ndjson",
        "/nonexistent/x.pcap",
        td("closed_port.pcap").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(s(&out.stdout).lines().count(), 1);
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(run(&["analyze"]).status.code(), Some(2));
    assert_eq!(
        run(&["analyze", "--format", "xml", "x"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(&["analyze", "--stall-after", "soon", "x"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn help_explains_itself() {
    let out = run(&["analyze", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let h = s(&out.stdout);
    for needle in [
        "--format",
        "--all",
        "--stall-after",
        "--fail-on-failure",
        "EXIT STATUS",
        "standard input",
    ] {
        assert!(h.contains(needle), "{needle} missing from --help");
    }
}

#[test]
fn json_for_several_files_is_an_array() {
    let out = run(&[
        "analyze",
        "--format",
        "json",
        td("closed_port.pcap").to_str().unwrap(),
        td("syn_drop.pcap").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["connections"][0]["verdict"], "firewall_drop");
}

#[test]
fn stall_after_changes_the_threshold() {
    // The request has waited 6.5 s at the end of this capture.
    let f = td("accept_no_response_capture_ends.pcap");
    let v = |extra: &[&str]| {
        let mut args = vec!["analyze", "--format", "ndjson"];
        args.extend_from_slice(extra);
        args.push(f.to_str().unwrap());
        let out = run(&args);
        let line = s(&out.stdout).lines().next().unwrap().to_string();
        let c: serde_json::Value = serde_json::from_str(&line).unwrap();
        c["verdict"].as_str().unwrap().to_string()
    };
    assert_eq!(v(&[]), "app_stall");
    assert_eq!(v(&["--stall-after", "10s"]), "incomplete");
}

#[test]
fn a_truncated_capture_reports_what_was_read_and_warns() {
    let bytes = std::fs::read(td("all_failures.pcap")).unwrap();
    let dir = std::env::temp_dir().join(format!("tcptriage-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 30]).unwrap();
    let out = run(&["analyze", "--format", "json", cut.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(0));
    let err = s(&out.stderr);
    assert!(err.contains("warning") && err.contains("offset"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["packets"], 122);
    assert!(!v["capture"]["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let f = td("all_failures.pcap");
    let mut args = vec![
        "analyze".to_string(),
        "--all".into(),
        "--format".into(),
        "ndjson".into(),
    ];
    for _ in 0..300 {
        args.push(f.to_str().unwrap().to_string());
    }
    let mut child = bin()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one chunk, then close our end, as `| head -1` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 64];
    let _ = std::io::Read::read(&mut stdout, &mut buf).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", s(&out.stderr));
    assert!(!s(&out.stderr).contains("panicked"), "{}", s(&out.stderr));
}
