//! The persistent index's records and the read queries over them.
//!
//! See `store::schema` for the tables: `entries` (id → [`EntryRecord`]), `child_names`
//! ((parent, name) → child, the unique name key and the hierarchy), `entry_uuids` and
//! `content_uuids` (UUID → id), `dir_stats` (folder → [`DirStats`]), `content` (cas_id →
//! [`ContentRecord`]), `content_instances` (cas_id, entry), `unreadable`, `tombstones`,
//! `favourite_entries` and `pinned`. Every record is a versioned envelope
//! ([`crate::store::record`]).
//!
//! Owns the index tables and the `locations` table ([`location`]). Every change of entries
//! goes through [`write::IndexWriter`], the one write path, which keeps the name key, the UUID
//! indexes, the change sequence, the tombstones and the names generation in the same
//! transaction as the change. [`upgrade`] brings a library written by an older Cairn to the
//! current records.
//!
//! May use: `home`, `error`, `events`, `sdpath`, `jobs`, `content`, `fs`.

#[cfg(test)]
mod faults;
pub mod follow;
pub mod location;
pub mod repair;
pub mod tags;
pub mod upgrade;
pub mod volume;
pub mod write;

use std::path::PathBuf;

use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::record::{Record, decode_record};
use crate::store::schema::{
    CHILD_NAMES, CONTENT, CONTENT_INSTANCES, CONTENT_UUIDS, DIR_STATS, ENTRIES, ENTRY_UUIDS, META,
    META_NAMES_GENERATION, UNREADABLE,
};
use crate::store::{StoreError, decode};
use crate::vdfs::content::CasId;
use crate::vdfs::content::filetype::ContentKind;
use crate::vdfs::fs::entry::{EntryKind, Meta, os_from_bytes};

/// An entry of the persistent index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// Global id; kept across renames and moves.
    pub uuid: Uuid,
    /// The location it belongs to.
    pub location: u32,
    /// Parent entry id; 0 for a location's root.
    pub parent: u64,
    /// Exact name bytes (for a location root: the root's full path).
    pub name: Vec<u8>,
    /// Kind.
    pub kind: EntryKind,
    /// `lstat` size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Inode number.
    pub inode: u64,
    /// Device id.
    pub dev: u64,
    /// Content identity, once identified (Content and Deep modes; never for empty files).
    pub cas: Option<CasId>,
    /// Kind of content: from the extension in Shallow mode, from the bytes once identified.
    pub content_kind: ContentKind,
    /// When the index first saw it, ms since the epoch.
    pub first_seen_ms: i64,
    /// The library's change sequence number of its last write (see `META_NEXT_SEQ`): entries
    /// changed since a watermark are those with a higher number.
    pub updated_seq: u64,
}

impl Record for EntryRecord {
    const TABLE: &'static str = "entries";
    const VERSION: u8 = 1;
}

impl EntryRecord {
    /// The metadata fields.
    pub fn meta(&self) -> Meta {
        Meta {
            size: self.size,
            mtime_ns: self.mtime_ns,
            inode: self.inode,
            dev: self.dev,
        }
    }

    /// True for names starting with a dot.
    pub fn is_hidden(&self) -> bool {
        crate::vdfs::fs::entry::is_hidden(&self.name)
    }
}

/// Aggregates of a folder's whole subtree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirStats {
    /// Bytes of all files below.
    pub bytes: u64,
    /// Files (and other non-folders that are not symbolic links) below.
    pub files: u64,
    /// Folders below.
    pub dirs: u64,
    /// Symbolic links below (counted apart from files: an icon theme is half links).
    pub symlinks: u64,
}

impl Record for DirStats {
    const TABLE: &'static str = "dir_stats";
    const VERSION: u8 = 1;
}

/// A content identity: one record per distinct content, with its instance count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRecord {
    /// The sampled hash.
    pub cas: CasId,
    /// UUID v5 of the cas_id (the same on every device).
    pub uuid: Uuid,
    /// Size of one copy.
    pub size: u64,
    /// Kind of content.
    pub kind: ContentKind,
    /// File-type id from the registry (e.g. `image/jpeg`), if identified.
    pub file_type: Option<String>,
    /// MIME type.
    pub mime: Option<String>,
    /// Entries with this content (exact: rows in `content_instances`).
    pub instances: u64,
    /// When first seen, ms since the epoch.
    pub first_seen_ms: i64,
    /// When an instance was last hashed in full, ms since the epoch.
    pub last_verified_ms: Option<i64>,
    /// BLAKE3 of the whole content, once computed.
    pub integrity: Option<[u8; 32]>,
}

