//! The central views: the folder (list or grid), search results and duplicates; chooses which
//! one shows.

mod dupes;
mod grid;
mod list;
mod results;

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use crate::ui::AppState;
use crate::ui::commands::{SelectHow, UiCommand};
use crate::ui::explorer::{Scroll, ViewLayout, ViewMode};
use crate::ui::theme;
use crate::ui::widgets::Textures;
use crate::vdfs::query::browse::ListError;

/// Draws the central view: duplicates, search results, or the folder as a list or a grid (or
/// why it cannot be shown).
pub(crate) fn show(
    ui: &mut egui::Ui,
    state: &mut AppState,
    textures: &mut Textures,
    actions: &mut Vec<UiCommand>,
) {
    if state.show_dupes {
        dupes::show(ui, state, actions);
        return;
    }
    if state.searching() {
        results::show(ui, state, actions);
        return;
    }
    let dark = ui.visuals().dark_mode;
    let e = &state.explorer;
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
    // A scroll asked for (a keyboard move, a revealed item, a new or restored folder) is
    // carried out once, by the frame that is shown; a pass egui throws away leaves it for the
    // next one.
    let layout = ViewLayout {
        view: e.current_prefs().view,
        inspector: e.inspector,
        width_step: (ui.available_width() / 64.0) as u32,
    };
    let mut scroll = state.explorer.scroll.take();
    // egui keeps the list's scroll position per layout (its column widths are remembered per
    // layout): when the layout changes, the view stays where it was.
    if scroll.is_none()
        && let Some(was) = state.explorer.drawn_as
        && was != layout
        && was.view == layout.view
    {
        scroll = Some(Scroll::ToOffset(state.explorer.scroll_offset));
    }
    let offset = match layout.view {
        ViewMode::List => list::show(ui, state, scroll, layout.width_step, actions),
        ViewMode::Grid => grid::show(ui, state, scroll, textures, actions),
    };
    if ui.ctx().will_discard() {
        if state.explorer.scroll.is_none() {
            state.explorer.scroll = scroll;
        }
    } else {
        state.explorer.scroll_offset = offset;
        state.explorer.drawn_as = Some(layout);
    }
}

/// The commands of a click on the item at `path` (`double`: a double click, which selects it
/// alone and opens it).
fn click(path: PathBuf, mods: egui::Modifiers, double: bool, actions: &mut Vec<UiCommand>) {
    let how = if double {
        SelectHow::Click
    } else if mods.command || mods.ctrl {
        SelectHow::Toggle
    } else if mods.shift {
        SelectHow::Extend
    } else {
        SelectHow::Click
    };
    actions.push(UiCommand::Select {
        path: path.clone(),
        how,
    });
    if double {
        actions.push(UiCommand::Open(path));
    }
}
