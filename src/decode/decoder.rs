//! Frame decoding: link layer -> IPv4/IPv6 (etherparse `LaxSlicedPacket`, so
//! snaplen-cut frames still decode) -> TCP, or an ICMP/ICMPv6 error quoting
//! TCP.
//!
//! Link layers etherparse does not know (SLL v1 in its lax parser, SLL2,
//! BSD NULL/LOOP, raw IP) are stripped here and handed to
//! `LaxSlicedPacket::from_ether_type` / `from_ip`. The TCP header is read
//! directly from the IP payload (fixed 20 bytes, then the options when they
//! were captured), which is what lets a frame cut inside the TCP options still
//! yield a segment (`options_truncated`). Nothing here allocates or panics.

use super::{
    DecodeError, Decoded, Detached, IcmpError, IcmpErrorKind, IpInfo, OtherKind, QuotedTcp,
    TcpFlags, TcpOptions, TcpSegment, UdpDatagram,
};
use crate::packet::link;
use etherparse::err::Layer;
use etherparse::{EtherType, IpNumber, LaxIpPayloadSlice, LaxNetSlice, LaxSlicedPacket};
use std::net::IpAddr;

const TCP: u8 = 6;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;
const UDP: u8 = 17;

/// Decodes one frame of link type `linktype`.
///
/// Without the frame's original length, the IP length fields are trusted for
/// the on-the-wire payload length. Prefer [`decode_frame`] for captured frames.
pub fn decode(linktype: u32, data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    decode_with_limit(linktype, data, None)
}

/// Decodes a captured frame. Like [`decode`], but an IP length field that
/// claims more than the frame's original length (`orig_len`) is clamped to it,
/// as Wireshark does ("IPv4 total length exceeds packet length"), so a bogus
/// length cannot invent payload bytes.
pub fn decode_frame<'a>(frame: &crate::packet::Frame<'a>) -> Result<Decoded<'a>, DecodeError> {
    decode_with_limit(frame.linktype, frame.data, wire_limit(frame))
}

fn wire_limit(frame: &crate::packet::Frame<'_>) -> Option<WireLimit> {
    let orig = frame.orig_len as usize;
    (orig >= frame.data.len()).then_some(WireLimit {
        frame_start: frame.data.as_ptr() as usize,
        orig_len: orig,
    })
}

/// The start of the captured frame and its length on the wire.
#[derive(Clone, Copy)]
struct WireLimit {
    frame_start: usize,
    orig_len: usize,
}

fn decode_with_limit(
    linktype: u32,
    data: &[u8],
    limit: Option<WireLimit>,
) -> Result<Decoded<'_>, DecodeError> {
    if linktype == link::ETHERNET
        && let Some(d) = fast_ethernet_tcp(data, limit)
    {
        return d;
    }
    sliced_with_limit(linktype, data, limit)
}

/// The common case without etherparse: Ethernet II straight to an IPv4
/// packet (no fragment) or an IPv6 packet (no extension header) carrying
/// TCP, with the whole IP packet captured and a non-zero length field.
/// Anything else (VLAN tags, fragments, extension headers, snaplen cuts,
/// odd lengths, other protocols) returns `None` and goes through
/// etherparse; for what it accepts, the result is the one etherparse's
/// path gives (a test checks both on every truncation and on noise).
fn fast_ethernet_tcp(
    data: &[u8],
    limit: Option<WireLimit>,
) -> Option<Result<Decoded<'_>, DecodeError>> {
    let (info, l4, l4_wire) = fast_ethernet_ip(data, limit)?;
    Some(parse_tcp(info, l4, l4_wire).map(Decoded::Tcp))
}

/// [`fast_ethernet_tcp`] up to the TCP header: the IP packet's addresses,
/// its captured transport bytes and their length on the wire.
#[inline(always)]
fn fast_ethernet_ip(data: &[u8], limit: Option<WireLimit>) -> Option<(IpInfo, &[u8], u32)> {
    const ETH: usize = 14;
    let ip = data.get(ETH..)?;
    let ethertype = be16(data, 12);
    let (info, hdr_len, total) = match ethertype {
        0x0800 => {
            if ip.len() < 20 || ip[0] >> 4 != 4 {
                return None;
            }
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(be16(ip, 2));
            // MF flag or a fragment offset: etherparse's path decides.
            if ihl < 20 || total < ihl || total > ip.len() || be16(ip, 6) & 0x3fff != 0 {
                return None;
            }
            if ip[9] != TCP {
                return None;
            }
            let a = |at: usize| std::net::Ipv4Addr::from(be32(ip, at));
            let info = IpInfo {
                src: IpAddr::V4(a(12)),
                dst: IpAddr::V4(a(16)),
                ttl: ip[8],
                ip_id: Some(be16(ip, 4)),
            };
            (info, ihl, total)
        }
        0x86DD => {
            if ip.len() < 40 || ip[0] >> 4 != 6 || ip[6] != TCP {
                return None;
            }
            let total = 40 + usize::from(be16(ip, 4));
            if total == 40 || total > ip.len() {
                return None;
            }
            let a = |at: usize| {
                let b: [u8; 16] = ip[at..at + 16].try_into().expect("16 bytes");
                std::net::Ipv6Addr::from(b)
            };
            let info = IpInfo {
                src: IpAddr::V6(a(8)),
                dst: IpAddr::V6(a(24)),
                ttl: ip[7],
                ip_id: None,
            };
            (info, 40, total)
        }
        _ => return None,
    };
    // As `l4_wire_len`: the IP packet cannot be longer than the frame on
    // the wire.
    let total_wire = match limit {
        Some(l) => total.min(
            l.orig_len
                .saturating_sub((ip.as_ptr() as usize).saturating_sub(l.frame_start)),
        ),
        None => total,
    };
    let l4_wire = u32::try_from(total_wire.saturating_sub(hdr_len)).unwrap_or(u32::MAX);
    Some((info, &ip[hdr_len..total], l4_wire))
}

/// Decodes `frame` into `out` without its payload, as
/// [`Detached::new`]`(decode_frame(frame), frame.data)` does. The common
/// case (Ethernet, IPv4 or IPv6, TCP) is written into `out` field by field:
/// building the decoded frame, then its detached copy, then moving that
/// into a batch cost a tenth of the reading thread.
pub fn decode_detached(frame: &crate::packet::Frame<'_>, out: &mut Detached) {
    let data = frame.data;
    if frame.linktype == link::ETHERNET
        && let Some((info, l4, l4_wire)) = fast_ethernet_ip(data, wire_limit(frame))
    {
        match tcp_header(info, l4, l4_wire) {
            Ok((seg, at, len)) => {
                out.decoded = Ok(Decoded::Tcp(seg));
                // `l4` is a slice of `data`: the payload's place in the frame.
                let start = (l4.as_ptr() as usize - data.as_ptr() as usize) + at;
                (out.payload_start, out.payload_len) = if len == 0 { (0, 0) } else { (start, len) };
            }
            Err(e) => {
                out.decoded = Err(e);
                (out.payload_start, out.payload_len) = (0, 0);
            }
        }
        return;
    }
    *out = Detached::new(decode_frame(frame), data);
}

