//! The library's read side, typed: entries, contents, locations, reports and the details of a
//! path, so the window, the CLI and the tests never reach into the store. Each method is one
//! short read (or a few) over the index; the queries themselves live in `index` and `query`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::vdfs::CoreError;
use crate::vdfs::content::CasId;
use crate::vdfs::fs::entry::canonical_no_follow;
use crate::vdfs::index::location::{self, LocationRecord};
use crate::vdfs::index::{self, ContentRecord, DirStats, EntryRecord, IndexedEntry};
use crate::vdfs::jobs::{JobHandle, JobId};
use crate::vdfs::query::browse::{self, TreeRow};
use crate::vdfs::query::details::{self, DetailOptions, Details};
use crate::vdfs::query::dupes::{self, DupesQuery, Group};
use crate::vdfs::query::redundancy::{self, AtRisk, CopyInfo, Gap};

/// How much the index holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IndexCounts {
    /// Entries (files, folders and the rest) in every location.
    pub entries: u64,
    /// Distinct content identities.
    pub contents: u64,
}

impl super::Library {
    /// The location named by `query`: its id, a path inside it (the deepest location wins),
    /// or its folder name.
    ///
    /// # Errors
    /// [`CoreError::LocationNotFound`], [`CoreError::Store`].
    pub fn find_location(&self, query: &str) -> Result<LocationRecord, CoreError> {
        location::find(self.store(), query)
    }

    /// Location `id`.
    ///
    /// # Errors
    /// [`CoreError::LocationNotFound`], [`CoreError::Store`].
    pub fn location(&self, id: u32) -> Result<LocationRecord, CoreError> {
        location::get(self.store(), id)
    }

    /// Applies `f` to location `id`'s record and saves it, durably, bypassing every check
    /// that [`Self::set_location`] makes. For tests that simulate what the disk cannot, such
    /// as a location whose drive was unplugged.
    ///
    /// # Errors
    /// [`CoreError::Store`] (`NotFound` if there is no such location).
    #[doc(hidden)]
    pub fn update_location_record(
        &self,
        id: u32,
        f: impl FnMut(&mut LocationRecord) + Send + 'static,
    ) -> Result<LocationRecord, CoreError> {
        Ok(location::update(self.store(), id, f)?)
    }

