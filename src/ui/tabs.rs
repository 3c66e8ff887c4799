//! Tabs and the split view: several views of folders (or of a search, the duplicates, the
//! trash, a paired device) kept open at once, each with its own history, selection, scroll
//! position and search.
//!
//! A view the person is not acting on is a parked [`Pane`]. The one acted on lives in the
//! [`AppState`] fields every panel already reads (the explorer, the search box, the device
//! shown …); switching tabs or panes exchanges those fields with a parked pane's
//! (`AppState::exchange`), so every command, key and update works on whichever pane is
//! active with no code of its own. Settings of the window (per-folder sort and view, hidden
//! columns, hidden files, the inspector) are not a pane's: they stay where they are.
//!
//! A tab holds one pane, or two side by side (the split view, F3). Listings, searches and a
//! device's answers carry tickets unique across panes (a pane's tickets start at its serial
//! number times 2³²), so an answer for a parked pane is applied to that pane
//! (`AppState::route`), and a change on disk marks every pane it concerns.

use std::path::PathBuf;

use crate::ui::bridge::{Command, Update};
use crate::ui::explorer::Explorer;
use crate::ui::peers::PeerUpdate;
use crate::ui::search::SearchFilters;
use crate::ui::state::{AppState, Later, PeerView};
use crate::vdfs::query::search::{Hit, Sort};

/// A view of its own: what [`AppState`] holds for the pane acted on, parked.
#[derive(Debug, Default)]
pub struct Pane {
    /// Its serial number, unique in the window: its tickets start at `serial << 32`, and its
    /// widgets' ids are salted with it (each pane keeps its own scroll position in egui).
    pub serial: u32,
    /// The folder shown, its history, selection and scroll position.
    pub explorer: Explorer,
    /// The search box's text.
    pub search_text: String,
    /// The search covers the whole library.
    pub search_everywhere: bool,
    /// What the search field does.
    pub find_mode: crate::ui::search::FindMode,
    /// The last search's ticket.
    pub search_ticket: u64,
    /// The last search asked for by the person.
    pub fresh_search: u64,
    /// The search's filter chips.
    pub search_filters: SearchFilters,
    /// The results' order.
    pub search_sort: Sort,
    /// The results' order is reversed.
    pub search_reverse: bool,
    /// The results, their total and how many are close matches.
    pub found: Option<(Vec<Hit>, usize, usize)>,
    /// The results open at the top.
    pub results_top: bool,
    /// The duplicates are shown.
    pub show_dupes: bool,
    /// The duplicates open at the top.
    pub dupes_top: bool,
    /// The trash is shown.
    pub show_trash: bool,
    /// The missing items are shown.
    pub show_missing: bool,
    /// A paired device's folder is shown.
    pub peer: Option<PeerView>,
    /// A live change waits to be shown.
    pub relist_later: Later,
}

impl Pane {
    /// A new, empty pane numbered `serial`.
    fn new(serial: u32) -> Pane {
        let base = u64::from(serial) << 32;
        let mut p = Pane {
            serial,
            search_ticket: base,
            fresh_search: base,
            ..Pane::default()
        };
        p.explorer.ticket = base;
        p
    }
}

/// A tab: one pane, or two side by side.
#[derive(Debug)]
pub struct Tab {
    /// Its panes, left to right (one or two). The active tab's focused pane is `None`: it
    /// lives in [`AppState`].
    pub panes: Vec<Option<Pane>>,
    /// Which pane has the keyboard.
    pub focus: usize,
}

impl Tab {
    fn with_active() -> Tab {
        Tab {
            panes: vec![None],
            focus: 0,
        }
    }
}

/// Where a parked pane is: its tab, and its side.
pub type Slot = (usize, usize);

impl AppState {
    /// The tabs, made with the first one when there were none yet.
    fn tabs_mut(&mut self) -> &mut Vec<Tab> {
        if self.tabs.is_empty() {
            self.tabs.push(Tab::with_active());
            self.tab = 0;
        }
        &mut self.tabs
    }

    /// How many tabs are open (at least one).
    pub fn tab_count(&self) -> usize {
        self.tabs.len().max(1)
    }

    /// The active tab's panes shown side by side: `None` with one pane, else which side has
    /// the keyboard.
    pub fn split_focus(&self) -> Option<usize> {
        let t = self.tabs.get(self.tab)?;
        (t.panes.len() > 1).then_some(t.focus)
    }

