//! HTTP/1.x heads at the start of a payload segment: request heads from
//! the client ([`parse_request_head`], [`looks_like_http_request`]) and
//! response heads from the server ([`response_status`],
//! [`HttpResponseHead`]). The flows stage uses these to recognise an HTTP
//! connection and to read what its first response announced.
//!
//! A complete head is parsed with `httparse`; a head cut short (snaplen,
//! or a head spanning segments), or one `httparse` refuses (more headers
//! than it is given room for, odd bytes), falls back to a tolerant line
//! scan that keeps the request line and the header lines that arrived
//! whole. Work is linear in the payload and every returned string is
//! capped ([`MAX_PATH`], [`MAX_VALUE`]); strings keep the packet's bytes
//! (lossy UTF-8, control characters included): escape them before they
//! reach a terminal.

/// Longest `path` returned, in bytes; longer targets are truncated.
pub const MAX_PATH: usize = 2048;
/// Longest `host` or `user_agent` returned, in bytes.
pub const MAX_VALUE: usize = 1024;

/// Request methods recognised at the start of a payload.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
];

/// Room `httparse` is given; a head with more headers takes the line scan.
const MAX_HEADERS: usize = 64;

/// An HTTP/1.x request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// One of `GET HEAD POST PUT DELETE OPTIONS PATCH CONNECT TRACE`.
    pub method: &'static str,
    /// The request target as sent (at most [`MAX_PATH`] bytes); for an
    /// absolute-form target (`GET http://host/p?q`) its path part (`/p?q`;
    /// `/` when empty); for `CONNECT`, the authority (`host:443`). Cut short
    /// when the payload ends inside the request line.
    pub path: String,
    /// The `Host` header; when there is none, the authority of an
    /// absolute-form or `CONNECT` target, if the request line arrived whole.
    pub host: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The whole head, up to the blank line, was in the payload.
    pub complete: bool,
}

/// Parses a request head at the start of a client payload segment.
///
/// `None` unless the payload starts with a known method token, a space and
/// a non-empty request target without control characters. A head cut
/// short still yields method and path, and the headers whose lines arrived
/// whole, with `complete` false. The first `Host` and `User-Agent` count.
pub fn parse_request_head(payload: &[u8]) -> Option<HttpRequest> {
    let (method, rest) = split_method(payload)?;
    let end = rest
        .iter()
        .position(|&b| matches!(b, b' ' | b'\r' | b'\n'))
        .unwrap_or(rest.len());
    let target = rest.get(..end)?;
    let line_whole = end < rest.len();
    if target.is_empty() || target.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return None;
    }

    // Uninitialised: not 2 KiB of empty headers written for every request.
    let mut headers = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let (host, user_agent, complete) = match req.parse_with_uninit_headers(payload, &mut headers) {
        Ok(httparse::Status::Complete(_)) => {
            let find = |name: &str| {
                req.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| h.value)
            };
            (find("host"), find("user-agent"), true)
        }
        _ => scan_headers(payload),
    };
    let mut host = host.map(|h| lossy_capped(h, MAX_VALUE));
    let user_agent = user_agent.map(|u| lossy_capped(u, MAX_VALUE));

    let path = if method == "CONNECT" {
        if host.is_none() && line_whole {
            host = Some(lossy_capped(target, MAX_VALUE));
        }
        lossy_capped(target, MAX_PATH)
    } else if let Some((authority, path)) = absolute_form(target, line_whole) {
        if host.is_none() && !authority.is_empty() {
            host = Some(lossy_capped(authority, MAX_VALUE));
        }
        if path.starts_with(b"/") {
            lossy_capped(path, MAX_PATH)
        } else {
            // "http://h" or "http://h?q": the origin-form is "/" or "/?q".
            let mut p = lossy_capped(path, MAX_PATH - 1);
            p.insert(0, '/');
            p
        }
    } else {
        lossy_capped(target, MAX_PATH)
    };
    Some(HttpRequest {
        method,
        path,
        host,
        user_agent,
        complete,
    })
}

