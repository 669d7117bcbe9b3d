//! The one step from flags (and the environment) to validated settings.
//!
//! Every subcommand's flags are turned into a [`Config`] here, once: the
//! analysis options (`--stall-after`, `--max-connections`), the
//! application settings (`--goproxy` or `$GOPROXY`, `--expect-issuer`),
//! the output choice, and for `show` the drawing (width, colour, ASCII).
//! Invalid combinations come back as a [`ConfigError`]; the drivers only
//! run what they are given. Durations and connection counts are parsed by
//! clap with the functions below, so that their errors are clap's usage
//! errors.

use super::args::{AnalyzeArgs, AppArgs, Command, Format, LiveArgs, ShowArgs};
use std::path::PathBuf;
use std::time::Duration;
use tcptriage::analyze::Settings;
use tcptriage::ladder::LadderOptions;
use tcptriage::report::live::LiveFormat;
use tcptriage::report::{AppSettings, sanitize};
use tcptriage::sniff::gomod::GoProxy;
use tcptriage::source::LiveOptions;

/// What to run, validated.
pub enum Config {
    Analyze(AnalyzeConfig),
    Live(LiveConfig),
    Show(ShowConfig),
    Interfaces,
    Completions(clap_complete::Shell),
    /// The man page on standard output, or one page per command in `dir`.
    Man {
        dir: Option<PathBuf>,
    },
}

/// Why the flags cannot run (exit status 2). The text is what follows
/// `tcptriage: `.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A malformed `--goproxy` (already sanitized for the terminal).
    #[error("{0}")]
    GoProxy(String),
    #[error("--write-failed reads the capture twice, so it needs a file, not standard input")]
    WriteFailedFromStdin,
}

/// What `analyze` prints on standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The table of failed connections (and with `all` the ok ones too).
    Table { all: bool },
    /// The Go module view (`--modules`).
    Modules,
    /// One JSON document for all files.
    Json,
    /// One JSON object per line, each connection as soon as it closed.
    Ndjson,
}

