//! The rules themselves, in the order of the table in `mod.rs`.

use super::explain::{
    GO_DIAL_TIMEOUT_NS, describe_payload, describe_wait, frames, human_ns, icmp_desc, injected_rst,
    near, outstanding_request, server_label, stall_explanation,
};
use super::{Confidence, Context, Evidence, ResetBy, Stage, Verdict, VerdictKind};
use crate::decode::IcmpErrorKind;
use crate::flows::{Connection, Dir, Event, RetransKind};
use crate::time::Ts;
use std::fmt::Write as _;

/// A SYN unanswered for this long was dropped: every common stack retries a
/// SYN after 1 s (Linux, Windows and macOS initial RTO), so a capture that
/// saw that much silence saw the drop.
const SYN_UNANSWERED_NS: i64 = 1_000_000_000;
/// A client that closes after at least this much silence with a request
/// outstanding gave up waiting.
const GIVE_UP_NS: i64 = 1_000_000_000;
/// Retransmissions of the same unacknowledged data that make a black hole.
const BLACKHOLE_RETRANS: u32 = 3;
/// ... spread over at least this long.
const BLACKHOLE_SPAN_NS: i64 = 1_000_000_000;

/// Classifies one connection.
pub fn classify(c: &Connection, ctx: &Context) -> Verdict {
    let mut v = classify_without_warnings(c, ctx);
    add_warnings(c, &mut v);
    v
}

/// [`classify`] without the warnings, for a caller that may not need them
/// (an `ok` connection that is only counted): they are text, formatted
/// for most connections with a retransmission. [`add_warnings`] adds them.
pub fn classify_without_warnings(c: &Connection, ctx: &Context) -> Verdict {
    let mut v = handshake_rules(c, ctx).unwrap_or_else(|| established_rules(c, ctx));
    v.evidence.sort_by_key(|e| e.frame);
    v
}

/// Sets the warnings of `v`, `c`'s verdict by [`classify_without_warnings`].
pub fn add_warnings(c: &Connection, v: &mut Verdict) {
    v.warnings = super::warnings::warnings(c, v);
}

fn verdict(kind: VerdictKind, stage: Option<Stage>, confidence: Confidence) -> Verdict {
    Verdict {
        kind,
        stage,
        reset_by: None,
        blocked_by: None,
        explanation: String::new(),
        confidence: Some(confidence),
        evidence: Vec::new(),
        warnings: Vec::new(),
    }
}

fn ok() -> Verdict {
    Verdict {
        kind: VerdictKind::Ok,
        stage: None,
        reset_by: None,
        blocked_by: None,
        explanation: String::new(),
        confidence: None,
        evidence: Vec::new(),
        warnings: Vec::new(),
    }
}

fn ev(at: Event, from: &str, what: impl Into<String>) -> Evidence {
    Evidence {
        frame: at.frame,
        ts: at.ts,
        from: from.to_string(),
        what: what.into(),
    }
}

pub(super) fn since(a: Ts, b: Ts) -> i64 {
    b.0.saturating_sub(a.0)
}

/// All SYNs the client sent, as events (first, retries and last).
fn syn_events(c: &Connection) -> Vec<Event> {
    let mut v = Vec::new();
    if let Some(s) = c.first_syn {
        v.push(s);
    }
    for (e, _) in &c.c2s().retrans_frames {
        if c.synack.is_none_or(|sa| e.ts <= sa.ts) && Some(*e) != c.first_syn && is_syn_time(c, *e)
        {
            v.push(*e);
        }
    }
    if let Some(l) = c.last_syn
        && !v.contains(&l)
    {
        v.push(l);
    }
    v
}

fn is_syn_time(c: &Connection, e: Event) -> bool {
    // Retransmissions before any client payload and before the handshake
    // completed are SYN retries.
    c.handshake_ack.is_none_or(|a| e.ts < a.ts) && c.c2s().first_payload.is_none_or(|p| e.ts < p.ts)
}

