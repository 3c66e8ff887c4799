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
    modal(title).show(ctx, |ui| {
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
    modal("New library").show(ctx, |ui| {
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

/// The pairing dialog, while it is open: show a code here, or type the code another device
/// shows.
/// "Send to a nearby device": the devices receiving on this network, each a button, and a
/// field for an address typed by hand (`ID@IP:PORT`, as `cairn receive` prints it).
pub(crate) fn send_nearby(ctx: &egui::Context, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    let Some(d) = &mut state.send_dialog else {
        return;
    };
    modal("Send to a nearby device")
        .show(ctx, |ui| {
            ui.label(format!(
                "{} to a device running Cairn nearby (paired or not). Its person is asked and must accept.",
                crate::ui::state::items_text(d.paths.len() as u64)
            ));
            ui.separator();
            match &d.found {
                None => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Looking for devices receiving on this network…");
                    });
                }
                Some(Err(why)) => {
                    ui.label(egui::RichText::new(why).weak());
                }
                Some(Ok(found)) if found.is_empty() => {
                    ui.label("No device on this network is receiving. On it, tick \"Receive from nearby\" (or run `cairn receive`).");
                }
                Some(Ok(found)) => {
                    for (to, name) in found {
                        if ui.button(format!("Send to {name}")).on_hover_text(to).clicked() {
                            actions.push(UiCommand::SendNearbyTo {
                                to: to.clone(),
                                name: name.clone(),
                            });
                        }
                    }
                }
            }
            ui.separator();
            let label = ui.label("Or its address");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut d.address)
                        .hint_text("ID@IP:PORT")
                        .desired_width(360.0),
                )
                .labelled_by(label.id);
            if !std::mem::replace(&mut d.focused, true) {
                field.request_focus();
            }
            ui.horizontal(|ui| {
                let typed = d.address.trim().parse::<crate::net::PeerAddr>();
                if ui
                    .add_enabled(typed.is_ok(), egui::Button::new(UiCommand::SendNearbyTo { to: String::new(), name: String::new() }.label()))
                    .clicked()
                    && let Ok(p) = typed
                {
                    actions.push(UiCommand::SendNearbyTo {
                        to: d.address.trim().to_owned(),
                        name: p.id.fmt_short().to_string(),
                    });
                }
                if ui.button(UiCommand::CloseSendNearby.label()).clicked() {
                    actions.push(UiCommand::CloseSendNearby);
                }
            });
        });
}

/// The oldest offer of files from a nearby device, to accept or decline; it goes away by
/// itself when the sender's time to wait is over.
pub(crate) fn offer(ctx: &egui::Context, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    let within = crate::net::nearby::ANSWER_WITHIN;
    state.offers.retain(|(_, _, at)| at.elapsed() < within);
    let Some((id, offer, at)) = state.offers.first() else {
        return;
    };
    let into = state
        .receiving
        .as_ref()
        .map_or_else(String::new, |(p, _)| p.display().to_string());
    modal("Files from a nearby device").show(ctx, |ui| {
        ui.label(egui::RichText::new(offer.summary()).strong());
        ui.label(format!(
            "The name is what the sender says; {} is its key, which it cannot fake.",
            &offer.key[..offer.key.len().min(8)]
        ));
        ui.label(format!(
            "Accepted files go into {into}, next to what is there (never replacing it)."
        ));
        let left = within.saturating_sub(at.elapsed()).as_secs();
        ui.label(egui::RichText::new(format!("Declined by itself in {left} s")).weak());
        ui.horizontal(|ui| {
            if ui.button("Accept").clicked() {
                actions.push(UiCommand::AnswerOffer {
                    id: *id,
                    accept: true,
                });
            }
            if ui.button("Decline").clicked() {
                actions.push(UiCommand::AnswerOffer {
                    id: *id,
                    accept: false,
                });
            }
        });
    });
    // The countdown moves once a second.
    ctx.request_repaint_after(std::time::Duration::from_secs(1));
}

