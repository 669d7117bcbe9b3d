//! One TCP connection: per-direction state and the packet-by-packet
//! bookkeeping that the verdict rules read.
//!
//! The sequence analysis follows Wireshark's `tcp_analyze_sequence_number`
//! (summarised in `shared/notes/anchors-features.md` §1.2): retransmission,
//! fast and spurious retransmission, out-of-order, keep-alive, zero-window
//! probe and duplicate-ACK rules are the same, so counts agree with tshark's
//! `tcp.analysis.*` flags on ordinary traffic.
//!
//! [`Connection::on_segment_with`] runs once per packet as a few named
//! steps; the judgement of what a segment is, [`DirState::classify`], is a
//! pure function of the state before it, and its tests pin each
//! [`SegKind`] against tshark's flag for the same frame.

use super::app::AppState;
use super::seq::SeqNum;
use crate::decode::{IcmpError, IcmpErrorKind, TcpFlags, TcpSegment};
pub use crate::packet::{Dir, Event};
pub use crate::sniff::http::HttpResponseHead;
use crate::sniff::{http, tls};
use crate::time::Ts;
use std::net::IpAddr;

/// Wireshark's out-of-order threshold when the initial RTT is unknown.
const OOO_THRESHOLD_NS: i64 = 3_000_000;
/// Wireshark's fast-retransmission window after the triggering dup-ACK.
const FAST_RETRANS_NS: i64 = 20_000_000;

/// The kind of a segment that did not advance the sequence space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetransKind {
    Retransmission,
    Fast,
    Spurious,
}

/// State and counters for one direction of a connection.
#[derive(Debug, Clone, Default)]
pub struct DirState {
    pub packets: u64,
    /// TCP payload bytes, retransmissions included (as on the wire).
    pub bytes: u64,
    /// Initial sequence number, from this side's SYN or SYN/ACK.
    pub isn: Option<SeqNum>,
    /// Highest sequence number sent plus one (Wireshark's `nextseq`).
    pub next_seq: Option<SeqNum>,
    next_seq_ts: Ts,
    /// The last acknowledgement number this side sent.
    pub last_ack: Option<SeqNum>,
    last_ack_ts: Ts,
    /// The last raw window this side advertised.
    pub window: Option<u16>,
    /// Window scale from this side's SYN, if any.
    pub window_scale: Option<u8>,
    dupack_run: u32,
    last_was_keepalive: bool,
    pub retransmissions: u32,
    pub fast_retransmissions: u32,
    pub spurious_retransmissions: u32,
    pub out_of_order: u32,
    pub keep_alives: u32,
    pub zero_window_probes: u32,
    pub dup_acks: u32,
    /// Segments advertising a zero window.
    pub zero_windows: u32,
    /// Set while this side's latest advertised window is zero.
    pub zero_window_since: Option<Event>,
    pub first_zero_window: Option<Event>,
    /// Frames of the first few retransmissions, for evidence.
    pub retrans_frames: Vec<(Event, RetransKind)>,
    pub first_payload: Option<Event>,
    /// The last segment that carried new (not retransmitted) payload.
    pub last_new_payload: Option<Event>,
    pub fin: Option<Event>,
    /// First transmission of the oldest data the peer has not acknowledged.
    pub unacked_since: Option<Event>,
    /// Retransmissions while `unacked_since` was outstanding.
    pub retrans_while_unacked: u32,
    /// The last time this side's ACK moved forward over the peer's data.
    pub ack_advanced: Option<Event>,
    /// TTL / hop limit and IP ID of this side's last non-RST packet.
    pub last_ttl: Option<u8>,
    pub last_ip_id: Option<u16>,
    pub first_packet: Option<Event>,
    pub last_packet: Option<Event>,
    /// The first RST this side sent.
    pub rst: Option<RstInfo>,
    /// RSTs this side sent.
    pub rsts: u32,
}

const MAX_EVIDENCE_RETRANS: usize = 16;

/// What a segment is in its sender's sequence space, as
/// [`DirState::classify`] judges it (after Wireshark's
/// `tcp_analyze_sequence_number`). The tshark flag each kind matches is
/// named; a segment gets at most one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegKind {
    /// None of the others: new data, a SYN or FIN at or past `nextseq`, an
    /// ACK that is not a duplicate, an RST, the first segment seen.
    New,
    /// Sequence space sent before (`tcp.analysis.retransmission`;
    /// `tcp.analysis.fast_retransmission` or
    /// `tcp.analysis.spurious_retransmission` for those kinds).
    Retransmission(RetransKind),
    /// Below `nextseq` but within an RTT of the segment that set it, and
    /// not ending there: reordered rather than resent
    /// (`tcp.analysis.out_of_order`).
    OutOfOrder,
    /// No SYN/FIN/RST, 0 or 1 byte at `nextseq - 1`
    /// (`tcp.analysis.keep_alive`). With `zero_window` (the peer's window
    /// is closed) it is how Linux probes a zero window, and it is counted
    /// as a zero-window probe; tshark still calls it a keep-alive.
    KeepAlive { zero_window: bool },
    /// No SYN/FIN/RST, 1 byte at `nextseq` into the peer's closed window
    /// (`tcp.analysis.zero_window_probe`).
    ZeroWindowProbe,
    /// A pure ACK at `nextseq` repeating this side's last ACK and window (a
    /// non-zero one), not answering a keep-alive
    /// (`tcp.analysis.duplicate_ack`).
    DupAck,
}