/// The method token of a request line at the start of `payload` (one of
/// [`METHODS`], followed by a space) and the bytes after that space.
#[inline]
fn split_method(payload: &[u8]) -> Option<(&'static str, &[u8])> {
    METHODS.iter().find_map(|m| {
        payload
            .strip_prefix(m.as_bytes())
            .and_then(|r| r.strip_prefix(b" "))
            .map(|r| (*m, r))
    })
}

/// The method of the request line `payload` starts with (`"GET"`,
/// `"HEAD"`...), when it is one we recognise followed by a space.
#[inline]
pub fn request_method(payload: &[u8]) -> Option<&'static str> {
    split_method(payload).map(|(m, _)| m)
}

/// `payload` starts with a request method we recognise and a space: how a
/// client's first payload announces HTTP/1.x.
#[inline]
pub fn looks_like_http_request(payload: &[u8]) -> bool {
    split_method(payload).is_some()
}

/// The status code of an HTTP/1.x status line at the start of `payload`:
/// `HTTP/1.`, any one byte (the minor version), a space and three digits.
/// Bytes after the code are not looked at, so a status line cut short
/// after its code still counts.
#[inline]
pub fn response_status(payload: &[u8]) -> Option<u16> {
    let rest = payload.strip_prefix(b"HTTP/1.")?;
    let code = rest.get(2..5)?;
    if rest.get(1) != Some(&b' ') || !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

/// What the head of an HTTP/1.x response announced about its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpResponseHead {
    pub status: u16,
    /// Bytes of the status line and headers, blank line included.
    pub header_len: u32,
    /// `Content-Length`, when given (and not chunked).
    pub content_length: Option<u64>,
    pub chunked: bool,
}

impl HttpResponseHead {
    /// Parses a response head from the start of a server payload: `None`
    /// unless it starts with a status line ([`response_status`]) and the
    /// whole head, up to the blank line, is in `payload` and well formed
    /// (`httparse`: HTTP/1.0 or 1.1, at most 64 headers).
    pub fn parse(payload: &[u8]) -> Option<HttpResponseHead> {
        let status = response_status(payload)?;
        // Uninitialised: not 2 KiB of empty headers written per response.
        let mut headers = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut resp,
            payload,
            &mut headers,
        );
        let header_len = match parsed {
            Ok(httparse::Status::Complete(n)) => u32::try_from(n).ok()?,
            _ => return None,
        };
        // httparse read the same status line: one version digit, one
        // space, three digits.
        debug_assert_eq!(resp.code, Some(status));
        let mut content_length = None;
        let mut chunked = false;
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                content_length = std::str::from_utf8(h.value)
                    .ok()?
                    .trim()
                    .parse::<u64>()
                    .ok();
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = std::str::from_utf8(h.value)
                    .is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"));
            }
        }
        if chunked {
            content_length = None;
        }
        Some(HttpResponseHead {
            status,
            header_len,
            content_length,
            chunked,
        })
    }
}

/// `http://authority/path` (or `https://`): `(authority, path)`, the
/// authority without userinfo. `None` when not absolute-form, or when the
/// target was cut inside the authority (then neither part is known).
fn absolute_form(target: &[u8], line_whole: bool) -> Option<(&[u8], &[u8])> {
    let scheme_len = ["http://", "https://"].iter().find_map(|s| {
        target
            .get(..s.len())
            .filter(|t| t.eq_ignore_ascii_case(s.as_bytes()))
            .map(|_| s.len())
    })?;
    let rest = target.get(scheme_len..)?;
    let end = rest.iter().position(|&b| matches!(b, b'/' | b'?' | b'#'));
    if end.is_none() && !line_whole {
        return None;
    }
    let (authority, path) = rest.split_at(end.unwrap_or(rest.len()));
    let authority = match authority.iter().rposition(|&b| b == b'@') {
        Some(at) => authority.get(at + 1..).unwrap_or_default(),
        None => authority,
    };
    Some((authority, path))
}

