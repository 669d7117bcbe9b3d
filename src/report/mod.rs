//! Reports: one model ([`Report`]) built from the tracked connections and
//! their verdicts, and printers over it (table, JSON, NDJSON).
//!
//! Field names are stable snake_case and documented in the README.

mod cells;
mod context;
mod html;
mod json;
pub mod live;
mod modules;
mod rows;
pub mod sink;
mod table;

pub use html::{MAX_HTML_LADDERS, write_html};
pub use modules::{HostView, Outcome, module_hosts, write_modules};

pub use context::{
    AlertReport, AppContext, AppSettings, CertificateReport, DnsReport, HttpReport, IcmpReport,
    ModuleFetches, ModuleReport, TlsReport, app_context, auth_required, dns_report, icmp_report,
    is_module_fetch,
};

pub use json::{to_writer_line, to_writer_pretty, write_json, write_ndjson, write_ndjson_dns};
pub use rows::TableRows;
pub use sink::{Collect, ConnectionSink, Each, Wants, is_listed};
pub use table::{write_table, write_table_rows};

use crate::flows::{Connection, Event};
use crate::time::{Nanos, Rfc3339, Ts};
use crate::verdict::{Confidence, ResetBy, Stage, Verdict, VerdictKind};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// Everything known about one capture.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub capture: CaptureInfo,
    pub connections: Vec<ConnectionReport>,
    /// Every DNS query (over UDP or TCP port 53), in order of its first
    /// packet; the failed ones are `dns_failure` rows of the table.
    pub dns: Vec<DnsReport>,
    pub summary: Summary,
}

/// The capture file itself.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureInfo {
    /// The path as given (`-` for standard input).
    pub file: String,
    /// e.g. `pcap (microsecond, little-endian)` or `pcapng`.
    pub format: String,
    /// Link types seen, by name (e.g. `EN10MB`, `LINUX_SLL2`).
    pub link_types: Vec<String>,
    pub first_packet_time: Option<String>,
    pub last_packet_time: Option<String>,
    /// From the first to the last packet.
    pub span_ms: Nanos,
    /// Problems with the file that did not stop the analysis.
    pub warnings: Vec<String>,
    /// Live capture only: the interface, filter and libpcap's counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveInfo>,
}

/// How a live capture went.
#[derive(Debug, Clone, Serialize)]
pub struct LiveInfo {
    pub interface: String,
    pub filter: Option<String>,
    /// Packets libpcap received, and dropped by the kernel (buffer full)
    /// and by the interface, from `pcap_stats`.
    pub received: Option<u64>,
    pub dropped_kernel: Option<u64>,
    pub dropped_interface: Option<u64>,
    /// What ended the capture: `signal`, `duration`, `count` or `error`.
    pub stopped_by: String,
    /// Connections whose verdict was printed while capturing.
    pub reported_live: u64,
}

/// Stage timings in milliseconds; `null` where the stage never happened.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Timings {
    /// The SYN that was answered → the first SYN/ACK.
    pub syn_to_synack_ms: Option<Nanos>,
    /// The first SYN/ACK → the client's ACK.
    pub synack_to_ack_ms: Option<Nanos>,
    /// The first SYN → the client's ACK (SYN retries included).
    pub handshake_ms: Option<Nanos>,
    /// The handshake ACK minus the most recent SYN (Wireshark's
    /// `tcp.analysis.initial_rtt`).
    pub initial_rtt_ms: Option<Nanos>,
    /// The handshake ACK → the client's first payload.
    pub ack_to_first_data_ms: Option<Nanos>,
    /// The client's first payload → the server's first payload.
    pub time_to_first_byte_ms: Option<Nanos>,
    /// The first packet → the last packet of the connection.
    pub duration_ms: Nanos,
    /// The connection's last packet → the end of the capture.
    pub idle_at_end_ms: Nanos,
}

/// One packet cited as evidence.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvidenceReport {
    pub frame: u64,
    /// RFC 3339, UTC.
    pub time: Rfc3339,
    /// Milliseconds since the connection's first packet.
    pub t_ms: Nanos,
    pub from: String,
    pub what: String,
}

