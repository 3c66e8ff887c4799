//! The dialogs: new library, settings, and the file-operation dialog (a preview with
//! conflicts, warnings or refusals; a permanent delete or emptying the trash to confirm).

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::{CommandKind, UiCommand};
use crate::ui::explorer::ViewMode;
use crate::ui::state::{OpDialog, items_text};
use crate::ui::theme;
use crate::vdfs::actions::{OnConflict, OpKind, Preview};
use crate::vdfs::fs::entry::EntryKind;

/// The name of a conflict choice, as its button shows it.
pub(crate) fn conflict_choice(c: OnConflict) -> &'static str {
    match c {
        OnConflict::Ask => "Ask",
        OnConflict::Skip => "Skip",
        OnConflict::Replace => "Replace",
        OnConflict::KeepBoth => "Keep both",
        OnConflict::Merge => "Merge",
    }
}

/// The file-operation dialog, while one is open.
pub(crate) fn file_op(ctx: &egui::Context, state: &AppState, actions: &mut Vec<UiCommand>) {
    let Some(dialog) = &state.dialog else {
        return;
    };
    let title = match dialog {
        OpDialog::Preview { preview, .. } if preview.kind == OpKind::Delete => {
            "Delete for good".to_owned()
        }
        OpDialog::Preview { preview, .. } => {
            let verb = preview.kind.verb();
            let mut t = verb[..1].to_uppercase();
            t.push_str(&verb[1..]);
            t
        }
        OpDialog::EmptyTrash { .. } => "Empty the trash".to_owned(),
    };
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.set_max_width(620.0);
            let dark = ui.visuals().dark_mode;
            match dialog {
                OpDialog::Preview { preview, .. } => preview_body(ui, preview, dark, actions),
                OpDialog::EmptyTrash { items } => {
                    ui.label(format!(
                        "{} in the trash will be deleted for good. This cannot be undone.",
                        items_text(*items as u64)
                    ));
                    ui.add_space(8.0);
                    ui.horizontal(|ui| {
                        if ui.button(UiCommand::ConfirmEmptyTrash.label()).clicked() {
                            actions.push(UiCommand::ConfirmEmptyTrash);
                        }
                        if ui.button(UiCommand::CancelOp.label()).clicked() {
                            actions.push(UiCommand::CancelOp);
                        }
                    });
                }
            }
            if ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                actions.push(UiCommand::CancelOp);
            }
        });
}

/// What a preview will do, its conflicts, warnings and refusals, and the choices.
fn preview_body(ui: &mut egui::Ui, p: &Preview, dark: bool, actions: &mut Vec<UiCommand>) {
    let n = p.items.len() as u64;
    if p.kind == OpKind::Delete {
        let what = match p.items.as_slice() {
            [one] => format!(
                "\u{201c}{}\u{201d}",
                format::shown(std::path::Path::new(
                    one.source.file_name().unwrap_or_default()
                ))
            ),
            _ => items_text(n),
        };
        ui.label(
            RichText::new(format!(
                "Delete {what} ({} {}, {}) for good? This cannot be undone.",
                format::count(p.files),
                if p.files == 1 { "file" } else { "files" },
                format::bytes(p.bytes)
            ))
            .strong(),
        );
        for i in p.items.iter().take(8) {
            ui.label(RichText::new(format::shown(&i.source)).color(theme::weak(ui)));
        }
        if p.items.len() > 8 {
            ui.label(format!("… and {} more", p.items.len() - 8));
        }
    } else {
        let mut line = format!(
            "{}: {} {}, {}",
            items_text(n),
            format::count(p.files),
            if p.files == 1 { "file" } else { "files" },
            format::bytes(p.bytes)
        );
        if let Some(free) = p.dest_free {
            line.push_str(&format!(
                "; {} free at the destination",
                format::bytes(free)
            ));
        }
        ui.label(line);
        if p.kind == OpKind::Trash {
            ui.label(
                RichText::new(format!(
                    "Move {} {} to the trash? Ctrl+Z brings them back.",
                    format::count(p.files),
                    if p.files == 1 { "file" } else { "files" }
                ))
                .strong(),
            );
        }
    }
    let conflicts: Vec<_> = p
        .items
        .iter()
        .filter_map(|i| i.conflict.as_ref().map(|c| (i, c)))
        .collect();
    if !conflicts.is_empty() {
        ui.add_space(6.0);
        ui.label(
            RichText::new(format!(
                "{} already {} at the destination",
                items_text(conflicts.len() as u64),
                if conflicts.len() == 1 {
                    "exists"
                } else {
                    "exist"
                }
            ))
            .color(theme::warning(dark))
            .strong(),
        );
        egui::ScrollArea::vertical()
            .max_height(180.0)
            .show(ui, |ui| {
                egui::Grid::new("conflicts")
                    .striped(true)
                    .num_columns(4)
                    .show(ui, |ui| {
                        for h in ["Name", "There now", "Incoming", "Contents"] {
                            ui.label(RichText::new(h).strong());
                        }
                        ui.end_row();
                        for (i, c) in conflicts.iter().take(200) {
                            let name = i
                                .target
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default();
                            ui.label(name);
                            ui.label(format!(
                                "{}, {}",
                                format::bytes(c.existing_size),
                                format::time_ms(c.existing_mtime_ns / 1_000_000)
                            ));
                            ui.label(format!(
                                "{}, {}",
                                format::bytes(c.source_size),
                                format::time_ms(c.source_mtime_ns / 1_000_000)
                            ));
                            ui.label(match c.identical {
                                Some(true) => "identical",
                                Some(false) => "different",
                                None => "not compared",
                            });
                            ui.end_row();
                        }
                    });
            });
    }
    for w in &p.warnings {
        ui.label(RichText::new(w).color(theme::warning(dark)));
    }
    // The refusal that only asks for a conflict choice is said by the buttons below.
    for r in p
        .refusals
        .iter()
        .filter(|r| conflicts.is_empty() || !r.contains("choose replace"))
    {
        ui.label(RichText::new(r).color(theme::error(dark)));
    }
    ui.add_space(8.0);
    if !conflicts.is_empty() {
        ui.horizontal(|ui| {
            ui.label("For every conflict:");
            let folders = conflicts
                .iter()
                .any(|(i, c)| i.kind == EntryKind::Dir && c.existing_kind == EntryKind::Dir);
            let mut choices = vec![OnConflict::Replace, OnConflict::Skip, OnConflict::KeepBoth];
            if folders {
                choices.push(OnConflict::Merge);
            }
            for c in choices {
                let r = ui
                    .button(conflict_choice(c))
                    .on_hover_text(CommandKind::ResolveConflicts.label());
                if r.clicked() {
                    actions.push(UiCommand::ResolveConflicts(c));
                }
            }
        });
    }
    ui.horizontal(|ui| {
        let go = if p.kind == OpKind::Delete {
            CommandKind::Delete.label().trim_end_matches('…')
        } else {
            UiCommand::ConfirmOp.label()
        };
        if ui
            .add_enabled(p.can_commit(), egui::Button::new(go))
            .clicked()
        {
            actions.push(UiCommand::ConfirmOp);
        }
        if ui.button(UiCommand::CancelOp.label()).clicked() {
            actions.push(UiCommand::CancelOp);
        }
    });
}

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
