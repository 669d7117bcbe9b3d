//! (f) The TLS handshake sniffer: one direction of a stream, fed to a
//! `TlsSniffer` in pieces cut by a fuzz-chosen scheme, and once whole; the
//! two must learn the same. One scheme sends the pieces out of order (with
//! retransmissions) through the `StreamHead` reassembler, as the flows
//! stage does.
//!
//! Input: byte 0 the scheme, byte 1 its parameter, the rest the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcptriage::flows::app::TLS_HEAD_CAP;
use tcptriage::flows::reasm::{MAX_PENDING, StreamHead};
use tcptriage::flows::{Event, SeqNum};
use tcptriage::sniff::tls::{self, TlsInfo, TlsSniffer};
use tcptriage::time::Ts;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (scheme, param) = (data[0], data[1]);
    let stream = &data[2..];
    let at = Event {
        frame: 1,
        ts: Ts(1_700_000_000_000_000_000),
    };

    let mut whole = TlsSniffer::new();
    whole.feed(stream, at);
    check(whole.info());

    let pieces = cut(stream, scheme >> 2, param);
    let mut sniffer = TlsSniffer::new();
    if scheme & 3 == 3 {
        // Out of order through the reassembler: pieces in a shuffled order,
        // some twice; what comes out is always a prefix of the stream.
        let base = u32::from_le_bytes([param, scheme, 0xff, 0xff]);
        let mut head = StreamHead::new(SeqNum(base), TLS_HEAD_CAP);
        let mut delivered = Vec::new();
        let mut offsets = Vec::with_capacity(pieces.len());
        let mut off = 0u32;
        for p in &pieces {
            offsets.push(off);
            off += p.len() as u32;
        }
        let mut order: Vec<usize> = (0..pieces.len()).collect();
        let mut rng = u32::from(param) | 1;
        for i in (1..order.len()).rev() {
            let j = (xorshift(&mut rng) as usize) % (i + 1);
            order.swap(i, j);
        }
        // A second pass in order fills what the held-piece cap dropped.
        order.extend(0..pieces.len());
        for &i in &order {
            head.push(SeqNum(base.wrapping_add(offsets[i])), pieces[i], |b| {
                delivered.extend_from_slice(b);
                sniffer.feed(b, at);
            });
            assert!(head.pending_bytes() <= MAX_PENDING * stream.len().max(1));
        }
        assert_eq!(head.delivered() as usize, delivered.len());
        assert_eq!(&stream[..delivered.len()], &delivered[..]);
        let want = stream.len().min(TLS_HEAD_CAP as usize);
        assert_eq!(delivered.len(), want);
        check(sniffer.info());
        let mut capped = TlsSniffer::new();
        capped.feed(&stream[..want], at);
        assert_eq!(capped.info(), sniffer.info());
    } else {
        for p in &pieces {
            sniffer.feed(p, at);
        }
        check(sniffer.info());
        assert_eq!(whole.info(), sniffer.info());
        assert_eq!(whole.wants_more(), sniffer.wants_more());
    }
    let _ = sniffer.into_info();
});

fn xorshift(s: &mut u32) -> u32 {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    *s
}

/// Cuts `stream` into pieces: 0 one piece, 1 fixed size `param + 1`,
/// 2 single bytes, otherwise pseudo-random sizes from 1 to 2 * param + 1.
fn cut(stream: &[u8], how: u8, param: u8) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = stream;
    let mut rng = u32::from(param) * 2654435761 | 1;
    while !rest.is_empty() {
        let n = match how % 4 {
            0 => rest.len(),
            1 => usize::from(param) + 1,
            2 => 1,
            _ => (xorshift(&mut rng) % (2 * u32::from(param) + 1)) as usize + 1,
        };
        let (p, r) = rest.split_at(n.min(rest.len()));
        pieces.push(p);
        rest = r;
    }
    pieces
}

/// Lossy UTF-8 of at most `MAX_STRING` packet bytes: each byte becomes at
/// most 3 bytes (U+FFFD); lowercasing the SNI may grow it a little more.
const MAX_LOSSY: usize = 4 * tls::MAX_STRING;

fn check(info: &TlsInfo) {
    assert!(info.alerts.len() <= tls::MAX_ALERTS);
    if let Some(ch) = &info.client_hello {
        assert!(ch.alpn.len() <= tls::MAX_ALPN);
        assert!(ch.alpn.iter().all(|p| p.len() <= 3 * tls::MAX_STRING));
        assert!(ch.supported_versions.len() <= tls::MAX_VERSIONS);
        assert!(ch.sni.as_ref().is_none_or(|s| s.len() <= MAX_LOSSY));
        let _ = tls::version_name(ch.legacy_version);
    }
    if let Some(sh) = &info.server_hello {
        let _ = tls::version_name(sh.version);
    }
    if let Some(c) = &info.certificate {
        assert!(c.subject.len() <= tls::MAX_STRING);
        assert!(c.issuer.len() <= tls::MAX_STRING);
        assert!(
            c.not_after
                .as_ref()
                .is_none_or(|s| s.len() <= tls::MAX_STRING)
        );
    }
    for a in &info.alerts {
        let _ = (
            tls::alert_description_name(a.description),
            tls::alert_level_name(a.level),
        );
    }
    if info.not_tls {
        assert!(info.client_hello.is_none() && info.server_hello.is_none());
    }
}
