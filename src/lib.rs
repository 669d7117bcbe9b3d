//! tcptriage: reads packet captures and explains why TCP connections failed.
//!
//! The crate is a pipeline; each stage is one module with a small public surface:
//!
//! ```text
//! source (file / live) -> decode (link -> IP -> TCP/ICMP) -> flows (4-tuple table,
//! TCP state per direction) -> verdict (rules with evidence) -> report (table, JSON)
//! ```
//!
//! [`analyze`] wires the stages together for saved captures. Time is data:
//! nothing after `source` reads the wall clock; all timing comes from capture
//! timestamps ([`time::Ts`]).
#![deny(unsafe_code)]

pub mod analyze;
pub mod decode;
pub mod flows;
pub mod report;
pub mod source;
pub mod time;
pub mod verdict;
