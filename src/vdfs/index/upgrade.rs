//! The upgrade of a library's records written by an older Cairn, run inside the store's
//! migration transaction ([`crate::store::Store::open_with`]): atomic — a crash leaves the
//! library at its old version, whole — and logged with progress.
//!
//! From schema version 2–4 (records were bare postcard structs) to version 5:
//! - every record is rewritten in the versioned, checksummed envelope
//!   ([`crate::store::record`]), entries with their change sequence number;
//! - entries are renumbered into their location's own range of ids
//!   ([`super::entry_ids`]; nothing outside the store holds an entry id across a restart);
//! - the name key `child_names`, `entry_uuids` and `content_uuids` are built;
//! - folder aggregates are recomputed from the entries, with symbolic links counted apart
//!   from files;
//! - locations get their owning device (this device: a library before version 5 was only ever
//!   written by one) and lose their job id (runtime state, now in `location_jobs`);
//! - favourites keyed by path become favourites of the indexed entry at that path (by UUID,
//!   so they follow renames), or pinned places (by SdPath) where nothing is indexed there;
//! - `children`, `dir_closure` and `favourites` are deleted.
//!
//! The frozen structs below are the version 2–4 layouts; they never change.

use std::collections::HashMap;

use redb::{ReadableTable, ReadableTableMetadata, TableHandle, WriteTransaction};
use serde::Deserialize;
use uuid::Uuid;

use crate::store::record::encode_record;
use crate::store::schema::{
    CHILD_NAMES, CHILDREN_V4, CONTENT, CONTENT_INSTANCES, CONTENT_UUIDS, DIR_CLOSURE_V4, DIR_STATS,
    ENTRIES, ENTRY_UUIDS, FAVOURITE_ENTRIES, FAVOURITES_V4, JOBS, LOCATION_JOBS, LOCATIONS, META,
    META_NEXT_ENTRY_ID_PREFIX, META_NEXT_ENTRY_ID_V4, META_NEXT_SEQ, PINNED, UNREADABLE,
};
use crate::store::{StoreError, encode};
use crate::vdfs::content::CasId;
use crate::vdfs::content::filetype::ContentKind;
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::fs::mounts::VolumeInfo;
use crate::vdfs::fs::rules::{Rules, SkipCounts};
use crate::vdfs::jobs::JobRecord;

use super::location::{IndexMode, LocationRecord, LocationStats};
use super::{ContentRecord, DirStats, EntryRecord, FavouriteRecord, UnreadableRecord, pinned_key};

/// Entries between two progress reports.
const PROGRESS_EVERY: u64 = 100_000;

/// Where upgrade progress goes besides the log: `(entries done, entries in all)`. A front end
/// sets it once (the CLI prints a line on stderr) before opening a library.
static PROGRESS: std::sync::OnceLock<fn(u64, u64)> = std::sync::OnceLock::new();

/// Sets where upgrade progress is reported (once per process; later calls are ignored).
pub fn on_progress(f: fn(u64, u64)) {
    let _ = PROGRESS.set(f);
}

fn report(done: u64, total: u64) {
    if let Some(f) = PROGRESS.get() {
        f(done, total);
    }
}

/// `EntryRecord` of schema versions 2–4.
#[derive(Deserialize)]
struct EntryV4 {
    uuid: Uuid,
    location: u32,
    parent: u64,
    name: Vec<u8>,
    kind: EntryKind,
    size: u64,
    mtime_ns: i64,
    inode: u64,
    dev: u64,
    cas: Option<CasId>,
    content_kind: ContentKind,
    first_seen_ms: i64,
}

/// `LocationStats` of schema versions 2–4.
#[derive(Deserialize)]
struct LocationStatsV4 {
    files: u64,
    dirs: u64,
    bytes: u64,
    skipped: SkipCounts,
    errors: u64,
}

/// `LocationRecord` of schema versions 2–4.
#[derive(Deserialize)]
struct LocationV4 {
    id: u32,
    uuid: Uuid,
    path: Vec<u8>,
    mode: IndexMode,
    rules: Rules,
    volume: VolumeInfo,
    root_entry: Option<u64>,
    created_ms: i64,
    indexed_ms: Option<i64>,
    job: Option<u64>,
    stats: LocationStatsV4,
    error: Option<String>,
}

