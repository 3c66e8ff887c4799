//! Phase 2, processing: the walk is compared with the stored entries (same path → same entry,
//! updated in place if changed; moved by inode and device; the rest new or deleted) into a
//! [`Plan`], which is written in batches, each one transaction with the job's checkpoint; and
//! the deletion of a whole location's entries.

use super::aggregation::{shift, shift_location};
use super::discovery::Existing;
use super::*;

impl IndexerJob {
    /// Writes the plan in batches, each with a checkpoint. The batches are volatile commits
    /// (not waited on the disk): a crashed scan is run again whole from its last durable
    /// checkpoint, and the durable write that ends the scan makes them durable.
    pub(super) fn apply(
        &mut self,
        ctx: &mut JobContext,
        tree: &Tree,
        existing: &Existing,
        plan: &Plan,
        dir_stats: Vec<(u32, DirStats)>,
        loc: &LocationRecord,
    ) -> Result<(), JobError> {
        // Ids for the new entries, reserved in one small transaction.
        let needed = plan.new_nodes.len() as u64;
        let location = loc.id;
        let base = if needed > 0 {
            ctx.store()
                .write(move |tx| crate::vdfs::index::reserve_entry_ids(tx, location, needed))?
        } else {
            0
        };
        let mut ids = plan.ids.clone();
        for (k, &n) in plan.new_nodes.iter().enumerate() {
            ids[n as usize] = base + k as u64;
        }
        let ids = Arc::new(ids);
        let now = now_ms();
        let total_ops =
            (plan.new_nodes.len() + plan.modified.len() + plan.moved.len() + plan.deleted.len())
                as u64;
        let mut done_ops = 0u64;
        let registry = Registry::active();

        // Stored entries gone from disk whose name a new or moved entry takes go first: the
        // name key allows one entry per name in a folder (e.g. a file replaced by a folder of
        // the same name).
        let mut targets: rustc_hash::FxHashSet<(u64, &[u8])> = rustc_hash::FxHashSet::default();
        for &n in plan
            .new_nodes
            .iter()
            .chain(plan.moved.iter().map(|(n, _)| n))
        {
            let node = tree.node(n);
            if node.parent != NONE {
                targets.insert((ids[node.parent as usize], tree.name(n)));
            }
        }
        let (displaced, deleted): (Vec<usize>, Vec<usize>) =
            plan.deleted.iter().copied().partition(|&idx| {
                let r = &existing.recs[idx].1;
                targets.contains(&(r.parent, r.name.as_slice()))
            });
        drop(targets);
        for chunk in displaced.chunks(WRITE_BATCH) {
            let gone: Vec<u64> = chunk.iter().map(|&idx| existing.recs[idx].0).collect();
            self.counts.deleted += chunk.len() as u64;
            done_ops += chunk.len() as u64;
            self.write_progress(ctx, done_ops, total_ops);
            ctx.checkpoint_volatile(self, move |tx| delete_entries(tx, &gone, true))?;
        }

        // New entries, in node order (parents first), in batches; each batch is prepared while
        // the previous one commits.
        let mut pending = None;
        for chunk in plan.new_nodes.chunks(WRITE_BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for &n in chunk {
                let id = ids[n as usize];
                let node = tree.node(n);
                let name = if n == 0 {
                    plan.root_name.clone()
                } else {
                    tree.name(n).to_vec()
                };
                let parent = if node.parent == NONE {
                    plan.root_parent
                } else {
                    ids[node.parent as usize]
                };
                entries.push((id, new_entry(tree, n, loc.id, parent, name, registry, now)));
            }
            self.counts.created += chunk.len() as u64;
            done_ops += chunk.len() as u64;
            self.write_progress(ctx, done_ops, total_ops);
            if let Some(p) = pending.take() {
                ctx.checkpoint_wait(p)?;
            }
            pending = Some(ctx.checkpoint_submit_volatile(self, move |tx| {
                IndexWriter::begin(tx)?.insert_batch(&mut entries)
            }));
        }
        if let Some(p) = pending.take() {
            ctx.checkpoint_wait(p)?;
        }

        // Modified and moved entries (a moved folder's subtree follows it: its entries keep
        // their parent ids).
        let mut updates: Vec<Update> = Vec::new();
        for &(n, idx) in &plan.modified {
            updates.push(Update::from_node(
                tree,
                &ids,
                n,
                &existing.recs[idx],
                plan,
                false,
            ));
        }
        for &(n, idx) in &plan.moved {
            updates.push(Update::from_node(
                tree,
                &ids,
                n,
                &existing.recs[idx],
                plan,
                true,
            ));
        }
        for chunk in updates.chunks(WRITE_BATCH) {
            let chunk = chunk.to_vec();
            let n = chunk.len() as u64;
            self.counts.modified += chunk.iter().filter(|u| !u.moved).count() as u64;
            self.counts.moved += chunk.iter().filter(|u| u.moved).count() as u64;
            done_ops += n;
            self.write_progress(ctx, done_ops, total_ops);
            ctx.checkpoint_volatile(self, move |tx| {
                let mut w = IndexWriter::begin(tx)?;
                for u in &chunk {
                    u.apply(&mut w)?;
                }
                Ok(())
            })?;
        }

        // Deleted entries.
        for chunk in deleted.chunks(WRITE_BATCH) {
            let gone: Vec<u64> = chunk.iter().map(|&idx| existing.recs[idx].0).collect();
            self.counts.deleted += chunk.len() as u64;
            done_ops += chunk.len() as u64;
            self.write_progress(ctx, done_ops, total_ops);
            ctx.checkpoint_volatile(self, move |tx| delete_entries(tx, &gone, true))?;
        }

        // Aggregation. A scoped scan's own folder is written last, with the folders above it
        // and the location's stats (see below).
        let mut scope_stats = None;
        let mut changed: Vec<(u64, DirStats)> = dir_stats
            .into_iter()
            .map(|(n, s)| (ids[n as usize], s))
            .filter(|&(id, s)| {
                if plan.scope == Some(id) {
                    scope_stats = Some(s);
                    return false;
                }
                existing.dir_stats.get(&id) != Some(&s)
            })
            .collect();
        changed.sort_unstable_by_key(|c| c.0);
        for chunk in changed.chunks(WRITE_BATCH) {
            let chunk = chunk.to_vec();
            ctx.set_progress(JobProgress {
                phase: "aggregation".into(),
                completed: chunk.len() as u64,
                total: None,
                bytes: 0,
                message: String::new(),
            });
            ctx.checkpoint_volatile(self, move |tx| {
                let mut w = IndexWriter::begin(tx)?;
                for (id, s) in &chunk {
                    w.set_dir_stats(*id, s)?;
                }
                Ok(())
            })?;
        }
        // A scoped scan: every folder above the scope, and the location, had the scope's old
        // totals in theirs; they get the difference. One transaction with the scope's own
        // totals, so a resumed run finds either none of it done (and the same difference to
        // add) or all of it (and none).
        if let (Some(id), Some(new)) = (plan.scope, scope_stats) {
            let old = existing.dir_stats.get(&id).copied().unwrap_or_default();
            if new != old {
                let location = loc.id;
                ctx.checkpoint_volatile(self, move |tx| {
                    let mut w = IndexWriter::begin(tx)?;
                    w.set_dir_stats(id, &new)?;
                    let mut cur = w.get(id)?.map_or(0, |r| r.parent);
                    while cur != 0 {
                        let s = w.dir_stats(cur)?.unwrap_or_default();
                        w.set_dir_stats(cur, &shift(s, old, new))?;
                        cur = w.get(cur)?.map_or(0, |r| r.parent);
                    }
                    drop(w);
                    location::update_in(tx, location, |l| shift_location(&mut l.stats, old, new))?;
                    Ok(())
                })?;
            }
        }
        // Folders that could not be listed: recorded with the time of the first failure; a
        // folder listed again is cleared.
        let unreadable: Vec<u64> = tree.incomplete().map(|i| ids[i as usize]).collect();
        let stored: Vec<u64> = ctx.store().read(|tx| {
            let t = tx.open_table(UNREADABLE)?;
            let mut out = Vec::new();
            for row in t.iter()? {
                out.push(row?.0.value());
            }
            Ok(out)
        })?;
        let listed_again: Vec<u64> = if stored.is_empty() {
            Vec::new()
        } else {
            let seen: rustc_hash::FxHashSet<u64> = (0..tree.len())
                .filter(|&i| tree.node(i).kind == EntryKind::Dir && !tree.is_incomplete(i))
                .map(|i| ids[i as usize])
                .collect();
            stored.into_iter().filter(|id| seen.contains(id)).collect()
        };
        if !unreadable.is_empty() || !listed_again.is_empty() {
            ctx.checkpoint_volatile(self, move |tx| {
                let mut w = IndexWriter::begin(tx)?;
                for id in &listed_again {
                    w.clear_unreadable(*id)?;
                }
                for id in &unreadable {
                    w.mark_unreadable(*id)?;
                }
                Ok(())
            })?;
        }
        // Without waiting for the disk, like the writes above: the scan's durable end makes it
        // durable (a first index's writes reach the disk once, there), and a run resumed after
        // a crash sets it again.
        if plan.scope.is_none() && loc.root_entry != Some(ids[0]) {
            let root_id = ids[0];
            let location = loc.id;
            ctx.checkpoint_volatile(self, move |tx| {
                location::update_in(tx, location, |l| l.root_entry = Some(root_id))?;
                Ok(())
            })?;
        }
        Ok(())
    }

