//! Reads and decodes every capture of the public corpus (when present) and
//! checks a handful of facts verified with tshark.

mod testkit;

use std::path::{Path, PathBuf};
use tcptriage::decode::{Decoded, decode_frame};
use tcptriage::source::open_path;

/// One frame, reduced to plain data: (number, ts ns, linktype, orig_len, caplen, decoded summary).
#[derive(Debug, Clone, PartialEq)]
struct Row {
    number: u64,
    ts: i64,
    linktype: u32,
    orig_len: u32,
    caplen: usize,
    tcp: Option<(String, u16, String, u16, u32, u32)>,
}

fn read_all(path: &Path) -> Result<(Vec<Row>, Vec<String>, String), String> {
    let mut src = open_path(path).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    loop {
        match src.next_frame() {
            Ok(Some(f)) => {
                let tcp = match decode_frame(&f) {
                    Ok(Decoded::Tcp(t)) => Some((
                        t.ip.src.to_string(),
                        t.src_port,
                        t.ip.dst.to_string(),
                        t.dst_port,
                        t.seq,
                        t.payload_len,
                    )),
                    _ => None,
                };
                rows.push(Row {
                    number: f.number,
                    ts: f.ts.0,
                    linktype: f.linktype,
                    orig_len: f.orig_len,
                    caplen: f.data.len(),
                    tcp,
                });
            }
            Ok(None) => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok((rows, src.warnings().to_vec(), src.format()))
}

/// Writes `number ts caplen origlen [sport dport seq len]` per frame, for
/// comparing with `tshark -T fields` by hand (set `CORPUS_DUMP=dir`).
fn dump(out: &Path, root: &Path, file: &Path, rows: &[Row]) {
    use std::fmt::Write as _;
    let name = file
        .strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .replace('/', "__");
    let mut s = String::new();
    for r in rows {
        let _ = write!(
            s,
            "{}\t{}.{:09}\t{}\t{}",
            r.number,
            r.ts.div_euclid(1_000_000_000),
            r.ts.rem_euclid(1_000_000_000),
            r.caplen,
            r.orig_len
        );
        if let Some((_, sp, _, dp, seq, len)) = &r.tcp {
            let _ = write!(s, "\t{sp}\t{dp}\t{seq}\t{len}");
        }
        s.push('\n');
    }
    std::fs::create_dir_all(out).unwrap();
    std::fs::write(out.join(name), s).unwrap();
}

#[test]
fn every_public_capture_reads_and_decodes_without_panic() {
    let Some(dir) = testkit::public_corpus() else {
        println!("public capture corpus not found; skipping");
        return;
    };
    let files = testkit::corpus_files(&dir);
    assert!(
        files.len() > 1000,
        "expected the whole corpus, got {}",
        files.len()
    );
    let (mut ok, mut err, mut frames) = (0, 0, 0);
    for f in &files {
        match read_all(f) {
            Ok((rows, _, _)) => {
                ok += 1;
                if let Some(d) = std::env::var_os("CORPUS_DUMP") {
                    dump(Path::new(&d), &dir, f, &rows);
                }
                frames += rows.len();
                // Strictly increasing from 1 (pcapng custom blocks take a
                // number without yielding a frame, as in Wireshark).
                let mut prev = 0;
                for r in &rows {
                    assert!(r.number > prev, "{}", f.display());
                    prev = r.number;
                }
            }
            Err(e) => {
                err += 1;
                if std::env::var_os("CORPUS_VERBOSE").is_some() {
                    println!("{}: {e}", f.display());
                }
            }
        }
    }
    println!("{ok} files read ({frames} frames), {err} refused");
    assert!(ok > 1500, "only {ok} files readable");
}

fn file(rel: &str) -> Option<PathBuf> {
    let Some(dir) = testkit::public_corpus() else {
        println!("public capture corpus not found; skipping");
        return None;
    };
    Some(dir.join(rel))
}

const NS: i64 = 1_000_000_000;

/// Checked with `tshark -r FILE -T fields -e frame.number -e frame.time_epoch
/// -e frame.cap_len -e frame.len -e frame.interface_id -e frame.encap_type`.
#[test]
fn pcapng_generator_mixed_interfaces_match_tshark() {
    // Big-endian, 3 interfaces (Ethernet + NULL), SPBs, NRB.
    let Some(p) = file("pcapng-test-generator/output_be/advanced/test100.pcapng") else {
        return;
    };
    let (rows, warnings, format) = read_all(&p).unwrap();
    assert_eq!(format, "pcapng");
    assert!(warnings.is_empty(), "{warnings:?}");
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.number, r.ts, r.linktype, r.caplen, r.orig_len))
        .collect();
    let t = 1_340_954_905 * NS;
    assert_eq!(
        got,
        vec![
            // Frames 1 and 3 are SPBs: tshark shows no time; we carry the
            // previous frame's.
            (1, 0, 1, 314, 314),
            (2, t + 298_858_000, 1, 342, 342),
            (3, t + 298_858_000, 1, 314, 314),
            (4, t + 300_858_000, 1, 342, 342),
            (5, t + 301_858_000, 0, 168, 168),
        ]
    );

    // Little-endian, 2 interfaces with different link types, snaplen 96.
    let (rows, _, _) =
        read_all(&file("pcapng-test-generator/output_le/basic/test006.pcapng").unwrap()).unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.number, r.ts, r.linktype, r.caplen, r.orig_len))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, t + 298_858_000, 1, 96, 314),
            (2, t + 299_858_000, 0, 168, 168),
            (3, t + 300_858_000, 1, 96, 342),
            (4, t + 301_858_000, 1, 96, 314),
            (5, t + 302_858_000, 1, 96, 342),
        ]
    );

    // Big-endian, if_tsresol=9 on both interfaces.
    let (rows, _, _) =
        read_all(&file("pcapng-test-generator/output_be/basic/test008.pcapng").unwrap()).unwrap();
    let ts: Vec<_> = rows.iter().map(|r| r.ts).collect();
    let t = 1_340_954 * NS;
    assert_eq!(
        ts,
        vec![
            t + 905_298_858,
            t + 905_299_858,
            t + 905_300_858,
            t + 905_301_858
        ]
    );

    // Custom blocks are numbered like Wireshark numbers them (frames 1, 4, 6, 8).
    let (rows, _, _) =
        read_all(&file("pcapng-test-generator/output_le/basic/test018.pcapng").unwrap()).unwrap();
    let numbers: Vec<_> = rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, vec![2, 3, 5, 7]);
}

