//! What `tcptriage live` prints: a compact line (or an NDJSON object) per
//! connection and DNS query the moment its verdict is final, then the
//! closing section when the capture stops. The command only chooses the
//! printer and feeds it.

use super::sink::{ConnectionSink, Wants};
use super::{ConnectionReport, DnsReport, Report, sanitize, to_writer_line};
use crate::verdict::VerdictKind;
use std::io::{self, Write};
use std::ops::ControlFlow;

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

/// The live printer as a [`ConnectionSink`]: each connection handed over
/// is printed (a line, or an NDJSON object) and flushed at once; with
/// [`LiveFormat::Json`] the failed ones are kept for the document at the
/// end ([`LiveSink::kept`]).
pub struct LiveSink<W: Write> {
    pub printer: LivePrinter,
    out: W,
    kept: Vec<ConnectionReport>,
    failed: Option<io::Error>,
}

impl<W: Write> LiveSink<W> {
    pub fn new(printer: LivePrinter, out: W) -> LiveSink<W> {
        LiveSink {
            printer,
            out,
            kept: Vec::new(),
            failed: None,
        }
    }

    /// The output, for the DNS queries and the end of the capture.
    pub fn out(&mut self) -> &mut W {
        &mut self.out
    }

    /// The failed connections kept for the JSON document, taken.
    pub fn kept(&mut self) -> Vec<ConnectionReport> {
        std::mem::take(&mut self.kept)
    }
}

impl<W: Write> ConnectionSink for LiveSink<W> {
    fn wants(&self) -> Wants {
        Wants::EveryAsItCloses
    }

    fn connection(&mut self, c: ConnectionReport) -> ControlFlow<()> {
        if self.printer.format == LiveFormat::Json {
            if c.verdict != VerdictKind::Ok {
                self.kept.push(c);
            }
            return ControlFlow::Continue(());
        }
        let printed = self
            .printer
            .connections(&mut self.out, std::slice::from_ref(&c));
        super::sink::stop_on_error(printed, &mut self.failed)
    }

    fn error(&mut self) -> Option<io::Error> {
        self.failed.take()
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
        .unwrap_or_else(|| format!("{} ms, {} B down", c.timings.duration_ms.ms(1), c.bytes_s2c));
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