/// A fatal TLS alert sent in the clear, i.e. during the handshake: the
/// server (or something on the path speaking for it) refused the
/// handshake, or the client refused the server's certificate — what a
/// TLS-inspecting proxy whose CA the client does not trust causes.
fn tls_alert_rule(c: &Connection) -> Option<Verdict> {
    let app = c.app.as_deref()?;
    let hello = app.client_hello()?;
    let fatal = |dir: Dir| {
        app.tls(dir)?
            .alerts
            .iter()
            .find(|a| !a.encrypted && a.level == 2)
            .cloned()
    };
    let (dir, alert) = match (fatal(Dir::ServerToClient), fatal(Dir::ClientToServer)) {
        (Some(s), Some(cl)) if cl.at.frame < s.at.frame => (Dir::ClientToServer, cl),
        (Some(s), _) => (Dir::ServerToClient, s),
        (None, Some(cl)) => (Dir::ClientToServer, cl),
        (None, None) => return None,
    };
    let name = crate::sniff::tls::alert_description_name(alert.description);
    let sni = hello
        .sni
        .as_deref()
        .map(|n| format!(" for {n}"))
        .unwrap_or_default();
    let mut v = verdict(
        VerdictKind::MidstreamReset,
        Some(Stage::TlsHandshake),
        Confidence::High,
    );
    // The ClientHello may span segments: `at` is the one that completed it.
    let hello_what = match &hello.sni {
        Some(n) => format!("TLS ClientHello (SNI {n})"),
        None => "TLS ClientHello (no SNI)".to_string(),
    };
    v.evidence.push(ev(hello.at, "client", hello_what));
    let server_tls = app.tls(Dir::ServerToClient);
    if let Some(sh) = server_tls.and_then(|i| i.server_hello.as_ref()) {
        v.evidence.push(ev(sh.at, "server", "ServerHello"));
    }
    let cert = server_tls.and_then(|i| i.certificate.as_ref());
    match dir {
        Dir::ServerToClient => {
            v.reset_by = Some(ResetBy::Server);
            v.explanation = format!(
                "{} refused the TLS handshake{sni} with a fatal {name} alert (frame {}), {} after the ClientHello",
                server_label(c),
                alert.at.frame,
                human_ns(since(hello.at.ts, alert.at.ts))
            );
            if let Some(rst) = c.s2c().rst
                && let Some(why) = injected_rst(&rst)
            {
                v.reset_by = Some(ResetBy::Middlebox);
                let _ = write!(
                    v.explanation,
                    "; the RST that followed (frame {}) was injected: {why}",
                    rst.at.frame
                );
            }
        }
        Dir::ClientToServer => {
            v.reset_by = Some(ResetBy::Client);
            let mut e = format!(
                "the client refused the TLS handshake{sni} with a fatal {name} alert (frame {})",
                alert.at.frame
            );
            if let Some(cert) = cert {
                v.evidence.push(ev(
                    cert.at,
                    "server",
                    format!("certificate {} issued by {}", cert.subject, cert.issuer),
                ));
                let _ = write!(
                    e,
                    " after the server's certificate \"{}\" issued by \"{}\"",
                    cert.subject, cert.issuer
                );
                if matches!(alert.description, 42 | 43 | 44 | 45 | 46 | 48) {
                    e.push_str(": it does not trust that certificate (a TLS-inspecting proxy whose CA is not installed, or a private CA)");
                }
            }
            v.explanation = e;
        }
    }
    v.evidence.push(ev(
        alert.at,
        dir.sender(),
        format!("TLS alert: fatal, {name}"),
    ));
    Some(v)
}

