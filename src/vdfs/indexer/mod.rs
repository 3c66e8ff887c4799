//! The persistent indexer: a durable job in five phases.
//!
//! 1. **Discovery** — the parallel walk ([`crate::vdfs::fs::walk`]) of the location root, rules applied
//!    at the edge.
//! 2. **Processing** — the walk is compared with the stored entries of the location:
//!    an entry at the same path keeps its id and UUID (updated in place if its size or mtime
//!    changed); an entry whose old path is gone and whose inode and device reappear at a new
//!    path with the same mtime (and, for a file, size) was moved or renamed (id, UUID and
//!    everything attached kept; a folder's whole subtree follows it) — a new file that only
//!    reuses a deleted file's inode number is not a move; what is left was deleted. A hard
//!    link (same inode, old path still there) is a new entry, not a move. Changes are written
//!    in batches through the one write path ([`crate::vdfs::index::write::IndexWriter`]), each
//!    one store transaction together with the job's checkpoint.
//! 3. **Aggregation** — every folder's total bytes, files, folders and symbolic links,
//!    bottom-up.
//! 4. **Content identification** (Content and Deep modes) — sampled BLAKE3 `cas_id` and file
//!    type from the bytes, on all cores, linked to content identities whose instance counts stay
//!    exact.
//! 5. **Finalizing** — the location is stamped with its stats.
//!
//! Each phase is a file: `discovery.rs`, `processing.rs`, `aggregation.rs`,
//! `identification.rs`; this file holds the job, its state and the order of the phases
//! (finalizing is the end of [`IndexerJob`]'s run).
//!
//! A *scoped* run ([`IndexerJob::scope`], started by `Library::rescan_path`) does the same for
//! one folder of the location and what is below it: only that folder is walked (with the
//! location's rules, as from its root) and compared with the entries stored below it; the
//! folders above it and the location's stats get the difference of its totals; content
//! identification looks only below it. It cannot see a move across its edge (an entry moved
//! out looks deleted, one moved in looks new); a full run finds moves anywhere. See
//! `discovery.rs` for how its folder is chosen (it widens to a folder above when its own is
//! not indexed, gone, or left out by the rules).
//!
//! A location's *first* full index (nothing of it stored yet) has nothing to compare: its
//! entries are written while the walk goes on, as each folder's listing comes
//! (`discovery::FirstWrites`, over [`crate::vdfs::fs::walk::walk_streaming`]), so the store's
//! writer works beside the listing threads instead of after them (a shallow index of 1.1M
//! entries: 5.8 s → 4.3 s here). In Content mode each batch's files are hashed first
//! (`discovery::FirstStage`) and every entry is written once, with its cas_id and content
//! link (`IndexWriter::insert_linked`): the hashing overlaps the walk, and a first index whose
//! files were all identified has no content phase (Papirus: 1.06 s → 0.75 s, same run). A
//! thread beside these writes makes the library file durable after each batch; redb holds up
//! to 32 MiB of written pages until a durable commit, so this leaves the scan's durable end
//! less to write only for indexes larger than that. A run stopped after some of those writes
//! finds them stored and takes the usual way.
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
pub mod live;
mod processing;

pub use processing::forget_location;

use identification::Prehash;
use processing::Plan;

use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
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
use crate::vdfs::content::{CasId, sample_file_in};
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

/// The indexing job of one location, or of one folder of it (a scoped rescan).
///
/// Saved as postcard at every checkpoint. Fields are only ever added at the end, and each
/// earlier layout is kept frozen (`IndexerJobV1`) and tried by [`Job::decode_state`], so a
/// job interrupted under an earlier build resumes.
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
    /// The folder to rescan, as its path relative to the location root (exact bytes, never
    /// absolute, never empty); `None` for the whole location. When the scan starts it becomes
    /// the folder really scanned: the nearest folder at or above it that is indexed, still a
    /// folder on disk and not left out by the rules (see `discovery.rs`), `None` if that is
    /// the root.
    pub scope: Option<Vec<u8>>,
    /// This run's folders that could not be listed, and the stored entries kept below them
    /// (not part of the saved state: a resumed run scans again and finds them again).
    #[serde(skip)]
    pub unreadable: (u64, u64),
    /// Why this run scans a wider folder than the one asked for (not saved).
    #[serde(skip)]
    pub widened: Option<String>,
}

