//! The parallel directory walker, and the compact tree it builds.
//!
//! Worker threads take folders from a shared queue, list each once, apply the rules to every
//! child at the edge (a skipped folder is never opened), `lstat` what is kept (unless
//! `stat: false`, when kind and inode come from the listing alone), and send one *listing* per
//! folder to the collecting thread, which appends it to a [`Tree`]: an arena of [`Node`]s with
//! `u32` ids, every folder's children contiguous, and all names in one byte arena. The tree is
//! both the ephemeral index (browsing a folder that is not a location) and the discovery
//! phase's result for the persistent indexer.
//!
//! Hostile trees are normal input: symlinks are never followed; FIFOs, sockets and devices
//! are catalogued and never opened; a folder reached twice through bind mounts is listed once
//! (by device and inode); unreadable folders, vanishing files and over-long names become
//! per-path errors in [`Tree::errors`]; depth is bounded only by the OS (the walk is a queue,
//! not recursion).

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Serialize;

use crate::vdfs::fs::entry::{EntryKind, Meta, os_bytes, os_from_bytes};
use crate::vdfs::fs::rules::{Compiled, Skip, SkipCounts};

/// Node id meaning "no node" (the root's parent).
pub const NONE: u32 = u32::MAX;

/// Longest name most file systems allow, in bytes.
pub const NAME_MAX: usize = 255;

const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;

/// One entry of a [`Tree`] (48 bytes).
#[derive(Debug, Clone, Copy)]
pub struct Node {
    /// Parent node, [`NONE`] for the root.
    pub parent: u32,
    name_off: u32,
    /// First child (children are `first_child .. first_child + child_count`).
    pub first_child: u32,
    /// Number of children kept by the rules.
    pub child_count: u32,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch (0 when not stat'ed).
    pub mtime_ns: i64,
    /// Inode number.
    pub inode: u64,
    name_len: u16,
    /// Kind.
    pub kind: EntryKind,
    dev: u8,
    /// [`INCOMPLETE`] when this folder could not be listed, or not to the end.
    flags: u8,
}

/// [`Node`] flag: the folder's listing failed or stopped early, so its children in the tree
/// are not all it holds. Absence below such a folder says nothing.
const INCOMPLETE: u8 = 1;

/// An error about one path met during a walk; the walk went on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalkError {
    /// The path.
    #[serde(serialize_with = "crate::format::lossy_path")]
    pub path: PathBuf,
    /// What happened.
    pub message: String,
    /// The OS error's kind, when an OS call failed.
    #[serde(skip)]
    pub kind: Option<std::io::ErrorKind>,
}

/// Walk settings.
#[derive(Clone)]
pub struct WalkOptions {
    /// Rules to apply.
    pub rules: Arc<Compiled>,
    /// `lstat` every entry (size, mtime, device). Without it the walk is names, kinds and
    /// inodes only, like `fd`.
    pub stat: bool,
    /// Worker threads (0 = the number of cores).
    pub threads: usize,
    /// Levels below the root to list (1 = the root's children only); `None` = all.
    pub max_depth: Option<u32>,
    /// Set to stop the walk early (the tree then holds what was listed so far).
    pub stop: Option<Arc<AtomicBool>>,
    /// Live counters for progress display.
    pub counters: Option<Arc<WalkCounters>>,
    /// The walk root's path relative to the folder the rules' globs are written against (a
    /// location's root), so that a walk of a sub-folder (a scoped rescan) matches a glob such
    /// as `photos/raw/**` exactly as a walk of the whole location does. Empty when the walk
    /// starts at that folder.
    pub rel_base: PathBuf,
}

impl WalkOptions {
    /// Full walk with `stat`, default rules off (everything), all cores.
    pub fn new(rules: Compiled) -> WalkOptions {
        WalkOptions {
            rules: Arc::new(rules),
            stat: true,
            threads: 0,
            max_depth: None,
            stop: None,
            counters: None,
            rel_base: PathBuf::new(),
        }
    }
}

/// Live counts of a walk in progress.
#[derive(Debug, Default)]
pub struct WalkCounters {
    /// Entries kept so far.
    pub entries: AtomicU64,
    /// Folders listed so far.
    pub dirs: AtomicU64,
    /// Bytes of the files kept so far.
    pub bytes: AtomicU64,
}

/// The result of a walk: an arena of nodes, node 0 being the root.
#[derive(Debug, Default)]
pub struct Tree {
    root: PathBuf,
    chunks: Vec<Vec<Node>>,
    len: u32,
    names: Vec<u8>,
    devs: Vec<u64>,
    /// Per-path errors, in no particular order.
    pub errors: Vec<WalkError>,
    /// What the rules left out.
    pub skipped: SkipCounts,
}

