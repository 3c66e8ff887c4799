//! Locations: folders added to a library to be indexed.

use std::path::{Path, PathBuf};

use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::record::{Record, decode_record, encode_record};
use crate::store::schema::{LOCATION_JOBS, LOCATIONS, META, META_NEXT_LOCATION_ID};
use crate::store::{Store, StoreError, decode, encode};
use crate::vdfs::CoreError;
use crate::vdfs::fs::entry::{os_bytes, os_from_bytes};
use crate::vdfs::fs::mounts::{self, VolumeInfo};
use crate::vdfs::fs::rules::{Rules, SkipCounts};
use crate::vdfs::jobs::{JobId, now_ms};

/// How deeply a location is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexMode {
    /// File-system metadata only.
    Shallow,
    /// Plus content identity (sampled hash) and file type from the bytes.
    Content,
    /// Plus sidecars such as image thumbnails.
    Deep,
}

impl std::str::FromStr for IndexMode {
    type Err = String;
    fn from_str(s: &str) -> Result<IndexMode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "shallow" => Ok(IndexMode::Shallow),
            "content" => Ok(IndexMode::Content),
            "deep" => Ok(IndexMode::Deep),
            _ => Err(format!("unknown mode {s:?}; use shallow, content or deep")),
        }
    }
}

impl IndexMode {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            IndexMode::Shallow => "shallow",
            IndexMode::Content => "content",
            IndexMode::Deep => "deep",
        }
    }
}

/// What the last index of a location found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationStats {
    /// Files (and other non-folders that are not symbolic links) indexed.
    pub files: u64,
    /// Folders indexed (the root included).
    pub dirs: u64,
    /// Symbolic links indexed (counted apart from files).
    pub symlinks: u64,
    /// Bytes of the files.
    pub bytes: u64,
    /// What the rules left out.
    pub skipped: SkipCounts,
    /// Per-path errors of the last scan.
    pub errors: u64,
}

/// A location as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationRecord {
    /// Id within the library.
    pub id: u32,
    /// Global id.
    pub uuid: Uuid,
    /// The device that owns it (whose disks it is on): only that device scans it.
    pub device: Uuid,
    /// The computer it was added on ([`crate::vdfs::home::device::machine_id`]), if known: a
    /// portable data folder carries its device identity to other computers, whose disks are
    /// not this location's (unless its volume, found by a strong fingerprint, came along).
    pub machine: Option<String>,
    /// The root folder's canonical path, exact bytes (on [`LocationRecord::device`]).
    pub path: Vec<u8>,
    /// Index mode.
    pub mode: IndexMode,
    /// Indexer rules.
    pub rules: Rules,
    /// The mount it was on when last scanned (a hint for the availability check when its
    /// volume has no record or only a weak fingerprint).
    pub volume: VolumeInfo,
    /// Its volume's record (table `volumes`), once known: the location is found through the
    /// volume's fingerprint, wherever that volume is mounted.
    pub volume_id: Option<Uuid>,
    /// The root's path relative to its volume's mount point, exact bytes (with
    /// [`LocationRecord::volume_id`]); the absolute [`LocationRecord::path`] is a cache of it.
    pub volume_path: Option<Vec<u8>>,
    /// The root folder's entry id, once indexed.
    pub root_entry: Option<u64>,
    /// When it was added, ms since the epoch.
    pub created_ms: i64,
    /// When its last index finished, ms since the epoch.
    pub indexed_ms: Option<i64>,
    /// Results of the last index.
    pub stats: LocationStats,
    /// The last scan's failure, if it failed.
    pub error: Option<String>,
    /// Whether the live index watches it (on by default; `location set --watch off`).
    pub watch: bool,
}

impl Record for LocationRecord {
    const TABLE: &'static str = "locations";
    const VERSION: u8 = 2;

    fn upgrade(version: u8, payload: &[u8]) -> Result<Self, StoreError> {
        match version {
            1 => {
                let v1: LocationRecordV1 =
                    postcard::from_bytes(payload).map_err(|e| StoreError::Decode {
                        table: Self::TABLE,
                        detail: format!("version 1 record: {e}"),
                    })?;
                Ok(v1.into())
            }
            _ => Err(StoreError::Decode {
                table: Self::TABLE,
                detail: format!("unknown record version {version}"),
            }),
        }
    }
}

