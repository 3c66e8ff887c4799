//! Folder listings for the explorer, streamed in chunks.
//!
//! A listing comes from the index when the folder is inside an indexed location (at once, with
//! folder sizes from the aggregates), else straight from the disk (the ephemeral path: one
//! `read_dir` plus `lstat` per entry). Either way it is delivered in chunks of [`CHUNK`] items
//! through a callback, so the first rows can be drawn while the rest is still being read; a
//! caller that navigated away stops the stream by returning `false`. [`list_index_tree`]
//! streams a whole indexed subtree the same way (`cairn ls -r`). The details of one item are
//! in [`super::details`].

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::store::Store;
use crate::store::schema::{CHILD_NAMES, ENTRIES};
use crate::vdfs::content::CasId;
use crate::vdfs::content::filetype::{ContentKind, Registry};
use crate::vdfs::fs::entry::{
    EntryKind, Meta, canonical_no_follow, is_hidden, os_bytes, os_from_bytes,
};
use crate::vdfs::index::location::{Availability, LocationRecord};
use crate::vdfs::index::{self, EntryRecord};

// The inspector's details moved to `details`; the window still names them here.
pub use super::details::{Details, identify_path};

/// Items per chunk.
pub const CHUNK: usize = 2000;

/// One row of a folder listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// Display name (lossy for non-UTF-8 names).
    pub name: String,
    /// True if the on-disk name is not valid UTF-8 (the display name is then approximate).
    pub lossy: bool,
    /// The exact name bytes on disk: what identifies the item (never [`Item::name`], which is
    /// approximate for a name that is not UTF-8). See [`Item::path_in`].
    pub raw_name: Vec<u8>,
    /// The entry's global UUID, when listed from the index.
    pub uuid: Option<uuid::Uuid>,
    /// Kind.
    pub kind: EntryKind,
    /// Bytes: the file size, or for an indexed folder the total of its subtree.
    pub size: u64,
    /// For folders from the index: files and folders below.
    pub counts: Option<(u64, u64)>,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Creation (birth) time, ns since the epoch: from the disk (`statx`), where the file
    /// system keeps it; `None` from the index (see [`Checked::created`]).
    pub created_ns: Option<i64>,
    /// Kind of content.
    pub content_kind: ContentKind,
    /// Name starts with a dot.
    pub hidden: bool,
    /// The entry id, when listed from the index.
    pub entry: Option<u64>,
    /// The content identity, when known.
    pub cas: Option<CasId>,
}

impl Item {
    /// The item's path inside `folder`, built from its exact name bytes, so a name that is not
    /// UTF-8 addresses that file and no other.
    pub fn path_in(&self, folder: &Path) -> PathBuf {
        folder.join(os_from_bytes(&self.raw_name))
    }

    /// Whether the item shows a picture (a thumbnail): an image, a PDF (its first page), or
    /// a symbolic link named like an image (icon themes link half their icons; the picture is
    /// the target's).
    pub fn shows_picture(&self) -> bool {
        let n = &self.raw_name;
        if self.kind == EntryKind::File
            && n.len() > 4
            && n[n.len() - 4..].eq_ignore_ascii_case(b".pdf")
        {
            return true;
        }
        match self.kind {
            EntryKind::Symlink => {
                let r = Registry::active();
                r.identify(&self.raw_name, None)
                    .and_then(|i| r.get(i.type_index))
                    .is_some_and(|t| t.kind == ContentKind::Image)
            }
            _ => self.content_kind == ContentKind::Image,
        }
    }
}

#[cfg(test)]
impl Item {
    /// An item named by the exact bytes `raw` (shown by their lossy decoding) of `kind`, with
    /// nothing else known (no size, time, content or index entry): a test's listing.
    pub(crate) fn named(raw: &[u8], kind: EntryKind) -> Item {
        Item {
            name: String::from_utf8_lossy(raw).into_owned(),
            lossy: std::str::from_utf8(raw).is_err(),
            raw_name: raw.to_vec(),
            uuid: None,
            kind,
            size: 0,
            counts: None,
            mtime_ns: 0,
            created_ns: None,
            content_kind: ContentKind::Unknown,
            hidden: false,
            entry: None,
            cas: None,
        }
    }
}

/// Where a listing came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Source {
    /// The index of this location.
    Index {
        /// Location id.
        location: u32,
        /// The folder's entry id.
        entry: u64,
    },
    /// The disk, without the index.
    Disk,
}

