//! The live-capture types shared by the libpcap build (`live.rs`) and the
//! build without the `live` feature (`live_disabled.rs`), so both expose the
//! same API.

use super::Frame;
use std::net::IpAddr;

/// The environment variable that replaces the list of library names tried.
pub const LIBPCAP_ENV: &str = "TCPTRIAGE_LIBPCAP";

/// The library names tried, in order, when `TCPTRIAGE_LIBPCAP` is not set.
pub const DEFAULT_LIBPCAP_NAMES: [&str; 3] = ["libpcap.so.1", "libpcap.so.0.8", "libpcap.so"];

/// How to open a live capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOptions {
    /// Interface name, e.g. `eth0`, `lo`, or `any`.
    pub interface: String,
    /// A libpcap filter expression (`tcp port 443`), compiled by libpcap.
    pub filter: Option<String>,
    /// Bytes kept per packet.
    pub snaplen: u32,
    /// Promiscuous mode.
    pub promisc: bool,
    /// Read timeout: `LiveSource::next` returns [`LiveNext::Timeout`] at most this
    /// long after the last packet when nothing arrives.
    pub timeout_ms: u32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            interface: String::new(),
            filter: None,
            snaplen: 262_144,
            promisc: true,
            timeout_ms: 100,
        }
    }
}

/// Why live capture failed. Every variant exits with code 2.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "live capture needs libpcap at run time, which was not found (tried {tried}): install it with `apt-get install libpcap0.8`"
    )]
    LibpcapMissing { tried: String },
    #[error(
        "no permission to capture on {interface}: {message}; live capture needs CAP_NET_RAW: run as root, or grant it with `sudo setcap cap_net_raw,cap_net_admin=eip $(command -v tcptriage)`"
    )]
    Permission { interface: String, message: String },
    #[error("no such capture interface {interface}: {message}")]
    NoSuchDevice { interface: String, message: String },
    #[error("invalid capture filter `{filter}`: {message}")]
    BadFilter { filter: String, message: String },
    #[error("live capture failed: {0}")]
    Capture(String),
}

impl LiveError {
    /// The process exit code for this error: 2, like every fatal input error.
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// Kernel counters for a capture (`pcap_stats`; they wrap at 2^32 on Linux).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LiveStats {
    /// Packets that passed the filter.
    pub received: u64,
    /// Dropped for lack of buffer space.
    pub dropped_kernel: u64,
    /// Dropped by the interface or its driver.
    pub dropped_interface: u64,
}

/// A capture interface, as `pcap_findalldevs` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    pub name: String,
    pub description: Option<String>,
    /// IPv4 and IPv6 addresses (other families are left out).
    pub addresses: Vec<IpAddr>,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
}

/// What one `LiveSource::next` call yielded.
#[derive(Debug)]
pub enum LiveNext<'a> {
    /// A packet. Its data is libpcap's buffer: valid until the next call.
    Frame(Frame<'a>),
    /// The read timeout expired with no packet; call again.
    Timeout,
    /// A `Breaker` interrupted the capture.
    Stopped,
}
