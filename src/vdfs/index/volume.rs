//! Volumes (file systems) as the library knows them: identities that outlive mount points and
//! device numbers (table `volumes`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::record::Record;

/// A volume as stored: the UUID the library gave it, the device it belongs to, and what
/// identifies it when it comes back (its fingerprint), with what was seen of it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRecord {
    /// The library's id of the volume.
    pub uuid: Uuid,
    /// The device it is attached to (a removable drive: the last one that saw it).
    pub device: Uuid,
    /// What identifies the file system (file-system UUID, else label, else type and source;
    /// never `st_dev`), as text.
    pub fingerprint: String,
    /// Its label, if it has one.
    pub label: Option<String>,
    /// File-system type, e.g. `ext4`.
    pub fs_type: String,
    /// Kind: `system`, `data`, `external`, `network` or `virtual`.
    pub kind: String,
    /// Removable (per sysfs) when last seen.
    pub removable: bool,
    /// Mounted read-only when last seen.
    pub read_only: bool,
    /// Capacity in bytes when last seen.
    pub capacity: u64,
    /// Where it was mounted last, exact bytes.
    pub last_mount_point: Vec<u8>,
    /// When it was last seen mounted, ms since the epoch.
    pub last_seen_ms: i64,
}

impl Record for VolumeRecord {
    const TABLE: &'static str = "volumes";
    const VERSION: u8 = 1;
}
