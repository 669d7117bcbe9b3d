//! Frame decoding (placeholder until the decoder lands).

use super::{DecodeError, Decoded};

/// Decodes one frame of link type `linktype`.
pub fn decode(linktype: u32, _data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    Err(DecodeError::UnsupportedLinkType(linktype))
}
