//! DNS messages (RFC 1035) over UDP and TCP, and a tracker that pairs
//! queries with their responses.
//!
//! - `wire.rs`: the message parser ([`parse`], [`parse_tcp_stream`]), our
//!   own rather than a crate's (its header says why), and the type and
//!   RCODE mnemonics ([`qtype_name`], [`rcode_name`]);
//! - `tracker.rs`: [`DnsTracker`], which pairs queries with responses,
//!   recognises retransmissions, classifies each outcome ([`DnsOutcome`])
//!   and names answered addresses ([`DnsTracker::name_for`]).
//!
//! Everything is re-exported here: callers use `sniff::dns::X`.

mod tracker;
mod wire;

#[cfg(test)]
mod testkit;

pub use tracker::{
    DEFAULT_TIMEOUT_NS, DnsOutcome, DnsQuery, DnsTracker, FINISH_TIMEOUT_NS, MAX_ADDRESSES,
    MAX_CNAMES, MAX_NAMED_ADDRESSES, MAX_OPEN_QUERIES, MAX_QUERY_FRAMES, NAMES_PER_ADDRESS,
    Transport,
};
pub use wire::{
    DnsError, DnsMessage, MAX_ANSWERS, MAX_NAME_WIRE_LEN, MAX_POINTER_HOPS, MAX_QUESTIONS,
    MAX_TCP_MESSAGES, Question, Record, RecordData, parse, parse_tcp_stream, qtype_name,
    rcode_name,
};
