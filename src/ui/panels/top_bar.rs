//! The top bar: back, forward and up, the path bar, the filter and search boxes and the view
//! toggles.

use eframe::egui;

use crate::ui::AppState;
use crate::ui::commands::{CommandKind, UiCommand};
use crate::ui::explorer::ViewMode;
use crate::ui::panels::path_bar;

/// Draws the top bar; what the person does is pushed to `actions`.
/// The filter and search fields' widths (points): as wide as the row allows between these.
const FIELD_MIN: f32 = 110.0;
const FIELD_MAX: f32 = 220.0;
/// The zoom slider's width in the grid.
const ZOOM_WIDTH: f32 = 80.0;
/// What the second row takes besides the two fields (their labels, the boxes and buttons,
/// "Settings…" and the spacing), in the list and in the grid (with the zoom slider).
const ROW_REST: f32 = 650.0;
const ROW_REST_GRID: f32 = ROW_REST + 150.0;

pub(crate) fn show(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    ui.add_space(2.0);
    ui.horizontal(|ui| {
        let e = &state.explorer;
        let (can_back, can_forward, can_up) = (
            e.history.can_back(),
            e.history.can_forward(),
            e.parent().is_some(),
        );
        command_button(ui, UiCommand::Back, can_back, actions);
        command_button(ui, UiCommand::Forward, can_forward, actions);
        command_button(ui, UiCommand::Up, can_up, actions);
        ui.separator();
        edit_menu(ui, state, actions);
        ui.separator();
        path_bar::show(ui, state, actions);
    });
    ui.horizontal(|ui| {
        // The two fields give up width before anything runs under "Settings…": what the
        // rest of the row takes (its labels, boxes and buttons; the zoom slider in the grid)
        // is left to it.
        let grid = state.explorer.current_prefs().view == ViewMode::Grid;
        let rest = if grid { ROW_REST_GRID } else { ROW_REST };
        let field = ((ui.available_width() - rest) / 2.0).clamp(FIELD_MIN, FIELD_MAX);
        let label = ui.label("Filter");
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut state.explorer.filter)
                    .hint_text("Type to filter this folder")
                    .desired_width(field),
            )
            .labelled_by(label.id);
        if r.changed() {
            state.explorer.dirty = true;
        }
        ui.separator();
        let label = ui.label("Search");
        let hint = match &state.peer {
            Some(p) => format!("Names on {} (Ctrl+F)", p.device.name),
            None => "Names in the library (Ctrl+F)".to_owned(),
        };
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut state.search_text)
                    .hint_text(hint)
                    .desired_width(field),
            )
            .labelled_by(label.id);
        if std::mem::take(&mut state.focus_search) {
            r.request_focus();
        }
        if r.changed() {
            actions.push(UiCommand::Search);
        }
        let mut everywhere = state.search_everywhere;
        if ui
            .checkbox(&mut everywhere, CommandKind::SearchEverywhere.label())
            .on_hover_text("Off: the folder shown and below")
            .changed()
        {
            actions.push(UiCommand::SearchEverywhere(everywhere));
        }
        ui.separator();
        let mut hidden = state.explorer.show_hidden;
        toggle(ui, &mut hidden, UiCommand::ToggleHidden, actions);
        view_switch(ui, grid, actions);
        if grid {
            let label = ui.label("Zoom");
            ui.spacing_mut().slider_width = ZOOM_WIDTH;
            ui.add(egui::Slider::new(&mut state.grid_zoom, 48.0..=256.0).show_value(false))
                .labelled_by(label.id);
        }
        let mut inspector = state.explorer.inspector;
        toggle(ui, &mut inspector, UiCommand::TogglePreview, actions);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button(UiCommand::Settings.label()).clicked() {
                actions.push(UiCommand::Settings);
            }
        });
    });
    ui.add_space(2.0);
}

/// The "Edit" menu: undo and redo, and the file operations on the selection and the folder
/// shown.
fn edit_menu(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<UiCommand>) {
    use crate::ui::views::menu_entry;
    let t = state.key_targets();
    ui.menu_button("Edit", |ui| {
        ui.set_min_width(220.0);
        menu_entry(ui, UiCommand::Undo, true, actions);
        menu_entry(ui, UiCommand::Redo, true, actions);
        ui.separator();
        let any = !t.selected.is_empty();
        let sel = || t.selected.clone();
        menu_entry(ui, UiCommand::Cut(sel()), any, actions);
        menu_entry(ui, UiCommand::Copy(sel()), any, actions);
        if let Some(folder) = &t.folder {
            menu_entry(
                ui,
                UiCommand::Paste(folder.clone()),
                state.clipboard.is_some(),
                actions,
            );
        }
        ui.separator();
        if let Some(first) = t.selected.first() {
            menu_entry(ui, UiCommand::rename(first, &t.selected), true, actions);
        }
        menu_entry(ui, UiCommand::Duplicate(sel()), any, actions);
        menu_entry(ui, UiCommand::Trash(sel()), any, actions);
        menu_entry(ui, UiCommand::Delete(sel()), any, actions);
        if let Some(folder) = &t.folder {
            ui.separator();
            menu_entry(ui, UiCommand::NewFolder(folder.clone()), true, actions);
        }
        ui.separator();
        menu_entry(ui, UiCommand::SelectAll, true, actions);
    });
}

/// A button for `cmd`, with its label and its shortcut as the tooltip.
fn command_button(ui: &mut egui::Ui, cmd: UiCommand, enabled: bool, actions: &mut Vec<UiCommand>) {
    let kind = cmd.kind();
    let mut tip = kind.label().to_owned();
    if let Some(k) = kind.shortcut_text() {
        tip.push_str(&format!(" ({k})"));
    }
    let r = ui
        .add_enabled(enabled, egui::Button::new(kind.label()))
        .on_hover_text(tip);
    if r.clicked() {
        actions.push(cmd);
    }
}

/// The list/grid switch: two buttons side by side, the one shown pressed; the shortcut
/// (Ctrl+G) in their tooltips.
fn view_switch(ui: &mut egui::Ui, grid: bool, actions: &mut Vec<UiCommand>) {
    let keys = CommandKind::ToggleView.shortcut_text().unwrap_or_default();
    ui.scope(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        for (name, is_grid) in [("List", false), ("Grid", true)] {
            let r = ui
                .add(egui::Button::selectable(grid == is_grid, name))
                .on_hover_text(format!(
                    "Show the folder as a {} ({keys})",
                    name.to_lowercase()
                ));
            if r.clicked() && grid != is_grid {
                actions.push(UiCommand::ToggleView);
            }
        }
    });
}

/// A checkbox for a toggling `cmd`, with its shortcut as the tooltip.
fn toggle(ui: &mut egui::Ui, on: &mut bool, cmd: UiCommand, actions: &mut Vec<UiCommand>) {
    let kind = cmd.kind();
    let mut r = ui.checkbox(on, kind.label());
    if let Some(k) = kind.shortcut_text() {
        r = r.on_hover_text(k);
    }
    if r.changed() {
        actions.push(cmd);
    }
}
