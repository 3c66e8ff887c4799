//! The devices this one is paired with, in `paired.toml` in the config folder (mode 0600).
//!
//! Each paired device is stored with its device UUID, its name as it said at pairing (or
//! since), its Ed25519 public key (which *is* its iroh endpoint id, 64 hex characters), when
//! it was paired, and the socket addresses it was last reached at. Only devices in this file
//! are served by the browse and transfer protocols.
//!
//! Several Cairn processes of one device (the window, `cairn serve`, a one-off `cairn device
//! pair`) may change the file: every change is a read–modify–write under an OS lock on
//! `paired.lock` beside it, written atomically (temporary file, fsync, rename), so no change
//! is lost and no reader sees half a file. A file that does not parse is reported naming it
//! and left alone.

use std::fs::{File, OpenOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NetError;
use crate::vdfs::CoreError;
use crate::vdfs::home::atomic::write_atomic;

/// The file's name in the config folder.
pub const PAIRED_FILE: &str = "paired.toml";
/// How many addresses are kept per device (newest first).
pub const MAX_ADDRS: usize = 8;

/// A device this one is paired with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedDevice {
    /// The peer's device UUID.
    pub id: Uuid,
    /// The peer's name (what it calls itself).
    pub name: String,
    /// The peer's Ed25519 public key, 64 hex characters: its iroh endpoint id.
    pub public_key: String,
    /// When the pairing completed.
    pub paired_at: jiff::Timestamp,
    /// Where it was last reached or heard from, newest first (at most [`MAX_ADDRS`]).
    #[serde(default)]
    pub addrs: Vec<SocketAddr>,
    /// When it was last heard from, if ever after pairing.
    #[serde(default)]
    pub last_seen: Option<jiff::Timestamp>,
}