impl Record for ContentRecord {
    const TABLE: &'static str = "content";
    const VERSION: u8 = 1;
}

/// A folder that could not be listed at its last scan (table `unreadable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableRecord {
    /// The first failed scan of a run of failures, ms since the epoch.
    pub since_ms: i64,
}

impl Record for UnreadableRecord {
    const TABLE: &'static str = "unreadable";
    const VERSION: u8 = 1;
}

/// A favourite or a pinned place (tables `favourite_entries`, `pinned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FavouriteRecord {
    /// When it was added, ms since the epoch (favourites are listed in this order).
    pub added_ms: i64,
}

impl Record for FavouriteRecord {
    const TABLE: &'static str = "favourites";
    const VERSION: u8 = 1;
}

/// What kind of record a [`Tombstone`] stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TombstoneKind {
    /// An entry (a file or folder of a location).
    Entry,
    /// A location.
    Location,
}

/// A deleted device-owned record, kept so a peer can learn of the deletion (table
/// `tombstones`, keyed by the record's UUID), and so what a person put on a deleted entry
/// can say where it was (the "Missing" view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// What was deleted.
    pub kind: TombstoneKind,
    /// When, ms since the epoch.
    pub deleted_ms: i64,
    /// The change sequence number of the deletion (see `META_NEXT_SEQ`).
    pub seq: u64,
    /// For an entry: the UUID of the folder it was in (`None` for a location's root, or when
    /// not known).
    pub parent: Option<Uuid>,
    /// For an entry: its name, exact bytes (empty when not known).
    pub name: Vec<u8>,
}

impl Record for Tombstone {
    const TABLE: &'static str = "tombstones";
    const VERSION: u8 = 2;

    fn upgrade(version: u8, payload: &[u8]) -> Result<Self, StoreError> {
        match version {
            1 => {
                let v1: TombstoneV1 =
                    postcard::from_bytes(payload).map_err(|e| StoreError::Decode {
                        table: Self::TABLE,
                        detail: format!("version 1 record: {e}"),
                    })?;
                Ok(Tombstone {
                    kind: v1.kind,
                    deleted_ms: v1.deleted_ms,
                    seq: v1.seq,
                    parent: None,
                    name: Vec::new(),
                })
            }
            _ => Err(StoreError::Decode {
                table: Self::TABLE,
                detail: format!("unknown record version {version}"),
            }),
        }
    }
}

/// [`Tombstone`] as written before it kept an entry's folder and name (version 1). Frozen:
/// never change it.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct TombstoneV1 {
    kind: TombstoneKind,
    deleted_ms: i64,
    seq: u64,
}

/// Bits of an entry id below the location id: entries of location `loc` have ids in
/// [`entry_ids`]`(loc)`.
pub const ENTRY_ID_BITS: u32 = 40;

/// The range of entry ids of location `loc`: `loc << 40 | 1 ..= loc << 40 | (2^40 - 1)`.
pub fn entry_ids(loc: u32) -> std::ops::RangeInclusive<u64> {
    let base = u64::from(loc) << ENTRY_ID_BITS;
    base + 1..=base + ((1u64 << ENTRY_ID_BITS) - 1)
}

/// Reserves `n` fresh entry ids for location `loc`; returns the first (the others follow it).
///
/// # Errors
/// [`StoreError::Conflict`] if the location's range is used up; [`StoreError`].
pub fn reserve_entry_ids(tx: &redb::WriteTransaction, loc: u32, n: u64) -> Result<u64, StoreError> {
    let key = format!("{}{loc}", crate::store::schema::META_NEXT_ENTRY_ID_PREFIX);
    let mut meta = tx.open_table(META)?;
    let range = entry_ids(loc);
    let next: u64 = match meta.get(key.as_str())? {
        Some(v) => decode("meta", v.value())?,
        None => *range.start(),
    };
    if next.saturating_add(n) > *range.end() {
        return Err(StoreError::Conflict {
            what: format!(
                "location {loc} has used up its {} entry ids",
                range.end() - range.start()
            ),
        });
    }
    meta.insert(key.as_str(), crate::store::encode(&(next + n)).as_slice())?;
    Ok(next)
}

/// The key of `(parent, name)` in table `child_names`: the parent id big-endian, then the name
/// bytes.
pub fn name_key(parent: u64, name: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + name.len());
    k.extend_from_slice(&parent.to_be_bytes());
    k.extend_from_slice(name);
    k
}

