//! The persistent indexer on temp trees: counts, rules, rescans with moves and renames,
//! offline locations, content identity and its counts, hostile files, kill -9 and resume.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use cairn::vdfs::Library;
use cairn::vdfs::content::{CasId, integrity_hash, sample_file};
use cairn::vdfs::fs::entry::EntryKind;
use cairn::vdfs::fs::mounts::VolumeInfo;
use cairn::vdfs::fs::rules::Rules;
use cairn::vdfs::index::EntryRecord;
use cairn::vdfs::index::location::{self, IndexMode};
use cairn::vdfs::jobs::JobStatus;

use crate::common::{cairn, library, ok};

/// Builds fixture trees in a temp folder.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn file(&self, rel: &str, content: &[u8]) -> &Fixture {
        let p = self.root().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
        self
    }

    fn dir(&self, rel: &str) -> &Fixture {
        fs::create_dir_all(self.root().join(rel)).unwrap();
        self
    }
}

fn index(lib: &Library, root: &Path, mode: IndexMode, rules: Rules) -> u32 {
    let (rec, h) = lib.add_location(root, mode, rules).unwrap();
    assert_eq!(
        h.wait(),
        JobStatus::Completed,
        "{:?}",
        lib.jobs().get(h.id()).unwrap().outcome
    );
    rec.id
}

fn rescan(lib: &Library, id: u32) -> String {
    let h = lib.rescan(id).unwrap();
    let status = h.wait();
    let j = lib.jobs().get(h.id()).unwrap();
    assert_eq!(status, JobStatus::Completed, "{:?}", j.outcome);
    j.outcome.unwrap()
}

fn entry_at(lib: &Library, path: &Path) -> Option<(u64, EntryRecord)> {
    lib.entry_at(path).unwrap().map(|e| (e.id, e.record))
}

fn dump(lib: &Library) -> Vec<String> {
    lib.dump_index().unwrap()
}

/// Relative paths of every indexed entry of a location.
fn indexed_paths(lib: &Library, root: &Path) -> Vec<String> {
    let canon = fs::canonicalize(root).unwrap();
    let mut v: Vec<String> = dump(lib)
        .iter()
        .filter_map(|l| l.strip_prefix("entry\t"))
        .filter_map(|l| l.split('\t').next())
        .filter_map(|p| {
            Path::new(p)
                .strip_prefix(&canon)
                .ok()
                .map(|r| r.display().to_string())
        })
        .filter(|p| !p.is_empty())
        .collect();
    v.sort();
    v
}

#[test]
fn counts_with_and_without_each_rule() {
    let f = Fixture::new();
    f.file("Documents/Résumé.docx", b"PK\x03\x04doc")
        .file("Documents/.hidden-notes.txt", b"secret")
        .file(".DS_Store", b"junk")
        .file("Pictures/cat.JPG", b"\xFF\xD8\xFF\xE0jpeg")
        .file("Pictures/dog.png", b"\x89PNG\r\n\x1a\npng")
        .file("code/node_modules/left-pad/index.js", b"module.exports=1")
        .file("code/.git/HEAD", b"ref: refs/heads/main\n")
        .file("code/.gitignore", b"*.log\n!important.log\n")
        .file("code/debug.log", b"log")
        .file("code/important.log", b"log")
        .file("code/main.rs", b"fn main(){}")
        .file("rust/Cargo.toml", b"[package]")
        .file("rust/target/debug/app", b"\x7fELF")
        .file("target/plan.txt", b"a folder named target, not Rust output");
    let all = [
        ".DS_Store",
        "Documents",
        "Documents/.hidden-notes.txt",
        "Documents/Résumé.docx",
        "Pictures",
        "Pictures/cat.JPG",
        "Pictures/dog.png",
        "code",
        "code/.git",
        "code/.git/HEAD",
        "code/.gitignore",
        "code/debug.log",
        "code/important.log",
        "code/main.rs",
        "code/node_modules",
        "code/node_modules/left-pad",
        "code/node_modules/left-pad/index.js",
        "rust",
        "rust/Cargo.toml",
        "rust/target",
        "rust/target/debug",
        "rust/target/debug/app",
        "target",
        "target/plan.txt",
    ];
    let l = library();
    let id = index(&l.lib, &f.root(), IndexMode::Shallow, Rules::none());
    assert_eq!(indexed_paths(&l.lib, &f.root()), all);
    let rec = l.lib.location(id).unwrap();
    assert_eq!(rec.stats.files, 14);
    assert_eq!(rec.stats.dirs, 11);
    // Bytes of the regular files, as lstat reports them.
    let bytes: u64 = all
        .iter()
        .map(|p| std::fs::symlink_metadata(f.root().join(p)).unwrap())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    assert!(bytes > 0);
    assert_eq!(rec.stats.bytes, bytes);
    assert_eq!(rec.stats.skipped.summary(), None);

    let cases: Vec<(Rules, Vec<&str>, u64, u64)> = vec![
        (
            Rules::default(),
            vec![".DS_Store", "code/.git", "code/node_modules", "rust/target"],
            3,
            1,
        ),
        (
            Rules {
                no_hidden: true,
                ..Rules::none()
            },
            vec![
                "Documents/.hidden-notes.txt",
                ".DS_Store",
                "code/.git",
                "code/.gitignore",
            ],
            1,
            3,
        ),
        (
            Rules {
                respect_gitignore: true,
                ..Rules::none()
            },
            vec!["code/debug.log"],
            0,
            1,
        ),
        (
            Rules {
                only_images: true,
                ..Rules::none()
            },
            all.iter()
                .copied()
                .filter(|p| {
                    let is_dir = f.root().join(p).is_dir();
                    !is_dir && !p.ends_with(".JPG") && !p.ends_with(".png")
                })
                .collect(),
            0,
            12,
        ),
        (
            Rules {
                exclude_globs: vec!["*.log".into(), "Pictures".into()],
                ..Rules::none()
            },
            vec!["code/debug.log", "code/important.log", "Pictures"],
            1,
            2,
        ),
    ];
    for (rules, gone, folders, files) in cases {
        let l = library();
        let id = index(&l.lib, &f.root(), IndexMode::Shallow, rules.clone());
        let expected: Vec<&str> = all
            .iter()
            .copied()
            .filter(|p| {
                !gone
                    .iter()
                    .any(|g| p == g || p.starts_with(&format!("{g}/")))
            })
            .collect();
        assert_eq!(
            indexed_paths(&l.lib, &f.root()),
            expected,
            "rules {}",
            rules.describe()
        );
        let s = l.lib.location(id).unwrap().stats.skipped;
        assert_eq!(
            (s.folders, s.files),
            (folders, files),
            "rules {}",
            rules.describe()
        );
    }
}

