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

const USER: [&str; 16] = [
    "USER0", "USER1", "USER2", "USER3", "USER4", "USER5", "USER6", "USER7", "USER8", "USER9",
    "USER10", "USER11", "USER12", "USER13", "USER14", "USER15",
];

/// Whether the decoder (`decode::decode`) reads this link type.
pub fn is_supported(linktype: u32) -> bool {
    matches!(
        linktype,
        NULL | ETHERNET | RAW_12 | RAW_14 | RAW | LOOP | LINUX_SLL | IPV4 | IPV6 | LINUX_SLL2
    )
}

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
        // Common link types we do not decode, named for error messages.
        6 => "IEEE802",
        8 => "SLIP",
        9 => "PPP",
        10 => "FDDI",
        50 => "PPP_SERIAL",
        51 => "PPP_ETHER",
        100 => "ATM_RFC1483",
        104 => "C_HDLC",
        105 => "IEEE802_11",
        107 => "FRELAY",
        119 => "PRISM_HEADER",
        123 => "SUNATM",
        127 => "IEEE802_11_RADIO",
        129 => "ARCNET_LINUX",
        139 => "MTP2_WITH_PHDR",
        140 => "MTP2",
        141 => "MTP3",
        142 => "SCCP",
        143 => "DOCSIS",
        147..=162 => USER[(linktype - 147) as usize],
        163 => "IEEE802_11_RADIO_AVS",
        177 => "LINUX_LAPD",
        187 => "BLUETOOTH_HCI_H4",
        189 => "USB_LINUX",
        192 => "PPI",
        195 => "IEEE802_15_4",
        197 => "ERF",
        201 => "BLUETOOTH_HCI_H4_WITH_PHDR",
        220 => "USB_LINUX_MMAPPED",
        226 => "IPNET",
        230 => "IEEE802_15_4_NOFCS",
        231 => "DBUS",
        239 => "NFLOG",
        242 => "IPOIB",
        249 => "USBPCAP",
        253 => "NETLINK",
        258 => "PKTAP",
        _ => "unknown",
    }
}
