//! (c) The whole analysis of a short synthetic capture: the fuzzer bytes are
//! cut into frames (`[link type index][time step: 2 bytes][length: 2 bytes]
//! [bytes]`, repeated), analysed with a small connection limit, and the
//! report is written as JSON, NDJSON and a table.
//!
//! The harness is `tcptriage::fuzzing::analyze_frames`, shared with
//! `tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tcptriage::fuzzing::analyze_frames(data));
