//! `tcptriage analyze`: read each capture, print its report, and write the
//! side files (`--write-failed`, `--html`).

use super::config::{AnalyzeConfig, Output};
use anyhow::{Context, anyhow};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tcptriage::analyze::{AnalyzeError, Progress, Settings, analyze};
use tcptriage::report::sink::Tee;
use tcptriage::report::{self, Collect, ConnectionSink, Report, TableRows, sanitize};
use tcptriage::source;

/// Runs the analysis of every file in `cfg`, printing to `out`.
pub fn run<W: Write>(cfg: &AnalyzeConfig, out: &mut W) -> anyhow::Result<ExitCode> {
    // With --format json: every file's report, printed as one document.
    let mut reports: Vec<Report> = Vec::new();
    let mut unreadable = false;
    let mut failed = false;
    for (i, path) in cfg.files.iter().enumerate() {
        let name = path.display().to_string();
        // The default table's rows, for this file.
        let mut rows: Option<TableRows> = None;
        let Some(rep) = read(cfg, path, &name, out, &mut rows)? else {
            unreadable = true;
            continue;
        };
        for w in &rep.capture.warnings {
            eprintln!("tcptriage: {}: warning: {}", sanitize(&name), sanitize(w));
        }
        failed |= rep.summary.failed > 0 || rep.summary.dns_failures > 0;
        let dest_of = |dest: &PathBuf| {
            if cfg.files.len() > 1 {
                numbered(dest, i)
            } else {
                dest.clone()
            }
        };
        if let Some(dest) = cfg.write_failed.as_ref().map(dest_of) {
            let n = write_failed(path, &rep, rows.as_ref(), &dest).map_err(|e| {
                anyhow!(
                    "{}: {}",
                    sanitize(&dest.display().to_string()),
                    sanitize(&e)
                )
            })?;
            eprintln!(
                "tcptriage: {}: wrote {n} packets of failed connections and DNS queries to {}",
                sanitize(&name),
                sanitize(&dest.display().to_string())
            );
        }
        if let Some(dest) = cfg.html.as_ref().map(dest_of) {
            write_html(path, &rep, &dest, &cfg.analysis).map_err(|e| {
                anyhow!(
                    "{}: {}",
                    sanitize(&dest.display().to_string()),
                    sanitize(&e)
                )
            })?;
        }
        match cfg.output {
            Output::Modules => {
                if i > 0 {
                    let _ = writeln!(out);
                }
                report::write_modules(out, &rep)
            }
            Output::Table { all } => {
                if i > 0 {
                    let _ = writeln!(out);
                }
                match &rows {
                    Some(rows) => report::write_table_rows(out, &rep, rows),
                    None => report::write_table(out, &rep, all),
                }
            }
            // The connections went out as they closed (`read`).
            Output::Ndjson => report::write_ndjson_dns(out, &rep),
            Output::Json => {
                reports.push(rep);
                Ok(())
            }
        }
        .context("writing the report")?;
        if i + 1 == cfg.files.len() {
            // The process ends next: freeing the last file's rows piece by
            // piece would only delay it.
            std::mem::forget(rows);
        }
    }
    if cfg.output == Output::Json && !reports.is_empty() {
        report::write_json(out, &reports).context("writing the report")?;
    }
    // Every connection of every file with `--format json`: freeing them
    // one by one (hundreds of thousands) would only delay the exit.
    std::mem::forget(reports);
    // A reader gone by now misses nothing it asked for: the exit status
    // still tells what was found.
    if let Err(e) = out.flush()
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(e).context("writing the report");
    }
    Ok(if unreadable {
        ExitCode::from(2)
    } else if cfg.fail_on_failure && failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Analyses one capture into the sink its output needs: with NDJSON each
/// connection is printed to `out` as soon as it closed; the default table
/// keeps the listed ones as rows (`rows`); the JSON document, `--all`, the
/// module view and the HTML report get every connection, in
/// `report.connections`. `Ok(None)`: the capture could not be read (said on
/// stderr; the next file is read all the same).
fn read<W: Write>(
    cfg: &AnalyzeConfig,
    path: &Path,
    name: &str,
    out: &mut W,
    rows: &mut Option<TableRows>,
) -> anyhow::Result<Option<Report>> {
    let bar = progress_bar(path, cfg.quiet);
    let mut on_progress = |p: &Progress| {
        if let Some(b) = &bar {
            if let Some(n) = p.bytes {
                b.set_position(n);
            }
            let secs = b.elapsed().as_secs_f64().max(1e-3);
            b.set_message(format!(
                "{:.1} M packets/s, {} connections open",
                p.packets as f64 / secs / 1e6,
                p.open_connections
            ));
        }
    };
    let mut every: Option<Collect> = None;
    let mut ndjson = (cfg.output == Output::Ndjson).then(|| report::sink::Ndjson::new(&mut *out));
    // The side files read the connections from the report: with NDJSON
    // they are kept as well as streamed.
    let side_files = cfg.html.is_some() || cfg.write_failed.is_some();
    let result = source::open_path(path)
        .map_err(AnalyzeError::from)
        .and_then(|mut src| {
            let mut tee;
            let sink: &mut dyn ConnectionSink = match ndjson.as_mut() {
                Some(n) if side_files => {
                    tee = Tee {
                        first: n,
                        second: every.insert(Collect::every()),
                    };
                    &mut tee
                }
                Some(n) => n,
                None if cfg.keep_ok => every.insert(Collect::every()),
                None => rows.insert(TableRows::new()),
            };
            analyze(
                src.as_mut(),
                name,
                &cfg.analysis,
                sink,
                Some(&mut on_progress),
            )
        });
    drop(ndjson);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match result {
        Ok(mut rep) => {
            if let Some(every) = every {
                rep.connections = every.into_sorted();
            }
            Ok(Some(rep))
        }
        // The output is gone or full.
        Err(AnalyzeError::Sink(e)) if cfg.output == Output::Ndjson => {
            Err(e).context("writing the report")
        }
        Err(e) => {
            let _ = out.flush();
            let msg = format!("{}: {}", sanitize(name), sanitize(&e.to_string()));
            // No room for the table's rows: the environment, not this
            // capture; the next file would fail the same way.
            if matches!(e, AnalyzeError::Sink(_)) {
                return Err(anyhow!(msg));
            }
            eprintln!("tcptriage: {msg}");
            Ok(None)
        }
    }
}

/// Writes the HTML report of `rep` (read from `path`) to `dest`, with a
/// ladder diagram per failed connection.
fn write_html(path: &Path, rep: &Report, dest: &Path, opts: &Settings) -> Result<(), String> {
    // The ladders of the listed connections (failed, or answered 401/403/407);
    // from standard input the file cannot be read again, so none.
    let ids: Vec<u64> = rep
        .connections
        .iter()
        .filter(|c| {
            c.verdict.is_failure()
                || c.verdict == tcptriage::verdict::VerdictKind::Incomplete
                || c.auth_required.is_some()
        })
        .map(|c| c.id)
        .collect();
    let mut ladders = std::collections::BTreeMap::new();
    // About 6 KB each: past the first MAX_HTML_LADDERS the page points to
    // `tcptriage show` instead, so that it stays a few MB.
    let ids = &ids[..ids.len().min(report::MAX_HTML_LADDERS)];
    if path.as_os_str() != "-" && !ids.is_empty() {
        for l in tcptriage::ladder::collect(path, ids, false, opts)? {
            ladders.insert(l.id, tcptriage::ladder::render_svg(&l));
        }
    }
    let f = std::fs::File::create(dest).map_err(|e| format!("cannot write: {e}"))?;
    let mut w = io::BufWriter::new(f);
    report::write_html(&mut w, rep, &ladders).map_err(|e| format!("cannot write: {e}"))
}

/// A progress bar on stderr for reading `path`: bytes read of the file's
/// size, packets/s, connections open and ETA. None when stderr is not a
/// terminal, with --quiet, or for standard input.
fn progress_bar(path: &Path, quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || path.as_os_str() == "-" || !io::stderr().is_terminal() {
        return None;
    }
    let len = std::fs::metadata(path).ok()?.len();
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr_with_hz(5),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {bytes}/{total_bytes} ({binary_bytes_per_sec}) {msg}, ETA {eta}",
        )
        .ok()?,
    );
    Some(bar)
}

/// `out.pcapng` for the `i`th of several files: `out.1.pcapng`.
fn numbered(dest: &Path, i: usize) -> PathBuf {
    let stem = dest.file_stem().unwrap_or_default().to_string_lossy();
    let ext = dest
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    dest.with_file_name(format!("{stem}.{}{ext}", i + 1))
}

/// Copies the frames of the failed connections and DNS queries of `rep`
/// (and of `rows`, where the default table kept them) from `path` to a new
/// pcapng file; returns how many.
fn write_failed(
    path: &Path,
    rep: &Report,
    rows: Option<&TableRows>,
    dest: &Path,
) -> Result<u64, String> {
    let keep = match rows {
        Some(rows) => {
            tcptriage::extract::failed_frames_with_rows(rep, rows).map_err(|e| e.to_string())?
        }
        None => tcptriage::extract::failed_frames(rep),
    };
    let copied = tcptriage::extract::copy_frames(path, dest, &keep)?;
    if copied.other_link_type > 0 {
        eprintln!(
            "tcptriage: {}: warning: {} packets of a second link type left out (one interface per file)",
            sanitize(&dest.display().to_string()),
            copied.other_link_type
        );
    }
    Ok(copied.packets)
}
