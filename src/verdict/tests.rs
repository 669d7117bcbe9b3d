//! Rule tests on hand-built segment sequences, one per situation, with
//! explicit capture times (smoltcp style). The real-packet tests live in
//! `tests/`.

use super::*;
use crate::decode::{
    IcmpError, IcmpErrorKind, IpInfo, QuotedTcp, TcpFlags, TcpOptions, TcpSegment,
};
use crate::flows::{Connection, Event, FlowTable};
use std::net::{IpAddr, Ipv4Addr};

const S: u8 = TcpFlags::SYN;
const A: u8 = TcpFlags::ACK;
const F: u8 = TcpFlags::FIN;
const R: u8 = TcpFlags::RST;
const P: u8 = TcpFlags::PSH;

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 77, 1, 2));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 77, 2, 20));
const ROUTER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 77, 1, 1));
const CPORT: u16 = 40000;
const SPORT: u16 = 80;
const CISN: u32 = 1000;
const SISN: u32 = 5000;

static HELLO: [u8; 8] = [0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00];
static GET: [u8; 4] = *b"GET ";

struct Sim {
    table: FlowTable,
    frame: u64,
    end_ms: f64,
}

fn ts(ms: f64) -> Ts {
    Ts(1_700_000_000_000_000_000 + (ms * 1e6) as i64)
}

