//! The persistent indexer: a durable job in five phases.
//!
//! 1. **Discovery** — the parallel walk ([`crate::vdfs::fs::walk`]) of the location root, rules applied
//!    at the edge.
//! 2. **Processing** — the walk is compared with the stored entries of the location:
//!    an entry at the same path keeps its id and UUID (updated in place if its size or mtime
//!    changed); an entry whose old path is gone and whose inode and device reappear at a new
//!    path with the same mtime (and, for a file, size) was moved or renamed (id, UUID and
//!    everything attached kept; a folder's whole subtree follows it) — a new file that only
//!    reuses a deleted file's inode number is not a move; what is left was deleted. A hard link (same inode, old path still
//!    there) is a new entry, not a move. Changes are written in batches, each one store
//!    transaction together with the job's checkpoint; the closure relations over folders are
//!    kept in the same transactions.
//! 3. **Aggregation** — every folder's total bytes, files and folders, bottom-up.
//! 4. **Content identification** (Content and Deep modes) — sampled BLAKE3 `cas_id` and file
//!    type from the bytes, on all cores, linked to content identities whose instance counts stay
//!    exact.
//! 5. **Finalizing** — the location is stamped with its stats.
//!
//! Resuming after a crash re-runs the scan (phases 1–3), which is idempotent: what earlier
//! batches committed is found unchanged and not written again; content identification resumes
//! with the files that still lack a `cas_id`. A location whose drive is not mounted is never
//! scanned, so its entries are never deleted for being absent.

pub mod integrity;

use std::collections::HashSet;

use rustc_hash::FxHashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::schema::{
    CHILDREN, CONTENT, CONTENT_INSTANCES, DIR_CLOSURE, DIR_STATS, ENTRIES, META, META_NEXT_ENTRY_ID,
};
use crate::store::{Store, StoreError, decode, encode};
use crate::vdfs::content::filetype::{ContentKind, Registry};
use crate::vdfs::content::{CasId, sample_file_with};
use crate::vdfs::fs::entry::{EntryKind, Meta};
use crate::vdfs::fs::rules::Compiled;
use crate::vdfs::fs::walk::{NONE, Tree, WalkCounters, WalkOptions, walk};
use crate::vdfs::index::location::{self, Availability, IndexMode, LocationRecord, LocationStats};
use crate::vdfs::index::note_index_changed;
use crate::vdfs::index::{ContentRecord, DirStats, EntryRecord};
use crate::vdfs::jobs::{Job, JobContext, JobError, JobPathError, JobProgress, now_ms};

/// Entries written per transaction (and checkpoint) while processing.
const WRITE_BATCH: usize = 20_000;
/// Files hashed per transaction (and checkpoint) during content identification.
const HASH_BATCH: usize = 10_000;

/// Where an indexing run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    /// Walking, comparing and writing (re-run whole on resume; idempotent).
    Scan,
    /// Hashing files that lack a content identity.
    Content,
    /// Stamping the location.
    Finalizing,
}

/// Counts of what a run changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanCounts {
    /// Entries seen on disk.
    pub seen: u64,
    /// New entries.
    pub created: u64,
    /// Entries whose size or mtime changed.
    pub modified: u64,
    /// Entries moved or renamed.
    pub moved: u64,
    /// Entries gone.
    pub deleted: u64,
    /// Files given a content identity.
    pub identified: u64,
    /// Per-path errors.
    pub errors: u64,
}

/// The indexing job of one location.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexerJob {
    /// The location.
    pub location: u32,
    /// Its root, for the title.
    pub path: String,
    /// Where the run is.
    pub phase: Phase,
    /// What it changed so far.
    pub counts: ScanCounts,
}

impl IndexerJob {
    /// A new run for `loc`.
    pub fn new(loc: &LocationRecord) -> IndexerJob {
        IndexerJob {
            location: loc.id,
            path: loc.path().display().to_string(),
            phase: Phase::Scan,
            counts: ScanCounts::default(),
        }
    }
}

impl Job for IndexerJob {
    const KIND: &'static str = "indexer";

    fn title(&self) -> String {
        format!("Index {}", self.path)
    }

