//! File operations as users meet them: copy, move, rename, new folder, trash, permanent
//! delete, restore, undo and redo from the CLI and the library; refusals (into itself, no
//! space, a link swapped in after the preview); conflicts; names that are not UTF-8; the index
//! following every change; and the kill matrix (SIGKILL at every kind of moment, then resume).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{cairn, fails, json, ok};

/// Kind, size and BLAKE3 (or a link's target) of every entry below `root`, by relative path
/// bytes.
fn digest(root: &Path) -> BTreeMap<Vec<u8>, String> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<Vec<u8>, String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd {
            let e = e.unwrap();
            let p = e.path();
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .as_os_str()
                .as_bytes()
                .to_vec();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let v = if m.is_symlink() {
                format!("link {:?}", std::fs::read_link(&p).unwrap())
            } else if m.is_dir() {
                walk(root, &p, out);
                "dir".to_owned()
            } else {
                format!(
                    "file {} {}",
                    m.len(),
                    blake3::hash(&std::fs::read(&p).unwrap())
                )
            };
            out.insert(rel, v);
        }
    }
    walk(root, root, &mut out);
    out
}

/// A small tree with what trips file managers: nested folders, an empty file, a 3 MiB file
/// (several read chunks), a link, a name that is not UTF-8, a read-only folder.
fn make_tree(root: &Path, files: usize) {
    std::fs::create_dir_all(root.join("a/b/c")).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    for i in 0..files {
        let dir = match i % 3 {
            0 => root.to_owned(),
            1 => root.join("a"),
            _ => root.join("a/b/c"),
        };
        let body: Vec<u8> = (0..(i * 997 % 20_000))
            .map(|k| (k * 31 + i) as u8)
            .collect();
        std::fs::write(dir.join(format!("file{i:03}.dat")), body).unwrap();
    }
    std::fs::write(root.join("zero"), b"").unwrap();
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|k| (k % 251) as u8).collect();
    std::fs::write(root.join("a/big.bin"), big).unwrap();
    std::os::unix::fs::symlink("file000.dat", root.join("link")).unwrap();
    std::fs::write(
        root.join(OsStr::from_bytes(b"caf\xe9-latin1.txt")),
        b"bytes",
    )
    .unwrap();
}

fn no_temps(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.file_name().unwrap().as_bytes().starts_with(b".cairn-") {
                out.push(p.clone());
            }
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                walk(&p, out);
            }
        }
    }
    walk(root, &mut out);
    out
}

/// A `cairn` command with its own home trash under `t`.
fn cmd(data: &Path, t: &Path) -> Command {
    let mut c = cairn(data);
    c.env("XDG_DATA_HOME", t.join("xdg"));
    c
}

fn check_index(data: &Path, t: &Path) {
    let out = ok(cmd(data, t).args(["debug", "check-index"]));
    assert!(out.contains("consistent"), "{out}");
}

#[test]
fn copy_is_exact_verified_and_indexed_with_the_same_content() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let data = t.join("data");
    let w = t.join("w");
    let src = w.join("src");
    make_tree(&src, 30);
    std::fs::create_dir(w.join("dst")).unwrap();
    ok(cmd(&data, t).args(["location", "add"]).arg(&w));
    let before = digest(&src);
    let t = &w;
    // The preview touches nothing.
    let p = json(&ok(cmd(&data, t)
        .args(["--json", "cp", "--dry-run"])
        .arg(&src)
        .arg(t.join("dst"))));
    assert_eq!(p["files"], 34, "{p}");
    assert!(!t.join("dst/src").exists());
    ok(cmd(&data, t).arg("cp").arg(&src).arg(t.join("dst")));
    assert_eq!(digest(&t.join("dst/src")), before);
    assert_eq!(digest(&src), before);
    assert!(no_temps(t).is_empty());
    check_index(&data, t);
    // The copy's entry shares the source's content identity (no rehash needed) and has its
    // own UUID.
    let a = json(&ok(cmd(&data, t)
        .args(["--json", "stat"])
        .arg(src.join("a/big.bin"))));
    let b = json(&ok(cmd(&data, t)
        .args(["--json", "stat"])
        .arg(t.join("dst/src/a/big.bin"))));
    assert!(a["content"]["content_uuid"].is_string(), "{a}");
    assert_eq!(a["content"]["content_uuid"], b["content"]["content_uuid"]);
    assert_eq!(b["content"]["instances"], 2, "{b}");
    assert!(b["entry"]["uuid"].is_string(), "{b}");
    assert_ne!(a["entry"]["uuid"], b["entry"]["uuid"]);
    // Copying again: the names are taken; the default refuses, keep-both makes "src (2)".
    let err = fails(cmd(&data, t).arg("cp").arg(&src).arg(t.join("dst")));
    assert!(err.contains("already exist"), "{err}");
    ok(cmd(&data, t)
        .args(["cp", "--on-conflict", "keep-both"])
        .arg(&src)
        .arg(t.join("dst")));
    assert_eq!(digest(&t.join("dst/src (2)")), before);
    check_index(&data, t);
}

#[test]
fn refusals_name_the_path_and_change_nothing() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let data = t.join("data");
    let src = t.join("src");
    make_tree(&src, 6);
    let before = digest(t);
    let err = fails(cmd(&data, t).arg("cp").arg(&src).arg(src.join("a")));
    assert!(err.contains("into itself") && err.contains("/src"), "{err}");
    let err = fails(cmd(&data, t).arg("mv").arg(&src).arg(t));
    assert!(err.contains("already in"), "{err}");
    let err = fails(cmd(&data, t).arg("cp").arg(t.join("nope")).arg(t));
    assert!(err.contains("does not exist"), "{err}");
    let err = fails(cmd(&data, t).args(["rm"]).arg(&src));
    assert!(err.contains("--permanent"), "{err}");
    let err = fails(
        cmd(&data, t)
            .args(["rename"])
            .arg(src.join("zero"))
            .arg("a/b"),
    );
    assert!(err.contains('/'), "{err}");
    let mut after = digest(t);
    after.retain(|k, _| !k.starts_with(b"data"));
    let mut before = before;
    before.retain(|k, _| !k.starts_with(b"data"));
    assert_eq!(after, before);
}

