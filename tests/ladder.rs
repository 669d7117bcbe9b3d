//! Ladder diagrams: golden snapshots of the terminal ladder for one
//! connection of each verdict in the shipped captures (checked by hand
//! against `tshark -r FILE`), and the properties every ladder must keep:
//! 80 columns, ASCII-only with `ascii`, ANSI only with `color`, evidence
//! frames marked, silences drawn, well-formed SVG, hostile strings escaped.
//!
//! `UPDATE_GOLDEN=1 cargo test --test ladder` rewrites the golden files.

mod testkit;

use std::path::{Path, PathBuf};
use tcptriage::analyze::Settings;
use tcptriage::ladder::{
    self, Ladder, LadderOptions, MAX_ROWS, RowKind, collect, collect_from, render_svg, render_text,
};
use tcptriage::source::{MemorySource, PacketSource, SourceError};
use tcptriage::time::Ts;
use testkit::frames::{Frames, seg};
use testkit::hostile::client_hello;

fn testdata(f: &str) -> PathBuf {
    testkit::testdata().join(f)
}

/// (golden name, capture, connection id)
const CASES: &[(&str, &str, u64)] = &[
    ("all_failures_0_ok", "all_failures.pcap", 0),
    ("all_failures_1_firewall_drop", "all_failures.pcap", 1),
    ("all_failures_2_service_down", "all_failures.pcap", 2),
    ("all_failures_3_app_stall", "all_failures.pcap", 3),
    ("all_failures_4_midstream_reset", "all_failures.pcap", 4),
    ("gomod_sni_reset_0", "gomod_sni_reset.pcap", 0),
    ("established_blackhole_0", "established_blackhole.pcap", 0),
    ("receiver_stops_reading_0", "receiver_stops_reading.pcap", 0),
];

fn ladder_of(file: &str, id: u64) -> Ladder {
    let mut v = collect(&testdata(file), &[id], false, &Settings::default()).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

fn all_cases() -> Vec<(&'static str, Ladder)> {
    CASES
        .iter()
        .map(|(name, file, id)| (*name, ladder_of(file, *id)))
        .collect()
}

const UNICODE: LadderOptions = LadderOptions {
    ascii: false,
    color: false,
    width: 80,
};
const ASCII: LadderOptions = LadderOptions {
    ascii: true,
    color: false,
    width: 80,
};

fn golden(name: &str, text: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/ladder")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    if want != text {
        let first = want
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(text.lines().count()));
        panic!(
            "{} differs from the golden file at line {} (UPDATE_GOLDEN=1 rewrites it)\n--- golden\n{want}\n--- now\n{text}",
            path.display(),
            first + 1
        );
    }
}

#[test]
fn golden_ladders_unicode_and_ascii() {
    for (name, l) in all_cases() {
        golden(&format!("{name}.txt"), &render_text(&l, &UNICODE));
        golden(&format!("{name}.ascii.txt"), &render_text(&l, &ASCII));
    }
}

