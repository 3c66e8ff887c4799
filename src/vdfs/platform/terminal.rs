//! "Open terminal here": a terminal emulator started in a folder. Which one: `$TERMINAL` if
//! set, else the first installed of Debian's `x-terminal-emulator` alternative and the common
//! emulators (GNOME Terminal, Konsole, Xfce Terminal, kitty, Alacritty, foot, xterm).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The emulators tried after `$TERMINAL`, in order.
pub const CANDIDATES: [&str; 8] = [
    "x-terminal-emulator",
    "gnome-terminal",
    "konsole",
    "xfce4-terminal",
    "kitty",
    "alacritty",
    "foot",
    "xterm",
];

/// The program `name` on `path_var` (a `$PATH` value), or `name` itself when it holds a `/`
/// and is a file.
fn find_program(name: &std::ffi::OsStr, path_var: &std::ffi::OsStr) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.components().count() > 1 {
        return p.is_file().then(|| p.to_owned());
    }
    std::env::split_paths(path_var)
        .map(|d| d.join(name))
        .find(|c| c.is_file())
}

/// Starts a terminal in `folder`, without waiting for it, choosing it as the module says
/// from `terminal_env` (the value of `$TERMINAL`) and `path_var` (of `$PATH`). Returns the
/// program started.
///
/// # Errors
/// A sentence naming the folder when it is not a folder, when no terminal is installed (and
/// what to set), or when the program cannot be started.
pub fn open_in(
    folder: &Path,
    terminal_env: Option<OsString>,
    path_var: &std::ffi::OsStr,
) -> Result<PathBuf, String> {
    if !folder.is_dir() {
        return Err(format!("'{}' is not a folder any more", folder.display()));
    }
    let wanted: Vec<OsString> = terminal_env
        .filter(|t| !t.is_empty())
        .into_iter()
        .chain(CANDIDATES.iter().map(OsString::from))
        .collect();
    let Some(program) = wanted.iter().find_map(|w| find_program(w, path_var)) else {
        return Err(
            "No terminal is installed that Cairn knows of: set $TERMINAL to the one you use"
                .to_owned(),
        );
    };
    let mut cmd = Command::new(&program);
    cmd.current_dir(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Those that start their shell in a folder of their own choosing unless told.
    match program.file_name().and_then(|n| n.to_str()) {
        Some("gnome-terminal" | "xfce4-terminal") => {
            cmd.arg(format!("--working-directory={}", folder.display()));
        }
        Some("konsole") => {
            cmd.arg("--workdir").arg(folder);
        }
        _ => {}
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    // Reaped when it exits, so no zombie is left behind while Cairn runs.
    std::thread::spawn(move || child.wait());
    Ok(program)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// `$TERMINAL` first, started in the folder; none installed says what to set; a folder
    /// gone says so.
    #[test]
    fn a_terminal_starts_in_the_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let here = tmp.path().join("here");
        std::fs::create_dir(&here).unwrap();
        let out = tmp.path().join("cwd.txt");
        let script = bin.join("my-term");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\npwd > '{}.tmp'\nmv '{0}.tmp' '{0}'\n",
                out.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = bin.as_os_str().to_owned();
        let started = open_in(&here, Some("my-term".into()), &path).unwrap();
        assert_eq!(started, script);
        for _ in 0..200 {
            if out.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let cwd = std::fs::read_to_string(&out).unwrap();
        assert_eq!(Path::new(cwd.trim()), std::fs::canonicalize(&here).unwrap());
        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let err = open_in(&here, None, empty.as_os_str()).unwrap_err();
        assert!(err.contains("$TERMINAL"), "{err}");
        let err = open_in(&tmp.path().join("gone"), None, &path).unwrap_err();
        assert!(err.contains("gone"), "{err}");
    }
}
