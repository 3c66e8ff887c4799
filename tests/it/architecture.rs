//! The shape of `src/`, checked: the sub-systems of `src/vdfs` depend on each other in one
//! direction only (the layers below, as `ARCHITECTURE.md` draws them), nothing in the core
//! imports a front end, and the front ends never name a store table.
//!
//! The check reads the sources: every `crate::`, `super::` and `self::` path (in `use` trees
//! and inline), resolved against the module it appears in (inline `mod x { … }` blocks
//! included), is an edge from the file's sub-system to the target's. Comments and string
//! literals are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The sub-systems of `src/vdfs`, bottom layer first. A sub-system may use those in lower
/// layers only (never one in its own layer or above). `core` is `src/vdfs/mod.rs`, the
/// composition root.
const LAYERS: &[&[&str]] = &[
    &["fs"],
    &["content"],
    &["jobs"],
    &["events", "error", "sdpath", "clock"],
    &["home"],
    &["index"],
    &["query", "sidecars"],
    &["platform", "indexer"],
    &["actions"],
    &["library"],
    &["core"],
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
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

/// The module path of a file under `src/`, e.g. `src/vdfs/index/mod.rs` → `[vdfs, index]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_owned());
    }
    parts
}

/// The source with comments and the contents of string and char literals blanked out.
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (c.get(i + 1) == Some(&'"') || c.get(i + 1) == Some(&'#'))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
        {
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (1..=hashes).all(|k| c.get(j + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c[i] == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if c.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// Expands a `use` tree such as `a::{b, c::{d, e}}` into full paths.
fn expand_use(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    fn go(prefix: &str, t: &str, out: &mut Vec<String>) {
        if let Some(open) = t.find('{') {
            let head = &t[..open];
            let inner = &t[open + 1..t.rfind('}').unwrap_or(t.len())];
            let mut depth = 0;
            let mut start = 0;
            let bytes: Vec<char> = inner.chars().collect();
            let mut parts = Vec::new();
            for (k, ch) in bytes.iter().enumerate() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        parts.push(bytes[start..k].iter().collect::<String>());
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            parts.push(bytes[start..].iter().collect::<String>());
            for p in parts.into_iter().filter(|p| !p.is_empty()) {
                go(&format!("{prefix}{head}"), &p, out);
            }
        } else {
            out.push(format!("{prefix}{t}"));
        }
    }
    go("", &tree, &mut out);
    out
}

/// Every path the file refers to, resolved to a module path under the crate root.
fn references(file: &Path) -> Vec<Vec<String>> {
    let text = code_only(&std::fs::read_to_string(file).unwrap());
    let base = module_of(file);
    let c: Vec<char> = text.chars().collect();
    // (brace depth at which the inline module's block opened, its name)
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut depth = 0usize;
    let mut found = Vec::new();
    let word_at = |i: usize, w: &str| -> bool {
        let wc: Vec<char> = w.chars().collect();
        c.len() >= i + wc.len()
            && c[i..i + wc.len()] == wc[..]
            && (i == 0 || !is_ident(c[i - 1]))
            && !c.get(i + wc.len()).is_some_and(|&ch| is_ident(ch))
    };
    let mut i = 0;
    while i < c.len() {
        let here: Vec<String> = base
            .iter()
            .cloned()
            .chain(inline.iter().map(|(_, n)| n.clone()))
            .collect();
        if c[i] == '{' {
            depth += 1;
            i += 1;
            continue;
        }
        if c[i] == '}' {
            depth = depth.saturating_sub(1);
            if inline.last().is_some_and(|(d, _)| *d == depth) {
                inline.pop();
            }
            i += 1;
            continue;
        }
        if word_at(i, "mod") {
            // `mod name {` opens an inline module; `mod name;` is a file module.
            let rest: String = c[i + 3..].iter().take(200).collect();
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|&ch| is_ident(ch))
                .collect();
            let after = rest.trim_start()[name.len()..].trim_start();
            if !name.is_empty() && after.starts_with('{') {
                inline.push((depth, name));
                let skip = rest.find('{').unwrap();
                depth += 1;
                i += 3 + skip + 1;
                continue;
            }
        }
        let paths: Vec<String> = if word_at(i, "use") {
            let end = c[i..]
                .iter()
                .position(|&ch| ch == ';')
                .map_or(c.len(), |p| i + p);
            let tree: String = c[i + 3..end].iter().collect();
            i = end;
            expand_use(&tree)
        } else if word_at(i, "crate") || word_at(i, "super") || word_at(i, "self") {
            let mut j = i;
            while j < c.len() && (is_ident(c[j]) || c[j] == ':') {
                j += 1;
            }
            let p: String = c[i..j].iter().collect();
            i = j;
            vec![p]
        } else {
            i += 1;
            continue;
        };
        for p in paths {
            let segs: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
            let mut at: Vec<String> = match segs.first() {
                Some(&"crate") => Vec::new(),
                Some(&"self") | Some(&"super") => here.clone(),
                _ => continue,
            };
            let mut rest = &segs[..];
            if rest.first() == Some(&"crate") {
                rest = &rest[1..];
            }
            while let Some(&s) = rest.first() {
                match s {
                    "self" => {}
                    "super" => {
                        at.pop();
                    }
                    _ => break,
                }
                rest = &rest[1..];
            }
            at.extend(rest.iter().map(|s| s.to_string()));
            if rest.len() == segs.len() && segs.first() != Some(&"crate") {
                continue;
            }
            found.push(at);
        }
    }
    found
}

/// Items `src/vdfs/mod.rs` re-exports (`pub use home::libraries::{A, B}`) → their sub-system.
fn reexports() -> BTreeMap<String, String> {
    let text = code_only(&std::fs::read_to_string(src().join("vdfs/mod.rs")).unwrap());
    let mut map = BTreeMap::new();
    for stmt in text.split(';') {
        let Some(at) = stmt.find("pub use ") else {
            continue;
        };
        for p in expand_use(&stmt[at + 8..]) {
            let segs: Vec<&str> = p.split("::").collect();
            if segs.len() >= 2 {
                let item = segs[segs.len() - 1]
                    .split(" as ")
                    .last()
                    .unwrap()
                    .to_owned();
                map.insert(item, segs[0].to_owned());
            }
        }
    }
    map
}

/// The sub-system of a module path under `vdfs` (`None` outside `vdfs`).
fn subsystem(path: &[String], reexports: &BTreeMap<String, String>) -> Option<String> {
    if path.first().map(String::as_str) != Some("vdfs") {
        return None;
    }
    let Some(first) = path.get(1) else {
        return Some("core".into());
    };
    let vdfs = src().join("vdfs");
    if vdfs.join(first).is_dir() || vdfs.join(format!("{first}.rs")).is_file() {
        return Some(first.clone());
    }
    Some(
        reexports
            .get(first)
            .cloned()
            .unwrap_or_else(|| "core".into()),
    )
}

fn layer_of(node: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&node))
        .unwrap_or_else(|| panic!("sub-system `{node}` is in no layer of tests/it/architecture.rs"))
}

