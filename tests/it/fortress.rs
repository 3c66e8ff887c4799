//! The symlink suite (issue "fortress"): every file and folder Cairn writes, deletes, renames or
//! chmods in its data folder and in a library, replaced by a symbolic link to a canary outside,
//! while the commands that touch it run. The canary is never changed, and no command panics.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::common::{cairn, ok};

/// A canary's state: for a file its bytes, mode and mtime; for a folder the same of every
/// file in it, by name.
fn snapshot(p: &Path) -> BTreeMap<String, (Vec<u8>, u32, i64)> {
    let mut out = BTreeMap::new();
    let one = |p: &Path| {
        let m = std::fs::symlink_metadata(p).unwrap();
        (
            std::fs::read(p).unwrap_or_default(),
            m.permissions().mode(),
            m.mtime_nsec() + m.mtime() * 1_000_000_000,
        )
    };
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            out.insert(e.file_name().to_string_lossy().into_owned(), one(&e.path()));
        }
        out.insert(
            ".".into(),
            (
                Vec::new(),
                std::fs::metadata(p).unwrap().permissions().mode(),
                0,
            ),
        );
    } else {
        out.insert(String::new(), one(p));
    }
    out
}

/// A data folder with one library holding a deep location of two images, searched once (so
/// every file Cairn keeps exists), and the location's folder.
fn populated(root: &Path) -> (PathBuf, PathBuf) {
    let data = root.join("data");
    let tree = root.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    for (i, name) in ["a.png", "b.png"].iter().enumerate() {
        let img = image::RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, (i * 90) as u8])
        });
        img.save(tree.join(name)).unwrap();
    }
    ok(cairn(&data)
        .args(["location", "add", "--mode", "deep"])
        .arg(&tree));
    ok(cairn(&data).args(["search", "png"]));
    (data, tree)
}

/// The commands that write, rename, delete or chmod Cairn's files, run one after another;
/// each may fail (with exit status 1), none may panic.
fn exercise(data: &Path, tree: &Path) {
    let lib = "My Library";
    let runs: Vec<Vec<String>> = vec![
        vec!["library".into(), "list".into()],
        vec!["device".into(), "rename".into(), "Canary test".into()],
        vec!["location".into(), "rescan".into(), "1".into()],
        vec!["search".into(), "png".into()],
        vec![
            "mkdir".into(),
            tree.join("made").to_string_lossy().into_owned(),
        ],
        vec!["library".into(), "set-default".into(), lib.into()],
        vec!["library".into(), "check".into()],
        vec!["library".into(), "repair".into(), "--no-rescan".into()],
        vec!["library".into(), "create".into(), "Second".into()],
        vec![
            "library".into(),
            "rename".into(),
            "Second".into(),
            "Third".into(),
        ],
        vec![
            "library".into(),
            "delete".into(),
            "--yes".into(),
            "Third".into(),
        ],
        vec![
            "library".into(),
            "delete".into(),
            "--yes".into(),
            lib.into(),
        ],
    ];
    for args in runs {
        let out = cairn(data).args(&args).output().unwrap();
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(1),
            "{args:?} exited {code:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The log file of today in `dir` (the one Cairn writes).
fn log_in(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .unwrap_or_else(|| panic!("no log in {}", dir.display()))
}

/// The first thumbnail folder (`sidecars/thumbs/XX`) of `lib`.
fn thumb_dir(lib: &Path) -> PathBuf {
    std::fs::read_dir(lib.join("sidecars/thumbs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("a thumbnail folder")
}

#[test]
fn no_write_of_cairn_ever_goes_through_a_planted_link() {
    type Pick = fn(&Path, &Path) -> PathBuf;
    let cases: Vec<(&str, Pick)> = vec![
        ("device.key", |d, _| d.join("device.key")),
        ("device.toml", |d, _| d.join("device.toml")),
        ("settings.toml", |d, _| d.join("settings.toml")),
        (".libraries.lock", |d, _| d.join(".libraries.lock")),
        ("logs/", |d, _| d.join("logs")),
        ("logs/cairn-DATE.log", |d, _| log_in(&d.join("logs"))),
        ("libraries/", |d, _| d.join("libraries")),
        ("library folder", |d, _| {
            d.join("libraries/My Library.cairnlib")
        }),
        ("library.toml", |d, _| {
            d.join("libraries/My Library.cairnlib/library.toml")
        }),
        ("library.redb", |d, _| {
            d.join("libraries/My Library.cairnlib/library.redb")
        }),
        ("lock", |d, _| d.join("libraries/My Library.cairnlib/lock")),
        ("library logs/", |d, _| {
            d.join("libraries/My Library.cairnlib/logs")
        }),
        ("library log file", |d, _| {
            log_in(&d.join("libraries/My Library.cairnlib/logs"))
        }),
        ("cache/", |d, _| {
            d.join("libraries/My Library.cairnlib/cache")
        }),
        ("cache/names.idx", |d, _| {
            d.join("libraries/My Library.cairnlib/cache/names.idx")
        }),
        ("sidecars/", |d, _| {
            d.join("libraries/My Library.cairnlib/sidecars")
        }),
        ("sidecars/thumbs/", |d, _| {
            d.join("libraries/My Library.cairnlib/sidecars/thumbs")
        }),
        ("sidecars/thumbs/XX/", |d, _| {
            thumb_dir(&d.join("libraries/My Library.cairnlib"))
        }),
    ];
    for (what, pick) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let (data, tree) = populated(tmp.path());
        let target = pick(&data, &tree);
        let was_dir = std::fs::symlink_metadata(&target).unwrap().is_dir();
        // The canary: a file of the person's, or a folder of theirs holding files named like
        // the ones Cairn would write there.
        let canary = tmp.path().join("canary");
        if was_dir {
            std::fs::create_dir(&canary).unwrap();
            for name in [
                "precious.txt",
                "names.idx",
                "cairn-2020-01-01.log",
                "library.redb",
                "00000000-0000-0000-0000-000000000000.jpg",
            ] {
                std::fs::write(canary.join(name), format!("the person's {name}")).unwrap();
            }
            std::fs::set_permissions(&canary, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::rename(&target, tmp.path().join("moved-aside")).unwrap();
        } else {
            std::fs::write(&canary, b"the person's words").unwrap();
            std::fs::set_permissions(&canary, std::fs::Permissions::from_mode(0o644)).unwrap();
            std::fs::remove_file(&target).unwrap();
        }
        std::os::unix::fs::symlink(&canary, &target).unwrap();
        let before = snapshot(&canary);
        exercise(&data, &tree);
        let after = snapshot(&canary);
        let changed: Vec<&String> = before
            .keys()
            .chain(after.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .collect();
        assert!(
            changed.is_empty(),
            "{what} planted as a link: the canary changed ({changed:?})"
        );
        assert!(
            std::fs::symlink_metadata(&canary).is_ok(),
            "{what}: the canary is gone"
        );
    }
}

/// A folder Cairn keeps for itself that belongs to another user is refused, naming it.
#[test]
fn a_folder_of_another_user_is_refused() {
    if !rustix::process::geteuid().is_root() {
        return; // only root can give a folder away
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ok(cairn(&data).args(["library", "list"]));
    let libraries = data.join("libraries");
    std::os::unix::fs::chown(&libraries, Some(65534), Some(65534)).unwrap();
    let err = crate::common::fails(cairn(&data).args(["library", "list"]));
    assert!(
        err.contains("libraries") && err.contains("belongs to another user (uid 65534)"),
        "{err}"
    );
}
