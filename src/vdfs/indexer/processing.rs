//! Phase 2, processing: the walk is compared with the stored entries (same path → same entry,
//! updated in place if changed; moved by inode and device; the rest new or deleted) into a
//! [`Plan`], which is written in batches, each one transaction with the job's checkpoint; and
//! the deletion of a whole location's entries.

use super::discovery::Existing;
use super::*;

impl IndexerJob {
    /// Writes the plan in batches, each with a checkpoint.
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
        let base = if needed > 0 {
            ctx.store().write(move |tx| {
                let mut meta = tx.open_table(META)?;
                let next: u64 = match meta.get(META_NEXT_ENTRY_ID)? {
                    Some(v) => decode("meta", v.value())?,
                    None => 1,
                };
                meta.insert(META_NEXT_ENTRY_ID, encode(&(next + needed)).as_slice())?;
                Ok(next)
            })?
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

        // New entries, in node order (parents first), in batches; each batch is prepared while
        // the previous one commits.
        let mut pending = None;
        for chunk in plan.new_nodes.chunks(WRITE_BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            let mut links = Vec::with_capacity(chunk.len());
            let mut closure = Vec::new();
            for &n in chunk {
                let id = ids[n as usize];
                let node = tree.node(n);
                let name = if n == 0 {
                    loc.path.clone()
                } else {
                    tree.name(n).to_vec()
                };
                let parent = if node.parent == NONE {
                    0
                } else {
                    ids[node.parent as usize]
                };
                let m = tree.meta(n);
                let content_kind = kind_by_extension(registry, &name, node.kind);
                entries.push((
                    id,
                    encode(&EntryRecord {
                        uuid: Uuid::now_v7(),
                        location: loc.id,
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
                    }),
                ));
                if parent != 0 {
                    links.push((parent, id));
                }
                if node.kind == EntryKind::Dir {
                    for (a, depth) in ancestors_in_tree(tree, &ids, n) {
                        closure.push(((a, id), depth));
                    }
                }
            }
            links.sort_unstable();
            closure.sort_unstable();
            self.counts.created += chunk.len() as u64;
            done_ops += chunk.len() as u64;
            self.write_progress(ctx, done_ops, total_ops);
            if let Some(p) = pending.take() {
                ctx.checkpoint_wait(p)?;
            }
            pending = Some(ctx.checkpoint_submit(self, move |tx| {
                note_index_changed(tx)?;
                let mut t = tx.open_table(ENTRIES)?;
                for (id, bytes) in &entries {
                    t.insert(id, bytes.as_slice())?;
                }
                let mut c = tx.open_table(CHILDREN)?;
                for k in &links {
                    c.insert(k, ())?;
                }
                let mut cl = tx.open_table(DIR_CLOSURE)?;
                for (k, d) in &closure {
                    cl.insert(k, d)?;
                }
                Ok(())
            }));
        }
        if let Some(p) = pending.take() {
            ctx.checkpoint_wait(p)?;
        }

        // Modified and moved entries.
        let mut updates: Vec<Update> = Vec::new();
        for &(n, idx) in &plan.modified {
            updates.push(Update::from_node(
                tree,
                &ids,
                n,
                &existing.recs[idx],
                loc,
                false,
            ));
        }
        let mut moved_dirs = Vec::new();
        for &(n, idx) in &plan.moved {
            let old = &existing.recs[idx];
            updates.push(Update::from_node(tree, &ids, n, old, loc, true));
            if old.1.kind == EntryKind::Dir {
                moved_dirs.push(n);
            }
        }
        // Closure rows of every folder below a moved folder: old chains out, new chains in.
        let mut closure_del = Vec::new();
        let mut closure_add = Vec::new();
        let mut affected = HashSet::new();
        for &d in &moved_dirs {
            let mut stack = vec![d];
            while let Some(x) = stack.pop() {
                if tree.node(x).kind != EntryKind::Dir || !affected.insert(x) {
                    continue;
                }
                let xid = ids[x as usize];
                if let Some(&idx) = existing.by_id.get(&xid) {
                    for (a, _) in existing.ancestors(idx) {
                        closure_del.push((a, xid));
                    }
                }
                for (a, depth) in ancestors_in_tree(tree, &ids, x) {
                    closure_add.push(((a, xid), depth));
                }
                stack.extend(tree.children(x));
            }
        }
        for chunk in updates.chunks(WRITE_BATCH) {
            let chunk = chunk.to_vec();
            let n = chunk.len() as u64;
            self.counts.modified += chunk.iter().filter(|u| !u.moved).count() as u64;
            self.counts.moved += chunk.iter().filter(|u| u.moved).count() as u64;
            done_ops += n;
            self.write_progress(ctx, done_ops, total_ops);
            ctx.checkpoint(self, move |tx| {
                note_index_changed(tx)?;
                for u in &chunk {
                    u.apply(tx)?;
                }
                Ok(())
            })?;
        }
        if !closure_del.is_empty() || !closure_add.is_empty() {
            ctx.checkpoint(self, move |tx| {
                let mut cl = tx.open_table(DIR_CLOSURE)?;
                for k in &closure_del {
                    cl.remove(k)?;
                }
                for (k, d) in &closure_add {
                    cl.insert(k, d)?;
                }
                Ok(())
            })?;
        }

        // Deleted entries.
        for chunk in plan.deleted.chunks(WRITE_BATCH) {
            let gone: Vec<Gone> = chunk.iter().map(|&idx| existing.gone(idx)).collect();
            self.counts.deleted += chunk.len() as u64;
            done_ops += chunk.len() as u64;
            self.write_progress(ctx, done_ops, total_ops);
            ctx.checkpoint(self, move |tx| delete_entries(tx, &gone))?;
        }

        // Aggregation.
        let mut changed: Vec<(u64, DirStats)> = dir_stats
            .into_iter()
            .map(|(n, s)| (ids[n as usize], s))
            .filter(|(id, s)| existing.dir_stats.get(id) != Some(s))
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
            ctx.checkpoint(self, move |tx| {
                let mut ds = tx.open_table(DIR_STATS)?;
                for (id, s) in &chunk {
                    ds.insert(id, encode(s).as_slice())?;
                }
                Ok(())
            })?;
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
            ctx.checkpoint(self, move |tx| {
                let mut t = tx.open_table(UNREADABLE)?;
                for id in &listed_again {
                    t.remove(id)?;
                }
                for id in &unreadable {
                    if t.get(id)?.is_none() {
                        t.insert(id, encode(&now).as_slice())?;
                    }
                }
                Ok(())
            })?;
        }
        let root_id = ids[0];
        location::update(ctx.store(), loc.id, move |l| l.root_entry = Some(root_id))?;
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
}

