//! The library's store: one redb file (`library.redb`) with typed tables and one writer.
//!
//! - Every table is declared in [`schema`]; values are postcard-encoded ([`encode`]/[`decode`]).
//! - Reads run on the caller's thread in short read transactions ([`Store::read`]).
//! - Writes go to one writer thread ([`Store::write`]), which batches the operations waiting in
//!   its queue into one durable commit (group commit). An operation that fails aborts that
//!   transaction; the others in the batch are re-applied in a fresh one, so one caller's error
//!   never loses or half-applies another's write.
//! - Every commit uses redb's quick-repair mode (a two-phase commit that also saves the
//!   allocator state), so a process killed mid-write leaves a file that opens at once in its
//!   last committed state.
//! - An I/O error (a full or failing disk) fails the write it strikes and every later write
//!   until the store is opened again; the file then opens sound, with each commit in it whole
//!   or not at all. Tests hold the store to this with a backend that fails its Nth I/O
//!   operation (`faults`, test builds only).

pub mod check;
#[cfg(test)]
pub(crate) mod faults;
pub mod record;
pub mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Serialize, de::DeserializeOwned};

pub use schema::SCHEMA_VERSION;
use schema::{META, META_SCHEMA_VERSION, MIGRATIONS};
pub use writer::WriteTicket;

/// Page cache given to redb, in bytes. redb's default (1 GiB) is far more than a file
/// manager should hold resident.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// Errors of the store. Cheap to clone, because one failed commit is reported to every
/// operation batched into it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or created.
    #[error("cannot open the store {path}: {source}")]
    Open {
        /// The `library.redb` path.
        path: PathBuf,
        /// redb's reason.
        source: Arc<redb::DatabaseError>,
    },
    /// The file was written by a newer Cairn.
    #[error(
        "the store {path} has schema version {found}, but this Cairn supports up to version \
         {supported}; open it with a newer Cairn"
    )]
    SchemaTooNew {
        /// The `library.redb` path.
        path: PathBuf,
        /// The version found in the file.
        found: u32,
        /// [`SCHEMA_VERSION`].
        supported: u32,
    },
    /// A redb operation failed.
    #[error("store error: {0}")]
    Db(Arc<redb::Error>),
    /// A stored value did not decode.
    #[error("corrupt record in table {table}: {detail}")]
    Decode {
        /// The table name.
        table: &'static str,
        /// postcard's reason.
        detail: String,
    },
    /// A record that must exist is missing.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. `job 12`.
        what: String,
    },
    /// The writer thread is gone (the store is closing).
    #[error("the store is closed")]
    Closed,
    /// Reading or opening the store failed inside redb (it panicked on what it read): the
    /// file is damaged. Nothing was changed.
    #[error(
        "{} is damaged (reading it failed: {detail}); it was left as it is — `cairn library check` lists what is damaged; restore library.redb from a copy of the library folder, or run `cairn library repair` (keeps what is left, rescans the locations)",
        path.display()
    )]
    Damaged {
        /// The `library.redb` path.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// A write would give a folder two children of the same name (or two entries the same
    /// UUID): the later writer is refused and nothing of its transaction is saved.
    #[error("conflict: {what}")]
    Conflict {
        /// What collided, e.g. `an entry named "a.txt" already exists in folder 12`.
        what: String,
    },
    /// The store stopped after an I/O error (a full disk, a failing disk) and could not be
    /// opened again yet; the next read or write tries again.
    #[error(
        "{} stopped after a disk error and cannot be opened again yet ({detail}); free some space on its drive or check the drive — Cairn tries again with the next change",
        path.display()
    )]
    Stopped {
        /// The `library.redb` path.
        path: PathBuf,
        /// Why it cannot be opened.
        detail: String,
    },
    /// The code of a write panicked; that write was rolled back and answered with this error,
    /// the writes batched with it were applied, and the writer went on.
    #[error("a write to the store failed unexpectedly (it panicked: {0}); nothing of it was saved")]
    WritePanicked(String),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(Arc::new(e.into()))
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::TableError,
    redb::StorageError,
    redb::TransactionError,
    redb::CommitError
);

/// Encodes a value with postcard.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain structs into a Vec cannot fail.
    postcard::to_allocvec(value).expect("postcard encodes plain structs")
}

