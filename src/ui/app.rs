//! The app struct: state drained from the bridge each frame, and the panels that draw it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{self, RichText};

use super::bridge::{Bridge, Command, Drive, LocationView, Update};
use super::commands::UiCommand;
use super::explorer::{Explorer, SortKey, ViewMode};
use super::search::SearchFilters;
use super::theme;
use crate::format;
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::index::location::{Availability, IndexMode};
use crate::vdfs::jobs::{JobId, JobProgress, JobRecord, JobStatus};
use crate::vdfs::query::browse::{Item, ListError, Source};
use crate::vdfs::{Event, LibraryConfig, LibrarySummary};

/// Time per frame spent applying updates before drawing (STYLE: drain on a frame budget).
const DRAIN_BUDGET: Duration = Duration::from_millis(10);
/// Height of a list row.
const ROW_HEIGHT: f32 = 22.0;

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
    pub live: std::collections::HashMap<JobId, JobProgress>,
    /// The open library's locations.
    pub locations: Vec<LocationView>,
    /// Mounted volumes.
    pub drives: Vec<Drive>,
    /// Favourite folders.
    pub favourites: Vec<PathBuf>,
    /// The applications that open a file (for "Open with").
    pub apps: Option<(PathBuf, Vec<crate::vdfs::platform::open_with::App>)>,
    /// A name to select once the listing shows it (after "go to this copy").
    pub reveal: Option<String>,
    /// The Duplicates view is shown instead of the folder.
    pub show_dupes: bool,
    /// The search box's text; when not empty, results replace the folder view.
    pub search_text: String,
    /// Search the whole library instead of the folder shown and below.
    pub search_everywhere: bool,
    /// Tag of the search in flight.
    pub search_ticket: u64,
    /// The search's filter chips.
    pub search_filters: SearchFilters,
    /// The search shown should be run again (the name index changed under it).
    pub search_again: bool,
    /// Order of the search results (a click on a column header).
    pub search_sort: crate::vdfs::query::search::Sort,
    /// Reverse that order.
    pub search_reverse: bool,
    /// Results of the last search: the best hits, the number of all matches and how many of
    /// them match only fuzzily.
    pub found: Option<(Vec<crate::vdfs::query::search::Hit>, usize, usize)>,
    /// The duplicate groups, once computed.
    pub dupes: Option<Vec<crate::vdfs::query::dupes::Group>>,
    /// Which copy the Duplicates view marks as kept: newest (`true`) or oldest.
    pub keep_newest: bool,
    /// The folder view.
    pub explorer: Explorer,
    /// Free and total bytes of the shown folder's volume.
    pub space: Option<(u64, u64)>,
    /// The last error to show, with when it arrived.
    pub error: Option<(String, Instant)>,
    /// Text of the "New library" dialog, when it is open.
    pub new_library: Option<String>,
    /// Whether the jobs drawer is expanded.
    pub jobs_open: bool,
    /// Whether the settings window is open.
    pub settings_open: bool,
    /// The folder to show first.
    pub start_folder: Option<PathBuf>,
    /// Thumbnails received, by path; `None` = cannot be previewed.
    pub thumbs: std::collections::HashMap<PathBuf, Option<Arc<egui::ColorImage>>>,
    /// Thumbnails asked for and not yet received.
    pub thumbs_pending: std::collections::HashSet<PathBuf>,
    /// Size of a grid cell's picture, in points (the zoom slider).
    pub grid_zoom: f32,
    /// The view new folders open in.
    pub default_view: ViewMode,
    /// Per running job: when its current phase was first seen and with which count, for the
    /// rate and the time left.
    pub job_rates: std::collections::HashMap<JobId, (String, Instant, u64)>,
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
            grid_zoom: 96.0,
            keep_newest: true,
            default_view: ViewMode::List,
            start_folder: directories::UserDirs::new().map(|d| d.home_dir().to_owned()),
            ..AppState::default()
        }
    }

    /// True while search results replace the folder view: there is text in the search box
    /// or a filter chip is set.
    pub fn searching(&self) -> bool {
        !self.search_text.trim().is_empty() || !self.search_filters.is_empty()
    }

    /// Applies one update from the core. Returns a command to send, if the update calls for
    /// one.
    pub fn apply(&mut self, update: Update) -> Option<Command> {
        match update {
            Update::Libraries(list) => self.libraries = list,
            Update::Library(r) => {
                if r.is_ok() {
                    self.jobs.clear();
                    self.live.clear();
                    self.locations.clear();
                }
                self.library = Some(r);
                return self
                    .explorer
                    .folder
                    .clone()
                    .map(|f| self.navigate(f, false));
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
            Update::Locations(l) => {
                self.locations = l;
                // A folder listed from the disk (or found changed since its scan) that an index
                // finished covering after it was listed is listed again, from the new index.
                let e = &self.explorer;
                let stale = e.source == Some(Source::Disk) || e.changed_on_disk;
                if stale
                    && !e.loading
                    && let Some(f) = e.folder.clone()
                    && self.locations.iter().any(|l| {
                        !l.indexing
                            && l.record.indexed_ms.is_some_and(|t| t > e.listed_ms)
                            && f.starts_with(l.record.path())
                    })
                {
                    return Some(self.navigate(f, false));
                }
            }
            Update::Drives(d) => self.drives = d,
            Update::Favourites(f) => self.favourites = f,
            Update::Apps { path, apps } => self.apps = Some((path, apps)),
            Update::Dupes(g) => self.dupes = Some(g),
            Update::Found {
                ticket,
                hits,
                total,
                fuzzy,
            } => {
                if ticket == self.search_ticket {
                    self.found = Some((hits, total, fuzzy));
                }
            }
            Update::NamesUpdated => self.search_again = self.searching(),
            Update::Reveal(path) => {
                self.show_dupes = false;
                self.search_text.clear();
                self.search_filters = SearchFilters::default();
                self.found = None;
                if let Some(parent) = path.parent() {
                    self.reveal = path.file_name().map(|n| n.to_string_lossy().into_owned());
                    return Some(self.navigate(parent.to_path_buf(), true));
                }
            }
            Update::Chunk { ticket, items } => {
                self.explorer.add_chunk(ticket, items);
            }
            Update::Replace {
                ticket,
                items,
                changed,
            } => {
                self.explorer.replace(ticket, items, changed);
            }
            Update::ListingDone {
                ticket,
                result,
                space,
            } => {
                if ticket == self.explorer.ticket {
                    self.explorer.loading = false;
                    self.space = space;
                    match result {
                        Ok(s) => self.explorer.source = Some(s),
                        Err(e) => self.explorer.error = Some(e),
                    }
                }
            }
            Update::Details(d) => {
                if self
                    .explorer
                    .focused()
                    .and_then(|i| self.explorer.path_of(i))
                    .as_deref()
                    == Some(d.path.as_path())
                    || self.explorer.folder.as_deref() == Some(d.path.as_path())
                {
                    self.explorer.details = Some(d);
                }
            }
            Update::Thumbnail { path, image } => {
                self.thumbs_pending.remove(&path);
                if self.thumbs.len() > 2000 {
                    self.thumbs.clear();
                }
                self.thumbs.insert(path, image);
            }
            Update::Error(e) => self.error = Some((e, Instant::now())),
            Update::Event(e) => match e {
                Event::JobProgress { job, progress } => {
                    let entry = self.job_rates.entry(job).or_insert_with(|| {
                        (progress.phase.clone(), Instant::now(), progress.completed)
                    });
                    if entry.0 != progress.phase {
                        *entry = (progress.phase.clone(), Instant::now(), progress.completed);
                    }
                    self.live.insert(job, progress);
                }
                Event::JobStatusChanged { job, status } => {
                    if let Some(j) = self.jobs.iter_mut().find(|j| j.id == job) {
                        j.status = status;
                    }
                }
                Event::JobFinished { .. } => {
                    // An index just finished: the folder shown may now come from the index.
                    return Some(Command::Refresh);
                }
                Event::JobQueued { .. } | Event::LibrariesChanged => return Some(Command::Refresh),
                Event::DeviceRenamed { name } => self.device_name = name,
                Event::LibraryOpened { .. } | Event::LibraryClosed { .. } => {}
            },
        }
        None
    }

    /// Starts showing `folder`; returns the listing command to send.
    pub fn navigate(&mut self, folder: PathBuf, record: bool) -> Command {
        let ticket = self.explorer.open(folder.clone(), record);
        Command::Navigate {
            ticket,
            path: folder,
        }
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
    core: Option<crate::vdfs::Core>,
    started: bool,
    /// The row the inspector was last asked about.
    inspected: Option<PathBuf>,
    /// Focus the filter box on the next frame.
    focus_filter: bool,
    /// Focus the search box on the next frame.
    focus_search: bool,
    /// Textures of thumbnails shown, by path.
    textures: std::collections::HashMap<PathBuf, egui::TextureHandle>,
    /// The file whose "Open with" applications were asked for.
    requested_apps: Option<PathBuf>,
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
    fn run(&mut self, cmd: UiCommand) {
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

    fn send_search(&mut self) {
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

    fn open_item(&mut self, item: &Item) {
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

    fn command_button(&mut self, ui: &mut egui::Ui, cmd: UiCommand, text: &str, enabled: bool) {
        let mut tip = cmd.label().to_owned();
        if let Some(k) = cmd.shortcut_text() {
            tip.push_str(&format!(" ({k})"));
        }
        let r = ui
            .add_enabled(enabled, egui::Button::new(text))
            .on_hover_text(tip);
        if r.clicked() {
            self.run(cmd);
        }
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.add_space(2.0);
        ui.horizontal(|ui| {
            let e = &self.state.explorer;
            let (can_back, can_forward, can_up) = (
                e.history.can_back(),
                e.history.can_forward(),
                e.parent().is_some(),
            );
            self.command_button(ui, UiCommand::Back, "Back", can_back);
            self.command_button(ui, UiCommand::Forward, "Forward", can_forward);
            self.command_button(ui, UiCommand::Up, "Up", can_up);
            ui.separator();
            self.path_bar(ui);
        });
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            let r = ui.add(
                egui::TextEdit::singleline(&mut self.state.explorer.filter)
                    .hint_text("Type to filter this folder")
                    .desired_width(220.0),
            );
            let r = r.labelled_by(label.id);
            if self.focus_filter {
                r.request_focus();
                self.focus_filter = false;
            }
            if r.changed() {
                self.state.explorer.dirty = true;
            }
            ui.separator();
            let label = ui.label("Search");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.state.search_text)
                        .hint_text("Names in the library (Ctrl+F)")
                        .desired_width(220.0),
                )
                .labelled_by(label.id);
            if self.focus_search {
                r.request_focus();
                self.focus_search = false;
            }
            let mut everywhere = self.state.search_everywhere;
            let toggled = ui
                .checkbox(&mut everywhere, "Whole library")
                .on_hover_text("Off: the folder shown and below")
                .changed();
            self.state.search_everywhere = everywhere;
            if r.changed() || toggled {
                self.send_search();
            }
            ui.separator();
            let mut hidden = self.state.explorer.show_hidden;
            if ui
                .checkbox(&mut hidden, UiCommand::ToggleHidden.label())
                .on_hover_text("Ctrl+H")
                .changed()
            {
                self.run(UiCommand::ToggleHidden);
            }
            let mut grid = self.state.explorer.current_prefs().view == ViewMode::Grid;
            if ui
                .checkbox(&mut grid, UiCommand::ToggleView.label())
                .changed()
            {
                self.run(UiCommand::ToggleView);
            }
            if grid {
                let label = ui.label("Zoom");
                ui.add(
                    egui::Slider::new(&mut self.state.grid_zoom, 48.0..=256.0).show_value(false),
                )
                .labelled_by(label.id);
            }
            let mut insp = self.state.explorer.inspector;
            if ui
                .checkbox(&mut insp, UiCommand::TogglePreview.label())
                .on_hover_text("Space")
                .changed()
            {
                self.run(UiCommand::TogglePreview);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button(UiCommand::Settings.label()).clicked() {
                    self.run(UiCommand::Settings);
                }
            });
        });
        ui.add_space(2.0);
    }

    fn path_bar(&mut self, ui: &mut egui::Ui) {
        if let Some(text) = &mut self.state.explorer.path_edit {
            let label = ui.label("Location");
            let mut out = egui::TextEdit::singleline(text)
                .desired_width(f32::INFINITY)
                .show(ui);
            let r = egui::Response::clone(&out.response).labelled_by(label.id);
            if !r.has_focus() && !r.lost_focus() {
                // Just opened (Ctrl+L): focus it with the whole path selected, so typing
                // replaces it.
                r.request_focus();
                let all = egui::text::CCursorRange::two(
                    egui::text::CCursor::new(0),
                    egui::text::CCursor::new(text.chars().count()),
                );
                out.state.cursor.set_char_range(Some(all));
                out.state.store(ui.ctx(), r.id);
            }
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let escape = ui.input(|i| i.key_pressed(egui::Key::Escape));
            if enter {
                let typed = text.trim().to_owned();
                self.state.explorer.path_edit = None;
                match crate::vdfs::sdpath::SdPath::parse(&typed, uuid::Uuid::nil()) {
                    Ok(crate::vdfs::sdpath::SdPath::Physical { path, .. }) => self.go(path),
                    Ok(crate::vdfs::sdpath::SdPath::Content { content_id }) => {
                        self.bridge.send(Command::ShowContent(content_id));
                    }
                    Err(e) => self.state.error = Some((e.to_string(), Instant::now())),
                }
            } else if escape || (r.lost_focus() && !enter) {
                self.state.explorer.path_edit = None;
            }
            return;
        }
        let Some(folder) = self.state.explorer.folder.clone() else {
            return;
        };
        let mut target = None;
        let mut acc = PathBuf::new();
        let comps: Vec<_> = folder.components().collect();
        for (i, c) in comps.iter().enumerate() {
            acc.push(c);
            let name = match c {
                std::path::Component::RootDir => "/".to_owned(),
                other => other.as_os_str().to_string_lossy().into_owned(),
            };
            if i > 1 {
                ui.label(RichText::new("/").color(theme::weak(ui)));
            }
            let last = i + 1 == comps.len();
            if ui
                .add(
                    egui::Button::new(if last {
                        RichText::new(name).strong()
                    } else {
                        RichText::new(name)
                    })
                    .frame(false),
                )
                .clicked()
            {
                target = Some(acc.clone());
            }
        }
        if ui
            .add(egui::Button::new(RichText::new("Edit").color(theme::weak(ui))).frame(false))
            .on_hover_text("Type a path (Ctrl+L)")
            .clicked()
        {
            self.run(UiCommand::EditPath);
        }
        if let Some(t) = target
            && Some(&t) != self.state.explorer.folder.as_ref()
        {
            self.go(t);
        }
    }

    fn sidebar(&mut self, ui: &mut egui::Ui) {
        ui.add_space(4.0);
        let label = ui.label(
            RichText::new("LIBRARY")
                .small()
                .strong()
                .color(theme::weak(ui)),
        );
        let current = self.state.library_config().map(|c| c.name.clone());
        let mut open = None;
        egui::ComboBox::from_id_salt("library_switcher")
            .selected_text(current.unwrap_or_else(|| "None".to_owned()))
            .width(ui.available_width() - 8.0)
            .show_ui(ui, |ui| {
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
                    if ui.selectable_label(selected, text).clicked() && !selected {
                        open = Some(l.config.id);
                    }
                }
            })
            .response
            .labelled_by(label.id);
        if let Some(id) = open {
            self.bridge.send(Command::OpenLibrary(id));
        }
        if ui.small_button("New library…").clicked() {
            self.state.new_library = Some(String::new());
        }
        if ui
            .selectable_label(self.state.show_dupes, "Duplicates")
            .on_hover_text("Every group of identical files in the library")
            .clicked()
        {
            self.state.show_dupes = !self.state.show_dupes;
            if self.state.show_dupes {
                self.state.dupes = None;
                self.bridge.send(Command::FindDupes);
            }
        }
        if let Some(Err(e)) = &self.state.library {
            ui.label(RichText::new(e).color(theme::error(ui.visuals().dark_mode)));
        }

        ui.add_space(10.0);
        ui.label(
            RichText::new("LOCATIONS")
                .small()
                .strong()
                .color(theme::weak(ui)),
        );
        let shown = self.state.explorer.folder.clone();
        let mut go = None;
        let mut cmd = None;
        if self.state.locations.is_empty() {
            ui.label(RichText::new("No folder indexed yet").color(theme::weak(ui)));
        }
        for l in &self.state.locations {
            let path = l.record.path();
            let selected = shown.as_ref() == Some(&path);
            let state = match (&l.availability, l.indexing) {
                (_, true) => "indexing…".to_owned(),
                (Availability::Offline(_), _) => "offline".to_owned(),
                (Availability::Missing(_), _) => "missing".to_owned(),
                (Availability::Online, _) => match l.record.indexed_ms {
                    Some(_) => format!("{} files", l.record.stats.files),
                    None => "not indexed".to_owned(),
                },
            };
            let r = ui
                .selectable_label(selected, format!("{}  \u{00b7} {state}", l.record.name()))
                .on_hover_text(path.display().to_string());
            if r.clicked() {
                go = Some(path.clone());
            }
            let id = l.record.id;
            r.context_menu(|ui| {
                if ui.button("Rescan").clicked() {
                    cmd = Some(Command::RescanLocation(id));
                    ui.close();
                }
                ui.menu_button("Index mode", |ui| {
                    for m in [IndexMode::Shallow, IndexMode::Content, IndexMode::Deep] {
                        if ui.radio(l.record.mode == m, m.as_str()).clicked() {
                            cmd = Some(Command::SetLocationMode(id, m));
                            ui.close();
                        }
                    }
                });
                if ui
                    .button("Remove from library")
                    .on_hover_text("Forgets the index; no file is touched")
                    .clicked()
                {
                    cmd = Some(Command::RemoveLocation(id));
                    ui.close();
                }
            });
        }
        let can_add = self.state.explorer.folder.is_some()
            && !matches!(self.state.explorer.source, Some(Source::Index { .. }));
        if ui
            .add_enabled(can_add, egui::Button::new("Index this folder").small())
            .on_hover_text("Add the folder shown as a location and index it")
            .clicked()
        {
            self.run(UiCommand::AddLocation);
        }
        if ui
            .add(egui::Button::new("Add a folder…").small())
            .on_hover_text("Choose a folder to index with the system's folder picker")
            .clicked()
        {
            self.bridge.send(Command::PickLocation);
        }

        ui.add_space(10.0);
        ui.label(
            RichText::new("FAVOURITES")
                .small()
                .strong()
                .color(theme::weak(ui)),
        );
        if self.state.favourites.is_empty() {
            ui.label(RichText::new("Right-click a folder to add it").color(theme::weak(ui)));
        }
        for f in &self.state.favourites {
            let name = f.file_name().map_or_else(
                || f.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let r = ui
                .selectable_label(shown.as_ref() == Some(f), name)
                .on_hover_text(f.display().to_string());
            if r.clicked() {
                go = Some(f.clone());
            }
            r.context_menu(|ui| {
                if ui.button("Remove from favourites").clicked() {
                    cmd = Some(Command::Favourite(f.clone(), false));
                    ui.close();
                }
            });
        }

        ui.add_space(10.0);
        ui.label(
            RichText::new("DRIVES")
                .small()
                .strong()
                .color(theme::weak(ui)),
        );
        for d in &self.state.drives {
            let selected = shown.as_ref() == Some(&d.mount_point);
            let r = ui
                .selectable_label(selected, &d.name)
                .on_hover_text(format!(
                    "{} ({}) — {} free of {}",
                    d.mount_point.display(),
                    d.fs_type,
                    format::bytes(d.free),
                    format::bytes(d.total)
                ));
            if r.clicked() {
                go = Some(d.mount_point.clone());
            }
        }
        if let Some(home) = self.state.start_folder.clone() {
            ui.add_space(10.0);
            ui.label(
                RichText::new("PLACES")
                    .small()
                    .strong()
                    .color(theme::weak(ui)),
            );
            if ui
                .selectable_label(shown.as_ref() == Some(&home), "Home")
                .clicked()
            {
                go = Some(home);
            }
        }
        if let Some(c) = cmd {
            self.bridge.send(c);
        }
        if let Some(p) = go {
            self.go(p);
        }
    }

    fn main_view(&mut self, ui: &mut egui::Ui) {
        if self.state.show_dupes {
            self.dupes_view(ui);
            return;
        }
        if self.state.searching() {
            self.results_view(ui);
            return;
        }
        let dark = ui.visuals().dark_mode;
        let e = &self.state.explorer;
        if let Some(err) = &e.error {
            let (title, body, hint) = match err {
                ListError::Offline(why) => (
                    "This location is offline",
                    why.clone(),
                    "Connect the drive and press F5. Its index is kept meanwhile.",
                ),
                ListError::Missing(why) => (
                    "This folder is gone",
                    why.clone(),
                    "It may have been moved or deleted. Go up (Backspace) or back (Alt+Left).",
                ),
                ListError::Denied(why) => (
                    "Permission denied",
                    why.clone(),
                    "Ask the folder's owner for access, or open another folder.",
                ),
                ListError::NotAFolder(why) => (
                    "Not a folder",
                    why.clone(),
                    "Open it from its folder instead.",
                ),
                ListError::Other(why) => (
                    "This folder cannot be shown",
                    why.clone(),
                    "Press F5 to try again.",
                ),
            };
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() * 0.3);
                ui.label(RichText::new(title).size(18.0).strong());
                ui.label(RichText::new(body).color(theme::error(dark)));
                ui.label(RichText::new(hint).color(theme::weak(ui)));
            });
            return;
        }
        if e.folder.is_none() {
            ui.centered_and_justified(|ui| ui.label("Pick a location or a drive on the left"));
            return;
        }
        if e.order.is_empty() {
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() * 0.3);
                if e.loading {
                    ui.spinner();
                } else if !e.filter.is_empty() {
                    ui.label(
                        RichText::new(format!("Nothing here matches \u{201c}{}\u{201d}", e.filter))
                            .size(16.0),
                    );
                } else if e.items.is_empty() {
                    ui.label(RichText::new("This folder is empty").size(16.0));
                } else {
                    ui.label(RichText::new(format!("{} hidden items", e.items.len())).size(16.0));
                    ui.label(RichText::new("Show them with Ctrl+H").color(theme::weak(ui)));
                }
            });
            return;
        }
        match e.current_prefs().view {
            ViewMode::List => self.list_view(ui),
            ViewMode::Grid => self.grid_view(ui),
        }
    }

    fn results_view(&mut self, ui: &mut egui::Ui) {
        use egui_extras::{Column, TableBuilder};
        let changed = ui
            .horizontal(|ui| {
                ui.label("Filter");
                self.state.search_filters.chips(ui)
            })
            .inner;
        if changed {
            self.send_search();
        }
        let Some((hits, total, fuzzy)) = &self.state.found else {
            ui.centered_and_justified(|ui| ui.spinner());
            return;
        };
        let where_ = if self.state.search_everywhere {
            "in the library"
        } else {
            "here and below"
        };
        let text = self.state.search_text.trim();
        let what = if text.is_empty() {
            String::new()
        } else {
            format!(" for \u{201c}{text}\u{201d}")
        };
        let similar = if *fuzzy > 0 {
            format!(" ({fuzzy} similar)")
        } else {
            String::new()
        };
        let shown = if hits.len() < *total {
            format!(", best {} shown", hits.len())
        } else {
            String::new()
        };
        ui.label(
            RichText::new(format!(
                "{} matches{what} {where_}{similar}{shown}",
                format::count(*total as u64)
            ))
            .strong(),
        );
        if hits.is_empty() {
            ui.label(
                RichText::new(if self.state.search_everywhere {
                    "Nothing in the library matches. Try fewer words or filters."
                } else {
                    "Nothing here matches. Try \"Whole library\" or fewer filters."
                })
                .color(theme::weak(ui)),
            );
            return;
        }
        let dark = ui.visuals().dark_mode;
        let mut go = None;
        let mut resort = None;
        TableBuilder::new(ui)
            .id_salt("search_results")
            .striped(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(260.0).at_least(120.0).clip(true))
            .column(Column::remainder().at_least(160.0).clip(true))
            .column(Column::initial(90.0))
            .column(Column::initial(140.0))
            .header(ROW_HEIGHT, |mut h| {
                use crate::vdfs::query::search::Sort;
                let (sort, reverse) = (self.state.search_sort, self.state.search_reverse);
                for (t, by) in [
                    ("Name", Some(Sort::Name)),
                    ("Folder", None),
                    ("Size", Some(Sort::Size)),
                    ("Modified", Some(Sort::Modified)),
                ] {
                    h.col(|ui| {
                        let Some(by) = by else {
                            ui.label(RichText::new(t).strong());
                            return;
                        };
                        // Click: sort by this column; again: the other way; a third time:
                        // back to best match first.
                        let clicked = ui
                            .add(egui::Button::new(RichText::new(t).strong()).frame(false))
                            .on_hover_text("Sort the results by this column")
                            .clicked();
                        if sort == by {
                            // Name runs A to Z; size and date largest and newest first.
                            theme::sort_arrow(ui, (by == Sort::Name) != reverse);
                        }
                        if clicked {
                            resort = Some(match (sort == by, reverse) {
                                (false, _) => (by, false),
                                (true, false) => (by, true),
                                (true, true) => (Sort::Relevance, false),
                            });
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, hits.len(), |mut row| {
                    let hit = &hits[row.index()];
                    let name = hit
                        .path
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                    let folder = hit
                        .path
                        .parent()
                        .map_or_else(String::new, |p| p.display().to_string());
                    row.col(|ui| {
                        theme::kind_badge(ui, hit.kind, hit.content_kind, dark);
                        ui.add(egui::Label::new(name).truncate().selectable(false));
                    });
                    row.col(|ui| {
                        ui.add(
                            egui::Label::new(RichText::new(folder).color(theme::weak(ui)))
                                .truncate()
                                .selectable(false),
                        );
                    });
                    row.col(|ui| {
                        ui.label(if hit.kind == EntryKind::Dir {
                            "—".to_owned()
                        } else {
                            format::bytes(hit.size)
                        });
                    });
                    row.col(|ui| {
                        ui.label(format::time_ms(hit.mtime_ns / 1_000_000));
                    });
                    let r = row.response();
                    if r.double_clicked() || r.clicked() {
                        go = Some(hit.path.clone());
                    }
                });
            });
        if let Some((by, reverse)) = resort {
            self.state.search_sort = by;
            self.state.search_reverse = reverse;
            self.send_search();
        }
        if let Some(p) = go
            && let Some(c) = self.state.apply(Update::Reveal(p))
        {
            self.bridge.send(c);
        }
    }

    fn dupes_view(&mut self, ui: &mut egui::Ui) {
        let Some(groups) = &self.state.dupes else {
            ui.centered_and_justified(|ui| ui.spinner());
            return;
        };
        let wasted = crate::vdfs::query::dupes::total_wasted(groups);
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("{} groups of identical files", groups.len())).strong());
            ui.label(format!("{} could be freed", format::bytes(wasted)));
            ui.separator();
            ui.label("Keep");
            ui.radio_value(&mut self.state.keep_newest, true, "newest");
            ui.radio_value(&mut self.state.keep_newest, false, "oldest");
        });
        ui.label(
            RichText::new("Found by sampled content hash; nothing is deleted from here. Click a copy to show it.")
                .color(theme::weak(ui)),
        );
        ui.separator();
        if groups.is_empty() {
            ui.label("No duplicates. Index locations in Content mode to find them.");
            return;
        }
        let rule = if self.state.keep_newest {
            crate::vdfs::query::dupes::Keep::Newest
        } else {
            crate::vdfs::query::dupes::Keep::Oldest
        };
        let keeps = crate::vdfs::query::dupes::keep(groups, &rule);
        // One row per group header and per copy, so the list is virtualised row by row.
        let rows: Vec<(usize, Option<usize>)> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, grp)| {
                std::iter::once((g, None)).chain((0..grp.members.len()).map(move |m| (g, Some(m))))
            })
            .collect();
        let mut go = None;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, ROW_HEIGHT, rows.len(), |ui, range| {
                for &(g, m) in &rows[range] {
                    let grp = &groups[g];
                    ui.horizontal(|ui| {
                        ui.set_height(ROW_HEIGHT - 4.0);
                        match m {
                            None => {
                                ui.label(
                                    RichText::new(format!(
                                        "{} copies of {} \u{00b7} {} wasted",
                                        grp.members.len(),
                                        format::bytes(grp.size),
                                        format::bytes(grp.wasted)
                                    ))
                                    .strong(),
                                );
                            }
                            Some(i) => {
                                let member = &grp.members[i];
                                let kept = keeps[g] == Some(i);
                                fixed_width(ui, 50.0, |ui| {
                                    if kept {
                                        ui.label(RichText::new("keep").color(theme::job_status(
                                            JobStatus::Completed,
                                            ui.visuals().dark_mode,
                                        )));
                                    }
                                });
                                if ui.link(member.path.display().to_string()).clicked() {
                                    go = Some(member.path.clone());
                                }
                                ui.label(
                                    RichText::new(format::time_ms(member.mtime_ns / 1_000_000))
                                        .color(theme::weak(ui)),
                                );
                            }
                        }
                    });
                }
            });
        if let Some(p) = go
            && let Some(c) = self.state.apply(Update::Reveal(p))
        {
            self.bridge.send(c);
        }
    }

    fn list_view(&mut self, ui: &mut egui::Ui) {
        use egui_extras::{Column, TableBuilder};
        let prefs = self.state.explorer.current_prefs();
        let mut sort = None;
        let mut clicked: Option<(usize, egui::Modifiers, bool)> = None;
        let mut context: Option<(usize, ContextAction)> = None;
        let apps = self.state.apps.clone();
        let mut want_apps: Option<PathBuf> = None;
        let mut open_with: Option<(PathBuf, crate::vdfs::platform::open_with::App)> = None;
        let dark = ui.visuals().dark_mode;
        let cursor = self.state.explorer.selection.cursor;
        let scroll_to = self.state.explorer.selection.cursor;
        let e = &self.state.explorer;
        // Column widths are remembered per layout (inspector shown or not, window width in
        // 64-pixel steps), so the columns re-fit when either changes.
        let width_step = (ui.available_width() / 64.0) as u32;
        let mut table = TableBuilder::new(ui)
            .id_salt(("listing", self.state.explorer.inspector, width_step))
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::remainder().at_least(200.0).clip(true))
            .column(Column::initial(90.0).at_least(60.0))
            .column(Column::initial(140.0).at_least(80.0))
            .column(Column::initial(100.0).at_least(60.0));
        if let Some(row) = scroll_to {
            table = table.scroll_to_row(row, None);
        }
        table
            .header(ROW_HEIGHT, |mut header| {
                for (key, title) in [
                    (SortKey::Name, "Name"),
                    (SortKey::Size, "Size"),
                    (SortKey::Modified, "Modified"),
                    (SortKey::Kind, "Kind"),
                ] {
                    header.col(|ui| {
                        if ui
                            .add(egui::Button::new(RichText::new(title).strong()).frame(false))
                            .clicked()
                        {
                            sort = Some(key);
                        }
                        if prefs.sort == key {
                            theme::sort_arrow(ui, prefs.ascending);
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, e.order.len(), |mut row| {
                    let r = row.index();
                    let item = &e.items[e.order[r] as usize];
                    let selected = e.selection.items.contains(&e.order[r]);
                    row.set_selected(selected);
                    row.col(|ui| {
                        theme::kind_badge(ui, item.kind, item.content_kind, dark);
                        let mut text = RichText::new(&item.name);
                        if item.hidden {
                            text = text.color(theme::weak(ui));
                        }
                        if cursor == Some(r) {
                            text = text.underline();
                        }
                        ui.add(egui::Label::new(text).truncate().selectable(false));
                    });
                    row.col(|ui| {
                        ui.label(size_text(item));
                    });
                    row.col(|ui| {
                        ui.label(format::time_ms(item.mtime_ns / 1_000_000));
                    });
                    row.col(|ui| {
                        ui.label(kind_text(item));
                    });
                    let resp = row.response();
                    if resp.clicked() {
                        clicked = Some((r, resp.ctx.input(|i| i.modifiers), false));
                    }
                    if resp.double_clicked() {
                        clicked = Some((r, egui::Modifiers::NONE, true));
                    }
                    resp.context_menu(|ui| {
                        for a in ContextAction::ALL {
                            if ui.button(a.label()).clicked() {
                                context = Some((r, a));
                                ui.close();
                            }
                        }
                        if item.kind == EntryKind::File
                            && let Some(folder) = &e.folder
                        {
                            let path = item.path_in(folder);
                            ui.menu_button("Open with", |ui| {
                                ui.set_min_width(160.0);
                                ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
                                match &apps {
                                    Some((p, list)) if p == &path => {
                                        if list.is_empty() {
                                            ui.label("No application declares this type");
                                        }
                                        for app in list {
                                            if ui.button(&app.name).clicked() {
                                                open_with = Some((path.clone(), app.clone()));
                                                ui.close();
                                            }
                                        }
                                    }
                                    _ => {
                                        ui.spinner();
                                        want_apps = Some(path.clone());
                                    }
                                }
                            });
                        }
                    });
                });
            });
        if let Some(k) = sort {
            self.state.explorer.sort_by(k);
        }
        self.after_click(clicked);
        if let Some((r, a)) = context {
            self.context_action(r, a, ui.ctx());
        }
        if let Some(p) = want_apps
            && self.state.apps.as_ref().is_none_or(|(q, _)| q != &p)
            && self.requested_apps.as_ref() != Some(&p)
        {
            self.requested_apps = Some(p.clone());
            self.bridge.send(Command::AppsFor(p));
        }
        if let Some((p, app)) = open_with {
            self.bridge.send(Command::OpenWith(p, app));
        }
    }

    fn grid_view(&mut self, ui: &mut egui::Ui) {
        let e = &self.state.explorer;
        let thumbs = &self.state.thumbs;
        let pending = &mut self.state.thumbs_pending;
        let textures = &mut self.textures;
        let z = self.state.grid_zoom;
        let cell = egui::vec2(z + 32.0, z * 0.75 + 48.0);
        let per_row = ((ui.available_width() / cell.x).floor() as usize).max(1);
        let rows = e.order.len().div_ceil(per_row);
        let dark = ui.visuals().dark_mode;
        let mut clicked = None;
        let mut wanted = Vec::new();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, cell.y, rows, |ui, range| {
                for row in range {
                    ui.horizontal(|ui| {
                        for col in 0..per_row {
                            let r = row * per_row + col;
                            let Some(&idx) = e.order.get(r) else { break };
                            let item = &e.items[idx as usize];
                            let selected = e.selection.items.contains(&idx);
                            let (rect, resp) = ui.allocate_exact_size(cell, egui::Sense::click());
                            if selected {
                                ui.painter().rect_filled(
                                    rect.shrink(2.0),
                                    6.0,
                                    ui.visuals().selection.bg_fill,
                                );
                            }
                            let frame = egui::Rect::from_center_size(
                                rect.center() - egui::vec2(0.0, 16.0),
                                egui::vec2(z, z * 0.75),
                            );
                            let mut drawn = false;
                            if item.content_kind
                                == crate::vdfs::content::filetype::ContentKind::Image
                                && let Some(folder) = &e.folder
                            {
                                let path = item.path_in(folder);
                                match thumbs.get(&path) {
                                    Some(Some(img)) => {
                                        let tex =
                                            textures.entry(path.clone()).or_insert_with(|| {
                                                ui.ctx().load_texture(
                                                    path.display().to_string(),
                                                    (**img).clone(),
                                                    egui::TextureOptions::LINEAR,
                                                )
                                            });
                                        let size = tex.size_vec2();
                                        let scale =
                                            (frame.width() / size.x).min(frame.height() / size.y);
                                        let r = egui::Rect::from_center_size(
                                            frame.center(),
                                            size * scale,
                                        );
                                        let uv = egui::Rect::from_min_max(
                                            egui::pos2(0.0, 0.0),
                                            egui::pos2(1.0, 1.0),
                                        );
                                        ui.painter().image(tex.id(), r, uv, egui::Color32::WHITE);
                                        drawn = true;
                                    }
                                    Some(None) => {}
                                    None => {
                                        if pending.insert(path.clone()) {
                                            wanted.push((path, item.cas.map(|c| c.content_uuid())));
                                        }
                                    }
                                }
                            }
                            if !drawn {
                                let side = (z * 0.55).max(24.0);
                                let icon = egui::Rect::from_center_size(
                                    frame.center(),
                                    egui::vec2(side, side),
                                );
                                theme::paint_kind_icon(
                                    ui.painter(),
                                    icon,
                                    item.kind,
                                    item.content_kind,
                                    dark,
                                );
                            }
                            let galley = ui.painter().layout(
                                item.name.clone(),
                                egui::FontId::proportional(12.0),
                                ui.visuals().text_color(),
                                cell.x - 8.0,
                            );
                            let pos = egui::pos2(
                                rect.center().x - galley.size().x.min(cell.x - 8.0) / 2.0,
                                rect.bottom() - 34.0,
                            );
                            ui.painter().galley(pos, galley, ui.visuals().text_color());
                            if resp.clicked() {
                                clicked = Some((r, resp.ctx.input(|i| i.modifiers), false));
                            }
                            if resp.double_clicked() {
                                clicked = Some((r, egui::Modifiers::NONE, true));
                            }
                        }
                    });
                }
            });
        for (path, content) in wanted {
            self.bridge.send(Command::Thumbnail { path, content });
        }
        if self.textures.len() > 600 {
            self.textures.clear();
        }
        self.after_click(clicked);
    }

    fn after_click(&mut self, clicked: Option<(usize, egui::Modifiers, bool)>) {
        let Some((r, mods, double)) = clicked else {
            return;
        };
        let e = &mut self.state.explorer;
        let order = e.order.clone();
        if double {
            e.selection.click(&order, r);
            if let Some(item) = e.focused().cloned() {
                self.open_item(&item);
            }
        } else if mods.command || mods.ctrl {
            e.selection.toggle(&order, r);
        } else if mods.shift {
            e.selection.extend(&order, r);
        } else {
            e.selection.click(&order, r);
        }
    }

    fn context_action(&mut self, row: usize, a: ContextAction, ctx: &egui::Context) {
        let e = &mut self.state.explorer;
        if !e.selection.items.contains(&e.order[row]) {
            let order = e.order.clone();
            e.selection.click(&order, row);
        }
        let Some(item) = e.focused().cloned() else {
            return;
        };
        let Some(path) = e.path_of(&item) else { return };
        match a {
            ContextAction::Open => self.open_item(&item),
            ContextAction::Reveal => self.bridge.send(Command::Reveal(path)),
            ContextAction::CopyPath => ctx.copy_text(path.display().to_string()),
            ContextAction::Inspect => {
                self.state.explorer.inspector = true;
                self.inspected = None;
            }
            ContextAction::Favourite => {
                let folder = if item.kind == EntryKind::Dir {
                    path
                } else {
                    path.parent().map_or(path.clone(), Path::to_path_buf)
                };
                self.bridge.send(Command::Favourite(folder, true));
            }
        }
    }

    fn inspector(&mut self, ui: &mut egui::Ui) {
        let e = &self.state.explorer;
        let item = e.focused().cloned();
        let Some(d) = e.details.clone() else {
            ui.label(RichText::new("Select an item to see its details").color(theme::weak(ui)));
            return;
        };
        let mut go = None;
        let mut want_thumb = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            let name = d.path.file_name().map_or_else(
                || d.path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            ui.label(RichText::new(name).strong().size(16.0));
            egui::Grid::new("inspector_grid")
                .num_columns(2)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    let mut row = |k: &str, v: String| {
                        ui.label(RichText::new(k).color(theme::weak(ui)));
                        ui.add(egui::Label::new(v).wrap());
                        ui.end_row();
                    };
                    if let Some(it) = &item {
                        row("Kind", kind_text(it));
                        row(
                            "Size",
                            if it.kind == EntryKind::Dir && it.counts.is_none() {
                                "—".into()
                            } else {
                                format!("{} ({} bytes)", format::bytes(it.size), it.size)
                            },
                        );
                        row("Modified", format::time_ms(it.mtime_ns / 1_000_000));
                    }
                    if let Some(t) = &d.type_name {
                        row("Type", t.clone());
                    }
                    if let Some(m) = &d.mime {
                        row("MIME", m.clone());
                    }
                    if let Some((bytes, files, dirs)) = d.folder {
                        row(
                            "Contains",
                            format!("{} in {files} files, {dirs} folders", format::bytes(bytes)),
                        );
                    }
                    if let Some(c) = &d.cas {
                        row("cas_id", c.clone());
                    }
                    if let Some(u) = &d.content_uuid {
                        row("Content", u.clone());
                    }
                    row("Where", d.path.display().to_string());
                });
            if !d.other_copies.is_empty() {
                ui.add_space(8.0);
                let n = d.other_copies.len();
                let volumes: std::collections::BTreeSet<&Path> =
                    d.other_copies.iter().map(|c| c.volume.as_path()).collect();
                ui.label(
                    RichText::new(format!(
                        "{} copies in this library: this one and {n} other{}",
                        n + 1,
                        if n == 1 { "" } else { "s" }
                    ))
                    .strong(),
                );
                for c in &d.other_copies {
                    if ui
                        .link(c.path.display().to_string())
                        .on_hover_text("Go there")
                        .clicked()
                    {
                        go = Some(c.path.clone());
                    }
                    ui.label(
                        RichText::new(format!(
                            "in {} \u{00b7} on {}",
                            c.location_path.display(),
                            c.volume.display()
                        ))
                        .small()
                        .color(theme::weak(ui)),
                    );
                }
                if let Some(v) = &d.volume
                    && volumes.len() == 1
                    && volumes.contains(v.as_path())
                {
                    ui.label(
                        RichText::new(format!(
                            "Every copy is on the same drive ({}): losing it loses them all",
                            v.display()
                        ))
                        .color(theme::weak(ui)),
                    );
                }
            } else if d.cas.is_some() {
                ui.add_space(8.0);
                ui.label(RichText::new("The only copy in this library").color(theme::weak(ui)));
            }
            if let Some(it) = &item
                && it.content_kind == crate::vdfs::content::filetype::ContentKind::Image
            {
                let path = d.path.clone();
                match self.state.thumbs.get(&path) {
                    Some(Some(img)) => {
                        let tex = self.textures.entry(path.clone()).or_insert_with(|| {
                            ui.ctx().load_texture(
                                path.display().to_string(),
                                (**img).clone(),
                                egui::TextureOptions::LINEAR,
                            )
                        });
                        let size = tex.size_vec2();
                        let w = ui.available_width().min(size.x * 2.0);
                        ui.add_space(8.0);
                        ui.add(egui::Image::new((
                            tex.id(),
                            egui::vec2(w, w * size.y / size.x),
                        )));
                    }
                    Some(None) => {}
                    None => {
                        if self.state.thumbs_pending.insert(path.clone()) {
                            want_thumb = Some((path, it.cas.map(|c| c.content_uuid())));
                        }
                    }
                }
            }
            if let Some(t) = &d.text_preview {
                ui.add_space(8.0);
                ui.label(RichText::new("Preview").strong());
                ui.add(egui::Label::new(RichText::new(t).monospace().size(11.0)).wrap());
            }
        });
        if let Some((path, content)) = want_thumb {
            self.bridge.send(Command::Thumbnail { path, content });
        }
        if let Some(p) = go
            && let Some(c) = self.state.apply(Update::Reveal(p))
        {
            self.bridge.send(c);
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
            let e = &self.state.explorer;
            let shown = e.order.len();
            let mut text = format!("{shown} item{}", if shown == 1 { "" } else { "s" });
            if e.items.len() > shown {
                text.push_str(&format!(" ({} hidden or filtered)", e.items.len() - shown));
            }
            if e.loading {
                text.push_str(" · loading…");
            }
            ui.label(text);
            let sel = e.selection.items.len();
            if sel > 0 {
                let bytes: u64 = e.selected().map(|i| i.size).sum();
                ui.separator();
                ui.label(format!("{sel} selected ({})", format::bytes(bytes)));
            }
            if let Some((free, total)) = self.state.space {
                ui.separator();
                ui.label(format!(
                    "{} free of {}",
                    format::bytes(free),
                    format::bytes(total)
                ));
            }
            if let Some(Source::Index { location, .. }) = e.source {
                ui.separator();
                if e.changed_on_disk {
                    ui.label(
                        RichText::new("changed since the last scan")
                            .color(theme::job_status(JobStatus::Paused, dark)),
                    );
                    if ui.small_button("Rescan").clicked() {
                        self.bridge.send(Command::RescanLocation(location));
                    }
                } else {
                    ui.label(RichText::new("from the index").color(theme::weak(ui)));
                }
            }
            if let Some((err, at)) = &self.state.error
                && at.elapsed() < Duration::from_secs(10)
            {
                ui.separator();
                ui.label(RichText::new(err).color(theme::error(dark)));
                ui.ctx().request_repaint_after(Duration::from_secs(10));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(
                    RichText::new(format!("Device: {}", self.state.device_name))
                        .color(theme::weak(ui)),
                );
            });
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
                let label = ui.label("Library name");
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

    fn settings_window(&mut self, ctx: &egui::Context) {
        let mut open = self.state.settings_open;
        egui::Window::new("Settings")
            .open(&mut open)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(RichText::new("Theme").strong());
                let mut pref = ctx.options(|o| o.theme_preference);
                ui.horizontal(|ui| {
                    ui.radio_value(&mut pref, egui::ThemePreference::System, "System");
                    ui.radio_value(&mut pref, egui::ThemePreference::Light, "Light");
                    ui.radio_value(&mut pref, egui::ThemePreference::Dark, "Dark");
                });
                ctx.set_theme(pref);
                ui.add_space(6.0);
                ui.label(RichText::new("Folders open in").strong());
                ui.horizontal(|ui| {
                    ui.radio_value(&mut self.state.default_view, ViewMode::List, "List");
                    ui.radio_value(&mut self.state.default_view, ViewMode::Grid, "Grid");
                });
                ui.add_space(6.0);
                ui.label(RichText::new("Thumbnail size").strong());
                ui.add(egui::Slider::new(&mut self.state.grid_zoom, 48.0..=256.0).suffix(" pt"));
                ui.add_space(6.0);
                let mut hidden = self.state.explorer.show_hidden;
                if ui.checkbox(&mut hidden, "Show hidden files").changed() {
                    self.state.explorer.show_hidden = hidden;
                    self.state.explorer.dirty = true;
                }
            });
        self.state.settings_open = open;
    }
}

