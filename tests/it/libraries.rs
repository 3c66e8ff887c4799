//! Libraries: create, reopen, lock, sanitise, copy, rename, delete.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use cairn::vdfs::home::libraries::{LOCK_FILE, STORE_FILE};
use cairn::{Core, CoreError, CoreOptions};

use crate::common::{cairn, fails, json, ok};

#[test]
fn create_then_reopen_gives_same_id_name_and_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let (id, settings) = {
        let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
        let s = core.create_library("Work: 2026", "projects").unwrap();
        let lib = core.open_library(Some("work: 2026")).unwrap();
        let mut settings = lib.config().settings;
        settings.job_concurrency = 5;
        settings.log_level = "debug".into();
        lib.set_settings(settings.clone()).unwrap();
        (s.config.id, settings)
    };
    let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
    let lib = core.open_library(Some(&id.to_string())).unwrap();
    let c = lib.config();
    assert_eq!(c.id, id);
    assert_eq!(c.name, "Work: 2026");
    assert_eq!(c.description, "projects");
    assert_eq!(c.settings, settings);
}

#[test]
fn fresh_data_dir_gets_exactly_one_my_library() {
    let tmp = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        let v = json(&ok(cairn(tmp.path()).args(["--json", "library", "list"])));
        let libs = v["libraries"].as_array().unwrap();
        assert_eq!(libs.len(), 1, "{v}");
        assert_eq!(libs[0]["name"], "My Library");
        assert_eq!(libs[0]["is_default"], true);
    }
    let dirs: Vec<_> = std::fs::read_dir(tmp.path().join("libraries"))
        .unwrap()
        .collect();
    assert_eq!(dirs.len(), 1);
}

#[test]
fn names_are_sanitised_for_the_folder_and_kept_for_display() {
    let tmp = tempfile::tempdir().unwrap();
    let v = json(&ok(cairn(tmp.path()).args([
        "--json",
        "library",
        "create",
        "a/b: c*?<x>|\"y\"",
    ])));
    assert_eq!(v["name"], "a/b: c*?<x>|\"y\"");
    let path = std::path::PathBuf::from(v["path"].as_str().unwrap());
    assert_eq!(path.file_name().unwrap(), "a_b_ c___x___y_.cairnlib");
    assert!(path.join("library.toml").is_file());
    // Same display name again is refused; the folder name is never reused.
    let err = fails(cairn(tmp.path()).args(["library", "create", "A/B: C*?<X>|\"Y\""]));
    assert!(err.contains("already exists"), "{err}");
    // A different name that sanitises to the same folder gets its own folder.
    let v2 = json(&ok(cairn(tmp.path()).args([
        "--json",
        "library",
        "create",
        "a:b: c*?<x>|\"y\"",
    ])));
    assert_ne!(v2["path"], v["path"]);
    let err = fails(cairn(tmp.path()).args(["library", "create", "  "]));
    assert!(err.contains("invalid name"), "{err}");
}

#[test]
fn second_open_from_another_process_is_refused_naming_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = cairn(tmp.path())
        .args([
            "--json",
            "debug",
            "diagnostic-job",
            "--batches",
            "2000",
            "--batch-ms",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the child has the library open and is working.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    lines.next().unwrap().unwrap();
    let err = fails(cairn(tmp.path()).args(["jobs", "list"]));
    assert!(
        err.contains(&format!("in use by pid {}", child.id())),
        "{err}"
    );
    assert!(err.contains("(cairn)"), "{err}");

    // In-process too, through the Core API.
    let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
    match core.open_library(None) {
        Err(CoreError::LibraryInUse { holder, .. }) => {
            assert!(holder.contains(&child.id().to_string()), "{holder}")
        }
        other => panic!("expected LibraryInUse, got {:?}", other.map(|l| l.id())),
    }
    let v = json(&ok(cairn(tmp.path()).args(["--json", "library", "list"])));
    let holder = v["libraries"][0]["in_use_by"].as_str().unwrap().to_owned();
    assert!(holder.contains(&child.id().to_string()), "{holder}");

    // kill -9: the lock is stale and the next opener takes it over.
    child.kill().unwrap();
    child.wait().unwrap();
    ok(cairn(tmp.path()).args(["jobs", "list"]));
    core.open_library(None).unwrap();
}

#[test]
fn stale_lock_text_of_a_dead_process_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
    let (path, _) = core.default_library().unwrap();
    std::fs::write(
        path.join(LOCK_FILE),
        "pid=999999\nhost=elsewhere\nsince=2020-01-01T00:00:00Z\n",
    )
    .unwrap();
    let lib = core.open_library(None).unwrap();
    let text = std::fs::read_to_string(lib.path().join(LOCK_FILE)).unwrap();
    assert!(
        text.contains(&format!("pid={}", std::process::id())),
        "{text}"
    );
}

