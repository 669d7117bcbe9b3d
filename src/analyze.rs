//! The pipeline: source → decode → flows → verdict → report model.
//!
//! [`analyze`] is the one entry point for a capture: it reads every frame
//! and hands each connection's report to a [`ConnectionSink`] (every
//! output is one), as each closes or at the end, as the sink wants; it
//! returns the capture's facts, DNS queries and summary.
//! [`analyze_collect`] is the same into a [`Collect`] sink, for callers
//! that want the connections in the report.
//!
//! [`Engine`] takes frames one at a time. For a live capture,
//! [`Engine::take_final`] hands out each connection as soon as its verdict
//! can no longer change ([`verdict::is_final`]), so it can be printed at
//! once and its state dropped.

use crate::decode::{self, Decoded, Detached, OtherKind, TcpSegment};
use crate::flows::{self, Connection, Dir, Event, FlowTable};
use crate::packet::link;
use crate::report::{
    AppSettings, CaptureInfo, Collect, ConnectionReport, ConnectionSink, DnsReport, ModuleFetches,
    Report, Summary, Wants, auth_required, connection_report, dns_report, is_listed,
};
use crate::sniff::dns::{self, DnsTracker, Transport};
use crate::source::batch::{BATCH_FRAMES, FrameAt, FrameBatch};
use crate::source::{Frame, PacketSource, SourceError};
use crate::time::{Nanos, Ts};
use crate::verdict::{self, Context, Verdict, VerdictKind};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

/// Analysis settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Silence after which a request left waiting is a stall.
    pub stall_after_ns: i64,
    /// Open connections kept at most; beyond it the least recently active
    /// are evicted and counted.
    pub max_connections: usize,
    /// How often, in packets, a whole-file analysis that drops `ok`
    /// connections hands out the closed ones ([`analyze`] with a sink that
    /// takes them as they close).
    pub sweep_every: u64,
    /// How connections are named and judged at the application level
    /// (module proxies, expected certificate issuers).
    pub app: AppSettings,
}

/// DNS queries that ended `ok` kept for the report; beyond this they are
/// only counted (failures are always kept).
const MAX_OK_DNS_KEPT: usize = 100_000;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stall_after_ns: Context::DEFAULT_STALL_AFTER_NS,
            max_connections: 1_000_000,
            sweep_every: 8192,
            app: AppSettings::default(),
        }
    }
}

/// The analysis state for one capture.
#[derive(Debug)]
pub struct Engine {
    opts: Settings,
    table: FlowTable,
    summary: Summary,
    link_types: BTreeSet<u32>,
    /// The link type of the packet before (in `link_types` already).
    last_link_type: Option<u32>,
    first_ts: Option<Ts>,
    max_ts: Option<Ts>,
    /// Packets not decoded because of their link type.
    unsupported_link_packets: u64,
    dns: DnsTracker,
    /// DNS queries whose outcome is final, for the report.
    dns_done: Vec<DnsReport>,
    dns_ok_dropped: u64,
    /// Judges the connections this engine hands out itself.
    judge: Judge,
}

/// Connections taken out of the table and named, ready to be reported
/// ([`Judge::report_all`]) on any thread; classified and counted already
/// (`verdicts`, then only those that will be listed are left), or not.
#[derive(Debug)]
pub struct Closed {
    #[allow(clippy::vec_box)] // the table's own boxes, moved
    conns: Vec<Box<Connection>>,
    verdicts: Option<Vec<Verdict>>,
    start: Ts,
    now: Ts,
}

impl Closed {
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }
}

/// Classifies, counts and reports connections taken out of the table: the
/// engine's own, or a second one on the thread that reads, whose counts
/// join the report at the end ([`Judge::add_counts_to`]).
#[derive(Debug, Clone)]
pub struct Judge {
    app: AppSettings,
    keep_ok: bool,
    stall_after_ns: i64,
    connections: u64,
    failed: u64,
    verdicts: [u64; VerdictKind::ALL.len()],
    module_fetches: u64,
    auth_required: u64,
    /// Counts the `ok` module fetches that are not listed.
    fetches: ModuleFetches,
}

/// Starts loading the connection after the `i`th of `conns` (see
/// [`flows::prefetch`]).
#[allow(clippy::vec_box)]
fn prefetch_after(conns: &[Box<Connection>], i: usize) {
    if let Some(next) = conns.get(i + 1) {
        flows::prefetch(next);
    }
}

impl Judge {
    /// A judge that reports `ok` connections too (`keep_ok`), or only
    /// counts them unless an authentication gateway answered them.
    pub fn new(opts: &Settings, keep_ok: bool) -> Judge {
        Judge {
            app: opts.app.clone(),
            keep_ok,
            stall_after_ns: opts.stall_after_ns,
            connections: 0,
            failed: 0,
            verdicts: [0; VerdictKind::ALL.len()],
            module_fetches: 0,
            fetches: ModuleFetches::new(&opts.app),
            auth_required: 0,
        }
    }

