//! (e) DNS: the input as one UDP message (`dns::parse`) and as a TCP stream
//! of length-prefixed messages (`dns::parse_tcp_stream`); every message
//! that parses is then fed to a `DnsTracker`, with endpoints, transport,
//! time steps and `take_final` calls chosen by a small script, and the
//! tracker is drained with `finish`.
//!
//! Input: byte 0 the tracker timeout (50 ms units); bytes 1-8 the script
//! (one byte per message fed, cycling); the rest is the payload.
//!
//! The harness is `tcptriage::fuzzing::dns_message`, shared with
//! `tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tcptriage::fuzzing::dns_message(data));