#[test]
fn a_copied_closed_library_opens_as_the_same_library() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ok(cairn(&data).args([
        "debug",
        "diagnostic-job",
        "--batches",
        "3",
        "--batch-ms",
        "1",
    ]));
    let core = Core::start(CoreOptions::at(&data)).unwrap();
    let (src, config) = core.default_library().unwrap();
    let dst = tmp.path().join("elsewhere").join("Copy.cairnlib");
    copy_dir(&src, &dst);
    let lib = core.open_library_at(&dst).unwrap();
    assert_eq!(lib.config(), config);
    let jobs = lib.jobs().list().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].title, "Diagnostic: 3 batches");
    assert_eq!(lib.diagnostic_batch_counts(1).unwrap().len(), 3);
}

fn copy_dir(src: &std::path::Path, dst: &std::path::Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

#[test]
fn a_future_schema_version_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
    let (path, _) = core.default_library().unwrap();
    cairn::store::stamp_schema_version(&path.join(STORE_FILE), cairn::store::SCHEMA_VERSION + 7)
        .unwrap();
    let err = fails(cairn(tmp.path()).args(["jobs", "list"]));
    assert!(
        err.contains(&format!(
            "schema version {}",
            cairn::store::SCHEMA_VERSION + 7
        )),
        "{err}"
    );
    assert!(err.contains("newer Cairn"), "{err}");
    assert!(matches!(core.open_library(None), Err(CoreError::Store(_))));
}

#[test]
fn rename_changes_display_name_and_folder_and_keeps_id() {
    let tmp = tempfile::tempdir().unwrap();
    let before = json(&ok(cairn(tmp.path()).args(["--json", "library", "info"])));
    let after = json(&ok(cairn(tmp.path()).args([
        "--json",
        "library",
        "rename",
        "My Library",
        "Home: archive",
    ])));
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["name"], "Home: archive");
    assert!(
        after["path"]
            .as_str()
            .unwrap()
            .ends_with("Home_ archive.cairnlib")
    );
    assert!(!std::path::Path::new(before["path"].as_str().unwrap()).exists());
    // Still the default, still openable by its new name.
    let info = json(&ok(cairn(tmp.path()).args([
        "--json",
        "--library",
        "home: ARCHIVE",
        "library",
        "info",
    ])));
    assert_eq!(info["id"], before["id"]);
    assert_eq!(info["is_default"], true);
}

#[test]
fn rename_of_the_open_library_reopens_it() {
    let tmp = tempfile::tempdir().unwrap();
    let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
    let id = core.open_library(None).unwrap().id();
    core.rename_library("My Library", "Renamed").unwrap();
    let lib = core.library().unwrap();
    assert_eq!(lib.id(), id);
    assert_eq!(lib.config().name, "Renamed");
    assert!(lib.path().ends_with("Renamed.cairnlib"));
}