    /// Classifies and counts `conns` (named, taken out of the table at
    /// `now`); the `ok` ones that will not be listed go to `done`, for
    /// the table to reuse ([`Engine::recycle`]) on the thread that
    /// allocated them.
    #[allow(clippy::vec_box)] // the table's own boxes, moved
    pub fn classify_all(
        &mut self,
        conns: Vec<Box<Connection>>,
        start: Ts,
        now: Ts,
        done: &mut Vec<Box<Connection>>,
    ) -> Closed {
        let mut verdicts = Vec::new();
        let mut kept = Vec::new();
        let mut conns = conns.into_iter().peekable();
        while let Some(c) = conns.next() {
            if let Some(next) = conns.peek() {
                flows::prefetch(next);
            }
            match self.classify(&c, now) {
                Some(v) => {
                    verdicts.push(v);
                    kept.push(c);
                }
                None => done.push(c),
            }
        }
        Closed {
            conns: kept,
            verdicts: Some(verdicts),
            start,
            now,
        }
    }

    /// Reports of the connections of `closed`, by id; classified and
    /// counted first if they were not (`ok` ones then only counted unless
    /// kept).
    pub fn report_all(&mut self, closed: &Closed) -> Vec<ConnectionReport> {
        let (start, now) = (closed.start, closed.now);
        match &closed.verdicts {
            Some(vs) => closed
                .conns
                .iter()
                .enumerate()
                .zip(vs)
                .map(|((i, c), v)| {
                    prefetch_after(&closed.conns, i);
                    self.report(c, v, start, now)
                })
                .collect(),
            None => closed
                .conns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    prefetch_after(&closed.conns, i);
                    self.judge(c, start, now)
                })
                .collect(),
        }
    }

    /// Classifies and counts one connection, and reports it unless it is
    /// an `ok` one that is not kept.
    fn judge(&mut self, c: &Connection, start: Ts, now: Ts) -> Option<ConnectionReport> {
        let v = self.classify(c, now)?;
        Some(self.report(c, &v, start, now))
    }

    /// Classifies and counts one connection; its verdict, unless it is an
    /// `ok` one that will not be listed (then only counted: the report of
    /// each would cost more than its analysis).
    fn classify(&mut self, c: &Connection, now: Ts) -> Option<Verdict> {
        let ctx = Context {
            capture_end: now,
            stall_after_ns: self.stall_after_ns,
        };
        let mut v = verdict::classify_without_warnings(c, &ctx);
        self.connections += 1;
        if v.kind.is_failure() {
            self.failed += 1;
        }
        if let Some(i) = VerdictKind::ALL.iter().position(|k| *k == v.kind) {
            self.verdicts[i] += 1;
        }
        if v.kind == VerdictKind::Ok && !self.keep_ok && auth_required(c).is_none() {
            if self.fetches.is_module_fetch(c) {
                self.module_fetches += 1;
            }
            return None;
        }
        verdict::add_warnings(c, &mut v);
        Some(v)
    }

    /// The report of a connection [`Judge::classify`] kept, counted.
    fn report(&mut self, c: &Connection, v: &Verdict, start: Ts, now: Ts) -> ConnectionReport {
        let r = connection_report(c, v, start, now, &self.app);
        if r.module_fetch {
            self.module_fetches += 1;
        }
        if r.auth_required.is_some() {
            self.auth_required += 1;
        }
        r
    }

    /// Adds what it counted to `s`.
    pub fn add_counts_to(&self, s: &mut Summary) {
        s.connections += self.connections;
        s.failed += self.failed;
        for (k, n) in VerdictKind::ALL.iter().zip(self.verdicts) {
            *s.verdicts.entry(k.as_str()).or_insert(0) += n;
        }
        s.module_fetches += self.module_fetches;
        s.auth_required += self.auth_required;
    }
}

impl Engine {
    /// An engine that reports every connection, `ok` ones included.
    pub fn new(opts: Settings) -> Engine {
        Engine::keeping(opts, true)
    }

    /// An engine that reports `ok` connections too (`keep_ok`), or only
    /// counts them (see [`Judge::new`]).
    fn keeping(opts: Settings, keep_ok: bool) -> Engine {
        let mut summary = Summary::default();
        for k in VerdictKind::ALL {
            summary.verdicts.insert(k.as_str(), 0);
        }
        Engine {
            judge: Judge::new(&opts, keep_ok),
            table: FlowTable::with_capacity_limit(opts.max_connections),
            opts,
            summary,
            link_types: BTreeSet::new(),
            last_link_type: None,
            first_ts: None,
            max_ts: None,
            unsupported_link_packets: 0,
            dns: DnsTracker::new(dns::DEFAULT_TIMEOUT_NS),
            dns_done: Vec::new(),
            dns_ok_dropped: 0,
        }
    }

