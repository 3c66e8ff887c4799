//! The one writer thread: group commit with per-operation failure isolation.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use redb::{Database, WriteTransaction};
use tokio::sync::oneshot;

use super::{Slot, StoreError};

/// At most this many queued operations share one commit.
const MAX_BATCH: usize = 256;

/// An operation queued for the writer, type-erased.
trait WriteOp: Send {
    fn durable(&self) -> bool;
    fn apply(&mut self, tx: &WriteTransaction) -> Result<(), StoreError>;
    fn finish(self: Box<Self>, outcome: Result<(), StoreError>);
}

struct Op<F, R> {
    f: F,
    durable: bool,
    result: Option<R>,
    reply: oneshot::Sender<Result<R, StoreError>>,
}

impl<F, R> WriteOp for Op<F, R>
where
    F: FnMut(&WriteTransaction) -> Result<R, StoreError> + Send,
    R: Send,
{
    fn durable(&self) -> bool {
        self.durable
    }

    fn apply(&mut self, tx: &WriteTransaction) -> Result<(), StoreError> {
        // A panic in the write's code fails that write alone (its transaction is rolled back
        // and the others re-applied); it must never take the one writer thread down.
        let f = &mut self.f;
        let was = super::GUARDED.with(|g| g.replace(true));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(tx)));
        super::GUARDED.with(|g| g.set(was));
        let r = r.map_err(|payload| {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "no message".to_owned());
            StoreError::WritePanicked(msg)
        })??;
        self.result = Some(r);
        Ok(())
    }

    fn finish(mut self: Box<Self>, outcome: Result<(), StoreError>) {
        let reply = match outcome {
            Ok(()) => self.result.take().ok_or(StoreError::Closed),
            Err(e) => Err(e),
        };
        // The caller may have stopped waiting; the write is committed either way.
        let _ = self.reply.send(reply);
    }
}

/// A queued write. Wait on it to learn whether it committed.
pub struct WriteTicket<R> {
    rx: oneshot::Receiver<Result<R, StoreError>>,
}

impl<R> WriteTicket<R> {
    /// Blocks until the write is committed or has failed. Not for use inside async tasks.
    ///
    /// # Errors
    /// The operation's error, the commit's error, or [`StoreError::Closed`].
    pub fn wait(self) -> Result<R, StoreError> {
        self.rx.blocking_recv().unwrap_or(Err(StoreError::Closed))
    }

    /// Waits asynchronously.
    ///
    /// # Errors
    /// As [`WriteTicket::wait`].
    pub async fn into_future(self) -> Result<R, StoreError> {
        self.rx.await.unwrap_or(Err(StoreError::Closed))
    }
}

pub(super) struct Writer {
    tx: Option<mpsc::Sender<Box<dyn WriteOp>>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub(super) fn start(slot: Arc<Slot>) -> Writer {
        let (tx, rx) = mpsc::channel::<Box<dyn WriteOp>>();
        let thread = std::thread::Builder::new()
            .name("cairn-store-writer".into())
            .spawn(move || run(&slot, &rx))
            .expect("spawn the store writer thread");
        Writer {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    pub(super) fn submit<R, F>(&self, f: F, durable: bool) -> WriteTicket<R>
    where
        F: FnMut(&WriteTransaction) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let op = Box::new(Op {
            f,
            durable,
            result: None,
            reply,
        });
        if let Some(tx) = &self.tx
            && let Err(mpsc::SendError(op)) = tx.send(op)
        {
            op.finish(Err(StoreError::Closed));
        }
        WriteTicket { rx }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel lets the thread finish what is queued and stop.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(slot: &Slot, rx: &mpsc::Receiver<Box<dyn WriteOp>>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let db = match slot.get() {
            Ok(db) => db,
            Err(e) => {
                fail_all(batch, &e);
                continue;
            }
        };
        commit_batch(slot, db, batch);
    }
}

/// Applies `batch` in one transaction. If an operation fails, it is answered with its error,
/// the transaction is aborted and the rest are applied again in a new one. A database stopped
/// by an earlier I/O error is opened again first ([`Slot::reopen`]).
fn commit_batch(slot: &Slot, mut db: Arc<Database>, mut batch: Vec<Box<dyn WriteOp>>) {
    let mut reopened = false;
    while !batch.is_empty() {
        let mut tx = match db.begin_write().map_err(StoreError::from) {
            Ok(tx) => tx,
            Err(e) if super::is_previous_io(&e) && !reopened => {
                reopened = true;
                drop(db);
                match slot.reopen() {
                    Ok(again) => {
                        db = again;
                        continue;
                    }
                    Err(e) => return fail_all(batch, &e),
                }
            }
            Err(e) => return fail_all(batch, &e),
        };
        // One durable operation makes the whole commit durable (and every volatile commit
        // before it); a batch of volatile ones is committed without waiting for the disk.
        if batch.iter().any(|op| op.durable()) || tx.set_durability(redb::Durability::None).is_err()
        {
            tx.set_quick_repair(true);
        }
        let failed = batch
            .iter_mut()
            .enumerate()
            .find_map(|(i, op)| op.apply(&tx).err().map(|e| (i, e)));
        match failed {
            None => {
                let outcome = tx.commit().map_err(StoreError::from);
                for op in batch {
                    op.finish(outcome.clone());
                }
                return;
            }
            Some((i, e)) => {
                if let Err(abort) = tx.abort() {
                    tracing::error!("aborting a failed write transaction: {abort}");
                }
                batch.remove(i).finish(Err(e));
            }
        }
    }
}

fn fail_all(batch: Vec<Box<dyn WriteOp>>, e: &StoreError) {
    for op in batch {
        op.finish(Err(e.clone()));
    }
}
