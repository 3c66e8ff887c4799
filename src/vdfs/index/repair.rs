//! The rebuild of a damaged store that `cairn library repair` runs: a new `library.redb` made
//! from what the damaged one still holds.
//!
//! What is kept:
//! - every record whose envelope checks (version byte and CRC-32, [`crate::store::record`]) in
//!   the tables that hold what cannot be found again on the disks: locations, volumes,
//!   favourites, pinned places, tombstones, jobs and their steps (a file operation stopped half
//!   way must still be resumable), the audit log;
//! - every entry that decodes and whose chain of parents reaches its location's root, with its
//!   UUID (so favourites and later tags still find it); of two entries with one name in one
//!   folder, or one UUID, the lower id;
//! - every content identity that decodes and still has an entry (an entry whose content record
//!   is lost loses its link and is identified again by the next scan).
//!
//! What is rebuilt from the kept entries, never copied: the name key (`child_names`), the UUID
//! keys, the content instance lists and counts, the folder aggregates and the locations' totals.
//! The counters in `meta` are kept, raised past every id and sequence number still in use.
//!
//! The caller rescans every location afterwards: the disks fill in what was lost.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableHandle,
};

use crate::store::record::{decode_record, encode_record, open_envelope};
use crate::store::schema::{
    AUDIT, CHILD_NAMES, COLLECTIONS, CONTENT, CONTENT_INSTANCES, CONTENT_UUIDS, DIAGNOSTIC_BATCHES,
    DIR_STATS, ENTRIES, ENTRY_UUIDS, FAVOURITE_ENTRIES, JOBS, LOCATION_JOBS, LOCATIONS, META,
    META_NAMES_GENERATION, META_NEXT_ENTRY_ID_PREFIX, META_NEXT_JOB_ID, META_NEXT_LOCATION_ID,
    META_NEXT_SEQ, META_SCHEMA_VERSION, OP_ITEMS, PINNED, SAVED_SEARCHES, SYNC_LOG,
    TAG_ASSIGNMENTS, TAG_PARENTS, TAGS, TOMBSTONES, UNREADABLE, USER_META, VOLUMES,
};
use crate::store::{SCHEMA_VERSION, Store, StoreError, decode, encode};
use crate::vdfs::fs::entry::EntryKind;

use super::location::LocationRecord;
use super::{ContentRecord, EntryRecord, Tombstone, entry_ids, name_key};

/// What a rebuild kept and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RepairReport {
    /// `(table, records kept)` for each table read.
    pub kept: Vec<(String, u64)>,
    /// What was dropped: `(table, records, why)`.
    pub dropped: Vec<(String, u64, String)>,
    /// Set when the damaged store could not be read at all (redb refused it): nothing could be
    /// kept, the locations must be added again. The text is why.
    pub unreadable: Option<String>,
    /// The locations kept (ids), all to be rescanned.
    pub locations: Vec<u32>,
}

impl RepairReport {
    fn drop_n(&mut self, table: &str, n: u64, why: &str) {
        if n > 0 {
            self.dropped.push((table.to_owned(), n, why.to_owned()));
        }
    }
}

/// Rows of one table as owned `(key, value)` pairs.
type Rows<K, V> = Vec<(K, V)>;

/// What was read from the damaged store.
#[derive(Default)]
struct Salvage {
    meta: Rows<String, Vec<u8>>,
    locations: Rows<u32, Vec<u8>>,
    entries: Rows<u64, Vec<u8>>,
    content: Rows<u64, Vec<u8>>,
    unreadable: Rows<u64, Vec<u8>>,
    tombstones: Rows<u128, Vec<u8>>,
    volumes: Rows<u128, Vec<u8>>,
    favourites: Rows<u128, Vec<u8>>,
    pinned: Rows<Vec<u8>, Vec<u8>>,
    jobs: Rows<u64, Vec<u8>>,
    location_jobs: Rows<u32, u64>,
    op_items: Rows<(u64, u8, u64), Vec<u8>>,
    audit: Rows<u64, Vec<u8>>,
    diagnostic: Rows<(u64, u64), u32>,
    tags: Rows<u128, Vec<u8>>,
    tag_parents: Rows<(u128, u128), Vec<u8>>,
    tag_assignments: Rows<(u128, u8, u128), ()>,
    sync_log: Rows<Vec<u8>, Vec<u8>>,
    user_meta: Rows<(u8, u128), Vec<u8>>,
    collections: Rows<u128, Vec<u8>>,
    saved_searches: Rows<String, Vec<u8>>,
}