    /// The latest capture time seen.
    pub fn now(&self) -> Option<Ts> {
        self.max_ts
    }

    /// Open connections.
    pub fn open_connections(&self) -> usize {
        self.table.open_connections()
    }

    /// Packets read so far.
    pub fn packets(&self) -> u64 {
        self.summary.packets
    }

    /// Feeds one frame.
    pub fn push(&mut self, frame: &Frame<'_>) {
        self.push_decoded(frame, decode::decode_frame(frame));
    }

    /// Feeds one frame decoded on another thread ([`Detached`]): a TCP
    /// segment is read where it is kept, with its payload from
    /// `frame.data`, not copied out first ([`Detached::attach`]).
    pub fn push_detached(&mut self, frame: &Frame<'_>, d: &Detached) {
        match d.tcp(frame.data) {
            Some((seg, payload)) => {
                let at = self.note_frame(frame);
                self.tcp(seg, payload, at);
            }
            None => self.push_decoded(frame, d.attach(frame.data)),
        }
    }

    /// Counts a frame and notes its time and link type; where it is.
    fn note_frame(&mut self, frame: &Frame<'_>) -> Event {
        self.summary.packets += 1;
        self.first_ts.get_or_insert(frame.ts);
        self.max_ts = Some(self.max_ts.map_or(frame.ts, |m| m.max(frame.ts)));
        // A set insert per packet cost a B-tree search; captures rarely
        // change link type.
        if self.last_link_type != Some(frame.linktype) {
            self.last_link_type = Some(frame.linktype);
            self.link_types.insert(frame.linktype);
        }
        Event {
            frame: frame.number,
            ts: frame.ts,
        }
    }

    /// A TCP segment, its captured payload apart (`seg.payload` unread).
    fn tcp(&mut self, seg: &TcpSegment<'_>, payload: &[u8], at: Event) {
        if seg.options_truncated {
            self.summary.tcp_options_truncated += 1;
        }
        self.table.on_tcp_with(seg, payload, at);
        for m in self.table.dns_out.drain(..) {
            self.dns
                .on_message(m.at, m.src, m.dst, Transport::Tcp, &m.msg);
        }
    }

    /// Feeds one frame that was decoded already (`decoded` is
    /// [`decode::decode_frame`] of it).
    pub fn push_decoded(
        &mut self,
        frame: &Frame<'_>,
        decoded: Result<Decoded<'_>, decode::DecodeError>,
    ) {
        let at = self.note_frame(frame);
        // By reference: the segment is not moved out (88 bytes a packet).
        match &decoded {
            Ok(Decoded::Tcp(seg)) => self.tcp(seg, seg.payload, at),
            Ok(Decoded::IcmpError(err)) => self.table.on_icmp(err, at),
            Ok(Decoded::Udp(d)) => {
                *self.summary.other_packets.entry("UDP").or_insert(0) += 1;
                if (d.src_port == 53 || d.dst_port == 53)
                    && let Ok(msg) = dns::parse(d.payload)
                {
                    self.dns.on_message(
                        at,
                        (d.ip.src, d.src_port),
                        (d.ip.dst, d.dst_port),
                        Transport::Udp,
                        &msg,
                    );
                }
            }
            Ok(Decoded::Other(kind)) => {
                let k = match kind {
                    OtherKind::NonIp => "non-IP",
                    OtherKind::Udp => "UDP",
                    OtherKind::Icmp => "ICMP",
                    OtherKind::OtherIpProto => "other IP protocol",
                };
                *self.summary.other_packets.entry(k).or_insert(0) += 1;
            }
            Err(e) => {
                let key = match e {
                    decode::DecodeError::UnsupportedLinkType(l) => {
                        self.unsupported_link_packets += 1;
                        format!("{} {l}", e.reason())
                    }
                    _ => e.reason().to_string(),
                };
                *self.summary.not_decoded.entry(key).or_insert(0) += 1;
            }
        }
    }

    /// When packets were read and every one of them is of a link type we
    /// do not decode: the error that says so, naming the link types.
    pub fn unsupported_link_types(&self) -> Option<SourceError> {
        if self.summary.packets == 0 || self.unsupported_link_packets < self.summary.packets {
            return None;
        }
        let types: Vec<String> = self
            .link_types
            .iter()
            .filter(|l| !link::is_supported(**l))
            .map(|&l| match link::name(l) {
                "unknown" => l.to_string(),
                n => format!("{l} ({n})"),
            })
            .collect();
        let s = if types.len() == 1 { "" } else { "s" };
        Some(SourceError::UnsupportedLinkType(format!(
            "unsupported link type{s} {}",
            types.join(", ")
        )))
    }

    fn context(&self, now: Ts) -> Context {
        Context {
            capture_end: now,
            stall_after_ns: self.opts.stall_after_ns,
        }
    }

