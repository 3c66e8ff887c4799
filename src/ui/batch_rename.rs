//! The batch-rename dialog (F2, or "Rename…" in a context menu, with several items
//! selected): a template, find and replace, a case change and the counter's start, over a
//! table of every old → new name that follows each key press.
//!
//! The new names come from [`crate::vdfs::actions::pattern`] (pure, cheap: recomputed only
//! when a field changed). Their problems are found with
//! [`crate::vdfs::actions::batch::row_problems`] against the names of the listing the window
//! already holds, never the disk: the core's preview checks the disk again when the person
//! confirms, and a refusal then is said in the dialog.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};

use crate::ui::AppState;
use crate::ui::commands::UiCommand;
use crate::ui::theme;
use crate::vdfs::actions::batch::{RenameRow, row_problems};
use crate::vdfs::actions::pattern::{Case, CaseScope, Pattern, PatternItem};
use crate::vdfs::actions::{OpKind, Request};
use crate::vdfs::fs::entry::{EntryKind, os_bytes};
use crate::vdfs::query::browse::Item;

/// One item of the dialog: its path and what the pattern reads of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    /// Its exact path.
    pub path: PathBuf,
    /// Its name as shown (lossy for a name that is not UTF-8).
    pub shown: String,
    /// Its name, kind, time and folder, for the pattern.
    pub pattern: PatternItem,
}

/// One line of the table: an item's new name and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    /// The new name, exact bytes.
    pub new: Vec<u8>,
    /// The new name as shown.
    pub shown: String,
    /// It differs from the old one.
    pub changed: bool,
    /// Why it cannot be used.
    pub problem: Option<String>,
}

/// The batch-rename dialog's state: what was typed and the table it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRename {
    /// The items, in the order shown (the counter counts in it).
    pub items: Vec<BatchItem>,
    /// The names of the folder's listing when the dialog opened (a new name among them that
    /// no item leaves is taken).
    pub taken: HashSet<Vec<u8>>,
    /// The pattern as the fields edit it (template, find/replace, case, counter start; see
    /// [`crate::vdfs::actions::pattern`]).
    pub edited: Pattern,
    /// The table, one row per item (empty while the pattern has an error).
    pub rows: Vec<BatchRow>,
    /// What is wrong with the pattern itself.
    pub error: Option<String>,
    /// Why the core refused the names when the person confirmed.
    pub refused: Option<String>,
    /// The names were sent; waiting for the core.
    pub pending: bool,
    /// The template field takes the keyboard on the next frame.
    pub focus: bool,
    /// The template's text is selected once, when the dialog opens, so typing replaces it.
    select_template: bool,
    /// The pattern the table was computed for.
    computed: Option<Pattern>,
}

impl BatchRename {
    /// The dialog over `items` (with their exact paths) of the folder `folder`, whose
    /// listing holds the names `taken`; the table is computed for the default pattern.
    pub fn open<'a>(
        folder: &Path,
        items: impl IntoIterator<Item = (PathBuf, &'a Item)>,
        taken: HashSet<Vec<u8>>,
    ) -> BatchRename {
        let parent = folder
            .file_name()
            .map(|n| os_bytes(n).to_vec())
            .unwrap_or_default();
        let items = items
            .into_iter()
            .map(|(path, i)| BatchItem {
                path,
                shown: i.name.clone(),
                pattern: PatternItem {
                    name: i.raw_name.clone(),
                    is_dir: i.kind == EntryKind::Dir,
                    mtime_ns: i.mtime_ns,
                    parent: parent.clone(),
                },
            })
            .collect();
        let mut b = BatchRename {
            items,
            taken,
            edited: Pattern::default(),
            rows: Vec::new(),
            error: None,
            refused: None,
            pending: false,
            focus: true,
            select_template: true,
            computed: None,
        };
        b.refresh();
        b
    }

    /// The pattern the fields make.
    pub fn pattern(&self) -> Pattern {
        self.edited.clone()
    }