/// One connection, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionReport {
    pub id: u64,
    /// The client's address and port ([`ConnectionReport::client`]).
    #[serde(serialize_with = "serialize_ip")]
    pub client_ip: IpAddr,
    pub client_port: u16,
    #[serde(serialize_with = "serialize_ip")]
    pub server_ip: IpAddr,
    pub server_port: u16,
    /// The server's name: the TLS SNI, else the HTTP Host, else the name a
    /// DNS answer in the capture gave its address.
    pub server_name: Option<String>,
    /// Where `server_name` came from: `sni`, `host` or `dns`.
    pub name_source: Option<&'static str>,
    /// The name a DNS answer earlier in the capture gave the server's
    /// address (the name that was asked for, not a CNAME target).
    pub dns_name: Option<String>,
    /// What the connection was for, as the table shows it: the name, and
    /// `module@version (kind)` for a Go module fetch.
    pub target: Option<String>,
    /// A Go module proxy or checksum-database connection (by name or path).
    pub module_fetch: bool,
    /// The module request the connection is remembered by (the one left
    /// unanswered, else the last).
    pub module: Option<Box<ModuleReport>>,
    /// An HTTP 401, 403 or 407 answer: an authentication gateway.
    pub auth_required: Option<u16>,
    /// No SYN was seen; the client was guessed from the ports.
    pub client_inferred: bool,
    pub verdict: VerdictKind,
    pub stage: Option<Stage>,
    pub reset_by: Option<ResetBy>,
    pub blocked_by: Option<String>,
    pub explanation: Option<String>,
    pub confidence: Option<Confidence>,
    pub evidence: Vec<EvidenceReport>,
    pub warnings: Vec<String>,
    pub timings: Timings,
    pub syn_count: u32,
    pub bytes_c2s: u64,
    pub bytes_s2c: u64,
    pub packets_c2s: u64,
    pub packets_s2c: u64,
    pub retransmissions_c2s: u32,
    pub retransmissions_s2c: u32,
    pub tcp: TcpDetails,
    pub tls: Option<Box<TlsReport>>,
    /// HTTP/1.x requests in order (at most 64 kept; `http_requests` counts
    /// all).
    pub http: Vec<HttpReport>,
    pub http_requests: u32,
    pub icmp: Option<Box<IcmpReport>>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start_time: Rfc3339,
    /// Since the first packet of the capture (seconds in JSON).
    #[serde(serialize_with = "crate::time::serialize_secs")]
    pub start_offset_s: Nanos,
}

impl ConnectionReport {
    /// The client.
    pub fn client(&self) -> SocketAddr {
        SocketAddr::new(self.client_ip, self.client_port)
    }

    /// The server.
    pub fn server(&self) -> SocketAddr {
        SocketAddr::new(self.server_ip, self.server_port)
    }
}

/// Serializes an address as its text (`#[serde(serialize_with = ...)]`).
/// The ends are kept as four plain fields rather than two `SocketAddr`s
/// behind `#[serde(flatten)]`: flattening made serde write every report
/// as a map, and `--format ndjson` 7 % slower on the benchmark.
fn serialize_ip<S: serde::Serializer>(ip: &IpAddr, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::decimal::ip_string(*ip))
}

/// Serializes an endpoint as its text, `10.0.0.1:53` or `[fd77::1]:53`
/// (`#[serde(serialize_with = ...)]`).
pub(crate) fn serialize_endpoint<S: serde::Serializer>(
    e: &SocketAddr,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::decimal::endpoint(*e))
}

/// Per-direction TCP analysis counters (Wireshark's `tcp.analysis.*`).
#[derive(Debug, Clone, Serialize)]
pub struct TcpDetails {
    pub fast_retransmissions_c2s: u32,
    pub fast_retransmissions_s2c: u32,
    pub spurious_retransmissions_c2s: u32,
    pub spurious_retransmissions_s2c: u32,
    pub out_of_order_c2s: u32,
    pub out_of_order_s2c: u32,
    pub dup_acks_c2s: u32,
    pub dup_acks_s2c: u32,
    pub keep_alives_c2s: u32,
    pub keep_alives_s2c: u32,
    pub zero_windows_c2s: u32,
    pub zero_windows_s2c: u32,
    pub zero_window_probes_c2s: u32,
    pub zero_window_probes_s2c: u32,
    pub fin_c2s: bool,
    pub fin_s2c: bool,
    pub rst: Option<RstReport>,
    pub reused_ports: bool,
}

