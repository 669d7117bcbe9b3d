//! DNS messages (RFC 1035) over UDP and TCP, and a tracker that pairs
//! queries with their responses.
//!
//! # Parsing
//!
//! [`parse`] reads the header, the question section and the answer section
//! (A, AAAA and CNAME data; everything else is [`RecordData::Other`]), then
//! walks the authority and additional sections only to find an EDNS OPT
//! record for the extended RCODE.
//!
//! The wire parser is our own, deliberately small and tolerant; `simple-dns`
//! (used by the tests as a builder and as an oracle) rejects the whole
//! message for things a capture analyzer must still read: a question of a
//! type it does not know (TLSA, SSHFP, `TYPE65534`...), an unknown CLASS,
//! the reserved Z bit, or one record anywhere whose data it cannot parse;
//! it also folds RCODEs 11..15 into one `Reserved` value, reads the EDNS
//! extended RCODE from the wrong TTL byte, and pre-allocates vectors sized
//! by the header counts (65535 questions announced by a 12-byte packet).
//! Its compression-pointer handling is safe (pointers must point before
//! themselves and names stop at 255 octets); ours is stricter.
//!
//! Hostile input is data, never a panic:
//! - every read is bounds-checked; a name stops at 255 wire octets;
//! - a compression pointer must point before the start of the label run
//!   that contains it, so the positions visited strictly decrease and
//!   loops (a pointer to itself, two pointers to each other) are errors;
//!   pointer hops are also capped at [`MAX_POINTER_HOPS`];
//! - at most [`MAX_QUESTIONS`] questions and [`MAX_ANSWERS`] answers are
//!   kept, whatever the header counts say; every loop is bounded by the
//!   header counts and consumes input on each turn.
//!
//! A message whose header and first question parse is returned even when a
//! later part is malformed; [`DnsMessage::complete`] tells whether every
//! section parsed.
//!
//! # Names
//!
//! Names are returned as the label bytes joined with `.`, ASCII letters
//! lowercased, without the trailing dot (`.` for the root). Label bytes are
//! kept as they were on the wire: control characters survive as themselves
//! (`0x1b` becomes `'\u{1b}'`) and invalid UTF-8 becomes U+FFFD. Nothing is
//! escaped here: the report layer must escape names before printing them.
//!
//! # Tracking
//!
//! [`DnsTracker`] pairs each query with its response, recognises
//! retransmissions (same client, server, name and type while unanswered,
//! whatever the ID or source port), classifies the outcome
//! ([`DnsOutcome`]) and remembers which name each answered address was
//! asked for ([`DnsTracker::name_for`]). All of its memory is capped.

use crate::packet::Event;
use crate::time::Ts;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// Questions kept per message (the header may announce up to 65535).
pub const MAX_QUESTIONS: usize = 16;
/// Answer-section records kept per message.
pub const MAX_ANSWERS: usize = 64;
/// Compression pointers followed within one name (a 255-octet name has at
/// most 127 labels, so a legitimate name never needs more).
pub const MAX_POINTER_HOPS: usize = 128;
/// Longest name on the wire, length octets and the final zero included.
pub const MAX_NAME_WIRE_LEN: usize = 255;
/// Messages returned by one call of [`parse_tcp_stream`].
pub const MAX_TCP_MESSAGES: usize = 256;

const HEADER_LEN: usize = 12;
const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_AAAA: u16 = 28;
const TYPE_OPT: u16 = 41;
const TYPE_ANY: u16 = 255;

/// Why a DNS message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// Fewer bytes than the 12-byte header.
    #[error("DNS message of {0} bytes is shorter than its 12-byte header")]
    TooShort(usize),
    /// The message ends inside a section (a name, a fixed field or a
    /// record's data runs past the end).
    #[error("DNS message ends inside the {0} section")]
    Truncated(&'static str),
    /// A label length octet with the reserved top bits `01` or `10`.
    #[error("reserved DNS label type 0x{0:02x}")]
    BadLabelType(u8),
    /// A compression pointer that does not point strictly backwards, or a
    /// name that needs more than [`MAX_POINTER_HOPS`] pointers.
    #[error("DNS compression pointer at offset {at} to offset {target} (loop or forward pointer)")]
    BadPointer {
        /// Offset of the pointer in the message.
        at: usize,
        /// Offset it points to.
        target: usize,
    },
    /// A name longer than 255 octets on the wire.
    #[error("DNS name longer than 255 octets")]
    NameTooLong,
}

