//! A library written by an older Cairn opens, upgraded, with every entry, UUID, content and
//! favourite kept (the fixture is described in `tests/data/v3-library/README.md`).

use std::fs;
use std::path::{Path, PathBuf};

use cairn::vdfs::jobs::JobStatus;
use cairn::vdfs::{Core, CoreOptions};

const ROOT: &str = "/tmp/cairn-v3-fixture/tree";

fn fixture_data_dir(data: &Path) {
    let lib = data.join("libraries").join("My Library.cairnlib");
    fs::create_dir_all(&lib).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v3-library");
    for f in ["library.redb", "library.toml"] {
        fs::copy(src.join(f), lib.join(f)).unwrap();
    }
}

fn expected() -> Vec<(Vec<u8>, String, String, String)> {
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v3-library/expected.tsv"),
    )
    .unwrap();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let rel = (0..f[0].len() / 2)
                .map(|i| u8::from_str_radix(&f[0][2 * i..2 * i + 2], 16).unwrap())
                .collect();
            (rel, f[1].to_owned(), f[2].to_owned(), f[3].to_owned())
        })
        .collect()
}

fn path_of(rel: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    if rel == b"." {
        PathBuf::from(ROOT)
    } else {
        Path::new(ROOT).join(std::ffi::OsStr::from_bytes(rel))
    }
}

fn check(lib: &cairn::vdfs::Library) {
    assert_eq!(lib.check_index().unwrap(), Vec::<String>::new());
    let rows = expected();
    assert_eq!(rows.len(), 278);
    let counts = lib.index_counts().unwrap();
    assert_eq!(counts.entries, 278, "every entry kept");
    for (rel, kind, uuid, cas) in &rows {
        let path = path_of(rel);
        let e = lib
            .entry_at(&path)
            .unwrap()
            .unwrap_or_else(|| panic!("{} is still indexed", path.display()));
        if kind == "?" {
            continue;
        }
        assert_eq!(e.record.kind.as_str(), kind, "{}", path.display());
        assert_eq!(
            e.record.uuid.to_string(),
            *uuid,
            "{} keeps its UUID",
            path.display()
        );
        let got = e.record.cas.map(|c| c.to_string()).unwrap_or("-".into());
        assert_eq!(got, *cas, "{} keeps its content", path.display());
        // One lookup by UUID finds it again.
        let (_, by_uuid, p) = lib.entry_by_uuid(e.record.uuid).unwrap().unwrap();
        assert_eq!((by_uuid.uuid, p), (e.record.uuid, path.clone()));
        if let Some(c) = e.record.cas {
            let content = lib.content(c).unwrap().unwrap();
            assert_eq!(lib.content_by_uuid(content.uuid).unwrap().unwrap().cas, c);
        }
    }
    let favs = lib.favourites().unwrap();
    assert_eq!(
        favs,
        vec![
            PathBuf::from(ROOT).join("folder0"),
            PathBuf::from(ROOT).join("folder5-renamed/sub0"),
            PathBuf::from("/tmp/cairn-v3-fixture/not-indexed"),
        ],
        "favourites kept, in the order they were added"
    );
    let loc = &lib.locations().unwrap()[0];
    assert_eq!(
        (loc.stats.files, loc.stats.symlinks, loc.stats.dirs),
        (243, 1, 34),
        "the symbolic link is counted apart from the files"
    );
    let jobs = lib.jobs().list().unwrap();
    assert_eq!(jobs.len(), 3, "{jobs:#?}");
    assert!(jobs.iter().all(|j| j.status == JobStatus::Completed));
    // The integrity hashes of the verified contents are kept.
    let photo = lib
        .entry_at(&PathBuf::from(ROOT).join("photo.jpg"))
        .unwrap()
        .unwrap();
    let content = lib.content(photo.record.cas.unwrap()).unwrap().unwrap();
    assert!(content.integrity.is_some());
}

#[test]
fn a_schema_3_library_opens_upgraded_with_everything_kept() {
    let data = tempfile::tempdir().unwrap();
    fixture_data_dir(data.path());
    {
        let core = Core::start(CoreOptions::at(data.path())).unwrap();
        let lib = core.open_library(None).unwrap();
        check(&lib);
        // A favourite of an indexed folder follows it: it is kept by the entry's UUID.
        lib.set_favourite(&PathBuf::from(ROOT).join("folder2"), true)
            .unwrap();
        assert_eq!(lib.favourites().unwrap().len(), 4);
        lib.set_favourite(&PathBuf::from(ROOT).join("folder2"), false)
            .unwrap();
    }
    // Opened again: nothing to upgrade, the same catalogue.
    let core = Core::start(CoreOptions::at(data.path())).unwrap();
    let lib = core.open_library(None).unwrap();
    check(&lib);
}
