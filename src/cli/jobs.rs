//! `cairn jobs …`: list, pause, resume and cancel jobs; and following a job's progress to
//! its end, which every command that starts one shares.

use anyhow::bail;
use clap::Subcommand;
use serde_json::json;

use super::Output;
use crate::vdfs::jobs::{JobHandle, JobId, JobRecord, JobStatus};
use crate::vdfs::{Core, Event, Library};

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

pub(super) fn jobs(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    c: JobsCommand,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    match c {
        JobsCommand::List { all } => {
            let mut list = lib.jobs().list()?;
            list.retain(|j| all || !j.status.is_terminal());
            list.reverse();
            if out.json {
                out.json(&serde_json::to_value(job_rows(&list))?);
            } else if list.is_empty() {
                crate::outln!(
                    "No {}jobs in \"{}\".",
                    if all { "" } else { "unfinished " },
                    lib.config().name
                );
            } else {
                crate::outln!(
                    "{:>5}  {:11}  {:>9}  {:>6}  TITLE",
                    "ID",
                    "STATUS",
                    "PROGRESS",
                    "ERRORS"
                );
                for j in &list {
                    crate::outln!(
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
                crate::outln!("No interrupted jobs.");
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

/// Prints one line of a job's live output. A reader that went away (`| head -1`) or a full disk
/// stops the printing, never the job: the job this command started still runs to its end.
fn live_line(line: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(crate::cli::out::stdout(), "{line}");
}

/// Shows a job's progress until this run of it ends; fails if it did not complete.
pub(super) fn follow(
    out: &Output,
    lib: &Library,
    handle: &JobHandle,
    events: &mut tokio::sync::broadcast::Receiver<Event>,
) -> anyhow::Result<()> {
    let id = handle.id();
    let title = lib.jobs().get(id)?.title;
    let bar = if out.json {
        live_line(json!({ "event": "job_started", "job": id }));
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
    // Jobs queued while this one runs are its follow-ups (e.g. thumbnails after a Deep index):
    // the command waits for them too, so none is left interrupted when it exits.
    let mut follow_ups = Vec::new();
    // The outcome as the job ended, from the event: when the store itself failed (a full
    // disk), it could not be written into the job's record.
    let mut ended_with = None;
    loop {
        match events.blocking_recv() {
            Ok(Event::JobQueued { job, .. }) if job != id => follow_ups.push(job),
            Ok(Event::JobProgress { job, progress }) if job == id => {
                if out.json {
                    live_line(json!({ "event": "job_progress", "job": id, "progress": progress }));
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
            Ok(Event::JobFinished { job, outcome, .. }) if job == id => {
                ended_with = outcome;
                break;
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        }
    }
    bar.finish_and_clear();
    let status = handle.wait();
    let record = lib.jobs().get(id)?;
    if status == JobStatus::Completed || out.json {
        report_status(out, &record);
    } else {
        // The error line below says how it ended, once; the per-path errors come first.
        report_errors(&record);
    }
    if status != JobStatus::Completed {
        let outcome = record.outcome.or(ended_with);
        let hint = match status {
            JobStatus::Paused
                if outcome
                    .as_deref()
                    .is_some_and(|o| o.contains("free some space")) =>
            {
                // The outcome says the disk is full, where and what is free; roughly what the
                // rest of the job needs: about 250 bytes of catalogue per entry not yet written
                // (the measured figure on the generated 1M-entry tree), with room for redb's
                // copy-on-write pages.
                let need = record
                    .progress
                    .total
                    .map(|t| t.saturating_sub(record.progress.completed))
                    .map(|n| n.saturating_mul(250).saturating_mul(2).max(1 << 20));
                let mut text = String::new();
                if let Some(n) = need {
                    text.push_str(&format!(" (about {} more needed)", crate::format::bytes(n)));
                }
                text.push_str(&format!(": run `cairn jobs resume {id}`"));
                text
            }
            JobStatus::Paused | JobStatus::Interrupted => {
                format!("; run `cairn jobs resume {id}` to go on")
            }
            _ => String::new(),
        };
        // The outcome of a paused job already starts with "paused: ": say it once.
        let prefix = format!("{status}: ");
        bail!(
            "job {id} ended {status}{}{hint}",
            outcome
                .map(|o| format!(": {}", o.strip_prefix(&prefix).unwrap_or(&o)))
                .unwrap_or_default()
        );
    }
    for job in follow_ups {
        if let Some(h) = lib.jobs().handle(job) {
            follow(out, lib, &h, events)?;
        }
    }
    Ok(())
}

fn report_status(out: &Output, j: &JobRecord) {
    if out.json {
        crate::outln!(
            "{}",
            serde_json::to_string(&job_rows(std::slice::from_ref(j))[0]).expect("json")
        );
    } else {
        let outcome = j
            .outcome
            .as_deref()
            .map(|o| format!(" — {o}"))
            .unwrap_or_default();
        crate::outln!("Job {} is {}{outcome}", j.id, j.status);
        report_errors(j);
    }
}

/// The job's first 20 per-path errors, and how many more there are.
fn report_errors(j: &JobRecord) {
    for e in j.errors.iter().take(20) {
        crate::outln!("  {}: {}", e.path().display(), e.message);
    }
    if j.error_count > 20 {
        crate::outln!("  … and {} more errors", j.error_count - 20);
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
