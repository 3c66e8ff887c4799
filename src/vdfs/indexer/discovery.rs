//! Phase 1, discovery: the parallel walk of the location root (rules applied at the edge) and,
//! beside it, the stored entries of the location loaded for comparison. Then phases 2 and 3
//! (see [`super::processing`] and [`super::aggregation`]) turn the two into a plan.
//!
//! A scoped rescan walks one folder of the location instead (the *scope*), with the
//! location's rules applied as from the location root (`WalkOptions::rel_base`), and loads
//! only the stored entries below that folder, by the name key (never the whole location).
//! Its scope must be a folder that is indexed, is still a folder on disk and is not left out
//! by the rules; otherwise the scan widens to the nearest folder above it that is (the root
//! at worst), so a folder deleted or turned into a file since is found gone by a listing of
//! its parent — absence is never deletion without a successful listing.

use super::*;

/// The folder a scoped scan covers.
pub(super) struct Scope {
    /// Relative to the location root (never empty).
    pub(super) rel: PathBuf,
    /// Its entry id.
    pub(super) id: u64,
}

impl IndexerJob {
    /// Phases 1–3. Returns the location's new stats after a full scan; `None` after a scoped
    /// one, which has added its difference to them itself. In Content mode, also the hashing
    /// of the new and changed files, started before the writes (see [`Ahead`]).
    pub(super) fn scan(
        &mut self,
        ctx: &mut JobContext,
        loc: &LocationRecord,
    ) -> Result<(Option<LocationStats>, Ahead), JobError> {
        let rules = Compiled::new(&loc.rules).map_err(JobError::Failed)?;
        let scope = self.resolve_scope(ctx.store(), loc, &rules)?;
        before_walk_hook();
        let counters = Arc::new(WalkCounters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let opts = WalkOptions {
            rules: Arc::new(rules),
            stat: true,
            threads: 0,
            max_depth: None,
            stop: Some(stop.clone()),
            counters: Some(counters.clone()),
            rel_base: scope.as_ref().map(|s| s.rel.clone()).unwrap_or_default(),
        };
        // (Not `join` of an empty path, which would add a trailing slash.)
        let root = match &scope {
            Some(s) => loc.path().join(&s.rel),
            None => loc.path(),
        };
        let store = ctx.store().clone();
        let loc_id = loc.id;
        let scope_id = scope.as_ref().map(|s| s.id);
        // A first index of the whole location writes while it walks.
        let first = if scope.is_none() {
            FirstWrites::new(&store, loc, stop.clone())?
        } else {
            None
        };
        let fresh = first.is_some();
        // Discovery, and loading what the index holds, side by side.
        let (tree, existing) = std::thread::scope(|s| {
            // The walker says when it is done, so a small walk is not held up by the progress
            // loop's period.
            let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
            let walker = s.spawn(move || {
                let tree = match first {
                    Some(mut w) => {
                        let t = crate::vdfs::fs::walk::walk_streaming(&root, &opts, &mut |t, r| {
                            w.take(t, r);
                        });
                        let done = w.finish();
                        t.map(|t| (t, Some(done)))
                    }
                    None => walk(&root, &opts).map(|t| (t, None)),
                };
                let _ = done_tx.send(());
                tree
            });
            // (A first index has nothing stored to load: and what it writes meanwhile is
            // not "stored" for this run.)
            let loader = s.spawn(|| match scope_id {
                _ if fresh => Ok(Existing::default()),
                Some(id) => Existing::load_subtree(&store, id),
                None => Existing::load(&store, loc_id),
            });
            let mut interrupted = None;
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                done_rx.recv_timeout(Duration::from_millis(50))
            {
                ctx.progress(JobProgress {
                    phase: "discovery".into(),
                    completed: counters.entries.load(Ordering::Relaxed),
                    total: None,
                    bytes: counters.bytes.load(Ordering::Relaxed),
                    message: String::new(),
                });
                if let Err(e) = ctx.check_interrupt() {
                    stop.store(true, Ordering::Relaxed);
                    interrupted = Some(e);
                }
            }
            let tree = walker.join().expect("walker thread");
            let existing = loader.join().expect("loader thread");
            match interrupted {
                Some(e) => Err(e),
                None => Ok((tree, existing)),
            }
        })?;
        let (tree, first) = tree.map_err(|e| JobError::Failed(e.to_string()))?;
        let first = first.transpose()?;
        let existing = existing?;
        tracing::debug!(
            entries = tree.len(),
            stored = existing.recs.len(),
            "discovery done"
        );
        for e in &tree.errors {
            ctx.record_error(JobPathError::new(&e.path, e.message.clone()));
        }
        // The drive unplugged or the folder removed during the walk: every listing below it
        // failed, and nothing may be taken for deleted. Stop before changing anything.
        let now = crate::vdfs::index::location::locate_now(
            ctx.store(),
            loc,
            ctx.device(),
            &crate::vdfs::fs::volumes::detect(),
        )?;
        // (A first index wrote what it found as it walked: that stays, as entries of a
        // location whose scan did not end, and the next scan completes it.)
        let kept = if first.as_ref().is_some_and(|w| !w.ids.is_empty()) {
            "what it found before is kept in the index, and its next scan completes it"
        } else {
            "nothing in the index was changed"
        };
        if let Availability::Offline(why) | Availability::Missing(why) = now.availability {
            return Err(JobError::Failed(format!(
                "{why} (it went away during the scan); {kept}"
            )));
        }
        if let Some(to) = now.moved_to {
            return Err(JobError::Failed(format!(
                "its volume was mounted again at {} during the scan; {kept} (scan it again)",
                to.display()
            )));
        }
        self.counts.errors += tree.errors.len() as u64;
        self.counts.seen = u64::from(tree.len());

        let t = Instant::now();
        let plan = Plan::make(&tree, &existing, loc);
        self.unreadable = (tree.incomplete().count() as u64, plan.kept.len() as u64);
        let dir_stats = plan.dir_stats(&tree, &existing);
        // The location's totals are its root's aggregate, plus the root folder itself.
        let root = dir_stats
            .first()
            .filter(|(node, _)| *node == 0)
            .map(|(_, s)| *s)
            .unwrap_or_default();
        tracing::debug!(
            new = plan.new_nodes.len(),
            modified = plan.modified.len(),
            moved = plan.moved.len(),
            deleted = plan.deleted.len(),
            "compared in {:?}",
            t.elapsed()
        );
        // What the first index wrote while it walked is not written (or hashed) again.
        let mut plan = plan;
        if let Some(w) = &first {
            let done = w.ids.len();
            plan.ids[..done].copy_from_slice(&w.ids);
            plan.new_nodes.retain(|&n| n as usize >= done);
            self.counts.created += done as u64;
            self.counts.identified += w.identified;
        }
        // In Content mode, the new and changed files are hashed while the plan is written
        // (but for those whose content is known already: see `content::known`).
        let hints = crate::vdfs::content::known::any();
        let ahead = (loc.mode >= IndexMode::Content).then(|| {
            let files: Vec<_> = plan
                .new_nodes
                .iter()
                .copied()
                .chain(plan.modified.iter().map(|&(node, _)| node))
                .filter(|&i| {
                    let n = tree.node(i);
                    n.kind == EntryKind::File && n.size > 0
                })
                .map(|i| (i, tree.path(i)))
                .filter(|(i, path)| {
                    let n = tree.node(*i);
                    !hints || !crate::vdfs::content::known::has(path, n.size, n.mtime_ns)
                })
                .map(|(i, path)| (path, tree.name(i).to_vec()))
                .collect();
            (!files.is_empty()).then(|| Prehash::start(files))
        });
        let ahead = match ahead.flatten() {
            Some(p) => Ahead::Hashing(p),
            None if first.as_ref().is_some_and(|w| w.all_identified) => Ahead::Identified,
            None => Ahead::Nothing,
        };
        let t = Instant::now();
        self.apply(ctx, &tree, &existing, &plan, dir_stats, loc)?;
        tracing::debug!("written in {:?}", t.elapsed());
        if scope.is_some() {
            return Ok((None, ahead));
        }
        let stats = Some(LocationStats {
            files: root.files,
            dirs: root.dirs + 1,
            symlinks: root.symlinks,
            bytes: root.bytes,
            skipped: tree.skipped.clone(),
            errors: tree.errors.len() as u64,
        });
        Ok((stats, ahead))
    }

    /// The folder this run scans: `None` for the whole location, else the deepest folder on
    /// the way from the root to the asked scope that is indexed as a folder, is a folder on
    /// disk (`lstat`: a link is never followed) and is not left out by the rules. Saves it
    /// in [`IndexerJob::scope`] (content identification and a resumed run use it) and, if it
    /// is wider than asked, says why in [`IndexerJob::widened`].
    fn resolve_scope(
        &mut self,
        store: &Store,
        loc: &LocationRecord,
        rules: &Compiled,
    ) -> Result<Option<Scope>, JobError> {
        let asked = self.scope_path();
        if asked.as_os_str().is_empty() {
            return Ok(None);
        }
        let base = loc.path();
        let mut rel = PathBuf::new();
        let mut id = loc.root_entry;
        let mut why = None;
        for comp in asked.components() {
            let Some(parent) = id else {
                why = Some("the location was never indexed".to_owned());
                break;
            };
            let std::path::Component::Normal(name) = comp else {
                why = Some(format!("{} is not a plain relative path", asked.display()));
                break;
            };
            let next = rel.join(name);
            let here = base.join(&next);
            let name = crate::vdfs::fs::entry::os_bytes(name).to_vec();
            let child = store.read(|tx| {
                let Some(c) = crate::vdfs::index::child_id(tx, parent, &name)? else {
                    return Ok(None);
                };
                Ok(crate::vdfs::index::entry(tx, c)?.map(|r| (c, r.kind)))
            })?;
            let problem = match (child, std::fs::symlink_metadata(&here)) {
                (None, _) => Some("is not indexed yet".to_owned()),
                (Some((_, kind)), _) if kind != EntryKind::Dir => {
                    Some("is not indexed as a folder".to_owned())
                }
                (_, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    Some("is gone".to_owned())
                }
                (_, Err(e)) => Some(format!("cannot be examined ({e})")),
                (_, Ok(m)) if !m.is_dir() => Some("is no longer a folder".to_owned()),
                _ => crate::vdfs::fs::walk::rules_skip_dir(&base, &next, rules)
                    .map(|_| "is left out by the location's rules".to_owned()),
            };
            if let Some(p) = problem {
                why = Some(format!("{} {p}", here.display()));
                break;
            }
            rel = next;
            id = child.map(|(c, _)| c);
        }
        if let Some(why) = why {
            let wider = if rel.as_os_str().is_empty() {
                "the whole location".to_owned()
            } else {
                base.join(&rel).display().to_string()
            };
            tracing::info!(location = loc.id, "{why}: scanning {wider} instead");
            self.widened = Some(format!("{why}, so {wider} was rescanned"));
        }
        self.scope = (!rel.as_os_str().is_empty())
            .then(|| crate::vdfs::fs::entry::os_bytes(rel.as_os_str()).to_vec());
        Ok(match (self.scope.is_some(), id) {
            (true, Some(id)) => Some(Scope { rel, id }),
            _ => None,
        })
    }
}

/// The stored entries of one location, for comparison with a walk.
#[derive(Default)]
pub(super) struct Existing {
    pub(super) recs: Vec<(u64, EntryRecord)>,
    pub(super) by_id: FxHashMap<u64, usize>,
    /// `(parent id, hash of name)` → index; names are compared on lookup.
    pub(super) by_path: FxHashMap<(u64, u64), usize>,
    /// Indexes whose `(parent, name hash)` was taken by another name (hash collisions).
    pub(super) collided: Vec<usize>,
    pub(super) dir_stats: FxHashMap<u64, DirStats>,
    /// For a scoped scan, the index of the scope's folder (the walk's root); `None` when these
    /// are a whole location's entries.
    pub(super) scope_root: Option<usize>,
}

pub(super) fn name_hash(name: &[u8]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(name);
    h.finish()
}

impl Existing {
    /// Every stored entry of `location`.
    pub(super) fn load(store: &Store, location: u32) -> Result<Existing, StoreError> {
        store.read(|tx| {
            // The location's own range of ids: one range scan, whatever else the library
            // holds.
            let mut recs = Vec::new();
            for row in tx
                .open_table(ENTRIES)?
                .range(crate::vdfs::index::entry_ids(location))?
            {
                let (k, v) = row?;
                let rec: EntryRecord = decode_record(v.value())?;
                if rec.location == location {
                    recs.push((k.value(), rec));
                }
            }
            Existing::from_recs(tx, recs, None)
        })
    }

