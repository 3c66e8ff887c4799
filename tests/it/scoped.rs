//! Scoped rescans (issue "Index model v4", section 3): `Library::rescan_path` and `cairn
//! location rescan LOC --path SUB` walk one folder of a location and leave the index exactly
//! as a full rescan would (entries, folder totals of the folder and of every folder above it,
//! the location's totals), keep what they cannot read, widen to a folder above when theirs is
//! not indexed or gone, apply the location's rules as from its root, and identify content
//! only below their folder.

use std::fs;
use std::path::{Path, PathBuf};

use cairn::vdfs::fs::rules::Rules;
use cairn::vdfs::index::EntryRecord;
use cairn::vdfs::index::location::IndexMode;
use cairn::vdfs::jobs::JobStatus;
use cairn::vdfs::{Core, CoreError, CoreOptions, Library};

use crate::common::{cairn, fails, json, library, ok};

/// A tree in a temp folder; `root()` is canonical.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        let t = Tree {
            dir: tempfile::tempdir().unwrap(),
        };
        fs::create_dir_all(t.root()).unwrap();
        t
    }

    fn root(&self) -> PathBuf {
        fs::canonicalize(self.dir.path()).unwrap().join("root")
    }

    fn at(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn file(&self, rel: &str, content: &[u8]) -> &Tree {
        let p = self.at(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
        self
    }

    fn dir(&self, rel: &str) -> &Tree {
        fs::create_dir_all(self.at(rel)).unwrap();
        self
    }

    /// The tree every test starts from: `photos/2024` is the scope, with neighbours beside
    /// and above it.
    fn standard() -> Tree {
        let t = Tree::new();
        t.file("top.txt", b"top")
            .file("docs/a.txt", b"aaaa")
            .file("docs/deep/b.txt", b"bbbbbbbb")
            .file("photos/cover.jpg", b"cover")
            .file("photos/2023/old.jpg", b"old")
            .file("photos/2024/keep.jpg", b"keep")
            .file("photos/2024/edit.txt", b"before")
            .file("photos/2024/gone.txt", b"gone")
            .file("photos/2024/rename-me.txt", b"rename")
            .file("photos/2024/move-me.txt", b"move")
            .file("photos/2024/trip/day1.jpg", b"day one")
            .file("photos/2024/trip/day2.jpg", b"day two")
            .file("photos/2024/drop/x.bin", b"xxxxxxxxxx")
            .file("photos/2024/drop/y/z.bin", b"zz")
            .dir("photos/2024/empty");
        std::os::unix::fs::symlink("keep.jpg", t.at("photos/2024/link.jpg")).unwrap();
        t
    }
}

fn index(lib: &Library, root: &Path, mode: IndexMode, rules: Rules) -> u32 {
    let (rec, h) = lib.add_location(root, mode, rules).unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    rec.id
}

/// Runs a scoped rescan to its end; returns its summary.
fn rescan_path(lib: &Library, id: u32, path: &Path) -> String {
    let h = lib.rescan_path(id, path).unwrap();
    let status = h.wait();
    let j = lib.jobs().get(h.id()).unwrap();
    assert_eq!(status, JobStatus::Completed, "{:?}", j.outcome);
    j.outcome.unwrap()
}

fn entry_at(lib: &Library, path: &Path) -> Option<(u64, EntryRecord)> {
    lib.entry_at(path).unwrap().map(|e| (e.id, e.record))
}

/// The location's files, folders, links and bytes.
fn totals(lib: &Library, id: u32) -> (u64, u64, u64, u64) {
    let s = lib.location(id).unwrap().stats;
    (s.files, s.dirs, s.symlinks, s.bytes)
}

/// Asserts that `lib`'s index is sound and equals a clean full index of `root` (made in a new
/// library with the same mode and rules), location totals included.
fn assert_same_as_clean(lib: &Library, id: u32, root: &Path, mode: IndexMode, rules: Rules) {
    assert_eq!(lib.check_index().unwrap(), Vec::<String>::new());
    let clean = library();
    let cid = index(&clean.lib, root, mode, rules);
    let (mine, theirs) = (lib.dump_index().unwrap(), clean.lib.dump_index().unwrap());
    assert_eq!(mine.len(), theirs.len(), "{mine:#?}\n{theirs:#?}");
    assert_eq!(mine, theirs);
    assert_eq!(totals(lib, id), totals(&clean.lib, cid));
}

#[test]
fn a_scoped_rescan_leaves_the_index_a_full_rescan_would() {
    let t = Tree::standard();
    let l = library();
    let lib = &l.lib;
    let id = index(lib, &t.root(), IndexMode::Content, Rules::none());
    let uuid = |rel: &str| entry_at(lib, &t.at(rel)).unwrap().1.uuid;
    let before: Vec<_> = [
        "photos/2024/edit.txt",
        "photos/2024/rename-me.txt",
        "photos/2024/move-me.txt",
        "photos/2024/trip",
        "photos/2024/trip/day1.jpg",
    ]
    .iter()
    .map(|r| uuid(r))
    .collect();
    let indexed_ms = lib.location(id).unwrap().indexed_ms;

    // Add, modify, delete and rename files and folders inside photos/2024.
    std::thread::sleep(std::time::Duration::from_millis(20));
    t.file("photos/2024/edit.txt", b"after, and longer")
        .file("photos/2024/new.txt", b"brand new")
        .file("photos/2024/new-folder/n1.txt", b"n1")
        .file("photos/2024/new-folder/sub/n2.txt", b"n2n2");
    fs::remove_file(t.at("photos/2024/gone.txt")).unwrap();
    fs::remove_dir_all(t.at("photos/2024/drop")).unwrap();
    fs::rename(
        t.at("photos/2024/rename-me.txt"),
        t.at("photos/2024/renamed.txt"),
    )
    .unwrap();
    fs::rename(t.at("photos/2024/trip"), t.at("photos/2024/holiday")).unwrap();
    fs::rename(
        t.at("photos/2024/move-me.txt"),
        t.at("photos/2024/new-folder/moved.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink("new.txt", t.at("photos/2024/new-link")).unwrap();

    let summary = rescan_path(lib, id, &t.at("photos/2024"));
    assert!(
        summary.contains("only photos/2024 was rescanned"),
        "{summary}"
    );
    assert!(
        summary.contains("3 moved") && summary.contains("5 deleted"),
        "{summary}"
    );
    // Identities kept through the edit, the renames and the move.
    let after: Vec<_> = [
        "photos/2024/edit.txt",
        "photos/2024/renamed.txt",
        "photos/2024/new-folder/moved.txt",
        "photos/2024/holiday",
        "photos/2024/holiday/day1.jpg",
    ]
    .iter()
    .map(|r| uuid(r))
    .collect();
    assert_eq!(before, after);
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Content, Rules::none());
    assert_eq!(
        lib.location(id).unwrap().indexed_ms,
        indexed_ms,
        "the last full scan's time stays"
    );

    // Nothing outside the scope is looked at: a file added beside it stays unknown.
    t.file("photos/2023/unseen.jpg", b"unseen")
        .file("photos/2024/seen.jpg", b"seen");
    rescan_path(lib, id, &t.at("photos/2024"));
    assert!(entry_at(lib, &t.at("photos/2024/seen.jpg")).is_some());
    assert!(entry_at(lib, &t.at("photos/2023/unseen.jpg")).is_none());
    assert_eq!(lib.check_index().unwrap(), Vec::<String>::new());
    // The root is a full rescan.
    let summary = rescan_path(lib, id, &t.root());
    assert!(!summary.contains("only"), "{summary}");
    assert!(entry_at(lib, &t.at("photos/2023/unseen.jpg")).is_some());
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Content, Rules::none());
}

#[test]
fn a_scoped_rescan_with_nothing_changed_writes_nothing() {
    let t = Tree::standard();
    let l = library();
    let id = index(&l.lib, &t.root(), IndexMode::Content, Rules::none());
    let dump = l.lib.dump_index().unwrap();
    let summary = rescan_path(&l.lib, id, &t.at("photos/2024/trip"));
    assert!(
        summary.contains("0 new, 0 modified, 0 moved, 0 deleted, 0 identified"),
        "{summary}"
    );
    assert_eq!(l.lib.dump_index().unwrap(), dump);
}

#[test]
fn rules_written_from_the_location_root_apply_inside_the_scope() {
    let t = Tree::standard();
    t.file("photos/2024/raw/r1.cr2", b"raw one")
        .file("photos/2023/raw/r0.cr2", b"raw zero")
        .file("photos/2024/trip/notes.tmp", b"tmp");
    let rules = Rules {
        exclude_globs: vec!["photos/*/raw".into(), "*.tmp".into()],
        ..Rules::none()
    };
    let l = library();
    let lib = &l.lib;
    let id = index(lib, &t.root(), IndexMode::Shallow, rules.clone());
    assert!(entry_at(lib, &t.at("photos/2024/raw")).is_none());

    t.file("photos/2024/raw/r2.cr2", b"raw two")
        .file("photos/2024/trip/more.tmp", b"tmp")
        .file("photos/2024/trip/day3.jpg", b"day three");
    rescan_path(lib, id, &t.at("photos/2024"));
    assert!(entry_at(lib, &t.at("photos/2024/trip/day3.jpg")).is_some());
    assert!(entry_at(lib, &t.at("photos/2024/raw")).is_none());
    assert!(entry_at(lib, &t.at("photos/2024/trip/more.tmp")).is_none());
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Shallow, rules.clone());

    // A scope the rules leave out is not indexed: the run widens to the folder above it.
    let summary = rescan_path(lib, id, &t.at("photos/2024/raw"));
    assert!(
        summary.contains("so ") && summary.contains("photos/2024 was rescanned"),
        "{summary}"
    );
    assert!(entry_at(lib, &t.at("photos/2024/raw")).is_none());

    // Rules changed since the last scan leave out an indexed folder: a scoped rescan of it
    // removes it as a full rescan would (from a listing of its parent).
    let mut stricter = rules;
    stricter.exclude_globs.push("photos/2024/trip".into());
    lib.set_location(id, None, Some(stricter.clone())).unwrap();
    let summary = rescan_path(lib, id, &t.at("photos/2024/trip"));
    assert!(
        summary.contains("left out by the location's rules"),
        "{summary}"
    );
    assert!(entry_at(lib, &t.at("photos/2024/trip")).is_none());
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Shallow, stricter);
}

