//! The listed connections of the default table, kept as the text it prints
//! and spilled to a temporary file, so that memory does not grow with the
//! capture.
//!
//! The default output (`tcptriage analyze FILE`) lists every failed
//! connection by id, in a table whose columns are as wide as their widest
//! cell, then the Evidence section. Holding each listed connection's
//! report until the end made memory grow with the file's length (55 852
//! failures: 59 MiB even stripped). [`TableRows`] keeps, per connection,
//! only what is printed (the 12 cells with their widths, and the Evidence
//! text) and what `--write-failed` needs (endpoints and frame span),
//! encoded in one byte buffer. Past a bound the buffer is sorted by id and
//! written as a *run* to an unlinked temporary file; column widths are
//! tracked as rows arrive.
//! Reading merges the runs by id (a k-way merge, one bounded buffer per
//! run), once per pass: the table, the Evidence section, `--write-failed`.
//!
//! Memory: the buffer (`memory` bytes, 4 MiB by default, index included),
//! plus at most [`MERGE_BUFFERS`] of read buffers while merging, plus one
//! row per run, plus, once read, a sorted copy of the index of the rows in
//! memory (16 bytes a row). Past `max_runs` runs (256 by default, 1 GiB of
//! rows) the runs are merged into one in a new file, so the number of
//! runs, and of read buffers, stays bounded whatever the capture; each
//! such merge rewrites the rows so far, which only happens beyond 1 GiB of
//! rows.
//!
//! Disk errors (no temporary directory, disk full) are returned as
//! [`io::Error`]s that say what failed; the file is deleted when the
//! [`TableRows`] is dropped (it is unlinked as soon as it is created).

use super::ConnectionReport;
use super::cells::{COLUMNS, each_cell, width, write_evidence_text};
#[cfg(test)]
use super::cells::{cells, evidence_text};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The rows kept in memory before they are written out as a run.
pub const DEFAULT_MEMORY: usize = 4 << 20;

/// Runs kept before they are merged into one.
pub const DEFAULT_MAX_RUNS: usize = 256;

/// The read buffers of a merge, all runs together (each gets a share, at
/// least [`MIN_RUN_BUFFER`]).
pub const MERGE_BUFFERS: usize = 8 << 20;

const MIN_RUN_BUFFER: usize = 4 << 10;
const MAX_RUN_BUFFER: usize = 1 << 20;

/// Bytes of the in-memory index per row, counted against the bound.
const INDEX_ENTRY: usize = std::mem::size_of::<(u64, usize)>();

/// The listed connections of a default table, in the order of their ids.
pub struct TableRows {
    memory: usize,
    max_runs: usize,
    /// [`MERGE_BUFFERS`] (smaller in tests).
    merge_buffers: usize,
    /// Where the temporary file goes (default: [`std::env::temp_dir`]).
    dir: Option<PathBuf>,
    /// Encoded rows not yet written out, in arrival order.
    buf: Vec<u8>,
    /// (id, offset in `buf`) of each of them.
    index: Vec<(u64, usize)>,
    /// `index` sorted by id, once read (each pass read it again, sorting
    /// a copy every time); emptied when a row is pushed.
    sorted: OnceLock<Vec<(u64, usize)>>,
    /// One row being encoded.
    scratch: Vec<u8>,
    /// One cell, or one Evidence text, being formatted.
    text: String,
    spill: Option<Spill>,
    widths: [usize; COLUMNS],
    len: u64,
    /// Why a row could not be kept, as a sink ([`super::ConnectionSink`]).
    pub(crate) failed: Option<std::io::Error>,
}

impl std::fmt::Debug for TableRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableRows")
            .field("len", &self.len)
            .field("in_memory", &self.index.len())
            .field("runs", &self.spill.as_ref().map_or(0, |s| s.runs.len()))
            .finish()
    }
}

impl Default for TableRows {
    fn default() -> Self {
        TableRows::new()
    }
}

/// The temporary file and the runs in it.
struct Spill {
    file: File,
    runs: Vec<Run>,
    /// Where the next run goes.
    end: u64,
}

/// Sorted rows at `start..start + len` of the file.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u64,
    len: u64,
}

/// One row as read back: borrowed from the buffer it was decoded from.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    pub id: u64,
    /// The verdict is a failure ([`crate::verdict::VerdictKind::is_failure`]):
    /// `--write-failed` copies its packets.
    pub failure: bool,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_frame: u64,
    pub last_frame: u64,
    /// The cells and the Evidence text are bytes as they were written
    /// (from `&str`s) and as they are printed: not checked as UTF-8 again
    /// on every pass (that was a quarter of printing a large table).
    pub cells: [&'a [u8]; COLUMNS],
    /// The width of each cell as stored (u16 each): [`WIDE`] for one to
    /// measure again (see [`Row::widths`]).
    widths: &'a [u8],
    /// Its text in the Evidence section (connections that are not `ok`).
    pub evidence: Option<&'a [u8]>,
}

