//! The `cairn` binary: parses the command line and hands over to [`cairn::cli::run`].

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

/// What `cairn --version` prints: a build with debug assertions says so, and the benchmark
/// scripts in `benches/` refuse to time it.
const VERSION: &str = if cfg!(debug_assertions) {
    concat!(env!("CARGO_PKG_VERSION"), " (debug build)")
} else {
    env!("CARGO_PKG_VERSION")
};

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let parsed = cairn::cli::Cli::command()
        .version(VERSION)
        .try_get_matches()
        .and_then(|m| cairn::cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        // --help and --version print and succeed; a usage error exits 1 like every other
        // error (clap's own default is 2).
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    cairn::logging::init(cli.verbose);
    match cairn::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`cairn ls -r | head`): not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            let msg = cairn::cli::one_message(&e);
            tracing::error!("{msg}");
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// `cairn ls -r | head`: when the reader of our output goes away, stop quietly (as a process
/// killed by SIGPIPE would) instead of panicking with "failed printing to stdout: Broken pipe".
/// Rust ignores SIGPIPE, so the failed write reaches `println!`, which panics; this hook turns
/// exactly that panic into a quiet exit; any other failed write of the output (a full disk) into
/// one line and exit status 1; and leaves every other panic to the default hook.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        // Output to a full disk or a failing device (`> /dev/full`): one line, exit 1.
        if let Some(why) = msg.strip_prefix("failed printing to stdout: ") {
            eprintln!("error: cannot write the output: {why}");
            std::process::exit(1);
        }
        if msg.starts_with("failed printing to stderr") {
            std::process::exit(1);
        }
        // Caught by the store and reported as "library.redb is damaged …": said once there.
        if cairn::store::in_guarded_section() {
            tracing::error!("store code panicked: {msg}");
            return;
        }
        default(info);
    }));
}
