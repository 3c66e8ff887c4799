//! `cairn search`: ranking, Unicode folding, filters and scopes.

use std::fs;

use crate::common::{cairn, json, ok};

#[test]
fn ranking_folding_filters_and_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("files");
    let files: &[(&str, usize)] = &[
        ("README", 10),
        ("docs/README.md", 20),
        ("deep/a/b/c/README.txt", 30),
        ("old-readme.txt", 40),
        ("myreadme", 50),
        ("r-e-a-d-m-e", 60),
        ("notes.txt", 70),
        ("photos/Montre\u{301}al 2024.JPG", 5000),
        ("photos/big.png", 2_000_000),
        (".hidden-readme", 1),
    ];
    for (p, size) in files {
        let path = root.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, vec![b'x'; *size]).unwrap();
    }
    let data = tmp.path().join("data");
    ok(cairn(&data)
        .args(["location", "add", "--mode", "shallow", "--rules", "none"])
        .arg(&root));
    let root = fs::canonicalize(&root).unwrap();
    let rel = |v: &serde_json::Value| -> Vec<String> {
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                std::path::Path::new(h["path"].as_str().unwrap())
                    .strip_prefix(&root)
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect()
    };

    // exact > prefix (shorter path first) > word start > substring > fuzzy; hidden left out.
    let v = json(&ok(cairn(&data).args(["--json", "search", "readme"])));
    assert_eq!(
        rel(&v),
        [
            "README",
            "docs/README.md",
            "deep/a/b/c/README.txt",
            "old-readme.txt",
            "myreadme",
            "r-e-a-d-m-e"
        ]
    );
    assert_eq!(v["total"], 6);
    let v = json(&ok(
        cairn(&data).args(["--json", "search", "readme", "--hidden"])
    ));
    assert_eq!(v["total"], 7);
    // Limit and offset keep the total.
    let v = json(&ok(cairn(&data).args([
        "--json", "search", "readme", "--limit", "2", "--offset", "1",
    ])));
    assert_eq!(rel(&v), ["docs/README.md", "deep/a/b/c/README.txt"]);
    assert_eq!(v["total"], 6);

    // Typed composed, stored decomposed; any case.
    let v = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "MONTR\u{e9}AL",
    ])));
    assert_eq!(rel(&v), ["photos/Montre\u{301}al 2024.JPG"]);
    let v = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "montréal",
        "--case-sensitive",
    ])));
    assert_eq!(v["total"], 0);

    // Filters: kind, extension, size, scope, glob, prefix.
    let v = json(&ok(
        cairn(&data).args(["--json", "search", "--kind", "image"])
    ));
    assert_eq!(v["total"], 2);
    let v = json(&ok(
        cairn(&data).args(["--json", "search", "--ext", "txt,md"])
    ));
    assert_eq!(v["total"], 4);
    let v = json(&ok(
        cairn(&data).args(["--json", "search", "--size", "1M.."])
    ));
    assert_eq!(rel(&v), ["photos/big.png"]);
    let v = json(&ok(cairn(&data)
        .args(["--json", "search", "readme", "--in"])
        .arg(root.join("deep"))));
    assert_eq!(rel(&v), ["deep/a/b/c/README.txt"]);
    let v = json(&ok(
        cairn(&data).args(["--json", "search", "--glob", "*.JPG"])
    ));
    assert_eq!(v["total"], 1);
    let v = json(&ok(
        cairn(&data).args(["--json", "search", "--prefix", "read"])
    ));
    assert_eq!(
        rel(&v),
        ["README", "docs/README.md", "deep/a/b/c/README.txt"]
    );
    let v = json(&ok(cairn(&data).args([
        "--json",
        "search",
        "--modified",
        "2000-01-01..",
    ])));
    assert!(v["total"].as_u64().unwrap() >= 9);
}