impl SegKind {
    /// A keep-alive or zero-window probe: no new data, not a
    /// retransmission, and not handed to the application sniffers.
    #[inline]
    pub fn is_probe(self) -> bool {
        matches!(self, SegKind::KeepAlive { .. } | SegKind::ZeroWindowProbe)
    }

    /// Any kind of retransmission.
    #[inline]
    pub fn is_retransmission(self) -> bool {
        matches!(self, SegKind::Retransmission(_))
    }
}

/// The sequence number just past a segment: its payload, and one each for
/// SYN and FIN.
#[inline]
fn seg_end(seg: &TcpSegment<'_>) -> SeqNum {
    SeqNum(seg.seq)
        .plus(seg.payload_len)
        .plus(u32::from(seg.flags.syn()))
        .plus(u32::from(seg.flags.fin()))
}

impl DirState {
    /// What `seg`, sent by this side, is (see [`SegKind`]), judged on this
    /// side's and the `peer`'s state before it, as Wireshark's
    /// `tcp_analyze_sequence_number` does. `now` is the segment's time and
    /// `irtt_ns` the connection's initial RTT as known before it (the
    /// out-of-order window; 3 ms when unknown, as in Wireshark).
    ///
    /// Pure: [`apply`](Self::apply) records the result.
    #[inline]
    pub fn classify(
        &self,
        peer: &DirState,
        seg: &TcpSegment<'_>,
        now: Ts,
        irtt_ns: Option<i64>,
    ) -> SegKind {
        let f = seg.flags;
        let seq = SeqNum(seg.seq);
        let seglen = seg.payload_len;
        let next_seq = self.next_seq;
        if !(f.syn() || f.fin() || f.rst()) {
            let peer_window_closed = peer.window == Some(0);
            if seglen == 1 && Some(seq) == next_seq && peer_window_closed {
                return SegKind::ZeroWindowProbe;
            }
            if seglen <= 1 && next_seq.is_some_and(|n| seq == n.plus(u32::MAX)) {
                return SegKind::KeepAlive {
                    zero_window: peer_window_closed,
                };
            }
            if f.ack()
                && seglen == 0
                && !peer.last_was_keepalive
                && seg.window != 0
                && self.window == Some(seg.window)
                && Some(seq) == next_seq
                && Some(SeqNum(seg.ack)) == self.last_ack
            {
                return SegKind::DupAck;
            }
        }
        // The retransmission family: segments that occupy sequence space
        // (an RST's number is not checked) below `nextseq`.
        if (seglen > 0 || f.syn() || f.fin())
            && !f.rst()
            && let Some(n) = next_seq
            && seq < n
        {
            // Everything it carries was already acknowledged.
            if seglen > 0 && peer.last_ack.is_some_and(|la| seq.plus(seglen) <= la) {
                return SegKind::Retransmission(RetransKind::Spurious);
            }
            // At the peer's ACK, soon after its second duplicate.
            if peer.dupack_run >= 2
                && peer.last_ack == Some(seq)
                && now.nanos_since(peer.last_ack_ts) < FAST_RETRANS_NS
            {
                return SegKind::Retransmission(RetransKind::Fast);
            }
            if now.nanos_since(self.next_seq_ts) < irtt_ns.unwrap_or(OOO_THRESHOLD_NS)
                && n != seg_end(seg)
            {
                return SegKind::OutOfOrder;
            }
            return SegKind::Retransmission(RetransKind::Retransmission);
        }
        SegKind::New
    }