#[test]
fn delete_needs_confirmation_and_keeps_foreign_files() {
    let tmp = tempfile::tempdir().unwrap();
    ok(cairn(tmp.path()).args(["library", "create", "Scratch"]));
    // Not a terminal and no --yes: refused.
    let err = fails(
        cairn(tmp.path())
            .args(["library", "delete", "Scratch"])
            .stdin(Stdio::null()),
    );
    assert!(err.contains("--yes"), "{err}");
    let dir = tmp.path().join("libraries/Scratch.cairnlib");
    assert!(dir.is_dir());
    // A file Cairn did not create blocks the delete, and nothing is removed.
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let err = fails(cairn(tmp.path()).args(["library", "delete", "Scratch", "--yes"]));
    assert!(err.contains("notes.txt"), "{err}");
    assert!(dir.join("library.redb").is_file() && dir.join("notes.txt").is_file());
    std::fs::remove_file(dir.join("notes.txt")).unwrap();
    // A user's file that merely looks like a temporary file is not Cairn's either.
    std::fs::write(dir.join(".notes.tmp-draft"), "mine").unwrap();
    let err = fails(cairn(tmp.path()).args(["library", "delete", "Scratch", "--yes"]));
    assert!(err.contains(".notes.tmp-draft"), "{err}");
    std::fs::remove_file(dir.join(".notes.tmp-draft")).unwrap();
    // Regression: files below the top level were not checked; a user's file in sidecars/ was
    // deleted with the library. Now it blocks the delete too, named by its path.
    std::fs::create_dir_all(dir.join("sidecars/thumbs/ab")).unwrap();
    std::fs::write(dir.join("sidecars/my plan.txt"), "mine").unwrap();
    std::fs::write(
        dir.join("sidecars/thumbs/ab/3f2a1b9c-0000-4000-8000-000000000000.jpg"),
        b"jpeg",
    )
    .unwrap();
    let err = fails(cairn(tmp.path()).args(["library", "delete", "Scratch", "--yes"]));
    assert!(err.contains("sidecars/my plan.txt"), "{err}");
    assert!(!err.contains(".jpg"), "a thumbnail is Cairn's: {err}");
    assert!(dir.join("sidecars/my plan.txt").is_file());
    #[cfg(unix)]
    {
        // A symlink is never Cairn's, wherever it is.
        std::fs::remove_file(dir.join("sidecars/my plan.txt")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.join("logs/cairn-2026-01-01.log")).unwrap();
        let err = fails(cairn(tmp.path()).args(["library", "delete", "Scratch", "--yes"]));
        assert!(err.contains("logs/cairn-2026-01-01.log"), "{err}");
        std::fs::remove_file(dir.join("logs/cairn-2026-01-01.log")).unwrap();
    }
    ok(cairn(tmp.path()).args(["library", "delete", "Scratch", "--yes"]));
    assert!(!dir.exists());
    let v = json(&ok(cairn(tmp.path()).args(["--json", "library", "list"])));
    assert_eq!(v["libraries"].as_array().unwrap().len(), 1);
}

#[test]
fn unknown_library_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = fails(cairn(tmp.path()).args(["--library", "Nope", "jobs", "list"]));
    assert!(err.contains("no library named \"Nope\""), "{err}");
}

/// Cairn's own folders are the owner's only: the data folder's parts and a library's folders it
/// creates are 0700 (the catalogue, logs and keys inside are out of others' reach), and the
/// day's log file is 0600. A folder the user gave (`--data-dir` that exists) is not chmod-ed.
#[cfg(unix)]
#[test]
fn cairns_own_folders_are_private_and_a_given_folder_is_left_alone() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("given");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    ok(cairn(&data).args(["library", "list"]));
    ok(cairn(&data).args(["location", "list"])); // opens the library: its log starts
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o755, "the folder given is not chmod-ed");
    let lib = data.join("libraries/My Library.cairnlib");
    for p in [
        data.join("libraries"),
        lib.clone(),
        lib.join("sidecars"),
        lib.join("logs"),
    ] {
        assert_eq!(mode(&p), 0o700, "{}", p.display());
    }
    let logs: Vec<_> = std::fs::read_dir(lib.join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!logs.is_empty());
    for l in &logs {
        assert_eq!(mode(l), 0o600, "{}", l.display());
    }
    assert_eq!(mode(&data.join("logs")), 0o700);
}