    /// Folder `id` and the stored entries below it (a scoped scan): read by the name key from
    /// that folder down, so the cost is the subtree's, not the location's.
    pub(super) fn load_subtree(store: &Store, id: u64) -> Result<Existing, StoreError> {
        store.read(|tx| {
            let recs = crate::vdfs::index::subtree(tx, id)?;
            if recs.is_empty() {
                return Err(StoreError::NotFound {
                    what: format!("entry {id}"),
                });
            }
            Existing::from_recs(tx, recs, Some(0))
        })
    }

    fn from_recs(
        tx: &redb::ReadTransaction,
        recs: Vec<(u64, EntryRecord)>,
        scope_root: Option<usize>,
    ) -> Result<Existing, StoreError> {
        let by_id = recs
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i))
            .collect();
        let mut by_path =
            FxHashMap::with_capacity_and_hasher(recs.len(), rustc_hash::FxBuildHasher);
        let mut collided = Vec::new();
        for (i, (_, r)) in recs.iter().enumerate() {
            if r.parent != 0
                && let Some(old) = by_path.insert((r.parent, name_hash(&r.name)), i)
            {
                collided.push(old);
            }
        }
        let mut dir_stats = FxHashMap::default();
        let ds = tx.open_table(DIR_STATS)?;
        for (id, r) in &recs {
            if r.kind == EntryKind::Dir
                && let Some(v) = ds.get(id)?
            {
                dir_stats.insert(*id, decode_record(v.value())?);
            }
        }
        Ok(Existing {
            recs,
            by_id,
            by_path,
            collided,
            dir_stats,
            scope_root,
        })
    }

    /// The stored child `name` of `parent`, if any.
    pub(super) fn child(&self, parent: u64, name: &[u8]) -> Option<usize> {
        let hit = self.by_path.get(&(parent, name_hash(name))).copied();
        if let Some(i) = hit
            && self.recs[i].1.name == name
            && self.recs[i].1.parent == parent
        {
            return Some(i);
        }
        if hit.is_none() || self.collided.is_empty() {
            return None;
        }
        self.collided
            .iter()
            .copied()
            .find(|&i| self.recs[i].1.parent == parent && self.recs[i].1.name == name)
    }

    /// How many stored folders are above stored entry `idx` (0 for a location root).
    pub(super) fn depth(&self, idx: usize) -> usize {
        let mut depth = 0;
        let mut cur = idx;
        while let Some(&p) = self.by_id.get(&self.recs[cur].1.parent) {
            depth += 1;
            cur = p;
            if depth > self.recs.len() {
                break;
            }
        }
        depth
    }
}

