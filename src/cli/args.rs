//! What clap parses: the subcommands, their flags and every help text.
//! Nothing here interprets a flag; [`super::config`] turns these into the
//! validated settings the drivers run on.

use super::config::{parse_duration_ns, parse_max_connections};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
pub struct LiveArgs {
    /// Interface to capture on (`any` for all; see `tcptriage interfaces`).
    #[arg(short = 'i', long, value_name = "IFACE")]
    pub interface: String,

    /// BPF capture filter, as for tcpdump (e.g. 'tcp port 443 or icmp').
    #[arg(short = 'f', long, value_name = "BPF")]
    pub filter: Option<String>,

    /// Stop after this long (e.g. 60s, 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ns)]
    pub duration: Option<i64>,

    /// Stop after this many packets.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Bytes kept of each packet.
    #[arg(long, value_name = "N", default_value_t = 262_144, value_parser = clap::value_parser!(u32).range(64..=262_144))]
    pub snaplen: u32,

    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,

    /// Output format: a line per verdict as it happens (table), a JSON
    /// object per verdict (ndjson), or one document at the end (json).
    #[arg(long, short = 'F', value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Also print ok connections.
    #[arg(long)]
    pub all: bool,

    /// Save the packets seen to this pcapng file (readable by Wireshark).
    #[arg(long, short = 'w', value_name = "FILE.pcapng")]
    pub write: Option<PathBuf>,

    /// Silence after which a request left waiting is reported as a stall.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration_ns)]
    pub stall_after: i64,

    /// Open connections kept at most; the least recently active are
    /// evicted (and counted) beyond it.
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,

    /// Exit with status 1 when any connection or DNS query failed.
    #[arg(long)]
    pub fail_on_failure: bool,

    #[command(flatten)]
    pub app: AppArgs,
}

#[derive(Parser, Debug)]
pub struct ShowArgs {
    /// The capture file (pcap or pcapng; read twice, so not `-`).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Connection ids as in the report (repeatable, or comma-separated).
    #[arg(
        long,
        short = 'c',
        value_name = "ID",
        value_delimiter = ',',
        required_unless_present = "failed"
    )]
    pub conn: Vec<u64>,

    /// Every failed connection.
    #[arg(long, conflicts_with = "conn")]
    pub failed: bool,

    /// Plain ASCII instead of Unicode box-drawing.
    #[arg(long)]
    pub ascii: bool,

    /// Width in columns (default: the terminal's, else 80).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(60..=1000))]
    pub width: Option<u16>,

    /// Silence after which a request left waiting is a stall (as for analyze).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration_ns)]
    pub stall_after: i64,

    #[command(flatten)]
    pub app: AppArgs,
}

#[derive(Parser, Debug)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng); `-` for standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'F', value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Also list connections that are ok in the table (JSON and NDJSON
    /// always hold every connection).
    #[arg(long)]
    pub all: bool,

    /// Silence after which a request still unanswered at the end of the
    /// capture counts as a stall (e.g. 5s, 1500ms, 2.5).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration_ns)]
    pub stall_after: i64,

    /// Open connections kept at most; the least recently active are
    /// evicted (and counted) beyond it.
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = parse_max_connections)]
    pub max_connections: u64,

    /// Exit with status 1 when any connection or DNS query failed (for
    /// scripts and CI).
    #[arg(long)]
    pub fail_on_failure: bool,

    /// No progress bar (it is shown only when stderr is a terminal and the
    /// input is a file).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Print the Go module view instead of the connection table: per module
    /// proxy or checksum host, every attempt (addresses, SYN retries,
    /// fallback to the next proxy), the first failure and the outcome.
    #[arg(long)]
    pub modules: bool,

    /// Write the packets of the failed connections and DNS queries to this
    /// pcapng file, to hand to the network team (a second read of the file;
    /// not with standard input).
    #[arg(long, value_name = "FILE.pcapng")]
    pub write_failed: Option<PathBuf>,

    /// Also write a self-contained HTML report (timeline, sortable failed
    /// connections with their ladder diagrams, DNS failures) to this file.
    #[arg(long, value_name = "FILE.html")]
    pub html: Option<PathBuf>,

    #[command(flatten)]
    pub app: AppArgs,
}

/// How connections are named and judged at the application level.
#[derive(Args, Debug, Clone)]
pub struct AppArgs {
    /// Module proxies, in GOPROXY syntax ('https://goproxy.cn,direct'):
    /// connections to their hosts are Go module fetches, besides
    /// proxy.golang.org, sum.golang.org, goproxy.cn and goproxy.io.
    /// Default: the GOPROXY environment variable.
    #[arg(long, value_name = "LIST")]
    pub goproxy: Option<String>,

    /// A certificate issuer you expect (substring, any case; repeatable).
    /// TLS 1.2 certificates from other issuers are flagged as a likely
    /// TLS-inspecting proxy. Without it, issuers of known inspection
    /// products and self-signed certificates are flagged.
    #[arg(long, value_name = "NAME")]
    pub expect_issuer: Vec<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Failed DNS queries, a table of failed connections, their evidence
    /// and a summary.
    Table,
    /// One JSON document: {"capture", "connections", "dns", "summary"}.
    Json,
    /// One JSON object per line: every connection, then every DNS query.
    Ndjson,
}
