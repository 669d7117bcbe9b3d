//! Builds seed corpora for the fuzz targets in `fuzz/` from real captures:
//! `cargo run --example fuzz_seeds -- OUT_DIR CAPTURE_OR_DIR...`
//!
//! - `OUT_DIR/read_capture/`: the smaller capture files themselves;
//! - `OUT_DIR/decode_packet/`: raw frames, prefixed with the link-type index
//!   and a mode byte (the `decode_packet` input layout);
//! - `OUT_DIR/analyze_frames/`: the first frames of each capture in the
//!   `analyze_frames` input layout;
//! - `OUT_DIR/dns_message/`: UDP port-53 payloads, each alone and each
//!   capture's first ones as one length-prefixed TCP stream (query and
//!   response for the tracker), and TCP port-53 payloads, after the
//!   9-byte `dns_message` prefix (timeout, script);
//! - `OUT_DIR/tls_stream/`: the first payload of TCP segments that start
//!   with a TLS record header, and every `*.bin` file given (the TLS
//!   stream fixtures of `src/sniff/testdata/tls/`) under four cutting
//!   schemes, after the 2-byte `tls_stream` prefix;
//! - `OUT_DIR/http_request/`: TCP payloads that start with an HTTP request
//!   line (go's real module requests in `testdata/gomod_*.pcap`), plus a
//!   few hand-written proxy paths and `GOPROXY` values;
//! - `OUT_DIR/http_head/`: four hand-written response heads.
//!
//! `tests/fuzz_regressions.rs` includes this file and replays the seeds of
//! `testdata/` and the TLS fixtures through the harnesses
//! (`tcptriage::fuzzing`) without writing them: [`seeds`] hands each one to
//! a callback.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use tcptriage::decode::{self, Decoded};
use tcptriage::flows::app::{looks_like_http_request, looks_like_tls};
use tcptriage::fuzzing::LINKTYPES;
use tcptriage::source::file::open_path;

const MAX_FILE: u64 = 64 * 1024;
const MAX_DECODE_SEEDS: usize = 600;
const FRAMES_PER_FILE: usize = 4;
const ANALYZE_FRAMES: usize = 40;
/// Frames of each capture searched for DNS, TLS and HTTP payloads.
const APP_FRAMES: usize = 2000;
const MAX_APP_SEEDS: usize = 300;
/// Seeds per target taken from one capture.
const APP_SEEDS_PER_FILE: usize = 40;
/// `dns_message` prefix: 5 s timeout, a script of plain steps.
const DNS_PREFIX: [u8; 9] = [100, 0x00, 0x10, 0x00, 0x20, 0x80, 0x30, 0x00, 0x50];
/// `tls_stream` schemes of the fixtures: whole, 1-byte pieces, random
/// pieces, random pieces out of order through the reassembler.
const TLS_SCHEMES: [[u8; 2]; 4] = [[0, 0], [0x08, 0], [0x0c, 40], [0x0f, 90]];
/// The `http_head` seeds: a length, chunked, a 404 with an odd
/// Content-Length, an escape in a header and an overlong length.
const HTTP_HEADS: [(&str, &str); 4] = [
    (
        "ok",
        "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\nhello world\n",
    ),
    (
        "chunked",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ),
    (
        "404",
        "HTTP/1.0 404 Not Found\r\nServer: x\r\ncontent-length:  0 \r\n\r\n",
    ),
    (
        "weird",
        "HTTP/1.1 301 Moved\r\nLocation: \x1b[2J/x\r\nContent-Length: 99999999999999999999\r\n\r\n",
    ),
];
/// The targets [`seeds`] makes seeds for (all seven).
pub const TARGETS: [&str; 7] = [
    "read_capture",
    "decode_packet",
    "analyze_frames",
    "http_head",
    "dns_message",
    "tls_stream",
    "http_request",
];
const HTTP_TEXT: [&str; 8] = [
    "GET /github.com/%21azure/azure-sdk-for-go/@v/list HTTP/1.1\r\nHost: proxy.golang.org\r\nUser-Agent: Go-http-client/1.1\r\n\r\n",
    "GET http://athens.corp/goproxy/golang.org/x/text/@v/v0.3.7.zip HTTP/1.1\r\n\r\n",
    "GET /sumdb/sum.golang.org/tile/8/0/x001/234.p/5 HTTP/1.1\r\nHost: proxy.golang.org\r\n",
    "GET /lookup/golang.org/x/text@v0.3.7 HTTP/1.1\r\nHost: sum.golang.org\r\n\r\n",
    "CONNECT proxy.golang.org:443 HTTP/1.1\r\n\r\n",
    "https://proxy.golang.org,https://goproxy.cn|http://[fd00::1]:3000/p/,direct",
    "/rsc.io/quote/@latest",
    "github.com/!burnt!sushi/toml",
];

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            walk(&e, out);
        }
    } else {
        out.push(p.to_path_buf());
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, inputs)) = args.split_first() else {
        eprintln!("usage: fuzz_seeds OUT_DIR CAPTURE_OR_DIR...");
        std::process::exit(2);
    };
    let out = Path::new(out);
    for t in TARGETS {
        std::fs::create_dir_all(out.join(t))?;
    }
    let inputs: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
    let n = seeds(&inputs, &mut |target, name, seed| {
        std::fs::write(out.join(target).join(name), seed)
    })?;
    eprintln!(
        "{} capture files, {} frames, {} analysis seeds, \
         {} DNS, {} TLS, {} HTTP seeds in {}",
        n.files,
        n.decode,
        n.analyze,
        n.dns,
        n.tls,
        n.http,
        out.display()
    );
    Ok(())
}