impl Tree {
    /// The path the walk started from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Number of nodes (the root included).
    pub fn len(&self) -> u32 {
        self.len
    }

    /// True if not even the root is in the tree.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True if folder `i` could not be listed, or not to the end (its listing failed with an
    /// error recorded in [`Tree::errors`]): what is missing below it may still be there.
    pub fn is_incomplete(&self, i: u32) -> bool {
        self.node(i).flags & INCOMPLETE != 0
    }

    /// The folders that could not be listed, or not to the end.
    pub fn incomplete(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).filter(|&i| self.is_incomplete(i))
    }

    /// Node `i`.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn node(&self, i: u32) -> &Node {
        &self.chunks[(i >> CHUNK_BITS) as usize][i as usize & (CHUNK - 1)]
    }

    fn node_mut(&mut self, i: u32) -> &mut Node {
        &mut self.chunks[(i >> CHUNK_BITS) as usize][i as usize & (CHUNK - 1)]
    }

    /// The exact bytes of node `i`'s name (the root's is its full path).
    pub fn name(&self, i: u32) -> &[u8] {
        let n = self.node(i);
        &self.names[n.name_off as usize..n.name_off as usize + n.name_len as usize]
    }

    /// Node `i`'s children.
    pub fn children(&self, i: u32) -> Range<u32> {
        let n = self.node(i);
        n.first_child..n.first_child + n.child_count
    }

    /// Node `i`'s metadata.
    pub fn meta(&self, i: u32) -> Meta {
        let n = self.node(i);
        Meta {
            size: n.size,
            mtime_ns: n.mtime_ns,
            inode: n.inode,
            dev: self.devs.get(n.dev as usize).copied().unwrap_or(0),
        }
    }

    /// Depth of node `i` (root = 0).
    pub fn depth(&self, mut i: u32) -> u32 {
        let mut d = 0;
        while self.node(i).parent != NONE {
            i = self.node(i).parent;
            d += 1;
        }
        d
    }

    /// The path of node `i` relative to the root (empty for the root).
    pub fn rel_path(&self, i: u32) -> PathBuf {
        let mut parts = Vec::new();
        let mut cur = i;
        while self.node(cur).parent != NONE {
            parts.push(cur);
            cur = self.node(cur).parent;
        }
        let mut p = PathBuf::new();
        for &n in parts.iter().rev() {
            p.push(os_from_bytes(self.name(n)));
        }
        p
    }

    /// The full path of node `i`.
    pub fn path(&self, i: u32) -> PathBuf {
        self.root.join(self.rel_path(i))
    }

    /// The node at `rel` (relative to the root), if the walk kept it.
    pub fn find(&self, rel: &Path) -> Option<u32> {
        let mut cur = 0;
        for comp in rel.components() {
            let name = os_bytes(comp.as_os_str());
            cur = self.children(cur).find(|&c| self.name(c) == name)?;
        }
        (self.len > 0).then_some(cur)
    }

    /// Bytes of memory held by the tree's arenas.
    pub fn heap_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.capacity() * size_of::<Node>())
            .sum::<usize>()
            + self.names.capacity()
    }

    fn push(&mut self, node: Node) -> u32 {
        if (self.len as usize).is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks.last_mut().expect("a chunk").push(node);
        self.len += 1;
        self.len - 1
    }

    fn intern_dev(&mut self, dev: u64) -> u8 {
        if let Some(i) = self.devs.iter().position(|&d| d == dev) {
            return i as u8;
        }
        if self.devs.len() < u8::MAX as usize {
            self.devs.push(dev);
            (self.devs.len() - 1) as u8
        } else {
            u8::MAX
        }
    }

    fn push_name(&mut self, name: &[u8]) -> (u32, u16) {
        let off = self.names.len() as u32;
        let len = name.len().min(u16::MAX as usize);
        self.names.extend_from_slice(&name[..len]);
        (off, len as u16)
    }
}

