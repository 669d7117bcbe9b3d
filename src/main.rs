//! The `tcptriage` command: a thin layer over the library that turns flags
//! into a validated configuration, runs the analysis and maps the outcome
//! to an exit code (0 ran, 1 failures found with --fail-on-failure, 2 bad
//! usage or unreadable input).

mod cli;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tcptriage::analyze::{AnalyzeError, Options, Progress, analyze};
use tcptriage::report::{self, Report};
use tcptriage::sniff::gomod::GoProxy;
use tcptriage::source;

#[derive(Parser, Debug)]
#[command(
    name = "tcptriage",
    version,
    about = "Explain why TCP connections in a packet capture failed or timed out",
    long_about = "Reads pcap/pcapng captures, follows every TCP connection and gives each one a \
verdict: ok, firewall_drop, service_down, app_stall, midstream_reset or incomplete, with the \
frames, times and senders that prove it. DNS lookups that failed (NXDOMAIN, SERVFAIL, REFUSED, \
timeout) get rows of their own, and connections are named from DNS answers, the TLS SNI and \
HTTP Host, down to the Go module and version a go command was fetching."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Analyse saved captures (pcap or pcapng); `-` reads standard input.
    #[command(after_help = "EXAMPLES:
    tcptriage analyze capture.pcapng
    tcptriage analyze --format json capture.pcap | jq '.connections[] | select(.verdict != \"ok\")'
    tcptriage analyze --modules --goproxy 'https://goproxy.cn,direct' fetch.pcap
    tcptriage analyze --html report.html --write-failed failed.pcapng capture.pcap
    tcpdump -i eth0 -U -w - 'tcp or icmp or icmp6 or port 53' | tcptriage analyze -

EXIT STATUS:
    0  the analysis ran (whatever it found)
    1  --fail-on-failure was given and a connection or DNS query failed
    2  bad usage, or a capture could not be read")]
    Analyze(AnalyzeArgs),
    /// Capture on an interface and print each connection's verdict as soon
    /// as it is final (needs libpcap at run time and CAP_NET_RAW).
    #[command(after_help = "EXAMPLES:
    sudo tcptriage live -i any -f 'tcp port 443 or udp port 53'
    sudo tcptriage live -i eth0 --duration 60s --format ndjson | jq .
    sudo tcptriage live -i eth0 --write fetch.pcapng     # keep the packets for Wireshark

Ctrl-C, SIGTERM, --duration and --count all stop the capture the same way:
the report of what is still open and the summary are printed.

EXIT STATUS:
    0  the capture ran (whatever it found)
    1  --fail-on-failure was given and a connection failed
    2  bad usage, bad filter, no permission, or libpcap missing")]
    Live(LiveArgs),
    /// Draw a connection as a ladder diagram: who sent what, when, and
    /// where the silence began; the verdict and its evidence under it.
    #[command(after_help = "EXAMPLES:
    tcptriage show capture.pcap --conn 3
    tcptriage show capture.pcap --failed | less -R
    tcptriage show capture.pcap --conn 1,4 --ascii --width 100

Colour on a terminal unless NO_COLOR is set; Unicode box-drawing when the
locale is UTF-8 (else ASCII, or with --ascii).