/// Regressions: a missing or empty `library.redb` was silently re-created empty ("No
/// locations"), and with the default library's `library.toml` damaged, commands silently
/// opened another library (a `location add` landed there).
#[test]
fn a_damaged_library_is_reported_never_replaced_or_swapped() {
    let tmp = tempfile::tempdir().unwrap();
    ok(cairn(tmp.path()).args(["library", "create", "Work"]));
    let mine = tmp.path().join("libraries/My Library.cairnlib");
    let store = mine.join("library.redb");
    // The catalogue gone: reported, and not re-created.
    std::fs::remove_file(&store).unwrap();
    let err = fails(cairn(tmp.path()).args(["location", "list"]));
    assert!(
        err.contains("library.redb") && err.contains("missing"),
        "{err}"
    );
    assert!(!store.exists());
    // Empty: the same.
    std::fs::write(&store, b"").unwrap();
    let err = fails(cairn(tmp.path()).args(["location", "list"]));
    assert!(
        err.contains("library.redb") && err.contains("empty"),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&store).unwrap().len(), 0);
    // The default library's config damaged: no other library is opened in its place.
    std::fs::write(mine.join("library.toml"), "id = [").unwrap();
    let folder = tmp.path().join("photos");
    std::fs::create_dir(&folder).unwrap();
    let err = fails(cairn(tmp.path()).args(["location", "add"]).arg(&folder));
    assert!(
        err.contains("default library") && err.contains("My Library.cairnlib"),
        "{err}"
    );
    let locs = json(&ok(cairn(tmp.path()).args([
        "--json",
        "--library",
        "Work",
        "location",
        "list",
    ])));
    assert_eq!(
        locs.as_array().unwrap().len(),
        0,
        "nothing landed in Work: {locs}"
    );
}