#[test]
fn gitignore_files_above_the_scope_apply_inside_it() {
    let t = Tree::standard();
    t.dir("code/.git")
        .file("code/.gitignore", b"*.log\nbuild/\n")
        .file("code/src/main.rs", b"fn main() {}")
        .file("code/src/build/out.o", b"o");
    let rules = Rules {
        respect_gitignore: true,
        ..Rules::default()
    };
    let l = library();
    let lib = &l.lib;
    let id = index(lib, &t.root(), IndexMode::Shallow, rules.clone());
    t.file("code/src/debug.log", b"log")
        .file("code/src/lib.rs", b"")
        .file("code/src/build/more.o", b"o");
    rescan_path(lib, id, &t.at("code/src"));
    assert!(entry_at(lib, &t.at("code/src/lib.rs")).is_some());
    assert!(entry_at(lib, &t.at("code/src/debug.log")).is_none());
    assert!(entry_at(lib, &t.at("code/src/build")).is_none());
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Shallow, rules);
}

#[test]
fn a_scope_not_indexed_yet_or_gone_widens_to_the_nearest_indexed_folder() {
    let t = Tree::standard();
    let l = library();
    let lib = &l.lib;
    let id = index(lib, &t.root(), IndexMode::Content, Rules::none());

    // A new folder: scanned from the nearest indexed folder above it.
    t.file("photos/2024/new/deeper/f.txt", b"f")
        .file("photos/2024/new/g.txt", b"g");
    let summary = rescan_path(lib, id, &t.at("photos/2024/new/deeper"));
    assert!(
        summary.contains("is not indexed yet") && summary.contains("photos/2024 was rescanned"),
        "{summary}"
    );
    assert!(entry_at(lib, &t.at("photos/2024/new/g.txt")).is_some());
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Content, Rules::none());

    // A folder deleted from disk: its parent's listing finds it gone.
    fs::remove_dir_all(t.at("photos/2024/trip")).unwrap();
    let summary = rescan_path(lib, id, &t.at("photos/2024/trip"));
    assert!(
        summary.contains("trip is gone") && summary.contains("3 deleted"),
        "{summary}"
    );
    assert!(entry_at(lib, &t.at("photos/2024/trip/day1.jpg")).is_none());
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Content, Rules::none());

    // A folder turned into a file.
    fs::remove_dir_all(t.at("photos/2024/drop")).unwrap();
    t.file("photos/2024/drop", b"now a file");
    let summary = rescan_path(lib, id, &t.at("photos/2024/drop"));
    assert!(summary.contains("is no longer a folder"), "{summary}");
    assert!(entry_at(lib, &t.at("photos/2024/drop")).is_some_and(|(_, r)| r.size == 10));
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Content, Rules::none());

    // A whole chain gone: up to the root, which is then a full rescan.
    fs::remove_dir_all(t.at("photos")).unwrap();
    let summary = rescan_path(lib, id, &t.at("photos/2024/empty"));
    assert!(
        summary.contains("the whole location was rescanned") && !summary.contains("only"),
        "{summary}"
    );
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Content, Rules::none());
}

