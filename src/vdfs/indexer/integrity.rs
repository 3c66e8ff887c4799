//! The integrity job: full-file BLAKE3 of every copy of each content identity.
//!
//! The sampled `cas_id` reads ~56 KiB per large file, so two files that differ only outside the
//! samples share it. Before anything destructive trusts that two files are the same (deleting a
//! duplicate, accepting a transfer), their *integrity hashes* — BLAKE3 of the whole file — are
//! compared. This job computes them lazily, stores the agreed hash on the content record, and
//! reports:
//! - **collisions**: copies with the same `cas_id` whose full hashes differ (they are not
//!   duplicates; no integrity hash is stored for that identity);
//! - **silent changes**: files whose sampled hash no longer matches although their size and
//!   mtime did not change (edited in place with the mtime restored, or bit rot).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::store::StoreError;
use crate::store::schema::CONTENT;
use crate::vdfs::content::{CasId, integrity_hash, sample_file};
use crate::vdfs::fs::entry::Meta;
use crate::vdfs::index::{self, ContentRecord};
use crate::vdfs::jobs::{Job, JobContext, JobError, JobPathError, JobProgress, now_ms};

/// Content identities verified per checkpoint.
const BATCH: usize = 200;

/// See the module docs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IntegrityJob {
    /// Only contents with an instance in this location (`None` = all).
    pub location: Option<u32>,
    /// The last cas_id done (the cursor).
    pub after: Option<u64>,
    /// Identities verified.
    pub verified: u64,
    /// Identities whose copies differ in full.
    pub collisions: u64,
    /// Files changed without their mtime changing.
    pub silent_changes: u64,
    /// The location's folder name, for the title (`None` for all locations, and in a job
    /// saved before it existed).
    pub location_name: Option<String>,
}

/// [`IntegrityJob`]'s saved state as written before it had a `location_name`. Frozen: never
/// change it.
#[derive(Debug, Deserialize)]
struct IntegrityJobV1 {
    location: Option<u32>,
    after: Option<u64>,
    verified: u64,
    collisions: u64,
    silent_changes: u64,
}

impl From<IntegrityJobV1> for IntegrityJob {
    fn from(v: IntegrityJobV1) -> IntegrityJob {
        IntegrityJob {
            location: v.location,
            after: v.after,
            verified: v.verified,
            collisions: v.collisions,
            silent_changes: v.silent_changes,
            location_name: None,
        }
    }
}

/// A copy of a content: its path, indexed metadata and location.
type Copy = (PathBuf, Meta, u32);

struct Outcome {
    cas: CasId,
    integrity: Option<[u8; 32]>,
}

impl Job for IntegrityJob {
    const KIND: &'static str = "integrity";

    fn title(&self) -> String {
        // A person knows a location by its folder, not by its id.
        match &self.location_name {
            Some(name) => format!("Verify content of {name}"),
            None => "Verify content".to_owned(),
        }
    }

    fn decode_state(bytes: &[u8]) -> Result<IntegrityJob, postcard::Error> {
        // The current layout first: an old state lacks the name's tag byte and never decodes
        // as it.
        match postcard::from_bytes::<IntegrityJob>(bytes) {
            Ok(job) => Ok(job),
            Err(current) => postcard::from_bytes::<IntegrityJobV1>(bytes)
                .map(IntegrityJob::from)
                .map_err(|_| current),
        }
    }

    fn resources(&self) -> Vec<crate::vdfs::jobs::Resource> {
        // It writes content records, which copies in every location share.
        vec![crate::vdfs::jobs::Resource::AllLocations]
    }