/// Builds a new store at `new` (which must not exist) from the store file `old` (`None`: there
/// is none, the new store is empty), as the module documentation says. `old` is opened by redb and may be changed by it (redb repairs its own
/// structures after an unclean shutdown): pass a copy, never the damaged original. The new
/// store passes [`super::check`] before this returns.
///
/// # Errors
/// [`StoreError::SchemaTooNew`] or [`StoreError::Conflict`] when `old` has another schema
/// version (a newer Cairn's, or an older one's whose records need the upgrade that opening it
/// runs); [`StoreError`] when the new store cannot be written or does not pass its check.
pub fn rebuild(old: Option<&Path>, new: &Path) -> Result<RepairReport, StoreError> {
    let mut report = RepairReport::default();
    let read = match old {
        Some(old) => read_old(old, &mut report),
        None => Err(Unreadable::Store("there is no store file".to_owned())),
    };
    let salvage = match read {
        Ok(s) => s,
        Err(Unreadable::Version(e)) => return Err(e),
        Err(Unreadable::Store(why)) => {
            report.unreadable = Some(why);
            Salvage::default()
        }
    };
    // The schema, tables and meta of a new store, then the salvage in one transaction.
    drop(Store::open(new)?);
    let db = Database::create(new).map_err(|e| StoreError::Open {
        path: new.to_owned(),
        source: std::sync::Arc::new(e),
    })?;
    let tx = db.begin_write()?;
    write_new(&tx, salvage, &mut report)?;
    tx.commit()?;
    drop(db);
    let store = Store::open(new)?;
    let problems = super::check(&store)?;
    if !problems.is_empty() {
        return Err(StoreError::Conflict {
            what: format!(
                "the rebuilt catalogue does not pass its check ({}); nothing was replaced",
                problems.join("; ")
            ),
        });
    }
    Ok(report)
}

enum Unreadable {
    /// Another schema version: not this code's to rebuild.
    Version(StoreError),
    /// redb cannot open or read the file at all.
    Store(String),
}

/// redb's magic number, the first 9 bytes of its file (redb's `docs/design.md`, "Database
/// header"), followed by the "god byte" of flags.
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];
/// The god byte's flags: which commit slot is the primary one, and "recovery required" (redb
/// rebuilds its allocator state from the trees on open).
const GOD_PRIMARY: u8 = 1;
const GOD_RECOVERY: u8 = 2;

