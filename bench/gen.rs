//! Synthetic capture writer for the tcptriage benchmark (see bench/README.md).
//!
//! Standalone, no dependencies:  rustc -O --edition 2021 bench/gen.rs -o bench/out/gen
//!   bench/out/gen --size quick|big [--format pcap|pcapng] [--seed N] [--out FILE]
//!
//! Writes Ethernet + IPv4/IPv6 TCP connections, interleaved by timestamp, and a
//! ground-truth file FILE.truth.json with the intended verdict of every kind.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufWriter, Write};

// ---------------------------------------------------------------- random
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// uniform in [lo, hi]
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn f64(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

// ---------------------------------------------------------------- kinds
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ok,
    FirewallDrop,   // unanswered SYN, retries at 0/1/3/7 s
    ServiceDown,    // SYN answered by RST/ACK
    AppStall,       // request ACKed, never answered, client FIN after 8 s
    MidstreamReset, // server RST in the middle of the response body
}
const KIND_NAMES: [&str; 5] = ["ok", "firewall_drop", "service_down", "app_stall", "midstream_reset"];

// ---------------------------------------------------------------- endpoints
#[derive(Clone, Copy)]
enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

struct Ep {
    client: Addr,
    server: Addr,
    cport: u16,
    sport: u16,
    client_ttl: u8,
    server_ttl: u8,
}

const FLAG_FIN: u8 = 0x01;
const FLAG_SYN: u8 = 0x02;
const FLAG_RST: u8 = 0x04;
const FLAG_PSH: u8 = 0x08;
const FLAG_ACK: u8 = 0x10;

const CLIENT_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const GW_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0xfe];

fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [b] = chunks.remainder() {
        sum += (*b as u32) << 8;
    }
    sum
}
fn csum_fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// One Ethernet frame carrying a TCP segment.
#[allow(clippy::too_many_arguments)]
fn frame(ep: &Ep, c2s: bool, ip_id: u16, seq: u32, ack: u32, flags: u8, win: u16, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let (src, dst, sp, dp, ttl) = if c2s {
        (ep.client, ep.server, ep.cport, ep.sport, ep.client_ttl)
    } else {
        (ep.server, ep.client, ep.sport, ep.cport, ep.server_ttl)
    };
    let tcp_len = 20 + opts.len() + payload.len();
    let mut f = Vec::with_capacity(14 + 40 + tcp_len);
    if c2s {
        f.extend_from_slice(&GW_MAC);
        f.extend_from_slice(&CLIENT_MAC);
    } else {
        f.extend_from_slice(&CLIENT_MAC);
        f.extend_from_slice(&GW_MAC);
    }
    let mut pseudo: u32;
    match (src, dst) {
        (Addr::V4(s), Addr::V4(d)) => {
            f.extend_from_slice(&[0x08, 0x00]);
            let ip_start = f.len();
            f.extend_from_slice(&[0x45, 0]);
            f.extend_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
            f.extend_from_slice(&ip_id.to_be_bytes());
            f.extend_from_slice(&[0x40, 0, ttl, 6, 0, 0]);
            f.extend_from_slice(&s);
            f.extend_from_slice(&d);
            let c = csum_fold(csum_add(0, &f[ip_start..ip_start + 20]));
            f[ip_start + 10..ip_start + 12].copy_from_slice(&c.to_be_bytes());
            pseudo = csum_add(0, &s);
            pseudo = csum_add(pseudo, &d);
            pseudo += 6 + tcp_len as u32;
        }
        (Addr::V6(s), Addr::V6(d)) => {
            f.extend_from_slice(&[0x86, 0xdd]);
            f.extend_from_slice(&[0x60, 0, 0, 0]);
            f.extend_from_slice(&(tcp_len as u16).to_be_bytes());
            f.extend_from_slice(&[6, ttl]);
            f.extend_from_slice(&s);
            f.extend_from_slice(&d);
            pseudo = csum_add(0, &s);
            pseudo = csum_add(pseudo, &d);
            pseudo += 6 + tcp_len as u32;
        }
        _ => unreachable!("mixed address families"),
    }
    let tcp_start = f.len();
    f.extend_from_slice(&sp.to_be_bytes());
    f.extend_from_slice(&dp.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.push((((20 + opts.len()) / 4) as u8) << 4);
    f.push(flags);
    f.extend_from_slice(&win.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
    f.extend_from_slice(opts);
    f.extend_from_slice(payload);
    let c = csum_fold(csum_add(pseudo, &f[tcp_start..]));
    f[tcp_start + 16..tcp_start + 18].copy_from_slice(&c.to_be_bytes());
    f
}

// SYN options: MSS, SACK permitted, window scale 7.
fn syn_opts(mss: u16) -> [u8; 12] {
    let m = mss.to_be_bytes();
    [2, 4, m[0], m[1], 1, 1, 4, 2, 1, 3, 3, 7]
}

/// Builds the packets of one connection as (time µs, frame), in causal order
/// (sorted by the caller).
struct ConnBuilder<'a> {
    ep: &'a Ep,
    pkts: Vec<(u64, Vec<u8>)>,
    cid: u16,
    sid: u16,
}
impl ConnBuilder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(&mut self, t: u64, c2s: bool, seq: u32, ack: u32, flags: u8, win: u16, opts: &[u8], payload: &[u8]) {
        let id = if c2s {
            self.cid = self.cid.wrapping_add(1);
            self.cid
        } else {
            self.sid = self.sid.wrapping_add(1);
            self.sid
        };
        self.pkts.push((t, frame(self.ep, c2s, id, seq, ack, flags, win, opts, payload)));
    }
}

