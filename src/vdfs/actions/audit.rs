//! The audit log: one record per file operation — what, its items by path (and, through the
//! job's items, by UUID), the device, when, the job, its status, its errors and how to undo
//! it — written when the operation is committed and finalised on every exit path (done,
//! failed, cancelled; a crash leaves it running until the resumed job finishes it).
//! `cairn history` lists it; `cairn undo [ID]` undoes a record.

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::OpKind;
use crate::store::record::{Record, decode_record, encode_record};
use crate::store::schema::AUDIT;
use crate::store::{Store, StoreError};
use crate::vdfs::jobs::JobId;

/// Where an operation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditStatus {
    /// Committed and not finished (a crashed run stays here until it is resumed).
    Running,
    /// Every item done (some may have been skipped by choice).
    Done,
    /// Some items done, some failed.
    Partial,
    /// Stopped by an error.
    Failed,
    /// Cancelled by the user (what was done stays done).
    Cancelled,
}

impl AuditStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditStatus::Running => "running",
            AuditStatus::Done => "done",
            AuditStatus::Partial => "partly done",
            AuditStatus::Failed => "failed",
            AuditStatus::Cancelled => "cancelled",
        }
    }
}

/// One item of an immediate operation (rename, new folder, new file), kept in the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditItem {
    /// Where it was (empty for a creation), exact bytes.
    pub from: Vec<u8>,
    /// Where it is now, exact bytes.
    pub to: Vec<u8>,
    /// The entry's UUID, when indexed.
    pub uuid: Option<Uuid>,
}

/// One operation in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Id (a per-library sequence from 1).
    pub id: u64,
    /// The operation.
    pub kind: OpKind,
    /// A one-line description, e.g. `copy 3 items to /home/me/Backup`.
    pub title: String,
    /// The device that ran it.
    pub device: Uuid,
    /// The job carrying it out (its items are in `op_items`), for copies, moves, trashes,
    /// deletes and restores.
    pub job: Option<JobId>,
    /// The items of an immediate operation.
    pub items: Vec<AuditItem>,
    /// When it was committed, ms since the epoch.
    pub started_ms: i64,
    /// When it ended.
    pub finished_ms: Option<i64>,
    /// Its status.
    pub status: AuditStatus,
    /// Summary, e.g. `12 files, 3.4 MB`.
    pub summary: String,
    /// Errors (the first 100).
    pub errors: Vec<String>,
    /// How many of the job's items (in order) it went through before it ended; the items
    /// after them were never touched (a cancel, a failure).
    pub items_done: Option<u64>,
    /// The record this one undid, if it is an undo (or a redo: the undo of an undo).
    pub undo_of: Option<u64>,
    /// True for an undo (Edit → Redo undoes it); false for an operation and for a redo
    /// (Edit → Undo undoes it).
    pub is_undo: bool,
    /// The record that undid this one.
    pub undone_by: Option<u64>,
}

impl Record for AuditRecord {
    const TABLE: &'static str = "audit";
    const VERSION: u8 = 1;
}

impl AuditRecord {
    /// A new running record (its id is given by [`insert`]).
    pub fn new(kind: OpKind, title: String, device: Uuid) -> AuditRecord {
        AuditRecord {
            id: 0,
            kind,
            title,
            device,
            job: None,
            items: Vec::new(),
            started_ms: crate::vdfs::jobs::now_ms(),
            finished_ms: None,
            status: AuditStatus::Running,
            summary: String::new(),
            errors: Vec::new(),
            items_done: None,
            undo_of: None,
            is_undo: false,
            undone_by: None,
        }
    }

