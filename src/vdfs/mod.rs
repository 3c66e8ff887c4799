//! The virtual distributed file system core: the one API the window, the CLI and the tests
//! drive.
//!
//! [`Core`] owns the data directory, the device identity, the event bus, a tokio runtime for
//! background work, and at most one open [`Library`]. Libraries that are not open can still be
//! listed, created, renamed and deleted.
//!
//! ```no_run
//! use cairn::{Core, CoreOptions};
//! let core = Core::start(CoreOptions::at("/tmp/cairn-demo"))?;
//! let lib = core.open_library(None)?; // the default library, "My Library" on first run
//! println!("{} ({})", lib.config().name, lib.id());
//! # Ok::<(), cairn::CoreError>(())
//! ```

pub mod actions;
pub mod clock;
pub mod content;
mod error;
pub mod events;
pub mod fs;
pub mod home;
pub mod index;
pub mod indexer;
pub mod jobs;
pub mod library;
pub mod platform;
pub mod query;
pub mod sdpath;
pub mod sidecars;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use uuid::Uuid;

pub use error::CoreError;
pub use events::{Event, EventBus};
pub use home::data_dir::{DataDir, DataDirSource};
pub use home::device::{Device, DeviceInfo};
pub use home::libraries::{DamagedLibrary, LibraryConfig, LibrarySettings, LibrarySummary};
pub use library::Library;

use home::{libraries, lock};

use jobs::JobRegistry;

/// The registry of every job kind this Cairn ships: the core is the composition root, so job
/// kinds are registered here, from outside `jobs/` (plugins will register theirs the same way).
pub fn job_registry() -> JobRegistry {
    let mut r = JobRegistry::default();
    r.register::<jobs::diagnostic::DiagnosticJob>();
    r.register::<indexer::IndexerJob>();
    r.register::<indexer::integrity::IntegrityJob>();
    r.register::<sidecars::thumbnail::ThumbnailJob>();
    r.register::<actions::FileOpJob>();
    r
}

/// An ephemeral search's folder with at most this many folders is watched with everything
/// below it; a bigger one only at its top (each folder is one inotify watch of the system's
/// limited number).
pub const EPHEMERAL_WATCH_MAX_DIRS: u64 = 10_000;

/// Name of the library created on first run.
pub const DEFAULT_LIBRARY_NAME: &str = "My Library";

/// How to start a [`Core`].
#[derive(Debug, Clone, Default)]
pub struct CoreOptions {
    /// The data directory (`--data-dir` / `CAIRN_DATA_DIR`); `None` resolves it as
    /// [`DataDir::resolve`] describes.
    pub data_dir: Option<PathBuf>,
    /// Resume interrupted jobs whenever a library is opened (the window does; the CLI does
    /// only when asked, so that `cairn jobs list` does not start work).
    pub resume_jobs: bool,
    /// Worker threads of the core's tokio runtime; 0 picks the number of cores.
    pub worker_threads: usize,
    /// Start the live index whenever a library is opened (the window and `cairn watch` do;
    /// other commands do not).
    pub watch: bool,
}

impl CoreOptions {
    /// Options for a portable data directory at `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> CoreOptions {
        CoreOptions {
            data_dir: Some(dir.into()),
            ..CoreOptions::default()
        }
    }
}

/// Everything `cairn library info` shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LibraryInfo {
    /// The library as listed.
    #[serde(flatten)]
    pub summary: LibrarySummary,
    /// Store schema version (only when the library could be opened).
    pub schema_version: Option<u32>,
    /// Number of jobs recorded (only when the library could be opened).
    pub jobs: Option<usize>,
}

/// The core. Cheap to clone; all clones share one state.
#[derive(Clone)]
pub struct Core {
    inner: Arc<CoreInner>,
}

/// A [`Core`] that does not keep it alive (for tasks on the core's own runtime, which must
/// not be the last holder: the runtime cannot be dropped from inside itself).
#[derive(Clone)]
pub struct WeakCore {
    inner: std::sync::Weak<CoreInner>,
}

