//! The command palette (Ctrl+K or Ctrl+Shift+P): every command that can act now, by its name
//! and first shortcut, filtered as the person types (the letters in order, case and accents
//! ignored; names that start with them first), run with Enter or a click. The keyboard user's
//! way into everything the menus and buttons do.

use eframe::egui::{self, RichText};

use crate::ui::AppState;
use crate::ui::commands::{CommandKind, KeyTargets, UiCommand};
use crate::ui::theme;

/// The command `kind` stands for now, given what the keyboard acts on (`targets`) and
/// whether the trash, the duplicates or the missing items are shown; `None` when it has
/// nothing to act on or needs more than a palette can give (a path typed, a tag chosen).
pub(crate) fn command_for(kind: CommandKind, targets: &KeyTargets) -> Option<UiCommand> {
    use CommandKind as K;
    let focused = || targets.focused.clone();
    let selected = || Some(targets.selected.clone()).filter(|s| !s.is_empty());
    match kind {
        // Needs a key (which way), a letter or a pointer: not a palette entry.
        K::MoveCursor
        | K::TypeAhead
        | K::Select
        | K::OpenPalette
        | K::ClosePalette
        | K::ZoomGrid => None,
        K::OpenTerminal => targets.folder.clone().map(UiCommand::OpenTerminal),
        K::AddLocation => targets.folder.as_ref().map(|_| UiCommand::AddLocation),
        K::PickLocation => Some(UiCommand::PickLocation),
        K::ToggleDupes => Some(UiCommand::ToggleDupes),
        K::ShowTrash => Some(UiCommand::ShowTrash),
        K::PairDevice => Some(UiCommand::PairDevice),
        K::ShowMissing => Some(UiCommand::ShowMissing),
        K::NewLibrary => Some(UiCommand::NewLibrary),
        K::ToggleJobs => Some(UiCommand::ToggleJobs),
        K::ToggleAllJobs => Some(UiCommand::ToggleAllJobs),
        K::ToggleHiddenTags => Some(UiCommand::ToggleHiddenTags),
        K::EmptyTrash => Some(UiCommand::EmptyTrash),
        K::Inspect => focused().map(UiCommand::Inspect),
        K::Reveal => focused().map(UiCommand::Reveal),
        K::CopyPath => focused().map(UiCommand::CopyPath),
        K::AddFavourite => focused().map(UiCommand::AddFavourite),
        K::Duplicate => selected().map(UiCommand::Duplicate),
        _ => {
            let key = kind.shortcuts().first()?;
            UiCommand::from_key(kind, key, targets)
        }
    }
}

/// The palette's entries for `typed`: each command that can act now with its label, best
/// first (a label starting with the text, then one with a word starting with it, then one
/// with its letters in order, tightest first; then the shorter label).
pub(crate) fn entries(typed: &str, targets: &KeyTargets) -> Vec<(CommandKind, UiCommand)> {
    use crate::vdfs::query::search::fold;
    let want = fold(typed.trim(), false);
    let mut scored: Vec<((u8, usize), CommandKind, UiCommand)> = CommandKind::ALL
        .iter()
        .filter_map(|k| {
            let c = command_for(*k, targets)?;
            let label = fold(k.label(), false);
            let score = if want.is_empty() || label.starts_with(&want) {
                (0, 0)
            } else if label
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(&want))
            {
                (1, 0)
            } else {
                (2, span(&label, &want)?)
            };
            Some((score, *k, c))
        })
        .collect();
    // Among equal matches, the shorter name: it is more nearly what was typed.
    scored.sort_by_key(|(s, k, _)| (*s, k.label().chars().count(), k.label()));
    scored.dedup_by_key(|(_, k, _)| k.label());
    scored.into_iter().map(|(_, k, c)| (k, c)).collect()
}

/// The shortest stretch of `label` (in characters) holding the characters of `want` in
/// order, or `None` when they are not all there: "trsh" spans 5 in "trash" but 8 in
/// "empty trash", so the tighter match ranks first.
fn span(label: &str, want: &str) -> Option<usize> {
    let chars: Vec<char> = label.chars().collect();
    let first = want.chars().next()?;
    (0..chars.len())
        .filter(|&i| chars[i] == first)
        .filter_map(|i| {
            let mut at = i;
            for w in want.chars() {
                at += chars[at..].iter().position(|c| *c == w)? + 1;
            }
            Some(at - i)
        })
        .min()
}

