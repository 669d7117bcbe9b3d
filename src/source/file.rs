//! Saved captures: pcap and pcapng (placeholder until the reader lands).

use super::{PacketSource, SourceError};
use std::path::Path;

/// Opens a capture file, or standard input for `-`.
pub fn open_path(path: &Path) -> Result<Box<dyn PacketSource>, SourceError> {
    Err(SourceError::Unsupported(format!(
        "{}: reader not built yet",
        path.display()
    )))
}
