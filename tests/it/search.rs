//! `cairn search`: ranking, Unicode folding, filters and scopes.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{cairn, json, ok};

/// The "readme" names of the ranking fixtures, best first: exact, prefixes (fewer folders
/// first), word start, substring, fuzzy.
const RANKED_READMES: [&str; 6] = [
    "README",
    "docs/README.md",
    "deep/a/b/c/README.txt",
    "old-readme.txt",
    "myreadme",
    "r-e-a-d-m-e",
];

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
    let rel = |v: &serde_json::Value| rel_to(v, &root);

    // exact > prefix (fewer folders first) > word start > substring > fuzzy; hidden left out.
    let v = search(&data, &["readme"]);
    assert_eq!(rel(&v), RANKED_READMES);
    assert_eq!(v["total"], 6);
    // Sorted by size, the merely similar name stays after the real matches (it is largest).
    let v = search(&data, &["readme", "--sort", "size"]);
    assert_eq!(
        rel(&v),
        [
            "myreadme",
            "old-readme.txt",
            "deep/a/b/c/README.txt",
            "docs/README.md",
            "README",
            "r-e-a-d-m-e"
        ]
    );
    let v = search(&data, &["readme", "--sort", "size", "--reverse"]);
    assert_eq!(rel(&v).last().map(String::as_str), Some("r-e-a-d-m-e"));
    let v = search(&data, &["readme", "--hidden"]);
    assert_eq!(v["total"], 7);
    // Limit and offset keep the total.
    let v = search(&data, &["readme", "--limit", "2", "--offset", "1"]);
    assert_eq!(rel(&v), ["docs/README.md", "deep/a/b/c/README.txt"]);
    assert_eq!(v["total"], 6);

    // Typed composed, stored decomposed; any case.
    let v = search(&data, &["MONTR\u{e9}AL"]);
    assert_eq!(rel(&v), ["photos/Montre\u{301}al 2024.JPG"]);
    let v = search(&data, &["montréal", "--case-sensitive"]);
    assert_eq!(v["total"], 0);

    // Filters: kind, extension, size, scope, glob, prefix.
    let v = search(&data, &["--kind", "image"]);
    assert_eq!(v["total"], 2);
    let v = search(&data, &["--ext", "txt,md"]);
    assert_eq!(v["total"], 4);
    let v = search(&data, &["--size", "1M.."]);
    assert_eq!(rel(&v), ["photos/big.png"]);
    let v = json(&ok(cairn(&data)
        .args(["--json", "search", "readme", "--in"])
        .arg(root.join("deep"))));
    assert_eq!(rel(&v), ["deep/a/b/c/README.txt"]);
    let v = search(&data, &["--glob", "*.JPG"]);
    assert_eq!(v["total"], 1);
    let v = search(&data, &["--prefix", "read"]);
    assert_eq!(
        rel(&v),
        ["README", "docs/README.md", "deep/a/b/c/README.txt"]
    );
    let v = search(&data, &["--modified", "2000-01-01.."]);
    assert!(v["total"].as_u64().unwrap() >= 9);
}

/// Writes `files` (relative path, bytes) below `root`, creating folders.
fn write_files(root: &Path, files: &[(&str, &[u8])]) {
    for (p, bytes) in files {
        let path = root.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

/// Adds `root` as a location (rules none) in `mode` and returns its canonical path.
fn add_location(data: &Path, root: &Path, mode: &str) -> PathBuf {
    ok(cairn(data)
        .args(["location", "add", "--mode", mode, "--rules", "none"])
        .arg(root));
    fs::canonicalize(root).unwrap()
}

/// `cairn --json search ARGS…`.
fn search(data: &Path, args: &[&str]) -> serde_json::Value {
    json(&ok(cairn(data).args(["--json", "search"]).args(args)))
}

/// The hits' paths relative to `root`, in order.
fn rel_to(v: &serde_json::Value, root: &Path) -> Vec<String> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            Path::new(h["path"].as_str().unwrap())
                .strip_prefix(root)
                .unwrap_or_else(|_| panic!("{} is not below {}", h["path"], root.display()))
                .display()
                .to_string()
        })
        .collect()
}