EXIT STATUS:
    0  drawn
    2  bad usage, an unknown connection id, or a capture that could not be read")]
    Show(ShowArgs),
    /// List the capture devices and their addresses.
    Interfaces,
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell).
    #[command(after_help = "INSTALL:
    tcptriage completions bash | sudo tee /usr/share/bash-completion/completions/tcptriage
    tcptriage completions zsh  > \"${fpath[1]}/_tcptriage\"
    tcptriage completions fish > ~/.config/fish/completions/tcptriage.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a
    /// directory.
    #[command(after_help = "INSTALL:
    tcptriage man --dir /usr/local/share/man/man1 && mandb -q
    tcptriage man | man -l -")]
    Man {
        /// Write tcptriage.1 and tcptriage-SUBCOMMAND.1 here instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Parser, Debug)]
struct LiveArgs {
    /// Interface to capture on (`any` for all; see `tcptriage interfaces`).
    #[arg(short = 'i', long, value_name = "IFACE")]
    interface: String,

    /// BPF capture filter, as for tcpdump (e.g. 'tcp port 443 or icmp').
    #[arg(short = 'f', long, value_name = "BPF")]
    filter: Option<String>,

    /// Stop after this long (e.g. 60s, 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ns)]
    duration: Option<i64>,

    /// Stop after this many packets.
    #[arg(long, value_name = "N")]
    count: Option<u64>,

    /// Bytes kept of each packet.
    #[arg(long, value_name = "N", default_value_t = 262_144, value_parser = clap::value_parser!(u32).range(64..=262_144))]
    snaplen: u32,

    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    no_promisc: bool,

    /// Output format: a line per verdict as it happens (table), a JSON
    /// object per verdict (ndjson), or one document at the end (json).
    #[arg(long, short = 'F', value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Also print ok connections.
    #[arg(long)]
    all: bool,

    /// Save the packets seen to this pcapng file (readable by Wireshark).
    #[arg(long, short = 'w', value_name = "FILE.pcapng")]
    write: Option<PathBuf>,

    /// Silence after which a request left waiting is reported as a stall.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration_ns)]
    stall_after: i64,

    /// Open connections kept at most; the least recently active are
    /// evicted (and counted) beyond it.
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,

    /// Exit with status 1 when any connection or DNS query failed.
    #[arg(long)]
    fail_on_failure: bool,

    #[command(flatten)]
    app: AppArgs,
}

#[derive(Parser, Debug)]
struct ShowArgs {
    /// The capture file (pcap or pcapng; read twice, so not `-`).
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Connection ids as in the report (repeatable, or comma-separated).
    #[arg(
        long,
        short = 'c',
        value_name = "ID",
        value_delimiter = ',',
        required_unless_present = "failed"
    )]
    conn: Vec<u64>,

    /// Every failed connection.
    #[arg(long, conflicts_with = "conn")]
    failed: bool,

    /// Plain ASCII instead of Unicode box-drawing.
    #[arg(long)]
    ascii: bool,

    /// Width in columns (default: the terminal's, else 80).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(60..=1000))]
    width: Option<u16>,

    /// Silence after which a request left waiting is a stall (as for analyze).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration_ns)]
    stall_after: i64,

    #[command(flatten)]
    app: AppArgs,
}

#[derive(Parser, Debug)]
struct AnalyzeArgs {
    /// Capture files (pcap or pcapng); `-` for standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'F', value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Also list connections that are ok in the table (JSON and NDJSON
    /// always hold every connection).
    #[arg(long)]
    all: bool,

    /// Silence after which a request still unanswered at the end of the
    /// capture counts as a stall (e.g. 5s, 1500ms, 2.5).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration_ns)]
    stall_after: i64,

    /// Open connections kept at most; the least recently active are
    /// evicted (and counted) beyond it.
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = parse_max_connections)]
    max_connections: u64,

    /// Exit with status 1 when any connection or DNS query failed (for
    /// scripts and CI).
    #[arg(long)]
    fail_on_failure: bool,

    /// No progress bar (it is shown only when stderr is a terminal and the
    /// input is a file).
    #[arg(long, short = 'q')]
    quiet: bool,

    /// Print the Go module view instead of the connection table: per module
    /// proxy or checksum host, every attempt (addresses, SYN retries,
    /// fallback to the next proxy), the first failure and the outcome.
    #[arg(long)]
    modules: bool,

    /// Write the packets of the failed connections and DNS queries to this
    /// pcapng file, to hand to the network team (a second read of the file;
    /// not with standard input).
    #[arg(long, value_name = "FILE.pcapng")]
    write_failed: Option<PathBuf>,

    /// Also write a self-contained HTML report (timeline, sortable failed
    /// connections with their ladder diagrams, DNS failures) to this file.
    #[arg(long, value_name = "FILE.html")]
    html: Option<PathBuf>,

    #[command(flatten)]
    app: AppArgs,
}

/// How connections are named and judged at the application level.
#[derive(Args, Debug, Clone)]
struct AppArgs {
    /// Module proxies, in GOPROXY syntax ('https://goproxy.cn,direct'):
    /// connections to their hosts are Go module fetches, besides
    /// proxy.golang.org, sum.golang.org, goproxy.cn and goproxy.io.
    /// Default: the GOPROXY environment variable.
    #[arg(long, value_name = "LIST")]
    goproxy: Option<String>,

    /// A certificate issuer you expect (substring, any case; repeatable).
    /// TLS 1.2 certificates from other issuers are flagged as a likely
    /// TLS-inspecting proxy. Without it, issuers of known inspection
    /// products and self-signed certificates are flagged.
    #[arg(long, value_name = "NAME")]
    expect_issuer: Vec<String>,
}