    /// Exchanges the fields of the pane acted on with `p`'s; the window's settings stay.
    fn swap_pane(&mut self, p: &mut Pane) {
        use std::mem::swap;
        swap(&mut self.pane, &mut p.serial);
        swap(&mut self.explorer, &mut p.explorer);
        // The window's settings, not a pane's: swapped back.
        let (a, b) = (&mut self.explorer, &mut p.explorer);
        swap(&mut a.prefs, &mut b.prefs);
        swap(&mut a.hidden_columns, &mut b.hidden_columns);
        swap(&mut a.show_hidden, &mut b.show_hidden);
        swap(&mut a.inspector, &mut b.inspector);
        swap(&mut a.default_view, &mut b.default_view);
        swap(&mut self.search_text, &mut p.search_text);
        swap(&mut self.search_everywhere, &mut p.search_everywhere);
        swap(&mut self.find_mode, &mut p.find_mode);
        swap(&mut self.search_ticket, &mut p.search_ticket);
        swap(&mut self.fresh_search, &mut p.fresh_search);
        swap(&mut self.search_filters, &mut p.search_filters);
        swap(&mut self.search_sort, &mut p.search_sort);
        swap(&mut self.search_reverse, &mut p.search_reverse);
        swap(&mut self.found, &mut p.found);
        swap(&mut self.results_top, &mut p.results_top);
        swap(&mut self.show_dupes, &mut p.show_dupes);
        swap(&mut self.dupes_top, &mut p.dupes_top);
        swap(&mut self.show_trash, &mut p.show_trash);
        swap(&mut self.show_missing, &mut p.show_missing);
        swap(&mut self.peer, &mut p.peer);
        swap(&mut self.relist_later, &mut p.relist_later);
    }

    /// Makes `incoming` the pane acted on; returns the one that was.
    fn exchange(&mut self, mut incoming: Pane) -> Pane {
        self.swap_pane(&mut incoming);
        // What was being typed in place or renamed belongs to the pane left.
        self.renaming = None;
        self.batch_rename = None;
        self.reveal = None;
        self.rename_when_listed = None;
        incoming
    }

    /// A new pane, numbered after every other.
    fn fresh_pane(&mut self) -> Pane {
        self.panes_made += 1;
        Pane::new(self.panes_made)
    }

    /// Runs `f` on the parked pane at `slot` as if it were the one acted on, then parks it
    /// again (nothing else changes which pane is active).
    pub fn with_parked<R>(&mut self, slot: Slot, f: impl FnOnce(&mut AppState) -> R) -> R {
        let (t, j) = slot;
        let p = self.tabs[t].panes[j].take().expect("a parked pane");
        // Kept aside untouched: exchange() would clear the active pane's rename.
        let mut parked = p;
        self.swap_pane(&mut parked);
        let keep = (
            self.renaming.take(),
            self.batch_rename.take(),
            self.reveal.take(),
            self.rename_when_listed.take(),
        );
        let r = f(self);
        (
            self.renaming,
            self.batch_rename,
            self.reveal,
            self.rename_when_listed,
        ) = keep;
        self.swap_pane(&mut parked);
        self.tabs[t].panes[j] = Some(parked);
        r
    }

    /// Every parked pane's place.
    fn parked(&self) -> Vec<Slot> {
        let mut out = Vec::new();
        for (t, tab) in self.tabs.iter().enumerate() {
            for (j, p) in tab.panes.iter().enumerate() {
                if p.is_some() {
                    out.push((t, j));
                }
            }
        }
        out
    }

    /// Runs `f` on every parked pane.
    pub(crate) fn each_parked(&mut self, mut f: impl FnMut(&mut AppState)) {
        for slot in self.parked() {
            self.with_parked(slot, &mut f);
        }
    }

    /// The parked pane an answer from the core is for, if it is not for the pane acted on:
    /// a listing, a search or a device's answer carries its pane's ticket.
    pub(crate) fn route(&self, update: &Update) -> Option<Slot> {
        let parked = || {
            self.tabs.iter().enumerate().flat_map(|(t, tab)| {
                tab.panes
                    .iter()
                    .enumerate()
                    .filter_map(move |(j, p)| Some(((t, j), p.as_ref()?)))
            })
        };
        match update {
            Update::Chunk { ticket, .. }
            | Update::Replace { ticket, .. }
            | Update::Created { ticket, .. }
            | Update::ListingDone { ticket, .. }
                if *ticket != self.explorer.ticket =>
            {
                parked()
                    .find(|(_, p)| p.explorer.ticket == *ticket)
                    .map(|(s, _)| s)
            }
            Update::Found { ticket, .. } if *ticket != self.search_ticket => parked()
                .find(|(_, p)| p.search_ticket == *ticket)
                .map(|(s, _)| s),
            Update::Peer(PeerUpdate::Listing { ticket, .. } | PeerUpdate::Found { ticket, .. }) => {
                // Device tickets come from one counter: a view's answers are those from its
                // first ticket on, until the next view's first.
                let mut best = self.peer.as_ref().map(|p| (p.since, None));
                for (slot, p) in parked() {
                    if let Some(v) = &p.peer
                        && v.since <= *ticket
                        && best.is_none_or(|(s, _)| s > *ticket || v.since > s)
                    {
                        best = Some((v.since, Some(slot)));
                    }
                }
                best.filter(|(s, _)| *s <= *ticket)
                    .and_then(|(_, slot)| slot)
            }
            _ => None,
        }
    }

