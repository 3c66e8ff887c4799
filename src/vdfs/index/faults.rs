//! The store under I/O faults, through the index's one write path: a fixed, seeded sequence of
//! [`IndexWriter`] writes (inserting entries in a small tree, renaming and moving them,
//! deleting subtrees, linking and unlinking content; durable and volatile; one at a time and a
//! few group-committed together) is mirrored in a plain in-memory model, then run once for every
//! I/O operation it makes, with that operation failing ([`crate::store::faults`]: `EIO`,
//! `ENOSPC`, or half a write then `ENOSPC`). Each run starts from a copy of one store file
//! holding the first write (so the writes read pages from the file, and reads fail too), opens
//! it on the failing backend, makes the writes, drops the store, reopens the file with redb's
//! own file backend and checks that:
//!
//! 1. it opens (redb's repair may run);
//! 2. [`super::check`] finds no problem, and every record's envelope is sound;
//! 3. its entries (path → UUID, kind, content), tombstones and change sequence equal the model
//!    after one of the states the write results allow, and only those.
//!
//! What the results allow is redb's guarantee for a failed commit, as `WriteTransaction::commit`
//! (redb 4.5) documents it: "the transaction's changes are applied atomically — fully or not
//! at all — but may already have become durable", and "the database refuses further write
//! transactions" until it is reopened. With `j` the first write that failed, `g` the group
//! commit (the writer's batch) it was part of, and `d` the last write before `g` that was
//! committed durably (by a durable commit of its own or of its batch; at least the first write,
//! which the file held before the run):
//!
//! - every write before `j` reported success, every other write of `g` failed with it, and every
//!   write after `g` must fail too (redb refuses them; a panic or a hang fails the test);
//! - if the code of every write of `g` ran to its end, so the error came from the commit, and
//!   the commit was durable, the file holds the state after `d` or after `g` — never anything
//!   in between, and nothing of a write that failed before its commit;
//! - otherwise (a write's code met the fault, or the transaction could not begin, or the commit
//!   was volatile) the file holds the state after `d`: the volatile writes since `d` are lost
//!   with `g` (no commit after them reached the disk);
//! - if no write failed, the file holds the state after the last write, unless the fault struck
//!   while the store was closing with volatile writes pending: then the state after `d` or after
//!   the last write (closing commits them in one durable commit);
//! - if opening the store failed, the file holds the state it had before.
//!
//! Every fault point of every kind is run (about 1300 runs). For every [`REPAIR_SAMPLE`]th of
//! them, the file the fault left is also reopened with a second fault, at each point of that
//! reopening (opening, repairing, closing: about 3000 runs): the reopened file must then hold
//! exactly what it holds when reopened without one. With the files in `/dev/shm`, all of it
//! takes under ten seconds; the test prints its figures with `--nocapture`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use redb::ReadableTable;
use uuid::Uuid;

use super::write::{ContentLink, IndexWriter};
use super::{DirStats, EntryRecord};
use crate::store::faults::{Fault, FaultKind, FaultLog, FaultyBackend, IoOp};
use crate::store::schema::{META, META_NEXT_SEQ, TOMBSTONES};
use crate::store::{Store, StoreError, WriteTicket, decode};
use crate::vdfs::content::CasId;
use crate::vdfs::content::filetype::ContentKind;
use crate::vdfs::fs::entry::EntryKind;

/// The seed of the sequence of writes.
const SEED: u64 = 0x5eed_ca12_f00d_0001;
/// Writes after the first (which creates the root and a few entries).
const STEPS: usize = 40;
/// Contents that files link to: few, so that copies share one.
const CAS_POOL: [u64; 3] = [0xa1, 0xb2, 0xc3];

/// splitmix64: a fixed sequence from [`SEED`], the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
}

/// One entry of the model's tree.
#[derive(Debug, Clone)]
struct Node {
    parent: u64,
    name: String,
    kind: EntryKind,
    uuid: Uuid,
    size: u64,
    cas: Option<CasId>,
}