pub(crate) fn pairing(ctx: &egui::Context, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    let Some(d) = &mut state.pairing else {
        return;
    };
    modal("Pair a device").show(ctx, |ui| {
        ui.label(
            "Paired devices can browse each other's locations and copy files between them, \
                 end-to-end encrypted, with no server. Show a code on one device and type it on \
                 the other.",
        );
        ui.separator();
        ui.heading("On this device");
        match &d.shown {
            None => {
                if ui.button(UiCommand::PairShowCode.label()).clicked() {
                    actions.push(UiCommand::PairShowCode);
                }
            }
            Some((crate::net::PairingState::Idle, _)) => {
                ui.spinner();
            }
            Some((crate::net::PairingState::Open { code, .. }, host)) => {
                ui.label(egui::RichText::new(code).size(28.0).monospace().strong());
                ui.label("Type this code on the other device within 5 minutes, with this address:");
                ui.horizontal(|ui| {
                    ui.label(egui::RichText::new(host).monospace().small());
                    if ui.small_button("Copy").clicked() {
                        ui.ctx().copy_text(format!("{code} {host}"));
                    }
                });
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Waiting for the other device…");
                });
            }
            Some((crate::net::PairingState::Paired(p), _)) => {
                ui.label(egui::RichText::new(format!("Paired with {}", p.name)).strong());
            }
            Some((crate::net::PairingState::Failed(why), _)) => {
                ui.colored_label(ui.visuals().error_fg_color, why);
                if ui.button("Show a new code").clicked() {
                    actions.push(UiCommand::PairShowCode);
                }
            }
        }
        ui.separator();
        ui.heading("Or join another device");
        egui::Grid::new("pair-join").num_columns(2).show(ui, |ui| {
            let l = ui.label("Code");
            ui.add(
                egui::TextEdit::singleline(&mut d.code)
                    .hint_text("1234-5678-9012")
                    .desired_width(180.0),
            )
            .labelled_by(l.id);
            ui.end_row();
            let l = ui
                .label("Its address")
                .on_hover_text("ID@IP:PORT, as the other device shows it beside its code");
            ui.add(
                egui::TextEdit::singleline(&mut d.host)
                    .hint_text("empty: look on this network")
                    .desired_width(360.0),
            )
            .labelled_by(l.id);
            ui.end_row();
        });
        ui.horizontal(|ui| {
            let ready = !d.joining
                && crate::net::pair::PairingCode::parse(&d.code).is_ok()
                && (d.host.trim().is_empty() || d.host.parse::<crate::net::PeerAddr>().is_ok());
            if ui
                .add_enabled(ready, egui::Button::new(CommandKind::PairJoin.label()))
                .clicked()
            {
                actions.push(UiCommand::PairJoin {
                    code: d.code.clone(),
                    host: d.host.clone(),
                });
            }
            if d.joining {
                ui.spinner();
            }
            match &d.outcome {
                Some(Ok(t)) => {
                    ui.label(t);
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                None => {}
            }
        });
        ui.separator();
        if ui.button(UiCommand::ClosePairing.label()).clicked()
            || ui.input(|i| i.key_pressed(egui::Key::Escape))
        {
            actions.push(UiCommand::ClosePairing);
        }
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

/// The tag editor, while it is open: a tag's name, namespace, aliases, icon, colour, privacy
/// and parents, saved together; and merging it into another tag (asked again).
pub(crate) fn tag_editor(ctx: &egui::Context, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    use crate::vdfs::index::tags::Privacy;
    let all = state.tags.clone();
    let Some(ed) = &mut state.tag_editor else {
        return;
    };
    let Some(tag) = all.iter().find(|t| t.id == ed.id) else {
        // Deleted elsewhere (another window, the CLI): nothing left to edit.
        actions.push(UiCommand::CloseTagEditor);
        return;
    };
    let name_of = |id: uuid::Uuid| {
        all.iter()
            .find(|t| t.id == id)
            .map_or_else(|| id.to_string(), |t| t.qualified())
    };
    egui::Window::new(format!("Edit tag \u{201c}{}\u{201d}", tag.qualified()))
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.set_max_width(420.0);
            egui::Grid::new("tag editor")
                .num_columns(2)
                .spacing([10.0, 6.0])
                .show(ui, |ui| {
                    let l = ui.label("Name");
                    ui.text_edit_singleline(&mut ed.edit.name)
                        .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("Namespace");
                    let mut ns = ed.edit.namespace.clone().unwrap_or_default();
                    let r = ui.add(
                        egui::TextEdit::singleline(&mut ns).hint_text("none (e.g. work, home)"),
                    );
                    r.labelled_by(l.id);
                    ed.edit.namespace = (!ns.trim().is_empty()).then_some(ns);
                    ui.end_row();
                    let l = ui.label("Aliases");
                    ui.add(
                        egui::TextEdit::singleline(&mut ed.aliases)
                            .hint_text("other names, separated by commas"),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("Icon");
                    let mut icon = ed.edit.icon.clone().unwrap_or_default();
                    ui.add(
                        egui::TextEdit::singleline(&mut icon)
                            .hint_text("a symbol")
                            .desired_width(80.0),
                    )
                    .labelled_by(l.id);
                    ed.edit.icon = (!icon.trim().is_empty()).then_some(icon);
                    ui.end_row();
                    ui.label("Colour");
                    // Two rows of four: a wrapped row would run into the next grid row.
                    ui.vertical(|ui| {
                        for row in crate::ui::panels::sidebar::TAG_COLOURS.chunks(4) {
                            ui.horizontal(|ui| {
                                for (name, hex) in row {
                                    let c = egui::Color32::from_hex(hex)
                                        .unwrap_or(egui::Color32::GRAY);
                                    let chosen = ed.edit.colour.as_deref() == Some(*hex);
                                    if ui
                                        .selectable_label(
                                            chosen,
                                            RichText::new(*name).color(c).strong(),
                                        )
                                        .clicked()
                                    {
                                        ed.edit.colour = Some((*hex).to_owned());
                                    }
                                }
                            });
                        }
                        if ui
                            .selectable_label(ed.edit.colour.is_none(), "No colour")
                            .clicked()
                        {
                            ed.edit.colour = None;
                        }
                    });
                    ui.end_row();
                    ui.label("Shown");
                    ui.vertical(|ui| {
                        ui.radio_value(&mut ed.edit.privacy, Privacy::Normal, "Everywhere");
                        ui.radio_value(
                            &mut ed.edit.privacy,
                            Privacy::Archive,
                            "Archive: its files are left out of searches unless asked for",
                        );
                        ui.radio_value(
                            &mut ed.edit.privacy,
                            Privacy::Hidden,
                            "Hidden: not in the sidebar or on files",
                        );
                    });
                    ui.end_row();
                    ui.label("Under");
                    ui.vertical(|ui| {
                        let mut gone = None;
                        for p in &ed.edit.parents {
                            ui.horizontal(|ui| {
                                ui.label(name_of(*p));
                                if ui
                                    .small_button("\u{00d7}")
                                    .on_hover_text(format!("Take it out from under {}", name_of(*p)))
                                    .clicked()
                                {
                                    gone = Some(*p);
                                }
                            });
                        }
                        if let Some(g) = gone {
                            ed.edit.parents.retain(|p| *p != g);
                        }
                        if ed.edit.parents.is_empty() {
                            ui.label(RichText::new("nothing: at the top").color(theme::weak(ui)));
                        }
                        // Tags it may go under: not itself, not below it, not already.
                        let probe = crate::ui::dnd::DraggedTag {
                            id: ed.id,
                            name: String::new(),
                            from: None,
                        };
                        ui.menu_button("Put under…", |ui| {
                            for t in &all {
                                if !ed.edit.parents.contains(&t.id)
                                    && crate::ui::dnd::tag_accepts(&probe, t.id, &all)
                                    && ui.button(t.qualified()).clicked()
                                {
                                    ed.edit.parents.push(t.id);
                                    ui.close();
                                }
                            }
                        });
                    });
                    ui.end_row();
                });
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                let valid = !ed.edit.name.trim().is_empty();
                if ui
                    .add_enabled(valid, egui::Button::new(CommandKind::SaveTagEditor.label()))
                    .clicked()
                {
                    actions.push(UiCommand::SaveTagEditor);
                }
                if ui.button(CommandKind::CloseTagEditor.label()).clicked()
                    || ui.input(|i| i.key_pressed(egui::Key::Escape))
                {
                    actions.push(UiCommand::CloseTagEditor);
                }
            });
            ui.separator();
            ui.horizontal_wrapped(|ui| {
                ui.label("Merge into");
                let chosen = ed.merge_into.map_or_else(|| "another tag…".to_owned(), name_of);
                ui.menu_button(chosen, |ui| {
                    for t in all.iter().filter(|t| t.id != ed.id) {
                        if ui
                            .selectable_label(ed.merge_into == Some(t.id), t.qualified())
                            .clicked()
                        {
                            ed.merge_into = Some(t.id);
                            ui.close();
                        }
                    }
                });
            });
            if let Some(into) = ed.merge_into {
                let n = tag.entries + tag.contents;
                ui.label(format!(
                    "Everything tagged \u{201c}{}\u{201d} ({}) gets \u{201c}{}\u{201d}; \u{201c}{}\u{201d} becomes one of its aliases and is deleted. Your files are not touched.",
                    tag.qualified(),
                    items_text(n),
                    name_of(into),
                    tag.qualified(),
                ));
                let merge = UiCommand::MergeTag { from: ed.id, into };
                if ui
                    .button(format!("Merge into \u{201c}{}\u{201d}", name_of(into)))
                    .clicked()
                {
                    actions.push(merge);
                }
            }
        });
}

