//! Commit (a job, or one immediate change for a rename, a new folder or a new file) and undo.

use std::path::Path;

use redb::ReadableTable;
use uuid::Uuid;

use super::audit::{self, AuditItem, AuditRecord, AuditStatus};
use super::job::{FileOpJob, Top, TopStatus, title_of, tops_of};
use super::{ActionError, OnConflict, OpKind, Outcome, Preview, Request, bytes_path, path_bytes};
use crate::store::Store;
use crate::store::record::decode_record;
use crate::store::schema::OP_ITEMS;
use crate::vdfs::fs::entry::{EntryKind, Meta, os_bytes};
use crate::vdfs::fs::ops::Dir;
use crate::vdfs::index::follow::{self, Deltas};
use crate::vdfs::index::location::{self, LocationRecord};
use crate::vdfs::index::write::IndexWriter;
use crate::vdfs::jobs::{JobHandle, JobManager};

/// What a commit started.
#[derive(Debug)]
pub enum Committed {
    /// A job (copy, move, trash, delete, restore), recorded under an audit id.
    Job {
        /// The job.
        handle: JobHandle,
        /// Its audit record.
        audit: u64,
    },
    /// An immediate change (rename, new folder, new file), done, recorded under an audit id;
    /// the path it made or renamed to.
    Done {
        /// Its audit record.
        audit: u64,
        /// The new path.
        path: std::path::PathBuf,
    },
}

impl Committed {
    /// The audit record's id.
    pub fn audit(&self) -> u64 {
        match self {
            Committed::Job { audit, .. } | Committed::Done { audit, .. } => *audit,
        }
    }
}

/// The library a commit works in.
pub struct Ctx<'a> {
    /// Its store.
    pub store: &'a Store,
    /// Its jobs.
    pub jobs: &'a JobManager,
    /// This device.
    pub device: Uuid,
}

/// Carries out `preview` (refusing if it has refusals).
///
/// # Errors
/// [`ActionError::Refused`]; [`ActionError::Io`] for an immediate change that failed (nothing
/// changed); [`ActionError::Store`]; [`ActionError::Job`].
pub fn commit(c: &Ctx, preview: &Preview) -> Result<Committed, ActionError> {
    if !preview.can_commit() {
        return Err(ActionError::Refused(preview.refusals.clone()));
    }
    if preview.items.iter().all(|i| i.outcome == Outcome::Skip) && !preview.items.is_empty() {
        return Err(ActionError::Refused(vec![
            "every item would be skipped".into(),
        ]));
    }
    let locations = location::list(c.store)?;
    match preview.kind {
        OpKind::Rename => rename(c, &locations, preview, None),
        OpKind::NewFolder | OpKind::NewFile => create(c, &locations, preview, None),
        _ => {
            let title = title_of(preview.kind, &preview.items);
            let audit = new_audit(c, preview.kind, &title, None)?;
            let mut job = FileOpJob::new(audit, preview, &locations);
            if preview.kind == OpKind::Restore {
                attach_snapshots(c.store, job.tops_mut())?;
            }
            start(c, audit, job)
        }
    }
}

/// A new audit record; when it undoes `undo_of`, it is an undo (or, undoing an undo, a redo).
fn audit_record(
    c: &Ctx,
    kind: OpKind,
    title: String,
    undo_of: Option<u64>,
) -> Result<AuditRecord, ActionError> {
    let mut rec = AuditRecord::new(kind, title, c.device);
    rec.undo_of = undo_of;
    if let Some(of) = undo_of {
        rec.is_undo = !audit::get(c.store, of)?.is_some_and(|r| r.is_undo);
    }
    Ok(rec)
}

/// An immediate operation's record: done as soon as it is written.
fn done_record(
    c: &Ctx,
    kind: OpKind,
    title: String,
    undo_of: Option<u64>,
) -> Result<AuditRecord, ActionError> {
    let mut rec = audit_record(c, kind, title, undo_of)?;
    rec.status = AuditStatus::Done;
    rec.finished_ms = Some(rec.started_ms);
    Ok(rec)
}

fn new_audit(c: &Ctx, kind: OpKind, title: &str, undo_of: Option<u64>) -> Result<u64, ActionError> {
    let rec = audit_record(c, kind, title.to_owned(), undo_of)?;
    Ok(c.store.write(move |tx| audit::insert_linked(tx, &rec))?)
}

