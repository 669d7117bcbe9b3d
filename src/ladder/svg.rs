//! The ladder as a self-contained SVG element (for the HTML report): fixed
//! width, one band per row, no external reference, no `<style>` (it would
//! leak into the page), ids prefixed with the connection id so that several
//! ladders can share one page. Every string from the capture is sanitized
//! ([`sanitize`]: no control character, which XML forbids) and XML-escaped.

use super::{Direction, Ladder, Row, RowKind, duration};
use crate::report::sanitize;
use crate::time::Nanos;
use std::fmt::Write as _;

/// The SVG's width, in pixels.
pub const SVG_WIDTH: u32 = 720;

const ROW_H: u32 = 24;
const X_FRAME: u32 = 70;
const X_TIME: u32 = 128;
const X_GAP: u32 = 196;
const X_CLIENT: u32 = 236;
const X_SERVER: u32 = 690;
/// Characters of a caption line (12 px monospace is about 7.2 px a character).
const CAPTION_CHARS: usize = 96;
/// Characters of an arrow's label.
const LABEL_CHARS: usize = 60;

const C2S: &str = "#1f6fb2";
const S2C: &str = "#7b3fa0";
const RST: &str = "#d62728";
const SYN: &str = "#2ca02c";
const FIN: &str = "#b8860b";
const GREY: &str = "#888888";

