//! The human report: a table of connections, the evidence behind each
//! verdict, and a summary.

use super::cells::{COLUMNS, cells, evidence_text, opt_ms, width};
use super::rows::TableRows;
use super::{ConnectionReport, DnsReport, Report, sanitize};
use crate::verdict::VerdictKind;
use comfy_table::{
    ColumnConstraint, ContentArrangement, Table, Width, presets::UTF8_FULL_CONDENSED,
};
use std::io::{self, Write};

/// The DNS queries (failed ones, or all with `--all`): rows of their own,
/// since a name that never resolved leaves no TCP connection behind.
fn write_dns(out: &mut dyn Write, rows: &[&DnsReport]) -> io::Result<()> {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "frame",
            "client → DNS server",
            "name",
            "type",
            "verdict",
            "stage",
            "start",
            "tries",
            "response",
            "explanation",
        ]);
    let n = 10;
    t.set_constraints((0..n).map(|i| {
        if i == n - 1 {
            ColumnConstraint::LowerBoundary(Width::Fixed(30))
        } else {
            ColumnConstraint::ContentWidth
        }
    }));
    for d in rows {
        let answer = if d.answers.is_empty() {
            d.rcode.clone().unwrap_or_else(|| "-".into())
        } else {
            d.answers.join(" ")
        };
        t.add_row(vec![
            d.first_frame.to_string(),
            format!("{} → {}", d.client, d.server),
            sanitize(&d.name),
            d.qtype.clone(),
            d.verdict.to_string(),
            d.outcome.as_str().to_string(),
            format!("{} s", d.start_offset_s.secs(3)),
            (d.retransmissions + 1).to_string(),
            match d.response_ms {
                Some(ms) => format!("{} in {}", sanitize(&answer), opt_ms(Some(ms))),
                None => "none".to_string(),
            },
            sanitize(d.explanation.as_deref().unwrap_or("")),
        ]);
    }
    writeln!(out, "\nDNS")?;
    writeln!(out, "{t}")
}

const HEADER: [&str; COLUMNS] = [
    "id",
    "client → server",
    "target",
    "verdict",
    "stage",
    "start",
    "duration",
    "SYNs",
    "handshake RTT",
    "TTFB",
    "retrans c→s/s→c",
    "explanation",
];

/// Above this many rows the table is written row by row (one line each,
/// columns as wide as their widest cell) instead of being laid out in
/// memory by comfy-table: 56 k failed connections took 220 MiB to render.
pub const STREAM_ROWS: usize = 2000;

/// The connection table laid out by comfy-table: on a terminal only the
/// explanation wraps; piped, every row stays on one line so that grep and
/// awk see one connection per line.
fn comfy<I: IntoIterator<Item = [String; COLUMNS]>>(rows: I) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(HEADER.to_vec());
    let n = HEADER.len();
    t.set_constraints((0..n).map(|i| {
        if i == n - 1 {
            ColumnConstraint::LowerBoundary(Width::Fixed(30))
        } else {
            ColumnConstraint::ContentWidth
        }
    }));
    for cells in rows {
        t.add_row(cells.to_vec());
    }
    t
}

/// The same table as comfy-table's UTF8_FULL_CONDENSED without wrapping,
/// written one row at a time once the widest cell of each column is known
/// (`widths`: the widest cell per column, header included).
struct Streamed {
    widths: [usize; COLUMNS],
    /// One line being laid out, reused (tens of thousands of rows).
    buf: Vec<u8>,
    /// Spaces, then what follows a cell but the last: ` ┆ `. A cell `n`
    /// columns narrower than its column is followed by the last
    /// `n + ` [`SEP`]`.len()` bytes (when there are that many spaces).
    sep: Vec<u8>,
    /// The same with what ends a line: ` │` and the newline.
    end: Vec<u8>,
}

/// What separates two cells of a row, padding before excluded.
const SEP: &str = " ┆ ";
/// What ends a row, padding before excluded.
const END: &str = " │\n";

impl Streamed {
    /// Padding up to this many spaces is copied with what follows it;
    /// more is written apart (a very wide column).
    const MAX_FILL: usize = 512;

    /// Column widths: the header's, or the widest cell's.
    fn new(cells: [usize; COLUMNS]) -> Streamed {
        let mut widths = HEADER.map(|h| width(h.as_bytes()));
        for (w, c) in widths.iter_mut().zip(cells) {
            *w = (*w).max(c);
        }
        let fill = widths
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .min(Self::MAX_FILL);
        let tail = |after: &str| [" ".repeat(fill).as_bytes(), after.as_bytes()].concat();
        Streamed {
            widths,
            buf: Vec::new(),
            sep: tail(SEP),
            end: tail(END),
        }
    }