/// The keys of folder `parent`'s children in table `child_names`: `start..end`.
pub fn children_range(parent: u64) -> ([u8; 8], [u8; 8]) {
    (parent.to_be_bytes(), (parent + 1).to_be_bytes())
}

/// `(parent, name)` of a `child_names` key.
pub fn split_name_key(key: &[u8]) -> (u64, &[u8]) {
    let (p, name) = key.split_at(8.min(key.len()));
    let mut b = [0u8; 8];
    b[..p.len()].copy_from_slice(p);
    (u64::from_be_bytes(b), name)
}

/// The key of a pinned place in table `pinned`: the device's UUID (16 bytes) followed by the
/// path's exact bytes (an SdPath, physical form).
pub fn pinned_key(device: Uuid, path: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(16 + path.len());
    k.extend_from_slice(device.as_bytes());
    k.extend_from_slice(path);
    k
}

/// One entry by id.
///
/// # Errors
/// [`StoreError`] on read or decode failure.
pub fn entry(tx: &ReadTransaction, id: u64) -> Result<Option<EntryRecord>, StoreError> {
    let t = tx.open_table(ENTRIES)?;
    t.get(id)?.map(|v| decode_record(v.value())).transpose()
}

/// The entry id with this entry UUID (one `get`).
///
/// # Errors
/// [`StoreError`].
pub fn entry_id_by_uuid(tx: &ReadTransaction, uuid: Uuid) -> Result<Option<u64>, StoreError> {
    let t = tx.open_table(ENTRY_UUIDS)?;
    Ok(t.get(uuid.as_u128())?.map(|v| v.value()))
}

/// The child of folder `parent` named exactly `name` (one `get`); for `parent` 0, the location
/// root whose full path is `name`.
///
/// # Errors
/// [`StoreError`].
pub fn child_id(tx: &ReadTransaction, parent: u64, name: &[u8]) -> Result<Option<u64>, StoreError> {
    let t = tx.open_table(CHILD_NAMES)?;
    Ok(t.get(name_key(parent, name).as_slice())?.map(|v| v.value()))
}

/// The ids of a folder's children, in name-byte order (one range scan).
///
/// # Errors
/// [`StoreError`].
pub fn child_ids(tx: &ReadTransaction, parent: u64) -> Result<Vec<u64>, StoreError> {
    let t = tx.open_table(CHILD_NAMES)?;
    let mut out = Vec::new();
    let (lo, hi) = children_range(parent);
    for row in t.range(&lo[..]..&hi[..])? {
        out.push(row?.1.value());
    }
    Ok(out)
}

/// A folder's children as `(id, record)`, in name-byte order.
///
/// # Errors
/// [`StoreError`].
pub fn children(tx: &ReadTransaction, parent: u64) -> Result<Vec<(u64, EntryRecord)>, StoreError> {
    let kids = tx.open_table(CHILD_NAMES)?;
    let entries = tx.open_table(ENTRIES)?;
    let mut out = Vec::new();
    let (lo, hi) = children_range(parent);
    for row in kids.range(&lo[..]..&hi[..])? {
        let id = row?.1.value();
        if let Some(v) = entries.get(id)? {
            out.push((id, decode_record(v.value())?));
        }
    }
    Ok(out)
}

/// Entry `id` and everything below it as `(id, record)`, parents before their children (a
/// breadth-first walk of the name key): a subtree read without touching the rest of its
/// location. Empty if `id` does not exist.
///
/// # Errors
/// [`StoreError`].
pub fn subtree(tx: &ReadTransaction, id: u64) -> Result<Vec<(u64, EntryRecord)>, StoreError> {
    let kids = tx.open_table(CHILD_NAMES)?;
    let entries = tx.open_table(ENTRIES)?;
    let mut out: Vec<(u64, EntryRecord)> = Vec::new();
    if let Some(v) = entries.get(id)? {
        out.push((id, decode_record(v.value())?));
    }
    let mut i = 0;
    while i < out.len() {
        let (parent, is_dir) = (out[i].0, out[i].1.kind == EntryKind::Dir);
        i += 1;
        if !is_dir {
            continue;
        }
        let (lo, hi) = children_range(parent);
        for row in kids.range(&lo[..]..&hi[..])? {
            let child = row?.1.value();
            if let Some(v) = entries.get(child)? {
                out.push((child, decode_record(v.value())?));
            }
        }
    }
    Ok(out)
}