    pub(super) fn write_progress(&self, ctx: &mut JobContext, done: u64, total: u64) {
        ctx.set_progress(JobProgress {
            phase: "processing".into(),
            completed: done,
            total: Some(total),
            bytes: 0,
            message: String::new(),
        });
    }
}

/// What a scan will change.
pub(super) struct Plan {
    /// Entry id per tree node (0 until assigned for new nodes).
    pub(super) ids: Vec<u64>,
    /// Tree nodes that are new, in node order.
    pub(super) new_nodes: Vec<u32>,
    /// `(node, existing index)` changed in place.
    pub(super) modified: Vec<(u32, usize)>,
    /// `(node, existing index)` moved or renamed (maybe also changed).
    pub(super) moved: Vec<(u32, usize)>,
    /// Existing indexes gone from disk.
    pub(super) deleted: Vec<usize>,
    /// Existing indexes not seen but kept: they are below a folder that could not be listed
    /// (or not to the end), so their absence says nothing.
    pub(super) kept: Vec<usize>,
    /// The walk root's parent entry (0 for a location root) and its stored name (for a
    /// location root, its full path).
    pub(super) root_parent: u64,
    pub(super) root_name: Vec<u8>,
    /// For a scoped scan, the scope folder's entry id.
    pub(super) scope: Option<u64>,
}