/// [`decode_with_limit`] through etherparse, for every link type.
fn sliced_with_limit(
    linktype: u32,
    data: &[u8],
    limit: Option<WireLimit>,
) -> Result<Decoded<'_>, DecodeError> {
    let pkt = match linktype {
        link::ETHERNET => {
            LaxSlicedPacket::from_ethernet(data).map_err(|_| DecodeError::TruncatedLink)?
        }
        link::LINUX_SLL => {
            // 16 bytes: packet type, ARPHRD, address length, 8 address bytes,
            // protocol type (network order).
            if data.len() < 16 {
                return Err(DecodeError::TruncatedLink);
            }
            let proto = u16::from_be_bytes([data[14], data[15]]);
            from_ether_type(proto, &data[16..])
        }
        link::LINUX_SLL2 => {
            // 20 bytes: protocol type (network order), reserved, interface
            // index, ARPHRD, packet type, address length, 8 address bytes.
            if data.len() < 20 {
                return Err(DecodeError::TruncatedLink);
            }
            let proto = u16::from_be_bytes([data[0], data[1]]);
            from_ether_type(proto, &data[20..])
        }
        link::RAW_12 | link::RAW_14 | link::RAW | link::IPV4 | link::IPV6 => from_ip(data)?,
        link::NULL | link::LOOP => {
            if data.len() < 4 {
                return Err(DecodeError::TruncatedLink);
            }
            let raw = [data[0], data[1], data[2], data[3]];
            let be = u32::from_be_bytes(raw);
            let family = if linktype == link::LOOP {
                be
            } else {
                // Host byte order of the capturing machine: AF values are
                // small, so whichever reading is small is the right one.
                let le = u32::from_le_bytes(raw);
                le.min(be)
            };
            match family {
                // AF_INET; AF_INET6 on NetBSD/OpenBSD (24), FreeBSD (28),
                // macOS (30); Linux AF_INET6 (10) also seen in the wild.
                2 | 10 | 24 | 28 | 30 => from_ip(&data[4..])?,
                _ => return Ok(Decoded::Other(OtherKind::NonIp)),
            }
        }
        other => return Err(DecodeError::UnsupportedLinkType(other)),
    };
    decode_sliced(&pkt, limit)
}

fn from_ether_type(proto: u16, payload: &[u8]) -> LaxSlicedPacket<'_> {
    LaxSlicedPacket::from_ether_type(EtherType(proto), payload)
}

fn from_ip(data: &[u8]) -> Result<LaxSlicedPacket<'_>, DecodeError> {
    match data.first().map(|b| b >> 4) {
        Some(4) | Some(6) => LaxSlicedPacket::from_ip(data).map_err(|_| DecodeError::BadIp),
        _ => Err(DecodeError::BadIp),
    }
}

/// What etherparse found at the network layer, reduced to what we need.
struct NetLayer<'a> {
    ip: IpInfo,
    proto: u8,
    v6: bool,
    /// Non-first fragment: the transport header is in another packet.
    later_fragment: bool,
    /// The captured transport bytes (padding excluded).
    l4: &'a [u8],
    /// Transport length on the wire, from the IP length fields.
    l4_wire: u32,
}

fn is_ip_layer(layer: Layer) -> bool {
    matches!(
        layer,
        Layer::IpHeader
            | Layer::Ipv4Header
            | Layer::Ipv4Packet
            | Layer::IpAuthHeader
            | Layer::Ipv6Header
            | Layer::Ipv6Packet
            | Layer::Ipv6ExtHeader
            | Layer::Ipv6HopByHopHeader
            | Layer::Ipv6DestOptionsHeader
            | Layer::Ipv6RouteHeader
            | Layer::Ipv6FragHeader
    )
}

/// On-wire transport length: the IP length field (`total_wire`, the whole
/// IP packet) minus everything between the start of the IP header and the
/// transport header. A length field of 0 (TSO captures, IPv6 jumbograms)
/// carries no information: the captured length is used instead.
fn l4_wire_len(
    ip_start: &[u8],
    total_wire: Option<usize>,
    payload: &LaxIpPayloadSlice<'_>,
    limit: Option<WireLimit>,
) -> u32 {
    let ip_at = ip_start.as_ptr() as usize;
    let headers = (payload.payload.as_ptr() as usize).saturating_sub(ip_at);
    // The IP packet cannot be longer than the frame on the wire.
    let total_wire = match (total_wire, limit) {
        (Some(t), Some(l)) => Some(
            t.min(
                l.orig_len
                    .saturating_sub(ip_at.saturating_sub(l.frame_start)),
            ),
        ),
        (t, _) => t,
    };
    let len = match total_wire {
        Some(total) => total.saturating_sub(headers),
        None => payload.payload.len(),
    };
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn net_layer<'a>(
    pkt: &LaxSlicedPacket<'a>,
    limit: Option<WireLimit>,
) -> Result<Option<NetLayer<'a>>, DecodeError> {
    // An IP (extension) header that failed to parse: the payload etherparse
    // reports would be the broken header itself.
    if let Some((_, layer)) = &pkt.stop_err
        && is_ip_layer(*layer)
    {
        return Err(DecodeError::BadIp);
    }
    match &pkt.net {
        None => match &pkt.stop_err {
            Some(_) => Err(DecodeError::TruncatedLink),
            None => Ok(None),
        },
        Some(LaxNetSlice::Arp(_)) => Ok(None),
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            let payload = v4.payload();
            Ok(Some(NetLayer {
                ip: IpInfo {
                    src: IpAddr::V4(h.source_addr()),
                    dst: IpAddr::V4(h.destination_addr()),
                    ttl: h.ttl(),
                    ip_id: Some(h.identification()),
                },
                proto: payload.ip_number.0,
                v6: false,
                later_fragment: h.fragments_offset().value() != 0,
                l4: payload.payload,
                l4_wire: l4_wire_len(
                    h.slice(),
                    (h.total_len() != 0).then_some(usize::from(h.total_len())),
                    payload,
                    limit,
                ),
            }))
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            let payload = v6.payload();
            let later_fragment = v6_later_fragment(h.next_header(), v6.extensions().slice());
            Ok(Some(NetLayer {
                ip: IpInfo {
                    src: IpAddr::V6(h.source_addr()),
                    dst: IpAddr::V6(h.destination_addr()),
                    ttl: h.hop_limit(),
                    ip_id: None,
                },
                proto: payload.ip_number.0,
                v6: true,
                later_fragment,
                l4: payload.payload,
                l4_wire: l4_wire_len(
                    h.slice(),
                    (h.payload_length() != 0).then_some(40 + usize::from(h.payload_length())),
                    payload,
                    limit,
                ),
            }))
        }
    }
}