    /// Records one segment this side sent, classified as `kind`: counters,
    /// zero-window adverts, sequence and payload progress, and the window,
    /// FIN and TTL it carried.
    #[inline]
    pub fn apply(&mut self, seg: &TcpSegment<'_>, kind: SegKind, at: Event) {
        let f = seg.flags;
        let seglen = seg.payload_len;
        let next_seq = self.next_seq; // before this segment
        self.packets = self.packets.saturating_add(1);
        self.bytes = self.bytes.saturating_add(u64::from(seglen));
        self.first_packet.get_or_insert(at);
        self.last_packet = Some(at);
        if f.syn() {
            if self.isn.is_none() {
                self.isn = Some(SeqNum(seg.seq));
            }
            self.window_scale = seg.options.window_scale;
        }

        match kind {
            SegKind::New => {}
            SegKind::ZeroWindowProbe | SegKind::KeepAlive { zero_window: true } => {
                self.zero_window_probes = self.zero_window_probes.saturating_add(1)
            }
            SegKind::KeepAlive { zero_window: false } => {
                self.keep_alives = self.keep_alives.saturating_add(1)
            }
            SegKind::DupAck => {
                self.dupack_run = self.dupack_run.saturating_add(1);
                self.dup_acks = self.dup_acks.saturating_add(1);
            }
            SegKind::OutOfOrder => self.out_of_order = self.out_of_order.saturating_add(1),
            SegKind::Retransmission(k) => {
                self.retransmissions = self.retransmissions.saturating_add(1);
                match k {
                    RetransKind::Fast => {
                        self.fast_retransmissions = self.fast_retransmissions.saturating_add(1)
                    }
                    RetransKind::Spurious => {
                        self.spurious_retransmissions =
                            self.spurious_retransmissions.saturating_add(1)
                    }
                    RetransKind::Retransmission => {}
                }
                if self.retrans_frames.len() < MAX_EVIDENCE_RETRANS {
                    self.retrans_frames.push((at, k));
                }
            }
        }
        // Any other ACK that moves ends a run of duplicates.
        if f.ack() && kind != SegKind::DupAck && Some(SeqNum(seg.ack)) != self.last_ack {
            self.dupack_run = 0;
        }

        // Zero-window adverts.
        if !f.rst() {
            if seg.window == 0 && !(f.syn() || f.fin()) {
                self.zero_windows = self.zero_windows.saturating_add(1);
                self.first_zero_window.get_or_insert(at);
                self.zero_window_since.get_or_insert(at);
            } else if seg.window != 0 {
                self.zero_window_since = None;
            }
        }

        // Sequence progress: Wireshark's `nextseq` and when it moved.
        let probe = kind.is_probe();
        let end = seg_end(seg);
        let advances = next_seq.is_none_or(|n| end > n);
        if (seglen > 0 || f.syn() || f.fin()) && !probe && !f.rst() && advances {
            self.next_seq = Some(end);
            self.next_seq_ts = at.ts;
        }
        self.last_was_keepalive = matches!(kind, SegKind::KeepAlive { .. });

        // Payload progress.
        if seglen > 0 && !probe {
            let retransmitted = kind.is_retransmission();
            if !retransmitted {
                self.first_payload.get_or_insert(at);
                if advances || self.last_new_payload.is_none() {
                    self.last_new_payload = Some(at);
                }
            }
            if self.unacked_since.is_none() {
                self.unacked_since = Some(at);
                self.retrans_while_unacked = 0;
            } else if retransmitted {
                self.retrans_while_unacked = self.retrans_while_unacked.saturating_add(1);
            }
        }

        if !f.rst() {
            self.window = Some(seg.window);
            self.last_ttl = Some(seg.ip.ttl);
            self.last_ip_id = seg.ip.ip_id;
        }
        if f.fin() {
            self.fin.get_or_insert(at);
        }
    }

    /// This side's acknowledgement number `ack`, over the `peer`'s data:
    /// whether it moved over data, and what of the peer's data it leaves
    /// unacknowledged.
    #[inline]
    pub fn on_ack(&mut self, peer: &mut DirState, ack: SeqNum, at: Event) {
        let advanced = self.last_ack.is_none_or(|la| ack > la);
        // Progress over the peer's data: not the ACK of its SYN or FIN
        // (one sequence number), not the first ACK of a mid-stream capture.
        let data_progress = self.last_ack.is_some_and(|la| {
            ack.diff(la) > 1 || (ack > la && peer.bytes > 0 && peer.fin.is_none())
        });
        if advanced && data_progress {
            self.ack_advanced = Some(at);
        }
        if let Some(n) = peer.next_seq {
            if ack >= n {
                peer.unacked_since = None;
                peer.retrans_while_unacked = 0;
            } else if advanced && peer.unacked_since.is_some() {
                peer.unacked_since = Some(at);
                peer.retrans_while_unacked = 0;
            }
        }
        if advanced {
            self.last_ack = Some(ack);
        }
        // Wireshark stamps `lastacktime` on every ACK, duplicates
        // included: the fast-retransmission window runs from the latest.
        self.last_ack_ts = at.ts;
    }
}

/// The first RST of a connection, with what identifies its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RstInfo {
    pub dir: Dir,
    pub at: Event,
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    pub ttl: u8,
    pub ip_id: Option<u16>,
    /// TTL and IP ID of the same side's last packet before the RST.
    pub prior_ttl: Option<u8>,
    pub prior_ip_id: Option<u16>,
    /// When this side sent nothing before the RST: the TTL of the same
    /// address's latest SYN/ACK in another connection of the capture.
    pub other_conn_ttl: Option<u8>,
}

/// An ICMP error that quotes one of this connection's segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpInfo {
    pub at: Event,
    pub sender: IpAddr,
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    pub kind: IcmpErrorKind,
    /// The quoted segment was this connection's SYN (its sequence number is
    /// the client's ISN).
    pub quotes_syn: bool,
}

