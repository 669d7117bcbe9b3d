//! `tcptriage live`: capture on an interface and print each connection's
//! verdict the moment it is final.
//!
//! This driver is the one place that reads the wall clock: when no packet
//! arrives, capture time is advanced by the time elapsed since the last
//! packet, so that an unanswered SYN on a quiet link is still reported.

use super::config::LiveConfig;
use anyhow::{Context, anyhow};
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tcptriage::analyze::Engine;
use tcptriage::report::ConnectionSink;
use tcptriage::report::live::{LiveFormat, LivePrinter, LiveSink};
use tcptriage::report::{DnsReport, LiveInfo, Report};
use tcptriage::source::{LiveNext, LiveSource, PcapngWriter};
use tcptriage::time::Ts;

/// Answered DNS queries kept for the final JSON document of a live
/// capture; failures are always kept.
const MAX_OK_DNS_KEPT: u64 = 100_000;

/// Runs a live capture, printing to `out` (line-buffered: each verdict is
/// flushed as it is printed).
pub fn run<W: Write>(cfg: &LiveConfig, out: &mut W) -> anyhow::Result<ExitCode> {
    let mut src = LiveSource::open(&cfg.capture)?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let breaker = src.breaker();
        // SIGINT, SIGTERM and SIGHUP all end the capture the same way: the
        // flag ends the loop, and breakloop wakes a read in progress.
        ctrlc::set_handler(move || {
            stop.store(true, Ordering::SeqCst);
            breaker.stop();
        })
        .map_err(|e| anyhow!("cannot install the signal handler: {e}"))?;
    }
    let mut writer = match &cfg.write {
        Some(p) => Some(
            std::fs::File::create(p)
                .and_then(|f| {
                    PcapngWriter::new(io::BufWriter::new(f), src.linktype(), cfg.capture.snaplen)
                })
                .map_err(|e| anyhow!("{}: {e}", p.display()))?,
        ),
        None => None,
    };
    eprintln!(
        "tcptriage: capturing on {}{}; Ctrl-C to stop",
        cfg.capture.interface,
        cfg.capture
            .filter
            .as_deref()
            .map(|f| format!(" (filter: {f})"))
            .unwrap_or_default()
    );

    let mut sink = LiveSink::new(
        LivePrinter {
            format: cfg.format,
            all: cfg.all,
        },
        &mut *out,
    );
    let mut engine = Engine::new(cfg.analysis.clone());
    let started = Instant::now();
    let mut last_packet: Option<(Ts, Instant)> = None;
    let mut kept_dns: Vec<DnsReport> = Vec::new();
    let mut kept_dns_ok: u64 = 0;
    let mut reported: u64 = 0;
    let mut packets: u64 = 0;
    let mut stopped_by = "signal";
    let mut last_tick = Instant::now();
    let mut pipe_closed = false;
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if cfg.duration.is_some_and(|d| started.elapsed() >= d) {
            stopped_by = "duration";
            break;
        }
        if cfg.count.is_some_and(|n| packets >= n) {
            stopped_by = "count";
            break;
        }
        match src.next() {
            Ok(LiveNext::Frame(f)) => {
                packets += 1;
                if let Some(w) = writer.as_mut()
                    && let Err(e) = w.write(f.ts, f.orig_len, f.data)
                {
                    eprintln!("tcptriage: writing the capture: {e}");
                    writer = None;
                }
                engine.push(&f);
                last_packet = Some((engine.now().unwrap_or(f.ts), Instant::now()));
            }
            Ok(LiveNext::Timeout) => {}
            Ok(LiveNext::Stopped) => break,
            Err(e) => {
                eprintln!("tcptriage: {e}");
                stopped_by = "error";
                break;
            }
        };
        // Capture time: the newest packet, plus the quiet time since it.
        let now = match last_packet {
            Some((ts, at)) => ts.plus_ms(at.elapsed().as_millis() as u64),
            None => continue,
        };
        // Look for final verdicts five times a second: each look walks the
        // open connections, and a verdict is still printed well within a
        // second of becoming final.
        if last_tick.elapsed() < Duration::from_millis(200) {
            continue;
        }
        last_tick = Instant::now();
        let done = engine.take_final(now);
        let queries = engine.take_dns();
        reported += done.len() as u64;
        if cfg.format == LiveFormat::Json {
            // Failures are kept; answered queries only up to a bound (the
            // summary counts them all).
            for q in &queries {
                if q.is_failure() || kept_dns_ok < MAX_OK_DNS_KEPT {
                    kept_dns_ok += u64::from(!q.is_failure());
                    kept_dns.push(q.clone());
                }
            }
        }
        if pipe_closed {
            continue;
        }
        let printed = done
            .into_iter()
            .try_for_each(|c| sink.connection(c))
            .is_continue();
        let printed = match sink.error() {
            Some(e) => Err(e),
            None if printed => {
                let printer = sink.printer;
                printer.dns(sink.out(), &queries)
            }
            None => Ok(()),
        };
        if let Err(e) = printed {
            if e.kind() == io::ErrorKind::BrokenPipe {
                pipe_closed = true;
                stopped_by = "signal";
                break;
            }
            eprintln!("tcptriage: writing: {e}");
        }
    }

    let stats = src.stats();
    let linktype = src.linktype();
    // Close the capture before printing (a no-op without the `live` feature).
    #[allow(clippy::drop_non_drop)]
    drop(src);
    if let Some(w) = writer
        && let Err(e) = w.finish().and_then(|mut b| b.flush())
    {
        eprintln!("tcptriage: writing the capture: {e}");
    }
    let end = last_packet.map(|(ts, at)| ts.plus_ms(at.elapsed().as_millis() as u64));
    let mut rep: Report = engine.finish(
        end,
        &format!("live:{}", cfg.capture.interface),
        format!("live capture ({})", tcptriage::packet::link::name(linktype)),
        vec![],
    );
    rep.capture.live = Some(LiveInfo {
        interface: cfg.capture.interface.clone(),
        filter: cfg.capture.filter.clone(),
        received: stats.as_ref().map(|s| s.received),
        dropped_kernel: stats.as_ref().map(|s| s.dropped_kernel),
        dropped_interface: stats.as_ref().map(|s| s.dropped_interface),
        stopped_by: stopped_by.to_string(),
        reported_live: reported,
    });
    let failed = rep.summary.failed > 0 || rep.summary.dns_failures > 0;
    if !pipe_closed {
        if cfg.format == LiveFormat::Json {
            let mut all = sink.kept();
            all.extend(rep.connections.iter().cloned());
            rep.connections = all;
            kept_dns.append(&mut rep.dns);
            rep.dns = kept_dns;
        }
        let printer = sink.printer;
        let out = sink.out();
        match printer.finish(out, &rep).and_then(|_| out.flush()) {
            // A reader gone by now misses nothing it asked for: the exit
            // status still tells what was found.
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                return Err(e).context("writing");
            }
            _ => {}
        }
    }
    Ok(if stopped_by == "error" {
        ExitCode::from(2)
    } else if cfg.fail_on_failure && failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