impl Plan {
    pub(super) fn make(tree: &Tree, existing: &Existing, loc: &LocationRecord) -> Plan {
        let n = tree.len() as usize;
        let mut ids = vec![0u64; n];
        let mut matched: Vec<Option<usize>> = vec![None; n];
        let mut claimed = vec![false; existing.recs.len()];
        // The walk's root: the location root, or a scoped scan's folder (always stored).
        let root_idx = existing.scope_root.or_else(|| {
            existing
                .recs
                .iter()
                .position(|(_, r)| r.parent == 0 && r.name == loc.path)
        });
        let (root_parent, root_name) = match root_idx {
            Some(ri) => (existing.recs[ri].1.parent, existing.recs[ri].1.name.clone()),
            None => (0, loc.path.clone()),
        };
        // Pass A: match by path, top-down (a child can match only under a matched parent).
        if let Some(ri) = root_idx {
            matched[0] = Some(ri);
            claimed[ri] = true;
            ids[0] = existing.recs[ri].0;
        }
        for i in 1..n as u32 {
            let p = tree.node(i).parent as usize;
            if matched[p].is_none() {
                continue;
            }
            if let Some(idx) = existing.child(ids[p], tree.name(i))
                && same_kind(existing.recs[idx].1.kind, tree.node(i).kind)
            {
                matched[i as usize] = Some(idx);
                claimed[idx] = true;
                ids[i as usize] = existing.recs[idx].0;
            }
        }
        // Pass B: unmatched nodes, top-down: the path under a moved parent, else the inode
        // of an entry whose old path is gone (a move), else new.
        let mut by_inode: FxHashMap<(u64, u64), usize> = FxHashMap::default();
        for (i, (_, r)) in existing.recs.iter().enumerate() {
            if !claimed[i] {
                by_inode.insert((r.dev, r.inode), i);
            }
        }
        let mut new_nodes = Vec::new();
        let mut modified = Vec::new();
        let mut moved = Vec::new();
        for i in 0..n as u32 {
            let iu = i as usize;
            let node = tree.node(i);
            if let Some(idx) = matched[iu] {
                if changed(&existing.recs[idx].1, tree.meta(i)) {
                    modified.push((i, idx));
                }
                continue;
            }
            let parent_id = if node.parent == NONE {
                root_parent
            } else {
                ids[node.parent as usize]
            };
            let by_new_parent = (node.parent != NONE && parent_id != 0)
                .then(|| existing.child(parent_id, tree.name(i)))
                .flatten()
                .filter(|&idx| !claimed[idx] && same_kind(existing.recs[idx].1.kind, node.kind));
            if let Some(idx) = by_new_parent {
                claimed[idx] = true;
                ids[iu] = existing.recs[idx].0;
                if changed(&existing.recs[idx].1, tree.meta(i)) {
                    modified.push((i, idx));
                }
                continue;
            }
            let m = tree.meta(i);
            let by_ino = (i != 0)
                .then(|| by_inode.get(&(m.dev, m.inode)).copied())
                .flatten()
                .filter(|&idx| {
                    // A moved file keeps its mtime and size: a new file that merely reuses a
                    // deleted file's inode number is not that file. A moved folder whose
                    // content also changed has a new mtime, so a folder is also recognised by
                    // holding one of the names the old one held.
                    let old = &existing.recs[idx].1;
                    !claimed[idx]
                        && same_kind(old.kind, node.kind)
                        && if node.kind == EntryKind::Dir {
                            old.mtime_ns == m.mtime_ns
                                // A folder that could not be listed has no children to
                                // compare: its inode is all there is.
                                || tree.is_incomplete(i)
                                || shares_a_child(tree, i, existing, existing.recs[idx].0)
                        } else {
                            old.mtime_ns == m.mtime_ns && old.size == m.size
                        }
                });
            if let Some(idx) = by_ino {
                claimed[idx] = true;
                ids[iu] = existing.recs[idx].0;
                moved.push((i, idx));
                continue;
            }
            new_nodes.push(i);
        }
        // Absence is never deletion when the listing that would show it failed: what the
        // index knew below a folder that could not be listed (or not to the end) is kept with
        // its ids and UUIDs, unless it was found elsewhere (moved).
        let unreadable: rustc_hash::FxHashSet<u64> = tree
            .incomplete()
            .map(|i| ids[i as usize])
            .filter(|&id| id != 0)
            .collect();
        let below_unreadable = |mut idx: usize| {
            // Walk up the stored parents; bounded by the depth of the stored tree.
            loop {
                let parent = existing.recs[idx].1.parent;
                if unreadable.contains(&parent) {
                    return true;
                }
                match existing.by_id.get(&parent) {
                    Some(&p) if parent != 0 => idx = p,
                    _ => return false,
                }
            }
        };
        let (kept, deleted): (Vec<usize>, Vec<usize>) = (0..existing.recs.len())
            .filter(|&i| !claimed[i])
            .partition(|&i| !unreadable.is_empty() && below_unreadable(i));
        Plan {
            scope: existing.scope_root.map(|ri| existing.recs[ri].0),
            ids,
            new_nodes,
            modified,
            moved,
            deleted,
            kept,
            root_parent,
            root_name,
        }
    }
}

