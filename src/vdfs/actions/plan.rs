//! The preview: what an operation will do, from the index and a quick look at the disk,
//! touching nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::batch::{self, RenameRow};
use super::pattern::PatternItem;
use super::{
    ActionError, ConflictInfo, OnConflict, OpKind, Outcome, Preview, PreviewItem, Request,
    bytes_path, path_bytes,
};
use crate::store::Store;
use crate::vdfs::fs::entry::{EntryKind, Meta, canonical_no_follow, os_bytes};
use crate::vdfs::fs::ops::{self, Dir, name_problem};
use crate::vdfs::fs::{mounts, trash};
use crate::vdfs::index::location::LocationRecord;

/// Files up to this size are compared by BLAKE3 for "identical?" when the index cannot say.
const HASH_COMPARE_MAX: u64 = 64 << 20;

/// Folder walks of the preview stop counting after this many entries (the totals then say
/// "at least").
const WALK_LIMIT: u64 = 2_000_000;

struct Totals {
    bytes: u64,
    files: u64,
    bad_names: Vec<String>,
}

/// `lstat` of `p`: its kind and metadata, or `None` if there is nothing (or it cannot be read).
pub(super) fn lstat(p: &Path) -> Option<(EntryKind, Meta)> {
    let m = std::fs::symlink_metadata(p).ok()?;
    Some((EntryKind::of(m.file_type()), Meta::of(&m)))
}

/// Totals of `path` (a folder's from the index when indexed, else a walk through handles),
/// and names below it that `fs_type` cannot hold (checked only when `fs_type` is given).
fn totals(
    store: &Store,
    locations: &[LocationRecord],
    path: &Path,
    kind: EntryKind,
    size: u64,
    fs_type: Option<&str>,
) -> Totals {
    if kind != EntryKind::Dir {
        return Totals {
            bytes: if kind == EntryKind::File { size } else { 0 },
            files: 1,
            bad_names: Vec::new(),
        };
    }
    if fs_type.is_none()
        && let Ok(Some(e)) = crate::vdfs::index::entry_at(store, locations, path)
        && let Ok(Some(s)) = store.read(|tx| crate::vdfs::index::dir_stats(tx, e.id))
    {
        return Totals {
            bytes: s.bytes,
            files: s.files + s.symlinks,
            bad_names: Vec::new(),
        };
    }
    let mut t = Totals {
        bytes: 0,
        files: 0,
        bad_names: Vec::new(),
    };
    if let Ok(d) = Dir::open(path) {
        walk_totals(&d, fs_type, &mut t);
    }
    t
}

fn walk_totals(d: &Dir, fs_type: Option<&str>, t: &mut Totals) {
    let Ok(list) = d.list() else { return };
    for (name, kind) in list {
        if t.files >= WALK_LIMIT {
            return;
        }
        if let Some(fs) = fs_type
            && let Some(p) = name_problem(os_bytes(&name), fs)
            && t.bad_names.len() < 10
        {
            t.bad_names
                .push(format!("{}: {p}", d.path().join(&name).display()));
        }
        match kind {
            EntryKind::Dir => {
                if let Ok(sub) = d.open_dir(&name) {
                    walk_totals(&sub, fs_type, t);
                }
            }
            EntryKind::File => {
                t.files += 1;
                t.bytes += d.stat(&name).ok().flatten().map_or(0, |s| s.size);
            }
            _ => t.files += 1,
        }
    }
}

/// Whether two files hold the same bytes: by content identity when both are indexed with one,
/// else by BLAKE3 when both are small enough.
fn identical(
    store: &Store,
    locations: &[LocationRecord],
    a: &Path,
    b: &Path,
    sizes: (u64, u64),
) -> Option<bool> {
    if sizes.0 != sizes.1 {
        return Some(false);
    }
    let cas = |p: &Path| {
        crate::vdfs::index::entry_at(store, locations, p)
            .ok()
            .flatten()
            .and_then(|e| e.record.cas)
    };
    if let (Some(x), Some(y)) = (cas(a), cas(b))
        && x != y
    {
        return Some(false);
    }
    if sizes.0 > HASH_COMPARE_MAX {
        return None;
    }
    let h = |p: &Path| {
        let f = crate::vdfs::fs::entry::open_regular(p).ok()?;
        ops::hash_file(&f).ok().map(|x| x.1)
    };
    Some(h(a)? == h(b)?)
}