impl Row<'_> {
    /// The columns each cell takes on a terminal: [`width`] of the cell,
    /// measured once when the row was pushed rather than on every row
    /// printed (it decodes UTF-8 and looks up every character of a cell
    /// that is not ASCII, such as the `→` of each connection). A cell of
    /// [`WIDE`] columns or more is measured again here.
    pub fn widths(&self) -> [usize; COLUMNS] {
        std::array::from_fn(|i| match self.widths.get(2 * i..2 * i + 2) {
            Some(&[a, b]) if u16::from_le_bytes([a, b]) != WIDE => {
                usize::from(u16::from_le_bytes([a, b]))
            }
            _ => width(self.cells[i]),
        })
    }
}

const FAILURE: u8 = 1;
const EVIDENCE: u8 = 2;
/// The client's (server's) address is IPv4, stored IPv4-mapped.
const CLIENT_V4: u8 = 4;
const SERVER_V4: u8 = 8;

/// A stored cell width that says "this wide or wider: measure the cell
/// again". Widths are kept in 16 bits; a cell that wide (a very long
/// explanation, say) is rare enough to be measured on every pass.
const WIDE: u16 = u16::MAX;

// A row: u32 length of the rest, then u64 id, u8 flags, u16 client port,
// u16 server port, the client and server IPs (16 bytes each, IPv4 mapped
// into IPv6, flagged), u64 first frame, u64 last frame, 12 u16 cell widths
// (`width` of each cell, or WIDE when that is WIDE or more), then the 12
// cells and Evidence text, each as u32 length + UTF-8. Numbers
// little-endian.
const FIXED: usize = 8 + 1 + 2 + 2 + 16 + 16 + 8 + 8 + 2 * COLUMNS;
const STRINGS: usize = COLUMNS + 1;

fn put_str(out: &mut Vec<u8>, s: &str) -> io::Result<()> {
    let n = u32::try_from(s.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "table cell over 4 GiB"))?;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

#[cold]
fn corrupt(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the temporary file of the table's rows is corrupt ({what})"),
    )
}

/// A u32 length and that many bytes, from the front of `rec`.
#[inline]
fn take_bytes<'a>(rec: &mut &'a [u8]) -> io::Result<&'a [u8]> {
    let Some((n, rest)) = rec.split_first_chunk::<4>() else {
        return Err(corrupt("short row"));
    };
    let n = u32::from_le_bytes(*n) as usize;
    if rest.len() < n {
        return Err(corrupt("short row"));
    }
    let (a, b) = rest.split_at(n);
    *rec = b;
    Ok(a)
}

/// The id of an encoded row (after its length).
fn id_of(payload: &[u8]) -> u64 {
    u64::from_le_bytes(payload[..8].try_into().expect("8 bytes"))
}

fn decode(rec: &[u8]) -> io::Result<Row<'_>> {
    // The fixed fields checked for length at once.
    let Some((fixed, mut rec)) = rec.split_first_chunk::<FIXED>() else {
        return Err(corrupt("short row"));
    };
    let (id, fixed) = fixed.split_first_chunk::<8>().expect("FIXED bytes");
    let (&[flags], fixed) = fixed.split_first_chunk::<1>().expect("FIXED bytes");
    let (client_port, fixed) = fixed.split_first_chunk::<2>().expect("FIXED bytes");
    let (server_port, fixed) = fixed.split_first_chunk::<2>().expect("FIXED bytes");
    let (client_ip, fixed) = fixed.split_first_chunk::<16>().expect("FIXED bytes");
    let (server_ip, fixed) = fixed.split_first_chunk::<16>().expect("FIXED bytes");
    let (first_frame, fixed) = fixed.split_first_chunk::<8>().expect("FIXED bytes");
    let (last_frame, widths) = fixed.split_first_chunk::<8>().expect("FIXED bytes");
    let ip = |b: &[u8; 16], v4: u8| -> IpAddr {
        let v6 = Ipv6Addr::from(*b);
        match v6.to_ipv4_mapped() {
            Some(v4addr) if flags & v4 != 0 => IpAddr::V4(v4addr),
            _ => IpAddr::V6(v6),
        }
    };
    let mut cells: [&[u8]; COLUMNS] = [&[]; COLUMNS];
    for c in &mut cells {
        *c = take_bytes(&mut rec)?;
    }
    let evidence = take_bytes(&mut rec)?;
    Ok(Row {
        id: u64::from_le_bytes(*id),
        failure: flags & FAILURE != 0,
        client: SocketAddr::new(ip(client_ip, CLIENT_V4), u16::from_le_bytes(*client_port)),
        server: SocketAddr::new(ip(server_ip, SERVER_V4), u16::from_le_bytes(*server_port)),
        first_frame: u64::from_le_bytes(*first_frame),
        last_frame: u64::from_le_bytes(*last_frame),
        cells,
        widths,
        evidence: (flags & EVIDENCE != 0).then_some(evidence),
    })
}

