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
        yours(ui, state, item.as_ref(), &d.path, actions);
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
            && it.shows_picture()
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
        if let Some(p) = &d.picture {
            ui.add_space(8.0);
            picture(ui, p);
        }
        if let Some(t) = &d.text_preview {
            ui.add_space(8.0);
            ui.label(RichText::new("Preview").strong());
            code_preview(ui, &d.path, t);
        }
    });
    if let Some((path, content)) = want_thumb {
        state.want_thumbnail(path, content);
    }
}

/// An indexed item's tags, rating and note: the person's own marks, edited in place. The note
/// is saved when its field loses the keyboard (or with "Save note").
fn yours(
    ui: &mut egui::Ui,
    state: &mut AppState,
    item: Option<&crate::vdfs::query::browse::Item>,
    path: &Path,
    actions: &mut Vec<UiCommand>,
) {
    let Some(item) = item.filter(|i| i.uuid.is_some()) else {
        return;
    };
    let meta = state
        .meta
        .as_ref()
        .filter(|(p, _)| p == path)
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    ui.add_space(8.0);
    let tags = crate::ui::views::tags_of(state, item);
    if !tags.is_empty() {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Tags").color(theme::weak(ui)));
            for id in tags {
                if let Some(t) = state.tags.iter().find(|t| t.id == id) {
                    theme::tag_chip(ui, t);
                }
            }
        });
    }
    let mine = meta.entry.clone();
    let set = |change: crate::vdfs::library::MetaChange| UiCommand::SetMeta {
        path: path.to_owned(),
        content: false,
        change,
    };
    let favourite = mine.as_ref().is_some_and(|m| m.favourite)
        || state.favourites.iter().any(|(f, _)| f == path);
    let mut on = favourite;
    let r = ui
        .checkbox(&mut on, "Favourite")
        .on_hover_text(if favourite {
            "Take it out of the favourites"
        } else {
            "Add it to the favourites (in the sidebar)"
        });
    if r.changed() {
        actions.push(if favourite {
            UiCommand::RemoveFavourite(path.to_owned())
        } else {
            set(crate::vdfs::library::MetaChange {
                favourite: Some(true),
                ..Default::default()
            })
        });
    }
    let rating = mine.as_ref().map_or(0, |m| m.rating);
    ui.horizontal(|ui| {
        ui.label(RichText::new("Rating").color(theme::weak(ui)));
        for n in 1..=5u8 {
            let r = ui
                .selectable_label(n <= rating, n.to_string())
                .on_hover_text(if n == rating {
                    "Click again to clear the rating".to_owned()
                } else {
                    format!("{n} of 5")
                });
            if r.clicked() {
                actions.push(set(crate::vdfs::library::MetaChange {
                    rating: Some(if n == rating { 0 } else { n }),
                    ..Default::default()
                }));
            }
        }
    });
    let label = mine.as_ref().map_or(0, |m| m.label);
    ui.horizontal(|ui| {
        ui.label(RichText::new("Label").color(theme::weak(ui)));
        let dark = ui.visuals().dark_mode;
        for (i, name) in crate::vdfs::index::tags::LABELS.iter().enumerate() {
            let n = i as u8 + 1;
            let colour = theme::label_colour(n, dark).unwrap_or(egui::Color32::GRAY);
            let (rect, r) = ui.allocate_exact_size(egui::vec2(16.0, 16.0), egui::Sense::click());
            ui.painter().circle_filled(rect.center(), 6.0, colour);
            if n == label {
                ui.painter().circle_stroke(
                    rect.center(),
                    7.5,
                    egui::Stroke::new(1.5, ui.visuals().strong_text_color()),
                );
            }
            let r = r.on_hover_text(if n == label {
                format!("Label: {name} (click to clear)")
            } else {
                format!("Label {name}")
            });
            // Found by its name, as a person reads it.
            r.widget_info(|| {
                egui::WidgetInfo::selected(egui::accesskit::Role::CheckBox, true, n == label, *name)
            });
            if r.clicked() {
                actions.push(set(crate::vdfs::library::MetaChange {
                    label: Some(if n == label { 0 } else { n }),
                    ..Default::default()
                }));
            }
        }
    });
    // The marks on its content (every copy), read only here (set with `cairn … --content`).
    if let Some(c) = meta.content.as_ref() {
        let mut parts = Vec::new();
        if c.favourite {
            parts.push("favourite".to_owned());
        }
        if c.rating > 0 {
            parts.push(format!("rated {} of 5", c.rating));
        }
        if c.label > 0 {
            let name = crate::vdfs::index::tags::LABELS
                .get(usize::from(c.label) - 1)
                .copied()
                .unwrap_or("?");
            parts.push(format!("label {name}"));
        }
        if !c.note.is_empty() {
            parts.push(format!("note: {}", c.note));
        }
        if !parts.is_empty() {
            ui.label(
                RichText::new(format!("On its content (every copy): {}", parts.join(", ")))
                    .small()
                    .color(theme::weak(ui)),
            );
        }
    }
    let saved = meta
        .entry
        .as_ref()
        .map(|m| m.note.clone())
        .unwrap_or_default();
    if state.note_draft.as_ref().is_none_or(|(p, _)| p != path) {
        state.note_draft = Some((path.to_owned(), saved.clone()));
    }
    let Some((_, draft)) = state.note_draft.as_mut() else {
        return;
    };
    let r = ui.add(
        egui::TextEdit::multiline(draft)
            .hint_text("Note")
            .desired_rows(3)
            .desired_width(f32::INFINITY),
    );
    let changed = *draft != saved;
    let save = ui
        .add_enabled(changed, egui::Button::new(CommandKind::SetMeta.label()))
        .clicked();
    if changed && (save || r.lost_focus()) {
        actions.push(UiCommand::SetMeta {
            path: path.to_owned(),
            content: false,
            change: crate::vdfs::library::MetaChange {
                note: Some(draft.clone()),
                ..Default::default()
            },
        });
    }
}