/// The absolute path of entry `id`, by walking up to its location root.
///
/// # Errors
/// [`StoreError::NotFound`] if a link of the chain is missing.
pub fn path_of(tx: &ReadTransaction, id: u64) -> Result<PathBuf, StoreError> {
    let entries = tx.open_table(ENTRIES)?;
    let mut parts = Vec::new();
    let mut cur = id;
    loop {
        let rec: EntryRecord = match entries.get(cur)? {
            Some(v) => decode_record(v.value())?,
            None => {
                return Err(StoreError::NotFound {
                    what: format!("entry {cur}"),
                });
            }
        };
        parts.push(rec.name);
        if rec.parent == 0 {
            break;
        }
        cur = rec.parent;
    }
    let mut p = PathBuf::new();
    for name in parts.iter().rev() {
        p.push(os_from_bytes(name));
    }
    Ok(p)
}

/// A folder's aggregates.
///
/// # Errors
/// [`StoreError`].
pub fn dir_stats(tx: &ReadTransaction, id: u64) -> Result<Option<DirStats>, StoreError> {
    let t = tx.open_table(DIR_STATS)?;
    t.get(id)?.map(|v| decode_record(v.value())).transpose()
}

/// A content identity.
///
/// # Errors
/// [`StoreError`].
pub fn content(tx: &ReadTransaction, cas: CasId) -> Result<Option<ContentRecord>, StoreError> {
    let t = tx.open_table(CONTENT)?;
    t.get(cas.0)?.map(|v| decode_record(v.value())).transpose()
}

/// The entry ids holding `cas`.
///
/// # Errors
/// [`StoreError`].
pub fn instances(tx: &ReadTransaction, cas: CasId) -> Result<Vec<u64>, StoreError> {
    let t = tx.open_table(CONTENT_INSTANCES)?;
    let mut out = Vec::new();
    for row in t.range((cas.0, 0)..=(cas.0, u64::MAX))? {
        out.push(row?.0.value().1);
    }
    Ok(out)
}

/// The entry at `path` (absolute), if it lies in one of `locations` and is indexed:
/// `(location id, entry id, record)`.
///
/// # Errors
/// [`StoreError`].
pub fn find_by_path(
    store: &crate::store::Store,
    locations: &[crate::vdfs::index::location::LocationRecord],
    path: &std::path::Path,
) -> Result<Option<(u32, u64, EntryRecord)>, StoreError> {
    let Some(loc) = crate::vdfs::index::location::containing(locations, path) else {
        return Ok(None);
    };
    let Some(root) = loc.root_entry else {
        return Ok(None);
    };
    let rel = path
        .strip_prefix(loc.path())
        .unwrap_or(std::path::Path::new(""));
    store.read(|tx| {
        let names = tx.open_table(CHILD_NAMES)?;
        let mut cur = root;
        for comp in rel.components() {
            let name = crate::vdfs::fs::entry::os_bytes(comp.as_os_str());
            match names.get(name_key(cur, name).as_slice())? {
                Some(v) => cur = v.value(),
                None => return Ok(None),
            }
        }
        Ok(entry(tx, cur)?.map(|r| (loc.id, cur, r)))
    })
}

/// An indexed entry found by its path: the location holding it, its entry id and its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexedEntry {
    /// The location the entry belongs to.
    pub location: location::LocationRecord,
    /// The entry id.
    pub id: u64,
    /// The entry's record.
    pub record: EntryRecord,
}

/// [`find_by_path`] with the location's record: the entry at `path` (absolute, canonical) if
/// it lies in one of `locations` and is indexed.
///
/// # Errors
/// [`StoreError`].
pub fn entry_at(
    store: &crate::store::Store,
    locations: &[location::LocationRecord],
    path: &std::path::Path,
) -> Result<Option<IndexedEntry>, StoreError> {
    Ok(
        find_by_path(store, locations, path)?.and_then(|(loc, id, record)| {
            let location = locations.iter().find(|l| l.id == loc)?.clone();
            Some(IndexedEntry {
                location,
                id,
                record,
            })
        }),
    )
}

/// How many entries and how many content identities the index holds.
///
/// # Errors
/// [`StoreError`].
pub fn counts(store: &crate::store::Store) -> Result<(u64, u64), StoreError> {
    use redb::ReadableTableMetadata;
    store.read(|tx| {
        let e = tx.open_table(ENTRIES)?.len()?;
        let c = tx.open_table(CONTENT)?.len()?;
        Ok((e, c))
    })
}

