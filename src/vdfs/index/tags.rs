//! Tags, the tag graph, tag assignments and the sync log of shared changes, as stored
//! (tables `tags`, `tag_parents`, `tag_assignments`, `sync_log`).
//!
//! Tags are shared data (DESIGN.md, "Storage"): every change is stamped with an HLC
//! ([`crate::vdfs::clock`]) and appended to the sync log in the same transaction as the change
//! itself, so a peer can later replay what it missed in HLC order. The merge rules the sync
//! will apply are those of the design: assignments merge by union, and a removal wins over an
//! assignment with an older HLC; a tag's fields are last-writer-wins by HLC.
//!
//! Assignments are keyed by the target's UUID (an entry's, or a content identity's for "every
//! copy"), never by an entry id or a path: they follow an entry through renames, moves,
//! rescans and repairs, and a content tag finds copies made later.
//!
//! The functions here work inside the caller's transaction; `library::tags` is the API.

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::StoreError;
use crate::store::record::{Record, decode_record, encode_record};
use crate::store::schema::{COLLECTIONS, SYNC_LOG, TAG_ASSIGNMENTS, TAG_PARENTS, TAGS, USER_META};
use crate::vdfs::clock::Hlc;

/// Who may see a tag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Privacy {
    /// Shown everywhere.
    #[default]
    Normal,
    /// Left out of the default tag lists (an old project): shown when asked for.
    Archive,
    /// Shown only when asked for by name or with `--all`.
    Hidden,
}

/// A tag (table `tags`, keyed by its UUID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRecord {
    /// The display name.
    pub name: String,
    /// An optional namespace: two tags may share a name in different namespaces.
    pub namespace: Option<String>,
    /// Other names that find it (an abbreviation, a translation).
    pub aliases: Vec<String>,
    /// A colour, `#rrggbb`.
    pub colour: Option<String>,
    /// An icon name.
    pub icon: Option<String>,
    /// Who may see it.
    pub privacy: Privacy,
    /// When it was made, ms since the epoch.
    pub created_ms: i64,
    /// The HLC of its last change (last-writer-wins).
    pub hlc: Hlc,
}

impl Record for TagRecord {
    const TABLE: &'static str = "tags";
    const VERSION: u8 = 1;
}

/// An edge of the tag graph, child → parent (table `tag_parents`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagEdge {
    /// When it was made.
    pub hlc: Hlc,
}

impl Record for TagEdge {
    const TABLE: &'static str = "tag_parents";
    const VERSION: u8 = 1;
}

/// What a tag is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Target {
    /// One entry (a file or folder), by its UUID.
    Entry(Uuid),
    /// Every copy of a content, by the content identity's UUID.
    Content(Uuid),
}

impl Target {
    /// The `(kind, UUID)` part of an assignment key: kind 0 an entry, 1 a content.
    pub fn key(self) -> (u8, u128) {
        match self {
            Target::Entry(u) => (0, u.as_u128()),
            Target::Content(u) => (1, u.as_u128()),
        }
    }

    /// The target of an assignment key's `(kind, UUID)`; `None` for an unknown kind.
    pub fn from_key(kind: u8, uuid: u128) -> Option<Target> {
        match kind {
            0 => Some(Target::Entry(Uuid::from_u128(uuid))),
            1 => Some(Target::Content(Uuid::from_u128(uuid))),
            _ => None,
        }
    }
}

/// One shared change, as the sync log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncOp {
    /// A tag was made or changed (its whole record).
    TagSet {
        /// The tag.
        tag: Uuid,
        /// Its record after the change.
        record: TagRecord,
    },
    /// A tag was deleted (with its edges and assignments).
    TagDeleted {
        /// The tag.
        tag: Uuid,
    },
    /// `child` was put under `parent`.
    EdgeAdded {
        /// The child tag.
        child: Uuid,
        /// The parent tag.
        parent: Uuid,
    },
    /// `child` was taken from under `parent`.
    EdgeRemoved {
        /// The child tag.
        child: Uuid,
        /// The parent tag.
        parent: Uuid,
    },
    /// `tag` was put on `targets` (one action, however many).
    Assigned {
        /// The tag.
        tag: Uuid,
        /// What it was put on.
        targets: Vec<Target>,
    },
    /// The change logged at `of` (an assignment or its removal) was undone by the inverse
    /// change logged at `by` (none when nothing was left to change). Undo skips both.
    Reverted {
        /// The sync log key of the change undone.
        of: [u8; 28],
        /// The sync log key of the inverse change.
        by: Option<[u8; 28]>,
    },
    /// Collection `id` was made or changed (its whole record), or deleted (`None`).
    CollectionSet {
        /// The collection.
        id: Uuid,
        /// Its record after the change; `None` when deleted.
        record: Option<CollectionRecord>,
    },
    /// The user metadata of `target` was set (empty: cleared).
    MetaSet {
        /// The entry or content.
        target: Target,
        /// Its metadata after the change.
        meta: UserMeta,
    },
    /// `tag` was taken off `targets`.
    Unassigned {
        /// The tag.
        tag: Uuid,
        /// What it was taken off.
        targets: Vec<Target>,
    },
}

/// The label colours a file or a content may carry, by [`UserMeta::label`] (1 is the first):
/// the seven of Finder and Dolphin, by name.
pub const LABELS: [&str; 7] = ["red", "orange", "yellow", "green", "blue", "purple", "grey"];

