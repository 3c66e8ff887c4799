//! Paired devices (issue "Paired devices"): two Cairns with separate data folders, as separate
//! processes, on loopback. Pairing with a code, a wrong code, browsing and searching a peer,
//! refusals (unpaired devices, paths outside the locations), unpairing on both sides.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::{cairn, fails, json, ok, pattern, wait_for_part};

/// A `cairn` child whose stdout lines are read as they come; killed on drop.
struct Proc {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Proc {
    fn spawn(cmd: &mut Command) -> Proc {
        Proc::start(cmd.stdin(Stdio::null()))
    }

    /// As [`Proc::spawn`], with its stdin ours to write to.
    fn spawn_answering(cmd: &mut Command) -> (Proc, std::process::ChildStdin) {
        let mut p = Proc::start(cmd.stdin(Stdio::piped()));
        let stdin = p.child.stdin.take().unwrap();
        (p, stdin)
    }

    fn start(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Proc { child, lines }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("a line of output within 60 s")
    }

    /// Waits for the exit; returns (success, stdout rest, stderr).
    fn finish(mut self) -> (bool, String, String) {
        let status = self.child.wait().unwrap();
        let rest: Vec<String> = self.lines.try_iter().collect();
        let mut err = String::new();
        use std::io::Read;
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status.success(), rest.join("\n"), err)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Cairn that stays on loopback.
fn local(data: &Path) -> Command {
    let mut c = cairn(data);
    c.env("CAIRN_LISTEN", "127.0.0.1:0");
    c
}

/// Opens a code on `host` and returns (code, host address, the waiting process).
fn open_code(host: &Path) -> (String, String, Proc) {
    let p = Proc::spawn(local(host).args(["--json", "device", "pair"]));
    let v = json(&p.line());
    (
        v["code"].as_str().unwrap().to_owned(),
        v["host"].as_str().unwrap().to_owned(),
        p,
    )
}

fn rename(data: &Path, name: &str) {
    ok(cairn(data).args(["device", "rename", name]));
}

/// Two data folders named "desk" and "laptop", paired; desk shares `tree` (shallow index).
fn paired_pair(tmp: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let desk = tmp.join("desk");
    let laptop = tmp.join("laptop");
    rename(&desk, "desk");
    rename(&laptop, "laptop");
    let tree = tmp.join("shared");
    std::fs::create_dir_all(tree.join("photos/2024")).unwrap();
    std::fs::write(tree.join("photos/2024/beach.jpg"), b"jpeg bytes").unwrap();
    std::fs::write(tree.join("photos/notes.txt"), b"hello").unwrap();
    std::fs::write(tree.join("readme.md"), b"# shared").unwrap();
    std::fs::create_dir_all(tmp.join("private")).unwrap();
    std::fs::write(tmp.join("private/secret.txt"), b"no").unwrap();
    std::os::unix::fs::symlink(tmp.join("private"), tree.join("escape")).unwrap();
    ok(cairn(&desk).args(["location", "add"]).arg(&tree));

    let (code, host, waiting) = open_code(&desk);
    assert_eq!(code.len(), 14, "{code}");
    let joined = ok(local(&laptop).args(["--json", "device", "pair", &code, "--host", &host]));
    assert_eq!(json(&joined)["paired"]["name"], "desk", "{joined}");
    let (success, rest, err) = waiting.finish();
    assert!(success, "{err}");
    assert!(rest.contains("\"laptop\""), "{rest}");
    (desk, laptop, std::fs::canonicalize(tree).unwrap())
}

/// `cairn serve` on `data`; returns the process and its `ID@IP:PORT`.
fn serve(data: &Path) -> (Proc, String) {
    let p = Proc::spawn(local(data).args(["--json", "serve"]));
    let v = json(&p.line());
    let host = v["host"].as_str().unwrap().to_owned();
    (p, host)
}

fn addr_of(host: &str) -> String {
    host.split_once('@')
        .unwrap()
        .1
        .split(',')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn two_devices_pair_with_a_code_and_browse_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let (desk, laptop, tree) = paired_pair(tmp.path());

    // Both list each other, with the key each proved.
    let on_laptop = json(&ok(cairn(&laptop).args(["--json", "device", "list"])));
    let on_desk = json(&ok(cairn(&desk).args(["--json", "device", "list"])));
    assert_eq!(on_laptop[0]["name"], "desk");
    assert_eq!(on_desk[0]["name"], "laptop");
    let desk_key = json(&ok(cairn(&desk).args(["--json", "device", "show"])))["public_key"].clone();
    assert_eq!(on_laptop[0]["public_key"], desk_key);

    let (_server, host) = serve(&desk);
    let addr = addr_of(&host);
    // Its locations, a folder inside, a search.
    let locs = json(&ok(local(&laptop).args([
        "--json",
        "peer",
        "locations",
        "desk",
        "--addr",
        &addr,
    ])));
    assert_eq!(locs[0]["path"], tree.to_str().unwrap(), "{locs}");
    let photos = format!("desk:{}", tree.join("photos").display());
    let v = json(&ok(
        local(&laptop).args(["--json", "peer", "ls", &photos, "--addr", &addr])
    ));
    let names: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["2024", "notes.txt"], "{v}");
    assert_eq!(v["from_index"], true);
    let v = json(&ok(local(&laptop).args([
        "--json", "peer", "search", "desk", "beach", "--addr", &addr,
    ])));
    assert_eq!(v["total"], 1, "{v}");
    assert!(
        v["hits"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("photos/2024/beach.jpg")
    );

    // The address that answered is remembered: no --addr needed next time.
    let v = json(&ok(local(&laptop).args(["--json", "peer", "ls", &photos])));
    assert_eq!(v["total"], 2, "{v}");

    // Paths outside the shared locations are refused, each saying why.
    for (path, why) in [
        (tmp.path().join("private"), "not in a location"),
        (tree.join("escape"), "symbolic link"),
        (tree.join("photos/../../private"), "“..”"),
        (PathBuf::from("relative"), "absolute"),
    ] {
        let err = fails(local(&laptop).args([
            "peer",
            "ls",
            &format!("desk:{}", path.display()),
            "--addr",
            &addr,
        ]));
        assert!(err.contains(why), "{path:?}: {err}");
    }
}

#[test]
fn a_device_that_is_not_paired_is_refused_and_a_wrong_code_pairs_nobody() {
    let tmp = tempfile::tempdir().unwrap();
    let (desk, laptop, _tree) = paired_pair(tmp.path());
    let stranger = tmp.path().join("stranger");
    rename(&stranger, "stranger");
    let (_server, host) = serve(&desk);

    // A stranger who copies the laptop's paired.toml (so it knows desk's key and address)
    // is still refused: the connection is authenticated by its own key.
    std::fs::copy(laptop.join("paired.toml"), stranger.join("paired.toml")).unwrap();
    let err =
        fails(local(&stranger).args(["peer", "locations", "desk", "--addr", &addr_of(&host)]));
    assert!(err.contains("not paired"), "{err}");

    // No code open on desk's server: a pairing attempt is refused.
    let err = fails(local(&stranger).args(["device", "pair", "1234-5678-9012", "--host", &host]));
    assert!(err.contains("no pairing code is open"), "{err}");

    // A wrong code (right slot, wrong rest) pairs neither side; three end the session.
    let (code, code_host, waiting) = open_code(&desk);
    let wrong = format!("{}-0000-0000", &code[..4]);
    let wrong = if wrong == code {
        format!("{}-0000-0001", &code[..4])
    } else {
        wrong
    };
    for attempt in 1..=3 {
        let err = fails(local(&stranger).args(["device", "pair", &wrong, "--host", &code_host]));
        assert!(err.contains("does not match"), "attempt {attempt}: {err}");
    }
    let (success, _, err) = waiting.finish();
    assert!(!success, "the session should end after three wrong codes");
    assert!(err.contains("3 times"), "{err}");
    // The session is over: its host has stopped, and the right code reaches nobody now (the
    // right code after three wrong ones is refused by a host that stays up: see
    // `net_in_process::three_wrong_codes_end_the_session_even_for_the_right_one`).
    let err = fails(local(&stranger).args(["device", "pair", &code, "--host", &code_host]));
    assert!(err.contains("cannot reach"), "{err}");
    let on_desk = json(&ok(cairn(&desk).args(["--json", "device", "list"])));
    assert_eq!(
        on_desk.as_array().unwrap().len(),
        1,
        "only the laptop: {on_desk}"
    );
    assert_eq!(
        json(&ok(cairn(&stranger).args(["--json", "device", "list"])))
            .as_array()
            .unwrap()
            .len(),
        1,
        "the stranger only has the copied file"
    );
}

#[test]
fn unpairing_forgets_on_both_sides() {
    let tmp = tempfile::tempdir().unwrap();
    let (desk, laptop, _tree) = paired_pair(tmp.path());
    let (_server, host) = serve(&desk);
    let addr = addr_of(&host);
    let out = ok(local(&laptop).args(["device", "unpair", "desk", "--addr", &addr]));
    assert!(out.contains("forgot this device too"), "{out}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = json(&ok(cairn(&desk).args(["--json", "device", "list"])));
        if left.as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "desk still lists: {left}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        json(&ok(cairn(&laptop).args(["--json", "device", "list"])))
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The laptop cannot browse any more (it does not know desk) and desk would refuse it.
    let err = fails(local(&laptop).args(["peer", "locations", "desk", "--addr", &addr]));
    assert!(err.contains("no paired device"), "{err}");
}

/// Every file below `dir` as (relative path, BLAKE3), sorted.
fn tree_hashes(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                let hash = blake3::hash(&std::fs::read(e.path()).unwrap())
                    .to_hex()
                    .to_string();
                out.push((rel, hash));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn files_copy_from_a_paired_device_verified_and_a_rerun_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (desk, laptop, tree) = paired_pair(tmp.path());
    // More files than one batch of parallel streams, and a file of several data frames.
    for i in 0..40 {
        std::fs::write(
            tree.join(format!("photos/2024/img{i:03}.raw")),
            vec![i as u8; 1000 + i * 37],
        )
        .unwrap();
    }
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(tree.join("photos/big.bin"), &big).unwrap();
    let (_server, host) = serve(&desk);
    let addr = addr_of(&host);
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // Remember desk's address once, so `cp` finds it.
    ok(local(&laptop).args(["peer", "locations", "desk", "--addr", &addr]));

    let src = format!("desk:{}", tree.join("photos").display());
    let v = json(&ok(local(&laptop).args(["--json", "cp", &src]).arg(&inbox)));
    assert_eq!(v["files"], 43, "{v}");
    assert_eq!(
        tree_hashes(&inbox.join("photos")),
        tree_hashes(&tree.join("photos"))
    );
    // No part file is left behind.
    assert!(
        !tree_hashes(&inbox)
            .iter()
            .any(|(p, _)| p.contains(".cairn-pull-"))
    );
    let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    assert_eq!(
        mtime(&inbox.join("photos/big.bin")),
        mtime(&tree.join("photos/big.bin"))
    );

    // A rerun finds everything there: nothing is fetched or duplicated.
    let v = json(&ok(local(&laptop)
        .args(["--json", "peer", "get", &src])
        .arg(&inbox)));
    assert_eq!(
        (v["files"].as_u64(), v["already"].as_u64()),
        (Some(0), Some(43)),
        "{v}"
    );

    // A changed file is never overwritten: both are kept.
    std::fs::write(tree.join("readme.md"), b"# changed on desk").unwrap();
    std::fs::write(inbox.join("readme.md"), b"# mine").unwrap();
    let v = json(&ok(local(&laptop)
        .args([
            "--json",
            "cp",
            &format!("desk:{}", tree.join("readme.md").display()),
        ])
        .arg(&inbox)));
    assert_eq!(std::fs::read(inbox.join("readme.md")).unwrap(), b"# mine");
    assert_eq!(
        std::fs::read(inbox.join("readme (2).md")).unwrap(),
        b"# changed on desk"
    );
    assert!(
        v["renamed"][0].as_str().unwrap().ends_with("readme (2).md"),
        "{v}"
    );

    // A partial file left by an interrupted copy is continued, and one whose start is not
    // the sender's (an older version) is discarded and fetched again in full.
    let again = tmp.path().join("again");
    std::fs::create_dir(&again).unwrap();
    let key = json(&ok(cairn(&desk).args(["--json", "device", "show"])))["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let remote = tree.join("photos/big.bin");
    let part = again.join(
        String::from_utf8(cairn::net::transfer::part_name(
            &key,
            remote.as_os_str().as_encoded_bytes(),
        ))
        .unwrap(),
    );
    std::fs::write(&part, &big[..1_000_000]).unwrap();
    let v = json(&ok(local(&laptop)
        .args(["--json", "cp", &format!("desk:{}", remote.display())])
        .arg(&again)));
    assert_eq!(v["resumed"], 1, "{v}");
    assert_eq!(v["bytes"], 2_000_000, "{v}");
    assert_eq!(std::fs::read(again.join("big.bin")).unwrap(), big);
    std::fs::remove_file(again.join("big.bin")).unwrap();
    let mut stale = big[..1_000_000].to_vec();
    stale[10] ^= 0xff;
    std::fs::write(&part, &stale).unwrap();
    ok(local(&laptop)
        .args(["cp", &format!("desk:{}", remote.display())])
        .arg(&again));
    assert_eq!(std::fs::read(again.join("big.bin")).unwrap(), big);
    assert!(!part.exists());
}

#[test]
fn bytes_that_do_not_match_the_announced_hash_are_never_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let (desk, laptop, tree) = paired_pair(tmp.path());
    let p = Proc::spawn(
        local(&desk)
            .env("CAIRN_FAULT_FLIP_SENT_BYTES", "1")
            .args(["--json", "serve"]),
    );
    let host = json(&p.line())["host"].as_str().unwrap().to_owned();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let err = fails(
        local(&laptop)
            .args([
                "peer",
                "get",
                &format!("desk:{}", tree.join("readme.md").display()),
            ])
            .arg(&inbox)
            .args(["--addr", &addr_of(&host)]),
    );
    assert!(err.contains("do not match"), "{err}");
    assert_eq!(
        std::fs::read_dir(&inbox).unwrap().count(),
        0,
        "nothing under any name"
    );
}

#[test]
fn a_copy_killed_on_either_side_resumes_to_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (desk, laptop, tree) = paired_pair(tmp.path());
    let big: Vec<u8> = pattern(256u32 << 20);
    let src = tree.join("big.bin");
    std::fs::write(&src, &big).unwrap();
    let want = blake3::hash(&big);
    drop(big);
    let remote = format!("desk:{}", src.display());
    let (server, host) = serve(&desk);
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();

    // The receiver is killed mid-file: nothing under the final name, the part stays, and
    // the copy is a job left interrupted.
    let mut copy = local(&laptop)
        .args(["peer", "get", &remote])
        .arg(&inbox)
        .args(["--addr", &addr_of(&host)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let part = wait_for_part(&inbox, 16 << 20);
    copy.kill().unwrap();
    copy.wait().unwrap();
    assert!(!inbox.join("big.bin").exists());
    let had = std::fs::metadata(&part).unwrap().len();
    assert!(had > 0 && had < 256 << 20, "{had}");
    let transfer = || {
        let jobs = json(&ok(cairn(&laptop).args(["--json", "jobs", "list", "--all"])));
        let jobs = jobs.as_array().unwrap().clone();
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        assert_eq!(jobs[0]["kind"], "transfer");
        jobs[0].clone()
    };
    let job = transfer();
    assert_eq!(job["status"], "interrupted", "{job}");
    assert!(
        job["title"]
            .as_str()
            .unwrap()
            .starts_with("Copy “big.bin” from desk"),
        "{job}"
    );
    let id = job["id"].to_string();

    // The job is resumed, and the sender killed mid-file: the job pauses, saying why and
    // how to go on, and keeps its part.
    let copy = local(&laptop)
        .args(["jobs", "resume", &id])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_part(&inbox, had + (16 << 20));
    drop(server); // kill -9
    let out = copy.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("paused") && err.contains(&format!("cairn jobs resume {id}")),
        "{err}"
    );
    assert!(!inbox.join("big.bin").exists());
    assert_eq!(transfer()["status"], "paused");

    // Desk comes back where it listened: the job goes on from the part and ends
    // byte-identical, saying the file went on from where it stopped.
    let _server = Proc::spawn(
        local(&desk)
            .env("CAIRN_LISTEN", addr_of(&host))
            .args(["--json", "serve"]),
    );
    ok(local(&laptop).args(["jobs", "resume", &id]));
    let got = blake3::hash(&std::fs::read(inbox.join("big.bin")).unwrap());
    assert_eq!(got, want);
    assert!(!part.exists());
    let job = transfer();
    assert_eq!(job["status"], "completed", "{job}");
    assert!(
        job["outcome"]
            .as_str()
            .unwrap()
            .contains("1 went on from where an earlier run stopped"),
        "{job}"
    );
}

#[test]
fn a_cancelled_copy_leaves_no_partial_file_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let (desk, laptop, tree) = paired_pair(tmp.path());
    let big: Vec<u8> = pattern(128u32 << 20);
    std::fs::create_dir(tree.join("album")).unwrap();
    std::fs::write(tree.join("album/big.bin"), &big).unwrap();
    drop(big);
    let (_server, host) = serve(&desk);
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // Someone's own file that only looks like a partial copy's stays.
    std::fs::write(inbox.join(".cairn-pull-notes.part"), b"mine").unwrap();
    let mut copy = local(&laptop)
        .args([
            "peer",
            "get",
            &format!("desk:{}", tree.join("album").display()),
        ])
        .arg(&inbox)
        .args(["--addr", &addr_of(&host)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let part = wait_for_part(&inbox.join("album"), 8 << 20);
    copy.kill().unwrap();
    copy.wait().unwrap();
    assert!(part.exists());
    let v = json(&ok(cairn(&laptop).args(["--json", "jobs", "list", "--all"])));
    let id = v[0]["id"].to_string();
    ok(cairn(&laptop).args(["jobs", "cancel", &id]));
    assert!(!part.exists(), "the partial file is removed");
    assert_eq!(
        std::fs::read(inbox.join(".cairn-pull-notes.part")).unwrap(),
        b"mine"
    );
    let v = json(&ok(cairn(&laptop).args(["--json", "jobs", "list", "--all"])));
    assert_eq!(v[0]["status"], "cancelled", "{v}");
}

#[test]
fn files_pushed_to_a_paired_device_land_in_its_location_verified_and_indexed() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let (desk, laptop, tree) = paired_pair(tmp.path());
    let (_server, host) = serve(&desk);
    ok(local(&laptop).args(["peer", "locations", "desk", "--addr", &addr_of(&host)]));

    // A folder with a name that is not UTF-8, a subfolder, a file of several data frames
    // and a link (left out).
    let outbox = tmp.path().join("outbox");
    std::fs::create_dir_all(outbox.join("sub")).unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(outbox.join(odd), b"latin-1 name").unwrap();
    for i in 0..20 {
        std::fs::write(outbox.join(format!("sub/f{i}.bin")), vec![i as u8; 500 + i]).unwrap();
    }
    let big: Vec<u8> = (0..2_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(outbox.join("big.bin"), &big).unwrap();
    std::os::unix::fs::symlink("/etc", outbox.join("link")).unwrap();
    let dest = format!("desk:{}", tree.display());
    let v = json(&ok(local(&laptop)
        .args(["--json", "cp"])
        .arg(&outbox)
        .arg(&dest)));
    assert_eq!(
        (v["files"].as_u64(), v["skipped"].as_u64()),
        (Some(22), Some(1)),
        "{v}"
    );
    assert_eq!(v["direction"], "to device", "{v}");
    assert_eq!(tree_hashes(&tree.join("outbox")), tree_hashes(&outbox));
    assert_eq!(
        std::fs::read(tree.join("outbox").join(odd)).unwrap(),
        b"latin-1 name"
    );
    assert!(!tree.join("outbox/link").exists());

    // Desk indexed what it received: its search (forwarded to the running serve) finds it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = ok(cairn(&desk).args(["--json", "search", "f19.bin"]));
        if found.contains("f19.bin") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not indexed: {found}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // A rerun finds everything there; `peer put` is the same command.
    let v = json(&ok(local(&laptop)
        .args(["--json", "peer", "put"])
        .arg(&outbox)
        .arg(&dest)));
    assert_eq!(
        (v["files"].as_u64(), v["already"].as_u64()),
        (Some(0), Some(22)),
        "{v}"
    );

    // Desk only takes pushes into its locations, into a folder, by a plain path.
    let private = tmp.path().join("private");
    for (to, why) in [
        (format!("desk:{}", private.display()), "not in a location"),
        (
            format!("desk:{}/readme.md", tree.display()),
            "is not a folder",
        ),
        (format!("desk:{}/escape", tree.display()), "symbolic link"),
        (format!("desk:{}/../private", tree.display()), "“..”"),
    ] {
        let err = fails(local(&laptop).args(["peer", "put"]).arg(&outbox).arg(&to));
        assert!(
            err.contains("desk says") && err.contains(why),
            "{to}: {err}"
        );
    }
    assert_eq!(std::fs::read_dir(&private).unwrap().count(), 1);

    // A push killed on the pushing side goes on from desk's partial file when run again.
    let huge: Vec<u8> = pattern(96u32 << 20);
    let lone = tmp.path().join("lone");
    std::fs::create_dir(&lone).unwrap();
    std::fs::write(lone.join("huge.bin"), &huge).unwrap();
    let inbox = tree.join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let dest = format!("desk:{}", inbox.display());
    let mut push = local(&laptop)
        .args(["peer", "put"])
        .arg(lone.join("huge.bin"))
        .arg(&dest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let part = wait_for_part(&inbox, 8 << 20);
    push.kill().unwrap();
    push.wait().unwrap();
    assert!(!inbox.join("huge.bin").exists());
    let v = json(&ok(local(&laptop)
        .args(["--json", "peer", "put"])
        .arg(lone.join("huge.bin"))
        .arg(&dest)));
    assert_eq!(v["resumed"], 1, "{v}");
    assert!(v["bytes"].as_u64().unwrap() < 96 << 20, "{v}");
    assert_eq!(
        blake3::hash(&std::fs::read(inbox.join("huge.bin")).unwrap()),
        blake3::hash(&huge)
    );
    assert!(!part.exists());
}

/// `cairn receive` on `data` into `into`, its stdin ours to answer offers with.
struct Receiving {
    proc: Proc,
    stdin: std::process::ChildStdin,
    host: String,
}

impl Receiving {
    fn start(data: &Path, into: &Path) -> Receiving {
        Receiving::with(local(data), into)
    }

    /// `cmd` (a `cairn` with its data folder) receiving into `into`.
    fn with(mut cmd: Command, into: &Path) -> Receiving {
        cmd.args(["--json", "receive", "--into"]).arg(into);
        let (proc, stdin) = Proc::spawn_answering(&mut cmd);
        let host = json(&proc.line())["receiving"].as_str().unwrap().to_owned();
        Receiving { proc, stdin, host }
    }

    /// The next line (an offer, or what was received), as JSON.
    fn next(&self) -> serde_json::Value {
        json(&self.proc.line())
    }

    fn answer(&mut self, yes: bool) {
        use std::io::Write;
        writeln!(self.stdin, "{}", if yes { "y" } else { "n" }).unwrap();
    }
}

#[test]
fn files_sent_to_a_nearby_device_land_only_when_its_person_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let (phone, laptop) = (tmp.path().join("phone"), tmp.path().join("laptop"));
    rename(&phone, "phone");
    rename(&laptop, "laptop");
    let outbox = tmp.path().join("holiday");
    std::fs::create_dir_all(outbox.join("day 1")).unwrap();
    std::fs::write(outbox.join("day 1/beach.jpg"), b"sand").unwrap();
    std::fs::write(outbox.join("notes.txt"), b"sun").unwrap();
    let single = tmp.path().join("notes.txt");
    std::fs::write(&single, b"mine, sent").unwrap();

    // A device that is not receiving refuses before anything is read.
    let (_served, host) = serve(&phone);
    let err = fails(
        local(&laptop)
            .args(["send"])
            .arg(&single)
            .args(["--to", &host]),
    );
    assert!(err.contains("not receiving files"), "{err}");

    // Declined: the sender is told, nothing is written (the folder is not even made).
    let downloads = tmp.path().join("Downloads");
    let mut rx = Receiving::start(&phone, &downloads);
    let sending = Proc::spawn(
        local(&laptop)
            .args(["--json", "send"])
            .arg(&outbox)
            .args(["--to", &rx.host]),
    );
    let offer = rx.next();
    assert_eq!(offer["from"], "laptop", "{offer}");
    assert_eq!(
        (offer["files"].as_u64(), offer["bytes"].as_u64()),
        (Some(2), Some(7)),
        "{offer}"
    );
    assert!(
        offer["offer"].as_str().unwrap().contains("holiday/"),
        "{offer}"
    );
    rx.answer(false);
    let (success, _, err) = sending.finish();
    assert!(!success && err.contains("declined"), "{err}");
    assert!(!downloads.exists());

    // Accepted: everything lands, verified; a name taken there keeps both.
    std::fs::create_dir_all(&downloads).unwrap();
    std::fs::write(downloads.join("notes.txt"), b"theirs").unwrap();
    let sending = Proc::spawn(
        local(&laptop)
            .args(["--json", "send"])
            .arg(&outbox)
            .arg(&single)
            .args(["--to", &rx.host]),
    );
    let offer = rx.next();
    assert_eq!(offer["files"], 3, "{offer}");
    rx.answer(true);
    let received = rx.next();
    assert!(
        received["received"].as_str().unwrap().contains("3 files"),
        "{received}"
    );
    let (success, out, err) = sending.finish();
    assert!(success, "{err}");
    assert!(
        out.contains("\"files\":2") || out.contains("\"files\": 2"),
        "{out}"
    );
    assert_eq!(
        tree_hashes(&downloads.join("holiday")),
        tree_hashes(&outbox)
    );
    assert_eq!(
        std::fs::read(downloads.join("notes.txt")).unwrap(),
        b"theirs"
    );
    assert_eq!(
        std::fs::read(downloads.join("notes (2).txt")).unwrap(),
        b"mine, sent"
    );
    assert!(
        !tree_hashes(&downloads)
            .iter()
            .any(|(p, _)| p.contains(".cairn-pull-"))
    );
}

/// A network namespace with only `lo`, multicast on: mDNS there reaches nothing outside.
struct Netns(String);

impl Netns {
    fn make() -> Option<Netns> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("cairn-test-{}-{n}", std::process::id());
        let ip = |args: &[&str]| {
            Command::new("ip")
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ip(&["netns", "add", &name]) {
            return None;
        }
        let ns = Netns(name);
        let ok = ip(&["-n", &ns.0, "link", "set", "lo", "up"])
            && ip(&["-n", &ns.0, "link", "set", "lo", "multicast", "on"])
            && ip(&["-n", &ns.0, "route", "add", "224.0.0.0/4", "dev", "lo"]);
        ok.then_some(ns)
    }

    fn cairn(&self, data: &Path) -> Command {
        let mut c = Command::new("ip");
        c.args([
            "netns",
            "exec",
            &self.0,
            env!("CARGO_BIN_EXE_cairn"),
            "--data-dir",
        ])
        .arg(data)
        .env_remove("CAIRN_DATA_DIR")
        .env_remove("CAIRN_LISTEN");
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

#[test]
fn the_code_alone_finds_the_device_on_the_local_network() {
    // mDNS is tested only inside a namespace of its own (never on the machine's networks);
    // without the privilege to make one there is nothing to test here.
    let Some(ns) = Netns::make() else {
        eprintln!("skipped: cannot make a network namespace (needs root and iproute2)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (desk, laptop) = (tmp.path().join("desk"), tmp.path().join("laptop"));
    ok(ns.cairn(&desk).args(["device", "rename", "desk"]));
    ok(ns.cairn(&laptop).args(["device", "rename", "laptop"]));
    let host = Proc::spawn(ns.cairn(&desk).args(["--json", "device", "pair"]));
    let code = json(&host.line())["code"].as_str().unwrap().to_owned();
    let started = std::time::Instant::now();
    let out = ok(ns.cairn(&laptop).args(["device", "pair", &code]));
    assert!(out.contains("Paired with desk"), "{out}");
    eprintln!("paired through mDNS in {:?}", started.elapsed());
    let (success, rest, err) = host.finish();
    assert!(success, "{err}");
    assert!(rest.contains("laptop"), "{rest}");
}

#[test]
fn a_send_without_an_address_finds_the_one_device_receiving_nearby() {
    // mDNS only inside a namespace of its own, as above.
    let Some(ns) = Netns::make() else {
        eprintln!("skipped: cannot make a network namespace (needs root and iproute2)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (phone, laptop) = (tmp.path().join("phone"), tmp.path().join("laptop"));
    ok(ns.cairn(&phone).args(["device", "rename", "phone"]));
    ok(ns.cairn(&laptop).args(["device", "rename", "laptop"]));
    let file = tmp.path().join("ticket.pdf");
    std::fs::write(&file, b"%PDF boarding pass").unwrap();
    let inbox = tmp.path().join("inbox");

    // Nobody receiving: the sender says so.
    let err = fails(ns.cairn(&laptop).arg("send").arg(&file));
    assert!(
        err.contains("no device on this network is receiving"),
        "{err}"
    );

    let mut rx = Receiving::with(ns.cairn(&phone), &inbox);
    let sending = Proc::spawn(ns.cairn(&laptop).args(["--json", "send"]).arg(&file));
    let offer = rx.next();
    assert_eq!(offer["from"], "laptop", "{offer}");
    rx.answer(true);
    assert!(rx.next()["received"].is_string());
    let (success, _, err) = sending.finish();
    assert!(success, "{err}");
    assert_eq!(
        std::fs::read(inbox.join("ticket.pdf")).unwrap(),
        b"%PDF boarding pass"
    );
}
