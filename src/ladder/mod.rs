//! Ladder diagrams: one connection drawn packet by packet between two
//! lifelines (client and server), for the terminal ([`render_text`]) and as
//! SVG ([`render_svg`]).
//!
//! [`collect`] runs the normal analysis to learn each connection's verdict,
//! evidence and names, then reads the capture a second time and keeps the
//! frames of the wanted connections (their TCP 4-tuple within
//! `first_frame..=last_frame`, and the ICMP errors quoting it). Runs of like
//! packets are collapsed as they are read (data one way with the pure ACKs
//! coming back, or pure ACKs alone), and at most [`MAX_ROWS`] rows are kept
//! per connection (the first and last half, plus every evidence frame), so a
//! connection of millions of packets costs a few thousand rows.
//!
//! The model ([`Ladder`], [`Row`]) holds raw strings from the capture; the
//! renderers sanitize them ([`crate::report::sanitize`]) or XML-escape them.

mod svg;
mod text;

pub use svg::{SVG_WIDTH, render_svg, xml_escape};
pub use text::{LadderOptions, display_width, render_text};

use crate::analyze::{Settings, analyze_collect};
use crate::decode::{Decoded, IcmpErrorKind, TcpFlags, decode_frame};
use crate::packet::FrameSelector;
use crate::report::Collect;
use crate::report::{ConnectionReport, EvidenceReport};
use crate::source::{PacketSource, SourceError, open_path};
use crate::time::{Nanos, Ts};
use crate::verdict::{Confidence, Stage, VerdictKind};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use std::path::Path;

/// Rows kept per connection at most (besides evidence rows): the first half
/// and the last half; the rows between are summed up in one
/// [`RowKind::Omitted`] row.
pub const MAX_ROWS: usize = 2000;

/// A silence is drawn before a row when the gap to the previous row is at
/// least this long…
pub const SILENCE_NS: i64 = 1_000_000_000;
/// …or at least [`SILENCE_MEDIAN_FACTOR`] times the median gap between the
/// connection's packets and at least this long (so that a round trip in a
/// burst of back-to-back segments is not a "silence").
pub const SILENCE_FLOOR_NS: i64 = 100_000_000;
pub const SILENCE_MEDIAN_FACTOR: i64 = 10;

/// Runs of fewer packets than this are drawn packet by packet.
const MIN_RUN: u64 = 3;

/// Who sent a row's packets, and to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
    /// An ICMP error from a third party (a router, a firewall) to the client.
    ThirdToClient,
    /// An ICMP error from a third party to the server.
    ThirdToServer,
}

impl Direction {
    /// Whether the arrow points at the server (drawn left to right).
    pub fn to_server(self) -> bool {
        matches!(self, Direction::ClientToServer | Direction::ThirdToServer)
    }

    /// 0 for the client's packets, 1 for the server's, `None` for a third party.
    fn side(self) -> Option<usize> {
        match self {
            Direction::ClientToServer => Some(0),
            Direction::ServerToClient => Some(1),
            _ => None,
        }
    }
}

/// One TCP segment drawn as its own arrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub flags: TcpFlags,
    /// Relative to the sender's initial sequence number (as Wireshark shows it).
    pub seq: u32,
    /// Relative to the peer's initial sequence number; `None` without ACK.
    pub ack: Option<u32>,
    /// Payload length on the wire.
    pub len: u32,
    /// IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
    /// The TTL is worth printing: an RST, or not the sender's usual TTL.
    pub show_ttl: bool,
    /// The sender's usual TTL (the most common among its non-RST packets).
    pub usual_ttl: Option<u8>,
    /// The raw window field.
    pub window: u16,
    /// `retransmission` (the data was sent before) or `keep-alive`.
    pub note: Option<&'static str>,
    /// What the payload was, when a sniffer knows: `ClientHello SNI
    /// proxy.golang.org`, `GET /x/@v/list`, `HTTP 200`, `alert fatal
    /// bad_certificate`.
    pub app: Option<String>,
}