/// Regression: four `library create Race` at once left two to four libraries all named
/// "Race". Checking the name and creating the library are now one step for every process.
#[test]
fn concurrent_creates_of_one_name_make_one_library() {
    let tmp = tempfile::tempdir().unwrap();
    ok(cairn(tmp.path()).args(["library", "list"])); // first run done
    let children: Vec<_> = (0..4)
        .map(|_| {
            cairn(tmp.path())
                .args(["library", "create", "Race"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut created = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        if out.status.success() {
            created += 1;
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("already exists"), "{err}");
        }
    }
    assert_eq!(created, 1);
    let v = json(&ok(cairn(tmp.path()).args(["--json", "library", "list"])));
    let races = v["libraries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["name"] == "Race")
        .count();
    assert_eq!(races, 1, "{v}");
    // Nothing half-built is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("libraries"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Regression: a first run that hit a full disk left a half-created library that blocked every
/// later command until removed by hand, and the OS error was printed twice. Needs root (mounts
/// a tiny tmpfs); skipped otherwise.
#[test]
fn a_full_disk_on_first_run_leaves_nothing_half_built() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(small) = crate::common::Tmpfs::mount(tmp.path(), "small", "16k") else {
        return;
    };
    let data = small.path.join("data");
    let err = fails(cairn(&data).args(["library", "list"]));
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(err.matches("os error 28").count(), 1, "said once: {err}");
    let left: Vec<_> = std::fs::read_dir(data.join("libraries"))
        .map(|rd| rd.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing half-built: {left:?}");
    // Space again: the next run creates the library as if nothing had happened.
    assert!(small.resize("4m"));
    let v = json(&ok(cairn(&data).args(["--json", "library", "list"])));
    assert_eq!(v["libraries"].as_array().unwrap().len(), 1, "{v}");
}

/// Regression: a full disk during indexing was never reported ("job 1 ended paused"; "No
/// space left on device" only in the log). Needs root (a small tmpfs); skipped otherwise.
#[test]
fn a_full_disk_during_indexing_is_said_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    for d in 0..20 {
        let sub = tree.join(format!("folder-{d:02}"));
        std::fs::create_dir_all(&sub).unwrap();
        for i in 0..250 {
            std::fs::write(
                sub.join(format!("a-rather-long-file-name-{i:04}.txt")),
                b"x",
            )
            .unwrap();
        }
    }
    let Some(small) = crate::common::Tmpfs::mount(tmp.path(), "small", "160k") else {
        return;
    };
    let data = small.path.join("data");
    ok(cairn(&data).args(["library", "list"]));
    let err = fails(
        cairn(&data)
            .args(["location", "add", "--rules", "none"])
            .arg(&tree),
    );
    assert!(
        err.contains("No space left on device") && err.contains("jobs resume"),
        "{err}"
    );
    // It says how much is free and about how much more is needed.
    assert!(err.contains("free now"), "{err}");
}

/// Regression: flipped bytes in `library.redb` made redb panic (exit 101) or gave errors that
/// did not name the file. Now every trial either works or fails with one `error:` line that
/// names library.redb — never a panic, never a hang; and `library repair` of each damaged
/// store gives one that passes `library check`.
#[test]
fn flipped_bytes_in_the_store_never_crash_cairn() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    for d in 0..6 {
        let sub = tree.join(format!("d{d}"));
        std::fs::create_dir_all(&sub).unwrap();
        for i in 0..50 {
            std::fs::write(sub.join(format!("file{i:03}.bin")), format!("{d}/{i}")).unwrap();
        }
    }
    let data = tmp.path().join("data");
    ok(cairn(&data)
        .args(["location", "add", "--rules", "none", "--mode", "content"])
        .arg(&tree));
    let store = data.join("libraries/My Library.cairnlib/library.redb");
    let pristine = std::fs::read(&store).unwrap();
    // Flip bits where the file holds data (most of a fresh redb file is zeroes).
    let used: Vec<usize> = (0..pristine.len()).filter(|&i| pristine[i] != 0).collect();
    let mut seed: u64 = 0x5eed_cafe;
    let mut failures = 0;
    let mut repaired = 0;
    for trial in 0..120 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut bytes = pristine.clone();
        let at = used[(seed >> 16) as usize % used.len()];
        bytes[at] ^= 1 << ((seed >> 8) % 8);
        std::fs::write(&store, &bytes).unwrap();
        for args in [&["location", "list"][..], &["debug", "dump-index"][..]] {
            let mut child = cairn(&data)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            let status = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s;
                }
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("trial {trial} (byte {at}): {args:?} hung");
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            };
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            match status.code() {
                Some(0) => {}
                Some(1) => {
                    failures += 1;
                    // One error line; before it, at most the progress of an upgrade the damage
                    // asked for (a flipped schema version reads as an older layout).
                    let lines: Vec<&str> = stderr
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .filter(|l| !l.starts_with("Upgrading the library"))
                        .filter(|l| !l.starts_with("Upgraded "))
                        .filter(|l| !(l.starts_with("  ") && l.trim_end().ends_with(" entries")))
                        .collect();
                    assert_eq!(lines.len(), 1, "trial {trial} (byte {at}): {stderr}");
                    assert!(lines[0].starts_with("error: "), "{stderr}");
                }
                other => panic!("trial {trial} (byte {at}): {args:?} exited {other:?}: {stderr}"),
            }
        }
        // Whatever the damage, a repair gives a catalogue that passes its check.
        let damaged = ok_or_err(cairn(&data).args(["library", "check"]));
        if !damaged.contains("No damage found") {
            repaired += 1;
            let out = cairn(&data)
                .args(["library", "repair", "--no-rescan"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "trial {trial} (byte {at}): repair failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let check = ok_or_err(cairn(&data).args(["library", "check"]));
            assert!(
                check.contains("No damage found"),
                "trial {trial} (byte {at}): after the repair: {check}"
            );
        }
    }
    std::fs::write(&store, &pristine).unwrap();
    ok(cairn(&data).args(["location", "list"]));
    eprintln!(
        "{failures} of {} runs on a damaged store ended with an error line; {repaired} damaged stores repaired",
        120 * 2
    );
}

/// Regression (issue "fortress"): flipped bytes in `library.redb` silently renamed an entry.
/// Every record carries a checksum now: `cairn library check` names the damaged table and key,
/// and reading the damaged record is an error naming the file, never a wrong name.
#[test]
fn flipped_bytes_in_a_record_are_found_by_library_check_and_never_read_as_data() {
    let data = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("marker-XYZZYQ-file.txt"), b"x").unwrap();
    ok(cairn(data.path())
        .args(["location", "add", "--mode", "shallow"])
        .arg(tree.path()));
    let clean = ok(cairn(data.path()).args(["library", "check"]));
    assert!(clean.contains("No damage found"), "{clean}");
    let store = data
        .path()
        .join("libraries/My Library.cairnlib")
        .join(STORE_FILE);
    let mut bytes = std::fs::read(&store).unwrap();
    let needle = b"XYZZYQ";
    let mut flipped = 0;
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i + 2] = b'Q'; // "XYQZYQ": same length, a different name
            flipped += 1;
        }
        i += 1;
    }
    assert!(flipped >= 1, "the name is in the file");
    std::fs::write(&store, &bytes).unwrap();
    let report = fails(cairn(data.path()).args(["library", "check"]));
    assert!(report.contains("is damaged"), "{report}");
    let out = ok_or_err(cairn(data.path()).args(["library", "check"]));
    assert!(
        out.contains("table entries") || out.contains("index:"),
        "the damaged table is named: {out}"
    );
    // The damaged name is never shown as if it were the file's.
    let ls = ok_or_err(cairn(data.path()).arg("ls").arg(tree.path()));
    assert!(!ls.contains("XYQZYQ"), "{ls}");
}

