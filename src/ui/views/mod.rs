//! The central views: the folder (list or grid), search results and duplicates; chooses which one
//! shows.

mod dupes;
mod grid;
mod list;
mod results;

use std::path::Path;

use eframe::egui::{self, RichText};

use crate::ui::app::CairnApp;
use crate::ui::bridge::Command;
use crate::ui::explorer::ViewMode;
use crate::ui::theme;
use crate::ui::widgets::ContextAction;
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::query::browse::ListError;

impl CairnApp {
    pub(crate) fn main_view(&mut self, ui: &mut egui::Ui) {
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

    pub(crate) fn after_click(&mut self, clicked: Option<(usize, egui::Modifiers, bool)>) {
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

    pub(crate) fn context_action(&mut self, row: usize, a: ContextAction, ctx: &egui::Context) {
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
}
