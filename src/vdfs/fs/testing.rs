//! Helpers for the unit tests of code that meets hostile files.

use std::path::{Path, PathBuf};

/// Makes a FIFO named `name` in `dir` (with `mkfifo(1)`) and returns its path.
pub(crate) fn fifo(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    let made = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo {}", p.display());
    p
}

/// Runs `f` on another thread and returns its result, failing the test if it has not
/// returned within 10 s (it blocked: `what`).
pub(crate) fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what}"))
}
