//! Where Cairn keeps its state: the platform's folders, or one portable folder.
//!
//! Resolution order (first match wins):
//! 1. an explicit folder: `--data-dir DIR` or the `CAIRN_DATA_DIR` environment variable;
//! 2. a folder named `cairn-data` beside the executable (portable mode, e.g. on a USB stick);
//! 3. the platform's data and config folders (on Linux `$XDG_DATA_HOME/cairn`, default
//!    `~/.local/share/cairn`, and `$XDG_CONFIG_HOME/cairn`, default `~/.config/cairn`).
//!
//! In cases 1 and 2 everything — device identity, settings, libraries, logs — lives in that
//! one folder and nothing is written elsewhere.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::vdfs::CoreError;
use crate::vdfs::home::atomic::write_atomic;

/// Name of the portable data folder looked for beside the executable.
pub const PORTABLE_DIR_NAME: &str = "cairn-data";

/// Why this data directory was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataDirSource {
    /// `--data-dir` or `CAIRN_DATA_DIR`.
    Explicit,
    /// `cairn-data/` beside the executable.
    BesideExecutable,
    /// The platform's standard folders.
    Platform,
}

/// The resolved data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    data: PathBuf,
    config: PathBuf,
    source: DataDirSource,
}

/// Data-directory-wide settings, in `settings.toml` in the config folder. Unknown keys are
/// refused, so a `settings.toml` that belongs to something else (a `--data-dir` pointed at a
/// folder that is not Cairn's) is reported and never overwritten.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The id of the library opened when none is named.
    pub default_library: Option<uuid::Uuid>,
    /// Networking (the `[net]` table).
    pub net: NetSettings,
}

/// The `[net]` table of `settings.toml`: what Cairn's endpoint may do on the network.
/// Everything that would reach past the local network is off until the user turns it on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct NetSettings {
    /// Listen on this socket address (e.g. `0.0.0.0:47700`); unset, any free port on every
    /// interface.
    pub listen: Option<std::net::SocketAddr>,
    /// Find paired and nearby devices on the local network (mDNS). On by default.
    pub local_discovery: bool,
    /// Use n0's public relay servers to reach devices across networks. Off by default:
    /// traffic then stays on the networks the devices share.
    pub relays: bool,
    /// Ask the router to forward a port (UPnP, PCP, NAT-PMP). Off by default.
    pub port_mapping: bool,
}

impl Default for NetSettings {
    fn default() -> Self {
        NetSettings {
            listen: None,
            local_discovery: true,
            relays: false,
            port_mapping: false,
        }
    }
}

/// What the window remembers between runs, in `window.toml` in the data folder: state Cairn
/// writes, not settings a person edits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowState {
    /// The last folder the window showed (exact bytes, kept through the file as they are).
    pub last_folder: Option<PathBuf>,
    /// The list view's columns the person hid, by name (`size`, `modified`, `kind`,
    /// `created`); the window ignores names it does not know. `None` until the person first
    /// chooses (the window then hides the columns hidden by default).
    pub hidden_columns: Option<Vec<String>>,
}

/// `window.toml` as stored: a path that is not UTF-8 is kept as its bytes.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct WindowStateFile {
    last_folder: Option<String>,
    last_folder_bytes: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hidden_columns: Option<Vec<String>>,
}

impl From<&WindowState> for WindowStateFile {
    fn from(w: &WindowState) -> Self {
        let mut f = WindowStateFile {
            hidden_columns: w.hidden_columns.clone(),
            ..WindowStateFile::default()
        };
        if let Some(p) = &w.last_folder {
            match p.to_str() {
                Some(s) => f.last_folder = Some(s.to_owned()),
                None => {
                    f.last_folder_bytes =
                        Some(crate::vdfs::fs::entry::os_bytes(p.as_os_str()).to_vec());
                }
            }
        }
        f
    }
}

impl From<WindowStateFile> for WindowState {
    fn from(f: WindowStateFile) -> Self {
        WindowState {
            last_folder: f.last_folder.map(PathBuf::from).or_else(|| {
                f.last_folder_bytes
                    .map(|b| PathBuf::from(crate::vdfs::fs::entry::os_from_bytes(&b)))
            }),
            hidden_columns: f.hidden_columns,
        }
    }
}

impl DataDir {
    /// Resolves the data directory as the module docs describe. `explicit` is the value of
    /// `--data-dir` / `CAIRN_DATA_DIR`, if given.
    ///
    /// # Errors
    /// [`CoreError::NoDataDir`] if the platform has no home folder and nothing else applies.
    pub fn resolve(explicit: Option<&Path>) -> Result<DataDir, CoreError> {
        if let Some(dir) = explicit {
            return Ok(DataDir::portable(dir, DataDirSource::Explicit));
        }
        if let Some(dir) = beside_executable() {
            return Ok(DataDir::portable(&dir, DataDirSource::BesideExecutable));
        }
        let dirs = directories::ProjectDirs::from("", "", "Cairn").ok_or(CoreError::NoDataDir)?;
        Ok(DataDir {
            data: dirs.data_dir().to_owned(),
            config: dirs.config_dir().to_owned(),
            source: DataDirSource::Platform,
        })
    }

    /// A portable data directory rooted at `dir` (data and config both inside it).
    pub fn portable(dir: &Path, source: DataDirSource) -> DataDir {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
        DataDir {
            data: dir.clone(),
            config: dir,
            source,
        }
    }

