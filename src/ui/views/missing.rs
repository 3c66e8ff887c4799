//! The missing items: files and folders that carried tags, a note, a rating or a place in a
//! collection and are gone from the index. What was on them is kept (a file that comes back
//! under the same identity finds it again) for [`MISSING_RETENTION_MS`], then forgotten;
//! here it is listed, with "Forget" for the items selected or all (asked first).

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::state::items_text;
use crate::ui::theme;
use crate::ui::widgets::ROW_HEIGHT;
use crate::vdfs::library::{DAY_MS, MISSING_RETENTION_MS};

/// A "Forget…" button that asks first: forgetting `entries` drops what was on them.
fn forget_button(
    ui: &mut egui::Ui,
    label: &str,
    entries: Vec<uuid::Uuid>,
    actions: &mut Vec<UiCommand>,
) {
    let n = entries.len() as u64;
    ui.add_enabled_ui(n > 0, |ui| {
        ui.menu_button(label, |ui| {
            ui.label(format!(
                "Forget the tags, notes and collection places of {}? Their files are gone already; this cannot be undone.",
                items_text(n)
            ));
            if ui.button(UiCommand::ForgetMissing(Vec::new()).label()).clicked() {
                actions.push(UiCommand::ForgetMissing(entries.clone()));
                ui.close();
            }
        });
    });
}

/// Draws the missing items; what the person does is pushed to `actions`. A click selects an
/// item alone, Ctrl+click adds or removes it.
pub(super) fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<UiCommand>) {
    let Some(items) = &state.missing else {
        ui.centered_and_justified(|ui| ui.spinner());
        return;
    };
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("{} missing", items_text(items.len() as u64))).strong());
        let selected: Vec<uuid::Uuid> = items
            .iter()
            .map(|i| i.entry)
            .filter(|u| state.missing_selected.contains(u))
            .collect();
        forget_button(ui, "Forget selected…", selected, actions);
        forget_button(
            ui,
            "Forget all…",
            items.iter().map(|i| i.entry).collect(),
            actions,
        );
    });
    ui.label(
        RichText::new(format!(
            "Files that carried your tags, notes or collection places and are gone from the index. What was on them is kept for {} days after they went (a file that comes back finds it again), then forgotten.",
            MISSING_RETENTION_MS / DAY_MS
        ))
        .small()
        .color(theme::weak(ui)),
    );
    ui.separator();
    if items.is_empty() {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.3);
            ui.label(RichText::new("Nothing is missing").size(16.0));
        });
        return;
    }
    use egui_extras::{Column, TableBuilder};
    let mut clicked = None;
    TableBuilder::new(ui)
        .id_salt("missing")
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(200.0).at_least(120.0).clip(true))
        .column(Column::initial(260.0).at_least(120.0).clip(true))
        .column(Column::initial(140.0).at_least(90.0))
        .column(Column::remainder().at_least(160.0).clip(true))
        .header(ROW_HEIGHT, |mut header| {
            for title in ["Name", "Where it was", "Gone since", "What was on it"] {
                header.col(|ui| {
                    ui.label(RichText::new(title).strong());
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, items.len(), |mut row| {
                let item = &items[row.index()];
                row.set_selected(state.missing_selected.contains(&item.entry));
                row.col(|ui| {
                    let name = item
                        .name
                        .clone()
                        .unwrap_or_else(|| "(name not known)".to_owned());
                    ui.add(egui::Label::new(name).truncate().selectable(false));
                });
                let folder = item
                    .path
                    .as_ref()
                    .and_then(|p| p.parent())
                    .map(|p| p.to_owned());
                row.col(|ui| {
                    let text = folder
                        .as_deref()
                        .map_or_else(|| "not known".to_owned(), format::shown);
                    ui.add(egui::Label::new(text).truncate().selectable(false));
                });
                row.col(|ui| {
                    ui.label(
                        item.gone_ms
                            .map_or_else(|| "not known".to_owned(), format::time_ms),
                    );
                });
                row.col(|ui| {
                    let mut what = Vec::new();
                    if !item.tags.is_empty() {
                        what.push(item.tags.join(", "));
                    }
                    if let Some(n) = &item.note {
                        what.push(format!("note \u{201c}{n}\u{201d}"));
                    }
                    if !item.collections.is_empty() {
                        what.push(format!("in {}", item.collections.join(", ")));
                    }
                    ui.add(
                        egui::Label::new(what.join("; "))
                            .truncate()
                            .selectable(false),
                    );
                });
                let r = row.response();
                if r.clicked() || r.secondary_clicked() {
                    let toggle = r.ctx.input(|i| i.modifiers.command || i.modifiers.ctrl);
                    clicked = Some((item.entry, toggle, r.secondary_clicked()));
                }
                r.context_menu(|ui| {
                    if let Some(f) = &folder
                        && ui.button("Show the folder it was in").clicked()
                    {
                        actions.push(UiCommand::GoTo(f.clone()));
                        ui.close();
                    }
                    forget_button(ui, "Forget…", vec![item.entry], actions);
                });
            });
        });
    // A right click inside the selection keeps it.
    if let Some((entry, toggle, context)) = clicked
        && !(context && state.missing_selected.contains(&entry))
    {
        actions.push(UiCommand::SelectMissing { entry, toggle });
    }
}