/// Rules for a connection whose SYN got no SYN/ACK.
fn handshake_rules(c: &Connection, ctx: &Context) -> Option<Verdict> {
    let first_syn = c.first_syn?;
    if c.synack.is_some() || c.s2c().first_payload.is_some() {
        return None;
    }
    let server = server_label(c);
    let syns = syn_events(c);
    let n = c.syn_count;
    let tries = if n > 1 {
        format!("{n} SYNs")
    } else {
        "SYN".to_string()
    };

    // An ICMP error quoting the SYN.
    if let Some(icmp) = c.icmp {
        let (kind, why) = match icmp.kind {
            IcmpErrorKind::AdminProhibited => (
                Some(VerdictKind::FirewallDrop),
                "a firewall REJECT rule".to_string(),
            ),
            IcmpErrorKind::PortUnreachable => (
                Some(VerdictKind::FirewallDrop),
                "a firewall REJECT rule (a real TCP stack answers a closed port with RST, not ICMP)"
                    .to_string(),
            ),
            IcmpErrorKind::HostUnreachable | IcmpErrorKind::NetUnreachable => (
                Some(VerdictKind::ServiceDown),
                if icmp.sender == c.server.0 {
                    "the host is gone or unroutable".to_string()
                } else {
                    "the host is gone or unroutable (a router said so; a firewall REJECT rule can send this too)".to_string()
                },
            ),
            IcmpErrorKind::ProtocolUnreachable | IcmpErrorKind::OtherUnreachable => (
                Some(VerdictKind::FirewallDrop),
                "the path refuses it".to_string(),
            ),
            IcmpErrorKind::FragmentationNeeded | IcmpErrorKind::TimeExceeded => (None, String::new()),
        };
        if let Some(kind) = kind {
            let proto = if icmp.v6 { "ICMPv6" } else { "ICMP" };
            let mut v = verdict(kind, Some(Stage::Syn), Confidence::High);
            if !icmp.quotes_syn {
                v.confidence = Some(Confidence::Medium);
            }
            v.blocked_by = Some(format!(
                "{} ({} type {} code {}: {})",
                icmp.sender,
                proto,
                icmp.icmp_type,
                icmp.code,
                icmp_desc(icmp.kind)
            ));
            v.explanation = format!(
                "{tries} to {server} answered by {proto} {} from {} after {} (frame {}): {why}",
                icmp_desc(icmp.kind),
                icmp.sender,
                human_ns(since(c.last_syn.unwrap_or(first_syn).ts, icmp.at.ts)),
                icmp.at.frame
            );
            for s in &syns {
                v.evidence.push(ev(*s, "client", "SYN"));
            }
            v.evidence.push(ev(
                icmp.at,
                &icmp.sender.to_string(),
                format!(
                    "{proto} type {} code {} ({}) quoting the SYN",
                    icmp.icmp_type,
                    icmp.code,
                    icmp_desc(icmp.kind)
                ),
            ));
            return Some(v);
        }
    }

    // The server (or something with its address) answered with RST.
    if let Some(rst) = c.s2c().rst {
        let acks_syn = rst.flags.ack() && c.c2s().isn.is_some_and(|isn| isn.plus(1).0 == rst.ack);
        let conf = if acks_syn {
            Confidence::High
        } else {
            Confidence::Medium
        };
        // A firewall rejecting with a forged RST sits nearer (or farther)
        // than the server: its TTL differs from the server's own SYN/ACKs
        // in other connections.
        if let Some(other) = rst.other_conn_ttl
            && other != rst.ttl
        {
            let ttl = if c.server.0.is_ipv6() {
                "hop limit"
            } else {
                "TTL"
            };
            let mut v = verdict(
                VerdictKind::FirewallDrop,
                Some(Stage::Syn),
                Confidence::Medium,
            );
            v.reset_by = Some(ResetBy::Middlebox);
            let kind = if rst.flags.ack() { "RST/ACK" } else { "RST" };
            v.blocked_by = Some(format!(
                "a middlebox forging {kind}s for {} (TTL {} instead of {other})",
                c.server.0, rst.ttl
            ));
            v.explanation = format!(
                "{tries} to {server} answered by {kind} after {} (frame {}), but its {ttl} {} differs from the {ttl} {other} of {}'s SYN/ACKs in other connections of this capture: a firewall on the path rejected the connection with a forged reset (REJECT --reject-with tcp-reset), not the server",
                human_ns(since(
                    syns.iter()
                        .copied()
                        .rfind(|e| e.ts <= rst.at.ts)
                        .unwrap_or(first_syn)
                        .ts,
                    rst.at.ts
                )),
                rst.at.frame,
                rst.ttl,
                c.server.0
            );
            for s in &syns {
                v.evidence.push(ev(*s, "client", "SYN"));
            }
            v.evidence.push(ev(
                rst.at,
                "server",
                format!(
                    "{kind} (TTL {}; the server's SYN/ACKs elsewhere have TTL {other})",
                    rst.ttl
                ),
            ));
            return Some(v);
        }
        let mut v = verdict(VerdictKind::ServiceDown, Some(Stage::Syn), conf);
        v.reset_by = Some(ResetBy::Server);
        // The SYN this RST answered: the latest one sent before it.
        let answered = syns
            .iter()
            .copied()
            .rfind(|e| e.ts <= rst.at.ts)
            .unwrap_or(first_syn);
        let kind = if rst.flags.ack() { "RST/ACK" } else { "RST" };
        let answer = if c.s2c().rsts > 1 {
            format!(
                "each answered by {kind} ({} RSTs; the first after {}, frame {})",
                c.s2c().rsts,
                human_ns(since(answered.ts, rst.at.ts)),
                rst.at.frame
            )
        } else {
            format!(
                "answered by {kind} after {} (frame {})",
                human_ns(since(answered.ts, rst.at.ts)),
                rst.at.frame
            )
        };
        v.explanation = format!(
            "{tries} to {server} {answer}: nothing listens on port {} (connection refused)",
            c.server.1
        );
        for s in &syns {
            v.evidence.push(ev(*s, "client", "SYN"));
        }
        v.evidence.push(ev(
            rst.at,
            "server",
            format!(
                "{} (TTL {}{}; {})",
                if rst.flags.ack() { "RST/ACK" } else { "RST" },
                rst.ttl,
                rst.ip_id
                    .map(|id| format!(", IP ID {id}"))
                    .unwrap_or_default(),
                match rst.other_conn_ttl {
                    Some(t) => format!("the same TTL as this server's SYN/ACKs elsewhere ({t})"),
                    None => "the server's only packet, so whether it or a firewall sent it cannot be told".to_string(),
                }
            ),
        ));
        return Some(v);
    }

    let last_syn = c.last_syn.unwrap_or(first_syn);
    let waited = since(first_syn.ts, ctx.capture_end);
    let quiet_after_last = since(last_syn.ts, ctx.capture_end);
    if waited >= SYN_UNANSWERED_NS {
        let conf = match n {
            0 | 1 => Confidence::Low,
            2 => Confidence::Medium,
            _ => Confidence::High,
        };
        let mut v = verdict(VerdictKind::FirewallDrop, Some(Stage::Syn), conf);
        let span = since(first_syn.ts, last_syn.ts);
        let mut e = if n > 1 {
            format!(
                "{n} SYNs to {server} over {} (frames {}) got no SYN/ACK, RST or ICMP: the SYNs are silently dropped (firewall or black hole)",
                human_ns(span),
                frames(&syns)
            )
        } else {
            format!(
                "SYN to {server} (frame {}) got no SYN/ACK, RST or ICMP in {}: silently dropped (firewall or black hole)",
                first_syn.frame,
                human_ns(waited)
            )
        };
        if let Some((end, _)) = close_event(c, Dir::ClientToServer) {
            e.push_str("; the client then aborted");
            if near(since(first_syn.ts, end.ts), GO_DIAL_TIMEOUT_NS) {
                e.push_str(&format!(
                    " after {} (the go command's 30 s dial timeout)",
                    human_ns(since(first_syn.ts, end.ts))
                ));
            }
        } else if quiet_after_last >= 2 * SYN_UNANSWERED_NS {
            let _ = write!(
                e,
                "; the client gave up (no retry in the last {})",
                human_ns(quiet_after_last)
            );
        }
        v.explanation = e;
        for (i, s) in syns.iter().enumerate() {
            let what = if i == 0 {
                "SYN".to_string()
            } else {
                format!("SYN retry {} (+{})", i, human_ns(since(first_syn.ts, s.ts)))
            };
            v.evidence.push(ev(*s, "client", what));
        }
        return Some(v);
    }
    let mut v = verdict(
        VerdictKind::Incomplete,
        Some(Stage::Syn),
        Confidence::Medium,
    );
    v.explanation = format!(
        "capture ended {} after the SYN to {server} (frame {}): too soon to tell whether it would be answered",
        human_ns(waited),
        first_syn.frame
    );
    v.evidence.push(ev(first_syn, "client", "SYN"));
    Some(v)
}

