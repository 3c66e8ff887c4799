//! The eframe app: drains updates from the core on a frame budget, lays out the panels, turns
//! keys into commands, and carries out what the panels asked for after the frame is drawn.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui;

use super::bridge::{Bridge, Command};
use super::commands::{CommandKind, UiCommand};
use super::state::{AppState, Outbox};
use super::widgets::Textures;
use super::{dialogs, panels, views};

/// Time per frame spent applying updates before drawing (STYLE: drain on a frame budget).
const DRAIN_BUDGET: Duration = Duration::from_millis(10);

/// The eframe app.
pub struct CairnApp {
    bridge: Bridge,
    state: AppState,
    // Held so the core (and the open library) close when the window does.
    core: Option<crate::vdfs::Core>,
    started: bool,
    /// Textures of thumbnails shown, by path.
    textures: Textures,
    /// The window title last set.
    title: String,
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
            textures: Textures::new(),
            title: String::new(),
        }
    }

    /// The current state (for tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The current state, to change as the core would (for tests: updates applied with
    /// [`AppState::apply`] here are drawn by the next frame).
    pub fn state_mut(&mut self) -> &mut AppState {
        &mut self.state
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
            self.bridge
                .send(Command::Peer(crate::ui::peers::PeerCommand::ListDevices));
            self.bridge
                .send(Command::Peer(crate::ui::peers::PeerCommand::WatchReach));
            self.bridge
                .send(Command::WantCreated(self.state.created_shown()));
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
        self.state.settle();
        if let Some(c) = self.state.details_request() {
            self.bridge.send(c);
        }
        match self.state.locations_refresh(Instant::now()) {
            Ok(true) => self.bridge.send(Command::Refresh),
            Err(wait) => ctx.request_repaint_after(wait),
            Ok(false) => {}
        }
        // A live change waits while a menu is open or something is dragged: listing the
        // folder again under them would close the menu or lose the drag's row.
        if self.state.relist_later.is_asked()
            && (egui::Popup::is_any_open(ctx) || ctx.dragged_id().is_some())
        {
            ctx.request_repaint_after(crate::ui::state::LIVE_GAP);
        } else {
            match self.state.live_refresh(Instant::now()) {
                (Some(c), _) => self.bridge.send(c),
                (None, Some(wait)) => ctx.request_repaint_after(wait),
                (None, None) => {}
            }
            // The other side of the split view shows its live changes too.
            if let Some(slot) = self.state.partner() {
                match self
                    .state
                    .with_parked(slot, |s| s.live_refresh(Instant::now()))
                {
                    (Some(c), _) => self.bridge.send(c),
                    (None, Some(wait)) => ctx.request_repaint_after(wait),
                    (None, None) => {}
                }
            }
        }
    }

    /// Carries out a user command: the state changes, the core gets its commands.
    fn run(&mut self, cmd: UiCommand, ctx: &egui::Context) {
        let mut out = Outbox::default();
        self.state.run(cmd, &mut out);
        for c in out.commands {
            self.bridge.send(c);
        }
        if let Some(text) = out.clipboard {
            ctx.copy_text(text);
        }
    }

    /// Runs the commands whose shortcuts were pressed; while a text field has the keyboard,
    /// only those that work while typing; while an operation dialog is open, none.
    fn handle_keys(&mut self, ctx: &egui::Context) {
        // An operation dialog answers its own keys (Esc); nothing acts behind it.
        if self.state.dialog.is_some()
            || self.state.batch_rename.is_some()
            || self.state.tag_editor.is_some()
            || self.state.tag_popup.is_some()
            || self.state.palette.is_some()
        {
            return;
        }
        let typing = ctx.memory(|m| m.focused().is_some()) && ctx.egui_wants_keyboard_input();
        let targets = self.state.key_targets();
        let mut fired = Vec::new();
        // Letters typed over the folder (no text field has the keyboard) jump to a name; Space
        // is the inspector's key, not part of a name.
        let folder_shown = !self.state.show_dupes && !self.state.searching();
        if !typing && folder_shown {
            ctx.input(|i| {
                for text in type_ahead_texts(&i.events, i.modifiers) {
                    fired.push(UiCommand::TypeAhead { text, at: i.time });
                }
            });
        }
        // The windowing layer turns Ctrl+C, Ctrl+X and Ctrl+V into clipboard events, not keys
        // (and Ctrl+V only when the system clipboard holds text: copying files puts their
        // paths there). Over the folder they copy, cut and paste files.
        if !typing {
            ctx.input(|i| {
                for e in &i.events {
                    let (kind, key) = match e {
                        egui::Event::Copy => (CommandKind::Copy, egui::Key::C),
                        egui::Event::Cut => (CommandKind::Cut, egui::Key::X),
                        egui::Event::Paste(_) => (CommandKind::Paste, egui::Key::V),
                        _ => continue,
                    };
                    let key = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, key);
                    fired.extend(UiCommand::from_key(kind, &key, &targets));
                }
            });
        }
        ctx.input_mut(|i| {
            for kind in CommandKind::ALL {
                if typing && !kind.works_while_typing() {
                    continue;
                }
                for key in kind.shortcuts() {
                    if i.consume_shortcut(key)
                        && let Some(c) = UiCommand::from_key(kind, key, &targets)
                    {
                        fired.push(c);
                    }
                }
            }
        });
        for c in fired {
            self.run(c, ctx);
        }
    }

    /// Draws one frame into `ui` (the whole window).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.drain(&ctx);
        if std::mem::take(&mut self.state.search_again) {
            let c = self.state.rerun_search();
            self.bridge.send(c);
        }
        self.handle_keys(&ctx);
        // Ctrl+wheel (or a pinch) over the grid zooms its pictures.
        let zoom = ctx.input(|i| i.zoom_delta());
        if (zoom - 1.0).abs() > 1e-3
            && !self.state.searching()
            && self.state.explorer.current_prefs().view == crate::ui::explorer::ViewMode::Grid
        {
            let (lo, hi) = crate::ui::state::GRID_ZOOM;
            self.state.grid_zoom = (self.state.grid_zoom * zoom).clamp(lo, hi);
        }
        // The window's title names the folder shown.
        let title = self.state.window_title();
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        // What a panel asks for is carried out before the next panel draws, so the rest of
        // the frame already shows it (a click on "Up" empties the listing in the same frame).
        let mut acts = Vec::new();
        egui::Panel::top("top_bar").show(ui, |ui| {
            panels::top_bar::show(ui, &mut self.state, &mut acts);
        });
        self.run_all(&mut acts, &ctx);
        if self.state.tab_count() > 1 {
            let titles = self.state.tab_titles();
            let active = self.state.tab;
            egui::Panel::top("tab_bar").show(ui, |ui| {
                panels::tabs::show(ui, &titles, active, &mut acts);
            });
            self.run_all(&mut acts, &ctx);
        }
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            panels::status_bar::show(ui, &self.state, &mut acts);
        });
        self.run_all(&mut acts, &ctx);
        let mut jobs_open = self.state.jobs_open;
        // Sized to what it shows: one line when nothing runs, else its rows.
        egui::Panel::bottom("jobs")
            .resizable(false)
            .exact_size(panels::jobs::height(&self.state))
            .show_collapsible(ui, &mut jobs_open, |ui| {
                panels::jobs::show(ui, &self.state, &mut acts);
            });
        self.state.jobs_open = jobs_open;
        self.run_all(&mut acts, &ctx);
        egui::Panel::left("sidebar")
            .resizable(true)
            .size_range(170.0..=420.0)
            .default_size(220.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    panels::sidebar::show(ui, &self.state, &mut acts);
                });
            });
        self.run_all(&mut acts, &ctx);
        // The inspector tells about local files; a device's folder has none selected.
        if self.state.explorer.inspector && self.state.peer.is_none() {
            egui::Panel::right("inspector")
                .resizable(true)
                .size_range(240.0..=640.0)
                .default_size(320.0)
                .show(ui, |ui| {
                    panels::inspector::show(ui, &mut self.state, &mut self.textures, &mut acts);
                });
            self.run_all(&mut acts, &ctx);
        }
        // The other side of the split view acts through its own list: what it asked for is
        // carried out once it has the keyboard.
        let mut partner_acts = Vec::new();
        egui::CentralPanel::default().show(ui, |ui| {
            let Some(focus) = self.state.split_focus() else {
                let serial = self.state.pane;
                ui.push_id(serial, |ui| {
                    views::show(ui, &mut self.state, &mut self.textures, &mut acts);
                });
                return;
            };
            ui.columns(2, |cols| {
                for (side, col) in cols.iter_mut().enumerate() {
                    // Each side draws within its half.
                    col.shrink_clip_rect(col.max_rect());
                    if side == focus {
                        let title = self.state.view_title();
                        panels::tabs::pane_header(col, &title, true, side, &mut acts);
                        let serial = self.state.pane;
                        col.push_id(serial, |ui| {
                            views::show(ui, &mut self.state, &mut self.textures, &mut acts);
                        });
                        continue;
                    }
                    let slot = (self.state.tab, side);
                    let area = col.max_rect();
                    let textures = &mut self.textures;
                    self.state.with_parked(slot, |s| {
                        s.settle_pane();
                        let title = s.view_title();
                        panels::tabs::pane_header(col, &title, false, side, &mut partner_acts);
                        let serial = s.pane;
                        col.push_id(serial, |ui| {
                            views::show(ui, s, textures, &mut partner_acts);
                        });
                    });
                    // A press anywhere on that side gives it the keyboard first.
                    let pressed = ctx.input(|i| {
                        i.pointer.any_pressed()
                            && i.pointer.press_origin().is_some_and(|p| area.contains(p))
                    });
                    if (pressed || !partner_acts.is_empty())
                        && !matches!(partner_acts.first(), Some(UiCommand::FocusPane(_)))
                    {
                        partner_acts.insert(0, UiCommand::FocusPane(side));
                    }
                }
            });
        });
        self.run_all(&mut acts, &ctx);
        self.run_all(&mut partner_acts, &ctx);
        dialogs::new_library(&ctx, &mut self.state, &mut acts);
        dialogs::settings(&ctx, &mut self.state, &mut acts);
        dialogs::pairing(&ctx, &mut self.state, &mut acts);
        dialogs::offer(&ctx, &mut self.state, &mut acts);
        dialogs::send_nearby(&ctx, &mut self.state, &mut acts);
        dialogs::file_op(&ctx, &self.state, &mut acts);
        dialogs::tag_editor(&ctx, &mut self.state, &mut acts);
        dialogs::tag_popup(&ctx, &mut self.state, &mut acts);
        crate::ui::palette::show(&ctx, &mut self.state, &mut acts);
        super::batch_rename::show(&ctx, &mut self.state, &mut acts);
        self.run_all(&mut acts, &ctx);
        // After every drop target was drawn: what is dragged, and what a drop would do.
        crate::ui::dnd::preview(&ctx, &self.state.volumes);
        crate::ui::dnd::external(&ctx, |n| self.state.drop_files_hint(n), &mut acts);
        self.run_all(&mut acts, &ctx);
        for c in std::mem::take(&mut self.state.fetches) {
            self.bridge.send(c);
        }
    }

    /// Carries out (and empties) `actions`; the panels drawn before them are drawn again.
    fn run_all(&mut self, actions: &mut Vec<UiCommand>, ctx: &egui::Context) {
        if actions.is_empty() {
            return;
        }
        ctx.request_repaint();
        for a in actions.drain(..) {
            self.run(a, ctx);
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

/// The letters of a frame's `events` that jump to a name (type-ahead), given the modifiers
/// `held` at its end: text typed with no modifier, not white space. A letter that came with a
/// chord pressed in the same frame is the chord's (Alt+T), even when the modifier was let go
/// within the frame — X11 sends the letter's text then too.
pub(crate) fn type_ahead_texts(events: &[egui::Event], held: egui::Modifiers) -> Vec<String> {
    let chord = events.iter().any(|e| {
        matches!(e, egui::Event::Key { modifiers, pressed: true, .. }
            if modifiers.alt || modifiers.ctrl || modifiers.command)
    });
    if chord || held.command || held.ctrl || held.alt {
        return Vec::new();
    }
    events
        .iter()
        .filter_map(|e| match e {
            egui::Event::Text(t)
                if !t.is_empty() && !t.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Some(t.clone())
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: Alt+T within one frame, with the letter's text that X11 sends when Alt is
    /// let go quickly, also jumped to the first name starting with "t".
    #[test]
    fn a_letter_of_a_chord_is_not_type_ahead() {
        let key = |pressed, modifiers| egui::Event::Key {
            key: egui::Key::T,
            physical_key: None,
            pressed,
            repeat: false,
            modifiers,
        };
        let alt = egui::Modifiers::ALT;
        let chord = [
            key(true, alt),
            egui::Event::Text("t".into()),
            key(false, alt),
        ];
        assert!(type_ahead_texts(&chord, egui::Modifiers::NONE).is_empty());
        let typed = [egui::Event::Text("n".into()), egui::Event::Text("o".into())];
        assert_eq!(type_ahead_texts(&typed, egui::Modifiers::NONE), ["n", "o"]);
        assert!(type_ahead_texts(&typed, egui::Modifiers::CTRL).is_empty());
        assert!(
            type_ahead_texts(&[egui::Event::Text(" ".into())], egui::Modifiers::NONE).is_empty()
        );
    }
}
