//! Volumes: the mounted file systems, each with an identity that outlives its mount point and
//! its device number.
//!
//! A [`Volume`] is one file system as it is mounted now: where (one mount point, or several
//! for a bind mount), from what, how large, which [`VolumeKind`], and its
//! [`VolumeFingerprint`] — what recognises the same disk tomorrow, under another mount point
//! or another `/dev/sdX` name. `st_dev` is kept only as a hint for this boot: it changes
//! across reboots and re-plugs, so it is never an identity.
//!
//! Detection (Linux) reads, and only reads:
//! - `/proc/self/mountinfo` (proc(5)) — the mounts, their device numbers and options;
//! - the links udev makes in `/dev/disk/by-uuid` and `/dev/disk/by-label` — the file-system
//!   UUID and label of a device (no raw device is ever opened);
//! - `/sys/class/block/<name>` — the `removable` flag, the bus (USB), the disks under a
//!   device-mapper device;
//! - `statvfs` of each mount point — capacity and free space (with a time limit on network
//!   and FUSE file systems, which can hang).
//!
//! It never creates, writes or deletes anything — no probe file in anyone's folder.
//! [`detect_from`] takes the mountinfo text and a root folder standing for `/`, so the tests
//! run it over fixtures.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::vdfs::fs::mounts::{self, Mount};

/// A mounted file system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// What recognises this file system across reboots, re-plugs and mount points.
    pub fingerprint: VolumeFingerprint,
    /// The file-system label (from `/dev/disk/by-label`), e.g. `My Stick`; `None` when it
    /// has none or it is not a block device.
    pub label: Option<String>,
    /// The file-system UUID (the name of its `/dev/disk/by-uuid` link), e.g.
    /// `3f0c…-…` (ext4, btrfs) or `1A2B-3C4D` (FAT); `None` when udev knows none.
    pub uuid: Option<String>,
    /// The primary mount point: the first mount of the whole file system (else the first
    /// mount of a folder of it). Exact bytes; JSON gets lossy UTF-8.
    #[serde(serialize_with = "crate::format::lossy_path")]
    pub mount_point: PathBuf,
    /// Its other mount points (bind mounts, other btrfs subvolumes), in mount order.
    #[serde(serialize_with = "crate::format::lossy_paths")]
    pub other_mount_points: Vec<PathBuf>,
    /// The mount's source as the mount table gives it: `/dev/sdb1`, `/dev/mapper/x`,
    /// `server:/export`, `tmpfs`.
    pub source: String,
    /// The block device behind it, links followed (`/dev/mapper/x` → `/dev/dm-0`); `None`
    /// for network and virtual file systems.
    #[serde(serialize_with = "crate::format::lossy_opt_path")]
    pub device: Option<PathBuf>,
    /// File-system type, e.g. `ext4`, `vfat`, `nfs4`, `fuse.sshfs`, `tmpfs`.
    pub fs_type: String,
    /// What it is for, see [`VolumeKind`].
    pub kind: VolumeKind,
    /// Its disk is removable (sysfs `removable` is 1) or attached by USB, itself or, for a
    /// device-mapper device (LUKS, LVM), a disk under it.
    pub removable: bool,
    /// Mounted read-only (mount option `ro` on the mount or the whole file system).
    pub read_only: bool,
    /// Size in bytes (statvfs `f_blocks × f_frsize`); `None` when it could not be read in
    /// time.
    pub capacity: Option<u64>,
    /// Bytes free for an unprivileged user (statvfs `f_bavail × f_frsize`); `None` when it
    /// could not be read in time.
    pub free: Option<u64>,
    /// The device number (`st_dev`, from the mount table's `major:minor`) in this boot only —
    /// a hint for matching a file's `st_dev` now, never an identity. (A file on a btrfs
    /// subvolume reports its subvolume's own number.)
    pub st_dev: u64,
}

impl Volume {
    /// The name to show: the label, else the mount point's last component, else `Computer`
    /// for `/`.
    pub fn name(&self) -> String {
        if let Some(l) = self.label.as_ref().filter(|l| !l.is_empty()) {
            return l.clone();
        }
        match self.mount_point.file_name() {
            Some(n) => n.to_string_lossy().into_owned(),
            None => "Computer".to_owned(),
        }
    }

    /// True for a drive a person browses (the window's sidebar lists these): the root file
    /// system, and every data, external and network volume — not `/boot`, tmpfs, snaps or
    /// container layers.
    pub fn is_drive(&self) -> bool {
        self.mount_point == Path::new("/")
            || matches!(
                self.kind,
                VolumeKind::Data | VolumeKind::External | VolumeKind::Network
            )
    }

    /// Every mount point, the primary first.
    pub fn mount_points(&self) -> impl Iterator<Item = &Path> {
        std::iter::once(self.mount_point.as_path())
            .chain(self.other_mount_points.iter().map(PathBuf::as_path))
    }
}

/// What a volume is for. Decided in this order: the root file system is `System`; then by
/// file-system type (`Network`, `Virtual`, also anything on a loop device); then by mount
/// point (`System` under `/boot`, `/usr`, `/var` …); then `External` if removable or mounted
/// under `/media`, `/run/media` or `/mnt`; else `Data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VolumeKind {
    /// The operating system's own: `/`, `/boot`, `/boot/efi`, `/usr`, `/var` ….
    System,
    /// A fixed disk with the person's data (`/home`, `/data` …).
    Data,
    /// A removable or plugged-in disk (USB stick, SD card, external drive).
    External,
    /// A file system on another machine (NFS, SMB/CIFS, SSHFS, 9p, virtiofs …).
    Network,
    /// In memory or made of images (tmpfs, overlay, squashfs, a loop device …).
    Virtual,
}