/// [`LocationRecord`] as written before the live index (version 1, no `watch`). Frozen: never
/// change it. It shares its field types with the current layout, so a change to one of them
/// needs a frozen copy of it here too.
#[derive(Debug, Deserialize)]
struct LocationRecordV1 {
    id: u32,
    uuid: Uuid,
    device: Uuid,
    machine: Option<String>,
    path: Vec<u8>,
    mode: IndexMode,
    rules: Rules,
    volume: VolumeInfo,
    volume_id: Option<Uuid>,
    volume_path: Option<Vec<u8>>,
    root_entry: Option<u64>,
    created_ms: i64,
    indexed_ms: Option<i64>,
    stats: LocationStats,
    error: Option<String>,
}

impl From<LocationRecordV1> for LocationRecord {
    fn from(v: LocationRecordV1) -> LocationRecord {
        LocationRecord {
            id: v.id,
            uuid: v.uuid,
            device: v.device,
            machine: v.machine,
            path: v.path,
            mode: v.mode,
            rules: v.rules,
            volume: v.volume,
            volume_id: v.volume_id,
            volume_path: v.volume_path,
            root_entry: v.root_entry,
            created_ms: v.created_ms,
            indexed_ms: v.indexed_ms,
            stats: v.stats,
            error: v.error,
            watch: true,
        }
    }
}

impl LocationRecord {
    /// A location at `root` of this machine, never indexed: for tests of what reads
    /// locations without a store.
    #[cfg(test)]
    pub(crate) fn for_tests(root: &Path) -> LocationRecord {
        LocationRecord {
            id: 1,
            uuid: Uuid::nil(),
            device: Uuid::nil(),
            machine: None,
            path: crate::vdfs::fs::entry::os_bytes(root.as_os_str()).to_vec(),
            mode: IndexMode::Shallow,
            rules: Rules::default(),
            volume: VolumeInfo::default(),
            volume_id: None,
            volume_path: None,
            root_entry: None,
            created_ms: 0,
            indexed_ms: None,
            stats: LocationStats::default(),
            error: None,
            watch: false,
        }
    }

    /// The root path.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(os_from_bytes(&self.path))
    }

    /// A short display name (the root folder's name).
    pub fn name(&self) -> String {
        let p = self.path();
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Whether the root can be scanned now.
    pub fn availability(&self) -> Availability {
        availability(&self.path(), &self.volume)
    }
}

/// Whether a location's root is reachable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum Availability {
    /// The root is there.
    Online,
    /// The drive is not mounted (or something else is mounted there): entries are kept.
    Offline(String),
    /// The drive is mounted but the folder is gone (deleted or moved).
    Missing(String),
}

/// Decides whether `root` (recorded on `vol`) is online, offline or missing.
pub fn availability(root: &Path, vol: &VolumeInfo) -> Availability {
    let on_own_mount = vol.mount_point != Path::new("/") && !vol.mount_point.as_os_str().is_empty();
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => {
            let dev = crate::vdfs::fs::entry::Meta::of(&m).dev;
            if on_own_mount && dev != vol.dev && !mounts::is_mounted(&vol.mount_point) {
                // The folder exists but on another file system: typically the empty mount
                // point of an unplugged drive.
                Availability::Offline(format!(
                    "{} is not mounted (the folder there is on another file system)",
                    vol.mount_point.display()
                ))
            } else {
                Availability::Online
            }
        }
        Ok(_) => Availability::Missing(format!("{} is no longer a folder", root.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if on_own_mount && !mounts::is_mounted(&vol.mount_point) {
                Availability::Offline(format!(
                    "the drive at {} is not mounted",
                    vol.mount_point.display()
                ))
            } else {
                Availability::Missing(format!("{} was deleted or moved", root.display()))
            }
        }
        Err(e) => Availability::Offline(format!("{}: {e}", root.display())),
    }
}

/// Where a location's root is now, found through its volume's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Online, offline (never scanned then) or missing.
    pub availability: Availability,
    /// The root's path now, when its volume is mounted somewhere other than where it was
    /// (the location follows it: see `Library::follow_volumes`).
    pub moved_to: Option<PathBuf>,
}