/// What a scoped rescan cannot see is documented: a move out of its folder looks like a
/// deletion, and a full rescan finds the file at its new place.
#[test]
fn a_move_out_of_the_scope_is_a_deletion_until_a_full_rescan() {
    let t = Tree::standard();
    let l = library();
    let lib = &l.lib;
    let id = index(lib, &t.root(), IndexMode::Content, Rules::none());
    fs::rename(t.at("photos/2024/keep.jpg"), t.at("docs/keep.jpg")).unwrap();
    fs::remove_file(t.at("photos/2024/link.jpg")).unwrap();
    let summary = rescan_path(lib, id, &t.at("photos/2024"));
    assert!(summary.contains("2 deleted"), "{summary}");
    assert!(entry_at(lib, &t.at("docs/keep.jpg")).is_none());
    assert_eq!(lib.check_index().unwrap(), Vec::<String>::new());
    lib.rescan(id).unwrap().wait();
    assert!(entry_at(lib, &t.at("docs/keep.jpg")).is_some());
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Content, Rules::none());
}

#[test]
fn content_is_identified_only_below_the_scope() {
    let t = Tree::standard();
    let l = library();
    let lib = &l.lib;
    let id = index(lib, &t.root(), IndexMode::Shallow, Rules::none());
    lib.set_location(id, Some(IndexMode::Content), None)
        .unwrap();
    let summary = rescan_path(lib, id, &t.at("photos/2024/trip"));
    assert!(summary.contains("2 identified"), "{summary}");
    let cas = |rel: &str| entry_at(lib, &t.at(rel)).unwrap().1.cas;
    assert!(cas("photos/2024/trip/day1.jpg").is_some());
    assert!(cas("photos/2024/keep.jpg").is_none());
    assert!(cas("docs/a.txt").is_none());
    lib.rescan(id).unwrap().wait();
    assert!(cas("docs/a.txt").is_some());
    assert_same_as_clean(lib, id, &t.root(), IndexMode::Content, Rules::none());
}