    fn rule(&self, out: &mut dyn Write, l: &str, fill: &str, mid: &str, r: &str) -> io::Result<()> {
        let parts: Vec<String> = self.widths.iter().map(|n| fill.repeat(n + 2)).collect();
        writeln!(out, "{l}{}{r}", parts.join(mid))
    }

    /// One row: cells as UTF-8 bytes ([`super::rows::Row`] keeps them so).
    fn line<C: AsRef<[u8]>>(
        &mut self,
        out: &mut dyn Write,
        cells: &[C; COLUMNS],
    ) -> io::Result<()> {
        let widths = cells.each_ref().map(|c| width(c.as_ref()));
        self.line_measured(out, cells, &widths)
    }

    /// [`Streamed::line`] of cells already measured: `widths[i]` is
    /// [`width`] of `cells[i]` ([`super::rows::Row::widths`]).
    fn line_measured<C: AsRef<[u8]>>(
        &mut self,
        out: &mut dyn Write,
        cells: &[C; COLUMNS],
        widths: &[usize; COLUMNS],
    ) -> io::Result<()> {
        let s = &mut self.buf;
        s.clear();
        s.extend_from_slice("│ ".as_bytes());
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            s.extend_from_slice(c.as_ref());
            // A cell wider than measured would be a bug (or a damaged
            // temporary file); never underflow.
            let pad = self.widths[i].saturating_sub(*w);
            let (tail, after) = if i + 1 < COLUMNS {
                (&self.sep, SEP)
            } else {
                (&self.end, END)
            };
            match tail.len().checked_sub(pad.saturating_add(after.len())) {
                Some(from) => s.extend_from_slice(&tail[from..]),
                None => {
                    s.resize(s.len() + pad, b' ');
                    s.extend_from_slice(after.as_bytes());
                }
            }
        }
        out.write_all(s)
    }

    /// The top rule, the header and the rule under it.
    fn head(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.rule(out, "┌", "─", "┬", "┐")?;
        self.line(out, &HEADER)?;
        self.rule(out, "╞", "═", "╪", "╡")
    }

    fn foot(&self, out: &mut dyn Write) -> io::Result<()> {
        self.rule(out, "└", "─", "┴", "┘")
    }
}

/// [`Streamed`] over reports: a first pass measures the columns, the
/// second prints. Memory stays at one row.
fn write_streaming(out: &mut dyn Write, rows: &[&ConnectionReport]) -> io::Result<()> {
    let mut w = [0; COLUMNS];
    for c in rows {
        for (i, cell) in cells(c).iter().enumerate() {
            w[i] = w[i].max(width(cell.as_bytes()));
        }
    }
    let mut t = Streamed::new(w);
    t.head(out)?;
    for c in rows {
        t.line(out, &cells(c))?;
    }
    t.foot(out)
}

/// Writes the table (failed connections, or all with `all`), the evidence
/// for each failed one, and the summary.
pub fn write_table(out: &mut dyn Write, report: &Report, all: bool) -> io::Result<()> {
    let rows: Vec<&ConnectionReport> = report
        .connections
        .iter()
        .filter(|c| all || c.verdict != VerdictKind::Ok || c.auth_required.is_some())
        .collect();
    write_head(out, report, all)?;
    if rows.is_empty() {
        write_no_rows(out, report, report.connections.len() as u64)?;
    } else {
        writeln!(out)?;
        if rows.len() > STREAM_ROWS {
            write_streaming(out, &rows)?;
        } else {
            writeln!(out, "{}", comfy(rows.iter().map(|c| cells(c))))?;
        }
        let mut evidence = Evidence::default();
        for c in rows.iter().filter(|c| c.verdict != VerdictKind::Ok) {
            evidence.write(out, evidence_text(c).as_bytes())?;
        }
    }
    write_summary(out, report)
}

