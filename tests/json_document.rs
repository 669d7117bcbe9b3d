//! `--format json` writes each report field by field, with the connections
//! serialized on two threads in blocks (`report::json::write_json`). The
//! document must be exactly what serde's derive writes for the report (or
//! the list of reports): checked on every shipped capture, alone and all
//! together.

use std::path::Path;
use tcptriage::analyze::{Settings, analyze_collect};
use tcptriage::report::Collect;
use tcptriage::report::{Report, to_writer_pretty, write_json};
use tcptriage::source::open_path;

fn reports() -> Vec<Report> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    paths.sort();
    assert!(paths.len() > 40, "the shipped captures");
    paths
        .iter()
        .filter_map(|p| {
            let mut src = open_path(p).ok()?;
            analyze_collect(
                src.as_mut(),
                &p.display().to_string(),
                &Settings::default(),
                Collect::every(),
            )
            .ok()
        })
        .collect()
}

#[test]
fn the_json_document_is_what_serde_writes() {
    let all = reports();
    let text = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    };
    for r in &all {
        let ours = text(&|v| write_json(v, std::slice::from_ref(r)).unwrap());
        let serde = text(&|v| to_writer_pretty(&mut *v, r).unwrap());
        assert_eq!(ours, serde + "\n", "{}", r.capture.file);
    }
    let ours = text(&|v| write_json(v, &all).unwrap());
    let serde = text(&|v| to_writer_pretty(&mut *v, &all).unwrap());
    assert_eq!(ours, serde + "\n", "all captures in one document");
    assert!(all.iter().map(|r| r.connections.len()).sum::<usize>() > 50);
}