/// Stdout and stderr of a command, whatever its exit status.
fn ok_or_err(cmd: &mut std::process::Command) -> String {
    let o = cmd.output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Regression (issue "fortress"): the catalogue was readable by every user (0644). Cairn's own
/// files are 0600 and its folders 0700, also for a library made by an older Cairn.
#[test]
fn the_catalogue_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    ok(cairn(data.path()).args(["library", "list"]));
    let lib = data.path().join("libraries/My Library.cairnlib");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for f in [STORE_FILE, "library.toml", LOCK_FILE] {
        assert_eq!(mode(&lib.join(f)), 0o600, "{f}");
    }
    for f in ["device.toml", "device.key"] {
        assert_eq!(mode(&data.path().join(f)), 0o600, "{f}");
    }
    assert_eq!(mode(&lib), 0o700);
    // A library left 0644 by an older Cairn is made private when opened.
    for f in [STORE_FILE, "library.toml", LOCK_FILE] {
        std::fs::set_permissions(lib.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    ok(cairn(data.path()).args(["location", "list"]));
    for f in [STORE_FILE, "library.toml", LOCK_FILE] {
        assert_eq!(mode(&lib.join(f)), 0o600, "{f} after opening");
    }
}

/// Regression (issue "fortress", review): a library creation interrupted by a crash left its
/// temporary folder `.NAME.cairnlib.tmp-…` forever. It is removed once it is old and holds only
/// Cairn's files; one holding anything else, or a recent one (a creation under way), is kept.
#[test]
fn an_interrupted_library_creation_is_swept_only_when_old_and_all_cairns() {
    let data = tempfile::tempdir().unwrap();
    ok(cairn(data.path()).args(["library", "create", "Foo"]));
    ok(cairn(data.path()).args(["library", "create", "Bar"]));
    let libs = data.path().join("libraries");
    let left = libs.join(".Foo.cairnlib.tmp-0123456789ab");
    let foreign = libs.join(".Bar.cairnlib.tmp-aaaaaaaaaaaa");
    let recent = libs.join(".Baz.cairnlib.tmp-bbbbbbbbbbbb");
    std::fs::rename(libs.join("Foo.cairnlib"), &left).unwrap();
    std::fs::rename(libs.join("Bar.cairnlib"), &foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), b"mine").unwrap();
    std::fs::create_dir(&recent).unwrap();
    std::fs::create_dir(recent.join("logs")).unwrap();
    for d in [&left, &foreign] {
        let t = std::process::Command::new("touch")
            .args(["-d", "1 hour ago"])
            .arg(d)
            .status()
            .unwrap();
        assert!(t.success());
    }
    let list = ok(cairn(data.path()).args(["library", "list"]));
    assert!(!list.contains("Foo"), "{list}");
    assert!(!left.exists(), "the leftover was swept");
    assert!(
        foreign.join("notes.txt").exists(),
        "a folder with a file of the user's is kept"
    );
    assert!(recent.exists(), "a creation under way is kept");
}

/// The entry UUID `cairn stat` reports for `path`.
fn entry_uuid(data: &std::path::Path, path: &std::path::Path) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&ok(cairn(data).args(["--json", "stat"]).arg(path))).unwrap();
    v["entry"]["uuid"].as_str().unwrap_or_default().to_owned()
}

