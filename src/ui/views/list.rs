//! The list view: a virtualised table of the folder with sortable columns and a context menu per
//! row.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use crate::format;
use crate::ui::app::CairnApp;
use crate::ui::bridge::Command;
use crate::ui::explorer::SortKey;
use crate::ui::theme;
use crate::ui::widgets::{ContextAction, ROW_HEIGHT, kind_text, size_text};
use crate::vdfs::fs::entry::EntryKind;

impl CairnApp {
    pub(crate) fn list_view(&mut self, ui: &mut egui::Ui) {
        use egui_extras::{Column, TableBuilder};
        let prefs = self.state.explorer.current_prefs();
        let mut sort = None;
        let mut clicked: Option<(usize, egui::Modifiers, bool)> = None;
        let mut context: Option<(usize, ContextAction)> = None;
        let apps = self.state.apps.clone();
        let mut want_apps: Option<PathBuf> = None;
        let mut open_with: Option<(PathBuf, crate::vdfs::platform::open_with::App)> = None;
        let dark = ui.visuals().dark_mode;
        let cursor = self.state.explorer.selection.cursor;
        let scroll_to = self.state.explorer.selection.cursor;
        let e = &self.state.explorer;
        // Column widths are remembered per layout (inspector shown or not, window width in
        // 64-pixel steps), so the columns re-fit when either changes.
        let width_step = (ui.available_width() / 64.0) as u32;
        let mut table = TableBuilder::new(ui)
            .id_salt(("listing", self.state.explorer.inspector, width_step))
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::remainder().at_least(200.0).clip(true))
            .column(Column::initial(90.0).at_least(60.0))
            .column(Column::initial(140.0).at_least(80.0))
            .column(Column::initial(100.0).at_least(60.0));
        if let Some(row) = scroll_to {
            table = table.scroll_to_row(row, None);
        }
        table
            .header(ROW_HEIGHT, |mut header| {
                for (key, title) in [
                    (SortKey::Name, "Name"),
                    (SortKey::Size, "Size"),
                    (SortKey::Modified, "Modified"),
                    (SortKey::Kind, "Kind"),
                ] {
                    header.col(|ui| {
                        if ui
                            .add(egui::Button::new(RichText::new(title).strong()).frame(false))
                            .clicked()
                        {
                            sort = Some(key);
                        }
                        if prefs.sort == key {
                            theme::sort_arrow(ui, prefs.ascending);
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, e.order.len(), |mut row| {
                    let r = row.index();
                    let item = &e.items[e.order[r] as usize];
                    let selected = e.selection.items.contains(&e.order[r]);
                    row.set_selected(selected);
                    row.col(|ui| {
                        theme::kind_badge(ui, item.kind, item.content_kind, dark);
                        let mut text = RichText::new(&item.name);
                        if item.hidden {
                            text = text.color(theme::weak(ui));
                        }
                        if cursor == Some(r) {
                            text = text.underline();
                        }
                        ui.add(egui::Label::new(text).truncate().selectable(false));
                    });
                    row.col(|ui| {
                        ui.label(size_text(item));
                    });
                    row.col(|ui| {
                        ui.label(format::time_ms(item.mtime_ns / 1_000_000));
                    });
                    row.col(|ui| {
                        ui.label(kind_text(item));
                    });
                    let resp = row.response();
                    if resp.clicked() {
                        clicked = Some((r, resp.ctx.input(|i| i.modifiers), false));
                    }
                    if resp.double_clicked() {
                        clicked = Some((r, egui::Modifiers::NONE, true));
                    }
                    resp.context_menu(|ui| {
                        for a in ContextAction::ALL {
                            if ui.button(a.label()).clicked() {
                                context = Some((r, a));
                                ui.close();
                            }
                        }
                        if item.kind == EntryKind::File
                            && let Some(folder) = &e.folder
                        {
                            let path = item.path_in(folder);
                            ui.menu_button("Open with", |ui| {
                                ui.set_min_width(160.0);
                                ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
                                match &apps {
                                    Some((p, list)) if p == &path => {
                                        if list.is_empty() {
                                            ui.label("No application declares this type");
                                        }
                                        for app in list {
                                            if ui.button(&app.name).clicked() {
                                                open_with = Some((path.clone(), app.clone()));
                                                ui.close();
                                            }
                                        }
                                    }
                                    _ => {
                                        ui.spinner();
                                        want_apps = Some(path.clone());
                                    }
                                }
                            });
                        }
                    });
                });
            });
        if let Some(k) = sort {
            self.state.explorer.sort_by(k);
        }
        self.after_click(clicked);
        if let Some((r, a)) = context {
            self.context_action(r, a, ui.ctx());
        }
        if let Some(p) = want_apps
            && self.state.apps.as_ref().is_none_or(|(q, _)| q != &p)
            && self.requested_apps.as_ref() != Some(&p)
        {
            self.requested_apps = Some(p.clone());
            self.bridge.send(Command::AppsFor(p));
        }
        if let Some((p, app)) = open_with {
            self.bridge.send(Command::OpenWith(p, app));
        }
    }
}
