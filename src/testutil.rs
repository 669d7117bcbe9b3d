//! Helpers shared by the crate's unit tests (compiled for tests only; the
//! integration tests have their own kit in `tests/testkit`).

/// Marsaglia's xorshift64 (13, 7, 17): every output is the new state, all
/// 64 bits used (noise bytes, lengths).
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A small deterministic generator, so tests need no crate: a 64-bit
/// linear congruential step (Knuth's MMIX constants), the upper 31 bits out.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next value, below 2^31.
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A value below `n` (not 0).
    pub fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}