/// Issue "fortress": a damaged catalogue is repaired keeping what is left. A folder's record is
/// altered in place (its name flipped); `library repair` keeps every whole record — the other
/// entries with their UUIDs, the favourites — drops the damaged folder and what hung below it,
/// keeps the damaged file beside the new one, and the rescan finds the lost part again: the
/// repaired library passes `library check` and holds every file.
#[test]
fn a_damaged_catalogue_is_repaired_keeping_what_is_left() {
    let data = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let lost = tree.path().join("marker-XYZZYQ-folder");
    std::fs::create_dir(&lost).unwrap();
    for i in 0..30 {
        std::fs::write(lost.join(format!("inner-{i}.txt")), format!("inner {i}")).unwrap();
    }
    let keep = tree.path().join("kept");
    std::fs::create_dir(&keep).unwrap();
    for i in 0..30 {
        std::fs::write(keep.join(format!("kept-{i}.txt")), format!("kept {i}")).unwrap();
    }
    ok(cairn(data.path())
        .args(["location", "add", "--mode", "content"])
        .arg(tree.path()));
    let kept_file = keep.join("kept-7.txt");
    let uuid_before = entry_uuid(data.path(), &kept_file);
    assert!(!uuid_before.is_empty());
    let healthy = ok(cairn(data.path()).args(["library", "repair"]));
    assert!(healthy.contains("No damage found"), "{healthy}");

    let lib = data.path().join("libraries/My Library.cairnlib");
    let store = lib.join(STORE_FILE);
    let mut bytes = std::fs::read(&store).unwrap();
    let needle = b"XYZZYQ";
    let mut flipped = 0;
    for i in 0..bytes.len().saturating_sub(needle.len()) {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i + 2] = b'Q';
            flipped += 1;
        }
    }
    assert!(flipped >= 1);
    std::fs::write(&store, &bytes).unwrap();
    fails(cairn(data.path()).args(["library", "check"]));
    let before_repair = std::fs::read(&store).unwrap();

    let out = ok(cairn(data.path()).args(["library", "repair"]));
    assert!(
        out.contains("was damaged") && out.contains("table entries"),
        "{out}"
    );
    assert!(
        out.contains("Dropped") && out.contains("their folder was lost"),
        "{out}"
    );
    let damaged: Vec<_> = std::fs::read_dir(&lib)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("library.redb.damaged-")
        })
        .collect();
    assert_eq!(damaged.len(), 1, "the damaged file is kept");
    assert!(
        std::fs::read(damaged[0].path()).unwrap() == before_repair,
        "the kept file is the damaged one, unchanged"
    );
    let hidden_temps = std::fs::read_dir(&lib)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .count();
    assert_eq!(hidden_temps, 0, "no temporary file is left");

    let check = ok(cairn(data.path()).args(["library", "check"]));
    assert!(check.contains("No damage found"), "{check}");
    assert_eq!(
        entry_uuid(data.path(), &kept_file),
        uuid_before,
        "UUIDs are kept"
    );
    let found = ok(cairn(data.path()).args(["search", "inner-2"]));
    assert!(
        found.contains("inner-2.txt"),
        "the rescan found the lost folder again: {found}"
    );
    let list: serde_json::Value =
        serde_json::from_str(&ok(cairn(data.path()).args(["--json", "location", "list"]))).unwrap();
    assert_eq!(list[0]["stats"]["files"], 60, "{list}");
    // The kept copy is Cairn's: the library can still be deleted.
    ok(cairn(data.path()).args(["library", "delete", "--yes", "My Library"]));
}

