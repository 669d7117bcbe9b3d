//! Pairs DNS queries with their responses.
//!
//! [`DnsTracker`] pairs each query with its response, recognises
//! retransmissions (same client, server, name and type while unanswered,
//! whatever the ID or source port), classifies the outcome
//! ([`DnsOutcome`]) and remembers which name each answered address was
//! asked for ([`DnsTracker::name_for`]). All of its memory is capped.

use super::wire::{DnsMessage, Question, RecordData, TYPE_ANY};
use crate::packet::Event;
use crate::time::Ts;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

/// Resolver wait before an unanswered query is a timeout (glibc's default
/// `timeout:5`).
pub const DEFAULT_TIMEOUT_NS: i64 = 5_000_000_000;
/// At the end of the capture, an unanswered query at least this old is a
/// timeout (shorter waits are [`DnsOutcome::Pending`]).
pub const FINISH_TIMEOUT_NS: i64 = 2_000_000_000;
/// Queries held (open or answered and not yet handed out).
pub const MAX_OPEN_QUERIES: usize = 100_000;
/// Addresses remembered by [`DnsTracker::name_for`].
pub const MAX_NAMED_ADDRESSES: usize = 1_000_000;
/// Query frames kept per query (the count is in `retransmissions`).
pub const MAX_QUERY_FRAMES: usize = 8;
/// Addresses kept per answer.
pub const MAX_ADDRESSES: usize = 32;
/// CNAME chain links kept (and followed) per answer.
pub const MAX_CNAMES: usize = 16;
/// Names remembered per address (several names can share one address).
pub const NAMES_PER_ADDRESS: usize = 4;

/// The transport a DNS message travelled over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// UDP (port 53).
    Udp,
    /// TCP (port 53), length-prefixed messages.
    Tcp,
}

impl Transport {
    /// `udp` or `tcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// How a DNS query ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsOutcome {
    /// NOERROR with at least one record of the asked type.
    Answer,
    /// RCODE 3: the name does not exist.
    Nxdomain,
    /// RCODE 2: the server could not resolve it.
    Servfail,
    /// RCODE 5: the server refused to answer.
    Refused,
    /// NOERROR without a record of the asked type (normal for AAAA on an
    /// IPv4-only name).
    Nodata,
    /// Any other RCODE (FORMERR, NOTIMP, BADCOOKIE...); see `rcode`.
    OtherError,
    /// No response within the resolver timeout.
    Timeout,
    /// No response yet, and the capture ended less than
    /// [`FINISH_TIMEOUT_NS`] after the query.
    Pending,
}

impl DnsOutcome {
    /// The snake_case name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            DnsOutcome::Answer => "answer",
            DnsOutcome::Nxdomain => "nxdomain",
            DnsOutcome::Servfail => "servfail",
            DnsOutcome::Refused => "refused",
            DnsOutcome::Nodata => "nodata",
            DnsOutcome::OtherError => "other_error",
            DnsOutcome::Timeout => "timeout",
            DnsOutcome::Pending => "pending",
        }
    }

    /// The name did not resolve: NXDOMAIN, SERVFAIL, REFUSED, another error
    /// RCODE, or a timeout. NODATA is not a failure (the name exists; AAAA
    /// queries for IPv4-only names get it all the time), nor is Pending.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            DnsOutcome::Nxdomain
                | DnsOutcome::Servfail
                | DnsOutcome::Refused
                | DnsOutcome::OtherError
                | DnsOutcome::Timeout
        )
    }

    fn from_response(rcode: u16, has_asked_type: bool) -> DnsOutcome {
        match rcode {
            0 if has_asked_type => DnsOutcome::Answer,
            0 => DnsOutcome::Nodata,
            2 => DnsOutcome::Servfail,
            3 => DnsOutcome::Nxdomain,
            5 => DnsOutcome::Refused,
            _ => DnsOutcome::OtherError,
        }
    }
}

/// One DNS query (with its retransmissions) and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuery {
    /// The name asked for (first question).
    pub name: String,
    /// The QTYPE asked for.
    pub qtype: u16,
    /// The resolver (stub) that asked: the first query's source.
    pub client: (IpAddr, u16),
    /// The server asked: the first query's destination.
    pub server: (IpAddr, u16),
    /// Transport of the first query.
    pub transport: Transport,
    /// Transaction ID of the first query.
    pub id: u16,
    /// The first query packet.
    pub first: Event,
    /// Frames of the query packets, first one included, at most
    /// [`MAX_QUERY_FRAMES`].
    pub query_frames: Vec<u64>,
    /// Query packets after the first one (same ID or not).
    pub retransmissions: u32,
    /// The response packet, when one arrived.
    pub response: Option<Event>,
    /// The response's RCODE (extended by EDNS).
    pub rcode: Option<u16>,
    /// How the query ended (Timeout/Pending until it is final).
    pub outcome: DnsOutcome,
    /// A and AAAA addresses of the answer (at most [`MAX_ADDRESSES`]).
    pub addresses: Vec<IpAddr>,
    /// The CNAME chain from the asked name, in order (at most
    /// [`MAX_CNAMES`]).
    pub cnames: Vec<String>,
}

