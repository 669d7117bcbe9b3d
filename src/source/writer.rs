//! A minimal pcapng writer (for `--write FILE.pcapng`): one Section Header
//! Block (with `shb_userappl` "tcptriage"), one Interface Description Block
//! with `if_tsresol = 9` (nanoseconds), then one Enhanced Packet Block per
//! frame. Little-endian; one interface, so one link type per file.
//!
//! Sharp edges:
//! - Timestamps before 1970 cannot be written (pcapng timestamps are
//!   unsigned); they are written as 0.
//! - An `orig_len` smaller than the data is raised to the data length.
//! - Blocks are written with one `write_all` each; wrap a file in a
//!   `BufWriter` for speed.

use crate::time::Ts;
use std::io::{self, Write};

const SHB_TYPE: u32 = 0x0A0D_0D0A;
const IDB_TYPE: u32 = 1;
const EPB_TYPE: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_ENDOFOPT: u16 = 0;
const SHB_USERAPPL: u16 = 4;
const IF_TSRESOL: u16 = 9;
/// The application name written in the section header.
pub const USER_APPL: &str = "tcptriage";

/// Writes a pcapng capture with a single interface.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    /// Reused block buffer.
    buf: Vec<u8>,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

/// Appends an option (code, length, value, padding).
fn push_option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
    buf.extend_from_slice(value);
    buf.resize(buf.len() + pad4(value.len()), 0);
}

/// Starts a block of `block_type` in `buf` (length filled in by `end_block`).
fn begin_block(buf: &mut Vec<u8>, block_type: u32) {
    buf.clear();
    buf.extend_from_slice(&block_type.to_le_bytes());
    buf.extend_from_slice(&0u32.to_le_bytes());
}