/// Removes ANSI SGR sequences (`ESC [ … m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn every_line_fits_the_width() {
    for (name, l) in all_cases() {
        for ascii in [false, true] {
            for color in [false, true] {
                for width in [60, 80, 100] {
                    let o = LadderOptions {
                        ascii,
                        color,
                        width,
                    };
                    let text = strip_ansi(&render_text(&l, &o));
                    for line in text.lines() {
                        let w = ladder::display_width(line);
                        assert!(
                            w <= width,
                            "{name} {o:?}: {w} columns > {width}:\n{line}\n{text}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn ascii_is_only_ascii_and_color_only_when_asked() {
    for (name, l) in all_cases() {
        let a = render_text(&l, &ASCII);
        assert!(a.bytes().all(|b| b < 0x80), "{name}:\n{a}");
        for o in [UNICODE, ASCII] {
            let t = render_text(&l, &o);
            assert!(!t.contains('\x1b'), "{name}: ESC without color:\n{t}");
            let c = render_text(&l, &LadderOptions { color: true, ..o });
            assert!(c.contains("\x1b["), "{name}: no colour with color:\n{c}");
            assert_eq!(strip_ansi(&c), t, "{name}: colour changed the text");
        }
        let ac = render_text(
            &l,
            &LadderOptions {
                color: true,
                ..ASCII
            },
        );
        assert!(strip_ansi(&ac).bytes().all(|b| b < 0x80), "{name}");
    }
}

#[test]
fn evidence_frames_are_marked() {
    for (name, l) in all_cases() {
        assert!(!l.evidence.is_empty() || name.ends_with("_ok"), "{name}");
        let text = render_text(&l, &UNICODE);
        for e in &l.evidence {
            let row = l
                .rows
                .iter()
                .find(|r| (r.first_frame..=r.last_frame).contains(&e.frame))
                .unwrap_or_else(|| panic!("{name}: evidence frame {} has no row", e.frame));
            assert!(row.evidence, "{name}: frame {} not marked", e.frame);
            assert_eq!(row.first_frame, e.frame, "{name}: evidence in a run");
            let marked = text.lines().any(|line| {
                line.starts_with('*')
                    && line[1..].trim_start().split(' ').next() == Some(&e.frame.to_string())
            });
            assert!(marked, "{name}: no '*' row for frame {}:\n{text}", e.frame);
        }
        let marks = text.lines().filter(|l| l.starts_with('*')).count();
        assert_eq!(marks, l.evidence.len(), "{name}:\n{text}");
    }
}

#[test]
fn the_app_stall_shows_its_silence() {
    let l = ladder_of("all_failures.pcap", 3);
    let text = render_text(&l, &UNICODE);
    assert!(text.contains("… 7.98 s silence …"), "{text}");
    let ascii = render_text(&l, &ASCII);
    assert!(ascii.contains("... 7.98 s silence ..."), "{ascii}");
    // The silence comes right before the client's FIN (frame 121).
    let r = l.rows.iter().find(|r| r.first_frame == 121).unwrap();
    assert!(r.silence_before);
    assert_eq!(l.rows.iter().filter(|r| r.silence_before).count(), 1);
}

#[test]
fn a_transfer_collapses_into_one_run() {
    let l = ladder_of("all_failures.pcap", 4);
    let runs: Vec<_> = l
        .rows
        .iter()
        .filter(|r| matches!(r.kind, RowKind::Run { .. }))
        .collect();
    assert_eq!(runs.len(), 1, "{:#?}", l.rows);
    let r = runs[0];
    assert_eq!((r.first_frame, r.last_frame, r.packets), (73, 113, 41));
    match &r.kind {
        RowKind::Run {
            data_segments,
            bytes,
            acks,
            seq,
            ..
        } => {
            // tshark: frames 74..112 even, 19 × 1448 + 1142 bytes, seq 1449..30103.
            assert_eq!((*data_segments, *bytes, *acks), (20, 28654, 21));
            assert_eq!(*seq, Some((1449, 30103)));
        }
        _ => unreachable!(),
    }
    // The RST after 287 ms is a silence (≥ 10× the median gap, ≥ 100 ms).
    let rst = l.rows.last().unwrap();
    assert_eq!(rst.first_frame, 115);
    assert!(rst.silence_before);
}

#[test]
fn the_middlebox_rst_shows_its_ttl() {
    let l = ladder_of("gomod_sni_reset.pcap", 0);
    let text = render_text(&l, &UNICODE);
    assert!(text.contains("R seq 1 TTL 64 (usual 63)"), "{text}");
    assert!(text.contains("proxy.golang.org"), "{text}");
}

/// Checks that `s` is one well-formed XML element: tags balance, attribute
/// values are quoted, every `&` starts a known entity, no control character.
fn check_xml(s: &str) {
    assert!(
        !s.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r'),
        "control character in the SVG"
    );
    let mut stack: Vec<String> = Vec::new();
    let mut rest = s.trim();
    let mut roots = 0;
    while !rest.is_empty() {
        if let Some(tail) = rest.strip_prefix('<') {
            let end = tail.find('>').expect("unclosed tag");
            let tag = &tail[..end];
            rest = &tail[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().expect("close without open");
                assert_eq!(open, name.trim(), "mismatched tag");
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name: String = tag.chars().take_while(|c| !c.is_whitespace()).collect();
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "bad tag name {name:?}"
            );
            // Attributes: name="value" pairs.
            let mut attrs = tag[name.len()..].trim();
            while !attrs.is_empty() {
                let eq = attrs.find('=').expect("attribute without value");
                let q = attrs[eq + 1..].chars().next().expect("empty value");
                assert!(q == '"' || q == '\'', "unquoted attribute in {tag}");
                let v_end = attrs[eq + 2..].find(q).expect("unterminated value") + eq + 2;
                check_text(&attrs[eq + 2..v_end]);
                assert!(!attrs[eq + 2..v_end].contains('<'));
                attrs = attrs[v_end + 1..].trim_start();
            }
            if stack.is_empty() {
                roots += 1;
            }
            if !self_closing {
                stack.push(name);
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            assert!(
                !stack.is_empty() || text.trim().is_empty(),
                "text outside the root"
            );
            check_text(text);
            assert!(!text.contains('>'), "raw '>' in text {text:?}");
            rest = &rest[end..];
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1);
}

fn check_text(t: &str) {
    let mut rest = t;
    while let Some(i) = rest.find('&') {
        let tail = &rest[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| tail.starts_with(e)),
            "bare & in {t:?}"
        );
        rest = &tail[1..];
    }
}

#[test]
fn svg_is_well_formed_and_shows_the_evidence() {
    for (name, l) in all_cases() {
        let svg = render_svg(&l);
        check_xml(&svg);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains(r#"width="720""#), "{name}");
        assert!(!svg.contains("href"), "{name}: external reference");
        assert!(
            !svg.contains("<style"),
            "{name}: a <style> leaks into the page"
        );
        for e in &l.evidence {
            assert!(
                svg.contains(&format!(">{}</text>", e.frame)),
                "{name}: evidence frame {} not in the SVG",
                e.frame
            );
        }
        assert_eq!(
            svg.matches("fill=\"#fff2b3\"").count(),
            l.evidence.len(),
            "{name}: evidence rows highlighted"
        );
        assert!(svg.contains(l.verdict.as_str()), "{name}");
    }
    let stall = render_svg(&ladder_of("all_failures.pcap", 3));
    assert!(stall.contains("… 7.98 s silence …"));
}

#[test]
fn failed_only_and_unknown_ids() {
    let path = testdata("all_failures.pcap");
    let v = collect(&path, &[], true, &Settings::default()).unwrap();
    assert_eq!(v.iter().map(|l| l.id).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let v = collect(&path, &[], false, &Settings::default()).unwrap();
    assert_eq!(v.len(), 5);
    let v = collect(&path, &[4, 0], false, &Settings::default()).unwrap();
    assert_eq!(v.iter().map(|l| l.id).collect::<Vec<_>>(), vec![4, 0]);
    let e = collect(&path, &[9], false, &Settings::default()).unwrap_err();
    assert!(e.contains("no connection #9"), "{e}");
    assert!(e.contains("0 to 4"), "{e}");
    let e = collect(Path::new("-"), &[0], false, &Settings::default()).unwrap_err();
    assert!(e.contains("standard input"), "{e}");
}

// --- Synthetic captures -------------------------------------------------

const T0: i64 = 1_700_000_000_000_000_000;
const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];

fn collect_mem(frames: &Frames, ids: &[u64]) -> Vec<Ladder> {
    let mut open = || -> Result<Box<dyn PacketSource>, SourceError> {
        Ok(Box::new(MemorySource::new(frames.clone())))
    };
    collect_from(&mut open, "mem", ids, false, &Settings::default()).unwrap()
}

/// A handshake, then `n` segments of 1000 bytes from the server, `every_ns`
/// apart, each ACKed by the client.
fn transfer(n: u32, every_ns: i64) -> Frames {
    let mut f: Frames = Vec::new();
    let mut t = T0;
    let mut push = |t: i64, b: Vec<u8>| f.push((Ts(t), 101, b));
    push(t, seg(C, S, 40000, 80, 100, None, true, false, &[]));
    push(
        t + 10_000_000,
        seg(S, C, 80, 40000, 500, Some(101), true, false, &[]),
    );
    push(
        t + 10_100_000,
        seg(C, S, 40000, 80, 101, Some(501), false, false, &[]),
    );
    t += 20_000_000;
    let data = [b'x'; 1000];
    for i in 0..n {
        let s = 501 + i * 1000;
        push(t, seg(S, C, 80, 40000, s, Some(101), false, false, &data));
        push(
            t + 5_000,
            seg(C, S, 40000, 80, 101, Some(s + 1000), false, false, &[]),
        );
        t += every_ns;
    }
    f
}

#[test]
fn a_long_transfer_is_one_run() {
    let l = collect_mem(&transfer(50_000, 20_000), &[0]).remove(0);
    assert_eq!(l.packets, 100_003);
    assert!(l.rows.len() <= 5, "{:#?}", l.rows);
    let text = render_text(&l, &UNICODE);
    assert!(
        text.contains("× 50000 data segments, 47.7 MiB (+50001 ACKs)"),
        "{text}"
    );
}

#[test]
fn rows_are_bounded() {
    // 200 ms apart: nothing collapses; the middle rows are summed up.
    let l = collect_mem(&transfer(3000, 200_000_000), &[0]).remove(0);
    assert!(l.rows.len() <= MAX_ROWS + 1, "{}", l.rows.len());
    let omitted: Vec<_> = l
        .rows
        .iter()
        .filter(|r| matches!(r.kind, RowKind::Omitted { .. }))
        .collect();
    assert_eq!(omitted.len(), 1);
    let total: u64 = l.rows.iter().map(|r| r.packets).sum();
    assert_eq!(total, l.packets);
    let text = render_text(&l, &UNICODE);
    assert!(text.contains("rows omitted"), "{text}");
    for line in text.lines() {
        assert!(ladder::display_width(line) <= 80, "{line}");
    }
    check_xml(&render_svg(&l));
}

#[test]
fn a_hostile_sni_is_escaped() {
    let hello = client_hello(b"sni\x1b[2J\x1b]0;pwned\x07.example");
    let mut f: Frames = Vec::new();
    let mut push = |ms: i64, b: Vec<u8>| f.push((Ts(T0 + ms * 1_000_000), 101, b));
    push(0, seg(C, S, 40000, 443, 100, None, true, false, &[]));
    push(10, seg(S, C, 443, 40000, 500, Some(101), true, false, &[]));
    push(11, seg(C, S, 40000, 443, 101, Some(501), false, false, &[]));
    push(
        12,
        seg(C, S, 40000, 443, 101, Some(501), false, false, &hello),
    );
    push(22, seg(S, C, 443, 40000, 501, None, false, true, &[]));
    let l = collect_mem(&f, &[0]).remove(0);
    assert!(l.server_name.as_deref().unwrap().contains('\x1b'));
    for o in [UNICODE, ASCII] {
        let t = render_text(&l, &o);
        assert!(!t.contains('\x1b') && !t.contains('\x07'), "{t}");
        assert!(t.contains(r"sni\x1b[2j\x1b]0;pwned\x07.example"), "{t}");
        let c = render_text(&l, &LadderOptions { color: true, ..o });
        assert!(!strip_ansi(&c).contains('\x1b'), "{c}");
        assert!(!c.contains("\x1b[2J") && !c.contains('\x07'), "{c}");
    }
    let svg = render_svg(&l);
    check_xml(&svg);
    assert!(svg.contains(r"sni\x1b[2j\x1b]0;pwned\x07.example"), "{svg}");
}

#[test]
fn markup_in_strings_is_escaped_in_svg() {
    let mut l = ladder_of("all_failures.pcap", 3);
    l.server_name = Some("<script>alert('x')</script> & \"q\"".into());
    l.explanation = Some("a < b && c > d \u{202e}".into());
    let svg = render_svg(&l);
    check_xml(&svg);
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;q&quot;"));
    assert!(!svg.contains('\u{202e}'));
}

#[test]
fn every_connection_of_every_shipped_capture_draws() {
    let mut n = 0;
    for entry in std::fs::read_dir(testdata("")).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "pcap" && ext != "pcapng" {
            continue;
        }
        let ladders = collect(&path, &[], false, &Settings::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for l in ladders {
            n += 1;
            let total: u64 = l.rows.iter().map(|r| r.packets).sum();
            assert_eq!(total, l.packets, "{} #{}", path.display(), l.id);
            for o in [UNICODE, ASCII] {
                let text = render_text(&l, &o);
                for line in text.lines() {
                    assert!(
                        ladder::display_width(line) <= 80,
                        "{} #{}: {line}",
                        path.display(),
                        l.id
                    );
                }
                assert!(!o.ascii || text.is_ascii());
            }
            check_xml(&render_svg(&l));
        }
    }
    assert!(n > 40, "{n} connections");
}

#[test]
fn absurd_timestamps_and_ttls_do_not_break_the_layout() {
    let mut f: Frames = Vec::new();
    for (i, t) in [i64::MAX, i64::MIN, 0, i64::MAX - 1, 5]
        .into_iter()
        .enumerate()
    {
        let b = match i {
            0 => seg(C, S, 40000, 80, u32::MAX, None, true, false, &[]),
            1 => seg(S, C, 80, 40000, 7, Some(0), true, false, &[]),
            2 => seg(C, S, 40000, 80, 0, Some(8), false, false, b"x"),
            3 => seg(C, S, 40000, 80, 0, Some(8), false, false, b"x"),
            _ => seg(S, C, 80, 40000, 8, Some(1), false, true, &[]),
        };
        f.push((Ts(t), 101, b));
    }
    for l in collect_mem(&f, &[]) {
        for o in [UNICODE, ASCII] {
            for line in render_text(&l, &o).lines() {
                assert!(ladder::display_width(line) <= 80, "{line}");
            }
        }
        check_xml(&render_svg(&l));
    }
}
