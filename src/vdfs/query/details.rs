//! Everything Cairn knows about one file or folder, gathered once for both front ends: the
//! window's inspector and `cairn stat`.
//!
//! For an indexed path the index answers: the entry, its location, its content record, the
//! other copies (with their location and volume; hard links are one copy with several names)
//! and a folder's totals. For a path outside every location the disk answers: `lstat`, and,
//! when [`DetailOptions`] asks for it, the sampled `cas_id` and the file type from the file's
//! bytes, or a folder's totals from a walk.
//! Nothing here writes.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::store::Store;
use crate::vdfs::CoreError;
use crate::vdfs::content::CasId;
use crate::vdfs::content::filetype::{ContentKind, FileType, Method, Registry};
use crate::vdfs::fs::entry::{EntryKind, Meta, canonical_no_follow, os_bytes};
use crate::vdfs::index::location::LocationRecord;
use crate::vdfs::index::{self, ContentRecord, IndexedEntry};
use crate::vdfs::query::redundancy::{self, CopyInfo};

/// Bytes of a text file shown in the preview.
pub const PREVIEW_BYTES: usize = 16 * 1024;

/// Bytes of a file's head the type identification looks at.
const IDENTIFY_BYTES: usize = 8192;

/// What [`details`] gathers beyond the index and `lstat`; each costs reading the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetailOptions {
    /// Read a regular file's first [`PREVIEW_BYTES`]: its type from them when the index has
    /// none, and [`Details::text_preview`] if they look like text.
    pub preview: bool,
    /// For a regular file outside the index: its sampled `cas_id` (reads at most ~56 KiB) and
    /// its type from those bytes, with confidence and method.
    pub sample: bool,
    /// For a folder outside the index: walk it (no rules) to total its bytes, files and
    /// folders.
    pub walk: bool,
    /// For an image: its size in pixels and its camera data ([`Details::picture`]; reads its
    /// headers).
    pub picture: bool,
}

impl DetailOptions {
    /// What the window's inspector shows: a preview, no sampling, no walk.
    pub const INSPECTOR: DetailOptions = DetailOptions {
        preview: true,
        sample: false,
        walk: false,
        picture: true,
    };
    /// What `cairn stat` prints: sampled identity and walked totals, no preview.
    pub const STAT: DetailOptions = DetailOptions {
        preview: false,
        sample: true,
        walk: true,
        picture: true,
    };
}

/// Where a [`TypeGuess`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeSource {
    /// The index's content record.
    Index,
    /// The file's bytes (and name), read now.
    Bytes,
    /// The name's extension alone (the file was not read).
    Name,
}

/// A file's type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeGuess {
    /// Registry id, usually the MIME type (e.g. `image/jpeg`).
    pub id: String,
    /// Human name (e.g. "JPEG image"); the id if the registry no longer knows it.
    pub name: String,
    /// MIME type, when known.
    pub mime: Option<String>,
    /// Kind of content.
    pub kind: ContentKind,
    /// 0–100, when identified now.
    pub confidence: Option<u8>,
    /// How it was decided, when identified now.
    pub method: Option<Method>,
    /// Where it came from.
    pub source: TypeSource,
}

impl TypeGuess {
    fn of(
        t: &FileType,
        confidence: Option<u8>,
        method: Option<Method>,
        source: TypeSource,
    ) -> Self {
        TypeGuess {
            id: t.id.clone(),
            name: t.name.clone(),
            mime: Some(t.mime().to_owned()),
            kind: t.kind,
            confidence,
            method,
            source,
        }
    }
}

