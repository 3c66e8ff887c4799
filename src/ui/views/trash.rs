//! The trash: what was trashed (its name, where it was, when), with "Restore" for the items
//! selected and "Empty trash…" (confirmed in a dialog).

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::state::items_text;
use crate::ui::widgets::ROW_HEIGHT;

/// Draws the trash; what the person does is pushed to `actions`. A click selects an item
/// alone, Ctrl+click adds or removes it.
pub(super) fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<UiCommand>) {
    let Some(items) = &state.trash else {
        ui.centered_and_justified(|ui| ui.spinner());
        return;
    };
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(format!("{} in the trash", items_text(items.len() as u64))).strong(),
        );
        let selected: Vec<_> = items
            .iter()
            .map(|i| i.path())
            .filter(|p| state.trash_selected.contains(p))
            .collect();
        let restore = egui::Button::new(UiCommand::Restore(Vec::new()).label());
        if ui
            .add_enabled(!selected.is_empty(), restore)
            .on_hover_text("Put the selected items back where they were")
            .clicked()
        {
            actions.push(UiCommand::Restore(selected));
        }
        let empty = egui::Button::new(UiCommand::EmptyTrash.label());
        if ui.add_enabled(!items.is_empty(), empty).clicked() {
            actions.push(UiCommand::EmptyTrash);
        }
    });
    ui.separator();
    if items.is_empty() {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.3);
            ui.label(RichText::new("The trash is empty").size(16.0));
        });
        return;
    }
    use egui_extras::{Column, TableBuilder};
    let mut clicked = None;
    TableBuilder::new(ui)
        .id_salt("trash")
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(220.0).at_least(120.0).clip(true))
        .column(Column::remainder().at_least(200.0).clip(true))
        .column(Column::initial(160.0).at_least(100.0))
        .header(ROW_HEIGHT, |mut header| {
            for title in ["Name", "Original location", "Deleted"] {
                header.col(|ui| {
                    ui.label(RichText::new(title).strong());
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, items.len(), |mut row| {
                let item = &items[row.index()];
                let path = item.path();
                row.set_selected(state.trash_selected.contains(&path));
                let name = item.original.file_name().map_or_else(
                    || item.name.to_string_lossy().into_owned(),
                    |n| n.to_string_lossy().into_owned(),
                );
                row.col(|ui| {
                    ui.add(egui::Label::new(name).truncate().selectable(false));
                });
                row.col(|ui| {
                    let folder = item.original.parent().unwrap_or(&item.original);
                    ui.add(
                        egui::Label::new(format::shown(folder))
                            .truncate()
                            .selectable(false),
                    );
                });
                row.col(|ui| {
                    ui.label(item.deleted.replace('T', " "));
                });
                let r = row.response();
                if r.clicked() || r.secondary_clicked() {
                    let toggle = r.ctx.input(|i| i.modifiers.command || i.modifiers.ctrl);
                    clicked = Some((path.clone(), toggle, r.secondary_clicked()));
                }
                r.context_menu(|ui| {
                    let restore = UiCommand::Restore(vec![path.clone()]);
                    if ui.button(restore.label()).clicked() {
                        actions.push(restore);
                        ui.close();
                    }
                });
            });
        });
    // A right click inside the selection keeps it (its menu acts on the item alone).
    if let Some((path, toggle, context)) = clicked
        && !(context && state.trash_selected.contains(&path))
    {
        actions.push(UiCommand::SelectTrashed { path, toggle });
    }
}
