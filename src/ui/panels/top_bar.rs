//! The top bar: back, forward, up and again, the Edit menu and the path bar; the one search
//! field with where it looks; the view's switches (list or grid, hidden files, inspector,
//! split view) and the settings. Icons are Material Symbols (`egui_material_icons`).

use eframe::egui;
use egui_material_icons::icons;

use crate::ui::AppState;
use crate::ui::commands::{CommandKind, UiCommand};
use crate::ui::explorer::ViewMode;
use crate::ui::panels::path_bar;
use crate::ui::search::FindMode;
use crate::ui::widgets::icon_or_name;

/// The search field's widths (points): as wide as the row allows between these.
const FIELD_MIN: f32 = 160.0;
const FIELD_MAX: f32 = 360.0;
/// The zoom slider's width in the grid.
const ZOOM_WIDTH: f32 = 80.0;
/// What the second row takes besides the search field (its label, the scope switch, the
/// icons, the spacing), in the list and in the grid (with the zoom slider).
const ROW_REST: f32 = 440.0;
const ROW_REST_GRID: f32 = ROW_REST + ZOOM_WIDTH + 60.0;

/// Draws the top bar; what the person does is pushed to `actions`. The first row goes back,
/// forward, up and again (icons, their names and keys in tooltips), holds the Edit menu and
/// the path bar; the second holds the one search field, with where it looks, and the view's
/// switches.
pub(crate) fn show(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    ui.add_space(2.0);
    ui.horizontal(|ui| {
        let e = &state.explorer;
        let (can_back, can_forward, can_up) = (
            e.history.can_back(),
            e.history.can_forward(),
            e.parent().is_some() || state.peer.as_ref().is_some_and(|p| p.path.is_some()),
        );
        ui.spacing_mut().item_spacing.x = 2.0;
        icon_button(
            ui,
            icons::ICON_ARROW_BACK,
            UiCommand::Back,
            can_back,
            actions,
        );
        icon_button(
            ui,
            icons::ICON_ARROW_FORWARD,
            UiCommand::Forward,
            can_forward,
            actions,
        );
        icon_button(ui, icons::ICON_ARROW_UPWARD, UiCommand::Up, can_up, actions);
        icon_button(ui, icons::ICON_REFRESH, UiCommand::Refresh, true, actions);
        ui.spacing_mut().item_spacing.x = 8.0;
        ui.separator();
        edit_menu(ui, state, actions);
        ui.separator();
        path_bar::show(ui, state, actions);
    });
    ui.horizontal(|ui| {
        // The field gives up width before anything runs off the row: what the rest of the
        // row takes (the zoom slider in the grid too) is left to it.
        let grid = state.explorer.current_prefs().view == ViewMode::Grid;
        let rest = if grid { ROW_REST_GRID } else { ROW_REST };
        let field = (ui.available_width() - rest).clamp(FIELD_MIN, FIELD_MAX);
        find_field(ui, state, field, actions);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.spacing_mut().item_spacing.x = 2.0;
            ui.spacing_mut().button_padding = egui::vec2(4.0, 2.0);
            icon_button(ui, icons::ICON_SETTINGS, UiCommand::Settings, true, actions);
            let split = state.split_focus().is_some();
            icon_toggle(
                ui,
                icons::ICON_VERTICAL_SPLIT,
                split,
                UiCommand::ToggleSplit,
                actions,
            );
            let inspector = state.explorer.inspector;
            icon_toggle(
                ui,
                icons::ICON_INFO,
                inspector,
                UiCommand::TogglePreview,
                actions,
            );
            let hidden = state.explorer.show_hidden;
            icon_toggle(
                ui,
                icons::ICON_VISIBILITY,
                hidden,
                UiCommand::ToggleHidden,
                actions,
            );
            ui.add_space(6.0);
            view_switch(ui, grid, actions);
            if grid {
                ui.add_space(6.0);
                ui.spacing_mut().slider_width = ZOOM_WIDTH;
                let r = ui
                    .add(egui::Slider::new(&mut state.grid_zoom, 48.0..=256.0).show_value(false))
                    .on_hover_text("The pictures' size (Ctrl+wheel, Ctrl+plus, Ctrl+minus)");
                let zoom = icon_or_name(ui, icons::ICON_ZOOM_IN, "Zoom");
                let label = ui.label(zoom.color(crate::ui::theme::weak(ui)));
                // Named "Zoom" for a screen reader, whatever the label shows.
                label.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::accesskit::Role::Label, true, "Zoom")
                });
                let _ = r.labelled_by(label.id);
            }
        });
    });
    ui.add_space(2.0);
}

