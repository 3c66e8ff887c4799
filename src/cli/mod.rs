//! The command line: `cairn` opens the window; `cairn <subcommand>` works headless.
//!
//! Every subcommand is a thin call into [`Core`]; output is a table for people or, with
//! `--json`, JSON for scripts (one document, or one object per line for progress streams).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::json;

mod index;

use crate::format;
use crate::vdfs::jobs::diagnostic::{DiagnosticJob, batch_counts};
use crate::vdfs::jobs::{JobHandle, JobId, JobRecord, JobStatus};
use crate::vdfs::{Core, CoreOptions, Event, Library};

/// Cairn — a local-first file manager.
///
/// Run `cairn` alone to open the explorer window on your default library ("My Library" is
/// created the first time). Use a subcommand to work without a window.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// Keep everything (device identity, settings, libraries, logs) in DIR. Without it, Cairn
    /// uses a `cairn-data` folder beside the executable if there is one, else your user data
    /// folders.
    #[arg(long, global = true, env = "CAIRN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The library to use, by name or id (default: the default library).
    #[arg(long, global = true, value_name = "NAME")]
    pub library: Option<String>,

    /// Print JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    pub json: bool,

    /// Also log to stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// What to do; none opens the window.
    #[command(subcommand)]
    pub command: Option<Command>,
}

const AFTER_HELP: &str = "\
Examples:
  cairn                               open the explorer window
  cairn library list                  show your libraries
  cairn library create \"Photos\"       make a new library
  cairn --library Photos jobs list    show the jobs of the library \"Photos\"
  cairn --data-dir /media/usb/cairn-data library list
                                      use a portable data folder";

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, inspect, rename and delete libraries.
    #[command(subcommand)]
    Library(LibraryCommand),
    /// Show or rename this device.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// List, pause, resume and cancel background jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Add, list, rescan, change and remove indexed folders (locations).
    #[command(subcommand)]
    Location(index::LocationCommand),
    /// List a folder: from the index inside a location, else straight from the disk.
    Ls(index::LsArgs),
    /// Show everything Cairn knows about a file or folder.
    Stat(index::StatArgs),
    /// Index status of every location.
    #[command(subcommand)]
    Index(index::IndexCommand),
    /// Hash every copy of each content in full (BLAKE3) and report copies that only look
    /// alike and files changed without a new modification time.
    VerifyContent(index::VerifyArgs),
    /// Find files in the library by name, kind, extension, size, date and place.
    Search(Box<index::SearchArgs>),
    /// Duplicate files, from the index: groups, wasted space, which copy to keep.
    Dupes(index::DupesArgs),
    /// How many copies of a file exist and where; files that exist only once; files missing
    /// from a backup location.
    Redundancy(index::RedundancyArgs),
    /// Self-checks for developers.
    #[command(subcommand, hide = true)]
    Debug(DebugCommand),
}