impl WeakCore {
    /// The core, while something else holds it.
    pub fn upgrade(&self) -> Option<Core> {
        self.inner.upgrade().map(|inner| Core { inner })
    }
}

struct CoreInner {
    data_dir: DataDir,
    device: RwLock<Device>,
    events: EventBus,
    registry: Arc<JobRegistry>,
    resume_jobs: bool,
    library: RwLock<Option<Arc<Library>>>,
    /// The walk and index of the last folder outside the locations that was searched.
    ephemeral: Arc<query::search::ephemeral::EphemeralSearch>,
    /// Start the live index when a library opens.
    watch: bool,
    /// One change of `window.toml` at a time.
    window_state_lock: std::sync::Mutex<()>,
    /// Services of the layers above, one per type ([`Core::extension`]).
    extensions: std::sync::Mutex<
        std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>,
    >,
    /// The watch of the folder shown (when it is outside the locations) and of the folder of
    /// the ephemeral search.
    views: std::sync::Mutex<(
        Option<fs::watch::FolderWatch>,
        Option<fs::watch::FolderWatch>,
    )>,
    // Last, so it shuts down after the library's jobs have stopped.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for CoreInner {
    fn drop(&mut self) {
        if let Some(lib) = self.library.get_mut().expect("library lock").take() {
            close(lib);
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(5));
        }
    }
}

fn close(lib: Arc<Library>) {
    match Arc::try_unwrap(lib) {
        Ok(lib) => lib.close(),
        // Someone still holds it (e.g. a UI task mid-request): stop its jobs now; the store
        // and lock close when the last holder lets go.
        Err(shared) => shared.jobs().shutdown(),
    }
}

impl Core {
    /// Resolves and prepares the data directory, loads (or on first run creates) the device
    /// identity, and creates "My Library" if there is no library at all. Opens no library.
    ///
    /// # Errors
    /// [`CoreError::NoDataDir`], [`CoreError::Io`], or [`CoreError::Corrupt`] for a damaged
    /// device identity.
    pub fn start(options: CoreOptions) -> Result<Core, CoreError> {
        let data_dir = DataDir::resolve(options.data_dir.as_deref())?;
        data_dir.ensure()?;
        crate::logging::set_log_dir(&data_dir.logs_dir(), "info");
        let device = Device::load_or_create(&data_dir)?;
        let user_types = data_dir.config().join("filetypes.toml");
        if user_types.is_file() {
            match content::filetype::Registry::with_user_file(&user_types) {
                Ok(r) => content::filetype::Registry::install(r),
                Err(e) => {
                    tracing::warn!("{e}; using the built-in file types only");
                    eprintln!("warning: {e}; using the built-in file types only");
                }
            }
        }
        let mut rt = tokio::runtime::Builder::new_multi_thread();
        if options.worker_threads > 0 {
            rt.worker_threads(options.worker_threads);
        }
        let runtime = rt
            .thread_name("cairn-core")
            .enable_all()
            .build()
            .map_err(|e| CoreError::io(data_dir.data(), e))?;
        let core = Core {
            inner: Arc::new(CoreInner {
                data_dir,
                device: RwLock::new(device),
                events: EventBus::new(),
                registry: Arc::new(job_registry()),
                resume_jobs: options.resume_jobs,
                library: RwLock::new(None),
                ephemeral: Default::default(),
                watch: options.watch,
                extensions: std::sync::Mutex::default(),
                window_state_lock: std::sync::Mutex::default(),
                views: std::sync::Mutex::new((None, None)),
                runtime: Some(runtime),
            }),
        };
        core.ensure_default_library()?;
        Ok(core)
    }

    fn ensure_default_library(&self) -> Result<(), CoreError> {
        let dir = self.inner.data_dir.libraries_dir();
        let _creating = libraries::creation_lock(&dir)?;
        let (found, damaged) = libraries::scan(&dir)?;
        if !found.is_empty() || !damaged.is_empty() {
            return Ok(());
        }
        let (_, config) = libraries::create(&dir, DEFAULT_LIBRARY_NAME, "", self.device().id)?;
        let mut settings = self.inner.data_dir.load_settings()?;
        settings.default_library = Some(config.id);
        self.inner.data_dir.save_settings(&settings)?;
        tracing::info!(id = %config.id, "created the default library");
        Ok(())
    }