/// The line scan: `(host, user_agent, complete)` from the header lines that
/// end in `\n`; an unterminated last line (possibly cut) is left out, and so
/// are folded continuation lines and lines without a token before `:`.
fn scan_headers(payload: &[u8]) -> (Option<&[u8]>, Option<&[u8]>, bool) {
    let mut host = None;
    let mut user_agent = None;
    let mut lines = payload.split(|&b| b == b'\n');
    let _request_line = lines.next();
    let mut pending = lines.next();
    while let Some(line) = pending {
        pending = lines.next();
        if pending.is_none() {
            // No '\n' after this one: it may have been cut.
            break;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return (host, user_agent, true);
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            continue;
        }
        let value = trim_ows(value.get(1..).unwrap_or_default());
        if host.is_none() && name.eq_ignore_ascii_case(b"host") {
            host = Some(value);
        } else if user_agent.is_none() && name.eq_ignore_ascii_case(b"user-agent") {
            user_agent = Some(value);
        }
    }
    (host, user_agent, false)
}

/// RFC 9110 token character.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Without leading and trailing spaces and tabs.
fn trim_ows(v: &[u8]) -> &[u8] {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !ows(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !ows(b)).map_or(start, |e| e + 1);
    v.get(start..end).unwrap_or_default()
}

