//! The live index: every online location that is watched (the default) has an inotify watch
//! (through `notify`) on each of its indexed folders, and what changes on disk is written into
//! the index within a fraction of a second, through the one write path.
//!
//! - **Events are hints, the disk is the truth.** An event marks its folder dirty; dirty
//!   folders are gathered for a short quiet spell ([`QUIET`], at most [`MAX_WAIT`] after the
//!   first) and then synced together ([`sync`]): each is listed and compared with the index.
//!   A write-write-write of one file is one entry with its final size; an editor's "write a
//!   temporary file, rename it over" keeps the entry and its UUID; a rename or a move seen in
//!   one batch keeps UUIDs (of a folder's whole subtree too), across locations as well.
//! - **Under the location's lease**: a batch is written only while no job writes the same
//!   location (`JobManager::try_lease`); otherwise it waits and is tried again.
//! - **Never a guess**: a queue overflow (`IN_Q_OVERFLOW`) starts a rescan job of every watched
//!   location; a folder that cannot be listed keeps what the index knew; an offline location
//!   (its drive unmounted) is never synced, so nothing is deleted for being absent.
//! - **Limits**: when the system's watch limit (`fs.inotify.max_user_watches`) is reached, the
//!   status says how many folders are watched of how many, and the unwatched ones are listed
//!   again every [`UNWATCHED_EVERY`].
//! - **Catching up**: when a location starts being watched, every indexed folder whose mtime
//!   differs from the stored one is listed again first (a folder's mtime changes when an entry
//!   is added, removed or renamed in it); then a rescan job compares the rest (files rewritten
//!   in place) in the background while the watches are added; folders whose mtime changed while
//!   the watches were being added are listed once they are. (A file rewritten in place in a
//!   folder after the rescan listed it and before its watch existed waits for its next change.)
//! - **Content**: files new or changed in a Content or Deep location are identified (sampled
//!   BLAKE3 cas_id and type) once they have not changed for [`SETTLE`].
//!
//! One thread per open library runs it ([`LiveIndex`]); `notify`'s own thread reads inotify and
//! hands events over a channel. Watches are per folder (non-recursive), so each one is counted
//! and follows its folder when it is renamed.

pub mod sync;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use uuid::Uuid;

use crate::store::Store;
use crate::store::schema::{DIR_STATS, ENTRIES};
use crate::vdfs::content::filetype::Registry;
use crate::vdfs::events::{Event, EventBus};
use crate::vdfs::fs::entry::{EntryKind, Meta, os_from_bytes};
use crate::vdfs::fs::rules::Compiled;
use crate::vdfs::index::location::{self, Availability, IndexMode, LocationRecord};
use crate::vdfs::index::write::{ContentLink, IndexWriter};
use crate::vdfs::jobs::{JobManager, Resource};

use super::IndexerJob;
use sync::Loc;

/// inotify instances (and `notify` threads) per live index. `notify` adds each watch by a
/// round trip to its instance's thread (~0.1 ms on a busy 2-core machine); the watches of a
/// large location are added on this many instances at once.
pub const WATCHERS: usize = 4;

/// A batch is written once no event came for this long…
pub const QUIET: Duration = Duration::from_millis(20);
/// …or this long after its first event, whichever comes first.
pub const MAX_WAIT: Duration = Duration::from_millis(80);
/// A batch whose location is being written by a job is tried again after this long.
const RETRY: Duration = Duration::from_millis(200);
/// A new or changed file is identified once it has not changed for this long.
pub const SETTLE: Duration = Duration::from_secs(1);
/// Folders left without a watch (the system's limit reached) are listed again this often.
pub const UNWATCHED_EVERY: Duration = Duration::from_secs(60);

/// What the live index watches of one location.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WatchStatus {
    /// Indexed folders of the location.
    pub folders: u64,
    /// Folders with a watch.
    pub watched: u64,
    /// True once the system's watch limit stopped more watches from being added.
    pub limit_reached: bool,
    /// Folders still to be compared with the disk after the watch started (catching up).
    pub catching_up: u64,
}

impl WatchStatus {
    /// One line for a status bar or `location list`, e.g. "watching 8,192 of 23,000 folders —
    /// raise fs.inotify.max_user_watches".
    pub fn describe(&self) -> String {
        let mut s = if self.limit_reached {
            format!(
                "watching {} of {} folders — raise fs.inotify.max_user_watches; the others are listed again every {} s",
                crate::format::count(self.watched),
                crate::format::count(self.folders),
                UNWATCHED_EVERY.as_secs()
            )
        } else {
            format!(
                "watching {} folder{}",
                crate::format::count(self.watched),
                if self.watched == 1 { "" } else { "s" }
            )
        };
        if self.catching_up > 0 {
            s.push_str(&format!(
                "; catching up with {} folders",
                crate::format::count(self.catching_up)
            ));
        }
        s
    }
}

