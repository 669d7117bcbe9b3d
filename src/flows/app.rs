//! What a connection carried: the state of the application sniffers of one
//! connection (TLS handshake, HTTP/1.x exchanges, DNS over TCP).
//!
//! A connection gets an [`AppState`] only when its first payload looks like
//! one of these protocols, so bulk traffic of other kinds costs one check
//! per direction. Sniffers that have learned all they can are dropped, and
//! every buffer is capped.

use super::reasm::StreamHead;
use super::seq::SeqNum;
use crate::packet::{Dir, Event};
use crate::sniff::{dns, http, tls};

/// Bytes of each direction handed to the TLS sniffer (a TLS 1.2 server's
/// hello and certificate chain fit comfortably).
pub const TLS_HEAD_CAP: u32 = 64 * 1024;
/// Bytes of each direction of a DNS-over-TCP connection that are parsed.
pub const DNS_HEAD_CAP: u32 = 256 * 1024;
/// HTTP exchanges kept per connection (more are counted).
pub const MAX_HTTP_EXCHANGES: usize = 64;
/// DNS-over-TCP bytes buffered while a message is incomplete.
const MAX_DNS_MESSAGE: usize = 65_537;

/// Which protocol a connection's first payload announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    Tls,
    Http,
    Dns,
}

/// One HTTP/1.x request and the status of its response.
#[derive(Debug, Clone)]
pub struct HttpExchange {
    pub at: Event,
    pub request: http::HttpRequest,
    /// The response's status line: when and which status.
    pub response: Option<(Event, u16)>,
}

/// The sniffers of one connection.
#[derive(Debug, Clone)]
pub struct AppState {
    pub kind: AppKind,
    heads: [Option<StreamHead>; 2],
    tls: [Option<Box<tls::TlsSniffer>>; 2],
    tls_done: [Option<Box<tls::TlsInfo>>; 2],
    /// HTTP requests in order, with their responses (at most
    /// [`MAX_HTTP_EXCHANGES`]).
    pub http: Vec<HttpExchange>,
    /// Requests seen, including those not kept.
    pub http_requests: u32,
    dns_buf: [Vec<u8>; 2],
    /// DNS messages parsed from the stream, waiting for the table to take
    /// them.
    pub dns_out: Vec<(Event, Dir, dns::DnsMessage)>,
}

// The first-bytes recognisers live with their protocols in `sniff/`; they
// stay reachable here under the names the fuzz targets use.
pub use crate::sniff::http::{looks_like_http_request, response_status as http_status};
pub use crate::sniff::tls::looks_like_tls;

impl AppState {
    /// The sniffers for a connection whose first payload (from `dir`) is
    /// `payload`, or `None` when it is none of the protocols we follow.
    pub fn detect(dir: Dir, payload: &[u8], dns_port: bool) -> Option<AppState> {
        let kind = if dns_port {
            AppKind::Dns
        } else if looks_like_tls(payload) {
            AppKind::Tls
        } else if (dir == Dir::ClientToServer && looks_like_http_request(payload))
            || (dir == Dir::ServerToClient && http_status(payload).is_some())
        {
            AppKind::Http
        } else {
            return None;
        };
        let tls = match kind {
            AppKind::Tls => [
                Some(Box::new(tls::TlsSniffer::new())),
                Some(Box::new(tls::TlsSniffer::new())),
            ],
            _ => [None, None],
        };
        Some(AppState {
            kind,
            heads: [None, None],
            tls,
            tls_done: [None, None],
            http: Vec::new(),
            http_requests: 0,
            dns_buf: [Vec::new(), Vec::new()],
            dns_out: Vec::new(),
        })
    }

    /// What the TLS sniffer learned from one direction.
    pub fn tls(&self, dir: Dir) -> Option<&tls::TlsInfo> {
        let i = dir.index();
        match (&self.tls[i], &self.tls_done[i]) {
            (Some(s), _) => Some(s.info()),
            (None, Some(done)) => Some(done),
            (None, None) => None,
        }
    }

    /// The ClientHello, when the client sent one.
    pub fn client_hello(&self) -> Option<&tls::ClientHello> {
        self.tls(Dir::ClientToServer)?.client_hello.as_ref()
    }

    /// The last request that has no response yet.
    pub fn outstanding_request(&self) -> Option<&HttpExchange> {
        self.http.iter().rev().find(|x| x.response.is_none())
    }

