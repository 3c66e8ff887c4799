//! The event bus: one broadcast channel of typed [`Event`]s from the core to every listener
//! (the window, the CLI's progress display, tests).
//!
//! Publishing never blocks. A listener that falls more than [`CAPACITY`] events behind gets
//! `RecvError::Lagged` and should re-read the state it shows from the core.

use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::vdfs::jobs::{JobEvent, JobEvents, JobId, JobProgress, JobStatus};

/// Events kept for a slow listener before it lags.
pub const CAPACITY: usize = 4096;

/// Something that happened in the core.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A library was opened in this process.
    LibraryOpened {
        /// Library id.
        id: Uuid,
        /// Display name.
        name: String,
    },
    /// The open library was closed.
    LibraryClosed {
        /// Library id.
        id: Uuid,
    },
    /// The set of libraries, or one's name, changed.
    LibrariesChanged,
    /// The device was renamed.
    DeviceRenamed {
        /// The new name.
        name: String,
    },
    /// A job was queued.
    JobQueued {
        /// Job id.
        job: JobId,
        /// Job kind, e.g. `diagnostic`.
        kind: String,
        /// Human title.
        title: String,
    },
    /// A job's status changed (started, paused, resumed …) without finishing.
    JobStatusChanged {
        /// Job id.
        job: JobId,
        /// New status.
        status: JobStatus,
    },
    /// A job's progress; at most ~10 per second per job, the latest value wins.
    JobProgress {
        /// Job id.
        job: JobId,
        /// Progress now.
        progress: JobProgress,
    },
    /// The live index wrote what it saw change on disk in one location (one batch).
    IndexChanged {
        /// The location.
        location: u32,
        /// The folders whose listing changed (entries added, removed, renamed or changed).
        #[serde(serialize_with = "crate::format::lossy_paths")]
        folders: Vec<std::path::PathBuf>,
        /// Entries created in the batch (all locations of it).
        created: u64,
        /// Files whose content changed.
        modified: u64,
        /// Entries moved or renamed (their UUIDs kept).
        moved: u64,
        /// Entries gone.
        deleted: u64,
    },
    /// What the live index watches of a location changed (started, limit reached, caught
    /// up, stopped).
    WatchChanged {
        /// The location.
        location: u32,
    },
    /// A location went offline or came back, or the set of locations changed.
    LocationsChanged,
    /// Tags, their graph or their assignments changed.
    TagsChanged,
    /// A folder watched for a view outside the locations (the folder shown, or the folder of
    /// an ephemeral search) changed on disk.
    FolderChanged {
        /// The folder watched (the change is in it or below it).
        #[serde(serialize_with = "crate::format::lossy_path")]
        folder: std::path::PathBuf,
    },
    /// A job ended: completed, failed, cancelled, paused or interrupted.
    JobFinished {
        /// Job id.
        job: JobId,
        /// Final status of this run.
        status: JobStatus,
        /// Summary or failure reason.
        outcome: Option<String>,
    },
}

/// Cheap-to-clone handle on the bus.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new()
    }
}

impl EventBus {
    /// A new bus holding up to [`CAPACITY`] undelivered events per listener.
    pub fn new() -> EventBus {
        EventBus {
            tx: broadcast::channel(CAPACITY).0,
        }
    }

    /// Sends `event` to every current listener; a bus with no listener drops it.
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    /// A [`JobEvents`] sink that publishes every job event on this bus.
    pub fn job_events(&self) -> JobEvents {
        let bus = self.clone();
        JobEvents::new(move |e| bus.publish(e.into()))
    }

    /// A new listener that receives events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

impl From<JobEvent> for Event {
    fn from(e: JobEvent) -> Event {
        match e {
            JobEvent::Queued { job, kind, title } => Event::JobQueued { job, kind, title },
            JobEvent::StatusChanged { job, status } => Event::JobStatusChanged { job, status },
            JobEvent::Progress { job, progress } => Event::JobProgress { job, progress },
            JobEvent::Finished {
                job,
                status,
                outcome,
            } => Event::JobFinished {
                job,
                status,
                outcome,
            },
        }
    }
}
