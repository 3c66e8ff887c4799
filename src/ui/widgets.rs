//! Small pieces shared by panels and views: row height, fixed-width columns, size and kind texts.

use eframe::egui;

use crate::format;
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::query::browse::Item;

/// The toolbar icons' size, in points.
pub(crate) const ICON_SIZE: f32 = 18.0;

/// `icon` at the toolbar's size; `name` instead while the icon font is not loaded (the window
/// loads it before its first frame, a test harness may not).
pub(crate) fn icon_or_name(
    ui: &egui::Ui,
    icon: egui_material_icons::MaterialIcon,
    name: &str,
) -> egui::RichText {
    let family = icon.font_family();
    if ui.ctx().fonts(|f| f.families().contains(&family)) {
        icon.rich_text().size(ICON_SIZE)
    } else {
        egui::RichText::new(name)
    }
}

/// Initial widths (points) of a table's fixed columns, narrowed in proportion (to no less than
/// 48 points each) when the view cannot hold them beside `rest` points for the column that
/// takes what is left, e.g. on a side of the split view.
pub(crate) fn fit_columns<const N: usize>(ui: &egui::Ui, widths: [f32; N], rest: f32) -> [f32; N] {
    let total: f32 = widths.iter().sum();
    let room = (ui.available_width() - rest).max(0.0);
    if total <= room {
        widths
    } else {
        widths.map(|w| (w * room / total).max(48.0))
    }
}

/// A table of search hits — Name, Folder (what is left), Size, Modified — whose rows take
/// clicks and drags, its columns fitted to the view (`id` and the view's width step name its
/// remembered widths); the caller adds the header and the body.
pub(crate) fn hits_table<'a>(ui: &'a mut egui::Ui, id: &str) -> egui_extras::TableBuilder<'a> {
    use egui_extras::Column;
    let [name_w, size_w, modified_w] = fit_columns(ui, [260.0, 90.0, 140.0], 120.0);
    let step = width_step(ui);
    egui_extras::TableBuilder::new(ui)
        .id_salt((id, step))
        .striped(true)
        .resizable(true)
        // Drags start past egui's click distance, so a click stays a click.
        .sense(egui::Sense::click_and_drag())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(name_w).at_least(100.0).clip(true))
        .column(Column::remainder().at_least(100.0).clip(true))
        .column(Column::initial(size_w))
        .column(Column::initial(modified_w))
}

/// The view's width in 64-point steps: tables remember their column widths per step, so
/// they fit again when the view narrows (a split) or widens.
pub(crate) fn width_step(ui: &egui::Ui) -> u32 {
    (ui.available_width() / 64.0) as u32
}

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

/// The keys of a list chosen from the keyboard (a popup's completions, the command palette):
/// Up and Down move `chosen` among `n` entries (wrapping), Enter picks it, Esc closes.
/// Returns the entry picked and whether Esc was pressed.
pub(crate) fn choose_by_keys(
    ctx: &egui::Context,
    chosen: &mut usize,
    n: usize,
) -> (Option<usize>, bool) {
    let (up, down, enter, esc) = ctx.input(|i| {
        (
            i.key_pressed(egui::Key::ArrowUp),
            i.key_pressed(egui::Key::ArrowDown),
            i.key_pressed(egui::Key::Enter),
            i.key_pressed(egui::Key::Escape),
        )
    });
    if n > 0 {
        if down {
            *chosen = (*chosen + 1) % n;
        }
        if up {
            *chosen = (*chosen + n - 1) % n;
        }
    }
    *chosen = (*chosen).min(n.saturating_sub(1));
    (enter.then_some(*chosen).filter(|_| n > 0), esc)
}

/// The text field of such a list: it keeps the keyboard while the list is open (Enter would
/// take it away), and a change of its text chooses the first entry again.
pub(crate) fn typing_field(ui: &mut egui::Ui, text: &mut String, hint: &str, chosen: &mut usize) {
    let r = ui.add(
        egui::TextEdit::singleline(text)
            .hint_text(hint)
            .desired_width(f32::INFINITY),
    );
    if !r.has_focus() {
        r.request_focus();
    }
    if r.changed() {
        *chosen = 0;
    }
}