/// Decides where location `loc` is, on this device `this_device`, given its volume's record
/// and the volumes mounted now:
/// - a location owned by another device (a portable library opened elsewhere) is offline
///   here — never scanned against this machine's disks;
/// - a volume found by its fingerprint at another mount point moves the location there (the
///   index is kept, with its ids and UUIDs);
/// - a volume not mounted is offline, and says so when another file system sits at its old
///   mount point ("a different volume"), which is never scanned over the first one's
///   entries;
/// - without a volume record, a strong fingerprint or a readable mount table, the path and the
///   mount hint decide ([`availability`]).
pub fn locate(
    loc: &LocationRecord,
    this_device: Uuid,
    record: Option<&super::volume::VolumeRecord>,
    mounted: &[crate::vdfs::fs::volumes::Volume],
) -> Located {
    use crate::vdfs::fs::volumes::volume_containing;
    let here = |availability| Located {
        availability,
        moved_to: None,
    };
    if loc.device != this_device {
        return here(Availability::Offline(format!(
            "it belongs to another device ({}); only that device scans it",
            loc.device
        )));
    }
    // The same device identity on another computer (a portable data folder): only a volume
    // that came along, recognised by a strong fingerprint, is this location's.
    let elsewhere = matches!(
        (&loc.machine, crate::vdfs::home::device::machine_id()),
        (Some(m), Some(here)) if m != here
    );
    let came_along = record.is_some_and(|r| {
        (r.fingerprint.starts_with("uuid:") || r.fingerprint.starts_with("src:"))
            && mounted
                .iter()
                .any(|v| v.fingerprint.as_string() == r.fingerprint)
    });
    if elsewhere && !came_along {
        return here(Availability::Offline(format!(
            "it was added on another computer (machine {}); its disk is not here",
            loc.machine.as_deref().unwrap_or("?")
        )));
    }
    let (Some(rec), Some(rel)) = (record, &loc.volume_path) else {
        return here(loc.availability());
    };
    if mounted.is_empty() {
        return here(loc.availability());
    }
    let rel = PathBuf::from(os_from_bytes(rel));
    let found = mounted
        .iter()
        .find(|v| v.fingerprint.as_string() == rec.fingerprint);
    let name = rec.label.clone().unwrap_or_else(|| {
        let mp = PathBuf::from(os_from_bytes(&rec.last_mount_point));
        mp.display().to_string()
    });
    match found {
        Some(v) => {
            let now = if rel.as_os_str().is_empty() {
                v.mount_point.clone()
            } else {
                v.mount_point.join(rel)
            };
            if now == loc.path() {
                here(loc.availability())
            } else if now.is_dir() {
                Located {
                    availability: Availability::Online,
                    moved_to: Some(now),
                }
            } else {
                here(Availability::Missing(format!(
                    "{} was deleted or moved (its volume {name} is mounted at {})",
                    now.display(),
                    v.mount_point.display()
                )))
            }
        }
        None => {
            let strong =
                rec.fingerprint.starts_with("uuid:") || rec.fingerprint.starts_with("src:");
            if !strong {
                return here(loc.availability());
            }
            let old_mp = PathBuf::from(os_from_bytes(&rec.last_mount_point));
            match volume_containing(mounted, &loc.path()) {
                Some(other) if other.mount_point == old_mp && old_mp != Path::new("/") => {
                    here(Availability::Offline(format!(
                        "a different volume ({}) is mounted at {}; the volume {name} is not mounted",
                        other.name(),
                        old_mp.display()
                    )))
                }
                _ => here(Availability::Offline(format!(
                    "the volume {name} is not mounted"
                ))),
            }
        }
    }
}

/// Every location, by id.
///
/// # Errors
/// [`StoreError`].
pub fn list(store: &Store) -> Result<Vec<LocationRecord>, StoreError> {
    store.read(|tx| {
        let t = tx.open_table(LOCATIONS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            out.push(decode_record(row?.1.value())?);
        }
        Ok(out)
    })
}

/// Every location, read inside a write transaction (a file operation's checkpoint).
///
/// # Errors
/// [`StoreError`].
pub fn list_in(tx: &redb::WriteTransaction) -> Result<Vec<LocationRecord>, StoreError> {
    let t = tx.open_table(LOCATIONS)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        out.push(decode_record(row?.1.value())?);
    }
    Ok(out)
}

