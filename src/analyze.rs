//! The pipeline for saved captures: source → decode → flows → verdict →
//! report model.

use crate::decode::{self, Decoded, OtherKind, link};
use crate::flows::{Event, FlowTable};
use crate::report::{CaptureInfo, Report, Summary, connection_report};
use crate::source::{PacketSource, SourceError};
use crate::time::Ts;
use crate::verdict::{self, Context, VerdictKind};
use std::collections::BTreeSet;

/// Analysis settings.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Silence after which a request left waiting at the end of the capture
    /// is a stall.
    pub stall_after_ns: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            stall_after_ns: Context::DEFAULT_STALL_AFTER_NS,
        }
    }
}

/// Reads every frame of `src` and returns the report for it.
///
/// Fails only when the source cannot be read at all; a capture cut short
/// yields the report of what was read, with a warning.
pub fn analyze(
    src: &mut dyn PacketSource,
    name: &str,
    opts: &Options,
) -> Result<Report, SourceError> {
    let mut table = FlowTable::new();
    let mut summary = Summary::default();
    let mut link_types = BTreeSet::new();
    let mut first_ts: Option<Ts> = None;
    let mut last_ts: Option<Ts> = None;
    let mut max_ts: Option<Ts> = None;
    let mut extra_warnings = Vec::new();

    loop {
        let frame = match src.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if summary.packets > 0 => {
                extra_warnings.push(format!(
                    "stopped reading after frame {}: {e}",
                    summary.packets
                ));
                break;
            }
            Err(e) => return Err(e),
        };
        summary.packets += 1;
        first_ts.get_or_insert(frame.ts);
        last_ts = Some(frame.ts);
        max_ts = Some(max_ts.map_or(frame.ts, |m| m.max(frame.ts)));
        link_types.insert(frame.linktype);
        let at = Event {
            frame: frame.number,
            ts: frame.ts,
        };
        match decode::decode_frame(&frame) {
            Ok(Decoded::Tcp(seg)) => {
                if seg.options_truncated {
                    summary.tcp_options_truncated += 1;
                }
                table.on_tcp(&seg, at);
            }
            Ok(Decoded::IcmpError(err)) => table.on_icmp(&err, at),
            Ok(Decoded::Other(kind)) => {
                let k = match kind {
                    OtherKind::NonIp => "non-IP",
                    OtherKind::Udp => "UDP",
                    OtherKind::Icmp => "ICMP",
                    OtherKind::OtherIpProto => "other IP protocol",
                };
                *summary.other_packets.entry(k).or_insert(0) += 1;
            }
            Err(e) => {
                let key = match e {
                    decode::DecodeError::UnsupportedLinkType(l) => format!("{} {l}", e.reason()),
                    _ => e.reason().to_string(),
                };
                *summary.not_decoded.entry(key).or_insert(0) += 1;
            }
        }
    }

    let start = first_ts.unwrap_or_default();
    let end = max_ts.unwrap_or_default();
    let ctx = Context {
        capture_end: end,
        stall_after_ns: opts.stall_after_ns,
    };
    let stats = table.stats.clone();
    let conns = table.into_connections();
    let mut reports = Vec::with_capacity(conns.len());
    for k in VerdictKind::ALL {
        summary.verdicts.insert(k.as_str(), 0);
    }
    for c in &conns {
        let v = verdict::classify(c, &ctx);
        *summary.verdicts.entry(v.kind.as_str()).or_insert(0) += 1;
        if v.kind.is_failure() {
            summary.failed += 1;
        }
        reports.push(connection_report(c, &v, start, end));
    }
    summary.connections = conns.len() as u64;
    summary.tcp_packets = stats.tcp_packets;
    summary.icmp_errors = stats.icmp_errors;
    summary.icmp_unmatched = stats.icmp_unmatched;

    let mut warnings: Vec<String> = src.warnings().to_vec();
    warnings.extend(extra_warnings);
    let _ = last_ts;
    Ok(Report {
        capture: CaptureInfo {
            file: name.to_string(),
            format: src.format(),
            link_types: link_types
                .iter()
                .map(|l| match link::name(*l) {
                    "unknown" => format!("LINKTYPE {l}"),
                    n => n.to_string(),
                })
                .collect(),
            first_packet_time: first_ts.map(|t| t.rfc3339()),
            last_packet_time: max_ts.map(|t| t.rfc3339()),
            span_ms: end.ms_since(start),
            warnings,
        },
        connections: reports,
        summary,
    })
}
