//! The live index's folder sync: a set of folders the watcher saw change is compared with the
//! index, one listing each, and the differences are written in one transaction through the one
//! write path.
//!
//! It is state-based, not event-based: what is written is what the disk shows now against what
//! the index holds, so a missed, doubled or reordered event cannot make it wrong — at worst a
//! change waits for the next sync of its folder. Within one sync, an entry gone from one
//! listing whose `(device, inode)` appears new in another (or in the same) was moved or
//! renamed: it keeps its id and UUID (under new ids with the same UUIDs when it crosses into
//! another location), as the indexer's full scan decides (a file keeps its size and mtime; a
//! folder its mtime or one of its children).
//!
//! Absence is never deletion where the disk did not answer: a folder that cannot be listed keeps
//! what the index knew below it (and is marked unreadable); a folder that is itself gone is left
//! to its parent's listing.
//!
//! Two steps: [`plan`] reads (the disk, and the index in short read transactions) and decides;
//! [`Planned::writer`] writes the decisions in one store transaction. The caller holds the write lease
//! of every location concerned between the two, so the index cannot change in between.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::WriteTransaction;
use rustc_hash::{FxHashMap, FxHashSet};
use uuid::Uuid;

use crate::store::{Store, StoreError};
use crate::vdfs::content::filetype::Registry;
use crate::vdfs::fs::entry::{EntryKind, Meta, os_bytes, os_from_bytes};
use crate::vdfs::fs::rules::Compiled;
use crate::vdfs::fs::walk::{NONE, Tree, WalkOptions, walk};
use crate::vdfs::index::follow::{self, Deltas, NewEntry};
use crate::vdfs::index::location::LocationRecord;
use crate::vdfs::index::write::IndexWriter;
use crate::vdfs::index::{DirStats, EntryRecord};

use super::super::processing::{changed, kind_by_extension, same_kind};

/// A location as the sync needs it: its record, its root and its compiled rules.
pub struct Loc {
    /// Its root ([`LocationRecord::path`], kept: every event's path is matched against it).
    pub root: PathBuf,
    /// The stored record.
    pub rec: LocationRecord,
    /// Its rules, compiled.
    pub rules: Arc<Compiled>,
}

/// What one sync changed, for the watcher (watches to add or move, files to identify) and the
/// views (folders to list again).
#[derive(Debug, Default)]
pub struct Outcome {
    /// Folders whose listing changed in the index (a child added, removed, renamed or changed).
    pub changed: Vec<PathBuf>,
    /// Folders newly indexed (with their new subfolders): to watch, then list once more.
    pub new_folders: Vec<PathBuf>,
    /// Folders moved or renamed, `(old path, new path)`: their watches follow them.
    pub moved_folders: Vec<(PathBuf, PathBuf)>,
    /// Folders gone from the index: their watches go.
    pub removed_folders: Vec<PathBuf>,
    /// Dirty folders not in the index or gone from disk: their parents are listed instead.
    pub parents: Vec<(u32, PathBuf)>,
    /// Files new or changed, `(location, entry id)`, to identify once they settle.
    pub to_identify: Vec<(u32, u64)>,
    /// Entries created, modified, moved, deleted.
    pub counts: [u64; 4],
}

/// One decision of [`plan`].
#[derive(Debug, Clone)]
enum Change {
    /// A stored entry's metadata changed in place (`clear`: its content changed too).
    Meta { id: u64, meta: Meta, clear: bool },
    /// A stored entry was moved or renamed to `(loc, parent, name)`, now with `meta`.
    Move {
        id: u64,
        from_loc: u32,
        loc: u32,
        parent: u64,
        name: Vec<u8>,
        meta: Meta,
    },
    /// A new file, link or other non-folder.
    NewLeaf {
        loc: u32,
        parent: u64,
        name: Vec<u8>,
        kind: EntryKind,
        meta: Meta,
    },
    /// A new folder with everything below it (the walk of it).
    NewTree {
        loc: u32,
        parent: u64,
        name: Vec<u8>,
        tree: Arc<Tree>,
    },
    /// A stored entry (and its subtree) gone from disk.
    Gone { id: u64 },
    /// A folder that could not be listed (or not to the end).
    Unreadable { id: u64 },
    /// A folder listed again after it could not be.
    Readable { id: u64 },
}

