//! Where the CLI's output goes: this process's standard output and error, or — when a
//! command runs inside a running Cairn for another process ([`super::serve`]) — that
//! process, through the socket it connected on. Every line the CLI prints goes through
//! [`outln!`](crate::outln) and [`errln!`](crate::errln) (and [`stdout`] for a stream of
//! rows), so the same commands run in both places.

use std::cell::RefCell;
use std::io::Write;

/// A stream to another process: each write is sent as one frame of `kind`
/// ([`super::serve::STDOUT`] or [`super::serve::STDERR`]).
pub(crate) type Frames = std::sync::Arc<dyn Fn(u8, &[u8]) -> std::io::Result<()> + Send + Sync>;

thread_local! {
    static SINK: RefCell<Option<Frames>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's output sent to `frames` instead of the standard streams.
pub(crate) fn with_frames<T>(frames: Frames, f: impl FnOnce() -> T) -> T {
    SINK.with(|s| *s.borrow_mut() = Some(frames));
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            SINK.with(|s| *s.borrow_mut() = None);
        }
    }
    let _reset = Reset;
    f()
}

/// Writes `args` to the output (kind 1) or the error stream (kind 2). On this process's
/// own standard output a failed write panics as `print!` does (the binary's hook turns a
/// closed pipe into a quiet exit); to another process it is dropped (it went away).
pub fn write(kind: u8, args: std::fmt::Arguments<'_>) {
    let sent = SINK.with(|s| {
        s.borrow()
            .as_ref()
            .map(|f| f(kind, args.to_string().as_bytes()))
    });
    match sent {
        Some(_) => {}
        None if kind == super::serve::STDERR => eprint!("{args}"),
        None => print!("{args}"),
    }
}

/// A writer of the output: this process's standard output, or the frames of the process the
/// command runs for. Buffer it (`BufWriter`) for many rows.
pub fn stdout() -> Box<dyn Write> {
    match SINK.with(|s| s.borrow().clone()) {
        Some(f) => Box::new(FrameWriter(f)),
        None => Box::new(std::io::stdout().lock()),
    }
}

/// Output frames as a [`Write`].
struct FrameWriter(Frames);

impl Write for FrameWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        (self.0)(super::serve::STDOUT, buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `println!` for the CLI: a line of output, wherever the output goes ([`write`](crate::cli::out::write())).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::cli::out::write(1, format_args!("\n"))
    };
    ($($t:tt)*) => {
        $crate::cli::out::write(1, format_args!("{}\n", format_args!($($t)*)))
    };
}

/// `print!` for the CLI ([`write`](crate::cli::out::write())).
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => {
        $crate::cli::out::write(1, format_args!($($t)*))
    };
}

/// `eprintln!` for the CLI: a line on the error stream, wherever it goes ([`write`](crate::cli::out::write())).
#[macro_export]
macro_rules! errln {
    () => {
        $crate::cli::out::write(2, format_args!("\n"))
    };
    ($($t:tt)*) => {
        $crate::cli::out::write(2, format_args!("{}\n", format_args!($($t)*)))
    };
}

/// `eprint!` for the CLI ([`write`](crate::cli::out::write())).
#[macro_export]
macro_rules! err {
    ($($t:tt)*) => {
        $crate::cli::out::write(2, format_args!($($t)*))
    };
}
