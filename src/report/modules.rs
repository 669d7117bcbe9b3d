//! `--modules`: the Go module view. Connections to module proxies and
//! checksum databases (and the DNS queries for their names) grouped per
//! host: every attempt, the first failure, and the outcome.

use super::{ConnectionReport, DnsReport, Report, sanitize};
use crate::verdict::VerdictKind;
use std::io::{self, Write};

/// One module host and what happened to it.
#[derive(Debug)]
pub struct HostView<'a> {
    pub host: String,
    pub dns: Vec<&'a DnsReport>,
    pub conns: Vec<&'a ConnectionReport>,
}

/// How the attempts on a host ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Some attempts failed, the last one worked.
    Recovered,
    Failed,
    /// Cut off by the end of the capture.
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Recovered => "ok after failures",
            Outcome::Failed => "FAILED",
            Outcome::Unknown => "unknown (capture ended)",
        }
    }
}

impl HostView<'_> {
    pub fn outcome(&self) -> Outcome {
        let dns_failed = self.dns.iter().any(|d| d.is_failure());
        let last = self.conns.iter().max_by_key(|c| c.first_frame);
        // An authentication gateway's 401/403/407 is ok for TCP, not for
        // the fetch.
        let failed = |c: &ConnectionReport| c.verdict.is_failure() || c.auth_required.is_some();
        let any_failed = dns_failed || self.conns.iter().any(|c| failed(c));
        match last {
            None if dns_failed => Outcome::Failed,
            None => Outcome::Unknown,
            Some(c) if c.verdict == VerdictKind::Incomplete => Outcome::Unknown,
            Some(c) if failed(c) => Outcome::Failed,
            Some(_) if any_failed => Outcome::Recovered,
            Some(_) => Outcome::Ok,
        }
    }

    /// The frame where the first failure began, and what it was.
    pub fn first_failure(&self) -> Option<(u64, String)> {
        let c = self
            .conns
            .iter()
            .filter(|c| c.verdict.is_failure() || c.auth_required.is_some())
            .map(|c| {
                let what = match c.auth_required {
                    Some(s) if !c.verdict.is_failure() => format!("auth_required (HTTP {s})"),
                    _ => format!(
                        "{}/{}",
                        c.verdict.as_str(),
                        c.stage.map(|s| s.as_str()).unwrap_or("-")
                    ),
                };
                (c.first_frame, format!("#{} {what}", c.id))
            });
        let d = self.dns.iter().filter(|d| d.is_failure()).map(|d| {
            (
                d.first_frame,
                format!("DNS {} {} {}", d.name, d.qtype, d.outcome.as_str()),
            )
        });
        c.chain(d).min_by_key(|x| x.0)
    }

    fn first_frame(&self) -> u64 {
        let c = self.conns.iter().map(|c| c.first_frame);
        let d = self.dns.iter().map(|d| d.first_frame);
        c.chain(d).min().unwrap_or(0)
    }
}

/// Groups the module-related connections and DNS queries of `report` by
/// host, in order of first appearance.
pub fn module_hosts(report: &Report) -> Vec<HostView<'_>> {
    let mut hosts: Vec<HostView<'_>> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    fn slot<'a, 'b>(
        hosts: &'b mut Vec<HostView<'a>>,
        index: &mut std::collections::HashMap<String, usize>,
        host: &str,
    ) -> &'b mut HostView<'a> {
        let i = *index.entry(host.to_string()).or_insert_with(|| {
            hosts.push(HostView {
                host: host.to_string(),
                dns: Vec::new(),
                conns: Vec::new(),
            });
            hosts.len() - 1
        });
        &mut hosts[i]
    }
    for c in report.connections.iter().filter(|c| c.module_fetch) {
        let host = c
            .server_name
            .clone()
            .unwrap_or_else(|| crate::decimal::ip_string(c.server_ip));
        slot(&mut hosts, &mut index, &host).conns.push(c);
    }
    // DNS queries for those hosts, and for any known module host.
    for d in &report.dns {
        if index.contains_key(&d.name) || d.module_host {
            slot(&mut hosts, &mut index, &d.name).dns.push(d);
        }
    }
    hosts.sort_by_key(|h| h.first_frame());
    hosts
}