/// What the live index needs from its library.
pub struct LiveContext {
    /// The library's store.
    pub store: Store,
    /// Its jobs (leases, rescans after an overflow).
    pub jobs: JobManager,
    /// Where changes are announced ([`Event::IndexChanged`], [`Event::WatchChanged`]).
    pub events: EventBus,
    /// This device (only its own locations are watched).
    pub device: Uuid,
    /// Rescan a location indexed before the start in the background once its changed
    /// folders are synced (the files rewritten in place while nobody watched).
    pub catch_up_rescan: bool,
    /// Where each transaction's touched entries are recorded for the search name index.
    pub names_delta: Arc<crate::vdfs::index::NamesDelta>,
    /// For tests: behave as if the system's limit were this many watches, and list the
    /// unwatched folders this often (`None`: the system's limit, [`UNWATCHED_EVERY`]).
    pub test_limit: Option<(u64, Duration)>,
}

enum Msg {
    Fs(notify::Result<notify::Event>),
    /// Read the location records again: watch the new or newly indexed ones, stop watching
    /// the removed, offline or switched-off ones.
    Refresh,
    /// The mount table changed: a refresh, and the window is told.
    Mounts,
    Stop,
}

/// The live index of one open library: a thread and its watches. Stopped (and joined) when
/// dropped.
pub struct LiveIndex {
    tx: Sender<Msg>,
    status: Arc<Mutex<BTreeMap<u32, WatchStatus>>>,
    thread: Option<std::thread::JoinHandle<()>>,
    forward: Option<tokio::task::JoinHandle<()>>,
    mounts: Option<MountMonitor>,
}

