//! Live capture when the crate is built without the `live` feature: the same
//! public API, where every entry point fails with "live capture not compiled
//! in".

use super::{Frame, PacketSource, SourceError};
use std::net::IpAddr;

/// The environment variable that replaces the list of library names tried
/// (unused in this build).
pub const LIBPCAP_ENV: &str = "TCPTRIAGE_LIBPCAP";

/// The library names a `live` build tries.
pub const DEFAULT_LIBPCAP_NAMES: [&str; 3] = ["libpcap.so.1", "libpcap.so.0.8", "libpcap.so"];

const NOT_COMPILED: &str =
    "live capture not compiled in: this tcptriage was built without the `live` feature";

/// How to open a live capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOptions {
    pub interface: String,
    pub filter: Option<String>,
    pub snaplen: u32,
    pub promisc: bool,
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

/// Why live capture failed. In this build, always [`LiveError::Capture`].
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
    #[error("{0}")]
    Capture(String),
}

impl LiveError {
    /// The process exit code for this error: 2.
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// Kernel counters for a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LiveStats {
    pub received: u64,
    pub dropped_kernel: u64,
    pub dropped_interface: u64,
}

/// A capture interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    pub name: String,
    pub description: Option<String>,
    pub addresses: Vec<IpAddr>,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
}

/// What one [`LiveSource::next`] call yielded.
#[derive(Debug)]
pub enum LiveNext<'a> {
    Frame(Frame<'a>),
    Timeout,
    Stopped,
}

/// Stops a capture (does nothing in this build).
#[derive(Debug, Clone)]
pub struct Breaker(());

impl Breaker {
    pub fn stop(&self) {}
}

/// A live capture; cannot be opened in this build.
#[derive(Debug)]
pub struct LiveSource {
    never: std::convert::Infallible,
}

/// The library names a `live` build would try.
pub fn candidate_names(env: Option<&str>) -> Vec<String> {
    match env.map(str::trim) {
        Some(name) if !name.is_empty() => vec![name.to_string()],
        _ => DEFAULT_LIBPCAP_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

impl LiveSource {
    /// Always fails: live capture is not compiled in.
    pub fn open(_opts: &LiveOptions) -> Result<LiveSource, LiveError> {
        Err(LiveError::Capture(NOT_COMPILED.to_string()))
    }

    // Not an Iterator: each item borrows the source.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<LiveNext<'_>, LiveError> {
        match self.never {}
    }

    pub fn linktype(&self) -> u32 {
        match self.never {}
    }

    pub fn nanosecond_timestamps(&self) -> bool {
        match self.never {}
    }

    pub fn interface(&self) -> &str {
        match self.never {}
    }

    pub fn stats(&self) -> Option<LiveStats> {
        match self.never {}
    }

    pub fn breaker(&self) -> Breaker {
        match self.never {}
    }
}

impl PacketSource for LiveSource {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        match self.never {}
    }

    fn warnings(&self) -> &[String] {
        match self.never {}
    }

    fn format(&self) -> String {
        match self.never {}
    }
}

/// Always fails: live capture is not compiled in.
pub fn list_interfaces() -> Result<Vec<InterfaceInfo>, LiveError> {
    Err(LiveError::Capture(NOT_COMPILED.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_says_not_compiled_in() {
        let err = LiveSource::open(&LiveOptions::default()).unwrap_err();
        assert!(err.to_string().contains("not compiled in"), "{err}");
        assert_eq!(err.exit_code(), 2);
        let err = list_interfaces().unwrap_err();
        assert!(err.to_string().contains("not compiled in"), "{err}");
    }
}