/// The file-system type and read-only flag of the mount holding `path`.
fn fs_of(path: &Path) -> (String, bool) {
    let all = mounts::mounts();
    mounts::mount_of(&all, path).map_or((String::new(), false), |m| {
        (m.fs_type.clone(), m.read_only())
    })
}

/// Whether `name` can be created in `folder` (its file system can hold the name and is not
/// read-only); if not, the reason is a refusal of `p`.
fn name_fits(p: &mut Preview, folder: &Path, name: &[u8]) -> bool {
    let (fs_type, ro) = fs_of(folder);
    if let Some(why) = name_problem(name, &fs_type) {
        p.refusals.push(why);
        return false;
    }
    if ro {
        p.refusals
            .push(format!("{} is on a read-only volume", folder.display()));
        return false;
    }
    true
}

/// The device of whatever is at `path` (not followed).
pub(super) fn dev_of(path: &Path) -> Option<u64> {
    lstat(path).map(|(_, m)| m.dev)
}

/// Previews `req`: each item's outcome, totals, free space, conflicts, refusals and warnings,
/// from the index (`store`, `locations`) and `lstat`s of the disk. Touches nothing.
///
/// # Errors
/// [`ActionError::Store`] if the index cannot be read. Everything about the user's paths is
/// a refusal or a warning in the preview, not an error.
pub fn preview(
    store: &Store,
    locations: &[LocationRecord],
    req: &Request,
) -> Result<Preview, ActionError> {
    let mut p = Preview {
        kind: req.kind,
        items: Vec::new(),
        files: 0,
        bytes: 0,
        dest_free: None,
        refusals: Vec::new(),
        warnings: Vec::new(),
        conflicts: 0,
        on_conflict: req.on_conflict,
        verify: req.verify,
    };
    if req.sources.is_empty() && !matches!(req.kind, OpKind::NewFolder | OpKind::NewFile) {
        p.refusals.push("nothing is selected".into());
        return Ok(p);
    }
    match req.kind {
        OpKind::Copy | OpKind::Move | OpKind::Duplicate => {
            copy_or_move(store, locations, req, &mut p)
        }
        OpKind::Trash | OpKind::Delete => remove(store, locations, req, &mut p),
        OpKind::Rename => rename(req, &mut p),
        OpKind::NewFolder | OpKind::NewFile => create(req, &mut p),
        OpKind::Restore => restore(req, &mut p),
        OpKind::HardLink => hard_links(store, locations, req, &mut p),
        OpKind::BatchRename => batch_rename(req, &mut p),
    }
    // A rename's taken name has its own refusal (no choice replaces by a rename).
    if p.conflicts > 0 && req.on_conflict == OnConflict::Ask && req.kind != OpKind::Rename {
        p.refusals.push(format!(
            "{} {} at the destination: choose replace, skip, keep both or merge",
            p.conflicts,
            if p.conflicts == 1 {
                "item already exists"
            } else {
                "items already exist"
            }
        ));
    }
    Ok(p)
}

fn conflict_at(
    store: &Store,
    locations: &[LocationRecord],
    src: &Path,
    src_kind: EntryKind,
    src_meta: Meta,
    target: &Path,
) -> Option<ConflictInfo> {
    let (kind, meta) = lstat(target)?;
    let identical = if kind == EntryKind::File && src_kind == EntryKind::File {
        identical(store, locations, src, target, (src_meta.size, meta.size))
    } else {
        None
    };
    Some(conflict_info((kind, meta), src_meta, identical))
}

/// Both sides of a conflict: what is at the target (`existing`) and the incoming item.
fn conflict_info(
    (existing_kind, existing): (EntryKind, Meta),
    source: Meta,
    identical: Option<bool>,
) -> ConflictInfo {
    ConflictInfo {
        existing_kind,
        existing_size: existing.size,
        existing_mtime_ns: existing.mtime_ns,
        source_size: source.size,
        source_mtime_ns: source.mtime_ns,
        identical,
    }
}

