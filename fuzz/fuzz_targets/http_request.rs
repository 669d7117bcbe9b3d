//! (g) HTTP request heads and the Go module proxy paths: the input as a
//! client's first payload (`http::parse_request_head`, plus the flows
//! stage's `looks_like_http_request` and `http_status`), its path through
//! `gomod::parse_path` under a few proxy prefixes, and the input as text
//! through `gomod::parse_path`, `gomod::decode_case` and
//! `gomod::GoProxy::parse`.
//!
//! Input: the payload (also read as lossy UTF-8 text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcptriage::flows::app;
use tcptriage::sniff::gomod::{self, FetchKind, GoProxy, ModuleFetch};
use tcptriage::sniff::http;

const PREFIXES: [&str; 5] = ["", "/", "/goproxy", "goproxy/", "/a/b/"];

fuzz_target!(|data: &[u8]| {
    let _ = app::http_status(data);
    let looks = app::looks_like_http_request(data);
    let text = String::from_utf8_lossy(data);

    let proxy = GoProxy::parse(&text);
    if let Ok(p) = &proxy {
        for e in &p.entries {
            assert!(!e.host.is_empty());
            assert!(e.scheme == "http" || e.scheme == "https");
            assert!(!e.prefix.ends_with('/'));
            assert!(!e.host.bytes().any(|b| b.is_ascii_uppercase()));
            assert!(p.is_module_host(&e.host) || e.host.ends_with('.') || e.host.contains(':'));
        }
    }

    if let Some(req) = http::parse_request_head(data) {
        assert!(looks);
        assert!(data.starts_with(req.method.as_bytes()));
        assert!(req.path.len() <= http::MAX_PATH);
        assert!(!req.path.is_empty());
        assert!(req.host.as_ref().is_none_or(|h| h.len() <= http::MAX_VALUE));
        assert!(
            req.user_agent
                .as_ref()
                .is_none_or(|u| u.len() <= http::MAX_VALUE)
        );
        for prefix in PREFIXES {
            if let Some(f) = gomod::parse_path(&req.path, prefix) {
                check_fetch(&f);
            }
        }
        if let (Ok(p), Some(host)) = (&proxy, &req.host) {
            let _ = p.is_module_host(host);
            if let Some(f) = gomod::parse_path(&req.path, p.prefix_for(host)) {
                check_fetch(&f);
            }
        }
    }

    for prefix in PREFIXES {
        if let Some(f) = gomod::parse_path(&text, prefix) {
            check_fetch(&f);
        }
    }
    if let Some(d) = gomod::decode_case(&text) {
        assert!(d.len() <= text.len());
        assert!(d.is_ascii());
        // Without the URL-escaped form, decoding is the exact inverse of
        // the go command's case-encoding.
        if !text.contains("%21") {
            assert_eq!(encode_case(&d), text);
        }
    }
});

fn check_fetch(f: &ModuleFetch) {
    assert_eq!(f.module.is_none(), f.kind == FetchKind::Tile);
    let versioned = matches!(
        f.kind,
        FetchKind::Info | FetchKind::Mod | FetchKind::Zip | FetchKind::Lookup
    );
    assert_eq!(f.version.is_some(), versioned);
    if let Some(m) = &f.module {
        assert!(!m.is_empty() && m.is_ascii());
    }
    assert!(
        f.sumdb
            .as_ref()
            .is_none_or(|h| !h.is_empty() && h.len() <= 255)
    );
    assert!(!f.label().is_empty());
    let _ = f.kind.as_str();
}

/// `module.EscapePath`'s case-encoding: `X` is `!x`.
fn encode_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