impl Sim {
    fn new() -> Sim {
        Sim {
            table: FlowTable::new(),
            frame: 0,
            end_ms: 0.0,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn seg(
        &mut self,
        from_client: bool,
        ms: f64,
        flags: u8,
        seq: u32,
        ack: u32,
        len: u32,
        win: u16,
        payload: &[u8],
    ) {
        self.frame += 1;
        self.end_ms = self.end_ms.max(ms);
        let (src, dst, sp, dp, ttl) = if from_client {
            (CLIENT, SERVER, CPORT, SPORT, 64)
        } else {
            (SERVER, CLIENT, SPORT, CPORT, 62)
        };
        let seg = TcpSegment {
            ip: IpInfo {
                src,
                dst,
                ttl,
                ip_id: Some(self.frame as u16),
            },
            src_port: sp,
            dst_port: dp,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: win,
            options: TcpOptions::default(),
            payload_len: len,
            payload,
            options_truncated: false,
        };
        self.table.on_tcp(
            &seg,
            Event {
                frame: self.frame,
                ts: ts(ms),
            },
        );
    }

    fn c(&mut self, ms: f64, flags: u8, seq: u32, ack: u32, len: u32) {
        self.seg(true, ms, flags, seq, ack, len, 64240, &[]);
    }
    fn s(&mut self, ms: f64, flags: u8, seq: u32, ack: u32, len: u32) {
        self.seg(false, ms, flags, seq, ack, len, 65160, &[]);
    }

    fn handshake(&mut self, t: f64) {
        self.c(t, S, CISN, 0, 0);
        self.s(t + 10.0, S | A, SISN, CISN + 1, 0);
        self.c(t + 20.0, A, CISN + 1, SISN + 1, 0);
    }

    fn icmp(&mut self, ms: f64, kind: IcmpErrorKind, t: u8, code: u8) {
        self.frame += 1;
        self.end_ms = self.end_ms.max(ms);
        let err = IcmpError {
            ip: IpInfo {
                src: ROUTER,
                dst: CLIENT,
                ttl: 64,
                ip_id: None,
            },
            v6: false,
            icmp_type: t,
            code,
            kind,
            quoted: QuotedTcp {
                src: CLIENT,
                dst: SERVER,
                src_port: CPORT,
                dst_port: SPORT,
                seq: Some(CISN),
            },
        };
        self.table.on_icmp(
            &err,
            Event {
                frame: self.frame,
                ts: ts(ms),
            },
        );
    }

    fn verdicts(&self, end_ms: f64) -> Vec<(Connection, Verdict)> {
        let ctx = Context {
            capture_end: ts(end_ms.max(self.end_ms)),
            stall_after_ns: Context::DEFAULT_STALL_AFTER_NS,
        };
        self.table
            .connections()
            .into_iter()
            .map(|c| (c.clone(), classify(c, &ctx)))
            .collect()
    }

    fn one(&self, end_ms: f64) -> (Connection, Verdict) {
        let mut v = self.verdicts(end_ms);
        assert_eq!(v.len(), 1, "expected one connection");
        v.remove(0)
    }
}

#[test]
fn syn_retries_unanswered_are_a_firewall_drop() {
    let mut s = Sim::new();
    s.c(0.0, S, CISN, 0, 0);
    s.c(1000.0, S, CISN, 0, 0);
    s.c(3000.0, S, CISN, 0, 0);
    s.c(7000.0, S, CISN, 0, 0);
    let (c, v) = s.one(15000.0);
    assert_eq!(v.kind, VerdictKind::FirewallDrop);
    assert_eq!(v.stage, Some(Stage::Syn));
    assert_eq!(v.confidence, Some(Confidence::High));
    assert_eq!(c.handshake.syn_count, 4);
    assert_eq!(
        c.c2s().retransmissions,
        3,
        "SYN retries are retransmissions, as in Wireshark"
    );
    let frames: Vec<u64> = v.evidence.iter().map(|e| e.frame).collect();
    assert_eq!(frames, vec![1, 2, 3, 4]);
    assert!(v.explanation.contains("4 SYNs"), "{}", v.explanation);
    assert!(v.explanation.contains("gave up"), "{}", v.explanation);
}

#[test]
fn a_syn_just_before_the_end_is_incomplete() {
    let mut s = Sim::new();
    s.c(0.0, S, CISN, 0, 0);
    let (_, v) = s.one(200.0);
    assert_eq!(v.kind, VerdictKind::Incomplete);
    assert_eq!(v.stage, Some(Stage::Syn));
    assert!(v.explanation.contains("200.0 ms"), "{}", v.explanation);
}

#[test]
fn rst_ack_to_syn_is_service_down() {
    let mut s = Sim::new();
    s.c(0.0, S, CISN, 0, 0);
    s.s(0.3, R | A, 0, CISN + 1, 0);
    let (_, v) = s.one(0.3);
    assert_eq!(v.kind, VerdictKind::ServiceDown);
    assert_eq!(v.stage, Some(Stage::Syn));
    assert_eq!(v.reset_by, Some(ResetBy::Server));
    assert_eq!(v.confidence, Some(Confidence::High));
    assert_eq!(v.evidence.last().map(|e| e.frame), Some(2));
}

#[test]
fn icmp_admin_prohibited_is_a_firewall_reject() {
    let mut s = Sim::new();
    s.c(0.0, S, CISN, 0, 0);
    s.icmp(0.5, IcmpErrorKind::AdminProhibited, 3, 13);
    let (_, v) = s.one(0.5);
    assert_eq!(v.kind, VerdictKind::FirewallDrop);
    assert_eq!(v.stage, Some(Stage::Syn));
    let b = v.blocked_by.unwrap();
    assert!(b.starts_with("10.77.1.1 (ICMP type 3 code 13"), "{b}");
}

#[test]
fn icmp_host_unreachable_is_service_down() {
    let mut s = Sim::new();
    s.c(0.0, S, CISN, 0, 0);
    s.c(1000.0, S, CISN, 0, 0);
    s.icmp(3000.0, IcmpErrorKind::HostUnreachable, 3, 1);
    let (_, v) = s.one(3000.0);
    assert_eq!(v.kind, VerdictKind::ServiceDown);
    assert!(v.blocked_by.is_some());
}

#[test]
fn request_acked_never_answered_then_client_fin_is_app_stall() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.s(31.0, A, SISN + 1, CISN + 81, 0);
    s.c(8021.0, F | A, CISN + 81, SISN + 1, 0);
    s.s(8031.0, F | A, SISN + 1, CISN + 82, 0);
    s.c(8041.0, A, CISN + 82, SISN + 2, 0);
    let (c, v) = s.one(8041.0);
    assert_eq!(v.kind, VerdictKind::AppStall);
    assert_eq!(v.stage, Some(Stage::AwaitingResponse));
    assert_eq!(v.confidence, Some(Confidence::High));
    assert!(v.explanation.contains("frame 4"), "{}", v.explanation);
    assert!(
        v.explanation.contains("ACKed by the server at frame 5"),
        "{}",
        v.explanation
    );
    assert!(v.explanation.contains("FIN, frame 6"), "{}", v.explanation);
    assert_eq!(c.initial_rtt_ns(), Some(20_000_000));
}

#[test]
fn unanswered_client_hello_is_a_tls_stall() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 517, 64240, &HELLO);
    s.s(31.0, A, SISN + 1, CISN + 518, 0);
    s.c(10021.0, F | A, CISN + 518, SISN + 1, 0);
    let (_, v) = s.one(10021.0);
    assert_eq!(v.kind, VerdictKind::AppStall);
    assert_eq!(v.stage, Some(Stage::TlsHandshake));
    assert!(v.explanation.contains("ClientHello"), "{}", v.explanation);
}

#[test]
fn request_unanswered_at_capture_end() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.s(31.0, A, SISN + 1, CISN + 81, 0);
    let (_, v) = s.one(7000.0);
    assert_eq!(v.kind, VerdictKind::AppStall);
    assert_eq!(v.stage, Some(Stage::AwaitingResponse));
    let (_, v) = s.one(2000.0);
    assert_eq!(v.kind, VerdictKind::Incomplete);
    assert_eq!(v.stage, Some(Stage::AwaitingResponse));
}

#[test]
fn server_rst_mid_body_is_a_midstream_reset() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.s(31.0, A, SISN + 1, CISN + 81, 1448);
    s.c(32.0, A, CISN + 81, SISN + 1449, 0);
    s.s(33.0, R | A, SISN + 1449, CISN + 81, 0);
    let (c, v) = s.one(33.0);
    assert_eq!(v.kind, VerdictKind::MidstreamReset);
    assert_eq!(v.stage, Some(Stage::MidTransfer));
    assert_eq!(v.reset_by, Some(ResetBy::Server));
    let rst = c.rst.unwrap();
    assert_eq!(rst.frame_ttl(), (7, 62, Some(62)));
}