    fn run(&mut self, ctx: &mut JobContext) -> Result<String, JobError> {
        let loc = location::get(ctx.store(), self.location)
            .map_err(|e| JobError::Failed(e.to_string()))?;
        let id = ctx.id();
        location::update(ctx.store(), loc.id, move |l| {
            l.job = Some(id);
            l.error = None;
        })?;
        let result = self.run_phases(ctx, &loc);
        if let Err(JobError::Failed(msg)) = &result {
            let msg = msg.clone();
            location::update(ctx.store(), loc.id, move |l| l.error = Some(msg.clone()))?;
        }
        result
    }
}

impl IndexerJob {
    fn run_phases(
        &mut self,
        ctx: &mut JobContext,
        loc: &LocationRecord,
    ) -> Result<String, JobError> {
        let started = Instant::now();
        if self.phase == Phase::Scan {
            match loc.availability() {
                Availability::Online => {}
                Availability::Offline(why) => {
                    return Err(JobError::Failed(format!(
                        "location is offline ({why}); its entries are kept"
                    )));
                }
                Availability::Missing(why) => {
                    return Err(JobError::Failed(format!(
                        "{why}; its entries are kept until you remove the location"
                    )));
                }
            }
            let t = Instant::now();
            let stats = self.scan(ctx, loc)?;
            tracing::debug!("scanned in {:?}", t.elapsed());
            let s = stats.clone();
            location::update(ctx.store(), loc.id, move |l| l.stats = s.clone())?;
            self.phase = if loc.mode >= IndexMode::Content {
                Phase::Content
            } else {
                Phase::Finalizing
            };
            ctx.checkpoint(self, |_| Ok(()))?;
        }
        if self.phase == Phase::Content {
            let t = Instant::now();
            self.identify(ctx, loc)?;
            tracing::debug!("content identified in {:?}", t.elapsed());
            self.phase = Phase::Finalizing;
            ctx.checkpoint(self, |_| Ok(()))?;
        }
        if loc.mode == IndexMode::Deep {
            let sidecars = ctx
                .library_dir()
                .join(crate::vdfs::home::libraries::SIDECARS_DIR);
            ctx.queue(crate::vdfs::sidecars::thumbnail::ThumbnailJob::new(
                loc.id, sidecars,
            ));
        }
        let errors = self.counts.errors;
        let rec = location::update(ctx.store(), loc.id, move |l| {
            l.indexed_ms = Some(now_ms());
            l.stats.errors = errors;
        })?;
        let c = &self.counts;
        let mut summary = format!(
            "{} files, {} folders, {}; {} new, {} modified, {} moved, {} deleted",
            rec.stats.files,
            rec.stats.dirs,
            crate::format::bytes(rec.stats.bytes),
            c.created,
            c.modified,
            c.moved,
            c.deleted
        );
        if loc.mode >= IndexMode::Content {
            summary.push_str(&format!(", {} identified", c.identified));
        }
        if let Some(s) = rec.stats.skipped.summary() {
            summary.push_str(&format!("; {s}"));
        }
        tracing::info!(
            location = loc.id,
            "indexed in {:?}: {summary}",
            started.elapsed()
        );
        Ok(summary)
    }

