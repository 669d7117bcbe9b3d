//! `--write-failed`: copies the packets of the failed connections and DNS
//! queries of a report into a new pcapng file, to hand to whoever owns the
//! network.
//!
//! A packet belongs to a failed connection when its 4-tuple (or the 4-tuple
//! an ICMP error quotes) is the connection's and its frame number lies in
//! the connection's first..last frame (ports can be reused later in the
//! capture). DNS packets are matched the same way on their UDP or TCP
//! 4-tuple and the query's frames.

use crate::decode;
use crate::packet::FrameSelector;
use crate::report::{Report, TableRows};
use crate::source::{self, PcapngWriter};
use std::io::BufWriter;
use std::net::SocketAddr;
use std::path::Path;

/// The frames to keep: per 4-tuple, the frame ranges of failed
/// connections and DNS queries.
#[derive(Debug, Default, Clone)]
pub struct FailedFrames {
    frames: FrameSelector<()>,
}

impl FailedFrames {
    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    fn add(&mut self, a: SocketAddr, b: SocketAddr, first: u64, last: u64) {
        self.frames.add(a, b, first, last, ());
    }

    fn seal(&mut self) {
        self.frames.seal();
    }

    fn contains(&self, (a, b): (SocketAddr, SocketAddr), frame: u64) -> bool {
        self.frames.get(a, b, frame).is_some()
    }
}

/// The frames of the failed connections and DNS queries of `rep`.
pub fn failed_frames(rep: &Report) -> FailedFrames {
    let mut keep = FailedFrames::default();
    add_connections(&mut keep, rep);
    add_dns(&mut keep, rep);
    keep.seal();
    keep
}

/// [`failed_frames`] of a report whose listed connections were kept as
/// [`TableRows`] (the default table's sink): the rows are read
/// back once. Fails only when the rows' temporary file cannot be read.
pub fn failed_frames_with_rows(rep: &Report, rows: &TableRows) -> std::io::Result<FailedFrames> {
    let mut keep = FailedFrames::default();
    add_connections(&mut keep, rep);
    rows.for_each_failed(&mut |client, server, first, last| keep.add(client, server, first, last))?;
    add_dns(&mut keep, rep);
    keep.seal();
    Ok(keep)
}

fn add_connections(keep: &mut FailedFrames, rep: &Report) {
    for c in rep.connections.iter().filter(|c| c.verdict.is_failure()) {
        keep.add(c.client(), c.server(), c.first_frame, c.last_frame);
    }
}

fn add_dns(keep: &mut FailedFrames, rep: &Report) {
    for d in rep.dns.iter().filter(|d| d.is_failure()) {
        {
            let (a, b) = (d.client, d.server);
            let last = d
                .query_frames
                .iter()
                .copied()
                .chain(d.response_frame)
                .max()
                .unwrap_or(d.first_frame);
            keep.add(a, b, d.first_frame, last);
        }
    }
}

/// What [`copy_frames`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub packets: u64,
    /// Kept frames of another link type than the first one (a pcapng
    /// written here has one interface); left out.
    pub other_link_type: u64,
}

/// Reads `path` again and writes the frames `keep` selects to `dest`.
/// Errors are one line, naming what failed.
pub fn copy_frames(path: &Path, dest: &Path, keep: &FailedFrames) -> Result<Copied, String> {
    let reading = |e: source::SourceError| format!("re-reading {}: {e}", path.display());
    let writing = |e: std::io::Error| format!("cannot write: {e}");
    let mut src = source::open_path(path).map_err(reading)?;
    let mut writer: Option<(u32, PcapngWriter<BufWriter<std::fs::File>>)> = None;
    let mut copied = Copied {
        packets: 0,
        other_link_type: 0,
    };
    let create = |linktype: u32| -> Result<PcapngWriter<BufWriter<std::fs::File>>, String> {
        let f = std::fs::File::create(dest).map_err(writing)?;
        PcapngWriter::new(BufWriter::new(f), linktype, 0).map_err(writing)
    };
    while let Some(f) = src.next_frame().map_err(reading)? {
        let wanted = decode::decode_frame(&f)
            .ok()
            .and_then(|d| d.tuple())
            .is_some_and(|t| keep.contains(t, f.number));
        if !wanted {
            continue;
        }
        if writer.is_none() {
            writer = Some((f.linktype, create(f.linktype)?));
        }
        if let Some((lt, w)) = writer.as_mut() {
            if *lt != f.linktype {
                copied.other_link_type += 1;
                continue;
            }
            w.write(f.ts, f.orig_len, f.data).map_err(writing)?;
            copied.packets += 1;
        }
    }
    match writer {
        Some((_, w)) => {
            w.finish().map_err(writing)?;
        }
        // Nothing failed: still leave a valid (empty) capture behind.
        None => {
            create(1)?.finish().map_err(writing)?;
        }
    }
    Ok(copied)
}