    /// Opens a new tab after the active one, showing `folder`; returns the listing command.
    pub fn new_tab(&mut self, folder: PathBuf) -> Command {
        let fresh = self.fresh_pane();
        let old = self.exchange(fresh);
        let at = self.tab;
        let tabs = self.tabs_mut();
        let focus = tabs[at].focus;
        tabs[at].panes[focus] = Some(old);
        tabs.insert(at + 1, Tab::with_active());
        self.tab = at + 1;
        self.navigate(folder, false)
    }

    /// Shows tab `i` (its pane that had the keyboard); a change that came while it was away
    /// is shown by the next frame.
    pub fn switch_tab(&mut self, i: usize) {
        if i == self.tab || i >= self.tabs.len() {
            return;
        }
        let t = &mut self.tabs[i];
        let incoming = t.panes[t.focus].take().expect("a parked pane");
        let old = self.exchange(incoming);
        let cur = &mut self.tabs[self.tab];
        cur.panes[cur.focus] = Some(old);
        self.tab = i;
    }

    /// Closes tab `i` (the last tab stays).
    pub fn close_tab(&mut self, i: usize) {
        if self.tabs.len() <= 1 || i >= self.tabs.len() {
            return;
        }
        if i == self.tab {
            self.switch_tab(if i + 1 < self.tabs.len() {
                i + 1
            } else {
                i - 1
            });
        }
        self.tabs.remove(i);
        if i < self.tab {
            self.tab -= 1;
        }
    }

    /// Shows the next tab (`forward`) or the one before, round.
    pub fn cycle_tab(&mut self, forward: bool) {
        let n = self.tabs.len();
        if n > 1 {
            self.switch_tab(if forward {
                (self.tab + 1) % n
            } else {
                (self.tab + n - 1) % n
            });
        }
    }

    /// F3: shows a second pane beside the one acted on, at the same folder; with two, closes
    /// the other one. Returns the new pane's listing command.
    pub fn toggle_split(&mut self) -> Option<Command> {
        let at = self.tab;
        let tab = &mut self.tabs_mut()[at];
        if tab.panes.len() > 1 {
            let other = 1 - tab.focus;
            tab.panes.remove(other);
            tab.focus = 0;
            return None;
        }
        let folder = self.explorer.folder.clone();
        let fresh = self.fresh_pane();
        let old = self.exchange(fresh);
        let cmd = folder.map(|f| self.navigate(f, false));
        let new = self.exchange(old);
        self.tabs[at].panes.push(Some(new));
        cmd
    }

    /// Gives the keyboard to side `j` of the split view.
    pub fn focus_pane(&mut self, j: usize) {
        let at = self.tab;
        let Some(tab) = self.tabs.get_mut(at) else {
            return;
        };
        if j == tab.focus || j >= tab.panes.len() {
            return;
        }
        let incoming = tab.panes[j].take().expect("a parked pane");
        let old = self.exchange(incoming);
        let tab = &mut self.tabs[at];
        tab.panes[tab.focus] = Some(old);
        tab.focus = j;
    }

    /// Each tab's title (what its pane with the keyboard shows), in order.
    pub fn tab_titles(&mut self) -> Vec<String> {
        if self.tabs.len() <= 1 {
            return vec![self.view_title()];
        }
        (0..self.tabs.len())
            .map(|t| {
                if t == self.tab {
                    self.view_title()
                } else {
                    let focus = self.tabs[t].focus;
                    self.with_parked((t, focus), |s| s.view_title())
                }
            })
            .collect()
    }

    /// Brings a pane's derived view state up to date before it is drawn: the view of folders
    /// without their own, the visible order, a restored step's selection and scroll (the part
    /// of [`AppState::settle`] that any pane needs, not only the one acted on).
    pub fn settle_pane(&mut self) {
        self.explorer.default_view = Some(self.default_view);
        self.explorer.refresh_order();
        self.explorer.finish_restore();
    }