/// Environment variable a test sets to a file path: once the location was found online and
/// before the walk starts, the indexer creates that file and waits until the test deletes it,
/// so that the test can unplug the drive at that exact point ("during the scan"). Read only in
/// builds with debug assertions (the tests).
pub const BEFORE_WALK_ENV: &str = "CAIRN_TEST_BEFORE_WALK";

/// Environment variable a test sets to a marker path: a first index's early writes (see
/// [`FirstWrites`]) write it once the first batch of entries is committed (once per process)
/// and wait (up to 60 s) until it is removed, so a test can kill the job while the walk and its writes are under way. Read
/// only in builds with debug assertions.
pub const AFTER_FIRST_BATCH_ENV: &str = "CAIRN_TEST_AFTER_FIRST_BATCH";

fn after_first_batch_hook() {
    if !cfg!(debug_assertions) {
        return;
    }
    static ONCE: AtomicBool = AtomicBool::new(false);
    if std::env::var_os(AFTER_FIRST_BATCH_ENV).is_some() && !ONCE.swap(true, Ordering::Relaxed) {
        hold_at_marker(AFTER_FIRST_BATCH_ENV);
    }
}

fn before_walk_hook() {
    if cfg!(debug_assertions) {
        hold_at_marker(BEFORE_WALK_ENV);
    }
}