    /// Phases 1–3. Returns the location's new stats.
    fn scan(
        &mut self,
        ctx: &mut JobContext,
        loc: &LocationRecord,
    ) -> Result<LocationStats, JobError> {
        let rules = Compiled::new(&loc.rules).map_err(JobError::Failed)?;
        let counters = Arc::new(WalkCounters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let opts = WalkOptions {
            rules: Arc::new(rules),
            stat: true,
            threads: 0,
            max_depth: None,
            stop: Some(stop.clone()),
            counters: Some(counters.clone()),
        };
        let root = loc.path();
        let store = ctx.store().clone();
        let loc_id = loc.id;
        // Discovery, and loading what the index holds, side by side.
        let (tree, existing) = std::thread::scope(|s| {
            let walker = s.spawn(|| walk(&root, &opts));
            let loader = s.spawn(|| Existing::load(&store, loc_id));
            let mut interrupted = None;
            while !walker.is_finished() {
                std::thread::sleep(Duration::from_millis(50));
                ctx.progress(JobProgress {
                    phase: "discovery".into(),
                    completed: counters.entries.load(Ordering::Relaxed),
                    total: None,
                    bytes: counters.bytes.load(Ordering::Relaxed),
                    message: String::new(),
                });
                if let Err(e) = ctx.check_interrupt() {
                    stop.store(true, Ordering::Relaxed);
                    interrupted = Some(e);
                }
            }
            let tree = walker.join().expect("walker thread");
            let existing = loader.join().expect("loader thread");
            match interrupted {
                Some(e) => Err(e),
                None => Ok((tree, existing)),
            }
        })?;
        let tree = tree.map_err(|e| JobError::Failed(e.to_string()))?;
        let existing = existing?;
        tracing::debug!(
            entries = tree.len(),
            stored = existing.recs.len(),
            "discovery done"
        );
        for e in &tree.errors {
            ctx.record_error(JobPathError::new(&e.path, e.message.clone()));
        }
        self.counts.errors += tree.errors.len() as u64;
        self.counts.seen = u64::from(tree.len());

        let t = Instant::now();
        let plan = Plan::make(&tree, &existing, loc);
        let dir_stats = plan.dir_stats(&tree);
        // The location's totals are its root's aggregate, plus the root folder itself.
        let root = dir_stats
            .first()
            .filter(|(node, _)| *node == 0)
            .map(|(_, s)| *s)
            .unwrap_or_default();
        tracing::debug!(
            new = plan.new_nodes.len(),
            modified = plan.modified.len(),
            moved = plan.moved.len(),
            deleted = plan.deleted.len(),
            "compared in {:?}",
            t.elapsed()
        );
        let t = Instant::now();
        self.apply(ctx, &tree, &existing, &plan, dir_stats, loc)?;
        tracing::debug!("written in {:?}", t.elapsed());
        Ok(LocationStats {
            files: root.files,
            dirs: root.dirs + 1,
            bytes: root.bytes,
            skipped: tree.skipped.clone(),
            errors: tree.errors.len() as u64,
        })
    }

    /// Writes the plan in batches, each with a checkpoint.
    fn apply(
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
        let root_id = ids[0];
        location::update(ctx.store(), loc.id, move |l| l.root_entry = Some(root_id))?;
        Ok(())
    }

    fn write_progress(&self, ctx: &mut JobContext, done: u64, total: u64) {
        ctx.set_progress(JobProgress {
            phase: "processing".into(),
            completed: done,
            total: Some(total),
            bytes: 0,
            message: String::new(),
        });
    }

    /// Phase 4: content identification of the location's files that lack a cas_id.
    fn identify(&mut self, ctx: &mut JobContext, loc: &LocationRecord) -> Result<(), JobError> {
        let todo = pending_files(ctx.store(), loc.id)?;
        let total = todo.len() as u64;
        let registry = Registry::active();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        // Hashers run ahead while the job thread commits batches: reading and hashing overlap
        // with the store writes.
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<(usize, std::io::Result<Hashed>)>(2 * HASH_BATCH);
        std::thread::scope(|s| {
            for _ in 0..threads {
                let tx = tx.clone();
                let (todo, next, stop) = (&todo, &next, &stop);
                s.spawn(move || {
                    let mut buf = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = todo.get(i) else { break };
                        let r = sample_file_with(&item.path, &mut buf).map(|s| Hashed {
                            cas: s.cas_id,
                            size: s.size,
                            type_index: registry
                                .identify(&item.name, Some(&s.head))
                                .map(|i| i.type_index),
                        });
                        if tx.send((i, r)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let result = self.collect_links(ctx, &todo, &rx, registry, total);
            stop.store(true, Ordering::Relaxed);
            drop(rx);
            result
        })
    }

    /// Turns hash results into content links and commits them in batches.
    fn collect_links(
        &mut self,
        ctx: &mut JobContext,
        todo: &[Pending],
        rx: &std::sync::mpsc::Receiver<(usize, std::io::Result<Hashed>)>,
        registry: &Registry,
        total: u64,
    ) -> Result<(), JobError> {
        let mut done = 0u64;
        let mut bytes = 0u64;
        let mut links = Vec::with_capacity(HASH_BATCH);
        let mut received = 0usize;
        loop {
            let next = rx.recv();
            let finished = next.is_err();
            if let Ok((i, r)) = next {
                received += 1;
                if received.is_multiple_of(256) {
                    // Hashing progress is live (throttled); what is committed is saved with
                    // each checkpoint.
                    ctx.progress(JobProgress {
                        phase: "content identification".into(),
                        completed: done,
                        total: Some(total),
                        bytes,
                        message: String::new(),
                    });
                }
                let item = &todo[i];
                done += 1;
                match r {
                    Ok(s) if s.size == item.size => {
                        bytes += s.size;
                        if let Some(cas) = s.cas {
                            let ft = s.type_index.and_then(|i| registry.get(i));
                            links.push(Link {
                                id: item.id,
                                cas,
                                size: s.size,
                                kind: ft.map_or(ContentKind::Unknown, |t| t.kind),
                                file_type: ft.map(|t| t.id.clone()),
                                mime: ft.map(|t| t.mime().to_owned()),
                            });
                        }
                    }
                    Ok(_) => ctx.record_error(JobPathError::new(
                        &item.path,
                        "changed while being identified; it is identified on the next scan",
                    )),
                    Err(e) => {
                        self.counts.errors += 1;
                        ctx.record_error(JobPathError::new(
                            &item.path,
                            format!("cannot identify its content: {e}"),
                        ));
                    }
                }
            }
            if links.len() >= HASH_BATCH || (finished && (!links.is_empty() || done > 0)) {
                let mut batch = std::mem::take(&mut links);
                batch.sort_unstable_by_key(|l| (l.cas, l.id));
                self.counts.identified += batch.len() as u64;
                ctx.set_progress(JobProgress {
                    phase: "content identification".into(),
                    completed: done,
                    total: Some(total),
                    bytes,
                    message: String::new(),
                });
                let now = now_ms();
                ctx.checkpoint(self, move |tx| {
                    note_index_changed(tx)?;
                    for l in &batch {
                        link_content(tx, l, now)?;
                    }
                    Ok(())
                })?;
            }
            if finished {
                debug_assert_eq!(received, todo.len());
                return Ok(());
            }
        }
    }
}

/// The stored entries of one location, for comparison with a walk.
struct Existing {
    recs: Vec<(u64, EntryRecord)>,
    by_id: FxHashMap<u64, usize>,
    /// `(parent id, hash of name)` → index; names are compared on lookup.
    by_path: FxHashMap<(u64, u64), usize>,
    /// Indexes whose `(parent, name hash)` was taken by another name (hash collisions).
    collided: Vec<usize>,
    dir_stats: FxHashMap<u64, DirStats>,
}

fn name_hash(name: &[u8]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(name);
    h.finish()
}

impl Existing {
    fn load(store: &Store, location: u32) -> Result<Existing, StoreError> {
        store.read(|tx| {
            let mut recs = Vec::new();
            crate::vdfs::index::each_entry(tx, |id, rec| {
                if rec.location == location {
                    recs.push((id, rec));
                }
                Ok(())
            })?;
            let by_id = recs
                .iter()
                .enumerate()
                .map(|(i, (id, _))| (*id, i))
                .collect();
            let mut by_path =
                FxHashMap::with_capacity_and_hasher(recs.len(), rustc_hash::FxBuildHasher);
            let mut collided = Vec::new();
            for (i, (_, r)) in recs.iter().enumerate() {
                if r.parent != 0
                    && let Some(old) = by_path.insert((r.parent, name_hash(&r.name)), i)
                {
                    collided.push(old);
                }
            }
            let mut dir_stats = FxHashMap::default();
            let ds = tx.open_table(DIR_STATS)?;
            for (id, r) in &recs {
                if r.kind == EntryKind::Dir
                    && let Some(v) = ds.get(id)?
                {
                    dir_stats.insert(*id, decode("dir_stats", v.value())?);
                }
            }
            Ok(Existing {
                recs,
                by_id,
                by_path,
                collided,
                dir_stats,
            })
        })
    }

    /// The stored child `name` of `parent`, if any.
    fn child(&self, parent: u64, name: &[u8]) -> Option<usize> {
        let hit = self.by_path.get(&(parent, name_hash(name))).copied();
        if let Some(i) = hit
            && self.recs[i].1.name == name
            && self.recs[i].1.parent == parent
        {
            return Some(i);
        }
        if hit.is_none() || self.collided.is_empty() {
            return None;
        }
        self.collided
            .iter()
            .copied()
            .find(|&i| self.recs[i].1.parent == parent && self.recs[i].1.name == name)
    }

    /// `(ancestor id, depth)` of stored entry `idx`, itself first (depth 0).
    fn ancestors(&self, idx: usize) -> impl Iterator<Item = (u64, u32)> + '_ {
        let mut cur = Some(idx);
        let mut depth = 0;
        std::iter::from_fn(move || {
            let i = cur?;
            let (id, rec) = &self.recs[i];
            cur = if rec.parent == 0 {
                None
            } else {
                self.by_id.get(&rec.parent).copied()
            };
            depth += 1;
            Some((*id, depth - 1))
        })
    }
}

/// `(ancestor id, depth)` of tree node `n` (a folder), itself first (depth 0).
fn ancestors_in_tree(tree: &Tree, ids: &[u64], n: u32) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    let mut cur = n;
    let mut depth = 0;
    loop {
        out.push((ids[cur as usize], depth));
        let p = tree.node(cur).parent;
        if p == NONE {
            return out;
        }
        cur = p;
        depth += 1;
    }
}

/// What a scan will change.
struct Plan {
    /// Entry id per tree node (0 until assigned for new nodes).
    ids: Vec<u64>,
    /// Tree nodes that are new, in node order.
    new_nodes: Vec<u32>,
    /// `(node, existing index)` changed in place.
    modified: Vec<(u32, usize)>,
    /// `(node, existing index)` moved or renamed (maybe also changed).
    moved: Vec<(u32, usize)>,
    /// Existing indexes gone from disk.
    deleted: Vec<usize>,
}

impl Plan {
    fn make(tree: &Tree, existing: &Existing, loc: &LocationRecord) -> Plan {
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
                    // A moved entry keeps its mtime (and a file its size): a new file that
                    // merely reuses a deleted file's inode number is not that file.
                    let old = &existing.recs[idx].1;
                    !claimed[idx]
                        && same_kind(old.kind, node.kind)
                        && old.mtime_ns == m.mtime_ns
                        && (node.kind == EntryKind::Dir || old.size == m.size)
                });
            if let Some(idx) = by_ino {
                claimed[idx] = true;
                ids[iu] = existing.recs[idx].0;
                moved.push((i, idx));
                continue;
            }
            new_nodes.push(i);
        }
        let deleted = (0..existing.recs.len()).filter(|&i| !claimed[i]).collect();
        Plan {
            ids,
            new_nodes,
            modified,
            moved,
            deleted,
        }
    }