/// Issue "fortress": a library whose store is gone is repaired into a new, empty catalogue
/// under the same name and id (never silently, never another library): the repair says the
/// locations must be added again.
#[test]
fn a_lost_catalogue_is_repaired_into_an_empty_one_that_says_so() {
    let data = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("a.txt"), b"a").unwrap();
    ok(cairn(data.path())
        .args(["location", "add"])
        .arg(tree.path()));
    let lib = data.path().join("libraries/My Library.cairnlib");
    let id_before = std::fs::read_to_string(lib.join("library.toml")).unwrap();
    std::fs::remove_file(lib.join(STORE_FILE)).unwrap();
    let err = fails(cairn(data.path()).args(["location", "list"]));
    assert!(err.contains("library repair"), "{err}");
    let list = ok(cairn(data.path()).args(["library", "list"]));
    assert!(
        list.contains("damaged: library.redb is missing; `cairn library repair`"),
        "{list}"
    );
    let out = ok(cairn(data.path()).args(["library", "repair"]));
    assert!(out.contains("library.redb is missing"), "{out}");
    assert!(out.contains("add the library's folders again"), "{out}");
    let list = ok(cairn(data.path()).args(["location", "list"]));
    assert!(list.contains("No locations"), "{list}");
    assert_eq!(
        std::fs::read_to_string(lib.join("library.toml")).unwrap(),
        id_before
    );
    ok(cairn(data.path()).args(["library", "check"]));
}

/// Issue "fortress": a flipped bit in the store's header (redb's magic number) made redb
/// refuse the whole file, and the repair gave an empty catalogue. The repair now mends the
/// header of its copy and keeps everything.
#[test]
fn a_catalogue_whose_header_is_damaged_is_repaired_whole() {
    let data = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    for i in 0..40 {
        std::fs::write(tree.path().join(format!("f{i}.txt")), format!("{i}")).unwrap();
    }
    ok(cairn(data.path())
        .args(["location", "add"])
        .arg(tree.path()));
    let store = data
        .path()
        .join("libraries/My Library.cairnlib")
        .join(STORE_FILE);
    let mut bytes = std::fs::read(&store).unwrap();
    bytes[1] ^= 0x20;
    std::fs::write(&store, &bytes).unwrap();
    let err = fails(cairn(data.path()).args(["location", "list"]));
    assert!(err.contains("library.redb"), "{err}");
    let out = ok(cairn(data.path()).args(["library", "repair", "--no-rescan"]));
    assert!(out.contains("Kept: 41 entries"), "{out}");
    assert!(!out.contains(".tmp-"), "the copy is never named: {out}");
    let list: serde_json::Value =
        serde_json::from_str(&ok(cairn(data.path()).args(["--json", "location", "list"]))).unwrap();
    assert_eq!(list[0]["stats"]["files"], 40, "{list}");
    ok(cairn(data.path()).args(["library", "check"]));
}