/// `tshark -r zeek/tls/openjdk-25.0.2-zeek.org.pcap -T fields -e frame.number
/// -e frame.time_epoch -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport
/// -e tcp.seq_raw -e tcp.len`
#[test]
fn sll2_tcp_matches_tshark() {
    let Some(p) = file("zeek/tls/openjdk-25.0.2-zeek.org.pcap") else {
        return;
    };
    let (rows, warnings, format) = read_all(&p).unwrap();
    assert_eq!(format, "pcap (microsecond, little-endian)");
    assert!(warnings.is_empty());
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.linktype == 276));
    assert_eq!(rows[0].ts, 1_776_243_128 * NS + 835_142_000);
    let c = "192.168.64.6".to_string();
    let s = "192.0.78.150".to_string();
    assert_eq!(
        rows[0].tcp,
        Some((c.clone(), 55058, s.clone(), 443, 974_184_494, 0))
    );
    assert_eq!(
        rows[1].tcp,
        Some((s.clone(), 443, c.clone(), 55058, 1_339_772_507, 0))
    );
    assert_eq!(rows[3].tcp, Some((c, 55058, s, 443, 974_184_495, 457)));
}

/// tshark: frame 18 has IPv4 total length 137 in a 66-byte frame ("IPv4
/// total length exceeds packet length"), TCP Len 0; frame 1 is a SYN.
#[test]
fn bogus_ip_total_length_is_clamped_like_tshark() {
    let Some(p) = file("chrissanders-packets/ppa1e/telnet.pcap") else {
        return;
    };
    let (rows, _, _) = read_all(&p).unwrap();
    let r = &rows[17];
    assert_eq!((r.number, r.orig_len), (18, 66));
    let (_, sport, _, dport, seq, len) = r.tcp.clone().unwrap();
    assert_eq!((sport, dport, seq, len), (1550, 23, 2_579_865_940, 0));
}

#[test]
fn refused_files_say_why() {
    let Some(p) = file("libpcap/pcap-empty-file.pcap") else {
        return;
    };
    assert_eq!(
        read_all(&p).unwrap_err(),
        "not a pcap or pcapng capture (empty file)"
    );
    let gz = file("zeek/echo-connections.pcap.gz").unwrap();
    assert!(
        read_all(&gz)
            .unwrap_err()
            .contains("gzip-compressed; decompress it first")
    );
}

/// IPv6 with a hop-by-hop header (jumbo payload, "BIG TCP"): tshark -e
/// tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.len gives 41851, 43913,
/// 592820498, 80000.
#[test]
fn ipv6_hop_by_hop_jumbogram_matches_tshark() {
    let Some(p) = file("tcpdump/bigtcp-ipv6-hbh.pcap") else {
        return;
    };
    let (rows, _, _) = read_all(&p).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].caplen, rows[0].orig_len), (80094, 80094));
    let (_, sport, _, dport, seq, len) = rows[0].tcp.clone().unwrap();
    assert_eq!(
        (sport, dport, seq, len),
        (41851, 43913, 592_820_498, 80_000)
    );
}
