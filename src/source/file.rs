//! Saved captures: pcap (all four magic/byte-order variants, plus the
//! "modified" Kuznetsov format) and pcapng, read as a stream (standard input
//! works: nothing seeks).
//!
//! Framing is done here over our own growable buffer: each record's length is
//! checked (at most [`MAX_RECORD`] bytes) *before* the buffer grows, and the
//! buffer only doubles while real bytes keep arriving, so a hostile length
//! field cannot make us allocate more than about twice the input size.
//! pcap-parser parses the Interface Description Blocks (their options); the
//! fixed-layout packet blocks (EPB, SPB and the obsolete OPB, which
//! pcap-parser does not know) are read directly, which keeps reading
//! allocation-free per packet.
//!
//! Sharp edges handled here:
//! - EPB/SPB data is padded to 32 bits: frames are trimmed to the captured
//!   length (SPB: `min(original length, data)`, and interface 0's snaplen).
//! - pcap-parser reads `if_tsoffset` as little-endian whatever the section's
//!   byte order; we decode it ourselves.
//! - A truncated last record is a warning, not an error.
//! - Frame numbers follow Wireshark: packet records (pcap records, EPB, SPB,
//!   OPB) are numbered from 1, and so are pcapng custom blocks and systemd
//!   journal blocks, which Wireshark lists as records; those are not
//!   returned, so the numbers we return then have gaps.
//! - SPB carries no timestamp: it gets the previous frame's (0 if first).

use super::{Frame, Handoff, PacketSource, SourceError};
use crate::time::Ts;
use std::io::{self, Read};
use std::path::Path;

/// The largest record (pcap record or pcapng block) we accept; anything
/// larger is treated as corruption.
pub const MAX_RECORD: usize = 256 << 20;
/// The largest packet a pcap record may hold when its snaplen does not
/// allow more: Wireshark's `WTAP_MAX_PACKET_SIZE_STANDARD` (256 KiB). A
/// record that claims more than this and than the file's snaplen is corrupt.
pub const MAX_PACKET: usize = 256 << 10;
/// Initial buffer size.
const INITIAL_BUFFER: usize = 1 << 20;

const SHB_TYPE: u32 = 0x0A0D_0D0A;
const IDB_TYPE: u32 = 1;
const OPB_TYPE: u32 = 2;
const SPB_TYPE: u32 = 3;
const EPB_TYPE: u32 = 6;
const SJE_TYPE: u32 = 9;
const CB_COPY_TYPE: u32 = 0x0000_0BAD;
const CB_NOCOPY_TYPE: u32 = 0x4000_0BAD;

/// Opens a capture file, or standard input for `-`.
pub fn open_path(path: &Path) -> Result<Box<dyn PacketSource>, SourceError> {
    if path.as_os_str() == "-" {
        return open_reader(io::stdin());
    }
    let file = std::fs::File::open(path)?;
    let meta = file.metadata().ok();
    if meta.is_some_and(|m| m.is_dir()) {
        return Err(SourceError::Io(io::Error::other("is a directory")));
    }
    open_reader(file)
}

