//! JSON and NDJSON printers.
//!
//! Strings from packets reach JSON as they were (so tools see the real
//! bytes), but every character that could drive a terminal when the JSON is
//! printed raw is written as a `\uXXXX` escape: serde_json escapes C0
//! controls itself; [`SafeFormatter`] adds DEL, the C1 controls (CSI is
//! U+009B) and the Unicode bidirectional overrides.

use super::Report;
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};
use std::io::{self, Write};

/// Characters escaped beyond what JSON requires.
fn needs_escape(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A serde_json formatter that escapes DEL, C1 and bidi controls in
/// strings, and otherwise formats like the one it wraps.
struct SafeFormatter<F>(F);

impl<F: Formatter> Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Almost every string is printable ASCII: nothing to look for.
        if fragment.bytes().all(|b| b < 0x7f) {
            return w.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Writes `value` as pretty JSON with terminal-safe strings.
pub fn to_writer_pretty<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> io::Result<()> {
    let mut chunks = Chunks::new(out);
    let mut ser =
        serde_json::Serializer::with_formatter(&mut chunks, SafeFormatter(PrettyFormatter::new()));
    value.serialize(&mut ser).map_err(io::Error::from)?;
    chunks.flush_chunk()
}

/// Collects the serializer's many small writes (a key, a colon, two
/// spaces of indent) in a buffer of its own and hands them to the output
/// a megabyte at a time: through `&mut dyn Write` and a `BufWriter` each
/// of them was a call of its own (a fifth of `--format json` on a big
/// capture).
struct Chunks<W: Write> {
    buf: Vec<u8>,
    out: W,
}

const CHUNK: usize = 1 << 20;

impl<W: Write> Chunks<W> {
    fn new(out: W) -> Self {
        Chunks {
            buf: Vec::with_capacity(CHUNK + 4096),
            out,
        }
    }

    fn flush_chunk(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

impl<W: Write> Write for Chunks<W> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    #[inline]
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush_chunk()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_chunk()?;
        self.out.flush()
    }
}

/// Writes `value` as one line of JSON with terminal-safe strings.
pub fn to_writer_line<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, SafeFormatter(CompactFormatter));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// Writes one JSON document `{"capture", "connections", "dns", "summary"}`
/// per report; several reports (several files) become a JSON array.
pub fn write_json(out: &mut dyn Write, reports: &[Report]) -> io::Result<()> {
    if reports.len() == 1 {
        to_writer_pretty(&mut *out, &reports[0])?;
    } else {
        to_writer_pretty(&mut *out, reports)?;
    }
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes one connection per line: every connection, like the JSON
/// document, so that `jq` filters see the ok ones too; then one line per
/// DNS query (objects with `"record": "dns"`).
pub fn write_ndjson(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for c in &report.connections {
        to_writer_line(&mut *out, c)?;
        out.write_all(b"\n")?;
    }
    for d in &report.dns {
        to_writer_line(&mut *out, d)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c1_and_bidi_controls_are_escaped_and_read_back() {
        let s = "a\u{1b}[2J\u{9b}31m\u{7f}\u{202e}é→z";
        let mut out = Vec::new();
        to_writer_line(&mut out, &s).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, r#""a\u001b[2J\u009b31m\u007f\u202eé→z""#);
        let back: String = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
    }
}