    /// Remembers `folder` as the last one the window showed (`window.toml`; written only when
    /// it changes).
    ///
    /// # Errors
    /// [`CoreError::Io`] naming the file.
    pub fn remember_folder(&self, folder: &Path) -> Result<(), CoreError> {
        self.change_window_state(|state| {
            let changed = state.last_folder.as_deref() != Some(folder);
            state.last_folder = Some(folder.to_owned());
            changed
        })
    }

    /// What the window remembers between runs (`window.toml`); an unreadable file is logged
    /// and gives the defaults (it is only state).
    pub fn window_state(&self) -> home::data_dir::WindowState {
        self.inner
            .data_dir
            .load_window_state()
            .inspect_err(|e| tracing::warn!("{e}"))
            .unwrap_or_default()
    }

    /// Remembers the list view's hidden columns (`window.toml`; written only when they
    /// change).
    ///
    /// # Errors
    /// [`CoreError::Io`] naming the file.
    pub fn remember_hidden_columns(&self, columns: Vec<String>) -> Result<(), CoreError> {
        self.change_window_state(|state| {
            let changed = state.hidden_columns.as_ref() != Some(&columns);
            state.hidden_columns = Some(columns);
            changed
        })
    }

    /// Reads `window.toml`, lets `change` edit it (returning whether it changed) and writes
    /// it back, one change at a time (the folder and the columns are remembered from
    /// different threads).
    fn change_window_state(
        &self,
        change: impl FnOnce(&mut home::data_dir::WindowState) -> bool,
    ) -> Result<(), CoreError> {
        let _one = self
            .inner
            .window_state_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let dir = &self.inner.data_dir;
        let mut state = dir.load_window_state().unwrap_or_default();
        if !change(&mut state) {
            return Ok(());
        }
        dir.save_window_state(&state)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &DataDir {
        &self.inner.data_dir
    }

    /// The event bus.
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// The core's tokio runtime.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        self.inner
            .runtime
            .as_ref()
            .expect("runtime lives as long as the core")
            .handle()
    }

    /// Registers the job kind `J` (see [`jobs::JobRegistry::register_with`]) for the layers
    /// above the core, whose jobs `vdfs` cannot name. Call it before a library opens, so
    /// that an interrupted job of that kind resumes then.
    pub fn register_job_with<J: jobs::Job>(
        &self,
        prepare: impl Fn(&mut J) + Send + Sync + 'static,
    ) {
        self.inner.registry.register_with::<J>(prepare);
    }

    /// The one `T` of this core, made with `T::default()` on first use: how a layer above
    /// the core keeps a service per core (the network keeps its running endpoint here, so
    /// that its jobs and the window share it).
    pub fn extension<T: std::any::Any + Default + Send + Sync>(&self) -> Arc<T> {
        let mut map = self.inner.extensions.lock().expect("extensions");
        let any = map
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        any.downcast::<T>().expect("keyed by its type")
    }

