//! Browsing a paired device (`cairn/browse/1`): its locations, a folder's listing, a search.
//!
//! One request per bidirectional stream: the client sends a [`BrowseReq`] and finishes its
//! side; the server answers with zero or more [`BrowseResp::Items`] / [`BrowseResp::Hits`]
//! chunks (at most [`CHUNK`] items each, so the first rows of a large folder arrive at once)
//! and one closing [`BrowseResp::End`], or one [`BrowseResp::Error`] in words.
//!
//! The server serves only what is inside its open library's locations, as the library has
//! it (the index where a folder is indexed, else the disk under the location's root). A path
//! is refused, naming why, when it is not absolute, holds `.`, `..`, an empty component or a
//! trailing slash, holds a NUL, goes through a symbolic link (its canonical form differs), or
//! is outside every location ([`confine`]). Names are exact bytes both ways.

use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::vdfs::content::filetype::ContentKind;
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::index::location::{Availability, LocationRecord};
use crate::vdfs::query::browse::Item;
use crate::vdfs::query::search::Hit;

/// Items per answer chunk.
pub const CHUNK: usize = 1000;
/// The largest request a server reads, in bytes.
pub const MAX_REQUEST: u32 = 64 * 1024;
/// The largest answer frame a client reads, in bytes (a chunk of long names fits).
pub const MAX_ANSWER: u32 = 4 * 1024 * 1024;
/// The most hits a search returns.
pub const MAX_HITS: u32 = 10_000;

/// A request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BrowseReq {
    /// The device's locations.
    Locations,
    /// A folder's listing.
    List {
        /// The folder, absolute, as exact bytes.
        path: Vec<u8>,
    },
    /// A search of the device's library by name.
    Search {
        /// The text to find in names (as `cairn search`).
        text: String,
        /// Only below this folder (inside a location), as exact bytes.
        within: Option<Vec<u8>>,
        /// Hits wanted (at most [`MAX_HITS`]).
        limit: u32,
    },
}

/// An answer (several per request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BrowseResp {
    /// The device's locations (the whole answer).
    Locations(Vec<RemoteLocation>),
    /// A chunk of a folder's listing.
    Items(Vec<RemoteItem>),
    /// A chunk of search hits, best first.
    Hits(Vec<RemoteHit>),
    /// The end of a listing or search.
    End {
        /// Items or hits sent in all (for a search: how many match in all).
        total: u64,
        /// The listing came from the index (else from the disk).
        from_index: bool,
    },
    /// The request was refused or failed, in words.
    Error(String),
}

/// A location as a peer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteLocation {
    /// The root folder, absolute, as exact bytes.
    pub path: Vec<u8>,
    /// Its display name.
    pub name: String,
    /// Whether its drive is there now.
    pub online: bool,
    /// Files indexed.
    pub files: u64,
    /// Bytes indexed.
    pub bytes: u64,
}

/// One item of a peer's folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteItem {
    /// The exact name bytes.
    pub name: Vec<u8>,
    /// Kind.
    pub kind: EntryKind,
    /// Bytes (for an indexed folder, its subtree's).
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Kind of content.
    pub content_kind: ContentKind,
    /// The content identity's cas_id (16 hex digits), when known.
    pub cas: Option<u64>,
    /// For an indexed folder: files and folders below.
    pub counts: Option<(u64, u64)>,
}

/// One search hit on a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteHit {
    /// Absolute path on the peer, as exact bytes.
    pub path: Vec<u8>,
    /// Kind.
    pub kind: EntryKind,
    /// Bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Kind of content.
    pub content_kind: ContentKind,
    /// Copies of its content in the peer's library.
    pub copies: u32,
    /// How the name matched, as the peer's search ranks it (0 exact … 4 a close match: the
    /// letters in order, not the words; see `Hit::rank`).
    pub rank: u8,
}

