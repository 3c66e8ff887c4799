//! The library's locations: add, rescan, change and remove them. Records, availability and
//! the overlap rules are in [`crate::vdfs::index::location`]; scanning is the indexer's job.

use std::path::{Path, PathBuf};

use crate::vdfs::CoreError;
use crate::vdfs::fs::entry::os_bytes;
use crate::vdfs::fs::rules::Rules;
use crate::vdfs::index::location::{
    Availability, IndexMode, LocationRecord, add, get, job_of, list, set_job, update,
};
use crate::vdfs::indexer::IndexerJob;
use crate::vdfs::jobs::{Job, JobHandle, JobId, JobRecord, JobStatus};

/// The saved state of `job` if it is an indexer run.
fn indexer_state(job: &JobRecord) -> Option<IndexerJob> {
    (job.kind == IndexerJob::KIND)
        .then(|| IndexerJob::decode_state(&job.state).ok())
        .flatten()
}

/// `path` made absolute (against the current folder) with its existing part canonical (links
/// and `..` resolved there) and its last component as written, so that a final symbolic link
/// is not followed; a part that does not exist (a folder deleted since) is kept as written.
fn scope_path(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let Some(name) = abs.file_name() else {
        return std::fs::canonicalize(&abs).unwrap_or(abs);
    };
    let mut tail = vec![name.to_owned()];
    let mut dir = abs.parent().unwrap_or(Path::new("/"));
    loop {
        if let Ok(mut p) = std::fs::canonicalize(dir) {
            p.extend(tail.iter().rev());
            return p;
        }
        match (dir.parent(), dir.file_name()) {
            (Some(up), Some(n)) => {
                tail.push(n.to_owned());
                dir = up;
            }
            _ => return abs,
        }
    }
}

/// A location as the window shows it: its record, whether its folder can be reached now, and
/// whether a job is indexing it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationStatus {
    /// The record.
    pub record: LocationRecord,
    /// Online, offline or missing (checked on the disk now).
    pub availability: Availability,
    /// Being indexed now.
    pub indexing: bool,
    /// Its indexing job is paused or was interrupted (a full disk, the person's pause): the
    /// index is partial until it is resumed.
    pub paused: bool,
    /// Folders that could not be read at the last scan (what the index knew below them is
    /// kept).
    pub unreadable: u64,
    /// What the live index watches of it, when it runs and watches it.
    pub watch: Option<crate::vdfs::indexer::live::WatchStatus>,
}

