//! The jobs drawer: every job with its progress, rate, time left, errors and pause/resume/cancel.

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::theme;
use crate::ui::widgets::fixed_width;
use crate::vdfs::jobs::{Job as _, JobRecord, JobStatus};

/// Height of one job's row (points).
const ROW_H: f32 = 26.0;
/// Rows the drawer grows to before it scrolls.
const MAX_ROWS: usize = 6;

/// The jobs the drawer shows, and whether on a single line: every job (those not ended
/// first) when the person asked for all; else the jobs that have not ended; else, when
/// nothing runs, the newest job alone on the drawer's one line.
pub(crate) fn shown(state: &AppState) -> (Vec<&JobRecord>, bool) {
    let (open, ended): (Vec<&JobRecord>, Vec<&JobRecord>) =
        state.jobs.iter().partition(|j| !j.status.is_terminal());
    if state.jobs_all {
        (open.into_iter().chain(ended).collect(), false)
    } else if !open.is_empty() {
        (open, false)
    } else {
        (state.jobs.first().into_iter().collect(), true)
    }
}

/// The drawer's height for what it shows: one line when nothing runs, else a title line
/// and its rows (up to [`MAX_ROWS`], then it scrolls).
pub(crate) fn height(state: &AppState) -> f32 {
    match shown(state) {
        (rows, false) if !rows.is_empty() => {
            ROW_H + 10.0 + rows.len().min(MAX_ROWS) as f32 * ROW_H + 6.0
        }
        _ => ROW_H + 6.0,
    }
}

