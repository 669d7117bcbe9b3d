//! JSON and NDJSON printers.
//!
//! Strings from packets reach JSON as they were (so tools see the real
//! bytes), but every character that could drive a terminal when the JSON is
//! printed raw is written as a `\uXXXX` escape: serde_json escapes C0
//! controls itself; [`SafeFormatter`] adds DEL, the C1 controls (CSI is
//! U+009B) and the Unicode bidirectional overrides.

use super::Report;
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};
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

/// serde_json's `PrettyFormatter` (two spaces), which can start at an
/// indentation level: what lets the elements of a long array be written
/// apart (on two threads) and read as one document.
struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    fn at(level: usize) -> Self {
        Pretty {
            level,
            has_value: false,
        }
    }
}

fn indent<W: ?Sized + Write>(w: &mut W, level: usize) -> io::Result<()> {
    for _ in 0..level {
        w.write_all(b"  ")?;
    }
    Ok(())
}

/// Starts an element of an array or a key of an object at `level`: a
/// comma after the one before, a new line, the indent.
fn item<W: ?Sized + Write>(w: &mut W, first: bool, level: usize) -> io::Result<()> {
    w.write_all(if first { b"\n" } else { b",\n" })?;
    indent(w, level)
}

/// Ends an array or object that had elements, its `bracket` at `level`.
fn close<W: ?Sized + Write>(w: &mut W, level: usize, bracket: &[u8]) -> io::Result<()> {
    w.write_all(b"\n")?;
    indent(w, level)?;
    w.write_all(bracket)
}

impl Pretty {
    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            close(w, self.level, bracket)
        } else {
            w.write_all(bracket)
        }
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        item(w, first, self.level)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        item(w, first, self.level)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `value` as pretty JSON, as if it stood at indentation `level`.
fn pretty_at<W: Write, T: Serialize + ?Sized>(w: W, level: usize, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, SafeFormatter(Pretty::at(level)));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// Writes `value` as pretty JSON with terminal-safe strings.
pub fn to_writer_pretty<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> io::Result<()> {
    let mut chunks = Chunks::new(out);
    pretty_at(&mut chunks, 0, value)?;
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
/// per report; several reports (several files) become a JSON array. The
/// same text as [`to_writer_pretty`] of the report (or of the slice), with
/// the connections serialized on two threads, a block each at a time.
pub fn write_json(out: &mut dyn Write, reports: &[Report]) -> io::Result<()> {
    let mut w = Chunks::new(&mut *out);
    if reports.len() == 1 {
        write_report(&mut w, &reports[0], 0)?;
    } else if reports.is_empty() {
        w.write_all(b"[]")?;
    } else {
        w.write_all(b"[")?;
        for (i, r) in reports.iter().enumerate() {
            item(&mut w, i == 0, 1)?;
            write_report(&mut w, r, 1)?;
        }
        close(&mut w, 0, b"]")?;
    }
    w.write_all(b"\n")?;
    w.flush()
}

/// Connections serialized by one thread before the two hand over.
const BLOCK: usize = 2048;

/// One report at indentation `level`, field by field as serde writes the
/// struct (a test compares the two on every shipped capture).
fn write_report<W: Write>(w: &mut W, r: &Report, level: usize) -> io::Result<()> {
    let key = |w: &mut W, first: bool, name: &str| -> io::Result<()> {
        item(w, first, level + 1)?;
        write!(w, "\"{name}\": ")
    };
    w.write_all(b"{")?;
    key(w, true, "capture")?;
    pretty_at(&mut *w, level + 1, &r.capture)?;
    key(w, false, "connections")?;
    write_array(w, level + 1, &r.connections, BLOCK)?;
    key(w, false, "dns")?;
    pretty_at(&mut *w, level + 1, &r.dns)?;
    key(w, false, "summary")?;
    pretty_at(&mut *w, level + 1, &r.summary)?;
    close(w, level, b"}")
}

/// `items` as a pretty JSON array at `level`; blocks of `block` elements
/// are serialized two at a time, the second on another thread, and
/// written in order.
fn write_array<W: Write, T: Serialize + Sync>(
    w: &mut W,
    level: usize,
    items: &[T],
    block: usize,
) -> io::Result<()> {
    if items.is_empty() {
        return w.write_all(b"[]");
    }
    let elements = |buf: &mut Vec<u8>, from: usize, part: &[T]| -> io::Result<()> {
        buf.clear();
        for (i, x) in part.iter().enumerate() {
            item(buf, from + i == 0, level + 1)?;
            pretty_at(&mut *buf, level + 1, x)?;
        }
        Ok(())
    };
    w.write_all(b"[")?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut at = 0;
    for pair in items.chunks(2 * block.max(1)) {
        let (first, second) = pair.split_at(pair.len().min(block.max(1)));
        let second_done = std::thread::scope(|s| -> io::Result<bool> {
            let other = std::thread::Builder::new()
                .spawn_scoped(s, || elements(&mut b, at + first.len(), second))
                .ok();
            let mine = elements(&mut a, at, first);
            let theirs = other.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            mine?;
            match theirs {
                Some(r) => r.map(|()| true),
                None => Ok(false),
            }
        })?;
        if !second_done {
            // No second thread to be had: this one does it.
            elements(&mut b, at + first.len(), second)?;
        }
        w.write_all(&a)?;
        w.write_all(&b)?;
        at += pair.len();
    }
    close(w, level, b"]")
}

/// Writes one connection per line: every connection, like the JSON
/// document, so that `jq` filters see the ok ones too; then one line per
/// DNS query (objects with `"record": "dns"`).
pub fn write_ndjson(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for c in &report.connections {
        to_writer_line(&mut *out, c)?;
        out.write_all(b"\n")?;
    }
    write_ndjson_dns(out, report)
}

/// The DNS queries of [`write_ndjson`], one per line, after the
/// connections an [`super::sink::Ndjson`] sink wrote as they closed.
pub fn write_ndjson_dns(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for d in &report.dns {
        to_writer_line(&mut *out, d)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde writes for the same value with its own pretty formatter.
    fn serde_pretty<T: Serialize + ?Sized>(v: &T) -> String {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            SafeFormatter(serde_json::ser::PrettyFormatter::new()),
        );
        v.serialize(&mut ser).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn arrays_in_blocks_on_two_threads_read_as_serde_writes_them() {
        #[derive(Serialize)]
        struct Item {
            n: usize,
            name: String,
            inner: Vec<u8>,
            empty: Vec<u8>,
        }
        for len in [0, 1, 2, 3, 7, 8, 9, 100] {
            let items: Vec<Item> = (0..len)
                .map(|n| Item {
                    n,
                    name: format!("x{n}\u{9b}"),
                    inner: vec![1, 2],
                    empty: vec![],
                })
                .collect();
            for block in [1, 2, 3, 4, 1000] {
                for level in [0, 1, 3] {
                    let mut ours = Vec::new();
                    write_array(&mut ours, level, &items, block).unwrap();
                    // serde's text for the array, as if at `level`.
                    let mut want = Vec::new();
                    pretty_at(&mut want, level, &items).unwrap();
                    assert_eq!(
                        String::from_utf8(ours).unwrap(),
                        String::from_utf8(want).unwrap(),
                        "len {len} block {block} level {level}"
                    );
                }
            }
            let mut level0 = Vec::new();
            pretty_at(&mut level0, 0, &items).unwrap();
            assert_eq!(String::from_utf8(level0).unwrap(), serde_pretty(&items));
        }
    }

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
