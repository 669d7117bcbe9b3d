//! Go module proxy and checksum-database requests, and the hosts of `GOPROXY`.
//!
//! The go command fetches modules over the GOPROXY protocol
//! (`go help goproxy`), from `<proxy URL>/<module>/...`:
//!
//! - `/<module>/@v/list`: the known versions;
//! - `/<module>/@v/<version>.info`, `.mod`, `.zip`: one version's metadata,
//!   go.mod file and source archive;
//! - `/<module>/@latest`: the latest version, when `@v/list` is empty.
//!
//! Module paths and versions are case-encoded: every uppercase letter is
//! sent as `!` plus its lowercase form (`golang.org/x/mod/module.EscapePath`
//! and `EscapeVersion`), so `github.com/Azure/azure-sdk-for-go` travels as
//! `github.com/!azure/azure-sdk-for-go`. The go command then escapes the
//! URL path with `url.PathEscape`, which turns `!` into `%21`: what is seen
//! on the wire from go itself is `github.com/%21azure/...`; [`decode_case`]
//! accepts both.
//!
//! The checksum database (`GOSUMDB`, by default `sum.golang.org`) is read
//! with `/lookup/<module>@<version>` and `/tile/<H>/<L>/<N>[.p/<W>]` (and
//! `/tile/<H>/data/<N>[.p/<W>]`), either directly from the database host or
//! through a proxy as `<proxy URL>/sumdb/<db host>/lookup/...`; before using
//! a proxy for that, go asks `<proxy URL>/sumdb/<db host>/supported` (not a
//! fetch: [`parse_path`] returns `None` for it).
//!
//! Not-found answers are normal traffic, not failures: for
//! `go get example.com/a/b/c` the go command does not know which prefix of
//! the import path is the module, so it asks `/example.com/a/b/c/@v/list`,
//! `/example.com/a/b/@v/list`, `/example.com/a/@v/list`, ... and a 404 or
//! 410 on all but one of them is expected. Likewise a 404/410 from one proxy
//! of a `GOPROXY` list makes go try the next one.
//!
//! All strings returned come from the packet (or the user's `GOPROXY`):
//! escape them before they reach a terminal.

use std::borrow::Cow;

/// Hosts recognised as module proxies or checksum databases without any
/// configuration.
pub const KNOWN_HOSTS: &[&str] = &[
    "proxy.golang.org",
    "sum.golang.org",
    "goproxy.cn",
    "goproxy.io",
];

/// What a module-proxy or checksum-database request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchKind {
    /// `/<module>/@v/list`
    List,
    /// `/<module>/@v/<version>.info`
    Info,
    /// `/<module>/@v/<version>.mod`
    Mod,
    /// `/<module>/@v/<version>.zip`
    Zip,
    /// `/<module>/@latest`
    Latest,
    /// Checksum database `/lookup/<module>@<version>`
    Lookup,
    /// Checksum database `/tile/...`
    Tile,
}

impl FetchKind {
    /// The lowercase name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            FetchKind::List => "list",
            FetchKind::Info => "info",
            FetchKind::Mod => "mod",
            FetchKind::Zip => "zip",
            FetchKind::Latest => "latest",
            FetchKind::Lookup => "lookup",
            FetchKind::Tile => "tile",
        }
    }
}

/// One module-proxy or checksum-database request, decoded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModuleFetch {
    /// The module path with its case restored; `None` for a tile.
    pub module: Option<String>,
    /// The version with its case restored (`Info`, `Mod`, `Zip`, `Lookup`).
    pub version: Option<String>,
    pub kind: FetchKind,
    /// The checksum database host, for `/sumdb/<host>/...` (lowercased).
    pub sumdb: Option<String>,
}

impl ModuleFetch {
    /// A short description: `golang.org/x/text@v0.3.7 (zip)`,
    /// `rsc.io/quote (list)`, `rsc.io/quote (latest)`,
    /// `golang.org/x/text@v0.3.7 (lookup, sum.golang.org)`,
    /// `tile (sum.golang.org)`; the `sumdb` part only when known.
    pub fn label(&self) -> String {
        let kind = self.kind.as_str();
        if self.kind == FetchKind::Tile {
            return match &self.sumdb {
                Some(db) => format!("tile ({db})"),
                None => "tile".to_string(),
            };
        }
        let mut s = self.module.clone().unwrap_or_default();
        if let Some(v) = &self.version {
            s.push('@');
            s.push_str(v);
        }
        match &self.sumdb {
            Some(db) => format!("{s} ({kind}, {db})"),
            None => format!("{s} ({kind})"),
        }
    }
}