/// Decodes a postcard value read from `table`.
///
/// # Errors
/// [`StoreError::Decode`] naming the table when the bytes are not a valid `T`.
pub fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Decode {
        table,
        detail: e.to_string(),
    })
}

/// An open `library.redb`. Cheap to clone; the writer thread stops when the last clone drops.
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    // Field order is drop order: the writer finishes what is queued before the file closes.
    writer: writer::Writer,
    slot: Arc<Slot>,
    path: PathBuf,
}

/// How the store's file is opened again (the file, or a test's backend), with the builder's
/// settings.
type Opener = Arc<dyn Fn(&redb::Builder) -> Result<Database, redb::DatabaseError> + Send + Sync>;

/// The open database, and how to open it again after an I/O error.
///
/// redb stops after a failed write or read that it needed (a full disk, a disk error): every
/// later transaction fails with "previous I/O error" until the file is opened again — in a
/// window open for days, that would be every read and write until it is restarted. So the
/// store opens it again itself: the failed database is dropped, and the file is opened anew
/// (redb repairs it from its last commit; a disk still full fails again, and the next
/// transaction tries again). Nothing committed is lost; the failed transaction is, as it would
/// be after a crash.
pub(crate) struct Slot {
    db: std::sync::RwLock<Option<Arc<Database>>>,
    /// `None` for a test's store over a backend that cannot be made again.
    opener: Option<Opener>,
    path: PathBuf,
}

impl Drop for Slot {
    /// Closing the database writes its allocator state; on a damaged file redb may panic
    /// there, where no caller is left to report it: the panic is caught (and logged) like
    /// every other one of redb's, so a damaged store never takes the process down on close.
    fn drop(&mut self) {
        let db = self
            .db
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Err(e) = guarded(&self.path, move || drop(db)) {
            tracing::warn!("closing the store: {e}");
        }
    }
}

/// How long a reopening waits for the transactions still holding the failed database.
const REOPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Slot {
    /// The open database, opened again first if it stopped.
    pub(crate) fn get(&self) -> Result<Arc<Database>, StoreError> {
        if let Some(db) = &*self.db.read().expect("store slot") {
            return Ok(db.clone());
        }
        self.reopen()
    }

    /// Forgets `failed` (if it is still the open database), so that the next [`Slot::get`]
    /// opens the file again.
    pub(crate) fn forget(&self, failed: &Arc<Database>) {
        let mut g = self.db.write().expect("store slot");
        if g.as_ref().is_some_and(|db| Arc::ptr_eq(db, failed)) {
            *g = None;
        }
    }

    /// Drops the open database and opens the file again. Waits (up to [`REOPEN_WAIT`]) for
    /// the transactions that still hold the old one to end: redb opens a file once.
    ///
    /// # Errors
    /// [`StoreError::Stopped`] when the file cannot be opened again (yet); a test's store over
    /// a backend that cannot be made again is left as it is.
    pub(crate) fn reopen(&self) -> Result<Arc<Database>, StoreError> {
        let mut g = self.db.write().expect("store slot");
        let Some(opener) = &self.opener else {
            return g
                .clone()
                .ok_or_else(|| self.stopped("it cannot be opened again"));
        };
        *g = None;
        let deadline = std::time::Instant::now() + REOPEN_WAIT;
        loop {
            match guarded(&self.path, || create_db(&self.path, &|b| opener(b))) {
                Ok(Ok(db)) => {
                    tracing::info!("{} opened again after an I/O error", self.path.display());
                    let db = Arc::new(db);
                    *g = Some(db.clone());
                    return Ok(db);
                }
                Ok(Err(StoreError::Open { source, .. }))
                    if matches!(*source, redb::DatabaseError::DatabaseAlreadyOpen)
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Ok(Err(e)) => return Err(self.stopped(&e.to_string())),
                Err(e) => return Err(self.stopped(&e.to_string())),
            }
        }
    }

    fn stopped(&self, why: &str) -> StoreError {
        StoreError::Stopped {
            path: self.path.clone(),
            detail: why.to_owned(),
        }
    }
}