impl VolumeKind {
    /// Lower-case name, as in JSON: `system`, `data`, `external`, `network`, `virtual`.
    pub fn as_str(self) -> &'static str {
        match self {
            VolumeKind::System => "system",
            VolumeKind::Data => "data",
            VolumeKind::External => "external",
            VolumeKind::Network => "network",
            VolumeKind::Virtual => "virtual",
        }
    }
}

/// What identifies a file system across reboots, re-plugs and mount points, from the
/// strongest evidence available. Never `st_dev`.
///
/// Stored records may hold it (postcard: the variant order is part of the format — append
/// new variants at the end). [`Display`](std::fmt::Display) (and [`as_string`]) gives a
/// stable text form such as `uuid:3f0c…` or `src:nfs4:nas:/export`.
///
/// [`as_string`]: VolumeFingerprint::as_string
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeFingerprint {
    /// The file-system UUID, as udev names it in `/dev/disk/by-uuid` (lower-case hex with
    /// dashes for ext4/btrfs/xfs, `XXXX-XXXX` for FAT, 16 hex digits for NTFS). Unique
    /// unless a disk was cloned.
    Uuid(String),
    /// No UUID, but a label: type and label (two sticks labelled alike collide).
    Label {
        /// File-system type.
        fs_type: String,
        /// Its label.
        label: String,
    },
    /// A block device with neither UUID nor label known: type and device path (weak: a
    /// device name such as `/dev/sdb1` can change at the next plug-in).
    Device {
        /// File-system type.
        fs_type: String,
        /// Device path, links followed, e.g. `/dev/vda`.
        device: String,
    },
    /// A network file system, or another one named by its source (a ZFS dataset): type
    /// and source, e.g. `nfs4` and `nas.local:/export/media`.
    Source {
        /// File-system type.
        fs_type: String,
        /// Source as the mount table gives it.
        source: String,
    },
    /// A virtual file system (tmpfs, overlay …), whose source names no one thing: type,
    /// source and mount point. Such a volume is new at each boot anyway.
    Mounted {
        /// File-system type.
        fs_type: String,
        /// Source as the mount table gives it.
        source: String,
        /// Mount point (lossy UTF-8).
        mount_point: String,
    },
}

impl VolumeFingerprint {
    /// The stable text form: `uuid:<uuid>`, `label:<type>:<label>`, `dev:<type>:<device>`,
    /// `src:<type>:<source>` (network and other source-named file systems) or
    /// `mount:<type>:<source>:<mount point>`.
    pub fn as_string(&self) -> String {
        self.to_string()
    }

    /// True when it names one file system for good: a UUID, or a network source. False for
    /// a label (may be shared), a device path (may be reassigned) or a virtual mount.
    pub fn is_strong(&self) -> bool {
        matches!(
            self,
            VolumeFingerprint::Uuid(_) | VolumeFingerprint::Source { .. }
        )
    }
}

impl std::fmt::Display for VolumeFingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VolumeFingerprint::Uuid(u) => write!(f, "uuid:{u}"),
            VolumeFingerprint::Label { fs_type, label } => write!(f, "label:{fs_type}:{label}"),
            VolumeFingerprint::Device { fs_type, device } => write!(f, "dev:{fs_type}:{device}"),
            VolumeFingerprint::Source { fs_type, source } => write!(f, "src:{fs_type}:{source}"),
            VolumeFingerprint::Mounted {
                fs_type,
                source,
                mount_point,
            } => write!(f, "mount:{fs_type}:{source}:{mount_point}"),
        }
    }
}

/// Reads the file-system UUID (formatted as udev does in `/dev/disk/by-uuid`) and label from
/// the superblock of `device`, for the file systems whose layout is documented and stable:
/// ext2/3/4 (superblock at 1024: magic `0xEF53` at +0x38, UUID at +0x68, label at +0x78),
/// btrfs (superblock at 64 KiB: magic `_BHRfS_M` at +0x40, fsid at +0x20, label at +0x12B),
/// XFS (magic `XFSB` at 0, UUID at 32, label at 108), FAT32/FAT16 (volume serial at 0x43 /
/// 0x27), exFAT (serial at 0x64) and NTFS (serial at 0x48). `None` if the device cannot be
/// opened (not root), read, or is none of these. Opens read-only and non-blocking, reads at
/// most 68 KiB, writes nothing.
pub fn superblock_ids(device: &Path, fs_type: &str) -> Option<(String, Option<String>)> {
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(device)
        .ok()?;
    if !f.metadata().ok()?.file_type().is_block_device_like() {
        return None;
    }
    let read = |off: u64, len: usize| -> Option<Vec<u8>> {
        let mut buf = vec![0u8; len];
        f.read_exact_at(&mut buf, off).ok()?;
        Some(buf)
    };
    let uuid_text = |b: &[u8]| -> Option<String> {
        if b.iter().all(|&x| x == 0) {
            return None;
        }
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Some(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ))
    };
    let label_text = |b: &[u8]| -> Option<String> {
        let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
        let l = String::from_utf8_lossy(&b[..end]).trim().to_owned();
        (!l.is_empty()).then_some(l)
    };
    let serial32 = |b: &[u8]| -> Option<String> {
        (b.iter().any(|&x| x != 0))
            .then(|| format!("{:02X}{:02X}-{:02X}{:02X}", b[3], b[2], b[1], b[0]))
    };
    match fs_type {
        "ext2" | "ext3" | "ext4" => {
            let sb = read(1024, 0x88)?;
            (sb[0x38..0x3A] == [0x53, 0xEF])
                .then(|| Some((uuid_text(&sb[0x68..0x78])?, label_text(&sb[0x78..0x88]))))?
        }
        "btrfs" => {
            let sb = read(0x10000, 0x22B)?;
            (&sb[0x40..0x48] == b"_BHRfS_M")
                .then(|| Some((uuid_text(&sb[0x20..0x30])?, label_text(&sb[0x12B..0x22B]))))?
        }
        "xfs" => {
            let sb = read(0, 120)?;
            (&sb[0..4] == b"XFSB")
                .then(|| Some((uuid_text(&sb[32..48])?, label_text(&sb[108..120]))))?
        }
        "vfat" | "msdos" => {
            let bs = read(0, 512)?;
            if &bs[0x52..0x57] == b"FAT32" {
                Some((
                    serial32(&bs[0x43..0x47])?,
                    label_text(&bs[0x47..0x52]).filter(|l| l != "NO NAME"),
                ))
            } else {
                Some((
                    serial32(&bs[0x27..0x2B])?,
                    label_text(&bs[0x2B..0x36]).filter(|l| l != "NO NAME"),
                ))
            }
        }
        "exfat" => {
            let bs = read(0, 512)?;
            (&bs[3..11] == b"EXFAT   ").then(|| Some((serial32(&bs[0x64..0x68])?, None)))?
        }
        "ntfs" | "ntfs3" | "fuseblk" => {
            let bs = read(0, 512)?;
            (&bs[3..11] == b"NTFS    ").then(|| {
                let serial: String = bs[0x48..0x50]
                    .iter()
                    .rev()
                    .map(|x| format!("{x:02X}"))
                    .collect();
                (serial != "0000000000000000").then_some((serial, None))
            })?
        }
        _ => None,
    }
}

