//! The index changes that follow a file operation, written through the one write path
//! ([`IndexWriter`]) in the operation's checkpoint transaction: a rename or a move keeps each
//! entry's UUID (across locations too, under new ids), a copy gets new entries linked to the
//! same content identity (no rehash), a trashed or deleted item's entries go (with a
//! [`Snapshot`] kept so a restore brings them back with their UUIDs), and every folder above a
//! change and the location's totals follow ([`Deltas`]) so [`super::check`] holds after every
//! batch.

use std::collections::HashMap;
use std::path::Path;

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::location::LocationRecord;
use super::write::{ContentLink, IndexWriter};
use super::{DirStats, EntryRecord};
use crate::store::StoreError;
use crate::vdfs::fs::entry::{EntryKind, os_bytes};

/// Signed changes of aggregates, per folder, summed over a batch and written once per folder
/// ([`Deltas::apply`]).
#[derive(Debug, Default)]
pub struct Deltas {
    by_folder: HashMap<u64, [i64; 4]>,
}

fn as_array(s: DirStats) -> [i64; 4] {
    [
        s.bytes as i64,
        s.files as i64,
        s.dirs as i64,
        s.symlinks as i64,
    ]
}

fn add_to(s: DirStats, d: [i64; 4]) -> DirStats {
    let f = |v: u64, d: i64| (v as i64).saturating_add(d).max(0) as u64;
    DirStats {
        bytes: f(s.bytes, d[0]),
        files: f(s.files, d[1]),
        dirs: f(s.dirs, d[2]),
        symlinks: f(s.symlinks, d[3]),
    }
}

impl Deltas {
    /// Adds (`sign` = 1) or takes away (`sign` = -1) `weight` — an entry's
    /// [`contribution`] — from folder `parent` and every folder above it.
    pub fn add(&mut self, parent: u64, weight: DirStats, sign: i64) {
        if parent == 0 {
            return;
        }
        let w = as_array(weight);
        let e = self.by_folder.entry(parent).or_default();
        for i in 0..4 {
            e[i] += sign * w[i];
        }
    }

    /// Writes the summed changes: each folder's aggregates, each ancestor's, and the totals of
    /// the locations whose roots they reach.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn apply(self, w: &mut IndexWriter, tx: &WriteTransaction) -> Result<(), StoreError> {
        let mut total: HashMap<u64, [i64; 4]> = HashMap::new();
        let mut roots: HashMap<u32, [i64; 4]> = HashMap::new();
        for (folder, d) in self.by_folder {
            if d == [0; 4] {
                continue;
            }
            let mut cur = folder;
            loop {
                let Some(rec) = w.get(cur)? else { break };
                let e = total.entry(cur).or_default();
                for i in 0..4 {
                    e[i] += d[i];
                }
                if rec.parent == 0 {
                    let r = roots.entry(rec.location).or_default();
                    for i in 0..4 {
                        r[i] += d[i];
                    }
                    break;
                }
                cur = rec.parent;
            }
        }
        for (folder, d) in total {
            let now = w.dir_stats(folder)?.unwrap_or_default();
            w.set_dir_stats(folder, &add_to(now, d))?;
        }
        for (loc, d) in roots {
            super::location::update_in(tx, loc, |l| {
                let s = add_to(
                    DirStats {
                        bytes: l.stats.bytes,
                        files: l.stats.files,
                        dirs: l.stats.dirs,
                        symlinks: l.stats.symlinks,
                    },
                    d,
                );
                l.stats.bytes = s.bytes;
                l.stats.files = s.files;
                l.stats.dirs = s.dirs;
                l.stats.symlinks = s.symlinks;
            })?;
        }
        Ok(())
    }
}

/// What entry `id` weighs in its parent's aggregates: a folder its own aggregates plus one
/// folder, a file one file and its bytes, a link one link.
///
/// # Errors
/// [`StoreError`].
pub fn contribution(w: &IndexWriter, id: u64, rec: &EntryRecord) -> Result<DirStats, StoreError> {
    let below = if rec.kind == EntryKind::Dir {
        w.dir_stats(id)?.unwrap_or_default()
    } else {
        DirStats::default()
    };
    Ok(weight(rec.kind, rec.size, below))
}

/// What an entry of `kind` weighs in its parent's aggregates: a folder (whose own aggregates
/// are `below`) those plus one folder, a file one file and its `size` in bytes, a link one
/// link, anything else (a FIFO, a device) one file of no bytes.
pub fn weight(kind: EntryKind, size: u64, below: DirStats) -> DirStats {
    match kind {
        EntryKind::Dir => DirStats {
            dirs: below.dirs + 1,
            ..below
        },
        EntryKind::File => DirStats {
            bytes: size,
            files: 1,
            ..DirStats::default()
        },
        EntryKind::Symlink => DirStats {
            symlinks: 1,
            ..DirStats::default()
        },
        _ => DirStats {
            files: 1,
            ..DirStats::default()
        },
    }
}

