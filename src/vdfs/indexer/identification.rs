//! Phase 4, content identification (Content and Deep modes): the sampled BLAKE3 `cas_id` and
//! the file type of every file that lacks one, on all cores, linked to content identities
//! whose instance counts stay exact.

use super::*;

impl IndexerJob {
    /// Phase 4: content identification of the location's files that lack a cas_id (after a
    /// scoped scan, only those below its folder).
    pub(super) fn identify(
        &mut self,
        ctx: &mut JobContext,
        loc: &LocationRecord,
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
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        // Hashers run ahead while the job thread commits batches: reading and hashing overlap
        // with the store writes. Results go over in blocks of RESULT_BLOCK files: one channel
        // hop (and at most one wake-up of the job thread) per block, not per file.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(usize, std::io::Result<Hashed>)>>(
            2 * HASH_BATCH / RESULT_BLOCK,
        );
        std::thread::scope(|s| {
            for _ in 0..threads {
                let tx = tx.clone();
                let (todo, next, stop) = (&todo, &next, &stop);
                s.spawn(move || {
                    let mut buf = Vec::new();
                    let mut block = Vec::with_capacity(RESULT_BLOCK);
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = todo.get(i) else { break };
                        let r =
                            sample_file_in(&item.path, &mut buf).map(|(cas, size, head)| Hashed {
                                cas,
                                size,
                                type_index: registry
                                    .identify(&item.name, Some(head))
                                    .map(|i| i.type_index),
                            });
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
            drop(tx);
            let result = self.collect_links(ctx, &todo, &rx, registry, total);
            stop.store(true, Ordering::Relaxed);
            drop(rx);
            result
        })
    }

    /// Turns hash results into content links and commits them in batches.
    pub(super) fn collect_links(
        &mut self,
        ctx: &mut JobContext,
        todo: &[Pending],
        rx: &std::sync::mpsc::Receiver<Vec<(usize, std::io::Result<Hashed>)>>,
        registry: &Registry,
        total: u64,
    ) -> Result<(), JobError> {
        let mut done = 0u64;
        let mut bytes = 0u64;
        let mut links = Vec::with_capacity(HASH_BATCH);
        let mut received = 0usize;
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
                        if let Some(cas) = s.cas {
                            let ft = s.type_index.and_then(|i| registry.get(i));
                            links.push(ContentLink {
                                id: item.id,
                                cas,
                                size: s.size,
                                kind: ft.map_or(ContentKind::Unknown, |t| t.kind),
                                file_type: ft.map(|t| t.id.clone()),
                                mime: ft.map(|t| t.mime().to_owned()),
                            });
                        }
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
                ctx.checkpoint(self, move |tx| {
                    let mut w = IndexWriter::begin(tx)?;
                    w.link_contents(&batch)?;
                    Ok(())
                })?;
            }
            if finished {
                debug_assert_eq!(received, todo.len());
                return Ok(());
            }
        }
    }
}

/// Files per block of hash results sent from a hasher to the job thread.
const RESULT_BLOCK: usize = 64;

/// What a hasher thread found about one file.
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
                }),
                _ => {}
            }
        }
        Ok(out)
    })
}