    /// The indexed entry at `path` (canonicalised without following its last component),
    /// with its location; `None` if no location holds it or it is not indexed (yet).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn entry_at(&self, path: &Path) -> Result<Option<IndexedEntry>, CoreError> {
        let locations = self.locations()?;
        Ok(index::entry_at(
            self.store(),
            &locations,
            &canonical_no_follow(path),
        )?)
    }

    /// The entry with this entry UUID (one lookup in the UUID index): its id, record and
    /// absolute path; `None` if no entry has it (any more).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn entry_by_uuid(
        &self,
        uuid: Uuid,
    ) -> Result<Option<(u64, EntryRecord, PathBuf)>, CoreError> {
        Ok(self.store().read(|tx| {
            let Some(id) = index::entry_id_by_uuid(tx, uuid)? else {
                return Ok(None);
            };
            let Some(rec) = index::entry(tx, id)? else {
                return Ok(None);
            };
            Ok(Some((id, rec, index::path_of(tx, id)?)))
        })?)
    }

    /// The children of folder entry `id` as `(id, record)`, in name-byte order (empty for a
    /// file).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn children(&self, id: u64) -> Result<Vec<(u64, EntryRecord)>, CoreError> {
        Ok(self.store().read(|tx| index::children(tx, id))?)
    }

    /// Everything the index holds below folder entry `id`, depth first in name order, in
    /// chunks to `sink` (which returns `false` to stop): the index's view as of the last scan,
    /// after the location's rules (see [`browse::list_index_tree`]).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn list_index_tree(
        &self,
        id: u64,
        sink: &mut dyn FnMut(Vec<TreeRow>) -> bool,
    ) -> Result<(), CoreError> {
        Ok(browse::list_index_tree(self.store(), id, sink)?)
    }

    /// The absolute path of entry `id`.
    ///
    /// # Errors
    /// [`CoreError::Store`] (`NotFound` if the entry or one of its folders is missing).
    pub fn path_of(&self, id: u64) -> Result<PathBuf, CoreError> {
        Ok(self.store().read(|tx| index::path_of(tx, id))?)
    }

    /// Folder entry `id`'s totals over its whole subtree; `None` for a file or an unknown id.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn dir_stats(&self, id: u64) -> Result<Option<DirStats>, CoreError> {
        Ok(self.store().read(|tx| index::dir_stats(tx, id))?)
    }

    /// The content identity `cas`, with its exact instance count; `None` once no entry has
    /// it.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn content(&self, cas: CasId) -> Result<Option<ContentRecord>, CoreError> {
        Ok(self.store().read(|tx| index::content(tx, cas))?)
    }

    /// The content whose content UUID (as in `cairn://content/<uuid>`) is `uuid`, if any
    /// entry has it. Scans the content table.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn content_by_uuid(&self, uuid: Uuid) -> Result<Option<ContentRecord>, CoreError> {
        Ok(index::content_by_uuid(self.store(), uuid)?)
    }

    /// The entry ids holding content `cas`, in id order.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn instances(&self, cas: CasId) -> Result<Vec<u64>, CoreError> {
        Ok(self.store().read(|tx| index::instances(tx, cas))?)
    }

    /// The best copy of content `cas` on this device: the first instance whose file is on
    /// disk with the indexed size; `None` if no copy is reachable now.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn best_copy(&self, cas: CasId) -> Result<Option<PathBuf>, CoreError> {
        Ok(index::best_instance(self.store(), cas)?)
    }

    /// Everything known about `path`: from the index if a location holds it, else from the
    /// disk as `opts` allow (see [`details::details`]).
    ///
    /// # Errors
    /// [`CoreError::Store`]; [`CoreError::Io`] naming the path if it is outside the index
    /// and cannot be read.
    pub fn stat(&self, path: &Path, opts: DetailOptions) -> Result<Details, CoreError> {
        details::details(Some(self.store()), &self.locations()?, path, opts)
    }

    /// Every copy of the file whose entry is `id` (itself included), with its location and
    /// volume; empty if its content is not identified.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn copies(&self, id: u64) -> Result<Vec<CopyInfo>, CoreError> {
        Ok(redundancy::copies(self.store(), &self.locations()?, id)?)
    }

    /// The indexed files under `within` whose content exists only once in the library.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn at_risk(&self, within: &Path) -> Result<AtRisk, CoreError> {
        Ok(redundancy::at_risk(self.store(), within)?)
    }

    /// The indexed files under `within` with no copy in location `target` (a backup gap).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn missing_from(&self, within: &Path, target: u32) -> Result<Gap, CoreError> {
        Ok(redundancy::missing_from(self.store(), within, target)?)
    }

    /// Groups of duplicate files by sampled hash, as `q` scopes them, largest waste first
    /// (confirm them with [`dupes::confirm`] before acting).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn dupes(&self, q: &DupesQuery) -> Result<Vec<Group>, CoreError> {
        Ok(dupes::find(self.store(), q)?)
    }

    /// How many entries and content identities the index holds.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn index_counts(&self) -> Result<IndexCounts, CoreError> {
        let (entries, contents) = index::counts(self.store())?;
        Ok(IndexCounts { entries, contents })
    }

    /// Size of the store file in bytes (0 if it cannot be read).
    pub fn store_bytes(&self) -> u64 {
        std::fs::metadata(self.store().path()).map_or(0, |m| m.len())
    }

    /// Starts the integrity job: every copy of each content (of `location` only, if given)
    /// hashed in full.
    ///
    /// # Errors
    /// [`CoreError::Job`] if it cannot be queued; the error of [`Self::location`] for a
    /// location that is not in the library.
    pub fn verify_content(&self, location: Option<u32>) -> Result<JobHandle, CoreError> {
        Ok(self
            .jobs()
            .spawn(crate::vdfs::indexer::integrity::IntegrityJob {
                location,
                location_name: location
                    .map(|id| self.location(id).map(|l| l.name()))
                    .transpose()?,
                ..Default::default()
            })?)
    }

    /// The whole index as sorted lines of text (see [`index::dump`]), for comparing two
    /// indexes.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn dump_index(&self) -> Result<Vec<String>, CoreError> {
        Ok(index::dump(self.store())?)
    }

    /// Checks the index's structure (see [`index::check`]): the problems found, empty when
    /// every key, link, count and aggregate agrees with the entries.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn check_index(&self) -> Result<Vec<String>, CoreError> {
        Ok(index::check(self.store())?)
    }

    /// The size of every table of the store (for store-growth figures).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn table_sizes(&self) -> Result<Vec<crate::store::check::TableSize>, CoreError> {
        Ok(self.store().read(crate::store::check::table_sizes)?)
    }

    /// Checks the whole catalogue: every record's checksum in every table (naming the table
    /// and key of each damaged one), then the index's structure ([`index::check`], only when
    /// every record is sound).
    ///
    /// # Errors
    /// [`CoreError::Store`] if a table cannot be read at all.
    pub fn check(&self) -> Result<(crate::store::check::CheckReport, Vec<String>), CoreError> {
        let records = self.store().read(crate::store::check::check_records)?;
        let structure = if records.damaged.is_empty() {
            index::check(self.store())?
        } else {
            Vec::new()
        };
        Ok((records, structure))
    }

    /// How many times each batch of diagnostic job `job` was committed, by batch index.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn diagnostic_batch_counts(&self, job: JobId) -> Result<BTreeMap<u64, u32>, CoreError> {
        Ok(crate::vdfs::jobs::diagnostic::batch_counts(
            self.store(),
            job,
        )?)
    }
}
