//! Small, careful file-system helpers used by the catalogue (never on user files).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Makes Cairn's own file `path` readable and writable by its owner only (mode 0600), through
/// a descriptor opened without following a link (`O_NOFOLLOW`), and only if it is a plain file;
/// nothing is changed when it already is. For files another library writes (redb's store).
///
/// # Errors
/// The I/O error (`ELOOP` for a link), or `InvalidInput` if it is not a plain file.
pub fn restrict_to_owner(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let m = f.metadata()?;
    if !m.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a plain file",
        ));
    }
    if m.permissions().mode() & 0o077 != 0 {
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder is written,
/// fsynced and renamed over `path`, then the folder is fsynced. A crash leaves either the old
/// file or the new one, never a torn one. `mode` sets Unix permission bits on creation (so a
/// secret is never readable by others, even briefly); it is ignored elsewhere.
///
/// The folder is opened once and every step is made relative to that handle (`openat`,
/// `renameat`, `fsync`), so a folder swapped for a link half-way cannot split the steps between
/// two places. The temporary file has an unguessable name (`.NAME.tmp-` and 16 random hex
/// digits) and is created with `O_CREAT | O_EXCL | O_NOFOLLOW`: it is always a new file of this
/// write, never an existing file or the target of a planted symlink, and two writers never
/// share one. The rename replaces a link at `path` itself, never its target.
///
/// # Errors
/// Any I/O error; the temporary file is removed on failure.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    #[cfg(unix)]
    {
        use rustix::fs::{AtFlags, Mode, OFlags};
        let dfd = rustix::fs::open(
            dir,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut last = None;
        for _ in 0..16 {
            let tmp = temp_name(&name.to_string_lossy())?;
            let fd = match rustix::fs::openat(
                &dfd,
                tmp.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode.unwrap_or(0o666) as rustix::fs::RawMode),
            ) {
                Ok(fd) => fd,
                Err(rustix::io::Errno::EXIST) => {
                    last = Some(io::Error::from(io::ErrorKind::AlreadyExists));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let mut f = File::from(fd);
            let result = (|| {
                f.write_all(bytes)?;
                f.sync_all()?;
                drop(f);
                rustix::fs::renameat(&dfd, tmp.as_str(), &dfd, name)?;
                rustix::fs::fsync(&dfd)?;
                Ok(())
            })();
            if result.is_err() {
                let _ = rustix::fs::unlinkat(&dfd, tmp.as_str(), AtFlags::empty());
            }
            return result;
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        let tmp = dir.join(temp_name(&name.to_string_lossy())?);
        let result = (|| {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// A new temporary name for `name`: `.NAME.tmp-` and 16 random hex digits.
fn temp_name(name: &str) -> io::Result<String> {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(format!(".{name}.tmp-{}", hex::encode(rnd)))
}

/// Creates the folder `path` for Cairn's own files, readable by the owner only (`0700` on
/// Unix, whatever the umask), and with `all` its missing parents too (each new one `0700`).
/// Folders that already exist are left as they are (never chmod-ed).
///
/// # Errors
/// The I/O error; with `all == false`, [`io::ErrorKind::AlreadyExists`] if it exists.
pub fn create_private_dir(path: &Path, all: bool) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(all);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

/// Checks that `dir` is one of Cairn's own folders: a real folder, not a symbolic link, owned by
/// the user running Cairn. With `follow`, a link at `dir` itself is followed first (the data
/// folder a person chose may be a link to another drive); the folders inside it are never
/// followed.
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] with a message saying what `dir` is instead (a link, a
/// file) or whose it is (`uid N`); the I/O error of looking at it.
pub fn check_own_folder(dir: &Path, follow: bool) -> io::Result<()> {
    let m = if follow {
        fs::metadata(dir)?
    } else {
        fs::symlink_metadata(dir)?
    };
    let bad = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
    if m.file_type().is_symlink() {
        return Err(bad(
            "it is a symbolic link where Cairn keeps a folder of its own; Cairn never follows it (remove the link, or pass --data-dir with a folder of your own)"
                .to_owned(),
        ));
    }
    if !m.is_dir() {
        return Err(bad(
            "it is not a folder where Cairn keeps a folder of its own".to_owned(),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = rustix::process::geteuid().as_raw();
        if m.uid() != me {
            return Err(bad(format!(
                "it belongs to another user (uid {}), not to you (uid {me}); Cairn keeps its catalogue only in folders of your own (pass --data-dir with one)",
                m.uid()
            )));
        }
    }
    Ok(())
}

/// Makes sure the deepest `depth` folders of `dir` (e.g. `sidecars/thumbs/ab` for 3) are
/// Cairn's own plain folders before anything is written in them: each that exists must be a
/// folder and not a link (a `sidecars/` or `cache/` planted as a symlink would put Cairn's files
/// into someone's folder); each that is missing is created `0700`.
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] naming the folder that is a link or not a folder; other I/O
/// errors as they come.
pub fn ensure_own_dirs(dir: &Path, depth: usize) -> io::Result<()> {
    let comps: Vec<_> = dir.components().collect();
    let keep = comps.len().saturating_sub(depth);
    let mut p: PathBuf = comps[..keep].iter().collect();
    for c in &comps[keep..] {
        p.push(c);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is a link or a file where Cairn keeps a folder of its own; nothing was written there",
                        p.display()
                    ),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match create_private_dir(&p, false) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Fsyncs a directory so a rename or create inside it is durable. A no-op where directories
/// cannot be opened (Windows).
///
/// # Errors
/// The I/O error of opening or syncing the directory.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The Unix permission bits of `path` (`0o777` mask), or `None` off Unix.
///
/// # Errors
/// The I/O error of reading the metadata.
pub fn mode_of(path: &Path) -> io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(Some(fs::metadata(path)?.permissions().mode() & 0o777))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

/// Total bytes of the regular files under `dir` (not following symlinks); 0 if unreadable.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {

    /// Regression: a symlinked `sidecars/` (or `cache/`) received Cairn's files in the user's
    /// folder.
    #[cfg(unix)]
    #[test]
    fn own_folders_planted_as_links_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let user = d.path().join("user folder");
        fs::create_dir(&user).unwrap();
        let lib = d.path().join("L.cairnlib");
        fs::create_dir(&lib).unwrap();
        std::os::unix::fs::symlink(&user, lib.join("sidecars")).unwrap();
        let err = ensure_own_dirs(&lib.join("sidecars/thumbs/ab"), 3).unwrap_err();
        assert!(err.to_string().contains("sidecars"), "{err}");
        assert_eq!(
            fs::read_dir(&user).unwrap().count(),
            0,
            "nothing created there"
        );
        ensure_own_dirs(&lib.join("cache"), 1).unwrap();
        assert!(lib.join("cache").is_dir());
    }

    /// Regression: the temporary name was predictable (`.NAME.tmp-<pid>`) and opened with
    /// create + truncate following links, so a planted symlink made Cairn overwrite its target.
    #[cfg(unix)]
    #[test]
    fn a_planted_temp_symlink_is_never_followed() {
        let d = tempfile::tempdir().unwrap();
        let precious = d.path().join("precious.txt");
        fs::write(&precious, b"the user's words").unwrap();
        let target = d.path().join("names.idx");
        std::os::unix::fs::symlink(
            &precious,
            d.path()
                .join(format!(".names.idx.tmp-{}", std::process::id())),
        )
        .unwrap();
        write_atomic(&target, b"index bytes", None).unwrap();
        assert_eq!(fs::read(&precious).unwrap(), b"the user's words");
        assert_eq!(fs::read(&target).unwrap(), b"index bytes");
    }

    #[test]
    fn concurrent_writes_each_land_whole_and_leave_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("settings.toml");
        let writers: Vec<_> = (0..8u8)
            .map(|w| {
                let target = target.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        write_atomic(&target, &vec![w; 4096], None).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let bytes = fs::read(&target).unwrap();
        assert_eq!(bytes.len(), 4096);
        assert!(
            bytes.iter().all(|&b| b == bytes[0]),
            "one writer's whole file"
        );
        let left: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("settings.toml")]);
    }

    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.toml");
        write_atomic(&p, b"one", None).unwrap();
        write_atomic(&p, b"two", Some(0o600)).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_sets_mode_on_create() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        write_atomic(&p, b"k", Some(0o600)).unwrap();
        assert_eq!(mode_of(&p).unwrap(), Some(0o600));
    }
}