fn raw<T: for<'de> Deserialize<'de>>(table: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Decode {
        table,
        detail: format!("(schema version 4 layout) {e}"),
    })
}

/// Whether the store's records are already in the version-5 envelope (checksummed): the
/// first few entries (or, with none, locations) open as envelopes. A version-2–4 record is a
/// bare postcard struct, which passes a CRC-32 check by chance once in 2^32. Used to tell a
/// damaged schema version (a flipped bit reading as an older layout) from a real old store.
///
/// # Errors
/// [`StoreError`] reading the tables.
pub fn records_are_current<T: ReadableTableMetadata>(
    entries: &T,
    first: impl Iterator<Item = Vec<u8>>,
) -> Result<bool, StoreError> {
    if entries.len()? == 0 {
        return Ok(false);
    }
    let mut seen = 0;
    for v in first.take(3) {
        if crate::store::record::open_envelope("entries", &v).is_err() {
            return Ok(false);
        }
        seen += 1;
    }
    Ok(seen > 0)
}

/// The first values of a table, for [`records_are_current`].
fn first_values<K: redb::Key + 'static>(
    t: &impl ReadableTable<K, &'static [u8]>,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut out = Vec::new();
    for row in t.iter()?.take(3) {
        out.push(row?.1.value().to_vec());
    }
    Ok(out)
}

