//! Contents this process already knows for files it has just written: a copy received from
//! another device was hashed as it streamed in ([`super::CasStream`]) and verified, so the
//! rescan that indexes it takes its cas_id and file type from here instead of reading the file
//! again.
//!
//! A hint is keyed by the file's path and holds its size and modification time as written; it
//! is used only when the scan stored exactly that size and time for that path (the rule the
//! indexer uses everywhere to tell a file unchanged), and at most once. Hints live in memory
//! for this process only: a rescan in another process, or after a restart, hashes the files as
//! usual. At most [`MAX_HINTS`] are kept; past that the oldest half are dropped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::CasId;

/// The most hints kept at once (about 100 bytes each).
pub const MAX_HINTS: usize = 200_000;

/// What is known of one file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// Its cas_id.
    pub cas: CasId,
    /// Its file type, as an index into [`super::filetype::Registry::active`].
    pub type_index: Option<u16>,
}

struct Hint {
    size: u64,
    mtime_ns: i64,
    known: Known,
    serial: u64,
}

#[derive(Default)]
struct Hints {
    by_path: HashMap<PathBuf, Hint>,
    serial: u64,
}

static HINTS: Mutex<Option<Hints>> = Mutex::new(None);

/// Remembers that the file at `path` (absolute), `size` bytes modified at `mtime_ns` (ns since
/// the epoch), has the content `known`.
pub fn remember(path: PathBuf, size: u64, mtime_ns: i64, known: Known) {
    let mut guard = HINTS.lock().unwrap_or_else(|p| p.into_inner());
    let hints = guard.get_or_insert_with(Hints::default);
    if hints.by_path.len() >= MAX_HINTS {
        let mut serials: Vec<u64> = hints.by_path.values().map(|h| h.serial).collect();
        let (_, median, _) = serials.select_nth_unstable(MAX_HINTS / 2);
        let median = *median;
        hints.by_path.retain(|_, h| h.serial > median);
    }
    hints.serial += 1;
    let serial = hints.serial;
    hints.by_path.insert(
        path,
        Hint {
            size,
            mtime_ns,
            known,
            serial,
        },
    );
}

/// Takes the content known for the file at `path` when the index saw it at exactly `size`
/// bytes and `mtime_ns`; a hint for another size or time is dropped.
pub fn take(path: &Path, size: u64, mtime_ns: i64) -> Option<Known> {
    let mut guard = HINTS.lock().unwrap_or_else(|p| p.into_inner());
    let hint = guard.as_mut()?.by_path.remove(path)?;
    (hint.size == size && hint.mtime_ns == mtime_ns).then_some(hint.known)
}

/// Whether the file at `path` has a hint for exactly `size` and `mtime_ns` (left in place).
pub fn has(path: &Path, size: u64, mtime_ns: i64) -> bool {
    let guard = HINTS.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .as_ref()
        .and_then(|h| h.by_path.get(path))
        .is_some_and(|h| h.size == size && h.mtime_ns == mtime_ns)
}

/// Whether any hint is waiting (a cheap check before looking up many paths).
pub fn any() -> bool {
    HINTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .is_some_and(|h| !h.by_path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_is_used_once_and_only_for_its_size_and_time() {
        let k = Known {
            cas: CasId(7),
            type_index: Some(3),
        };
        let p = PathBuf::from("/nowhere/known-test/a");
        remember(p.clone(), 10, 5, k);
        assert_eq!(take(&p, 10, 6), None, "another time");
        assert_eq!(take(&p, 10, 5), None, "dropped by the miss");
        remember(p.clone(), 10, 5, k);
        assert!(any());
        assert!(has(&p, 10, 5) && !has(&p, 11, 5));
        assert_eq!(take(&p, 10, 5), Some(k));
        assert_eq!(take(&p, 10, 5), None, "used once");
    }
}
