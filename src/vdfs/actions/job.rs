//! [`FileOpJob`]: copies, moves, trashes, permanent deletes and restores as one durable,
//! resumable job.
//!
//! **Plan.** The first run expands the previewed items into steps (a folder copy: its folders
//! in pre-order, each file and link, then each folder's permissions and times in post-order,
//! and for a move across volumes each emptied source folder's removal), read from the disk
//! through folder handles, and stores them with the items in `op_items` in one checkpoint.
//!
//! **Batches.** Steps run in batches (≤ 512 copied files or 128 MiB, ≤ 4,096 steps). A file is copied to
//! `.cairn-<job>-<step>.part` in its destination folder (`O_EXCL`), hashed with BLAKE3 as it is
//! read; the batch's file system is flushed once (`syncfs`); each copy is re-read and checked
//! against the source's size and hash; then renamed to its name without replacing anything
//! (unless "replace" was chosen), the folders are flushed, and for a move across volumes the
//! sources are removed. The index changes and the cursor are committed in one checkpoint.
//!
//! **Kill-safety.** A run killed at any instant resumes at the first step of its unfinished
//! batch. Every step is redone in a way that recognises work already done: a leftover temporary
//! file (our own name, a regular file) is removed first; a destination identical to its source
//! (size and BLAKE3) counts as copied; a source already gone whose destination exists counts as
//! moved; a trashed item is found in the trash by its original path (orphaned info files of a
//! killed claim are removed). So every file is complete at its source or complete and verified
//! at its destination, never half-written under its final name, and no temporary file stays.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::{Path, PathBuf};

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::audit::{self, AuditStatus};
use super::{OnConflict, OpKind, Outcome, Preview, bytes_path, path_bytes};
use crate::store::StoreError;
use crate::store::record::{Record, decode_record, encode_record};
use crate::store::schema::OP_ITEMS;
use crate::vdfs::fs::entry::{EntryKind, Meta, os_bytes};
use crate::vdfs::fs::ops::{self, Dir, NameStat};
use crate::vdfs::fs::trash::{self, TrashDir};
use crate::vdfs::index::follow::{self, Deltas, Snapshot};
use crate::vdfs::index::location::{self, LocationRecord};
use crate::vdfs::index::write::IndexWriter;
use crate::vdfs::jobs::{Job, JobContext, JobError, JobPathError, JobProgress, Resource};

/// Files per batch.
const BATCH_FILES: usize = 512;

/// Test seams, read only in builds with debug assertions (the tests; release builds ignore
/// them): `CAIRN_TEST_KILL_AT=N` makes the process SIGKILL itself at the Nth kill point (each
/// point is a moment between two system calls that change the disk or the store: after a
/// temporary file is created or written, after a flush, a verify, a rename, a source removal,
/// a trash claim, a checkpoint); `CAIRN_TEST_KILL_LOG=FILE` writes the number of points
/// passed so far to FILE at each point (so a test knows how many there are);
/// `CAIRN_TEST_OP_BATCH=N` makes batches of N files (many batches from a small tree).
pub const KILL_AT_ENV: &str = "CAIRN_TEST_KILL_AT";
/// See [`KILL_AT_ENV`].
pub const KILL_LOG_ENV: &str = "CAIRN_TEST_KILL_LOG";
/// See [`KILL_AT_ENV`].
pub const BATCH_ENV: &str = "CAIRN_TEST_OP_BATCH";

fn kill_point() {
    if !cfg!(debug_assertions) {
        return;
    }
    use std::sync::atomic::{AtomicU64, Ordering};
    static PASSED: AtomicU64 = AtomicU64::new(0);
    let at = std::env::var(KILL_AT_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let log = std::env::var_os(KILL_LOG_ENV);
    if at.is_none() && log.is_none() {
        return;
    }
    let n = PASSED.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(log) = log {
        let _ = std::fs::write(log, n.to_string());
    }
    if at == Some(n) {
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    }
}

fn batch_files() -> usize {
    if cfg!(debug_assertions)
        && let Some(n) = std::env::var(BATCH_ENV).ok().and_then(|v| v.parse().ok())
    {
        return n;
    }
    BATCH_FILES
}
/// Files at least this large are copied by the kernel and hashed at verification (source
/// and copy on two threads); smaller ones are hashed as they are read.
const LARGE_FILE: u64 = 2 << 20;
/// Steps per batch at most (renames, trashes, folders).
const BATCH_STEPS: usize = 16_384;
/// Bytes per batch (at least one file).
const BATCH_BYTES: u64 = 128 << 20;

/// Where a trashed item went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrashedAt {
    /// The trash folder.
    pub root: Vec<u8>,
    /// Its top folder (a top-folder trash).
    pub topdir: Option<Vec<u8>>,
    /// The item's name in `files/`.
    pub name: Vec<u8>,
}

impl TrashedAt {
    /// The item's path in the trash.
    pub fn path(&self) -> PathBuf {
        bytes_path(&self.root)
            .join("files")
            .join(bytes_path(&self.name))
    }
}

/// How an item ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopStatus {
    /// Not done yet.
    Pending,
    /// Done.
    Done,
    /// Left alone by choice.
    Skipped,
    /// Failed (or partly done); the reason.
    Failed(String),
}

/// One item of an operation, as stored in `op_items` part 0 (kept after the job for undo).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Top {
    /// Where it was, exact bytes.
    pub source: Vec<u8>,
    /// Where it goes, exact bytes (for a trash, the trash folder until done).
    pub target: Vec<u8>,
    /// Its kind.
    pub kind: EntryKind,
    /// What happens to it.
    pub outcome: Outcome,
    /// Its size (a file) when previewed.
    pub size: u64,
    /// Its modification time when previewed, ns.
    pub mtime_ns: i64,
    /// Its inode when previewed.
    pub inode: u64,
    /// How it ended.
    pub status: TopStatus,
    /// Where it went in the trash.
    pub trashed: Option<TrashedAt>,
    /// Its index entries removed by a trash or a delete (restored with their UUIDs), or
    /// carried by a restore.
    pub snapshot: Vec<Snapshot>,
}

impl Record for Top {
    const TABLE: &'static str = "op_items";
    const VERSION: u8 = 1;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum StepOp {
    Mkdir,
    CopyFile,
    CopyLink,
    DirMeta,
    RemoveSourceDir,
    RenameTop,
    TrashTop,
    DeleteTop,
    RestoreTop,
    TopDone,
    /// Replace `src` by a hard link to `dst` (the kept copy), after comparing both in full.
    LinkTop,
    /// A batch rename's item stepping aside to a temporary name to break a cycle (its
    /// `RenameTop` step then goes from there to its new name).
    RenameAside,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Step {
    op: StepOp,
    top: u32,
    src: Vec<u8>,
    dst: Vec<u8>,
    kind: EntryKind,
    size: u64,
    mode: u32,
    mtime_ns: i64,
    inode: u64,
    replace: bool,
    remove_source: bool,
    outcome: Outcome,
}

impl Step {
    /// Top `top`'s closing step ([`StepOp::TopDone`]), the base of its other steps: its paths,
    /// metadata and outcome, replacing for an explicit replace, removing the source for a move
    /// across volumes.
    fn top_done(t: &Top, top: u32) -> Step {
        Step {
            op: StepOp::TopDone,
            top,
            src: t.source.clone(),
            dst: t.target.clone(),
            kind: t.kind,
            size: t.size,
            mode: 0,
            mtime_ns: t.mtime_ns,
            inode: t.inode,
            replace: t.outcome == Outcome::Replace,
            remove_source: t.outcome == Outcome::CopyThenRemove,
            outcome: t.outcome,
        }
    }
}

impl Record for Step {
    const TABLE: &'static str = "op_items";
    const VERSION: u8 = 1;
}

/// The index change a finished step asks for (applied in the checkpoint).
#[derive(Debug, Clone)]
enum Change {
    Created {
        dst: PathBuf,
        kind: EntryKind,
        meta: Meta,
        src: Option<PathBuf>,
    },
    Moved {
        src: PathBuf,
        dst: PathBuf,
        refresh: bool,
    },
    Removed {
        path: PathBuf,
        top: u32,
    },
    Restored {
        dst: PathBuf,
        top: u32,
    },
    DirMeta {
        path: PathBuf,
        mtime_ns: i64,
    },
    /// The same contents under the same path, now another inode (a hard link made, or a
    /// link given its own copy again): the entry keeps its UUID and content identity.
    Relinked {
        path: PathBuf,
    },
}

/// A copy, move, trash, permanent delete or restore, as a durable job (see the module docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileOpJob {
    /// The audit record.
    pub audit: u64,
    /// The operation.
    pub kind: OpKind,
    /// The title.
    pub title: String,
    /// Verify copies.
    pub verify: bool,
    /// The conflict policy for names taken inside merged folders.
    pub on_conflict: OnConflict,
    tops: Vec<Top>,
    planned: bool,
    steps: u64,
    cursor: u64,
    files_total: u64,
    bytes_total: u64,
    files_done: u64,
    bytes_done: u64,
    failed: Vec<u32>,
    errors: u64,
    rescan: Vec<Vec<u8>>,
    locations: Vec<u32>,
    tops_done: u64,
    #[serde(skip)]
    recover_until: u64,
    /// Folders whose names changed in this batch, flushed once at its end.
    #[serde(skip)]
    touched: HashSet<PathBuf>,
    /// This process ran the job (so a cancel comes between two batches), as opposed to a
    /// cancel of a job a kill interrupted, whose batch in flight may be half done.
    #[serde(skip)]
    ran_here: bool,
}

impl FileOpJob {
    /// The job carrying out `preview` (which must be committable), recorded under audit
    /// record `audit`; `locations` are the library's, to know which it writes.
    pub fn new(audit: u64, preview: &Preview, locations: &[LocationRecord]) -> FileOpJob {
        let tops = preview
            .items
            .iter()
            .map(|i| Top {
                source: path_bytes(&i.source),
                target: path_bytes(&i.target),
                kind: i.kind,
                outcome: i.outcome,
                size: i.bytes,
                mtime_ns: i.mtime_ns,
                inode: i.inode,
                status: TopStatus::Pending,
                trashed: None,
                snapshot: Vec::new(),
            })
            .collect();
        let title = title_of(preview.kind, &preview.items);
        FileOpJob::from_tops(
            audit,
            preview.kind,
            title,
            tops,
            preview.verify,
            preview.on_conflict,
            locations,
        )
    }

