//! Reads and decodes every capture of the public corpus (when present) and
//! checks a handful of facts verified with tshark.

use std::path::{Path, PathBuf};
use tcptriage::decode::{Decoded, decode_frame};
use tcptriage::source::open_path;

fn corpus() -> Option<PathBuf> {
    let rel = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/public");
    [rel, PathBuf::from("/work/shared/captures/public")]
        .into_iter()
        .find(|p| p.join("INDEX.md").exists())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if !matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("md") | Some("tsv")
        ) {
            out.push(p);
        }
    }
}

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
    let Some(dir) = corpus() else {
        println!("public capture corpus not found; skipping");
        return;
    };
    let mut files = Vec::new();
    walk(&dir, &mut files);
    files.sort();
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