    /// Takes back connections handed out and reported, to reuse their
    /// boxes ([`FlowTable::recycle`]).
    pub fn recycle(&mut self, closed: Closed) {
        self.table.recycle(closed.conns);
    }

    /// Connections whose verdict is final at capture time `now` (which may
    /// run ahead of the last packet on a quiet live link), classified and
    /// removed from the table. Counted in the summary.
    pub fn take_final(&mut self, now: Ts) -> Vec<ConnectionReport> {
        let ctx = self.context(now);
        let conns = self.table.take_final(now, |c| verdict::is_final(c, &ctx));
        let closed = self.hand_out(now, conns, true);
        self.judge.report_all(&closed)
    }

    /// Connections closed (RST, or FIN both ways) and quiet for
    /// [`verdict::CLOSE_GRACE_NS`] at `now`, classified and removed: their
    /// verdict no longer depends on what comes later. Counted in the summary.
    pub fn take_closed(&mut self, now: Ts) -> Vec<ConnectionReport> {
        let closed = self.take_closed_unreported(now, true);
        self.judge.report_all(&closed)
    }

    /// [`Engine::take_closed`] without the reports, for a [`Judge`] on
    /// another thread: the connections are named with what the engine
    /// knows (the server's SYN/ACK TTL elsewhere, the DNS name); with
    /// `classify`, also classified and counted here, and the `ok` ones that
    /// will not be listed dropped here, else all left to that judge. What
    /// the other judge handles it counts: add both judges' counts.
    pub fn take_closed_unreported(&mut self, now: Ts, classify: bool) -> Closed {
        let conns = self.table.take_closed(now, verdict::CLOSE_GRACE_NS);
        self.hand_out(now, conns, classify)
    }

    /// Names the connections removed from the table (by id), classifies
    /// them if asked, and hands out the DNS queries that are final at `now`.
    #[allow(clippy::vec_box)] // the table's own boxes, not copied out
    fn hand_out(&mut self, now: Ts, mut conns: Vec<Box<Connection>>, classify: bool) -> Closed {
        let start = self.first_ts.unwrap_or_default();
        for i in 0..conns.len() {
            prefetch_after(&conns, i);
            self.name(&mut conns[i]);
        }
        let queries = self.dns.take_final(now);
        self.keep_dns(queries, start, now);
        if classify {
            let mut done = Vec::new();
            let closed = self.judge.classify_all(conns, start, now, &mut done);
            self.table.recycle(done);
            closed
        } else {
            Closed {
                conns,
                verdicts: None,
                start,
                now,
            }
        }
    }

    /// What only the engine knows about a connection it hands out.
    fn name(&self, c: &mut Connection) {
        // An RST that was the server's first packet: compare it with the
        // server's SYN/ACKs anywhere in the capture (some may come later).
        if c.s2c().rst.is_some_and(|r| r.prior_ttl.is_none())
            && let Some(t) = self.table.synack_ttl(c.server.0)
        {
            c.note_other_conn_ttl(Dir::ServerToClient, t);
        }
        // The resolver itself is not named after the answers it gave.
        if c.server.1 != 53 {
            c.dns_name = self
                .dns
                .name_before(c.server.0, c.first.frame)
                .map(str::to_string);
        }
    }

    fn keep_dns(&mut self, queries: Vec<dns::DnsQuery>, start: Ts, now: Ts) {
        for q in queries {
            let r = dns_report(&q, start, now, &self.opts.app);
            self.summary.dns_queries += 1;
            if r.is_failure() {
                self.summary.dns_failures += 1;
            } else if self.dns_done.len() >= MAX_OK_DNS_KEPT {
                self.dns_ok_dropped += 1;
                continue;
            }
            self.dns_done.push(r);
        }
    }

    /// DNS queries whose outcome became final since the last call (for
    /// streaming output); they are no longer part of the final report.
    pub fn take_dns(&mut self) -> Vec<DnsReport> {
        std::mem::take(&mut self.dns_done)
    }