#[test]
fn a_path_outside_the_location_is_refused_by_name() {
    let t = Tree::standard();
    let l = library();
    let id = index(&l.lib, &t.root(), IndexMode::Shallow, Rules::none());
    let outside = t.dir.path().join("elsewhere");
    fs::create_dir_all(&outside).unwrap();
    for p in [outside.clone(), t.at("photos/../..")] {
        let err = l.lib.rescan_path(id, &p).unwrap_err();
        assert!(matches!(err, CoreError::NotInLocation { .. }), "{err}");
        assert!(err.to_string().contains("is not inside location"), "{err}");
    }
    let err = l.lib.rescan_path(id, &outside).unwrap_err().to_string();
    assert!(
        err.contains(outside.file_name().unwrap().to_str().unwrap()),
        "{err}"
    );
    // A link inside the location is not followed out of it: its folder is rescanned.
    std::os::unix::fs::symlink(&outside, t.at("docs/out")).unwrap();
    let summary = rescan_path(&l.lib, id, &t.at("docs/out"));
    assert!(summary.contains("only docs was rescanned"), "{summary}");
    assert!(
        entry_at(&l.lib, &t.at("docs/out"))
            .is_some_and(|(_, r)| r.kind == cairn::vdfs::fs::entry::EntryKind::Symlink)
    );
}