/// A test seam: when the environment variable `env` names a marker path, creates that file and
/// waits (up to 60 s) until the test removes it.
fn hold_at_marker(env: &str) {
    let Some(marker) = std::env::var_os(env) else {
        return;
    };
    let marker = PathBuf::from(marker);
    if std::fs::write(&marker, b"here").is_err() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while marker.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Ids reserved at a time by [`FirstWrites`] (a gap of at most this many stays unused).
const FIRST_IDS: u64 = 65_536;

/// Entries in a first index's first early batch (see [`FirstWrites`]).
const FIRST_BATCH: usize = 2_500;

/// The writes of a location's first index, made while the walk goes on: a location with no
/// stored entry has nothing to compare, so every node the walk finds is a new entry, written
/// in node order (parents first) as its folder's listing comes, in batches committed without
/// waiting for the disk (the scan's durable end makes them durable). The store's writer then
/// works beside the listing threads instead of after them. The batches start small
/// ([`FIRST_BATCH`]) and double up to [`WRITE_BATCH`], so the writer starts as soon as the
/// walk has found a few thousand entries instead of after the first 20,000.
///
/// The batches go through one thread ([`FirstStage`]) that, in Content mode, hashes each
/// batch's files first, so each entry is written once, with its cas_id, and the hashing
/// overlaps the walk.
///
/// Nothing of the job's state goes with these writes: a run interrupted or crashed after some
/// of them finds them stored, so it takes the usual way (it compares, keeps what is there,
/// adds the rest). A failed write stops the early writes; the job then fails with it.
pub(super) struct FirstWrites {
    store: Store,
    location: u32,
    root_name: Vec<u8>,
    registry: &'static Registry,
    now: i64,
    /// Whether the files are hashed before they are written (Content mode).
    hash: bool,
    /// Entry id of each node told so far (node order).
    ids: Vec<u64>,
    next_id: u64,
    ids_end: u64,
    batch: Vec<(u64, EntryRecord)>,
    /// Entries in the next batch handed over: [`FIRST_BATCH`], doubling up to [`WRITE_BATCH`].
    batch_limit: usize,
    /// When hashing, the files of `batch` (index in `batch`, path).
    files: Vec<(u32, PathBuf)>,
    /// When hashing, the non-empty files told so far.
    files_told: u64,
    /// Writes (and hashes) the batches; `None` once it stopped at a failed write.
    stage: Option<FirstStage>,
    error: Option<StoreError>,
}

/// What a first index's early writes stored (see [`FirstWrites::finish`]).
pub(super) struct FirstDone {
    /// The entry id of each node, all of them stored (node order).
    pub(super) ids: Vec<u64>,
    /// Files written with their cas_id.
    pub(super) identified: u64,
    /// Whether every non-empty file was written with its cas_id (Content mode, none
    /// unreadable, changed since the walk or left when the run was stopped).
    pub(super) all_identified: bool,
}

impl FirstWrites {
    /// Early writes for `loc` when it has no stored entry; `None` otherwise (or when the
    /// thread that writes them cannot be started: the scan then writes everything after the
    /// walk, as a rescan does). Once `stop` is set, files are no longer hashed (what is left
    /// is written without cas_ids, for the content phase of the resumed run).
    pub(super) fn new(
        store: &Store,
        loc: &LocationRecord,
        stop: Arc<AtomicBool>,
    ) -> Result<Option<FirstWrites>, StoreError> {
        let location = loc.id;
        let empty = store.read(|tx| {
            Ok(tx
                .open_table(ENTRIES)?
                .range(crate::vdfs::index::entry_ids(location))?
                .next()
                .is_none())
        })?;
        if !empty {
            return Ok(None);
        }
        let hash = loc.mode >= IndexMode::Content;
        Ok(
            FirstStage::start(store.clone(), stop).map(|stage| FirstWrites {
                store: store.clone(),
                location,
                root_name: loc.path.clone(),
                registry: Registry::active(),
                now: now_ms(),
                hash,
                ids: Vec::new(),
                next_id: 0,
                ids_end: 0,
                batch: Vec::with_capacity(FIRST_BATCH),
                batch_limit: FIRST_BATCH,
                files: Vec::new(),
                files_told: 0,
                stage: Some(stage),
                error: None,
            }),
        )
    }

    /// Takes the nodes `range` of `tree` (see [`crate::vdfs::fs::walk::walk_streaming`]).
    pub(super) fn take(&mut self, tree: &Tree, range: std::ops::Range<u32>) {
        if self.error.is_some() {
            return;
        }
        for n in range {
            debug_assert_eq!(self.ids.len(), n as usize, "nodes come in order");
            if self.next_id == self.ids_end {
                let location = self.location;
                // Volatile like the entries: commits keep their order, so entries that
                // survive a crash always have their reservation.
                match self
                    .store
                    .write_ticket_volatile(move |tx| {
                        crate::vdfs::index::reserve_entry_ids(tx, location, FIRST_IDS)
                    })
                    .wait()
                {
                    Ok(base) => (self.next_id, self.ids_end) = (base, base + FIRST_IDS),
                    Err(e) => {
                        self.error = Some(e);
                        return;
                    }
                }
            }
            let id = self.next_id;
            self.next_id += 1;
            self.ids.push(id);
            let node = tree.node(n);
            if self.hash && node.kind == EntryKind::File && node.size > 0 {
                self.files_told += 1;
                self.files.push((self.batch.len() as u32, tree.path(n)));
            }
            let (parent, name) = if n == 0 {
                (0, self.root_name.clone())
            } else {
                (self.ids[node.parent as usize], tree.name(n).to_vec())
            };
            self.batch.push((
                id,
                super::processing::new_entry(
                    tree,
                    n,
                    self.location,
                    parent,
                    name,
                    self.registry,
                    self.now,
                ),
            ));
            if self.batch.len() >= self.batch_limit {
                self.flush();
            }
        }
    }

    /// Hands the batch to the stage (which holds at most one more while it hashes and writes
    /// one).
    fn flush(&mut self) {
        if self.error.is_some() || self.batch.is_empty() {
            return;
        }
        let Some(stage) = &self.stage else { return };
        self.batch_limit = (self.batch_limit * 2).min(WRITE_BATCH);
        let entries = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_limit));
        if stage
            .tx
            .send((entries, std::mem::take(&mut self.files)))
            .is_err()
        {
            // The stage stopped at a failed write: its error ends the early writes.
            let stage = self.stage.take().expect("the stage");
            self.error = Some(
                stage
                    .finish()
                    .err()
                    .unwrap_or_else(|| StoreError::Conflict {
                        what: "the early writes stopped".into(),
                    }),
            );
        }
    }

    /// Writes what is left and waits for every write.
    ///
    /// # Errors
    /// The first write that failed.
    pub(super) fn finish(mut self) -> Result<FirstDone, StoreError> {
        self.flush();
        let identified = match self.stage.take().map(FirstStage::finish) {
            Some(Ok(n)) => n,
            Some(Err(e)) => return Err(self.error.take().unwrap_or(e)),
            None => 0,
        };
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(FirstDone {
            ids: self.ids,
            identified,
            all_identified: self.hash && identified == self.files_told,
        })
    }
}