/// The hits' file names, in order.
fn names(v: &serde_json::Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            Path::new(h["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// The default library's name index file.
fn names_idx(data: &Path) -> PathBuf {
    let libs: Vec<PathBuf> = fs::read_dir(data.join("libraries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cairnlib"))
        .collect();
    assert_eq!(libs.len(), 1, "{libs:?}");
    libs[0].join("cache/names.idx")
}

#[test]
fn a_rescan_makes_search_see_new_renamed_and_deleted_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(
        &root,
        &[
            ("keep.txt", b"k"),
            ("old-name.txt", b"o"),
            ("doomed.txt", b"d"),
        ],
    );
    let root = add_location(&data, &root, "shallow");
    let files = |data: &Path| names(&search(data, &["--type", "file", "--sort", "name"]));
    assert_eq!(files(&data), ["doomed.txt", "keep.txt", "old-name.txt"]);
    assert_eq!(names(&search(&data, &["old-name"])), ["old-name.txt"]);

    fs::write(root.join("brand-new.txt"), b"n").unwrap();
    fs::rename(root.join("old-name.txt"), root.join("renamed.txt")).unwrap();
    fs::remove_file(root.join("doomed.txt")).unwrap();
    ok(cairn(&data).args(["location", "rescan"]).arg(&root));

    assert_eq!(files(&data), ["brand-new.txt", "keep.txt", "renamed.txt"]);
    assert_eq!(names(&search(&data, &["brand-new"])), ["brand-new.txt"]);
    assert_eq!(names(&search(&data, &["renamed"])), ["renamed.txt"]);
    assert_eq!(search(&data, &["old-name"])["total"], 0);
    assert_eq!(search(&data, &["doomed"])["total"], 0);

    // A rescan that changes nothing leaves search working, with the same answers.
    ok(cairn(&data).args(["location", "rescan"]).arg(&root));
    assert_eq!(files(&data), ["brand-new.txt", "keep.txt", "renamed.txt"]);
    assert_eq!(names(&search(&data, &["renamed"])), ["renamed.txt"]);
}

#[test]
fn a_damaged_name_index_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(
        &root,
        &[
            ("readme.txt", b"r"),
            ("docs/README.md", b"rr"),
            ("notes.txt", b"n"),
        ],
    );
    let root = add_location(&data, &root, "shallow");
    let expected = ["readme.txt", "docs/README.md"];
    assert_eq!(rel_to(&search(&data, &["readme"]), &root), expected);
    let idx = names_idx(&data);
    assert_eq!(&fs::read(&idx).unwrap()[..8], b"CAIRNNX1");

    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 3) as u8).collect();
    for what in ["garbage", "truncated to 10 bytes", "empty"] {
        match what {
            "garbage" => fs::write(&idx, &garbage).unwrap(),
            "empty" => fs::write(&idx, b"").unwrap(),
            _ => fs::OpenOptions::new()
                .write(true)
                .open(&idx)
                .unwrap()
                .set_len(10)
                .unwrap(),
        }
        let damaged = fs::read(&idx).unwrap();
        let v = search(&data, &["readme"]);
        assert_eq!(rel_to(&v, &root), expected, "{what}");
        assert_eq!(v["total"], 2, "{what}");
        let bytes = fs::read(&idx).unwrap();
        assert_ne!(bytes, damaged, "{what}: not rewritten");
        assert!(bytes.len() > 32, "{what}: {} bytes", bytes.len());
        assert_eq!(&bytes[..8], b"CAIRNNX1", "{what}: not rewritten");
    }
}