/// What one row of the ladder stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    Packet(Packet),
    /// An ICMP error quoting one of the connection's segments.
    Icmp {
        /// The address that sent the ICMP error.
        from: String,
        kind: IcmpErrorKind,
        icmp_type: u8,
        code: u8,
        ttl: u8,
    },
    /// Consecutive like packets: data segments in the row's direction with
    /// the pure ACKs coming back, or pure ACKs alone.
    Run {
        data_segments: u64,
        bytes: u64,
        /// Pure ACKs (from the other side when there is data).
        acks: u64,
        /// Relative sequence range of the data, `start..end`.
        seq: Option<(u32, u32)>,
        /// The last ACK number of the run's pure ACKs (relative).
        last_ack: Option<u32>,
        /// The pure ACKs advertised a zero window.
        zero_window: bool,
        /// The data's TTL, when it is not the sender's usual one.
        unusual_ttl: Option<u8>,
    },
    /// Rows left out to bound memory: how many, and what they carried.
    Omitted {
        rows: u64,
        bytes: u64,
    },
}

/// One row: an arrow (a packet, a run, an ICMP error) or rows left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub dir: Direction,
    pub kind: RowKind,
    pub first_frame: u64,
    pub last_frame: u64,
    /// Packets the row stands for.
    pub packets: u64,
    /// Nanoseconds from the connection's first packet to the row's first
    /// and last packets.
    pub t_ns: i64,
    pub end_ns: i64,
    /// Nanoseconds since the previous row's last packet (`None` on the first row).
    pub gap_ns: Option<i64>,
    /// The gap before this row is a silence, drawn as a break.
    pub silence_before: bool,
    /// The row holds an evidence frame of the verdict.
    pub evidence: bool,
}

impl Row {
    /// Payload bytes the row carries.
    pub fn bytes(&self) -> u64 {
        match &self.kind {
            RowKind::Packet(p) => u64::from(p.len),
            RowKind::Run { bytes, .. } | RowKind::Omitted { bytes, .. } => *bytes,
            RowKind::Icmp { .. } => 0,
        }
    }

    /// The row's label, as parts: `(text, essential)`. A renderer short of
    /// room drops the non-essential parts from the end first.
    pub fn label_parts(&self) -> Vec<(String, bool)> {
        let mut v: Vec<(String, bool)> = Vec::new();
        match &self.kind {
            RowKind::Packet(p) => {
                v.push((p.flags.short(), true));
                // What the payload was says more than the sequence numbers:
                // with it, they move to the end and are the first to go
                // when room is short.
                let seq_parts = |v: &mut Vec<(String, bool)>, essential: bool| {
                    v.push((format!("seq {}", p.seq), essential));
                    if let Some(a) = p.ack {
                        v.push((format!("ack {a}"), essential));
                    }
                };
                match &p.app {
                    Some(a) => v.push((a.clone(), true)),
                    None => seq_parts(&mut v, true),
                }
                if p.len > 0 {
                    v.push((format!("len {}", p.len), true));
                }
                if p.window == 0 && !p.flags.rst() {
                    v.push(("win 0".into(), true));
                }
                if p.show_ttl {
                    let t = match p.usual_ttl {
                        Some(u) if u != p.ttl => format!("TTL {} (usual {u})", p.ttl),
                        _ => format!("TTL {}", p.ttl),
                    };
                    v.push((t, true));
                }
                if let Some(n) = p.note {
                    v.push((n.to_string(), true));
                }
                if p.app.is_some() {
                    seq_parts(&mut v, false);
                }
            }
            RowKind::Icmp {
                from,
                kind,
                icmp_type,
                code,
                ttl,
            } => {
                v.push((
                    format!("ICMP {}", icmp_kind(*kind, *icmp_type, *code)),
                    true,
                ));
                v.push((format!("from {from}"), true));
                v.push((format!("TTL {ttl}"), false));
            }
            RowKind::Run {
                data_segments,
                bytes,
                acks,
                seq,
                last_ack,
                zero_window,
                unusual_ttl,
            } => {
                if *data_segments > 0 {
                    let s = if *data_segments == 1 { "" } else { "s" };
                    v.push((
                        format!("× {data_segments} data segment{s}, {}", size(*bytes)),
                        true,
                    ));
                    if *acks > 0 {
                        let s = if *acks == 1 { "" } else { "s" };
                        v.push((format!("(+{acks} ACK{s})"), true));
                    }
                    if let Some(t) = unusual_ttl {
                        v.push((format!("TTL {t}"), true));
                    }
                    if let Some((a, b)) = seq {
                        v.push((format!("seq {a}:{b}"), false));
                    }
                } else {
                    v.push((format!("× {acks} ACKs"), true));
                    if let Some(a) = last_ack {
                        v.push((format!("ack {a}"), true));
                    }
                    if *zero_window {
                        v.push(("win 0".into(), true));
                    }
                    if let Some(t) = unusual_ttl {
                        v.push((format!("TTL {t}"), true));
                    }
                }
            }
            RowKind::Omitted { rows, bytes } => {
                v.push((
                    format!(
                        "… {rows} rows omitted: {} packets, {} …",
                        self.packets,
                        size(*bytes)
                    ),
                    true,
                ));
            }
        }
        v
    }
}