/// The CLI: `--path` relative to the current folder, JSON as for a full rescan, a clear error
/// outside the location, and the option in `--help`.
#[test]
fn the_cli_rescans_a_folder() {
    let t = Tree::standard();
    let data = tempfile::tempdir().unwrap();
    ok(cairn(data.path())
        .args(["location", "add", "--mode", "shallow", "--rules", "none"])
        .arg(t.root()));
    t.file("photos/2024/cli.txt", b"cli");
    let out = ok(cairn(data.path())
        .current_dir(t.at("photos"))
        .args(["--json", "location", "rescan", "1", "--path", "2024"]));
    let job = json(out.lines().last().unwrap());
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["kind"], "indexer", "{job}");
    let outcome = job["outcome"].as_str().unwrap();
    assert!(
        outcome.contains("1 new") && outcome.contains("only photos/2024 was rescanned"),
        "{job}"
    );
    assert!(
        job["title"].as_str().unwrap().ends_with("root/photos/2024"),
        "{job}"
    );
    let dump = ok(cairn(data.path()).args(["debug", "dump-index"]));
    assert!(dump.contains("photos/2024/cli.txt"), "{dump}");

    let err = fails(
        cairn(data.path())
            .args(["location", "rescan", "1", "--path"])
            .arg(t.dir.path()),
    );
    assert!(
        err.contains("is not inside location 1")
            && err.contains(
                &t.dir
                    .path()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            ),
        "{err}"
    );
    let help = ok(cairn(data.path()).args(["location", "rescan", "--help"]));
    assert!(help.contains("--path <SUB>"), "{help}");
}