const BODY: &[u8] = &[b'x'; 1500];

fn response_segments(rng: &mut Rng) -> u64 {
    // 1..=50 segments, most responses small.
    let r = rng.f64();
    if r < 0.70 {
        1
    } else if r < 0.92 {
        rng.range(2, 6)
    } else if r < 0.99 {
        rng.range(7, 20)
    } else {
        rng.range(21, 50)
    }
}

fn http_head(content_length: u64) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {content_length}\r\n\r\n").into_bytes()
}

/// Generates one connection; returns its packets (unsorted) and its last time.
fn gen_conn(kind: Kind, t0: u64, ep: &Ep, rng: &mut Rng, n: u64) -> Vec<(u64, Vec<u8>)> {
    let v6 = matches!(ep.client, Addr::V6(_));
    let mss: u32 = if v6 { 1440 } else { 1460 };
    let rtt = rng.range(1_000, 50_000); // µs
    let ci = rng.next() as u32;
    let si = rng.next() as u32;
    let mut b = ConnBuilder { ep, pkts: Vec::with_capacity(32), cid: rng.next() as u16, sid: rng.next() as u16 };
    let sopts = syn_opts(mss as u16);

    // SYN (and its retries)
    b.push(t0, true, ci, 0, FLAG_SYN, 64240, &sopts, &[]);
    match kind {
        Kind::FirewallDrop => {
            for s in [1u64, 3, 7] {
                let t = t0 + s * 1_000_000 + rng.range(0, 3_000);
                b.push(t, true, ci, 0, FLAG_SYN, 64240, &sopts, &[]);
            }
            return b.pkts;
        }
        Kind::ServiceDown => {
            b.push(t0 + rtt, false, 0, ci.wrapping_add(1), FLAG_RST | FLAG_ACK, 0, &[], &[]);
            return b.pkts;
        }
        _ => {}
    }
    // handshake
    let t1 = t0 + rtt;
    b.push(t1, false, si, ci.wrapping_add(1), FLAG_SYN | FLAG_ACK, 65160, &syn_opts(mss as u16), &[]);
    let t2 = t1 + rng.range(20, 150);
    let mut cseq = ci.wrapping_add(1);
    let mut sseq = si.wrapping_add(1);
    b.push(t2, true, cseq, sseq, FLAG_ACK, 502, &[], &[]);
    // request
    let req = format!(
        "GET /objects/{n}/{:x} HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: tcptriage-bench/1\r\nAccept: */*\r\n\r\n",
        rng.next() & 0xffff_ffff
    );
    let t3 = t2 + rng.range(10, 300);
    b.push(t3, true, cseq, sseq, FLAG_PSH | FLAG_ACK, 502, &[], req.as_bytes());
    cseq = cseq.wrapping_add(req.len() as u32);

    if kind == Kind::AppStall {
        b.push(t3 + rtt, false, sseq, cseq, FLAG_ACK, 509, &[], &[]);
        let tf = t3 + 8_000_000 + rng.range(0, 500_000);
        b.push(tf, true, cseq, sseq, FLAG_FIN | FLAG_ACK, 502, &[], &[]);
        b.push(tf + rtt, false, sseq, cseq.wrapping_add(1), FLAG_ACK, 509, &[], &[]);
        return b.pkts;
    }

    // response
    let proc_us = if rng.f64() < 0.8 { rng.range(100, 5_000) } else { rng.range(5_000, 80_000) };
    if proc_us > 40_000 {
        // delayed ACK of the request before the response
        b.push(t3 + rtt, false, sseq, cseq, FLAG_ACK, 509, &[], &[]);
    }
    let nseg = response_segments(rng);
    let (total, content_length, head) = if kind == Kind::MidstreamReset {
        // announce much more than is delivered
        let delivered = rng.range(1, 20);
        let cl = rng.range(100_000, 2_000_000);
        let head = http_head(cl);
        (delivered * mss as u64, cl, head)
    } else {
        let total = (nseg - 1) * mss as u64 + rng.range(200, mss as u64);
        // Content-Length so that head + body == total
        let mut cl = total - 100;
        for _ in 0..3 {
            cl = total - http_head(cl).len() as u64;
        }
        (total, cl, http_head(cl))
    };
    debug_assert!(kind == Kind::MidstreamReset || head.len() as u64 + content_length == total);
    let mut sent: u64 = 0;
    let mut flight_start = t3 + rtt + proc_us;
    let mut cwnd: u64 = 10;
    let gap = rng.range(12, 120);
    let mut t = flight_start;
    let mut seg_in_conn = 0u64;
    let mut last = t;
    let mut payload = Vec::with_capacity(mss as usize);
    while sent < total {
        for i in 0..cwnd {
            if sent >= total {
                break;
            }
            t = flight_start + i * gap;
            let len = (total - sent).min(mss as u64) as usize;
            payload.clear();
            if sent == 0 {
                payload.extend_from_slice(&head);
            }
            let fill = len - payload.len();
            payload.extend_from_slice(&BODY[..fill]);
            b.push(t, false, sseq, cseq, FLAG_ACK | if sent + len as u64 >= total { FLAG_PSH } else { 0 }, 509, &[], &payload);
            sseq = sseq.wrapping_add(len as u32);
            sent += len as u64;
            seg_in_conn += 1;
            if seg_in_conn % 2 == 0 || sent >= total {
                b.push(t + rng.range(20, 60), true, cseq, sseq, FLAG_ACK, 502, &[], &[]);
            }
            last = t + 60;
        }
        flight_start = (flight_start + rtt).max(last + gap);
        cwnd *= 2;
    }
    if kind == Kind::MidstreamReset {
        let tr = last + rng.range(100, 50_000);
        b.push(tr, false, sseq, cseq, FLAG_RST | FLAG_ACK, 0, &[], &[]);
        return b.pkts;
    }
    // client closes
    let tf = last + rng.range(100, 3_000);
    b.push(tf, true, cseq, sseq, FLAG_FIN | FLAG_ACK, 502, &[], &[]);
    cseq = cseq.wrapping_add(1);
    b.push(tf + rtt, false, sseq, cseq, FLAG_FIN | FLAG_ACK, 509, &[], &[]);
    sseq = sseq.wrapping_add(1);
    b.push(tf + rtt + rng.range(20, 80), true, cseq, sseq, FLAG_ACK, 502, &[], &[]);
    b.pkts
}

