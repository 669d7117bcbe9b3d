//! The words of the verdicts: explanations, evidence texts and the names
//! the explanations give to servers, requests and durations. The rules in
//! `rules.rs` decide; this module only says what they found.

use super::SYN_UNANSWERED_NS;
use super::Stage;
use crate::decode::IcmpErrorKind;
use crate::flows::{Connection, Dir, Event, HttpResponseHead, IcmpInfo, RstInfo};
use crate::sniff::tls::{Alert, Certificate, ClientHello};
use crate::time::Ts;
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

/// `ns` is within 1.5 s of `target`.
pub(super) fn near(ns: i64, target: i64) -> bool {
    // Hostile timestamps can put `ns` anywhere in i64.
    ns.saturating_sub(target).unsigned_abs() <= 1_500_000_000
}

/// `10.0.0.1:80` or `[fd77::1]:80`.
pub fn endpoint(e: (IpAddr, u16)) -> String {
    crate::decimal::endpoint(std::net::SocketAddr::new(e.0, e.1))
}

/// From `a` to `b`, in nanoseconds.
pub(super) fn since(a: Ts, b: Ts) -> i64 {
    b.nanos_since(a)
}

/// A duration for people: `12.3 ms`, `1.50 s`.
pub fn human_ns(ns: i64) -> String {
    crate::time::Nanos(ns).human().to_string()
}

/// `12, 15, 21`.
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

/// Why an RST from the server's side looks injected (the rules decided it
/// is: its TTL differs from the server's own earlier packets, a middlebox
/// sits fewer or more hops away), backed by an IPv4 ID out of the server's
/// sequence.
pub(super) fn injected_why(rst: &RstInfo) -> String {
    let prior = rst.prior_ttl.unwrap_or(rst.ttl);
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
    why
}

/// What waits for an answer in `stage`: the ClientHello or the request.
pub(super) fn describe_wait(stage: Stage) -> &'static str {
    match stage {
        Stage::TlsHandshake => "ClientHello",
        _ => "request",
    }
}

// The explanations and evidence of each rule, in the order of `RULES`.

/// `SYN` or `3 SYNs`.
fn tries(c: &Connection) -> String {
    match c.handshake.syn_count {
        n if n > 1 => format!("{n} SYNs"),
        _ => "SYN".to_string(),
    }
}

fn icmp_proto(icmp: &IcmpInfo) -> &'static str {
    if icmp.v6 { "ICMPv6" } else { "ICMP" }
}

/// `syn_icmp_reject`, `syn_icmp_unreachable`: who answered the SYN with
/// which ICMP error, `after` the SYN it answered, and what that means.
pub(super) fn syn_icmp(c: &Connection, icmp: &IcmpInfo, after: i64) -> String {
    let why = match icmp.kind {
        IcmpErrorKind::AdminProhibited => "a firewall REJECT rule",
        IcmpErrorKind::PortUnreachable => {
            "a firewall REJECT rule (a real TCP stack answers a closed port with RST, not ICMP)"
        }
        IcmpErrorKind::HostUnreachable | IcmpErrorKind::NetUnreachable => {
            if icmp.sender == c.server.0 {
                "the host is gone or unroutable"
            } else {
                "the host is gone or unroutable (a router said so; a firewall REJECT rule can send this too)"
            }
        }
        IcmpErrorKind::ProtocolUnreachable | IcmpErrorKind::OtherUnreachable => {
            "the path refuses it"
        }
        // No rule answers a SYN with these.
        IcmpErrorKind::FragmentationNeeded | IcmpErrorKind::TimeExceeded => "",
    };
    format!(
        "{} to {} answered by {} {} from {} after {} (frame {}): {why}",
        tries(c),
        server_label(c),
        icmp_proto(icmp),
        icmp_desc(icmp.kind),
        icmp.sender,
        human_ns(after),
        icmp.at.frame
    )
}

/// `blocked_by` of an ICMP reject: `10.77.1.1 (ICMP type 3 code 13:
/// administratively prohibited)`.
pub(super) fn icmp_blocked_by(icmp: &IcmpInfo) -> String {
    format!(
        "{} ({} type {} code {}: {})",
        icmp.sender,
        icmp_proto(icmp),
        icmp.icmp_type,
        icmp.code,
        icmp_desc(icmp.kind)
    )
}