#[test]
fn rescans_keep_identity_across_modify_move_rename_and_delete() {
    let f = Fixture::new();
    f.file("a/keep.txt", b"keep")
        .file("a/edit.txt", b"before")
        .file("a/gone.txt", b"gone")
        .file("a/rename-me.txt", b"rename")
        .file("a/move-me.txt", b"move")
        .file("folder/x/deep.txt", b"deep")
        .file("folder/y.txt", b"y")
        .file("loose/1.txt", b"1")
        .file("loose/2.txt", b"2")
        .dir("b");
    let l = library();
    let lib = &l.lib;
    let id = index(lib, &f.root(), IndexMode::Content, Rules::none());
    let r = f.root();
    let before: BTreeMap<&str, (u64, EntryRecord)> = [
        "a/keep.txt",
        "a/edit.txt",
        "a/gone.txt",
        "a/rename-me.txt",
        "a/move-me.txt",
        "folder",
        "folder/x",
        "folder/x/deep.txt",
        "folder/y.txt",
        "loose/1.txt",
        "loose/2.txt",
    ]
    .into_iter()
    .map(|p| (p, entry_at(lib, &r.join(p)).unwrap()))
    .collect();
    let edit_cas = before["a/edit.txt"].1.cas.unwrap();

    // Change things.
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(r.join("a/edit.txt"), b"after, longer").unwrap();
    fs::remove_file(r.join("a/gone.txt")).unwrap();
    fs::rename(r.join("a/rename-me.txt"), r.join("a/renamed.txt")).unwrap();
    fs::rename(r.join("a/move-me.txt"), r.join("b/moved.txt")).unwrap();
    fs::rename(r.join("folder"), r.join("renamed-folder")).unwrap();
    fs::create_dir_all(r.join("new/nested/deeper")).unwrap();
    fs::rename(r.join("loose/1.txt"), r.join("new/nested/deeper/1.txt")).unwrap();
    fs::rename(r.join("loose/2.txt"), r.join("new/nested/2.txt")).unwrap();
    f.file("a/brand-new.txt", b"new");
    // A hard link is a new entry, not a move.
    fs::hard_link(r.join("a/keep.txt"), r.join("b/keep-link.txt")).unwrap();

    let summary = rescan(lib, id);
    let same = |old: &str, new: &str| {
        let (oid, orec) = &before[old];
        let (nid, nrec) =
            entry_at(lib, &r.join(new)).unwrap_or_else(|| panic!("{new} not indexed"));
        assert_eq!(
            (oid, orec.uuid),
            (&nid, nrec.uuid),
            "{old} → {new} lost its identity"
        );
        nrec
    };
    same("a/keep.txt", "a/keep.txt");
    let edited = same("a/edit.txt", "a/edit.txt");
    assert_eq!(edited.size, 13);
    same("a/rename-me.txt", "a/renamed.txt");
    same("a/move-me.txt", "b/moved.txt");
    same("folder", "renamed-folder");
    same("folder/x", "renamed-folder/x");
    same("folder/x/deep.txt", "renamed-folder/x/deep.txt");
    same("folder/y.txt", "renamed-folder/y.txt");
    same("loose/1.txt", "new/nested/deeper/1.txt");
    same("loose/2.txt", "new/nested/2.txt");
    assert!(entry_at(lib, &r.join("a/gone.txt")).is_none());
    assert!(entry_at(lib, &r.join("folder")).is_none());
    let link = entry_at(lib, &r.join("b/keep-link.txt")).unwrap();
    assert_ne!(
        link.0, before["a/keep.txt"].0,
        "a hard link is its own entry"
    );
    assert!(entry_at(lib, &r.join("a/keep.txt")).is_some());
    // edit.txt, and the folders whose listing changed (root, a, b, loose).
    assert!(summary.contains("5 modified"), "{summary}");
    assert!(summary.contains("5 moved"), "{summary}");
    assert!(summary.contains("1 deleted"), "{summary}");

    // The edited file got a new content identity; the old one is gone.
    assert_ne!(edited.cas, Some(edit_cas));
    assert!(lib.content(edit_cas).unwrap().is_none());

    // The index equals a clean index of the same tree.
    let clean = library();
    index(&clean.lib, &f.root(), IndexMode::Content, Rules::none());
    assert_eq!(dump(lib), dump(&clean.lib));
    assert_eq!(lib.check_index().unwrap(), Vec::<String>::new());
}

#[test]
fn name_keys_and_aggregates_are_exact() {
    let f = Fixture::new();
    f.file("p/q/r/one", b"1")
        .file("p/q/two", b"22")
        .file("p/three", b"333")
        .dir("p/empty");
    std::os::unix::fs::symlink("q/two", f.root().join("p/link")).unwrap();
    let l = library();
    index(&l.lib, &f.root(), IndexMode::Shallow, Rules::none());
    let root = fs::canonicalize(f.root()).unwrap();
    assert_eq!(l.lib.check_index().unwrap(), Vec::<String>::new());
    let (id, _) = entry_at(&l.lib, &root.join("p")).unwrap();
    let s = l.lib.dir_stats(id).unwrap().unwrap();
    assert_eq!(
        (s.bytes, s.files, s.dirs, s.symlinks),
        (6, 3, 3, 1),
        "a symbolic link is counted apart from files"
    );
    let loc = &l.lib.locations().unwrap()[0];
    assert_eq!((loc.stats.files, loc.stats.symlinks), (3, 1));
}

#[test]
fn an_offline_location_keeps_its_entries() {
    let f = Fixture::new();
    f.file("photos/a.jpg", b"\xFF\xD8\xFFa")
        .file("photos/b.jpg", b"\xFF\xD8\xFFb");
    let l = library();
    let id = index(&l.lib, &f.root(), IndexMode::Content, Rules::none());
    let before = dump(&l.lib);
    // Pretend the location lives on a drive mounted at a path that is not mounted now, and
    // unplug it.
    l.lib
        .update_location_record(id, |loc| {
            loc.volume = VolumeInfo {
                mount_point: PathBuf::from("/media/cairn-test-unplugged"),
                fs_type: "exfat".into(),
                source: "/dev/sdz1".into(),
                dev: 12345,
            };
        })
        .unwrap();
    let moved_away = f.dir.path().join("unplugged");
    fs::rename(f.root(), &moved_away).unwrap();
    let rec = l.lib.location(id).unwrap();
    assert!(matches!(
        rec.availability(),
        location::Availability::Offline(_)
    ));
    let h = l.lib.rescan(id).unwrap();
    assert_eq!(h.wait(), JobStatus::Failed);
    let outcome = l.lib.jobs().get(h.id()).unwrap().outcome.unwrap();
    assert!(outcome.contains("offline"), "{outcome}");
    assert_eq!(
        dump(&l.lib),
        before,
        "no entry may be deleted while offline"
    );

    // A folder deleted on a mounted drive is "missing", and its entries are kept too.
    l.lib
        .update_location_record(id, |loc| loc.volume.mount_point = PathBuf::from("/"))
        .unwrap();
    let h = l.lib.rescan(id).unwrap();
    assert_eq!(h.wait(), JobStatus::Failed);
    assert_eq!(dump(&l.lib), before);
    // Plugged back in: the scan finds everything unchanged.
    fs::rename(&moved_away, f.root()).unwrap();
    let summary = rescan(&l.lib, id);
    assert!(
        summary.contains("0 new, 0 modified, 0 moved, 0 deleted"),
        "{summary}"
    );
}

