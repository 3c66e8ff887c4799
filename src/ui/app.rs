//! The app struct: state drained from the bridge each frame, and the panels that draw it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui::{self, RichText};

use super::bridge::{Bridge, Command, Update};
use super::theme;
use crate::format;
use crate::vdfs::jobs::{JobId, JobProgress, JobRecord, JobStatus};
use crate::vdfs::{Core, Event, LibraryConfig, LibrarySummary};

/// Time per frame spent applying updates before drawing (STYLE: drain on a frame budget).
const DRAIN_BUDGET: Duration = Duration::from_millis(10);

/// Everything the window shows; changed only by updates from the core and by pure UI
/// interaction (text being typed, panels toggled).
#[derive(Debug, Default)]
pub struct AppState {
    /// This device's name.
    pub device_name: String,
    /// The data folder, shown in the status bar.
    pub data_dir: PathBuf,
    /// The open library and its folder, or why it could not be opened.
    pub library: Option<Result<(LibraryConfig, PathBuf), String>>,
    /// Libraries in the data folder.
    pub libraries: Vec<LibrarySummary>,
    /// The open library's jobs, newest first.
    pub jobs: Vec<JobRecord>,
    /// Live progress newer than `jobs`.
    pub live: HashMap<JobId, JobProgress>,
    /// The last error to show, with when it arrived.
    pub error: Option<(String, Instant)>,
    /// Text of the "New library" dialog, when it is open.
    pub new_library: Option<String>,
    /// Whether the jobs drawer is expanded.
    pub jobs_open: bool,
}

impl AppState {
    /// The state before the first update.
    pub fn new(
        device_name: String,
        data_dir: PathBuf,
        library: Result<(LibraryConfig, PathBuf), String>,
    ) -> AppState {
        AppState {
            device_name,
            data_dir,
            library: Some(library),
            jobs_open: true,
            ..AppState::default()
        }
    }

    /// Applies one update from the core. Returns a command to send, if the update calls for
    /// fresh data.
    pub fn apply(&mut self, update: Update) -> Option<Command> {
        match update {
            Update::Libraries(list) => self.libraries = list,
            Update::Library(r) => {
                if r.is_ok() {
                    self.jobs.clear();
                    self.live.clear();
                }
                self.library = Some(r);
            }
            Update::Jobs(mut jobs) => {
                jobs.reverse();
                for j in &jobs {
                    if j.status != JobStatus::Running {
                        self.live.remove(&j.id);
                    }
                }
                self.jobs = jobs;
            }
            Update::Error(e) => self.error = Some((e, Instant::now())),
            Update::Event(e) => match e {
                Event::JobProgress { job, progress } => {
                    self.live.insert(job, progress);
                }
                Event::JobStatusChanged { job, status } => {
                    if let Some(j) = self.jobs.iter_mut().find(|j| j.id == job) {
                        j.status = status;
                    }
                }
                Event::JobQueued { .. } | Event::JobFinished { .. } | Event::LibrariesChanged => {
                    return Some(Command::Refresh);
                }
                Event::DeviceRenamed { name } => self.device_name = name,
                Event::LibraryOpened { .. } | Event::LibraryClosed { .. } => {}
            },
        }
        None
    }

    fn library_config(&self) -> Option<&LibraryConfig> {
        match &self.library {
            Some(Ok((c, _))) => Some(c),
            _ => None,
        }
    }
}

/// The eframe app.
pub struct CairnApp {
    bridge: Bridge,
    state: AppState,
    // Held so the core (and the open library) close when the window does.
    core: Option<Core>,
    started: bool,
}

impl CairnApp {
    /// An app over `bridge`, starting from `state`. `core`, if given, has its library closed
    /// when the window closes.
    pub fn new(bridge: Bridge, state: AppState, core: Option<Core>) -> CairnApp {
        CairnApp {
            bridge,
            state,
            core,
            started: false,
        }
    }

