//! Packet sources: saved captures (pcap, pcapng) and live interfaces
//! (libpcap loaded at run time; see [`LiveSource`]), plus a pcapng writer.
//!
//! Every source yields [`Frame`]s, numbered from 1 as Wireshark numbers them,
//! behind the [`PacketSource`] trait so tests can feed frames from memory.

pub mod batch;
pub mod file;
pub mod memory;
pub mod writer;

// Live capture: `live.rs` with the `live` feature, else a stub with the same
// API whose entry points fail with "live capture not compiled in".
#[cfg(feature = "live")]
#[path = "live.rs"]
mod live_imp;
#[cfg(not(feature = "live"))]
#[path = "live_disabled.rs"]
mod live_imp;
mod live_types;

pub use crate::packet::Frame;
pub use file::open_path;
pub use live_imp::{
    Breaker, DEFAULT_LIBPCAP_NAMES, InterfaceInfo, LIBPCAP_ENV, LiveError, LiveNext, LiveOptions,
    LiveSource, LiveStats, candidate_names, list_interfaces,
};
pub use memory::MemorySource;
pub use writer::PcapngWriter;

/// A stream of frames.
pub trait PacketSource {
    /// The next frame, or `Ok(None)` at the end of the input.
    ///
    /// A capture that is cut short mid-record ends with `Ok(None)` and a
    /// warning in [`PacketSource::warnings`], not with an error.
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError>;

    /// Non-fatal problems met so far (for example a truncated last record,
    /// with its byte offset).
    fn warnings(&self) -> &[String];

    /// A short description of the format, e.g. `pcap (microseconds, little-endian)`.
    fn format(&self) -> String;

    /// Bytes of the input consumed so far, when the source knows (for a
    /// progress bar).
    fn bytes_read(&self) -> Option<u64> {
        None
    }

    /// For a source that reads into buffers of its own: hands those over,
    /// with the frames in them, so that they need not be copied
    /// ([`Handoff`]). `None` (the default): copy the frames. A source that
    /// returned `Some` once must keep returning it until its end: the
    /// frames of a run are either all handed over or all copied.
    fn handoff(&mut self) -> Option<&mut dyn Handoff> {
        None
    }
}

/// Buffers a source reads frames into, handed over whole instead of the
/// frames being copied out of them (the file analysis sends them to its
/// tracking thread: [`crate::analyze`]).
///
/// Once [`Handoff::enable`]d, the source never moves bytes inside a buffer:
/// when one is full it is *detached* and a new one (the unread tail copied
/// to its start) takes its place. A frame's bytes stay where
/// [`PacketSource::next_frame`] returned them, at their offset from
/// [`Handoff::current`]'s base, in that buffer.
pub trait Handoff {
    /// Starts handing buffers over (until then the source works as usual).
    fn enable(&mut self);
    /// The address of the buffer frames are read into now, and how many
    /// buffers were detached before it.
    fn current(&self) -> (usize, u64);
    /// The buffer detached last, holding the frames returned before the
    /// current buffer took over; taken once.
    fn take_detached(&mut self) -> Option<Vec<u8>>;
    /// Detaches the current buffer now, as when it is full: the frames
    /// returned so far stay in it, the next ones go to a new buffer. For a
    /// batch that holds enough frames already. Does nothing while a
    /// detached buffer waits to be taken.
    fn detach_now(&mut self);
    /// The current buffer, at the end of the input.
    fn take_current(&mut self) -> Vec<u8>;
    /// A buffer handed over earlier, done with, for reuse.
    fn recycle(&mut self, buf: Vec<u8>);
}

/// Why a source could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot open: {}", io_reason(.0))]
    Io(#[from] std::io::Error),
    #[error("not a pcap or pcapng capture ({0})")]
    NotACapture(String),
    #[error("unsupported format: {0}")]
    Unsupported(String),
    #[error("corrupt capture at byte offset {offset}: {reason}")]
    Corrupt { offset: u64, reason: String },
    /// Every packet is of a link type we do not decode, e.g.
    /// `unsupported link type 127 (IEEE802_11_RADIO)`.
    #[error("{0}")]
    UnsupportedLinkType(String),
}

/// An I/O error in words, without Rust's `(os error N)` suffix.
fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "no such file".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}
