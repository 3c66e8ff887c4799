//! `cairn library repair`: a damaged catalogue replaced by one rebuilt from what is left of it
//! ([`crate::vdfs::index::repair`]), the damaged file kept beside it, never deleted.
//!
//! The steps, each safe to interrupt:
//! 1. the library's lock is taken (a library in use is never repaired under its user);
//! 2. `library.redb` is copied to a temporary file, and only the copy is opened (redb may
//!    change a file it opens); a copy without damage ends the repair with nothing changed;
//! 3. the new store is built under a second temporary name and checked;
//! 4. the damaged file is kept as `library.redb.damaged-YYYYMMDD-HHMMSS` (a hard link, or a
//!    copy), then the new store is renamed over `library.redb` (atomic).
//!
//! A crash before the last rename leaves `library.redb` as it was, plus temporary files (only
//! ever copies or half-built stores: swept by the next repair, and recognised as Cairn's by
//! `library delete`) and perhaps the kept copy.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::vdfs::CoreError;
use crate::vdfs::home::atomic::{check_own_folder, sync_dir};
use crate::vdfs::home::libraries::{DAMAGED_PREFIX, LOCK_FILE, STORE_FILE, read_config};
use crate::vdfs::home::lock::LibraryLock;
use crate::vdfs::index::repair::{RepairReport, rebuild};

/// What [`repair`] found and did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Repaired {
    /// The library folder.
    pub path: PathBuf,
    /// The damage found before the repair (damaged records, index problems, or why the store
    /// could not be opened); empty when there was none and nothing was changed.
    pub found: Vec<String>,
    /// What the rebuild kept and dropped (`None` when nothing was changed).
    pub report: Option<RepairReport>,
    /// Where the damaged `library.redb` was kept, if there was one.
    pub damaged_copy: Option<PathBuf>,
}

