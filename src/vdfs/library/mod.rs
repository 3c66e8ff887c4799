//! The open library: the boundary the window and the CLI call. It holds the library's lock,
//! its store, its job manager and its caches; every read and every change of the catalogue
//! goes through its methods (grouped by topic in this folder), so rules such as "every change
//! of shared data is logged in the same transaction" have one place to live.
//!
//! May use every sub-system below it (`index`, `indexer`, `query`, `sidecars`, `jobs`, `home`,
//! `content`, `fs`); nothing below imports it.

mod actions;
mod locations;
mod queries;
pub mod repair;
mod tags;

pub use tags::{
    CollectionInfo, DAY_MS, ExportedAssignment, ExportedCollection, ExportedMeta, ExportedRef,
    ExportedTag, ImportReport, LabelMap, MISSING_RETENTION_MS, MetaChange, MetaOf, MissingItem,
    NewTag, SavedSearch, TagEdit, TagExport, TagInfo, TagMap, TagVia,
};

pub use queries::IndexCounts;

pub use locations::LocationStatus;

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use uuid::Uuid;

use crate::store::Store;
use crate::vdfs::CoreError;
use crate::vdfs::events::EventBus;
use crate::vdfs::home::libraries::{
    CACHE_DIR, CONFIG_FILE, LOCK_FILE, LOGS_DIR, LibraryConfig, LibrarySettings, NAMES_FILE,
    SIDECARS_DIR, STORE_FILE, read_config, write_config,
};
use crate::vdfs::home::lock::LibraryLock;
use crate::vdfs::jobs::{JobManager, JobRegistry};
use crate::vdfs::query::search::names::{self, NameIndexError};
use crate::vdfs::query::search::{NameIndex, Query, Results};

/// The most entries changed since the name index was built that a search follows with an
/// overlay; more, and the index is rebuilt.
pub const OVERLAY_MAX: usize = 50_000;

/// An open library: the lock is held, the store is open and jobs can run.
pub struct Library {
    // Field order is drop order: the live index stops first, jobs stop before the store
    // closes, the lock goes last.
    live: std::sync::Mutex<Option<crate::vdfs::indexer::live::LiveIndex>>,
    jobs: JobManager,
    store: Store,
    config: RwLock<LibraryConfig>,
    path: PathBuf,
    device: Uuid,
    /// Cairn's own folders besides the library's (the data and config folders), never indexed.
    own_folders: RwLock<Vec<PathBuf>>,
    /// The search name index last used, if any.
    names: std::sync::Mutex<Option<(std::sync::Arc<NameIndex>, std::time::Instant)>>,
    events: EventBus,
    runtime: tokio::runtime::Handle,
    /// What the live index's transactions touched (the name index follows them by overlay).
    names_delta: std::sync::Arc<crate::vdfs::index::NamesDelta>,
    /// The entries the last few tag filters selected, most recent last: (the tags, the tag
    /// generation and the names generation they are current for, the entry ids). A search by
    /// tag reuses them until a tag or the index changes.
    tag_filter: std::sync::Mutex<Vec<tags::TagFilter>>,
    /// Which tags each entry or content carries, with the tag generation it is current for.
    tag_map: std::sync::Mutex<Option<(u64, tags::TagMap)>>,
    /// Bumped by every change of tags or their assignments (see `tag_filter`).
    tag_generation: std::sync::atomic::AtomicU64,
    /// This device's hybrid logical clock, continuing from the last value stored: the HLC of
    /// every change of shared data (tags).
    clock: crate::vdfs::clock::Clock,
    /// The overlay last built, with the generation it is current for.
    overlay: std::sync::Mutex<
        Option<(
            u64,
            u64,
            std::sync::Arc<crate::vdfs::query::search::names::Overlay>,
        )>,
    >,
    _lock: LibraryLock,
}

