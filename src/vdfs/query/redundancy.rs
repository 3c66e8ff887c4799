//! Redundancy: how many copies of each file the library knows, which files exist only once
//! (at risk), and which files of one place have no copy in another (a backup gap). All from
//! the index; no file is read.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::store::{Store, StoreError};
use crate::vdfs::index::location::LocationRecord;
use crate::vdfs::index::{self, EntryRecord};

/// A file in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRef {
    /// Absolute path.
    #[serde(serialize_with = "crate::format::lossy_path")]
    pub path: PathBuf,
    /// Bytes.
    pub size: u64,
}

/// Where the copies of one file are. A copy is one file on disk: its hard links (the same
/// device and inode) are more names of it, in [`CopyInfo::links`], not more copies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopyInfo {
    /// Absolute path of the copy (its first name in instance order; the asked-for entry's
    /// own path for its own copy).
    #[serde(serialize_with = "crate::format::lossy_path")]
    pub path: PathBuf,
    /// The copy's other names in the library: hard links of it, in instance order. Removing
    /// one frees nothing and keeps no copy safe.
    #[serde(serialize_with = "crate::format::lossy_paths")]
    pub links: Vec<PathBuf>,
    /// Its location id (of [`CopyInfo::path`]).
    pub location: u32,
    /// That location's folder.
    #[serde(serialize_with = "crate::format::lossy_path")]
    pub location_path: PathBuf,
    /// The mount point of that location's volume.
    #[serde(serialize_with = "crate::format::lossy_path")]
    pub volume: PathBuf,
}

