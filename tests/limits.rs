//! Resource limits under hostile input: length fields that promise more
//! than the file holds, absurd header values, a SYN flood, a connection
//! with a million out-of-order segments, sequence numbers wrapping around
//! 2^32, and property tests of the sequence-number arithmetic and of the
//! retransmission bookkeeping.

mod testkit;

use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Cursor, Write};
use std::process::Command;
use std::time::Instant;
use tcptriage::analyze::{Settings, analyze_collect};
use tcptriage::flows::SeqNum;
use tcptriage::report::Collect;
use tcptriage::report::Report;
use tcptriage::source::file::open_reader;
use tcptriage::source::{Frame, PacketSource, SourceError};
use tcptriage::time::Ts;
use testkit::capture::{epb, idb, pcap_header, pcap_record, shb};
use testkit::frames::{ACK, CLIENT, FIN, PSH, SERVER, SYN, tcp4};

// ---- per-thread allocation accounting ----

/// Counts the bytes each thread has allocated, and the peak, so that a test
/// can check that a reader allocates only as real bytes arrive.
struct Counting;

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = CURRENT.try_with(|c| {
        let v = (c.get() as isize + delta).max(0) as usize;
        c.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note(l.size() as isize);
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note(l.size() as isize);
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        note(-(l.size() as isize));
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        note(new as isize - l.size() as isize);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the peak of the bytes this thread
/// allocated while it ran (above what was allocated before).
fn peak_alloc<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.with(|c| c.get());
    PEAK.with(|p| p.set(base));
    let r = f();
    (r, PEAK.with(|p| p.get()) - base)
}

const MIB: usize = 1 << 20;

fn read_all(src: &mut dyn PacketSource) -> Result<usize, SourceError> {
    let mut n = 0;
    while src.next_frame()?.is_some() {
        n += 1;
    }
    Ok(n)
}

// ---- length fields ----

#[test]
fn pcapng_block_length_0xfffffff0_is_rejected_without_allocating() {
    let mut bad = 6u32.to_le_bytes().to_vec();
    bad.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    bad.extend_from_slice(&[0; 64]);
    // First block after the interface: an error.
    let mut f = shb();
    f.extend(idb(101, None));
    f.extend(&bad);
    let (r, peak) = peak_alloc(|| {
        let mut src = open_reader(Cursor::new(f.clone())).unwrap();
        read_all(src.as_mut())
    });
    match r {
        Err(SourceError::Corrupt { reason, .. }) => {
            assert!(reason.contains("impossible length 4294967280"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(peak < 4 * MIB, "{peak} bytes");
    // After a good frame: the frame, and a warning.
    let mut f = shb();
    f.extend(idb(101, None));
    f.extend(epb(1, &tcp4(CLIENT, SERVER, 1, 0, SYN, 0, false)));
    f.extend(&bad);
    let (src, peak) = peak_alloc(|| {
        let mut src = open_reader(Cursor::new(f)).unwrap();
        assert_eq!(read_all(src.as_mut()).unwrap(), 1);
        src
    });
    assert!(peak < 4 * MIB, "{peak} bytes");
    assert_eq!(src.warnings().len(), 1);
    assert!(
        src.warnings()[0].contains("impossible length"),
        "{:?}",
        src.warnings()
    );
}

#[test]
fn a_large_block_length_allocates_only_as_bytes_arrive() {
    // 200 MiB promised (under the 256 MiB limit), 4 KiB delivered.
    let mut f = shb();
    f.extend(idb(101, None));
    f.extend(epb(1, &tcp4(CLIENT, SERVER, 1, 0, SYN, 0, false)));
    f.extend(6u32.to_le_bytes());
    f.extend((200u32 << 20).to_le_bytes());
    f.extend([0u8; 4096]);
    let (src, peak) = peak_alloc(|| {
        let mut src = open_reader(Cursor::new(f)).unwrap();
        assert_eq!(read_all(src.as_mut()).unwrap(), 1);
        src
    });
    assert!(peak < 4 * MIB, "{peak} bytes");
    assert!(
        src.warnings()[0].contains("truncated"),
        "{:?}",
        src.warnings()
    );
}

#[test]
fn pcap_caplen_beyond_snaplen_and_256_kib_is_rejected() {
    let syn = tcp4(CLIENT, SERVER, 1, 0, SYN, 0, false);
    for caplen in [300 << 10, 100 << 20, u32::MAX] {
        let mut f = pcap_header(65535, 101);
        f.extend(pcap_record(1, syn.len() as u32, 40, &syn));
        f.extend(pcap_record(2, caplen, caplen, &[0; 100]));
        f.extend(pcap_record(3, syn.len() as u32, 40, &syn));
        let (src, peak) = peak_alloc(|| {
            let mut src = open_reader(Cursor::new(f)).unwrap();
            assert_eq!(read_all(src.as_mut()).unwrap(), 1, "{caplen}");
            src
        });
        assert!(peak < 4 * MIB, "{caplen}: {peak} bytes");
        let w = &src.warnings()[0];
        assert!(
            w.contains(&format!("record claims {caplen} captured bytes"))
                && w.contains("byte offset 80"),
            "{w}"
        );
        // As the first record: an error.
        let mut f = pcap_header(65535, 101);
        f.extend(pcap_record(2, caplen, caplen, &[0; 100]));
        let mut src = open_reader(Cursor::new(f)).unwrap();
        assert!(matches!(
            read_all(src.as_mut()),
            Err(SourceError::Corrupt { offset: 24, .. })
        ));
    }
    // A snaplen that allows it: the record is read as far as it goes,
    // growing the buffer only with the bytes that came.
    let mut f = pcap_header(u32::MAX, 101);
    f.extend(pcap_record(1, syn.len() as u32, 40, &syn));
    f.extend(pcap_record(2, 100 << 20, 100 << 20, &[0; 3 * MIB]));
    let (src, peak) = peak_alloc(|| {
        let mut src = open_reader(Cursor::new(f)).unwrap();
        assert_eq!(read_all(src.as_mut()).unwrap(), 1);
        src
    });
    assert!(peak < 16 * MIB, "{peak} bytes");
    assert!(
        src.warnings()[0].contains("truncated"),
        "{:?}",
        src.warnings()
    );
}

#[test]
fn an_absurd_if_tsresol_is_a_warning_and_microseconds() {
    for tsresol in [19u8, 100, 127, 0x80 | 64, 0xFF] {
        let mut f = shb();
        f.extend(idb(101, Some(tsresol)));
        f.extend(epb(
            1_700_000_000_000_000,
            &tcp4(CLIENT, SERVER, 1, 0, SYN, 0, false),
        ));
        let mut src = open_reader(Cursor::new(f)).unwrap();
        let ts = src.next_frame().unwrap().unwrap().ts;
        assert_eq!(ts, Ts(1_700_000_000_000_000_000), "{tsresol:#x}");
        assert!(src.next_frame().unwrap().is_none());
        assert_eq!(src.warnings().len(), 1, "{tsresol:#x}");
        assert!(
            src.warnings()[0].contains(&format!("if_tsresol {tsresol:#04x}")),
            "{:?}",
            src.warnings()
        );
    }
    // Real resolutions give no warning.
    for tsresol in [0u8, 6, 9, 18, 0x80 | 10, 0x80 | 63] {
        let mut f = shb();
        f.extend(idb(101, Some(tsresol)));
        f.extend(epb(7, &tcp4(CLIENT, SERVER, 1, 0, SYN, 0, false)));
        let mut src = open_reader(Cursor::new(f)).unwrap();
        assert_eq!(read_all(src.as_mut()).unwrap(), 1);
        assert!(
            src.warnings().is_empty(),
            "{tsresol:#x}: {:?}",
            src.warnings()
        );
    }
}

// ---- a SYN flood ----

/// Writes a pcap of `n` SYNs from distinct clients to one server.
fn syn_flood(path: &std::path::Path, n: u32) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    w.write_all(&pcap_header(65535, 101)).unwrap();
    let mut pkt = tcp4(CLIENT, SERVER, 0, 0, SYN, 0, false);
    for i in 0..n {
        let ts = 1_700_000_000_000_000 + u64::from(i);
        pkt[12..16].copy_from_slice(&[10, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
        pkt[20..22].copy_from_slice(&(1024 + (i >> 24) as u16).to_be_bytes());
        pkt[24..28].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
        w.write_all(&pcap_record(ts, 40, 40, &pkt)).unwrap();
    }
    w.flush().unwrap();
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tcptriage-limits-{}-{name}", std::process::id()))
}

/// The peak resident set of the largest child waited for so far, in bytes.
#[cfg(target_os = "linux")]
fn children_max_rss() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0);
    ru.ru_maxrss as u64 * 1024
}

#[test]
fn two_million_half_open_syns_stay_bounded() {
    let path = temp("synflood.pcap");
    syn_flood(&path, 2_000_000);
    let out = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .args(["analyze", "--format", "json", "--max-connections", "10000"])
        .arg(&path)
        .output()
        .unwrap();
    #[cfg(target_os = "linux")]
    let rss = children_max_rss();
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["summary"];
    assert_eq!(s["packets"], 2_000_000);
    let evicted = s["evicted"].as_u64().unwrap();
    assert!(evicted >= 1_990_000, "{evicted}");
    let kept = v["connections"].as_array().unwrap().len() as u64;
    assert!(kept <= 10_000, "{kept}");
    assert_eq!(evicted + kept, 2_000_000);
    #[cfg(target_os = "linux")]
    {
        eprintln!("2M SYNs: {evicted} evicted, peak RSS {} MiB", rss >> 20);
        assert!(rss < 300 << 20, "peak RSS {} MiB", rss >> 20);
    }
}

#[test]
fn the_table_reports_evictions() {
    let path = temp("synflood-small.pcap");
    syn_flood(&path, 5_000);
    let out = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .args(["analyze", "--max-connections", "100"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("evicted"))
        .unwrap_or_else(|| panic!("no eviction line:\n{text}"));
    let n: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n >= 4_900, "{line}");
    assert!(line.contains("--max-connections"), "{line}");
}

// ---- one connection, many segments ----

/// Frames generated on the fly: a handshake, then `n` client segments of
/// 100 bytes in a shuffled order with overlapping repeats, and an ACK from
/// the server every 16 segments.
struct Shuffled {
    n: u32,
    i: u32,
    frame: u64,
    buf: Vec<u8>,
    orig: u32,
}

impl Shuffled {
    fn new(n: u32) -> Shuffled {
        Shuffled {
            n,
            i: 0,
            frame: 0,
            buf: Vec::new(),
            orig: 0,
        }
    }
}

const ISN_C: u32 = 1_000;
const ISN_S: u32 = 9_000;

impl PacketSource for Shuffled {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        // Step i: 0-2 handshake, then per segment k (4 steps per group of
        // 4 segments plus an overlap and an ACK).
        let i = self.i;
        self.i += 1;
        let (pkt, payload) = match i {
            0 => (tcp4(CLIENT, SERVER, ISN_C, 0, SYN, 0, false), 0),
            1 => (
                tcp4(SERVER, CLIENT, ISN_S, ISN_C + 1, SYN | ACK, 0, false),
                0,
            ),
            2 => (tcp4(CLIENT, SERVER, ISN_C + 1, ISN_S + 1, ACK, 0, false), 0),
            _ => {
                let j = i - 3;
                let (group, step) = (j / 6, j % 6);
                let base = group * 4;
                if base >= self.n {
                    return Ok(None);
                }
                let data = ISN_C + 1;
                let seg = |k: u32| data.wrapping_add(k * 100);
                match step {
                    // Out of order: 1, 0, 3, 2.
                    0 => (
                        tcp4(
                            CLIENT,
                            SERVER,
                            seg(base + 1),
                            ISN_S + 1,
                            ACK | PSH,
                            100,
                            false,
                        ),
                        100,
                    ),
                    1 => (
                        tcp4(CLIENT, SERVER, seg(base), ISN_S + 1, ACK | PSH, 100, false),
                        100,
                    ),
                    2 => (
                        tcp4(
                            CLIENT,
                            SERVER,
                            seg(base + 3),
                            ISN_S + 1,
                            ACK | PSH,
                            100,
                            false,
                        ),
                        100,
                    ),
                    3 => (
                        tcp4(
                            CLIENT,
                            SERVER,
                            seg(base + 2),
                            ISN_S + 1,
                            ACK | PSH,
                            100,
                            false,
                        ),
                        100,
                    ),
                    // Overlapping repeat of half of segment 1 and half of 2.
                    4 => (
                        tcp4(
                            CLIENT,
                            SERVER,
                            seg(base + 1).wrapping_add(50),
                            ISN_S + 1,
                            ACK | PSH,
                            100,
                            false,
                        ),
                        100,
                    ),
                    _ => (
                        tcp4(SERVER, CLIENT, ISN_S + 1, seg(base + 4), ACK, 0, false),
                        0,
                    ),
                }
            }
        };
        self.buf = pkt;
        self.orig = 40 + payload;
        self.frame += 1;
        Ok(Some(Frame {
            number: self.frame,
            ts: Ts(1_700_000_000_000_000_000 + self.frame as i64 * 1_000),
            linktype: 101,
            orig_len: self.orig,
            data: &self.buf,
        }))
    }
    fn warnings(&self) -> &[String] {
        &[]
    }
    fn format(&self) -> String {
        "generated".into()
    }
}

fn time_segments(n: u32) -> (f64, Report) {
    let mut src = Shuffled::new(n);
    let started = Instant::now();
    let rep = analyze_collect(&mut src, "gen", &Settings::default(), Collect::every()).unwrap();
    (started.elapsed().as_secs_f64(), rep)
}

#[test]
fn a_million_out_of_order_segments_take_linear_time() {
    let _ = time_segments(10_000); // warm up
    let (t_small, small) = time_segments(250_000);
    let (t_big, big) = time_segments(1_000_000);
    assert_eq!(small.connections.len(), 1);
    assert_eq!(big.connections.len(), 1);
    assert_eq!(big.summary.tcp_packets, 3 + 1_000_000 / 4 * 6);
    let c = &big.connections[0];
    assert!(c.tcp.out_of_order_c2s > 0 || c.retransmissions_c2s > 0);
    let ratio = t_big / t_small;
    eprintln!("250k segments {t_small:.2} s, 1M {t_big:.2} s, ratio {ratio:.2}");
    assert!(
        ratio < 8.0,
        "ratio {ratio:.2} ({t_small:.2} s vs {t_big:.2} s)"
    );
}

// ---- sequence numbers across 2^32 ----

/// A connection whose client ISN is `isn_c` and server ISN `isn_s`, with
/// `sizes` client segments each ACKed, a response of `resp` segments of
/// 1000 bytes, each ACKed, a FIN exchange; `retransmit` re-sends one client
/// segment after the next one.
fn exchange(
    isn_c: u32,
    isn_s: u32,
    sizes: &[u16],
    resp: u32,
    retransmit: Option<usize>,
) -> Vec<(Ts, u32, Vec<u8>)> {
    let mut frames = Vec::new();
    let mut t = 1_700_000_000_000_000_000i64;
    let mut push = |p: Vec<u8>| {
        t += 1_000_000;
        frames.push((Ts(t), 101, p));
    };
    let (c, s) = (CLIENT, SERVER);
    push(tcp4(c, s, isn_c, 0, SYN, 0, true));
    push(tcp4(s, c, isn_s, isn_c.wrapping_add(1), SYN | ACK, 0, true));
    push(tcp4(
        c,
        s,
        isn_c.wrapping_add(1),
        isn_s.wrapping_add(1),
        ACK,
        0,
        true,
    ));
    let mut cs = isn_c.wrapping_add(1);
    let ss = isn_s.wrapping_add(1);
    let mut sent = Vec::new();
    for (k, &n) in sizes.iter().enumerate() {
        push(tcp4(c, s, cs, ss, ACK | PSH, n, true));
        sent.push((cs, n));
        if retransmit.is_some_and(|r| r + 1 == k) {
            let (rs, rn) = sent[k - 1];
            push(tcp4(c, s, rs, ss, ACK | PSH, rn, true));
        }
        cs = cs.wrapping_add(u32::from(n));
        push(tcp4(s, c, ss, cs, ACK, 0, true));
    }
    if let Some(r) = retransmit
        && r + 1 == sizes.len()
    {
        let (rs, rn) = sent[r];
        push(tcp4(c, s, rs, ss, ACK | PSH, rn, true));
    }
    let mut ss = ss;
    for _ in 0..resp {
        push(tcp4(s, c, ss, cs, ACK | PSH, 1000, true));
        ss = ss.wrapping_add(1000);
        push(tcp4(c, s, cs, ss, ACK, 0, true));
    }
    push(tcp4(c, s, cs, ss, FIN | ACK, 0, true));
    push(tcp4(s, c, ss, cs.wrapping_add(1), FIN | ACK, 0, true));
    push(tcp4(
        c,
        s,
        cs.wrapping_add(1),
        ss.wrapping_add(1),
        ACK,
        0,
        true,
    ));
    frames
}

fn run(frames: Vec<(Ts, u32, Vec<u8>)>) -> Report {
    testkit::analyze_frames(frames)
}

#[test]
fn sequence_numbers_wrapping_give_no_false_retransmissions() {
    // Both directions cross 2^32 in the middle of the data.
    let frames = exchange(u32::MAX - 2_500, u32::MAX - 3_500, &[1000; 10], 10, None);
    let rep = run(frames);
    assert_eq!(rep.connections.len(), 1);
    let c = &rep.connections[0];
    assert_eq!(c.verdict.as_str(), "ok");
    assert_eq!((c.retransmissions_c2s, c.retransmissions_s2c), (0, 0));
    assert_eq!((c.tcp.out_of_order_c2s, c.tcp.out_of_order_s2c), (0, 0));
    assert_eq!((c.tcp.dup_acks_c2s, c.tcp.dup_acks_s2c), (0, 0));
    assert_eq!((c.bytes_c2s, c.bytes_s2c), (10_000, 10_000));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

// ---- property tests ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn seqnum_order_follows_the_wrapping_distance(a: u32, d in 1u32..(1 << 31)) {
        let x = SeqNum(a);
        let y = x.plus(d);
        prop_assert!(x < y);
        prop_assert!(y > x);
        prop_assert_eq!(y.diff(x), i64::from(d));
        prop_assert_eq!(x.diff(y), -i64::from(d));
        prop_assert_eq!(x.max(y), y);
        prop_assert_eq!(y.max(x), y);
    }

    #[test]
    fn seqnum_plus_and_diff_round_trip(a: u32, b: u32) {
        let (x, y) = (SeqNum(a), SeqNum(b));
        prop_assert_eq!(x.plus(y.diff(x) as u32), y);
        prop_assert_eq!(x.plus(b).diff(x), i64::from(b as i32));
        // Ordering agrees with the sign of the distance, and is
        // antisymmetric (except at exactly 2^31, where it cannot be).
        if a.wrapping_sub(b) != 1 << 31 {
            prop_assert_eq!(x.cmp(&y), y.diff(x).cmp(&0).reverse());
            prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn in_order_streams_never_count_retransmissions(
        sizes in prop::collection::vec(2u16..1460, 1..30),
        wrap_at in 0u32..40_000,
        isn_s: u32,
        resp in 0u32..5,
    ) {
        // The client's sequence numbers cross 2^32 somewhere in the data.
        let isn_c = 0u32.wrapping_sub(wrap_at);
        let rep = run(exchange(isn_c, isn_s, &sizes, resp, None));
        prop_assert_eq!(rep.connections.len(), 1);
        let c = &rep.connections[0];
        prop_assert_eq!((c.retransmissions_c2s, c.retransmissions_s2c), (0, 0));
        prop_assert_eq!((c.tcp.out_of_order_c2s, c.tcp.out_of_order_s2c), (0, 0));
        prop_assert_eq!(c.verdict.as_str(), "ok");
    }

    #[test]
    fn one_retransmitted_segment_counts_once(
        sizes in prop::collection::vec(2u16..1460, 1..30),
        wrap_at in 0u32..40_000,
        isn_s: u32,
        pick: prop::sample::Index,
    ) {
        let isn_c = 0u32.wrapping_sub(wrap_at);
        let r = pick.index(sizes.len());
        let rep = run(exchange(isn_c, isn_s, &sizes, 1, Some(r)));
        prop_assert_eq!(rep.connections.len(), 1);
        let c = &rep.connections[0];
        prop_assert_eq!(c.retransmissions_c2s, 1);
        prop_assert_eq!(c.retransmissions_s2c, 0);
    }
}