/// What the index must hold: entries by path, the tombstones, and how many writes were applied
/// (each takes one change sequence number).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Model {
    entries: BTreeMap<String, (Uuid, EntryKind, Option<CasId>)>,
    tombstones: BTreeSet<Uuid>,
    writes: u64,
}

/// The model's tree, by entry id.
#[derive(Debug, Clone, Default)]
struct Tree {
    nodes: BTreeMap<u64, Node>,
    tombstones: BTreeSet<Uuid>,
    writes: u64,
}

impl Tree {
    fn path(&self, id: u64) -> String {
        let n = &self.nodes[&id];
        if n.parent == 0 {
            n.name.clone()
        } else {
            format!("{}/{}", self.path(n.parent), n.name)
        }
    }

    fn model(&self) -> Model {
        Model {
            entries: self
                .nodes
                .iter()
                .map(|(id, n)| (self.path(*id), (n.uuid, n.kind, n.cas)))
                .collect(),
            tombstones: self.tombstones.clone(),
            writes: self.writes,
        }
    }

    fn of_kind(&self, kind: EntryKind) -> Vec<u64> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.kind == kind)
            .map(|(id, _)| *id)
            .collect()
    }

    fn non_roots(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.parent != 0)
            .map(|(id, _)| *id)
            .collect()
    }

    /// `id` and everything below it.
    fn subtree(&self, id: u64) -> Vec<u64> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let p = out[i];
            out.extend(
                self.nodes
                    .iter()
                    .filter(|(_, n)| n.parent == p)
                    .map(|(c, _)| *c),
            );
            i += 1;
        }
        out
    }

    fn name_taken(&self, parent: u64, name: &str) -> bool {
        self.nodes
            .values()
            .any(|n| n.parent == parent && n.name == name)
    }

    /// Every folder's aggregates, as the indexer would store them.
    fn stats(&self) -> Vec<(u64, DirStats)> {
        self.of_kind(EntryKind::Dir)
            .into_iter()
            .map(|d| {
                let mut s = DirStats::default();
                for id in self.subtree(d).into_iter().skip(1) {
                    let n = &self.nodes[&id];
                    match n.kind {
                        EntryKind::Dir => s.dirs += 1,
                        _ => {
                            s.files += 1;
                            s.bytes += n.size;
                        }
                    }
                }
                (d, s)
            })
            .collect()
    }

    fn record(&self, id: u64) -> EntryRecord {
        let n = &self.nodes[&id];
        EntryRecord {
            uuid: n.uuid,
            location: 1,
            parent: n.parent,
            name: n.name.as_bytes().to_vec(),
            kind: n.kind,
            size: n.size,
            mtime_ns: 0,
            inode: id,
            dev: 0,
            cas: None,
            content_kind: ContentKind::Unknown,
            first_seen_ms: 0,
            updated_seq: 0,
        }
    }
}

/// One change made through [`IndexWriter`].
#[derive(Debug, Clone)]
enum Op {
    Insert(Vec<(u64, EntryRecord)>),
    /// Rename and/or move.
    Relocate {
        id: u64,
        parent: u64,
        name: String,
    },
    DeleteSubtree(u64),
    Link(u64, CasId),
    Unlink(u64),
}

/// One write transaction: its changes, then every folder's aggregates.
#[derive(Debug, Clone)]
struct Step {
    ops: Vec<Op>,
    stats: Vec<(u64, DirStats)>,
    durable: bool,
}

impl Step {
    fn apply(&self, tx: &redb::WriteTransaction) -> Result<(), StoreError> {
        let mut w = IndexWriter::begin(tx)?;
        for op in &self.ops {
            match op {
                Op::Insert(recs) => w.insert_batch(&mut recs.clone())?,
                Op::Relocate { id, parent, name } => {
                    w.update(*id, |r| {
                        r.parent = *parent;
                        r.name = name.as_bytes().to_vec();
                    })?
                    .expect("the entry to relocate exists");
                }
                Op::DeleteSubtree(id) => {
                    w.delete_subtree(*id)?;
                }
                Op::Link(id, cas) => w.link_content(&ContentLink {
                    id: *id,
                    cas: *cas,
                    size: 1,
                    kind: ContentKind::Text,
                    file_type: None,
                    mime: None,
                })?,
                Op::Unlink(id) => {
                    w.update(*id, |r| r.cas = None)?
                        .expect("the entry to unlink exists");
                }
            }
        }
        for (id, s) in &self.stats {
            w.set_dir_stats(*id, s)?;
        }
        Ok(())
    }
}

