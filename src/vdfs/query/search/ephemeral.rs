//! Ephemeral search: searching a folder outside every location walks it once into an
//! in-memory [`NameIndex`], kept for the next letters typed; a search elsewhere stops a walk
//! under way, and the kept index is forgotten when the library changes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::vdfs::fs::walk::WalkStartError;
use crate::vdfs::query::search::NameIndex;

/// The name index of the last folder outside the locations that was searched, and the walk
/// under way for one. Shared by every search of one core; all methods take `&self`.
#[derive(Default)]
pub struct EphemeralSearch {
    index: Mutex<Option<(PathBuf, Arc<NameIndex>)>>,
    walking: Mutex<Option<(PathBuf, Arc<AtomicBool>)>>,
}

impl EphemeralSearch {
    /// Stops the walk under way unless it is of `within`.
    pub fn stop_unless(&self, within: Option<&Path>) {
        if let Some((p, stop)) = &*self.walking.lock().expect("ephemeral walk")
            && Some(p.as_path()) != within
        {
            stop.store(true, Ordering::SeqCst);
        }
    }

    /// Forgets the kept index (the next search of that folder walks it again).
    pub fn forget(&self) {
        *self.index.lock().expect("ephemeral index") = None;
    }

    /// Forgets the kept index if it is of `folder` (it changed on disk).
    pub fn forget_folder(&self, folder: &Path) {
        let mut slot = self.index.lock().expect("ephemeral index");
        if slot.as_ref().is_some_and(|(p, _)| p == folder) {
            *slot = None;
        }
    }

    /// The index of `folder`: the kept one, or a new walk (`None` if the walk was stopped by
    /// [`Self::stop_unless`]). Searches typed during the walk wait for it, then find the
    /// index kept.
    ///
    /// # Errors
    /// [`WalkStartError`] if the folder cannot be walked at all.
    pub fn index_of(&self, folder: &Path) -> Result<Option<Arc<NameIndex>>, WalkStartError> {
        let mut slot = self.index.lock().expect("ephemeral index");
        if let Some((p, ix)) = slot.as_ref()
            && p == folder
        {
            return Ok(Some(ix.clone()));
        }
        let stop = Arc::new(AtomicBool::new(false));
        *self.walking.lock().expect("ephemeral walk") = Some((folder.to_owned(), stop.clone()));
        let walked = NameIndex::of_folder(folder, Some(stop));
        *self.walking.lock().expect("ephemeral walk") = None;
        let Some(ix) = walked? else {
            return Ok(None);
        };
        let ix = Arc::new(ix);
        *slot = Some((folder.to_owned(), ix.clone()));
        Ok(Some(ix))
    }
}