/// The library file's write-back while a first index writes it: its batches are committed
/// without waiting for the disk, so the scan's durable end would write the whole new index
/// (tens of MB) at once. A thread beside the writes makes the file durable after each batch
/// ([`crate::vdfs::fs::ops::WriteBack`], kicked with `grew(1)`), so that end has little left.
/// redb keeps the pages it wrote in its cache (up to half of it, 32 MiB) until a durable
/// commit: only what it wrote out beyond that reaches the file early, so this helps large
/// indexes (`/usr/share`), not small ones (Papirus, whose 23 MB are all written at the end).
/// Only reads the file (a sync through a descriptor of its own); `None` if it cannot be opened.
fn write_back(store: &Store) -> Option<crate::vdfs::fs::ops::WriteBack> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(store.path())
        .ok()?;
    Some(crate::vdfs::fs::ops::WriteBack::new(&file, 1))
}

/// Where a scan leaves the content phase (Content mode).
pub(super) enum Ahead {
    /// Nothing done ahead: the content phase finds what to hash in the index.
    Nothing,
    /// The new and changed files, being hashed while the scan wrote (see [`Prehash`]).
    Hashing(Prehash),
    /// A first index that wrote every non-empty file with its cas_id: nothing is left to
    /// identify.
    Identified,
}

