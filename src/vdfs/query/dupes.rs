//! Duplicates: groups of entries with the same content identity, straight from the index
//! (no file is read), largest waste first; optionally confirmed by full-file hashes.
//!
//! The sampled `cas_id` can collide for files that differ only outside its samples, so a group
//! is only *confirmed* — safe to act on destructively — once every member's integrity hash
//! (BLAKE3 of the whole file) agrees; members that differ are split off and reported.

use std::path::{Path, PathBuf};

use redb::ReadableTable;
use serde::Serialize;

use crate::store::schema::CONTENT;
use crate::store::{Store, StoreError};
use crate::vdfs::content::integrity_hash;
use crate::vdfs::index::{self, ContentRecord};

/// One copy in a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    /// Entry id.
    pub entry: u64,
    /// Location id.
    pub location: u32,
    /// Absolute path.
    #[serde(serialize_with = "crate::format::lossy_path")]
    pub path: PathBuf,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Set when this path is a hard link of an earlier member (same device and inode): the
    /// same file, not a copy — removing it frees nothing, and it never counts as a copy.
    pub same_file_as: Option<u64>,
}

/// A group of entries with the same content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The shared sampled hash.
    pub cas_id: String,
    /// Bytes of one copy.
    pub size: u64,
    /// Bytes that deleting all but one copy would free.
    pub wasted: u64,
    /// The copies (at least two), by path.
    pub members: Vec<Member>,
    /// `Some(true)` when full-file hashes were compared and agree; `None` when not checked.
    pub confirmed: Option<bool>,
}

/// What to look at.
#[derive(Debug, Clone, Default)]
pub struct DupesQuery {
    /// Only copies inside this folder (absolute, canonical).
    pub within: Option<PathBuf>,
    /// Only contents at least this large, in bytes.
    pub min_size: u64,
}

/// The duplicate groups of the library, largest waste first.
///
/// # Errors
/// [`StoreError`].
pub fn find(store: &Store, q: &DupesQuery) -> Result<Vec<Group>, StoreError> {
    let mut groups = store.read(|tx| {
        let t = tx.open_table(CONTENT)?;
        let mut out = Vec::new();
        // Folder paths are shared by many members: resolve each folder once.
        let mut dirs: std::collections::HashMap<u64, PathBuf> = std::collections::HashMap::new();
        for row in t.iter()? {
            let rec: ContentRecord = crate::store::record::decode_record(row?.1.value())?;
            if rec.instances < 2 || rec.size < q.min_size.max(1) {
                continue;
            }
            let mut members = Vec::new();
            for id in index::instances(tx, rec.cas)? {
                let Some(e) = index::entry(tx, id)? else {
                    continue;
                };
                let dir = match dirs.get(&e.parent) {
                    Some(d) => d.clone(),
                    None => {
                        let d = index::path_of(tx, e.parent)?;
                        dirs.insert(e.parent, d.clone());
                        d
                    }
                };
                let path = dir.join(crate::vdfs::fs::entry::os_from_bytes(&e.name));
                if q.within.as_ref().is_some_and(|w| !path.starts_with(w)) {
                    continue;
                }
                members.push((
                    (e.dev, e.inode),
                    Member {
                        entry: id,
                        location: e.location,
                        path,
                        mtime_ns: e.mtime_ns,
                        same_file_as: None,
                    },
                ));
            }
            // Hard links are one file: a group needs two distinct files to be duplicates.
            members.sort_by(|a, b| a.1.path.cmp(&b.1.path));
            let mut first_of: std::collections::HashMap<(u64, u64), u64> =
                std::collections::HashMap::new();
            let members: Vec<Member> = members
                .into_iter()
                .map(|(file, mut m)| {
                    match first_of.get(&file) {
                        Some(&first) => m.same_file_as = Some(first),
                        None => {
                            first_of.insert(file, m.entry);
                        }
                    }
                    m
                })
                .collect();
            let files = first_of.len() as u64;
            if files >= 2 {
                out.push(Group {
                    cas_id: rec.cas.to_string(),
                    size: rec.size,
                    wasted: rec.size * (files - 1),
                    members,
                    confirmed: None,
                });
            }
        }
        Ok(out)
    })?;
    groups.sort_by(|a, b| {
        b.wasted
            .cmp(&a.wasted)
            .then_with(|| a.cas_id.cmp(&b.cas_id))
    });
    Ok(groups)
}

