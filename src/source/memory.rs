//! An in-memory packet source, for tests and fuzzing.

use super::{Frame, PacketSource, SourceError};
use crate::time::Ts;

/// Frames held in memory: `(timestamp, linktype, bytes)`.
#[derive(Debug, Default)]
pub struct MemorySource {
    frames: Vec<(Ts, u32, Vec<u8>)>,
    next: usize,
}

impl MemorySource {
    /// A source that yields `frames` in order, numbered from 1.
    pub fn new(frames: Vec<(Ts, u32, Vec<u8>)>) -> Self {
        MemorySource { frames, next: 0 }
    }
}

impl PacketSource for MemorySource {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        let Some((ts, linktype, data)) = self.frames.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        Ok(Some(Frame {
            number: self.next as u64,
            ts: *ts,
            linktype: *linktype,
            orig_len: data.len() as u32,
            data,
        }))
    }

    fn warnings(&self) -> &[String] {
        &[]
    }

    fn format(&self) -> String {
        "memory".to_string()
    }
}
