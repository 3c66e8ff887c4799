//! Every user command of the explorer, declared once with its label and shortcut. The
//! toolbar, the menus and the keyboard handler all read this list.

use eframe::egui::{Key, KeyboardShortcut, Modifiers};

/// A user command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UiCommand {
    /// Previous folder in history.
    Back,
    /// Next folder in history.
    Forward,
    /// Parent folder.
    Up,
    /// List the folder again.
    Refresh,
    /// Show or hide names starting with a dot.
    ToggleHidden,
    /// Type a path or cairn:// address.
    EditPath,
    /// Focus the search box.
    Find,
    /// Show or hide the inspector.
    TogglePreview,
    /// Open the focused item.
    Open,
    /// Select every visible item.
    SelectAll,
    /// Switch between list and grid.
    ToggleView,
    /// Add the folder shown as a location.
    AddLocation,
    /// Open the settings window.
    Settings,
}

impl UiCommand {
    /// Every command.
    pub const ALL: [UiCommand; 13] = [
        UiCommand::Back,
        UiCommand::Forward,
        UiCommand::Up,
        UiCommand::Refresh,
        UiCommand::ToggleHidden,
        UiCommand::EditPath,
        UiCommand::Find,
        UiCommand::TogglePreview,
        UiCommand::Open,
        UiCommand::SelectAll,
        UiCommand::ToggleView,
        UiCommand::AddLocation,
        UiCommand::Settings,
    ];

    /// Label in sentence case; "…" when it opens a dialog.
    pub fn label(self) -> &'static str {
        match self {
            UiCommand::Back => "Back",
            UiCommand::Forward => "Forward",
            UiCommand::Up => "Up",
            UiCommand::Refresh => "Refresh",
            UiCommand::ToggleHidden => "Show hidden files",
            UiCommand::EditPath => "Go to location…",
            UiCommand::Find => "Search",
            UiCommand::TogglePreview => "Inspector",
            UiCommand::Open => "Open",
            UiCommand::SelectAll => "Select all",
            UiCommand::ToggleView => "Grid view",
            UiCommand::AddLocation => "Index this folder",
            UiCommand::Settings => "Settings…",
        }
    }

    /// Keyboard shortcuts (the first is shown in tooltips).
    pub fn shortcuts(self) -> &'static [KeyboardShortcut] {
        macro_rules! keys {
            ($($m:expr, $k:expr);*) => {{
                const S: &[KeyboardShortcut] = &[$(KeyboardShortcut::new($m, $k)),*];
                S
            }};
        }
        match self {
            UiCommand::Back => keys!(Modifiers::ALT, Key::ArrowLeft),
            UiCommand::Forward => keys!(Modifiers::ALT, Key::ArrowRight),
            UiCommand::Up => keys!(Modifiers::ALT, Key::ArrowUp; Modifiers::NONE, Key::Backspace),
            UiCommand::Refresh => keys!(Modifiers::NONE, Key::F5),
            UiCommand::ToggleHidden => keys!(Modifiers::COMMAND, Key::H),
            UiCommand::EditPath => keys!(Modifiers::COMMAND, Key::L),
            UiCommand::Find => keys!(Modifiers::COMMAND, Key::F),
            UiCommand::TogglePreview => keys!(Modifiers::NONE, Key::Space),
            UiCommand::Open => keys!(Modifiers::NONE, Key::Enter),
            UiCommand::SelectAll => keys!(Modifiers::COMMAND, Key::A),
            UiCommand::ToggleView => keys!(Modifiers::COMMAND, Key::G),
            UiCommand::AddLocation => &[],
            UiCommand::Settings => keys!(Modifiers::COMMAND, Key::Comma),
        }
    }

    /// Shortcut text for tooltips, e.g. `Alt+Left`.
    pub fn shortcut_text(self) -> Option<String> {
        self.shortcuts().first().map(|s| {
            let mut t = String::new();
            if s.modifiers.command || s.modifiers.ctrl {
                t.push_str("Ctrl+");
            }
            if s.modifiers.alt {
                t.push_str("Alt+");
            }
            if s.modifiers.shift {
                t.push_str("Shift+");
            }
            t.push_str(s.logical_key.name());
            t
        })
    }

    /// Whether a command acts while a text field has the keyboard (typing must win).
    pub fn works_while_typing(self) -> bool {
        matches!(
            self,
            UiCommand::Back
                | UiCommand::Forward
                | UiCommand::Refresh
                | UiCommand::EditPath
                | UiCommand::Find
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in UiCommand::ALL {
            for s in c.shortcuts() {
                assert!(
                    seen.insert((
                        s.modifiers.command,
                        s.modifiers.alt,
                        s.modifiers.shift,
                        s.logical_key
                    )),
                    "{c:?}"
                );
            }
        }
        assert_eq!(UiCommand::Back.shortcut_text().unwrap(), "Alt+Left");
    }
}
