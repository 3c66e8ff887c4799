//! File operations — copy, move, rename, new folder, new file, duplicate, trash, permanent
//! delete and restore — in three steps, one module for the window, the CLI and (later)
//! plugins and peers:
//!
//! 1. **Preview** ([`preview`]): computed from the index (folder totals, content identities)
//!    and a quick look at the disk (`lstat` of each item and destination, free space, the
//!    destination's file-system type), touching nothing: what happens to each item, bytes to
//!    write, conflicts (both sides' size and date, whether the contents are identical),
//!    refusals (a folder into itself, not enough space, a read-only destination, names the
//!    destination cannot hold) and warnings ("these 3 files are the only copies").
//! 2. **Commit**: a [`FileOpJob`] (durable, resumable, with progress) or, for a rename, a new
//!    folder or a new file, one immediate change. A batch rename (names from a
//!    [`pattern::Pattern`], checked and ordered by [`batch`]) is a job of renames. Every commit writes an audit record
//!    ([`audit`]) finalised on every exit path.
//! 3. **Verify**: each copied file's size and BLAKE3 are checked against what was read from
//!    its source before it takes its final name (on by default for copies and moves across
//!    volumes).
//!
//! The rules (DESIGN.md, "never lose a byte"): copies go to a temporary name in the
//! destination folder (`O_EXCL`), are flushed (`syncfs` once per batch), verified, renamed
//! into place without replacing anything unless asked, and the folder is flushed; a move
//! across volumes removes a source file only after its verified copy is in place; folders are
//! reached through handles (`fs::ops`), so a link swapped in after the preview is refused.
//! The index follows in the same checkpoint ([`crate::vdfs::index::follow`]).
//!
//! May use: `fs`, `content`, `jobs`, `store`, `index`, `indexer` (scoped rescans), `error`.

pub mod audit;
pub mod batch;
mod commit;
mod job;
pub mod pattern;
mod plan;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use commit::{Committed, Ctx, commit, empty_trash, redo, undo};
pub use job::{FileOpJob, Top, TopStatus, TrashedAt, tops_of};
pub use plan::preview;

use crate::vdfs::fs::entry::{EntryKind, os_bytes, os_from_bytes};

/// The operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Copy items into a folder.
    Copy,
    /// Move items into a folder.
    Move,
    /// Give one item a new name in its folder.
    Rename,
    /// Create an empty folder.
    NewFolder,
    /// Create an empty file.
    NewFile,
    /// Copy items beside themselves as "name (copy)".
    Duplicate,
    /// Move items to the desktop trash.
    Trash,
    /// Delete items for good (explicit, separately confirmed).
    Delete,
    /// Put trashed items back where they were.
    Restore,
    /// Replace each item by a hard link to an identical file on the same volume (its entry in
    /// [`Request::link_to`]): duplicates stop taking space, every path stays. Undone by giving
    /// each path its own copy again.
    HardLink,
    /// Give several items new names at once (each in its own folder), from a
    /// [`pattern::Pattern`] or a list of names: one job, one audit record, one undo.
    BatchRename,
}

impl OpKind {
    /// The verb, for titles and the audit log ("copy", "move" …).
    pub fn verb(self) -> &'static str {
        match self {
            OpKind::Copy => "copy",
            OpKind::Move => "move",
            OpKind::Rename => "rename",
            OpKind::NewFolder => "new folder",
            OpKind::NewFile => "new file",
            OpKind::Duplicate => "duplicate",
            OpKind::Trash => "trash",
            OpKind::Delete => "delete permanently",
            OpKind::Restore => "restore",
            OpKind::HardLink => "replace with hard links",
            OpKind::BatchRename => "rename",
        }
    }
}

/// What to do when an item's destination name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Refuse the operation at preview (the default: never a silent overwrite).
    #[default]
    Ask,
    /// Leave the existing item and skip this one.
    Skip,
    /// Replace an existing file (atomically); a folder is merged, its files replaced.
    Replace,
    /// Keep both: the new item gets a free name, `name (2).ext`.
    KeepBoth,
    /// Merge folders; a file inside that is taken is skipped unless it is identical.
    Merge,
}

/// An operation asked for: exact paths, never display strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The operation.
    pub kind: OpKind,
    /// The items (absolute or relative to the current folder; a final link is the link).
    pub sources: Vec<PathBuf>,
    /// The destination folder (copy and move), or the folder of a new folder or file.
    pub dest: Option<PathBuf>,
    /// The new name (rename, new folder, new file), exact bytes.
    pub name: Option<Vec<u8>>,
    /// A batch rename's new names, exact bytes, one per source in the same order (the window
    /// sends the names it showed); when empty, `pattern` names them.
    pub names: Vec<Vec<u8>>,
    /// A batch rename's pattern, applied to the sources in the order given.
    pub pattern: Option<pattern::Pattern>,
    /// What to do with taken names.
    pub on_conflict: OnConflict,
    /// Verify copies by size and BLAKE3 (default on).
    pub verify: bool,
    /// For [`OpKind::HardLink`]: the file each of `sources` is to become a hard link to (the
    /// kept copy), one per source, in the same order.
    pub link_to: Vec<PathBuf>,
}

impl Request {
    /// A request of `kind` for `sources`, verifying, refusing conflicts.
    pub fn new(kind: OpKind, sources: Vec<PathBuf>) -> Request {
        Request {
            kind,
            sources,
            dest: None,
            name: None,
            names: Vec::new(),
            pattern: None,
            on_conflict: OnConflict::Ask,
            verify: true,
            link_to: Vec::new(),
        }
    }