    /// A job over explicit items (an undo: each item's target is exact).
    pub fn from_tops(
        audit: u64,
        kind: OpKind,
        title: String,
        tops: Vec<Top>,
        verify: bool,
        on_conflict: OnConflict,
        locations: &[LocationRecord],
    ) -> FileOpJob {
        let mut locs = HashSet::new();
        for t in &tops {
            for p in [&t.source, &t.target] {
                if let Some(l) = location::containing(locations, &bytes_path(p)) {
                    locs.insert(l.id);
                }
            }
        }
        let mut locations: Vec<u32> = locs.into_iter().collect();
        locations.sort_unstable();
        FileOpJob {
            audit,
            kind,
            title,
            verify,
            on_conflict,
            tops,
            planned: false,
            steps: 0,
            cursor: 0,
            files_total: 0,
            bytes_total: 0,
            files_done: 0,
            bytes_done: 0,
            failed: Vec::new(),
            errors: 0,
            rescan: Vec::new(),
            locations,
            tops_done: 0,
            recover_until: 0,
            ran_here: false,
            touched: HashSet::new(),
        }
    }

    /// The items (before the job is planned; afterwards they are in `op_items`).
    pub fn tops_mut(&mut self) -> &mut Vec<Top> {
        &mut self.tops
    }
}

/// A title such as `Copy 3 items to Backup` or `Trash photo.jpg`.
pub fn title_of(kind: OpKind, items: &[super::PreviewItem]) -> String {
    let what = match items {
        [one] => format!(
            "“{}”",
            crate::format::shown(Path::new(one.source.file_name().unwrap_or_default()))
        ),
        many => format!("{} items", many.len()),
    };
    let folder = |p: &Path| {
        crate::format::shown(Path::new(
            p.parent().and_then(|x| x.file_name()).unwrap_or_default(),
        ))
    };
    let verb = kind.verb();
    let mut verb = verb.to_owned();
    if let Some(c) = verb.get_mut(0..1) {
        c.make_ascii_uppercase();
    }
    match (kind, items.first()) {
        (OpKind::Copy | OpKind::Move, Some(i)) => format!("{verb} {what} to {}", folder(&i.target)),
        _ => format!("{verb} {what}"),
    }
}

/// The tops of job `job` (its items), as stored.
///
/// # Errors
/// [`StoreError`].
pub fn tops_of(store: &crate::store::Store, job: u64) -> Result<Vec<Top>, StoreError> {
    store.read(|tx| {
        let t = tx.open_table(OP_ITEMS)?;
        let mut out = Vec::new();
        for row in t.range((job, 0u8, 0u64)..=(job, 0u8, u64::MAX))? {
            out.push(decode_record(row?.1.value())?);
        }
        Ok(out)
    })
}

fn name_of(p: &Path) -> &OsStr {
    p.file_name().unwrap_or_default()
}

fn parent_of(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("/"))
}

fn temp_name(job: u64, step: u64) -> OsString {
    OsString::from(format!(".cairn-{job}-{step}.part"))
}

/// Folder handles by path, reused across the steps of a batch.
#[derive(Default)]
struct Dirs(HashMap<PathBuf, Dir>);

impl Dirs {
    /// The handles of two folders at once (both opened if needed).
    fn two(&mut self, a: &Path, b: &Path) -> std::io::Result<(&Dir, &Dir)> {
        self.get(a)?;
        self.get(b)?;
        if !self.0.contains_key(a) {
            // Opening `b` emptied the cache; open `a` again.
            self.get(a)?;
        }
        Ok((&self.0[a], &self.0[b]))
    }

    fn get(&mut self, p: &Path) -> std::io::Result<&Dir> {
        if !self.0.contains_key(p) {
            if self.0.len() > 64 {
                self.0.clear();
            }
            let d = Dir::open(p)?;
            self.0.insert(p.to_owned(), d);
        }
        Ok(&self.0[p])
    }
}

/// A copy written to its temporary name, waiting for the batch's flush.
struct Pending {
    step: Step,
    file: File,
    /// A large file's copy as read back while it was copied ([`ops::copy_large_verified`]);
    /// other copies are read back at verification.
    read_back: Option<Hashed>,
    tmp: OsString,
    name: OsString,
    hash: Option<blake3::Hash>,
    size: u64,
    meta: Meta,
    replace: bool,
}

/// Bytes read and their BLAKE3.
type Hashed = (u64, blake3::Hash);

/// What one batch produced.
#[derive(Default)]
struct Batch {
    changes: Vec<Change>,
    tops: Vec<(u32, TopStatus, Option<TrashedAt>)>,
    errors: Vec<JobPathError>,
}

impl Job for FileOpJob {
    const KIND: &'static str = "file_operation";

    fn title(&self) -> String {
        self.title.clone()
    }

    fn resources(&self) -> Vec<Resource> {
        self.locations
            .iter()
            .map(|&l| Resource::Location(l))
            .collect()
    }

    fn run(&mut self, ctx: &mut JobContext) -> Result<String, JobError> {
        match self.run_inner(ctx) {
            Ok(s) => Ok(s),
            Err(JobError::Interrupted(i)) => Err(JobError::Interrupted(i)),
            Err(e) => {
                let audit_id = self.audit;
                let msg = e.to_string();
                let job = ctx.id();
                let done = self.tops_done;
                let _ = ctx.store().write(move |tx| {
                    audit::finish(
                        tx,
                        audit_id,
                        AuditStatus::Failed,
                        "",
                        std::slice::from_ref(&msg),
                        done,
                    )?;
                    remove_steps(tx, job)
                });
                Err(e)
            }
        }
    }

