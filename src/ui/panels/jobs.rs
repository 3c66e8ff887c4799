//! The jobs drawer: every job with its progress, rate, time left, errors and pause/resume/cancel.

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::theme;
use crate::ui::widgets::fixed_width;
use crate::vdfs::jobs::{Job as _, JobStatus};

/// Draws the jobs drawer; what the person does is pushed to `actions`.
pub(crate) fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<UiCommand>) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal(|ui| {
        ui.label(RichText::new("Jobs").strong());
        let active = state
            .jobs
            .iter()
            .filter(|j| !j.status.is_terminal())
            .count();
        ui.label(RichText::new(format!("{active} active")).color(theme::weak(ui)));
    });
    ui.separator();
    if state.jobs.is_empty() {
        ui.label(
            RichText::new("No jobs yet. Indexing and other long work will show here.")
                .color(theme::weak(ui)),
        );
        return;
    }
    let row_h = 26.0;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show_rows(ui, row_h, state.jobs.len(), |ui, range| {
            for j in &state.jobs[range] {
                let progress = state.live.get(&j.id).unwrap_or(&j.progress);
                ui.horizontal(|ui| {
                    ui.set_height(row_h - 4.0);
                    fixed_width(ui, 90.0, |ui| {
                        ui.label(
                            RichText::new(j.status.as_str())
                                .color(theme::job_status(j.status, dark)),
                        );
                    });
                    fixed_width(ui, 300.0, |ui| {
                        ui.add(egui::Label::new(&j.title).truncate());
                    });
                    let fraction = if j.status == JobStatus::Completed {
                        Some(1.0)
                    } else {
                        progress.fraction()
                    };
                    let rates =
                        state
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
                    let r = ui.add(
                        egui::Label::new(RichText::new(note.join(" · ")).color(theme::weak(ui)))
                            .wrap(),
                    );
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
                });
            }
        });
}
