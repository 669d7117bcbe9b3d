//! Runs the binary on every capture in `testdata/` and checks the verdict
//! and stage of every connection, the frames cited as evidence, and the
//! handshake RTT against tshark.
//!
//! Every expectation here was read from the packets with tshark 4.0.17
//! (`tshark -n -r FILE`; per-connection key frames are listed in
//! `testdata/README.md`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

fn analyze(rel: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .args(["analyze", "--format", "json"])
        .arg(path(rel))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{rel}: exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One expected connection: id, verdict, stage, and frames that must be
/// cited in its evidence.
struct Conn {
    id: u64,
    verdict: &'static str,
    stage: Option<&'static str>,
    evidence: &'static [u64],
}

const fn ok(id: u64) -> Conn {
    Conn {
        id,
        verdict: "ok",
        stage: None,
        evidence: &[],
    }
}

const fn bad(
    id: u64,
    verdict: &'static str,
    stage: &'static str,
    evidence: &'static [u64],
) -> Conn {
    Conn {
        id,
        verdict,
        stage: Some(stage),
        evidence,
    }
}

/// Checks every connection of `rel` and returns the document.
fn check(rel: &str, expected: &[Conn]) -> Value {
    let doc = analyze(rel);
    let conns = doc["connections"].as_array().unwrap();
    assert_eq!(conns.len(), expected.len(), "{rel}: connection count");
    for (c, e) in conns.iter().zip(expected) {
        let ctx = format!("{rel} #{}: {}", e.id, c["explanation"]);
        assert_eq!(c["id"], e.id, "{ctx}");
        assert_eq!(c["verdict"], e.verdict, "{ctx}");
        match e.stage {
            Some(s) => assert_eq!(c["stage"], s, "{ctx}"),
            None => assert!(c["stage"].is_null(), "{ctx}"),
        }
        if e.verdict == "ok" {
            assert!(c["explanation"].is_null(), "{ctx}");
        } else {
            assert!(
                c["explanation"].as_str().is_some_and(|s| !s.is_empty()),
                "{ctx}"
            );
            assert!(!c["confidence"].is_null(), "{ctx}");
        }
        let cited: Vec<u64> = c["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["frame"].as_u64().unwrap())
            .collect();
        for f in e.evidence {
            assert!(cited.contains(f), "{ctx}: frame {f} not cited in {cited:?}");
        }
    }
    doc
}

fn conn(doc: &Value, id: usize) -> &Value {
    &doc["connections"][id]
}

#[test]
fn ok_download() {
    let d = check("ok_download.pcap", &[ok(0)]);
    let c = conn(&d, 0);
    assert_eq!(c["client_ip"], "10.77.1.10");
    assert_eq!(c["server_port"], 8080);
    assert_eq!(c["syn_count"], 1);
    assert_eq!(c["retransmissions_c2s"], 0);
    assert_eq!(c["retransmissions_s2c"], 0);
    assert!(c["tcp"]["fin_c2s"].as_bool().unwrap() && c["tcp"]["fin_s2c"].as_bool().unwrap());
    assert_eq!(c["warnings"].as_array().unwrap().len(), 0);
    assert!(c["bytes_s2c"].as_u64().unwrap() > 20_000);
    assert_eq!(d["summary"]["verdicts"]["ok"], 1);
    assert_eq!(d["summary"]["failed"], 0);
}

#[test]
fn slow_server_is_ok_with_a_warning() {
    let d = check("slow_ok.pcap", &[ok(0)]);
    let c = conn(&d, 0);
    let ttfb = c["timings"]["time_to_first_byte_ms"].as_f64().unwrap();
    assert!((2000.0..2100.0).contains(&ttfb), "{ttfb}");
    assert!(c["warnings"][0].as_str().unwrap().contains("slow response"));
}

#[test]
fn dropped_syns() {
    // SYN at frame 1, six retries (frames 2-7) over 7.13 s, nothing back.
    let d = check(
        "syn_drop.pcap",
        &[bad(0, "firewall_drop", "syn", &[1, 2, 3, 4, 5, 6, 7])],
    );
    let c = conn(&d, 0);
    assert_eq!(c["syn_count"], 7);
    assert_eq!(c["retransmissions_c2s"], 6);
    assert_eq!(c["confidence"], "high");
    assert!(c["timings"]["syn_to_synack_ms"].is_null());
    assert!(c["timings"]["handshake_ms"].is_null());
}

#[test]
fn icmp_rejects_are_firewall_drops() {
    let d = check(
        "icmp_admin_prohibited.pcap",
        &[bad(0, "firewall_drop", "syn", &[1, 2])],
    );
    assert_eq!(
        conn(&d, 0)["blocked_by"],
        "10.77.1.1 (ICMP type 3 code 13: administratively prohibited)"
    );
    let d = check(
        "icmp_port_unreachable.pcap",
        &[bad(0, "firewall_drop", "syn", &[1, 2])],
    );
    assert_eq!(
        conn(&d, 0)["blocked_by"],
        "10.77.1.1 (ICMP type 3 code 3: port unreachable)"
    );
    let d = check(
        "ipv6_admin_prohibited.pcap",
        &[bad(0, "firewall_drop", "syn", &[1, 2])],
    );
    assert_eq!(
        conn(&d, 0)["blocked_by"],
        "fd77::1:1 (ICMPv6 type 1 code 1: administratively prohibited)"
    );
}

#[test]
fn closed_ports_are_service_down() {
    for f in ["closed_port.pcap", "ipv6_closed_port.pcap"] {
        let d = check(f, &[bad(0, "service_down", "syn", &[1, 2])]);
        assert_eq!(conn(&d, 0)["reset_by"], "server");
        assert_eq!(conn(&d, 0)["tcp"]["rst"]["frame"], 2);
    }
}

#[test]
fn server_accepts_and_never_answers() {
    // GET at frame 4, ACKed at 5; the client's FIN at frame 6, 8 s later.
    check(
        "accept_no_response.pcap",
        &[bad(0, "app_stall", "awaiting_response", &[4, 5, 6])],
    );
    // The same, still waiting 6.5 s later when another connection shows the
    // capture was still running.
    check(
        "accept_no_response_capture_ends.pcap",
        &[bad(0, "app_stall", "awaiting_response", &[4, 5]), ok(1)],
    );
    // The same, capture stopped 11 ms after the request: too soon to tell.
    check(
        "accept_no_response_capture_cut.pcap",
        &[bad(0, "incomplete", "awaiting_response", &[4])],
    );
}

#[test]
fn unanswered_client_hello_is_a_tls_stall() {
    let d = check(
        "tls_no_serverhello.pcap",
        &[bad(0, "app_stall", "tls_handshake", &[4, 6])],
    );
    assert!(
        conn(&d, 0)["explanation"]
            .as_str()
            .unwrap()
            .contains("ClientHello")
    );
}

#[test]
fn server_abort_mid_body_is_a_midstream_reset() {
    let d = check(
        "server_abort_mid_body.pcap",
        &[bad(0, "midstream_reset", "mid_transfer", &[46])],
    );
    let c = conn(&d, 0);
    assert_eq!(c["reset_by"], "server");
    assert_eq!(c["tcp"]["rst"]["ttl"], c["tcp"]["rst"]["prior_ttl"]);
}

#[test]
fn receiver_that_stops_reading_is_a_zero_window_stall() {
    let d = check(
        "receiver_stops_reading.pcap",
        &[bad(0, "app_stall", "zero_window", &[12, 22])],
    );
    let c = conn(&d, 0);
    assert_eq!(c["tcp"]["zero_windows_c2s"], 5);
    assert_eq!(c["tcp"]["zero_window_probes_s2c"], 5);
    // tshark flags one tail-loss-probe retransmission (frame 11).
    assert_eq!(c["retransmissions_s2c"], 1);
}

#[test]
fn established_black_hole() {
    // Request at frame 4, retransmitted at frames 5-10, never ACKed.
    let d = check(
        "established_blackhole.pcap",
        &[bad(
            0,
            "firewall_drop",
            "established",
            &[4, 5, 6, 7, 8, 9, 10],
        )],
    );
    assert_eq!(conn(&d, 0)["retransmissions_c2s"], 6);
}

#[test]
fn random_loss_that_recovers_is_ok_with_warnings() {
    let d = check("loss_ok.pcap", &[ok(0)]);
    let c = conn(&d, 0);
    // tshark: 14 retransmissions (11 fast), 8 out-of-order, 65 dup ACKs.
    assert_eq!(c["retransmissions_s2c"], 14);
    assert_eq!(c["tcp"]["fast_retransmissions_s2c"], 11);
    assert_eq!(c["tcp"]["out_of_order_s2c"], 8);
    assert_eq!(c["tcp"]["dup_acks_c2s"], 65);
    assert!(
        c["warnings"][0]
            .as_str()
            .unwrap()
            .contains("14 server→client")
    );
}

#[test]
fn link_type_and_format_variants() {
    let d = check(
        "any_sll2.pcap",
        &[ok(0), bad(1, "service_down", "syn", &[61, 62])],
    );
    assert_eq!(d["capture"]["link_types"][0], "LINUX_SLL2");
    let d = check(
        "snaplen96.pcap",
        &[ok(0), bad(1, "service_down", "syn", &[61, 62])],
    );
    // Payload sizes come from the IP header, not the 96-byte snaplen: the
    // sums of tshark's tcp.len per direction of stream 0.
    assert_eq!(conn(&d, 0)["bytes_s2c"], 40101);
    assert_eq!(conn(&d, 0)["bytes_c2s"], 79);
    let d = check(
        "mixed.pcapng",
        &[
            ok(0),
            bad(1, "firewall_drop", "syn", &[61, 62, 63, 64, 65, 66, 67]),
        ],
    );
    assert_eq!(d["capture"]["format"], "pcapng");
    check("ipv6_ok.pcap", &[ok(0)]);
    check(
        "ipv6_syn_drop.pcap",
        &[bad(0, "firewall_drop", "syn", &[1, 7])],
    );
}

#[test]
fn response_that_stops_short_of_its_length() {
    // 200 OK with Content-Length 200000 at frame 6; 30102 bytes in all (102
    // of headers; tshark: sum of tcp.len), the last at frame 44; 7.97 s of
    // silence, then the client's FIN at frame 46.
    let d = check(
        "server_stalls_mid_body.pcap",
        &[bad(0, "app_stall", "mid_transfer", &[6, 44, 46])],
    );
    assert!(
        conn(&d, 0)["explanation"]
            .as_str()
            .unwrap()
            .contains("30102 of the 200102 bytes")
    );
    // The server closes (FIN, frame 6) after the GET without a byte.
    let d = check(
        "server_fin_no_answer.pcap",
        &[bad(0, "midstream_reset", "awaiting_response", &[4, 6])],
    );
    assert_eq!(conn(&d, 0)["reset_by"], "server");
}

#[test]
fn lost_acks_are_a_return_path_black_hole() {
    // The server re-sends the already ACKed first segment at frames 25, 27,
    // 29, 31, 33 (tshark: spurious retransmissions); the client gives up.
    let d = check(
        "return_path_blackhole.pcap",
        &[bad(
            0,
            "firewall_drop",
            "established",
            &[25, 27, 29, 31, 33],
        )],
    );
    let c = conn(&d, 0);
    assert_eq!(c["retransmissions_s2c"], 5);
    assert_eq!(c["tcp"]["spurious_retransmissions_s2c"], 5);
}

#[test]
fn client_abort_is_ok_with_a_warning() {
    // The client resets at frame 30 while 2 MB are still coming.
    let d = check("client_abort_mid_transfer.pcap", &[ok(0)]);
    let w = conn(&d, 0)["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("client aborted") && w.contains("frame 30"),
        "{w}"
    );
}

#[test]
fn icmp_host_unreachable_is_service_down() {
    let d = check(
        "icmp_host_unreachable.pcap",
        &[bad(0, "service_down", "syn", &[1, 2])],
    );
    assert_eq!(
        conn(&d, 0)["blocked_by"],
        "10.77.1.1 (ICMP type 3 code 1: host unreachable)"
    );
}

#[test]
fn all_four_failures_in_one_capture() {
    let d = check(
        "all_failures.pcap",
        &[
            ok(0),
            bad(
                1,
                "firewall_drop",
                "syn",
                &[59, 114, 116, 117, 118, 119, 120],
            ),
            bad(2, "service_down", "syn", &[60, 61]),
            bad(3, "app_stall", "awaiting_response", &[65, 66, 121]),
            bad(4, "midstream_reset", "mid_transfer", &[115]),
        ],
    );
    let v = &d["summary"]["verdicts"];
    assert_eq!(v["ok"], 1);
    assert_eq!(v["firewall_drop"], 1);
    assert_eq!(v["service_down"], 1);
    assert_eq!(v["app_stall"], 1);
    assert_eq!(v["midstream_reset"], 1);
    assert_eq!(v["incomplete"], 0);
    assert_eq!(d["summary"]["failed"], 4);
}

#[test]
fn reused_ports_split_into_connections() {
    // 10.77.1.10:40000 -> :8080 three times; the third SYN meets TIME_WAIT,
    // is retried (frame 28) and refused (frame 29).
    let d = check(
        "port_reuse.pcap",
        &[ok(0), ok(1), bad(2, "service_down", "syn", &[25, 28, 29])],
    );
    for i in 0..3 {
        assert_eq!(conn(&d, i)["client_port"], 40000);
    }
    assert_eq!(conn(&d, 0)["tcp"]["reused_ports"], false);
    assert_eq!(conn(&d, 1)["tcp"]["reused_ports"], true);
    assert_eq!(conn(&d, 2)["syn_count"], 2);
}

#[test]
fn public_captures() {
    // Chris Sanders, Practical Packet Analysis: SYN, RST/ACK 1.3 ms later.
    check(
        "public/tcp_refuseconnection.pcapng",
        &[bad(0, "service_down", "syn", &[1, 2])],
    );
    // SYN at frame 3, retried at 4 and 5 (1.0 s), no answer.
    check(
        "public/nowebaccess3.pcapng",
        &[bad(0, "firewall_drop", "syn", &[3, 4, 5])],
    );
    // pathspider: SYN, ICMPv6 address unreachable from the router 3.2 s later.
    let d = check(
        "public/icmp_ipv6_unreachable.pcap",
        &[bad(0, "service_down", "syn", &[1, 2])],
    );
    assert!(
        conn(&d, 0)["blocked_by"]
            .as_str()
            .unwrap()
            .contains("code 3")
    );
    // pathspider: GET ACKed, no response, server RST/ACK at frame 6.
    check(
        "public/tcp_ipv4_rst.pcap",
        &[bad(0, "midstream_reset", "awaiting_response", &[6])],
    );
    // Starts mid-stream: the client keeps a zero window for 23.7 s.
    let d = check(
        "public/tcp_zerowindowdead.pcapng",
        &[bad(0, "app_stall", "zero_window", &[2])],
    );
    assert_eq!(conn(&d, 0)["client_inferred"], true);
    assert_eq!(conn(&d, 0)["client_port"], 38760);
    // The same SYN refused three times (the client retries after RST/ACK).
    let d = check(
        "public/nowebaccess2.pcapng",
        &[bad(0, "service_down", "syn", &[3, 4, 5, 7])],
    );
    assert_eq!(conn(&d, 0)["syn_count"], 3);
    assert!(
        conn(&d, 0)["explanation"]
            .as_str()
            .unwrap()
            .contains("each answered by RST/ACK")
    );
    // Mid-stream: 648 bytes retransmitted five times over 9.2 s, nothing back.
    let d = check(
        "public/tcp_retransmissions.pcapng",
        &[bad(0, "firewall_drop", "established", &[1, 2, 3, 4, 5, 6])],
    );
    assert_eq!(conn(&d, 0)["client_port"], 1048);
    assert_eq!(conn(&d, 0)["retransmissions_c2s"], 5);
    // BSD loopback (NULL) link type: refused on ::1, ok on 127.0.0.1.
    let d = check(
        "public/irc-353.pcap",
        &[bad(0, "service_down", "syn", &[1, 2]), ok(1)],
    );
    assert_eq!(d["capture"]["link_types"][0], "NULL");
}

/// tshark's `tcp.analysis.initial_rtt` (ms) per file and tcp.stream, from
/// `testdata/tshark-facts.sh` (tshark 4.0.17):
/// `tshark -r F -Y tcp.analysis.initial_rtt -T fields -e tcp.stream -e tcp.analysis.initial_rtt`,
/// first value per stream, streams with a SYN/ACK only.
const TSHARK_IRTT_MS: &[(&str, u64, f64)] = &[
    ("accept_no_response.pcap", 0, 10.495),
    ("accept_no_response_capture_cut.pcap", 0, 10.554),
    ("accept_no_response_capture_ends.pcap", 0, 10.535),
    ("accept_no_response_capture_ends.pcap", 1, 11.344),
    ("all_failures.pcap", 0, 10.656),
    ("all_failures.pcap", 3, 10.750),
    ("all_failures.pcap", 4, 10.681),
    ("any_sll2.pcap", 0, 10.534),
    ("established_blackhole.pcap", 0, 10.436),
    ("ipv6_ok.pcap", 0, 12.134),
    ("loss_ok.pcap", 0, 10.597),
    ("ok_download.pcap", 0, 10.655),
    ("port_reuse.pcap", 0, 10.695),
    ("port_reuse.pcap", 1, 10.821),
    ("receiver_stops_reading.pcap", 0, 10.368),
    ("server_abort_mid_body.pcap", 0, 10.405),
    ("slow_ok.pcap", 0, 10.473),
    ("snaplen96.pcap", 0, 12.114),
    ("tls_no_serverhello.pcap", 0, 10.431),
    ("mixed.pcapng", 0, 14.827587),
    ("client_abort_mid_transfer.pcap", 0, 10.380),
    ("return_path_blackhole.pcap", 0, 10.465),
    ("server_fin_no_answer.pcap", 0, 10.446),
    ("server_stalls_mid_body.pcap", 0, 10.626),
    ("public/irc-353.pcap", 1, 0.067),
    ("public/tcp_ipv4_rst.pcap", 0, 3.929),
];

#[test]
fn handshake_rtt_matches_recorded_tshark_values() {
    for (file, stream, theirs) in TSHARK_IRTT_MS {
        let d = analyze(file);
        let c = conn(&d, *stream as usize);
        let ours = c["timings"]["initial_rtt_ms"].as_f64().unwrap();
        assert!(
            (ours - theirs).abs() < 0.1,
            "{file} #{stream}: ours {ours}, tshark {theirs}"
        );
        // SYN -> SYN/ACK -> ACK adds up to the initial RTT on a client-side capture.
        let a = c["timings"]["syn_to_synack_ms"].as_f64().unwrap();
        let b = c["timings"]["synack_to_ack_ms"].as_f64().unwrap();
        assert!((a + b - ours).abs() < 1e-6, "{file} #{stream}");
    }
}

#[test]
fn every_shipped_capture_is_covered() {
    let mut listed = vec![
        "accept_no_response.pcap",
        "accept_no_response_capture_cut.pcap",
        "accept_no_response_capture_ends.pcap",
        "all_failures.pcap",
        "any_sll2.pcap",
        "client_abort_mid_transfer.pcap",
        "closed_port.pcap",
        "established_blackhole.pcap",
        "icmp_admin_prohibited.pcap",
        "icmp_host_unreachable.pcap",
        "icmp_port_unreachable.pcap",
        "ipv6_admin_prohibited.pcap",
        "ipv6_closed_port.pcap",
        "ipv6_ok.pcap",
        "ipv6_syn_drop.pcap",
        "loss_ok.pcap",
        "mixed.pcapng",
        "ok_download.pcap",
        "port_reuse.pcap",
        "receiver_stops_reading.pcap",
        "return_path_blackhole.pcap",
        "server_abort_mid_body.pcap",
        "server_fin_no_answer.pcap",
        "server_stalls_mid_body.pcap",
        "slow_ok.pcap",
        "snaplen96.pcap",
        "syn_drop.pcap",
        "tls_no_serverhello.pcap",
        // Checked in tests/context.rs (DNS, TLS, HTTP, Go modules):
        "dns_nxdomain.pcap",
        "dns_ok_fetch.pcap",
        "dns_refused.pcap",
        "dns_timeout.pcap",
        "gomod_ok.pcap",
        "gomod_reset.pcap",
        "gomod_sni_reset.pcap",
        "gomod_stall.pcap",
        "sni_reset.pcap",
        "gomod_syn_drop.pcap",
        "gomod_tls_stall.pcap",
        "gomod_fallback.pcap",
        "dns_servfail.pcap",
        "dns_tcp.pcap",
        "icmp_admin_named.pcap",
        "gomod_auth_403.pcap",
        "gomod_auth_407.pcap",
        "gomod_pseudo_stall.pcap",
        "gomod_stall_mod.pcap",
        "sumdb_sni_reset.pcap",
        "ipv6_sni_reset.pcap",
        "gomod_untrusted_ca.pcap",
        "tls_sni_alert.pcap",
    ];
    listed.sort();
    let mut found: Vec<String> = std::fs::read_dir(path(""))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    found.sort();
    assert_eq!(
        found, listed,
        "a capture was added or removed: give it expectations here"
    );
}
