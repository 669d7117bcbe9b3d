//! Live capture when the crate is built without the `live` feature: the same
//! public API, where every entry point fails with "live capture not compiled
//! in".

pub use super::live_types::*;
use super::{Frame, PacketSource, SourceError};

const NOT_COMPILED: &str =
    "live capture not compiled in: this tcptriage was built without the `live` feature";

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