/// Errors that stop a walk before it starts.
#[derive(Debug, thiserror::Error)]
pub enum WalkStartError {
    /// The root cannot be read.
    #[error("{}: {source}", path.display())]
    Root {
        /// The root.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The root is not a folder.
    #[error("{} is not a folder", path.display())]
    NotADir {
        /// The root.
        path: PathBuf,
    },
}

/// Where a listing's folder sits in the tree: the root, or child `pos` of listing `listing`.
#[derive(Clone, Copy)]
enum Slot {
    Root,
    Child { listing: u32, pos: u32 },
}

struct Task {
    slot: Slot,
    path: PathBuf,
    depth: u32,
    dev: u64,
    git: Option<Arc<GitChain>>,
}

/// The gitignore matchers that apply to a folder, innermost first.
struct GitChain {
    matcher: Gitignore,
    outer: Option<Arc<GitChain>>,
}

impl GitChain {
    fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        let mut cur = Some(self);
        while let Some(c) = cur {
            let m = c.matcher.matched(path, is_dir);
            if m.is_ignore() {
                return true;
            }
            if m.is_whitelist() {
                return false;
            }
            cur = c.outer.as_deref();
        }
        false
    }
}

struct Child {
    name_off: u32,
    name_len: u16,
    kind: EntryKind,
    meta: Meta,
    /// A folder whose content is not listed here (already listed through another path).
    incomplete: bool,
}

struct Listing {
    id: u32,
    slot: Slot,
    names: Vec<u8>,
    children: Vec<Child>,
    /// The folder could not be listed, or not to the end.
    incomplete: bool,
}

enum Msg {
    Listing(Listing),
    Error(WalkError),
    Skipped(SkipCounts),
}

struct Queue {
    tasks: Mutex<(Vec<Task>, usize)>,
    cv: Condvar,
}

/// Walks `root` (following it if it is a symlink; nothing below it is followed).
///
/// # Errors
/// [`WalkStartError`] if the root cannot be read or is not a folder. Everything below the
/// root that fails becomes a [`WalkError`] in the tree.
pub fn walk(root: &Path, opts: &WalkOptions) -> Result<Tree, WalkStartError> {
    walk_streaming(root, opts, &mut |_, _| {})
}

/// [`walk`], telling `sink` of the nodes as they join the tree, on the calling thread: first
/// the root (`0..1`), then each folder's listing as it comes (a range of consecutive node
/// ids, whose parent is always a node told before). Every node is told exactly once, in
/// increasing order. The sink runs between listings, so a slow one holds up the tree's
/// assembly (not the listing threads).
///
/// # Errors
/// As [`walk`].
pub fn walk_streaming(
    root: &Path,
    opts: &WalkOptions,
    sink: &mut dyn FnMut(&Tree, Range<u32>),
) -> Result<Tree, WalkStartError> {
    let meta = std::fs::metadata(root).map_err(|e| WalkStartError::Root {
        path: root.to_owned(),
        source: e,
    })?;
    if !meta.is_dir() {
        return Err(WalkStartError::NotADir {
            path: root.to_owned(),
        });
    }
    let root_meta = Meta::of(&meta);
    let mut tree = Tree {
        root: root.to_owned(),
        ..Tree::default()
    };
    let (off, len) = tree.push_name(os_bytes(root.as_os_str()));
    let dev = tree.intern_dev(root_meta.dev);
    tree.push(Node {
        parent: NONE,
        name_off: off,
        name_len: len,
        first_child: 1,
        child_count: 0,
        size: root_meta.size,
        mtime_ns: root_meta.mtime_ns,
        inode: root_meta.inode,
        kind: EntryKind::Dir,
        dev,
        flags: 0,
    });
    sink(&tree, 0..1);
    if opts.max_depth == Some(0) {
        return Ok(tree);
    }
    let git = if opts.rules.rules().respect_gitignore {
        git_for_root(root)
    } else {
        None
    };
    let queue = Arc::new(Queue {
        tasks: Mutex::new((
            vec![Task {
                slot: Slot::Root,
                path: root.to_owned(),
                depth: 0,
                dev: root_meta.dev,
                git,
            }],
            1,
        )),
        cv: Condvar::new(),
    });
    let visited = Arc::new(Mutex::new(HashSet::from([(
        root_meta.dev,
        root_meta.inode,
    )])));
    let next_listing = Arc::new(AtomicU32::new(0));
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };
    let (tx, rx) = mpsc::channel::<Msg>();
    let faults = Arc::new(planted_faults());
    let mut workers = Vec::with_capacity(threads);
    for n in 0..threads {
        let w = Worker {
            root: root.to_owned(),
            faults: faults.clone(),
            opts: opts.clone(),
            queue: queue.clone(),
            visited: visited.clone(),
            next_listing: next_listing.clone(),
            tx: tx.clone(),
        };
        workers.push(
            std::thread::Builder::new()
                .name(format!("cairn-walk-{n}"))
                .spawn(move || w.run())
                .expect("spawn a walker thread"),
        );
    }
    drop(tx);
    collect(&mut tree, &rx, sink);
    for w in workers {
        let _ = w.join();
    }
    Ok(tree)
}