impl PairedDevice {
    /// Remembers `addr` as the newest address (moved to the front; the list is capped).
    pub fn remember_addr(&mut self, addr: SocketAddr) {
        self.addrs.retain(|a| *a != addr);
        self.addrs.insert(0, addr);
        self.addrs.truncate(MAX_ADDRS);
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PairedFile {
    device: Vec<PairedDevice>,
}

/// How often "last seen" is written for a device heard from again at the address it was
/// last reached at (the gate and every request ask; the file is not rewritten for each).
pub const SEEN_EVERY: Duration = Duration::from_secs(60);

/// The paired-device list of one data folder. Cheap to clone (clones share a cache of the
/// file, read again only when its size, modification time or inode changed: the gate asks
/// on every incoming connection).
#[derive(Debug, Clone)]
pub struct PairedDevices {
    path: PathBuf,
    lock: PathBuf,
    cache: Arc<Mutex<Option<(Stamp, PairedFile)>>>,
}

/// What tells one version of the file from another without reading it.
type Stamp = (std::time::SystemTime, u64, u64);

impl PairedDevices {
    /// The list kept in `config_dir`.
    pub fn at(config_dir: &Path) -> PairedDevices {
        PairedDevices {
            path: config_dir.join(PAIRED_FILE),
            lock: config_dir.join("paired.lock"),
            cache: Arc::default(),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every paired device, in pairing order.
    ///
    /// # Errors
    /// [`CoreError::Io`] or [`CoreError::Corrupt`] naming the file.
    pub fn list(&self) -> Result<Vec<PairedDevice>, CoreError> {
        Ok(self.read()?.device)
    }

    /// The paired device whose public key is `public_key` (hex), if any.
    ///
    /// # Errors
    /// As [`PairedDevices::list`].
    pub fn by_key(&self, public_key: &str) -> Result<Option<PairedDevice>, CoreError> {
        Ok(self
            .list()?
            .into_iter()
            .find(|d| d.public_key == public_key))
    }

    /// Finds a paired device by UUID, UUID prefix (at least 4 characters), public-key prefix
    /// (at least 8) or name (case ignored).
    ///
    /// # Errors
    /// [`NetError::UnknownDevice`] naming `query` when nothing or more than one device
    /// matches; as [`PairedDevices::list`].
    pub fn find(&self, query: &str) -> Result<PairedDevice, NetError> {
        let all = self.list()?;
        let q = query.trim();
        let lower = q.to_lowercase();
        let exact: Vec<&PairedDevice> = all
            .iter()
            .filter(|d| d.id.to_string() == lower || d.public_key == lower || d.name == q)
            .collect();
        if let [one] = exact.as_slice() {
            return Ok((*one).clone());
        }
        let loose: Vec<&PairedDevice> = all
            .iter()
            .filter(|d| {
                d.name.to_lowercase() == lower
                    || (lower.len() >= 4 && d.id.to_string().starts_with(&lower))
                    || (lower.len() >= 8 && d.public_key.starts_with(&lower))
            })
            .collect();
        match loose.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(NetError::UnknownDevice(format!(
                "no paired device is called or has the id “{q}” (see `cairn device list`)"
            ))),
            many => Err(NetError::UnknownDevice(format!(
                "“{q}” matches {} paired devices ({}); give more of the id",
                many.len(),
                many.iter()
                    .map(|d| format!("{} {}", d.name, d.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Adds `device`, replacing an earlier record with the same UUID or key (a re-pairing).
    ///
    /// # Errors
    /// As [`PairedDevices::list`], plus write failures naming the file.
    pub fn add(&self, device: PairedDevice) -> Result<(), CoreError> {
        self.change(|f| {
            f.device
                .retain(|d| d.id != device.id && d.public_key != device.public_key);
            f.device.push(device);
            true
        })
    }

    /// Removes the device with UUID `id`; `false` when it was not paired.
    ///
    /// # Errors
    /// As [`PairedDevices::add`].
    pub fn remove(&self, id: Uuid) -> Result<bool, CoreError> {
        let mut removed = false;
        self.change(|f| {
            let before = f.device.len();
            f.device.retain(|d| d.id != id);
            removed = f.device.len() != before;
            removed
        })?;
        Ok(removed)
    }

    /// Records that the device with key `public_key` was reached at `addrs` (the first is
    /// remembered newest; none: at an address it had). The file is written only when the
    /// addresses change, or when "last seen" is older than [`SEEN_EVERY`]. Nothing happens
    /// for a key that is not paired.
    ///
    /// # Errors
    /// As [`PairedDevices::add`].
    pub fn seen(&self, public_key: &str, addrs: &[SocketAddr]) -> Result<(), CoreError> {
        let now = jiff::Timestamp::now();
        let fresh = |d: &PairedDevice| {
            d.addrs.starts_with(addrs)
                && d.last_seen
                    .is_some_and(|t| now.duration_since(t).unsigned_abs() < SEEN_EVERY)
        };
        if self.by_key(public_key)?.is_none_or(|d| fresh(&d)) {
            return Ok(());
        }
        self.change(|f| {
            let Some(d) = f.device.iter_mut().find(|d| d.public_key == public_key) else {
                return false;
            };
            for a in addrs.iter().rev() {
                d.remember_addr(*a);
            }
            d.last_seen = Some(now);
            true
        })
    }

    fn read(&self) -> Result<PairedFile, CoreError> {
        use std::os::unix::fs::MetadataExt;
        let stamp = match std::fs::metadata(&self.path) {
            Ok(m) => (
                m.modified().map_err(|e| CoreError::io(&self.path, e))?,
                m.len(),
                m.ino(),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PairedFile::default()),
            Err(e) => return Err(CoreError::io(&self.path, e)),
        };
        let mut cache = self.cache.lock().expect("paired cache");
        if let Some((s, f)) = cache.as_ref()
            && *s == stamp
        {
            return Ok(f.clone());
        }
        let text = std::fs::read_to_string(&self.path).map_err(|e| CoreError::io(&self.path, e))?;
        let file: PairedFile = toml::from_str(&text).map_err(|e| {
            CoreError::corrupt(
                &self.path,
                format!("not a list of paired devices: {}", e.message().trim()),
            )
        })?;
        *cache = Some((stamp, file.clone()));
        Ok(file)
    }

    /// Read–modify–write under the lock; `edit` returns whether it changed anything.
    fn change(&self, edit: impl FnOnce(&mut PairedFile) -> bool) -> Result<(), CoreError> {
        let _held = self.hold()?;
        let mut file = self.read()?;
        if !edit(&mut file) {
            return Ok(());
        }
        let text = toml::to_string_pretty(&file).expect("paired devices serialise");
        write_atomic(&self.path, text.as_bytes(), Some(0o600))
            .map_err(|e| CoreError::io(&self.path, e))
    }

    fn hold(&self) -> Result<File, CoreError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .map_err(|e| CoreError::io(&self.lock, e))?;
        file.lock().map_err(|e| CoreError::io(&self.lock, e))?;
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(n: u8) -> PairedDevice {
        PairedDevice {
            id: Uuid::from_bytes([n; 16]),
            name: format!("dev{n}"),
            public_key: hex::encode([n; 32]),
            paired_at: jiff::Timestamp::now(),
            addrs: vec![],
            last_seen: None,
        }
    }

    #[test]
    fn add_find_seen_remove() {
        let dir = tempfile::tempdir().unwrap();
        let p = PairedDevices::at(dir.path());
        assert!(p.list().unwrap().is_empty());
        p.add(device(1)).unwrap();
        p.add(device(2)).unwrap();
        assert_eq!(p.find("DEV2").unwrap().id, device(2).id);
        assert_eq!(p.find(&device(1).id.to_string()[..6]).unwrap().name, "dev1");
        assert!(p.find("nobody").is_err());
        let key = device(1).public_key;
        for port in 0..10 {
            p.seen(&key, &[SocketAddr::from(([127, 0, 0, 1], port))])
                .unwrap();
        }
        let d = p.by_key(&key).unwrap().unwrap();
        assert_eq!(d.addrs.len(), MAX_ADDRS);
        assert_eq!(d.addrs[0].port(), 9);
        assert!(d.last_seen.is_some());
        // Re-pairing replaces, never duplicates.
        p.add(device(1)).unwrap();
        assert_eq!(p.list().unwrap().len(), 2);
        assert!(p.remove(device(1).id).unwrap());
        assert!(!p.remove(device(1).id).unwrap());
        assert_eq!(p.list().unwrap().len(), 1);
    }

    #[test]
    fn being_seen_again_at_the_same_address_does_not_rewrite_the_file() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let p = PairedDevices::at(dir.path());
        p.add(device(1)).unwrap();
        let key = device(1).public_key;
        let at = SocketAddr::from(([127, 0, 0, 1], 7));
        p.seen(&key, &[at]).unwrap();
        let ino = std::fs::metadata(p.path()).unwrap().ino();
        for _ in 0..5 {
            p.seen(&key, &[at]).unwrap();
            p.seen(&key, &[]).unwrap();
        }
        assert_eq!(std::fs::metadata(p.path()).unwrap().ino(), ino, "rewritten");
        // A new address is written at once.
        p.seen(&key, &[SocketAddr::from(([127, 0, 0, 1], 8))])
            .unwrap();
        assert_ne!(std::fs::metadata(p.path()).unwrap().ino(), ino);
        assert_eq!(p.by_key(&key).unwrap().unwrap().addrs[0].port(), 8);
    }

    #[test]
    fn a_change_by_another_process_is_read_despite_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let p = PairedDevices::at(dir.path());
        p.add(device(1)).unwrap();
        assert_eq!(p.list().unwrap().len(), 1);
        // Another process (another instance, no shared cache) adds a device.
        PairedDevices::at(dir.path()).add(device(2)).unwrap();
        assert_eq!(p.list().unwrap().len(), 2);
    }

    #[test]
    fn a_damaged_file_is_reported_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = PairedDevices::at(dir.path());
        std::fs::write(p.path(), "not = [toml").unwrap();
        let e = p.add(device(1)).unwrap_err().to_string();
        assert!(e.contains(PAIRED_FILE), "{e}");
        assert_eq!(std::fs::read_to_string(p.path()).unwrap(), "not = [toml");
    }
}