/// An ICMP error in words.
fn icmp_kind(kind: IcmpErrorKind, t: u8, code: u8) -> String {
    match kind {
        IcmpErrorKind::NetUnreachable => "net unreachable".into(),
        IcmpErrorKind::HostUnreachable => "host unreachable".into(),
        IcmpErrorKind::ProtocolUnreachable => "protocol unreachable".into(),
        IcmpErrorKind::PortUnreachable => "port unreachable".into(),
        IcmpErrorKind::AdminProhibited => "admin prohibited".into(),
        IcmpErrorKind::FragmentationNeeded => "fragmentation needed".into(),
        IcmpErrorKind::TimeExceeded => "time exceeded".into(),
        IcmpErrorKind::OtherUnreachable => format!("unreachable (type {t} code {code})"),
    }
}

/// A byte count: exact below 100 000, else in KiB / MiB / GiB.
pub fn size(b: u64) -> String {
    const K: f64 = 1024.0;
    let f = b as f64;
    if b < 100_000 {
        format!("{b} B")
    } else if f < K * K * 10.0 {
        format!("{:.1} KiB", f / K)
    } else if f < K * K * K * 10.0 {
        format!("{:.1} MiB", f / (K * K))
    } else {
        format!("{:.1} GiB", f / (K * K * K))
    }
}

/// A duration, short: `40 µs`, `1.25 ms`, `10.6 ms`, `7.99 s`, `125 s`, `3 d`
/// (exact decimals rounded half away from zero, as [`Nanos`] writes them).
pub fn duration(ns: i64) -> String {
    const DAY: u64 = 86_400_000_000_000;
    let sign = if ns < 0 { "-" } else { "" };
    let a = ns.unsigned_abs();
    let t = Nanos(ns);
    if a < 1_000_000 {
        format!("{sign}{} µs", a / 1000)
    } else if a < 10_000_000 {
        format!("{} ms", t.ms(2))
    } else if a < 1_000_000_000 {
        format!("{} ms", t.ms(1))
    } else if a < 60_000_000_000 {
        format!("{} s", t.secs(2))
    } else if a < DAY {
        format!("{} s", t.secs(0))
    } else {
        format!(
            "{sign}{} d",
            (u128::from(a) + u128::from(DAY / 2)) / u128::from(DAY)
        )
    }
}

/// One connection's ladder: who talked, what they sent, and the verdict.
#[derive(Debug, Clone)]
pub struct Ladder {
    pub id: u64,
    /// `ip:port` of each side.
    pub client: String,
    pub server: String,
    /// The server's name (TLS SNI, HTTP Host or DNS), when known.
    pub server_name: Option<String>,
    /// What the connection was for (the name, and the Go module fetched).
    pub target: Option<String>,
    pub verdict: VerdictKind,
    pub stage: Option<Stage>,
    pub confidence: Option<Confidence>,
    pub explanation: Option<String>,
    pub evidence: Vec<EvidenceReport>,
    pub rows: Vec<Row>,
    /// Packets of the connection read (TCP segments and ICMP errors).
    pub packets: u64,
    pub first_frame: u64,
    pub last_frame: u64,
    /// The usual TTL of the client's and the server's packets (RSTs aside).
    pub usual_ttl: [Option<u8>; 2],
    /// The median gap between consecutive packets (approximate: within 10 %).
    pub median_gap_ns: Option<i64>,
}

