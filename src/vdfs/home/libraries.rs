//! Library folders: portable `NAME.cairnlib/` folders that hold a whole catalogue — their
//! layout, `library.toml`, names, listing, creation and guarded deletion. The open library is
//! [`crate::vdfs::library::Library`].
//!
//! ```text
//! My Library.cairnlib/
//!   library.toml   id, display name, description, creation, settings
//!   library.redb   the store (see crate::store)
//!   sidecars/      derived files (thumbnails …), keyed by content UUID
//!   logs/          this library's logs
//!   cache/         derived data rebuilt at will (names.idx: the search name index)
//!   lock           held while open (see crate::vdfs::home::lock)
//! ```
//!
//! Copying a closed library folder anywhere and opening it gives the same library: nothing in
//! it depends on where it lives.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::Store;
use crate::vdfs::CoreError;
use crate::vdfs::home::atomic::{create_private_dir, dir_size, sync_dir, write_atomic};
use crate::vdfs::home::lock::LibraryLock;

/// Extension of a library folder.
pub const LIBRARY_EXT: &str = "cairnlib";
/// The config file inside a library folder.
pub const CONFIG_FILE: &str = "library.toml";
/// The store file inside a library folder.
pub const STORE_FILE: &str = "library.redb";
/// The lock file inside a library folder.
pub const LOCK_FILE: &str = "lock";
/// The name prefix of a damaged store kept by `cairn library repair`: `library.redb.damaged-`
/// and a time.
pub const DAMAGED_PREFIX: &str = "library.redb.damaged-";
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
    /// Set when its catalogue (`library.redb`) is missing, empty or not a plain file: what is
    /// wrong, and that `cairn library repair` makes a new one.
    pub damaged: Option<String>,
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
    write_atomic(&path, text.as_bytes(), Some(0o600)).map_err(|e| CoreError::io(&path, e))
}

/// What [`scan`] finds: readable libraries (folder and config) and damaged folders.
pub type LibraryScan = (Vec<(PathBuf, LibraryConfig)>, Vec<DamagedLibrary>);

/// Every `*.cairnlib` folder in `libraries_dir`, sorted by display name; folders whose config
/// cannot be read are returned separately. Temporary folders of library creations interrupted
/// by a crash (older than 10 minutes, holding only Cairn's files) are removed on the way.
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
        if is_leftover_temp(&entry) {
            sweep_leftover(&path);
            continue;
        }
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

/// How old a library creation's temporary folder must be before it counts as left over by a
/// crash (a creation takes milliseconds).
const LEFTOVER_AGE: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// True for a real folder (not a link) named as [`create`] names its temporary folder —
/// `.NAME.cairnlib.tmp-` and 12 hex digits — last changed more than [`LEFTOVER_AGE`] ago.
fn is_leftover_temp(entry: &fs::DirEntry) -> bool {
    let name = entry.file_name();
    let Some(name) = name.to_str() else {
        return false;
    };
    let named = name
        .strip_prefix('.')
        .and_then(|n| n.rsplit_once(&format!(".{LIBRARY_EXT}.tmp-")))
        .is_some_and(|(base, rnd)| {
            !base.is_empty() && rnd.len() == 12 && rnd.bytes().all(|b| b.is_ascii_hexdigit())
        });
    named
        && entry.file_type().is_ok_and(|t| t.is_dir())
        && entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > LEFTOVER_AGE)
}