    /// Classifies every connection still open at `end` (the capture's end)
    /// and returns the report: those connections, plus the summary of all.
    pub fn finish(
        mut self,
        end: Option<Ts>,
        name: &str,
        format: String,
        mut warnings: Vec<String>,
    ) -> Report {
        let start = self.first_ts.unwrap_or_default();
        let end = end.or(self.max_ts).unwrap_or_default();
        let stats = self.table.stats.clone();
        let conns = self.table.drain_connections();
        let mut reports = Vec::with_capacity(conns.len());
        // Each connection is dropped once reported: with `--format json`
        // they are every connection of the capture.
        for mut c in conns {
            self.name(&mut c);
            reports.extend(self.judge.judge(&c, start, end));
        }
        let queries = self.dns.finish(end);
        self.keep_dns(queries, start, end);
        let mut dns = std::mem::take(&mut self.dns_done);
        dns.sort_by_key(|d| d.first_frame);
        if self.dns_ok_dropped > 0 {
            warnings.push(format!(
                "{} answered DNS queries beyond the first {MAX_OK_DNS_KEPT} are counted, not listed",
                self.dns_ok_dropped
            ));
        }
        let mut summary = self.summary;
        self.judge.add_counts_to(&mut summary);
        summary.tcp_packets = stats.tcp_packets;
        summary.icmp_errors = stats.icmp_errors;
        summary.icmp_unmatched = stats.icmp_unmatched;
        summary.after_verdict_packets = stats.after_verdict_packets;
        summary.evicted = stats.evicted;
        Report {
            capture: CaptureInfo {
                file: name.to_string(),
                format,
                link_types: self
                    .link_types
                    .iter()
                    .map(|l| match link::name(*l) {
                        "unknown" => format!("LINKTYPE {l}"),
                        n => n.to_string(),
                    })
                    .collect(),
                first_packet_time: self.first_ts.map(|t| t.rfc3339()),
                last_packet_time: self.max_ts.map(|t| t.rfc3339()),
                span_ms: Nanos::between(start, self.max_ts.unwrap_or_default()),
                warnings,
                live: None,
            },
            connections: reports,
            dns,
            summary,
        }
    }
}

/// Why [`analyze`] failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The capture could not be read at all, or holds no packet of a link
    /// type we decode.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The sink could not take a connection (its output failed: a closed
    /// pipe, a full disk); the message says which and where.
    #[error("{0}")]
    Sink(std::io::Error),
}

/// Reads every frame of `src` (named `name` in the report) and hands each
/// connection's report to `sink` once its verdict is final: as it closed,
/// or at the end of the capture, as the sink [`Wants`]. Returns the report
/// of the capture: its facts, the DNS queries and the summary, which
/// counts every connection (its `connections` are empty: they went to the
/// sink). `progress` is called every [`PROGRESS_EVERY`] packets and once at
/// the end.
///
/// A capture cut short yields the report of what was read, with a warning.
/// A sink that breaks ends the reading there; if it says why
/// ([`ConnectionSink::error`]) that is the error.
pub fn analyze(
    src: &mut dyn PacketSource,
    name: &str,
    opts: &Settings,
    sink: &mut dyn ConnectionSink,
    progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<Report, AnalyzeError> {
    let wants = sink.wants();
    // Once the sink said stop, it is handed nothing more.
    let mut stopped = false;
    let mut pass = |c: ConnectionReport| {
        stopped = stopped || sink.connection(c).is_break();
        !stopped
    };
    let result = match wants {
        Wants::Listed => each_listed(src, name, opts, progress, &mut pass),
        Wants::EveryAsItCloses => run(src, name, opts, true, Some(&mut pass), progress),
        Wants::EveryAtEnd => run(src, name, opts, true, None, progress),
    };
    // Those still open at the end (every one, at the end only), by id.
    let result = result.map(|mut report| {
        let rest = std::mem::take(&mut report.connections);
        if !stopped {
            let _ = sink.rest(rest);
        }
        report
    });
    if let Some(e) = sink.error() {
        return Err(AnalyzeError::Sink(e));
    }
    Ok(result?)
}

/// [`analyze`] into a [`Collect`] sink: the report with its connections,
/// by id (every connection, or the listed ones).
pub fn analyze_collect(
    src: &mut dyn PacketSource,
    name: &str,
    opts: &Settings,
    mut sink: Collect,
) -> Result<Report, AnalyzeError> {
    let mut report = analyze(src, name, opts, &mut sink, None)?;
    report.connections = sink.into_sorted();
    Ok(report)
}

/// Runs the analysis without keeping `ok` connections and hands every
/// listed one to `keep`, as it closes; `keep` returns false to stop
/// reading. The report's `connections` hold the listed connections still
/// open at the end, by id; its summary counts every connection.
fn each_listed(
    src: &mut dyn PacketSource,
    name: &str,
    opts: &Settings,
    progress: Option<&mut dyn FnMut(&Progress)>,
    keep: &mut dyn FnMut(ConnectionReport) -> bool,
) -> Result<Report, SourceError> {
    let mut each = |c: ConnectionReport| !is_listed(&c) || keep(c);
    let mut report = run(src, name, opts, false, Some(&mut each), progress)?;
    report.connections.retain(is_listed);
    Ok(report)
}

/// How far a whole-file analysis has got, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Input bytes consumed, when the source knows.
    pub bytes: Option<u64>,
    pub packets: u64,
    pub open_connections: usize,
}

/// Packets between two calls of a progress callback.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// Puts the frames read into batches for the tracking thread: placed in
/// the source's own buffers when it hands them over
/// ([`crate::source::Handoff`]: no copy), else copied.
struct Batcher {
    batch: FrameBatch<Detached>,
    handoff: bool,
    /// Buffers the source had detached when the batch began.
    generation: u64,
}

