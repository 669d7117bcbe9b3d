//! Inputs the fuzzers in `fuzz/` found, replayed in the normal test suite.
//! Each helper mirrors the input layout of one fuzz target, so a reproducer
//! file from `fuzz/artifacts/TARGET/` can be dropped into
//! `tests/fuzz-regressions/` as `TARGET-what.bin` and is replayed by
//! [`every_saved_reproducer`].

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use tcptriage::analyze::{Options, analyze_collect};
use tcptriage::decode::{self, Decoded};
use tcptriage::flows::app::TLS_HEAD_CAP;
use tcptriage::flows::reasm::StreamHead;
use tcptriage::flows::{Event, HttpResponseHead, SeqNum};
use tcptriage::report;
use tcptriage::report::Collect;
use tcptriage::sniff::{dns, gomod, http, tls};
use tcptriage::source::{Frame, MemorySource, file::open_reader};
use tcptriage::time::Ts;

const LINKTYPES: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

/// `fuzz_targets/read_capture.rs`.
fn read_capture(data: &[u8]) {
    let Ok(mut src) = open_reader(Cursor::new(data.to_vec())) else {
        return;
    };
    while let Ok(Some(f)) = src.next_frame() {
        assert!(f.data.len() <= tcptriage::source::file::MAX_RECORD);
    }
    assert!(matches!(src.next_frame(), Ok(None) | Err(_)));
}

/// `fuzz_targets/decode_packet.rs`, for every link type.
fn decode_packet(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let pkt = &data[2..];
    for linktype in LINKTYPES {
        if let Ok(Decoded::Tcp(seg)) = decode::decode(linktype, pkt) {
            assert!(seg.payload.len() <= pkt.len());
        }
        for orig_len in [pkt.len() as u32, pkt.len() as u32 + 100, 0] {
            let frame = Frame {
                number: 1,
                ts: Ts(0),
                linktype,
                orig_len,
                data: pkt,
            };
            let _ = decode::decode_frame(&frame);
        }
    }
}

/// `fuzz_targets/analyze_frames.rs`.
fn analyze_frames(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let max_connections = usize::from(data[0] % 16) + 1;
    let stall_after_ns = i64::from(data[1]) * 100_000_000;
    let mut rest = &data[2..];
    let mut frames = Vec::new();
    let mut ts: i64 = 1_700_000_000_000_000_000;
    while rest.len() >= 5 && frames.len() < 4096 {
        let lt = LINKTYPES[usize::from(rest[0]) % LINKTYPES.len()];
        let step = u16::from_le_bytes([rest[1], rest[2]]);
        let step = if step & 0x8000 != 0 {
            -i64::from(step & 0x7fff) * 10_000
        } else {
            i64::from(step) * 10_000
        };
        ts = ts.saturating_add(step);
        let len = usize::from(u16::from_le_bytes([rest[3], rest[4]]));
        rest = &rest[5..];
        let len = len.min(rest.len());
        frames.push((Ts(ts), lt, rest[..len].to_vec()));
        rest = &rest[len..];
    }
    let opts = Options {
        stall_after_ns,
        max_connections,
        ..Options::default()
    };
    let mut src = MemorySource::new(frames);
    let Ok(rep) = analyze_collect(&mut src, "fuzz", &opts, Collect::every()) else {
        return;
    };
    serde_json::to_vec(&rep).unwrap();
    let mut out = Vec::new();
    report::write_table(&mut out, &rep, true).unwrap();
    report::write_ndjson(&mut out, &rep).unwrap();
}

/// `fuzz_targets/http_head.rs`.
fn http_head(data: &[u8]) {
    if let Some(h) = HttpResponseHead::parse(data) {
        assert!(h.header_len as usize <= data.len());
    }
}

/// `fuzz_targets/dns_message.rs`: parse as UDP and as a TCP stream, and
/// track every message (queries from the client, responses from the
/// server; the script byte's top bit asks for `take_final`, bits 4-6 step
/// the clock as in the target).
fn dns_message(data: &[u8]) {
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
    if data.len() < 9 {
        return;
    }
    let (script, payload) = data[1..].split_at(8);
    let mut messages: Vec<dns::DnsMessage> = dns::parse(payload).into_iter().collect();
    let mut rest = payload;
    loop {
        let (msgs, used) = dns::parse_tcp_stream(rest);
        assert!(msgs.len() <= dns::MAX_TCP_MESSAGES && used <= rest.len());
        messages.extend(msgs);
        if used == 0 || messages.len() > 4 * dns::MAX_TCP_MESSAGES {
            break;
        }
        rest = &rest[used..];
    }
    let client = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 40000);
    let server = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 53);
    let mut tracker = dns::DnsTracker::new(i64::from(data[0]) * 50_000_000);
    let mut ts = 1_700_000_000_000_000_000i64;
    for (i, m) in messages.iter().chain(messages.iter()).enumerate() {
        assert!(m.questions.len() <= dns::MAX_QUESTIONS && m.answers.len() <= dns::MAX_ANSWERS);
        let c = script[i % 8] ^ (i / 8) as u8;
        ts = ts.saturating_add(STEPS_NS[usize::from(c >> 4 & 7)]);
        let at = Event {
            frame: i as u64 + 1,
            ts: Ts(ts),
        };
        let (src, dst) = if m.response {
            (server, client)
        } else {
            (client, server)
        };
        tracker.on_message(at, src, dst, dns::Transport::Udp, m);
        if c & 0x80 != 0 {
            tracker.take_final(Ts(ts));
        }
    }
    for q in tracker.finish(Ts(ts)) {
        assert!(q.addresses.len() <= dns::MAX_ADDRESSES && q.cnames.len() <= dns::MAX_CNAMES);
    }
    assert!(tracker.is_empty());
}