/// One parsed DNS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMessage {
    /// Transaction ID.
    pub id: u16,
    /// QR bit: this is a response.
    pub response: bool,
    /// OPCODE (0 = standard query).
    pub opcode: u8,
    /// Response code: the header's 4 bits, extended by the EDNS OPT record
    /// when one was found (e.g. 16 = BADVERS, 23 = BADCOOKIE).
    pub rcode: u16,
    /// TC bit: the message was truncated (the client should retry over TCP).
    pub truncated: bool,
    /// The question section, at most [`MAX_QUESTIONS`].
    pub questions: Vec<Question>,
    /// The answer section only, at most [`MAX_ANSWERS`].
    pub answers: Vec<Record>,
    /// QDCOUNT from the header.
    pub question_count: u16,
    /// ANCOUNT from the header.
    pub answer_count: u16,
    /// Every section announced by the header parsed cleanly. When false,
    /// the header and the questions/answers before the fault are kept.
    pub complete: bool,
}

/// One entry of the question section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name asked for (see the module docs for its form).
    pub name: String,
    /// QTYPE (1 = A, 28 = AAAA, 65 = HTTPS...; see [`qtype_name`]).
    pub qtype: u16,
}

/// One resource record of the answer section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Owner name.
    pub name: String,
    /// TYPE.
    pub rtype: u16,
    /// Time to live, in seconds.
    pub ttl: u32,
    /// The record data, for the types the tracker uses.
    pub data: RecordData,
}

/// The data of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// An IPv4 address (type A with 4 bytes of data).
    A(Ipv4Addr),
    /// An IPv6 address (type AAAA with 16 bytes of data).
    Aaaa(Ipv6Addr),
    /// The canonical name a CNAME record points to.
    Cname(String),
    /// Any other type, or an A/AAAA/CNAME whose data is malformed.
    Other,
}

/// A read position over the whole message (names need the whole message
/// for compression pointers).
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
    section: &'static str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DnsError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(DnsError::Truncated(self.section))?;
        let bytes = self
            .msg
            .get(self.pos..end)
            .ok_or(DnsError::Truncated(self.section))?;
        self.pos = end;
        Ok(bytes)
    }

    fn u16(&mut self) -> Result<u16, DnsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, DnsError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a (possibly compressed) name and moves past it.
    fn name(&mut self) -> Result<String, DnsError> {
        let (name, end) = read_name(self.msg, self.pos, self.section)?;
        self.pos = end;
        Ok(name)
    }

    /// Moves past a name without following its compression pointer.
    fn skip_name(&mut self) -> Result<(), DnsError> {
        let mut wire_len = 0usize;
        loop {
            let len = self.take(1)?[0];
            match len & 0xC0 {
                0x00 if len == 0 => return Ok(()),
                0x00 => {
                    wire_len += 1 + usize::from(len);
                    if wire_len >= MAX_NAME_WIRE_LEN {
                        return Err(DnsError::NameTooLong);
                    }
                    self.take(usize::from(len))?;
                }
                0xC0 => {
                    self.take(1)?;
                    return Ok(());
                }
                _ => return Err(DnsError::BadLabelType(len)),
            }
        }
    }
}

