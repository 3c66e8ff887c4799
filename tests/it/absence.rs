//! Absence is never deletion: a folder that cannot be listed, a listing that fails with an I/O
//! error, and a drive that goes away during a scan keep what the index knew, with the same
//! UUIDs (issue "Index model v4", section 1). Each test drives the real binary.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::json;

/// The files every test indexes, relative to the location root.
const FILES: &[&str] = &[
    "open/a.txt",
    "keep/b.txt",
    "keep/sub/c.txt",
    "keep/sub/deep/d.txt",
];
/// What is stored below `keep/`.
const BELOW_KEEP: &[&str] = &[
    "keep/b.txt",
    "keep/sub",
    "keep/sub/c.txt",
    "keep/sub/deep",
    "keep/sub/deep/d.txt",
];

/// A location root with [`FILES`] and a data folder, both usable by `nobody`.
struct Fixture {
    dir: tempfile::TempDir,
    data: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Fixture::with(dir, data)
    }

    /// The location root in a new folder under `parent`, the data folder at `data`.
    fn under(parent: &Path, data: PathBuf) -> Fixture {
        Fixture::with(tempfile::tempdir_in(parent).unwrap(), data)
    }

    fn with(dir: tempfile::TempDir, data: PathBuf) -> Fixture {
        let f = Fixture { dir, data };
        for rel in FILES {
            let p = f.root().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, rel.as_bytes()).unwrap();
        }
        fs::create_dir_all(f.data()).unwrap();
        // Everything open to `nobody` (the tests may run as root).
        let mut stack = vec![f.dir.path().to_owned()];
        while let Some(p) = stack.pop() {
            let m = fs::symlink_metadata(&p).unwrap();
            let mode = if m.is_dir() { 0o777 } else { 0o666 };
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
            if m.is_dir() {
                stack.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            }
        }
        f
    }

    fn root(&self) -> PathBuf {
        fs::canonicalize(self.dir.path()).unwrap().join("loc")
    }

    fn data(&self) -> PathBuf {
        self.data.clone()
    }
}

/// Runs the real `cairn` — as `nobody` when the tests run as root, since root reads a
/// `chmod 000` folder anyway.
struct Runner {
    exe: PathBuf,
    as_nobody: bool,
}

