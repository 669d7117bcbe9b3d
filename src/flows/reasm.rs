//! The head of one direction of a TCP stream, put back in order for the
//! application sniffers (a TLS ClientHello or certificate chain spans
//! segments; DNS over TCP frames messages across them).
//!
//! Only the first [`StreamHead::cap`] bytes are ever delivered, and at most
//! [`MAX_PENDING`] out-of-order pieces are held, so memory stays bounded
//! whatever the capture holds. Retransmitted and overlapping bytes are
//! delivered once. A hole that is never filled (a lost segment the capture
//! missed, or a payload cut by the snaplen) ends the delivery there.

use super::seq::SeqNum;

/// Out-of-order pieces held while waiting for a hole to fill.
pub const MAX_PENDING: usize = 16;

/// Reassembles the first `cap` bytes of one direction.
#[derive(Debug, Clone)]
pub struct StreamHead {
    /// Sequence number of stream byte 0 (ISN + 1).
    base: SeqNum,
    /// Bytes delivered so far (the next expected offset).
    next: u32,
    cap: u32,
    /// Out-of-order pieces: (offset, bytes), unsorted, at most MAX_PENDING.
    pending: Vec<(u32, Vec<u8>)>,
    /// A piece had to be dropped (too many holes): delivery may stop short.
    pub gave_up: bool,
}

impl StreamHead {
    /// A stream whose byte 0 has sequence number `base`.
    pub fn new(base: SeqNum, cap: u32) -> StreamHead {
        StreamHead {
            base,
            next: 0,
            cap,
            pending: Vec::new(),
            gave_up: false,
        }
    }

    /// How many bytes were delivered.
    pub fn delivered(&self) -> u32 {
        self.next
    }

    /// The cap: bytes beyond it are never delivered.
    pub fn cap(&self) -> u32 {
        self.cap
    }

    /// Whether delivery is over (the cap was reached).
    pub fn is_full(&self) -> bool {
        self.next >= self.cap
    }

    /// Takes the captured payload of a segment starting at `seq` and calls
    /// `out` with every newly in-order run of bytes, in stream order.
    pub fn push(&mut self, seq: SeqNum, payload: &[u8], mut out: impl FnMut(&[u8])) {
        if payload.is_empty() || self.is_full() {
            return;
        }
        // Offset of this segment in the stream; segments before the base
        // (a SYN's sequence number, wrapped junk) are clipped.
        let off = seq.diff(self.base);
        let len = i64::try_from(payload.len()).unwrap_or(i64::MAX);
        let end = off.saturating_add(len).min(i64::from(self.cap));
        let start = off.max(i64::from(self.next));
        if end <= start {
            return; // all old (retransmitted) or beyond the cap
        }
        // start..end lies in 0..=cap (u32) and inside the payload.
        let (start, end) = (start as u32, end as u32);
        let piece = &payload[(i64::from(start) - off) as usize..(i64::from(end) - off) as usize];
        if start == self.next {
            self.next = end;
            out(piece);
            self.drain(&mut out);
        } else if self.pending.len() < MAX_PENDING {
            self.pending.push((start, piece.to_vec()));
        } else {
            self.gave_up = true;
        }
    }

    /// Delivers held pieces that the last delivery made contiguous.
    fn drain(&mut self, out: &mut impl FnMut(&[u8])) {
        loop {
            // Pieces wholly delivered already are dropped.
            let next = self.next;
            self.pending
                .retain(|(o, b)| u64::from(*o) + b.len() as u64 > u64::from(next));
            let Some(i) = self.pending.iter().position(|(o, _)| *o <= self.next) else {
                return;
            };
            let (o, bytes) = self.pending.swap_remove(i);
            let skip = (self.next - o) as usize;
            let rest = &bytes[skip..];
            self.next += rest.len() as u32;
            out(rest);
        }
    }

    /// Bytes held out of order (for tests of the bound).
    pub fn pending_bytes(&self) -> usize {
        self.pending.iter().map(|(_, b)| b.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(h: &mut StreamHead, seq: u32, p: &[u8], into: &mut Vec<u8>) {
        h.push(SeqNum(seq), p, |b| into.extend_from_slice(b));
    }

    #[test]
    fn in_order_retransmitted_and_overlapping_bytes_come_once() {
        let mut h = StreamHead::new(SeqNum(1000), 100);
        let mut got = Vec::new();
        collect(&mut h, 1000, b"hello ", &mut got);
        collect(&mut h, 1000, b"hello ", &mut got); // retransmission
        collect(&mut h, 1003, b"lo wor", &mut got); // overlap
        collect(&mut h, 1009, b"ld", &mut got);
        assert_eq!(got, b"hello world");
        assert_eq!(h.delivered(), 11);
    }

    #[test]
    fn out_of_order_pieces_are_held_until_the_hole_fills() {
        let mut h = StreamHead::new(SeqNum(u32::MAX - 2), 100); // wraps
        let mut got = Vec::new();
        collect(&mut h, 3, b"GH", &mut got);
        collect(&mut h, 0, b"DEF", &mut got);
        assert!(got.is_empty());
        assert_eq!(h.pending_bytes(), 5);
        collect(&mut h, u32::MAX - 2, b"ABC", &mut got);
        assert_eq!(got, b"ABCDEFGH");
        assert_eq!(h.pending_bytes(), 0);
    }

    #[test]
    fn the_cap_bounds_delivery_and_memory() {
        let mut h = StreamHead::new(SeqNum(0), 8);
        let mut got = Vec::new();
        collect(&mut h, 0, b"0123456789", &mut got);
        assert_eq!(got, b"01234567");
        assert!(h.is_full());
        collect(&mut h, 8, b"89", &mut got);
        assert_eq!(got.len(), 8);
        // Holes: at most MAX_PENDING pieces are held, each inside the cap.
        let mut h = StreamHead::new(SeqNum(0), 1 << 16);
        for i in 0..1000u32 {
            collect(&mut h, 10 + i * 20, &[b'x'; 10], &mut got);
        }
        assert!(h.gave_up);
        assert_eq!(h.pending_bytes(), MAX_PENDING * 10);
        // Data before the base (a wrapped or bogus sequence number) is clipped.
        let mut h = StreamHead::new(SeqNum(100), 16);
        let mut got = Vec::new();
        collect(&mut h, 96, b"....abcd", &mut got);
        assert_eq!(got, b"abcd");
        collect(&mut h, 0x8000_0000, b"far", &mut got);
        assert_eq!(got, b"abcd");
    }
}