impl Plan {
    pub(super) fn make(tree: &Tree, existing: &Existing, loc: &LocationRecord) -> Plan {
        let n = tree.len() as usize;
        let mut ids = vec![0u64; n];
        let mut matched: Vec<Option<usize>> = vec![None; n];
        let mut claimed = vec![false; existing.recs.len()];
        let root_idx = existing
            .recs
            .iter()
            .position(|(_, r)| r.parent == 0 && r.name == loc.path);
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
                0
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
            ids,
            new_nodes,
            modified,
            moved,
            deleted,
            kept,
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
    pub(super) old_parent: u64,
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
        loc: &LocationRecord,
        moved: bool,
    ) -> Update {
        let node = tree.node(n);
        let meta = tree.meta(n);
        let parent = if node.parent == NONE {
            0
        } else {
            ids[node.parent as usize]
        };
        let name = if n == 0 {
            loc.path.clone()
        } else {
            tree.name(n).to_vec()
        };
        Update {
            id: old.0,
            old_parent: old.1.parent,
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

    pub(super) fn apply(&self, tx: &WriteTransaction) -> Result<(), StoreError> {
        let mut t = tx.open_table(ENTRIES)?;
        let Some(v) = t.get(self.id)? else {
            return Ok(());
        };
        let mut rec: EntryRecord = decode("entries", v.value())?;
        drop(v);
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
        let old_cas = if self.content_changed {
            rec.cas.take()
        } else {
            None
        };
        t.insert(self.id, encode(&rec).as_slice())?;
        drop(t);
        if self.parent != self.old_parent {
            let mut c = tx.open_table(CHILDREN)?;
            c.remove((self.old_parent, self.id))?;
            if self.parent != 0 {
                c.insert((self.parent, self.id), ())?;
            }
        }
        if let Some(cas) = old_cas {
            unlink_content(tx, cas, self.id)?;
        }
        Ok(())
    }
}

/// An entry to delete: id, parent, kind, content, and for a folder its ancestors (itself
/// included) whose closure rows go with it.
pub(super) type Gone = (u64, u64, EntryKind, Option<CasId>, Vec<u64>);

impl Existing {
    /// What deleting stored entry `idx` must remove.
    pub(super) fn gone(&self, idx: usize) -> Gone {
        let (id, rec) = &self.recs[idx];
        let chain = if rec.kind == EntryKind::Dir {
            self.ancestors(idx).map(|(a, _)| a).collect()
        } else {
            Vec::new()
        };
        (*id, rec.parent, rec.kind, rec.cas, chain)
    }
}

/// Deletes entries with their hierarchy rows, aggregates and content links.
pub(super) fn delete_entries(tx: &WriteTransaction, gone: &[Gone]) -> Result<(), StoreError> {
    note_index_changed(tx)?;
    let mut t = tx.open_table(ENTRIES)?;
    let mut c = tx.open_table(CHILDREN)?;
    let mut cl = tx.open_table(DIR_CLOSURE)?;
    let mut ds = tx.open_table(DIR_STATS)?;
    let mut un = tx.open_table(UNREADABLE)?;
    for (id, parent, kind, cas, chain) in gone {
        t.remove(id)?;
        c.remove((*parent, *id))?;
        if *kind == EntryKind::Dir {
            for a in chain {
                cl.remove((*a, *id))?;
            }
            ds.remove(id)?;
            un.remove(id)?;
        }
        if let Some(cas) = cas {
            unlink_content(tx, *cas, *id)?;
        }
    }
    Ok(())
}

/// Removes entry `id` from the instances of `cas`, deleting the identity when none is left.
pub(super) fn unlink_content(tx: &WriteTransaction, cas: CasId, id: u64) -> Result<(), StoreError> {
    let mut inst = tx.open_table(CONTENT_INSTANCES)?;
    if inst.remove((cas.0, id))?.is_none() {
        return Ok(());
    }
    let mut c = tx.open_table(CONTENT)?;
    let rec: Option<ContentRecord> = c
        .get(cas.0)?
        .map(|v| decode("content", v.value()))
        .transpose()?;
    if let Some(mut rec) = rec {
        rec.instances = rec.instances.saturating_sub(1);
        if rec.instances == 0 {
            c.remove(cas.0)?;
        } else {
            c.insert(cas.0, encode(&rec).as_slice())?;
        }
    }
    Ok(())
}

/// Deletes every entry of a location and what hangs off them, in batches.
///
/// # Errors
/// [`StoreError`].
pub fn forget_location(store: &Store, location: u32) -> Result<u64, StoreError> {
    let existing = Existing::load(store, location)?;
    let gone: Vec<Gone> = (0..existing.recs.len())
        .map(|idx| existing.gone(idx))
        .collect();
    let n = gone.len() as u64;
    for chunk in gone.chunks(WRITE_BATCH) {
        let chunk = chunk.to_vec();
        store.write(move |tx| delete_entries(tx, &chunk))?;
    }
    Ok(n)
}