/// The content with this content UUID, if any entry has it.
///
/// # Errors
/// [`StoreError`].
pub fn content_by_uuid(
    store: &crate::store::Store,
    uuid: Uuid,
) -> Result<Option<ContentRecord>, StoreError> {
    store.read(|tx| {
        let t = tx.open_table(CONTENT_UUIDS)?;
        match t.get(uuid.as_u128())? {
            Some(cas) => content(tx, CasId(cas.value())),
            None => Ok(None),
        }
    })
}

/// The best local instance of a content: the first whose file is on disk with the indexed
/// size, preferring online locations.
///
/// # Errors
/// [`StoreError`].
pub fn best_instance(
    store: &crate::store::Store,
    cas: CasId,
) -> Result<Option<PathBuf>, StoreError> {
    let paths = store.read(|tx| {
        let mut out = Vec::new();
        for id in instances(tx, cas)? {
            if let Some(r) = entry(tx, id)? {
                out.push((path_of(tx, id)?, r.size));
            }
        }
        Ok(out)
    })?;
    Ok(paths
        .into_iter()
        .find(|(p, size)| {
            std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file() && m.len() == *size)
        })
        .map(|(p, _)| p))
}

/// Every entry as one line `path\tkind\tsize\tmtime_ns\tcas_id\tuuid`, sorted by path, plus
/// one line per folder aggregate and per content identity: a canonical text form of the
/// whole index, for comparing two indexes (e.g. a resumed run with a clean one).
///
/// # Errors
/// [`StoreError`].
pub fn dump(store: &crate::store::Store) -> Result<Vec<String>, StoreError> {
    store.read(|tx| {
        let t = tx.open_table(ENTRIES)?;
        let ids: Vec<u64> = t
            .iter()?
            .map(|r| r.map(|(k, _)| k.value()))
            .collect::<Result<_, _>>()?;
        let mut lines = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(r) = entry(tx, id)? else { continue };
            let path = path_of(tx, id)?;
            let mut line = format!(
                "entry\t{}\t{}\t{}\t{}\t{}",
                path.display(),
                r.kind.as_str(),
                r.size,
                r.mtime_ns,
                r.cas.map(|c| c.to_string()).unwrap_or_default()
            );
            if r.kind == EntryKind::Dir {
                let s = dir_stats(tx, id)?.unwrap_or_default();
                line.push_str(&format!(
                    "\t{} bytes {} files {} dirs {} symlinks",
                    s.bytes, s.files, s.dirs, s.symlinks
                ));
            }
            lines.push(line);
        }
        let c = tx.open_table(CONTENT)?;
        for row in c.iter()? {
            let rec: ContentRecord = decode_record(row?.1.value())?;
            lines.push(format!(
                "content\t{}\t{}\t{}\t{:?}",
                rec.cas, rec.instances, rec.size, rec.file_type
            ));
        }
        lines.sort();
        Ok(lines)
    })
}

/// Folder paths resolved from `(parent, name)` pairs held in memory, each folder at most once
/// — for reports that list many entries and must not walk the store per entry.
#[derive(Debug, Default, Clone)]
pub struct DirTree {
    dirs: std::collections::HashMap<u64, (u64, Vec<u8>)>,
}

impl DirTree {
    /// Records folder `id` with its parent (0 for a location root, whose name is its full path).
    pub fn insert(&mut self, id: u64, parent: u64, name: Vec<u8>) {
        self.dirs.insert(id, (parent, name));
    }

    /// The parent of folder `id`.
    pub fn parent(&self, id: u64) -> Option<u64> {
        self.dirs.get(&id).map(|d| d.0)
    }

    /// The absolute path of folder `id`, using and filling `memo`; `None` if a link is missing.
    pub fn path(
        &self,
        memo: &mut std::collections::HashMap<u64, PathBuf>,
        id: u64,
    ) -> Option<PathBuf> {
        // Walk up to a known folder (or a root) without recursion: trees can be deep.
        let mut chain = Vec::new();
        let mut cur = id;
        let mut base = loop {
            if let Some(p) = memo.get(&cur) {
                break p.clone();
            }
            let (parent, name) = self.dirs.get(&cur)?;
            if *parent == 0 {
                let p = PathBuf::from(os_from_bytes(name));
                memo.insert(cur, p.clone());
                break p;
            }
            chain.push(cur);
            cur = *parent;
        };
        for d in chain.into_iter().rev() {
            base = base.join(os_from_bytes(&self.dirs[&d].1));
            memo.insert(d, base.clone());
        }
        Some(base)
    }
}