impl Ladder {
    /// An empty ladder for a connection report (rows are added by [`collect`]).
    pub fn from_report(r: &ConnectionReport) -> Ladder {
        Ladder {
            id: r.id,
            client: crate::decimal::endpoint(r.client()),
            server: crate::decimal::endpoint(r.server()),
            server_name: r.server_name.clone(),
            target: r.target.clone(),
            verdict: r.verdict,
            stage: r.stage,
            confidence: r.confidence,
            explanation: r.explanation.clone(),
            evidence: r.evidence.clone(),
            rows: Vec::new(),
            packets: 0,
            first_frame: r.first_frame,
            last_frame: r.last_frame,
            usual_ttl: [None, None],
            median_gap_ns: None,
        }
    }

    /// Whether frame `n` is cited as evidence.
    pub fn is_evidence(&self, n: u64) -> bool {
        self.evidence.iter().any(|e| e.frame == n)
    }
}

/// Reads `path`, analyses it (with `opts`, as `analyze` does), and returns
/// a ladder per requested connection id, in the order asked; with no ids,
/// one per failed connection when `failed_only`, else one per connection.
///
/// The capture is read twice, so `path` cannot be standard input (`-`).
/// An unknown id is an error that names the ids the capture has.
pub fn collect(
    path: &Path,
    ids: &[u64],
    failed_only: bool,
    opts: &Settings,
) -> Result<Vec<Ladder>, String> {
    if path.as_os_str() == "-" {
        return Err(
            "the ladder reads the capture twice, so it needs a file, not standard input".into(),
        );
    }
    let name = path.display().to_string();
    let mut open = || open_path(path);
    collect_from(&mut open, &name, ids, failed_only, opts)
}

/// [`collect`] over any source: `open` is called twice and must yield the
/// same frames both times (tests use [`crate::source::MemorySource`]).
pub fn collect_from(
    open: &mut dyn FnMut() -> Result<Box<dyn PacketSource>, SourceError>,
    name: &str,
    ids: &[u64],
    failed_only: bool,
    opts: &Settings,
) -> Result<Vec<Ladder>, String> {
    let fail = |e: SourceError| format!("{name}: {e}");
    let mut src = open().map_err(fail)?;
    let sink = if ids.is_empty() && failed_only {
        Collect::listed()
    } else {
        Collect::every()
    };
    let report =
        analyze_collect(src.as_mut(), name, opts, sink).map_err(|e| format!("{name}: {e}"))?;
    drop(src);
    let chosen: Vec<&ConnectionReport> = if ids.is_empty() {
        report
            .connections
            .iter()
            .filter(|c| !failed_only || c.verdict.is_failure())
            .collect()
    } else {
        let mut v = Vec::with_capacity(ids.len());
        for id in ids {
            match report.connections.iter().find(|c| c.id == *id) {
                Some(c) => v.push(c),
                None => {
                    let n = report.summary.connections;
                    let have = match n {
                        0 => "it has no TCP connection".to_string(),
                        1 => "it has connection 0".to_string(),
                        n => format!("its connections are 0 to {}", n - 1),
                    };
                    return Err(format!("{name}: no connection #{id} ({have})"));
                }
            }
        }
        v
    };
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let mut collectors: Vec<Collector> = chosen.iter().map(|r| Collector::new(r)).collect();
    let mut frames = FrameSelector::default();
    for (i, r) in chosen.iter().enumerate() {
        frames.add(r.client(), r.server(), r.first_frame, r.last_frame, i);
    }
    frames.seal();
    let last = frames.last_frame();
    let mut src = open().map_err(fail)?;
    // A read error now only cuts the ladders short: the first pass read
    // the same bytes.
    while let Ok(Some(f)) = src.next_frame() {
        if f.number > last {
            break;
        }
        let Ok(decoded) = decode_frame(&f) else {
            continue;
        };
        let Some(&i) = decoded
            .tcp_tuple()
            .and_then(|(a, b)| frames.get(a, b, f.number))
        else {
            continue;
        };
        let what = match decoded {
            Decoded::Tcp(seg) => Seen::Tcp(seg),
            Decoded::IcmpError(e) => Seen::Icmp(e),
            _ => continue,
        };
        collectors[i].push(f.number, f.ts, &what);
    }
    Ok(chosen
        .iter()
        .zip(collectors)
        .map(|(r, c)| c.finish(Ladder::from_report(r)))
        .collect())
}