fn copy_or_move(store: &Store, locations: &[LocationRecord], req: &Request, p: &mut Preview) {
    let dest = match (req.kind, &req.dest) {
        (OpKind::Duplicate, _) => None,
        (_, Some(d)) => match std::fs::canonicalize(d) {
            Ok(d) if d.is_dir() => Some(d),
            Ok(d) => {
                p.refusals.push(format!("{} is not a folder", d.display()));
                return;
            }
            Err(e) => {
                p.refusals
                    .push(format!("the destination {}: {e}", d.display()));
                return;
            }
        },
        (_, None) => {
            p.refusals.push("no destination folder was given".into());
            return;
        }
    };
    let mut names_seen = HashSet::new();
    let mut to_write = 0u64;
    let mut dest_checked: Option<(PathBuf, String, bool)> = None;
    // Per source folder: its canonical path and device (ten thousand items of one folder
    // resolve it once).
    let mut parents: std::collections::HashMap<PathBuf, (PathBuf, Option<u64>)> =
        std::collections::HashMap::new();
    let dest_dev = dest.as_deref().and_then(dev_of);
    for s in &req.sources {
        let abs = std::path::absolute(s).unwrap_or_else(|_| s.clone());
        let src = match (abs.parent(), abs.file_name()) {
            (Some(parent), Some(name)) => {
                let (canon, _) = parents.entry(parent.to_owned()).or_insert_with(|| {
                    let c = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_owned());
                    let dev = dev_of(&c);
                    (c, dev)
                });
                canon.join(name)
            }
            _ => canonical_no_follow(&abs),
        };
        let Some((kind, meta)) = lstat(&src) else {
            p.refusals.push(format!("{} does not exist", src.display()));
            continue;
        };
        let Some((parent, name)) = ops::split(&src) else {
            p.refusals
                .push(format!("{} cannot be copied or moved", src.display()));
            continue;
        };
        let dest = dest.clone().unwrap_or_else(|| parent.to_owned());
        if dest_checked.as_ref().is_none_or(|d| d.0 != dest) {
            let (fs, ro) = fs_of(&dest);
            dest_checked = Some((dest.clone(), fs, ro));
        }
        let (_, fs_type, read_only) = dest_checked.clone().expect("set above");
        if read_only {
            p.refusals
                .push(format!("{} is on a read-only volume", dest.display()));
            return;
        }
        if kind == EntryKind::Dir && (dest == src || dest.starts_with(&src)) {
            p.refusals.push(format!(
                "cannot {} the folder {} into itself",
                req.kind.verb(),
                src.display()
            ));
            continue;
        }
        if req.kind == OpKind::Move && parent == dest {
            p.refusals.push(format!(
                "{} is already in {}",
                src.display(),
                dest.display()
            ));
            continue;
        }
        let mut name = os_bytes(name).to_vec();
        if req.kind == OpKind::Duplicate {
            name = ops::copy_name(&name, kind == EntryKind::Dir, |n| {
                dest.join(bytes_path(n)).symlink_metadata().is_ok()
            });
        }
        if !names_seen.insert(name.clone()) {
            p.refusals.push(format!(
                "two of the items are named “{}”",
                String::from_utf8_lossy(&name)
            ));
            continue;
        }
        if let Some(why) = name_problem(&name, &fs_type) {
            p.refusals.push(format!("{}: {why}", dest.display()));
            continue;
        }
        let parent_dev = parents
            .values()
            .find(|(c, _)| c == parent)
            .map_or_else(|| dev_of(parent), |(_, d)| *d);
        let same_volume = parent_dev
            == if req.kind == OpKind::Duplicate {
                parent_dev
            } else {
                dest_dev
            };
        let check_names = (kind == EntryKind::Dir
            && name_problem(b"a:b", &fs_type).is_some()
            && !(req.kind == OpKind::Move && same_volume))
            .then_some(fs_type.as_str());
        let t = totals(store, locations, &src, kind, meta.size, check_names);
        p.refusals.extend(t.bad_names);
        let mut target = dest.join(bytes_path(&name));
        let mut outcome = match req.kind {
            OpKind::Move if same_volume => Outcome::Rename,
            OpKind::Move => Outcome::CopyThenRemove,
            _ => Outcome::Copy,
        };
        let conflict = conflict_at(store, locations, &src, kind, meta, &target);
        if let Some(c) = &conflict {
            p.conflicts += 1;
            let both_dirs = c.existing_kind == EntryKind::Dir && kind == EntryKind::Dir;
            match req.on_conflict {
                OnConflict::Ask => {}
                OnConflict::Skip => outcome = Outcome::Skip,
                OnConflict::KeepBoth => {
                    let free = ops::keep_both_name(&name, kind == EntryKind::Dir, |n| {
                        dest.join(bytes_path(n)).symlink_metadata().is_ok()
                            || names_seen.contains(n)
                    });
                    names_seen.insert(free.clone());
                    target = dest.join(bytes_path(&free));
                }
                OnConflict::Replace | OnConflict::Merge if both_dirs => {
                    if outcome == Outcome::Rename {
                        p.refusals.push(format!(
                            "{} exists: merging folders is done by copying; move {} to another volume or choose keep both",
                            target.display(),
                            src.display()
                        ));
                    }
                    outcome = Outcome::Merge;
                }
                OnConflict::Replace
                    if c.existing_kind != EntryKind::Dir && kind != EntryKind::Dir =>
                {
                    outcome = Outcome::Replace;
                }
                OnConflict::Merge if c.identical == Some(true) => outcome = Outcome::Skip,
                OnConflict::Replace | OnConflict::Merge => {
                    p.refusals.push(format!(
                        "{} exists and is a {}; it cannot be replaced by a {}",
                        target.display(),
                        c.existing_kind.as_str(),
                        kind.as_str()
                    ));
                }
            }
        }
        if outcome != Outcome::Skip {
            p.files += t.files;
            p.bytes += t.bytes;
            if outcome != Outcome::Rename {
                to_write += t.bytes;
            }
        }
        p.items.push(PreviewItem {
            source: src,
            target,
            kind,
            outcome,
            bytes: t.bytes,
            files: t.files,
            conflict,
            mtime_ns: meta.mtime_ns,
            inode: meta.inode,
        });
    }
    if let Some((d, _, _)) = &dest_checked
        && let Some((free, _)) = mounts::space_of(d)
    {
        p.dest_free = Some(free);
        if to_write > free {
            p.refusals.push(format!(
                "not enough space: {} needed on {}, {} free",
                crate::format::bytes(to_write),
                d.display(),
                crate::format::bytes(free)
            ));
        }
    }
}

