//! Phase 4, content identification (Content and Deep modes): the sampled BLAKE3 `cas_id` and
//! the file type of every file that lacks one, on all cores, linked to content identities
//! whose instance counts stay exact.

use super::*;

impl IndexerJob {
    /// Phase 4: content identification of the location's files that lack a cas_id (after a
    /// scoped scan, only those below its folder).
    ///
    /// With `ahead` (the files the scan found new or changed, hashed while it wrote), the
    /// results already computed are taken over and only the files it did not cover are hashed
    /// here.
    pub(super) fn identify(
        &mut self,
        ctx: &mut JobContext,
        loc: &LocationRecord,
        ahead: Option<Prehash>,
    ) -> Result<(), JobError> {
        let todo = if self.scope.is_some() {
            let folder = loc.path().join(self.scope_path());
            match crate::vdfs::index::find_by_path(ctx.store(), std::slice::from_ref(loc), &folder)?
            {
                Some((_, id, _)) => pending_files_below(ctx.store(), id, &folder)?,
                // Gone from the index since the scan (removed with its location): nothing
                // left to identify there.
                None => Vec::new(),
            }
        } else {
            pending_files(ctx.store(), loc.id)?
        };
        let total = todo.len() as u64;
        let registry = Registry::active();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Which pending files were hashed ahead (`ahead_to_todo[j]`: the pending index of
        // ahead's file j), and the rest, hashed here.
        let mut ahead = ahead;
        let (rest, ahead_to_todo): (Vec<usize>, Vec<Option<usize>>) = match &ahead {
            Some(a) => {
                let by_path: FxHashMap<&Path, usize> = a
                    .files
                    .iter()
                    .enumerate()
                    .map(|(j, (p, _))| (p.as_path(), j))
                    .collect();
                let mut map = vec![None; a.files.len()];
                let mut rest = Vec::new();
                for (i, item) in todo.iter().enumerate() {
                    match by_path.get(item.path.as_path()) {
                        Some(&j) => map[j] = Some(i),
                        None => rest.push(i),
                    }
                }
                (rest, map)
            }
            None => ((0..todo.len()).collect(), Vec::new()),
        };
        // Files whose content this process already knows (a copy hashed as it was received,
        // `content::known`) are not read again.
        let (rest, known) = take_known(&todo, rest);
        let ahead_rx = ahead.as_mut().and_then(|a| a.rx.take());
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        // Hashers run ahead while the job thread commits batches: reading and hashing overlap
        // with the store writes. Results go over in blocks of RESULT_BLOCK files: one channel
        // hop (and at most one wake-up of the job thread) per block, not per file.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Block>(2 * HASH_BATCH / RESULT_BLOCK);
        std::thread::scope(|s| {
            for _ in 0..threads {
                let tx = tx.clone();
                let (todo, rest, next, stop) = (&todo, &rest, &next, &stop);
                s.spawn(move || {
                    let mut hasher = FileHasher::new(registry);
                    let mut block = Vec::with_capacity(RESULT_BLOCK);
                    while !stop.load(Ordering::Relaxed) {
                        let Some(&i) = rest.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            break;
                        };
                        let item = &todo[i];
                        let r = hasher.hash(&item.path, &item.name);
                        block.push((i, r));
                        if block.len() == RESULT_BLOCK
                            && tx.send(std::mem::take(&mut block)).is_err()
                        {
                            return;
                        }
                    }
                    if !block.is_empty() {
                        let _ = tx.send(block);
                    }
                });
            }
            if let Some(ahead_rx) = ahead_rx {
                // The results hashed ahead, renumbered as pending files (those no longer
                // pending are dropped).
                let tx = tx.clone();
                let map = &ahead_to_todo;
                s.spawn(move || {
                    for block in ahead_rx {
                        let block: Vec<_> = block
                            .into_iter()
                            .filter_map(|(j, r)| map[j].map(|i| (i, r)))
                            .collect();
                        if !block.is_empty() && tx.send(block).is_err() {
                            return;
                        }
                    }
                });
            }
            if !known.is_empty() {
                let tx = tx.clone();
                s.spawn(move || {
                    for block in known.chunks(RESULT_BLOCK) {
                        if tx
                            .send(block.iter().map(|(i, h)| (*i, Ok(h.clone()))).collect())
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
            drop(tx);
            let result = self.collect_links(ctx, &todo, &rx, registry, total);
            stop.store(true, Ordering::Relaxed);
            if let Some(a) = &ahead {
                a.stop.store(true, Ordering::Relaxed);
            }
            drop(rx);
            result
        })
    }

    /// Turns hash results into content links and commits them in batches.
    pub(super) fn collect_links(
        &mut self,
        ctx: &mut JobContext,
        todo: &[Pending],
        rx: &std::sync::mpsc::Receiver<Block>,
        registry: &Registry,
        total: u64,
    ) -> Result<(), JobError> {
        let mut done = 0u64;
        let mut bytes = 0u64;
        let mut links = Vec::with_capacity(HASH_BATCH);
        let mut received = 0usize;
        let mut last_durable = Instant::now();
        let mut pending = Vec::new().into_iter();
        loop {
            let next = match pending.next() {
                Some(r) => Some(r),
                None => match rx.recv() {
                    Ok(block) => {
                        pending = block.into_iter();
                        pending.next()
                    }
                    Err(_) => None,
                },
            };
            let finished = next.is_none();
            if let Some((i, r)) = next {
                received += 1;
                if received.is_multiple_of(256) {
                    // Hashing progress is live (throttled); what is committed is saved with
                    // each checkpoint.
                    ctx.progress(JobProgress {
                        phase: "content identification".into(),
                        completed: done,
                        total: Some(total),
                        bytes,
                        message: String::new(),
                    });
                }
                let item = &todo[i];
                done += 1;
                match r {
                    Ok(s) if s.size == item.size => {
                        bytes += s.size;
                        links.extend(link_of(item.id, &s, registry));
                    }
                    Ok(_) => ctx.record_error(JobPathError::new(
                        &item.path,
                        "changed while being identified; it is identified on the next scan",
                    )),
                    Err(e) => {
                        self.counts.errors += 1;
                        ctx.record_error(JobPathError::new(
                            &item.path,
                            format!("cannot identify its content: {e}"),
                        ));
                    }
                }
            }
            if links.len() >= HASH_BATCH || (finished && (!links.is_empty() || done > 0)) {
                let batch = std::mem::take(&mut links);
                self.counts.identified += batch.len() as u64;
                ctx.set_progress(JobProgress {
                    phase: "content identification".into(),
                    completed: done,
                    total: Some(total),
                    bytes,
                    message: String::new(),
                });
                let effects = move |tx: &WriteTransaction| {
                    let mut w = IndexWriter::begin(tx)?;
                    w.link_contents(&batch)?;
                    Ok(())
                };
                // A batch lost in a crash is redone on resume (its files are still without a
                // cas_id), so most batches are committed without waiting for the disk (a
                // durable commit waits for fdatasyncs of milliseconds each, on the writer
                // thread); one every DURABLE_EVERY, and the phase's end, make them durable.
                if last_durable.elapsed() >= DURABLE_EVERY {
                    ctx.checkpoint(self, effects)?;
                    last_durable = Instant::now();
                } else {
                    ctx.checkpoint_volatile(self, effects)?;
                }
            }
            if finished {
                debug_assert_eq!(received, todo.len());
                return Ok(());
            }
        }
    }
}

/// Splits the pending files `rest` (indexes into `todo`) into those still to hash and those
/// whose content is known already ([`crate::vdfs::content::known`], taken for the size and time
/// the scan stored), with what is known of them.
fn take_known(todo: &[Pending], rest: Vec<usize>) -> (Vec<usize>, Vec<(usize, Hashed)>) {
    if !crate::vdfs::content::known::any() {
        return (rest, Vec::new());
    }
    let mut known = Vec::new();
    let rest = rest
        .into_iter()
        .filter(|&i| {
            let p = &todo[i];
            match known_hashed(&p.path, p.size, p.mtime_ns) {
                Some(h) => {
                    known.push((i, h));
                    false
                }
                None => true,
            }
        })
        .collect();
    (rest, known)
}

/// What [`crate::vdfs::content::known`] holds for the file at `path`, taken (used once) for
/// exactly `size` and `mtime_ns`, as a hash result.
pub(super) fn known_hashed(path: &Path, size: u64, mtime_ns: i64) -> Option<Hashed> {
    crate::vdfs::content::known::take(path, size, mtime_ns).map(|k| Hashed {
        cas: Some(k.cas),
        size,
        type_index: k.type_index,
    })
}

/// The content link of entry `id` whose file was hashed as `h`, if that gave a cas_id.
pub(super) fn link_of(id: u64, h: &Hashed, registry: &Registry) -> Option<ContentLink> {
    let cas = h.cas?;
    let ft = h.type_index.and_then(|i| registry.get(i));
    Some(ContentLink {
        id,
        cas,
        size: h.size,
        kind: ft.map_or(ContentKind::Unknown, |t| t.kind),
        file_type: ft.map(|t| t.id.clone()),
        mime: ft.map(|t| t.mime().to_owned()),
    })
}

/// A hasher thread's state: its read buffer, and the folder of its last file, kept open so
/// that the next file of that folder is opened in it ([`crate::vdfs::content::sample_file_at`]:
/// one name lookup in the kernel instead of one per component of its path). Files are handed
/// out in walk or entry order, folder by folder, so most opens find their folder open.
pub(super) struct FileHasher<'r> {
    registry: &'r Registry,
    buf: Vec<u8>,
    /// The last file's folder, and its descriptor (`None`: it could not be opened, and its
    /// files are opened by path without trying again).
    folder: Option<(PathBuf, Option<std::os::fd::OwnedFd>)>,
}

impl<'r> FileHasher<'r> {
    pub(super) fn new(registry: &'r Registry) -> FileHasher<'r> {
        FileHasher {
            registry,
            buf: Vec::new(),
            folder: None,
        }
    }

    /// The cas_id and type of the file at `path` (its type named by `name`).
    ///
    /// # Errors
    /// As [`crate::vdfs::content::sample_file`]. A folder that cannot be opened is not an
    /// error of its own: the file is then opened by its path, which says why it cannot be.
    pub(super) fn hash(&mut self, path: &Path, name: &[u8]) -> std::io::Result<Hashed> {
        use std::os::fd::AsFd;
        let in_folder = match (path.parent(), path.file_name()) {
            (Some(parent), Some(file)) => {
                let open = self
                    .folder
                    .as_ref()
                    .is_some_and(|(p, _)| p.as_os_str() == parent.as_os_str());
                if !open {
                    let fd = crate::vdfs::fs::entry::open_dir(parent).ok();
                    self.folder = Some((parent.to_owned(), fd));
                }
                self.folder
                    .as_ref()
                    .and_then(|(_, fd)| fd.as_ref())
                    .map(|fd| (fd.as_fd(), file))
            }
            _ => None,
        };
        let sampled = match in_folder {
            Some((dir, file)) => {
                crate::vdfs::content::sample_file_at(dir, file, path, &mut self.buf)
            }
            None => sample_file_in(path, &mut self.buf),
        };
        sampled.map(|(cas, size, head)| Hashed {
            cas,
            size,
            type_index: self
                .registry
                .identify(name, Some(head))
                .map(|i| i.type_index),
        })
    }
}

/// At most this many files are hashed ahead (their results wait in memory, ~40 bytes each,
/// until the scan's writes are done); the rest are hashed in the content phase.
const AHEAD_MAX: usize = 250_000;

/// Files hashed ahead of the content phase, on one thread per core, while the scan writes the
/// entries it found: on a first index the store writer works alone on one core then, and the
/// hashing needs nothing from the store (the walk gave every path). [`IndexerJob::identify`]
/// takes the results over by path; a file that changed since is caught there as before (its
/// size differs from the stored one). Dropping it stops and joins the threads.
pub(super) struct Prehash {
    /// (path, name) of each file, in the order they are handed out.
    files: Arc<Vec<(PathBuf, Vec<u8>)>>,
    /// Blocks of (index in `files`, result), taken by `identify`.
    rx: Option<std::sync::mpsc::Receiver<Block>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Prehash {
    /// Starts hashing `files` ((path, name); at most [`AHEAD_MAX`] of them) on one thread per
    /// core.
    pub(super) fn start(mut files: Vec<(PathBuf, Vec<u8>)>) -> Prehash {
        files.truncate(AHEAD_MAX);
        let files = Arc::new(files);
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads: Vec<_> = (0..n)
            .filter_map(|k| {
                let (files, stop, next, tx) =
                    (files.clone(), stop.clone(), next.clone(), tx.clone());
                std::thread::Builder::new()
                    .name(format!("cairn-hash-{k}"))
                    .spawn(move || {
                        let mut hasher = FileHasher::new(Registry::active());
                        let mut block = Vec::with_capacity(RESULT_BLOCK);
                        while !stop.load(Ordering::Relaxed) {
                            let j = next.fetch_add(1, Ordering::Relaxed);
                            let Some((path, name)) = files.get(j) else {
                                break;
                            };
                            block.push((j, hasher.hash(path, name)));
                            if block.len() == RESULT_BLOCK
                                && tx.send(std::mem::take(&mut block)).is_err()
                            {
                                return;
                            }
                        }
                        if !block.is_empty() {
                            let _ = tx.send(block);
                        }
                    })
                    // No thread: its share is hashed in the content phase.
                    .ok()
            })
            .collect();
        Prehash {
            // Without a thread nothing is hashed ahead: every file is left to `identify`.
            files: if threads.is_empty() {
                Arc::new(Vec::new())
            } else {
                files
            },
            rx: Some(rx),
            stop,
            threads,
        }
    }
}

impl Drop for Prehash {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The longest time the content phase goes without a durable checkpoint (at most this much
/// hashing is redone after a crash).
const DURABLE_EVERY: Duration = Duration::from_secs(5);

/// A block of hash results: (index of the file in its list, what hashing it found).
type Block = Vec<(usize, std::io::Result<Hashed>)>;

/// Files per block of hash results sent from a hasher to the job thread.
const RESULT_BLOCK: usize = 64;

/// What a hasher thread found about one file.
#[derive(Clone)]
pub(super) struct Hashed {
    pub(super) cas: Option<CasId>,
    pub(super) size: u64,
    pub(super) type_index: Option<u16>,
}

/// A file waiting for content identification.
pub(super) struct Pending {
    pub(super) id: u64,
    pub(super) path: PathBuf,
    pub(super) name: Vec<u8>,
    pub(super) size: u64,
    /// Modification time as stored, ns since the epoch.
    pub(super) mtime_ns: i64,
}

/// The location's regular, non-empty files without a cas_id, with their paths.
pub(super) fn pending_files(store: &Store, location: u32) -> Result<Vec<Pending>, StoreError> {
    store.read(|tx| {
        let files = crate::vdfs::index::files_with_paths(tx, |rec| {
            rec.location == location && rec.size > 0 && rec.cas.is_none()
        })?;
        Ok(files
            .into_iter()
            .map(|(id, path, rec)| Pending {
                id,
                path,
                name: rec.name,
                size: rec.size,
                mtime_ns: rec.mtime_ns,
            })
            .collect())
    })
}

/// The regular, non-empty files without a cas_id below folder `id` (whose path is `path`),
/// read by the name key from that folder down (a scoped scan's, never its whole location).
pub(super) fn pending_files_below(
    store: &Store,
    id: u64,
    path: &std::path::Path,
) -> Result<Vec<Pending>, StoreError> {
    store.read(|tx| {
        let mut dirs: FxHashMap<u64, PathBuf> = FxHashMap::default();
        dirs.insert(id, path.to_owned());
        let mut out = Vec::new();
        // Parents come before their children, so each folder's path is known before its
        // entries.
        for (eid, rec) in crate::vdfs::index::subtree(tx, id)?.into_iter().skip(1) {
            let Some(dir) = dirs.get(&rec.parent) else {
                continue;
            };
            let full = dir.join(crate::vdfs::fs::entry::os_from_bytes(&rec.name));
            match rec.kind {
                EntryKind::Dir => {
                    dirs.insert(eid, full);
                }
                EntryKind::File if rec.size > 0 && rec.cas.is_none() => out.push(Pending {
                    id: eid,
                    path: full,
                    name: rec.name,
                    size: rec.size,
                    mtime_ns: rec.mtime_ns,
                }),
                _ => {}
            }
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_hasher_keeps_a_folder_open_and_hashes_as_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        let mut paths = Vec::new();
        for (i, folder) in [&a, &a, &b, &a, &b, &b].into_iter().enumerate() {
            let path = folder.join(format!("f{i}.txt"));
            std::fs::write(&path, format!("file {i}\n").repeat(i + 1)).unwrap();
            paths.push(path);
        }
        let registry = Registry::builtin();
        let mut hasher = FileHasher::new(registry);
        for path in &paths {
            let h = hasher.hash(path, b"x.txt").unwrap();
            let mut buf = Vec::new();
            let (cas, size, head) = sample_file_in(path, &mut buf).unwrap();
            assert_eq!((h.cas, h.size), (cas, size), "{}", path.display());
            assert_eq!(
                h.type_index,
                registry
                    .identify(b"x.txt", Some(head))
                    .map(|i| i.type_index)
            );
            assert_eq!(
                hasher
                    .folder
                    .as_ref()
                    .map(|(p, fd)| (p.as_path(), fd.is_some())),
                Some((path.parent().unwrap(), true))
            );
        }
        // The folder held open goes away: its file is not found, as by its path.
        std::fs::remove_dir_all(&b).unwrap();
        let gone = hasher.hash(&b.join("f5.txt"), b"x.txt").map(|_| ());
        assert_eq!(
            gone.map_err(|e| e.kind()),
            Err(std::io::ErrorKind::NotFound)
        );
        // A folder that cannot be opened: the file by its path, with that error.
        let never = dir.path().join("never").join("f.txt");
        let none = hasher.hash(&never, b"x.txt").map(|_| ());
        assert_eq!(
            none.map_err(|e| e.kind()),
            Err(std::io::ErrorKind::NotFound)
        );
        // Remembered as such: its next file goes straight to its path.
        assert!(matches!(&hasher.folder, Some((p, None)) if p == never.parent().unwrap()));
        // And a file in a folder still there is hashed again.
        assert!(hasher.hash(&paths[0], b"x.txt").unwrap().cas.is_some());
    }
}