/// Repairs the closed library folder at `path` as the module documentation says.
///
/// # Errors
/// [`CoreError::LibraryInUse`] if it is open (here or elsewhere); [`CoreError::Corrupt`] if
/// `library.toml` cannot be read (a repair keeps the library's name and id from it), or
/// `library.redb` is not a plain file (a link or a folder is never touched);
/// [`CoreError::Store`] if the rebuild fails (nothing was replaced); [`CoreError::Io`] naming
/// the file a copy or rename failed on.
pub fn repair(path: &Path) -> Result<Repaired, CoreError> {
    check_own_folder(path, false).map_err(|e| CoreError::io(path, e))?;
    let config = read_config(path)?;
    let _lock = LibraryLock::acquire(&path.join(LOCK_FILE), &config.name)?;
    sweep_temps(path);
    let store = path.join(STORE_FILE);
    let present = match fs::symlink_metadata(&store) {
        Ok(m) if m.is_file() => Some(m.len()),
        Ok(_) => {
            return Err(CoreError::corrupt(
                &store,
                "it is not a plain file (a link or a folder); move it aside, then repair again",
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(CoreError::io(&store, e)),
    };
    let copy = match present {
        Some(len) if len > 0 => {
            let copy = temp_name(path)?;
            copy_new(&store, &copy).map_err(|e| CoreError::io(&copy, e))?;
            Some(copy)
        }
        _ => None,
    };
    let result = (|| {
        let found = match (&copy, present) {
            // Said of library.redb, not of the copy that was opened in its place.
            (Some(c), _) => diagnose(c)
                .into_iter()
                .map(|f| f.replace(&c.display().to_string(), &store.display().to_string()))
                .collect(),
            (None, Some(_)) => vec!["library.redb is empty (0 bytes)".to_owned()],
            (None, None) => vec!["library.redb is missing".to_owned()],
        };
        if found.is_empty() {
            return Ok(Repaired {
                path: path.to_owned(),
                found,
                report: None,
                damaged_copy: None,
            });
        }
        let new = temp_name(path)?;
        let report = match rebuild(copy.as_deref(), &new) {
            Ok(r) => r,
            Err(e) => {
                let _ = fs::remove_file(&new);
                return Err(CoreError::Store(e));
            }
        };
        crate::vdfs::home::atomic::restrict_to_owner(&new).map_err(|e| CoreError::io(&new, e))?;
        let damaged_copy = swap_in(path, &store, &new, present.is_some())?;
        Ok(Repaired {
            path: path.to_owned(),
            found,
            report: Some(report),
            damaged_copy,
        })
    })();
    if let Some(c) = copy {
        let _ = fs::remove_file(c);
    }
    result
}

/// The damage of the store file `copy`: why it cannot be opened, or its damaged records and
/// index problems. Empty when it is whole.
fn diagnose(copy: &Path) -> Vec<String> {
    let store = match crate::store::Store::open(copy) {
        Ok(s) => s,
        Err(e) => return vec![format!("it cannot be opened: {e}")],
    };
    let mut found = Vec::new();
    match store.read(crate::store::schema::missing_tables) {
        Ok(missing) => found.extend(missing.into_iter().map(|t| format!("table {t} is missing"))),
        Err(e) => found.push(format!("its tables cannot be listed: {e}")),
    }
    match store.read(crate::store::check::check_records) {
        Ok(r) => found.extend(
            r.damaged
                .iter()
                .map(|d| format!("table {}, key {}: {}", d.table, d.key, d.problem)),
        ),
        Err(e) => found.push(format!("its records cannot all be read: {e}")),
    }
    if found.is_empty() {
        match crate::vdfs::index::check(&store) {
            Ok(p) => found.extend(p.into_iter().map(|p| format!("index: {p}"))),
            Err(e) => found.push(format!("its index cannot be checked: {e}")),
        }
    }
    found
}

/// Keeps the old `store` as `library.redb.damaged-…` (a hard link, or a copy where the file
/// system has none), then renames `new` over it; returns where the old one was kept.
fn swap_in(
    dir: &Path,
    store: &Path,
    new: &Path,
    exists: bool,
) -> Result<Option<PathBuf>, CoreError> {
    let mut kept = None;
    if exists {
        let stamp = jiff::Zoned::now().strftime("%Y%m%d-%H%M%S").to_string();
        let mut n = 1;
        loop {
            let name = if n == 1 {
                format!("{DAMAGED_PREFIX}{stamp}")
            } else {
                format!("{DAMAGED_PREFIX}{stamp}-{n}")
            };
            let at = dir.join(name);
            match fs::hard_link(store, &at) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    n += 1;
                    continue;
                }
                // No hard links here (FAT, some network file systems): a copy.
                Err(_) => copy_new(store, &at).map_err(|e| CoreError::io(&at, e))?,
            }
            kept = Some(at);
            break;
        }
        sync_dir(dir).map_err(|e| CoreError::io(dir, e))?;
    }
    fs::rename(new, store).map_err(|e| CoreError::io(store, e))?;
    sync_dir(dir).map_err(|e| CoreError::io(dir, e))?;
    Ok(kept)
}

/// A new, unused temporary name for a store file in `dir`: `.library.redb.tmp-` and 16 hex
/// digits (the name Cairn's atomic writes use, so `library delete` knows it as Cairn's).
fn temp_name(dir: &Path) -> Result<PathBuf, CoreError> {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| CoreError::io(dir, io::Error::other(e.to_string())))?;
    Ok(dir.join(format!(".{STORE_FILE}.tmp-{}", hex::encode(rnd))))
}

/// Copies `from` into the new file `to` (created exclusively, never through a link, 0600) and
/// syncs it.
fn copy_new(from: &Path, to: &Path) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut src = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(from)?;
    let mut dst = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(to)?;
    let r = io::copy(&mut src, &mut dst).and_then(|_| dst.sync_all());
    if r.is_err() {
        let _ = fs::remove_file(to);
    }
    r
}

