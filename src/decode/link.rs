//! Link-layer types (pcap LINKTYPE_* values) and their dispatch to the
//! network layer.

/// LINKTYPE_NULL: BSD loopback, 4-byte address family in host byte order.
pub const NULL: u32 = 0;
/// LINKTYPE_ETHERNET.
pub const ETHERNET: u32 = 1;
/// LINKTYPE_RAW as written by OpenBSD (DLT_RAW 12).
pub const RAW_12: u32 = 12;
/// LINKTYPE_RAW as written by some BSDs (DLT_RAW 14).
pub const RAW_14: u32 = 14;
/// LINKTYPE_RAW: raw IPv4 or IPv6.
pub const RAW: u32 = 101;
/// LINKTYPE_LOOP: OpenBSD loopback, 4-byte address family in network byte order.
pub const LOOP: u32 = 108;
/// LINKTYPE_LINUX_SLL: Linux cooked capture v1.
pub const LINUX_SLL: u32 = 113;
/// LINKTYPE_IPV4: raw IPv4.
pub const IPV4: u32 = 228;
/// LINKTYPE_IPV6: raw IPv6.
pub const IPV6: u32 = 229;
/// LINKTYPE_LINUX_SLL2: Linux cooked capture v2 (`tcpdump -i any`).
pub const LINUX_SLL2: u32 = 276;

/// A short name for a link type, as tshark/tcpdump call it.
pub fn name(linktype: u32) -> &'static str {
    match linktype {
        NULL => "NULL",
        ETHERNET => "EN10MB",
        RAW_12 | RAW_14 | RAW => "RAW",
        LOOP => "LOOP",
        LINUX_SLL => "LINUX_SLL",
        IPV4 => "IPV4",
        IPV6 => "IPV6",
        LINUX_SLL2 => "LINUX_SLL2",
        _ => "unknown",
    }
}