    /// Computes the table again if a field changed since it was last computed.
    pub fn refresh(&mut self) {
        let pattern = self.pattern();
        if self.computed.as_ref() == Some(&pattern) {
            return;
        }
        let items: Vec<PatternItem> = self.items.iter().map(|i| i.pattern.clone()).collect();
        match pattern.compile().and_then(|c| c.apply(&items)) {
            Err(e) => {
                self.error = Some(e.to_string());
                self.rows.clear();
            }
            Ok(names) => {
                self.error = None;
                let folder = PathBuf::new();
                let rows: Vec<RenameRow> = items
                    .iter()
                    .zip(&names)
                    .map(|(i, n)| RenameRow {
                        folder: folder.clone(),
                        old: i.name.clone(),
                        new: n.clone(),
                    })
                    .collect();
                let problems = row_problems(
                    &rows,
                    |_, name| self.taken.contains(name),
                    |_| String::new(),
                );
                self.rows = rows
                    .into_iter()
                    .zip(problems)
                    .map(|(r, problem)| BatchRow {
                        shown: String::from_utf8_lossy(&r.new).into_owned(),
                        changed: r.new != r.old,
                        new: r.new,
                        problem,
                    })
                    .collect();
            }
        }
        self.computed = Some(pattern);
        self.refused = None;
    }

    /// How many names change.
    pub fn changes(&self) -> usize {
        self.rows.iter().filter(|r| r.changed).count()
    }

    /// How many names cannot be used.
    pub fn problems(&self) -> usize {
        self.rows.iter().filter(|r| r.problem.is_some()).count()
    }

    /// Whether "Rename" can go ahead: the pattern is valid, no name has a problem, one
    /// changes at least, nothing is on its way already.
    pub fn can_rename(&self) -> bool {
        self.error.is_none() && self.problems() == 0 && self.changes() > 0 && !self.pending
    }

    /// The batch rename of the names shown (the items that keep their names are left out).
    pub fn request(&self) -> Request {
        let (sources, names) = self
            .items
            .iter()
            .zip(&self.rows)
            .filter(|(_, r)| r.changed)
            .map(|(i, r)| (i.path.clone(), r.new.clone()))
            .unzip();
        Request::new(OpKind::BatchRename, sources).names(names)
    }
}

/// Height of a row of the table, in points.
const ROW: f32 = 20.0;

