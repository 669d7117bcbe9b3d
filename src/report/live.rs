//! What `tcptriage live` prints: a compact line (or an NDJSON object) per
//! connection and DNS query the moment its verdict is final, then the
//! closing section when the capture stops. The command only chooses the
//! printer and feeds it.

use super::{ConnectionReport, DnsReport, Report, sanitize, to_writer_line};
use crate::verdict::VerdictKind;
use std::io::{self, Write};

/// Output format of a live capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveFormat {
    /// A line per failure as it happens; the table of what was still open
    /// and the summary at the end.
    Table,
    /// A JSON object per connection and DNS query as it happens; the
    /// summary and the capture as a last object.
    Ndjson,
    /// One document at the end.
    Json,
}

/// Prints the verdicts of a live capture as they become final.
#[derive(Clone, Copy, Debug)]
pub struct LivePrinter {
    pub format: LiveFormat,
    /// Also print `ok` connections and answered queries (table format).
    pub all: bool,
}

impl LivePrinter {
    /// Prints the connections whose verdict just became final, then
    /// flushes when there were any.
    pub fn connections(&self, out: &mut dyn Write, reports: &[ConnectionReport]) -> io::Result<()> {
        for c in reports {
            match self.format {
                LiveFormat::Ndjson => {
                    to_writer_line(&mut *out, c)?;
                    out.write_all(b"\n")?;
                }
                LiveFormat::Table if self.all || c.verdict != VerdictKind::Ok => {
                    writeln!(out, "{}", verdict_line(c))?;
                }
                _ => {}
            }
        }
        if !reports.is_empty() {
            out.flush()?;
        }
        Ok(())
    }

    /// Prints the DNS queries whose outcome just became final, then
    /// flushes when there were any.
    pub fn dns(&self, out: &mut dyn Write, queries: &[DnsReport]) -> io::Result<()> {
        for d in queries {
            match self.format {
                LiveFormat::Ndjson => {
                    to_writer_line(&mut *out, d)?;
                    out.write_all(b"\n")?;
                }
                LiveFormat::Table if self.all || d.is_failure() => {
                    writeln!(out, "{}", dns_line(d))?;
                }
                _ => {}
            }
        }
        if !queries.is_empty() {
            out.flush()?;
        }
        Ok(())
    }

    /// Prints the end of the capture: after a blank line the table of the
    /// connections still open and the summary; with NDJSON those
    /// connections and a last `{"summary", "capture"}` object; with JSON
    /// the whole document (`rep` then holds every failure of the capture).
    pub fn finish(&self, out: &mut dyn Write, rep: &Report) -> io::Result<()> {
        match self.format {
            LiveFormat::Table => {
                let _ = writeln!(out);
                super::write_table(out, rep, self.all)
            }
            LiveFormat::Ndjson => {
                super::write_ndjson(&mut *out, rep)?;
                to_writer_line(
                    &mut *out,
                    &serde_json::json!({"summary": rep.summary, "capture": rep.capture}),
                )?;
                out.write_all(b"\n")
            }
            LiveFormat::Json => super::write_json(out, std::slice::from_ref(rep)),
        }
    }
}

/// One compact line for a connection's verdict, as it happens.
pub fn verdict_line(c: &ConnectionReport) -> String {
    let start = c.start_time.to_string();
    let time = start.get(11..23).unwrap_or(&start);
    let verdict = match c.stage {
        Some(s) => format!("{}/{}", c.verdict.as_str(), s.as_str()),
        None => c.verdict.as_str().to_string(),
    };
    let what = c
        .explanation
        .clone()
        .unwrap_or_else(|| format!("{:.1} ms, {} B down", c.timings.duration_ms, c.bytes_s2c));
    let target = c
        .target
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    sanitize(&format!(
        "{time}  #{:<5} {verdict:<34} {} → {}{target}  {what}",
        c.id,
        c.client(),
        c.server()
    ))
}

/// One compact line for a DNS query whose outcome is final.
pub fn dns_line(d: &DnsReport) -> String {
    let time = d.time.get(11..23).unwrap_or(&d.time);
    let verdict = format!("{}/{}", d.verdict, d.outcome.as_str());
    let what = d.explanation.clone().unwrap_or_else(|| {
        format!(
            "{} {} → {}",
            d.name,
            d.qtype,
            if d.answers.is_empty() {
                d.rcode.clone().unwrap_or_default()
            } else {
                d.answers.join(" ")
            }
        )
    });
    sanitize(&format!(
        "{time}  dns    {verdict:<34} {} → {}  {what}",
        d.client, d.server
    ))
}