    fn on_cancel(&mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        let job = ctx.id();
        // A job a kill interrupted may have done part of its batch in flight (copies renamed
        // into place, items trashed) without recording it: that batch is finished first —
        // its done work recognised, not redone — and recorded, so that the audit record says
        // what was done and an undo finds all of it. A cancel of a job running here comes
        // between two batches and does nothing more. (A kill that fell exactly between two
        // batches makes this run one more batch; it is recorded all the same.)
        if self.planned && !self.ran_here && self.cursor < self.steps {
            self.recover_until = self.cursor + BATCH_STEPS.max(batch_files()) as u64;
            let locations = location::list(ctx.store())?;
            let steps = self.next_batch(ctx, job)?;
            if !steps.is_empty() {
                let batch = self.carry_out(ctx, job, &locations, steps);
                let effects = effects(job, self.audit, batch.changes, batch.tops, None);
                // Written, then "interrupted" because the cancel is asked for: expected here.
                match ctx.checkpoint(self, effects) {
                    Ok(()) | Err(JobError::Interrupted(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        // Remove the temporary files of the batch that was running (a batch always ends with
        // its copies renamed or removed, but a kill may have left some).
        let steps = read_steps(ctx, job, self.cursor, BATCH_STEPS)?;
        for (idx, s) in steps {
            match s.op {
                StepOp::CopyFile => remove_temp(&bytes_path(&s.dst), job, idx),
                StepOp::LinkTop => remove_temp(&bytes_path(&s.src), job, idx),
                _ => {}
            }
        }
        let audit_id = self.audit;
        let summary = self.summary();
        let done = self.tops_done;
        ctx.store().write(move |tx| {
            audit::finish(tx, audit_id, AuditStatus::Cancelled, &summary, &[], done)?;
            remove_steps(tx, job)
        })?;
        Ok(())
    }
}

fn remove_temp(dst: &Path, job: u64, idx: u64) {
    if let Ok(d) = Dir::open(parent_of(dst)) {
        let tmp = temp_name(job, idx);
        if let Ok(Some(st)) = d.stat(&tmp)
            && st.kind == EntryKind::File
        {
            let _ = d.unlink(&tmp);
        }
    }
}

fn read_steps(
    ctx: &JobContext,
    job: u64,
    from: u64,
    max: usize,
) -> Result<Vec<(u64, Step)>, JobError> {
    Ok(ctx.store().read(|tx| {
        let t = tx.open_table(OP_ITEMS)?;
        let mut out = Vec::new();
        for row in t.range((job, 1u8, from)..=(job, 1u8, u64::MAX))?.take(max) {
            let (k, v) = row?;
            out.push((k.value().2, decode_record::<Step>(v.value())?));
        }
        Ok(out)
    })?)
}

/// Item `top` of job `job`, as stored (`None` if it cannot be read).
fn read_top(ctx: &JobContext, job: u64, top: u32) -> Option<Top> {
    ctx.store()
        .read(|tx| {
            let t = tx.open_table(OP_ITEMS)?;
            t.get((job, 0u8, u64::from(top)))?
                .map(|v| decode_record::<Top>(v.value()))
                .transpose()
        })
        .ok()
        .flatten()
}

fn remove_steps(tx: &WriteTransaction, job: u64) -> Result<(), StoreError> {
    let mut t = tx.open_table(OP_ITEMS)?;
    t.retain_in((job, 1u8, 0u64)..=(job, 1u8, u64::MAX), |_, _| false)?;
    Ok(())
}

impl FileOpJob {
    fn summary(&self) -> String {
        let items = matches!(
            self.kind,
            OpKind::Trash | OpKind::Delete | OpKind::Restore | OpKind::BatchRename
        );
        let unit = match (items, self.files_total == 1) {
            (true, true) => "item",
            (true, false) => "items",
            (false, true) => "file",
            (false, false) => "files",
        };
        let mut s = if self.kind == OpKind::BatchRename {
            format!(
                "{} of {} {unit} renamed",
                crate::format::count(self.files_done),
                crate::format::count(self.files_total),
            )
        } else {
            format!(
                "{} of {} {unit}, {}",
                crate::format::count(self.files_done),
                crate::format::count(self.files_total),
                crate::format::bytes(self.bytes_done)
            )
        };
        if self.errors > 0 {
            s.push_str(&format!(
                ", {} {}",
                self.errors,
                if self.errors == 1 { "error" } else { "errors" }
            ));
        }
        s
    }

    fn phase(&self) -> &'static str {
        match self.kind {
            OpKind::Copy | OpKind::Duplicate => "copying",
            OpKind::Move => "moving",
            OpKind::Trash => "trashing",
            OpKind::Delete => "deleting",
            OpKind::Restore => "restoring",
            OpKind::HardLink => "linking",
            OpKind::BatchRename => "renaming",
            OpKind::Rename | OpKind::NewFolder | OpKind::NewFile => "working",
        }
    }

    fn run_inner(&mut self, ctx: &mut JobContext) -> Result<String, JobError> {
        self.ran_here = true;
        // The audit record names its job: `commit` links them once the job is started, but a
        // kill can land between the two (the job's thread runs at once), leaving a record an
        // undo cannot follow. The job, run again on resume, makes sure of it.
        let (audit_id, job) = (self.audit, ctx.id());
        ctx.store()
            .write(move |tx| audit::update(tx, audit_id, |r| r.job = Some(job)))?;
        // A run of a job planned before is a resume: the first batch may find the traces of a
        // killed run (orphaned trash claims) and looks for them.
        self.recover_until = if self.planned {
            self.cursor + BATCH_STEPS.max(batch_files()) as u64
        } else {
            0
        };
        if !self.planned {
            self.plan(ctx)?;
        }
        let job = ctx.id();
        let locations = location::list(ctx.store())?;
        loop {
            let steps = self.next_batch(ctx, job)?;
            if steps.is_empty() {
                break;
            }
            let batch = self.carry_out(ctx, job, &locations, steps);
            ctx.set_progress(JobProgress {
                phase: self.phase().into(),
                completed: self.files_done,
                total: Some(self.files_total),
                bytes: self.bytes_done,
                message: format!(
                    "{} of {}",
                    crate::format::bytes(self.bytes_done),
                    crate::format::bytes(self.bytes_total)
                ),
            });
            let last = self.cursor >= self.steps;
            let fin = last.then(|| {
                let (status, summary) = self.final_status();
                (status, summary, self.tops_done)
            });
            let audit_id = self.audit;
            let effects = effects(job, audit_id, batch.changes, batch.tops, fin);
            kill_point();
            ctx.checkpoint(self, effects)?;
            kill_point();
        }
        for folder in std::mem::take(&mut self.rescan) {
            let path = bytes_path(&folder);
            if let Some(loc) = location::containing(&locations, &path) {
                let rel = path
                    .strip_prefix(loc.path())
                    .map(path_bytes)
                    .unwrap_or_default();
                ctx.queue(crate::vdfs::indexer::IndexerJob::scoped(&loc, rel));
            }
        }
        Ok(self.summary())
    }

    fn final_status(&self) -> (AuditStatus, String) {
        let status = if self.failed.is_empty() && self.errors == 0 {
            AuditStatus::Done
        } else if self.files_done > 0 {
            AuditStatus::Partial
        } else {
            AuditStatus::Failed
        };
        (status, self.summary())
    }

    /// Runs a batch of `steps`, moves the cursor past them and records their errors; the
    /// batch's changes are for the caller's checkpoint.
    fn carry_out(
        &mut self,
        ctx: &mut JobContext,
        job: u64,
        locations: &[LocationRecord],
        steps: Vec<(u64, Step)>,
    ) -> Batch {
        let consumed = steps.len() as u64;
        let batch = self.run_batch(ctx, job, locations, steps);
        self.cursor += consumed;
        for e in &batch.errors {
            ctx.record_error(e.clone());
        }
        self.errors += batch.errors.len() as u64;
        batch
    }

    /// The next batch: up to [`BATCH_FILES`] copied files or [`BATCH_BYTES`], and up to
    /// [`BATCH_STEPS`] steps in all (a rename or a trash is one system call: large batches
    /// keep the flushes and checkpoints per item low).
    fn next_batch(&self, ctx: &JobContext, job: u64) -> Result<Vec<(u64, Step)>, JobError> {
        let files = batch_files();
        let max_steps = if files == BATCH_FILES {
            BATCH_STEPS
        } else {
            files
        };
        let mut steps = read_steps(ctx, job, self.cursor, max_steps)?;
        let (mut bytes, mut copies) = (0u64, 0usize);
        let mut keep = 0;
        for (i, (_, s)) in steps.iter().enumerate() {
            if s.op == StepOp::CopyFile {
                bytes += s.size;
                copies += 1;
            }
            keep = i + 1;
            if bytes >= BATCH_BYTES || copies >= files {
                break;
            }
        }
        steps.truncate(keep);
        if self.kind == OpKind::BatchRename {
            self.close_cycles(ctx, job, &mut steps)?;
        }
        Ok(steps)
    }

    /// Extends a batch rename's batch until no item is left at a temporary name (up to its
    /// `TopDone`), so a batch always ends with each item under its old or its new name: a
    /// cancel or a pause between batches leaves no temporary name behind, and a kill inside
    /// one is finished by the resumed run redoing that batch.
    fn close_cycles(
        &self,
        ctx: &JobContext,
        job: u64,
        steps: &mut Vec<(u64, Step)>,
    ) -> Result<(), JobError> {
        let mut open: HashSet<u32> = HashSet::new();
        let mut i = 0;
        loop {
            if i == steps.len() {
                if open.is_empty() {
                    return Ok(());
                }
                let from = steps.last().map_or(self.cursor, |s| s.0 + 1);
                let more = read_steps(ctx, job, from, BATCH_STEPS)?;
                if more.is_empty() {
                    return Ok(());
                }
                steps.extend(more);
            }
            let s = &steps[i].1;
            match s.op {
                StepOp::RenameAside => {
                    open.insert(s.top);
                }
                StepOp::TopDone => {
                    open.remove(&s.top);
                }
                _ => {}
            }
            i += 1;
            if open.is_empty() && i >= steps.len() {
                steps.truncate(i);
                return Ok(());
            }
        }
    }

    /// Expands the items into steps and stores both (one checkpoint).
    fn plan(&mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        let mut tops = std::mem::take(&mut self.tops);
        let locations = location::list(ctx.store())?;
        let mut steps = Vec::new();
        let mut errors = Vec::new();
        // A batch rename's steps interleave its items (chains, cycles): made apart.
        let per_item = if self.kind == OpKind::BatchRename {
            (tops, steps) = self.batch_steps(ctx.id(), tops);
            0
        } else {
            tops.len()
        };
        for (i, t) in tops.iter().enumerate().take(per_item) {
            let i = i as u32;
            let src = bytes_path(&t.source);
            let dst = bytes_path(&t.target);
            let base = Step::top_done(t, i);
            match t.outcome {
                Outcome::Skip | Outcome::Create => {}
                Outcome::Copy | Outcome::Replace | Outcome::Merge | Outcome::CopyThenRemove => {
                    if let Err(e) = self.expand(&src, &dst, &base, &mut steps) {
                        errors.push(JobPathError::new(&src, e.to_string()));
                        self.failed.push(i);
                    }
                }
                Outcome::Rename => {
                    steps.push(Step {
                        op: StepOp::RenameTop,
                        ..base.clone()
                    });
                    self.files_total += 1;
                    if location::containing(&locations, &src).is_none()
                        && location::containing(&locations, &dst).is_some()
                    {
                        self.rescan.push(path_bytes(parent_of(&dst)));
                    }
                }
                Outcome::Trash => {
                    steps.push(Step {
                        op: StepOp::TrashTop,
                        ..base.clone()
                    });
                    self.files_total += 1;
                }
                Outcome::Delete => {
                    steps.push(Step {
                        op: StepOp::DeleteTop,
                        ..base.clone()
                    });
                    self.files_total += 1;
                }
                Outcome::Link => {
                    steps.push(Step {
                        op: StepOp::LinkTop,
                        ..base.clone()
                    });
                    self.files_total += 1;
                    self.bytes_total += t.size;
                }
                Outcome::Restore => {
                    steps.push(Step {
                        op: StepOp::RestoreTop,
                        ..base.clone()
                    });
                    self.files_total += 1;
                    if t.snapshot.is_empty() && location::containing(&locations, &dst).is_some() {
                        self.rescan.push(path_bytes(parent_of(&dst)));
                    }
                }
            }
            steps.push(base);
        }
        for e in &errors {
            ctx.record_error(e.clone());
        }
        self.errors += errors.len() as u64;
        self.steps = steps.len() as u64;
        self.planned = true;
        let top_rows: Vec<Vec<u8>> = tops.iter().map(encode_record).collect();
        let step_rows: Vec<Vec<u8>> = steps.iter().map(encode_record).collect();
        let job = ctx.id();
        ctx.set_progress(JobProgress {
            phase: self.phase().into(),
            completed: 0,
            total: Some(self.files_total),
            bytes: 0,
            message: format!("0 of {}", crate::format::bytes(self.bytes_total)),
        });
        kill_point();
        ctx.checkpoint(self, move |tx| {
            let mut t = tx.open_table(OP_ITEMS)?;
            for (i, row) in top_rows.iter().enumerate() {
                t.insert((job, 0u8, i as u64), row.as_slice())?;
            }
            for (i, row) in step_rows.iter().enumerate() {
                t.insert((job, 1u8, i as u64), row.as_slice())?;
            }
            Ok(())
        })
    }

    /// A batch rename's items, in the order they are finished, and its steps: the renames
    /// in an order that never needs a taken name (`batch::rename_order`; an item of each
    /// cycle steps aside to `.cairn-<job>-<random>-<item>.rename` in its folder first), each
    /// item's `TopDone` right after its last rename; then the items that keep their names.
    ///
    /// Why a job and not an immediate change like a single rename: a batch can be thousands
    /// of renames, and a kill between two of them must not lose track of an item at a
    /// temporary name. The steps (with the temporary names) are stored before the first
    /// rename, every step recognises an item already moved (by its inode) and a batch never
    /// ends inside a cycle, so a resumed job finishes what a killed one started and a
    /// cancelled one leaves every item under its old or its new name.
    fn batch_steps(&mut self, job: u64, tops: Vec<Top>) -> (Vec<Top>, Vec<Step>) {
        let mut rnd = [0u8; 4];
        let _ = getrandom::fill(&mut rnd);
        let tag = hex::encode(rnd);
        let renamed: Vec<usize> = (0..tops.len())
            .filter(|&i| tops[i].outcome == Outcome::Rename)
            .collect();
        let moves: Vec<(PathBuf, PathBuf)> = renamed
            .iter()
            .map(|&i| (bytes_path(&tops[i].source), bytes_path(&tops[i].target)))
            .collect();
        let order = super::batch::rename_order(&moves, |m| {
            parent_of(&moves[m].0).join(format!(".cairn-{job}-{tag}-{m}.rename"))
        });
        // Items in the order their last step comes.
        let mut last = vec![0usize; moves.len()];
        for (k, (m, _, _)) in order.iter().enumerate() {
            last[*m] = k;
        }
        let mut by_end: Vec<usize> = (0..moves.len()).collect();
        by_end.sort_by_key(|&m| last[m]);
        let mut new_index = vec![0u32; moves.len()];
        for (pos, &m) in by_end.iter().enumerate() {
            new_index[m] = pos as u32;
        }
        let mut ordered: Vec<Top> = by_end.iter().map(|&m| tops[renamed[m]].clone()).collect();
        ordered.extend(
            tops.iter()
                .filter(|t| t.outcome != Outcome::Rename)
                .cloned(),
        );
        // (A rename's outcome asks neither to replace nor to remove a source.)
        let base = Step::top_done;
        let mut steps = Vec::with_capacity(order.len() + ordered.len());
        for (k, (m, from, to)) in order.into_iter().enumerate() {
            let top = new_index[m];
            let t = &ordered[top as usize];
            let aside = to != bytes_path(&t.target);
            steps.push(Step {
                op: if aside {
                    StepOp::RenameAside
                } else {
                    StepOp::RenameTop
                },
                src: path_bytes(&from),
                dst: path_bytes(&to),
                ..base(t, top)
            });
            if last[m] == k {
                steps.push(base(t, top));
            }
        }
        for (i, t) in ordered.iter().enumerate().skip(moves.len()) {
            steps.push(base(t, i as u32));
        }
        self.files_total = moves.len() as u64;
        (ordered, steps)
    }

    /// One rename of a batch rename, `src` → `dst`, of the item with the step's inode,
    /// never replacing anything; done already (by a killed run) when the item is at `dst`.
    fn batch_step(
        &mut self,
        dirs: &mut Dirs,
        s: &Step,
        src: &Path,
        dst: &Path,
    ) -> std::io::Result<()> {
        let (src_dir, dst_dir) = dirs.two(parent_of(src), parent_of(dst))?;
        if src_dir
            .stat(name_of(src))?
            .is_some_and(|st| st.inode == s.inode)
        {
            src_dir
                .rename_noreplace(name_of(src), dst_dir, name_of(dst))
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        std::io::Error::new(
                            e.kind(),
                            format!(
                                "{} was taken since the preview; {} keeps its name",
                                dst.display(),
                                src.display()
                            ),
                        )
                    } else {
                        e
                    }
                })?;
            kill_point();
            self.touched.insert(parent_of(src).to_owned());
            return Ok(());
        }
        if dst_dir
            .stat(name_of(dst))?
            .is_some_and(|st| st.inode == s.inode)
        {
            return Ok(());
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "{} is gone or was replaced since the preview",
                src.display()
            ),
        ))
    }

    /// Steps copying `src` to `dst` (a folder: pre-order folders, files and links, then
    /// post-order folder times and, for a move, source folder removals).
    fn expand(
        &mut self,
        src: &Path,
        dst: &Path,
        base: &Step,
        steps: &mut Vec<Step>,
    ) -> std::io::Result<()> {
        let parent = Dir::open(parent_of(src))?;
        let Some(st) = parent.stat(name_of(src))? else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is gone", src.display()),
            ));
        };
        self.expand_entry(&parent, name_of(src), st, src, dst, base, steps)
    }

    #[allow(clippy::too_many_arguments)]
    fn expand_entry(
        &mut self,
        parent: &Dir,
        name: &OsStr,
        st: NameStat,
        src: &Path,
        dst: &Path,
        base: &Step,
        steps: &mut Vec<Step>,
    ) -> std::io::Result<()> {
        let step = |op| Step {
            op,
            src: path_bytes(src),
            dst: path_bytes(dst),
            kind: st.kind,
            size: st.size,
            mode: st.mode,
            mtime_ns: st.mtime_ns,
            inode: st.inode,
            ..base.clone()
        };
        match st.kind {
            EntryKind::Dir => {
                steps.push(step(StepOp::Mkdir));
                let d = parent.open_dir(name)?;
                for (child, _) in d.list()? {
                    let Some(cst) = d.stat(&child)? else { continue };
                    self.expand_entry(
                        &d,
                        &child,
                        cst,
                        &src.join(&child),
                        &dst.join(&child),
                        base,
                        steps,
                    )?;
                }
                steps.push(step(StepOp::DirMeta));
                if base.remove_source {
                    steps.push(step(StepOp::RemoveSourceDir));
                }
            }
            EntryKind::Symlink => {
                self.files_total += 1;
                steps.push(step(StepOp::CopyLink));
            }
            _ => {
                self.files_total += 1;
                self.bytes_total += st.size;
                steps.push(step(StepOp::CopyFile));
            }
        }
        Ok(())
    }

    fn run_batch(
        &mut self,
        ctx: &mut JobContext,
        job: u64,
        locations: &[LocationRecord],
        steps: Vec<(u64, Step)>,
    ) -> Batch {
        let mut b = Batch::default();
        let mut dirs = Dirs::default();
        let mut pending: Vec<Pending> = Vec::new();
        let mut trash_dirs: HashMap<PathBuf, (TrashDir, Dir, Dir)> = HashMap::new();
        let copy_kind = matches!(self.kind, OpKind::Copy | OpKind::Duplicate);
        let mut copied: HashMap<u64, std::io::Result<Copied>> = HashMap::new();
        for i in 0..steps.len() {
            if steps[i].1.op == StepOp::CopyFile && !copied.contains_key(&steps[i].0) {
                // This run of files is copied at once, in parallel.
                let end = steps[i..]
                    .iter()
                    .position(|(_, s)| s.op != StepOp::CopyFile)
                    .map_or(steps.len(), |n| i + n);
                let run = &steps[i..end];
                let (phase, files_done, files_total, bytes_done) = (
                    self.phase(),
                    self.files_done,
                    self.files_total,
                    self.bytes_done,
                );
                let total = self.bytes_total;
                let results = copy_run(run, job, self.verify, self.on_conflict, |in_flight| {
                    let bytes = bytes_done + in_flight;
                    ctx.progress(JobProgress {
                        phase: phase.into(),
                        completed: files_done,
                        total: Some(files_total),
                        bytes,
                        message: format!(
                            "{} of {}",
                            crate::format::bytes(bytes),
                            crate::format::bytes(total)
                        ),
                    });
                });
                copied.extend(run.iter().map(|x| x.0).zip(results));
            }
            let (idx, s) = steps[i].clone();
            let src = bytes_path(&s.src);
            let dst = bytes_path(&s.dst);
            if !matches!(s.op, StepOp::Mkdir | StepOp::CopyFile | StepOp::CopyLink) {
                self.flush(&mut dirs, &mut pending, &mut b, copy_kind);
            }
            let fail = |b: &mut Batch, failed: &mut Vec<u32>, path: &Path, msg: String| {
                b.errors.push(JobPathError::new(path, msg));
                if !failed.contains(&s.top) {
                    failed.push(s.top);
                }
            };
            match s.op {
                StepOp::Mkdir => match self.mkdir(&mut dirs, &dst) {
                    Ok(meta) => {
                        kill_point();
                        if copy_kind {
                            b.changes.push(Change::Created {
                                dst: dst.clone(),
                                kind: EntryKind::Dir,
                                meta,
                                src: None,
                            });
                        }
                    }
                    Err(e) => fail(&mut b, &mut self.failed, &dst, e.to_string()),
                },
                StepOp::CopyFile => {
                    ctx.progress(JobProgress {
                        phase: self.phase().into(),
                        completed: self.files_done,
                        total: Some(self.files_total),
                        bytes: self.bytes_done,
                        message: src.display().to_string(),
                    });
                    match copied.remove(&idx).expect("copied above") {
                        Ok(Copied::Pending(p)) => pending.push(*p),
                        Ok(Copied::Done(meta)) => {
                            self.files_done += 1;
                            self.bytes_done += s.size;
                            if copy_kind && let Some(meta) = meta {
                                b.changes.push(Change::Created {
                                    dst: dst.clone(),
                                    kind: EntryKind::File,
                                    meta,
                                    src: Some(src.clone()),
                                });
                            }
                        }
                        Err(e) => fail(&mut b, &mut self.failed, &src, e.to_string()),
                    }
                }
                StepOp::CopyLink => match self.copy_link(&mut dirs, &s, &src, &dst) {
                    Ok(Some(meta)) => {
                        self.files_done += 1;
                        if copy_kind {
                            b.changes.push(Change::Created {
                                dst: dst.clone(),
                                kind: EntryKind::Symlink,
                                meta,
                                src: Some(src.clone()),
                            });
                        }
                    }
                    Ok(None) => self.files_done += 1,
                    Err(e) => fail(&mut b, &mut self.failed, &src, e.to_string()),
                },
                StepOp::DirMeta => {
                    let r = dirs.get(parent_of(&dst)).and_then(|d| {
                        d.set_mode(name_of(&dst), s.mode)?;
                        d.set_times(name_of(&dst), s.mtime_ns)
                    });
                    match r {
                        Ok(()) if copy_kind => b.changes.push(Change::DirMeta {
                            path: dst.clone(),
                            mtime_ns: s.mtime_ns,
                        }),
                        Ok(()) => {}
                        Err(e) => fail(&mut b, &mut self.failed, &dst, e.to_string()),
                    }
                }
                StepOp::RemoveSourceDir => {
                    let r = dirs
                        .get(parent_of(&src))
                        .and_then(|d| d.rmdir(name_of(&src)));
                    match r {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => fail(
                            &mut b,
                            &mut self.failed,
                            &src,
                            format!(
                                "left in place: it still holds items that were not moved ({e})"
                            ),
                        ),
                    }
                }
                StepOp::RenameAside | StepOp::RenameTop if self.kind == OpKind::BatchRename => {
                    // The later steps of an item that failed are not tried.
                    if self.failed.contains(&s.top) {
                        continue;
                    }
                    let mut r = self.batch_step(&mut dirs, &s, &src, &dst);
                    let top = || read_top(ctx, job, s.top);
                    if s.op == StepOp::RenameAside
                        && r.as_ref()
                            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
                        && let Some(t) = top()
                    {
                        // A resumed run: the item went on from its temporary name already.
                        let target = bytes_path(&t.target);
                        if dirs
                            .get(parent_of(&target))
                            .and_then(|d| d.stat(name_of(&target)))
                            .is_ok_and(|st| st.is_some_and(|st| st.inode == s.inode))
                        {
                            r = Ok(());
                        }
                    }
                    match r {
                        Ok(()) => {
                            if s.op == StepOp::RenameTop {
                                self.files_done += 1;
                            }
                            b.changes.push(Change::Moved {
                                src: src.clone(),
                                dst: dst.clone(),
                                refresh: false,
                            });
                        }
                        Err(e) => {
                            let mut msg = e.to_string();
                            // An item left at its temporary name goes back to its old name.
                            if let Some(t) = top()
                                && t.source != s.src
                            {
                                let old = bytes_path(&t.source);
                                let back = dirs.two(parent_of(&src), parent_of(&old)).and_then(
                                    |(from, to)| {
                                        from.rename_noreplace(name_of(&src), to, name_of(&old))
                                    },
                                );
                                match back {
                                    Ok(()) => {
                                        self.touched.insert(parent_of(&old).to_owned());
                                        b.changes.push(Change::Moved {
                                            src: src.clone(),
                                            dst: old.clone(),
                                            refresh: false,
                                        });
                                        msg.push_str("; it is back under its old name");
                                    }
                                    Err(e2) => msg.push_str(&format!(
                                        "; it is left at {} ({e2})",
                                        src.display()
                                    )),
                                }
                            }
                            fail(&mut b, &mut self.failed, &bytes_path(&s.src), msg);
                        }
                    }
                }
                StepOp::RenameAside => {
                    fail(
                        &mut b,
                        &mut self.failed,
                        &src,
                        "a batch rename's step in another operation".into(),
                    );
                }
                StepOp::RenameTop => match self.rename_top(&mut dirs, &s, &src, &dst) {
                    Ok(()) => {
                        self.files_done += 1;
                        b.changes.push(Change::Moved {
                            src: src.clone(),
                            dst: dst.clone(),
                            refresh: false,
                        });
                    }
                    Err(e) => fail(&mut b, &mut self.failed, &src, e.to_string()),
                },
                StepOp::TrashTop => {
                    match self.trash_top(&mut dirs, &mut trash_dirs, &src, idx < self.recover_until)
                    {
                        Ok(at) => {
                            self.files_done += 1;
                            self.bytes_done += s.size;
                            b.changes.push(Change::Removed {
                                path: src.clone(),
                                top: s.top,
                            });
                            b.tops.push((s.top, TopStatus::Done, Some(at)));
                        }
                        Err(e) => fail(&mut b, &mut self.failed, &src, e.to_string()),
                    }
                }
                StepOp::DeleteTop => {
                    let r = dirs
                        .get(parent_of(&src))
                        .and_then(|d| d.remove_tree(name_of(&src)));
                    match r {
                        Ok(_) => {
                            self.files_done += 1;
                            self.bytes_done += s.size;
                            b.changes.push(Change::Removed {
                                path: src.clone(),
                                top: s.top,
                            });
                        }
                        Err(e) => fail(&mut b, &mut self.failed, &src, e.to_string()),
                    }
                }
                StepOp::LinkTop => match self.link_top(&mut dirs, job, idx, &src, &dst) {
                    Ok(()) => {
                        self.files_done += 1;
                        self.bytes_done += s.size;
                        b.changes.push(Change::Relinked { path: src.clone() });
                    }
                    Err(e) => fail(&mut b, &mut self.failed, &src, e.to_string()),
                },
                StepOp::RestoreTop => match self.restore_top(&mut dirs, &src, &dst) {
                    Ok(()) => {
                        self.files_done += 1;
                        b.changes.push(Change::Restored {
                            dst: dst.clone(),
                            top: s.top,
                        });
                    }
                    Err(e) => fail(&mut b, &mut self.failed, &src, e.to_string()),
                },
                StepOp::TopDone => {
                    let status = if self.failed.contains(&s.top) {
                        TopStatus::Failed("see the job's errors".into())
                    } else if s.outcome == Outcome::Skip {
                        TopStatus::Skipped
                    } else {
                        TopStatus::Done
                    };
                    if status == TopStatus::Done
                        && self.kind == OpKind::HardLink
                        && s.outcome == Outcome::Replace
                    {
                        // A link given its own copy again (the undo of a hard link).
                        b.changes.push(Change::Relinked { path: dst.clone() });
                    }
                    if status == TopStatus::Done && s.outcome == Outcome::CopyThenRemove {
                        b.changes.push(Change::Moved {
                            src: src.clone(),
                            dst: dst.clone(),
                            refresh: true,
                        });
                        if location::containing(locations, &src).is_none()
                            && location::containing(locations, &dst).is_some()
                        {
                            self.rescan.push(path_bytes(parent_of(&dst)));
                        }
                    } else if matches!(status, TopStatus::Failed(_))
                        && s.outcome == Outcome::CopyThenRemove
                    {
                        // Partly moved: both sides are rescanned so the index matches the disk.
                        self.rescan.push(path_bytes(parent_of(&src)));
                        self.rescan.push(path_bytes(parent_of(&dst)));
                    }
                    // Items are done in order: the audit record's count of items gone through
                    // says which are done, so only the others' status is written (a trashed
                    // item's was written with where it went).
                    self.tops_done = u64::from(s.top) + 1;
                    if status != TopStatus::Done {
                        b.tops.push((s.top, status, None));
                    }
                }
            }
        }
        self.flush(&mut dirs, &mut pending, &mut b, copy_kind);
        // One flush per folder whose names changed (a trash's `files/` and `info/`, the
        // sources' folders, a move's two folders), before the checkpoint records the batch.
        for (parent, (_, files, info)) in &trash_dirs {
            let _ = files.sync();
            let _ = info.sync();
            self.touched.insert(parent.clone());
        }
        sync_folders(&mut dirs, std::mem::take(&mut self.touched));
        b
    }

    fn mkdir(&self, dirs: &mut Dirs, dst: &Path) -> std::io::Result<Meta> {
        let d = dirs.get(parent_of(dst))?;
        match d.mkdir(name_of(dst), 0o700) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        match d.stat(name_of(dst))? {
            Some(st) if st.kind == EntryKind::Dir => Ok(meta_of(&st)),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a folder", dst.display()),
            )),
        }
    }

    /// Copies one file to its temporary name (or recognises it as done).
    /// Makes a batch's copies durable, verifies them, renames them into place, flushes their
    /// folders and, for a move, removes their sources.
    fn flush(
        &mut self,
        dirs: &mut Dirs,
        pending: &mut Vec<Pending>,
        b: &mut Batch,
        copy_kind: bool,
    ) {
        if pending.is_empty() {
            return;
        }
        let mut devs = HashSet::new();
        for p in pending.iter() {
            if devs.insert(p.meta.dev) {
                let _ = rustix::fs::syncfs(&p.file);
                kill_point();
            }
        }
        // Each copy read back and hashed (and a large file's source), on up to two threads.
        let verified: Vec<bool> = if self.verify {
            // Tasks: (pending index, the copy to read back), each opened anew by its name: a
            // read on the writing descriptor can see stale bytes on some FUSE file systems
            // (fusefat answers zeros), and a later reader opens the name too. A copy that
            // cannot be opened, or is not the file written, fails verification.
            let tasks: Vec<(usize, File)> = pending
                .iter()
                .enumerate()
                .filter(|(_, p)| p.read_back.is_none())
                .filter_map(|(i, p)| {
                    let parent = parent_of(&bytes_path(&p.step.dst)).to_owned();
                    let f = dirs.get(&parent).ok()?.open_file(&p.tmp).ok()?;
                    same_file(&f, &p.file).then_some((i, f))
                })
                .collect();
            let next = std::sync::atomic::AtomicUsize::new(0);
            let tasks = &tasks;
            let hashed: Vec<(usize, Option<Hashed>)> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..2)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut out = Vec::new();
                            loop {
                                let t = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some((i, f)) = tasks.get(t) else { break };
                                out.push((*i, ops::hash_file(f).ok()));
                            }
                            out
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|w| w.join().expect("a verify thread panicked"))
                    .collect()
            });
            let mut copy: Vec<Option<Hashed>> = pending.iter().map(|p| p.read_back).collect();
            for (i, h) in hashed {
                copy[i] = h;
            }
            pending
                .iter()
                .zip(copy)
                .map(|(p, c)| match (c, p.hash) {
                    (Some((n, h)), Some(want)) => n == p.size && h == want,
                    _ => false,
                })
                .collect()
        } else {
            vec![true; pending.len()]
        };
        let mut touched: HashSet<PathBuf> = HashSet::new();
        let mut done = Vec::new();
        for (p, good) in pending.drain(..).zip(verified) {
            let src = bytes_path(&p.step.src);
            let dst_parent = parent_of(&bytes_path(&p.step.dst)).to_owned();
            let dst = dst_parent.join(&p.name);
            let dst_dir = match dirs.get(&dst_parent) {
                Ok(d) => d,
                Err(e) => {
                    b.errors.push(JobPathError::new(&dst, e.to_string()));
                    push_failed(&mut self.failed, p.step.top);
                    continue;
                }
            };
            {
                if !good {
                    let _ = dst_dir.unlink(&p.tmp);
                    b.errors.push(JobPathError::new(
                        &dst,
                        "the copy did not read back as the source's bytes; it was removed",
                    ));
                    push_failed(&mut self.failed, p.step.top);
                    continue;
                }
            }
            let r = if p.replace {
                dst_dir.rename_replace(&p.tmp, dst_dir, &p.name)
            } else {
                dst_dir.rename_noreplace(&p.tmp, dst_dir, &p.name)
            };
            if let Err(e) = r {
                let _ = dst_dir.unlink(&p.tmp);
                b.errors.push(JobPathError::new(
                    &dst,
                    format!("{e}; appeared during the copy, left as it is"),
                ));
                push_failed(&mut self.failed, p.step.top);
                continue;
            }
            kill_point();
            touched.insert(dst_parent);
            done.push((p, src, dst));
        }
        sync_folders(dirs, touched);
        let mut src_touched = HashSet::new();
        for (p, src, dst) in done {
            if p.step.remove_source {
                let r = dirs
                    .get(parent_of(&src))
                    .and_then(|d| d.unlink(name_of(&src)));
                if let Err(e) = r {
                    b.errors.push(JobPathError::new(
                        &src,
                        format!("copied and verified, but the source could not be removed: {e}"),
                    ));
                    push_failed(&mut self.failed, p.step.top);
                }
                kill_point();
                src_touched.insert(parent_of(&src).to_owned());
            }
            self.files_done += 1;
            self.bytes_done += p.size;
            if copy_kind {
                b.changes.push(Change::Created {
                    dst,
                    kind: EntryKind::File,
                    meta: p.meta,
                    src: Some(src),
                });
            }
        }
        sync_folders(dirs, src_touched);
    }

    fn copy_link(
        &mut self,
        dirs: &mut Dirs,
        s: &Step,
        src: &Path,
        dst: &Path,
    ) -> std::io::Result<Option<Meta>> {
        let src_dir = dirs.get(parent_of(src))?;
        let target = match src_dir.readlink(name_of(src)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && s.remove_source => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let dst_dir = dirs.get(parent_of(dst))?;
        match dst_dir.symlink(&target, name_of(dst)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let same = dst_dir.readlink(name_of(dst)).is_ok_and(|t| t == target);
                if !same {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        format!("{} exists and differs; skipped", dst.display()),
                    ));
                }
            }
            Err(e) => return Err(e),
        }
        let meta = dst_dir.stat(name_of(dst))?.map(|st| meta_of(&st));
        if s.remove_source {
            dst_dir.sync()?;
            dirs.get(parent_of(src))?.unlink(name_of(src))?;
        }
        Ok(meta)
    }

    fn rename_top(
        &mut self,
        dirs: &mut Dirs,
        s: &Step,
        src: &Path,
        dst: &Path,
    ) -> std::io::Result<()> {
        let (src_dir, dst_dir) = dirs.two(parent_of(src), parent_of(dst))?;
        let r = if s.replace {
            src_dir.rename_replace(name_of(src), dst_dir, name_of(dst))
        } else {
            src_dir.rename_noreplace(name_of(src), dst_dir, name_of(dst))
        };
        if let Err(e) = r {
            // The source gone: done already if the item (its inode) is at the destination —
            // a resumed run — else gone.
            if e.kind() == std::io::ErrorKind::NotFound && src_dir.stat(name_of(src))?.is_none() {
                if dst_dir
                    .stat(name_of(dst))?
                    .is_some_and(|st| st.inode == s.inode)
                {
                    return Ok(());
                }
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{} is gone", src.display()),
                ));
            }
            return Err(e);
        }
        kill_point();
        self.touched.insert(parent_of(dst).to_owned());
        self.touched.insert(parent_of(src).to_owned());
        Ok(())
    }

    fn trash_top(
        &self,
        dirs: &mut Dirs,
        trash_dirs: &mut HashMap<PathBuf, (TrashDir, Dir, Dir)>,
        src: &Path,
        recovering: bool,
    ) -> std::io::Result<TrashedAt> {
        let parent = parent_of(src).to_owned();
        if !trash_dirs.contains_key(&parent) {
            let tdir = trash::trash_for(&parent)?;
            let (files, info) = tdir.open(true)?;
            trash_dirs.insert(parent.clone(), (tdir, files, info));
        }
        let (tdir, files, info) = &trash_dirs[&parent];
        let tdir = tdir.clone();
        let d = dirs.get(&parent)?;
        if d.stat(name_of(src))?.is_none() {
            // Resumed after the move into the trash: find it there.
            return find_in_trash(&tdir, src).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{} is gone", src.display()),
                )
            });
        }
        // Orphaned info files of a killed claim of this very path go first.
        if recovering {
            clean_orphans(&tdir, files, info, src);
        }
        let date = trash::deletion_date();
        let name = trash::claim(&tdir, files, info, name_of(src), src, &date)?;
        kill_point();
        if let Err(e) = d.rename_noreplace(name_of(src), files, &name) {
            let _ = trash::unclaim(info, &name);
            if e.kind() == std::io::ErrorKind::CrossesDevices {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!(
                        "{} cannot be trashed: its volume's trash is on another file system; delete it permanently instead",
                        src.display()
                    ),
                ));
            }
            return Err(e);
        }
        kill_point();
        Ok(TrashedAt {
            root: path_bytes(&tdir.root),
            topdir: tdir.topdir.as_deref().map(path_bytes),
            name: os_bytes(&name).to_vec(),
        })
    }

    /// Makes `src` a hard link to `keep`: both are read in full (on two threads) and must be
    /// the same bytes; the link is made under the step's temporary name beside `src`, then
    /// renamed over `src` — only if neither file changed since they were compared. A kill
    /// leaves `src` either the old file or the link (the same bytes either way) and at most
    /// the temporary link, which the resume or the cancel removes. Done already (a resume)
    /// when `src` is `keep`'s inode.
    fn link_top(
        &mut self,
        dirs: &mut Dirs,
        job: u64,
        idx: u64,
        src: &Path,
        keep: &Path,
    ) -> std::io::Result<()> {
        use std::io::{Error, ErrorKind};
        let (src_dir, keep_dir) = dirs.two(parent_of(src), parent_of(keep))?;
        let kst = keep_dir.stat(name_of(keep))?.ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("the kept copy {} is gone; left as it is", keep.display()),
            )
        })?;
        let sst = src_dir
            .stat(name_of(src))?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("{} is gone", src.display())))?;
        if sst.inode == kst.inode && sst.dev == kst.dev {
            return Ok(());
        }
        let tmp = temp_name(job, idx);
        if src_dir.stat(&tmp)?.is_some() {
            src_dir.unlink(&tmp)?;
        }
        let a = src_dir.open_file(name_of(src))?;
        let b = keep_dir.open_file(name_of(keep))?;
        let (ha, hb) = std::thread::scope(|sc| {
            let other = sc.spawn(|| ops::hash_file(&b));
            (
                ops::hash_file(&a),
                other.join().expect("a hash thread panicked"),
            )
        });
        if ha? != hb? {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!(
                    "{} differs from {}; left as it is",
                    src.display(),
                    keep.display()
                ),
            ));
        }
        let unchanged = |d: &Dir, p: &Path, was: &NameStat| {
            d.stat(name_of(p)).ok().flatten().is_some_and(|n| {
                (n.size, n.mtime_ns, n.inode) == (was.size, was.mtime_ns, was.inode)
            })
        };
        keep_dir.hard_link(name_of(keep), src_dir, &tmp)?;
        kill_point();
        if !unchanged(src_dir, src, &sst) || !unchanged(keep_dir, keep, &kst) {
            let _ = src_dir.unlink(&tmp);
            return Err(Error::new(
                ErrorKind::Interrupted,
                format!(
                    "{} or {} changed while they were compared; left as it is",
                    src.display(),
                    keep.display()
                ),
            ));
        }
        src_dir.rename_replace(&tmp, src_dir, name_of(src))?;
        kill_point();
        self.touched.insert(parent_of(src).to_owned());
        Ok(())
    }

    fn restore_top(&mut self, dirs: &mut Dirs, src: &Path, dst: &Path) -> std::io::Result<()> {
        let files = dirs.get(parent_of(src))?;
        if files.stat(name_of(src))?.is_none() {
            if dirs.get(parent_of(dst))?.stat(name_of(dst))?.is_some() {
                return Ok(());
            }
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is no longer in the trash", src.display()),
            ));
        }
        let files_path = files.path().to_owned();
        let dst_dir = Dir::open(parent_of(dst))?;
        let files = dirs.get(&files_path)?;
        files.rename_noreplace(name_of(src), &dst_dir, name_of(dst))?;
        // The info file beside `files/`.
        if let Some(root) = files_path.parent()
            && let Ok(info) = Dir::open(&root.join("info"))
        {
            let _ = trash::unclaim(&info, name_of(src));
        }
        self.touched.insert(parent_of(dst).to_owned());
        Ok(())
    }
}