/// The [`UserMeta::label`] number of a label colour named `name` (case ignored; "none" is 0).
pub fn label_number(name: &str) -> Option<u8> {
    let name = name.trim().to_lowercase();
    if name == "none" || name.is_empty() {
        return Some(0);
    }
    let name = if name == "gray" {
        "grey".to_owned()
    } else {
        name
    };
    LABELS.iter().position(|l| *l == name).map(|i| i as u8 + 1)
}

/// A person's own words and marks on a file or a content (table `user_meta`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMeta {
    /// A note, plain text (searchable).
    pub note: String,
    /// A rating, 0 (none) to 5.
    pub rating: u8,
    /// A label colour: 0 none, else 1 + its index in [`LABELS`].
    pub label: u8,
    /// Marked as a favourite.
    pub favourite: bool,
    /// The HLC of its last change (last-writer-wins).
    pub hlc: Hlc,
}

impl Record for UserMeta {
    const TABLE: &'static str = "user_meta";
    const VERSION: u8 = 2;

    fn upgrade(version: u8, payload: &[u8]) -> Result<Self, StoreError> {
        match version {
            1 => Ok(decode_v1::<UserMetaV1>(Self::TABLE, payload)?.into()),
            _ => Err(StoreError::Decode {
                table: Self::TABLE,
                detail: format!("unknown record version {version}"),
            }),
        }
    }
}

/// Decodes a version 1 payload of `table`.
fn decode_v1<T: serde::de::DeserializeOwned>(
    table: &'static str,
    payload: &[u8],
) -> Result<T, StoreError> {
    postcard::from_bytes(payload).map_err(|e| StoreError::Decode {
        table,
        detail: format!("version 1 record: {e}"),
    })
}

/// [`UserMeta`] as written before labels and favourites (version 1). Frozen: never change it.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct UserMetaV1 {
    note: String,
    rating: u8,
    hlc: Hlc,
}

impl From<UserMetaV1> for UserMeta {
    fn from(v: UserMetaV1) -> Self {
        UserMeta {
            note: v.note,
            rating: v.rating,
            label: 0,
            favourite: false,
            hlc: v.hlc,
        }
    }
}

impl UserMeta {
    /// True when it holds nothing (no note, rating, label or favourite): such a record is
    /// removed.
    pub fn is_empty(&self) -> bool {
        self.note.is_empty() && self.rating == 0 && self.label == 0 && !self.favourite
    }
}

/// A collection (table `collections`): a named, ordered set of entries and contents from
/// anywhere in the library (an offline drive's files too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionRecord {
    /// Its name.
    pub name: String,
    /// Its items, in order.
    pub items: Vec<Target>,
    /// When it was made, ms since the epoch.
    pub created_ms: i64,
    /// The HLC of its last change (last-writer-wins).
    pub hlc: Hlc,
}

impl Record for CollectionRecord {
    const TABLE: &'static str = "collections";
    const VERSION: u8 = 1;
}

/// Every collection, by UUID.
///
/// # Errors
/// [`StoreError`].
pub fn collections(
    tx: &redb::ReadTransaction,
) -> Result<Vec<(Uuid, CollectionRecord)>, StoreError> {
    let mut out = Vec::new();
    for row in tx.open_table(COLLECTIONS)?.iter()? {
        let (k, v) = row?;
        out.push((Uuid::from_u128(k.value()), decode_record(v.value())?));
    }
    Ok(out)
}

/// Writes collection `id` (or, with `None`, deletes it) and logs it.
///
/// # Errors
/// [`StoreError`].
pub fn set_collection(
    tx: &WriteTransaction,
    id: Uuid,
    record: Option<&CollectionRecord>,
    hlc: Hlc,
) -> Result<(), StoreError> {
    {
        let mut t = tx.open_table(COLLECTIONS)?;
        match record {
            Some(r) => {
                t.insert(id.as_u128(), encode_record(r).as_slice())?;
            }
            None => {
                t.remove(id.as_u128())?;
            }
        }
    }
    log(
        tx,
        hlc,
        SyncOp::CollectionSet {
            id,
            record: record.cloned(),
        },
    )
}

/// The user metadata of `target`, if any.
///
/// # Errors
/// [`StoreError`].
pub fn meta_of(tx: &redb::ReadTransaction, target: Target) -> Result<Option<UserMeta>, StoreError> {
    match tx.open_table(USER_META)?.get(target.key())? {
        Some(v) => Ok(Some(decode_record(v.value())?)),
        None => Ok(None),
    }
}

/// [`meta_of`] inside a write transaction.
///
/// # Errors
/// [`StoreError`].
pub fn meta_of_w(tx: &WriteTransaction, target: Target) -> Result<Option<UserMeta>, StoreError> {
    match tx.open_table(USER_META)?.get(target.key())? {
        Some(v) => Ok(Some(decode_record(v.value())?)),
        None => Ok(None),
    }
}

/// Writes (or, when empty, removes) the user metadata of `target` and logs it.
///
/// # Errors
/// [`StoreError`].
pub fn set_meta(tx: &WriteTransaction, target: Target, meta: &UserMeta) -> Result<(), StoreError> {
    {
        let mut t = tx.open_table(USER_META)?;
        if meta.is_empty() {
            t.remove(target.key())?;
        } else {
            t.insert(target.key(), encode_record(meta).as_slice())?;
        }
    }
    log(
        tx,
        meta.hlc,
        SyncOp::MetaSet {
            target,
            meta: meta.clone(),
        },
    )
}

