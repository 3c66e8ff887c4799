//! The duplicates view: groups of identical files, largest waste first, a checkbox per copy
//! marking the copies to keep (marked by a rule first: newest, oldest, in a folder, shortest
//! path), and "Trash the others" with the count and bytes it would free.

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::{CommandKind, UiCommand};
use crate::ui::theme;
use crate::ui::widgets::{ROW_HEIGHT, Textures, fixed_width};
use crate::vdfs::query::dupes::Keep;

/// Draws the duplicate groups; what the person does is pushed to `actions`.
pub(super) fn show(
    ui: &mut egui::Ui,
    state: &mut AppState,
    textures: &mut Textures,
    actions: &mut Vec<UiCommand>,
) {
    let Some(groups) = &state.dupes else {
        ui.centered_and_justified(|ui| ui.spinner());
        return;
    };
    let wasted = crate::vdfs::query::dupes::total_wasted(groups);
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("{} groups of identical files", groups.len())).strong());
        ui.label(format!("{} could be freed", format::bytes(wasted)));
    });
    // The rules: each marks the copies to keep in every group.
    let here = state.explorer.folder.clone();
    ui.horizontal(|ui| {
        ui.label(CommandKind::KeepPreset.label());
        for (rule, text) in [
            (Keep::Newest, "Newest"),
            (Keep::Oldest, "Oldest"),
            (Keep::Shortest, "Shortest path"),
        ] {
            if ui
                .selectable_label(state.dupes_preset == rule, text)
                .clicked()
            {
                actions.push(UiCommand::KeepPreset(rule));
            }
        }
        if let Some(here) = here {
            let rule = Keep::In(here);
            if ui
                .selectable_label(state.dupes_preset == rule, "In the current folder")
                .clicked()
            {
                actions.push(UiCommand::KeepPreset(rule));
            }
        }
        ui.add(
            egui::TextEdit::singleline(&mut state.dupes_folder)
                .hint_text("or a folder…")
                .desired_width(220.0),
        );
        let typed = state.dupes_folder.trim();
        if ui
            .add_enabled(!typed.is_empty(), egui::Button::new("In this folder"))
            .clicked()
        {
            actions.push(UiCommand::KeepPreset(Keep::In(typed.into())));
        }
    });
    let reclaim = state.dupes_reclaim();
    ui.horizontal(|ui| {
        let label = format!(
            "{} ({}, {})",
            CommandKind::TrashOtherCopies.label(),
            if reclaim.paths.len() == 1 {
                "1 copy".to_owned()
            } else {
                format!("{} copies", reclaim.paths.len())
            },
            format::bytes(reclaim.bytes)
        );
        let enabled = !state.dupes_trashing && !groups.is_empty();
        if ui
            .add_enabled(enabled, egui::Button::new(label))
            .on_hover_text(
                "Moves every copy not marked to the trash, as one operation (Ctrl+Z brings them \
                 back). Each group is compared byte for byte first; the last copy of a file is \
                 never trashed.",
            )
            .clicked()
        {
            actions.push(UiCommand::TrashOtherCopies);
        }
        if ui
            .add_enabled(
                enabled,
                egui::Button::new(CommandKind::LinkOtherCopies.label()),
            )
            .on_hover_text(
                "Replaces every copy not marked by a hard link to a kept copy on the same \
                 volume: the space is freed and every path stays. Linked files share one copy, \
                 so an edit to one shows in all. Shows the preview first; Ctrl+Z gives each \
                 file its own copy again.",
            )
            .clicked()
        {
            actions.push(UiCommand::LinkOtherCopies);
        }
        if state.dupes_trashing {
            ui.spinner();
        } else if reclaim.unkept > 0 {
            ui.label(
                RichText::new(format!(
                    "{} with no copy marked to keep",
                    if reclaim.unkept == 1 {
                        "1 group".to_owned()
                    } else {
                        format!("{} groups", reclaim.unkept)
                    }
                ))
                .color(theme::weak(ui)),
            );
        }
    });
    ui.label(
        RichText::new(
            "Found by sampled content hash. Check the copies to keep; click a copy to show it.",
        )
        .color(theme::weak(ui)),
    );
    ui.separator();
    if groups.is_empty() {
        ui.label("No duplicates. Index locations in Content mode to find them.");
        return;
    }
    // One row per group header and per copy, so the list is virtualised row by row.
    let rows: Vec<(usize, Option<usize>)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, grp)| {
            std::iter::once((g, None)).chain((0..grp.members.len()).map(move |m| (g, Some(m))))
        })
        .collect();
    let mut area = egui::ScrollArea::vertical()
        .id_salt("dupes")
        .auto_shrink([false, false]);
    // The view opens at the top, not where it was left last time.
    if std::mem::take(&mut state.dupes_top) {
        area = area.vertical_scroll_offset(0.0);
    }
    let mut wanted = Vec::new();
    area.show_rows(ui, ROW_HEIGHT, rows.len(), |ui, range| {
        for &(g, m) in &rows[range] {
            let grp = &groups[g];
            ui.horizontal(|ui| {
                ui.set_height(ROW_HEIGHT - 4.0);
                match m {
                    None => {
                        // Every copy has the same bytes: one thumbnail for the group, of its
                        // first copy, asked for only while the group is on screen.
                        if let Some(first) = grp.members.first()
                            && is_image(&first.path)
                        {
                            let side = ROW_HEIGHT - 4.0;
                            let (rect, _) = ui
                                .allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
                            match state.thumbs.get(&first.path) {
                                Some(Some(img)) => {
                                    let tex = crate::ui::widgets::texture(
                                        ui.ctx(),
                                        textures,
                                        &first.path,
                                        img,
                                    );
                                    let size = tex.size_vec2();
                                    let scale = (side / size.x).min(side / size.y);
                                    let r =
                                        egui::Rect::from_center_size(rect.center(), size * scale);
                                    let uv = egui::Rect::from_min_max(
                                        egui::pos2(0.0, 0.0),
                                        egui::pos2(1.0, 1.0),
                                    );
                                    ui.painter().image(tex.id(), r, uv, theme::IMAGE_TINT);
                                }
                                Some(None) => {}
                                None => {
                                    if !state.thumbs_pending.contains(&first.path) {
                                        wanted.push(first.path.clone());
                                    }
                                }
                            }
                        }
                        ui.label(
                            RichText::new(format!(
                                "{} copies of {} \u{00b7} {} wasted",
                                grp.members.len(),
                                format::bytes(grp.size),
                                format::bytes(grp.wasted)
                            ))
                            .strong(),
                        );
                    }
                    Some(i) => {
                        let member = &grp.members[i];
                        let shown = member.path.display().to_string();
                        let mut kept = state.dupes_keep.contains(&member.path);
                        fixed_width(ui, 30.0, |ui| {
                            let r = ui.add(egui::Checkbox::without_text(&mut kept));
                            // Named for screen readers and tests by the copy it marks.
                            r.widget_info(|| {
                                egui::WidgetInfo::selected(
                                    egui::accesskit::Role::CheckBox,
                                    true,
                                    kept,
                                    format!("Keep {shown}"),
                                )
                            });
                            if r.changed() {
                                actions.push(UiCommand::KeepCopy {
                                    path: member.path.clone(),
                                    keep: kept,
                                });
                            }
                        });
                        if ui.link(&shown).clicked() {
                            actions.push(UiCommand::GoToItem(member.path.clone()));
                        }
                        ui.label(
                            RichText::new(format::time_ms(member.mtime_ns / 1_000_000))
                                .color(theme::weak(ui)),
                        );
                        if member.same_file_as.is_some() {
                            ui.label(
                                RichText::new("hard link: the same file as another copy")
                                    .color(theme::weak(ui)),
                            );
                        }
                    }
                }
            });
        }
    });
    for path in wanted {
        state.want_thumbnail(path, None);
    }
}

/// Whether `path` names an image by its extension (no I/O: the view is drawn every frame).
fn is_image(path: &std::path::Path) -> bool {
    use crate::vdfs::content::filetype::{ContentKind, Registry};
    let reg = Registry::active();
    let name = crate::vdfs::fs::entry::os_bytes(path.file_name().unwrap_or_default());
    reg.identify(name, None)
        .and_then(|i| reg.get(i.type_index))
        .is_some_and(|t| t.kind == ContentKind::Image)
}
