//! The explorer window (egui/eframe).
//!
//! The UI owns an [`AppState`] that it updates from [`bridge::Update`]s drained each frame under
//! a time budget, and changes nothing itself: every user action (button, menu entry, key) is a
//! [`commands::UiCommand`] that [`AppState::run`] turns into state changes and
//! [`bridge::Command`]s sent to the core. No file-system, store or network call happens on the
//! UI thread.
//!
//! Layout: `app.rs` (the eframe app: drain, layout, keys), `state.rs` (the state and both ways
//! it changes), `panels/` (one file per panel), `views/` (one file per central view),
//! `dialogs.rs`, `batch_rename.rs` (the batch-rename dialog),
//! `dnd.rs` (drag and drop of items onto folders).

mod app;
pub mod batch_rename;
pub mod bridge;
pub mod commands;
mod dialogs;
pub mod dnd;
pub mod explorer;
mod palette;
mod panels;
pub mod peers;
pub mod search;
pub mod state;
pub mod tabs;
pub mod theme;
mod views;
mod widgets;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use eframe::egui;

pub use app::CairnApp;
use bridge::Bridge;
pub use state::AppState;

/// The jobs drawer's height for what `state` shows, in points: one line when nothing runs
/// (the newest job, or "No jobs yet"), else a title line and a row per job shown, up to six
/// before it scrolls.
pub fn jobs_drawer_height(state: &AppState) -> f32 {
    panels::jobs::height(state)
}

use crate::vdfs::{Core, CoreOptions};

/// Opens the window on the library `library` (or the default one) and runs until it closes.
///
/// # Errors
/// If the core cannot start (e.g. a damaged device identity) or no window can be opened (e.g.
/// no display).
pub fn run(data_dir: Option<PathBuf>, library: Option<String>) -> anyhow::Result<()> {
    let core = Core::start(CoreOptions {
        data_dir,
        resume_jobs: true,
        worker_threads: 0,
        watch: true,
    })?;
    // Copies between devices are jobs: one the window left running resumes when it opens.
    crate::net::job::register(&core);
    // Opening a library is a few file operations; doing it before the first frame means the
    // window shows the library at once rather than flashing an empty state.
    let opened = core
        .open_library(library.as_deref())
        .map(|l| (l.config(), l.path().to_owned()))
        .map_err(|e| e.to_string());
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Cairn")
            .with_app_id("cairn")
            .with_inner_size([1100.0, 720.0])
            .with_min_inner_size([640.0, 400.0]),
        ..Default::default()
    };
    // `cairn …` in a terminal meanwhile runs inside this process (the library is held here).
    crate::cli::serve::follow_open_library(core.clone());
    // What the window remembers, read once.
    let remembered = core.window_state();
    let start = start_in(&remembered);
    let hidden_columns = remembered.hidden_columns;
    let device = core.device().name;
    let data_dir = core.data_dir().data().to_owned();
    eframe::run_native(
        "Cairn",
        options,
        Box::new(move |cc| {
            theme::apply(&cc.egui_ctx);
            // CAIRN_THEME=light|dark overrides the system theme (screenshots, odd desktops).
            match std::env::var("CAIRN_THEME").as_deref() {
                Ok("light") => cc.egui_ctx.set_theme(egui::ThemePreference::Light),
                Ok("dark") => cc.egui_ctx.set_theme(egui::ThemePreference::Dark),
                _ => {}
            }
            let ctx = cc.egui_ctx.clone();
            let bridge = Bridge::start(core.clone(), Arc::new(move || ctx.request_repaint()));
            let mut state = AppState::new(device, data_dir, opened);
            if let Some(f) = start {
                state.start_folder = Some(f);
            }
            if let Some(hidden) = &hidden_columns {
                state.explorer.hidden_columns = explorer::SortKey::hidden_from(hidden);
            }
            Ok(Box::new(CairnApp::new(bridge, state, Some(core))))
        }),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
    .context(
        "cannot open the window (is a display available?); every feature is also a subcommand: \
         see `cairn --help`",
    )
}

/// The folder the window opens on: where it was left (if that is still a folder), else the
/// home folder.
pub fn start_folder(core: &Core) -> Option<PathBuf> {
    start_in(&core.window_state())
}

/// The folder to open with `remembered`: the last one shown while it is still a folder here,
/// else the home folder.
fn start_in(remembered: &crate::vdfs::home::data_dir::WindowState) -> Option<PathBuf> {
    remembered
        .last_folder
        .clone()
        .filter(|f| crate::vdfs::fs::entry::is_folder(f))
        .or_else(home_folder)
}

/// The person's home folder (`$HOME`).
pub fn home_folder() -> Option<PathBuf> {
    directories::UserDirs::new().map(|d| d.home_dir().to_owned())
}
