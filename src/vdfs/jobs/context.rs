//! What a running job sees: checkpoints, progress, per-path errors and interruption.

use crate::vdfs::jobs::{JobEvent, JobEvents};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use redb::{ReadableTable, WriteTransaction};

use crate::store::schema::JOBS;
use crate::store::{Store, StoreError, encode};
use crate::vdfs::jobs::{
    Interrupt, Job, JobError, JobId, JobPathError, JobProgress, JobRecord, MAX_STORED_ERRORS,
    PROGRESS_INTERVAL, now_ms,
};

/// The request a running job should honour at its next checkpoint.
#[derive(Debug, Default)]
pub(crate) struct JobControl(AtomicU8);

impl JobControl {
    const RUN: u8 = 0;
    const PAUSE: u8 = 1;
    const CANCEL: u8 = 2;
    const SUSPEND: u8 = 3;

    pub(crate) fn request(&self, what: Option<Interrupt>) {
        let v = match what {
            None => Self::RUN,
            Some(Interrupt::Pause) => Self::PAUSE,
            Some(Interrupt::Cancel) => Self::CANCEL,
            Some(Interrupt::Suspend) => Self::SUSPEND,
        };
        // A cancel is never downgraded to a pause or a suspend.
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                (cur != Self::CANCEL || v == Self::CANCEL).then_some(v)
            });
    }

    pub(crate) fn requested(&self) -> Option<Interrupt> {
        match self.0.load(Ordering::Acquire) {
            Self::PAUSE => Some(Interrupt::Pause),
            Self::CANCEL => Some(Interrupt::Cancel),
            Self::SUSPEND => Some(Interrupt::Suspend),
            _ => None,
        }
    }
}

/// Rate limiter for progress: lets a value through at most once per interval.
#[derive(Debug, Clone)]
pub struct Throttle {
    interval: Duration,
    last: Option<Instant>,
}

impl Throttle {
    /// A throttle letting one value through per `interval`.
    pub fn new(interval: Duration) -> Throttle {
        Throttle {
            interval,
            last: None,
        }
    }

    /// True (and restarts the interval) if a value may be sent at `now`.
    pub fn ready(&mut self, now: Instant) -> bool {
        match self.last {
            Some(last) if now.duration_since(last) < self.interval => false,
            _ => {
                self.last = Some(now);
                true
            }
        }
    }
}

/// A checkpoint queued by [`JobContext::checkpoint_submit`].
#[must_use = "wait for the checkpoint with JobContext::checkpoint_wait"]
pub struct PendingCheckpoint(crate::store::WriteTicket<()>);

/// Handed to [`Job::run`]; the job's only way to save state and report.
pub struct JobContext {
    id: JobId,
    store: Store,
    events: JobEvents,
    control: Arc<JobControl>,
    throttle: Throttle,
    progress: JobProgress,
    progress_unsent: bool,
    pending_errors: Vec<JobPathError>,
    started: Instant,
    base_run_ms: u64,
    library_dir: std::path::PathBuf,
    device: uuid::Uuid,
    queued: Vec<QueuedJob>,
}

/// A job another job asked for, started when the asking job completes.
pub(crate) struct QueuedJob {
    pub(crate) kind: &'static str,
    pub(crate) title: String,
    pub(crate) state: Vec<u8>,
}

