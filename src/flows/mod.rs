//! Connection tracking: a table keyed by 4-tuple that follows every TCP
//! connection, splitting a 4-tuple into several connections when its ports
//! are reused.
//!
//! Rules for connection identity (after Wireshark's `tcp.stream`):
//! - A SYN on a 4-tuple whose current connection has a different client ISN
//!   (or has no SYN at all) starts a new connection. This covers a new SYN
//!   after FIN or RST, since a new attempt always picks a new ISN. A SYN with
//!   the same ISN is a retransmission, even after an RST (Windows retries a
//!   refused SYN that way).
//! - A SYN/ACK on a closed connection with a new server ISN starts a new
//!   connection whose SYN was not captured.
//! - The client is whoever sent the SYN (or received the SYN/ACK). Without
//!   either, the client is guessed from the ports and marked as a guess.

mod conn;
pub mod seq;

pub use conn::{
    Connection, Dir, DirState, Event, HttpResponseHead, IcmpInfo, RetransKind, RstInfo,
};
pub use seq::SeqNum;

use crate::decode::{IcmpError, TcpSegment};
use rustc_hash::FxHashMap;
use std::net::IpAddr;

type Endpoint = (IpAddr, u16);

/// A 4-tuple with its endpoints in a canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FlowKey(Endpoint, Endpoint);

impl FlowKey {
    fn new(a: Endpoint, b: Endpoint) -> FlowKey {
        if a <= b { FlowKey(a, b) } else { FlowKey(b, a) }
    }
}

/// Counters the table keeps besides the connections themselves.
#[derive(Debug, Clone, Default)]
pub struct TableStats {
    pub tcp_packets: u64,
    pub icmp_errors: u64,
    /// ICMP errors quoting a 4-tuple with no connection in the capture.
    pub icmp_unmatched: u64,
}

/// The connection table.
#[derive(Debug, Default)]
pub struct FlowTable {
    active: FxHashMap<FlowKey, usize>,
    conns: Vec<Connection>,
    pub stats: TableStats,
}

impl FlowTable {
    pub fn new() -> FlowTable {
        FlowTable::default()
    }

    /// Feeds one TCP segment seen in `frame` at `ts`.
    pub fn on_tcp(&mut self, seg: &TcpSegment<'_>, at: Event) {
        self.stats.tcp_packets += 1;
        let src = (seg.ip.src, seg.src_port);
        let dst = (seg.ip.dst, seg.dst_port);
        let key = FlowKey::new(src, dst);
        let f = seg.flags;
        let idx = match self.active.get(&key) {
            Some(&i) if !starts_new_connection(&self.conns[i], seg, src) => i,
            existing => {
                let reused = existing.is_some();
                let (client, server, inferred) = if f.syn() && !f.ack() {
                    (src, dst, false)
                } else if f.syn() && f.ack() {
                    (dst, src, false)
                } else if is_server_port(src.1, dst.1) {
                    (dst, src, true)
                } else {
                    (src, dst, true)
                };
                let id = self.conns.len() as u64;
                let mut c = Connection::new(id, client, server, inferred, at);
                c.reused_ports = reused;
                self.conns.push(c);
                self.active.insert(key, self.conns.len() - 1);
                self.conns.len() - 1
            }
        };
        let c = &mut self.conns[idx];
        let dir = c.dir_of(src);
        c.on_segment(dir, seg, at);
    }

    /// Feeds an ICMP error; it is attached to the connection it quotes.
    pub fn on_icmp(&mut self, err: &IcmpError, at: Event) {
        self.stats.icmp_errors += 1;
        let q = err.quoted;
        let key = FlowKey::new((q.src, q.src_port), (q.dst, q.dst_port));
        match self.active.get(&key) {
            Some(&i) => self.conns[i].on_icmp(err, at),
            None => self.stats.icmp_unmatched += 1,
        }
    }

    /// All connections, in order of their first packet.
    pub fn connections(&self) -> &[Connection] {
        &self.conns
    }

    /// Ends tracking and hands over the connections.
    pub fn into_connections(self) -> Vec<Connection> {
        self.conns
    }
}

/// Whether `seg` from `src` begins a new connection on `c`'s 4-tuple.
fn starts_new_connection(c: &Connection, seg: &TcpSegment<'_>, src: Endpoint) -> bool {
    let f = seg.flags;
    if f.rst() || !f.syn() {
        return false;
    }
    if !f.ack() {
        // A SYN: the same attempt only if it repeats the client's ISN.
        let same_attempt =
            src == c.client && c.syn_count > 0 && c.c2s().isn == Some(SeqNum(seg.seq));
        return !same_attempt;
    }
    // A SYN/ACK: a new connection only if the old one is over and the server
    // chose a new ISN (the SYN was not captured).
    if src != c.server {
        return c.is_closed();
    }
    c.is_closed() && c.s2c().isn.is_some_and(|isn| isn != SeqNum(seg.seq))
}

/// Guesses whether `a` is the server's port, given the peer port `b`:
/// well-known beats registered beats ephemeral; otherwise the lower port.
pub fn is_server_port(a: u16, b: u16) -> bool {
    fn rank(p: u16) -> u8 {
        match p {
            0..=1023 => 0,
            1024..=32767 => 1,
            _ => 2,
        }
    }
    match rank(a).cmp(&rank(b)) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => a < b,
    }
}