    /// A handle that does not keep the core alive.
    pub fn downgrade(&self) -> WeakCore {
        WeakCore {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// The device's secret key (32 bytes): the identity of its network endpoint.
    pub(crate) fn device_secret(&self) -> [u8; 32] {
        self.inner.device.read().expect("device").secret_bytes()
    }

    /// This device's public identity.
    pub fn device(&self) -> DeviceInfo {
        self.inner
            .device
            .read()
            .expect("device lock")
            .info()
            .clone()
    }

    /// Renames this device.
    ///
    /// # Errors
    /// [`CoreError::InvalidName`], [`CoreError::Io`].
    pub fn rename_device(&self, name: &str) -> Result<DeviceInfo, CoreError> {
        let mut device = self.inner.device.write().expect("device lock");
        device.rename(&self.inner.data_dir, name)?;
        let info = device.info().clone();
        self.inner.events.publish(Event::DeviceRenamed {
            name: info.name.clone(),
        });
        Ok(info)
    }

    /// Every library in the data directory, sorted by name, and any damaged library folders.
    ///
    /// # Errors
    /// [`CoreError::Io`] if the libraries folder cannot be read.
    pub fn list_libraries(&self) -> Result<(Vec<LibrarySummary>, Vec<DamagedLibrary>), CoreError> {
        let default = self.default_library_id()?;
        let (found, damaged) = libraries::scan(&self.inner.data_dir.libraries_dir())?;
        let list = found
            .into_iter()
            .map(|(path, config)| libraries::summarise(path, config, default))
            .collect();
        Ok((list, damaged))
    }

    /// Creates a library. The display name is kept as typed; the folder name is a sanitised
    /// form of it.
    ///
    /// # Errors
    /// [`CoreError::LibraryExists`] if a library already has this name (ignoring case),
    /// [`CoreError::InvalidName`], [`CoreError::Io`].
    pub fn create_library(
        &self,
        name: &str,
        description: &str,
    ) -> Result<LibrarySummary, CoreError> {
        let name = libraries::validate_display_name(name)?;
        let _creating = libraries::creation_lock(&self.inner.data_dir.libraries_dir())?;
        let (existing, _) = libraries::scan(&self.inner.data_dir.libraries_dir())?;
        if existing
            .iter()
            .any(|(_, c)| c.name.to_lowercase() == name.to_lowercase())
        {
            return Err(CoreError::LibraryExists { name });
        }
        let (path, config) = libraries::create(
            &self.inner.data_dir.libraries_dir(),
            &name,
            description,
            self.device().id,
        )?;
        self.inner.events.publish(Event::LibrariesChanged);
        Ok(libraries::summarise(
            path,
            config,
            self.default_library_id()?,
        ))
    }

    /// Finds a library by id, display name (ignoring case) or folder name.
    ///
    /// # Errors
    /// [`CoreError::LibraryNotFound`], [`CoreError::AmbiguousLibrary`].
    pub fn find_library(&self, query: &str) -> Result<(PathBuf, LibraryConfig), CoreError> {
        let (found, _) = libraries::scan(&self.inner.data_dir.libraries_dir())?;
        let q = query.trim();
        if let Ok(id) = q.parse::<Uuid>()
            && let Some(hit) = found.iter().find(|(_, c)| c.id == id)
        {
            return Ok(hit.clone());
        }
        let by_name: Vec<_> = found
            .iter()
            .filter(|(_, c)| c.name.to_lowercase() == q.to_lowercase())
            .collect();
        let hits: Vec<_> = if by_name.is_empty() {
            found
                .iter()
                .filter(|(p, _)| {
                    p.file_stem()
                        .is_some_and(|s| s.to_string_lossy().to_lowercase() == q.to_lowercase())
                })
                .collect()
        } else {
            by_name
        };
        match hits.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(CoreError::LibraryNotFound {
                query: query.to_owned(),
            }),
            many => Err(CoreError::AmbiguousLibrary {
                query: query.to_owned(),
                matches: many
                    .iter()
                    .map(|(_, c)| format!("{} {}", c.name, c.id))
                    .collect(),
            }),
        }
    }

    /// The library opened when none is named: the one set as default, else the first by name.
    ///
    /// # Errors
    /// [`CoreError::LibraryNotFound`] if there is none.
    pub fn default_library(&self) -> Result<(PathBuf, LibraryConfig), CoreError> {
        let (found, damaged) = libraries::scan(&self.inner.data_dir.libraries_dir())?;
        let default = self.default_library_id()?;
        if let Some(id) = default {
            if let Some(hit) = found.iter().find(|(_, c)| c.id == id) {
                return Ok(hit.clone());
            }
            // Never fall back to another library: what the user does next would land there.
            return Err(CoreError::DefaultLibraryUnavailable {
                id,
                damaged: damaged
                    .iter()
                    .map(|d| format!("{} ({})", d.path.display(), d.problem))
                    .collect(),
            });
        }
        found
            .first()
            .cloned()
            .ok_or_else(|| CoreError::LibraryNotFound {
                query: DEFAULT_LIBRARY_NAME.to_owned(),
            })
    }

    fn default_library_id(&self) -> Result<Option<Uuid>, CoreError> {
        Ok(self.inner.data_dir.load_settings()?.default_library)
    }

    /// Makes a library the one opened when none is named.
    ///
    /// # Errors
    /// As [`Core::find_library`], plus [`CoreError::Io`].
    pub fn set_default_library(&self, query: &str) -> Result<LibraryConfig, CoreError> {
        let (_, config) = self.find_library(query)?;
        let mut settings = self.inner.data_dir.load_settings()?;
        settings.default_library = Some(config.id);
        self.inner.data_dir.save_settings(&settings)?;
        self.inner.events.publish(Event::LibrariesChanged);
        Ok(config)
    }

    /// Opens a library (`None` = the default one), closing the one open before. With
    /// `resume_jobs` set in the options, its interrupted jobs resume.
    ///
    /// # Errors
    /// As [`Core::find_library`], plus [`CoreError::LibraryInUse`] (naming the holder),
    /// [`CoreError::Store`] (e.g. a schema too new).
    pub fn open_library(&self, query: Option<&str>) -> Result<Arc<Library>, CoreError> {
        let (path, _) = match query {
            Some(q) => self.find_library(q)?,
            None => self.default_library()?,
        };
        self.open_library_at(&path)
    }

    /// Opens the library folder at `path` (which may be outside the data directory, e.g. a
    /// copy on another drive), closing the one open before; the one open already if it is
    /// that folder.
    ///
    /// # Errors
    /// As [`Core::open_library`].
    pub fn open_library_at(&self, path: &Path) -> Result<Arc<Library>, CoreError> {
        // Already open here (a command run for another process by the window): that one.
        if let Some(open) = self.inner.library.read().expect("library lock").as_ref()
            && open.path() == path
        {
            return Ok(open.clone());
        }
        self.close_library();
        let lib = Arc::new(Library::open(
            path,
            self.device().id,
            self.inner.events.clone(),
            self.inner.registry.clone(),
            self.runtime().clone(),
        )?);
        lib.set_own_folders(vec![
            self.inner.data_dir.data().to_owned(),
            self.inner.data_dir.config().to_owned(),
        ]);
        crate::logging::set_log_dir(&lib.logs_dir(), &lib.config().settings.log_level);
        let config = lib.config();
        tracing::info!(id = %config.id, path = %path.display(), "opened library \"{}\"", config.name);
        *self.inner.library.write().expect("library lock") = Some(lib.clone());
        self.inner.events.publish(Event::LibraryOpened {
            id: config.id,
            name: config.name,
        });
        if self.inner.watch
            && let Err(e) = lib.start_watching()
        {
            tracing::warn!("{e}; changes on disk are seen at the next rescan");
        }
        if self.inner.resume_jobs {
            let resumed = lib.jobs().resume_interrupted()?;
            if !resumed.is_empty() {
                tracing::info!("resumed {} interrupted job(s)", resumed.len());
            }
        }
        Ok(lib)
    }

    /// The open library.
    ///
    /// # Errors
    /// [`CoreError::NoLibraryOpen`].
    pub fn library(&self) -> Result<Arc<Library>, CoreError> {
        self.inner
            .library
            .read()
            .expect("library lock")
            .clone()
            .ok_or(CoreError::NoLibraryOpen)
    }

    /// Lists `folder` for the explorer in chunks (see [`query::browse::list`]): from the open
    /// library's index when the folder is inside one of its locations, else from the disk.
    /// `sink` returns `false` to stop the stream.
    ///
    /// # Errors
    /// [`query::browse::ListError`] when the folder cannot be listed at all.
    pub fn list_folder(
        &self,
        folder: &Path,
        sink: &mut dyn FnMut(Vec<query::browse::Item>) -> bool,
    ) -> Result<query::browse::Source, query::browse::ListError> {
        let lib = self.library().ok();
        let locations = lib
            .as_ref()
            .and_then(|l| l.locations().ok())
            .unwrap_or_default();
        query::browse::list(lib.as_ref().map(|l| l.store()), &locations, folder, sink)
    }

    /// The inspector's details of `path` (see [`query::details::inspect`]): from the open
    /// library's index when it is indexed, else from the disk. Blocking; never fails (what
    /// cannot be gathered is left out).
    pub fn inspect(&self, path: &Path) -> query::details::Details {
        let lib = self.library().ok();
        let locations = lib
            .as_ref()
            .and_then(|l| l.locations().ok())
            .unwrap_or_default();
        query::details::inspect(lib.as_ref().map(|l| l.store()), &locations, path)
    }

    /// Compares `listed` (an index listing of `folder` from location `location`) with the
    /// disk and (with `created`) tells the items' creation times; see
    /// [`query::browse::check_against_disk`].
    /// `None` when the folder cannot be read.
    pub fn check_folder(
        &self,
        folder: &Path,
        listed: &[query::browse::Item],
        location: Option<u32>,
        created: bool,
    ) -> Option<query::browse::Checked> {
        let locations = self
            .library()
            .ok()
            .and_then(|l| l.locations().ok())
            .unwrap_or_default();
        let location = location.and_then(|id| locations.iter().find(|l| l.id == id));
        query::browse::check_against_disk(folder, listed, location, created)
    }

    /// Runs `q` as the search box does: over the open library's name index (one up to
    /// `max_stale` old will do, see [`Library::search_within`]), or, when the query's scope
    /// is a folder no location contains (outside them, or above one: the index knows only
    /// part of it), over an ephemeral index of a walk of that folder (kept for the next
    /// query); see [`index::location::search_walks`]. `wanted` is asked after a walk: `Ok(None)` when the walk
    /// was stopped or the caller no longer wants the answer.
    ///
    /// # Errors
    /// [`CoreError::NoLibraryOpen`], [`CoreError::Store`], or [`CoreError::Io`] naming the
    /// folder that cannot be walked.
    pub fn search(
        &self,
        q: &query::search::Query,
        max_stale: std::time::Duration,
        wanted: &dyn Fn() -> bool,
    ) -> Result<Option<query::search::Results>, CoreError> {
        let lib = self.library()?;
        let locations = lib.locations()?;
        let outside = q
            .within
            .as_ref()
            .filter(|w| index::location::search_walks(&locations, w, q.indexed_only()));
        let Some(folder) = outside else {
            return lib.search_within(q, max_stale).map(Some);
        };
        let ix = self.inner.ephemeral.index_of(folder).map_err(|e| match e {
            fs::walk::WalkStartError::Root { path, source } => CoreError::io(&path, source),
            fs::walk::WalkStartError::NotADir { path } => CoreError::NotADir {
                path,
                what: "a search can only be scoped to a folder",
            },
        })?;
        if let Some(ix) = &ix {
            self.watch_ephemeral(folder, ix.folders());
        }
        Ok(ix.filter(|_| wanted()).map(|ix| ix.search(q)))
    }

    /// Watches the folder shown in the window when it is outside the open library's locations
    /// (the live index covers those): a change in it publishes [`Event::FolderChanged`].
    /// `None`, or a folder inside a location, stops the watch. A change made after its
    /// listing began (`listed_since`) but before the watch existed is said too: the folder's
    /// modification time is looked at once the watch is in place.
    pub fn watch_view(&self, folder: Option<&Path>, listed_since: std::time::SystemTime) {
        let outside = folder.filter(|f| {
            self.library()
                .and_then(|l| l.locations())
                .is_ok_and(|locs| index::location::containing(&locs, f).is_none())
        });
        let mut views = self.inner.views.lock().expect("view watches");
        if views.0.as_ref().map(|w| w.folder()) == outside {
            return;
        }
        views.0 = None;
        if let Some(f) = outside {
            let bus = self.inner.events.clone();
            let folder = f.to_owned();
            let said = folder.clone();
            match fs::watch::FolderWatch::start(f, false, move || {
                bus.publish(Event::FolderChanged {
                    folder: folder.clone(),
                });
            }) {
                Ok(w) => {
                    views.0 = Some(w);
                    // Changed between the listing and the watch (the mtime's granularity
                    // is allowed for): said now, as the watch would have.
                    let slack = std::time::Duration::from_millis(20);
                    if std::fs::metadata(f)
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t + slack >= listed_since)
                    {
                        self.inner
                            .events
                            .publish(Event::FolderChanged { folder: said });
                    }
                }
                Err(e) => tracing::debug!(folder = %f.display(), "not watched: {e}"),
            }
        }
    }