/// Environment variable a test sets to make the listing of some folders fail with EIO (a
/// `:`-separated list of exact paths), so that an I/O error in the middle of a real walk can be
/// reproduced. Read only in builds with debug assertions (the tests); release builds ignore it.
pub const FAULT_ENV: &str = "CAIRN_TEST_EIO_DIRS";

fn planted_faults() -> Vec<PathBuf> {
    if !cfg!(debug_assertions) {
        return Vec::new();
    }
    std::env::var_os(FAULT_ENV)
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default()
}

fn collect(tree: &mut Tree, rx: &mpsc::Receiver<Msg>, sink: &mut dyn FnMut(&Tree, Range<u32>)) {
    // listing id → node id of its first child.
    let mut starts: Vec<u32> = Vec::new();
    for msg in rx {
        let l = match msg {
            Msg::Listing(l) => l,
            Msg::Error(e) => {
                tree.errors.push(e);
                continue;
            }
            Msg::Skipped(s) => {
                tree.skipped.merge(&s);
                continue;
            }
        };
        let parent = match l.slot {
            Slot::Root => 0,
            // The parent listing always arrives first: a folder's task is queued only after
            // the listing that contains it was sent.
            Slot::Child { listing, pos } => starts[listing as usize] + pos,
        };
        let first = tree.len;
        if starts.len() <= l.id as usize {
            starts.resize(l.id as usize + 1, NONE);
        }
        starts[l.id as usize] = first;
        let name_base = tree.names.len() as u32;
        tree.names.extend_from_slice(&l.names);
        for c in &l.children {
            let dev = tree.intern_dev(c.meta.dev);
            tree.push(Node {
                parent,
                name_off: name_base + c.name_off,
                name_len: c.name_len,
                first_child: 0,
                child_count: 0,
                size: c.meta.size,
                mtime_ns: c.meta.mtime_ns,
                inode: c.meta.inode,
                kind: c.kind,
                dev,
                flags: if c.incomplete { INCOMPLETE } else { 0 },
            });
        }
        let p = tree.node_mut(parent);
        p.first_child = first;
        p.child_count = l.children.len() as u32;
        if l.incomplete {
            p.flags |= INCOMPLETE;
        }
        if !l.children.is_empty() {
            sink(tree, first..tree.len);
        }
    }
}

struct Worker {
    root: PathBuf,
    /// Folders whose listing fails with EIO (tests only, see [`FAULT_ENV`]).
    faults: Arc<Vec<PathBuf>>,
    opts: WalkOptions,
    queue: Arc<Queue>,
    visited: Arc<Mutex<HashSet<(u64, u64)>>>,
    next_listing: Arc<AtomicU32>,
    tx: mpsc::Sender<Msg>,
}