/// What copying one file gave.
enum Copied {
    /// Written to its temporary name, waiting for the batch's flush.
    Pending(Box<Pending>),
    /// Already there (a resumed batch, or identical anyway): the destination's metadata, if
    /// it is a copy the index should learn of.
    Done(Option<Meta>),
}

/// Copies a run of files on up to two threads (each file is independent: its folder exists,
/// its temporary name is its own). Results in the run's order.
fn copy_run(
    run: &[(u64, Step)],
    job: u64,
    verify: bool,
    on_conflict: OnConflict,
    mut tick: impl FnMut(u64),
) -> Vec<std::io::Result<Copied>> {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 2)
        .min(run.len())
        .max(1);
    let progress = AtomicU64::new(0);
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let me = std::thread::current();
    let one = |dirs: &mut Dirs, (idx, s): &(u64, Step)| {
        copy_file(
            dirs,
            job,
            *idx,
            s,
            &bytes_path(&s.src),
            &bytes_path(&s.dst),
            verify,
            on_conflict,
            &progress,
        )
    };
    let mut results: Vec<(usize, std::io::Result<Copied>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut dirs = Dirs::default();
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Relaxed);
                        if i >= run.len() {
                            break;
                        }
                        out.push((i, one(&mut dirs, &run[i])));
                    }
                    finished.fetch_add(1, Relaxed);
                    me.unpark();
                    out
                })
            })
            .collect();
        // The job's thread reports the bytes copied so far while the copies run.
        // (A finished worker unparks it, so a run of small files never waits for a tick.)
        while finished.load(Relaxed) < threads {
            std::thread::park_timeout(std::time::Duration::from_millis(100));
            tick(progress.load(Relaxed));
        }
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a copy thread panicked"))
            .collect()
    });
    results.sort_by_key(|r| r.0);
    results.into_iter().map(|r| r.1).collect()
}