/// Escapes `s` for XML text and attribute values, after [`sanitize`].
pub fn xml_escape(s: &str) -> String {
    let s = sanitize(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Non-characters and surrogates cannot occur in a `str`; U+FFFE
            // and U+FFFF are not XML characters.
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn wrap(s: &str, n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let mut word: String = word.to_string();
        while word.chars().count() > n {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            lines.push(word.chars().take(n).collect());
            word = word.chars().skip(n).collect();
        }
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > n {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

fn label(r: &Row) -> String {
    let mut parts = r.label_parts();
    loop {
        let s = parts
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if s.chars().count() <= LABEL_CHARS {
            return s;
        }
        match parts.iter().rposition(|(_, e)| !e) {
            Some(i) => {
                parts.remove(i);
            }
            None => return cut(&s, LABEL_CHARS),
        }
    }
}

/// (colour, marker name) of a row's arrow.
fn style(r: &Row) -> (&'static str, &'static str) {
    match &r.kind {
        RowKind::Packet(p) if p.flags.rst() => (RST, "rst"),
        RowKind::Packet(p) if p.flags.syn() => (SYN, "syn"),
        RowKind::Packet(p) if p.flags.fin() => (FIN, "fin"),
        RowKind::Icmp { .. } => (RST, "rst"),
        _ if r.dir.to_server() => (C2S, "c2s"),
        _ => (S2C, "s2c"),
    }
}

/// Draws the ladder of one connection as an `<svg>` element.
pub fn render_svg(l: &Ladder) -> String {
    let p = format!("tcptriage-ladder-{}", l.id);
    let mut body = String::new();
    let b = &mut body;
    let w = SVG_WIDTH;
    let mid = (X_CLIENT + X_SERVER) / 2;

    // Heading.
    let title = format!("connection #{}  {} → {}", l.id, l.client, l.server);
    let _ = writeln!(
        b,
        r#"<text x="8" y="20" font-weight="bold">{}</text>"#,
        xml_escape(&cut(&title, CAPTION_CHARS))
    );
    let mut y = 38;
    if let Some(t) = l.target.as_deref().or(l.server_name.as_deref()) {
        let _ = writeln!(
            b,
            r#"<text x="8" y="{y}">{}</text>"#,
            xml_escape(&cut(&format!("target {t}"), CAPTION_CHARS))
        );
        y += 18;
    }
    y += 8;
    let _ = writeln!(
        b,
        r#"<text x="{X_FRAME}" y="{y}" text-anchor="end" fill="{GREY}">frame</text><text x="{X_TIME}" y="{y}" text-anchor="end" fill="{GREY}">t (s)</text><text x="{X_GAP}" y="{y}" text-anchor="end" fill="{GREY}">gap</text>"#
    );
    let _ = writeln!(
        b,
        r#"<text x="{X_CLIENT}" y="{y}" font-weight="bold">client</text><text x="{X_SERVER}" y="{y}" text-anchor="end" font-weight="bold">server</text>"#
    );
    y += 16;
    let _ = writeln!(
        b,
        r#"<text x="{X_CLIENT}" y="{y}">{}</text><text x="{X_SERVER}" y="{y}" text-anchor="end">{}</text>"#,
        xml_escape(&cut(&l.client, 30)),
        xml_escape(&cut(&l.server, 30))
    );
    if let Some(n) = &l.server_name {
        y += 16;
        let _ = writeln!(
            b,
            r#"<text x="{X_SERVER}" y="{y}" text-anchor="end">{}</text>"#,
            xml_escape(&cut(n, 60))
        );
    }
    y += 10;

    // Rows; the lifelines are drawn in segments between the breaks.
    let mut seg_start = y;
    let mut lifelines = String::new();
    let line_segment = |from: u32, to: u32, out: &mut String| {
        for x in [X_CLIENT, X_SERVER] {
            let _ = writeln!(
                out,
                r#"<line x1="{x}" y1="{from}" x2="{x}" y2="{to}" stroke="{GREY}" stroke-width="1.5"/>"#
            );
        }
    };
    for r in &l.rows {
        let omitted = matches!(r.kind, RowKind::Omitted { .. });
        if r.silence_before || omitted {
            line_segment(seg_start, y + 4, &mut lifelines);
            // A zig-zag on each lifeline and the gap in words.
            for x in [X_CLIENT, X_SERVER] {
                let _ = writeln!(
                    b,
                    r#"<path d="M{x},{} l-5,4 l10,4 l-10,4 l10,4 l-5,4" fill="none" stroke="{GREY}" stroke-width="1.5"/>"#,
                    y + 2
                );
            }
            let text = if omitted {
                label(r)
            } else {
                format!("… {} silence …", duration(r.gap_ns.unwrap_or_default()))
            };
            let _ = writeln!(
                b,
                r#"<text x="{mid}" y="{}" text-anchor="middle" font-style="italic" fill="{GREY}">{}</text>"#,
                y + 16,
                xml_escape(&text)
            );
            seg_start = y + 22;
            y += ROW_H + 4;
            if omitted {
                continue;
            }
        }
        let cy = y + 16;
        if r.evidence {
            let _ = writeln!(
                b,
                r##"<rect x="0" y="{}" width="{w}" height="{ROW_H}" fill="#fff2b3"/><text x="8" y="{}" font-weight="bold" fill="{RST}">*</text>"##,
                y + 1,
                cy - 2
            );
        }
        let frame = if r.first_frame == r.last_frame {
            r.first_frame.to_string()
        } else {
            format!("{}-{}", r.first_frame, r.last_frame)
        };
        let weight = if r.evidence {
            r#" font-weight="bold""#
        } else {
            ""
        };
        let gap = match r.gap_ns {
            Some(g) if g >= 0 => format!("+{}", duration(g)),
            Some(g) => duration(g),
            None => String::new(),
        };
        let secs = Nanos(r.t_ns).secs(3);
        let _ = writeln!(
            b,
            r#"<text x="{X_FRAME}" y="{}" text-anchor="end"{weight}>{}</text><text x="{X_TIME}" y="{}" text-anchor="end">{secs}</text><text x="{X_GAP}" y="{}" text-anchor="end" fill="{GREY}">{}</text>"#,
            cy - 2,
            xml_escape(&frame),
            cy - 2,
            cy - 2,
            xml_escape(&gap)
        );
        let (color, marker) = style(r);
        let (x1, x2) = if r.dir.to_server() {
            (X_CLIENT + 2, X_SERVER - 3)
        } else {
            (X_SERVER - 2, X_CLIENT + 3)
        };
        let x1 = match r.dir {
            // A third party's ICMP error starts between the lifelines.
            Direction::ThirdToClient | Direction::ThirdToServer => mid,
            _ => x1,
        };
        let extra = match r.kind {
            RowKind::Run { .. } => r#" stroke-width="3""#,
            RowKind::Icmp { .. } => r#" stroke-width="1.5" stroke-dasharray="4 3""#,
            _ => r#" stroke-width="1.5""#,
        };
        let _ = writeln!(
            b,
            r#"<line x1="{x1}" y1="{cy}" x2="{x2}" y2="{cy}" stroke="{color}"{extra} marker-end="url(#{p}-{marker})"/>"#
        );
        let _ = writeln!(
            b,
            r#"<text x="{mid}" y="{}" text-anchor="middle" fill="{color}">{}</text>"#,
            cy - 4,
            xml_escape(&label(r))
        );
        y += ROW_H;
    }
    line_segment(seg_start, y + 6, &mut lifelines);
    y += 24;

    // Caption: the verdict, its explanation and the evidence.
    let mut verdict = l.verdict.as_str().to_string();
    if let Some(s) = l.stage {
        verdict.push_str(&format!(" at {}", s.as_str()));
    }
    let vcolor = match l.verdict {
        crate::verdict::VerdictKind::Ok => SYN,
        crate::verdict::VerdictKind::Incomplete => GREY,
        _ => RST,
    };
    let _ = writeln!(
        b,
        r#"<text x="8" y="{y}" font-weight="bold" fill="{vcolor}">{}</text>"#,
        xml_escape(&verdict)
    );
    y += 18;
    if let Some(e) = &l.explanation {
        for line in wrap(&sanitize(e), CAPTION_CHARS) {
            let _ = writeln!(b, r#"<text x="8" y="{y}">{}</text>"#, xml_escape(&line));
            y += 16;
        }
    }
    y += 4;
    for e in &l.evidence {
        let text = format!(
            "* frame {}  +{} ms  {}  {}",
            e.frame,
            e.t_ms.ms(3),
            e.from,
            e.what
        );
        for line in wrap(&sanitize(&text), CAPTION_CHARS) {
            let _ = writeln!(
                b,
                r##"<text x="8" y="{y}" fill="#444444">{}</text>"##,
                xml_escape(&line)
            );
            y += 16;
        }
    }
    let h = y + 8;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="monospace" font-size="12" role="img">"#
    );
    let _ = writeln!(s, "<title>{}</title>", xml_escape(&title));
    s.push_str("<defs>\n");
    for (name, color) in [
        ("c2s", C2S),
        ("s2c", S2C),
        ("rst", RST),
        ("syn", SYN),
        ("fin", FIN),
    ] {
        let _ = writeln!(
            s,
            r#"<marker id="{p}-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>"#
        );
    }
    s.push_str("</defs>\n");
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>"##
    );
    s.push_str(&lifelines);
    s.push_str(&body);
    s.push_str("</svg>\n");
    s
}
