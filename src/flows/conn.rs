//! One TCP connection: per-direction state and the packet-by-packet
//! bookkeeping that the verdict rules read.
//!
//! The sequence analysis follows Wireshark's `tcp_analyze_sequence_number`
//! (summarised in `shared/notes/anchors-features.md` §1.2): retransmission,
//! fast and spurious retransmission, out-of-order, keep-alive, zero-window
//! probe and duplicate-ACK rules are the same, so counts agree with tshark's
//! `tcp.analysis.*` flags on ordinary traffic.

use super::app::AppState;
use super::seq::SeqNum;
use crate::decode::{IcmpError, IcmpErrorKind, TcpFlags, TcpSegment};
pub use crate::packet::Event;
pub use crate::sniff::http::HttpResponseHead;
use crate::sniff::{http, tls};
use crate::time::Ts;
use std::net::IpAddr;

/// Direction of a packet within a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// From the client (the side that sent the SYN) to the server.
    ClientToServer = 0,
    /// From the server to the client.
    ServerToClient = 1,
}

impl Dir {
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn reverse(self) -> Dir {
        match self {
            Dir::ClientToServer => Dir::ServerToClient,
            Dir::ServerToClient => Dir::ClientToServer,
        }
    }
    /// `client` or `server`: who sent a packet in this direction.
    pub fn sender(self) -> &'static str {
        match self {
            Dir::ClientToServer => "client",
            Dir::ServerToClient => "server",
        }
    }
}

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
    pub handshake_ack: Option<Event>,
    /// The most recent SYN when the handshake ACK was sent (Wireshark's
    /// `ts_mru_syn`, the base of `tcp.analysis.initial_rtt`).
    pub mru_syn_at_ack: Option<Event>,
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
            syn_count: 0,
            first_syn: None,
            last_syn: None,
            prev_syn: None,
            synack_count: 0,
            synack: None,
            answered_syn: None,
            handshake_ack: None,
            mru_syn_at_ack: None,
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
        if self.synack.is_some() {
            return self.handshake_ack.is_some()
                || self.dirs[0].first_payload.is_some()
                || self.dirs[0].fin.is_some();
        }
        self.syn_count == 0 && self.first_syn.is_none()
    }

    /// Initial RTT as Wireshark computes it: handshake ACK minus the most
    /// recent SYN.
    pub fn initial_rtt_ns(&self) -> Option<i64> {
        match (self.handshake_ack, self.mru_syn_at_ack) {
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
    pub fn on_segment_with(&mut self, dir: Dir, seg: &TcpSegment<'_>, payload: &[u8], at: Event) {
        let f = seg.flags;
        let seq = SeqNum(seg.seq);
        let ack = SeqNum(seg.ack);
        let seglen = seg.payload_len;
        self.last = at;
        let irtt = self.initial_rtt_ns();

        // Handshake bookkeeping.
        if f.syn() && !f.ack() {
            self.syn_count = self.syn_count.saturating_add(1);
            self.first_syn.get_or_insert(at);
            self.prev_syn = self.last_syn;
            self.last_syn = Some(at);
        }
        if f.syn() && f.ack() {
            self.synack_count = self.synack_count.saturating_add(1);
            if self.synack.is_none() {
                self.synack = Some(at);
                self.answered_syn = self.last_syn;
            }
        }
        if dir == Dir::ClientToServer
            && f.ack()
            && !f.syn()
            && !f.rst()
            && self.synack.is_some()
            && self.handshake_ack.is_none()
        {
            self.handshake_ack = Some(at);
            self.mru_syn_at_ack = self.last_syn;
        }

        let (fwd, rev) = split(&mut self.dirs, dir);
        fwd.packets = fwd.packets.saturating_add(1);
        fwd.bytes = fwd.bytes.saturating_add(u64::from(seglen));
        fwd.first_packet.get_or_insert(at);
        fwd.last_packet = Some(at);
        if f.syn() {
            if fwd.isn.is_none() {
                fwd.isn = Some(seq);
            }
            fwd.window_scale = seg.options.window_scale;
        }

        let ctl = f.syn() || f.fin() || f.rst();
        let next_seq = fwd.next_seq;

        // Zero-window probe: one byte at nextseq into a closed window.
        let zero_window_probe =
            seglen == 1 && Some(seq) == next_seq && rev.window == Some(0) && !ctl;
        // Keep-alive: 0 or 1 byte at nextseq - 1. Linux also probes a zero
        // window this way; count those as probes.
        let keep_alive = !ctl && seglen <= 1 && next_seq.is_some_and(|n| seq == n.plus(u32::MAX));
        if zero_window_probe || (keep_alive && rev.window == Some(0)) {
            fwd.zero_window_probes = fwd.zero_window_probes.saturating_add(1);
        } else if keep_alive {
            fwd.keep_alives = fwd.keep_alives.saturating_add(1);
        }

        // Zero window adverts.
        if !f.rst() {
            if seg.window == 0 && !ctl {
                fwd.zero_windows = fwd.zero_windows.saturating_add(1);
                fwd.first_zero_window.get_or_insert(at);
                fwd.zero_window_since.get_or_insert(at);
            } else if seg.window != 0 {
                fwd.zero_window_since = None;
            }
        }

        // Duplicate ACKs.
        if f.ack() {
            let keepalive_ack = rev.last_was_keepalive;
            let dup = seglen == 0
                && !ctl
                && !keepalive_ack
                && seg.window != 0
                && fwd.window == Some(seg.window)
                && Some(seq) == next_seq
                && Some(ack) == fwd.last_ack;
            if dup {
                fwd.dupack_run = fwd.dupack_run.saturating_add(1);
                fwd.dup_acks = fwd.dup_acks.saturating_add(1);
            } else if Some(ack) != fwd.last_ack {
                fwd.dupack_run = 0;
            }
        }

        // Retransmission family, only for segments that occupy sequence space.
        let seg_end = seq
            .plus(seglen)
            .plus(u32::from(f.syn()))
            .plus(u32::from(f.fin()));
        let mut retransmitted = false;
        if (seglen > 0 || f.syn() || f.fin()) && !keep_alive && !zero_window_probe && !f.rst() {
            if let Some(n) = next_seq
                && seq < n
            {
                let spurious = seglen > 0 && rev.last_ack.is_some_and(|la| seq.plus(seglen) <= la);
                let fast = rev.dupack_run >= 2
                    && rev.last_ack == Some(seq)
                    && at.ts.nanos_since(rev.last_ack_ts) < FAST_RETRANS_NS;
                let ooo_threshold = irtt.unwrap_or(OOO_THRESHOLD_NS);
                let out_of_order =
                    at.ts.nanos_since(fwd.next_seq_ts) < ooo_threshold && n != seg_end;
                let kind = if spurious {
                    Some(RetransKind::Spurious)
                } else if fast {
                    Some(RetransKind::Fast)
                } else if out_of_order {
                    None
                } else {
                    Some(RetransKind::Retransmission)
                };
                match kind {
                    Some(k) => {
                        retransmitted = true;
                        fwd.retransmissions = fwd.retransmissions.saturating_add(1);
                        match k {
                            RetransKind::Fast => fwd.fast_retransmissions += 1,
                            RetransKind::Spurious => fwd.spurious_retransmissions += 1,
                            RetransKind::Retransmission => {}
                        }
                        if fwd.retrans_frames.len() < MAX_EVIDENCE_RETRANS {
                            fwd.retrans_frames.push((at, k));
                        }
                    }
                    None => fwd.out_of_order += 1,
                }
            }
            if !zero_window_probe && next_seq.is_none_or(|n| seg_end > n) {
                fwd.next_seq = Some(seg_end);
                fwd.next_seq_ts = at.ts;
            }
        }
        fwd.last_was_keepalive = keep_alive;

        // Payload progress.
        if seglen > 0 && !keep_alive && !zero_window_probe && !retransmitted {
            fwd.first_payload.get_or_insert(at);
            if next_seq.is_none_or(|n| seg_end > n) || fwd.last_new_payload.is_none() {
                fwd.last_new_payload = Some(at);
            }
        }
        if seglen > 0 && !keep_alive && !zero_window_probe {
            if fwd.unacked_since.is_none() {
                fwd.unacked_since = Some(at);
                fwd.retrans_while_unacked = 0;
            } else if retransmitted {
                fwd.retrans_while_unacked = fwd.retrans_while_unacked.saturating_add(1);
            }
        }

        // ACK processing: this segment acknowledges the reverse direction.
        if f.ack() {
            let advanced = fwd.last_ack.is_none_or(|la| ack > la);
            // Progress over the peer's data: not the ACK of its SYN or FIN
            // (one sequence number), not the first ACK of a mid-stream capture.
            let data_progress = fwd.last_ack.is_some_and(|la| {
                ack.diff(la) > 1 || (ack > la && rev.bytes > 0 && rev.fin.is_none())
            });
            if advanced && data_progress {
                fwd.ack_advanced = Some(at);
            }
            if let Some(n) = rev.next_seq {
                if ack >= n {
                    rev.unacked_since = None;
                    rev.retrans_while_unacked = 0;
                } else if advanced && rev.unacked_since.is_some() {
                    rev.unacked_since = Some(at);
                    rev.retrans_while_unacked = 0;
                }
            }
            if advanced {
                fwd.last_ack = Some(ack);
            }
            // Wireshark stamps `lastacktime` on every ACK, duplicates
            // included: the fast-retransmission window runs from the latest.
            fwd.last_ack_ts = at.ts;
        }
        if !f.rst() {
            fwd.window = Some(seg.window);
        }
        if f.fin() {
            fwd.fin.get_or_insert(at);
        }

        if f.rst() {
            self.rst_count = self.rst_count.saturating_add(1);
            let fwd = &mut self.dirs[dir.index()];
            fwd.rsts = fwd.rsts.saturating_add(1);
            if fwd.rst.is_none() {
                let info = RstInfo {
                    dir,
                    at,
                    flags: f,
                    seq: seg.seq,
                    ack: seg.ack,
                    ttl: seg.ip.ttl,
                    ip_id: seg.ip.ip_id,
                    prior_ttl: fwd.last_ttl,
                    prior_ip_id: fwd.last_ip_id,
                    other_conn_ttl: None,
                };
                fwd.rst = Some(info);
                self.rst.get_or_insert(info);
            }
        } else {
            let fwd = &mut self.dirs[dir.index()];
            fwd.last_ttl = Some(seg.ip.ttl);
            fwd.last_ip_id = seg.ip.ip_id;
        }

        if seglen > 0 && self.dirs[dir.index()].first_payload == Some(at) {
            match dir {
                Dir::ClientToServer => {
                    self.client_hello = tls::looks_like_client_hello(payload);
                    self.head_request = http::request_method(payload) == Some("HEAD");
                }
                Dir::ServerToClient => self.http_response = HttpResponseHead::parse(payload),
            }
        }
        if seglen > 0 && !payload.is_empty() && !keep_alive && !zero_window_probe {
            self.sniff(dir, seg, payload, retransmitted, at);
        }
    }

    /// Hands a payload to the application sniffers; the first payload of
    /// each direction decides whether the connection has any.
    fn sniff(
        &mut self,
        dir: Dir,
        seg: &TcpSegment<'_>,
        payload: &[u8],
        retransmitted: bool,
        at: Event,
    ) {
        let d = &self.dirs[dir.index()];
        if self.app.is_none() {
            if d.first_payload != Some(at) {
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
        let base = d.isn.map_or(seq, |isn| isn.plus(1));
        if let Some(app) = self.app.as_mut() {
            app.on_payload(dir, base, seq, payload, !retransmitted, at);
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
