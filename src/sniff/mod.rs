//! Application sniffers: what each connection was for.
//!
//! Each sniffer is a pure parser over bytes the flows stage hands it; none
//! panics or allocates without bound on hostile input, and every string it
//! returns comes from the packet (escape it before it reaches a terminal).
//!
//! - [`dns`]: DNS messages over UDP and TCP port 53, and a tracker that
//!   pairs queries with responses and maps answered addresses to names.
//! - [`tls`]: the TLS handshake (ClientHello SNI/ALPN, ServerHello, alerts,
//!   the TLS 1.2 server certificate's subject and issuer).
//! - [`http`]: HTTP/1.x request heads (method, Host, path, User-Agent).
//! - [`gomod`]: Go module proxy and checksum-database paths, and the hosts
//!   of `GOPROXY`.

pub mod dns;
pub mod gomod;
pub mod http;
pub mod tls;