/// Block devices, and regular files standing in for them in tests.
trait BlockDeviceLike {
    fn is_block_device_like(&self) -> bool;
}

impl BlockDeviceLike for std::fs::FileType {
    fn is_block_device_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_block_device() || self.is_file()
    }
}

/// The volumes mounted now, in mount order, on this machine (empty where the mount table
/// cannot be read). Reads only; see the module documentation. May take up to a second per
/// unresponsive network mount: call it off the UI thread.
pub fn detect() -> Vec<Volume> {
    let text = std::fs::read("/proc/self/mountinfo").unwrap_or_default();
    detect_from(&text, Path::new("/"), &|m: &Mount, may_hang: bool| {
        space_within(&m.mount_point, may_hang)
    })
}

/// The volume holding `path` now: the one with the longest mount point that is a prefix of
/// it (components compared; symbolic links in `path` are not resolved — pass a canonical
/// path). `None` if no volume holds it (a path under `/proc`, or no mount table).
pub fn volume_of(path: &Path) -> Option<Volume> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    volume_containing(&detect(), &path).cloned()
}

/// Among `volumes`, the one holding `path` (the longest matching mount point, primary or
/// not).
pub fn volume_containing<'a>(volumes: &'a [Volume], path: &Path) -> Option<&'a Volume> {
    volumes
        .iter()
        .flat_map(|v| v.mount_points().map(move |m| (v, m)))
        .filter(|(_, m)| path.starts_with(m))
        .max_by_key(|(_, m)| m.as_os_str().len())
        .map(|(v, _)| v)
}

/// Free and total bytes of a mount, given the mount and whether reading it may hang
/// (network and FUSE file systems).
pub type SpaceOf<'a> = dyn Fn(&Mount, bool) -> Option<(u64, u64)> + 'a;

/// [`detect`] over the mountinfo text `mountinfo`, with `root` standing for `/` when
/// reading `/dev/disk/…` and `/sys/class/block/…` (a fixture folder in tests), and `space`
/// giving free and total bytes of a mount.
///
/// Pseudo file systems ([`mounts::is_pseudo`]) and automount points are left out; a mount
/// hidden by a later one at the same mount point is left out; mounts of one file system
/// (same `major:minor`) are one volume.
pub fn detect_from(mountinfo: &[u8], root: &Path, space: &SpaceOf<'_>) -> Vec<Volume> {
    let all = mounts::parse_mountinfo(mountinfo);
    let ids = DiskIds::read(root);
    // Only the top mount at each mount point can be reached.
    let visible: Vec<&Mount> = all
        .iter()
        .enumerate()
        .filter(|(i, m)| !all[i + 1..].iter().any(|n| n.mount_point == m.mount_point))
        .map(|(_, m)| m)
        .filter(|m| !mounts::is_pseudo(&m.fs_type) && m.fs_type != "autofs")
        .collect();
    let mut groups: Vec<Vec<&Mount>> = Vec::new();
    for m in visible {
        match groups.iter_mut().find(|g| g[0].dev == m.dev) {
            Some(g) => g.push(m),
            None => groups.push(vec![m]),
        }
    }
    groups
        .into_iter()
        .map(|g| volume(&g, root, &ids, space))
        .collect()
}

