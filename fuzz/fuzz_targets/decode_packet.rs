//! (b) Link layer + IP + TCP/ICMP decode of one packet. The first byte picks
//! the link type (among those we support, plus one we do not), the second
//! how the original length relates to the captured length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcptriage::decode::{self, Decoded};
use tcptriage::packet::Frame;
use tcptriage::time::Ts;

const LINKTYPES: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let linktype = LINKTYPES[usize::from(data[0]) % LINKTYPES.len()];
    let mode = data[1];
    let pkt = &data[2..];
    check(decode::decode(linktype, pkt), pkt);
    let orig_len = match mode % 3 {
        0 => pkt.len() as u32,
        1 => (pkt.len() as u32).saturating_add(u32::from(mode)),
        _ => (pkt.len() as u32).saturating_sub(u32::from(mode)),
    };
    let frame = Frame {
        number: 1,
        ts: Ts(0),
        linktype,
        orig_len,
        data: pkt,
    };
    check(decode::decode_frame(&frame), pkt);
});

fn check(d: Result<Decoded<'_>, decode::DecodeError>, pkt: &[u8]) {
    match d {
        Ok(Decoded::Tcp(seg)) => {
            assert!(seg.payload.len() <= pkt.len());
            let _ = seg.flags.short();
        }
        Ok(_) => {}
        Err(e) => {
            let _ = e.reason();
        }
    }
}