/// A thread told by the kernel when the mount table changes (`poll` on
/// `/proc/self/mountinfo` signals `POLLPRI`): a drive unplugged or mounted goes to the live
/// index as a refresh at once, without polling. Stopped through an eventfd when dropped.
struct MountMonitor {
    stop: std::os::fd::OwnedFd,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MountMonitor {
    fn start(tx: Sender<Msg>) -> std::io::Result<MountMonitor> {
        use rustix::event::{EventfdFlags, PollFd, PollFlags, eventfd, poll};
        use std::io::{Read, Seek};
        let stop = eventfd(0, EventfdFlags::CLOEXEC)?;
        let wake = stop.try_clone()?;
        let mut table = std::fs::File::open("/proc/self/mountinfo")?;
        let thread = std::thread::Builder::new()
            .name("cairn-mounts".into())
            .spawn(move || {
                let mut buf = Vec::new();
                loop {
                    // Reading the table to its end arms the next notification.
                    buf.clear();
                    if table.rewind().is_err() || table.read_to_end(&mut buf).is_err() {
                        return;
                    }
                    let mut fds = [
                        PollFd::new(&table, PollFlags::PRI | PollFlags::ERR),
                        PollFd::new(&wake, PollFlags::IN),
                    ];
                    if poll(&mut fds, None).is_err() {
                        return;
                    }
                    if !fds[1].revents().is_empty() {
                        return;
                    }
                    if !fds[0].revents().is_empty() && tx.send(Msg::Mounts).is_err() {
                        return;
                    }
                }
            })?;
        Ok(MountMonitor {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for MountMonitor {
    fn drop(&mut self) {
        let _ = rustix::io::write(&self.stop, &1u64.to_ne_bytes());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl LiveIndex {
    /// Starts watching the library's watched, online, indexed locations, and follows the
    /// location list from then on (it is read again when a job ends and on
    /// [`LiveIndex::refresh`]).
    ///
    /// # Errors
    /// The `notify` error if no inotify instance can be made (the system's
    /// `fs.inotify.max_user_instances` reached).
    pub fn start(ctx: LiveContext, runtime: &tokio::runtime::Handle) -> notify::Result<LiveIndex> {
        let (tx, rx) = std::sync::mpsc::channel();
        let fs_tx = tx.clone();
        let watchers = (0..WATCHERS)
            .map(|_| {
                let fs_tx = fs_tx.clone();
                notify::recommended_watcher(move |ev| {
                    let _ = fs_tx.send(Msg::Fs(ev));
                })
            })
            .collect::<notify::Result<Vec<_>>>()?;
        drop(fs_tx);
        let status = Arc::new(Mutex::new(BTreeMap::new()));
        // A job that ends may have indexed a location for the first time (or removed one).
        let mut bus = ctx.events.subscribe();
        let job_tx = tx.clone();
        let forward = runtime.spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match bus.recv().await {
                    Ok(Event::JobFinished { .. }) | Err(RecvError::Lagged(_)) => {
                        if job_tx.send(Msg::Refresh).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        });
        let worker = Worker {
            ctx,
            watchers,
            next_watcher: 0,
            locs: FxHashMap::default(),
            watched: BTreeMap::new(),
            unwatched: Vec::new(),
            status: status.clone(),
            dirty: FxHashMap::default(),
            first: None,
            last: None,
            retry_at: None,
            settle: FxHashMap::default(),
            next_unwatched: None,
            started_ms: crate::vdfs::jobs::now_ms(),
            setting_up: None,
            limit_hit: false,
        };
        let thread = std::thread::Builder::new()
            .name("cairn-live".into())
            .spawn(move || worker.run(&rx))
            .map_err(notify::Error::io)?;
        let _ = tx.send(Msg::Refresh);
        let mounts = match MountMonitor::start(tx.clone()) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(
                    "cannot follow the mount table ({e}); an unplugged drive is seen at its next change or job"
                );
                None
            }
        };
        Ok(LiveIndex {
            tx,
            status,
            thread: Some(thread),
            forward: Some(forward),
            mounts,
        })
    }

    /// Reads the location records again (a location added, removed, switched on or off).
    pub fn refresh(&self) {
        let _ = self.tx.send(Msg::Refresh);
    }

    /// What is watched of each watched location, by location id.
    pub fn status(&self) -> BTreeMap<u32, WatchStatus> {
        self.status.lock().expect("watch status").clone()
    }
}

impl Drop for LiveIndex {
    fn drop(&mut self) {
        self.mounts = None;
        let _ = self.tx.send(Msg::Stop);
        if let Some(f) = self.forward.take() {
            f.abort();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    ctx: LiveContext,
    /// [`WATCHERS`] inotify instances, each with its own reading thread: adding a watch is a
    /// round trip to that thread, so many are added in parallel.
    watchers: Vec<notify::RecommendedWatcher>,
    /// The instance the next single watch goes to.
    next_watcher: usize,
    locs: FxHashMap<u32, Loc>,
    /// Every folder with a watch: its location and the instance holding the watch.
    watched: BTreeMap<PathBuf, (u32, usize)>,
    /// Folders left without a watch by the system's limit.
    unwatched: Vec<(u32, PathBuf)>,
    status: Arc<Mutex<BTreeMap<u32, WatchStatus>>>,
    /// Folders to list at the next batch, and their locations.
    dirty: FxHashMap<PathBuf, u32>,
    first: Option<Instant>,
    last: Option<Instant>,
    retry_at: Option<Instant>,
    /// Files to identify, with the last time they changed.
    settle: FxHashMap<u64, (u32, Instant)>,
    next_unwatched: Option<Instant>,
    /// When this live index started (ms since the epoch): a location last indexed before it
    /// may have changed while nobody watched.
    started_ms: i64,
    /// The location whose watches are being set up (its status waits for the end).
    setting_up: Option<u32>,
    /// The system's watch limit was reached: no more watches are tried.
    limit_hit: bool,
}

impl Worker {
    fn run(mut self, rx: &Receiver<Msg>) {
        loop {
            let msg = match self.deadline() {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
            };
            match msg {
                Ok(Msg::Fs(ev)) => self.on_event(ev),
                Ok(Msg::Refresh) => self.refresh(),
                Ok(Msg::Mounts) => {
                    self.follow_volumes();
                    let before: FxHashSet<u32> = self.locs.keys().copied().collect();
                    self.refresh();
                    let after: FxHashSet<u32> = self.locs.keys().copied().collect();
                    if before != after {
                        self.ctx.events.publish(Event::LocationsChanged);
                    }
                }
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if self.batch_due(now) {
                self.flush();
            }
            if self.next_unwatched.is_some_and(|t| t <= now) {
                for (loc, p) in self.unwatched.clone() {
                    self.mark(loc, p);
                }
                self.next_unwatched = Some(now + self.unwatched_every());
            }
            if self
                .settle
                .values()
                .any(|(_, t)| now.duration_since(*t) >= SETTLE)
            {
                self.identify_settled(now);
            }
        }
    }

    fn unwatched_every(&self) -> Duration {
        self.ctx
            .test_limit
            .map_or(UNWATCHED_EVERY, |(_, every)| every)
    }

    /// When the loop must wake without an event: the batch's end, a retry, the next file to
    /// settle, the next listing of unwatched folders; `None` when idle (no timer at all).
    fn deadline(&self) -> Option<Instant> {
        let batch = match (self.first, self.last) {
            (Some(f), Some(l)) => Some((f + MAX_WAIT).min(l + QUIET)),
            _ => None,
        };
        let batch = match (batch, self.retry_at) {
            (Some(b), Some(r)) => Some(b.max(r)),
            (b, r) => b.or(r.filter(|_| !self.dirty.is_empty())),
        };
        let settle = self.settle.values().map(|(_, t)| *t + SETTLE).min();
        [batch, settle, self.next_unwatched]
            .into_iter()
            .flatten()
            .min()
    }

    fn batch_due(&self, now: Instant) -> bool {
        if self.dirty.is_empty() || self.retry_at.is_some_and(|r| r > now) {
            return false;
        }
        match (self.first, self.last) {
            (Some(f), Some(l)) => now >= f + MAX_WAIT || now >= l + QUIET,
            _ => true,
        }
    }

    fn mark(&mut self, loc: u32, folder: PathBuf) {
        self.dirty.insert(folder, loc);
        let now = Instant::now();
        self.first.get_or_insert(now);
        self.last = Some(now);
    }

    /// The watched location holding `path`, if any (the deepest root that is a prefix).
    fn location_of(&self, path: &Path) -> Option<u32> {
        self.locs
            .values()
            .filter(|l| path.starts_with(&l.root))
            .max_by_key(|l| l.rec.path.len())
            .map(|l| l.rec.id)
    }

    fn on_event(&mut self, ev: notify::Result<notify::Event>) {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) {
                    tracing::warn!("the system's inotify watch limit is reached: {e}");
                } else {
                    tracing::warn!("watch error: {e}");
                }
                // The folders it names are listed again; an error without a path says
                // nothing about where, so every watched location is rescanned.
                if e.paths.is_empty() {
                    self.rescan_all("a watch error");
                }
                for p in e.paths {
                    if let Some(loc) = self.location_of(&p) {
                        self.mark(loc, p);
                    }
                }
                return;
            }
        };
        if ev.need_rescan() {
            self.rescan_all("the system's event queue overflowed");
            return;
        }
        if matches!(ev.kind, EventKind::Access(_)) {
            return;
        }
        for p in ev.paths {
            let Some(loc) = self.location_of(&p) else {
                continue;
            };
            // An event names a child of a watched folder, or the folder itself (its own
            // metadata, or it was moved or deleted): either way the folder holding that name
            // is listed (the location root lists itself).
            let folder = if p == self.locs[&loc].root {
                p
            } else {
                p.parent().map_or(p.clone(), Path::to_owned)
            };
            self.mark(loc, folder);
        }
    }

    /// Starts a rescan job of every watched location (after an overflow: which folders
    /// changed is unknown).
    fn rescan_all(&mut self, why: &str) {
        for l in self.locs.values() {
            tracing::info!(location = l.rec.id, "rescanning after {why}");
            if let Err(e) = self.ctx.jobs.spawn(IndexerJob::new(&l.rec)) {
                tracing::warn!(location = l.rec.id, "cannot start a rescan: {e}");
            }
        }
    }

    /// After the mount table changed: each of this device's watched locations whose volume is
    /// mounted somewhere else now follows it (its record's path; every entry kept), as the
    /// window's refresh does — under the location's lease, so never while a job writes it (the
    /// job follows it then).
    fn follow_volumes(&mut self) {
        let Ok(all) = location::list(&self.ctx.store) else {
            return;
        };
        let mounted = crate::vdfs::fs::volumes::detect();
        for rec in all {
            if rec.device != self.ctx.device || !rec.watch {
                continue;
            }
            if let Some(_lease) = self.ctx.jobs.try_lease(vec![Resource::Location(rec.id)])
                && let Err(e) =
                    location::follow_volume(&self.ctx.store, rec.id, self.ctx.device, &mounted)
            {
                tracing::warn!(location = rec.id, "cannot follow its volume: {e}");
            }
        }
    }

    /// Reads the location records and watches or unwatches each as needed.
    fn refresh(&mut self) {
        let all = match location::list(&self.ctx.store) {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!("cannot read the locations: {e}");
                return;
            }
        };
        let wanted: Vec<LocationRecord> = all
            .into_iter()
            .filter(|l| {
                l.watch
                    && l.device == self.ctx.device
                    && l.root_entry.is_some()
                    && l.availability() == Availability::Online
            })
            .collect();
        let keep: FxHashSet<u32> = wanted.iter().map(|l| l.id).collect();
        let gone: Vec<u32> = self
            .locs
            .keys()
            .copied()
            .filter(|id| !keep.contains(id))
            .collect();
        for id in gone {
            self.unwatch_location(id);
        }
        for rec in wanted {
            match self.locs.get_mut(&rec.id) {
                // Already watched: take the newer record (mode, rules, stats).
                // (Same path, so the cached root stays right.)
                Some(l) if l.rec.path == rec.path && l.rec.rules == rec.rules => l.rec = rec,
                Some(_) => {
                    self.unwatch_location(rec.id);
                    self.watch_location(rec);
                }
                None => self.watch_location(rec),
            }
        }
    }

    fn unwatch_location(&mut self, id: u32) {
        self.locs.remove(&id);
        let paths: Vec<(PathBuf, usize)> = self
            .watched
            .iter()
            .filter(|(_, (l, _))| *l == id)
            .map(|(p, (_, k))| (p.clone(), *k))
            .collect();
        for (p, k) in paths {
            let _ = self.watchers[k].unwatch(&p);
            self.watched.remove(&p);
        }
        self.unwatched.retain(|(l, _)| *l != id);
        // Its watches are free again: the next location may get all it needs.
        self.limit_hit = false;
        self.dirty.retain(|_, l| *l != id);
        self.status.lock().expect("watch status").remove(&id);
        self.ctx
            .events
            .publish(Event::WatchChanged { location: id });
    }

    /// Watches every indexed folder of `rec` and checks each against the disk (catching up
    /// with what changed while nobody watched).
    fn watch_location(&mut self, rec: LocationRecord) {
        let rules = match Compiled::new(&rec.rules) {
            Ok(r) => Arc::new(r),
            Err(e) => {
                tracing::warn!(location = rec.id, "not watched: {e}");
                return;
            }
        };
        let id = rec.id;
        let t0 = Instant::now();
        let folders = match indexed_folders(&self.ctx.store, &rec) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(location = id, "not watched: {e}");
                return;
            }
        };
        self.locs.insert(
            id,
            Loc {
                root: rec.path(),
                rec,
                rules,
            },
        );
        let total = folders.len() as u64;
        self.set_status(
            id,
            WatchStatus {
                folders: total,
                catching_up: total,
                ..WatchStatus::default()
            },
        );
        let read_ms = t0.elapsed().as_millis() as u64;
        // 1. Catching up, the folders that changed first: each whose mtime is not the stored
        // one is listed again now.
        let t1 = Instant::now();
        let stale_now = |folders: &[(PathBuf, i64)]| -> Vec<PathBuf> {
            folders
                .iter()
                .filter(|(p, stored)| {
                    std::fs::symlink_metadata(p)
                        .map(|m| Meta::of(&m).mtime_ns)
                        .ok()
                        != Some(*stored)
                })
                .map(|(p, _)| p.clone())
                .collect()
        };
        let stale = stale_now(&folders);
        let n_stale = stale.len() as u64;
        for p in stale.iter().cloned() {
            self.mark(id, p);
        }
        if !self.dirty.is_empty() {
            self.setting_up = Some(id);
            self.flush();
            self.setting_up = None;
        }
        let check_ms = t1.elapsed().as_millis() as u64;
        // 2. A folder's mtime tells of entries added, removed or renamed in it, not of a file
        // rewritten in place: the rest is compared by a rescan in the background (while the
        // watches are added) — unless the location was indexed since this live index started
        // (it was watched all along).
        if self.ctx.catch_up_rescan
            && self.locs[&id]
                .rec
                .indexed_ms
                .is_none_or(|t| t < self.started_ms)
            && let Err(e) = self.ctx.jobs.spawn(IndexerJob::new(&self.locs[&id].rec))
        {
            tracing::warn!(location = id, "cannot start the catch-up rescan: {e}");
        }
        // 3. The watches.
        let t2 = Instant::now();
        let watched = self.add_watches(id, folders.iter().map(|(p, _)| p.clone()).collect());
        let watch_ms = t2.elapsed().as_millis() as u64;
        // 4. Entries added, removed or renamed while the watches were being added (no event
        // could tell): the folders changed since step 1 are listed again.
        let stale: FxHashSet<PathBuf> = stale.into_iter().collect();
        for p in stale_now(&folders) {
            if !stale.contains(&p) {
                self.mark(id, p);
            }
        }
        tracing::info!(
            location = id,
            folders = total,
            watched,
            stale = n_stale,
            read_ms,
            check_ms,
            watch_ms,
            "watching a location"
        );
        self.set_status(
            id,
            WatchStatus {
                folders: total,
                watched,
                limit_reached: self.limit_hit,
                catching_up: self.dirty.values().filter(|l| **l == id).count() as u64,
            },
        );
    }

    /// Adds a watch on each folder; returns how many are watched. Once the system's limit is
    /// reached the rest are kept as unwatched (listed periodically). Many folders are spread
    /// over the instances and added on one thread each.
    fn add_watches(&mut self, loc: u32, folders: Vec<PathBuf>) -> u64 {
        let mut n = 0;
        let mut todo = Vec::with_capacity(folders.len());
        for p in folders {
            if self.watched.contains_key(&p) {
                n += 1;
            } else {
                todo.push(p);
            }
        }
        let mut full = self.limit_hit;
        if full {
            self.unwatched.extend(todo.into_iter().map(|p| (loc, p)));
            return n;
        }
        // (folder, instance, result): Ok, the limit, or another failure (gone since: its
        // parent's listing says so).
        let mut results: Vec<(PathBuf, usize, Result<(), bool>)> = Vec::with_capacity(todo.len());
        let add = |w: &mut notify::RecommendedWatcher, k: usize, part: Vec<PathBuf>| {
            let mut out = Vec::with_capacity(part.len());
            let mut limit = false;
            for p in part {
                if limit {
                    out.push((p, k, Err(true)));
                    continue;
                }
                let r = match w.watch(&p, RecursiveMode::NonRecursive) {
                    Ok(()) => Ok(()),
                    Err(e) if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) => {
                        limit = true;
                        Err(true)
                    }
                    Err(_) => Err(false),
                };
                out.push((p, k, r));
            }
            out
        };
        if todo.len() < 256 {
            for p in todo {
                let k = self.next_watcher % self.watchers.len();
                self.next_watcher += 1;
                results.extend(add(&mut self.watchers[k], k, vec![p]));
            }
        } else {
            let per = todo.len().div_ceil(self.watchers.len());
            let mut parts: Vec<Vec<PathBuf>> = Vec::new();
            let mut it = todo.into_iter();
            loop {
                let part: Vec<PathBuf> = it.by_ref().take(per).collect();
                if part.is_empty() {
                    break;
                }
                parts.push(part);
            }
            std::thread::scope(|s| {
                let handles: Vec<_> = self
                    .watchers
                    .iter_mut()
                    .enumerate()
                    .zip(parts)
                    .map(|((k, w), part)| s.spawn(move || add(w, k, part)))
                    .collect();
                for h in handles {
                    results.extend(h.join().unwrap_or_default());
                }
            });
        }
        let mut unwatchable = false;
        // A test's stand-in for the system's limit: the watches past it are taken back.
        if let Some((limit, _)) = self.ctx.test_limit {
            let mut have = self.watched.len() as u64;
            for r in results.iter_mut() {
                if r.2.is_ok() {
                    have += 1;
                    if have > limit {
                        let _ = self.watchers[r.1].unwatch(&r.0);
                        r.2 = Err(true);
                    }
                }
            }
        }
        for (p, k, r) in results {
            match r {
                Ok(()) => {
                    self.watched.insert(p, (loc, k));
                    n += 1;
                }
                Err(true) => {
                    full = true;
                    self.limit_hit = true;
                    self.unwatched.push((loc, p));
                }
                // A folder that cannot be watched (no permission, say) but is still there is
                // listed again with the unwatched ones; one gone since is its parent's.
                Err(false) => {
                    if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                        tracing::debug!(folder = %p.display(), "cannot be watched; listed periodically");
                        self.unwatched.push((loc, p));
                        unwatchable = true;
                    }
                }
            }
        }
        if (full || unwatchable) && self.next_unwatched.is_none() {
            self.next_unwatched = Some(Instant::now() + self.unwatched_every());
        }
        n
    }

