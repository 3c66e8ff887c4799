//! Colours, spacing and text styles: the only place in `src/ui` that names a colour.

use eframe::egui::{self, Color32, Visuals};

use crate::vdfs::content::filetype::ContentKind;
use crate::vdfs::fs::volumes::VolumeKind;
use crate::vdfs::jobs::JobStatus;

/// Accent for selection and progress.
pub const ACCENT: Color32 = Color32::from_rgb(0x3b, 0x82, 0xf6);

/// The tint that paints an image (a thumbnail) in its own colours.
pub const IMAGE_TINT: Color32 = Color32::WHITE;

/// Applies Cairn's look to both the light and the dark theme and follows the system setting.
pub fn apply(ctx: &egui::Context) {
    ctx.set_theme(egui::ThemePreference::System);
    // The toolbar's icons.
    egui_material_icons::initialize(ctx);
    // Ctrl+plus/minus (and Ctrl+wheel) zoom the grid's pictures, not the whole window.
    ctx.options_mut(|o| o.zoom_with_keyboard = false);
    for theme in [egui::Theme::Light, egui::Theme::Dark] {
        ctx.style_mut_of(theme, |style| {
            style.spacing.item_spacing = egui::vec2(8.0, 6.0);
            style.spacing.button_padding = egui::vec2(10.0, 4.0);
            style.visuals.selection.bg_fill = ACCENT.gamma_multiply(0.6);
            style.visuals.hyperlink_color = ACCENT;
            style.visuals.window_corner_radius = egui::CornerRadius::same(8);
            tweak(&mut style.visuals);
        });
    }
}

fn tweak(v: &mut Visuals) {
    v.widgets.noninteractive.corner_radius = egui::CornerRadius::same(4);
    v.widgets.inactive.corner_radius = egui::CornerRadius::same(4);
    v.widgets.hovered.corner_radius = egui::CornerRadius::same(4);
    v.widgets.active.corner_radius = egui::CornerRadius::same(4);
}

/// Colour of a job status label.
pub fn job_status(status: JobStatus, dark: bool) -> Color32 {
    let (light, dark_c) = match status {
        JobStatus::Running | JobStatus::Queued => (ACCENT, ACCENT),
        JobStatus::Completed => (
            Color32::from_rgb(0x15, 0x80, 0x3d),
            Color32::from_rgb(0x4a, 0xde, 0x80),
        ),
        JobStatus::Failed => (
            Color32::from_rgb(0xb9, 0x1c, 0x1c),
            Color32::from_rgb(0xf8, 0x71, 0x71),
        ),
        JobStatus::Paused | JobStatus::Interrupted => (
            Color32::from_rgb(0xb4, 0x53, 0x09),
            Color32::from_rgb(0xfb, 0xbf, 0x24),
        ),
        JobStatus::Cancelled => (Color32::GRAY, Color32::GRAY),
    };
    if dark { dark_c } else { light }
}

/// Colour of an error message.
pub fn error(dark: bool) -> Color32 {
    job_status(JobStatus::Failed, dark)
}

/// Colour of something going well (a paired device that answers).
pub fn ok(dark: bool) -> Color32 {
    job_status(JobStatus::Completed, dark)
}

/// Colour of a warning (a conflict, "the only copy").
pub fn warning(dark: bool) -> Color32 {
    job_status(JobStatus::Paused, dark)
}

/// The fill behind a tab's title: the selection's tint for the tab shown, none for others.
pub fn tab_fill(ui: &egui::Ui, shown: bool) -> Color32 {
    if shown {
        ui.visuals().selection.bg_fill.linear_multiply(0.35)
    } else {
        Color32::TRANSPARENT
    }
}

/// Secondary (dimmed) text colour.
pub fn weak(ui: &egui::Ui) -> Color32 {
    ui.visuals().weak_text_color()
}