/// [`write_table`] without `--all`, of a report whose listed connections
/// were kept as [`TableRows`] (the default table of a saved capture):
/// the same bytes as `write_table(out, report, false)` would print with
/// those connections in `report.connections`. The rows are read back by id
/// (merged from the temporary file) twice: for the table, then for the
/// Evidence section.
pub fn write_table_rows(out: &mut dyn Write, report: &Report, rows: &TableRows) -> io::Result<()> {
    write_head(out, report, false)?;
    if rows.is_empty() {
        write_no_rows(out, report, rows.len())?;
    } else {
        writeln!(out)?;
        if rows.len() > STREAM_ROWS as u64 {
            let mut t = Streamed::new(rows.widths());
            t.head(out)?;
            rows.for_each(&mut |r| t.line_measured(out, &r.cells, &r.widths()))?;
            t.foot(out)?;
        } else {
            // Few rows: comfy-table lays them out (and wraps on a terminal).
            let mut all = Vec::with_capacity(rows.len() as usize);
            rows.for_each(&mut |r| {
                all.push(r.cells.map(|c| String::from_utf8_lossy(c).into_owned()));
                Ok(())
            })?;
            writeln!(out, "{}", comfy(all))?;
        }
        let mut evidence = Evidence::default();
        rows.for_each(&mut |r| match r.evidence {
            Some(text) => evidence.write(out, text),
            None => Ok(()),
        })?;
    }
    write_summary(out, report)
}

/// The Evidence section, headed once before its first connection.
#[derive(Default)]
struct Evidence {
    started: bool,
}

impl Evidence {
    fn write(&mut self, out: &mut dyn Write, text: &[u8]) -> io::Result<()> {
        if !self.started {
            self.started = true;
            writeln!(out, "\nEvidence")?;
        }
        out.write_all(text)
    }
}

/// The file line, warnings, the live-capture line and the DNS table.
fn write_head(out: &mut dyn Write, report: &Report, all: bool) -> io::Result<()> {
    let cap = &report.capture;
    writeln!(out, "{} — {}", sanitize(&cap.file), sanitize(&cap.format))?;
    for w in &cap.warnings {
        writeln!(out, "warning: {}", sanitize(w))?;
    }
    let dns_rows: Vec<&DnsReport> = report
        .dns
        .iter()
        .filter(|d| all || d.is_failure())
        .collect();
    if let Some(l) = &cap.live {
        writeln!(
            out,
            "\n{} connection(s) reported while capturing; {} still open at the end:",
            l.reported_live,
            report.connections.len()
        )?;
    }
    if !dns_rows.is_empty() {
        write_dns(out, &dns_rows)?;
    }
    Ok(())
}

/// The line printed instead of an empty table; `kept` is how many
/// connections the report held.
fn write_no_rows(out: &mut dyn Write, report: &Report, kept: u64) -> io::Result<()> {
    // Ok connections may have been counted, not kept: the summary
    // knows how many there were.
    let seen = report.summary.connections.max(kept);
    if seen == 0 {
        if report.capture.live.is_none() {
            writeln!(out, "\nNo TCP connections in this capture.")?;
        }
    } else {
        writeln!(
            out,
            "\nNo failed connections ({seen} ok; --all lists them)."
        )?;
    }
    Ok(())
}

