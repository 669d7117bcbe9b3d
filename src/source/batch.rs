//! Frames copied in batches, to hand them from the thread that reads a
//! capture to the one that analyses it ([`crate::analyze`]).
//!
//! A batch is one byte buffer holding the frames' captured bytes back to
//! back, plus each frame's number, time, link type and place in it: a
//! thousand frames cost two allocations, and a batch handed back empty
//! keeps its capacity for the next ones. Each frame may carry a value
//! of the reader's (`T`), e.g. what decoding it found.

use super::Frame;
use crate::time::Ts;

/// Captured bytes in a batch before it counts as full.
pub const BATCH_BYTES: usize = 256 * 1024;
/// Frames in a batch before it counts as full.
pub const BATCH_FRAMES: usize = 2048;

#[derive(Debug, Clone, Copy)]
struct Meta<T> {
    at: FrameAt,
    extra: T,
}

/// Copies of frames, each with a `T`, in the order they were pushed; or
/// frames placed in a buffer a source handed over
/// ([`super::Handoff`]: [`FrameBatch::push_at`], [`FrameBatch::set_data`]).
#[derive(Debug)]
pub struct FrameBatch<T = ()> {
    data: Vec<u8>,
    frames: Vec<Meta<T>>,
    /// `data` is a handed-over buffer: kept whole when cleared, for
    /// [`FrameBatch::take_data`].
    handed: bool,
}

/// A frame in a buffer a source reads into, placed by its offset there.
#[derive(Debug, Clone, Copy)]
pub struct FrameAt {
    pub number: u64,
    pub ts: Ts,
    pub linktype: u32,
    pub orig_len: u32,
    /// Where its bytes are in the buffer.
    pub start: usize,
    pub len: usize,
}

impl<T> Default for FrameBatch<T> {
    fn default() -> Self {
        FrameBatch::new()
    }
}

impl<T> FrameBatch<T> {
    pub fn new() -> FrameBatch<T> {
        FrameBatch {
            data: Vec::with_capacity(BATCH_BYTES + 64 * 1024),
            frames: Vec::with_capacity(BATCH_FRAMES),
            handed: false,
        }
    }

    /// A frame whose bytes are at `at.start` of the buffer the batch will
    /// be given ([`FrameBatch::set_data`]), not copied; with a default `T`
    /// that `fill` then sets in place.
    pub fn push_at(&mut self, at: FrameAt, fill: impl FnOnce(&mut T))
    where
        T: Default,
    {
        self.frames.push(Meta {
            at,
            extra: T::default(),
        });
        if let Some(m) = self.frames.last_mut() {
            fill(&mut m.extra);
        }
    }

    /// The place of the frame pushed last.
    pub fn last_at_mut(&mut self) -> Option<&mut FrameAt> {
        self.frames.last_mut().map(|m| &mut m.at)
    }

    /// Takes out the frame pushed last (its place and its `T`; its bytes,
    /// if copied, stay in the buffer).
    pub fn pop(&mut self) -> Option<(FrameAt, T)> {
        self.frames.pop().map(|m| (m.at, m.extra))
    }

    /// Gives it the buffer its [`FrameBatch::push_at`] frames are in. A
    /// frame outside it is read as empty, never out of bounds.
    pub fn set_data(&mut self, data: Vec<u8>) {
        self.data = data;
        self.handed = true;
    }

    /// The handed-over buffer back, whole (for [`super::Handoff::recycle`]);
    /// `None` for a batch of copies.
    pub fn take_data(&mut self) -> Option<Vec<u8>> {
        if !self.handed {
            return None;
        }
        self.handed = false;
        self.frames.clear();
        Some(std::mem::take(&mut self.data))
    }

    /// Copies `f` in, with `extra`.
    pub fn push(&mut self, f: &Frame<'_>, extra: T) {
        let at = self.copy_in(f);
        self.frames.push(Meta { at, extra });
    }

    /// Copies `f` in, with a default `T` that `fill` then sets in place
    /// (no copy of a large `T`).
    pub fn push_with(&mut self, f: &Frame<'_>, fill: impl FnOnce(&mut T))
    where
        T: Default,
    {
        let at = self.copy_in(f);
        self.push_at(at, fill);
    }

    /// Appends `f`'s bytes to the batch's buffer: where they are.
    fn copy_in(&mut self, f: &Frame<'_>) -> FrameAt {
        let start = self.data.len();
        self.data.extend_from_slice(f.data);
        FrameAt {
            number: f.number,
            ts: f.ts,
            linktype: f.linktype,
            orig_len: f.orig_len,
            start,
            len: f.data.len(),
        }
    }

    /// Whether it holds [`BATCH_BYTES`] or [`BATCH_FRAMES`] already.
    pub fn is_full(&self) -> bool {
        self.data.len() >= BATCH_BYTES || self.frames.len() >= BATCH_FRAMES
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Empties it, keeping its buffers (unless a huge frame grew them).
    pub fn clear(&mut self) {
        self.frames.clear();
        if self.handed {
            return; // kept whole for `take_data`
        }
        self.data.clear();
        if self.data.capacity() > 4 * BATCH_BYTES {
            self.data.shrink_to(BATCH_BYTES + 64 * 1024);
        }
    }

    /// The frames, as the source gave them, each with its `T`.
    pub fn frames(&self) -> impl Iterator<Item = (Frame<'_>, &T)> {
        self.frames.iter().map(|m| {
            let at = &m.at;
            let f = Frame {
                number: at.number,
                ts: at.ts,
                linktype: at.linktype,
                orig_len: at.orig_len,
                data: at
                    .start
                    .checked_add(at.len)
                    .and_then(|end| self.data.get(at.start..end))
                    .unwrap_or(&[]),
            };
            (f, &m.extra)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_back_as_pushed_and_a_cleared_batch_is_empty() {
        let payloads: Vec<Vec<u8>> = (0..3000u32)
            .map(|i| vec![i as u8; (i % 97) as usize])
            .collect();
        let mut b = FrameBatch::new();
        let mut pushed = 0;
        for (i, p) in payloads.iter().enumerate() {
            if b.is_full() {
                break;
            }
            b.push(
                &Frame {
                    number: i as u64 + 1,
                    ts: Ts(i as i64 * 1000),
                    linktype: 1 + (i % 2) as u32,
                    orig_len: p.len() as u32 + 10,
                    data: p,
                },
                i * 3,
            );
            pushed += 1;
        }
        assert_eq!(pushed, BATCH_FRAMES, "full by frame count first");
        assert_eq!(b.len(), pushed);
        for (i, (f, &extra)) in b.frames().enumerate() {
            assert_eq!(extra, i * 3);
            assert_eq!(f.number, i as u64 + 1);
            assert_eq!(f.ts, Ts(i as i64 * 1000));
            assert_eq!(f.linktype, 1 + (i % 2) as u32);
            assert_eq!(f.orig_len, payloads[i].len() as u32 + 10);
            assert_eq!(f.data, &payloads[i][..]);
        }
        b.clear();
        assert!(b.is_empty() && !b.is_full());
        assert_eq!(b.frames().count(), 0);
    }
}