type Endpoint = (IpAddr, u16);

enum Seen<'a> {
    Tcp(crate::decode::TcpSegment<'a>),
    Icmp(crate::decode::IcmpError),
}

/// A run being collected: data one way (`data_dir`) with pure ACKs the
/// other way (`ack_dir`), either possibly absent.
#[derive(Debug)]
struct RunAcc {
    data_dir: Option<Direction>,
    ack_dir: Option<Direction>,
    data: u64,
    bytes: u64,
    seq: Option<(u32, u32)>,
    acks: u64,
    last_ack: Option<u32>,
    zero_window: bool,
    data_ttl: Option<u8>,
    ack_ttl: Option<u8>,
    first: (u64, Ts),
    last: (u64, Ts),
    count: u64,
    /// The rows of the first packets, drawn one by one if the run stays short.
    members: Vec<Row>,
}

/// What a packet can join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Like {
    /// Payload, flags ACK (and PSH) only, new data.
    Data,
    /// No payload, flags ACK only, not a keep-alive.
    PureAck,
    /// Anything else: drawn alone.
    Alone,
}

impl RunAcc {
    /// Adds the packet if it is like the run; false if it is not.
    fn accept(&mut self, row: &Row, like: Like, p: &Packet) -> bool {
        let back = |d: Direction| match d {
            Direction::ClientToServer => Direction::ServerToClient,
            _ => Direction::ClientToServer,
        };
        match like {
            Like::Data => {
                let ok = match self.data_dir {
                    Some(d) => d == row.dir && self.data_ttl == Some(p.ttl),
                    None => self.ack_dir.is_none_or(|a| a == back(row.dir)),
                };
                if !ok {
                    return false;
                }
                self.data_dir = Some(row.dir);
                self.data_ttl = Some(p.ttl);
                self.data += 1;
                self.bytes = self.bytes.saturating_add(u64::from(p.len));
                let end = p.seq.wrapping_add(p.len);
                self.seq = Some(match self.seq {
                    Some((a, _)) => (a, end),
                    None => (p.seq, end),
                });
            }
            Like::PureAck => {
                let zw = p.window == 0;
                let ok = match self.ack_dir {
                    Some(d) => {
                        d == row.dir && self.ack_ttl == Some(p.ttl) && self.zero_window == zw
                    }
                    None => self.data_dir.is_none_or(|d| d == back(row.dir)),
                };
                if !ok {
                    return false;
                }
                self.ack_dir = Some(row.dir);
                self.ack_ttl = Some(p.ttl);
                self.zero_window = zw;
                self.acks += 1;
                self.last_ack = p.ack;
            }
            Like::Alone => return false,
        }
        self.last = (row.last_frame, Ts(row.end_ns));
        self.count += 1;
        if self.count < MIN_RUN {
            self.members.push(row.clone());
        } else {
            self.members.clear();
        }
        true
    }

    fn start(row: &Row, like: Like, p: &Packet) -> RunAcc {
        let mut r = RunAcc {
            data_dir: None,
            ack_dir: None,
            data: 0,
            bytes: 0,
            seq: None,
            acks: 0,
            last_ack: None,
            zero_window: false,
            data_ttl: None,
            ack_ttl: None,
            first: (row.first_frame, Ts(row.t_ns)),
            last: (row.first_frame, Ts(row.t_ns)),
            count: 0,
            members: Vec::new(),
        };
        r.accept(row, like, p);
        r
    }