/// The first RST of a connection and what identifies its sender.
#[derive(Debug, Clone, Serialize)]
pub struct RstReport {
    pub frame: u64,
    /// `client` or `server`.
    pub from: &'static str,
    pub ttl: u8,
    pub ip_id: Option<u16>,
    /// TTL / IP ID of the same side's last packet before the RST.
    pub prior_ttl: Option<u8>,
    pub prior_ip_id: Option<u16>,
}

/// Totals for the capture.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub connections: u64,
    /// Count per verdict; every verdict is present.
    pub verdicts: BTreeMap<&'static str, u64>,
    /// Connections that failed (not ok, not incomplete).
    pub failed: u64,
    pub packets: u64,
    pub tcp_packets: u64,
    pub icmp_errors: u64,
    /// ICMP errors quoting a connection that is not in the capture.
    pub icmp_unmatched: u64,
    /// Decoded packets that are not TCP (UDP, ARP…), by kind.
    pub other_packets: BTreeMap<&'static str, u64>,
    /// Packets that could not be decoded, by reason.
    pub not_decoded: BTreeMap<String, u64>,
    /// TCP packets whose options were cut by the snaplen (decoded anyway).
    pub tcp_options_truncated: u64,
    /// Live mode: packets of connections already reported (counted only).
    pub after_verdict_packets: u64,
    /// Connections dropped because the table was full (`--max-connections`).
    pub evicted: u64,
    pub dns_queries: u64,
    /// DNS queries answered NXDOMAIN, SERVFAIL or REFUSED, or unanswered.
    pub dns_failures: u64,
    /// Connections to Go module proxies and checksum databases.
    pub module_fetches: u64,
    /// Connections answered 401, 403 or 407 (an authentication gateway).
    pub auth_required: u64,
}

fn diff(a: Option<Event>, b: Option<Event>) -> Option<Nanos> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Nanos::between(a.ts, b.ts)),
        _ => None,
    }
}

/// The stage timings of a connection.
pub fn timings(c: &Connection, capture_end: Ts) -> Timings {
    let c2s = c.c2s();
    let s2c = c.s2c();
    let ttfb = match (c2s.first_payload, s2c.first_payload) {
        (Some(a), Some(b)) if b.ts >= a.ts => Some(Nanos::between(a.ts, b.ts)),
        _ => None,
    };
    let first_data = match (c.handshake.ack, c2s.first_payload) {
        (Some(a), Some(b)) if b.ts >= a.ts => Some(Nanos::between(a.ts, b.ts)),
        _ => None,
    };
    Timings {
        syn_to_synack_ms: diff(c.handshake.answered_syn, c.handshake.synack),
        synack_to_ack_ms: diff(c.handshake.synack, c.handshake.ack),
        handshake_ms: if c.handshake.synack.is_some() {
            diff(c.handshake.first_syn, c.handshake.ack)
        } else {
            None
        },
        initial_rtt_ms: c.initial_rtt_ns().map(Nanos),
        ack_to_first_data_ms: first_data,
        time_to_first_byte_ms: ttfb,
        duration_ms: Nanos::between(c.first.ts, c.last.ts),
        idle_at_end_ms: Nanos(capture_end.0.saturating_sub(c.last.ts.0).max(0)),
    }
}

