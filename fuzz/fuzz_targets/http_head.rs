//! (d) The HTTP/1.x response-head parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcptriage::flows::HttpResponseHead;

fuzz_target!(|data: &[u8]| {
    if let Some(h) = HttpResponseHead::parse(data) {
        assert!(h.header_len as usize <= data.len());
        assert!(!(h.chunked && h.content_length.is_some()));
    }
});
