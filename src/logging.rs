//! Logging with `tracing`: to a daily file in the open library's `logs/` folder (or the data
//! directory's `logs/` while no library is open), and with `-v` also to stderr.
//!
//! File names are `cairn-YYYY-MM-DD.log` (UTC); the newest [`KEEP_FILES`] are kept. The file
//! level follows the library setting `log_level`; `RUST_LOG` overrides the stderr level.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, filter};

/// Log files kept per folder.
pub const KEEP_FILES: usize = 14;

struct Sink {
    file: Mutex<Option<(PathBuf, File)>>,
    level: AtomicU8,
}

static SINK: OnceLock<Sink> = OnceLock::new();

fn level_code(level: &str) -> u8 {
    match level.to_ascii_lowercase().as_str() {
        "error" => 1,
        "warn" => 2,
        "debug" => 4,
        "trace" => 5,
        _ => 3,
    }
}

fn code_of(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// Installs the global subscriber. `verbosity` is the count of `-v` flags: 0 logs nothing to
/// stderr, 1 info, 2 debug, 3+ trace. Safe to call once; later calls do nothing.
pub fn init(verbosity: u8) {
    let sink = SINK.get_or_init(|| Sink {
        file: Mutex::new(None),
        level: AtomicU8::new(3),
    });
    let file_layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(SinkWriter)
        .with_filter(filter::filter_fn(|meta| {
            meta.target().starts_with("cairn")
                && code_of(meta.level())
                    <= SINK.get().map_or(0, |s| s.level.load(Ordering::Relaxed))
        }));
    let stderr_layer = (verbosity > 0).then(|| {
        let default = match verbosity {
            1 => "cairn=info,warn",
            2 => "cairn=debug,info",
            _ => "trace",
        };
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
        tracing_subscriber::fmt::layer()
            .with_writer(io::stderr)
            .with_filter(filter)
    });
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    let _ = sink;
}

/// Sends file logs to `dir` from now on, at `level` (`error` … `trace`). Does nothing if
/// [`init`] was not called (e.g. in tests). Old files beyond [`KEEP_FILES`] are removed.
pub fn set_log_dir(dir: &Path, level: &str) {
    let Some(sink) = SINK.get() else {
        return;
    };
    sink.level.store(level_code(level), Ordering::Relaxed);
    let date = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let path = dir.join(format!("cairn-{date}.log"));
    // Logs are the owner's only: new folders 0700, new files 0600 (whatever the umask).
    let mut folder = fs::DirBuilder::new();
    folder.recursive(true);
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        folder.mode(0o700);
        opts.mode(0o600);
    }
    let file = folder.create(dir).and_then(|()| opts.open(&path));
    let mut slot = sink.file.lock().expect("log sink lock");
    match file {
        Ok(f) => *slot = Some((path, f)),
        Err(e) => {
            eprintln!("warning: cannot write logs to {}: {e}", path.display());
            *slot = None;
        }
    }
    drop(slot);
    prune(dir);
}

/// The current log file, if any.
pub fn current_log_file() -> Option<PathBuf> {
    let sink = SINK.get()?;
    let slot = sink.file.lock().expect("log sink lock");
    slot.as_ref().map(|(p, _)| p.clone())
}

fn prune(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut logs: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("cairn-") && n.ends_with(".log"))
        })
        .collect();
    logs.sort();
    let excess = logs.len().saturating_sub(KEEP_FILES);
    for old in &logs[..excess] {
        let _ = fs::remove_file(old);
    }
}

struct SinkWriter;

struct SinkGuard;

impl Write for SinkGuard {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(sink) = SINK.get()
            && let Some((_, f)) = sink.file.lock().expect("log sink lock").as_mut()
        {
            f.write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for SinkWriter {
    type Writer = SinkGuard;

    fn make_writer(&'a self) -> Self::Writer {
        SinkGuard
    }
}