/// (client IP, server IP, name, qtype): what identifies a retransmission.
type LooseKey = (IpAddr, IpAddr, String, u16);
/// (client, server, id, name, qtype): what identifies one query packet.
type ExactKey = ((IpAddr, u16), (IpAddr, u16), u16, String, u16);

#[derive(Debug)]
struct Entry {
    query: DnsQuery,
    /// Shared with the name_for map.
    name: Arc<str>,
    exact_keys: Vec<ExactKey>,
}

/// Pairs DNS queries with responses. Feed it every DNS message in capture
/// order with [`on_message`](Self::on_message); collect finished queries
/// with [`take_final`](Self::take_final) and, at the end,
/// [`finish`](Self::finish).
#[derive(Debug)]
pub struct DnsTracker {
    timeout_ns: i64,
    next_seq: u64,
    /// Queries not yet handed out, by arrival order (= first query frame).
    entries: BTreeMap<u64, Entry>,
    /// Sequence numbers of answered entries.
    answered: BTreeSet<u64>,
    /// Unanswered entries by retransmission key.
    open: HashMap<LooseKey, u64>,
    /// All entries by the exact key of each of their query packets.
    exact: HashMap<ExactKey, u64>,
    /// Entries evicted for space, final, waiting to be handed out.
    evicted: Vec<DnsQuery>,
    /// Per address, the last few (frame of the answer, asked name).
    names: HashMap<IpAddr, Vec<(u64, Arc<str>)>>,
    names_order: VecDeque<IpAddr>,
    unmatched_responses: u64,
    duplicate_responses: u64,
    dropped_queries: u64,
    evicted_names: u64,
}

impl Default for DnsTracker {
    fn default() -> Self {
        DnsTracker::new(DEFAULT_TIMEOUT_NS)
    }
}

impl DnsTracker {
    /// A tracker that calls a query timed out after `timeout_ns` without a
    /// response ([`DEFAULT_TIMEOUT_NS`] is the usual resolver wait).
    pub fn new(timeout_ns: i64) -> Self {
        DnsTracker {
            timeout_ns: timeout_ns.max(0),
            next_seq: 0,
            entries: BTreeMap::new(),
            answered: BTreeSet::new(),
            open: HashMap::new(),
            exact: HashMap::new(),
            evicted: Vec::new(),
            names: HashMap::new(),
            names_order: VecDeque::new(),
            unmatched_responses: 0,
            duplicate_responses: 0,
            dropped_queries: 0,
            evicted_names: 0,
        }
    }

    /// One DNS message seen at `at`, sent from `src` to `dst`.
    ///
    /// Only standard queries (opcode 0) with at least one question are
    /// tracked, by their first question.
    pub fn on_message(
        &mut self,
        at: Event,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        transport: Transport,
        msg: &DnsMessage,
    ) {
        if msg.opcode != 0 {
            return;
        }
        let Some(q) = msg.questions.first() else {
            if msg.response {
                self.unmatched_responses += 1;
            }
            return;
        };
        if msg.response {
            self.on_response(at, src, dst, msg, q);
        } else {
            self.on_query(at, src, dst, transport, msg.id, q);
        }
    }