/// Why a folder cannot be listed, in words for the person looking at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ListError {
    /// The location's drive is not mounted; the index still knows the folder.
    Offline(String),
    /// The folder does not exist (any more).
    Missing(String),
    /// The folder cannot be read (permission).
    Denied(String),
    /// It is a file, not a folder.
    NotAFolder(String),
    /// Something else.
    Other(String),
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::Offline(m)
            | ListError::Missing(m)
            | ListError::Denied(m)
            | ListError::NotAFolder(m)
            | ListError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ListError {}

impl ListError {
    fn from_io(path: &Path, e: &std::io::Error) -> ListError {
        let p = path.display();
        match e.kind() {
            std::io::ErrorKind::NotFound => ListError::Missing(format!("{p} no longer exists")),
            std::io::ErrorKind::PermissionDenied => {
                ListError::Denied(format!("you do not have permission to open {p}"))
            }
            std::io::ErrorKind::NotADirectory => ListError::NotAFolder(format!("{p} is a file")),
            _ => ListError::Other(format!("{p}: {e}")),
        }
    }
}

fn item_from_record(id: u64, r: &EntryRecord, stats: Option<index::DirStats>) -> Item {
    let (name, lossy) = display_name(&r.name);
    Item {
        hidden: is_hidden(&r.name),
        name,
        lossy,
        raw_name: r.name.clone(),
        uuid: Some(r.uuid),
        kind: r.kind,
        size: stats.map_or(r.size, |s| s.bytes),
        counts: stats.map(|s| (s.files, s.dirs)),
        mtime_ns: r.mtime_ns,
        created_ns: None,
        content_kind: r.content_kind,
        entry: Some(id),
        cas: r.cas,
    }
}

fn display_name(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), false),
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
    }
}

/// Lists `folder`, sending chunks to `sink` (which returns `false` to stop). Returns where the
/// listing came from.
///
/// # Errors
/// A [`ListError`] when the folder cannot be listed at all (an offline location is listed
/// from the index and reported as `Ok` with its source; the caller checks availability).
pub fn list(
    store: Option<&Store>,
    locations: &[LocationRecord],
    folder: &Path,
    sink: &mut dyn FnMut(Vec<Item>) -> bool,
) -> Result<Source, ListError> {
    let folder = canonical_no_follow(folder);
    if let Some(store) = store
        && let Ok(Some((loc, id, rec))) = index::find_by_path(store, locations, &folder)
        && rec.kind == EntryKind::Dir
    {
        list_index(store, id, sink).map_err(|e| ListError::Other(e.to_string()))?;
        return Ok(Source::Index {
            location: loc,
            entry: id,
        });
    }
    if let Some(loc) = crate::vdfs::index::location::containing(locations, &folder)
        && let Availability::Offline(why) = loc.availability()
    {
        return Err(ListError::Offline(why));
    }
    list_disk(&folder, sink)?;
    Ok(Source::Disk)
}

/// Streams an indexed folder's children from the store.
fn list_index(
    store: &Store,
    folder: u64,
    sink: &mut dyn FnMut(Vec<Item>) -> bool,
) -> Result<(), crate::store::StoreError> {
    store.read(|tx| {
        let kids = tx.open_table(CHILD_NAMES)?;
        let entries = tx.open_table(ENTRIES)?;
        let mut chunk = Vec::with_capacity(CHUNK);
        let (lo, hi) = index::children_range(folder);
        for row in kids.range(&lo[..]..&hi[..])? {
            let id = row?.1.value();
            let Some(v) = entries.get(id)? else { continue };
            let rec: EntryRecord = crate::store::record::decode_record(v.value())?;
            let stats = if rec.kind == EntryKind::Dir {
                index::dir_stats(tx, id)?
            } else {
                None
            };
            chunk.push(item_from_record(id, &rec, stats));
            if chunk.len() == CHUNK
                && !sink(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
            {
                return Ok(());
            }
        }
        sink(chunk);
        Ok(())
    })
}

/// One entry of an indexed subtree ([`list_index_tree`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    /// Its path relative to the folder listed, from the exact name bytes.
    pub rel: PathBuf,
    /// Its entry id.
    pub id: u64,
    /// Its record.
    pub record: EntryRecord,
}

