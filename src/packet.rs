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
