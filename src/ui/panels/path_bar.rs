//! The path bar: a clickable breadcrumb of the folder shown, or a text field to type a path or
//! a `cairn://` address (Ctrl+L).

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::theme;

/// Draws the breadcrumb, or the location field while it is edited.
pub(crate) fn show(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    if let Some(text) = &mut state.explorer.path_edit {
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
            actions.push(UiCommand::GoToAddress(text.trim().to_owned()));
            state.explorer.path_edit = None;
        } else if escape || r.lost_focus() {
            state.explorer.path_edit = None;
        }
        return;
    }
    if let Some(p) = &state.peer {
        // A paired device's folder: the device, then the folder's segments.
        let r = ui.add(egui::Button::new(RichText::new(&p.device.name).strong()).frame(false));
        if r.clicked() {
            actions.push(UiCommand::PeerOpen(None));
        }
        if let Some(path) = &p.path {
            let mut acc = Vec::new();
            let parts: Vec<&[u8]> = path
                .split(|&b| b == b'/')
                .filter(|s| !s.is_empty())
                .collect();
            for (i, part) in parts.iter().enumerate() {
                acc.push(b'/');
                acc.extend_from_slice(part);
                ui.label(RichText::new("/").color(theme::weak(ui)));
                let name = String::from_utf8_lossy(part).into_owned();
                let text = if i + 1 == parts.len() {
                    RichText::new(name).strong()
                } else {
                    RichText::new(name)
                };
                let inside =
                    p.locations.is_empty() || p.locations.iter().any(|l| acc.starts_with(&l.path));
                if ui.add(egui::Button::new(text).frame(false)).clicked() && inside {
                    actions.push(UiCommand::PeerOpen(Some(acc.clone())));
                }
            }
        }
        return;
    }
    let Some(folder) = &state.explorer.folder else {
        return;
    };
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
        let text = if i + 1 == comps.len() {
            RichText::new(name).strong()
        } else {
            RichText::new(name)
        };
        let r = ui.add(egui::Button::new(text).frame(false));
        if r.clicked() && acc != *folder {
            actions.push(UiCommand::GoTo(acc.clone()));
        }
        // Items dropped on a segment go into that folder.
        crate::ui::dnd::target(&r, &acc, actions);
    }
    if ui
        .add(egui::Button::new(RichText::new("Edit").color(theme::weak(ui))).frame(false))
        .on_hover_text("Type a path (Ctrl+L)")
        .clicked()
    {
        actions.push(UiCommand::EditPath);
    }
}
