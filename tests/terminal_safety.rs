//! Nothing taken from a packet or a file can drive the terminal: control
//! characters and ANSI escapes are printed as visible escapes (`\x1b`).

use tcptriage::analyze::{Options, analyze};
use tcptriage::flows::HttpResponseHead;
use tcptriage::report::{self, Report, sanitize};
use tcptriage::source::MemorySource;
use tcptriage::time::Ts;

const EVIL: &str = "\x1b[2J\x1b]0;pwned\x07\u{9b}31m\r\u{202e}gnp.exe\n";

/// A SYN to 10.0.0.2:80 retried twice over 3 s: a firewall_drop.
fn dropped_syn_report() -> Report {
    let syn: Vec<u8> = vec![
        0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0, 80, 0,
        0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    ];
    let t0 = 1_700_000_000_000_000_000;
    let frames = (0..3)
        .map(|i| (Ts(t0 + i * 1_500_000_000), 101, syn.clone()))
        .collect();
    analyze(&mut MemorySource::new(frames), "mem", &Options::default()).unwrap()
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