/// Reads the name at `start`: returns it and the offset just past it (past
/// its first compression pointer, if any).
fn read_name(msg: &[u8], start: usize, section: &'static str) -> Result<(String, usize), DnsError> {
    let mut name = String::new();
    let mut pos = start;
    // Start of the label run being read; a pointer must point before it.
    let mut run_start = start;
    let mut end = None;
    let mut wire_len = 0usize;
    let mut hops = 0usize;
    loop {
        let len = *msg.get(pos).ok_or(DnsError::Truncated(section))?;
        match len & 0xC0 {
            0x00 if len == 0 => {
                let end = end.unwrap_or(pos + 1);
                if name.is_empty() {
                    name.push('.');
                }
                return Ok((name, end));
            }
            0x00 => {
                let l = usize::from(len);
                wire_len += 1 + l;
                // The final zero octet counts too.
                if wire_len >= MAX_NAME_WIRE_LEN {
                    return Err(DnsError::NameTooLong);
                }
                let label = msg
                    .get(pos + 1..pos + 1 + l)
                    .ok_or(DnsError::Truncated(section))?;
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(&String::from_utf8_lossy(&label.to_ascii_lowercase()));
                pos += 1 + l;
            }
            0xC0 => {
                let low = *msg.get(pos + 1).ok_or(DnsError::Truncated(section))?;
                let target = usize::from(len & 0x3F) << 8 | usize::from(low);
                hops += 1;
                if target >= run_start || hops > MAX_POINTER_HOPS {
                    return Err(DnsError::BadPointer { at: pos, target });
                }
                end.get_or_insert(pos + 2);
                run_start = target;
                pos = target;
            }
            _ => return Err(DnsError::BadLabelType(len)),
        }
    }
}

/// Parses one DNS message (a UDP payload, or one message of a TCP stream
/// without its length prefix).
///
/// Fails only when the header is short or the first question cannot be
/// read; later faults leave [`DnsMessage::complete`] false.
pub fn parse(payload: &[u8]) -> Result<DnsMessage, DnsError> {
    let header = payload
        .get(..HEADER_LEN)
        .ok_or(DnsError::TooShort(payload.len()))?;
    let be16 = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
    let flags = be16(2);
    let counts = [be16(4), be16(6), be16(8), be16(10)];
    let mut msg = DnsMessage {
        id: be16(0),
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0F) as u8,
        rcode: flags & 0x000F,
        truncated: flags & 0x0200 != 0,
        questions: Vec::with_capacity(usize::from(counts[0]).min(MAX_QUESTIONS)),
        answers: Vec::with_capacity(usize::from(counts[1]).min(MAX_ANSWERS)),
        question_count: counts[0],
        answer_count: counts[1],
        complete: true,
    };
    let mut r = Reader {
        msg: payload,
        pos: HEADER_LEN,
        section: "question",
    };
    if let Err(e) = parse_sections(&mut r, &mut msg, counts) {
        if counts[0] > 0 && msg.questions.is_empty() {
            return Err(e);
        }
        msg.complete = false;
    }
    Ok(msg)
}

fn parse_sections(
    r: &mut Reader<'_>,
    msg: &mut DnsMessage,
    [qd, an, ns, ar]: [u16; 4],
) -> Result<(), DnsError> {
    for i in 0..usize::from(qd) {
        if i < MAX_QUESTIONS {
            let name = r.name()?;
            let qtype = r.u16()?;
            r.take(2)?; // QCLASS
            msg.questions.push(Question { name, qtype });
        } else {
            r.skip_name()?;
            r.take(4)?;
        }
    }
    r.section = "answer";
    for i in 0..usize::from(an) {
        if i < MAX_ANSWERS {
            let name = r.name()?;
            let rtype = r.u16()?;
            r.take(2)?; // CLASS
            let ttl = r.u32()?;
            let rdlen = usize::from(r.u16()?);
            let rdata_start = r.pos;
            let rdata = r.take(rdlen)?;
            let data = match (rtype, rdata.len()) {
                (TYPE_A, 4) => RecordData::A(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3])),
                (TYPE_AAAA, 16) => {
                    let mut octets = [0u8; 16];
                    octets.copy_from_slice(rdata);
                    RecordData::Aaaa(Ipv6Addr::from(octets))
                }
                (TYPE_CNAME, _) => match read_name(r.msg, rdata_start, "answer") {
                    Ok((target, end)) if end == rdata_start + rdlen => RecordData::Cname(target),
                    _ => RecordData::Other,
                },
                _ => RecordData::Other,
            };
            msg.answers.push(Record {
                name,
                rtype,
                ttl,
                data,
            });
        } else {
            skip_record(r)?;
        }
    }
    r.section = "authority";
    for _ in 0..ns {
        skip_record(r)?;
    }
    r.section = "additional";
    let mut seen_opt = false;
    for _ in 0..ar {
        let (rtype, ttl) = skip_record(r)?;
        if rtype == TYPE_OPT && !seen_opt {
            seen_opt = true;
            // RFC 6891 6.1.3: the TTL's top octet holds the upper 8 bits of
            // the 12-bit extended RCODE.
            msg.rcode |= ((ttl >> 24) as u16) << 4;
        }
    }
    Ok(())
}

