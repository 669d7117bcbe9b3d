//! The streaming engine (used by live capture) gives the same verdicts as
//! the whole-file analysis on every shipped capture, when each connection
//! is reported as soon as its verdict is final.

mod testkit;

use std::path::Path;
use tcptriage::analyze::{Engine, Settings, analyze_collect};
use tcptriage::report::Collect;
use tcptriage::source::open_path;

#[test]
fn streamed_verdicts_match_the_whole_file_analysis() {
    let opts = Settings::default();
    let mut early_total = 0;
    for file in testkit::shipped_captures() {
        let name = file.display().to_string();
        let whole = analyze_collect(
            open_path(&file).unwrap().as_mut(),
            &name,
            &opts,
            Collect::every(),
        )
        .unwrap();
        let mut src = open_path(&file).unwrap();
        let mut engine = Engine::new(opts.clone());
        let mut streamed = Vec::new();
        while let Some(f) = src.next_frame().unwrap() {
            let now = f.ts;
            engine.push(&f);
            streamed.extend(engine.take_final(now));
        }
        let early = streamed.len();
        early_total += early;
        let rest = engine.finish(None, &name, src.format(), vec![]);
        streamed.extend(rest.connections.iter().cloned());
        streamed.sort_by_key(|c| c.id);
        let got: Vec<_> = streamed
            .iter()
            .map(|c| (c.id, c.verdict, c.stage))
            .collect();
        let want: Vec<_> = whole
            .connections
            .iter()
            .map(|c| (c.id, c.verdict, c.stage))
            .collect();
        assert_eq!(got, want, "{name} ({early} reported before the end)");
        assert_eq!(
            rest.summary.connections, whole.summary.connections,
            "{name}"
        );
        assert_eq!(rest.summary.verdicts, whole.summary.verdicts, "{name}");
    }
    // Captures with several connections report the early ones before the end.
    assert!(
        early_total >= 5,
        "only {early_total} verdicts were final before the end"
    );
}

#[test]
fn a_quiet_link_still_reports_every_failure() {
    // As on a live link where nothing more arrives: the clock ticks on.
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/all_failures.pcap");
    let mut src = open_path(&file).unwrap();
    let mut engine = Engine::new(Settings::default());
    let mut reported = Vec::new();
    let mut last = None;
    while let Some(f) = src.next_frame().unwrap() {
        last = Some(f.ts);
        engine.push(&f);
        reported.extend(engine.take_final(f.ts));
    }
    let end = last.unwrap();
    for s in 1..=10 {
        reported.extend(engine.take_final(end.plus_ms(1000 * s)));
    }
    let got: Vec<_> = reported
        .iter()
        .map(|c| (c.id, c.verdict.as_str()))
        .collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            (0, "ok"),
            (1, "firewall_drop"),
            (2, "service_down"),
            (3, "app_stall"),
            (4, "midstream_reset")
        ]
    );
    // The refused SYN and the reset are final before the capture ends.
    assert!(got.iter().position(|c| c.0 == 2) < got.iter().position(|c| c.0 == 1));
    let rest = engine.finish(None, "x", String::new(), vec![]);
    assert!(rest.connections.is_empty());
    assert_eq!(rest.summary.connections, 5);
    assert_eq!(rest.summary.failed, 4);
}

#[test]
fn dropping_ok_connections_early_keeps_the_same_failures_and_counts() {
    use tcptriage::verdict::VerdictKind;
    // Hand out closed connections after every packet, the most aggressive.
    let opts = Settings {
        sweep_every: 1,
        ..Settings::default()
    };
    for file in testkit::shipped_captures() {
        let name = file.display().to_string();
        let all = analyze_collect(
            open_path(&file).unwrap().as_mut(),
            &name,
            &opts,
            Collect::every(),
        )
        .unwrap();
        let lean = analyze_collect(
            open_path(&file).unwrap().as_mut(),
            &name,
            &opts,
            Collect::listed(),
        )
        .unwrap();
        // Listed: the failures, and ok connections an authentication
        // gateway answered (401/403/407).
        let listed = |c: &&tcptriage::report::ConnectionReport| {
            c.verdict != VerdictKind::Ok || c.auth_required.is_some()
        };
        let failed = |r: &tcptriage::report::Report| -> Vec<_> {
            r.connections
                .iter()
                .filter(listed)
                .map(|c| {
                    let warnings = c.warnings.clone();
                    (c.id, c.verdict, c.stage, c.explanation.clone(), warnings)
                })
                .collect()
        };
        assert_eq!(failed(&lean), failed(&all), "{name}");
        assert!(lean.connections.iter().all(|c| listed(&c)), "{name}");
        assert_eq!(lean.summary.verdicts, all.summary.verdicts, "{name}");
        assert_eq!(lean.summary.connections, all.summary.connections, "{name}");
        assert_eq!(
            lean.summary.module_fetches, all.summary.module_fetches,
            "{name}"
        );
        assert_eq!(
            lean.summary.auth_required, all.summary.auth_required,
            "{name}"
        );
    }
}

