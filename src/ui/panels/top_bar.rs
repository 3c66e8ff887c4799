//! The top bar: back, forward and up, the path bar, the filter and search boxes and the view
//! toggles.

use eframe::egui::{self};

use crate::ui::app::CairnApp;
use crate::ui::commands::UiCommand;
use crate::ui::explorer::ViewMode;

impl CairnApp {
    pub(crate) fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.add_space(2.0);
        ui.horizontal(|ui| {
            let e = &self.state.explorer;
            let (can_back, can_forward, can_up) = (
                e.history.can_back(),
                e.history.can_forward(),
                e.parent().is_some(),
            );
            self.command_button(ui, UiCommand::Back, "Back", can_back);
            self.command_button(ui, UiCommand::Forward, "Forward", can_forward);
            self.command_button(ui, UiCommand::Up, "Up", can_up);
            ui.separator();
            self.path_bar(ui);
        });
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            let r = ui.add(
                egui::TextEdit::singleline(&mut self.state.explorer.filter)
                    .hint_text("Type to filter this folder")
                    .desired_width(220.0),
            );
            let r = r.labelled_by(label.id);
            if self.focus_filter {
                r.request_focus();
                self.focus_filter = false;
            }
            if r.changed() {
                self.state.explorer.dirty = true;
            }
            ui.separator();
            let label = ui.label("Search");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.state.search_text)
                        .hint_text("Names in the library (Ctrl+F)")
                        .desired_width(220.0),
                )
                .labelled_by(label.id);
            if self.focus_search {
                r.request_focus();
                self.focus_search = false;
            }
            let mut everywhere = self.state.search_everywhere;
            let toggled = ui
                .checkbox(&mut everywhere, "Whole library")
                .on_hover_text("Off: the folder shown and below")
                .changed();
            self.state.search_everywhere = everywhere;
            if r.changed() || toggled {
                self.send_search();
            }
            ui.separator();
            let mut hidden = self.state.explorer.show_hidden;
            if ui
                .checkbox(&mut hidden, UiCommand::ToggleHidden.label())
                .on_hover_text("Ctrl+H")
                .changed()
            {
                self.run(UiCommand::ToggleHidden);
            }
            let mut grid = self.state.explorer.current_prefs().view == ViewMode::Grid;
            if ui
                .checkbox(&mut grid, UiCommand::ToggleView.label())
                .changed()
            {
                self.run(UiCommand::ToggleView);
            }
            if grid {
                let label = ui.label("Zoom");
                ui.add(
                    egui::Slider::new(&mut self.state.grid_zoom, 48.0..=256.0).show_value(false),
                )
                .labelled_by(label.id);
            }
            let mut insp = self.state.explorer.inspector;
            if ui
                .checkbox(&mut insp, UiCommand::TogglePreview.label())
                .on_hover_text("Space")
                .changed()
            {
                self.run(UiCommand::TogglePreview);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button(UiCommand::Settings.label()).clicked() {
                    self.run(UiCommand::Settings);
                }
            });
        });
        ui.add_space(2.0);
    }

    pub(crate) fn command_button(
        &mut self,
        ui: &mut egui::Ui,
        cmd: UiCommand,
        text: &str,
        enabled: bool,
    ) {
        let mut tip = cmd.label().to_owned();
        if let Some(k) = cmd.shortcut_text() {
            tip.push_str(&format!(" ({k})"));
        }
        let r = ui
            .add_enabled(enabled, egui::Button::new(text))
            .on_hover_text(tip);
        if r.clicked() {
            self.run(cmd);
        }
    }
}
