//! (b) Link layer + IP + TCP/ICMP decode of one packet. The first byte picks
//! the link type (among those we support, plus one we do not), the second
//! how the original length relates to the captured length.
//!
//! The harness is `tcptriage::fuzzing::decode_packet`, shared with
//! `tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tcptriage::fuzzing::decode_packet(data));
