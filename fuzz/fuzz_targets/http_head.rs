//! (d) The HTTP/1.x response-head parser.
//!
//! The harness is `tcptriage::fuzzing::http_head`, shared with
//! `tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tcptriage::fuzzing::http_head(data));
