//! Decoding one frame: link layer -> IPv4/IPv6 -> TCP, or an ICMP error that
//! quotes a TCP segment.
//!
//! Decoding never panics and never fails the run: a frame that cannot be
//! decoded yields a [`DecodeError`] whose [`DecodeError::reason`] is counted.
//! Snaplen-truncated frames still decode as long as the fixed 20-byte TCP
//! header is present; the on-the-wire payload length comes from the IP header.

use std::net::IpAddr;

mod decoder;
pub use crate::packet::link;

pub use decoder::{decode, decode_detached, decode_frame};

/// TCP flag bits, as in the TCP header's flags byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
    pub fn psh(self) -> bool {
        self.0 & Self::PSH != 0
    }

    /// Flags as tcpdump prints them, e.g. `S.` for SYN/ACK, `R.` for RST/ACK.
    pub fn short(self) -> String {
        let mut s = String::new();
        for (bit, c) in [
            (Self::SYN, 'S'),
            (Self::FIN, 'F'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'W'),
        ] {
            if self.0 & bit != 0 {
                s.push(c);
            }
        }
        if self.ack() {
            s.push('.');
        }
        if s.is_empty() {
            s.push_str("none");
        }
        s
    }
}

/// The IP layer of a decoded packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification; `None` for IPv6 (no fragment header).
    pub ip_id: Option<u16>,
}

/// TCP options we care about (absent when the options were cut by snaplen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// The segment carries SACK blocks.
    pub sack: bool,
}

/// A decoded TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub ip: IpInfo,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// The raw (unscaled) window field.
    pub window: u16,
    pub options: TcpOptions,
    /// Payload length on the wire, from the IP length fields (not the
    /// captured length).
    pub payload_len: u32,
    /// The captured part of the payload (may be shorter than `payload_len`).
    pub payload: &'a [u8],
    /// The TCP options (or more) were cut by the snaplen; only the fixed
    /// 20-byte header was read.
    pub options_truncated: bool,
}

/// What an ICMP/ICMPv6 error says about the packet it quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpErrorKind {
    /// ICMPv4 type 3 code 0 / ICMPv6 type 1 code 0 (no route), code 3 (address unreachable).
    NetUnreachable,
    /// ICMPv4 type 3 code 1 / ICMPv6 type 1 code 3.
    HostUnreachable,
    /// ICMPv4 type 3 code 2.
    ProtocolUnreachable,
    /// ICMPv4 type 3 code 3 / ICMPv6 type 1 code 4.
    PortUnreachable,
    /// ICMPv4 type 3 codes 9, 10, 13 / ICMPv6 type 1 code 1 (and 5, 6: policy / reject route).
    AdminProhibited,
    /// ICMPv4 type 3 code 4 / ICMPv6 type 2.
    FragmentationNeeded,
    /// ICMPv4 type 11 / ICMPv6 type 3.
    TimeExceeded,
    /// Any other destination-unreachable code.
    OtherUnreachable,
}

/// The 4-tuple (and sequence number, when quoted) of the TCP segment an ICMP
/// error refers to, as the original sender sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedTcp {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    /// ICMP must quote 8 bytes of the transport header, so the sequence
    /// number is normally present.
    pub seq: Option<u32>,
}

/// An ICMP or ICMPv6 error message quoting a TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpError {
    /// The outer IP header: `ip.src` is the host or router that sent the error.
    pub ip: IpInfo,
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    pub kind: IcmpErrorKind,
    pub quoted: QuotedTcp,
}

/// A decoded UDP datagram (DNS rides on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    pub ip: IpInfo,
    pub src_port: u16,
    pub dst_port: u16,
    /// The captured part of the payload, cut to the UDP length field.
    pub payload: &'a [u8],
}

/// Decoded packets that are neither TCP nor an ICMP error about TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherKind {
    /// ARP, LLDP and other non-IP link payloads.
    NonIp,
    /// A UDP header cut short.
    Udp,
    /// ICMP that is not an error quoting TCP (echo, neighbour discovery…).
    Icmp,
    /// Any other IP protocol (SCTP, GRE, ESP…).
    OtherIpProto,
}

/// The result of decoding one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    Tcp(TcpSegment<'a>),
    IcmpError(IcmpError),
    Udp(UdpDatagram<'a>),
    Other(OtherKind),
}

impl Decoded<'_> {
    /// The two ends of a TCP segment, or of the TCP segment an ICMP error
    /// quotes: the connection a frame is about.
    pub fn tcp_tuple(&self) -> Option<(std::net::SocketAddr, std::net::SocketAddr)> {
        use std::net::SocketAddr;
        match self {
            Decoded::Tcp(t) => Some((
                SocketAddr::new(t.ip.src, t.src_port),
                SocketAddr::new(t.ip.dst, t.dst_port),
            )),
            Decoded::IcmpError(e) => Some((
                SocketAddr::new(e.quoted.src, e.quoted.src_port),
                SocketAddr::new(e.quoted.dst, e.quoted.dst_port),
            )),
            _ => None,
        }
    }

    /// [`Decoded::tcp_tuple`], and a UDP datagram's two ends.
    pub fn tuple(&self) -> Option<(std::net::SocketAddr, std::net::SocketAddr)> {
        match self {
            Decoded::Udp(u) => Some((
                std::net::SocketAddr::new(u.ip.src, u.src_port),
                std::net::SocketAddr::new(u.ip.dst, u.dst_port),
            )),
            _ => self.tcp_tuple(),
        }
    }
}

