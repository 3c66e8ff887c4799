//! `cairn ls`: the index's view inside a location, the disk outside every location.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::common::{cairn, first_line_then_close, json, ok};

/// A small project: documents, a `.git` folder (left out by the default rules) and a file
/// that will be deleted after indexing.
fn project(root: &Path) {
    for (p, text) in [
        ("notes.txt", "notes"),
        ("docs/a.txt", "a"),
        ("docs/gone.txt", "deleted after indexing"),
        (".git/config", "[core]"),
        (".git/objects/ab/cdef", "blob"),
    ] {
        let path = root.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

fn run(cmd: &mut std::process::Command) -> (Vec<String>, String) {
    let out: Output = cmd.output().expect("run cairn");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{cmd:?}: {stderr}");
    (stdout.lines().map(str::to_owned).collect(), stderr)
}

/// Regression (review of "Index model v4"): `cairn ls -r` inside a location read the disk, so
/// it showed what the location's rules leave out of the index (a `.git` folder) and hid what
/// the index still holds. Inside a location `ls` and `ls -r` are the index's view (as of the
/// last scan, after the rules); outside every location they read the disk. Each says which on
/// stderr, and `--json` in `source`.
#[test]
fn regression_ls_inside_a_location_lists_the_index_outside_the_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    project(&root);
    let data = tmp.path().join("data");
    ok(cairn(&data).args(["location", "add"]).arg(&root));
    fs::remove_file(root.join("docs/gone.txt")).unwrap();
    let root = fs::canonicalize(&root).unwrap();

    let indexed = ["docs/", "docs/a.txt", "docs/gone.txt", "notes.txt"];
    let (rows, stderr) = run(cairn(&data).args(["ls", "-r"]).arg(&root));
    assert_eq!(
        rows, indexed,
        "exactly the indexed entries, depth first by name"
    );
    assert!(stderr.contains("from the index"), "{stderr}");
    let v = json(&ok(cairn(&data).args(["--json", "ls", "-r"]).arg(&root)));
    assert_eq!(v["source"], "index", "{v}");
    let names: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["docs", "docs/a.txt", "docs/gone.txt", "notes.txt"]);
    // A folder below the root, recursive or not: the same view.
    let (rows, _) = run(cairn(&data).args(["ls", "-r"]).arg(root.join("docs")));
    assert_eq!(rows, ["a.txt", "gone.txt"]);
    let (rows, stderr) = run(cairn(&data).arg("ls").arg(root.join("docs")));
    assert_eq!(rows, ["a.txt", "gone.txt"]);
    assert!(stderr.contains("from the index"), "{stderr}");

    // Outside every location: the disk, now, with everything on it.
    let outside = tmp.path().join("outside");
    project(&outside);
    fs::remove_file(outside.join("docs/gone.txt")).unwrap();
    let (mut rows, stderr) = run(cairn(&data).args(["ls", "-r"]).arg(&outside));
    rows.sort();
    assert_eq!(
        rows,
        [
            ".git/",
            ".git/config",
            ".git/objects/",
            ".git/objects/ab/",
            ".git/objects/ab/cdef",
            "docs/",
            "docs/a.txt",
            "notes.txt"
        ]
    );
    assert!(stderr.contains("from the disk"), "{stderr}");
    let v = json(&ok(cairn(&data).args(["--json", "ls", "-r"]).arg(&outside)));
    assert_eq!(v["source"], "disk", "{v}");
}

/// `cairn ls -r LOCATION | head` ends quietly, as it does for a folder outside the index.
#[test]
fn ls_r_of_a_location_into_a_closed_pipe_ends_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    for d in 0..10 {
        let sub = tree.join(format!("d{d}"));
        fs::create_dir_all(&sub).unwrap();
        for i in 0..2_000 {
            fs::write(sub.join(format!("file-{i:05}.txt")), b"").unwrap();
        }
    }
    let data = tmp.path().join("data");
    ok(cairn(&data)
        .args(["location", "add", "--mode", "shallow"])
        .arg(&tree));
    let (first, out) = first_line_then_close(cairn(&data).args(["ls", "-r"]).arg(&tree));
    assert_eq!(first, "d0/\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
}

/// `cairn ls -r` of a folder read from the disk writes each folder's listing as the walk
/// gives it: every entry once, each after the folder that holds it, paths relative to the
/// folder at any depth, a name that is not UTF-8 escaped like any other; `-l` adds the size.
#[test]
fn ls_r_from_the_disk_lists_each_entry_once_after_its_folder() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    let mut want = Vec::new();
    for a in 0..4 {
        for b in 0..3 {
            let dir = root.join(format!("a{a}/b{b}"));
            fs::create_dir_all(&dir).unwrap();
            for f in 0..5 {
                fs::write(dir.join(format!("f{f}.txt")), b"12345").unwrap();
                want.push(format!("a{a}/b{b}/f{f}.txt"));
            }
            want.push(format!("a{a}/b{b}/"));
        }
        want.push(format!("a{a}/"));
    }
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    fs::write(root.join("a0").join(odd), b"x").unwrap();
    let data = tmp.path().join("data");

    let (rows, stderr) = run(cairn(&data).args(["ls", "-r"]).arg(&root));
    assert!(stderr.contains("in no location"), "{stderr}");
    let odd_row = rows
        .iter()
        .find(|r| r.starts_with("a0/caf"))
        .unwrap_or_else(|| panic!("no row for the non-UTF-8 name: {rows:?}"))
        .clone();
    let mut sorted: Vec<String> = rows.iter().filter(|r| **r != odd_row).cloned().collect();
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want);
    for (i, row) in rows.iter().enumerate() {
        let trimmed = row.trim_end_matches('/');
        if let Some((parent, _)) = trimmed.rsplit_once('/') {
            let at = rows.iter().position(|r| *r == format!("{parent}/"));
            assert!(
                at.is_some_and(|p| p < i),
                "{row} before its folder: {rows:?}"
            );
        }
    }

    let (long, _) = run(cairn(&data).args(["ls", "-r", "-l"]).arg(&root));
    assert_eq!(long.len(), rows.len());
    let f = long
        .iter()
        .find(|r| r.ends_with(" a3/b2/f4.txt"))
        .unwrap_or_else(|| panic!("{long:?}"));
    assert!(f.starts_with("file") && f.contains(" 5 B "), "{f}");
}