/// Opens the store file `old` (a copy) for reading; when redb refuses its header, tries again
/// with the header mended as far as it can be: the magic number put back and recovery asked
/// for, then also the other commit slot (the commit before the last).
fn open_old(old: &Path) -> Result<Database, String> {
    let open = || {
        crate::store::guarded(old, || {
            let mut b = Database::builder();
            b.set_cache_size(16 * 1024 * 1024);
            b.create(old)
        })
    };
    let first = match open() {
        Ok(Ok(db)) => return Ok(db),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    let Ok(mut head) = std::fs::read(old).map(|b| b[..b.len().min(16)].to_vec()) else {
        return Err(first);
    };
    if head.len() < 10 {
        return Err(first);
    }
    for other_slot in [false, true] {
        head[..9].copy_from_slice(&REDB_MAGIC);
        head[9] |= GOD_RECOVERY;
        if other_slot {
            head[9] ^= GOD_PRIMARY;
        }
        if write_head(old, &head).is_err() {
            break;
        }
        if let Ok(Ok(db)) = open() {
            tracing::warn!(
                "{}: opened with its header mended{}",
                old.display(),
                if other_slot {
                    " (from the commit before the last)"
                } else {
                    ""
                }
            );
            return Ok(db);
        }
    }
    Err(first)
}

/// Writes `head` over the first bytes of `file`.
fn write_head(file: &Path, head: &[u8]) -> std::io::Result<()> {
    use std::io::{Seek, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(file)?;
    f.seek(std::io::SeekFrom::Start(0))?;
    f.write_all(head)?;
    f.sync_all()
}

fn read_old(old: &Path, report: &mut RepairReport) -> Result<Salvage, Unreadable> {
    let db = open_old(old).map_err(Unreadable::Store)?;
    let tx = match crate::store::guarded(old, || db.begin_read()) {
        Ok(Ok(tx)) => tx,
        Ok(Err(e)) => return Err(Unreadable::Store(e.to_string())),
        Err(e) => return Err(Unreadable::Store(e.to_string())),
    };
    let mut s = Salvage {
        meta: rows(old, &tx, META, |k| k.to_owned(), |v| v.to_vec(), report),
        ..Salvage::default()
    };
    let version: u32 = s
        .meta
        .iter()
        .find(|(k, _)| k == META_SCHEMA_VERSION)
        .and_then(|(_, v)| decode("meta", v).ok())
        .unwrap_or(SCHEMA_VERSION);
    // A damaged version field that reads as an older layout over records of this one is
    // rebuilt like any damage (the new catalogue gets this version).
    let current_records = version < SCHEMA_VERSION
        && tx
            .open_table(ENTRIES)
            .ok()
            .and_then(|t| {
                let first: Vec<Vec<u8>> = t
                    .iter()
                    .ok()?
                    .take(3)
                    .filter_map(Result::ok)
                    .map(|(_, v)| v.value().to_vec())
                    .collect();
                crate::vdfs::index::upgrade::records_are_current(&t, first.into_iter()).ok()
            })
            .unwrap_or(false);
    if version != SCHEMA_VERSION && !current_records {
        return Err(Unreadable::Version(if version > SCHEMA_VERSION {
            StoreError::SchemaTooNew {
                path: old.to_owned(),
                found: version,
                supported: SCHEMA_VERSION,
            }
        } else {
            StoreError::Conflict {
                what: format!(
                    "the catalogue has schema version {version}; a repair rebuilds version {SCHEMA_VERSION} only — open the library once so that its records are upgraded, then repair it"
                ),
            }
        }));
    }
    let bytes = |v: &[u8]| v.to_vec();
    s.locations = rows(old, &tx, LOCATIONS, |k| k, bytes, report);
    s.entries = rows(old, &tx, ENTRIES, |k| k, bytes, report);
    s.content = rows(old, &tx, CONTENT, |k| k, bytes, report);
    s.unreadable = rows(old, &tx, UNREADABLE, |k| k, bytes, report);
    s.tombstones = rows(old, &tx, TOMBSTONES, |k| k, bytes, report);
    s.volumes = rows(old, &tx, VOLUMES, |k| k, bytes, report);
    s.favourites = rows(old, &tx, FAVOURITE_ENTRIES, |k| k, bytes, report);
    s.pinned = rows(old, &tx, PINNED, |k| k.to_vec(), bytes, report);
    s.jobs = rows(old, &tx, JOBS, |k| k, bytes, report);
    s.location_jobs = rows(old, &tx, LOCATION_JOBS, |k| k, |v| v, report);
    s.op_items = rows(old, &tx, OP_ITEMS, |k| k, bytes, report);
    s.audit = rows(old, &tx, AUDIT, |k| k, bytes, report);
    s.diagnostic = rows(old, &tx, DIAGNOSTIC_BATCHES, |k| k, |v| v, report);
    s.tags = rows(old, &tx, TAGS, |k| k, bytes, report);
    s.tag_parents = rows(old, &tx, TAG_PARENTS, |k| k, bytes, report);
    s.tag_assignments = rows(old, &tx, TAG_ASSIGNMENTS, |k| k, |()| (), report);
    s.sync_log = rows(old, &tx, SYNC_LOG, |k| k.to_vec(), bytes, report);
    s.user_meta = rows(old, &tx, USER_META, |k| k, bytes, report);
    s.collections = rows(old, &tx, COLLECTIONS, |k| k, bytes, report);
    s.saved_searches = rows(old, &tx, SAVED_SEARCHES, |k| k.to_owned(), bytes, report);
    Ok(s)
}

/// Every row of `def` that can be read, in key order. A read that fails (a damaged page: an
/// error or a panic inside redb) ends the table there; what was read before is kept and the
/// failure is put in `report`.
fn rows<K, V, KO, VO>(
    old: &Path,
    tx: &ReadTransaction,
    def: TableDefinition<K, V>,
    key: impl Fn(K::SelfType<'_>) -> KO,
    value: impl Fn(V::SelfType<'_>) -> VO,
    report: &mut RepairReport,
) -> Rows<KO, VO>
where
    K: redb::Key + 'static,
    V: redb::Value + 'static,
{
    let mut out = Vec::new();
    let mut failure = None;
    let read = crate::store::guarded(old, || -> Result<(), StoreError> {
        let t = match tx.open_table(def) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        for row in t.iter()? {
            let (k, v) = row?;
            out.push((key(k.value()), value(v.value())));
        }
        Ok(())
    });
    match read {
        Ok(Ok(())) => {}
        Ok(Err(e)) => failure = Some(e.to_string()),
        Err(e) => failure = Some(e.to_string()),
    }
    if let Some(why) = failure {
        report.dropped.push((
            def.name().to_owned(),
            0,
            format!(
                "reading the table stopped after {} records ({why}); the records after that point are lost",
                out.len()
            ),
        ));
    }
    out
}

/// The rows whose envelope checks; the others are counted in `report`.
fn verified<K>(
    table: &'static str,
    rows: Rows<K, Vec<u8>>,
    report: &mut RepairReport,
) -> Rows<K, Vec<u8>> {
    let before = rows.len();
    let ok: Rows<K, Vec<u8>> = rows
        .into_iter()
        .filter(|(_, v)| open_envelope(table, v).is_ok())
        .collect();
    report.drop_n(table, (before - ok.len()) as u64, "checksum mismatch");
    report.kept.push((table.to_owned(), ok.len() as u64));
    ok
}

/// Records of `rows` that decode as `T`; the others are counted in `report`.
fn decoded<K, T: crate::store::record::Record>(
    rows: Rows<K, Vec<u8>>,
    report: &mut RepairReport,
) -> Rows<K, T> {
    let before = rows.len();
    let ok: Rows<K, T> = rows
        .into_iter()
        .filter_map(|(k, v)| decode_record::<T>(&v).ok().map(|r| (k, r)))
        .collect();
    report.drop_n(
        T::TABLE,
        (before - ok.len()) as u64,
        "damaged (checksum or layout)",
    );
    ok
}

fn write_new(
    tx: &redb::WriteTransaction,
    s: Salvage,
    report: &mut RepairReport,
) -> Result<(), StoreError> {
    // Locations, entries and contents, decoded.
    let locations: BTreeMap<u32, LocationRecord> =
        decoded(s.locations, report).into_iter().collect();
    let mut entries: BTreeMap<u64, EntryRecord> = decoded(s.entries, report).into_iter().collect();
    let contents: HashMap<u64, ContentRecord> = decoded(s.content, report).into_iter().collect();
    let seen_ids: Vec<u64> = entries.keys().copied().collect();
    let max_seq = entries.values().map(|e| e.updated_seq).max().unwrap_or(0);

    // Entries must belong to a kept location, in its id range; roots must be its root.
    let before = entries.len();
    entries.retain(|id, e| {
        locations.get(&e.location).is_some_and(|l| {
            entry_ids(e.location).contains(id) && (e.parent != 0 || l.root_entry == Some(*id))
        })
    });
    report.drop_n(
        "entries",
        (before - entries.len()) as u64,
        "not of a kept location",
    );
    // Every kept entry's chain of parents reaches its root through folders of its location.
    let mut reach: HashMap<u64, bool> = HashMap::with_capacity(entries.len());
    let ids: Vec<u64> = entries.keys().copied().collect();
    for id in ids {
        let mut chain = Vec::new();
        let mut cur = id;
        let ok = loop {
            if let Some(&known) = reach.get(&cur) {
                break known;
            }
            let Some(e) = entries.get(&cur) else {
                break false;
            };
            if chain.len() > entries.len() {
                break false; // a cycle
            }
            chain.push(cur);
            if e.parent == 0 {
                break true;
            }
            match entries.get(&e.parent) {
                Some(p) if p.kind == EntryKind::Dir && p.location == e.location => cur = e.parent,
                _ => break false,
            }
        };
        for c in chain {
            reach.insert(c, ok);
        }
    }
    let before = entries.len();
    entries.retain(|id, _| reach.get(id).copied().unwrap_or(false));
    report.drop_n(
        "entries",
        (before - entries.len()) as u64,
        "their folder was lost (found again by the rescan, with new UUIDs)",
    );
    // One name per folder, one UUID per entry: the lower id wins.
    let mut names = HashSet::new();
    let mut uuids = HashSet::new();
    let before = entries.len();
    entries
        .retain(|_, e| names.insert(name_key(e.parent, &e.name)) && uuids.insert(e.uuid.as_u128()));
    report.drop_n(
        "entries",
        (before - entries.len()) as u64,
        "a second entry of one name or one UUID",
    );
    // A duplicate removed above may have been a folder with children: drop those again.
    loop {
        let gone: Vec<u64> = entries
            .iter()
            .filter(|(_, e)| e.parent != 0 && !entries.contains_key(&e.parent))
            .map(|(id, _)| *id)
            .collect();
        if gone.is_empty() {
            break;
        }
        report.drop_n("entries", gone.len() as u64, "their folder was a duplicate");
        for id in gone {
            entries.remove(&id);
        }
    }
    // Content links to lost contents are cleared (identified again by the rescan).
    let mut unlinked = 0;
    for e in entries.values_mut() {
        if let Some(cas) = e.cas
            && !contents.contains_key(&cas.0)
        {
            e.cas = None;
            unlinked += 1;
        }
    }
    report.drop_n(
        "content links",
        unlinked,
        "their content record was lost (identified again by the rescan)",
    );
    report
        .kept
        .push(("entries".to_owned(), entries.len() as u64));

    {
        let mut t = tx.open_table(ENTRIES)?;
        let mut nk = tx.open_table(CHILD_NAMES)?;
        let mut uk = tx.open_table(ENTRY_UUIDS)?;
        let mut inst = tx.open_table(CONTENT_INSTANCES)?;
        for (id, e) in &entries {
            t.insert(id, encode_record(e).as_slice())?;
            nk.insert(name_key(e.parent, &e.name).as_slice(), id)?;
            uk.insert(e.uuid.as_u128(), id)?;
            if let Some(cas) = e.cas {
                inst.insert((cas.0, *id), ())?;
            }
        }
    }
    // Contents with their exact instance counts; those without an entry go.
    let mut counts: HashMap<u64, u64> = HashMap::new();
    for e in entries.values() {
        if let Some(cas) = e.cas {
            *counts.entry(cas.0).or_default() += 1;
        }
    }
    {
        let mut t = tx.open_table(CONTENT)?;
        let mut cu = tx.open_table(CONTENT_UUIDS)?;
        let mut kept = 0;
        for (k, mut c) in contents.clone() {
            let Some(&n) = counts.get(&k) else { continue };
            c.instances = n;
            t.insert(k, encode_record(&c).as_slice())?;
            cu.insert(c.uuid.as_u128(), k)?;
            kept += 1;
        }
        report.drop_n(
            "content",
            contents.len() as u64 - kept,
            "no entry has it any more",
        );
        report.kept.push(("content".to_owned(), kept));
    }
    // Folder aggregates and the locations' totals, from the entries.
    let list: Vec<(u64, EntryRecord)> = entries.iter().map(|(i, e)| (*i, e.clone())).collect();
    let stats = super::upgrade::aggregates(&list);
    {
        let mut ds = tx.open_table(DIR_STATS)?;
        for (id, st) in &stats {
            ds.insert(id, encode_record(st).as_slice())?;
        }
    }
    {
        let mut t = tx.open_table(LOCATIONS)?;
        for (id, mut l) in locations.clone() {
            match l.root_entry.filter(|r| entries.contains_key(r)) {
                Some(root) => {
                    let a = stats.get(&root).copied().unwrap_or_default();
                    l.stats.files = a.files;
                    l.stats.dirs = a.dirs + 1;
                    l.stats.symlinks = a.symlinks;
                    l.stats.bytes = a.bytes;
                }
                None => {
                    l.root_entry = None;
                    l.indexed_ms = None;
                    l.stats = Default::default();
                }
            }
            t.insert(id, encode_record(&l).as_slice())?;
            report.locations.push(id);
        }
        report
            .kept
            .push(("locations".to_owned(), locations.len() as u64));
    }
    // The tables copied as they are, record by verified record.
    {
        let mut t = tx.open_table(UNREADABLE)?;
        let rows: Rows<u64, Vec<u8>> = verified("unreadable", s.unreadable, report)
            .into_iter()
            .filter(|(k, _)| entries.contains_key(k))
            .collect();
        for (k, v) in rows {
            t.insert(k, v.as_slice())?;
        }
    }
    let tombstones = verified("tombstones", s.tombstones, report);
    let max_tomb_seq = tombstones
        .iter()
        .filter_map(|(_, v)| decode_record::<Tombstone>(v).ok())
        .map(|t| t.seq)
        .max()
        .unwrap_or(0);
    copy(tx, TOMBSTONES, tombstones)?;
    copy(tx, VOLUMES, verified("volumes", s.volumes, report))?;
    copy(
        tx,
        FAVOURITE_ENTRIES,
        verified("favourite_entries", s.favourites, report),
    )?;
    {
        let mut t = tx.open_table(PINNED)?;
        for (k, v) in verified("pinned", s.pinned, report) {
            t.insert(k.as_slice(), v.as_slice())?;
        }
    }
    let jobs = verified("jobs", s.jobs, report);
    let job_ids: HashSet<u64> = jobs.iter().map(|(k, _)| *k).collect();
    let max_job = job_ids.iter().copied().max().unwrap_or(0);
    copy(tx, JOBS, jobs)?;
    {
        let mut t = tx.open_table(LOCATION_JOBS)?;
        for (loc, job) in s.location_jobs {
            if locations.contains_key(&loc) && job_ids.contains(&job) {
                t.insert(loc, job)?;
            }
        }
    }
    {
        let mut t = tx.open_table(OP_ITEMS)?;
        for (k, v) in verified("op_items", s.op_items, report) {
            if job_ids.contains(&k.0) {
                t.insert(k, v.as_slice())?;
            }
        }
    }
    copy(tx, AUDIT, verified("audit", s.audit, report))?;
    {
        let mut t = tx.open_table(DIAGNOSTIC_BATCHES)?;
        for (k, v) in s.diagnostic {
            if job_ids.contains(&k.0) {
                t.insert(k, v)?;
            }
        }
    }
    // Tags are the person's own work: every whole tag, edge between kept tags and
    // assignment of a kept tag is kept (an assignment's entry or content may come back with
    // the rescan: it is keyed by UUID), and the sync log.
    let tags = verified("tags", s.tags, report);
    let tag_ids: HashSet<u128> = tags.iter().map(|(k, _)| *k).collect();
    copy(tx, TAGS, tags)?;
    {
        let mut t = tx.open_table(TAG_PARENTS)?;
        for ((c, p), v) in verified("tag_parents", s.tag_parents, report) {
            if tag_ids.contains(&c) && tag_ids.contains(&p) {
                t.insert((c, p), v.as_slice())?;
            }
        }
    }
    {
        let mut t = tx.open_table(TAG_ASSIGNMENTS)?;
        let mut kept = 0u64;
        for (k, ()) in s.tag_assignments {
            if tag_ids.contains(&k.0) && k.1 <= 1 {
                t.insert(k, ())?;
                kept += 1;
            }
        }
        report.kept.push(("tag_assignments".to_owned(), kept));
    }
    {
        let mut t = tx.open_table(SYNC_LOG)?;
        for (k, v) in verified("sync_log", s.sync_log, report) {
            t.insert(k.as_slice(), v.as_slice())?;
        }
    }
    copy(tx, USER_META, verified("user_meta", s.user_meta, report))?;
    copy(
        tx,
        COLLECTIONS,
        verified("collections", s.collections, report),
    )?;
    {
        let mut t = tx.open_table(SAVED_SEARCHES)?;
        for (k, v) in verified("saved_searches", s.saved_searches, report) {
            t.insert(k.as_str(), v.as_slice())?;
        }
    }
    // Counters: kept, raised past everything in use (an id or number is never handed out twice).
    {
        let mut meta = tx.open_table(META)?;
        let old: HashMap<String, Vec<u8>> = s.meta.into_iter().collect();
        for (k, v) in &old {
            if k != META_SCHEMA_VERSION && k != META_NAMES_GENERATION {
                meta.insert(k.as_str(), v.as_slice())?;
            }
        }
        let num = |k: &str| -> u64 {
            old.get(k)
                .and_then(|v| decode::<u64>("meta", v).ok())
                .unwrap_or(0)
        };
        let set = |meta: &mut redb::Table<&str, &[u8]>, k: &str, v: u64| {
            meta.insert(k, encode(&v).as_slice()).map(|_| ())
        };
        set(
            &mut meta,
            META_NEXT_SEQ,
            num(META_NEXT_SEQ).max(max_seq.max(max_tomb_seq) + 1),
        )?;
        set(
            &mut meta,
            META_NEXT_JOB_ID,
            num(META_NEXT_JOB_ID).max(max_job + 1),
        )?;
        let max_loc = locations.keys().copied().max().unwrap_or(0);
        let next_loc = decode::<u32>(
            "meta",
            old.get(META_NEXT_LOCATION_ID).map_or(&[][..], |v| v),
        )
        .unwrap_or(0)
        .max(max_loc + 1);
        meta.insert(META_NEXT_LOCATION_ID, encode(&next_loc).as_slice())?;
        let mut next_ids: BTreeMap<u32, u64> = BTreeMap::new();
        for id in &seen_ids {
            let loc = (id >> super::ENTRY_ID_BITS) as u32;
            let n = next_ids.entry(loc).or_default();
            *n = (*n).max(id + 1);
        }
        for (loc, n) in next_ids {
            let key = format!("{META_NEXT_ENTRY_ID_PREFIX}{loc}");
            let n = num(&key).max(n);
            set(&mut meta, &key, n)?;
        }
    }
    super::note_index_changed(tx)?;
    Ok(())
}

/// Inserts `rows` into `def` as they are.
fn copy<K>(
    tx: &redb::WriteTransaction,
    def: TableDefinition<K, &'static [u8]>,
    rows: Rows<K, Vec<u8>>,
) -> Result<(), StoreError>
where
    K: redb::Key + 'static + for<'a> std::borrow::Borrow<K::SelfType<'a>>,
{
    let mut t = tx.open_table(def)?;
    for (k, v) in rows {
        t.insert(k, v.as_slice())?;
    }
    Ok(())
}