/// Reads a capture from any byte stream (a file, a pipe, a byte slice).
pub fn open_reader<R: Read + 'static>(reader: R) -> Result<Box<dyn PacketSource>, SourceError> {
    Ok(Box::new(CaptureReader::new(Box::new(reader))?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcap {
        big_endian: bool,
        nanos: bool,
        /// Record header length: 16, or 24 for the modified (Kuznetsov) format.
        rec_hdr: usize,
        linktype: u32,
        snaplen: u32,
    },
    Pcapng {
        big_endian: bool,
    },
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    tsresol: u8,
    tsoffset: i64,
}

/// A pcap/pcapng reader over a byte stream (a file, a pipe).
struct CaptureReader {
    input: Box<dyn Read>,
    buf: Vec<u8>,
    /// Unconsumed data is `buf[start..end]`.
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    /// Bytes of the record returned last, consumed on the next call.
    pending: usize,
    eof: bool,
    done: bool,
    format: Format,
    interfaces: Vec<Interface>,
    frames: u64,
    last_ts: Ts,
    undefined_if: u64,
    warnings: Vec<String>,
    /// Buffers are handed over ([`Handoff`]) rather than compacted.
    handoff: bool,
    /// Buffers detached so far.
    generation: u64,
    /// The buffer detached last, not yet taken.
    detached: Option<Vec<u8>>,
    /// Buffers handed back, for reuse (their bytes are initialised: reused
    /// as they are, not zeroed again).
    spare: Vec<Vec<u8>>,
}

/// The size of the buffers handed over ([`Handoff`]): a batch of frames.
const HANDOFF_BUFFER: usize = super::batch::BATCH_BYTES;

/// Buffers kept for reuse at most (more than the batches in flight).
const MAX_SPARE: usize = 16;

// One bounds check and one load per field (indexing byte by byte checked
// each, on every record).
fn rd_u16(b: &[u8], at: usize, be: bool) -> u16 {
    let v: [u8; 2] = b[at..at + 2].try_into().expect("2 bytes");
    if be {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    }
}

fn rd_u32(b: &[u8], at: usize, be: bool) -> u32 {
    let v: [u8; 4] = b[at..at + 4].try_into().expect("4 bytes");
    if be {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}

/// Converts a pcapng timestamp (`units` in the interface's resolution) to
/// nanoseconds since the epoch, saturating on nonsense.
fn pcapng_ts(units: u64, tsresol: u8, tsoffset: i64) -> Ts {
    let ns: u64 = if tsresol & 0x80 == 0 {
        let e = u32::from(tsresol);
        if e <= 9 {
            units.saturating_mul(10u64.pow(9 - e))
        } else if e - 9 <= 19 {
            units / 10u64.pow(e - 9)
        } else {
            0
        }
    } else {
        let e = u32::from(tsresol & 0x7f);
        let v = (u128::from(units) * 1_000_000_000u128) >> e;
        u64::try_from(v).unwrap_or(u64::MAX)
    };
    let ns = i64::try_from(ns).unwrap_or(i64::MAX);
    Ts(ns.saturating_add(tsoffset.saturating_mul(1_000_000_000)))
}

/// Whether an `if_tsresol` value is one a real clock could have: 10^-0 to
/// 10^-18 or 2^-0 to 2^-63 seconds.
fn usable_tsresol(tsresol: u8) -> bool {
    if tsresol & 0x80 == 0 {
        tsresol <= 18
    } else {
        tsresol & 0x7f <= 63
    }
}

/// Describes the first bytes of something that is not a capture.
fn describe_non_capture(head: &[u8]) -> SourceError {
    let starts = |m: &[u8]| head.starts_with(m);
    let compressed = if starts(&[0x1f, 0x8b]) {
        Some("gzip")
    } else if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else if starts(b"BZh") {
        Some("bzip2")
    } else if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else if starts(&[0x04, 0x22, 0x4d, 0x18]) {
        Some("lz4")
    } else {
        None
    };
    if let Some(c) = compressed {
        return SourceError::Unsupported(format!("{c}-compressed; decompress it first"));
    }
    let what = if starts(b"PK\x03\x04") {
        "a zip archive".to_string()
    } else if starts(b"snoop\0") {
        "a Solaris snoop capture; convert it with editcap -F pcap".to_string()
    } else if starts(b"GMBU") {
        "a Microsoft Network Monitor capture; convert it with editcap -F pcap".to_string()
    } else if starts(b"\x7fELF") {
        "an ELF executable".to_string()
    } else if head
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "looks like text".to_string()
    } else {
        let n = head.len().min(4);
        let hex: Vec<String> = head[..n].iter().map(|b| format!("{b:02x}")).collect();
        format!("unrecognized magic {}", hex.join(" "))
    };
    SourceError::NotACapture(what)
}

impl CaptureReader {
    fn new(input: Box<dyn Read>) -> Result<Self, SourceError> {
        let mut r = CaptureReader {
            input,
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            offset: 0,
            pending: 0,
            eof: false,
            done: false,
            format: Format::Pcapng { big_endian: false },
            interfaces: Vec::new(),
            frames: 0,
            last_ts: Ts(0),
            undefined_if: 0,
            warnings: Vec::new(),
            handoff: false,
            generation: 0,
            detached: None,
            spare: Vec::new(),
        };
        r.fill(4)?;
        let avail = r.avail();
        if avail == 0 {
            return Err(SourceError::NotACapture("empty file".into()));
        }
        if avail < 4 {
            r.fill(16)?;
            return Err(SourceError::NotACapture(format!(
                "only {} bytes long",
                r.avail()
            )));
        }
        let head: [u8; 4] = r.data()[..4].try_into().expect("4 bytes");
        let pcap_magic = match head {
            [0xd4, 0xc3, 0xb2, 0xa1] => Some((false, false, 16)),
            [0xa1, 0xb2, 0xc3, 0xd4] => Some((true, false, 16)),
            [0x4d, 0x3c, 0xb2, 0xa1] => Some((false, true, 16)),
            [0xa1, 0xb2, 0x3c, 0x4d] => Some((true, true, 16)),
            [0x34, 0xcd, 0xb2, 0xa1] => Some((false, false, 24)),
            [0xa1, 0xb2, 0xcd, 0x34] => Some((true, false, 24)),
            _ => None,
        };
        if let Some((be, nanos, rec_hdr)) = pcap_magic {
            r.fill(24)?;
            if r.avail() < 24 {
                return Err(SourceError::Corrupt {
                    offset: 0,
                    reason: format!("pcap file header truncated ({} of 24 bytes)", r.avail()),
                });
            }
            let h = &r.data()[..24];
            let major = rd_u16(h, 4, be);
            let minor = rd_u16(h, 6, be);
            if major != 2 {
                return Err(SourceError::Unsupported(format!(
                    "pcap version {major}.{minor} (only 2.x is supported)"
                )));
            }
            // Bits 26-31 carry the FCS length, 16-25 are reserved.
            let linktype = rd_u32(h, 20, be) & 0x03FF_FFFF;
            let snaplen = rd_u32(h, 16, be);
            r.format = Format::Pcap {
                big_endian: be,
                nanos,
                rec_hdr,
                linktype,
                snaplen,
            };
            r.consume(24);
            return Ok(r);
        }
        if head == SHB_TYPE.to_le_bytes() {
            r.fill(12)?;
            if r.avail() < 12 {
                return Err(SourceError::Corrupt {
                    offset: 0,
                    reason: "pcapng section header block truncated".into(),
                });
            }
            let be = match r.data()[8..12] {
                [0x4d, 0x3c, 0x2b, 0x1a] => false,
                [0x1a, 0x2b, 0x3c, 0x4d] => true,
                _ => {
                    return Err(SourceError::Corrupt {
                        offset: 0,
                        reason: "pcapng section header has a bad byte-order magic".into(),
                    });
                }
            };
            let len = rd_u32(r.data(), 4, be) as usize;
            if !(28..=MAX_RECORD).contains(&len) || !len.is_multiple_of(4) {
                return Err(SourceError::Corrupt {
                    offset: 0,
                    reason: format!("pcapng section header block has impossible length {len}"),
                });
            }
            r.fill(len)?;
            if r.avail() < len {
                return Err(SourceError::Corrupt {
                    offset: 0,
                    reason: "pcapng section header block truncated".into(),
                });
            }
            let (major, minor) = (rd_u16(r.data(), 12, be), rd_u16(r.data(), 14, be));
            if major != 1 || !(minor == 0 || minor == 2) {
                return Err(SourceError::Unsupported(format!(
                    "pcapng version {major}.{minor} (only 1.0 is supported)"
                )));
            }
            r.format = Format::Pcapng { big_endian: be };
            // The SHB itself is handled by the block loop.
            return Ok(r);
        }
        r.fill(64)?;
        let n = r.avail().min(64);
        Err(describe_non_capture(&r.data()[..n]))
    }

    fn avail(&self) -> usize {
        self.end - self.start
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// Makes at least `need` bytes available if the input has them. Returns
    /// whether it could. The buffer grows (doubling) only when full of real
    /// data, and `need` must have been checked against [`MAX_RECORD`].
    #[inline]
    fn fill(&mut self, need: usize) -> Result<bool, SourceError> {
        // The common case: the record is in the buffer.
        if self.avail() >= need {
            return Ok(true);
        }
        self.fill_slow(need)
    }

    fn fill_slow(&mut self, need: usize) -> Result<bool, SourceError> {
        while self.avail() < need {
            if self.eof {
                return Ok(false);
            }
            if self.handoff && self.end == self.buf.len() {
                self.detach(need);
            } else if self.end == self.buf.len() {
                if self.start > 0 {
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.start = 0;
                } else {
                    let new_len = (self.buf.len() * 2).min(need.max(self.buf.len() + 1));
                    let new_len = new_len.max(self.buf.len() + 1);
                    self.buf.resize(new_len, 0);
                }
            }
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SourceError::Io(e)),
            }
        }
        Ok(true)
    }

    /// Replaces the full buffer by a new one (at least `need` bytes) with
    /// the unread tail at its start, and keeps the old one for
    /// [`Handoff::take_detached`]: the frames returned from it stay put.
    fn detach(&mut self, need: usize) {
        // A record longer than a buffer: twice the full one, up to `need`,
        // so that memory grows only as real bytes arrive (a block header
        // claiming 256 MiB allocates nothing until those bytes come).
        let tail = self.end - self.start;
        let size = if need <= HANDOFF_BUFFER {
            HANDOFF_BUFFER
        } else {
            need.min(self.buf.len().max(HANDOFF_BUFFER) * 2)
        }
        // Room for the tail and more (`detach_now` may leave a long one).
        .max(tail + 4096);
        let mut fresh = match self.spare.pop() {
            Some(b) if b.len() >= size => b,
            Some(small) => {
                self.spare.push(small); // for the next buffers of usual size
                vec![0; size]
            }
            None => vec![0; size],
        };
        fresh[..tail].copy_from_slice(&self.buf[self.start..self.end]);
        let old = std::mem::replace(&mut self.buf, fresh);
        // Detached twice before it was taken (a record larger than a
        // buffer): the second one held no frame that was returned.
        match self.detached {
            None => self.detached = Some(old),
            Some(_) => self.keep_spare(old),
        }
        self.generation += 1;
        self.start = 0;
        self.end = tail;
    }

    /// Keeps a buffer for reuse, unless enough are kept or it grew for a
    /// large record (memory goes back once such records are past).
    fn keep_spare(&mut self, buf: Vec<u8>) {
        if self.spare.len() < MAX_SPARE && buf.len() <= 4 * HANDOFF_BUFFER {
            self.spare.push(buf);
        }
    }

    /// The input ended inside a record.
    fn truncated(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        if self.avail() > 0 {
            self.warnings.push(format!(
                "capture truncated at byte offset {}: last record incomplete",
                self.offset
            ));
        }
        self.finish()
    }

    /// A record that cannot be right: stop, with a warning if we have read
    /// frames already, else an error.
    fn corrupt(&mut self, reason: String) -> Result<Option<Frame<'_>>, SourceError> {
        if self.frames == 0 {
            self.done = true;
            return Err(SourceError::Corrupt {
                offset: self.offset,
                reason,
            });
        }
        self.warnings.push(format!(
            "capture corrupt at byte offset {}: {reason}; stopped reading there",
            self.offset
        ));
        self.finish()
    }

    fn finish(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        self.done = true;
        if self.undefined_if > 1 {
            self.warnings.push(format!(
                "{} packet blocks in total referenced undefined interfaces and were skipped",
                self.undefined_if
            ));
        }
        Ok(None)
    }

    fn undefined_interface(&mut self, if_id: u32) {
        self.undefined_if += 1;
        if self.undefined_if == 1 {
            self.warnings.push(format!(
                "packet block at byte offset {} references undefined interface {if_id}; skipped",
                self.offset
            ));
        }
    }

    fn frame(&mut self, ts: Ts, linktype: u32, orig_len: u32, at: usize, len: usize) -> Frame<'_> {
        self.frames += 1;
        self.last_ts = ts;
        let s = self.start + at;
        Frame {
            number: self.frames,
            ts,
            linktype,
            orig_len,
            data: &self.buf[s..s + len],
        }
    }

    fn next_pcap(
        &mut self,
        be: bool,
        nanos: bool,
        rec_hdr: usize,
        linktype: u32,
        snaplen: u32,
    ) -> Result<Option<Frame<'_>>, SourceError> {
        if !self.fill(rec_hdr)? {
            return self.truncated();
        }
        let h = &self.buf[self.start..self.start + rec_hdr];
        let secs = rd_u32(h, 0, be);
        let frac = rd_u32(h, 4, be);
        let caplen = rd_u32(h, 8, be) as usize;
        let orig_len = rd_u32(h, 12, be);
        if caplen > MAX_RECORD || (caplen > MAX_PACKET && caplen > snaplen as usize) {
            return self.corrupt(format!(
                "record claims {caplen} captured bytes, more than the snaplen ({snaplen}) \
                 and the {MAX_PACKET}-byte maximum"
            ));
        }
        if !self.fill(rec_hdr + caplen)? {
            return self.truncated();
        }
        let frac_ns = if nanos {
            i64::from(frac)
        } else {
            i64::from(frac) * 1000
        };
        let ts = Ts::from_parts(i64::from(secs), frac_ns);
        self.pending = rec_hdr + caplen;
        Ok(Some(self.frame(ts, linktype, orig_len, rec_hdr, caplen)))
    }

    fn next_frame_inner(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        loop {
            if self.done {
                return Ok(None);
            }
            let p = std::mem::take(&mut self.pending);
            self.consume(p);
            if !self.fill(1)? {
                return self.finish();
            }
            let be = match self.format {
                Format::Pcap {
                    big_endian,
                    nanos,
                    rec_hdr,
                    linktype,
                    snaplen,
                } => return self.next_pcap(big_endian, nanos, rec_hdr, linktype, snaplen),
                Format::Pcapng { big_endian } => big_endian,
            };
            if !self.fill(8)? {
                return self.truncated();
            }
            let mut be = be;
            let btype_le = rd_u32(self.data(), 0, false);
            if btype_le == SHB_TYPE {
                if !self.fill(12)? {
                    return self.truncated();
                }
                be = match self.data()[8..12] {
                    [0x4d, 0x3c, 0x2b, 0x1a] => false,
                    [0x1a, 0x2b, 0x3c, 0x4d] => true,
                    _ => return self.corrupt("section header with a bad byte-order magic".into()),
                };
            }
            let btype = rd_u32(self.data(), 0, be);
            let len = rd_u32(self.data(), 4, be) as usize;
            if len < 12 || !len.is_multiple_of(4) || len > MAX_RECORD {
                return self.corrupt(format!(
                    "block of type {btype:#x} has impossible length {len}"
                ));
            }
            if !self.fill(len)? {
                return self.truncated();
            }
            if rd_u32(self.data(), len - 4, be) as usize != len {
                return self.corrupt(format!(
                    "block of type {btype:#x}: trailing length does not match {len}"
                ));
            }
            self.pending = len;
            let body = &self.buf[self.start + 8..self.start + len - 4];
            match btype {
                SHB_TYPE => {
                    if body.len() < 16 {
                        return self.corrupt("section header block too short".into());
                    }
                    let (major, minor) = (rd_u16(body, 4, be), rd_u16(body, 6, be));
                    // Wireshark and libpcap accept 1.0 and 1.2 only.
                    if major != 1 || !(minor == 0 || minor == 2) {
                        return self.corrupt(format!(
                            "section header with unsupported version {major}.{minor}"
                        ));
                    }
                    self.format = Format::Pcapng { big_endian: be };
                    self.interfaces.clear();
                }
                IDB_TYPE => {
                    let block = &self.buf[self.start..self.start + len];
                    let parsed = if be {
                        pcap_parser::parse_interfacedescriptionblock_be(block)
                    } else {
                        pcap_parser::parse_interfacedescriptionblock_le(block)
                    };
                    let iface = match parsed {
                        Ok((_, idb)) => {
                            // pcap-parser decodes if_tsoffset as little-endian
                            // whatever the section's byte order; redo it.
                            let tsoffset = idb
                                .options
                                .iter()
                                .find(|o| o.code == pcap_parser::OptionCode::IfTsoffset)
                                .and_then(|o| o.value().get(..8))
                                .map(|v| {
                                    let a: [u8; 8] = v.try_into().expect("8 bytes");
                                    if be {
                                        i64::from_be_bytes(a)
                                    } else {
                                        i64::from_le_bytes(a)
                                    }
                                })
                                .unwrap_or(0);
                            let mut tsresol = idb.if_tsresol;
                            if !usable_tsresol(tsresol) {
                                self.warnings.push(format!(
                                    "interface {} (byte offset {}) has an unusable timestamp \
                                     resolution (if_tsresol {tsresol:#04x}); its timestamps \
                                     are read as microseconds",
                                    self.interfaces.len(),
                                    self.offset
                                ));
                                tsresol = 6;
                            }
                            Interface {
                                linktype: idb.linktype.0 as u32 & 0xFFFF,
                                snaplen: idb.snaplen,
                                tsresol,
                                tsoffset,
                            }
                        }
                        Err(_) => {
                            return self.corrupt("unparseable interface description block".into());
                        }
                    };
                    self.interfaces.push(iface);
                }
                EPB_TYPE | OPB_TYPE => {
                    if body.len() < 20 {
                        return self.corrupt("packet block too short".into());
                    }
                    let if_id = if btype == EPB_TYPE {
                        rd_u32(body, 0, be)
                    } else {
                        u32::from(rd_u16(body, 0, be))
                    };
                    let units =
                        (u64::from(rd_u32(body, 4, be)) << 32) | u64::from(rd_u32(body, 8, be));
                    let caplen = rd_u32(body, 12, be) as usize;
                    let orig_len = rd_u32(body, 16, be);
                    if caplen > body.len() - 20 {
                        return self.corrupt(format!(
                            "packet block claims {caplen} captured bytes but holds {}",
                            body.len() - 20
                        ));
                    }
                    let Some(iface) = self.interfaces.get(if_id as usize).copied() else {
                        self.undefined_interface(if_id);
                        continue;
                    };
                    let ts = pcapng_ts(units, iface.tsresol, iface.tsoffset);
                    return Ok(Some(self.frame(ts, iface.linktype, orig_len, 28, caplen)));
                }
                SPB_TYPE => {
                    if body.len() < 4 {
                        return self.corrupt("simple packet block too short".into());
                    }
                    let orig_len = rd_u32(body, 0, be);
                    let Some(iface) = self.interfaces.first().copied() else {
                        self.undefined_interface(0);
                        continue;
                    };
                    let mut caplen = (body.len() - 4).min(orig_len as usize);
                    if iface.snaplen != 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    let ts = self.last_ts;
                    return Ok(Some(self.frame(ts, iface.linktype, orig_len, 12, caplen)));
                }
                // Wireshark shows custom blocks and systemd journal entries
                // as records with their own frame numbers: skip them, but
                // keep our numbering in step with Wireshark's.
                CB_COPY_TYPE | CB_NOCOPY_TYPE | SJE_TYPE => self.frames += 1,
                _ => {}
            }
        }
    }
}

