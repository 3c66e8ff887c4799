//! The live index (issue "A live index"): with the watcher running and no manual rescan, the
//! index follows what other programs do on disk — after each step of a scripted story it
//! equals a clean index of the same folders (entries, sizes, times, content identities, folder
//! totals), is sound, and keeps UUIDs where a rename or move was seen. Every wait polls for the
//! expected state with a timeout, never a fixed sleep.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cairn::vdfs::Library;
use cairn::vdfs::fs::rules::Rules;
use cairn::vdfs::index::location::IndexMode;
use cairn::vdfs::jobs::JobStatus;

use crate::common::library;

/// Watch tests run one at a time: the overflow test lowers a system-wide inotify setting for a
/// moment, and each test's timing is easier to reason about alone.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn canonical_tempdir() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = fs::canonicalize(d.path()).unwrap();
    (d, p)
}

fn index(lib: &Library, root: &Path, mode: IndexMode) -> u32 {
    let (rec, h) = lib.add_location(root, mode, Rules::none()).unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    rec.id
}

/// Waits until the library's index equals a clean index of `roots` (each a location in
/// `mode`) and is sound. Panics with the difference after `TIMEOUT`.
fn settles_to_clean(lib: &Library, roots: &[&Path], mode: IndexMode) {
    const TIMEOUT: Duration = Duration::from_secs(20);
    let clean = library();
    for r in roots {
        index(&clean.lib, r, mode);
    }
    let want = clean.lib.dump_index().unwrap();
    let start = Instant::now();
    loop {
        let have = lib.dump_index().unwrap();
        if have == want && lib.check_index().unwrap().is_empty() {
            return;
        }
        if start.elapsed() > TIMEOUT {
            let extra: Vec<_> = have.iter().filter(|l| !want.contains(l)).collect();
            let missing: Vec<_> = want.iter().filter(|l| !have.contains(l)).collect();
            panic!(
                "the live index did not settle to a clean index in {TIMEOUT:?}\nonly in the live index: {extra:#?}\nonly in a clean index: {missing:#?}\ncheck: {:?}",
                lib.check_index().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A new library with `root` indexed as a location in `mode` and the live index watching it.
fn watched(root: &Path, mode: IndexMode) -> (crate::common::Lib, u32) {
    let l = library();
    let id = index(&l.lib, root, mode);
    l.lib.start_watching().unwrap();
    watching(&l.lib, id);
    (l, id)
}

/// Waits until the watcher has every folder of location `id` watched.
fn watching(lib: &Library, id: u32) {
    let start = Instant::now();
    loop {
        if lib
            .watch_status()
            .get(&id)
            .is_some_and(|s| s.watched > 0 && s.catching_up == 0)
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "location {id} is not watched: {:?}",
            lib.watch_status()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn uuid(lib: &Library, p: &Path) -> uuid::Uuid {
    lib.entry_at(p)
        .unwrap()
        .unwrap_or_else(|| panic!("{} is not indexed", p.display()))
        .record
        .uuid
}

fn write(p: &Path, bytes: &[u8]) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

#[test]
fn the_index_follows_a_scripted_story_without_a_rescan() {
    let _one = serial();
    let (_d, base) = canonical_tempdir();
    let root = base.join("home");
    let other = base.join("other");
    let outside = base.join("outside");
    for d in [&root, &other, &outside] {
        fs::create_dir_all(d).unwrap();
    }
    write(&root.join("start.txt"), b"there before");
    write(&other.join("o.txt"), b"in the other location");
    let l = library();
    let lib = &l.lib;
    let mode = IndexMode::Content;
    let a = index(lib, &root, mode);
    let b = index(lib, &other, mode);
    lib.start_watching().unwrap();
    watching(lib, a);
    watching(lib, b);
    let both = [root.as_path(), other.as_path()];

    // Create files.
    for n in ["one.txt", "two.txt", "three.md"] {
        write(&root.join(n), n.as_bytes());
    }
    settles_to_clean(lib, &both, mode);
    assert_eq!(lib.index_counts().unwrap().entries, 2 + 4 + 1);

    // Modify one: same entry, new size and content identity.
    let u_one = uuid(lib, &root.join("one.txt"));
    write(&root.join("one.txt"), b"one, now longer than before");
    settles_to_clean(lib, &both, mode);
    assert_eq!(uuid(lib, &root.join("one.txt")), u_one);

    // Rename one: its UUID stays.
    fs::rename(root.join("one.txt"), root.join("uno.txt")).unwrap();
    settles_to_clean(lib, &both, mode);
    assert_eq!(uuid(lib, &root.join("uno.txt")), u_one);

    // Delete one.
    fs::remove_file(root.join("two.txt")).unwrap();
    settles_to_clean(lib, &both, mode);

    // Make a folder, then batch-create files and folders in it and beside it.
    fs::create_dir(root.join("made")).unwrap();
    settles_to_clean(lib, &both, mode);
    for i in 0..20 {
        write(
            &root.join(format!("made/f{i}.bin")),
            &vec![i as u8; 100 + i],
        );
        write(&root.join(format!("made/sub{}/g{i}.txt", i % 3)), b"g");
    }
    fs::create_dir_all(root.join("made/empty/deeper")).unwrap();
    settles_to_clean(lib, &both, mode);
    // The two roots, start, three, uno and o.txt, then made, its 20 files, 3 folders and
    // their 20 files, and the two empty folders.
    assert_eq!(
        lib.index_counts().unwrap().entries,
        2 + 4 + 1 + 20 + 3 + 20 + 2
    );

    // Delete them all.
    fs::remove_dir_all(root.join("made")).unwrap();
    settles_to_clean(lib, &both, mode);

    // Move a file out of the locations and back: no duplicate, no orphan.
    fs::rename(root.join("three.md"), outside.join("three.md")).unwrap();
    settles_to_clean(lib, &both, mode);
    assert!(lib.entry_at(&root.join("three.md")).unwrap().is_none());
    fs::rename(outside.join("three.md"), root.join("three.md")).unwrap();
    settles_to_clean(lib, &both, mode);

    // A move between two watched locations keeps the UUID.
    let u_uno = uuid(lib, &root.join("uno.txt"));
    fs::rename(root.join("uno.txt"), other.join("uno.txt")).unwrap();
    settles_to_clean(lib, &both, mode);
    assert_eq!(uuid(lib, &other.join("uno.txt")), u_uno);

    // The rapid-write pattern: one new file written three times ends as one entry with the
    // final size.
    {
        use std::io::Write;
        let mut f = fs::File::create(root.join("rapid.log")).unwrap();
        for _ in 0..3 {
            f.write_all(&[b'x'; 4096]).unwrap();
            f.flush().unwrap();
        }
    }
    settles_to_clean(lib, &both, mode);
    assert_eq!(
        lib.entry_at(&root.join("rapid.log"))
            .unwrap()
            .unwrap()
            .record
            .size,
        3 * 4096
    );

    // An atomic save (write a temporary file, rename it over): same entry, new content.
    let u_start = uuid(lib, &root.join("start.txt"));
    let cas_before = lib
        .entry_at(&root.join("start.txt"))
        .unwrap()
        .unwrap()
        .record
        .cas;
    write(&root.join(".start.txt.swp"), b"saved by an editor");
    fs::rename(root.join(".start.txt.swp"), root.join("start.txt")).unwrap();
    settles_to_clean(lib, &both, mode);
    let after = lib
        .entry_at(&root.join("start.txt"))
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(after.uuid, u_start);
    assert_ne!(after.cas, cas_before);

    // A folder moved in from outside, with nested content.
    for i in 0..5 {
        write(
            &outside.join(format!("album/disc{}/track{i}.ogg", i % 2)),
            b"ogg",
        );
    }
    fs::rename(outside.join("album"), root.join("album")).unwrap();
    settles_to_clean(lib, &both, mode);
    // …and changes inside it are seen (its folders are watched now).
    write(&root.join("album/disc1/bonus.ogg"), b"bonus");
    settles_to_clean(lib, &both, mode);

    // A folder renamed with 1,000 files below it: every UUID kept, and the renamed folders
    // are watched under their new names.
    for i in 0..1000 {
        write(
            &root.join(format!("big/part{}/file{i:04}.dat", i % 10)),
            b"d",
        );
    }
    settles_to_clean(lib, &both, mode);
    let probe = |top: &str| root.join(top).join("part7/file0007.dat");
    let u_probe = uuid(lib, &probe("big"));
    let u_big = uuid(lib, &root.join("big"));
    fs::rename(root.join("big"), root.join("huge")).unwrap();
    settles_to_clean(lib, &both, mode);
    assert_eq!(uuid(lib, &root.join("huge")), u_big);
    assert_eq!(uuid(lib, &probe("huge")), u_probe);
    write(&root.join("huge/part3/after-rename.txt"), b"seen");
    settles_to_clean(lib, &both, mode);
    assert!(
        lib.entry_at(&root.join("huge/part3/after-rename.txt"))
            .unwrap()
            .is_some()
    );
}

#[test]
fn an_event_queue_overflow_rescans_instead_of_guessing() {
    let _one = serial();
    const KNOB: &str = "/proc/sys/fs/inotify/max_queued_events";
    let Ok(old) = fs::read_to_string(KNOB) else {
        eprintln!("skipped: {KNOB} cannot be read");
        return;
    };
    let (_d, base) = canonical_tempdir();
    let root = base.join("flood");
    fs::create_dir_all(&root).unwrap();
    write(&root.join("kept.txt"), b"kept");
    let l = library();
    let lib = &l.lib;
    let id = index(lib, &root, IndexMode::Shallow);
    // The queue size is taken when an inotify instance is made: a tiny one for this watcher
    // only, the system's own put back at once.
    if fs::write(KNOB, "16").is_err() {
        eprintln!("skipped: {KNOB} cannot be written (not root)");
        return;
    }
    let started = lib.start_watching();
    fs::write(KNOB, old.trim()).unwrap();
    started.unwrap();
    watching(lib, id);
    // The catch-up rescan of a location indexed before the watch started runs first.
    let quiet = Instant::now();
    while lib
        .jobs()
        .list()
        .unwrap()
        .iter()
        .any(|j| j.finished_ms.is_none())
        || quiet.elapsed() < Duration::from_millis(300)
    {
        assert!(quiet.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(20));
    }
    let jobs_before = lib.jobs().list().unwrap().len();
    for i in 0..3000 {
        write(&root.join(format!("f{i}")), b"x");
    }
    settles_to_clean(lib, &[root.as_path()], IndexMode::Shallow);
    assert!(
        lib.jobs().list().unwrap().len() > jobs_before,
        "the overflow started no rescan"
    );
}

#[test]
fn an_unmounted_or_vanished_location_keeps_its_entries() {
    let _one = serial();
    let (_d, base) = canonical_tempdir();
    let root = base.join("drive");
    for i in 0..10 {
        write(&root.join(format!("d/f{i}")), b"x");
    }
    let (l, id) = watched(&root, IndexMode::Shallow);
    let lib = &l.lib;
    let before = lib.index_counts().unwrap().entries;
    // The whole root goes (as a drive's folder does when it is unplugged): the location is
    // missing, never emptied.
    fs::rename(&root, base.join("elsewhere")).unwrap();
    let start = Instant::now();
    while lib.watch_status().contains_key(&id) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
        // A change the watcher would otherwise act on.
        let _ = fs::write(base.join("elsewhere/d/poke"), b"p");
    }
    // Unwatched with nothing written: the live index never syncs a location that is not
    // online.
    assert_eq!(lib.index_counts().unwrap().entries, before);
}

/// Every entry below `root` (not `root` itself), as sorted paths.
fn disk_entries(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_owned()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                todo.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn an_ephemeral_browsed_folder_follows_the_same_story() {
    let _one = serial();
    let (_d, base) = canonical_tempdir();
    let folder = base.join("browsed");
    let outside = base.join("outside");
    fs::create_dir_all(&folder).unwrap();
    fs::create_dir_all(&outside).unwrap();
    write(&folder.join("start.txt"), b"there before");
    let data = tempfile::tempdir().unwrap();
    let core = cairn::vdfs::Core::start(cairn::vdfs::CoreOptions::at(data.path())).unwrap();
    core.open_library(None).unwrap();
    let q = cairn::vdfs::query::search::Query {
        within: Some(folder.clone()),
        limit: 100_000,
        ..Default::default()
    };
    // The search's results equal what is on disk, within the timeout.
    let settles = |what: &str| {
        let start = Instant::now();
        loop {
            let want = disk_entries(&folder);
            let r = core.search(&q, Duration::ZERO, &|| true).unwrap().unwrap();
            let mut have: Vec<PathBuf> = r.hits.into_iter().map(|h| h.path).collect();
            have.sort();
            if have == want {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{what}: the ephemeral index did not follow the disk\nhave {have:#?}\nwant {want:#?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    settles("first walk");
    for n in ["one.txt", "two.txt", "three.md"] {
        write(&folder.join(n), n.as_bytes());
    }
    settles("created");
    fs::rename(folder.join("one.txt"), folder.join("uno.txt")).unwrap();
    settles("renamed");
    fs::remove_file(folder.join("two.txt")).unwrap();
    settles("deleted");
    for i in 0..20 {
        write(&folder.join(format!("made/sub{}/g{i}.txt", i % 3)), b"g");
    }
    settles("batch-created");
    fs::remove_dir_all(folder.join("made")).unwrap();
    settles("deleted them all");
    fs::rename(folder.join("three.md"), outside.join("three.md")).unwrap();
    settles("moved out");
    write(&outside.join("album/disc1/t.ogg"), b"ogg");
    fs::rename(outside.join("album"), folder.join("album")).unwrap();
    settles("folder moved in");
    write(&folder.join("album/disc1/bonus.ogg"), b"bonus");
    settles("a change inside the folder moved in");
}

#[test]
fn cairn_watch_keeps_the_index_live_in_its_own_process() {
    let _one = serial();
    let (_d, base) = canonical_tempdir();
    let root = base.join("served");
    write(&root.join("a.txt"), b"a");
    let data = tempfile::tempdir().unwrap();
    crate::common::ok(crate::common::cairn(data.path()).args([
        "location",
        "add",
        root.to_str().unwrap(),
        "--mode",
        "content",
    ]));
    let mut child = crate::common::cairn(data.path())
        .args(["watch", "--for", "30"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // It says what it watches once it does, then catches up with a rescan (the location was
    // indexed before it started).
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut said = String::new();
    while !(said.contains("watching 1 folder\n") && said.contains("Completed")) {
        let l = lines.next().expect("cairn watch ended early").unwrap();
        said.push_str(&l);
        said.push('\n');
    }
    write(&root.join("b/c.txt"), b"written while cairn watch runs");
    fs::remove_file(root.join("a.txt")).unwrap();
    let mut seen = String::new();
    while !(seen.contains("1 gone") && seen.contains("2 new")) {
        let l = lines.next().expect("cairn watch ended early").unwrap();
        seen.push_str(&l);
        seen.push('\n');
    }
    // A kill loses nothing: the index already holds the changes.
    child.kill().unwrap();
    child.wait().unwrap();
    let ls = crate::common::ok(crate::common::cairn(data.path()).args([
        "ls",
        "-r",
        root.to_str().unwrap(),
    ]));
    assert!(
        ls.contains("c.txt") && !ls.contains("a.txt"),
        "{seen}\n{ls}"
    );
}

#[test]
fn an_unplugged_drive_goes_offline_at_once_and_is_caught_up_when_it_comes_back() {
    let _one = serial();
    let (_d, base) = canonical_tempdir();
    let Some(mut drive) = crate::common::LoopDrive::make(&base.join("usb.img")) else {
        return;
    };
    let at = base.join("usb");
    if !drive.plug(&at) {
        return;
    }
    let photos = at.join("photos");
    for i in 0..5 {
        write(&photos.join(format!("p{i}.jpg")), b"jpeg");
    }
    let (l, id) = watched(&photos, IndexMode::Shallow);
    let lib = &l.lib;
    let before = lib.dump_index().unwrap();
    // Pulled out: the mount table's change takes it out of the watch at once (no event in
    // its folders says so), and nothing of it leaves the index.
    drive.unplug();
    let start = Instant::now();
    while lib.watch_status().contains_key(&id) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still watched after the drive was unplugged"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(lib.dump_index().unwrap(), before);
    // Back, with a file written elsewhere meanwhile: watched again and caught up.
    assert!(drive.plug(&at));
    write(&photos.join("while-away.jpg"), b"new");
    settles_to_clean(lib, &[photos.as_path()], IndexMode::Shallow);
    watching(lib, id);
    write(&photos.join("after.jpg"), b"newer");
    settles_to_clean(lib, &[photos.as_path()], IndexMode::Shallow);
    // Mounted somewhere else: the location follows its volume (the same entries and UUIDs)
    // and is watched there.
    let u = uuid(lib, &photos.join("after.jpg"));
    drive.unplug();
    let other = base.join("usb-elsewhere");
    assert!(drive.plug(&other));
    let moved = other.join("photos");
    let start = Instant::now();
    while lib.location(id).unwrap().path() != moved
        || !lib
            .watch_status()
            .get(&id)
            .is_some_and(|s| s.watched > 0 && s.catching_up == 0)
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the location did not follow its drive: {:?}",
            lib.location(id).unwrap().path()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(uuid(lib, &moved.join("after.jpg")), u);
    write(&moved.join("there.jpg"), b"there");
    settles_to_clean(lib, &[moved.as_path()], IndexMode::Shallow);
}

#[test]
fn search_follows_the_live_index_by_an_overlay_not_a_rebuild() {
    search_by_overlay(IndexMode::Shallow);
}

#[test]
fn search_follows_content_identification_by_an_overlay_too() {
    search_by_overlay(IndexMode::Content);
}

fn search_by_overlay(mode: IndexMode) {
    use cairn::vdfs::query::search::{Query, Sort};
    let _one = serial();
    let (_d, base) = canonical_tempdir();
    let root = base.join("docs");
    for i in 0..30 {
        write(
            &root.join(format!("old/report-{i:02}.txt")),
            &vec![b'r'; 10 + i],
        );
    }
    write(&root.join("keep/notes.md"), b"notes");
    let l = library();
    let lib = &l.lib;
    let id = index(lib, &root, mode);
    // The name index is built once, then the watch starts.
    let everything = Query {
        limit: 1000,
        ..Default::default()
    };
    assert_eq!(lib.search(&everything).unwrap().total, 2 + 30 + 2);
    let names_file = lib.path().join("cache/names.idx");
    let built = cairn::vdfs::query::search::names::file_generation(&names_file).unwrap();
    lib.start_watching_with(false).unwrap();
    watching(lib, id);
    // Changes: new files, a folder renamed with what is in it, a file deleted, one grown.
    write(&root.join("new/report-new.txt"), b"fresh");
    write(&root.join("keep/report-late.txt"), b"late");
    fs::rename(root.join("old"), root.join("archive")).unwrap();
    fs::remove_file(root.join("keep/notes.md")).unwrap();
    write(&root.join("archive/report-03.txt"), &[b'x'; 5000]);
    settles_to_clean(lib, &[root.as_path()], mode);
    let clean = library();
    index(&clean.lib, &root, mode);
    let queries = [
        everything.clone(),
        Query {
            text: "report".into(),
            limit: 10,
            ..Default::default()
        },
        Query {
            text: "report".into(),
            sort: Sort::Size,
            limit: 5,
            offset: 2,
            ..Default::default()
        },
        Query {
            text: "rep".into(),
            within: Some(root.join("archive")),
            sort: Sort::Name,
            limit: 100,
            ..Default::default()
        },
        Query {
            size: Some((1000, u64::MAX)),
            limit: 100,
            ..Default::default()
        },
    ];
    for q in &queries {
        let live = lib.search(q).unwrap();
        let want = clean.lib.search(q).unwrap();
        let paths = |r: &cairn::vdfs::query::search::Results| {
            let mut v: Vec<_> = r.hits.iter().map(|h| h.path.clone()).collect();
            if q.sort == Sort::Relevance || q.sort == Sort::Name {
                v.sort();
            }
            v
        };
        assert_eq!(live.total, want.total, "{q:?}");
        assert_eq!(paths(&live), paths(&want), "{q:?}");
    }
    // No rebuild: the file on disk is still the index built before the changes.
    assert_eq!(
        cairn::vdfs::query::search::names::file_generation(&names_file),
        Some(built)
    );
}

#[test]
fn at_the_watch_limit_it_says_so_and_lists_the_rest_periodically() {
    let _one = serial();
    let (_d, base) = canonical_tempdir();
    let root = base.join("many");
    for d in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        write(&root.join(d).join("x.txt"), b"x");
    }
    let l = library();
    let lib = &l.lib;
    let id = index(lib, &root, IndexMode::Shallow);
    // As if the system allowed 3 watches: the root and two folders are watched.
    lib.start_watching_limited(3, Duration::from_millis(300))
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = lib.watch_status().get(&id).filter(|s| s.watched > 0) {
            break s.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "never watched");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.limit_reached);
    assert_eq!((status.watched, status.folders), (3, 9));
    assert!(
        status
            .describe()
            .starts_with("watching 3 of 9 folders — raise fs.inotify.max_user_watches"),
        "{}",
        status.describe()
    );
    // A change in a folder without a watch is found by the periodic listing.
    write(&root.join("h/late.txt"), b"late");
    settles_to_clean(lib, &[root.as_path()], IndexMode::Shallow);
    // And one in a watched folder by its event, as always.
    write(&root.join("a/soon.txt"), b"soon");
    settles_to_clean(lib, &[root.as_path()], IndexMode::Shallow);
}

/// Tags and notes survive what the live index sees (issue "Tags…", "never lost"): a tagged
/// folder renamed and a noted file moved into another folder, with no rescan, keep them; a
/// location that goes offline keeps them too.
#[test]
fn tags_and_notes_follow_their_files_through_the_live_index() {
    let _one = serial();
    let (_d, root) = canonical_tempdir();
    write(&root.join("Trip/day1.jpg"), b"one");
    write(&root.join("Trip/day2.jpg"), b"two");
    write(&root.join("notes/todo.txt"), b"todo");
    let (l, id) = watched(&root, IndexMode::Shallow);
    let lib = &l.lib;
    lib.create_tag(&cairn::vdfs::library::NewTag {
        name: "Holiday".into(),
        ..Default::default()
    })
    .unwrap();
    lib.tag_paths("Holiday", &[root.join("Trip")], false, true)
        .unwrap();
    lib.set_meta(
        &root.join("notes/todo.txt"),
        false,
        cairn::vdfs::library::MetaChange {
            note: Some("call back".into()),
            rating: Some(3),
            label: Some(2),
            favourite: Some(true),
        },
    )
    .unwrap();
    let tag = lib.find_tag("Holiday").unwrap().id;
    fs::rename(root.join("Trip"), root.join("Italy 2026")).unwrap();
    fs::rename(
        root.join("notes/todo.txt"),
        root.join("Italy 2026/todo.txt"),
    )
    .unwrap();
    settles_to_clean(lib, &[&root], IndexMode::Shallow);
    let q = cairn::vdfs::query::search::Query {
        tags: vec![tag],
        limit: 100,
        ..Default::default()
    };
    let mut found: Vec<String> = lib
        .search(&q)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.path.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    found.sort();
    assert_eq!(
        found,
        ["Italy 2026", "Italy 2026/day1.jpg", "Italy 2026/day2.jpg"]
    );
    let m = lib.meta_of(&root.join("Italy 2026/todo.txt")).unwrap();
    let m = m.entry.unwrap();
    assert_eq!((m.note.as_str(), m.rating), ("call back", 3));
    assert!(lib.missing_items().unwrap().is_empty());
    let _ = id;
}