#[test]
fn stripped_failures_print_the_same_table_and_failed_frames() {
    // The default table keeps its failed connections as rows
    // (`analyze_to_rows`: spilled to a temporary file, here after every
    // row or every few, then merged), with `ok` ones only counted
    // (`analyze_with` without them). Neither may change the table, nor
    // the packets `--write-failed` copies.
    use tcptriage::analyze::analyze;
    use tcptriage::extract::{copy_frames, failed_frames, failed_frames_with_rows};
    use tcptriage::report::{TableRows, write_table, write_table_rows};
    let lean_opts = Settings {
        sweep_every: 1,
        ..Settings::default()
    };
    let table = |r: &tcptriage::report::Report| {
        let mut out = Vec::new();
        write_table(&mut out, r, false).unwrap();
        String::from_utf8(out).unwrap()
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut evidence = 0;
    let mut spilled = 0;
    for file in testkit::shipped_captures() {
        let name = file.display().to_string();
        let full = analyze_collect(
            open_path(&file).unwrap().as_mut(),
            &name,
            &Settings::default(),
            Collect::every(),
        )
        .unwrap();
        let lean = analyze_collect(
            open_path(&file).unwrap().as_mut(),
            &name,
            &lean_opts,
            Collect::listed(),
        )
        .unwrap();
        evidence += lean.connections.len();
        let want = table(&full);
        assert_eq!(table(&lean), want, "{name}");
        // What `extract::failed_frames` reads.
        let frames = |r: &tcptriage::report::Report| -> Vec<_> {
            r.connections
                .iter()
                .filter(|c| c.verdict.is_failure())
                .map(|c| (c.client(), c.server(), c.first_frame, c.last_frame))
                .collect()
        };
        assert_eq!(frames(&lean), frames(&full), "{name}");
        let want_pcap = tmp.path().join("full.pcapng");
        copy_frames(&file, &want_pcap, &failed_frames(&full)).unwrap();
        let want_pcap = std::fs::read(&want_pcap).unwrap();
        // Rows in memory, a run per row, and a merge of runs every 3.
        for (memory, max_runs) in [(usize::MAX, 256), (1, 1_000_000), (2000, 3)] {
            let mut rows = TableRows::with_limits(memory, max_runs).in_dir(tmp.path());
            let rep = analyze(
                open_path(&file).unwrap().as_mut(),
                &name,
                &lean_opts,
                &mut rows,
                None,
            )
            .unwrap();
            assert!(rep.connections.is_empty(), "{name}");
            assert_eq!(rows.len(), lean.connections.len() as u64, "{name}");
            if memory == 1 {
                // Every row went to the file as a run of its own.
                assert_eq!(rows.runs() as u64, rows.len(), "{name}");
                spilled += rows.len();
            }
            let mut out = Vec::new();
            write_table_rows(&mut out, &rep, &rows).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{name} {memory}");
            let got_pcap = tmp.path().join("rows.pcapng");
            let keep = failed_frames_with_rows(&rep, &rows).unwrap();
            copy_frames(&file, &got_pcap, &keep).unwrap();
            assert!(
                std::fs::read(&got_pcap).unwrap() == want_pcap,
                "{name} {memory}: --write-failed differs"
            );
            assert_eq!(rep.summary.failed, full.summary.failed, "{name}");
            assert_eq!(
                rep.summary.dns_failures, full.summary.dns_failures,
                "{name}"
            );
        }
    }
    assert!(evidence > 50, "{evidence}");
    assert!(spilled > 50, "{spilled}");
    // Every temporary file is gone (unlinked from the start).
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
}

#[test]
fn ndjson_streaming_emits_every_connection_once() {
    use tcptriage::analyze::analyze;
    use tcptriage::report::{Each, Wants};
    let opts = Settings {
        sweep_every: 1,
        ..Settings::default()
    };
    for file in testkit::shipped_captures() {
        let name = file.display().to_string();
        let all = analyze_collect(
            open_path(&file).unwrap().as_mut(),
            &name,
            &opts,
            Collect::every(),
        )
        .unwrap();
        let mut emitted = Vec::new();
        let mut emit = Each::new(
            Wants::EveryAsItCloses,
            |c: tcptriage::report::ConnectionReport| {
                emitted.push(c);
                true
            },
        );
        let rest = analyze(
            open_path(&file).unwrap().as_mut(),
            &name,
            &opts,
            &mut emit,
            None,
        )
        .unwrap();
        assert!(
            rest.connections.is_empty(),
            "{name}: every one went to the sink"
        );
        emitted.sort_by_key(|c| c.id);
        let got: Vec<_> = emitted.iter().map(|c| (c.id, c.verdict, c.stage)).collect();
        let want: Vec<_> = all
            .connections
            .iter()
            .map(|c| (c.id, c.verdict, c.stage))
            .collect();
        assert_eq!(got, want, "{name}");
        assert_eq!(rest.summary.verdicts, all.summary.verdicts, "{name}");
    }
}
