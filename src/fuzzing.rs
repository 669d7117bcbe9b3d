//! The fuzz targets' harnesses, one function per target in
//! `fuzz/fuzz_targets/` (each target is a one-line call of its function here),
//! so `tests/fuzz_regressions.rs` replays saved inputs and seeds through
//! exactly the code the fuzzer ran. Not part of the public API: the functions
//! panic (assert) when an input breaks an invariant, which is what the fuzzer
//! and the regression test look for. Inputs are plain bytes; see
//! `fuzz/README.md` for each target's input layout.

/// The link types `decode_packet` and `analyze_frames` pick by index (the
/// supported ones, then USER0, which is not); `examples/fuzz_seeds.rs`
/// writes the index of a capture's link type.
pub const LINKTYPES: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

/// (a) The file readers: a whole pcap or pcapng file from the fuzzer bytes.
pub fn read_capture(data: &[u8]) {
    read_capture::run(data)
}

/// (b) Link layer + IP + TCP/ICMP decode of one packet. The first byte picks
/// the link type (among those we support, plus one we do not), the second
/// how the original length relates to the captured length.
pub fn decode_packet(data: &[u8]) {
    decode_packet::run(data)
}

/// (c) The whole analysis of a short synthetic capture: the fuzzer bytes are
/// cut into frames (`[link type index][time step: 2 bytes][length: 2 bytes]
/// [bytes]`, repeated), analysed with a small connection limit, and the
/// report is written as JSON, NDJSON and a table.
pub fn analyze_frames(data: &[u8]) {
    analyze_frames::run(data)
}

/// (d) The HTTP/1.x response-head parser.
pub fn http_head(data: &[u8]) {
    http_head::run(data)
}

/// (e) DNS: the input as one UDP message (`dns::parse`) and as a TCP stream
/// of length-prefixed messages (`dns::parse_tcp_stream`); every message
/// that parses is then fed to a `DnsTracker`, with endpoints, transport,
/// time steps and `take_final` calls chosen by a small script, and the
/// tracker is drained with `finish`.
///
/// Input: byte 0 the tracker timeout (50 ms units); bytes 1-8 the script
/// (one byte per message fed, cycling); the rest is the payload.
pub fn dns_message(data: &[u8]) {
    dns_message::run(data)
}

/// (f) The TLS handshake sniffer: one direction of a stream, fed to a
/// `TlsSniffer` in pieces cut by a fuzz-chosen scheme, and once whole; the
/// two must learn the same. One scheme sends the pieces out of order (with
/// retransmissions) through the `StreamHead` reassembler, as the flows
/// stage does.
///
/// Input: byte 0 the scheme, byte 1 its parameter, the rest the stream.
pub fn tls_stream(data: &[u8]) {
    tls_stream::run(data)
}

/// (g) HTTP request heads and the Go module proxy paths: the input as a
/// client's first payload (`http::parse_request_head`, plus the flows
/// stage's `looks_like_http_request` and `http_status`), its path through
/// `gomod::parse_path` under a few proxy prefixes, and the input as text
/// through `gomod::parse_path`, `gomod::decode_case` and
/// `gomod::GoProxy::parse`.
///
/// Input: the payload (also read as lossy UTF-8 text).
pub fn http_request(data: &[u8]) {
    http_request::run(data)
}

mod read_capture {
    use crate::source;
    use std::io::Cursor;

    pub fn run(data: &[u8]) {
        let Ok(mut src) = source::file::open_reader(Cursor::new(data.to_vec())) else {
            return;
        };
        let mut sum = 0u64;
        loop {
            match src.next_frame() {
                Ok(Some(f)) => {
                    // Touch the frame so a bad slice would be noticed.
                    sum = sum.wrapping_add(f.data.iter().map(|&b| u64::from(b)).sum::<u64>());
                    sum =
                        sum.wrapping_add(f.number ^ u64::from(f.linktype) ^ u64::from(f.orig_len));
                    assert!(f.data.len() <= source::file::MAX_RECORD);
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = e.to_string();
                    break;
                }
            }
        }
        // At the end it stays at the end.
        assert!(matches!(src.next_frame(), Ok(None) | Err(_)));
        for w in src.warnings() {
            assert!(!w.is_empty());
        }
        let _ = (src.format(), sum);
    }
}

mod decode_packet {
    use crate::decode::{self, Decoded};
    use crate::packet::Frame;
    use crate::time::Ts;

    use super::LINKTYPES;

    pub fn run(data: &[u8]) {
        if data.len() < 2 {
            return;
        }
        let linktype = LINKTYPES[usize::from(data[0]) % LINKTYPES.len()];
        let mode = data[1];
        let pkt = &data[2..];
        check(decode::decode(linktype, pkt), pkt);
        let orig_len = match mode % 3 {
            0 => pkt.len() as u32,
            1 => (pkt.len() as u32).saturating_add(u32::from(mode)),
            _ => (pkt.len() as u32).saturating_sub(u32::from(mode)),
        };
        let frame = Frame {
            number: 1,
            ts: Ts(0),
            linktype,
            orig_len,
            data: pkt,
        };
        check(decode::decode_frame(&frame), pkt);
    }

    fn check(d: Result<Decoded<'_>, decode::DecodeError>, pkt: &[u8]) {
        match d {
            Ok(Decoded::Tcp(seg)) => {
                assert!(seg.payload.len() <= pkt.len());
                let _ = seg.flags.short();
            }
            Ok(_) => {}
            Err(e) => {
                let _ = e.reason();
            }
        }
    }
}

