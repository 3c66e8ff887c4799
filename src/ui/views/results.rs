//! The search results view: filter chips, the count of matches, and a virtualised table sortable by
//! column.

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::theme;
use crate::ui::widgets::ROW_HEIGHT;
use crate::vdfs::fs::entry::EntryKind;

/// Draws the search results; what the person does is pushed to `actions`.
pub(super) fn show(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    let changed = ui
        .horizontal(|ui| {
            ui.label("Filter");
            let changed = state
                .search_filters
                .chips(ui, &state.tags, &state.collections);
            ui.menu_button(UiCommand::SaveSearch(String::new()).label(), |ui| {
                if let Some(name) = super::name_field(ui, "saved search name", "Save as") {
                    actions.push(UiCommand::SaveSearch(name));
                    ui.close();
                }
            });
            changed
        })
        .inner;
    if changed {
        actions.push(UiCommand::Search);
    }
    let Some((hits, total, fuzzy)) = &state.found else {
        ui.centered_and_justified(|ui| ui.spinner());
        return;
    };
    let where_ = if state.search_everywhere {
        "in the library"
    } else {
        "here and below"
    };
    let text = state.search_text.trim();
    let what = if text.is_empty() {
        String::new()
    } else {
        format!(" for \u{201c}{text}\u{201d}")
    };
    let similar = if *fuzzy > 0 {
        format!(" ({fuzzy} similar)")
    } else {
        String::new()
    };
    let shown = if hits.len() < *total {
        format!(", best {} shown", hits.len())
    } else {
        String::new()
    };
    ui.label(
        RichText::new(format!(
            "{} {}{what} {where_}{similar}{shown}",
            format::count(*total as u64),
            if *total == 1 { "match" } else { "matches" }
        ))
        .strong(),
    );
    if hits.is_empty() {
        ui.label(
            RichText::new(if state.search_everywhere {
                "Nothing in the library matches. Try fewer words or filters."
            } else {
                "Nothing here matches. Try \"Library\" beside the search field, or fewer filters."
            })
            .color(theme::weak(ui)),
        );
        return;
    }
    let dark = ui.visuals().dark_mode;
    let mut resort = None;
    let mut table = crate::ui::widgets::hits_table(ui, "search_results");
    // New results of a new query open at the top.
    if std::mem::take(&mut state.results_top) {
        table = table.vertical_scroll_offset(0.0);
    }
    table
        .header(ROW_HEIGHT, |mut h| {
            use crate::vdfs::query::search::Sort;
            let (sort, reverse) = (state.search_sort, state.search_reverse);
            for (t, by) in [
                ("Name", Some(Sort::Name)),
                ("Folder", None),
                ("Size", Some(Sort::Size)),
                ("Modified", Some(Sort::Modified)),
            ] {
                h.col(|ui| {
                    let Some(by) = by else {
                        ui.label(RichText::new(t).strong());
                        return;
                    };
                    // Click: sort by this column; again: the other way; a third time:
                    // back to best match first.
                    let clicked = ui
                        .add(egui::Button::new(RichText::new(t).strong()).frame(false))
                        .on_hover_text("Sort the results by this column")
                        .clicked();
                    if sort == by {
                        // Name runs A to Z; size and date largest and newest first.
                        theme::sort_arrow(ui, (by == Sort::Name) != reverse);
                    }
                    if clicked {
                        resort = Some(match (sort == by, reverse) {
                            (false, _) => (by, false),
                            (true, false) => (by, true),
                            (true, true) => (Sort::Relevance, false),
                        });
                    }
                });
            }
        })
        .body(|body| {
            // Close (fuzzy) matches come after the real ones in every order: a heading row
            // stands before the first of them.
            let close_at = hits.iter().position(|h| h.rank == CLOSE_RANK);
            let rows = hits.len() + usize::from(close_at.is_some());
            body.rows(ROW_HEIGHT, rows, |mut row| {
                let Some(i) = hit_of_row(&mut row, close_at) else {
                    return;
                };
                let hit = &hits[i];
                let name = hit
                    .path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                let folder = hit
                    .path
                    .parent()
                    .map_or_else(String::new, |p| p.display().to_string());
                row.col(|ui| {
                    theme::kind_badge(ui, hit.kind, hit.content_kind, dark);
                    // A close match is set apart in italics, besides its heading.
                    let name = if hit.rank == CLOSE_RANK {
                        RichText::new(name).italics()
                    } else {
                        RichText::new(name)
                    };
                    ui.add(egui::Label::new(name).truncate().selectable(false));
                });
                row.col(|ui| {
                    ui.add(
                        egui::Label::new(RichText::new(folder).color(theme::weak(ui)))
                            .truncate()
                            .selectable(false),
                    );
                });
                row.col(|ui| {
                    ui.label(if hit.kind == EntryKind::Dir {
                        "—".to_owned()
                    } else {
                        format::bytes(hit.size)
                    });
                });
                row.col(|ui| {
                    ui.label(format::time_ms(hit.mtime_ns / 1_000_000));
                });
                let r = row.response();
                if r.double_clicked() || r.clicked() {
                    actions.push(UiCommand::GoToItem(hit.path.clone()));
                }
                // A hit is dragged alone (the results have no selection); a folder takes
                // drops.
                crate::ui::dnd::source(&r, || vec![hit.path.clone()]);
                if hit.kind == EntryKind::Dir {
                    crate::ui::dnd::target(&r, &hit.path, actions);
                }
            });
        });
    if let Some((by, reverse)) = resort {
        actions.push(UiCommand::SortResults { by, reverse });
    }
}

/// The rank of a close (fuzzy) match ([`crate::vdfs::query::search::Hit::rank`]).
pub(crate) const CLOSE_RANK: u8 = 4;

/// For a table of hits whose close matches start at hit `close_at`, after a heading row: the
/// hit a row shows, or `None` for the heading row, which this draws ("Close matches", then
/// what they are, over the first two columns).
pub(crate) fn hit_of_row(
    row: &mut egui_extras::TableRow<'_, '_>,
    close_at: Option<usize>,
) -> Option<usize> {
    let i = row.index();
    if close_at == Some(i) {
        row.col(|ui| {
            ui.label(RichText::new("Close matches").strong());
        });
        row.col(|ui| {
            ui.label(
                RichText::new("names with the letters in order, not the words")
                    .color(theme::weak(ui)),
            );
        });
        row.col(|_| {});
        row.col(|_| {});
        return None;
    }
    Some(if close_at.is_some_and(|c| i > c) {
        i - 1
    } else {
        i
    })
}
