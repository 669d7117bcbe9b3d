//! The verdict rules, as one table.
//!
//! [`RULES`] lists every rule in the order it is applied: the first that
//! matches decides the verdict, and a connection no rule matches is `ok`.
//! Each rule is a short function that reads condition → confidence →
//! evidence; the words come from `explain.rs`. The README's table of
//! verdicts has one row per rule, in the same order, named in its `rule`
//! column (a test in `tests.rs` checks that the two agree).
//!
//! To audit a rule, read its row and its function. To add one, write the
//! function and add a row (and the README row) where it belongs in the
//! order.

use super::SYN_UNANSWERED_NS;
use super::explain::{self, since};
use super::{Confidence, Context, Evidence, ResetBy, Stage, Verdict, VerdictKind};
use crate::decode::IcmpErrorKind;
use crate::flows::{Connection, Dir, Event, IcmpInfo, RetransKind, RstInfo};
use crate::time::Ts;
use std::cell::OnceCell;

/// A client that closes after at least this much silence with a request
/// outstanding gave up waiting.
const GIVE_UP_NS: i64 = 1_000_000_000;
/// Retransmissions of the same unacknowledged data that make a black hole.
const BLACKHOLE_RETRANS: u32 = 3;
/// ... spread over at least this long.
const BLACKHOLE_SPAN_NS: i64 = 1_000_000_000;

/// A rule: `c`'s verdict, if the rule's condition holds.
pub type Rule = fn(&Connection, &Context, &Facts) -> Option<Verdict>;

/// Every rule, in the order they are applied; the first that matches
/// decides, and a connection none matches is `ok`.
#[rustfmt::skip]
pub const RULES: &[(&str, Rule)] = &[
    // name                        rule                             verdict          stage
    //
    // The client's SYN got no SYN/ACK and no data came back. One of these
    // six always matches such a connection: the rules below never see it.
    ("syn_icmp_reject",            syn_icmp_reject),             // firewall_drop    syn
    ("syn_icmp_unreachable",       syn_icmp_unreachable),        // service_down     syn
    ("syn_forged_rst",             syn_forged_rst),              // firewall_drop    syn
    ("syn_refused",                syn_refused),                 // service_down     syn
    ("syn_unanswered",             syn_unanswered),              // firewall_drop    syn
    ("syn_too_soon",               syn_too_soon),                // incomplete       syn
    //
    // The handshake completed (or the capture started mid-connection).
    ("tls_alert",                  tls_alert),                   // midstream_reset  tls_handshake
    ("server_rst",                 server_rst),                  // midstream_reset  phase at the RST
    ("established_blackhole",      established_blackhole),       // firewall_drop    established
    ("acked_data_resent",          acked_data_resent),           // firewall_drop    established
    ("zero_window",                zero_window),                 // app_stall        zero_window
    ("server_fin_before_answer",   server_fin_before_answer),    // midstream_reset  phase at the FIN
    ("server_fin_short_body",      server_fin_short_body),       // midstream_reset  mid_transfer
    ("short_body_stall",           short_body_stall),            // app_stall        mid_transfer
    ("client_gave_up_waiting",     client_gave_up_waiting),      // app_stall        phase
    ("awaiting_response_stall",    awaiting_response_stall),     // app_stall        phase
    ("awaiting_response_too_soon", awaiting_response_too_soon),  // incomplete       phase
];

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
    let facts = Facts::new(c);
    let mut v = RULES
        .iter()
        .find_map(|(_, rule)| rule(c, ctx, &facts))
        .unwrap_or_else(ok);
    v.evidence.sort_by_key(|e| e.frame);
    v
}

/// The names of every rule whose condition holds for `c`, in table order
/// (the first decides).
#[cfg(test)]
pub(super) fn matching_rules(c: &Connection, ctx: &Context) -> Vec<&'static str> {
    let facts = Facts::new(c);
    RULES
        .iter()
        .filter(|(_, rule)| rule(c, ctx, &facts).is_some())
        .map(|(name, _)| *name)
        .collect()
}