    /// Creates the folders if missing.
    ///
    /// # Errors
    /// [`CoreError::Io`] naming the folder that could not be created.
    pub fn ensure(&self) -> Result<(), CoreError> {
        for dir in [&self.data, &self.config] {
            if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
                return Err(CoreError::NotADir {
                    path: dir.clone(),
                    what: "Cairn's data folder must be a folder; pass --data-dir with a \
                           folder (it is created if missing)",
                });
            }
        }
        for dir in [
            &self.data,
            &self.config,
            &self.libraries_dir(),
            &self.logs_dir(),
        ] {
            crate::vdfs::home::atomic::create_private_dir(dir, true)
                .map_err(|e| CoreError::io(dir, e))?;
        }
        for dir in [&self.data, &self.config] {
            crate::vdfs::home::atomic::check_own_folder(dir, true)
                .map_err(|e| CoreError::io(dir, e))?;
        }
        for dir in [&self.libraries_dir(), &self.logs_dir()] {
            crate::vdfs::home::atomic::check_own_folder(dir, false)
                .map_err(|e| CoreError::io(dir, e))?;
        }
        Ok(())
    }

    /// Why this directory was chosen.
    pub fn source(&self) -> DataDirSource {
        self.source
    }

    /// True when everything lives in one folder (explicit or beside the executable).
    pub fn is_portable(&self) -> bool {
        self.source != DataDirSource::Platform
    }

    /// The data folder (libraries, logs).
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// The config folder (device identity, settings).
    pub fn config(&self) -> &Path {
        &self.config
    }

    /// Folder holding the `NAME.cairnlib/` libraries.
    pub fn libraries_dir(&self) -> PathBuf {
        self.data.join("libraries")
    }

    /// Folder for logs written while no library is open.
    pub fn logs_dir(&self) -> PathBuf {
        self.data.join("logs")
    }

    /// `device.toml`: the device's public identity.
    pub fn device_file(&self) -> PathBuf {
        self.config.join("device.toml")
    }

    /// `device.key`: the device's Ed25519 secret key, mode 0600.
    pub fn device_key_file(&self) -> PathBuf {
        self.config.join("device.key")
    }

    /// `settings.toml`.
    pub fn settings_file(&self) -> PathBuf {
        self.config.join("settings.toml")
    }

    /// Reads `settings.toml`; a missing file gives the defaults.
    ///
    /// # Errors
    /// [`CoreError::Corrupt`] naming the file if it does not parse.
    pub fn load_settings(&self) -> Result<Settings, CoreError> {
        let path = self.settings_file();
        match fs::read_to_string(&path) {
            Ok(s) => toml::from_str(&s).map_err(|e| {
                CoreError::corrupt(
                    &path,
                    format!("not a Cairn settings file: {}", e.message().trim()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(CoreError::io(&path, e)),
        }
    }

    /// Writes `settings.toml` atomically.
    ///
    /// # Errors
    /// [`CoreError::Io`] naming the file; [`CoreError::Corrupt`] if a `settings.toml` is
    /// there that is not Cairn's (it is left untouched).
    pub fn save_settings(&self, settings: &Settings) -> Result<(), CoreError> {
        let path = self.settings_file();
        // Only ever replace a settings file Cairn can read as its own.
        self.load_settings()?;
        let text = toml::to_string_pretty(settings).expect("settings serialise");
        write_atomic(&path, text.as_bytes(), Some(0o600)).map_err(|e| CoreError::io(&path, e))
    }
}

impl DataDir {
    /// `window.toml`: what the window remembers between runs.
    pub fn window_state_file(&self) -> PathBuf {
        self.data.join("window.toml")
    }

    /// Reads `window.toml`; a missing file gives the defaults.
    ///
    /// # Errors
    /// [`CoreError::Corrupt`] naming the file if it does not parse; [`CoreError::Io`].
    pub fn load_window_state(&self) -> Result<WindowState, CoreError> {
        let path = self.window_state_file();
        match fs::read_to_string(&path) {
            Ok(s) => toml::from_str::<WindowStateFile>(&s)
                .map(WindowState::from)
                .map_err(|e| {
                    CoreError::corrupt(
                        &path,
                        format!("not Cairn's window state: {}", e.message().trim()),
                    )
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(WindowState::default()),
            Err(e) => Err(CoreError::io(&path, e)),
        }
    }

    /// Writes `window.toml` atomically (a damaged one is replaced: it is only state).
    ///
    /// # Errors
    /// [`CoreError::Io`] naming the file.
    pub fn save_window_state(&self, state: &WindowState) -> Result<(), CoreError> {
        let path = self.window_state_file();
        let text =
            toml::to_string_pretty(&WindowStateFile::from(state)).expect("window state serialises");
        write_atomic(&path, text.as_bytes(), None).map_err(|e| CoreError::io(&path, e))
    }
}

fn beside_executable() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.join(PORTABLE_DIR_NAME);
    dir.is_dir().then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_state_keeps_a_folder_name_that_is_not_utf8() {
        let d = tempfile::tempdir().unwrap();
        let dir = DataDir::portable(d.path(), DataDirSource::Explicit);
        assert_eq!(dir.load_window_state().unwrap(), WindowState::default());
        for folder in [
            PathBuf::from("/home/me/Pictures"),
            PathBuf::from(crate::vdfs::fs::entry::os_from_bytes(b"/home/me/caf\xe9")),
        ] {
            let state = WindowState {
                last_folder: Some(folder),
                hidden_columns: Some(vec!["size".into(), "kind".into()]),
            };
            dir.save_window_state(&state).unwrap();
            assert_eq!(dir.load_window_state().unwrap(), state);
        }
        std::fs::write(dir.window_state_file(), "default_library = 3").unwrap();
        assert!(matches!(
            dir.load_window_state(),
            Err(CoreError::Corrupt { .. })
        ));
    }
}
