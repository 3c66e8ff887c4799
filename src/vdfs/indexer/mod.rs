//! The persistent indexer: a durable job in five phases.
//!
//! 1. **Discovery** — the parallel walk ([`crate::vdfs::fs::walk`]) of the location root, rules applied
//!    at the edge.
//! 2. **Processing** — the walk is compared with the stored entries of the location:
//!    an entry at the same path keeps its id and UUID (updated in place if its size or mtime
//!    changed); an entry whose old path is gone and whose inode and device reappear at a new
//!    path with the same mtime (and, for a file, size) was moved or renamed (id, UUID and
//!    everything attached kept; a folder's whole subtree follows it) — a new file that only
//!    reuses a deleted file's inode number is not a move; what is left was deleted. A hard link (same inode, old path still
//!    there) is a new entry, not a move. Changes are written in batches, each one store
//!    transaction together with the job's checkpoint; the closure relations over folders are
//!    kept in the same transactions.
//! 3. **Aggregation** — every folder's total bytes, files and folders, bottom-up.
//! 4. **Content identification** (Content and Deep modes) — sampled BLAKE3 `cas_id` and file
//!    type from the bytes, on all cores, linked to content identities whose instance counts stay
//!    exact.
//! 5. **Finalizing** — the location is stamped with its stats.
//!
//! Each phase is a file: `discovery.rs`, `processing.rs`, `aggregation.rs`,
//! `identification.rs`; this file holds the job, its state and the order of the phases
//! (finalizing is the end of [`IndexerJob`]'s run).
//!
//! Resuming after a crash re-runs the scan (phases 1–3), which is idempotent: what earlier
//! batches committed is found unchanged and not written again; content identification resumes
//! with the files that still lack a `cas_id`. A location whose drive is not mounted is never
//! scanned, so its entries are never deleted for being absent.
//!
//! May use: `query`, `sidecars`, `index`, `home`, `jobs`, `content`, `fs` and the shared types.

mod aggregation;
mod discovery;
mod identification;
pub mod integrity;
mod processing;

pub use processing::forget_location;

use processing::Plan;

use rustc_hash::FxHashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redb::{ReadableTable, WriteTransaction};

use crate::store::record::decode_record;
use crate::vdfs::index::write::{ContentLink, IndexWriter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::schema::{DIR_STATS, ENTRIES, UNREADABLE};
use crate::store::{Store, StoreError};
use crate::vdfs::content::filetype::{ContentKind, Registry};
use crate::vdfs::content::{CasId, sample_file_with};
use crate::vdfs::fs::entry::{EntryKind, Meta};
use crate::vdfs::fs::rules::Compiled;
use crate::vdfs::fs::walk::{NONE, Tree, WalkCounters, WalkOptions, walk};
use crate::vdfs::index::location::{self, Availability, IndexMode, LocationRecord, LocationStats};
use crate::vdfs::index::{DirStats, EntryRecord};
use crate::vdfs::jobs::{Job, JobContext, JobError, JobPathError, JobProgress, now_ms};

/// Entries written per transaction (and checkpoint) while processing.
const WRITE_BATCH: usize = 20_000;
/// Files hashed per transaction (and checkpoint) during content identification.
const HASH_BATCH: usize = 10_000;

/// Where an indexing run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    /// Walking, comparing and writing (re-run whole on resume; idempotent).
    Scan,
    /// Hashing files that lack a content identity.
    Content,
    /// Stamping the location.
    Finalizing,
}

/// Counts of what a run changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanCounts {
    /// Entries seen on disk.
    pub seen: u64,
    /// New entries.
    pub created: u64,
    /// Entries whose size or mtime changed.
    pub modified: u64,
    /// Entries moved or renamed.
    pub moved: u64,
    /// Entries gone.
    pub deleted: u64,
    /// Files given a content identity.
    pub identified: u64,
    /// Per-path errors.
    pub errors: u64,
}

/// The indexing job of one location.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexerJob {
    /// The location.
    pub location: u32,
    /// Its root, for the title.
    pub path: String,
    /// Where the run is.
    pub phase: Phase,
    /// What it changed so far.
    pub counts: ScanCounts,
    /// This run's folders that could not be listed, and the stored entries kept below them
    /// (not part of the saved state: a resumed run scans again and finds them again).
    #[serde(skip)]
    pub unreadable: (u64, u64),
}