/// The copies of the file whose entry is `id`, its own first, then the others in instance
/// order; or empty if its content is not identified. Entries with the same device and inode
/// (hard links) are one copy, as in [`super::dupes`] and [`at_risk`].
///
/// # Errors
/// [`StoreError`].
pub fn copies(
    store: &Store,
    locations: &[LocationRecord],
    id: u64,
) -> Result<Vec<CopyInfo>, StoreError> {
    store.read(|tx| {
        let Some(rec) = index::entry(tx, id)? else {
            return Ok(Vec::new());
        };
        let Some(cas) = rec.cas else {
            return Ok(Vec::new());
        };
        // The names of each file, as (entry, location), by (device, inode), in instance order.
        let mut files: Vec<Vec<(u64, u32)>> = Vec::new();
        let mut slot: HashMap<(u64, u64), usize> = HashMap::new();
        for other in index::instances(tx, cas)? {
            if let Some(e) = index::entry(tx, other)? {
                let i = *slot.entry((e.dev, e.inode)).or_insert_with(|| {
                    files.push(Vec::new());
                    files.len() - 1
                });
                files[i].push((other, e.location));
            }
        }
        // Its own copy first, named by its own path.
        if let Some(own) = files.iter().position(|f| f.iter().any(|n| n.0 == id)) {
            let mut f = files.remove(own);
            let at = f.iter().position(|n| n.0 == id).unwrap_or(0);
            let me = f.remove(at);
            f.insert(0, me);
            files.insert(0, f);
        }
        let mut out = Vec::with_capacity(files.len());
        for names in files {
            let (first, location) = names[0];
            let loc = locations.iter().find(|l| l.id == location);
            out.push(CopyInfo {
                path: index::path_of(tx, first)?,
                links: names[1..]
                    .iter()
                    .map(|(n, _)| index::path_of(tx, *n))
                    .collect::<Result<_, _>>()?,
                location,
                location_path: loc.map(LocationRecord::path).unwrap_or_default(),
                volume: loc
                    .map(|l| l.volume.mount_point.clone())
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    })
}

/// The indexed regular files under `within` (in any location), with their records and paths.
fn files_under(store: &Store, within: &Path) -> Result<Vec<(PathBuf, EntryRecord)>, StoreError> {
    store.read(|tx| {
        let mut out: Vec<(PathBuf, EntryRecord)> = index::files_with_paths(tx, |_| true)?
            .into_iter()
            .filter(|(_, path, _)| path.starts_with(within))
            .map(|(_, path, rec)| (path, rec))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    })
}

/// The at-risk report of a folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AtRisk {
    /// Files whose content exists only once in the library.
    pub single: Vec<FileRef>,
    /// Files with two or more copies.
    pub safe: u64,
    /// Non-empty files whose content is not identified yet (Shallow locations, or not hashed).
    pub unknown: u64,
}

/// Files under `within` whose content exists only once in the library.
///
/// # Errors
/// [`StoreError`].
pub fn at_risk(store: &Store, within: &Path) -> Result<AtRisk, StoreError> {
    let files = files_under(store, within)?;
    let mut counts: HashMap<u64, u64> = HashMap::new();
    store.read(|tx| {
        for (_, r) in &files {
            if let Some(c) = r.cas
                && !counts.contains_key(&c.0)
            {
                // Copies are distinct files: hard links (same device and inode) are one.
                let mut files = std::collections::HashSet::new();
                for id in index::instances(tx, c)? {
                    if let Some(e) = index::entry(tx, id)? {
                        files.insert((e.dev, e.inode));
                    }
                }
                counts.insert(c.0, files.len() as u64);
            }
        }
        Ok(())
    })?;
    let mut report = AtRisk::default();
    for (path, r) in files {
        match r.cas {
            Some(c) if counts.get(&c.0).copied().unwrap_or(0) <= 1 => {
                report.single.push(FileRef { path, size: r.size })
            }
            Some(_) => report.safe += 1,
            None if r.size > 0 => report.unknown += 1,
            None => {}
        }
    }
    Ok(report)
}

/// The backup-gap report: files under `within` with no copy in `target`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Gap {
    /// Files whose content is nowhere in the target location.
    pub missing: Vec<FileRef>,
    /// Files with a copy there.
    pub covered: u64,
    /// Non-empty files whose content is not identified (cannot be compared).
    pub unknown: u64,
}

/// Files under `within` whose content has no copy in location `target`. A hard link of the
/// file in `target` (the same device and inode: the same bytes on the same disk, as with a
/// bind mount of its folder) is no copy.
///
/// # Errors
/// [`StoreError`].
pub fn missing_from(store: &Store, within: &Path, target: u32) -> Result<Gap, StoreError> {
    let present = contents_in(store, target)?;
    let mut gap = Gap::default();
    for (path, r) in files_under(store, within)? {
        if r.location == target {
            continue;
        }
        match r.cas {
            Some(c) if has_other_file(&present, c.0, (r.dev, r.inode)) => gap.covered += 1,
            Some(_) => gap.missing.push(FileRef { path, size: r.size }),
            None if r.size > 0 => gap.unknown += 1,
            None => {}
        }
    }
    Ok(gap)
}

/// The files (device, inode) in a location, by cas_id.
type FilesByContent = HashMap<u64, Vec<(u64, u64)>>;

/// True if `present` holds content `cas` in a file other than `file` (device, inode).
fn has_other_file(present: &FilesByContent, cas: u64, file: (u64, u64)) -> bool {
    present
        .get(&cas)
        .is_some_and(|files| files.iter().any(|f| *f != file))
}

/// The files of location `target` by cas_id.
fn contents_in(store: &Store, target: u32) -> Result<FilesByContent, StoreError> {
    store.read(|tx| {
        let mut present = FilesByContent::new();
        index::each_entry(tx, |_, rec| {
            if rec.location == target
                && let Some(c) = rec.cas
            {
                present.entry(c.0).or_default().push((rec.dev, rec.inode));
            }
            Ok(())
        })?;
        Ok(present)
    })
}

/// The ids of every identified file outside location `target` whose content has no copy
/// there (a hard link of it there is no copy): the library-wide backup gap, used by search's
/// `missing_from` filter. One pass over the entries.
///
/// # Errors
/// [`StoreError`].
pub fn missing_ids(store: &Store, target: u32) -> Result<HashSet<u64>, StoreError> {
    store.read(|tx| {
        let mut present = FilesByContent::new();
        let mut elsewhere = Vec::new();
        index::each_entry(tx, |id, rec| {
            match rec.cas {
                Some(c) if rec.location == target => {
                    present.entry(c.0).or_default().push((rec.dev, rec.inode));
                }
                Some(c) => elsewhere.push((id, c.0, (rec.dev, rec.inode))),
                None => {}
            }
            Ok(())
        })?;
        Ok(elsewhere
            .into_iter()
            .filter(|(_, c, file)| !has_other_file(&present, *c, *file))
            .map(|(id, _, _)| id)
            .collect())
    })
}