impl RemoteItem {
    /// The display name (lossy for a name that is not UTF-8).
    pub fn display_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

impl From<&Item> for RemoteItem {
    fn from(i: &Item) -> RemoteItem {
        RemoteItem {
            name: i.raw_name.clone(),
            kind: i.kind,
            size: i.size,
            mtime_ns: i.mtime_ns,
            content_kind: i.content_kind,
            cas: i.cas.map(|c| c.0),
            counts: i.counts,
        }
    }
}

impl From<&Hit> for RemoteHit {
    fn from(h: &Hit) -> RemoteHit {
        RemoteHit {
            path: h.path.as_os_str().as_bytes().to_vec(),
            kind: h.kind,
            size: h.size,
            mtime_ns: h.mtime_ns,
            content_kind: h.content_kind,
            copies: h.copies,
            rank: h.rank,
        }
    }
}

impl From<&LocationRecord> for RemoteLocation {
    fn from(l: &LocationRecord) -> RemoteLocation {
        RemoteLocation {
            path: l.path.clone(),
            name: l.name(),
            online: matches!(l.availability(), Availability::Online),
            files: l.stats.files,
            bytes: l.stats.bytes,
        }
    }
}

/// `name` inside the folder `dir` (absolute, exact bytes): `dir/name`.
pub fn child_path(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// Checks a requested path against the served locations: returns it as a path when it is
/// absolute, plain (no `.`, `..`, empty component, trailing slash or NUL), free of symbolic
/// links (its canonical form is itself; a folder of an offline drive is taken as the index
/// has it) and inside one of `locations`.
///
/// # Errors
/// Why not, in words naming the path (lossily) — sent back to the peer as is.
pub fn confine(locations: &[LocationRecord], requested: &[u8]) -> Result<PathBuf, String> {
    let plain = plain_path(requested)?;
    let Some(loc) = locations
        .iter()
        .filter(|l| plain.starts_with(l.path()))
        .max_by_key(|l| l.path.len())
    else {
        return Err(format!(
            "“{}” is not in a location this device shares",
            String::from_utf8_lossy(requested)
        ));
    };
    real(plain, !matches!(loc.availability(), Availability::Online))
}

/// Checks a requested path against one offered item `root` (a file or folder this device
/// offered to send, canonical): as [`confine`], with `root` or what is below it in place of
/// the locations.
///
/// # Errors
/// Why not, in words naming the path (lossily).
pub fn confine_below(root: &Path, requested: &[u8]) -> Result<PathBuf, String> {
    let plain = plain_path(requested)?;
    if !plain.starts_with(root) {
        return Err(format!(
            "“{}” is not what this device offered to send",
            String::from_utf8_lossy(requested)
        ));
    }
    real(plain, false)
}

/// `requested` as a path when it is absolute and plain (no `.`, `..`, empty component,
/// trailing slash or NUL).
fn plain_path(requested: &[u8]) -> Result<PathBuf, String> {
    let shown = String::from_utf8_lossy(requested);
    if requested.first() != Some(&b'/') {
        return Err(format!("“{shown}” is not an absolute path"));
    }
    if requested.contains(&0) {
        return Err(format!("“{shown}” holds a NUL byte"));
    }
    let path = Path::new(std::ffi::OsStr::from_bytes(requested));
    let mut plain = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(n) => plain.push(n),
            Component::CurDir | Component::ParentDir | Component::Prefix(_) => {
                return Err(format!("“{shown}” holds “.” or “..”"));
            }
        }
    }
    if plain.as_os_str().as_bytes() != requested {
        return Err(format!(
            "“{shown}” is not written plainly (a doubled or trailing slash, or “.”)"
        ));
    }
    Ok(plain)
}

/// `plain` when its canonical form is itself (no symbolic link on the way); when it cannot
/// be resolved and `offline` (its drive is not here), as it is.
fn real(plain: PathBuf, offline: bool) -> Result<PathBuf, String> {
    match std::fs::canonicalize(&plain) {
        Ok(real) if real == plain => Ok(plain),
        Ok(_) => Err(format!(
            "“{}” goes through a symbolic link; only the real path is served",
            plain.display()
        )),
        Err(_) if offline => Ok(plain),
        Err(e) => Err(format!("“{}”: {e}", plain.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(path: &Path) -> LocationRecord {
        LocationRecord::for_tests(path)
    }

    #[test]
    fn only_plain_real_paths_inside_a_location_pass() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap().join("shared");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.parent().unwrap().join("private")).unwrap();
        std::os::unix::fs::symlink(root.parent().unwrap().join("private"), root.join("out"))
            .unwrap();
        let locs = [location(&root)];
        let b = |p: &Path| p.as_os_str().as_bytes().to_vec();
        assert_eq!(
            confine(&locs, &b(&root.join("a/b"))).unwrap(),
            root.join("a/b")
        );
        assert_eq!(confine(&locs, &b(&root)).unwrap(), root);
        let refused = [
            b(&root.join("a/../../private")),
            b(&root.join("./a")),
            format!("{}/a/", root.display()).into_bytes(),
            format!("{}//a", root.display()).into_bytes(),
            b(&root.join("out")),
            b(&root.parent().unwrap().join("private")),
            b"relative/path".to_vec(),
            b"/".to_vec(),
            b"/etc".to_vec(),
            [b(&root), b"/a\0b".to_vec()].concat(),
            b(&root.join("missing")),
            Vec::new(),
        ];
        for r in refused {
            assert!(
                confine(&locs, &r).is_err(),
                "{} should be refused",
                String::from_utf8_lossy(&r)
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Any bytes as a request or an answer give a message or an error, never a panic.
        #[test]
        fn arbitrary_browse_messages_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = super::super::wire::decode::<BrowseReq>(&bytes);
            let _ = super::super::wire::decode::<BrowseResp>(&bytes);
        }
    }
}
