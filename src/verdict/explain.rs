//! The words of the verdicts: explanations, evidence texts and the names
//! the explanations give to servers, requests and durations. The rules in
//! `rules.rs` decide; this module only says what they found.

use super::Stage;
use crate::decimal::fixed;
use crate::decode::IcmpErrorKind;
use crate::flows::{Connection, Event};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;

/// The server as the explanations name it: `proxy.golang.org
/// (10.77.2.20:443)` when its name is known (SNI, HTTP Host or DNS), else
/// its address.
pub fn server_label(c: &Connection) -> ServerLabel<'_> {
    ServerLabel(c)
}

/// [`server_label`], formatted only when it is printed (most connections
/// are `ok` and never are).
#[derive(Clone, Copy)]
pub struct ServerLabel<'a>(&'a Connection);

impl std::fmt::Display for ServerLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match server_name(self.0) {
            Some(n) => write!(f, "{n} ({})", endpoint(self.0.server)),
            None => f.write_str(&endpoint(self.0.server)),
        }
    }
}

/// The server's name from the TLS SNI, the HTTP Host or a DNS answer
/// (borrowed from the connection unless a Host had to be lowercased).
pub fn server_name(c: &Connection) -> Option<Cow<'_, str>> {
    server_name_and_source(c).map(|(n, _)| n)
}

/// [`server_name`] and where it came from: `sni`, `host` or `dns`, in that
/// order of preference.
pub fn server_name_and_source(c: &Connection) -> Option<(Cow<'_, str>, &'static str)> {
    let app = c.app.as_deref();
    if let Some(sni) = app
        .and_then(|a| a.client_hello())
        .and_then(|h| h.sni.as_deref())
    {
        return Some((Cow::Borrowed(sni), "sni"));
    }
    if let Some(host) = app.and_then(|a| {
        a.http.iter().find_map(|x| {
            x.request
                .host
                .as_deref()
                .and_then(crate::sniff::http::host_name)
        })
    }) {
        return Some((host, "host"));
    }
    c.dns_name.as_deref().map(|d| (Cow::Borrowed(d), "dns"))
}

/// A request's path for an explanation: at most 120 characters.
pub(super) fn short_path(path: &str) -> String {
    let mut short: String = path.chars().take(120).collect();
    if short.len() < path.len() {
        short.push('…');
    }
    short
}

/// The request left without a response, e.g. `GET
/// /corp.example/!tools/greet/@v/v1.0.0.zip (corp.example/Tools/greet@v1.0.0
/// zip)`.
pub(super) fn outstanding_request(c: &Connection) -> Option<(Event, String)> {
    let x = c.app.as_deref()?.outstanding_request()?;
    let what = match crate::sniff::gomod::parse_path(&x.request.path, "") {
        Some(m) => format!("{} for {}", x.request.method, m.label()),
        None => format!("{} {}", x.request.method, short_path(&x.request.path)),
    };
    Some((x.at, what))
}

/// What a client payload at `at` was, when a sniffer knows: `TLS
/// ClientHello (SNI proxy.golang.org)` or `GET /x/@v/list (x (list))`.
pub(super) fn describe_payload(c: &Connection, at: Event, fallback: &str) -> String {
    let Some(app) = c.app.as_deref() else {
        return fallback.to_string();
    };
    if let Some(h) = app.client_hello()
        && (h.at == at || (h.at.frame >= at.frame && c.c2s().first_payload == Some(at)))
    {
        return match &h.sni {
            Some(n) => format!("TLS ClientHello (SNI {n})"),
            None => "TLS ClientHello (no SNI)".to_string(),
        };
    }
    if let Some(x) = app.http.iter().find(|x| x.at.frame == at.frame) {
        let module = crate::sniff::gomod::parse_path(&x.request.path, "")
            .map(|m| format!(" = {}", m.label()))
            .unwrap_or_default();
        return format!(
            "{} {}{module}",
            x.request.method,
            short_path(&x.request.path)
        );
    }
    fallback.to_string()
}

/// The go command's own limits, when a timing matches one of them.
pub(super) const GO_DIAL_TIMEOUT_NS: i64 = 30_000_000_000;
pub(super) const GO_TLS_TIMEOUT_NS: i64 = 10_000_000_000;

pub(super) fn near(ns: i64, target: i64) -> bool {
    // Hostile timestamps can put `ns` anywhere in i64.
    ns.saturating_sub(target).unsigned_abs() <= 1_500_000_000
}

/// `10.0.0.1:80` or `[fd77::1]:80`.
pub fn endpoint(e: (IpAddr, u16)) -> String {
    let mut s = String::with_capacity(24);
    if e.0.is_ipv6() {
        s.push('[');
    }
    crate::decimal::push_ip(&mut s, e.0);
    if e.0.is_ipv6() {
        s.push(']');
    }
    let _ = write!(s, ":{}", e.1);
    s
}