/// Sets the warnings of `v`, `c`'s verdict by [`classify_without_warnings`].
pub fn add_warnings(c: &Connection, v: &mut Verdict) {
    v.warnings = super::warnings::warnings(c, v);
}

/// What several rules look at, worked out once per connection.
pub struct Facts {
    /// The SYNs, when the client's SYN got no SYN/ACK and no data came back
    /// (the connections of the `syn_*` rules).
    syns: Option<Syns>,
    /// The client's first close: its FIN or RST, whichever came first.
    client_close: Option<(Event, &'static str)>,
    /// The server's FIN.
    server_fin: Option<Event>,
    /// A request (or ClientHello) left without an answer, for the last
    /// three rules; worked out when one of them first asks.
    wait: OnceCell<Option<Wait>>,
}

/// The SYNs of a connection whose SYN got no answer.
struct Syns {
    first: Event,
    last: Event,
    /// Every SYN: the first, the retries and the last.
    all: Vec<Event>,
}

impl Syns {
    /// The SYN an answer at `at` answered: the latest sent before it.
    fn answered_by(&self, at: Event) -> Event {
        self.all
            .iter()
            .copied()
            .rfind(|e| e.ts <= at.ts)
            .unwrap_or(self.first)
    }
}

/// A request or ClientHello waiting for its answer.
#[derive(Clone, Copy)]
struct Wait {
    /// `AwaitingResponse` or `TlsHandshake`.
    stage: Stage,
    /// The client's close that ended the wait (not after a server FIN);
    /// `None`: the capture ended it.
    end: Option<(Event, &'static str)>,
    /// From the last progress to the end.
    waited: i64,
}

impl Facts {
    fn new(c: &Connection) -> Facts {
        let syns = match c.handshake.first_syn {
            Some(first) if c.handshake.synack.is_none() && c.s2c().first_payload.is_none() => {
                Some(Syns {
                    first,
                    last: c.handshake.last_syn.unwrap_or(first),
                    all: syn_events(c),
                })
            }
            _ => None,
        };
        Facts {
            syns,
            client_close: close_event(c, Dir::ClientToServer),
            server_fin: c.s2c().fin,
            wait: OnceCell::new(),
        }
    }

    /// The server's FIN, when the client had not closed before it.
    fn server_fin_first(&self) -> Option<Event> {
        self.server_fin
            .filter(|fin| !before(self.client_close.map(|x| x.0), Some(*fin)))
    }

