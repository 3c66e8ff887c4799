//! The status bar: item and selection counts, free space, where the listing came from, the last
//! error and the device.

use std::time::Duration;

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::{CommandKind, UiCommand};
use crate::ui::state::items_text;
use crate::ui::theme;
use crate::ui::views;
use crate::vdfs::jobs::JobStatus;
use crate::vdfs::query::browse::Source;

/// Draws the status bar; what the person does is pushed to `actions`.
pub(crate) fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<UiCommand>) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal(|ui| {
        let jobs_label = if state.jobs_open {
            "Hide jobs"
        } else {
            UiCommand::ToggleJobs.label()
        };
        if ui.small_button(jobs_label).clicked() {
            actions.push(UiCommand::ToggleJobs);
        }
        ui.separator();
        match &state.peer {
            Some(p) => device_counts(ui, p, state.explorer.show_hidden),
            None => folder_counts(ui, state, actions, dark),
        }
        // The live index catching up, or short of watches (the system's limit).
        for l in &state.locations {
            if let Some(w) = &l.watch
                && (w.limit_reached || w.catching_up > 0)
            {
                ui.separator();
                let color = if w.limit_reached {
                    theme::error(dark)
                } else {
                    theme::weak(ui)
                };
                ui.label(
                    RichText::new(format!("{}: {}", l.record.name(), w.describe())).color(color),
                );
            }
        }
        // A copy between devices goes on while other folders are shown.
        if let Some(t) = &state.transfer
            && state.peer.is_none()
        {
            ui.separator();
            crate::ui::views::peer::transfer_bar(ui, t);
        }
        // What the last file operation did, with Undo, for a while.
        if let Some(t) = &state.toast
            && t.at.elapsed() < Duration::from_secs(15)
        {
            ui.separator();
            let color = if t.failed {
                theme::error(dark)
            } else {
                ui.visuals().text_color()
            };
            ui.label(RichText::new(&t.text).color(color));
            if t.undo && ui.small_button(UiCommand::Undo.label()).clicked() {
                actions.push(UiCommand::Undo);
            }
            ui.ctx()
                .request_repaint_after(Duration::from_secs(15).saturating_sub(t.at.elapsed()));
        }
        // An error shows for a while; one that offers "Open with…" long enough to use it.
        let shown_for = if state.open_with_offer.is_some() {
            Duration::from_secs(30)
        } else {
            Duration::from_secs(10)
        };
        if let Some((err, at)) = &state.error
            && at.elapsed() < shown_for
        {
            ui.separator();
            ui.label(RichText::new(err).color(theme::error(dark)));
            if let Some(path) = &state.open_with_offer {
                ui.menu_button(format!("{}…", CommandKind::OpenWith.label()), |ui| {
                    views::open_with_menu(ui, state, path, actions);
                });
            }
            ui.ctx()
                .request_repaint_after(shown_for.saturating_sub(at.elapsed()));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(
                RichText::new(format!("Device: {}", state.device_name)).color(theme::weak(ui)),
            );
        });
    });
}

/// The counts of a paired device's folder shown (not of the local folder behind it).
fn device_counts(ui: &mut egui::Ui, p: &crate::ui::state::PeerView, show_hidden: bool) {
    if p.path.is_none() {
        let n = p.locations.len();
        let s = if n == 1 { "" } else { "s" };
        ui.label(format!("{n} shared location{s} on {}", p.device.name));
        return;
    }
    let shown = p.visible(show_hidden).count();
    let mut text = format!("{} on {}", items_text(shown as u64), p.device.name);
    if p.items.len() > shown {
        text.push_str(&format!(" ({} hidden)", p.items.len() - shown));
    }
    if p.loading {
        text.push_str(" · loading…");
    }
    ui.label(text);
    let sel: Vec<_> = p
        .items
        .iter()
        .filter(|i| p.selected.contains(&i.name))
        .collect();
    if !sel.is_empty() {
        let bytes: u64 = sel.iter().map(|i| i.size).sum();
        ui.separator();
        ui.label(format!("{} selected ({})", sel.len(), format::bytes(bytes)));
    }
}

/// The counts of the local folder shown, its free space and whether it is from the index.
fn folder_counts(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<UiCommand>, dark: bool) {
    let e = &state.explorer;
    let shown = e.order.len();
    let mut text = format!("{shown} item{}", if shown == 1 { "" } else { "s" });
    if e.items.len() > shown {
        text.push_str(&format!(" ({} hidden or filtered)", e.items.len() - shown));
    }
    if e.loading {
        text.push_str(" · loading…");
    }
    ui.label(text);
    let sel = e.selection.items.len();
    if sel > 0 {
        let bytes: u64 = e.selected().map(|i| i.size).sum();
        ui.separator();
        ui.label(format!("{sel} selected ({})", format::bytes(bytes)));
    }
    if let Some((free, total)) = state.space {
        ui.separator();
        ui.label(format!(
            "{} free of {}",
            format::bytes(free),
            format::bytes(total)
        ));
    }
    if let Some(Source::Index { location, .. }) = e.source {
        ui.separator();
        if e.changed_on_disk {
            ui.label(
                RichText::new("changed since the last scan")
                    .color(theme::job_status(JobStatus::Paused, dark)),
            );
            let rescan = UiCommand::RescanLocation(location);
            if ui.small_button(rescan.label()).clicked() {
                actions.push(rescan);
            }
        } else {
            ui.label(RichText::new("from the index").color(theme::weak(ui)));
        }
    }
}