/// An I/O error in words, without Rust's `(os error N)` suffix.
fn reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl TableRows {
    /// Rows with the default bounds, spilled to [`std::env::temp_dir`]
    /// (`TMPDIR`) when there are many.
    pub fn new() -> TableRows {
        TableRows::with_limits(DEFAULT_MEMORY, DEFAULT_MAX_RUNS)
    }

    /// Rows kept in memory up to `memory` bytes (a run per row when tiny),
    /// at most `max_runs` runs on disk before they are merged (at least 2).
    pub fn with_limits(memory: usize, max_runs: usize) -> TableRows {
        TableRows {
            memory,
            max_runs: max_runs.max(2),
            merge_buffers: MERGE_BUFFERS,
            dir: None,
            buf: Vec::new(),
            index: Vec::new(),
            sorted: OnceLock::new(),
            scratch: Vec::new(),
            text: String::new(),
            spill: None,
            widths: [0; COLUMNS],
            len: 0,
            failed: None,
        }
    }

    /// The temporary file goes in `dir` instead of the default.
    pub fn in_dir(mut self, dir: impl Into<PathBuf>) -> TableRows {
        self.dir = Some(dir.into());
        self
    }

    /// Rows kept.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Runs on disk (for tests and diagnostics).
    pub fn runs(&self) -> usize {
        self.spill.as_ref().map_or(0, |s| s.runs.len())
    }

    /// The widest cell of each column, in terminal columns.
    pub(crate) fn widths(&self) -> [usize; COLUMNS] {
        self.widths
    }

    fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    /// The error for a failed write or read of the temporary file.
    fn disk_error(&self, doing: &str, e: io::Error) -> io::Error {
        io::Error::new(
            e.kind(),
            format!(
                "{doing} the table's rows in a temporary file in {} (set TMPDIR to another directory): {}",
                self.dir().display(),
                reason(&e)
            ),
        )
    }

    /// Adds a listed connection (the table lists those that are not `ok`,
    /// and `ok` ones an authentication gateway answered). Ids must be
    /// distinct; they may come in any order.
    pub fn push(&mut self, c: &ConnectionReport) -> io::Result<()> {
        if self.sorted.get().is_some() {
            self.sorted.take();
        }
        let evidence = c.verdict != crate::verdict::VerdictKind::Ok;
        let mut rec = std::mem::take(&mut self.scratch);
        rec.clear();
        rec.extend_from_slice(&[0; 4]);
        rec.extend_from_slice(&c.id.to_le_bytes());
        let (client, server) = (c.client(), c.server());
        let flags = if c.verdict.is_failure() { FAILURE } else { 0 }
            | if evidence { EVIDENCE } else { 0 }
            | if client.is_ipv4() { CLIENT_V4 } else { 0 }
            | if server.is_ipv4() { SERVER_V4 } else { 0 };
        rec.push(flags);
        rec.extend_from_slice(&client.port().to_le_bytes());
        rec.extend_from_slice(&server.port().to_le_bytes());
        let v6 = |ip: IpAddr| match ip {
            IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            IpAddr::V6(a) => a.octets(),
        };
        rec.extend_from_slice(&v6(client.ip()));
        rec.extend_from_slice(&v6(server.ip()));
        rec.extend_from_slice(&c.first_frame.to_le_bytes());
        rec.extend_from_slice(&c.last_frame.to_le_bytes());
        // The cells' widths, filled in once the cells are formatted.
        let widths_at = rec.len();
        rec.extend_from_slice(&[0; 2 * COLUMNS]);
        let pushed = (|| {
            // Each cell formatted in one reused buffer, not a String each;
            // measured once, for the column and for printing the row.
            let mut widths = [0u16; COLUMNS];
            let mut i = 0;
            each_cell(c, &mut self.text, &mut |cell| {
                if let (Some(max), Some(stored)) = (self.widths.get_mut(i), widths.get_mut(i)) {
                    let w = width(cell.as_bytes());
                    *max = (*max).max(w);
                    *stored = u16::try_from(w).unwrap_or(WIDE);
                }
                i += 1;
                put_str(&mut rec, cell)
            })?;
            for (at, w) in rec[widths_at..widths_at + 2 * COLUMNS]
                .chunks_exact_mut(2)
                .zip(widths)
            {
                at.copy_from_slice(&w.to_le_bytes());
            }
            self.text.clear();
            if evidence {
                write_evidence_text(&mut self.text, c);
            }
            put_str(&mut rec, &self.text)?;
            let n = u32::try_from(rec.len() - 4)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "table row over 4 GiB"))?;
            rec[..4].copy_from_slice(&n.to_le_bytes());
            // Keep the buffer within its bound: write out what is there
            // before a row that would not fit.
            let used = self.buf.len() + self.index.len() * INDEX_ENTRY;
            if !self.index.is_empty() && used + rec.len() + INDEX_ENTRY > self.memory {
                self.write_run()?;
            }
            self.index.push((c.id, self.buf.len()));
            self.buf.extend_from_slice(&rec);
            self.len += 1;
            // A row larger than the whole bound is a run of its own.
            if self.buf.len() + self.index.len() * INDEX_ENTRY > self.memory {
                self.write_run()?;
            }
            Ok(())
        })();
        self.scratch = rec;
        pushed
    }

    /// Sorts the rows in memory by id and appends them to the temporary
    /// file as a run; merges the runs into one past `max_runs`.
    fn write_run(&mut self) -> io::Result<()> {
        if self.index.is_empty() {
            return Ok(());
        }
        if self.spill.is_none() {
            self.spill = Some(self.create()?);
        }
        self.index.sort_unstable_by_key(|&(id, _)| id);
        let spill = self.spill.as_mut().expect("created above");
        let buf = &self.buf;
        let index = &self.index;
        let written = (|| {
            let mut f = &spill.file;
            f.seek(SeekFrom::Start(spill.end))?;
            let mut w = BufWriter::with_capacity(64 << 10, f);
            for &(_, at) in index {
                let n = u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes")) as usize;
                w.write_all(&buf[at..at + 4 + n])?;
            }
            w.flush()
        })();
        written.map_err(|e| self.disk_error("cannot write", e))?;
        let spill = self.spill.as_mut().expect("created above");
        let len = self.buf.len() as u64;
        spill.runs.push(Run {
            start: spill.end,
            len,
        });
        spill.end += len;
        self.buf.clear();
        self.index.clear();
        if spill.runs.len() >= self.max_runs {
            self.compact()?;
        }
        Ok(())
    }

    fn create(&self) -> io::Result<Spill> {
        let dir = self.dir();
        let file = tempfile::tempfile_in(&dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot create a temporary file for the table's rows in {} (set TMPDIR to another directory): {}",
                    dir.display(),
                    reason(&e)
                ),
            )
        })?;
        Ok(Spill {
            file,
            runs: Vec::new(),
            end: 0,
        })
    }

    /// Merges every run into one, in a new file (the old one is deleted):
    /// the number of runs, and so the merge's buffers, stay bounded.
    fn compact(&mut self) -> io::Result<()> {
        let mut next = self.create()?;
        let old = self.spill.take().expect("runs to merge");
        let merged = (|| {
            let mut f = &next.file;
            let mut w = BufWriter::with_capacity(64 << 10, &mut f);
            let mut len = 0u64;
            merge(
                Some(&old),
                Memory::NONE,
                self.merge_buffers,
                &|e| e,
                &mut |payload| {
                    w.write_all(&(payload.len() as u32).to_le_bytes())?;
                    w.write_all(payload)?;
                    len += 4 + payload.len() as u64;
                    Ok(())
                },
            )?;
            w.flush()?;
            Ok(len)
        })();
        let len = match merged {
            Ok(len) => len,
            Err(e) => {
                self.spill = Some(old);
                return Err(self.disk_error("cannot merge", e));
            }
        };
        next.runs.push(Run { start: 0, len });
        next.end = len;
        self.spill = Some(next);
        Ok(())
    }

    /// Calls `f` with every row, by id. Reads the temporary file (when
    /// there is one) from the start each time. Errors of `f` are returned
    /// as they are; errors reading the file say so.
    pub(crate) fn for_each(&self, f: &mut dyn FnMut(&Row<'_>) -> io::Result<()>) -> io::Result<()> {
        let index = self.sorted.get_or_init(|| {
            let mut index = self.index.clone();
            index.sort_unstable_by_key(|&(id, _)| id);
            index
        });
        let read_error = |e| self.disk_error("cannot read back", e);
        let mem = Memory {
            buf: &self.buf,
            index,
        };
        let mut last = None;
        merge(
            self.spill.as_ref(),
            mem,
            self.merge_buffers,
            &read_error,
            &mut |payload| {
                let row = decode(payload).map_err(read_error)?;
                if last.is_some_and(|l| row.id <= l) {
                    return Err(read_error(corrupt("rows out of order")));
                }
                last = Some(row.id);
                f(&row)
            },
        )
    }

    /// Calls `f` with the client and server endpoints and the first and
    /// last frames of every row whose verdict is a failure, by id: what
    /// `--write-failed` copies.
    pub(crate) fn for_each_failed(
        &self,
        f: &mut dyn FnMut(SocketAddr, SocketAddr, u64, u64),
    ) -> io::Result<()> {
        self.for_each(&mut |r| {
            if r.failure {
                f(r.client, r.server, r.first_frame, r.last_frame);
            }
            Ok(())
        })
    }
}

