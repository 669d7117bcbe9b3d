//! Segment builders: raw IPv4/TCP frames (LINKTYPE_RAW, 101) built byte by
//! byte, or through etherparse's `PacketBuilder` with correct checksums.

use etherparse::PacketBuilder;
use tcptriage::time::Ts;

/// Frames for `MemorySource::new`: time, link type, bytes.
pub type Frames = Vec<(Ts, u32, Vec<u8>)>;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// 10.0.0.1:40000, the client of [`tcp4`] frames.
pub const CLIENT: ([u8; 4], u16) = ([10, 0, 0, 1], 40000);
/// 10.0.0.2:80, the server of [`tcp4`] frames.
pub const SERVER: ([u8; 4], u16) = ([10, 0, 0, 2], 80);

/// A raw IPv4/TCP packet (LINKTYPE_RAW) with `payload_len` payload bytes
/// announced in the IP header; `with_payload` puts them in the frame too
/// (as `x`s), otherwise the frame is cut after the 40 header bytes. TTL
/// 64, DF, IP ID 1, window 65535, checksums 0.
pub fn tcp4(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    ack: u32,
    flags: u8,
    payload_len: u16,
    with_payload: bool,
) -> Vec<u8> {
    let total = 40 + payload_len;
    let mut v = vec![0x45, 0];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
    v.extend_from_slice(&src.0);
    v.extend_from_slice(&dst.0);
    v.extend_from_slice(&src.1.to_be_bytes());
    v.extend_from_slice(&dst.1.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&ack.to_be_bytes());
    v.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    if with_payload {
        v.resize(usize::from(total), b'x');
    }
    v
}

/// A SYN from [`CLIENT`] to [`SERVER`], sequence number 1, 40 bytes.
pub fn syn() -> Vec<u8> {
    tcp4(CLIENT, SERVER, 1, 0, SYN, 0, false)
}

/// An IPv4/TCP segment (LINKTYPE_RAW) built by etherparse: TTL 64, window
/// 64240, SYN and RST as asked, ACK when `ack` is given, `data` as payload.
#[allow(clippy::too_many_arguments)]
pub fn seg(
    from: [u8; 4],
    to: [u8; 4],
    sp: u16,
    dp: u16,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    rst: bool,
    data: &[u8],
) -> Vec<u8> {
    let mut t = PacketBuilder::ipv4(from, to, 64).tcp(sp, dp, seq, 64240);
    if syn {
        t = t.syn();
    }
    if rst {
        t = t.rst();
    }
    if let Some(a) = ack {
        t = t.ack(a);
    }
    let mut b = Vec::new();
    t.write(&mut b, data).unwrap();
    b
}

/// An IPv4/UDP datagram (LINKTYPE_RAW) built by etherparse, TTL 64.
pub fn udp4(from: [u8; 4], to: [u8; 4], sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    PacketBuilder::ipv4(from, to, 64)
        .udp(sp, dp)
        .write(&mut b, payload)
        .unwrap();
    b
}