#[test]
fn a_folder_outside_every_location_is_searched_ephemerally() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let indexed = tmp.path().join("indexed");
    write_files(&indexed, &[("readme-indexed.txt", b"i")]);
    add_location(&data, &indexed, "shallow");
    // The folder's own name matches too, but the folder is not below itself.
    let outside = tmp.path().join("readme-outside");
    write_files(
        &outside,
        &[
            ("README", b"a"),
            ("docs/README.md", b"b"),
            ("deep/a/b/c/README.txt", b"c"),
            ("old-readme.txt", b"d"),
            ("myreadme", b"e"),
            ("r-e-a-d-m-e", b"f"),
            ("notes.txt", b"g"),
            (".hidden-readme", b"h"),
        ],
    );
    let outside = fs::canonicalize(&outside).unwrap();
    let within = outside.to_str().unwrap();
    let v = search(&data, &["readme", "--in", within]);
    assert_eq!(rel_to(&v, &outside), RANKED_READMES);
    assert_eq!(v["total"], 6);
    assert_eq!(v["fuzzy"], 1);
    for h in v["hits"].as_array().unwrap() {
        assert_eq!(h["entry"], 0, "{h}");
    }
    let ranks: Vec<u64> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["rank"].as_u64().unwrap())
        .collect();
    // README, README.md and README.txt are all exact (the name, or the name but its extension).
    assert_eq!(ranks, [0, 0, 0, 2, 3, 4]);
    let v = search(&data, &["readme", "--in", within, "--hidden"]);
    assert_eq!(v["total"], 7);
    assert!(names(&v).contains(&".hidden-readme".to_owned()));
    // The library's own location is still searched without --in.
    assert_eq!(names(&search(&data, &["readme"])), ["readme-indexed.txt"]);
}

#[test]
fn in_scopes_above_a_location_and_below_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("readme-root");
    write_files(
        &root,
        &[
            ("readme.txt", b"a"),
            ("docs/readme/readme.md", b"b"),
            ("docs/readme/inner/readme-2.txt", b"c"),
            ("other/readme.txt", b"d"),
        ],
    );
    let root = add_location(&data, &root, "shallow");
    let all = search(&data, &["readme", "--sort", "name"]);
    assert_eq!(all["total"], 6, "{all}");

    // A folder above the location root: everything in the location, the root included (from
    // a walk of the folder: the index knows only part of it; see the regression below).
    let above = fs::canonicalize(tmp.path()).unwrap();
    let v = search(
        &data,
        &["readme", "--sort", "name", "--in", above.to_str().unwrap()],
    );
    let paths = |v: &serde_json::Value| {
        let mut p: Vec<String> = v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["path"].as_str().unwrap().to_owned())
            .collect();
        p.sort();
        p
    };
    assert_eq!(paths(&v), paths(&all));
    assert!(
        rel_to(&v, &above).contains(&"readme-root".to_owned()),
        "{v}"
    );

    // The location root itself: its descendants, not the root.
    let v = search(
        &data,
        &["readme", "--sort", "name", "--in", root.to_str().unwrap()],
    );
    assert_eq!(v["total"], 5, "{v}");
    assert!(!rel_to(&v, &above).contains(&"readme-root".to_owned()));

    // A sub-folder named like the query: only what is below it.
    let sub = root.join("docs/readme");
    let v = search(
        &data,
        &["readme", "--sort", "name", "--in", sub.to_str().unwrap()],
    );
    assert_eq!(rel_to(&v, &sub), ["inner/readme-2.txt", "readme.md"]);
    assert_eq!(v["total"], 2);
}

#[test]
fn names_inside_a_hidden_folder_are_hidden() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(
        &root,
        &[
            ("readme.md", b"a"),
            (".secret/readme.txt", b"b"),
            (".secret/inner/readme.rst", b"c"),
        ],
    );
    let root = add_location(&data, &root, "shallow");
    let v = search(&data, &["readme", "--sort", "name"]);
    assert_eq!(rel_to(&v, &root), ["readme.md"]);
    assert_eq!(v["total"], 1);
    let v = search(&data, &["readme", "--sort", "name", "--hidden"]);
    assert_eq!(
        rel_to(&v, &root),
        [
            "readme.md",
            ".secret/inner/readme.rst",
            ".secret/readme.txt"
        ]
    );
    // Also when the text is empty (every entry listed).
    let v = search(&data, &["--type", "file"]);
    assert_eq!(rel_to(&v, &root), ["readme.md"]);
}