/// At most `cap` bytes of `b` as lossy UTF-8, cut at a character boundary.
fn lossy_capped(b: &[u8], cap: usize) -> String {
    let b = b.get(..cap).unwrap_or(b);
    // Valid UTF-8 (nearly always) without the lossy decoder's chunk walk.
    let mut s = match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    };
    while s.len() > cap {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request head as go 1.19's net/http client writes it.
    fn go_head(path: &str, host: &str) -> Vec<u8> {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Go-http-client/1.1\r\n\
             Accept-Encoding: gzip\r\n\r\n"
        )
        .into_bytes()
    }

    fn req(payload: &[u8]) -> HttpRequest {
        parse_request_head(payload).expect("a request head")
    }

    #[test]
    fn request_and_status_lines_from_the_first_bytes() {
        assert!(looks_like_http_request(b"GET /x HTTP/1.1\r\n"));
        assert!(looks_like_http_request(b"HEAD / HTTP/1.0"));
        assert!(!looks_like_http_request(b"GETTING"));
        assert!(!looks_like_http_request(b"GET"));
        assert!(!looks_like_http_request(b"get / HTTP/1.1"));
        assert_eq!(request_method(b"HEAD / HTTP/1.1"), Some("HEAD"));
        assert_eq!(request_method(b"HEADER"), None);
        assert_eq!(response_status(b"HTTP/1.1 404 Not Found\r\n"), Some(404));
        assert_eq!(response_status(b"HTTP/1.0 200"), Some(200));
        assert_eq!(response_status(b"HTTP/1.1 2x0 OK"), None);
        assert_eq!(response_status(b"HTTP/1.1"), None);
        assert_eq!(response_status(b"HTTP/2 200"), None);
    }

    #[test]
    fn response_head_length_fields() {
        let h = HttpResponseHead::parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nServer: x\r\n\r\nbody",
        )
        .unwrap();
        assert_eq!((h.status, h.header_len), (200, 52));
        assert_eq!((h.content_length, h.chunked), (Some(1234), false));
        // Chunked wins over a Content-Length.
        let h = HttpResponseHead::parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n",
        )
        .unwrap();
        assert_eq!((h.content_length, h.chunked), (None, true));
        // A head cut short, a status line only httparse refuses (HTTP/1.2),
        // or no status line at all: nothing.
        assert!(HttpResponseHead::parse(b"HTTP/1.1 200 OK\r\nContent-Le").is_none());
        assert_eq!(response_status(b"HTTP/1.2 200 OK\r\n\r\n"), Some(200));
        assert!(HttpResponseHead::parse(b"HTTP/1.2 200 OK\r\n\r\n").is_none());
        assert!(HttpResponseHead::parse(b"\x16\x03\x01").is_none());
    }

    #[test]
    fn go_client_heads() {
        let r = req(&go_head("/golang.org/x/text/@v/list", "athens.corp:3000"));
        assert_eq!(
            r,
            HttpRequest {
                method: "GET",
                path: "/golang.org/x/text/@v/list".into(),
                host: Some("athens.corp:3000".into()),
                user_agent: Some("Go-http-client/1.1".into()),
                complete: true,
            }
        );
        let r = req(&go_head(
            "/github.com/%21azure/azure-sdk-for-go/@v/v68.0.0+incompatible.zip",
            "proxy.golang.org",
        ));
        assert_eq!(
            r.path,
            "/github.com/%21azure/azure-sdk-for-go/@v/v68.0.0+incompatible.zip"
        );
        assert_eq!(r.host.as_deref(), Some("proxy.golang.org"));
        assert!(r.complete);
        // A body after the head does not matter.
        let mut p = b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc".to_vec();
        let r = req(&p);
        assert_eq!((r.method, r.path.as_str()), ("POST", "/x"));
        assert!(r.complete);
        p.truncate(0);
        assert_eq!(parse_request_head(&p), None);
    }

    #[test]
    fn every_method() {
        for m in METHODS {
            let r = req(format!("{m} h.example:80 HTTP/1.1\r\n\r\n").as_bytes());
            assert_eq!(r.method, m);
            assert_eq!(r.path, "h.example:80");
            assert!(r.complete);
            // Only CONNECT's target is an authority.
            let host = (m == "CONNECT").then(|| "h.example:80".to_string());
            assert_eq!(r.host, host);
        }
    }

    #[test]
    fn cut_mid_header() {
        let full = go_head("/golang.org/x/text/@v/v0.3.7.info", "proxy.golang.org");
        // Cut inside User-Agent: Host arrived whole, User-Agent did not.
        let at = full.windows(7).position(|w| w == b"User-Ag").unwrap() + 7;
        let r = req(&full[..at]);
        assert_eq!(r.path, "/golang.org/x/text/@v/v0.3.7.info");
        assert_eq!(r.host.as_deref(), Some("proxy.golang.org"));
        assert_eq!(r.user_agent, None);
        assert!(!r.complete);
        // Cut inside the Host value: a cut value is not reported.
        let at = full.windows(9).position(|w| w == b"proxy.gol").unwrap() + 9;
        let r = req(&full[..at]);
        assert_eq!((r.host, r.complete), (None, false));
        // Cut between "\r" and "\n" of the Host line.
        let at = full
            .windows(17)
            .position(|w| w == b"proxy.golang.org\r")
            .unwrap()
            + 17;
        let r = req(&full[..at]);
        assert_eq!((r.host, r.complete), (None, false));
        // Everything but the final "\n".
        let r = req(&full[..full.len() - 1]);
        assert_eq!(r.host.as_deref(), Some("proxy.golang.org"));
        assert_eq!(r.user_agent.as_deref(), Some("Go-http-client/1.1"));
        assert!(!r.complete);
        // Just the request line.
        let r = req(b"GET /rsc.io/quote/@latest HTTP/1.1\r\n");
        assert_eq!(r.path, "/rsc.io/quote/@latest");
        assert_eq!((r.host, r.user_agent, r.complete), (None, None, false));
    }

    #[test]
    fn cut_mid_request_line() {
        let r = req(b"GET /golang.org/x/te");
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/golang.org/x/te");
        assert_eq!((r.host, r.user_agent, r.complete), (None, None, false));
        let r = req(b"GET /golang.org/x/text/@v/list HTT");
        assert_eq!(r.path, "/golang.org/x/text/@v/list");
        assert!(!r.complete);
        let r = req(b"HEAD /");
        assert_eq!((r.method, r.path.as_str()), ("HEAD", "/"));
        assert_eq!(parse_request_head(b"GET "), None);
        assert_eq!(parse_request_head(b"GET"), None);
        assert_eq!(parse_request_head(b"GE"), None);
    }

    #[test]
    fn absolute_form() {
        // Through a forward proxy (HTTP_PROXY): go sends the absolute URL and
        // a Host header.
        let r = req(
            b"GET http://proxy.golang.org/rsc.io/quote/@v/list HTTP/1.1\r\n\
            Host: proxy.golang.org\r\nUser-Agent: Go-http-client/1.1\r\n\
            Accept-Encoding: gzip\r\n\r\n",
        );
        assert_eq!(r.path, "/rsc.io/quote/@v/list");
        assert_eq!(r.host.as_deref(), Some("proxy.golang.org"));
        // No Host header: taken from the target, userinfo dropped.
        let r = req(
            b"GET HTTP://user:pw@athens.corp:3000/goproxy/rsc.io/quote/@latest HTTP/1.1\r\n\r\n",
        );
        assert_eq!(r.path, "/goproxy/rsc.io/quote/@latest");
        assert_eq!(r.host.as_deref(), Some("athens.corp:3000"));
        assert!(r.complete);
        // The Host header wins over the target.
        let r = req(b"GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n");
        assert_eq!(r.host.as_deref(), Some("b.example"));
        // No path, or only a query.
        let r = req(b"GET https://h.example HTTP/1.1\r\n\r\n");
        assert_eq!(
            (r.path.as_str(), r.host.as_deref()),
            ("/", Some("h.example"))
        );
        let r = req(b"GET http://h.example?go-get=1 HTTP/1.1\r\n\r\n");
        assert_eq!(r.path, "/?go-get=1");
        // Cut inside the authority: neither host nor path is known, the
        // target is returned as sent.
        let r = req(b"GET http://proxy.gol");
        assert_eq!((r.path.as_str(), r.host), ("http://proxy.gol", None));
        // Cut after the authority: the host is known.
        let r = req(b"GET http://proxy.golang.org/rsc.io/qu");
        assert_eq!(r.path, "/rsc.io/qu");
        assert_eq!(r.host.as_deref(), Some("proxy.golang.org"));
        assert!(!r.complete);
    }

    #[test]
    fn connect() {
        let r = req(
            b"CONNECT proxy.golang.org:443 HTTP/1.1\r\nHost: proxy.golang.org:443\r\n\
            User-Agent: Go-http-client/1.1\r\n\r\n",
        );
        assert_eq!(r.method, "CONNECT");
        assert_eq!(r.path, "proxy.golang.org:443");
        assert_eq!(r.host.as_deref(), Some("proxy.golang.org:443"));
        assert_eq!(r.user_agent.as_deref(), Some("Go-http-client/1.1"));
        assert!(r.complete);
        let r = req(b"CONNECT sum.golang.org:443 HTTP/1.1\r\n\r\n");
        assert_eq!(r.host.as_deref(), Some("sum.golang.org:443"));
        // Cut inside the authority: no host.
        let r = req(b"CONNECT sum.gol");
        assert_eq!(
            (r.path.as_str(), r.host, r.complete),
            ("sum.gol", None, false)
        );
    }

    #[test]
    fn not_a_request() {
        for p in [
            &b""[..],
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"get / HTTP/1.1\r\n\r\n",
            b"GETX / HTTP/1.1\r\n\r\n",
            b"GET\t/ HTTP/1.1\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET \r\n\r\n",
            b"GET /\x01 HTTP/1.1\r\n\r\n",
            b"GET /\x7f",
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b" GET / HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(parse_request_head(p), None, "{p:?}");
        }
    }

    #[test]
    fn values_keep_their_bytes() {
        // Control characters are the report layer's business; httparse
        // refuses them, the line scan keeps them.
        let r =
            req(b"GET / HTTP/1.1\r\nUser-Agent: \x1b[31mred\x1b[0m \r\nHost:\tev\xffil\t\r\n\r\n");
        assert_eq!(r.user_agent.as_deref(), Some("\x1b[31mred\x1b[0m"));
        assert_eq!(r.host.as_deref(), Some("ev\u{fffd}il"));
        assert!(r.complete);
        let r = req(b"GET /caf\xc3\xa9\xff HTTP/1.1\r\n\r\n");
        assert_eq!(r.path, "/caf\u{e9}\u{fffd}");
        // The first Host counts; header names are case-insensitive; lines
        // that are no header are skipped by the line scan.
        let r =
            req(b"GET / HTTP/1.1\r\nhOsT: one\r\nno colon here\r\n  folded\r\nHOST: two\r\n\r\n");
        assert_eq!(r.host.as_deref(), Some("one"));
        assert!(r.complete);
        // Bare "\n" line ends.
        let r = req(b"GET /n HTTP/1.1\nHost: lf.example\nUser-Agent: x\n\n");
        assert_eq!(r.host.as_deref(), Some("lf.example"));
        assert_eq!(r.user_agent.as_deref(), Some("x"));
        assert!(r.complete);
    }

    #[test]
    fn huge_lines_are_capped() {
        let big = "a".repeat(100_000);
        // A 100 KB header line before Host.
        let r =
            req(format!("GET / HTTP/1.1\r\nX-Big: {big}\r\nHost: h.example\r\n\r\n").as_bytes());
        assert_eq!(r.host.as_deref(), Some("h.example"));
        assert!(r.complete);
        // A 100 KB Host and User-Agent.
        let r =
            req(format!("GET / HTTP/1.1\r\nHost: {big}\r\nUser-Agent: {big}\r\n\r\n").as_bytes());
        assert_eq!(r.host.as_deref().map(str::len), Some(MAX_VALUE));
        assert_eq!(r.user_agent.as_deref().map(str::len), Some(MAX_VALUE));
        // A 100 KB request target, whole and cut.
        let r = req(format!("GET /{big} HTTP/1.1\r\n\r\n").as_bytes());
        assert_eq!(r.path.len(), MAX_PATH);
        assert!(r.path.starts_with("/aaa"));
        assert!(r.complete);
        let r = req(format!("GET /{big}").as_bytes());
        assert_eq!(r.path.len(), MAX_PATH);
        assert!(!r.complete);
        // Multi-byte characters are not split by the cap.
        let r = req(format!("GET /{} HTTP/1.1\r\n\r\n", "\u{e9}".repeat(5000)).as_bytes());
        assert_eq!(r.path.len(), MAX_PATH - 1);
        assert!(r.path.ends_with('\u{e9}'));
        // A 100 KB header line cut off.
        let r = req(format!("GET / HTTP/1.1\r\nHost: h\r\nX-Big: {big}").as_bytes());
        assert_eq!((r.host.as_deref(), r.complete), (Some("h"), false));
    }

    #[test]
    fn many_headers() {
        let mut head = String::from(
            "GET /golang.org/x/text/@v/list HTTP/1.1\r\nUser-Agent: Go-http-client/1.1\r\n",
        );
        for i in 0..1000 {
            head.push_str(&format!("X-H{i}: v{i}\r\n"));
        }
        head.push_str("Host: proxy.golang.org\r\n\r\n");
        let r = req(head.as_bytes());
        assert_eq!(r.path, "/golang.org/x/text/@v/list");
        assert_eq!(r.host.as_deref(), Some("proxy.golang.org"));
        assert_eq!(r.user_agent.as_deref(), Some("Go-http-client/1.1"));
        assert!(r.complete);
        // Just past httparse's room, and cut.
        let cut = &head.as_bytes()[..head.len() / 2];
        let r = req(cut);
        assert_eq!(r.host, None);
        assert_eq!(r.user_agent.as_deref(), Some("Go-http-client/1.1"));
        assert!(!r.complete);
    }

    use crate::testutil::Lcg;

    #[test]
    fn hostile_random_input() {
        const PIECES: [&[u8]; 12] = [
            b"\r\n",
            b"\n",
            b":",
            b" ",
            b"Host: ",
            b"User-Agent:",
            b"http://",
            b"@",
            b"/",
            b"\r\n\r\n",
            b"\x00",
            b"\xff",
        ];
        let mut rng = Lcg(0x2545_f491_4f6c_dd1d);
        for i in 0..10_000 {
            let mut p = Vec::new();
            if i % 2 == 0 {
                let m = METHODS[rng.below(METHODS.len() as u64)];
                p.extend_from_slice(m.as_bytes());
                p.push(b' ');
            }
            let n = rng.below(400);
            while p.len() < n {
                if rng.below(4) == 0 {
                    p.extend_from_slice(PIECES[rng.below(PIECES.len() as u64)]);
                } else {
                    p.push(rng.next() as u8);
                }
            }
            if let Some(r) = parse_request_head(&p) {
                assert!(METHODS.contains(&r.method));
                assert!(!r.path.is_empty() && r.path.len() <= MAX_PATH);
                assert!(r.host.as_ref().is_none_or(|h| h.len() <= MAX_VALUE));
                assert!(r.user_agent.as_ref().is_none_or(|u| u.len() <= MAX_VALUE));
            }
        }
    }
}