/// Actions of a row's context menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContextAction {
    Open,
    Reveal,
    CopyPath,
    Inspect,
    Favourite,
}

impl ContextAction {
    const ALL: [ContextAction; 5] = [
        ContextAction::Open,
        ContextAction::Reveal,
        ContextAction::CopyPath,
        ContextAction::Inspect,
        ContextAction::Favourite,
    ];

    fn label(self) -> &'static str {
        match self {
            ContextAction::Open => "Open",
            ContextAction::Reveal => "Reveal in file manager",
            ContextAction::CopyPath => "Copy path",
            ContextAction::Inspect => "Show details",
            ContextAction::Favourite => "Add to favourites",
        }
    }
}

fn size_text(item: &Item) -> String {
    match (item.kind, item.counts) {
        (EntryKind::Dir, Some(_)) => format::bytes(item.size),
        (EntryKind::Dir, None) => "—".to_owned(),
        _ => format::bytes(item.size),
    }
}

fn kind_text(item: &Item) -> String {
    match item.kind {
        EntryKind::Dir => "Folder".to_owned(),
        EntryKind::File => {
            let k = item.content_kind.as_str();
            let mut c = k.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().collect::<String>() + c.as_str()
            })
        }
        other => {
            let t = other.as_str().replace('_', " ");
            let mut c = t.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().collect::<String>() + c.as_str()
            })
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
