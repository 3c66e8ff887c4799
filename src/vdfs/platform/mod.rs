//! Desktop integration: what the operating system offers around a file — opening it with its
//! default application or revealing it in the system's file manager, and "Open with…" from the
//! freedesktop desktop entries ([`open_with`]).
//!
//! May use: `query` (a file's type), `content`, `fs`.

pub mod open_with;

use std::path::Path;

/// Opens `path` with the desktop's default application for it (a folder in the file manager),
/// without waiting for it.
///
/// # Errors
/// A message naming the path when nothing could be started.
pub fn open_path(path: &Path) -> Result<(), String> {
    open::that_detached(path).map_err(|e| format!("cannot open {}: {e}", path.display()))
}

/// Shows `path` in the system's file manager: a folder itself, anything else its folder.
///
/// # Errors
/// As [`open_path`].
pub fn reveal(path: &Path) -> Result<(), String> {
    let folder = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(path)
    };
    open_path(folder)
}