    /// The other side of the split view, if shown: its place.
    pub fn partner(&self) -> Option<Slot> {
        let f = self.split_focus()?;
        Some((self.tab, 1 - f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::commands::UiCommand;
    use crate::ui::state::Outbox;
    use crate::vdfs::query::browse::{Item, Source};
    use std::path::Path;

    fn listed(name: &str) -> Item {
        Item::named(name.as_bytes(), crate::vdfs::fs::entry::EntryKind::File)
    }

    /// The core's answer to a listing command: its items, then done.
    fn answer(s: &mut AppState, cmd: &Command, names: &[&str]) {
        let Command::Navigate { ticket, .. } = cmd else {
            panic!("not a listing: {cmd:?}")
        };
        let ticket = *ticket;
        s.apply(Update::Chunk {
            ticket,
            items: names.iter().map(|n| listed(n)).collect(),
        });
        s.apply(Update::ListingDone {
            ticket,
            result: Ok(Source::Disk),
            space: None,
        });
        s.settle();
    }

    fn run(s: &mut AppState, cmd: UiCommand) -> Vec<Command> {
        let mut out = Outbox::default();
        s.run(cmd, &mut out);
        out.commands
    }

    fn shown(s: &AppState) -> Option<&Path> {
        s.explorer.folder.as_deref()
    }

    #[test]
    fn tabs_keep_their_own_folder_history_and_selection() {
        let mut s = AppState::default();
        let c = s.navigate("/a".into(), true);
        answer(&mut s, &c, &["one", "two"]);
        run(
            &mut s,
            UiCommand::Select {
                path: "/a/two".into(),
                how: crate::ui::commands::SelectHow::Click,
            },
        );
        let c = run(&mut s, UiCommand::OpenInNewTab("/b".into()));
        assert_eq!(s.tab_count(), 2);
        assert_eq!(shown(&s), Some(Path::new("/b")));
        // The first tab's listing and the new one's do not mix.
        answer(&mut s, &c[0], &["three"]);
        assert_eq!(s.explorer.items.len(), 1);
        assert!(!s.explorer.history.can_back(), "a new tab has no history");
        run(&mut s, UiCommand::SwitchTab(0));
        assert_eq!(shown(&s), Some(Path::new("/a")));
        assert_eq!(s.selected_paths(), [PathBuf::from("/a/two")]);
        run(&mut s, UiCommand::CycleTab(true));
        assert_eq!(shown(&s), Some(Path::new("/b")));
        run(&mut s, UiCommand::CloseTab(None));
        assert_eq!(s.tab_count(), 1);
        assert_eq!(shown(&s), Some(Path::new("/a")));
        // The last tab stays.
        run(&mut s, UiCommand::CloseTab(None));
        assert_eq!(shown(&s), Some(Path::new("/a")));
    }

    #[test]
    fn a_listing_for_a_parked_pane_lands_in_it() {
        let mut s = AppState::default();
        let first = s.navigate("/a".into(), true);
        // The first tab's listing is still on its way when a second tab opens.
        let second = run(&mut s, UiCommand::OpenInNewTab("/b".into()));
        answer(&mut s, &first, &["x", "y"]);
        assert!(s.explorer.items.is_empty(), "not shown in the second tab");
        answer(&mut s, &second[0], &["z"]);
        assert_eq!(s.explorer.items.len(), 1);
        run(&mut s, UiCommand::SwitchTab(0));
        assert_eq!(s.explorer.items.len(), 2);
        assert!(!s.explorer.loading);
    }

    #[test]
    fn the_split_view_shows_two_panes_and_the_keyboard_moves_between_them() {
        let mut s = AppState::default();
        let c = s.navigate("/a".into(), true);
        answer(&mut s, &c, &["one"]);
        let c = run(&mut s, UiCommand::ToggleSplit);
        assert_eq!(s.split_focus(), Some(0));
        // The new pane lists the same folder, parked.
        let Command::Navigate { path, .. } = &c[0] else {
            panic!()
        };
        assert_eq!(path, Path::new("/a"));
        answer(&mut s, &c[0], &["one"]);
        run(&mut s, UiCommand::FocusPane(1));
        assert_eq!(s.split_focus(), Some(1));
        s.navigate("/a/sub".into(), true);
        assert_eq!(shown(&s), Some(Path::new("/a/sub")));
        run(&mut s, UiCommand::FocusPane(0));
        assert_eq!(shown(&s), Some(Path::new("/a")));
        // A change in the other pane's folder is shown there once it is acted on.
        s.apply(Update::Event(crate::vdfs::Event::FolderChanged {
            folder: "/a/sub".into(),
        }));
        let slot = s.partner().unwrap();
        assert!(s.with_parked(slot, |p| p.relist_later.is_asked()));
        // F3 again closes the other pane.
        run(&mut s, UiCommand::ToggleSplit);
        assert_eq!(s.split_focus(), None);
        assert_eq!(shown(&s), Some(Path::new("/a")));
    }

    #[test]
    fn window_settings_are_not_a_panes() {
        let mut s = AppState::default();
        s.navigate("/a".into(), true);
        run(&mut s, UiCommand::OpenInNewTab("/b".into()));
        run(&mut s, UiCommand::ToggleHidden);
        run(&mut s, UiCommand::TogglePreview);
        run(&mut s, UiCommand::SwitchTab(0));
        assert!(s.explorer.show_hidden && s.explorer.inspector);
    }
}
