//! The CLI beside a running Cairn (issue "The explorer, finished", defect 10): while another
//! process holds the library (as the window does), `cairn` commands are run by that process
//! for the one that asked, in its working folder, with its output and exit status.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use crate::common::{cairn, fails, json, ok};

/// A `cairn debug serve` holding the library of `data` until dropped.
struct Running(Child);

impl Running {
    fn start(data: &std::path::Path) -> Running {
        let mut child = cairn(data)
            .args(["debug", "serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("serving "), "{line}");
        Running(child)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

#[test]
fn commands_run_inside_the_cairn_that_holds_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let tree = tmp.path().join("tree");
    std::fs::create_dir_all(tree.join("docs")).unwrap();
    std::fs::write(tree.join("docs/report.txt"), b"r").unwrap();
    std::fs::write(tree.join("notes.md"), b"n").unwrap();
    ok(cairn(&data)
        .args(["location", "add", "--mode", "shallow"])
        .arg(&tree));
    let alone = ok(cairn(&data).args(["--json", "search", "report"]));

    let running = Running::start(&data);
    // Reading: the same answer as without the running Cairn.
    assert_eq!(ok(cairn(&data).args(["--json", "search", "report"])), alone);
    // Writing, done by the running Cairn, seen by the next command.
    ok(cairn(&data).args(["tag", "create", "Keep"]));
    // A relative path is the caller's, not the running Cairn's.
    ok(cairn(&data)
        .current_dir(tree.join("docs"))
        .args(["tag", "add", "Keep", "report.txt"]));
    let v = json(&ok(cairn(&data).args(["--json", "search", "--tag", "Keep"])));
    assert_eq!(v["total"], 1, "{v}");
    // An error comes back as one line and status 1.
    let err = fails(cairn(&data).arg("stat").arg(tree.join("nope.txt")));
    assert!(err.contains("nope.txt"), "{err}");
    // What would close the library it holds is refused, saying why.
    let err = fails(cairn(&data).args(["library", "repair"]));
    assert!(err.contains("in use") || err.contains("running"), "{err}");
    let err = fails(cairn(&data).args(["watch"]));
    assert!(err.contains("live"), "{err}");

    // Garbage on the socket is answered with an error; the next command still works.
    let lib = std::fs::read_dir(data.join("libraries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cairnlib"))
        .unwrap();
    let sock = lib.join("cli.sock");
    for junk in [
        &b"\x00\xff\xff\xff\xff"[..],
        b"\x00\x05\x00\x00\x00{{{{{",
        b"hello",
    ] {
        let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
        s.write_all(junk).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut s, &mut back).unwrap();
        assert_eq!(back.first(), Some(&2), "an error frame: {back:?}");
        assert!(
            String::from_utf8_lossy(&back).contains("malformed"),
            "{back:?}"
        );
    }
    assert_eq!(ok(cairn(&data).args(["--json", "search", "report"])), alone);

    // Gone: commands run here again, and the socket went with it.
    drop(running);
    assert!(!sock.exists());
    ok(cairn(&data).args(["tag", "ls"]));
}

/// Output streams as it is printed, in order, with the exit status (a long `ls -r`).
#[test]
fn long_output_and_the_exit_status_come_back_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let tree = tmp.path().join("tree");
    for i in 0..2000 {
        let d = tree.join(format!("d{}", i % 20));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("f{i}.txt")), b"x").unwrap();
    }
    ok(cairn(&data)
        .args(["location", "add", "--mode", "shallow"])
        .arg(&tree));
    let alone = ok(cairn(&data).args(["ls", "-r"]).arg(&tree));
    let _running = Running::start(&data);
    let there = ok(cairn(&data).args(["ls", "-r"]).arg(&tree));
    assert_eq!(there.lines().count(), alone.lines().count());
    assert_eq!(there, alone);
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--data-dir")
        .arg(&data)
        .env_remove("CAIRN_DATA_DIR")
        .args(["stat", "/no/such/file"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