/// Total bytes the groups waste.
pub fn total_wasted(groups: &[Group]) -> u64 {
    groups.iter().map(|g| g.wasted).sum()
}

/// What confirming found besides the confirmed groups.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Unconfirmed {
    /// Copies whose full content differs from the rest of their group (sampled-hash
    /// collisions): `(cas_id, path)`.
    #[serde(serialize_with = "crate::format::lossy_text_paths")]
    pub differ: Vec<(String, PathBuf)>,
    /// Copies that could not be read: `(path, reason)`.
    #[serde(serialize_with = "crate::format::lossy_path_texts")]
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Compares the full-file hashes inside every group (on `threads` threads). Each group is
/// split by full hash; the parts with two or more members are confirmed groups, the others are
/// reported in [`Unconfirmed`].
pub fn confirm(groups: Vec<Group>, threads: usize) -> (Vec<Group>, Unconfirmed) {
    let paths: Vec<&Path> = groups
        .iter()
        .flat_map(|g| g.members.iter().map(|m| m.path.as_path()))
        .collect();
    let hashes = hash_all(&paths, threads);
    let mut by_path: std::collections::HashMap<&Path, Hashed> =
        paths.iter().copied().zip(hashes).collect();
    let mut out = Vec::new();
    let mut un = Unconfirmed::default();
    for g in &groups {
        let mut parts: Vec<([u8; 32], Vec<Member>)> = Vec::new();
        for m in &g.members {
            match by_path
                .remove(m.path.as_path())
                .unwrap_or(Err("not hashed".into()))
            {
                Ok(h) => match parts.iter_mut().find(|p| p.0 == h) {
                    Some(p) => p.1.push(m.clone()),
                    None => parts.push((h, vec![m.clone()])),
                },
                Err(e) => un.unreadable.push((m.path.clone(), e)),
            }
        }
        for (_, members) in parts {
            if members.len() >= 2 {
                out.push(Group {
                    wasted: g.size * (members.len() as u64 - 1),
                    members,
                    confirmed: Some(true),
                    ..g.clone()
                });
            } else {
                un.differ
                    .extend(members.into_iter().map(|m| (g.cas_id.clone(), m.path)));
            }
        }
    }
    out.sort_by(|a, b| {
        b.wasted
            .cmp(&a.wasted)
            .then_with(|| a.cas_id.cmp(&b.cas_id))
    });
    (out, un)
}

/// A full-file hash, or why the file could not be read.
type Hashed = Result<[u8; 32], String>;

fn hash_all(paths: &[&Path], threads: usize) -> Vec<Hashed> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Hashed>>> =
        paths.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(p) = paths.get(i) else { break };
                    let r = integrity_hash(p)
                        .map(|h| *h.as_bytes())
                        .map_err(|e| e.to_string());
                    *results[i].lock().expect("hash slot") = Some(r);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .expect("hash slot")
                .unwrap_or(Err("not hashed".into()))
        })
        .collect()
}

/// Which copy of each group to keep (the rest are candidates for a later action).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Keep {
    /// The most recently modified copy.
    #[default]
    Newest,
    /// The least recently modified copy.
    Oldest,
    /// The copy inside this folder (a reference location); groups without one keep none.
    In(PathBuf),
    /// The copy with the shortest path (in bytes; the first by path on a tie).
    Shortest,
}

