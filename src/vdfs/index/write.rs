//! The one write path of the index: every insert, update, rename or move, delete and content
//! link of an entry goes through an [`IndexWriter`], inside the caller's write transaction.
//!
//! In the same transaction as each change, the writer keeps:
//! - the unique name key `child_names` ((parent, name) → child): a second entry of one name in
//!   one folder is refused with [`StoreError::Conflict`];
//! - the UUID indexes `entry_uuids` and `content_uuids`;
//! - the change sequence: every entry written in one transaction is stamped with that
//!   transaction's sequence number (`updated_seq`), taken from `META_NEXT_SEQ`, so "changed
//!   since S" is "`updated_seq` > S";
//! - a [`Tombstone`] for every deleted entry (pruned by [`prune_tombstones`]);
//! - the content identities' instance lists and counts;
//! - the names generation that tells the search name index it is stale.
//!
//! Folder aggregates ([`DirStats`]) are written by the indexer after a scan (they are a
//! function of the whole subtree, computed bottom-up in memory) through
//! [`IndexWriter::set_dir_stats`].
//!
//! The indexer writes only through this module; the watcher, file operations and sync will too.

use redb::{ReadableTable, Table, WriteTransaction};
use uuid::Uuid;

use crate::store::record::{decode_record, encode_record};
use crate::store::schema::{
    CHILD_NAMES, CONTENT, CONTENT_INSTANCES, CONTENT_UUIDS, DIR_STATS, ENTRIES, ENTRY_UUIDS, META,
    META_NEXT_SEQ, META_TOMBSTONES_PRUNED, TOMBSTONES, UNREADABLE,
};
use crate::store::{StoreError, decode, encode};
use crate::vdfs::content::CasId;
use crate::vdfs::content::filetype::ContentKind;
use crate::vdfs::fs::entry::EntryKind;

use super::{
    ContentRecord, DirStats, EntryRecord, Tombstone, TombstoneKind, UnreadableRecord, name_key,
    note_index_changed,
};

/// Tombstones older than this are pruned (90 days, in ms): a peer away for longer catches up
/// by a full comparison instead of the deletions it missed.
pub const TOMBSTONE_MAX_AGE_MS: i64 = 90 * 24 * 60 * 60 * 1000;

/// A file's content identity, ready to link to its entry.
#[derive(Debug, Clone)]
pub struct ContentLink {
    /// The entry.
    pub id: u64,
    /// Its content's cas_id.
    pub cas: CasId,
    /// Size of the content in bytes.
    pub size: u64,
    /// Kind of content found in the bytes.
    pub kind: ContentKind,
    /// File-type id from the registry (e.g. `image/jpeg`).
    pub file_type: Option<String>,
    /// MIME type.
    pub mime: Option<String>,
}

/// The index's tables, each opened once in one write transaction (not per entry), with the
/// transaction's change sequence number. While it lives, the transaction's other code must not
/// open these tables itself. Create one per transaction ([`IndexWriter::begin`]) and drop it before the
/// transaction commits.
pub struct IndexWriter<'tx> {
    entries: Table<'tx, u64, &'static [u8]>,
    names: Table<'tx, &'static [u8], u64>,
    uuids: Table<'tx, u128, u64>,
    dir_stats: Table<'tx, u64, &'static [u8]>,
    unreadable: Table<'tx, u64, &'static [u8]>,
    tomb_table: Table<'tx, u128, &'static [u8]>,
    content: Table<'tx, u64, &'static [u8]>,
    instances: Table<'tx, (u64, u64), ()>,
    content_uuids: Table<'tx, u128, u64>,
    seq: u64,
    now_ms: i64,
    tombstones: bool,
    /// Contents left without an instance while deferred ([`IndexWriter::defer_orphans`]).
    orphans: Option<Vec<CasId>>,
    /// The folder whose UUID the last tombstone named, by id.
    last_parent: Option<(u64, Uuid)>,
    /// The folders deleted by this writer, by id (their children's tombstones name them).
    gone_dirs: std::collections::HashMap<u64, Uuid>,
}