/// Rows still in memory: `index` sorted by id.
#[derive(Clone, Copy)]
struct Memory<'a> {
    buf: &'a [u8],
    index: &'a [(u64, usize)],
}

impl<'a> Memory<'a> {
    const NONE: Memory<'static> = Memory {
        buf: &[],
        index: &[],
    };

    /// The `i`th row by id, without its length.
    fn payload(&self, i: usize) -> &'a [u8] {
        let at = self.index[i].1;
        let n = u32::from_le_bytes(self.buf[at..at + 4].try_into().expect("4 bytes")) as usize;
        &self.buf[at + 4..at + 4 + n]
    }
}

/// A run of the file, read through its own position (the runs share one
/// file handle, so each read seeks first).
struct Section<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for Section<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end - self.pos;
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let mut f = self.file;
        f.seek(SeekFrom::Start(self.pos))?;
        let n = f.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the temporary file is shorter than written",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// The next row of a run.
struct RunReader<'a> {
    input: BufReader<Section<'a>>,
    len: u64,
    /// The current row (without its length) when it was not whole in the
    /// read buffer, copied.
    row: Vec<u8>,
    /// The current row is the first this many bytes of the read buffer
    /// (most rows: read there, not copied); 0: it is `row`.
    buffered: usize,
}

impl RunReader<'_> {
    /// Moves to the next row ([`RunReader::row`]); false at the end of the
    /// run.
    fn advance(&mut self) -> io::Result<bool> {
        self.input.consume(std::mem::take(&mut self.buffered));
        let section = self.input.get_ref();
        if self.input.buffer().is_empty() && section.pos == section.end {
            return Ok(false);
        }
        let mut n = [0u8; 4];
        self.input.read_exact(&mut n)?;
        let n = u32::from_le_bytes(n) as usize;
        // Never trust a length beyond the run (no huge allocation).
        if n < FIXED + 4 * STRINGS || n as u64 > self.len {
            return Err(corrupt("bad row length"));
        }
        // Refills the buffer only once it is all read.
        if self.input.fill_buf()?.len() >= n {
            self.buffered = n;
        } else {
            self.row.resize(n, 0);
            self.input.read_exact(&mut self.row)?;
        }
        Ok(true)
    }

    /// The current row, without its length.
    fn row(&self) -> &[u8] {
        match self.buffered {
            0 => &self.row,
            n => &self.input.buffer()[..n],
        }
    }
}