    /// How it can be undone, or why not.
    pub fn undo_hint(&self) -> Result<&'static str, String> {
        if let Some(by) = self.undone_by {
            return Err(format!("already undone by #{by}"));
        }
        if matches!(self.status, AuditStatus::Running) {
            return Err("still running".into());
        }
        match self.kind {
            OpKind::Move | OpKind::Rename => Ok("move back"),
            OpKind::BatchRename => Ok("rename back"),
            OpKind::Copy | OpKind::Duplicate => Ok("trash the copies"),
            OpKind::Trash => Ok("restore from the trash"),
            OpKind::Restore => Ok("trash again"),
            OpKind::NewFolder => Ok("remove the folder if still empty"),
            OpKind::NewFile => Ok("trash the file if still empty"),
            // The undo of a new folder removed it: redoing makes it again.
            OpKind::Delete if self.is_undo => Ok("make the folder again"),
            OpKind::Delete => Err("a permanent delete cannot be undone".into()),
            // The undo of a hard link gave each file its own copy: redoing links them again.
            OpKind::HardLink if self.is_undo => Ok("link the copies again"),
            OpKind::HardLink => Ok("give each file its own copy again"),
        }
    }
}

/// Stores `rec` under the next id, which it returns.
///
/// # Errors
/// [`StoreError`].
pub fn insert(tx: &WriteTransaction, rec: &AuditRecord) -> Result<u64, StoreError> {
    let mut t = tx.open_table(AUDIT)?;
    let id = t.last()?.map_or(1, |(k, _)| k.value() + 1);
    let mut rec = rec.clone();
    rec.id = id;
    t.insert(id, encode_record(&rec).as_slice())?;
    Ok(id)
}

/// Stores `rec` like [`insert`] and, when it undoes another record, marks that one undone by
/// it (in the same transaction). Returns its id.
///
/// # Errors
/// [`StoreError`].
pub fn insert_linked(tx: &WriteTransaction, rec: &AuditRecord) -> Result<u64, StoreError> {
    let id = insert(tx, rec)?;
    if let Some(of) = rec.undo_of {
        update(tx, of, |r| r.undone_by = Some(id))?;
    }
    Ok(id)
}

/// Changes record `id` with `f` (nothing if it is gone).
///
/// # Errors
/// [`StoreError`].
pub fn update(
    tx: &WriteTransaction,
    id: u64,
    f: impl FnOnce(&mut AuditRecord),
) -> Result<(), StoreError> {
    let mut t = tx.open_table(AUDIT)?;
    let rec: Option<AuditRecord> = t.get(id)?.map(|v| decode_record(v.value())).transpose()?;
    if let Some(mut rec) = rec {
        f(&mut rec);
        t.insert(id, encode_record(&rec).as_slice())?;
    }
    Ok(())
}

/// Marks record `id` finished with `status`, a summary, errors and how many of its items it
/// went through.
///
/// # Errors
/// [`StoreError`].
pub fn finish(
    tx: &WriteTransaction,
    id: u64,
    status: AuditStatus,
    summary: &str,
    errors: &[String],
    items_done: u64,
) -> Result<(), StoreError> {
    update(tx, id, |r| {
        r.status = status;
        r.items_done = Some(items_done);
        r.finished_ms = Some(crate::vdfs::jobs::now_ms());
        r.summary = summary.to_owned();
        r.errors.extend(
            errors
                .iter()
                .take(100usize.saturating_sub(r.errors.len()))
                .cloned(),
        );
    })
}

/// The audit log, newest first, at most `limit` records.
///
/// # Errors
/// [`StoreError`].
pub fn list(store: &Store, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
    store.read(|tx| {
        let t = match tx.open_table(AUDIT) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for row in t.iter()?.rev().take(limit) {
            out.push(decode_record(row?.1.value())?);
        }
        Ok(out)
    })
}

/// One record.
///
/// # Errors
/// [`StoreError`].
pub fn get(store: &Store, id: u64) -> Result<Option<AuditRecord>, StoreError> {
    store.read(|tx| {
        let t = tx.open_table(AUDIT)?;
        t.get(id)?.map(|v| decode_record(v.value())).transpose()
    })
}