/// Details of one file or folder: what the inspector shows and `cairn stat` prints.
///
/// The fields are the inspector's (strings ready to show); [`Details::facts`] holds the
/// typed records they come from, which `cairn stat` prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Details {
    /// The path (canonical, the last component not followed).
    pub path: PathBuf,
    /// MIME type, when known.
    pub mime: Option<String>,
    /// File-type name, e.g. "JPEG image".
    pub type_name: Option<String>,
    /// cas_id, when the index has identified the content.
    pub cas: Option<String>,
    /// Content UUID, when the index has identified the content.
    pub content_uuid: Option<String>,
    /// Other copies of the same content in the library, with their location and volume, in
    /// instance order. A copy is one file on disk: hard links of it are its
    /// [`CopyInfo::links`], and this file's own hard links are in [`Details::links`].
    pub other_copies: Vec<CopyInfo>,
    /// This file's other names in the library: hard links of it (the same device and inode),
    /// which are the same bytes on disk, not copies.
    pub links: Vec<PathBuf>,
    /// For folders: bytes, files, folders below (from the index, or from a walk).
    pub folder: Option<(u64, u64, u64)>,
    /// The first part of a text file (at most [`PREVIEW_BYTES`]), with
    /// [`DetailOptions::preview`].
    pub text_preview: Option<String>,
    /// What an image says about itself (pixels, camera, lens, date, exposure), with
    /// [`DetailOptions::picture`] (boxed, as [`Details::facts`]).
    pub picture: Option<Box<crate::vdfs::content::picture::PictureFacts>>,
    /// The entry's UUID, when indexed.
    pub uuid: Option<String>,
    /// Mount point of the volume of the location holding it, when indexed.
    pub volume: Option<PathBuf>,
    /// When this folder, or the nearest folder above it, could not be read at the last scan
    /// (ms since the epoch): what the index shows here is what it knew before.
    pub unreadable_since: Option<i64>,
    /// The typed records behind the fields above (boxed: the window sends `Details` through
    /// a channel, and most of them are small).
    pub facts: Box<Facts>,
}

/// What [`Details`] is made from: the entry, its records and what the disk said.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    /// Kind: the index's for an indexed entry, else `lstat`'s.
    pub kind: Option<EntryKind>,
    /// Size, modification time, inode and device: the index's, else `lstat`'s.
    pub meta: Meta,
    /// The index's entry, with its location; `None` outside the index.
    pub indexed: Option<IndexedEntry>,
    /// The index's content record, when the content is identified.
    pub content: Option<ContentRecord>,
    /// The file type: from the index, else from the bytes read now, else from the name.
    pub file_type: Option<TypeGuess>,
    /// With [`DetailOptions::sample`], for a regular file outside the index: `Some(cas_id)`,
    /// where the inner `None` is an empty file.
    pub sampled: Option<Option<CasId>>,
    /// Why sampling failed, if it did.
    pub sample_error: Option<String>,
}

