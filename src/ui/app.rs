//! The app struct: state drained from the bridge each frame, and the panels that draw it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui::{self};

use super::bridge::{Bridge, Command};
use super::commands::UiCommand;
use super::explorer::ViewMode;
use super::state::AppState;
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::index::location::IndexMode;
use crate::vdfs::query::browse::Item;

/// Time per frame spent applying updates before drawing (STYLE: drain on a frame budget).
const DRAIN_BUDGET: Duration = Duration::from_millis(10);

/// The eframe app.
pub struct CairnApp {
    pub(super) bridge: Bridge,
    pub(super) state: AppState,
    // Held so the core (and the open library) close when the window does.
    pub(super) core: Option<crate::vdfs::Core>,
    pub(super) started: bool,
    /// The row the inspector was last asked about.
    pub(super) inspected: Option<PathBuf>,
    /// Focus the filter box on the next frame.
    pub(super) focus_filter: bool,
    /// Focus the search box on the next frame.
    pub(super) focus_search: bool,
    /// Textures of thumbnails shown, by path.
    pub(super) textures: std::collections::HashMap<PathBuf, egui::TextureHandle>,
    /// The file whose "Open with" applications were asked for.
    pub(super) requested_apps: Option<PathBuf>,
}

impl CairnApp {
    /// An app over `bridge`, starting from `state`. `core`, if given, has its library closed
    /// when the window closes.
    pub fn new(bridge: Bridge, state: AppState, core: Option<crate::vdfs::Core>) -> CairnApp {
        CairnApp {
            bridge,
            state,
            core,
            started: false,
            inspected: None,
            focus_filter: false,
            focus_search: false,
            textures: std::collections::HashMap::new(),
            requested_apps: None,
        }
    }

    /// The current state (for tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Shows `folder` (for tests and the command line).
    pub fn go(&mut self, folder: PathBuf) {
        let cmd = self.state.navigate(folder, true);
        self.bridge.send(cmd);
    }

    /// Applies pending updates for at most [`DRAIN_BUDGET`]; asks for another frame if some
    /// are left.
    fn drain(&mut self, ctx: &egui::Context) {
        if !self.started {
            self.started = true;
            self.bridge.send(Command::Refresh);
            if self.state.explorer.folder.is_none()
                && let Some(f) = self.state.start_folder.clone()
            {
                self.go(f);
            }
        }
        let deadline = Instant::now() + DRAIN_BUDGET;
        let mut refresh = false;
        while let Some(update) = self.bridge.try_recv() {
            match self.state.apply(update) {
                Some(Command::Refresh) => refresh = true,
                Some(cmd) => self.bridge.send(cmd),
                None => {}
            }
            if Instant::now() >= deadline {
                ctx.request_repaint();
                break;
            }
        }
        if refresh {
            self.bridge.send(Command::Refresh);
        }
        self.state.explorer.default_view = Some(self.state.default_view);
        self.state.explorer.refresh_order();
        if let Some(name) = self.state.reveal.clone() {
            let e = &mut self.state.explorer;
            if let Some(row) = e
                .order
                .iter()
                .position(|&i| e.items[i as usize].name == name)
            {
                let order = e.order.clone();
                e.selection.click(&order, row);
                self.state.reveal = None;
            } else if !e.loading {
                self.state.reveal = None;
            }
        }
        self.request_details();
    }

    /// Asks the core for the inspector's details when the focused item changed.
    fn request_details(&mut self) {
        if !self.state.explorer.inspector {
            return;
        }
        let e = &self.state.explorer;
        let target = e
            .focused()
            .and_then(|i| e.path_of(i))
            .or_else(|| e.folder.clone());
        if target != self.inspected {
            self.inspected.clone_from(&target);
            if let Some(t) = target {
                self.bridge.send(Command::Inspect(t));
            }
        }
    }

