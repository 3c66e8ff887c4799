//! Volumes: which mounted file system a path lives on, so a location can tell "the drive is
//! not mounted" (offline: keep every entry) from "the folder was deleted".
//!
//! On Linux the mount table is `/proc/self/mountinfo` (format: proc(5)); elsewhere only the
//! device id is known and the mount point is reported as the path's root.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file system a location lives on, as recorded when it was added.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VolumeInfo {
    /// Where it is mounted.
    pub mount_point: PathBuf,
    /// File-system type, e.g. `ext4`, `vfat`.
    pub fs_type: String,
    /// The mounted source, e.g. `/dev/sdb1`.
    pub source: String,
    /// `st_dev` of the location root when it was recorded.
    pub dev: u64,
}

/// One line of the mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Mount point.
    pub mount_point: PathBuf,
    /// File-system type.
    pub fs_type: String,
    /// Source device or name.
    pub source: String,
}

/// The current mount table (empty where it cannot be read).
pub fn mounts() -> Vec<Mount> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default()
}

/// Parses `/proc/self/mountinfo` text.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = unescape(left.split(' ').nth(4)?);
            let mut r = right.split(' ');
            let fs_type = r.next()?.to_owned();
            let source = unescape(r.next().unwrap_or(""));
            Some(Mount {
                mount_point: PathBuf::from(mount_point),
                fs_type,
                source,
            })
        })
        .collect()
}

/// Undoes mountinfo's octal escapes (`\040` is a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount that holds `path` (an absolute, canonical path): the longest matching mount
/// point.
pub fn mount_of<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| path.starts_with(&m.mount_point))
        .max_by_key(|m| m.mount_point.as_os_str().len())
}

/// Describes the volume of `path` now.
pub fn volume_of(path: &Path) -> VolumeInfo {
    let dev = std::fs::metadata(path)
        .map(|m| crate::vdfs::fs::entry::Meta::of(&m).dev)
        .unwrap_or(0);
    let all = mounts();
    match mount_of(&all, path) {
        Some(m) => VolumeInfo {
            mount_point: m.mount_point.clone(),
            fs_type: m.fs_type.clone(),
            source: m.source.clone(),
            dev,
        },
        None => VolumeInfo {
            mount_point: path
                .ancestors()
                .last()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            fs_type: String::new(),
            source: String::new(),
            dev,
        },
    }
}

/// True if something is mounted exactly at `mount_point`.
pub fn is_mounted(mount_point: &Path) -> bool {
    mounts().iter().any(|m| m.mount_point == mount_point)
}

/// A mounted, user-relevant volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Drive {
    /// Display name (the mount point's last component, or "Computer" for /).
    pub name: String,
    /// Mount point.
    pub mount_point: PathBuf,
    /// File-system type.
    pub fs_type: String,
    /// Free bytes.
    pub free: u64,
    /// Total bytes.
    pub total: u64,
}

/// File-system types that are never a person's drive.
/// True for a file system that holds no person's files (proc, sysfs, devtmpfs, cgroup …):
/// never a drive, never a location.
pub fn is_pseudo(fs_type: &str) -> bool {
    SYSTEM_FS.contains(&fs_type)
}

/// File systems of the system's own (kernel interfaces): never a drive, never a location.
const SYSTEM_FS: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "pstore",
    "bpf",
    "debugfs",
    "tracefs",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "binfmt_misc",
    "nsfs",
    "efivarfs",
    "rpc_pipefs",
];

/// Beside [`SYSTEM_FS`], file systems that can hold files but are not a person's drive in
/// the sidebar (tmpfs, container layers, snaps, automount points, the portal).
const NOT_A_DRIVE: &[&str] = &[
    "tmpfs",
    "autofs",
    "overlay",
    "squashfs",
    "ramfs",
    "fuse.portal",
];

/// Mounted volumes a person would browse: the root and anything under /home, /media, /mnt,
/// /run/media, that is not a pseudo file system.
pub fn drives() -> Vec<Drive> {
    let mut out: Vec<Drive> = mounts()
        .into_iter()
        .filter(|m| !is_pseudo(&m.fs_type) && !NOT_A_DRIVE.contains(&m.fs_type.as_str()))
        .filter(|m| {
            let p = &m.mount_point;
            p == Path::new("/")
                || ["/home", "/media", "/mnt", "/run/media", "/Volumes"]
                    .iter()
                    .any(|pre| p.starts_with(pre))
        })
        .map(|m| {
            let (free, total) = space_of(&m.mount_point).unwrap_or((0, 0));
            Drive {
                name: if m.mount_point == Path::new("/") {
                    "Computer".to_owned()
                } else {
                    m.mount_point.file_name().map_or_else(
                        || m.mount_point.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    )
                },
                mount_point: m.mount_point,
                fs_type: m.fs_type,
                free,
                total,
            }
        })
        .collect();
    out.dedup_by(|a, b| a.mount_point == b.mount_point);
    out
}

/// Free and total bytes of the file system holding `path`.
pub fn space_of(path: &Path) -> Option<(u64, u64)> {
    let s = rustix::fs::statvfs(path).ok()?;
    Some((s.f_bavail * s.f_frsize, s.f_blocks * s.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 1 252:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
35 22 0:30 / /proc rw,nosuid - proc proc rw
40 22 8:17 / /media/usb\\040stick rw,nosuid shared:5 - vfat /dev/sdb1 rw,uid=1000
";

    #[test]
    fn parses_mountinfo_with_escapes() {
        let m = parse_mountinfo(SAMPLE);
        assert_eq!(m.len(), 3);
        assert_eq!(m[2].mount_point, PathBuf::from("/media/usb stick"));
        assert_eq!(m[2].fs_type, "vfat");
        assert_eq!(m[2].source, "/dev/sdb1");
        let hit = mount_of(&m, Path::new("/media/usb stick/Photos")).unwrap();
        assert_eq!(hit.source, "/dev/sdb1");
        assert_eq!(mount_of(&m, Path::new("/home/me")).unwrap().fs_type, "ext4");
    }
}