mod analyze_frames {
    use crate::analyze::{Settings, analyze_collect};
    use crate::report;
    use crate::source::MemorySource;
    use crate::time::Ts;

    use super::LINKTYPES;

    pub fn run(data: &[u8]) {
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
            // Mostly forward in time (10 µs units), sometimes backwards.
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
        let opts = Settings {
            stall_after_ns,
            max_connections,
            ..Settings::default()
        };
        let mut src = MemorySource::new(frames);
        let Ok(rep) = analyze_collect(&mut src, "fuzz", &opts, crate::report::Collect::every())
        else {
            return;
        };
        let json = serde_json::to_vec(&rep).expect("report serialises");
        assert!(!json.is_empty());
        let mut out = Vec::new();
        report::write_table(&mut out, &rep, true).expect("table");
        report::write_table(&mut out, &rep, false).expect("table");
        report::write_ndjson(&mut out, &rep).expect("ndjson");
        report::write_json(&mut out, std::slice::from_ref(&rep)).expect("json");
        assert!(rep.summary.connections as usize >= rep.connections.len());
    }
}

mod http_head {
    use crate::flows::HttpResponseHead;

    pub fn run(data: &[u8]) {
        if let Some(h) = HttpResponseHead::parse(data) {
            assert!(h.header_len as usize <= data.len());
            assert!(!(h.chunked && h.content_length.is_some()));
        }
    }
}

mod dns_message {
    use crate::packet::Event;
    use crate::sniff::dns::{self, DnsMessage, DnsQuery, DnsTracker, Transport};
    use crate::time::Ts;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

    pub fn run(data: &[u8]) {
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
    }

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
}

mod tls_stream {
    use crate::flows::app::TLS_HEAD_CAP;
    use crate::flows::reasm::{MAX_PENDING, StreamHead};
    use crate::flows::{Event, SeqNum};
    use crate::sniff::tls::{self, TlsInfo, TlsSniffer};
    use crate::time::Ts;

    pub fn run(data: &[u8]) {
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
    }

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
        // Knuth's multiplicative hash: the wrap is the point (`00 70` overflowed
        // a plain multiply).
        let mut rng = u32::from(param).wrapping_mul(2654435761) | 1;
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
}

mod http_request {
    use crate::flows::app;
    use crate::sniff::gomod::{self, FetchKind, GoProxy, ModuleFetch};
    use crate::sniff::http;

    const PREFIXES: [&str; 5] = ["", "/", "/goproxy", "goproxy/", "/a/b/"];

    pub fn run(data: &[u8]) {
        let _ = app::http_status(data);
        let looks = app::looks_like_http_request(data);
        let text = String::from_utf8_lossy(data);

        let proxy = GoProxy::parse(&text);
        if let Ok(p) = &proxy {
            for e in &p.entries {
                assert!(!e.host.is_empty());
                assert!(e.scheme == "http" || e.scheme == "https");
                assert!(!e.prefix.ends_with('/'));
                assert!(!e.host.bytes().any(|b| b.is_ascii_uppercase()));
                assert!(p.is_module_host(&e.host) || e.host.ends_with('.') || e.host.contains(':'));
            }
        }

        if let Some(req) = http::parse_request_head(data) {
            assert!(looks);
            assert!(data.starts_with(req.method.as_bytes()));
            assert!(req.path.len() <= http::MAX_PATH);
            assert!(!req.path.is_empty());
            assert!(req.host.as_ref().is_none_or(|h| h.len() <= http::MAX_VALUE));
            assert!(
                req.user_agent
                    .as_ref()
                    .is_none_or(|u| u.len() <= http::MAX_VALUE)
            );
            for prefix in PREFIXES {
                if let Some(f) = gomod::parse_path(&req.path, prefix) {
                    check_fetch(&f);
                }
            }
            if let (Ok(p), Some(host)) = (&proxy, &req.host) {
                let _ = p.is_module_host(host);
                if let Some(f) = gomod::parse_path(&req.path, p.prefix_for(host)) {
                    check_fetch(&f);
                }
            }
        }

        for prefix in PREFIXES {
            if let Some(f) = gomod::parse_path(&text, prefix) {
                check_fetch(&f);
            }
        }
        if let Some(d) = gomod::decode_case(&text) {
            assert!(d.len() <= text.len());
            assert!(d.is_ascii());
            // Without the URL-escaped form, decoding is the exact inverse of
            // the go command's case-encoding.
            if !text.contains("%21") {
                assert_eq!(encode_case(&d), text);
            }
        }
    }

    fn check_fetch(f: &ModuleFetch) {
        assert_eq!(f.module.is_none(), f.kind == FetchKind::Tile);
        let versioned = matches!(
            f.kind,
            FetchKind::Info | FetchKind::Mod | FetchKind::Zip | FetchKind::Lookup
        );
        assert_eq!(f.version.is_some(), versioned);
        if let Some(m) = &f.module {
            assert!(!m.is_empty() && m.is_ascii());
        }
        assert!(
            f.sumdb
                .as_ref()
                .is_none_or(|h| !h.is_empty() && h.len() <= 255)
        );
        assert!(!f.label().is_empty());
        let _ = f.kind.as_str();
    }

    /// `module.EscapePath`'s case-encoding: `X` is `!x`.
    fn encode_case(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if c.is_ascii_uppercase() {
                out.push('!');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}