#[allow(clippy::too_many_arguments)]
fn copy_file(
    dirs: &mut Dirs,
    job: u64,
    idx: u64,
    s: &Step,
    src: &Path,
    dst: &Path,
    verify: bool,
    on_conflict: OnConflict,
    progress: &std::sync::atomic::AtomicU64,
) -> std::io::Result<Copied> {
    let tmp = temp_name(job, idx);
    let mut name = name_of(dst).to_owned();
    let src_dir = dirs.get(parent_of(src))?;
    let src_stat = src_dir.stat(name_of(src))?;
    let mut src_file = match src_stat {
        Some(st) if st.kind == EntryKind::File => src_dir.open_file(name_of(src))?,
        Some(st) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                format!("a {} is not copied", st.kind.as_str()),
            ));
        }
        None => {
            // A move across volumes resumed after the source was removed: done if the
            // destination is there.
            let dd = dirs.get(parent_of(dst))?;
            if s.remove_source && dd.stat(name_of(dst))?.is_some() {
                return Ok(Copied::Done(None));
            }
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is gone", src.display()),
            ));
        }
    };
    let dst_dir = dirs.get(parent_of(dst))?;
    if let Some(st) = dst_dir.stat(&tmp)?
        && st.kind == EntryKind::File
    {
        dst_dir.unlink(&tmp)?;
    }
    let mut replace = s.replace;
    if let Some(existing) = dst_dir.stat(&name)? {
        // A replaced hard link of the source itself is to get its own copy, not "done".
        let itself = src_stat.is_some_and(|x| (x.dev, x.inode) == (existing.dev, existing.inode));
        let same = existing.kind == EntryKind::File
            && !(itself && s.replace)
            && existing.size == src_stat.map_or(0, |x| x.size)
            && {
                let a = ops::hash_file(&src_file)?.1;
                let b = ops::hash_file(&dst_dir.open_file(&name)?)?.1;
                a == b
            };
        if same {
            // Already copied (a resumed batch) or identical anyway.
            let meta = meta_of(&existing);
            if s.remove_source {
                dst_dir.sync()?;
                dirs.get(parent_of(src))?.unlink(name_of(src))?;
            }
            return Ok(Copied::Done(Some(meta)));
        }
        match on_conflict {
            OnConflict::Replace if existing.kind != EntryKind::Dir => replace = true,
            _ if s.replace && existing.kind != EntryKind::Dir => replace = true,
            OnConflict::KeepBoth => {
                name = crate::vdfs::fs::entry::os_from_bytes(&ops::keep_both_name(
                    os_bytes(&name),
                    false,
                    |n| {
                        dst_dir
                            .stat(&crate::vdfs::fs::entry::os_from_bytes(n))
                            .ok()
                            .flatten()
                            .is_some()
                    },
                ));
            }
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{} exists and differs; skipped", dst.display()),
                ));
            }
        }
    }
    let mut out = dst_dir.create_new(&tmp, 0o600)?;
    kill_point();
    // A large file is copied in the kernel while other threads hash the source and read
    // the copy back; a small one is hashed while it is read, and read back at flush.
    let large = src_stat.is_some_and(|st| st.size >= LARGE_FILE);
    let result = (|| {
        let mut done = None;
        if large {
            let reader = if verify {
                Some(dst_dir.open_file(&tmp)?)
            } else {
                None
            };
            done = ops::copy_large_verified(&src_file, &out, reader.as_ref(), progress)?.map(|c| {
                let src_len = c.source.map_or(c.len, |s| s.0);
                (c.len, c.source.map(|s| s.1), c.copy, src_len)
            });
        }
        let (n, hash, read_back, src_len) = match done {
            Some(d) => d,
            None => {
                let (n, hash) = ops::copy_contents(&mut src_file, &mut out, verify, progress)?;
                (n, hash, None, n)
            }
        };
        kill_point();
        let mtime_ns = Meta::of(&src_file.metadata()?).mtime_ns;
        ops::set_file_meta(&out, s.mode, mtime_ns)?;
        Ok::<_, std::io::Error>((n, hash, read_back, src_len))
    })();
    match result {
        Ok((n, hash, read_back, src_len)) => {
            let out_meta = Meta::of(&out.metadata()?);
            Ok(Copied::Pending(Box::new(Pending {
                step: s.clone(),
                file: out,
                read_back,
                tmp,
                name,
                // A source that changed length while it was hashed fails verification.
                hash: hash.filter(|_| src_len == n),
                size: n,
                meta: out_meta,
                replace,
            })))
        }
        Err(e) => {
            let _ = dst_dir.unlink(&tmp);
            if e.kind() == std::io::ErrorKind::StorageFull {
                let free = dst_dir.space().map(|s| s.0).unwrap_or(0);
                return Err(std::io::Error::new(
                    e.kind(),
                    format!(
                        "{}: the disk is full ({} free); the copy was removed",
                        dst.display(),
                        crate::format::bytes(free)
                    ),
                ));
            }
            Err(e)
        }
    }
}

