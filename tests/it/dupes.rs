//! `cairn dupes`: groups from the index, scopes, sizes, confirmation and keep presets.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::common::{cairn, json, ok};

fn synthetic(size: usize, seed: usize) -> Vec<u8> {
    (0..size)
        .map(|i| ((i * 31 + seed * 7 + (i >> 13)) % 251) as u8)
        .collect()
}

/// The groups of a `--json` report as sets of paths relative to `root`.
fn groups(v: &serde_json::Value, root: &Path) -> BTreeSet<Vec<String>> {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let mut m: Vec<String> = g["group"]["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    Path::new(m["path"].as_str().unwrap())
                        .strip_prefix(root)
                        .unwrap()
                        .display()
                        .to_string()
                })
                .collect();
            m.sort();
            m
        })
        .collect()
}

#[test]
fn groups_scopes_confirmation_and_presets() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("files");
    let big = synthetic(200_000, 1);
    for p in ["a.bin", "b.bin", "c/d.bin"] {
        fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
        fs::write(root.join(p), &big).unwrap();
    }
    fs::write(root.join("x.txt"), "same words").unwrap();
    fs::write(root.join("c/y.txt"), "same words").unwrap();
    fs::write(root.join("empty1"), "").unwrap();
    fs::write(root.join("c/empty2"), "").unwrap();
    let base = synthetic(1 << 20, 0);
    let mut flipped = base.clone();
    flipped[500_000] ^= 0xFF; // same sampled hash, different content
    fs::write(root.join("orig.bin"), &base).unwrap();
    fs::write(root.join("c/lookalike.bin"), &flipped).unwrap();
    let data = tmp.path().join("data");
    ok(cairn(&data).args(["location", "add"]).arg(&root));
    let root = fs::canonicalize(&root).unwrap();

    let v = json(&ok(cairn(&data).args(["--json", "dupes"])));
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        groups(&v, &root),
        BTreeSet::from([
            s(&["a.bin", "b.bin", "c/d.bin"]),
            s(&["c/lookalike.bin", "orig.bin"]),
            s(&["c/y.txt", "x.txt"])
        ])
    );
    assert_eq!(v["wasted_bytes"], 2 * 200_000 + (1 << 20) + 10);
    // Largest waste first.
    assert_eq!(v["groups"][0]["group"]["size"], 1 << 20);

    // --confirm: the look-alike pair is not a duplicate.
    let c = json(&ok(cairn(&data).args(["--json", "dupes", "--confirm"])));
    assert_eq!(
        groups(&c, &root),
        BTreeSet::from([s(&["a.bin", "b.bin", "c/d.bin"]), s(&["c/y.txt", "x.txt"])])
    );
    assert_eq!(c["unconfirmed"]["differ"].as_array().unwrap().len(), 2);

    // Scope and minimum size.
    let scoped = json(&ok(cairn(&data)
        .args(["--json", "dupes", "--in"])
        .arg(root.join("c"))));
    assert!(
        groups(&scoped, &root).is_empty(),
        "no group has two copies inside c/"
    );
    let big_only = json(&ok(cairn(&data).args([
        "--json",
        "dupes",
        "--min-size",
        "100k",
    ])));
    assert_eq!(big_only["group_count"], 2);

    // Keep presets.
    let r = json(&ok(cairn(&data)
        .args(["--json", "dupes", "--min-size", "150k", "--keep"])
        .arg(format!("in:{}", root.join("c").display()))));
    for g in r["groups"].as_array().unwrap() {
        assert!(g["keep"].as_str().unwrap().contains("/c/"), "{g}");
    }
    let csv = ok(cairn(&data).args(["dupes", "--csv", "--keep", "oldest"]));
    assert!(csv.starts_with("group,cas_id,size,keep,path\n"));
    assert_eq!(
        csv.lines().filter(|l| l.contains(",true,")).count(),
        3,
        "{csv}"
    );
}

#[test]
fn at_risk_and_backup_gap_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let backup = tmp.path().join("backup");
    fs::create_dir_all(home.join("docs")).unwrap();
    fs::create_dir_all(&backup).unwrap();
    fs::write(home.join("docs/backed-up.txt"), "in both places").unwrap();
    fs::write(backup.join("backed-up copy.txt"), "in both places").unwrap();
    fs::write(home.join("docs/only-here.txt"), "nowhere else").unwrap();
    fs::write(home.join("twice-a.txt"), "two copies at home").unwrap();
    fs::write(home.join("twice-b.txt"), "two copies at home").unwrap();
    fs::write(home.join("empty.txt"), "").unwrap();
    let data = tmp.path().join("data");
    ok(cairn(&data).args(["location", "add"]).arg(&home));
    ok(cairn(&data).args(["location", "add"]).arg(&backup));
    let home = fs::canonicalize(&home).unwrap();

    let r = json(&ok(cairn(&data)
        .args(["--json", "redundancy", "--at-risk"])
        .arg(&home)));
    let single: Vec<&str> = r["report"]["single"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(single, [home.join("docs/only-here.txt").to_str().unwrap()]);
    assert_eq!(r["report"]["safe"], 3);

    let g = json(&ok(cairn(&data)
        .args(["--json", "redundancy", "--missing-from", "backup"])
        .arg(&home)));
    let mut missing: Vec<String> = g["report"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            Path::new(f["path"].as_str().unwrap())
                .strip_prefix(&home)
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    missing.sort();
    assert_eq!(
        missing,
        ["docs/only-here.txt", "twice-a.txt", "twice-b.txt"]
    );
    assert_eq!(g["report"]["covered"], 1);

    let c = json(&ok(cairn(&data)
        .args(["--json", "redundancy"])
        .arg(home.join("docs/backed-up.txt"))));
    let copies = c["copies"].as_array().unwrap();
    assert_eq!(copies.len(), 2);
    assert!(copies.iter().any(|c| {
        c["path"]
            .as_str()
            .unwrap()
            .ends_with("backup/backed-up copy.txt")
    }));
}