/// Calls `f` with the payload of every row of the runs in `spill` and of
/// `mem`, by id: a k-way merge with one read buffer per run (their sizes
/// add up to at most `buffers`, [`MERGE_BUFFERS`]).
fn merge(
    spill: Option<&Spill>,
    mem: Memory<'_>,
    buffers: usize,
    read_error: &dyn Fn(io::Error) -> io::Error,
    f: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let runs: &[Run] = spill.map_or(&[], |s| &s.runs);
    let cap = (buffers / runs.len().max(1)).clamp(MIN_RUN_BUFFER, MAX_RUN_BUFFER);
    let mut readers: Vec<RunReader<'_>> = match spill {
        Some(s) => runs
            .iter()
            .map(|r| RunReader {
                input: BufReader::with_capacity(
                    cap.min(usize::try_from(r.len).unwrap_or(usize::MAX)).max(1),
                    Section {
                        file: &s.file,
                        pos: r.start,
                        end: r.start + r.len,
                    },
                ),
                len: r.len,
                row: Vec::new(),
                buffered: 0,
            })
            .collect(),
        None => Vec::new(),
    };
    if readers.is_empty() {
        // Nothing to merge.
        for i in 0..mem.index.len() {
            f(mem.payload(i))?;
        }
        return Ok(());
    }
    // (id, source): the runs, then memory as source `readers.len()`.
    let in_memory = readers.len();
    let mut heap = BinaryHeap::with_capacity(readers.len() + 1);
    for (i, r) in readers.iter_mut().enumerate() {
        if r.advance().map_err(read_error)? {
            heap.push(Reverse((id_of(r.row()), i)));
        }
    }
    let mut next_mem = 0;
    if !mem.index.is_empty() {
        heap.push(Reverse((mem.index[0].0, in_memory)));
    }
    // The source of the lowest id gives its row, then its next id takes
    // its place at the top (one sift, not a pop and a push).
    while let Some(mut top) = heap.peek_mut() {
        let Reverse((_, i)) = *top;
        let next = if i == in_memory {
            f(mem.payload(next_mem))?;
            next_mem += 1;
            mem.index.get(next_mem).map(|&(id, _)| id)
        } else {
            let r = &mut readers[i];
            f(r.row())?;
            match r.advance().map_err(read_error)? {
                true => Some(id_of(r.row())),
                false => None,
            }
        };
        match next {
            Some(id) => *top = Reverse((id, i)),
            None => {
                PeekMut::pop(top);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{Settings, analyze_collect};
    use crate::report::Collect;

    /// Connections of a shipped capture, copied under many ids.
    /// `all` pushed with a bound that writes each row as a run of its own.
    fn one_row_per_run(all: &[ConnectionReport]) -> TableRows {
        let mut rows = TableRows::with_limits(1, 8);
        for c in all {
            rows.push(c).unwrap();
        }
        rows
    }

    fn reports(n: u64) -> Vec<ConnectionReport> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/all_failures.pcap");
        let mut src = crate::source::open_path(&path).unwrap();
        let rep =
            analyze_collect(src.as_mut(), "x", &Settings::default(), Collect::every()).unwrap();
        let base = rep.connections;
        // Ids in a scrambled order (a permutation: 7919 is prime).
        (0..n)
            .map(|i| {
                let mut c = base[(i % base.len() as u64) as usize].clone();
                c.id = (i * 7919) % n;
                c
            })
            .collect()
    }

    fn ids(rows: &TableRows) -> Vec<u64> {
        let mut v = Vec::new();
        rows.for_each(&mut |r| {
            v.push(r.id);
            Ok(())
        })
        .unwrap();
        v
    }

    #[test]
    fn rows_come_back_by_id_from_memory_runs_and_merged_runs() {
        let all = reports(1000);
        for (memory, max_runs) in [(usize::MAX, 2), (1, 1000), (1, 3), (3000, 4), (50_000, 2)] {
            let mut rows = TableRows::with_limits(memory, max_runs);
            for c in &all {
                rows.push(c).unwrap();
            }
            assert_eq!(rows.len(), 1000);
            assert_eq!(
                ids(&rows),
                (0..1000).collect::<Vec<_>>(),
                "{memory} {max_runs}"
            );
            assert!(
                rows.runs() < max_runs.max(2),
                "{memory} {max_runs}: {}",
                rows.runs()
            );
            if memory < 10_000 {
                assert!(rows.runs() >= 1);
            }
            // A second pass reads the same.
            assert_eq!(ids(&rows).len(), 1000);
        }
        assert_eq!(TableRows::with_limits(usize::MAX, 2).runs(), 0);
    }

    /// Rows are read where they are in a run's read buffer, and copied
    /// when they straddle its end: the same rows either way.
    #[test]
    fn rows_across_the_end_of_a_read_buffer_are_read_whole() {
        let all = reports(600);
        let read = |merge_buffers| {
            let mut rows = TableRows::with_limits(50_000, 1000);
            rows.merge_buffers = merge_buffers;
            for c in &all {
                rows.push(c).unwrap();
            }
            assert!(rows.runs() > 5, "{}", rows.runs());
            let mut v = Vec::new();
            rows.for_each(&mut |r| {
                v.push((
                    r.id,
                    r.cells.map(|c| c.to_vec()),
                    r.evidence.map(|e| e.to_vec()),
                ));
                Ok(())
            })
            .unwrap();
            v
        };
        // Read buffers of MIN_RUN_BUFFER (4 KiB) against runs of 50 kB:
        // rows of about a kilobyte cross their ends.
        let small = read(0);
        assert_eq!(small.len(), 600);
        assert_eq!(small, read(MERGE_BUFFERS));
        for (r, c) in small.iter().zip({
            let mut by_id: Vec<_> = all.iter().collect();
            by_id.sort_by_key(|c| c.id);
            by_id
        }) {
            assert_eq!(r.0, c.id);
            assert_eq!(r.1, cells(c).map(|s| s.into_bytes()));
        }
    }

    /// Rows pushed after a pass are read by the next one (the sorted
    /// index of the rows in memory is made again).
    #[test]
    fn rows_pushed_after_reading_are_read_too() {
        let all = reports(100);
        for memory in [usize::MAX, 3000] {
            let mut rows = TableRows::with_limits(memory, 4);
            for c in &all[..50] {
                rows.push(c).unwrap();
            }
            let mut first: Vec<u64> = all[..50].iter().map(|c| c.id).collect();
            first.sort();
            assert_eq!(ids(&rows), first);
            assert_eq!(ids(&rows), first);
            for c in &all[50..] {
                rows.push(c).unwrap();
            }
            assert_eq!(ids(&rows), (0..100).collect::<Vec<_>>(), "{memory}");
        }
    }

    #[test]
    fn a_row_keeps_what_the_table_and_write_failed_read() {
        let c = &reports(5)[1];
        let mut rows = TableRows::with_limits(1, 4);
        rows.push(c).unwrap();
        assert_eq!(rows.runs(), 1);
        let mut seen = 0;
        rows.for_each(&mut |r| {
            seen += 1;
            assert_eq!(r.id, c.id);
            assert_eq!(r.failure, c.verdict.is_failure());
            assert_eq!((r.client, r.server), (c.client(), c.server()));
            assert_eq!((r.first_frame, r.last_frame), (c.first_frame, c.last_frame));
            assert_eq!(
                r.cells.map(|c| String::from_utf8(c.to_vec()).unwrap()),
                cells(c)
            );
            assert_eq!(r.evidence, Some(evidence_text(c).as_bytes()));
            assert_eq!(r.widths(), cells(c).map(|c| width(c.as_bytes())));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, 1);
    }

    /// The widths kept with the cells are [`width`]'s, in columns, not
    /// bytes; a cell too wide for the 16 bits kept is measured again.
    #[test]
    fn a_row_keeps_the_width_of_wide_cells() {
        let mut all = reports(4);
        all[0].target = Some("例え.example".into());
        all[1].explanation = Some("délai dépassé… 😀".into());
        all[2].target = Some("é".repeat(70_000));
        all[3].target = Some("x".repeat(usize::from(WIDE) - 1));
        let rows = one_row_per_run(&all);
        assert_eq!(rows.runs(), 4);
        assert_eq!(rows.widths()[2], 70_000);
        let mut seen = 0;
        rows.for_each(&mut |r| {
            let i = all.iter().position(|c| c.id == r.id).unwrap();
            let want = cells(&all[i]).map(|c| width(c.as_bytes()));
            assert_eq!(r.widths(), want, "{}", r.id);
            // The target's, as kept.
            let stored = u16::from_le_bytes([r.widths[4], r.widths[5]]);
            match i {
                0 => assert_eq!((want[2], r.cells[2].len()), (12, 14)),
                1 => assert_eq!(want[11], 17),
                2 => assert_eq!((stored, want[2]), (WIDE, 70_000)),
                _ => assert_eq!(stored, WIDE - 1),
            }
            seen += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, 4);
    }

    #[test]
    fn an_unwritable_temporary_directory_is_an_error_that_says_where() {
        let all = reports(10);
        let mut rows = TableRows::with_limits(1, 4).in_dir("/nonexistent/tcptriage-test");
        let e = rows.push(&all[0]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("cannot create a temporary file"), "{msg}");
        assert!(msg.contains("/nonexistent/tcptriage-test"), "{msg}");
        assert!(msg.contains("TMPDIR"), "{msg}");
        assert!(!msg.contains("os error"), "{msg}");
        // Below the bound nothing touches the disk.
        let mut rows = TableRows::with_limits(1 << 20, 4).in_dir("/nonexistent/tcptriage-test");
        for c in &all {
            rows.push(c).unwrap();
        }
        assert_eq!(ids(&rows).len(), 10);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_is_an_error_not_a_panic() {
        let all = reports(10);
        let mut rows = TableRows::with_limits(1, 4);
        rows.spill = Some(Spill {
            file: File::options()
                .read(true)
                .write(true)
                .open("/dev/full")
                .unwrap(),
            runs: Vec::new(),
            end: 0,
        });
        let e = rows.push(&all[0]).unwrap_err();
        assert!(
            e.to_string().contains("cannot write the table's rows"),
            "{e}"
        );
        assert_eq!(e.kind(), io::ErrorKind::StorageFull, "{e}");
    }

    /// A width in the file that is not the cell's (a damaged file) pads
    /// the row wrongly, and nothing worse.
    #[test]
    fn a_wrong_width_is_not_a_panic() {
        let all = reports(super::super::table::STREAM_ROWS as u64 + 1);
        let mut rows = TableRows::with_limits(64 << 10, 8);
        for c in &all {
            rows.push(c).unwrap();
        }
        let spill = rows.spill.as_ref().unwrap();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/all_failures.pcap");
        let mut src = crate::source::open_path(&path).unwrap();
        let mut rep =
            analyze_collect(src.as_mut(), "x", &Settings::default(), Collect::every()).unwrap();
        rep.connections.clear();
        let table = |rows: &TableRows| {
            let mut out = Vec::new();
            super::super::write_table_rows(&mut out, &rep, rows).unwrap();
            out
        };
        let want = table(&rows);
        for bad in [[0u8; 2], [0xfe, 0xff], [0xff, 0xff]] {
            let mut f = &spill.file;
            // The first row's width of its retransmissions cell.
            let at = spill.runs[0].start + 4 + (FIXED - 2 * COLUMNS + 2 * 10) as u64;
            f.seek(SeekFrom::Start(at)).unwrap();
            f.write_all(&bad).unwrap();
            let got = table(&rows);
            if bad == [0xff, 0xff] {
                // WIDE: measured again.
                assert!(got == want);
            } else {
                assert!(got != want);
            }
        }
    }

    /// The IPs are checked as UTF-8 by the pass that reads them
    /// (`--write-failed`), and it says the file is corrupt.
    #[test]
    fn the_failed_rows_give_back_their_endpoints() {
        let all: Vec<_> = reports(20)
            .into_iter()
            .filter(|c| c.verdict.is_failure())
            .take(3)
            .collect();
        assert_eq!(all.len(), 3);
        let rows = one_row_per_run(&all);
        let mut seen = Vec::new();
        rows.for_each_failed(&mut |client, server, first, last| {
            seen.push((client, server, first, last))
        })
        .unwrap();
        let mut want: Vec<_> = all
            .iter()
            .map(|c| (c.id, (c.client(), c.server(), c.first_frame, c.last_frame)))
            .collect();
        want.sort();
        assert_eq!(seen, want.into_iter().map(|w| w.1).collect::<Vec<_>>());
    }

    #[test]
    fn ipv4_and_ipv6_endpoints_come_back_as_they_went_in() {
        let mut c = reports(1).remove(0);
        for (client, server) in [
            ("10.77.1.10:50004", "10.77.2.20:8081"),
            ("[fd77::1]:443", "10.0.0.1:1"),
            ("[::ffff:10.0.0.1]:80", "[fd77::2]:65535"),
            ("0.0.0.0:0", "[::]:0"),
        ] {
            let (client, server): (SocketAddr, SocketAddr) =
                (client.parse().unwrap(), server.parse().unwrap());
            (c.client_ip, c.client_port) = (client.ip(), client.port());
            (c.server_ip, c.server_port) = (server.ip(), server.port());
            let rows = one_row_per_run(std::slice::from_ref(&c));
            rows.for_each(&mut |r| {
                assert_eq!((r.client, r.server), (client, server));
                Ok(())
            })
            .unwrap();
        }
    }

    /// A length inside a row that goes past its end is an error.
    #[test]
    fn a_row_shorter_than_its_lengths_is_an_error() {
        let all = reports(3);
        let rows = one_row_per_run(&all);
        let spill = rows.spill.as_ref().unwrap();
        let mut f = &spill.file;
        // The length of the row's first cell.
        f.seek(SeekFrom::Start(spill.runs[1].start + 4 + FIXED as u64))
            .unwrap();
        f.write_all(&100_000u32.to_le_bytes()).unwrap();
        let e = rows.for_each(&mut |_| Ok(())).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        assert!(e.to_string().contains("corrupt (short row)"), "{e}");
    }

    #[test]
    fn a_corrupt_run_is_an_error_not_a_huge_allocation() {
        let all = reports(3);
        let rows = one_row_per_run(&all);
        let spill = rows.spill.as_ref().unwrap();
        let mut f = &spill.file;
        f.seek(SeekFrom::Start(spill.runs[1].start)).unwrap();
        f.write_all(&u32::MAX.to_le_bytes()).unwrap();
        let e = rows.for_each(&mut |_| Ok(())).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        assert!(e.to_string().contains("corrupt"), "{e}");
    }
}