/// Calls `f` with every entry of the index, in id order, each record decoded once: the one
/// full pass over the entries table that reports and derived indexes share.
///
/// # Errors
/// [`StoreError`] if the store cannot be read or a record does not decode, or `f`'s error.
pub fn each_entry(
    tx: &ReadTransaction,
    mut f: impl FnMut(u64, EntryRecord) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for row in tx.open_table(ENTRIES)?.iter()? {
        let (k, v) = row?;
        f(k.value(), decode_record(v.value())?)?;
    }
    Ok(())
}

/// Every indexed file that `keep` accepts, with its absolute path and entry id, in one pass
/// over the entries table (folder paths are resolved once each through a [`DirTree`]).
/// Files whose folder chain is broken are left out. Order is the table's (entry id).
///
/// # Errors
/// [`StoreError`] if the store cannot be read or a record does not decode.
pub fn files_with_paths(
    tx: &ReadTransaction,
    mut keep: impl FnMut(&EntryRecord) -> bool,
) -> Result<Vec<(u64, PathBuf, EntryRecord)>, StoreError> {
    let mut dirs = DirTree::default();
    let mut files = Vec::new();
    each_entry(tx, |id, rec| {
        match rec.kind {
            EntryKind::Dir => dirs.insert(id, rec.parent, rec.name),
            EntryKind::File if keep(&rec) => files.push((id, rec)),
            _ => {}
        }
        Ok(())
    })?;
    let mut memo = std::collections::HashMap::new();
    Ok(files
        .into_iter()
        .filter_map(|(id, rec)| {
            let dir = dirs.path(&mut memo, rec.parent)?;
            Some((id, dir.join(os_from_bytes(&rec.name)), rec))
        })
        .collect())
}

/// Gives the names generation a new value inside a write transaction that changes entries,
/// their names, parents, sizes, times, kinds or content links, so the next search rebuilds its
/// name index (the write side's only duty towards the derived read-side caches).
///
/// The value is random (never 0, never the one it replaces), not a count: a count would take
/// the same values again after commits were lost (a crash or a failed write before a volatile
/// commit reached the disk, an older `library.redb` put back), and a name index built from the
/// lost state would pass for current.
///
/// # Errors
/// [`StoreError`].
pub fn note_index_changed(tx: &redb::WriteTransaction) -> Result<(), StoreError> {
    let mut meta = tx.open_table(META)?;
    let current: u64 = match meta.get(META_NAMES_GENERATION)? {
        Some(v) => decode("meta", v.value())?,
        None => 0,
    };
    let next = loop {
        let g = Uuid::new_v4().as_u64_pair().0;
        if g != 0 && g != current {
            break g;
        }
    };
    meta.insert(
        META_NAMES_GENERATION,
        crate::store::encode(&next).as_slice(),
    )?;
    Ok(())
}

/// [`names_generation`] inside a write transaction (after its own changes so far).
///
/// # Errors
/// [`StoreError`].
pub fn names_generation_in(tx: &redb::WriteTransaction) -> Result<u64, StoreError> {
    let meta = tx.open_table(META)?;
    Ok(match meta.get(META_NAMES_GENERATION)? {
        Some(v) => decode("meta", v.value())?,
        None => 0,
    })
}

/// What the live index's transactions changed, each as the names generation before and after
/// it and the ids of the entries whose search fields (name, path, size, dates, kind, copies)
/// may have changed — kept in memory (never stored) so that the search name index can follow
/// small changes with an overlay instead of a rebuild. A chain of steps from an index's
/// generation to the store's says exactly which entries differ; a change made by anything else
/// (a job, a file operation) breaks the chain and the index is rebuilt.
#[derive(Debug, Default)]
pub struct NamesDelta {
    steps: std::sync::Mutex<std::collections::VecDeque<(u64, u64, Vec<u64>)>>,
}

impl NamesDelta {
    /// Steps kept (the oldest go first).
    pub const MAX_STEPS: usize = 4096;

    /// Records one transaction: generation `from` before it, `to` after it, and the entries
    /// it touched.
    pub fn record(&self, from: u64, to: u64, ids: Vec<u64>) {
        if from == to {
            return;
        }
        let mut steps = self.steps.lock().expect("names delta");
        if steps.len() >= Self::MAX_STEPS {
            steps.pop_front();
        }
        steps.push_back((from, to, ids));
    }