    /// Removes the watches on `folder` and every folder below it.
    fn remove_watches(&mut self, folder: &Path) {
        let below: Vec<(PathBuf, usize)> = self
            .watched
            .range(folder.to_owned()..)
            .take_while(|(p, _)| p.starts_with(folder))
            .map(|(p, (_, k))| (p.clone(), *k))
            .collect();
        for (p, k) in below {
            let _ = self.watchers[k].unwatch(&p);
            self.watched.remove(&p);
        }
        self.unwatched.retain(|(_, p)| !p.starts_with(folder));
    }

    fn set_status(&self, id: u32, s: WatchStatus) {
        self.status.lock().expect("watch status").insert(id, s);
        self.ctx
            .events
            .publish(Event::WatchChanged { location: id });
    }

    /// Syncs the dirty folders, under the leases of their locations.
    fn flush(&mut self) {
        // Offline locations are not synced (their folders look empty or gone): nothing is
        // deleted for being absent. They are read again (and unwatched) at the next refresh.
        let mut offline = FxHashSet::default();
        let locs: FxHashSet<u32> = self.dirty.values().copied().collect();
        for id in &locs {
            if let Some(l) = self.locs.get(id)
                && l.rec.availability() != Availability::Online
            {
                offline.insert(*id);
            }
        }
        if !offline.is_empty() {
            self.dirty.retain(|_, l| !offline.contains(l));
            for id in &offline {
                self.unwatch_location(*id);
            }
            self.ctx.events.publish(Event::LocationsChanged);
        }
        if self.dirty.is_empty() {
            self.first = None;
            self.last = None;
            return;
        }
        let wants: Vec<Resource> = locs
            .iter()
            .filter(|id| !offline.contains(id))
            .map(|id| Resource::Location(*id))
            .collect();
        let Some(lease) = self.ctx.jobs.try_lease(wants) else {
            self.retry_at = Some(Instant::now() + RETRY);
            return;
        };
        self.retry_at = None;
        let dirty: Vec<(u32, PathBuf)> = std::mem::take(&mut self.dirty)
            .into_iter()
            .map(|(p, l)| (l, p))
            .collect();
        self.first = None;
        self.last = None;
        let started = Instant::now();
        let planned = match sync::plan(&self.ctx.store, &self.locs, &dirty) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("live index: cannot read the index: {e}");
                return;
            }
        };
        let written = if planned.is_empty() {
            sync::Written::default()
        } else {
            match self
                .ctx
                .store
                .write(planned.writer(self.ctx.names_delta.clone()))
            {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!("live index: cannot write the index: {e}");
                    // Tried again at the next event in these folders (or the next start).
                    return;
                }
            }
        };
        drop(lease);
        let new_files = written.new_files;
        let out = planned.outcome;
        tracing::debug!(
            folders = dirty.len(),
            created = out.counts[0],
            modified = out.counts[1],
            moved = out.counts[2],
            deleted = out.counts[3],
            ms = started.elapsed().as_millis() as u64,
            "live index batch"
        );
        let now = Instant::now();
        for (loc, id) in out.to_identify.iter().chain(&new_files) {
            if self
                .locs
                .get(loc)
                .is_some_and(|l| l.rec.mode != IndexMode::Shallow)
            {
                self.settle.insert(*id, (*loc, now));
            }
        }
        for f in &out.removed_folders {
            self.remove_watches(f);
        }
        let mut relist = Vec::new();
        for (old, new) in &out.moved_folders {
            self.remove_watches(old);
            if let Some(loc) = self.location_of(new) {
                let below = folders_below(&self.ctx.store, &self.locs, new).unwrap_or_default();
                self.add_watches(loc, below.clone());
                // Events below it came with the old paths until now (a watch follows its folder,
                // but `notify` names it by the path it was added with), so what changed there
                // meanwhile is unknown — a file rewritten in place changes no folder's mtime:
                // each folder below is listed again.
                relist.extend(below.into_iter().map(|p| (loc, p)));
            }
        }
        let mut added = Vec::new();
        for f in &out.new_folders {
            if let Some(loc) = self.location_of(f) {
                added.push((loc, f.clone()));
            }
        }
        for (loc, f) in &added {
            self.add_watches(*loc, vec![f.clone()]);
        }
        // What was created in a new folder before its watch existed is found by listing it
        // once more.
        relist.extend(added);
        let synced: FxHashSet<&PathBuf> = dirty.iter().map(|d| &d.1).collect();
        for (loc, p) in &out.parents {
            if !synced.contains(p) {
                relist.push((*loc, p.clone()));
            }
        }
        for (loc, p) in relist {
            self.mark(loc, p);
        }
        // Status: folders watched, catching up done.
        let touched: FxHashSet<u32> = dirty.iter().map(|d| d.0).collect();
        for id in touched {
            if self.setting_up == Some(id) {
                // Its status is set when its watches are in place.
                continue;
            }
            let watched = self.watched.values().filter(|(l, _)| *l == id).count() as u64;
            let folders = watched + self.unwatched.iter().filter(|(l, _)| *l == id).count() as u64;
            let mut st = self.status.lock().expect("watch status");
            if let Some(s) = st.get_mut(&id)
                && (s.watched != watched || s.folders != folders || s.catching_up != 0)
            {
                s.watched = watched;
                s.folders = folders;
                s.catching_up = 0;
                drop(st);
                self.ctx
                    .events
                    .publish(Event::WatchChanged { location: id });
            }
        }
        if out.counts.iter().any(|&c| c > 0) || !out.changed.is_empty() {
            let mut by_loc: BTreeMap<u32, Vec<PathBuf>> = BTreeMap::new();
            for f in &out.changed {
                if let Some(loc) = self.location_of(f) {
                    by_loc.entry(loc).or_default().push(f.clone());
                }
            }
            for (location, folders) in by_loc {
                self.ctx.events.publish(Event::IndexChanged {
                    location,
                    folders,
                    created: out.counts[0],
                    modified: out.counts[1],
                    moved: out.counts[2],
                    deleted: out.counts[3],
                });
            }
        }
    }

    /// Identifies the files that have settled: sampled cas_id and type, linked in one
    /// transaction if the file still has the size and mtime it was hashed with.
    fn identify_settled(&mut self, now: Instant) {
        let ready: Vec<(u64, u32)> = self
            .settle
            .iter()
            .filter(|(_, (_, t))| now.duration_since(*t) >= SETTLE)
            .map(|(id, (loc, _))| (*id, *loc))
            .collect();
        let locs: Vec<Resource> = ready
            .iter()
            .map(|r| r.1)
            .collect::<FxHashSet<_>>()
            .into_iter()
            .map(Resource::Location)
            .collect();
        let Some(lease) = self.ctx.jobs.try_lease(locs) else {
            for id in ready.iter().map(|r| r.0) {
                if let Some(e) = self.settle.get_mut(&id) {
                    e.1 = now - SETTLE + RETRY;
                }
            }
            return;
        };
        for (id, _) in &ready {
            self.settle.remove(id);
        }
        let registry = Registry::active();
        let mut hasher = super::identification::FileHasher::new(registry);
        let mut links: Vec<(ContentLink, Meta)> = Vec::new();
        for (id, _) in ready {
            let Ok(Some((path, rec))) = self.ctx.store.read(|tx| {
                let Some(rec) = crate::vdfs::index::entry(tx, id)? else {
                    return Ok(None);
                };
                Ok(Some((crate::vdfs::index::path_of(tx, id)?, rec)))
            }) else {
                continue;
            };
            if rec.kind != EntryKind::File || rec.cas.is_some() || rec.size == 0 {
                continue;
            }
            let Ok(Ok(h)) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                hasher.hash(&path, &rec.name)
            })) else {
                continue;
            };
            if h.size != rec.size {
                // Changed since: its event brings it back.
                continue;
            }
            let Some(link) = super::identification::link_of(id, &h, registry) else {
                continue;
            };
            links.push((link, rec.meta()));
        }
        if links.is_empty() {
            return;
        }
        let links = Arc::new(links);
        let n = links.len();
        let delta = self.ctx.names_delta.clone();
        let res = self.ctx.store.write(move |tx| {
            let before = crate::vdfs::index::names_generation_in(tx)?;
            let mut w = IndexWriter::begin(tx)?;
            let mut touched = Vec::new();
            for (link, meta) in links.iter() {
                // Linked only if the entry is still the file that was hashed.
                if w.get(link.id)?
                    .is_some_and(|r| r.meta() == *meta && r.cas.is_none())
                {
                    w.link_content(link)?;
                    // It and the other copies: their kind and number of copies changed.
                    touched.extend(w.instances_of(link.cas)?);
                }
            }
            drop(w);
            touched.sort_unstable();
            touched.dedup();
            // Recorded inside the transaction (see `sync::Planned::writer`).
            delta.record(
                before,
                crate::vdfs::index::names_generation_in(tx)?,
                touched,
            );
            Ok(())
        });
        drop(lease);
        match res {
            Ok(()) => tracing::debug!(files = n, "live index identified files"),
            Err(e) => tracing::warn!("live index: cannot link contents: {e}"),
        }
    }
}