/// One location.
///
/// # Errors
/// [`CoreError::LocationNotFound`], [`CoreError::Store`].
pub fn get(store: &Store, id: u32) -> Result<LocationRecord, CoreError> {
    store
        .read(|tx| {
            let t = tx.open_table(LOCATIONS)?;
            t.get(id)?.map(|v| decode_record(v.value())).transpose()
        })?
        .ok_or_else(|| CoreError::LocationNotFound {
            query: id.to_string(),
        })
}

/// Finds a location by id, by path (the root or any path inside it), or by root folder name.
///
/// # Errors
/// [`CoreError::LocationNotFound`], [`CoreError::Store`].
pub fn find(store: &Store, query: &str) -> Result<LocationRecord, CoreError> {
    let all = list(store)?;
    if let Ok(id) = query.parse::<u32>()
        && let Some(l) = all.iter().find(|l| l.id == id)
    {
        return Ok(l.clone());
    }
    let as_path = std::fs::canonicalize(query).unwrap_or_else(|_| PathBuf::from(query));
    if let Some(l) = all
        .iter()
        .filter(|l| as_path.starts_with(l.path()))
        .max_by_key(|l| l.path.len())
    {
        return Ok(l.clone());
    }
    let by_name: Vec<_> = all.iter().filter(|l| l.name() == query).collect();
    match by_name.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(CoreError::LocationNotFound {
            query: query.to_owned(),
        }),
    }
}

/// The location containing `path` (canonical), if any.
pub fn containing(all: &[LocationRecord], path: &Path) -> Option<LocationRecord> {
    all.iter()
        .filter(|l| path.starts_with(l.path()))
        .max_by_key(|l| l.path.len())
        .cloned()
}

/// True if a location contains `path` (canonical) or lies inside it, so the index knows at
/// least part of what is there.
pub fn overlaps(all: &[LocationRecord], path: &Path) -> bool {
    all.iter()
        .any(|l| path.starts_with(l.path()) || l.path().starts_with(path))
}

/// Whether a search scoped to `path` walks it instead of asking the index: when no location
/// contains it, the index knows only part of it (or none), so the whole of it is walked —
/// unless `indexed_only` (the query asks for tags, notes, collections: what only indexed
/// files carry) and a location lies inside it, when the index alone answers.
pub fn search_walks(all: &[LocationRecord], path: &Path, indexed_only: bool) -> bool {
    containing(all, path).is_none() && !(indexed_only && overlaps(all, path))
}

