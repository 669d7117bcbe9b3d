//! (g) HTTP request heads and the Go module proxy paths: the input as a
//! client's first payload (`http::parse_request_head`, plus the flows
//! stage's `looks_like_http_request` and `http_status`), its path through
//! `gomod::parse_path` under a few proxy prefixes, and the input as text
//! through `gomod::parse_path`, `gomod::decode_case` and
//! `gomod::GoProxy::parse`.
//!
//! Input: the payload (also read as lossy UTF-8 text).
//!
//! The harness is `tcptriage::fuzzing::http_request`, shared with
//! `tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tcptriage::fuzzing::http_request(data));