/// The tags whose name or alias matches `typed` (case and accents ignored): those it starts
/// first, then those containing it; all of them when nothing is typed. Hidden tags only when
/// typed in full.
pub(crate) fn tag_completions<'a>(
    tags: &'a [crate::vdfs::library::TagInfo],
    typed: &str,
) -> Vec<&'a crate::vdfs::library::TagInfo> {
    use crate::vdfs::index::tags::Privacy;
    use crate::vdfs::query::search::fold;
    let want = fold(typed.trim(), false);
    let mut scored: Vec<(u8, &crate::vdfs::library::TagInfo)> = tags
        .iter()
        .filter_map(|t| {
            let names = std::iter::once(&t.record.name)
                .chain(&t.record.aliases)
                .map(|n| fold(n, false))
                .chain(std::iter::once(fold(&t.qualified(), false)));
            let best = names
                .filter_map(|n| {
                    if n == want {
                        Some(0)
                    } else if n.starts_with(&want) {
                        Some(1)
                    } else if n.contains(&want) {
                        Some(2)
                    } else {
                        None
                    }
                })
                .min()?;
            (t.record.privacy != Privacy::Hidden || best == 0).then_some((best, t))
        })
        .collect();
    scored.sort_by_key(|(score, t)| (*score, t.qualified()));
    scored.into_iter().map(|(_, t)| t).collect()
}

