//! The grid view: virtualised cells with thumbnails for images (asked for only when visible) and
//! kind icons otherwise.

use eframe::egui;

use super::Drawn;
use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::explorer::{Geometry, Scroll};
use crate::ui::state::Renaming;
use crate::ui::theme;
use crate::ui::widgets::Textures;
use crate::vdfs::fs::entry::os_bytes;

/// Draws the folder shown as a grid of cells; what the person does is pushed to `actions`.
/// `scroll` is carried out in this frame only. Returns where the grid is scrolled and its
/// layout.
pub(super) fn show(
    ui: &mut egui::Ui,
    state: &mut AppState,
    renaming: &mut Option<Renaming>,
    scroll: Option<Scroll>,
    textures: &mut Textures,
    actions: &mut Vec<UiCommand>,
) -> Drawn {
    let e = &state.explorer;
    let Some(folder) = &e.folder else {
        return Drawn::default();
    };
    let (thumbs, pending) = (&state.thumbs, &state.thumbs_pending);
    let z = state.grid_zoom;
    let cell = egui::vec2(z + 32.0, z * 0.75 + 48.0);
    let per_row = ((ui.available_width() / cell.x).floor() as usize).max(1);
    let rows = e.order.len().div_ceil(per_row);
    let dark = ui.visuals().dark_mode;
    let mut wanted = Vec::new();
    let mut over_item = false;
    let mut area = egui::ScrollArea::vertical()
        .id_salt("grid")
        .auto_shrink([false, false]);
    if let Some(Scroll::ToOffset(y)) = scroll {
        area = area.vertical_scroll_offset(y);
    }
    let row_step = cell.y + ui.spacing().item_spacing.y;
    let out = area.show_rows(ui, cell.y, rows, |ui, range| {
        if let Some(Scroll::ToRow(r)) = scroll {
            // The tile's row, placed from the first row drawn (rows are evenly spaced).
            let top = ui.min_rect().top() + ((r / per_row) as f32 - range.start as f32) * row_step;
            let rect = egui::Rect::from_min_size(
                egui::pos2(ui.min_rect().left(), top),
                egui::vec2(cell.x, cell.y),
            );
            ui.scroll_to_rect(rect, None);
        }
        for row in range {
            ui.horizontal(|ui| {
                for col in 0..per_row {
                    let r = row * per_row + col;
                    let Some(&idx) = e.order.get(r) else { break };
                    let item = &e.items[idx as usize];
                    let selected = e.selection.items.contains(&idx);
                    let (rect, resp) = ui.allocate_exact_size(cell, egui::Sense::click_and_drag());
                    // Named for screen readers and tests, like a list row.
                    resp.widget_info(|| {
                        egui::WidgetInfo::selected(
                            egui::accesskit::Role::Button,
                            true,
                            selected,
                            &item.name,
                        )
                    });
                    if selected {
                        ui.painter().rect_filled(
                            rect.shrink(2.0),
                            6.0,
                            ui.visuals().selection.bg_fill,
                        );
                    }
                    let frame = egui::Rect::from_center_size(
                        rect.center() - egui::vec2(0.0, 16.0),
                        egui::vec2(z, z * 0.75),
                    );
                    let mut drawn = false;
                    if item.shows_picture() {
                        let path = item.path_in(folder);
                        match thumbs.get(&path) {
                            Some(Some(img)) => {
                                let tex =
                                    crate::ui::widgets::texture(ui.ctx(), textures, &path, img);
                                let size = tex.size_vec2();
                                let scale = (frame.width() / size.x).min(frame.height() / size.y);
                                let r = egui::Rect::from_center_size(frame.center(), size * scale);
                                let uv = egui::Rect::from_min_max(
                                    egui::pos2(0.0, 0.0),
                                    egui::pos2(1.0, 1.0),
                                );
                                ui.painter().image(tex.id(), r, uv, theme::IMAGE_TINT);
                                drawn = true;
                            }
                            Some(None) => {}
                            None => {
                                if !pending.contains(&path) {
                                    wanted.push((path, item.cas.map(|c| c.content_uuid())));
                                }
                            }
                        }
                    }
                    if !drawn {
                        let side = (z * 0.55).max(24.0);
                        let icon =
                            egui::Rect::from_center_size(frame.center(), egui::vec2(side, side));
                        theme::paint_kind_icon(
                            ui.painter(),
                            icon,
                            item.kind,
                            item.content_kind,
                            dark,
                        );
                    }
                    let editing = renaming.as_mut().filter(|r| {
                        r.path.parent() == Some(folder.as_path())
                            && r.path.file_name().map(os_bytes) == Some(&item.raw_name[..])
                    });
                    if let Some(edit) = editing {
                        let field = egui::Rect::from_min_size(
                            egui::pos2(rect.left() + 2.0, rect.bottom() - 38.0),
                            egui::vec2(cell.x - 4.0, 22.0),
                        );
                        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(field));
                        super::rename_field(&mut child, edit, item.kind, cell.x - 4.0, actions);
                        over_item |= super::item_response(&resp, state, item, folder, actions);
                        continue;
                    }
                    let galley = ui.painter().layout(
                        item.name.clone(),
                        egui::FontId::proportional(12.0),
                        ui.visuals().text_color(),
                        cell.x - 8.0,
                    );
                    let pos = egui::pos2(
                        rect.center().x - galley.size().x.min(cell.x - 8.0) / 2.0,
                        rect.bottom() - 34.0,
                    );
                    ui.painter().galley(pos, galley, ui.visuals().text_color());
                    // The tile's tags: a dot of each tag's colour in its top right corner (up to
                    // five); their names on hover.
                    let tags: Vec<&crate::vdfs::library::TagInfo> = super::tags_of(state, item)
                        .iter()
                        .filter_map(|id| state.tags.iter().find(|t| t.id == *id))
                        .collect();
                    for (i, t) in tags.iter().take(5).enumerate() {
                        let colour = t
                            .record
                            .colour
                            .as_deref()
                            .and_then(|c| egui::Color32::from_hex(c).ok())
                            .unwrap_or(egui::Color32::GRAY);
                        let c =
                            egui::pos2(rect.right() - 10.0 - i as f32 * 11.0, rect.top() + 10.0);
                        ui.painter().circle_filled(c, 4.5, colour);
                        ui.painter().circle_stroke(
                            c,
                            4.5,
                            egui::Stroke::new(1.0, ui.visuals().panel_fill),
                        );
                    }
                    // Its label colour: a bar along the tile's foot.
                    if let Some(colour) =
                        theme::label_colour(super::label_of(state, item), ui.visuals().dark_mode)
                    {
                        let bar = egui::Rect::from_min_max(
                            egui::pos2(rect.left() + 6.0, rect.bottom() - 4.0),
                            egui::pos2(rect.right() - 6.0, rect.bottom() - 1.0),
                        );
                        ui.painter().rect_filled(bar, 1.5, colour);
                    }
                    let resp = if tags.is_empty() {
                        resp
                    } else {
                        let names: Vec<String> = tags.iter().map(|t| t.qualified()).collect();
                        resp.on_hover_text(format!("Tags: {}", names.join(", ")))
                    };
                    over_item |= super::item_response(&resp, state, item, folder, actions);
                }
            });
        }
    });
    for (path, content) in wanted {
        state.want_thumbnail(path, content);
    }
    if textures.len() > 600 {
        textures.clear();
    }
    Drawn {
        offset: out.state.clamped_offset().y,
        geometry: Geometry {
            columns: per_row,
            page_rows: ((out.inner_rect.height() / row_step) as usize).max(1),
        },
        over_item,
        wanted_dims: Vec::new(),
    }
}
