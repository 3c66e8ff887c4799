//! The mount table: which mounted file system a path lives on, so a location can tell "the
//! drive is not mounted" (offline: keep every entry) from "the folder was deleted"; the
//! system's own file systems (never a drive, never a location); free space.
//!
//! On Linux the mount table is `/proc/self/mountinfo` (format: proc(5)); elsewhere only the
//! device id is known and the mount point is reported as the path's root. The volumes built
//! from it (identity, kind, size) are [`super::volumes`].

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

/// One line of the mount table (`/proc/self/mountinfo`, proc(5)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mount {
    /// Mount point, exact bytes (octal escapes such as `\040` undone).
    pub mount_point: PathBuf,
    /// File-system type, e.g. `ext4`, `nfs4`, `fuse.sshfs`.
    pub fs_type: String,
    /// Source device or name, e.g. `/dev/sdb1`, `server:/export`, `tmpfs` (lossy UTF-8).
    pub source: String,
    /// The mount's id (field 1), unique while it is mounted.
    pub id: u32,
    /// The id of the mount it sits on (field 2).
    pub parent: u32,
    /// Major and minor number of the file system's device (field 3): the same pair on two
    /// lines is the same file system mounted twice (a bind mount). A runtime value only: it
    /// can change at the next boot or plug-in.
    pub dev: (u32, u32),
    /// The folder of the file system that is mounted (field 4): `/` for the whole file
    /// system, another path for a bind mount of a folder.
    pub root: PathBuf,
    /// Per-mount options (field 6), e.g. `rw,nosuid,relatime`.
    pub options: String,
    /// Per-file-system (super block) options, the last field, e.g. `rw,errors=remount-ro`.
    pub super_options: String,
}

impl Mount {
    /// True if this mount or its whole file system is read-only (option `ro`).
    pub fn read_only(&self) -> bool {
        [&self.options, &self.super_options]
            .iter()
            .any(|o| o.split(',').any(|x| x == "ro"))
    }
}

/// The current mount table (empty where it cannot be read).
pub fn mounts() -> Vec<Mount> {
    std::fs::read("/proc/self/mountinfo")
        .map(parse_mountinfo)
        .unwrap_or_default()
}

/// Parses `/proc/self/mountinfo` text (bytes: a mount point need not be UTF-8). Lines that
/// do not have the documented shape are skipped.
pub fn parse_mountinfo(text: impl AsRef<[u8]>) -> Vec<Mount> {
    text.as_ref()
        .split(|&b| b == b'\n')
        .filter_map(parse_line)
        .collect()
}

/// One line: `id parent major:minor root mount-point options [optional fields…] - type
/// source super-options`.
fn parse_line(line: &[u8]) -> Option<Mount> {
    let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let next_text = |f: &mut dyn Iterator<Item = &[u8]>| {
        f.next()
            .map(|t| String::from_utf8_lossy(&unescape(t)).into_owned())
    };
    let id = next_text(&mut fields)?.parse().ok()?;
    let parent = next_text(&mut fields)?.parse().ok()?;
    let dev = next_text(&mut fields)?;
    let (major, minor) = dev.split_once(':')?;
    let dev = (major.parse().ok()?, minor.parse().ok()?);
    let root = path_of(fields.next()?);
    let mount_point = path_of(fields.next()?);
    let options = next_text(&mut fields)?;
    // Optional fields (`shared:1`, `master:2` …) up to the separator.
    fields.by_ref().find(|f| *f == b"-")?;
    let fs_type = next_text(&mut fields)?;
    let source = next_text(&mut fields).unwrap_or_default();
    let super_options = next_text(&mut fields).unwrap_or_default();
    Some(Mount {
        mount_point,
        fs_type,
        source,
        id,
        parent,
        dev,
        root,
        options,
        super_options,
    })
}

fn path_of(field: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(unescape(field)))
}

/// Undoes mountinfo's octal escapes (`\040` is a space, `\134` a backslash).
fn unescape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && (b'0'..=b'3').contains(&b[i + 1])
            && b[i + 2..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
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
        // Stored as text (a stored path must be UTF-8), as it always was.
        Some(m) => VolumeInfo {
            mount_point: PathBuf::from(m.mount_point.to_string_lossy().into_owned()),
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

/// True if something is mounted exactly at `mount_point` (compared as text, as
/// [`VolumeInfo::mount_point`] is stored).
pub fn is_mounted(mount_point: &Path) -> bool {
    let want = mount_point.to_string_lossy();
    mounts()
        .iter()
        .any(|m| m.mount_point.to_string_lossy() == want)
}

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

/// Free and total bytes of the file system holding `path`.
pub fn space_of(path: &Path) -> Option<(u64, u64)> {
    let s = rustix::fs::statvfs(path).ok()?;
    Some((
        s.f_bavail.saturating_mul(s.f_frsize),
        s.f_blocks.saturating_mul(s.f_frsize),
    ))
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
        assert_eq!((m[2].id, m[2].parent, m[2].dev), (40, 22, (8, 17)));
        assert_eq!(m[2].root, PathBuf::from("/"));
        assert_eq!(m[2].options, "rw,nosuid");
        assert_eq!(m[2].super_options, "rw,uid=1000");
        assert!(!m[2].read_only());
    }

    #[test]
    fn mount_points_keep_their_exact_bytes() {
        use std::os::unix::ffi::OsStrExt;
        // A backslash (\134), a tab (\011), a newline (\012), Latin-1 bytes (not UTF-8), an
        // escape too large for a byte (kept as it is), optional fields, a read-only mount.
        let text = b"50 22 0:50 /sub /mnt/a\\134b\\011c\\012d\xe9\\777 ro,relatime shared:9 master:2 - ext4 /dev/sdc1 rw\n";
        let m = parse_mountinfo(&text[..]);
        assert_eq!(m.len(), 1);
        assert_eq!(
            m[0].mount_point.as_os_str().as_bytes(),
            b"/mnt/a\\b\tc\nd\xe9\\777"
        );
        assert_eq!(m[0].root, PathBuf::from("/sub"));
        assert!(m[0].read_only());
        assert_eq!(m[0].source, "/dev/sdc1");
        // A truncated or malformed line is skipped, not guessed at.
        assert!(parse_mountinfo("1 2 3\nx y 8:1 / / rw - ext4 /dev/a rw\n").is_empty());
    }
}
