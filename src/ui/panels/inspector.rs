//! The inspector: details of the focused item (kind, size, dates, content identity, other copies,
//! preview).

use std::path::Path;

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::{CommandKind, UiCommand};
use crate::ui::theme;
use crate::ui::widgets::{Textures, kind_text};
use crate::vdfs::fs::entry::EntryKind;

/// Draws the details of the focused item (or of the folder shown).
pub(crate) fn show(
    ui: &mut egui::Ui,
    state: &mut AppState,
    textures: &mut Textures,
    actions: &mut Vec<UiCommand>,
) {
    let e = &state.explorer;
    let item = e.focused().cloned();
    let Some(d) = e.details.clone() else {
        ui.label(RichText::new("Select an item to see its details").color(theme::weak(ui)));
        return;
    };
    let mut want_thumb = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        let name = d.path.file_name().map_or_else(
            || d.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        ui.label(RichText::new(name).strong().size(16.0));
        egui::Grid::new("inspector_grid")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                let mut row = |k: &str, v: String| {
                    ui.label(RichText::new(k).color(theme::weak(ui)));
                    ui.add(egui::Label::new(v).wrap());
                    ui.end_row();
                };
                if let Some(it) = &item {
                    row("Kind", kind_text(it));
                    row(
                        "Size",
                        if it.kind == EntryKind::Dir && it.counts.is_none() {
                            "—".into()
                        } else {
                            format!("{} ({} bytes)", format::bytes(it.size), it.size)
                        },
                    );
                    row("Modified", format::time_ms(it.mtime_ns / 1_000_000));
                }
                if let Some(t) = &d.type_name {
                    row("Type", t.clone());
                }
                if let Some(m) = &d.mime {
                    row("MIME", m.clone());
                }
                if let Some((bytes, files, dirs)) = d.folder {
                    row(
                        "Contains",
                        format!("{} in {files} files, {dirs} folders", format::bytes(bytes)),
                    );
                }
                if let Some(c) = &d.cas {
                    row("cas_id", c.clone());
                }
                if let Some(u) = &d.content_uuid {
                    row("Content", u.clone());
                }
                if let Some(t) = d.unreadable_since {
                    row(
                        "Unreadable",
                        format!(
                            "since {}: shown as the index last saw it",
                            format::time_ms(t)
                        ),
                    );
                }
                row("Where", d.path.display().to_string());
            });
        if d.cas.is_some() && !d.links.is_empty() {
            // Hard links: the same bytes on disk under more names, so one copy.
            ui.add_space(8.0);
            ui.label(
                RichText::new(format!(
                    "{} names, 1 copy: hard links of this file",
                    d.links.len() + 1
                ))
                .strong(),
            );
            for l in &d.links {
                if ui
                    .link(l.display().to_string())
                    .on_hover_text(CommandKind::GoToItem.label())
                    .clicked()
                {
                    actions.push(UiCommand::GoToItem(l.clone()));
                }
            }
        }
        if !d.other_copies.is_empty() {
            ui.add_space(8.0);
            let n = d.other_copies.len();
            let volumes: std::collections::BTreeSet<&Path> =
                d.other_copies.iter().map(|c| c.volume.as_path()).collect();
            ui.label(
                RichText::new(format!(
                    "{} copies in this library: this one and {n} other{}",
                    n + 1,
                    if n == 1 { "" } else { "s" }
                ))
                .strong(),
            );
            for c in &d.other_copies {
                if ui
                    .link(c.path.display().to_string())
                    .on_hover_text(CommandKind::GoToItem.label())
                    .clicked()
                {
                    actions.push(UiCommand::GoToItem(c.path.clone()));
                }
                ui.label(
                    RichText::new(format!(
                        "in {} \u{00b7} on {}",
                        c.location_path.display(),
                        c.volume.display()
                    ))
                    .small()
                    .color(theme::weak(ui)),
                );
                for l in &c.links {
                    ui.label(
                        RichText::new(format!("same file (hard link): {}", l.display()))
                            .small()
                            .color(theme::weak(ui)),
                    );
                }
            }
            if let Some(v) = &d.volume
                && volumes.len() == 1
                && volumes.contains(v.as_path())
            {
                ui.label(
                    RichText::new(format!(
                        "Every copy is on the same drive ({}): losing it loses them all",
                        v.display()
                    ))
                    .color(theme::weak(ui)),
                );
            }
        } else if d.cas.is_some() {
            ui.add_space(8.0);
            ui.label(RichText::new("The only copy in this library").color(theme::weak(ui)));
        }
        if let Some(it) = &item
            && it.content_kind == crate::vdfs::content::filetype::ContentKind::Image
        {
            let path = d.path.clone();
            match state.thumbs.get(&path) {
                Some(Some(img)) => {
                    let tex = crate::ui::widgets::texture(ui.ctx(), textures, &path, img);
                    let size = tex.size_vec2();
                    let w = ui.available_width().min(size.x * 2.0);
                    ui.add_space(8.0);
                    ui.add(egui::Image::new((
                        tex.id(),
                        egui::vec2(w, w * size.y / size.x),
                    )));
                }
                Some(None) => {}
                None => {
                    want_thumb = Some((path, it.cas.map(|c| c.content_uuid())));
                }
            }
        }
        if let Some(t) = &d.text_preview {
            ui.add_space(8.0);
            ui.label(RichText::new("Preview").strong());
            ui.add(egui::Label::new(RichText::new(t).monospace().size(11.0)).wrap());
        }
    });
    if let Some((path, content)) = want_thumb {
        state.want_thumbnail(path, content);
    }
}
