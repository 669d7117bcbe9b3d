//! Nothing taken from a packet or a file can drive the terminal: control
//! characters and ANSI escapes are printed as visible escapes (`\x1b`).

mod testkit;

use tcptriage::flows::HttpResponseHead;
use tcptriage::report::{self, Report, sanitize};
use tcptriage::time::Ts;

const EVIL: &str = "\x1b[2J\x1b]0;pwned\x07\u{9b}31m\r\u{202e}gnp.exe\n";

/// A SYN to 10.0.0.2:80 retried twice over 3 s: a firewall_drop.
fn dropped_syn_report() -> Report {
    let syn = testkit::frames::syn();
    let t0 = 1_700_000_000_000_000_000;
    let frames = (0..3)
        .map(|i| (Ts(t0 + i * 1_500_000_000), 101, syn.clone()))
        .collect();
    testkit::analyze_frames(frames)
}

fn assert_harmless(text: &str) {
    for bad in ['\x1b', '\x07', '\u{9b}', '\r', '\u{202e}'] {
        assert!(!text.contains(bad), "{bad:?} printed raw:\n{text}");
    }
}

#[test]
fn sanitize_makes_escapes_visible() {
    let s = sanitize(EVIL);
    assert_harmless(&s);
    assert!(!s.contains('\n'));
    assert_eq!(
        s,
        r"\x1b[2J\x1b]0;pwned\x07\u{9b}31m\x0d\u{202e}gnp.exe\x0a"
    );
}

#[test]
fn the_table_prints_packet_derived_strings_harmless() {
    let mut rep = dropped_syn_report();
    assert_eq!(rep.connections.len(), 1);
    assert_eq!(rep.connections[0].verdict.as_str(), "firewall_drop");
    rep.capture.file = format!("capture{EVIL}.pcap");
    rep.capture.warnings.push(format!("warning {EVIL}"));
    let c = &mut rep.connections[0];
    c.explanation = Some(format!("HTTP/1.1 200 OK\r\nServer: {EVIL}"));
    c.blocked_by = Some(format!("router {EVIL}"));
    c.warnings.push(format!("odd header {EVIL}"));
    for e in &mut c.evidence {
        e.what = format!("{}{EVIL}", e.what);
    }
    for all in [false, true] {
        let mut out = Vec::new();
        report::write_table(&mut out, &rep, all).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_harmless(&text);
        assert!(text.contains(r"\x1b[2J"), "{text}");
        assert!(text.contains(r"router \x1b[2J"), "{text}");
        assert!(text.contains(r"odd header \x1b[2J"), "{text}");
    }
    // JSON escapes C0 control characters itself (ESC is \u001b). C1 and
    // bidi characters stay as they are: JSON is for programs.
    let mut out = Vec::new();
    report::write_json(&mut out, std::slice::from_ref(&rep)).unwrap();
    let json = String::from_utf8(out).unwrap();
    assert!(!json.contains(['\x1b', '\x07', '\r']), "{json}");
    assert!(json.contains(r"\u001b[2J"), "{json}");
}

#[test]
fn an_http_head_with_escapes_is_parsed_not_echoed() {
    let head = b"HTTP/1.1 200 OK\r\nServer: \x1b[2J\x1b]0;x\x07\r\nContent-Length: 5\r\n\r\nhello";
    // httparse refuses control characters in header values: no head, and
    // nothing from it ever reaches the output.
    let parsed = HttpResponseHead::parse(head);
    if let Some(h) = parsed {
        assert_eq!(h.content_length, Some(5));
    }
}

