//! The dialogs: new library and settings.

use eframe::egui::{self, RichText};

use crate::ui::AppState;
use crate::ui::commands::{CommandKind, UiCommand};
use crate::ui::explorer::ViewMode;

/// The "New library" dialog, while it is open.
pub(crate) fn new_library(ctx: &egui::Context, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    let Some(name) = &mut state.new_library else {
        return;
    };
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
                let create = egui::Button::new(CommandKind::CreateLibrary.label());
                if ui.add_enabled(valid, create).clicked() || (enter && valid) {
                    actions.push(UiCommand::CreateLibrary(name.trim().to_owned()));
                }
                if ui.button(UiCommand::CloseNewLibrary.label()).clicked()
                    || ui.input(|i| i.key_pressed(egui::Key::Escape))
                {
                    actions.push(UiCommand::CloseNewLibrary);
                }
            });
        });
}

/// The settings window, while it is open.
pub(crate) fn settings(ctx: &egui::Context, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    let mut open = state.settings_open;
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
                ui.radio_value(&mut state.default_view, ViewMode::List, "List");
                ui.radio_value(&mut state.default_view, ViewMode::Grid, "Grid");
            });
            ui.add_space(6.0);
            ui.label(RichText::new("Thumbnail size").strong());
            ui.add(egui::Slider::new(&mut state.grid_zoom, 48.0..=256.0).suffix(" pt"));
            ui.add_space(6.0);
            let mut hidden = state.explorer.show_hidden;
            if ui
                .checkbox(&mut hidden, UiCommand::ToggleHidden.label())
                .changed()
            {
                actions.push(UiCommand::ToggleHidden);
            }
        });
    state.settings_open = open;
}
