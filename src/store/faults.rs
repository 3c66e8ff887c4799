//! A redb [`StorageBackend`] over a real file that fails one chosen I/O operation: the tool of
//! the store's fault-injection tests (test builds only).
//!
//! [`FaultyBackend`] forwards everything to redb's own [`FileBackend`] and counts the data
//! operations redb makes — `read`, `write`, `set_len` and `sync_data`, numbered from 1 in the
//! order they are made (`len`, the lock methods and `close` are neither counted nor failed).
//! A [`Fault`] names the `n`th of the operations its [`FaultKind`] can strike, counted apart
//! for each kind:
//!
//! | kind | strikes | what the operation does |
//! |---|---|---|
//! | [`FaultKind::Eio`] | reads, writes, `set_len`, syncs | nothing, fails with `EIO` |
//! | [`FaultKind::Enospc`] | writes, `set_len`, syncs | nothing, fails with `ENOSPC` |
//! | [`FaultKind::ShortWrite`] | writes | writes the first half of the buffer, fails with `ENOSPC` |
//!
//! The fault strikes once: the operations after it go through (a disk that was briefly full or
//! a sector that was rewritten). redb itself refuses every later operation after a failed one
//! that it needed (`StorageError::PreviousIo`) until the file is reopened; this backend does
//! not rely on that.
//!
//! [`FaultLog`], shared with the test, tells how many operations of each class were made, each
//! operation's class and where the fault struck.

use std::fs::File;
use std::io;
use std::ops::Bound;
use std::sync::{Arc, Mutex};

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

/// What a fault does to the operation it strikes (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// The operation fails with `EIO` and changes nothing.
    Eio,
    /// The operation fails with `ENOSPC` and changes nothing.
    Enospc,
    /// The first half of the buffer is written, then the write fails with `ENOSPC`.
    ShortWrite,
}

impl FaultKind {
    /// Every kind.
    pub(crate) const ALL: [FaultKind; 3] =
        [FaultKind::Eio, FaultKind::Enospc, FaultKind::ShortWrite];

    /// Whether this kind can strike an operation of class `op`.
    pub(crate) fn strikes(self, op: IoOp) -> bool {
        match self {
            FaultKind::Eio => true,
            FaultKind::Enospc => op != IoOp::Read,
            FaultKind::ShortWrite => op == IoOp::Write,
        }
    }
}

/// The class of a counted data operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoOp {
    /// `StorageBackend::read`.
    Read,
    /// `StorageBackend::write`.
    Write,
    /// `StorageBackend::set_len`.
    SetLen,
    /// `StorageBackend::sync_data`.
    Sync,
}

/// The `at`th operation (from 1) that `kind` can strike fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault {
    /// What the fault does.
    pub kind: FaultKind,
    /// Which of the operations `kind` can strike it strikes, counted from 1.
    pub at: u64,
}

#[derive(Debug, Default)]
struct LogInner {
    ops: Vec<IoOp>,
    /// Index in `ops` of the struck operation.
    struck: Option<usize>,
}

/// What a [`FaultyBackend`] did: shared by the backend and the test (cheap to clone).
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultLog {
    inner: Arc<Mutex<LogInner>>,
}

impl FaultLog {
    /// How many counted operations were made so far.
    pub(crate) fn ops(&self) -> usize {
        self.lock().ops.len()
    }

    /// How many operations of class `op` were made so far.
    pub(crate) fn count_of(&self, op: IoOp) -> usize {
        self.lock().ops.iter().filter(|o| **o == op).count()
    }

    /// How many operations that `kind` can strike were made so far: the fault points of `kind`
    /// in what was run.
    pub(crate) fn points(&self, kind: FaultKind) -> u64 {
        self.lock()
            .ops
            .iter()
            .filter(|op| kind.strikes(**op))
            .count() as u64
    }

