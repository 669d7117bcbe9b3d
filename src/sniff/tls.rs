//! TLS handshake sniffer: what one direction of a TCP stream says in the
//! clear before encryption starts.
//!
//! [`TlsSniffer`] takes one direction's bytes in order, from the first byte
//! of the stream, in pieces of any size. It frames TLS records itself (so a
//! record may span any number of pieces), reassembles handshake messages
//! across records (so a message may span records and several messages may
//! share one), and hands each complete message to `tls-parser`; the first
//! certificate of a Certificate message goes to `x509-parser`.
//!
//! What it keeps: the ClientHello's SNI, ALPN and versions, the ServerHello's
//! negotiated version and cipher, the first certificate's subject, issuer and
//! expiry (TLS 1.2 and earlier; TLS 1.3 encrypts it), the first few alerts,
//! and where encryption started.
//!
//! Input is hostile: nothing here panics, the only buffer (incomplete
//! handshake messages) never exceeds [`MAX_BUFFER`] bytes of capacity, every
//! list and string kept is capped, and every loop consumes input.

use tls_parser::{
    SNIType, TlsExtension, TlsMessageHandshake, parse_tls_client_hello_extension,
    parse_tls_handshake_client_hello, parse_tls_handshake_msg_certificate,
    parse_tls_handshake_msg_server_hello, parse_tls_server_hello_extension,
};

use crate::packet::Event;

/// Most bytes of incomplete handshake data buffered (capacity, not length).
/// A TLS 1.2 Certificate message is usually 3-5 KB; a larger one is dropped.
pub const MAX_BUFFER: usize = 64 * 1024;
/// Most alerts kept.
pub const MAX_ALERTS: usize = 4;
/// Most ALPN protocols kept from a ClientHello.
pub const MAX_ALPN: usize = 8;
/// Most versions kept from a ClientHello's supported_versions extension.
pub const MAX_VERSIONS: usize = 8;
/// Longest string kept from the packet (SNI, subject, issuer), in bytes.
pub const MAX_STRING: usize = 1024;

/// Largest record body accepted: 2^14 plus the 2048 bytes of expansion RFC
/// 5246 allows for protected records. Anything larger is not TLS framing.
const MAX_RECORD: usize = (1 << 14) + 2048;

const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPLICATION_DATA: u8 = 23;
const CT_HEARTBEAT: u8 = 24;

const HT_CLIENT_HELLO: u8 = 1;
const HT_SERVER_HELLO: u8 = 2;
const HT_CERTIFICATE: u8 = 11;
/// The major version byte of every TLS record header (SSL 3.0 to TLS 1.3).
const RECORD_MAJOR: u8 = 3;

/// `payload` starts like a TLS record header that can open a connection:
/// handshake, alert or change-cipher-spec (content type 20..=22), version
/// 3.x. Application data (23) is not accepted: a stream that starts with
/// it was captured mid-connection, and plain text rarely looks like this.
#[inline]
pub fn looks_like_tls(payload: &[u8]) -> bool {
    payload.len() >= 3
        && (CT_CHANGE_CIPHER_SPEC..=CT_HANDSHAKE).contains(&payload[0])
        && payload[1] == RECORD_MAJOR
}

/// `payload` starts with a TLS handshake record (content type 22, version
/// 3.x) whose first message is a ClientHello (handshake type 1).
#[inline]
pub fn looks_like_client_hello(payload: &[u8]) -> bool {
    payload.len() >= 6
        && payload[0] == CT_HANDSHAKE
        && payload[1] == RECORD_MAJOR
        && payload[5] == HT_CLIENT_HELLO
}

/// What one direction's handshake revealed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// The first bytes are not a TLS record header (content type 20..=23,
    /// version 0x03xx), e.g. plain HTTP or an SSLv2-compatible hello.
    pub not_tls: bool,
    pub client_hello: Option<ClientHello>,
    pub server_hello: Option<ServerHello>,
    /// First certificate of the chain (the server's leaf when sniffing the
    /// server's direction). TLS <= 1.2 only: TLS 1.3 encrypts it.
    pub certificate: Option<Certificate>,
    /// The first [`MAX_ALERTS`] alerts, in order.
    pub alerts: Vec<Alert>,
    /// The first ChangeCipherSpec or ApplicationData record: from there on
    /// the direction is encrypted.
    pub encrypted_from: Option<Event>,
}

/// The first ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// The segment that completed it.
    pub at: Event,
    /// The server_name extension's host_name, lowercased, as the packet has
    /// it otherwise (not escaped; invalid UTF-8 replaced), at most
    /// [`MAX_STRING`] bytes.
    pub sni: Option<String>,
    /// Offered ALPN protocols, at most [`MAX_ALPN`].
    pub alpn: Vec<String>,
    /// The legacy `client_version` field (0x0303 for TLS 1.3 clients).
    pub legacy_version: u16,
    /// The supported_versions extension, GREASE removed, at most
    /// [`MAX_VERSIONS`]; empty if absent.
    pub supported_versions: Vec<u16>,
}

/// The first ServerHello (or HelloRetryRequest, which has the same shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The segment that completed it.
    pub at: Event,
    /// Negotiated version: the supported_versions extension if present,
    /// else the legacy version field.
    pub version: u16,
    /// The chosen cipher suite.
    pub cipher: u16,
}