pub(super) fn icmp_quoting_syn(icmp: &IcmpInfo) -> String {
    format!(
        "{} type {} code {} ({}) quoting the SYN",
        icmp_proto(icmp),
        icmp.icmp_type,
        icmp.code,
        icmp_desc(icmp.kind)
    )
}

fn rst_kind(rst: &RstInfo) -> &'static str {
    if rst.flags.ack() { "RST/ACK" } else { "RST" }
}

/// `blocked_by` of a forged RST to a SYN; `server_ttl` is the TTL of the
/// server's SYN/ACKs in other connections.
pub(super) fn forged_rst_blocked_by(c: &Connection, rst: &RstInfo, server_ttl: u8) -> String {
    format!(
        "a middlebox forging {}s for {} (TTL {} instead of {server_ttl})",
        rst_kind(rst),
        c.server.0,
        rst.ttl
    )
}

/// `syn_forged_rst`; `after`: from the SYN the RST answered.
pub(super) fn syn_forged_rst(c: &Connection, rst: &RstInfo, server_ttl: u8, after: i64) -> String {
    let ttl = if c.server.0.is_ipv6() {
        "hop limit"
    } else {
        "TTL"
    };
    format!(
        "{} to {} answered by {} after {} (frame {}), but its {ttl} {} differs from the {ttl} {server_ttl} of {}'s SYN/ACKs in other connections of this capture: a firewall on the path rejected the connection with a forged reset (REJECT --reject-with tcp-reset), not the server",
        tries(c),
        server_label(c),
        rst_kind(rst),
        human_ns(after),
        rst.at.frame,
        rst.ttl,
        c.server.0
    )
}

pub(super) fn forged_rst(rst: &RstInfo, server_ttl: u8) -> String {
    format!(
        "{} (TTL {}; the server's SYN/ACKs elsewhere have TTL {server_ttl})",
        rst_kind(rst),
        rst.ttl
    )
}

/// `syn_refused`; `after`: from the SYN the (first) RST answered.
pub(super) fn syn_refused(c: &Connection, rst: &RstInfo, after: i64) -> String {
    let kind = rst_kind(rst);
    let answer = if c.s2c().rsts > 1 {
        format!(
            "each answered by {kind} ({} RSTs; the first after {}, frame {})",
            c.s2c().rsts,
            human_ns(after),
            rst.at.frame
        )
    } else {
        format!(
            "answered by {kind} after {} (frame {})",
            human_ns(after),
            rst.at.frame
        )
    };
    format!(
        "{} to {} {answer}: nothing listens on port {} (connection refused)",
        tries(c),
        server_label(c),
        c.server.1
    )
}

/// The RST refusing a SYN, and whether it is known to be the server's.
pub(super) fn refusing_rst(rst: &RstInfo) -> String {
    format!(
        "{} (TTL {}{}; {})",
        rst_kind(rst),
        rst.ttl,
        rst.ip_id
            .map(|id| format!(", IP ID {id}"))
            .unwrap_or_default(),
        match rst.other_conn_ttl {
            Some(t) => format!("the same TTL as this server's SYN/ACKs elsewhere ({t})"),
            None => "the server's only packet, so whether it or a firewall sent it cannot be told"
                .to_string(),
        }
    )
}

