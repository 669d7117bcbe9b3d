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

pub mod app;
mod conn;
pub mod reasm;
pub mod seq;

pub use conn::{
    Connection, Dir, DirState, Event, Handshake, HttpResponseHead, IcmpInfo, RetransKind, RstInfo,
    SegKind,
};
pub use seq::SeqNum;

use crate::decode::{IcmpError, TcpSegment};
use crate::time::Ts;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::net::IpAddr;

/// An endpoint as flows keeps it: an (address, port) pair rather than the
/// `SocketAddr` the report and everything above it use. Measured: with
/// `SocketAddr` in `Connection` and in the per-packet comparisons, the
/// default table on the benchmark's big capture took 1.06x as long (11
/// paired rounds, 1.00-1.15; bench/RESULTS.md, 2026-12-08). The report
/// turns it into a `SocketAddr` once per reported connection.
type Endpoint = (IpAddr, u16);

/// A 4-tuple with its endpoints in a canonical order, as integers: hashed
/// and compared on every packet, where `IpAddr`'s derived `Hash` and `Ord`
/// (enum tag, then byte arrays) cost several times more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FlowKey {
    lo: u128,
    hi: u128,
    /// `lo`'s port in the high half, `hi`'s in the low.
    ports: u32,
    v6: bool,
}

impl FlowKey {
    fn new(a: Endpoint, b: Endpoint) -> FlowKey {
        let bits = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        // An IPv4 and an IPv6 address never meet in one packet; `v6` keeps
        // an IPv4 4-tuple apart from the IPv6 one with the same integers.
        let (x, y) = ((bits(a.0), a.1), (bits(b.0), b.1));
        let ((lo, lp), (hi, hp)) = if x <= y { (x, y) } else { (y, x) };
        FlowKey {
            lo,
            hi,
            ports: (u32::from(lp) << 16) | u32::from(hp),
            v6: a.0.is_ipv6(),
        }
    }
}

/// Counters the table keeps besides the connections themselves.
#[derive(Debug, Clone, Default)]
pub struct TableStats {
    pub tcp_packets: u64,
    pub icmp_errors: u64,
    /// ICMP errors quoting a 4-tuple with no connection in the capture.
    pub icmp_unmatched: u64,
    /// Packets of a connection that arrived after its verdict was final
    /// (streaming mode only): counted, not re-analysed.
    pub after_verdict_packets: u64,
    /// Connections dropped because the table was full (`--max-connections`).
    pub evicted: u64,
}

/// What is left of a connection once its verdict was reported, so that
/// its late packets are not mistaken for a new connection.
#[derive(Debug, Clone, Copy)]
struct Tombstone {
    client: Endpoint,
    client_isn: Option<SeqNum>,
    server_isn: Option<SeqNum>,
    /// The connection had closed (RST, or FIN both ways) when handed out.
    closed: bool,
    last: Ts,
    /// The connection's id: which queue entry is this tombstone's.
    id: u64,
}

/// What [`FlowTable::take_closed`] found of a closed connection it looked
/// at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    /// No longer held (handed out, reused or evicted).
    Gone,
    HandedOut,
    /// Had a packet less than the quiet time ago: look again later.
    NotQuiet,
}

/// How long a tombstone absorbs late packets, in capture time.
const TOMBSTONE_NS: i64 = 60_000_000_000;