    /// The entries changed from generation `from` to generation `to`, if a chain of recorded
    /// steps leads from one to the other and touches at most `max` entries; `None` otherwise.
    pub fn between(
        &self,
        from: u64,
        to: u64,
        max: usize,
    ) -> Option<std::collections::HashSet<u64>> {
        let steps = self.steps.lock().expect("names delta");
        let mut ids = std::collections::HashSet::new();
        let mut at = from;
        let mut hops = 0;
        while at != to {
            let (_, next, touched) = steps.iter().find(|(f, _, _)| *f == at)?;
            ids.extend(touched.iter().copied());
            if ids.len() > max {
                return None;
            }
            at = *next;
            hops += 1;
            if hops > steps.len() {
                return None;
            }
        }
        Some(ids)
    }
}

/// The store's current names generation (0 before anything was indexed); a new random value
/// after every change of the index ([`note_index_changed`]).
///
/// # Errors
/// [`StoreError`].
pub fn names_generation(store: &crate::store::Store) -> Result<u64, StoreError> {
    store.read(read_names_generation)
}

/// [`names_generation`] inside an open read transaction.
///
/// # Errors
/// [`StoreError`].
pub fn read_names_generation(tx: &ReadTransaction) -> Result<u64, StoreError> {
    let meta = tx.open_table(META)?;
    Ok(match meta.get(META_NAMES_GENERATION)? {
        Some(v) => decode("meta", v.value())?,
        None => 0,
    })
}

/// When the folder `id`, or the nearest folder above it, could not be listed at the last scan
/// of its location (ms since the epoch, the first failed scan of a run of failures): what the
/// index shows there is what it knew before. `None` when every folder on the way was listed.
///
/// # Errors
/// [`StoreError`].
pub fn unreadable_since(tx: &ReadTransaction, id: u64) -> Result<Option<i64>, StoreError> {
    use redb::ReadableTableMetadata;
    let un = tx.open_table(UNREADABLE)?;
    if un.is_empty()? {
        return Ok(None);
    }
    let mut cur = id;
    loop {
        if let Some(v) = un.get(cur)? {
            return Ok(Some(decode_record::<UnreadableRecord>(v.value())?.since_ms));
        }
        match entry(tx, cur)? {
            Some(r) if r.parent != 0 => cur = r.parent,
            _ => return Ok(None),
        }
    }
}

/// How many folders of location `location` could not be listed at its last scan.
///
/// # Errors
/// [`StoreError`].
pub fn unreadable_folders(tx: &ReadTransaction, location: u32) -> Result<u64, StoreError> {
    let un = tx.open_table(UNREADABLE)?;
    let mut n = 0;
    for row in un.iter()? {
        let id = row?.0.value();
        if entry(tx, id)?.is_some_and(|r| r.location == location) {
            n += 1;
        }
    }
    Ok(n)
}