/// `syn_unanswered`: the SYNs `syns`, from `first` to `last`, unanswered for
/// `waited` until the capture ended at `end`; `client_close`: the client's
/// abort, if it did.
pub(super) fn syn_unanswered(
    c: &Connection,
    (first, last): (Event, Event),
    syns: &[Event],
    waited: i64,
    client_close: Option<Event>,
    end: Ts,
) -> String {
    let n = c.handshake.syn_count;
    let server = server_label(c);
    let mut e = if n > 1 {
        format!(
            "{n} SYNs to {server} over {} (frames {}) got no SYN/ACK, RST or ICMP: the SYNs are silently dropped (firewall or black hole)",
            human_ns(since(first.ts, last.ts)),
            frames(syns)
        )
    } else {
        format!(
            "SYN to {server} (frame {}) got no SYN/ACK, RST or ICMP in {}: silently dropped (firewall or black hole)",
            first.frame,
            human_ns(waited)
        )
    };
    let quiet_after_last = since(last.ts, end);
    if let Some(abort) = client_close {
        e.push_str("; the client then aborted");
        if near(since(first.ts, abort.ts), GO_DIAL_TIMEOUT_NS) {
            e.push_str(&format!(
                " after {} (the go command's 30 s dial timeout)",
                human_ns(since(first.ts, abort.ts))
            ));
        }
    } else if quiet_after_last >= 2 * SYN_UNANSWERED_NS {
        let _ = write!(
            e,
            "; the client gave up (no retry in the last {})",
            human_ns(quiet_after_last)
        );
    }
    e
}

/// The `i`th SYN (0: the first) at `at`.
pub(super) fn syn_try(i: usize, first: Event, at: Event) -> String {
    if i == 0 {
        "SYN".to_string()
    } else {
        format!("SYN retry {} (+{})", i, human_ns(since(first.ts, at.ts)))
    }
}

/// `syn_too_soon`.
pub(super) fn syn_too_soon(c: &Connection, first: Event, waited: i64) -> String {
    format!(
        "capture ended {} after the SYN to {} (frame {}): too soon to tell whether it would be answered",
        human_ns(waited),
        server_label(c),
        first.frame
    )
}

/// `TLS ClientHello (SNI proxy.golang.org)`.
pub(super) fn client_hello(hello: &ClientHello) -> String {
    match &hello.sni {
        Some(n) => format!("TLS ClientHello (SNI {n})"),
        None => "TLS ClientHello (no SNI)".to_string(),
    }
}

/// ` for proxy.golang.org`, or nothing without an SNI.
fn for_sni(hello: &ClientHello) -> String {
    hello
        .sni
        .as_deref()
        .map(|n| format!(" for {n}"))
        .unwrap_or_default()
}

fn alert_name(alert: &Alert) -> &'static str {
    crate::sniff::tls::alert_description_name(alert.description)
}

/// `tls_alert` from the server; `injected`: the RST that followed, when a
/// middlebox injected it.
pub(super) fn server_tls_alert(
    c: &Connection,
    hello: &ClientHello,
    alert: &Alert,
    injected: Option<&RstInfo>,
) -> String {
    let mut e = format!(
        "{} refused the TLS handshake{} with a fatal {} alert (frame {}), {} after the ClientHello",
        server_label(c),
        for_sni(hello),
        alert_name(alert),
        alert.at.frame,
        human_ns(since(hello.at.ts, alert.at.ts))
    );
    if let Some(rst) = injected {
        let _ = write!(
            e,
            "; the RST that followed (frame {}) was injected: {}",
            rst.at.frame,
            injected_why(rst)
        );
    }
    e
}

/// `tls_alert` from the client, after the server's certificate `cert`.
pub(super) fn client_tls_alert(
    hello: &ClientHello,
    alert: &Alert,
    cert: Option<&Certificate>,
) -> String {
    let mut e = format!(
        "the client refused the TLS handshake{} with a fatal {} alert (frame {})",
        for_sni(hello),
        alert_name(alert),
        alert.at.frame
    );
    if let Some(cert) = cert {
        let _ = write!(
            e,
            " after the server's certificate \"{}\" issued by \"{}\"",
            cert.subject, cert.issuer
        );
        // bad_certificate, unsupported_certificate, certificate_revoked,
        // certificate_expired, certificate_unknown, unknown_ca.
        if matches!(alert.description, 42 | 43 | 44 | 45 | 46 | 48) {
            e.push_str(": it does not trust that certificate (a TLS-inspecting proxy whose CA is not installed, or a private CA)");
        }
    }
    e
}

pub(super) fn certificate(cert: &Certificate) -> String {
    format!("certificate {} issued by {}", cert.subject, cert.issuer)
}