/// How the module fetches ended, all hosts together: what happened last
/// decides. The go command moves on to the next proxy after a failure, so
/// a failure followed by a success elsewhere is recovered; but a failure
/// after the last success (the checksum database, once the module came
/// from a proxy) is where the fetch stopped.
pub fn overall(hosts: &[HostView<'_>]) -> String {
    let mut last_ok: Option<(u64, &str)> = None;
    let mut last_fail: Option<(u64, String)> = None;
    for h in hosts {
        for c in &h.conns {
            if c.verdict.is_failure() || c.auth_required.is_some() {
                let what = match c.auth_required {
                    Some(s) if !c.verdict.is_failure() => {
                        format!("#{} to {} (HTTP {s})", c.id, h.host)
                    }
                    _ => format!("#{} to {} ({})", c.id, h.host, c.verdict.as_str()),
                };
                if last_fail.as_ref().is_none_or(|(f, _)| c.first_frame > *f) {
                    last_fail = Some((c.first_frame, what));
                }
            } else if c.verdict == VerdictKind::Ok {
                // When it last worked: its last successful HTTP answer (a
                // kept-alive connection closes long after), else its end.
                let at = c
                    .http
                    .iter()
                    .filter(|x| x.status.is_some_and(|s| (200..300).contains(&s)))
                    .filter_map(|x| x.status_frame)
                    .max()
                    .unwrap_or(c.last_frame);
                if last_ok.is_none_or(|(f, _)| at > f) {
                    last_ok = Some((at, h.host.as_str()));
                }
            }
        }
        for d in h.dns.iter().filter(|d| d.is_failure()) {
            if last_fail.as_ref().is_none_or(|(f, _)| d.first_frame > *f) {
                last_fail = Some((
                    d.first_frame,
                    format!("DNS {} {}", d.name, d.outcome.as_str()),
                ));
            }
        }
    }
    match (last_ok, last_fail) {
        (Some(_), None) => "ok".to_string(),
        (Some((ok_at, host)), Some((fail_at, _))) if ok_at > fail_at => {
            format!("ok through {host} after failures")
        }
        (_, Some((at, what))) => {
            format!("FAILED: the last attempt, {what} at frame {at}, failed")
        }
        (None, None) => "unknown (the capture ended first)".to_string(),
    }
}

/// Writes the module view.
pub fn write_modules(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let cap = &report.capture;
    writeln!(out, "{} — {}", sanitize(&cap.file), sanitize(&cap.format))?;
    let hosts = module_hosts(report);
    if hosts.is_empty() {
        writeln!(
            out,
            "\nNo Go module fetches: no connection to a module proxy or checksum database \
             (by DNS name, TLS SNI, HTTP Host or /@v/ path). --goproxy adds hosts."
        )?;
        return out.flush();
    }
    writeln!(out, "\nGo module fetches by host")?;
    for (i, h) in hosts.iter().enumerate() {
        let outcome = h.outcome();
        write!(
            out,
            "\n{} — {} ({} connection{}",
            sanitize(&h.host),
            outcome.as_str(),
            h.conns.len(),
            if h.conns.len() == 1 { "" } else { "s" }
        )?;
        if !h.dns.is_empty() {
            write!(
                out,
                ", {} DNS quer{}",
                h.dns.len(),
                if h.dns.len() == 1 { "y" } else { "ies" }
            )?;
        }
        writeln!(out, ")")?;
        if let Some((frame, what)) = h.first_failure() {
            writeln!(out, "  first failure: {} at frame {frame}", sanitize(&what))?;
        }
        for d in &h.dns {
            let answer = match (d.response_ms, d.answers.is_empty()) {
                (Some(t), false) => format!("{} in {} ms", d.answers.join(" "), t.ms(1)),
                (Some(t), true) => format!(
                    "{} in {} ms",
                    d.rcode.as_deref().unwrap_or(d.outcome.as_str()),
                    t.ms(1)
                ),
                (None, _) => "no response".to_string(),
            };
            writeln!(
                out,
                "  dns   frame {:>6}  {} {} → {} ({}{})",
                d.first_frame,
                sanitize(&d.name),
                d.qtype,
                sanitize(&answer),
                d.outcome.as_str(),
                if d.retransmissions > 0 {
                    format!(", {} retransmissions", d.retransmissions)
                } else {
                    String::new()
                }
            )?;
        }
        for c in &h.conns {
            writeln!(
                out,
                "  #{:<4} frame {:>6}  → {}  {}{}  {} SYN{}",
                c.id,
                c.first_frame,
                c.server(),
                c.verdict.as_str(),
                c.stage
                    .map(|s| format!("/{}", s.as_str()))
                    .unwrap_or_default(),
                c.syn_count,
                if c.syn_count == 1 { "" } else { "s" }
            )?;
            for x in &c.http {
                let what = x
                    .module
                    .as_ref()
                    .map(|m| m.label.clone())
                    .unwrap_or_else(|| x.path.clone());
                let status = match (x.status, x.module.is_some()) {
                    (Some(s @ (404 | 410)), true) => {
                        format!("{s} (normal: go probes path prefixes)")
                    }
                    (Some(s), _) => s.to_string(),
                    (None, _) => "no response".to_string(),
                };
                writeln!(
                    out,
                    "        frame {:>6}  {} {} → {}",
                    x.frame,
                    sanitize(&x.method),
                    sanitize(&what),
                    status
                )?;
            }
            if let Some(e) = &c.explanation
                && c.verdict != VerdictKind::Ok
            {
                writeln!(out, "        {}", sanitize(e))?;
            }
        }
        // The go command tries the next GOPROXY entry after a failure.
        if outcome == Outcome::Failed
            && let Some(next) = hosts.get(i + 1)
        {
            writeln!(out, "  then: {} was tried next", sanitize(&next.host))?;
        }
    }
    writeln!(out, "\nOverall: {}", sanitize(&overall(&hosts)))?;
    out.flush()
}
