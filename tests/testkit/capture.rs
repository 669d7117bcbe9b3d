//! Capture files. Well-formed ones are written by the library's own
//! [`PcapngWriter`]; the byte-by-byte builders are for what a writer must
//! never produce (lengths that lie, absurd options, several interfaces)
//! and for tests that check byte offsets.

use std::io::Write;
use tcptriage::source::PcapngWriter;
use tcptriage::time::Ts;

/// A pcapng of one interface (`linktype`, `snaplen`) holding `frames`
/// (time, original length, captured bytes), written by [`PcapngWriter`]
/// into `out`, which is flushed and handed back.
pub fn pcapng<'a, W: Write>(
    out: W,
    linktype: u32,
    snaplen: u32,
    frames: impl IntoIterator<Item = (Ts, u32, &'a [u8])>,
) -> W {
    let mut w = PcapngWriter::new(out, linktype, snaplen).unwrap();
    for (ts, orig_len, data) in frames {
        w.write(ts, orig_len, data).unwrap();
    }
    let mut out = w.finish().unwrap();
    out.flush().unwrap();
    out
}

// ---- pcap, byte by byte (little-endian, microseconds) ----

/// The 24-byte pcap file header.
pub fn pcap_header(snaplen: u32, linktype: u32) -> Vec<u8> {
    let mut v = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&4u16.to_le_bytes());
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&snaplen.to_le_bytes());
    v.extend_from_slice(&linktype.to_le_bytes());
    v
}

/// One pcap record: its 16-byte header with the lengths given (true or
/// not), then `data`.
pub fn pcap_record(ts_us: u64, caplen: u32, orig: u32, data: &[u8]) -> Vec<u8> {
    let mut v = ((ts_us / 1_000_000) as u32).to_le_bytes().to_vec();
    v.extend_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
    v.extend_from_slice(&caplen.to_le_bytes());
    v.extend_from_slice(&orig.to_le_bytes());
    v.extend_from_slice(data);
    v
}

/// A pcap (snaplen 65535) of `frames`, whole, one second apart from
/// 1,700,000,000 s.
pub fn pcap_with(linktype: u32, frames: &[&[u8]]) -> Vec<u8> {
    let mut v = pcap_header(65535, linktype);
    for (i, f) in frames.iter().enumerate() {
        let ts_us = u64::from(1_700_000_000 + i as u32) * 1_000_000;
        v.extend(pcap_record(ts_us, f.len() as u32, f.len() as u32, f));
    }
    v
}

// ---- pcapng, block by block (little-endian) ----

/// A block of type `btype`: `body` padded to 4 bytes, between the two
/// length fields.
pub fn block(btype: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let len = (body.len() + 12) as u32;
    let mut v = btype.to_le_bytes().to_vec();
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(&body);
    v.extend_from_slice(&len.to_le_bytes());
    v
}

/// A section header block, version 1.0, section length unknown.
pub fn shb() -> Vec<u8> {
    let mut b = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    b.extend_from_slice(&[1, 0, 0, 0]);
    b.extend_from_slice(&[0xff; 8]);
    block(0x0A0D_0D0A, &b)
}

/// An interface description block (snaplen 0), with an `if_tsresol`
/// option when given.
pub fn idb(linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut b = linktype.to_le_bytes().to_vec();
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    if let Some(r) = tsresol {
        b.extend_from_slice(&9u16.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&[r, 0, 0, 0]);
        b.extend_from_slice(&[0, 0, 0, 0]);
    }
    block(1, &b)
}

/// An enhanced packet block on interface 0 at `ts` (interface units).
pub fn epb(ts: u64, data: &[u8]) -> Vec<u8> {
    epb_on(0, ts, data)
}

/// An enhanced packet block on interface `if_id` at `ts`, whole.
pub fn epb_on(if_id: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut b = if_id.to_le_bytes().to_vec();
    b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
    b.extend_from_slice(&(ts as u32).to_le_bytes());
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(data);
    block(6, &b)
}