/// Gathers the details of `path`, from `store` and `locations` when it is indexed (pass
/// `None` when no library is open), else from the disk as `opts` allow.
///
/// # Errors
/// [`CoreError::Store`] if the index cannot be read; [`CoreError::Io`] (naming the path) if
/// a path outside the index cannot be `lstat`ed or a folder to total cannot be walked.
pub fn details(
    store: Option<&Store>,
    locations: &[LocationRecord],
    path: &Path,
    opts: DetailOptions,
) -> Result<Details, CoreError> {
    let path = canonical_no_follow(path);
    let mut d = Details {
        path: path.clone(),
        ..Details::default()
    };
    let registry = Registry::active();
    let found = match store {
        Some(store) => index::entry_at(store, locations, &path)?,
        None => None,
    };
    if let (Some(store), Some(found)) = (store, &found) {
        let rec = &found.record;
        d.facts.kind = Some(rec.kind);
        d.facts.meta = rec.meta();
        d.uuid = Some(rec.uuid.to_string());
        d.volume = Some(found.location.volume.mount_point.clone());
        let (content, stats, unreadable) = store.read(|tx| {
            let content = match rec.cas {
                Some(c) => index::content(tx, c)?,
                None => None,
            };
            let stats = if rec.kind == EntryKind::Dir {
                index::dir_stats(tx, found.id)?
            } else {
                None
            };
            Ok((content, stats, index::unreadable_since(tx, found.id)?))
        })?;
        d.unreadable_since = unreadable;
        if let Some(cas) = rec.cas {
            d.cas = Some(cas.to_string());
            d.content_uuid = Some(cas.content_uuid().to_string());
            // Its own copy (itself and its hard links) is not another copy.
            for c in redundancy::copies(store, locations, found.id)? {
                if c.path == path || c.links.contains(&path) {
                    d.links = std::iter::once(c.path)
                        .chain(c.links)
                        .filter(|p| *p != path)
                        .collect();
                } else {
                    d.other_copies.push(c);
                }
            }
        }
        if let Some(c) = &content {
            d.mime = c.mime.clone();
            if let Some(id) = &c.file_type {
                let known = registry.index_of(id).and_then(|i| registry.get(i));
                d.type_name = known.map(|t| t.name.clone());
                d.facts.file_type = Some(TypeGuess {
                    id: id.clone(),
                    name: known.map_or_else(|| id.clone(), |t| t.name.clone()),
                    mime: c.mime.clone(),
                    kind: c.kind,
                    confidence: None,
                    method: None,
                    source: TypeSource::Index,
                });
            }
        }
        d.folder = stats.map(|s| (s.bytes, s.files, s.dirs));
        d.facts.content = content;
        d.facts.indexed = Some(found.clone());
    } else {
        let m = std::fs::symlink_metadata(&path).map_err(|e| CoreError::io(&path, e))?;
        let kind = EntryKind::of(m.file_type());
        d.facts.kind = Some(kind);
        d.facts.meta = Meta::of(&m);
        if kind == EntryKind::File && opts.sample {
            match crate::vdfs::content::sample_file(&path) {
                Ok(s) => {
                    let name = path.file_name().map(os_bytes).unwrap_or_default();
                    let t = registry.identify(name, Some(&s.head));
                    d.facts.file_type = t.and_then(|i| {
                        let ft = registry.get(i.type_index)?;
                        Some(TypeGuess::of(
                            ft,
                            Some(i.confidence),
                            Some(i.method),
                            TypeSource::Bytes,
                        ))
                    });
                    d.facts.sampled = Some(s.cas_id);
                }
                Err(e) => d.facts.sample_error = Some(e.to_string()),
            }
        } else if kind == EntryKind::Dir && opts.walk {
            d.folder = Some(walk_totals(&path)?);
        }
    }
    let head = opts
        .preview
        .then(|| read_head(&path, PREVIEW_BYTES))
        .flatten();
    // A folder has no file type, whatever its name says.
    if d.facts.file_type.is_none()
        && d.facts.sample_error.is_none()
        && d.facts.kind != Some(EntryKind::Dir)
    {
        d.facts.file_type = match &head {
            Some(h) => identify(&path, Some(h)).map(|(t, i)| {
                TypeGuess::of(t, Some(i.confidence), Some(i.method), TypeSource::Bytes)
            }),
            None => identify(&path, None).map(|(t, i)| {
                TypeGuess::of(t, Some(i.confidence), Some(i.method), TypeSource::Name)
            }),
        };
    }
    if d.mime.is_none()
        && let Some(t) = &d.facts.file_type
    {
        d.mime = t.mime.clone();
        d.type_name = Some(t.name.clone());
    }
    if let Some(bytes) = head
        && crate::vdfs::content::filetype::looks_like_text(&bytes)
    {
        d.text_preview = Some(String::from_utf8_lossy(&bytes).into_owned());
    }
    let image = d
        .facts
        .file_type
        .as_ref()
        .is_some_and(|t| t.kind == crate::vdfs::content::filetype::ContentKind::Image);
    if opts.picture && image && d.facts.kind == Some(EntryKind::File) {
        d.picture = crate::vdfs::content::picture::picture_facts(&path).map(Box::new);
    }
    Ok(d)
}

/// The inspector's details of `path` ([`DetailOptions::INSPECTOR`]); if they cannot be
/// gathered (the path vanished, the index cannot be read), only the path.
pub fn inspect(store: Option<&Store>, locations: &[LocationRecord], path: &Path) -> Details {
    details(store, locations, path, DetailOptions::INSPECTOR).unwrap_or_else(|e| {
        tracing::debug!("details of {}: {e}", path.display());
        Details {
            path: canonical_no_follow(path),
            ..Details::default()
        }
    })
}

/// Bytes, files (and other non-folders) and folders below `folder`, from a walk without
/// rules; unreadable parts are left out.
fn walk_totals(folder: &Path) -> Result<(u64, u64, u64), CoreError> {
    use crate::vdfs::fs::rules::{Compiled, Rules};
    use crate::vdfs::fs::walk::{WalkOptions, WalkStartError, walk};
    let rules = Compiled::new(&Rules::none()).expect("no rules always compile");
    let tree = walk(folder, &WalkOptions::new(rules)).map_err(|e| match e {
        WalkStartError::Root { path, source } => CoreError::io(&path, source),
        WalkStartError::NotADir { path } => CoreError::io(
            &path,
            std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder"),
        ),
    })?;
    let (mut bytes, mut files, mut dirs) = (0u64, 0u64, 0u64);
    for i in 1..tree.len() {
        let n = tree.node(i);
        if n.kind == EntryKind::Dir {
            dirs += 1;
        } else {
            files += 1;
            if n.kind == EntryKind::File {
                bytes += n.size;
            }
        }
    }
    Ok((bytes, files, dirs))
}