/// Colour of a kind of content (icons).
pub fn kind_color(
    kind: crate::vdfs::fs::entry::EntryKind,
    content: ContentKind,
    dark: bool,
) -> Color32 {
    use crate::vdfs::fs::entry::EntryKind as E;
    let c = match kind {
        E::Dir => Color32::from_rgb(0xe0, 0xa8, 0x2e),
        E::Symlink => Color32::from_rgb(0x8b, 0x8b, 0x8b),
        E::File => match content {
            ContentKind::Image => Color32::from_rgb(0x2f, 0x9e, 0x6a),
            ContentKind::Video => Color32::from_rgb(0xc2, 0x41, 0x8c),
            ContentKind::Audio => Color32::from_rgb(0x8b, 0x5c, 0xf6),
            ContentKind::Document | ContentKind::Book => Color32::from_rgb(0x2b, 0x6c, 0xd4),
            ContentKind::Spreadsheet => Color32::from_rgb(0x1f, 0x8a, 0x4c),
            ContentKind::Presentation => Color32::from_rgb(0xd9, 0x6a, 0x1c),
            ContentKind::Archive | ContentKind::Package => Color32::from_rgb(0x9a, 0x6b, 0x3a),
            ContentKind::Code | ContentKind::Web | ContentKind::Config => {
                Color32::from_rgb(0x3a, 0x8f, 0xb7)
            }
            ContentKind::Executable | ContentKind::Binary => Color32::from_rgb(0x6b, 0x72, 0x80),
            ContentKind::Encrypted | ContentKind::Key => Color32::from_rgb(0xb9, 0x1c, 0x1c),
            _ => Color32::from_rgb(0x7a, 0x86, 0x99),
        },
        _ => Color32::from_rgb(0x9c, 0x6b, 0xb0),
    };
    if dark { c } else { c.gamma_multiply(0.9) }
}

/// Up to three letters naming a kind, drawn on icons.
pub fn kind_letters(kind: crate::vdfs::fs::entry::EntryKind, content: ContentKind) -> &'static str {
    use crate::vdfs::fs::entry::EntryKind as E;
    match kind {
        E::Dir => "",
        E::Symlink => "LNK",
        E::Fifo | E::Socket | E::BlockDevice | E::CharDevice | E::Other => "DEV",
        E::File => match content {
            ContentKind::Image => "IMG",
            ContentKind::Video => "VID",
            ContentKind::Audio => "AUD",
            ContentKind::Document => "DOC",
            ContentKind::Archive => "ZIP",
            ContentKind::Code => "</>",
            ContentKind::Text => "TXT",
            ContentKind::Database => "DB",
            ContentKind::Book => "BK",
            ContentKind::Font => "Aa",
            ContentKind::Mesh => "3D",
            ContentKind::Config => "CFG",
            ContentKind::Encrypted => "ENC",
            ContentKind::Key => "KEY",
            ContentKind::Executable => "EXE",
            ContentKind::Binary => "BIN",
            ContentKind::Spreadsheet => "XLS",
            ContentKind::Presentation => "PPT",
            ContentKind::Email => "@",
            ContentKind::Calendar => "CAL",
            ContentKind::Contact => "VCF",
            ContentKind::Web => "WEB",
            ContentKind::Shortcut => "LNK",
            ContentKind::Package => "PKG",
            ContentKind::Unknown => "",
        },
    }
}

/// Paints a kind icon (a folder, or a page with a coloured band and letters) into `rect`.
/// Drawn with shapes, so no glyph can be missing from the fonts.
pub fn paint_kind_icon(
    painter: &egui::Painter,
    rect: egui::Rect,
    kind: crate::vdfs::fs::entry::EntryKind,
    content: ContentKind,
    dark: bool,
) {
    let color = kind_color(kind, content, dark);
    let w = rect.width();
    if kind == crate::vdfs::fs::entry::EntryKind::Dir {
        let tab = egui::Rect::from_min_size(
            rect.min + egui::vec2(0.0, w * 0.12),
            egui::vec2(w * 0.45, w * 0.2),
        );
        painter.rect_filled(tab, w * 0.06, color.gamma_multiply(0.8));
        let body = egui::Rect::from_min_max(
            rect.min + egui::vec2(0.0, w * 0.22),
            rect.max - egui::vec2(0.0, w * 0.08),
        );
        painter.rect_filled(body, w * 0.08, color);
        return;
    }
    let page = rect.shrink2(egui::vec2(w * 0.14, 0.0));
    let paper = if dark {
        Color32::from_gray(0xe6)
    } else {
        Color32::WHITE
    };
    painter.rect_filled(page, w * 0.06, paper);
    painter.rect_stroke(
        page,
        w * 0.06,
        egui::Stroke::new((w / 32.0).max(1.0), Color32::from_gray(0x9a)),
        egui::StrokeKind::Inside,
    );
    let band = egui::Rect::from_min_max(
        egui::pos2(page.left(), page.bottom() - page.height() * 0.42),
        page.max,
    );
    painter.rect_filled(band, w * 0.06, color);
    let letters = kind_letters(kind, content);
    if !letters.is_empty() {
        painter.text(
            band.center(),
            egui::Align2::CENTER_CENTER,
            letters,
            egui::FontId::proportional((w * 0.26).max(6.0)),
            Color32::WHITE,
        );
    }
}

/// A small kind icon before a name in a list row.
pub fn kind_badge(
    ui: &mut egui::Ui,
    kind: crate::vdfs::fs::entry::EntryKind,
    content: ContentKind,
    dark: bool,
) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(16.0, 16.0), egui::Sense::hover());
    paint_kind_icon(ui.painter(), rect, kind, content, dark);
}