/// A TLS alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The segment that completed it.
    pub at: Event,
    /// 1 warning, 2 fatal; 0 when `encrypted`.
    pub level: u8,
    /// See [`alert_description_name`]; 0 when `encrypted`.
    pub description: u8,
    /// Sent after ChangeCipherSpec: level and description are encrypted and
    /// unknown (the fields above are 0, not close_notify).
    pub encrypted: bool,
}

/// The first certificate of a (TLS <= 1.2) Certificate message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The segment that completed the Certificate message.
    pub at: Event,
    /// RFC 4514-style, e.g. `C=US, O=Corp, CN=Corp Inspection CA`, at most
    /// [`MAX_STRING`] bytes.
    pub subject: String,
    pub issuer: String,
    /// Subject and issuer are the same name.
    pub self_signed: bool,
    /// notAfter in RFC 3339 UTC, e.g. `2027-01-01T12:30:00Z`.
    pub not_after: Option<String>,
}

/// Where the record framer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Collecting a 5-byte record header.
    Header,
    /// Inside a record body of this content type with this many bytes left.
    Body { content_type: u8, left: usize },
    /// Nothing more to learn: not TLS, bad framing, or the buffer cap hit.
    Stopped,
}

/// Sniffs one direction of a TCP stream from its first byte.
#[derive(Debug, Clone)]
pub struct TlsSniffer {
    info: TlsInfo,
    phase: Phase,
    header: [u8; 5],
    header_len: usize,
    /// Whether any record header has been completed (the not-TLS check
    /// applies to the first one only).
    seen_record: bool,
    /// Handshake bytes not yet forming a complete message.
    handshake: Vec<u8>,
    /// First byte of an alert split across records.
    alert_level: Option<u8>,
    /// The buffer cap was hit.
    overflowed: bool,
}

impl Default for TlsSniffer {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsSniffer {
    pub fn new() -> Self {
        TlsSniffer {
            info: TlsInfo::default(),
            phase: Phase::Header,
            header: [0; 5],
            header_len: 0,
            seen_record: false,
            handshake: Vec::new(),
            alert_level: None,
            overflowed: false,
        }
    }

    /// Next in-order bytes of this direction. Handshake messages may span
    /// TLS records and records may span calls.
    ///
    /// After encryption starts nothing is buffered any more, but record
    /// headers in bytes still fed are read, so an encrypted alert in the
    /// same segment is still seen.
    pub fn feed(&mut self, bytes: &[u8], at: Event) {
        let mut rest = bytes;
        // Every iteration consumes at least one byte or stops.
        while !rest.is_empty() {
            match self.phase {
                Phase::Stopped => return,
                Phase::Header => {
                    let b = rest[0];
                    rest = &rest[1..];
                    self.header_byte(b, at);
                }
                Phase::Body { content_type, left } => {
                    let n = left.min(rest.len());
                    let (chunk, tail) = rest.split_at(n);
                    rest = tail;
                    let left = left - n;
                    self.phase = if left == 0 {
                        Phase::Header
                    } else {
                        Phase::Body { content_type, left }
                    };
                    self.body(content_type, chunk, at);
                }
            }
        }
    }

    /// False once nothing more can be learned: not TLS, encryption started
    /// (ChangeCipherSpec or ApplicationData seen), bad framing, or the
    /// buffer cap was hit.
    pub fn wants_more(&self) -> bool {
        self.phase != Phase::Stopped && self.info.encrypted_from.is_none()
    }

    pub fn info(&self) -> &TlsInfo {
        &self.info
    }

    pub fn into_info(self) -> TlsInfo {
        self.info
    }

    /// Capacity of the handshake buffer (for the cap assertions).
    #[cfg(test)]
    fn buffered(&self) -> usize {
        self.handshake.capacity()
    }

    fn encrypted(&self) -> bool {
        self.info.encrypted_from.is_some()
    }

    fn stop(&mut self) {
        self.phase = Phase::Stopped;
        self.handshake = Vec::new();
    }

    fn header_byte(&mut self, b: u8, at: Event) {
        let i = self.header_len;
        self.header[i] = b;
        self.header_len = i + 1;
        // Reject as early as the bytes allow, so plain text is recognised
        // from its first byte.
        let valid = match i {
            0 if !self.seen_record => (CT_CHANGE_CIPHER_SPEC..=CT_APPLICATION_DATA).contains(&b),
            0 => (CT_CHANGE_CIPHER_SPEC..=CT_HEARTBEAT).contains(&b),
            1 => b == RECORD_MAJOR,
            _ => true,
        };
        if !valid {
            if !self.seen_record {
                self.info.not_tls = true;
            }
            self.stop();
            return;
        }
        if self.header_len < 5 {
            return;
        }
        self.header_len = 0;
        self.seen_record = true;
        let content_type = self.header[0];
        let len = usize::from(u16::from_be_bytes([self.header[3], self.header[4]]));
        if len > MAX_RECORD {
            self.stop();
            return;
        }
        match content_type {
            CT_CHANGE_CIPHER_SPEC | CT_APPLICATION_DATA if !self.encrypted() => {
                self.info.encrypted_from = Some(at);
                self.handshake = Vec::new();
                self.alert_level = None;
            }
            CT_ALERT if self.encrypted() => {
                self.push_alert(Alert {
                    at,
                    level: 0,
                    description: 0,
                    encrypted: true,
                });
            }
            _ => {}
        }
        if len > 0 {
            self.phase = Phase::Body {
                content_type,
                left: len,
            };
        }
    }

