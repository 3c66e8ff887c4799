//! What an entry is, independent of where it is stored (persistent index or ephemeral tree).

use serde::{Deserialize, Serialize};

/// The kind of a file-system object. Only `File` is ever opened (for hashing); the special
/// kinds are catalogued and never opened; symlinks are never followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum EntryKind {
    /// A regular file.
    File = 0,
    /// A directory.
    Dir = 1,
    /// A symbolic link (not followed).
    Symlink = 2,
    /// A named pipe.
    Fifo = 3,
    /// A Unix socket.
    Socket = 4,
    /// A block device.
    BlockDevice = 5,
    /// A character device.
    CharDevice = 6,
    /// Something else.
    Other = 7,
}

impl EntryKind {
    /// The kind of `ft` (from `lstat` or a directory listing).
    pub fn of(ft: std::fs::FileType) -> EntryKind {
        #[cfg(unix)]
        use std::os::unix::fs::FileTypeExt;
        if ft.is_symlink() {
            return EntryKind::Symlink;
        }
        if ft.is_dir() {
            return EntryKind::Dir;
        }
        if ft.is_file() {
            return EntryKind::File;
        }
        #[cfg(unix)]
        {
            if ft.is_fifo() {
                return EntryKind::Fifo;
            }
            if ft.is_socket() {
                return EntryKind::Socket;
            }
            if ft.is_block_device() {
                return EntryKind::BlockDevice;
            }
            if ft.is_char_device() {
                return EntryKind::CharDevice;
            }
        }
        EntryKind::Other
    }

    /// The kind with this number (`Other` if unknown).
    pub fn from_u8(n: u8) -> EntryKind {
        match n {
            0 => EntryKind::File,
            1 => EntryKind::Dir,
            2 => EntryKind::Symlink,
            3 => EntryKind::Fifo,
            4 => EntryKind::Socket,
            5 => EntryKind::BlockDevice,
            6 => EntryKind::CharDevice,
            _ => EntryKind::Other,
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Dir => "dir",
            EntryKind::Symlink => "symlink",
            EntryKind::Fifo => "fifo",
            EntryKind::Socket => "socket",
            EntryKind::BlockDevice => "block_device",
            EntryKind::CharDevice => "char_device",
            EntryKind::Other => "other",
        }
    }
}

/// File-system metadata of an entry, from `lstat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Meta {
    /// Size in bytes (the link text length for symlinks).
    pub size: u64,
    /// Modification time, ns since the Unix epoch.
    pub mtime_ns: i64,
    /// Inode number.
    pub inode: u64,
    /// Device id of the file system.
    pub dev: u64,
}

impl Meta {
    /// Reads the fields from `m`.
    pub fn of(m: &std::fs::Metadata) -> Meta {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Meta {
                size: m.len(),
                mtime_ns: m
                    .mtime()
                    .saturating_mul(1_000_000_000)
                    .saturating_add(m.mtime_nsec()),
                inode: m.ino(),
                dev: m.dev(),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64);
            Meta {
                size: m.len(),
                mtime_ns,
                inode: 0,
                dev: 0,
            }
        }
    }
}

/// True for names starting with a dot (Unix hidden files).
pub fn is_hidden(name: &[u8]) -> bool {
    name.first() == Some(&b'.')
}

/// The bytes of an OS string (exact on Unix; WTF-8 elsewhere).
pub fn os_bytes(s: &std::ffi::OsStr) -> &[u8] {
    s.as_encoded_bytes()
}

/// An OS string from bytes produced by [`os_bytes`] on this platform.
pub fn os_from_bytes(b: &[u8]) -> std::ffi::OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b).to_owned()
    }
    #[cfg(not(unix))]
    {
        std::ffi::OsString::from(String::from_utf8_lossy(b).into_owned())
    }
}

/// True if `path` is a folder now (a link to one counts: it opens as one).
pub fn is_folder(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_dir())
}

