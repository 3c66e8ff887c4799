//! The desktop trash, as the freedesktop.org Trash specification 1.0 defines it
//! (<https://specifications.freedesktop.org/trash-spec/1.0/>), so what Cairn trashes shows in
//! Dolphin's, Nautilus' and `trash-list`'s trash and the other way round.
//!
//! - The home trash is `$XDG_DATA_HOME/Trash` (`~/.local/share/Trash`), used for items on the
//!   same file system; an item on another file system goes to that file system's top folder:
//!   `$topdir/.Trash/$uid` when `$topdir/.Trash` is a real folder with the sticky bit, else
//!   `$topdir/.Trash-$uid` (created 0700). Never a copy to another file system.
//! - Each trashed item is `files/NAME` with `info/NAME.trashinfo` beside it, the info file
//!   created first with `O_EXCL` (so two programs never claim one name) holding the original
//!   path, percent-encoded byte by byte (exact for names that are not UTF-8; relative to the
//!   top folder in a top-folder trash), and the deletion date in local time.
//! - Items move by `rename` with `RENAME_NOREPLACE` through folder handles.
//!
//! Not the `trash` crate: its Linux code falls back to an unverified copy and a recursive
//! delete when a rename crosses file systems, and does not say where an item went, which undo
//! and the index need.

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::entry::{os_bytes, os_from_bytes};
use super::ops::{Dir, with_path};

/// One trash folder (holding `files/` and `info/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrashDir {
    /// The trash folder itself, e.g. `~/.local/share/Trash`.
    pub root: PathBuf,
    /// For a top-folder trash, the top folder its `Path=` values are relative to.
    pub topdir: Option<PathBuf>,
}

/// An item in a trash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trashed {
    /// The trash holding it.
    pub trash: TrashDir,
    /// Its name in `files/` (and `info/NAME.trashinfo`), exact bytes.
    pub name: OsString,
    /// Where it was, absolute, exact bytes.
    pub original: PathBuf,
    /// When it was trashed, as written (`YYYY-MM-DDThh:mm:ss`, local time).
    pub deleted: String,
}

impl Trashed {
    /// The item's path now, inside the trash.
    pub fn path(&self) -> PathBuf {
        self.trash.root.join("files").join(&self.name)
    }
}

/// The home trash this process uses instead of the person's own, when set.
static HOME_TRASH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Makes `folder` this process's home trash instead of the person's own, for a process that
/// must not touch it (a test suite driving the window in-process, where the environment is
/// shared by every test and cannot be changed safely). Only the first call counts; returns
/// whether it was this one.
pub fn use_home_trash(folder: PathBuf) -> bool {
    HOME_TRASH.set(folder).is_ok()
}

/// The home trash folder: the one set by [`use_home_trash`], else `$XDG_DATA_HOME/Trash`, else
/// `$HOME/.local/share/Trash`.
///
/// # Errors
/// `NotFound` when neither variable is set.
pub fn home_trash() -> io::Result<PathBuf> {
    if let Some(d) = HOME_TRASH.get() {
        return Ok(d.clone());
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("Trash"));
    }
    let home = std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "neither XDG_DATA_HOME nor HOME is set, so there is no home trash",
            )
        })?;
    Ok(PathBuf::from(home).join(".local/share/Trash"))
}

fn uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Device id of the nearest existing folder at or above `path`.
fn dev_of(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    path.ancestors()
        .find_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.dev())
}

/// The trash an item in the folder `parent` (canonical) goes to: the home trash if it is on
/// the same file system, else the top-folder trash of `parent`'s mount.
///
/// # Errors
/// The error of finding the mount or stat'ing the folder.
pub fn trash_for(parent: &Path) -> io::Result<TrashDir> {
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::symlink_metadata(parent)
        .map_err(|e| with_path(e, parent))?
        .dev();
    let home = home_trash()?;
    if dev_of(&home) == Some(dev) {
        return Ok(TrashDir {
            root: home,
            topdir: None,
        });
    }
    let mounts = super::mounts::mounts();
    let top = super::mounts::mount_of(&mounts, parent)
        .map(|m| m.mount_point.clone())
        .unwrap_or_else(|| PathBuf::from("/"));
    let admin = top.join(".Trash");
    let valid_admin = std::fs::symlink_metadata(&admin)
        .is_ok_and(|m| m.is_dir() && m.mode() & 0o1000 != 0 && !m.file_type().is_symlink());
    let root = if valid_admin {
        admin.join(uid().to_string())
    } else {
        top.join(format!(".Trash-{}", uid()))
    };
    Ok(TrashDir {
        root,
        topdir: Some(top),
    })
}

