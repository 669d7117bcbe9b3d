//! Memory-mapped capture files: the two unsafe calls, behind safe
//! functions.
#![allow(unsafe_code)]

use memmap2::{Advice, Mmap, UncheckedAdvice};
use std::fs::File;

/// `file` mapped read-only, to be read from start to end; `None` when it
/// cannot be (the caller reads it instead).
///
/// What a mapping cannot protect against is the file shrinking (or an I/O
/// error under it) while it is read: the process then gets SIGBUS, where
/// read(2) would have returned an error (the binary turns it into an error
/// line and exit code 2: `cli/sigbus.rs`). Captures being written only
/// grow; that is the price of not copying gigabytes.
pub fn map(file: &File) -> Option<Mmap> {
    // SAFETY: read-only; every access goes through bounds-checked slices
    // of the mapping's length taken now (see above for shrinking files).
    let map = unsafe { Mmap::map(file) }.ok()?;
    let _ = map.advise(Advice::Sequential);
    Some(map)
}

/// Lets go of `len` bytes of `map` from `offset` (no longer read): they
/// stop counting in the resident set.
pub fn release(map: &Mmap, offset: usize, len: usize) {
    // SAFETY: MADV_DONTNEED on a read-only shared file mapping only drops
    // page-table entries; a later access reads the same bytes from the
    // file again (memmap2 marks it unsafe because private and anonymous
    // mappings would read zeros instead).
    let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, len) };
}