impl Batcher {
    fn new(src: &mut dyn PacketSource) -> Batcher {
        Batcher {
            batch: FrameBatch::new(),
            handoff: src.handoff().map(|h| h.enable()).is_some(),
            generation: 0,
        }
    }

    /// Adds `f`, the frame `src` returned last, decoded straight into the
    /// batch. Its place is an address until [`Batcher::placed`], which
    /// must follow every call, makes it an offset in the source's buffer.
    fn place(&mut self, f: &Frame<'_>) {
        let at = FrameAt {
            number: f.number,
            ts: f.ts,
            linktype: f.linktype,
            orig_len: f.orig_len,
            start: f.data.as_ptr() as usize,
            len: f.data.len(),
        };
        self.batch.push_at(at, |d| decode::decode_detached(f, d));
    }

    /// The rest of [`Batcher::place`], once the frame no longer borrows
    /// `src`: the frame's offset in the source's buffer; then, when the
    /// source moved on to a new buffer, hands out the batch of the old one
    /// (a batch from `returned`, if any, holds the next frames).
    fn placed(
        &mut self,
        src: &mut dyn PacketSource,
        returned: &mpsc::Receiver<FrameBatch<Detached>>,
    ) -> Option<FrameBatch<Detached>> {
        // A source that handed over once keeps doing so
        // (`PacketSource::handoff`); one that stopped would lose frames.
        let Some(h) = src.handoff() else {
            debug_assert!(false, "the source stopped handing its buffers over");
            self.batch.pop(); // its place is an address: not a frame to feed
            return None;
        };
        let (base, generation) = h.current();
        if let Some(at) = self.batch.last_at_mut() {
            at.start = at.start.wrapping_sub(base);
        }
        let mut full = None;
        if generation != self.generation {
            self.generation = generation;
            let mut next = returned.try_recv().unwrap_or_default();
            if let Some(old) = next.take_data() {
                h.recycle(old);
            }
            // The frame just placed is the new buffer's first.
            if let Some((at, d)) = self.batch.pop() {
                next.push_at(at, |x| *x = d);
            }
            let mut done = std::mem::replace(&mut self.batch, next);
            if let Some(data) = h.take_detached() {
                done.set_data(data);
            }
            full = Some(done);
        }
        // A buffer of tiny records holds tens of thousands of frames: hand
        // the batch out at a frame cap too (its per-frame entries are 152
        // bytes), by moving the reading to a new buffer. That copies the
        // unread rest of the buffer, so the cap is above what real traffic
        // fills a buffer with (a 256 KiB buffer of 54-byte frames: 3 700).
        if self.batch.len() >= HANDOFF_FRAMES {
            h.detach_now();
        }
        full
    }

    /// Copies `f` in; hands out the batch when it is full.
    fn copy(
        &mut self,
        f: &Frame<'_>,
        returned: &mpsc::Receiver<FrameBatch<Detached>>,
    ) -> Option<FrameBatch<Detached>> {
        self.batch.push_with(f, |d| decode::decode_detached(f, d));
        if !self.batch.is_full() {
            return None;
        }
        let next = returned.try_recv().unwrap_or_default();
        Some(std::mem::replace(&mut self.batch, next))
    }

    /// The last batch, at the end of the reading.
    fn last(mut self, src: &mut dyn PacketSource) -> FrameBatch<Detached> {
        if self.handoff
            && let Some(h) = src.handoff()
        {
            // The frames left are in the buffer detached last, if the
            // reading detached one after them, else in the current one.
            let data = h.take_detached().unwrap_or_else(|| h.take_current());
            self.batch.set_data(data);
        }
        self.batch
    }
}

/// Frames in a batch of a handed-over buffer at most (≈ 1.2 MB of entries).
const HANDOFF_FRAMES: usize = 4 * BATCH_FRAMES;

/// Batches of frames in flight between the reading thread and the
/// analysing one, at most (each [`batch::BATCH_BYTES`]).
const BATCHES_IN_FLIGHT: usize = 8;

/// The tracking thread classifies the connections that closed itself when
/// at most this many batches wait for it (it is ahead of the reading
/// thread), and leaves them to the reading thread otherwise: the work goes
/// to whichever thread has time for it.
const CLASSIFY_AHEAD: usize = 2;

/// The tracking thread's ends of the channels of [`run`], and the counters
/// it shares with the reading thread.
struct TrackingEnds<'a> {
    batches: mpsc::Receiver<FrameBatch<Detached>>,
    /// Batches done with, back to the reading thread for reuse.
    give_back: mpsc::Sender<FrameBatch<Detached>>,
    /// Connections handed out, to the reading thread to be judged.
    closed_tx: mpsc::Sender<Closed>,
    /// Connections judged, back for their boxes to be reused.
    to_drop: mpsc::Receiver<Closed>,
    /// What the reading learned by its end (warnings, format).
    finish_rx: mpsc::Receiver<(Vec<String>, String)>,
    /// Batches sent and not yet taken.
    waiting: &'a AtomicUsize,
    /// Open connections, for the progress display.
    open: &'a AtomicUsize,
}

