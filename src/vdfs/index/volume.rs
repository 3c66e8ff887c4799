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

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use crate::store::StoreError;
use crate::store::record::{decode_record, encode_record};
use crate::store::schema::VOLUMES;
use crate::vdfs::fs::volumes::Volume;

/// Records the mounted volume `v` as seen now by `device`: the record with the same
/// fingerprint is updated (last mount point, capacity, flags, last seen), else a new one is
/// made. Returns the record.
///
/// # Errors
/// [`StoreError`].
pub fn register(
    tx: &WriteTransaction,
    device: Uuid,
    v: &Volume,
    now_ms: i64,
) -> Result<VolumeRecord, StoreError> {
    let fingerprint = v.fingerprint.as_string();
    let mut t = tx.open_table(VOLUMES)?;
    let mut found = None;
    for row in t.iter()? {
        let rec: VolumeRecord = decode_record(row?.1.value())?;
        if rec.fingerprint == fingerprint {
            found = Some(rec);
            break;
        }
    }
    let rec = VolumeRecord {
        uuid: found.as_ref().map_or_else(Uuid::now_v7, |r| r.uuid),
        device,
        fingerprint,
        label: v.label.clone(),
        fs_type: v.fs_type.clone(),
        kind: v.kind.as_str().to_owned(),
        removable: v.removable,
        read_only: v.read_only,
        capacity: v.capacity.unwrap_or(0),
        last_mount_point: crate::vdfs::fs::entry::os_bytes(v.mount_point.as_os_str()).to_vec(),
        last_seen_ms: now_ms,
    };
    t.insert(rec.uuid.as_u128(), encode_record(&rec).as_slice())?;
    Ok(rec)
}

/// The volume record `uuid`.
///
/// # Errors
/// [`StoreError`].
pub fn get(tx: &ReadTransaction, uuid: Uuid) -> Result<Option<VolumeRecord>, StoreError> {
    tx.open_table(VOLUMES)?
        .get(uuid.as_u128())?
        .map(|v| decode_record(v.value()))
        .transpose()
}

/// Every volume the library knows.
///
/// # Errors
/// [`StoreError`].
pub fn list(tx: &ReadTransaction) -> Result<Vec<VolumeRecord>, StoreError> {
    let mut out = Vec::new();
    for row in tx.open_table(VOLUMES)?.iter()? {
        out.push(decode_record(row?.1.value())?);
    }
    Ok(out)
}

/// Registers every volume of `mounted` that holds a user's files (`Volume::is_drive`) and is
/// new or changed (mount point, capacity, flags, label) since its record, or was last seen
/// more than an hour ago; writes nothing when nothing changed. Returns how many records
/// were written.
///
/// # Errors
/// [`StoreError`].
pub fn register_changed(
    store: &crate::store::Store,
    device: Uuid,
    mounted: &[Volume],
) -> Result<usize, StoreError> {
    const STALE_MS: i64 = 60 * 60 * 1000;
    let now = crate::vdfs::jobs::now_ms();
    let known = store.read(list)?;
    let changed: Vec<Volume> = mounted
        .iter()
        .filter(|v| v.is_drive())
        .filter(|v| {
            let fp = v.fingerprint.as_string();
            match known.iter().find(|k| k.fingerprint == fp) {
                None => true,
                Some(k) => {
                    k.last_mount_point
                        != crate::vdfs::fs::entry::os_bytes(v.mount_point.as_os_str())
                        || k.capacity != v.capacity.unwrap_or(0)
                        || k.read_only != v.read_only
                        || k.removable != v.removable
                        || k.label != v.label
                        || k.device != device
                        || now - k.last_seen_ms > STALE_MS
                }
            }
        })
        .cloned()
        .collect();
    if changed.is_empty() {
        return Ok(0);
    }
    let n = changed.len();
    store.write(move |tx| {
        for v in &changed {
            register(tx, device, v, now)?;
        }
        Ok(())
    })?;
    Ok(n)
}