/// Records a new location (not yet indexed).
///
/// # Errors
/// [`CoreError::NotAFolder`] if `path` is missing or not a folder;
/// [`CoreError::LocationOverlap`] if it is, contains or is inside another location;
/// [`CoreError::Store`].
pub fn add(
    store: &Store,
    device: Uuid,
    path: &Path,
    mode: IndexMode,
    rules: Rules,
) -> Result<LocationRecord, CoreError> {
    let meta = std::fs::metadata(path).map_err(|e| CoreError::NotAFolder {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    if !meta.is_dir() {
        return Err(CoreError::NotAFolder {
            path: path.to_owned(),
            reason: "it is not a folder".to_owned(),
        });
    }
    let canon = std::fs::canonicalize(path).map_err(|e| CoreError::io(path, e))?;
    for l in list(store)? {
        let other = l.path();
        if canon.starts_with(&other) || other.starts_with(&canon) {
            return Err(CoreError::LocationOverlap {
                path: canon,
                other,
                id: l.id,
            });
        }
    }
    crate::vdfs::fs::rules::Compiled::new(&rules)
        .map_err(|e| CoreError::InvalidRules { reason: e })?;
    let volume = mounts::volume_of(&canon);
    if mounts::is_pseudo(&volume.fs_type) {
        return Err(CoreError::NotAFolder {
            path: canon,
            reason: format!(
                "it is on {} (a file system of the system's own, with no files of yours)",
                volume.fs_type
            ),
        });
    }
    let template = LocationRecord {
        id: 0,
        uuid: Uuid::now_v7(),
        device,
        machine: crate::vdfs::home::device::machine_id().map(str::to_owned),
        path: os_bytes(canon.as_os_str()).to_vec(),
        mode,
        rules,
        volume,
        volume_id: None,
        volume_path: None,
        root_entry: None,
        created_ms: now_ms(),
        indexed_ms: None,
        stats: LocationStats::default(),
        error: None,
        watch: true,
    };
    Ok(store.write(move |tx| {
        let mut meta = tx.open_table(META)?;
        let id: u32 = match meta.get(META_NEXT_LOCATION_ID)? {
            Some(v) => decode("meta", v.value())?,
            None => 1,
        };
        meta.insert(META_NEXT_LOCATION_ID, encode(&(id + 1)).as_slice())?;
        let mut rec = template.clone();
        rec.id = id;
        tx.open_table(LOCATIONS)?
            .insert(id, encode_record(&rec).as_slice())?;
        Ok(rec)
    })?)
}

/// Applies `f` to location `id` and saves it, durably.
///
/// # Errors
/// [`StoreError::NotFound`] if it does not exist.
pub fn update(
    store: &Store,
    id: u32,
    mut f: impl FnMut(&mut LocationRecord) + Send + 'static,
) -> Result<LocationRecord, StoreError> {
    store.write(move |tx| update_in(tx, id, &mut f))
}

/// [`update`] inside the caller's write transaction (e.g. a job's checkpoint, so that a
/// location's stats change in the same transaction as the aggregates they follow).
///
/// # Errors
/// [`StoreError::NotFound`] if it does not exist.
pub fn update_in(
    tx: &redb::WriteTransaction,
    id: u32,
    f: impl FnOnce(&mut LocationRecord),
) -> Result<LocationRecord, StoreError> {
    let mut t = tx.open_table(LOCATIONS)?;
    let mut rec: LocationRecord = match t.get(id)? {
        Some(v) => decode_record(v.value())?,
        None => {
            return Err(StoreError::NotFound {
                what: format!("location {id}"),
            });
        }
    };
    f(&mut rec);
    t.insert(id, encode_record(&rec).as_slice())?;
    Ok(rec)
}

/// The indexing job running or last run on location `id` (this device's runtime state, kept
/// apart from the location record, which will be synced).
///
/// # Errors
/// [`StoreError`].
pub fn job_of(store: &Store, id: u32) -> Result<Option<JobId>, StoreError> {
    store.read(|tx| Ok(tx.open_table(LOCATION_JOBS)?.get(id)?.map(|v| v.value())))
}

/// Records `job` as location `id`'s indexing job.
///
/// # Errors
/// [`StoreError`].
pub fn set_job(store: &Store, id: u32, job: JobId) -> Result<(), StoreError> {
    store.write(move |tx| {
        tx.open_table(LOCATION_JOBS)?.insert(id, job)?;
        Ok(())
    })
}

/// Deletes location `id`'s record and runtime state, leaving a tombstone (its entries must be
/// gone already: see `indexer::forget_location`).
///
/// # Errors
/// [`StoreError`].
pub fn remove(store: &Store, id: u32) -> Result<(), StoreError> {
    store.write(move |tx| {
        let old: Option<LocationRecord> = tx
            .open_table(LOCATIONS)?
            .remove(id)?
            .map(|v| decode_record(v.value()))
            .transpose()?;
        tx.open_table(LOCATION_JOBS)?.remove(id)?;
        if let Some(old) = old {
            tx.open_table(crate::store::schema::TOMBSTONES)?.insert(
                old.uuid.as_u128(),
                encode_record(&super::Tombstone {
                    kind: super::TombstoneKind::Location,
                    deleted_ms: now_ms(),
                    seq: 0,
                    parent: None,
                    name: Vec::new(),
                })
                .as_slice(),
            )?;
        }
        Ok(())
    })
}

/// Locates location `id` ([`locate`]) against the volumes mounted now and brings its record
/// up to date, in one transaction: a location without a volume record is bound to the volume
/// holding its root (its path relative to that volume is kept); a location whose volume is
/// mounted elsewhere follows it (its path, mount hint and root entry change; every entry keeps
/// its id and UUID). The caller must hold the location's write lease or know no job writes it.
/// Returns the record as it is now and where it is.
///
/// # Errors
/// [`StoreError`].
pub fn follow_volume(
    store: &Store,
    id: u32,
    this_device: Uuid,
    mounted: &[crate::vdfs::fs::volumes::Volume],
) -> Result<(LocationRecord, Located), StoreError> {
    use crate::vdfs::fs::volumes::volume_containing;
    let (loc, record) = store.read(|tx| {
        let loc: LocationRecord = tx
            .open_table(LOCATIONS)?
            .get(id)?
            .map(|v| decode_record(v.value()))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("location {id}"),
            })?;
        let record = match loc.volume_id {
            Some(v) => super::volume::get(tx, v)?,
            None => None,
        };
        Ok((loc, record))
    })?;
    let located = locate(&loc, this_device, record.as_ref(), mounted);
    if loc.device != this_device || located.availability != Availability::Online {
        return Ok((loc, located));
    }
    let root_now = located.moved_to.clone().unwrap_or_else(|| loc.path());
    let bind = (loc.volume_id.is_none() || loc.volume_path.is_none())
        .then(|| volume_containing(mounted, &root_now).cloned())
        .flatten();
    if located.moved_to.is_none() && bind.is_none() {
        return Ok((loc, located));
    }
    let moved_to = located.moved_to.clone();
    let volume = bind.or_else(|| {
        record
            .as_ref()
            .and_then(|r| {
                mounted
                    .iter()
                    .find(|v| v.fingerprint.as_string() == r.fingerprint)
            })
            .cloned()
    });
    let updated = store.write(move |tx| {
        let t = tx.open_table(LOCATIONS)?;
        let mut rec: LocationRecord = match t.get(id)? {
            Some(v) => decode_record(v.value())?,
            None => {
                return Err(StoreError::NotFound {
                    what: format!("location {id}"),
                });
            }
        };
        drop(t);
        if rec.machine.is_none() {
            rec.machine = crate::vdfs::home::device::machine_id().map(str::to_owned);
        }
        if let Some(v) = &volume {
            let vr = super::volume::register(tx, this_device, v, now_ms())?;
            let root = moved_to.clone().unwrap_or_else(|| rec.path());
            if let Ok(rel) = root.strip_prefix(&v.mount_point) {
                rec.volume_id = Some(vr.uuid);
                rec.volume_path = Some(os_bytes(rel.as_os_str()).to_vec());
            }
        }
        if let Some(new) = &moved_to {
            let new_bytes = os_bytes(new.as_os_str()).to_vec();
            tracing::info!(
                location = id,
                "its volume is mounted elsewhere now: {} → {}",
                rec.path().display(),
                new.display()
            );
            if let Some(root) = rec.root_entry {
                let mut w = super::write::IndexWriter::begin(tx)?;
                let name = new_bytes.clone();
                w.update(root, move |r| r.name = name)?;
            }
            rec.path = new_bytes;
            rec.volume = mounts::volume_of(new);
        }
        tx.open_table(LOCATIONS)?
            .insert(id, encode_record(&rec).as_slice())?;
        Ok(rec)
    })?;
    Ok((updated, located))
}