    /// The position (in the order of all counted operations, from 0) and class of the operation
    /// the fault struck, if it did.
    pub(crate) fn struck(&self) -> Option<(usize, IoOp)> {
        let l = self.lock();
        l.struck.map(|i| (i, l.ops[i]))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        // A test thread that panicked while holding it leaves a log that is still whole.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts an operation of class `op`; true if `fault` strikes it.
    fn count(&self, op: IoOp, fault: Option<Fault>) -> bool {
        let mut l = self.lock();
        l.ops.push(op);
        let Some(fault) = fault else { return false };
        if l.struck.is_some() || !fault.kind.strikes(op) {
            return false;
        }
        let nth = l.ops.iter().filter(|o| fault.kind.strikes(**o)).count() as u64;
        if nth == fault.at {
            l.struck = Some(l.ops.len() - 1);
            true
        } else {
            false
        }
    }
}

/// redb's [`FileBackend`] with one injected fault (see the module docs).
#[derive(Debug)]
pub(crate) struct FaultyBackend {
    inner: FileBackend,
    fault: Option<Fault>,
    log: FaultLog,
}

impl FaultyBackend {
    /// A backend over `file` (opened read-write) that fails as `fault` says (never if `None`),
    /// recording into `log`.
    ///
    /// # Errors
    /// redb's, if it refuses the file.
    pub(crate) fn new(
        file: File,
        fault: Option<Fault>,
        log: FaultLog,
    ) -> Result<FaultyBackend, redb::DatabaseError> {
        Ok(FaultyBackend {
            inner: FileBackend::new(file)?,
            fault,
            log,
        })
    }

    /// The error of a struck operation, or `None` if `op` goes through.
    fn strike(&self, op: IoOp) -> Option<FaultKind> {
        self.log
            .count(op, self.fault)
            .then(|| self.fault.map(|f| f.kind))
            .flatten()
    }
}

fn os_error(kind: FaultKind) -> io::Error {
    io::Error::from_raw_os_error(match kind {
        FaultKind::Eio => libc::EIO,
        FaultKind::Enospc | FaultKind::ShortWrite => libc::ENOSPC,
    })
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        match self.strike(IoOp::Read) {
            Some(kind) => Err(os_error(kind)),
            None => self.inner.read(offset, out),
        }
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        match self.strike(IoOp::SetLen) {
            Some(kind) => Err(os_error(kind)),
            None => self.inner.set_len(len),
        }
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        match self.strike(IoOp::Sync) {
            Some(kind) => Err(os_error(kind)),
            None => self.inner.sync_data(),
        }
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        match self.strike(IoOp::Write) {
            Some(FaultKind::ShortWrite) => {
                self.inner.write(offset, &data[..data.len() / 2])?;
                Err(os_error(FaultKind::ShortWrite))
            }
            Some(kind) => Err(os_error(kind)),
            None => self.inner.write(offset, data),
        }
    }

    fn close(&self) -> Result<(), io::Error> {
        self.inner.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(fault: Fault) -> (tempfile::TempDir, FaultyBackend, FaultLog) {
        let dir = tempfile::tempdir().unwrap();
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(dir.path().join("f"))
            .unwrap();
        let log = FaultLog::default();
        let b = FaultyBackend::new(file, Some(fault), log.clone()).unwrap();
        (dir, b, log)
    }

    #[test]
    fn the_nth_operation_of_its_kind_fails_once_and_a_short_write_writes_half() {
        let (_d, b, log) = backend(Fault {
            kind: FaultKind::ShortWrite,
            at: 2,
        });
        b.set_len(8).unwrap();
        b.write(0, &[1; 8]).unwrap();
        b.sync_data().unwrap();
        let err = b.write(0, &[2; 8]).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
        b.write(8, &[3; 2]).unwrap();
        let mut out = [0; 10];
        b.read(0, &mut out).unwrap();
        assert_eq!(out, [2, 2, 2, 2, 1, 1, 1, 1, 3, 3]);
        assert_eq!(log.ops(), 6);
        assert_eq!(log.points(FaultKind::ShortWrite), 3);
        assert_eq!(log.points(FaultKind::Enospc), 5);
        assert_eq!(log.points(FaultKind::Eio), 6);
        assert_eq!(log.struck(), Some((3, IoOp::Write)));

        let (_d, b, log) = backend(Fault {
            kind: FaultKind::Eio,
            at: 1,
        });
        assert_eq!(b.set_len(4).unwrap_err().raw_os_error(), Some(libc::EIO));
        assert_eq!(b.len().unwrap(), 0, "the struck operation did nothing");
        b.set_len(4).unwrap();
        assert_eq!(log.struck(), Some((0, IoOp::SetLen)));
    }
}