/// Removes the temporary store files an interrupted repair left (plain files named as
/// [`temp_name`] makes them; run under the library's lock, so no repair is using them).
fn sweep_temps(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = name
            .strip_prefix(&format!(".{STORE_FILE}.tmp-"))
            .is_some_and(|r| r.len() == 16 && r.bytes().all(|b| b.is_ascii_hexdigit()));
        if ours && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (CI, the flipped-bytes test, trial 112): a flipped bit in the schema version
    /// read as an older layout, so opening "upgraded" records of this layout and failed, and
    /// a repair kept the wrong version, so the library stayed unopenable. The damage is named
    /// before any upgrade, and a repair rebuilds the catalogue at this version.
    #[test]
    fn a_damaged_schema_version_is_named_and_repaired() {
        use crate::store::schema::{ENTRIES, META, META_SCHEMA_VERSION};
        let tmp = tempfile::tempdir().unwrap();
        let (path, _) =
            crate::vdfs::home::libraries::create(tmp.path(), "Flipped", "", uuid::Uuid::nil())
                .unwrap();
        let store_path = path.join(STORE_FILE);
        {
            let store = crate::store::Store::open(&store_path).unwrap();
            store
                .write(|tx| {
                    let rec = crate::vdfs::index::EntryRecord {
                        uuid: uuid::Uuid::nil(),
                        location: 1,
                        parent: 0,
                        name: b"a.txt".to_vec(),
                        kind: crate::vdfs::fs::entry::EntryKind::File,
                        size: 1,
                        mtime_ns: 0,
                        inode: 1,
                        dev: 1,
                        cas: None,
                        content_kind: crate::vdfs::content::filetype::ContentKind::Unknown,
                        first_seen_ms: 0,
                        updated_seq: 1,
                    };
                    let bytes = crate::store::record::encode_record(&rec);
                    tx.open_table(ENTRIES)?.insert(1u64, bytes.as_slice())?;
                    // This version with a bit flipped, reading as the version-4 layout.
                    tx.open_table(META)?
                        .insert(META_SCHEMA_VERSION, crate::store::encode(&4u32).as_slice())?;
                    Ok(())
                })
                .unwrap();
        }
        let upgrade = |tx: &redb::WriteTransaction, found: u32| {
            crate::vdfs::index::upgrade::run(tx, found, uuid::Uuid::nil())
        };
        let err = match crate::store::Store::open_with(&store_path, &upgrade) {
            Ok(_) => panic!("a damaged version opened"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("the version itself is damaged"), "{err}");
        repair(&path).unwrap();
        assert!(crate::store::Store::open_with(&store_path, &upgrade).is_ok());
    }

    /// Regression: a store that lost a table (its name in the table tree damaged, seen once
    /// among the flipped-byte trials) was "not damaged" to the repair, whose check never
    /// opened that table, while every command that did failed ("Table 'jobs' does not
    /// exist"). A missing table is damage now, and the repair rebuilds the store with it.
    #[test]
    fn a_store_that_lost_a_table_is_repaired() {
        let tmp = tempfile::tempdir().unwrap();
        let (path, _) =
            crate::vdfs::home::libraries::create(tmp.path(), "Lost", "", uuid::Uuid::nil())
                .unwrap();
        let store_path = path.join(STORE_FILE);
        {
            let store = crate::store::Store::open(&store_path).unwrap();
            store
                .write(|tx| {
                    assert!(tx.delete_table(crate::store::schema::JOBS)?);
                    Ok(())
                })
                .unwrap();
        }
        assert_eq!(diagnose(&store_path), ["table jobs is missing"]);
        let done = repair(&path).unwrap();
        assert_eq!(done.found, ["table jobs is missing"]);
        assert!(done.report.is_some(), "rebuilt");
        assert!(
            diagnose(&store_path).is_empty(),
            "{:?}",
            diagnose(&store_path)
        );
        // And the table is there again.
        let store = crate::store::Store::open(&store_path).unwrap();
        store
            .read(|tx| {
                tx.open_table(crate::store::schema::JOBS)?;
                Ok(())
            })
            .unwrap();
    }
}