/// Appends the trailing length and patches the leading one.
fn end_block(buf: &mut Vec<u8>) -> io::Result<()> {
    let total = buf.len() + 4;
    let total = u32::try_from(total)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pcapng block too large"))?;
    buf[4..8].copy_from_slice(&total.to_le_bytes());
    buf.extend_from_slice(&total.to_le_bytes());
    Ok(())
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header and the interface description
    /// (`linktype`, `snaplen`; 0 means no limit).
    pub fn new(out: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        let linktype = u16::try_from(linktype).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("link type {linktype} does not fit pcapng's 16 bits"),
            )
        })?;
        let mut w = PcapngWriter {
            out,
            buf: Vec::with_capacity(4096),
        };
        // Section Header Block.
        begin_block(&mut w.buf, SHB_TYPE);
        w.buf.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        w.buf.extend_from_slice(&1u16.to_le_bytes()); // major
        w.buf.extend_from_slice(&0u16.to_le_bytes()); // minor
        w.buf.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
        push_option(&mut w.buf, SHB_USERAPPL, USER_APPL.as_bytes());
        push_option(&mut w.buf, OPT_ENDOFOPT, &[]);
        end_block(&mut w.buf)?;
        w.out.write_all(&w.buf)?;
        // Interface Description Block.
        begin_block(&mut w.buf, IDB_TYPE);
        w.buf.extend_from_slice(&linktype.to_le_bytes());
        w.buf.extend_from_slice(&0u16.to_le_bytes()); // reserved
        w.buf.extend_from_slice(&snaplen.to_le_bytes());
        push_option(&mut w.buf, IF_TSRESOL, &[9]);
        push_option(&mut w.buf, OPT_ENDOFOPT, &[]);
        end_block(&mut w.buf)?;
        w.out.write_all(&w.buf)?;
        Ok(w)
    }

    /// Writes one packet as an Enhanced Packet Block on interface 0.
    pub fn write(&mut self, ts: Ts, orig_len: u32, data: &[u8]) -> io::Result<()> {
        let caplen = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too large"))?;
        let ts = u64::try_from(ts.0).unwrap_or(0);
        let buf = &mut self.buf;
        begin_block(buf, EPB_TYPE);
        buf.extend_from_slice(&0u32.to_le_bytes()); // interface id
        buf.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        buf.extend_from_slice(&(ts as u32).to_le_bytes());
        buf.extend_from_slice(&caplen.to_le_bytes());
        buf.extend_from_slice(&orig_len.max(caplen).to_le_bytes());
        buf.extend_from_slice(data);
        buf.resize(buf.len() + pad4(data.len()), 0);
        end_block(buf)?;
        self.out.write_all(&self.buf)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::file::open_reader;

    /// (ts, orig_len, data) frames covering every padding remainder, a
    /// snaplen-cut frame, an empty frame and nanosecond timestamps.
    fn frames() -> Vec<(Ts, u32, Vec<u8>)> {
        vec![
            (
                Ts::from_parts(1_700_000_000, 123_456_789),
                60,
                (0..60).collect(),
            ),
            (
                Ts::from_parts(1_700_000_000, 123_456_790),
                61,
                (0..61).collect(),
            ),
            (Ts::from_parts(1_700_000_001, 1), 62, vec![0xab; 62]),
            (
                Ts::from_parts(1_700_000_002, 999_999_999),
                1500,
                vec![7; 63],
            ),
            (Ts::from_parts(1_700_000_003, 0), 0, vec![]),
            (Ts::from_parts(4_000_000_000, 5), 1, vec![1]),
        ]
    }

    fn write_all(frames: &[(Ts, u32, Vec<u8>)]) -> Vec<u8> {
        let mut w = PcapngWriter::new(Vec::new(), 1, 262_144).unwrap();
        for (ts, len, data) in frames {
            w.write(*ts, *len, data).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn blocks_are_padded_and_lengths_match() {
        let bytes = write_all(&frames());
        assert_eq!(bytes.len() % 4, 0);
        // Walk the blocks: leading and trailing lengths agree and are
        // multiples of 4.
        let mut off = 0;
        let mut types = Vec::new();
        while off < bytes.len() {
            let t = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap());
            let len = u32::from_le_bytes(bytes[off + 4..off + 8].try_into().unwrap()) as usize;
            assert_eq!(len % 4, 0);
            let trailer = u32::from_le_bytes(bytes[off + len - 4..off + len].try_into().unwrap());
            assert_eq!(trailer as usize, len);
            types.push(t);
            off += len;
        }
        assert_eq!(off, bytes.len());
        assert_eq!(types, [SHB_TYPE, IDB_TYPE, 6, 6, 6, 6, 6, 6]);
    }

    #[test]
    fn round_trips_through_our_reader() {
        let frames = frames();
        let bytes = write_all(&frames);
        let mut src = open_reader(std::io::Cursor::new(bytes)).unwrap();
        let mut n = 0;
        while let Some(f) = src.next_frame().unwrap() {
            let (ts, len, data) = &frames[n];
            n += 1;
            assert_eq!(f.number, n as u64);
            assert_eq!(f.ts, *ts, "frame {n}");
            assert_eq!(f.orig_len, *len, "frame {n}");
            assert_eq!(f.data, &data[..], "frame {n}");
            assert_eq!(f.linktype, 1);
        }
        assert_eq!(n, frames.len());
        assert!(src.warnings().is_empty(), "{:?}", src.warnings());
    }

    #[test]
    fn orig_len_below_caplen_is_raised_and_negative_ts_is_zero() {
        let mut w = PcapngWriter::new(Vec::new(), 101, 0).unwrap();
        w.write(Ts(-5), 2, &[1, 2, 3]).unwrap();
        let bytes = w.finish().unwrap();
        let mut src = open_reader(std::io::Cursor::new(bytes)).unwrap();
        let f = src.next_frame().unwrap().unwrap();
        assert_eq!(f.ts, Ts(0));
        assert_eq!(f.orig_len, 3);
        assert_eq!(f.linktype, 101);
    }

    #[test]
    fn linktype_must_fit_16_bits() {
        assert!(PcapngWriter::new(Vec::new(), 70_000, 0).is_err());
    }

    /// tshark reads the file without complaint and sees the same times.
    #[test]
    fn tshark_reads_it() {
        if !std::process::Command::new("tshark")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            eprintln!("skipped: tshark is not installed or cannot run");
            return;
        }
        let frames = frames();
        let dir = std::env::temp_dir().join(format!("tcptriage-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.pcapng");
        std::fs::write(&path, write_all(&frames)).unwrap();

        let clean_stderr = |e: &[u8]| -> String {
            String::from_utf8_lossy(e)
                .lines()
                .filter(|l| !l.contains("Running as user \"root\""))
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let out = std::process::Command::new("tshark")
            .arg("-n")
            .arg("-r")
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(clean_stderr(&out.stderr), "");

        let out = std::process::Command::new("tshark")
            .args([
                "-n",
                "-T",
                "fields",
                "-e",
                "frame.time_epoch",
                "-e",
                "frame.len",
            ])
            .args(["-e", "frame.cap_len", "-r"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(clean_stderr(&out.stderr), "");
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), frames.len(), "{text}");
        for (line, (ts, len, data)) in lines.iter().zip(&frames) {
            let cols: Vec<&str> = line.split('\t').collect();
            let want = format!(
                "{}.{:09}",
                ts.0.div_euclid(1_000_000_000),
                ts.0.rem_euclid(1_000_000_000)
            );
            assert_eq!(cols[0], want, "{line}");
            assert_eq!(cols[1], len.to_string(), "{line}");
            assert_eq!(cols[2], data.len().to_string(), "{line}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