/// What a picture says about itself: pixels, then the camera's data, one line each.
fn picture(ui: &mut egui::Ui, p: &crate::vdfs::content::picture::PictureFacts) {
    let weak = theme::weak(ui);
    if let Some((w, h)) = p.pixels {
        ui.label(format!(
            "{} × {} pixels",
            crate::format::count(u64::from(w)),
            crate::format::count(u64::from(h))
        ));
    }
    for (label, value) in [
        ("Camera", &p.camera),
        ("Lens", &p.lens),
        ("Taken", &p.taken),
    ] {
        if let Some(v) = value {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(label).color(weak));
                ui.label(v);
            });
        }
    }
    if !p.exposure.is_empty() {
        ui.label(p.exposure.join(" · "));
    }
}

/// The first part of a text file with line numbers, unwrapped (scrolled sideways), coloured
/// by egui_extras' highlighter for the languages it knows by `path`'s extension (C and C++,
/// JavaScript and TypeScript, JSON, Python, Rust, shell, SQL, TOML, YAML); other text plain.
fn code_preview(ui: &mut egui::Ui, path: &Path, text: &str) {
    use egui_extras::syntax_highlighting::{CodeTheme, highlight};
    let lang = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let mut style = (**ui.style()).clone();
    style.override_font_id = Some(egui::FontId::monospace(11.0));
    let job = highlight(ui.ctx(), &style, &CodeTheme::from_style(&style), text, lang);
    let lines = text.lines().count().max(1);
    let numbers: Vec<String> = (1..=lines).map(|n| n.to_string()).collect();
    egui::ScrollArea::horizontal()
        .id_salt("code preview")
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                ui.add(
                    egui::Label::new(
                        RichText::new(numbers.join("\n"))
                            .monospace()
                            .size(11.0)
                            .color(theme::weak(ui)),
                    )
                    .selectable(false),
                );
                ui.add(egui::Label::new(job).extend());
            });
        });
}