/// The tag popup (Alt+T), while it is open: a name typed, the tags it matches below it (Up
/// and Down choose, Enter or a click puts the tag on the items), or a new tag of that name.
pub(crate) fn tag_popup(ctx: &egui::Context, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    let tags = &state.tags;
    let Some(p) = &mut state.tag_popup else {
        return;
    };
    let shown: Vec<&crate::vdfs::library::TagInfo> =
        tag_completions(tags, &p.text).into_iter().take(8).collect();
    let exact = shown.first().is_some_and(|t| {
        crate::vdfs::query::search::fold(&t.record.name, false)
            == crate::vdfs::query::search::fold(p.text.trim(), false)
            || crate::vdfs::query::search::fold(&t.qualified(), false)
                == crate::vdfs::query::search::fold(p.text.trim(), false)
    });
    // The choices: the tags shown, then "New tag" when what is typed is not a tag's name.
    let new = !p.text.trim().is_empty() && !exact;
    let choices = shown.len() + usize::from(new);
    let (mut pick, esc) = crate::ui::widgets::choose_by_keys(ctx, &mut p.chosen, choices);
    egui::Window::new(format!("Tag {}", items_text(p.paths.len() as u64)))
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_TOP, [0.0, 80.0])
        .show(ctx, |ui| {
            ui.set_min_width(300.0);
            crate::ui::widgets::typing_field(ui, &mut p.text, "Tag name", &mut p.chosen);
            for (i, t) in shown.iter().enumerate() {
                let text = if t.record.aliases.is_empty() {
                    t.qualified()
                } else {
                    format!("{}  ({})", t.qualified(), t.record.aliases.join(", "))
                };
                if ui.selectable_label(p.chosen == i, text).clicked() {
                    pick = Some(i);
                }
            }
            if new
                && ui
                    .selectable_label(
                        p.chosen == shown.len(),
                        format!("New tag \u{201c}{}\u{201d}", p.text.trim()),
                    )
                    .clicked()
            {
                pick = Some(shown.len());
            }
            if choices == 0 {
                ui.label(RichText::new("Type a tag's name").color(theme::weak(ui)));
            }
        });
    if esc {
        actions.push(UiCommand::CloseTagPopup);
        return;
    }
    if let Some(i) = pick.filter(|i| *i < choices) {
        let paths = std::mem::take(&mut p.paths);
        actions.push(match shown.get(i) {
            Some(t) => UiCommand::SetTag {
                tag: t.id,
                paths,
                on: true,
            },
            None => UiCommand::NewTag {
                name: p.text.trim().to_owned(),
                paths,
            },
        });
        actions.push(UiCommand::CloseTagPopup);
    }
}

/// A dialog window: a fixed size, in the middle of the window, without a collapse button.
fn modal<'a>(title: impl Into<egui::WidgetText>) -> egui::Window<'a> {
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
}