/// Moves past one resource record; returns its type and TTL.
fn skip_record(r: &mut Reader<'_>) -> Result<(u16, u32), DnsError> {
    r.skip_name()?;
    let rtype = r.u16()?;
    r.take(2)?;
    let ttl = r.u32()?;
    let rdlen = usize::from(r.u16()?);
    r.take(rdlen)?;
    Ok((rtype, ttl))
}

/// Splits DNS over TCP (RFC 1035 4.2.2: each message prefixed by its
/// 2-byte length) into messages.
///
/// Returns the messages that parsed and the number of bytes consumed: every
/// complete length-prefixed message up to [`MAX_TCP_MESSAGES`] is consumed,
/// parsed or not (one that fails to parse is skipped); a trailing partial
/// message is left for the caller to retry with more bytes. When the cap
/// stops the loop, call again with `&stream[consumed..]`.
pub fn parse_tcp_stream(stream: &[u8]) -> (Vec<DnsMessage>, usize) {
    let mut messages = Vec::new();
    let mut consumed = 0usize;
    let mut seen = 0usize;
    while seen < MAX_TCP_MESSAGES {
        let Some(prefix) = stream.get(consumed..consumed + 2) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        let Some(body) = stream.get(consumed + 2..consumed + 2 + len) else {
            break;
        };
        if let Ok(msg) = parse(body) {
            messages.push(msg);
        }
        consumed += 2 + len;
        seen += 1;
    }
    (messages, consumed)
}

/// The mnemonic of a QTYPE/TYPE, or `TYPE<n>` (RFC 3597) for the others.
pub fn qtype_name(t: u16) -> String {
    let s = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        24 => "SIG",
        25 => "KEY",
        28 => "AAAA",
        29 => "LOC",
        33 => "SRV",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        108 => "EUI48",
        109 => "EUI64",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        _ => return format!("TYPE{t}"),
    };
    s.to_string()
}

/// The mnemonic of an RCODE (extended RCODEs included), or `RCODE<n>`.
pub fn rcode_name(r: u16) -> String {
    let s = match r {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "DSOTYPENI",
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        _ => return format!("RCODE{r}"),
    };
    s.to_string()
}

