//! Problems that did not make a connection fail, added to every verdict:
//! SYN retries, retransmissions, a slow first byte, zero windows, a closing
//! RST and ICMP errors.

use super::explain::{human_ns, icmp_desc, since};
use super::{Stage, Verdict, VerdictKind};
use crate::flows::{Connection, Dir, SeqNum};

/// A first byte later than this is worth a warning.
const SLOW_TTFB_NS: i64 = 1_000_000_000;

pub(super) fn warnings(c: &Connection, v: &Verdict) -> Vec<String> {
    let mut w = Vec::new();
    if c.client_inferred {
        w.push(
            "capture started mid-connection: client and server guessed from the ports".to_string(),
        );
    }
    if c.handshake.syn_count > 1 && c.handshake.synack.is_some() {
        w.push(format!(
            "SYN sent {} times before the SYN/ACK (handshake took {})",
            c.handshake.syn_count,
            c.handshake
                .ack
                .zip(c.handshake.first_syn)
                .map(|(a, s)| human_ns(since(s.ts, a.ts)))
                .unwrap_or_else(|| "?".into())
        ));
    }
    let (rc, rs) = (c.c2s().retransmissions, c.s2c().retransmissions);
    let syn_retries = if c.handshake.synack.is_some() {
        c.handshake.syn_count.saturating_sub(1)
    } else {
        0
    };
    let data_rc = rc.saturating_sub(syn_retries);
    if v.kind == VerdictKind::Ok && (data_rc > 0 || rs > 0) {
        let pk = c.c2s().packets + c.s2c().packets;
        // Spurious retransmissions are not loss on the way out.
        let real = data_rc.saturating_sub(c.c2s().spurious_retransmissions)
            + rs.saturating_sub(c.s2c().spurious_retransmissions);
        let heavy = u64::from(real).saturating_mul(10) >= pk.max(1);
        w.push(format!(
            "{}{} retransmissions client→server, {} server→client",
            if heavy { "heavy loss: " } else { "" },
            data_rc,
            rs
        ));
    }
    if let (Some(req), Some(resp)) = (c.c2s().first_payload, c.s2c().first_payload) {
        let ttfb = since(req.ts, resp.ts);
        if ttfb >= SLOW_TTFB_NS {
            w.push(format!(
                "slow response: first byte {} after the request",
                human_ns(ttfb)
            ));
        }
    }
    for dir in [Dir::ClientToServer, Dir::ServerToClient] {
        let st = &c.dirs[dir.index()];
        if st.zero_windows > 0 && v.stage != Some(Stage::ZeroWindow) {
            w.push(format!(
                "the {} advertised a zero window {} time(s){}",
                dir.sender(),
                st.zero_windows,
                if st.zero_window_since.is_none() {
                    " and reopened it"
                } else {
                    ""
                }
            ));
        }
    }
    if v.kind == VerdictKind::Ok
        && let Some(rst) = c.rst
    {
        // Unfinished: the response is short of its announced length, or the
        // server had sent data beyond what the RST acknowledges.
        let short = c.http_response_short();
        let in_flight = rst.flags.ack()
            && c.s2c().next_seq.is_some_and(|n| {
                let fin = u32::from(c.s2c().fin.is_some());
                SeqNum(rst.ack) < n.plus(0u32.wrapping_sub(fin))
            });
        let aborted = rst.dir == Dir::ClientToServer
            && c.s2c().fin.is_none_or(|f| f.ts > rst.at.ts)
            && c.s2c().first_payload.is_some()
            && (short.is_some() || in_flight);
        if aborted {
            let got = match short {
                Some((got, want)) => format!("{got} of the {want} bytes the response announced"),
                None => format!(
                    "{} bytes received, more in flight",
                    c.server_bytes_in_sequence().unwrap_or(c.s2c().bytes)
                ),
            };
            w.push(format!(
                "the client aborted the transfer with an RST (frame {}) while the server was still sending ({got}): its own timeout or a cancel",
                rst.at.frame
            ));
        } else {
            w.push(format!(
                "closed with an RST from the {} (frame {})",
                rst.dir.sender(),
                rst.at.frame
            ));
        }
    }
    if let Some(icmp) = c.icmp
        && v.blocked_by.is_none()
    {
        w.push(format!(
            "ICMP {} from {} (frame {})",
            icmp_desc(icmp.kind),
            icmp.sender,
            icmp.at.frame
        ));
    }
    w
}
