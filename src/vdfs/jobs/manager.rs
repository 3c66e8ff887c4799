//! Queues, runs, pauses, resumes and cancels jobs; records every transition in the store.

use crate::vdfs::jobs::{JobEvent, JobEvents};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use redb::{ReadableTable, WriteTransaction};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::store::schema::{JOBS, META, META_NEXT_JOB_ID};
use crate::store::{Store, StoreError, decode, encode};
use crate::vdfs::jobs::context::{JobControl, add_errors};
use crate::vdfs::jobs::{
    ErasedJob, Interrupt, Job, JobContext, JobError, JobId, JobProgress, JobRecord, JobRegistry,
    JobStatus, Resource, now_ms,
};

/// How long [`JobManager::shutdown`] waits for running jobs to reach a checkpoint.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);

/// Completion signal of one run of a job.
#[derive(Default)]
struct Done {
    status: Mutex<Option<JobStatus>>,
    cv: Condvar,
}

impl Done {
    fn set(&self, status: JobStatus) {
        *self.status.lock().expect("job done lock") = Some(status);
        self.cv.notify_all();
    }

    fn wait(&self, timeout: Option<Duration>) -> Option<JobStatus> {
        let guard = self.status.lock().expect("job done lock");
        let guard = match timeout {
            None => self
                .cv
                .wait_while(guard, |s| s.is_none())
                .expect("job done lock"),
            Some(t) => {
                self.cv
                    .wait_timeout_while(guard, t, |s| s.is_none())
                    .expect("job done lock")
                    .0
            }
        };
        *guard
    }
}

/// A handle on one run of a job.
#[derive(Clone)]
pub struct JobHandle {
    id: JobId,
    done: Arc<Done>,
}

impl std::fmt::Debug for JobHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobHandle").field("id", &self.id).finish()
    }
}

impl JobHandle {
    /// The job's id.
    pub fn id(&self) -> JobId {
        self.id
    }

    /// Blocks until this run ends, returning how it ended (Completed, Failed, Cancelled,
    /// Paused or Interrupted). Not for async code or the UI thread.
    pub fn wait(&self) -> JobStatus {
        self.done.wait(None).unwrap_or(JobStatus::Interrupted)
    }

    /// Like [`JobHandle::wait`] but gives up after `timeout`, returning `None`.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<JobStatus> {
        self.done.wait(Some(timeout))
    }
}

struct Running {
    control: Arc<JobControl>,
    done: Arc<Done>,
}

struct Inner {
    store: Store,
    events: JobEvents,
    registry: Arc<JobRegistry>,
    runtime: tokio::runtime::Handle,
    device: Uuid,
    library_dir: std::path::PathBuf,
    slots: Arc<Semaphore>,
    running: Mutex<HashMap<JobId, Running>>,
    /// Write leases of the jobs that run now: what each writes.
    leases: Mutex<Vec<(JobId, Vec<Resource>)>>,
}

/// The holder id of the live index's leases ([`JobManager::try_lease`]); no job has it (job
/// ids start at 1).
pub const LIVE_INDEX_LEASE: JobId = 0;

/// A write lease held outside a job (the live index's writes between two events), released
/// when dropped. Jobs that write what it holds wait for it as for a running job.
pub struct Lease {
    inner: Arc<Inner>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.inner
            .leases
            .lock()
            .expect("leases lock")
            .retain(|(j, _)| *j != LIVE_INDEX_LEASE);
    }
}

/// The library's job manager. Cheap to clone.
#[derive(Clone)]
pub struct JobManager {
    inner: Arc<Inner>,
}