/// Removes a library creation's temporary folder left by a crash, if everything in it is
/// Cairn's (audited by name and type, as [`delete`] does; links are never followed). A folder
/// holding anything else is left alone and logged.
fn sweep_leftover(path: &Path) {
    let mut foreign = Vec::new();
    match audit(path, Path::new(""), &mut foreign) {
        Ok(()) if foreign.is_empty() => match fs::remove_dir_all(path) {
            Ok(()) => tracing::info!(
                "removed {}, a library creation interrupted by a crash",
                path.display()
            ),
            Err(e) => tracing::warn!("cannot remove {}: {e}", path.display()),
        },
        Ok(()) => tracing::warn!(
            "{} looks like an interrupted library creation but holds files that are not Cairn's ({}); left alone",
            path.display(),
            foreign.join(", ")
        ),
        Err(e) => tracing::warn!("cannot check {}: {e}", path.display()),
    }
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
    create_private_dir(libraries_dir, true).map_err(|e| CoreError::io(libraries_dir, e))?;
    // Built complete under a temporary name, then renamed into place: a failure half-way
    // (a full disk) leaves no half library that would block every later command.
    let mut rnd = [0u8; 6];
    getrandom::fill(&mut rnd)
        .map_err(|e| CoreError::io(libraries_dir, std::io::Error::other(e.to_string())))?;
    let temp = libraries_dir.join(format!(".{base}.{LIBRARY_EXT}.tmp-{}", hex::encode(rnd)));
    create_private_dir(&temp, false).map_err(|e| CoreError::io(&temp, e))?;
    let config = LibraryConfig {
        id: Uuid::new_v4(),
        name,
        description: description.trim().to_owned(),
        created_at: jiff::Timestamp::now(),
        created_by: device,
        settings: LibrarySettings::default(),
    };
    let built = (|| {
        for sub in [SIDECARS_DIR, LOGS_DIR] {
            let p = temp.join(sub);
            create_private_dir(&p, false).map_err(|e| CoreError::io(&p, e))?;
        }
        {
            let _lock = LibraryLock::acquire(&temp.join(LOCK_FILE), &config.name)?;
            Store::open(&temp.join(STORE_FILE))?;
            crate::vdfs::home::atomic::restrict_to_owner(&temp.join(STORE_FILE))
                .map_err(|e| CoreError::io(&temp.join(STORE_FILE), e))?;
            write_config(&temp, &config)?;
        }
        sync_dir(&temp).map_err(|e| CoreError::io(&temp, e))?;
        let mut n = 1;
        loop {
            let folder = if n == 1 {
                format!("{base}.{LIBRARY_EXT}")
            } else {
                format!("{base} ({n}).{LIBRARY_EXT}")
            };
            let dir = libraries_dir.join(folder);
            // Never replaces anything: a name taken meanwhile moves on to the next one.
            match rename_noreplace(&temp, &dir) {
                Ok(()) => return Ok(dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
                Err(e) => return Err(CoreError::io(&dir, e)),
            }
        }
    })();
    let dir = match built {
        Ok(dir) => dir,
        Err(e) => {
            // Only the temporary folder this call made is removed.
            let _ = fs::remove_dir_all(&temp);
            return Err(e);
        }
    };
    sync_dir(libraries_dir).map_err(|e| CoreError::io(libraries_dir, e))?;
    Ok((dir, config))
}

/// Renames `from` to `to` unless `to` exists (`RENAME_NOREPLACE` on Linux; elsewhere a check
/// before the rename, under the creation lock).
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        match rustix::fs::renameat_with(
            rustix::fs::CWD,
            from,
            rustix::fs::CWD,
            to,
            rustix::fs::RenameFlags::NOREPLACE,
        ) {
            Ok(()) => Ok(()),
            // File systems without RENAME_NOREPLACE (NFS, some FUSE): claim the name with
            // mkdir, which fails if it is taken, then move the built folder over that empty one.
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
                fs::create_dir(to)?;
                fs::rename(from, to)
            }
            Err(e) => Err(std::io::Error::from(e)),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        if fs::symlink_metadata(to).is_ok() {
            return Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists));
        }
        fs::rename(from, to)
    }
}

/// Holds the libraries folder's creation lock (`.libraries.lock` beside it, an OS file lock)
/// while a library is created, so that checking a name is free and creating it are one step
/// for every Cairn at once: four `library create Race` leave one "Race".
///
/// # Errors
/// [`CoreError::Io`] naming the lock file.
pub fn creation_lock(libraries_dir: &Path) -> Result<fs::File, CoreError> {
    create_private_dir(libraries_dir, true).map_err(|e| CoreError::io(libraries_dir, e))?;
    // Beside the libraries folder (in the data folder), so the folder holds libraries only.
    let path = libraries_dir
        .parent()
        .unwrap_or(libraries_dir)
        .join(".libraries.lock");
    let mut opts = fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let f = opts.open(&path).map_err(|e| CoreError::io(&path, e))?;
    f.lock().map_err(|e| CoreError::io(&path, e))?;
    Ok(f)
}

