//! The tab bar, shown while more than one tab is open: each tab by what it shows (a click
//! shows it, a middle click or its × closes it), then "+" for a new tab.

use eframe::egui;

use egui_material_icons::icons;

use crate::ui::commands::{CommandKind, UiCommand};
use crate::ui::theme;
use crate::ui::widgets::icon_or_name;

/// A tab's widest title, in points (longer names are cut with "…" and told in full on hover).
const TITLE_MAX: f32 = 180.0;

/// Draws the tab bar for `titles` (in order; `active` is the one shown).
pub(crate) fn show(
    ui: &mut egui::Ui,
    titles: &[String],
    active: usize,
    actions: &mut Vec<UiCommand>,
) {
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 2.0;
        for (i, title) in titles.iter().enumerate() {
            let shown = if title.is_empty() { "New tab" } else { title };
            let selected = i == active;
            let frame = egui::Frame::new()
                .inner_margin(egui::Margin::symmetric(6, 2))
                .corner_radius(4.0)
                .fill(theme::tab_fill(ui, selected));
            frame.show(ui, |ui| {
                ui.set_max_width(TITLE_MAX + 24.0);
                let text = egui::RichText::new(shown);
                let text = if selected {
                    text.strong()
                } else {
                    text.color(theme::weak(ui))
                };
                let r = ui
                    .add(
                        egui::Label::new(text)
                            .truncate()
                            .sense(egui::Sense::click()),
                    )
                    .on_hover_text(shown);
                if r.clicked() {
                    actions.push(UiCommand::SwitchTab(i));
                }
                if r.middle_clicked() {
                    actions.push(UiCommand::CloseTab(Some(i)));
                }
                let icon = icon_or_name(ui, icons::ICON_CLOSE, "×").size(14.0);
                let close = ui
                    .add(egui::Button::new(icon).small().frame(false))
                    .on_hover_text(match CommandKind::CloseTab.shortcut_text() {
                        Some(k) if selected => format!("Close this tab ({k})"),
                        _ => "Close this tab".to_owned(),
                    });
                close.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::accesskit::Role::Button, true, "Close tab")
                });
                if close.clicked() {
                    actions.push(UiCommand::CloseTab(Some(i)));
                }
            });
        }
        let icon = icon_or_name(ui, icons::ICON_ADD, "+");
        let new = ui
            .add(egui::Button::new(icon).small().frame(false))
            .on_hover_text(format!(
                "New tab ({})",
                CommandKind::NewTab.shortcut_text().unwrap_or_default()
            ));
        new.widget_info(|| {
            egui::WidgetInfo::labeled(egui::accesskit::Role::Button, true, "New tab")
        });
        if new.clicked() {
            actions.push(UiCommand::NewTab);
        }
    });
}

/// The line over each side of the split view: the folder (or what else the side shows), in
/// the accent colour on the side that has the keyboard; a click gives it the keyboard.
pub(crate) fn pane_header(
    ui: &mut egui::Ui,
    title: &str,
    active: bool,
    side: usize,
    actions: &mut Vec<UiCommand>,
) {
    let text = egui::RichText::new(if title.is_empty() { "—" } else { title }).strong();
    let text = if active {
        text.color(theme::ACCENT)
    } else {
        text.color(theme::weak(ui))
    };
    let r = ui.add(
        egui::Label::new(text)
            .truncate()
            .sense(egui::Sense::click()),
    );
    if r.clicked() && !active {
        actions.push(UiCommand::FocusPane(side));
    }
    // A rule under the header: the accent on the side acted on.
    let rect = ui.available_rect_before_wrap();
    let y = rect.top();
    let stroke = if active {
        egui::Stroke::new(2.0, theme::ACCENT)
    } else {
        egui::Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color)
    };
    ui.painter().hline(rect.left()..=rect.right(), y, stroke);
    ui.add_space(4.0);
}