#[test]
fn sort_orders_and_reverse() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    // name order a, b, c; size order c, a, b; newest first b, c, a.
    let files: &[(&str, usize, u64)] = &[
        ("a.txt", 20, 1_000_000_000),
        ("b.txt", 10, 1_200_000_000),
        ("c.txt", 30, 1_100_000_000),
    ];
    fs::create_dir_all(&root).unwrap();
    for (name, size, secs) in files {
        let p = root.join(name);
        fs::write(&p, vec![b'x'; *size]).unwrap();
        fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(*secs))
            .unwrap();
    }
    add_location(&data, &root, "shallow");
    let order = |sort: &str, reverse: bool| {
        let mut args = vec!["--type", "file", "--sort", sort];
        if reverse {
            args.push("--reverse");
        }
        names(&search(&data, &args))
    };
    assert_eq!(order("name", false), ["a.txt", "b.txt", "c.txt"]);
    assert_eq!(order("name", true), ["c.txt", "b.txt", "a.txt"]);
    assert_eq!(order("size", false), ["c.txt", "a.txt", "b.txt"]);
    assert_eq!(order("size", true), ["b.txt", "a.txt", "c.txt"]);
    assert_eq!(order("modified", false), ["b.txt", "c.txt", "a.txt"]);
    assert_eq!(order("modified", true), ["a.txt", "c.txt", "b.txt"]);
    let v = search(&data, &["--type", "file", "--sort", "modified"]);
    assert_eq!(v["hits"][0]["mtime_ns"], 1_200_000_000_000_000_000_i64);
}

#[test]
fn type_dir_returns_only_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(
        &root,
        &[
            ("photos/a.jpg", b"a"),
            ("photos/2024/b.jpg", b"b"),
            ("docs/c.txt", b"c"),
            ("d.txt", b"d"),
        ],
    );
    let root = add_location(&data, &root, "shallow");
    let v = search(&data, &["--type", "dir", "--sort", "name"]);
    assert_eq!(names(&v), ["2024", "docs", "files", "photos"]);
    assert!(
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["kind"] == "dir"),
        "{v}"
    );
    let v = search(&data, &["--type", "dir", "--sort", "name", "photos"]);
    assert_eq!(rel_to(&v, &root), ["photos"]);
    let v = search(&data, &["--type", "file,dir", "--sort", "name", "photos"]);
    assert_eq!(rel_to(&v, &root), ["photos"]);
    let v = search(&data, &["--type", "file"]);
    assert_eq!(v["total"], 4);
}

#[test]
fn mime_filters_match_exactly_or_by_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    let png = |tail: &[u8]| [b"\x89PNG\r\n\x1a\n".as_slice(), tail].concat();
    write_files(
        &root,
        &[
            ("picture.png", &png(b"\0\0\0\rIHDR one")),
            // Identified from its bytes, whatever its name says.
            ("disguised.dat", &png(b"\0\0\0\rIHDR two")),
            ("notes.txt", b"plain words\n"),
        ],
    );
    add_location(&data, &root, "content");
    let mime = |m: &str| names(&search(&data, &["--mime", m, "--sort", "name"]));
    assert_eq!(mime("image/png"), ["disguised.dat", "picture.png"]);
    assert_eq!(mime("image/"), ["disguised.dat", "picture.png"]);
    assert_eq!(mime("image/*"), ["disguised.dat", "picture.png"]);
    assert_eq!(mime("IMAGE/PNG"), ["disguised.dat", "picture.png"]);
    assert_eq!(mime("text/plain"), ["notes.txt"]);
    assert_eq!(mime("text/"), ["notes.txt"]);
    assert_eq!(
        mime("image/png,text/plain"),
        ["disguised.dat", "notes.txt", "picture.png"]
    );
    assert!(mime("image/jpeg").is_empty());
    // Exact means exact: neither a bare type nor a part of a subtype matches.
    assert!(mime("image").is_empty());
    assert!(mime("image/pn").is_empty());
}

