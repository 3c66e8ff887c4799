//! A watch of one folder for a view (the folder shown in the window, or the folder of an
//! ephemeral search), outside the locations the live index keeps: `notify` (inotify) events
//! are coalesced and, after a quiet spell of [`QUIET`], one call of the owner's callback says
//! "it changed". What changed is for the owner to read again; nothing is written anywhere.

use std::path::{Path, PathBuf};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

/// Changes closer together than this are reported once.
pub const QUIET: Duration = Duration::from_millis(30);

/// A watched folder; the watch (and its thread) stop when it is dropped.
pub struct FolderWatch {
    folder: PathBuf,
    _watcher: notify::RecommendedWatcher,
}

impl FolderWatch {
    /// Watches `folder` (with `recursive`, every folder below it too) and calls `on_change`
    /// on a thread of its own after each burst of changes (reads alone are not changes).
    ///
    /// # Errors
    /// The `notify` error: no inotify instance, the folder gone, or the system's watch limit
    /// reached.
    pub fn start(
        folder: &Path,
        recursive: bool,
        on_change: impl Fn() + Send + 'static,
    ) -> notify::Result<FolderWatch> {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            let change = match ev {
                Ok(ev) => !matches!(ev.kind, EventKind::Access(_)),
                Err(_) => true,
            };
            if change {
                let _ = tx.send(());
            }
        })?;
        let mode = if recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        watcher.watch(folder, mode)?;
        std::thread::Builder::new()
            .name("cairn-folder-watch".into())
            .spawn(move || {
                // Ends when the watcher (which holds the sender) is dropped.
                while rx.recv().is_ok() {
                    loop {
                        match rx.recv_timeout(QUIET) {
                            Ok(()) => {}
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    on_change();
                }
            })
            .map_err(notify::Error::io)?;
        Ok(FolderWatch {
            folder: folder.to_owned(),
            _watcher: watcher,
        })
    }

    /// The folder watched.
    pub fn folder(&self) -> &Path {
        &self.folder
    }
}