    /// Aggregates of every folder node, bottom-up.
    fn dir_stats(&self, tree: &Tree) -> Vec<(u32, DirStats)> {
        let n = tree.len() as usize;
        let mut acc = vec![DirStats::default(); n];
        for i in (1..n as u32).rev() {
            let node = tree.node(i);
            let own = acc[i as usize];
            let p = &mut acc[node.parent as usize];
            p.bytes += own.bytes;
            p.files += own.files;
            p.dirs += own.dirs;
            if node.kind == EntryKind::Dir {
                p.dirs += 1;
            } else {
                p.files += 1;
                if node.kind == EntryKind::File {
                    p.bytes += node.size;
                }
            }
        }
        (0..n as u32)
            .filter(|&i| tree.node(i).kind == EntryKind::Dir)
            .map(|i| (i, acc[i as usize]))
            .collect()
    }
}

fn same_kind(a: EntryKind, b: EntryKind) -> bool {
    (a == EntryKind::Dir) == (b == EntryKind::Dir)
}

fn changed(rec: &EntryRecord, m: Meta) -> bool {
    rec.size != m.size || rec.mtime_ns != m.mtime_ns || rec.inode != m.inode || rec.dev != m.dev
}

fn kind_by_extension(registry: &Registry, name: &[u8], kind: EntryKind) -> ContentKind {
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
struct Update {
    id: u64,
    old_parent: u64,
    parent: u64,
    name: Option<Vec<u8>>,
    kind: EntryKind,
    meta: Meta,
    content_changed: bool,
    moved: bool,
}

impl Update {
    fn from_node(
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

    fn apply(&self, tx: &WriteTransaction) -> Result<(), StoreError> {
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
type Gone = (u64, u64, EntryKind, Option<CasId>, Vec<u64>);

impl Existing {
    /// What deleting stored entry `idx` must remove.
    fn gone(&self, idx: usize) -> Gone {
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
fn delete_entries(tx: &WriteTransaction, gone: &[Gone]) -> Result<(), StoreError> {
    note_index_changed(tx)?;
    let mut t = tx.open_table(ENTRIES)?;
    let mut c = tx.open_table(CHILDREN)?;
    let mut cl = tx.open_table(DIR_CLOSURE)?;
    let mut ds = tx.open_table(DIR_STATS)?;
    for (id, parent, kind, cas, chain) in gone {
        t.remove(id)?;
        c.remove((*parent, *id))?;
        if *kind == EntryKind::Dir {
            for a in chain {
                cl.remove((*a, *id))?;
            }
            ds.remove(id)?;
        }
        if let Some(cas) = cas {
            unlink_content(tx, *cas, *id)?;
        }
    }
    Ok(())
}

/// Removes entry `id` from the instances of `cas`, deleting the identity when none is left.
fn unlink_content(tx: &WriteTransaction, cas: CasId, id: u64) -> Result<(), StoreError> {
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

/// A file's content identity, ready to store.
struct Link {
    id: u64,
    cas: CasId,
    size: u64,
    kind: ContentKind,
    file_type: Option<String>,
    mime: Option<String>,
}

/// Sets entry `l.id`'s cas_id and adds it to the instances of its content (once).
fn link_content(tx: &WriteTransaction, l: &Link, now: i64) -> Result<(), StoreError> {
    let mut t = tx.open_table(ENTRIES)?;
    let Some(v) = t.get(l.id)? else {
        return Ok(());
    };
    let mut rec: EntryRecord = decode("entries", v.value())?;
    drop(v);
    if rec.cas == Some(l.cas) {
        return Ok(());
    }
    let previous = rec.cas.replace(l.cas);
    if l.kind != ContentKind::Unknown {
        rec.content_kind = l.kind;
    }
    t.insert(l.id, encode(&rec).as_slice())?;
    drop(t);
    if let Some(old) = previous {
        unlink_content(tx, old, l.id)?;
    }
    let mut inst = tx.open_table(CONTENT_INSTANCES)?;
    let fresh = inst.insert((l.cas.0, l.id), ())?.is_none();
    drop(inst);
    let mut c = tx.open_table(CONTENT)?;
    let existing: Option<ContentRecord> = c
        .get(l.cas.0)?
        .map(|v| decode("content", v.value()))
        .transpose()?;
    let rec = match existing {
        Some(mut r) => {
            if fresh {
                r.instances += 1;
            }
            if r.file_type.is_none() {
                r.file_type.clone_from(&l.file_type);
                r.mime.clone_from(&l.mime);
                r.kind = l.kind;
            }
            r
        }
        None => ContentRecord {
            cas: l.cas,
            uuid: l.cas.content_uuid(),
            size: l.size,
            kind: l.kind,
            file_type: l.file_type.clone(),
            mime: l.mime.clone(),
            instances: 1,
            first_seen_ms: now,
            last_verified_ms: None,
            integrity: None,
        },
    };
    c.insert(l.cas.0, encode(&rec).as_slice())?;
    Ok(())
}

/// What a hasher thread found about one file.
struct Hashed {
    cas: Option<CasId>,
    size: u64,
    type_index: Option<u16>,
}

/// A file waiting for content identification.
struct Pending {
    id: u64,
    path: PathBuf,
    name: Vec<u8>,
    size: u64,
}

/// The location's regular, non-empty files without a cas_id, with their paths.
fn pending_files(store: &Store, location: u32) -> Result<Vec<Pending>, StoreError> {
    store.read(|tx| {
        let files = crate::vdfs::index::files_with_paths(tx, |rec| {
            rec.location == location && rec.size > 0 && rec.cas.is_none()
        })?;
        Ok(files
            .into_iter()
            .map(|(id, path, rec)| Pending {
                id,
                path,
                name: rec.name,
                size: rec.size,
            })
            .collect())
    })
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