/// One volume from the mounts of one file system (at least one, in mount order).
fn volume(group: &[&Mount], root: &Path, ids: &DiskIds, space: &SpaceOf<'_>) -> Volume {
    let primary = group
        .iter()
        .find(|m| m.root == Path::new("/"))
        .unwrap_or(&group[0]);
    let others = group
        .iter()
        .filter(|m| !std::ptr::eq(**m, *primary))
        .map(|m| m.mount_point.clone())
        .collect();
    let fs_type = primary.fs_type.clone();
    let network = is_network(&fs_type);
    // The block device: the source with its links followed, else the device with the
    // mount's numbers (a source such as `/dev/root` names no file).
    let mut device = None;
    if !network && primary.source.starts_with('/') {
        let d = resolve(root, Path::new(&primary.source));
        if d.starts_with("/dev") && d != Path::new("/dev") {
            device = Some(d);
        }
    }
    let (uuid, label) = match &device {
        Some(d) => {
            let by_path = (ids.uuid_of(d), ids.label_of(d));
            if by_path == (None, None) && primary.dev.0 != 0 {
                if let Some(real) = ids.device_numbered(primary.dev) {
                    device = Some(real.to_owned());
                }
                (ids.uuid_of_dev(primary.dev), ids.label_of_dev(primary.dev))
            } else {
                by_path
            }
        }
        None => (None, None),
    };
    // No udev names (a container, a minimal system): read the identity from the file
    // system's own superblock where this user may read the device (blkid does the same).
    let (uuid, label) = match (&uuid, &label, &device) {
        (None, _, Some(d)) => {
            match superblock_ids(&root.join(d.strip_prefix("/").unwrap_or(d)), &fs_type) {
                Some((u, l)) => (Some(u), label.or(l)),
                None => (uuid, label),
            }
        }
        _ => (uuid, label),
    };
    let removable = device
        .as_deref()
        .and_then(|d| d.file_name())
        .is_some_and(|n| is_removable(root, &n.to_string_lossy(), 0));
    let kind = classify(&primary.mount_point, &fs_type, device.as_deref(), removable);
    let fingerprint = match (&uuid, &label, &device) {
        (Some(u), _, _) => VolumeFingerprint::Uuid(u.clone()),
        (None, Some(l), _) => VolumeFingerprint::Label {
            fs_type: fs_type.clone(),
            label: l.clone(),
        },
        (None, None, Some(d)) => VolumeFingerprint::Device {
            fs_type: fs_type.clone(),
            device: d.to_string_lossy().into_owned(),
        },
        (None, None, None) if kind == VolumeKind::Virtual => VolumeFingerprint::Mounted {
            fs_type: fs_type.clone(),
            source: primary.source.clone(),
            mount_point: primary.mount_point.to_string_lossy().into_owned(),
        },
        (None, None, None) => VolumeFingerprint::Source {
            fs_type: fs_type.clone(),
            source: primary.source.clone(),
        },
    };
    let may_hang = network || fs_type.starts_with("fuse");
    let (free, capacity) = space(primary, may_hang).unzip();
    Volume {
        fingerprint,
        label,
        uuid,
        mount_point: primary.mount_point.clone(),
        other_mount_points: others,
        source: primary.source.clone(),
        device,
        fs_type,
        kind,
        removable,
        read_only: primary.read_only(),
        capacity,
        free,
        st_dev: rustix::fs::makedev(primary.dev.0, primary.dev.1),
    }
}

/// File systems reached over a network (or from a VM's host).
const NETWORK_FS: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "ncpfs",
    "afs",
    "ceph",
    "glusterfs",
    "lustre",
    "9p",
    "virtiofs",
    "davfs",
    "sshfs",
    "fuse.sshfs",
    "fuse.rclone",
    "fuse.s3fs",
    "fuse.gcsfuse",
    "fuse.glusterfs",
    "fuse.curlftpfs",
    "fuse.davfs2",
];

/// File systems in memory, made of images or layers, or gateways to other things.
const VIRTUAL_FS: &[&str] = &[
    "tmpfs",
    "ramfs",
    "overlay",
    "aufs",
    "squashfs",
    "erofs",
    "fuse.portal",
    "fuse.gvfsd-fuse",
    "fuse.snapfuse",
    "fuse.lxcfs",
];

/// Mount points (and everything below them) of the operating system's own file systems.
const SYSTEM_DIRS: &[&str] = &[
    "/boot",
    "/efi",
    "/usr",
    "/var",
    "/etc",
    "/opt",
    "/nix",
    "/gnu",
    "/sysroot",
    "/recovery",
];

/// Where desktops mount plugged-in disks (and where people mount other disks by hand).
const EXTERNAL_DIRS: &[&str] = &["/media", "/run/media", "/mnt"];

/// True for a network file system type.
pub fn is_network(fs_type: &str) -> bool {
    NETWORK_FS.contains(&fs_type)
}

/// The kind of a volume mounted at `mount_point`, of type `fs_type`, on block device
/// `device`, removable or not. The order of the rules is given on [`VolumeKind`].
pub fn classify(
    mount_point: &Path,
    fs_type: &str,
    device: Option<&Path>,
    removable: bool,
) -> VolumeKind {
    let on_loop = device
        .and_then(Path::file_name)
        .is_some_and(|n| n.to_string_lossy().starts_with("loop"));
    if mount_point == Path::new("/") {
        VolumeKind::System
    } else if is_network(fs_type) {
        VolumeKind::Network
    } else if VIRTUAL_FS.contains(&fs_type) || on_loop {
        VolumeKind::Virtual
    } else if SYSTEM_DIRS.iter().any(|d| mount_point.starts_with(d)) {
        VolumeKind::System
    } else if removable || EXTERNAL_DIRS.iter().any(|d| mount_point.starts_with(d)) {
        VolumeKind::External
    } else {
        VolumeKind::Data
    }
}

/// `abs` (an absolute path) under `root`.
fn host(root: &Path, abs: &Path) -> PathBuf {
    root.join(abs.strip_prefix("/").unwrap_or(abs))
}

/// `abs` with its last component's symbolic links followed inside `root` (at most 16
/// hops; an absolute target is taken relative to `root`), normalised lexically. Reads
/// links only.
fn resolve(root: &Path, abs: &Path) -> PathBuf {
    let mut p = normalise(abs);
    for _ in 0..16 {
        let Ok(target) = std::fs::read_link(host(root, &p)) else {
            break;
        };
        p = normalise(&p.parent().unwrap_or(Path::new("/")).join(target));
    }
    p
}

/// `.` and `..` removed without touching the disk (`/..` is `/`).
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// The links in `/dev/disk/by-uuid` and `/dev/disk/by-label`: name → device.
#[derive(Debug, Default)]
struct DiskIds {
    uuids: Vec<DiskId>,
    labels: Vec<DiskId>,
}

#[derive(Debug)]
struct DiskId {
    /// The link's name (a label decoded from udev's `\xNN` escapes).
    name: String,
    /// The device it points to, e.g. `/dev/sdb1`.
    device: PathBuf,
    /// That device's `major:minor`, if it is a block device.
    numbers: Option<(u32, u32)>,
}

impl DiskIds {
    fn read(root: &Path) -> DiskIds {
        DiskIds {
            uuids: Self::links(root, "/dev/disk/by-uuid"),
            labels: Self::links(root, "/dev/disk/by-label"),
        }
    }