/// `cairn library …`
#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// Create a library.
    Create {
        /// Display name; any characters are fine, the folder name is made safe.
        name: String,
        /// A short description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List libraries (`*` marks the default).
    List,
    /// Show a library's details (default: the --library one, else the default).
    Info {
        /// Name or id.
        library: Option<String>,
    },
    /// Rename a library (its display name and its folder).
    Rename {
        /// Current name or id.
        library: String,
        /// New display name.
        new_name: String,
    },
    /// Make a library the one opened when none is named.
    SetDefault {
        /// Name or id.
        library: String,
    },
    /// Delete a library's catalogue (index, tags, notes, jobs). Your files are not touched.
    Delete {
        /// Name or id.
        library: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// `cairn device …`
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Show this device's id, name and public key.
    Show,
    /// Rename this device (the name peers see).
    Rename {
        /// New name.
        name: String,
    },
}

/// `cairn jobs …`
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs that are not finished (with --all, every job).
    List {
        /// Include completed, failed and cancelled jobs.
        #[arg(long)]
        all: bool,
    },
    /// Pause a job that is queued or interrupted, so it waits until resumed.
    Pause {
        /// Job id.
        id: JobId,
    },
    /// Resume a paused or interrupted job and wait for it, showing progress. Stopping with
    /// Ctrl+C is safe: the job resumes later from its last checkpoint.
    Resume {
        /// Job id; omit with --all.
        id: Option<JobId>,
        /// Resume every interrupted job.
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Cancel a job that has not finished.
    Cancel {
        /// Job id.
        id: JobId,
    },
}

/// `cairn debug …` (hidden).
#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Run the diagnostic job in the foreground: N batches, each committed with its checkpoint.
    DiagnosticJob {
        /// Number of batches.
        #[arg(long, default_value_t = 20)]
        batches: u64,
        /// Simulated work per batch, in ms.
        #[arg(long, default_value_t = 50)]
        batch_ms: u64,
    },
    /// Show how many times each batch of a diagnostic job was committed.
    DiagnosticReport {
        /// Job id.
        id: JobId,
    },
    /// Print every entry of the index (path, kind, size, mtime, cas_id), sorted, one per line.
    DumpIndex,
    /// Time name queries in this process (index already loaded): each query of FILE (one
    /// per line; `\t`-separated `kind=…`, `size=LO..HI`, `in=PATH` add filters) RUNS times;
    /// prints each query's median and the percentiles over all of them.
    SearchBench {
        /// The queries, one per line.
        file: PathBuf,
        /// Runs per query (after one warm-up run).
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Results per query.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

/// Runs a parsed command line. With no subcommand it opens the window.
///
/// # Errors
/// Any failure, as one message naming what it concerns.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        return crate::ui::run(cli.data_dir, cli.library);
    };
    let core = Core::start(CoreOptions {
        data_dir: cli.data_dir.clone(),
        resume_jobs: false,
        worker_threads: 2,
    })?;
    let out = Output { json: cli.json };
    let lib = cli.library.as_deref();
    match command {
        Command::Library(c) => library(&core, &out, lib, c),
        Command::Device(c) => device(&core, &out, c),
        Command::Jobs(c) => jobs(&core, &out, lib, c),
        Command::Debug(c) => debug(&core, &out, lib, c),
        Command::Location(c) => index::location(&core, &out, lib, c),
        Command::Ls(a) => index::ls(&core, &out, lib, &a),
        Command::Stat(a) => index::stat(&core, &out, lib, &a),
        Command::Index(c) => index::index(&core, &out, lib, c),
        Command::VerifyContent(a) => index::verify(&core, &out, lib, &a),
        Command::Dupes(a) => index::dupes(&core, &out, lib, &a),
        Command::Search(a) => index::search(&core, &out, lib, &a),
        Command::Redundancy(a) => index::redundancy(&core, &out, lib, &a),
    }
}

pub(crate) struct Output {
    json: bool,
}

impl Output {
    pub(crate) fn json(&self, value: &serde_json::Value) {
        println!("{}", serde_json::to_string_pretty(value).expect("json"));
    }
}

fn library(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    c: LibraryCommand,
) -> anyhow::Result<()> {
    match c {
        LibraryCommand::Create { name, description } => {
            let s = core.create_library(&name, &description)?;
            if out.json {
                out.json(&serde_json::to_value(&s)?);
            } else {
                println!("Created library \"{}\" ({})", s.config.name, s.config.id);
                println!("  {}", s.path.display());
            }
        }
        LibraryCommand::List => {
            let (list, damaged) = core.list_libraries()?;
            if out.json {
                out.json(&json!({ "libraries": list, "damaged": damaged }));
                return Ok(());
            }
            let width = list
                .iter()
                .map(|l| l.config.name.chars().count())
                .max()
                .unwrap_or(4)
                .max(4);
            println!("  {:width$}  {:36}  {:>10}  STATUS", "NAME", "ID", "SIZE");
            for l in &list {
                let status = match &l.in_use_by {
                    Some(h) => format!("in use by {h}"),
                    None => "closed".to_owned(),
                };
                println!(
                    "{} {:width$}  {}  {:>10}  {}",
                    if l.is_default { '*' } else { ' ' },
                    l.config.name,
                    l.config.id,
                    format::bytes(l.size_bytes),
                    status
                );
            }
            for d in &damaged {
                println!("! {} — {}", d.path.display(), d.problem);
            }
        }
        LibraryCommand::Info { library } => {
            let info = core.library_info(library.as_deref().or(selected))?;
            if out.json {
                out.json(&serde_json::to_value(&info)?);
                return Ok(());
            }
            let c = &info.summary.config;
            println!("Name:         {}", c.name);
            println!("Id:           {}", c.id);
            if !c.description.is_empty() {
                println!("Description:  {}", c.description);
            }
            println!("Folder:       {}", info.summary.path.display());
            println!(
                "Created:      {}",
                format::time_ms(c.created_at.as_millisecond())
            );
            println!("Size:         {}", format::bytes(info.summary.size_bytes));
            println!(
                "Default:      {}",
                if info.summary.is_default { "yes" } else { "no" }
            );
            match (&info.summary.in_use_by, info.schema_version, info.jobs) {
                (Some(h), _, _) => println!("Status:       in use by {h}"),
                (None, Some(v), Some(j)) => {
                    println!("Status:       closed");
                    println!("Schema:       version {v}");
                    println!("Jobs:         {j}");
                }
                _ => {}
            }
            println!(
                "Settings:     job_concurrency = {}, log_level = {}",
                c.settings.job_concurrency, c.settings.log_level
            );
        }
        LibraryCommand::Rename { library, new_name } => {
            let s = core.rename_library(&library, &new_name)?;
            if out.json {
                out.json(&serde_json::to_value(&s)?);
            } else {
                println!("Renamed to \"{}\" ({})", s.config.name, s.path.display());
            }
        }
        LibraryCommand::SetDefault { library } => {
            let c = core.set_default_library(&library)?;
            if out.json {
                out.json(&json!({ "default_library": c.id }));
            } else {
                println!("\"{}\" is now the default library", c.name);
            }
        }
        LibraryCommand::Delete { library, yes } => {
            let (path, config) = core.find_library(&library)?;
            if !yes {
                confirm_delete(&config.name, &path)?;
            }
            let c = core.delete_library(&config.id.to_string())?;
            if out.json {
                out.json(&json!({ "deleted": c.id, "name": c.name }));
            } else {
                println!("Deleted library \"{}\"", c.name);
            }
        }
    }
    Ok(())
}

