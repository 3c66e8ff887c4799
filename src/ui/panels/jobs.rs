//! The jobs drawer: every job with its progress, rate, time left, errors and pause/resume/cancel.

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::app::CairnApp;
use crate::ui::bridge::Command;
use crate::ui::theme;
use crate::ui::widgets::fixed_width;
use crate::vdfs::jobs::JobStatus;

impl CairnApp {
    pub(crate) fn jobs_drawer(&mut self, ui: &mut egui::Ui) {
        let dark = ui.visuals().dark_mode;
        ui.horizontal(|ui| {
            ui.label(RichText::new("Jobs").strong());
            let active = self
                .state
                .jobs
                .iter()
                .filter(|j| !j.status.is_terminal())
                .count();
            ui.label(RichText::new(format!("{active} active")).color(theme::weak(ui)));
        });
        ui.separator();
        if self.state.jobs.is_empty() {
            ui.label(
                RichText::new("No jobs yet. Indexing and other long work will show here.")
                    .color(theme::weak(ui)),
            );
            return;
        }
        let row_h = 26.0;
        let mut cmd = None;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_h, self.state.jobs.len(), |ui, range| {
                for j in &self.state.jobs[range] {
                    let progress = self.state.live.get(&j.id).unwrap_or(&j.progress);
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
                        let rate =
                            self.state
                                .job_rates
                                .get(&j.id)
                                .and_then(|(phase, since, from)| {
                                    let secs = since.elapsed().as_secs_f64();
                                    (phase == &progress.phase
                                        && secs > 0.5
                                        && progress.completed > *from)
                                        .then(|| (progress.completed - from) as f64 / secs)
                                });
                        let text = match (j.status, progress.total) {
                            (JobStatus::Completed, _) => "100%".to_owned(),
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
                        match j.status {
                            JobStatus::Running | JobStatus::Queued => {
                                if ui.button("Pause").clicked() {
                                    cmd = Some(Command::PauseJob(j.id));
                                }
                                if ui.button("Cancel").clicked() {
                                    cmd = Some(Command::CancelJob(j.id));
                                }
                            }
                            JobStatus::Paused | JobStatus::Interrupted => {
                                if ui.button("Resume").clicked() {
                                    cmd = Some(Command::ResumeJob(j.id));
                                }
                                if ui.button("Cancel").clicked() {
                                    cmd = Some(Command::CancelJob(j.id));
                                }
                            }
                            _ => {}
                        }
                        let mut note: Vec<String> = j.outcome.iter().cloned().collect();
                        if !j.status.is_terminal()
                            && let Some(r) = rate
                        {
                            note.push(format!("{r:.0}/s"));
                            if let Some(t) = progress.total {
                                let left = t.saturating_sub(progress.completed) as f64 / r;
                                note.push(format!(
                                    "{} left",
                                    format::duration_ms((left * 1000.0) as u64)
                                ));
                            }
                        }
                        if j.error_count > 0 {
                            note.push(format!("{} errors", j.error_count));
                        }
                        if j.run_ms > 0 {
                            note.push(format::duration_ms(j.run_ms));
                        }
                        let r = ui.label(RichText::new(note.join(" · ")).color(theme::weak(ui)));
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
        if let Some(c) = cmd {
            self.bridge.send(c);
        }
    }
}