fn decode_sliced<'a>(
    pkt: &LaxSlicedPacket<'a>,
    limit: Option<WireLimit>,
) -> Result<Decoded<'a>, DecodeError> {
    let Some(net) = net_layer(pkt, limit)? else {
        return Ok(Decoded::Other(OtherKind::NonIp));
    };
    if net.later_fragment {
        return Err(DecodeError::IpFragment);
    }
    match net.proto {
        TCP => parse_tcp(net.ip, net.l4, net.l4_wire).map(Decoded::Tcp),
        ICMP if !net.v6 => Ok(icmp_error(&net)),
        ICMPV6 if net.v6 => Ok(icmp_error(&net)),
        UDP => Ok(parse_udp(net.ip, net.l4)),
        _ => Ok(Decoded::Other(OtherKind::OtherIpProto)),
    }
}

/// A UDP datagram; one whose 8-byte header is cut short is only counted.
fn parse_udp(ip: IpInfo, l4: &[u8]) -> Decoded<'_> {
    if l4.len() < 8 {
        return Decoded::Other(OtherKind::Udp);
    }
    // The length field bounds the payload (Ethernet padding follows short
    // datagrams); a field below 8 or past the captured bytes is ignored.
    let len = usize::from(be16(l4, 4));
    let end = if (8..=l4.len()).contains(&len) {
        len
    } else {
        l4.len()
    };
    Decoded::Udp(UdpDatagram {
        ip,
        src_port: be16(l4, 0),
        dst_port: be16(l4, 2),
        payload: &l4[8..end],
    })
}

// One bounds check and one load (indexing byte by byte checked each);
// callers have checked the length, so these never panic.
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(b[at..at + 2].try_into().expect("2 bytes"))
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// Parses a TCP header from the captured transport bytes `l4`; `l4_wire` is
/// the transport length on the wire.
fn parse_tcp(ip: IpInfo, l4: &[u8], l4_wire: u32) -> Result<TcpSegment<'_>, DecodeError> {
    let (seg, at, len) = tcp_header(ip, l4, l4_wire)?;
    Ok(TcpSegment {
        payload: &l4[at..at + len],
        ..seg
    })
}

/// [`parse_tcp`] without the payload: the segment with an empty one, and
/// where its captured payload is in `l4` (start, length).
#[inline(always)]
fn tcp_header(
    ip: IpInfo,
    l4: &[u8],
    l4_wire: u32,
) -> Result<(TcpSegment<'static>, usize, usize), DecodeError> {
    if l4.len() < 20 {
        return Err(DecodeError::TruncatedTcp);
    }
    let hdr_len = usize::from(l4[12] >> 4) * 4;
    if hdr_len < 20 {
        return Err(DecodeError::BadTcp);
    }
    let (options, options_truncated) = match l4.get(20..hdr_len) {
        Some(opts) => (parse_options(opts), false),
        None => (TcpOptions::default(), true),
    };
    let payload_len = l4_wire.saturating_sub(hdr_len as u32);
    let captured = l4.len().saturating_sub(hdr_len);
    let len = captured.min(payload_len as usize);
    let seg = TcpSegment {
        ip,
        src_port: be16(l4, 0),
        dst_port: be16(l4, 2),
        seq: be32(l4, 4),
        ack: be32(l4, 8),
        flags: TcpFlags(l4[13]),
        window: be16(l4, 14),
        options,
        payload_len,
        payload: &[],
        options_truncated,
    };
    Ok((seg, if len == 0 { 0 } else { hdr_len }, len))
}

/// Reads the options we care about; stops quietly at a malformed option.
fn parse_options(mut opts: &[u8]) -> TcpOptions {
    let mut out = TcpOptions::default();
    while let Some(&kind) = opts.first() {
        match kind {
            0 => break,
            1 => {
                opts = &opts[1..];
                continue;
            }
            _ => {}
        }
        let Some(&len) = opts.get(1) else { break };
        let len = usize::from(len);
        if len < 2 || len > opts.len() {
            break;
        }
        let body = &opts[2..len];
        match (kind, body.len()) {
            (2, 2) => out.mss = Some(be16(body, 0)),
            (3, 1) => out.window_scale = Some(body[0]),
            (4, 0) => out.sack_permitted = true,
            (5, n) if n >= 8 => out.sack = true,
            _ => {}
        }
        opts = &opts[len..];
    }
    out
}

fn icmp_kind(v6: bool, icmp_type: u8, code: u8) -> Option<IcmpErrorKind> {
    use IcmpErrorKind::*;
    Some(match (v6, icmp_type) {
        (false, 3) => match code {
            0 | 6 => NetUnreachable,
            1 | 7 => HostUnreachable,
            2 => ProtocolUnreachable,
            3 => PortUnreachable,
            4 => FragmentationNeeded,
            9 | 10 | 13 => AdminProhibited,
            _ => OtherUnreachable,
        },
        (false, 11) => TimeExceeded,
        (true, 1) => match code {
            0 => NetUnreachable,
            1 | 5 | 6 => AdminProhibited,
            3 => HostUnreachable,
            4 => PortUnreachable,
            _ => OtherUnreachable,
        },
        (true, 2) => FragmentationNeeded,
        (true, 3) => TimeExceeded,
        _ => return None,
    })
}