fn confirm_delete(name: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("refusing to delete library \"{name}\" without confirmation; pass --yes");
    }
    eprintln!(
        "This deletes the catalogue of \"{name}\" ({}): its index, tags, notes and jobs.\n\
         Your files are not touched. Type the library name to confirm:",
        path.display()
    );
    eprint!("> ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the confirmation")?;
    if line.trim() != name {
        bail!("the name did not match; nothing was deleted");
    }
    Ok(())
}

fn device(core: &Core, out: &Output, c: DeviceCommand) -> anyhow::Result<()> {
    let info = match c {
        DeviceCommand::Show => core.device(),
        DeviceCommand::Rename { name } => core.rename_device(&name)?,
    };
    if out.json {
        out.json(&serde_json::to_value(&info)?);
    } else {
        println!("Name:        {}", info.name);
        println!("Id:          {}", info.id);
        println!("Public key:  {}", info.public_key);
        println!(
            "Created:     {}",
            format::time_ms(info.created_at.as_millisecond())
        );
        println!("Data folder: {}", core.data_dir().data().display());
    }
    Ok(())
}

fn jobs(core: &Core, out: &Output, selected: Option<&str>, c: JobsCommand) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    match c {
        JobsCommand::List { all } => {
            let mut list = lib.jobs().list()?;
            list.retain(|j| all || !j.status.is_terminal());
            list.reverse();
            if out.json {
                out.json(&serde_json::to_value(job_rows(&list))?);
            } else if list.is_empty() {
                println!(
                    "No {}jobs in \"{}\".",
                    if all { "" } else { "unfinished " },
                    lib.config().name
                );
            } else {
                println!(
                    "{:>5}  {:11}  {:>9}  {:>6}  TITLE",
                    "ID", "STATUS", "PROGRESS", "ERRORS"
                );
                for j in &list {
                    println!(
                        "{:>5}  {:11}  {:>9}  {:>6}  {}",
                        j.id,
                        j.status.as_str(),
                        progress_text(j),
                        j.error_count,
                        j.title
                    );
                }
            }
        }
        JobsCommand::Pause { id } => {
            lib.jobs().pause(id)?;
            report_status(out, &lib.jobs().get(id)?);
        }
        JobsCommand::Cancel { id } => {
            let handle = lib.jobs().cancel(id)?;
            handle.wait();
            report_status(out, &lib.jobs().get(id)?);
        }
        JobsCommand::Resume { id, all } => {
            let ids: Vec<JobId> = match (id, all) {
                (Some(id), _) => vec![id],
                (None, true) => lib
                    .jobs()
                    .list()?
                    .iter()
                    .filter(|j| j.status == JobStatus::Interrupted)
                    .map(|j| j.id)
                    .collect(),
                (None, false) => {
                    bail!("name a job id, or pass --all to resume every interrupted job")
                }
            };
            if ids.is_empty() && !out.json {
                println!("No interrupted jobs.");
            }
            for id in ids {
                let mut events = core.events().subscribe();
                let handle = lib.jobs().resume(id)?;
                follow(out, &lib, &handle, &mut events)?;
            }
        }
    }
    Ok(())
}