    fn on_query(
        &mut self,
        at: Event,
        client: (IpAddr, u16),
        server: (IpAddr, u16),
        transport: Transport,
        id: u16,
        q: &Question,
    ) {
        let loose: LooseKey = (client.0, server.0, q.name.clone(), q.qtype);
        let exact: ExactKey = (client, server, id, q.name.clone(), q.qtype);
        if let Some(&seq) = self.open.get(&loose)
            && let Some(entry) = self.entries.get_mut(&seq)
        {
            let query = &mut entry.query;
            query.retransmissions = query.retransmissions.saturating_add(1);
            if query.query_frames.len() < MAX_QUERY_FRAMES {
                query.query_frames.push(at.frame);
            }
            // The newest query packet owns its exact key (an answered
            // query may have used the same ID and port).
            if entry.exact_keys.len() < MAX_QUERY_FRAMES && self.exact.get(&exact) != Some(&seq) {
                entry.exact_keys.push(exact.clone());
                self.exact.insert(exact, seq);
            }
            return;
        }
        if self.entries.len() >= MAX_OPEN_QUERIES {
            self.evict_oldest(at.ts);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let name: Arc<str> = Arc::from(q.name.as_str());
        self.open.insert(loose, seq);
        // A newer query with the same exact key takes it over.
        self.exact.insert(exact.clone(), seq);
        self.entries.insert(
            seq,
            Entry {
                query: DnsQuery {
                    name: q.name.clone(),
                    qtype: q.qtype,
                    client,
                    server,
                    transport,
                    id,
                    first: at,
                    query_frames: vec![at.frame],
                    retransmissions: 0,
                    response: None,
                    rcode: None,
                    outcome: DnsOutcome::Pending,
                    addresses: Vec::new(),
                    cnames: Vec::new(),
                },
                name,
                exact_keys: vec![exact],
            },
        );
    }

    fn on_response(
        &mut self,
        at: Event,
        server: (IpAddr, u16),
        client: (IpAddr, u16),
        msg: &DnsMessage,
        q: &Question,
    ) {
        let exact: ExactKey = (client, server, msg.id, q.name.clone(), q.qtype);
        let seq = match self.exact.get(&exact) {
            Some(&seq) => seq,
            None => {
                let loose: LooseKey = (client.0, server.0, q.name.clone(), q.qtype);
                match self.open.get(&loose) {
                    Some(&seq) => seq,
                    None => {
                        self.unmatched_responses += 1;
                        return;
                    }
                }
            }
        };
        if self.answered.contains(&seq) {
            self.duplicate_responses += 1;
            return;
        }
        let Some(entry) = self.entries.get_mut(&seq) else {
            self.unmatched_responses += 1;
            return;
        };
        let query = &mut entry.query;
        let (cnames, addresses, has_asked_type) = follow_chain(&query.name, query.qtype, msg);
        // Answers cut short by a parse fault: trust the count.
        let has_asked_type =
            has_asked_type || (!msg.complete && usize::from(msg.answer_count) > msg.answers.len());
        query.response = Some(at);
        query.rcode = Some(msg.rcode);
        query.outcome = DnsOutcome::from_response(msg.rcode, has_asked_type);
        query.cnames = cnames;
        query.addresses = addresses;
        let loose: LooseKey = (
            query.client.0,
            query.server.0,
            query.name.clone(),
            query.qtype,
        );
        if self.open.get(&loose) == Some(&seq) {
            self.open.remove(&loose);
        }
        self.answered.insert(seq);
        if msg.rcode == 0 {
            let name = entry.name.clone();
            for ip in entry.query.addresses.clone() {
                self.remember(ip, at.frame, name.clone());
            }
        }
    }

    fn remember(&mut self, ip: IpAddr, frame: u64, name: Arc<str>) {
        if let Some(slot) = self.names.get_mut(&ip) {
            if slot.last().is_some_and(|(_, n)| *n == name) {
                return;
            }
            if slot.len() >= NAMES_PER_ADDRESS {
                slot.remove(0);
            }
            slot.push((frame, name));
            return;
        }
        while self.names.len() >= MAX_NAMED_ADDRESSES {
            match self.names_order.pop_front() {
                Some(old) => {
                    self.names.remove(&old);
                    self.evicted_names += 1;
                }
                None => break,
            }
        }
        self.names.insert(ip, vec![(frame, name)]);
        self.names_order.push_back(ip);
    }

    /// Removes an entry from every index and returns its query.
    fn remove(&mut self, seq: u64) -> Option<DnsQuery> {
        let entry = self.entries.remove(&seq)?;
        self.answered.remove(&seq);
        for key in entry.exact_keys {
            if self.exact.get(&key) == Some(&seq) {
                self.exact.remove(&key);
            }
        }
        let q = &entry.query;
        let loose: LooseKey = (q.client.0, q.server.0, q.name.clone(), q.qtype);
        if self.open.get(&loose) == Some(&seq) {
            self.open.remove(&loose);
        }
        Some(entry.query)
    }

    fn unanswered_outcome(&self, first: Ts, now: Ts, threshold_ns: i64) -> DnsOutcome {
        if now.nanos_since(first) >= threshold_ns {
            DnsOutcome::Timeout
        } else {
            DnsOutcome::Pending
        }
    }

    fn evict_oldest(&mut self, now: Ts) {
        let Some(seq) = self.entries.keys().next().copied() else {
            return;
        };
        let answered = self.answered.contains(&seq);
        let Some(mut q) = self.remove(seq) else {
            return;
        };
        if !answered {
            q.outcome = self.unanswered_outcome(q.first.ts, now, self.finish_threshold());
        }
        if self.evicted.len() < MAX_OPEN_QUERIES {
            self.evicted.push(q);
        } else {
            self.dropped_queries += 1;
        }
    }

    fn finish_threshold(&self) -> i64 {
        self.timeout_ns.min(FINISH_TIMEOUT_NS)
    }

    /// Moves out the queries whose outcome is final at capture time `now`:
    /// answered ones, and unanswered ones at least the timeout old
    /// ([`DnsOutcome::Timeout`]); in order of first query frame.
    ///
    /// Timeouts are found from the oldest query on and the scan stops at the
    /// first query still waiting, so with timestamps that go backwards a
    /// timed-out query may be handed out by a later call (or by
    /// [`finish`](Self::finish)).
    pub fn take_final(&mut self, now: Ts) -> Vec<DnsQuery> {
        let mut out: Vec<(u64, DnsQuery)> = Vec::new();
        let evicted = std::mem::take(&mut self.evicted);
        let answered: Vec<u64> = self.answered.iter().copied().collect();
        for seq in answered {
            if let Some(q) = self.remove(seq) {
                out.push((seq, q));
            }
        }
        while let Some((&seq, entry)) = self.entries.iter().next() {
            if now.nanos_since(entry.query.first.ts) < self.timeout_ns {
                break;
            }
            if let Some(mut q) = self.remove(seq) {
                q.outcome = DnsOutcome::Timeout;
                out.push((seq, q));
            }
        }
        out.sort_by_key(|(seq, _)| *seq);
        evicted
            .into_iter()
            .chain(out.into_iter().map(|(_, q)| q))
            .collect()
    }

    /// End of capture at `now`: hands out everything left, in order of first
    /// query frame. An unanswered query is a [`DnsOutcome::Timeout`] if the
    /// capture ran on for at least [`FINISH_TIMEOUT_NS`] (or the timeout,
    /// if shorter) after it, else [`DnsOutcome::Pending`].
    pub fn finish(&mut self, now: Ts) -> Vec<DnsQuery> {
        let threshold = self.finish_threshold();
        let mut out = std::mem::take(&mut self.evicted);
        let entries = std::mem::take(&mut self.entries);
        let answered = std::mem::take(&mut self.answered);
        self.open.clear();
        self.exact.clear();
        for (seq, entry) in entries {
            let mut q = entry.query;
            if !answered.contains(&seq) {
                q.outcome = self.unanswered_outcome(q.first.ts, now, threshold);
            }
            out.push(q);
        }
        out
    }

    /// The name that was asked for when `ip` was last given as an answer
    /// (with a CNAME chain, the name the client asked for, not the
    /// canonical one), among the responses seen so far.
    pub fn name_for(&self, ip: IpAddr) -> Option<&str> {
        self.names.get(&ip)?.last().map(|(_, n)| &**n)
    }

    /// The name `ip` was last given by an answer in a frame before `frame`
    /// (the first packet of a connection): a later answer, or one for
    /// another name sharing the address later, does not name it.
    pub fn name_before(&self, ip: IpAddr, frame: u64) -> Option<&str> {
        self.names
            .get(&ip)?
            .iter()
            .rev()
            .find(|(f, _)| *f < frame)
            .map(|(_, n)| &**n)
    }

    /// Queries held: unanswered ones, and answered ones not yet handed out
    /// by [`take_final`](Self::take_final).
    pub fn len(&self) -> usize {
        self.entries.len() + self.evicted.len()
    }

    /// No query is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Responses that matched no query (their query was not captured, or
    /// was already handed out), plus responses without a question.
    pub fn unmatched_responses(&self) -> u64 {
        self.unmatched_responses
    }

    /// Responses to a query that already had one.
    pub fn duplicate_responses(&self) -> u64 {
        self.duplicate_responses
    }

    /// Queries lost because more than [`MAX_OPEN_QUERIES`] were held and
    /// the eviction buffer was full too.
    pub fn dropped_queries(&self) -> u64 {
        self.dropped_queries
    }

    /// Addresses forgotten by [`name_for`](Self::name_for) because more
    /// than [`MAX_NAMED_ADDRESSES`] were known (oldest first).
    pub fn evicted_names(&self) -> u64 {
        self.evicted_names
    }
}

/// Follows the CNAME chain from `name` through the answer section.
/// Returns the chain, the A/AAAA addresses owned by a name of the chain,
/// and whether a record of the asked type is owned by one.
fn follow_chain(name: &str, qtype: u16, msg: &DnsMessage) -> (Vec<String>, Vec<IpAddr>, bool) {
    let mut cnames: Vec<String> = Vec::new();
    let mut current = name;
    for _ in 0..MAX_CNAMES {
        let next = msg.answers.iter().find_map(|r| match &r.data {
            RecordData::Cname(target) if r.name == current => Some(target.as_str()),
            _ => None,
        });
        match next {
            Some(target) if target != name && !cnames.iter().any(|c| c == target) => {
                cnames.push(target.to_string());
                current = target;
            }
            _ => break,
        }
    }
    let in_chain = |owner: &str| owner == name || cnames.iter().any(|c| c == owner);
    let mut addresses = Vec::new();
    let mut has_asked_type = false;
    for r in &msg.answers {
        if !in_chain(&r.name) {
            continue;
        }
        if r.rtype == qtype || qtype == TYPE_ANY {
            has_asked_type = true;
        }
        let ip = match r.data {
            RecordData::A(a) => IpAddr::V4(a),
            RecordData::Aaaa(a) => IpAddr::V6(a),
            _ => continue,
        };
        if addresses.len() < MAX_ADDRESSES && !addresses.contains(&ip) {
            addresses.push(ip);
        }
    }
    (cnames, addresses, has_asked_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sniff::dns::testkit::*;
    use crate::sniff::dns::wire::{
        DnsError, HEADER_LEN, TYPE_A, TYPE_AAAA, TYPE_CNAME, parse, parse_tcp_stream,
    };
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn a_answer_with_cname_chain() {
        // www.example.com CNAME edge.cdn.net; edge.cdn.net CNAME e1.cdn.net
        // (compressed against "cdn.net"); e1.cdn.net A x2.
        let mut answers = Vec::new();
        let edge = wire_name(b"edge.cdn.net");
        answers.push(rr(&QNAME, TYPE_CNAME, 300, &edge));
        // Offset of "edge.cdn.net" in the message: header 12 + question
        // (17 + 4) + owner pointer 2 + 10 fixed bytes = 45; "cdn.net" at 50.
        let mut e1 = vec![2, b'e', b'1', 0xC0, 50];
        answers.push(rr(&[0xC0, 45], TYPE_CNAME, 60, &e1));
        e1 = vec![2, b'e', b'1', 0xC0, 50];
        answers.push(rr(&e1, TYPE_A, 20, &[93, 184, 216, 34]));
        answers.push(rr(&e1, TYPE_A, 20, &[93, 184, 216, 35]));
        let resp = response(0x1234, 0, "www.example.com", TYPE_A, &answers, &[]);

        let m = parse(&resp).unwrap();
        assert!(m.response && m.complete);
        assert_eq!(m.answer_count, 4);
        assert_eq!(m.answers[0].name, "www.example.com");
        assert_eq!(m.answers[0].ttl, 300);
        assert_eq!(m.answers[0].data, RecordData::Cname("edge.cdn.net".into()));
        assert_eq!(m.answers[1].name, "edge.cdn.net");
        assert_eq!(m.answers[1].data, RecordData::Cname("e1.cdn.net".into()));
        assert_eq!(m.answers[2].name, "e1.cdn.net");
        assert_eq!(
            m.answers[2].data,
            RecordData::A(Ipv4Addr::new(93, 184, 216, 34))
        );

        let mut t = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        feed(
            &mut t,
            ev(1, 0),
            CLIENT,
            SERVER,
            &query(0x1234, "www.example.com", TYPE_A),
        );
        assert_eq!(t.len(), 1);
        feed(&mut t, ev(2, 20), SERVER, CLIENT, &resp);
        let q = t.take_final(ts(20)).remove(0);
        assert_eq!(q.outcome, DnsOutcome::Answer);
        assert!(!q.outcome.is_failure());
        assert_eq!(q.rcode, Some(0));
        assert_eq!(q.response, Some(ev(2, 20)));
        assert_eq!(q.cnames, vec!["edge.cdn.net", "e1.cdn.net"]);
        let a: IpAddr = "93.184.216.34".parse().unwrap();
        let b: IpAddr = "93.184.216.35".parse().unwrap();
        assert_eq!(q.addresses, vec![a, b]);
        assert_eq!(t.name_for(a), Some("www.example.com"));
        assert_eq!(t.name_for(b), Some("www.example.com"));
        assert_eq!(t.name_for("1.1.1.1".parse().unwrap()), None);
    }

    #[test]
    fn error_rcodes() {
        for (rcode, outcome, failure) in [
            (3, DnsOutcome::Nxdomain, true),
            (2, DnsOutcome::Servfail, true),
            (5, DnsOutcome::Refused, true),
            (4, DnsOutcome::OtherError, true),
        ] {
            let resp = response(0x1234, rcode, "www.example.com", TYPE_A, &[], &[soa()]);
            let q = resolve(TYPE_A, &resp);
            assert_eq!(q.outcome, outcome, "rcode {rcode}");
            assert_eq!(q.outcome.is_failure(), failure);
            assert_eq!(q.rcode, Some(rcode));
            assert!(q.addresses.is_empty());
        }
        assert_eq!(DnsOutcome::Nxdomain.as_str(), "nxdomain");
        assert_eq!(
            serde_json::to_string(&DnsOutcome::OtherError).unwrap(),
            "\"other_error\""
        );
        assert_eq!(serde_json::to_string(&Transport::Tcp).unwrap(), "\"tcp\"");
    }

    #[test]
    fn nodata_for_aaaa_is_not_a_failure() {
        // AAAA query answered NOERROR with only a CNAME and an A (wrong type).
        let answers = [
            rr(&QNAME, TYPE_CNAME, 300, &wire_name(b"v4only.example.net")),
            rr(
                &wire_name(b"v4only.example.net"),
                TYPE_A,
                300,
                &[192, 0, 2, 1],
            ),
        ];
        let resp = response(0x1234, 0, "www.example.com", TYPE_AAAA, &answers, &[soa()]);
        let q = resolve(TYPE_AAAA, &resp);
        assert_eq!(q.outcome, DnsOutcome::Nodata);
        assert!(!q.outcome.is_failure());
        assert_eq!(q.cnames, vec!["v4only.example.net"]);
        // The A in the chain is still an address of the answer.
        assert_eq!(q.addresses, vec!["192.0.2.1".parse::<IpAddr>().unwrap()]);

        // Bare NODATA: no answers at all.
        let resp = response(0x1234, 0, "www.example.com", TYPE_AAAA, &[], &[soa()]);
        assert_eq!(resolve(TYPE_AAAA, &resp).outcome, DnsOutcome::Nodata);
    }

    #[test]
    fn aaaa_answer() {
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let answers = [rr(&QNAME, TYPE_AAAA, 30, &v6.octets())];
        let resp = response(0x1234, 0, "www.example.com", TYPE_AAAA, &answers, &[]);
        let q = resolve(TYPE_AAAA, &resp);
        assert_eq!(q.outcome, DnsOutcome::Answer);
        assert_eq!(q.addresses, vec![IpAddr::V6(v6)]);
    }

    #[test]
    fn truncated_udp_answer_uses_rcode() {
        let mut resp = response(0x1234, 0, "www.example.com", TYPE_A, &[], &[]);
        resp[2] |= 0x02; // TC
        let m = parse(&resp).unwrap();
        assert!(m.truncated);
        assert_eq!(resolve(TYPE_A, &resp).outcome, DnsOutcome::Nodata);
        let mut resp = response(0x1234, 2, "www.example.com", TYPE_A, &[], &[]);
        resp[2] |= 0x02;
        assert_eq!(resolve(TYPE_A, &resp).outcome, DnsOutcome::Servfail);
    }

    #[test]
    fn raw_name_bytes_reach_name_for() {
        // The escape byte the parser keeps survives into name_for.
        let mut t = DnsTracker::default();
        let evil = "\x1b[2J.evil.com";
        feed(&mut t, ev(1, 0), CLIENT, SERVER, &query(1, evil, TYPE_A));
        let answers = [rr(&QNAME, TYPE_A, 1, &[203, 0, 113, 9])];
        feed(
            &mut t,
            ev(2, 1),
            SERVER,
            CLIENT,
            &response(1, 0, evil, TYPE_A, &answers, &[]),
        );
        assert_eq!(
            t.name_for("203.0.113.9".parse().unwrap()),
            Some("\u{1b}[2j.evil.com")
        );
    }

    #[test]
    fn answer_cut_short_trusts_ancount() {
        // The parser keeps a response whose answers end early
        // (complete = false); the tracker trusts ANCOUNT for it.
        let mut r = response(0x1234, 0, "www.example.com", TYPE_A, &[], &[]);
        r[7] = 1;
        r.extend_from_slice(&[0xC0]);
        assert!(!parse(&r).unwrap().complete);
        assert_eq!(resolve(TYPE_A, &r).outcome, DnsOutcome::Answer);
    }

    #[test]
    fn timeout_vs_pending_at_finish() {
        let mut t = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        feed(
            &mut t,
            ev(1, 0),
            CLIENT,
            SERVER,
            &query(1, "slow.example.com", TYPE_A),
        );
        feed(
            &mut t,
            ev(5, 9_000),
            CLIENT,
            SERVER,
            &query(2, "late.example.com", TYPE_A),
        );
        assert_eq!(t.len(), 2);
        // Not final before the 5 s timeout.
        assert!(t.take_final(ts(4_999)).is_empty());
        // At capture end 10 s: the first waited 10 s, the second 1 s.
        let done = t.finish(ts(10_000));
        assert_eq!(done.len(), 2);
        assert_eq!(done[0].name, "slow.example.com");
        assert_eq!(done[0].outcome, DnsOutcome::Timeout);
        assert!(done[0].outcome.is_failure());
        assert_eq!(done[0].response, None);
        assert_eq!(done[1].name, "late.example.com");
        assert_eq!(done[1].outcome, DnsOutcome::Pending);
        assert!(!done[1].outcome.is_failure());
        assert!(t.is_empty());

        // 2 s after the query is enough at finish, even with a 5 s timeout.
        let mut t = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        feed(
            &mut t,
            ev(1, 0),
            CLIENT,
            SERVER,
            &query(1, "x.example.com", TYPE_A),
        );
        assert_eq!(t.finish(ts(2_000))[0].outcome, DnsOutcome::Timeout);
    }

    #[test]
    fn take_final_times_out_in_order() {
        let mut t = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        feed(
            &mut t,
            ev(1, 0),
            CLIENT,
            SERVER,
            &query(1, "a.example.com", TYPE_A),
        );
        feed(
            &mut t,
            ev(2, 100),
            CLIENT,
            SERVER,
            &query(2, "b.example.com", TYPE_A),
        );
        feed(
            &mut t,
            ev(3, 6_000),
            CLIENT,
            SERVER,
            &query(3, "c.example.com", TYPE_A),
        );
        // b is answered; a and b are final at 5.05 s, c is not.
        feed(
            &mut t,
            ev(4, 150),
            SERVER,
            CLIENT,
            &response(2, 3, "b.example.com", TYPE_A, &[], &[]),
        );
        let done = t.take_final(ts(5_050));
        let names: Vec<_> = done.iter().map(|q| (q.name.as_str(), q.outcome)).collect();
        assert_eq!(
            names,
            vec![
                ("a.example.com", DnsOutcome::Timeout),
                ("b.example.com", DnsOutcome::Nxdomain)
            ]
        );
        assert_eq!(t.len(), 1);
        // A late response to the timed-out query matches nothing now.
        feed(
            &mut t,
            ev(5, 5_100),
            SERVER,
            CLIENT,
            &response(1, 0, "a.example.com", TYPE_A, &[], &[]),
        );
        assert_eq!(t.unmatched_responses(), 1);
        assert_eq!(t.take_final(ts(11_000))[0].outcome, DnsOutcome::Timeout);
    }

    #[test]
    fn retransmission_same_id() {
        // glibc: same ID, same port, 5 s later.
        let mut t = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        let q = query(0x4242, "retry.example.com", TYPE_A);
        feed(&mut t, ev(10, 0), CLIENT, SERVER, &q);
        feed(&mut t, ev(20, 4_000), CLIENT, SERVER, &q);
        assert_eq!(t.len(), 1);
        let answers = [rr(&QNAME, TYPE_A, 60, &[198, 51, 100, 7])];
        let resp = response(0x4242, 0, "retry.example.com", TYPE_A, &answers, &[]);
        feed(&mut t, ev(21, 4_030), SERVER, CLIENT, &resp);
        let q = t.take_final(ts(4_030)).remove(0);
        assert_eq!(q.first, ev(10, 0));
        assert_eq!(q.query_frames, vec![10, 20]);
        assert_eq!(q.retransmissions, 1);
        assert_eq!(q.response, Some(ev(21, 4_030)));
        assert_eq!(q.outcome, DnsOutcome::Answer);
        assert_eq!(q.id, 0x4242);
        // A second copy of the response is a duplicate once answered...
        let mut t2 = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        feed(
            &mut t2,
            ev(1, 0),
            CLIENT,
            SERVER,
            &query(0x4242, "retry.example.com", TYPE_A),
        );
        feed(&mut t2, ev(2, 10), SERVER, CLIENT, &resp);
        feed(&mut t2, ev(3, 11), SERVER, CLIENT, &resp);
        assert_eq!(t2.duplicate_responses(), 1);
        assert_eq!(t2.unmatched_responses(), 0);
    }

    #[test]
    fn retransmission_new_id_and_port_answered() {
        // A resolver that retries with a new ID from a new port; the server
        // answers only the retry.
        let mut t = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        let client2 = (CLIENT.0, 40001);
        feed(
            &mut t,
            ev(1, 0),
            CLIENT,
            SERVER,
            &query(7, "Retry.Example.com", TYPE_A),
        );
        feed(
            &mut t,
            ev(2, 1_000),
            client2,
            SERVER,
            &query(8, "retry.example.com", TYPE_A),
        );
        // A different name or type is a separate query.
        feed(
            &mut t,
            ev(3, 1_000),
            client2,
            SERVER,
            &query(9, "retry.example.com", TYPE_AAAA),
        );
        assert_eq!(t.len(), 2);
        let answers = [rr(&QNAME, TYPE_A, 60, &[198, 51, 100, 8])];
        let resp = response(8, 0, "retry.example.com", TYPE_A, &answers, &[]);
        feed(&mut t, ev(4, 1_020), SERVER, client2, &resp);
        let done = t.take_final(ts(1_020));
        assert_eq!(done.len(), 1);
        let q = &done[0];
        assert_eq!(q.client, CLIENT);
        assert_eq!(q.id, 7);
        assert_eq!(q.query_frames, vec![1, 2]);
        assert_eq!(q.retransmissions, 1);
        assert_eq!(q.response.map(|e| e.frame), Some(4));
        assert_eq!(q.outcome, DnsOutcome::Answer);
        assert_eq!(t.len(), 1);
        assert_eq!(t.unmatched_responses(), 0);
    }

    #[test]
    fn response_matched_loosely_and_unmatched() {
        // The response carries an ID no query packet had (a retransmission
        // was not captured): matched by client IP, server IP, name, type.
        let mut t = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        feed(
            &mut t,
            ev(1, 0),
            CLIENT,
            SERVER,
            &query(7, "loose.example.com", TYPE_A),
        );
        let other_port = (CLIENT.0, 41000);
        feed(
            &mut t,
            ev(2, 50),
            SERVER,
            other_port,
            &response(99, 2, "loose.example.com", TYPE_A, &[], &[]),
        );
        let q = t.take_final(ts(50)).remove(0);
        assert_eq!(q.outcome, DnsOutcome::Servfail);
        assert_eq!(q.response.map(|e| e.frame), Some(2));
        // A response nobody asked for is counted.
        feed(
            &mut t,
            ev(3, 60),
            SERVER,
            CLIENT,
            &response(5, 0, "nobody.example.com", TYPE_A, &[], &[]),
        );
        assert_eq!(t.unmatched_responses(), 1);
        assert!(t.is_empty());
    }

    #[test]
    fn requery_after_answer_is_a_new_query() {
        let mut t = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        let resp = response(1, 3, "gone.example.com", TYPE_A, &[], &[]);
        feed(
            &mut t,
            ev(1, 0),
            CLIENT,
            SERVER,
            &query(1, "gone.example.com", TYPE_A),
        );
        feed(&mut t, ev(2, 10), SERVER, CLIENT, &resp);
        feed(
            &mut t,
            ev(3, 20),
            CLIENT,
            SERVER,
            &query(2, "gone.example.com", TYPE_A),
        );
        let done = t.finish(ts(20));
        assert_eq!(done.len(), 2);
        assert_eq!(done[0].outcome, DnsOutcome::Nxdomain);
        assert_eq!(done[0].retransmissions, 0);
        assert_eq!(done[1].first.frame, 3);
        assert_eq!(done[1].outcome, DnsOutcome::Pending);
    }

    #[test]
    fn open_queries_are_capped() {
        let mut t = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        for i in 0..=MAX_OPEN_QUERIES as u64 {
            let msg = parse(&query(1, &format!("h{i}.example.com"), TYPE_A)).unwrap();
            t.on_message(ev(i, 3_000), CLIENT, SERVER, Transport::Udp, &msg);
        }
        assert_eq!(t.entries.len(), MAX_OPEN_QUERIES);
        assert_eq!(t.len(), MAX_OPEN_QUERIES + 1);
        // The evicted oldest comes out first, final.
        let done = t.take_final(ts(3_000));
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].name, "h0.example.com");
        assert_eq!(done[0].outcome, DnsOutcome::Pending);
        assert_eq!(t.dropped_queries(), 0);
    }