/// A child seen on disk and not in the index under its name.
struct Fresh {
    loc: u32,
    parent: u64,
    parent_path: PathBuf,
    name: Vec<u8>,
    kind: EntryKind,
    meta: Meta,
}

/// A stored child not on disk under its name.
#[derive(Clone)]
struct Lost {
    loc: u32,
    id: u64,
    rec: EntryRecord,
    path: PathBuf,
}

/// The decisions of one sync: the writes (run them with [`Planned::writer`]) and what they
/// mean for the watcher and the views.
pub struct Planned {
    changes: Arc<Vec<Change>>,
    /// What the sync changes.
    pub outcome: Outcome,
}

impl Planned {
    /// True if nothing is to be written.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The store operation that writes the decisions; it returns what it wrote. The entries
    /// it touched are recorded in `delta` inside the transaction, so that no search can see
    /// the new generation without them (a transaction that then fails to commit leaves a
    /// step to a generation that never becomes current, which no chain follows).
    pub fn writer(
        &self,
        delta: Arc<crate::vdfs::index::NamesDelta>,
    ) -> impl FnMut(&WriteTransaction) -> Result<Written, StoreError> + Send + 'static {
        let changes = self.changes.clone();
        move |tx| {
            let w = apply(tx, &changes)?;
            delta.record(w.generations.0, w.generations.1, w.touched.clone());
            Ok(w)
        }
    }
}

