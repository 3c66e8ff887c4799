//! Data directory resolution and portable mode: nothing is written outside the chosen folder.

use std::path::Path;
use std::process::Command;

use crate::common::{json, ok};

/// A `cairn` command whose home and XDG folders all point into `home`.
fn isolated(exe: &Path, home: &Path) -> Command {
    let mut c = Command::new(exe);
    c.env_remove("CAIRN_DATA_DIR")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_STATE_HOME", home.join(".local/state"));
    c
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

const EXE: &str = env!("CARGO_BIN_EXE_cairn");

fn exercise(cmd: impl Fn() -> Command) {
    ok(cmd().args(["library", "list"]));
    ok(cmd().args(["library", "create", "Second"]));
    ok(cmd().args(["device", "rename", "usb"]));
    ok(cmd().args([
        "debug",
        "diagnostic-job",
        "--batches",
        "2",
        "--batch-ms",
        "1",
    ]));
    ok(cmd().args(["jobs", "list", "--all"]));
    ok(cmd().args(["library", "info", "Second"]));
}

#[test]
fn explicit_data_dir_writes_nothing_outside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let data = tmp.path().join("stick/cairn-data");
    std::fs::create_dir_all(&home).unwrap();
    exercise(|| {
        let mut c = isolated(Path::new(EXE), &home);
        c.arg("--data-dir").arg(&data);
        c
    });
    assert_eq!(files_under(&home), Vec::<String>::new());
    let files = files_under(&data);
    for expected in [
        "device.toml",
        "device.key",
        "settings.toml",
        "libraries/My Library.cairnlib/library.redb",
        "libraries/Second.cairnlib/library.toml",
    ] {
        assert!(
            files.contains(&expected.to_owned()),
            "{expected} missing from {files:?}"
        );
    }
}

#[test]
fn env_var_selects_the_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let data = tmp.path().join("env-data");
    std::fs::create_dir_all(&home).unwrap();
    let v = json(&ok(isolated(Path::new(EXE), &home)
        .env("CAIRN_DATA_DIR", &data)
        .args(["--json", "library", "list"])));
    assert!(
        v["libraries"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with(data.to_str().unwrap())
    );
    assert_eq!(files_under(&home), Vec::<String>::new());
}

#[test]
fn cairn_data_beside_the_executable_is_portable_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let stick = tmp.path().join("stick");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(stick.join("cairn-data")).unwrap();
    let exe = stick.join("cairn");
    if std::fs::hard_link(EXE, &exe).is_err() {
        std::fs::copy(EXE, &exe).unwrap();
    }
    exercise(|| isolated(&exe, &home));
    assert_eq!(files_under(&home), Vec::<String>::new());
    assert!(
        stick
            .join("cairn-data/libraries/My Library.cairnlib/library.redb")
            .is_file()
    );
    assert!(stick.join("cairn-data/device.key").is_file());
}

#[test]
fn without_portable_folder_the_platform_folders_are_used() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let v = json(&ok(
        isolated(Path::new(EXE), &home).args(["--json", "library", "list"])
    ));
    let path = v["libraries"][0]["path"].as_str().unwrap().to_owned();
    assert!(
        path.starts_with(home.join(".local/share/cairn").to_str().unwrap()),
        "{path}"
    );
    assert!(home.join(".config/cairn/device.key").is_file());
}

/// Regression: `cairn ls -r … | head` panicked with "failed printing to stdout: Broken pipe".
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    for i in 0..20_000 {
        std::fs::write(tree.join(format!("file-{i:05}.txt")), b"").unwrap();
    }
    let (first, out) = crate::common::first_line_then_close(
        crate::common::cairn(&dir.path().join("data"))
            .args(["ls", "-r"])
            .arg(&tree),
    );
    assert!(!first.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
}

/// Regression: `cairn location list > /dev/full` panicked ("failed printing to stdout: No space
/// left on device", exit 101). A failed write of the output is one line and exit status 1.
#[test]
fn output_onto_a_full_device_is_one_line_and_exit_1() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(crate::common::cairn(&data).args(["library", "create", "Full"]));
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = crate::common::cairn(&data)
        .args(["library", "list"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: cannot write the output: No space left on device (os error 28)"
    );
}

/// Regression: `--data-dir` pointed at a folder that holds another program's `settings.toml`
/// overwrote it. Now Cairn says whose file it is not and leaves it as it was.
#[test]
fn a_settings_file_that_is_not_cairns_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("Documents");
    std::fs::create_dir_all(&dir).unwrap();
    let foreign = "theme = \"dark\"\n\n[editor]\nfont = \"Iosevka\"\n";
    std::fs::write(dir.join("settings.toml"), foreign).unwrap();
    let err = crate::common::fails(crate::common::cairn(&dir).args(["library", "list"]));
    assert!(
        err.contains("settings.toml") && err.contains("left untouched"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("settings.toml")).unwrap(),
        foreign
    );
}

/// Regression: `cairn --json location add … | head -1` left the indexing job interrupted (the
/// first progress line written into the closed pipe ended the process).
#[test]
fn a_job_is_not_left_half_done_when_its_output_closes() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    for d in 0..40 {
        let sub = tree.join(format!("d{d}"));
        std::fs::create_dir_all(&sub).unwrap();
        for i in 0..500 {
            std::fs::write(sub.join(format!("f{i}.txt")), format!("{d} {i}")).unwrap();
        }
    }
    let data = dir.path().join("data");
    let (_, out) = crate::common::first_line_then_close(
        crate::common::cairn(&data)
            .args(["--json", "location", "add", "--mode", "content"])
            .arg(&tree),
    );
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let jobs = json(&ok(
        crate::common::cairn(&data).args(["--json", "jobs", "list", "--all"])
    ));
    let statuses: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["completed"], "{jobs}");
}

/// Regressions from review: a data folder that is a file said only "File exists (os error
/// 17)"; `device rename` accepted a name with a newline; `search --size` accepted a size that
/// overflows.
#[test]
fn bad_values_get_a_clear_error_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let err = crate::common::fails(crate::common::cairn(&file).args(["library", "list"]));
    assert!(err.contains("not-a-folder is not a folder"), "{err}");

    let data = tmp.path().join("data");
    let err = crate::common::fails(crate::common::cairn(&data).args(["device", "rename", "a\nb"]));
    assert!(err.contains("control characters"), "{err}");
    let err = crate::common::fails(crate::common::cairn(&data).args([
        "search",
        "x",
        "--size",
        "99999999999999999999999T..",
    ]));
    assert!(err.contains("too large"), "{err}");
}

/// The README promises exit status 1 for every error; clap's usage errors exited 2.
#[test]
fn a_usage_error_exits_1_and_help_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let out = crate::common::cairn(tmp.path())
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error:"));
    let out = crate::common::cairn(tmp.path())
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// Regression (issue "fortress"): I/O errors repeated the OS error ("… (os error 2): … (os
/// error 2)"). Every error is one line that names the path and says the OS error once.
#[test]
fn an_io_error_names_the_path_and_says_the_os_error_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for args in [
        vec!["location".to_owned(), "add".to_owned()],
        vec!["ls".to_owned()],
        vec!["stat".to_owned()],
    ] {
        let missing = tmp.path().join("not-there").join("x");
        let err = crate::common::fails(crate::common::cairn(&data).args(&args).arg(&missing));
        assert!(err.contains(&*missing.to_string_lossy()), "{args:?}: {err}");
        assert_eq!(err.matches("os error").count(), 1, "{args:?}: {err}");
    }
}