/// True if folder node `i` of the walk holds a child of the same name, kind and inode as one
/// the stored folder `id` held: the evidence, beside its inode, that it is that folder moved.
pub(super) fn shares_a_child(tree: &Tree, i: u32, existing: &Existing, id: u64) -> bool {
    let node = tree.node(i);
    // The same name, kind and inode: a common name alone (README.md, .DS_Store) is no evidence.
    (node.first_child..node.first_child + node.child_count).any(|c| {
        existing.child(id, tree.name(c)).is_some_and(|idx| {
            let old = &existing.recs[idx].1;
            same_kind(old.kind, tree.node(c).kind) && old.inode == tree.meta(c).inode
        })
    })
}

pub(super) fn same_kind(a: EntryKind, b: EntryKind) -> bool {
    (a == EntryKind::Dir) == (b == EntryKind::Dir)
}

pub(super) fn changed(rec: &EntryRecord, m: Meta) -> bool {
    rec.size != m.size || rec.mtime_ns != m.mtime_ns || rec.inode != m.inode || rec.dev != m.dev
}

/// The record of tree node `n` as a new entry of `location` under `parent` named `name` (a
/// location root's name is its full path), first seen at `now` (ms): a fresh version-7 UUID,
/// no content yet, its kind of content guessed from the extension.
pub(super) fn new_entry(
    tree: &Tree,
    n: u32,
    location: u32,
    parent: u64,
    name: Vec<u8>,
    registry: &Registry,
    now: i64,
) -> EntryRecord {
    let node = tree.node(n);
    let m = tree.meta(n);
    let content_kind = kind_by_extension(registry, &name, node.kind);
    EntryRecord {
        uuid: Uuid::now_v7(),
        location,
        parent,
        name,
        kind: node.kind,
        size: m.size,
        mtime_ns: m.mtime_ns,
        inode: m.inode,
        dev: m.dev,
        cas: None,
        content_kind,
        first_seen_ms: now,
        updated_seq: 0,
    }
}

