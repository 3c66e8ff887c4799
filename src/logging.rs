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
        // Other crates' events and spans are never interesting to this layer: `Targets` says
        // so once per callsite, so their spans (iroh's, on every packet) are not even made.
        .with_filter(filter::FilterExt::and(
            filter::Targets::new().with_target("cairn", tracing::Level::TRACE),
            filter::filter_fn(|meta| {
                code_of(meta.level()) <= SINK.get().map_or(0, |s| s.level.load(Ordering::Relaxed))
            }),
        ));
    // Without `-v` the stderr layer is there but off. (Not an absent `Option` layer: that
    // answers "always" for every callsite, so every span of every crate — iroh's, several
    // per packet — would be made and dropped in the registry although no layer wants it:
    // about a tenth of a transfer's CPU.)
    let stderr_filter = match verbosity {
        0 => EnvFilter::new("off"),
        v => EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new(match v {
                1 => "cairn=info,warn",
                2 => "cairn=debug,info",
                _ => "trace",
            })
        }),
    };
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_writer(io::stderr)
        .with_filter(stderr_filter);
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
    let file = open_log(dir, &path);
    let mut slot = sink.file.lock().expect("log sink lock");
    match file {
        Ok(f) => *slot = Some((path, f)),
        Err(e) => {
            eprintln!("warning: cannot write logs to {}: {e}", path.display());
            *slot = None;
            return;
        }
    }
    drop(slot);
    prune(dir);
}

/// Opens (creating) the day's log file for appending. Logs are the owner's only (new folders
/// 0700, new files 0600, whatever the umask), and never written through a link: a `logs/`
/// folder or a log file that is a symlink is refused, so no line lands in someone's file.
fn open_log(dir: &Path, path: &Path) -> io::Result<File> {
    if fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is not a plain folder (a link?); not logging there",
                dir.display()
            ),
        ));
    }
    let mut folder = fs::DirBuilder::new();
    folder.recursive(true);
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        folder.mode(0o700);
        opts.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    folder.create(dir)?;
    let f = opts.open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a plain file", path.display()),
        ));
    }
    Ok(f)
}

/// True for the names Cairn gives its log files: `cairn-YYYY-MM-DD.log`.
fn is_log_name(name: &str) -> bool {
    name.strip_prefix("cairn-")
        .and_then(|n| n.strip_suffix(".log"))
        .is_some_and(|d| jiff::civil::Date::strptime("%Y-%m-%d", d).is_ok())
}

/// The current log file, if any.
pub fn current_log_file() -> Option<PathBuf> {
    let sink = SINK.get()?;
    let slot = sink.file.lock().expect("log sink lock");
    slot.as_ref().map(|(p, _)| p.clone())
}

/// Removes the oldest of Cairn's log files in `dir` beyond [`KEEP_FILES`]: only plain files
/// named `cairn-YYYY-MM-DD.log`, in a `dir` that is not a link — never a link, never another
/// file that merely looks like a log.
fn prune(dir: &Path) {
    if fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return;
    }
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut logs: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| e.file_name().to_str().is_some_and(is_log_name))
        .map(|e| e.path())
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Regression: pruning followed a symlinked `logs/` and deleted the user's files named like
    /// logs, and a symlinked log file got lines appended to its target.
    #[test]
    fn logs_are_never_written_or_pruned_through_a_link() {
        let d = tempfile::tempdir().unwrap();
        let user = d.path().join("user");
        fs::create_dir(&user).unwrap();
        for day in 1..=20 {
            fs::write(
                user.join(format!("cairn-2020-01-{day:02}.log")),
                b"the user's",
            )
            .unwrap();
        }
        let logs = d.path().join("logs");
        std::os::unix::fs::symlink(&user, &logs).unwrap();
        prune(&logs);
        assert!(open_log(&logs, &logs.join("cairn-2020-01-21.log")).is_err());
        assert_eq!(
            fs::read_dir(&user).unwrap().count(),
            20,
            "nothing deleted or created"
        );

        // A real logs folder: a linked log file is neither written nor pruned, a user's file
        // named like a log is kept, and only Cairn's oldest logs go.
        let real = d.path().join("real");
        fs::create_dir(&real).unwrap();
        let precious = d.path().join("precious.txt");
        fs::write(&precious, b"words").unwrap();
        std::os::unix::fs::symlink(&precious, real.join("cairn-2019-01-01.log")).unwrap();
        fs::write(real.join("cairn-notes.log"), b"mine").unwrap();
        for day in 1..=(KEEP_FILES + 3) {
            fs::write(real.join(format!("cairn-2021-02-{day:02}.log")), b"").unwrap();
        }
        assert!(open_log(&real, &real.join("cairn-2019-01-01.log")).is_err());
        prune(&real);
        assert_eq!(fs::read(&precious).unwrap(), b"words");
        assert!(real.join("cairn-2019-01-01.log").is_symlink());
        assert!(real.join("cairn-notes.log").is_file());
        assert!(!real.join("cairn-2021-02-03.log").exists());
        assert!(real.join("cairn-2021-02-04.log").exists());
    }

    /// Other crates' spans are never made (iroh's QUIC opens several per packet): with an
    /// absent stderr layer they were, costing about a tenth of a transfer's CPU. Fails on
    /// `Option<Layer>` = `None` for the stderr layer.
    #[test]
    fn other_crates_spans_are_never_made_without_a_layer_that_wants_them() {
        init(0);
        assert!(tracing::info_span!(target: "noq_proto::connection", "send").is_disabled());
        assert!(tracing::error_span!(target: "iroh::socket", "poll").is_disabled());
        assert!(!tracing::info_span!(target: "cairn::net", "transfer").is_disabled());
    }
}