/// Draws the jobs drawer; what the person does is pushed to `actions`.
pub(crate) fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<UiCommand>) {
    let dark = ui.visuals().dark_mode;
    let (rows, one_line) = shown(state);
    let active = state
        .jobs
        .iter()
        .filter(|j| !j.status.is_terminal())
        .count();
    let more = state.jobs.len();
    let all_button = |ui: &mut egui::Ui, actions: &mut Vec<UiCommand>| {
        let label = if state.jobs_all {
            "Fewer".to_owned()
        } else {
            format!("All {more} jobs")
        };
        if more > rows.len() || state.jobs_all {
            let b = ui.small_button(label);
            if b.clicked() {
                actions.push(UiCommand::ToggleAllJobs);
            }
        }
    };
    if one_line || rows.is_empty() {
        ui.horizontal(|ui| {
            ui.set_height(ROW_H - 4.0);
            ui.label(RichText::new("Jobs").strong());
            match rows.first() {
                None => {
                    ui.label(
                        RichText::new("No jobs yet. Indexing and other long work will show here.")
                            .color(theme::weak(ui)),
                    );
                }
                Some(j) => {
                    all_button(ui, actions);
                    ui.separator();
                    row(ui, state, j, dark, actions);
                }
            }
        });
        return;
    }
    ui.horizontal(|ui| {
        ui.label(RichText::new("Jobs").strong());
        ui.label(RichText::new(format!("{active} active")).color(theme::weak(ui)));
        all_button(ui, actions);
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show_rows(ui, ROW_H, rows.len(), |ui, range| {
            for j in &rows[range] {
                ui.horizontal(|ui| {
                    ui.set_height(ROW_H - 4.0);
                    row(ui, state, j, dark, actions);
                });
            }
        });
}

/// One job: status, title, progress, its buttons, and a note (outcome, rate, time left,
/// errors, time spent).
fn row(
    ui: &mut egui::Ui,
    state: &AppState,
    j: &JobRecord,
    dark: bool,
    actions: &mut Vec<UiCommand>,
) {
    let progress = state.live.get(&j.id).unwrap_or(&j.progress);
    fixed_width(ui, 90.0, |ui| {
        ui.label(RichText::new(j.status.as_str()).color(theme::job_status(j.status, dark)));
    });
    fixed_width(ui, 300.0, |ui| {
        ui.add(egui::Label::new(&j.title).truncate());
    });
    let fraction = if j.status == JobStatus::Completed {
        Some(1.0)
    } else {
        progress.fraction()
    };
    let rates = state
        .job_rates
        .get(&j.id)
        .and_then(|(phase, since, from, from_bytes)| {
            let secs = since.elapsed().as_secs_f64();
            (phase == &progress.phase && secs > 0.5).then(|| {
                (
                    progress.completed.saturating_sub(*from) as f64 / secs,
                    progress.bytes.saturating_sub(*from_bytes) as f64 / secs,
                )
            })
        });
    let rate = rates.map(|r| r.0).filter(|&r| r > 0.0);
    // A file operation counts files and bytes: its rate is in bytes, and its
    // time left from the bytes its preview counted, when it started here.
    let file_op = j.kind == "file_operation";
    let byte_rate = rates.map(|r| r.1).filter(|&r| file_op && r > 0.0);
    // A copy with a device counts bytes only (its units are bytes).
    let in_bytes = j.kind == crate::net::job::TransferJob::KIND;
    let text = match (j.status, progress.total) {
        (JobStatus::Completed, _) => "100%".to_owned(),
        (_, Some(t)) if in_bytes => format!(
            "{} {} of {}",
            progress.phase,
            format::bytes(progress.completed),
            format::bytes(t)
        ),
        (_, Some(t)) if file_op => format!(
            "{} {}/{} files, {}",
            progress.phase,
            progress.completed,
            t,
            format::bytes(progress.bytes)
        ),
        (_, Some(t)) => {
            format!("{} {}/{}", progress.phase, progress.completed, t)
        }
        (_, None) if progress.completed > 0 => {
            format!("{} {}", progress.phase, progress.completed)
        }
        _ => progress.phase.clone(),
    };
    ui.add(
        egui::ProgressBar::new(fraction.unwrap_or(0.0))
            .desired_width(240.0)
            .text(text),
    );
    let buttons: &[UiCommand] = match j.status {
        JobStatus::Running | JobStatus::Queued => {
            &[UiCommand::PauseJob(j.id), UiCommand::CancelJob(j.id)]
        }
        JobStatus::Paused | JobStatus::Interrupted => {
            &[UiCommand::ResumeJob(j.id), UiCommand::CancelJob(j.id)]
        }
        _ => &[],
    };
    for c in buttons {
        if ui.button(c.label()).clicked() {
            actions.push(c.clone());
        }
    }
    let mut note: Vec<String> = j.outcome.iter().cloned().collect();
    if !j.status.is_terminal()
        && let Some(r) = byte_rate
    {
        note.push(format!("{}/s", format::bytes(r as u64)));
        let left = state
            .op_totals
            .get(&j.id)
            .map_or(0, |&(_, b)| b.saturating_sub(progress.bytes));
        if left > 0 {
            note.push(format!(
                "{} left",
                format::duration_ms(((left as f64 / r) * 1000.0).max(1000.0) as u64)
            ));
        }
    } else if !j.status.is_terminal()
        && let Some(r) = rate
    {
        note.push(if in_bytes {
            format!("{}/s", format::bytes(r as u64))
        } else {
            format!("{r:.0}/s")
        });
        // Nothing left is not "0 ms left": the job is finishing.
        let remaining = progress
            .total
            .map_or(0, |t| t.saturating_sub(progress.completed));
        if remaining > 0 {
            let left = remaining as f64 / r;
            note.push(format!(
                "{} left",
                format::duration_ms((left * 1000.0).max(1000.0) as u64)
            ));
        }
    }
    if j.error_count > 0 {
        note.push(format!("{} errors", j.error_count));
    }
    if j.run_ms > 0 {
        note.push(format::duration_ms(j.run_ms));
    }
    // A long outcome (a full disk: where, and what to do) wraps in the room
    // left rather than running off the window.
    let r = ui.add(egui::Label::new(RichText::new(note.join(" · ")).color(theme::weak(ui))).wrap());
    if !j.errors.is_empty() {
        r.on_hover_ui(|ui| {
            for e in j.errors.iter().take(20) {
                ui.label(format!("{}: {}", e.path().display(), e.message));
            }
            if j.error_count > 20 {
                ui.label(format!("… and {} more", j.error_count - 20));
            }
        });
    }
}