/// Reads each dirty folder (`(location, folder, how)`; folders of locations not in `locs` are
/// ignored) and decides what changes.
///
/// # Errors
/// [`StoreError`] from the index reads; disk errors are per folder (an unreadable folder keeps
/// its entries).
pub fn plan(
    store: &Store,
    locs: &FxHashMap<u32, Loc>,
    dirty: &[(u32, PathBuf)],
) -> Result<Planned, StoreError> {
    let mut out = Outcome::default();
    let mut changes = Vec::new();
    let mut fresh: Vec<Fresh> = Vec::new();
    let mut lost: Vec<Lost> = Vec::new();
    let mut seen = FxHashSet::default();
    // Shallow folders first: a folder's parent decides about the folder itself.
    let mut order: Vec<&(u32, PathBuf)> = dirty.iter().collect();
    order.sort_by_key(|(_, p)| p.components().count());
    for (loc_id, folder) in order {
        if !seen.insert(folder.clone()) {
            continue;
        }
        let Some(loc) = locs.get(loc_id) else {
            continue;
        };
        let root = &loc.root;
        let Ok(rel) = folder.strip_prefix(root) else {
            continue;
        };
        let parent_of = |out: &mut Outcome| {
            if let Some(p) = folder.parent()
                && folder != root
            {
                out.parents.push((*loc_id, p.to_owned()));
            }
        };
        let disk = match std::fs::symlink_metadata(folder) {
            Ok(m) if m.is_dir() => Meta::of(&m),
            _ => {
                parent_of(&mut out);
                continue;
            }
        };
        let Some((_, id, rec)) =
            crate::vdfs::index::find_by_path(store, std::slice::from_ref(&loc.rec), folder)?
        else {
            parent_of(&mut out);
            continue;
        };
        if rec.kind != EntryKind::Dir {
            parent_of(&mut out);
            continue;
        }
        if changed(&rec, disk) {
            changes.push(Change::Meta {
                id,
                meta: disk,
                clear: false,
            });
        }
        let opts = WalkOptions {
            rules: loc.rules.clone(),
            stat: true,
            threads: 1,
            max_depth: Some(1),
            stop: None,
            counters: None,
            rel_base: rel.to_owned(),
        };
        let Ok(tree) = walk(folder, &opts) else {
            parent_of(&mut out);
            continue;
        };
        let stored = store.read(|tx| crate::vdfs::index::children(tx, id))?;
        if tree.is_incomplete(0) {
            // What the index knew stays; what is new on disk waits for a listing that works.
            changes.push(Change::Unreadable { id });
            continue;
        }
        if store
            .read(|tx| crate::vdfs::index::unreadable_since(tx, id))?
            .is_some()
        {
            changes.push(Change::Readable { id });
        }
        let mut by_name: FxHashMap<&[u8], &(u64, EntryRecord)> =
            stored.iter().map(|s| (s.1.name.as_slice(), s)).collect();
        let before = changes.len() + fresh.len() + lost.len();
        for c in tree.children(0) {
            let name = tree.name(c);
            let node = tree.node(c);
            let meta = tree.meta(c);
            match by_name.remove(name) {
                Some((sid, srec)) if same_kind(srec.kind, node.kind) && srec.kind == node.kind => {
                    if changed(srec, meta) {
                        // A file rewritten in place or saved over (a new inode under the same
                        // name) keeps its entry and UUID; its content is identified again.
                        let clear = srec.kind == EntryKind::File
                            && (srec.size != meta.size
                                || srec.mtime_ns != meta.mtime_ns
                                || srec.inode != meta.inode);
                        changes.push(Change::Meta {
                            id: *sid,
                            meta,
                            clear,
                        });
                        if clear {
                            out.to_identify.push((*loc_id, *sid));
                        }
                    }
                }
                other => {
                    if let Some((sid, srec)) = other {
                        lost.push(Lost {
                            loc: *loc_id,
                            id: *sid,
                            rec: srec.clone(),
                            path: folder.join(os_from_bytes(&srec.name)),
                        });
                    }
                    fresh.push(Fresh {
                        loc: *loc_id,
                        parent: id,
                        parent_path: folder.clone(),
                        name: name.to_vec(),
                        kind: node.kind,
                        meta,
                    });
                }
            }
        }
        for (_, (sid, srec)) in by_name {
            lost.push(Lost {
                loc: *loc_id,
                id: *sid,
                rec: srec.clone(),
                path: folder.join(os_from_bytes(&srec.name)),
            });
        }
        if changes.len() + fresh.len() + lost.len() != before {
            out.changed.push(folder.clone());
        }
    }

    // Moves: a fresh child whose (device, inode) is a lost entry's. The entries below a lost
    // folder are candidates too (a file moved out of a folder that was then deleted).
    let mut by_inode: FxHashMap<(u64, u64), usize> = FxHashMap::default();
    for (i, l) in lost.iter().enumerate() {
        by_inode.insert((l.rec.dev, l.rec.inode), i);
    }
    let mut expanded = false;
    // `claimed`: taken by a move; `nested`: below a lost folder (gone with it, never alone).
    let mut claimed = vec![false; lost.len()];
    let mut nested = vec![false; lost.len()];
    let mut moved_ids = FxHashSet::default();
    // Folders moved in this batch: (location, entry id, new path).
    let mut moved_dirs: Vec<(u32, u64, PathBuf)> = Vec::new();
    for f in &fresh {
        let mut m = match_lost(store, f, &lost, &claimed, &by_inode)?;
        if m.is_none() && !expanded && lost.iter().any(|l| l.rec.kind == EntryKind::Dir) {
            expanded = true;
            let tops: Vec<Lost> = lost
                .iter()
                .filter(|l| l.rec.kind == EntryKind::Dir)
                .cloned()
                .collect();
            for top in tops {
                let below = store.read(|tx| crate::vdfs::index::subtree(tx, top.id))?;
                let mut paths: FxHashMap<u64, PathBuf> = FxHashMap::default();
                paths.insert(top.id, top.path.clone());
                for (sid, srec) in below.into_iter().skip(1) {
                    let Some(pp) = paths.get(&srec.parent).cloned() else {
                        continue;
                    };
                    let path = pp.join(os_from_bytes(&srec.name));
                    if srec.kind == EntryKind::Dir {
                        paths.insert(sid, path.clone());
                    }
                    by_inode.entry((srec.dev, srec.inode)).or_insert(lost.len());
                    lost.push(Lost {
                        loc: top.loc,
                        id: sid,
                        rec: srec,
                        path,
                    });
                    claimed.push(false);
                    nested.push(true);
                }
            }
            m = match_lost(store, f, &lost, &claimed, &by_inode)?;
        }
        let new_path = f.parent_path.join(os_from_bytes(&f.name));
        match m {
            Some(i) => {
                let mut moves = Moves {
                    claimed: &mut claimed,
                    moved_ids: &mut moved_ids,
                    moved_dirs: &mut moved_dirs,
                    changes: &mut changes,
                    out: &mut out,
                };
                moves.record(f, &lost[i], i);
            }
            None if f.kind == EntryKind::Dir => {
                let loc = &locs[&f.loc];
                let rel = new_path
                    .strip_prefix(loc.rec.path())
                    .unwrap_or(Path::new(""))
                    .to_owned();
                let opts = WalkOptions {
                    rules: loc.rules.clone(),
                    stat: true,
                    threads: 2,
                    max_depth: None,
                    stop: None,
                    counters: None,
                    rel_base: rel,
                };
                match walk(&new_path, &opts) {
                    Ok(tree) => {
                        for i in 0..tree.len() {
                            if tree.node(i).kind == EntryKind::Dir {
                                out.new_folders.push(new_path.join(tree.rel_path(i)));
                            }
                        }
                        out.counts[0] += u64::from(tree.len());
                        changes.push(Change::NewTree {
                            loc: f.loc,
                            parent: f.parent,
                            name: f.name.clone(),
                            tree: Arc::new(tree),
                        });
                    }
                    // Gone again, or no longer a folder: its parent's next listing says.
                    Err(_) => out.parents.push((f.loc, f.parent_path.clone())),
                }
            }
            None => {
                out.counts[0] += 1;
                changes.push(Change::NewLeaf {
                    loc: f.loc,
                    parent: f.parent,
                    name: f.name.clone(),
                    kind: f.kind,
                    meta: f.meta,
                });
            }
        }
    }
    // Entries moved into a folder that itself moved in this batch (a file put into a folder
    // just renamed): that folder's listing is not part of this batch (its folders are listed
    // again afterwards), so its new children are looked at now — a lost entry with the same
    // device, inode and kind is moved into it, keeping its UUID, instead of being deleted here
    // and found again as new.
    // Each listing may find more moved folders, whose new children are looked at in turn.
    let mut i_dir = 0;
    while i_dir < moved_dirs.len() && claimed.iter().any(|c| !c) {
        let (loc, dir_id, path) = moved_dirs[i_dir].clone();
        i_dir += 1;
        let stored: FxHashSet<Vec<u8>> = store
            .read(|tx| crate::vdfs::index::children(tx, dir_id))?
            .into_iter()
            .map(|(_, r)| r.name)
            .collect();
        let Ok(rd) = std::fs::read_dir(&path) else {
            continue;
        };
        for e in rd.flatten() {
            let name = crate::vdfs::fs::entry::os_bytes(&e.file_name()).to_vec();
            if stored.contains(&name) {
                continue;
            }
            let Ok(m) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            // The same rule as any other move (device, inode, kind, and size and time).
            let f = Fresh {
                loc,
                parent: dir_id,
                parent_path: path.clone(),
                name,
                kind: EntryKind::of(m.file_type()),
                meta: Meta::of(&m),
            };
            if let Some(i) = match_lost(store, &f, &lost, &claimed, &by_inode)?
                && !moved_ids.contains(&lost[i].id)
            {
                let mut moves = Moves {
                    claimed: &mut claimed,
                    moved_ids: &mut moved_ids,
                    moved_dirs: &mut moved_dirs,
                    changes: &mut changes,
                    out: &mut out,
                };
                moves.record(&f, &lost[i], i);
            }
        }
    }
    // What is left lost (and not below another lost folder) is gone. Moves are written first,
    // so an entry moved out of a folder that went survives the folder's removal.
    let mut gone = Vec::new();
    for (i, l) in lost.iter().enumerate() {
        if claimed[i] || nested[i] || moved_ids.contains(&l.id) {
            continue;
        }
        gone.push(Change::Gone { id: l.id });
        out.counts[3] += 1;
        if l.rec.kind == EntryKind::Dir {
            out.removed_folders.push(l.path.clone());
        }
    }
    out.counts[1] = changes
        .iter()
        .filter(|c| matches!(c, Change::Meta { clear: true, .. }))
        .count() as u64;
    // Moves first, then removals, then the rest (new entries may take a removed one's name).
    let mut ordered: Vec<Change> = changes
        .iter()
        .filter(|c| matches!(c, Change::Move { .. }))
        .cloned()
        .collect();
    ordered.extend(gone);
    ordered.extend(
        changes
            .into_iter()
            .filter(|c| !matches!(c, Change::Move { .. })),
    );
    out.changed.sort();
    out.changed.dedup();
    Ok(Planned {
        changes: Arc::new(ordered),
        outcome: out,
    })
}

