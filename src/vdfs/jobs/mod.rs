//! Durable, resumable background jobs.
//!
//! A job is a serde struct implementing [`Job`]: the struct *is* its state (input plus a
//! cursor). It runs on a blocking thread and, after every batch of work, calls
//! [`JobContext::checkpoint`], which writes the batch's effects **and** the job's postcard-encoded
//! state in one durable store transaction. A process killed at any instant therefore resumes
//! from the last checkpoint and never applies a finished batch twice: either the batch's
//! effects and the advanced cursor are both committed, or neither is.
//!
//! Lifecycle (stored in the `jobs` table as a [`JobRecord`]):
//!
//! ```text
//! Queued ─▶ Running ─▶ Completed | Failed | Cancelled
//!              │  ▲
//!              ▼  │ resume
//!      Paused / Interrupted   (Interrupted = stopped by shutdown or a crash; resumes on open)
//! ```
//!
//! Pause, cancel and shutdown are requests honoured at the job's next checkpoint. Progress is
//! published on the event bus at most every [`PROGRESS_INTERVAL`], latest value wins.
//!
//! Owns the `jobs` table. Knows no job kind (the core registers them in a [`JobRegistry`]) and
//! no event bus (it publishes [`JobEvent`]s to a [`JobEvents`] sink the core provides).
//!
//! May use: `store` only.

mod context;
pub mod diagnostic;
mod manager;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::store::StoreError;

pub use context::{JobContext, PendingCheckpoint, Throttle};
pub use manager::{JobHandle, JobManager, LIVE_INDEX_LEASE, Lease};

/// Job ids are a per-library sequence starting at 1.
pub type JobId = u64;

/// Minimum time between two progress events of one job (≈10 per second).
pub const PROGRESS_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// At most this many per-path errors are stored per job; [`JobRecord::error_count`] counts all.
pub const MAX_STORED_ERRORS: usize = 1000;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a free slot.
    Queued,
    /// Running now.
    Running,
    /// Stopped by the user; resumes only when asked.
    Paused,
    /// Stopped by shutdown or a crash; resumes when the library is next opened by the window
    /// (or with `cairn jobs resume`).
    Interrupted,
    /// Finished its work.
    Completed,
    /// Stopped by an error it cannot resume from.
    Failed,
    /// Cancelled by the user.
    Cancelled,
}

impl JobStatus {
    /// True for Completed, Failed and Cancelled: the job will not run again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        )
    }

    /// Lower-case name, as printed by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Paused => "paused",
            JobStatus::Interrupted => "interrupted",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job's progress: a phase name, a count of units done (of an optional total) and bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobProgress {
    /// Current phase, e.g. `discovery`.
    pub phase: String,
    /// Units done in this phase (files, batches …).
    pub completed: u64,
    /// Units in this phase, when known.
    pub total: Option<u64>,
    /// Bytes processed, when meaningful.
    pub bytes: u64,
    /// A short free-text note, e.g. the current folder.
    pub message: String,
}

impl JobProgress {
    /// `completed / total` in `0.0..=1.0`, when the total is known and non-zero.
    pub fn fraction(&self) -> Option<f32> {
        self.total
            .filter(|&t| t > 0)
            .map(|t| (self.completed as f64 / t as f64).clamp(0.0, 1.0) as f32)
    }
}

/// An error about one path that did not stop the job (e.g. a folder it could not read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPathError {
    /// The path's bytes (exact, so non-UTF-8 names survive).
    pub path: Vec<u8>,
    /// What went wrong.
    pub message: String,
}

impl JobPathError {
    /// An error about `path`.
    pub fn new(path: &Path, message: impl Into<String>) -> JobPathError {
        JobPathError {
            path: path.as_os_str().as_encoded_bytes().to_vec(),
            message: message.into(),
        }
    }

    /// The path, exactly as recorded.
    pub fn path(&self) -> PathBuf {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(&self.path))
        }
        #[cfg(not(unix))]
        {
            PathBuf::from(String::from_utf8_lossy(&self.path).into_owned())
        }
    }
}

/// A job as stored in the `jobs` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Id within the library.
    pub id: JobId,
    /// [`Job::KIND`] of the job.
    pub kind: String,
    /// Human title, e.g. `Index ~/Pictures`.
    pub title: String,
    /// Current status.
    pub status: JobStatus,
    /// Progress at the last checkpoint (or the end).
    pub progress: JobProgress,
    /// The job's postcard-encoded state at the last checkpoint.
    pub state: Vec<u8>,
    /// Checkpoints committed so far.
    pub checkpoints: u64,
    /// The device that queued it.
    pub device: uuid::Uuid,
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// First start, ms since the epoch.
    pub started_ms: Option<i64>,
    /// Last change, ms since the epoch.
    pub updated_ms: i64,
    /// End (completed, failed or cancelled), ms since the epoch.
    pub finished_ms: Option<i64>,
    /// Time spent running, summed over runs, in ms.
    pub run_ms: u64,
    /// The first [`MAX_STORED_ERRORS`] per-path errors.
    pub errors: Vec<JobPathError>,
    /// All per-path errors, stored or not.
    pub error_count: u64,
    /// Summary on completion, or the reason it failed or stopped.
    pub outcome: Option<String>,
}