/// Builds the report entry for one connection.
pub fn connection_report(
    c: &Connection,
    v: &Verdict,
    capture_start: Ts,
    capture_end: Ts,
    settings: &AppSettings,
) -> ConnectionReport {
    let (c2s, s2c) = (c.c2s(), c.s2c());
    let app = app_context(c, settings);
    let mut warnings = v.warnings.clone();
    if let Some(why) = app.tls.as_ref().and_then(|t| t.unexpected_issuer.clone()) {
        warnings.push(why);
    }
    if let Some(status) = app.auth_required {
        warnings.push(match status {
            403 => "auth_required: HTTP 403 Forbidden from the server (access refused: an authentication gateway or a policy)".to_string(),
            407 => "auth_required: HTTP 407 from the server (a proxy wants credentials)".to_string(),
            s => format!("auth_required: HTTP {s} from the server (it wants credentials)"),
        });
    }
    ConnectionReport {
        server_name: app.server_name,
        name_source: app.name_source,
        dns_name: c.dns_name.clone(),
        target: app.target,
        module_fetch: app.module_fetch,
        module: app.module.map(Box::new),
        auth_required: app.auth_required,
        tls: app.tls.map(Box::new),
        http: app.http,
        http_requests: app.http_requests,
        icmp: icmp_report(c).map(Box::new),
        id: c.id,
        client_ip: c.client.0,
        client_port: c.client.1,
        server_ip: c.server.0,
        server_port: c.server.1,
        client_inferred: c.client_inferred,
        verdict: v.kind,
        stage: v.stage,
        reset_by: v.reset_by,
        blocked_by: v.blocked_by.clone(),
        explanation: if v.explanation.is_empty() {
            None
        } else {
            Some(v.explanation.clone())
        },
        confidence: v.confidence,
        evidence: v
            .evidence
            .iter()
            .map(|e| EvidenceReport {
                frame: e.frame,
                time: Rfc3339(e.ts),
                t_ms: Nanos::between(c.first.ts, e.ts),
                from: e.from.clone(),
                what: e.what.clone(),
            })
            .collect(),
        warnings,
        timings: timings(c, capture_end),
        syn_count: c.handshake.syn_count,
        bytes_c2s: c2s.bytes,
        bytes_s2c: s2c.bytes,
        packets_c2s: c2s.packets,
        packets_s2c: s2c.packets,
        retransmissions_c2s: c2s.retransmissions,
        retransmissions_s2c: s2c.retransmissions,
        tcp: TcpDetails {
            fast_retransmissions_c2s: c2s.fast_retransmissions,
            fast_retransmissions_s2c: s2c.fast_retransmissions,
            spurious_retransmissions_c2s: c2s.spurious_retransmissions,
            spurious_retransmissions_s2c: s2c.spurious_retransmissions,
            out_of_order_c2s: c2s.out_of_order,
            out_of_order_s2c: s2c.out_of_order,
            dup_acks_c2s: c2s.dup_acks,
            dup_acks_s2c: s2c.dup_acks,
            keep_alives_c2s: c2s.keep_alives,
            keep_alives_s2c: s2c.keep_alives,
            zero_windows_c2s: c2s.zero_windows,
            zero_windows_s2c: s2c.zero_windows,
            zero_window_probes_c2s: c2s.zero_window_probes,
            zero_window_probes_s2c: s2c.zero_window_probes,
            fin_c2s: c2s.fin.is_some(),
            fin_s2c: s2c.fin.is_some(),
            rst: c.rst.map(|r| RstReport {
                frame: r.at.frame,
                from: r.dir.sender(),
                ttl: r.ttl,
                ip_id: r.ip_id,
                prior_ttl: r.prior_ttl,
                prior_ip_id: r.prior_ip_id,
            }),
            reused_ports: c.reused_ports,
        },
        first_frame: c.first.frame,
        last_frame: c.last.frame,
        start_time: Rfc3339(c.first.ts),
        start_offset_s: Nanos::between(capture_start, c.first.ts),
    }
}

/// Makes a string safe to print on a terminal: control characters (C0, DEL,
/// C1) and the Unicode bidirectional overrides are shown as visible escapes
/// (ESC becomes the four characters `\x1b`, CSI `\u{9b}`, RIGHT-TO-LEFT
/// OVERRIDE `\u{202e}`), so that nothing taken from a packet or a file name
/// can move the cursor, clear the screen or reorder the text, and the reader
/// still sees what was there.
pub fn sanitize(s: &str) -> String {
    sanitized(s).into_owned()
}

/// [`sanitize`] without a copy when nothing needs escaping. Almost every
/// string printed (addresses, names, explanations) needs none, so that is
/// checked on the bytes first, without decoding characters
/// ([`needs_no_escape`]): on a capture with 56 k failed connections the
/// per-character path was 3 % of the run.
pub(crate) fn sanitized(s: &str) -> Cow<'_, str> {
    if needs_no_escape(s) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(sanitize_chars(s))
}

