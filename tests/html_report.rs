//! The HTML report in a real browser: headless Chromium (Debian's
//! `chromium`, which `.ci/run` installs) loads the file offline, runs its
//! JavaScript and dumps the DOM. The page reports what it built in
//! `#status` (bars, table rows, ladder diagrams) and counts script errors.

mod testkit;

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

fn html_for(capture: &str, dir: &Path) -> (PathBuf, serde_json::Value) {
    let html = dir.join(capture.replace(".pcap", ".html"));
    let input = testkit::testdata().join(capture);
    let out = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .args(["analyze", "-F", "json", "--html"])
        .arg(&html)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (html, serde_json::from_slice(&out.stdout).unwrap())
}

/// The attributes of `<div id="status" ...>` in the dumped DOM.
fn status(dom: &str) -> std::collections::BTreeMap<String, String> {
    let start = dom
        .find("<div id=\"status\"")
        .expect("no #status in the DOM");
    let tag = &dom[start..start + dom[start..].find('>').unwrap()];
    tag.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            (
                k.trim_start_matches("data-").to_string(),
                v.trim_matches('"').to_string(),
            )
        })
        .collect()
}

#[test]
fn the_report_renders_offline_in_chromium_without_script_errors() {
    let Some(browser) = chromium() else {
        eprintln!("skipping: no chromium (.ci/run installs Debian's chromium)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("tt-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for capture in [
        "all_failures.pcap",
        "gomod_fallback.pcap",
        "sni_reset.pcap",
        "dns_timeout.pcap",
    ] {
        let (html, doc) = html_for(capture, &dir);
        let text = std::fs::read_to_string(&html).unwrap();
        // Self-contained: nothing is fetched.
        for remote in ["src=\"http", "href=\"http", "@import", "url(http"] {
            assert!(!text.contains(remote), "{capture}: {remote}");
        }
        let out = Command::new("timeout")
            .args([
                "120",
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--dump-dom",
                "--enable-logging=stderr",
                "--v=0",
                "--no-first-run",
                "--disable-extensions",
            ])
            .arg(format!("file://{}", html.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "{capture}: chromium failed");
        let dom = String::from_utf8_lossy(&out.stdout);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(!log.contains("Uncaught"), "{capture}: script error:\n{log}");
        let st = status(&dom);
        assert_eq!(
            st["ready"], "1",
            "{capture}: the script did not finish: {st:?}"
        );
        assert_eq!(st["errors"], "0", "{capture}: {st:?}");
        let conns = doc["connections"].as_array().unwrap();
        let failed = conns
            .iter()
            .filter(|c| c["verdict"] != "ok" || !c["auth_required"].is_null())
            .count();
        assert_eq!(
            st["bars"],
            conns.len().to_string(),
            "{capture}: one bar per connection"
        );
        assert_eq!(
            st["rows"],
            failed.to_string(),
            "{capture}: one row per failed connection"
        );
        assert_eq!(
            st["ladders"],
            failed.to_string(),
            "{capture}: one ladder per failed connection"
        );
        let dns_failed = doc["dns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|q| q["verdict"] == "dns_failure")
            .count();
        assert_eq!(
            dom.matches("class=\"dnsrow\"").count(),
            dns_failed,
            "{capture}"
        );
    }
    // Opening a row (here through the #conn-N link, as a click does) shows
    // its evidence and its ladder.
    let (html, _) = html_for("all_failures.pcap", &dir);
    let out = Command::new("timeout")
        .args([
            "120",
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
        ])
        .arg(format!("file://{}#conn-3", html.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let detail = &dom[dom.find("class=\"detail\"").expect("row 3 not opened")..];
    assert!(detail.contains("<svg"), "no ladder in the opened row");
    assert!(
        detail.contains("7.98 s silence"),
        "the ladder of #3 shows its silence"
    );
    assert!(detail.contains("frame    121"), "the evidence is listed");
    std::fs::remove_dir_all(&dir).unwrap();
}