/// What a sync decides about moves, borrowed while one is recorded.
struct Moves<'a> {
    claimed: &'a mut Vec<bool>,
    moved_ids: &'a mut FxHashSet<u64>,
    moved_dirs: &'a mut Vec<(u32, u64, PathBuf)>,
    changes: &'a mut Vec<Change>,
    out: &'a mut Outcome,
}

impl Moves<'_> {
    /// Records that lost entry `l` (number `i`) is fresh child `f`: a move keeping its UUID;
    /// a moved folder's watches follow it and its new children are looked at; a file not yet
    /// identified is identified.
    fn record(&mut self, f: &Fresh, l: &Lost, i: usize) {
        self.claimed[i] = true;
        self.moved_ids.insert(l.id);
        self.changes.push(Change::Move {
            id: l.id,
            from_loc: l.loc,
            loc: f.loc,
            parent: f.parent,
            name: f.name.clone(),
            meta: f.meta,
        });
        if let Some(p) = l.path.parent() {
            self.out.changed.push(p.to_owned());
        }
        let new_path = f.parent_path.join(os_from_bytes(&f.name));
        if l.rec.kind == EntryKind::Dir {
            self.moved_dirs.push((f.loc, l.id, new_path.clone()));
            self.out.moved_folders.push((l.path.clone(), new_path));
        } else if l.rec.kind == EntryKind::File && l.rec.cas.is_none() {
            self.out.to_identify.push((f.loc, l.id));
        }
        self.out.counts[2] += 1;
    }
}