#[test]
fn min_copies_keeps_content_found_more_than_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(
        &root,
        &[
            ("one.txt", b"the same bytes"),
            ("sub/two.txt", b"the same bytes"),
            ("unique.txt", b"different bytes"),
        ],
    );
    add_location(&data, &root, "content");
    let v = search(&data, &["--min-copies", "2", "--sort", "name"]);
    assert_eq!(names(&v), ["one.txt", "two.txt"]);
    assert!(
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["copies"] == 2),
        "{v}"
    );
    assert_eq!(
        search(&data, &["--min-copies", "3"])["total"],
        0,
        "only two copies exist"
    );
    let v = search(&data, &["--min-copies", "1", "--type", "file"]);
    assert_eq!(v["total"], 3);
}

#[test]
fn missing_from_lists_files_with_no_copy_in_a_location() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let a = tmp.path().join("loc-a");
    let b = tmp.path().join("loc-b");
    write_files(
        &a,
        &[("both.txt", b"backed up"), ("only-a.txt", b"not backed up")],
    );
    write_files(&b, &[("copy-of-both.txt", b"backed up")]);
    let a = add_location(&data, &a, "content");
    let b = add_location(&data, &b, "content");
    // By name, by path and by id.
    for target in ["loc-b", b.to_str().unwrap(), "2"] {
        let v = search(&data, &["--missing-from", target]);
        assert_eq!(rel_to(&v, &a), ["only-a.txt"], "--missing-from {target}");
        assert_eq!(v["total"], 1);
    }
    // The other way round: B holds nothing A lacks.
    assert_eq!(search(&data, &["--missing-from", "loc-a"])["total"], 0);
}

#[test]
fn case_sensitive_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(
        &root,
        &[
            ("ReadMe.md", b"a"),
            ("readme.txt", b"b"),
            ("READ.txt", b"c"),
            ("AlsoRead.txt", b"d"),
        ],
    );
    add_location(&data, &root, "shallow");
    let v = search(&data, &["--prefix", "--case-sensitive", "Read"]);
    assert_eq!(names(&v), ["ReadMe.md"]);
    assert_eq!(v["total"], 1);
    // Without --case-sensitive every name starting with the text matches.
    let v = search(&data, &["--prefix", "Read", "--sort", "name"]);
    assert_eq!(names(&v), ["READ.txt", "ReadMe.md", "readme.txt"]);
}

/// Regression: a location root was matched case-sensitively against its whole path, not its
/// name (so `Read` matched a root below a folder called `Readers`).
#[test]
fn case_sensitive_matching_of_a_location_root_uses_its_name() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let upper = tmp.path().join("Readers/ReadMe-root");
    write_files(&upper, &[("ReadMe.md", b"a"), ("readme.txt", b"b")]);
    add_location(&data, &upper, "shallow");
    let v = search(
        &data,
        &["--prefix", "--case-sensitive", "Read", "--sort", "name"],
    );
    assert_eq!(names(&v), ["ReadMe-root", "ReadMe.md"]);
    let v = search(
        &data,
        &["--glob", "--case-sensitive", "ReadMe*", "--sort", "name"],
    );
    assert_eq!(names(&v), ["ReadMe-root", "ReadMe.md"]);

    let data2 = tmp.path().join("data2");
    let lower = tmp.path().join("Readers2/readme-root");
    write_files(&lower, &[("notes.txt", b"n")]);
    add_location(&data2, &lower, "shallow");
    let v = search(&data2, &["--case-sensitive", "Read"]);
    assert_eq!(v["total"], 0, "{v}");
}

/// Regression: case-sensitive search dropped fuzzy matches whose case matches.
#[test]
fn case_sensitive_search_keeps_fuzzy_matches_of_the_right_case() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(
        &root,
        &[
            ("r-e-a-d-m-e", b"a"),
            ("readme.txt", b"b"),
            ("R-E-A-D-M-E", b"c"),
        ],
    );
    add_location(&data, &root, "shallow");
    let v = search(&data, &["--case-sensitive", "readme"]);
    assert_eq!(names(&v), ["readme.txt", "r-e-a-d-m-e"]);
    assert_eq!(v["fuzzy"], 1);
}

