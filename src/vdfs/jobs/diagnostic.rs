//! The diagnostic job: a self-check of durable jobs.
//!
//! It runs `batches` batches; each sleeps `batch_ms` (standing in for real work) and then
//! commits, in its checkpoint, one increment of the `(job, batch)` counter in the
//! `diagnostic_batches` table. After any number of kills and resumes, every counter of a
//! completed run must be exactly 1 — [`batch_counts`] reads them back. `cairn debug
//! diagnostic-job` runs it; the kill-and-resume integration test relies on it.

use std::collections::BTreeMap;
use std::time::Duration;

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use crate::store::schema::DIAGNOSTIC_BATCHES;
use crate::store::{Store, StoreError};
use crate::vdfs::jobs::{Job, JobContext, JobError, JobId, JobProgress};

/// See the module docs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiagnosticJob {
    /// Batches to run.
    pub batches: u64,
    /// Simulated work per batch, in ms.
    pub batch_ms: u64,
    /// The next batch to run (the cursor saved at each checkpoint).
    pub next: u64,
}

impl DiagnosticJob {
    /// A job of `batches` batches of `batch_ms` ms each.
    pub fn new(batches: u64, batch_ms: u64) -> DiagnosticJob {
        DiagnosticJob {
            batches,
            batch_ms,
            next: 0,
        }
    }
}

impl Job for DiagnosticJob {
    const KIND: &'static str = "diagnostic";

    fn title(&self) -> String {
        format!("Diagnostic: {} batches", self.batches)
    }

    fn run(&mut self, ctx: &mut JobContext) -> Result<String, JobError> {
        let id = ctx.id();
        while self.next < self.batches {
            std::thread::sleep(Duration::from_millis(self.batch_ms));
            let batch = self.next;
            self.next += 1;
            let progress = JobProgress {
                phase: "batches".to_owned(),
                completed: self.next,
                total: Some(self.batches),
                bytes: 0,
                message: String::new(),
            };
            ctx.set_progress(progress);
            ctx.checkpoint(self, move |tx| {
                let mut t = tx.open_table(DIAGNOSTIC_BATCHES)?;
                let seen = t.get((id, batch))?.map_or(0, |v| v.value());
                t.insert((id, batch), seen + 1)?;
                Ok(())
            })?;
        }
        Ok(format!("{} batches committed", self.batches))
    }
}

/// How many times each batch of job `job` was committed, by batch index.
///
/// # Errors
/// [`StoreError`] on read failure.
pub fn batch_counts(store: &Store, job: JobId) -> Result<BTreeMap<u64, u32>, StoreError> {
    store.read(|tx| {
        let t = tx.open_table(DIAGNOSTIC_BATCHES)?;
        let mut out = BTreeMap::new();
        for row in t.range((job, 0)..=(job, u64::MAX))? {
            let (k, v) = row?;
            out.insert(k.value().1, v.value());
        }
        Ok(out)
    })
}
