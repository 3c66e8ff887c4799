//! The sidebar: the library switcher, locations, favourites, drives and places.

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::app::CairnApp;
use crate::ui::bridge::Command;
use crate::ui::commands::UiCommand;
use crate::ui::theme;
use crate::vdfs::index::location::{Availability, IndexMode};
use crate::vdfs::query::browse::Source;

impl CairnApp {
    pub(crate) fn sidebar(&mut self, ui: &mut egui::Ui) {
        ui.add_space(4.0);
        let label = ui.label(
            RichText::new("LIBRARY")
                .small()
                .strong()
                .color(theme::weak(ui)),
        );
        let current = self.state.library_config().map(|c| c.name.clone());
        let mut open = None;
        egui::ComboBox::from_id_salt("library_switcher")
            .selected_text(current.unwrap_or_else(|| "None".to_owned()))
            .width(ui.available_width() - 8.0)
            .show_ui(ui, |ui| {
                for l in &self.state.libraries {
                    let selected = self
                        .state
                        .library_config()
                        .is_some_and(|c| c.id == l.config.id);
                    let text = if l.is_default {
                        format!("{} (default)", l.config.name)
                    } else {
                        l.config.name.clone()
                    };
                    if ui.selectable_label(selected, text).clicked() && !selected {
                        open = Some(l.config.id);
                    }
                }
            })
            .response
            .labelled_by(label.id);
        if let Some(id) = open {
            self.bridge.send(Command::OpenLibrary(id));
        }
        if ui.small_button("New library…").clicked() {
            self.state.new_library = Some(String::new());
        }
        if ui
            .selectable_label(self.state.show_dupes, "Duplicates")
            .on_hover_text("Every group of identical files in the library")
            .clicked()
        {
            self.state.show_dupes = !self.state.show_dupes;
            if self.state.show_dupes {
                self.state.dupes = None;
                self.bridge.send(Command::FindDupes);
            }
        }
        if let Some(Err(e)) = &self.state.library {
            ui.label(RichText::new(e).color(theme::error(ui.visuals().dark_mode)));
        }

        ui.add_space(10.0);
        ui.label(
            RichText::new("LOCATIONS")
                .small()
                .strong()
                .color(theme::weak(ui)),
        );
        let shown = self.state.explorer.folder.clone();
        let mut go = None;
        let mut cmd = None;
        if self.state.locations.is_empty() {
            ui.label(RichText::new("No folder indexed yet").color(theme::weak(ui)));
        }
        for l in &self.state.locations {
            let path = l.record.path();
            let selected = shown.as_ref() == Some(&path);
            let state = match (&l.availability, l.indexing) {
                (_, true) => "indexing…".to_owned(),
                (Availability::Offline(_), _) => "offline".to_owned(),
                (Availability::Missing(_), _) => "missing".to_owned(),
                (Availability::Online, _) => match l.record.indexed_ms {
                    Some(_) => format!("{} files", l.record.stats.files),
                    None => "not indexed".to_owned(),
                },
            };
            let r = ui
                .selectable_label(selected, format!("{}  \u{00b7} {state}", l.record.name()))
                .on_hover_text(path.display().to_string());
            if r.clicked() {
                go = Some(path.clone());
            }
            let id = l.record.id;
            r.context_menu(|ui| {
                if ui.button("Rescan").clicked() {
                    cmd = Some(Command::RescanLocation(id));
                    ui.close();
                }
                ui.menu_button("Index mode", |ui| {
                    for m in [IndexMode::Shallow, IndexMode::Content, IndexMode::Deep] {
                        if ui.radio(l.record.mode == m, m.as_str()).clicked() {
                            cmd = Some(Command::SetLocationMode(id, m));
                            ui.close();
                        }
                    }
                });
                if ui
                    .button("Remove from library")
                    .on_hover_text("Forgets the index; no file is touched")
                    .clicked()
                {
                    cmd = Some(Command::RemoveLocation(id));
                    ui.close();
                }
            });
        }
        let can_add = self.state.explorer.folder.is_some()
            && !matches!(self.state.explorer.source, Some(Source::Index { .. }));
        if ui
            .add_enabled(can_add, egui::Button::new("Index this folder").small())
            .on_hover_text("Add the folder shown as a location and index it")
            .clicked()
        {
            self.run(UiCommand::AddLocation);
        }
        if ui
            .add(egui::Button::new("Add a folder…").small())
            .on_hover_text("Choose a folder to index with the system's folder picker")
            .clicked()
        {
            self.bridge.send(Command::PickLocation);
        }

        ui.add_space(10.0);
        ui.label(
            RichText::new("FAVOURITES")
                .small()
                .strong()
                .color(theme::weak(ui)),
        );
        if self.state.favourites.is_empty() {
            ui.label(RichText::new("Right-click a folder to add it").color(theme::weak(ui)));
        }
        for f in &self.state.favourites {
            let name = f.file_name().map_or_else(
                || f.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let r = ui
                .selectable_label(shown.as_ref() == Some(f), name)
                .on_hover_text(f.display().to_string());
            if r.clicked() {
                go = Some(f.clone());
            }
            r.context_menu(|ui| {
                if ui.button("Remove from favourites").clicked() {
                    cmd = Some(Command::Favourite(f.clone(), false));
                    ui.close();
                }
            });
        }

        ui.add_space(10.0);
        ui.label(
            RichText::new("DRIVES")
                .small()
                .strong()
                .color(theme::weak(ui)),
        );
        for d in &self.state.drives {
            let selected = shown.as_ref() == Some(&d.mount_point);
            let r = ui
                .selectable_label(selected, &d.name)
                .on_hover_text(format!(
                    "{} ({}) — {} free of {}",
                    d.mount_point.display(),
                    d.fs_type,
                    format::bytes(d.free),
                    format::bytes(d.total)
                ));
            if r.clicked() {
                go = Some(d.mount_point.clone());
            }
        }
        if let Some(home) = self.state.start_folder.clone() {
            ui.add_space(10.0);
            ui.label(
                RichText::new("PLACES")
                    .small()
                    .strong()
                    .color(theme::weak(ui)),
            );
            if ui
                .selectable_label(shown.as_ref() == Some(&home), "Home")
                .clicked()
            {
                go = Some(home);
            }
        }
        if let Some(c) = cmd {
            self.bridge.send(c);
        }
        if let Some(p) = go {
            self.go(p);
        }
    }
}