    /// The rows the run stands for: one, or its packets when it stayed short.
    fn into_rows(self) -> Vec<Row> {
        if self.count < MIN_RUN {
            return self.members;
        }
        let dir = self
            .data_dir
            .or(self.ack_dir)
            .unwrap_or(Direction::ClientToServer);
        vec![Row {
            dir,
            kind: RowKind::Run {
                data_segments: self.data,
                bytes: self.bytes,
                acks: self.acks,
                seq: self.seq,
                last_ack: self.last_ack,
                zero_window: self.zero_window,
                // Filled in by `finish`, once the usual TTL is known.
                unusual_ttl: if self.data > 0 {
                    self.data_ttl
                } else {
                    self.ack_ttl
                },
            },
            first_frame: self.first.0,
            last_frame: self.last.0,
            packets: self.count,
            t_ns: self.first.1.0,
            end_ns: self.last.1.0,
            gap_ns: None,
            silence_before: false,
            evidence: false,
        }]
    }
}

/// Gap histogram: 8 buckets per power of two of nanoseconds.
const GAP_BUCKETS: usize = 64 * 8;

/// Collects one connection's rows while the capture is read.
/// Labels for the frames the sniffers identified in a connection: the TLS
/// handshake messages and alerts, HTTP requests and response status lines.
fn app_labels(r: &ConnectionReport) -> BTreeMap<u64, String> {
    let mut m = BTreeMap::new();
    let mut add = |frame: Option<u64>, label: String| {
        if let Some(f) = frame {
            m.entry(f)
                .and_modify(|l: &mut String| {
                    l.push_str(", ");
                    l.push_str(&label);
                })
                .or_insert(label);
        }
    };
    if let Some(t) = &r.tls {
        add(
            t.client_hello_frame,
            match &t.sni {
                Some(n) => format!("ClientHello SNI {n}"),
                None => "ClientHello".to_string(),
            },
        );
        add(
            t.server_hello_frame,
            match &t.version {
                Some(v) => format!("ServerHello {v}"),
                None => "ServerHello".to_string(),
            },
        );
        if let Some(c) = &t.certificate {
            add(Some(c.frame), format!("Certificate by {}", c.issuer));
        }
        for a in &t.alerts {
            add(
                Some(a.frame),
                format!("alert {} {}", a.level, a.description),
            );
        }
    }
    for h in &r.http {
        let mut path: String = h.path.chars().take(60).collect();
        if path.len() < h.path.len() {
            path.push('…');
        }
        // A module request by what it asks for: the kind first, so that
        // it survives when the label is cut.
        let what = match &h.module {
            Some(m) => match (&m.module, &m.version) {
                (Some(module), Some(v)) => format!("{} {module}@{v}", m.kind.as_str()),
                (Some(module), None) => format!("{} {module}", m.kind.as_str()),
                _ => m.label.clone(),
            },
            None => path,
        };
        add(Some(h.frame), format!("{} {what}", h.method));
        if let Some(s) = h.status {
            add(h.status_frame, format!("HTTP {s}"));
        }
    }
    m
}

struct Collector {
    client: Endpoint,
    server: Endpoint,
    evidence: BTreeSet<u64>,
    /// What the sniffers said about some frames (see [`app_labels`]).
    app: BTreeMap<u64, String>,
    /// Base (initial) sequence number of each side.
    base: [Option<u32>; 2],
    /// Highest sequence number sent plus one, per side.
    high: [Option<u32>; 2],
    ttl_counts: [[u64; 256]; 2],
    first_ttl: [Option<u8>; 2],
    last_ts: Option<Ts>,
    gaps: Vec<u64>,
    packets: u64,
    run: Option<RunAcc>,
    head: Vec<Row>,
    tail: VecDeque<Row>,
    omitted: Option<Row>,
}

impl Collector {
    fn new(r: &ConnectionReport) -> Collector {
        let ep = |e: std::net::SocketAddr| (e.ip(), e.port());
        Collector {
            client: ep(r.client()),
            server: ep(r.server()),
            evidence: r.evidence.iter().map(|e| e.frame).collect(),
            app: app_labels(r),
            base: [None, None],
            high: [None, None],
            ttl_counts: [[0; 256]; 2],
            first_ttl: [None, None],
            last_ts: None,
            gaps: vec![0; GAP_BUCKETS],
            packets: 0,
            run: None,
            head: Vec::new(),
            tail: VecDeque::new(),
            omitted: None,
        }
    }

