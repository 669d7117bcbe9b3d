//! The one seeded random generator of the integration tests: xorshift64
//! (shifts 13, 7, 17). Deterministic, so a failing round replays; not for
//! anything but tests.

/// A xorshift64 generator. The seed must not be 0 (the generator would
/// stay at 0).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        assert_ne!(seed, 0, "xorshift64 never leaves 0");
        Rng(seed)
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