/// A duration for people: `12.3 ms`, `1.50 s`.
pub fn human_ns(ns: i64) -> String {
    if ns.unsigned_abs() < 1_000_000_000 {
        format!("{} ms", fixed(ns as f64 / 1e6, 1))
    } else {
        format!("{} s", fixed(ns as f64 / 1e9, 2))
    }
}

pub(super) fn frames(list: &[Event]) -> String {
    let mut s = String::new();
    for (i, e) in list.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{}", e.frame);
    }
    s
}

pub(super) fn icmp_desc(kind: IcmpErrorKind) -> &'static str {
    match kind {
        IcmpErrorKind::NetUnreachable => "network unreachable",
        IcmpErrorKind::HostUnreachable => "host unreachable",
        IcmpErrorKind::ProtocolUnreachable => "protocol unreachable",
        IcmpErrorKind::PortUnreachable => "port unreachable",
        IcmpErrorKind::AdminProhibited => "administratively prohibited",
        IcmpErrorKind::FragmentationNeeded => "fragmentation needed / packet too big",
        IcmpErrorKind::TimeExceeded => "time exceeded",
        IcmpErrorKind::OtherUnreachable => "destination unreachable",
    }
}

/// Why an RST from the server's side looks injected: its TTL differs from
/// the server's own earlier packets (a middlebox sits fewer or more hops
/// away), backed by an IPv4 ID out of the server's sequence. `None` when
/// nothing tells it apart, including when the server sent nothing before.
pub(super) fn injected_rst(rst: &crate::flows::RstInfo) -> Option<String> {
    let prior = rst.prior_ttl?;
    if prior == rst.ttl {
        return None;
    }
    // IPv6 has no IP ID, and calls its TTL the hop limit.
    let ttl = if rst.ip_id.is_none() {
        "hop limit"
    } else {
        "TTL"
    };
    let mut why = format!(
        "its {ttl} {} differs from the server's earlier packets' {prior}",
        rst.ttl
    );
    // Linux sends its SYN/ACK with IP ID 0 and counts from a random start
    // after it, so only a counter already running can be broken.
    if let (Some(id), Some(p)) = (rst.ip_id, rst.prior_ip_id)
        && p != 0
    {
        let gap = id.wrapping_sub(p);
        if gap == 0 || gap > 1000 {
            let _ = write!(why, " and its IP ID {id} does not follow theirs ({p})");
        }
    }
    Some(why)
}

pub(super) fn describe_wait(stage: Stage) -> &'static str {
    match stage {
        Stage::TlsHandshake => "ClientHello",
        _ => "request",
    }
}

pub(super) fn stall_explanation(c: &Connection, stage: Stage, waited: i64, end: &str) -> String {
    let req = c.c2s().last_new_payload.or(c.c2s().first_payload);
    let server = server_label(c);
    match stage {
        Stage::TlsHandshake => {
            let hello = c.app.as_deref().and_then(|a| a.client_hello());
            let sni = hello
                .and_then(|h| h.sni.as_deref())
                .map(|n| format!(" for {n}"))
                .unwrap_or_default();
            let frame = hello.map(|h| h.at.frame).or(req.map(|e| e.frame));
            let go = if c.c2s().fin.is_some() && near(waited, GO_TLS_TIMEOUT_NS) {
                " (the go command gives up a TLS handshake after 10 s)"
            } else {
                ""
            };
            format!(
                "TLS ClientHello{sni} to {} sent at frame {}; no ServerHello in {}{go}; {end}",
                endpoint(c.server),
                frame.unwrap_or(0),
                human_ns(waited)
            )
        }
        Stage::AwaitingResponse => {
            if let Some((at, what)) = outstanding_request(c) {
                return format!(
                    "{what} sent to {server} at frame {}; no response byte in {}; {end}",
                    at.frame,
                    human_ns(waited)
                );
            }
            let acked = c
                .s2c()
                .ack_advanced
                .filter(|a| req.is_some_and(|r| a.ts >= r.ts))
                .map(|a| format!(", ACKed by the server at frame {}", a.frame))
                .unwrap_or_default();
            format!(
                "request to {server} sent at frame {}{acked}; no response byte in {}; {end}",
                req.map(|e| e.frame).unwrap_or(0),
                human_ns(waited)
            )
        }
        Stage::MidTransfer => format!(
            "the response from {server} started, then stopped for {}; {end}",
            human_ns(waited)
        ),
        _ => format!(
            "connection to {server} idle for {}; {end}",
            human_ns(waited)
        ),
    }
}
