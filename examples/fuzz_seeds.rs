//! Builds seed corpora for the fuzz targets in `fuzz/` from real captures:
//! `cargo run --example fuzz_seeds -- OUT_DIR CAPTURE_OR_DIR...`
//!
//! - `OUT_DIR/read_capture/`: the smaller capture files themselves;
//! - `OUT_DIR/decode_packet/`: raw frames, prefixed with the link-type index
//!   and a mode byte (the `decode_packet` input layout);
//! - `OUT_DIR/analyze_frames/`: the first frames of each capture in the
//!   `analyze_frames` input layout.

use std::path::{Path, PathBuf};
use tcptriage::source::file::open_path;

const LINKTYPES: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];
const MAX_FILE: u64 = 64 * 1024;
const MAX_DECODE_SEEDS: usize = 600;
const FRAMES_PER_FILE: usize = 4;
const ANALYZE_FRAMES: usize = 40;

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
    for t in ["read_capture", "decode_packet", "analyze_frames"] {
        std::fs::create_dir_all(out.join(t))?;
    }
    let mut files = Vec::new();
    for i in inputs {
        walk(Path::new(i), &mut files);
    }
    let (mut n_files, mut n_decode, mut n_analyze) = (0, 0, 0);
    for (i, f) in files.iter().enumerate() {
        let Ok(mut src) = open_path(f) else { continue };
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(u64::MAX);
        if size <= MAX_FILE {
            std::fs::copy(f, out.join("read_capture").join(format!("f{i:05}")))?;
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
                std::fs::write(
                    out.join("decode_packet").join(format!("f{i:05}-{frames}")),
                    seed,
                )?;
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
            std::fs::write(
                out.join("analyze_frames").join(format!("f{i:05}")),
                analyze_seed,
            )?;
            n_analyze += 1;
        }
    }
    eprintln!(
        "{n_files} capture files, {n_decode} frames, {n_analyze} analysis seeds in {}",
        out.display()
    );
    Ok(())
}