/// The registered file type of `path`, from its name and, for a regular file, its first
/// 8 KiB, by the active [`Registry`]. `None` if no type matches. Reads at
/// most 8 KiB; never blocks on a FIFO or device.
pub fn identify_path(path: &Path) -> Option<&'static FileType> {
    identify(path, read_head(path, IDENTIFY_BYTES).as_deref()).map(|(t, _)| t)
}

/// The type of `path` from its name and `head` (`None`: by the name alone).
fn identify(
    path: &Path,
    head: Option<&[u8]>,
) -> Option<(
    &'static FileType,
    crate::vdfs::content::filetype::Identified,
)> {
    let registry = Registry::active();
    let name = path.file_name().map(os_bytes).unwrap_or_default();
    let head = head.map(|h| &h[..h.len().min(IDENTIFY_BYTES)]);
    let i = registry.identify(name, head)?;
    Some((registry.get(i.type_index)?, i))
}

/// The first `n` bytes of a regular file, without blocking on special files.
fn read_head(path: &Path, n: usize) -> Option<Vec<u8>> {
    use std::io::Read;
    let f = crate::vdfs::fs::entry::open_regular(path).ok()?;
    let len = f.metadata().ok()?.len();
    let mut buf = Vec::with_capacity(n.min(len as usize));
    f.take(n as u64).read_to_end(&mut buf).ok()?;
    Some(buf)
}

#[cfg(test)]
mod tests {

    /// The inspector's preview of a FIFO named like a text file returns at once with no
    /// preview (opening it would wait for a writer forever).
    #[cfg(unix)]
    #[test]
    fn the_preview_of_a_fifo_never_blocks() {
        use crate::vdfs::fs::testing::{fifo, within};
        let d = tempfile::tempdir().unwrap();
        let fifo = fifo(d.path(), "notes.txt");
        let d = within("the inspector blocked on a FIFO", move || {
            inspect(None, &[], &fifo)
        });
        assert!(d.text_preview.is_none());
    }

    use super::*;

    #[test]
    fn outside_the_index_the_options_decide_what_is_read() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("notes.txt"), b"hello\n").unwrap();
        let file = d.path().join("notes.txt");

        let seen = details(None, &[], &file, DetailOptions::INSPECTOR).unwrap();
        assert_eq!(seen.facts.kind, Some(EntryKind::File));
        assert_eq!(seen.facts.meta.size, 6);
        assert_eq!(seen.text_preview.as_deref(), Some("hello\n"));
        assert_eq!(seen.mime.as_deref(), Some("text/plain"));
        assert_eq!(seen.facts.sampled, None, "the inspector does not hash");
        assert!(seen.facts.indexed.is_none());

        let stat = details(None, &[], &file, DetailOptions::STAT).unwrap();
        let cas = crate::vdfs::content::sample_file(&file).unwrap().cas_id;
        assert_eq!(stat.facts.sampled, Some(cas));
        assert_eq!(stat.text_preview, None);
        let t = stat.facts.file_type.unwrap();
        assert_eq!((t.id.as_str(), t.source), ("text/plain", TypeSource::Bytes));
        assert!(t.confidence.is_some());
    }

    /// Regression: a folder named like a file type was shown with that type.
    #[test]
    fn a_folder_has_no_file_type_and_is_totalled_only_when_asked() {
        let d = tempfile::tempdir().unwrap();
        let folder = d.path().join("backup.zip");
        std::fs::create_dir_all(folder.join("inner")).unwrap();
        std::fs::write(folder.join("inner/a"), b"abc").unwrap();
        let seen = details(None, &[], &folder, DetailOptions::INSPECTOR).unwrap();
        assert_eq!(seen.facts.kind, Some(EntryKind::Dir));
        assert_eq!((seen.mime, seen.type_name, seen.folder), (None, None, None));
        let stat = details(None, &[], &folder, DetailOptions::STAT).unwrap();
        assert_eq!(stat.folder, Some((3, 1, 1)));
    }

    #[test]
    fn a_vanished_path_is_an_error_naming_it_and_the_inspector_keeps_the_path() {
        let d = tempfile::tempdir().unwrap();
        let gone = d.path().join("gone");
        let err = details(None, &[], &gone, DetailOptions::STAT).unwrap_err();
        assert!(err.to_string().contains("gone"), "{err}");
        assert_eq!(inspect(None, &[], &gone).path, gone);
    }
}