impl crate::flows::RstInfo {
    fn frame_ttl(&self) -> (u64, u8, Option<u8>) {
        (self.at.frame, self.ttl, self.prior_ttl)
    }
}

#[test]
fn rst_with_a_different_ttl_is_flagged_as_possibly_injected() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 517, 64240, &HELLO);
    s.s(31.0, A, SISN + 1, CISN + 518, 0);
    // An RST with the server's address but a very different TTL.
    s.frame += 1;
    let seg = TcpSegment {
        ip: IpInfo {
            src: SERVER,
            dst: CLIENT,
            ttl: 250,
            ip_id: Some(0),
        },
        src_port: SPORT,
        dst_port: CPORT,
        seq: SISN + 1,
        ack: CISN + 518,
        flags: TcpFlags(R | A),
        window: 0,
        options: TcpOptions::default(),
        payload_len: 0,
        payload: &[],
        options_truncated: false,
    };
    s.table.on_tcp(
        &seg,
        Event {
            frame: s.frame,
            ts: ts(32.0),
        },
    );
    let (_, v) = s.one(32.0);
    assert_eq!(v.kind, VerdictKind::MidstreamReset);
    assert_eq!(v.stage, Some(Stage::TlsHandshake));
    assert_eq!(v.confidence, Some(Confidence::Medium));
    assert_eq!(v.reset_by, Some(ResetBy::Middlebox));
    assert!(v.explanation.contains("middlebox"), "{}", v.explanation);
    assert!(v.explanation.contains("TTL 250"), "{}", v.explanation);
}

#[test]
fn normal_exchange_with_fins_is_ok() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.s(31.0, P | A, SISN + 1, CISN + 81, 500);
    s.c(32.0, F | A, CISN + 81, SISN + 501, 0);
    s.s(42.0, F | A, SISN + 501, CISN + 82, 0);
    s.c(43.0, A, CISN + 82, SISN + 502, 0);
    let (c, v) = s.one(43.0);
    assert_eq!(v.kind, VerdictKind::Ok);
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    assert_eq!(c.c2s().retransmissions + c.s2c().retransmissions, 0);
    assert_eq!(c.c2s().dup_acks, 0);
    let t = crate::report::timings(&c, ts(43.0));
    let ms = |n: i64| Some(crate::time::Nanos(n * 1_000_000));
    assert_eq!(t.syn_to_synack_ms, ms(10));
    assert_eq!(t.synack_to_ack_ms, ms(10));
    assert_eq!(t.handshake_ms, ms(20));
    assert_eq!(t.ack_to_first_data_ms, ms(1));
    assert_eq!(t.time_to_first_byte_ms, ms(10));
    assert_eq!(Some(t.duration_ms), ms(43));
}

#[test]
fn client_rst_right_after_the_response_is_ok() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.s(31.0, P | A, SISN + 1, CISN + 81, 500);
    s.c(32.0, R | A, CISN + 81, SISN + 501, 0);
    let (_, v) = s.one(32.0);
    assert_eq!(v.kind, VerdictKind::Ok);
    assert!(
        v.warnings.iter().any(|w| w.contains("RST from the client")),
        "{:?}",
        v.warnings
    );
}

#[test]
fn request_retransmitted_into_silence_is_an_established_drop() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 1000.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    for t in [1210.0, 1630.0, 2470.0, 4150.0, 7510.0] {
        s.seg(true, t, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    }
    let (c, v) = s.one(9000.0);
    assert_eq!(c.c2s().retransmissions, 5);
    assert_eq!(v.kind, VerdictKind::FirewallDrop);
    assert_eq!(v.stage, Some(Stage::Established));
    assert_eq!(v.confidence, Some(Confidence::High));
    assert!(v.explanation.contains("5 times"), "{}", v.explanation);
}

#[test]
fn zero_window_never_reopened_is_an_app_stall() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.s(31.0, A, SISN + 1, CISN + 81, 1000);
    s.seg(true, 32.0, A, CISN + 81, SISN + 1001, 0, 0, &[]);
    // Linux probes a zero window with seq = snd_una - 1 and no data.
    for t in [300.0, 700.0, 1500.0, 3100.0, 6300.0] {
        s.s(t, A, SISN + 1000, CISN + 81, 0);
        s.seg(true, t + 1.0, A, CISN + 81, SISN + 1001, 0, 0, &[]);
    }
    let (c, v) = s.one(8000.0);
    assert_eq!(c.s2c().zero_window_probes, 5);
    assert_eq!(c.s2c().retransmissions, 0, "probes are not retransmissions");
    assert_eq!(v.kind, VerdictKind::AppStall);
    assert_eq!(v.stage, Some(Stage::ZeroWindow));
}

