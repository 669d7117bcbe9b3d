//! (a) The file readers: a whole pcap or pcapng file from the fuzzer bytes.
//!
//! The harness is `tcptriage::fuzzing::read_capture`, shared with
//! `tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tcptriage::fuzzing::read_capture(data));