/// Recognises a Go module proxy or checksum-database request path.
///
/// Proxy: `/<module>/@v/list`, `/<module>/@v/<version>.info|.mod|.zip`,
/// `/<module>/@latest`. Checksum database: `/lookup/<module>@<version>`,
/// `/tile/<H>/<L>/<N>[.p/<W>]` and `/tile/<H>/data/<N>[.p/<W>]`, directly
/// or under `/sumdb/<host>/`. The query string and fragment are ignored.
///
/// `prefix` is the path of the proxy URL (`/goproxy` for
/// `GOPROXY=https://athens.corp/goproxy`, see [`GoProxy::prefix_for`]);
/// when non-empty the path must start with it (else `None`) and the module
/// is what follows it. With an empty prefix the module is everything before
/// `/@v/` (or `/@latest`).
///
/// Module paths and versions are case-decoded ([`decode_case`]) and then
/// checked like the go command checks them (`module.CheckPath`, without the
/// Windows-name and major-version rules; versions as file names): a path go
/// would never send is `None`. `/sumdb/<host>/supported` is `None`.
pub fn parse_path(path: &str, prefix: &str) -> Option<ModuleFetch> {
    // Up to the query or fragment (ASCII: a byte search, not a char one).
    let path = match path.bytes().position(|b| b == b'?' || b == b'#') {
        Some(end) => path.get(..end).unwrap_or(""),
        None => path,
    };
    let prefix = prefix.trim_end_matches('/');
    let prefix = prefix.strip_prefix('/').unwrap_or(prefix);
    let mut rest = path.strip_prefix('/')?;
    if !prefix.is_empty() {
        rest = rest.strip_prefix(prefix)?.strip_prefix('/')?;
    }
    if let Some(db) = rest.strip_prefix("sumdb/") {
        let (host, op) = db.split_once('/')?;
        let host = sumdb_host(host)?;
        return sumdb_op(op, Some(host));
    }
    if rest.starts_with("lookup/") || rest.starts_with("tile/") {
        return sumdb_op(rest, None);
    }
    module_op(rest)
}

/// `<module>/@v/...` or `<module>/@latest`.
fn module_op(rest: &str) -> Option<ModuleFetch> {
    // Both forms hold an `@`: most paths (not module fetches) stop here,
    // before the substring searches below.
    if !rest.as_bytes().contains(&b'@') {
        return None;
    }
    let (module, kind, version) = if let Some(m) = rest.strip_suffix("/@latest") {
        (m, FetchKind::Latest, None)
    } else {
        let (m, tail) = rest.split_once("/@v/")?;
        if tail == "list" {
            (m, FetchKind::List, None)
        } else {
            let (v, kind) = [
                (".info", FetchKind::Info),
                (".mod", FetchKind::Mod),
                (".zip", FetchKind::Zip),
            ]
            .into_iter()
            .find_map(|(suffix, kind)| tail.strip_suffix(suffix).map(|v| (v, kind)))?;
            (m, kind, Some(v))
        }
    };
    let module = decode_module(module)?;
    let version = match version {
        Some(v) => Some(decode_version(v)?),
        None => None,
    };
    Some(ModuleFetch {
        module: Some(module),
        version,
        kind,
        sumdb: None,
    })
}

/// `lookup/<module>@<version>` or `tile/...`, relative to the database root.
fn sumdb_op(op: &str, sumdb: Option<String>) -> Option<ModuleFetch> {
    if let Some(target) = op.strip_prefix("lookup/") {
        // Module paths cannot contain '@'; versions could, in principle.
        let (m, v) = target.split_once('@')?;
        return Some(ModuleFetch {
            module: Some(decode_module(m)?),
            version: Some(decode_version(v)?),
            kind: FetchKind::Lookup,
            sumdb,
        });
    }
    let tile = op.strip_prefix("tile/")?;
    valid_tile(tile).then_some(ModuleFetch {
        module: None,
        version: None,
        kind: FetchKind::Tile,
        sumdb,
    })
}

/// The `<host>` of `/sumdb/<host>/`: a plausible host name (port allowed),
/// lowercased.
fn sumdb_host(host: &str) -> Option<String> {
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    ok.then(|| host.to_ascii_lowercase())
}

/// A tile path after `tile/`, as `tlog.ParseTilePath` accepts it:
/// `<H>/<L>/<N>[.p/<W>]` or `<H>/data/<N>[.p/<W>]`, with `<N>` written as
/// `x123/x456/789` (three-digit groups, all but the last prefixed `x`).
fn valid_tile(tile: &str) -> bool {
    const MAX_SEGS: usize = 12;
    let mut it = tile.split('/');
    let Some(h) = it.next().and_then(canonical_decimal) else {
        return false;
    };
    if !(1..=30).contains(&h) {
        return false;
    }
    match it.next() {
        Some("data") => {}
        Some(l) if canonical_decimal(l).is_some() => {}
        _ => return false,
    }
    let segs: Vec<&str> = it.by_ref().take(MAX_SEGS).collect();
    if it.next().is_some() {
        return false;
    }
    let (n_segs, last) = match segs.as_slice() {
        [groups @ .., p, w] if p.ends_with(".p") => {
            let Some(w) = canonical_decimal(w) else {
                return false;
            };
            if w == 0 || w >= 1u64 << h {
                return false;
            }
            (groups, p.strip_suffix(".p").unwrap_or(p))
        }
        [groups @ .., last] => (groups, *last),
        [] => return false,
    };
    let three_digits = |s: &str| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit());
    three_digits(last)
        && n_segs
            .iter()
            .all(|g| g.strip_prefix('x').is_some_and(three_digits))
        && n_segs.first().is_none_or(|g| *g != "x000")
}