/// A batch of a first index's entries (id, record) and the files among them to hash (index in
/// the batch, path).
type FirstBatch = (Vec<(u64, EntryRecord)>, Vec<(u32, PathBuf)>);

/// The thread that writes a first index's batches ([`FirstWrites`]), in the order they come,
/// one write in flight while the next batch is gathered (and hashed). A batch with files to
/// hash (Content mode) has them hashed first ([`hash_batch`]: sampled cas_id and file type, on
/// one thread per core) and is written with its cas_ids by [`IndexWriter::insert_linked`]. A
/// file that cannot be read or changed size since the walk is written without a cas_id: the
/// content phase hashes it again and reports why it cannot. After each batch the library
/// file is written back ([`write_back`]).
struct FirstStage {
    tx: std::sync::mpsc::SyncSender<FirstBatch>,
    thread: std::thread::JoinHandle<Result<u64, StoreError>>,
}

impl FirstStage {
    /// The stage, or `None` if its thread cannot be started. Once `stop` is set, no more
    /// files are hashed.
    fn start(store: Store, stop: Arc<AtomicBool>) -> Option<FirstStage> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<FirstBatch>(1);
        let thread = std::thread::Builder::new()
            .name("cairn-first".into())
            .spawn(move || {
                let registry = Registry::active();
                let mut pending: Option<crate::store::WriteTicket<()>> = None;
                let mut identified = 0u64;
                let mut back = None;
                for (mut entries, files) in rx {
                    let links = hash_batch(&mut entries, &files, registry, &stop);
                    if let Some(p) = pending.take() {
                        p.wait()?;
                        after_first_batch_hook();
                        back = back.or_else(|| write_back(&store));
                        if let Some(b) = &mut back {
                            b.grew(1);
                        }
                    }
                    identified += links.len() as u64;
                    pending = Some(store.write_ticket_volatile(move |tx| {
                        IndexWriter::begin(tx)?.insert_linked(&mut entries, &links)
                    }));
                }
                if let Some(p) = pending {
                    p.wait()?;
                }
                Ok(identified)
            })
            .ok()?;
        Some(FirstStage { tx, thread })
    }

    /// Waits for every batch sent to be written. Returns how many files were written with a
    /// cas_id.
    ///
    /// # Errors
    /// The first write that failed.
    fn finish(self) -> Result<u64, StoreError> {
        drop(self.tx);
        self.thread.join().unwrap_or_else(|_| {
            Err(StoreError::Conflict {
                what: "the thread writing a first index panicked".into(),
            })
        })
    }
}