impl IndexerJob {
    /// A new run for `loc`.
    pub fn new(loc: &LocationRecord) -> IndexerJob {
        IndexerJob {
            location: loc.id,
            path: loc.path().display().to_string(),
            phase: Phase::Scan,
            counts: ScanCounts::default(),
            unreadable: (0, 0),
        }
    }
}

impl Job for IndexerJob {
    const KIND: &'static str = "indexer";

    fn title(&self) -> String {
        format!("Index {}", self.path)
    }

    fn resources(&self) -> Vec<crate::vdfs::jobs::Resource> {
        vec![crate::vdfs::jobs::Resource::Location(self.location)]
    }

    fn run(&mut self, ctx: &mut JobContext) -> Result<String, JobError> {
        // Where the location is now: found through its volume's fingerprint (and followed if
        // that volume is mounted elsewhere), under this job's write lease.
        let mounted = crate::vdfs::fs::volumes::detect();
        let (loc, located) =
            location::follow_volume(ctx.store(), self.location, ctx.device(), &mounted)
                .map_err(|e| JobError::Failed(e.to_string()))?;
        let id = ctx.id();
        location::set_job(ctx.store(), loc.id, id)?;
        location::update(ctx.store(), loc.id, move |l| l.error = None)?;
        let result = self.run_phases(ctx, &loc, located.availability);
        if let Err(JobError::Failed(msg)) = &result {
            let msg = msg.clone();
            location::update(ctx.store(), loc.id, move |l| l.error = Some(msg.clone()))?;
        }
        result
    }
}

impl IndexerJob {
    fn run_phases(
        &mut self,
        ctx: &mut JobContext,
        loc: &LocationRecord,
        availability: Availability,
    ) -> Result<String, JobError> {
        let started = Instant::now();
        if self.phase == Phase::Scan {
            match availability {
                Availability::Online => {}
                Availability::Offline(why) => {
                    return Err(JobError::Failed(format!(
                        "location is offline ({why}); its entries are kept"
                    )));
                }
                Availability::Missing(why) => {
                    return Err(JobError::Failed(format!(
                        "{why}; its entries are kept until you remove the location"
                    )));
                }
            }
            let t = Instant::now();
            let stats = self.scan(ctx, loc)?;
            tracing::debug!("scanned in {:?}", t.elapsed());
            let s = stats.clone();
            location::update(ctx.store(), loc.id, move |l| l.stats = s.clone())?;
            self.phase = if loc.mode >= IndexMode::Content {
                Phase::Content
            } else {
                Phase::Finalizing
            };
            ctx.checkpoint(self, |_| Ok(()))?;
        }
        if self.phase == Phase::Content {
            let t = Instant::now();
            self.identify(ctx, loc)?;
            tracing::debug!("content identified in {:?}", t.elapsed());
            self.phase = Phase::Finalizing;
            ctx.checkpoint(self, |_| Ok(()))?;
        }
        if loc.mode == IndexMode::Deep {
            ctx.queue(crate::vdfs::sidecars::thumbnail::ThumbnailJob::new(loc.id));
        }
        let errors = self.counts.errors;
        let rec = location::update(ctx.store(), loc.id, move |l| {
            l.indexed_ms = Some(now_ms());
            l.stats.errors = errors;
        })?;
        let c = &self.counts;
        let mut summary = format!(
            "{} files, {} folders, {}; {} new, {} modified, {} moved, {} deleted",
            rec.stats.files,
            rec.stats.dirs,
            crate::format::bytes(rec.stats.bytes),
            c.created,
            c.modified,
            c.moved,
            c.deleted
        );
        if loc.mode >= IndexMode::Content {
            summary.push_str(&format!(", {} identified", c.identified));
        }
        if let Some(s) = rec.stats.skipped.summary() {
            summary.push_str(&format!("; {s}"));
        }
        let (folders, kept) = self.unreadable;
        if folders > 0 {
            summary.push_str(&format!(
                "; {folders} folder{} could not be read ({kept} entries below kept as the index knew them)",
                if folders == 1 { "" } else { "s" }
            ));
        }
        tracing::info!(
            location = loc.id,
            "indexed in {:?}: {summary}",
            started.elapsed()
        );
        Ok(summary)
    }
}
