//! Helpers shared by the integration tests.

use std::path::Path;
use std::process::{Command, Output};

/// A `cairn` command on the data folder `data`, isolated from the caller's environment.
pub fn cairn(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.arg("--data-dir").arg(data).env_remove("CAIRN_DATA_DIR");
    c
}

/// Runs `cmd`, asserts success and returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run cairn");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Runs `cmd`, asserts it fails with exit code 1 and one clear `error:` line, returns stderr.
pub fn fails(cmd: &mut Command) -> String {
    let out: Output = cmd.output().expect("run cairn");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{cmd:?} should fail; stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    stderr
}

/// Parses JSON stdout.
/// `len` bytes (a multiple of 4) of a fixed pattern that repeats nowhere near a data
/// frame's length: a large file whose every chunk differs.
pub fn pattern(len: u32) -> Vec<u8> {
    (0..len / 4)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect()
}

/// Waits up to 60 s until a partial file of a copy from a device (`.cairn-pull-…part`) in
/// `dir` holds at least `bytes`, and returns it; `dir` may not exist yet.
pub fn wait_for_part(dir: &Path, bytes: u64) -> std::path::PathBuf {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(p) = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.to_string_lossy().contains(".cairn-pull-")
                    && std::fs::metadata(p).map_or(0, |m| m.len()) >= bytes
            })
        {
            return p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no part file grew in {dir:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

pub fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}"))
}

/// Spawns `cmd`, reads the first line of its output, then closes the pipe (as `| head -1`
/// does) and waits for it. Returns that line and what the process ended with.
pub fn first_line_then_close(cmd: &mut Command) -> (String, Output) {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run cairn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("read a line");
    (first, child.wait_with_output().expect("wait for cairn"))
}

/// A tmpfs mounted at a new folder `name` under `parent` for a test that needs a small or
/// removable file system; unmounted (lazily) when dropped. `None` when this process may not
/// mount (not root): the test then says it is skipped.
pub struct Tmpfs {
    /// The mount point.
    pub path: std::path::PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `16k`, `4m`).
    pub fn mount(parent: &Path, name: &str, size: &str) -> Option<Tmpfs> {
        let path = parent.join(name);
        std::fs::create_dir(&path).expect("make the mount point");
        let t = Tmpfs { path };
        if t.mount_opts(&format!("size={size}")) {
            Some(t)
        } else {
            eprintln!("skipped: cannot mount a tmpfs here (needs root)");
            None
        }
    }

    /// Changes its size (`remount`); true if it worked.
    pub fn resize(&self, size: &str) -> bool {
        self.mount_opts(&format!("remount,size={size}"))
    }

    /// Unmounts it now, as a drive pulled out would go.
    pub fn unplug(&self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
    }

    fn mount_opts(&self, opts: &str) -> bool {
        Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "cairn-test"])
            .arg(&self.path)
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        self.unplug();
    }
}

/// A bind mount of folder `source` at a new folder `target` (one folder on disk seen at two
/// paths, with the same device and inodes); unmounted (lazily) when dropped. `None` when this
/// process may not mount (not root): the test then says it is skipped.
pub struct BindMount {
    /// The mount point: the second path of `source`.
    pub path: std::path::PathBuf,
}

impl BindMount {
    /// Bind-mounts `source` at `target` (created here).
    pub fn mount(source: &Path, target: &Path) -> Option<BindMount> {
        std::fs::create_dir(target).expect("make the mount point");
        let mounted = Command::new("mount")
            .arg("--bind")
            .arg(source)
            .arg(target)
            .output()
            .is_ok_and(|o| o.status.success());
        if mounted {
            Some(BindMount {
                path: target.to_owned(),
            })
        } else {
            eprintln!("skipped: cannot bind-mount here (needs root)");
            None
        }
    }
}

impl Drop for BindMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
    }
}