/// The indexed entry at `path` (absolute, canonical) inside one of `locations`, found through
/// the name key: `(location, entry id)`.
///
/// # Errors
/// [`StoreError`].
pub fn lookup(
    w: &IndexWriter,
    locations: &[LocationRecord],
    path: &Path,
) -> Result<Option<(u32, u64)>, StoreError> {
    let Some(loc) = super::location::containing(locations, path) else {
        return Ok(None);
    };
    let Some(mut cur) = loc.root_entry else {
        return Ok(None);
    };
    let rel = path.strip_prefix(loc.path()).unwrap_or(Path::new(""));
    for comp in rel.components() {
        match w.child(cur, os_bytes(comp.as_os_str()))? {
            Some(id) => cur = id,
            None => return Ok(None),
        }
    }
    Ok(Some((loc.id, cur)))
}

/// Renames or moves entry `id` to `(new_parent, new_name)` in the same location, keeping its
/// id, its UUID and its subtree; the aggregates of both parents' ancestries follow.
///
/// # Errors
/// [`StoreError::Conflict`] if the name is taken in the index; [`StoreError`].
pub fn rename(
    w: &mut IndexWriter,
    deltas: &mut Deltas,
    id: u64,
    new_parent: u64,
    new_name: &[u8],
) -> Result<(), StoreError> {
    let Some(rec) = w.get(id)? else { return Ok(()) };
    let weight = contribution(w, id, &rec)?;
    if let Some(other) = w.child(new_parent, new_name)?
        && other != id
    {
        // The index still has an entry the disk no longer has at that name (it was replaced
        // on disk): it goes, as a rescan would remove it.
        remove(w, deltas, other)?;
    }
    w.update(id, |r| {
        r.parent = new_parent;
        r.name = new_name.to_vec();
    })?;
    if rec.parent != new_parent {
        deltas.add(rec.parent, weight, -1);
        deltas.add(new_parent, weight, 1);
    }
    Ok(())
}

/// One entry of a removed subtree, kept so that it can come back with its UUID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Index of its parent in the snapshot list (`None` for the subtree's top).
    pub parent: Option<u32>,
    /// The record as it was.
    pub rec: EntryRecord,
    /// Its aggregates, for a folder.
    pub stats: Option<DirStats>,
}

/// Removes entry `id` and its subtree from the index (each leaves a tombstone), its weight
/// taken from the folders above. Returns the removed entries, top first, parents before
/// children.
///
/// # Errors
/// [`StoreError`].
pub fn remove(
    w: &mut IndexWriter,
    deltas: &mut Deltas,
    id: u64,
) -> Result<Vec<Snapshot>, StoreError> {
    let Some(top) = w.get(id)? else {
        return Ok(Vec::new());
    };
    let weight = contribution(w, id, &top)?;
    let snaps = snapshot(w, id, top)?;
    deltas.add(snaps[0].rec.parent, weight, -1);
    w.delete_subtree(id)?;
    Ok(snaps)
}