/// Every indexed folder of `rec` with its stored mtime, parents first (by path).
fn indexed_folders(
    store: &Store,
    rec: &LocationRecord,
) -> Result<Vec<(PathBuf, i64)>, crate::store::StoreError> {
    let range = crate::vdfs::index::entry_ids(rec.id);
    let root = rec.path();
    store.read(|tx| {
        let stats = tx.open_table(DIR_STATS)?;
        let entries = tx.open_table(ENTRIES)?;
        let mut dirs: FxHashMap<u64, EntryRecordLite> = FxHashMap::default();
        for row in stats.range(range.clone())? {
            let id = row?.0.value();
            if let Some(v) = entries.get(id)? {
                let r: crate::vdfs::index::EntryRecord =
                    crate::store::record::decode_record(v.value())?;
                dirs.insert(
                    id,
                    EntryRecordLite {
                        parent: r.parent,
                        name: r.name,
                        mtime_ns: r.mtime_ns,
                    },
                );
            }
        }
        // Each folder's path once (memoised, parents shared), then handed over.
        let mut paths: FxHashMap<u64, PathBuf> = FxHashMap::default();
        for &id in dirs.keys() {
            path_in(&dirs, &mut paths, &root, id);
        }
        let mut out: Vec<(PathBuf, i64)> = paths
            .into_iter()
            .filter_map(|(id, p)| dirs.get(&id).map(|d| (p, d.mtime_ns)))
            .collect();
        out.sort_unstable();
        Ok(out)
    })
}