/// The Summary section.
fn write_summary(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let cap = &report.capture;
    let s = &report.summary;
    writeln!(out, "\nSummary")?;
    if s.dns_queries > 0 {
        writeln!(
            out,
            "  dns          {} quer{}, {} failed",
            s.dns_queries,
            if s.dns_queries == 1 { "y" } else { "ies" },
            s.dns_failures
        )?;
    }
    if s.auth_required > 0 {
        writeln!(
            out,
            "  auth         {} connection{} answered 401/403/407 (an authentication gateway)",
            s.auth_required,
            if s.auth_required == 1 { "" } else { "s" }
        )?;
    }
    if s.module_fetches > 0 {
        writeln!(
            out,
            "  go modules   {} connection{} to module proxies or checksum databases (--modules)",
            s.module_fetches,
            if s.module_fetches == 1 { "" } else { "s" }
        )?;
    }
    let verdicts: Vec<String> = VerdictKind::ALL
        .iter()
        .map(|k| {
            format!(
                "{} {}",
                s.verdicts.get(k.as_str()).copied().unwrap_or(0),
                k.as_str()
            )
        })
        .collect();
    writeln!(
        out,
        "  connections  {} ({})",
        s.connections,
        verdicts.join(", ")
    )?;
    writeln!(
        out,
        "  capture      {} → {} ({} s)",
        cap.first_packet_time.as_deref().unwrap_or("-"),
        cap.last_packet_time.as_deref().unwrap_or("-"),
        cap.span_ms.secs(3)
    )?;
    writeln!(
        out,
        "  packets      {} read, {} TCP, {} ICMP errors{}",
        s.packets,
        s.tcp_packets,
        s.icmp_errors,
        if s.tcp_options_truncated > 0 {
            format!(
                ", {} TCP with options cut by the snaplen",
                s.tcp_options_truncated
            )
        } else {
            String::new()
        }
    )?;
    if !s.other_packets.is_empty() {
        let o: Vec<String> = s
            .other_packets
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        writeln!(out, "  other        {}", o.join(", "))?;
    }
    if let Some(l) = &cap.live {
        let n = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "?".into());
        writeln!(
            out,
            "  live         {} filter {:?}: {} received, {} dropped by the kernel, {} dropped by the interface; stopped by {}",
            sanitize(&l.interface),
            l.filter.as_deref().unwrap_or(""),
            n(l.received),
            n(l.dropped_kernel),
            n(l.dropped_interface),
            l.stopped_by
        )?;
    }
    if s.evicted > 0 {
        writeln!(
            out,
            "  evicted      {} connections (the table was full: --max-connections)",
            s.evicted
        )?;
    }
    if !s.not_decoded.is_empty() {
        let o: Vec<String> = s
            .not_decoded
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        writeln!(out, "  not decoded  {}", o.join(", "))?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{Settings, analyze_collect};
    use crate::report::Collect;

    /// The cells as the table prints them, written out: `cells` and the
    /// rows kept for large tables share `each_cell`, so comparing the two
    /// would not catch a change of format.
    #[test]
    fn the_cells_of_a_row_as_printed() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/all_failures.pcap");
        let mut src = crate::source::open_path(&path).unwrap();
        let rep =
            analyze_collect(src.as_mut(), "x", &Settings::default(), Collect::every()).unwrap();
        let by_id = |id| rep.connections.iter().find(|c| c.id == id).unwrap();
        let expl = "10.77.2.20:8084 reset the connection (RST, frame 115) in the middle of \
                    the response, after 30102 bytes from the server, 311.7 ms after the handshake";
        assert_eq!(
            cells(by_id(4)),
            [
                "4",
                "10.77.1.10:53348 → 10.77.2.20:8084",
                "-",
                "midstream_reset",
                "mid_transfer",
                "1.210 s",
                "322.4 ms",
                "1",
                "10.7 ms",
                "11.1 ms",
                "0/0",
                expl,
            ]
        );
        // Durations of a second and more in seconds; text from the packets
        // with its control characters shown, not sent to the terminal.
        let mut c = by_id(1).clone();
        c.target = Some("a\x1b[2Jb".into());
        let got = cells(&c);
        assert_eq!(
            [&got[0], &got[2], &got[6], &got[7], &got[8], &got[10]],
            ["1", "a\\x1b[2Jb", "7.11 s", "7", "-", "6/0"]
        );
    }

    #[test]
    fn the_streamed_table_is_the_comfy_table_when_piped() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        for f in ["all_failures.pcap", "gomod_fallback.pcap", "sni_reset.pcap"] {
            let path = dir.join(f);
            let mut src = crate::source::open_path(&path).unwrap();
            let rep =
                analyze_collect(src.as_mut(), f, &Settings::default(), Collect::every()).unwrap();
            let rows: Vec<&ConnectionReport> = rep.connections.iter().collect();
            let mut streamed = Vec::new();
            write_streaming(&mut streamed, &rows).unwrap();
            // comfy-table does not wrap without a terminal (as in tests).
            let laid_out = format!("{}\n", comfy(rows.iter().map(|c| cells(c))));
            assert_eq!(String::from_utf8(streamed).unwrap(), laid_out, "{f}");
        }
    }

    /// Cells are padded by characters, not bytes, when they are not ASCII.
    #[test]
    fn the_streamed_table_pads_wide_characters_like_comfy_table() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/all_failures.pcap");
        let mut src = crate::source::open_path(&path).unwrap();
        let mut rep =
            analyze_collect(src.as_mut(), "x", &Settings::default(), Collect::every()).unwrap();
        rep.connections[0].target = Some("bücher.example".into());
        rep.connections[1].explanation = Some("délai dépassé… 😀".into());
        // Padding past what Streamed copies in one piece.
        rep.connections[2].target = Some("w".repeat(Streamed::MAX_FILL + 100));
        let rows: Vec<&ConnectionReport> = rep.connections.iter().collect();
        let mut streamed = Vec::new();
        write_streaming(&mut streamed, &rows).unwrap();
        let laid_out = format!("{}\n", comfy(rows.iter().map(|c| cells(c))));
        assert!(laid_out.contains("bücher.example") && laid_out.contains("😀"));
        assert_eq!(String::from_utf8(streamed).unwrap(), laid_out);
    }
}