    /// Watches the folder of the ephemeral search kept (below it too, up to
    /// [`EPHEMERAL_WATCH_MAX_DIRS`] folders): a change forgets the kept index, so the next search
    /// walks it again, and publishes [`Event::FolderChanged`] so that results shown are
    /// searched again.
    fn watch_ephemeral(&self, folder: &Path, dirs: u64) {
        let mut views = self.inner.views.lock().expect("view watches");
        if views.1.as_ref().map(|w| w.folder()) == Some(folder) {
            return;
        }
        views.1 = None;
        let bus = self.inner.events.clone();
        let eph = self.inner.ephemeral.clone();
        let owned = folder.to_owned();
        let recursive = dirs <= EPHEMERAL_WATCH_MAX_DIRS;
        match fs::watch::FolderWatch::start(folder, recursive, move || {
            eph.forget_folder(&owned);
            bus.publish(Event::FolderChanged {
                folder: owned.clone(),
            });
        }) {
            Ok(w) => views.1 = Some(w),
            Err(e) => tracing::debug!(folder = %folder.display(), "not watched: {e}"),
        }
    }

    /// Stops a walk made for an ephemeral search unless it is of `within` (the search box was
    /// cleared, or a search elsewhere was typed).
    pub fn stop_ephemeral_search_unless(&self, within: Option<&Path>) {
        self.inner.ephemeral.stop_unless(within);
    }