    /// A [`OpKind::HardLink`] request: each `(copy, kept)` pair makes `copy` a hard link to
    /// `kept`.
    pub fn hard_links(pairs: Vec<(PathBuf, PathBuf)>) -> Request {
        let (sources, link_to) = pairs.into_iter().unzip();
        Request {
            link_to,
            ..Request::new(OpKind::HardLink, sources)
        }
    }

    /// With the destination folder `dest`.
    pub fn to(mut self, dest: impl Into<PathBuf>) -> Request {
        self.dest = Some(dest.into());
        self
    }

    /// With the name `name`.
    pub fn named(mut self, name: impl Into<Vec<u8>>) -> Request {
        self.name = Some(name.into());
        self
    }

    /// With the new names `names` (a batch rename: one per source).
    pub fn names(mut self, names: Vec<Vec<u8>>) -> Request {
        self.names = names;
        self
    }

    /// With the rename pattern `p` (a batch rename).
    pub fn pattern(mut self, p: pattern::Pattern) -> Request {
        self.pattern = Some(p);
        self
    }

    /// With the conflict policy `c`.
    pub fn on_conflict(mut self, c: OnConflict) -> Request {
        self.on_conflict = c;
        self
    }
}

/// What will happen to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Copied to its target.
    Copy,
    /// Moved by a rename (same volume).
    Rename,
    /// Moved across volumes: copied, verified, then the source removed.
    CopyThenRemove,
    /// Copied over an existing file (explicit "replace").
    Replace,
    /// Merged into an existing folder.
    Merge,
    /// Left alone (its name is taken and "skip" was chosen, or it is already there).
    Skip,
    /// Moved to the trash.
    Trash,
    /// Deleted for good.
    Delete,
    /// Created.
    Create,
    /// Put back from the trash.
    Restore,
    /// Replaced by a hard link to its target (the kept copy).
    Link,
}

/// Both sides of a name conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictInfo {
    /// What is at the target now.
    pub existing_kind: EntryKind,
    /// Its size in bytes.
    pub existing_size: u64,
    /// Its modification time, ns since the epoch.
    pub existing_mtime_ns: i64,
    /// The incoming item's size.
    pub source_size: u64,
    /// The incoming item's modification time.
    pub source_mtime_ns: i64,
    /// Whether the contents are the same (by content identity when both are indexed, or by
    /// BLAKE3 for files up to 64 MiB); `None` when not known.
    pub identical: Option<bool>,
}

/// One item of a preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewItem {
    /// Where it is (canonical, exact bytes).
    #[serde(serialize_with = "crate::format::lossy_path")]
    pub source: PathBuf,
    /// Where it will be (exact bytes); for a trash, the trash folder.
    #[serde(serialize_with = "crate::format::lossy_path")]
    pub target: PathBuf,
    /// Its kind.
    pub kind: EntryKind,
    /// What happens to it.
    pub outcome: Outcome,
    /// Bytes of it (a folder: everything below).
    pub bytes: u64,
    /// Files in it (1 for a file).
    pub files: u64,
    /// The conflict at its target, if any.
    pub conflict: Option<ConflictInfo>,
    /// Size in bytes and modification time when previewed (the undo of a copy checks the
    /// copy was not edited since).
    pub mtime_ns: i64,
    /// Inode (the resume of a rename recognises the moved item by it).
    pub inode: u64,
}

/// Everything [`preview`] found, and what [`crate::vdfs::library::Library::commit`] carries out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    /// The operation.
    pub kind: OpKind,
    /// Each item.
    pub items: Vec<PreviewItem>,
    /// Files that will be written, moved or removed.
    pub files: u64,
    /// Bytes that will be written (copies, moves across volumes), or removed.
    pub bytes: u64,
    /// Free bytes on the destination's volume, when there is one.
    pub dest_free: Option<u64>,
    /// Why it cannot go ahead (empty when it can).
    pub refusals: Vec<String>,
    /// What the user should know before it goes ahead.
    pub warnings: Vec<String>,
    /// Conflicts found (each item's is in [`PreviewItem::conflict`]).
    pub conflicts: u64,
    /// The conflict policy.
    pub on_conflict: OnConflict,
    /// Verify copies.
    pub verify: bool,
}

impl Preview {
    /// True if nothing refuses it.
    pub fn can_commit(&self) -> bool {
        self.refusals.is_empty()
    }

    /// True if a user should look at it before it runs (a conflict, a warning, a refusal).
    pub fn needs_attention(&self) -> bool {
        !self.refusals.is_empty() || !self.warnings.is_empty() || self.conflicts > 0
    }
}

/// Exact bytes of a path.
pub(crate) fn path_bytes(p: &Path) -> Vec<u8> {
    os_bytes(p.as_os_str()).to_vec()
}

/// A path from exact bytes.
pub(crate) fn bytes_path(b: &[u8]) -> PathBuf {
    PathBuf::from(os_from_bytes(b))
}

/// Errors of file operations.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The preview refused it; each line says why and names the path.
    #[error("{}", .0.join("; "))]
    Refused(Vec<String>),
    /// An I/O error on a path.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// There is no such audit record, or it cannot be undone.
    #[error("{0}")]
    Undo(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The job could not be started.
    #[error(transparent)]
    Job(#[from] crate::vdfs::jobs::JobError),
}

impl From<ActionError> for crate::vdfs::CoreError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::Refused(r) => crate::vdfs::CoreError::Refused(r),
            ActionError::Io { path, source } => crate::vdfs::CoreError::io(&path, source),
            ActionError::Undo(w) => crate::vdfs::CoreError::CannotUndo(w),
            ActionError::Store(s) => crate::vdfs::CoreError::Store(s),
            ActionError::Job(j) => crate::vdfs::CoreError::Job(j),
        }
    }
}