impl<'tx> IndexWriter<'tx> {
    /// Opens the tables, takes the transaction's change sequence number and bumps the names
    /// generation.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn begin(tx: &'tx WriteTransaction) -> Result<IndexWriter<'tx>, StoreError> {
        note_index_changed(tx)?;
        let seq = {
            let mut meta = tx.open_table(META)?;
            let seq: u64 = match meta.get(META_NEXT_SEQ)? {
                Some(v) => decode("meta", v.value())?,
                None => 1,
            };
            meta.insert(META_NEXT_SEQ, encode(&(seq + 1)).as_slice())?;
            seq
        };
        Ok(IndexWriter {
            entries: tx.open_table(ENTRIES)?,
            names: tx.open_table(CHILD_NAMES)?,
            uuids: tx.open_table(ENTRY_UUIDS)?,
            dir_stats: tx.open_table(DIR_STATS)?,
            unreadable: tx.open_table(UNREADABLE)?,
            tomb_table: tx.open_table(TOMBSTONES)?,
            content: tx.open_table(CONTENT)?,
            instances: tx.open_table(CONTENT_INSTANCES)?,
            content_uuids: tx.open_table(CONTENT_UUIDS)?,
            seq,
            now_ms: crate::vdfs::jobs::now_ms(),
            tombstones: true,
            orphans: None,
            last_parent: None,
            gone_dirs: std::collections::HashMap::new(),
        })
    }

    /// Whether [`IndexWriter::delete`] leaves a tombstone per entry (on by default; off when a
    /// whole location goes, whose own tombstone says it).
    pub fn set_tombstones(&mut self, on: bool) {
        self.tombstones = on;
    }

    /// From now on a content whose last instance is unlinked keeps its record (type, MIME
    /// type, integrity hash, first seen) at zero instances, so that an entry removed and
    /// inserted again in the same transaction (a move into another location) finds it as it
    /// was; [`IndexWriter::drop_orphans`] then removes those still without an instance.
    pub fn defer_orphans(&mut self) {
        self.orphans.get_or_insert_with(Vec::new);
    }

    /// Ends [`IndexWriter::defer_orphans`]: the contents it kept that still have no instance
    /// are removed.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn drop_orphans(&mut self) -> Result<(), StoreError> {
        for cas in self.orphans.take().unwrap_or_default() {
            let rec: Option<ContentRecord> = self
                .content
                .get(cas.0)?
                .map(|v| decode_record(v.value()))
                .transpose()?;
            if let Some(rec) = rec
                && rec.instances == 0
            {
                self.content.remove(cas.0)?;
                self.content_uuids.remove(rec.uuid.as_u128())?;
            }
        }
        Ok(())
    }

    /// This transaction's change sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The stored record of entry `id`.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn get(&self, id: u64) -> Result<Option<EntryRecord>, StoreError> {
        self.entries
            .get(id)?
            .map(|v| decode_record(v.value()))
            .transpose()
    }

    /// The child of `parent` named `name` (for `parent` 0: the location root of that path).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn child(&self, parent: u64, name: &[u8]) -> Result<Option<u64>, StoreError> {
        Ok(self
            .names
            .get(name_key(parent, name).as_slice())?
            .map(|v| v.value()))
    }

    /// Inserts a new entry `id` (its parent must exist, or be 0 for a location root).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if `id` exists, its parent already holds an entry of that name,
    /// or its UUID is taken (the caller's transaction must then be dropped: the failed insert
    /// may have half-written); [`StoreError`] otherwise.
    pub fn insert(&mut self, id: u64, rec: EntryRecord) -> Result<(), StoreError> {
        self.insert_batch(&mut [(id, rec)])
    }

    /// Inserts new entries (parents before children, ids increasing), with
    /// [`IndexWriter::insert`]'s checks: the records, then their name keys, then their UUID
    /// keys, one table at a time (a first index inserts a million entries this way). Each
    /// existing key is found by the insert itself, not by a lookup before it. Each record's
    /// `updated_seq` is set to this transaction's.
    ///
    /// # Errors
    /// As [`IndexWriter::insert`].
    pub fn insert_batch(&mut self, recs: &mut [(u64, EntryRecord)]) -> Result<(), StoreError> {
        for (id, rec) in recs.iter_mut() {
            rec.updated_seq = self.seq;
            if self
                .entries
                .insert(*id, encode_record(rec).as_slice())?
                .is_some()
            {
                return Err(StoreError::Conflict {
                    what: format!("entry {id} already exists"),
                });
            }
        }
        // The name keys in key order: walk order has parents in id order, but a folder's
        // names come in the order the file system lists them (a hash order on ext4), which is
        // a random leaf page per insert in a large folder.
        fn key_of(r: &EntryRecord) -> (u64, &[u8]) {
            (r.parent, &r.name)
        }
        let mut by_name: Vec<usize> = (0..recs.len()).collect();
        if !recs.windows(2).all(|w| key_of(&w[0].1) <= key_of(&w[1].1)) {
            by_name.sort_unstable_by(|&a, &b| key_of(&recs[a].1).cmp(&key_of(&recs[b].1)));
        }
        let mut key = Vec::with_capacity(64);
        for i in by_name {
            let (id, rec) = &recs[i];
            key.clear();
            key.extend_from_slice(&rec.parent.to_be_bytes());
            key.extend_from_slice(&rec.name);
            if let Some(other) = self.names.insert(key.as_slice(), id)? {
                let other = other.value();
                return Err(conflict_name(other, rec));
            }
        }
        // Version-7 UUIDs grow with time: walk order is key order.
        for (id, rec) in recs.iter() {
            if let Some(other) = self.uuids.insert(rec.uuid.as_u128(), id)? {
                let other = other.value();
                return Err(StoreError::Conflict {
                    what: format!("UUID {} is already entry {other}", rec.uuid),
                });
            }
        }
        Ok(())
    }

    /// Changes entry `id` in place with `f` (which may rename it, move it to another parent,
    /// change its metadata or clear its content link); the name key follows, and a content link
    /// that `f` cleared or replaced is removed from that content's instances. Returns the
    /// record as it was, or `None` (and changes nothing) if `id` does not exist.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the new parent already holds an entry of the new name;
    /// [`StoreError`] otherwise.
    pub fn update(
        &mut self,
        id: u64,
        f: impl FnOnce(&mut EntryRecord),
    ) -> Result<Option<EntryRecord>, StoreError> {
        let Some(old) = self.get(id)? else {
            return Ok(None);
        };
        let mut rec = old.clone();
        f(&mut rec);
        if rec.uuid != old.uuid {
            return Err(StoreError::Conflict {
                what: format!("entry {id}'s UUID cannot change"),
            });
        }
        if rec.parent != old.parent || rec.name != old.name {
            if let Some(other) = self.child(rec.parent, &rec.name)?
                && other != id
            {
                return Err(conflict_name(other, &rec));
            }
            self.remove_name(old.parent, &old.name, id)?;
            self.names
                .insert(name_key(rec.parent, &rec.name).as_slice(), id)?;
        }
        if let Some(cas) = old.cas
            && rec.cas != Some(cas)
        {
            self.unlink_content(cas, id)?;
        }
        rec.updated_seq = self.seq;
        self.entries.insert(id, encode_record(&rec).as_slice())?;
        Ok(Some(old))
    }

    /// Deletes entry `id` alone (a folder's children are the caller's: see
    /// [`IndexWriter::delete_subtree`]): its name key, UUID, aggregates, unreadable mark and
    /// content link go with it, and a [`Tombstone`] stays. Returns the deleted record.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn delete(&mut self, id: u64) -> Result<Option<EntryRecord>, StoreError> {
        let Some(rec) = self.get(id)? else {
            return Ok(None);
        };
        self.entries.remove(id)?;
        self.remove_name(rec.parent, &rec.name, id)?;
        if self
            .uuids
            .get(rec.uuid.as_u128())?
            .is_some_and(|v| v.value() == id)
        {
            self.uuids.remove(rec.uuid.as_u128())?;
        }
        if rec.kind == EntryKind::Dir {
            self.dir_stats.remove(id)?;
            self.unreadable.remove(id)?;
        }
        if let Some(cas) = rec.cas {
            self.unlink_content(cas, id)?;
        }
        if self.tombstones {
            let parent = self.uuid_of_parent(rec.parent)?;
            if rec.kind == EntryKind::Dir {
                // Its children may be deleted after it (a list of ids in any order).
                self.gone_dirs.insert(id, rec.uuid);
            }
            self.tomb_table.insert(
                rec.uuid.as_u128(),
                encode_record(&Tombstone {
                    kind: TombstoneKind::Entry,
                    deleted_ms: self.now_ms,
                    seq: self.seq,
                    parent,
                    name: rec.name.to_vec(),
                })
                .as_slice(),
            )?;
        }
        Ok(Some(rec))
    }

    /// The UUID of folder `id` (for a tombstone), remembered for the next sibling deleted;
    /// `None` for a location's root (id 0 or no such entry).
    fn uuid_of_parent(&mut self, id: u64) -> Result<Option<Uuid>, StoreError> {
        if let Some((p, u)) = self.last_parent
            && p == id
        {
            return Ok(Some(u));
        }
        if let Some(u) = self.gone_dirs.get(&id) {
            return Ok(Some(*u));
        }
        let Some(rec) = self.get(id)? else {
            return Ok(None);
        };
        self.last_parent = Some((id, rec.uuid));
        Ok(Some(rec.uuid))
    }

    /// Deletes entry `id` and everything below it, deepest first. Returns how many entries
    /// went.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn delete_subtree(&mut self, id: u64) -> Result<u64, StoreError> {
        // Collect first (an iterator over the name key cannot live across its own removals).
        let mut order = vec![id];
        let mut i = 0;
        while i < order.len() {
            let parent = order[i];
            let (lo, hi) = super::children_range(parent);
            for row in self.names.range(&lo[..]..&hi[..])? {
                order.push(row?.1.value());
            }
            i += 1;
        }
        let mut n = 0;
        for &e in order.iter().rev() {
            if self.delete(e)?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Sets entry `link.id`'s content identity and adds it to the instances of that content
    /// (once). A content that gains a new copy loses its full-file integrity hash: that hash
    /// vouched only for the copies it was computed over. Does nothing if the entry is gone or
    /// already linked to this content.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn link_content(&mut self, link: &ContentLink) -> Result<(), StoreError> {
        let Some(mut rec) = self.get(link.id)? else {
            return Ok(());
        };
        if rec.cas == Some(link.cas) {
            return Ok(());
        }
        let previous = rec.cas.replace(link.cas);
        if link.kind != ContentKind::Unknown {
            rec.content_kind = link.kind;
        }
        rec.updated_seq = self.seq;
        self.entries
            .insert(link.id, encode_record(&rec).as_slice())?;
        if let Some(old) = previous {
            self.unlink_content(old, link.id)?;
        }
        if let Some(uuid) = self.add_instance(link, false)? {
            self.content_uuids.insert(uuid.as_u128(), link.cas.0)?;
        }
        Ok(())
    }

    /// [`IndexWriter::link_content`] for many links, with the result of linking them one by one
    /// in (cas_id, entry) order, but each table written in its own key order: the entries by
    /// id, the instances and contents by cas_id, the UUID keys of new contents by UUID. (A
    /// btree insert beside the previous one finds its pages loaded and already copied in this
    /// transaction; in cas_id order, the entries and the UUID keys were a random page each.)
    /// Links that name one entry twice are linked one by one.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn link_contents(&mut self, links: &[ContentLink]) -> Result<(), StoreError> {
        let mut by_id: Vec<usize> = (0..links.len()).collect();
        by_id.sort_unstable_by_key(|&i| links[i].id);
        if by_id.windows(2).any(|w| links[w[0]].id == links[w[1]].id) {
            let mut by_cas = by_id;
            by_cas.sort_unstable_by_key(|&i| (links[i].cas, links[i].id));
            for i in by_cas {
                self.link_content(&links[i])?;
            }
            return Ok(());
        }
        // The entries, in id order; `previous[i]` is `None` for a link that changes nothing,
        // else the entry's cas_id before.
        let mut previous: Vec<Option<Option<CasId>>> = vec![None; links.len()];
        for &i in &by_id {
            let link = &links[i];
            let Some(mut rec) = self.get(link.id)? else {
                continue;
            };
            if rec.cas == Some(link.cas) {
                continue;
            }
            previous[i] = Some(rec.cas.replace(link.cas));
            if link.kind != ContentKind::Unknown {
                rec.content_kind = link.kind;
            }
            rec.updated_seq = self.seq;
            self.entries
                .insert(link.id, encode_record(&rec).as_slice())?;
        }
        // The instances and contents, in cas_id order.
        let mut by_cas = by_id;
        by_cas.sort_unstable_by_key(|&i| (links[i].cas, links[i].id));
        let mut new_uuids = Vec::new();
        let mut unlinked = false;
        for i in by_cas {
            let Some(prev) = previous[i] else { continue };
            let link = &links[i];
            if let Some(old) = prev {
                self.unlink_content(old, link.id)?;
                unlinked = true;
            }
            if let Some(uuid) = self.add_instance(link, false)? {
                new_uuids.push((uuid.as_u128(), link.cas));
            }
        }
        self.insert_content_uuids(new_uuids, unlinked)
    }

    /// New entries whose records already name their content identities (a first index that
    /// hashed its files before writing them): [`IndexWriter::insert_batch`] of `recs`, then
    /// the instances and contents of `links` as [`IndexWriter::link_contents`] adds them, in
    /// cas_id order. Each link's entry must be in `recs` with `cas` set to `link.cas`, once.
    /// One write of each entry instead of an insert and a rewrite.
    ///
    /// # Errors
    /// As [`IndexWriter::insert_batch`].
    pub fn insert_linked(
        &mut self,
        recs: &mut [(u64, EntryRecord)],
        links: &[ContentLink],
    ) -> Result<(), StoreError> {
        debug_assert!(
            links.windows(2).all(|w| w[0].id < w[1].id),
            "links in id order"
        );
        self.insert_batch(recs)?;
        let mut by_cas: Vec<&ContentLink> = links.iter().collect();
        by_cas.sort_unstable_by_key(|l| (l.cas, l.id));
        let mut new_uuids = Vec::new();
        for link in by_cas {
            if let Some(uuid) = self.add_instance(link, true)? {
                new_uuids.push((uuid.as_u128(), link.cas));
            }
        }
        self.insert_content_uuids(new_uuids, false)
    }

    /// The UUID keys of contents created in this transaction ((UUID, cas_id)), in UUID order;
    /// after `unlinked` (contents were unlinked in this transaction) a content created and
    /// emptied again has none.
    fn insert_content_uuids(
        &mut self,
        mut new_uuids: Vec<(u128, CasId)>,
        unlinked: bool,
    ) -> Result<(), StoreError> {
        new_uuids.sort_unstable();
        for (uuid, cas) in new_uuids {
            if unlinked && self.content.get(cas.0)?.is_none() {
                continue;
            }
            self.content_uuids.insert(uuid, cas.0)?;
        }
        Ok(())
    }

    /// The content side of linking entry `link.id` (whose record already names `link.cas`):
    /// the instance row and the content record (created, or its count and type updated).
    /// Returns the UUID of a content created here, whose UUID key the caller inserts.
    ///
    /// With `likely_new` (a first index, whose contents are mostly new), the content is
    /// written as new at once, and written again merged if it existed: one btree operation
    /// instead of a lookup and an insert in the usual case, one more in the other.
    fn add_instance(
        &mut self,
        link: &ContentLink,
        likely_new: bool,
    ) -> Result<Option<Uuid>, StoreError> {
        let fresh = self.instances.insert((link.cas.0, link.id), ())?.is_none();
        let new_record = |uuid, now_ms| ContentRecord {
            cas: link.cas,
            uuid,
            size: link.size,
            kind: link.kind,
            file_type: link.file_type.clone(),
            mime: link.mime.clone(),
            instances: 1,
            first_seen_ms: now_ms,
            last_verified_ms: None,
            integrity: None,
        };
        let c = &mut self.content;
        let existing: Option<ContentRecord> = if likely_new {
            let uuid = link.cas.content_uuid();
            let rec = new_record(uuid, self.now_ms);
            let old = c
                .insert(link.cas.0, encode_record(&rec).as_slice())?
                .map(|v| decode_record(v.value()))
                .transpose()?;
            match old {
                None => return Ok(Some(uuid)),
                Some(old) => Some(old),
            }
        } else {
            c.get(link.cas.0)?
                .map(|v| decode_record(v.value()))
                .transpose()?
        };
        let mut created = None;
        let rec = match existing {
            Some(mut r) => {
                if fresh {
                    // A content kept at zero instances (see `defer_orphans`) gets its own
                    // copy back: its integrity hash still vouches for it.
                    if r.instances > 0 {
                        r.integrity = None;
                        r.last_verified_ms = None;
                    }
                    r.instances += 1;
                }
                // Copies of one content may be named differently (x.md and x.txt) and so be
                // identified as different types. The content takes the smallest type id among
                // its copies, whatever order they were identified in: two clean indexes of one
                // tree are identical.
                let better = match (&link.file_type, &r.file_type) {
                    (Some(new), Some(old)) => new < old,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if better {
                    r.file_type.clone_from(&link.file_type);
                    r.mime.clone_from(&link.mime);
                    r.kind = link.kind;
                }
                r
            }
            None => {
                let uuid = link.cas.content_uuid();
                created = Some(uuid);
                new_record(uuid, self.now_ms)
            }
        };
        c.insert(link.cas.0, encode_record(&rec).as_slice())?;
        Ok(created)
    }

    /// Removes entry `id` from the instances of `cas`, deleting the content identity (and its
    /// UUID key) when no instance is left. The entry record itself is the caller's.
    ///
    /// # Errors
    /// [`StoreError`].
    fn unlink_content(&mut self, cas: CasId, id: u64) -> Result<(), StoreError> {
        if self.instances.remove((cas.0, id))?.is_none() {
            return Ok(());
        }
        let c = &mut self.content;
        let rec: Option<ContentRecord> = c
            .get(cas.0)?
            .map(|v| decode_record(v.value()))
            .transpose()?;
        if let Some(mut rec) = rec {
            rec.instances = rec.instances.saturating_sub(1);
            if rec.instances == 0
                && let Some(orphans) = &mut self.orphans
            {
                orphans.push(cas);
                c.insert(cas.0, encode_record(&rec).as_slice())?;
            } else if rec.instances == 0 {
                c.remove(cas.0)?;
                self.content_uuids.remove(rec.uuid.as_u128())?;
            } else {
                c.insert(cas.0, encode_record(&rec).as_slice())?;
            }
        }
        Ok(())
    }

    /// Folder `id`'s stored aggregates.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn dir_stats(&self, id: u64) -> Result<Option<DirStats>, StoreError> {
        self.dir_stats
            .get(id)?
            .map(|v| decode_record(v.value()))
            .transpose()
    }

    /// Stores folder `id`'s aggregates.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn set_dir_stats(&mut self, id: u64, stats: &DirStats) -> Result<(), StoreError> {
        self.dir_stats.insert(id, encode_record(stats).as_slice())?;
        Ok(())
    }

    /// Marks folder `id` as not listed at this scan, keeping the time of the first failure of
    /// a run of failures.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn mark_unreadable(&mut self, id: u64) -> Result<(), StoreError> {
        let t = &mut self.unreadable;
        if t.get(id)?.is_none() {
            t.insert(
                id,
                encode_record(&UnreadableRecord {
                    since_ms: self.now_ms,
                })
                .as_slice(),
            )?;
        }
        Ok(())
    }

    /// Clears folder `id`'s unreadable mark (it was listed again).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn clear_unreadable(&mut self, id: u64) -> Result<(), StoreError> {
        self.unreadable.remove(id)?;
        Ok(())
    }

    /// The entries linked to content `cas` (its copies).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn instances_of(&self, cas: CasId) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for row in self.instances.range((cas.0, 0)..=(cas.0, u64::MAX))? {
            out.push(row?.0.value().1);
        }
        Ok(out)
    }

    /// Entry `id` and every entry below it (parents first).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn subtree_ids(&self, id: u64) -> Result<Vec<u64>, StoreError> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let kids = self.child_ids(out[i])?;
            out.extend(kids);
            i += 1;
        }
        Ok(out)
    }

    /// The ids of folder `parent`'s children, in name order.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn child_ids(&self, parent: u64) -> Result<Vec<u64>, StoreError> {
        let (lo, hi) = super::children_range(parent);
        let mut out = Vec::new();
        for row in self.names.range(&lo[..]..&hi[..])? {
            out.push(row?.1.value());
        }
        Ok(out)
    }

    /// The content record of `cas`, if any entry links to it.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn content(&self, cas: CasId) -> Result<Option<ContentRecord>, StoreError> {
        self.content
            .get(cas.0)?
            .map(|v| decode_record(v.value()))
            .transpose()
    }

    /// Removes the tombstone of `uuid` (an entry that comes back with its UUID: a restore
    /// from the trash, an undo).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn clear_tombstone(&mut self, uuid: Uuid) -> Result<(), StoreError> {
        self.tomb_table.remove(uuid.as_u128())?;
        Ok(())
    }

    /// Removes `id`'s name key if it is `id`'s.
    fn remove_name(&mut self, parent: u64, name: &[u8], id: u64) -> Result<(), StoreError> {
        let key = name_key(parent, name);
        let mine = self
            .names
            .get(key.as_slice())?
            .is_some_and(|v| v.value() == id);
        if mine {
            self.names.remove(key.as_slice())?;
        }
        Ok(())
    }
}