/// Asks the CPU to start loading `c` into its caches, without waiting: for
/// a loop over connections that were last touched long ago or on the other
/// thread, to be called one connection ahead, so that loading the next
/// overlaps the work on this one. (A `Connection` is 1 200 bytes, 19 or 20
/// cache lines; the judging of one reads most of them.)
#[allow(unsafe_code)]
pub fn prefetch(c: &Connection) {
    #[cfg(target_arch = "x86_64")]
    {
        let p = (c as *const Connection).cast::<i8>();
        // Every line the object touches: from its first byte's line to its
        // last byte's.
        let first = (p as usize) % 64;
        for i in (0..first + std::mem::size_of::<Connection>()).step_by(64) {
            // SAFETY: a prefetch is only a hint: it neither reads nor
            // writes memory and never faults; the address is in a cache
            // line that `c` occupies.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    p.wrapping_sub(first).wrapping_add(i),
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = c;
}

/// The connection table.
///
/// Connections live in `active` until their 4-tuple is reused (then the old
/// one moves to `done`) or until [`FlowTable::take_final`] or
/// [`FlowTable::take_closed`] hands them out. They are boxed: a
/// `Connection` is over a kilobyte, and the map and the lists only move
/// pointers.
#[derive(Debug)]
pub struct FlowTable {
    active: FxHashMap<FlowKey, Box<Connection>>,
    // Boxed like `active`'s values: moved between the two without copying.
    #[allow(clippy::vec_box)]
    done: Vec<Box<Connection>>,
    /// Connections that closed (RST, or FIN both ways), in the order they
    /// did, with the time of their closing packet, by key and id: what
    /// [`FlowTable::take_closed`] looks at instead of scanning every open
    /// connection. It only looks at the front, where the closing is old
    /// enough. An entry whose connection is gone (handed out, reused,
    /// evicted) is dropped when it is looked at.
    closed: VecDeque<(Ts, FlowKey, u64)>,
    /// Closed connections that had packets after closing and were not yet
    /// quiet when their entry came up: looked at on every sweep (few).
    closing: Vec<(FlowKey, u64)>,
    /// Whether `closed` is kept (off when nobody will call `take_closed`).
    queue_closed: bool,
    reported: FxHashMap<FlowKey, Tombstone>,
    /// The tombstones in the order they were made, with the capture time
    /// then and the connection's id: a queue, not a heap, since that time
    /// only grows (it is the latest time seen). An entry is checked against
    /// its tombstone when it comes up; one refreshed by a late packet is
    /// queued again, one whose 4-tuple has a newer tombstone (with its own
    /// entry) is dropped: one entry per tombstone.
    tombstone_expiry: VecDeque<(Ts, FlowKey, u64)>,
    next_id: u64,
    max_connections: usize,
    pub stats: TableStats,
    /// DNS messages parsed from TCP port-53 connections, for the DNS
    /// tracker to take.
    pub dns_out: Vec<DnsOverTcp>,
    /// The TTL of each address's latest SYN/ACK: what its own packets look
    /// like, to tell an RST forged by a firewall at the SYN.
    synack_ttl: FxHashMap<IpAddr, u8>,
    /// Boxes of connections done with ([`FlowTable::recycle`]), reused for
    /// new ones: a 1200-byte allocation and its free per connection were
    /// a few percent of the tracking.
    #[allow(clippy::vec_box)] // boxes kept for reuse
    pool: Vec<Box<Connection>>,
}

/// Closed connections whose boxes [`FlowTable::take_closed`] starts
/// loading before it looks at them, at most.
const PREFETCH_CLOSED: usize = 64;

/// Connection boxes kept for reuse at most (about 1.2 MB).
const POOL: usize = 1024;

/// Addresses whose SYN/ACK TTL is remembered, at most.
const MAX_TTL_ADDRESSES: usize = 1 << 20;

/// A DNS message carried over TCP.
#[derive(Debug, Clone)]
pub struct DnsOverTcp {
    pub at: Event,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub msg: crate::sniff::dns::DnsMessage,
}

impl Default for FlowTable {
    fn default() -> Self {
        FlowTable::with_capacity_limit(usize::MAX)
    }
}

impl FlowTable {
    pub fn new() -> FlowTable {
        FlowTable::default()
    }

    /// A table that holds at most `max` open connections; when it is full,
    /// the least recently active tenth is evicted (and counted).
    pub fn with_capacity_limit(max: usize) -> FlowTable {
        FlowTable {
            active: FxHashMap::default(),
            done: Vec::new(),
            closed: VecDeque::new(),
            closing: Vec::new(),
            queue_closed: true,
            reported: FxHashMap::default(),
            tombstone_expiry: VecDeque::new(),
            next_id: 0,
            max_connections: max.max(1),
            stats: TableStats::default(),
            dns_out: Vec::new(),
            synack_ttl: FxHashMap::default(),
            pool: Vec::new(),
        }
    }

    /// Takes back connections done with (reported, or only counted), to
    /// reuse their boxes; the rest are dropped.
    pub fn recycle(&mut self, conns: impl IntoIterator<Item = Box<Connection>>) {
        for c in conns {
            if self.pool.len() < POOL {
                self.pool.push(c);
            }
        }
    }

    /// The TTL of `ip`'s latest SYN/ACK in the capture so far.
    pub fn synack_ttl(&self, ip: IpAddr) -> Option<u8> {
        self.synack_ttl.get(&ip).copied()
    }

    /// Open connections.
    pub fn open_connections(&self) -> usize {
        self.active.len()
    }

    /// Feeds one TCP segment.
    pub fn on_tcp(&mut self, seg: &TcpSegment<'_>, at: Event) {
        self.on_tcp_with(seg, seg.payload, at);
    }

    /// [`FlowTable::on_tcp`] with the segment's captured payload apart
    /// (`seg.payload` is not read): for a segment kept without it, fed
    /// where it lies (no copy of the segment per packet).
    pub fn on_tcp_with(&mut self, seg: &TcpSegment<'_>, payload: &[u8], at: Event) {
        self.stats.tcp_packets += 1;
        let src = (seg.ip.src, seg.src_port);
        let dst = (seg.ip.dst, seg.dst_port);
        let key = FlowKey::new(src, dst);
        let f = seg.flags;
        if f.syn() && f.ack() && !f.rst() {
            if self.synack_ttl.len() < MAX_TTL_ADDRESSES {
                self.synack_ttl.insert(src.0, seg.ip.ttl);
            } else if let Some(t) = self.synack_ttl.get_mut(&src.0) {
                *t = seg.ip.ttl;
            }
        }

        let mut reused = false;
        if let Some(c) = self.active.get_mut(&key) {
            if !starts_new_connection(c, seg, src) {
                let dir = c.dir_of(src);
                let was_closed = c.is_closed();
                c.on_segment_with(dir, seg, payload, at);
                // DNS messages come only from payload (`AppState::on_payload`).
                if !payload.is_empty() {
                    collect_dns(c, &mut self.dns_out);
                }
                if f.rst() {
                    note_other_ttl(c, dir, at, &self.synack_ttl);
                }
                if self.queue_closed && !was_closed && c.is_closed() {
                    self.closed.push_back((at.ts, key, c.id));
                }
                return;
            }
            reused = true;
            if let Some(old) = self.active.remove(&key) {
                self.done.push(old);
            }
        } else if let Some(t) = self.reported.get_mut(&key) {
            // A late packet of a connection already reported, unless it is
            // a SYN with a new ISN (a new attempt on the same ports).
            // The same rules as for a live connection
            // (`starts_new_connection`), so that ids do not depend on
            // whether the old connection was handed out already.
            let new_attempt = if f.rst() || !f.syn() {
                false
            } else if !f.ack() {
                !(src == t.client && t.client_isn == Some(SeqNum(seg.seq)))
            } else if src == t.client {
                t.closed
            } else {
                t.closed && t.server_isn.is_some_and(|isn| isn != SeqNum(seg.seq))
            };
            if !new_attempt {
                t.last = at.ts;
                self.stats.after_verdict_packets += 1;
                return;
            }
            self.reported.remove(&key);
            reused = true;
        }

        if self.active.len() >= self.max_connections {
            self.evict_oldest();
        }
        let (client, server, inferred) = if f.syn() && !f.ack() {
            (src, dst, false)
        } else if f.syn() && f.ack() {
            (dst, src, false)
        } else if is_server_port(src.1, dst.1) {
            (dst, src, true)
        } else {
            (src, dst, true)
        };
        let fresh = Connection::new(self.next_id, client, server, inferred, at);
        let mut c = match self.pool.pop() {
            Some(mut b) => {
                *b = fresh; // the old connection's state is dropped here
                if let Some(next) = self.pool.last() {
                    prefetch(next); // the next new connection's box
                }
                b
            }
            None => Box::new(fresh),
        };
        self.next_id += 1;
        c.reused_ports = reused;
        let dir = c.dir_of(src);
        c.on_segment_with(dir, seg, payload, at);
        if !payload.is_empty() {
            collect_dns(&mut c, &mut self.dns_out);
        }
        if f.rst() {
            note_other_ttl(&mut c, dir, at, &self.synack_ttl);
        }
        if self.queue_closed && c.is_closed() {
            self.closed.push_back((at.ts, key, c.id));
        }
        self.active.insert(key, c);
    }

    /// Drops the least recently active tenth of the open connections.
    fn evict_oldest(&mut self) {
        let mut lasts: Vec<Ts> = self.active.values().map(|c| c.last.ts).collect();
        let n = (lasts.len() / 10).max(1);
        let (_, cut, _) = lasts.select_nth_unstable(n - 1);
        let cut = *cut;
        let before = self.active.len();
        let mut left = n;
        self.active.retain(|_, c| {
            if left > 0 && c.last.ts <= cut {
                left -= 1;
                false
            } else {
                true
            }
        });
        self.stats.evicted += (before - self.active.len()) as u64;
    }

    /// Feeds an ICMP error; it is attached to the connection it quotes.
    pub fn on_icmp(&mut self, err: &IcmpError, at: Event) {
        self.stats.icmp_errors += 1;
        let q = err.quoted;
        let key = FlowKey::new((q.src, q.src_port), (q.dst, q.dst_port));
        match self.active.get_mut(&key) {
            Some(c) => c.on_icmp(err, at),
            None if self.reported.contains_key(&key) => self.stats.after_verdict_packets += 1,
            None => self.stats.icmp_unmatched += 1,
        }
    }

    /// Removes and returns the connections whose verdict is final at `now`
    /// (per `is_final`), and those whose 4-tuple was reused; remembers them
    /// so that their late packets are absorbed. Ordered by id.
    pub fn take_final(
        &mut self,
        now: Ts,
        is_final: impl Fn(&Connection) -> bool,
    ) -> Vec<Box<Connection>> {
        let mut out = std::mem::take(&mut self.done);
        let keys: Vec<FlowKey> = self
            .active
            .iter()
            .filter(|(_, c)| is_final(c))
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            if let Some(c) = self.active.remove(&k) {
                self.bury(k, &c, now);
                out.push(c);
            }
        }
        let active = &self.active;
        let holds = |k: &FlowKey, id: u64| active.get(k).is_some_and(|c| c.id == id);
        self.closed.retain(|(_, k, id)| holds(k, *id));
        self.closing.retain(|(k, id)| holds(k, *id));
        self.expire_tombstones(now);
        out.sort_unstable_by_key(|c| c.id);
        out
    }

    /// [`FlowTable::take_final`] for connections that are closed (RST, or
    /// FIN both ways) and whose last packet is at least `quiet_ns` before
    /// `now`, and those whose 4-tuple was reused. Only the connections that
    /// closed are looked at, not every open one; of those, only the ones
    /// that closed `quiet_ns` before `now` (a connection's last packet is
    /// never before its closing one in a capture in time order; in one
    /// out of order, a connection may be handed out a sweep later).
    pub fn take_closed(&mut self, now: Ts, quiet_ns: i64) -> Vec<Box<Connection>> {
        let mut out = std::mem::take(&mut self.done);
        let mut closing = std::mem::take(&mut self.closing);
        // Start loading the connections about to be looked at (last
        // touched a second of capture time ago): their loads overlap.
        let ready = |&&(at, _, _): &&(Ts, FlowKey, u64)| now.nanos_since(at) >= quiet_ns;
        for (_, k, _) in self.closed.iter().take_while(ready).take(PREFETCH_CLOSED) {
            if let Some(c) = self.active.get(k) {
                prefetch(c);
            }
        }
        closing.retain(|&(k, id)| {
            self.hand_out_if_quiet(k, id, now, quiet_ns, &mut out) == Closing::NotQuiet
        });
        while let Some(&(at, k, id)) = self.closed.front() {
            if now.nanos_since(at) < quiet_ns {
                break;
            }
            self.closed.pop_front();
            if self.hand_out_if_quiet(k, id, now, quiet_ns, &mut out) == Closing::NotQuiet {
                closing.push((k, id)); // a packet since closing: look again
            }
        }
        self.closing = closing;
        self.expire_tombstones(now);
        out.sort_unstable_by_key(|c| c.id);
        out
    }

    /// Hands out connection `id` on `k` if it is still held and its last
    /// packet is `quiet_ns` before `now`; says which it was.
    #[allow(clippy::vec_box)] // the table's own boxes, moved
    fn hand_out_if_quiet(
        &mut self,
        k: FlowKey,
        id: u64,
        now: Ts,
        quiet_ns: i64,
        out: &mut Vec<Box<Connection>>,
    ) -> Closing {
        match self.active.get(&k) {
            Some(c) if c.id == id && now.nanos_since(c.last.ts) < quiet_ns => Closing::NotQuiet,
            Some(c) if c.id == id => {
                if let Some(c) = self.active.remove(&k) {
                    self.bury(k, &c, now);
                    out.push(c);
                }
                Closing::HandedOut
            }
            _ => Closing::Gone,
        }
    }

    /// Stops (or resumes) queueing the connections that close, for a
    /// caller that never calls [`FlowTable::take_closed`]: the queue would
    /// otherwise grow with every connection of the capture. Resuming only
    /// queues connections that close from then on.
    pub fn set_queue_closed(&mut self, on: bool) {
        self.queue_closed = on;
        if !on {
            self.closed = VecDeque::new();
            self.closing = Vec::new();
        }
    }

    /// Remembers a connection handed out, so that its late packets are
    /// absorbed rather than taken for a new connection. `now` is the
    /// capture time of the hand-out, never before the connection's last
    /// packet.
    fn bury(&mut self, k: FlowKey, c: &Connection, now: Ts) {
        self.reported.insert(
            k,
            Tombstone {
                client: c.client,
                client_isn: c.c2s().isn,
                server_isn: c.s2c().isn,
                closed: c.is_closed(),
                last: c.last.ts,
                id: c.id,
            },
        );
        self.tombstone_expiry
            .push_back((now.max(c.last.ts), k, c.id));
    }

    /// Forgets the tombstones whose last packet is [`TOMBSTONE_NS`] or more
    /// before `now`, from the front of the queue rather than by scanning
    /// all of them. A tombstone is only forgotten once its own last packet
    /// is that old, so one may live a little longer than that (by the time
    /// between its last packet and its hand-out, or when queued again out
    /// of order), never shorter.
    fn expire_tombstones(&mut self, now: Ts) {
        while let Some(&(queued, k, id)) = self.tombstone_expiry.front() {
            if now.nanos_since(queued) < TOMBSTONE_NS {
                break;
            }
            self.tombstone_expiry.pop_front();
            match self.reported.get(&k) {
                // Gone, or a newer connection's tombstone: not this entry's.
                None => {}
                Some(t) if t.id != id => {}
                Some(t) if now.nanos_since(t.last) >= TOMBSTONE_NS => {
                    self.reported.remove(&k);
                }
                // Refreshed by a late packet: not yet.
                Some(t) => self.tombstone_expiry.push_back((t.last, k, id)),
            }
        }
    }

    /// All connections, in order of their first packet.
    pub fn connections(&self) -> Vec<&Connection> {
        let mut v: Vec<&Connection> = self
            .done
            .iter()
            .chain(self.active.values())
            .map(|c| &**c)
            .collect();
        v.sort_by_key(|c| c.id);
        v
    }

    /// Hands over the connections still held, by id, leaving the table
    /// empty of them (what it learned about addresses stays).
    pub fn drain_connections(&mut self) -> Vec<Box<Connection>> {
        let mut v = std::mem::take(&mut self.done);
        v.extend(self.active.drain().map(|(_, c)| c));
        self.closed.clear();
        self.closing.clear();
        v.sort_unstable_by_key(|c| c.id);
        v
    }

    /// Ends tracking and hands over the connections still held, by id.
    pub fn into_connections(self) -> Vec<Connection> {
        let mut v = self.done;
        v.extend(self.active.into_values());
        v.sort_unstable_by_key(|c| c.id);
        v.into_iter().map(|c| *c).collect()
    }
}

/// For an RST that is its side's first packet, notes the TTL the same
/// address's SYN/ACKs had in other connections.
fn note_other_ttl(c: &mut Connection, dir: Dir, at: Event, ttls: &FxHashMap<IpAddr, u8>) {
    let src = match dir {
        Dir::ClientToServer => c.client.0,
        Dir::ServerToClient => c.server.0,
    };
    if let Some(&ttl) = ttls.get(&src)
        && c.dirs[dir.index()].rst.is_some_and(|r| r.at == at)
    {
        c.note_other_conn_ttl(dir, ttl);
    }
}

/// Moves the DNS messages a connection's sniffer parsed to `out`.
fn collect_dns(c: &mut Connection, out: &mut Vec<DnsOverTcp>) {
    let Some(app) = c.app.as_mut().filter(|a| !a.dns_out.is_empty()) else {
        return;
    };
    for (at, dir, msg) in app.dns_out.drain(..) {
        let (src, dst) = match dir {
            Dir::ClientToServer => (c.client, c.server),
            Dir::ServerToClient => (c.server, c.client),
        };
        out.push(DnsOverTcp { at, src, dst, msg });
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
            src == c.client && c.handshake.syn_count > 0 && c.c2s().isn == Some(SeqNum(seg.seq));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{IpInfo, TcpFlags, TcpOptions};
    use std::net::Ipv4Addr;

    const S: u8 = TcpFlags::SYN;
    const A: u8 = TcpFlags::ACK;
    const F: u8 = TcpFlags::FIN;
    const SEC: i64 = 1_000_000_000;

    struct Feed {
        table: FlowTable,
        frame: u64,
    }

    impl Feed {
        /// A segment of the connection on client port `cport` at `t_ns`.
        fn seg(&mut self, cport: u16, from_client: bool, t_ns: i64, flags: u8, seq: u32, ack: u32) {
            self.frame += 1;
            let (c, s) = (
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            );
            let (src, dst, sp, dp) = if from_client {
                (c, s, cport, 80)
            } else {
                (s, c, 80, cport)
            };
            let seg = TcpSegment {
                ip: IpInfo {
                    src,
                    dst,
                    ttl: 64,
                    ip_id: None,
                },
                src_port: sp,
                dst_port: dp,
                seq,
                ack,
                flags: TcpFlags(flags),
                window: 1000,
                options: TcpOptions::default(),
                payload_len: 0,
                payload: &[],
                options_truncated: false,
            };
            let at = Event {
                frame: self.frame,
                ts: Ts(t_ns),
            };
            self.table.on_tcp(&seg, at);
        }

        /// Handshake and FIN both ways from `t_ns`, 1 ms apart.
        fn closed_conn(&mut self, cport: u16, isn: u32, t_ns: i64) {
            let ms = 1_000_000;
            self.seg(cport, true, t_ns, S, isn, 0);
            self.seg(cport, false, t_ns + ms, S | A, 500, isn + 1);
            self.seg(cport, true, t_ns + 2 * ms, A, isn + 1, 501);
            self.seg(cport, true, t_ns + 3 * ms, F | A, isn + 1, 501);
            self.seg(cport, false, t_ns + 4 * ms, F | A, 501, isn + 2);
            self.seg(cport, true, t_ns + 5 * ms, A, isn + 2, 502);
        }
    }

    fn ids(v: &[Box<Connection>]) -> Vec<u64> {
        v.iter().map(|c| c.id).collect()
    }

    #[test]
    fn a_new_syn_ack_after_hand_out_starts_a_connection_as_it_would_live() {
        // A closed connection, then a SYN/ACK with a new server ISN on the
        // same ports (the new SYN was not captured), then another SYN/ACK
        // repeating it: whether the first connection was handed out before
        // or not, the ids are the same.
        let run = |hand_out: bool| {
            let mut f = Feed {
                table: FlowTable::new(),
                frame: 0,
            };
            f.closed_conn(40000, 1000, 0);
            let mut out = Vec::new();
            if hand_out {
                out.extend(ids(&f.table.take_closed(Ts(2 * SEC), SEC)));
            }
            f.seg(40000, false, 3 * SEC, S | A, 9000, 5001);
            f.seg(40000, false, 4 * SEC, S | A, 9000, 5001);
            let mut all: Vec<u64> = f.table.connections().iter().map(|c| c.id).collect();
            all.extend(out);
            all.sort_unstable();
            all
        };
        assert_eq!(run(false), [0, 1]);
        assert_eq!(run(true), [0, 1]);
    }

    #[test]
    fn closed_connections_are_handed_out_once_quiet_and_their_tombstones_expire() {
        let mut f = Feed {
            table: FlowTable::new(),
            frame: 0,
        };
        f.closed_conn(40000, 1000, 0); // id 0, last packet at 5 ms
        f.seg(40001, true, 0, S, 7, 0); // id 1: never closes
        f.closed_conn(40002, 2000, 500_000_000); // id 2, last at 505 ms
        assert!(
            f.table.take_closed(Ts(SEC), SEC).is_empty(),
            "not quiet yet"
        );
        assert_eq!(ids(&f.table.take_closed(Ts(SEC + 5_000_000), SEC)), [0]);
        assert_eq!(ids(&f.table.take_closed(Ts(2 * SEC), SEC)), [2]);
        assert!(f.table.take_closed(Ts(3 * SEC), SEC).is_empty());
        assert_eq!(f.table.open_connections(), 1);

        // A late ACK of connection 0 at 30 s is absorbed and refreshes its
        // tombstone: it must outlive the 60 s counted from the first burial.
        f.seg(40000, true, 30 * SEC, A, 1002, 502);
        assert_eq!(f.table.stats.after_verdict_packets, 1);
        assert!(f.table.take_closed(Ts(70 * SEC), SEC).is_empty());
        assert!(f.table.reported.contains_key(&FlowKey::new(
            (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000),
            (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80)
        )));
        f.seg(40000, true, 80 * SEC, A, 1002, 502);
        assert_eq!(f.table.stats.after_verdict_packets, 2);
        // 60 s after the last late packet, both tombstones are gone: a new
        // packet on the same ports is a new connection.
        assert!(f.table.take_closed(Ts(141 * SEC), SEC).is_empty());
        assert!(f.table.reported.is_empty());
        f.seg(40000, true, 142 * SEC, A, 5000, 600);
        assert_eq!(f.table.open_connections(), 2);
        assert_eq!(f.table.stats.after_verdict_packets, 2);
    }

    #[test]
    fn a_packet_after_closing_delays_the_hand_out_until_quiet_again() {
        let mut f = Feed {
            table: FlowTable::new(),
            frame: 0,
        };
        f.closed_conn(40000, 1000, 0); // id 0, closed at 4 ms
        f.closed_conn(40002, 2000, 10_000_000); // id 1, closed at 14 ms
        // A retransmitted FIN of connection 0 at 800 ms.
        f.seg(40000, true, 800_000_000, F | A, 1001, 502);
        // At 1.1 s: connection 0 closed long enough ago but had a packet
        // since; connection 1, behind it in the queue, is quiet.
        assert_eq!(ids(&f.table.take_closed(Ts(1_100_000_000), SEC)), [1]);
        assert_eq!(f.table.closing.len(), 1);
        assert!(f.table.take_closed(Ts(1_700_000_000), SEC).is_empty());
        assert_eq!(ids(&f.table.take_closed(Ts(1_800_000_000), SEC)), [0]);
        assert!(f.table.closing.is_empty() && f.table.closed.is_empty());
        assert_eq!(f.table.open_connections(), 0);
    }

    #[test]
    fn one_tuple_reused_for_ten_minutes_keeps_one_tombstone_entry() {
        // A connection every second on the same ports, each handed out: the
        // expiry queue holds the last minute's entries, not every burial
        // (entries of tombstones replaced by newer ones were queued again
        // forever).
        let mut f = Feed {
            table: FlowTable::new(),
            frame: 0,
        };
        for i in 0..600u32 {
            let t = i64::from(i) * SEC;
            f.closed_conn(40000, 1000 + i * 100_000, t);
            f.table.take_closed(Ts(t + SEC / 2), SEC / 4);
        }
        assert_eq!(f.table.reported.len(), 1);
        assert!(
            f.table.tombstone_expiry.len() <= 62,
            "{} entries",
            f.table.tombstone_expiry.len()
        );
    }

    #[test]
    fn a_reused_four_tuple_hands_out_the_old_connection_not_the_new_one() {
        let mut f = Feed {
            table: FlowTable::new(),
            frame: 0,
        };
        f.closed_conn(40000, 1000, 0); // id 0
        f.seg(40000, true, 100_000_000, S, 9000, 0); // id 1: a new ISN
        // The old one goes out (as reused) at once; the new one, open, stays,
        // and the stale queue entry of id 0 does not take it.
        assert_eq!(ids(&f.table.take_closed(Ts(100_000_000), SEC)), [0]);
        assert!(f.table.take_closed(Ts(10 * SEC), SEC).is_empty());
        assert_eq!(f.table.open_connections(), 1);
        assert!(f.table.closed.is_empty());
    }
}