#[test]
fn locations_must_be_folders_and_must_not_overlap() {
    let f = Fixture::new();
    f.file("inner/file.txt", b"x");
    let l = library();
    let err = l
        .lib
        .add_location(
            &f.root().join("inner/file.txt"),
            IndexMode::Shallow,
            Rules::none(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("not a folder"), "{err}");
    let err = l
        .lib
        .add_location(&f.root().join("nope"), IndexMode::Shallow, Rules::none())
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    index(&l.lib, &f.root(), IndexMode::Shallow, Rules::none());
    for p in [f.root(), f.root().join("inner"), f.dir.path().to_owned()] {
        let err = l
            .lib
            .add_location(&p, IndexMode::Shallow, Rules::none())
            .unwrap_err();
        assert!(err.to_string().contains("overlaps location 1"), "{err}");
    }
    // Removing forgets the index and touches no file.
    l.lib.remove_location(1).unwrap();
    assert!(dump(&l.lib).is_empty());
    assert!(f.root().join("inner/file.txt").is_file());
}

/// Synthetic content of the test vectors: byte i is (i*31 + seed*7 + (i>>13)) % 251.
fn synthetic(size: usize, seed: usize) -> Vec<u8> {
    (0..size)
        .map(|i| ((i * 31 + seed * 7 + (i >> 13)) % 251) as u8)
        .collect()
}

#[test]
fn content_ids_match_every_test_vector() {
    let text = include_str!("../data/content_id.json");
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vectors = v["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 29);
    for (n, vec) in vectors.iter().enumerate() {
        let size = vec["size"].as_u64().unwrap() as usize;
        let seed = vec["seed"].as_u64().unwrap() as usize;
        let mut data = synthetic(size, seed);
        if let Some(off) = vec["flip_offset"].as_u64() {
            data[off as usize] ^= 0xFF;
        }
        let path = dir.path().join(format!("v{n}"));
        fs::write(&path, &data).unwrap();
        let s = sample_file(&path).unwrap();
        let expected = vec["cas_id"].as_str();
        assert_eq!(
            s.cas_id.map(|c| c.to_string()).as_deref(),
            expected,
            "vector {n} ({size} bytes)"
        );
        assert_eq!(
            cairn::vdfs::content::cas_id_of_bytes(&data)
                .map(|c| c.to_string())
                .as_deref(),
            expected
        );
        if let Some(cas) = s.cas_id {
            assert_eq!(
                cas.content_uuid().to_string(),
                vec["content_uuid"].as_str().unwrap()
            );
            assert_eq!(
                integrity_hash(&path).unwrap().to_hex().as_str(),
                vec["full_blake3"].as_str().unwrap()
            );
        }
    }
}

#[test]
fn content_counts_stay_exact_across_modify_and_delete() {
    let f = Fixture::new();
    let big = synthetic(300_000, 3);
    f.file("one.bin", &big)
        .file("two.bin", &big)
        .file("three.bin", &big)
        .file("empty", b"");
    let l = library();
    let id = index(&l.lib, &f.root(), IndexMode::Content, Rules::none());
    let cas = entry_at(&l.lib, &f.root().join("one.bin"))
        .unwrap()
        .1
        .cas
        .unwrap();
    let count = |cas: CasId| {
        (
            l.lib.content(cas).unwrap().map(|c| c.instances),
            l.lib.instances(cas).unwrap().len(),
        )
    };
    assert_eq!(count(cas), (Some(3), 3));
    assert_eq!(
        entry_at(&l.lib, &f.root().join("empty")).unwrap().1.cas,
        None,
        "empty files have no content id"
    );
    // Rescanning unchanged files does not inflate the count.
    rescan(&l.lib, id);
    rescan(&l.lib, id);
    assert_eq!(count(cas), (Some(3), 3));
    // Modify one copy, delete another.
    let mut changed = big.clone();
    changed[0] ^= 1;
    fs::write(f.root().join("two.bin"), &changed).unwrap();
    fs::remove_file(f.root().join("three.bin")).unwrap();
    rescan(&l.lib, id);
    assert_eq!(count(cas), (Some(1), 1));
    let new_cas = entry_at(&l.lib, &f.root().join("two.bin"))
        .unwrap()
        .1
        .cas
        .unwrap();
    assert_eq!(count(new_cas), (Some(1), 1));
    fs::remove_file(f.root().join("one.bin")).unwrap();
    rescan(&l.lib, id);
    assert_eq!(
        count(cas),
        (None, 0),
        "an identity with no instance left is removed"
    );
}

#[test]
fn files_are_identified_by_their_bytes() {
    let f = Fixture::new();
    f.file("holiday", b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00rest")
        .file("report.txt", b"%PDF-1.4\n%...")
        .file("notes", b"just some words\n")
        .file("main.rs", b"fn main() {}\n");
    let l = library();
    index(&l.lib, &f.root(), IndexMode::Content, Rules::none());
    let ty = |name: &str| {
        let rec = entry_at(&l.lib, &f.root().join(name)).unwrap().1;
        l.lib
            .content(rec.cas.unwrap())
            .unwrap()
            .unwrap()
            .file_type
            .unwrap()
    };
    assert_eq!(ty("holiday"), "image/jpeg");
    assert_eq!(ty("report.txt"), "application/pdf");
    assert_eq!(ty("notes"), "text/plain");
    let rs = entry_at(&l.lib, &f.root().join("main.rs")).unwrap().1;
    assert_eq!(
        rs.content_kind,
        cairn::vdfs::content::filetype::ContentKind::Code
    );
}

#[cfg(unix)]
#[test]
fn hostile_files_are_catalogued_safely() {
    use std::os::unix::ffi::OsStrExt;
    let f = Fixture::new();
    f.file("normal.txt", b"n");
    let r = f.root();
    // A FIFO with a tempting extension: catalogued, never opened (opening would block).
    let status = std::process::Command::new("mkfifo")
        .arg(r.join("pipe.txt"))
        .status()
        .unwrap();
    assert!(status.success());
    // Symlink loops and a link to the parent: catalogued, never followed.
    std::os::unix::fs::symlink("..", r.join("up")).unwrap();
    std::os::unix::fs::symlink("self-loop", r.join("self-loop")).unwrap();
    std::os::unix::fs::symlink("nowhere/at/all", r.join("broken")).unwrap();
    // A non-UTF-8 name.
    let raw = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    fs::write(r.join(raw), b"latin-1").unwrap();
    // Depth 1000.
    let mut deep = r.join("deep");
    for _ in 0..1000 {
        deep.push("d");
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("bottom.txt"), b"bottom").unwrap();
    // An unreadable folder (root can read anything, so this part only bites as a user).
    f.file("locked/inside.txt", b"x");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(r.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
    let as_root = std::fs::read_dir(r.join("locked")).is_ok();

    let l = library();
    let started = std::time::Instant::now();
    let (rec, h) = l
        .lib
        .add_location(&r, IndexMode::Content, Rules::none())
        .unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    assert!(started.elapsed().as_secs() < 30);
    fs::set_permissions(r.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();

    let pipe = entry_at(&l.lib, &r.join("pipe.txt")).unwrap().1;
    assert_eq!(pipe.kind, EntryKind::Fifo);
    assert_eq!(pipe.cas, None);
    for link in ["up", "self-loop", "broken"] {
        assert_eq!(
            entry_at(&l.lib, &r.join(link)).unwrap().1.kind,
            EntryKind::Symlink
        );
    }
    let latin = entry_at(&l.lib, &r.join(raw)).unwrap().1;
    assert_eq!(latin.name, b"caf\xe9.txt");
    assert!(latin.cas.is_some());
    assert!(
        entry_at(&l.lib, &deep.join("bottom.txt")).is_some(),
        "depth 1000 indexed"
    );
    let job = l.lib.jobs().get(h.id()).unwrap();
    if !as_root {
        assert!(
            job.errors.iter().any(|e| e.path().ends_with("locked")),
            "{:?}",
            job.errors
        );
    }
    // Nothing under the symlinked parent was walked twice.
    let loc = l.lib.location(rec.id).unwrap();
    assert_eq!(loc.stats.dirs, 1003, "root, deep, 1000 × d, locked");
}

/// A scan killed while it writes what it found, then again while it identifies content,
/// resumes to exactly a clean run's index. (A first index writes and identifies while it
/// walks, so these phases are those of a rescan: half the tree was indexed shallow, the rest
/// was added, and the location now identifies content.)
#[test]
fn a_killed_index_resumes_to_the_same_index_as_a_clean_run() {
    let f = Fixture::new();
    let files = |f: &Fixture, dirs: std::ops::Range<usize>| {
        for d in dirs {
            for i in 0..250 {
                let content = format!("dir {d} file {i} {}", "x".repeat(i % 7 * 100));
                f.file(
                    &format!("d{d:02}/sub{}/f{i:03}.txt", i % 5),
                    content.as_bytes(),
                );
            }
        }
    };
    files(&f, 0..20);
    let root = f.root();
    let data = tempfile::tempdir().unwrap();
    ok(cairn(data.path())
        .args(["location", "add", "--mode", "shallow"])
        .arg(&root));
    files(&f, 20..40);
    for i in 0..30 {
        f.file(&format!("big/b{i}.bin"), &synthetic(150_000 + i * 1000, i));
    }
    ok(cairn(data.path()).args(["location", "set", "1", "--mode", "content"]));
    // Kill the indexer during processing, then again during content identification.
    let mut add = cairn(data.path());
    add.args(["--json", "location", "rescan", "1"]);
    run_until_killed(&mut add, |phase, _| phase == "processing");
    let list = ok(cairn(data.path()).args(["--json", "jobs", "list"]));
    assert!(list.contains("interrupted"), "{list}");
    let mut resume = cairn(data.path());
    resume.args(["--json", "jobs", "resume", "--all"]);
    run_until_killed(&mut resume, |phase, done| {
        phase == "content identification" && done >= 1
    });
    ok(cairn(data.path()).args(["jobs", "resume", "--all"]));
    assert_index_is_a_clean_runs(data.path(), &root, "content");
}

/// A rescan that deletes, renames and adds in several batches, killed in the middle of its
/// writes, resumes to exactly the index a clean run gives: the same entries, and every name
/// key, UUID key, content link and aggregate consistent (the closure table that a kill could
/// leave wrong is gone; the one write path keeps the rest in each batch's transaction).
#[test]
fn a_rescan_killed_between_its_batches_resumes_to_a_consistent_index() {
    let f = Fixture::new();
    for d in 0..20 {
        for i in 0..300 {
            f.file(
                &format!("d{d:02}/f{i:03}.txt"),
                format!("{d} {i}").as_bytes(),
            );
        }
    }
    let root = f.root();
    let data = tempfile::tempdir().unwrap();
    ok(cairn(data.path())
        .args(["location", "add", "--mode", "shallow"])
        .arg(&root));
    // Changes that need more than one batch of each kind (a batch is 20,000 entries).
    for d in 0..10 {
        fs::remove_dir_all(root.join(format!("d{d:02}"))).unwrap();
    }
    for d in 10..20 {
        fs::rename(
            root.join(format!("d{d:02}")),
            root.join(format!("moved{d:02}")),
        )
        .unwrap();
    }
    for d in 0..50 {
        let dir = root.join(format!("new{d:02}"));
        fs::create_dir(&dir).unwrap();
        for i in 0..500 {
            fs::write(dir.join(format!("n{i:03}")), b"").unwrap();
        }
    }
    let mut rescan = cairn(data.path());
    rescan.args(["--json", "location", "rescan", "1"]);
    run_until_killed(&mut rescan, |phase, done| {
        phase == "processing" && done >= 1
    });
    ok(cairn(data.path()).args(["jobs", "resume", "--all"]));
    assert_index_is_a_clean_runs(data.path(), &root, "shallow");
}

/// The index in `data` is consistent (`check-index`) and equal, dump for dump, to a clean
/// index of `root` in `mode` in a data folder of its own.
fn assert_index_is_a_clean_runs(data: &std::path::Path, root: &std::path::Path, mode: &str) {
    ok(cairn(data).args(["debug", "check-index"]));
    let resumed = ok(cairn(data).args(["debug", "dump-index"]));
    let clean = tempfile::tempdir().unwrap();
    ok(cairn(clean.path())
        .args(["location", "add", "--mode", mode])
        .arg(root));
    let fresh = ok(cairn(clean.path()).args(["debug", "dump-index"]));
    assert_eq!(resumed.lines().count(), fresh.lines().count());
    assert_eq!(resumed, fresh);
}

/// Runs `cmd` (which prints JSON progress lines) and SIGKILLs it once `when(phase, completed)`
/// holds for a progress line.
fn run_until_killed(cmd: &mut std::process::Command, when: impl Fn(&str, u64) -> bool) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut hit = false;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line.unwrap()) else {
            continue;
        };
        let phase = v["progress"]["phase"].as_str().unwrap_or("");
        if v["event"] == "job_progress"
            && when(phase, v["progress"]["completed"].as_u64().unwrap_or(0))
        {
            hit = true;
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(hit, "the job ended before the kill point");
}

#[test]
fn verify_content_flags_sampled_hash_collisions_and_silent_changes() {
    let f = Fixture::new();
    let base = synthetic(1 << 20, 0);
    let mut flipped = base.clone();
    flipped[500_000] ^= 0xFF; // outside every sample: same cas_id, different content
    f.file("original.bin", &base)
        .file("lookalike.bin", &flipped)
        .file("twin-a.bin", &synthetic(200_000, 9))
        .file("twin-b.bin", &synthetic(200_000, 9))
        .file("quiet.bin", &synthetic(300_000, 4));
    let l = library();
    index(&l.lib, &f.root(), IndexMode::Content, Rules::none());
    let a = entry_at(&l.lib, &f.root().join("original.bin")).unwrap().1;
    let b = entry_at(&l.lib, &f.root().join("lookalike.bin")).unwrap().1;
    assert_eq!(
        a.cas, b.cas,
        "the sampled hash cannot tell them apart (by design)"
    );

    // Change quiet.bin inside its header and put its mtime back.
    let quiet = f.root().join("quiet.bin");
    let mtime = fs::metadata(&quiet).unwrap().modified().unwrap();
    let mut bytes = fs::read(&quiet).unwrap();
    bytes[10] ^= 0xFF;
    fs::write(&quiet, &bytes).unwrap();
    fs::File::options()
        .write(true)
        .open(&quiet)
        .unwrap()
        .set_times(fs::FileTimes::new().set_modified(mtime))
        .unwrap();

    let h = l
        .lib
        .jobs()
        .spawn(cairn::vdfs::indexer::integrity::IntegrityJob::default())
        .unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    let job = l.lib.jobs().get(h.id()).unwrap();
    let summary = job.outcome.unwrap();
    assert!(summary.contains("1 with copies that differ"), "{summary}");
    assert!(
        summary.contains("1 files changed without a new mtime"),
        "{summary}"
    );
    let flagged: Vec<String> = job
        .errors
        .iter()
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(
        flagged.iter().any(|p| p.ends_with("quiet.bin")),
        "{flagged:?}"
    );
    assert!(
        flagged.iter().any(|p| p.ends_with("lookalike.bin")),
        "{flagged:?}"
    );
    let content = |name: &str| {
        let cas = entry_at(&l.lib, &f.root().join(name))
            .unwrap()
            .1
            .cas
            .unwrap();
        l.lib.content(cas).unwrap().unwrap()
    };
    assert_eq!(
        content("original.bin").integrity,
        None,
        "a collision is never confirmed"
    );
    let twin = content("twin-a.bin");
    assert_eq!(
        twin.integrity.unwrap(),
        *integrity_hash(&f.root().join("twin-b.bin"))
            .unwrap()
            .as_bytes()
    );
    assert!(twin.last_verified_ms.is_some());
}

#[test]
fn deep_mode_makes_one_thumbnail_per_image_content() {
    let f = Fixture::new();
    let png = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let dir = f.root();
    fs::create_dir_all(dir.join("album")).unwrap();
    png.save(dir.join("album/wide.png")).unwrap();
    fs::copy(
        dir.join("album/wide.png"),
        dir.join("album/copy-of-wide.png"),
    )
    .unwrap();
    image::RgbImage::from_pixel(100, 300, image::Rgb([200, 10, 10]))
        .save(dir.join("album/tall.jpg"))
        .unwrap();
    f.file(
        "album/broken.jpg",
        b"\xFF\xD8\xFF\xE0 this is not really a JPEG",
    );
    f.file("notes.txt", b"not an image");
    let l = library();
    let (rec, h) = l
        .lib
        .add_location(&dir, IndexMode::Deep, Rules::none())
        .unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    let thumbs_job = l
        .lib
        .jobs()
        .list()
        .unwrap()
        .into_iter()
        .find(|j| j.kind == "thumbnails")
        .expect("Deep mode queues a thumbnail job");
    let mut job = l.lib.jobs().get(thumbs_job.id).unwrap();
    for _ in 0..500 {
        if job.status.is_terminal() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        job = l.lib.jobs().get(thumbs_job.id).unwrap();
    }
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.outcome);
    assert!(
        job.outcome
            .as_deref()
            .unwrap()
            .starts_with("2 thumbnails made, 1 images"),
        "{:?}",
        job.outcome
    );
    assert!(
        job.errors.iter().any(|e| e.path().ends_with("broken.jpg")),
        "{:?}",
        job.errors
    );
    let sidecars = l.lib.sidecars_dir();
    for name in ["album/wide.png", "album/copy-of-wide.png", "album/tall.jpg"] {
        let cas = entry_at(&l.lib, &dir.join(name)).unwrap().1.cas.unwrap();
        let thumb = cairn::vdfs::sidecars::thumbnail::thumbnail_path(&sidecars, cas.content_uuid());
        let img = image::open(&thumb).unwrap_or_else(|e| panic!("{}: {e}", thumb.display()));
        assert!(
            img.width().max(img.height()) == cairn::vdfs::sidecars::thumbnail::THUMB_SIZE,
            "{name}"
        );
    }
    assert_eq!(rec.mode, IndexMode::Deep);
}

/// Permission-denied folders must be per-path errors. Root reads everything, so when the
/// tests run as root the scan runs as the unprivileged user `nobody` instead.
#[cfg(unix)]
#[test]
fn an_unreadable_folder_is_a_per_path_error_not_a_failure() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    f.file("open/a.txt", b"a").file("locked/secret.txt", b"s");
    let data = f.dir.path().join("data");
    fs::create_dir_all(&data).unwrap();
    for p in [
        f.dir.path().to_owned(),
        f.root(),
        f.root().join("open"),
        data.clone(),
    ] {
        fs::set_permissions(&p, fs::Permissions::from_mode(0o777)).unwrap();
    }
    fs::set_permissions(
        f.root().join("open/a.txt"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    fs::set_permissions(f.root().join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
    let exe = env!("CARGO_BIN_EXE_cairn");
    let as_root = fs::read_dir(f.root().join("locked")).is_ok();
    let mut cmd = if as_root {
        let Ok(s) = std::process::Command::new("runuser").arg("--help").output() else {
            eprintln!("skipped: running as root without runuser");
            return;
        };
        assert!(s.status.success() || !s.stdout.is_empty());
        // A copy of the binary that nobody can reach (the build folder may be under /root).
        let copy = f.dir.path().join("cairn");
        fs::copy(exe, &copy).unwrap();
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
        // Cairn keeps its catalogue only in a folder of the user running it.
        std::os::unix::fs::chown(&data, Some(65534), Some(65534)).unwrap();
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(&copy);
        c
    } else {
        std::process::Command::new(exe)
    };
    cmd.env("HOME", &data)
        .arg("--data-dir")
        .arg(&data)
        .arg("--json")
        .args(["location", "add"])
        .arg(f.root());
    let out = cmd.output().unwrap();
    fs::set_permissions(f.root().join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if as_root
        && !out.status.success()
        && String::from_utf8_lossy(&out.stderr).contains("Permission denied")
    {
        eprintln!(
            "skipped: nobody cannot run the test binary here: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["status"], "completed");
    assert_eq!(last["error_count"], 1, "{last}");
    let err = &last["errors"][0];
    assert!(err["path"].as_str().unwrap().ends_with("locked"), "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("cannot list this folder"),
        "{err}"
    );
}

/// Regression: a new file that reuses a deleted file's inode number (ext4 does this at once)
/// must not inherit the deleted file's identity. (A file replaced at the same path, as editors
/// save, keeps its identity: that is matched by path, not by inode.)
#[test]
fn regression_inode_reuse_is_not_a_move() {
    let f = Fixture::new();
    f.file("dir/f0.txt", b"first content");
    let l = library();
    let id = index(&l.lib, &f.root(), IndexMode::Shallow, Rules::none());
    let mut reused = 0;
    for round in 0..20 {
        let old = f.root().join(format!("dir/f{round}.txt"));
        let new = f.root().join(format!("dir/f{}.txt", round + 1));
        let (_, before) = entry_at(&l.lib, &old).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        fs::remove_file(&old).unwrap();
        fs::write(&new, format!("content {round}")).unwrap();
        rescan(&l.lib, id);
        let (_, after) = entry_at(&l.lib, &new).unwrap();
        if after.inode == before.inode {
            reused += 1;
        }
        assert_ne!(
            after.uuid, before.uuid,
            "round {round}: a new file took an old identity"
        );
    }
    eprintln!("inode numbers reused in {reused} of 20 rounds");
}

/// `cairn stat --json` inside and outside the index: the fields scripts read, from the one
/// details function the inspector uses too.
#[test]
fn stat_reports_the_index_or_the_disk() {
    let f = Fixture::new();
    let jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00rest";
    f.file("in/a.jpg", jpeg)
        .file("in/sub/b.jpg", jpeg)
        .file("out/t.txt", b"text\n")
        .file("out/d/c.bin", b"12345");
    let data = f.dir.path().join("data");
    let root = fs::canonicalize(f.root()).unwrap();
    ok(cairn(&data).args(["location", "add"]).arg(root.join("in")));
    let stat = |p: &Path| -> serde_json::Value {
        crate::common::json(&ok(cairn(&data).args(["stat", "--json"]).arg(p)))
    };

    let a = stat(&root.join("in/a.jpg"));
    assert_eq!(a["indexed"], true);
    assert_eq!(a["location"], 1);
    assert_eq!(a["entry"]["kind"], "file");
    assert_eq!(a["entry"]["size"], jpeg.len());
    assert_eq!(a["content"]["file_type"], "image/jpeg");
    assert_eq!(a["content"]["instances"], 2);
    let cas = sample_file(&root.join("in/a.jpg")).unwrap().cas_id.unwrap();
    assert_eq!(a["content"]["cas_id"], cas.to_string());
    assert_eq!(a["entry"]["cas_id"], cas.to_string());
    assert_eq!(
        a["content"]["address"],
        format!("cairn://content/{}", cas.content_uuid())
    );
    assert_eq!(
        a["other_copies"],
        serde_json::json!([root.join("in/sub/b.jpg").to_string_lossy()])
    );
    // The content address resolves to a copy on disk.
    let by_address = stat(Path::new(a["content"]["address"].as_str().unwrap()));
    assert_eq!(by_address["content"]["cas_id"], cas.to_string());

    let folder = stat(&root.join("in"));
    assert_eq!(folder["entry"]["kind"], "dir");
    assert_eq!(folder["folder"]["files"], 2);
    assert_eq!(folder["folder"]["dirs"], 1);
    assert_eq!(folder["folder"]["bytes"], 2 * jpeg.len());

    let t = stat(&root.join("out/t.txt"));
    assert_eq!(t["indexed"], false);
    assert_eq!(t["entry"]["size"], 5);
    assert!(t.get("location").is_none());
    let sampled = sample_file(&root.join("out/t.txt"))
        .unwrap()
        .cas_id
        .unwrap();
    assert_eq!(t["content"]["cas_id"], sampled.to_string());
    assert_eq!(t["content"]["file_type"], "text/plain");
    assert!(t["content"]["confidence"].is_u64(), "{t}");

    let out = stat(&root.join("out"));
    assert_eq!(out["indexed"], false);
    assert_eq!(
        (
            &out["folder"]["files"],
            &out["folder"]["dirs"],
            &out["folder"]["bytes"]
        ),
        (
            &serde_json::json!(2),
            &serde_json::json!(1),
            &serde_json::json!(10)
        )
    );

    let human = ok(cairn(&data).arg("stat").arg(root.join("in/a.jpg")));
    assert!(human.contains("Indexed:     yes, location 1"), "{human}");
    assert!(human.contains(&format!("cas_id:      {cas}")), "{human}");
    assert!(human.contains("Copies:      2 in this library"), "{human}");
}

/// Regression: `rm A/x; mv A A2; rescan` gave A2 a new id and UUID ("1 new, 2 deleted"),
/// because a moved folder was recognised only with an unchanged mtime, and removing a child
/// changes it.
#[test]
fn regression_a_renamed_folder_whose_content_changed_keeps_its_identity() {
    let f = Fixture::new();
    f.file("A/x.txt", b"x")
        .file("A/y.txt", b"y")
        .file("A/sub/z.txt", b"z");
    let l = library();
    let id = index(&l.lib, &f.root(), IndexMode::Shallow, Rules::none());
    let (a_id, a) = entry_at(&l.lib, &f.root().join("A")).unwrap();
    let (y_id, y) = entry_at(&l.lib, &f.root().join("A/y.txt")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::remove_file(f.root().join("A/x.txt")).unwrap();
    fs::rename(f.root().join("A"), f.root().join("A2")).unwrap();
    let summary = rescan(&l.lib, id);
    assert!(
        summary.contains("0 new") && summary.contains("1 deleted"),
        "{summary}"
    );
    let (a2_id, a2) = entry_at(&l.lib, &f.root().join("A2")).unwrap();
    assert_eq!(
        (a2_id, a2.uuid),
        (a_id, a.uuid),
        "the folder kept its identity"
    );
    let (y2_id, y2) = entry_at(&l.lib, &f.root().join("A2/y.txt")).unwrap();
    assert_eq!((y2_id, y2.uuid), (y_id, y.uuid), "and so did what it holds");

    // A new folder that merely reuses a deleted folder's inode number shares no name with
    // it, and is new.
    let (b_id, _) = entry_at(&l.lib, &f.root().join("A2/sub")).unwrap();
    fs::remove_dir_all(f.root().join("A2/sub")).unwrap();
    f.file("other/q.txt", b"q");
    rescan(&l.lib, id);
    let (o_id, _) = entry_at(&l.lib, &f.root().join("other")).unwrap();
    assert_ne!(o_id, b_id);
}

/// Regression: the thumbnail job saved the library's sidecar path in its state, so a library
/// renamed or moved while the job waited resumed writing into the old folder. A saved job's
/// path is now ignored: thumbnails go to the running library's own sidecars.
#[test]
fn regression_a_saved_thumbnail_job_writes_into_the_running_library() {
    let f = Fixture::new();
    f.dir("");
    image::RgbImage::from_pixel(64, 48, image::Rgb([10, 200, 10]))
        .save(f.root().join("green.png"))
        .unwrap();
    let l = library();
    let id = index(&l.lib, &f.root(), IndexMode::Content, Rules::none());
    let old_place = f.dir.path().join("Old Library.cairnlib/sidecars");
    let job = cairn::vdfs::sidecars::thumbnail::ThumbnailJob {
        location: id,
        sidecars: old_place.clone(),
        after: None,
        made: 0,
        failed: 0,
        name: String::new(),
    };
    let h = l.lib.jobs().spawn(job).unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    assert!(!old_place.exists(), "nothing is written at the saved path");
    let thumbs = l.lib.sidecars_dir().join("thumbs");
    let n = walk_files(&thumbs);
    assert_eq!(n, 1, "one thumbnail in the library's own sidecars");
}

fn walk_files(dir: &Path) -> usize {
    let Ok(rd) = fs::read_dir(dir) else { return 0 };
    rd.map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { walk_files(&p) } else { 1 })
        .sum()
}

/// Regression: a content's full-file integrity hash stayed set when a new copy joined it, so a
/// copy that shares only the sampled hash would have been vouched for by the old verification.
#[test]
fn regression_a_new_copy_clears_the_integrity_hash() {
    let f = Fixture::new();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    f.file("a.bin", &big);
    let l = library();
    let id = index(&l.lib, &f.root(), IndexMode::Content, Rules::none());
    let h = l.lib.verify_content(Some(id)).unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    let cas = entry_at(&l.lib, &f.root().join("a.bin"))
        .unwrap()
        .1
        .cas
        .unwrap();
    assert!(l.lib.content(cas).unwrap().unwrap().integrity.is_some());
    // A copy that differs outside the sampled ranges joins the same content identity.
    let mut other = big.clone();
    other[120_000] ^= 0xff;
    f.file("b.bin", &other);
    rescan(&l.lib, id);
    assert_eq!(
        entry_at(&l.lib, &f.root().join("b.bin")).unwrap().1.cas,
        Some(cas)
    );
    let c = l.lib.content(cas).unwrap().unwrap();
    assert_eq!(c.instances, 2);
    assert_eq!(c.integrity, None, "no longer vouched for");
}

/// Regressions: `cairn stat`/`ls` refused a path that is not UTF-8 (clap wanted a String), and
/// a newline in a name split a row of `ls` and `search` output in two.
#[cfg(unix)]
#[test]
fn regression_non_utf8_arguments_and_control_characters_in_names() {
    use std::os::unix::ffi::OsStrExt;
    let f = Fixture::new();
    f.file("two\nlines.txt", b"x").dir("plain");
    let latin1 = f.root().join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt"));
    fs::write(&latin1, b"latin-1 name").unwrap();
    let data = f.dir.path().join("data");
    ok(cairn(&data)
        .args(["location", "add", "--rules", "none"])
        .arg(f.root()));
    // A non-UTF-8 path argument reaches its file.
    let v: serde_json::Value =
        serde_json::from_str(&ok(cairn(&data).args(["--json", "stat"]).arg(&latin1))).unwrap();
    assert_eq!(v["indexed"], true, "{v}");
    assert_eq!(v["entry"]["size"], 12, "{v}");
    // One row per entry, the newline shown escaped.
    // (`ls` writes names as their bytes, so the Latin-1 name is not UTF-8 here.)
    let out = cairn(&data).arg("ls").arg(f.root()).output().unwrap();
    assert!(out.status.success());
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        listing.lines().any(|l| l == "two\\nlines.txt"),
        "{listing:?}"
    );
    assert_eq!(listing.lines().count(), 3, "{listing:?}");
    let found = ok(cairn(&data).args(["search", "lines"]));
    let rows: Vec<&str> = found.lines().filter(|l| l.contains("lines.txt")).collect();
    assert_eq!(rows.len(), 1, "{found:?}");
    assert!(rows[0].ends_with("two\\nlines.txt"), "{found:?}");
    // search --json gives the exact bytes of a path that is not UTF-8.
    let v: serde_json::Value =
        serde_json::from_str(&ok(cairn(&data).args(["--json", "search", "caf"]))).unwrap();
    let hit = &v["hits"][0];
    let bytes: Vec<u8> = hit["path_bytes"]
        .as_array()
        .unwrap_or_else(|| panic!("{hit}"))
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(bytes, latin1.as_os_str().as_bytes());
}

/// The catalogue never indexes itself or the system's pseudo file systems: /proc and /sys are
/// refused as locations, a folder inside the library is refused, and a location that holds the
/// data folder leaves the library out (an exclude rule shown with the others).
#[test]
fn locations_never_take_in_the_catalogue_or_the_system() {
    let f = Fixture::new();
    f.file("docs/a.txt", b"a");
    // The data folder inside the future location.
    let data = f.root().join("cairn-data");
    for sys in ["/proc", "/sys"] {
        let err = crate::common::fails(cairn(&data).args(["location", "add", sys]));
        assert!(err.contains("cannot be a location"), "{err}");
    }
    let lib = data.join("libraries/My Library.cairnlib");
    let err = crate::common::fails(
        cairn(&data)
            .args(["location", "add"])
            .arg(lib.join("sidecars")),
    );
    assert!(err.contains("Cairn's own folder"), "{err}");
    // Regression (issue "fortress"): the data folder's logs and device key were indexable.
    let err = crate::common::fails(
        cairn(&data)
            .args(["location", "add"])
            .arg(data.join("logs")),
    );
    assert!(err.contains("Cairn's own folder"), "{err}");
    ok(cairn(&data)
        .args(["location", "add", "--rules", "none"])
        .arg(f.root()));
    let dump = ok(cairn(&data).args(["debug", "dump-index"]));
    assert!(dump.contains("docs/a.txt"), "{dump}");
    assert!(
        !dump.contains("library.redb"),
        "the catalogue was indexed: {dump}"
    );
    assert!(
        !dump.contains("device.key") && !dump.contains("cairn-data/logs"),
        "the data folder was indexed: {dump}"
    );
    let locs: serde_json::Value =
        serde_json::from_str(&ok(cairn(&data).args(["--json", "location", "list"]))).unwrap();
    let globs = &locs[0]["rules"]["exclude_globs"];
    assert!(
        globs.as_array().unwrap().iter().any(|g| g == "cairn-data"),
        "the data folder is left out: {locs}"
    );
}

/// Regression: a content whose copies have different extensions took its file type from
/// whichever copy was identified first (92–94 of 34,000 contents differed between two clean
/// runs of one tree). The rule is now the smallest type id among the copies.
#[test]
fn regression_the_file_type_of_a_content_does_not_depend_on_order() {
    let text = b"# Notes\n\nplain words, the same bytes under two names\n";
    let mut types = Vec::new();
    for order in [["a.md", "b.txt"], ["a.txt", "b.md"]] {
        let f = Fixture::new();
        f.file(order[0], text).file(order[1], text);
        let l = library();
        index(&l.lib, &f.root(), IndexMode::Content, Rules::none());
        let cas = entry_at(&l.lib, &f.root().join(order[0]))
            .unwrap()
            .1
            .cas
            .unwrap();
        let c = l.lib.content(cas).unwrap().unwrap();
        assert_eq!(c.instances, 2);
        types.push(c.file_type.clone());
    }
    assert_eq!(types[0], types[1], "{types:?}");
}

/// Regression: `cairn location add --mode deep` exited while its thumbnail job (queued when the
/// index completed) was still to run, leaving it "interrupted". The command now waits for the
/// jobs its job queued.
#[test]
fn regression_the_cli_waits_for_follow_up_jobs() {
    let f = Fixture::new();
    f.dir("");
    image::RgbImage::from_pixel(32, 32, image::Rgb([1, 2, 3]))
        .save(f.root().join("dot.png"))
        .unwrap();
    let data = f.dir.path().join("data");
    ok(cairn(&data)
        .args(["location", "add", "--mode", "deep", "--rules", "none"])
        .arg(f.root()));
    let jobs: serde_json::Value =
        serde_json::from_str(&ok(cairn(&data).args(["--json", "jobs", "list", "--all"]))).unwrap();
    let rows: Vec<(String, String)> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["kind"].as_str().unwrap().to_owned(),
                j["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        rows.iter().any(|(k, _)| k == "thumbnails"),
        "the follow-up was queued: {rows:?}"
    );
    assert!(rows.iter().all(|(_, s)| s == "completed"), "{rows:?}");
}

/// Regression: hard links (same device and inode) counted as copies, so a file with two names
/// looked duplicated and "safe", and its second name "wasted" space.
#[test]
fn regression_hard_links_are_one_copy() {
    let f = Fixture::new();
    f.file("a.bin", b"twice stored")
        .file("b.bin", b"twice stored");
    f.file("only.bin", b"stored once, two names");
    fs::hard_link(f.root().join("a.bin"), f.root().join("a-link.bin")).unwrap();
    fs::hard_link(f.root().join("only.bin"), f.root().join("only-link.bin")).unwrap();
    let l = library();
    index(&l.lib, &f.root(), IndexMode::Content, Rules::none());
    let groups = l
        .lib
        .dupes(&cairn::vdfs::query::dupes::DupesQuery::default())
        .unwrap();
    assert_eq!(
        groups.len(),
        1,
        "the hard-linked pair alone is no duplicate: {groups:#?}"
    );
    let g = &groups[0];
    assert_eq!(g.members.len(), 3);
    assert_eq!(g.wasted, 12, "one real copy too many, not two");
    let links: Vec<_> = g
        .members
        .iter()
        .filter(|m| m.same_file_as.is_some())
        .collect();
    assert_eq!(links.len(), 1, "{g:#?}");
    let risk = l.lib.at_risk(&fs::canonicalize(f.root()).unwrap()).unwrap();
    let mut single: Vec<String> = risk
        .single
        .iter()
        .map(|r| r.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    single.sort();
    assert_eq!(
        single,
        ["only-link.bin", "only.bin"],
        "one file, however many names"
    );
}

/// Regression (review of "Index model v4"): the inspector's copies (`Library::copies` and the
/// details' other copies) listed every hard link as a copy, so a file with two names and one
/// real copy elsewhere showed three copies, and a file with two names and no copy was not
/// "the only copy". Hard links (same device and inode) are one copy with several names.
#[test]
fn regression_hard_links_are_one_copy_in_the_copies_list() {
    let f = Fixture::new();
    f.file("a/photo.jpg", b"one photo, stored twice")
        .file("b/photo copy.jpg", b"one photo, stored twice")
        .file("c/alone.txt", b"stored once, two names");
    fs::hard_link(
        f.root().join("a/photo.jpg"),
        f.root().join("a/photo-link.jpg"),
    )
    .unwrap();
    fs::hard_link(
        f.root().join("c/alone.txt"),
        f.root().join("c/alone-link.txt"),
    )
    .unwrap();
    let l = library();
    index(&l.lib, &f.root(), IndexMode::Content, Rules::none());
    let root = fs::canonicalize(f.root()).unwrap();

    let (photo, _) = entry_at(&l.lib, &root.join("a/photo.jpg")).unwrap();
    let copies = l.lib.copies(photo).unwrap();
    assert_eq!(
        copies.len(),
        2,
        "one copy with two names, and one other: {copies:#?}"
    );
    assert_eq!(copies[0].path, root.join("a/photo.jpg"), "itself first");
    assert_eq!(copies[0].links, [root.join("a/photo-link.jpg")]);
    assert_eq!(copies[1].path, root.join("b/photo copy.jpg"));
    assert!(copies[1].links.is_empty());

    // The inspector: this file (also named photo.jpg) and one other copy.
    let opts = cairn::vdfs::query::details::DetailOptions::INSPECTOR;
    let d = l.lib.stat(&root.join("a/photo-link.jpg"), opts).unwrap();
    let others: Vec<&Path> = d.other_copies.iter().map(|c| c.path.as_path()).collect();
    assert_eq!(others, [root.join("b/photo copy.jpg")]);
    assert_eq!(d.links, [root.join("a/photo.jpg")]);

    // One file with two names is the only copy.
    let (alone, _) = entry_at(&l.lib, &root.join("c/alone.txt")).unwrap();
    assert_eq!(l.lib.copies(alone).unwrap().len(), 1);
    let d = l.lib.stat(&root.join("c/alone.txt"), opts).unwrap();
    assert!(d.other_copies.is_empty(), "{:#?}", d.other_copies);
    assert_eq!(d.links, [root.join("c/alone-link.txt")]);
}

/// Regression (review of "Index model v4"): the backup-gap report and search's `missing_from`
/// filter took a hard link inside the backup location (the same file, on the same disk) for a
/// backup of it.
#[test]
fn regression_a_hard_link_in_the_backup_location_is_no_backup() {
    let f = Fixture::new();
    f.file("home/report.txt", b"on one disk, under two names")
        .file("home/safe.txt", b"really backed up")
        .file("backup/safe copy.txt", b"really backed up");
    fs::hard_link(
        f.root().join("home/report.txt"),
        f.root().join("backup/report-link.txt"),
    )
    .unwrap();
    let l = library();
    index(
        &l.lib,
        &f.root().join("home"),
        IndexMode::Content,
        Rules::none(),
    );
    let backup = index(
        &l.lib,
        &f.root().join("backup"),
        IndexMode::Content,
        Rules::none(),
    );
    let home = fs::canonicalize(f.root().join("home")).unwrap();

    let gap = l.lib.missing_from(&home, backup).unwrap();
    let missing: Vec<&Path> = gap.missing.iter().map(|m| m.path.as_path()).collect();
    assert_eq!(missing, [home.join("report.txt")], "{gap:#?}");
    assert_eq!(gap.covered, 1);

    let q = cairn::vdfs::query::search::Query {
        missing_from: Some(backup),
        limit: 100,
        ..Default::default()
    };
    let hits: Vec<PathBuf> = l
        .lib
        .search(&q)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.path)
        .collect();
    assert_eq!(hits, [home.join("report.txt")]);
}

/// Review of "Index model v4": one folder indexed as two locations, once through a bind mount
/// of it (the same device and inodes), holds each file once: no file is a duplicate of
/// itself, nor a second copy or a backup of itself; a real duplicate inside it still counts.
/// Root only (it mounts); skipped otherwise.
#[test]
fn a_bind_mounted_alias_of_a_location_counts_each_file_once() {
    use crate::common::{BindMount, Tmpfs};
    let tmp = tempfile::tempdir().unwrap();
    let Some(vol) = Tmpfs::mount(tmp.path(), "vol", "4m") else {
        return;
    };
    let real = vol.path.join("real");
    fs::create_dir_all(real.join("sub")).unwrap();
    fs::write(real.join("only.txt"), b"one file, two locations").unwrap();
    fs::write(real.join("a.bin"), b"a real duplicate").unwrap();
    fs::write(real.join("sub/a copy.bin"), b"a real duplicate").unwrap();
    let Some(alias) = BindMount::mount(&real, &tmp.path().join("alias")) else {
        return;
    };
    let l = library();
    index(&l.lib, &real, IndexMode::Content, Rules::none());
    let alias_id = index(&l.lib, &alias.path, IndexMode::Content, Rules::none());
    let real = fs::canonicalize(&real).unwrap();
    let alias = fs::canonicalize(&alias.path).unwrap();
    assert_eq!(
        entry_at(&l.lib, &real.join("only.txt")).unwrap().1.meta(),
        entry_at(&l.lib, &alias.join("only.txt")).unwrap().1.meta(),
        "the alias shows the same files (device and inode)"
    );

    // dupes: only the real pair, each of its files seen under two names.
    let groups = l
        .lib
        .dupes(&cairn::vdfs::query::dupes::DupesQuery::default())
        .unwrap();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    let g = &groups[0];
    assert_eq!(g.members.len(), 4);
    assert_eq!(g.wasted, 16, "two files, one too many");
    assert_eq!(
        g.members
            .iter()
            .filter(|m| m.same_file_as.is_some())
            .count(),
        2,
        "{g:#?}"
    );

    // at-risk: the file seen twice is still the only copy.
    for root in [&real, &alias] {
        let risk = l.lib.at_risk(root).unwrap();
        let single: Vec<&Path> = risk.single.iter().map(|f| f.path.as_path()).collect();
        assert_eq!(single, [root.join("only.txt")], "{risk:#?}");
        assert_eq!(risk.safe, 2);
    }

    // copies: one copy with a second name.
    let (only, _) = entry_at(&l.lib, &real.join("only.txt")).unwrap();
    let copies = l.lib.copies(only).unwrap();
    assert_eq!(copies.len(), 1, "{copies:#?}");
    assert_eq!(copies[0].links, [alias.join("only.txt")]);
    let (a, _) = entry_at(&l.lib, &real.join("a.bin")).unwrap();
    assert_eq!(l.lib.copies(a).unwrap().len(), 2);

    // The alias is no backup of the folder.
    let gap = l.lib.missing_from(&real, alias_id).unwrap();
    let missing: Vec<&Path> = gap.missing.iter().map(|f| f.path.as_path()).collect();
    assert_eq!(missing, [real.join("only.txt")], "{gap:#?}");
}

/// A drive keeps its identity wherever it is mounted: the same ext4 volume mounted at another
/// mount point is followed (every UUID kept, nothing rescanned from scratch); a different
/// file system mounted at the old mount point is "a different volume" and is never scanned
/// over the first one's entries; a location of another device is never scanned here.
#[test]
fn a_location_follows_its_volume_and_never_scans_another() {
    use crate::common::LoopDrive;
    let dir = tempfile::tempdir().unwrap();
    let Some(mut drive) = LoopDrive::make(&dir.path().join("photos.img")) else {
        return;
    };
    let m1 = dir.path().join("media/first");
    let m2 = dir.path().join("media/second");
    if !drive.plug(&m1) {
        return;
    }
    fs::create_dir_all(m1.join("Pictures/2024")).unwrap();
    fs::write(m1.join("Pictures/2024/a.jpg"), b"\xFF\xD8\xFFa").unwrap();
    fs::write(m1.join("Pictures/b.txt"), b"b").unwrap();
    let l = library();
    let id = index(
        &l.lib,
        &m1.join("Pictures"),
        IndexMode::Shallow,
        Rules::none(),
    );
    let before = entry_at(&l.lib, &m1.join("Pictures/2024/a.jpg")).unwrap().1;
    let loc = l.lib.location(id).unwrap();
    let vol = l
        .lib
        .volumes()
        .unwrap()
        .into_iter()
        .find(|v| Some(v.uuid) == loc.volume_id)
        .expect("the location is bound to its volume's record");
    assert!(vol.fingerprint.starts_with("uuid:"), "{vol:?}");
    assert_eq!(loc.volume_path.as_deref(), Some(&b"Pictures"[..]));
    // A tag and a note on the drive's files (issue "Tags…": they survive the drive being
    // away and coming back elsewhere).
    l.lib
        .create_tag(&cairn::vdfs::library::NewTag {
            name: "Keep".into(),
            ..Default::default()
        })
        .unwrap();
    l.lib
        .tag_paths("Keep", &[m1.join("Pictures/2024/a.jpg")], false, false)
        .unwrap();
    l.lib
        .set_meta(
            &m1.join("Pictures/b.txt"),
            false,
            cairn::vdfs::library::MetaChange {
                note: Some("on the USB".into()),
                ..Default::default()
            },
        )
        .unwrap();

    // The same drive, mounted elsewhere.
    drive.unplug();
    // Away, the marks are kept (missing from the index's view, never dropped).
    assert_eq!(l.lib.tag_assignment_count().unwrap(), 1);
    assert!(drive.plug(&m2));
    let statuses = l.lib.location_statuses(&[]).unwrap();
    assert_eq!(statuses[0].availability, location::Availability::Online);
    assert_eq!(statuses[0].record.path(), m2.join("Pictures"));
    let after = entry_at(&l.lib, &m2.join("Pictures/2024/a.jpg")).unwrap().1;
    assert_eq!(after.uuid, before.uuid, "the entry kept its UUID");
    let h = l.lib.rescan(id).unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    let summary = l.lib.jobs().get(h.id()).unwrap().outcome.unwrap();
    assert!(
        summary.contains("0 new") && summary.contains("0 deleted"),
        "{summary}"
    );
    assert_eq!(l.lib.check_index().unwrap(), Vec::<String>::new());
    let tag = l.lib.find_tag("Keep").unwrap().id;
    let hits = l
        .lib
        .search(&cairn::vdfs::query::search::Query {
            tags: vec![tag],
            limit: 10,
            ..Default::default()
        })
        .unwrap()
        .hits;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].path, m2.join("Pictures/2024/a.jpg"));
    let note = l.lib.meta_of(&m2.join("Pictures/b.txt")).unwrap();
    assert_eq!(note.entry.unwrap().note, "on the USB");
    let indexed = dump(&l.lib);

    // Another file system at the same mount point: not this location's volume.
    drive.unplug();
    let Some(mut other) = LoopDrive::make(&dir.path().join("other.img")) else {
        return;
    };
    assert!(other.plug(&m2));
    fs::create_dir_all(m2.join("Pictures")).unwrap();
    let statuses = l.lib.location_statuses(&[]).unwrap();
    match &statuses[0].availability {
        location::Availability::Offline(why) => {
            assert!(why.contains("a different volume"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    let h = l.lib.rescan(id).unwrap();
    assert_eq!(h.wait(), JobStatus::Failed);
    assert_eq!(
        dump(&l.lib),
        indexed,
        "nothing of the first drive's entries changed"
    );
    other.unplug();

    // A location owned by another device (a portable library opened on a second computer).
    assert!(drive.plug(&m2));
    l.lib
        .update_location_record(id, |loc| loc.device = uuid::Uuid::now_v7())
        .unwrap();
    let h = l.lib.rescan(id).unwrap();
    assert_eq!(h.wait(), JobStatus::Failed);
    let outcome = l.lib.jobs().get(h.id()).unwrap().outcome.unwrap();
    assert!(outcome.contains("another device"), "{outcome}");
    assert_eq!(dump(&l.lib), indexed);
}

/// A location's first index writes its entries while it walks. Killed after some of those
/// writes (more than one batch of 20,000 entries to go), it resumes to exactly the index a
/// clean run gives, consistent in every key and aggregate, whether the early batches survived
/// the kill or not.
#[test]
fn a_first_index_killed_during_its_early_writes_resumes_to_the_clean_index() {
    let f = Fixture::new();
    for d in 0..30 {
        for i in 0..1500 {
            f.file(&format!("d{d:02}/s{}/f{i:04}", i % 3), b"");
        }
    }
    first_index_killed_after_its_first_batch(&f, "shallow");
}

/// The same in Content mode, where the early writes hash each batch's files first and write
/// the entries with their content identities (copies among them, and empty files).
#[test]
fn a_first_content_index_killed_during_its_early_writes_resumes_to_the_clean_index() {
    let f = Fixture::new();
    for d in 0..30 {
        for i in 0..1500 {
            let body = if i % 7 == 0 {
                String::new()
            } else {
                format!("{}", (d * 1500 + i) % 20_000)
            };
            f.file(&format!("d{d:02}/s{}/f{i:04}", i % 3), body.as_bytes());
        }
    }
    first_index_killed_after_its_first_batch(&f, "content");
}

/// Starts `cmd` (a first index) held by its test seam once its first early batch is committed
/// (the marker file in `data`, which the caller removes to let it go on); returns it and
/// the marker when it is held there.
fn held_after_first_batch(
    cmd: &mut std::process::Command,
    data: &std::path::Path,
) -> (std::process::Child, std::path::PathBuf) {
    let marker = data.join("first-batch");
    let child = cmd
        .env("CAIRN_TEST_AFTER_FIRST_BATCH", &marker)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !marker.exists() {
        assert!(std::time::Instant::now() < deadline, "no early batch");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    (child, marker)
}

/// Kills a first index of `f` in `mode` after its first early batch is committed, resumes it,
/// and compares the index with a clean run's.
fn first_index_killed_after_its_first_batch(f: &Fixture, mode: &str) {
    let root = f.root();
    let data = tempfile::tempdir().unwrap();
    let (mut add, _) = held_after_first_batch(
        cairn(data.path())
            .args(["location", "add", "--mode", mode])
            .arg(&root)
            .stdout(Stdio::null()),
        data.path(),
    );
    add.kill().unwrap();
    add.wait().unwrap();
    ok(cairn(data.path()).args(["jobs", "resume", "--all"]));
    assert_index_is_a_clean_runs(data.path(), &root, mode);
}

/// A first index whose folder goes away while it writes: the entries it wrote stay (absence
/// is never deletion), the job says so instead of "nothing in the index was changed", and
/// the next scan, with the folder back, completes the index to exactly a clean run's.
#[test]
fn a_first_index_whose_folder_goes_away_keeps_what_it_wrote_and_says_so() {
    let f = Fixture::new();
    for d in 0..25 {
        for i in 0..1000 {
            f.file(&format!("d{d:02}/f{i:04}"), b"");
        }
    }
    let root = f.root();
    let away = root.with_file_name("away");
    let data = tempfile::tempdir().unwrap();
    let (add, marker) = held_after_first_batch(
        cairn(data.path())
            .args(["--json", "location", "add", "--mode", "shallow"])
            .arg(&root)
            .stdout(Stdio::piped()),
        data.path(),
    );
    fs::rename(&root, &away).unwrap();
    fs::remove_file(&marker).unwrap();
    let out = add.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let job: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("a job record")).unwrap();
    assert_eq!(job["status"], "failed", "{job}");
    let outcome = job["outcome"].as_str().unwrap_or_default();
    assert!(
        outcome.contains("what it found before is kept in the index"),
        "{job}"
    );
    assert!(
        ok(cairn(data.path()).args(["debug", "dump-index"]))
            .lines()
            .count()
            >= 2_500,
        "the first batch (2,500 entries) is still there"
    );
    fs::rename(&away, &root).unwrap();
    ok(cairn(data.path()).args(["location", "rescan", "1"]));
    assert_index_is_a_clean_runs(data.path(), &root, "shallow");
}

/// A first Content index hashes as it writes (its early writes); a rescan hashes in the
/// content phase. Both give the same index: the same cas_ids, types, content records and
/// instance counts, with a second location holding copies of the first's files.
#[test]
fn a_first_content_index_equals_a_shallow_index_identified_by_a_rescan() {
    let f = Fixture::new();
    for d in 0..6 {
        for i in 0..400 {
            let body = match i % 5 {
                0 => Vec::new(),
                1 => synthetic(150_000 + i, i),
                _ => format!("file {} of {d}", i % 97).into_bytes(),
            };
            f.file(&format!("a/d{d}/f{i:03}.txt"), &body);
            if i % 3 == 0 {
                f.file(&format!("b/copy{d}-{i:03}.md"), &body);
            }
        }
    }
    f.file("a/pic.png", b"\x89PNG\r\n\x1a\nnot much of a picture");
    let root = f.root();
    let first = tempfile::tempdir().unwrap();
    let later = tempfile::tempdir().unwrap();
    for loc in ["a", "b"] {
        ok(cairn(first.path())
            .args(["location", "add", "--mode", "content"])
            .arg(root.join(loc)));
        ok(cairn(later.path())
            .args(["location", "add", "--mode", "shallow"])
            .arg(root.join(loc)));
    }
    for id in ["1", "2"] {
        ok(cairn(later.path()).args(["location", "set", id, "--mode", "content"]));
        ok(cairn(later.path()).args(["location", "rescan", id]));
    }
    ok(cairn(first.path()).args(["debug", "check-index"]));
    let a = ok(cairn(first.path()).args(["debug", "dump-index"]));
    let b = ok(cairn(later.path()).args(["debug", "dump-index"]));
    assert!(
        a.lines()
            .any(|l| l.starts_with("content") && l.contains("png")),
        "types from the bytes are in the dump"
    );
    assert_eq!(a, b);
}