/// Opens a database with the store's builder settings through `create`.
fn create_db(
    path: &Path,
    create: &dyn Fn(&redb::Builder) -> Result<Database, redb::DatabaseError>,
) -> Result<Database, StoreError> {
    let mut builder = Database::builder();
    builder
        .set_cache_size(CACHE_BYTES)
        .set_repair_callback(|session| {
            tracing::warn!(
                "repairing the store after an unclean shutdown ({:.0}%)",
                session.progress() * 100.0
            );
        });
    create(&builder).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        source: Arc::new(e),
    })
}

/// True for redb's "an earlier I/O error stopped the database".
pub(crate) fn is_previous_io(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(e) if matches!(**e, redb::Error::PreviousIo))
}

impl Store {
    /// Opens or creates the store at `path` and brings its schema to [`SCHEMA_VERSION`].
    ///
    /// # Errors
    /// [`StoreError::Open`] if redb cannot open the file (also when another process has it
    /// open), [`StoreError::SchemaTooNew`] if it was written by a newer Cairn.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, &|_, found| {
            if found == 0 {
                Ok(())
            } else {
                Err(StoreError::Decode {
                    table: "meta",
                    detail: format!(
                        "schema version {found} needs its records upgraded; open it as a library"
                    ),
                })
            }
        })
    }

    /// [`Store::open`] with the upgrade of the records that the owner of the tables (the
    /// index) runs when the schema is migrated: `upgrade(tx, found)` is called inside the
    /// migration's one write transaction, after the structural steps of [`MIGRATIONS`], with
    /// the version the file had (0 for a new store). So a migration is atomic: a crash leaves
    /// the old version whole.
    ///
    /// # Errors
    /// As [`Store::open`], and `upgrade`'s error (the file is left at its old version).
    pub fn open_with(path: &Path, upgrade: Upgrade) -> Result<Store, StoreError> {
        let file = path.to_owned();
        let opener: Opener = Arc::new(move |b: &redb::Builder| b.create(&file));
        guarded(path, || {
            let db = create_db(path, &|b| opener(b))?;
            Store::start(path, upgrade, db, Some(opener))
        })?
    }

    /// [`Store::open_with`] over a storage backend of the caller's (a test's file that fails on
    /// demand, `store::faults`): the same builder settings, migration and writer. `path` only
    /// names the store in errors.
    ///
    /// # Errors
    /// As [`Store::open_with`].
    #[cfg(test)]
    pub(crate) fn open_on_backend(
        path: &Path,
        backend: impl redb::StorageBackend,
        upgrade: Upgrade,
    ) -> Result<Store, StoreError> {
        let backend = std::sync::Mutex::new(Some(backend));
        guarded(path, || {
            let db = create_db(path, &|b| {
                let backend = backend
                    .lock()
                    .expect("backend")
                    .take()
                    .expect("one backend");
                b.create_with_backend(backend)
            })?;
            Store::start(path, upgrade, db, None)
        })?
    }

    /// [`Store::open_on_backend`] with a backend made by `backends` at the open and at every
    /// reopening after an I/O error (a test's disk that was full and is no longer).
    ///
    /// # Errors
    /// As [`Store::open_with`].
    #[cfg(test)]
    pub(crate) fn open_on_backends<B: redb::StorageBackend>(
        path: &Path,
        backends: impl Fn() -> B + Send + Sync + 'static,
        upgrade: Upgrade,
    ) -> Result<Store, StoreError> {
        let opener: Opener = Arc::new(move |b: &redb::Builder| b.create_with_backend(backends()));
        guarded(path, || {
            let db = create_db(path, &|b| opener(b))?;
            Store::start(path, upgrade, db, Some(opener))
        })?
    }

    fn start(
        path: &Path,
        upgrade: Upgrade,
        db: Database,
        opener: Option<Opener>,
    ) -> Result<Store, StoreError> {
        migrate(&db, path, upgrade)?;
        let slot = Arc::new(Slot {
            db: std::sync::RwLock::new(Some(Arc::new(db))),
            opener,
            path: path.to_owned(),
        });
        let writer = writer::Writer::start(slot.clone());
        Ok(Store {
            inner: Arc::new(StoreInner {
                slot,
                writer,
                path: path.to_owned(),
            }),
        })
    }

    /// The `library.redb` path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in a read transaction on the calling thread. Keep `f` short: a read
    /// transaction pins the pages it sees.
    ///
    /// # Errors
    /// Whatever `f` returns, or [`StoreError::Db`] if the transaction cannot begin.
    pub fn read<R>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let slot = &self.inner.slot;
        guarded(&self.inner.path, || {
            let mut db = slot.get()?;
            let tx = match db.begin_read().map_err(StoreError::from) {
                Err(e) if is_previous_io(&e) => {
                    drop(db);
                    db = slot.reopen()?;
                    db.begin_read()?
                }
                r => r?,
            };
            let r = f(&tx);
            if let Err(e) = &r
                && is_previous_io(e)
            {
                // The store stopped after an I/O error: the next read or write opens it again.
                drop(tx);
                slot.forget(&db);
            }
            r
        })?
        .map_err(|e| e.naming(&self.inner.path))
    }

    /// Queues `op` for the writer thread and blocks until its transaction is durably
    /// committed. `op` may run more than once (if another operation batched with it fails, the
    /// batch is re-applied without it), so it must derive its writes from what it captured,
    /// not consume it.
    ///
    /// Must not be called from inside an async task; use [`Store::write_ticket`] there.
    ///
    /// # Errors
    /// `op`'s own error (nothing of `op` is saved), [`StoreError::Db`] if the transaction
    /// cannot begin (nothing saved) or its commit fails, [`StoreError::Closed`] if the store is
    /// shutting down. A commit that failed on an I/O error may still have reached the disk:
    /// the file then holds all of `op` (and of the writes committed with it) or none of it,
    /// never a part. After an I/O error redb stops the database; the next write opens the file
    /// again first, and fails with [`StoreError::Stopped`] while that is not
    /// possible (a disk still full). The index's fault-injection test (over `store::faults`)
    /// holds the store to this.
    pub fn write<R: Send + 'static>(
        &self,
        op: impl FnMut(&WriteTransaction) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.write_ticket(op)
            .wait()
            .map_err(|e| e.naming(&self.inner.path))
    }

    /// Queues `op` like [`Store::write`] and returns at once with a ticket to wait on, from
    /// blocking code ([`WriteTicket::wait`]) or async code ([`WriteTicket::into_future`]).
    pub fn write_ticket<R: Send + 'static>(
        &self,
        op: impl FnMut(&WriteTransaction) -> Result<R, StoreError> + Send + 'static,
    ) -> WriteTicket<R> {
        self.inner.writer.submit(op, true)
    }

    /// [`Store::write_ticket`] for work that is redone after a crash anyway (an idempotent
    /// scan): committed and visible at once, but without waiting for the disk. A crash, or an
    /// I/O error before the next durable commit is done, may lose it, with every volatile
    /// commit since the last durable one — never half of one: the store reopens at its last
    /// durable commit. The next durable commit (or closing the store) makes it durable.
    pub fn write_ticket_volatile<R: Send + 'static>(
        &self,
        op: impl FnMut(&WriteTransaction) -> Result<R, StoreError> + Send + 'static,
    ) -> WriteTicket<R> {
        self.inner.writer.submit(op, false)
    }

    /// The schema version recorded in the file.
    ///
    /// # Errors
    /// [`StoreError`] on read or decode failure.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.read(|tx| {
            let meta = tx.open_table(META)?;
            read_version(&meta)
        })
    }
}

