//! The hybrid logical clock (HLC) that orders changes of shared records (tags, user metadata)
//! across devices.
//!
//! An [`Hlc`] is `(ms since the Unix epoch, counter, device)`, totally ordered in that order.
//! A device's [`Clock`] hands out strictly increasing values even when the wall clock goes
//! backwards: a tick takes `max(now, last)` and bumps the counter on a tie (the counter carries
//! into the milliseconds if it would overflow). Receiving a remote value advances the local
//! clock past it, so a change made after seeing a peer's change always orders after it. This is
//! the algorithm of Kulkarni, Demirbas et al., "Logical Physical Clocks and Consistent
//! Snapshots in Globally Distributed Databases" (2014), with the device id as the final
//! tie-break.
//!
//! Persistence: every transaction that stamps a record with an HLC also stores that value as
//! the store's last HLC ([`save_last`]); a clock built from [`load_last`] after a restart
//! therefore never hands out a value it handed out before, whatever the wall clock says.

use std::sync::Mutex;

use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::schema::META;
use crate::store::{StoreError, decode, encode};

/// Meta key of the last HLC handed out and stored (postcard [`Hlc`]).
pub const META_HLC_LAST: &str = "hlc_last";

/// How far ahead of the local wall clock a remote value may be (24 hours, in ms); a value
/// further ahead is refused rather than dragging every later local change into the future.
pub const MAX_DRIFT_MS: u64 = 24 * 60 * 60 * 1000;

/// A hybrid logical clock value. Ordered by `ms`, then `counter`, then `device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch (the physical part).
    pub ms: u64,
    /// Logical counter within one millisecond.
    pub counter: u32,
    /// The device that made it (the final tie-break).
    pub device: Uuid,
}

/// Why a remote value was not merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The remote value is more than [`MAX_DRIFT_MS`] ahead of this device's wall clock.
    #[error(
        "a clock value from device {device} is {ahead_ms} ms ahead of this device's clock (more than {MAX_DRIFT_MS} ms); it was not merged"
    )]
    TooFarAhead {
        /// The remote device.
        device: Uuid,
        /// How far ahead, in ms.
        ahead_ms: u64,
    },
}

/// The wall clock, in ms since the Unix epoch.
fn wall_ms() -> u64 {
    jiff::Timestamp::now().as_millisecond().max(0) as u64
}

