//! The library's `lock` file: an exclusive OS file lock held while a library is open.
//!
//! The lock is `flock(2)` on Unix (`LockFileEx` on Windows) through `std::fs::File::try_lock`.
//! The kernel drops it when the holding process exits, however it exits, so a lock left by a
//! dead process is simply taken over by the next opener. The file's text names the holder
//! (`pid`, `host`, `since`) so a refused opener can say who holds it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::vdfs::CoreError;

/// A held library lock; released on drop.
#[derive(Debug)]
pub struct LibraryLock {
    file: File,
    path: PathBuf,
}

impl LibraryLock {
    /// Takes the lock at `path` for the library called `name`.
    ///
    /// # Errors
    /// [`CoreError::LibraryInUse`] naming the holding process when another process (or another
    /// open in this process) holds it; [`CoreError::Io`] for other failures.
    pub fn acquire(path: &Path, name: &str) -> Result<LibraryLock, CoreError> {
        let mut file = open_lock_file(path, true).map_err(|e| refused(path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(CoreError::LibraryInUse {
                    name: name.to_owned(),
                    holder: describe_holder(&mut file),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(CoreError::io(path, e)),
        }
        let previous = read_text(&mut file);
        if let Some(pid) = field(&previous, "pid")
            && pid != std::process::id().to_string()
        {
            tracing::info!("took over the lock of \"{name}\" left by pid {pid}, which has exited");
        }
        let text = format!(
            "pid={}\nhost={}\nsince={}\n",
            std::process::id(),
            gethostname::gethostname().to_string_lossy(),
            jiff::Timestamp::now()
        );
        let write = (|| {
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            file.write_all(text.as_bytes())?;
            file.sync_data()
        })();
        write.map_err(|e| CoreError::io(path, e))?;
        Ok(LibraryLock {
            file,
            path: path.to_owned(),
        })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Who holds the lock at `path` right now, or `None` if nobody does. Takes and releases the
    /// lock for an instant to find out.
    pub fn holder(path: &Path) -> Option<String> {
        let mut file = open_lock_file(path, false).ok()?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.unlock();
                None
            }
            Err(_) => Some(describe_holder(&mut file)),
        }
    }
}

impl Drop for LibraryLock {
    fn drop(&mut self) {
        // Clear the holder text so nobody reports a closed library as held; the OS lock goes
        // with the file handle.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Opens the lock file without following a symlink (`O_NOFOLLOW`) and checks it is a plain
/// file: a `lock` planted as a link to a user's file must never be written (or emptied on
/// close) through. `create` makes it when missing.
fn open_lock_file(path: &Path, create: bool) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(create).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .mode(0o600);
    }
    let file = opts.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a plain file",
        ));
    }
    Ok(file)
}

/// The error for a lock file that cannot be used, naming it and what to do.
fn refused(path: &Path, e: std::io::Error) -> CoreError {
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if link || e.kind() == std::io::ErrorKind::InvalidInput {
        CoreError::corrupt(
            path,
            "the library's lock must be a plain file, and this is a link or a special file; \
             Cairn did not open or change what it points to",
        )
    } else {
        CoreError::io(path, e)
    }
}

fn read_text(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0));
    let _ = file.read_to_string(&mut text);
    text
}

fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::trim)
}

fn describe_holder(file: &mut File) -> String {
    let text = read_text(file);
    match field(&text, "pid") {
        Some(pid) => {
            let mut s = format!("pid {pid}");
            if let Some(name) = process_name(pid) {
                s.push_str(&format!(" ({name})"));
            }
            if let Some(host) = field(&text, "host")
                && host != gethostname::gethostname().to_string_lossy()
            {
                s.push_str(&format!(" on {host}"));
            }
            s
        }
        None => "another process".to_owned(),
    }
}

fn process_name(pid: &str) -> Option<String> {
    let pid: u32 = pid.parse().ok()?;
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a `lock` planted as a symlink was followed and truncated, emptying the
    /// user's file on open and on close.
    #[cfg(unix)]
    #[test]
    fn a_lock_planted_as_a_symlink_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let precious = dir.path().join("precious.txt");
        std::fs::write(&precious, b"the user's words").unwrap();
        let p = dir.path().join("lock");
        std::os::unix::fs::symlink(&precious, &p).unwrap();
        let err = LibraryLock::acquire(&p, "Lib").unwrap_err().to_string();
        assert!(err.contains("lock") && err.contains("plain file"), "{err}");
        assert_eq!(LibraryLock::holder(&p), None);
        assert_eq!(std::fs::read(&precious).unwrap(), b"the user's words");
    }

    #[test]
    fn second_lock_in_same_process_is_refused_and_names_pid() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let held = LibraryLock::acquire(&p, "Lib").unwrap();
        let err = LibraryLock::acquire(&p, "Lib").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(LibraryLock::holder(&p).is_some());
        drop(held);
        assert!(LibraryLock::holder(&p).is_none());
        LibraryLock::acquire(&p, "Lib").unwrap();
    }
}
