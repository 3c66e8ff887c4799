//! This installation's persistent identity.
//!
//! Two files in the config folder:
//! - `device.toml` — `id` (UUID v4), `name` (the hostname by default), `public_key` (Ed25519,
//!   64 hex characters), `created_at` (RFC 3339);
//! - `device.key` — the Ed25519 secret key (RFC 8032), 64 hex characters, mode 0600.
//!
//! Both are created once. If either is missing while the other exists, or does not parse, or
//! the public key does not match the secret, loading fails with [`CoreError::Corrupt`] and the
//! files are left alone: a device identity is never silently replaced, because peers pair with
//! it.

use std::fs;
use std::io::ErrorKind;

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::vdfs::CoreError;
use crate::vdfs::home::atomic::{mode_of, write_atomic};
use crate::vdfs::home::data_dir::DataDir;

/// The public part of the identity, as stored in `device.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceInfo {
    /// Stable id of this installation.
    pub id: Uuid,
    /// Display name shown to peers; renamable.
    pub name: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// When the identity was created.
    pub created_at: jiff::Timestamp,
}

/// The loaded identity: public info plus the signing key.
pub struct Device {
    info: DeviceInfo,
    key: SigningKey,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Loads the identity from `data_dir`, creating it on first use.
    ///
    /// # Errors
    /// [`CoreError::Corrupt`] for a damaged or half-present identity (nothing is replaced),
    /// [`CoreError::Io`] for I/O failures.
    pub fn load_or_create(data_dir: &DataDir) -> Result<Device, CoreError> {
        let info_path = data_dir.device_file();
        let key_path = data_dir.device_key_file();
        let info_text = read_optional(&info_path)?;
        let key_text = read_optional(&key_path)?;
        match (info_text, key_text) {
            (None, None) => Device::create(data_dir),
            (Some(_), None) => Err(CoreError::corrupt(
                &key_path,
                "the secret key file is missing while device.toml exists",
            )),
            (None, Some(_)) => Err(CoreError::corrupt(
                &info_path,
                "device.toml is missing while the secret key exists",
            )),
            (Some(info_text), Some(key_text)) => {
                let info: DeviceInfo =
                    toml::from_str(&info_text).map_err(|e| CoreError::corrupt(&info_path, e))?;
                let secret: [u8; 32] = hex::decode(key_text.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| {
                        CoreError::corrupt(&key_path, "expected 64 hex characters (32 bytes)")
                    })?;
                let key = SigningKey::from_bytes(&secret);
                if hex::encode(key.verifying_key().as_bytes()) != info.public_key {
                    return Err(CoreError::corrupt(
                        &info_path,
                        "its public_key does not match device.key",
                    ));
                }
                if let Ok(Some(mode)) = mode_of(&key_path)
                    && mode & 0o077 != 0
                {
                    tracing::warn!(
                        "{} was readable by others (mode {mode:o}); restricting it to 0600",
                        key_path.display()
                    );
                    restrict(&key_path)?;
                }
                Ok(Device { info, key })
            }
        }
    }

    fn create(data_dir: &DataDir) -> Result<Device, CoreError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| {
            CoreError::io(
                &data_dir.device_key_file(),
                std::io::Error::other(e.to_string()),
            )
        })?;
        let key = SigningKey::from_bytes(&secret);
        let info = DeviceInfo {
            id: Uuid::new_v4(),
            name: default_name(),
            public_key: hex::encode(key.verifying_key().as_bytes()),
            created_at: jiff::Timestamp::now(),
        };
        let key_path = data_dir.device_key_file();
        // The secret first, so a crash between the two writes is detected as "toml missing"
        // rather than leaving a public identity without its key.
        write_atomic(
            &key_path,
            format!("{}\n", hex::encode(secret)).as_bytes(),
            Some(0o600),
        )
        .map_err(|e| CoreError::io(&key_path, e))?;
        let device = Device { info, key };
        device.save(data_dir)?;
        tracing::info!(id = %device.info.id, "created the device identity");
        Ok(device)
    }

    fn save(&self, data_dir: &DataDir) -> Result<(), CoreError> {
        let path = data_dir.device_file();
        let text = toml::to_string_pretty(&self.info).expect("device info serialises");
        write_atomic(&path, text.as_bytes(), Some(0o600)).map_err(|e| CoreError::io(&path, e))
    }

    /// Renames the device and saves `device.toml`.
    ///
    /// # Errors
    /// [`CoreError::InvalidName`] for an empty or over-long name; [`CoreError::Io`] on write.
    pub fn rename(&mut self, data_dir: &DataDir, name: &str) -> Result<(), CoreError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CoreError::InvalidName {
                name: name.into(),
                reason: "a device name cannot be empty",
            });
        }
        if name.chars().any(char::is_control) {
            return Err(CoreError::InvalidName {
                name: name.into(),
                reason: "a device name cannot hold control characters (such as a newline)",
            });
        }
        if name.len() > 128 {
            return Err(CoreError::InvalidName {
                name: name.into(),
                reason: "a device name is at most 128 bytes",
            });
        }
        self.info.name = name.to_owned();
        self.save(data_dir)
    }

    /// The public identity.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// The device id.
    pub fn id(&self) -> Uuid {
        self.info.id
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The secret key's 32 bytes (RFC 8032), for the network endpoint whose identity it is.
    pub(crate) fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Signs `message` with the device key (Ed25519, RFC 8032); 64-byte signature.
    pub fn sign(&self, message: &[u8]) -> ed25519_dalek::Signature {
        use ed25519_dalek::Signer;
        self.key.sign(message)
    }
}

/// Reads one of the identity files, never through a symlink: a link planted in its place is
/// refused (naming it) rather than read, replaced or chmod-ed.
fn read_optional(path: &std::path::Path) -> Result<Option<String>, CoreError> {
    if fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(CoreError::corrupt(
            path,
            "it must be a plain file, and this is a link or a special file; Cairn did not read or change what it points to",
        ));
    }
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == ErrorKind::InvalidData => {
            Err(CoreError::corrupt(path, "not UTF-8 text"))
        }
        Err(e) => Err(CoreError::io(path, e)),
    }
}

fn restrict(path: &std::path::Path) -> Result<(), CoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // fchmod on the file itself, opened without following a link.
        fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .and_then(|f| f.set_permissions(fs::Permissions::from_mode(0o600)))
            .map_err(|e| CoreError::io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn default_name() -> String {
    let host = gethostname::gethostname()
        .to_string_lossy()
        .trim()
        .to_owned();
    if host.is_empty() {
        "This device".to_owned()
    } else {
        host
    }
}

/// This computer's identity as a short text: the first 8 bytes, in hex, of a keyed BLAKE3
/// hash of the systemd machine id (`/etc/machine-id`, else `/var/lib/dbus/machine-id`; the
/// id itself is confidential and never stored). `None` where neither file exists. A portable
/// data folder keeps its device identity from one computer to the next; this tells the
/// computers apart. Read once per process.
pub fn machine_id() -> Option<&'static str> {
    static ID: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let raw = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
            .iter()
            .find_map(|p| fs::read_to_string(p).ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())?;
        let key = blake3::hash(b"cairn machine id v1");
        let h = blake3::keyed_hash(key.as_bytes(), raw.as_bytes());
        Some(
            h.as_bytes()[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    })
    .as_deref()
}