/// Regression: damage behind an intact header made every search panic until the file was
/// deleted by hand. Now no query panics; the file is rebuilt once the index changes.
#[test]
fn damage_behind_an_intact_header_does_not_break_search() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(&root, &[("readme.txt", b"r"), ("docs/README.md", b"rr")]);
    let root = add_location(&data, &root, "shallow");
    assert_eq!(search(&data, &["readme"])["total"], 2);
    let idx = names_idx(&data);
    let mut bytes = fs::read(&idx).unwrap();
    // Every 4-byte word after the section table set to u32::MAX, one in seven.
    let body = 32 + 17 * 16;
    for at in (body..bytes.len() - 4).step_by(28) {
        bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    }
    fs::write(&idx, &bytes).unwrap();
    for args in [
        &["readme"][..],
        &["--prefix", "read"],
        &["--glob", "*.md"],
        &["rdme"],
        &["--sort", "name"],
    ] {
        let mut cmd = cairn(&data);
        cmd.arg("--json").arg("search").args(args);
        cmd.arg("--in").arg(&root);
        ok(&mut cmd);
    }
    // A rescan that changes something rebuilds it.
    fs::write(root.join("readme-2.txt"), b"x").unwrap();
    ok(cairn(&data).args(["location", "rescan"]).arg(&root));
    assert_eq!(search(&data, &["readme"])["total"], 3);
}

#[test]
fn csv_has_a_header_and_one_line_per_hit() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(
        &root,
        &[
            ("report.txt", b"12345"),
            ("sub/report \"final\".txt", b"123"),
            ("other.md", b"1"),
        ],
    );
    let root = add_location(&data, &root, "shallow");
    let out = ok(cairn(&data).args(["search", "report", "--csv", "--sort", "name"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "path,kind,size,mtime_ns,copies");
    assert_eq!(lines.len(), 3, "{out}");
    let v = search(&data, &["report", "--sort", "name"]);
    for (line, hit) in lines[1..].iter().zip(v["hits"].as_array().unwrap()) {
        let path = hit["path"].as_str().unwrap().replace('"', "\"\"");
        assert_eq!(
            *line,
            format!("\"{path}\",file,{},{},1", hit["size"], hit["mtime_ns"])
        );
    }
    // Quotes in a path are doubled inside the quoted field.
    assert_eq!(
        lines[1],
        format!(
            "\"{}\",file,3,{},1",
            root.join("sub/report \"\"final\"\".txt").display(),
            v["hits"][0]["mtime_ns"]
        )
    );
    assert!(lines[2].starts_with(&format!(
        "\"{}\",file,5,",
        root.join("report.txt").display()
    )));
    // No match: the header alone.
    let out = ok(cairn(&data).args(["search", "nothing-like-this", "--csv"]));
    assert_eq!(out, "path,kind,size,mtime_ns,copies\n");
}

/// Regression: `--json` output panicked on a name that is not UTF-8 (JSON has no bytes; the
/// name is shown with U+FFFD, and `cairn ls --json` keeps the exact bytes).
#[test]
fn json_output_survives_names_that_are_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    fs::create_dir_all(&root).unwrap();
    fs::write(
        root.join(std::ffi::OsStr::from_bytes(b"caf\xe9 menu.txt")),
        b"x",
    )
    .unwrap();
    add_location(&data, &root, "shallow");
    let v = search(&data, &["menu"]);
    assert_eq!(v["total"], 1);
    assert!(
        v["hits"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("caf\u{fffd} menu.txt")
    );
    let csv = ok(cairn(&data).args(["search", "--csv", "menu"]));
    assert!(csv.contains("menu.txt"), "{csv}");
}

#[test]
fn indexed_date_range_filters_by_when_the_index_first_saw_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(&root, &[("a.txt", b"a"), ("b.txt", b"b")]);
    add_location(&data, &root, "shallow");
    let today = jiff::Zoned::now().date().to_string();
    let v = search(
        &data,
        &["--indexed", &format!("{today}.."), "--type", "file"],
    );
    assert_eq!(v["total"], 2, "{v}");
    let v = search(&data, &["--indexed", "..2000-01-01"]);
    assert_eq!(v["total"], 0, "{v}");
    // The file's own modification time does not matter.
    std::fs::File::options()
        .write(true)
        .open(root.join("a.txt"))
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(86_400 * 400))
        .unwrap();
    ok(cairn(&data).args(["location", "rescan"]).arg(&root));
    let v = search(
        &data,
        &["--indexed", &format!("{today}.."), "--type", "file"],
    );
    assert_eq!(v["total"], 2, "{v}");
    let v = search(&data, &["--modified", "..1972-01-01"]);
    assert_eq!(names(&v), ["a.txt"]);
}