/// Where a seed goes: its target, a file name, the bytes.
pub type Put<'a> = dyn FnMut(&str, &str, &[u8]) -> std::io::Result<()> + 'a;

/// How many seeds of each kind [`seeds`] made.
#[derive(Debug, Default)]
pub struct Counts {
    pub files: usize,
    pub decode: usize,
    pub analyze: usize,
    pub dns: usize,
    pub tls: usize,
    pub http: usize,
}

/// Makes the seeds of every target from the captures and TLS stream
/// fixtures (`*.bin`) in `inputs` (files or directories), handing each to
/// `put`.
pub fn seeds(inputs: &[PathBuf], put: &mut Put) -> std::io::Result<Counts> {
    let mut files = Vec::new();
    for i in inputs {
        walk(i, &mut files);
    }
    let (mut n_files, mut n_decode, mut n_analyze) = (0, 0, 0);
    let mut app = AppSeeds::default();
    for (name, head) in HTTP_HEADS {
        put("http_head", name, head.as_bytes())?;
    }
    for (i, text) in HTTP_TEXT.iter().enumerate() {
        put("http_request", &format!("text{i}"), text.as_bytes())?;
    }
    for (i, f) in files.iter().enumerate() {
        if f.extension().is_some_and(|e| e == "bin") {
            let stream = std::fs::read(f)?;
            for (k, prefix) in TLS_SCHEMES.iter().enumerate() {
                let mut seed = prefix.to_vec();
                seed.extend_from_slice(&stream);
                put("tls_stream", &format!("b{i:05}-{k}"), &seed)?;
            }
            app.tls += 1;
            continue;
        }
        app.scan(put, i, f)?;
        let Ok(mut src) = open_path(f) else { continue };
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(u64::MAX);
        if size <= MAX_FILE {
            put("read_capture", &format!("f{i:05}"), &std::fs::read(f)?)?;
            n_files += 1;
        }
        let mut analyze_seed = vec![9u8, 50];
        let mut frames = 0;
        let mut last_ts = None;
        while let Ok(Some(fr)) = src.next_frame() {
            let Some(idx) = LINKTYPES.iter().position(|&l| l == fr.linktype) else {
                break;
            };
            if frames < FRAMES_PER_FILE && n_decode < MAX_DECODE_SEEDS {
                let mut seed = vec![idx as u8, 0];
                seed.extend_from_slice(&fr.data[..fr.data.len().min(2048)]);
                put("decode_packet", &format!("f{i:05}-{frames}"), &seed)?;
                n_decode += 1;
            }
            if frames < ANALYZE_FRAMES {
                let step = last_ts.map_or(0, |t| fr.ts.nanos_since(t) / 10_000);
                last_ts = Some(fr.ts);
                let step = step.clamp(0, 0x7fff) as u16;
                let data = &fr.data[..fr.data.len().min(1500)];
                analyze_seed.push(idx as u8);
                analyze_seed.extend_from_slice(&step.to_le_bytes());
                analyze_seed.extend_from_slice(&(data.len() as u16).to_le_bytes());
                analyze_seed.extend_from_slice(data);
            }
            frames += 1;
            if frames >= ANALYZE_FRAMES.max(FRAMES_PER_FILE) {
                break;
            }
        }
        if frames > 0 && n_analyze < 400 {
            put("analyze_frames", &format!("f{i:05}"), &analyze_seed)?;
            n_analyze += 1;
        }
    }
    Ok(Counts {
        files: n_files,
        decode: n_decode,
        analyze: n_analyze,
        dns: app.dns,
        tls: app.tls,
        http: app.http,
    })
}