/// The connection's set-up: what the client's SYNs and the server's
/// SYN/ACKs did, and the ACK that completed the handshake.
#[derive(Debug, Clone, Default)]
pub struct Handshake {
    pub syn_count: u32,
    pub first_syn: Option<Event>,
    pub last_syn: Option<Event>,
    /// The SYN before `last_syn` (for the client's retry gap).
    pub prev_syn: Option<Event>,
    pub synack_count: u32,
    pub synack: Option<Event>,
    /// The SYN the first SYN/ACK answered (the most recent SYN before it).
    pub answered_syn: Option<Event>,
    /// The client's ACK that completed the handshake.
    pub ack: Option<Event>,
    /// The most recent SYN when the handshake ACK was sent (Wireshark's
    /// `ts_mru_syn`, the base of `tcp.analysis.initial_rtt`).
    pub mru_syn_at_ack: Option<Event>,
}

/// One TCP connection: a 4-tuple from a SYN (or the first packet seen) to
/// its close, split again when the ports are reused.
#[derive(Debug, Clone)]
pub struct Connection {
    /// 0-based, in order of first packet (like Wireshark's `tcp.stream`).
    pub id: u64,
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    /// No SYN or SYN/ACK was seen: the client was guessed from the ports.
    pub client_inferred: bool,
    /// The 4-tuple carried an earlier connection in this capture.
    pub reused_ports: bool,
    pub dirs: [DirState; 2],
    pub first: Event,
    pub last: Event,
    /// The SYNs, SYN/ACKs and the ACK that completed the handshake.
    pub handshake: Handshake,
    /// The first RST of the connection, from either side.
    pub rst: Option<RstInfo>,
    pub rst_count: u32,
    pub icmp: Option<IcmpInfo>,
    /// The client's first payload starts like a TLS ClientHello.
    pub client_hello: bool,
    /// The client's first payload is an HTTP HEAD request (no body follows).
    pub head_request: bool,
    /// The head of the server's first HTTP/1.x response, when its first
    /// payload is one and the header fits in the captured bytes.
    pub http_response: Option<HttpResponseHead>,
    /// What the application sniffers learned (TLS, HTTP, DNS over TCP), for
    /// connections whose first payload is one of those.
    pub app: Option<Box<AppState>>,
    /// The name a DNS answer in the capture gave the server's address (set
    /// by the analysis before the verdict).
    pub dns_name: Option<String>,
}

impl Connection {
    /// A new connection whose first packet is at `at`.
    pub fn new(
        id: u64,
        client: (IpAddr, u16),
        server: (IpAddr, u16),
        inferred: bool,
        at: Event,
    ) -> Connection {
        Connection {
            id,
            client,
            server,
            client_inferred: inferred,
            reused_ports: false,
            dirs: [DirState::default(), DirState::default()],
            first: at,
            last: at,
            handshake: Handshake::default(),
            rst: None,
            rst_count: 0,
            icmp: None,
            client_hello: false,
            head_request: false,
            http_response: None,
            app: None,
            dns_name: None,
        }
    }

    /// The direction of a packet from `src`.
    pub fn dir_of(&self, src: (IpAddr, u16)) -> Dir {
        if src == self.client {
            Dir::ClientToServer
        } else {
            Dir::ServerToClient
        }
    }

    pub fn c2s(&self) -> &DirState {
        &self.dirs[0]
    }
    pub fn s2c(&self) -> &DirState {
        &self.dirs[1]
    }

    /// Both FINs, or an RST, were seen.
    pub fn is_closed(&self) -> bool {
        self.rst.is_some() || (self.dirs[0].fin.is_some() && self.dirs[1].fin.is_some())
    }

    /// The handshake completed, or the capture started mid-connection with
    /// traffic from the server side.
    pub fn is_established(&self) -> bool {
        if self.handshake.synack.is_some() {
            return self.handshake.ack.is_some()
                || self.dirs[0].first_payload.is_some()
                || self.dirs[0].fin.is_some();
        }
        self.handshake.syn_count == 0 && self.handshake.first_syn.is_none()
    }

    /// Initial RTT as Wireshark computes it: handshake ACK minus the most
    /// recent SYN.
    pub fn initial_rtt_ns(&self) -> Option<i64> {
        match (self.handshake.ack, self.handshake.mru_syn_at_ack) {
            (Some(ack), Some(syn)) => Some(ack.ts.nanos_since(syn.ts)),
            _ => None,
        }
    }

    /// Feeds one TCP segment travelling in `dir`.
    pub fn on_segment(&mut self, dir: Dir, seg: &TcpSegment<'_>, at: Event) {
        self.on_segment_with(dir, seg, seg.payload, at);
    }