fn snapshot(w: &IndexWriter, id: u64, top: EntryRecord) -> Result<Vec<Snapshot>, StoreError> {
    let mut out = vec![Snapshot {
        parent: None,
        stats: if top.kind == EntryKind::Dir {
            w.dir_stats(id)?
        } else {
            None
        },
        rec: top,
    }];
    let mut ids = vec![id];
    let mut i = 0;
    while i < ids.len() {
        if out[i].rec.kind == EntryKind::Dir {
            for child in w.child_ids(ids[i])? {
                if let Some(rec) = w.get(child)? {
                    let stats = if rec.kind == EntryKind::Dir {
                        w.dir_stats(child)?
                    } else {
                        None
                    };
                    out.push(Snapshot {
                        parent: Some(i as u32),
                        rec,
                        stats,
                    });
                    ids.push(child);
                }
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Puts a removed subtree back (a restore, an undo, a move into another location) as the
/// child `name` of folder `parent` in location `loc`: fresh ids, the same UUIDs (their
/// tombstones cleared), the same content links and aggregates. Returns the top's new id.
///
/// # Errors
/// [`StoreError::Conflict`] if a UUID or the name is taken; [`StoreError`].
pub fn reinsert(
    w: &mut IndexWriter,
    tx: &WriteTransaction,
    deltas: &mut Deltas,
    loc: u32,
    parent: u64,
    name: &[u8],
    snaps: &[Snapshot],
) -> Result<u64, StoreError> {
    if snaps.is_empty() {
        return Ok(0);
    }
    if let Some(other) = w.child(parent, name)? {
        remove(w, deltas, other)?;
    }
    let first = super::reserve_entry_ids(tx, loc, snaps.len() as u64)?;
    for (i, s) in snaps.iter().enumerate() {
        let id = first + i as u64;
        let mut rec = s.rec.clone();
        rec.location = loc;
        rec.parent = match s.parent {
            Some(p) => first + u64::from(p),
            None => parent,
        };
        if s.parent.is_none() {
            rec.name = name.to_vec();
        }
        let cas = rec.cas.take();
        w.clear_tombstone(rec.uuid)?;
        w.insert(id, rec.clone())?;
        if let Some(stats) = &s.stats {
            w.set_dir_stats(id, stats)?;
        }
        if let Some(cas) = cas {
            link_as(w, id, cas, &rec)?;
        }
    }
    let top = w.get(first)?.expect("just inserted");
    let weight = contribution(w, first, &top)?;
    deltas.add(parent, weight, 1);
    Ok(first)
}

/// Links entry `id` to content `cas`, taking the content's type from its record (a copy of a
/// known content needs no rehash).
fn link_as(
    w: &mut IndexWriter,
    id: u64,
    cas: crate::vdfs::content::CasId,
    rec: &EntryRecord,
) -> Result<(), StoreError> {
    let known = w.content(cas)?;
    w.link_content(&ContentLink {
        id,
        cas,
        size: rec.size,
        kind: known.as_ref().map_or(rec.content_kind, |c| c.kind),
        file_type: known.as_ref().and_then(|c| c.file_type.clone()),
        mime: known.and_then(|c| c.mime),
    })
}

/// A new entry written by a file operation (a copy, a new folder or file).
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// Exact name.
    pub name: Vec<u8>,
    /// Kind.
    pub kind: EntryKind,
    /// Metadata of the new file on disk.
    pub meta: crate::vdfs::fs::entry::Meta,
    /// Content identity of the source (a copy keeps it), if known and still true.
    pub cas: Option<crate::vdfs::content::CasId>,
    /// Kind of content (from the source's entry, or the extension).
    pub content_kind: crate::vdfs::content::filetype::ContentKind,
}

/// Inserts a new entry with a fresh UUID as a child of `parent` in location `loc` (a folder
/// starts with empty aggregates). Returns its id. An entry already at that name is replaced
/// (its subtree removed) — the disk is what counts.
///
/// # Errors
/// [`StoreError`].
pub fn insert_new(
    w: &mut IndexWriter,
    tx: &WriteTransaction,
    deltas: &mut Deltas,
    loc: u32,
    parent: u64,
    new: &NewEntry,
) -> Result<u64, StoreError> {
    if let Some(other) = w.child(parent, &new.name)? {
        remove(w, deltas, other)?;
    }
    let id = super::reserve_entry_ids(tx, loc, 1)?;
    let rec = EntryRecord {
        uuid: Uuid::now_v7(),
        location: loc,
        parent,
        name: new.name.clone(),
        kind: new.kind,
        size: new.meta.size,
        mtime_ns: new.meta.mtime_ns,
        inode: new.meta.inode,
        dev: new.meta.dev,
        cas: None,
        content_kind: new.content_kind,
        first_seen_ms: crate::vdfs::jobs::now_ms(),
        updated_seq: 0,
    };
    w.insert(id, rec.clone())?;
    if new.kind == EntryKind::Dir {
        w.set_dir_stats(id, &DirStats::default())?;
    }
    if let Some(cas) = new.cas {
        link_as(w, id, cas, &rec)?;
    }
    let weight = contribution(w, id, &rec)?;
    deltas.add(parent, weight, 1);
    Ok(id)
}

/// Brings the metadata (size, time, inode, device) of entry `id` and everything below it up
/// to date with the disk at `path` (after a move across volumes or a restore: new inodes). An
/// entry whose path is gone is left as it is.
///
/// # Errors
/// [`StoreError`].
pub fn refresh_meta(
    w: &mut IndexWriter,
    deltas: &mut Deltas,
    id: u64,
    path: &Path,
) -> Result<(), StoreError> {
    let mut queue = vec![(id, path.to_owned())];
    while let Some((id, p)) = queue.pop() {
        let Some(rec) = w.get(id)? else { continue };
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let meta = crate::vdfs::fs::entry::Meta::of(&m);
        if rec.meta() != meta {
            if rec.kind == EntryKind::File && rec.size != meta.size {
                deltas.add(
                    rec.parent,
                    DirStats {
                        bytes: rec.size,
                        ..DirStats::default()
                    },
                    -1,
                );
                deltas.add(
                    rec.parent,
                    DirStats {
                        bytes: meta.size,
                        ..DirStats::default()
                    },
                    1,
                );
            }
            w.update(id, |r| {
                r.size = meta.size;
                r.mtime_ns = meta.mtime_ns;
                r.inode = meta.inode;
                r.dev = meta.dev;
            })?;
        }
        if rec.kind == EntryKind::Dir {
            for child in w.child_ids(id)? {
                if let Some(c) = w.get(child)? {
                    queue.push((
                        child,
                        p.join(crate::vdfs::fs::entry::os_from_bytes(&c.name)),
                    ));
                }
            }
        }
    }
    Ok(())
}
