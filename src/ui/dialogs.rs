//! The dialogs: new library and settings.

use eframe::egui::{self, RichText};

use crate::ui::app::CairnApp;
use crate::ui::bridge::Command;
use crate::ui::explorer::ViewMode;

impl CairnApp {
    pub(crate) fn new_library_dialog(&mut self, ctx: &egui::Context) {
        let Some(name) = &mut self.state.new_library else {
            return;
        };
        let mut close = false;
        let mut create = None;
        egui::Window::new("New library")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                let label = ui.label("Library name");
                let r = ui.text_edit_singleline(name).labelled_by(label.id);
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if !enter && ui.memory(|m| m.focused().is_none()) {
                    r.request_focus();
                }
                ui.horizontal(|ui| {
                    let valid = !name.trim().is_empty();
                    if ui.add_enabled(valid, egui::Button::new("Create")).clicked()
                        || (enter && valid)
                    {
                        create = Some(name.trim().to_owned());
                    }
                    if ui.button("Cancel").clicked()
                        || ui.input(|i| i.key_pressed(egui::Key::Escape))
                    {
                        close = true;
                    }
                });
            });
        if let Some(n) = create {
            self.bridge.send(Command::CreateLibrary(n));
            close = true;
        }
        if close {
            self.state.new_library = None;
        }
    }

    pub(crate) fn settings_window(&mut self, ctx: &egui::Context) {
        let mut open = self.state.settings_open;
        egui::Window::new("Settings")
            .open(&mut open)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(RichText::new("Theme").strong());
                let mut pref = ctx.options(|o| o.theme_preference);
                ui.horizontal(|ui| {
                    ui.radio_value(&mut pref, egui::ThemePreference::System, "System");
                    ui.radio_value(&mut pref, egui::ThemePreference::Light, "Light");
                    ui.radio_value(&mut pref, egui::ThemePreference::Dark, "Dark");
                });
                ctx.set_theme(pref);
                ui.add_space(6.0);
                ui.label(RichText::new("Folders open in").strong());
                ui.horizontal(|ui| {
                    ui.radio_value(&mut self.state.default_view, ViewMode::List, "List");
                    ui.radio_value(&mut self.state.default_view, ViewMode::Grid, "Grid");
                });
                ui.add_space(6.0);
                ui.label(RichText::new("Thumbnail size").strong());
                ui.add(egui::Slider::new(&mut self.state.grid_zoom, 48.0..=256.0).suffix(" pt"));
                ui.add_space(6.0);
                let mut hidden = self.state.explorer.show_hidden;
                if ui.checkbox(&mut hidden, "Show hidden files").changed() {
                    self.state.explorer.show_hidden = hidden;
                    self.state.explorer.dirty = true;
                }
            });
        self.state.settings_open = open;
    }
}