    /// Forgets the ephemeral search index kept (after the library changed).
    pub fn forget_ephemeral_search(&self) {
        self.inner.ephemeral.forget();
    }

    /// The thumbnail of the image at `path` for the explorer, decoded to RGBA: the open
    /// library's sidecar when `content` is known, else the data folder's size-capped cache
    /// (see [`sidecars::cache::thumbnail`]). Blocking; `None` if it is not a decodable image.
    pub fn thumbnail(&self, path: &Path, content: Option<Uuid>) -> Option<image::RgbaImage> {
        let sidecars = self.library().ok().map(|l| l.sidecars_dir());
        sidecars::cache::thumbnail(
            path,
            content,
            sidecars.as_deref(),
            &self.inner.data_dir.data().join("cache/thumbs"),
        )
    }

    /// Closes the open library, if any: running jobs stop at their next checkpoint and resume
    /// on the next open.
    pub fn close_library(&self) {
        let lib = self.inner.library.write().expect("library lock").take();
        if let Some(lib) = lib {
            let id = lib.id();
            close(lib);
            crate::logging::set_log_dir(&self.inner.data_dir.logs_dir(), "info");
            self.inner.events.publish(Event::LibraryClosed { id });
        }
    }

    fn is_open(&self, path: &Path) -> bool {
        self.inner
            .library
            .read()
            .expect("library lock")
            .as_ref()
            .is_some_and(|l| l.path() == path)
    }