/// A decimal number as Go formats it: digits, no leading zero, small.
fn canonical_decimal(s: &str) -> Option<u64> {
    let ok = !s.is_empty()
        && s.len() <= 9
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

/// Case-decodes and checks a module path.
fn decode_module(escaped: &str) -> Option<String> {
    let path = decode_case(escaped)?;
    valid_module_path(&path).then_some(path)
}

/// Case-decodes and checks a version.
fn decode_version(escaped: &str) -> Option<String> {
    let v = decode_case(escaped)?;
    valid_version(&v).then_some(v)
}

/// `module.CheckPath`, except the Windows reserved names and the `/vN`
/// major-version rules: non-empty slash-separated elements of ASCII letters,
/// digits and `-._~`, none all dots or starting or ending with a dot; the
/// first element lowercase, with a dot, not starting with `-`.
fn valid_module_path(path: &str) -> bool {
    let elem_ok = |e: &str| {
        !e.is_empty()
            && !e.starts_with('.')
            && !e.ends_with('.')
            && e.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    };
    let mut elems = path.split('/');
    let Some(first) = elems.next() else {
        return false;
    };
    elem_ok(first)
        && first.contains('.')
        && !first.starts_with('-')
        && !first.bytes().any(|b| b.is_ascii_uppercase())
        && elems.all(elem_ok)
}

/// `module.checkElem(v, filePath)` for ASCII: non-empty, not all dots, no
/// trailing dot, letters, digits and ``#$%&()+,-.=@[]^_{}~`` and space.
fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && !v.ends_with('.')
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" #$%&()+,-.=@[]^_{}~".contains(&b))
}

/// The go command's case-encoding, reversed: `!x` is `X`, and so is the
/// URL-escaped `%21x` (the only percent-escape decoded; others stay as
/// they are). `None` for `!` not followed by a lowercase ASCII letter, for
/// an uppercase letter in the encoded form, and for non-ASCII bytes, as
/// `module.UnescapePath` rejects them.
pub fn decode_case(escaped: &str) -> Option<String> {
    let b = escaped.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let bang = if c == b'!' {
            Some(1)
        } else if c == b'%' && b.get(i + 1..i + 3) == Some(b"21") {
            Some(3)
        } else {
            None
        };
        if let Some(adv) = bang {
            let next = *b.get(i + adv)?;
            if !next.is_ascii_lowercase() {
                return None;
            }
            out.push(char::from(next.to_ascii_uppercase()));
            i += adv + 1;
        } else {
            if !c.is_ascii() || c.is_ascii_uppercase() {
                return None;
            }
            out.push(char::from(c));
            i += 1;
        }
    }
    Some(out)
}

/// The proxies of a `GOPROXY` setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoProxy {
    pub entries: Vec<ProxyEntry>,
}

/// One `GOPROXY` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyEntry {
    /// Lowercase, no port, no trailing dot, IPv6 without brackets.
    pub host: String,
    /// The port, when the URL gives one.
    pub port: Option<u16>,
    /// `http` or `https`.
    pub scheme: String,
    /// The URL path without trailing slash (`/goproxy`), `""` for the root.
    pub prefix: String,
}

impl GoProxy {
    /// Parses `GOPROXY` as the go command does (`modfetch.proxyList`):
    /// URLs separated by `,` or `|`, blanks trimmed, empty items skipped.
    /// `direct` and `off` are keywords, not hosts; like go, which never
    /// goes past them, entries after them are ignored (and not checked).
    /// An entry containing `.`, `:` or `/` but no `:/` (`goproxy.cn`,
    /// `localhost:3000`) means `https://` + entry. `file://` URLs are valid
    /// but make no traffic, so they are skipped.
    ///
    /// A malformed entry (no or unknown scheme, no host, bad port) is an
    /// error whose message names the entry. `""` and `"direct"` give no
    /// entries.
    pub fn parse(s: &str) -> Result<GoProxy, String> {
        let mut entries = Vec::new();
        for item in s.split([',', '|']) {
            let item = item.trim();
            match item {
                "" => continue,
                "direct" | "off" => break,
                _ => {}
            }
            if let Some(e) = parse_entry(item)? {
                entries.push(e);
            }
        }
        Ok(GoProxy { entries })
    }

