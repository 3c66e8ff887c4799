//! The core's error type. Every variant names the path, library or id it concerns.

use std::io;
use std::path::{Path, PathBuf};

use crate::store::StoreError;

use crate::vdfs::jobs::JobError;

/// Errors of the [`Core`](crate::vdfs::Core) API.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The platform has no home folder, and no `--data-dir` was given.
    #[error("cannot find a data folder for Cairn; pass --data-dir DIR or set CAIRN_DATA_DIR")]
    NoDataDir,
    /// An I/O operation on one of Cairn's own files failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// One of Cairn's own files exists but cannot be understood. It is left as it is.
    #[error("{} is damaged ({reason}); it was left untouched — restore it from a backup or move it aside", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The library's store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The library is open in another process.
    #[error("library \"{name}\" is in use by {holder}; close that Cairn first")]
    LibraryInUse {
        /// The library's display name.
        name: String,
        /// The holding process, e.g. `pid 4242 (cairn)`.
        holder: String,
    },
    /// The default library cannot be found or read (its folder is gone or damaged). Cairn
    /// never opens another library in its place.
    #[error(
        "the default library ({id}) cannot be opened{}; repair it, or choose another with `cairn library set-default NAME` (or name one with --library)",
        if damaged.is_empty() { String::new() } else { format!(": damaged library folders: {}", damaged.join("; ")) }
    )]
    DefaultLibraryUnavailable {
        /// The default library's id (from `settings.toml`).
        id: uuid::Uuid,
        /// The damaged library folders, with what is wrong with each.
        damaged: Vec<String>,
    },
    /// No library matches the name or id given.
    #[error("no library named \"{query}\"; `cairn library list` shows the libraries")]
    LibraryNotFound {
        /// What the user asked for.
        query: String,
    },
    /// More than one library matches.
    #[error("\"{query}\" matches several libraries ({}); use the library id instead", matches.join(", "))]
    AmbiguousLibrary {
        /// What the user asked for.
        query: String,
        /// The matching display names with their ids.
        matches: Vec<String>,
    },
    /// A library with this display name already exists.
    #[error("a library named \"{name}\" already exists")]
    LibraryExists {
        /// The name.
        name: String,
    },
    /// The name cannot be used.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A tag could not be made, found or changed: what, naming the tag or value.
    #[error("{0}")]
    Tag(String),
    /// An operation that needs an open library was called without one.
    #[error("no library is open")]
    NoLibraryOpen,
    /// A library folder holds files Cairn did not create, so it was not deleted.
    #[error("{} holds files Cairn did not create ({}); they were left in place with the folder", path.display(), names.join(", "))]
    ForeignFiles {
        /// The library folder.
        path: PathBuf,
        /// The unknown names.
        names: Vec<String>,
    },
    /// No location matches.
    #[error("no location matches \"{query}\"; `cairn location list` shows them")]
    LocationNotFound {
        /// What the user asked for.
        query: String,
    },
    /// A path that must be a folder is something else (a file).
    #[error("{} is not a folder; {what}", path.display())]
    NotADir {
        /// The path.
        path: PathBuf,
        /// What it was meant to be, and what to do.
        what: &'static str,
    },
    /// A path given as a location is not a usable folder.
    #[error("{} cannot be a location: {reason}", path.display())]
    NotAFolder {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A path that must be inside a location (a scoped rescan's folder) is not.
    #[error("{} is not inside location {id} ({}); give a folder of that location", path.display(), location.display())]
    NotInLocation {
        /// The path, absolute (its existing part canonical).
        path: PathBuf,
        /// The location's root.
        location: PathBuf,
        /// The location's id.
        id: u32,
    },
    /// The new location would overlap an existing one.
    #[error("{} overlaps location {id} ({}); a folder can be in only one location", path.display(), other.display())]
    LocationOverlap {
        /// The new path.
        path: PathBuf,
        /// The existing location's path.
        other: PathBuf,
        /// The existing location's id.
        id: u32,
    },
    /// Rules that do not compile.
    #[error("invalid rules: {reason}")]
    InvalidRules {
        /// Why.
        reason: String,
    },
    /// The live index could not start (no inotify instance left).
    #[error("cannot watch folders for changes: {reason}")]
    Watch {
        /// The system's answer.
        reason: String,
    },
    /// A location's index is being written by another task for longer than a moment.
    #[error("location {id} is busy: {what}; try again when it ends")]
    LocationBusy {
        /// The location.
        id: u32,
        /// What holds it.
        what: String,
    },
    /// A location is being indexed already.
    #[error("location {id} is already being indexed (job {job})")]
    AlreadyIndexing {
        /// Location id.
        id: u32,
        /// The running job.
        job: u64,
    },
    /// A job operation failed.
    #[error(transparent)]
    Job(#[from] JobError),
    /// A file operation's preview refused it; each reason names the path.
    #[error("refused: {}", .0.join("; "))]
    Refused(Vec<String>),
    /// An operation cannot be undone (or there is nothing to undo).
    #[error("cannot undo: {0}")]
    CannotUndo(String),
}

impl CoreError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: io::Error) -> CoreError {
        CoreError::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// A damaged file at `path`.
    pub fn corrupt(path: &Path, reason: impl std::fmt::Display) -> CoreError {
        CoreError::Corrupt {
            path: path.to_owned(),
            reason: one_line(&reason.to_string()),
        }
    }
}

/// A multi-line reason (a TOML error draws the offending line with a caret) as one line: its
/// first line and its last, e.g. "TOML parse error at line 1, column 7: unclosed array".
fn one_line(reason: &str) -> String {
    let lines: Vec<&str> = reason
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [first, .., last] => format!("{first}: {last}"),
    }
}