    fn run(&mut self, ctx: &mut JobContext) -> Result<String, JobError> {
        let total = ctx.store().read(|tx| {
            use redb::ReadableTableMetadata;
            Ok(tx.open_table(CONTENT)?.len()?)
        })?;
        loop {
            let after = self.after;
            let batch: Vec<(ContentRecord, Vec<Copy>)> = ctx.store().read(|tx| {
                let t = tx.open_table(CONTENT)?;
                let start = after.map_or(0, |a| a.saturating_add(1));
                let mut out = Vec::new();
                if after == Some(u64::MAX) {
                    return Ok(out);
                }
                for row in t.range(start..)? {
                    let rec: ContentRecord = crate::store::record::decode_record(row?.1.value())?;
                    let mut copies = Vec::new();
                    for id in index::instances(tx, rec.cas)? {
                        if let Some(e) = index::entry(tx, id)? {
                            copies.push((index::path_of(tx, id)?, e.meta(), e.location));
                        }
                    }
                    out.push((rec, copies));
                    if out.len() == BATCH {
                        break;
                    }
                }
                Ok(out)
            })?;
            let Some(last) = batch.last().map(|b| b.0.cas.0) else {
                break;
            };
            let mut outcomes = Vec::new();
            for (rec, copies) in &batch {
                if let Some(l) = self.location
                    && !copies.iter().any(|c| c.2 == l)
                {
                    continue;
                }
                outcomes.push(self.verify(ctx, rec, copies));
            }
            self.after = Some(last);
            ctx.set_progress(JobProgress {
                phase: "verifying".into(),
                completed: self.verified,
                total: Some(total),
                bytes: 0,
                message: String::new(),
            });
            let now = now_ms();
            ctx.checkpoint(self, move |tx| {
                for o in &outcomes {
                    crate::vdfs::index::write::set_integrity(tx, o.cas, o.integrity, now)?;
                }
                Ok::<(), StoreError>(())
            })?;
        }
        Ok(format!(
            "{} contents verified; {} with copies that differ beyond their samples; {} files \
             changed without a new mtime",
            self.verified, self.collisions, self.silent_changes
        ))
    }
}

impl IntegrityJob {
    fn verify(&mut self, ctx: &mut JobContext, rec: &ContentRecord, copies: &[Copy]) -> Outcome {
        let mut hashes = Vec::new();
        for (path, meta, _) in copies {
            let Ok(m) = std::fs::symlink_metadata(path) else {
                ctx.record_error(JobPathError::new(
                    path,
                    "gone since the last scan; rescan its location",
                ));
                continue;
            };
            let now = Meta::of(&m);
            if now.size != meta.size || now.mtime_ns != meta.mtime_ns {
                ctx.record_error(JobPathError::new(
                    path,
                    "changed since the last scan; rescan its location",
                ));
                continue;
            }
            match sample_file(path) {
                Ok(s) if s.cas_id != Some(rec.cas) => {
                    self.silent_changes += 1;
                    ctx.record_error(JobPathError::new(
                        path,
                        "its content changed but its size and modification time did not",
                    ));
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    ctx.record_error(JobPathError::new(path, format!("cannot read it: {e}")));
                    continue;
                }
            }
            match integrity_hash(path) {
                Ok(h) => hashes.push((path.clone(), *h.as_bytes())),
                Err(e) => ctx.record_error(JobPathError::new(path, format!("cannot read it: {e}"))),
            }
        }
        self.verified += 1;
        let agreed = hashes
            .first()
            .map(|h| h.1)
            .filter(|h0| hashes.iter().all(|h| h.1 == *h0));
        if agreed.is_none() && hashes.len() > 1 {
            self.collisions += 1;
            for (p, _) in &hashes {
                ctx.record_error(JobPathError::new(
                    p,
                    format!(
                        "shares cas_id {} with {} other copies but differs from some of them in full: not a duplicate",
                        rec.cas,
                        hashes.len() - 1
                    ),
                ));
            }
        }
        Outcome {
            cas: rec.cas,
            integrity: agreed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_saved_before_it_had_a_location_name_still_resumes() {
        // The layout of IntegrityJobV1, written as an earlier build did.
        #[derive(Serialize)]
        struct Saved {
            location: Option<u32>,
            after: Option<u64>,
            verified: u64,
            collisions: u64,
            silent_changes: u64,
        }
        let old = postcard::to_allocvec(&Saved {
            location: Some(6),
            after: Some(9),
            verified: 8,
            collisions: 0,
            silent_changes: 1,
        })
        .unwrap();
        let job = IntegrityJob::decode_state(&old).unwrap();
        assert_eq!(
            (job.location, job.after, job.verified),
            (Some(6), Some(9), 8)
        );
        assert_eq!(job.title(), "Verify content");
        let new = IntegrityJob {
            location: Some(6),
            location_name: Some("Pictures".into()),
            ..IntegrityJob::default()
        };
        assert_eq!(new.title(), "Verify content of Pictures");
        let again = IntegrityJob::decode_state(&postcard::to_allocvec(&new).unwrap()).unwrap();
        assert_eq!(again.location_name.as_deref(), Some("Pictures"));
    }
}