/// `tcptriage analyze`.
pub struct AnalyzeConfig {
    pub files: Vec<PathBuf>,
    pub output: Output,
    /// Build reports of `ok` connections too. The default table lists only
    /// failed connections: ok ones are then counted as the file is read,
    /// not kept, and the failed ones are kept as the text the table prints
    /// (`report::TableRows`, spilled to a temporary file when there are
    /// many): memory follows the connections open at once, not the file's
    /// length.
    pub keep_ok: bool,
    pub analysis: Settings,
    /// Exit 1 when a connection or DNS query failed.
    pub fail_on_failure: bool,
    /// No progress bar.
    pub quiet: bool,
    pub write_failed: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

/// `tcptriage show`.
pub struct ShowConfig {
    pub file: PathBuf,
    /// Connection ids to draw (when not `failed`).
    pub conns: Vec<u64>,
    /// Draw every failed connection.
    pub failed: bool,
    pub ladder: LadderOptions,
    pub analysis: Settings,
}

/// `tcptriage live`.
pub struct LiveConfig {
    pub capture: LiveOptions,
    pub format: LiveFormat,
    pub all: bool,
    pub duration: Option<Duration>,
    pub count: Option<u64>,
    pub write: Option<PathBuf>,
    pub analysis: Settings,
    pub fail_on_failure: bool,
}

/// What the configuration reads besides the flags.
pub struct Environment {
    /// `$GOPROXY`, when set (and UTF-8).
    pub goproxy: Option<String>,
    /// Whether standard output is a terminal.
    pub stdout_tty: bool,
    /// The terminal's width in columns, when standard output is one.
    pub columns: Option<u16>,
    /// Whether the locale says the terminal takes UTF-8.
    pub utf8: bool,
    /// `$NO_COLOR` is set and not empty.
    pub no_color: bool,
}

impl Environment {
    /// The process's environment.
    pub fn current() -> Environment {
        use std::io::IsTerminal;
        let stdout_tty = std::io::stdout().is_terminal();
        Environment {
            goproxy: std::env::var("GOPROXY").ok(),
            stdout_tty,
            columns: if stdout_tty {
                console::Term::stdout().size_checked().map(|(_, cols)| cols)
            } else {
                None
            },
            utf8: utf8_locale(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }
}

impl Config {
    /// Validates `command` in `env`; `warn` hears what is only worth a
    /// warning (a malformed `$GOPROXY` is ignored).
    pub fn new(
        command: Command,
        env: &Environment,
        warn: &mut dyn FnMut(String),
    ) -> Result<Config, ConfigError> {
        Ok(match command {
            Command::Analyze(a) => Config::Analyze(analyze(a, env, warn)?),
            Command::Live(a) => Config::Live(live(a, env, warn)?),
            Command::Show(a) => Config::Show(show(a, env, warn)?),
            Command::Interfaces => Config::Interfaces,
            Command::Completions { shell } => Config::Completions(shell),
            Command::Man { dir } => Config::Man { dir },
        })
    }
}

fn analyze(
    a: AnalyzeArgs,
    env: &Environment,
    warn: &mut dyn FnMut(String),
) -> Result<AnalyzeConfig, ConfigError> {
    let app = app_settings(&a.app, env, warn)?;
    if a.write_failed.is_some() && a.files.iter().any(|f| f.as_os_str() == "-") {
        return Err(ConfigError::WriteFailedFromStdin);
    }
    let output = match a.format {
        Format::Table if a.modules => Output::Modules,
        Format::Table => Output::Table { all: a.all },
        Format::Json => Output::Json,
        Format::Ndjson => Output::Ndjson,
    };
    Ok(AnalyzeConfig {
        keep_ok: output != (Output::Table { all: false }) || a.html.is_some(),
        output,
        analysis: settings(a.stall_after, Some(a.max_connections), app),
        files: a.files,
        fail_on_failure: a.fail_on_failure,
        quiet: a.quiet,
        write_failed: a.write_failed,
        html: a.html,
    })
}

fn show(
    a: ShowArgs,
    env: &Environment,
    warn: &mut dyn FnMut(String),
) -> Result<ShowConfig, ConfigError> {
    let app = app_settings(&a.app, env, warn)?;
    let width = a
        .width
        .or(env.columns.filter(|_| env.stdout_tty))
        .map_or(80, usize::from);
    Ok(ShowConfig {
        file: a.file,
        conns: a.conn,
        failed: a.failed,
        ladder: LadderOptions {
            ascii: a.ascii || !env.utf8,
            color: env.stdout_tty && !env.no_color,
            width,
        },
        analysis: settings(a.stall_after, None, app),
    })
}

fn live(
    a: LiveArgs,
    env: &Environment,
    warn: &mut dyn FnMut(String),
) -> Result<LiveConfig, ConfigError> {
    let app = app_settings(&a.app, env, warn)?;
    Ok(LiveConfig {
        capture: LiveOptions {
            interface: a.interface,
            filter: a.filter,
            snaplen: a.snaplen,
            promisc: !a.no_promisc,
            ..LiveOptions::default()
        },
        format: match a.format {
            Format::Table => LiveFormat::Table,
            Format::Json => LiveFormat::Json,
            Format::Ndjson => LiveFormat::Ndjson,
        },
        all: a.all,
        duration: a.duration.map(|ns| Duration::from_nanos(ns as u64)),
        count: a.count,
        write: a.write,
        analysis: settings(a.stall_after, Some(a.max_connections), app),
        fail_on_failure: a.fail_on_failure,
    })
}

/// The analysis settings every subcommand shares.
fn settings(stall_after_ns: i64, max_connections: Option<u64>, app: AppSettings) -> Settings {
    let default = Settings::default();
    Settings {
        stall_after_ns,
        max_connections: max_connections.map_or(default.max_connections, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        }),
        app,
        ..default
    }
}

/// The application settings: `--goproxy` (an error when malformed), else
/// `$GOPROXY` (only a warning when malformed), and the expected issuers.
fn app_settings(
    a: &AppArgs,
    env: &Environment,
    warn: &mut dyn FnMut(String),
) -> Result<AppSettings, ConfigError> {
    let goproxy = match (&a.goproxy, &env.goproxy) {
        (Some(s), _) => GoProxy::parse(s)
            .map_err(|e| ConfigError::GoProxy(sanitize(&format!("--goproxy: {e}"))))?,
        (None, Some(s)) => GoProxy::parse(s).unwrap_or_else(|e| {
            warn(format!(
                "ignoring GOPROXY from the environment: {}",
                sanitize(&e)
            ));
            GoProxy::default()
        }),
        (None, None) => GoProxy::default(),
    };
    Ok(AppSettings {
        goproxy,
        expected_issuers: a.expect_issuer.clone(),
    })
}

/// Whether the locale says the terminal takes UTF-8.
fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .is_some_and(|s| {
            let s = s.to_ascii_lowercase();
            s.contains("utf-8") || s.contains("utf8")
        })
}

/// Parses `5s`, `1500ms`, `2m`, `250us` or a plain number of seconds.
pub fn parse_duration_ns(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e6)
    } else if let Some(n) = s.strip_suffix("us") {
        (n, 1e3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1e9)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60e9)
    } else {
        (s, 1e9)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (try 5s, 1500ms or 2m)"))?;
    if !v.is_finite() || v < 0.0 || v * mult > 1e18 {
        return Err(format!("'{s}' is out of range"));
    }
    Ok((v * mult) as i64)
}