/// For each group, the index of the member to keep under `rule` (`None`: no member matches).
pub fn keep(groups: &[Group], rule: &Keep) -> Vec<Option<usize>> {
    groups
        .iter()
        .map(|g| {
            let it = g.members.iter().enumerate();
            match rule {
                Keep::Newest => it.max_by_key(|(_, m)| m.mtime_ns).map(|(i, _)| i),
                Keep::Oldest => it.min_by_key(|(_, m)| m.mtime_ns).map(|(i, _)| i),
                Keep::In(dir) => it
                    .filter(|(_, m)| m.path.starts_with(dir))
                    .map(|(i, _)| i)
                    .next(),
                // `min_by_key` keeps the first of equal keys: the first by path.
                Keep::Shortest => it
                    .min_by_key(|(_, m)| m.path.as_os_str().len())
                    .map(|(i, _)| i),
            }
        })
        .collect()
}

/// What trashing every copy but the kept ones would do (see [`others`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reclaim {
    /// The copies to trash, group by group, each group's in its member order.
    pub paths: Vec<PathBuf>,
    /// Bytes freed: one copy's size for each file all of whose names go (a hard link of a
    /// file that stays frees nothing).
    pub bytes: u64,
    /// Groups with at least one copy to trash.
    pub groups: usize,
    /// Groups in which no copy is kept: refused, nothing of them is in `paths`.
    pub unkept: usize,
}

/// The copies [`others`] would trash, each paired with the kept member of its group on its
/// device (the first such), to be replaced by a hard link to it; and how many copies have no
/// kept member on their device (a hard link cannot cross volumes), which are left out. Reads
/// each copy's device (`lstat`); a copy that cannot be read counts as having none.
pub fn link_pairs(
    groups: &[Group],
    kept: impl Fn(&Member) -> bool,
) -> (Vec<(PathBuf, PathBuf)>, usize) {
    use std::os::unix::fs::MetadataExt;
    let dev = |p: &Path| std::fs::symlink_metadata(p).ok().map(|m| m.dev());
    let (mut pairs, mut elsewhere) = (Vec::new(), 0);
    for g in groups {
        let to_link = others(std::slice::from_ref(g), &kept).paths;
        if to_link.is_empty() {
            continue;
        }
        let keepers: Vec<(&PathBuf, Option<u64>)> = g
            .members
            .iter()
            .filter(|m| kept(m))
            .map(|m| (&m.path, dev(&m.path)))
            .collect();
        for copy in to_link {
            let here = dev(&copy);
            match keepers.iter().find(|k| here.is_some() && k.1 == here) {
                Some((k, _)) => pairs.push((copy, (*k).clone())),
                None => elsewhere += 1,
            }
        }
    }
    (pairs, elsewhere)
}

/// The copies of `groups` to trash so that only those `kept` says to keep remain.
///
/// Never the last copy: a group in which no member is kept is counted in
/// [`Reclaim::unkept`] and left whole. Hard links of a kept file (the same device and inode,
/// [`Member::same_file_as`]) are the kept file itself and are left alone too.
pub fn others(groups: &[Group], kept: impl Fn(&Member) -> bool) -> Reclaim {
    let mut r = Reclaim::default();
    // A member's file: the entry of its first name (hard links share it).
    let file = |m: &Member| m.same_file_as.unwrap_or(m.entry);
    for g in groups {
        let kept_files: std::collections::HashSet<u64> =
            g.members.iter().filter(|m| kept(m)).map(file).collect();
        if kept_files.is_empty() {
            r.unkept += 1;
            continue;
        }
        let mut gone = std::collections::HashSet::new();
        for m in &g.members {
            if !kept_files.contains(&file(m)) {
                r.paths.push(m.path.clone());
                gone.insert(file(m));
            }
        }
        if !gone.is_empty() {
            r.groups += 1;
            r.bytes += g.size * gone.len() as u64;
        }
    }
    r
}
