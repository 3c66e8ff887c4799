//! The sidebar: the library switcher, locations, favourites, drives and places. Items
//! dragged onto a location, a favourite, a drive or a place are dropped into it.

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::{CommandKind, UiCommand};
use crate::ui::theme;
use crate::vdfs::fs::volumes::Volume;
use crate::vdfs::index::location::Availability;
use crate::vdfs::query::browse::Source;

/// Where a drive is mounted, what it is, its size and identity.
fn drive_tooltip(v: &Volume) -> String {
    let mut flags = vec![v.kind.as_str()];
    if v.removable {
        flags.push("removable");
    }
    if v.read_only {
        flags.push("read-only");
    }
    let size = match (v.free, v.capacity) {
        (Some(f), Some(c)) => format!("{} free of {}", format::bytes(f), format::bytes(c)),
        _ => "size unknown".to_owned(),
    };
    format!(
        "{} ({}, {}) \u{2014} {size}\n{}",
        format::shown(&v.mount_point),
        v.fs_type,
        flags.join(", "),
        v.fingerprint
    )
}

/// A section title ("LOCATIONS").
fn heading(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.label(RichText::new(text).small().strong().color(theme::weak(ui)))
}

/// Draws the sidebar; what the person does is pushed to `actions`.
pub(crate) fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<UiCommand>) {
    ui.add_space(4.0);
    let label = heading(ui, "LIBRARY");
    let current = state.library_config();
    egui::ComboBox::from_id_salt("library_switcher")
        .selected_text(current.map_or_else(|| "None".to_owned(), |c| c.name.clone()))
        .width(ui.available_width() - 8.0)
        .show_ui(ui, |ui| {
            for l in &state.libraries {
                let selected = current.is_some_and(|c| c.id == l.config.id);
                let text = if l.is_default {
                    format!("{} (default)", l.config.name)
                } else {
                    l.config.name.clone()
                };
                if ui.selectable_label(selected, text).clicked() && !selected {
                    actions.push(UiCommand::OpenLibrary(l.config.id));
                }
            }
        })
        .response
        .labelled_by(label.id);
    if ui.small_button(UiCommand::NewLibrary.label()).clicked() {
        actions.push(UiCommand::NewLibrary);
    }
    if ui
        .selectable_label(state.show_dupes, UiCommand::ToggleDupes.label())
        .on_hover_text("Every group of identical files in the library")
        .clicked()
    {
        actions.push(UiCommand::ToggleDupes);
    }
    if ui
        .selectable_label(state.show_trash, UiCommand::ShowTrash.label())
        .on_hover_text("What was moved to the trash, to restore or delete for good")
        .clicked()
    {
        actions.push(UiCommand::ShowTrash);
    }
    if let Some(Err(e)) = &state.library {
        ui.label(RichText::new(e).color(theme::error(ui.visuals().dark_mode)));
    }

    ui.add_space(10.0);
    heading(ui, "LOCATIONS");
    let shown = state.explorer.folder.as_ref();
    if state.locations.is_empty() {
        ui.label(RichText::new("No folder indexed yet").color(theme::weak(ui)));
    }
    for l in &state.locations {
        let path = l.record.path();
        let selected = shown == Some(&path);
        let status = match (&l.availability, l.indexing) {
            (_, true) => "indexing…".to_owned(),
            (_, false) if l.paused => "indexing paused".to_owned(),
            (Availability::Offline(_), _) => "offline".to_owned(),
            (Availability::Missing(_), _) => "missing".to_owned(),
            (Availability::Online, _) => match (l.record.indexed_ms, l.unreadable) {
                (Some(_), 0) => format!("{} files", l.record.stats.files),
                (Some(_), n) => format!(
                    "{} files, {n} unreadable folder{}",
                    l.record.stats.files,
                    if n == 1 { "" } else { "s" }
                ),
                (None, _) => "not indexed".to_owned(),
            },
        };
        // The tooltip says whether it is kept live, and how much of it is watched.
        let live = match (&l.watch, l.record.watch) {
            (Some(w), _) => format!("Kept up to date: {}", w.describe()),
            (None, false) => "Not watched for changes (switched off)".to_owned(),
            (None, true) => "Not watched for changes now".to_owned(),
        };
        let r = ui
            .selectable_label(selected, format!("{}  \u{00b7} {status}", l.record.name()))
            .on_hover_text(format!("{}\n{live}", path.display()));
        if r.clicked() {
            actions.push(UiCommand::GoTo(path.clone()));
        }
        crate::ui::dnd::target(&r, &path, actions);
        r.context_menu(|ui| {
            let [rescan, remove] = UiCommand::location_menu(l.record.id);
            if ui.button(rescan.label()).clicked() {
                actions.push(rescan);
                ui.close();
            }
            ui.menu_button(CommandKind::SetLocationMode.label(), |ui| {
                for c in UiCommand::location_modes(l.record.id) {
                    let UiCommand::SetLocationMode(_, m) = c else {
                        continue;
                    };
                    if ui.radio(l.record.mode == m, m.as_str()).clicked() {
                        actions.push(c);
                        ui.close();
                    }
                }
            });
            if ui
                .button(remove.label())
                .on_hover_text("Forgets the index; no file is touched")
                .clicked()
            {
                actions.push(remove);
                ui.close();
            }
        });
    }
    let can_add = state.explorer.folder.is_some()
        && !matches!(state.explorer.source, Some(Source::Index { .. }));
    if ui
        .add_enabled(
            can_add,
            egui::Button::new(UiCommand::AddLocation.label()).small(),
        )
        .on_hover_text("Add the folder shown as a location and index it")
        .clicked()
    {
        actions.push(UiCommand::AddLocation);
    }
    if ui
        .add(egui::Button::new(UiCommand::PickLocation.label()).small())
        .on_hover_text("Choose a folder to index with the system's folder picker")
        .clicked()
    {
        actions.push(UiCommand::PickLocation);
    }

    ui.add_space(10.0);
    heading(ui, "FAVOURITES");
    if state.favourites.is_empty() {
        ui.label(RichText::new("Right-click a folder to add it").color(theme::weak(ui)));
    }
    for (f, dir) in &state.favourites {
        let name = f.file_name().map_or_else(
            || f.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let r = ui
            .selectable_label(shown == Some(f), name)
            .on_hover_text(f.display().to_string());
        if r.clicked() {
            actions.push(if *dir {
                UiCommand::GoTo(f.clone())
            } else {
                UiCommand::GoToItem(f.clone())
            });
        }
        if *dir {
            crate::ui::dnd::target(&r, f, actions);
        }
        r.context_menu(|ui| {
            let remove = UiCommand::RemoveFavourite(f.clone());
            if ui.button(remove.label()).clicked() {
                actions.push(remove);
                ui.close();
            }
        });
    }

    ui.add_space(10.0);
    let h = heading(ui, "TAGS");
    crate::ui::dnd::tag_top_target(&h, actions);
    tags_section(ui, state, actions);
    if ui
        .selectable_label(state.show_missing, UiCommand::ShowMissing.label())
        .on_hover_text(
            "Files that carried your tags, notes or collection places and are gone from the index",
        )
        .clicked()
    {
        actions.push(UiCommand::ShowMissing);
    }

    if !state.saved_searches.is_empty() {
        ui.add_space(10.0);
        heading(ui, "SAVED SEARCHES");
        for s in &state.saved_searches {
            let r = ui
                .selectable_label(false, &s.name)
                .on_hover_text(UiCommand::RunSaved(s.name.clone()).label());
            if r.clicked() {
                actions.push(UiCommand::RunSaved(s.name.clone()));
            }
        }
    }
    if !state.collections.is_empty() {
        ui.add_space(10.0);
        heading(ui, "COLLECTIONS");
        let shown_collection = if state.searching() {
            state.search_filters.collection
        } else {
            None
        };
        for c in &state.collections {
            let n = c.record.items.len();
            let r = ui
                .selectable_label(
                    shown_collection == Some(c.id),
                    format!("{}  \u{00b7} {}", c.record.name, format::count(n as u64)),
                )
                .on_hover_text(UiCommand::ShowCollection(c.id).label());
            if r.clicked() {
                actions.push(UiCommand::ShowCollection(c.id));
            }
        }
    }

    ui.add_space(10.0);
    heading(ui, "DEVICES");
    for d in &state.devices {
        let shown = state.peer.as_ref().is_some_and(|p| p.device.id == d.id);
        let seen = d.last_seen.map_or_else(
            || "not reached since pairing".to_owned(),
            |t| format!("last reached {}", format::time_ms(t.as_millisecond())),
        );
        let dark = ui.visuals().dark_mode;
        let (online, color, state_text) = match state.reach.get(&d.id) {
            Some(Ok(())) => (true, theme::ok(dark), "online".to_owned()),
            Some(Err(why)) => (false, theme::weak(ui), format!("offline: {why}")),
            None => (false, theme::weak(ui), "not asked yet".to_owned()),
        };
        let r = ui
            .horizontal(|ui| {
                // A filled dot: it answered when last asked; a ring: it did not (or not yet).
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                let c = rect.center();
                if online {
                    ui.painter().circle_filled(c, 4.0, color);
                } else {
                    ui.painter()
                        .circle_stroke(c, 3.5, egui::Stroke::new(1.0, color));
                }
                ui.selectable_label(shown, d.name.as_str())
            })
            .inner
            .on_hover_text(format!("Paired device {}\n{state_text}\n{seen}", d.id));
        if r.clicked() {
            actions.push(UiCommand::ShowDevice(d.id));
        }
        r.context_menu(|ui| {
            if ui.button(UiCommand::Unpair(d.id).label()).clicked() {
                actions.push(UiCommand::Unpair(d.id));
                ui.close();
            }
        });
    }
    let mut receiving = state.receiving.is_some();
    let hint = match &state.receiving {
        Some((into, at)) => format!(
            "Nearby devices running Cairn can offer you files; you are asked each time, and accepted files land in {}.\nThis device: {at}",
            into.display()
        ),
        None => {
            "Let nearby devices (paired or not) offer you files; you are asked each time".to_owned()
        }
    };
    if ui
        .checkbox(&mut receiving, "Receive from nearby")
        .on_hover_text(hint)
        .changed()
    {
        actions.push(UiCommand::SetReceiving(receiving));
    }
    if ui
        .button(UiCommand::PairDevice.label())
        .on_hover_text("Pair with another computer running Cairn, with a short code")
        .clicked()
    {
        actions.push(UiCommand::PairDevice);
    }

    ui.add_space(10.0);
    heading(ui, "DRIVES");
    for v in state.volumes.iter().filter(|v| v.is_drive()) {
        let selected = shown == Some(&v.mount_point);
        let free = v.free.map_or_else(
            || "size unknown".to_owned(),
            |f| format!("{} free", format::bytes(f)),
        );
        let r = ui
            .horizontal(|ui| {
                theme::volume_badge(ui, v.kind, ui.visuals().dark_mode);
                ui.selectable_label(selected, format!("{}  \u{00b7} {free}", v.name()))
            })
            .inner
            .on_hover_text(drive_tooltip(v));
        if r.clicked() {
            actions.push(UiCommand::GoTo(v.mount_point.clone()));
        }
        crate::ui::dnd::target(&r, &v.mount_point, actions);
    }
    if let Some(home) = &state.home {
        ui.add_space(10.0);
        heading(ui, "PLACES");
        let r = ui.selectable_label(shown == Some(home), "Home");
        if r.clicked() {
            actions.push(UiCommand::GoTo(home.clone()));
        }
        crate::ui::dnd::target(&r, home, actions);
    }
}

/// The tags as a tree (a tag under each of its parents), each with its colour and how many
/// items carry it; a click shows everything with the tag (and the tags below it). Archive and
/// hidden tags are left out.
fn tags_section(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<UiCommand>) {
    use crate::vdfs::index::tags::Privacy;
    let shown: Vec<&crate::vdfs::library::TagInfo> = state
        .tags
        .iter()
        .filter(|t| t.record.privacy != Privacy::Hidden || state.show_hidden_tags)
        .collect();
    let hidden = state
        .tags
        .iter()
        .filter(|t| t.record.privacy == Privacy::Hidden)
        .count();
    if hidden > 0 {
        let text = if state.show_hidden_tags {
            "Leave out the hidden tags".to_owned()
        } else {
            format!("Show the hidden tags ({hidden})")
        };
        if ui
            .add(egui::Button::new(RichText::new(text).small()).frame(false))
            .clicked()
        {
            actions.push(UiCommand::ToggleHiddenTags);
        }
    }
    if shown.is_empty() {
        ui.label(RichText::new("Right-click a file to tag it").color(theme::weak(ui)));
        return;
    }
    let ids: std::collections::HashSet<uuid::Uuid> = shown.iter().map(|t| t.id).collect();
    let filtered = state.searching() && state.search_filters.tag.is_some();
    /// What every row of the tree looks at.
    struct Tree<'a> {
        /// The tags shown.
        all: &'a [&'a crate::vdfs::library::TagInfo],
        /// Every tag (hidden ones too: a drop must not make a cycle through them).
        every: &'a [crate::vdfs::library::TagInfo],
        /// The tag whose search is shown.
        selected: Option<uuid::Uuid>,
    }
    fn row(
        ui: &mut egui::Ui,
        t: &crate::vdfs::library::TagInfo,
        tree: &Tree<'_>,
        depth: usize,
        path: &mut Vec<uuid::Uuid>,
        actions: &mut Vec<UiCommand>,
    ) {
        let (all, every, selected) = (tree.all, tree.every, tree.selected);
        let r = ui
            .horizontal(|ui| {
                ui.add_space(depth as f32 * 12.0);
                let colour = t
                    .record
                    .colour
                    .as_deref()
                    .and_then(|c| egui::Color32::from_hex(c).ok())
                    .unwrap_or(theme::weak(ui));
                let (dot, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                ui.painter().circle_filled(dot.center(), 4.5, colour);
                let n = t.entries + t.contents;
                // A namespaced tag says its namespace (two "Project" tags side by side).
                let name = match &t.record.icon {
                    Some(icon) => format!("{icon} {}", t.qualified()),
                    None => t.qualified(),
                };
                let text = if n > 0 {
                    format!("{name}  \u{00b7} {}", format::count(n))
                } else {
                    name
                };
                // An archive or hidden tag is drawn faint.
                let text = if t.record.privacy == crate::vdfs::index::tags::Privacy::Normal {
                    RichText::new(text)
                } else {
                    RichText::new(text).italics().color(theme::weak(ui))
                };
                // Clicked, right-clicked and dragged (onto another tag) alike.
                ui.add(
                    egui::Button::selectable(selected == Some(t.id), text)
                        .sense(egui::Sense::click_and_drag()),
                )
            })
            .inner
            .on_hover_text(format!(
                "{}{}\n{}",
                t.qualified(),
                match t.record.privacy {
                    crate::vdfs::index::tags::Privacy::Normal => "",
                    crate::vdfs::index::tags::Privacy::Archive =>
                        " (archive: left out of searches unless asked for)",
                    crate::vdfs::index::tags::Privacy::Hidden => " (hidden)",
                },
                UiCommand::ShowTag(t.id).label()
            ));
        if r.clicked() {
            actions.push(UiCommand::ShowTag(t.id));
        }
        // Dragged onto another tag it goes under that one; items dropped on it are tagged.
        crate::ui::dnd::tag_source(&r, || crate::ui::dnd::DraggedTag {
            id: t.id,
            name: t.qualified(),
            from: path.last().copied(),
        });
        crate::ui::dnd::tag_target(&r, t, every, actions);
        r.context_menu(|ui| tag_menu(ui, t, actions));
        path.push(t.id);
        for c in all.iter().filter(|c| c.parents.contains(&t.id)) {
            if !path.contains(&c.id) {
                row(ui, c, tree, depth + 1, path, actions);
            }
        }
        path.pop();
    }
    let selected = if filtered {
        state.search_filters.tag
    } else {
        None
    };
    let tree = Tree {
        all: &shown,
        every: &state.tags,
        selected,
    };
    for t in shown
        .iter()
        .filter(|t| !t.parents.iter().any(|p| ids.contains(p)))
    {
        row(ui, t, &tree, 0, &mut Vec::new(), actions);
    }
}