/// The application phase of an established connection at time `t`.
fn phase_at(c: &Connection, t: Ts) -> Stage {
    // HTTP/1.x exchanges say it directly: the last request sent by `t`
    // is answered (its response started) or not.
    if let Some(x) = c
        .app
        .as_deref()
        .and_then(|a| a.http.iter().rev().find(|x| x.at.ts <= t))
    {
        return match x.response {
            Some((r, _)) if r.ts <= t => Stage::MidTransfer,
            _ => Stage::AwaitingResponse,
        };
    }
    let client_data = c.c2s().first_payload.filter(|e| e.ts <= t);
    let server_progress = server_progress(c).filter(|e| e.ts <= t);
    match (client_data, server_progress) {
        (None, None) => Stage::AfterHandshake,
        (Some(_), None) if c.client_hello => Stage::TlsHandshake,
        (Some(_), None) => Stage::AwaitingResponse,
        (_, Some(sp)) => {
            let last_req = c.c2s().last_new_payload.filter(|e| e.ts <= t);
            match last_req {
                // A request that carries the ACK of the previous answer
                // comes after it.
                Some(r) if r.ts > sp.ts || (r.ts == sp.ts && r.frame >= sp.frame) => {
                    Stage::AwaitingResponse
                }
                _ => Stage::MidTransfer,
            }
        }
    }
}