#[test]
fn ports_reused_make_separate_connections() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.c(30.0, F | A, CISN + 1, SISN + 1, 0);
    s.s(31.0, F | A, SISN + 1, CISN + 2, 0);
    s.c(32.0, A, CISN + 2, SISN + 2, 0);
    // Same 4-tuple, new ISN.
    s.c(100.0, S, CISN + 100_000, 0, 0);
    s.s(101.0, R | A, 0, CISN + 100_001, 0);
    // And again: a retransmitted SYN of the same attempt is not new.
    s.c(200.0, S, CISN + 200_000, 0, 0);
    s.c(1200.0, S, CISN + 200_000, 0, 0);
    let v = s.verdicts(5000.0);
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].1.kind, VerdictKind::Ok);
    assert_eq!(v[1].1.kind, VerdictKind::ServiceDown);
    assert!(v[1].0.reused_ports);
    assert_eq!(v[2].1.kind, VerdictKind::FirewallDrop);
    assert_eq!(v[2].0.handshake.syn_count, 2);
    assert_eq!(v.iter().map(|x| x.0.id).collect::<Vec<_>>(), vec![0, 1, 2]);
}

#[test]
fn sequence_numbers_wrap_without_false_retransmissions() {
    let mut s = Sim::new();
    let isn = u32::MAX - 100;
    s.c(0.0, S, isn, 0, 0);
    s.s(10.0, S | A, SISN, isn.wrapping_add(1), 0);
    s.c(20.0, A, isn.wrapping_add(1), SISN + 1, 0);
    let mut seq = isn.wrapping_add(1);
    for i in 0..5 {
        s.c(21.0 + i as f64, A, seq, SISN + 1, 60);
        seq = seq.wrapping_add(60);
    }
    let (c, v) = s.one(30.0);
    assert_eq!(c.c2s().retransmissions, 0);
    assert_eq!(c.c2s().out_of_order, 0);
    assert_eq!(c.c2s().bytes, 300);
    assert_eq!(
        v.kind,
        VerdictKind::Incomplete,
        "request unanswered, capture ended 4 ms later"
    );
}

#[test]
fn fast_retransmission_after_two_dup_acks() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 10, 64240, &GET);
    s.s(30.0, A, SISN + 1, CISN + 11, 1000);
    // Segment 1001..2001 lost; the client sees 2001.. and dup-acks 1001.
    s.s(31.0, A, SISN + 2001, CISN + 11, 1000);
    s.c(31.5, A, CISN + 11, SISN + 1001, 0);
    s.c(31.6, A, CISN + 11, SISN + 1001, 0);
    s.c(31.7, A, CISN + 11, SISN + 1001, 0);
    s.s(35.0, A, SISN + 1001, CISN + 11, 1000);
    let (c, _) = s.one(40.0);
    assert_eq!(c.c2s().dup_acks, 2);
    assert_eq!(c.s2c().fast_retransmissions, 1);
    assert_eq!(c.s2c().retransmissions, 1);
}

#[test]
fn keep_alives_are_not_retransmissions() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.s(31.0, P | A, SISN + 1, CISN + 81, 500);
    s.c(32.0, A, CISN + 81, SISN + 501, 0);
    s.c(15032.0, A, CISN + 80, SISN + 501, 0);
    s.s(15042.0, A, SISN + 501, CISN + 81, 0);
    let (c, v) = s.one(16000.0);
    assert_eq!(c.c2s().keep_alives, 1);
    assert_eq!(c.c2s().retransmissions, 0);
    assert_eq!(
        v.kind,
        VerdictKind::Ok,
        "an idle keep-alive connection is ok"
    );
}

#[test]
fn mid_stream_capture_guesses_the_client_from_ports() {
    let mut s = Sim::new();
    s.s(0.0, P | A, SISN + 1, CISN + 81, 500);
    s.c(1.0, A, CISN + 81, SISN + 501, 0);
    let (c, v) = s.one(2.0);
    assert!(c.client_inferred);
    assert_eq!(c.client, (CLIENT, CPORT));
    assert_eq!(v.kind, VerdictKind::Ok);
    assert!(v.warnings.iter().any(|w| w.contains("mid-connection")));
}

#[test]
fn server_fin_without_answer_is_reported() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 517, 64240, &HELLO);
    s.s(31.0, F | A, SISN + 1, CISN + 518, 0);
    let (_, v) = s.one(40.0);
    assert_eq!(v.kind, VerdictKind::MidstreamReset);
    assert_eq!(v.stage, Some(Stage::TlsHandshake));
    assert_eq!(v.reset_by, Some(ResetBy::Server));
}

use crate::testutil::Lcg;