    /// The current state (for tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Applies pending updates for at most [`DRAIN_BUDGET`]; asks for another frame if some
    /// are left.
    fn drain(&mut self, ctx: &egui::Context) {
        if !self.started {
            self.started = true;
            self.bridge.send(Command::Refresh);
        }
        let deadline = Instant::now() + DRAIN_BUDGET;
        let mut refresh = false;
        while let Some(update) = self.bridge.try_recv() {
            refresh |= self.state.apply(update).is_some();
            if Instant::now() >= deadline {
                ctx.request_repaint();
                break;
            }
        }
        if refresh {
            self.bridge.send(Command::Refresh);
        }
    }

    /// Draws one frame into `ui` (the whole window).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.drain(ui.ctx());
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui));
        let mut jobs_open = self.state.jobs_open;
        egui::Panel::bottom("jobs")
            .resizable(true)
            .default_size(180.0)
            .show_collapsible(ui, &mut jobs_open, |ui| self.jobs_drawer(ui));
        self.state.jobs_open = jobs_open;
        egui::Panel::left("sidebar")
            .resizable(true)
            .default_size(220.0)
            .show(ui, |ui| self.sidebar(ui));
        egui::CentralPanel::default().show(ui, |ui| self.main_view(ui));
        self.new_library_dialog(ui.ctx());
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("Cairn");
            ui.separator();
            let current = self.state.library_config().map(|c| c.name.clone());
            let label = ui.label("Library");
            let mut open = None;
            egui::ComboBox::from_id_salt("library_switcher")
                .selected_text(current.clone().unwrap_or_else(|| "None".to_owned()))
                .show_ui(ui, |ui| {
                    for l in &self.state.libraries {
                        let selected = self
                            .state
                            .library_config()
                            .is_some_and(|c| c.id == l.config.id);
                        if ui.selectable_label(selected, &l.config.name).clicked() && !selected {
                            open = Some(l.config.id);
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            if let Some(id) = open {
                self.bridge.send(Command::OpenLibrary(id));
            }
            if ui.button("New library…").clicked() {
                self.state.new_library = Some(String::new());
            }
        });
    }

    fn sidebar(&mut self, ui: &mut egui::Ui) {
        ui.add_space(4.0);
        match &self.state.library {
            Some(Ok((config, path))) => {
                ui.label(RichText::new(&config.name).strong().size(16.0));
                if !config.description.is_empty() {
                    ui.label(&config.description);
                }
                ui.label(
                    RichText::new(format!(
                        "Created {}",
                        format::time_ms(config.created_at.as_millisecond())
                    ))
                    .color(theme::weak(ui)),
                );
                ui.label(
                    RichText::new(path.display().to_string())
                        .small()
                        .color(theme::weak(ui)),
                )
                .on_hover_text("The library folder: copy it to back up the whole catalogue");
            }
            Some(Err(_)) | None => {
                ui.label(RichText::new("No library open").strong());
            }
        }
        ui.add_space(12.0);
        ui.label(
            RichText::new("LIBRARIES")
                .small()
                .strong()
                .color(theme::weak(ui)),
        );
        let mut open = None;
        for l in &self.state.libraries {
            let selected = self
                .state
                .library_config()
                .is_some_and(|c| c.id == l.config.id);
            let text = if l.is_default {
                format!("{} (default)", l.config.name)
            } else {
                l.config.name.clone()
            };
            let r = ui.selectable_label(selected, text);
            let r = match &l.in_use_by {
                Some(h) if !selected => r.on_hover_text(format!("In use by {h}")),
                _ => r.on_hover_text(format!("{} on disk", format::bytes(l.size_bytes))),
            };
            if r.clicked() && !selected {
                open = Some(l.config.id);
            }
        }
        if let Some(id) = open {
            self.bridge.send(Command::OpenLibrary(id));
        }
    }

    fn main_view(&mut self, ui: &mut egui::Ui) {
        let dark = ui.visuals().dark_mode;
        match &self.state.library {
            Some(Err(e)) => {
                ui.vertical_centered(|ui| {
                    ui.add_space(ui.available_height() * 0.3);
                    ui.label(
                        RichText::new("The library could not be opened")
                            .size(18.0)
                            .strong(),
                    );
                    ui.label(RichText::new(e).color(theme::error(dark)));
                    ui.label("Pick another library on the left, or create a new one.");
                });
            }
            Some(Ok((config, _))) => {
                let name = config.name.clone();
                ui.vertical_centered(|ui| {
                    ui.add_space(ui.available_height() * 0.3);
                    ui.label(
                        RichText::new(format!("\u{201c}{name}\u{201d} has no locations yet"))
                            .size(18.0)
                            .strong(),
                    );
                    ui.label(
                        RichText::new(
                            "A location is a folder Cairn indexes. Your files stay where they are; \
                             the library only catalogues them.",
                        )
                        .color(theme::weak(ui)),
                    );
                });
            }
            None => {
                ui.centered_and_justified(|ui| ui.spinner());
            }
        }
    }

    fn jobs_drawer(&mut self, ui: &mut egui::Ui) {
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
                        fixed_width(ui, 260.0, |ui| {
                            ui.add(egui::Label::new(&j.title).truncate());
                        });
                        let fraction = if j.status == JobStatus::Completed {
                            Some(1.0)
                        } else {
                            progress.fraction()
                        };
                        let bar = egui::ProgressBar::new(fraction.unwrap_or(0.0))
                            .desired_width(220.0)
                            .show_percentage();
                        ui.add(bar);
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
                        if j.error_count > 0 {
                            note.push(format!("{} errors", j.error_count));
                        }
                        if j.run_ms > 0 {
                            note.push(format::duration_ms(j.run_ms));
                        }
                        ui.label(RichText::new(note.join(" · ")).color(theme::weak(ui)));
                    });
                }
            });
        if let Some(c) = cmd {
            self.bridge.send(c);
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        let dark = ui.visuals().dark_mode;
        ui.horizontal(|ui| {
            let jobs_label = if self.state.jobs_open {
                "Hide jobs"
            } else {
                "Show jobs"
            };
            if ui.small_button(jobs_label).clicked() {
                self.state.jobs_open = !self.state.jobs_open;
            }
            ui.separator();
            ui.label(format!("Device: {}", self.state.device_name));
            ui.separator();
            ui.label(
                RichText::new(format!("Data: {}", self.state.data_dir.display()))
                    .color(theme::weak(ui)),
            );
            if let Some((e, at)) = &self.state.error
                && at.elapsed() < Duration::from_secs(10)
            {
                ui.separator();
                ui.label(RichText::new(e).color(theme::error(dark)));
                ui.ctx().request_repaint_after(Duration::from_secs(10));
            }
        });
    }

    fn new_library_dialog(&mut self, ctx: &egui::Context) {
        let Some(name) = &mut self.state.new_library else {
            return;
        };
        let mut close = false;
        let mut create = None;
        egui::Window::new("New library")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                let label = ui.label("Name");
                let r = ui.text_edit_singleline(name).labelled_by(label.id);
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if !enter && ui.memory(|m| m.focused().is_none()) {
                    r.request_focus();
                }
                ui.horizontal(|ui| {
                    let valid = !name.trim().is_empty();
                    if ui.add_enabled(valid, egui::Button::new("Create")).clicked()
                        || (enter && valid)
                    {
                        create = Some(name.trim().to_owned());
                    }
                    if ui.button("Cancel").clicked()
                        || ui.input(|i| i.key_pressed(egui::Key::Escape))
                    {
                        close = true;
                    }
                });
            });
        if let Some(n) = create {
            self.bridge.send(Command::CreateLibrary(n));
            close = true;
        }
        if close {
            self.state.new_library = None;
        }
    }
}

impl eframe::App for CairnApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(core) = self.core.take() {
            core.close_library();
        }
    }
}

/// Lays out `add` left-aligned in a column of fixed `width`.
fn fixed_width(ui: &mut egui::Ui, width: f32, add: impl FnOnce(&mut egui::Ui)) {
    ui.allocate_ui_with_layout(
        egui::vec2(width, ui.available_height()),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_width(width);
            add(ui);
        },
    );
}