/// Whether [`sanitize_chars`] would return `s` unchanged: no control
/// character (C0, DEL, C1) and no bidirectional control, read off the
/// UTF-8 bytes. Printable ASCII is checked 16 bytes at a time (a loop
/// without an early exit, which the compiler vectorizes); elsewhere a C1
/// control is `C2 80..=9F`, and the bidi controls U+200E, U+200F,
/// U+202A..=U+202E and U+2066..=U+2069 are `E2 80 8E`, `E2 80 8F`,
/// `E2 80 AA..=AE` and `E2 81 A6..=A9`. Continuation bytes are never
/// `C2` or `E2`, so a byte-by-byte walk of valid UTF-8 is sound.
fn needs_no_escape(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if let Some(chunk) = b.get(i..i + 16) {
            let mut printable = true;
            for &x in chunk {
                printable &= (0x20..=0x7e).contains(&x);
            }
            if printable {
                i += 16;
                continue;
            }
        }
        match b[i] {
            0x20..=0x7e => {}
            0x00..=0x7f => return false, // C0 controls and DEL
            0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => return false,
            0xe2 => match (b.get(i + 1), b.get(i + 2)) {
                (Some(0x80), Some(0x8e | 0x8f | 0xaa..=0xae)) | (Some(0x81), Some(0xa6..=0xa9)) => {
                    return false;
                }
                _ => {}
            },
            _ => {}
        }
        i += 1;
    }
    true
}

fn sanitize_chars(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if (c as u32) < 0x80 && c.is_control() {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else if c.is_control() || bidi {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_check_agrees_with_the_character_walk() {
        // Characters around every boundary the byte check draws.
        let alphabet: Vec<char> = "a ~\0\x1b\x1f\x7f\u{80}\u{9f}\u{a0}é\u{ff}\u{200d}\u{200e}\u{200f}\
             \u{2010}\u{2029}\u{202a}\u{202e}\u{202f}\u{2065}\u{2066}\u{2069}\u{206a}→…—\u{e000}😀\u{10ffff}"
            .chars()
            .collect();
        let mut rng = crate::testutil::XorShift(0x9e37_79b9_7f4a_7c15);
        let mut next = || rng.next();
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            // Mostly printable ASCII, as real strings are, so that the
            // 16-byte chunks are taken too.
            let s: String = (0..len)
                .map(|_| match next() % 4 {
                    0 => alphabet[(next() % alphabet.len() as u64) as usize],
                    _ => char::from(b'a' + (next() % 26) as u8),
                })
                .collect();
            assert_eq!(needs_no_escape(&s), sanitize_chars(&s) == s, "{s:?}");
        }
        for c in alphabet {
            let s = format!("{}{c}{}", "x".repeat(15), "y".repeat(17));
            assert_eq!(needs_no_escape(&s), sanitize_chars(&s) == s, "{s:?}");
        }
    }

    #[test]
    fn sanitize_shows_escape_sequences() {
        assert_eq!(sanitize("a\x1b[31mb\x07\u{9b}c"), r"a\x1b[31mb\x07\u{9b}c");
        assert_eq!(sanitize("x\ny\r\tz\x7f\0"), r"x\x0ay\x0d\x09z\x7f\x00");
        assert_eq!(sanitize("abc\u{202e}def"), r"abc\u{202e}def");
        assert_eq!(sanitize("proxy.golang.org"), "proxy.golang.org");
        assert_eq!(
            sanitize("10.0.0.1 → [fd77::1]:443 — é"),
            "10.0.0.1 → [fd77::1]:443 — é"
        );
        assert!(matches!(sanitized("GET /x?a=1 ~"), Cow::Borrowed(_)));
        assert!(matches!(sanitized("a\u{7f}"), Cow::Owned(_)));
        assert_eq!(sanitize(""), "");
        assert_eq!(sanitize(" ~"), " ~");
        assert!(
            !sanitize("\x1b[2J\x1b]0;title\x07")
                .chars()
                .any(|c| c.is_control())
        );
    }
}