/// The fixed sequence of writes, with the model after each (`models[i]`: the index after the
/// first `i` writes; `models[1]` is the base every run starts from) and how the writes after
/// the first are submitted: each range is one batch of the writer (a group commit of more than
/// one write is always between two batches of one).
struct Sequence {
    steps: Vec<Step>,
    models: Vec<Model>,
    batches: Vec<Range<usize>>,
}

fn sequence() -> Sequence {
    let mut rng = Rng(SEED);
    let mut tree = Tree::default();
    let mut next_id = 1u64;
    let mut names = 0u32;
    let mut fresh_name = |rng: &mut Rng, kind: EntryKind| {
        names += 1;
        match kind {
            EntryKind::Dir => format!("d{names}"),
            _ => format!("f{names}.{}", rng.pick(&["txt", "jpg", "md"])),
        }
    };
    let mut new_node = |tree: &mut Tree, rng: &mut Rng, parent: u64, kind: EntryKind, name| {
        let id = next_id;
        next_id += 1;
        tree.nodes.insert(
            id,
            Node {
                parent,
                name,
                kind,
                uuid: Uuid::from_u64_pair(rng.next(), rng.next()),
                size: if kind == EntryKind::Dir {
                    0
                } else {
                    1 + rng.next() % 4096
                },
                cas: None,
            },
        );
        id
    };

    let mut steps = Vec::new();
    let mut models = vec![tree.model()];
    for i in 0..=STEPS {
        let mut ops = Vec::new();
        let what = match i {
            0 => 0,
            // Nothing but the root left: something new.
            _ if tree.non_roots().is_empty() => 1,
            _ => 1 + rng.below(6),
        };
        match what {
            0 => {
                // The location root and a first few entries.
                let root = new_node(&mut tree, &mut rng, 0, EntryKind::Dir, "/r".into());
                let mut ids = vec![root];
                for _ in 0..3 {
                    let name = fresh_name(&mut rng, EntryKind::Dir);
                    let d = new_node(&mut tree, &mut rng, root, EntryKind::Dir, name);
                    ids.push(d);
                    for _ in 0..2 {
                        let name = fresh_name(&mut rng, EntryKind::File);
                        ids.push(new_node(&mut tree, &mut rng, d, EntryKind::File, name));
                    }
                }
                ops.push(Op::Insert(
                    ids.iter().map(|id| (*id, tree.record(*id))).collect(),
                ));
            }
            1 | 2 => {
                // A new folder with files, or a new file, under some folder.
                let parent = rng.pick(&tree.of_kind(EntryKind::Dir));
                let mut ids = Vec::new();
                if rng.below(2) == 0 {
                    let name = fresh_name(&mut rng, EntryKind::Dir);
                    let d = new_node(&mut tree, &mut rng, parent, EntryKind::Dir, name);
                    ids.push(d);
                    for _ in 0..1 + rng.below(3) {
                        let name = fresh_name(&mut rng, EntryKind::File);
                        ids.push(new_node(&mut tree, &mut rng, d, EntryKind::File, name));
                    }
                } else {
                    let name = fresh_name(&mut rng, EntryKind::File);
                    ids.push(new_node(&mut tree, &mut rng, parent, EntryKind::File, name));
                }
                ops.push(Op::Insert(
                    ids.iter().map(|id| (*id, tree.record(*id))).collect(),
                ));
            }
            3 => {
                // A rename, or a move into a folder outside its own subtree (keeping the name
                // when it is free there).
                let id = rng.pick(&tree.non_roots());
                let below = tree.subtree(id);
                let targets: Vec<u64> = tree
                    .of_kind(EntryKind::Dir)
                    .into_iter()
                    .filter(|d| !below.contains(d))
                    .collect();
                let parent = rng.pick(&targets);
                let old = &tree.nodes[&id];
                let name = if parent != old.parent && !tree.name_taken(parent, &old.name) {
                    old.name.clone()
                } else {
                    fresh_name(&mut rng, old.kind)
                };
                let n = tree.nodes.get_mut(&id).expect("picked from the tree");
                n.parent = parent;
                n.name.clone_from(&name);
                ops.push(Op::Relocate { id, parent, name });
            }
            4 => {
                // A subtree goes (a root's child, or anything deeper).
                let id = rng.pick(&tree.non_roots());
                for gone in tree.subtree(id) {
                    let n = tree.nodes.remove(&gone).expect("in the subtree");
                    tree.tombstones.insert(n.uuid);
                }
                ops.push(Op::DeleteSubtree(id));
            }
            _ => {
                // Content links: one or two files get a content (maybe another one), or lose it.
                for _ in 0..1 + rng.below(2) {
                    let files = tree.of_kind(EntryKind::File);
                    if files.is_empty() {
                        break;
                    }
                    let id = rng.pick(&files);
                    let n = tree.nodes.get_mut(&id).expect("picked from the tree");
                    if n.cas.is_some() && rng.below(3) == 0 {
                        n.cas = None;
                        ops.push(Op::Unlink(id));
                    } else {
                        let cas = CasId(rng.pick(&CAS_POOL));
                        n.cas = Some(cas);
                        ops.push(Op::Link(id, cas));
                    }
                }
            }
        }
        tree.writes += 1;
        steps.push(Step {
            ops,
            stats: tree.stats(),
            // About one write in three is a volatile commit, as a scan's batches are.
            durable: i == 0 || rng.below(3) != 0,
        });
        models.push(tree.model());
    }
    let mut batches: Vec<Range<usize>> = Vec::new();
    let mut i = 1;
    while i < steps.len() {
        let after_single = batches.last().is_some_and(|b| b.len() == 1);
        let len = if after_single && rng.below(3) == 0 {
            (2 + rng.below(2)).min(steps.len() - 1 - i)
        } else {
            1
        };
        batches.push(i..i + len.max(1));
        i += len.max(1);
    }
    Sequence {
        steps,
        models,
        batches,
    }
}