impl Runner {
    /// `None` (the test is skipped, and says so) when root cannot switch to `nobody` here.
    fn unprivileged(f: &Fixture) -> Option<Runner> {
        let exe = PathBuf::from(env!("CARGO_BIN_EXE_cairn"));
        let probe = f.dir.path().join("probe");
        fs::create_dir(&probe).unwrap();
        fs::set_permissions(&probe, fs::Permissions::from_mode(0o000)).unwrap();
        let as_root = fs::read_dir(&probe).is_ok();
        fs::remove_dir(&probe).unwrap();
        if !as_root {
            return Some(Runner {
                exe,
                as_nobody: false,
            });
        }
        if Command::new("runuser").arg("--help").output().is_err() {
            eprintln!("skipped: running as root without runuser");
            return None;
        }
        // A copy of the binary that nobody can reach (the build folder may be under /root).
        let copy = f.dir.path().join("cairn");
        fs::copy(&exe, &copy).unwrap();
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
        // Cairn keeps its catalogue only in a folder of the user running it.
        std::os::unix::fs::chown(f.data(), Some(65534), Some(65534)).unwrap();
        let r = Runner {
            exe: copy,
            as_nobody: true,
        };
        let out = r.cmd(f).arg("--version").output().unwrap();
        if !out.status.success() {
            eprintln!(
                "skipped: nobody cannot run the binary here: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Some(r)
    }

    /// As the current user.
    fn current() -> Runner {
        Runner {
            exe: PathBuf::from(env!("CARGO_BIN_EXE_cairn")),
            as_nobody: false,
        }
    }

    fn cmd(&self, f: &Fixture) -> Command {
        let mut c = if self.as_nobody {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--"]).arg(&self.exe);
            c
        } else {
            Command::new(&self.exe)
        };
        c.env("HOME", f.data())
            .env_remove("CAIRN_DATA_DIR")
            .arg("--data-dir")
            .arg(f.data());
        c
    }

    fn run(&self, f: &Fixture, args: &[&str], envs: &[(&str, &Path)]) -> String {
        let mut c = self.cmd(f);
        c.args(args);
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{c:?}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Indexes the fixture's root as location 1.
    fn index(&self, f: &Fixture) {
        let root = f.root();
        let job = self.last_job(&self.run(
            f,
            &[
                "--json",
                "location",
                "add",
                root.to_str().unwrap(),
                "--rules",
                "none",
            ],
            &[],
        ));
        assert_eq!(job["status"], "completed", "{job}");
    }

    /// Rescans location 1; returns the job record.
    fn rescan(&self, f: &Fixture, envs: &[(&str, &Path)]) -> serde_json::Value {
        self.last_job(&self.run(f, &["--json", "location", "rescan", "1"], envs))
    }

    /// Rescans only `rel` (relative to the root) of location 1; returns the job record.
    fn rescan_path(&self, f: &Fixture, rel: &str) -> serde_json::Value {
        let sub = f.root().join(rel);
        self.last_job(&self.run(
            f,
            &[
                "--json",
                "location",
                "rescan",
                "1",
                "--path",
                sub.to_str().unwrap(),
            ],
            &[],
        ))
    }

    fn last_job(&self, stdout: &str) -> serde_json::Value {
        json(stdout.lines().last().expect("a job record"))
    }

    /// The index as text (paths, kinds, sizes, times, content, folder totals).
    fn dump(&self, f: &Fixture) -> String {
        self.run(f, &["debug", "dump-index"], &[])
    }

    /// The entry UUID of each path (relative to the root), from `cairn stat`.
    fn uuids(&self, f: &Fixture, rels: &[&str]) -> Vec<String> {
        rels.iter()
            .map(|rel| {
                let p = f.root().join(rel);
                let v = json(&self.run(f, &["--json", "stat", p.to_str().unwrap()], &[]));
                assert_eq!(v["indexed"], true, "{rel}: {v}");
                v["entry"]["uuid"].as_str().unwrap().to_owned()
            })
            .collect()
    }
}

fn outcome(job: &serde_json::Value) -> &str {
    job["outcome"].as_str().unwrap_or_default()
}

/// Regression: `chmod 000` on an indexed folder and a rescan deleted every entry below it;
/// readable again, its files came back with new UUIDs.
#[test]
fn a_folder_that_cannot_be_read_keeps_everything_below_it() {
    let f = Fixture::new();
    let Some(r) = Runner::unprivileged(&f) else {
        return;
    };
    r.index(&f);
    let dump = r.dump(&f);
    let uuids = r.uuids(&f, BELOW_KEEP);

    let keep = f.root().join("keep");
    fs::set_permissions(&keep, fs::Permissions::from_mode(0o000)).unwrap();
    let job = r.rescan(&f, &[]);
    fs::set_permissions(&keep, fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["error_count"], 1, "{job}");
    assert!(
        outcome(&job).contains("0 deleted")
            && outcome(&job).contains("1 folder could not be read (5 entries below kept"),
        "{job}"
    );
    assert_eq!(r.dump(&f), dump, "the index is exactly what it was");
    assert_eq!(r.uuids(&f, BELOW_KEEP), uuids);
    // The folder and what is below it say so; the location counts it.
    let deep = f.root().join("keep/sub/c.txt");
    let v = json(&r.run(&f, &["--json", "stat", deep.to_str().unwrap()], &[]));
    assert!(v["unreadable_since_ms"].as_i64().is_some(), "{v}");
    let open = f.root().join("open/a.txt");
    let v = json(&r.run(&f, &["--json", "stat", open.to_str().unwrap()], &[]));
    assert!(v["unreadable_since_ms"].is_null(), "{v}");
    let locs = json(&r.run(&f, &["--json", "location", "list"], &[]));
    assert_eq!(locs[0]["unreadable_folders"], 1, "{locs}");
    assert_eq!(locs[0]["state"], "1 folder could not be read", "{locs}");

    // Readable again: nothing to do, same identities.
    let job = r.rescan(&f, &[]);
    assert!(
        outcome(&job).contains("0 new, 0 modified, 0 moved, 0 deleted"),
        "{job}"
    );
    assert!(!outcome(&job).contains("could not be read"), "{job}");
    assert_eq!(r.uuids(&f, BELOW_KEEP), uuids);
    let v = json(&r.run(&f, &["--json", "stat", deep.to_str().unwrap()], &[]));
    assert!(v["unreadable_since_ms"].is_null(), "listed again: {v}");
    let locs = json(&r.run(&f, &["--json", "location", "list"], &[]));
    assert_eq!(locs[0]["unreadable_folders"], 0, "{locs}");
}

/// An I/O error on one listing (planted through the walker's test seam) keeps that subtree;
/// on the location's root, it keeps everything.
#[test]
fn an_io_error_on_a_listing_keeps_that_subtree() {
    let f = Fixture::new();
    let r = Runner::current();
    r.index(&f);
    let dump = r.dump(&f);
    let uuids = r.uuids(&f, BELOW_KEEP);
    for (failing, kept) in [(f.root().join("keep/sub"), 3), (f.root(), 8)] {
        let job = r.rescan(&f, &[("CAIRN_TEST_EIO_DIRS", &failing)]);
        assert_eq!(job["status"], "completed", "{job}");
        assert!(
            outcome(&job).contains("0 deleted")
                && outcome(&job).contains(&format!(
                    "1 folder could not be read ({kept} entries below kept"
                )),
            "{failing:?}: {job}"
        );
        let err = &job["errors"][0];
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .contains("cannot list this folder")
                && err["path"].as_str().unwrap() == failing.to_str().unwrap(),
            "{err}"
        );
        assert_eq!(r.dump(&f), dump);
        assert_eq!(r.uuids(&f, BELOW_KEEP), uuids);
    }
    // The fault gone, the index is found complete and unchanged.
    let job = r.rescan(&f, &[]);
    assert!(
        outcome(&job).contains("0 new, 0 modified, 0 moved, 0 deleted"),
        "{job}"
    );
}

/// A drive unplugged during a scan (after the location was found online): the empty folder
/// left at the mount point must not be taken for an emptied location. Needs root (mounts a
/// tmpfs); skipped otherwise.
#[test]
fn a_drive_unplugged_during_a_scan_deletes_nothing() {
    let base = tempfile::tempdir().unwrap();
    let Some(drive) = crate::common::Tmpfs::mount(base.path(), "drive", "4m") else {
        return;
    };
    let f = Fixture::under(&drive.path, base.path().join("data"));
    let r = Runner::current();
    r.index(&f);
    let dump = r.dump(&f);
    let root = f.root();
    let marker = base.path().join("walk-now");
    let mut scan = r.cmd(&f);
    scan.args(["--json", "location", "rescan", "1"])
        .env("CAIRN_TEST_BEFORE_WALK", &marker)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = scan.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !marker.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the scan never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Unplug: the drive goes, and the location's path exists again, empty, on the file
    // system that holds the mount point.
    drive.unplug();
    fs::create_dir_all(&root).unwrap();
    fs::remove_file(&marker).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let job = json(stdout.lines().last().expect("a job record"));
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        outcome(&job).contains("nothing in the index was changed"),
        "{job}"
    );
    assert_eq!(r.dump(&f), dump, "nothing was deleted");
}

/// Regression (from review): a folder that can be listed but whose entries cannot be examined
/// (`chmod 744` — read without search — as a non-root user) gave every child made-up metadata:
/// files looked "modified" with zeros and lost their content identity, and all sub-folders but
/// one looked "already listed" and had their stored subtree deleted.
#[test]
fn entries_whose_metadata_cannot_be_read_are_kept_as_they_were() {
    let f = Fixture::new();
    let Some(r) = Runner::unprivileged(&f) else {
        return;
    };
    fs::create_dir_all(f.root().join("keep/other")).unwrap();
    fs::write(f.root().join("keep/other/e.txt"), b"e").unwrap();
    for p in [
        f.root().join("keep/other"),
        f.root().join("keep/other/e.txt"),
    ] {
        let mode = if p.is_dir() { 0o777 } else { 0o666 };
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    }
    r.index(&f);
    let dump = r.dump(&f);
    let keep = f.root().join("keep");
    fs::set_permissions(&keep, fs::Permissions::from_mode(0o744)).unwrap();
    let job = r.rescan(&f, &[]);
    fs::set_permissions(&keep, fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(job["status"], "completed", "{job}");
    assert!(
        outcome(&job).contains("0 modified") && outcome(&job).contains("0 deleted"),
        "{job}"
    );
    assert_eq!(r.dump(&f), dump, "the index is exactly what it was");
    let job = r.rescan(&f, &[]);
    assert!(
        outcome(&job).contains("0 new, 0 modified, 0 moved, 0 deleted"),
        "{job}"
    );
}

/// A scoped rescan (issue "Index model v4", section 3) of a folder that cannot be read keeps
/// everything below it, as a full rescan does; so does one of a folder inside it (which widens
/// to the unreadable folder above, since it cannot even be examined).
#[test]
fn a_scoped_rescan_of_a_folder_that_cannot_be_read_keeps_everything_below_it() {
    let f = Fixture::new();
    let Some(r) = Runner::unprivileged(&f) else {
        return;
    };
    r.index(&f);
    let dump = r.dump(&f);
    let uuids = r.uuids(&f, BELOW_KEEP);

    let keep = f.root().join("keep");
    fs::set_permissions(&keep, fs::Permissions::from_mode(0o000)).unwrap();
    let jobs = [r.rescan_path(&f, "keep"), r.rescan_path(&f, "keep/sub")];
    fs::set_permissions(&keep, fs::Permissions::from_mode(0o777)).unwrap();
    for job in &jobs {
        assert_eq!(job["status"], "completed", "{job}");
        assert!(
            outcome(job).contains("0 deleted")
                && outcome(job).contains("1 folder could not be read (5 entries below kept"),
            "{job}"
        );
    }
    assert!(
        outcome(&jobs[1]).contains("cannot be examined"),
        "{}",
        jobs[1]
    );
    assert_eq!(r.dump(&f), dump, "the index is exactly what it was");
    assert_eq!(r.uuids(&f, BELOW_KEEP), uuids);

    // Readable again: nothing to do, same identities, no folder marked.
    let job = r.rescan_path(&f, "keep");
    assert!(
        outcome(&job).contains("0 new, 0 modified, 0 moved, 0 deleted"),
        "{job}"
    );
    assert_eq!(r.uuids(&f, BELOW_KEEP), uuids);
    let locs = json(&r.run(&f, &["--json", "location", "list"], &[]));
    assert_eq!(locs[0]["unreadable_folders"], 0, "{locs}");
}

/// Tags, notes and collection places below a folder that cannot be read survive a rescan
/// (issue "Tags, notes…", point 4): searches by tag still find them, nothing is missing, and
/// they are all there once the folder is readable again.
#[test]
fn tags_below_a_folder_that_cannot_be_read_are_kept() {
    let f = Fixture::new();
    let Some(r) = Runner::unprivileged(&f) else {
        return;
    };
    r.index(&f);
    let deep = f.root().join("keep/sub/deep/d.txt");
    let deep = deep.to_str().unwrap();
    let sub = f.root().join("keep/sub");
    r.run(&f, &["tag", "create", "Keep"], &[]);
    r.run(&f, &["tag", "add", "Keep", deep], &[]);
    r.run(&f, &["tag", "add", "Keep", sub.to_str().unwrap()], &[]);
    r.run(&f, &["note", deep, "signed copy"], &[]);
    r.run(&f, &["collection", "create", "Papers"], &[]);
    r.run(&f, &["collection", "add", "Papers", deep], &[]);
    let tagged = |r: &Runner| {
        let v = json(&r.run(&f, &["--json", "search", "--tag", "Keep"], &[]));
        let mut hits: Vec<String> = v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["path"].as_str().unwrap().to_owned())
            .collect();
        hits.sort();
        hits
    };
    let before = tagged(&r);
    assert_eq!(before.len(), 2, "{before:?}");

    let keep = f.root().join("keep");
    fs::set_permissions(&keep, fs::Permissions::from_mode(0o000)).unwrap();
    let job = r.rescan(&f, &[]);
    let after = tagged(&r);
    let missing = r.run(&f, &["tag", "missing"], &[]);
    let note = r.run(&f, &["note", deep], &[]);
    fs::set_permissions(&keep, fs::Permissions::from_mode(0o777)).unwrap();
    assert!(outcome(&job).contains("0 deleted"), "{job}");
    assert_eq!(after, before, "found by tag while unreadable");
    assert!(missing.contains("Nothing missing"), "{missing}");
    assert!(note.contains("signed copy"), "{note}");
    // Readable again: all still there.
    r.rescan(&f, &[]);
    assert_eq!(tagged(&r), before);
    let items = r.run(&f, &["collection", "show", "Papers"], &[]);
    assert!(items.contains("d.txt"), "{items}");
}

/// A location's first Content index hashes its files as it writes them (before its content
/// phase). A file it cannot read there is written without a content identity, reported once
/// by name ("cannot identify its content"), and hashed again by the next scan once readable;
/// every other file is identified, and the index stays consistent.
#[test]
fn a_file_a_first_content_index_cannot_read_is_reported_and_identified_later() {
    let f = Fixture::new();
    let Some(r) = Runner::unprivileged(&f) else {
        return;
    };
    let locked = f.root().join("keep/sub/c.txt");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let root = f.root();
    let job = r.last_job(&r.run(
        &f,
        &[
            "--json",
            "location",
            "add",
            root.to_str().unwrap(),
            "--mode",
            "content",
            "--rules",
            "none",
        ],
        &[],
    ));
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["error_count"], 1, "{job}");
    let err = &job["errors"][0];
    assert!(
        err["path"].as_str().unwrap().ends_with("keep/sub/c.txt"),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("cannot identify its content"),
        "{err}"
    );
    assert!(outcome(&job).contains("3 identified"), "{job}");
    let cas = |rel: &str| {
        let p = f.root().join(rel);
        let v = json(&r.run(&f, &["--json", "stat", p.to_str().unwrap()], &[]));
        v["content"]["cas_id"].as_str().map(str::to_owned)
    };
    assert_eq!(cas("keep/sub/c.txt"), None);
    assert!(cas("keep/sub/deep/d.txt").is_some());
    r.run(&f, &["debug", "check-index"], &[]);
    let job = r.rescan(&f, &[]);
    assert_eq!(job["status"], "completed", "{job}");
    assert!(outcome(&job).contains("1 identified"), "{job}");
    assert!(cas("keep/sub/c.txt").is_some());
    r.run(&f, &["debug", "check-index"], &[]);
}