/// A sync log record (table `sync_log`, keyed by [`hlc_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRecord {
    /// The change.
    pub op: SyncOp,
}

impl Record for SyncRecord {
    const TABLE: &'static str = "sync_log";
    const VERSION: u8 = 2;

    fn upgrade(version: u8, payload: &[u8]) -> Result<Self, StoreError> {
        match version {
            1 => Ok(SyncRecord {
                op: decode_v1::<SyncOpV1>(Self::TABLE, payload)?.into(),
            }),
            _ => Err(StoreError::Decode {
                table: Self::TABLE,
                detail: format!("unknown record version {version}"),
            }),
        }
    }
}

/// [`SyncOp`] as written before labels and favourites (version 1 of [`SyncRecord`], whose only
/// field it is): the same variants in the same order, with [`UserMetaV1`]. Frozen: never
/// change it. It shares its other field types with the current layout, so a change to one of
/// them needs a frozen copy of it here too.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
enum SyncOpV1 {
    TagSet {
        tag: Uuid,
        record: TagRecord,
    },
    TagDeleted {
        tag: Uuid,
    },
    EdgeAdded {
        child: Uuid,
        parent: Uuid,
    },
    EdgeRemoved {
        child: Uuid,
        parent: Uuid,
    },
    Assigned {
        tag: Uuid,
        targets: Vec<Target>,
    },
    Reverted {
        of: [u8; 28],
        by: Option<[u8; 28]>,
    },
    CollectionSet {
        id: Uuid,
        record: Option<CollectionRecord>,
    },
    MetaSet {
        target: Target,
        meta: UserMetaV1,
    },
    Unassigned {
        tag: Uuid,
        targets: Vec<Target>,
    },
}

impl From<SyncOpV1> for SyncOp {
    fn from(v: SyncOpV1) -> Self {
        match v {
            SyncOpV1::TagSet { tag, record } => SyncOp::TagSet { tag, record },
            SyncOpV1::TagDeleted { tag } => SyncOp::TagDeleted { tag },
            SyncOpV1::EdgeAdded { child, parent } => SyncOp::EdgeAdded { child, parent },
            SyncOpV1::EdgeRemoved { child, parent } => SyncOp::EdgeRemoved { child, parent },
            SyncOpV1::Assigned { tag, targets } => SyncOp::Assigned { tag, targets },
            SyncOpV1::Reverted { of, by } => SyncOp::Reverted { of, by },
            SyncOpV1::CollectionSet { id, record } => SyncOp::CollectionSet { id, record },
            SyncOpV1::MetaSet { target, meta } => SyncOp::MetaSet {
                target,
                meta: meta.into(),
            },
            SyncOpV1::Unassigned { tag, targets } => SyncOp::Unassigned { tag, targets },
        }
    }
}

/// The sync log key of `hlc`: ms (8 bytes) and counter (4 bytes) big-endian, then the device
/// UUID (16 bytes), so byte order is HLC order.
pub fn hlc_key(hlc: Hlc) -> [u8; 28] {
    let mut k = [0u8; 28];
    k[..8].copy_from_slice(&hlc.ms.to_be_bytes());
    k[8..12].copy_from_slice(&hlc.counter.to_be_bytes());
    k[12..].copy_from_slice(hlc.device.as_bytes());
    k
}

/// The HLC of a sync log key; `None` if it is not 28 bytes.
pub fn hlc_of_key(k: &[u8]) -> Option<Hlc> {
    Some(Hlc {
        ms: u64::from_be_bytes(k.get(..8)?.try_into().ok()?),
        counter: u32::from_be_bytes(k.get(8..12)?.try_into().ok()?),
        device: Uuid::from_slice(k.get(12..28)?).ok()?,
    })
}

/// Appends `op` to the sync log at `hlc` and stores `hlc` as the clock's last value.
///
/// # Errors
/// [`StoreError`].
pub fn log(tx: &WriteTransaction, hlc: Hlc, op: SyncOp) -> Result<(), StoreError> {
    tx.open_table(SYNC_LOG)?.insert(
        hlc_key(hlc).as_slice(),
        encode_record(&SyncRecord { op }).as_slice(),
    )?;
    crate::vdfs::clock::save_last(tx, hlc)
}

/// Every tag, by UUID.
///
/// # Errors
/// [`StoreError`] (a damaged record names the table).
pub fn all(tx: &redb::ReadTransaction) -> Result<Vec<(Uuid, TagRecord)>, StoreError> {
    let mut out = Vec::new();
    for row in tx.open_table(TAGS)?.iter()? {
        let (k, v) = row?;
        out.push((Uuid::from_u128(k.value()), decode_record(v.value())?));
    }
    Ok(out)
}

/// Every edge of the tag graph, `(child, parent)`.
///
/// # Errors
/// [`StoreError`].
pub fn edges(tx: &redb::ReadTransaction) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    let mut out = Vec::new();
    for row in tx.open_table(TAG_PARENTS)?.iter()? {
        let (child, parent) = row?.0.value();
        out.push((Uuid::from_u128(child), Uuid::from_u128(parent)));
    }
    Ok(out)
}

/// Writes `record` as tag `tag` and logs it.
///
/// # Errors
/// [`StoreError`].
pub fn put(tx: &WriteTransaction, tag: Uuid, record: &TagRecord) -> Result<(), StoreError> {
    tx.open_table(TAGS)?
        .insert(tag.as_u128(), encode_record(record).as_slice())?;
    log(
        tx,
        record.hlc,
        SyncOp::TagSet {
            tag,
            record: record.clone(),
        },
    )
}