fn remove(store: &Store, locations: &[LocationRecord], req: &Request, p: &mut Preview) {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut only_copies = 0u64;
    // Per folder: its canonical path, and its trash (or why there is none). Ten thousand
    // items of one folder look it up once.
    let mut folders: std::collections::HashMap<PathBuf, (PathBuf, Result<PathBuf, String>)> =
        std::collections::HashMap::new();
    for s in &req.sources {
        let abs = std::path::absolute(s).unwrap_or_else(|_| s.clone());
        let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else {
            p.refusals.push(format!(
                "{} is the root folder; Cairn does not {} it",
                abs.display(),
                req.kind.verb()
            ));
            continue;
        };
        let (canon_parent, trash_root) = folders
            .entry(parent.to_owned())
            .or_insert_with(|| {
                let canon = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_owned());
                let trash = if req.kind == OpKind::Trash {
                    match trash::trash_for(&canon) {
                        Ok(_) if fs_of(&canon).1 => {
                            Err(format!("{} is on a read-only volume", canon.display()))
                        }
                        Ok(t) => Ok(t.root),
                        Err(e) => Err(format!(
                            "{} has no trash on its volume ({e}); delete permanently instead",
                            canon.display()
                        )),
                    }
                } else {
                    Ok(PathBuf::new())
                };
                (canon, trash)
            })
            .clone();
        let src = canon_parent.join(name);
        let Some((kind, meta)) = lstat(&src) else {
            p.refusals.push(format!("{} does not exist", src.display()));
            continue;
        };
        if home.as_deref() == Some(src.as_path()) {
            p.refusals.push(format!(
                "{} is your home folder; Cairn does not {} it",
                src.display(),
                req.kind.verb()
            ));
            continue;
        }
        let target = match trash_root {
            Ok(t) => t,
            Err(why) => {
                if !p.refusals.contains(&why) {
                    p.refusals.push(why);
                }
                continue;
            }
        };
        let t = totals(store, locations, &src, kind, meta.size, None);
        only_copies += sole_copies(store, locations, &src);
        p.files += t.files;
        p.bytes += t.bytes;
        p.items.push(PreviewItem {
            source: src,
            target,
            kind,
            outcome: if req.kind == OpKind::Trash {
                Outcome::Trash
            } else {
                Outcome::Delete
            },
            bytes: t.bytes,
            files: t.files,
            conflict: None,
            mtime_ns: meta.mtime_ns,
            inode: meta.inode,
        });
    }
    if only_copies > 0 {
        p.warnings.push(format!(
            "{only_copies} {} the only {} Cairn knows of",
            if only_copies == 1 {
                "file is"
            } else {
                "files are"
            },
            if only_copies == 1 { "copy" } else { "copies" }
        ));
    }
    if req.kind == OpKind::Delete && !p.items.is_empty() {
        p.warnings.push(format!(
            "{} {} ({}) will be deleted permanently; this cannot be undone",
            p.files,
            if p.files == 1 { "file" } else { "files" },
            crate::format::bytes(p.bytes)
        ));
    }
}

