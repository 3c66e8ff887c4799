//! The central views: the folder (list or grid), search results and duplicates; chooses which
//! one shows.

mod dupes;
mod grid;
mod list;
mod results;

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};

use crate::ui::AppState;
use crate::ui::commands::{CommandKind, SelectHow, UiCommand};
use crate::ui::explorer::{Geometry, Scroll, ViewLayout, ViewMode};
use crate::ui::theme;
use crate::ui::widgets::Textures;
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::query::browse::{Item, ListError};

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
    let drawn = match layout.view {
        ViewMode::List => list::show(ui, state, scroll, layout.width_step, actions),
        ViewMode::Grid => grid::show(ui, state, scroll, textures, actions),
    };
    if ui.ctx().will_discard() {
        if state.explorer.scroll.is_none() {
            state.explorer.scroll = scroll;
        }
    } else {
        state.explorer.scroll_offset = drawn.offset;
        state.explorer.geometry = drawn.geometry;
        state.explorer.drawn_as = Some(layout);
    }
}

/// What a folder view reports once drawn: where it is scrolled and the layout the keyboard
/// moves through.
#[derive(Debug, Default)]
struct Drawn {
    /// Scroll offset, in points from the top.
    offset: f32,
    /// Items per row and rows per screenful.
    geometry: Geometry,
}

/// What the pointer does on an item of the folder shown (list row or grid tile): a click
/// selects (with the modifiers held), a double click opens, a right click opens its menu.
fn item_response(
    resp: &egui::Response,
    state: &AppState,
    item: &Item,
    folder: &Path,
    actions: &mut Vec<UiCommand>,
) {
    if resp.double_clicked() {
        click(item.path_in(folder), egui::Modifiers::NONE, true, actions);
    } else if resp.clicked() {
        let mods = resp.ctx.input(|i| i.modifiers);
        click(item.path_in(folder), mods, false, actions);
    }
    context_menu(resp, state, item, folder, actions);
}

/// The context menu of an item of the folder shown (list row or grid tile): the commands of
/// [`UiCommand::row_menu`], then "Open with" for a file.
fn context_menu(
    resp: &egui::Response,
    state: &AppState,
    item: &Item,
    folder: &Path,
    actions: &mut Vec<UiCommand>,
) {
    // The item is selected as the menu opens, so what is shown selected is what the menu
    // acts on.
    if resp.secondary_clicked() {
        actions.push(UiCommand::Select {
            path: item.path_in(folder),
            how: SelectHow::Context,
        });
    }
    resp.context_menu(|ui| {
        let path = item.path_in(folder);
        for c in UiCommand::row_menu(&path) {
            if ui.button(c.label()).clicked() {
                actions.push(c);
                ui.close();
            }
        }
        if item.kind == EntryKind::File {
            ui.menu_button(CommandKind::OpenWith.label(), |ui| {
                open_with_menu(ui, state, &path, actions);
            });
        }
    });
}

/// The applications that open the file at `path`, one button each (asked for the first time
/// the menu shows).
pub(crate) fn open_with_menu(
    ui: &mut egui::Ui,
    state: &AppState,
    path: &Path,
    actions: &mut Vec<UiCommand>,
) {
    ui.set_min_width(160.0);
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
    match &state.apps {
        Some((p, list)) if p == path => {
            if list.is_empty() {
                ui.label("No application declares this type");
            }
            for app in list {
                if ui.button(&app.name).clicked() {
                    actions.push(UiCommand::OpenWith(path.to_owned(), app.clone()));
                    ui.close();
                }
            }
        }
        _ => {
            ui.spinner();
            if state.requested_apps.as_deref() != Some(path) {
                actions.push(UiCommand::FindApps(path.to_owned()));
            }
        }
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