/// [`IndexerJob`]'s saved state as written before scoped rescans (no `scope`). Frozen: never
/// change it. It shares [`Phase`] and [`ScanCounts`] with the current layout, so a change to
/// either needs a frozen copy of it here too.
#[derive(Debug, Deserialize)]
struct IndexerJobV1 {
    location: u32,
    path: String,
    phase: Phase,
    counts: ScanCounts,
}

impl From<IndexerJobV1> for IndexerJob {
    fn from(v: IndexerJobV1) -> IndexerJob {
        IndexerJob {
            location: v.location,
            path: v.path,
            phase: v.phase,
            counts: v.counts,
            scope: None,
            unreadable: (0, 0),
            widened: None,
        }
    }
}

impl IndexerJob {
    /// A new run for the whole of `loc`.
    pub fn new(loc: &LocationRecord) -> IndexerJob {
        IndexerJob {
            location: loc.id,
            path: loc.path().display().to_string(),
            phase: Phase::Scan,
            counts: ScanCounts::default(),
            scope: None,
            unreadable: (0, 0),
            widened: None,
        }
    }

    /// A new run for the folder at `rel` (relative to `loc`'s root, exact bytes) and what is
    /// below it; an empty `rel` is the whole location.
    pub fn scoped(loc: &LocationRecord, rel: Vec<u8>) -> IndexerJob {
        IndexerJob {
            scope: (!rel.is_empty()).then_some(rel),
            ..IndexerJob::new(loc)
        }
    }

    /// The scope as a path relative to the location root (empty for the whole location).
    pub fn scope_path(&self) -> PathBuf {
        self.scope
            .as_deref()
            .map(|s| PathBuf::from(crate::vdfs::fs::entry::os_from_bytes(s)))
            .unwrap_or_default()
    }

    /// True if this run covers the folder at `rel` (relative to the location root): it scans
    /// the whole location, or a folder at or above `rel`.
    pub fn covers(&self, rel: &Path) -> bool {
        rel.starts_with(self.scope_path())
    }
}

impl Job for IndexerJob {
    const KIND: &'static str = "indexer";

    fn title(&self) -> String {
        if self.scope.is_some() {
            format!(
                "Index {}",
                Path::new(&self.path).join(self.scope_path()).display()
            )
        } else {
            format!("Index {}", self.path)
        }
    }