/// Makes the names changed in `folders` durable: one `syncfs` per file system (a folder
/// `fsync` each would cost a journal commit per folder — thousands for a folder tree), or a
/// folder `fsync` where `syncfs` fails.
fn sync_folders(dirs: &mut Dirs, folders: HashSet<PathBuf>) {
    let mut devs = HashSet::new();
    for f in folders {
        let Ok(d) = dirs.get(&f) else { continue };
        let dev = d.stat_self().map(|s| s.dev).ok();
        if dev.is_some_and(|dev| !devs.insert(dev)) {
            continue;
        }
        if d.sync_filesystem().is_err() {
            let _ = d.sync();
        }
    }
}

/// Whether two open files are the same file (device and inode).
fn same_file(a: &File, b: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (a.metadata(), b.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn push_failed(failed: &mut Vec<u32>, top: u32) {
    if !failed.contains(&top) {
        failed.push(top);
    }
}

fn meta_of(st: &NameStat) -> Meta {
    Meta {
        size: st.size,
        mtime_ns: st.mtime_ns,
        inode: st.inode,
        dev: st.dev,
    }
}

/// The newest item of `tdir` trashed from `original`.
fn find_in_trash(tdir: &TrashDir, original: &Path) -> Option<TrashedAt> {
    let mut items: Vec<_> = trash::list(tdir)
        .ok()?
        .into_iter()
        .filter(|i| i.original == original)
        .collect();
    items.sort_by(|a, b| a.deleted.cmp(&b.deleted));
    let i = items.pop()?;
    Some(TrashedAt {
        root: path_bytes(&tdir.root),
        topdir: tdir.topdir.as_deref().map(path_bytes),
        name: os_bytes(&i.name).to_vec(),
    })
}

/// Removes info files that claim `original` but have no item (a claim killed before its move).
fn clean_orphans(tdir: &TrashDir, files: &Dir, info: &Dir, original: &Path) {
    let name = os_bytes(name_of(original));
    let Ok(list) = info.list() else { return };
    for (info_name, _) in list {
        let b = os_bytes(&info_name);
        let Some(item) = b.strip_suffix(b".trashinfo") else {
            continue;
        };
        if !item.starts_with(name) {
            continue;
        }
        let item = crate::vdfs::fs::entry::os_from_bytes(item);
        if files.stat(&item).ok().flatten().is_some() {
            continue;
        }
        // Only an info file naming this very path is ours to remove.
        let claims_it =
            trash::list_info_path(tdir, info, &info_name).is_some_and(|p| p == original);
        if claims_it {
            let _ = info.unlink(&info_name);
        }
    }
}

/// The checkpoint's effects: the index changes, the items' outcomes, and at the end the audit
/// record's final status and the removal of the steps.
fn effects(
    job: u64,
    audit_id: u64,
    changes: Vec<Change>,
    tops: Vec<(u32, TopStatus, Option<TrashedAt>)>,
    fin: Option<(AuditStatus, String, u64)>,
) -> impl FnMut(&WriteTransaction) -> Result<(), StoreError> + Send + 'static {
    move |tx| {
        let mut snaps: HashMap<u32, Vec<Snapshot>> = HashMap::new();
        if !changes.is_empty() {
            let locs = location::list_in(tx)?;
            if !locs.is_empty() {
                let restore_snaps = restore_snapshots(tx, job, &changes)?;
                let mut w = IndexWriter::begin(tx)?;
                let mut d = Deltas::default();
                let mut finder = Finder::default();
                for c in &changes {
                    apply_change(
                        &mut w,
                        tx,
                        &mut d,
                        &locs,
                        &mut finder,
                        c,
                        &mut snaps,
                        &restore_snaps,
                    )?;
                }
                d.apply(&mut w, tx)?;
            }
        }
        if !tops.is_empty() || !snaps.is_empty() {
            let mut t = tx.open_table(OP_ITEMS)?;
            let mut ids: Vec<u32> = tops.iter().map(|x| x.0).collect();
            ids.extend(snaps.keys().copied());
            ids.sort_unstable();
            ids.dedup();
            for i in ids {
                let key = (job, 0u8, u64::from(i));
                let Some(mut top) = t
                    .get(key)?
                    .map(|v| decode_record::<Top>(v.value()))
                    .transpose()?
                else {
                    continue;
                };
                if let Some((_, status, trashed)) = tops.iter().find(|x| x.0 == i) {
                    top.status = status.clone();
                    if trashed.is_some() {
                        top.trashed.clone_from(trashed);
                    }
                }
                if let Some(s) = snaps.get(&i) {
                    top.snapshot.clone_from(s);
                }
                t.insert(key, encode_record(&top).as_slice())?;
            }
        }
        if let Some((status, summary, done)) = &fin {
            audit::finish(tx, audit_id, *status, summary, &[], *done)?;
            remove_steps(tx, job)?;
        }
        Ok(())
    }
}

fn restore_snapshots(
    tx: &WriteTransaction,
    job: u64,
    changes: &[Change],
) -> Result<HashMap<u32, Vec<Snapshot>>, StoreError> {
    let mut out = HashMap::new();
    let t = tx.open_table(OP_ITEMS)?;
    for c in changes {
        if let Change::Restored { top, .. } = c
            && let Some(v) = t.get((job, 0u8, u64::from(*top)))?
        {
            let top_rec: Top = decode_record(v.value())?;
            out.insert(*top, top_rec.snapshot);
        }
    }
    Ok(out)
}

/// Paths to entries within one checkpoint, with the folders found so far cached (a batch of
/// thousands of items of one folder walks that folder's path once). A moved or removed
/// folder's cached paths go.
#[derive(Default)]
struct Finder(HashMap<PathBuf, Option<(u32, u64)>>);

impl Finder {
    fn folder(
        &mut self,
        w: &IndexWriter,
        locs: &[LocationRecord],
        path: &Path,
    ) -> Result<Option<(u32, u64)>, StoreError> {
        if let Some(v) = self.0.get(path) {
            return Ok(*v);
        }
        let v = follow::lookup(w, locs, path)?;
        if v.is_some() {
            self.0.insert(path.to_owned(), v);
        }
        Ok(v)
    }

    fn entry(
        &mut self,
        w: &IndexWriter,
        locs: &[LocationRecord],
        path: &Path,
    ) -> Result<Option<(u32, u64)>, StoreError> {
        match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => match self.folder(w, locs, parent)? {
                Some((loc, pid)) => match w.child(pid, os_bytes(name))? {
                    Some(id) => Ok(Some((loc, id))),
                    // A location's root is not a child of an indexed folder.
                    None => follow::lookup(w, locs, path),
                },
                None => follow::lookup(w, locs, path),
            },
            _ => follow::lookup(w, locs, path),
        }
    }

    fn forget(&mut self, path: &Path) {
        self.0.retain(|k, _| !k.starts_with(path));
    }
}