/// Regressions found in review: Greek final sigma, Unicode case in globs, NFC in
/// case-sensitive globs, case-sensitive ranks and fuzzy matches, `--limit 0`, overlapping
/// word starts, a scope inside a hidden folder, multi-part extensions and MIME types of
/// files not identified from their bytes.
#[test]
fn review_regressions() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    write_files(
        &root,
        &[
            ("ΟΔΟΣ.txt", b"a"),
            ("Été.txt", b"b"),
            ("Montre\u{301}al.txt", b"c"),
            ("Readme-README", b"d"),
            ("readme_R_E_A_D_M_E", b"e"),
            ("ba-aca-a-a", b"f"),
            (".git/config", b"g"),
            (".git/HEAD", b"h"),
            ("backup.tar.gz", b"i"),
            ("photo.PNG", b"j"),
        ],
    );
    let root = add_location(&data, &root, "shallow");
    let rank_of = |v: &serde_json::Value, name: &str| -> u64 {
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not in {v}"))["rank"]
            .as_u64()
            .unwrap()
    };
    // ΟΔΟΣ typed alone ends in a final sigma; inside the name it is a medial one.
    assert_eq!(names(&search(&data, &["ΟΔΟΣ"])), ["ΟΔΟΣ.txt"]);
    assert_eq!(names(&search(&data, &["οδοσ"])), ["ΟΔΟΣ.txt"]);
    // Globs fold Unicode case, and case-sensitive ones compare NFC.
    assert_eq!(names(&search(&data, &["--glob", "ÉTÉ.TXT"])), ["Été.txt"]);
    assert_eq!(names(&search(&data, &["--glob", "οδοσ*"])), ["ΟΔΟΣ.txt"]);
    assert_eq!(
        names(&search(&data, &["--glob", "--case-sensitive", "Montréal*"])),
        ["Montre\u{301}al.txt"]
    );
    // Case-sensitive: the rank comes from where the text occurs with its case.
    let v = search(&data, &["--case-sensitive", "README"]);
    assert_eq!(rank_of(&v, "Readme-README"), 2);
    assert_eq!(rank_of(&v, "readme_R_E_A_D_M_E"), 4);
    // --limit 0 gives the count only.
    let v = search(&data, &["readme", "--limit", "0"]);
    assert_eq!(v["hits"].as_array().unwrap().len(), 0);
    assert_eq!(v["total"], 2);
    // A word start that overlaps an earlier occurrence.
    assert_eq!(rank_of(&search(&data, &["a-a"]), "ba-aca-a-a"), 2);
    // Inside a hidden folder, its content is shown.
    let v = json(&ok(cairn(&data)
        .args(["--json", "search", "--in"])
        .arg(root.join(".git"))));
    assert_eq!(v["total"], 2, "{v}");
    // Several-part and any-case extensions; MIME from the extension in Shallow mode.
    assert_eq!(
        names(&search(&data, &["--ext", "tar.gz"])),
        ["backup.tar.gz"]
    );
    assert_eq!(names(&search(&data, &["--ext", "png"])), ["photo.PNG"]);
    assert_eq!(names(&search(&data, &["--mime", "image/"])), ["photo.PNG"]);
}