pub(super) fn tls_alert(alert: &Alert) -> String {
    format!("TLS alert: fatal, {}", alert_name(alert))
}

/// `server_rst`: the server's RST in phase `stage`; `injected`: by a
/// middlebox, going by its TTL.
pub(super) fn server_rst(c: &Connection, rst: &RstInfo, stage: Stage, injected: bool) -> String {
    let server = server_label(c);
    let what = match stage {
        Stage::MidTransfer => format!(
            "in the middle of the response, after {} bytes from the server",
            c.s2c().bytes
        ),
        Stage::AwaitingResponse => match outstanding_request(c) {
            Some((at, what)) => format!(
                "while the client awaited the answer to its {what} (frame {})",
                at.frame
            ),
            None => "while the client awaited a response".to_string(),
        },
        Stage::TlsHandshake => "in answer to the TLS ClientHello".to_string(),
        _ => "before the client sent anything".to_string(),
    };
    let since_hs = c
        .handshake
        .ack
        .map(|h| format!(", {} after the handshake", human_ns(since(h.ts, rst.at.ts))))
        .unwrap_or_default();
    if !injected {
        return format!(
            "{server} reset the connection (RST, frame {}) {what}{since_hs}",
            rst.at.frame
        );
    }
    let mut e = format!(
        "an RST claiming to come from {server} (frame {}) ended the connection {what}{since_hs}; {}, so a middlebox most likely injected it",
        rst.at.frame,
        injected_why(rst)
    );
    if stage == Stage::TlsHandshake
        && let Some(name) = c
            .app
            .as_deref()
            .and_then(|a| a.client_hello())
            .and_then(|h| h.sni.as_deref())
    {
        let _ = write!(e, ": likely SNI filtering of {name}");
    }
    e
}

/// The server's RST, with what tells who sent it.
pub(super) fn server_rst_packet(rst: &RstInfo) -> String {
    format!(
        "{} (TTL {}{}{})",
        rst_kind(rst),
        rst.ttl,
        rst.ip_id
            .map(|id| format!(", IP ID {id}"))
            .unwrap_or_default(),
        rst.prior_ttl
            .map(|p| format!("; earlier server packets TTL {p}"))
            .unwrap_or_default()
    )
}

/// `established_blackhole`: `dir`'s data from `data` on, retransmitted
/// `times` over `span`; `peer_silent`: the peer sent nothing after it.
pub(super) fn established_blackhole(
    c: &Connection,
    dir: Dir,
    data: Event,
    times: u32,
    span: i64,
    peer_silent: bool,
) -> String {
    let who = dir.sender();
    let peer_name = dir.reverse().sender();
    let when = if c.handshake.ack.is_some() {
        "after the handshake, "
    } else {
        ""
    };
    let silence = if c.dirs[dir.reverse().index()].packets == 0 {
        format!("; nothing at all came from the {peer_name}")
    } else if peer_silent {
        format!("; the {peer_name} sent nothing more")
    } else {
        String::new()
    };
    format!(
        "{when}the {who}'s data (frame {}) was retransmitted {times} times over {} and never acknowledged{silence}: the path went silent (firewall state-table timeout or MTU black hole)",
        data.frame,
        human_ns(span),
    )
}

/// The `i`th (from 0) retransmission, at `at`, of the data from `data`.
pub(super) fn retransmission(i: usize, data: Event, at: Event) -> String {
    format!(
        "retransmission {} (+{})",
        i + 1,
        human_ns(since(data.ts, at.ts))
    )
}

pub(super) fn last_packet_from(dir: Dir) -> String {
    format!("last packet from the {}", dir.sender())
}

/// `acked_data_resent`: `dir` re-sent the acknowledged data `resent`.
pub(super) fn acked_data_resent(dir: Dir, resent: &[Event]) -> String {
    let who = dir.sender();
    let peer = dir.reverse().sender();
    let span = match (resent.first(), resent.last()) {
        (Some(f), Some(l)) => since(f.ts, l.ts),
        _ => 0,
    };
    format!(
        "the {who} re-sent data the {peer} had already acknowledged {} times over {} (frames {}) and sent nothing new: the {peer}'s ACKs are not reaching it, so the path from {peer} to {who} is dropping packets",
        resent.len(),
        human_ns(span),
        frames(resent)
    )
}