/// The colours offered for a tag.
pub(crate) const TAG_COLOURS: [(&str, &str); 8] = [
    ("Red", "#e11d48"),
    ("Orange", "#f97316"),
    ("Yellow", "#eab308"),
    ("Green", "#16a34a"),
    ("Teal", "#0d9488"),
    ("Blue", "#3b82f6"),
    ("Purple", "#9333ea"),
    ("Grey", "#6b7280"),
];

/// A tag's context menu: show its files, rename it (a field), its colour, delete it (asked
/// again, saying how many items it is on).
fn tag_menu(ui: &mut egui::Ui, t: &crate::vdfs::library::TagInfo, actions: &mut Vec<UiCommand>) {
    use crate::ui::commands::CommandKind;
    ui.set_min_width(200.0);
    if ui.button(CommandKind::ShowTag.label()).clicked() {
        actions.push(UiCommand::ShowTag(t.id));
        ui.close();
    }
    if ui.button(CommandKind::OpenTagEditor.label()).clicked() {
        actions.push(UiCommand::OpenTagEditor(t.id));
        ui.close();
    }
    ui.menu_button(CommandKind::EditTag.label(), |ui| {
        let id = egui::Id::unique(("rename tag", t.id));
        let mut text = ui.data_mut(|d| {
            d.get_temp::<String>(id)
                .unwrap_or_else(|| t.record.name.clone())
        });
        let r = ui.add(egui::TextEdit::singleline(&mut text).desired_width(160.0));
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (enter || ui.button("Rename tag").clicked()) && !text.trim().is_empty() {
            actions.push(UiCommand::EditTag {
                tag: t.id,
                name: Some(text.trim().to_owned()),
                colour: None,
            });
            ui.data_mut(|d| d.remove::<String>(id));
            ui.close();
            return;
        }
        ui.data_mut(|d| d.insert_temp(id, text));
    });
    ui.menu_button("Colour", |ui| {
        for (name, hex) in TAG_COLOURS {
            let c = egui::Color32::from_hex(hex).unwrap_or(egui::Color32::GRAY);
            let chosen = t.record.colour.as_deref() == Some(hex);
            if ui
                .selectable_label(chosen, egui::RichText::new(name).color(c).strong())
                .clicked()
            {
                actions.push(UiCommand::EditTag {
                    tag: t.id,
                    name: None,
                    colour: Some(Some(hex.to_owned())),
                });
                ui.close();
            }
        }
        if ui
            .selectable_label(t.record.colour.is_none(), "No colour")
            .clicked()
        {
            actions.push(UiCommand::EditTag {
                tag: t.id,
                name: None,
                colour: Some(None),
            });
            ui.close();
        }
    });
    ui.separator();
    ui.menu_button(CommandKind::DeleteTag.label(), |ui| {
        let n = t.entries + t.contents;
        ui.label(format!(
            "Take \"{}\" off {} and delete it? Your files are not touched.",
            t.qualified(),
            if n == 1 {
                "1 item".to_owned()
            } else {
                format!("{} items", format::count(n))
            }
        ));
        if ui.button(format!("Delete \"{}\"", t.record.name)).clicked() {
            actions.push(UiCommand::DeleteTag(t.id));
            ui.close();
        }
    });
}