/// Draws the palette while it is open; the command chosen (and closing it) goes to `actions`.
pub(crate) fn show(ctx: &egui::Context, state: &mut AppState, actions: &mut Vec<UiCommand>) {
    let targets = state.key_targets();
    let Some(p) = &mut state.palette else {
        return;
    };
    let shown = entries(&p.text, &targets);
    let n = shown.len();
    let before = p.chosen;
    let (mut pick, esc) = crate::ui::widgets::choose_by_keys(ctx, &mut p.chosen, n);
    let moved = p.chosen != before;
    egui::Window::new("Commands")
        .collapsible(false)
        .resizable(false)
        .title_bar(false)
        .anchor(egui::Align2::CENTER_TOP, [0.0, 60.0])
        .show(ctx, |ui| {
            ui.set_width(420.0);
            crate::ui::widgets::typing_field(ui, &mut p.text, "Type a command", &mut p.chosen);
            egui::ScrollArea::vertical()
                .max_height(360.0)
                .show(ui, |ui| {
                    for (i, (k, _)) in shown.iter().enumerate() {
                        let keys = k.shortcut_text().unwrap_or_default();
                        let b = egui::Button::selectable(p.chosen == i, k.label())
                            .shortcut_text(RichText::new(keys).color(theme::weak(ui)));
                        let resp = ui.add_sized([ui.available_width(), 22.0], b);
                        if p.chosen == i && moved {
                            resp.scroll_to_me(None);
                        }
                        if resp.clicked() {
                            pick = Some(i);
                        }
                    }
                    if shown.is_empty() {
                        ui.label(RichText::new("No command matches").color(theme::weak(ui)));
                    }
                });
        });
    if esc {
        actions.push(UiCommand::ClosePalette);
        return;
    }
    if let Some((_, c)) = pick.and_then(|i| shown.get(i)) {
        actions.push(UiCommand::ClosePalette);
        actions.push(c.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn labels(typed: &str, targets: &KeyTargets) -> Vec<&'static str> {
        entries(typed, targets)
            .into_iter()
            .map(|(k, _)| k.label())
            .collect()
    }

    /// Only what can act now is offered; the letters typed in order find a command, those
    /// that start it first; each command once.
    #[test]
    fn the_palette_offers_what_can_act_now_best_first() {
        let none = KeyTargets::default();
        let all = labels("", &none);
        assert!(
            all.contains(&"Trash") && all.contains(&"Settings…"),
            "{all:?}"
        );
        assert!(!all.contains(&"Open"), "nothing to open: {all:?}");
        let mut seen = std::collections::HashSet::new();
        assert!(all.iter().all(|l| seen.insert(*l)), "each once: {all:?}");
        let here = KeyTargets {
            folder: Some(PathBuf::from("/f")),
            focused: Some(PathBuf::from("/f/a.txt")),
            selected: vec![PathBuf::from("/f/a.txt")],
            device: false,
        };
        assert!(labels("", &here).contains(&"Open"));
        let found = labels("termi", &here);
        assert_eq!(found.first(), Some(&"Open terminal here"), "{found:?}");
        assert!(
            !labels("", &none).contains(&"Open terminal here"),
            "no folder shown"
        );
        let found = labels("nwfldr", &here);
        assert_eq!(found.first(), Some(&"New folder"), "{found:?}");
        let found = labels("tra", &here);
        assert_eq!(found.first(), Some(&"Trash"), "{found:?}");
        // The tighter of two matches of the same letters first.
        let found = labels("trsh", &here);
        assert_eq!(found.first(), Some(&"Trash"), "{found:?}");
        assert!(labels("zzzz", &here).is_empty());
        // What a palette entry runs is the command itself, with the selection.
        let (_, c) = entries("dupl", &here)
            .into_iter()
            .find(|(k, _)| *k == CommandKind::Duplicate)
            .unwrap();
        assert_eq!(c, UiCommand::Duplicate(vec![PathBuf::from("/f/a.txt")]));
    }
}