#[test]
fn a_full_destination_is_refused_at_preview() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let Some(small) = crate::common::Tmpfs::mount(t, "small", "1m") else {
        return;
    };
    let data = t.join("data");
    let src = t.join("src");
    make_tree(&src, 3);
    let err = fails(cmd(&data, t).arg("cp").arg(&src).arg(&small.path));
    assert!(
        err.contains("not enough space") && err.contains("small"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&small.path).unwrap().count(), 0);
}

#[test]
fn names_a_fat_drive_cannot_hold_are_refused_at_preview_and_the_rest_copies_exactly() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let Some(fat) = crate::common::FatImage::mount(t, "stick") else {
        return;
    };
    let data = t.join("data");
    let good = t.join("good");
    std::fs::create_dir_all(good.join("sub")).unwrap();
    std::fs::write(good.join("notes.txt"), b"fine on any drive").unwrap();
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|k| (k % 253) as u8).collect();
    std::fs::write(good.join("sub/big.bin"), &big).unwrap();
    let bad = t.join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("ok.txt"), b"ok").unwrap();
    std::fs::write(bad.join("10:30 meeting.txt"), b"colon").unwrap();
    // Each name the FAT drive cannot hold is refused at preview, named, and nothing is written.
    let err = fails(cmd(&data, t).arg("cp").arg(&bad).arg(&fat.path));
    assert!(
        err.contains("10:30 meeting.txt") && err.contains(':'),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&fat.path).unwrap().count(), 0);
    // The name it can hold previews cleanly (and a dry run writes nothing either).
    ok(cmd(&data, t)
        .args(["cp", "--dry-run"])
        .arg(bad.join("ok.txt"))
        .arg(&fat.path));
    assert_eq!(std::fs::read_dir(&fat.path).unwrap().count(), 0);
    // A tree it can hold is copied and verified exactly, then renamed only to names it holds.
    ok(cmd(&data, t).arg("cp").arg(&good).arg(&fat.path));
    assert_eq!(digest(&fat.path.join("good")), digest(&good));
    assert!(no_temps(&fat.path).is_empty());
    let err = fails(
        cmd(&data, t)
            .arg("rename")
            .arg(fat.path.join("good/notes.txt"))
            .arg("what?.txt"),
    );
    assert!(
        err.contains("what?.txt") && err.contains("cannot hold"),
        "{err}"
    );
    let err = fails(
        cmd(&data, t)
            .arg("rename")
            .arg(fat.path.join("good/notes.txt"))
            .arg("notes."),
    );
    assert!(err.contains("ends with a dot"), "{err}");
    ok(cmd(&data, t)
        .arg("rename")
        .arg(fat.path.join("good/notes.txt"))
        .arg("notes 2026.txt"));
    assert_eq!(
        std::fs::read(fat.path.join("good/notes 2026.txt")).unwrap(),
        b"fine on any drive"
    );
}

#[test]
fn names_that_are_not_utf8_are_copied_moved_renamed_trashed_and_restored_exactly() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let data = t.join("data");
    let dir = t.join("d");
    std::fs::create_dir(&dir).unwrap();
    let name = OsStr::from_bytes(b"r\xe9sum\xe9 \xff.txt");
    std::fs::write(dir.join(name), b"exact").unwrap();
    ok(cmd(&data, t).arg("cp").arg(dir.join(name)).arg(t));
    assert_eq!(std::fs::read(t.join(name)).unwrap(), b"exact");
    let new = OsStr::from_bytes(b"\xfe\xfd");
    ok(cmd(&data, t).arg("rename").arg(t.join(name)).arg(new));
    assert!(t.join(new).exists() && !t.join(name).exists());
    ok(cmd(&data, t).arg("mv").arg(t.join(new)).arg(&dir));
    assert_eq!(std::fs::read(dir.join(new)).unwrap(), b"exact");
    ok(cmd(&data, t).arg("trash").arg(dir.join(new)));
    assert!(!dir.join(new).exists());
    let trashed = t.join("xdg/Trash/files").join(new);
    assert_eq!(std::fs::read(&trashed).unwrap(), b"exact");
    ok(cmd(&data, t).args(["trash", "restore"]).arg(dir.join(new)));
    assert_eq!(std::fs::read(dir.join(new)).unwrap(), b"exact");
    assert_eq!(
        std::fs::read_dir(t.join("xdg/Trash/info")).unwrap().count(),
        0
    );
}

#[test]
fn moves_keep_uuids_trash_and_undo_bring_them_back_and_redo_redoes() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let data = t.join("data");
    let loc = t.join("loc");
    make_tree(&loc, 12);
    std::fs::create_dir(loc.join("into")).unwrap();
    ok(cmd(&data, t).args(["location", "add"]).arg(&loc));
    let uuid = |p: &Path| {
        let v = json(&ok(cmd(&data, t).args(["--json", "stat"]).arg(p)))["entry"]["uuid"].clone();
        assert!(v.is_string(), "{} is not indexed", p.display());
        v
    };
    let a = uuid(&loc.join("a"));
    let f = uuid(&loc.join("file000.dat"));
    ok(cmd(&data, t)
        .arg("mv")
        .arg(loc.join("a"))
        .arg(loc.join("file000.dat"))
        .arg(loc.join("into")));
    assert_eq!(uuid(&loc.join("into/a")), a);
    assert_eq!(uuid(&loc.join("into/file000.dat")), f);
    check_index(&data, t);
    ok(cmd(&data, t).arg("trash").arg(loc.join("into")));
    assert!(!loc.join("into").exists());
    check_index(&data, t);
    // Undo the trash: back with its UUIDs; undo the move: back where it was.
    ok(cmd(&data, t).arg("undo"));
    assert_eq!(uuid(&loc.join("into/a")), a);
    check_index(&data, t);
    ok(cmd(&data, t).arg("undo"));
    assert_eq!(uuid(&loc.join("a")), a);
    assert_eq!(uuid(&loc.join("file000.dat")), f);
    check_index(&data, t);
    // Redo the move.
    ok(cmd(&data, t).arg("redo"));
    assert!(loc.join("into/a").exists() && !loc.join("a").exists());
    assert_eq!(uuid(&loc.join("into/a")), a);
    check_index(&data, t);
    let h = json(&ok(cmd(&data, t).args(["--json", "history"])));
    let titles: Vec<String> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(titles[0].starts_with("Redo: Move"), "{titles:?}");
    // An undo refuses when the world changed: the moved file edited is not moved back
    // silently over something new at its old place.
    std::fs::write(loc.join("a"), b"new thing here").unwrap();
    let err = fails(cmd(&data, t).arg("undo"));
    assert!(err.contains("exists again"), "{err}");
}