/// Colour and letters of a volume kind's badge.
pub fn volume_style(kind: VolumeKind, dark: bool) -> (Color32, &'static str) {
    let (c, letters) = match kind {
        VolumeKind::System => (Color32::from_rgb(0x6b, 0x72, 0x80), "SYS"),
        VolumeKind::Data => (Color32::from_rgb(0x2b, 0x6c, 0xd4), "HD"),
        VolumeKind::External => (Color32::from_rgb(0xd9, 0x6a, 0x1c), "USB"),
        VolumeKind::Network => (Color32::from_rgb(0x1f, 0x8a, 0x4c), "NET"),
        VolumeKind::Virtual => (Color32::from_rgb(0x9c, 0x6b, 0xb0), "MEM"),
    };
    (if dark { c } else { c.gamma_multiply(0.9) }, letters)
}

/// A small drive icon coloured and lettered by the volume's kind (drawn, not a glyph).
pub fn volume_badge(ui: &mut egui::Ui, kind: VolumeKind, dark: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(22.0, 14.0), egui::Sense::hover());
    let (color, letters) = volume_style(kind, dark);
    ui.painter().rect_filled(rect, 3.0, color);
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        letters,
        egui::FontId::proportional(8.0),
        Color32::WHITE,
    );
}

/// A small triangle showing the sort direction (drawn, not a glyph).
pub fn sort_arrow(ui: &mut egui::Ui, ascending: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    let c = rect.center();
    let (a, b, tip) = if ascending {
        (
            egui::pos2(c.x - 4.0, c.y + 3.0),
            egui::pos2(c.x + 4.0, c.y + 3.0),
            egui::pos2(c.x, c.y - 3.0),
        )
    } else {
        (
            egui::pos2(c.x - 4.0, c.y - 3.0),
            egui::pos2(c.x + 4.0, c.y - 3.0),
            egui::pos2(c.x, c.y + 3.0),
        )
    };
    ui.painter().add(egui::Shape::convex_polygon(
        vec![a, b, tip],
        ui.visuals().strong_text_color(),
        egui::Stroke::NONE,
    ));
}

/// The highlight of a folder that takes what is dragged over it (a list row, a tile, a
/// sidebar entry, a breadcrumb segment, the folder view itself): a tinted frame in the
/// accent colour over `rect`.
pub fn drop_target(painter: &egui::Painter, rect: egui::Rect, dark: bool) {
    let fill = ACCENT.gamma_multiply(if dark { 0.25 } else { 0.15 });
    painter.rect(
        rect.shrink(1.0),
        4.0,
        fill,
        egui::Stroke::new(2.0, ACCENT),
        egui::StrokeKind::Inside,
    );
}

/// The colour of label `n` (1 and up, see `vdfs::index::tags::LABELS`); `None` for 0 or an
/// unknown number.
pub fn label_colour(n: u8, dark: bool) -> Option<Color32> {
    let (light, darker) = match n {
        1 => ((0xe5, 0x48, 0x4d), (0xff, 0x6b, 0x6b)),
        2 => ((0xf0, 0x8c, 0x1a), (0xff, 0xa9, 0x4d)),
        3 => ((0xd9, 0xb3, 0x00), (0xff, 0xd8, 0x4d)),
        4 => ((0x2f, 0xa8, 0x4f), (0x5c, 0xd6, 0x7a)),
        5 => ((0x2f, 0x7d, 0xe1), (0x66, 0xa6, 0xff)),
        6 => ((0x8e, 0x4e, 0xc6), (0xb8, 0x86, 0xf0)),
        7 => ((0x8a, 0x8a, 0x8a), (0xa8, 0xa8, 0xa8)),
        _ => return None,
    };
    let (r, g, b) = if dark { darker } else { light };
    Some(Color32::from_rgb(r, g, b))
}

/// A tag's chip: its name, small, on a tint of its colour (grey without one); hovering shows
/// its full name.
pub fn tag_chip(ui: &mut egui::Ui, tag: &crate::vdfs::library::TagInfo) {
    let base = tag
        .record
        .colour
        .as_deref()
        .and_then(|c| egui::Color32::from_hex(c).ok())
        .unwrap_or(egui::Color32::GRAY);
    let dark = ui.visuals().dark_mode;
    let fill = base.gamma_multiply(if dark { 0.35 } else { 0.22 });
    let text = if dark {
        egui::Color32::from_gray(235)
    } else {
        egui::Color32::from_gray(30)
    };
    egui::Frame::new()
        .fill(fill)
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(5, 0))
        .show(ui, |ui| {
            ui.label(egui::RichText::new(&tag.record.name).small().color(text));
        })
        .response
        .on_hover_text(tag.qualified());
}
