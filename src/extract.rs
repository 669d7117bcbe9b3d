//! `--write-failed`: copies the packets of the failed connections and DNS
//! queries of a report into a new pcapng file, to hand to whoever owns the
//! network.
//!
//! A packet belongs to a failed connection when its 4-tuple (or the 4-tuple
//! an ICMP error quotes) is the connection's and its frame number lies in
//! the connection's first..last frame (ports can be reused later in the
//! capture). DNS packets are matched the same way on their UDP or TCP
//! 4-tuple and the query's frames.

use crate::decode::{self, Decoded};
use crate::report::{Report, TableRows};
use crate::source::{self, PcapngWriter};
use std::collections::HashMap;
use std::io::BufWriter;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

type Endpoint = (IpAddr, u16);

/// Unordered pair of endpoints.
fn key(a: Endpoint, b: Endpoint) -> (Endpoint, Endpoint) {
    if a <= b { (a, b) } else { (b, a) }
}

/// The frames to keep: per 4-tuple, the frame ranges of failed
/// connections and DNS queries.
#[derive(Debug, Default, Clone)]
pub struct FailedFrames {
    ranges: HashMap<(Endpoint, Endpoint), Vec<(u64, u64)>>,
}

impl FailedFrames {
    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    fn add(&mut self, a: Endpoint, b: Endpoint, first: u64, last: u64) {
        self.ranges
            .entry(key(a, b))
            .or_default()
            .push((first, last.max(first)));
    }

    /// Sorts each 4-tuple's ranges and merges the overlapping ones, so that
    /// a lookup is a binary search (one 4-tuple can carry many thousand
    /// connections).
    fn seal(&mut self) {
        for r in self.ranges.values_mut() {
            r.sort_unstable();
            let mut merged: Vec<(u64, u64)> = Vec::with_capacity(r.len());
            for &(f, l) in r.iter() {
                match merged.last_mut() {
                    Some(m) if f <= m.1.saturating_add(1) => m.1 = m.1.max(l),
                    _ => merged.push((f, l)),
                }
            }
            *r = merged;
        }
    }

    fn contains(&self, a: Endpoint, b: Endpoint, frame: u64) -> bool {
        let Some(r) = self.ranges.get(&key(a, b)) else {
            return false;
        };
        let i = r.partition_point(|(f, _)| *f <= frame);
        i > 0 && r[i - 1].1 >= frame
    }
}

fn ep(e: SocketAddr) -> Endpoint {
    (e.ip(), e.port())
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
/// [`TableRows`] ([`crate::analyze::analyze_to_rows`]): the rows are read
/// back once. Fails only when the rows' temporary file cannot be read.
pub fn failed_frames_with_rows(rep: &Report, rows: &TableRows) -> std::io::Result<FailedFrames> {
    let mut keep = FailedFrames::default();
    add_connections(&mut keep, rep);
    rows.for_each_failed(&mut |client, server, first, last| {
        add_connection(&mut keep, client, server, first, last)
    })?;
    add_dns(&mut keep, rep);
    keep.seal();
    Ok(keep)
}

fn add_connection(
    keep: &mut FailedFrames,
    client: SocketAddr,
    server: SocketAddr,
    first: u64,
    last: u64,
) {
    keep.add(ep(client), ep(server), first, last);
}

fn add_connections(keep: &mut FailedFrames, rep: &Report) {
    for c in rep.connections.iter().filter(|c| c.verdict.is_failure()) {
        add_connection(keep, c.client(), c.server(), c.first_frame, c.last_frame);
    }
}

fn add_dns(keep: &mut FailedFrames, rep: &Report) {
    for d in rep.dns.iter().filter(|d| d.is_failure()) {
        {
            let (a, b) = (ep(d.client), ep(d.server));
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
        let wanted = match decode::decode_frame(&f) {
            Ok(Decoded::Tcp(t)) => {
                keep.contains((t.ip.src, t.src_port), (t.ip.dst, t.dst_port), f.number)
            }
            Ok(Decoded::Udp(u)) => {
                keep.contains((u.ip.src, u.src_port), (u.ip.dst, u.dst_port), f.number)
            }
            Ok(Decoded::IcmpError(e)) => keep.contains(
                (e.quoted.src, e.quoted.src_port),
                (e.quoted.dst, e.quoted.dst_port),
                f.number,
            ),
            _ => false,
        };
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