/// The tracking thread of [`run`]: feeds every frame of every batch to
/// `engine`, hands the closed connections out every `sweep_every` packets
/// when `emitting`, and at the end judges the connections still held.
/// `None` when the reading thread went away first.
fn track(
    mut engine: Engine,
    ends: TrackingEnds<'_>,
    emitting: bool,
    sweep_every: u64,
    name: &str,
) -> Option<Result<Report, SourceError>> {
    for mut batch in ends.batches {
        ends.waiting.fetch_sub(1, Ordering::Relaxed);
        while let Ok(judged) = ends.to_drop.try_recv() {
            engine.recycle(judged);
        }
        for (f, d) in batch.frames() {
            engine.push_detached(&f, d);
            if emitting && engine.packets().is_multiple_of(sweep_every) {
                let now = engine.now().unwrap_or(f.ts);
                // Classify here when this thread is ahead (few batches
                // wait): the reading thread is then the busier one.
                let ahead = ends.waiting.load(Ordering::Relaxed) <= CLASSIFY_AHEAD;
                let closed = engine.take_closed_unreported(now, ahead);
                if !closed.is_empty() && ends.closed_tx.send(closed).is_err() {
                    return None; // the reader is gone
                }
            }
        }
        ends.open
            .store(engine.open_connections(), Ordering::Relaxed);
        batch.clear();
        let _ = ends.give_back.send(batch);
    }
    // The connections still held are judged here, where they were
    // allocated (see `drop_tx` in `run`): with `--format json` that is
    // every connection of the capture.
    let (warnings, format) = ends.finish_rx.recv().ok()?;
    Some(match engine.unsupported_link_types() {
        Some(e) => Err(e),
        None => Ok(engine.finish(None, name, format, warnings)),
    })
}