/// How many indexed files at or below `path` are their content's only instance.
fn sole_copies(store: &Store, locations: &[LocationRecord], path: &Path) -> u64 {
    let Ok(Some(e)) = crate::vdfs::index::entry_at(store, locations, path) else {
        return 0;
    };
    store
        .read(|tx| {
            let mut n = 0;
            let subtree = if e.record.kind == EntryKind::Dir {
                crate::vdfs::index::subtree(tx, e.id)?
            } else {
                vec![(e.id, e.record.clone())]
            };
            for (_, r) in subtree.iter().take(200_000) {
                if let Some(cas) = r.cas
                    && crate::vdfs::index::content(tx, cas)?.is_some_and(|c| c.instances <= 1)
                {
                    n += 1;
                }
            }
            Ok(n)
        })
        .unwrap_or(0)
}

/// Previews making each source a hard link to its kept copy: both must be regular files on
/// the same volume (not the same path), of the same size and, where it can be told from the
/// index or a hash (files up to 64 MiB), the same contents; the job hashes both in full
/// before each link anyway. A source that is already that file is skipped. The bytes are what
/// the links free.
fn hard_links(store: &Store, locations: &[LocationRecord], req: &Request, p: &mut Preview) {
    if req.link_to.len() != req.sources.len() {
        p.refusals
            .push("each file needs the copy it is to be linked to".into());
        return;
    }
    let mut seen = HashSet::new();
    let mut other_modes = 0u64;
    for (source, kept) in req.sources.iter().zip(&req.link_to) {
        let src = canonical_no_follow(source);
        let keep = canonical_no_follow(kept);
        let (Some((sk, sm)), Some((kk, km))) = (lstat(&src), lstat(&keep)) else {
            let gone = if lstat(&src).is_none() { &src } else { &keep };
            p.refusals
                .push(format!("{} does not exist", gone.display()));
            continue;
        };
        if !seen.insert(src.clone()) {
            continue;
        }
        if sk != EntryKind::File || kk != EntryKind::File {
            let not = if sk != EntryKind::File { &src } else { &keep };
            p.refusals.push(format!(
                "{} is not a regular file; only files are replaced by hard links",
                not.display()
            ));
            continue;
        }
        if src == keep {
            p.refusals
                .push(format!("{} cannot be a link to itself", src.display()));
            continue;
        }
        if sm.dev != km.dev {
            p.refusals.push(format!(
                "{} and {} are on different volumes; a hard link cannot cross volumes",
                src.display(),
                keep.display()
            ));
            continue;
        }
        let same_file = sm.inode == km.inode;
        if !same_file {
            if identical(store, locations, &src, &keep, (sm.size, km.size)) == Some(false) {
                p.refusals.push(format!(
                    "{} differs from {}; only identical files are linked",
                    src.display(),
                    keep.display()
                ));
                continue;
            }
            let parent = src.parent().unwrap_or(Path::new("/"));
            if !name_fits(p, parent, os_bytes(src.file_name().unwrap_or_default())) {
                continue;
            }
            p.files += 1;
            p.bytes += sm.size;
            let mode_of = |q: &Path| {
                std::fs::symlink_metadata(q)
                    .map(|m| std::os::unix::fs::MetadataExt::mode(&m) & 0o7777)
                    .ok()
            };
            if mode_of(&src) != mode_of(&keep) {
                other_modes += 1;
            }
        }
        p.items.push(PreviewItem {
            source: src,
            target: keep,
            kind: EntryKind::File,
            outcome: if same_file {
                Outcome::Skip
            } else {
                Outcome::Link
            },
            bytes: sm.size,
            files: 1,
            conflict: None,
            mtime_ns: sm.mtime_ns,
            inode: sm.inode,
        });
    }
    if p.files > 0 {
        p.warnings.push(
            "linked files share one copy on the disk: an edit to one shows in all of them, and \
             they all take the kept copy's permissions and dates"
                .into(),
        );
    }
    if other_modes > 0 {
        p.warnings.push(format!(
            "{other_modes} of them have other permissions than the copy they will share"
        ));
    }
}