/// The one search field: what is typed filters the folder shown as it is typed, and Enter
/// searches the folder and below; the switch beside it says where it looks (the folder, below
/// it, the whole library). On a paired device it searches the device as it is typed.
fn find_field(ui: &mut egui::Ui, state: &mut AppState, width: f32, actions: &mut Vec<UiCommand>) {
    let device = state.peer.as_ref().map(|p| p.device.name.clone());
    let mode = state.find_mode;
    let filtering = mode == FindMode::Filter && device.is_none();
    let hint = match (&device, mode) {
        (Some(d), _) => format!("Names on {d} (Ctrl+F)"),
        (None, FindMode::Filter) => "Filter this folder; Enter searches below (Ctrl+F)".to_owned(),
        (None, FindMode::Below) => "Names here and below (Ctrl+F)".to_owned(),
        (None, FindMode::Library) => "Names in the library (Ctrl+F)".to_owned(),
    };
    let label = ui.label("Search");
    let text = if filtering {
        &mut state.explorer.filter
    } else {
        &mut state.search_text
    };
    let mut out = egui::TextEdit::singleline(text)
        .hint_text(hint)
        .desired_width(width)
        .show(ui);
    let r = egui::Response::clone(&out.response).labelled_by(label.id);
    if std::mem::take(&mut state.focus_search) {
        // Ctrl+F: the keyboard in the field with what it holds selected, so typing replaces
        // an earlier search instead of adding to it (as a browser's find field does).
        r.request_focus();
        let all = egui::text::CCursorRange::two(
            egui::text::CCursor::new(0),
            egui::text::CCursor::new(text.chars().count()),
        );
        out.state.cursor.set_char_range(Some(all));
        out.state.store(ui.ctx(), r.id);
    }
    let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if filtering {
        if r.changed() {
            state.explorer.dirty = true;
        }
        if enter && !state.explorer.filter.trim().is_empty() {
            actions.push(UiCommand::FindIn(FindMode::Below));
        }
    } else if r.changed() {
        actions.push(UiCommand::Search);
    }
    // Where it looks: a segmented switch (a device has no filter; its whole is the device).
    ui.scope(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        let choices: &[(FindMode, &str, &str)] = if device.is_some() {
            &[
                (
                    FindMode::Below,
                    "Below",
                    "Names in the folder shown and below",
                ),
                (FindMode::Library, "All", "Names anywhere on the device"),
            ]
        } else {
            &[
                (
                    FindMode::Filter,
                    "This folder",
                    "Filter the folder shown as you type",
                ),
                (
                    FindMode::Below,
                    "Below",
                    "Search the folder shown and below",
                ),
                (FindMode::Library, "Library", "Search the whole library"),
            ]
        };
        let shown = if device.is_some() && mode == FindMode::Filter {
            FindMode::Below
        } else {
            mode
        };
        for &(m, name, tip) in choices {
            let r = ui
                .add(egui::Button::selectable(shown == m, name).small())
                .on_hover_text(tip);
            if r.clicked() && shown != m {
                actions.push(UiCommand::FindIn(m));
            }
        }
    });
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

/// `cmd`'s name with its shortcut, for a tooltip: "Back (Alt+Left)".
fn tip(cmd: &UiCommand) -> String {
    let kind = cmd.kind();
    match kind.shortcut_text() {
        Some(k) => format!("{} ({k})", kind.label()),
        None => kind.label().to_owned(),
    }
}

/// An icon button for `cmd`: named by its label (what a screen reader says), with its label
/// and shortcut as the tooltip.
fn icon_button(
    ui: &mut egui::Ui,
    icon: egui_material_icons::MaterialIcon,
    cmd: UiCommand,
    enabled: bool,
    actions: &mut Vec<UiCommand>,
) {
    let r = ui
        .add_enabled(
            enabled,
            egui::Button::new(icon_or_name(ui, icon, cmd.label())).frame(false),
        )
        .on_hover_text(tip(&cmd))
        .on_disabled_hover_text(tip(&cmd));
    let label = cmd.label();
    r.widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Button, enabled, label));
    if r.clicked() {
        actions.push(cmd);
    }
}

/// An icon that switches `cmd` on and off, drawn pressed while `on`; a check box to a screen
/// reader, named by the command's label.
fn icon_toggle(
    ui: &mut egui::Ui,
    icon: egui_material_icons::MaterialIcon,
    on: bool,
    cmd: UiCommand,
    actions: &mut Vec<UiCommand>,
) {
    let r = ui
        .add(egui::Button::selectable(
            on,
            icon_or_name(ui, icon, cmd.label()),
        ))
        .on_hover_text(tip(&cmd));
    let label = cmd.label();
    r.widget_info(|| egui::WidgetInfo::selected(egui::accesskit::Role::CheckBox, true, on, label));
    if r.clicked() {
        actions.push(cmd);
    }
}

/// The list/grid switch: two icons side by side, the one shown pressed; the shortcut
/// (Ctrl+G) in their tooltips.
fn view_switch(ui: &mut egui::Ui, grid: bool, actions: &mut Vec<UiCommand>) {
    let keys = CommandKind::ToggleView.shortcut_text().unwrap_or_default();
    ui.scope(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        // Right to left: the grid first.
        for (name, is_grid, icon) in [
            ("Grid", true, icons::ICON_GRID_VIEW),
            ("List", false, icons::ICON_VIEW_LIST),
        ] {
            let r = ui
                .add(egui::Button::selectable(
                    grid == is_grid,
                    icon_or_name(ui, icon, name),
                ))
                .on_hover_text(format!(
                    "Show the folder as a {} ({keys})",
                    name.to_lowercase()
                ));
            r.widget_info(|| {
                egui::WidgetInfo::selected(
                    egui::accesskit::Role::Button,
                    true,
                    grid == is_grid,
                    name,
                )
            });
            if r.clicked() && grid != is_grid {
                actions.push(UiCommand::ToggleView);
            }
        }
    });
}