pub(super) fn kind_by_extension(registry: &Registry, name: &[u8], kind: EntryKind) -> ContentKind {
    if kind != EntryKind::File {
        return ContentKind::Unknown;
    }
    registry
        .identify(name, None)
        .and_then(|i| registry.get(i.type_index))
        .map_or(ContentKind::Unknown, |t| t.kind)
}

/// An in-place change of one stored entry.
#[derive(Clone)]
pub(super) struct Update {
    pub(super) id: u64,
    pub(super) parent: u64,
    pub(super) name: Option<Vec<u8>>,
    pub(super) kind: EntryKind,
    pub(super) meta: Meta,
    pub(super) content_changed: bool,
    pub(super) moved: bool,
}

impl Update {
    pub(super) fn from_node(
        tree: &Tree,
        ids: &[u64],
        n: u32,
        old: &(u64, EntryRecord),
        plan: &Plan,
        moved: bool,
    ) -> Update {
        let node = tree.node(n);
        let meta = tree.meta(n);
        let parent = if node.parent == NONE {
            plan.root_parent
        } else {
            ids[node.parent as usize]
        };
        let name = if n == 0 {
            plan.root_name.clone()
        } else {
            tree.name(n).to_vec()
        };
        Update {
            id: old.0,
            parent,
            name: (name != old.1.name).then_some(name),
            kind: node.kind,
            meta,
            content_changed: old.1.size != meta.size
                || old.1.mtime_ns != meta.mtime_ns
                || old.1.kind != node.kind,
            moved,
        }
    }

    pub(super) fn apply(&self, w: &mut IndexWriter) -> Result<(), StoreError> {
        w.update(self.id, |rec| {
            rec.parent = self.parent;
            if let Some(n) = &self.name {
                rec.name.clone_from(n);
                if rec.kind == EntryKind::File && rec.cas.is_none() {
                    rec.content_kind = kind_by_extension(Registry::active(), n, rec.kind);
                }
            }
            rec.kind = self.kind;
            rec.size = self.meta.size;
            rec.mtime_ns = self.meta.mtime_ns;
            rec.inode = self.meta.inode;
            rec.dev = self.meta.dev;
            if self.content_changed {
                rec.cas = None;
            }
        })?;
        Ok(())
    }
}

/// Deletes entries (each alone: a folder's entries are in the list too) with their name keys,
/// aggregates and content links, through the one write path; `tombstones` leaves one per entry
/// for peers (not when a whole location goes: its own tombstone says it).
pub(super) fn delete_entries(
    tx: &WriteTransaction,
    gone: &[u64],
    tombstones: bool,
) -> Result<(), StoreError> {
    let mut w = IndexWriter::begin(tx)?;
    w.set_tombstones(tombstones);
    for &id in gone {
        w.delete(id)?;
    }
    Ok(())
}

/// Deletes every entry of a location and what hangs off them, in batches.
///
/// # Errors
/// [`StoreError`].
pub fn forget_location(store: &Store, location: u32) -> Result<u64, StoreError> {
    let existing = Existing::load(store, location)?;
    // Deepest first, so a kill between batches leaves no entry whose folder is gone.
    let mut gone: Vec<(usize, u64)> = existing
        .recs
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (existing.depth(i), *id))
        .collect();
    gone.sort_unstable_by(|a, b| b.cmp(a));
    let gone: Vec<u64> = gone.into_iter().map(|(_, id)| id).collect();
    let n = gone.len() as u64;
    for chunk in gone.chunks(WRITE_BATCH) {
        let chunk = chunk.to_vec();
        store.write(move |tx| delete_entries(tx, &chunk, false))?;
    }
    Ok(n)
}