/// Regression: the store's names generation was a counter. After an older `library.redb` was
/// put back (as Cairn's message about a damaged store advises), or commits were lost (a crash,
/// a failed write), the next changes took the lost ones' numbers again, and the name index
/// built from the lost state passed for current: search found a file that was gone and missed
/// the new one.
#[test]
fn a_name_index_built_from_a_lost_state_is_never_taken_for_current() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("files");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("kept.txt"), "k").unwrap();
    let data = tmp.path().join("data");
    ok(cairn(&data)
        .args(["location", "add", "--mode", "shallow", "--rules", "none"])
        .arg(&root));
    let store = data.join("libraries/My Library.cairnlib/library.redb");
    let copy = tmp.path().join("library.redb.copy");
    fs::copy(&store, &copy).unwrap();

    fs::write(root.join("first.txt"), "1").unwrap();
    ok(cairn(&data).args(["location", "rescan", "1"]));
    assert_eq!(search(&data, &["first"])["total"], 1);

    // The older file back, then as many changes as were lost, but other ones.
    fs::copy(&copy, &store).unwrap();
    fs::remove_file(root.join("first.txt")).unwrap();
    fs::write(root.join("second.txt"), "2").unwrap();
    ok(cairn(&data).args(["location", "rescan", "1"]));
    assert_eq!(
        search(&data, &["second"])["total"],
        1,
        "the new file is found"
    );
    assert_eq!(search(&data, &["first"])["total"], 0, "the gone one is not");
}

/// Regression (issue "The explorer, finished", defect 3): a search "here and below" in a
/// folder that holds a location and other folders found only what the location's index knew
/// (12 hits of "changelog" in /usr/share where 1,293 exist). Such a folder is walked whole;
/// a query for tags, which only indexed files carry, still asks the index.
#[test]
fn a_scope_holding_a_location_finds_what_is_outside_it_too() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let share = tmp.path().join("share");
    write_files(
        &share,
        &[
            ("icons/Papirus/changelog", b"a"),
            ("doc/bash/changelog.gz", b"b"),
            ("doc/git/changelog.txt", b"c"),
            ("man/changelog.1", b"d"),
        ],
    );
    let icons = add_location(&data, &share.join("icons"), "shallow");
    let share = fs::canonicalize(&share).unwrap();
    let v = search(
        &data,
        &[
            "changelog",
            "--sort",
            "name",
            "--in",
            share.to_str().unwrap(),
        ],
    );
    let mut found = rel_to(&v, &share);
    found.sort();
    assert_eq!(
        found,
        [
            "doc/bash/changelog.gz",
            "doc/git/changelog.txt",
            "icons/Papirus/changelog",
            "man/changelog.1"
        ]
    );
    assert_eq!(v["total"], 4);
    // Inside the location: the index (hits carry their entry).
    let v = search(&data, &["changelog", "--in", icons.to_str().unwrap()]);
    assert_eq!(v["total"], 1);
    assert_ne!(v["hits"][0]["entry"], 0, "{v}");
    // Tags: the index answers for the part it knows.
    ok(cairn(&data).args(["tag", "create", "Keep"]));
    ok(cairn(&data)
        .args(["tag", "add", "Keep"])
        .arg(icons.join("Papirus/changelog")));
    let v = search(&data, &["--tag", "Keep", "--in", share.to_str().unwrap()]);
    assert_eq!(rel_to(&v, &share), ["icons/Papirus/changelog"]);
}

/// Close matches help find a name half-remembered: they are looked for while fewer than
/// 1,000 names contain the text, and not after that (where they would be noise after
/// thousands of real matches, and cost most of a short query's time).
#[test]
fn close_matches_are_looked_for_only_while_real_matches_are_few() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = tmp.path().join("files");
    fs::create_dir_all(&root).unwrap();
    for i in 0..999 {
        fs::write(root.join(format!("quarter-{i:04}.txt")), b"").unwrap();
    }
    fs::write(root.join("q-u-a-r-t-e-r.md"), b"").unwrap();
    add_location(&data, &root, "shallow");
    let v = search(&data, &["quarter", "--limit", "0"]);
    assert_eq!(
        (v["total"].as_u64(), v["fuzzy"].as_u64()),
        (Some(1000), Some(1)),
        "{v}"
    );
    fs::write(root.join("quarter-9999.txt"), b"").unwrap();
    ok(cairn(&data).args(["location", "rescan", "1"]));
    let v = search(&data, &["quarter", "--limit", "0"]);
    assert_eq!(
        (v["total"].as_u64(), v["fuzzy"].as_u64()),
        (Some(1000), Some(0)),
        "{v}"
    );
}