    /// Repairs the damaged catalogue of the library folder at `path`
    /// ([`library::repair::repair`]): what is left is kept in a new `library.redb`, the damaged
    /// file beside it. If it is the open library, it is closed first (and not opened again: the
    /// caller opens it to rescan its locations).
    ///
    /// # Errors
    /// As [`library::repair::repair`].
    pub fn repair_library_at(&self, path: &Path) -> Result<library::repair::Repaired, CoreError> {
        if self.is_open(path) {
            self.close_library();
        }
        let r = library::repair::repair(path);
        self.inner.events.publish(Event::LibrariesChanged);
        r
    }

    /// Renames a library: its display name and its folder. If it is the open library, it is
    /// closed and reopened around the rename.
    ///
    /// # Errors
    /// As [`Core::find_library`], plus [`CoreError::LibraryExists`],
    /// [`CoreError::InvalidName`], [`CoreError::LibraryInUse`], [`CoreError::Io`].
    pub fn rename_library(&self, query: &str, new_name: &str) -> Result<LibrarySummary, CoreError> {
        let new_name = libraries::validate_display_name(new_name)?;
        let (path, mut config) = self.find_library(query)?;
        let (all, _) = libraries::scan(&self.inner.data_dir.libraries_dir())?;
        if all
            .iter()
            .any(|(_, c)| c.id != config.id && c.name.to_lowercase() == new_name.to_lowercase())
        {
            return Err(CoreError::LibraryExists { name: new_name });
        }
        let was_open = self.is_open(&path);
        if was_open {
            self.close_library();
        }
        let result = (|| -> Result<PathBuf, CoreError> {
            let lock = lock::LibraryLock::acquire(&path.join(libraries::LOCK_FILE), &config.name)?;
            config.name.clone_from(&new_name);
            libraries::write_config(&path, &config)?;
            drop(lock);
            let parent = path.parent().unwrap_or(Path::new("."));
            let stem = libraries::folder_name_for(&new_name)?;
            let mut target = parent.join(format!("{stem}.{}", libraries::LIBRARY_EXT));
            let mut n = 2;
            while target != path && target.exists() {
                target = parent.join(format!("{stem} ({n}).{}", libraries::LIBRARY_EXT));
                n += 1;
            }
            if target != path {
                std::fs::rename(&path, &target).map_err(|e| CoreError::io(&path, e))?;
            }
            Ok(target)
        })();
        let final_path = match &result {
            Ok(p) => p.clone(),
            Err(_) => path.clone(),
        };
        if was_open {
            self.open_library_at(&final_path)?;
        }
        let target = result?;
        self.inner.events.publish(Event::LibrariesChanged);
        Ok(libraries::summarise(
            target,
            config,
            self.default_library_id()?,
        ))
    }

