//! The cells of the connection table and the text of the Evidence section:
//! what one connection looks like in the human report. Both the table laid
//! out in memory ([`super::table`]) and the rows kept on disk for large
//! captures ([`super::rows`]) format through these functions, so the two
//! cannot drift apart.

use super::{ConnectionReport, EvidenceReport, sanitized};
use crate::decimal::{push_endpoint, push_padded, push_u64};
use crate::time::Nanos;
use std::io;

/// A duration as the table shows it: `12.3 ms` below a second, `1.23 s`
/// from one second on, `-` when there is none.
pub(crate) fn opt_ms(v: Option<Nanos>) -> String {
    let mut s = String::new();
    write_opt_ms(&mut s, v);
    s
}

/// [`opt_ms`] appended to `s`.
pub(crate) fn write_opt_ms(s: &mut String, v: Option<Nanos>) {
    match v {
        Some(t) => t.human().push_to(s),
        None => s.push('-'),
    }
}

/// Columns of the connection table.
pub(crate) const COLUMNS: usize = 12;

/// The cells of one connection's row.
pub(crate) fn cells(c: &ConnectionReport) -> [String; COLUMNS] {
    let mut all: [String; COLUMNS] = Default::default();
    let mut buf = String::new();
    let mut i = 0;
    let _ = each_cell(c, &mut buf, &mut |cell| {
        if let Some(slot) = all.get_mut(i) {
            slot.push_str(cell);
        }
        i += 1;
        Ok(())
    });
    debug_assert_eq!(i, COLUMNS, "one cell per column");
    all
}

/// Hands the cells of one connection's row to `put`, in column order, each
/// formatted in `buf` (emptied before each): [`cells`] without a `String`
/// per cell, for the rows kept by the thousand ([`super::TableRows`]).
pub(crate) fn each_cell(
    c: &ConnectionReport,
    buf: &mut String,
    put: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    let mut cell = |f: &dyn Fn(&mut String)| -> io::Result<()> {
        buf.clear();
        f(buf);
        put(buf)
    };
    cell(&|b| push_u64(b, c.id, 0))?;
    cell(&|b| {
        push_endpoint(b, c.client());
        b.push_str(" → ");
        push_endpoint(b, c.server());
    })?;
    cell(&|b| b.push_str(&sanitized(c.target.as_deref().unwrap_or("-"))))?;
    cell(&|b| b.push_str(c.verdict.as_str()))?;
    cell(&|b| b.push_str(c.stage.map(|s| s.as_str()).unwrap_or("-")))?;
    cell(&|b| {
        c.start_offset_s.secs(3).push_to(b);
        b.push_str(" s");
    })?;
    cell(&|b| write_opt_ms(b, Some(c.timings.duration_ms)))?;
    cell(&|b| push_u64(b, u64::from(c.syn_count), 0))?;
    cell(&|b| write_opt_ms(b, c.timings.initial_rtt_ms))?;
    cell(&|b| write_opt_ms(b, c.timings.time_to_first_byte_ms))?;
    cell(&|b| {
        push_u64(b, u64::from(c.retransmissions_c2s), 0);
        b.push('/');
        push_u64(b, u64::from(c.retransmissions_s2c), 0);
    })?;
    cell(&|b| {
        b.push_str(&sanitized(
            c.explanation
                .as_deref()
                .or(c.warnings.first().map(|s| s.as_str()))
                .unwrap_or(""),
        ))
    })
}

/// The columns a cell takes on a terminal, as comfy-table measures it
/// (wide characters take two). Cells are UTF-8 written by us; bytes that
/// are not (a damaged temporary file) count one column each.
pub(crate) fn width(cell: &[u8]) -> usize {
    use unicode_width::UnicodeWidthStr;
    if cell.is_ascii() {
        return cell.len();
    }
    match std::str::from_utf8(cell) {
        Ok(s) => s.width(),
        Err(_) => cell.len(),
    }
}

/// What the Evidence section prints for a connection that is not `ok`:
/// its verdict line, explanation, blocker, evidence lines and warnings,
/// each ending in a newline.
pub(crate) fn evidence_text(c: &ConnectionReport) -> String {
    let mut s = String::new();
    write_evidence_text(&mut s, c);
    s
}

/// [`evidence_text`] appended to `s`.
pub(crate) fn write_evidence_text(s: &mut String, c: &ConnectionReport) {
    // "  #{id} {verdict} {stage} ({confidence} confidence)", then a line
    // each for the explanation, what blocked it, the evidence and the
    // warnings; pushed piece by piece (no formatting machinery).
    s.push_str("  #");
    push_u64(s, c.id, 0);
    s.push(' ');
    s.push_str(c.verdict.as_str());
    s.push(' ');
    s.push_str(c.stage.map(|s| s.as_str()).unwrap_or("-"));
    s.push_str(" (");
    s.push_str(c.confidence.map(|c| c.as_str()).unwrap_or_default());
    s.push_str(" confidence)\n");
    if let Some(e) = &c.explanation {
        s.push_str("      ");
        s.push_str(&sanitized(e));
        s.push('\n');
    }
    if let Some(b) = &c.blocked_by {
        s.push_str("      blocked by ");
        s.push_str(&sanitized(b));
        s.push('\n');
    }
    for e in &c.evidence {
        write_evidence_line(s, e);
        s.push('\n');
    }
    for w in &c.warnings {
        s.push_str("      warning: ");
        s.push_str(&sanitized(w));
        s.push('\n');
    }
}

/// One line of the Evidence section (without its newline), appended to
/// `s`.
fn write_evidence_line(s: &mut String, e: &EvidenceReport) {
    // "      frame {:>6}  +{:>10.3} ms  {:<7} {}", written piece by piece:
    // five a failed connection, the formatting machinery was a third of
    // the Evidence text's cost.
    s.push_str("      frame ");
    push_u64(s, e.frame, 6);
    s.push_str("  +");
    e.t_ms.ms(3).push_right(s, 10);
    s.push_str(" ms  ");
    push_padded(s, &sanitized(&e.from), 7, false);
    s.push(' ');
    s.push_str(&sanitized(&e.what));
}