/// Why a frame could not be decoded. Counted, never fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The link type is not one we decode.
    UnsupportedLinkType(u32),
    /// The link-layer header is cut short.
    TruncatedLink,
    /// The IP header is cut short or malformed.
    BadIp,
    /// A non-first IP fragment: the TCP header is elsewhere.
    IpFragment,
    /// The TCP header is shorter than its fixed 20 bytes.
    TruncatedTcp,
    /// The TCP data offset is below 5 or otherwise impossible.
    BadTcp,
}

impl DecodeError {
    /// A stable, human-readable reason used as the counter key in reports.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::UnsupportedLinkType(_) => "unsupported link type",
            DecodeError::TruncatedLink => "truncated link-layer header",
            DecodeError::BadIp => "malformed or truncated IP header",
            DecodeError::IpFragment => "non-first IP fragment",
            DecodeError::TruncatedTcp => "truncated TCP header",
            DecodeError::BadTcp => "malformed TCP header",
        }
    }
}

/// A decoded frame without its payload bytes, and where they are in the
/// frame: what one thread decodes for another, which holds the frame's
/// bytes ([`Detached::attach`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detached {
    decoded: Result<Decoded<'static>, DecodeError>,
    payload_start: usize,
    payload_len: usize,
}

impl Default for Detached {
    /// Nothing decoded (a placeholder, e.g. for [`decode_detached`] to fill).
    fn default() -> Self {
        Detached {
            decoded: Err(DecodeError::TruncatedLink),
            payload_start: 0,
            payload_len: 0,
        }
    }
}

impl Detached {
    /// `decoded` (decoded from `frame`) without its payload.
    pub fn new(decoded: Result<Decoded<'_>, DecodeError>, frame: &[u8]) -> Detached {
        let (payload, decoded): (&[u8], _) = match decoded {
            Ok(Decoded::Tcp(t)) => (
                t.payload,
                Ok(Decoded::Tcp(TcpSegment { payload: &[], ..t })),
            ),
            Ok(Decoded::Udp(u)) => (
                u.payload,
                Ok(Decoded::Udp(UdpDatagram { payload: &[], ..u })),
            ),
            Ok(Decoded::IcmpError(e)) => (&[], Ok(Decoded::IcmpError(e))),
            Ok(Decoded::Other(k)) => (&[], Ok(Decoded::Other(k))),
            Err(e) => (&[], Err(e)),
        };
        // The decoder's payloads are slices of the frame; an empty one may
        // be any empty slice.
        let start = (payload.as_ptr() as usize).wrapping_sub(frame.as_ptr() as usize);
        let inside = start
            .checked_add(payload.len())
            .is_some_and(|end| end <= frame.len());
        let (payload_start, payload_len) = if payload.is_empty() || !inside {
            debug_assert!(payload.is_empty(), "a payload outside its frame");
            (0, 0)
        } else {
            (start, payload.len())
        };
        Detached {
            decoded,
            payload_start,
            payload_len,
        }
    }

    /// A TCP segment as it is kept (its `payload` empty), and its payload
    /// taken from `frame` (the same bytes it was decoded from, or a copy):
    /// [`Detached::attach`] without copying the segment.
    pub fn tcp<'a>(&self, frame: &'a [u8]) -> Option<(&TcpSegment<'static>, &'a [u8])> {
        match &self.decoded {
            Ok(Decoded::Tcp(t)) => Some((t, self.payload(frame))),
            _ => None,
        }
    }

    /// The payload's bytes in `frame` (empty if they are not there).
    fn payload<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        self.payload_start
            .checked_add(self.payload_len)
            .and_then(|end| frame.get(self.payload_start..end))
            .unwrap_or(&[])
    }

    /// The decoded frame again, its payload taken from `frame` (the same
    /// bytes it was decoded from, or a copy of them).
    pub fn attach<'a>(&self, frame: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
        let payload = self.payload(frame);
        // Matched by reference: the decoded frame is copied once, into
        // the result (once per packet on the tracking thread).
        match &self.decoded {
            Ok(Decoded::Tcp(t)) => Ok(Decoded::Tcp(TcpSegment { payload, ..*t })),
            Ok(Decoded::Udp(u)) => Ok(Decoded::Udp(UdpDatagram { payload, ..*u })),
            Ok(d) => Ok(*d),
            Err(e) => Err(*e),
        }
    }
}