#[test]
fn random_segments_never_panic() {
    let mut r = Lcg(7);
    for round in 0..50 {
        let mut table = FlowTable::new();
        let mut t: i64 = if round % 2 == 0 { 0 } else { i64::MIN / 2 };
        for frame in 1..=400u64 {
            // Time mostly moves forward, sometimes jumps back or far ahead.
            t = match r.next() % 10 {
                0 => t.saturating_sub((r.next() % 5_000_000_000) as i64),
                1 => t.saturating_add(i64::MAX / 4),
                _ => t.saturating_add((r.next() % 2_000_000_000) as i64),
            };
            let from_client = r.next().is_multiple_of(2);
            let port = 40000 + (r.next() % 3) as u16;
            let (src, dst, sp, dp) = if from_client {
                (CLIENT, SERVER, port, SPORT)
            } else {
                (SERVER, CLIENT, SPORT, port)
            };
            let seg = TcpSegment {
                ip: IpInfo {
                    src,
                    dst,
                    ttl: (r.next() % 256) as u8,
                    ip_id: Some(r.next() as u16),
                },
                src_port: sp,
                dst_port: dp,
                seq: if r.next().is_multiple_of(3) {
                    r.next() as u32
                } else {
                    CISN.wrapping_add((r.next() % 5000) as u32)
                },
                ack: r.next() as u32,
                flags: TcpFlags(r.next() as u8),
                window: if r.next().is_multiple_of(4) {
                    0
                } else {
                    r.next() as u16
                },
                options: TcpOptions::default(),
                payload_len: match r.next() % 4 {
                    0 => u32::MAX - (r.next() % 3) as u32,
                    1 => 0,
                    _ => (r.next() % 3000) as u32,
                },
                payload: &HELLO,
                options_truncated: false,
            };
            table.on_tcp(&seg, Event { frame, ts: Ts(t) });
            if r.next().is_multiple_of(20) {
                let err = IcmpError {
                    ip: IpInfo {
                        src: ROUTER,
                        dst: CLIENT,
                        ttl: 64,
                        ip_id: None,
                    },
                    v6: false,
                    icmp_type: 3,
                    code: (r.next() % 16) as u8,
                    kind: IcmpErrorKind::OtherUnreachable,
                    quoted: QuotedTcp {
                        src: CLIENT,
                        dst: SERVER,
                        src_port: port,
                        dst_port: SPORT,
                        seq: Some(r.next() as u32),
                    },
                };
                table.on_icmp(&err, Event { frame, ts: Ts(t) });
            }
        }
        for end in [Ts(i64::MIN), Ts(0), Ts(t), Ts(i64::MAX)] {
            let ctx = Context {
                capture_end: end,
                stall_after_ns: Context::DEFAULT_STALL_AFTER_NS,
            };
            for c in table.connections() {
                let v = classify(c, &ctx);
                assert!(v.kind == VerdictKind::Ok || !v.explanation.is_empty());
                let rep = crate::report::connection_report(c, &v, Ts(0), end, &Default::default());
                serde_json::to_string(&rep).unwrap();
            }
        }
    }
}

static RESP: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\nbody...";
const RESP_HEAD: u32 = 67;

fn http_exchange(s: &mut Sim, first_segment: u32) {
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.seg(
        false,
        31.0,
        P | A,
        SISN + 1,
        CISN + 81,
        first_segment,
        65160,
        RESP,
    );
    s.c(32.0, A, CISN + 81, SISN + 1 + first_segment, 0);
}

#[test]
fn http_response_head_is_parsed() {
    let h = crate::flows::HttpResponseHead::parse(RESP).unwrap();
    assert_eq!(h.status, 200);
    assert_eq!(h.header_len, RESP_HEAD);
    assert_eq!(h.content_length, Some(5000));
    assert!(!h.chunked);
    assert!(crate::flows::HttpResponseHead::parse(b"HTTP/1.1 200 OK\r\nContent-Le").is_none());
    assert!(crate::flows::HttpResponseHead::parse(b"\x16\x03\x01").is_none());
}

#[test]
fn response_that_stops_short_then_client_gives_up_is_a_mid_transfer_stall() {
    let mut s = Sim::new();
    http_exchange(&mut s, 1448);
    s.c(8032.0, F | A, CISN + 81, SISN + 1449, 0);
    let (c, v) = s.one(8040.0);
    assert_eq!(
        c.http_response_short(),
        Some((1448, u64::from(RESP_HEAD) + 5000))
    );
    assert_eq!(v.kind, VerdictKind::AppStall);
    assert_eq!(v.stage, Some(Stage::MidTransfer));
    assert!(
        v.explanation.contains("1448 of the 5067 bytes"),
        "{}",
        v.explanation
    );
}

#[test]
fn response_that_stops_short_at_capture_end() {
    let mut s = Sim::new();
    http_exchange(&mut s, 1448);
    let (_, v) = s.one(7000.0);
    assert_eq!(
        (v.kind, v.stage),
        (VerdictKind::AppStall, Some(Stage::MidTransfer))
    );
    // Data flowed until just before the end: still active, so ok.
    let (_, v) = s.one(1000.0);
    assert_eq!(v.kind, VerdictKind::Ok);
}

#[test]
fn complete_response_then_idle_is_ok() {
    let mut s = Sim::new();
    http_exchange(&mut s, RESP_HEAD + 5000);
    let (_, v) = s.one(60_000.0);
    assert_eq!(v.kind, VerdictKind::Ok);
}

#[test]
fn server_fin_before_the_announced_length_is_reported() {
    let mut s = Sim::new();
    http_exchange(&mut s, 1448);
    s.s(40.0, F | A, SISN + 1449, CISN + 81, 0);
    let (_, v) = s.one(50.0);
    assert_eq!(v.kind, VerdictKind::MidstreamReset);
    assert_eq!(v.stage, Some(Stage::MidTransfer));
    assert!(v.explanation.contains("FIN"), "{}", v.explanation);
}