#[test]
fn rename_new_folder_and_their_undo() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let data = t.join("data");
    let loc = t.join("loc");
    make_tree(&loc, 3);
    ok(cmd(&data, t).args(["location", "add"]).arg(&loc));
    ok(cmd(&data, t).arg("mkdir").arg(loc.join("New Folder")));
    assert!(loc.join("New Folder").is_dir());
    let err = fails(cmd(&data, t).arg("mkdir").arg(loc.join("New Folder")));
    assert!(err.contains("already exists"), "{err}");
    ok(cmd(&data, t)
        .arg("rename")
        .arg(loc.join("zero"))
        .arg("nothing.txt"));
    assert!(loc.join("nothing.txt").exists());
    check_index(&data, t);
    ok(cmd(&data, t).arg("undo"));
    assert!(loc.join("zero").exists() && !loc.join("nothing.txt").exists());
    ok(cmd(&data, t).arg("undo"));
    assert!(!loc.join("New Folder").exists());
    check_index(&data, t);
}

#[test]
fn permanent_delete_and_the_trash_commands() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let data = t.join("data");
    let loc = t.join("loc");
    make_tree(&loc, 6);
    ok(cmd(&data, t).args(["location", "add"]).arg(&loc));
    // Without --yes, only the preview is shown.
    fails(cmd(&data, t).args(["rm", "--permanent"]).arg(loc.join("a")));
    assert!(loc.join("a").exists());
    ok(cmd(&data, t)
        .args(["rm", "--permanent", "--yes"])
        .arg(loc.join("a")));
    assert!(!loc.join("a").exists());
    check_index(&data, t);
    let err = fails(cmd(&data, t).arg("undo").arg("1"));
    assert!(err.contains("cannot be undone"), "{err}");
    ok(cmd(&data, t)
        .arg("trash")
        .arg(loc.join("zero"))
        .arg(loc.join("link")));
    let list = json(&ok(cmd(&data, t).args(["--json", "trash", "list"])));
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    ok(cmd(&data, t).args(["trash", "empty", "--yes"]));
    let list = json(&ok(cmd(&data, t).args(["--json", "trash", "list"])));
    assert_eq!(list.as_array().unwrap().len(), 0);
    // The link was removed, never followed: its target is still there.
    assert!(loc.join("file000.dat").exists());
}

