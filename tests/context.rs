//! What each connection was for: DNS queries and their outcomes, TLS
//! handshakes, HTTP requests, Go module fetches, injected resets,
//! `--modules` and `--write-failed`, on the captures of real clients (curl,
//! Python's ssl, go 1.19) made by `testdata/make-captures.sh`.
//!
//! Every expectation was read from the packets with tshark 4.0.17; the key
//! frames of each capture are listed in `testdata/README.md`.

mod testkit;

use serde_json::Value;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .args(args)
        .output()
        .unwrap()
}

fn file(name: &str) -> String {
    testkit::testdata().join(name).display().to_string()
}

fn json(name: &str, extra: &[&str]) -> Value {
    let f = file(name);
    let mut args = vec!["analyze", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(&f);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{name}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn table(name: &str, extra: &[&str]) -> String {
    let f = file(name);
    let mut args = vec!["analyze"];
    args.extend_from_slice(extra);
    args.push(&f);
    let out = run(&args);
    assert!(out.status.success(), "{name}: {:?}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

fn frames(v: &Value) -> Vec<u64> {
    v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["frame"].as_u64().unwrap())
        .collect()
}

/// (first frame, name, qtype, outcome, response frame, retransmissions)
type Q = (
    u64,
    &'static str,
    &'static str,
    &'static str,
    Option<u64>,
    u64,
);

fn check_dns(doc: &Value, want: &[Q]) {
    let dns = doc["dns"].as_array().unwrap();
    let got: Vec<Q> = dns
        .iter()
        .zip(want)
        .map(|(q, w)| {
            assert_eq!(q["name"], w.1);
            (
                q["first_frame"].as_u64().unwrap(),
                w.1,
                if q["qtype"] == w.2 { w.2 } else { "?" },
                if q["outcome"] == w.3 { w.3 } else { "?" },
                q["response_frame"].as_u64(),
                q["retransmissions"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(dns.len(), want.len());
    for q in dns {
        let failed = matches!(
            q["outcome"].as_str().unwrap(),
            "nxdomain" | "servfail" | "refused" | "timeout"
        );
        assert_eq!(q["verdict"], if failed { "dns_failure" } else { "ok" });
        if failed {
            assert_eq!(q["stage"], q["outcome"]);
        } else {
            assert!(q["stage"].is_null());
        }
        assert_eq!(q["server"], "10.77.2.20:53");
        assert_eq!(q["transport"], "udp");
    }
}

#[test]
fn nxdomain_is_a_dns_failure_row_without_any_connection() {
    let d = json("dns_nxdomain.pcap", &[]);
    check_dns(
        &d,
        &[
            (1, "nosuch.blocked.example", "A", "nxdomain", Some(3), 0),
            (2, "nosuch.blocked.example", "AAAA", "nxdomain", Some(4), 0),
        ],
    );
    assert_eq!(d["connections"].as_array().unwrap().len(), 0);
    assert_eq!(d["summary"]["dns_failures"], 2);
    let q = &d["dns"][0];
    assert_eq!(q["rcode"], "NXDOMAIN");
    assert!((q["response_ms"].as_f64().unwrap() - 10.8).abs() < 0.1);
    let t = table("dns_nxdomain.pcap", &[]);
    assert!(t.contains("dns_failure") && t.contains("nxdomain"), "{t}");
    assert!(t.contains("nosuch.blocked.example"), "{t}");
    // A failed lookup is a failure for scripts too.
    let out = run(&["analyze", "--fail-on-failure", &file("dns_nxdomain.pcap")]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn refused_answers_are_dns_failures() {
    // glibc asks again after REFUSED (frames 5, 6): new queries, refused too.
    let d = json("dns_refused.pcap", &[]);
    check_dns(
        &d,
        &[
            (1, "intranet.corp.example", "A", "refused", Some(3), 0),
            (2, "intranet.corp.example", "AAAA", "refused", Some(4), 0),
            (5, "intranet.corp.example", "A", "refused", Some(7), 0),
            (6, "intranet.corp.example", "AAAA", "refused", Some(8), 0),
        ],
    );
    assert!(
        d["dns"][0]["explanation"]
            .as_str()
            .unwrap()
            .contains("REFUSED")
    );
}

#[test]
fn unanswered_queries_time_out_and_count_their_retries() {
    // A and AAAA at 0 s, re-sent at 2 s (frames 3, 4), never answered; the
    // capture runs to 6.5 s with a fetch by address.
    let d = json("dns_timeout.pcap", &[]);
    check_dns(
        &d,
        &[
            (1, "goproxy.corp.example", "A", "timeout", None, 1),
            (2, "goproxy.corp.example", "AAAA", "timeout", None, 1),
        ],
    );
    assert_eq!(d["dns"][0]["query_frames"], serde_json::json!([1, 3]));
    assert_eq!(d["dns"][1]["query_frames"], serde_json::json!([2, 4]));
    assert!(d["dns"][0]["response_ms"].is_null());
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "ok");
    assert!(c["dns_name"].is_null(), "no answer named 10.77.2.20");
}

#[test]
fn an_answer_names_the_connection_to_its_address() {
    let d = json("dns_ok_fetch.pcap", &[]);
    check_dns(
        &d,
        &[
            (1, "goproxy.corp.example", "A", "answer", Some(3), 0),
            (2, "goproxy.corp.example", "AAAA", "nodata", Some(4), 0),
        ],
    );
    assert_eq!(d["dns"][0]["answers"], serde_json::json!(["10.77.2.20"]));
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "ok");
    assert_eq!(c["dns_name"], "goproxy.corp.example");
    // curl's Host header names it too (with the port, which is dropped).
    assert_eq!(c["server_name"], "goproxy.corp.example");
    assert_eq!(c["name_source"], "host");
    assert_eq!(c["http"][0]["method"], "GET");
    assert_eq!(c["http"][0]["path"], "/");
    assert_eq!(c["http"][0]["status"], 200);
    assert_eq!(c["http"][0]["status_frame"], 10);
    // Not a module host, unless the user says it is.
    assert_eq!(c["module_fetch"], false);
    let d = json(
        "dns_ok_fetch.pcap",
        &["--goproxy", "http://goproxy.corp.example:8080,direct"],
    );
    assert_eq!(d["connections"][0]["module_fetch"], true);
    assert_eq!(d["dns"][0]["module_host"], true);
}

#[test]
fn reset_injected_on_the_sni_is_told_from_the_servers_own() {
    let d = json("sni_reset.pcap", &[]);
    let conns = d["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 2);
    // Control: SNI example.org completes a TLS 1.2 handshake, and its
    // certificate (visible in TLS 1.2) comes from an inspection CA.
    let ok = &conns[0];
    assert_eq!(ok["verdict"], "ok");
    assert_eq!(ok["server_name"], "example.org");
    assert_eq!(ok["name_source"], "sni");
    assert_eq!(ok["module_fetch"], false);
    let tls = &ok["tls"];
    assert_eq!(tls["client_hello_frame"], 4);
    assert_eq!(tls["server_hello_frame"], 6);
    assert_eq!(tls["version"], "TLS 1.2");
    assert_eq!(tls["cipher"], "0xc02c");
    assert_eq!(tls["alpn"], serde_json::json!(["h2", "http/1.1"]));
    assert_eq!(tls["certificate"]["frame"], 6);
    assert_eq!(tls["certificate"]["subject"], "CN=proxy.golang.org");
    assert_eq!(
        tls["certificate"]["issuer"],
        "O=Corp, CN=Corp Inspection CA"
    );
    assert_eq!(tls["certificate"]["self_signed"], false);
    assert!(
        tls["unexpected_issuer"]
            .as_str()
            .unwrap()
            .contains("TLS-inspecting")
    );
    assert!(
        ok["warnings"][0]
            .as_str()
            .unwrap()
            .contains("Corp Inspection CA")
    );
    // With the issuer expected, nothing is flagged.
    let d2 = json("sni_reset.pcap", &["--expect-issuer", "corp inspection"]);
    assert!(d2["connections"][0]["tls"]["unexpected_issuer"].is_null());

    // SNI proxy.golang.org: the router's REJECT sends an RST with TTL 64
    // (frame 24); the server's SYN/ACK came through the router with 63.
    let bad = &conns[1];
    assert_eq!(bad["verdict"], "midstream_reset");
    assert_eq!(bad["stage"], "tls_handshake");
    assert_eq!(bad["reset_by"], "middlebox");
    assert_eq!(bad["server_name"], "proxy.golang.org");
    assert_eq!(bad["dns_name"], "proxy.golang.org");
    assert_eq!(bad["module_fetch"], true);
    assert_eq!(bad["tls"]["client_hello_frame"], 23);
    assert!(bad["tls"]["server_hello_frame"].is_null());
    assert_eq!(bad["tcp"]["rst"]["frame"], 24);
    assert_eq!(bad["tcp"]["rst"]["ttl"], 64);
    assert_eq!(bad["tcp"]["rst"]["prior_ttl"], 63);
    let e = bad["explanation"].as_str().unwrap();
    assert!(e.contains("TTL 64") && e.contains("63"), "{e}");
    assert!(
        e.contains("likely SNI filtering of proxy.golang.org"),
        "{e}"
    );
    assert_eq!(frames(bad), vec![22, 23, 24]);
    assert!(
        bad["evidence"][1]["what"]
            .as_str()
            .unwrap()
            .contains("ClientHello (SNI proxy.golang.org)")
    );
}

#[test]
fn go_mod_download_through_a_plaintext_proxy() {
    let d = json("gomod_ok.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "ok");
    assert_eq!(c["module_fetch"], true);
    let http = c["http"].as_array().unwrap();
    let got: Vec<(u64, &str, u64, u64)> = http
        .iter()
        .map(|h| {
            (
                h["frame"].as_u64().unwrap(),
                h["module"]["kind"].as_str().unwrap(),
                h["status"].as_u64().unwrap(),
                h["status_frame"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (8, "info", 200, 10),
            (12, "mod", 200, 13),
            (14, "zip", 200, 15)
        ]
    );
    // go escapes the uppercase T as %21t; the report gives the real path.
    assert_eq!(
        http[0]["path"],
        "/corp.example/%21tools/greet/@v/v1.0.0.info"
    );
    assert_eq!(http[0]["user_agent"], "Go-http-client/1.1");
    assert_eq!(c["module"]["module"], "corp.example/Tools/greet");
    assert_eq!(c["module"]["version"], "v1.0.0");
    assert_eq!(
        c["target"],
        "goproxy.corp.example corp.example/Tools/greet@v1.0.0 (zip)"
    );
    assert_eq!(d["summary"]["module_fetches"], 1);
}

#[test]
fn a_proxy_that_never_answers_the_zip_is_an_app_stall_naming_the_module() {
    let d = json("gomod_stall.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "app_stall");
    assert_eq!(c["stage"], "awaiting_response");
    assert_eq!(c["module"]["kind"], "zip");
    assert_eq!(c["http"][2]["frame"], 14);
    assert!(c["http"][2]["status"].is_null());
    let e = c["explanation"].as_str().unwrap();
    assert!(e.contains("corp.example/Tools/greet@v1.0.0 (zip)"), "{e}");
    assert!(e.contains("frame 14") && e.contains("FIN, frame 16"), "{e}");
    // The zip request, the server's ACK of it (frame 15), the client's FIN.
    let f = frames(c);
    assert!([14, 15, 16].iter().all(|x| f.contains(x)), "{f:?}");
}

#[test]
fn a_proxy_that_resets_on_the_zip_and_the_retry() {
    let d = json("gomod_reset.pcap", &[]);
    let conns = d["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 2);
    for (c, zip_frame, rst) in [(&conns[0], 14, 16), (&conns[1], 24, 26)] {
        assert_eq!(c["verdict"], "midstream_reset");
        assert_eq!(c["stage"], "awaiting_response");
        assert_eq!(c["reset_by"], "server", "same TTL as the server's packets");
        assert_eq!(c["module"]["kind"], "zip");
        assert_eq!(c["tcp"]["rst"]["frame"], rst);
        let f = frames(c);
        assert!(f.contains(&zip_frame) && f.contains(&rst), "{f:?}");
    }
    // go resolved the name again before retrying (frames 17, 18).
    assert_eq!(d["dns"].as_array().unwrap().len(), 4);
    let m = table("gomod_reset.pcap", &["--modules"]);
    assert!(
        m.contains("goproxy.corp.example — FAILED (2 connections, 4 DNS queries)"),
        "{m}"
    );
    assert!(
        m.contains("first failure: #0 midstream_reset/awaiting_response at frame 5"),
        "{m}"
    );
    assert!(
        m.contains("GET corp.example/Tools/greet@v1.0.0 (zip) → no response"),
        "{m}"
    );
    assert!(
        m.contains("GET corp.example/Tools/greet@v1.0.0 (mod) → 200"),
        "{m}"
    );
}

#[test]
fn real_go_behind_an_sni_filter() {
    let d = json("gomod_sni_reset.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "midstream_reset");
    assert_eq!(c["stage"], "tls_handshake");
    assert_eq!(c["reset_by"], "middlebox");
    assert_eq!(c["tls"]["sni"], "proxy.golang.org");
    assert_eq!(c["module_fetch"], true, "proxy.golang.org is a known proxy");
    assert_eq!(c["tcp"]["rst"]["ttl"], 64);
    assert_eq!(frames(c), vec![7, 8, 9]);
    let m = table("gomod_sni_reset.pcap", &["--modules"]);
    assert!(m.contains("proxy.golang.org — FAILED"), "{m}");
}

#[test]
fn a_refused_syn_says_its_sender_cannot_be_told() {
    let d = json("closed_port.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "service_down");
    assert_eq!(c["reset_by"], "server");
    let last = c["evidence"].as_array().unwrap().last().unwrap();
    assert!(
        last["what"].as_str().unwrap().contains("cannot be told"),
        "{last}"
    );
}

#[test]
fn icmp_errors_are_reported_with_their_sender_type_and_code() {
    let d = json("icmp_admin_prohibited.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["icmp"]["type"], 3);
    assert_eq!(c["icmp"]["code"], 13);
    assert_eq!(c["icmp"]["sender"], "10.77.1.1");
    assert_eq!(c["icmp"]["quotes_syn"], true);
}

#[test]
fn write_failed_keeps_only_the_failed_packets() {
    let dir = std::env::temp_dir().join(format!("tt-wf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // gomod_reset: both connections failed (frames 5-16 and 21-26); its
    // DNS queries were answered and stay out.
    let out_file = dir.join("failed.pcapng");
    let o = out_file.display().to_string();
    let r = run(&["analyze", "--write-failed", &o, &file("gomod_reset.pcap")]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let again = json_path(&o);
    let conns = again["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 2);
    assert!(conns.iter().all(|c| c["verdict"] == "midstream_reset"));
    assert_eq!(again["dns"].as_array().unwrap().len(), 0);
    assert_eq!(again["summary"]["packets"], 12 + 6);
    // dns_nxdomain: the four DNS packets.
    let r = run(&["analyze", "--write-failed", &o, &file("dns_nxdomain.pcap")]);
    assert!(r.status.success());
    let again = json_path(&o);
    assert_eq!(again["summary"]["packets"], 4);
    assert_eq!(again["summary"]["dns_failures"], 2);
    // Standard input cannot be read twice.
    let r = run(&["analyze", "--write-failed", &o, "-"]);
    assert_eq!(r.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn json_path(p: &str) -> Value {
    let out = run(&["analyze", "--format", "json", p]);
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_bad_goproxy_is_a_clean_usage_error() {
    let r = run(&["analyze", "--goproxy", "http://", &file("gomod_ok.pcap")]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("tcptriage: --goproxy:"), "{err}");
}

#[test]
fn ndjson_ends_with_the_dns_queries() {
    let out = run(&["analyze", "-F", "ndjson", &file("gomod_reset.pcap")]);
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2 + 4);
    assert!(lines[..2].iter().all(|l| l["record"].is_null()));
    assert!(lines[2..].iter().all(|l| l["record"] == "dns"));
}

#[test]
fn go_gives_up_a_tls_handshake_after_ten_seconds() {
    let d = json("gomod_tls_stall.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "app_stall");
    assert_eq!(c["stage"], "tls_handshake");
    assert_eq!(c["tls"]["client_hello_frame"], 8);
    let e = c["explanation"].as_str().unwrap();
    assert!(e.contains("ClientHello for proxy.golang.org"), "{e}");
    assert!(
        e.contains("go command gives up a TLS handshake after 10 s"),
        "{e}"
    );
    assert!(e.contains("FIN, frame 10"), "{e}");
}

#[test]
fn go_behind_a_syn_dropping_firewall() {
    // 9 SYNs over 19.5 s; go's 30 s dial timeout ends it silently.
    let d = json("gomod_syn_drop.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "firewall_drop");
    assert_eq!(c["stage"], "syn");
    assert_eq!(c["syn_count"], 9);
    assert_eq!(c["server_name"], "proxy.golang.org");
    assert_eq!(c["name_source"], "dns");
    assert_eq!(c["module_fetch"], true);
    assert_eq!(frames(c), (5..=13).collect::<Vec<u64>>());
}

#[test]
fn go_falls_back_to_the_next_proxy_after_forged_resets() {
    // The router REJECTs every SYN to :443 with a tcp-reset of TTL 64; the
    // SYN/ACKs of 10.77.2.20 itself (stream 1, :8080) have TTL 63.
    let d = json("gomod_fallback.pcap", &[]);
    let conns = d["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 4);
    for (i, rst) in [(0usize, 6u64), (2, 23), (3, 31)] {
        let c = &conns[i];
        assert_eq!(c["verdict"], "firewall_drop", "#{i}");
        assert_eq!(c["stage"], "syn");
        assert_eq!(c["reset_by"], "middlebox");
        assert_eq!(c["server_name"], "proxy.golang.org");
        assert_eq!(c["tcp"]["rst"]["frame"], rst);
        assert_eq!(c["tcp"]["rst"]["ttl"], 64);
        let e = c["explanation"].as_str().unwrap();
        assert!(e.contains("TTL 64 differs from the TTL 63"), "{e}");
    }
    let ok = &conns[1];
    assert_eq!(ok["verdict"], "ok");
    assert_eq!(ok["server_name"], "goproxy.corp.example");
    let kinds: Vec<&str> = ok["http"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["module"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["info", "mod", "zip"]);
    let m = table("gomod_fallback.pcap", &["--modules"]);
    assert!(
        m.contains("proxy.golang.org — FAILED (3 connections, 6 DNS queries)"),
        "{m}"
    );
    assert!(
        m.contains("goproxy.corp.example — ok (1 connection, 2 DNS queries)"),
        "{m}"
    );
    assert!(
        m.contains("then: goproxy.corp.example was tried next"),
        "{m}"
    );
    assert!(
        m.contains("Overall: ok through goproxy.corp.example after failures"),
        "{m}"
    );
}

#[test]
fn servfail_is_a_dns_failure() {
    let d = json("dns_servfail.pcap", &[]);
    check_dns(
        &d,
        &[
            (1, "www.x.example", "A", "servfail", Some(3), 0),
            (2, "www.x.example", "AAAA", "servfail", Some(4), 0),
            (5, "www.x.example", "A", "servfail", Some(7), 0),
            (6, "www.x.example", "AAAA", "servfail", Some(8), 0),
        ],
    );
}

#[test]
fn dns_over_tcp_is_parsed_and_the_resolver_is_not_named_after_its_answers() {
    let d = json("dns_tcp.pcap", &[]);
    let dns = d["dns"].as_array().unwrap();
    let got: Vec<(u64, &str, &str, &str, u64)> = dns
        .iter()
        .map(|q| {
            (
                q["first_frame"].as_u64().unwrap(),
                q["name"].as_str().unwrap(),
                q["qtype"].as_str().unwrap(),
                q["outcome"].as_str().unwrap(),
                q["response_frame"].as_u64().unwrap(),
            )
        })
        .collect();
    // A and AAAA go in one segment (frames 4 and 16); answers one each.
    assert_eq!(
        got,
        vec![
            (4, "nosuch.blocked.example", "A", "nxdomain", 6),
            (4, "nosuch.blocked.example", "AAAA", "nxdomain", 8),
            (16, "goproxy.corp.example", "A", "answer", 18),
            (16, "goproxy.corp.example", "AAAA", "nodata", 20),
        ]
    );
    assert!(dns.iter().all(|q| q["transport"] == "tcp"));
    let conns = d["connections"].as_array().unwrap();
    for c in &conns[..2] {
        assert_eq!(c["server_port"], 53);
        assert_eq!(c["verdict"], "ok");
        assert!(c["server_name"].is_null() && c["dns_name"].is_null(), "{c}");
    }
    assert_eq!(conns[2]["dns_name"], "goproxy.corp.example");
}

#[test]
fn an_icmp_reject_of_a_named_fetch_names_the_target() {
    let d = json("icmp_admin_named.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "firewall_drop");
    assert_eq!(c["stage"], "syn");
    assert_eq!(c["target"], "goproxy.corp.example");
    assert_eq!(
        c["blocked_by"],
        "10.77.1.1 (ICMP type 3 code 13: administratively prohibited)"
    );
    assert_eq!(frames(c), vec![5, 6]);
    assert_eq!(c["icmp"]["frame"], 6);
}

#[test]
fn an_authentication_gateway_is_ok_for_tcp_but_listed_and_fails_the_fetch() {
    for (file, status) in [("gomod_auth_407.pcap", 407), ("gomod_auth_403.pcap", 403)] {
        let d = json(file, &[]);
        let c = &d["connections"][0];
        assert_eq!(c["verdict"], "ok", "{file}");
        assert_eq!(c["auth_required"], status);
        assert_eq!(c["http"][0]["frame"], 8);
        assert_eq!(c["http"][0]["status"], status);
        assert_eq!(c["module"]["kind"], "info");
        assert_eq!(d["summary"]["auth_required"], 1);
        // Listed in the default table although ok, with the reason.
        let t = table(file, &[]);
        assert!(t.contains(&format!("auth_required: HTTP {status}")), "{t}");
        let m = table(file, &["--modules"]);
        assert!(m.contains("goproxy.corp.example — FAILED"), "{m}");
        assert!(m.contains(&format!("auth_required (HTTP {status})")), "{m}");
    }
}

#[test]
fn a_stall_names_the_module_with_its_case_and_pseudo_version() {
    // go sends /corp.example/%21my%21org/%21big%21tool/@v/...; the .zip
    // (frame 14) is ACKed and never answered.
    let d = json("gomod_pseudo_stall.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "app_stall");
    assert_eq!(c["stage"], "awaiting_response");
    assert_eq!(c["module"]["module"], "corp.example/MyOrg/BigTool");
    assert_eq!(c["module"]["version"], "v0.0.0-20240102030405-abcdefabcdef");
    assert_eq!(c["module"]["kind"], "zip");
    assert!(frames(c).contains(&14));
    // The stall is on the .mod (frame 12) here.
    let d = json("gomod_stall_mod.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "app_stall");
    assert_eq!(c["module"]["kind"], "mod");
    assert!(frames(c).contains(&12));
    let e = c["explanation"].as_str().unwrap();
    assert!(
        e.contains("GET for corp.example/Tools/greet@v1.0.0 (mod)"),
        "{e}"
    );
}

#[test]
fn an_sni_filter_on_the_checksum_database_fails_the_download() {
    // The module came from the corp proxy (.info, .mod 200; 404 on
    // /sumdb/sum.golang.org/supported is normal), then the TLS connection to
    // sum.golang.org got an injected RST (frame 24, TTL 64 vs 63).
    let d = json("sumdb_sni_reset.pcap", &[]);
    let conns = d["connections"].as_array().unwrap();
    assert_eq!(conns[0]["verdict"], "ok");
    assert_eq!(conns[0]["http"][2]["status"], 404);
    let c = &conns[1];
    assert_eq!(c["verdict"], "midstream_reset");
    assert_eq!(c["stage"], "tls_handshake");
    assert_eq!(c["reset_by"], "middlebox");
    assert_eq!(c["server_name"], "sum.golang.org");
    assert_eq!(c["module_fetch"], true);
    assert!(
        c["explanation"]
            .as_str()
            .unwrap()
            .contains("likely SNI filtering of sum.golang.org")
    );
    let m = table("sumdb_sni_reset.pcap", &["--modules"]);
    assert!(
        m.contains("GET /sumdb/sum.golang.org/supported → 404"),
        "{m}"
    );
    assert!(
        m.contains("Overall: FAILED: the last attempt, #1 to sum.golang.org (midstream_reset)"),
        "{m}"
    );
}

#[test]
fn an_injected_reset_over_ipv6_compares_hop_limits() {
    let d = json("ipv6_sni_reset.pcap", &[]);
    let conns = d["connections"].as_array().unwrap();
    assert_eq!(conns[0]["verdict"], "ok");
    assert_eq!(conns[0]["server_name"], "example.org");
    let c = &conns[1];
    assert_eq!(c["server_ip"], "fd77::2:20");
    assert_eq!(c["verdict"], "midstream_reset");
    assert_eq!(c["reset_by"], "middlebox");
    assert_eq!(c["tcp"]["rst"]["ttl"], 64);
    assert_eq!(c["tcp"]["rst"]["prior_ttl"], 63);
    let e = c["explanation"].as_str().unwrap();
    assert!(e.contains("hop limit 64"), "{e}");
    assert_eq!(frames(c), vec![22, 23, 24]);
    let aaaa = d["dns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["qtype"] == "AAAA")
        .unwrap();
    assert_eq!(aaaa["answers"], serde_json::json!(["fd77::2:20"]));
}

#[test]
fn go_refusing_an_inspection_proxys_certificate() {
    // TLS 1.2: the certificate (frame 10) is issued by "Corp Inspection CA";
    // go answers with a fatal bad_certificate alert (frame 12) and a FIN.
    let d = json("gomod_untrusted_ca.pcap", &[]);
    let c = &d["connections"][0];
    assert_eq!(c["verdict"], "midstream_reset");
    assert_eq!(c["stage"], "tls_handshake");
    assert_eq!(c["reset_by"], "client");
    assert_eq!(c["server_name"], "proxy.golang.org");
    assert_eq!(c["tls"]["certificate"]["frame"], 10);
    assert_eq!(
        c["tls"]["certificate"]["issuer"],
        "O=Corp, CN=Corp Inspection CA"
    );
    assert_eq!(
        c["tls"]["alerts"],
        serde_json::json!([{"frame": 12, "from": "client", "level": "fatal", "description": "bad_certificate"}])
    );
    let e = c["explanation"].as_str().unwrap();
    assert!(e.contains("fatal bad_certificate alert (frame 12)"), "{e}");
    assert!(
        e.contains("Corp Inspection CA") && e.contains("does not trust"),
        "{e}"
    );
    assert!(frames(c).contains(&10) && frames(c).contains(&12));
}

#[test]
fn a_server_refusing_the_sni_with_an_alert() {
    let d = json("tls_sni_alert.pcap", &[]);
    let conns = d["connections"].as_array().unwrap();
    assert_eq!(conns[0]["verdict"], "ok");
    let c = &conns[1];
    assert_eq!(c["verdict"], "midstream_reset");
    assert_eq!(c["stage"], "tls_handshake");
    assert_eq!(c["reset_by"], "server");
    assert_eq!(c["server_name"], "blocked.corp.example");
    assert_eq!(c["tls"]["client_hello_frame"], 27);
    assert!(c["tls"]["certificate"].is_null());
    assert_eq!(c["tls"]["alerts"][0]["frame"], 29);
    assert_eq!(c["tls"]["alerts"][0]["description"], "unrecognized_name");
    let e = c["explanation"].as_str().unwrap();
    assert!(
        e.contains("refused the TLS handshake for blocked.corp.example with a fatal unrecognized_name alert (frame 29)"),
        "{e}"
    );
}
