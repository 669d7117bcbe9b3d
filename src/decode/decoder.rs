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

use super::link;
use super::{
    DecodeError, Decoded, IcmpError, IcmpErrorKind, IpInfo, OtherKind, QuotedTcp, TcpFlags,
    TcpOptions, TcpSegment,
};
use etherparse::err::Layer;
use etherparse::{
    EtherType, IpNumber, Ipv6ExtensionSlice, LaxIpPayloadSlice, LaxNetSlice, LaxSlicedPacket,
    LenSource,
};
use std::net::IpAddr;

const TCP: u8 = 6;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;
const UDP: u8 = 17;

/// Decodes one frame of link type `linktype`.
pub fn decode(linktype: u32, data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
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
    decode_sliced(&pkt)
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

/// On-wire transport length: the IP length field minus everything between the
/// start of the IP header and the transport header.
fn l4_wire_len(ip_start: &[u8], total_wire: usize, payload: &LaxIpPayloadSlice<'_>) -> u32 {
    let headers = (payload.payload.as_ptr() as usize).saturating_sub(ip_start.as_ptr() as usize);
    let len = match payload.len_source {
        LenSource::Ipv4HeaderTotalLen | LenSource::Ipv6HeaderPayloadLen => {
            total_wire.saturating_sub(headers)
        }
        // No usable length field (e.g. IPv4 total length 0 from TSO, IPv6
        // jumbograms): the captured length is all we know.
        _ => payload.payload.len(),
    };
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn net_layer<'a>(pkt: &LaxSlicedPacket<'a>) -> Result<Option<NetLayer<'a>>, DecodeError> {
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
                l4_wire: l4_wire_len(h.slice(), usize::from(h.total_len()), payload),
            }))
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            let payload = v6.payload();
            let later_fragment = v6.extensions().clone().into_iter().any(|e| {
                matches!(e, Ipv6ExtensionSlice::Fragment(f) if f.fragment_offset().value() != 0)
            });
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
                l4_wire: l4_wire_len(h.slice(), 40 + usize::from(h.payload_length()), payload),
            }))
        }
    }
}

fn decode_sliced<'a>(pkt: &LaxSlicedPacket<'a>) -> Result<Decoded<'a>, DecodeError> {
    let Some(net) = net_layer(pkt)? else {
        return Ok(Decoded::Other(OtherKind::NonIp));
    };
    if net.later_fragment {
        return Err(DecodeError::IpFragment);
    }
    match net.proto {
        TCP => parse_tcp(net.ip, net.l4, net.l4_wire).map(Decoded::Tcp),
        ICMP if !net.v6 => Ok(icmp_error(&net)),
        ICMPV6 if net.v6 => Ok(icmp_error(&net)),
        UDP => Ok(Decoded::Other(OtherKind::Udp)),
        _ => Ok(Decoded::Other(OtherKind::OtherIpProto)),
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses a TCP header from the captured transport bytes `l4`; `l4_wire` is
/// the transport length on the wire.
fn parse_tcp(ip: IpInfo, l4: &[u8], l4_wire: u32) -> Result<TcpSegment<'_>, DecodeError> {
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
    let payload = l4.get(hdr_len..).unwrap_or(&[]);
    let payload = &payload[..payload.len().min(payload_len as usize)];
    Ok(TcpSegment {
        ip,
        src_port: be16(l4, 0),
        dst_port: be16(l4, 2),
        seq: be32(l4, 4),
        ack: be32(l4, 8),
        flags: TcpFlags(l4[13]),
        window: be16(l4, 14),
        options,
        payload_len,
        payload,
        options_truncated,
    })
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
            let later = v6.extensions().clone().into_iter().any(|e| {
                matches!(e, Ipv6ExtensionSlice::Fragment(f) if f.fragment_offset().value() != 0)
            });
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
