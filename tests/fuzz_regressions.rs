//! Inputs the fuzzers in `fuzz/` found, and the seeds they start from,
//! replayed in the normal test suite through the fuzz targets' own
//! harnesses: `tcptriage::fuzzing`, which every `fuzz/fuzz_targets/*.rs`
//! calls in one line, so what runs here is exactly what the fuzzer ran.
//! A reproducer from `fuzz/artifacts/TARGET/` is dropped into
//! `tests/fuzz-regressions/` as `TARGET-what.bin` and replayed by
//! [`every_saved_reproducer`]. The tests run with overflow checks and
//! debug assertions (the test profile), as `fuzz/run.sh` fuzzes.

mod testkit;

// The seed builder of `fuzz/run.sh`, for `every_seed` (its `main` is not
// used here).
#[allow(dead_code)]
#[path = "../examples/fuzz_seeds.rs"]
mod fuzz_seeds;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tcptriage::decode::{self, Decoded};
use tcptriage::fuzzing;

/// Runs the harness of `target` on `data`.
fn replay(target: &str, data: &[u8]) {
    match target {
        "read_capture" => fuzzing::read_capture(data),
        "decode_packet" => fuzzing::decode_packet(data),
        "analyze_frames" => fuzzing::analyze_frames(data),
        "http_head" => fuzzing::http_head(data),
        "dns_message" => fuzzing::dns_message(data),
        "tls_stream" => fuzzing::tls_stream(data),
        "http_request" => fuzzing::http_request(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

fn regressions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions")
}

/// The harnesses of the application-parser targets on real inputs (the
/// TLS fixtures, a DNS query and response, one of go's requests).
#[test]
fn application_parser_harnesses_on_real_inputs() {
    let tls_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sniff/testdata/tls");
    for name in [
        "tls12_c2s.bin",
        "tls12_s2c.bin",
        "tls13_s2c.bin",
        "sni_reject_s2c.bin",
    ] {
        let mut data = vec![0, 0];
        data.extend(std::fs::read(tls_dir.join(name)).unwrap());
        fuzzing::tls_stream(&data);
    }
    // "proxy.golang.org" A query and its answer as one TCP stream.
    let q = testkit::hostile::dns_query(&[b"proxy", b"golang", b"org"]);
    let mut r = q.clone();
    r[2] = 0x81;
    r[3] = 0x80;
    r[7] = 1;
    r.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x8e\xfa\x4a\x11");
    let mut data = vec![100, 0, 0x90, 0, 0, 0, 0, 0, 0];
    for m in [&q[..], &r[..]] {
        data.extend_from_slice(&(m.len() as u16).to_be_bytes());
        data.extend_from_slice(m);
    }
    fuzzing::dns_message(&data);
    fuzzing::http_request(
        b"GET /golang.org/x/text/@v/v0.3.7.zip HTTP/1.1\r\nHost: goproxy.corp.example:8080\r\n\r\n",
    );
}

#[test]
fn every_saved_reproducer() {
    let mut n = 0;
    for e in std::fs::read_dir(regressions()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".bin") {
            continue;
        }
        let target = fuzz_seeds::TARGETS
            .into_iter()
            .find(|t| name.starts_with(&format!("{t}-")))
            .unwrap_or_else(|| panic!("{name}: no fuzz target of that name"));
        replay(target, &std::fs::read(&p).unwrap());
        n += 1;
    }
    assert!(n > 0);
}

/// The seeds `fuzz/run.sh` starts every target from (those of `testdata/`
/// and the TLS stream fixtures; the public corpus is left to the fuzzer),
/// each through its target's harness.
#[test]
fn every_seed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let inputs = [testkit::testdata(), root.join("src/sniff/testdata/tls")];
    let mut per_target = BTreeMap::<String, usize>::new();
    fuzz_seeds::seeds(&inputs, &mut |target, name, seed| {
        let run = std::panic::catch_unwind(|| replay(target, seed));
        assert!(run.is_ok(), "seed {target}/{name} failed its harness");
        *per_target.entry(target.to_string()).or_default() += 1;
        Ok(())
    })
    .unwrap();
    for t in fuzz_seeds::TARGETS {
        assert!(per_target.get(t).is_some_and(|&n| n > 0), "{per_target:?}");
    }
}

/// decode_packet: an ICMPv6 error quoting an IPv6 packet whose extension
/// header chain is cut short. etherparse's extension iterator read past the
/// end of the buffer (heap-buffer-overflow under AddressSanitizer); the
/// chain is now walked with bounds checks.
#[test]
fn icmpv6_quoting_a_truncated_extension_chain() {
    let data = std::fs::read(regressions().join("decode_packet-ipv6-ext-overread.bin")).unwrap();
    // Ethernet frame: the ICMPv6 error is decoded, but its quote is not TCP.
    assert_eq!(data[0], 1, "link type index 1: Ethernet");
    let pkt = &data[2..];
    assert!(!matches!(
        decode::decode(1, pkt),
        Ok(Decoded::IcmpError(_)) | Err(_)
    ));
    fuzzing::decode_packet(&data);
}

/// tls_stream: the harness's own cutter multiplied `param` by Knuth's
/// constant in plain `u32` arithmetic, an overflow for any `param` from 2
/// on; no fuzz run saw it while `fuzz/run.sh` built with `--release`
/// (no overflow checks).
#[test]
fn tls_stream_cutter_hash_wraps() {
    let data = std::fs::read(regressions().join("tls_stream-cut-multiply-overflow.bin")).unwrap();
    assert_eq!(data, [0x00, 0x70]);
    fuzzing::tls_stream(&data);
}