/// The `i`th (from 0) re-sending of acknowledged data.
pub(super) fn acked_data_resent_again(i: usize) -> String {
    format!("re-sent data already acknowledged ({})", i + 1)
}

/// `zero_window`: `dir`'s receiver window zero from `zero` on, for
/// `stuck`; `client_close`: the client gave up.
pub(super) fn zero_window(
    c: &Connection,
    dir: Dir,
    zero: Event,
    stuck: i64,
    client_close: Option<(Event, &str)>,
) -> String {
    let end = match client_close {
        Some((e, kind)) => format!("the client gave up ({kind}, frame {})", e.frame),
        None => "the window was still zero when the capture ended".to_string(),
    };
    format!(
        "the {} advertised a zero window at frame {} and never reopened it for {} while the {} had data to send ({} probes): the receiving application stopped reading; {end}",
        dir.sender(),
        zero.frame,
        human_ns(stuck),
        dir.reverse().sender(),
        c.dirs[dir.reverse().index()].zero_window_probes
    )
}

/// `server_fin_before_answer`.
pub(super) fn server_fin_before_answer(c: &Connection, fin: Event, stage: Stage) -> String {
    format!(
        "{} closed the connection (FIN, frame {}) without answering the {}",
        server_label(c),
        fin.frame,
        describe_wait(stage)
    )
}

/// `server_fin_short_body`: `got` of the `want` bytes announced.
pub(super) fn server_fin_short_body(c: &Connection, fin: Event, got: u64, want: u64) -> String {
    format!(
        "{} closed the connection (FIN, frame {}) after {got} of the {want} bytes its HTTP response announced",
        server_label(c),
        fin.frame
    )
}

/// `short_body_stall`: `got` of the `want` bytes, then no data for
/// `waited`; `close`: the client gave up.
pub(super) fn short_body_stall(
    c: &Connection,
    got: u64,
    want: u64,
    waited: i64,
    close: Option<(Event, &str)>,
) -> String {
    format!(
        "the HTTP response from {} stopped after {got} of the {want} bytes it announced; no data for {}; {}",
        server_label(c),
        human_ns(waited),
        gave_up(close)
    )
}

/// `client_gave_up_waiting`, `awaiting_response_stall`: what was left
/// waiting, for how long, and how it ended (`close`: the client gave up).
pub(super) fn request_stall(
    c: &Connection,
    stage: Stage,
    waited: i64,
    close: Option<(Event, &str)>,
) -> String {
    let end = gave_up(close);
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

/// How a wait ended: `the client gave up (FIN, frame 12)`, or it had not
/// when the capture ended.
fn gave_up(close: Option<(Event, &str)>) -> Cow<'static, str> {
    match close {
        Some((e, kind)) => Cow::Owned(format!("the client gave up ({kind}, frame {})", e.frame)),
        None => Cow::Borrowed("still waiting when the capture ended"),
    }
}

/// The client's close that ended a wait: `FIN: the client gives up`.
pub(super) fn gives_up(kind: &str) -> String {
    format!("{kind}: the client gives up")
}

/// `awaiting_response_too_soon`.
pub(super) fn awaiting_response_too_soon(
    c: &Connection,
    stage: Stage,
    waited: i64,
    stall_after_ns: i64,
) -> String {
    format!(
        "capture ended {} after the {} to {}, before the stall threshold ({}): the answer may still have come",
        human_ns(waited),
        describe_wait(stage),
        server_label(c),
        human_ns(stall_after_ns)
    )
}

/// `HTTP 200 response, 5067 bytes announced`.
pub(super) fn http_response_head(h: &HttpResponseHead) -> String {
    format!(
        "HTTP {} response, {} bytes announced",
        h.status,
        u64::from(h.header_len) + h.content_length.unwrap_or(0)
    )
}

/// `ACK of the request`.
pub(super) fn ack_of(stage: Stage) -> String {
    format!("ACK of the {}", describe_wait(stage))
}