/// The dialog, while it is open; what was typed goes straight into the state, the buttons and
/// keys push [`UiCommand`]s.
pub(crate) fn show(ctx: &egui::Context, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    let Some(b) = &mut state.batch_rename else {
        return;
    };
    b.refresh();
    let title = format!("Rename {} items", b.items.len());
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            let dark = ui.visuals().dark_mode;
            ui.set_width(560.0);
            let template = egui::Grid::new("batch_rename_fields")
                .num_columns(2)
                .show(ui, |ui| {
                    let l = ui.label("Template");
                    let t = ui
                        .add(
                            egui::TextEdit::singleline(&mut b.edited.template).desired_width(380.0),
                        )
                        .labelled_by(l.id);
                    ui.end_row();
                    ui.label("");
                    ui.label(
                        RichText::new("{name} {ext} {n} {n:3} {date} {parent}")
                            .color(theme::weak(ui))
                            .small(),
                    );
                    ui.end_row();
                    let l = ui.label("Find");
                    ui.add(egui::TextEdit::singleline(&mut b.edited.find).desired_width(380.0))
                        .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("Replace with");
                    ui.add(egui::TextEdit::singleline(&mut b.edited.replace).desired_width(380.0))
                        .labelled_by(l.id);
                    ui.end_row();
                    ui.label("");
                    ui.horizontal(|ui| {
                        ui.checkbox(&mut b.edited.regex, "Regular expression");
                        ui.checkbox(&mut b.edited.ignore_case, "Ignore case");
                    });
                    ui.end_row();
                    ui.label("Case");
                    ui.horizontal(|ui| {
                        ui.radio_value(&mut b.edited.case, None, "Keep");
                        ui.radio_value(&mut b.edited.case, Some(Case::Lower), "lower");
                        ui.radio_value(&mut b.edited.case, Some(Case::Upper), "UPPER");
                        ui.radio_value(&mut b.edited.case, Some(Case::Title), "Title");
                        let mut whole = b.edited.case_scope == CaseScope::Name;
                        if ui.checkbox(&mut whole, "Extension too").changed() {
                            b.edited.case_scope = if whole {
                                CaseScope::Name
                            } else {
                                CaseScope::Stem
                            };
                        }
                    });
                    ui.end_row();
                    let l = ui.label("Counter starts at");
                    ui.horizontal(|ui| {
                        ui.add(egui::DragValue::new(&mut b.edited.start).speed(0.2))
                            .labelled_by(l.id);
                        let by = ui.label("by");
                        ui.add(
                            egui::DragValue::new(&mut b.edited.step)
                                .speed(0.2)
                                .range(1..=1_000_000),
                        )
                        .labelled_by(by.id);
                    });
                    ui.end_row();
                    t
                })
                .inner;
            if std::mem::take(&mut b.focus) {
                template.request_focus();
            }
            if b.select_template
                && let Some(mut st) = egui::TextEdit::load_state(ui.ctx(), template.id)
            {
                b.select_template = false;
                st.cursor
                    .set_char_range(Some(egui::text::CCursorRange::select_all_str(
                        &b.edited.template,
                    )));
                st.store(ui.ctx(), template.id);
            }
            b.refresh();
            ui.add_space(6.0);
            if let Some(e) = &b.error {
                ui.label(RichText::new(e).color(theme::error(dark)));
            } else {
                table(ui, b, dark);
                let problems = b.problems();
                let line = if problems > 0 {
                    RichText::new(format!("{problems} of the new names cannot be used"))
                        .color(theme::error(dark))
                } else {
                    RichText::new(format!("{} of {} names change", b.changes(), b.items.len()))
                };
                ui.label(line);
            }
            if let Some(r) = &b.refused {
                ui.label(RichText::new(r).color(theme::error(dark)));
            }
            ui.add_space(6.0);
            let can = b.can_rename();
            ui.horizontal(|ui| {
                let go = ui.add_enabled(
                    can,
                    egui::Button::new(UiCommand::ConfirmBatchRename.label()),
                );
                if go.clicked() {
                    actions.push(UiCommand::ConfirmBatchRename);
                }
                if ui.button(UiCommand::CancelBatchRename.label()).clicked() {
                    actions.push(UiCommand::CancelBatchRename);
                }
            });
            let (enter, escape) = ui.input(|i| {
                (
                    i.key_pressed(egui::Key::Enter),
                    i.key_pressed(egui::Key::Escape),
                )
            });
            if escape {
                actions.push(UiCommand::CancelBatchRename);
            } else if enter {
                if can {
                    actions.push(UiCommand::ConfirmBatchRename);
                } else {
                    // Enter left the field: it keeps the keyboard until the names are fine.
                    b.focus = true;
                }
            }
        });
}