/// Adds the edge `child → parent` and logs it (nothing if it is there).
///
/// # Errors
/// [`StoreError`].
pub fn add_edge(
    tx: &WriteTransaction,
    child: Uuid,
    parent: Uuid,
    hlc: Hlc,
) -> Result<(), StoreError> {
    let mut t = tx.open_table(TAG_PARENTS)?;
    let key = (child.as_u128(), parent.as_u128());
    if t.get(key)?.is_some() {
        return Ok(());
    }
    t.insert(key, encode_record(&TagEdge { hlc }).as_slice())?;
    drop(t);
    log(tx, hlc, SyncOp::EdgeAdded { child, parent })
}

/// Removes the edge `child → parent` and logs it; false if it was not there.
///
/// # Errors
/// [`StoreError`].
pub fn remove_edge(
    tx: &WriteTransaction,
    child: Uuid,
    parent: Uuid,
    hlc: Hlc,
) -> Result<bool, StoreError> {
    let gone = tx
        .open_table(TAG_PARENTS)?
        .remove((child.as_u128(), parent.as_u128()))?
        .is_some();
    if gone {
        log(tx, hlc, SyncOp::EdgeRemoved { child, parent })?;
    }
    Ok(gone)
}

/// Puts `tag` on `targets` (those it is not on yet) and logs them as one change; returns how
/// many were new.
///
/// # Errors
/// [`StoreError`].
pub fn assign(
    tx: &WriteTransaction,
    tag: Uuid,
    targets: &[Target],
    hlc: Hlc,
) -> Result<u64, StoreError> {
    let mut t = tx.open_table(TAG_ASSIGNMENTS)?;
    let mut new = Vec::new();
    let mut sorted = targets.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for target in sorted {
        let (kind, uuid) = target.key();
        if t.insert((tag.as_u128(), kind, uuid), ())?.is_none() {
            new.push(target);
        }
    }
    drop(t);
    let n = new.len() as u64;
    if n > 0 {
        log(tx, hlc, SyncOp::Assigned { tag, targets: new })?;
    }
    Ok(n)
}

/// Takes `tag` off `targets` and logs those it was on as one change; returns how many.
///
/// # Errors
/// [`StoreError`].
pub fn unassign(
    tx: &WriteTransaction,
    tag: Uuid,
    targets: &[Target],
    hlc: Hlc,
) -> Result<u64, StoreError> {
    let mut t = tx.open_table(TAG_ASSIGNMENTS)?;
    let mut gone = Vec::new();
    for &target in targets {
        let (kind, uuid) = target.key();
        if t.remove((tag.as_u128(), kind, uuid))?.is_some() {
            gone.push(target);
        }
    }
    drop(t);
    let n = gone.len() as u64;
    if n > 0 {
        log(tx, hlc, SyncOp::Unassigned { tag, targets: gone })?;
    }
    Ok(n)
}

/// Every target `tag` is on, in key order.
///
/// # Errors
/// [`StoreError`].
pub fn targets_of(
    t: &impl ReadableTable<(u128, u8, u128), ()>,
    tag: Uuid,
) -> Result<Vec<Target>, StoreError> {
    let u = tag.as_u128();
    let mut out = Vec::new();
    for row in t.range((u, 0u8, 0u128)..=(u, u8::MAX, u128::MAX))? {
        let (_, kind, target) = row?.0.value();
        out.extend(Target::from_key(kind, target));
    }
    Ok(out)
}

/// Deletes tag `tag`: its record, its edges both ways and its assignments, logged as one
/// change.
///
/// # Errors
/// [`StoreError`].
pub fn delete(tx: &WriteTransaction, tag: Uuid, hlc: Hlc) -> Result<(), StoreError> {
    tx.open_table(TAGS)?.remove(tag.as_u128())?;
    {
        let mut e = tx.open_table(TAG_PARENTS)?;
        let u = tag.as_u128();
        e.retain(|(child, parent), _| child != u && parent != u)?;
    }
    {
        let mut a = tx.open_table(TAG_ASSIGNMENTS)?;
        let u = tag.as_u128();
        let keys: Vec<(u8, u128)> = {
            let mut v = Vec::new();
            for row in a.range((u, 0u8, 0u128)..=(u, u8::MAX, u128::MAX))? {
                let (_, kind, target) = row?.0.value();
                v.push((kind, target));
            }
            v
        };
        for (kind, target) in keys {
            a.remove((u, kind, target))?;
        }
    }
    log(tx, hlc, SyncOp::TagDeleted { tag })
}

