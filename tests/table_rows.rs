//! The default table's rows kept on disk (`report::TableRows`) print the
//! same table as the reports they came from, past the row count where the
//! table is streamed instead of laid out by comfy-table, and whatever the
//! temporary directory when nothing needs to spill.

mod testkit;

use std::process::Command;
use tcptriage::analyze::{Settings, analyze_collect};
use tcptriage::report::Collect;
use tcptriage::report::{ConnectionReport, Report, TableRows, write_table, write_table_rows};
use tcptriage::source::open_path;

/// The report of all_failures.pcap and its failed connections.
fn all_failures() -> (Report, Vec<ConnectionReport>) {
    let file = testkit::testdata().join("all_failures.pcap");
    let rep = analyze_collect(
        open_path(&file).unwrap().as_mut(),
        "all_failures.pcap",
        &Settings::default(),
        Collect::every(),
    )
    .unwrap();
    let failed = rep
        .connections
        .iter()
        .filter(|c| c.verdict.is_failure())
        .cloned()
        .collect();
    (rep, failed)
}

#[test]
fn many_rows_print_the_streamed_table_of_the_reports() {
    // 2 500 failures (copies of a capture's, renumbered) in arrival order
    // scrambled: the streamed table (over 2 000 rows), by id.
    let (mut rep, failed) = all_failures();
    let n = 2500u64;
    let mut many: Vec<_> = (0..n)
        .map(|i| {
            let mut c = failed[(i % failed.len() as u64) as usize].clone();
            // Ids of differing widths, so that the id column grows.
            c.id = (i * 7919) % n * 1000;
            c
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = TableRows::with_limits(64 << 10, 4).in_dir(tmp.path());
    for c in &many {
        rows.push(c).unwrap();
    }
    assert!(rows.runs() >= 1);
    many.sort_by_key(|c| c.id);
    rep.connections = many;
    let mut want = Vec::new();
    write_table(&mut want, &rep, false).unwrap();
    rep.connections.clear();
    let mut got = Vec::new();
    write_table_rows(&mut got, &rep, &rows).unwrap();
    let (want, got) = (
        String::from_utf8(want).unwrap(),
        String::from_utf8(got).unwrap(),
    );
    assert!(want.lines().count() > 2500 * 3, "{}", want.lines().count());
    assert!(want.contains("│ 2499000 ┆"));
    assert_eq!(got, want);
}

#[test]
fn no_rows_says_how_many_were_ok() {
    let file = testkit::testdata().join("ok_download.pcap");
    let name = "ok_download.pcap";
    let mut rows = TableRows::new();
    let rep = tcptriage::analyze::analyze(
        open_path(&file).unwrap().as_mut(),
        name,
        &Settings::default(),
        &mut rows,
        None,
    )
    .unwrap();
    assert!(rows.is_empty());
    let full = analyze_collect(
        open_path(&file).unwrap().as_mut(),
        name,
        &Settings::default(),
        Collect::every(),
    )
    .unwrap();
    let (mut got, mut want) = (Vec::new(), Vec::new());
    write_table_rows(&mut got, &rep, &rows).unwrap();
    write_table(&mut want, &full, false).unwrap();
    assert_eq!(
        String::from_utf8(got).unwrap(),
        String::from_utf8(want).unwrap()
    );
}

#[test]
fn a_missing_temporary_directory_does_not_matter_below_the_bound() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .args(["analyze", "--fail-on-failure"])
        .arg(testkit::testdata().join("all_failures.pcap"))
        .env("TMPDIR", "/nonexistent/tcptriage-tmp")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Evidence"));
}

#[test]
fn wide_cells_are_padded_as_the_reports_are() {
    // The streamed table pads each cell by its width in columns: kept with
    // the rows when they are pushed, measured when the reports are
    // printed. Wide characters (CJK, emoji) take two columns, accents one.
    let (mut rep, failed) = all_failures();
    let n = 2100u64;
    let mut many: Vec<_> = (0..n)
        .map(|i| {
            let mut c = failed[(i % failed.len() as u64) as usize].clone();
            c.id = (i * 7919) % n;
            match c.id % 4 {
                0 => c.target = Some(format!("例え{i}.example")),
                1 => c.explanation = Some(format!("délai dépassé… 😀 {i}")),
                2 => c.target = Some("🦀".repeat(i as usize % 40)),
                // A column wider than 512 (see table::Streamed::MAX_FILL).
                _ if c.id == 7 => c.target = Some("例".repeat(300)),
                _ => {}
            }
            c
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = TableRows::with_limits(64 << 10, 4).in_dir(tmp.path());
    for c in &many {
        rows.push(c).unwrap();
    }
    assert!(rows.runs() >= 1);
    many.sort_by_key(|c| c.id);
    rep.connections = many;
    let mut want = Vec::new();
    write_table(&mut want, &rep, false).unwrap();
    rep.connections.clear();
    let mut got = Vec::new();
    write_table_rows(&mut got, &rep, &rows).unwrap();
    let (want, got) = (
        String::from_utf8(want).unwrap(),
        String::from_utf8(got).unwrap(),
    );
    assert!(want.contains("例え8.example") && want.contains("🦀🦀🦀"));
    assert_eq!(got, want);
}