    fn body(&mut self, content_type: u8, chunk: &[u8], at: Event) {
        if self.encrypted() {
            return; // skimmed: only record headers matter now
        }
        match content_type {
            CT_HANDSHAKE => self.handshake_bytes(chunk, at),
            CT_ALERT => {
                for &b in chunk {
                    match self.alert_level.take() {
                        None => self.alert_level = Some(b),
                        Some(level) => self.push_alert(Alert {
                            at,
                            level,
                            description: b,
                            encrypted: false,
                        }),
                    }
                }
            }
            _ => {}
        }
    }

    fn push_alert(&mut self, alert: Alert) {
        if self.info.alerts.len() < MAX_ALERTS {
            self.info.alerts.push(alert);
        }
    }

    /// Appends a handshake record's bytes and handles every message they
    /// complete.
    fn handshake_bytes(&mut self, mut chunk: &[u8], at: Event) {
        // Every iteration buffers at least one byte or stops.
        while !chunk.is_empty() && self.phase != Phase::Stopped {
            let room = MAX_BUFFER.saturating_sub(self.handshake.len());
            if room == 0 {
                self.overflowed = true;
                self.stop();
                return;
            }
            let (now, later) = chunk.split_at(room.min(chunk.len()));
            chunk = later;
            let needed = self.handshake.len() + now.len();
            if needed > self.handshake.capacity() {
                // Grow geometrically but never past the cap.
                let target = needed
                    .max(self.handshake.capacity().saturating_mul(2))
                    .min(MAX_BUFFER);
                self.handshake
                    .reserve_exact(target.saturating_sub(self.handshake.len()));
            }
            self.handshake.extend_from_slice(now);
            self.complete_messages(at);
        }
    }

    /// Handles and drops every complete message at the start of the buffer.
    fn complete_messages(&mut self, at: Event) {
        let mut pos = 0;
        // Every iteration consumes a whole message (at least 4 bytes).
        while let Some(header) = self.handshake.get(pos..pos + 4) {
            let msg_type = header[0];
            let len = (usize::from(header[1]) << 16)
                | (usize::from(header[2]) << 8)
                | usize::from(header[3]);
            if len + 4 > MAX_BUFFER {
                // Can never be buffered whole.
                self.overflowed = true;
                self.stop();
                return;
            }
            let Some(body) = self.handshake.get(pos + 4..pos + 4 + len) else {
                break;
            };
            let msg = Message { msg_type, body };
            let found = msg.parse(&self.info, at);
            pos += 4 + len;
            found.apply(&mut self.info);
        }
        self.handshake.drain(..pos);
    }
}

/// One complete handshake message.
struct Message<'a> {
    msg_type: u8,
    body: &'a [u8],
}

/// What a handshake message yielded (to update the info after the borrow of
/// the buffer ends).
#[derive(Default)]
struct Found {
    client_hello: Option<ClientHello>,
    server_hello: Option<ServerHello>,
    certificate: Option<Certificate>,
}

impl Found {
    fn apply(self, info: &mut TlsInfo) {
        if info.client_hello.is_none() {
            info.client_hello = self.client_hello;
        }
        if info.server_hello.is_none() {
            info.server_hello = self.server_hello;
        }
        if info.certificate.is_none() {
            info.certificate = self.certificate;
        }
    }
}

impl Message<'_> {
    fn parse(&self, info: &TlsInfo, at: Event) -> Found {
        let mut found = Found::default();
        match self.msg_type {
            HT_CLIENT_HELLO if info.client_hello.is_none() => {
                found.client_hello = client_hello(self.body, at);
            }
            HT_SERVER_HELLO if info.server_hello.is_none() => {
                found.server_hello = server_hello(self.body, at);
            }
            HT_CERTIFICATE if info.certificate.is_none() => {
                found.certificate = certificate(self.body, at);
            }
            _ => {}
        }
        found
    }
}

/// Splits an extensions block into single extensions (type, length, data),
/// so one malformed extension does not hide the others.
fn each_extension(mut exts: &[u8], mut f: impl FnMut(&[u8])) {
    // Every iteration consumes at least 4 bytes.
    while exts.len() >= 4 {
        let len = usize::from(u16::from_be_bytes([exts[2], exts[3]]));
        let Some(one) = exts.get(..4 + len) else {
            return;
        };
        f(one);
        exts = &exts[4 + len..];
    }
}

fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a
}

fn client_hello(body: &[u8], at: Event) -> Option<ClientHello> {
    let (_, ch) = parse_tls_handshake_client_hello(body).ok()?;
    let mut out = ClientHello {
        at,
        sni: None,
        alpn: Vec::new(),
        legacy_version: ch.version.0,
        supported_versions: Vec::new(),
    };
    each_extension(ch.ext.unwrap_or_default(), |one| {
        let Ok((_, ext)) = parse_tls_client_hello_extension(one) else {
            return;
        };
        match ext {
            TlsExtension::SNI(names) if out.sni.is_none() => {
                out.sni = names
                    .iter()
                    .find(|(t, _)| *t == SNIType::HostName)
                    .map(|(_, name)| capped_lossy(name).to_lowercase());
            }
            TlsExtension::ALPN(protocols) if out.alpn.is_empty() => {
                out.alpn = protocols
                    .iter()
                    .take(MAX_ALPN)
                    .map(|p| capped_lossy(p))
                    .collect();
            }
            TlsExtension::SupportedVersions(versions) if out.supported_versions.is_empty() => {
                out.supported_versions = versions
                    .iter()
                    .map(|v| v.0)
                    .filter(|&v| !is_grease(v))
                    .take(MAX_VERSIONS)
                    .collect();
            }
            _ => {}
        }
    });
    Some(out)
}