/// Frames (raw IPv4, link type 101) of a DNS query and NXDOMAIN answer for
/// a name with an escape sequence in a label, then a TCP connection to a
/// hostile Host with a hostile path and User-Agent that gets no answer, and
/// one whose TLS ClientHello carries a hostile SNI and is reset.
fn hostile_app_frames() -> Vec<(Ts, u32, Vec<u8>)> {
    use testkit::frames::{seg, udp4};
    use testkit::hostile::{client_hello, dns_query};
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let t0 = 1_700_000_000_000_000_000i64;
    let mut frames = Vec::new();
    let mut push = |ms: i64, b: Vec<u8>| frames.push((Ts(t0 + ms * 1_000_000), 101u32, b));
    // DNS: "evil\x1b[2J" . "example", type A, id 0x1234.
    let q = dns_query(&[b"evil\x1b[2J", b"example"]);
    let mut r = q.clone();
    r[2] = 0x81;
    r[3] = 0x83; // response, RD, RA, NXDOMAIN
    for (ms, from, to, sport, dport, payload) in
        [(0, c, s, 5353u16, 53u16, &q), (10, s, c, 53, 5353, &r)]
    {
        push(ms, udp4(from, to, sport, dport, payload));
    }
    // The escapes of EVIL without its CR and LF, which would end the line.
    // A request target with control bytes is not HTTP (it is not parsed at
    // all); a bidi override is valid UTF-8 and is.
    let evil = EVIL.replace(['\n', '\r'], "");
    let request = format!(
        "GET /x\u{202e}gnp/@v/list HTTP/1.1\r\nHost: proxy{evil}.example\r\nUser-Agent: ua{evil}\r\n\r\n"
    );
    let hello = client_hello(format!("sni{evil}.example").as_bytes());
    for (i, (port, payload)) in [(80u16, request.as_bytes()), (443, &hello[..])]
        .into_iter()
        .enumerate()
    {
        let base = 1000 + i as i64 * 20_000;
        let cp = 40000 + i as u16;
        push(base, seg(c, s, cp, port, 100, None, true, false, &[]));
        push(
            base + 10,
            seg(s, c, port, cp, 500, Some(101), true, false, &[]),
        );
        push(
            base + 11,
            seg(c, s, cp, port, 101, Some(501), false, false, &[]),
        );
        push(
            base + 12,
            seg(c, s, cp, port, 101, Some(501), false, false, payload),
        );
        if port == 443 {
            push(base + 22, seg(s, c, port, cp, 501, None, false, true, &[]));
        }
    }
    // Let the HTTP request wait long enough to be a stall.
    push(60_000, seg(c, s, 49999, 9, 1, None, true, false, &[]));
    frames
}

#[test]
fn dns_names_sni_host_path_and_user_agent_are_printed_harmless() {
    let rep = testkit::analyze_frames(hostile_app_frames());
    // The strings really came through, escape and all.
    assert_eq!(rep.dns.len(), 1);
    assert_eq!(rep.dns[0].name, "evil\x1b[2j.example");
    assert_eq!(rep.dns[0].verdict, "dns_failure");
    let http = &rep.connections[0];
    assert!(http.http[0].host.as_deref().unwrap().contains('\x1b'));
    assert!(http.http[0].user_agent.as_deref().unwrap().contains('\x1b'));
    assert!(http.http[0].path.contains('\u{202e}'));
    let tls = &rep.connections[1];
    assert!(
        tls.tls
            .as_ref()
            .unwrap()
            .sni
            .as_deref()
            .unwrap()
            .contains('\x1b')
    );
    assert!(tls.target.as_deref().unwrap().contains('\x1b'));
    for all in [false, true] {
        let mut out = Vec::new();
        report::write_table(&mut out, &rep, all).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_harmless(&text);
        assert!(text.contains(r"evil\x1b[2j.example"), "{text}");
        assert!(text.contains(r"sni\x1b[2j\x1b]0;pwned"), "{text}");
    }
    let mut out = Vec::new();
    report::write_modules(&mut out, &rep).unwrap();
    assert_harmless(&String::from_utf8(out).unwrap());
    // JSON keeps the strings, escaped as JSON: no raw control character.
    let mut out = Vec::new();
    report::write_json(&mut out, std::slice::from_ref(&rep)).unwrap();
    let json = String::from_utf8(out).unwrap();
    assert!(!json.chars().any(|c| c.is_control() && c != '\n'), "{json}");
    assert!(json.contains(r"evil\u001b[2j.example"));
    let back: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(back["dns"][0]["name"], "evil\x1b[2j.example");
}