/// A `Host`-like value (`name:port`, `[v6]:port`, `name`) without
/// surrounding blanks, its `:port` and IPv6 brackets. An unbracketed value
/// with more than one ':' (a bare IPv6 address) keeps them all.
pub fn without_port(host: &str) -> &str {
    let h = host.trim();
    if let Some(rest) = h.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(inside, _)| inside);
    }
    // ASCII ':': both sides of it are on character boundaries.
    match h.bytes().rposition(|b| b == b':') {
        Some(colon)
            if !h[..colon].contains(':') && h[colon + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            &h[..colon]
        }
        _ => h,
    }
}

/// The server name a `Host` header value gives: without its port or IPv6
/// brackets, lowercased; `None` for an IP literal (no name) or an empty
/// value.
pub fn host_name(host: &str) -> Option<std::borrow::Cow<'_, str>> {
    let name = without_port(host).trim_end_matches('.');
    // An address literal has only hex digits, dots and colons: a name
    // with any other byte is not one, without running the parser.
    let may_be_address = name
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':');
    if name.is_empty() || (may_be_address && name.parse::<std::net::IpAddr>().is_ok()) {
        return None;
    }
    // Most names are lowercase already: borrowed then, not allocated.
    Some(
        if name.bytes().any(|b| b.is_ascii_uppercase()) || !name.is_ascii() {
            std::borrow::Cow::Owned(name.to_lowercase())
        } else {
            std::borrow::Cow::Borrowed(name)
        },
    )
}

