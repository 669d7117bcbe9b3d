//! (f) The TLS handshake sniffer: one direction of a stream, fed to a
//! `TlsSniffer` in pieces cut by a fuzz-chosen scheme, and once whole; the
//! two must learn the same. One scheme sends the pieces out of order (with
//! retransmissions) through the `StreamHead` reassembler, as the flows
//! stage does.
//!
//! Input: byte 0 the scheme, byte 1 its parameter, the rest the stream.
//!
//! The harness is `tcptriage::fuzzing::tls_stream`, shared with
//! `tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tcptriage::fuzzing::tls_stream(data));