    /// [`Connection::on_segment`] with the segment's captured payload
    /// apart (`seg.payload` is not read): for a segment kept without it.
    ///
    /// One packet, in named steps (each reads what the earlier ones left):
    /// 1. `note_handshake`: SYN, SYN/ACK and the ACK that completes the
    ///    handshake;
    /// 2. [`DirState::classify`]: what the segment is in its sender's
    ///    sequence space, judged on the state before it (pure);
    /// 3. [`DirState::apply`]: the sender's counters and progress;
    /// 4. [`DirState::on_ack`]: what its ACK says about the peer's data;
    /// 5. `note_rst`;
    /// 6. `sniff`: the first payload's protocol and the application
    ///    sniffers.
    pub fn on_segment_with(&mut self, dir: Dir, seg: &TcpSegment<'_>, payload: &[u8], at: Event) {
        self.last = at;
        // As known before this segment: the ACK that completes the
        // handshake is not judged against the RTT it measures.
        let irtt = self.initial_rtt_ns();
        self.note_handshake(dir, seg.flags, at);
        let (fwd, rev) = split(&mut self.dirs, dir);
        let kind = fwd.classify(rev, seg, at.ts, irtt);
        fwd.apply(seg, kind, at);
        if seg.flags.ack() {
            fwd.on_ack(rev, SeqNum(seg.ack), at);
        }
        if seg.flags.rst() {
            self.note_rst(dir, seg, at);
        }
        if seg.payload_len > 0 {
            self.sniff(dir, seg, payload, kind, at);
        }
    }

    /// Handshake bookkeeping: SYNs (count, first, last two), the first
    /// SYN/ACK and the SYN it answered, and the client's ACK that
    /// completes the handshake with the SYN then most recent (the base of
    /// Wireshark's initial RTT).
    #[inline]
    fn note_handshake(&mut self, dir: Dir, f: TcpFlags, at: Event) {
        if f.syn() {
            if f.ack() {
                self.handshake.synack_count = self.handshake.synack_count.saturating_add(1);
                if self.handshake.synack.is_none() {
                    self.handshake.synack = Some(at);
                    self.handshake.answered_syn = self.handshake.last_syn;
                }
            } else {
                self.handshake.syn_count = self.handshake.syn_count.saturating_add(1);
                self.handshake.first_syn.get_or_insert(at);
                self.handshake.prev_syn = self.handshake.last_syn;
                self.handshake.last_syn = Some(at);
            }
        } else if dir == Dir::ClientToServer
            && f.ack()
            && !f.rst()
            && self.handshake.synack.is_some()
            && self.handshake.ack.is_none()
        {
            self.handshake.ack = Some(at);
            self.handshake.mru_syn_at_ack = self.handshake.last_syn;
        }
    }

    /// An RST from `dir`: counted, and the first one of each side (and of
    /// the connection) kept with what identifies its sender.
    #[inline]
    fn note_rst(&mut self, dir: Dir, seg: &TcpSegment<'_>, at: Event) {
        self.rst_count = self.rst_count.saturating_add(1);
        let fwd = &mut self.dirs[dir.index()];
        fwd.rsts = fwd.rsts.saturating_add(1);
        if fwd.rst.is_none() {
            let info = RstInfo {
                dir,
                at,
                flags: seg.flags,
                seq: seg.seq,
                ack: seg.ack,
                ttl: seg.ip.ttl,
                ip_id: seg.ip.ip_id,
                // `apply` leaves these alone for an RST: still the last
                // packet's before it.
                prior_ttl: fwd.last_ttl,
                prior_ip_id: fwd.last_ip_id,
                other_conn_ttl: None,
            };
            fwd.rst = Some(info);
            self.rst.get_or_insert(info);
        }
    }

    /// The application hand-off, for a segment with payload. The first
    /// payload of each direction is recognised (a TLS ClientHello, an HTTP
    /// HEAD request, an HTTP response head) and decides whether the
    /// connection gets application sniffers at all; those then get every
    /// captured payload but probes, retransmissions marked as such.
    #[inline]
    fn sniff(&mut self, dir: Dir, seg: &TcpSegment<'_>, payload: &[u8], kind: SegKind, at: Event) {
        let d = &self.dirs[dir.index()];
        let first = d.first_payload == Some(at);
        if first {
            match dir {
                Dir::ClientToServer => {
                    self.client_hello = tls::looks_like_client_hello(payload);
                    self.head_request = http::request_method(payload) == Some("HEAD");
                }
                Dir::ServerToClient => self.http_response = HttpResponseHead::parse(payload),
            }
        }
        if payload.is_empty() || kind.is_probe() {
            return;
        }
        if self.app.is_none() {
            if !first {
                return;
            }
            let dns_port = self.server.1 == 53 || self.client.1 == 53;
            match AppState::detect(dir, payload, dns_port) {
                Some(app) => self.app = Some(Box::new(app)),
                None => return,
            }
        }
        // Data on a SYN (TCP Fast Open) starts one past the SYN's number.
        let seq = SeqNum(seg.seq).plus(u32::from(seg.flags.syn()));
        let base = self.dirs[dir.index()].isn.map_or(seq, |isn| isn.plus(1));
        if let Some(app) = self.app.as_mut() {
            app.on_payload(dir, base, seq, payload, !kind.is_retransmission(), at);
        }
    }