impl JobRecord {
    /// A queued job of `kind` with `title` and its postcard-encoded `state`, created now by
    /// `device`, not yet run (id 0 until the manager numbers it).
    pub fn new(kind: &str, title: String, state: Vec<u8>, device: uuid::Uuid) -> JobRecord {
        let now = now_ms();
        JobRecord {
            id: 0,
            kind: kind.to_owned(),
            title,
            status: JobStatus::Queued,
            progress: JobProgress::default(),
            state,
            checkpoints: 0,
            device,
            created_ms: now,
            started_ms: None,
            updated_ms: now,
            finished_ms: None,
            run_ms: 0,
            errors: Vec::new(),
            error_count: 0,
            outcome: None,
        }
    }
}

impl crate::store::record::Record for JobRecord {
    const TABLE: &'static str = "jobs";
    const VERSION: u8 = 1;
}

/// Why a job stopped before finishing, at a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// The user paused it.
    Pause,
    /// The user cancelled it.
    Cancel,
    /// The library is closing; the job resumes on the next open.
    Suspend,
}

/// Errors of jobs and of the job manager.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobError {
    /// No job has this id.
    #[error("there is no job {0}; `cairn jobs list --all` shows every job")]
    NotFound(JobId),
    /// The operation does not apply to the job's status.
    #[error("job {id} is {status}, so it cannot be {action}")]
    InvalidState {
        /// Job id.
        id: JobId,
        /// Its status.
        status: JobStatus,
        /// What was asked, e.g. `paused`.
        action: &'static str,
    },
    /// The stored kind is not registered in this binary.
    #[error("job {id} is of kind {kind:?}, which this Cairn does not know; it was left as it is")]
    UnknownKind {
        /// Job id.
        id: JobId,
        /// The stored kind.
        kind: String,
    },
    /// The stored state does not decode.
    #[error("the saved state of job {id} is damaged ({detail}); it was left as it is")]
    BadState {
        /// Job id.
        id: JobId,
        /// postcard's reason.
        detail: String,
    },
    /// The job failed and cannot resume.
    #[error("{0}")]
    Failed(String),
    /// The job stopped on a condition outside it that may pass (a device that stopped
    /// answering), in words: it is paused with this as its outcome, and goes on from its
    /// last checkpoint when resumed.
    #[error("{0}")]
    Stopped(String),
    /// The job stopped at a checkpoint because it was asked to (not a failure).
    #[error("interrupted ({0:?})")]
    Interrupted(Interrupt),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a job writes, so that two jobs writing the same thing never run at once (a write
/// lease held for the whole run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The index of one location (by location id).
    Location(u32),
    /// The index of every location (e.g. verifying every content).
    AllLocations,
}

impl Resource {
    /// True if two jobs holding `self` and `other` must not run at once.
    pub fn conflicts(self, other: Resource) -> bool {
        match (self, other) {
            (Resource::Location(a), Resource::Location(b)) => a == b,
            _ => true,
        }
    }
}

/// A unit of durable background work. See the module docs for the contract.
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    /// Stable name stored with the job, used to find how to resume it. Never change it once
    /// released.
    const KIND: &'static str;

    /// Human title, e.g. `Index ~/Pictures`.
    fn title(&self) -> String;

    /// What the job writes. A job waits (queued, saying for which job) until no running job
    /// holds a conflicting [`Resource`]. Default: nothing.
    fn resources(&self) -> Vec<Resource> {
        Vec::new()
    }

    /// Runs from the current state until done, calling [`JobContext::checkpoint`] after every
    /// batch and returning a one-line summary.
    ///
    /// # Errors
    /// [`JobError::Interrupted`] as returned by `checkpoint` (pass it on), or
    /// [`JobError::Failed`] for an error the job cannot continue after.
    fn run(&mut self, ctx: &mut JobContext) -> Result<String, JobError>;

    /// Decodes the state saved at a checkpoint (postcard, see [`JobRecord::state`]). postcard
    /// is not self-describing, so a job whose struct gains a field overrides this to also
    /// accept the layout saved by earlier builds (an interrupted job must resume after an
    /// upgrade). Default: the current layout only.
    ///
    /// # Errors
    /// postcard's error when the bytes are no known layout of the job.
    fn decode_state(bytes: &[u8]) -> Result<Self, postcard::Error> {
        postcard::from_bytes(bytes)
    }

    /// Cleans up after a cancel (e.g. removes temporary files). Runs on the job's thread, also
    /// when a job that is not running is cancelled.
    ///
    /// # Errors
    /// An error is recorded in the job's outcome; the job is still cancelled.
    fn on_cancel(&mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        let _ = ctx;
        Ok(())
    }
}

