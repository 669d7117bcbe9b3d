//! The command line as scripts use it: exit codes, standard input, formats,
//! error messages, broken pipes.

mod testkit;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcptriage"))
}

fn td(rel: &str) -> PathBuf {
    testkit::testdata().join(rel)
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

fn run_stdin(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    child.wait_with_output().unwrap()
}

#[test]
fn only_unsupported_link_types_exit_two_with_one_line() {
    let frame: &[u8] = &[0x80, 0, 0, 0, 1, 2, 3, 4];
    for (lt, msg) in [
        (
            127,
            "tcptriage: -: unsupported link type 127 (IEEE802_11_RADIO)\n",
        ),
        (147, "tcptriage: -: unsupported link type 147 (USER0)\n"),
        (4242, "tcptriage: -: unsupported link type 4242\n"),
    ] {
        let out = run_stdin(
            &["analyze", "-"],
            testkit::capture::pcap_with(lt, &[frame, frame]),
        );
        assert_eq!(out.status.code(), Some(2), "{lt}");
        assert_eq!(s(&out.stderr), msg);
        assert!(out.stdout.is_empty());
    }
    // No packets at all: an empty report, not an error.
    let out = run_stdin(&["analyze", "-"], testkit::capture::pcap_with(127, &[]));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_supported_link_type_among_unsupported_ones_is_analysed() {
    use testkit::capture::{epb_on, idb, shb};
    // pcapng: interface 0 is 802.11 (unsupported), interface 1 raw IP.
    let mut f = shb();
    f.extend(idb(127, None));
    f.extend(idb(101, None));
    // A TCP SYN 10.0.0.1:40000 -> 10.0.0.2:80 on raw IP.
    let syn = testkit::frames::syn();
    f.extend(epb_on(0, 0, &[0x80, 0, 0, 0]));
    f.extend(epb_on(1, 0, &syn));
    f.extend(epb_on(0, 0, &[0x80, 0, 0, 0]));
    let out = run_stdin(&["analyze", "-F", "json", "-"], f);
    assert_eq!(out.status.code(), Some(0), "{}", s(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["tcp_packets"], 1);
    assert_eq!(v["summary"]["not_decoded"]["unsupported link type 127"], 2);
}

#[test]
fn error_lines_read_well() {
    let out = run(&["analyze", "/nonexistent/x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        s(&out.stderr),
        "tcptriage: /nonexistent/x.pcap: cannot open: no such file\n"
    );
    let out = run(&["analyze", "--max-connections", "0", "x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        s(&out.stderr).contains("'0' is not a number of connections (at least 1)"),
        "{}",
        s(&out.stderr)
    );
    // A file name with an escape sequence is printed harmless.
    let out = run(&["analyze", "/nonexistent/\x1b[2Jx.pcap"]);
    assert_eq!(
        s(&out.stderr),
        "tcptriage: /nonexistent/\\x1b[2Jx.pcap: cannot open: no such file\n"
    );
}

/// A pcapng of `n` copies of ok_download.pcap's frames, one after the other.
fn big_capture(n: usize) -> PathBuf {
    use tcptriage::source::open_path;
    use tcptriage::time::Ts;
    let mut frames = Vec::new();
    let mut src = open_path(&td("ok_download.pcap")).unwrap();
    while let Some(f) = src.next_frame().unwrap() {
        frames.push((f.ts, f.orig_len, f.data.to_vec(), f.linktype));
    }
    let path = std::env::temp_dir().join(format!("tt-progress-{}.pcapng", std::process::id()));
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    testkit::capture::pcapng(
        file,
        frames[0].3,
        0,
        (0..n).flat_map(|i| {
            frames.iter().map(move |(ts, len, data, _)| {
                (Ts(ts.0 + i as i64 * 1_000_000_000), *len, &data[..])
            })
        }),
    );
    path
}

#[test]
fn progress_bar_only_on_a_terminal_and_not_with_quiet() {
    let file = big_capture(4000);
    let f = file.display().to_string();
    // Not a terminal: nothing on stderr.
    let out = run(&["analyze", &f]);
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{}", s(&out.stderr));
    // On a terminal (script(1) gives it a pty), the bar shows packets/s.
    let have_script = Command::new("script").arg("--version").output().is_ok();
    if have_script {
        let bin = env!("CARGO_BIN_EXE_tcptriage");
        let pty = |extra: &str| {
            let cmd = format!("{bin} analyze {extra} {f} >/dev/null");
            let o = Command::new("script")
                .args(["-qec", &cmd, "/dev/null"])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", s(&o.stderr));
            s(&o.stdout)
        };
        let shown = pty("");
        assert!(shown.contains("packets/s"), "{shown:?}");
        assert!(shown.contains("connections open"), "{shown:?}");
        let quiet = pty("--quiet");
        assert!(!quiet.contains("packets/s"), "{quiet:?}");
    } else {
        eprintln!("script(1) not found: terminal part skipped");
    }
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn completions_and_man_pages_come_from_the_cli_definition() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef tcptriage"),
        ("fish", "complete -c tcptriage"),
    ] {
        let out = run(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = s(&out.stdout);
        assert!(text.contains(marker), "{shell}: {text}");
        // Every subcommand and a recent option are in it (fish writes
        // long options as `-l NAME`).
        for word in ["analyze", "live", "goproxy", "write-failed"] {
            assert!(text.contains(word), "{shell} lacks {word}");
        }
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));

    let out = run(&["man"]);
    assert!(out.status.success());
    let page = s(&out.stdout);
    assert!(page.contains(".TH tcptriage 1"), "{page}");
    assert!(page.contains("analyze"), "{page}");
    let dir = std::env::temp_dir().join(format!("tt-man-{}", std::process::id()));
    let out = run(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", s(&out.stderr));
    let analyze = std::fs::read_to_string(dir.join("tcptriage-analyze.1")).unwrap();
    assert!(analyze.contains(".TH tcptriage-analyze 1"));
    assert!(analyze.contains("goproxy") && analyze.contains("stall"));
    assert!(dir.join("tcptriage-live.1").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn show_draws_the_ladder_of_a_connection() {
    let f = td("all_failures.pcap").display().to_string();
    // Piped: no colour; LANG decides Unicode or ASCII.
    let out = bin()
        .env("LANG", "C.UTF-8")
        .args(["show", &f, "--conn", "3"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", s(&out.stderr));
    let text = s(&out.stdout);
    assert!(text.contains("connection #3"), "{text}");
    assert!(text.contains("7.98 s silence"), "{text}");
    assert!(text.contains("│") && !text.contains('\x1b'), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let out = bin()
        .env("LANG", "C")
        .args(["show", &f, "--failed"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = s(&out.stdout);
    assert!(text.is_ascii(), "{text}");
    assert_eq!(text.matches("connection #").count(), 4, "{text}");
    // An unknown id, standard input, and no selection are usage errors.
    let out = run(&["show", &f, "--conn", "99"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        s(&out.stderr).starts_with("tcptriage: "),
        "{}",
        s(&out.stderr)
    );
    assert_eq!(run(&["show", "-", "--conn", "0"]).status.code(), Some(2));
    assert_eq!(run(&["show", &f]).status.code(), Some(2));
}

/// `--format ndjson` streams each connection away as it closes; the side
/// files (`--write-failed`, `--html`) still see every connection, as they
/// do with the JSON document. The capture is long enough (all_failures 80
/// times, 100 s apart: 9 840 packets) for connections to be handed out
/// while it is read, not only at its end.
#[test]
fn ndjson_side_files_see_every_connection() {
    use tcptriage::time::Ts;
    let mut src = tcptriage::source::open_path(&td("all_failures.pcap")).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        frames.push((f.ts, f.data.to_vec()));
    }
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("many.pcapng");
    let copies = 80;
    // Each copy from its own client address (10.77.1.10 + k), so that it
    // is a connection of its own, not a retry (the IP checksum is not
    // checked).
    let client = [10u8, 77, 1, 10];
    let many: Vec<(Ts, Vec<u8>)> = (0..copies)
        .flat_map(|k| {
            frames.iter().map(move |(ts, d)| {
                let mut d = d.clone();
                for at in [26, 30] {
                    if d.get(at..at + 4) == Some(&client[..]) {
                        d[at + 3] = 10 + k as u8;
                    }
                }
                (Ts(ts.0 + k * 100_000_000_000), d)
            })
        })
        .collect();
    testkit::capture::pcapng(
        std::fs::File::create(&capture).unwrap(),
        1,
        65535,
        many.iter()
            .map(|(ts, d)| (*ts, d.len() as u32, d.as_slice())),
    );
    let side = |format: &str| {
        let pcap = dir.path().join(format!("{format}.pcapng"));
        let html = dir.path().join(format!("{format}.html"));
        let out = run(&[
            "analyze",
            "-q",
            "-F",
            format,
            "--write-failed",
            pcap.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
            capture.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", s(&out.stderr));
        (
            s(&out.stdout),
            std::fs::read(pcap).unwrap(),
            std::fs::read_to_string(html).unwrap(),
        )
    };
    let (ndjson, nd_pcap, nd_html) = side("ndjson");
    let (_, json_pcap, json_html) = side("json");
    assert_eq!(
        ndjson
            .lines()
            .filter(|l| l.contains("\"client_ip\""))
            .count(),
        5 * copies as usize
    );
    // 65 packets of the four failed connections in each copy.
    let wanted = tcptriage::source::open_path(&dir.path().join("json.pcapng"))
        .map(|mut s| {
            let mut n = 0;
            while let Ok(Some(_)) = s.next_frame() {
                n += 1;
            }
            n
        })
        .unwrap();
    assert_eq!(wanted, 65 * copies);
    assert!(nd_pcap == json_pcap, "--write-failed differs with NDJSON");
    assert!(nd_html == json_html, "--html differs with NDJSON");
}