impl Worker {
    fn run(self) {
        let mut skipped = SkipCounts::default();
        while let Some(task) = self.next_task() {
            let stopped = self
                .opts
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Relaxed));
            let children = if stopped {
                Vec::new()
            } else {
                self.list(task, &mut skipped)
            };
            self.finish_task(children);
        }
        if skipped.files + skipped.folders > 0 {
            let _ = self.tx.send(Msg::Skipped(skipped));
        }
    }

    fn next_task(&self) -> Option<Task> {
        let mut guard = self.queue.tasks.lock().expect("walk queue");
        loop {
            if let Some(t) = guard.0.pop() {
                return Some(t);
            }
            if guard.1 == 0 {
                return None;
            }
            guard = self.queue.cv.wait(guard).expect("walk queue");
        }
    }

    /// Queues the new folders and marks one task done.
    fn finish_task(&self, new: Vec<Task>) {
        let mut guard = self.queue.tasks.lock().expect("walk queue");
        guard.1 += new.len();
        guard.0.extend(new);
        guard.1 -= 1;
        drop(guard);
        self.queue.cv.notify_all();
    }

    fn error(&self, path: PathBuf, message: impl Into<String>) {
        let _ = self.tx.send(Msg::Error(WalkError {
            path,
            message: message.into(),
            kind: None,
        }));
    }

    fn io_error(&self, path: PathBuf, message: impl Into<String>, e: &std::io::Error) {
        let _ = self.tx.send(Msg::Error(WalkError {
            path,
            message: message.into(),
            kind: Some(e.kind()),
        }));
    }

    /// `read_dir`, or the fault a test planted for this folder (see [`FAULT_ENV`]).
    fn read_dir(&self, path: &Path) -> std::io::Result<std::fs::ReadDir> {
        if self.faults.iter().any(|f| f == path) {
            return Err(std::io::Error::from_raw_os_error(libc::EIO));
        }
        std::fs::read_dir(path)
    }

    /// Lists one folder, sends its listing, returns the sub-folders to walk.
    fn list(&self, task: Task, skipped: &mut SkipCounts) -> Vec<Task> {
        let rd = match self.read_dir(&task.path) {
            Ok(rd) => rd,
            Err(e) => {
                self.io_error(
                    task.path,
                    format!("cannot list this folder: {e}; what the index knew below it is kept"),
                    &e,
                );
                // An empty listing marked incomplete: the folder stays, and nothing the index
                // knew below it is taken for deleted.
                let id = self.next_listing.fetch_add(1, Ordering::Relaxed);
                let _ = self.tx.send(Msg::Listing(Listing {
                    id,
                    slot: task.slot,
                    names: Vec::new(),
                    children: Vec::new(),
                    incomplete: true,
                }));
                return Vec::new();
            }
        };
        let mut entries = Vec::new();
        let mut incomplete = false;
        for e in rd {
            match e {
                Ok(e) => entries.push(e),
                Err(e) => {
                    self.io_error(
                        task.path.clone(),
                        format!("listing stopped early: {e}; what the index knew below it is kept"),
                        &e,
                    );
                    incomplete = true;
                    break;
                }
            }
        }
        // Each name read once (`file_name` makes a copy per call), and each path below made
        // in one buffer per folder: a million-entry walk made several allocations per entry.
        let names: Vec<std::ffi::OsString> = entries.iter().map(|e| e.file_name()).collect();
        let has = |n: &str| names.iter().any(|m| m == n);
        let cargo = has("Cargo.toml");
        let git = if self.opts.rules.rules().respect_gitignore {
            git_for_dir(&task.path, task.git.clone(), has(".git"), has(".gitignore"))
        } else {
            None
        };
        // The entry's path below the walk's root and its path relative to the rules' base:
        // one name pushed onto the folder's own and popped again (a name read from a folder
        // is a single component).
        let mut path = task.path.clone();
        let mut rel = self
            .opts
            .rel_base
            .join(task.path.strip_prefix(&self.root).unwrap_or(Path::new("")));
        let counters = self.opts.counters.as_deref();
        let mut listing = Listing {
            id: 0,
            slot: task.slot,
            names: Vec::with_capacity(names.iter().map(|n| n.len()).sum()),
            children: Vec::with_capacity(entries.len()),
            incomplete,
        };
        let mut subdirs: Vec<(u32, PathBuf, u64)> = Vec::new();
        for (i, (e, name_os)) in entries.iter().zip(&names).enumerate() {
            if i > 0 {
                path.pop();
                rel.pop();
            }
            path.push(name_os);
            rel.push(name_os);
            let name = os_bytes(name_os);
            let mut kind = match e.file_type() {
                Ok(t) => EntryKind::of(t),
                Err(err) => {
                    // Left out of this listing, which is then not the whole folder: what the
                    // index knew of it is kept.
                    self.io_error(path.clone(), format!("cannot read its type: {err}"), &err);
                    listing.incomplete = true;
                    continue;
                }
            };
            if let Some(rule) = self.opts.rules.skip(name, kind, &rel, cargo) {
                skipped.add(rule, kind == EntryKind::Dir);
                continue;
            }
            if let Some(g) = &git
                && g.ignored(&path, kind == EntryKind::Dir)
            {
                skipped.add(Skip::GitIgnored, kind == EntryKind::Dir);
                continue;
            }
            let meta = if self.opts.stat {
                match e.metadata() {
                    Ok(m) => {
                        kind = EntryKind::of(m.file_type());
                        Meta::of(&m)
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                        self.io_error(path.clone(), "vanished during the scan", &err);
                        continue;
                    }
                    Err(err) => {
                        // Not taken with made-up metadata (zeros would read as "modified",
                        // and a folder's inode 0 as "already listed"): left out of this
                        // listing, which is then incomplete, so the index keeps what it knew.
                        self.io_error(
                            path.clone(),
                            format!(
                                "cannot read its metadata: {err}; what the index knew of it is kept"
                            ),
                            &err,
                        );
                        listing.incomplete = true;
                        continue;
                    }
                }
            } else {
                Meta {
                    inode: dir_entry_ino(e),
                    dev: task.dev,
                    ..Meta::default()
                }
            };
            if name.len() > NAME_MAX {
                self.error(
                    path.clone(),
                    format!("its name is {} bytes, longer than {NAME_MAX}", name.len()),
                );
            }
            let pos = listing.children.len() as u32;
            let mut not_listed = false;
            if kind == EntryKind::Dir {
                let fresh = !self.opts.stat
                    || self
                        .visited
                        .lock()
                        .expect("visited set")
                        .insert((meta.dev, meta.inode));
                let deeper = self.opts.max_depth.is_none_or(|m| task.depth + 1 < m);
                if !fresh {
                    self.error(
                        path.clone(),
                        "already listed through another path (bind mount); not listed again",
                    );
                    not_listed = true;
                } else if deeper {
                    subdirs.push((pos, path.clone(), meta.dev));
                }
            }
            let off = listing.names.len() as u32;
            let len = name.len().min(u16::MAX as usize);
            listing.names.extend_from_slice(&name[..len]);
            listing.children.push(Child {
                name_off: off,
                name_len: len as u16,
                kind,
                meta,
                incomplete: not_listed,
            });
            if let Some(c) = counters
                && kind == EntryKind::File
            {
                c.bytes.fetch_add(meta.size, Ordering::Relaxed);
            }
        }
        if let Some(c) = counters {
            c.entries
                .fetch_add(listing.children.len() as u64, Ordering::Relaxed);
            c.dirs.fetch_add(1, Ordering::Relaxed);
        }
        let id = self.next_listing.fetch_add(1, Ordering::Relaxed);
        listing.id = id;
        // Send before queueing the sub-folders, so the collector sees this listing first.
        let _ = self.tx.send(Msg::Listing(listing));
        subdirs
            .into_iter()
            .map(|(pos, path, dev)| Task {
                slot: Slot::Child { listing: id, pos },
                path,
                depth: task.depth + 1,
                dev,
                git: git.clone(),
            })
            .collect()
    }
}