fn rename(req: &Request, p: &mut Preview) {
    let [source] = req.sources.as_slice() else {
        p.refusals.push("rename one item at a time".into());
        return;
    };
    let src = canonical_no_follow(source);
    let Some((kind, meta)) = lstat(&src) else {
        p.refusals.push(format!("{} does not exist", src.display()));
        return;
    };
    let Some(name) = &req.name else {
        p.refusals.push("no new name was given".into());
        return;
    };
    let parent = src.parent().unwrap_or(Path::new("/")).to_owned();
    if !name_fits(p, &parent, name) {
        return;
    }
    let target = parent.join(bytes_path(name));
    let same = target == src;
    let mut conflict = None;
    if !same && let Some((k, m)) = lstat(&target) {
        // A change of case only, on a case-insensitive volume, is the same file.
        if m.inode != meta.inode || m.dev != meta.dev {
            p.conflicts += 1;
            conflict = Some(conflict_info((k, m), meta, None));
            p.refusals.push(format!(
                "{} already exists; choose another name",
                target.display()
            ));
        }
    }
    p.files = 1;
    p.items.push(PreviewItem {
        source: src,
        target,
        kind,
        outcome: if same { Outcome::Skip } else { Outcome::Rename },
        bytes: meta.size,
        files: 1,
        conflict,
        mtime_ns: meta.mtime_ns,
        inode: meta.inode,
    });
}

/// Refusals of a batch rename listed one by one at most; the rest are counted.
const REFUSALS_LISTED: usize = 50;

