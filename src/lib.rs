//! tcptriage: reads packet captures and explains why TCP connections failed.
//!
//! The crate is a pipeline; each stage is one module with a small public surface:
//!
//! ```text
//! source (file / live) -> decode (link -> IP -> TCP/UDP/ICMP) -> flows (4-tuple
//! table, TCP state per direction) -> sniff (DNS, TLS, HTTP, Go modules) ->
//! verdict (rules with evidence) -> report (table, JSON)
//! ```
//!
//! Under them all, [`packet`] holds the types every stage shares (a frame,
//! a packet's place in the capture, a direction, the link types). A stage
//! imports only the stages below it; `flows` drives the sniffers (they see
//! byte streams, never connections), and `ladder` and `extract` read a
//! capture a second time through [`analyze`]. `tests/layering.rs` holds the
//! order and fails on an import against it or on a circle between files.
//!
//! [`analyze`] wires the stages together: `analyze::analyze` hands each
//! connection's report to a sink (`report::ConnectionSink`: the table's
//! rows, NDJSON, a collection for JSON and HTML, the live printer) as soon
//! as its verdict is final or at the end of the capture.
//! Time is data: nothing in the library reads the wall clock; all timing
//! comes from capture timestamps ([`time::Ts`]). Only the `live` command's
//! driver advances capture time on a quiet link.
#![deny(unsafe_code)]

pub mod analyze;
pub mod decimal;
pub mod decode;
pub mod extract;
pub mod flows;
#[doc(hidden)]
pub mod fuzzing;
pub mod ladder;
pub mod packet;
pub mod report;
pub mod sniff;
pub mod source;
#[cfg(test)]
mod testutil;
pub mod time;
pub mod verdict;