#[cfg(unix)]
fn dir_entry_ino(e: &std::fs::DirEntry) -> u64 {
    use std::os::unix::fs::DirEntryExt;
    e.ino()
}

#[cfg(not(unix))]
fn dir_entry_ino(_: &std::fs::DirEntry) -> u64 {
    0
}

/// Whether `rules` leave out the folder at `rel` (relative to `base`, the folder the rules
/// apply from: a location's root) when a walk from `base` reaches it: the name rules, the
/// globs, and — with `respect_gitignore` — the `.gitignore`s above it. A walk applies rules
/// only below its own root, so a walk of a sub-folder (a scoped rescan) first checks each
/// folder on the way down from `base` with this. `None` for an empty `rel`.
pub fn rules_skip_dir(base: &Path, rel: &Path, rules: &Compiled) -> Option<Skip> {
    let name = rel.file_name()?;
    let path = base.join(rel);
    let cargo = path
        .parent()
        .is_some_and(|p| std::fs::symlink_metadata(p.join("Cargo.toml")).is_ok());
    if let Some(skip) = rules.skip(os_bytes(name), EntryKind::Dir, rel, cargo) {
        return Some(skip);
    }
    if rules.rules().respect_gitignore
        && git_for_root(&path).is_some_and(|g| g.ignored(&path, true))
    {
        return Some(Skip::GitIgnored);
    }
    None
}

/// The gitignore chain for the walk root: the repository it sits in, if any, with the
/// `.gitignore` files from the repository root down to (not including) `root`.
fn git_for_root(root: &Path) -> Option<Arc<GitChain>> {
    let repo = root.ancestors().skip(1).find(|a| a.join(".git").exists())?;
    let mut chain = git_for_dir(repo, None, true, repo.join(".gitignore").is_file());
    let rel = root.strip_prefix(repo).ok()?;
    let mut dir = repo.to_owned();
    let comps: Vec<_> = rel.components().collect();
    for c in comps.iter().take(comps.len().saturating_sub(1)) {
        dir.push(c);
        if dir.join(".gitignore").is_file() {
            chain = git_for_dir(&dir, chain, false, true);
        }
    }
    chain
}