/// A batch rename: every item's new name (given, or from the pattern), each checked as a
/// rename is (the name, the file system, a read-only volume) and against the others (two
/// items ending with one name, a name taken by an item that is not renamed). Names that do
/// not change are skipped; chains and cycles among the items are fine (see `batch`).
fn batch_rename(req: &Request, p: &mut Preview) {
    struct Found {
        src: PathBuf,
        parent: PathBuf,
        name: Vec<u8>,
        kind: EntryKind,
        meta: Meta,
    }
    let mut found: Vec<Found> = Vec::with_capacity(req.sources.len());
    let mut seen = HashSet::new();
    // Per folder: its canonical path (ten thousand items of one folder resolve it once).
    let mut canon: std::collections::HashMap<PathBuf, PathBuf> = std::collections::HashMap::new();
    for s in &req.sources {
        let abs = std::path::absolute(s).unwrap_or_else(|_| s.clone());
        let Some((parent, name)) = ops::split(&abs) else {
            p.refusals
                .push(format!("{} cannot be renamed", abs.display()));
            continue;
        };
        let parent = canon
            .entry(parent.to_owned())
            .or_insert_with(|| std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_owned()))
            .clone();
        let src = parent.join(name);
        let Some((kind, meta)) = lstat(&src) else {
            p.refusals.push(format!("{} does not exist", src.display()));
            continue;
        };
        if !seen.insert(src.clone()) {
            p.refusals.push(format!("{} is given twice", src.display()));
            continue;
        }
        found.push(Found {
            name: os_bytes(name).to_vec(),
            src,
            parent,
            kind,
            meta,
        });
    }
    if !p.refusals.is_empty() {
        return;
    }
    let names = if !req.names.is_empty() {
        if req.names.len() != found.len() {
            p.refusals.push(format!(
                "{} new names were given for {} items",
                req.names.len(),
                found.len()
            ));
            return;
        }
        req.names.clone()
    } else {
        let Some(pattern) = &req.pattern else {
            p.refusals
                .push("no new names and no pattern were given".into());
            return;
        };
        let items: Vec<PatternItem> = found
            .iter()
            .map(|f| PatternItem {
                name: f.name.clone(),
                is_dir: f.kind == EntryKind::Dir,
                mtime_ns: f.meta.mtime_ns,
                parent: f
                    .parent
                    .file_name()
                    .map(|n| os_bytes(n).to_vec())
                    .unwrap_or_default(),
            })
            .collect();
        match pattern.compile().and_then(|c| c.apply(&items)) {
            Ok(n) => n,
            Err(e) => {
                p.refusals.push(e.to_string());
                return;
            }
        }
    };
    let rows: Vec<RenameRow> = found
        .iter()
        .zip(&names)
        .map(|(f, new)| RenameRow {
            folder: f.parent.clone(),
            old: f.name.clone(),
            new: new.clone(),
        })
        .collect();
    // The file system of each folder, read once; a read-only one refuses the batch.
    let mut fs: std::collections::HashMap<PathBuf, (String, bool)> =
        std::collections::HashMap::new();
    for r in rows.iter().filter(|r| r.old != r.new) {
        if !fs.contains_key(&r.folder) {
            let (fs_type, ro) = fs_of(&r.folder);
            if ro {
                p.refusals
                    .push(format!("{} is on a read-only volume", r.folder.display()));
            }
            fs.insert(r.folder.clone(), (fs_type, ro));
        }
    }
    // A name on disk is taken unless it is an item being renamed (on a volume that ignores
    // case, `a` → `A` finds the item itself).
    let renamed: HashSet<(u64, u64)> = found
        .iter()
        .zip(&rows)
        .filter(|(_, r)| r.old != r.new)
        .map(|(f, _)| (f.meta.dev, f.meta.inode))
        .collect();
    let problems = batch::row_problems(
        &rows,
        |folder, name| {
            lstat(&folder.join(bytes_path(name)))
                .is_some_and(|(_, m)| !renamed.contains(&(m.dev, m.inode)))
        },
        |folder| fs.get(folder).map(|x| x.0.clone()).unwrap_or_default(),
    );
    let mut refused = 0usize;
    let mut refuse = |p: &mut Preview, why: String| {
        refused += 1;
        if refused <= REFUSALS_LISTED {
            p.refusals.push(why);
        }
    };
    // A folder renamed with an item inside it: that item's path would be stale.
    let renamed_dirs: HashSet<&Path> = found
        .iter()
        .zip(&rows)
        .filter(|(f, r)| f.kind == EntryKind::Dir && r.old != r.new)
        .map(|(f, _)| f.src.as_path())
        .collect();
    for (f, problem) in found.iter().zip(problems) {
        if let Some(why) = problem {
            refuse(p, format!("{}: {why}", f.src.display()));
        }
        if !renamed_dirs.is_empty()
            && let Some(dir) = f.src.ancestors().skip(1).find(|a| renamed_dirs.contains(a))
        {
            refuse(
                p,
                format!(
                    "{} is inside {}, which is renamed too; rename them one after the other",
                    f.src.display(),
                    dir.display()
                ),
            );
        }
    }
    if refused > REFUSALS_LISTED {
        p.refusals
            .push(format!("… and {} more", refused - REFUSALS_LISTED));
    }
    let mut changed = 0u64;
    for (f, r) in found.into_iter().zip(rows) {
        let same = r.old == r.new;
        changed += u64::from(!same);
        p.items.push(PreviewItem {
            target: f.parent.join(bytes_path(&r.new)),
            source: f.src,
            kind: f.kind,
            outcome: if same { Outcome::Skip } else { Outcome::Rename },
            bytes: if f.kind == EntryKind::File {
                f.meta.size
            } else {
                0
            },
            files: 1,
            conflict: None,
            mtime_ns: f.meta.mtime_ns,
            inode: f.meta.inode,
        });
    }
    p.files = changed;
    if changed == 0 && p.refusals.is_empty() {
        p.refusals.push(format!(
            "no name changes: {} keep their names",
            if p.items.len() == 1 {
                "the item".to_owned()
            } else {
                format!("all {} items", p.items.len())
            }
        ));
    }
}

