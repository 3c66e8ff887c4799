//! The CLI beside a running Cairn. A library is open in one process at a time (its lock, and
//! redb's own); while the window has it open, `cairn ls`, `cairn search`, `cairn tag add`…
//! from a terminal are run *inside the window's process*, for the process that asked: the
//! window serves a Unix socket in the library folder ([`SOCKET_FILE`], mode 0600 in the
//! library's 0700 folder: the user's own processes only), and a `cairn` that finds the
//! library held and the socket there sends its command line and working folder, and prints
//! what comes back.
//!
//! The protocol, one connection per command: frames of `[kind: u8][length: u32 LE][bytes]`.
//! The client sends one [`REQUEST`] frame (JSON: the arguments and the working folder, as
//! bytes); the server answers with [`STDOUT`] and [`STDERR`] frames as the command prints,
//! then one [`EXIT`] frame (the exit status, `i32` LE). A request over [`MAX_REQUEST`] bytes,
//! not JSON, or not a command line is answered with an error and status 2; the server goes
//! on serving.
//!
//! Commands run one at a time, in the client's working folder (the process's, for the
//! command's length: every path the window itself uses is absolute). Refused: those that
//! would close or replace the window's library (`library …` but `library list`, another
//! `--library`) and `watch` (the window keeps the index live already).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser as _;

use crate::vdfs::Core;

/// The socket's file name, in the library folder.
pub const SOCKET_FILE: &str = "cli.sock";
/// A frame: the client's command line.
pub const REQUEST: u8 = 0;
/// A frame: output.
pub const STDOUT: u8 = 1;
/// A frame: error output.
pub const STDERR: u8 = 2;
/// A frame: the exit status; the last.
pub const EXIT: u8 = 3;
/// The largest request accepted, in bytes.
pub const MAX_REQUEST: u32 = 1 << 20;

/// What a client sends.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Request {
    /// The arguments, the program's name first, as bytes.
    args: Vec<Vec<u8>>,
    /// The working folder, as bytes.
    cwd: Vec<u8>,
}

fn write_frame(w: &mut impl Write, kind: u8, bytes: &[u8]) -> std::io::Result<()> {
    let len =
        u32::try_from(bytes.len()).map_err(|_| std::io::Error::other("a frame over 4 GiB"))?;
    let mut head = [0u8; 5];
    head[0] = kind;
    head[1..].copy_from_slice(&len.to_le_bytes());
    w.write_all(&head)?;
    w.write_all(bytes)
}

fn read_frame(r: &mut impl Read, max: u32) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    r.read_exact(&mut head)?;
    let len = u32::from_le_bytes(head[1..].try_into().expect("4 bytes"));
    if len > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes (at most {max})"),
        ));
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf)?;
    Ok((head[0], buf))
}