#[test]
fn vdfs_subsystems_depend_downwards_only() {
    let mut files = Vec::new();
    rust_files(&src().join("vdfs"), &mut files);
    let re = reexports();
    let mut wrong: BTreeSet<String> = BTreeSet::new();
    let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
    for f in &files {
        let from = subsystem(&module_of(f), &re).unwrap();
        for target in references(f) {
            let Some(to) = subsystem(&target, &re) else {
                let top = target.first().map(String::as_str).unwrap_or("");
                if matches!(top, "ui" | "cli") {
                    wrong.insert(format!(
                        "{} uses the front end `{}`",
                        f.display(),
                        target.join("::")
                    ));
                }
                continue;
            };
            if to == from {
                continue;
            }
            edges.insert((from.clone(), to.clone()));
            if layer_of(&to) >= layer_of(&from) {
                wrong.insert(format!(
                    "{} ({from}) uses `{}` ({to}), which is not below it",
                    f.strip_prefix(src()).unwrap().display(),
                    target.join("::")
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "dependencies against the layers (see ARCHITECTURE.md):\n{}",
        wrong.into_iter().collect::<Vec<_>>().join("\n")
    );
    // The check itself must see the edges it is meant to police.
    assert!(
        edges.contains(&("indexer".into(), "index".into())),
        "{edges:?}"
    );
    assert!(
        edges.contains(&("library".into(), "query".into())),
        "{edges:?}"
    );
}

#[test]
fn the_store_knows_nothing_above_it() {
    let mut files = Vec::new();
    rust_files(&src().join("store"), &mut files);
    for f in &files {
        for target in references(f) {
            let top = target.first().map(String::as_str).unwrap_or("");
            assert!(
                !matches!(top, "vdfs" | "ui" | "cli"),
                "{} uses `{}`",
                f.display(),
                target.join("::")
            );
        }
    }
}

#[test]
fn the_checker_resolves_paths_like_rustc() {
    assert_eq!(
        expand_use("crate::vdfs::{index::{self, location::find}, Library}"),
        [
            "crate::vdfs::index::self",
            "crate::vdfs::index::location::find",
            "crate::vdfs::Library"
        ]
    );
    assert_eq!(
        code_only("let s = \"crate::ui\"; // crate::cli\nlet c = '}'; x"),
        "let s = \"\"; \nlet c = ' '; x"
    );
}

/// The front ends (the window and the CLI) and the tests ask `Library` and `Core`; they never
/// open the store, name a table or call the index's free functions over a store.
#[test]
fn front_ends_never_name_a_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src/ui", "src/cli", "tests", "benches"] {
        rust_files(&root.join(dir), &mut files);
    }
    files.push(root.join("src/main.rs"));
    // redb alone, on a database of its own, with no Cairn code: the store's floor.
    files.retain(|f| !f.ends_with("benches/store_floor.rs"));
    let forbidden = [
        ".store()",
        "schema::",
        "open_table",
        "begin_read",
        "begin_write",
    ];
    let mut wrong = Vec::new();
    for f in &files {
        let text = code_only(&std::fs::read_to_string(f).unwrap());
        for (n, line) in text.lines().enumerate() {
            for word in forbidden {
                if line.contains(word) {
                    wrong.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "front ends and tests go through Library/Core methods:\n{}",
        wrong.join("\n")
    );
}