    /// Deletes a library folder for good: its index, tags, notes, jobs and sidecars. The
    /// user's files are never touched. Refuses if the library is open in another process or
    /// its folder holds files Cairn did not create. If it is the open library, it is closed
    /// first.
    ///
    /// # Errors
    /// As [`Core::find_library`], plus [`CoreError::LibraryInUse`],
    /// [`CoreError::ForeignFiles`], [`CoreError::Io`].
    pub fn delete_library(&self, query: &str) -> Result<LibraryConfig, CoreError> {
        let (path, config) = self.find_library(query)?;
        if self.is_open(&path) {
            self.close_library();
        }
        libraries::delete(&path)?;
        let mut settings = self.inner.data_dir.load_settings()?;
        if settings.default_library == Some(config.id) {
            settings.default_library = None;
            self.inner.data_dir.save_settings(&settings)?;
        }
        self.inner.events.publish(Event::LibrariesChanged);
        Ok(config)
    }

    /// Details of a library (`None` = the open one, else the default). Opens it briefly to
    /// read its store unless it is open here already or in use elsewhere.
    ///
    /// # Errors
    /// As [`Core::find_library`].
    pub fn library_info(&self, query: Option<&str>) -> Result<LibraryInfo, CoreError> {
        let (path, config) = match (query, self.library()) {
            (Some(q), _) => self.find_library(q)?,
            (None, Ok(lib)) => (lib.path().to_owned(), lib.config()),
            (None, Err(_)) => self.default_library()?,
        };
        let summary = libraries::summarise(path.clone(), config, self.default_library_id()?);
        let read = |lib: &Library| -> Result<(u32, usize), CoreError> {
            Ok((lib.store().schema_version()?, lib.jobs().list()?.len()))
        };
        let stats = if self.is_open(&path) {
            Some(read(self.library()?.as_ref())?)
        } else if summary.in_use_by.is_none() {
            let lib = Library::open(
                &path,
                self.device().id,
                EventBus::new(),
                self.inner.registry.clone(),
                self.runtime().clone(),
            )?;
            let stats = read(&lib)?;
            lib.close();
            Some(stats)
        } else {
            None
        };
        Ok(LibraryInfo {
            summary,
            schema_version: stats.map(|s| s.0),
            jobs: stats.map(|s| s.1),
        })
    }
}