// ---------------------------------------------------------------- writers
enum Format {
    Pcap,
    Pcapng,
}

struct Writer<W: Write> {
    w: W,
    fmt: Format,
    bytes: u64,
    /// size the same packets take as pcap: the stop condition uses it, so that
    /// the pcap and the pcapng of a size and seed hold the same packets
    pcap_bytes: u64,
}
impl<W: Write> Writer<W> {
    fn new(mut w: W, fmt: Format) -> std::io::Result<Self> {
        let mut hdr = Vec::new();
        match fmt {
            Format::Pcap => {
                hdr.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
                hdr.extend_from_slice(&2u16.to_le_bytes());
                hdr.extend_from_slice(&4u16.to_le_bytes());
                hdr.extend_from_slice(&0i32.to_le_bytes());
                hdr.extend_from_slice(&0u32.to_le_bytes());
                hdr.extend_from_slice(&262_144u32.to_le_bytes());
                hdr.extend_from_slice(&1u32.to_le_bytes()); // EN10MB
            }
            Format::Pcapng => {
                // SHB, no options
                hdr.extend_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
                hdr.extend_from_slice(&28u32.to_le_bytes());
                hdr.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
                hdr.extend_from_slice(&1u16.to_le_bytes());
                hdr.extend_from_slice(&0u16.to_le_bytes());
                hdr.extend_from_slice(&(-1i64).to_le_bytes());
                hdr.extend_from_slice(&28u32.to_le_bytes());
                // IDB, EN10MB, default resolution (µs), no options
                hdr.extend_from_slice(&1u32.to_le_bytes());
                hdr.extend_from_slice(&20u32.to_le_bytes());
                hdr.extend_from_slice(&1u16.to_le_bytes());
                hdr.extend_from_slice(&0u16.to_le_bytes());
                hdr.extend_from_slice(&262_144u32.to_le_bytes());
                hdr.extend_from_slice(&20u32.to_le_bytes());
            }
        }
        w.write_all(&hdr)?;
        Ok(Writer { w, fmt, bytes: hdr.len() as u64, pcap_bytes: 24 })
    }
    fn packet(&mut self, ts_us: u64, data: &[u8]) -> std::io::Result<()> {
        let len = data.len() as u32;
        self.pcap_bytes += 16 + len as u64;
        match self.fmt {
            Format::Pcap => {
                let mut h = [0u8; 16];
                h[0..4].copy_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
                h[4..8].copy_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
                h[8..12].copy_from_slice(&len.to_le_bytes());
                h[12..16].copy_from_slice(&len.to_le_bytes());
                self.w.write_all(&h)?;
                self.w.write_all(data)?;
                self.bytes += 16 + len as u64;
            }
            Format::Pcapng => {
                let pad = (4 - len % 4) % 4;
                let total = 32 + len + pad;
                let mut h = [0u8; 28];
                h[0..4].copy_from_slice(&6u32.to_le_bytes());
                h[4..8].copy_from_slice(&total.to_le_bytes());
                h[8..12].copy_from_slice(&0u32.to_le_bytes());
                h[12..16].copy_from_slice(&((ts_us >> 32) as u32).to_le_bytes());
                h[16..20].copy_from_slice(&(ts_us as u32).to_le_bytes());
                h[20..24].copy_from_slice(&len.to_le_bytes());
                h[24..28].copy_from_slice(&len.to_le_bytes());
                self.w.write_all(&h)?;
                self.w.write_all(data)?;
                self.w.write_all(&[0u8; 3][..pad as usize])?;
                self.w.write_all(&total.to_le_bytes())?;
                self.bytes += total as u64;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- main
struct Client {
    addr: Addr,
    servers: [usize; 2], // favourite servers: 4-tuples repeat
    next_port: u16,
    port_busy_until: Vec<u64>,
}

const PORT_BASE: u16 = 40_000;
const PORT_RANGE: usize = 400;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mut size = "quick".to_string();
    let mut fmt = "pcap".to_string();
    let mut seed: u64 = 42;
    let mut out: Option<String> = None;
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--size" => size = v,
            "--format" => fmt = v,
            "--seed" => seed = v.parse().expect("--seed N"),
            "--out" => out = Some(v),
            "-h" | "--help" => {
                eprintln!("usage: gen --size quick|big|tiny [--format pcap|pcapng] [--seed N] [--out FILE]");
                return Ok(());
            }
            a => panic!("unknown argument {a}"),
        }
        i += 2;
    }
    // stop starting connections once all three minimums are reached
    let (min_pkts, min_bytes, min_conns): (u64, u64, u64) = match size.as_str() {
        "tiny" => (20_000, 0, 0),
        "quick" => (1_000_000, 0, 0),
        "big" => (5_000_000, 2_100_000_000, 300_000),
        s => panic!("unknown size {s}"),
    };
    let format = match fmt.as_str() {
        "pcap" => Format::Pcap,
        "pcapng" => Format::Pcapng,
        f => panic!("unknown format {f}"),
    };
    let out = out.unwrap_or_else(|| format!("bench/out/{size}.{fmt}"));
    let file = std::fs::File::create(&out)?;
    let mut w = Writer::new(BufWriter::with_capacity(1 << 20, file), format)?;

    let mut rng = Rng(seed);
    // address plan: 48 IPv4 + 8 IPv6 clients, 16 IPv4 + 4 IPv6 servers
    let v4_servers: Vec<Addr> = (0..16).map(|i| Addr::V4([10, 2, 0, 10 + i])).collect();
    let v6_servers: Vec<Addr> = (0..4)
        .map(|i| {
            let mut a = [0u8; 16];
            a[0] = 0xfd;
            a[1] = 0x00;
            a[3] = 2;
            a[15] = 10 + i;
            Addr::V6(a)
        })
        .collect();
    let mut clients: Vec<Client> = Vec::new();
    for i in 0..56u8 {
        let (addr, pool) = if i < 48 {
            (Addr::V4([10, 1, i / 200, 10 + i % 200]), v4_servers.len())
        } else {
            let mut a = [0u8; 16];
            a[0] = 0xfd;
            a[3] = 1;
            a[15] = 10 + i;
            (Addr::V6(a), v6_servers.len())
        };
        let s0 = rng.range(0, pool as u64 - 1) as usize;
        let s1 = rng.range(0, pool as u64 - 1) as usize;
        clients.push(Client { addr, servers: [s0, s1], next_port: rng.range(0, PORT_RANGE as u64 - 1) as u16, port_busy_until: vec![0; PORT_RANGE] });
    }

    let rate_per_s = 2_000.0; // new connections per second (Poisson)
    let t_base: u64 = 1_790_000_000 * 1_000_000; // 2026-09, in µs
    let mut now = t_base;
    let mut heap: BinaryHeap<Reverse<(u64, u64, Vec<u8>)>> = BinaryHeap::new();
    let mut order: u64 = 0;
    let mut counts = [0u64; 5];
    let mut conns: u64 = 0;
    let mut pkts: u64 = 0;
    let mut reused_tuples: u64 = 0;
    let mut tuple_seen: std::collections::HashSet<(usize, u16, usize, u16)> = Default::default();

    loop {
        let done = pkts >= min_pkts && w.pcap_bytes >= min_bytes && conns >= min_conns;
        // next connection start
        let gap = (-(1.0 - rng.f64()).ln() / rate_per_s * 1e6) as u64;
        let next_start = if done { u64::MAX } else { now + gap.max(1) };
        while let Some(Reverse((t, _, _))) = heap.peek() {
            if *t >= next_start {
                break;
            }
            let Reverse((t, _, data)) = heap.pop().unwrap();
            w.packet(t, &data)?;
            pkts += 1;
        }
        if done {
            break;
        }
        now = next_start;
        let r = rng.f64();
        let kind = if r < 0.88 {
            Kind::Ok
        } else if r < 0.91 {
            Kind::FirewallDrop
        } else if r < 0.94 {
            Kind::ServiceDown
        } else if r < 0.97 {
            Kind::AppStall
        } else {
            Kind::MidstreamReset
        };
        let ci = rng.range(0, clients.len() as u64 - 1) as usize;
        let c = &mut clients[ci];
        // next free ephemeral port (sequential, wrapping: ports are reused)
        let mut p = c.next_port as usize;
        while c.port_busy_until[p] + 500_000 > now {
            p = (p + 1) % PORT_RANGE;
        }
        c.next_port = ((p + 1) % PORT_RANGE) as u16;
        let si = c.servers[rng.range(0, 1) as usize];
        let v6 = matches!(c.addr, Addr::V6(_));
        let server = if v6 { v6_servers[si] } else { v4_servers[si] };
        let sport = if si % 2 == 0 { 80 } else { 8080 };
        let ep = Ep { client: c.addr, server, cport: PORT_BASE + p as u16, sport, client_ttl: 64, server_ttl: 64 - (3 + si as u8 % 8) };
        let mut packets = gen_conn(kind, now, &ep, &mut rng, conns);
        packets.sort_by_key(|(t, _)| *t); // stable: causal order kept on equal times
        let end = packets.last().unwrap().0;
        clients[ci].port_busy_until[p] = end;
        if !tuple_seen.insert((ci, p as u16, si, sport)) {
            reused_tuples += 1;
        }
        for (t, data) in packets {
            heap.push(Reverse((t, order, data)));
            order += 1;
        }
        counts[kind as usize] += 1;
        conns += 1;
    }
    w.w.flush()?;

    let mut truth = format!(
        "{{\n  \"file\": \"{out}\",\n  \"seed\": {seed},\n  \"packets\": {pkts},\n  \"bytes\": {},\n  \"connections\": {conns},\n  \"connections_on_a_reused_4tuple\": {reused_tuples},\n  \"span_s\": {:.3},\n  \"verdicts\": {{",
        w.bytes,
        (now - t_base) as f64 / 1e6
    );
    for (i, name) in KIND_NAMES.iter().enumerate() {
        truth.push_str(&format!("{}\"{name}\": {}", if i == 0 { "" } else { ", " }, counts[i]));
    }
    truth.push_str(", \"incomplete\": 0}\n}\n");
    std::fs::write(format!("{out}.truth.json"), &truth)?;
    eprint!("{truth}");
    Ok(())
}