fn start(c: &Ctx, audit: u64, job: FileOpJob) -> Result<Committed, ActionError> {
    let handle = c.jobs.spawn(job)?;
    let id = handle.id();
    c.store
        .write(move |tx| audit::update(tx, audit, |r| r.job = Some(id)))?;
    Ok(Committed::Job { handle, audit })
}

/// The index snapshots kept when the items now being restored were trashed by Cairn.
fn attach_snapshots(store: &Store, tops: &mut [Top]) -> Result<(), ActionError> {
    let trashed: Vec<(Vec<u8>, Top)> = store.read(|tx| {
        let t = tx.open_table(OP_ITEMS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            if k.value().1 != 0 {
                continue;
            }
            let top: Top = decode_record(v.value())?;
            if let Some(at) = &top.trashed {
                out.push((path_bytes(&at.path()), top));
            }
        }
        Ok(out)
    })?;
    for t in tops.iter_mut() {
        if let Some((_, old)) = trashed.iter().rev().find(|(p, _)| *p == t.source) {
            t.snapshot.clone_from(&old.snapshot);
        }
    }
    Ok(())
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ActionError + '_ {
    move |source| ActionError::Io {
        path: path.to_owned(),
        source,
    }
}

fn rename(
    c: &Ctx,
    locations: &[LocationRecord],
    preview: &Preview,
    undo_of: Option<u64>,
) -> Result<Committed, ActionError> {
    let item = &preview.items[0];
    let (src, dst) = (item.source.clone(), item.target.clone());
    let parent = src.parent().unwrap_or(Path::new("/"));
    let d = Dir::open(parent).map_err(io(parent))?;
    let from = src.file_name().unwrap_or_default();
    let to = dst.file_name().unwrap_or_default();
    match d.stat(from).map_err(io(&src))? {
        Some(st) if st.inode == item.inode => {}
        _ => {
            return Err(ActionError::Refused(vec![format!(
                "{} changed since the preview",
                src.display()
            )]));
        }
    }
    // A change of case only (same inode at the new name) replaces nothing but itself.
    let same_file = d
        .stat(to)
        .ok()
        .flatten()
        .is_some_and(|s| s.inode == item.inode);
    if same_file {
        d.rename_replace(from, &d, to).map_err(io(&dst))?;
    } else {
        d.rename_noreplace(from, &d, to).map_err(io(&dst))?;
    }
    d.sync().map_err(io(parent))?;
    let title = format!(
        "Rename “{}” to “{}”",
        crate::format::shown(Path::new(from)),
        crate::format::shown(Path::new(to))
    );
    let rec = done_record(c, OpKind::Rename, title, undo_of)?;
    let locs = locations.to_vec();
    let (s2, d2) = (src.clone(), dst.clone());
    let audit = c.store.write(move |tx| {
        let mut uuid = None;
        {
            let mut w = IndexWriter::begin(tx)?;
            let mut deltas = Deltas::default();
            if let Some((_, id)) = follow::lookup(&w, &locs, &s2)? {
                uuid = w.get(id)?.map(|r| r.uuid);
                if let Some((_, parent)) =
                    follow::lookup(&w, &locs, s2.parent().unwrap_or(Path::new("/")))?
                {
                    follow::rename(
                        &mut w,
                        &mut deltas,
                        id,
                        parent,
                        os_bytes(d2.file_name().unwrap_or_default()),
                    )?;
                }
            }
            deltas.apply(&mut w, tx)?;
        }
        let mut rec = rec.clone();
        rec.items = vec![AuditItem {
            from: path_bytes(&s2),
            to: path_bytes(&d2),
            uuid,
        }];
        audit::insert_linked(tx, &rec)
    })?;
    Ok(Committed::Done { audit, path: dst })
}