    // ---- never panics --------------------------------------------------

    use crate::testutil::Lcg;

    fn sample_response() -> Vec<u8> {
        let mut answers = vec![rr(&QNAME, TYPE_CNAME, 300, &wire_name(b"edge.cdn.net"))];
        answers.push(rr(
            &[4, b'e', b'd', b'g', b'e', 0xC0, 12],
            TYPE_A,
            20,
            &[1, 2, 3, 4],
        ));
        let mut r = response(9, 0, "www.example.com", TYPE_A, &answers, &[soa()]);
        r[11] = 1; // ARCOUNT 1: an OPT record
        r.extend_from_slice(&[0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]);
        r
    }

    /// Everything a message can go through.
    fn exercise(t: &mut DnsTracker, frame: u64, bytes: &[u8]) {
        if let Ok(m) = parse(bytes) {
            t.on_message(ev(frame, frame), SERVER, CLIENT, Transport::Udp, &m);
            t.on_message(ev(frame, frame), CLIENT, SERVER, Transport::Tcp, &m);
        }
        let _ = parse_tcp_stream(bytes);
    }

    #[test]
    fn every_prefix_parses_or_fails_cleanly() {
        let full = sample_response();
        assert!(parse(&full).unwrap().complete);
        let mut t = DnsTracker::default();
        for n in 0..full.len() {
            let r = parse(&full[..n]);
            if n < HEADER_LEN {
                assert_eq!(r, Err(DnsError::TooShort(n)));
            } else if let Ok(m) = r {
                assert!(!m.complete, "prefix {n} cannot be complete");
            }
            exercise(&mut t, n as u64, &full[..n]);
        }
        let _ = t.take_final(ts(100_000));
        let _ = t.finish(ts(200_000));
    }

    #[test]
    fn random_and_mutated_input_never_panics() {
        let mut rng = Lcg(0x5EED);
        let mut t = DnsTracker::new(1_000);
        for i in 0..10_000u64 {
            let len = (rng.next() % 600) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Plausible counts half the time, so parsing goes deeper.
            if len >= HEADER_LEN && i % 2 == 0 {
                bytes[4..12].copy_from_slice(&[0, 1, 0, 3, 0, 1, 0, 1]);
            }
            exercise(&mut t, i, &bytes);
        }
        let base = sample_response();
        for i in 0..10_000u64 {
            let mut bytes = base.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % bytes.len();
                bytes[at] = rng.next() as u8;
            }
            exercise(&mut t, 10_000 + i, &bytes);
            if i % 1000 == 0 {
                let _ = t.take_final(ts(i));
            }
        }
        let _ = t.finish(ts(1_000_000));
        assert!(t.is_empty());
    }
}