/// Streams everything the index holds below folder entry `folder` (not the folder itself):
/// depth first, each folder's children in the order of their name bytes, in chunks of at most
/// [`CHUNK`] rows to `sink` (which returns `false` to stop). This is the index's view — what
/// the last scan recorded, after the location's rules — and reads no file. Each folder's
/// children are one short read; `sink` runs outside every read transaction.
///
/// # Errors
/// [`crate::store::StoreError`] if the index cannot be read.
pub fn list_index_tree(
    store: &Store,
    folder: u64,
    sink: &mut dyn FnMut(Vec<TreeRow>) -> bool,
) -> Result<(), crate::store::StoreError> {
    // Rows still to send, the next one last: a folder's children are pushed in reverse name
    // order right after the folder is taken, so they come before its later siblings.
    let mut stack: Vec<TreeRow> = Vec::new();
    let push_children = |stack: &mut Vec<TreeRow>, dir: u64, rel: &Path| {
        let mut kids = store.read(|tx| index::children(tx, dir))?;
        kids.sort_by(|a, b| b.1.name.cmp(&a.1.name));
        stack.extend(kids.into_iter().map(|(id, record)| TreeRow {
            rel: rel.join(os_from_bytes(&record.name)),
            id,
            record,
        }));
        Ok::<_, crate::store::StoreError>(())
    };
    push_children(&mut stack, folder, Path::new(""))?;
    let mut chunk = Vec::with_capacity(CHUNK);
    while let Some(row) = stack.pop() {
        if row.record.kind == EntryKind::Dir {
            push_children(&mut stack, row.id, &row.rel)?;
        }
        chunk.push(row);
        if chunk.len() == CHUNK && !sink(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK))) {
            return Ok(());
        }
    }
    if !chunk.is_empty() {
        sink(chunk);
    }
    Ok(())
}

/// Streams a folder's children straight from the disk (the ephemeral path).
fn list_disk(folder: &Path, sink: &mut dyn FnMut(Vec<Item>) -> bool) -> Result<(), ListError> {
    let rd = std::fs::read_dir(folder).map_err(|e| ListError::from_io(folder, &e))?;
    let registry = Registry::active();
    let mut chunk = Vec::with_capacity(CHUNK);
    for e in rd {
        let Ok(e) = e else { continue };
        let name = e.file_name();
        let bytes = os_bytes(&name);
        let Ok(m) = e.metadata() else { continue };
        let kind = EntryKind::of(m.file_type());
        let meta = Meta::of(&m);
        let (display, lossy) = display_name(bytes);
        let content_kind = if kind == EntryKind::File {
            registry
                .identify(bytes, None)
                .and_then(|i| registry.get(i.type_index))
                .map_or(ContentKind::Unknown, |t| t.kind)
        } else {
            ContentKind::Unknown
        };
        chunk.push(Item {
            hidden: is_hidden(bytes),
            name: display,
            lossy,
            raw_name: bytes.to_vec(),
            uuid: None,
            kind,
            size: meta.size,
            counts: None,
            mtime_ns: meta.mtime_ns,
            created_ns: m
                .created()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_nanos()).ok()),
            content_kind,
            entry: None,
            cas: None,
        });
        if chunk.len() == CHUNK && !sink(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK))) {
            return Ok(());
        }
    }
    sink(chunk);
    Ok(())
}

/// What [`check_against_disk`] found.
#[derive(Debug, Default)]
pub struct Checked {
    /// The folder as the disk has it, when it differs from the index (items the index knows
    /// unchanged kept as the index has them), and whether anything changed or is new (else
    /// only gone or left out).
    pub replace: Option<(Vec<Item>, bool)>,
    /// Each item's creation time from the disk, by exact name (the index keeps none).
    pub created: Vec<(Vec<u8>, i64)>,
}