    fn push(&mut self, frame: u64, ts: Ts, what: &Seen<'_>) {
        self.packets += 1;
        let gap = self.last_ts.map(|l| ts.nanos_since(l));
        if let Some(g) = gap {
            let g = g.max(0) as u64;
            let i = if g == 0 {
                0
            } else {
                ((g as f64).log2() * 8.0) as usize
            };
            self.gaps[i.min(GAP_BUCKETS - 1)] += 1;
        }
        self.last_ts = Some(ts);
        let evidence = self.evidence.contains(&frame);
        let mut row = Row {
            dir: Direction::ClientToServer,
            kind: RowKind::Omitted { rows: 0, bytes: 0 },
            first_frame: frame,
            last_frame: frame,
            packets: 1,
            t_ns: ts.0,
            end_ns: ts.0,
            gap_ns: None,
            silence_before: false,
            evidence,
        };
        let seg = match what {
            Seen::Icmp(e) => {
                row.dir = if e.ip.dst == self.server.0 && e.ip.dst != self.client.0 {
                    Direction::ThirdToServer
                } else {
                    Direction::ThirdToClient
                };
                row.kind = RowKind::Icmp {
                    from: e.ip.src.to_string(),
                    kind: e.kind,
                    icmp_type: e.icmp_type,
                    code: e.code,
                    ttl: e.ip.ttl,
                };
                self.flush_run();
                self.push_row(row);
                return;
            }
            Seen::Tcp(seg) => seg,
        };
        let from_client = (seg.ip.src, seg.src_port) == self.client;
        row.dir = if from_client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let d = usize::from(!from_client);
        let f = seg.flags;
        let base = *self.base[d].get_or_insert(seg.seq);
        if f.ack() && self.base[1 - d].is_none() {
            self.base[1 - d] = Some(seg.ack.wrapping_sub(1));
        }
        let peer = self.base[1 - d].unwrap_or(0);
        let end = seg
            .seq
            .wrapping_add(seg.payload_len)
            .wrapping_add(u32::from(f.syn()) + u32::from(f.fin()));
        let note = match self.high[d] {
            Some(h) if seg.payload_len > 0 && !f.syn() && !after(end, h) => {
                if seg.payload_len <= 1 && seg.seq == h.wrapping_sub(1) {
                    Some("keep-alive")
                } else {
                    Some("retransmission")
                }
            }
            // A SYN or SYN/ACK sent again.
            Some(h) if f.syn() && h == end => Some("retransmission"),
            Some(h)
                if seg.payload_len == 0
                    && f.0 & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST) == 0
                    && seg.seq == h.wrapping_sub(1) =>
            {
                Some("keep-alive")
            }
            _ => None,
        };
        if self.high[d].is_none_or(|h| after(end, h)) {
            self.high[d] = Some(end);
        }
        if !f.rst() {
            self.ttl_counts[d][usize::from(seg.ip.ttl)] += 1;
            self.first_ttl[d].get_or_insert(seg.ip.ttl);
        }
        let p = Packet {
            flags: f,
            seq: seg.seq.wrapping_sub(base),
            ack: f.ack().then(|| seg.ack.wrapping_sub(peer)),
            len: seg.payload_len,
            ttl: seg.ip.ttl,
            show_ttl: false,
            usual_ttl: None,
            window: seg.window,
            note,
            app: self.app.get(&frame).cloned(),
        };
        let plain = note.is_none()
            && !evidence
            && p.app.is_none()
            && gap.is_none_or(|g| g < SILENCE_FLOOR_NS);
        let like = if !plain || !f.ack() {
            Like::Alone
        } else if f.0 & !(TcpFlags::ACK | TcpFlags::PSH) == 0 && p.len > 0 && p.window != 0 {
            Like::Data
        } else if f.0 == TcpFlags::ACK && p.len == 0 {
            Like::PureAck
        } else {
            Like::Alone
        };
        row.kind = RowKind::Packet(p.clone());
        if like == Like::Alone {
            self.flush_run();
            self.push_row(row);
            return;
        }
        if let Some(run) = self.run.as_mut()
            && run.accept(&row, like, &p)
        {
            return;
        }
        self.flush_run();
        self.run = Some(RunAcc::start(&row, like, &p));
    }

    fn flush_run(&mut self) {
        if let Some(run) = self.run.take() {
            for r in run.into_rows() {
                self.push_row(r);
            }
        }
    }

    /// Keeps the first and last `MAX_ROWS / 2` rows and every evidence
    /// row; the others are summed into an `Omitted` row.
    fn push_row(&mut self, row: Row) {
        if self.head.len() < MAX_ROWS / 2 {
            self.head.push(row);
            return;
        }
        self.tail.push_back(row);
        if self.tail.len() <= MAX_ROWS / 2 {
            return;
        }
        let Some(out) = self.tail.pop_front() else {
            return;
        };
        if out.evidence {
            if let Some(o) = self.omitted.take() {
                self.head.push(o);
            }
            self.head.push(out);
            return;
        }
        let bytes = out.bytes();
        match self.omitted.as_mut() {
            Some(o) => {
                o.last_frame = out.last_frame;
                o.end_ns = out.end_ns;
                o.packets = o.packets.saturating_add(out.packets);
                if let RowKind::Omitted { rows, bytes: b } = &mut o.kind {
                    *rows += 1;
                    *b = b.saturating_add(bytes);
                }
            }
            None => {
                self.omitted = Some(Row {
                    kind: RowKind::Omitted { rows: 1, bytes },
                    evidence: false,
                    ..out
                });
            }
        }
    }

    fn usual_ttl(&self, d: usize) -> Option<u8> {
        let counts = &self.ttl_counts[d];
        let first = self.first_ttl[d]?;
        let mut best = first;
        for (t, &n) in counts.iter().enumerate() {
            if n > counts[usize::from(best)] {
                best = t as u8;
            }
        }
        Some(best)
    }

    fn median_gap(&self) -> Option<i64> {
        let total: u64 = self.gaps.iter().sum();
        if total == 0 {
            return None;
        }
        let mut seen = 0;
        for (i, &n) in self.gaps.iter().enumerate() {
            seen += n;
            if seen * 2 >= total {
                if i == 0 {
                    return Some(0);
                }
                // The bucket's geometric middle.
                return Some(2f64.powf((i as f64 + 0.5) / 8.0) as i64);
            }
        }
        None
    }

    fn finish(mut self, mut ladder: Ladder) -> Ladder {
        self.flush_run();
        let usual = [self.usual_ttl(0), self.usual_ttl(1)];
        let median = self.median_gap();
        let mut rows = std::mem::take(&mut self.head);
        rows.extend(self.omitted.take());
        rows.extend(self.tail.drain(..));
        let t0 = rows.first().map_or(0, |r| r.t_ns);
        let mut prev_end: Option<i64> = None;
        for r in &mut rows {
            let gap = prev_end.map(|p| r.t_ns.saturating_sub(p));
            prev_end = Some(r.end_ns);
            r.gap_ns = gap;
            r.silence_before = gap.is_some_and(|g| {
                g >= SILENCE_NS
                    || (g >= SILENCE_FLOOR_NS
                        && median.is_none_or(|m| g >= m.saturating_mul(SILENCE_MEDIAN_FACTOR)))
            });
            r.t_ns = r.t_ns.saturating_sub(t0);
            r.end_ns = r.end_ns.saturating_sub(t0);
            let side_usual = r.dir.side().and_then(|s| usual[s]);
            match &mut r.kind {
                RowKind::Packet(p) => {
                    p.usual_ttl = side_usual;
                    p.show_ttl = p.flags.rst() || side_usual.is_some_and(|u| u != p.ttl);
                }
                RowKind::Run { unusual_ttl, .. }
                    if unusual_ttl.is_some() && *unusual_ttl == side_usual =>
                {
                    *unusual_ttl = None;
                }
                _ => {}
            }
        }
        ladder.rows = rows;
        ladder.packets = self.packets;
        ladder.usual_ttl = usual;
        ladder.median_gap_ns = median;
        ladder
    }
}

/// Whether sequence number `a` is after `b` (modulo 2^32).
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}
