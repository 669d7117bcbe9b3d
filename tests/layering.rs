//! The pipeline's layering, checked on the source: no stage imports a
//! stage above it, and no two files import each other in a circle.
//!
//! ```text
//! time, decimal, testutil        capture time, number formatting, unit-test helpers
//! packet                         the ground floor: types every stage shares
//! source | decode                frames in; bytes to headers (neither imports the other)
//! sniff                          DNS, TLS, HTTP, Go module parsers over byte streams
//! flows                          the connection table; drives the sniffers per connection
//! verdict                        the rules
//! report                         the model and its printers
//! analyze                        wires the stages together
//! ladder | extract               second reads of a capture for one connection
//! fuzzing                        the fuzz harnesses (reach anything)
//! ```
//!
//! A stage may import the stages on lower lines only. The check reads each
//! file's code outside comments and `#[cfg(test)]` modules (unit tests may
//! build whole pipelines) and collects every `crate::stage` path, in `use`
//! items and inline. Inside a stage, files may import each other, but not in
//! a circle (`super::x` and `crate::stage::x` paths).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each stage's floor: a stage may import only stages of a lower number.
const RANKS: &[(&str, u32)] = &[
    ("time", 0),
    ("decimal", 0),
    ("testutil", 0),
    ("packet", 1),
    ("source", 2),
    ("decode", 2),
    ("sniff", 3),
    ("flows", 4),
    ("verdict", 5),
    ("report", 6),
    ("analyze", 7),
    ("ladder", 8),
    ("extract", 8),
    ("fuzzing", 9),
];

fn rank(stage: &str) -> Option<u32> {
    RANKS.iter().find(|(s, _)| *s == stage).map(|&(_, r)| r)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The file's code without comments, string contents that span lines are
/// rare enough here to ignore; a `#[cfg(test)]` item and everything after
/// it is dropped (test modules come last in every file of this crate).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::new();
    let mut in_block = false;
    for line in text.lines() {
        let mut l = line;
        if in_block {
            match l.find("*/") {
                Some(i) => {
                    in_block = false;
                    l = &l[i + 2..];
                }
                None => continue,
            }
        }
        if let Some(i) = l.find("/*") {
            in_block = !l[i..].contains("*/");
            l = &l[..i];
        }
        let l = match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        };
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// Identifiers that follow `prefix` in `code` (`crate::` → `flows`, …),
/// and those listed in `prefix{a, b::c}` groups.
fn paths_after(code: &str, prefix: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    // `stage` or `stage::item` at the start of `path`.
    let mut push = |path: &str| {
        let first = ident(path);
        let second = path
            .strip_prefix(first.as_str())
            .and_then(|r| r.strip_prefix("::"))
            .map(ident);
        if !first.is_empty() {
            found.push((first, second));
        }
    };
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        // Skip `tcptriage::crate::`-like false starts: the prefix must begin
        // a path.
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                push(item.trim());
            }
        } else {
            push(rest);
        }
    }
    found
}

struct SourceFile {
    /// The stage: the first component under src/ (`flows` for
    /// src/flows/conn.rs, `analyze` for src/analyze.rs).
    stage: String,
    /// The module inside its stage (`conn`; `mod` for the stage's root).
    module: String,
    code: String,
}

fn sources() -> Vec<SourceFile> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out = Vec::new();
    for p in files {
        let rel = p.strip_prefix(&src).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        // The binary (main.rs, cli/) sits on top of everything; lib.rs is
        // the crate's table of contents; tests.rs files are unit tests.
        if matches!(parts[0].as_str(), "main" | "lib" | "cli") || parts.last().unwrap() == "tests" {
            continue;
        }
        let module = if parts.len() == 1 {
            "mod".to_string()
        } else {
            parts[1].clone()
        };
        out.push(SourceFile {
            stage: parts[0].clone(),
            module,
            code: code_of(&fs::read_to_string(&p).unwrap()),
        });
    }
    out
}