/// Undoes the newest assignment change (`Assigned` or `Unassigned`) made by `device` that is
/// not undone yet: the inverse change is made and logged at `inverse`, then a `Reverted`
/// record at `marker`. Returns the tag and how many targets changed, or `None` when there is
/// nothing to undo.
///
/// # Errors
/// [`StoreError`].
pub fn undo_newest(
    tx: &WriteTransaction,
    device: Uuid,
    inverse: Hlc,
    marker: Hlc,
) -> Result<Option<(Uuid, u64, bool)>, StoreError> {
    let mut reverted: std::collections::HashSet<[u8; 28]> = std::collections::HashSet::new();
    let mut found = None;
    {
        let log_t = tx.open_table(SYNC_LOG)?;
        for row in log_t.iter()?.rev() {
            let (k, v) = row?;
            let key: [u8; 28] = match k.value().try_into() {
                Ok(k) => k,
                Err(_) => continue,
            };
            let Some(hlc) = hlc_of_key(&key) else {
                continue;
            };
            if hlc.device != device {
                continue;
            }
            let rec: SyncRecord = decode_record(v.value())?;
            match rec.op {
                SyncOp::Reverted { of, by } => {
                    reverted.insert(of);
                    reverted.extend(by);
                }
                SyncOp::Assigned { tag, targets } if !reverted.contains(&key) => {
                    found = Some((key, tag, targets, true));
                    break;
                }
                SyncOp::Unassigned { tag, targets } if !reverted.contains(&key) => {
                    found = Some((key, tag, targets, false));
                    break;
                }
                _ => {}
            }
        }
    }
    let Some((key, tag, targets, was_assign)) = found else {
        return Ok(None);
    };
    // The tag may be gone since: nothing to put back or take off then.
    if tx.open_table(TAGS)?.get(tag.as_u128())?.is_none() {
        log(tx, marker, SyncOp::Reverted { of: key, by: None })?;
        return Ok(Some((tag, 0, was_assign)));
    }
    let n = if was_assign {
        unassign(tx, tag, &targets, inverse)?
    } else {
        assign(tx, tag, &targets, inverse)?
    };
    let by = (n > 0).then(|| hlc_key(inverse));
    log(tx, marker, SyncOp::Reverted { of: key, by })?;
    Ok(Some((tag, n, was_assign)))
}

/// Rebuilds the shared state (tags, the graph, assignments, user metadata, collections) from
/// the sync log
/// alone, replaying every change in HLC order: the state is a function of the log. A peer's
/// changes merged into the log ([`merge_remote`]) therefore give every device the same state,
/// whatever order the changes arrived in. The rules a replay applies, by key:
/// - a tag's record: the change with the highest HLC wins (a `TagSet` after a `TagDeleted`
///   makes it again);
/// - an edge: the newest add or removal wins; an edge that would close a cycle (two devices
///   each put one tag under the other) is left out — the later one, by HLC;
/// - an assignment: the newest of its assignments and removals wins (a removal wins over an
///   older assignment, an assignment over an older removal);
/// - user metadata and collections: the newest change wins.
///
/// # Errors
/// [`StoreError`] (a damaged log record names the table).
pub fn replay(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(TAGS)?.retain(|_, _| false)?;
    tx.open_table(TAG_PARENTS)?.retain(|_, _| false)?;
    tx.open_table(TAG_ASSIGNMENTS)?.retain(|_, _| false)?;
    tx.open_table(USER_META)?.retain(|_, _| false)?;
    tx.open_table(COLLECTIONS)?.retain(|_, _| false)?;
    let records: Vec<(Hlc, SyncOp)> = {
        let t = tx.open_table(SYNC_LOG)?;
        let mut v = Vec::new();
        for row in t.iter()? {
            let (k, val) = row?;
            let Some(hlc) = hlc_of_key(k.value()) else {
                continue;
            };
            let rec: SyncRecord = decode_record(val.value())?;
            v.push((hlc, rec.op));
        }
        v
    };
    let mut tags_t = tx.open_table(TAGS)?;
    let mut edges_t = tx.open_table(TAG_PARENTS)?;
    let mut assigned = tx.open_table(TAG_ASSIGNMENTS)?;
    let mut meta_t = tx.open_table(USER_META)?;
    let mut coll_t = tx.open_table(COLLECTIONS)?;
    // child → parents, for the cycle rule.
    let mut parents: std::collections::HashMap<u128, Vec<u128>> = std::collections::HashMap::new();
    let reaches = |parents: &std::collections::HashMap<u128, Vec<u128>>, from: u128, to: u128| {
        let mut stack = vec![from];
        let mut seen = std::collections::HashSet::new();
        while let Some(t) = stack.pop() {
            if t == to {
                return true;
            }
            if seen.insert(t) {
                stack.extend(parents.get(&t).into_iter().flatten().copied());
            }
        }
        false
    };
    for (hlc, op) in records {
        match op {
            SyncOp::TagSet { tag, record } => {
                tags_t.insert(tag.as_u128(), encode_record(&record).as_slice())?;
            }
            SyncOp::TagDeleted { tag } => {
                let u = tag.as_u128();
                tags_t.remove(u)?;
                edges_t.retain(|(c, p), _| c != u && p != u)?;
                for ps in parents.values_mut() {
                    ps.retain(|p| *p != u);
                }
                parents.remove(&u);
                let keys: Vec<(u8, u128)> = {
                    let mut v = Vec::new();
                    for row in assigned.range((u, 0u8, 0u128)..=(u, u8::MAX, u128::MAX))? {
                        let (_, kind, target) = row?.0.value();
                        v.push((kind, target));
                    }
                    v
                };
                for (kind, target) in keys {
                    assigned.remove((u, kind, target))?;
                }
            }
            SyncOp::EdgeAdded { child, parent } => {
                let (c, p) = (child.as_u128(), parent.as_u128());
                // Both tags must exist, and the edge must not close a cycle.
                if tags_t.get(c)?.is_some() && tags_t.get(p)?.is_some() && !reaches(&parents, p, c)
                {
                    edges_t.insert((c, p), encode_record(&TagEdge { hlc }).as_slice())?;
                    let ps = parents.entry(c).or_default();
                    if !ps.contains(&p) {
                        ps.push(p);
                    }
                }
            }
            SyncOp::EdgeRemoved { child, parent } => {
                let (c, p) = (child.as_u128(), parent.as_u128());
                edges_t.remove((c, p))?;
                if let Some(ps) = parents.get_mut(&c) {
                    ps.retain(|x| *x != p);
                }
            }
            SyncOp::Assigned { tag, targets } => {
                if tags_t.get(tag.as_u128())?.is_some() {
                    for t in targets {
                        let (kind, u) = t.key();
                        assigned.insert((tag.as_u128(), kind, u), ())?;
                    }
                }
            }
            SyncOp::Unassigned { tag, targets } => {
                for t in targets {
                    let (kind, u) = t.key();
                    assigned.remove((tag.as_u128(), kind, u))?;
                }
            }
            SyncOp::MetaSet { target, meta } => {
                if meta.is_empty() {
                    meta_t.remove(target.key())?;
                } else {
                    meta_t.insert(target.key(), encode_record(&meta).as_slice())?;
                }
            }
            SyncOp::CollectionSet { id, record } => match record {
                Some(r) => {
                    coll_t.insert(id.as_u128(), encode_record(&r).as_slice())?;
                }
                None => {
                    coll_t.remove(id.as_u128())?;
                }
            },
            // Its inverse change is in the log already.
            SyncOp::Reverted { .. } => {}
        }
    }
    Ok(())
}

