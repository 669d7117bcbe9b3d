//! JSON and NDJSON printers.

use super::Report;
use std::io::{self, Write};

/// Writes one JSON document `{"capture", "connections", "summary"}` per
/// report; several reports (several files) become a JSON array.
pub fn write_json(out: &mut dyn Write, reports: &[Report]) -> io::Result<()> {
    if reports.len() == 1 {
        serde_json::to_writer_pretty(&mut *out, &reports[0])?;
    } else {
        serde_json::to_writer_pretty(&mut *out, reports)?;
    }
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes one connection per line: every connection, like the JSON
/// document, so that `jq` filters see the ok ones too; then one line per
/// DNS query (objects with `"record": "dns"`).
pub fn write_ndjson(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for c in &report.connections {
        serde_json::to_writer(&mut *out, c)?;
        out.write_all(b"\n")?;
    }
    for d in &report.dns {
        serde_json::to_writer(&mut *out, d)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