/// Object-safe form of [`Job`], used by the manager.
pub(crate) trait ErasedJob: Send {
    fn resources(&self) -> Vec<Resource>;
    fn run(&mut self, ctx: &mut JobContext) -> Result<String, JobError>;
    fn on_cancel(&mut self, ctx: &mut JobContext) -> Result<(), JobError>;
}

impl<J: Job> ErasedJob for J {
    fn resources(&self) -> Vec<Resource> {
        Job::resources(self)
    }
    fn run(&mut self, ctx: &mut JobContext) -> Result<String, JobError> {
        Job::run(self, ctx)
    }
    fn on_cancel(&mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        Job::on_cancel(self, ctx)
    }
}

type Decoder = Arc<dyn Fn(&[u8]) -> Result<Box<dyn ErasedJob>, postcard::Error> + Send + Sync>;

/// Maps stored [`Job::KIND`]s back to job types, so interrupted jobs can resume.
///
/// Kinds can be added while libraries are open ([`JobRegistry::register_with`] takes
/// `&self`): a layer above the core (the network's transfers) registers its jobs once the
/// core has started, before it opens a library.
#[derive(Default)]
pub struct JobRegistry {
    decoders: RwLock<HashMap<&'static str, Decoder>>,
}

impl JobRegistry {
    /// Registers `J` under [`Job::KIND`]; saved states are decoded by [`Job::decode_state`].
    pub fn register<J: Job>(&mut self) {
        self.register_with::<J>(|_| {});
    }

    /// Registers `J` under [`Job::KIND`], with `prepare` called on every job decoded from a
    /// saved state before it runs: it gives the job what its state cannot hold (a handle
    /// on the running core or endpoint, kept in fields that are not serialised). Replaces
    /// an earlier registration of the same kind.
    pub fn register_with<J: Job>(&self, prepare: impl Fn(&mut J) + Send + Sync + 'static) {
        let decode = move |bytes: &[u8]| -> Result<Box<dyn ErasedJob>, postcard::Error> {
            let mut job = J::decode_state(bytes)?;
            prepare(&mut job);
            Ok(Box::new(job))
        };
        self.decoders
            .write()
            .expect("job registry")
            .insert(J::KIND, Arc::new(decode));
    }

    /// True when a job of `kind` can be rebuilt from its saved state.
    pub fn knows(&self, kind: &str) -> bool {
        self.decoders
            .read()
            .expect("job registry")
            .contains_key(kind)
    }

    pub(crate) fn instantiate(&self, record: &JobRecord) -> Result<Box<dyn ErasedJob>, JobError> {
        let decode = self
            .decoders
            .read()
            .expect("job registry")
            .get(record.kind.as_str())
            .cloned()
            .ok_or_else(|| JobError::UnknownKind {
                id: record.id,
                kind: record.kind.clone(),
            })?;
        decode(&record.state).map_err(|e| JobError::BadState {
            id: record.id,
            detail: e.to_string(),
        })
    }
}

/// What the job system reports as jobs are queued, change status, progress and finish. The
/// core forwards each one to the event bus as the matching [`crate::vdfs::Event`]; the job
/// system itself knows nothing of the bus, so it sits below it.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// A job was queued.
    Queued {
        /// Its id.
        job: JobId,
        /// Its [`Job::KIND`].
        kind: String,
        /// Its title.
        title: String,
    },
    /// A job's status changed (started, paused, resumed …).
    StatusChanged {
        /// Its id.
        job: JobId,
        /// The new status.
        status: JobStatus,
    },
    /// A job made progress (at most every [`PROGRESS_INTERVAL`]).
    Progress {
        /// Its id.
        job: JobId,
        /// Where it is.
        progress: JobProgress,
    },
    /// A job ended (completed, failed or cancelled) or stopped (paused, interrupted).
    Finished {
        /// Its id.
        job: JobId,
        /// Its final status.
        status: JobStatus,
        /// Its summary or the reason it stopped.
        outcome: Option<String>,
    },
}

/// Where the job system publishes its [`JobEvent`]s: a cheap-to-clone callback that must not
/// block (the core's is a broadcast send).
#[derive(Clone)]
pub struct JobEvents(std::sync::Arc<dyn Fn(JobEvent) + Send + Sync>);

impl JobEvents {
    /// Events go to `sink`.
    pub fn new(sink: impl Fn(JobEvent) + Send + Sync + 'static) -> JobEvents {
        JobEvents(std::sync::Arc::new(sink))
    }

    /// Publishes `event`.
    pub fn publish(&self, event: JobEvent) {
        (self.0)(event)
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