    fn links(root: &Path, dir: &str) -> Vec<DiskId> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let Ok(entries) = std::fs::read_dir(host(root, Path::new(dir))) else {
            return Vec::new();
        };
        let mut out: Vec<DiskId> = entries
            .filter_map(Result::ok)
            .map(|e| {
                let link = Path::new(dir).join(e.file_name());
                let device = resolve(root, &link);
                let numbers = std::fs::metadata(host(root, &device))
                    .ok()
                    .filter(|m| m.file_type().is_block_device())
                    .map(|m| (rustix::fs::major(m.rdev()), rustix::fs::minor(m.rdev())));
                DiskId {
                    name: udev_unescape(&e.file_name().to_string_lossy()),
                    device,
                    numbers,
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    fn uuid_of(&self, device: &Path) -> Option<String> {
        Self::find(&self.uuids, |d| d.device == device)
    }

    fn label_of(&self, device: &Path) -> Option<String> {
        Self::find(&self.labels, |d| d.device == device)
    }

    fn uuid_of_dev(&self, dev: (u32, u32)) -> Option<String> {
        Self::find(&self.uuids, |d| d.numbers == Some(dev))
    }

    fn label_of_dev(&self, dev: (u32, u32)) -> Option<String> {
        Self::find(&self.labels, |d| d.numbers == Some(dev))
    }

    /// The device path of the block device numbered `dev`, among those with a link.
    fn device_numbered(&self, dev: (u32, u32)) -> Option<&Path> {
        self.uuids
            .iter()
            .chain(&self.labels)
            .find(|d| d.numbers == Some(dev))
            .map(|d| d.device.as_path())
    }

    fn find(list: &[DiskId], f: impl Fn(&DiskId) -> bool) -> Option<String> {
        list.iter().find(|d| f(d)).map(|d| d.name.clone())
    }
}

/// Undoes udev's escapes in `/dev/disk/by-label` names (`\x20` is a space, `\x2f` a slash).
fn udev_unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 2..i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(v) if b[i] == b'\\' && b[i + 1] == b'x' => {
                out.push(v);
                i += 4;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True if the block device `name` (`sdb1`, `dm-0` …) is on a removable or USB disk, per
/// sysfs under `root`: its disk's `removable` attribute, a `usbN` in its device path, or for
/// a device-mapper device one of the devices under it (`slaves/`, at most 4 levels deep).
fn is_removable(root: &Path, name: &str, depth: u32) -> bool {
    let sys = host(root, Path::new("/sys"));
    let sys = std::fs::canonicalize(&sys).unwrap_or(sys);
    let Ok(dir) = std::fs::canonicalize(host(root, Path::new("/sys/class/block")).join(name))
    else {
        return false;
    };
    let on_usb = dir.strip_prefix(&sys).is_ok_and(|rel| {
        rel.components().any(|c| {
            let c = c.as_os_str().to_string_lossy();
            c.strip_prefix("usb")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    });
    // A partition's `removable` is its disk's, one folder up.
    let disk = if dir.join("partition").exists() {
        dir.parent().unwrap_or(&dir)
    } else {
        &dir
    };
    let flagged = std::fs::read_to_string(disk.join("removable")).is_ok_and(|t| t.trim() == "1");
    if on_usb || flagged {
        return true;
    }
    depth < 4
        && std::fs::read_dir(dir.join("slaves")).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| is_removable(root, &e.file_name().to_string_lossy(), depth + 1))
        })
}

/// How long a network or FUSE mount may take to answer `statvfs`.
const SPACE_TIMEOUT: Duration = Duration::from_secs(1);

/// Free and total bytes of the file system at `path`; when it `may_hang`, asked on another
/// thread and given up after [`SPACE_TIMEOUT`]. A mount whose earlier call has not
/// returned yet is not asked again (so a dead server holds one thread, not one per call).
fn space_within(path: &Path, may_hang: bool) -> Option<(u64, u64)> {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static WAITING: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    if !may_hang {
        return mounts::space_of(path);
    }
    let waiting = || {
        WAITING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if !waiting().insert(path.to_owned()) {
        return None;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.to_owned();
    let spawned = std::thread::Builder::new()
        .name("cairn-statvfs".into())
        .spawn(move || {
            let r = mounts::space_of(&p);
            waiting().remove(&p);
            let _ = tx.send(r);
        });
    if spawned.is_err() {
        waiting().remove(path);
        return None;
    }
    rx.recv_timeout(SPACE_TIMEOUT).ok().flatten()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    /// A fixture `/`: device files, udev's links and sysfs folders, as a real system lays
    /// them out (only the parts detection reads).
    struct Fixture {
        dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Fixture {
            let f = Fixture {
                dir: tempfile::tempdir().unwrap(),
            };
            for d in ["sda1", "sda2", "sdb1", "sdc1", "dm-0", "loop0", "sr0"] {
                f.file(&format!("dev/{d}"), "");
            }
            f.link("dev/mapper/vault", "../dm-0");
            f.link(
                "dev/disk/by-uuid/0f1e2d3c-aaaa-bbbb-cccc-000000000001",
                "../../sda1",
            );
            f.link("dev/disk/by-uuid/ABCD-1234", "../../sda2");
            f.link("dev/disk/by-uuid/1A2B-3C4D", "../../sdb1");
            f.link(
                "dev/disk/by-uuid/77777777-dead-beef-0000-000000000007",
                "../../dm-0",
            );
            f.link("dev/disk/by-label/My\\x20Stick", "../../sdb1");
            f.link("dev/disk/by-label/AUDIO_CD", "../../sr0");
            // sda: a SATA disk; sdb and sdc: USB disks (sdc with removable 0, as USB hard
            // disks report); dm-0: LUKS on sdc1.
            let sata = "devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda";
            let usb_b = "devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/block/sdb";
            let usb_c = "devices/pci0000:00/0000:00:14.0/usb2/2-2/2-2:1.0/host7/block/sdc";
            f.file(&format!("sys/{sata}/removable"), "0\n");
            for p in ["sda1", "sda2"] {
                f.file(&format!("sys/{sata}/{p}/partition"), "1\n");
                f.link(
                    &format!("sys/class/block/{p}"),
                    &format!("../../{sata}/{p}"),
                );
            }
            f.file(&format!("sys/{usb_b}/removable"), "1\n");
            f.file(&format!("sys/{usb_b}/sdb1/partition"), "1\n");
            f.link("sys/class/block/sdb1", &format!("../../{usb_b}/sdb1"));
            f.file(&format!("sys/{usb_c}/removable"), "0\n");
            f.file(&format!("sys/{usb_c}/sdc1/partition"), "1\n");
            f.link("sys/class/block/sdc1", &format!("../../{usb_c}/sdc1"));
            f.file("sys/devices/virtual/block/dm-0/removable", "0\n");
            f.link(
                "sys/devices/virtual/block/dm-0/slaves/sdc1",
                &format!("../../../../{usb_c}/sdc1"),
            );
            f.link("sys/class/block/dm-0", "../../devices/virtual/block/dm-0");
            f.file("sys/devices/virtual/block/loop0/removable", "0\n");
            f.link("sys/class/block/loop0", "../../devices/virtual/block/loop0");
            f
        }

        fn root(&self) -> &Path {
            self.dir.path()
        }

        fn file(&self, rel: &str, text: &str) {
            let p = self.root().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }

        fn link(&self, rel: &str, target: &str) {
            let p = self.root().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            symlink(target, p).unwrap();
        }

        fn detect(&self, mountinfo: &str) -> Vec<Volume> {
            detect_from(mountinfo.as_bytes(), self.root(), &|m: &Mount, _| {
                Some((m.id as u64, 1000))
            })
        }

        /// Every path below the root with its kind, size and mtime.
        fn snapshot(&self) -> Vec<(PathBuf, String)> {
            fn walk(d: &Path, out: &mut Vec<(PathBuf, String)>) {
                for e in std::fs::read_dir(d).unwrap() {
                    let e = e.unwrap();
                    let m = std::fs::symlink_metadata(e.path()).unwrap();
                    out.push((
                        e.path(),
                        format!("{:?} {} {:?}", m.file_type(), m.len(), m.modified().ok()),
                    ));
                    if m.is_dir() {
                        walk(&e.path(), out);
                    }
                }
            }
            let mut out = Vec::new();
            walk(self.root(), &mut out);
            out.sort();
            out
        }
    }

    const MOUNTINFO: &str = "\
20 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
21 20 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
22 20 0:22 / /sys rw,nosuid shared:6 - sysfs sysfs rw
23 20 8:2 / /boot/efi rw,relatime shared:7 - vfat /dev/sda2 rw,fmask=0077
24 20 8:17 / /media/me/My\\040Stick rw,nosuid,nodev shared:8 - vfat /dev/sdb1 rw,uid=1000
25 20 8:17 /Photos /home/me/Photos rw,nosuid,nodev shared:8 - vfat /dev/sdb1 rw,uid=1000
26 20 0:40 / /mnt/nas rw,relatime shared:9 - nfs4 nas.local:/export/media rw,vers=4.2
27 20 0:41 / /tmp rw,nosuid,nodev shared:10 - tmpfs tmpfs rw,size=8g
28 20 7:0 / /snap/core/17 ro,nodev,relatime shared:11 - squashfs /dev/loop0 ro
29 20 253:0 / /run/media/me/Vault rw,nosuid shared:12 - ext4 /dev/mapper/vault rw
30 20 11:0 / /srv/cd ro,nosuid shared:13 - iso9660 /dev/sr0 ro
31 20 0:42 / /mnt/auto rw,relatime shared:14 - autofs systemd-1 rw,fd=48
32 20 0:43 / /home/me/.cache/x rw - tmpfs tmpfs rw
33 32 0:44 / /home/me/.cache/x rw - tmpfs other rw
34 20 0:45 / /home/me/remote rw,nosuid - fuse.sshfs me@host:/data rw,user_id=1000
35 20 0:46 / /tank/home rw - zfs tank/home rw,xattr
";

    fn at<'a>(v: &'a [Volume], mount_point: &str) -> &'a Volume {
        v.iter()
            .find(|v| v.mount_point == Path::new(mount_point))
            .unwrap_or_else(|| panic!("no volume at {mount_point}: {v:#?}"))
    }

    #[test]
    fn fingerprints_come_from_udev_links_not_device_numbers() {
        let f = Fixture::new();
        let v = f.detect(MOUNTINFO);
        let root = at(&v, "/");
        assert_eq!(
            root.fingerprint,
            VolumeFingerprint::Uuid("0f1e2d3c-aaaa-bbbb-cccc-000000000001".into())
        );
        assert_eq!(root.device.as_deref(), Some(Path::new("/dev/sda1")));
        assert_eq!(root.st_dev, rustix::fs::makedev(8, 1));
        assert_eq!((root.free, root.capacity), (Some(20), Some(1000)));
        // Through /dev/mapper/vault → /dev/dm-0.
        let vault = at(&v, "/run/media/me/Vault");
        assert_eq!(vault.device.as_deref(), Some(Path::new("/dev/dm-0")));
        assert_eq!(
            vault.fingerprint.as_string(),
            "uuid:77777777-dead-beef-0000-000000000007"
        );
        // The stick has both; the UUID wins, the label (udev-escaped) is its name.
        let stick = at(&v, "/media/me/My Stick");
        assert_eq!(stick.uuid.as_deref(), Some("1A2B-3C4D"));
        assert_eq!(stick.label.as_deref(), Some("My Stick"));
        assert_eq!(stick.name(), "My Stick");
        assert_eq!(stick.fingerprint.as_string(), "uuid:1A2B-3C4D");
        // No UUID: the label; nothing: the device; network: the source; virtual: + mount.
        assert_eq!(
            at(&v, "/srv/cd").fingerprint.as_string(),
            "label:iso9660:AUDIO_CD"
        );
        assert_eq!(
            at(&v, "/mnt/nas").fingerprint.as_string(),
            "src:nfs4:nas.local:/export/media"
        );
        assert!(at(&v, "/mnt/nas").fingerprint.is_strong());
        assert_eq!(
            at(&v, "/tmp").fingerprint.as_string(),
            "mount:tmpfs:tmpfs:/tmp"
        );
        assert!(!at(&v, "/tmp").fingerprint.is_strong());
        assert_eq!(
            at(&v, "/tank/home").fingerprint.as_string(),
            "src:zfs:tank/home"
        );
        assert_eq!(
            at(&v, "/snap/core/17").fingerprint.as_string(),
            "dev:squashfs:/dev/loop0"
        );
    }

    #[test]
    fn octal_escapes_and_bind_mounts() {
        let f = Fixture::new();
        let v = f.detect(MOUNTINFO);
        // One volume for the stick, mounted whole and a folder of it bound elsewhere.
        let sticks: Vec<_> = v.iter().filter(|v| v.source == "/dev/sdb1").collect();
        assert_eq!(sticks.len(), 1);
        assert_eq!(sticks[0].mount_point, Path::new("/media/me/My Stick"));
        assert_eq!(
            sticks[0].other_mount_points,
            [PathBuf::from("/home/me/Photos")]
        );
        // Pseudo file systems and automount points are not volumes; of two mounts at one
        // place only the top one is.
        for gone in ["/proc", "/sys", "/mnt/auto"] {
            assert!(v.iter().all(|v| v.mount_point != Path::new(gone)), "{gone}");
        }
        let cache: Vec<_> = v
            .iter()
            .filter(|v| v.mount_point == Path::new("/home/me/.cache/x"))
            .collect();
        assert_eq!(cache.len(), 1);
        assert_eq!(cache[0].source, "other");
        assert_eq!(v.len(), 11);
    }

    #[test]
    fn a_bind_mount_listed_before_the_whole_file_system_is_not_the_primary() {
        let f = Fixture::new();
        let v = f.detect(
            "\
20 1 8:1 / / rw - ext4 /dev/sda1 rw
25 20 8:17 /Photos /home/me/Photos rw - vfat /dev/sdb1 rw
26 20 8:17 / /media/stick rw - vfat /dev/sdb1 rw
",
        );
        let stick = at(&v, "/media/stick");
        assert_eq!(stick.other_mount_points, [PathBuf::from("/home/me/Photos")]);
    }

    #[test]
    fn kinds_flags_and_removable_disks_from_sysfs() {
        let f = Fixture::new();
        let v = f.detect(MOUNTINFO);
        let kind = |m: &str| at(&v, m).kind;
        assert_eq!(kind("/"), VolumeKind::System);
        assert_eq!(kind("/boot/efi"), VolumeKind::System);
        assert_eq!(kind("/media/me/My Stick"), VolumeKind::External);
        assert_eq!(kind("/run/media/me/Vault"), VolumeKind::External);
        assert_eq!(kind("/mnt/nas"), VolumeKind::Network);
        assert_eq!(kind("/home/me/remote"), VolumeKind::Network);
        assert_eq!(kind("/tmp"), VolumeKind::Virtual);
        assert_eq!(kind("/snap/core/17"), VolumeKind::Virtual);
        assert_eq!(kind("/srv/cd"), VolumeKind::Data);
        assert_eq!(kind("/tank/home"), VolumeKind::Data);
        // Removable: the flag (sdb), the USB bus (sdc, flag 0) under LUKS (dm-0).
        assert!(at(&v, "/media/me/My Stick").removable);
        assert!(at(&v, "/run/media/me/Vault").removable);
        assert!(!at(&v, "/").removable);
        assert!(!at(&v, "/boot/efi").removable);
        assert!(!at(&v, "/snap/core/17").removable);
        // Read-only from the mount's options.
        assert!(at(&v, "/snap/core/17").read_only);
        assert!(at(&v, "/srv/cd").read_only);
        assert!(!at(&v, "/").read_only);
        // The sidebar's drives.
        let drives: Vec<_> = v
            .iter()
            .filter(|v| v.is_drive())
            .map(|v| v.name())
            .collect();
        assert_eq!(
            drives,
            [
                "Computer", "My Stick", "nas", "Vault", "AUDIO_CD", "remote", "home"
            ]
        );
        // An unplugged-then-replugged stick under another name is still removable by the
        // disk it is on; classification by type and place alone:
        assert_eq!(
            classify(
                Path::new("/data"),
                "ext4",
                Some(Path::new("/dev/sdc1")),
                true
            ),
            VolumeKind::External
        );
        assert_eq!(
            classify(
                Path::new("/data"),
                "ext4",
                Some(Path::new("/dev/nvme0n1p3")),
                false
            ),
            VolumeKind::Data
        );
        assert_eq!(
            classify(Path::new("/"), "overlay", None, false),
            VolumeKind::System
        );
        assert_eq!(
            classify(Path::new("/usr/local"), "xfs", None, false),
            VolumeKind::System
        );
        assert_eq!(
            classify(Path::new("/bootleg"), "xfs", None, false),
            VolumeKind::Data
        );
    }

    #[test]
    fn the_volume_of_a_path_is_the_longest_mount_point_holding_it() {
        let f = Fixture::new();
        let v = f.detect(MOUNTINFO);
        let of = |p: &str| volume_containing(&v, Path::new(p)).map(|v| v.source.as_str());
        assert_eq!(of("/etc/fstab"), Some("/dev/sda1"));
        assert_eq!(of("/home/me/notes.txt"), Some("/dev/sda1"));
        assert_eq!(of("/media/me/My Stick/DCIM/1.jpg"), Some("/dev/sdb1"));
        // A bind mount's path belongs to its file system.
        assert_eq!(of("/home/me/Photos/2024"), Some("/dev/sdb1"));
        // Components, not bytes: /home/me/Photos2 is on the root.
        assert_eq!(of("/home/me/Photos2"), Some("/dev/sda1"));
        assert_eq!(of("/home/me/remote/x"), Some("me@host:/data"));
        assert_eq!(of("/home/me/.cache/x/y"), Some("other"));
        assert_eq!(of("/boot/efi/EFI"), Some("/dev/sda2"));
        assert_eq!(of("/boot/vmlinuz"), Some("/dev/sda1"));
        assert_eq!(volume_containing(&v, Path::new("relative")), None);
    }

    #[test]
    fn a_source_that_names_no_file_is_matched_by_its_numbers() {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let f = Fixture::new();
        // `/dev/root` is not a file; no link has its numbers: the device path is all there is.
        let v = f.detect("20 1 254:0 / / rw - ext4 /dev/root rw\n");
        assert_eq!(v[0].fingerprint.as_string(), "dev:ext4:/dev/root");
        assert_eq!(v[0].kind, VolumeKind::System);
        // With a real block device behind a by-uuid link (the fixture's /dev/<name> points
        // at this machine's), its numbers find the UUID and the device.
        let Some((name, rdev)) = std::fs::read_dir("/dev").ok().and_then(|entries| {
            entries.filter_map(Result::ok).find_map(|e| {
                let m = std::fs::metadata(e.path()).ok()?;
                m.file_type()
                    .is_block_device()
                    .then(|| (e.file_name().to_string_lossy().into_owned(), m.rdev()))
            })
        }) else {
            eprintln!("skipped: no block device in /dev");
            return;
        };
        let _ = std::fs::remove_file(f.root().join("dev").join(&name));
        f.link(&format!("dev/{name}"), &format!("/dev/{name}"));
        f.link(
            "dev/disk/by-uuid/feedface-0000-0000-0000-000000000001",
            &format!("../../{name}"),
        );
        let (major, minor) = (rustix::fs::major(rdev), rustix::fs::minor(rdev));
        let v = f.detect(&format!(
            "20 1 {major}:{minor} / / rw - ext4 /dev/root rw\n"
        ));
        assert_eq!(
            v[0].fingerprint.as_string(),
            "uuid:feedface-0000-0000-0000-000000000001"
        );
        assert_eq!(v[0].device, Some(PathBuf::from(format!("/dev/{name}"))));
    }

    #[test]
    fn detection_only_reads() {
        let f = Fixture::new();
        let before = f.snapshot();
        let v = f.detect(MOUNTINFO);
        assert!(!v.is_empty());
        assert_eq!(f.snapshot(), before);
    }

    #[test]
    fn fingerprints_round_trip_through_postcard_and_json() {
        let f = Fixture::new();
        for v in f.detect(MOUNTINFO) {
            let bytes = postcard::to_stdvec(&v.fingerprint).unwrap();
            let back: VolumeFingerprint = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(back, v.fingerprint);
            let json = serde_json::to_string(&v).unwrap();
            let back: Volume = serde_json::from_str(&json).unwrap();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn udev_label_escapes() {
        assert_eq!(udev_unescape("My\\x20Stick"), "My Stick");
        assert_eq!(udev_unescape("a\\x2fb"), "a/b");
        assert_eq!(udev_unescape("plain\\x2"), "plain\\x2");
        assert_eq!(udev_unescape("\\xzz"), "\\xzz");
    }

    #[test]
    fn this_machine_has_a_root_volume() {
        let v = detect();
        if std::path::Path::new("/proc/self/mountinfo").exists() {
            let root = at(&v, "/");
            assert_eq!(root.kind, VolumeKind::System);
            assert!(!root.fingerprint.as_string().is_empty());
            assert!(volume_of(Path::new("/")).is_some());
        }
    }

    #[test]
    fn superblock_ids_of_ext4_and_fat32_images() {
        let dir = tempfile::tempdir().unwrap();
        let ext4 = dir.path().join("ext4.img");
        let mut img = vec![0u8; 4096];
        img[1024 + 0x38..1024 + 0x3A].copy_from_slice(&[0x53, 0xEF]);
        let uuid: Vec<u8> = (1..=16).collect();
        img[1024 + 0x68..1024 + 0x78].copy_from_slice(&uuid);
        img[1024 + 0x78..1024 + 0x78 + 6].copy_from_slice(b"PHOTOS");
        std::fs::write(&ext4, &img).unwrap();
        assert_eq!(
            superblock_ids(&ext4, "ext4"),
            Some((
                "01020304-0506-0708-090a-0b0c0d0e0f10".to_owned(),
                Some("PHOTOS".to_owned())
            ))
        );
        // The magic decides: the same bytes are no XFS, and a zeroed UUID is no identity.
        assert_eq!(superblock_ids(&ext4, "xfs"), None);
        img[1024 + 0x68..1024 + 0x78].fill(0);
        std::fs::write(&ext4, &img).unwrap();
        assert_eq!(superblock_ids(&ext4, "ext4"), None);

        let fat = dir.path().join("fat.img");
        let mut bs = vec![0u8; 512];
        bs[0x52..0x57].copy_from_slice(b"FAT32");
        bs[0x43..0x47].copy_from_slice(&[0xEF, 0xBE, 0xAD, 0xDE]);
        bs[0x47..0x52].copy_from_slice(b"NO NAME    ");
        std::fs::write(&fat, &bs).unwrap();
        assert_eq!(
            superblock_ids(&fat, "vfat"),
            Some(("DEAD-BEEF".to_owned(), None))
        );
        // A link is never followed.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&ext4, &link).unwrap();
        assert_eq!(superblock_ids(&link, "ext4"), None);
    }
}