/// Commands run one at a time (each in its client's working folder).
static RUNNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The socket of the library open in a running Cairn, serving commands until dropped.
pub struct Server {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serves the library folder `library` (open in `core`) on its [`SOCKET_FILE`]. A socket
    /// file left there is replaced (the library's lock is held: nobody else serves it).
    ///
    /// # Errors
    /// The socket cannot be made (the error names it).
    pub fn start(core: Core, library: &Path) -> std::io::Result<Server> {
        let path = library.join(SOCKET_FILE);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()) => {
                std::fs::remove_file(&path)?;
            }
            Ok(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{} is there and is not a socket", path.display()),
                ));
            }
            Err(_) => {}
        }
        let listener = UnixListener::bind(&path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("cairn-cli-server".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    match conn {
                        Ok(stream) => {
                            let core = core.clone();
                            let _ = std::thread::Builder::new()
                                .name("cairn-cli-command".into())
                                .spawn(move || serve_one(&core, stream));
                        }
                        Err(e) => tracing::warn!("the CLI socket: {e}"),
                    }
                }
            })?;
        tracing::info!("serving the CLI on {}", path.display());
        Ok(Server {
            path,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which sees the flag.
        let _ = UnixStream::connect(&self.path);
        let _ = std::fs::remove_file(&self.path);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves the CLI on the library open in `core` for as long as it is open, and on each
/// library opened after it (the window's library switcher), from a thread of its own.
pub fn follow_open_library(core: Core) {
    use crate::vdfs::events::Event;
    let mut events = core.events().subscribe();
    let start = |core: &Core| -> Option<Server> {
        let lib = core.library().ok()?;
        Server::start(core.clone(), lib.path())
            .map_err(|e| tracing::warn!("the CLI cannot be served beside the window: {e}"))
            .ok()
    };
    let spawned = std::thread::Builder::new()
        .name("cairn-cli-follow".into())
        .spawn(move || {
            let mut server = start(&core);
            loop {
                match events.blocking_recv() {
                    Ok(Event::LibraryOpened { .. }) => {
                        // The old socket goes before the new one is made.
                        drop(server.take());
                        server = start(&core);
                    }
                    Ok(Event::LibraryClosed { .. }) => server = None,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
            drop(server);
        });
    if let Err(e) = spawned {
        tracing::warn!("the CLI cannot be served beside the window: {e}");
    }
}

/// Why the running Cairn will not run `cli` for another process, if it will not.
fn refused(core: &Core, cli: &super::Cli) -> Option<String> {
    use super::Command;
    let open = core.library().ok()?;
    match &cli.command {
        None => return Some("the window is open already".into()),
        Some(Command::Watch(_)) => {
            return Some("the window keeps this library's index live already".into());
        }
        Some(Command::Library(super::library::LibraryCommand::List)) => {}
        Some(Command::Library(_)) => {
            return Some(format!(
                "library \"{}\" is open in a running Cairn; close it to change the library itself",
                open.config().name
            ));
        }
        Some(_) => {}
    }
    if let Some(q) = &cli.library {
        match core.find_library(q) {
            Ok((path, _)) if path == open.path() => {}
            Ok((_, c)) => {
                return Some(format!(
                    "the running Cairn has library \"{}\" open, not \"{}\"",
                    open.config().name,
                    c.name
                ));
            }
            Err(e) => return Some(e.to_string()),
        }
    }
    None
}

/// Runs one connection's command and answers it.
fn serve_one(core: &Core, mut stream: UnixStream) {
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let fail = |stream: &mut UnixStream, why: &str, code: i32| {
        let _ = write_frame(stream, STDERR, format!("error: {why}\n").as_bytes());
        let _ = write_frame(stream, EXIT, &code.to_le_bytes());
    };
    let req = match read_frame(&mut stream, MAX_REQUEST) {
        Ok((REQUEST, bytes)) => match serde_json::from_slice::<Request>(&bytes) {
            Ok(r) => r,
            Err(e) => return fail(&mut stream, &format!("a malformed request: {e}"), 2),
        },
        Ok((kind, _)) => {
            return fail(
                &mut stream,
                &format!("a frame of kind {kind} where a request was due"),
                2,
            );
        }
        Err(e) => return fail(&mut stream, &format!("a malformed request: {e}"), 2),
    };
    let args: Vec<OsString> = req.args.into_iter().map(OsString::from_vec).collect();
    let cli = match super::Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            return fail(
                &mut stream,
                e.to_string().trim_start_matches("error: ").trim(),
                2,
            );
        }
    };
    if let Some(why) = refused(core, &cli) {
        return fail(&mut stream, &why, 1);
    }
    let cwd = PathBuf::from(OsString::from_vec(req.cwd));
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let writer = std::sync::Mutex::new(writer);
    let frames: super::out::Frames = Arc::new(move |kind, bytes| {
        write_frame(&mut *writer.lock().expect("socket writer"), kind, bytes)
    });
    let code: i32 = {
        let _one = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
        let before = std::env::current_dir().ok();
        if let Err(e) = std::env::set_current_dir(&cwd) {
            return fail(&mut stream, &format!("{}: {e}", cwd.display()), 1);
        }
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            super::out::with_frames(frames, || super::dispatch(core, cli))
        }));
        if let Some(b) = before {
            let _ = std::env::set_current_dir(b);
        }
        match run {
            Ok(Ok(())) => 0,
            Ok(Err(e)) => {
                let _ = write_frame(
                    &mut stream,
                    STDERR,
                    format!("error: {}\n", super::one_message(&e)).as_bytes(),
                );
                1
            }
            Err(_) => {
                let _ = write_frame(
                    &mut stream,
                    STDERR,
                    b"error: the command failed inside the running Cairn (a bug: see its log)\n",
                );
                101
            }
        }
    };
    let _ = write_frame(&mut stream, EXIT, &code.to_le_bytes());
}

/// When the library `cli` is for is held by a running Cairn that serves the CLI, sends it the
/// command line and prints what comes back; returns the exit status. `None` when there is
/// nobody to ask (the command runs here, and says the library is in use if it is).
///
/// # Errors
/// Standard output or error cannot be written.
pub fn forward_if_held(core: &Core, cli: &super::Cli) -> std::io::Result<Option<i32>> {
    let found = match cli.library.as_deref() {
        Some(q) => core.find_library(q),
        None => core.default_library(),
    };
    let Ok((path, _)) = found else {
        return Ok(None);
    };
    let lock = path.join(crate::vdfs::home::libraries::LOCK_FILE);
    if crate::vdfs::home::lock::LibraryLock::holder(&lock).is_none() {
        return Ok(None);
    }
    let Ok(mut stream) = UnixStream::connect(path.join(SOCKET_FILE)) else {
        return Ok(None);
    };
    let req = Request {
        args: std::env::args_os().map(|a| a.as_bytes().to_vec()).collect(),
        cwd: std::env::current_dir()?.as_os_str().as_bytes().to_vec(),
    };
    let body = serde_json::to_vec(&req).map_err(std::io::Error::other)?;
    write_frame(&mut stream, REQUEST, &body)?;
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    loop {
        match read_frame(&mut stream, u32::MAX) {
            Ok((STDOUT, b)) => out.write_all(&b)?,
            Ok((STDERR, b)) => {
                out.flush()?;
                err.write_all(&b)?;
            }
            Ok((EXIT, b)) => {
                out.flush()?;
                let code = b
                    .get(..4)
                    .map_or(1, |c| i32::from_le_bytes(c.try_into().expect("4 bytes")));
                return Ok(Some(code));
            }
            Ok((kind, _)) => {
                err.write_all(
                    format!("error: the running Cairn sent a frame of kind {kind}\n").as_bytes(),
                )?;
                return Ok(Some(1));
            }
            Err(e) => {
                out.flush()?;
                err.write_all(
                    format!("error: the running Cairn stopped answering: {e}\n").as_bytes(),
                )?;
                return Ok(Some(1));
            }
        }
    }
}