/// What may stand at a place inside a library folder (relative path `rel`).
#[derive(PartialEq)]
enum Own {
    File,
    Dir,
    No,
}

/// Whether `rel/name` is a file or folder Cairn creates in a library folder: the top-level
/// names, `sidecars/thumbs/XX/<content uuid>.jpg`, `logs/cairn-YYYY-MM-DD.log`,
/// `cache/names.idx`, and Cairn's temporary files beside them.
fn own_kind(rel: &Path, name: &str) -> Own {
    // Cairn's temporary files: `.` + a name it writes + `.tmp-` + 16 hex digits.
    let temp_of = |own: &dyn Fn(&str) -> bool| {
        name.strip_prefix('.')
            .and_then(|n| n.rsplit_once(".tmp-"))
            .is_some_and(|(base, rnd)| {
                rnd.len() == 16 && rnd.bytes().all(|b| b.is_ascii_hexdigit()) && own(base)
            })
    };
    let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
    let is_date_log = |n: &str| {
        n.strip_prefix("cairn-")
            .and_then(|n| n.strip_suffix(".log"))
            .is_some_and(|d| jiff::civil::Date::strptime("%Y-%m-%d", d).is_ok())
    };
    let is_thumb = |n: &str| {
        n.strip_suffix(".jpg")
            .is_some_and(|u| Uuid::parse_str(u).is_ok())
    };
    match parts.as_slice() {
        [] if [SIDECARS_DIR, LOGS_DIR, CACHE_DIR].contains(&name) => Own::Dir,
        [] if [CONFIG_FILE, STORE_FILE, LOCK_FILE].contains(&name)
            || temp_of(&|b| b == CONFIG_FILE || b == STORE_FILE)
            || name.starts_with(DAMAGED_PREFIX) =>
        {
            Own::File
        }
        [SIDECARS_DIR] if name == "thumbs" => Own::Dir,
        [SIDECARS_DIR, "thumbs"]
            if name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Own::Dir
        }
        [SIDECARS_DIR, "thumbs", _] if is_thumb(name) || temp_of(&is_thumb) => Own::File,
        [LOGS_DIR] if is_date_log(name) => Own::File,
        [CACHE_DIR] if name == NAMES_FILE || temp_of(&|b| b == NAMES_FILE) => Own::File,
        _ => Own::No,
    }
}

/// Collects, below `dir/rel`, everything Cairn did not create (by name and type; a symlink is
/// never Cairn's), as paths relative to the library folder. Never follows a link.
fn audit(dir: &Path, rel: &Path, foreign: &mut Vec<String>) -> Result<(), CoreError> {
    let here = dir.join(rel);
    for entry in fs::read_dir(&here).map_err(|e| CoreError::io(&here, e))? {
        let entry = entry.map_err(|e| CoreError::io(&here, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let t = entry
            .file_type()
            .map_err(|e| CoreError::io(&entry.path(), e))?;
        let at = rel.join(&name);
        match own_kind(rel, &name) {
            Own::Dir if t.is_dir() => audit(dir, &at, foreign)?,
            Own::File if t.is_file() => {}
            _ => foreign.push(at.display().to_string()),
        }
    }
    Ok(())
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
    audit(dir, Path::new(""), &mut foreign)?;
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
    let damaged = match fs::symlink_metadata(path.join(STORE_FILE)) {
        Ok(m) if m.is_file() && m.len() > 0 => None,
        Ok(m) if m.is_file() => Some("library.redb is empty"),
        Ok(_) => Some("library.redb is not a plain file"),
        Err(_) => Some("library.redb is missing"),
    }
    .map(|why| format!("{why}; `cairn library repair` makes a new catalogue"));
    LibrarySummary {
        damaged,
        in_use_by: LibraryLock::holder(&path.join(LOCK_FILE)),
        size_bytes: dir_size(&path),
        is_default: default == Some(config.id),
        config,
        path,
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