fn create(
    c: &Ctx,
    locations: &[LocationRecord],
    preview: &Preview,
    undo_of: Option<u64>,
) -> Result<Committed, ActionError> {
    let item = &preview.items[0];
    let dst = item.target.clone();
    let parent = dst.parent().unwrap_or(Path::new("/"));
    let d = Dir::open(parent).map_err(io(parent))?;
    let name = dst.file_name().unwrap_or_default();
    if preview.kind == OpKind::NewFolder {
        d.mkdir(name, 0o777).map_err(io(&dst))?;
    } else {
        let f = d.create_new(name, 0o666).map_err(io(&dst))?;
        f.sync_all().map_err(io(&dst))?;
    }
    d.sync().map_err(io(parent))?;
    let meta = super::plan::lstat(&dst)
        .map(|(_, m)| m)
        .ok_or_else(|| ActionError::Io {
            path: dst.clone(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })?;
    let title = format!(
        "{} “{}”",
        if preview.kind == OpKind::NewFolder {
            "New folder"
        } else {
            "New file"
        },
        crate::format::shown(Path::new(name))
    );
    let rec = done_record(c, preview.kind, title, undo_of)?;
    let locs = locations.to_vec();
    let kind = item.kind;
    let d2 = dst.clone();
    let audit = c.store.write(move |tx| {
        let mut uuid = None;
        {
            let mut w = IndexWriter::begin(tx)?;
            let mut deltas = Deltas::default();
            if let Some((loc, pid)) =
                follow::lookup(&w, &locs, d2.parent().unwrap_or(Path::new("/")))?
            {
                let id = follow::insert_new(
                    &mut w,
                    tx,
                    &mut deltas,
                    loc,
                    pid,
                    &follow::NewEntry {
                        name: os_bytes(d2.file_name().unwrap_or_default()).to_vec(),
                        kind,
                        meta,
                        cas: None,
                        content_kind: crate::vdfs::content::filetype::ContentKind::Unknown,
                    },
                )?;
                uuid = w.get(id)?.map(|r| r.uuid);
            }
            deltas.apply(&mut w, tx)?;
        }
        let mut rec = rec.clone();
        rec.items = vec![AuditItem {
            from: Vec::new(),
            to: path_bytes(&d2),
            uuid,
        }];
        audit::insert_linked(tx, &rec)
    })?;
    Ok(Committed::Done { audit, path: dst })
}

/// Redoes the newest undo that was not itself undone (Edit → Redo): an undo of that undo.
///
/// # Errors
/// [`ActionError::Undo`] when there is nothing to redo; as [`undo`] otherwise.
pub fn redo(c: &Ctx) -> Result<Committed, ActionError> {
    let rec = audit::list(c.store, 1000)?
        .into_iter()
        .find(|r| r.is_undo && r.undo_hint().is_ok())
        .ok_or_else(|| ActionError::Undo("there is nothing to redo".into()))?;
    undo(c, Some(rec.id))
}

/// Undoes audit record `id` (the newest undoable one when `None`): a move or rename moves
/// back, a copy's copies go to the trash, a trash is restored (with the entries' UUIDs), a
/// restore is trashed again, a new folder is removed if still empty, a new file trashed if
/// still empty. An item changed since (edited, moved, replaced) is refused, not guessed.
/// The undo is itself an audit record (undoing it redoes the operation).
///
/// Without `id` it is the newest operation not undone yet; while an operation newer than
/// that one has not ended (a job running, or interrupted and not resumed or cancelled), it
/// is refused naming that operation: Ctrl+Z right after a large trash must not undo the
/// rename made before it.
///
/// # Errors
/// [`ActionError::Undo`] naming why; as [`commit`] otherwise.
pub fn undo(c: &Ctx, id: Option<u64>) -> Result<Committed, ActionError> {
    let rec = match id {
        Some(id) => audit::get(c.store, id)?.ok_or_else(|| {
            ActionError::Undo(format!(
                "there is no operation #{id}; `cairn history` lists them"
            ))
        })?,
        None => {
            let recs = audit::list(c.store, 1000)?;
            let pick = recs
                .iter()
                .position(|r| !r.is_undo && r.undo_hint().is_ok());
            let newer = &recs[..pick.unwrap_or(recs.len())];
            if let Some(r) = newer
                .iter()
                .find(|r| matches!(r.status, AuditStatus::Running))
            {
                return Err(ActionError::Undo(format!(
                    "\"{}\" (#{}) has not ended yet: undo it once it has",
                    r.title, r.id
                )));
            }
            pick.map(|i| recs[i].clone())
                .ok_or_else(|| ActionError::Undo("there is nothing to undo".into()))?
        }
    };
    rec.undo_hint()
        .map_err(|w| ActionError::Undo(format!("#{}: {w}", rec.id)))?;
    let locations = location::list(c.store)?;
    match rec.kind {
        OpKind::Rename => {
            let item = rec
                .items
                .first()
                .ok_or_else(|| ActionError::Undo("no item recorded".into()))?;
            let now = bytes_path(&item.to);
            let back = bytes_path(&item.from);
            let name = os_bytes(back.file_name().unwrap_or_default()).to_vec();
            let p = super::preview(
                c.store,
                &locations,
                &Request::new(OpKind::Rename, vec![now]).named(name),
            )?;
            if !p.can_commit() {
                return Err(ActionError::Undo(p.refusals.join("; ")));
            }
            rename(c, &locations, &p, Some(rec.id))
        }
        OpKind::NewFolder => {
            let item = rec
                .items
                .first()
                .ok_or_else(|| ActionError::Undo("no item recorded".into()))?;
            let path = bytes_path(&item.to);
            let parent = path.parent().unwrap_or(Path::new("/"));
            let d = Dir::open(parent).map_err(io(parent))?;
            d.rmdir(path.file_name().unwrap_or_default()).map_err(|e| {
                ActionError::Undo(format!("{} was not removed: {e}", path.display()))
            })?;
            let locs = locations.clone();
            let p2 = path.clone();
            let title = format!(
                "Remove the new folder “{}”",
                crate::format::shown(Path::new(path.file_name().unwrap_or_default()))
            );
            let mut new = done_record(c, OpKind::Delete, title, Some(rec.id))?;
            new.items = vec![AuditItem {
                from: path_bytes(&path),
                to: Vec::new(),
                uuid: item.uuid,
            }];
            let audit = c.store.write(move |tx| {
                {
                    let mut w = IndexWriter::begin(tx)?;
                    let mut d = Deltas::default();
                    if let Some((_, id)) = follow::lookup(&w, &locs, &p2)? {
                        follow::remove(&mut w, &mut d, id)?;
                    }
                    d.apply(&mut w, tx)?;
                }
                audit::insert_linked(tx, &new)
            })?;
            Ok(Committed::Done { audit, path })
        }
        OpKind::NewFile => {
            let item = rec
                .items
                .first()
                .ok_or_else(|| ActionError::Undo("no item recorded".into()))?;
            let path = bytes_path(&item.to);
            if std::fs::symlink_metadata(&path)
                .map(|m| m.len())
                .unwrap_or(1)
                != 0
            {
                return Err(ActionError::Undo(format!(
                    "{} was written to since; left as it is",
                    path.display()
                )));
            }
            let p = super::preview(
                c.store,
                &locations,
                &Request::new(OpKind::Trash, vec![path]),
            )?;
            undo_with(c, &rec, p)
        }
        OpKind::Copy | OpKind::Duplicate | OpKind::Restore => {
            let tops = done_tops(c.store, &rec)?;
            let mut paths = Vec::new();
            for t in &tops {
                let target = bytes_path(&t.target);
                match std::fs::symlink_metadata(&target) {
                    Ok(m)
                        if rec.kind == OpKind::Restore
                            || t.kind == EntryKind::Dir
                            || Meta::of(&m).mtime_ns == t.mtime_ns =>
                    {
                        paths.push(target)
                    }
                    Ok(_) => {
                        return Err(ActionError::Undo(format!(
                            "{} was changed since; left as it is",
                            target.display()
                        )));
                    }
                    Err(_) => {}
                }
            }
            if paths.is_empty() {
                return Err(ActionError::Undo(
                    "none of its items is where it put them".into(),
                ));
            }
            let p = super::preview(c.store, &locations, &Request::new(OpKind::Trash, paths))?;
            undo_with(c, &rec, p)
        }
        OpKind::Move => {
            let tops = done_tops(c.store, &rec)?;
            let mut back = Vec::new();
            for t in tops {
                let now = bytes_path(&t.target);
                let was = bytes_path(&t.source);
                let Ok(m) = std::fs::symlink_metadata(&now) else {
                    return Err(ActionError::Undo(format!(
                        "{} is no longer there",
                        now.display()
                    )));
                };
                let m = Meta::of(&m);
                if t.outcome == Outcome::Rename && m.inode != t.inode {
                    return Err(ActionError::Undo(format!(
                        "{} was replaced since; left as it is",
                        now.display()
                    )));
                }
                if std::fs::symlink_metadata(&was).is_ok() {
                    return Err(ActionError::Undo(format!(
                        "{} exists again; nothing was moved back",
                        was.display()
                    )));
                }
                let same =
                    super::plan::dev_of(was.parent().unwrap_or(Path::new("/"))) == Some(m.dev);
                back.push(Top {
                    source: t.target.clone(),
                    target: t.source.clone(),
                    kind: t.kind,
                    outcome: if same {
                        Outcome::Rename
                    } else {
                        Outcome::CopyThenRemove
                    },
                    size: t.size,
                    mtime_ns: m.mtime_ns,
                    inode: m.inode,
                    status: TopStatus::Pending,
                    trashed: None,
                    snapshot: Vec::new(),
                });
            }
            start_undo(c, &rec, OpKind::Move, back, &locations)
        }
        OpKind::BatchRename => {
            // Every item renamed back in one batch rename (a cycle undone is a cycle), each
            // refused if it is not where the batch put it.
            let mut sources = Vec::new();
            let mut names = Vec::new();
            for t in done_tops(c.store, &rec)? {
                if t.outcome != Outcome::Rename {
                    continue;
                }
                let now = bytes_path(&t.target);
                match super::plan::lstat(&now) {
                    Some((_, m)) if m.inode == t.inode => {}
                    Some(_) => {
                        return Err(ActionError::Undo(format!(
                            "{} was replaced since; nothing was renamed back",
                            now.display()
                        )));
                    }
                    None => {
                        return Err(ActionError::Undo(format!(
                            "{} is no longer there; nothing was renamed back",
                            now.display()
                        )));
                    }
                }
                let old = bytes_path(&t.source);
                names.push(os_bytes(old.file_name().unwrap_or_default()).to_vec());
                sources.push(now);
            }
            if sources.is_empty() {
                return Err(ActionError::Undo("none of its items was renamed".into()));
            }
            let p = super::preview(
                c.store,
                &locations,
                &Request::new(OpKind::BatchRename, sources).names(names),
            )?;
            undo_with(c, &rec, p)
        }
        OpKind::Trash => {
            let tops = done_tops(c.store, &rec)?;
            let mut back = Vec::new();
            for t in tops {
                let Some(at) = t.trashed.clone() else {
                    continue;
                };
                let in_trash = at.path();
                if std::fs::symlink_metadata(&in_trash).is_err() {
                    return Err(ActionError::Undo(format!(
                        "{} is no longer in the trash",
                        bytes_path(&t.source).display()
                    )));
                }
                if std::fs::symlink_metadata(bytes_path(&t.source)).is_ok() {
                    return Err(ActionError::Undo(format!(
                        "{} exists again; nothing was restored",
                        bytes_path(&t.source).display()
                    )));
                }
                back.push(Top {
                    source: path_bytes(&in_trash),
                    target: t.source.clone(),
                    kind: t.kind,
                    outcome: Outcome::Restore,
                    size: t.size,
                    mtime_ns: t.mtime_ns,
                    inode: t.inode,
                    status: TopStatus::Pending,
                    trashed: Some(at),
                    snapshot: t.snapshot.clone(),
                });
            }
            start_undo(c, &rec, OpKind::Restore, back, &locations)
        }
        // The undo of a new folder (the only delete that is an undo): make it again.
        OpKind::Delete if rec.is_undo => {
            let item = rec
                .items
                .first()
                .ok_or_else(|| ActionError::Undo("no item recorded".into()))?;
            let path = bytes_path(&item.from);
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                return Err(ActionError::Undo(format!(
                    "{} cannot be made",
                    path.display()
                )));
            };
            let p = super::preview(
                c.store,
                &locations,
                &Request::new(OpKind::NewFolder, Vec::new())
                    .to(parent)
                    .named(os_bytes(name).to_vec()),
            )?;
            if !p.can_commit() {
                return Err(ActionError::Undo(p.refusals.join("; ")));
            }
            create(c, &locations, &p, Some(rec.id))
        }
        // Undoing links: each linked file gets its own copy of the kept file again (a
        // verified copy renamed over the link), as long as it is still that link.
        OpKind::HardLink if !rec.is_undo => {
            let mut back = Vec::new();
            for t in done_tops(c.store, &rec)? {
                if t.outcome != Outcome::Link {
                    continue;
                }
                let (linked, kept) = (bytes_path(&t.source), bytes_path(&t.target));
                let (Ok(l), Ok(k)) = (
                    std::fs::symlink_metadata(&linked),
                    std::fs::symlink_metadata(&kept),
                ) else {
                    return Err(ActionError::Undo(format!(
                        "{} or {} is no longer there",
                        linked.display(),
                        kept.display()
                    )));
                };
                let (l, k) = (Meta::of(&l), Meta::of(&k));
                if (l.dev, l.inode) != (k.dev, k.inode) {
                    return Err(ActionError::Undo(format!(
                        "{} is no longer a link to {}; left as it is",
                        linked.display(),
                        kept.display()
                    )));
                }
                back.push(Top {
                    source: t.target.clone(),
                    target: t.source.clone(),
                    kind: EntryKind::File,
                    outcome: Outcome::Replace,
                    size: k.size,
                    mtime_ns: k.mtime_ns,
                    inode: k.inode,
                    status: TopStatus::Pending,
                    trashed: None,
                    snapshot: Vec::new(),
                });
            }
            if back.is_empty() {
                return Err(ActionError::Undo("it linked nothing".into()));
            }
            start_undo(c, &rec, OpKind::HardLink, back, &locations)
        }
        // Redoing links: the files that were given their own copies are linked again.
        OpKind::HardLink => {
            let pairs = done_tops(c.store, &rec)?
                .into_iter()
                .map(|t| (bytes_path(&t.target), bytes_path(&t.source)))
                .collect();
            let p = super::preview(c.store, &locations, &Request::hard_links(pairs))?;
            undo_with(c, &rec, p)
        }
        OpKind::Delete => Err(ActionError::Undo(
            "a permanent delete cannot be undone".into(),
        )),
    }
}

