//! The `cairn` binary: parses the command line and hands over to [`cairn::cli::run`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cairn::cli::Cli::parse();
    cairn::logging::init(cli.verbose);
    match cairn::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
