//! `tcptriage show`: draw connections of a capture as ladder diagrams.

use super::config::ShowConfig;
use anyhow::{Context, anyhow};
use std::io::{self, Write};
use std::process::ExitCode;
use tcptriage::ladder;
use tcptriage::report::sanitize;

/// Draws the connections `cfg` asks for on `out`.
pub fn run<W: Write>(cfg: &ShowConfig, out: &mut W) -> anyhow::Result<ExitCode> {
    let name = cfg.file.display().to_string();
    let ladders = ladder::collect(&cfg.file, &cfg.conns, cfg.failed, &cfg.analysis)
        .map_err(|e| anyhow!("{}: {}", sanitize(&name), sanitize(&e)))?;
    if ladders.is_empty() {
        let _ = writeln!(out, "No failed connections in {}.", sanitize(&name));
    }
    for (i, l) in ladders.iter().enumerate() {
        let sep = if i > 0 { "\n" } else { "" };
        write!(out, "{sep}{}", ladder::render_text(l, &cfg.ladder)).context("writing")?;
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e).context("writing"),
        _ => Ok(ExitCode::SUCCESS),
    }
}
