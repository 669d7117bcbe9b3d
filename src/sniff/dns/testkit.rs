//! Builders shared by the wire and tracker tests: DNS messages byte by
//! byte, the two endpoints of a lookup, and a tracker fed through them.

use super::tracker::{DEFAULT_TIMEOUT_NS, DnsQuery, DnsTracker, Transport};
use super::wire::parse;
use crate::packet::Event;
use crate::time::Ts;
use std::net::{IpAddr, Ipv4Addr};

// ---- wire builders -------------------------------------------------

/// "a.b" -> 1 'a' 1 'b' 0; labels are raw bytes split at b'.'.
pub(super) fn wire_name(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split(|&b| b == b'.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.push(0);
    out
}

pub(super) fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        out.extend_from_slice(&c.to_be_bytes());
    }
    out
}

pub(super) fn rr(owner: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut out = owner.to_vec();
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
    out
}

/// A query (RD set) for `name`/`qtype`.
pub(super) fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut out = header(id, 0x0100, [1, 0, 0, 0]);
    out.extend(wire_name(name.as_bytes()));
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out
}

/// A response echoing the question, with `answers` (whose owner names
/// may point at offset 12, the question name) and `authority` records.
pub(super) fn response(
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
pub(super) const QNAME: [u8; 2] = [0xC0, 12];

pub(super) fn soa() -> Vec<u8> {
    let mut rdata = wire_name(b"ns1.example.com");
    rdata.extend(wire_name(b"hostmaster.example.com"));
    rdata.extend_from_slice(&[0; 20]);
    rr(&wire_name(b"example.com"), 6, 900, &rdata)
}

pub(super) const CLIENT: (IpAddr, u16) = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 40000);
pub(super) const SERVER: (IpAddr, u16) = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 53);

pub(super) fn ev(frame: u64, ms: u64) -> Event {
    Event {
        frame,
        ts: Ts(1_700_000_000_000_000_000).plus_ms(ms),
    }
}

pub(super) fn ts(ms: u64) -> Ts {
    ev(0, ms).ts
}

pub(super) fn feed(
    t: &mut DnsTracker,
    at: Event,
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    bytes: &[u8],
) {
    let msg = parse(bytes).expect("test message parses");
    t.on_message(at, src, dst, Transport::Udp, &msg);
}

/// One query and its response through a fresh tracker; the final query.
pub(super) fn resolve(qtype: u16, resp: &[u8]) -> DnsQuery {
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