    /// Whether `name` (a DNS name, SNI or `Host` header) is a module proxy
    /// or checksum database: one of [`KNOWN_HOSTS`] or a `GOPROXY` entry.
    /// Case-insensitive; a trailing dot and a `:port` are ignored.
    pub fn is_module_host(&self, name: &str) -> bool {
        let h = host_part(name);
        !h.is_empty()
            && (KNOWN_HOSTS.iter().any(|k| k.eq_ignore_ascii_case(h))
                || self.entries.iter().any(|e| e.host.eq_ignore_ascii_case(h)))
    }

    /// The path prefix of the first entry for `host` (matched like
    /// [`GoProxy::is_module_host`]), for [`parse_path`]; `""` if none.
    pub fn prefix_for(&self, host: &str) -> &str {
        let h = host_part(host);
        self.entries
            .iter()
            .find(|e| e.host.eq_ignore_ascii_case(h))
            .map_or("", |e| e.prefix.as_str())
    }
}

/// `name` without surrounding blanks, `:port`, IPv6 brackets and trailing
/// dot.
fn host_part(name: &str) -> &str {
    let n = crate::sniff::http::without_port(name);
    n.strip_suffix('.').unwrap_or(n)
}

/// One non-keyword `GOPROXY` item; `Ok(None)` for a `file://` URL.
fn parse_entry(entry: &str) -> Result<Option<ProxyEntry>, String> {
    let err = |why: &str| format!("GOPROXY entry {entry:?}: {why}");
    if entry.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err("contains blanks or control characters"));
    }
    let url: Cow<str> =
        if entry.contains(['.', ':', '/']) && !entry.contains(":/") && !entry.starts_with('/') {
            Cow::Owned(format!("https://{entry}"))
        } else {
            Cow::Borrowed(entry)
        };
    let (scheme, rest) = match url.split_once(':') {
        Some((s, r)) if valid_scheme(s) => (s.to_ascii_lowercase(), r),
        Some((s, _)) if !s.contains('/') => return Err(err("invalid URL scheme")),
        _ => return Err(err("invalid proxy URL missing scheme")),
    };
    match scheme.as_str() {
        "http" | "https" => {}
        "file" => return Ok(None),
        _ => return Err(err("invalid proxy URL scheme (must be https, http, file)")),
    }
    let Some(rest) = rest.strip_prefix("//") else {
        return Err(err("no host"));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_host_port(hostport).map_err(err)?;
    if host.is_empty() {
        return Err(err("no host"));
    }
    let prefix = tail.split(['?', '#']).next().unwrap_or("");
    Ok(Some(ProxyEntry {
        host,
        port,
        scheme,
        prefix: prefix.trim_end_matches('/').to_string(),
    }))
}