#[test]
fn every_stage_has_a_rank() {
    for f in sources() {
        assert!(
            rank(&f.stage).is_some(),
            "src/{}: a new stage; give it a place in RANKS (tests/layering.rs) and in the pipeline of src/lib.rs",
            f.stage
        );
    }
}

#[test]
fn no_stage_imports_a_higher_one() {
    let mut wrong = BTreeSet::new();
    for f in sources() {
        let Some(own) = rank(&f.stage) else { continue };
        for (stage, _) in paths_after(&f.code, "crate::") {
            if stage == f.stage {
                continue;
            }
            match rank(&stage) {
                Some(r) if r < own => {}
                Some(_) => {
                    wrong.insert(format!(
                        "src/{}/{} imports crate::{stage}",
                        f.stage, f.module
                    ));
                }
                None => {} // a std or external path such as `crate` in a macro
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the pipeline's order:\n{}",
        wrong.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn no_two_files_of_a_stage_import_each_other_in_a_circle() {
    // Edges between the files of one stage.
    let files = sources();
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let modules: BTreeSet<(String, String)> = files
        .iter()
        .map(|f| (f.stage.clone(), f.module.clone()))
        .collect();
    for f in &files {
        let mut targets = Vec::new();
        if f.module != "mod" {
            for (m, _) in paths_after(&f.code, "super::") {
                targets.push(m);
            }
        } else {
            for (m, _) in paths_after(&f.code, "self::") {
                targets.push(m);
            }
        }
        for (stage, sub) in paths_after(&f.code, "crate::") {
            if stage == f.stage
                && let Some(sub) = sub
            {
                targets.push(sub);
            }
        }
        for t in targets {
            if t != f.module && modules.contains(&(f.stage.clone(), t.clone())) {
                edges
                    .entry((f.stage.clone(), f.module.clone()))
                    .or_default()
                    .insert(t);
            }
        }
        // A file that names its stage's root (`super::Item` from a
        // submodule) depends on mod.rs, which in turn re-exports from
        // submodules: those are the ordinary tree, not circles, so mod.rs
        // is left out of the search below.
    }
    // Depth-first search for a cycle among the non-root files.
    let mut cycles = Vec::new();
    for start in edges.keys() {
        if start.1 == "mod" {
            continue;
        }
        let mut stack = vec![(start.1.clone(), vec![start.1.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            let Some(next) = edges.get(&(start.0.clone(), at.clone())) else {
                continue;
            };
            for n in next {
                if n == "mod" {
                    continue;
                }
                if *n == start.1 {
                    cycles.push(format!("src/{}: {} → {}", start.0, path.join(" → "), n));
                } else if seen.insert(n.clone()) {
                    let mut p = path.clone();
                    p.push(n.clone());
                    stack.push((n.clone(), p));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import circles:\n{}", cycles.join("\n"));
}

#[test]
fn the_check_sees_imports() {
    // The parser itself, on the shapes the crate uses: a guard against a
    // check that passes because it reads nothing.
    let code = code_of(
        "use crate::flows::{Connection, Dir};\nuse crate::{report, verdict::Verdict};\n\
         // use crate::analyze;\nfn f(x: &crate::source::Frame) { super::rows::g() }\n",
    );
    let stages: Vec<String> = paths_after(&code, "crate::")
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(stages, ["flows", "report", "verdict", "source"]);
    assert_eq!(
        paths_after(&code, "super::"),
        [("rows".to_string(), Some("g".to_string()))]
    );
    // And on the real tree: flows imports decode, report imports verdict.
    let files = sources();
    let imports = |stage: &str, of: &str| {
        files
            .iter()
            .filter(|f| f.stage == stage)
            .any(|f| paths_after(&f.code, "crate::").iter().any(|(s, _)| s == of))
    };
    assert!(imports("flows", "decode"));
    assert!(imports("report", "verdict"));
    assert!(files.len() > 30, "read {} files", files.len());
}