impl TrashDir {
    /// Opens (creating as needed, 0700) the trash and its `files/` and `info/` folders, never
    /// through a link. Returns (files, info).
    ///
    /// # Errors
    /// The OS error naming the folder.
    pub fn open(&self, create: bool) -> io::Result<(Dir, Dir)> {
        if create {
            let parent = self.root.parent().unwrap_or(Path::new("/"));
            if !parent.exists() {
                std::fs::create_dir_all(parent).map_err(|e| with_path(e, parent))?;
            }
            let p = Dir::open(&std::fs::canonicalize(parent).map_err(|e| with_path(e, parent))?)?;
            let name = self.root.file_name().unwrap_or(OsStr::new("Trash"));
            match p.mkdir(name, 0o700) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
        }
        let root = Dir::open(&self.root)?;
        for sub in ["files", "info"] {
            if create {
                match root.mkdir(OsStr::new(sub), 0o700) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                    _ => {}
                }
            }
        }
        Ok((
            root.open_dir(OsStr::new("files"))?,
            root.open_dir(OsStr::new("info"))?,
        ))
    }

    fn recorded_path(&self, original: &Path) -> Vec<u8> {
        match &self.topdir {
            Some(top) => original
                .strip_prefix(top)
                .map(|r| os_bytes(r.as_os_str()).to_vec())
                .unwrap_or_else(|_| os_bytes(original.as_os_str()).to_vec()),
            None => os_bytes(original.as_os_str()).to_vec(),
        }
    }

    fn original_of(&self, recorded: &[u8]) -> PathBuf {
        let p = PathBuf::from(os_from_bytes(recorded));
        match &self.topdir {
            Some(top) if p.is_relative() => top.join(p),
            _ => p,
        }
    }
}

/// Claims a name in `info/` for an item called `name`: writes `NAME.trashinfo` with
/// `O_EXCL` (trying `NAME.2`, `NAME.3` … while taken, also in `files/`). Returns the name in
/// `files/`. The item is not moved yet: the caller renames it into `files/` with
/// [`Dir::rename_noreplace`] (never a copy across file systems).
///
/// # Errors
/// The OS error.
pub fn claim(
    trash: &TrashDir,
    files: &Dir,
    info: &Dir,
    name: &OsStr,
    original: &Path,
    deleted: &str,
) -> io::Result<OsString> {
    let mut body = b"[Trash Info]\nPath=".to_vec();
    body.extend_from_slice(percent_encode(&trash.recorded_path(original)).as_bytes());
    body.extend_from_slice(format!("\nDeletionDate={deleted}\n").as_bytes());
    for n in 1u32.. {
        let mut candidate = os_bytes(name).to_vec();
        if n > 1 {
            candidate.extend_from_slice(format!(".{n}").as_bytes());
        }
        let candidate = os_from_bytes(&candidate);
        if files.stat(&candidate)?.is_some() {
            continue;
        }
        let mut info_name = candidate.clone();
        info_name.push(".trashinfo");
        if info_name.len() > 255 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidFilename,
                format!(
                    "{} has a name too long for the trash's info file",
                    original.display()
                ),
            ));
        }
        match info.create_new(&info_name, 0o600) {
            Ok(mut f) => {
                f.write_all(&body)?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("u32 names run out")
}

/// Removes the info file of a claim whose item was not moved in (an orphan).
///
/// # Errors
/// The OS error.
pub fn unclaim(info: &Dir, trashed_name: &OsStr) -> io::Result<()> {
    let mut info_name = trashed_name.to_owned();
    info_name.push(".trashinfo");
    info.unlink(&info_name)
}

/// Today's deletion date in the specification's format (local time, seconds).
pub fn deletion_date() -> String {
    jiff::Zoned::now().strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Every item of one trash (items without an info file, and info files without an item, are
/// skipped).
///
/// # Errors
/// The OS error listing `info/` (a trash that does not exist is empty).
pub fn list(trash: &TrashDir) -> io::Result<Vec<Trashed>> {
    let (files, info) = match trash.open(false) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for (info_name, kind) in info.list()? {
        let Some(name) = os_bytes(&info_name).strip_suffix(b".trashinfo") else {
            continue;
        };
        if kind != super::entry::EntryKind::File {
            continue;
        }
        let name = os_from_bytes(name);
        if files.stat(&name)?.is_none() {
            continue;
        }
        let mut text = Vec::new();
        {
            use std::io::Read;
            let f = info.open_file(&info_name)?;
            f.take(64 * 1024).read_to_end(&mut text)?;
        }
        let Some((path, deleted)) = parse_info(&text) else {
            continue;
        };
        out.push(Trashed {
            trash: trash.clone(),
            name,
            original: trash.original_of(&path),
            deleted,
        });
    }
    Ok(out)
}

/// Every item of every trash of [`all_trashes`], newest first.
pub fn list_all() -> Vec<Trashed> {
    let mut out: Vec<Trashed> = all_trashes()
        .iter()
        .filter_map(|t| list(t).ok())
        .flatten()
        .collect();
    out.sort_by(|a, b| b.deleted.cmp(&a.deleted));
    out
}

/// The original path an info file of `trash` records (`info` is its opened `info/`).
pub fn list_info_path(trash: &TrashDir, info: &Dir, info_name: &OsStr) -> Option<PathBuf> {
    use std::io::Read;
    let f = info.open_file(info_name).ok()?;
    let mut text = Vec::new();
    f.take(64 * 1024).read_to_end(&mut text).ok()?;
    let (path, _) = parse_info(&text)?;
    Some(trash.original_of(&path))
}

/// The trashes that may hold this user's items: the home trash and the top-folder trashes of
/// every mounted, non-pseudo file system that has one.
pub fn all_trashes() -> Vec<TrashDir> {
    let mut out = Vec::new();
    if let Ok(h) = home_trash() {
        out.push(TrashDir {
            root: h,
            topdir: None,
        });
    }
    for m in super::mounts::mounts() {
        if super::mounts::is_pseudo(&m.fs_type) {
            continue;
        }
        for root in [
            m.mount_point.join(".Trash").join(uid().to_string()),
            m.mount_point.join(format!(".Trash-{}", uid())),
        ] {
            if std::fs::symlink_metadata(&root).is_ok_and(|md| md.is_dir())
                && !out.iter().any(|t| t.root == root)
            {
                out.push(TrashDir {
                    root,
                    topdir: Some(m.mount_point.clone()),
                });
            }
        }
    }
    out
}

/// Puts a trashed item back where it was (its folder must exist), never replacing anything,
/// and removes its info file.
///
/// # Errors
/// `AlreadyExists` if something now has its name; `NotFound` if its folder is gone; the OS
/// error otherwise.
pub fn restore(item: &Trashed, to: &Path) -> io::Result<()> {
    let (files, info) = item.trash.open(false)?;
    let (parent, name) = super::ops::split(to).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot restore to {}", to.display()),
        )
    })?;
    let parent = std::fs::canonicalize(parent).map_err(|e| with_path(e, parent))?;
    let dir = Dir::open(&parent)?;
    files.rename_noreplace(&item.name, &dir, name)?;
    unclaim(&info, &item.name)?;
    dir.sync()?;
    Ok(())
}

