//! The ladder for the terminal: one line per row, within `width` columns.
//!
//! ```text
//!   frame t (s)       gap client                                        server
//!                         10.77.1.10:58688                     10.77.2.20:8083
//!      62 0.000           │── S seq 0 ────────────────────────────────────────▶│
//!      63 0.011   10.7 ms │◀──────────────────────────── S. seq 0 ack 1 ──│
//! ```
//!
//! Every string taken from the capture or the report goes through
//! [`sanitize`]; with `ascii`, every non-ASCII character is replaced too,
//! so the output is plain bytes below 0x80. ANSI colour only with `color`.

use super::{Ladder, Row, RowKind, duration};
use crate::report::sanitize;
use crate::time::Nanos;

/// How to draw the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LadderOptions {
    /// Plain ASCII (`-`, `>`, `|`) instead of box drawing; every byte < 0x80.
    pub ascii: bool,
    /// ANSI colours: arrows by direction, RST red, SYN green, FIN yellow.
    pub color: bool,
    /// Columns available (at least 60 are used).
    pub width: usize,
}

impl Default for LadderOptions {
    fn default() -> Self {
        LadderOptions {
            ascii: false,
            color: false,
            width: 80,
        }
    }
}

const RESET: &str = "\x1b[0m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const MAGENTA: &str = "\x1b[35m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";

struct Glyphs {
    line: char,
    run: char,
    icmp: char,
    right: char,
    left: char,
    life: char,
    broken: char,
    ellipsis: &'static str,
}

const UNICODE: Glyphs = Glyphs {
    line: '─',
    run: '═',
    icmp: '┄',
    right: '▶',
    left: '◀',
    life: '│',
    broken: '┆',
    ellipsis: "…",
};

const ASCII: Glyphs = Glyphs {
    line: '-',
    run: '=',
    icmp: '.',
    right: '>',
    left: '<',
    life: '|',
    broken: ':',
    ellipsis: "...",
};

/// Display columns of one character: 0 for combining marks and zero-width
/// characters, 2 for East Asian wide and emoji, else 1.
pub fn char_width(c: char) -> usize {
    let u = c as u32;
    match u {
        0x0300..=0x036f
        | 0x0483..=0x0489
        | 0x0591..=0x05bd
        | 0x0610..=0x061a
        | 0x064b..=0x065f
        | 0x200b..=0x200f
        | 0x20d0..=0x20ff
        | 0xfe00..=0xfe0f
        | 0xfe20..=0xfe2f => 0,
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}

/// Display columns of a string without escape sequences.
pub fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

struct Ctx {
    o: LadderOptions,
    g: &'static Glyphs,
    width: usize,
}

impl Ctx {
    /// A string fit for the output: sanitized, and ASCII-only when asked.
    fn clean(&self, s: &str) -> String {
        let s = sanitize(s);
        if !self.o.ascii {
            return s;
        }
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                c if c.is_ascii() => out.push(c),
                '…' => out.push_str("..."),
                '×' => out.push('x'),
                'µ' => out.push('u'),
                '→' => out.push_str("->"),
                '←' => out.push_str("<-"),
                '—' | '–' | '─' => out.push('-'),
                '≥' => out.push_str(">="),
                '≤' => out.push_str("<="),
                '≠' => out.push_str("!="),
                '≈' => out.push('~'),
                c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        }
        out
    }

    fn paint(&self, s: &str, code: &str) -> String {
        if self.o.color && !code.is_empty() {
            format!("{code}{s}{RESET}")
        } else {
            s.to_string()
        }
    }

    /// `s` cut to `w` columns, with an ellipsis when cut.
    fn fit(&self, s: &str, w: usize) -> String {
        if display_width(s) <= w {
            return s.to_string();
        }
        let el = self.g.ellipsis;
        let room = w.saturating_sub(display_width(el));
        let mut out = String::new();
        let mut used = 0;
        for c in s.chars() {
            let cw = char_width(c);
            if used + cw > room {
                break;
            }
            used += cw;
            out.push(c);
        }
        if w >= display_width(el) {
            out.push_str(el);
        }
        out
    }

    /// Words of `s` wrapped to `w` columns (long words are split); the
    /// spaces between words are kept within a line.
    fn wrap(&self, s: &str, w: usize) -> Vec<String> {
        let w = w.max(10);
        let mut lines = Vec::new();
        let mut cur = String::new();
        let mut cur_w = 0;
        let mut spaces = 0;
        let mut word = String::new();
        let mut words: Vec<(usize, String)> = Vec::new();
        for c in s.chars().chain(std::iter::once(' ')) {
            if c == ' ' {
                if !word.is_empty() {
                    words.push((spaces, std::mem::take(&mut word)));
                    spaces = 0;
                }
                spaces += 1;
            } else {
                word.push(c);
            }
        }
        for (sp, mut word) in words {
            let sp = if cur_w == 0 { 0 } else { sp };
            let mut ww = display_width(&word);
            if cur_w > 0 && cur_w + sp + ww > w {
                lines.push(std::mem::take(&mut cur));
                cur_w = 0;
            }
            if cur_w > 0 {
                cur.push_str(&" ".repeat(sp));
                cur_w += sp;
            }
            while cur_w + ww > w {
                let mut head = String::new();
                let mut rest = String::new();
                for c in word.chars() {
                    if rest.is_empty() && cur_w + char_width(c) <= w {
                        cur_w += char_width(c);
                        head.push(c);
                    } else {
                        rest.push(c);
                    }
                }
                cur.push_str(&head);
                lines.push(std::mem::take(&mut cur));
                cur_w = 0;
                word = rest;
                ww = display_width(&word);
            }
            cur.push_str(&word);
            cur_w += ww;
        }
        if cur_w > 0 || lines.is_empty() {
            lines.push(cur);
        }
        lines
    }
}

/// Column layout of the rows.
struct Cols {
    frame_w: usize,
    time_w: usize,
    /// Columns between the lifelines.
    inner: usize,
}

const GAP_W: usize = 9;
const MIN_INNER: usize = 24;

fn frame_field(r: &Row) -> String {
    if r.first_frame == r.last_frame {
        r.first_frame.to_string()
    } else {
        format!("{}-{}", r.first_frame, r.last_frame)
    }
}

/// Seconds with milliseconds, rounded: `8.001`.
fn time_field(ns: i64) -> String {
    Nanos(ns).secs(3).to_string()
}

fn gap_field(ctx: &Ctx, gap: Option<i64>) -> String {
    match gap {
        None => String::new(),
        Some(g) => ctx.clean(&format!("{}{}", if g >= 0 { "+" } else { "" }, duration(g))),
    }
}

/// Draws the ladder of one connection for the terminal.
pub fn render_text(l: &Ladder, o: &LadderOptions) -> String {
    let ctx = Ctx {
        o: *o,
        g: if o.ascii { &ASCII } else { &UNICODE },
        width: o.width.clamp(60, 1000),
    };
    let w = ctx.width;
    let frame_w = l
        .rows
        .iter()
        .map(|r| frame_field(r).len())
        .max()
        .unwrap_or(0)
        .clamp(5, 15);
    let time_w = l
        .rows
        .iter()
        .map(|r| time_field(r.t_ns).len())
        .max()
        .unwrap_or(0)
        .clamp(5, 16);
    let prefix = 1 + frame_w + 1 + time_w + 1 + GAP_W + 1;
    let inner = w.saturating_sub(prefix + 2).max(MIN_INNER);
    let cols = Cols {
        frame_w,
        time_w,
        inner,
    };
    let mut out: Vec<String> = Vec::new();

    // Title: the connection and what it was for.
    let title = format!("connection #{}  {} → {}", l.id, l.client, l.server);
    for line in ctx.wrap(&ctx.clean(&title), w) {
        out.push(ctx.paint(&line, BOLD));
    }
    if let Some(t) = l.target.as_deref().or(l.server_name.as_deref()) {
        for line in ctx.wrap(&ctx.clean(&format!("target {t}")), w) {
            out.push(line);
        }
    }
    out.push(String::new());

    // Column heads: who is on each lifeline.
    let span = inner + 2;
    let pad = " ".repeat(prefix);
    let head = format!(
        " {:>fw$} {:>tw$} {:>gw$} ",
        "frame",
        "t (s)",
        "gap",
        fw = frame_w,
        tw = time_w,
        gw = GAP_W
    );
    out.push(format!(
        "{head}{}",
        two_ends(&ctx, "client", "server", span)
    ));
    let client = ctx.clean(&l.client);
    let server = ctx.clean(&l.server);
    if display_width(&client) + 2 + display_width(&server) <= span {
        out.push(format!("{pad}{}", two_ends(&ctx, &client, &server, span)));
    } else {
        out.push(format!("{pad}{}", ctx.fit(&client, span)));
        out.push(format!("{pad}{}", right(&ctx.fit(&server, span), span)));
    }
    if let Some(n) = &l.server_name {
        out.push(format!(
            "{pad}{}",
            right(&ctx.fit(&ctx.clean(n), span), span)
        ));
    }
    out.push(format!(
        "{pad}{}{}{}",
        ctx.g.life,
        " ".repeat(inner),
        ctx.g.life
    ));

    for r in &l.rows {
        if r.silence_before {
            let text = ctx.clean(&format!(
                "… {} silence …",
                duration(r.gap_ns.unwrap_or_default())
            ));
            out.push(format!(
                "{pad}{}{}{}",
                ctx.g.broken,
                ctx.paint(&center(&ctx.fit(&text, inner), inner), DIM),
                ctx.g.broken
            ));
        }
        out.push(row_line(&ctx, &cols, r));
    }
    out.push(format!(
        "{pad}{}{}{}",
        ctx.g.life,
        " ".repeat(inner),
        ctx.g.life
    ));
    if l.rows.is_empty() {
        out.push(ctx.clean("(no packet of this connection was read back)"));
    }
    out.push(String::new());

    // The verdict under it.
    let label_w = 13;
    let field = |name: &str, text: &str, out: &mut Vec<String>| {
        for (i, line) in ctx.wrap(text, w - label_w).into_iter().enumerate() {
            let lead = if i == 0 { name } else { "" };
            out.push(format!("{lead:<label_w$}{line}").trim_end().to_string());
        }
    };
    let mut verdict = l.verdict.as_str().to_string();
    if let Some(s) = l.stage {
        verdict.push_str(&format!(" at {}", s.as_str()));
    }
    if let Some(c) = l.confidence {
        let c = match c {
            crate::verdict::Confidence::High => "high",
            crate::verdict::Confidence::Medium => "medium",
            crate::verdict::Confidence::Low => "low",
        };
        verdict.push_str(&format!(" ({c} confidence)"));
    }
    let code = verdict_color(l);
    let first = ctx.wrap(&verdict, w - label_w);
    for (i, line) in first.into_iter().enumerate() {
        let lead = if i == 0 { "verdict" } else { "" };
        out.push(format!("{lead:<label_w$}{}", ctx.paint(&line, code)));
    }
    if let Some(e) = &l.explanation {
        field("explanation", &ctx.clean(e), &mut out);
    }
    let ev_fw = l
        .evidence
        .iter()
        .map(|e| e.frame.to_string().len())
        .max()
        .unwrap_or(0);
    let ev_tw = l
        .evidence
        .iter()
        .map(|e| e.t_ms.ms(3).to_string().len())
        .max()
        .unwrap_or(0);
    let tw = ev_tw + 1;
    for (i, e) in l.evidence.iter().enumerate() {
        let text = ctx.clean(&format!(
            "* frame {:>ev_fw$}  {:>tw$} ms  {}  {}",
            e.frame,
            format!("+{}", e.t_ms.ms(3)),
            e.from,
            e.what
        ));
        let name = if i == 0 { "evidence" } else { "" };
        field(name, &text, &mut out);
    }
    let ttl = |s: Option<u8>| s.map_or("-".to_string(), |t| t.to_string());
    field(
        "TTL",
        &ctx.clean(&format!(
            "client {}, server {}; shown on RSTs and where a packet's differs",
            ttl(l.usual_ttl[0]),
            ttl(l.usual_ttl[1])
        )),
        &mut out,
    );
    let legend = format!(
        "* evidence frame; {}{}{} run of like packets collapsed; {} packets read",
        ctx.g.run, ctx.g.run, ctx.g.run, l.packets
    );
    field("legend", &ctx.clean(&legend), &mut out);
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// `a` at the left and `b` at the right of `span` columns.
fn two_ends(ctx: &Ctx, a: &str, b: &str, span: usize) -> String {
    let a = ctx.fit(a, span);
    let room = span.saturating_sub(display_width(&a) + 1);
    let b = ctx.fit(b, room);
    let fill = span.saturating_sub(display_width(&a) + display_width(&b));
    format!("{a}{}{b}", " ".repeat(fill))
}

fn right(s: &str, span: usize) -> String {
    format!("{}{s}", " ".repeat(span.saturating_sub(display_width(s))))
}

fn center(s: &str, span: usize) -> String {
    let left = span.saturating_sub(display_width(s)) / 2;
    let rest = span.saturating_sub(display_width(s) + left);
    format!("{}{s}{}", " ".repeat(left), " ".repeat(rest))
}

fn verdict_color(l: &Ladder) -> &'static str {
    use crate::verdict::VerdictKind::*;
    match l.verdict {
        Ok => GREEN,
        Incomplete => "",
        _ => RED,
    }
}

/// The colour of a row's arrow: RST red, SYN green, FIN yellow, ICMP red,
/// else by direction.
fn row_color(r: &Row) -> &'static str {
    match &r.kind {
        RowKind::Packet(p) if p.flags.rst() => RED,
        RowKind::Packet(p) if p.flags.syn() => GREEN,
        RowKind::Packet(p) if p.flags.fin() => YELLOW,
        RowKind::Icmp { .. } => RED,
        RowKind::Omitted { .. } => DIM,
        _ if r.dir.to_server() => CYAN,
        _ => MAGENTA,
    }
}