impl PacketSource for CaptureReader {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        self.next_frame_inner()
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn bytes_read(&self) -> Option<u64> {
        Some(self.offset)
    }

    fn handoff(&mut self) -> Option<&mut dyn Handoff> {
        Some(self)
    }

    fn format(&self) -> String {
        match self.format {
            Format::Pcap {
                big_endian,
                nanos,
                rec_hdr,
                ..
            } => format!(
                "pcap ({}{}, {})",
                if rec_hdr == 24 { "modified, " } else { "" },
                if nanos { "nanosecond" } else { "microsecond" },
                if big_endian {
                    "big-endian"
                } else {
                    "little-endian"
                }
            ),
            Format::Pcapng { .. } => "pcapng".to_string(),
        }
    }
}

impl Handoff for CaptureReader {
    fn enable(&mut self) {
        self.handoff = true;
    }

    fn current(&self) -> (usize, u64) {
        (self.buf.as_ptr() as usize, self.generation)
    }

    fn take_detached(&mut self) -> Option<Vec<u8>> {
        self.detached.take()
    }

    fn detach_now(&mut self) {
        if self.handoff && self.detached.is_none() {
            // The record returned last is still unconsumed (`pending`): it
            // is copied with the tail and skipped there on the next call.
            self.detach(0);
        }
    }

