//! (e) DNS: the input as one UDP message (`dns::parse`) and as a TCP stream
//! of length-prefixed messages (`dns::parse_tcp_stream`); every message
//! that parses is then fed to a `DnsTracker`, with endpoints, transport,
//! time steps and `take_final` calls chosen by a small script, and the
//! tracker is drained with `finish`.
//!
//! Input: byte 0 the tracker timeout (50 ms units); bytes 1-8 the script
//! (one byte per message fed, cycling); the rest is the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tcptriage::packet::Event;
use tcptriage::sniff::dns::{self, DnsMessage, DnsQuery, DnsTracker, Transport};
use tcptriage::time::Ts;

const SCRIPT_LEN: usize = 8;
const STEPS_NS: [i64; 8] = [
    0,
    1_000_000,
    100_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
    -1_000_000_000,
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 1 + SCRIPT_LEN {
        return;
    }
    let timeout_ns = i64::from(data[0]) * 50_000_000;
    let script = &data[1..1 + SCRIPT_LEN];
    let payload = &data[1 + SCRIPT_LEN..];

    let mut messages = Vec::new();
    match dns::parse(payload) {
        Ok(m) => {
            check_message(&m, payload.len());
            messages.push(m);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // The whole stream, as a caller would: again from `consumed` while the
    // message cap stopped the loop.
    let mut rest = payload;
    loop {
        let (msgs, consumed) = dns::parse_tcp_stream(rest);
        assert!(msgs.len() <= dns::MAX_TCP_MESSAGES);
        assert!(consumed <= rest.len());
        for m in &msgs {
            check_message(m, rest.len());
        }
        messages.extend(msgs);
        if consumed == 0 || messages.len() > 4 * dns::MAX_TCP_MESSAGES {
            break;
        }
        rest = &rest[consumed..];
    }

    let client_v4 = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    let client_v6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));
    let server = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 53);
    let server_v6 = (IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)), 53);
    let mut tracker = DnsTracker::new(timeout_ns);
    let mut ts: i64 = 1_700_000_000_000_000_000;
    let mut handed_out = 0usize;
    let mut queries_fed = 0usize;
    // Two rounds: the second one retransmits the queries and repeats the
    // responses (duplicates), under other script bytes.
    for (i, m) in messages.iter().chain(messages.iter()).enumerate() {
        let c = script[i % SCRIPT_LEN] ^ (i / SCRIPT_LEN) as u8;
        let v6 = c & 2 != 0;
        let client = (
            if v6 { client_v6 } else { client_v4 },
            40000 + u16::from(c >> 2 & 1),
        );
        let server = if v6 { server_v6 } else { server };
        let transport = if c & 8 != 0 {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        ts = ts.saturating_add(STEPS_NS[usize::from(c >> 4 & 7)]);
        let at = Event {
            frame: i as u64 + 1,
            ts: Ts(ts),
        };
        // Natural orientation: queries from the client, responses from
        // the server; bit 0 swaps it.
        let (src, dst) = if m.response == (c & 1 == 0) {
            (server, client)
        } else {
            (client, server)
        };
        if !m.response && m.opcode == 0 && !m.questions.is_empty() {
            queries_fed += 1;
        }
        tracker.on_message(at, src, dst, transport, m);
        if c & 0x80 != 0 {
            let out = tracker.take_final(Ts(ts));
            handed_out += out.len();
            check_queries(&tracker, &out);
        }
    }
    let out = tracker.finish(Ts(ts));
    handed_out += out.len();
    check_queries(&tracker, &out);
    assert!(tracker.is_empty());
    assert_eq!(tracker.len(), 0);
    assert!(handed_out <= queries_fed);
    let _ = (
        tracker.unmatched_responses(),
        tracker.duplicate_responses(),
        tracker.dropped_queries(),
        tracker.evicted_names(),
    );
});

/// A name is at most 255 wire octets; each label byte becomes at most 3
/// bytes of UTF-8 (U+FFFD for invalid UTF-8), separators one.
const MAX_NAME_TEXT: usize = 3 * dns::MAX_NAME_WIRE_LEN;

fn check_message(m: &DnsMessage, len: usize) {
    assert!(len >= 12);
    assert!(m.questions.len() <= dns::MAX_QUESTIONS);
    assert!(m.questions.len() <= usize::from(m.question_count));
    assert!(m.answers.len() <= dns::MAX_ANSWERS);
    assert!(m.answers.len() <= usize::from(m.answer_count));
    assert!(m.opcode < 16);
    assert!(m.rcode < 4096);
    if m.complete {
        assert_eq!(
            m.questions.len(),
            usize::from(m.question_count).min(dns::MAX_QUESTIONS)
        );
        assert_eq!(
            m.answers.len(),
            usize::from(m.answer_count).min(dns::MAX_ANSWERS)
        );
    }
    for q in &m.questions {
        assert!(!q.name.is_empty() && q.name.len() <= MAX_NAME_TEXT);
        let _ = dns::qtype_name(q.qtype);
    }
    for r in &m.answers {
        assert!(!r.name.is_empty() && r.name.len() <= MAX_NAME_TEXT);
        if let dns::RecordData::Cname(t) = &r.data {
            assert!(!t.is_empty() && t.len() <= MAX_NAME_TEXT);
        }
    }
    let _ = dns::rcode_name(m.rcode);
}

fn check_queries(tracker: &DnsTracker, out: &[DnsQuery]) {
    for q in out {
        assert!(!q.query_frames.is_empty());
        assert!(q.query_frames.len() <= dns::MAX_QUERY_FRAMES);
        assert_eq!(q.query_frames[0], q.first.frame);
        assert!(q.addresses.len() <= dns::MAX_ADDRESSES);
        assert!(q.cnames.len() <= dns::MAX_CNAMES);
        assert_eq!(q.response.is_some(), q.rcode.is_some());
        if q.response.is_none() {
            assert!(matches!(
                q.outcome,
                dns::DnsOutcome::Timeout | dns::DnsOutcome::Pending
            ));
            assert!(q.addresses.is_empty() && q.cnames.is_empty());
        }
        if q.rcode == Some(0) {
            for ip in &q.addresses {
                assert!(tracker.name_for(*ip).is_some());
            }
        }
        let _ = (
            q.outcome.as_str(),
            q.outcome.is_failure(),
            q.transport.as_str(),
        );
    }
}