/// The label of a row within `room` columns: non-essential parts dropped
/// from the end first, then cut.
fn label(ctx: &Ctx, r: &Row, room: usize) -> String {
    let mut parts: Vec<(String, bool)> = r
        .label_parts()
        .into_iter()
        .map(|(s, e)| (ctx.clean(&s), e))
        .collect();
    loop {
        let s = parts
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if display_width(&s) <= room {
            return s;
        }
        match parts.iter().rposition(|(_, e)| !e) {
            Some(i) => {
                parts.remove(i);
            }
            None => return ctx.fit(&s, room),
        }
    }
}

fn row_line(ctx: &Ctx, cols: &Cols, r: &Row) -> String {
    let g = ctx.g;
    let mark = if r.evidence { "*" } else { " " };
    let mut frame = frame_field(r);
    if frame.len() > cols.frame_w {
        frame = format!("{}+", r.first_frame);
        if frame.len() > cols.frame_w {
            frame = "…".into();
        }
    }
    let frame = ctx.clean(&frame);
    let time = time_field(r.t_ns);
    let gap = gap_field(ctx, r.gap_ns);
    let prefix = format!(
        "{}{:>fw$} {:>tw$} {:>gw$} ",
        ctx.paint(mark, BOLD),
        frame,
        time,
        gap,
        fw = cols.frame_w,
        tw = cols.time_w,
        gw = GAP_W,
    );
    let n = cols.inner;
    let body = if let RowKind::Omitted { .. } = r.kind {
        let text = label(ctx, r, n.saturating_sub(2));
        let s = center(&text, n);
        return format!("{}{}{}{}", prefix, g.broken, ctx.paint(&s, DIM), g.broken);
    } else {
        let line = match r.kind {
            RowKind::Run { .. } => g.run,
            RowKind::Icmp { .. } => g.icmp,
            _ => g.line,
        };
        // Two lines, a space, the label, a space, then line up to the head.
        let room = n.saturating_sub(6);
        let text = label(ctx, r, room);
        let fill = n.saturating_sub(display_width(&text) + 5);
        let l2: String = std::iter::repeat_n(line, 2).collect();
        let lf: String = std::iter::repeat_n(line, fill).collect();
        if r.dir.to_server() {
            format!("{l2} {text} {lf}{}", g.right)
        } else {
            format!("{}{lf} {text} {l2}", g.left)
        }
    };
    let code = row_color(r);
    format!("{prefix}{}{}{}", g.life, ctx.paint(&body, code), g.life)
}