    /// Feeds the payload of one segment in `dir`. `base` is the sequence
    /// number of the direction's first byte; `new_data` is false for a
    /// retransmission.
    pub fn on_payload(
        &mut self,
        dir: Dir,
        base: SeqNum,
        seq: SeqNum,
        payload: &[u8],
        new_data: bool,
        at: Event,
    ) {
        match self.kind {
            AppKind::Tls => self.on_tls(dir, base, seq, payload, at),
            AppKind::Http => {
                if new_data {
                    self.on_http(dir, payload, at)
                }
            }
            AppKind::Dns => self.on_dns(dir, base, seq, payload, at),
        }
    }

    fn on_tls(&mut self, dir: Dir, base: SeqNum, seq: SeqNum, payload: &[u8], at: Event) {
        let i = dir.index();
        let Some(sniffer) = self.tls[i].as_mut() else {
            return;
        };
        let head = self.heads[i].get_or_insert_with(|| StreamHead::new(base, TLS_HEAD_CAP));
        head.push(seq, payload, |b| sniffer.feed(b, at));
        if !sniffer.wants_more() || head.is_full() {
            if let Some(s) = self.tls[i].take() {
                self.tls_done[i] = Some(Box::new(s.into_info()));
            }
            self.heads[i] = None;
        }
    }

    fn on_http(&mut self, dir: Dir, payload: &[u8], at: Event) {
        match dir {
            Dir::ClientToServer => {
                if !looks_like_http_request(payload) {
                    return;
                }
                let Some(request) = http::parse_request_head(payload) else {
                    return;
                };
                self.http_requests = self.http_requests.saturating_add(1);
                if self.http.len() < MAX_HTTP_EXCHANGES {
                    self.http.push(HttpExchange {
                        at,
                        request,
                        response: None,
                    });
                }
            }
            Dir::ServerToClient => {
                // Only while a request awaits its answer: the segments of a
                // response body are not read at all (on a busy capture,
                // looking at each one's first bytes cost a cache miss).
                // Interim 1xx answers (100 Continue) precede the real one.
                if let Some(x) = self.http.iter_mut().find(|x| x.response.is_none())
                    && let Some(status) = http_status(payload).filter(|s| *s >= 200 || *s == 101)
                {
                    x.response = Some((at, status));
                }
            }
        }
    }

    fn on_dns(&mut self, dir: Dir, base: SeqNum, seq: SeqNum, payload: &[u8], at: Event) {
        let i = dir.index();
        let head = self.heads[i].get_or_insert_with(|| StreamHead::new(base, DNS_HEAD_CAP));
        // In-order bytes (bounded by the segment and the head's cap).
        let mut fresh: Vec<u8> = Vec::new();
        head.push(seq, payload, |b| fresh.extend_from_slice(b));
        if fresh.is_empty() {
            return;
        }
        let buf = &mut self.dns_buf[i];
        buf.extend_from_slice(&fresh);
        // One segment can carry hundreds of messages: parse until nothing
        // complete is left, so that only one partial message stays.
        loop {
            let (msgs, used) = dns::parse_tcp_stream(buf);
            buf.drain(..used.min(buf.len()));
            for m in msgs {
                self.dns_out.push((at, dir, m));
            }
            if used == 0 {
                break;
            }
        }
        if buf.len() > MAX_DNS_MESSAGE {
            buf.clear(); // cannot be a message: stop following
            self.heads[i] = Some(StreamHead::new(base, 0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundreds_of_pipelined_dns_messages_in_one_segment_are_all_parsed() {
        // 600 queries (A www.example), 2-byte length-prefixed, in one 20 KB
        // segment, as a resolver pipelining over TCP sends them.
        let mut stream = Vec::new();
        for id in 0..600u16 {
            let mut q = id.to_be_bytes().to_vec();
            q.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
            q.extend_from_slice(b"\x03www\x07example\x00\x00\x01\x00\x01");
            stream.extend_from_slice(&(q.len() as u16).to_be_bytes());
            stream.extend_from_slice(&q);
        }
        let at = Event {
            frame: 1,
            ts: crate::time::Ts(0),
        };
        let mut app = AppState::detect(Dir::ClientToServer, &stream, true).unwrap();
        // Split in two segments, the first cutting a message in half.
        let cut = stream.len() / 2 + 3;
        app.on_payload(
            Dir::ClientToServer,
            SeqNum(1),
            SeqNum(1),
            &stream[..cut],
            true,
            at,
        );
        app.on_payload(
            Dir::ClientToServer,
            SeqNum(1),
            SeqNum(1).plus(cut as u32),
            &stream[cut..],
            true,
            at,
        );
        assert_eq!(app.dns_out.len(), 600);
        assert_eq!(app.dns_out[599].2.id, 599);
        assert!(app.dns_buf[0].is_empty());
    }
}