fn conflict_name(other: u64, rec: &EntryRecord) -> StoreError {
    StoreError::Conflict {
        what: format!(
            "an entry named {:?} already exists in folder {} (entry {other})",
            String::from_utf8_lossy(&rec.name),
            rec.parent
        ),
    }
}

/// Sets the full-file integrity hash of content `cas` (and when it was verified); nothing if
/// the content is gone.
///
/// # Errors
/// [`StoreError`].
pub fn set_integrity(
    tx: &WriteTransaction,
    cas: CasId,
    integrity: Option<[u8; 32]>,
    verified_ms: i64,
) -> Result<(), StoreError> {
    let mut t = tx.open_table(CONTENT)?;
    let rec: Option<ContentRecord> = t
        .get(cas.0)?
        .map(|v| decode_record(v.value()))
        .transpose()?;
    if let Some(mut rec) = rec {
        rec.integrity = integrity;
        rec.last_verified_ms = Some(verified_ms);
        t.insert(cas.0, encode_record(&rec).as_slice())?;
    }
    Ok(())
}

/// Deletes the tombstones older than [`TOMBSTONE_MAX_AGE_MS`] at `now_ms`. Returns how many
/// went. The rule: a deletion is kept for peers for 90 days; a peer that has not synced for
/// longer compares whole indexes instead.
///
/// # Errors
/// [`StoreError`].
pub fn prune_tombstones(tx: &WriteTransaction, now_ms: i64) -> Result<u64, StoreError> {
    let mut t = tx.open_table(TOMBSTONES)?;
    let mut old = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        let stone: Tombstone = decode_record(v.value())?;
        if now_ms.saturating_sub(stone.deleted_ms) > TOMBSTONE_MAX_AGE_MS {
            old.push(k.value());
        }
    }
    for k in &old {
        t.remove(k)?;
    }
    Ok(old.len() as u64)
}

