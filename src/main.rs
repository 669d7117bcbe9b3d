//! The `tcptriage` command: a thin layer over the library that turns flags
//! into a validated configuration, runs the analysis and maps the outcome
//! to an exit code (0 ran, 1 failures found with --fail-on-failure, 2 bad
//! usage or unreadable input).
//!
//! This file holds the allocator, the dispatch and the one way a run ends
//! ([`exit_status`]); `cli/` holds the flags, the configuration and the drivers.

mod cli;

use clap::Parser;
use cli::args::Cli;
use cli::config::{Config, Environment};
use std::io::{self, BufWriter, LineWriter};
use std::process::ExitCode;
use tcptriage::report::sanitize;

/// The binary's allocator: mimalloc instead of glibc's malloc. A capture
/// with hundreds of thousands of connections allocates and frees a boxed
/// state, stream buffers and report strings for each; glibc spent ≈ 15 %
/// of the analysis in malloc/free there (bench/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(internal_error));
    let command = Cli::parse().command;
    let warn = &mut |w: String| eprintln!("tcptriage: warning: {w}");
    let config = match Config::new(command, &Environment::current(), warn) {
        Ok(config) => config,
        Err(e) => return exit_status(Err(e.into())),
    };
    // Each driver prints on the writer given here. The error line is
    // printed while the writer still holds what came before it, so it
    // shows ahead of that output, as it always has.
    let stdout = io::stdout();
    match config {
        Config::Analyze(cfg) => {
            // Reports run to tens of megabytes: 256 KiB per write(2), not 8 KiB.
            let mut out = BufWriter::with_capacity(256 << 10, stdout.lock());
            exit_status(cli::analyze::run(&cfg, &mut out))
        }
        Config::Show(cfg) => {
            let mut out = BufWriter::new(stdout.lock());
            exit_status(cli::show::run(&cfg, &mut out))
        }
        Config::Live(cfg) => {
            // A line per verdict, the moment it is final.
            let mut out = LineWriter::new(stdout.lock());
            exit_status(cli::live::run(&cfg, &mut out))
        }
        Config::Interfaces => exit_status(cli::interfaces::run(&mut stdout.lock())),
        Config::Completions(shell) => {
            exit_status(cli::docs::completions::<Cli>(shell, &mut stdout.lock()))
        }
        Config::Man { dir } => exit_status(cli::docs::run_man::<Cli>(
            dir.as_deref(),
            &mut stdout.lock(),
        )),
    }
}

/// The one way a run ends: its exit status, or an error's. An error is one
/// line, `tcptriage: ` and the message, with exit status 2; a write to
/// standard output that failed because its reader went away (`| head`)
/// ends the run quietly, with 0.
fn exit_status(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcptriage: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// A panic is a bug: say so on one line instead of a backtrace hint (the
/// exit status is Rust's 101).
fn internal_error(info: &std::panic::PanicHookInfo<'_>) {
    let msg = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let at = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    eprintln!(
        "tcptriage: internal error{at}: {} (a bug; please report it with the capture)",
        sanitize(&msg)
    );
}