/// Upgrades the records of a store found at schema version `found` (see the module
/// documentation); `device` is this device's id. Nothing to do for a new store but to drop the
/// tables version 5 replaced.
///
/// # Errors
/// [`StoreError`], e.g. a record that does not decode (the migration is then not committed).
pub fn run(tx: &WriteTransaction, found: u32, device: Uuid) -> Result<(), StoreError> {
    if found >= 5 {
        return Ok(());
    }
    {
        let t = tx.open_table(ENTRIES)?;
        if records_are_current(&t, first_values(&t)?.into_iter())? {
            return Err(StoreError::Conflict {
                what: format!(
                    "the catalogue's schema version reads {found}, but its records are of version 5: the version itself is damaged; `cairn library repair` rebuilds it"
                ),
            });
        }
    }
    let started = std::time::Instant::now();
    // Entries: decoded once, kept in memory (about 100 bytes each) for the keys and aggregates.
    let mut entries: Vec<(u64, EntryRecord)> = Vec::new();
    {
        let t = tx.open_table(ENTRIES)?;
        let total = t.len()?;
        if total > 0 {
            tracing::info!("upgrading the library's records: {total} entries");
            report(0, total);
        }
        for row in t.iter()? {
            let (k, v) = row?;
            let old: EntryV4 = raw("entries", v.value())?;
            entries.push((
                k.value(),
                EntryRecord {
                    uuid: old.uuid,
                    location: old.location,
                    parent: old.parent,
                    name: old.name,
                    kind: old.kind,
                    size: old.size,
                    mtime_ns: old.mtime_ns,
                    inode: old.inode,
                    dev: old.dev,
                    cas: old.cas,
                    content_kind: old.content_kind,
                    first_seen_ms: old.first_seen_ms,
                    updated_seq: 1,
                },
            ));
        }
    }
    // Ids: each location gets its own range (see `entry_ids`), handed out in the old order, so
    // a location's entries are one range scan.
    let mut renumber: HashMap<u64, u64> = HashMap::with_capacity(entries.len());
    let mut next: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
    for (id, rec) in &entries {
        let n = next
            .entry(rec.location)
            .or_insert_with(|| *super::entry_ids(rec.location).start());
        renumber.insert(*id, *n);
        *n += 1;
    }
    let new_id = |old: u64| renumber.get(&old).copied().unwrap_or(old);
    for (id, rec) in &mut entries {
        *id = new_id(*id);
        if rec.parent != 0 {
            rec.parent = new_id(rec.parent);
        }
    }
    {
        let mut meta = tx.open_table(META)?;
        meta.remove(META_NEXT_ENTRY_ID_V4)?;
        for (loc, n) in &next {
            meta.insert(
                format!("{META_NEXT_ENTRY_ID_PREFIX}{loc}").as_str(),
                encode(n).as_slice(),
            )?;
        }
    }
    {
        let mut t = tx.open_table(ENTRIES)?;
        t.retain(|_, _| false)?;
        let mut names = tx.open_table(CHILD_NAMES)?;
        let mut uuids = tx.open_table(ENTRY_UUIDS)?;
        let mut inst = tx.open_table(CONTENT_INSTANCES)?;
        inst.retain(|_, _| false)?;
        for (n, (id, rec)) in entries.iter().enumerate() {
            t.insert(id, encode_record(rec).as_slice())?;
            if let Some(other) =
                names.insert(super::name_key(rec.parent, &rec.name).as_slice(), *id)?
            {
                return Err(StoreError::Conflict {
                    what: format!(
                        "entries {} and {id} have the same name {:?} in folder {}; the library cannot be upgraded",
                        other.value(),
                        String::from_utf8_lossy(&rec.name),
                        rec.parent
                    ),
                });
            }
            uuids.insert(rec.uuid.as_u128(), *id)?;
            if let Some(cas) = rec.cas {
                inst.insert((cas.0, *id), ())?;
            }
            let n = n as u64 + 1;
            if n.is_multiple_of(PROGRESS_EVERY) {
                report(n, entries.len() as u64);
                tracing::info!(
                    "upgrading the library's records: {n} of {} entries ({:.1} s)",
                    entries.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    tx.open_table(META)?
        .insert(META_NEXT_SEQ, encode(&2u64).as_slice())?;
    // Entry ids changed: a saved search name index is stale.
    super::note_index_changed(tx)?;
    let stats = aggregates(&entries);
    {
        let mut ds = tx.open_table(DIR_STATS)?;
        ds.retain(|_, _| false)?;
        for (id, s) in &stats {
            ds.insert(id, encode_record(s).as_slice())?;
        }
    }
    // Content identities.
    {
        let mut c = tx.open_table(CONTENT)?;
        let mut uuids = tx.open_table(CONTENT_UUIDS)?;
        let mut all = Vec::new();
        for row in c.iter()? {
            let (k, v) = row?;
            let rec: ContentRecord = raw("content", v.value())?;
            all.push((k.value(), rec));
        }
        for (k, rec) in &all {
            c.insert(k, encode_record(rec).as_slice())?;
            uuids.insert(rec.uuid.as_u128(), *k)?;
        }
    }
    // Unreadable folders.
    {
        let mut t = tx.open_table(UNREADABLE)?;
        let mut all = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let since_ms: i64 = raw("unreadable", v.value())?;
            all.push((new_id(k.value()), UnreadableRecord { since_ms }));
        }
        t.retain(|_, _| false)?;
        for (k, rec) in &all {
            t.insert(k, encode_record(rec).as_slice())?;
        }
    }
    // Locations.
    let mut locations = Vec::new();
    {
        let mut t = tx.open_table(LOCATIONS)?;
        let mut jobs = tx.open_table(LOCATION_JOBS)?;
        let mut all = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            all.push((k.value(), raw::<LocationV4>("locations", v.value())?));
        }
        for (k, old) in all {
            let root_entry = old.root_entry.map(new_id);
            let root = root_entry.and_then(|r| stats.get(&r)).copied();
            let rec = LocationRecord {
                id: old.id,
                uuid: old.uuid,
                device,
                machine: None,
                path: old.path,
                mode: old.mode,
                rules: old.rules,
                volume: old.volume,
                volume_id: None,
                volume_path: None,
                root_entry,
                created_ms: old.created_ms,
                indexed_ms: old.indexed_ms,
                stats: LocationStats {
                    files: root.map_or(old.stats.files, |s| s.files),
                    dirs: old.stats.dirs,
                    symlinks: root.map_or(0, |s| s.symlinks),
                    bytes: old.stats.bytes,
                    skipped: old.stats.skipped,
                    errors: old.stats.errors,
                },
                error: old.error,
                watch: true,
            };
            t.insert(k, encode_record(&rec).as_slice())?;
            if let Some(job) = old.job {
                jobs.insert(k, job)?;
            }
            locations.push(rec);
        }
    }
    // Jobs: the same layout, in the envelope.
    {
        let mut t = tx.open_table(JOBS)?;
        let mut all = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            all.push((k.value(), raw::<JobRecord>("jobs", v.value())?));
        }
        for (k, rec) in &all {
            t.insert(k, encode_record(rec).as_slice())?;
        }
    }
    // Favourites: by entry UUID where the path is indexed, else pinned by SdPath.
    if tx.list_tables()?.any(|t| t.name() == FAVOURITES_V4.name()) {
        let mut favs = Vec::new();
        {
            let t = tx.open_table(FAVOURITES_V4)?;
            for row in t.iter()? {
                let (k, v) = row?;
                let added_ms: i64 = raw("favourites", v.value())?;
                favs.push((k.value().to_vec(), added_ms));
            }
        }
        let names = tx.open_table(CHILD_NAMES)?;
        let by_id: HashMap<u64, &EntryRecord> = entries.iter().map(|(i, r)| (*i, r)).collect();
        let mut fav = tx.open_table(FAVOURITE_ENTRIES)?;
        let mut pinned = tx.open_table(PINNED)?;
        for (path, added_ms) in favs {
            let rec = FavouriteRecord { added_ms };
            let found = resolve(&names, &locations, &path)?.and_then(|id| by_id.get(&id));
            match found {
                Some(e) => {
                    fav.insert(e.uuid.as_u128(), encode_record(&rec).as_slice())?;
                }
                None => {
                    pinned.insert(
                        pinned_key(device, &path).as_slice(),
                        encode_record(&rec).as_slice(),
                    )?;
                }
            }
        }
    }
    for name in ["children", "dir_closure", "favourites"] {
        if tx.list_tables()?.any(|t| t.name() == name) {
            let ok = match name {
                "children" => tx.delete_table(CHILDREN_V4)?,
                "dir_closure" => tx.delete_table(DIR_CLOSURE_V4)?,
                _ => tx.delete_table(FAVOURITES_V4)?,
            };
            debug_assert!(ok);
        }
    }
    if !entries.is_empty() {
        report(entries.len() as u64, entries.len() as u64);
        tracing::info!(
            "upgraded the library's records: {} entries in {:.1} s",
            entries.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The entry at absolute `path` (exact bytes) by the name key, if a location holds it.
fn resolve(
    names: &redb::Table<&'static [u8], u64>,
    locations: &[LocationRecord],
    path: &[u8],
) -> Result<Option<u64>, StoreError> {
    let p = std::path::PathBuf::from(crate::vdfs::fs::entry::os_from_bytes(path));
    let Some(loc) = super::location::containing(locations, &p) else {
        return Ok(None);
    };
    let Some(mut cur) = loc.root_entry else {
        return Ok(None);
    };
    let rel = p
        .strip_prefix(loc.path())
        .unwrap_or(std::path::Path::new(""));
    for comp in rel.components() {
        let name = crate::vdfs::fs::entry::os_bytes(comp.as_os_str());
        match names.get(super::name_key(cur, name).as_slice())? {
            Some(v) => cur = v.value(),
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

/// Folder aggregates recomputed from the entries: every folder's bytes, files, folders and
/// symbolic links below it.
pub(crate) fn aggregates(entries: &[(u64, EntryRecord)]) -> HashMap<u64, DirStats> {
    let parent: HashMap<u64, u64> = entries.iter().map(|(id, r)| (*id, r.parent)).collect();
    let mut stats: HashMap<u64, DirStats> = entries
        .iter()
        .filter(|(_, r)| r.kind == EntryKind::Dir)
        .map(|(id, _)| (*id, DirStats::default()))
        .collect();
    for (_, r) in entries {
        // Add this entry to every folder above it (bounded by the tree's depth).
        let mut cur = r.parent;
        let mut guard = 0usize;
        while cur != 0 && guard <= entries.len() {
            let Some(s) = stats.get_mut(&cur) else { break };
            match r.kind {
                EntryKind::Dir => s.dirs += 1,
                EntryKind::Symlink => s.symlinks += 1,
                EntryKind::File => {
                    s.files += 1;
                    s.bytes += r.size;
                }
                _ => s.files += 1,
            }
            cur = parent.get(&cur).copied().unwrap_or(0);
            guard += 1;
        }
    }
    stats
}
