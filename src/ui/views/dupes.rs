//! The duplicates view: groups of identical files, largest waste first, with the copy a "keep
//! newest/oldest" preset would keep.

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::theme;
use crate::ui::widgets::{ROW_HEIGHT, fixed_width};
use crate::vdfs::jobs::JobStatus;

/// Draws the duplicate groups; what the person does is pushed to `actions`.
pub(super) fn show(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    let Some(groups) = &state.dupes else {
        ui.centered_and_justified(|ui| ui.spinner());
        return;
    };
    let wasted = crate::vdfs::query::dupes::total_wasted(groups);
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("{} groups of identical files", groups.len())).strong());
        ui.label(format!("{} could be freed", format::bytes(wasted)));
        ui.separator();
        ui.label("Keep");
        ui.radio_value(&mut state.keep_newest, true, "newest");
        ui.radio_value(&mut state.keep_newest, false, "oldest");
    });
    ui.label(
        RichText::new(
            "Found by sampled content hash; nothing is deleted from here. Click a copy to show it.",
        )
        .color(theme::weak(ui)),
    );
    ui.separator();
    if groups.is_empty() {
        ui.label("No duplicates. Index locations in Content mode to find them.");
        return;
    }
    let rule = if state.keep_newest {
        crate::vdfs::query::dupes::Keep::Newest
    } else {
        crate::vdfs::query::dupes::Keep::Oldest
    };
    let keeps = crate::vdfs::query::dupes::keep(groups, &rule);
    // One row per group header and per copy, so the list is virtualised row by row.
    let rows: Vec<(usize, Option<usize>)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, grp)| {
            std::iter::once((g, None)).chain((0..grp.members.len()).map(move |m| (g, Some(m))))
        })
        .collect();
    let mut area = egui::ScrollArea::vertical()
        .id_salt("dupes")
        .auto_shrink([false, false]);
    // The view opens at the top, not where it was left last time.
    if std::mem::take(&mut state.dupes_top) {
        area = area.vertical_scroll_offset(0.0);
    }
    area.show_rows(ui, ROW_HEIGHT, rows.len(), |ui, range| {
        for &(g, m) in &rows[range] {
            let grp = &groups[g];
            ui.horizontal(|ui| {
                ui.set_height(ROW_HEIGHT - 4.0);
                match m {
                    None => {
                        ui.label(
                            RichText::new(format!(
                                "{} copies of {} \u{00b7} {} wasted",
                                grp.members.len(),
                                format::bytes(grp.size),
                                format::bytes(grp.wasted)
                            ))
                            .strong(),
                        );
                    }
                    Some(i) => {
                        let member = &grp.members[i];
                        let kept = keeps[g] == Some(i);
                        fixed_width(ui, 50.0, |ui| {
                            if kept {
                                ui.label(RichText::new("keep").color(theme::job_status(
                                    JobStatus::Completed,
                                    ui.visuals().dark_mode,
                                )));
                            }
                        });
                        if ui.link(member.path.display().to_string()).clicked() {
                            actions.push(UiCommand::GoToItem(member.path.clone()));
                        }
                        ui.label(
                            RichText::new(format::time_ms(member.mtime_ns / 1_000_000))
                                .color(theme::weak(ui)),
                        );
                    }
                }
            });
        }
    });
}