/// An I/O error listing the scope (through the walker's test seam) deletes nothing: the index
/// is exactly what it was and the folder is marked unreadable; an error on a folder below it
/// keeps that folder's subtree while the rest of the scope is brought up to date.
#[test]
fn an_unreadable_scope_deletes_nothing() {
    let t = Tree::standard();
    let data = tempfile::tempdir().unwrap();
    ok(cairn(data.path())
        .args(["location", "add", "--mode", "content", "--rules", "none"])
        .arg(t.root()));
    let dump = ok(cairn(data.path()).args(["debug", "dump-index"]));
    let rescan = |failing: Option<&Path>| {
        let mut c = cairn(data.path());
        if let Some(f) = failing {
            c.env("CAIRN_TEST_EIO_DIRS", f);
        }
        c.args(["--json", "location", "rescan", "1", "--path"])
            .arg(t.at("photos/2024"));
        let job = json(ok(&mut c).lines().last().unwrap());
        assert_eq!(job["status"], "completed", "{job}");
        job["outcome"].as_str().unwrap().to_owned()
    };
    // Changes a successful listing would see (none of them changes photos/2024 itself,
    // whose own metadata comes from its parent's listing and is updated as a full scan would).
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::remove_file(t.at("photos/2024/trip/day1.jpg")).unwrap();
    t.file("photos/2024/keep.jpg", b"rewritten");

    let outcome = rescan(Some(&t.at("photos/2024")));
    assert!(
        outcome.contains("0 new, 0 modified, 0 moved, 0 deleted")
            && outcome.contains("1 folder could not be read (14 entries below kept"),
        "{outcome}"
    );
    let now = ok(cairn(data.path()).args(["debug", "dump-index"]));
    assert_eq!(now, dump, "the index is exactly what it was");
    let v = json(&ok(cairn(data.path())
        .args(["--json", "stat"])
        .arg(t.at("photos/2024/edit.txt"))));
    assert!(v["unreadable_since_ms"].as_i64().is_some(), "{v}");

    // keep.jpg and trip (its own time) modified; what trip held is kept.
    let outcome = rescan(Some(&t.at("photos/2024/trip")));
    assert!(
        outcome.contains("2 modified, 0 moved, 0 deleted")
            && outcome.contains("1 folder could not be read (2 entries below kept"),
        "{outcome}"
    );
    let now = ok(cairn(data.path()).args(["debug", "dump-index"]));
    assert!(now.contains("trip/day1.jpg"), "{now}");

    // Readable again: the rest is found, the marks are cleared, and the index is sound.
    let outcome = rescan(None);
    assert!(outcome.contains("1 deleted"), "{outcome}");
    assert!(!outcome.contains("could not be read"), "{outcome}");
    let core = Core::start(CoreOptions::at(data.path())).unwrap();
    let lib = core.open_library(None).unwrap();
    assert_eq!(lib.unreadable_folders(1).unwrap(), 0);
    assert_same_as_clean(&lib, 1, &t.root(), IndexMode::Content, Rules::none());
}

/// A scoped rescan killed mid-way (`kill -9`) resumes with its scope and ends with the index a
/// clean full index gives: the difference added to the folders above is written once.
#[test]
fn a_killed_scoped_rescan_resumes_to_the_same_index_as_a_clean_run() {
    use std::io::{BufRead, BufReader};
    let t = Tree::standard();
    for i in 0..50 {
        t.file(&format!("docs/many/f{i}.txt"), b"other");
    }
    let data = tempfile::tempdir().unwrap();
    ok(cairn(data.path())
        .args(["location", "add", "--mode", "shallow", "--rules", "none"])
        .arg(t.root()));
    // More new entries than one write batch (20 000), so the run checkpoints several times.
    for d in 0..80 {
        let dir = t.at(&format!("photos/2024/bulk/d{d:02}"));
        fs::create_dir_all(&dir).unwrap();
        for i in 0..500 {
            fs::write(dir.join(format!("f{i:03}")), b"x").unwrap();
        }
    }
    fs::remove_dir_all(t.at("photos/2024/drop")).unwrap();
    let mut child = cairn(data.path())
        .args(["--json", "location", "rescan", "1", "--path"])
        .arg(t.at("photos/2024"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut hit = false;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line.unwrap()) else {
            continue;
        };
        // Any point after the walk: processing, aggregation or the folders above.
        if v["event"] == "job_progress" && v["progress"]["phase"] != "discovery" {
            hit = true;
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(hit, "the job ended before the kill point");
    let list = ok(cairn(data.path()).args(["--json", "jobs", "list"]));
    assert!(list.contains("interrupted"), "{list}");
    ok(cairn(data.path()).args(["jobs", "resume", "--all"]));
    let core = Core::start(CoreOptions::at(data.path())).unwrap();
    let lib = core.open_library(None).unwrap();
    let last = lib.jobs().list().unwrap().pop().unwrap();
    assert!(
        last.outcome
            .as_deref()
            .is_some_and(|o| o.contains("only photos/2024 was rescanned")),
        "{last:?}"
    );
    assert_same_as_clean(&lib, 1, &t.root(), IndexMode::Shallow, Rules::none());
}