/// [`locate`] with the location's volume record read from `store`, writing nothing.
///
/// # Errors
/// [`StoreError`].
pub fn locate_now(
    store: &Store,
    loc: &LocationRecord,
    this_device: Uuid,
    mounted: &[crate::vdfs::fs::volumes::Volume],
) -> Result<Located, StoreError> {
    let record = match loc.volume_id {
        Some(v) => store.read(|tx| super::volume::get(tx, v))?,
        None => None,
    };
    Ok(locate(loc, this_device, record.as_ref(), mounted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vdfs::fs::volumes::{Volume, VolumeFingerprint, VolumeKind};
    use crate::vdfs::index::volume::VolumeRecord;

    fn volume(uuid: &str, mount_point: &Path) -> Volume {
        Volume {
            fingerprint: VolumeFingerprint::Uuid(uuid.into()),
            label: Some("PHOTOS".into()),
            uuid: Some(uuid.into()),
            mount_point: mount_point.to_owned(),
            other_mount_points: Vec::new(),
            source: "/dev/sdb1".into(),
            device: Some("/dev/sdb1".into()),
            fs_type: "ext4".into(),
            kind: VolumeKind::External,
            removable: true,
            read_only: false,
            capacity: Some(1 << 30),
            free: Some(1 << 29),
            st_dev: 2049,
        }
    }

    fn setup(dir: &Path) -> (LocationRecord, VolumeRecord, Uuid) {
        let device = Uuid::now_v7();
        let old_mp = dir.join("old");
        std::fs::create_dir_all(old_mp.join("Pictures")).unwrap();
        let rec = VolumeRecord {
            uuid: Uuid::now_v7(),
            device,
            fingerprint: "uuid:aaaa".into(),
            label: Some("PHOTOS".into()),
            fs_type: "ext4".into(),
            kind: "external".into(),
            removable: true,
            read_only: false,
            capacity: 1 << 30,
            last_mount_point: os_bytes(old_mp.as_os_str()).to_vec(),
            last_seen_ms: 0,
        };
        let loc = LocationRecord {
            id: 1,
            uuid: Uuid::now_v7(),
            device,
            machine: crate::vdfs::home::device::machine_id().map(str::to_owned),
            path: os_bytes(old_mp.join("Pictures").as_os_str()).to_vec(),
            mode: IndexMode::Shallow,
            rules: Rules::none(),
            volume: mounts::volume_of(dir),
            volume_id: Some(rec.uuid),
            volume_path: Some(b"Pictures".to_vec()),
            root_entry: None,
            created_ms: 0,
            indexed_ms: None,
            stats: LocationStats::default(),
            error: None,
            watch: true,
        };
        (loc, rec, device)
    }

    #[test]
    fn the_same_volume_mounted_elsewhere_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let (loc, rec, device) = setup(dir.path());
        let new_mp = dir.path().join("new");
        std::fs::create_dir_all(new_mp.join("Pictures")).unwrap();
        let l = locate(&loc, device, Some(&rec), &[volume("aaaa", &new_mp)]);
        assert_eq!(l.availability, Availability::Online);
        assert_eq!(l.moved_to, Some(new_mp.join("Pictures")));
        // Mounted where it was: nothing moves.
        let old_mp = dir.path().join("old");
        let l = locate(&loc, device, Some(&rec), &[volume("aaaa", &old_mp)]);
        assert_eq!((l.availability, l.moved_to), (Availability::Online, None));
    }

    #[test]
    fn a_different_volume_at_the_old_mount_point_is_not_the_location() {
        let dir = tempfile::tempdir().unwrap();
        let (loc, rec, device) = setup(dir.path());
        let old_mp = dir.path().join("old");
        let l = locate(&loc, device, Some(&rec), &[volume("bbbb", &old_mp)]);
        match l.availability {
            Availability::Offline(why) => {
                assert!(why.contains("a different volume"), "{why}");
                assert!(why.contains("PHOTOS"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        // Nothing at all there: simply not mounted.
        let l = locate(
            &loc,
            device,
            Some(&rec),
            &[volume("cccc", Path::new("/elsewhere"))],
        );
        assert!(
            matches!(&l.availability, Availability::Offline(w) if w.contains("not mounted")),
            "{l:?}"
        );
    }

    #[test]
    fn a_location_added_on_another_computer_is_offline_unless_its_volume_came_along() {
        if crate::vdfs::home::device::machine_id().is_none() {
            eprintln!("skipped: no machine id on this system");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (mut loc, rec, device) = setup(dir.path());
        loc.machine = Some("0000000000000000".into());
        // Its volume is not mounted here: a disk of the other computer.
        let l = locate(&loc, device, Some(&rec), &[volume("cccc", Path::new("/"))]);
        assert!(
            matches!(&l.availability, Availability::Offline(w) if w.contains("another computer")),
            "{l:?}"
        );
        // Without any volume record, the path alone never makes it online either.
        let l = locate(&loc, device, None, &[]);
        assert!(matches!(l.availability, Availability::Offline(_)), "{l:?}");
        // The USB drive it is on came along: it is this location's.
        let old_mp = dir.path().join("old");
        let l = locate(&loc, device, Some(&rec), &[volume("aaaa", &old_mp)]);
        assert_eq!(l.availability, Availability::Online);
    }

    #[test]
    fn a_location_of_another_device_is_never_online_here() {
        let dir = tempfile::tempdir().unwrap();
        let (loc, rec, _) = setup(dir.path());
        let old_mp = dir.path().join("old");
        let l = locate(&loc, Uuid::now_v7(), Some(&rec), &[volume("aaaa", &old_mp)]);
        assert!(
            matches!(&l.availability, Availability::Offline(w) if w.contains("another device")),
            "{l:?}"
        );
    }
}