/// Records `version` as the schema version of the store file at `file` (created if missing),
/// as a newer Cairn would, without migrating anything: for tests of how a store written by a
/// newer Cairn is refused. The file must not be open.
///
/// # Errors
/// [`StoreError::Open`] if the file cannot be opened, [`StoreError::Db`] if the write fails.
#[doc(hidden)]
pub fn stamp_schema_version(file: &Path, version: u32) -> Result<(), StoreError> {
    let db = Database::create(file).map_err(|e| StoreError::Open {
        path: file.to_owned(),
        source: Arc::new(e),
    })?;
    let tx = db.begin_write()?;
    tx.open_table(META)?
        .insert(META_SCHEMA_VERSION, encode(&version).as_slice())?;
    tx.commit()?;
    Ok(())
}

fn read_version(meta: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<u32, StoreError> {
    match meta.get(META_SCHEMA_VERSION)? {
        Some(v) => decode("meta", v.value()),
        None => Ok(0),
    }
}

/// The records upgrade run by a migration: `(transaction, version found)`; see
/// [`Store::open_with`].
pub type Upgrade<'a> = &'a dyn Fn(&WriteTransaction, u32) -> Result<(), StoreError>;

/// Brings the store to [`SCHEMA_VERSION`] in one write transaction.
fn migrate(db: &Database, path: &Path, upgrade: Upgrade) -> Result<(), StoreError> {
    let mut tx = db.begin_write()?;
    tx.set_quick_repair(true);
    let found = {
        let meta = tx.open_table(META)?;
        read_version(&meta)?
    };
    if found > SCHEMA_VERSION {
        tx.abort()?;
        return Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        tx.abort()?;
        return Ok(());
    }
    for m in MIGRATIONS.iter().filter(|m| m.to > found) {
        tracing::info!(to = m.to, "migrating the store: {}", m.description);
        (m.apply)(&tx)?;
    }
    upgrade(&tx, found)?;
    {
        let mut meta = tx.open_table(META)?;
        meta.insert(META_SCHEMA_VERSION, encode(&SCHEMA_VERSION).as_slice())?;
    }
    tx.commit()?;
    Ok(())
}

impl StoreError {
    /// A record that does not decode says which file it is in: it becomes
    /// [`StoreError::Damaged`] naming `path` (other errors are returned as they are).
    pub fn naming(self, path: &Path) -> StoreError {
        match self {
            StoreError::Decode { .. } => StoreError::Damaged {
                path: path.to_owned(),
                detail: self.to_string(),
            },
            other => other,
        }
    }
}

thread_local! {
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True while this thread runs store code whose panics are caught and reported as
/// [`StoreError::Damaged`] or [`StoreError::WritePanicked`]: a panic hook can stay quiet then
/// (the error says it all, once).
pub fn in_guarded_section() -> bool {
    GUARDED.with(std::cell::Cell::get)
}

/// Runs `f`; a panic inside it (redb meeting bytes it cannot make sense of) becomes
/// [`StoreError::Damaged`] naming `path` instead of taking the process down.
pub(crate) fn guarded<T>(path: &Path, f: impl FnOnce() -> T) -> Result<T, StoreError> {
    let was = GUARDED.with(|g| g.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(was));
    r.map_err(|payload| StoreError::Damaged {
        path: path.to_owned(),
        detail: payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "no message".to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue "fortress"): after one failed write (a full disk), redb refused every
    /// later read and write ("previous I/O error") until the library was opened again — in
    /// the window, until it was restarted. Now the store opens its file again by itself: the
    /// failed write is lost (as after a crash), the next one is saved, and so is everything
    /// before.
    #[test]
    fn the_store_opens_its_file_again_after_an_io_error() {
        use crate::store::faults::{Fault, FaultKind, FaultLog, FaultyBackend};
        const T: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("t");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.redb");
        let backend = |path: &Path, fault: Option<Fault>, log: &FaultLog| {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .unwrap();
            FaultyBackend::new(f, fault, log.clone()).unwrap()
        };
        // How many operations opening a new store makes: the fault strikes the one after.
        let probe = dir.path().join("probe.redb");
        let log = FaultLog::default();
        let probed =
            Store::open_on_backend(&probe, backend(&probe, None, &log), &|_, _| Ok(())).unwrap();
        let after_open = log.points(FaultKind::Enospc);
        drop(probed);
        let opened = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let store = {
            let (path, opened) = (path.clone(), opened.clone());
            let log = FaultLog::default();
            Store::open_on_backends(
                &path.clone(),
                move || {
                    let n = opened.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    // The disk is full once, right after the store is opened.
                    let fault = (n == 0).then_some(Fault {
                        kind: FaultKind::Enospc,
                        at: after_open + 1,
                    });
                    backend(&path, fault, &log)
                },
                &|_, _| Ok(()),
            )
            .unwrap()
        };
        let put = |store: &Store, key: &'static str| {
            store.write(move |tx| {
                tx.open_table(T)?.insert(key, 1)?;
                Ok(())
            })
        };
        let err = put(&store, "lost").unwrap_err();
        assert!(err.to_string().contains("No space left"), "{err}");
        put(&store, "saved").unwrap();
        assert_eq!(opened.load(std::sync::atomic::Ordering::SeqCst), 2);
        let has = |store: &Store, key: &'static str| {
            store
                .read(move |tx| Ok(tx.open_table(T)?.get(key)?.is_some()))
                .unwrap()
        };
        assert!(has(&store, "saved"));
        assert!(!has(&store, "lost"));
        drop(store);
        let again = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(has(&again, "saved"));
    }

    /// Regression: "corrupt record in table content" did not say which file.
    #[test]
    fn a_record_that_does_not_decode_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.redb");
        let store = Store::open(&path).unwrap();
        store
            .write(|tx| {
                tx.open_table(schema::META)?
                    .insert(schema::META_SCHEMA_VERSION, [0xffu8; 6].as_slice())?;
                Ok(())
            })
            .unwrap();
        let err = store.schema_version().unwrap_err().to_string();
        assert!(
            err.contains("library.redb") && err.contains("corrupt record in table meta"),
            "{err}"
        );
    }

    #[test]
    fn fresh_store_gets_current_version_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn version_zero_store_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        {
            // A store from before versioning: a meta table without a version.
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(META).unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        store
            .read(|tx| {
                tx.open_table(schema::JOBS)?;
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn newer_schema_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        {
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(META)
                .unwrap()
                .insert(
                    META_SCHEMA_VERSION,
                    encode(&(SCHEMA_VERSION + 1)).as_slice(),
                )
                .unwrap();
            tx.commit().unwrap();
        }
        let err = Store::open(&path).err().expect("must refuse");
        assert!(
            matches!(err, StoreError::SchemaTooNew { found, .. } if found == SCHEMA_VERSION + 1)
        );
        assert!(err.to_string().contains("newer Cairn"), "{err}");
        // Still refused (and so unchanged) on a second try.
        assert!(Store::open(&path).is_err());
    }

    #[test]
    fn failing_op_does_not_lose_a_batched_neighbour() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let tickets: Vec<_> = (0..50u64)
            .map(|i| {
                store.write_ticket(move |tx| {
                    tx.open_table(schema::JOBS)?.insert(i, [1u8].as_slice())?;
                    if i % 7 == 3 {
                        return Err(StoreError::NotFound {
                            what: format!("op {i}"),
                        });
                    }
                    Ok(i)
                })
            })
            .collect();
        for (i, t) in tickets.into_iter().enumerate() {
            let r = t.wait();
            assert_eq!(r.is_err(), i % 7 == 3, "op {i}: {r:?}");
        }
        let keys: Vec<u64> = store
            .read(|tx| {
                let t = tx.open_table(schema::JOBS)?;
                let mut keys = Vec::new();
                for row in t.iter()? {
                    keys.push(row?.0.value());
                }
                Ok(keys)
            })
            .unwrap();
        let expected: Vec<u64> = (0..50).filter(|i| i % 7 != 3).collect();
        assert_eq!(keys, expected);
    }

    /// Regression: a panic inside a write killed the writer thread, and every later write of
    /// the library failed with "the store is closed".
    #[test]
    fn a_panicking_write_is_answered_alone_and_the_writer_survives() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let tickets: Vec<_> = (0..10u64)
            .map(|i| {
                store.write_ticket(move |tx| {
                    tx.open_table(schema::JOBS)?.insert(i, [1u8].as_slice())?;
                    assert!(i != 4, "planted panic in write {i}");
                    Ok(i)
                })
            })
            .collect();
        for (i, t) in tickets.into_iter().enumerate() {
            let r = t.wait();
            match r {
                Err(StoreError::WritePanicked(m)) => {
                    assert_eq!(i, 4);
                    assert!(m.contains("planted panic in write 4"), "{m}");
                }
                other => assert_eq!(other.ok(), Some(i as u64)),
            }
        }
        // The writer is still there.
        store
            .write(|tx| {
                tx.open_table(schema::JOBS)?.insert(99, [1u8].as_slice())?;
                Ok(())
            })
            .unwrap();
        let n = store
            .read(|tx| {
                use redb::ReadableTableMetadata;
                Ok(tx.open_table(schema::JOBS)?.len()?)
            })
            .unwrap();
        assert_eq!(n, 10, "nine of the batch and the one after it");
    }
}