impl JobManager {
    /// A manager running at most `concurrency` jobs at once on `runtime`'s blocking pool.
    pub fn new(
        store: Store,
        events: JobEvents,
        registry: Arc<JobRegistry>,
        runtime: tokio::runtime::Handle,
        device: Uuid,
        library_dir: std::path::PathBuf,
        concurrency: usize,
    ) -> JobManager {
        JobManager {
            inner: Arc::new(Inner {
                store,
                events,
                registry,
                runtime,
                device,
                library_dir,
                slots: Arc::new(Semaphore::new(concurrency.max(1))),
                running: Mutex::new(HashMap::new()),
                leases: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Takes the write lease of `wants` for the live index at once, or `None` if a running job
    /// (or the live index itself) holds a conflicting one. One holder of this kind at a time.
    pub fn try_lease(&self, wants: Vec<Resource>) -> Option<Lease> {
        let mut leases = self.inner.leases.lock().expect("leases lock");
        let busy = leases
            .iter()
            .any(|(_, held)| held.iter().any(|h| wants.iter().any(|w| w.conflicts(*h))));
        if busy {
            return None;
        }
        leases.push((LIVE_INDEX_LEASE, wants));
        Some(Lease {
            inner: self.inner.clone(),
        })
    }

    /// Durably queues `job` and starts it when a slot is free.
    ///
    /// # Errors
    /// [`JobError::Store`] if the job cannot be recorded (it is then not started).
    pub fn spawn<J: Job>(&self, job: J) -> Result<JobHandle, JobError> {
        let record = self.record_new(J::KIND, job.title(), encode(&job))?;
        Ok(self.start(record.id, Box::new(job), None))
    }

    /// Records and starts a job given as its stored form (kind and postcard state).
    fn spawn_encoded(
        &self,
        kind: &str,
        title: String,
        state: Vec<u8>,
    ) -> Result<JobHandle, JobError> {
        let record = self.record_new(kind, title, state)?;
        let job = self.inner.registry.instantiate(&record)?;
        Ok(self.start(record.id, job, None))
    }

    /// Durably records a new queued job and announces it.
    fn record_new(&self, kind: &str, title: String, state: Vec<u8>) -> Result<JobRecord, JobError> {
        let template = JobRecord::new(kind, title, state, self.inner.device);
        let record = self.inner.store.write(move |tx| {
            let mut record = template.clone();
            record.id = next_job_id(tx)?;
            tx.open_table(JOBS)?.insert(
                record.id,
                crate::store::record::encode_record(&record).as_slice(),
            )?;
            Ok(record)
        })?;
        self.inner.events.publish(JobEvent::Queued {
            job: record.id,
            kind: record.kind.clone(),
            title: record.title.clone(),
        });
        Ok(record)
    }

    /// Every job of the library, oldest first.
    ///
    /// # Errors
    /// [`JobError::Store`].
    pub fn list(&self) -> Result<Vec<JobRecord>, JobError> {
        Ok(self.inner.store.read(|tx| {
            let table = tx.open_table(JOBS)?;
            let mut out = Vec::new();
            for row in table.iter()? {
                out.push(crate::store::record::decode_record(row?.1.value())?);
            }
            Ok(out)
        })?)
    }

    /// One job's record.
    ///
    /// # Errors
    /// [`JobError::NotFound`], [`JobError::Store`].
    pub fn get(&self, id: JobId) -> Result<JobRecord, JobError> {
        self.inner
            .store
            .read(|tx| {
                let table = tx.open_table(JOBS)?;
                table
                    .get(id)?
                    .map(|v| crate::store::record::decode_record(v.value()))
                    .transpose()
            })?
            .ok_or(JobError::NotFound(id))
    }

    /// The handle of a job running (or queued to run) in this process.
    pub fn handle(&self, id: JobId) -> Option<JobHandle> {
        let running = self.inner.running.lock().expect("jobs lock");
        running.get(&id).map(|r| JobHandle {
            id,
            done: r.done.clone(),
        })
    }

    /// Pauses a job: a running one stops at its next checkpoint; a queued or interrupted one
    /// is marked paused so it does not resume on its own.
    ///
    /// # Errors
    /// [`JobError::InvalidState`] for a finished job, [`JobError::NotFound`].
    pub fn pause(&self, id: JobId) -> Result<(), JobError> {
        if let Some(r) = self.inner.running.lock().expect("jobs lock").get(&id) {
            r.control.request(Some(Interrupt::Pause));
            return Ok(());
        }
        let record = self.get(id)?;
        match record.status {
            JobStatus::Paused => Ok(()),
            JobStatus::Queued | JobStatus::Interrupted => {
                self.set_status(id, JobStatus::Paused, None)?;
                Ok(())
            }
            status => Err(JobError::InvalidState {
                id,
                status,
                action: "paused",
            }),
        }
    }

    /// Resumes a paused or interrupted job from its last checkpoint (or withdraws a pause
    /// request the job has not reached yet).
    ///
    /// # Errors
    /// [`JobError::InvalidState`] for a finished job, [`JobError::UnknownKind`] or
    /// [`JobError::BadState`] if the stored job cannot be rebuilt, [`JobError::NotFound`].
    pub fn resume(&self, id: JobId) -> Result<JobHandle, JobError> {
        if let Some(r) = self.inner.running.lock().expect("jobs lock").get(&id) {
            r.control.request(None);
            return Ok(JobHandle {
                id,
                done: r.done.clone(),
            });
        }
        let record = self.get(id)?;
        if record.status.is_terminal() {
            return Err(JobError::InvalidState {
                id,
                status: record.status,
                action: "resumed",
            });
        }
        let job = self.inner.registry.instantiate(&record)?;
        Ok(self.start(id, job, None))
    }

    /// Cancels a job: a running one stops at its next checkpoint and cleans up; one that is
    /// not running is rebuilt just to run its cleanup.
    ///
    /// # Errors
    /// [`JobError::InvalidState`] for a finished job, [`JobError::NotFound`], or the errors
    /// of rebuilding it (then it is marked cancelled without cleanup).
    pub fn cancel(&self, id: JobId) -> Result<JobHandle, JobError> {
        if let Some(r) = self.inner.running.lock().expect("jobs lock").get(&id) {
            r.control.request(Some(Interrupt::Cancel));
            return Ok(JobHandle {
                id,
                done: r.done.clone(),
            });
        }
        let record = self.get(id)?;
        if record.status.is_terminal() {
            return Err(JobError::InvalidState {
                id,
                status: record.status,
                action: "cancelled",
            });
        }
        match self.inner.registry.instantiate(&record) {
            Ok(job) => Ok(self.start(id, job, Some(Interrupt::Cancel))),
            Err(e) => {
                self.set_status(id, JobStatus::Cancelled, Some(format!("cancelled ({e})")))?;
                Err(e)
            }
        }
    }

    /// Marks jobs that a dead process left queued or running as interrupted. Called on open,
    /// while this process holds the library lock (so nothing else is running them).
    ///
    /// # Errors
    /// [`JobError::Store`].
    pub fn mark_interrupted(&self) -> Result<Vec<JobId>, JobError> {
        // Most opens find nothing to mark: a read transaction answers that without a commit
        // (and its fsyncs) on every start.
        let any = self.inner.store.read(|tx| {
            let table = tx.open_table(JOBS)?;
            for row in table.iter()? {
                let record: JobRecord = crate::store::record::decode_record(row?.1.value())?;
                if matches!(record.status, JobStatus::Running | JobStatus::Queued) {
                    return Ok(true);
                }
            }
            Ok(false)
        })?;
        if !any {
            return Ok(Vec::new());
        }
        Ok(self.inner.store.write(|tx| {
            let mut table = tx.open_table(JOBS)?;
            let mut stale = Vec::new();
            for row in table.iter()? {
                let (k, v) = row?;
                let record: JobRecord = crate::store::record::decode_record(v.value())?;
                if matches!(record.status, JobStatus::Running | JobStatus::Queued) {
                    stale.push((k.value(), record));
                }
            }
            for (id, mut record) in stale.iter().cloned() {
                record.status = JobStatus::Interrupted;
                record.updated_ms = now_ms();
                table.insert(id, crate::store::record::encode_record(&record).as_slice())?;
            }
            Ok(stale.into_iter().map(|(id, _)| id).collect())
        })?)
    }

    /// Resumes every interrupted job. Jobs that cannot be rebuilt are marked failed with the
    /// reason, and the others still start.
    ///
    /// # Errors
    /// [`JobError::Store`] if the job list cannot be read.
    pub fn resume_interrupted(&self) -> Result<Vec<JobHandle>, JobError> {
        let mut handles = Vec::new();
        for record in self.list()? {
            if record.status != JobStatus::Interrupted {
                continue;
            }
            match self.resume(record.id) {
                Ok(h) => handles.push(h),
                Err(e) => {
                    tracing::error!(job = record.id, "cannot resume: {e}");
                    self.set_status(record.id, JobStatus::Failed, Some(e.to_string()))?;
                }
            }
        }
        Ok(handles)
    }

    /// Asks every running job to stop at its next checkpoint (they become interrupted and
    /// resume on the next open) and waits up to 30 s for them.
    pub fn shutdown(&self) {
        let done: Vec<Arc<Done>> = {
            let running = self.inner.running.lock().expect("jobs lock");
            running
                .values()
                .map(|r| {
                    r.control.request(Some(Interrupt::Suspend));
                    r.done.clone()
                })
                .collect()
        };
        for d in done {
            if d.wait(Some(SHUTDOWN_WAIT)).is_none() {
                tracing::warn!("a job did not reach a checkpoint in time; it resumes next open");
            }
        }
    }

    fn set_status(
        &self,
        id: JobId,
        status: JobStatus,
        outcome: Option<String>,
    ) -> Result<JobRecord, JobError> {
        let record = update_record(&self.inner.store, id, move |r| {
            r.status = status;
            if outcome.is_some() {
                r.outcome.clone_from(&outcome);
            }
            if status.is_terminal() {
                r.finished_ms = Some(now_ms());
            }
        })?;
        self.inner.events.publish(JobEvent::Finished {
            job: id,
            status,
            outcome: record.outcome.clone(),
        });
        Ok(record)
    }

    /// Registers the run and starts it on the blocking pool once a slot is free.
    fn start(&self, id: JobId, job: Box<dyn ErasedJob>, preset: Option<Interrupt>) -> JobHandle {
        let control = Arc::new(JobControl::default());
        control.request(preset);
        let done = Arc::new(Done::default());
        self.inner.running.lock().expect("jobs lock").insert(
            id,
            Running {
                control: control.clone(),
                done: done.clone(),
            },
        );
        let inner = self.inner.clone();
        let handle = JobHandle {
            id,
            done: done.clone(),
        };
        let wants = job.resources();
        self.inner.runtime.spawn(async move {
            // The write lease first: a job that writes what a running one writes waits, and
            // says for which (a cancel stops the wait; the job then only cleans up).
            let mut said = false;
            loop {
                let holder = {
                    let mut leases = inner.leases.lock().expect("leases lock");
                    let holder = leases
                        .iter()
                        .find(|(_, held)| {
                            held.iter().any(|h| wants.iter().any(|w| w.conflicts(*h)))
                        })
                        .map(|(other, _)| *other);
                    if holder.is_none() {
                        leases.push((id, wants.clone()));
                    }
                    holder
                };
                let Some(other) = holder else { break };
                // Cancelled, paused or shut down while waiting: it stops without running.
                if control.requested().is_some() {
                    break;
                }
                if !said {
                    said = true;
                    inner.events.publish(JobEvent::Progress {
                        job: id,
                        progress: JobProgress {
                            phase: "waiting".into(),
                            message: if other == LIVE_INDEX_LEASE {
                                "waiting for the live index's changes to the same location"
                                    .to_owned()
                            } else {
                                format!("waiting for job {other}, which writes the same location")
                            },
                            ..JobProgress::default()
                        },
                    });
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            let permit = inner.slots.clone().acquire_owned().await;
            let inner2 = inner.clone();
            let result = tokio::task::spawn_blocking(move || run(&inner2, id, job, &control)).await;
            drop(permit);
            let status = result.unwrap_or(JobStatus::Failed);
            inner
                .leases
                .lock()
                .expect("leases lock")
                .retain(|(j, _)| *j != id);
            inner.running.lock().expect("jobs lock").remove(&id);
            // Let go of the store before waking waiters, so a waiter that closes the library
            // really closes it.
            drop(inner);
            done.set(status);
        });
        handle
    }
}

/// Runs one job to its end (or interruption) and records the outcome.
fn run(
    inner: &Arc<Inner>,
    id: JobId,
    mut job: Box<dyn ErasedJob>,
    control: &Arc<JobControl>,
) -> JobStatus {
    let started = update_record(&inner.store, id, |r| {
        r.status = JobStatus::Running;
        // Why it stopped last time no longer holds.
        r.outcome = None;
        r.started_ms.get_or_insert_with(now_ms);
        r.updated_ms = now_ms();
    });
    let record = match started {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(job = id, "cannot start: {e}");
            return JobStatus::Failed;
        }
    };
    inner.events.publish(JobEvent::StatusChanged {
        job: id,
        status: JobStatus::Running,
    });
    let mut ctx = JobContext::new(
        id,
        inner.store.clone(),
        inner.events.clone(),
        control.clone(),
        record.progress.clone(),
        record.run_ms,
        inner.library_dir.clone(),
        inner.device,
    );

    // Asked to stop before it ever ran (while queued or waiting for a lease): it stops at once,
    // writing nothing (a cancel still runs its cleanup below).
    let result = if let Some(asked) = control.requested() {
        Err(JobError::Interrupted(asked))
    } else {
        match std::panic::catch_unwind(AssertUnwindSafe(|| job.run(&mut ctx))) {
            Ok(r) => r,
            Err(panic) => Err(JobError::Failed(format!(
                "the job crashed: {}",
                panic_text(&panic)
            ))),
        }
    };
    let (status, outcome) = match result {
        Ok(summary) => (JobStatus::Completed, Some(summary)),
        Err(JobError::Interrupted(Interrupt::Pause)) => (JobStatus::Paused, None),
        Err(JobError::Interrupted(Interrupt::Suspend)) => (JobStatus::Interrupted, None),
        Err(JobError::Stopped(why)) => (JobStatus::Paused, Some(why)),
        Err(JobError::Interrupted(Interrupt::Cancel)) => match job.on_cancel(&mut ctx) {
            Ok(()) => (JobStatus::Cancelled, Some("cancelled".to_owned())),
            Err(e) => (
                JobStatus::Cancelled,
                Some(format!("cancelled; cleanup failed: {e}")),
            ),
        },
        // The store failed (e.g. a full disk): the job's state is intact at its last
        // checkpoint, so it is paused, not failed, and can be resumed once fixed.
        Err(JobError::Store(e)) => (
            JobStatus::Paused,
            Some(paused_by_store(&e, &inner.library_dir)),
        ),
        Err(e) => (JobStatus::Failed, Some(e.to_string())),
    };
    ctx.flush_progress();
    let progress = ctx.current_progress().clone();
    let errors = ctx.take_errors();
    let run_ms = ctx.run_ms();
    let computed = outcome.clone();
    let finish = update_record(&inner.store, id, move |r| {
        r.status = status;
        r.progress = progress.clone();
        r.run_ms = run_ms;
        r.updated_ms = now_ms();
        if outcome.is_some() || status.is_terminal() {
            r.outcome.clone_from(&outcome);
        }
        if status.is_terminal() {
            r.finished_ms = Some(now_ms());
        }
        add_errors(r, &errors);
    });
    let outcome = match finish {
        Ok(r) => r.outcome,
        Err(e) => {
            // Listeners still learn how it ended (e.g. "paused: No space left on device"),
            // even though the store could not record it.
            tracing::error!(job = id, "cannot record the end of the job: {e}");
            computed
        }
    };
    if status == JobStatus::Completed {
        let manager = JobManager {
            inner: inner.clone(),
        };
        for q in ctx.take_queued() {
            if let Err(e) = manager.spawn_encoded(q.kind, q.title, q.state) {
                tracing::error!(job = id, "cannot queue its follow-up {} job: {e}", q.kind);
            }
        }
    }
    tracing::info!(job = id, %status, "job stopped");
    inner.events.publish(JobEvent::Finished {
        job: id,
        status,
        outcome,
    });
    status
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

fn next_job_id(tx: &WriteTransaction) -> Result<JobId, StoreError> {
    let mut meta = tx.open_table(META)?;
    let next: u64 = match meta.get(META_NEXT_JOB_ID)? {
        Some(v) => decode("meta", v.value())?,
        None => 1,
    };
    meta.insert(META_NEXT_JOB_ID, encode(&(next + 1)).as_slice())?;
    Ok(next)
}

/// Reads job `id`, applies `f` and writes it back, durably; returns the new record.
fn update_record(
    store: &Store,
    id: JobId,
    mut f: impl FnMut(&mut JobRecord) + Send + 'static,
) -> Result<JobRecord, JobError> {
    let r = store.write(move |tx| {
        let mut table = tx.open_table(JOBS)?;
        let Some(v) = table.get(id)? else {
            return Ok(None);
        };
        let mut record: JobRecord = crate::store::record::decode_record(v.value())?;
        drop(v);
        f(&mut record);
        table.insert(id, crate::store::record::encode_record(&record).as_slice())?;
        Ok(Some(record))
    })?;
    r.ok_or(JobError::NotFound(id))
}

/// The outcome of a job paused because the store failed: a full disk says so, with the
/// library's folder, what is free on its drive now and what to do.
fn paused_by_store(e: &crate::store::StoreError, library_dir: &std::path::Path) -> String {
    let text = e.to_string();
    let full =
        text.contains("No space left on device") || text.contains("stopped after a disk error");
    if !full {
        return format!("paused: {text}");
    }
    let free = crate::vdfs::fs::mounts::space_of(library_dir)
        .map(|(free, _)| format!("; {} free now", crate::format::bytes(free)))
        .unwrap_or_default();
    // The chain of causes ("store error: I/O error: …") is in the log; the person needs what
    // happened, where, and what to do.
    format!(
        "paused: the disk is full (No space left on device) — free some space on the drive that holds the library ({}{free}), then resume the job",
        library_dir.display()
    )
}