    /// Notes, for the first RST from `dir` when that side sent nothing
    /// before it, the TTL of the same address's SYN/ACKs in other
    /// connections (what its own packets look like).
    pub fn note_other_conn_ttl(&mut self, dir: Dir, ttl: u8) {
        let Some(first) = self.dirs[dir.index()].rst else {
            return;
        };
        if first.prior_ttl.is_some() {
            return;
        }
        for r in [&mut self.dirs[dir.index()].rst, &mut self.rst]
            .into_iter()
            .flatten()
        {
            if r.at == first.at {
                r.other_conn_ttl = Some(ttl);
            }
        }
    }

    /// Payload bytes the server delivered in sequence space (retransmissions
    /// counted once), when its ISN is known.
    pub fn server_bytes_in_sequence(&self) -> Option<u64> {
        let d = self.s2c();
        let isn = d.isn?;
        let next = d.next_seq?;
        let span = next.diff(isn.plus(1));
        let fin = i64::from(d.fin.is_some());
        u64::try_from(span - fin).ok()
    }

    /// The first HTTP response announced a length that the server did not
    /// deliver: `(delivered, expected)` body-and-header bytes.
    pub fn http_response_short(&self) -> Option<(u64, u64)> {
        let h = self.http_response?;
        if self.head_request || h.status < 200 || h.status == 204 || h.status == 304 {
            return None;
        }
        let expected = u64::from(h.header_len).checked_add(h.content_length?)?;
        let delivered = self.server_bytes_in_sequence()?;
        (delivered < expected).then_some((delivered, expected))
    }

    /// Records an ICMP error that quotes one of this connection's segments.
    pub fn on_icmp(&mut self, err: &IcmpError, at: Event) {
        self.last = at;
        if self.icmp.is_some() {
            return;
        }
        let quotes_syn = (err.quoted.src, err.quoted.src_port) == self.client
            && err.quoted.seq.is_some()
            && err.quoted.seq.map(SeqNum) == self.dirs[0].isn;
        self.icmp = Some(IcmpInfo {
            at,
            sender: err.ip.src,
            v6: err.v6,
            icmp_type: err.icmp_type,
            code: err.code,
            kind: err.kind,
            quotes_syn,
        });
    }
}

/// Mutable references to the sending and the receiving direction.
fn split(dirs: &mut [DirState; 2], dir: Dir) -> (&mut DirState, &mut DirState) {
    let (a, b) = dirs.split_at_mut(1);
    match dir {
        Dir::ClientToServer => (&mut a[0], &mut b[0]),
        Dir::ServerToClient => (&mut b[0], &mut a[0]),
    }
}

#[cfg(test)]
mod tests {
    //! `classify` pinned segment by segment against tshark: each table is
    //! a connection's segments with the kind we expect, and the comment
    //! above a row gives the `tcp.analysis.*` flags tshark 4.0.17 sets on
    //! the same frame (none where there is no comment). Flags that are no
    //! `SegKind` (lost_segment, window_update, zero_window,
    //! keep_alive_ack, zero_window_probe_ack) belong to the `New` rows they
    //! are on. To check again: write the rows as a pcap (10.0.0.1:40000 is
    //! the client, 10.0.0.2:80 the server, times in ms) and run
    //! `tshark -r x.pcap -T fields -e frame.number -e tcp.analysis.<flag>...`.
    use super::*;
    use crate::decode::{IpInfo, TcpOptions};
    use std::net::Ipv4Addr;

    const S: u8 = TcpFlags::SYN;
    const A: u8 = TcpFlags::ACK;
    const F: u8 = TcpFlags::FIN;
    const R: u8 = TcpFlags::RST;
    const P: u8 = TcpFlags::PSH;
    /// Client and server ISNs.
    const CI: u32 = 1000;
    const SI: u32 = 5000;
    const W: u16 = 1000;

    /// (from client, time in ms, flags, seq, ack, payload length, window,
    /// expected kind)
    type Row = (bool, i64, u8, u32, u32, u32, u16, SegKind);