fn debug(core: &Core, out: &Output, selected: Option<&str>, c: DebugCommand) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    match c {
        DebugCommand::DiagnosticJob { batches, batch_ms } => {
            let mut events = core.events().subscribe();
            let handle = lib.jobs().spawn(DiagnosticJob::new(batches, batch_ms))?;
            follow(out, &lib, &handle, &mut events)?;
        }
        DebugCommand::DumpIndex => {
            for line in crate::vdfs::index::dump(lib.store())? {
                println!("{line}");
            }
        }
        DebugCommand::SearchBench { file, runs, limit } => {
            index::search_bench(out, &lib, &file, runs, limit)?;
        }
        DebugCommand::DiagnosticReport { id } => {
            let counts = batch_counts(lib.store(), id)?;
            if out.json {
                out.json(&json!({ "job": id, "batches": counts }));
            } else {
                for (batch, n) in counts {
                    println!("batch {batch}: committed {n}×");
                }
            }
        }
    }
    Ok(())
}

/// Shows a job's progress until this run of it ends; fails if it did not complete.
pub(crate) fn follow(
    out: &Output,
    lib: &Library,
    handle: &JobHandle,
    events: &mut tokio::sync::broadcast::Receiver<Event>,
) -> anyhow::Result<()> {
    let id = handle.id();
    let title = lib.jobs().get(id)?.title;
    let bar = if out.json {
        println!("{}", json!({ "event": "job_started", "job": id }));
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_prefix(title);
        bar
    };
    let counting = indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg} {pos}")
        .expect("progress template");
    let measured = indicatif::ProgressStyle::with_template(
        "{prefix}: {msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)",
    )
    .expect("progress template")
    .progress_chars("=> ");
    bar.set_style(counting.clone());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    loop {
        match events.blocking_recv() {
            Ok(Event::JobProgress { job, progress }) if job == id => {
                if out.json {
                    println!(
                        "{}",
                        json!({ "event": "job_progress", "job": id, "progress": progress })
                    );
                }
                bar.set_message(progress.phase.clone());
                match progress.total {
                    Some(t) => {
                        bar.set_style(measured.clone());
                        bar.set_length(t);
                    }
                    None => bar.set_style(counting.clone()),
                }
                bar.set_position(progress.completed);
            }
            Ok(Event::JobFinished { job, .. }) if job == id => break,
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        }
    }
    bar.finish_and_clear();
    let status = handle.wait();
    let record = lib.jobs().get(id)?;
    report_status(out, &record);
    if status != JobStatus::Completed {
        bail!(
            "job {id} ended {status}{}",
            record.outcome.map(|o| format!(": {o}")).unwrap_or_default()
        );
    }
    Ok(())
}

pub(crate) fn report_status(out: &Output, j: &JobRecord) {
    if out.json {
        println!(
            "{}",
            serde_json::to_string(&job_rows(std::slice::from_ref(j))[0]).expect("json")
        );
    } else {
        let outcome = j
            .outcome
            .as_deref()
            .map(|o| format!(" — {o}"))
            .unwrap_or_default();
        println!("Job {} is {}{outcome}", j.id, j.status);
        for e in j.errors.iter().take(20) {
            println!("  {}: {}", e.path().display(), e.message);
        }
        if j.error_count > 20 {
            println!("  … and {} more errors", j.error_count - 20);
        }
    }
}

fn progress_text(j: &JobRecord) -> String {
    match (j.progress.fraction(), j.status) {
        (_, JobStatus::Completed) => "100%".to_owned(),
        (Some(f), _) => format!("{:.0}%", f * 100.0),
        (None, _) if j.progress.completed > 0 => j.progress.completed.to_string(),
        _ => "—".to_owned(),
    }
}

fn job_rows(list: &[JobRecord]) -> Vec<serde_json::Value> {
    list.iter()
        .map(|j| {
            json!({
                "id": j.id,
                "kind": j.kind,
                "title": j.title,
                "status": j.status,
                "progress": j.progress,
                "checkpoints": j.checkpoints,
                "created_ms": j.created_ms,
                "started_ms": j.started_ms,
                "finished_ms": j.finished_ms,
                "run_ms": j.run_ms,
                "error_count": j.error_count,
                "errors": j.errors.iter().map(|e| json!({
                    "path": e.path().to_string_lossy(),
                    "message": e.message,
                })).collect::<Vec<_>>(),
                "outcome": j.outcome,
            })
        })
        .collect()
}