impl AppArgs {
    /// The settings, or the one-line error for a malformed --goproxy. A
    /// malformed GOPROXY in the environment is only a warning.
    fn settings(&self) -> Result<report::AppSettings, String> {
        let goproxy = match &self.goproxy {
            Some(s) => GoProxy::parse(s).map_err(|e| format!("--goproxy: {e}"))?,
            None => match std::env::var("GOPROXY") {
                Ok(s) => GoProxy::parse(&s).unwrap_or_else(|e| {
                    eprintln!(
                        "tcptriage: warning: ignoring GOPROXY from the environment: {}",
                        report::sanitize(&e)
                    );
                    GoProxy::default()
                }),
                Err(_) => GoProxy::default(),
            },
        };
        Ok(report::AppSettings {
            goproxy,
            expected_issuers: self.expect_issuer.clone(),
        })
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// Failed DNS queries, a table of failed connections, their evidence
    /// and a summary.
    Table,
    /// One JSON document: {"capture", "connections", "dns", "summary"}.
    Json,
    /// One JSON object per line: every connection, then every DNS query.
    Ndjson,
}

/// Parses `5s`, `1500ms`, `2m`, `250us` or a plain number of seconds.
fn parse_duration_ns(s: &str) -> Result<i64, String> {
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
fn parse_max_connections(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{s}' is not a number of connections (at least 1)")),
    }
}

fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

fn run_analyze(args: AnalyzeArgs) -> ExitCode {
    let app = match args.app.settings() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tcptriage: {}", report::sanitize(&e));
            return ExitCode::from(2);
        }
    };
    if args.write_failed.is_some() && args.files.iter().any(|f| f.as_os_str() == "-") {
        eprintln!(
            "tcptriage: --write-failed reads the capture twice, so it needs a file, not standard input"
        );
        return ExitCode::from(2);
    }
    // The default table lists only failed connections: ok ones are then
    // counted as the file is read, not kept, and the failed ones are kept
    // as the text the table prints, spilled to a temporary file when there
    // are many (`report::TableRows`): memory follows the connections open
    // at once, not the file's length.
    let keep_ok = args.format != Format::Table || args.all || args.modules || args.html.is_some();
    let opts = Options {
        stall_after_ns: args.stall_after,
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        app,
        ..Options::default()
    };
    let stdout = io::stdout();
    // Reports run to tens of megabytes: 256 KiB per write(2), not 8 KiB.
    let mut out = io::BufWriter::with_capacity(256 << 10, stdout.lock());
    let mut reports: Vec<Report> = Vec::new();
    let mut unreadable = false;
    let mut failed = false;
    for (i, path) in args.files.iter().enumerate() {
        let name = path.display().to_string();
        let bar = progress_bar(path, args.quiet);
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
        // The sink: NDJSON writes each connection as soon as it closed;
        // the default table keeps only the listed ones, as rows; the rest
        // want every connection at the end.
        let mut rows: Option<report::TableRows> = None;
        let mut every: Option<report::Collect> = None;
        let mut ndjson =
            (args.format == Format::Ndjson).then(|| report::sink::Ndjson::new(&mut out));
        let result = source::open_path(path)
            .map_err(AnalyzeError::from)
            .and_then(|mut src| {
                let sink: &mut dyn report::ConnectionSink = match ndjson.as_mut() {
                    Some(n) => n,
                    None if keep_ok => every.insert(report::Collect::every()),
                    None => rows.insert(report::TableRows::new()),
                };
                analyze(src.as_mut(), &name, &opts, sink, Some(&mut on_progress))
            });
        drop(ndjson);
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        if let Err(AnalyzeError::Sink(e)) = &result
            && args.format == Format::Ndjson
        {
            if is_broken_pipe(e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("tcptriage: writing the report: {e}");
            return ExitCode::from(2);
        }
        let mut rep = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = out.flush();
                eprintln!(
                    "tcptriage: {}: {}",
                    report::sanitize(&name),
                    report::sanitize(&e.to_string())
                );
                // No room for the table's rows: the environment, not this
                // capture; the next file would fail the same way.
                if matches!(e, AnalyzeError::Sink(_)) {
                    return ExitCode::from(2);
                }
                unreadable = true;
                continue;
            }
        };
        for w in &rep.capture.warnings {
            eprintln!(
                "tcptriage: {}: warning: {}",
                report::sanitize(&name),
                report::sanitize(w)
            );
        }
        failed |= rep.summary.failed > 0 || rep.summary.dns_failures > 0;
        if let Some(every) = every {
            rep.connections = every.into_sorted();
        }
        if let Some(dest) = &args.write_failed {
            let dest = if args.files.len() > 1 {
                numbered(dest, i)
            } else {
                dest.clone()
            };
            match write_failed(path, &rep, rows.as_ref(), &dest) {
                Ok(n) => eprintln!(
                    "tcptriage: {}: wrote {n} packets of failed connections and DNS queries to {}",
                    report::sanitize(&name),
                    report::sanitize(&dest.display().to_string())
                ),
                Err(e) => {
                    eprintln!(
                        "tcptriage: {}: {}",
                        report::sanitize(&dest.display().to_string()),
                        report::sanitize(&e)
                    );
                    return ExitCode::from(2);
                }
            }
        }
        if let Some(dest) = &args.html {
            let dest = if args.files.len() > 1 {
                numbered(dest, i)
            } else {
                dest.clone()
            };
            if let Err(e) = write_html(path, &rep, &dest, &opts) {
                eprintln!(
                    "tcptriage: {}: {}",
                    report::sanitize(&dest.display().to_string()),
                    report::sanitize(&e)
                );
                return ExitCode::from(2);
            }
        }
        let written = match args.format {
            Format::Table if args.modules => {
                if i > 0 {
                    let _ = writeln!(out);
                }
                report::write_modules(&mut out, &rep)
            }
            Format::Table => {
                if i > 0 {
                    let _ = writeln!(out);
                }
                match &rows {
                    Some(rows) => report::write_table_rows(&mut out, &rep, rows),
                    None => report::write_table(&mut out, &rep, args.all),
                }
            }
            Format::Ndjson => report::write_ndjson_dns(&mut out, &rep),
            Format::Json => {
                reports.push(rep);
                Ok(())
            }
        };
        if let Err(e) = written {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("tcptriage: writing the report: {e}");
            return ExitCode::from(2);
        }
        if i + 1 == args.files.len() {
            // The process ends next: freeing the last file's rows piece by
            // piece would only delay it.
            std::mem::forget(rows);
        }
    }
    if args.format == Format::Json
        && !reports.is_empty()
        && let Err(e) = report::write_json(&mut out, &reports)
    {
        if is_broken_pipe(&e) {
            return ExitCode::SUCCESS;
        }
        eprintln!("tcptriage: writing the report: {e}");
        return ExitCode::from(2);
    }
    // Every connection of every file with `--format json`: freeing them
    // one by one (hundreds of thousands) would only delay the exit.
    std::mem::forget(reports);
    if let Err(e) = out.flush()
        && !is_broken_pipe(&e)
    {
        eprintln!("tcptriage: writing the report: {e}");
        return ExitCode::from(2);
    }
    if unreadable {
        ExitCode::from(2)
    } else if args.fail_on_failure && failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes the HTML report of `rep` (read from `path`) to `dest`, with a