impl super::Library {
    /// Every location with its availability (one `stat` of each root) and whether one of the
    /// `running` jobs is indexing it.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn location_statuses(&self, running: &[JobId]) -> Result<Vec<LocationStatus>, CoreError> {
        self.location_statuses_on(running, &crate::vdfs::fs::volumes::detect())
    }

    /// [`Self::location_statuses`] against volumes `mounted` detected by the caller (who
    /// also shows them: detection reads every mount, so it is done once per refresh).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn location_statuses_on(
        &self,
        running: &[JobId],
        mounted: &[crate::vdfs::fs::volumes::Volume],
    ) -> Result<Vec<LocationStatus>, CoreError> {
        crate::vdfs::index::volume::register_changed(self.store(), self.device(), mounted)?;
        let watching = self.watch_status();
        let mut out = Vec::new();
        for record in self.locations()? {
            let job = job_of(self.store(), record.id)?;
            let busy = job.is_some_and(|j| self.jobs().handle(j).is_some());
            // A location no job is writing follows its volume now (a drive mounted elsewhere);
            // one being indexed is followed by its job.
            let (record, located) = if busy {
                let l = crate::vdfs::index::location::locate_now(
                    self.store(),
                    &record,
                    self.device(),
                    mounted,
                )?;
                (record, l)
            } else {
                crate::vdfs::index::location::follow_volume(
                    self.store(),
                    record.id,
                    self.device(),
                    mounted,
                )?
            };
            let paused = job
                .and_then(|j| self.jobs().get(j).ok())
                .is_some_and(|r| matches!(r.status, JobStatus::Paused | JobStatus::Interrupted));
            out.push(LocationStatus {
                availability: located.availability,
                indexing: job.is_some_and(|j| running.contains(&j)) && !paused,
                paused,
                unreadable: self.unreadable_folders(record.id)?,
                watch: watching.get(&record.id).cloned(),
                record,
            });
        }
        Ok(out)
    }

    /// Records the volumes mounted now (those holding a user's files) in the library's
    /// `volumes` table where they are new or changed; returns what is mounted.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn refresh_volumes(&self) -> Result<Vec<crate::vdfs::fs::volumes::Volume>, CoreError> {
        let mounted = crate::vdfs::fs::volumes::detect();
        crate::vdfs::index::volume::register_changed(self.store(), self.device(), &mounted)?;
        Ok(mounted)
    }

    /// The volumes the library knows (table `volumes`).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn volumes(&self) -> Result<Vec<crate::vdfs::index::volume::VolumeRecord>, CoreError> {
        Ok(self.store().read(crate::vdfs::index::volume::list)?)
    }

    /// How many folders of location `id` could not be read at its last scan.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn unreadable_folders(&self, id: u32) -> Result<u64, CoreError> {
        Ok(self
            .store()
            .read(|tx| crate::vdfs::index::unreadable_folders(tx, id))?)
    }

    /// The indexing job running or last run on location `id`, if any.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn location_job(&self, id: u32) -> Result<Option<JobId>, CoreError> {
        Ok(job_of(self.store(), id)?)
    }

    /// Every location of the library.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn locations(&self) -> Result<Vec<LocationRecord>, CoreError> {
        Ok(list(self.store())?)
    }

    /// Adds a location and starts indexing it.
    ///
    /// # Errors
    /// As [`add`], plus [`CoreError::Job`] if the job cannot be queued.
    pub fn add_location(
        &self,
        path: &Path,
        mode: IndexMode,
        rules: Rules,
    ) -> Result<(LocationRecord, JobHandle), CoreError> {
        // The catalogue never indexes itself: a location inside the library folder or Cairn's
        // data or config folder is refused, and one that holds one leaves it out (an exclude
        // rule, shown with the others).
        let mut rules = rules;
        let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        for own in self.own_folders() {
            let own = std::fs::canonicalize(&own).unwrap_or(own);
            if canon.starts_with(&own) {
                return Err(CoreError::NotAFolder {
                    path: canon,
                    reason: format!(
                        "it is inside Cairn's own folder {}, which Cairn never indexes",
                        own.display()
                    ),
                });
            }
            if let Ok(rel) = own.strip_prefix(&canon)
                && let Some(rel) = rel.to_str()
                && !rel.is_empty()
            {
                let glob = globset::escape(rel);
                if !rules.exclude_globs.contains(&glob) {
                    rules.exclude_globs.push(glob);
                }
            }
        }
        let rec = add(self.store(), self.device(), path, mode, rules)?;
        let handle = self.rescan(rec.id)?;
        Ok((get(self.store(), rec.id)?, handle))
    }

    /// Starts (re)indexing a whole location; if a full run of it is already going (or paused,
    /// or interrupted), returns its handle (resuming it). A scoped run going on does not count:
    /// the full run is queued behind it.
    ///
    /// # Errors
    /// [`CoreError::LocationNotFound`], [`CoreError::Job`].
    pub fn rescan(&self, id: u32) -> Result<JobHandle, CoreError> {
        let rec = get(self.store(), id)?;
        let last = job_of(self.store(), id)?
            .and_then(|job| self.jobs().get(job).ok())
            .filter(|j| indexer_state(j).is_some_and(|s| s.scope.is_none()));
        if let Some(j) = &last
            && let Some(h) = self.jobs().handle(j.id)
        {
            return Ok(h);
        }
        if let Some(j) = &last
            && matches!(j.status, JobStatus::Paused | JobStatus::Interrupted)
        {
            return Ok(self.jobs().resume(j.id)?);
        }
        let handle = self.jobs().spawn(IndexerJob::new(&rec))?;
        set_job(self.store(), id, handle.id())?;
        Ok(handle)
    }

    /// Starts re-indexing only the folder `path` of location `id` and what is below it (a
    /// *scoped rescan*, e.g. for a folder the user or the file watcher knows changed): only
    /// that folder is walked and compared with the entries stored below it; new, modified,
    /// moved (within it) and deleted entries are written as a full scan would write them,
    /// and the folders above it and the location's totals follow. `path` may be relative (to
    /// the current folder); its existing part is made canonical, but a final symbolic link is
    /// not followed. The location's root is a full [`rescan`](Self::rescan).
    ///
    /// When the run starts, a folder that is not indexed yet, gone from disk, no longer a
    /// folder, or left out by the rules widens the run to the nearest folder above it that
    /// is not (so a deleted folder is found deleted by a listing of its parent; nothing is
    /// deleted for being absent). What a scoped rescan cannot see: an entry moved from inside
    /// the folder to elsewhere in the location looks deleted (and is new at its new place
    /// when that place is scanned), and one moved in from elsewhere looks new while its old
    /// entry stays until its own folder is scanned; a full rescan finds moves anywhere.
    /// `indexed_ms` and the location's skip and error counts stay those of the last full scan.
    ///
    /// A run of the location already queued that covers this folder (a full one, or one of a
    /// folder above it) is returned instead of a new one; runs of one location never overlap
    /// (they hold the location's write lease in turn).
    ///
    /// # Errors
    /// [`CoreError::LocationNotFound`]; [`CoreError::NotInLocation`] if `path` is not the
    /// location's root or inside it; [`CoreError::Job`].
    pub fn rescan_path(&self, id: u32, path: &Path) -> Result<JobHandle, CoreError> {
        let rec = get(self.store(), id)?;
        let abs = scope_path(path);
        let not_inside = || CoreError::NotInLocation {
            path: abs.clone(),
            location: rec.path(),
            id,
        };
        let rel = abs.strip_prefix(rec.path()).map_err(|_| not_inside())?;
        if !rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return Err(not_inside());
        }
        if rel.as_os_str().is_empty() {
            return self.rescan(id);
        }
        for j in self.jobs().list()? {
            if j.status == JobStatus::Queued
                && let Some(state) = indexer_state(&j)
                && state.location == id
                && state.covers(rel)
                && let Some(h) = self.jobs().handle(j.id)
            {
                return Ok(h);
            }
        }
        let job = IndexerJob::scoped(&rec, os_bytes(rel.as_os_str()).to_vec());
        Ok(self.jobs().spawn(job)?)
    }

    /// Changes a location's mode and/or rules (applied from its next scan).
    ///
    /// # Errors
    /// [`CoreError::LocationNotFound`], [`CoreError::InvalidRules`], [`CoreError::Store`].
    pub fn set_location(
        &self,
        id: u32,
        mode: Option<IndexMode>,
        rules: Option<Rules>,
    ) -> Result<LocationRecord, CoreError> {
        self.change_location(id, mode, rules, None)
    }

    /// Switches the live index's watch of a location on or off (on by default); a running
    /// live index follows at once.
    ///
    /// # Errors
    /// [`CoreError::LocationNotFound`], [`CoreError::Store`].
    pub fn set_location_watch(&self, id: u32, watch: bool) -> Result<LocationRecord, CoreError> {
        self.change_location(id, None, None, Some(watch))
    }

    fn change_location(
        &self,
        id: u32,
        mode: Option<IndexMode>,
        rules: Option<Rules>,
        watch: Option<bool>,
    ) -> Result<LocationRecord, CoreError> {
        get(self.store(), id)?;
        if let Some(r) = &rules {
            crate::vdfs::fs::rules::Compiled::new(r)
                .map_err(|e| CoreError::InvalidRules { reason: e })?;
        }
        let rec = update(self.store(), id, move |l| {
            if let Some(m) = mode {
                l.mode = m;
            }
            if let Some(r) = &rules {
                l.rules = r.clone();
            }
            if let Some(w) = watch {
                l.watch = w;
            }
        })?;
        self.refresh_watches();
        Ok(rec)
    }

    /// Forgets a location: its entries, hierarchy, aggregates and content links. Files on
    /// disk are never touched. Refuses while it is being indexed.
    ///
    /// # Errors
    /// [`CoreError::LocationNotFound`], [`CoreError::AlreadyIndexing`], [`CoreError::Store`].
    pub fn remove_location(&self, id: u32) -> Result<LocationRecord, CoreError> {
        let rec = get(self.store(), id)?;
        if let Some(job) = job_of(self.store(), id)?
            && self.jobs().handle(job).is_some()
        {
            return Err(CoreError::AlreadyIndexing { id, job });
        }
        // The live index lets go of it first, and writes nothing while its entries go.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let lease = loop {
            if let Some(l) = self
                .jobs()
                .try_lease(vec![crate::vdfs::jobs::Resource::Location(id)])
            {
                break l;
            }
            if std::time::Instant::now() >= deadline {
                return Err(CoreError::LocationBusy {
                    id,
                    what: "a file operation or the live index is writing it".into(),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        crate::vdfs::indexer::forget_location(self.store(), id)?;
        crate::vdfs::index::location::remove(self.store(), id)?;
        drop(lease);
        self.refresh_watches();
        Ok(rec)
    }
}