fn server_hello(body: &[u8], at: Event) -> Option<ServerHello> {
    let (_, msg) = parse_tls_handshake_msg_server_hello(body).ok()?;
    let (legacy, cipher, ext) = match msg {
        TlsMessageHandshake::ServerHello(sh) => (sh.version.0, sh.cipher.0, sh.ext),
        TlsMessageHandshake::ServerHelloV13Draft18(sh) => (sh.version.0, sh.cipher.0, sh.ext),
        _ => return None,
    };
    let mut version = legacy;
    let mut seen = false;
    each_extension(ext.unwrap_or_default(), |one| {
        if seen {
            return;
        }
        if let Ok((_, TlsExtension::SupportedVersions(v))) = parse_tls_server_hello_extension(one)
            && let Some(first) = v.first()
        {
            version = first.0;
            seen = true;
        }
    });
    Some(ServerHello {
        at,
        version,
        cipher,
    })
}

fn certificate(body: &[u8], at: Event) -> Option<Certificate> {
    let (_, msg) = parse_tls_handshake_msg_certificate(body).ok()?;
    let TlsMessageHandshake::Certificate(chain) = msg else {
        return None;
    };
    let der = chain.cert_chain.first()?.data;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cap_string(cert.subject().to_string());
    let issuer = cap_string(cert.issuer().to_string());
    let not_after = cert.validity().not_after;
    let not_after = chrono::DateTime::from_timestamp(not_after.timestamp(), 0)
        .map(|dt| dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .or_else(|| Some(cap_string(not_after.to_string())));
    Some(Certificate {
        at,
        self_signed: subject == issuer,
        subject,
        issuer,
        not_after,
    })
}

/// Lossy UTF-8 of at most [`MAX_STRING`] bytes of the packet.
fn capped_lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_STRING)]).into_owned()
}