#[test]
fn head_responses_announce_a_length_without_a_body() {
    static HEAD: [u8; 5] = *b"HEAD ";
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &HEAD);
    s.seg(
        false,
        31.0,
        P | A,
        SISN + 1,
        CISN + 81,
        RESP_HEAD,
        65160,
        RESP,
    );
    s.c(8032.0, F | A, CISN + 81, SISN + 1 + RESP_HEAD, 0);
    let (_, v) = s.one(8040.0);
    assert_eq!(v.kind, VerdictKind::Ok);
}

/// The TLS records of a fixture byte stream (real OpenSSL handshakes made
/// by `src/sniff/testdata/tls/gen.py`).
fn records(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 5 <= bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[at + 3], bytes[at + 4]]));
        let end = (at + 5 + len).min(bytes.len());
        out.push(&bytes[at..end]);
        at = end;
    }
    out
}

#[test]
fn server_fatal_alert_refuses_the_handshake() {
    // The server answers the ClientHello for blocked.example.com with a
    // fatal unrecognized_name alert, then closes.
    let hello = include_bytes!("../sniff/testdata/tls/sni_reject_c2s.bin");
    let alert = include_bytes!("../sniff/testdata/tls/sni_reject_s2c.bin");
    let mut s = Sim::new();
    s.handshake(0.0);
    let hl = hello.len() as u32;
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, hl, 64240, hello);
    s.seg(false, 31.0, P | A, SISN + 1, CISN + 1 + hl, 7, 65160, alert);
    s.s(31.5, F | A, SISN + 8, CISN + 1 + hl, 0);
    s.c(32.0, F | A, CISN + 1 + hl, SISN + 9, 0);
    s.s(42.0, A, SISN + 9, CISN + 2 + hl, 0);
    let (_, v) = s.one(3000.0);
    assert_eq!(v.kind, VerdictKind::MidstreamReset);
    assert_eq!(v.stage, Some(Stage::TlsHandshake));
    assert_eq!(v.reset_by, Some(ResetBy::Server));
    assert!(
        v.explanation
            .contains("refused the TLS handshake for blocked.example.com with a fatal unrecognized_name alert (frame 5)"),
        "{}",
        v.explanation
    );
    assert_eq!(
        v.evidence.iter().map(|e| e.frame).collect::<Vec<_>>(),
        vec![4, 5]
    );
}

#[test]
fn client_fatal_alert_names_the_untrusted_issuer() {
    // A self-signed "Corp Inspection CA" certificate; the client answers
    // with a fatal unknown_ca alert and closes.
    let c2s = include_bytes!("../sniff/testdata/tls/selfsigned_c2s.bin");
    let s2c = include_bytes!("../sniff/testdata/tls/selfsigned_s2c.bin");
    let recs = records(c2s);
    let (hello, alert) = (recs[0], recs[recs.len() - 1]);
    let mut s = Sim::new();
    s.handshake(0.0);
    let hl = hello.len() as u32;
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, hl, 64240, hello);
    let (a, b) = s2c.split_at(s2c.len().min(1448));
    s.seg(
        false,
        31.0,
        A,
        SISN + 1,
        CISN + 1 + hl,
        a.len() as u32,
        65160,
        a,
    );
    let sb = SISN + 1 + a.len() as u32;
    s.seg(
        false,
        31.1,
        P | A,
        sb,
        CISN + 1 + hl,
        b.len() as u32,
        65160,
        b,
    );
    let send = sb + b.len() as u32;
    let al = alert.len() as u32;
    s.seg(true, 32.0, P | A, CISN + 1 + hl, send, al, 64240, alert);
    s.c(32.1, F | A, CISN + 1 + hl + al, send, 0);
    s.s(42.0, F | A, send, CISN + 2 + hl + al, 0);
    s.c(42.1, A, CISN + 2 + hl + al, send + 1, 0);
    let (_, v) = s.one(3000.0);
    assert_eq!(v.kind, VerdictKind::MidstreamReset);
    assert_eq!(v.stage, Some(Stage::TlsHandshake));
    assert_eq!(v.reset_by, Some(ResetBy::Client));
    let e = &v.explanation;
    assert!(e.contains("fatal unknown_ca alert (frame 7)"), "{e}");
    assert!(e.contains("Corp Inspection CA"), "{e}");
    assert!(e.contains("does not trust that certificate"), "{e}");
}

#[test]
fn hostile_timestamps_do_not_overflow_the_go_timeout_check() {
    // A SYN near the end of time, then the client's RST at time zero: the
    // span between them saturates; comparing it with go's 30 s must not
    // overflow (debug builds would panic).
    let mut t = FlowTable::new();
    let seg = |flags: u8, seq: u32| TcpSegment {
        ip: IpInfo {
            src: CLIENT,
            dst: SERVER,
            ttl: 64,
            ip_id: Some(1),
        },
        src_port: CPORT,
        dst_port: SPORT,
        seq,
        ack: 0,
        flags: TcpFlags(flags),
        window: 1000,
        options: TcpOptions::default(),
        payload_len: 0,
        payload: &[],
        options_truncated: false,
    };
    t.on_tcp(
        &seg(S, CISN),
        Event {
            frame: 1,
            ts: Ts(i64::MAX - 20_000_000_000),
        },
    );
    t.on_tcp(
        &seg(R, CISN + 1),
        Event {
            frame: 2,
            ts: Ts(0),
        },
    );
    let c = t.connections()[0].clone();
    let ctx = Context {
        capture_end: Ts(i64::MAX),
        stall_after_ns: Context::DEFAULT_STALL_AFTER_NS,
    };
    let v = classify(&c, &ctx);
    assert_eq!(v.kind, VerdictKind::FirewallDrop);
    assert!(
        !v.explanation.contains("30 s dial timeout"),
        "{}",
        v.explanation
    );
}