    fn take_current(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        self.keep_spare(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn open(bytes: Vec<u8>) -> Result<Box<dyn PacketSource>, SourceError> {
        open_reader(Cursor::new(bytes))
    }

    /// (number, ts ns, linktype, orig_len, data) of every frame, then the warnings.
    type Rows = Vec<(u64, i64, u32, u32, Vec<u8>)>;

    fn read_all(src: &mut dyn PacketSource) -> Rows {
        let mut out = Vec::new();
        while let Some(f) = src.next_frame().expect("no error") {
            out.push((f.number, f.ts.0, f.linktype, f.orig_len, f.data.to_vec()));
        }
        // Stays at the end.
        assert!(src.next_frame().unwrap().is_none());
        out
    }

    fn u16b(v: u16, be: bool) -> [u8; 2] {
        if be { v.to_be_bytes() } else { v.to_le_bytes() }
    }
    fn u32b(v: u32, be: bool) -> [u8; 4] {
        if be { v.to_be_bytes() } else { v.to_le_bytes() }
    }

    fn pcap_header(be: bool, nanos: bool, linktype: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&u32b(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }, be));
        v.extend_from_slice(&u16b(2, be));
        v.extend_from_slice(&u16b(4, be));
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&u32b(65535, be));
        v.extend_from_slice(&u32b(linktype, be));
        v
    }

    fn pcap_record(be: bool, secs: u32, frac: u32, orig: u32, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&u32b(secs, be));
        v.extend_from_slice(&u32b(frac, be));
        v.extend_from_slice(&u32b(data.len() as u32, be));
        v.extend_from_slice(&u32b(orig, be));
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn pcap_all_four_magics() {
        for be in [false, true] {
            for nanos in [false, true] {
                let mut f = pcap_header(be, nanos, 113);
                f.extend(pcap_record(be, 1_700_000_000, 123_456, 1500, b"abc"));
                f.extend(pcap_record(be, 1_700_000_001, 999, 3, b"def"));
                let mut src = open(f).unwrap();
                assert_eq!(
                    src.format(),
                    format!(
                        "pcap ({}, {})",
                        if nanos { "nanosecond" } else { "microsecond" },
                        if be { "big-endian" } else { "little-endian" }
                    )
                );
                let rows = read_all(src.as_mut());
                let mult = if nanos { 1 } else { 1000 };
                assert_eq!(
                    rows,
                    vec![
                        (
                            1,
                            1_700_000_000_000_000_000 + 123_456 * mult,
                            113,
                            1500,
                            b"abc".to_vec()
                        ),
                        (
                            2,
                            1_700_000_001_000_000_000 + 999 * mult,
                            113,
                            3,
                            b"def".to_vec()
                        ),
                    ]
                );
                assert!(src.warnings().is_empty());
            }
        }
    }

    #[test]
    fn pcap_truncated_last_record_is_a_warning() {
        let mut f = pcap_header(false, false, 1);
        f.extend(pcap_record(false, 1, 2, 60, &[1; 60]));
        let second_at = f.len();
        f.extend(pcap_record(false, 3, 4, 60, &[2; 60]));
        for cut in [second_at + 1, second_at + 16, f.len() - 1] {
            let mut src = open(f[..cut].to_vec()).unwrap();
            let rows = read_all(src.as_mut());
            assert_eq!(rows.len(), 1);
            assert_eq!(
                src.warnings(),
                [format!(
                    "capture truncated at byte offset {second_at}: last record incomplete"
                )]
            );
        }
        // Header only: no frames, no warning.
        let mut src = open(pcap_header(false, false, 1)).unwrap();
        assert!(read_all(src.as_mut()).is_empty());
        assert!(src.warnings().is_empty());
    }

    #[test]
    fn pcap_impossible_record_length() {
        let mut f = pcap_header(false, false, 1);
        f.extend(pcap_record(false, 1, 2, 60, &[1; 60]));
        let bad_at = f.len();
        let mut bad = pcap_record(false, 3, 4, 60, &[]);
        bad[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        f.extend(bad);
        f.extend([0; 100]);
        let mut src = open(f.clone()).unwrap();
        assert_eq!(read_all(src.as_mut()).len(), 1);
        assert_eq!(src.warnings().len(), 1);
        assert!(
            src.warnings()[0].contains(&format!("byte offset {bad_at}")),
            "{:?}",
            src.warnings()
        );
        // With no frame before it, it is an error.
        let mut f = pcap_header(false, false, 1);
        let mut bad = pcap_record(false, 3, 4, 60, &[]);
        bad[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        f.extend(bad);
        let mut src = open(f).unwrap();
        assert!(matches!(
            src.next_frame(),
            Err(SourceError::Corrupt { offset: 24, .. })
        ));
    }

    #[test]
    fn not_a_capture() {
        assert!(matches!(open(vec![]), Err(SourceError::NotACapture(s)) if s == "empty file"));
        assert!(matches!(
            open(vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
            Err(SourceError::Unsupported(s)) if s.contains("gzip") && s.contains("decompress")
        ));
        assert!(matches!(
            open(b"hello, this is text\n".to_vec()),
            Err(SourceError::NotACapture(s)) if s.contains("text")
        ));
        let mut x: u32 = 12345;
        let random: Vec<u8> = (0..4096)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8 | 0x80
            })
            .collect();
        assert!(matches!(open(random), Err(SourceError::NotACapture(_))));
        assert!(matches!(
            open(vec![0xd4, 0xc3]),
            Err(SourceError::NotACapture(_))
        ));
        // A pcap header cut short is an error, not an empty capture.
        let h = pcap_header(false, false, 1);
        assert!(matches!(
            open(h[..20].to_vec()),
            Err(SourceError::Corrupt { offset: 0, .. })
        ));
    }

    // ---- pcapng ----

    fn block(be: bool, btype: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let len = (body.len() + 12) as u32;
        let mut v = Vec::new();
        v.extend_from_slice(&u32b(btype, be));
        v.extend_from_slice(&u32b(len, be));
        v.extend_from_slice(&body);
        v.extend_from_slice(&u32b(len, be));
        v
    }

    fn shb(be: bool) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&u32b(0x1a2b_3c4d, be));
        b.extend_from_slice(&u16b(1, be));
        b.extend_from_slice(&u16b(0, be));
        b.extend_from_slice(&[0xff; 8]);
        block(be, SHB_TYPE, &b)
    }

    fn opt(be: bool, code: u16, val: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&u16b(code, be));
        v.extend_from_slice(&u16b(val.len() as u16, be));
        v.extend_from_slice(val);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    }

    fn idb(be: bool, linktype: u16, tsresol: Option<u8>, tsoffset: Option<i64>) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&u16b(linktype, be));
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&u32b(0, be));
        if let Some(r) = tsresol {
            b.extend(opt(be, 9, &[r]));
        }
        if let Some(o) = tsoffset {
            let bytes = if be { o.to_be_bytes() } else { o.to_le_bytes() };
            b.extend(opt(be, 14, &bytes));
        }
        if tsresol.is_some() || tsoffset.is_some() {
            b.extend(opt(be, 0, &[]));
        }
        block(be, IDB_TYPE, &b)
    }

    fn epb(be: bool, if_id: u32, ts: u64, orig: u32, data: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&u32b(if_id, be));
        b.extend_from_slice(&u32b((ts >> 32) as u32, be));
        b.extend_from_slice(&u32b(ts as u32, be));
        b.extend_from_slice(&u32b(data.len() as u32, be));
        b.extend_from_slice(&u32b(orig, be));
        b.extend_from_slice(data);
        block(be, EPB_TYPE, &b)
    }

    fn opb(be: bool, if_id: u16, ts: u64, orig: u32, data: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&u16b(if_id, be));
        b.extend_from_slice(&u16b(0, be));
        b.extend_from_slice(&u32b((ts >> 32) as u32, be));
        b.extend_from_slice(&u32b(ts as u32, be));
        b.extend_from_slice(&u32b(data.len() as u32, be));
        b.extend_from_slice(&u32b(orig, be));
        b.extend_from_slice(data);
        block(be, OPB_TYPE, &b)
    }

    fn spb(be: bool, orig: u32, data: &[u8]) -> Vec<u8> {
        let mut b = u32b(orig, be).to_vec();
        b.extend_from_slice(data);
        block(be, SPB_TYPE, &b)
    }

    const T0: u64 = 1_700_000_000;

    #[test]
    fn pcapng_interfaces_blocks_and_sections() {
        let mut f = shb(false);
        f.extend(idb(false, 1, None, None)); // if 0: Ethernet, µs (default)
        f.extend(idb(false, 276, Some(9), None)); // if 1: SLL2, ns
        f.extend(epb(false, 0, T0 * 1_000_000 + 5, 60, &[0xE0; 5]));
        f.extend(epb(false, 1, T0 * 1_000_000_000 + 7, 7, &[0xE1; 7]));
        f.extend(block(false, 0x0000_0777, &[1, 2, 3, 4])); // unknown block
        f.extend(block(false, 5, &[0; 8])); // ISB-shaped block, skipped
        f.extend(spb(false, 3, &[0x5B; 3])); // padded to 4 in the file
        f.extend(opb(false, 0, T0 * 1_000_000 + 9, 100, &[0x0B; 9]));
        f.extend(epb(false, 5, 0, 1, &[0])); // undefined interface
        f.extend(block(false, CB_COPY_TYPE, &[0, 0, 0x7e, 0xd9, 1])); // custom block
        // Second section, big-endian, with a 2^-10 interface and an offset.
        f.extend(shb(true));
        f.extend(idb(true, 101, Some(0x80 | 10), Some(100)));
        f.extend(epb(true, 0, 3 * 1024 + 512, 2, &[0x45, 0]));
        f.extend(epb(true, 1, 0, 1, &[0])); // interface 1 of section 1 is gone
        let mut src = open(f).unwrap();
        assert_eq!(src.format(), "pcapng");
        let rows = read_all(src.as_mut());
        let t0 = T0 as i64 * 1_000_000_000;
        assert_eq!(
            rows,
            vec![
                (1, t0 + 5_000, 1, 60, vec![0xE0; 5]),
                (2, t0 + 7, 276, 7, vec![0xE1; 7]),
                (3, t0 + 7, 1, 3, vec![0x5B; 3]),
                (4, t0 + 9_000, 1, 100, vec![0x0B; 9]),
                // Frame 5 is the custom block, as in Wireshark.
                (6, 103_500_000_000, 101, 2, vec![0x45, 0]),
            ]
        );
        let w = src.warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("undefined interface 5"));
        assert!(w[1].contains("2 packet blocks"));
    }

    /// What a source gives: every frame, how it ended, the warnings, the
    /// format and the bytes read.
    type Drained = (Rows, Option<String>, Vec<String>, String, Option<u64>);

    fn drain(src: &mut dyn PacketSource) -> Drained {
        let mut rows: Rows = Vec::new();
        let end = loop {
            match src.next_frame() {
                Ok(Some(f)) => {
                    rows.push((f.number, f.ts.0, f.linktype, f.orig_len, f.data.to_vec()))
                }
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
        };
        (
            rows,
            end,
            src.warnings().to_vec(),
            src.format(),
            src.bytes_read(),
        )
    }

    /// [`drain`] with the buffers handed over, as the file analysis reads:
    /// each frame's bytes are taken from the buffer it was in, by offset,
    /// once that buffer is detached (and it is then given back for reuse,
    /// its old bytes in it).
    fn drain_handed_over(src: &mut dyn PacketSource, detach_every: Option<usize>) -> Drained {
        src.handoff()
            .expect("a reader hands its buffers over")
            .enable();
        type Placed = (u64, i64, u32, u32, usize, usize);
        let flush = |buf: &[u8], pending: &mut Vec<Placed>, rows: &mut Rows| {
            for (n, t, l, o, at, len) in pending.drain(..) {
                rows.push((n, t, l, o, buf[at..at + len].to_vec()));
            }
        };
        let (mut rows, mut pending): (Rows, Vec<Placed>) = (Vec::new(), Vec::new());
        let mut generation = 0;
        let end = loop {
            match src.next_frame() {
                Ok(Some(f)) => {
                    let (n, t, l, o) = (f.number, f.ts.0, f.linktype, f.orig_len);
                    let (at, len) = (f.data.as_ptr() as usize, f.data.len());
                    let h = src.handoff().unwrap();
                    let (base, g) = h.current();
                    if g != generation {
                        generation = g;
                        let old = h.take_detached().expect("the buffer detached");
                        flush(&old, &mut pending, &mut rows);
                        h.recycle(old);
                    }
                    pending.push((n, t, l, o, at - base, len));
                    // As at the batch's frame cap: a new buffer now.
                    if detach_every.is_some_and(|k| pending.len().is_multiple_of(k)) {
                        h.detach_now();
                    }
                }
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
        };
        let h = src.handoff().unwrap();
        let last = h.take_detached().unwrap_or_else(|| h.take_current());
        flush(&last, &mut pending, &mut rows);
        (
            rows,
            end,
            src.warnings().to_vec(),
            src.format(),
            src.bytes_read(),
        )
    }

    /// `bytes` read with the buffers handed over and read plainly give the
    /// same frames, warnings, format and error.
    fn handed_over_and_read_agree(bytes: Vec<u8>) {
        let read = drain(open(bytes.clone()).unwrap().as_mut());
        for detach_every in [None, Some(5)] {
            let mut handed = open(bytes.clone()).unwrap();
            let got = drain_handed_over(handed.as_mut(), detach_every);
            assert!(!got.0.is_empty());
            assert_eq!(got, read, "detached every {detach_every:?} frames");
        }
    }

    /// A block claiming 200 MiB, with the file ending soon after: the
    /// buffers handed over grow only as real bytes arrive.
    #[test]
    fn a_huge_claimed_block_allocates_only_what_arrives() {
        let mut f = shb(false);
        f.extend(idb(false, 1, Some(9), None));
        let mut i = 0u64;
        while f.len() < 3 * INITIAL_BUFFER {
            f.extend(epb(false, 0, i, 1000, &[7; 1000]));
            i += 1;
        }
        f.extend(EPB_TYPE.to_le_bytes());
        f.extend((200u32 << 20).to_le_bytes());
        // More than a buffer of its bytes, then the end.
        f.extend(vec![0u8; 3 * INITIAL_BUFFER / 2]);
        let mut src = open(f).unwrap();
        src.handoff().unwrap().enable();
        let (mut frames, mut largest) = (0, 0);
        while src.next_frame().unwrap().is_some() {
            frames += 1;
            if let Some(b) = src.handoff().unwrap().take_detached() {
                largest = largest.max(b.len());
            }
        }
        let h = src.handoff().unwrap();
        for b in [h.take_detached(), Some(h.take_current())]
            .into_iter()
            .flatten()
        {
            largest = largest.max(b.len());
        }
        assert_eq!(frames, i);
        assert!(src.warnings()[0].contains("truncated"));
        // 1.5 MiB arrived: buffers doubled up to 2 or 4 MiB, not 200.
        assert!(largest <= 4 * INITIAL_BUFFER, "a buffer of {largest} bytes");
    }

    #[test]
    fn handed_over_buffers_hold_the_frames_read() {
        // Many buffers' worth, records of all sizes across their ends.
        let payload: Vec<u8> = (0..1500u32).map(|i| i as u8).collect();
        for be in [false, true] {
            let mut f = pcap_header(be, true, 1);
            let mut i = 0u32;
            while f.len() < 3 * INITIAL_BUFFER + 5 * HANDOFF_BUFFER / 2 {
                let len = 60 + (i as usize * 7) % 1400;
                f.extend(pcap_record(
                    be,
                    T0 as u32 + i,
                    i,
                    len as u32 + 4,
                    &payload[..len],
                ));
                i += 1;
            }
            handed_over_and_read_agree(f.clone());
            // Cut inside the last record: a warning, the same either way.
            f.truncate(f.len() - 100);
            handed_over_and_read_agree(f);
        }
        let mut f = shb(false);
        f.extend(idb(false, 1, Some(9), None));
        let mut i = 0u64;
        while f.len() < 2 * INITIAL_BUFFER + 3 * HANDOFF_BUFFER {
            f.extend(epb(
                false,
                0,
                T0 * 1_000_000_000 + i,
                1500,
                &payload[..(i as usize % 1500)],
            ));
            i += 1;
        }
        handed_over_and_read_agree(f.clone());
        // A corrupt block length after many good blocks.
        f.extend(block(false, EPB_TYPE, &[0; 40]));
        let n = f.len();
        f[n - 4..].copy_from_slice(&7u32.to_le_bytes());
        handed_over_and_read_agree(f);
        // Records larger than a buffer, between small ones: a buffer is
        // detached twice while one record is read.
        let big = vec![0x42u8; 3 * INITIAL_BUFFER + 5];
        let mut f = pcap_header(false, true, 1);
        f[16..20].copy_from_slice(&(big.len() as u32).to_le_bytes());
        for i in 0..200u32 {
            f.extend(pcap_record(false, 1, i, 900, &payload[..900]));
        }
        f.extend(pcap_record(false, 1, 1, big.len() as u32, &big));
        for i in 0..3000u32 {
            f.extend(pcap_record(false, 2, i, 700, &payload[..700]));
        }
        f.extend(pcap_record(false, 3, 1, big.len() as u32, &big));
        handed_over_and_read_agree(f);
        // A big record whose header straddles the end of the first buffer:
        // detached for the header, then again for the record.
        let mut f = pcap_header(false, true, 1);
        f[16..20].copy_from_slice(&(big.len() as u32).to_le_bytes());
        let filler = vec![7u8; 1000];
        for i in 0..1000u32 {
            f.extend(pcap_record(false, 1, i, 1000, &filler));
        }
        let rest = INITIAL_BUFFER - 8 - f.len() - 16;
        f.extend(pcap_record(false, 1, 1, rest as u32, &vec![9u8; rest]));
        assert_eq!(f.len(), INITIAL_BUFFER - 8);
        f.extend(pcap_record(false, 2, 1, big.len() as u32, &big));
        f.extend(pcap_record(false, 3, 1, 5, &[1; 5]));
        handed_over_and_read_agree(f);
    }

    #[test]
    fn pcapng_truncated_and_corrupt() {
        let mut f = shb(false);
        f.extend(idb(false, 1, None, None));
        f.extend(epb(false, 0, 1, 4, &[1, 2, 3, 4]));
        let at = f.len();
        f.extend(epb(false, 0, 2, 4, &[5, 6, 7, 8]));
        let mut src = open(f[..f.len() - 2].to_vec()).unwrap();
        assert_eq!(read_all(src.as_mut()).len(), 1);
        assert_eq!(
            src.warnings(),
            [format!(
                "capture truncated at byte offset {at}: last record incomplete"
            )]
        );
        // Trailing length mismatch in the middle.
        let mut g = f.clone();
        let n = g.len();
        g[n - 4] ^= 0x40;
        g.extend(epb(false, 0, 3, 1, &[9]));
        let mut src = open(g).unwrap();
        assert_eq!(read_all(src.as_mut()).len(), 1);
        assert!(src.warnings()[0].contains(&format!("corrupt at byte offset {at}")));
        // EPB caplen larger than the block.
        let mut h = shb(false);
        h.extend(idb(false, 1, None, None));
        let mut bad = epb(false, 0, 1, 4, &[1, 2, 3, 4]);
        bad[20..24].copy_from_slice(&1000u32.to_le_bytes());
        h.extend(bad);
        let mut src = open(h).unwrap();
        assert!(matches!(src.next_frame(), Err(SourceError::Corrupt { .. })));
    }

    #[test]
    fn pcapng_timestamp_resolutions_never_overflow() {
        assert_eq!(pcapng_ts(1_500_000, 6, 0), Ts(1_500_000_000));
        assert_eq!(pcapng_ts(15, 1, 0), Ts(1_500_000_000));
        assert_eq!(pcapng_ts(1_500_000_000_000, 12, 0), Ts(1_500_000_000));
        assert_eq!(pcapng_ts(3, 0x81, 0), Ts(1_500_000_000));
        assert_eq!(pcapng_ts(1 << 32, 0x80 | 32, -1), Ts(0));
        // Hostile values: 10^-30, 10^-127, 2^-63, 2^-127, 2^0, huge offsets.
        assert_eq!(pcapng_ts(u64::MAX, 30, 0), Ts(0));
        assert_eq!(pcapng_ts(u64::MAX, 127, 0), Ts(0));
        assert_eq!(pcapng_ts(u64::MAX, 0x80 | 63, 0), Ts(1_999_999_999));
        assert_eq!(pcapng_ts(u64::MAX, 0xFF, 0), Ts(0));
        assert_eq!(pcapng_ts(u64::MAX, 0x80, 0), Ts(i64::MAX));
        assert_eq!(pcapng_ts(u64::MAX, 0, i64::MAX), Ts(i64::MAX));
        assert_eq!(pcapng_ts(0, 6, i64::MIN), Ts(i64::MIN));
    }

    #[test]
    fn reads_through_a_pipe_one_byte_at_a_time() {
        /// A reader that hands out one byte per read, like a slow pipe.
        struct Trickle(Vec<u8>, usize);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.1 >= self.0.len() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[self.1];
                self.1 += 1;
                Ok(1)
            }
        }
        let mut f = shb(false);
        f.extend(idb(false, 1, Some(9), None));
        for i in 0..3u64 {
            f.extend(epb(false, 0, i, 3, &[i as u8; 3]));
        }
        let mut src = open_reader(Trickle(f, 0)).unwrap();
        let rows = read_all(src.as_mut());
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2], (3, 2, 1, 3, vec![2; 3]));
    }

    #[test]
    fn large_records_grow_the_buffer() {
        let big = vec![0x42u8; 3 * INITIAL_BUFFER + 5];
        let mut f = pcap_header(false, true, 1);
        // Records larger than 256 KiB need a snaplen that allows them.
        f[16..20].copy_from_slice(&(big.len() as u32).to_le_bytes());
        f.extend(pcap_record(false, 1, 1, big.len() as u32, &big));
        f.extend(pcap_record(false, 1, 2, 1, &[1]));
        let mut src = open(f).unwrap();
        let rows = read_all(src.as_mut());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].4.len(), big.len());
    }
}
