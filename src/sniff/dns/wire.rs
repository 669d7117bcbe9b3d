//! The DNS wire format (RFC 1035): one message, or a TCP stream of
//! length-prefixed messages.
//!
//! [`parse`] reads the header, the question section and the answer section
//! (A, AAAA and CNAME data; everything else is [`RecordData::Other`]), then
//! walks the authority and additional sections only to find an EDNS OPT
//! record for the extended RCODE.
//!
//! # Why our own parser rather than a crate
//!
//! The parser is our own, deliberately small and tolerant. `simple-dns`
//! (a dev-dependency: the tests use it as a builder and as an oracle) is
//! the crate we would use instead; its version 0.13.0 reads less than a
//! capture analyzer must, as its source shows:
//!
//! - It rejects the whole message when the *question* asks for a type it
//!   does not know: `Question::parse` calls `QTYPE::try_from`, which
//!   returns `InvalidQType` for every type outside its own list (TLSA 52,
//!   SSHFP 44, `TYPE65534`...), and `Packet::parse` propagates it. (An
//!   unknown type in a *record* is accepted, as `RData::NULL(type, ..)`.)
//!   The question is what the tracker keys a query on, so such a query
//!   and its response would both be lost.
//! - It rejects the whole message as well for a CLASS outside IN, CS, CH,
//!   HS and NONE (ANY too in a question; `InvalidClass`), for the reserved
//!   Z header bit (`InvalidHeaderData`), and for one record anywhere,
//!   authority and additional sections included, whose data it cannot
//!   parse (`Packet::parse_section` stops at the first error).
//! - It misreads the EDNS extended RCODE: `OPT::extract_rcode_from_ttl`
//!   computes `((ttl & 0xFF) << 4) | header_rcode`, taking the upper 8
//!   bits of the RCODE from the TTL's *lowest* byte, which RFC 6891 6.1.3
//!   gives to the Z flags; the EXTENDED-RCODE is the *highest* byte. So
//!   BADCOOKIE (header 7, OPT TTL `0x01000000`) reads as 7, YXRRSET, and
//!   BADVERS as NOERROR. It reads the EDNS version from bits 8..15 (the
//!   DO bit and Z) instead of 16..23 too. Its writer (`encode_ttl`) uses
//!   the same wrong layout, so its own messages round-trip and agreeing
//!   with it on them proves nothing about this field.
//! - `RCODE::from` folds every value but 0..=10 and 16 into one
//!   `Reserved` (RCODEs 11..15, BADKEY 17 ... BADCOOKIE 23), so the
//!   report could not name them.
//! - `Packet::parse_section` pre-allocates `Vec::with_capacity(count)` from
//!   each header count: a 12-byte packet announcing 65535 of everything
//!   asks for four large vectors.
//!
//! Its compression-pointer handling is safe (pointers must point before
//! themselves and names stop at 255 octets); ours is stricter. The tests
//! `reads_what_simple_dns_rejects` and `simple_dns_misreads_extended_rcode`
//! pin each point above against the crate.
//!
//! # Hostile input
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

use std::net::{Ipv4Addr, Ipv6Addr};

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

pub(super) const HEADER_LEN: usize = 12;
pub(super) const TYPE_A: u16 = 1;
pub(super) const TYPE_CNAME: u16 = 5;
pub(super) const TYPE_AAAA: u16 = 28;
pub(super) const TYPE_OPT: u16 = 41;
pub(super) const TYPE_ANY: u16 = 255;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sniff::dns::testkit::*;

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
        // An unknown CLASS in the question (here 0x1234).
        let mut class = query(1, "example.com", TYPE_A);
        let n = class.len();
        class[n - 2..].copy_from_slice(&[0x12, 0x34]);
        assert!(simple_dns::Packet::parse(&class).is_err());
        assert!(parse(&class).unwrap().complete);
        // An unknown TYPE in a record is fine for it (RData::NULL).
        let answers = [rr(&QNAME, 65534, 1, &[1, 2, 3])];
        let resp = response(1, 0, "example.com", TYPE_A, &answers, &[]);
        assert_eq!(simple_dns::Packet::parse(&resp).unwrap().answers.len(), 1);
        assert_eq!(parse(&resp).unwrap().answers[0].rtype, 65534);
    }

    #[test]
    fn simple_dns_misreads_extended_rcode() {
        use simple_dns::RCODE;
        // Header RCODE 7, OPT TTL 0x01000000: EXTENDED-RCODE 1 in the top
        // byte (RFC 6891 6.1.3), so 1 << 4 | 7 = 23, BADCOOKIE.
        let opt = |ttl: u32| {
            let mut m = header(1, 0x8187, [1, 0, 0, 1]);
            m.extend(wire_name(b"a.com"));
            m.extend_from_slice(&[0, 1, 0, 1]);
            m.extend_from_slice(&[0, 0, 41, 0x04, 0xD0]);
            m.extend_from_slice(&ttl.to_be_bytes());
            m.extend_from_slice(&[0, 0]);
            m
        };
        let badcookie = opt(0x0100_0000);
        assert_eq!(parse(&badcookie).unwrap().rcode, 23);
        // simple-dns takes the TTL's low byte: the header's 7 alone.
        let theirs = simple_dns::Packet::parse(&badcookie).unwrap();
        assert_eq!(theirs.rcode(), RCODE::YXRRSET);
        // BADVERS (16 = header 0, extended 1) reads as NOERROR there.
        let mut badvers = opt(0x0100_0000);
        badvers[3] &= 0xF0;
        assert_eq!(parse(&badvers).unwrap().rcode, 16);
        let theirs = simple_dns::Packet::parse(&badvers).unwrap();
        assert_eq!(theirs.rcode(), RCODE::NoError);
        // And the Z byte it reads instead gives it a code that is not there.
        let z = opt(0x0000_0001);
        assert_eq!(parse(&z).unwrap().rcode, 7);
        assert_eq!(
            simple_dns::Packet::parse(&z).unwrap().rcode(),
            RCODE::Reserved
        );
        // RCODEs 11..=15 are all one `Reserved` there.
        let mut r11 = query(1, "a.com", TYPE_A);
        r11[2] = 0x80;
        r11[3] = 11;
        assert_eq!(parse(&r11).unwrap().rcode, 11);
        assert_eq!(
            simple_dns::Packet::parse(&r11).unwrap().rcode(),
            RCODE::Reserved
        );
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
}
