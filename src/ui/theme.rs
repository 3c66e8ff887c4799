//! Colours, spacing and text styles: the only place in `src/ui` that names a colour.

use eframe::egui::{self, Color32, Visuals};

use crate::vdfs::jobs::JobStatus;

/// Accent for selection and progress.
pub const ACCENT: Color32 = Color32::from_rgb(0x3b, 0x82, 0xf6);

/// Applies Cairn's look to both the light and the dark theme and follows the system setting.
pub fn apply(ctx: &egui::Context) {
    ctx.set_theme(egui::ThemePreference::System);
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

/// Secondary (dimmed) text colour.
pub fn weak(ui: &egui::Ui) -> Color32 {
    ui.visuals().weak_text_color()
}