/// Deletes a trashed item for good (the item, then its info file). Returns the names removed.
///
/// # Errors
/// The first OS error.
pub fn purge(item: &Trashed) -> io::Result<u64> {
    let (files, info) = item.trash.open(false)?;
    let n = files.remove_tree(&item.name)?;
    unclaim(&info, &item.name)?;
    Ok(n)
}

fn parse_info(text: &[u8]) -> Option<(Vec<u8>, String)> {
    let text = std::str::from_utf8(text).ok()?;
    let mut in_section = false;
    let (mut path, mut date) = (None, String::new());
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('[') {
            in_section = line == "[Trash Info]";
            continue;
        }
        if !in_section {
            continue;
        }
        if let Some(v) = line.strip_prefix("Path=") {
            path = Some(percent_decode(v));
        } else if let Some(v) = line.strip_prefix("DeletionDate=") {
            date = v.to_owned();
        }
    }
    Some((path?, date))
}

/// Percent-encodes every byte except ASCII letters, digits, `/` and `-_.~` (RFC 3986
/// unreserved, as the specification asks of `Path=`).
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes to bytes (a malformed escape is kept as it is).
pub fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_round_trip_is_exact() {
        let raw = b"/home/a b/\xff\xfe caf\xc3\xa9 100%.txt";
        let enc = percent_encode(raw);
        assert!(enc.is_ascii());
        assert_eq!(percent_decode(&enc), raw);
        assert_eq!(percent_decode("%4"), b"%4");
    }

    #[test]
    fn info_files_parse() {
        let (p, d) =
            parse_info(b"[Trash Info]\nPath=/tmp/a%20b\nDeletionDate=2026-11-29T10:00:00\n")
                .unwrap();
        assert_eq!(p, b"/tmp/a b");
        assert_eq!(d, "2026-11-29T10:00:00");
        assert!(parse_info(b"[Other]\nPath=/x\n").is_none());
    }
}
