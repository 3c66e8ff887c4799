//! The list view: a virtualised table of the folder with sortable columns and a context menu
//! per row.

use eframe::egui::{self, RichText};

use super::Drawn;
use crate::format;
use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::explorer::{Geometry, Scroll, SortKey};
use crate::ui::state::Renaming;
use crate::ui::theme;
use crate::ui::widgets::{ROW_HEIGHT, kind_text, size_text};
use crate::vdfs::fs::entry::os_bytes;

/// Below this width (points) the columns start narrower.
const NARROW: f32 = 640.0;

/// Draws the folder shown as a table; what the person does is pushed to `actions`.
/// `scroll` is carried out in this frame only; `width_step` is the view's width in 64-point
/// steps. Returns where the table is scrolled and its layout.
pub(super) fn show(
    ui: &mut egui::Ui,
    state: &AppState,
    renaming: &mut Option<Renaming>,
    scroll: Option<Scroll>,
    width_step: u32,
    actions: &mut Vec<UiCommand>,
) -> Drawn {
    use egui_extras::{Column, TableBuilder};
    let e = &state.explorer;
    let Some(folder) = &e.folder else {
        return Drawn::default();
    };
    let row_step = ROW_HEIGHT + ui.spacing().item_spacing.y;
    let prefs = e.current_prefs();
    let dark = ui.visuals().dark_mode;
    let cursor = e.selection.cursor;
    // Column widths are remembered per layout (inspector shown or not, window width in
    // 64-pixel steps), so the columns re-fit when either changes.
    // The columns shown: the name always, the others unless hidden (from a title's menu).
    let shown = |k: SortKey| !e.hidden_columns.contains(&k);
    // A narrow view (a side of the split view) starts its columns narrower, so all of them
    // fit beside a readable name.
    let narrow = ui.available_width() < NARROW;
    let (size_w, modified_w, kind_w) = if narrow {
        (72.0, 118.0, 76.0)
    } else {
        (90.0, 140.0, 100.0)
    };
    let created_w = modified_w;
    let columns: Vec<(SortKey, &str, Column)> = [
        (
            SortKey::Name,
            "Name",
            Column::remainder().at_least(120.0).clip(true),
        ),
        (
            SortKey::Size,
            "Size",
            Column::initial(size_w).at_least(60.0),
        ),
        (
            SortKey::Modified,
            "Modified",
            Column::initial(modified_w).at_least(80.0),
        ),
        (
            SortKey::Kind,
            "Kind",
            Column::initial(kind_w).at_least(60.0),
        ),
        (
            SortKey::Created,
            "Created",
            Column::initial(created_w).at_least(80.0),
        ),
        (
            SortKey::Dimensions,
            "Dimensions",
            Column::initial(kind_w).at_least(60.0),
        ),
    ]
    .into_iter()
    .filter(|(k, _, _)| shown(*k))
    .collect();
    let mut table = TableBuilder::new(ui)
        // Widths are the folder's own (a column widened in one folder stays so there).
        .id_salt((
            "listing",
            folder,
            e.inspector,
            width_step,
            &e.hidden_columns,
        ))
        .striped(true)
        .resizable(true)
        // Drags start past egui's click distance, so a click stays a click.
        .sense(egui::Sense::click_and_drag())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
    for (_, _, c) in &columns {
        table = table.column(*c);
    }
    match scroll {
        Some(Scroll::ToRow(row)) => table = table.scroll_to_row(row, None),
        Some(Scroll::ToOffset(y)) => table = table.vertical_scroll_offset(y),
        None => {}
    }
    let mut over_item = false;
    let mut wanted_dims = Vec::new();
    let out = table
        .header(ROW_HEIGHT, |mut header| {
            for &(key, title, _) in &columns {
                header.col(|ui| {
                    // Dimensions are read for the rows shown only: not an order for the folder.
                    let sorts = key != SortKey::Dimensions;
                    let r = ui
                        .add(egui::Button::new(RichText::new(title).strong()).frame(false))
                        .on_hover_text(if sorts {
                            "Sort by this column; right-click to show or hide columns"
                        } else {
                            "An image's width × height in pixels; right-click to show or hide columns"
                        });
                    if r.clicked() && sorts {
                        actions.push(UiCommand::SortBy(key));
                    }
                    r.context_menu(|ui| {
                        for (k, t) in [
                            (SortKey::Size, "Size"),
                            (SortKey::Modified, "Modified"),
                            (SortKey::Kind, "Kind"),
                            (SortKey::Created, "Created"),
                            (SortKey::Dimensions, "Dimensions"),
                        ] {
                            let mut on = shown(k);
                            if ui.checkbox(&mut on, t).clicked() {
                                actions.push(UiCommand::ToggleColumn(k));
                                ui.close();
                            }
                        }
                    });
                    if prefs.sort == key {
                        theme::sort_arrow(ui, prefs.ascending);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, e.order.len(), |mut row| {
                let r = row.index();
                let item = &e.items[e.order[r] as usize];
                let selected = e.selection.items.contains(&e.order[r]);
                row.set_selected(selected);
                let editing = renaming.as_mut().filter(|r| {
                    r.path.parent() == Some(folder)
                        && r.path.file_name().map(os_bytes) == Some(&item.raw_name[..])
                });
                row.col(|ui| {
                    theme::kind_badge(ui, item.kind, item.content_kind, dark);
                    label_dot(ui, super::label_of(state, item));
                    if let Some(edit) = editing {
                        let w = ui.available_width();
                        super::rename_field(ui, edit, item.kind, w, actions);
                        return;
                    }
                    let mut text = RichText::new(&item.name);
                    if item.hidden {
                        text = text.color(theme::weak(ui));
                    }
                    if cursor == Some(r) {
                        text = text.underline();
                    }
                    let tags: Vec<&crate::vdfs::library::TagInfo> = super::tags_of(state, item)
                        .iter()
                        .filter_map(|id| state.tags.iter().find(|t| t.id == *id))
                        .collect();
                    if tags.is_empty() {
                        ui.add(egui::Label::new(text).truncate().selectable(false));
                    } else {
                        // The tags at the right end of the name's cell; the name takes the
                        // rest (cut short if it must).
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            for t in tags.iter().take(3).rev() {
                                theme::tag_chip(ui, t);
                            }
                            if tags.len() > 3 {
                                ui.label(
                                    RichText::new(format!("+{}", tags.len() - 3))
                                        .small()
                                        .color(theme::weak(ui)),
                                );
                            }
                            ui.with_layout(
                                egui::Layout::left_to_right(egui::Align::Center),
                                |ui| {
                                    ui.add(egui::Label::new(text).truncate().selectable(false));
                                },
                            );
                        });
                    }
                });
                if shown(SortKey::Size) {
                    row.col(|ui| {
                        ui.label(size_text(item));
                    });
                }
                if shown(SortKey::Modified) {
                    row.col(|ui| {
                        ui.label(format::time_ms(item.mtime_ns / 1_000_000));
                    });
                }
                if shown(SortKey::Kind) {
                    row.col(|ui| {
                        ui.label(kind_text(item));
                    });
                }
                if shown(SortKey::Created) {
                    row.col(|ui| {
                        // Unknown: not kept by the file system, or not read from the disk yet.
                        ui.label(
                            item.created_ns
                                .map_or_else(|| "—".to_owned(), |t| format::time_ms(t / 1_000_000)),
                        );
                    });
                }
                if shown(SortKey::Dimensions) {
                    row.col(|ui| {
                        // An image's pixels, read from its header for the rows shown.
                        if item.kind == crate::vdfs::fs::entry::EntryKind::File
                            && item.content_kind
                                == crate::vdfs::content::filetype::ContentKind::Image
                        {
                            let path = item.path_in(folder);
                            match state.dims.get(&path) {
                                Some(Some((w, h))) => {
                                    ui.label(format!("{w} × {h}"));
                                }
                                Some(None) => {
                                    ui.label("—");
                                }
                                None => {
                                    ui.label(RichText::new("…").color(theme::weak(ui)));
                                    if !state.dims_pending.contains(&path) {
                                        wanted_dims.push(path);
                                    }
                                }
                            }
                        }
                    });
                }
                let resp = row.response();
                over_item |= super::item_response(&resp, state, item, folder, actions);
            });
        });
    Drawn {
        offset: out.state.clamped_offset().y,
        geometry: Geometry {
            columns: 1,
            // A page keeps one row of the last in view.
            page_rows: ((out.inner_rect.height() / row_step) as usize)
                .saturating_sub(1)
                .max(1),
        },
        over_item,
        wanted_dims,
    }
}

/// A row's label colour: a dot before its name (nothing without a label).
fn label_dot(ui: &mut egui::Ui, label: u8) {
    let Some(colour) = theme::label_colour(label, ui.visuals().dark_mode) else {
        return;
    };
    let (rect, r) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 4.5, colour);
    let name = crate::vdfs::index::tags::LABELS
        .get(usize::from(label) - 1)
        .copied()
        .unwrap_or("?");
    r.on_hover_text(format!("Label: {name}"));
}