/// Reads and decodes `src` on this thread and tracks connections on
/// another: the reading (the kernel's copy, record parsing) and decoding
/// overlap the tracking, which sees the same frames in the same order, so
/// the report is the same as one thread's. The connections each sweep
/// takes out come back to this thread to be judged (classified and
/// reported, which is a fair share of the work) and handed to `emit`, in
/// the order they were taken.
fn run(
    src: &mut dyn PacketSource,
    name: &str,
    opts: &Settings,
    keep_ok: bool,
    mut emit: Option<&mut dyn FnMut(ConnectionReport) -> bool>,
    mut progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<Report, SourceError> {
    let mut engine = Engine::keeping(opts.clone(), keep_ok);
    // Without `emit`, closed connections are not handed out while reading.
    let emitting = emit.is_some();
    engine.table.set_queue_closed(emitting);
    let sweep_every = opts.sweep_every.max(1);
    let open = AtomicUsize::new(0);
    // Batches sent and not yet taken by the tracking thread.
    let waiting = AtomicUsize::new(0);
    let (to_worker, batches) = mpsc::sync_channel::<FrameBatch<Detached>>(BATCHES_IN_FLIGHT);
    let (give_back, returned) = mpsc::channel::<FrameBatch<Detached>>();
    let (closed_tx, closed_rx) = mpsc::channel::<Closed>();
    // Closed connections are classified on the tracking thread when it
    // has time (`CLASSIFY_AHEAD`; the `ok` ones not listed stay there),
    // else on this one, and reported on this one. They all go back to the
    // tracking thread, where they were allocated, for their boxes to be
    // reused (`Engine::recycle`): freeing them on this thread cost the
    // allocator more than that (mimalloc hands each block back to its
    // thread).
    let (drop_tx, to_drop) = mpsc::channel::<Closed>();
    let mut judge = Judge::new(opts, keep_ok);
    let mut extra = Vec::new();
    let mut failed: Option<SourceError> = None;
    // What the reading learned by its end, for the engine's report.
    let (finish_tx, finish_rx) = mpsc::sync_channel::<(Vec<String>, String)>(1);
    let report = thread::scope(|s| {
        let open = &open;
        let waiting = &waiting;
        let worker = thread::Builder::new()
            .name("analyse".into())
            .spawn_scoped(s, move || {
                let ends = TrackingEnds {
                    batches,
                    give_back,
                    closed_tx,
                    to_drop,
                    finish_rx,
                    waiting,
                    open,
                };
                track(engine, ends, emitting, sweep_every, name)
            });
        let worker = match worker {
            Ok(w) => w,
            Err(e) => return Err(SourceError::Io(e)), // no thread to be had
        };
        // Reports the connections that came back and hands them to `emit`
        // until it says stop (they are still counted).
        let mut stopped = false;
        let mut pass_on = |closed: Closed, stopped: &mut bool| {
            for c in judge.report_all(&closed) {
                if let Some(emit) = emit.as_mut()
                    && !*stopped
                    && !emit(c)
                {
                    *stopped = true;
                }
            }
            let _ = drop_tx.send(closed);
        };
        let mut packets = 0u64;
        let mut batcher = Batcher::new(src);
        loop {
            match src.next_frame() {
                Ok(Some(f)) => {
                    packets += 1;
                    let full = if batcher.handoff {
                        batcher.place(&f);
                        batcher.placed(src, &returned)
                    } else {
                        batcher.copy(&f, &returned)
                    };
                    if let Some(p) = progress.as_mut()
                        && packets.is_multiple_of(PROGRESS_EVERY)
                    {
                        p(&Progress {
                            bytes: src.bytes_read(),
                            packets,
                            open_connections: open.load(Ordering::Relaxed),
                        });
                    }
                    if let Some(full) = full {
                        waiting.fetch_add(1, Ordering::Relaxed);
                        if to_worker.send(full).is_err() {
                            break; // the worker is gone (it panicked): join says why
                        }
                        while let Ok(r) = closed_rx.try_recv() {
                            pass_on(r, &mut stopped);
                        }
                        if stopped {
                            break;
                        }
                    }
                }
                Ok(None) => break,
                Err(e) if packets > 0 => {
                    extra.push(format!("stopped reading after frame {packets}: {e}"));
                    break;
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let batch = batcher.last(src);
        if !stopped && !batch.is_empty() {
            waiting.fetch_add(1, Ordering::Relaxed);
            let _ = to_worker.send(batch);
        }
        let mut warnings: Vec<String> = src.warnings().to_vec();
        warnings.extend(extra);
        let _ = finish_tx.send((warnings, src.format()));
        drop(to_worker);
        // Until the worker has finished (and dropped its sender).
        for r in closed_rx.iter() {
            pass_on(r, &mut stopped);
        }
        if let Some(p) = progress.as_mut() {
            p(&Progress {
                bytes: src.bytes_read(),
                packets,
                open_connections: open.load(Ordering::Relaxed),
            });
        }
        match worker.join() {
            Ok(Some(report)) => report,
            Ok(None) => Err(SourceError::Io(std::io::Error::other(
                "the analysis stopped before the end of the input",
            ))),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let mut report = report?;
    judge.add_counts_to(&mut report.summary);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::file::open_reader;

    /// A pcap of `n` records of `len` bytes each (bytes numbered by record).
    fn pcap(n: u32, len: usize) -> Vec<u8> {
        // Magic (microseconds), version 2.4, zone, accuracy, snaplen,
        // Ethernet; all little-endian.
        let mut f = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
        f.extend([2, 0, 4, 0]);
        for v in [0u32, 0, 65535, 1] {
            f.extend(v.to_le_bytes());
        }
        for i in 0..n {
            for v in [i, 0, len as u32, len as u32] {
                f.extend(v.to_le_bytes());
            }
            f.extend(std::iter::repeat_n(i as u8, len));
        }
        f
    }

    /// Every frame's bytes and number, batch by batch, as the reading
    /// thread builds batches (buffers handed over when `handoff`).
    fn batches(bytes: Vec<u8>) -> Vec<Vec<(u64, Vec<u8>)>> {
        let mut src = open_reader(std::io::Cursor::new(bytes)).unwrap();
        let (_keep, returned) = mpsc::channel::<FrameBatch<Detached>>();
        let mut b = Batcher::new(src.as_mut());
        assert!(b.handoff, "a file reader hands its buffers over");
        let mut out = Vec::new();
        let take = |batch: &FrameBatch<Detached>| {
            batch
                .frames()
                .map(|(f, _)| (f.number, f.data.to_vec()))
                .collect::<Vec<_>>()
        };
        while let Some(f) = src.next_frame().unwrap() {
            b.place(&f);
            if let Some(full) = b.placed(src.as_mut(), &returned) {
                out.push(take(&full));
            }
        }
        out.push(take(&b.last(src.as_mut())));
        out
    }

    /// Buffers of tiny records hold more frames than a batch may: batches
    /// are handed out at the frame cap, their frames intact and in order.
    #[test]
    fn handed_over_batches_stop_at_the_frame_cap() {
        for (n, len) in [(40_000u32, 0usize), (30_000, 20), (2_000, 1500)] {
            let got = batches(pcap(n, len));
            assert!(got.iter().all(|b| b.len() <= HANDOFF_FRAMES), "{n} x {len}");
            let all: Vec<(u64, Vec<u8>)> = got.into_iter().flatten().collect();
            assert_eq!(all.len(), n as usize);
            for (i, (number, data)) in all.iter().enumerate() {
                assert_eq!(*number, i as u64 + 1);
                assert_eq!(*data, vec![i as u8; len], "frame {number}");
            }
        }
    }
}
