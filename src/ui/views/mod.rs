//! The central views: the folder (list or grid), search results and duplicates; chooses which
//! one shows.

mod dupes;
mod grid;
mod list;
mod missing;
pub(crate) mod peer;
pub(crate) use peer::parent as peer_parent;
mod results;
mod trash;

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};

use crate::ui::AppState;
use crate::ui::commands::{CommandKind, SelectHow, UiCommand};
use crate::ui::explorer::{Geometry, Scroll, ViewLayout, ViewMode};
use crate::ui::state::{Renaming, stem_chars};
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
    if state.peer.is_some() {
        peer::show(ui, state, actions);
        return;
    }
    if state.show_trash {
        trash::show(ui, state, actions);
        return;
    }
    if state.show_missing {
        missing::show(ui, state, actions);
        return;
    }
    if state.show_dupes {
        dupes::show(ui, state, textures, actions);
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
    let Some(folder) = e.folder.clone() else {
        ui.centered_and_justified(|ui| ui.label("Pick a location or a drive on the left"));
        return;
    };
    // Choosing a folder to index in the window (no picker of the system): the folder shown
    // is the choice.
    if state.choosing_location {
        choosing(ui, &folder, actions);
    } else if state.locations.is_empty()
        && let Some(Ok((config, _))) = &state.library
    {
        first_start(ui, &config.name, &folder, actions);
    }
    // A right click beside the items: what acts on the folder itself, and items dropped
    // beside the items go into it. Sensed first, so the items drawn over it take their own
    // clicks.
    let background = ui.interact(
        ui.available_rect_before_wrap(),
        ui.scope_id().with("folder background"),
        egui::Sense::click(),
    );
    background.context_menu(|ui| folder_menu(ui, state, &folder, actions));
    if e.order.is_empty() {
        crate::ui::dnd::target(&background, &folder, actions);
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.3);
            if e.loading {
                ui.spinner();
            } else if !e.filter.is_empty() {
                ui.label(
                    RichText::new(format!("Nothing here matches \u{201c}{}\u{201d}", e.filter))
                        .size(16.0),
                );
                // The filter looks at this folder only: the way to look below it.
                ui.label(
                    RichText::new(
                        "Press Enter in the search field to search this folder and below",
                    )
                    .color(theme::weak(ui)),
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
    // The in-place name editor is the view's to draw; it is handed back after.
    let mut renaming = state.renaming.take();
    let drawn = match layout.view {
        ViewMode::List => list::show(ui, state, &mut renaming, scroll, layout.width_step, actions),
        ViewMode::Grid => grid::show(ui, state, &mut renaming, scroll, textures, actions),
    };
    state.renaming = renaming;
    if !drawn.wanted_dims.is_empty() {
        state.want_dimensions(drawn.wanted_dims);
    }
    // Over an item, the item is the drop target (or, a file, none); beside them, the folder.
    if !drawn.over_item {
        crate::ui::dnd::target(&background, &folder, actions);
    }
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

/// What a folder view reports once drawn: where it is scrolled, the layout the keyboard
/// moves through, and whether the pointer is over an item.
#[derive(Debug, Default)]
struct Drawn {
    /// Scroll offset, in points from the top.
    offset: f32,
    /// Items per row and rows per screenful.
    geometry: Geometry,
    /// The pointer is over an item (a drop there is the item's, not the folder's).
    over_item: bool,
    /// Images shown whose pixel sizes are not known yet (the list's Dimensions column).
    wanted_dims: Vec<PathBuf>,
}

/// What the pointer does on an item of the folder shown (list row or grid tile): a click
/// selects (with the modifiers held), a double click opens, a right click opens its menu;
/// a drag takes the selection if the item is in it, else the item alone; a folder takes
/// drops. Returns whether the pointer is over the item.
fn item_response(
    resp: &egui::Response,
    state: &AppState,
    item: &Item,
    folder: &Path,
    actions: &mut Vec<UiCommand>,
) -> bool {
    if resp.double_clicked() {
        click(item.path_in(folder), egui::Modifiers::NONE, true, actions);
    } else if resp.middle_clicked() && item.kind == EntryKind::Dir {
        actions.push(UiCommand::OpenInNewTab(item.path_in(folder)));
    } else if resp.clicked() {
        let mods = resp.ctx.input(|i| i.modifiers);
        click(item.path_in(folder), mods, false, actions);
    }
    crate::ui::dnd::source(resp, || state.menu_targets(&item.path_in(folder)));
    if item.kind == EntryKind::Dir {
        crate::ui::dnd::target(resp, &item.path_in(folder), actions);
    }
    context_menu(resp, state, item, folder, actions);
    resp.contains_pointer()
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
        ui.set_min_width(200.0);
        let path = item.path_in(folder);
        let [open, rest @ ..] = UiCommand::row_menu(&path);
        menu_entry(ui, open, true, actions);
        if item.kind == EntryKind::Dir {
            menu_entry(ui, UiCommand::OpenInNewTab(path.clone()), true, actions);
        }
        if item.kind == EntryKind::File {
            ui.menu_button(CommandKind::OpenWith.label(), |ui| {
                open_with_menu(ui, state, &path, actions);
            });
        }
        let targets = state.menu_targets(&path);
        let [
            cut,
            copy,
            paste,
            rename,
            duplicate,
            trash,
            delete,
            new_folder,
        ] = UiCommand::edit_menu(&path, &targets, folder);
        ui.separator();
        menu_entry(ui, cut, true, actions);
        menu_entry(ui, copy, true, actions);
        menu_entry(ui, paste, state.clipboard.is_some(), actions);
        ui.separator();
        menu_entry(ui, rename, true, actions);
        menu_entry(ui, duplicate, true, actions);
        menu_entry(ui, trash, true, actions);
        menu_entry(ui, delete, true, actions);
        ui.separator();
        menu_entry(ui, new_folder, true, actions);
        if item.kind == EntryKind::Dir {
            menu_entry(ui, UiCommand::OpenTerminal(path.clone()), true, actions);
        }
        menu_entry(ui, UiCommand::SendNearby(targets.clone()), true, actions);
        ui.separator();
        tags_menu(ui, state, item, &targets, actions);
        collect_menu(ui, state, item, &targets, actions);
        ui.separator();
        for c in rest {
            menu_entry(ui, c, true, actions);
        }
    });
}

/// The "Tags" submenu of an item: each tag with a tick when the item carries it (on itself
/// or on its content); a click puts it on every target or takes it off; below, a field to make
/// a tag and put it on them. Only indexed items can carry tags.
fn tags_menu(
    ui: &mut egui::Ui,
    state: &AppState,
    item: &Item,
    targets: &[PathBuf],
    actions: &mut Vec<UiCommand>,
) {
    let label = CommandKind::SetTag.label();
    if item.uuid.is_none() {
        ui.add_enabled(false, egui::Button::new(label))
            .on_disabled_hover_text(
                "Only indexed files and folders carry tags: index this folder first",
            );
        return;
    }
    ui.menu_button(label, |ui| {
        // The popup that completes a typed name (its shortcut, said beside it).
        let popup = egui::Button::new(CommandKind::TagPopup.label())
            .shortcut_text(CommandKind::TagPopup.shortcut_text().unwrap_or_default());
        if ui.add(popup).clicked() {
            actions.push(UiCommand::TagPopup(targets.to_vec()));
            ui.close();
        }
        ui.separator();
        let on = crate::ui::views::tags_of(state, item);
        let shown = state.tags.iter().filter(|t| {
            state.show_hidden_tags || t.record.privacy != crate::vdfs::index::tags::Privacy::Hidden
        });
        for t in shown {
            let mut checked = on.contains(&t.id);
            if ui.checkbox(&mut checked, t.qualified()).clicked() {
                actions.push(UiCommand::SetTag {
                    tag: t.id,
                    paths: targets.to_vec(),
                    on: checked,
                });
                ui.close();
            }
        }
        if !state.tags.is_empty() {
            ui.separator();
        }
        if let Some(name) = name_field(ui, "new tag name", CommandKind::NewTag.label()) {
            actions.push(UiCommand::NewTag {
                name,
                paths: targets.to_vec(),
            });
            ui.close();
        }
    });
}

/// The "Add to collection" submenu of an indexed item: each collection, then a field to make
/// a new one with the targets in it.
fn collect_menu(
    ui: &mut egui::Ui,
    state: &AppState,
    item: &Item,
    targets: &[PathBuf],
    actions: &mut Vec<UiCommand>,
) {
    if item.uuid.is_none() {
        return;
    }
    ui.menu_button(CommandKind::Collect.label(), |ui| {
        for c in &state.collections {
            if ui.button(&c.record.name).clicked() {
                actions.push(UiCommand::Collect {
                    collection: Some(c.id),
                    name: None,
                    paths: targets.to_vec(),
                });
                ui.close();
            }
        }
        if !state.collections.is_empty() {
            ui.separator();
        }
        if let Some(name) = name_field(ui, "new collection name", "New collection") {
            actions.push(UiCommand::Collect {
                collection: None,
                name: Some(name),
                paths: targets.to_vec(),
            });
            ui.close();
        }
    });
}

/// A field for a new name in a menu, with `label` as its hint and on its button: the name
/// typed (trimmed, not empty) once Enter or the button is pressed. What is typed is kept in
/// egui's memory under `salt` between frames.
fn name_field(ui: &mut egui::Ui, salt: &str, label: &str) -> Option<String> {
    let id = egui::Id::unique(salt);
    let mut text = ui.data_mut(|d| d.get_temp::<String>(id).unwrap_or_default());
    let r = ui.add(
        egui::TextEdit::singleline(&mut text)
            .hint_text(label)
            .desired_width(160.0),
    );
    let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let make = ui
        .add_enabled(!text.trim().is_empty(), egui::Button::new(label))
        .clicked();
    let done = ((enter || make) && !text.trim().is_empty()).then(|| text.trim().to_owned());
    if done.is_some() {
        text.clear();
    }
    ui.data_mut(|d| d.insert_temp(id, text));
    done
}

/// The label colour `item` carries (0 none): its entry's, else its content's.
pub(crate) fn label_of(state: &AppState, item: &Item) -> u8 {
    [item.uuid, item.cas.map(|c| c.content_uuid())]
        .into_iter()
        .flatten()
        .find_map(|u| state.label_map.get(&u).copied())
        .unwrap_or(0)
}

/// The tags `item` carries, on its entry or on its content (hidden tags only when the person
/// asked to see them).
pub(crate) fn tags_of(state: &AppState, item: &Item) -> Vec<uuid::Uuid> {
    let mut out = Vec::new();
    for u in [item.uuid, item.cas.map(|c| c.content_uuid())]
        .into_iter()
        .flatten()
    {
        if let Some(tags) = state.tag_map.get(&u) {
            out.extend(tags.iter().copied());
        }
    }
    if !state.show_hidden_tags {
        out.retain(|id| {
            state
                .tags
                .iter()
                .find(|t| t.id == *id)
                .is_none_or(|t| t.record.privacy != crate::vdfs::index::tags::Privacy::Hidden)
        });
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The first start's banner above the folder shown: what a library and a location are, in one
/// sentence, and a button that indexes this folder.
fn first_start(ui: &mut egui::Ui, library: &str, folder: &Path, actions: &mut Vec<UiCommand>) {
    index_banner(
        ui,
        folder,
        actions,
        |ui| {
            ui.label(format!(
                "Cairn keeps a catalogue of the folders you index (its locations) in your \
             library, \u{201c}{library}\u{201d}: index a folder to find any file in it in \
             milliseconds, see its duplicates and tag its files. Your files stay where they \
             are."
            ));
        },
        |ui, _| {
            ui.label(
                RichText::new(
                    "or pick another folder with \u{201c}Add a folder…\u{201d} in the sidebar",
                )
                .color(theme::weak(ui)),
            );
        },
    );
}

/// The banner of the in-window folder chooser (when the system has no folder picker): go to
/// the folder to index as anywhere else, then index it, or cancel.
fn choosing(ui: &mut egui::Ui, folder: &Path, actions: &mut Vec<UiCommand>) {
    index_banner(
        ui,
        folder,
        actions,
        |ui| {
            ui.label(RichText::new("Choose a folder to index").strong());
            ui.label(
                "Open it here, from the sidebar, the path bar (Ctrl+L) or by double-clicking \
             folders, then index it.",
            );
        },
        |ui, actions| {
            if ui.button(UiCommand::StopChoosing.label()).clicked() {
                actions.push(UiCommand::StopChoosing);
            }
        },
    );
}

/// A framed banner above the folder shown: `text`, then a row with "Index “name”" (which
/// indexes `folder`) and `after` beside it.
fn index_banner(
    ui: &mut egui::Ui,
    folder: &Path,
    actions: &mut Vec<UiCommand>,
    text: impl FnOnce(&mut egui::Ui),
    after: impl FnOnce(&mut egui::Ui, &mut Vec<UiCommand>),
) {
    let name = folder.file_name().map_or_else(
        || folder.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    egui::Frame::group(ui.style())
        .inner_margin(egui::Margin::same(10))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            text(ui);
            ui.horizontal(|ui| {
                if ui
                    .button(format!("Index \u{201c}{name}\u{201d}"))
                    .on_hover_text(folder.display().to_string())
                    .clicked()
                {
                    actions.push(UiCommand::AddLocation);
                }
                after(ui, actions);
            });
        });
    ui.add_space(4.0);
}

/// The context menu beside the items of the folder shown: paste, new folder, undo, redo.
fn folder_menu(ui: &mut egui::Ui, state: &AppState, folder: &Path, actions: &mut Vec<UiCommand>) {
    ui.set_min_width(200.0);
    menu_entry(
        ui,
        UiCommand::Paste(folder.to_owned()),
        state.clipboard.is_some(),
        actions,
    );
    menu_entry(ui, UiCommand::NewFolder(folder.to_owned()), true, actions);
    menu_entry(
        ui,
        UiCommand::OpenTerminal(folder.to_owned()),
        true,
        actions,
    );
    ui.separator();
    menu_entry(ui, UiCommand::Undo, true, actions);
    menu_entry(ui, UiCommand::Redo, true, actions);
    menu_entry(ui, UiCommand::SelectAll, true, actions);
}

/// A menu entry for `cmd`, with its shortcut beside it; chosen, it closes the menu.
pub(crate) fn menu_entry(
    ui: &mut egui::Ui,
    cmd: UiCommand,
    enabled: bool,
    actions: &mut Vec<UiCommand>,
) {
    let kind = cmd.kind();
    let mut button = egui::Button::new(kind.label());
    if let Some(k) = kind.shortcut_text() {
        button = button.shortcut_text(k);
    }
    let r = ui.add_enabled(enabled, button);
    // Named by its label alone (the shortcut is drawn beside it, not part of its name).
    r.widget_info(|| {
        egui::WidgetInfo::labeled(egui::accesskit::Role::Button, enabled, kind.label())
    });
    if r.clicked() {
        actions.push(cmd);
        ui.close();
    }
}

/// The in-place editor of the name of the item being renamed, `width` points wide: Enter
/// (or a click elsewhere) renames, Esc stops. Opened, it has the keyboard with the name
/// selected without its extension; a refused name is said beside it.
fn rename_field(
    ui: &mut egui::Ui,
    edit: &mut Renaming,
    kind: EntryKind,
    width: f32,
    actions: &mut Vec<UiCommand>,
) {
    let id = egui::Id::unique(("rename in place", &edit.path));
    let out = egui::TextEdit::singleline(&mut edit.text)
        .id(id)
        .desired_width(if edit.error.is_some() {
            width * 0.5
        } else {
            width
        })
        .show(ui);
    let r = out.response.response;
    if std::mem::take(&mut edit.select_stem) {
        r.request_focus();
        let mut st = out.state;
        let stem = stem_chars(&edit.text, kind);
        st.cursor.set_char_range(Some(egui::text::CCursorRange::two(
            egui::text::CCursor::new(0),
            egui::text::CCursor::new(stem),
        )));
        st.store(ui.ctx(), id);
    } else if r.lost_focus() {
        if ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            actions.push(UiCommand::CancelRename);
        } else if !edit.pending {
            actions.push(UiCommand::RenameTo {
                path: edit.path.clone(),
                name: edit.text.clone(),
            });
        }
    }
    if let Some(err) = &edit.error {
        let dark = ui.visuals().dark_mode;
        ui.add(egui::Label::new(RichText::new(err).color(theme::error(dark))).truncate());
    }
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
