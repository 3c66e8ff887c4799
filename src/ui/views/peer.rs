//! A paired device in the explorer: its shared locations, then its folders (listed by the
//! device, from its index where it has one); "Copy to this device" copies the
//! selected items into the local folder that was shown before, verified end to end; "Paste
//! here" sends the local items on the clipboard into the folder shown (the device pulls and
//! verifies them).

use eframe::egui::{self, RichText};

use crate::format;
use crate::net::browse::child_path;
use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::state::items_text;
use crate::ui::widgets::ROW_HEIGHT;
use crate::vdfs::fs::entry::EntryKind;

/// The parent of `path` inside the device's locations, or `None` (its locations) at a
/// location's root.
pub(crate) fn parent(state: &crate::ui::state::PeerView, path: &[u8]) -> Option<Vec<u8>> {
    if state.locations.iter().any(|l| l.path == path) {
        return None;
    }
    let cut = path.iter().rposition(|&b| b == b'/')?;
    (cut > 0).then(|| path[..cut].to_vec())
}

/// Draws the device view; what the person does is pushed to `actions`.
pub(super) fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<UiCommand>) {
    let Some(p) = &state.peer else { return };
    ui.horizontal(|ui| {
        ui.label(RichText::new(&p.device.name).strong());
        match &p.path {
            None => {
                ui.label("— the locations it shares");
            }
            Some(path) => {
                if ui.small_button("Locations").clicked() {
                    actions.push(UiCommand::PeerOpen(None));
                }
                ui.label(String::from_utf8_lossy(path));
            }
        }
        if p.loading {
            ui.spinner();
        }
    });
    ui.horizontal(|ui| {
        // The one folder selected opens (as a double-click does).
        let folder = p.path.as_ref().and_then(|dir| {
            let [name] = p.selected.iter().collect::<Vec<_>>()[..] else {
                return None;
            };
            p.items
                .iter()
                .any(|i| &i.name == name && i.kind == EntryKind::Dir)
                .then(|| child_path(dir, name))
        });
        if ui
            .add_enabled(folder.is_some(), egui::Button::new(UiCommand::PeerOpen(None).label()))
            .on_hover_text("Open the selected folder")
            .clicked()
        {
            actions.push(UiCommand::PeerOpen(folder));
        }
        let dest = p
            .dest
            .as_ref()
            .map_or_else(|| "no folder".to_owned(), |d| d.display().to_string());
        let busy = state.transfer.is_some();
        let can = p.path.is_some() && !p.selected.is_empty() && p.dest.is_some();
        let copy = egui::Button::new(UiCommand::PeerCopy.label());
        if ui
            .add_enabled(can && !busy, copy)
            .on_hover_text(format!(
                "Copy the selected items into {dest} (the folder shown before), each file checked by BLAKE3; or Ctrl+C here, then Ctrl+V in any folder"
            ))
            .clicked()
        {
            actions.push(UiCommand::PeerCopy);
        }
        // Local items on the clipboard (Ctrl+C in a folder here) are sent into this folder.
        let local = state
            .clipboard
            .as_ref()
            .filter(|c| c.device.is_none())
            .map(|c| c.paths.len());
        let paste = egui::Button::new(UiCommand::PeerPaste.label());
        let hint = match (local, &p.path) {
            (_, None) => "Open a folder of the device to paste into".to_owned(),
            (None, _) => "Copy files here with Ctrl+C in a local folder, then paste them into this folder of the device".to_owned(),
            (Some(n), Some(dir)) => format!(
                "Send {} from the clipboard into {} on {}, each file checked by BLAKE3 there",
                items_text(n as u64),
                String::from_utf8_lossy(dir),
                p.device.name
            ),
        };
        if ui
            .add_enabled(local.is_some() && p.path.is_some() && !busy, paste)
            .on_hover_text(hint)
            .clicked()
        {
            actions.push(UiCommand::PeerPaste);
        }
        if let Some(t) = &state.transfer {
            transfer_bar(ui, t);
        } else if !p.selected.is_empty() {
            ui.label(format!("{} selected, to copy into {dest}", items_text(p.selected.len() as u64)));
        }
    });
    ui.separator();
    if let Some(f) = &p.found {
        found(ui, p, f, actions);
        return;
    }
    // Local items dragged onto the folder shown (from the other side of the split view) are
    // sent into it.
    if let Some(dir) = &p.path {
        let area = ui.interact(
            ui.available_rect_before_wrap(),
            ui.scope_id().with("device folder drop"),
            egui::Sense::hover(),
        );
        crate::ui::dnd::device_target(&area, &p.device.name, dir, actions);
    }
    if let Some(e) = &p.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
        return;
    }
    if p.path.is_none() {
        if p.locations.is_empty() && !p.loading {
            ui.label(format!("{} shares no locations.", p.device.name));
            return;
        }
        table(
            ui,
            "peer-locations",
            ["Location", "Files", "Size"],
            [120.0, 100.0],
        )
        .body(|body| {
            body.rows(ROW_HEIGHT, p.locations.len(), |mut row| {
                let l = &p.locations[row.index()];
                row.col(|ui| {
                    let t = String::from_utf8_lossy(&l.path);
                    let text = if l.online {
                        RichText::new(t)
                    } else {
                        RichText::new(format!("{t} (offline)")).weak()
                    };
                    cell(ui, text);
                });
                row.col(|ui| cell(ui, l.files.to_string().into()));
                row.col(|ui| cell(ui, format::bytes(l.bytes).into()));
                if row.response().double_clicked() || row.response().clicked() {
                    actions.push(UiCommand::PeerOpen(Some(l.path.clone())));
                }
            });
        });
        return;
    }
    let items: Vec<_> = p.visible(state.explorer.show_hidden).collect();
    if items.is_empty() && !p.loading {
        ui.label(if p.items.is_empty() {
            "This folder is empty."
        } else {
            "Only hidden items here (Ctrl+H shows them)."
        });
        return;
    }
    let dir = p.path.clone().unwrap_or_default();
    table(
        ui,
        "peer-items",
        ["Name", "Size", "Modified"],
        [100.0, 150.0],
    )
    .body(|body| {
        body.rows(ROW_HEIGHT, items.len(), |mut row| {
            let it = items[row.index()];
            row.set_selected(p.selected.contains(&it.name));
            let folder = it.kind == EntryKind::Dir;
            entry_cells(&mut row, &it.name, folder, it.size, it.mtime_ns);
            let r = row.response();
            // The selection is dragged when the item pressed is in it, else that item alone.
            drag_source(&r, p, || {
                if p.selected.contains(&it.name) {
                    p.items
                        .iter()
                        .filter(|i| p.selected.contains(&i.name))
                        .map(|i| child_path(&dir, &i.name))
                        .collect()
                } else {
                    vec![child_path(&dir, &it.name)]
                }
            });
            if r.double_clicked() && folder {
                actions.push(UiCommand::PeerOpen(Some(child_path(&dir, &it.name))));
            } else if r.clicked() {
                actions.push(UiCommand::SelectPeerItem {
                    name: it.name.clone(),
                    toggle: ui_ctrl(&r),
                });
            }
        });
    });
}

