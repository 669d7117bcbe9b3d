//! The ground floor: the types every stage of the pipeline shares. It
//! imports nothing of the crate but [`crate::time`], so that no stage has to
//! import another one just to name a frame or a packet's place in the capture.
//!
//! - [`Frame`]: one captured frame, as a source hands it to the decoder.
//! - [`Event`]: a packet's frame number and timestamp, which flows, the
//!   sniffers, the verdict rules and the reports cite as evidence.
//! - [`Dir`]: which way a packet of a connection went, client to server or
//!   back.
//! - [`link`]: the pcap link types.

pub mod link;

use crate::time::Ts;

/// One captured frame, borrowed from the source's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Frame number, 1-based, counting packet records only (as Wireshark does).
    pub number: u64,
    /// Capture timestamp.
    pub ts: Ts,
    /// The pcap LINKTYPE_* value of the interface the frame was captured on.
    pub linktype: u32,
    /// Length of the packet on the wire (may exceed `data.len()` when snaplen cut it).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// A packet's place in the capture: its frame number and timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub frame: u64,
    pub ts: Ts,
}

/// Direction of a packet within a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// From the client (the side that sent the SYN) to the server.
    ClientToServer = 0,
    /// From the server to the client.
    ServerToClient = 1,
}

impl Dir {
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn reverse(self) -> Dir {
        match self {
            Dir::ClientToServer => Dir::ServerToClient,
            Dir::ServerToClient => Dir::ClientToServer,
        }
    }
    /// `client` or `server`: who sent a packet in this direction.
    pub fn sender(self) -> &'static str {
        match self {
            Dir::ClientToServer => "client",
            Dir::ServerToClient => "server",
        }
    }
}

/// The frames of chosen connections: for each, its 4-tuple (either way
/// round) and its first..=last frame numbers, with a value. A frame is
/// selected when its 4-tuple (or the one an ICMP error quotes) is a chosen
/// connection's and its number lies in that connection's range (ports are
/// reused later in a capture). `--write-failed` keeps the frames of the
/// failed connections; the ladder's second read gives each frame to its
/// connection's drawing.
#[derive(Debug, Clone)]
pub struct FrameSelector<T> {
    by_tuple: std::collections::HashMap<TupleKey, Ranges<T>>,
    last: u64,
}

type TupleKey = (std::net::SocketAddr, std::net::SocketAddr);

/// The ranges of one 4-tuple, by first frame; `reach[i]` is the largest
/// last frame of ranges `0..=i` (ranges may overlap: DNS queries on one
/// UDP 4-tuple).
#[derive(Debug, Clone)]
struct Ranges<T> {
    ranges: Vec<(u64, u64, T)>,
    reach: Vec<u64>,
}

fn tuple_key(a: std::net::SocketAddr, b: std::net::SocketAddr) -> TupleKey {
    if a <= b { (a, b) } else { (b, a) }
}

impl<T> Default for FrameSelector<T> {
    fn default() -> Self {
        FrameSelector {
            by_tuple: std::collections::HashMap::new(),
            last: 0,
        }
    }
}

impl<T> FrameSelector<T> {
    /// Chooses the frames `first..=last` between `a` and `b`.
    pub fn add(
        &mut self,
        a: std::net::SocketAddr,
        b: std::net::SocketAddr,
        first: u64,
        last: u64,
        value: T,
    ) {
        let last = last.max(first);
        self.last = self.last.max(last);
        let r = self
            .by_tuple
            .entry(tuple_key(a, b))
            .or_insert_with(|| Ranges {
                ranges: Vec::new(),
                reach: Vec::new(),
            });
        r.ranges.push((first, last, value));
        r.reach.clear();
    }

    /// Whether nothing was chosen.
    pub fn is_empty(&self) -> bool {
        self.by_tuple.is_empty()
    }

    /// The last frame any choice reaches: a read can stop after it.
    pub fn last_frame(&self) -> u64 {
        self.last
    }

    /// Sorts each 4-tuple's ranges for lookups; call after the last
    /// [`FrameSelector::add`] (a lookup before finds nothing new).
    pub fn seal(&mut self) {
        for r in self.by_tuple.values_mut() {
            r.ranges.sort_by_key(|&(first, last, _)| (first, last));
            let mut reach = 0;
            r.reach = r
                .ranges
                .iter()
                .map(|&(_, last, _)| {
                    reach = reach.max(last);
                    reach
                })
                .collect();
        }
    }

    /// The value of the chosen connection that holds frame `frame` between
    /// `a` and `b` (of overlapping ones, the one that started last).
    pub fn get(&self, a: std::net::SocketAddr, b: std::net::SocketAddr, frame: u64) -> Option<&T> {
        let r = self.by_tuple.get(&tuple_key(a, b))?;
        let mut i = r.ranges.partition_point(|&(first, _, _)| first <= frame);
        while i > 0 && r.reach.get(i - 1).is_some_and(|&reach| reach >= frame) {
            i -= 1;
            let (_, last, ref value) = r.ranges[i];
            if last >= frame {
                return Some(value);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_selected_by_its_tuple_either_way_and_its_range() {
        let a: std::net::SocketAddr = "10.77.1.10:40000".parse().unwrap();
        let b: std::net::SocketAddr = "[fd77::1]:53".parse().unwrap();
        let c: std::net::SocketAddr = "10.77.1.10:40001".parse().unwrap();
        let mut s = FrameSelector::default();
        // Two connections reusing a 4-tuple, and two overlapping DNS
        // queries (20..=90 holds 25..=30).
        s.add(a, b, 10, 12, "first");
        s.add(b, a, 100, 120, "reused");
        s.add(c, b, 20, 90, "long");
        s.add(c, b, 25, 30, "short");
        s.seal();
        assert_eq!(s.get(a, b, 11), Some(&"first"));
        assert_eq!(s.get(b, a, 12), Some(&"first"));
        assert_eq!(s.get(a, b, 13), None);
        assert_eq!(s.get(a, b, 99), None);
        assert_eq!(s.get(a, b, 100), Some(&"reused"));
        assert_eq!(s.get(a, b, 121), None);
        assert_eq!(s.get(c, b, 27), Some(&"short"));
        assert_eq!(s.get(b, c, 50), Some(&"long"));
        assert_eq!(s.get(c, b, 19), None);
        assert_eq!(s.get(a, c, 11), None);
        assert_eq!(s.last_frame(), 120);
    }
}