fn create(req: &Request, p: &mut Preview) {
    let Some(dest) = &req.dest else {
        p.refusals.push("no folder was given".into());
        return;
    };
    let dest = match std::fs::canonicalize(dest) {
        Ok(d) if d.is_dir() => d,
        _ => {
            p.refusals
                .push(format!("{} is not a folder", dest.display()));
            return;
        }
    };
    let Some(name) = &req.name else {
        p.refusals.push("no name was given".into());
        return;
    };
    if !name_fits(p, &dest, name) {
        return;
    }
    let mut target = dest.join(bytes_path(name));
    if target.symlink_metadata().is_ok() {
        if req.on_conflict == OnConflict::KeepBoth {
            let free = ops::keep_both_name(name, req.kind == OpKind::NewFolder, |n| {
                dest.join(bytes_path(n)).symlink_metadata().is_ok()
            });
            target = dest.join(bytes_path(&free));
        } else {
            p.refusals
                .push(format!("{} already exists", target.display()));
            return;
        }
    }
    p.items.push(PreviewItem {
        source: PathBuf::new(),
        target,
        kind: if req.kind == OpKind::NewFolder {
            EntryKind::Dir
        } else {
            EntryKind::File
        },
        outcome: Outcome::Create,
        bytes: 0,
        files: 1,
        conflict: None,
        mtime_ns: 0,
        inode: 0,
    });
    p.files = 1;
}

fn restore(req: &Request, p: &mut Preview) {
    // The trashes and their items are read once, not once per item.
    let mut items: Option<Vec<trash::Trashed>> = None;
    for s in &req.sources {
        let path = canonical_no_follow(s);
        let all = items.get_or_insert_with(trash::list_all);
        let Some(item) = all.iter().find(|i| {
            i.path() == path
                || std::fs::canonicalize(&i.trash.root)
                    .is_ok_and(|r| r.join("files").join(&i.name) == path)
        }) else {
            p.refusals
                .push(format!("{} is not an item in a trash", s.display()));
            continue;
        };
        let Some((kind, meta)) = lstat(&item.path()) else {
            continue;
        };
        let mut target = item.original.clone();
        let parent = target.parent().unwrap_or(Path::new("/")).to_owned();
        if !parent.is_dir() {
            p.refusals.push(format!(
                "{} cannot go back: its folder {} is gone",
                item.original.display(),
                parent.display()
            ));
            continue;
        }
        let conflict = lstat(&target).map(|existing| conflict_info(existing, meta, None));
        if conflict.is_some() {
            p.conflicts += 1;
            if req.on_conflict == OnConflict::KeepBoth {
                let name = path_bytes(Path::new(target.file_name().unwrap_or_default()));
                let free = ops::keep_both_name(&name, kind == EntryKind::Dir, |n| {
                    parent.join(bytes_path(n)).symlink_metadata().is_ok()
                });
                target = parent.join(bytes_path(&free));
            } else if req.on_conflict != OnConflict::Ask {
                p.refusals.push(format!(
                    "{} exists; restore with keep both",
                    target.display()
                ));
            }
        }
        p.files += 1;
        p.items.push(PreviewItem {
            source: item.path(),
            target,
            kind,
            outcome: Outcome::Restore,
            bytes: meta.size,
            files: 1,
            conflict,
            mtime_ns: meta.mtime_ns,
            inode: meta.inode,
        });
    }
}