/// ladder diagram per failed connection.
fn write_html(
    path: &std::path::Path,
    rep: &Report,
    dest: &std::path::Path,
    opts: &Options,
) -> Result<(), String> {
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
fn progress_bar(path: &std::path::Path, quiet: bool) -> Option<indicatif::ProgressBar> {
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
fn numbered(dest: &std::path::Path, i: usize) -> PathBuf {
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
    path: &std::path::Path,
    rep: &Report,
    rows: Option<&report::TableRows>,
    dest: &std::path::Path,
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
            report::sanitize(&dest.display().to_string()),
            copied.other_link_type
        );
    }
    Ok(copied.packets)
}

fn run_live(a: LiveArgs) -> ExitCode {
    let app = match a.app.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tcptriage: {}", report::sanitize(&e));
            return ExitCode::from(2);
        }
    };
    let cfg = cli::live::LiveConfig {
        capture: source::LiveOptions {
            interface: a.interface,
            filter: a.filter,
            snaplen: a.snaplen,
            promisc: !a.no_promisc,
            ..source::LiveOptions::default()
        },
        format: match a.format {
            Format::Table => cli::live::LiveFormat::Table,
            Format::Json => cli::live::LiveFormat::Json,
            Format::Ndjson => cli::live::LiveFormat::Ndjson,
        },
        all: a.all,
        duration: a
            .duration
            .map(|ns| std::time::Duration::from_nanos(ns as u64)),
        count: a.count,
        write: a.write,
        analysis: Options {
            stall_after_ns: a.stall_after,
            max_connections: usize::try_from(a.max_connections).unwrap_or(usize::MAX),
            app,
            ..Options::default()
        },
        fail_on_failure: a.fail_on_failure,
    };
    ExitCode::from(cli::live::run(cfg))
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