/// The gitignore chain inside `dir`: a new repository starts where `.git` is; a `.gitignore`
/// adds a matcher in front of the outer ones.
fn git_for_dir(
    dir: &Path,
    outer: Option<Arc<GitChain>>,
    has_git: bool,
    has_gitignore: bool,
) -> Option<Arc<GitChain>> {
    if !has_git && !has_gitignore {
        return outer;
    }
    if !has_git && outer.is_none() {
        // A .gitignore outside any repository means nothing to git.
        return None;
    }
    let mut b = GitignoreBuilder::new(dir);
    if has_git {
        let exclude = dir.join(".git/info/exclude");
        if exclude.is_file() {
            let _ = b.add(exclude);
        }
    }
    if has_gitignore {
        let _ = b.add(dir.join(".gitignore"));
    }
    let matcher = b.build().ok()?;
    Some(Arc::new(GitChain {
        matcher,
        // A nested repository does not inherit its parent's ignores.
        outer: if has_git { None } else { outer },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vdfs::fs::rules::Rules;

    fn tree_of(dir: &Path, rules: Rules) -> Tree {
        walk(dir, &WalkOptions::new(Compiled::new(&rules).unwrap())).unwrap()
    }

    /// Writes a one-byte file at each of `rels` below `root`, with the folders on the way.
    fn write_files<P: AsRef<Path>>(root: &Path, rels: impl IntoIterator<Item = P>) {
        for rel in rels {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
    }

    /// No rule but these exclusion globs.
    fn excluding(globs: &[&str]) -> Compiled {
        Compiled::new(&Rules {
            exclude_globs: globs.iter().map(|g| (*g).to_owned()).collect(),
            ..Rules::none()
        })
        .unwrap()
    }

    fn all_paths(t: &Tree) -> Vec<String> {
        let mut v: Vec<String> = (1..t.len())
            .map(|i| t.rel_path(i).to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn walks_a_small_tree_with_contiguous_children() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b/c")).unwrap();
        std::fs::write(d.path().join("a/one.txt"), "1").unwrap();
        std::fs::write(d.path().join("a/b/two.txt"), "22").unwrap();
        std::fs::write(d.path().join("top"), "").unwrap();
        let t = tree_of(d.path(), Rules::none());
        assert_eq!(
            all_paths(&t),
            ["a", "a/b", "a/b/c", "a/b/two.txt", "a/one.txt", "top"]
        );
        let b = t.find(Path::new("a/b")).unwrap();
        let names: Vec<_> = t.children(b).map(|c| t.name(c).to_vec()).collect();
        assert_eq!(names.len(), 2);
        assert_eq!(t.meta(t.find(Path::new("a/b/two.txt")).unwrap()).size, 2);
        assert_eq!(t.depth(t.find(Path::new("a/b/c")).unwrap()), 3);
        assert!(t.errors.is_empty());
    }

    #[test]
    fn gitignore_with_negation_inside_repos_only() {
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("repo");
        std::fs::create_dir_all(repo.join(".git/info")).unwrap();
        std::fs::create_dir_all(repo.join("build")).unwrap();
        std::fs::create_dir_all(repo.join("src")).unwrap();
        std::fs::write(repo.join(".gitignore"), "*.log\n!keep.log\nbuild/\n").unwrap();
        std::fs::write(repo.join(".git/info/exclude"), "secret.txt\n").unwrap();
        for f in [
            "a.log",
            "keep.log",
            "secret.txt",
            "src/main.rs",
            "build/out.o",
        ] {
            std::fs::write(repo.join(f), "x").unwrap();
        }
        std::fs::write(d.path().join("outside.log"), "x").unwrap();
        std::fs::write(d.path().join(".gitignore"), "*.log\n").unwrap();
        let rules = Rules {
            respect_gitignore: true,
            ..Rules::none()
        };
        let t = tree_of(d.path(), rules);
        let paths = all_paths(&t);
        assert!(paths.contains(&"outside.log".into()), "{paths:?}");
        assert!(paths.contains(&"repo/keep.log".into()), "{paths:?}");
        assert!(paths.contains(&"repo/src/main.rs".into()), "{paths:?}");
        assert!(!paths.contains(&"repo/a.log".into()), "{paths:?}");
        assert!(!paths.contains(&"repo/secret.txt".into()), "{paths:?}");
        assert!(
            !paths.iter().any(|p| p.starts_with("repo/build")),
            "{paths:?}"
        );
        assert_eq!(t.skipped.folders, 1);
        assert_eq!(t.skipped.files, 2);
    }

    #[test]
    fn max_depth_and_no_stat() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::write(d.path().join("a/f"), "xyz").unwrap();
        let mut o = WalkOptions::new(Compiled::new(&Rules::none()).unwrap());
        o.max_depth = Some(1);
        o.stat = false;
        let t = walk(d.path(), &o).unwrap();
        assert_eq!(all_paths(&t), ["a"]);
        assert_eq!(t.node(1).kind, EntryKind::Dir);
        assert!(t.node(1).inode != 0);
    }

    #[test]
    fn a_walk_of_a_sub_folder_matches_globs_from_the_base() {
        let d = tempfile::tempdir().unwrap();
        write_files(
            d.path(),
            [
                "a/drafts/x.txt",
                "a/keep/y.txt",
                "b/drafts/z.txt",
                "a/keep/t.tmp",
            ],
        );
        let rules = excluding(&["a/drafts", "*.tmp"]);
        let mut o = WalkOptions::new(rules.clone());
        o.rel_base = PathBuf::from("a");
        let t = walk(&d.path().join("a"), &o).unwrap();
        assert_eq!(all_paths(&t), ["keep", "keep/y.txt"]);
        assert_eq!(t.skipped.folders, 1);
        // Without the base, the glob written from the location root does not match.
        let t = walk(&d.path().join("a"), &WalkOptions::new(rules.clone())).unwrap();
        assert!(all_paths(&t).contains(&"drafts".to_owned()));
        // The folders on the way down to a walk's root.
        let skip = |rel: &str| rules_skip_dir(d.path(), Path::new(rel), &rules);
        assert_eq!(skip("a/drafts"), Some(Skip::Glob));
        assert_eq!(skip("b/drafts"), None);
        assert_eq!(skip("a"), None);
        assert_eq!(skip(""), None);
    }

    /// Each entry's path relative to the base is its folder's with its own name (one buffer
    /// per folder, a name pushed and popped per entry): a glob naming whole relative paths
    /// leaves out exactly the entries it names, after any number of siblings, skipped or not.
    #[test]
    fn globs_see_each_entry_at_its_own_relative_path() {
        let d = tempfile::tempdir().unwrap();
        write_files(
            d.path(),
            (0..30).flat_map(|i| ["x/y", "x", "z/y"].map(|dir| format!("{dir}/f{i}.txt"))),
        );
        let t = walk(
            d.path(),
            &WalkOptions::new(excluding(&["x/y/f1?.txt", "z/y"])),
        )
        .unwrap();
        let paths = all_paths(&t);
        let mut want: Vec<String> = vec!["x".into(), "x/y".into(), "z".into()];
        for i in 0..30 {
            want.push(format!("x/f{i}.txt"));
            if !(10..20).contains(&i) {
                want.push(format!("x/y/f{i}.txt"));
            }
        }
        want.sort();
        assert_eq!(paths, want);
        assert_eq!((t.skipped.files, t.skipped.folders), (10, 1));
        // The same from a root given with a trailing slash.
        let mut root = d.path().as_os_str().to_owned();
        root.push("/");
        let t = walk(
            Path::new(&root),
            &WalkOptions::new(excluding(&["x/y/f1?.txt", "z/y"])),
        )
        .unwrap();
        assert_eq!(all_paths(&t), want);
    }

    #[test]
    fn rules_skip_dir_sees_dev_dirs_and_gitignore() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("repo/.git")).unwrap();
        std::fs::create_dir_all(d.path().join("repo/out/sub")).unwrap();
        std::fs::create_dir_all(d.path().join("repo/target")).unwrap();
        std::fs::create_dir_all(d.path().join("repo/src")).unwrap();
        std::fs::write(d.path().join("repo/.gitignore"), "out/\n").unwrap();
        std::fs::write(d.path().join("repo/Cargo.toml"), "").unwrap();
        let rules = Compiled::new(&Rules {
            respect_gitignore: true,
            ..Rules::default()
        })
        .unwrap();
        let skip = |rel: &str| rules_skip_dir(d.path(), Path::new(rel), &rules);
        assert_eq!(skip("repo/out"), Some(Skip::GitIgnored));
        assert_eq!(skip("repo/target"), Some(Skip::DevDir));
        assert_eq!(skip("repo/.git"), Some(Skip::DevDir));
        assert_eq!(skip("repo/src"), None);
    }

    #[test]
    fn root_errors() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("f"), "").unwrap();
        let o = WalkOptions::new(Compiled::new(&Rules::none()).unwrap());
        assert!(matches!(
            walk(&d.path().join("f"), &o),
            Err(WalkStartError::NotADir { .. })
        ));
        assert!(matches!(
            walk(&d.path().join("nope"), &o),
            Err(WalkStartError::Root { .. })
        ));
    }
}
