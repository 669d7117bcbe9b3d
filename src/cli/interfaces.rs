//! `tcptriage interfaces`: the capture devices and their addresses.

use std::io::{self, Write};
use std::process::ExitCode;
use tcptriage::report::sanitize;
use tcptriage::source;

/// Lists the capture devices on `out`, one a line.
pub fn run<W: Write>(out: &mut W) -> anyhow::Result<ExitCode> {
    for i in source::list_interfaces()? {
        let addrs: Vec<String> = i.addresses.iter().map(|a| a.to_string()).collect();
        let mut flags = Vec::new();
        if i.up {
            flags.push("up");
        }
        if i.running {
            flags.push("running");
        }
        if i.loopback {
            flags.push("loopback");
        }
        let line = format!(
            "{:<16} {:<22} {}{}",
            i.name,
            flags.join(","),
            addrs.join(" "),
            i.description
                .map(|d| format!("  ({d})"))
                .unwrap_or_default()
        );
        if let Err(e) = writeln!(out, "{}", sanitize(&line)) {
            // A closed pipe ends the list quietly (in main); any other
            // write error exits 2 without a message, as it always has.
            return match e.kind() {
                io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(ExitCode::from(2)),
            };
        }
    }
    Ok(ExitCode::SUCCESS)
}
