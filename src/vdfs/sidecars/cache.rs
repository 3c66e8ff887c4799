//! Thumbnails for the explorer's grid and preview: the library's sidecar when the content is
//! known (made and saved when missing), else a size-capped cache of thumbnails of unindexed
//! images in the data folder (`cache/thumbs/`, at most [`EPHEMERAL_CAP`] bytes, oldest removed
//! first).

use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::vdfs::home::atomic::write_atomic;
use crate::vdfs::sidecars::thumbnail::{THUMB_SIZE, make_thumbnail, thumbnail_path};

/// Bytes the ephemeral thumbnail cache may hold before its oldest files are removed.
pub const EPHEMERAL_CAP: u64 = 128 * 1024 * 1024;

/// The thumbnail of the image at `path`, decoded to RGBA (at most [`THUMB_SIZE`] pixels a
/// side). With `content` and a library's `sidecars` folder it is that content's sidecar (shared
/// by every copy); otherwise it is kept in `ephemeral_dir`, keyed by path, size and mtime, and
/// that folder is pruned to [`EPHEMERAL_CAP`]. `None` if the file is not a decodable image.
/// A symbolic link shows the picture it points to (half of an icon theme's files are links);
/// a dangling link or a loop of links has none. Reads the original only; blocking (call it
/// off the UI thread).
pub fn thumbnail(
    path: &Path,
    content: Option<Uuid>,
    sidecars: Option<&Path>,
    ephemeral_dir: &Path,
) -> Option<image::RgbaImage> {
    let (cache_file, ephemeral) = match (content, sidecars) {
        (Some(uuid), Some(sidecars)) => (thumbnail_path(sidecars, uuid), false),
        _ => {
            let m = std::fs::metadata(path).ok()?;
            let key = format!("{}:{}:{:?}", path.display(), m.len(), m.modified().ok());
            let hash = blake3::hash(key.as_bytes()).to_hex();
            (ephemeral_dir.join(format!("{}.jpg", &hash[..32])), true)
        }
    };
    let bytes = match std::fs::read(&cache_file) {
        Ok(b) => b,
        Err(_) => {
            // The link's target, by its own name (an icon linked as `x.svg` may be a PNG).
            let source = if std::fs::symlink_metadata(path).ok()?.is_symlink() {
                std::fs::canonicalize(path).ok()?
            } else {
                path.to_owned()
            };
            let b = make_thumbnail(&source, THUMB_SIZE).ok()?;
            if let Some(dir) = cache_file.parent()
                // sidecars/thumbs/XX in a library, or cache/thumbs in the data folder.
                && crate::vdfs::home::atomic::ensure_own_dirs(dir, if ephemeral { 2 } else { 3 })
                    .is_ok()
            {
                let _ = write_atomic(&cache_file, &b, None);
                if ephemeral {
                    prune(dir, EPHEMERAL_CAP);
                }
            }
            b
        }
    };
    Some(image::load_from_memory(&bytes).ok()?.to_rgba8())
}

/// True for the names [`thumbnail`] gives ephemeral thumbnails (32 hex digits + `.jpg`): only
/// those are ever pruned, so a file someone else put in the folder is left alone.
fn is_ours(name: &std::ffi::OsStr) -> bool {
    let Some(n) = name.to_str() else { return false };
    n.len() == 36 && n.ends_with(".jpg") && n[..32].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Keeps the thumbnails [`thumbnail`] wrote in `dir` under `cap` bytes by removing the oldest
/// (down to 90 % of `cap`).
fn prune(dir: &Path, cap: u64) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = rd
        .flatten()
        .filter(|e| is_ours(&e.file_name()))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            m.is_file().then_some(())?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    if total <= cap {
        return;
    }
    files.sort();
    for (_, len, p) in files {
        if total <= cap * 9 / 10 {
            break;
        }
        if std::fs::remove_file(&p).is_ok() {
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_to_an_image_shows_its_picture_a_dangling_or_looping_one_none() {
        let d = tempfile::tempdir().unwrap();
        let cache = d.path().join("cache");
        let svg = d.path().join("real.svg");
        std::fs::write(
            &svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="blue"/></svg>"#,
        )
        .unwrap();
        let link = d.path().join("alias.svg");
        std::os::unix::fs::symlink("real.svg", &link).unwrap();
        let img = thumbnail(&link, None, None, &cache).expect("the target's picture");
        assert_eq!(img.get_pixel(1, 1).0, [0, 0, 255, 255]);
        let dangling = d.path().join("gone.svg");
        std::os::unix::fs::symlink("nowhere.svg", &dangling).unwrap();
        assert!(thumbnail(&dangling, None, None, &cache).is_none());
        let a = d.path().join("a.svg");
        let b = d.path().join("b.svg");
        std::os::unix::fs::symlink("b.svg", &a).unwrap();
        std::os::unix::fs::symlink("a.svg", &b).unwrap();
        assert!(thumbnail(&a, None, None, &cache).is_none());
    }

    #[test]
    fn pruning_removes_the_oldest_thumbnails_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let foreign = d.path().join("holiday.jpg");
        std::fs::write(&foreign, vec![0u8; 600]).unwrap();
        let mut ours = Vec::new();
        for i in 0..4u8 {
            let p = d.path().join(format!("{:032x}.jpg", i));
            std::fs::write(&p, vec![0u8; 100]).unwrap();
            let t =
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 + i as u64);
            std::fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
            ours.push(p);
        }
        prune(d.path(), 250);
        assert!(
            foreign.exists(),
            "a file Cairn did not write is never pruned"
        );
        let left: Vec<bool> = ours.iter().map(|p| p.exists()).collect();
        assert_eq!(
            left,
            [false, false, true, true],
            "oldest first, down to 90 % of the cap"
        );
    }
}
