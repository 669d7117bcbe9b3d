//! (a) The file readers: a whole pcap or pcapng file from the fuzzer bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use tcptriage::source;

fuzz_target!(|data: &[u8]| {
    let Ok(mut src) = source::file::open_reader(Cursor::new(data.to_vec())) else {
        return;
    };
    let mut sum = 0u64;
    loop {
        match src.next_frame() {
            Ok(Some(f)) => {
                // Touch the frame so a bad slice would be noticed.
                sum = sum.wrapping_add(f.data.iter().map(|&b| u64::from(b)).sum::<u64>());
                sum = sum.wrapping_add(f.number ^ u64::from(f.linktype) ^ u64::from(f.orig_len));
                assert!(f.data.len() <= source::file::MAX_RECORD);
            }
            Ok(None) => break,
            Err(e) => {
                let _ = e.to_string();
                break;
            }
        }
    }
    // At the end it stays at the end.
    assert!(matches!(src.next_frame(), Ok(None) | Err(_)));
    for w in src.warnings() {
        assert!(!w.is_empty());
    }
    let _ = (src.format(), sum);
});