/// A search of the device: its hits, best first; a click opens the hit's folder with it
/// selected.
fn found(
    ui: &mut egui::Ui,
    p: &crate::ui::state::PeerView,
    f: &crate::ui::state::PeerFound,
    actions: &mut Vec<UiCommand>,
) {
    let dark = ui.visuals().dark_mode;
    if let Some(e) = &f.error {
        ui.colored_label(crate::ui::theme::error(dark), e);
        return;
    }
    match f.total {
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Searching {}…", p.device.name));
            });
        }
        Some(0) => {
            ui.label(format!(
                "Nothing on {} has that in its name.",
                p.device.name
            ));
            return;
        }
        Some(n) if n > f.hits.len() as u64 => {
            ui.label(format!(
                "{} match on {}; the first {} are shown. Type more to narrow.",
                format::count(n),
                p.device.name,
                f.hits.len()
            ));
        }
        Some(n) => {
            ui.label(format!("{} on {}", items_text(n), p.device.name));
        }
    }
    crate::ui::widgets::hits_table(ui, "peer-hits")
        .header(ROW_HEIGHT, |mut h| {
            for t in ["Name", "Folder", "Size", "Modified"] {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
        .body(|body| {
            // The device's close matches come after its real ones, under a heading, as here.
            use crate::ui::views::results::{CLOSE_RANK, hit_of_row};
            let close_at = f.hits.iter().position(|h| h.rank == CLOSE_RANK);
            let rows = f.hits.len() + usize::from(close_at.is_some());
            body.rows(ROW_HEIGHT, rows, |mut row| {
                let Some(i) = hit_of_row(&mut row, close_at) else {
                    return;
                };
                let h = &f.hits[i];
                let (folder, name) = hit_place(&h.path, p.path.as_deref());
                let shown = String::from_utf8_lossy(name);
                let shown = if h.kind == EntryKind::Dir {
                    format!("{shown}/")
                } else {
                    shown.into_owned()
                };
                let shown = if h.rank == CLOSE_RANK {
                    RichText::new(shown).italics()
                } else {
                    RichText::new(shown)
                };
                row.col(|ui| cell(ui, shown));
                row.col(|ui| {
                    ui.add(
                        egui::Label::new(RichText::new(folder).color(crate::ui::theme::weak(ui)))
                            .truncate()
                            .selectable(false),
                    )
                    .on_hover_text(String::from_utf8_lossy(&h.path));
                });
                row.col(|ui| cell(ui, format::bytes(h.size).into()));
                row.col(|ui| cell(ui, format::time_ms(h.mtime_ns / 1_000_000).into()));
                let r = row.response();
                drag_source(&r, p, || vec![h.path.clone()]);
                if r.clicked() {
                    actions.push(UiCommand::PeerReveal(h.path.clone()));
                }
            });
        });
}

/// Where a hit at `path` (absolute on the device, exact bytes) is, for its row: its folder
/// below `within` (the folder searched; "here" for that folder itself, the full folder when
/// the hit is elsewhere), and its name.
pub(crate) fn hit_place<'a>(path: &'a [u8], within: Option<&[u8]>) -> (String, &'a [u8]) {
    let cut = path.iter().rposition(|&b| b == b'/');
    let (parent, name) = match cut {
        Some(0) => (&path[..1], &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], path),
    };
    let below = within.and_then(|w| {
        let w = w.strip_suffix(b"/").unwrap_or(w);
        if parent == w {
            Some(Vec::new())
        } else {
            parent
                .strip_prefix(w)
                .and_then(|rest| rest.strip_prefix(b"/"))
                .map(<[u8]>::to_vec)
        }
    });
    let folder = match below {
        Some(rel) if rel.is_empty() => "here".to_owned(),
        Some(rel) => String::from_utf8_lossy(&rel).into_owned(),
        None => String::from_utf8_lossy(parent).into_owned(),
    };
    (folder, name)
}