impl Library {
    /// Opens the library folder at `path`: takes its lock, opens (and if needed migrates) the
    /// store and marks jobs left running by a dead process as interrupted.
    ///
    /// # Errors
    /// [`CoreError::LibraryInUse`], [`CoreError::Corrupt`], [`CoreError::Store`].
    pub fn open(
        path: &Path,
        device: Uuid,
        events: EventBus,
        registry: std::sync::Arc<JobRegistry>,
        runtime: tokio::runtime::Handle,
    ) -> Result<Library, CoreError> {
        crate::vdfs::home::atomic::check_own_folder(path, false)
            .map_err(|e| CoreError::io(path, e))?;
        let config = read_config(path)?;
        let lock = LibraryLock::acquire(&path.join(LOCK_FILE), &config.name)?;
        for sub in [SIDECARS_DIR, LOGS_DIR] {
            let p = path.join(sub);
            match crate::vdfs::home::atomic::create_private_dir(&p, false) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(CoreError::io(&p, e)),
            }
            crate::vdfs::home::atomic::check_own_folder(&p, false)
                .map_err(|e| CoreError::io(&p, e))?;
        }
        let store_path = path.join(STORE_FILE);
        // A library whose catalogue is gone is damaged: never open an empty store in its place.
        match std::fs::symlink_metadata(&store_path) {
            Ok(m) if m.is_file() && m.len() > 0 => {}
            Ok(m) if m.is_file() => {
                return Err(CoreError::corrupt(
                    &store_path,
                    "it is empty (0 bytes), so the catalogue is lost; restore library.redb from a copy of the library folder, or run `cairn library repair` (a new catalogue, its locations to be added again)",
                ));
            }
            Ok(_) => {
                return Err(CoreError::corrupt(
                    &store_path,
                    "it is not a plain file (a link or a folder)",
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CoreError::corrupt(
                    &store_path,
                    "it is missing, so the catalogue is lost; restore library.redb from a copy of the library folder, or run `cairn library repair` (a new catalogue, its locations to be added again)",
                ));
            }
            Err(e) => return Err(CoreError::io(&store_path, e)),
        }
        // The catalogue is the owner's alone (older Cairns left it 0644); changed through a
        // descriptor, never through a link.
        for f in [STORE_FILE, CONFIG_FILE, LOCK_FILE] {
            let p = path.join(f);
            crate::vdfs::home::atomic::restrict_to_owner(&p).map_err(|e| CoreError::io(&p, e))?;
        }
        let store = Store::open_with(&store_path, &|tx, found| {
            crate::vdfs::index::upgrade::run(tx, found, device)
        })?;
        let jobs = JobManager::new(
            store.clone(),
            events.job_events(),
            registry,
            runtime.clone(),
            device,
            path.to_owned(),
            config.settings.job_concurrency.clamp(1, 16) as usize,
        );
        jobs.mark_interrupted()?;
        let last_hlc = store.read(crate::vdfs::clock::load_last)?;
        let lib = Library {
            clock: crate::vdfs::clock::Clock::new(device, last_hlc),
            tag_filter: std::sync::Mutex::new(Vec::new()),
            tag_map: std::sync::Mutex::new(None),
            tag_generation: std::sync::atomic::AtomicU64::new(0),
            live: std::sync::Mutex::new(None),
            jobs,
            store,
            config: RwLock::new(config),
            path: path.to_owned(),
            device,
            own_folders: RwLock::new(Vec::new()),
            names: std::sync::Mutex::new(None),
            events,
            runtime,
            names_delta: Default::default(),
            overlay: std::sync::Mutex::new(None),
            _lock: lock,
        };
        // Daily housekeeping; a failure is logged and leaves everything as it was.
        match lib.forget_expired_missing(crate::vdfs::jobs::now_ms()) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                "forgot the tags, notes and collection places of {n} items missing for more than {} days",
                tags::MISSING_RETENTION_MS / tags::DAY_MS
            ),
            Err(e) => tracing::warn!("cannot forget long-missing items: {e}"),
        }
        Ok(lib)
    }

    /// Starts the live index (see [`crate::vdfs::indexer::live`]): the library's watched,
    /// online, indexed locations are watched and kept up to date from then on, until the
    /// library closes or [`Library::stop_watching`]. Does nothing if it runs already.
    ///
    /// # Errors
    /// [`CoreError::Watch`] if the system gives no inotify instance.
    pub fn start_watching(&self) -> Result<(), CoreError> {
        self.start_watching_with(true)
    }

    /// [`Library::start_watching`]; without `catch_up_rescan`, locations indexed before it
    /// are not rescanned in the background (only their changed folders are listed) — for
    /// benchmarks that measure the watch alone.
    ///
    /// # Errors
    /// As [`Library::start_watching`].
    pub fn start_watching_with(&self, catch_up_rescan: bool) -> Result<(), CoreError> {
        self.start_live(catch_up_rescan, None)
    }

    /// For tests: [`Library::start_watching`] as if the system allowed only `limit` watches,
    /// with the unwatched folders listed every `every`.
    ///
    /// # Errors
    /// As [`Library::start_watching`].
    #[doc(hidden)]
    pub fn start_watching_limited(
        &self,
        limit: u64,
        every: std::time::Duration,
    ) -> Result<(), CoreError> {
        self.start_live(false, Some((limit, every)))
    }

    fn start_live(
        &self,
        catch_up_rescan: bool,
        test_limit: Option<(u64, std::time::Duration)>,
    ) -> Result<(), CoreError> {
        let mut live = self.live.lock().expect("live index lock");
        if live.is_none() {
            let ctx = crate::vdfs::indexer::live::LiveContext {
                store: self.store.clone(),
                jobs: self.jobs.clone(),
                events: self.events.clone(),
                device: self.device,
                catch_up_rescan,
                names_delta: self.names_delta.clone(),
                test_limit,
            };
            *live = Some(
                crate::vdfs::indexer::live::LiveIndex::start(ctx, &self.runtime).map_err(|e| {
                    CoreError::Watch {
                        reason: e.to_string(),
                    }
                })?,
            );
        }
        Ok(())
    }

    /// Stops the live index (its watches go; changes from then on are caught up with at the
    /// next start).
    pub fn stop_watching(&self) {
        let old = self.live.lock().expect("live index lock").take();
        drop(old);
    }

    /// Whether the live index runs.
    pub fn is_watching(&self) -> bool {
        self.live.lock().expect("live index lock").is_some()
    }

    /// What the live index watches of each location it watches, by location id (empty when
    /// it does not run).
    pub fn watch_status(
        &self,
    ) -> std::collections::BTreeMap<u32, crate::vdfs::indexer::live::WatchStatus> {
        self.live
            .lock()
            .expect("live index lock")
            .as_ref()
            .map(|l| l.status())
            .unwrap_or_default()
    }

    /// Tells the live index (if it runs) that the locations changed.
    pub(crate) fn refresh_watches(&self) {
        if let Some(l) = self.live.lock().expect("live index lock").as_ref() {
            l.refresh();
        }
    }

    /// A copy of `library.toml` as it is now.
    pub fn config(&self) -> LibraryConfig {
        self.config.read().expect("library config lock").clone()
    }

    /// The library's id.
    pub fn id(&self) -> Uuid {
        self.config.read().expect("library config lock").id
    }

    /// Tells the library which other folders are Cairn's own (the data and config folders), so
    /// that no location indexes them: a location inside one is refused, one that holds one
    /// leaves it out.
    pub fn set_own_folders(&self, folders: Vec<PathBuf>) {
        *self.own_folders.write().expect("own folders lock") = folders;
    }

    /// Cairn's own folders: this library's folder, and those given by
    /// [`Library::set_own_folders`].
    pub fn own_folders(&self) -> Vec<PathBuf> {
        let mut v = vec![self.path.clone()];
        v.extend(
            self.own_folders
                .read()
                .expect("own folders lock")
                .iter()
                .cloned(),
        );
        v
    }

    /// This device's id (the owner of the locations it adds).
    pub fn device(&self) -> Uuid {
        self.device
    }

    /// The `.cairnlib` folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sidecar folder.
    pub fn sidecars_dir(&self) -> PathBuf {
        self.path.join(SIDECARS_DIR)
    }

    /// The log folder.
    pub fn logs_dir(&self) -> PathBuf {
        self.path.join(LOGS_DIR)
    }

    /// The search name index, current with the store: the one in memory if its generation
    /// is the store's, else `cache/names.idx` if it is, else rebuilt from the store and
    /// written there (about 1 s per million entries). Callers that must not wait (the window)
    /// call this off the UI thread.
    ///
    /// # Errors
    /// [`CoreError::Store`] if the store cannot be read; a damaged or unwritable file is
    /// logged and the index kept in memory only.
    pub fn name_index(&self) -> Result<std::sync::Arc<NameIndex>, CoreError> {
        self.name_index_within(std::time::Duration::ZERO)
    }

    /// The name index as of now for a search: the index in memory when it is current (or was
    /// built less than `max_stale` ago: while a job indexes, every batch changes the library,
    /// and search as you type would otherwise rebuild the index on almost every key); else,
    /// when the live index recorded every change since it was built and they touch at most
    /// [`OVERLAY_MAX`] entries, that index with an overlay of those entries; else
    /// [`Self::name_index`] (rebuilt).
    ///
    /// # Errors
    /// As [`Self::name_index`].
    pub fn name_view_within(
        &self,
        max_stale: std::time::Duration,
    ) -> Result<crate::vdfs::query::search::names::NameView, CoreError> {
        use crate::vdfs::query::search::names::{NameView, overlay};
        let current = crate::vdfs::index::names_generation(&self.store)?;
        let held = self.names.lock().expect("name index lock").clone();
        if let Some((ix, built)) = held {
            if ix.generation() == current || built.elapsed() < max_stale {
                return Ok(NameView::whole(ix));
            }
            let mut cached = self.overlay.lock().expect("overlay lock");
            if let Some((base, at, o)) = cached.as_ref()
                && *base == ix.generation()
                && *at == current
            {
                return Ok(NameView {
                    main: ix,
                    overlay: Some(o.clone()),
                });
            }
            if let Some(ids) = self
                .names_delta
                .between(ix.generation(), current, OVERLAY_MAX)
            {
                let o = std::sync::Arc::new(overlay(&self.store, ids)?);
                // Built from the store as it is now: current only if nothing changed meanwhile.
                if crate::vdfs::index::names_generation(&self.store)? == current {
                    *cached = Some((ix.generation(), current, o.clone()));
                    return Ok(NameView {
                        main: ix,
                        overlay: Some(o),
                    });
                }
            }
        }
        Ok(NameView::whole(self.name_index_within(max_stale)?))
    }

    /// [`Self::name_index`], but an index built less than `max_stale` ago is used even if
    /// the library changed since.
    ///
    /// # Errors
    /// As [`Self::name_index`].
    pub fn name_index_within(
        &self,
        max_stale: std::time::Duration,
    ) -> Result<std::sync::Arc<NameIndex>, CoreError> {
        let current = crate::vdfs::index::names_generation(&self.store)?;
        let mut slot = self.names.lock().expect("name index lock");
        if let Some((ix, built)) = slot.as_ref()
            && (ix.generation() == current || built.elapsed() < max_stale)
        {
            return Ok(ix.clone());
        }
        let file = self.path.join(CACHE_DIR).join(NAMES_FILE);
        let opened = match NameIndex::open(&file) {
            Ok(ix) if ix.generation() == current => Some(ix),
            Ok(_) => None,
            Err(NameIndexError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                None
            }
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        };
        let ix = match opened {
            Some(ix) => ix,
            None => {
                let started = std::time::Instant::now();
                let ix = match NameIndex::rebuild(&self.store, &file) {
                    Ok(ix) => ix,
                    Err(NameIndexError::Store(e)) => return Err(e.into()),
                    Err(e) => {
                        tracing::warn!("{e}; keeping the name index in memory");
                        NameIndex::build(&self.store)?
                    }
                };
                tracing::info!(
                    entries = ix.len(),
                    bytes = ix.bytes(),
                    "name index rebuilt in {:?}",
                    started.elapsed()
                );
                ix
            }
        };
        let ix = std::sync::Arc::new(ix);
        *slot = Some((ix.clone(), std::time::Instant::now()));
        Ok(ix)
    }

    /// True if [`Self::name_index`] would have to rebuild the index first (about 1 s per
    /// million entries), so a caller can say so.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn name_index_stale(&self) -> Result<bool, CoreError> {
        let current = crate::vdfs::index::names_generation(&self.store)?;
        if let Some((ix, _)) = self.names.lock().expect("name index lock").as_ref()
            && ix.generation() == current
        {
            return Ok(false);
        }
        let file = self.path.join(CACHE_DIR).join(NAMES_FILE);
        Ok(names::file_generation(&file) != Some(current))
    }

    /// Runs `q` over the library's name index, with [`Query::missing_from`] and
    /// [`Query::tags`] applied from the store; `tag:NAME` words in the text are tags too
    /// ([`Library::take_tags_from_text`]).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn search(&self, q: &Query) -> Result<Results, CoreError> {
        self.search_within(q, std::time::Duration::ZERO)
    }

    /// [`Self::search`] over an index up to `max_stale` old (see [`Self::name_index_within`]).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn search_within(
        &self,
        q: &Query,
        max_stale: std::time::Duration,
    ) -> Result<Results, CoreError> {
        let mut owned;
        let q = if q.text.contains("tag:") {
            owned = q.clone();
            self.take_tags_from_text(&mut owned)?;
            &owned
        } else {
            q
        };
        let ix = self.name_view_within(max_stale)?;
        let mut only = match q.missing_from {
            Some(target) => Some(crate::vdfs::query::redundancy::missing_ids(
                &self.store,
                target,
            )?),
            None => None,
        };
        let mut tagged = None;
        if !q.tags.is_empty() {
            let set = self.tag_filter(&q.tags, q.tags_inherited)?;
            match only.take() {
                Some(o) => only = Some(o.intersection(&set).copied().collect()),
                None => tagged = Some(set),
            }
        }
        if let Some(c) = q.collection {
            let members = self.collection_entry_ids(c)?;
            let base = only.take().or_else(|| tagged.take().map(|t| (*t).clone()));
            only = Some(match base {
                Some(b) => b.intersection(&members).copied().collect(),
                None => members,
            });
        }
        if let Some(note) = q.note.as_deref().filter(|n| !n.trim().is_empty()) {
            let noted = self.noted_entry_ids(note)?;
            let base = only.take().or_else(|| tagged.take().map(|t| (*t).clone()));
            only = Some(match base {
                Some(b) => b.intersection(&noted).copied().collect(),
                None => noted,
            });
        }
        // Files under an archive tag stay out of a search that does not ask for a tag.
        let archived = if q.tags.is_empty() {
            let archive: Vec<Uuid> = self
                .store
                .read(crate::vdfs::index::tags::all)?
                .into_iter()
                .filter(|(_, r)| r.privacy == crate::vdfs::index::tags::Privacy::Archive)
                .map(|(id, _)| id)
                .collect();
            let mut all = std::collections::HashSet::new();
            for t in archive {
                all.extend(self.tag_filter(&[t], true)?.iter().copied());
            }
            (!all.is_empty()).then_some(all)
        } else {
            None
        };
        Ok(ix.search_except(q, only.as_ref().or(tagged.as_deref()), archived.as_ref()))
    }

    /// The store.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The job manager.
    pub fn jobs(&self) -> &JobManager {
        &self.jobs
    }

    /// Replaces the settings and saves `library.toml`. Job concurrency applies from the next
    /// open.
    ///
    /// # Errors
    /// [`CoreError::Io`] if the file cannot be written.
    pub fn set_settings(&self, settings: LibrarySettings) -> Result<LibraryConfig, CoreError> {
        let mut config = self.config.write().expect("library config lock");
        let mut next = config.clone();
        next.settings = settings;
        write_config(&self.path, &next)?;
        *config = next.clone();
        Ok(next)
    }

    /// Favourite folders and files, in the order they were added: indexed ones by their
    /// entry's UUID (so a favourite follows a rename or move), the others as pinned paths of
    /// this device, then those marked favourite in the user metadata (a content marked so
    /// shows its oldest present copy). A favourite whose entry is gone is left out.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn favourites(&self) -> Result<Vec<PathBuf>, CoreError> {
        use crate::store::record::decode_record;
        use crate::store::schema::{FAVOURITE_ENTRIES, PINNED};
        use crate::vdfs::index::FavouriteRecord;
        use redb::ReadableTable;
        let device = self.device;
        let mut v = self.store.read(|tx| {
            let mut out = Vec::new();
            for row in tx.open_table(FAVOURITE_ENTRIES)?.iter()? {
                let (k, v) = row?;
                let rec: FavouriteRecord = decode_record(v.value())?;
                let uuid = Uuid::from_u128(k.value());
                if let Some(id) = crate::vdfs::index::entry_id_by_uuid(tx, uuid)? {
                    out.push((rec.added_ms, crate::vdfs::index::path_of(tx, id)?));
                }
            }
            for (ms, id) in tags::favourite_marks(tx)? {
                out.push((ms, crate::vdfs::index::path_of(tx, id)?));
            }
            for row in tx.open_table(PINNED)?.iter()? {
                let (k, v) = row?;
                let rec: FavouriteRecord = decode_record(v.value())?;
                if let Some(path) = k.value().strip_prefix(device.as_bytes().as_slice()) {
                    out.push((
                        rec.added_ms,
                        PathBuf::from(crate::vdfs::fs::entry::os_from_bytes(path)),
                    ));
                }
            }
            Ok(out)
        })?;
        v.sort();
        let mut seen = std::collections::HashSet::new();
        v.retain(|(_, p)| seen.insert(p.clone()));
        Ok(v.into_iter().map(|(_, p)| p).collect())
    }

    /// Adds (`true`) or removes a favourite: the indexed entry at `path` (by its UUID), or, if
    /// nothing is indexed there, the path itself pinned. Durable at once.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn set_favourite(&self, path: &Path, on: bool) -> Result<(), CoreError> {
        use crate::store::record::encode_record;
        use crate::store::schema::{FAVOURITE_ENTRIES, PINNED};
        use crate::vdfs::index::FavouriteRecord;
        use redb::ReadableTable;
        let found = self.entry_at(path)?;
        let entry = found.as_ref().map(|e| e.record.uuid.as_u128());
        let content = found
            .as_ref()
            .and_then(|e| e.record.cas)
            .map(|c| c.content_uuid());
        let pinned = crate::vdfs::index::pinned_key(
            self.device,
            crate::vdfs::fs::entry::os_bytes(path.as_os_str()),
        );
        let rec = FavouriteRecord {
            added_ms: crate::vdfs::jobs::now_ms(),
        };
        let hlc = self.clock.tick();
        self.store.write(move |tx| {
            let mut favs = tx.open_table(FAVOURITE_ENTRIES)?;
            let mut pins = tx.open_table(PINNED)?;
            if on {
                let already = match entry {
                    Some(u) => favs.get(u)?.is_some(),
                    None => pins.get(pinned.as_slice())?.is_some(),
                };
                if !already {
                    match entry {
                        Some(u) => favs.insert(u, encode_record(&rec).as_slice())?,
                        None => pins.insert(pinned.as_slice(), encode_record(&rec).as_slice())?,
                    };
                }
            } else {
                if let Some(u) = entry {
                    favs.remove(u)?;
                }
                // A favourite mark in the user metadata, on the entry or on its content
                // (which is what put it in the list), goes too.
                use crate::vdfs::index::tags::{Target, meta_of_w, set_meta};
                let marks = entry
                    .map(|u| Target::Entry(Uuid::from_u128(u)))
                    .into_iter()
                    .chain(content.map(Target::Content));
                for target in marks {
                    if let Some(mut m) = meta_of_w(tx, target)?
                        && m.favourite
                    {
                        m.favourite = false;
                        m.hlc = hlc;
                        set_meta(tx, target, &m)?;
                    }
                }
                pins.remove(pinned.as_slice())?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Stops running jobs at their next checkpoint (they resume on the next open), then closes
    /// the store and releases the lock.
    pub fn close(self) {
        self.jobs.shutdown();
    }
}
