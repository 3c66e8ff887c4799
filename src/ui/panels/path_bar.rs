//! The path bar: a clickable breadcrumb of the folder shown, or a text field to type a path or a
//! `cairn://` address (Ctrl+L).

use std::path::PathBuf;
use std::time::Instant;

use eframe::egui::{self, RichText};

use crate::ui::app::CairnApp;
use crate::ui::bridge::Command;
use crate::ui::commands::UiCommand;
use crate::ui::theme;

impl CairnApp {
    pub(crate) fn path_bar(&mut self, ui: &mut egui::Ui) {
        if let Some(text) = &mut self.state.explorer.path_edit {
            let label = ui.label("Location");
            let mut out = egui::TextEdit::singleline(text)
                .desired_width(f32::INFINITY)
                .show(ui);
            let r = egui::Response::clone(&out.response).labelled_by(label.id);
            if !r.has_focus() && !r.lost_focus() {
                // Just opened (Ctrl+L): focus it with the whole path selected, so typing
                // replaces it.
                r.request_focus();
                let all = egui::text::CCursorRange::two(
                    egui::text::CCursor::new(0),
                    egui::text::CCursor::new(text.chars().count()),
                );
                out.state.cursor.set_char_range(Some(all));
                out.state.store(ui.ctx(), r.id);
            }
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let escape = ui.input(|i| i.key_pressed(egui::Key::Escape));
            if enter {
                let typed = text.trim().to_owned();
                self.state.explorer.path_edit = None;
                match crate::vdfs::sdpath::SdPath::parse(&typed, uuid::Uuid::nil()) {
                    Ok(crate::vdfs::sdpath::SdPath::Physical { path, .. }) => self.go(path),
                    Ok(crate::vdfs::sdpath::SdPath::Content { content_id }) => {
                        self.bridge.send(Command::ShowContent(content_id));
                    }
                    Err(e) => self.state.error = Some((e.to_string(), Instant::now())),
                }
            } else if escape || (r.lost_focus() && !enter) {
                self.state.explorer.path_edit = None;
            }
            return;
        }
        let Some(folder) = self.state.explorer.folder.clone() else {
            return;
        };
        let mut target = None;
        let mut acc = PathBuf::new();
        let comps: Vec<_> = folder.components().collect();
        for (i, c) in comps.iter().enumerate() {
            acc.push(c);
            let name = match c {
                std::path::Component::RootDir => "/".to_owned(),
                other => other.as_os_str().to_string_lossy().into_owned(),
            };
            if i > 1 {
                ui.label(RichText::new("/").color(theme::weak(ui)));
            }
            let last = i + 1 == comps.len();
            if ui
                .add(
                    egui::Button::new(if last {
                        RichText::new(name).strong()
                    } else {
                        RichText::new(name)
                    })
                    .frame(false),
                )
                .clicked()
            {
                target = Some(acc.clone());
            }
        }
        if ui
            .add(egui::Button::new(RichText::new("Edit").color(theme::weak(ui))).frame(false))
            .on_hover_text("Type a path (Ctrl+L)")
            .clicked()
        {
            self.run(UiCommand::EditPath);
        }
        if let Some(t) = target
            && Some(&t) != self.state.explorer.folder.as_ref()
        {
            self.go(t);
        }
    }
}