impl JobContext {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: JobId,
        store: Store,
        events: JobEvents,
        control: Arc<JobControl>,
        progress: JobProgress,
        base_run_ms: u64,
        library_dir: std::path::PathBuf,
        device: uuid::Uuid,
    ) -> JobContext {
        JobContext {
            id,
            store,
            events,
            control,
            throttle: Throttle::new(PROGRESS_INTERVAL),
            progress,
            progress_unsent: false,
            pending_errors: Vec::new(),
            started: Instant::now(),
            base_run_ms,
            library_dir,
            device,
            queued: Vec::new(),
        }
    }

    /// This job's id.
    pub fn id(&self) -> JobId {
        self.id
    }

    /// The open library's folder (its `sidecars/` is where derived files go).
    pub fn library_dir(&self) -> &std::path::Path {
        &self.library_dir
    }

    /// Asks for `job` to be queued once this job completes (not if it fails, pauses or is
    /// cancelled).
    pub fn queue<J: Job>(&mut self, job: J) {
        self.queued.push(QueuedJob {
            kind: J::KIND,
            title: job.title(),
            state: encode(&job),
        });
    }

    pub(crate) fn take_queued(&mut self) -> Vec<QueuedJob> {
        std::mem::take(&mut self.queued)
    }

    /// The device running the job (this one).
    pub fn device(&self) -> uuid::Uuid {
        self.device
    }

    /// The library's store, for reads (writes go through [`JobContext::checkpoint`]).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Durably commits `effects` together with `job`'s current state, the current progress
    /// and the errors recorded since the last checkpoint, in one transaction. Then, if the job
    /// was asked to pause, cancel or suspend, returns [`JobError::Interrupted`], which the job
    /// must return from `run`. `effects` may run more than once (see [`Store::write`]).
    ///
    /// # Errors
    /// [`JobError::Interrupted`] as above; [`JobError::Store`] if the commit fails (the batch
    /// is then not applied and the job stops at its previous checkpoint).
    pub fn checkpoint<J: Job>(
        &mut self,
        job: &J,
        effects: impl FnMut(&WriteTransaction) -> Result<(), StoreError> + Send + 'static,
    ) -> Result<(), JobError> {
        let pending = self.checkpoint_submit(job, effects);
        self.checkpoint_wait(pending)
    }

    /// [`JobContext::checkpoint`] with [`JobContext::checkpoint_submit_volatile`]: for batches
    /// that a resumed job redoes anyway.
    ///
    /// # Errors
    /// As [`JobContext::checkpoint`].
    pub fn checkpoint_volatile<J: Job>(
        &mut self,
        job: &J,
        effects: impl FnMut(&WriteTransaction) -> Result<(), StoreError> + Send + 'static,
    ) -> Result<(), JobError> {
        let pending = self.checkpoint_submit_volatile(job, effects);
        self.checkpoint_wait(pending)
    }

    /// The first half of [`JobContext::checkpoint`]: queues the commit and returns at once,
    /// so the job can prepare its next batch while this one is written. Checkpoints commit
    /// in the order they are submitted; pass the result to [`JobContext::checkpoint_wait`].
    pub fn checkpoint_submit<J: Job>(
        &mut self,
        job: &J,
        effects: impl FnMut(&WriteTransaction) -> Result<(), StoreError> + Send + 'static,
    ) -> PendingCheckpoint {
        self.submit(job, effects, true)
    }

    /// [`JobContext::checkpoint_submit`] for a batch that is redone after a crash anyway (an
    /// idempotent scan that a resumed job runs again from its last durable checkpoint):
    /// committed at once without waiting for the disk (see
    /// [`Store::write_ticket_volatile`]); the job's next durable checkpoint makes it durable.
    pub fn checkpoint_submit_volatile<J: Job>(
        &mut self,
        job: &J,
        effects: impl FnMut(&WriteTransaction) -> Result<(), StoreError> + Send + 'static,
    ) -> PendingCheckpoint {
        self.submit(job, effects, false)
    }

    fn submit<J: Job>(
        &mut self,
        job: &J,
        mut effects: impl FnMut(&WriteTransaction) -> Result<(), StoreError> + Send + 'static,
        durable: bool,
    ) -> PendingCheckpoint {
        let id = self.id;
        let state = encode(job);
        let progress = self.progress.clone();
        let errors = std::mem::take(&mut self.pending_errors);
        let run_ms = self.run_ms();
        let op = move |tx: &WriteTransaction| {
            effects(tx)?;
            let mut table = tx.open_table(JOBS)?;
            let mut record: JobRecord = match table.get(id)? {
                Some(v) => crate::store::record::decode_record(v.value())?,
                None => {
                    return Err(StoreError::NotFound {
                        what: format!("job {id}"),
                    });
                }
            };
            record.state.clone_from(&state);
            record.checkpoints += 1;
            record.progress = progress.clone();
            record.updated_ms = now_ms();
            record.run_ms = run_ms;
            add_errors(&mut record, &errors);
            table.insert(id, crate::store::record::encode_record(&record).as_slice())?;
            Ok(())
        };
        PendingCheckpoint(if durable {
            self.store.write_ticket(op)
        } else {
            self.store.write_ticket_volatile(op)
        })
    }

    /// The second half of [`JobContext::checkpoint`]: waits for the commit, publishes
    /// progress, and returns [`JobError::Interrupted`] if the job was asked to stop.
    ///
    /// # Errors
    /// As [`JobContext::checkpoint`].
    pub fn checkpoint_wait(&mut self, pending: PendingCheckpoint) -> Result<(), JobError> {
        pending.0.wait()?;
        if self.progress_unsent && self.throttle.ready(Instant::now()) {
            self.publish_progress();
        }
        match self.control.requested() {
            Some(why) => Err(JobError::Interrupted(why)),
            None => Ok(()),
        }
    }

    /// Returns [`JobError::Interrupted`] if the job was asked to stop. For jobs with long
    /// stretches between checkpoints; stopping here loses the work since the last checkpoint.
    ///
    /// # Errors
    /// [`JobError::Interrupted`].
    pub fn check_interrupt(&self) -> Result<(), JobError> {
        match self.control.requested() {
            Some(why) => Err(JobError::Interrupted(why)),
            None => Ok(()),
        }
    }

    /// Reports progress. Published at most every [`PROGRESS_INTERVAL`]; a value held back is
    /// sent with the next one that passes, or when the job stops. Saved at each checkpoint.
    pub fn progress(&mut self, progress: JobProgress) {
        self.progress = progress;
        if self.throttle.ready(Instant::now()) {
            self.publish_progress();
        } else {
            self.progress_unsent = true;
        }
    }

    /// Records progress without publishing it: it is saved and published (throttled) by the
    /// next [`JobContext::checkpoint`], so listeners never see progress that a crash could
    /// take back.
    pub fn set_progress(&mut self, progress: JobProgress) {
        self.progress = progress;
        self.progress_unsent = true;
    }

    /// The last progress reported.
    pub fn current_progress(&self) -> &JobProgress {
        &self.progress
    }

    /// Records an error about one path; saved with the next checkpoint. The job goes on.
    pub fn record_error(&mut self, error: JobPathError) {
        tracing::warn!(job = self.id, path = %error.path().display(), "{}", error.message);
        self.pending_errors.push(error);
    }

    pub(crate) fn flush_progress(&mut self) {
        if self.progress_unsent {
            self.publish_progress();
        }
    }

    pub(crate) fn take_errors(&mut self) -> Vec<JobPathError> {
        std::mem::take(&mut self.pending_errors)
    }

    /// Time spent running, over all runs of this job, in ms.
    pub(crate) fn run_ms(&self) -> u64 {
        self.base_run_ms.saturating_add(elapsed_ms(self.started))
    }

    fn publish_progress(&mut self) {
        self.progress_unsent = false;
        self.events.publish(JobEvent::Progress {
            job: self.id,
            progress: self.progress.clone(),
        });
    }
}

pub(crate) fn add_errors(record: &mut JobRecord, errors: &[JobPathError]) {
    let room = MAX_STORED_ERRORS.saturating_sub(record.errors.len());
    record.errors.extend(errors.iter().take(room).cloned());
    record.error_count += errors.len() as u64;
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_lets_one_value_per_interval() {
        let mut t = Throttle::new(Duration::from_millis(100));
        let t0 = Instant::now();
        assert!(t.ready(t0));
        assert!(!t.ready(t0 + Duration::from_millis(50)));
        assert!(!t.ready(t0 + Duration::from_millis(99)));
        assert!(t.ready(t0 + Duration::from_millis(100)));
        assert!(!t.ready(t0 + Duration::from_millis(150)));
        assert!(t.ready(t0 + Duration::from_millis(250)));
    }

    #[test]
    fn cancel_is_not_downgraded() {
        let c = JobControl::default();
        c.request(Some(Interrupt::Pause));
        assert_eq!(c.requested(), Some(Interrupt::Pause));
        c.request(Some(Interrupt::Cancel));
        c.request(Some(Interrupt::Suspend));
        c.request(None);
        assert_eq!(c.requested(), Some(Interrupt::Cancel));
    }
}