fn run_show(a: ShowArgs) -> ExitCode {
    let app = match a.app.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tcptriage: {}", report::sanitize(&e));
            return ExitCode::from(2);
        }
    };
    let opts = Options {
        stall_after_ns: a.stall_after,
        app,
        ..Options::default()
    };
    let name = a.file.display().to_string();
    let ladders = match tcptriage::ladder::collect(&a.file, &a.conn, a.failed, &opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "tcptriage: {}: {}",
                report::sanitize(&name),
                report::sanitize(&e)
            );
            return ExitCode::from(2);
        }
    };
    let tty = io::stdout().is_terminal();
    let width = a.width.map(usize::from).unwrap_or_else(|| {
        if tty {
            console::Term::stdout()
                .size_checked()
                .map_or(80, |(_, cols)| usize::from(cols))
        } else {
            80
        }
    });
    let lo = tcptriage::ladder::LadderOptions {
        ascii: a.ascii || !utf8_locale(),
        color: tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        width,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if ladders.is_empty() {
        let _ = writeln!(out, "No failed connections in {}.", report::sanitize(&name));
    }
    for (i, l) in ladders.iter().enumerate() {
        let sep = if i > 0 { "\n" } else { "" };
        if let Err(e) = write!(out, "{sep}{}", tcptriage::ladder::render_text(l, &lo)) {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("tcptriage: writing: {e}");
            return ExitCode::from(2);
        }
    }
    match out.flush() {
        Err(e) if !is_broken_pipe(&e) => {
            eprintln!("tcptriage: writing: {e}");
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}

fn run_interfaces() -> ExitCode {
    match source::list_interfaces() {
        Ok(list) => {
            let stdout = io::stdout();
            let mut out = stdout.lock();
            for i in list {
                let addrs: Vec<String> = i.addresses.iter().map(|a| a.to_string()).collect();
                let mut flags = Vec::new();
                if i.up {
                    flags.push("up");
                }
                if i.running {
                    flags.push("running");
                }
                if i.loopback {
                    flags.push("loopback");
                }
                let line = format!(
                    "{:<16} {:<22} {}{}",
                    i.name,
                    flags.join(","),
                    addrs.join(" "),
                    i.description
                        .map(|d| format!("  ({d})"))
                        .unwrap_or_default()
                );
                if let Err(e) = writeln!(out, "{}", report::sanitize(&line)) {
                    if is_broken_pipe(&e) {
                        break;
                    }
                    return ExitCode::from(2);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tcptriage: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn main() -> ExitCode {
    // A panic is a bug: say so on one line instead of a backtrace hint.
    std::panic::set_hook(Box::new(|info| {
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
            report::sanitize(&msg)
        );
    }));
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze(args) => run_analyze(args),
        Command::Live(args) => run_live(args),
        Command::Show(args) => run_show(args),
        Command::Interfaces => run_interfaces(),
        Command::Completions { shell } => {
            let stdout = io::stdout();
            let mut out = stdout.lock();
            cli::docs::completions::<Cli>(shell, &mut out);
            ExitCode::SUCCESS
        }
        Command::Man { dir: None } => match cli::docs::man_page::<Cli>(&mut io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tcptriage: writing the man page: {e}");
                ExitCode::from(2)
            }
        },
        Command::Man { dir: Some(dir) } => match cli::docs::man_pages::<Cli>(&dir) {
            Ok(files) => {
                eprintln!(
                    "tcptriage: wrote {} in {}",
                    files.join(", "),
                    report::sanitize(&dir.display().to_string())
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!(
                    "tcptriage: {}: {e}",
                    report::sanitize(&dir.display().to_string())
                );
                ExitCode::from(2)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration_ns;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ns("5s"), Ok(5_000_000_000));
        assert_eq!(parse_duration_ns("1500ms"), Ok(1_500_000_000));
        assert_eq!(parse_duration_ns("2.5"), Ok(2_500_000_000));
        assert_eq!(parse_duration_ns("2m"), Ok(120_000_000_000));
        assert!(parse_duration_ns("soon").is_err());
        assert!(parse_duration_ns("-1s").is_err());
    }
}
