//! Desktop integration: what the operating system offers around a file — opening it with its
//! default application or revealing it in the system's file manager, and "Open with…" from the
//! freedesktop desktop entries ([`open_with`]), and a terminal in a folder ([`terminal`]).
//!
//! May use: `query` (a file's type), `content`, `fs`.

pub mod open_with;
pub mod terminal;

use std::path::{Path, PathBuf};

/// Why a file or folder could not be opened, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The desktop's launcher (`xdg-open`, `gio`, …) ran and refused: no application is set
    /// for this kind of file ("Open with…" can still open it).
    #[error("No application is set to open '{}'.", name_of(.path))]
    NoApplication {
        /// The file.
        path: PathBuf,
    },
    /// No launcher program is installed.
    #[error(
        "Nothing here can open '{}': no launcher (xdg-open or gio) is installed.",
        name_of(.path)
    )]
    NoLauncher {
        /// The file or folder.
        path: PathBuf,
    },
    /// It is not there any more.
    #[error("'{}' is not there any more.", name_of(.path))]
    Gone {
        /// The file or folder.
        path: PathBuf,
    },
    /// Anything else, with the system's reason.
    #[error("Cannot open '{}': {reason}", name_of(.path))]
    Failed {
        /// The file or folder.
        path: PathBuf,
        /// The system's reason.
        reason: String,
    },
}

impl OpenError {
    /// What a failure of the desktop's launchers (the `open` crate's error for `path`) means:
    /// a launcher that ran and failed has no application for the file; none found to run is
    /// a missing launcher.
    pub fn from_launcher(path: &Path, e: &std::io::Error) -> OpenError {
        let path = path.to_owned();
        match e.kind() {
            std::io::ErrorKind::NotFound => OpenError::NoLauncher { path },
            std::io::ErrorKind::Other => OpenError::NoApplication { path },
            _ => OpenError::Failed {
                path,
                reason: e.to_string(),
            },
        }
    }

    /// The file or folder that could not be opened.
    pub fn path(&self) -> &Path {
        match self {
            OpenError::NoApplication { path }
            | OpenError::NoLauncher { path }
            | OpenError::Gone { path }
            | OpenError::Failed { path, .. } => path,
        }
    }
}

/// The last component of `path`, for a message.
fn name_of(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Opens `path` with the desktop's default application for it (a folder in the file manager),
/// without waiting for it.
///
/// # Errors
/// [`OpenError`]: gone, no application set for its type, no launcher, or another failure.
pub fn open_path(path: &Path) -> Result<(), OpenError> {
    if std::fs::symlink_metadata(path).is_err() {
        return Err(OpenError::Gone {
            path: path.to_owned(),
        });
    }
    open::that_detached(path).map_err(|e| OpenError::from_launcher(path, &e))
}

/// Shows `path` in the system's file manager: a folder itself, anything else its folder.
///
/// # Errors
/// As [`open_path`].
pub fn reveal(path: &Path) -> Result<(), OpenError> {
    let folder = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(path)
    };
    open_path(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_launcher_failure_is_said_in_words() {
        let pdf = Path::new("/home/me/x.pdf");
        let refused = std::io::Error::other(
            "Launcher \"gio\" \"open\" \"/home/me/x.pdf\" failed with ExitStatus(unix_wait_status(512))",
        );
        let e = OpenError::from_launcher(pdf, &refused);
        assert_eq!(
            e,
            OpenError::NoApplication {
                path: pdf.to_owned()
            }
        );
        assert_eq!(e.to_string(), "No application is set to open 'x.pdf'.");
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert!(matches!(
            OpenError::from_launcher(pdf, &missing),
            OpenError::NoLauncher { .. }
        ));
        assert_eq!(
            open_path(Path::new("/no/such/file.pdf")),
            Err(OpenError::Gone {
                path: PathBuf::from("/no/such/file.pdf")
            })
        );
    }
}