// ---------------------------------------------------------------------------
// Tracker
// ---------------------------------------------------------------------------

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
/// Names remembered per address (several names can share one address).
pub const NAMES_PER_ADDRESS: usize = 4;
pub const MAX_CNAMES: usize = 16;

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

    // ---- wire builders -------------------------------------------------

    /// "a.b" -> 1 'a' 1 'b' 0; labels are raw bytes split at b'.'.
    fn wire_name(name: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for label in name.split(|&b| b == b'.').filter(|l| !l.is_empty()) {
            out.push(label.len() as u8);
            out.extend_from_slice(label);
        }
        out.push(0);
        out
    }

    fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&flags.to_be_bytes());
        for c in counts {
            out.extend_from_slice(&c.to_be_bytes());
        }
        out
    }

    fn rr(owner: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
        let mut out = owner.to_vec();
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(rdata);
        out
    }

    /// A query (RD set) for `name`/`qtype`.
    fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut out = header(id, 0x0100, [1, 0, 0, 0]);
        out.extend(wire_name(name.as_bytes()));
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out
    }

    /// A response echoing the question, with `answers` (whose owner names
    /// may point at offset 12, the question name) and `authority` records.
    fn response(
        id: u16,
        rcode: u16,
        name: &str,
        qtype: u16,
        answers: &[Vec<u8>],
        authority: &[Vec<u8>],
    ) -> Vec<u8> {
        let flags = 0x8180 | rcode;
        let mut out = header(
            id,
            flags,
            [1, answers.len() as u16, authority.len() as u16, 0],
        );
        out.extend(wire_name(name.as_bytes()));
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        for r in answers.iter().chain(authority) {
            out.extend_from_slice(r);
        }
        out
    }

    /// Pointer to the question name.
    const QNAME: [u8; 2] = [0xC0, 12];

    fn soa() -> Vec<u8> {
        let mut rdata = wire_name(b"ns1.example.com");
        rdata.extend(wire_name(b"hostmaster.example.com"));
        rdata.extend_from_slice(&[0; 20]);
        rr(&wire_name(b"example.com"), 6, 900, &rdata)
    }

    const CLIENT: (IpAddr, u16) = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 40000);
    const SERVER: (IpAddr, u16) = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 53);

    fn ev(frame: u64, ms: u64) -> Event {
        Event {
            frame,
            ts: Ts(1_700_000_000_000_000_000).plus_ms(ms),
        }
    }

    fn ts(ms: u64) -> Ts {
        ev(0, ms).ts
    }

    fn feed(t: &mut DnsTracker, at: Event, src: (IpAddr, u16), dst: (IpAddr, u16), bytes: &[u8]) {
        let msg = parse(bytes).expect("test message parses");
        t.on_message(at, src, dst, Transport::Udp, &msg);
    }

    /// One query and its response through a fresh tracker; the final query.
    fn resolve(qtype: u16, resp: &[u8]) -> DnsQuery {
        let mut t = DnsTracker::new(DEFAULT_TIMEOUT_NS);
        feed(
            &mut t,
            ev(1, 0),
            CLIENT,
            SERVER,
            &query(0x1234, "www.example.com", qtype),
        );
        feed(&mut t, ev(2, 20), SERVER, CLIENT, resp);
        let mut done = t.take_final(ts(20));
        assert_eq!(done.len(), 1);
        assert_eq!(t.len(), 0);
        done.remove(0)
    }

    // ---- parsing -------------------------------------------------------

    #[test]
    fn parses_query_header_and_question() {
        let m = parse(&query(0xBEEF, "WWW.Example.COM", 28)).unwrap();
        assert_eq!(m.id, 0xBEEF);
        assert!(!m.response);
        assert_eq!(m.opcode, 0);
        assert_eq!(m.rcode, 0);
        assert!(!m.truncated);
        assert!(m.complete);
        assert_eq!(
            m.questions,
            vec![Question {
                name: "www.example.com".into(),
                qtype: 28
            }]
        );
        assert!(m.answers.is_empty());
    }

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

    #[test]
    fn tcp_framing() {
        let a = query(1, "one.example.com", TYPE_A);
        let b = response(1, 3, "one.example.com", TYPE_A, &[], &[]);
        let c = query(2, "two.example.com", TYPE_AAAA);
        let mut stream = Vec::new();
        for m in [&a, &b, &c] {
            stream.extend_from_slice(&(m.len() as u16).to_be_bytes());
            stream.extend_from_slice(m);
        }
        let first_two = 2 + a.len() + 2 + b.len();
        let cut = first_two + 2 + c.len() / 2;
        let (msgs, used) = parse_tcp_stream(&stream[..cut]);
        assert_eq!(msgs.len(), 2);
        assert_eq!(used, first_two);
        assert!(!msgs[0].response);
        assert!(msgs[1].response);
        assert_eq!(msgs[1].rcode, 3);
        // The rest arrives.
        let (msgs, used) = parse_tcp_stream(&stream[first_two..]);
        assert_eq!(used, 2 + c.len());
        assert_eq!(msgs[0].questions[0].name, "two.example.com");
        // Only a length prefix, or half of one: nothing consumed.
        assert_eq!(parse_tcp_stream(&stream[..1]), (vec![], 0));
        assert_eq!(parse_tcp_stream(&stream[..2]), (vec![], 0));
        // A garbage message is consumed and skipped.
        let mut junk = vec![0, 3, 1, 2, 3];
        junk.extend_from_slice(&stream[..2 + a.len()]);
        let (msgs, used) = parse_tcp_stream(&junk);
        assert_eq!((msgs.len(), used), (1, junk.len()));
        // The count per call is capped.
        let many: Vec<u8> = (0..MAX_TCP_MESSAGES + 5)
            .flat_map(|_| stream[..2 + a.len()].to_vec())
            .collect();
        let (msgs, used) = parse_tcp_stream(&many);
        assert_eq!(msgs.len(), MAX_TCP_MESSAGES);
        assert_eq!(used, MAX_TCP_MESSAGES * (2 + a.len()));
    }

    // ---- hostile input -------------------------------------------------

    #[test]
    fn short_messages() {
        assert_eq!(parse(&[]), Err(DnsError::TooShort(0)));
        for n in 1..12 {
            assert_eq!(parse(&vec![0xFF; n]), Err(DnsError::TooShort(n)));
        }
        // A bare header is a valid (empty) message.
        let m = parse(&header(3, 0x8180, [0; 4])).unwrap();
        assert!(m.response && m.complete && m.questions.is_empty());
    }

    #[test]
    fn huge_counts_without_data() {
        let h = header(1, 0, [65535, 65535, 65535, 65535]);
        assert_eq!(parse(&h), Err(DnsError::Truncated("question")));
        // Questions present but the answers announced are missing: kept,
        // marked incomplete, vectors capped.
        let mut m = header(1, 0x8180, [65535, 65535, 0, 0]);
        for _ in 0..100 {
            m.extend(wire_name(b"a.b"));
            m.extend_from_slice(&[0, 1, 0, 1]);
        }
        let p = parse(&m).unwrap();
        assert!(!p.complete);
        assert_eq!(p.questions.len(), MAX_QUESTIONS);
        assert!(p.answers.is_empty());
        assert!(p.questions.capacity() <= MAX_QUESTIONS);
        assert!(p.answers.capacity() <= MAX_ANSWERS);
    }

    /// A query whose question name is `name_bytes` (raw wire form).
    fn raw_question(name_bytes: &[u8]) -> Vec<u8> {
        let mut m = header(1, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(name_bytes);
        m.extend_from_slice(&[0, 1, 0, 1]);
        m
    }

    #[test]
    fn pointer_loops() {
        // Pointer to itself.
        let m = raw_question(&[0xC0, 12]);
        assert_eq!(parse(&m), Err(DnsError::BadPointer { at: 12, target: 12 }));
        // Two pointers to each other.
        let m = raw_question(&[0xC0, 14, 0xC0, 12]);
        assert_eq!(parse(&m), Err(DnsError::BadPointer { at: 12, target: 14 }));
        // A label, then a pointer back to the start of its own name.
        let m = raw_question(&[1, b'a', 0xC0, 12]);
        assert_eq!(parse(&m), Err(DnsError::BadPointer { at: 14, target: 12 }));
        // Backwards but cycling: answer owner at 23 = "b" + pointer to 21,
        // where 21 holds a pointer to 23.
        let mut m = header(1, 0x8180, [1, 1, 0, 0]);
        m.extend(wire_name(b"a")); // 12..15
        m.extend_from_slice(&[0, 1, 0, 1]); // 15..19
        m.extend_from_slice(&[0, 0]); // 19..21 filler
        m.extend_from_slice(&[0xC0, 23]); // 21: forward to 23
        m.extend_from_slice(&[1, b'b', 0xC0, 21]); // 23
        let p = parse(&m).unwrap();
        assert_eq!(p.questions[0].name, "a");
        assert!(!p.complete);
        assert!(p.answers.is_empty());
        // simple-dns also refuses these (its pointers must point before
        // themselves and names stop at 255 octets), so loops are safe there.
        assert!(simple_dns::Packet::parse(&raw_question(&[0xC0, 12])).is_err());
        assert!(simple_dns::Packet::parse(&raw_question(&[1, b'a', 0xC0, 12])).is_err());
        assert!(simple_dns::Packet::parse(&m).is_err());
    }

    #[test]
    fn bad_labels() {
        // Length past the end.
        assert_eq!(
            parse(&raw_question(&[5, b'a', b'b'])),
            Err(DnsError::Truncated("question"))
        );
        // Pointer cut after its first byte.
        assert_eq!(
            parse(
                &raw_question(&[])[..12]
                    .iter()
                    .chain(&[0xC0])
                    .copied()
                    .collect::<Vec<_>>()
            ),
            Err(DnsError::Truncated("question"))
        );
        // Reserved label types 01 and 10.
        assert_eq!(
            parse(&raw_question(&[0x41, 0])),
            Err(DnsError::BadLabelType(0x41))
        );
        assert_eq!(
            parse(&raw_question(&[0x80, 0])),
            Err(DnsError::BadLabelType(0x80))
        );
        // Root name.
        assert_eq!(parse(&raw_question(&[0])).unwrap().questions[0].name, ".");
    }

    #[test]
    fn name_length_limit() {
        // 300 bytes of labels.
        let long = vec!["x".repeat(60); 5].join(".");
        assert_eq!(parse(&query(1, &long, TYPE_A)), Err(DnsError::NameTooLong));
        // The longest legal name: 255 octets on the wire, 253 characters.
        let max = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(wire_name(max.as_bytes()).len(), 255);
        assert_eq!(
            parse(&query(1, &max, TYPE_A)).unwrap().questions[0].name,
            max
        );
        let too_long = format!("{max}e");
        assert_eq!(
            parse(&query(1, &too_long, TYPE_A)),
            Err(DnsError::NameTooLong)
        );
        // Past 255 octets through compression too.
        let mut m = header(1, 0x8180, [1, 1, 0, 0]);
        m.extend(wire_name(max.as_bytes()));
        m.extend_from_slice(&[0, 1, 0, 1]);
        m.extend(rr(&[1, b'z', 0xC0, 12], TYPE_A, 1, &[1, 2, 3, 4]));
        let p = parse(&m).unwrap();
        assert!(!p.complete && p.answers.is_empty());
    }

    #[test]
    fn raw_label_bytes_survive() {
        let m = parse(&query(1, "\x1b[2J.Evil.com", TYPE_A)).unwrap();
        // ASCII letters are lowercased; the escape byte stays as it is.
        assert_eq!(m.questions[0].name, "\u{1b}[2j.evil.com");
        assert!(m.questions[0].name.starts_with('\u{1b}'));
        // Invalid UTF-8 becomes U+FFFD; valid UTF-8 is kept.
        let mut name = vec![3, 0xFF, b'A', 0xFE, 2];
        name.extend_from_slice("é".as_bytes());
        name.push(0);
        let m = parse(&raw_question(&name)).unwrap();
        assert_eq!(m.questions[0].name, "\u{FFFD}a\u{FFFD}.é");
        // A dot inside a label is kept as a dot (no escaping here).
        let m = parse(&raw_question(&[3, b'a', b'.', b'b', 0])).unwrap();
        assert_eq!(m.questions[0].name, "a.b");
        // The escape byte survives into the tracker's name_for.
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
    fn malformed_records_keep_what_parsed() {
        // A with 3 bytes of data, CNAME whose name overruns its rdata.
        let answers = [
            rr(&QNAME, TYPE_A, 1, &[1, 2, 3]),
            rr(&QNAME, TYPE_CNAME, 1, &[3, b'a', b'b']),
            rr(&QNAME, TYPE_A, 1, &[192, 0, 2, 5]),
        ];
        let m = parse(&response(1, 0, "x.com", TYPE_A, &answers, &[])).unwrap();
        assert!(m.complete);
        assert_eq!(m.answers[0].data, RecordData::Other);
        assert_eq!(m.answers[1].data, RecordData::Other);
        assert_eq!(
            m.answers[2].data,
            RecordData::A(Ipv4Addr::new(192, 0, 2, 5))
        );
        // rdlength past the end: the answers before it are kept.
        let mut resp = response(1, 0, "x.com", TYPE_A, &answers[2..], &[]);
        resp[7] = 2; // ANCOUNT 2
        resp.extend(rr(&QNAME, TYPE_A, 1, &[1, 2, 3, 4]));
        let n = resp.len();
        resp[n - 5] = 200; // rdlength 200
        let m = parse(&resp).unwrap();
        assert!(!m.complete);
        assert_eq!(m.answers.len(), 1);
        // The tracker trusts ANCOUNT for a response cut short.
        assert_eq!(
            resolve(TYPE_A, &{
                let mut r = response(0x1234, 0, "www.example.com", TYPE_A, &[], &[]);
                r[7] = 1;
                r.extend_from_slice(&[0xC0]);
                r
            })
            .outcome,
            DnsOutcome::Answer
        );
    }

    #[test]
    fn edns_extended_rcode_and_names() {
        // Header RCODE 7 + OPT extended 1 -> 23 (BADCOOKIE).
        let mut m = header(1, 0x8187, [1, 0, 0, 1]);
        m.extend(wire_name(b"a.com"));
        m.extend_from_slice(&[0, 1, 0, 1]);
        m.extend_from_slice(&[0, 0, 41, 0x04, 0xD0, 1, 0, 0, 0, 0, 0]);
        let p = parse(&m).unwrap();
        assert!(p.complete);
        assert_eq!(p.rcode, 23);
        assert_eq!(rcode_name(p.rcode), "BADCOOKIE");
        assert_eq!(rcode_name(0), "NOERROR");
        assert_eq!(rcode_name(3), "NXDOMAIN");
        assert_eq!(rcode_name(2), "SERVFAIL");
        assert_eq!(rcode_name(5), "REFUSED");
        assert_eq!(rcode_name(15), "RCODE15");
        assert_eq!(qtype_name(1), "A");
        assert_eq!(qtype_name(28), "AAAA");
        assert_eq!(qtype_name(5), "CNAME");
        assert_eq!(qtype_name(65), "HTTPS");
        assert_eq!(qtype_name(15), "MX");
        assert_eq!(qtype_name(65534), "TYPE65534");
    }

    #[test]
    fn reads_what_simple_dns_rejects() {
        // Unknown QTYPE (TLSA), and the reserved Z bit.
        let tlsa = query(1, "_443._tcp.example.com", 52);
        assert!(simple_dns::Packet::parse(&tlsa).is_err());
        assert_eq!(parse(&tlsa).unwrap().questions[0].qtype, 52);
        let unknown = query(1, "example.com", 65534);
        assert!(simple_dns::Packet::parse(&unknown).is_err());
        assert_eq!(parse(&unknown).unwrap().questions[0].qtype, 65534);
        let mut z = query(1, "example.com", TYPE_A);
        z[3] |= 0x40;
        assert!(simple_dns::Packet::parse(&z).is_err());
        assert!(parse(&z).unwrap().complete);
    }

    #[test]
    fn agrees_with_simple_dns_on_its_own_messages() {
        use simple_dns::rdata::{A, AAAA, CNAME, RData};
        use simple_dns::{CLASS, Name, Packet, ResourceRecord, TYPE};
        let mut p = Packet::new_reply(0x5151);
        p.questions.push(simple_dns::Question::new(
            Name::new_unchecked("Www.Example.com"),
            TYPE::A.into(),
            CLASS::IN.into(),
            false,
        ));
        let rec = |name: &'static str, ttl, rdata| {
            ResourceRecord::new(Name::new_unchecked(name), CLASS::IN, ttl, rdata)
        };
        p.answers.push(rec(
            "Www.Example.com",
            300,
            RData::CNAME(CNAME(Name::new_unchecked("edge.example.com"))),
        ));
        p.answers.push(rec(
            "edge.example.com",
            60,
            RData::A(A {
                address: 0xC0000201,
            }),
        ));
        p.answers.push(rec(
            "edge.example.com",
            60,
            RData::AAAA(AAAA { address: 1 }),
        ));
        for bytes in [
            p.build_bytes_vec().unwrap(),
            p.build_bytes_vec_compressed().unwrap(),
        ] {
            let theirs = Packet::parse(&bytes).unwrap();
            let ours = parse(&bytes).unwrap();
            assert!(ours.complete && ours.response);
            assert_eq!(ours.id, theirs.id());
            assert_eq!(ours.questions[0].name, "www.example.com");
            assert_eq!(ours.answers.len(), theirs.answers.len());
            for (o, t) in ours.answers.iter().zip(&theirs.answers) {
                let their_name = t
                    .name
                    .as_bytes()
                    .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
                    .collect::<Vec<_>>()
                    .join(".");
                assert_eq!(o.name, their_name);
                assert_eq!(o.rtype, u16::from(t.rdata.type_code()));
                assert_eq!(o.ttl, t.ttl);
            }
            assert_eq!(
                ours.answers[0].data,
                RecordData::Cname("edge.example.com".into())
            );
            assert_eq!(
                ours.answers[1].data,
                RecordData::A(Ipv4Addr::new(192, 0, 2, 1))
            );
            assert_eq!(
                ours.answers[2].data,
                RecordData::Aaaa(Ipv6Addr::from(1u128))
            );
        }
    }

    // ---- never panics --------------------------------------------------

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

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