fn icmp_error(net: &NetLayer<'_>) -> Decoded<'static> {
    let other = Decoded::Other(OtherKind::Icmp);
    let l4 = net.l4;
    if l4.len() < 8 {
        return other;
    }
    let (icmp_type, code) = (l4[0], l4[1]);
    let Some(kind) = icmp_kind(net.v6, icmp_type, code) else {
        return other;
    };
    match quoted_tcp(&l4[8..]) {
        Some(quoted) => Decoded::IcmpError(IcmpError {
            ip: net.ip,
            v6: net.v6,
            icmp_type,
            code,
            kind,
            quoted,
        }),
        None => other,
    }
}

/// Whether the IPv6 extension headers `exts` (the first of type `first`)
/// hold a fragment header with a non-zero offset (a non-first fragment).
///
/// Walked here with bounds checks on every step: etherparse's own iterator
/// (`Ipv6ExtensionsSlice::into_iter`) trusts the chain and reads past the
/// end of a chain cut short in lax parsing (found by fuzzing,
/// tests/fuzz_regressions.rs).
fn v6_later_fragment(first: IpNumber, exts: &[u8]) -> bool {
    let mut next = first.0;
    let mut rest = exts;
    loop {
        let len = match next {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6.
            0 | 43 | 60 | 135 | 139 | 140 => match rest.get(1) {
                Some(&l) => (usize::from(l) + 1) * 8,
                None => return false,
            },
            // Fragment: offset in the upper 13 bits of bytes 2-3.
            44 => {
                return rest
                    .get(2..4)
                    .is_some_and(|b| u16::from_be_bytes([b[0], b[1]]) >> 3 != 0);
            }
            // Authentication header: length in 4-byte units, minus 2.
            51 => match rest.get(1) {
                Some(&l) => (usize::from(l) + 2) * 4,
                None => return false,
            },
            _ => return false,
        };
        let (Some(&nh), Some(tail)) = (rest.first(), rest.get(len..)) else {
            return false;
        };
        next = nh;
        rest = tail;
    }
}

/// The TCP 4-tuple (and sequence number) of the packet an ICMP error quotes.
fn quoted_tcp(quote: &[u8]) -> Option<QuotedTcp> {
    let pkt = from_ip(quote).ok()?;
    let (src, dst, later_fragment, payload) = match pkt.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                h.fragments_offset().value() != 0,
                v4.payload(),
            )
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            let later = v6_later_fragment(h.next_header(), v6.extensions().slice());
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                later,
                v6.payload(),
            )
        }
        LaxNetSlice::Arp(_) => return None,
    };
    if later_fragment || payload.ip_number != IpNumber::TCP {
        return None;
    }
    if let Some((_, layer)) = &pkt.stop_err
        && is_ip_layer(*layer)
    {
        return None;
    }
    let t = payload.payload;
    if t.len() < 4 {
        return None;
    }
    Some(QuotedTcp {
        src,
        dst,
        src_port: be16(t, 0),
        dst_port: be16(t, 2),
        seq: (t.len() >= 8).then(|| be32(t, 4)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{PacketBuilder, TcpOptionElement, VlanId};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];
    const V4_A: [u8; 4] = [192, 0, 2, 1];
    const V4_B: [u8; 4] = [198, 51, 100, 7];
    const V6_A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const V6_B: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    fn syn_opts() -> [TcpOptionElement; 5] {
        [
            TcpOptionElement::MaximumSegmentSize(1460),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOptionElement::Timestamp(1, 0),
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(7),
        ]
    }

    /// IPv4 + TCP SYN with options and `payload`, no link header.
    fn ipv4_syn(payload: &[u8]) -> Vec<u8> {
        let b = PacketBuilder::ipv4(V4_A, V4_B, 61)
            .tcp(40000, 443, 0x1122_3344, 64240)
            .syn()
            .options(&syn_opts())
            .unwrap();
        let mut v = Vec::new();
        b.write(&mut v, payload).unwrap();
        // Identification is 0 from the builder; set it to check ip_id.
        v[4..6].copy_from_slice(&0xBEEFu16.to_be_bytes());
        v
    }

    fn ipv6_ack(payload: &[u8]) -> Vec<u8> {
        let b = PacketBuilder::ipv6(V6_A, V6_B, 55)
            .tcp(50000, 80, 7, 512)
            .ack(99)
            .psh()
            .options(&[TcpOptionElement::SelectiveAcknowledgement(
                (10, 20),
                [Some((30, 40)), None, None],
            )])
            .unwrap();
        let mut v = Vec::new();
        b.write(&mut v, payload).unwrap();
        v
    }

    fn tcp(d: Result<Decoded<'_>, DecodeError>) -> TcpSegment<'_> {
        match d {
            Ok(Decoded::Tcp(t)) => t,
            other => panic!("expected TCP, got {other:?}"),
        }
    }

    /// A detached decode gives the frame back from a copy of its bytes:
    /// whole (`attach`), or its TCP segment in place with the payload apart
    /// (`tcp`), also from a copy cut short or empty (the payload is then
    /// empty, never out of bounds).
    #[test]
    fn a_detached_decode_attaches_to_a_copy_of_the_frame() {
        use crate::decode::Detached;
        for frame in [
            ipv4_syn(b"GET / HTTP/1.1\r\n"),
            ipv6_ack(b"hello"),
            ipv4_syn(b""),
        ] {
            let d = Detached::new(decode(link::RAW, &frame), &frame);
            let copy = frame.clone();
            assert_eq!(d.attach(&copy), decode(link::RAW, &copy));
            let (a, b) = (
                tcp(d.attach(&copy)).payload,
                tcp(decode(link::RAW, &copy)).payload,
            );
            if !b.is_empty() {
                assert_eq!(a.as_ptr(), b.as_ptr(), "the payload is read from the copy");
            }
            for cut in [frame.len(), frame.len() - 1, 10, 0] {
                let copy = &frame[..cut];
                let (seg, payload) = d.tcp(copy).expect("a TCP segment");
                let whole = tcp(d.attach(copy));
                assert_eq!(payload, whole.payload, "cut at {cut}");
                assert_eq!(TcpSegment { payload, ..*seg }, whole, "cut at {cut}");
                assert!(seg.payload.is_empty());
            }
        }
        let short = vec![0u8; 10];
        let d = Detached::new(decode(link::ETHERNET, &short), &short);
        assert_eq!(d.attach(&short), decode(link::ETHERNET, &short));
        assert!(d.tcp(&short).is_none());
    }

    fn check_v4_syn(t: &TcpSegment<'_>, payload: &[u8]) {
        assert_eq!(t.ip.src, IpAddr::V4(Ipv4Addr::from(V4_A)));
        assert_eq!(t.ip.dst, IpAddr::V4(Ipv4Addr::from(V4_B)));
        assert_eq!(t.ip.ttl, 61);
        assert_eq!(t.ip.ip_id, Some(0xBEEF));
        assert_eq!((t.src_port, t.dst_port), (40000, 443));
        assert_eq!(t.seq, 0x1122_3344);
        assert_eq!(t.ack, 0);
        assert_eq!(t.flags, TcpFlags(TcpFlags::SYN));
        assert_eq!(t.window, 64240);
        assert_eq!(
            t.options,
            TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                sack_permitted: true,
                sack: false
            }
        );
        assert!(!t.options_truncated);
        assert_eq!(t.payload_len, payload.len() as u32);
        assert_eq!(t.payload, payload);
    }

    fn eth(ethertype: u16, inner: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&MAC_B);
        v.extend_from_slice(&MAC_A);
        v.extend_from_slice(&ethertype.to_be_bytes());
        v.extend_from_slice(inner);
        v
    }

    fn sll(proto: u16, inner: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 1, 0, 6];
        v.extend_from_slice(&MAC_A);
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(&proto.to_be_bytes());
        v.extend_from_slice(inner);
        v
    }

    fn sll2(proto: u16, inner: &[u8]) -> Vec<u8> {
        let mut v = proto.to_be_bytes().to_vec();
        v.extend_from_slice(&[0, 0]); // reserved
        v.extend_from_slice(&3u32.to_be_bytes()); // ifindex
        v.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
        v.extend_from_slice(&[4, 6]); // outgoing, addr len
        v.extend_from_slice(&MAC_A);
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(inner);
        v
    }

    fn with_prefix(prefix: [u8; 4], inner: &[u8]) -> Vec<u8> {
        let mut v = prefix.to_vec();
        v.extend_from_slice(inner);
        v
    }

    #[test]
    fn ethernet_vlan_ipv4_tcp_syn_all_fields() {
        let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .single_vlan(VlanId::try_new(42).unwrap())
            .ipv4(V4_A, V4_B, 61)
            .tcp(40000, 443, 0x1122_3344, 64240)
            .syn()
            .options(&syn_opts())
            .unwrap();
        let mut v = Vec::new();
        b.write(&mut v, b"hi").unwrap();
        v[18 + 4..18 + 6].copy_from_slice(&0xBEEFu16.to_be_bytes());
        check_v4_syn(&tcp(decode(link::ETHERNET, &v)), b"hi");
    }

    #[test]
    fn qinq_ipv6_tcp_with_sack_blocks() {
        let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .double_vlan(VlanId::try_new(100).unwrap(), VlanId::try_new(200).unwrap())
            .ipv6(V6_A, V6_B, 55)
            .tcp(50000, 80, 7, 512)
            .ack(99)
            .options(&[TcpOptionElement::SelectiveAcknowledgement(
                (10, 20),
                [None, None, None],
            )])
            .unwrap();
        let mut v = Vec::new();
        b.write(&mut v, &[0xAA; 100]).unwrap();
        let t = tcp(decode(link::ETHERNET, &v));
        assert_eq!(t.ip.src, IpAddr::V6(Ipv6Addr::from(V6_A)));
        assert_eq!(t.ip.dst, IpAddr::V6(Ipv6Addr::from(V6_B)));
        assert_eq!(t.ip.ttl, 55);
        assert_eq!(t.ip.ip_id, None);
        assert_eq!((t.src_port, t.dst_port, t.seq, t.ack), (50000, 80, 7, 99));
        assert_eq!(t.flags, TcpFlags(TcpFlags::ACK));
        assert!(t.options.sack);
        assert_eq!(t.options.mss, None);
        assert_eq!(t.payload_len, 100);
        assert_eq!(t.payload.len(), 100);
    }

    #[test]
    fn ethernet_padding_is_not_payload() {
        // A bare SYN/ACK-less ACK: 14 + 20 + 20 = 54 bytes, padded to 60.
        let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(V4_A, V4_B, 64)
            .tcp(1, 2, 3, 4)
            .ack(5);
        let mut v = Vec::new();
        b.write(&mut v, &[]).unwrap();
        assert_eq!(v.len(), 54);
        v.extend_from_slice(&[0; 6]);
        let t = tcp(decode(link::ETHERNET, &v));
        assert_eq!(t.payload_len, 0);
        assert!(t.payload.is_empty());
    }

    #[test]
    fn all_link_wrappings_decode_the_same_segment() {
        let ip4 = ipv4_syn(b"xyz");
        let cases: Vec<(u32, Vec<u8>)> = vec![
            (link::ETHERNET, eth(0x0800, &ip4)),
            (link::LINUX_SLL, sll(0x0800, &ip4)),
            (link::LINUX_SLL2, sll2(0x0800, &ip4)),
            (link::NULL, with_prefix(2u32.to_le_bytes(), &ip4)),
            (link::NULL, with_prefix(2u32.to_be_bytes(), &ip4)),
            (link::LOOP, with_prefix(2u32.to_be_bytes(), &ip4)),
            (link::RAW, ip4.clone()),
            (link::RAW_12, ip4.clone()),
            (link::RAW_14, ip4.clone()),
            (link::IPV4, ip4.clone()),
        ];
        for (lt, frame) in &cases {
            check_v4_syn(&tcp(decode(*lt, frame)), b"xyz");
        }
        let ip6 = ipv6_ack(b"hello");
        let cases6: Vec<(u32, Vec<u8>)> = vec![
            (link::ETHERNET, eth(0x86DD, &ip6)),
            (link::LINUX_SLL, sll(0x86DD, &ip6)),
            (link::LINUX_SLL2, sll2(0x86DD, &ip6)),
            (link::NULL, with_prefix(24u32.to_le_bytes(), &ip6)),
            (link::NULL, with_prefix(28u32.to_be_bytes(), &ip6)),
            (link::NULL, with_prefix(30u32.to_le_bytes(), &ip6)),
            (link::LOOP, with_prefix(24u32.to_be_bytes(), &ip6)),
            (link::RAW, ip6.clone()),
            (link::IPV6, ip6.clone()),
        ];
        for (lt, frame) in &cases6 {
            let t = tcp(decode(*lt, frame));
            assert_eq!((t.src_port, t.dst_port, t.seq, t.ack), (50000, 80, 7, 99));
            assert_eq!(t.flags, TcpFlags(TcpFlags::ACK | TcpFlags::PSH));
            assert!(t.options.sack);
            assert_eq!(t.payload, b"hello");
            assert_eq!(t.payload_len, 5);
        }
    }

    #[test]
    fn link_errors_and_non_ip() {
        assert_eq!(
            decode(147, &[0; 60]),
            Err(DecodeError::UnsupportedLinkType(147))
        );
        assert_eq!(
            decode(link::ETHERNET, &[0; 10]),
            Err(DecodeError::TruncatedLink)
        );
        assert_eq!(
            decode(link::LINUX_SLL, &[0; 15]),
            Err(DecodeError::TruncatedLink)
        );
        assert_eq!(
            decode(link::LINUX_SLL2, &[0; 19]),
            Err(DecodeError::TruncatedLink)
        );
        assert_eq!(decode(link::NULL, &[2, 0]), Err(DecodeError::TruncatedLink));
        assert_eq!(decode(link::RAW, &[]), Err(DecodeError::BadIp));
        assert_eq!(decode(link::RAW, &[0x50; 40]), Err(DecodeError::BadIp));
        // ARP over Ethernet and SLL2; an unknown AF on NULL.
        let arp = eth(0x0806, &[0; 28]);
        assert_eq!(
            decode(link::ETHERNET, &arp),
            Ok(Decoded::Other(OtherKind::NonIp))
        );
        assert_eq!(
            decode(link::LINUX_SLL2, &sll2(0x0806, &[0; 28])),
            Ok(Decoded::Other(OtherKind::NonIp))
        );
        assert_eq!(
            decode(link::NULL, &with_prefix(7u32.to_le_bytes(), &[0x45; 40])),
            Ok(Decoded::Other(OtherKind::NonIp))
        );
        // UDP and another IP protocol.
        let mut udp = Vec::new();
        PacketBuilder::ipv4(V4_A, V4_B, 1)
            .udp(53, 53)
            .write(&mut udp, b"q")
            .unwrap();
        match decode(link::RAW, &udp) {
            Ok(Decoded::Udp(d)) => {
                assert_eq!((d.src_port, d.dst_port, d.payload), (53, 53, &b"q"[..]));
                assert_eq!(d.ip.src, IpAddr::V4(V4_A.into()));
            }
            other => panic!("{other:?}"),
        }
        // Ethernet-style padding after the datagram is not payload; a cut
        // header is only counted.
        let mut padded = udp.clone();
        padded.extend_from_slice(&[0; 6]);
        match decode(link::RAW, &padded) {
            Ok(Decoded::Udp(d)) => assert_eq!(d.payload, b"q"),
            other => panic!("{other:?}"),
        }
        let cut = &udp[..24];
        assert_eq!(decode(link::RAW, cut), Ok(Decoded::Other(OtherKind::Udp)));
        let mut gre = udp.clone();
        gre[9] = 47;
        assert_eq!(
            decode(link::RAW, &gre),
            Ok(Decoded::Other(OtherKind::OtherIpProto))
        );
        // ICMP echo is not an error.
        let mut echo = Vec::new();
        PacketBuilder::ipv4(V4_A, V4_B, 1)
            .icmpv4_echo_request(1, 1)
            .write(&mut echo, b"ping")
            .unwrap();
        assert_eq!(
            decode(link::RAW, &echo),
            Ok(Decoded::Other(OtherKind::Icmp))
        );
    }

    #[test]
    fn malformed_ihl_and_data_offset() {
        let mut v = ipv4_syn(b"");
        v[0] = 0x44; // IHL 4 (< 5)
        assert_eq!(decode(link::RAW, &v), Err(DecodeError::BadIp));
        let mut v = ipv4_syn(b"");
        v[0] = 0x4F; // IHL 15: 60 bytes, more than the header + TCP we have
        assert!(decode(link::RAW, &v).is_err());
        let mut v = ipv4_syn(b"");
        v[20 + 12] = 0x40; // data offset 4
        assert_eq!(decode(link::RAW, &v), Err(DecodeError::BadTcp));
        let mut v = ipv4_syn(b"");
        v[20 + 12] = 0xF0; // data offset 15: 60 bytes, beyond the packet
        let t = tcp(decode(link::RAW, &v));
        assert!(t.options_truncated);
        assert_eq!(t.payload_len, 0);
        // Total length smaller than the headers: payload saturates at 0.
        let mut v = ipv4_syn(b"abc");
        v[2..4].copy_from_slice(&40u16.to_be_bytes());
        if let Ok(Decoded::Tcp(t)) = decode(link::RAW, &v) {
            assert_eq!(t.payload_len, 0);
        }
    }

    #[test]
    fn snaplen_cut_frames_use_ip_lengths() {
        let full = eth(0x0800, &ipv4_syn(&[7; 1000]));
        // tcpdump -s 96: options complete, payload cut.
        let t = tcp(decode(link::ETHERNET, &full[..96]));
        assert!(!t.options_truncated);
        assert_eq!(t.options.mss, Some(1460));
        assert_eq!(t.payload_len, 1000);
        assert_eq!(t.payload.len(), 96 - 14 - 20 - 40);
        // Cut inside the options.
        let t = tcp(decode(link::ETHERNET, &full[..60]));
        assert!(t.options_truncated);
        assert_eq!(t.options, TcpOptions::default());
        assert_eq!(t.seq, 0x1122_3344);
        assert_eq!(t.payload_len, 1000);
        assert!(t.payload.is_empty());
    }

    #[test]
    fn decode_frame_clamps_ip_length_to_the_wire_length() {
        use crate::packet::Frame;
        use crate::time::Ts;
        let frame = |data: &'static [u8], orig_len: u32| Frame {
            number: 1,
            ts: Ts(0),
            linktype: link::ETHERNET,
            orig_len,
            data,
        };
        // IPv4 total length claims 100 bytes of payload the frame never had.
        let mut bogus = eth(0x0800, &ipv4_syn(b""));
        bogus[14 + 2..14 + 4].copy_from_slice(&(20u16 + 40 + 100).to_be_bytes());
        let bogus: &'static [u8] = Box::leak(bogus.into_boxed_slice());
        assert_eq!(tcp(decode(link::ETHERNET, bogus)).payload_len, 100);
        let t = tcp(decode_frame(&frame(bogus, bogus.len() as u32)));
        assert_eq!(t.payload_len, 0);
        // Snaplen-cut frame: orig_len covers the IP length, nothing clamped.
        let full = eth(0x0800, &ipv4_syn(&[1; 500]));
        let cut: &'static [u8] = Box::leak(full[..100].to_vec().into_boxed_slice());
        let t = tcp(decode_frame(&frame(cut, full.len() as u32)));
        assert_eq!(t.payload_len, 500);
        assert_eq!(t.payload.len(), 100 - 74);
        // Padded minimum-size frame.
        let mut padded = Vec::new();
        PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(V4_A, V4_B, 1)
            .tcp(1, 2, 3, 4)
            .write(&mut padded, b"")
            .unwrap();
        padded.resize(60, 0);
        let padded: &'static [u8] = Box::leak(padded.into_boxed_slice());
        assert_eq!(tcp(decode_frame(&frame(padded, 60))).payload_len, 0);
    }

    #[test]
    fn every_truncation_is_handled() {
        let frames: Vec<(u32, Vec<u8>)> = vec![
            (link::ETHERNET, eth(0x0800, &ipv4_syn(b"data"))),
            (link::ETHERNET, eth(0x86DD, &ipv6_ack(b"data"))),
            (link::LINUX_SLL2, sll2(0x0800, &ipv4_syn(b"data"))),
            (link::LINUX_SLL, sll(0x86DD, &ipv6_ack(b"data"))),
            (link::NULL, with_prefix(2u32.to_le_bytes(), &ipv4_syn(b""))),
            (link::RAW, ipv6_ext_tcp()),
            (link::RAW, icmp4_error(13)),
            (link::RAW, icmp6_error(1, 4)),
        ];
        for (lt, full) in &frames {
            let link_len = match *lt {
                link::ETHERNET => 14,
                link::LINUX_SLL => 16,
                link::LINUX_SLL2 => 20,
                link::NULL => 4,
                _ => 0,
            };
            let full_result = decode(*lt, full);
            for cut in 0..full.len() {
                let r = decode(*lt, &full[..cut]);
                if cut < link_len {
                    assert_eq!(r, Err(DecodeError::TruncatedLink), "cut {cut}");
                }
                if let Ok(Decoded::Tcp(t)) = &r {
                    let Ok(Decoded::Tcp(f)) = &full_result else {
                        panic!()
                    };
                    // Whatever survives agrees with the full packet.
                    assert_eq!(
                        (t.src_port, t.dst_port, t.seq, t.ack),
                        (f.src_port, f.dst_port, f.seq, f.ack)
                    );
                    assert_eq!(t.payload_len, f.payload_len, "cut {cut}");
                    assert!(t.payload.len() <= f.payload.len());
                }
            }
        }
        // Ethernet + IPv4 (20) + TCP fixed header (20) = 54 bytes: from
        // there on a TCP segment always comes out.
        let full = eth(0x0800, &ipv4_syn(b"data"));
        for cut in 54..full.len() {
            let t = tcp(decode(link::ETHERNET, &full[..cut]));
            assert_eq!(t.options_truncated, cut < 74, "cut {cut}");
        }
        for cut in 34..54 {
            assert_eq!(
                decode(link::ETHERNET, &full[..cut]),
                Err(DecodeError::TruncatedTcp),
                "cut {cut}"
            );
        }
    }

    /// IPv6 with hop-by-hop, destination options, routing and an atomic
    /// fragment header before TCP.
    fn ipv6_ext_tcp() -> Vec<u8> {
        let plain = ipv6_ack(b"payload!");
        let (hdr, tcp_part) = plain.split_at(40);
        let mut v = hdr.to_vec();
        v[6] = 0; // next: hop-by-hop
        v.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]); // HBH -> dest opts, PadN
        v.extend_from_slice(&[43, 0, 1, 4, 0, 0, 0, 0]); // dest opts -> routing
        v.extend_from_slice(&[44, 0, 4, 0, 0, 0, 0, 0]); // routing (type 4, 0 left) -> frag
        v.extend_from_slice(&[6, 0, 0, 0, 0, 0, 0, 9]); // fragment: offset 0, M=0 -> TCP
        v.extend_from_slice(tcp_part);
        let plen = (v.len() - 40) as u16;
        v[4..6].copy_from_slice(&plen.to_be_bytes());
        v
    }

    #[test]
    fn ipv6_extension_headers_and_fragments() {
        let v = ipv6_ext_tcp();
        let t = tcp(decode(link::RAW, &v));
        assert_eq!((t.src_port, t.dst_port, t.seq), (50000, 80, 7));
        assert_eq!(t.payload_len, 8);
        assert_eq!(t.payload, b"payload!");
        // The same on Ethernet, with padding after it.
        let mut e = eth(0x86DD, &v);
        e.extend_from_slice(&[0; 10]);
        assert_eq!(tcp(decode(link::ETHERNET, &e)).payload, b"payload!");
        // Non-first fragment.
        let mut nf = v.clone();
        nf[40 + 24 + 2..40 + 24 + 4].copy_from_slice(&(185u16 << 3).to_be_bytes());
        assert_eq!(decode(link::RAW, &nf), Err(DecodeError::IpFragment));
        // IPv4 non-first fragment; first fragment (MF set) still decodes.
        let mut f4 = ipv4_syn(b"abcd");
        f4[6..8].copy_from_slice(&100u16.to_be_bytes());
        assert_eq!(decode(link::RAW, &f4), Err(DecodeError::IpFragment));
        let mut first = ipv4_syn(b"abcd");
        first[6] = 0x20; // MF
        assert_eq!(tcp(decode(link::RAW, &first)).seq, 0x1122_3344);
    }

    /// An ICMPv4 destination unreachable (code) from a router quoting our SYN.
    fn icmp4_error_typed(icmp_type: u8, code: u8) -> Vec<u8> {
        let syn = ipv4_syn(b"");
        let mut v = Vec::new();
        PacketBuilder::ipv4([203, 0, 113, 9], V4_A, 250)
            .icmpv4_raw(icmp_type, code, [0; 4])
            .write(&mut v, &syn[..28])
            .unwrap();
        v
    }

    fn icmp4_error(code: u8) -> Vec<u8> {
        icmp4_error_typed(3, code)
    }

    fn icmp6_error(icmp_type: u8, code: u8) -> Vec<u8> {
        let quoted = ipv6_ack(b"");
        let mut v = Vec::new();
        PacketBuilder::ipv6(V6_B, V6_A, 64)
            .icmpv6_raw(icmp_type, code, [0; 4])
            .write(&mut v, &quoted)
            .unwrap();
        v
    }

    #[test]
    fn icmp_errors_quoting_tcp() {
        let e = match decode(link::RAW, &icmp4_error(13)) {
            Ok(Decoded::IcmpError(e)) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(e.ip.src, IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)));
        assert_eq!(e.ip.ttl, 250);
        assert!(!e.v6);
        assert_eq!(
            (e.icmp_type, e.code, e.kind),
            (3, 13, IcmpErrorKind::AdminProhibited)
        );
        assert_eq!(
            e.quoted,
            QuotedTcp {
                src: IpAddr::V4(Ipv4Addr::from(V4_A)),
                dst: IpAddr::V4(Ipv4Addr::from(V4_B)),
                src_port: 40000,
                dst_port: 443,
                seq: Some(0x1122_3344),
            }
        );
        let kinds = [
            (0, IcmpErrorKind::NetUnreachable),
            (1, IcmpErrorKind::HostUnreachable),
            (2, IcmpErrorKind::ProtocolUnreachable),
            (3, IcmpErrorKind::PortUnreachable),
            (4, IcmpErrorKind::FragmentationNeeded),
            (5, IcmpErrorKind::OtherUnreachable),
            (6, IcmpErrorKind::NetUnreachable),
            (7, IcmpErrorKind::HostUnreachable),
            (9, IcmpErrorKind::AdminProhibited),
            (10, IcmpErrorKind::AdminProhibited),
        ];
        for (code, kind) in kinds {
            match decode(link::RAW, &icmp4_error(code)) {
                Ok(Decoded::IcmpError(e)) => assert_eq!(e.kind, kind, "code {code}"),
                other => panic!("{other:?}"),
            }
        }
        match decode(link::RAW, &icmp4_error_typed(11, 0)) {
            Ok(Decoded::IcmpError(e)) => assert_eq!(e.kind, IcmpErrorKind::TimeExceeded),
            other => panic!("{other:?}"),
        }
        // Only 4 bytes of TCP quoted: ports but no sequence number.
        let syn = ipv4_syn(b"");
        let mut short = Vec::new();
        PacketBuilder::ipv4([203, 0, 113, 9], V4_A, 250)
            .icmpv4_raw(3, 3, [0; 4])
            .write(&mut short, &syn[..24])
            .unwrap();
        match decode(link::RAW, &short) {
            Ok(Decoded::IcmpError(e)) => {
                assert_eq!(e.quoted.src_port, 40000);
                assert_eq!(e.quoted.seq, None);
            }
            other => panic!("{other:?}"),
        }
        // Quoting UDP: plain ICMP.
        let mut udp = Vec::new();
        PacketBuilder::ipv4(V4_A, V4_B, 1)
            .udp(53, 53)
            .write(&mut udp, b"q")
            .unwrap();
        let mut v = Vec::new();
        PacketBuilder::ipv4([203, 0, 113, 9], V4_A, 250)
            .icmpv4_raw(3, 3, [0; 4])
            .write(&mut v, &udp)
            .unwrap();
        assert_eq!(decode(link::RAW, &v), Ok(Decoded::Other(OtherKind::Icmp)));
    }

    #[test]
    fn icmpv6_errors_quoting_tcp() {
        let cases = [
            (1, 0, IcmpErrorKind::NetUnreachable),
            (1, 1, IcmpErrorKind::AdminProhibited),
            (1, 2, IcmpErrorKind::OtherUnreachable),
            (1, 3, IcmpErrorKind::HostUnreachable),
            (1, 4, IcmpErrorKind::PortUnreachable),
            (1, 5, IcmpErrorKind::AdminProhibited),
            (1, 6, IcmpErrorKind::AdminProhibited),
            (2, 0, IcmpErrorKind::FragmentationNeeded),
            (3, 0, IcmpErrorKind::TimeExceeded),
        ];
        for (ty, code, kind) in cases {
            let v = eth(0x86DD, &icmp6_error(ty, code));
            let e = match decode(link::ETHERNET, &v) {
                Ok(Decoded::IcmpError(e)) => e,
                other => panic!("{other:?}"),
            };
            assert!(e.v6);
            assert_eq!((e.icmp_type, e.code, e.kind), (ty, code, kind));
            assert_eq!(e.ip.src, IpAddr::V6(Ipv6Addr::from(V6_B)));
            assert_eq!(e.quoted.src, IpAddr::V6(Ipv6Addr::from(V6_A)));
            assert_eq!((e.quoted.src_port, e.quoted.dst_port), (50000, 80));
            assert_eq!(e.quoted.seq, Some(7));
        }
        // Neighbour solicitation (type 135) is plain ICMP.
        let mut ns = Vec::new();
        PacketBuilder::ipv6(V6_B, V6_A, 255)
            .icmpv6_raw(135, 0, [0; 4])
            .write(&mut ns, &[0; 16])
            .unwrap();
        assert_eq!(decode(link::RAW, &ns), Ok(Decoded::Other(OtherKind::Icmp)));
    }

    /// The etherparse-free Ethernet path gives what etherparse's gives, and
    /// so does the in-place detached decode.
    #[test]
    fn fast_path_agrees_with_etherparse() {
        let check = |f: &[u8], orig: usize| {
            let limit = (orig >= f.len()).then_some(WireLimit {
                frame_start: f.as_ptr() as usize,
                orig_len: orig,
            });
            if let Some(fast) = fast_ethernet_tcp(f, limit) {
                assert_eq!(
                    fast,
                    sliced_with_limit(link::ETHERNET, f, limit),
                    "{f:02x?}"
                );
            }
            // The in-place detached decode of the reading thread.
            let frame = crate::packet::Frame {
                number: 1,
                ts: crate::time::Ts(0),
                linktype: link::ETHERNET,
                orig_len: orig as u32,
                data: f,
            };
            let mut d = Detached::new(Err(DecodeError::BadTcp), &[]);
            decode_detached(&frame, &mut d);
            assert_eq!(d, Detached::new(decode_frame(&frame), f), "{f:02x?}");
        };
        let mut frames = vec![
            eth(0x0800, &ipv4_syn(b"data")),
            eth(0x0800, &ipv4_syn(b"")),
            eth(0x86DD, &ipv6_ack(b"data")),
            eth(0x86DD, &ipv6_ack(b"")),
        ];
        // Ethernet padding after a short packet.
        let mut padded = eth(0x0800, &ipv4_syn(b""));
        padded.extend_from_slice(&[0; 6]);
        frames.push(padded);
        let mut fast = 0;
        for full in &frames {
            fast += usize::from(fast_ethernet_tcp(full, None).is_some());
            for cut in 0..=full.len() {
                for orig in [0, cut, cut + 1, full.len(), full.len() + 100] {
                    check(&full[..cut], orig);
                }
            }
        }
        assert_eq!(fast, frames.len(), "the common frames take the fast path");
        // Noise in the IP and TCP headers of valid frames.
        let mut rng = crate::testutil::XorShift(0x2545_F491_4F6C_DD1D);
        let mut x = 0;
        for i in 0..50_000 {
            let mut f = frames[i % frames.len()].clone();
            for _ in 0..1 + i % 4 {
                x = rng.next();
                let at = 14 + (x as usize >> 8) % (f.len() - 14).min(60);
                f[at] = x as u8;
            }
            let len = f.len();
            check(&f, len);
            check(&f, len + (x as usize % 3));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: xorshift bytes on every link type.
        let mut rng = crate::testutil::XorShift(0x9E37_79B9_7F4A_7C15);
        let mut x = 0;
        let mut buf = [0u8; 128];
        for i in 0..20_000 {
            for b in buf.iter_mut() {
                x = rng.next();
                *b = x as u8;
            }
            // Bias towards plausible headers.
            buf[0] = if i % 2 == 0 { 0x45 } else { 0x60 };
            let len = (x % 128) as usize;
            for lt in [0, 1, 12, 101, 108, 113, 228, 229, 276] {
                let _ = decode(lt, &buf[..len]);
            }
            let e = eth(if i % 2 == 0 { 0x0800 } else { 0x86DD }, &buf[..len]);
            let _ = decode(link::ETHERNET, &e);
        }
    }
}