/// Hashes `files` (index in `entries`, path) on one thread per core and sets the cas_id (and
/// the content kind found in the bytes) of each entry hashed at the size the walk saw.
/// Returns their content links, in entry order. Hashes nothing more once `stop` is set.
fn hash_batch(
    entries: &mut [(u64, EntryRecord)],
    files: &[(u32, PathBuf)],
    registry: &'static Registry,
    stop: &AtomicBool,
) -> Vec<ContentLink> {
    if files.is_empty() || stop.load(Ordering::Relaxed) {
        return Vec::new();
    }
    let hints = crate::vdfs::content::known::any();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(files.len().div_ceil(64).max(1));
    let next = AtomicUsize::new(0);
    let recs: &[(u64, EntryRecord)] = entries;
    let work = || {
        let mut hasher = super::identification::FileHasher::new(registry);
        let mut out = Vec::new();
        while !stop.load(Ordering::Relaxed)
            && let Some((i, path)) = files.get(next.fetch_add(1, Ordering::Relaxed))
        {
            let rec = &recs[*i as usize].1;
            let known = hints
                .then(|| super::identification::known_hashed(path, rec.size, rec.mtime_ns))
                .flatten();
            let r = match known {
                Some(h) => Ok(h),
                None => hasher.hash(path, &rec.name),
            };
            if let Ok(h) = r
                && h.size == rec.size
            {
                out.push((*i, h));
            }
        }
        out
    };
    let mut hashed: Vec<(u32, super::identification::Hashed)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(s, work).ok())
            .collect();
        // No thread to be had: this one hashes them all (a worker that panicked leaves its
        // files to the content phase).
        let here = if workers.is_empty() {
            work()
        } else {
            Vec::new()
        };
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .chain(here)
            .collect()
    });
    hashed.sort_unstable_by_key(|(i, _)| *i);
    let mut links = Vec::with_capacity(hashed.len());
    for (i, h) in hashed {
        let (id, rec) = &mut entries[i as usize];
        if let Some(link) = super::identification::link_of(*id, &h, registry) {
            rec.cas = Some(link.cas);
            if link.kind != ContentKind::Unknown {
                rec.content_kind = link.kind;
            }
            links.push(link);
        }
    }
    links
}