/// A number of connections, at least 1.
pub fn parse_max_connections(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{s}' is not a number of connections (at least 1)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn env() -> Environment {
        Environment {
            goproxy: None,
            stdout_tty: false,
            columns: None,
            utf8: true,
            no_color: false,
        }
    }

    fn config(argv: &[&str], env: &Environment) -> (Result<Config, ConfigError>, Vec<String>) {
        let cli = super::super::args::Cli::try_parse_from(argv).expect("flags parse");
        let mut warnings = Vec::new();
        let c = Config::new(cli.command, env, &mut |w| warnings.push(w));
        (c, warnings)
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ns("5s"), Ok(5_000_000_000));
        assert_eq!(parse_duration_ns("1500ms"), Ok(1_500_000_000));
        assert_eq!(parse_duration_ns("2.5"), Ok(2_500_000_000));
        assert_eq!(parse_duration_ns("2m"), Ok(120_000_000_000));
        assert!(parse_duration_ns("soon").is_err());
        assert!(parse_duration_ns("-1s").is_err());
    }

    #[test]
    fn the_default_table_keeps_only_failures() {
        let keep_ok = |argv: &[&str]| match config(argv, &env()).0 {
            Ok(Config::Analyze(a)) => a.keep_ok,
            _ => panic!("not an analyze config"),
        };
        assert!(!keep_ok(&["t", "analyze", "x.pcap"]));
        assert!(keep_ok(&["t", "analyze", "--all", "x.pcap"]));
        assert!(keep_ok(&["t", "analyze", "--modules", "x.pcap"]));
        assert!(keep_ok(&["t", "analyze", "-F", "ndjson", "x.pcap"]));
        assert!(keep_ok(&["t", "analyze", "--html", "r.html", "x.pcap"]));
    }

    #[test]
    fn goproxy_flag_errs_and_environment_warns() {
        let (c, _) = config(&["t", "analyze", "--goproxy", "ftp://x", "x.pcap"], &env());
        assert!(matches!(c, Err(ConfigError::GoProxy(m)) if m.starts_with("--goproxy: ")));
        let bad_env = Environment {
            goproxy: Some("ftp://x".into()),
            ..env()
        };
        // The warning is given even when a later check fails.
        let (c, w) = config(
            &["t", "analyze", "--write-failed", "f.pcapng", "-"],
            &bad_env,
        );
        assert!(matches!(c, Err(ConfigError::WriteFailedFromStdin)));
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("ignoring GOPROXY from the environment: "));
    }

    #[test]
    fn show_width_and_colour_follow_the_terminal() {
        let tty = Environment {
            stdout_tty: true,
            columns: Some(132),
            ..env()
        };
        let ladder = |argv: &[&str], env: &Environment| match config(argv, env).0 {
            Ok(Config::Show(s)) => s.ladder,
            _ => panic!("not a show config"),
        };
        let l = ladder(&["t", "show", "--failed", "x.pcap"], &tty);
        assert_eq!((l.width, l.color, l.ascii), (132, true, false));
        let l = ladder(
            &["t", "show", "--failed", "--width", "100", "x.pcap"],
            &env(),
        );
        assert_eq!((l.width, l.color), (100, false));
        let l = ladder(&["t", "show", "--failed", "x.pcap"], &env());
        assert_eq!(l.width, 80);
        let plain = Environment {
            utf8: false,
            no_color: true,
            ..tty
        };
        let l = ladder(&["t", "show", "--failed", "x.pcap"], &plain);
        assert_eq!((l.color, l.ascii), (false, true));
    }
}