/// The last sign of the server sending data: its last new payload, or (when
/// only the client's side is visible) the client's ACK moving forward.
fn server_progress(c: &Connection) -> Option<Event> {
    let payload = c.s2c().last_new_payload;
    let acked = c.c2s().ack_advanced;
    match (payload, acked) {
        (Some(p), Some(a)) => Some(if a.ts > p.ts { a } else { p }),
        (p, a) => p.or(a),
    }
}

/// When the client started waiting: its last new payload, or the server's
/// last progress, whichever is later.
fn last_progress(c: &Connection) -> Option<Event> {
    let a = c.c2s().last_new_payload;
    let b = server_progress(c);
    match (a, b) {
        (Some(x), Some(y)) => Some(if x.ts >= y.ts { x } else { y }),
        (x, y) => x.or(y),
    }
}

fn close_event(c: &Connection, dir: Dir) -> Option<(Event, &'static str)> {
    let fin = c.dirs[dir.index()].fin.map(|e| (e, "FIN"));
    let rst = c.dirs[dir.index()].rst.map(|r| (r.at, "RST"));
    match (fin, rst) {
        (Some(f), Some(r)) => Some(if r.0.ts < f.0.ts { r } else { f }),
        (f, r) => f.or(r),
    }
}

fn established_rules(c: &Connection, ctx: &Context) -> Verdict {
    let server = server_label(c);
    let client_close = close_event(c, Dir::ClientToServer);
    let server_fin = c.s2c().fin;
    let before = |a: Option<Event>, b: Option<Event>| match (a, b) {
        (Some(x), Some(y)) => x.ts < y.ts || (x.ts == y.ts && x.frame < y.frame),
        (Some(_), None) => true,
        _ => false,
    };

    // A0. A TLS handshake refused with a fatal alert in the clear.
    if let Some(v) = tls_alert_rule(c) {
        return v;
    }

    // A. The server reset the connection before any normal close.
    if let Some(rst) = c.s2c().rst {
        let client_closed_first = before(client_close.map(|x| x.0), Some(rst.at));
        let server_fin_first = before(server_fin, Some(rst.at));
        if !client_closed_first && !server_fin_first {
            let stage = phase_at(c, rst.at.ts);
            let mut v = verdict(VerdictKind::MidstreamReset, Some(stage), Confidence::High);
            v.reset_by = Some(ResetBy::Server);
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
                .handshake_ack
                .map(|h| format!(", {} after the handshake", human_ns(since(h.ts, rst.at.ts))))
                .unwrap_or_default();
            let injected = injected_rst(&rst);
            let mut e = match &injected {
                None => format!(
                    "{server} reset the connection (RST, frame {}) {what}{since_hs}",
                    rst.at.frame
                ),
                Some(why) => {
                    // The verdict is certain; who sent the RST is inferred.
                    v.reset_by = Some(ResetBy::Middlebox);
                    v.confidence = Some(Confidence::Medium);
                    format!(
                        "an RST claiming to come from {server} (frame {}) ended the connection {what}{since_hs}; {why}, so a middlebox most likely injected it",
                        rst.at.frame
                    )
                }
            };
            if injected.is_some()
                && stage == Stage::TlsHandshake
                && let Some(name) = c
                    .app
                    .as_deref()
                    .and_then(|a| a.client_hello())
                    .and_then(|h| h.sni.as_deref())
            {
                let _ = write!(e, ": likely SNI filtering of {name}");
            }
            v.explanation = e;
            if let Some(h) = c.handshake_ack {
                v.evidence
                    .push(ev(h, "client", "ACK completing the handshake"));
            }
            if let Some(p) = c.c2s().first_payload {
                v.evidence.push(ev(
                    p,
                    "client",
                    describe_payload(c, p, "first request data"),
                ));
            }
            if let Some((at, _)) = outstanding_request(c)
                && Some(at) != c.c2s().first_payload
            {
                v.evidence
                    .push(ev(at, "client", describe_payload(c, at, "request")));
            }
            if let Some(p) = c.s2c().first_payload {
                v.evidence.push(ev(p, "server", "first response data"));
            }
            v.evidence.push(ev(
                rst.at,
                "server",
                format!(
                    "{} (TTL {}{}{})",
                    if rst.flags.ack() { "RST/ACK" } else { "RST" },
                    rst.ttl,
                    rst.ip_id
                        .map(|id| format!(", IP ID {id}"))
                        .unwrap_or_default(),
                    rst.prior_ttl
                        .map(|p| format!("; earlier server packets TTL {p}"))
                        .unwrap_or_default()
                ),
            ));
            return v;
        }
    }

    // B. Data retransmitted again and again, never acknowledged.
    for dir in [Dir::ClientToServer, Dir::ServerToClient] {
        let st = &c.dirs[dir.index()];
        let peer = &c.dirs[dir.reverse().index()];
        let Some(since_ev) = st.unacked_since else {
            continue;
        };
        let retrans: Vec<Event> = st
            .retrans_frames
            .iter()
            .filter(|(e, k)| e.ts >= since_ev.ts && *k == RetransKind::Retransmission)
            .map(|(e, _)| *e)
            .collect();
        let last = retrans.last().copied();
        let span = last.map(|l| since(since_ev.ts, l.ts)).unwrap_or(0);
        if st.retrans_while_unacked >= BLACKHOLE_RETRANS && span >= BLACKHOLE_SPAN_NS {
            let peer_silent = peer.last_packet.is_none_or(|p| p.ts <= since_ev.ts);
            let conf = if peer_silent {
                Confidence::High
            } else {
                Confidence::Medium
            };
            let mut v = verdict(VerdictKind::FirewallDrop, Some(Stage::Established), conf);
            let who = dir.sender();
            let peer_name = dir.reverse().sender();
            let when = if c.handshake_ack.is_some() {
                "after the handshake, "
            } else {
                ""
            };
            let silence = if peer.packets == 0 {
                format!("; nothing at all came from the {peer_name}")
            } else if peer_silent {
                format!("; the {peer_name} sent nothing more")
            } else {
                String::new()
            };
            v.explanation = format!(
                "{when}the {who}'s data (frame {}) was retransmitted {} times over {} and never acknowledged{silence}: the path went silent (firewall state-table timeout or MTU black hole)",
                since_ev.frame,
                st.retrans_while_unacked,
                human_ns(span),
            );
            if let Some(h) = c.handshake_ack {
                v.evidence
                    .push(ev(h, "client", "ACK completing the handshake"));
            }
            v.evidence
                .push(ev(since_ev, who, "data, never acknowledged"));
            for (i, r) in retrans.iter().enumerate() {
                v.evidence.push(ev(
                    *r,
                    who,
                    format!(
                        "retransmission {} (+{})",
                        i + 1,
                        human_ns(since(since_ev.ts, r.ts))
                    ),
                ));
            }
            if let Some(p) = peer.last_packet {
                v.evidence.push(ev(
                    p,
                    peer_name,
                    format!("last packet from the {peer_name}"),
                ));
            }
            return v;
        }
    }

    // B'. One side keeps re-sending data the other side has already
    // acknowledged: the acknowledgements are lost on the way back, so the
    // path towards the re-sender is dropping packets.
    for dir in [Dir::ServerToClient, Dir::ClientToServer] {
        let st = &c.dirs[dir.index()];
        let after = st.last_new_payload.map(|e| e.ts).unwrap_or(Ts(i64::MIN));
        let spurious: Vec<Event> = st
            .retrans_frames
            .iter()
            .filter(|(e, k)| *k == RetransKind::Spurious && e.ts >= after)
            .map(|(e, _)| *e)
            .collect();
        let (Some(first), Some(last)) = (spurious.first(), spurious.last()) else {
            continue;
        };
        if spurious.len() as u32 >= BLACKHOLE_RETRANS
            && since(first.ts, last.ts) >= BLACKHOLE_SPAN_NS
        {
            let who = dir.sender();
            let peer = dir.reverse().sender();
            let mut v = verdict(
                VerdictKind::FirewallDrop,
                Some(Stage::Established),
                Confidence::Medium,
            );
            v.explanation = format!(
                "the {who} re-sent data the {peer} had already acknowledged {} times over {} (frames {}) and sent nothing new: the {peer}'s ACKs are not reaching it, so the path from {peer} to {who} is dropping packets",
                spurious.len(),
                human_ns(since(first.ts, last.ts)),
                frames(&spurious)
            );
            if let Some(a) = c.dirs[dir.reverse().index()].ack_advanced {
                v.evidence.push(ev(
                    a,
                    peer,
                    "last ACK of new data (never seen by the other side)",
                ));
            }
            for (i, r) in spurious.iter().enumerate() {
                v.evidence.push(ev(
                    *r,
                    who,
                    format!("re-sent data already acknowledged ({})", i + 1),
                ));
            }
            if let Some((e, kind)) = client_close {
                v.evidence.push(ev(e, "client", kind));
            }
            return v;
        }
    }

    // C. A receiver closed its window and never reopened it.
    let end_ts = client_close.map(|x| x.0.ts).unwrap_or(ctx.capture_end);
    for dir in [Dir::ClientToServer, Dir::ServerToClient] {
        let st = &c.dirs[dir.index()];
        let peer = &c.dirs[dir.reverse().index()];
        let Some(z) = st.zero_window_since else {
            continue;
        };
        let stuck = since(z.ts, end_ts);
        let threshold = if client_close.is_some() {
            GIVE_UP_NS
        } else {
            ctx.stall_after_ns
        };
        if stuck >= threshold && peer.bytes > 0 {
            let mut v = verdict(
                VerdictKind::AppStall,
                Some(Stage::ZeroWindow),
                Confidence::High,
            );
            let who = dir.sender();
            let peer_name = dir.reverse().sender();
            let end = match client_close {
                Some((e, kind)) => format!("the client gave up ({kind}, frame {})", e.frame),
                None => "the window was still zero when the capture ended".to_string(),
            };
            v.explanation = format!(
                "the {who} advertised a zero window at frame {} and never reopened it for {} while the {peer_name} had data to send ({} probes): the receiving application stopped reading; {end}",
                z.frame,
                human_ns(stuck),
                peer.zero_window_probes
            );
            v.evidence.push(ev(z, who, "zero window"));
            if let Some(p) = peer.last_packet {
                v.evidence
                    .push(ev(p, peer_name, "last packet (probe or data)"));
            }
            if let Some((e, kind)) = client_close {
                v.evidence.push(ev(e, "client", kind));
            }
            return v;
        }
    }

    // D. The server closed (FIN) before answering a request.
    if let Some(fin) = server_fin
        && !before(client_close.map(|x| x.0), Some(fin))
    {
        let stage = phase_at(c, fin.ts);
        if matches!(stage, Stage::AwaitingResponse | Stage::TlsHandshake)
            && c.s2c().first_payload.is_none()
        {
            let mut v = verdict(VerdictKind::MidstreamReset, Some(stage), Confidence::Medium);
            v.reset_by = Some(ResetBy::Server);
            v.explanation = format!(
                "{server} closed the connection (FIN, frame {}) without answering the {}",
                fin.frame,
                describe_wait(stage)
            );
            if let Some(p) = c.c2s().first_payload {
                v.evidence.push(ev(p, "client", describe_wait(stage)));
            }
            v.evidence.push(ev(fin, "server", "FIN"));
            return v;
        }
        if let Some((got, want)) = c.http_response_short() {
            let mut v = verdict(
                VerdictKind::MidstreamReset,
                Some(Stage::MidTransfer),
                Confidence::Medium,
            );
            v.reset_by = Some(ResetBy::Server);
            v.explanation = format!(
                "{server} closed the connection (FIN, frame {}) after {got} of the {want} bytes its HTTP response announced",
                fin.frame
            );
            push_response_evidence(c, &mut v);
            v.evidence
                .push(ev(fin, "server", "FIN before the end of the response"));
            return v;
        }
    }

    // The response started, then stopped short of its announced length.
    if let Some((got, want)) = c.http_response_short()
        && !before(server_fin, client_close.map(|x| x.0))
        && c.s2c().rst.is_none()
    {
        let t_end = client_close.map(|x| x.0.ts).unwrap_or(ctx.capture_end);
        let waited = last_progress(c).map(|p| since(p.ts, t_end)).unwrap_or(0);
        let what = format!(
            "the HTTP response from {server} stopped after {got} of the {want} bytes it announced; no data for {}",
            human_ns(waited)
        );
        let found = match client_close {
            Some((e, kind)) if waited >= GIVE_UP_NS => {
                let conf = if waited >= ctx.stall_after_ns {
                    Confidence::High
                } else {
                    Confidence::Medium
                };
                let mut v = verdict(VerdictKind::AppStall, Some(Stage::MidTransfer), conf);
                v.explanation = format!("{what}; the client gave up ({kind}, frame {})", e.frame);
                push_response_evidence(c, &mut v);
                v.evidence
                    .push(ev(e, "client", format!("{kind}: the client gives up")));
                Some(v)
            }
            Some(_) => None,
            None if waited >= ctx.stall_after_ns => {
                let mut v = verdict(
                    VerdictKind::AppStall,
                    Some(Stage::MidTransfer),
                    Confidence::Medium,
                );
                v.explanation = format!("{what}; still waiting when the capture ended");
                push_response_evidence(c, &mut v);
                Some(v)
            }
            // Data was still flowing when the capture ended: still active.
            None => None,
        };
        if let Some(v) = found {
            return v;
        }
    }

    // E/F. A request left waiting: the client gave up, or the capture ended.
    let end = client_close.filter(|(e, _)| !before(server_fin, Some(*e)));
    let t_end = end.map(|x| x.0.ts).unwrap_or(ctx.capture_end);
    let stage = phase_at(c, t_end);
    let outstanding = matches!(stage, Stage::AwaitingResponse | Stage::TlsHandshake);
    if outstanding && (end.is_some() || (server_fin.is_none() && c.rst.is_none())) {
        let waited = last_progress(c).map(|p| since(p.ts, t_end)).unwrap_or(0);
        match end {
            Some((e, kind)) if waited >= GIVE_UP_NS => {
                let conf = if waited >= ctx.stall_after_ns {
                    Confidence::High
                } else {
                    Confidence::Medium
                };
                let mut v = verdict(VerdictKind::AppStall, Some(stage), conf);
                v.explanation = stall_explanation(
                    c,
                    stage,
                    waited,
                    &format!("the client gave up ({kind}, frame {})", e.frame),
                );
                push_wait_evidence(c, &mut v, stage);
                v.evidence
                    .push(ev(e, "client", format!("{kind}: the client gives up")));
                return v;
            }
            Some(_) => {}
            None if waited >= ctx.stall_after_ns => {
                let mut v = verdict(VerdictKind::AppStall, Some(stage), Confidence::Medium);
                v.explanation =
                    stall_explanation(c, stage, waited, "still waiting when the capture ended");
                push_wait_evidence(c, &mut v, stage);
                return v;
            }
            None => {
                let mut v = verdict(VerdictKind::Incomplete, Some(stage), Confidence::Medium);
                v.explanation = format!(
                    "capture ended {} after the {} to {server}, before the stall threshold ({}): the answer may still have come",
                    human_ns(waited),
                    describe_wait(stage),
                    human_ns(ctx.stall_after_ns)
                );
                push_wait_evidence(c, &mut v, stage);
                return v;
            }
        }
    }

    ok()
}