/// Sync log records as they travel: `(key, record bytes)`.
pub type LogRecords = Vec<(Vec<u8>, Vec<u8>)>;

/// Adds a peer's sync log records (`(key, record bytes)` as its log holds them) to this log —
/// each checked: a key that is not an HLC or a record whose envelope or layout is damaged is
/// refused — and rebuilds the shared state ([`replay`]). Records already here are skipped.
/// Returns how many were new; the highest HLC received is for the caller's clock to observe.
///
/// # Errors
/// [`StoreError::Decode`] for a malformed record (nothing is added then); [`StoreError`].
pub fn merge_remote(
    tx: &WriteTransaction,
    records: &[(Vec<u8>, Vec<u8>)],
) -> Result<(u64, Option<Hlc>), StoreError> {
    for (k, v) in records {
        if hlc_of_key(k).is_none() || k.len() != 28 {
            return Err(StoreError::Decode {
                table: "sync_log",
                detail: format!("a sync log key of {} bytes is not an HLC", k.len()),
            });
        }
        decode_record::<SyncRecord>(v)?;
    }
    let mut new = 0;
    let mut newest = None;
    {
        let mut t = tx.open_table(SYNC_LOG)?;
        for (k, v) in records {
            if t.get(k.as_slice())?.is_none() {
                t.insert(k.as_slice(), v.as_slice())?;
                new += 1;
            }
            let h = hlc_of_key(k);
            if h > newest {
                newest = h;
            }
        }
    }
    if new > 0 {
        replay(tx)?;
    }
    Ok((new, newest))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::Store;
    use crate::vdfs::clock::Clock;

    /// A note, a rating and the sync log written by the Cairn before labels and favourites
    /// (records of version 1) still read, as marks without a label or favourite.
    #[test]
    fn marks_written_before_labels_still_read() {
        #[derive(Serialize)]
        struct OldMeta(UserMetaV1);
        impl Record for OldMeta {
            const TABLE: &'static str = "user_meta";
            const VERSION: u8 = 1;
        }
        impl<'de> Deserialize<'de> for OldMeta {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                unreachable!("only written")
            }
        }
        #[derive(Serialize)]
        struct OldLog {
            op: SyncOpV1,
        }
        impl Record for OldLog {
            const TABLE: &'static str = "sync_log";
            const VERSION: u8 = 1;
        }
        impl<'de> Deserialize<'de> for OldLog {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                unreachable!("only written")
            }
        }
        let hlc = Hlc {
            ms: 7,
            counter: 1,
            device: Uuid::from_u128(9),
        };
        let old = UserMetaV1 {
            note: "call back".into(),
            rating: 3,
            hlc,
        };
        let want = UserMeta {
            note: "call back".into(),
            rating: 3,
            label: 0,
            favourite: false,
            hlc,
        };
        let read: UserMeta = decode_record(&encode_record(&OldMeta(old.clone()))).unwrap();
        assert_eq!(read, want);
        let target = Target::Content(Uuid::from_u128(5));
        let log: SyncRecord = decode_record(&encode_record(&OldLog {
            op: SyncOpV1::MetaSet { target, meta: old },
        }))
        .unwrap();
        assert_eq!(
            log.op,
            SyncOp::MetaSet {
                target,
                meta: want.clone()
            }
        );
        let log: SyncRecord = decode_record(&encode_record(&OldLog {
            op: SyncOpV1::Unassigned {
                tag: Uuid::from_u128(1),
                targets: vec![target],
            },
        }))
        .unwrap();
        assert_eq!(
            log.op,
            SyncOp::Unassigned {
                tag: Uuid::from_u128(1),
                targets: vec![target]
            }
        );
        // And the new layout round-trips with its label and favourite.
        let new = UserMeta {
            label: 4,
            favourite: true,
            ..want
        };
        assert_eq!(
            decode_record::<UserMeta>(&encode_record(&new)).unwrap(),
            new
        );
    }

    fn record(name: &str, hlc: Hlc) -> TagRecord {
        TagRecord {
            name: name.to_owned(),
            namespace: None,
            aliases: Vec::new(),
            colour: None,
            icon: None,
            privacy: Privacy::Normal,
            created_ms: 0,
            hlc,
        }
    }

    /// Every change is logged once, in the same transaction, in HLC order; a bulk assignment
    /// is one log record however many targets it has; the clock's last value is stored.
    #[test]
    fn every_change_is_logged_once_in_hlc_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("library.redb")).unwrap();
        let device = Uuid::new_v4();
        let clock = std::sync::Arc::new(Clock::new(device, None));
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let targets: Vec<Target> = (0..1000).map(|_| Target::Entry(Uuid::new_v4())).collect();
        let c = clock.clone();
        let t2 = targets.clone();
        store
            .write(move |tx| {
                put(tx, a, &record("a", c.tick()))?;
                put(tx, b, &record("b", c.tick()))?;
                add_edge(tx, b, a, c.tick())?;
                assert_eq!(assign(tx, b, &t2, c.tick())?, 1000);
                // Already there: nothing new, nothing logged.
                assert_eq!(assign(tx, b, &t2[..10], c.tick())?, 0);
                assert_eq!(unassign(tx, b, &t2[..10], c.tick())?, 10);
                assert!(remove_edge(tx, b, a, c.tick())?);
                delete(tx, a, c.tick())?;
                Ok(())
            })
            .unwrap();
        let (log, left, last) = store
            .read(|tx| {
                let mut log = Vec::new();
                for row in tx.open_table(SYNC_LOG)?.iter()? {
                    let (k, v) = row?;
                    let rec: SyncRecord = decode_record(v.value())?;
                    log.push((hlc_of_key(k.value()).unwrap(), rec.op));
                }
                let left = targets_of(&tx.open_table(TAG_ASSIGNMENTS)?, b)?.len();
                Ok((log, left, crate::vdfs::clock::load_last(tx)?))
            })
            .unwrap();
        let kinds: Vec<&str> = log
            .iter()
            .map(|(_, op)| match op {
                SyncOp::TagSet { .. } => "set",
                SyncOp::TagDeleted { .. } => "deleted",
                SyncOp::EdgeAdded { .. } => "edge+",
                SyncOp::EdgeRemoved { .. } => "edge-",
                SyncOp::Assigned { .. } => "assigned",
                SyncOp::Unassigned { .. } => "unassigned",
                SyncOp::MetaSet { .. } => "meta",
                SyncOp::Reverted { .. } => "reverted",
                SyncOp::CollectionSet { .. } => "collection",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "set",
                "set",
                "edge+",
                "assigned",
                "unassigned",
                "edge-",
                "deleted"
            ]
        );
        assert!(log.windows(2).all(|w| w[0].0 < w[1].0), "HLC order");
        assert!(matches!(&log[3].1, SyncOp::Assigned { targets, .. } if targets.len() == 1000));
        assert_eq!(left, 990);
        assert_eq!(last, Some(log.last().unwrap().0));
    }

    type Dump = (
        std::collections::BTreeMap<u128, TagRecord>,
        std::collections::BTreeSet<(u128, u128)>,
        std::collections::BTreeSet<(u128, u8, u128)>,
        std::collections::BTreeMap<(u8, u128), UserMeta>,
    );

    /// The shared state of a store.
    fn dump(store: &Store) -> Dump {
        store
            .read(|tx| {
                let mut tags = std::collections::BTreeMap::new();
                for row in tx.open_table(TAGS)?.iter()? {
                    let (k, v) = row?;
                    tags.insert(k.value(), decode_record(v.value())?);
                }
                let mut edges = std::collections::BTreeSet::new();
                for row in tx.open_table(TAG_PARENTS)?.iter()? {
                    edges.insert(row?.0.value());
                }
                let mut assigned = std::collections::BTreeSet::new();
                for row in tx.open_table(TAG_ASSIGNMENTS)?.iter()? {
                    assigned.insert(row?.0.value());
                }
                let mut meta = std::collections::BTreeMap::new();
                for row in tx.open_table(USER_META)?.iter()? {
                    let (k, v) = row?;
                    meta.insert(k.value(), decode_record(v.value())?);
                }
                Ok((tags, edges, assigned, meta))
            })
            .unwrap()
    }

    /// Every record of a store's sync log.
    fn log_of(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
        store
            .read(|tx| {
                let mut v = Vec::new();
                for row in tx.open_table(SYNC_LOG)?.iter()? {
                    let (k, val) = row?;
                    v.push((k.value().to_vec(), val.value().to_vec()));
                }
                Ok(v)
            })
            .unwrap()
    }

    /// Merges `from`'s log into `into` and lets `clock` observe what it received.
    fn exchange(from: &Store, into: &Store, clock: &Clock) {
        let records = log_of(from);
        let (_, newest) = into.write(move |tx| merge_remote(tx, &records)).unwrap();
        if let Some(h) = newest {
            clock.observe(h).unwrap();
        }
    }

    /// One random local change on `store`, as the library would make it (a cycle is refused
    /// before it is made, a tag must exist to be used).
    fn random_change(
        store: &Store,
        clock: &Arc<Clock>,
        next: &mut impl FnMut() -> u64,
        pool: &[Uuid],
    ) {
        let (tags, edges, _, _) = dump(store);
        let ids: Vec<u128> = tags.keys().copied().collect();
        let pick = |n: u64, v: &[u128]| v[(n as usize) % v.len()];
        let c = clock.clone();
        let choice = if ids.is_empty() { 0 } else { next() % 9 };
        let targets: Vec<Target> = (0..1 + next() % 4)
            .map(|_| {
                let u = pool[(next() as usize) % pool.len()];
                if next().is_multiple_of(3) {
                    Target::Content(u)
                } else {
                    Target::Entry(u)
                }
            })
            .collect();
        let (n1, n2) = (next(), next());
        store
            .write(move |tx| {
                match choice {
                    0 | 1 => {
                        let id = Uuid::new_v4();
                        put(tx, id, &record(&format!("t{}", n1 % 100), c.tick()))?;
                    }
                    2 => {
                        let t = pick(n1, &ids);
                        put(
                            tx,
                            Uuid::from_u128(t),
                            &record(&format!("r{}", n2 % 100), c.tick()),
                        )?;
                    }
                    3 => delete(tx, Uuid::from_u128(pick(n1, &ids)), c.tick())?,
                    4 => {
                        let (ch, pa) = (pick(n1, &ids), pick(n2, &ids));
                        // Refused as the library refuses it: a cycle.
                        let mut stack = vec![pa];
                        let mut cycle = false;
                        while let Some(t) = stack.pop() {
                            if t == ch {
                                cycle = true;
                                break;
                            }
                            stack.extend(edges.iter().filter(|(x, _)| *x == t).map(|(_, p)| *p));
                        }
                        if !cycle {
                            add_edge(tx, Uuid::from_u128(ch), Uuid::from_u128(pa), c.tick())?;
                        }
                    }
                    5 => {
                        if let Some((ch, pa)) = edges.iter().nth((n1 as usize) % edges.len().max(1))
                        {
                            remove_edge(tx, Uuid::from_u128(*ch), Uuid::from_u128(*pa), c.tick())?;
                        }
                    }
                    6 | 7 => {
                        assign(tx, Uuid::from_u128(pick(n1, &ids)), &targets, c.tick())?;
                    }
                    _ => {
                        unassign(tx, Uuid::from_u128(pick(n1, &ids)), &targets, c.tick())?;
                        let meta = UserMeta {
                            note: if n2 % 2 == 0 {
                                format!("note {n2}")
                            } else {
                                String::new()
                            },
                            rating: (n2 % 6) as u8,
                            label: (n1 % 8) as u8,
                            favourite: n1 % 3 == 0,
                            hlc: c.tick(),
                        };
                        set_meta(tx, targets[0], &meta)?;
                    }
                }
                Ok(())
            })
            .unwrap();
    }

    /// Issue "Tags…", "ready for sync": two devices make random changes to the same tags,
    /// exchanging their logs at random moments (and in either order); once each has the
    /// other's whole log, both hold the same tags, graph, assignments and metadata. And each
    /// store's state is always what a replay of its own log gives.
    #[test]
    fn two_devices_converge_whatever_the_interleaving() {
        let pool: Vec<Uuid> = (0..8).map(|_| Uuid::new_v4()).collect();
        for seed in 1..=60u64 {
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut next = move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let dir = tempfile::tempdir().unwrap();
            let a = Store::open(&dir.path().join("a.redb")).unwrap();
            let b = Store::open(&dir.path().join("b.redb")).unwrap();
            let ca = Arc::new(Clock::new(Uuid::new_v4(), None));
            let cb = Arc::new(Clock::new(Uuid::new_v4(), None));
            for _ in 0..40 {
                match next() % 10 {
                    0..=3 => random_change(&a, &ca, &mut next, &pool),
                    4..=7 => random_change(&b, &cb, &mut next, &pool),
                    8 => exchange(&a, &b, &cb),
                    _ => exchange(&b, &a, &ca),
                }
            }
            // Each state is its own log replayed.
            for s in [&a, &b] {
                let before = dump(s);
                s.write(replay).unwrap();
                assert_eq!(dump(s), before, "seed {seed}: a replay changed the state");
            }
            if next() % 2 == 0 {
                exchange(&a, &b, &cb);
                exchange(&b, &a, &ca);
            } else {
                exchange(&b, &a, &ca);
                exchange(&a, &b, &cb);
            }
            assert_eq!(log_of(&a), log_of(&b), "seed {seed}: the logs differ");
            assert_eq!(
                dump(&a),
                dump(&b),
                "seed {seed}: the devices did not converge"
            );
        }
    }

    /// A peer's malformed record is refused whole: nothing of the batch is added.
    #[test]
    fn a_malformed_remote_record_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("library.redb")).unwrap();
        let clock = Clock::new(Uuid::new_v4(), None);
        let good = (
            hlc_key(clock.tick()).to_vec(),
            encode_record(&SyncRecord {
                op: SyncOp::TagDeleted {
                    tag: Uuid::new_v4(),
                },
            }),
        );
        let mut flipped = good.1.clone();
        flipped[2] ^= 0x40;
        for bad in [
            vec![good.clone(), (hlc_key(clock.tick()).to_vec(), flipped)],
            vec![good.clone(), (vec![1, 2, 3], good.1.clone())],
        ] {
            let err = store.write(move |tx| merge_remote(tx, &bad)).unwrap_err();
            assert!(err.to_string().contains("sync_log"), "{err}");
        }
        assert!(log_of(&store).is_empty());
    }
}