/// The index in the store, in the model's terms.
fn read_model(store: &Store) -> Result<Model, StoreError> {
    store.read(|tx| {
        let mut recs = HashMap::new();
        super::each_entry(tx, |id, r| {
            recs.insert(id, r);
            Ok(())
        })?;
        let path = |mut id: u64| {
            let mut parts = Vec::new();
            while let Some(r) = recs.get(&id) {
                parts.push(String::from_utf8_lossy(&r.name).into_owned());
                id = r.parent;
            }
            parts.reverse();
            parts.join("/")
        };
        let entries = recs
            .iter()
            .map(|(id, r)| (path(*id), (r.uuid, r.kind, r.cas)))
            .collect();
        let mut tombstones = BTreeSet::new();
        for row in tx.open_table(TOMBSTONES)?.iter()? {
            tombstones.insert(Uuid::from_u128(row?.0.value()));
        }
        let next_seq: u64 = match tx.open_table(META)?.get(META_NEXT_SEQ)? {
            Some(v) => decode("meta", v.value())?,
            None => 1,
        };
        Ok(Model {
            entries,
            tombstones,
            writes: next_seq - 1,
        })
    })
}

/// Holds a write inside the writer (its batch already formed) until the test has queued the
/// writes that the writer must take as its next batch.
#[derive(Default)]
struct Gate {
    /// (the held write has started or ended, the gate is open)
    state: Mutex<(bool, bool)>,
    changed: Condvar,
}

impl Gate {
    /// In the held write: says it has started, then waits for the gate to open.
    fn hold(&self) {
        let mut s = self.state.lock().unwrap();
        s.0 = true;
        self.changed.notify_all();
        while !s.1 {
            s = self.changed.wait(s).unwrap();
        }
    }

