//! (c) The whole analysis of a short synthetic capture: the fuzzer bytes are
//! cut into frames (`[link type index][time step: 2 bytes][length: 2 bytes]
//! [bytes]`, repeated), analysed with a small connection limit, and the
//! report is written as JSON, NDJSON and a table.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcptriage::analyze::{Options, analyze};
use tcptriage::report;
use tcptriage::source::MemorySource;
use tcptriage::time::Ts;

const LINKTYPES: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

fuzz_target!(|data: &[u8]| {
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
        // Mostly forward in time (10 µs units), sometimes backwards.
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
    let json = serde_json::to_vec(&rep).expect("report serialises");
    assert!(!json.is_empty());
    let mut out = Vec::new();
    report::write_table(&mut out, &rep, true).expect("table");
    report::write_table(&mut out, &rep, false).expect("table");
    report::write_ndjson(&mut out, &rep).expect("ndjson");
    report::write_json(&mut out, std::slice::from_ref(&rep)).expect("json");
    assert!(rep.summary.connections as usize >= rep.connections.len());
});