struct EntryRecordLite {
    parent: u64,
    name: Vec<u8>,
    mtime_ns: i64,
}

/// The path of folder `id` from the folders' records (memoised in `paths`); the location root
/// is the entry whose parent is 0. `None` for a folder whose chain is broken.
fn path_in(
    dirs: &FxHashMap<u64, EntryRecordLite>,
    paths: &mut FxHashMap<u64, PathBuf>,
    root: &Path,
    id: u64,
) -> Option<()> {
    let mut chain = Vec::new();
    let mut cur = id;
    let base = loop {
        if let Some(p) = paths.get(&cur) {
            break p.clone();
        }
        let d = dirs.get(&cur)?;
        if d.parent == 0 {
            paths.insert(cur, root.to_owned());
            break root.to_owned();
        }
        chain.push(cur);
        cur = d.parent;
    };
    let mut p = base;
    for &c in chain.iter().rev() {
        p = p.join(os_from_bytes(&dirs.get(&c)?.name));
        paths.insert(c, p.clone());
    }
    Some(())
}

/// `folder` and every indexed folder below it (after a move: from the index, which has them
/// under the new path now).
fn folders_below(
    store: &Store,
    locs: &FxHashMap<u32, Loc>,
    folder: &Path,
) -> Result<Vec<PathBuf>, crate::store::StoreError> {
    let records: Vec<LocationRecord> = locs.values().map(|l| l.rec.clone()).collect();
    let Some((_, id, _)) = crate::vdfs::index::find_by_path(store, &records, folder)? else {
        return Ok(Vec::new());
    };
    store.read(|tx| {
        let mut paths: FxHashMap<u64, PathBuf> = FxHashMap::default();
        paths.insert(id, folder.to_owned());
        let mut out = vec![folder.to_owned()];
        for (eid, rec) in crate::vdfs::index::subtree(tx, id)?.into_iter().skip(1) {
            if rec.kind != EntryKind::Dir {
                continue;
            }
            if let Some(pp) = paths.get(&rec.parent).cloned() {
                let p = pp.join(os_from_bytes(&rec.name));
                paths.insert(eid, p.clone());
                out.push(p);
            }
        }
        Ok(out)
    })
}