    /// When the held write was answered (it may end without starting: its transaction could
    /// not begin).
    fn ended(&self) {
        self.state.lock().unwrap().0 = true;
        self.changed.notify_all();
    }

    /// Waits until the held write has started or ended.
    fn wait_started(&self) {
        let mut s = self.state.lock().unwrap();
        while !s.0 {
            s = self.changed.wait(s).unwrap();
        }
    }

    fn open(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

/// How one write of a run ended.
#[derive(Debug)]
struct Outcome {
    /// Its error, if it failed.
    error: Option<StoreError>,
    /// Its code ran to its end (so an error came from its commit).
    applied: bool,
}

/// How the runs of one fault kind ended.
#[derive(Debug, Default)]
struct Figures {
    runs: u64,
    open_failed: u64,
    failed_before_commit: u64,
    commit_failed_absent: u64,
    commit_failed_present: u64,
    struck_while_closing: u64,
    no_write_failed: u64,
}

/// Queues write `i` of `seq` (held at its start by `gate`, if any).
fn submit(
    store: &Store,
    seq: &Sequence,
    i: usize,
    gate: Option<Arc<Gate>>,
) -> (WriteTicket<()>, Arc<AtomicBool>) {
    let applied = Arc::new(AtomicBool::new(false));
    let (step, a) = (Arc::new(seq.steps[i].clone()), applied.clone());
    let op = move |tx: &redb::WriteTransaction| {
        if let Some(g) = &gate {
            g.hold();
        }
        step.apply(tx)?;
        a.store(true, Ordering::SeqCst);
        Ok(())
    };
    let ticket = if seq.steps[i].durable {
        store.write_ticket(op)
    } else {
        store.write_ticket_volatile(op)
    };
    (ticket, applied)
}

/// Makes the writes after the first as `seq.batches` says; one outcome per write.
fn write_all(store: &Store, seq: &Sequence) -> Vec<Outcome> {
    fn wait((t, applied): (WriteTicket<()>, Arc<AtomicBool>)) -> Outcome {
        let error = t.wait().err();
        Outcome {
            error,
            applied: applied.load(Ordering::SeqCst),
        }
    }
    let mut outcomes = Vec::new();
    let mut b = 0;
    while b < seq.batches.len() {
        let this = seq.batches[b].clone();
        assert_eq!(this.len(), 1, "a group commit follows a single write");
        match seq.batches.get(b + 1).filter(|n| n.len() > 1) {
            Some(group) => {
                // While the writer holds this write, the group's writes queue up behind it; it
                // takes them as one batch when this one is done.
                let gate = Arc::new(Gate::default());
                let held = submit(store, seq, this.start, Some(gate.clone()));
                let held = std::thread::spawn({
                    let gate = gate.clone();
                    move || {
                        let o = wait(held);
                        gate.ended();
                        o
                    }
                });
                gate.wait_started();
                let queued: Vec<_> = group.clone().map(|i| submit(store, seq, i, None)).collect();
                gate.open();
                outcomes.push(held.join().unwrap());
                outcomes.extend(queued.into_iter().map(wait));
                b += 2;
            }
            None => {
                outcomes.push(wait(submit(store, seq, this.start, None)));
                b += 1;
            }
        }
    }
    outcomes
}

/// A temporary folder in memory where there is one (`/dev/shm`), where a store's `fsync`s cost
/// nothing: about a thousand runs of real `fsync`s would take half a minute, and what this test
/// observes is the same (it reopens files in the running system, never after a power cut).
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

/// What a run with a fault did before the file was reopened.
struct Run {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    fault: Option<Fault>,
    /// Opening the store on the failing backend succeeded.
    opened: bool,
    /// One per write after the first.
    outcomes: Vec<Outcome>,
    /// How many I/O operations were made when the last write was answered (the rest: closing).
    ops_after_writes: usize,
    log: FaultLog,
}

/// Copies `base`, opens it on a backend failing as `fault` says, makes the writes and drops the
/// store.
fn run(base: &Path, seq: &Sequence, fault: Option<Fault>) -> Run {
    let dir = scratch();
    let path = dir.path().join("library.redb");
    std::fs::copy(base, &path).unwrap();
    let log = FaultLog::default();
    let (opened, outcomes, ops_after_writes) = match open_faulty(&path, fault, &log) {
        None => (false, Vec::new(), usize::MAX),
        Some(store) => {
            let outcomes = write_all(&store, seq);
            let ops = log.ops();
            drop(store);
            (true, outcomes, ops)
        }
    };
    Run {
        _dir: dir,
        path,
        fault,
        opened,
        outcomes,
        ops_after_writes,
        log,
    }
}

/// Opens the store at `path` on a backend failing as `fault` says; `None` if that fails (with a
/// storage error: anything else fails the test).
fn open_faulty(path: &Path, fault: Option<Fault>, log: &FaultLog) -> Option<Store> {
    let file = std::fs::File::options()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let backend = FaultyBackend::new(file, fault, log.clone()).unwrap();
    match Store::open_on_backend(path, backend, &|_, _| Ok(())) {
        Ok(store) => Some(store),
        Err(e) => {
            assert!(
                matches!(e, StoreError::Open { .. } | StoreError::Db(_)),
                "opening with {fault:?} failed with {e:?}, not a storage error"
            );
            None
        }
    }
}

/// Reopens the file at `path` with redb's own file backend and checks (a) that it opens and (b)
/// that the index is sound and so is every record; returns what it holds.
fn reopen_sound(path: &Path, ctx: &str) -> Model {
    let store =
        Store::open(path).unwrap_or_else(|e| panic!("{ctx}: the store does not reopen: {e}"));
    let problems = super::check(&store).unwrap_or_else(|e| panic!("{ctx}: check failed: {e}"));
    assert!(
        problems.is_empty(),
        "{ctx}: the index is inconsistent: {problems:#?}"
    );
    let damaged = store
        .read(crate::store::check::check_records)
        .unwrap()
        .damaged;
    assert!(damaged.is_empty(), "{ctx}: damaged records: {damaged:?}");
    read_model(&store).unwrap()
}

/// Reopens the file at `path`, left by run `r`, with redb's own file backend and checks it (see
/// the module docs); returns what it holds.
fn check_file(path: &Path, r: &Run, seq: &Sequence, f: &mut Figures, ctx: &str) -> Model {
    let found = reopen_sound(path, ctx);
    f.runs += 1;
    let outcomes = &r.outcomes;
    let results: Vec<Option<String>> = outcomes
        .iter()
        .map(|o| o.error.as_ref().map(ToString::to_string))
        .collect();
    for e in outcomes.iter().filter_map(|o| o.error.as_ref()) {
        assert!(
            matches!(e, StoreError::Db(_)),
            "{ctx}: a write failed with {e:?}, not a storage error; results {results:?}"
        );
    }
    // Write numbers: write `w` (from 1) is `seq.steps[w - 1]`; outcome `o` is write `o + 2`.
    let first_failed = outcomes
        .iter()
        .position(|o| o.error.is_some())
        .map(|o| o + 2);
    let batch_of = |w: usize| {
        seq.batches
            .iter()
            .find(|b| b.contains(&(w - 1)))
            .map(|b| b.start + 1..b.end + 1)
            .expect("every write after the first is in a batch")
    };
    let durable = |w: usize| batch_of(w).any(|v| seq.steps[v - 1].durable);
    // The last write up to `upto` committed durably; the first write is in the base.
    let last_durable = |upto: usize| (2..=upto).rev().find(|&w| durable(w)).unwrap_or(1);
    let outcome = |w: usize| &outcomes[w - 2];
    let last = seq.steps.len();
    let allowed: Vec<usize> = if !r.opened {
        f.open_failed += 1;
        vec![1]
    } else if let Some(j) = first_failed {
        let g = batch_of(j);
        for w in g.start..=last {
            assert!(
                outcome(w).error.is_some(),
                "{ctx}: write {w} succeeded though write {j} (batch {g:?}) failed before it; \
                 results {results:?}"
            );
        }
        let d = last_durable(g.start - 1);
        if durable(j) && g.clone().all(|w| outcome(w).applied) {
            if found == seq.models[g.end - 1] {
                f.commit_failed_present += 1;
            } else {
                f.commit_failed_absent += 1;
            }
            vec![d, g.end - 1]
        } else {
            f.failed_before_commit += 1;
            vec![d]
        }
    } else {
        let d = last_durable(last);
        let closing = r
            .log
            .struck()
            .is_some_and(|(at, _)| at >= r.ops_after_writes);
        if closing {
            f.struck_while_closing += 1;
        } else {
            f.no_write_failed += 1;
        }
        if closing { vec![d, last] } else { vec![last] }
    };
    assert!(
        allowed.iter().any(|&i| found == seq.models[i]),
        "{ctx}: after writes with results {results:?} the store holds {found:#?}, which is none \
         of the states after writes {allowed:?}: {:#?}",
        allowed.iter().map(|&i| &seq.models[i]).collect::<Vec<_>>()
    );
    found
}

/// Every how many fault points the reopening is struck by a second fault at each of its own
/// fault points.
const REPAIR_SAMPLE: u64 = 8;

/// Reopens copies of the file at `left` (left by a run with a fault of `kind`, not yet
/// reopened) on a backend that fails at each point of `kind` that reopening it (opening,
/// repairing, closing) makes; then each copy must reopen sound and hold exactly `holds`, what
/// the file holds when reopened without a fault: an interrupted repair changes nothing. Returns
/// how many reopenings were struck.
fn interrupted_repairs(left: &Path, kind: FaultKind, holds: &Model, ctx: &str) -> u64 {
    let dir = scratch();
    let copy = |name: &str| {
        let p = dir.path().join(name);
        std::fs::copy(left, &p).unwrap();
        p
    };
    let log = FaultLog::default();
    drop(open_faulty(&copy("count.redb"), None, &log));
    let mut struck = 0;
    for at in 1..=log.points(kind) {
        let second = Fault { kind, at };
        let path = copy(&format!("{at}.redb"));
        let log = FaultLog::default();
        drop(open_faulty(&path, Some(second), &log));
        assert!(log.struck().is_some(), "{ctx}: {second:?} never struck");
        struck += 1;
        let ctx = format!("{ctx}, then reopened with {second:?}");
        let found = reopen_sound(&path, &ctx);
        assert!(
            found == *holds,
            "{ctx}: the interrupted repair changed what the file holds: {found:#?}, not {holds:#?}"
        );
    }
    struck
}

#[test]
fn every_io_fault_leaves_a_store_that_reopens_sound_in_a_state_the_results_allow() {
    let seq = sequence();
    let dir = scratch();
    let base = dir.path().join("base.redb");
    {
        let store = Store::open(&base).unwrap();
        let first = seq.steps[0].clone();
        store.write(move |tx| first.apply(tx)).unwrap();
    }

    // A run without a fault: every write succeeds; it counts the fault points.
    let mut figures = Figures::default();
    let clean = run(&base, &seq, None);
    check_file(&clean.path, &clean, &seq, &mut figures, "without a fault");
    assert_eq!(figures.no_write_failed, 1);
    let log = clean.log;

    let started = Instant::now();
    let mut per_kind = Vec::new();
    let mut repairs = 0;
    for kind in FaultKind::ALL {
        let points = log.points(kind);
        let mut f = Figures::default();
        for at in 1..=points {
            let r = run(&base, &seq, Some(Fault { kind, at }));
            assert!(
                r.log.struck().is_some(),
                "{kind:?} at {at} of {points} never struck"
            );
            let ctx = format!("with {:?}", r.fault);
            // Kept as the fault left it, for a second fault in its repair.
            let left = (at % REPAIR_SAMPLE == 0).then(|| {
                let p = r.path.with_extension("left");
                std::fs::copy(&r.path, &p).unwrap();
                p
            });
            let holds = check_file(&r.path, &r, &seq, &mut f, &ctx);
            if let Some(left) = left {
                repairs += interrupted_repairs(&left, kind, &holds, &ctx);
            }
        }
        per_kind.push((kind, points, f));
    }
    eprintln!(
        "{} writes in {} batches, {} I/O operations without a fault; {:.1} s for all runs:",
        seq.steps.len() - 1,
        seq.batches.len(),
        log.ops(),
        started.elapsed().as_secs_f64()
    );
    eprintln!(
        "  reads {}, writes {}, set_len {}, syncs {}",
        log.count_of(IoOp::Read),
        log.count_of(IoOp::Write),
        log.count_of(IoOp::SetLen),
        log.count_of(IoOp::Sync)
    );
    for (kind, points, f) in &per_kind {
        eprintln!("  {kind:?}: {points} points: {f:?}");
    }
    eprintln!("  then {repairs} reopenings of a sample of these files with a second fault");
}

/// Regression: the names generation was a counter. When commits were lost — volatile ones
/// behind a commit that failed, as above, or behind a crash — the writes after the reopening
/// took the lost commits' numbers again, so a search name index (`cache/names.idx`) built from
/// the lost state passed for current (its generation equal to the store's) and search answered
/// from entries that were never saved.
#[test]
fn a_names_generation_seen_before_commits_were_lost_is_never_seen_again() {
    let dir = scratch();
    let path = dir.path().join("library.redb");
    let root = EntryRecord {
        uuid: Uuid::from_u128(1),
        location: 1,
        parent: 0,
        name: b"/r".to_vec(),
        kind: EntryKind::Dir,
        size: 0,
        mtime_ns: 0,
        inode: 1,
        dev: 0,
        cas: None,
        content_kind: ContentKind::Unknown,
        first_seen_ms: 0,
        updated_seq: 0,
    };
    let file = |id: u64, name: &str| EntryRecord {
        uuid: Uuid::from_u128(u128::from(id)),
        parent: 1,
        name: name.as_bytes().to_vec(),
        kind: EntryKind::File,
        ..root.clone()
    };
    let insert = move |rec: EntryRecord| {
        move |tx: &redb::WriteTransaction| {
            IndexWriter::begin(tx)?.insert(rec.uuid.as_u128() as u64, rec.clone())
        }
    };
    {
        let store = Store::open(&path).unwrap();
        store.write(insert(root.clone())).unwrap();
    }
    let before = {
        let store = Store::open(&path).unwrap();
        super::names_generation(&store).unwrap()
    };

    // A volatile write (a scan's batch), and a search index built from it; then the durable
    // write after it fails at its first I/O operation, before anything of it is on disk.
    let dry = dir.path().join("dry.redb");
    std::fs::copy(&path, &dry).unwrap();
    let log = FaultLog::default();
    let store = open_faulty(&dry, None, &log).unwrap();
    store
        .write_ticket_volatile(insert(file(2, "lost.txt")))
        .wait()
        .unwrap();
    let fault = Fault {
        kind: FaultKind::Eio,
        at: log.points(FaultKind::Eio) + 1,
    };
    drop(store);
    let log = FaultLog::default();
    let store = open_faulty(&path, Some(fault), &log).unwrap();
    store
        .write_ticket_volatile(insert(file(2, "lost.txt")))
        .wait()
        .unwrap();
    let seen = super::names_generation(&store).unwrap();
    assert_ne!(seen, before);
    store.write(insert(file(3, "also-lost.txt"))).unwrap_err();
    assert!(log.struck().is_some());
    drop(store);

    // Reopened: both writes are gone. Another write follows.
    let store = Store::open(&path).unwrap();
    assert_eq!(super::names_generation(&store).unwrap(), before);
    let (entries, _) = super::counts(&store).unwrap();
    assert_eq!(entries, 1, "only the root is left");
    store.write(insert(file(4, "saved.txt"))).unwrap();
    assert_ne!(
        super::names_generation(&store).unwrap(),
        seen,
        "a different index has the generation of the lost one"
    );
}