/// Checks that the index's keys, links, counts and aggregates agree with its entries. Returns
/// one line per problem (empty when the index is sound):
/// - every entry has its `(parent, name)` key and its UUID key, and its parent is a folder
///   of the same location (or it is a location root);
/// - every name key and UUID key points at an entry with that name or UUID;
/// - every content link is an instance row, every instance row a link, every content's
///   instance count exact, every content UUID key right;
/// - every folder's stored aggregates equal those recomputed from the entries below it;
/// - every indexed location's files, folders, symbolic links and bytes equal its root's
///   aggregates (plus the root folder itself).
///
/// # Errors
/// [`StoreError`] if the store cannot be read or a record does not decode.
pub fn check(store: &crate::store::Store) -> Result<Vec<String>, StoreError> {
    store.read(|tx| {
        let mut problems = Vec::new();
        let mut entries = Vec::new();
        each_entry(tx, |id, rec| {
            entries.push((id, rec));
            Ok(())
        })?;
        let by_id: std::collections::HashMap<u64, &EntryRecord> =
            entries.iter().map(|(i, r)| (*i, r)).collect();
        let names = tx.open_table(CHILD_NAMES)?;
        let uuids = tx.open_table(ENTRY_UUIDS)?;
        let inst = tx.open_table(CONTENT_INSTANCES)?;
        for (id, r) in &entries {
            if names
                .get(name_key(r.parent, &r.name).as_slice())?
                .map(|v| v.value())
                != Some(*id)
            {
                problems.push(format!("entry {id} has no name key"));
            }
            if uuids.get(r.uuid.as_u128())?.map(|v| v.value()) != Some(*id) {
                problems.push(format!("entry {id} has no UUID key"));
            }
            if r.parent != 0 {
                match by_id.get(&r.parent) {
                    Some(p) if p.kind == EntryKind::Dir && p.location == r.location => {}
                    Some(_) => problems.push(format!("entry {id}'s parent is not its folder")),
                    None => problems.push(format!("entry {id}'s parent {} is gone", r.parent)),
                }
            }
            if let Some(cas) = r.cas
                && inst.get((cas.0, *id))?.is_none()
            {
                problems.push(format!("entry {id}'s content {cas} has no instance row"));
            }
        }
        for row in names.iter()? {
            let (k, v) = row?;
            let (parent, name) = split_name_key(k.value());
            let ok = by_id
                .get(&v.value())
                .is_some_and(|r| r.parent == parent && r.name == name);
            if !ok {
                problems.push(format!(
                    "name key ({parent}, {:?}) points at entry {} which is not there",
                    String::from_utf8_lossy(name),
                    v.value()
                ));
            }
        }
        for row in uuids.iter()? {
            let (k, v) = row?;
            if by_id
                .get(&v.value())
                .is_none_or(|r| r.uuid.as_u128() != k.value())
            {
                problems.push(format!("UUID key of entry {} is stale", v.value()));
            }
        }
        let mut counts: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
        for row in inst.iter()? {
            let (cas, id) = row?.0.value();
            if by_id.get(&id).and_then(|r| r.cas) != Some(CasId(cas)) {
                problems.push(format!("instance row ({cas:016x}, {id}) is not a link"));
            }
            *counts.entry(cas).or_default() += 1;
        }
        let cuuids = tx.open_table(CONTENT_UUIDS)?;
        let mut contents = 0u64;
        for row in tx.open_table(CONTENT)?.iter()? {
            let (k, v) = row?;
            let rec: ContentRecord = decode_record(v.value())?;
            contents += 1;
            let n = counts.get(&k.value()).copied().unwrap_or(0);
            if rec.instances != n {
                problems.push(format!(
                    "content {} counts {} instances, has {n}",
                    rec.cas, rec.instances
                ));
            }
            if cuuids.get(rec.uuid.as_u128())?.map(|v| v.value()) != Some(k.value()) {
                problems.push(format!("content {} has no UUID key", rec.cas));
            }
        }
        {
            use redb::ReadableTableMetadata;
            if cuuids.len()? != contents {
                problems.push(format!(
                    "{} content UUID keys for {contents} contents",
                    cuuids.len()?
                ));
            }
        }
        let expected = upgrade::aggregates(&entries);
        let ds = tx.open_table(DIR_STATS)?;
        for (id, want) in &expected {
            let have: Option<DirStats> =
                ds.get(id)?.map(|v| decode_record(v.value())).transpose()?;
            if have.as_ref() != Some(want) {
                problems.push(format!(
                    "folder {id}'s aggregates are {have:?}, its entries give {want:?}"
                ));
            }
        }
        for row in tx.open_table(crate::store::schema::LOCATIONS)?.iter()? {
            let loc: location::LocationRecord = decode_record(row?.1.value())?;
            let Some(root) = loc.root_entry else { continue };
            let want = expected.get(&root).copied().unwrap_or_default();
            let s = &loc.stats;
            let have = (s.files, s.dirs, s.symlinks, s.bytes);
            let want = (want.files, want.dirs + 1, want.symlinks, want.bytes);
            if have != want {
                problems.push(format!(
                    "location {}'s stats (files, folders, links, bytes) are {have:?}, its root's aggregates give {want:?}",
                    loc.id
                ));
            }
        }
        Ok(problems)
    })
}

#[cfg(test)]
mod tombstone_tests {
    use super::*;
    use crate::store::record::{decode_record, encode_record};

    /// A tombstone written before it kept a folder and a name (version 1) still reads, with
    /// neither; the new layout round-trips.
    #[test]
    fn a_version_1_tombstone_reads_without_folder_or_name() {
        #[derive(Serialize)]
        struct Old(TombstoneV1);
        impl Record for Old {
            const TABLE: &'static str = "tombstones";
            const VERSION: u8 = 1;
        }
        impl<'de> Deserialize<'de> for Old {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                unreachable!("only written")
            }
        }
        let old = encode_record(&Old(TombstoneV1 {
            kind: TombstoneKind::Entry,
            deleted_ms: 42,
            seq: 7,
        }));
        let t: Tombstone = decode_record(&old).unwrap();
        assert_eq!(
            t,
            Tombstone {
                kind: TombstoneKind::Entry,
                deleted_ms: 42,
                seq: 7,
                parent: None,
                name: Vec::new(),
            }
        );
        let new = Tombstone {
            parent: Some(Uuid::from_u128(3)),
            name: b"caf\xe9".to_vec(),
            ..t
        };
        assert_eq!(
            decode_record::<Tombstone>(&encode_record(&new)).unwrap(),
            new
        );
    }
}