    /// The request or ClientHello left waiting, if one was: the client
    /// closed (not after a FIN from the server), or the connection was
    /// still open at the end of the capture (no FIN from the server, no
    /// RST); worked out once.
    fn wait(&self, c: &Connection, ctx: &Context) -> Option<Wait> {
        *self.wait.get_or_init(|| {
            let end = self
                .client_close
                .filter(|(e, _)| !before(self.server_fin, Some(*e)));
            let t_end = end.map(|x| x.0.ts).unwrap_or(ctx.capture_end);
            let stage = phase_at(c, t_end);
            let outstanding = matches!(stage, Stage::AwaitingResponse | Stage::TlsHandshake);
            if !outstanding || (end.is_none() && (self.server_fin.is_some() || c.rst.is_some())) {
                return None;
            }
            let waited = last_progress(c).map(|p| since(p.ts, t_end)).unwrap_or(0);
            Some(Wait { stage, end, waited })
        })
    }
}

// The rules, in the order of `RULES`.

/// The SYN is answered by ICMP administratively prohibited, port or
/// protocol unreachable, or another unreachable code: a REJECT rule.
fn syn_icmp_reject(c: &Connection, _: &Context, f: &Facts) -> Option<Verdict> {
    let syns = f.syns.as_ref()?;
    let icmp = c.icmp?;
    match icmp.kind {
        IcmpErrorKind::AdminProhibited
        | IcmpErrorKind::PortUnreachable
        | IcmpErrorKind::ProtocolUnreachable
        | IcmpErrorKind::OtherUnreachable => {
            Some(syn_icmp(c, syns, &icmp, VerdictKind::FirewallDrop))
        }
        _ => None,
    }
}

/// The SYN is answered by ICMP host or network unreachable.
fn syn_icmp_unreachable(c: &Connection, _: &Context, f: &Facts) -> Option<Verdict> {
    let syns = f.syns.as_ref()?;
    let icmp = c.icmp?;
    match icmp.kind {
        IcmpErrorKind::HostUnreachable | IcmpErrorKind::NetUnreachable => {
            Some(syn_icmp(c, syns, &icmp, VerdictKind::ServiceDown))
        }
        _ => None,
    }
}

/// The two ICMP rules' verdict.
fn syn_icmp(c: &Connection, syns: &Syns, icmp: &IcmpInfo, kind: VerdictKind) -> Verdict {
    // Medium when the ICMP does not quote the SYN's sequence number.
    let conf = if icmp.quotes_syn {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let mut v = verdict(kind, Some(Stage::Syn), conf);
    v.blocked_by = Some(explain::icmp_blocked_by(icmp));
    v.explanation = explain::syn_icmp(c, icmp, since(syns.last.ts, icmp.at.ts));
    push_syn_evidence(&mut v, syns);
    v.evidence.push(ev(
        icmp.at,
        &icmp.sender.to_string(),
        explain::icmp_quoting_syn(icmp),
    ));
    v
}

/// The SYN is answered by an RST whose TTL differs from the TTL of the same
/// address's SYN/ACKs in other connections: a firewall on the path forged
/// it.
fn syn_forged_rst(c: &Connection, _: &Context, f: &Facts) -> Option<Verdict> {
    let syns = f.syns.as_ref()?;
    let rst = c.s2c().rst?;
    let server_ttl = rst.other_conn_ttl.filter(|&t| t != rst.ttl)?;
    let mut v = verdict(
        VerdictKind::FirewallDrop,
        Some(Stage::Syn),
        Confidence::Medium,
    );
    v.reset_by = Some(ResetBy::Middlebox);
    v.blocked_by = Some(explain::forged_rst_blocked_by(c, &rst, server_ttl));
    let after = since(syns.answered_by(rst.at).ts, rst.at.ts);
    v.explanation = explain::syn_forged_rst(c, &rst, server_ttl, after);
    push_syn_evidence(&mut v, syns);
    v.evidence
        .push(ev(rst.at, "server", explain::forged_rst(&rst, server_ttl)));
    Some(v)
}

/// The SYN is answered by RST (not a forged one: `syn_forged_rst` came
/// first): nothing listens.
fn syn_refused(c: &Connection, _: &Context, f: &Facts) -> Option<Verdict> {
    let syns = f.syns.as_ref()?;
    let rst = c.s2c().rst?;
    let acks_syn = rst.flags.ack() && c.c2s().isn.is_some_and(|isn| isn.plus(1).0 == rst.ack);
    let conf = if acks_syn {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let mut v = verdict(VerdictKind::ServiceDown, Some(Stage::Syn), conf);
    v.reset_by = Some(ResetBy::Server);
    let after = since(syns.answered_by(rst.at).ts, rst.at.ts);
    v.explanation = explain::syn_refused(c, &rst, after);
    push_syn_evidence(&mut v, syns);
    v.evidence
        .push(ev(rst.at, "server", explain::refusing_rst(&rst)));
    Some(v)
}

/// No SYN/ACK, RST or ICMP came back, and the capture saw at least 1 s
/// after the first SYN: the SYNs are silently dropped.
fn syn_unanswered(c: &Connection, ctx: &Context, f: &Facts) -> Option<Verdict> {
    let syns = f.syns.as_ref()?;
    let waited = since(syns.first.ts, ctx.capture_end);
    if waited < SYN_UNANSWERED_NS {
        return None;
    }
    let conf = match c.handshake.syn_count {
        0 | 1 => Confidence::Low,
        2 => Confidence::Medium,
        _ => Confidence::High,
    };
    let mut v = verdict(VerdictKind::FirewallDrop, Some(Stage::Syn), conf);
    v.explanation = explain::syn_unanswered(
        c,
        (syns.first, syns.last),
        &syns.all,
        waited,
        f.client_close.map(|x| x.0),
        ctx.capture_end,
    );
    for (i, s) in syns.all.iter().enumerate() {
        v.evidence
            .push(ev(*s, "client", explain::syn_try(i, syns.first, *s)));
    }
    Some(v)
}

/// As `syn_unanswered`, but the capture ended less than 1 s after the
/// first SYN.
fn syn_too_soon(c: &Connection, ctx: &Context, f: &Facts) -> Option<Verdict> {
    let syns = f.syns.as_ref()?;
    let waited = since(syns.first.ts, ctx.capture_end);
    if waited >= SYN_UNANSWERED_NS {
        return None;
    }
    let mut v = verdict(
        VerdictKind::Incomplete,
        Some(Stage::Syn),
        Confidence::Medium,
    );
    v.explanation = explain::syn_too_soon(c, syns.first, waited);
    v.evidence.push(ev(syns.first, "client", "SYN"));
    Some(v)
}

/// A fatal TLS alert sent in the clear, i.e. during the handshake: the
/// server (or something on the path speaking for it) refused the
/// handshake, or the client refused the server's certificate — what a
/// TLS-inspecting proxy whose CA the client does not trust causes.
fn tls_alert(c: &Connection, _: &Context, _: &Facts) -> Option<Verdict> {
    let app = c.app.as_deref()?;
    let hello = app.client_hello()?;
    let fatal = |dir: Dir| {
        app.tls(dir)?
            .alerts
            .iter()
            .find(|a| !a.encrypted && a.level == 2)
    };
    // The first fatal alert; the server's when both came in one frame.
    let (dir, alert) = match (fatal(Dir::ServerToClient), fatal(Dir::ClientToServer)) {
        (Some(s), Some(cl)) if cl.at.frame < s.at.frame => (Dir::ClientToServer, cl),
        (Some(s), _) => (Dir::ServerToClient, s),
        (None, Some(cl)) => (Dir::ClientToServer, cl),
        (None, None) => return None,
    };
    let mut v = verdict(
        VerdictKind::MidstreamReset,
        Some(Stage::TlsHandshake),
        Confidence::High,
    );
    // The ClientHello may span segments: `at` is the one that completed it.
    v.evidence
        .push(ev(hello.at, "client", explain::client_hello(hello)));
    let server_tls = app.tls(Dir::ServerToClient);
    if let Some(sh) = server_tls.and_then(|i| i.server_hello.as_ref()) {
        v.evidence.push(ev(sh.at, "server", "ServerHello"));
    }
    match dir {
        Dir::ServerToClient => {
            // An injected RST after the alert: a middlebox refused.
            let injected = c.s2c().rst.filter(rst_injected);
            v.reset_by = Some(if injected.is_some() {
                ResetBy::Middlebox
            } else {
                ResetBy::Server
            });
            v.explanation = explain::server_tls_alert(c, hello, alert, injected.as_ref());
        }
        Dir::ClientToServer => {
            v.reset_by = Some(ResetBy::Client);
            let cert = server_tls.and_then(|i| i.certificate.as_ref());
            if let Some(cert) = cert {
                v.evidence
                    .push(ev(cert.at, "server", explain::certificate(cert)));
            }
            v.explanation = explain::client_tls_alert(hello, alert, cert);
        }
    }
    v.evidence
        .push(ev(alert.at, dir.sender(), explain::tls_alert(alert)));
    Some(v)
}

/// The server's side sent an RST before any FIN from either side (or RST
/// from the client).
fn server_rst(c: &Connection, _: &Context, f: &Facts) -> Option<Verdict> {
    let rst = c.s2c().rst?;
    if before(f.client_close.map(|x| x.0), Some(rst.at)) || before(f.server_fin, Some(rst.at)) {
        return None;
    }
    let stage = phase_at(c, rst.at.ts);
    let injected = rst_injected(&rst);
    // The verdict is certain; who sent the RST is inferred.
    let (reset_by, conf) = if injected {
        (ResetBy::Middlebox, Confidence::Medium)
    } else {
        (ResetBy::Server, Confidence::High)
    };
    let mut v = verdict(VerdictKind::MidstreamReset, Some(stage), conf);
    v.reset_by = Some(reset_by);
    v.explanation = explain::server_rst(c, &rst, stage, injected);
    if let Some(h) = c.handshake.ack {
        v.evidence
            .push(ev(h, "client", "ACK completing the handshake"));
    }
    let first_request = c.c2s().first_payload;
    if let Some(p) = first_request {
        v.evidence.push(ev(
            p,
            "client",
            explain::describe_payload(c, p, "first request data"),
        ));
    }
    if let Some(at) = outstanding_request(c)
        && Some(at) != first_request
    {
        v.evidence.push(ev(
            at,
            "client",
            explain::describe_payload(c, at, "request"),
        ));
    }
    if let Some(p) = c.s2c().first_payload {
        v.evidence.push(ev(p, "server", "first response data"));
    }
    v.evidence
        .push(ev(rst.at, "server", explain::server_rst_packet(&rst)));
    Some(v)
}

/// One side's data was retransmitted at least 3 times over at least 1 s
/// and never acknowledged: the path went silent.
fn established_blackhole(c: &Connection, _: &Context, _: &Facts) -> Option<Verdict> {
    for dir in [Dir::ClientToServer, Dir::ServerToClient] {
        let st = &c.dirs[dir.index()];
        let peer = &c.dirs[dir.reverse().index()];
        let Some(data) = st.unacked_since else {
            continue;
        };
        let retrans = || {
            st.retrans_frames
                .iter()
                .filter(move |(e, k)| e.ts >= data.ts && *k == RetransKind::Retransmission)
                .map(|(e, _)| *e)
        };
        let span = retrans()
            .next_back()
            .map(|l| since(data.ts, l.ts))
            .unwrap_or(0);
        if st.retrans_while_unacked < BLACKHOLE_RETRANS || span < BLACKHOLE_SPAN_NS {
            continue;
        }
        let peer_silent = peer.last_packet.is_none_or(|p| p.ts <= data.ts);
        let conf = if peer_silent {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let mut v = verdict(VerdictKind::FirewallDrop, Some(Stage::Established), conf);
        v.explanation = explain::established_blackhole(
            c,
            dir,
            data,
            st.retrans_while_unacked,
            span,
            peer_silent,
        );
        let who = dir.sender();
        if let Some(h) = c.handshake.ack {
            v.evidence
                .push(ev(h, "client", "ACK completing the handshake"));
        }
        v.evidence.push(ev(data, who, "data, never acknowledged"));
        for (i, r) in retrans().enumerate() {
            v.evidence
                .push(ev(r, who, explain::retransmission(i, data, r)));
        }
        if let Some(p) = peer.last_packet {
            v.evidence.push(ev(
                p,
                dir.reverse().sender(),
                explain::last_packet_from(dir.reverse()),
            ));
        }
        return Some(v);
    }
    None
}

/// One side re-sent data the other had already acknowledged at least 3
/// times over at least 1 s, and sent nothing new: the acknowledgements are
/// lost on the way back, so the path towards the re-sender drops packets.
fn acked_data_resent(c: &Connection, _: &Context, f: &Facts) -> Option<Verdict> {
    for dir in [Dir::ServerToClient, Dir::ClientToServer] {
        let st = &c.dirs[dir.index()];
        let after = st.last_new_payload.map(|e| e.ts).unwrap_or(Ts(i64::MIN));
        let resent = || {
            st.retrans_frames
                .iter()
                .filter(move |(e, k)| *k == RetransKind::Spurious && e.ts >= after)
                .map(|(e, _)| *e)
        };
        let (Some(first), Some(last)) = (resent().next(), resent().next_back()) else {
            continue;
        };
        if (resent().count() as u32) < BLACKHOLE_RETRANS
            || since(first.ts, last.ts) < BLACKHOLE_SPAN_NS
        {
            continue;
        }
        let resent: Vec<Event> = resent().collect();
        let (who, peer) = (dir.sender(), dir.reverse().sender());
        let mut v = verdict(
            VerdictKind::FirewallDrop,
            Some(Stage::Established),
            Confidence::Medium,
        );
        v.explanation = explain::acked_data_resent(dir, &resent);
        if let Some(a) = c.dirs[dir.reverse().index()].ack_advanced {
            v.evidence.push(ev(
                a,
                peer,
                "last ACK of new data (never seen by the other side)",
            ));
        }
        for (i, r) in resent.iter().enumerate() {
            v.evidence
                .push(ev(*r, who, explain::acked_data_resent_again(i)));
        }
        if let Some((e, kind)) = f.client_close {
            v.evidence.push(ev(e, "client", kind));
        }
        return Some(v);
    }
    None
}

/// A receiver advertised a zero window and never reopened it while the
/// other side had data, for at least 1 s before the client gave up, or
/// `--stall-after` before the end of the capture.
fn zero_window(c: &Connection, ctx: &Context, f: &Facts) -> Option<Verdict> {
    let end_ts = f.client_close.map(|x| x.0.ts).unwrap_or(ctx.capture_end);
    let threshold = if f.client_close.is_some() {
        GIVE_UP_NS
    } else {
        ctx.stall_after_ns
    };
    for dir in [Dir::ClientToServer, Dir::ServerToClient] {
        let st = &c.dirs[dir.index()];
        let peer = &c.dirs[dir.reverse().index()];
        let Some(z) = st.zero_window_since else {
            continue;
        };
        let stuck = since(z.ts, end_ts);
        if stuck < threshold || peer.bytes == 0 {
            continue;
        }
        let mut v = verdict(
            VerdictKind::AppStall,
            Some(Stage::ZeroWindow),
            Confidence::High,
        );
        v.explanation = explain::zero_window(c, dir, z, stuck, f.client_close);
        v.evidence.push(ev(z, dir.sender(), "zero window"));
        if let Some(p) = peer.last_packet {
            v.evidence
                .push(ev(p, dir.reverse().sender(), "last packet (probe or data)"));
        }
        if let Some((e, kind)) = f.client_close {
            v.evidence.push(ev(e, "client", kind));
        }
        return Some(v);
    }
    None
}

/// The server closed (FIN, the client had not closed before) without a
/// single byte in answer to a request or a ClientHello.
fn server_fin_before_answer(c: &Connection, _: &Context, f: &Facts) -> Option<Verdict> {
    let fin = f.server_fin_first()?;
    let stage = phase_at(c, fin.ts);
    if !matches!(stage, Stage::AwaitingResponse | Stage::TlsHandshake)
        || c.s2c().first_payload.is_some()
    {
        return None;
    }
    let mut v = verdict(VerdictKind::MidstreamReset, Some(stage), Confidence::Medium);
    v.reset_by = Some(ResetBy::Server);
    v.explanation = explain::server_fin_before_answer(c, fin, stage);
    if let Some(p) = c.c2s().first_payload {
        v.evidence
            .push(ev(p, "client", explain::describe_wait(stage)));
    }
    v.evidence.push(ev(fin, "server", "FIN"));
    Some(v)
}

/// The server closed (FIN, the client had not closed before) short of the
/// `Content-Length` its plaintext HTTP/1.x response announced.
fn server_fin_short_body(c: &Connection, _: &Context, f: &Facts) -> Option<Verdict> {
    let fin = f.server_fin_first()?;
    let (got, want) = c.http_response_short()?;
    let mut v = verdict(
        VerdictKind::MidstreamReset,
        Some(Stage::MidTransfer),
        Confidence::Medium,
    );
    v.reset_by = Some(ResetBy::Server);
    v.explanation = explain::server_fin_short_body(c, fin, got, want);
    push_response_evidence(c, &mut v);
    v.evidence
        .push(ev(fin, "server", "FIN before the end of the response"));
    Some(v)
}

/// A plaintext HTTP/1.x response stopped short of its `Content-Length`
/// (no server FIN before the client's close, no server RST); the client
/// gave up after at least 1 s without data, or the capture ended
/// `--stall-after` or more after the last data.
fn short_body_stall(c: &Connection, ctx: &Context, f: &Facts) -> Option<Verdict> {
    let (got, want) = c.http_response_short()?;
    if before(f.server_fin, f.client_close.map(|x| x.0)) || c.s2c().rst.is_some() {
        return None;
    }
    let t_end = f.client_close.map(|x| x.0.ts).unwrap_or(ctx.capture_end);
    let waited = last_progress(c).map(|p| since(p.ts, t_end)).unwrap_or(0);
    let conf = match f.client_close {
        Some(_) if waited < GIVE_UP_NS => return None,
        Some(_) if waited >= ctx.stall_after_ns => Confidence::High,
        Some(_) => Confidence::Medium,
        // Data was still flowing when the capture ended: still active.
        None if waited < ctx.stall_after_ns => return None,
        None => Confidence::Medium,
    };
    let mut v = verdict(VerdictKind::AppStall, Some(Stage::MidTransfer), conf);
    v.explanation = explain::short_body_stall(c, got, want, waited, f.client_close);
    push_response_evidence(c, &mut v);
    if let Some((e, kind)) = f.client_close {
        v.evidence.push(ev(e, "client", explain::gives_up(kind)));
    }
    Some(v)
}

/// A request (or ClientHello) got no response byte, and the client gave up
/// (FIN or RST) after at least 1 s of silence.
fn client_gave_up_waiting(c: &Connection, ctx: &Context, f: &Facts) -> Option<Verdict> {
    let w = f.wait(c, ctx)?;
    let (e, kind) = w.end?;
    if w.waited < GIVE_UP_NS {
        return None;
    }
    let conf = if w.waited >= ctx.stall_after_ns {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let mut v = verdict(VerdictKind::AppStall, Some(w.stage), conf);
    v.explanation = explain::request_stall(c, w.stage, w.waited, w.end);
    push_wait_evidence(c, &mut v, w.stage);
    v.evidence.push(ev(e, "client", explain::gives_up(kind)));
    Some(v)
}

/// The same, still waiting when the capture ended, `--stall-after` or more
/// after the request.
fn awaiting_response_stall(c: &Connection, ctx: &Context, f: &Facts) -> Option<Verdict> {
    let w = f.wait(c, ctx)?;
    if w.end.is_some() || w.waited < ctx.stall_after_ns {
        return None;
    }
    let mut v = verdict(VerdictKind::AppStall, Some(w.stage), Confidence::Medium);
    v.explanation = explain::request_stall(c, w.stage, w.waited, None);
    push_wait_evidence(c, &mut v, w.stage);
    Some(v)
}

/// The same, but the capture ended sooner than `--stall-after`.
fn awaiting_response_too_soon(c: &Connection, ctx: &Context, f: &Facts) -> Option<Verdict> {
    let w = f.wait(c, ctx)?;
    if w.end.is_some() || w.waited >= ctx.stall_after_ns {
        return None;
    }
    let mut v = verdict(VerdictKind::Incomplete, Some(w.stage), Confidence::Medium);
    v.explanation = explain::awaiting_response_too_soon(c, w.stage, w.waited, ctx.stall_after_ns);
    push_wait_evidence(c, &mut v, w.stage);
    Some(v)
}

// What the rules share.

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

/// `a` came before `b` (by time, then frame); a missing `b` never came.
fn before(a: Option<Event>, b: Option<Event>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x.ts < y.ts || (x.ts == y.ts && x.frame < y.frame),
        (Some(_), None) => true,
        _ => false,
    }
}

/// All SYNs the client sent, as events (first, retries and last).
fn syn_events(c: &Connection) -> Vec<Event> {
    let mut v = Vec::new();
    if let Some(s) = c.handshake.first_syn {
        v.push(s);
    }
    for (e, _) in &c.c2s().retrans_frames {
        if c.handshake.synack.is_none_or(|sa| e.ts <= sa.ts)
            && Some(*e) != c.handshake.first_syn
            && is_syn_time(c, *e)
        {
            v.push(*e);
        }
    }
    if let Some(l) = c.handshake.last_syn
        && !v.contains(&l)
    {
        v.push(l);
    }
    v
}

fn is_syn_time(c: &Connection, e: Event) -> bool {
    // Retransmissions before any client payload and before the handshake
    // completed are SYN retries.
    c.handshake.ack.is_none_or(|a| e.ts < a.ts) && c.c2s().first_payload.is_none_or(|p| e.ts < p.ts)
}

/// An RST from the server's side whose TTL differs from the server's own
/// earlier packets: a middlebox (fewer or more hops away) injected it.
/// Not when the server sent nothing before.
fn rst_injected(rst: &RstInfo) -> bool {
    rst.prior_ttl.is_some_and(|p| p != rst.ttl)
}

/// The request left without a response.
fn outstanding_request(c: &Connection) -> Option<Event> {
    Some(c.app.as_deref()?.outstanding_request()?.at)
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

/// `dir`'s first close, FIN or RST, and which.
fn close_event(c: &Connection, dir: Dir) -> Option<(Event, &'static str)> {
    let fin = c.dirs[dir.index()].fin.map(|e| (e, "FIN"));
    let rst = c.dirs[dir.index()].rst.map(|r| (r.at, "RST"));
    match (fin, rst) {
        (Some(f), Some(r)) => Some(if r.0.ts < f.0.ts { r } else { f }),
        (f, r) => f.or(r),
    }
}

fn push_syn_evidence(v: &mut Verdict, syns: &Syns) {
    for s in &syns.all {
        v.evidence.push(ev(*s, "client", "SYN"));
    }
}

fn push_response_evidence(c: &Connection, v: &mut Verdict) {
    if let Some(p) = c.c2s().first_payload {
        v.evidence
            .push(ev(p, "client", explain::describe_payload(c, p, "request")));
    }
    if let (Some(p), Some(h)) = (c.s2c().first_payload, c.http_response) {
        v.evidence
            .push(ev(p, "server", explain::http_response_head(&h)));
    }
    if let Some(p) = c.s2c().last_new_payload {
        v.evidence.push(ev(p, "server", "last response data"));
    }
}

fn push_wait_evidence(c: &Connection, v: &mut Verdict, stage: Stage) {
    if let Some(h) = c.handshake.ack {
        v.evidence
            .push(ev(h, "client", "ACK completing the handshake"));
    }
    if let Some(at) = outstanding_request(c) {
        v.evidence.push(ev(
            at,
            "client",
            explain::describe_payload(c, at, "request"),
        ));
    } else if let Some(p) = c.c2s().last_new_payload.or(c.c2s().first_payload) {
        v.evidence.push(ev(
            p,
            "client",
            explain::describe_payload(c, p, explain::describe_wait(stage)),
        ));
    }
    if let Some(a) = c.s2c().ack_advanced {
        v.evidence.push(ev(a, "server", explain::ack_of(stage)));
    }
    if let Some(sp) = c.s2c().last_new_payload {
        v.evidence.push(ev(sp, "server", "last response data"));
    }
}