#[cfg(test)]
mod host_name_tests {
    use super::host_name;
    use proptest::prelude::*;

    proptest! {
        /// The port is split off at the last ':' as `rsplit_once` splits
        /// (the byte search must agree on any text, not only ASCII).
        #[test]
        fn port_split_like_rsplit_once(s in "[a-zA-Z0-9:\\[\\]. é字]{0,16}") {
            let h = s.trim();
            let want = if h.starts_with('[') {
                None
            } else {
                Some(match h.rsplit_once(':') {
                    Some((n, p)) if !n.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => n,
                    _ => h,
                })
            };
            if let Some(name) = want {
                let name = name.trim_end_matches('.');
                let got = host_name(&s);
                if name.is_empty() || name.parse::<std::net::IpAddr>().is_ok() {
                    prop_assert_eq!(got, None);
                } else {
                    let lower = name.to_lowercase();
                    prop_assert_eq!(got.as_deref(), Some(lower.as_str()));
                }
            }
        }
    }

    #[test]
    fn names_not_addresses() {
        assert_eq!(
            host_name("GoProxy.Corp.Example:8080").as_deref(),
            Some("goproxy.corp.example")
        );
        assert_eq!(
            host_name("proxy.golang.org.").as_deref(),
            Some("proxy.golang.org")
        );
        assert_eq!(host_name("10.77.2.20:8083"), None);
        assert_eq!(host_name("10.77.2.20"), None);
        assert_eq!(host_name("[fd77::2:20]:80"), None);
        assert_eq!(host_name("fd77::2:20"), None);
        assert_eq!(host_name(""), None);
        // Only hex digits, dots and colons: parsed, and still a name
        // unless it is an address.
        assert_eq!(host_name("cafe.be").as_deref(), Some("cafe.be"));
        assert_eq!(host_name("FD77::1"), None);
        assert_eq!(host_name("::ffff:10.0.0.1"), None);
        assert_eq!(host_name("[::1]:443"), None);
    }
}