    fn decode_state(bytes: &[u8]) -> Result<IndexerJob, postcard::Error> {
        // The current layout first: postcard ignores trailing bytes, so the old layout would
        // also accept a new state (and drop its scope), while an old state lacks the scope's
        // tag byte and never decodes as the current layout.
        match postcard::from_bytes::<IndexerJob>(bytes) {
            Ok(job) => Ok(job),
            Err(current) => postcard::from_bytes::<IndexerJobV1>(bytes)
                .map(IndexerJob::from)
                .map_err(|_| current),
        }
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
        let loc_id = loc.id;
        ctx.store().write(move |tx| {
            tx.open_table(crate::store::schema::LOCATION_JOBS)?
                .insert(loc_id, id)?;
            location::update_in(tx, loc_id, |l| l.error = None)?;
            Ok(())
        })?;
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
        let mut ahead = None;
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
            // A full scan gives the location's stats; a scoped one has already added its
            // difference to them, in the transaction of its aggregates.
            let (stats, hashing) = self.scan(ctx, loc)?;
            let identified = matches!(hashing, discovery::Ahead::Identified);
            if let discovery::Ahead::Hashing(p) = hashing {
                ahead = Some(p);
            }
            tracing::debug!("scanned in {:?}", t.elapsed());
            // (A first index that identified every file as it wrote has no content phase.)
            self.phase = if loc.mode >= IndexMode::Content && !identified {
                Phase::Content
            } else {
                Phase::Finalizing
            };
            // The location's stats and the end of the scan in one durable commit (which also
            // makes the scan's volatile batches durable).
            let loc_id = loc.id;
            ctx.checkpoint(self, move |tx| {
                if let Some(stats) = &stats {
                    location::update_in(tx, loc_id, |l| l.stats = stats.clone())?;
                }
                Ok(())
            })?;
        }
        if self.phase == Phase::Content {
            let t = Instant::now();
            self.identify(ctx, loc, ahead.take())?;
            tracing::debug!("content identified in {:?}", t.elapsed());
            self.phase = Phase::Finalizing;
            ctx.checkpoint(self, |_| Ok(()))?;
        }
        if loc.mode == IndexMode::Deep {
            ctx.queue(crate::vdfs::sidecars::thumbnail::ThumbnailJob::new(
                loc.id,
                loc.name(),
            ));
        }
        let errors = self.counts.errors;
        // `indexed_ms`, `stats.errors` and `stats.skipped` describe the last full scan: a
        // scoped one saw only part of the location (and "folders changed since the last scan"
        // must still find the folders it did not look at).
        let rec = if self.scope.is_none() {
            let loc_id = loc.id;
            ctx.store().write(move |tx| {
                // Old tombstones go at most once a day, with the end of a full scan.
                crate::vdfs::index::write::prune_tombstones_if_due(tx, now_ms())?;
                location::update_in(tx, loc_id, |l| {
                    l.indexed_ms = Some(now_ms());
                    l.stats.errors = errors;
                })
            })?
        } else {
            location::get(ctx.store(), loc.id).map_err(|e| JobError::Failed(e.to_string()))?
        };
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
        if self.scope.is_some() {
            summary.push_str(&format!(
                "; only {} was rescanned",
                self.scope_path().display()
            ));
        }
        if let Some(why) = &self.widened {
            summary.push_str(&format!("; {why}"));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The state an indexer job interrupted under the build before scoped rescans saved:
    /// postcard of `{ location: 3, path: "/data/photos", phase: Content, counts: { seen: 300,
    /// created: 4, modified: 1, moved: 0, deleted: 2, identified: 3, errors: 0 } }` (varints;
    /// 300 is `0xac 0x02`; `Content` is variant 1).
    const V1_STATE: &[u8] = &[
        3, 12, b'/', b'd', b'a', b't', b'a', b'/', b'p', b'h', b'o', b't', b'o', b's', 1, 0xac,
        0x02, 4, 1, 0, 2, 3, 0,
    ];

    #[test]
    fn a_state_saved_before_scoped_rescans_still_decodes() {
        assert!(
            postcard::from_bytes::<IndexerJob>(V1_STATE).is_err(),
            "the old layout is not the current one"
        );
        let job = IndexerJob::decode_state(V1_STATE).unwrap();
        assert_eq!(job.location, 3);
        assert_eq!(job.path, "/data/photos");
        assert_eq!(job.phase, Phase::Content);
        assert_eq!(
            job.counts,
            ScanCounts {
                seen: 300,
                created: 4,
                modified: 1,
                moved: 0,
                deleted: 2,
                identified: 3,
                errors: 0,
            }
        );
        assert_eq!(job.scope, None, "an old run is a full run");
        assert_eq!(job.title(), "Index /data/photos");
    }

    #[test]
    fn the_current_state_keeps_its_scope() {
        let old = IndexerJob::decode_state(V1_STATE).unwrap();
        for scope in [None, Some(b"a/b".to_vec()), Some(vec![0xff, b'/', b'x'])] {
            let job = IndexerJob {
                scope: scope.clone(),
                ..old.clone()
            };
            let bytes = crate::store::encode(&job);
            assert!(
                bytes.starts_with(V1_STATE),
                "fields are only added at the end"
            );
            let back = IndexerJob::decode_state(&bytes).unwrap();
            assert_eq!(back.scope, scope);
            assert_eq!(back.counts, job.counts);
        }
        let job = IndexerJob {
            scope: Some(b"a/b".to_vec()),
            ..old
        };
        assert_eq!(job.title(), "Index /data/photos/a/b");
        assert!(job.covers(Path::new("a/b")) && job.covers(Path::new("a/b/c")));
        assert!(!job.covers(Path::new("a")) && !job.covers(Path::new("a/bc")));
    }
}
