//! The command line (binary only).
//!
//! - [`args`]: what clap parses, with every help text;
//! - [`config`]: the one step from flags and environment to a validated
//!   [`config::Config`];
//! - one driver per subcommand ([`analyze`], [`show`], [`live`],
//!   [`interfaces`], [`docs`]) that turns its config into calls on the
//!   library and prints the result on the writer `main` gives it.
//!
//! A driver returns `anyhow::Result<ExitCode>`. `Ok` is how the run ended:
//! 0, 1 (`--fail-on-failure` and something failed) or 2 (an input could
//! not be read, said on stderr as it happened, and the run went on). An
//! error ends the run: `main` prints it as the one line after
//! `tcptriage: ` and exits 2, except that an error writing standard output
//! because the reader went away (a broken pipe, `| head`) ends it quietly
//! with 0. So writes to standard output carry their context
//! (`.context("writing the report")`) and keep the `io::Error` underneath;
//! every other error is its finished, sanitized message.

pub mod analyze;
pub mod args;
pub mod config;
pub mod docs;
pub mod interfaces;
pub mod live;
pub mod show;