/// Starts the job that undoes `rec` with explicit items.
fn start_undo(
    c: &Ctx,
    rec: &AuditRecord,
    kind: OpKind,
    tops: Vec<Top>,
    locations: &[LocationRecord],
) -> Result<Committed, ActionError> {
    let title = undo_title(c, rec);
    let audit = new_audit(c, kind, &title, Some(rec.id))?;
    let job = FileOpJob::from_tops(audit, kind, title, tops, true, OnConflict::Ask, locations);
    start(c, audit, job)
}

fn undo_with(c: &Ctx, rec: &AuditRecord, p: Preview) -> Result<Committed, ActionError> {
    if !p.can_commit() {
        return Err(ActionError::Undo(p.refusals.join("; ")));
    }
    let title = undo_title(c, rec);
    let audit = new_audit(c, p.kind, &title, Some(rec.id))?;
    let locations = location::list(c.store)?;
    let job = FileOpJob::new(audit, &p, &locations);
    start(c, audit, job)
}

/// "Undo: …" for an undo, "Redo: …" (with the original title) for the undo of an undo.
fn undo_title(c: &Ctx, rec: &AuditRecord) -> String {
    if rec.is_undo
        && let Some(of) = rec.undo_of
        && let Ok(Some(orig)) = audit::get(c.store, of)
    {
        return format!("Redo: {}", orig.title.trim_start_matches("Redo: "));
    }
    format!("Undo: {}", rec.title.trim_start_matches("Redo: "))
}

