//! Verdict rules: every connection gets exactly one verdict, and every
//! verdict other than `ok` carries a stage, evidence (frame numbers, times,
//! who sent what), a one-line explanation and a confidence.
//!
//! The rules are pure functions of a [`Connection`](crate::flows::Connection) and a
//! [`Context`] (the capture's end time, the stall threshold). They are
//! listed, in the order they are applied, in one table: `RULES` in
//! `verdict/rules.rs`, one short function per rule; the first rule that
//! matches decides, and a connection no rule matches is `ok`. The README's
//! table of verdicts (section *Verdicts*) describes each rule in a row named
//! after it, in the same order; a test keeps the two in step. The words of
//! the explanations and evidence are in `verdict/explain.rs`, the warnings
//! in `verdict/warnings.rs`.

mod explain;
mod rules;
mod warnings;

pub use explain::{server_label, server_name, server_name_and_source};
pub use rules::{add_warnings, classify, classify_without_warnings};

use crate::time::Ts;
use serde::Serialize;

/// A SYN unanswered for this long was dropped: every common stack retries a
/// SYN after 1 s (Linux, Windows and macOS initial RTO), so a capture that
/// saw that much silence saw the drop.
pub(crate) const SYN_UNANSWERED_NS: i64 = 1_000_000_000;

/// The outcome of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Ok,
    FirewallDrop,
    ServiceDown,
    AppStall,
    MidstreamReset,
    Incomplete,
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 6] = [
        VerdictKind::Ok,
        VerdictKind::FirewallDrop,
        VerdictKind::ServiceDown,
        VerdictKind::AppStall,
        VerdictKind::MidstreamReset,
        VerdictKind::Incomplete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Ok => "ok",
            VerdictKind::FirewallDrop => "firewall_drop",
            VerdictKind::ServiceDown => "service_down",
            VerdictKind::AppStall => "app_stall",
            VerdictKind::MidstreamReset => "midstream_reset",
            VerdictKind::Incomplete => "incomplete",
        }
    }

    /// A connection that failed (for `--fail-on-failure`): not ok, and not
    /// merely cut off by the end of the capture.
    pub fn is_failure(self) -> bool {
        !matches!(self, VerdictKind::Ok | VerdictKind::Incomplete)
    }
}

/// Where in its life the connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Connection set-up: SYN sent, no SYN/ACK.
    Syn,
    /// After the handshake, at the transport level (path went silent).
    Established,
    /// Handshake done, the client has not sent anything yet.
    AfterHandshake,
    /// TLS ClientHello sent, no answer.
    TlsHandshake,
    /// Request sent, no response byte.
    AwaitingResponse,
    /// The response started, then stopped.
    MidTransfer,
    /// A receiver advertised a zero window and never reopened it.
    ZeroWindow,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Syn => "syn",
            Stage::Established => "established",
            Stage::AfterHandshake => "after_handshake",
            Stage::TlsHandshake => "tls_handshake",
            Stage::AwaitingResponse => "awaiting_response",
            Stage::MidTransfer => "mid_transfer",
            Stage::ZeroWindow => "zero_window",
        }
    }
}

/// Which side sent a reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetBy {
    Client,
    Server,
    /// An RST with the server's address whose TTL differs from the server's
    /// earlier packets: most likely injected by a firewall or proxy on the
    /// path.
    Middlebox,
}

/// How sure the rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

impl Confidence {
    /// `high`, `medium` or `low`, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

/// One packet a human would cite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Frame number, as Wireshark numbers it.
    pub frame: u64,
    #[serde(skip)]
    pub ts: Ts,
    /// `client`, `server`, or the address of a third party (an ICMP sender).
    pub from: String,
    /// What the packet was or showed.
    pub what: String,
}

/// The verdict for one connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub stage: Option<Stage>,
    pub reset_by: Option<ResetBy>,
    /// For an ICMP reject: who rejected, and with what type/code.
    pub blocked_by: Option<String>,
    pub explanation: String,
    pub confidence: Option<Confidence>,
    pub evidence: Vec<Evidence>,
    /// Problems that did not make the connection fail (SYN retries,
    /// retransmissions, slow answers, guessed client).
    pub warnings: Vec<String>,
}

/// What the rules need besides the connection.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Timestamp of the capture's last packet.
    pub capture_end: Ts,
    /// Silence after which an open connection with a request outstanding is
    /// a stall (`--stall-after`).
    pub stall_after_ns: i64,
}

impl Context {
    pub const DEFAULT_STALL_AFTER_NS: i64 = 5_000_000_000;
}

#[cfg(test)]
mod tests;

/// Quiet time after a close (RST or both FINs) before a connection's
/// verdict is final: a refused SYN may still be retried, a FIN re-sent.
pub const CLOSE_GRACE_NS: i64 = 1_000_000_000;

/// Whether a connection's verdict can no longer change at capture time
/// `ctx.capture_end`, for streaming (live) reports:
/// - closed (RST, or FIN both ways) and quiet for [`CLOSE_GRACE_NS`];
/// - SYNs unanswered, and the client has stopped retrying: no SYN for
///   `stall_after` and for twice its last retry gap plus a second (the
///   next retry of an exponential backoff would have come by then);
/// - established with a request outstanding, a zero window or data
///   unacknowledged, and silent for `stall_after` (the stall deadline).
pub fn is_final(c: &crate::flows::Connection, ctx: &Context) -> bool {
    let now = ctx.capture_end;
    let quiet = now.nanos_since(c.last.ts);
    if c.is_closed() {
        return quiet >= CLOSE_GRACE_NS;
    }
    if c.handshake.synack.is_none()
        && c.s2c().packets == 0
        && let Some(last) = c.handshake.last_syn
    {
        let gap = c
            .handshake
            .prev_syn
            .map_or(0, |p| last.ts.nanos_since(p.ts));
        let wait = ctx
            .stall_after_ns
            .max(gap.saturating_mul(2) + 1_000_000_000);
        return now.nanos_since(last.ts) >= wait;
    }
    if quiet >= ctx.stall_after_ns {
        let v = classify(c, ctx);
        return v.kind != VerdictKind::Ok && v.kind != VerdictKind::Incomplete;
    }
    false
}
