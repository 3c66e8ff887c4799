//! "Open with…": the desktop applications that declare they open a MIME type, from the
//! freedesktop `.desktop` files (Desktop Entry Specification 1.5) in `$XDG_DATA_HOME` and
//! `$XDG_DATA_DIRS` (`applications/` folders), and launching one on a file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

/// An application that can open files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct App {
    /// Display name.
    pub name: String,
    /// The `Exec` line, with its field codes.
    pub exec: String,
    /// The `.desktop` file it came from.
    pub desktop_file: PathBuf,
}

fn application_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let home = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.data_dir().to_owned()));
    if let Some(h) = home {
        dirs.push(h.join("applications"));
    }
    let shared =
        std::env::var("XDG_DATA_DIRS").unwrap_or_else(|_| "/usr/local/share:/usr/share".into());
    dirs.extend(
        shared
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join("applications")),
    );
    dirs
}

/// Parses the `[Desktop Entry]` group of a `.desktop` file: `(name, exec, mime types)`, or
/// `None` for hidden or non-application entries.
pub fn parse_desktop(text: &str) -> Option<(String, String, Vec<String>)> {
    let mut in_entry = false;
    let (mut name, mut exec, mut mimes) = (None, None, Vec::new());
    let mut app = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_entry = line == "[Desktop Entry]";
            continue;
        }
        if !in_entry {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k.trim() {
            "Name" => name = Some(v.trim().to_owned()),
            "Exec" => exec = Some(v.trim().to_owned()),
            "MimeType" => {
                mimes = v
                    .split(';')
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            "Type" => app = v.trim() == "Application",
            "NoDisplay" | "Hidden" if v.trim() == "true" => return None,
            _ => {}
        }
    }
    (app && !mimes.is_empty()).then_some((name?, exec?, mimes))
}

/// The applications that open `mime` (exactly, or through `type/*`), by name.
pub fn apps_for(mime: &str) -> Vec<App> {
    let wildcard = mime.split('/').next().map(|t| format!("{t}/*"));
    let mut out: Vec<App> = Vec::new();
    for dir in application_dirs() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_none_or(|x| x != "desktop") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let Some((name, exec, mimes)) = parse_desktop(&text) else {
                continue;
            };
            if mimes
                .iter()
                .any(|m| m == mime || Some(m) == wildcard.as_ref())
                && !out.iter().any(|a| a.name == name)
            {
                out.push(App {
                    name,
                    exec,
                    desktop_file: p,
                });
            }
        }
    }
    out.sort_by_key(|a| a.name.to_lowercase());
    out
}

/// The argument vector of `exec` for `file`: `%f %F %u %U` become the path, other field codes
/// are dropped, and if no code names the file it is appended.
pub fn command_line(exec: &str, file: &Path) -> Vec<String> {
    let mut args = Vec::new();
    let mut used = false;
    for word in split_exec(exec) {
        match word.as_str() {
            "%f" | "%F" | "%u" | "%U" => {
                args.push(file.display().to_string());
                used = true;
            }
            w if w.len() == 2 && w.starts_with('%') => {}
            w => args.push(w.replace("%%", "%")),
        }
    }
    if !used {
        args.push(file.display().to_string());
    }
    args
}

/// Splits an `Exec` value into words, honouring double quotes and backslash escapes.
fn split_exec(exec: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = exec.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ' ' if !quoted => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The applications that open `path`, by its type (name and first bytes); a file of no known
/// type is offered the applications for `application/octet-stream`.
pub fn apps_for_file(path: &Path) -> Vec<App> {
    let mime = crate::vdfs::query::browse::identify_path(path)
        .map_or("application/octet-stream", |t| t.mime());
    apps_for(mime)
}

/// Starts `app` on `file`, detached from Cairn.
///
/// # Errors
/// The spawn error, naming the program.
pub fn launch(app: &App, file: &Path) -> Result<(), String> {
    let args = command_line(&app.exec, file);
    let Some((prog, rest)) = args.split_first() else {
        return Err(format!(
            "{} has an empty Exec line",
            app.desktop_file.display()
        ));
    };
    Command::new(prog)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot start {prog}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_desktop_entries_and_exec_lines() {
        let text = "[Desktop Entry]\nType=Application\nName=Image Viewer\nExec=\"/opt/my viewer/bin\" --new %U\nMimeType=image/png;image/*;\n[Desktop Action New]\nName=Other\n";
        let (name, exec, mimes) = parse_desktop(text).unwrap();
        assert_eq!(name, "Image Viewer");
        assert_eq!(mimes, ["image/png", "image/*"]);
        assert_eq!(
            command_line(&exec, Path::new("/tmp/a b.png")),
            ["/opt/my viewer/bin", "--new", "/tmp/a b.png"]
        );
        assert_eq!(command_line("gedit %i", Path::new("/x")), ["gedit", "/x"]);
        assert!(
            parse_desktop(
                "[Desktop Entry]\nType=Application\nName=A\nExec=a\nMimeType=x/y;\nNoDisplay=true\n"
            )
            .is_none()
        );
    }
}