#[test]
fn confidence_words_are_the_json_ones() {
    for c in [Confidence::High, Confidence::Medium, Confidence::Low] {
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            format!("\"{}\"", c.as_str())
        );
    }
}

// The rule table.

use super::rules::{RULES, matching_rules};
use crate::flows::Dir;

/// The rule that decides `c`'s verdict; `None`: `ok`.
fn deciding_rule(c: &Connection, ctx: &Context) -> Option<&'static str> {
    matching_rules(c, ctx).first().copied()
}

fn ctx_at(end_ms: f64) -> Context {
    Context {
        capture_end: ts(end_ms),
        stall_after_ns: Context::DEFAULT_STALL_AFTER_NS,
    }
}

/// The `rule` column of the README's table of verdicts, top to bottom.
fn readme_rule_column() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let section = readme
        .split_once("\n## Verdicts\n")
        .expect("README has a ## Verdicts section")
        .1;
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut rows = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        });
    assert_eq!(
        rows.next().as_deref(),
        Some("rule"),
        "the table's first column is `rule`"
    );
    rows.skip(1).collect() // the |---| line
}

#[test]
fn the_readme_lists_the_rules_in_the_order_they_are_applied() {
    let column = readme_rule_column();
    // Two rows are not rules of RULES: DNS failures are records of their
    // own, and `ok` is what is left when no rule matched.
    assert!(
        column.iter().any(|r| r == "(DNS, not a TCP rule)"),
        "{column:?}"
    );
    assert_eq!(
        column.last().map(String::as_str),
        Some("(none matched)"),
        "{column:?}"
    );
    let readme: Vec<&str> = column
        .iter()
        .filter(|r| !r.starts_with('('))
        .map(|r| r.trim_matches('`'))
        .collect();
    let rules: Vec<&str> = RULES.iter().map(|(name, _)| *name).collect();
    assert_eq!(readme, rules);
}

#[test]
fn rule_names_are_unique_snake_case() {
    for (i, (name, _)) in RULES.iter().enumerate() {
        assert!(
            !name.is_empty() && name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
            "{name}"
        );
        assert!(
            RULES[..i].iter().all(|(other, _)| other != name),
            "{name} twice"
        );
    }
}

#[test]
fn an_rst_to_a_syn_with_another_ttl_than_the_servers_is_forged() {
    let mut s = Sim::new();
    s.c(0.0, S, CISN, 0, 0);
    s.s(0.3, R | A, 0, CISN + 1, 0);
    let (c, _) = s.one(0.3);
    let ctx = ctx_at(0.3);
    // The server's SYN/ACKs in other connections came with TTL 50, this
    // RST with 62: a firewall forged it.
    let mut forged = c.clone();
    forged.note_other_conn_ttl(Dir::ServerToClient, 50);
    let v = classify(&forged, &ctx);
    assert_eq!(deciding_rule(&forged, &ctx), Some("syn_forged_rst"));
    assert_eq!(
        (v.kind, v.stage, v.reset_by, v.confidence),
        (
            VerdictKind::FirewallDrop,
            Some(Stage::Syn),
            Some(ResetBy::Middlebox),
            Some(Confidence::Medium)
        )
    );
    let blocked = v.blocked_by.unwrap_or_default();
    assert!(blocked.contains("TTL 62 instead of 50"), "{blocked}");
    // The same TTL as the server's own SYN/ACKs: the server refused.
    let mut refused = c;
    refused.note_other_conn_ttl(Dir::ServerToClient, 62);
    let v = classify(&refused, &ctx);
    assert_eq!(deciding_rule(&refused, &ctx), Some("syn_refused"));
    assert_eq!(v.kind, VerdictKind::ServiceDown);
    assert!(
        v.evidence.iter().any(|e| e.what.contains("the same TTL")),
        "{:?}",
        v.evidence
    );
}

#[test]
fn an_icmp_error_that_refuses_nothing_leaves_the_syn_to_the_later_rules() {
    let mut s = Sim::new();
    s.c(0.0, S, CISN, 0, 0);
    s.c(1000.0, S, CISN, 0, 0);
    s.icmp(1500.0, IcmpErrorKind::FragmentationNeeded, 3, 4);
    let (c, v) = s.one(3000.0);
    assert_eq!(deciding_rule(&c, &ctx_at(3000.0)), Some("syn_unanswered"));
    assert_eq!(v.kind, VerdictKind::FirewallDrop);
    assert_eq!(v.blocked_by, None);
    // ... and says what it was in a warning.
    assert!(
        v.warnings
            .iter()
            .any(|w| w.contains("fragmentation needed")),
        "{:?}",
        v.warnings
    );
}

