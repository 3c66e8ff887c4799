//! Small pieces shared by panels and views: row height, fixed-width columns, size and kind texts.

use eframe::egui;

use crate::format;
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::query::browse::Item;

/// Height of a list row, in points.
pub(crate) const ROW_HEIGHT: f32 = 22.0;

/// Textures of thumbnails shown, by path (made on the UI thread from the pixels in
/// [`crate::ui::AppState::thumbs`]).
pub(crate) type Textures = std::collections::HashMap<std::path::PathBuf, egui::TextureHandle>;

/// The texture of the thumbnail of `path`, made from `img` the first time it is shown.
pub(crate) fn texture<'a>(
    ctx: &egui::Context,
    textures: &'a mut Textures,
    path: &std::path::Path,
    img: &egui::ColorImage,
) -> &'a egui::TextureHandle {
    textures.entry(path.to_owned()).or_insert_with(|| {
        ctx.load_texture(
            path.display().to_string(),
            img.clone(),
            egui::TextureOptions::LINEAR,
        )
    })
}

pub(crate) fn size_text(item: &Item) -> String {
    match (item.kind, item.counts) {
        (EntryKind::Dir, Some(_)) => format::bytes(item.size),
        (EntryKind::Dir, None) => "—".to_owned(),
        _ => format::bytes(item.size),
    }
}

pub(crate) fn kind_text(item: &Item) -> String {
    match item.kind {
        EntryKind::Dir => "Folder".to_owned(),
        EntryKind::File => {
            let k = item.content_kind.as_str();
            let mut c = k.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().collect::<String>() + c.as_str()
            })
        }
        other => {
            let t = other.as_str().replace('_', " ");
            let mut c = t.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().collect::<String>() + c.as_str()
            })
        }
    }
}

/// Lays out `add` left-aligned in a column of fixed `width`.
pub(crate) fn fixed_width(ui: &mut egui::Ui, width: f32, add: impl FnOnce(&mut egui::Ui)) {
    ui.allocate_ui_with_layout(
        egui::vec2(width, ui.available_height()),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_width(width);
            add(ui);
        },
    );
}