#[test]
fn a_link_swapped_in_after_the_preview_is_refused_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let lib = crate::common::library();
    let src = t.join("src");
    make_tree(&src, 3);
    let dst = t.join("dst");
    std::fs::create_dir(&dst).unwrap();
    let elsewhere = t.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let req = cairn::vdfs::actions::Request::new(
        cairn::vdfs::actions::OpKind::Copy,
        vec![src.join("file000.dat"), src.join("a")],
    )
    .to(&dst);
    let p = lib.lib.preview(&req).unwrap();
    assert!(p.can_commit(), "{:?}", p.refusals);
    // Between preview and commit, the destination becomes a link to another folder.
    std::fs::remove_dir(&dst).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &dst).unwrap();
    match lib.lib.commit(&p).unwrap() {
        cairn::vdfs::actions::Committed::Job { handle, .. } => {
            handle.wait();
            let rec = lib.lib.jobs().get(handle.id()).unwrap();
            assert!(rec.error_count >= 2, "{rec:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing went through the link"
    );
}

/// Runs `args` with the kill seam set to `at`, then `jobs resume --all`. Returns whether the
/// kill happened.
fn kill_then_resume(data: &Path, t: &Path, args: &[&OsStr], at: u64) -> bool {
    let out = cmd(data, t)
        .args(args)
        .env("CAIRN_TEST_KILL_AT", at.to_string())
        .env("CAIRN_TEST_OP_BATCH", "7")
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    let killed = out.status.signal() == Some(9);
    if !killed {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    ok(cmd(data, t)
        .args(["jobs", "resume", "--all"])
        .env("CAIRN_TEST_OP_BATCH", "7"));
    killed
}

/// How many kill points a run of `args` passes (run on a throwaway copy of the world).
fn kill_points(data: &Path, t: &Path, args: &[&OsStr]) -> u64 {
    let log = t.join("kill-log");
    ok(cmd(data, t)
        .args(args)
        .env("CAIRN_TEST_KILL_LOG", &log)
        .env("CAIRN_TEST_OP_BATCH", "7"));
    std::fs::read_to_string(&log)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// `n` kill moments spread over `1..=total`.
fn moments(total: u64, n: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).map(|i| 1 + i * total / n).collect();
    v.push(total);
    v.dedup();
    v
}

#[test]
fn kill_matrix_copy() {
    let base = tempfile::tempdir().unwrap();
    let base = &std::fs::canonicalize(base.path()).unwrap();
    let proto = base.join("proto");
    make_tree(&proto, 40);
    let want = digest(&proto);
    // Count the points once.
    let total = {
        let t = base.join("count");
        std::fs::create_dir(&t).unwrap();
        let src = t.join("src");
        copy_tree(&proto, &src);
        std::fs::create_dir(t.join("dst")).unwrap();
        kill_points(
            &t.join("data"),
            &t,
            &[OsStr::new("cp"), src.as_os_str(), t.join("dst").as_os_str()],
        )
    };
    assert!(total >= 20, "only {total} kill points");
    let mut kills = 0;
    for (i, at) in moments(total, 24).into_iter().enumerate() {
        let t = base.join(format!("run{i}"));
        std::fs::create_dir(&t).unwrap();
        let src = t.join("src");
        copy_tree(&proto, &src);
        std::fs::create_dir(t.join("dst")).unwrap();
        let data = t.join("data");
        kills += u64::from(kill_then_resume(
            &data,
            &t,
            &[OsStr::new("cp"), src.as_os_str(), t.join("dst").as_os_str()],
            at,
        ));
        assert_eq!(
            digest(&t.join("dst/src")),
            want,
            "after a kill at point {at} of {total}"
        );
        assert_eq!(digest(&src), want);
        assert!(
            no_temps(&t).is_empty(),
            "temporary files left after a kill at {at}: {:?}",
            no_temps(&t)
        );
        check_index(&data, &t);
        std::fs::remove_dir_all(&t).unwrap();
    }
    assert!(kills >= 20, "only {kills} runs were killed");
    eprintln!("kill matrix, copy: {kills} kills over {total} points, every tree exact");
}

#[test]
fn kill_matrix_move_across_volumes() {
    let base = tempfile::tempdir().unwrap();
    let base = &std::fs::canonicalize(base.path()).unwrap();
    let Some(vol) = crate::common::Tmpfs::mount(base, "vol", "64m") else {
        return;
    };
    let proto = base.join("proto");
    make_tree(&proto, 30);
    let want = digest(&proto);
    let args = |src: &Path, dst: &Path| -> Vec<std::ffi::OsString> {
        vec![
            "mv".into(),
            src.as_os_str().to_owned(),
            dst.as_os_str().to_owned(),
        ]
    };
    let total = {
        let t = base.join("count");
        std::fs::create_dir(&t).unwrap();
        let src = t.join("src");
        copy_tree(&proto, &src);
        let dst = vol.path.join("count");
        std::fs::create_dir(&dst).unwrap();
        let a = args(&src, &dst);
        let a: Vec<&OsStr> = a.iter().map(|x| x.as_os_str()).collect();
        kill_points(&t.join("data"), &t, &a)
    };
    let mut kills = 0;
    for (i, at) in moments(total, 22).into_iter().enumerate() {
        let t = base.join(format!("run{i}"));
        std::fs::create_dir(&t).unwrap();
        let src = t.join("src");
        copy_tree(&proto, &src);
        let dst = vol.path.join(format!("run{i}"));
        std::fs::create_dir(&dst).unwrap();
        let a = args(&src, &dst);
        let a: Vec<&OsStr> = a.iter().map(|x| x.as_os_str()).collect();
        // At the kill: every file complete at its source or complete at its destination.
        let out = cmd(&t.join("data"), &t)
            .args(&a)
            .env("CAIRN_TEST_KILL_AT", at.to_string())
            .env("CAIRN_TEST_OP_BATCH", "7")
            .output()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        kills += u64::from(out.status.signal() == Some(9));
        let (s, d) = (digest(&src), digest(&dst.join("src")));
        for (k, v) in &want {
            if v.starts_with("file") {
                assert!(
                    s.get(k) == Some(v) || d.get(k) == Some(v),
                    "after a kill at {at}, {} is complete on neither side",
                    String::from_utf8_lossy(k)
                );
            }
        }
        for (k, v) in &d {
            let temp = k
                .rsplit(|&b| b == b'/')
                .next()
                .is_some_and(|n| n.starts_with(b".cairn-"));
            if v.starts_with("file") && !temp {
                assert_eq!(
                    want.get(k),
                    Some(v),
                    "a half-written file under its final name after a kill at {at}"
                );
            }
        }
        ok(cmd(&t.join("data"), &t)
            .args(["jobs", "resume", "--all"])
            .env("CAIRN_TEST_OP_BATCH", "7"));
        assert_eq!(
            digest(&dst.join("src")),
            want,
            "after a kill at {at} of {total}"
        );
        assert!(
            !src.exists(),
            "the source stays after the move completed (kill at {at})"
        );
        assert!(no_temps(&dst).is_empty());
        std::fs::remove_dir_all(&t).unwrap();
        std::fs::remove_dir_all(&dst).unwrap();
    }
    assert!(
        kills >= 20,
        "only {kills} runs were killed of {total} points"
    );
    eprintln!(
        "kill matrix, move across volumes: {kills} kills over {total} points, every file on one side"
    );
}

#[test]
fn kill_matrix_trash() {
    let base = tempfile::tempdir().unwrap();
    let base = &std::fs::canonicalize(base.path()).unwrap();
    let files = 2000;
    let make = |dir: &Path| {
        std::fs::create_dir_all(dir).unwrap();
        for i in 0..files {
            std::fs::write(dir.join(format!("t{i:04}")), i.to_string()).unwrap();
        }
    };
    let args = |dir: &Path| -> Vec<std::ffi::OsString> {
        let mut v: Vec<std::ffi::OsString> = vec!["trash".into()];
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path().into_os_string())
            .collect();
        names.sort();
        v.extend(names);
        v
    };
    let total = {
        let t = base.join("count");
        make(&t.join("src"));
        let a = args(&t.join("src"));
        let a: Vec<&OsStr> = a.iter().map(|x| x.as_os_str()).collect();
        kill_points(&t.join("data"), &t, &a)
    };
    let mut kills = 0;
    for (i, at) in moments(total, 20).into_iter().enumerate() {
        let t = base.join(format!("run{i}"));
        let src = t.join("src");
        make(&src);
        let a = args(&src);
        let a: Vec<&OsStr> = a.iter().map(|x| x.as_os_str()).collect();
        kills += u64::from(kill_then_resume(&t.join("data"), &t, &a, at));
        assert_eq!(std::fs::read_dir(&src).unwrap().count(), 0, "kill at {at}");
        let trash = t.join("xdg/Trash");
        let mut got: Vec<String> = std::fs::read_dir(trash.join("files"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        got.sort_by_key(|s| s.parse::<u32>().unwrap());
        assert_eq!(got.len(), files, "kill at {at}");
        assert!(got.iter().enumerate().all(|(i, s)| *s == i.to_string()));
        let infos = std::fs::read_dir(trash.join("info")).unwrap().count();
        assert_eq!(
            infos, files,
            "orphaned or missing info files after a kill at {at}"
        );
        std::fs::remove_dir_all(&t).unwrap();
    }
    assert!(
        kills >= 18,
        "only {kills} of the runs were killed ({total} points)"
    );
    eprintln!("kill matrix, trash of {files} files: {kills} kills over {total} points");
}

fn copy_tree(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn dupes_trash_others_keeps_one_copy_of_each_and_is_one_undoable_operation() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let data = t.join("data");
    let loc = t.join("loc");
    std::fs::create_dir_all(loc.join("x/y")).unwrap();
    for p in ["a1", "x/a2", "x/y/a3"] {
        std::fs::write(loc.join(p), b"same bytes A").unwrap();
    }
    for p in ["b1", "x/b2"] {
        std::fs::write(loc.join(p), b"same bytes B, longer").unwrap();
    }
    std::fs::write(loc.join("unique"), b"only one").unwrap();
    ok(cmd(&data, t)
        .args(["location", "add", "--mode", "content"])
        .arg(&loc));
    let p = json(&ok(cmd(&data, t)
        .args(["--json", "dupes", "--trash-others", "--keep"])
        .arg(format!("in:{}", loc.join("x").display()))
        .arg("--dry-run")));
    assert_eq!(p["items"].as_array().unwrap().len(), 3, "{p}");
    ok(cmd(&data, t)
        .args(["dupes", "--trash-others", "--keep"])
        .arg(format!("in:{}", loc.join("x").display())));
    let left: Vec<_> = ["a1", "x/a2", "x/y/a3", "b1", "x/b2", "unique"]
        .into_iter()
        .filter(|p| loc.join(p).exists())
        .collect();
    assert_eq!(left, ["x/a2", "x/b2", "unique"]);
    check_index(&data, t);
    ok(cmd(&data, t).arg("undo"));
    assert!(["a1", "x/y/a3", "b1"].iter().all(|p| loc.join(p).exists()));
    check_index(&data, t);
}

#[test]
fn dupes_link_others_frees_the_space_keeps_every_path_and_uuid_and_undoes_to_separate_copies() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let data = t.join("data");
    let loc = t.join("loc");
    std::fs::create_dir_all(loc.join("x/y")).unwrap();
    // 3 MiB: read in several chunks when the job compares the copies in full.
    let a: Vec<u8> = (0..3 * 1024 * 1024u32).map(|k| (k % 241) as u8).collect();
    for p in ["a1", "x/a2", "x/y/a3"] {
        std::fs::write(loc.join(p), &a).unwrap();
    }
    std::fs::write(loc.join("unique"), b"only one").unwrap();
    std::fs::set_permissions(loc.join("x/a2"), std::fs::Permissions::from_mode(0o600)).unwrap();
    ok(cmd(&data, t)
        .args(["location", "add", "--mode", "content"])
        .arg(&loc));
    let ino = |p: &str| std::fs::symlink_metadata(loc.join(p)).unwrap().ino();
    let uuid = |p: &str| {
        json(&ok(cmd(&data, t).args(["--json", "stat"]).arg(loc.join(p))))["entry"]["uuid"].clone()
    };
    let uuids: Vec<_> = ["a1", "x/a2", "x/y/a3"].map(uuid).to_vec();
    let before = digest(&loc);
    // The preview: two links to the kept copy (the shortest path), the bytes they free, and
    // what a user must know (shared edits; other permissions).
    let out = ok(cmd(&data, t).args(["dupes", "--link-others", "--keep", "shortest", "--dry-run"]));
    assert_eq!(out.matches("replace by a hard link").count(), 2, "{out}");
    assert!(
        out.contains("6.0 MiB") && out.contains("an edit to one shows in all"),
        "{out}"
    );
    assert!(out.contains("other permissions"), "{out}");
    assert_ne!(ino("a1"), ino("x/a2"));
    ok(cmd(&data, t).args(["dupes", "--link-others", "--keep", "shortest"]));
    assert_eq!(ino("a1"), ino("x/a2"));
    assert_eq!(ino("a1"), ino("x/y/a3"));
    assert_eq!(
        std::fs::symlink_metadata(loc.join("a1")).unwrap().nlink(),
        3
    );
    // Every path reads as before (the bytes; permissions are the kept copy's now).
    let mut after = digest(&loc);
    assert_eq!(after.len(), before.len());
    after.retain(|k, v| before.get(k) == Some(v));
    assert_eq!(after.len(), before.len());
    assert_eq!(["a1", "x/a2", "x/y/a3"].map(uuid).to_vec(), uuids);
    assert!(no_temps(&loc).is_empty());
    check_index(&data, t);
    // Nothing left to link.
    let out = ok(cmd(&data, t).args(["dupes", "--link-others", "--keep", "shortest"]));
    assert!(out.contains("No duplicate to link"), "{out}");
    // Undo: each path has its own copy again, the same bytes, the same entries.
    ok(cmd(&data, t).arg("undo"));
    let inodes = ["a1", "x/a2", "x/y/a3"].map(ino);
    assert!(inodes[0] != inodes[1] && inodes[1] != inodes[2] && inodes[0] != inodes[2]);
    assert_eq!(digest(&loc), before);
    assert_eq!(["a1", "x/a2", "x/y/a3"].map(uuid).to_vec(), uuids);
    assert!(no_temps(&loc).is_empty());
    check_index(&data, t);
    // Redo links them again.
    ok(cmd(&data, t).arg("redo"));
    assert_eq!(ino("a1"), ino("x/y/a3"));
    check_index(&data, t);
    // A copy on another volume is not linked (left out), and a file edited since the index
    // is not a duplicate any more.
    ok(cmd(&data, t).arg("undo"));
    std::fs::write(loc.join("x/y/a3"), b"edited").unwrap();
    let out = ok(cmd(&data, t).args(["dupes", "--link-others", "--keep", "shortest", "--dry-run"]));
    assert!(!out.contains("a3"), "{out}");
}

#[test]
fn kill_matrix_hard_links() {
    use std::os::unix::fs::MetadataExt;
    let base = tempfile::tempdir().unwrap();
    let base = &std::fs::canonicalize(base.path()).unwrap();
    let pairs = 60;
    // Each pair: `a/fNN` (kept: the shorter path) and `b/c/fNN`, the same bytes.
    let make = |t: &Path| {
        let loc = t.join("loc");
        std::fs::create_dir_all(loc.join("a")).unwrap();
        std::fs::create_dir_all(loc.join("b/c")).unwrap();
        for i in 0..pairs {
            let body = format!("pair {i} ").repeat(50 + i);
            std::fs::write(loc.join(format!("a/f{i:02}")), &body).unwrap();
            std::fs::write(loc.join(format!("b/c/f{i:02}")), &body).unwrap();
        }
        ok(cmd(&t.join("data"), t)
            .args(["location", "add", "--mode", "content"])
            .arg(&loc));
        loc
    };
    let args: Vec<&OsStr> = ["dupes", "--link-others", "--keep", "shortest"]
        .map(OsStr::new)
        .to_vec();
    let total = {
        let t = base.join("count");
        make(&t);
        kill_points(&t.join("data"), &t, &args)
    };
    let mut kills = 0;
    for (i, at) in moments(total, 20).into_iter().enumerate() {
        let t = base.join(format!("run{i}"));
        let loc = make(&t);
        let want = digest(&loc);
        kills += u64::from(kill_then_resume(&t.join("data"), &t, &args, at));
        // Every path reads as before, each pair is one file, and no temporary link is left.
        assert_eq!(digest(&loc), want, "kill at {at}");
        for n in 0..pairs {
            let ino = |p: String| std::fs::metadata(loc.join(p)).unwrap().ino();
            assert_eq!(
                ino(format!("a/f{n:02}")),
                ino(format!("b/c/f{n:02}")),
                "pair {n} not linked after a kill at {at} and the resume"
            );
        }
        assert!(no_temps(&loc).is_empty(), "kill at {at}");
        check_index(&t.join("data"), &t);
        std::fs::remove_dir_all(&t).unwrap();
    }
    assert!(
        kills >= 18,
        "only {kills} of the runs were killed ({total} points)"
    );
    eprintln!("kill matrix, hard links of {pairs} pairs: {kills} kills over {total} points");
}

/// Names and contents of the plain files in `dir`.
fn names_and_contents(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn batch_rename_previews_swaps_refuses_and_undoes_as_one_keeping_uuids() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let data = t.join("data");
    let loc = t.join("loc");
    std::fs::create_dir(&loc).unwrap();
    for (n, body) in [("1.txt", "one"), ("2.txt", "two"), ("IMG_3.JPG", "three")] {
        std::fs::write(loc.join(n), body).unwrap();
    }
    std::fs::write(loc.join(OsStr::from_bytes(b"caf\xe9.txt")), "latin1").unwrap();
    ok(cmd(&data, t).args(["location", "add"]).arg(&loc));
    let uuid = |p: &Path| {
        let v = json(&ok(cmd(&data, t).args(["--json", "stat"]).arg(p)))["entry"]["uuid"].clone();
        assert!(v.is_string(), "{} is not indexed", p.display());
        v
    };
    let (u1, u2) = (uuid(&loc.join("1.txt")), uuid(&loc.join("2.txt")));
    let before = names_and_contents(&loc);

    // The dry run prints old → new for every item and touches nothing.
    let out = ok(cmd(&data, t)
        .args([
            "rename",
            "--dry-run",
            "--pattern",
            "photo-{n:3}.{ext}",
            "--case",
            "upper",
        ])
        .arg(loc.join("IMG_3.JPG"))
        .arg(loc.join(OsStr::from_bytes(b"caf\xe9.txt")))
        .arg(loc.join("1.txt")));
    assert!(out.contains("IMG_3.JPG → PHOTO-001.JPG"), "{out}");
    assert!(out.contains("→ PHOTO-002.txt"), "{out}");
    assert!(
        out.contains("1.txt") && out.contains("→ PHOTO-003.txt"),
        "{out}"
    );
    assert!(out.contains("3 of 3 items renamed"), "{out}");
    let p = json(&ok(cmd(&data, t)
        .args([
            "--json",
            "rename",
            "--dry-run",
            "--find",
            "txt",
            "--replace",
            "md",
        ])
        .arg(loc.join("1.txt"))
        .arg(loc.join("IMG_3.JPG"))));
    assert_eq!(p["kind"], "batch_rename", "{p}");
    assert_eq!(p["items"][0]["outcome"], "rename", "{p}");
    assert_eq!(p["items"][1]["outcome"], "skip", "{p}");
    assert_eq!(names_and_contents(&loc), before);

    // Refusals name the item and change nothing: two items ending with one name, a name
    // taken by an item that is not renamed, a bad token, nothing changing.
    let err = fails(
        cmd(&data, t)
            .args(["rename", "--pattern", "same.{ext}"])
            .arg(loc.join("1.txt"))
            .arg(loc.join("2.txt")),
    );
    assert!(
        err.contains("1.txt") && err.contains("also the new name of “2.txt”"),
        "{err}"
    );
    let err = fails(
        cmd(&data, t)
            .args(["rename", "--pattern", "2.txt"])
            .arg(loc.join("1.txt")),
    );
    assert!(err.contains("1.txt: “2.txt” is taken"), "{err}");
    let err = fails(
        cmd(&data, t)
            .args(["rename", "--pattern", "{nmae}"])
            .arg(loc.join("1.txt")),
    );
    assert!(err.contains("{nmae}"), "{err}");
    let err = fails(
        cmd(&data, t)
            .args(["rename", "--find", "zzz"])
            .arg(loc.join("1.txt")),
    );
    assert!(err.contains("no name changes"), "{err}");
    let err = fails(
        cmd(&data, t)
            .arg("rename")
            .arg(loc.join("1.txt"))
            .arg(loc.join("2.txt"))
            .arg(loc.join("IMG_3.JPG")),
    );
    assert!(err.contains("--pattern"), "{err}");
    assert_eq!(names_and_contents(&loc), before);

    // A cycle: 2.txt → 1.txt and 1.txt → 2.txt, in one operation, through no overwrite.
    ok(cmd(&data, t)
        .args(["rename", "--pattern", "{n}.{ext}"])
        .arg(loc.join("2.txt"))
        .arg(loc.join("1.txt")));
    let swapped = names_and_contents(&loc);
    assert_eq!(swapped["1.txt"], "two");
    assert_eq!(swapped["2.txt"], "one");
    assert_eq!(swapped.len(), before.len(), "{swapped:?}");
    assert!(no_temps(&loc).is_empty());
    assert_eq!(uuid(&loc.join("2.txt")), u1, "the entry follows its file");
    assert_eq!(uuid(&loc.join("1.txt")), u2);
    check_index(&data, t);

    // A chain: 1.txt → 2.txt → 3.txt (2.txt is renamed first).
    ok(cmd(&data, t)
        .args(["rename", "--pattern", "{n}.{ext}", "--start", "2"])
        .arg(loc.join("1.txt"))
        .arg(loc.join("2.txt")));
    let chained = names_and_contents(&loc);
    assert_eq!((&*chained["2.txt"], &*chained["3.txt"]), ("two", "one"));
    assert!(!chained.contains_key("1.txt"));
    // A name that is not UTF-8 keeps its bytes where the pattern does not touch them; the
    // counter steps.
    ok(cmd(&data, t)
        .args([
            "rename",
            "--pattern",
            "{n}-{name}.{ext}",
            "--start",
            "7",
            "--step",
            "3",
        ])
        .arg(loc.join("IMG_3.JPG"))
        .arg(loc.join(OsStr::from_bytes(b"caf\xe9.txt"))));
    assert_eq!(
        std::fs::read(loc.join(OsStr::from_bytes(b"10-caf\xe9.txt"))).unwrap(),
        b"latin1"
    );
    assert!(loc.join("7-IMG_3.JPG").exists());
    check_index(&data, t);

    // Each batch is one audit record, undone as one and redone as one.
    let h = json(&ok(cmd(&data, t).args(["--json", "history"])));
    let titles: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Rename 2 items"; 3], "{h}");
    ok(cmd(&data, t).arg("undo"));
    assert_eq!(names_and_contents(&loc), chained);
    ok(cmd(&data, t).arg("undo"));
    assert_eq!(names_and_contents(&loc), swapped);
    ok(cmd(&data, t).arg("undo"));
    assert_eq!(names_and_contents(&loc), before);
    assert_eq!(uuid(&loc.join("1.txt")), u1);
    assert_eq!(uuid(&loc.join("2.txt")), u2);
    check_index(&data, t);
    ok(cmd(&data, t).arg("redo"));
    assert_eq!(names_and_contents(&loc), swapped);
    assert!(no_temps(&loc).is_empty());
    check_index(&data, t);
    // An item changed since is not renamed back over a guess.
    std::fs::remove_file(loc.join("1.txt")).unwrap();
    let err = fails(cmd(&data, t).arg("undo"));
    assert!(err.contains("1.txt is no longer there"), "{err}");
}

#[test]
fn kill_matrix_batch_rename() {
    let base = tempfile::tempdir().unwrap();
    let base = &std::fs::canonicalize(base.path()).unwrap();
    // Forty files in two cycles of twenty: the item at position k of the list is named
    // `fk`, and the list is each cycle rotated by one.
    let make = |dir: &Path| {
        std::fs::create_dir_all(dir).unwrap();
        for k in 0..40 {
            std::fs::write(dir.join(format!("f{k:02}")), format!("content {k}")).unwrap();
        }
    };
    let order: Vec<usize> = (1..20).chain([0]).chain(21..40).chain([20]).collect();
    let args = |dir: &Path| -> Vec<std::ffi::OsString> {
        let mut v: Vec<std::ffi::OsString> = vec![
            "rename".into(),
            "--pattern".into(),
            "f{n:2}".into(),
            "--start".into(),
            "0".into(),
        ];
        v.extend(
            order
                .iter()
                .map(|k| dir.join(format!("f{k:02}")).into_os_string()),
        );
        v
    };
    let want: BTreeMap<String, String> = order
        .iter()
        .enumerate()
        .map(|(pos, k)| (format!("f{pos:02}"), format!("content {k}")))
        .collect();
    let total = {
        let t = base.join("count");
        make(&t.join("loc"));
        ok(cmd(&t.join("data"), &t)
            .args(["location", "add"])
            .arg(t.join("loc")));
        let a = args(&t.join("loc"));
        let a: Vec<&OsStr> = a.iter().map(|x| x.as_os_str()).collect();
        let n = kill_points(&t.join("data"), &t, &a);
        assert_eq!(names_and_contents(&t.join("loc")), want);
        n
    };
    assert!(total >= 42, "only {total} kill points");
    let mut kills = 0;
    for (i, at) in moments(total, 14).into_iter().enumerate() {
        let t = base.join(format!("run{i}"));
        let loc = t.join("loc");
        make(&loc);
        let data = t.join("data");
        ok(cmd(&data, &t).args(["location", "add"]).arg(&loc));
        let a = args(&loc);
        let a: Vec<&OsStr> = a.iter().map(|x| x.as_os_str()).collect();
        let out = cmd(&data, &t)
            .args(&a)
            .env("CAIRN_TEST_KILL_AT", at.to_string())
            .env("CAIRN_TEST_OP_BATCH", "7")
            .output()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        kills += u64::from(out.status.signal() == Some(9));
        // At the kill: every file is there once, under its old, its new or a temporary name.
        let now = names_and_contents(&loc);
        let mut contents: Vec<&String> = now.values().collect();
        contents.sort();
        let mut all: Vec<&String> = want.values().collect();
        all.sort();
        assert_eq!(contents, all, "after a kill at {at}: {now:?}");
        assert!(
            now.keys()
                .all(|n| want.contains_key(n) || n.starts_with(".cairn-")),
            "{now:?}"
        );
        ok(cmd(&data, &t)
            .args(["jobs", "resume", "--all"])
            .env("CAIRN_TEST_OP_BATCH", "7"));
        assert_eq!(
            names_and_contents(&loc),
            want,
            "after a kill at {at} of {total}"
        );
        check_index(&data, &t);
        // One operation, undone as one.
        ok(cmd(&data, &t).arg("undo"));
        let back = names_and_contents(&loc);
        assert!(
            (0..40).all(|k| back[&format!("f{k:02}")] == format!("content {k}")),
            "{back:?}"
        );
        std::fs::remove_dir_all(&t).unwrap();
    }
    assert!(
        kills >= 12,
        "only {kills} runs were killed ({total} points)"
    );
    eprintln!("kill matrix, batch rename of two 20-cycles: {kills} kills over {total} points");
}

/// Waits for a committed operation's job (an immediate change is done already).
fn wait(c: cairn::vdfs::actions::Committed) {
    if let cairn::vdfs::actions::Committed::Job { handle, .. } = c {
        handle.wait();
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Any batch of distinct new names on disk — permutations with cycles, chains, names new
    /// to the folder, items left alone — ends with exactly the expected names and contents,
    /// no temporary name left; its undo gives back exactly the folder before.
    #[test]
    fn any_batch_of_distinct_new_names_ends_with_exactly_those_names(
        n in 1usize..14,
        seed in proptest::collection::vec(0usize..1000, 28),
        moved in proptest::collection::vec(proptest::prelude::any::<bool>(), 14),
    ) {
        use cairn::vdfs::actions::{OpKind, Request};
        proptest::prop_assume!(moved[..n].iter().any(|&m| m));
        let lib = crate::common::library();
        let t = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(t.path()).unwrap();
        let name = |k: usize| format!("i{k}");
        let mut pool: Vec<usize> = (0..2 * n).collect();
        for k in (1..pool.len()).rev() {
            pool.swap(k, seed[k] % (k + 1));
        }
        let mut free = pool.into_iter().filter(|&k| k >= n || moved[k]);
        let (mut sources, mut names, mut want) = (Vec::new(), Vec::new(), BTreeMap::new());
        for (k, &m) in moved.iter().enumerate().take(n) {
            std::fs::write(dir.join(name(k)), format!("content {k}")).unwrap();
            let to = if m {
                let to = free.next().unwrap();
                sources.push(dir.join(name(k)));
                names.push(name(to).into_bytes());
                to
            } else {
                k
            };
            want.insert(name(to), format!("content {k}"));
        }
        let before = names_and_contents(&dir);
        let p = lib
            .lib
            .preview(&Request::new(OpKind::BatchRename, sources).names(names))
            .unwrap();
        let renamed = p.files;
        if renamed == 0 {
            // Every moved item drew its own name back.
            proptest::prop_assert!(!p.can_commit());
            return Ok(());
        }
        proptest::prop_assert!(p.can_commit(), "{:?}", p.refusals);
        wait(lib.lib.commit(&p).unwrap());
        proptest::prop_assert_eq!(names_and_contents(&dir), want);
        wait(lib.lib.undo(None).unwrap());
        proptest::prop_assert_eq!(names_and_contents(&dir), before);
    }
}

#[test]
fn a_copy_cancelled_half_way_is_undone_for_what_it_did_and_nothing_else() {
    let t = tempfile::tempdir().unwrap();
    let t = &std::fs::canonicalize(t.path()).unwrap();
    let data = t.join("data");
    let src = t.join("src");
    std::fs::create_dir(&src).unwrap();
    for i in 0..40 {
        std::fs::write(src.join(format!("f{i:02}")), format!("file {i}")).unwrap();
    }
    let dst = t.join("dst");
    std::fs::create_dir_all(dst.join("f39")).unwrap();
    std::fs::write(dst.join("f39/mine"), b"the user's own").unwrap();
    let before = digest(&src);
    // An operation made before the copy, which an undo must not reach past the copy for.
    std::fs::write(t.join("earlier.txt"), b"x").unwrap();
    ok(cmd(&data, t)
        .arg("rename")
        .arg(t.join("earlier.txt"))
        .arg("renamed.txt"));
    let mut args: Vec<std::ffi::OsString> = vec!["cp".into()];
    let mut names: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path().into_os_string())
        .collect();
    names.sort();
    args.extend(names.into_iter().take(39));
    args.push(dst.clone().into_os_string());
    // Killed half-way through (batches of 7 items), then cancelled instead of resumed.
    let total = {
        let c = t.join("count");
        std::fs::create_dir_all(c.join("dst")).unwrap();
        let mut a = args.clone();
        *a.last_mut().unwrap() = c.join("dst").into_os_string();
        let a: Vec<&OsStr> = a.iter().map(|x| x.as_os_str()).collect();
        kill_points(&c.join("data"), &c, &a)
    };
    let out = cmd(&data, t)
        .args(&args)
        .env("CAIRN_TEST_KILL_AT", (total / 2).to_string())
        .env("CAIRN_TEST_OP_BATCH", "7")
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(9), "the copy was killed half-way");
    let jobs = json(&ok(cmd(&data, t).args(["--json", "jobs", "list"])));
    let id = jobs.as_array().unwrap()[0]["id"].clone();
    // While the copy has not ended, an undo names it and does not undo the rename before it.
    let err = fails(cmd(&data, t).arg("undo"));
    assert!(err.contains("has not ended"), "{err}");
    assert!(t.join("renamed.txt").exists() && !t.join("earlier.txt").exists());
    // (Batches of the same size as the killed run's, as they always are outside tests.)
    ok(cmd(&data, t)
        .args(["jobs", "cancel", &id.to_string()])
        .env("CAIRN_TEST_OP_BATCH", "7"));
    let copied: Vec<String> = (0..39)
        .map(|i| format!("f{i:02}"))
        .filter(|n| dst.join(n).exists())
        .collect();
    assert!(
        !copied.is_empty() && copied.len() < 39,
        "half the copies are there: {copied:?}"
    );
    assert!(
        no_temps(&dst).is_empty(),
        "the cancel removed the temporary files"
    );
    let history = ok(cmd(&data, t).arg("history"));
    assert!(history.to_lowercase().contains("cancel"), "{history}");
    // The undo trashes the copies the cancelled job made, and only them.
    ok(cmd(&data, t).arg("undo"));
    let left: Vec<String> = std::fs::read_dir(&dst)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["f39"], "only the user's own folder is left");
    assert_eq!(
        std::fs::read(dst.join("f39/mine")).unwrap(),
        b"the user's own"
    );
    assert_eq!(digest(&src), before, "the sources are untouched");
    assert!(t.join("renamed.txt").exists(), "the rename before it stays");
    let trashed = std::fs::read_dir(t.join("xdg/Trash/files"))
        .unwrap()
        .count();
    assert_eq!(trashed, copied.len(), "each copy made went to the trash");
}