    /// Feeds `rows` to one connection, checking before each segment that
    /// `classify` says the expected kind, and after all of them that
    /// `apply` counted each kind once.
    fn check(rows: &[Row]) {
        let client = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000);
        let server = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);
        let at = |frame: usize, ms: i64| Event {
            frame: frame as u64 + 1,
            ts: Ts(1_700_000_000_000_000_000 + ms * 1_000_000),
        };
        let mut c = Connection::new(0, client, server, false, at(0, rows[0].1));
        let mut want = [[0u32; 8]; 2];
        for (i, &(from_client, ms, flags, seq, ack, len, window, kind)) in rows.iter().enumerate() {
            let (dir, src, dst) = if from_client {
                (Dir::ClientToServer, client, server)
            } else {
                (Dir::ServerToClient, server, client)
            };
            let payload = vec![0u8; len as usize];
            let seg = TcpSegment {
                ip: IpInfo {
                    src: src.0,
                    dst: dst.0,
                    ttl: 64,
                    ip_id: None,
                },
                src_port: src.1,
                dst_port: dst.1,
                seq,
                ack,
                flags: TcpFlags(flags),
                window,
                options: TcpOptions::default(),
                payload_len: len,
                payload: &payload,
                options_truncated: false,
            };
            let t = at(i, ms);
            let (fwd, rev) = (&c.dirs[dir.index()], &c.dirs[dir.reverse().index()]);
            let got = fwd.classify(rev, &seg, t.ts, c.initial_rtt_ns());
            assert_eq!(got, kind, "row {i} ({} ms)", ms);
            let slot = match kind {
                SegKind::New => 0,
                SegKind::Retransmission(RetransKind::Retransmission) => 1,
                SegKind::Retransmission(RetransKind::Fast) => 2,
                SegKind::Retransmission(RetransKind::Spurious) => 3,
                SegKind::OutOfOrder => 4,
                SegKind::KeepAlive { zero_window: false } => 5,
                SegKind::ZeroWindowProbe | SegKind::KeepAlive { zero_window: true } => 6,
                SegKind::DupAck => 7,
            };
            want[dir.index()][slot] += 1;
            c.on_segment(dir, &seg, t);
        }
        for (d, w) in c.dirs.iter().zip(want) {
            assert_eq!(d.retransmissions, w[1] + w[2] + w[3]);
            assert_eq!(d.fast_retransmissions, w[2]);
            assert_eq!(d.spurious_retransmissions, w[3]);
            assert_eq!(d.out_of_order, w[4]);
            assert_eq!(d.keep_alives, w[5]);
            assert_eq!(d.zero_window_probes, w[6]);
            assert_eq!(d.dup_acks, w[7]);
        }
    }

    #[test]
    fn classify_rto_retransmission() {
        check(&[
            (true, 0, S, CI, 0, 0, W, SegKind::New),
            (false, 10, S | A, SI, CI + 1, 0, W, SegKind::New),
            (true, 20, A, CI + 1, SI + 1, 0, W, SegKind::New),
            (true, 30, P | A, CI + 1, SI + 1, 100, W, SegKind::New),
            // tshark: retransmission
            (
                true,
                330,
                P | A,
                CI + 1,
                SI + 1,
                100,
                W,
                SegKind::Retransmission(RetransKind::Retransmission),
            ),
            (false, 340, A, SI + 1, CI + 101, 0, W, SegKind::New),
        ]);
    }

    #[test]
    fn classify_out_of_order() {
        check(&[
            (true, 0, S, CI, 0, 0, W, SegKind::New),
            (false, 10, S | A, SI, CI + 1, 0, W, SegKind::New),
            (true, 20, A, CI + 1, SI + 1, 0, W, SegKind::New),
            (true, 30, P | A, CI + 1, SI + 1, 100, W, SegKind::New),
            // tshark: lost_segment
            (true, 31, P | A, CI + 201, SI + 1, 100, W, SegKind::New),
            // tshark: out_of_order
            (
                true,
                32,
                P | A,
                CI + 101,
                SI + 1,
                100,
                W,
                SegKind::OutOfOrder,
            ),
            // tshark: retransmission
            // Past the iRTT since nextseq moved: resent, not reordered.
            (
                true,
                80,
                P | A,
                CI + 101,
                SI + 1,
                100,
                W,
                SegKind::Retransmission(RetransKind::Retransmission),
            ),
        ]);
    }

    #[test]
    fn classify_dup_acks_then_fast_retransmission() {
        check(&[
            (true, 0, S, CI, 0, 0, W, SegKind::New),
            (false, 10, S | A, SI, CI + 1, 0, W, SegKind::New),
            (true, 20, A, CI + 1, SI + 1, 0, W, SegKind::New),
            (true, 30, P | A, CI + 1, SI + 1, 100, W, SegKind::New),
            (true, 31, P | A, CI + 101, SI + 1, 100, W, SegKind::New),
            (true, 32, P | A, CI + 201, SI + 1, 100, W, SegKind::New),
            (false, 50, A, SI + 1, CI + 101, 0, W, SegKind::New),
            // tshark: duplicate_ack
            (false, 51, A, SI + 1, CI + 101, 0, W, SegKind::DupAck),
            // tshark: duplicate_ack
            (false, 52, A, SI + 1, CI + 101, 0, W, SegKind::DupAck),
            // tshark: retransmission, fast_retransmission
            (
                true,
                53,
                P | A,
                CI + 101,
                SI + 1,
                100,
                W,
                SegKind::Retransmission(RetransKind::Fast),
            ),
            // A window change is not a duplicate. tshark: window_update
            (false, 60, A, SI + 1, CI + 101, 0, W + 1, SegKind::New),
        ]);
    }

    #[test]
    fn classify_spurious_retransmission() {
        check(&[
            (true, 0, S, CI, 0, 0, W, SegKind::New),
            (false, 10, S | A, SI, CI + 1, 0, W, SegKind::New),
            (true, 20, A, CI + 1, SI + 1, 0, W, SegKind::New),
            (true, 30, P | A, CI + 1, SI + 1, 100, W, SegKind::New),
            (false, 40, A, SI + 1, CI + 101, 0, W, SegKind::New),
            // tshark: retransmission, spurious_retransmission
            (
                true,
                500,
                P | A,
                CI + 1,
                SI + 1,
                100,
                W,
                SegKind::Retransmission(RetransKind::Spurious),
            ),
        ]);
    }

    #[test]
    fn classify_keep_alive_and_its_ack() {
        check(&[
            (true, 0, S, CI, 0, 0, W, SegKind::New),
            (false, 10, S | A, SI, CI + 1, 0, W, SegKind::New),
            (true, 20, A, CI + 1, SI + 1, 0, W, SegKind::New),
            (true, 30, P | A, CI + 1, SI + 1, 100, W, SegKind::New),
            (false, 40, A, SI + 1, CI + 101, 0, W, SegKind::New),
            // tshark: keep_alive
            (
                true,
                10000,
                A,
                CI + 100,
                SI + 1,
                0,
                W,
                SegKind::KeepAlive { zero_window: false },
            ),
            // The keep-alive's ACK repeats the last one but is no
            // duplicate. tshark: keep_alive_ack
            (false, 10001, A, SI + 1, CI + 101, 0, W, SegKind::New),
            // tshark: keep_alive
            (
                true,
                20000,
                A,
                CI + 100,
                SI + 1,
                1,
                W,
                SegKind::KeepAlive { zero_window: false },
            ),
        ]);
    }

    #[test]
    fn classify_zero_window_probes() {
        check(&[
            (true, 0, S, CI, 0, 0, W, SegKind::New),
            (false, 10, S | A, SI, CI + 1, 0, W, SegKind::New),
            (true, 20, A, CI + 1, SI + 1, 0, W, SegKind::New),
            (true, 30, P | A, CI + 1, SI + 1, 100, W, SegKind::New),
            // tshark: zero_window
            (false, 40, A, SI + 1, CI + 101, 0, 0, SegKind::New),
            // tshark: zero_window_probe
            (
                true,
                240,
                A,
                CI + 101,
                SI + 1,
                1,
                W,
                SegKind::ZeroWindowProbe,
            ),
            // tshark: zero_window_probe_ack, zero_window
            (false, 250, A, SI + 1, CI + 101, 0, 0, SegKind::New),
            // Linux's probe, a keep-alive into the closed window: counted
            // as a probe. tshark: keep_alive
            (
                true,
                650,
                A,
                CI + 100,
                SI + 1,
                0,
                W,
                SegKind::KeepAlive { zero_window: true },
            ),
        ]);
    }

    #[test]
    fn classify_syn_retransmission_and_rst() {
        check(&[
            (true, 0, S, CI, 0, 0, W, SegKind::New),
            // tshark: retransmission
            (
                true,
                1000,
                S,
                CI,
                0,
                0,
                W,
                SegKind::Retransmission(RetransKind::Retransmission),
            ),
            (false, 1010, R | A, 0, CI + 1, 0, 0, SegKind::New),
        ]);
    }

    #[test]
    fn classify_fin_retransmission() {
        check(&[
            (true, 0, S, CI, 0, 0, W, SegKind::New),
            (false, 10, S | A, SI, CI + 1, 0, W, SegKind::New),
            (true, 20, A, CI + 1, SI + 1, 0, W, SegKind::New),
            (true, 30, F | A, CI + 1, SI + 1, 0, W, SegKind::New),
            // tshark: retransmission
            (
                true,
                330,
                F | A,
                CI + 1,
                SI + 1,
                0,
                W,
                SegKind::Retransmission(RetransKind::Retransmission),
            ),
        ]);
    }

    #[test]
    fn classify_is_pure() {
        // The same question twice, before and after asking: same answer,
        // state untouched (the segment is a retransmission of the first).
        let client = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000);
        let server = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);
        let t0 = Event {
            frame: 1,
            ts: Ts(0),
        };
        let mut c = Connection::new(0, client, server, false, t0);
        let seg = |len: u32| TcpSegment {
            ip: IpInfo {
                src: client.0,
                dst: server.0,
                ttl: 64,
                ip_id: None,
            },
            src_port: client.1,
            dst_port: server.1,
            seq: CI + 1,
            ack: SI + 1,
            flags: TcpFlags(P | A),
            window: W,
            options: TcpOptions::default(),
            payload_len: len,
            payload: &[],
            options_truncated: false,
        };
        c.on_segment(Dir::ClientToServer, &seg(100), t0);
        let later = Ts(10_000_000_000);
        let before = format!("{:?}", c.dirs);
        let k1 = c.dirs[0].classify(&c.dirs[1], &seg(100), later, None);
        let k2 = c.dirs[0].classify(&c.dirs[1], &seg(100), later, None);
        assert_eq!(k1, SegKind::Retransmission(RetransKind::Retransmission));
        assert_eq!(k1, k2);
        assert_eq!(format!("{:?}", c.dirs), before);
    }
}