/// `fuzz_targets/tls_stream.rs`: whole, byte by byte, and through the
/// reassembler in reverse order; all three must learn the same.
fn tls_stream(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let stream = &data[2..];
    let at = Event {
        frame: 1,
        ts: Ts(0),
    };
    let mut whole = tls::TlsSniffer::new();
    whole.feed(stream, at);
    let mut bytes = tls::TlsSniffer::new();
    for b in stream.chunks(1) {
        bytes.feed(b, at);
    }
    assert_eq!(whole.info(), bytes.info());
    let info = whole.info();
    assert!(info.alerts.len() <= tls::MAX_ALERTS);
    if let Some(ch) = &info.client_hello {
        assert!(ch.alpn.len() <= tls::MAX_ALPN && ch.supported_versions.len() <= tls::MAX_VERSIONS);
    }
    let want = stream.len().min(TLS_HEAD_CAP as usize);
    let mut head = StreamHead::new(SeqNum(u32::MAX - 7), TLS_HEAD_CAP);
    let mut reasm = tls::TlsSniffer::new();
    let mut got = Vec::new();
    let pieces: Vec<(usize, &[u8])> = stream
        .chunks(97)
        .enumerate()
        .map(|(i, p)| (i * 97, p))
        .collect();
    for &(off, p) in pieces.iter().rev().chain(pieces.iter()) {
        head.push(SeqNum((u32::MAX - 7).wrapping_add(off as u32)), p, |b| {
            got.extend_from_slice(b);
            reasm.feed(b, at);
        });
    }
    assert_eq!(&got[..], &stream[..want]);
    let mut capped = tls::TlsSniffer::new();
    capped.feed(&stream[..want], at);
    assert_eq!(capped.info(), reasm.info());
}

/// `fuzz_targets/http_request.rs`.
fn http_request(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = gomod::GoProxy::parse(&text);
    if let Some(req) = http::parse_request_head(data) {
        assert!(req.path.len() <= http::MAX_PATH);
        assert!(req.host.as_ref().is_none_or(|h| h.len() <= http::MAX_VALUE));
        assert!(
            req.user_agent
                .as_ref()
                .is_none_or(|u| u.len() <= http::MAX_VALUE)
        );
        for prefix in ["", "/", "/goproxy", "goproxy/", "/a/b/"] {
            let _ = gomod::parse_path(&req.path, prefix).map(|f| f.label());
        }
    }
    for prefix in ["", "/goproxy"] {
        let _ = gomod::parse_path(&text, prefix).map(|f| f.label());
    }
    if let Some(d) = gomod::decode_case(&text) {
        assert!(d.len() <= text.len());
    }
}

fn replay(name: &str, data: &[u8]) {
    match name.split('-').next().unwrap() {
        "read_capture" => read_capture(data),
        "decode_packet" => decode_packet(data),
        "analyze_frames" => analyze_frames(data),
        "http_head" => http_head(data),
        "dns_message" => dns_message(data),
        "tls_stream" => tls_stream(data),
        "http_request" => http_request(data),
        other => panic!("{name}: unknown fuzz target {other}"),
    }
}

/// The replay helpers of the application-parser targets on real inputs
/// (the TLS fixtures, a DNS query and response, one of go's requests), so
/// they are exercised before any reproducer exists.
#[test]
fn application_parser_helpers_on_real_inputs() {
    let tls_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sniff/testdata/tls");
    for name in [
        "tls12_c2s.bin",
        "tls12_s2c.bin",
        "tls13_s2c.bin",
        "sni_reject_s2c.bin",
    ] {
        let mut data = vec![0, 0];
        data.extend(std::fs::read(tls_dir.join(name)).unwrap());
        tls_stream(&data);
    }
    // "proxy.golang.org" A query and its answer as one TCP stream.
    let q: &[u8] = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05proxy\x06golang\x03org\x00\x00\x01\x00\x01";
    let mut r = q.to_vec();
    r[2] = 0x81;
    r[3] = 0x80;
    r[7] = 1;
    r.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x8e\xfa\x4a\x11");
    let mut data = vec![100, 0, 0x90, 0, 0, 0, 0, 0, 0];
    for m in [q, &r[..]] {
        data.extend_from_slice(&(m.len() as u16).to_be_bytes());
        data.extend_from_slice(m);
    }
    dns_message(&data);
    http_request(
        b"GET /golang.org/x/text/@v/v0.3.7.zip HTTP/1.1\r\nHost: goproxy.corp.example:8080\r\n\r\n",
    );
}

#[test]
fn every_saved_reproducer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".bin") {
            continue;
        }
        replay(&name, &std::fs::read(&p).unwrap());
        n += 1;
    }
    assert!(n > 0);
}

/// decode_packet: an ICMPv6 error quoting an IPv6 packet whose extension
/// header chain is cut short. etherparse's extension iterator read past the
/// end of the buffer (heap-buffer-overflow under AddressSanitizer); the
/// chain is now walked with bounds checks.
#[test]
fn icmpv6_quoting_a_truncated_extension_chain() {
    let data = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz-regressions/decode_packet-ipv6-ext-overread.bin"),
    )
    .unwrap();
    // Ethernet frame: the ICMPv6 error is decoded, but its quote is not TCP.
    let pkt = &data[2..];
    assert!(!matches!(
        decode::decode(1, pkt),
        Ok(Decoded::IcmpError(_)) | Err(_)
    ));
    decode_packet(&data);
}
