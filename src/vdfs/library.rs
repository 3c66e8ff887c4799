//! Libraries: portable `NAME.cairnlib/` folders that hold a whole catalogue.
//!
//! ```text
//! My Library.cairnlib/
//!   library.toml   id, display name, description, creation, settings
//!   library.redb   the store (see crate::store)
//!   sidecars/      derived files (thumbnails …), keyed by content UUID
//!   logs/          this library's logs
//!   cache/         derived data rebuilt at will (names.idx: the search name index)
//!   lock           held while open (see super::lock)
//! ```
//!
//! Copying a closed library folder anywhere and opening it gives the same library: nothing in
//! it depends on where it lives.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::CoreError;
use super::events::EventBus;
use super::fsutil::{dir_size, sync_dir, write_atomic};
use super::jobs::{JobManager, JobRegistry};
use super::lock::LibraryLock;
use super::search::names::{self, NameIndexError};
use super::search::{NameIndex, Query, Results};
use crate::store::Store;

/// Extension of a library folder.
pub const LIBRARY_EXT: &str = "cairnlib";
/// The config file inside a library folder.
pub const CONFIG_FILE: &str = "library.toml";
/// The store file inside a library folder.
pub const STORE_FILE: &str = "library.redb";
/// The lock file inside a library folder.
pub const LOCK_FILE: &str = "lock";
/// The sidecar folder inside a library folder.
pub const SIDECARS_DIR: &str = "sidecars";
/// The log folder inside a library folder.
pub const LOGS_DIR: &str = "logs";
/// The folder of derived, rebuildable data inside a library folder.
pub const CACHE_DIR: &str = "cache";
/// The search name index inside [`CACHE_DIR`].
pub const NAMES_FILE: &str = "names.idx";

/// `library.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LibraryConfig {
    /// Global id; the same on every device and in every copy of the folder.
    pub id: Uuid,
    /// Display name, exactly as the user typed it.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// When the library was created.
    pub created_at: jiff::Timestamp,
    /// The device that created it.
    pub created_by: Uuid,
    /// Per-library settings.
    #[serde(default)]
    pub settings: LibrarySettings,
}

/// Per-library settings (`[settings]` in `library.toml`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LibrarySettings {
    /// How many jobs run at once (1–16).
    pub job_concurrency: u32,
    /// Level of the library's log file: `error`, `warn`, `info`, `debug` or `trace`.
    pub log_level: String,
}

impl Default for LibrarySettings {
    fn default() -> Self {
        LibrarySettings {
            job_concurrency: 2,
            log_level: "info".to_owned(),
        }
    }
}

/// A library found on disk (open or not), for listings.
#[derive(Debug, Clone, Serialize)]
pub struct LibrarySummary {
    /// Its `library.toml`.
    #[serde(flatten)]
    pub config: LibraryConfig,
    /// The `.cairnlib` folder.
    pub path: PathBuf,
    /// The process holding it open, if any (e.g. `pid 4242 (cairn)`).
    pub in_use_by: Option<String>,
    /// Bytes on disk of the whole folder.
    pub size_bytes: u64,
    /// Whether it is the data directory's default library.
    pub is_default: bool,
}

/// A library folder whose `library.toml` cannot be read; listed, never touched.
#[derive(Debug, Clone, Serialize)]
pub struct DamagedLibrary {
    /// The folder.
    pub path: PathBuf,
    /// What is wrong.
    pub problem: String,
}