/// Seeds of the application-parser targets, counted.
#[derive(Default)]
struct AppSeeds {
    dns: usize,
    tls: usize,
    http: usize,
    /// Payloads already written (the same request recurs a lot).
    seen: HashSet<Vec<u8>>,
}

impl AppSeeds {
    /// The DNS, TLS and HTTP payloads of the first frames of one capture.
    fn scan(&mut self, put: &mut Put, i: usize, f: &Path) -> std::io::Result<()> {
        let Ok(mut src) = open_path(f) else {
            return Ok(());
        };
        let mut stream = DNS_PREFIX.to_vec();
        let mut in_stream = 0;
        let mut n = 0;
        let mut per_file = [0usize; 3];
        while let Ok(Some(fr)) = src.next_frame() {
            n += 1;
            if n > APP_FRAMES {
                break;
            }
            let Ok(d) = decode::decode(fr.linktype, fr.data) else {
                continue;
            };
            let (write, dir, name, payload) = match d {
                Decoded::Udp(u)
                    if (u.src_port == 53 || u.dst_port == 53) && u.payload.len() >= 12 =>
                {
                    if in_stream < 8 {
                        stream.extend_from_slice(&(u.payload.len() as u16).to_be_bytes());
                        stream.extend_from_slice(u.payload);
                        in_stream += 1;
                    }
                    (
                        self.dns < MAX_APP_SEEDS,
                        "dns_message",
                        &mut self.dns,
                        u.payload,
                    )
                }
                Decoded::Tcp(t)
                    if (t.src_port == 53 || t.dst_port == 53) && t.payload.len() > 2 =>
                {
                    (
                        self.dns < MAX_APP_SEEDS,
                        "dns_message",
                        &mut self.dns,
                        t.payload,
                    )
                }
                Decoded::Tcp(t) if looks_like_tls(t.payload) => (
                    self.tls < MAX_APP_SEEDS,
                    "tls_stream",
                    &mut self.tls,
                    t.payload,
                ),
                Decoded::Tcp(t) if looks_like_http_request(t.payload) => (
                    self.http < MAX_APP_SEEDS,
                    "http_request",
                    &mut self.http,
                    t.payload,
                ),
                _ => continue,
            };
            let k = ["dns_message", "tls_stream", "http_request"]
                .iter()
                .position(|t| *t == dir)
                .unwrap_or(0);
            if !write || per_file[k] >= APP_SEEDS_PER_FILE || !self.seen.insert(payload.to_vec()) {
                continue;
            }
            per_file[k] += 1;
            let seed = match dir {
                "dns_message" => [&DNS_PREFIX[..], payload].concat(),
                "tls_stream" => [&[0u8, 0][..], payload].concat(),
                _ => payload.to_vec(),
            };
            put(dir, &format!("f{i:05}-{n}"), &seed)?;
            *name += 1;
        }
        if in_stream > 0 {
            put("dns_message", &format!("f{i:05}-tcp"), &stream)?;
            self.dns += 1;
        }
        Ok(())
    }
}