/// The old → new table, only its visible rows drawn; a name with a problem in red, the
/// problem beside it.
fn table(ui: &mut egui::Ui, b: &BatchRename, dark: bool) {
    egui::ScrollArea::vertical()
        .max_height(ROW * 12.0)
        .auto_shrink([false, true])
        .show_rows(ui, ROW, b.items.len(), |ui, range| {
            for i in range {
                let (item, row) = (&b.items[i], &b.rows[i]);
                ui.horizontal(|ui| {
                    ui.set_height(ROW);
                    ui.add_sized(
                        [210.0, ROW],
                        egui::Label::new(item.shown.as_str()).truncate(),
                    );
                    // An arrow drawn, not a glyph (a font may not have one).
                    let (r, _) =
                        ui.allocate_exact_size(egui::vec2(18.0, ROW), egui::Sense::hover());
                    ui.painter().arrow(
                        r.left_center() + egui::vec2(3.0, 0.0),
                        egui::vec2(11.0, 0.0),
                        egui::Stroke::new(1.0, theme::weak(ui)),
                    );
                    let new = match (&row.problem, row.changed) {
                        (Some(_), _) => RichText::new(&row.shown).color(theme::error(dark)),
                        (None, false) => RichText::new(&row.shown).color(theme::weak(ui)),
                        (None, true) => RichText::new(&row.shown).strong(),
                    };
                    ui.add(egui::Label::new(new).truncate());
                    if let Some(p) = &row.problem {
                        ui.label(RichText::new(p).color(theme::error(dark)).small());
                    }
                });
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, kind: EntryKind) -> Item {
        Item::named(name.as_bytes(), kind)
    }

    fn dialog(names: &[&str], listing: &[&str]) -> BatchRename {
        let items: Vec<Item> = names.iter().map(|n| item(n, EntryKind::File)).collect();
        let folder = Path::new("/f");
        BatchRename::open(
            folder,
            items.iter().map(|i| (i.path_in(folder), i)),
            listing.iter().map(|n| n.as_bytes().to_vec()).collect(),
        )
    }

    #[test]
    fn the_table_follows_the_fields_and_problems_disable_rename() {
        let mut b = dialog(
            &["a.txt", "b.txt", "c.md"],
            &["a.txt", "b.txt", "c.md", "x.md"],
        );
        // The default pattern changes nothing: nothing to rename.
        assert_eq!(b.changes(), 0);
        assert!(!b.can_rename());
        b.edited.template = "x-{n:2}.{ext}".into();
        b.refresh();
        let shown: Vec<&str> = b.rows.iter().map(|r| r.shown.as_str()).collect();
        assert_eq!(shown, ["x-01.txt", "x-02.txt", "x-03.md"]);
        // The counter's start and step.
        (b.edited.start, b.edited.step) = (10, 5);
        b.refresh();
        let shown: Vec<&str> = b.rows.iter().map(|r| r.shown.as_str()).collect();
        assert_eq!(shown, ["x-10.txt", "x-15.txt", "x-20.md"]);
        (b.edited.start, b.edited.step) = (1, 1);
        b.refresh();
        assert!(b.can_rename());
        let r = b.request();
        assert_eq!(r.kind, OpKind::BatchRename);
        assert_eq!(
            r.sources,
            [
                PathBuf::from("/f/a.txt"),
                "/f/b.txt".into(),
                "/f/c.md".into()
            ]
        );
        assert_eq!(r.names[2], b"x-03.md");
        // Two items ending with one name, and a name the listing holds: red, no Rename.
        b.edited.template = "x.{ext}".into();
        b.refresh();
        assert!(
            b.rows[0]
                .problem
                .as_deref()
                .unwrap()
                .contains("also the new name")
        );
        assert!(b.rows[2].problem.as_deref().unwrap().contains("taken"));
        assert_eq!(b.problems(), 3);
        assert!(!b.can_rename());
        // A bad token says which.
        b.edited.template = "{nope}".into();
        b.refresh();
        assert!(b.error.as_deref().unwrap().contains("{nope}"));
        assert!(!b.can_rename());
        // A swap is fine: each name is left by the other item.
        let mut b = dialog(&["2.txt", "1.txt"], &["1.txt", "2.txt"]);
        b.edited.template = "{n}.{ext}".into();
        b.refresh();
        assert!(b.can_rename(), "{:?}", b.rows);
        // Items that keep their names are left out of the request.
        b.edited.template = "{name}.{ext}".into();
        b.edited.case = Some(Case::Upper);
        b.edited.case_scope = CaseScope::Name;
        b.refresh();
        assert_eq!(b.rows[0].shown, "2.TXT");
        assert_eq!(b.request().sources.len(), 2);
    }
}