/// Turns a display name into a folder name that is valid on Linux, macOS and Windows:
/// `/ \ : * ? " < > |` and control characters become `_`, leading/trailing spaces and dots
/// are trimmed, Windows device names (`CON`, `NUL`, `COM1` …) get a `_` suffix, and the result
/// is cut to 200 bytes at a character boundary.
///
/// # Errors
/// [`CoreError::InvalidName`] if nothing usable is left (e.g. `"..."` or `""`).
pub fn folder_name_for(name: &str) -> Result<String, CoreError> {
    let mut s: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    s = s.trim_matches(|c: char| c == ' ' || c == '.').to_owned();
    if s.is_empty() {
        return Err(CoreError::InvalidName {
            name: name.to_owned(),
            reason: "a library name needs at least one letter or digit",
        });
    }
    let stem = s.split('.').next().unwrap_or("").to_ascii_uppercase();
    const RESERVED: &[&str] = &["CON", "PRN", "AUX", "NUL"];
    let is_port = (stem.starts_with("COM") || stem.starts_with("LPT"))
        && stem.len() == 4
        && stem.as_bytes()[3].is_ascii_digit();
    if RESERVED.contains(&stem.as_str()) || is_port {
        s.push('_');
    }
    if s.len() > 200 {
        let mut cut = 200;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    Ok(s)
}

/// Checks a display name: not empty after trimming, at most 256 bytes, no control characters.
///
/// # Errors
/// [`CoreError::InvalidName`] saying why.
pub fn validate_display_name(name: &str) -> Result<String, CoreError> {
    let trimmed = name.trim();
    let reason = if trimmed.is_empty() {
        Some("a library name cannot be empty")
    } else if trimmed.len() > 256 {
        Some("a library name is at most 256 bytes")
    } else if trimmed.chars().any(char::is_control) {
        Some("a library name cannot contain control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(CoreError::InvalidName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(trimmed.to_owned()),
    }
}

/// Reads a folder's `library.toml`.
///
/// # Errors
/// [`CoreError::Corrupt`] or [`CoreError::Io`] naming the file.
pub fn read_config(dir: &Path) -> Result<LibraryConfig, CoreError> {
    let path = dir.join(CONFIG_FILE);
    let text = fs::read_to_string(&path).map_err(|e| CoreError::io(&path, e))?;
    toml::from_str(&text).map_err(|e| CoreError::corrupt(&path, e))
}

/// Writes a folder's `library.toml` atomically.
///
/// # Errors
/// [`CoreError::Io`] naming the file.
pub fn write_config(dir: &Path, config: &LibraryConfig) -> Result<(), CoreError> {
    let path = dir.join(CONFIG_FILE);
    let text = toml::to_string_pretty(config).expect("library config serialises");
    write_atomic(&path, text.as_bytes(), None).map_err(|e| CoreError::io(&path, e))
}

/// What [`scan`] finds: readable libraries (folder and config) and damaged folders.
pub type LibraryScan = (Vec<(PathBuf, LibraryConfig)>, Vec<DamagedLibrary>);

/// Every `*.cairnlib` folder in `libraries_dir`, sorted by display name; folders whose config
/// cannot be read are returned separately.
///
/// # Errors
/// [`CoreError::Io`] if `libraries_dir` cannot be listed.
pub fn scan(libraries_dir: &Path) -> Result<LibraryScan, CoreError> {
    let mut found = Vec::new();
    let mut damaged = Vec::new();
    let rd = match fs::read_dir(libraries_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((found, damaged)),
        Err(e) => return Err(CoreError::io(libraries_dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| CoreError::io(libraries_dir, e))?;
        let path = entry.path();
        if path.extension().is_none_or(|e| e != LIBRARY_EXT) || !path.is_dir() {
            continue;
        }
        match read_config(&path) {
            Ok(config) => found.push((path, config)),
            Err(e) => damaged.push(DamagedLibrary {
                path,
                problem: e.to_string(),
            }),
        }
    }
    found.sort_by_key(|(_, c)| (c.name.to_lowercase(), c.id));
    Ok((found, damaged))
}

/// Creates a new library folder in `libraries_dir` and returns its path and config. The folder
/// is named after [`folder_name_for`]`(name)`, with ` (2)`, ` (3)` … added if taken.
///
/// # Errors
/// [`CoreError::InvalidName`], or [`CoreError::Io`] naming what could not be created.
pub fn create(
    libraries_dir: &Path,
    name: &str,
    description: &str,
    device: Uuid,
) -> Result<(PathBuf, LibraryConfig), CoreError> {
    let name = validate_display_name(name)?;
    let base = folder_name_for(&name)?;
    fs::create_dir_all(libraries_dir).map_err(|e| CoreError::io(libraries_dir, e))?;
    let mut n = 1;
    let dir = loop {
        let folder = if n == 1 {
            format!("{base}.{LIBRARY_EXT}")
        } else {
            format!("{base} ({n}).{LIBRARY_EXT}")
        };
        let dir = libraries_dir.join(folder);
        // create_dir (not _all) fails if it exists, so two creators never share a folder.
        match fs::create_dir(&dir) {
            Ok(()) => break dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(CoreError::io(&dir, e)),
        }
    };
    for sub in [SIDECARS_DIR, LOGS_DIR] {
        let p = dir.join(sub);
        fs::create_dir(&p).map_err(|e| CoreError::io(&p, e))?;
    }
    let config = LibraryConfig {
        id: Uuid::new_v4(),
        name,
        description: description.trim().to_owned(),
        created_at: jiff::Timestamp::now(),
        created_by: device,
        settings: LibrarySettings::default(),
    };
    {
        let _lock = LibraryLock::acquire(&dir.join(LOCK_FILE), &config.name)?;
        Store::open(&dir.join(STORE_FILE))?;
        write_config(&dir, &config)?;
    }
    sync_dir(libraries_dir).map_err(|e| CoreError::io(libraries_dir, e))?;
    Ok((dir, config))
}

/// Names Cairn itself creates in a library folder (plus atomic-write temporaries).
fn is_own_name(name: &str) -> bool {
    [
        CONFIG_FILE,
        STORE_FILE,
        LOCK_FILE,
        SIDECARS_DIR,
        LOGS_DIR,
        CACHE_DIR,
    ]
    .contains(&name)
        || (name.starts_with('.') && name.contains(".tmp-"))
}

/// Deletes a closed library folder. Refuses (and deletes nothing) if the folder is not a
/// library, if it is in use, or if it holds files Cairn did not create.
///
/// # Errors
/// [`CoreError::LibraryInUse`], [`CoreError::ForeignFiles`], [`CoreError::Io`].
pub fn delete(dir: &Path) -> Result<(), CoreError> {
    let config = read_config(dir)?;
    let lock = LibraryLock::acquire(&dir.join(LOCK_FILE), &config.name)?;
    let mut foreign = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| CoreError::io(dir, e))? {
        let entry = entry.map_err(|e| CoreError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_own_name(&name) {
            foreign.push(name);
        }
    }
    if !foreign.is_empty() {
        foreign.sort();
        return Err(CoreError::ForeignFiles {
            path: dir.to_owned(),
            names: foreign,
        });
    }
    for entry in fs::read_dir(dir).map_err(|e| CoreError::io(dir, e))? {
        let entry = entry.map_err(|e| CoreError::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        if name == LOCK_FILE {
            continue;
        }
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        // sidecars/ and logs/ hold only files Cairn wrote; remove_dir_all never follows links.
        let r = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        r.map_err(|e| CoreError::io(&path, e))?;
    }
    drop(lock);
    let lock_path = dir.join(LOCK_FILE);
    fs::remove_file(&lock_path).map_err(|e| CoreError::io(&lock_path, e))?;
    fs::remove_dir(dir).map_err(|e| CoreError::io(dir, e))?;
    Ok(())
}

/// Summarises a library folder for listings.
pub fn summarise(path: PathBuf, config: LibraryConfig, default: Option<Uuid>) -> LibrarySummary {
    LibrarySummary {
        in_use_by: LibraryLock::holder(&path.join(LOCK_FILE)),
        size_bytes: dir_size(&path),
        is_default: default == Some(config.id),
        config,
        path,
    }
}

/// An open library: the lock is held, the store is open and jobs can run.
pub struct Library {
    // Field order is drop order: jobs stop before the store closes, the lock goes last.
    jobs: JobManager,
    store: Store,
    config: RwLock<LibraryConfig>,
    path: PathBuf,
    /// The search name index last used, if any.
    names: std::sync::Mutex<Option<(std::sync::Arc<NameIndex>, std::time::Instant)>>,
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
        let config = read_config(path)?;
        let lock = LibraryLock::acquire(&path.join(LOCK_FILE), &config.name)?;
        for sub in [SIDECARS_DIR, LOGS_DIR] {
            let p = path.join(sub);
            fs::create_dir_all(&p).map_err(|e| CoreError::io(&p, e))?;
        }
        let store = Store::open(&path.join(STORE_FILE))?;
        let jobs = JobManager::new(
            store.clone(),
            events,
            registry,
            runtime,
            device,
            path.to_owned(),
            config.settings.job_concurrency.clamp(1, 16) as usize,
        );
        jobs.mark_interrupted()?;
        Ok(Library {
            jobs,
            store,
            config: RwLock::new(config),
            path: path.to_owned(),
            names: std::sync::Mutex::new(None),
            _lock: lock,
        })
    }

    /// A copy of `library.toml` as it is now.
    pub fn config(&self) -> LibraryConfig {
        self.config.read().expect("library config lock").clone()
    }

    /// The library's id.
    pub fn id(&self) -> Uuid {
        self.config.read().expect("library config lock").id
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

    /// [`Self::name_index`], but an index built less than `max_stale` ago is used even if
    /// the library changed since: while a job indexes, every batch changes the library, and
    /// search as you type would otherwise rebuild the index on almost every key.
    ///
    /// # Errors
    /// As [`Self::name_index`].
    pub fn name_index_within(
        &self,
        max_stale: std::time::Duration,
    ) -> Result<std::sync::Arc<NameIndex>, CoreError> {
        let current = names::generation(&self.store)?;
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
        let current = names::generation(&self.store)?;
        if let Some((ix, _)) = self.names.lock().expect("name index lock").as_ref()
            && ix.generation() == current
        {
            return Ok(false);
        }
        let file = self.path.join(CACHE_DIR).join(NAMES_FILE);
        Ok(names::file_generation(&file) != Some(current))
    }

    /// Runs `q` over the library's name index, with [`Query::missing_from`] applied from the
    /// store.
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
        let ix = self.name_index_within(max_stale)?;
        let only = match q.missing_from {
            Some(target) => Some(super::redundancy::missing_ids(&self.store, target)?),
            None => None,
        };
        Ok(ix.search_in(q, only.as_ref()))
    }

    /// The store.
    pub fn store(&self) -> &Store {
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

    /// Favourite folders, in the order they were added.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn favourites(&self) -> Result<Vec<PathBuf>, CoreError> {
        use redb::ReadableTable;
        let mut v = self.store.read(|tx| {
            let t = tx.open_table(crate::store::schema::FAVOURITES)?;
            let mut out = Vec::new();
            for row in t.iter()? {
                let (k, v) = row?;
                let added: i64 = crate::store::decode("favourites", v.value())?;
                out.push((added, super::entry::os_from_bytes(k.value())));
            }
            Ok(out)
        })?;
        v.sort();
        Ok(v.into_iter().map(|(_, p)| PathBuf::from(p)).collect())
    }

    /// Adds (`true`) or removes a favourite folder. Durable at once.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn set_favourite(&self, path: &Path, on: bool) -> Result<(), CoreError> {
        use redb::ReadableTable;
        let key = super::entry::os_bytes(path.as_os_str()).to_vec();
        let now = super::jobs::now_ms();
        self.store.write(move |tx| {
            let mut t = tx.open_table(crate::store::schema::FAVOURITES)?;
            if on {
                if t.get(key.as_slice())?.is_none() {
                    t.insert(key.as_slice(), crate::store::encode(&now).as_slice())?;
                }
            } else {
                t.remove(key.as_slice())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_sanitised() {
        assert_eq!(folder_name_for("a/b: c*d?").unwrap(), "a_b_ c_d_");
        assert_eq!(folder_name_for("  My Library. ").unwrap(), "My Library");
        assert_eq!(folder_name_for("con").unwrap(), "con_");
        assert_eq!(folder_name_for("COM1.txt").unwrap(), "COM1.txt_");
        assert_eq!(folder_name_for("Photos 東京").unwrap(), "Photos 東京");
        assert!(folder_name_for("...").is_err());
        let long = "é".repeat(300);
        let f = folder_name_for(&long).unwrap();
        assert!(f.len() <= 200 && f.chars().all(|c| c == 'é'));
    }

    #[test]
    fn display_names_are_validated() {
        assert_eq!(validate_display_name("  Work  ").unwrap(), "Work");
        assert!(validate_display_name("   ").is_err());
        assert!(validate_display_name("a\nb").is_err());
    }
}