/// Truncates to at most [`MAX_STRING`] bytes, on a character boundary.
fn cap_string(mut s: String) -> String {
    if s.len() > MAX_STRING {
        let mut end = MAX_STRING;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// "TLS 1.2", "TLS 1.3", "SSL 3.0", ...; anything else as hex, e.g. "0x7f1c".
pub fn version_name(v: u16) -> String {
    match v {
        0x0200 => "SSL 2.0".to_string(),
        0x0300 => "SSL 3.0".to_string(),
        0x0301 => "TLS 1.0".to_string(),
        0x0302 => "TLS 1.1".to_string(),
        0x0303 => "TLS 1.2".to_string(),
        0x0304 => "TLS 1.3".to_string(),
        _ => format!("0x{v:04x}"),
    }
}

/// The IANA name of an alert description, or "unknown".
pub fn alert_description_name(d: u8) -> &'static str {
    match d {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => "unknown",
    }
}

/// "warning", "fatal", or "unknown".
pub fn alert_level_name(l: u8) -> &'static str {
    match l {
        1 => "warning",
        2 => "fatal",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Ts;

    const TLS12_C2S: &[u8] = include_bytes!("testdata/tls/tls12_c2s.bin");
    const TLS12_S2C: &[u8] = include_bytes!("testdata/tls/tls12_s2c.bin");
    const TLS13_C2S: &[u8] = include_bytes!("testdata/tls/tls13_c2s.bin");
    const TLS13_S2C: &[u8] = include_bytes!("testdata/tls/tls13_s2c.bin");
    const SNI_REJECT_C2S: &[u8] = include_bytes!("testdata/tls/sni_reject_c2s.bin");
    const SNI_REJECT_S2C: &[u8] = include_bytes!("testdata/tls/sni_reject_s2c.bin");
    const SELFSIGNED_C2S: &[u8] = include_bytes!("testdata/tls/selfsigned_c2s.bin");
    const SELFSIGNED_S2C: &[u8] = include_bytes!("testdata/tls/selfsigned_s2c.bin");

    const ALL: &[&[u8]] = &[
        TLS12_C2S,
        TLS12_S2C,
        TLS13_C2S,
        TLS13_S2C,
        SNI_REJECT_C2S,
        SNI_REJECT_S2C,
        SELFSIGNED_C2S,
        SELFSIGNED_S2C,
    ];

    #[test]
    fn record_and_client_hello_from_the_first_bytes() {
        assert!(looks_like_tls(&[0x16, 3, 1, 0, 5]));
        assert!(looks_like_tls(&[0x15, 3, 3]));
        assert!(!looks_like_tls(&[0x17, 3, 3])); // application data first: mid-stream
        assert!(!looks_like_tls(&[0x16, 3]));
        assert!(!looks_like_tls(b"GET / HTTP/1.1"));
        for hello in [TLS12_C2S, TLS13_C2S, SNI_REJECT_C2S, SELFSIGNED_C2S] {
            assert!(looks_like_client_hello(hello));
            assert!(looks_like_tls(hello));
        }
        for server in [TLS12_S2C, TLS13_S2C] {
            assert!(!looks_like_client_hello(server)); // ServerHello
        }
        assert!(!looks_like_client_hello(&[0x16, 3, 1, 0, 5]));
        assert!(!looks_like_client_hello(&[0x15, 3, 1, 0, 2, 1]));
    }

    const CA: &str = "C=US, O=Corp, CN=Corp Inspection CA";

    fn ev(frame: u64) -> Event {
        Event {
            frame,
            ts: Ts(frame as i64 * 1_000),
        }
    }

    /// Feeds `data` in the pieces `sizes` yields (frame = piece number,
    /// from 1), checking the buffer cap after every piece.
    fn feed_pieces(data: &[u8], mut sizes: impl FnMut() -> usize) -> TlsSniffer {
        let mut s = TlsSniffer::new();
        let mut rest = data;
        let mut frame = 1;
        while !rest.is_empty() {
            let n = sizes().clamp(1, rest.len());
            s.feed(&rest[..n], ev(frame));
            assert!(s.buffered() <= MAX_BUFFER);
            rest = &rest[n..];
            frame += 1;
        }
        s
    }

    fn whole(data: &[u8]) -> TlsInfo {
        feed_pieces(data, || usize::MAX).into_info()
    }

    fn bytewise(data: &[u8]) -> TlsInfo {
        feed_pieces(data, || 1).into_info()
    }

    use crate::testutil::Lcg;

    fn random_pieces(data: &[u8], seed: u64) -> TlsInfo {
        let mut rng = Lcg(seed);
        feed_pieces(data, || (rng.next() % 700) as usize + 1).into_info()
    }

    /// The records of a stream: (content type, body).
    fn records(data: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i + 5 <= data.len() {
            let len = usize::from(u16::from_be_bytes([data[i + 3], data[i + 4]]));
            out.push((data[i], data[i + 5..i + 5 + len].to_vec()));
            i += 5 + len;
        }
        assert_eq!(i, data.len());
        out
    }

    /// Offset just past each record: with one byte per frame numbered
    /// from 1, the frame that completes the record.
    fn record_ends(data: &[u8]) -> Vec<u64> {
        let mut end = 0;
        records(data)
            .iter()
            .map(|(_, b)| {
                end += 5 + b.len() as u64;
                end
            })
            .collect()
    }

    fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![content_type, 3, 3];
        v.extend_from_slice(&(body.len() as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    /// Re-frames the leading handshake records as records of at most `frag`
    /// bytes (small: messages span records; large: messages share one).
    fn repack(data: &[u8], frag: usize) -> Vec<u8> {
        let recs = records(data);
        let lead = recs.iter().take_while(|(t, _)| *t == CT_HANDSHAKE).count();
        let hs: Vec<u8> = recs[..lead].iter().flat_map(|(_, b)| b.clone()).collect();
        let mut out = Vec::new();
        for piece in hs.chunks(frag) {
            out.extend(record(CT_HANDSHAKE, piece));
        }
        for (t, b) in &recs[lead..] {
            out.extend(record(*t, b));
        }
        out
    }

    fn check_tls12_client(info: &TlsInfo) {
        assert!(!info.not_tls);
        let ch = info.client_hello.as_ref().expect("client hello");
        // Sent as "Proxy.Golang.org".
        assert_eq!(ch.sni.as_deref(), Some("proxy.golang.org"));
        assert_eq!(ch.alpn, vec!["h2".to_string(), "http/1.1".to_string()]);
        assert_eq!(ch.legacy_version, 0x0303);
        assert!(ch.supported_versions.is_empty());
        assert!(info.server_hello.is_none());
        assert!(info.certificate.is_none());
        assert!(info.encrypted_from.is_some());
    }

    fn check_tls12_server(info: &TlsInfo) {
        assert!(!info.not_tls);
        assert!(info.client_hello.is_none());
        let sh = info.server_hello.as_ref().expect("server hello");
        assert_eq!(sh.version, 0x0303);
        assert_eq!(version_name(sh.version), "TLS 1.2");
        assert_eq!(sh.cipher, 0xc02f); // ECDHE-RSA-AES128-GCM-SHA256
        let cert = info.certificate.as_ref().expect("certificate");
        assert_eq!(cert.subject, "CN=proxy.golang.org");
        assert_eq!(cert.issuer, CA);
        assert!(!cert.self_signed);
        assert_eq!(cert.not_after.as_deref(), Some("2027-01-01T12:30:00Z"));
        assert!(info.alerts.is_empty());
        assert!(info.encrypted_from.is_some());
    }

    #[test]
    fn tls12_whole() {
        let c = whole(TLS12_C2S);
        check_tls12_client(&c);
        let ch = c.client_hello.as_ref().unwrap();
        assert_eq!(ch.at, ev(1));
        assert_eq!(c.encrypted_from, Some(ev(1)));
        // The client's close_notify after the request: encrypted, but its
        // record header is still read when fed in the same call.
        assert_eq!(
            c.alerts,
            vec![Alert {
                at: ev(1),
                level: 0,
                description: 0,
                encrypted: true
            }]
        );
        check_tls12_server(&whole(TLS12_S2C));
    }

    #[test]
    fn tls12_bytewise_marks_the_completing_segment() {
        let c = bytewise(TLS12_C2S);
        check_tls12_client(&c);
        // Frame n carries byte n-1: the ClientHello record ends the
        // ClientHello; the CCS follows the ClientKeyExchange record.
        let ends = record_ends(TLS12_C2S);
        assert_eq!(c.client_hello.as_ref().unwrap().at, ev(ends[0]));
        assert_eq!(c.encrypted_from, Some(ev(ends[1] + 5)));

        let mut s = TlsSniffer::new();
        for (i, b) in TLS12_S2C.iter().enumerate() {
            s.feed(&[*b], ev(i as u64 + 1));
            assert!(s.buffered() <= MAX_BUFFER);
            if !s.wants_more() {
                break; // what the caller does
            }
        }
        let info = s.into_info();
        check_tls12_server(&info);
        let ends = record_ends(TLS12_S2C);
        assert_eq!(info.server_hello.as_ref().unwrap().at, ev(ends[0]));
        assert_eq!(info.certificate.as_ref().unwrap().at, ev(ends[1]));
    }

    #[test]
    fn tls12_random_pieces() {
        for seed in 0..50 {
            check_tls12_client(&random_pieces(TLS12_C2S, seed));
            check_tls12_server(&random_pieces(TLS12_S2C, seed));
        }
    }

    #[test]
    fn handshake_messages_spanning_and_sharing_records() {
        for frag in [1, 7, 100, 1000, 16384] {
            let s2c = repack(TLS12_S2C, frag);
            check_tls12_server(&whole(&s2c));
            check_tls12_server(&random_pieces(&s2c, frag as u64));
            check_tls12_client(&whole(&repack(TLS12_C2S, frag)));
        }
        // All four messages of the server's first flight in one record.
        let shared = repack(TLS12_S2C, 16384);
        let flight: usize = records(TLS12_S2C)
            .iter()
            .take_while(|(t, _)| *t == CT_HANDSHAKE)
            .map(|(_, b)| b.len())
            .sum();
        assert_eq!(records(&shared)[0].1.len(), flight);
        assert_eq!(records(&shared)[1].0, CT_CHANGE_CIPHER_SPEC);
    }

    fn check_tls13_client(info: &TlsInfo) {
        let ch = info.client_hello.as_ref().expect("client hello");
        assert_eq!(ch.sni.as_deref(), Some("proxy.golang.org"));
        assert_eq!(ch.alpn, vec!["h2".to_string(), "http/1.1".to_string()]);
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.supported_versions, vec![0x0304, 0x0303]);
        assert!(info.encrypted_from.is_some());
    }

    fn check_tls13_server(info: &TlsInfo) {
        let sh = info.server_hello.as_ref().expect("server hello");
        assert_eq!(sh.version, 0x0304);
        assert_eq!(version_name(sh.version), "TLS 1.3");
        assert_eq!(sh.cipher, 0x1302); // TLS_AES_256_GCM_SHA384
        assert!(info.certificate.is_none()); // encrypted in TLS 1.3
        assert!(info.alerts.is_empty());
        assert!(info.encrypted_from.is_some());
    }

    #[test]
    fn tls13() {
        let c = whole(TLS13_C2S);
        check_tls13_client(&c);
        check_tls13_client(&bytewise(TLS13_C2S));
        let s = whole(TLS13_S2C);
        check_tls13_server(&s);
        let b = bytewise(TLS13_S2C);
        check_tls13_server(&b);
        // ServerHello record (5 + 122), then the compatibility CCS header.
        let ends = record_ends(TLS13_S2C);
        assert_eq!(b.server_hello.as_ref().unwrap().at, ev(ends[0]));
        assert_eq!(b.encrypted_from, Some(ev(ends[0] + 5)));
        for seed in 0..50 {
            check_tls13_client(&random_pieces(TLS13_C2S, seed));
            check_tls13_server(&random_pieces(TLS13_S2C, seed));
        }
    }

    #[test]
    fn stops_wanting_more_once_encrypted() {
        let mut s = TlsSniffer::new();
        let recs = records(TLS13_S2C);
        let hello = record(recs[0].0, &recs[0].1);
        s.feed(&hello, ev(1));
        assert!(s.wants_more());
        assert!(s.info().server_hello.is_some());
        s.feed(&record(CT_CHANGE_CIPHER_SPEC, &[1]), ev(2));
        assert!(!s.wants_more());
        assert_eq!(s.info().encrypted_from, Some(ev(2)));
        // A later handshake record is encrypted: not buffered, not parsed.
        s.feed(&record(CT_HANDSHAKE, &[0; 300]), ev(3));
        assert_eq!(s.buffered(), 0);
        assert_eq!(s.info().encrypted_from, Some(ev(2)));
    }

    #[test]
    fn sni_rejected_with_unrecognized_name() {
        for info in [whole(SNI_REJECT_C2S), bytewise(SNI_REJECT_C2S)] {
            let ch = info.client_hello.as_ref().unwrap();
            assert_eq!(ch.sni.as_deref(), Some("blocked.example.com"));
            assert_eq!(ch.alpn, vec!["h2".to_string()]);
            assert_eq!(ch.supported_versions, vec![0x0304, 0x0303]);
            assert!(info.encrypted_from.is_none());
        }
        let s = bytewise(SNI_REJECT_S2C);
        assert!(!s.not_tls);
        assert!(s.server_hello.is_none());
        assert_eq!(
            s.alerts,
            vec![Alert {
                at: ev(7),
                level: 2,
                description: 112,
                encrypted: false
            }]
        );
        assert_eq!(alert_level_name(s.alerts[0].level), "fatal");
        assert_eq!(
            alert_description_name(s.alerts[0].description),
            "unrecognized_name"
        );
        assert_eq!(whole(SNI_REJECT_S2C).alerts[0].at, ev(1));
    }

    #[test]
    fn self_signed_certificate_rejected_by_client() {
        for s in [whole(SELFSIGNED_S2C), bytewise(SELFSIGNED_S2C)] {
            let sh = s.server_hello.as_ref().unwrap();
            assert_eq!((sh.version, sh.cipher), (0x0303, 0xc02f));
            let cert = s.certificate.as_ref().unwrap();
            assert_eq!(cert.subject, CA);
            assert_eq!(cert.issuer, CA);
            assert!(cert.self_signed);
            assert_eq!(cert.not_after.as_deref(), Some("2030-01-01T00:00:00Z"));
            assert!(s.encrypted_from.is_none());
        }
        let c = whole(SELFSIGNED_C2S);
        assert_eq!(
            c.client_hello.as_ref().unwrap().sni.as_deref(),
            Some("proxy.golang.org")
        );
        assert_eq!(c.client_hello.as_ref().unwrap().alpn, vec!["http/1.1"]);
        assert_eq!(c.alerts.len(), 1);
        assert_eq!((c.alerts[0].level, c.alerts[0].description), (2, 48));
        assert_eq!(alert_description_name(48), "unknown_ca");
        assert!(!c.alerts[0].encrypted);
    }

    #[test]
    fn hand_built_alert_record() {
        // handshake_failure, split 3 / 4 across two segments.
        let bytes = [21, 3, 3, 0, 2, 2, 40];
        let mut s = TlsSniffer::new();
        s.feed(&bytes[..3], ev(10));
        s.feed(&bytes[3..], ev(11));
        assert!(s.wants_more());
        let info = s.into_info();
        assert_eq!(info.alerts.len(), 1);
        assert_eq!(info.alerts[0].at, ev(11));
        assert_eq!(
            alert_description_name(info.alerts[0].description),
            "handshake_failure"
        );
        // An alert split across two records, and the cap of 4.
        let mut bytes = record(CT_ALERT, &[1]);
        bytes.extend(record(CT_ALERT, &[0, 2, 49, 2, 42, 2, 40, 2, 80]));
        let info = whole(&bytes);
        let got: Vec<(u8, u8)> = info
            .alerts
            .iter()
            .map(|a| (a.level, a.description))
            .collect();
        assert_eq!(got, vec![(1, 0), (2, 49), (2, 42), (2, 40)]);
        assert_eq!(alert_description_name(49), "access_denied");
        assert_eq!(alert_level_name(1), "warning");
    }

    #[test]
    fn not_tls() {
        for data in [
            &b"GET / HTTP/1.1\r\nHost: proxy.golang.org\r\n\r\n"[..],
            &b"SSH-2.0-OpenSSH_9.6\r\n"[..],
            // SSLv2-compatible ClientHello.
            &[0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15][..],
            // Right content type, wrong major version.
            &[0x16, 0x02, 0x00, 0x00, 0x05][..],
            // Heartbeat is not a first record.
            &[24, 3, 3, 0, 3, 1, 0, 0][..],
        ] {
            let mut s = TlsSniffer::new();
            s.feed(&data[..1], ev(1));
            s.feed(&data[1..], ev(2));
            assert!(!s.wants_more());
            let info = s.into_info();
            assert!(info.not_tls, "{data:?}");
            assert!(info.client_hello.is_none());
        }
        // Recognised from the first byte alone.
        let mut s = TlsSniffer::new();
        s.feed(b"G", ev(1));
        assert!(s.info().not_tls);
        assert!(!s.wants_more());
        // Nothing fed yet: still wants more, and is not "not TLS".
        let s = TlsSniffer::new();
        assert!(s.wants_more());
        assert!(!s.info().not_tls);
    }

    #[test]
    fn sni_is_lowercased_not_escaped_and_lossy() {
        let mut sni_ext = Vec::new();
        let name = b"EVIL\x1b[31m.Example\xff";
        let list_len = 3 + name.len();
        sni_ext.extend_from_slice(&[0, 0]);
        sni_ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
        sni_ext.extend_from_slice(&(list_len as u16).to_be_bytes());
        sni_ext.push(0);
        sni_ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni_ext.extend_from_slice(name);
        // A malformed ALPN extension (list longer than its data) first must
        // not hide the SNI after it; GREASE versions are dropped.
        let mut exts = vec![0, 16, 0, 3, 0, 9, 2];
        exts.extend_from_slice(&[0, 43, 0, 5, 4, 0x7a, 0x7a, 3, 4]);
        exts.extend_from_slice(&sni_ext);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]); // random
        body.push(0); // session id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // ciphers
        body.extend_from_slice(&[1, 0]); // compression
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut hs = vec![HT_CLIENT_HELLO];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&body);
        let info = whole(&record(CT_HANDSHAKE, &hs));
        let ch = info.client_hello.unwrap();
        assert_eq!(ch.sni.as_deref(), Some("evil\x1b[31m.example\u{fffd}"));
        assert_eq!(ch.legacy_version, 0x0303);
        assert!(ch.alpn.is_empty());
        assert_eq!(ch.supported_versions, vec![0x0304]);
    }

    #[test]
    fn version_names() {
        assert_eq!(version_name(0x0300), "SSL 3.0");
        assert_eq!(version_name(0x0301), "TLS 1.0");
        assert_eq!(version_name(0x0303), "TLS 1.2");
        assert_eq!(version_name(0x0304), "TLS 1.3");
        assert_eq!(version_name(0x7f1c), "0x7f1c");
        assert_eq!(alert_description_name(42), "bad_certificate");
        assert_eq!(alert_description_name(255), "unknown");
        assert_eq!(alert_level_name(7), "unknown");
    }

    #[test]
    fn every_prefix_of_every_fixture() {
        for data in ALL {
            for n in 0..=data.len() {
                let mut s = TlsSniffer::new();
                s.feed(&data[..n], ev(1));
                assert!(s.buffered() <= MAX_BUFFER);
                assert!(!s.info().not_tls);
            }
        }
        // A truncated ServerHello flight: nothing half-parsed is reported.
        let info = whole(&TLS12_S2C[..5 + 74 + 5 + 1000]);
        assert!(info.server_hello.is_some());
        assert!(info.certificate.is_none());
    }

    #[test]
    fn truncated_and_lying_lengths() {
        // Record length 0xFFFF with no data: not TLS framing; stop.
        let mut s = TlsSniffer::new();
        s.feed(&[22, 3, 1, 0xff, 0xff], ev(1));
        assert!(!s.wants_more());
        assert!(!s.info().not_tls);
        assert_eq!(s.buffered(), 0);

        // A handshake message claiming 0xFFFFFF bytes: never buffered.
        let mut s = TlsSniffer::new();
        s.feed(&record(CT_HANDSHAKE, &[1, 0xff, 0xff, 0xff, 3, 3]), ev(1));
        assert!(!s.wants_more());
        assert_eq!(s.buffered(), 0);
        assert!(s.info().client_hello.is_none());

        // A message of exactly the cap is buffered across records, even
        // when a record also carries the start of the next message.
        let mut hs = vec![HT_CLIENT_HELLO];
        hs.extend_from_slice(&((MAX_BUFFER - 4) as u32).to_be_bytes()[1..]);
        hs.resize(MAX_BUFFER, 0);
        hs.extend_from_slice(&[HT_CERTIFICATE, 0, 0, 10]);
        let mut s = TlsSniffer::new();
        for (i, piece) in hs.chunks(16000).enumerate() {
            s.feed(&record(CT_HANDSHAKE, piece), ev(i as u64 + 1));
            assert!(s.buffered() <= MAX_BUFFER);
            assert!(s.wants_more());
        }
        assert_eq!(s.handshake.len(), 4);
        // One byte over the cap: stops at the message header.
        let mut s = TlsSniffer::new();
        let mut hs = vec![HT_CERTIFICATE];
        hs.extend_from_slice(&((MAX_BUFFER - 3) as u32).to_be_bytes()[1..]);
        s.feed(&record(CT_HANDSHAKE, &hs), ev(1));
        assert!(!s.wants_more());
        assert!(s.overflowed);
        assert_eq!(s.buffered(), 0);

        // Every truncation of the ClientHello's inner lengths.
        let recs = records(TLS12_C2S);
        let hello = &recs[0].1;
        for cut in 4..hello.len() {
            let mut h = hello[..cut].to_vec();
            let l = (cut - 4) as u32;
            h[1..4].copy_from_slice(&l.to_be_bytes()[1..]);
            let info = whole(&record(CT_HANDSHAKE, &h));
            if let Some(ch) = info.client_hello {
                assert_eq!(ch.legacy_version, 0x0303);
            }
        }
        // Oversized certificate list length inside a complete message.
        let info = whole(&record(
            CT_HANDSHAKE,
            &[HT_CERTIFICATE, 0, 0, 6, 0xff, 0xff, 0xff, 0, 0, 1],
        ));
        assert!(info.certificate.is_none());
    }

    #[test]
    fn pseudo_random_input_never_panics() {
        let mut rng = Lcg(0x5eed);
        for i in 0..10_000 {
            let len = (rng.next() % 300) as usize;
            let mut data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Half of them start like a handshake record, so the deeper
            // parsers see random input too.
            if i % 2 == 0 && data.len() >= 9 {
                let body = (data.len() - 5) as u16;
                data[..5].copy_from_slice(&[22, 3, 1, (body >> 8) as u8, body as u8]);
                data[5] = [1, 2, 11][(rng.next() % 3) as usize];
                let hl = (body - 4) as u32;
                data[6..9].copy_from_slice(&hl.to_be_bytes()[1..]);
            }
            let mut s = TlsSniffer::new();
            let mut rest = &data[..];
            let mut frame = 0;
            while !rest.is_empty() {
                let n = ((rng.next() % 64) as usize + 1).min(rest.len());
                s.feed(&rest[..n], ev(frame));
                assert!(s.buffered() <= MAX_BUFFER);
                assert!(s.info().alerts.len() <= MAX_ALERTS);
                rest = &rest[n..];
                frame += 1;
            }
        }
        // Random mutations of the real fixtures.
        for (k, data) in ALL.iter().enumerate() {
            for _ in 0..200 {
                let mut d = data.to_vec();
                for _ in 0..4 {
                    let at = (rng.next() as usize) % d.len();
                    d[at] = rng.next() as u8;
                }
                let info = random_pieces(&d, k as u64);
                assert!(info.alerts.len() <= MAX_ALERTS);
            }
        }
    }
}
