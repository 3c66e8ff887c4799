//! The channels between the window and the core.
//!
//! The UI sends [`Command`]s; a task on the core's runtime carries each out (blocking core calls
//! run on the blocking pool) and answers with [`Update`]s. Core [`Event`]s are forwarded as
//! updates too. Every update is followed by a call to the repaint waker, so the window redraws
//! only when there is news.

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::{broadcast, mpsc as tmpsc};
use uuid::Uuid;

use crate::vdfs::jobs::diagnostic::DiagnosticJob;
use crate::vdfs::jobs::{JobId, JobRecord};
use crate::vdfs::{Core, Event, LibraryConfig, LibrarySummary};

/// What the window asks the core to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Re-read the library list and the open library's jobs.
    Refresh,
    /// Open another library.
    OpenLibrary(Uuid),
    /// Create a library with this name and open it.
    CreateLibrary(String),
    /// Pause a job.
    PauseJob(JobId),
    /// Resume a job.
    ResumeJob(JobId),
    /// Cancel a job.
    CancelJob(JobId),
    /// Run the diagnostic self-check job (N batches).
    RunDiagnostic(u64),
}

/// What the core tells the window.
#[derive(Debug, Clone)]
pub enum Update {
    /// The libraries in the data directory.
    Libraries(Vec<LibrarySummary>),
    /// The open library changed (or could not be opened: `Err` with the reason).
    Library(Result<(LibraryConfig, std::path::PathBuf), String>),
    /// The open library's jobs, oldest first.
    Jobs(Vec<JobRecord>),
    /// A core event.
    Event(Event),
    /// A command failed.
    Error(String),
}

/// The window's end of the channels.
pub struct Bridge {
    commands: tmpsc::UnboundedSender<Command>,
    updates: mpsc::Receiver<Update>,
}

/// Wakes the UI thread (eframe: `ctx.request_repaint()`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

impl Bridge {
    /// Starts the core-side tasks. `waker` is called after every update.
    pub fn start(core: Core, waker: Waker) -> Bridge {
        let (cmd_tx, mut cmd_rx) = tmpsc::unbounded_channel::<Command>();
        let (up_tx, up_rx) = mpsc::channel::<Update>();
        let send = {
            let waker = waker.clone();
            move |u: Update| {
                let _ = up_tx.send(u);
                waker();
            }
        };
        let rt = core.runtime().clone();

        // Forward core events.
        let mut events = core.events().subscribe();
        let forward = send.clone();
        rt.spawn(async move {
            loop {
                match events.recv().await {
                    Ok(e) => forward(Update::Event(e)),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });

        // Carry out commands, one at a time, off the async workers.
        rt.spawn(async move {
            while let Some(cmd) = cmd_rx.recv().await {
                let core = core.clone();
                let send = send.clone();
                let r = tokio::task::spawn_blocking(move || handle(&core, cmd, &send)).await;
                if let Err(e) = r {
                    tracing::error!("a UI command crashed: {e}");
                }
            }
        });
        Bridge {
            commands: cmd_tx,
            updates: up_rx,
        }
    }

    /// Queues a command; never blocks.
    pub fn send(&self, cmd: Command) {
        let _ = self.commands.send(cmd);
    }

    /// The next pending update, if any; never blocks.
    pub fn try_recv(&self) -> Option<Update> {
        self.updates.try_recv().ok()
    }
}

fn handle(core: &Core, cmd: Command, send: &impl Fn(Update)) {
    let result: Result<(), String> = (|| {
        match cmd {
            Command::Refresh => {}
            Command::OpenLibrary(id) => {
                let r = core
                    .open_library(Some(&id.to_string()))
                    .map(|l| (l.config(), l.path().to_owned()))
                    .map_err(|e| e.to_string());
                send(Update::Library(r));
            }
            Command::CreateLibrary(name) => {
                let s = core.create_library(&name, "").map_err(|e| e.to_string())?;
                let r = core
                    .open_library_at(&s.path)
                    .map(|l| (l.config(), l.path().to_owned()))
                    .map_err(|e| e.to_string());
                send(Update::Library(r));
            }
            Command::PauseJob(id) => jobs(core)?.pause(id).map_err(|e| e.to_string())?,
            Command::ResumeJob(id) => {
                jobs(core)?.resume(id).map_err(|e| e.to_string())?;
            }
            Command::CancelJob(id) => {
                jobs(core)?.cancel(id).map_err(|e| e.to_string())?;
            }
            Command::RunDiagnostic(n) => {
                jobs(core)?
                    .spawn(DiagnosticJob::new(n, 100))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        send(Update::Error(e));
    }
    refresh(core, send);
}

fn jobs(core: &Core) -> Result<crate::vdfs::jobs::JobManager, String> {
    core.library()
        .map(|l| l.jobs().clone())
        .map_err(|e| e.to_string())
}

/// Sends the library list and the open library's jobs.
pub fn refresh(core: &Core, send: &impl Fn(Update)) {
    match core.list_libraries() {
        Ok((list, _)) => send(Update::Libraries(list)),
        Err(e) => send(Update::Error(e.to_string())),
    }
    if let Ok(lib) = core.library() {
        match lib.jobs().list() {
            Ok(jobs) => send(Update::Jobs(jobs)),
            Err(e) => send(Update::Error(e.to_string())),
        }
    }
}