fn push_response_evidence(c: &Connection, v: &mut Verdict) {
    if let Some(p) = c.c2s().first_payload {
        v.evidence
            .push(ev(p, "client", describe_payload(c, p, "request")));
    }
    if let (Some(p), Some(h)) = (c.s2c().first_payload, c.http_response) {
        v.evidence.push(ev(
            p,
            "server",
            format!(
                "HTTP {} response, {} bytes announced",
                h.status,
                u64::from(h.header_len) + h.content_length.unwrap_or(0)
            ),
        ));
    }
    if let Some(p) = c.s2c().last_new_payload {
        v.evidence.push(ev(p, "server", "last response data"));
    }
}

fn push_wait_evidence(c: &Connection, v: &mut Verdict, stage: Stage) {
    if let Some(h) = c.handshake_ack {
        v.evidence
            .push(ev(h, "client", "ACK completing the handshake"));
    }
    let outstanding = outstanding_request(c);
    if let Some((at, _)) = &outstanding {
        v.evidence
            .push(ev(*at, "client", describe_payload(c, *at, "request")));
    } else if let Some(p) = c.c2s().last_new_payload.or(c.c2s().first_payload) {
        v.evidence.push(ev(
            p,
            "client",
            describe_payload(c, p, describe_wait(stage)),
        ));
    }
    if let Some(a) = c.s2c().ack_advanced {
        v.evidence.push(ev(
            a,
            "server",
            format!("ACK of the {}", describe_wait(stage)),
        ));
    }
    if let Some(sp) = c.s2c().last_new_payload {
        v.evidence.push(ev(sp, "server", "last response data"));
    }
}