/// How often [`prune_tombstones_if_due`] prunes (a day, in ms).
pub const TOMBSTONE_PRUNE_EVERY_MS: i64 = 24 * 60 * 60 * 1000;

/// [`prune_tombstones`] if the last pruning (meta `tombstones_pruned_ms`) is more than
/// [`TOMBSTONE_PRUNE_EVERY_MS`] old; the indexer calls it at the end of each full scan. Returns
/// how many went.
///
/// # Errors
/// [`StoreError`].
pub fn prune_tombstones_if_due(tx: &WriteTransaction, now_ms: i64) -> Result<u64, StoreError> {
    let last: i64 = match tx.open_table(META)?.get(META_TOMBSTONES_PRUNED)? {
        Some(v) => decode("meta", v.value())?,
        None => 0,
    };
    if now_ms.saturating_sub(last) < TOMBSTONE_PRUNE_EVERY_MS {
        return Ok(0);
    }
    let n = prune_tombstones(tx, now_ms)?;
    tx.open_table(META)?
        .insert(META_TOMBSTONES_PRUNED, encode(&now_ms).as_slice())?;
    Ok(n)
}

/// The tombstone of the record with this UUID, if it was deleted (and not yet pruned).
///
/// # Errors
/// [`StoreError`].
pub fn tombstone(tx: &redb::ReadTransaction, uuid: Uuid) -> Result<Option<Tombstone>, StoreError> {
    tx.open_table(TOMBSTONES)?
        .get(uuid.as_u128())?
        .map(|v| decode_record(v.value()))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn rec(parent: u64, name: &str, kind: EntryKind) -> EntryRecord {
        EntryRecord {
            uuid: Uuid::now_v7(),
            location: 1,
            parent,
            name: name.as_bytes().to_vec(),
            kind,
            size: 1,
            mtime_ns: 0,
            inode: 0,
            dev: 0,
            cas: None,
            content_kind: ContentKind::Unknown,
            first_seen_ms: 0,
            updated_seq: 0,
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.redb")).unwrap();
        (dir, s)
    }

    #[test]
    fn a_second_entry_of_one_name_in_a_folder_is_a_conflict() {
        let (_d, s) = store();
        s.write(|tx| {
            let mut w = IndexWriter::begin(tx)?;
            w.insert(1, rec(0, "/root", EntryKind::Dir))?;
            w.insert(2, rec(1, "a.txt", EntryKind::File))?;
            Ok(())
        })
        .unwrap();
        // Two writers racing to create the same name: the later one is refused, whole.
        let err = s
            .write(|tx| {
                let mut w = IndexWriter::begin(tx)?;
                w.insert(3, rec(1, "b.txt", EntryKind::File))?;
                w.insert(4, rec(1, "a.txt", EntryKind::File))?;
                Ok(())
            })
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict { what } if what.contains("a.txt")),
            "{err}"
        );
        let b = s
            .read(|tx| super::super::child_id(tx, 1, b"b.txt"))
            .unwrap();
        assert_eq!(b, None, "nothing of the refused transaction was saved");
        // A rename onto a taken name is refused too; onto a free one it moves the key.
        let err = s
            .write(|tx| {
                let mut w = IndexWriter::begin(tx)?;
                w.insert(5, rec(1, "c.txt", EntryKind::File))?;
                w.update(5, |r| r.name = b"a.txt".to_vec())?;
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
        s.write(|tx| {
            let mut w = IndexWriter::begin(tx)?;
            w.update(2, |r| r.name = b"z.txt".to_vec())?;
            Ok(())
        })
        .unwrap();
        s.read(|tx| {
            assert_eq!(super::super::child_id(tx, 1, b"a.txt")?, None);
            assert_eq!(super::super::child_id(tx, 1, b"z.txt")?, Some(2));
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn every_write_is_stamped_with_its_transaction_sequence_and_deletes_leave_tombstones() {
        let (_d, s) = store();
        let (seq1, uuid) = s
            .write(|tx| {
                let mut w = IndexWriter::begin(tx)?;
                let r = rec(0, "/root", EntryKind::Dir);
                let uuid = r.uuid;
                w.insert(1, r)?;
                w.insert(2, rec(1, "x", EntryKind::Dir))?;
                w.insert(3, rec(2, "y", EntryKind::File))?;
                Ok((w.seq(), uuid))
            })
            .unwrap();
        let seq2 = s
            .write(|tx| {
                let mut w = IndexWriter::begin(tx)?;
                w.update(3, |r| r.size = 2)?;
                Ok(w.seq())
            })
            .unwrap();
        assert!(seq2 > seq1);
        let (y, root) = s
            .read(|tx| {
                Ok((
                    super::super::entry(tx, 3)?.unwrap(),
                    super::super::entry(tx, 1)?.unwrap(),
                ))
            })
            .unwrap();
        assert_eq!((y.updated_seq, root.updated_seq), (seq2, seq1));
        assert_eq!(
            s.read(|tx| super::super::entry_id_by_uuid(tx, uuid))
                .unwrap(),
            Some(1)
        );
        let x_uuid = s
            .read(|tx| super::super::entry(tx, 2))
            .unwrap()
            .unwrap()
            .uuid;
        let gone = s
            .write(|tx| IndexWriter::begin(tx)?.delete_subtree(2))
            .unwrap();
        assert_eq!(gone, 2);
        s.read(|tx| {
            assert_eq!(super::super::entry(tx, 3)?, None);
            assert_eq!(super::super::entry_id_by_uuid(tx, x_uuid)?, None);
            assert_eq!(super::super::child_ids(tx, 1)?, Vec::<u64>::new());
            let t = tombstone(tx, x_uuid)?.unwrap();
            assert_eq!(t.kind, TombstoneKind::Entry);
            assert!(t.seq > seq2);
            Ok(())
        })
        .unwrap();
        // Pruned after 90 days, not before.
        let now = crate::vdfs::jobs::now_ms();
        assert_eq!(s.write(move |tx| prune_tombstones(tx, now)).unwrap(), 0);
        let later = now + TOMBSTONE_MAX_AGE_MS + 1;
        assert_eq!(
            s.write(move |tx| prune_tombstones_if_due(tx, later))
                .unwrap(),
            2
        );
        // The indexer's daily pruning: not again within the day.
        s.write(move |tx| {
            tx.open_table(TOMBSTONES)?.insert(
                1u128,
                encode_record(&Tombstone {
                    kind: TombstoneKind::Entry,
                    deleted_ms: 0,
                    seq: 1,
                    parent: None,
                    name: Vec::new(),
                })
                .as_slice(),
            )?;
            Ok(())
        })
        .unwrap();
        let hour_later = later + 60 * 60 * 1000;
        assert_eq!(
            s.write(move |tx| prune_tombstones_if_due(tx, hour_later))
                .unwrap(),
            0
        );
        let day_later = later + TOMBSTONE_PRUNE_EVERY_MS + 1;
        assert_eq!(
            s.write(move |tx| prune_tombstones_if_due(tx, day_later))
                .unwrap(),
            1
        );
    }

    #[test]
    fn content_links_keep_counts_and_the_content_uuid_key() {
        let (_d, s) = store();
        let cas = CasId(0xabcd);
        let link = move |id| ContentLink {
            id,
            cas,
            size: 1,
            kind: ContentKind::Text,
            file_type: None,
            mime: None,
        };
        s.write(move |tx| {
            let mut w = IndexWriter::begin(tx)?;
            w.insert(1, rec(0, "/root", EntryKind::Dir))?;
            w.insert(2, rec(1, "a", EntryKind::File))?;
            w.insert(3, rec(1, "b", EntryKind::File))?;
            w.link_content(&link(2))?;
            w.link_content(&link(3))?;
            w.link_content(&link(3))?;
            Ok(())
        })
        .unwrap();
        let c = s
            .read(|tx| super::super::content(tx, cas))
            .unwrap()
            .unwrap();
        assert_eq!(c.instances, 2);
        s.write(|tx| {
            let mut w = IndexWriter::begin(tx)?;
            w.update(2, |r| r.cas = None)?;
            w.delete(3)?;
            Ok(())
        })
        .unwrap();
        s.read(move |tx| {
            assert_eq!(super::super::content(tx, cas)?, None);
            let t = tx.open_table(CONTENT_UUIDS)?;
            assert!(
                t.get(c.uuid.as_u128())?.is_none(),
                "the UUID key went with it"
            );
            Ok(())
        })
        .unwrap();
    }
}