    /// Carries out a user command.
    pub(super) fn run(&mut self, cmd: UiCommand) {
        let e = &mut self.state.explorer;
        match cmd {
            UiCommand::Back => {
                if let Some(to) = e.history.back(e.folder.clone()) {
                    let c = self.state.navigate(to, false);
                    self.bridge.send(c);
                }
            }
            UiCommand::Forward => {
                if let Some(to) = e.history.forward(e.folder.clone()) {
                    let c = self.state.navigate(to, false);
                    self.bridge.send(c);
                }
            }
            UiCommand::Up => {
                if let Some(p) = e.parent() {
                    self.go(p);
                }
            }
            UiCommand::Refresh => {
                if let Some(f) = e.folder.clone() {
                    let c = self.state.navigate(f, false);
                    self.bridge.send(c);
                }
                self.bridge.send(Command::Refresh);
            }
            UiCommand::ToggleHidden => {
                e.show_hidden = !e.show_hidden;
                e.dirty = true;
            }
            UiCommand::EditPath => {
                e.path_edit = Some(
                    e.folder
                        .as_ref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_default(),
                );
            }
            UiCommand::Find => self.focus_search = true,
            UiCommand::TogglePreview => {
                e.inspector = !e.inspector;
                self.inspected = None;
            }
            UiCommand::Open => {
                if let Some(item) = e.focused().cloned() {
                    self.open_item(&item);
                }
            }
            UiCommand::SelectAll => {
                let order = e.order.clone();
                e.selection.all(&order);
            }
            UiCommand::ToggleView => {
                // This folder remembers its view, and folders without their own choice follow.
                let mut p = e.current_prefs();
                p.view = if p.view == ViewMode::List {
                    ViewMode::Grid
                } else {
                    ViewMode::List
                };
                e.set_prefs(p);
                self.state.default_view = p.view;
            }
            UiCommand::AddLocation => {
                if let Some(f) = e.folder.clone() {
                    self.bridge
                        .send(Command::AddLocation(f, IndexMode::Content));
                }
            }
            UiCommand::Settings => self.state.settings_open = true,
        }
    }

    pub(super) fn send_search(&mut self) {
        self.state.search_ticket += 1;
        if !self.state.searching() {
            self.state.found = None;
            self.bridge.send(Command::StopSearch);
            return;
        }
        let within = if self.state.search_everywhere {
            None
        } else {
            self.state.explorer.folder.clone()
        };
        let now_ns = jiff::Timestamp::now().as_nanosecond() as i64;
        let f = &self.state.search_filters;
        let query = crate::vdfs::query::search::Query {
            text: self.state.search_text.trim().to_owned(),
            within,
            kinds: f.kind.into_iter().collect(),
            size: f.size.range(),
            modified: f.modified.range(now_ns),
            include_hidden: self.state.explorer.show_hidden,
            sort: self.state.search_sort,
            reverse: self.state.search_reverse,
            limit: 500,
            ..Default::default()
        };
        self.bridge.send(Command::Search {
            ticket: self.state.search_ticket,
            query: Box::new(query),
        });
    }

    pub(super) fn open_item(&mut self, item: &Item) {
        let Some(path) = self.state.explorer.path_of(item) else {
            return;
        };
        if item.kind == EntryKind::Dir {
            self.go(path);
        } else {
            self.bridge.send(Command::OpenPath(path));
        }
    }

    fn handle_keys(&mut self, ctx: &egui::Context) {
        let typing = ctx.memory(|m| m.focused().is_some()) && ctx.egui_wants_keyboard_input();
        let mut fired = Vec::new();
        ctx.input_mut(|i| {
            for c in UiCommand::ALL {
                if typing && !c.works_while_typing() {
                    continue;
                }
                if c.shortcuts().iter().any(|s| i.consume_shortcut(s)) {
                    fired.push(c);
                }
            }
        });
        for c in fired {
            self.run(c);
        }
        if typing {
            return;
        }
        let (down, up, shift, home, end) = ctx.input(|i| {
            (
                i.key_pressed(egui::Key::ArrowDown),
                i.key_pressed(egui::Key::ArrowUp) && !i.modifiers.alt,
                i.modifiers.shift,
                i.key_pressed(egui::Key::Home),
                i.key_pressed(egui::Key::End),
            )
        });
        let e = &mut self.state.explorer;
        let order = &e.order;
        if down {
            e.selection.step(order, 1, shift);
        }
        if up {
            e.selection.step(order, -1, shift);
        }
        if home {
            e.selection.step(order, -(order.len() as isize), shift);
        }
        if end {
            e.selection.step(order, order.len() as isize, shift);
        }
    }

    /// Draws one frame into `ui` (the whole window).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.drain(ui.ctx());
        if std::mem::take(&mut self.state.search_again) {
            self.send_search();
        }
        self.handle_keys(ui.ctx());
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui));
        let mut jobs_open = self.state.jobs_open;
        egui::Panel::bottom("jobs")
            .resizable(true)
            .default_size(150.0)
            .show_collapsible(ui, &mut jobs_open, |ui| self.jobs_drawer(ui));
        self.state.jobs_open = jobs_open;
        egui::Panel::left("sidebar")
            .resizable(true)
            .size_range(170.0..=420.0)
            .default_size(220.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.sidebar(ui));
            });
        if self.state.explorer.inspector {
            egui::Panel::right("inspector")
                .resizable(true)
                .size_range(240.0..=640.0)
                .default_size(320.0)
                .show(ui, |ui| self.inspector(ui));
        }
        egui::CentralPanel::default().show(ui, |ui| self.main_view(ui));
        self.new_library_dialog(ui.ctx());
        self.settings_window(ui.ctx());
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