/// Compares an index listing with the disk, and (with `created`) tells the items' creation
/// times read there.
/// `None` if the folder cannot be read. [`Checked::replace`] is `None` if the disk shows
/// exactly the indexed names, kinds, sizes and modification times; otherwise it is the disk's
/// listing —
/// where every unchanged item keeps what the index knows (entry, content identity, folder
/// totals), and items the location's rules leave out of the index are shown too, so nothing
/// is hidden — and whether the folder *changed* since its scan (rule-skipped items alone are
/// not a change).
pub fn check_against_disk(
    folder: &Path,
    indexed: &[Item],
    location: Option<&LocationRecord>,
    created: bool,
) -> Option<Checked> {
    let mut disk = Vec::new();
    list_disk(folder, &mut |chunk| {
        disk.extend(chunk);
        true
    })
    .ok()?;
    let rules = location.and_then(|l| crate::vdfs::fs::rules::Compiled::new(&l.rules).ok());
    let rel_dir = location
        .and_then(|l| folder.strip_prefix(l.path()).ok().map(Path::to_path_buf))
        .unwrap_or_default();
    let has_cargo = disk.iter().any(|d| d.raw_name == b"Cargo.toml");
    let gitignore = location.is_some_and(|l| l.rules.respect_gitignore);
    let by_name: std::collections::HashMap<&[u8], &Item> =
        indexed.iter().map(|i| (i.raw_name.as_slice(), i)).collect();
    let same = |d: &Item, i: &Item| {
        d.kind == i.kind
            && (d.kind == EntryKind::Dir || (d.size == i.size && d.mtime_ns == i.mtime_ns))
    };
    let skipped = |d: &Item| {
        rules.as_ref().is_some_and(|r| {
            r.skip(&d.raw_name, d.kind, &d.path_in(&rel_dir), has_cargo)
                .is_some()
        })
    };
    let disk_names: std::collections::HashSet<&[u8]> =
        disk.iter().map(|d| d.raw_name.as_slice()).collect();
    let changed_or_new = disk
        .iter()
        .any(|d| match by_name.get(d.raw_name.as_slice()) {
            Some(i) => !same(d, i),
            // Not in the index: a change unless the rules leave it out (git-ignored names are
            // not checked here, so with that rule on only changes and removals count).
            None => !skipped(d) && !gitignore,
        });
    let removed = indexed
        .iter()
        .any(|i| !disk_names.contains(i.raw_name.as_slice()));
    let extra = disk.len() != indexed.len();
    let created = if created {
        disk.iter()
            .filter_map(|d| Some((d.raw_name.clone(), d.created_ns?)))
            .collect()
    } else {
        Vec::new()
    };
    if !changed_or_new && !removed && !extra {
        return Some(Checked {
            replace: None,
            created,
        });
    }
    let merged = disk
        .into_iter()
        .map(|d| match by_name.get(d.raw_name.as_slice()) {
            Some(i) if same(&d, i) => Item {
                created_ns: d.created_ns,
                ..(*i).clone()
            },
            _ => d,
        })
        .collect();
    Some(Checked {
        replace: Some((merged, changed_or_new || removed)),
        created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: rows were addressed by their lossy display name, so a name that is not
    /// UTF-8 pointed at another file (or none) — which rename and delete must never do.
    #[cfg(unix)]
    #[test]
    fn a_non_utf8_name_addresses_its_own_file() {
        let d = tempfile::tempdir().unwrap();
        let latin1 = os_from_bytes(b"caf\xe9.txt");
        std::fs::write(d.path().join(&latin1), b"mine").unwrap();
        // The file the lossy name would address holds something else.
        std::fs::write(d.path().join("caf\u{fffd}.txt"), b"other").unwrap();
        let mut items = Vec::new();
        list(None, &[], d.path(), &mut |chunk| {
            items.extend(chunk);
            true
        })
        .unwrap();
        let item = items
            .iter()
            .find(|i| i.lossy)
            .expect("the Latin-1 name is listed");
        assert_eq!(item.raw_name, b"caf\xe9.txt");
        assert_eq!(std::fs::read(item.path_in(d.path())).unwrap(), b"mine");
    }

    /// Regression: the grid showed "LNK" for the half of an icon theme's icons that are
    /// links; a link named like an image now shows the target's picture.
    #[cfg(unix)]
    #[test]
    fn a_link_named_like_an_image_shows_a_picture() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("real.svg"), b"<svg/>").unwrap();
        std::fs::write(d.path().join("notes.txt"), b"x").unwrap();
        std::os::unix::fs::symlink("real.svg", d.path().join("alias.svg")).unwrap();
        std::os::unix::fs::symlink("notes.txt", d.path().join("alias.txt")).unwrap();
        let mut items = Vec::new();
        list(None, &[], d.path(), &mut |chunk| {
            items.extend(chunk);
            true
        })
        .unwrap();
        let shows = |n: &str| items.iter().find(|i| i.name == n).unwrap().shows_picture();
        assert!(shows("real.svg") && shows("alias.svg"));
        assert!(!shows("notes.txt") && !shows("alias.txt"));
    }
}

#[cfg(test)]
mod check_tests {
    use super::*;

    /// Creation times are read from the disk for an index listing only when asked for (the
    /// Created column shown): otherwise the check sends nothing more than before.
    #[test]
    fn creation_times_come_with_the_check_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"a").unwrap();
        let mut listed = Vec::new();
        list_disk(dir.path(), &mut |c| {
            listed.extend(c);
            true
        })
        .unwrap();
        let born = listed[0].created_ns;
        // As an index listing has them: no creation times.
        for i in &mut listed {
            i.created_ns = None;
        }
        let quiet = check_against_disk(dir.path(), &listed, None, false).unwrap();
        assert!(quiet.replace.is_none() && quiet.created.is_empty());
        let told = check_against_disk(dir.path(), &listed, None, true).unwrap();
        assert!(told.replace.is_none(), "nothing changed");
        match born {
            Some(t) => assert_eq!(told.created, [(b"a.txt".to_vec(), t)]),
            None => assert!(
                told.created.is_empty(),
                "no birth times on this file system"
            ),
        }
    }
}