/// The device id (`st_dev`) of the folder at `path`, links followed (a folder reached
/// through a link is on its target's file system); `None` if it cannot be read. Two folders
/// with one device id are on one file system, so a move between them is a rename.
pub fn folder_device(path: &std::path::Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| Meta::of(&m).dev)
}

/// `path` made absolute and canonical without following a symlink at its last component
/// (the parent folder is canonicalised, the name is kept), so a link is addressed as itself.
pub fn canonical_no_follow(path: &std::path::Path) -> std::path::PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(parent)
            .map(|p| p.join(name))
            .unwrap_or(abs.clone()),
        _ => std::fs::canonicalize(&abs).unwrap_or(abs),
    }
}

/// The extension of a file name (after the last dot, not a leading dot), if valid UTF-8.
pub fn extension_of(name: &[u8]) -> Option<&str> {
    let dot = name.iter().rposition(|&b| b == b'.')?;
    if dot == 0 || dot + 1 == name.len() {
        return None;
    }
    std::str::from_utf8(&name[dot + 1..]).ok()
}

/// Opens `path` for reading only if it is a regular file: never blocks on a FIFO or device
/// that replaced it (`O_NONBLOCK`), never follows a symlink swapped in at the last moment
/// (`O_NOFOLLOW`), and checks the opened file's type (`fstat`) before anyone reads it.
///
/// # Errors
/// The open error, or [`std::io::ErrorKind::InvalidInput`] naming the path when it is not a
/// regular file.
pub fn open_regular(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    open_regular_with_meta(path).map(|(file, _)| file)
}

/// [`open_regular`], also returning the file's metadata from the one `fstat` that checked it is
/// a regular file (so a caller that needs its size asks the kernel once).
///
/// # Errors
/// As [`open_regular`].
pub fn open_regular_with_meta(
    path: &std::path::Path,
) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    checked_regular(opts.open(path)?, path)
}

/// A folder opened for [`open_regular_at`]: a path descriptor (`O_PATH`, close-on-exec), so
/// it needs what opening a file by a path through that folder needs — search permission,
/// not read permission — and it follows a symlink as that path would.
///
/// # Errors
/// The open error (`ENOTDIR` if `path` is not a folder).
pub fn open_dir(path: &std::path::Path) -> std::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    Ok(rustix::fs::open(
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// [`open_regular_with_meta`] of the file `name` in the folder `dir` (from [`open_dir`]),
/// whose path is `path` (for errors): the kernel looks up one name instead of every
/// component of the path, which is most of an open's cost when many small files are opened.
/// The same flags: no following a symlink, no blocking on a FIFO, a regular file only.
///
/// # Errors
/// As [`open_regular`].
pub fn open_regular_at(
    dir: std::os::fd::BorrowedFd<'_>,
    name: &std::ffi::OsStr,
    path: &std::path::Path,
) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    checked_regular(std::fs::File::from(fd), path)
}

/// `file` and its metadata if it is a regular file.
fn checked_regular(
    file: std::fs::File,
    path: &std::path::Path,
) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok((file, meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn a_file_opened_in_its_folder_is_checked_like_one_opened_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("file"), b"twelve bytes").unwrap();
        std::os::unix::fs::symlink(root.join("file"), root.join("link")).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            root.join("fifo"),
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .unwrap();
        let folder = open_dir(root).unwrap();
        let at = |name: &str| open_regular_at(folder.as_fd(), name.as_ref(), &root.join(name));
        let (_, meta) = at("file").unwrap();
        assert_eq!(meta.len(), 12);
        for name in ["link", "sub", "fifo", "missing"] {
            let by_path = open_regular_with_meta(&root.join(name)).map(|_| ());
            let in_folder = at(name).map(|_| ());
            assert!(in_folder.is_err(), "{name} opened");
            assert_eq!(
                in_folder.unwrap_err().kind(),
                by_path.unwrap_err().kind(),
                "{name}"
            );
        }
        assert!(
            open_dir(&root.join("file")).is_err(),
            "a file is not a folder"
        );
    }
}