/// The lost entry that fresh child `f` is, if any: the same device and inode, the same kind,
/// and for a file the same size and mtime, for a folder the same mtime or a child in common
/// (the same name and inode).
fn match_lost(
    store: &Store,
    f: &Fresh,
    lost: &[Lost],
    claimed: &[bool],
    by_inode: &FxHashMap<(u64, u64), usize>,
) -> Result<Option<usize>, StoreError> {
    let Some(&i) = by_inode.get(&(f.meta.dev, f.meta.inode)) else {
        return Ok(None);
    };
    let old = &lost[i].rec;
    if claimed[i] || old.kind != f.kind {
        return Ok(None);
    }
    let ok = match f.kind {
        EntryKind::Dir => {
            old.mtime_ns == f.meta.mtime_ns
                || shares_a_child(
                    store,
                    &f.parent_path.join(os_from_bytes(&f.name)),
                    lost[i].id,
                )?
        }
        _ => old.mtime_ns == f.meta.mtime_ns && old.size == f.meta.size,
    };
    Ok(ok.then_some(i))
}

/// True if the folder now at `new` on disk holds a child of the same name and inode as one the
/// stored folder `id` holds: the evidence, beside its inode, that it is that folder moved.
fn shares_a_child(store: &Store, new: &Path, id: u64) -> Result<bool, StoreError> {
    let stored = store.read(|tx| crate::vdfs::index::children(tx, id))?;
    if stored.is_empty() {
        return Ok(false);
    }
    let by_name: FxHashMap<&[u8], u64> = stored
        .iter()
        .map(|(_, r)| (r.name.as_slice(), r.inode))
        .collect();
    let Ok(dir) = std::fs::read_dir(new) else {
        return Ok(false);
    };
    for e in dir.flatten() {
        use std::os::unix::fs::DirEntryExt;
        if by_name.get(os_bytes(&e.file_name())) == Some(&e.ino()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What one sync transaction wrote.
#[derive(Debug, Default)]
pub struct Written {
    /// New files, `(location, entry id)`, to identify once they settle.
    pub new_files: Vec<(u32, u64)>,
    /// Entries whose search fields may have changed (new, changed, moved with everything
    /// below, gone, and the other copies of a content that gained or lost one).
    pub touched: Vec<u64>,
    /// The names generation before and after the transaction.
    pub generations: (u64, u64),
}

/// Writes the decisions `changes` in transaction `tx`. May run more than once (the store
/// writer re-applies a batch that another write in it failed): everything is derived from
/// `changes`.
fn apply(tx: &WriteTransaction, changes: &[Change]) -> Result<Written, StoreError> {
    let before = crate::vdfs::index::names_generation_in(tx)?;
    let mut w = IndexWriter::begin(tx)?;
    let mut touched: Vec<u64> = Vec::new();
    let mut contents: Vec<crate::vdfs::content::CasId> = Vec::new();
    let mut deltas = Deltas::default();
    let registry = Registry::active();
    let mut new_files = Vec::new();
    for c in changes {
        match c {
            Change::Meta { id, meta, clear } => {
                if *clear && let Some(cas) = w.get(*id)?.and_then(|r| r.cas) {
                    contents.push(cas);
                }
                touched.push(*id);
                set_meta(&mut w, &mut deltas, *id, *meta, *clear)?;
            }
            Change::Move {
                id,
                from_loc,
                loc,
                parent,
                name,
                meta,
            } => {
                let Some(rec) = w.get(*id)? else { continue };
                let clear = rec.kind == EntryKind::File
                    && (rec.size != meta.size || rec.mtime_ns != meta.mtime_ns);
                // Everything below a moved folder has a new path.
                touched.extend(w.subtree_ids(*id)?);
                if from_loc == loc {
                    follow::rename(&mut w, &mut deltas, *id, *parent, name)?;
                    set_meta(&mut w, &mut deltas, *id, *meta, clear)?;
                } else {
                    w.defer_orphans();
                    let snaps = follow::remove(&mut w, &mut deltas, *id)?;
                    let new =
                        follow::reinsert(&mut w, tx, &mut deltas, *loc, *parent, name, &snaps)?;
                    w.drop_orphans()?;
                    touched.extend(new..new + snaps.len() as u64);
                    set_meta(&mut w, &mut deltas, new, *meta, clear)?;
                }
            }
            Change::NewLeaf {
                loc,
                parent,
                name,
                kind,
                meta,
            } => {
                let id = follow::insert_new(
                    &mut w,
                    tx,
                    &mut deltas,
                    *loc,
                    *parent,
                    &NewEntry {
                        name: name.clone(),
                        kind: *kind,
                        meta: *meta,
                        cas: None,
                        content_kind: kind_by_extension(registry, name, *kind),
                    },
                )?;
                touched.push(id);
                if *kind == EntryKind::File && meta.size > 0 {
                    new_files.push((*loc, id));
                }
            }
            Change::NewTree {
                loc,
                parent,
                name,
                tree,
            } => {
                let first = insert_tree(
                    &mut w,
                    tx,
                    &mut deltas,
                    *loc,
                    *parent,
                    name,
                    tree,
                    &mut new_files,
                )?;
                touched.extend(first..first + u64::from(tree.len()));
            }
            Change::Gone { id } => {
                if w.get(*id)?.is_some() {
                    touched.extend(w.subtree_ids(*id)?);
                }
                for s in follow::remove(&mut w, &mut deltas, *id)? {
                    contents.extend(s.rec.cas);
                }
            }
            Change::Unreadable { id } => w.mark_unreadable(*id)?,
            Change::Readable { id } => w.clear_unreadable(*id)?,
        }
    }
    deltas.apply(&mut w, tx)?;
    // The other copies of a content that lost one count one copy less.
    contents.sort_unstable();
    contents.dedup();
    for cas in contents {
        touched.extend(w.instances_of(cas)?);
    }
    drop(w);
    touched.sort_unstable();
    touched.dedup();
    Ok(Written {
        new_files,
        touched,
        generations: (before, crate::vdfs::index::names_generation_in(tx)?),
    })
}

/// Sets entry `id`'s size, mtime, inode and device to `meta` (its folders' byte totals follow
/// a file's new size); `clear` drops its content link.
fn set_meta(
    w: &mut IndexWriter,
    deltas: &mut Deltas,
    id: u64,
    meta: Meta,
    clear: bool,
) -> Result<(), StoreError> {
    let Some(rec) = w.get(id)? else {
        return Ok(());
    };
    if rec.kind == EntryKind::File && rec.size != meta.size {
        let bytes = |b| DirStats {
            bytes: b,
            ..DirStats::default()
        };
        deltas.add(rec.parent, bytes(rec.size), -1);
        deltas.add(rec.parent, bytes(meta.size), 1);
    }
    w.update(id, |r| {
        r.size = meta.size;
        r.mtime_ns = meta.mtime_ns;
        r.inode = meta.inode;
        r.dev = meta.dev;
        if clear {
            r.cas = None;
        }
    })?;
    Ok(())
}

/// Inserts a walked folder and everything below it as the child `name` of `parent`: fresh
/// UUIDs, aggregates summed from the walk, folders the walk could not list marked unreadable.
#[allow(clippy::too_many_arguments)]
fn insert_tree(
    w: &mut IndexWriter,
    tx: &WriteTransaction,
    deltas: &mut Deltas,
    loc: u32,
    parent: u64,
    name: &[u8],
    tree: &Tree,
    new_files: &mut Vec<(u32, u64)>,
) -> Result<u64, StoreError> {
    if let Some(other) = w.child(parent, name)? {
        follow::remove(w, deltas, other)?;
    }
    let n = tree.len() as usize;
    let first = crate::vdfs::index::reserve_entry_ids(tx, loc, n as u64)?;
    let registry = Registry::active();
    let now = crate::vdfs::jobs::now_ms();
    let mut stats = vec![DirStats::default(); n];
    for i in (1..n).rev() {
        let node = tree.node(i as u32);
        let p = node.parent as usize;
        let own = follow::weight(node.kind, node.size, stats[i]);
        let s = &mut stats[p];
        s.bytes += own.bytes;
        s.files += own.files;
        s.dirs += own.dirs;
        s.symlinks += own.symlinks;
    }
    let mut recs = Vec::with_capacity(n);
    for i in 0..n as u32 {
        let node = tree.node(i);
        let m = tree.meta(i);
        let nm = if i == 0 {
            name.to_vec()
        } else {
            tree.name(i).to_vec()
        };
        let kind = node.kind;
        recs.push((
            first + u64::from(i),
            EntryRecord {
                uuid: Uuid::now_v7(),
                location: loc,
                parent: if node.parent == NONE {
                    parent
                } else {
                    first + u64::from(node.parent)
                },
                content_kind: kind_by_extension(registry, &nm, kind),
                name: nm,
                kind,
                size: m.size,
                mtime_ns: m.mtime_ns,
                inode: m.inode,
                dev: m.dev,
                cas: None,
                first_seen_ms: now,
                updated_seq: 0,
            },
        ));
        if kind == EntryKind::File && m.size > 0 {
            new_files.push((loc, first + u64::from(i)));
        }
    }
    w.insert_batch(&mut recs)?;
    for (i, s) in stats.iter().enumerate() {
        if tree.node(i as u32).kind == EntryKind::Dir {
            w.set_dir_stats(first + i as u64, s)?;
            if tree.is_incomplete(i as u32) {
                w.mark_unreadable(first + i as u64)?;
            }
        }
    }
    let mut top = stats[0];
    top.dirs += 1;
    deltas.add(parent, top, 1);
    Ok(first)
}