#[test]
fn icmp_port_unreachable_not_quoting_the_syn_is_a_medium_reject() {
    let mut s = Sim::new();
    s.c(0.0, S, CISN, 0, 0);
    s.icmp(0.5, IcmpErrorKind::PortUnreachable, 3, 3);
    let (mut c, _) = s.one(0.5);
    if let Some(i) = c.icmp.as_mut() {
        i.quotes_syn = false;
    }
    let v = classify(&c, &ctx_at(0.5));
    assert_eq!(deciding_rule(&c, &ctx_at(0.5)), Some("syn_icmp_reject"));
    assert_eq!(
        (v.kind, v.confidence),
        (VerdictKind::FirewallDrop, Some(Confidence::Medium))
    );
    assert!(
        v.explanation
            .contains("a real TCP stack answers a closed port with RST"),
        "{}",
        v.explanation
    );
}

#[test]
fn data_already_acknowledged_re_sent_again_and_again_is_a_drop_towards_the_sender() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.s(31.0, P | A, SISN + 1, CISN + 81, 100);
    s.c(32.0, A, CISN + 81, SISN + 101, 0);
    // The client's ACK never reaches the server, which re-sends.
    for t in [300.0, 800.0, 1800.0] {
        s.s(t, P | A, SISN + 1, CISN + 81, 100);
        s.c(t + 1.0, A, CISN + 81, SISN + 101, 0);
    }
    let (c, v) = s.one(2000.0);
    assert_eq!(c.s2c().spurious_retransmissions, 3);
    assert_eq!(
        deciding_rule(&c, &ctx_at(2000.0)),
        Some("acked_data_resent")
    );
    assert_eq!(
        (v.kind, v.stage, v.confidence),
        (
            VerdictKind::FirewallDrop,
            Some(Stage::Established),
            Some(Confidence::Medium)
        )
    );
    assert!(
        v.explanation
            .contains("the server re-sent data the client had already acknowledged 3 times"),
        "{}",
        v.explanation
    );
    // Twice only: not enough.
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.s(31.0, P | A, SISN + 1, CISN + 81, 100);
    s.c(32.0, A, CISN + 81, SISN + 101, 0);
    for t in [300.0, 1800.0] {
        s.s(t, P | A, SISN + 1, CISN + 81, 100);
    }
    let (_, v) = s.one(2000.0);
    assert_eq!(v.kind, VerdictKind::Ok);
}

#[test]
fn a_request_left_waiting_ends_in_one_of_three_rules() {
    let mut s = Sim::new();
    s.handshake(0.0);
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
    s.s(31.0, A, SISN + 1, CISN + 81, 0);
    let (c, _) = s.one(31.0);
    // Still waiting at the end of the capture: a stall, or too soon to say.
    assert_eq!(
        deciding_rule(&c, &ctx_at(7000.0)),
        Some("awaiting_response_stall")
    );
    assert_eq!(
        deciding_rule(&c, &ctx_at(2000.0)),
        Some("awaiting_response_too_soon")
    );
    // The client gave up after 3 s; after half a second it only closed.
    let mut gave_up = Sim::new();
    let mut closed = Sim::new();
    for (sim, t) in [(&mut gave_up, 3021.0), (&mut closed, 521.0)] {
        sim.handshake(0.0);
        sim.seg(true, 21.0, P | A, CISN + 1, SISN + 1, 80, 64240, &GET);
        sim.s(31.0, A, SISN + 1, CISN + 81, 0);
        sim.c(t, F | A, CISN + 81, SISN + 1, 0);
    }
    let (c, v) = gave_up.one(9000.0);
    assert_eq!(
        deciding_rule(&c, &ctx_at(9000.0)),
        Some("client_gave_up_waiting")
    );
    assert_eq!(
        (v.kind, v.confidence),
        (VerdictKind::AppStall, Some(Confidence::Medium))
    );
    let (c, v) = closed.one(9000.0);
    assert_eq!(deciding_rule(&c, &ctx_at(9000.0)), None);
    assert_eq!(v.kind, VerdictKind::Ok);
}

#[test]
fn the_first_matching_rule_decides() {
    // A fatal alert from the server, then its RST: `tls_alert` and
    // `server_rst` both match, and `tls_alert` comes first.
    let hello = include_bytes!("../sniff/testdata/tls/sni_reject_c2s.bin");
    let alert = include_bytes!("../sniff/testdata/tls/sni_reject_s2c.bin");
    let mut s = Sim::new();
    s.handshake(0.0);
    let hl = hello.len() as u32;
    s.seg(true, 21.0, P | A, CISN + 1, SISN + 1, hl, 64240, hello);
    s.seg(false, 31.0, P | A, SISN + 1, CISN + 1 + hl, 7, 65160, alert);
    s.s(31.5, R | A, SISN + 8, CISN + 1 + hl, 0);
    let (c, v) = s.one(3000.0);
    assert_eq!(
        matching_rules(&c, &ctx_at(3000.0)),
        ["tls_alert", "server_rst"]
    );
    assert_eq!(deciding_rule(&c, &ctx_at(3000.0)), Some("tls_alert"));
    assert_eq!(
        (v.kind, v.stage),
        (VerdictKind::MidstreamReset, Some(Stage::TlsHandshake))
    );
}