/// One device's clock. Cheap to share (`&self` methods, one small lock).
pub struct Clock {
    device: Uuid,
    /// `(ms, counter)` of the last value handed out or observed.
    last: Mutex<(u64, u32)>,
    now: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl Clock {
    /// The clock of `device` on the wall clock, continuing after `last` (the value stored by
    /// [`save_last`], if any).
    pub fn new(device: Uuid, last: Option<Hlc>) -> Clock {
        Clock::with_time(device, last, wall_ms)
    }

    /// [`Clock::new`] with another time source (ms since the epoch), for tests.
    pub fn with_time(
        device: Uuid,
        last: Option<Hlc>,
        now: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Clock {
        Clock {
            device,
            last: Mutex::new(last.map_or((0, 0), |h| (h.ms, h.counter))),
            now: Box::new(now),
        }
    }

    /// A new value, greater than every value this clock handed out or observed.
    pub fn tick(&self) -> Hlc {
        let now = (self.now)();
        let mut last = self.last.lock().expect("clock lock");
        *last = if now > last.0 { (now, 0) } else { bump(*last) };
        self.hlc(*last)
    }

    /// Merges `remote` (a value received from a peer) and returns a new local value greater
    /// than both it and everything this clock handed out.
    ///
    /// # Errors
    /// [`ClockError::TooFarAhead`] if `remote` is more than [`MAX_DRIFT_MS`] ahead of the wall
    /// clock; the clock is then unchanged.
    pub fn observe(&self, remote: Hlc) -> Result<Hlc, ClockError> {
        let now = (self.now)();
        if remote.ms > now.saturating_add(MAX_DRIFT_MS) {
            return Err(ClockError::TooFarAhead {
                device: remote.device,
                ahead_ms: remote.ms - now,
            });
        }
        let mut last = self.last.lock().expect("clock lock");
        let ms = now.max(last.0).max(remote.ms);
        *last = if ms == last.0 && ms == remote.ms {
            bump((ms, last.1.max(remote.counter)))
        } else if ms == last.0 {
            bump(*last)
        } else if ms == remote.ms {
            bump((ms, remote.counter))
        } else {
            (ms, 0)
        };
        Ok(self.hlc(*last))
    }

    /// The last value handed out or observed (what [`save_last`] stores).
    pub fn last(&self) -> Hlc {
        self.hlc(*self.last.lock().expect("clock lock"))
    }

    fn hlc(&self, (ms, counter): (u64, u32)) -> Hlc {
        Hlc {
            ms,
            counter,
            device: self.device,
        }
    }
}

/// The next `(ms, counter)` after `v`: the counter plus one, carried into the milliseconds.
fn bump((ms, counter): (u64, u32)) -> (u64, u32) {
    match counter.checked_add(1) {
        Some(c) => (ms, c),
        None => (ms + 1, 0),
    }
}

/// Stores `hlc` as the last value handed out, in the transaction that stamps a record with it.
///
/// # Errors
/// [`StoreError`].
pub fn save_last(tx: &redb::WriteTransaction, hlc: Hlc) -> Result<(), StoreError> {
    let mut meta = tx.open_table(META)?;
    let newer = match meta.get(META_HLC_LAST)? {
        Some(v) => {
            let old: Hlc = decode("meta", v.value())?;
            (old.ms, old.counter) < (hlc.ms, hlc.counter)
        }
        None => true,
    };
    if newer {
        meta.insert(META_HLC_LAST, encode(&hlc).as_slice())?;
    }
    Ok(())
}

/// The last value stored by [`save_last`], if any.
///
/// # Errors
/// [`StoreError`].
pub fn load_last(tx: &redb::ReadTransaction) -> Result<Option<Hlc>, StoreError> {
    let meta = tx.open_table(META)?;
    Ok(match meta.get(META_HLC_LAST)? {
        Some(v) => Some(decode("meta", v.value())?),
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    fn manual(start: u64) -> (Arc<AtomicU64>, impl Fn() -> u64 + Send + Sync + 'static) {
        let t = Arc::new(AtomicU64::new(start));
        let c = t.clone();
        (t, move || c.load(Ordering::SeqCst))
    }

    #[test]
    fn values_are_totally_ordered_by_ms_counter_then_device() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let h = |ms, counter, device| Hlc {
            ms,
            counter,
            device,
        };
        let mut v = vec![h(5, 0, b), h(4, 9, a), h(5, 0, a), h(5, 1, a)];
        v.sort();
        assert_eq!(v, [h(4, 9, a), h(5, 0, a), h(5, 0, b), h(5, 1, a)]);
    }

    #[test]
    fn the_wall_clock_going_backwards_never_goes_back() {
        let (t, now) = manual(10_000);
        let c = Clock::with_time(Uuid::from_u128(1), None, now);
        let a = c.tick();
        t.store(5_000, Ordering::SeqCst); // an hour of NTP correction, say
        let b = c.tick();
        let d = c.tick();
        assert!(a < b && b < d, "{a:?} {b:?} {d:?}");
        assert_eq!((b.ms, b.counter), (10_000, 1));
        t.store(20_000, Ordering::SeqCst);
        let e = c.tick();
        assert_eq!((e.ms, e.counter), (20_000, 0));
    }

    #[test]
    fn a_million_ticks_in_a_tight_loop_strictly_increase() {
        let c = Clock::new(Uuid::from_u128(7), None);
        let mut prev = c.tick();
        for _ in 0..1_000_000 {
            let next = c.tick();
            assert!(next > prev, "{prev:?} then {next:?}");
            prev = next;
        }
    }

    #[test]
    fn the_counter_carries_into_the_milliseconds() {
        let (_t, now) = manual(100);
        let c = Clock::with_time(
            Uuid::from_u128(1),
            Some(Hlc {
                ms: 100,
                counter: u32::MAX,
                device: Uuid::from_u128(1),
            }),
            now,
        );
        let v = c.tick();
        assert_eq!((v.ms, v.counter), (101, 0));
    }

    #[test]
    fn merging_a_remote_clock_an_hour_ahead_moves_past_it() {
        let hour = 3_600_000;
        let (t, now) = manual(1_000_000);
        let c = Clock::with_time(Uuid::from_u128(1), None, now);
        let mine = c.tick();
        let remote = Hlc {
            ms: 1_000_000 + hour,
            counter: 3,
            device: Uuid::from_u128(2),
        };
        let merged = c.observe(remote).unwrap();
        assert!(merged > remote && merged > mine);
        assert_eq!((merged.ms, merged.counter), (remote.ms, 4));
        // Later local changes order after the remote one, though the wall clock is behind.
        t.fetch_add(10, Ordering::SeqCst);
        assert!(c.tick() > remote);
        // A remote value from far in the future is refused and changes nothing.
        let before = c.last();
        let wild = Hlc {
            ms: 1_000_000 + 30 * 24 * hour,
            counter: 0,
            device: Uuid::from_u128(3),
        };
        assert!(matches!(
            c.observe(wild),
            Err(ClockError::TooFarAhead { .. })
        ));
        assert_eq!(c.last(), before);
    }

    #[test]
    fn a_restart_continues_after_the_stored_value() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("s.redb")).unwrap();
        let device = Uuid::from_u128(9);
        // A clock running ahead of the wall clock (it observed a peer), then a restart with the
        // wall clock where it was.
        let (_t, now) = manual(50_000);
        let c = Clock::with_time(device, None, now);
        c.observe(Hlc {
            ms: 60_000,
            counter: 5,
            device: Uuid::from_u128(2),
        })
        .unwrap();
        let stamped = c.tick();
        store.write(move |tx| save_last(tx, stamped)).unwrap();
        let last = store.read(load_last).unwrap();
        assert_eq!(last, Some(stamped));
        let (_t, now) = manual(50_000);
        let again = Clock::with_time(device, last, now);
        assert!(again.tick() > stamped);
    }
}