/// A FAT file system in an image file, mounted through FUSE (`fusefat`: this kernel may have
/// no `vfat` module), as a USB stick formatted for Windows is met. `None` when it cannot be
/// made or mounted (no `mkfs.vfat` or `fusefat`, or not root): the test then says it is
/// skipped; `scripts/test-deps.sh` installs both. Unmounted when dropped.
pub struct FatImage {
    /// The mount point.
    pub path: std::path::PathBuf,
}

impl FatImage {
    /// Makes a 16 MiB FAT image `name.img` under `parent` and mounts it at `parent/name`.
    pub fn mount(parent: &Path, name: &str) -> Option<FatImage> {
        let image = parent.join(format!("{name}.img"));
        let path = parent.join(name);
        std::fs::create_dir(&path).expect("make the mount point");
        let run = |c: &mut Command| c.output().is_ok_and(|o| o.status.success());
        let made = run(Command::new("truncate").args(["-s", "16M"]).arg(&image))
            && run(Command::new("mkfs.vfat").arg(&image));
        if made
            && run(Command::new("fusefat")
                .args(["-o", "rw+"])
                .arg(&image)
                .arg(&path))
        {
            Some(FatImage { path })
        } else {
            eprintln!(
                "skipped: cannot make and mount a FAT image here (needs root, mkfs.vfat and \
                 fusefat: run scripts/test-deps.sh)"
            );
            None
        }
    }
}

impl Drop for FatImage {
    fn drop(&mut self) {
        let _ = Command::new("fusermount")
            .arg("-u")
            .arg(&self.path)
            .output();
    }
}

/// An ext4 file system in an image file, mounted through a loop device: a stand-in for a USB
/// drive that keeps its identity (its file-system UUID) wherever it is mounted. `None` when
/// this process may not mount or make file systems (not root, no `mkfs.ext4`): the test then
/// says it is skipped. Unmounted (lazily) when dropped.
pub struct LoopDrive {
    image: std::path::PathBuf,
    /// Where it is mounted now, if it is.
    pub mounted_at: Option<std::path::PathBuf>,
}

impl LoopDrive {
    /// Makes an 8 MiB ext4 image at `image`.
    pub fn make(image: &Path) -> Option<LoopDrive> {
        let made = Command::new("truncate")
            .args(["-s", "8M"])
            .arg(image)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new("mkfs.ext4")
                .args(["-q", "-F"])
                .arg(image)
                .status()
                .is_ok_and(|s| s.success());
        if !made {
            eprintln!("skipped: cannot make an ext4 image here (needs mkfs.ext4)");
            return None;
        }
        Some(LoopDrive {
            image: image.to_owned(),
            mounted_at: None,
        })
    }

    /// Mounts it at `at` (created if missing); false if that is not allowed (not root).
    pub fn plug(&mut self, at: &Path) -> bool {
        std::fs::create_dir_all(at).expect("make the mount point");
        let ok = Command::new("mount")
            .args(["-o", "loop"])
            .arg(&self.image)
            .arg(at)
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            self.mounted_at = Some(at.to_owned());
        } else {
            eprintln!("skipped: cannot mount a loop device here (needs root)");
        }
        ok
    }

    /// Unmounts it, as a drive pulled out would go.
    pub fn unplug(&mut self) {
        if let Some(at) = self.mounted_at.take() {
            let _ = Command::new("umount").arg(&at).output();
        }
    }
}

impl Drop for LoopDrive {
    fn drop(&mut self) {
        if let Some(at) = self.mounted_at.take() {
            let _ = Command::new("umount").arg("-l").arg(&at).output();
        }
    }
}

/// A library in a fresh data folder, opened in this process; the folder goes with it.
pub struct Lib {
    _data: tempfile::TempDir,
    _core: cairn::vdfs::Core,
    /// The open library.
    pub lib: std::sync::Arc<cairn::vdfs::Library>,
}

/// Starts a core on a new temporary data folder and opens its default library.
pub fn library() -> Lib {
    let data = tempfile::tempdir().unwrap();
    let core = cairn::vdfs::Core::start(cairn::vdfs::CoreOptions::at(data.path())).unwrap();
    let lib = core.open_library(None).unwrap();
    Lib {
        _data: data,
        _core: core,
        lib,
    }
}