/// An item's cells: its name or path (exact bytes shown lossily; a folder's ends in "/"),
/// size and modification time (ns since the epoch).
fn entry_cells(
    row: &mut egui_extras::TableRow<'_, '_>,
    name: &[u8],
    folder: bool,
    size: u64,
    mtime_ns: i64,
) {
    let shown = String::from_utf8_lossy(name);
    let shown = if folder {
        format!("{shown}/")
    } else {
        shown.into_owned()
    };
    row.col(|ui| cell(ui, shown.into()));
    row.col(|ui| cell(ui, format::bytes(size).into()));
    row.col(|ui| cell(ui, format::time_ms(mtime_ns / 1_000_000).into()));
}

/// Makes `r` (a row of device `p`'s folder or search hits) the source of a drag of
/// `paths()` onto a local folder (see [`crate::ui::dnd::DraggedRemote`]).
fn drag_source(
    r: &egui::Response,
    p: &crate::ui::state::PeerView,
    paths: impl FnOnce() -> Vec<Vec<u8>>,
) {
    crate::ui::dnd::remote_source(r, || crate::ui::dnd::DraggedRemote {
        device: p.device.id,
        device_name: p.device.name.clone(),
        paths: paths(),
    });
}

/// A striped table whose rows take clicks and drags: a wide first column, then two of `widths`
/// points, under `titles`.
fn table<'a>(
    ui: &'a mut egui::Ui,
    id: &str,
    titles: [&str; 3],
    widths: [f32; 2],
) -> egui_extras::Table<'a> {
    use egui_extras::{Column, TableBuilder};
    let widths = crate::ui::widgets::fit_columns(ui, widths, 160.0);
    let step = crate::ui::widgets::width_step(ui);
    TableBuilder::new(ui)
        .id_salt((id, step))
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click_and_drag())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::remainder().at_least(160.0).clip(true))
        .column(Column::initial(widths[0]))
        .column(Column::initial(widths[1]))
        .header(ROW_HEIGHT, |mut h| {
            for t in titles {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
}

/// A table cell's text: not selectable, so a click selects the row.
fn cell(ui: &mut egui::Ui, text: RichText) {
    ui.add(egui::Label::new(text).truncate().selectable(false));
}

fn ui_ctrl(r: &egui::Response) -> bool {
    r.ctx.input(|i| i.modifiers.command)
}

/// A copy between devices: what it does and how far it got.
pub(crate) fn transfer_bar(ui: &mut egui::Ui, t: &crate::ui::state::Transfer) {
    let frac = if t.total == 0 {
        0.0
    } else {
        t.done as f32 / t.total as f32
    };
    ui.add(
        egui::ProgressBar::new(frac)
            .desired_width(220.0)
            .text(format!(
                "{}: {} of {}",
                t.title,
                format::bytes(t.done),
                format::bytes(t.total)
            )),
    );
}

#[cfg(test)]
mod tests {
    use super::hit_place;

    #[test]
    fn a_hit_shows_its_folder_below_the_one_searched() {
        let within = Some(&b"/share/docs"[..]);
        assert_eq!(
            hit_place(b"/share/docs/a/b/q3.txt", within),
            ("a/b".to_owned(), &b"q3.txt"[..])
        );
        assert_eq!(
            hit_place(b"/share/docs/q3.txt", Some(b"/share/docs/")),
            ("here".to_owned(), &b"q3.txt"[..])
        );
        // Not below it (a search of the whole library, or a sibling named alike): in full.
        assert_eq!(
            hit_place(b"/share/docs2/q3.txt", within),
            ("/share/docs2".to_owned(), &b"q3.txt"[..])
        );
        assert_eq!(
            hit_place(b"/q3.txt", None),
            ("/".to_owned(), &b"q3.txt"[..])
        );
        // A name that is not UTF-8 keeps its bytes; its folder is shown lossily.
        assert_eq!(
            hit_place(b"/share/docs/caf\xe9/x\xff", within),
            ("caf\u{fffd}".to_owned(), &b"x\xff"[..])
        );
    }
}