#[allow(clippy::too_many_arguments)]
fn apply_change(
    w: &mut IndexWriter,
    tx: &WriteTransaction,
    d: &mut Deltas,
    locs: &[LocationRecord],
    f: &mut Finder,
    c: &Change,
    snaps: &mut HashMap<u32, Vec<Snapshot>>,
    restore: &HashMap<u32, Vec<Snapshot>>,
) -> Result<(), StoreError> {
    match c {
        Change::Created {
            dst,
            kind,
            meta,
            src,
        } => {
            if *kind == EntryKind::Dir {
                f.forget(dst);
            }
            let Some((loc, parent)) = f.folder(w, locs, parent_of(dst))? else {
                return Ok(());
            };
            let name = os_bytes(name_of(dst));
            if *kind == EntryKind::Dir
                && let Some(existing) = w.child(parent, name)?
                && w.get(existing)?.is_some_and(|r| r.kind == EntryKind::Dir)
            {
                return Ok(());
            }
            let mut cas = None;
            let mut content_kind = crate::vdfs::content::filetype::ContentKind::Unknown;
            if let Some(src) = src
                && let Some((_, sid)) = f.entry(w, locs, src)?
                && let Some(rec) = w.get(sid)?
            {
                content_kind = rec.content_kind;
                if rec.size == meta.size && rec.mtime_ns == meta.mtime_ns {
                    cas = rec.cas;
                }
            }
            follow::insert_new(
                w,
                tx,
                d,
                loc,
                parent,
                &follow::NewEntry {
                    name: name.to_vec(),
                    kind: *kind,
                    meta: *meta,
                    cas,
                    content_kind,
                },
            )?;
        }
        Change::Moved { src, dst, refresh } => {
            let s = f.entry(w, locs, src)?;
            let to = f.folder(w, locs, parent_of(dst))?;
            // Only a folder's move changes the paths the finder knows.
            if let Some((_, sid)) = s
                && w.get(sid)?.is_some_and(|r| r.kind == EntryKind::Dir)
            {
                f.forget(src);
                f.forget(dst);
            }
            let name = os_bytes(name_of(dst));
            match (s, to) {
                (Some((sl, sid)), Some((dl, did))) if sl == dl => {
                    follow::rename(w, d, sid, did, name)?;
                    if *refresh {
                        follow::refresh_meta(w, d, sid, dst)?;
                    }
                }
                (Some((_, sid)), Some((dl, did))) => {
                    // Into another location: the contents of the only copies keep their
                    // records (type, integrity hash) through the remove and reinsert.
                    w.defer_orphans();
                    let snap = follow::remove(w, d, sid)?;
                    let id = follow::reinsert(w, tx, d, dl, did, name, &snap)?;
                    w.drop_orphans()?;
                    follow::refresh_meta(w, d, id, dst)?;
                }
                (Some((_, sid)), None) => {
                    follow::remove(w, d, sid)?;
                }
                (None, _) => {}
            }
        }
        Change::Removed { path, top } => {
            if let Some((_, id)) = f.entry(w, locs, path)? {
                f.forget(path);
                let s = follow::remove(w, d, id)?;
                snaps.insert(*top, s);
            }
        }
        Change::Restored { dst, top } => {
            let Some(snap) = restore.get(top).filter(|s| !s.is_empty()) else {
                return Ok(());
            };
            if let Some((loc, parent)) = f.folder(w, locs, parent_of(dst))? {
                let id = follow::reinsert(w, tx, d, loc, parent, os_bytes(name_of(dst)), snap)?;
                follow::refresh_meta(w, d, id, dst)?;
            }
        }
        Change::DirMeta { path, mtime_ns } => {
            if let Some((_, id)) = f.entry(w, locs, path)? {
                w.update(id, |r| r.mtime_ns = *mtime_ns)?;
            }
        }
        Change::Relinked { path } => {
            if let Some((_, id)) = f.entry(w, locs, path)? {
                follow::refresh_meta(w, d, id, path)?;
            }
        }
    }
    Ok(())
}
