//! Inputs the fuzzers in `fuzz/` found, replayed in the normal test suite.
//! Each helper mirrors the input layout of one fuzz target, so a reproducer
//! file from `fuzz/artifacts/TARGET/` can be dropped into
//! `tests/fuzz-regressions/` as `TARGET-what.bin` and is replayed by
//! [`every_saved_reproducer`].

use std::io::Cursor;
use std::path::Path;
use tcptriage::analyze::{Options, analyze};
use tcptriage::decode::{self, Decoded};
use tcptriage::flows::HttpResponseHead;
use tcptriage::report;
use tcptriage::source::{Frame, MemorySource, file::open_reader};
use tcptriage::time::Ts;

const LINKTYPES: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

/// `fuzz_targets/read_capture.rs`.
fn read_capture(data: &[u8]) {
    let Ok(mut src) = open_reader(Cursor::new(data.to_vec())) else {
        return;
    };
    while let Ok(Some(f)) = src.next_frame() {
        assert!(f.data.len() <= tcptriage::source::file::MAX_RECORD);
    }
    assert!(matches!(src.next_frame(), Ok(None) | Err(_)));
}

/// `fuzz_targets/decode_packet.rs`, for every link type.
fn decode_packet(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let pkt = &data[2..];
    for linktype in LINKTYPES {
        if let Ok(Decoded::Tcp(seg)) = decode::decode(linktype, pkt) {
            assert!(seg.payload.len() <= pkt.len());
        }
        for orig_len in [pkt.len() as u32, pkt.len() as u32 + 100, 0] {
            let frame = Frame {
                number: 1,
                ts: Ts(0),
                linktype,
                orig_len,
                data: pkt,
            };
            let _ = decode::decode_frame(&frame);
        }
    }
}

/// `fuzz_targets/analyze_frames.rs`.
fn analyze_frames(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let max_connections = usize::from(data[0] % 16) + 1;
    let stall_after_ns = i64::from(data[1]) * 100_000_000;
    let mut rest = &data[2..];
    let mut frames = Vec::new();
    let mut ts: i64 = 1_700_000_000_000_000_000;
    while rest.len() >= 5 && frames.len() < 4096 {
        let lt = LINKTYPES[usize::from(rest[0]) % LINKTYPES.len()];
        let step = u16::from_le_bytes([rest[1], rest[2]]);
        let step = if step & 0x8000 != 0 {
            -i64::from(step & 0x7fff) * 10_000
        } else {
            i64::from(step) * 10_000
        };
        ts = ts.saturating_add(step);
        let len = usize::from(u16::from_le_bytes([rest[3], rest[4]]));
        rest = &rest[5..];
        let len = len.min(rest.len());
        frames.push((Ts(ts), lt, rest[..len].to_vec()));
        rest = &rest[len..];
    }
    let opts = Options {
        stall_after_ns,
        max_connections,
        ..Options::default()
    };
    let mut src = MemorySource::new(frames);
    let Ok(rep) = analyze(&mut src, "fuzz", &opts) else {
        return;
    };
    serde_json::to_vec(&rep).unwrap();
    let mut out = Vec::new();
    report::write_table(&mut out, &rep, true).unwrap();
    report::write_ndjson(&mut out, &rep).unwrap();
}

/// `fuzz_targets/http_head.rs`.
fn http_head(data: &[u8]) {
    if let Some(h) = HttpResponseHead::parse(data) {
        assert!(h.header_len as usize <= data.len());
    }
}

fn replay(name: &str, data: &[u8]) {
    match name.split('-').next().unwrap() {
        "read_capture" => read_capture(data),
        "decode_packet" => decode_packet(data),
        "analyze_frames" => analyze_frames(data),
        "http_head" => http_head(data),
        other => panic!("{name}: unknown fuzz target {other}"),
    }
}

#[test]
fn every_saved_reproducer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".bin") {
            continue;
        }
        replay(&name, &std::fs::read(&p).unwrap());
        n += 1;
    }
    assert!(n > 0);
}

/// decode_packet: an ICMPv6 error quoting an IPv6 packet whose extension
/// header chain is cut short. etherparse's extension iterator read past the
/// end of the buffer (heap-buffer-overflow under AddressSanitizer); the
/// chain is now walked with bounds checks.
#[test]
fn icmpv6_quoting_a_truncated_extension_chain() {
    let data = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz-regressions/decode_packet-ipv6-ext-overread.bin"),
    )
    .unwrap();
    // Ethernet frame: the ICMPv6 error is decoded, but its quote is not TCP.
    let pkt = &data[2..];
    assert!(!matches!(
        decode::decode(1, pkt),
        Ok(Decoded::IcmpError(_)) | Err(_)
    ));
    decode_packet(&data);
}
