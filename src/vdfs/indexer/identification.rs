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
        // with the store writes.
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<(usize, std::io::Result<Hashed>)>(2 * HASH_BATCH);
        std::thread::scope(|s| {
            for _ in 0..threads {
                let tx = tx.clone();
                let (todo, next, stop) = (&todo, &next, &stop);
                s.spawn(move || {
                    let mut buf = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = todo.get(i) else { break };
                        let r = sample_file_with(&item.path, &mut buf).map(|s| Hashed {
                            cas: s.cas_id,
                            size: s.size,
                            type_index: registry
                                .identify(&item.name, Some(&s.head))
                                .map(|i| i.type_index),
                        });
                        if tx.send((i, r)).is_err() {
                            break;
                        }
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
        rx: &std::sync::mpsc::Receiver<(usize, std::io::Result<Hashed>)>,
        registry: &Registry,
        total: u64,
    ) -> Result<(), JobError> {
        let mut done = 0u64;
        let mut bytes = 0u64;
        let mut links = Vec::with_capacity(HASH_BATCH);
        let mut received = 0usize;
        loop {
            let next = rx.recv();
            let finished = next.is_err();
            if let Ok((i, r)) = next {
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
                let mut batch = std::mem::take(&mut links);
                batch.sort_unstable_by_key(|l| (l.cas, l.id));
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
                    for l in &batch {
                        w.link_content(l)?;
                    }
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