/// RFC 3986 scheme: a letter, then letters, digits, `+`, `-`, `.`.
fn valid_scheme(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

/// `host[:port]` or `[v6][:port]` → lowercase host without trailing dot.
fn split_host_port(hp: &str) -> Result<(String, Option<u16>), &'static str> {
    let parse_port = |p: &str| -> Result<Option<u16>, &'static str> {
        if p.is_empty() {
            Ok(None)
        } else if p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse().map(Some).map_err(|_| "invalid port")
        } else {
            Err("invalid port")
        }
    };
    if let Some(r) = hp.strip_prefix('[') {
        let (h, after) = r.split_once(']').ok_or("unclosed '[' in host")?;
        if h.is_empty()
            || !h
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err("invalid IPv6 address");
        }
        let port = match after {
            "" => None,
            a => parse_port(a.strip_prefix(':').ok_or("junk after ']'")?)?,
        };
        return Ok((h.to_ascii_lowercase(), port));
    }
    let (h, port) = match hp.rsplit_once(':') {
        Some((h, p)) => (h, parse_port(p)?),
        None => (hp, None),
    };
    if !h
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err("invalid host name");
    }
    let h = h.strip_suffix('.').unwrap_or(h);
    Ok((h.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sniff::http::parse_request_head;
    use proptest::prelude::*;

    proptest! {
        /// `host_part` splits the port off at the last ':' as
        /// `rsplit_once` does, and `parse_path` ignores what follows the
        /// first '?' or '#' as `split` does, on any text.
        #[test]
        fn byte_searches_agree_with_str_ones(
            s in "[a-z0-9:./@?#!é字-]{0,24}",
            minor in 0u32..100,
            sep in "[?#]?",
        ) {
            let n = s.trim();
            let want = match n.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
                _ => n,
            };
            prop_assert_eq!(host_part(&s), want.strip_suffix('.').unwrap_or(want));
            let fetch = format!("/golang.org/x/mod/@v/v1.{minor}.0.info");
            let path = format!("{fetch}{sep}{s}");
            let cut = path.split(['?', '#']).next().unwrap_or("");
            prop_assert_eq!(parse_path(&path, ""), parse_path(cut, ""));
            if !sep.is_empty() {
                prop_assert!(parse_path(&path, "").is_some(), "{path}");
            }
        }
    }

    fn fetch(module: &str, version: Option<&str>, kind: FetchKind) -> ModuleFetch {
        ModuleFetch {
            module: Some(module.to_string()),
            version: version.map(str::to_string),
            kind,
            sumdb: None,
        }
    }

    /// What the analyzer will do: the request head go 1.19 sends, then the
    /// path under the host's prefix.
    fn from_wire(proxy: &GoProxy, path: &str, host: &str) -> Option<ModuleFetch> {
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Go-http-client/1.1\r\n\
             Accept-Encoding: gzip\r\n\r\n"
        );
        let req = parse_request_head(head.as_bytes()).expect("request head");
        assert_eq!(req.method, "GET");
        assert_eq!(req.user_agent.as_deref(), Some("Go-http-client/1.1"));
        assert!(req.complete);
        let host = req.host.expect("Host");
        assert!(proxy.is_module_host(&host), "{host}");
        parse_path(&req.path, proxy.prefix_for(&host))
    }

    #[test]
    fn proxy_requests_from_the_wire() {
        let p = GoProxy::parse("https://proxy.golang.org,direct").unwrap();
        let h = "proxy.golang.org";
        assert_eq!(
            from_wire(&p, "/golang.org/x/text/@v/list", h),
            Some(fetch("golang.org/x/text", None, FetchKind::List))
        );
        assert_eq!(
            from_wire(&p, "/golang.org/x/text/@v/v0.3.7.info", h),
            Some(fetch("golang.org/x/text", Some("v0.3.7"), FetchKind::Info))
        );
        assert_eq!(
            from_wire(&p, "/golang.org/x/text/@v/v0.3.7.mod", h),
            Some(fetch("golang.org/x/text", Some("v0.3.7"), FetchKind::Mod))
        );
        let zip = from_wire(&p, "/golang.org/x/text/@v/v0.3.7.zip", h).unwrap();
        assert_eq!(
            zip,
            fetch("golang.org/x/text", Some("v0.3.7"), FetchKind::Zip)
        );
        assert_eq!(zip.label(), "golang.org/x/text@v0.3.7 (zip)");
        let latest = from_wire(&p, "/rsc.io/quote/@latest", h).unwrap();
        assert_eq!(latest, fetch("rsc.io/quote", None, FetchKind::Latest));
        assert_eq!(latest.label(), "rsc.io/quote (latest)");
        // Uppercase letters, as go sends them (url.PathEscape turns '!' into
        // "%21") and as a proxy sees them after unescaping.
        for path in [
            "/github.com/%21azure/azure-sdk-for-go/@v/list",
            "/github.com/!azure/azure-sdk-for-go/@v/list",
        ] {
            let f = from_wire(&p, path, h).unwrap();
            assert_eq!(
                f,
                fetch("github.com/Azure/azure-sdk-for-go", None, FetchKind::List)
            );
            assert_eq!(f.label(), "github.com/Azure/azure-sdk-for-go (list)");
        }
        // +incompatible is not escaped by go.
        assert_eq!(
            from_wire(
                &p,
                "/github.com/%21azure/azure-sdk-for-go/@v/v68.0.0+incompatible.zip",
                h
            ),
            Some(fetch(
                "github.com/Azure/azure-sdk-for-go",
                Some("v68.0.0+incompatible"),
                FetchKind::Zip
            ))
        );
        // Pseudo-version.
        let f = from_wire(
            &p,
            "/golang.org/x/net/@v/v0.0.0-20191109021931-daa7c04131f5.info",
            h,
        );
        assert_eq!(
            f,
            Some(fetch(
                "golang.org/x/net",
                Some("v0.0.0-20191109021931-daa7c04131f5"),
                FetchKind::Info
            ))
        );
        // An escaped uppercase version, and a branch name `go get m@master`
        // resolves with .info.
        assert_eq!(
            from_wire(&p, "/example.com/m/@v/v1.0.0-%21r%21c1.mod", h),
            Some(fetch("example.com/m", Some("v1.0.0-RC1"), FetchKind::Mod))
        );
        assert_eq!(
            from_wire(&p, "/example.com/m/@v/master.info", h),
            Some(fetch("example.com/m", Some("master"), FetchKind::Info))
        );
        // The path-prefix probing of `go get example.com/a/b/c`: each probe is
        // a list request (404/410 on all but one is normal).
        for (path, module) in [
            ("/example.com/a/b/c/@v/list", "example.com/a/b/c"),
            ("/example.com/a/b/@v/list", "example.com/a/b"),
            ("/example.com/a/@v/list", "example.com/a"),
        ] {
            assert_eq!(
                from_wire(&p, path, h),
                Some(fetch(module, None, FetchKind::List))
            );
        }
    }

    #[test]
    fn query_and_fragment_ignored() {
        assert_eq!(
            parse_path("/rsc.io/quote/@v/list?go-get=1#x", ""),
            Some(fetch("rsc.io/quote", None, FetchKind::List))
        );
        assert_eq!(
            parse_path("/rsc.io/quote/@v/v1.5.2.zip#frag", ""),
            Some(fetch("rsc.io/quote", Some("v1.5.2"), FetchKind::Zip))
        );
    }

    #[test]
    fn invalid_escapes() {
        for path in [
            "/github.com/Azure/azure-sdk-for-go/@v/list",
            "/github.com/!Azure/azure-sdk-for-go/@v/list",
            "/github.com/%21Azure/azure-sdk-for-go/@v/list",
            "/github.com/!1zure/x/@v/list",
            "/github.com/azure!/@v/list",
            "/github.com/azure%21/@v/list",
            "/github.com/!!azure/@v/list",
            "/example.com/m/@v/V1.0.0.info",
            "/example.com/m/@v/v1.0.0!.info",
            "/caf\u{e9}.example/m/@v/list",
            "/example.com/%2Fm/@v/list",
        ] {
            assert_eq!(parse_path(path, ""), None, "{path}");
        }
    }

    #[test]
    fn decode_case_rules() {
        assert_eq!(
            decode_case("github.com/!azure/azure-sdk-for-go").as_deref(),
            Some("github.com/Azure/azure-sdk-for-go")
        );
        assert_eq!(
            decode_case("github.com/%21azure/%21burnt%21sushi").as_deref(),
            Some("github.com/Azure/BurntSushi")
        );
        assert_eq!(decode_case("v1.0.0-!r!c1").as_deref(), Some("v1.0.0-RC1"));
        assert_eq!(decode_case("").as_deref(), Some(""));
        // Other percent-escapes stay as they are; an uppercase hex digit is
        // an uppercase letter in the encoded form, which go never sends.
        assert_eq!(decode_case("v1%28x%29%2").as_deref(), Some("v1%28x%29%2"));
        assert_eq!(decode_case("a%2fb").as_deref(), Some("a%2fb"));
        assert_eq!(decode_case("a%2Fb"), None);
        for bad in [
            "Azure", "!Azure", "%21Azure", "!", "x!", "%21", "!!a", "!%21a", "!1", "!-", "\u{e9}",
        ] {
            assert_eq!(decode_case(bad), None, "{bad}");
        }
    }

    #[test]
    fn checksum_database() {
        let sumdb = Some("sum.golang.org".to_string());
        // Through a proxy.
        let f = parse_path("/sumdb/sum.golang.org/lookup/golang.org/x/text@v0.3.7", "").unwrap();
        assert_eq!(
            f,
            ModuleFetch {
                module: Some("golang.org/x/text".into()),
                version: Some("v0.3.7".into()),
                kind: FetchKind::Lookup,
                sumdb: sumdb.clone(),
            }
        );
        assert_eq!(
            f.label(),
            "golang.org/x/text@v0.3.7 (lookup, sum.golang.org)"
        );
        // Directly from the database, escaped.
        let f = parse_path(
            "/lookup/github.com/%21azure/azure-sdk-for-go@v68.0.0+incompatible",
            "",
        )
        .unwrap();
        assert_eq!(
            f,
            fetch(
                "github.com/Azure/azure-sdk-for-go",
                Some("v68.0.0+incompatible"),
                FetchKind::Lookup
            )
        );
        assert_eq!(
            f.label(),
            "github.com/Azure/azure-sdk-for-go@v68.0.0+incompatible (lookup)"
        );
        // Tiles: partial, full, level 1, data, several groups.
        let tile = ModuleFetch {
            module: None,
            version: None,
            kind: FetchKind::Tile,
            sumdb: sumdb.clone(),
        };
        for path in [
            "/sumdb/sum.golang.org/tile/8/0/x004/123.p/45",
            "/sumdb/sum.golang.org/tile/8/0/x004/123",
            "/sumdb/sum.golang.org/tile/8/1/000",
            "/sumdb/sum.golang.org/tile/8/data/x004/123.p/45",
            "/sumdb/SUM.golang.org/tile/8/2/x001/x234/567?x=1",
        ] {
            assert_eq!(parse_path(path, "").as_ref(), Some(&tile), "{path}");
        }
        let t = parse_path("/sumdb/sum.golang.org/tile/8/0/x004/123.p/45", "").unwrap();
        assert_eq!(t.label(), "tile (sum.golang.org)");
        let direct = parse_path("/tile/8/0/x004/123.p/45", "").unwrap();
        assert_eq!(
            (direct.kind, direct.sumdb.as_deref()),
            (FetchKind::Tile, None)
        );
        assert_eq!(direct.label(), "tile");
        for path in [
            "/sumdb/sum.golang.org/supported",
            "/sumdb/sum.golang.org/latest",
            "/sumdb/sum.golang.org/lookup/golang.org/x/text",
            "/sumdb/sum.golang.org/lookup/golang.org/x/text@",
            "/sumdb/sum.golang.org/lookup/@v0.3.7",
            "/sumdb//lookup/golang.org/x/text@v0.3.7",
            "/sumdb/sum.golang.org",
            "/tile/8/0/x004/123.p/256",
            "/tile/8/0/x004/123.p/0",
            "/tile/8/0/x004/123.p/",
            "/tile/0/0/000",
            "/tile/31/0/000",
            "/tile/08/0/000",
            "/tile/8/0/12",
            "/tile/8/0/1234",
            "/tile/8/0/004/123",
            "/tile/8/0/x000/123",
            "/tile/8/x/000",
            "/tile/8/0",
            "/tile/8/0/",
            "/tile/8/0/x001/x001/x001/x001/x001/x001/x001/x001/x001/x001/x001/x001/000",
        ] {
            assert_eq!(parse_path(path, ""), None, "{path}");
        }
    }

    #[test]
    fn prefix_proxy() {
        let p = GoProxy::parse("https://athens.corp/goproxy/").unwrap();
        assert_eq!(
            p.entries,
            vec![ProxyEntry {
                host: "athens.corp".into(),
                port: None,
                scheme: "https".into(),
                prefix: "/goproxy".into(),
            }]
        );
        assert_eq!(p.prefix_for("athens.corp"), "/goproxy");
        assert_eq!(p.prefix_for("ATHENS.corp.:443"), "/goproxy");
        assert_eq!(p.prefix_for("proxy.golang.org"), "");
        assert_eq!(
            from_wire(
                &p,
                "/goproxy/golang.org/x/text/@v/v0.3.7.zip",
                "athens.corp"
            ),
            Some(fetch("golang.org/x/text", Some("v0.3.7"), FetchKind::Zip))
        );
        // The prefix may be given with or without slashes.
        for prefix in ["/goproxy", "goproxy", "/goproxy/"] {
            assert_eq!(
                parse_path("/goproxy/rsc.io/quote/@latest", prefix),
                Some(fetch("rsc.io/quote", None, FetchKind::Latest))
            );
        }
        // Not under the prefix, or a longer first element.
        assert_eq!(parse_path("/rsc.io/quote/@latest", "/goproxy"), None);
        assert_eq!(
            parse_path("/goproxy2/rsc.io/quote/@latest", "/goproxy"),
            None
        );
        // Without the prefix the first element ("goproxy") has no dot.
        assert_eq!(parse_path("/goproxy/rsc.io/quote/@latest", ""), None);
        // Checksum database through the prefix proxy.
        let f = parse_path(
            "/goproxy/sumdb/sum.golang.org/lookup/rsc.io/quote@v1.5.2",
            "/goproxy",
        );
        assert_eq!(
            f.map(|f| f.label()).as_deref(),
            Some("rsc.io/quote@v1.5.2 (lookup, sum.golang.org)")
        );
        assert_eq!(
            parse_path("/goproxy/sumdb/sum.golang.org/supported", "/goproxy"),
            None
        );
    }

    #[test]
    fn not_module_paths() {
        for path in [
            "",
            "/",
            "/index.html",
            "/@v/list",
            "/@latest",
            "/x/@v/",
            "/example.com/x/@v/",
            "/example.com/x/@v/.zip",
            "/example.com/x/@v/..zip",
            "/example.com/x/@v/v1.0.0.tar.gz",
            "/example.com/x/@v/v1/x.zip",
            "/example.com/x/@v/list/",
            "/example.com/x/@v/v1.0.0.info/",
            "/example/x/@v/list",
            "/-example.com/x/@v/list",
            "/example.com//x/@v/list",
            "/example.com/x//@v/list",
            "/example.com/../x/@v/list",
            "/example.com/.x/@v/list",
            "/example.com/x./@v/list",
            "/example.com/x y/@v/list",
            "/example.com/x@y/@v/list",
            "//example.com/x/@v/list",
            "example.com/x/@v/list",
            "/lookup/",
            "/tile/",
            "/golang.org/x/text/@v/list@latest",
        ] {
            assert_eq!(parse_path(path, ""), None, "{path:?}");
        }
    }

    #[test]
    fn goproxy_parse() {
        let e = |host: &str, port: Option<u16>, scheme: &str, prefix: &str| ProxyEntry {
            host: host.into(),
            port,
            scheme: scheme.into(),
            prefix: prefix.into(),
        };
        assert_eq!(
            GoProxy::parse("https://goproxy.cn,direct").unwrap().entries,
            vec![e("goproxy.cn", None, "https", "")]
        );
        assert_eq!(
            GoProxy::parse("https://a.example|https://b.example/x,off")
                .unwrap()
                .entries,
            vec![
                e("a.example", None, "https", ""),
                e("b.example", None, "https", "/x")
            ]
        );
        assert_eq!(
            GoProxy::parse("goproxy.cn").unwrap().entries,
            vec![e("goproxy.cn", None, "https", "")]
        );
        assert_eq!(GoProxy::parse("direct").unwrap(), GoProxy::default());
        assert_eq!(GoProxy::parse("off").unwrap(), GoProxy::default());
        assert_eq!(GoProxy::parse("").unwrap(), GoProxy::default());
        assert_eq!(GoProxy::parse(" , |").unwrap(), GoProxy::default());
        assert_eq!(
            GoProxy::parse(
                " HTTP://user:pw@Athens.Corp.:3000/goproxy/?q#f , localhost:3000,file:///srv/mods"
            )
            .unwrap()
            .entries,
            vec![
                e("athens.corp", Some(3000), "http", "/goproxy"),
                e("localhost", Some(3000), "https", ""),
            ]
        );
        assert_eq!(
            GoProxy::parse("https://[::1]:8080/p").unwrap().entries,
            vec![e("::1", Some(8080), "https", "/p")]
        );
        // Like go, nothing after "direct" or "off" is looked at.
        assert_eq!(
            GoProxy::parse("direct,ht!tp://x").unwrap(),
            GoProxy::default()
        );
        for (s, named) in [
            ("http://", "\"http://\""),
            ("ht!tp://x", "\"ht!tp://x\""),
            ("https://goproxy.cn,http://", "\"http://\""),
            ("foo", "\"foo\""),
            ("/srv/mods", "\"/srv/mods\""),
            ("ftp://x.example", "\"ftp://x.example\""),
            ("https://x.example:99999", "\"https://x.example:99999\""),
            ("https://x.example:8o", "\"https://x.example:8o\""),
            ("https://x:y:z", "\"https://x:y:z\""),
            ("https://[::1", "\"https://[::1\""),
            ("https://x_y.example/a b", "\"https://x_y.example/a b\""),
            ("https:x.example", "\"https:x.example\""),
            ("https://ex%41mple.com", "\"https://ex%41mple.com\""),
        ] {
            let err = GoProxy::parse(s).unwrap_err();
            assert!(err.contains(named), "{s}: {err}");
        }
    }

    #[test]
    fn module_hosts() {
        let p = GoProxy::parse("http://athens.corp:3000/goproxy,https://goproxy.io").unwrap();
        for yes in [
            "proxy.golang.org",
            "PROXY.golang.org.",
            "sum.golang.org:443",
            "goproxy.cn",
            "goproxy.io",
            "athens.corp",
            "Athens.Corp:3000",
            "athens.corp.",
        ] {
            assert!(p.is_module_host(yes), "{yes}");
        }
        for no in [
            "",
            ".",
            "golang.org",
            "proxy.golang.org.evil",
            "x.proxy.golang.org",
            "athens",
        ] {
            assert!(!p.is_module_host(no), "{no}");
        }
        assert!(!GoProxy::default().is_module_host("athens.corp"));
        assert_eq!(p.prefix_for("athens.corp:3000"), "/goproxy");
        assert_eq!(p.prefix_for("goproxy.io"), "");
        assert_eq!(p.prefix_for("elsewhere.example"), "");
        assert_eq!(KNOWN_HOSTS.len(), 4);
    }

    #[test]
    fn fetch_kind_serializes_snake_case() {
        assert_eq!(
            serde_json::to_string(&FetchKind::Latest).unwrap(),
            "\"latest\""
        );
        let f = fetch("rsc.io/quote", Some("v1.5.2"), FetchKind::Zip);
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"module":"rsc.io/quote","version":"v1.5.2","kind":"zip","sumdb":null}"#
        );
    }

    #[test]
    fn hostile_random_input() {
        const ALPHABET: &[u8] = b"/@v!%21.aZx0-9_~+lstinfomdzp?#:\xff";
        const PIECES: [&str; 10] = [
            "/@v/",
            "list",
            ".zip",
            ".info",
            "/@latest",
            "example.com",
            "/sumdb/",
            "lookup/",
            "tile/8/",
            "%21",
        ];
        let mut rng = crate::testutil::Lcg(0x9e37_79b9_7f4a_7c15);
        let mut next = move || rng.next() as usize;
        for _ in 0..10_000 {
            let mut bytes = vec![b'/'];
            let n = next() % 120;
            while bytes.len() < n {
                if next() % 3 == 0 {
                    bytes.extend_from_slice(PIECES[next() % PIECES.len()].as_bytes());
                } else {
                    bytes.push(ALPHABET[next() % ALPHABET.len()]);
                }
            }
            let s = String::from_utf8_lossy(&bytes);
            let _ = decode_case(&s);
            let _ = GoProxy::parse(&s);
            for prefix in ["", "/example.com"] {
                if let Some(f) = parse_path(&s, prefix) {
                    assert_eq!(f.module.is_none(), f.kind == FetchKind::Tile);
                    assert!(!f.label().is_empty());
                    let m = f.module.unwrap_or_default();
                    assert!(!m.contains(['!', '%', '@']), "{s}");
                }
            }
        }
    }
}