fn done_tops(store: &Store, rec: &AuditRecord) -> Result<Vec<Top>, ActionError> {
    let job = rec
        .job
        .ok_or_else(|| ActionError::Undo(format!("#{} has no job", rec.id)))?;
    // Items are done in order; those the job went through and did not fail or skip are done
    // (their status is written only when it is not "done").
    let went_through = rec.items_done.unwrap_or(0);
    Ok(tops_of(store, job)?
        .into_iter()
        .take(usize::try_from(went_through).unwrap_or(usize::MAX))
        .filter(|t| matches!(t.status, TopStatus::Done | TopStatus::Pending))
        .collect())
}

/// Empties the trash for good: every item of `items` (all when `None`). Returns how many
/// items were removed.
///
/// # Errors
/// [`ActionError::Io`] for the first item that could not be removed (those before it are
/// gone).
pub fn empty_trash(items: Option<&[crate::vdfs::fs::trash::Trashed]>) -> Result<u64, ActionError> {
    let all;
    let items = match items {
        Some(i) => i,
        None => {
            all = crate::vdfs::fs::trash::list_all();
            &all
        }
    };
    let mut n = 0;
    for i in items {
        crate::vdfs::fs::trash::purge(i).map_err(|source| ActionError::Io {
            path: i.path(),
            source,
        })?;
        n += 1;
    }
    Ok(n)
}
