//! The explorer's state and its pure logic: navigation history, the visible order of a
//! listing (hidden files, filter, natural sort), and selection. No I/O and no egui here, so
//! all of it is unit-tested.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::ui::commands::CursorMove;
use crate::vdfs::fs::entry::{EntryKind, os_bytes};
use crate::vdfs::query::browse::{Details, Item, ListError, Source};

/// A folder as it was left: where its view was scrolled and what was selected, so that Back,
/// Forward and a new listing of the same folder show it as it was.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Visit {
    /// The folder.
    pub folder: PathBuf,
    /// The view's scroll offset, in points from the top.
    pub scroll: f32,
    /// Exact name bytes of the selected items.
    pub selected: Vec<Vec<u8>>,
    /// Exact name bytes of the item under the keyboard cursor.
    pub cursor: Option<Vec<u8>>,
    /// A paired device's folder was shown (over `folder`, the local folder behind it).
    pub device: Option<DeviceVisit>,
}

/// A step of the history on a paired device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceVisit {
    /// The device (its UUID).
    pub id: uuid::Uuid,
    /// Its folder shown (exact bytes); `None`: its locations.
    pub path: Option<Vec<u8>>,
}

impl Visit {
    /// A visit of `folder` at the top, with nothing selected.
    pub fn at_top(folder: PathBuf) -> Visit {
        Visit {
            folder,
            ..Visit::default()
        }
    }
}

/// Back/forward history of visited folders, each step with its scroll position and selection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    back: Vec<Visit>,
    forward: Vec<Visit>,
}

impl History {
    /// Records leaving `from` for a new folder: `from` goes on the back stack and the forward
    /// stack is cleared.
    pub fn visit(&mut self, from: Option<Visit>) {
        if let Some(f) = from {
            self.back.push(f);
        }
        self.forward.clear();
    }

    /// Goes back from `current`: returns the step to show.
    pub fn back(&mut self, current: Option<Visit>) -> Option<Visit> {
        let to = self.back.pop()?;
        if let Some(c) = current {
            self.forward.push(c);
        }
        Some(to)
    }

    /// Goes forward from `current`.
    pub fn forward(&mut self, current: Option<Visit>) -> Option<Visit> {
        let to = self.forward.pop()?;
        if let Some(c) = current {
            self.back.push(c);
        }
        Some(to)
    }

    /// True if there is somewhere to go back to.
    pub fn can_back(&self) -> bool {
        !self.back.is_empty()
    }

    /// True if there is somewhere to go forward to.
    pub fn can_forward(&self) -> bool {
        !self.forward.is_empty()
    }
}

/// Compares names the way people expect: digit runs by value (`file2` < `file10`), letters
/// ignoring case, ties broken by the exact text so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let mut n1 = String::new();
                while let Some(c) = x.peek().copied().filter(char::is_ascii_digit) {
                    n1.push(c);
                    x.next();
                }
                let mut n2 = String::new();
                while let Some(c) = y.peek().copied().filter(char::is_ascii_digit) {
                    n2.push(c);
                    y.next();
                }
                let t1 = n1.trim_start_matches('0');
                let t2 = n2.trim_start_matches('0');
                let o = t1.len().cmp(&t2.len()).then_with(|| t1.cmp(t2));
                if o != Ordering::Equal {
                    return o;
                }
            }
            (Some(c), Some(d)) => {
                let o = c.to_lowercase().cmp(d.to_lowercase());
                if o != Ordering::Equal {
                    return o;
                }
                x.next();
                y.next();
            }
        }
    }
}

/// A listing column to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SortKey {
    /// Natural name order.
    Name,
    /// Size (folders by their indexed total).
    Size,
    /// Modification time.
    Modified,
    /// Content kind, then name.
    Kind,
    /// Creation (birth) time, where the file system keeps it; hidden until chosen.
    Created,
    /// An image's pixel size (read for the rows shown; not a sort order: a click on its
    /// title sorts by name); hidden until chosen.
    Dimensions,
}

impl SortKey {
    /// Its name as `window.toml` keeps it: `name`, `size`, `modified`, `kind`, `created`,
    /// `dimensions`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Modified => "modified",
            SortKey::Kind => "kind",
            SortKey::Created => "created",
            SortKey::Dimensions => "dimensions",
        }
    }

    /// The column named `name` (as [`SortKey::as_str`] writes it), if any.
    pub fn from_name(name: &str) -> Option<SortKey> {
        [
            SortKey::Name,
            SortKey::Size,
            SortKey::Modified,
            SortKey::Kind,
            SortKey::Created,
            SortKey::Dimensions,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }

    /// The columns hidden until the person shows them: Created and Dimensions.
    pub fn hidden_by_default() -> std::collections::BTreeSet<SortKey> {
        [SortKey::Created, SortKey::Dimensions].into()
    }

    /// The columns to hide from their remembered `names`: unknown names are ignored, and
    /// the name column always shows.
    pub fn hidden_from(names: &[String]) -> std::collections::BTreeSet<SortKey> {
        names
            .iter()
            .filter_map(|n| SortKey::from_name(n))
            .filter(|k| *k != SortKey::Name)
            .collect()
    }
}

/// How a folder is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewMode {
    /// Details list.
    #[default]
    List,
    /// Thumbnail grid.
    Grid,
}

/// Per-folder view preferences (remembered while the window is open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderPrefs {
    /// Sort column.
    pub sort: SortKey,
    /// Ascending?
    pub ascending: bool,
    /// List or grid.
    pub view: ViewMode,
}

impl Default for FolderPrefs {
    fn default() -> Self {
        FolderPrefs {
            sort: SortKey::Name,
            ascending: true,
            view: ViewMode::List,
        }
    }
}

/// Orders two items: folders first, then by `key`, then by name.
pub fn compare(a: &Item, b: &Item, key: SortKey, ascending: bool) -> Ordering {
    let dirs = (b.kind == EntryKind::Dir).cmp(&(a.kind == EntryKind::Dir));
    if dirs != Ordering::Equal {
        return dirs;
    }
    // Unknown creation times (not told yet, or not kept by the file system) last either way.
    if key == SortKey::Created {
        let unknown = a.created_ns.is_none().cmp(&b.created_ns.is_none());
        if unknown != Ordering::Equal {
            return unknown;
        }
    }
    let o = match key {
        SortKey::Name | SortKey::Dimensions => natural_cmp(&a.name, &b.name),
        SortKey::Size => a
            .size
            .cmp(&b.size)
            .then_with(|| natural_cmp(&a.name, &b.name)),
        SortKey::Modified => a
            .mtime_ns
            .cmp(&b.mtime_ns)
            .then_with(|| natural_cmp(&a.name, &b.name)),
        SortKey::Kind => (a.content_kind as u8)
            .cmp(&(b.content_kind as u8))
            .then_with(|| natural_cmp(&a.name, &b.name)),
        SortKey::Created => a
            .created_ns
            .cmp(&b.created_ns)
            .then_with(|| natural_cmp(&a.name, &b.name)),
    };
    if ascending { o } else { o.reverse() }
}

/// A one-time scroll of the folder view, carried out by the next frame that draws it (never
/// every frame: the wheel and the scroll bar must stay free to move the view away).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scroll {
    /// Bring this visible row (a position in the visible order) into view, moving as little
    /// as possible.
    ToRow(usize),
    /// Put the view at this offset from the top, in points (a new folder opens at 0; Back and
    /// Forward go where the view was).
    ToOffset(f32),
}

/// The multi-selection of a listing, by item index, with an anchor for Shift ranges and a
/// cursor for the keyboard (both as positions in the visible order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Selected item indexes.
    pub items: BTreeSet<u32>,
    /// Row where a Shift range starts.
    pub anchor: Option<usize>,
    /// Row with the keyboard focus.
    pub cursor: Option<usize>,
}

impl Selection {
    /// A plain click on `row` (visible position) of `order`.
    pub fn click(&mut self, order: &[u32], row: usize) {
        self.items.clear();
        self.items.insert(order[row]);
        self.anchor = Some(row);
        self.cursor = Some(row);
    }

    /// Ctrl+click: toggles `row`.
    pub fn toggle(&mut self, order: &[u32], row: usize) {
        let item = order[row];
        if !self.items.remove(&item) {
            self.items.insert(item);
        }
        self.anchor = Some(row);
        self.cursor = Some(row);
    }

    /// Shift+click: selects from the anchor to `row`.
    pub fn extend(&mut self, order: &[u32], row: usize) {
        let anchor = self
            .anchor
            .unwrap_or(row)
            .min(order.len().saturating_sub(1));
        let (lo, hi) = if anchor <= row {
            (anchor, row)
        } else {
            (row, anchor)
        };
        self.items.clear();
        self.items.extend(order[lo..=hi].iter().copied());
        self.cursor = Some(row);
    }

    /// Moves the keyboard cursor to `row`; with `extend` the selection grows from the anchor,
    /// else it becomes the new row alone.
    pub fn move_to(&mut self, order: &[u32], row: usize, extend: bool) {
        if row >= order.len() {
            return;
        }
        if extend {
            if self.anchor.is_none() {
                self.anchor = self.cursor.or(Some(row));
            }
            self.extend(order, row);
        } else {
            self.click(order, row);
        }
    }

    /// Selects every visible row.
    pub fn all(&mut self, order: &[u32]) {
        self.items = order.iter().copied().collect();
    }
}

/// The layout the keyboard moves through, as the view last drew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Items per row: 1 in the list, tiles per row in the grid.
    pub columns: usize,
    /// Rows in a screenful.
    pub page_rows: usize,
}

impl Default for Geometry {
    fn default() -> Self {
        Geometry {
            columns: 1,
            page_rows: 10,
        }
    }
}

/// Where a keyboard move takes the cursor in `len` items laid out as `g` (the list is one
/// column; Left and Right move only in the grid), from `cursor`; `None` if it does not move.
/// With nothing under the cursor, End goes to the last item and every other move to the first.
pub fn move_target(
    cursor: Option<usize>,
    len: usize,
    to: CursorMove,
    g: Geometry,
    view: ViewMode,
) -> Option<usize> {
    let last = len.checked_sub(1)?;
    let cols = g.columns.max(1);
    let Some(c) = cursor.map(|c| c.min(last)) else {
        return Some(if to == CursorMove::Last { last } else { 0 });
    };
    let page = g.page_rows.max(1) * cols;
    let target = match to {
        CursorMove::First => 0,
        CursorMove::Last => last,
        CursorMove::Down if c / cols == last / cols => return None,
        CursorMove::Down => (c + cols).min(last),
        CursorMove::Up => c.checked_sub(cols)?,
        CursorMove::Left | CursorMove::Right if view == ViewMode::List => return None,
        CursorMove::Left => c.checked_sub(1)?,
        CursorMove::Right => (c + 1).min(last),
        CursorMove::PageDown => {
            // A page down, else the last row: in the same column if that row has it.
            let t = c + page;
            let same_column = last / cols * cols + c % cols;
            if t <= last {
                t
            } else if same_column <= last && same_column > c {
                same_column
            } else {
                last
            }
        }
        // A page up, else the first row, in the same column.
        CursorMove::PageUp => c.checked_sub(page).unwrap_or(c % cols),
    };
    (target != c).then_some(target)
}

/// A name typed to jump to an item: letters typed less than [`TypeAhead::PAUSE`] apart add
/// up; after a pause the next letter starts a new name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeAhead {
    text: String,
    last: f64,
}

impl TypeAhead {
    /// The pause, in seconds, after which typing starts a new name.
    pub const PAUSE: f64 = 1.0;

    /// Adds `typed`, typed at `at` (seconds on any steady clock); returns the name typed so
    /// far.
    pub fn push(&mut self, typed: &str, at: f64) -> &str {
        if at - self.last > Self::PAUSE {
            self.text.clear();
        }
        self.last = at;
        self.text.push_str(typed);
        &self.text
    }
}

/// Everything about the folder being shown.
#[derive(Debug, Default)]
pub struct Explorer {
    /// The folder shown.
    pub folder: Option<PathBuf>,
    /// Back/forward.
    pub history: History,
    /// Tag of the listing in flight; chunks with another ticket are stale and dropped.
    pub ticket: u64,
    /// The listing so far.
    pub items: Vec<Item>,
    /// Still receiving chunks.
    pub loading: bool,
    /// Where the listing came from.
    pub source: Option<Source>,
    /// Why it could not be listed.
    pub error: Option<ListError>,
    /// Visible rows: indexes into `items` after hidden files, filter and sort.
    pub order: Vec<u32>,
    /// `order` must be recomputed (and sorted).
    pub dirty: bool,
    /// How many of `items` `order` has taken in (items beyond are new since).
    pub ordered: usize,
    /// Filter-as-you-type text.
    pub filter: String,
    /// Show names starting with a dot.
    pub show_hidden: bool,
    /// Columns of the list view hidden (of Size, Modified, Kind and Created; Created until the
    /// person shows it).
    pub hidden_columns: std::collections::BTreeSet<SortKey>,
    /// Per-folder sort and view.
    pub prefs: HashMap<PathBuf, FolderPrefs>,
    /// The selection.
    pub selection: Selection,
    /// The path bar being edited (Ctrl+L), with its text.
    pub path_edit: Option<String>,
    /// The inspector's details of the focused item.
    pub details: Option<Details>,
    /// Inspector shown.
    pub inspector: bool,
    /// The view of folders without their own preference.
    pub default_view: Option<ViewMode>,
    /// The folder differs from its index (shown from the disk; a rescan would update it).
    pub changed_on_disk: bool,
    /// When the listing was asked for, ms since the epoch.
    pub listed_ms: i64,
    /// A scroll the view still has to carry out (keyboard moves, a revealed item, a new or
    /// restored folder).
    pub scroll: Option<Scroll>,
    /// The view's scroll offset as last drawn, in points from the top.
    pub scroll_offset: f32,
    /// How the view was last drawn (egui keeps one scroll state per layout of the list).
    pub drawn_as: Option<ViewLayout>,
    /// The step being shown again (Back, Forward, a new listing of the folder shown): its
    /// selection and scroll position come back once the listing is complete.
    pub restore: Option<Visit>,
    /// The layout the keyboard moves through, as the view last drew it.
    pub geometry: Geometry,
    /// The name being typed to jump to an item.
    pub type_ahead: TypeAhead,
}

/// What identifies the scroll state egui keeps for the folder view: the view, and for the
/// list the layout its column widths are remembered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewLayout {
    /// List or grid.
    pub view: ViewMode,
    /// The inspector is shown.
    pub inspector: bool,
    /// The view's width in 64-point steps.
    pub width_step: u32,
}

impl Explorer {
    /// Starts showing `folder`, at the top with nothing selected: returns the ticket for its
    /// listing. `record` puts the current folder, as it is now, on the back stack.
    pub fn open(&mut self, folder: PathBuf, record: bool) -> u64 {
        if record && self.folder.as_ref() != Some(&folder) {
            self.history.visit(self.here());
        }
        self.folder = Some(folder);
        self.ticket += 1;
        self.items.clear();
        self.order.clear();
        self.ordered = 0;
        self.loading = true;
        self.source = None;
        self.error = None;
        self.selection = Selection::default();
        self.filter.clear();
        self.details = None;
        self.changed_on_disk = false;
        self.listed_ms = crate::vdfs::jobs::now_ms();
        self.scroll = Some(Scroll::ToOffset(0.0));
        self.scroll_offset = 0.0;
        self.restore = None;
        self.ticket
    }

    /// Shows `visit` again (Back, Forward, a new listing of the folder shown): its folder is
    /// listed, then its selection and scroll position come back. Returns the ticket.
    pub fn open_at(&mut self, visit: Visit) -> u64 {
        let ticket = self.open(visit.folder.clone(), false);
        self.restore = Some(visit);
        ticket
    }

    /// The folder shown as it is now: its scroll position and selection.
    pub fn here(&self) -> Option<Visit> {
        let folder = self.folder.clone()?;
        Some(Visit {
            folder,
            scroll: self.scroll_offset,
            selected: self.selected().map(|i| i.raw_name.clone()).collect(),
            cursor: self.focused().map(|i| i.raw_name.clone()),
            device: None,
        })
    }

    /// Once the listing is complete, gives back the selection and scroll position of the step
    /// being shown again (items gone since are left out).
    pub fn finish_restore(&mut self) {
        if self.loading || self.restore.is_none() {
            return;
        }
        let Some(visit) = self.restore.take() else {
            return;
        };
        if self.folder.as_ref() != Some(&visit.folder) {
            return;
        }
        self.refresh_order();
        let wanted: std::collections::HashSet<&[u8]> =
            visit.selected.iter().map(Vec::as_slice).collect();
        let visible: BTreeSet<u32> = self.order.iter().copied().collect();
        self.selection.items = (0..self.items.len() as u32)
            .filter(|i| {
                visible.contains(i) && wanted.contains(self.items[*i as usize].raw_name.as_slice())
            })
            .collect();
        self.selection.cursor = visit.cursor.and_then(|c| {
            self.order
                .iter()
                .position(|&i| self.items[i as usize].raw_name == c)
        });
        self.selection.anchor = self.selection.cursor;
        self.scroll = Some(Scroll::ToOffset(visit.scroll));
        self.scroll_offset = visit.scroll;
    }

    /// The preferences of the folder shown.
    pub fn current_prefs(&self) -> FolderPrefs {
        self.folder
            .as_ref()
            .and_then(|f| self.prefs.get(f))
            .copied()
            .unwrap_or(FolderPrefs {
                view: self.default_view.unwrap_or(ViewMode::List),
                ..FolderPrefs::default()
            })
    }

    /// Changes the preferences of the folder shown.
    pub fn set_prefs(&mut self, prefs: FolderPrefs) {
        if let Some(f) = &self.folder {
            self.prefs.insert(f.clone(), prefs);
        }
        self.dirty = true;
    }

    /// Clicking a column header: sorts by it, or flips the direction if it already is.
    pub fn sort_by(&mut self, key: SortKey) {
        let mut p = self.current_prefs();
        if p.sort == key {
            p.ascending = !p.ascending;
        } else {
            p.sort = key;
            p.ascending = key == SortKey::Name || key == SortKey::Kind;
        }
        self.set_prefs(p);
    }

    /// Replaces the whole listing tagged `ticket` with the disk's (`changed`: the folder
    /// changed since it was indexed); a stale one is dropped. The selection is kept by name.
    pub fn replace(&mut self, ticket: u64, items: Vec<Item>, changed: bool) -> bool {
        if ticket != self.ticket {
            return false;
        }
        let selected: std::collections::HashSet<Vec<u8>> =
            self.selected().map(|i| i.raw_name.clone()).collect();
        let cursor = self.focused().map(|i| i.raw_name.clone());
        self.items = items;
        self.selection.items = self
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| selected.contains(&i.raw_name))
            .map(|(n, _)| n as u32)
            .collect();
        self.order.clear();
        self.dirty = true;
        self.changed_on_disk = changed;
        self.refresh_order();
        self.selection.cursor = cursor.and_then(|c| {
            self.order
                .iter()
                .position(|&i| self.items[i as usize].raw_name == c)
        });
        true
    }

    /// Sets the items' creation times (by exact name) told after the listing tagged `ticket`;
    /// rows sorted by creation are sorted again.
    pub fn set_created(&mut self, ticket: u64, times: &[(Vec<u8>, i64)]) {
        if ticket != self.ticket {
            return;
        }
        let by_name: HashMap<&[u8], i64> = times.iter().map(|(n, t)| (n.as_slice(), *t)).collect();
        for item in &mut self.items {
            if let Some(t) = by_name.get(item.raw_name.as_slice()) {
                item.created_ns = Some(*t);
            }
        }
        if self.current_prefs().sort == SortKey::Created {
            self.dirty = true;
        }
    }

    /// Adds a chunk of the listing tagged `ticket`; a stale chunk is dropped (returns false).
    pub fn add_chunk(&mut self, ticket: u64, items: Vec<Item>) -> bool {
        if ticket != self.ticket {
            return false;
        }
        self.items.extend(items);
        // While the listing comes in, its items go below the rows shown (see
        // `refresh_order`); a chunk after the end (never sent) is sorted in.
        self.dirty |= !self.loading;
        true
    }

    /// The listing is complete: it is sorted now, once.
    pub fn listing_done(&mut self) {
        self.loading = false;
        self.dirty = true;
    }

    /// Whether `item` is shown with the hidden-files toggle and the filter (`needle`, lower
    /// case) as they are.
    fn shows(&self, item: &Item, needle: &str) -> bool {
        (self.show_hidden || !item.hidden)
            && (needle.is_empty() || item.name.to_lowercase().contains(needle))
    }

    /// Brings `order` up to date, keeping the selected items selected. While a listing comes
    /// in, new items are put below the rows shown, in the order they arrive, so no row moves
    /// under the pointer; the listing is sorted once, when it is complete (or when the sort,
    /// filter or hidden-files toggle change).
    pub fn refresh_order(&mut self) {
        if !self.dirty {
            if self.ordered < self.items.len() {
                let needle = self.filter.to_lowercase();
                let new: Vec<u32> = (self.ordered as u32..self.items.len() as u32)
                    .filter(|&i| self.shows(&self.items[i as usize], &needle))
                    .collect();
                self.order.extend(new);
                self.ordered = self.items.len();
            }
            return;
        }
        self.dirty = false;
        self.ordered = self.items.len();
        let needle = self.filter.to_lowercase();
        let prefs = self.current_prefs();
        let items = &self.items;
        let mut order: Vec<u32> = (0..items.len() as u32)
            .filter(|&i| self.shows(&items[i as usize], &needle))
            .collect();
        order.sort_by(|&a, &b| {
            compare(
                &items[a as usize],
                &items[b as usize],
                prefs.sort,
                prefs.ascending,
            )
        });
        let visible: BTreeSet<u32> = order.iter().copied().collect();
        self.selection.items.retain(|i| visible.contains(i));
        let cursor_item = self
            .selection
            .cursor
            .and_then(|c| self.order.get(c).copied());
        self.order = order;
        self.selection.cursor = cursor_item.and_then(|i| self.order.iter().position(|&x| x == i));
        self.selection.anchor = self.selection.cursor;
    }

    /// The selected items.
    pub fn selected(&self) -> impl Iterator<Item = &Item> {
        self.selection
            .items
            .iter()
            .map(|&i| &self.items[i as usize])
    }

    /// The item under the keyboard cursor.
    pub fn focused(&self) -> Option<&Item> {
        let row = self.selection.cursor?;
        self.order.get(row).map(|&i| &self.items[i as usize])
    }

    /// The path of item `i` of the listing.
    pub fn path_of(&self, item: &Item) -> Option<PathBuf> {
        self.folder.as_ref().map(|f| item.path_in(f))
    }

    /// The item of the listing at `path` (a path in the folder shown, compared by exact name
    /// bytes).
    pub fn item_at(&self, path: &Path) -> Option<&Item> {
        let raw = self.name_in_folder(path)?;
        self.items.iter().find(|i| i.raw_name == raw)
    }

    /// The visible row of the item at `path`, if it is shown.
    pub fn row_of(&self, path: &Path) -> Option<usize> {
        let raw = self.name_in_folder(path)?;
        self.order
            .iter()
            .position(|&i| self.items[i as usize].raw_name == raw)
    }

    /// The first visible row whose name starts with `typed`, ignoring case.
    pub fn row_starting_with(&self, typed: &str) -> Option<usize> {
        let typed = typed.to_lowercase();
        self.order.iter().position(|&i| {
            self.items[i as usize]
                .name
                .to_lowercase()
                .starts_with(&typed)
        })
    }

    /// Selects the item at `path` alone, unless it is selected already (a context menu acts
    /// on the selection it was opened in).
    pub fn select_unless_selected(&mut self, path: &Path) {
        if let Some(row) = self.row_of(path)
            && !self.selection.items.contains(&self.order[row])
        {
            let order = std::mem::take(&mut self.order);
            self.selection.click(&order, row);
            self.order = order;
        }
    }

    /// The exact name bytes of `path` if it is directly in the folder shown.
    fn name_in_folder<'p>(&self, path: &'p Path) -> Option<&'p [u8]> {
        (path.parent()? == self.folder.as_deref()?)
            .then(|| path.file_name().map(os_bytes))
            .flatten()
    }

    /// The parent of the folder shown.
    pub fn parent(&self) -> Option<PathBuf> {
        self.folder
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vdfs::content::filetype::ContentKind;

    fn item(name: &str, kind: EntryKind, size: u64, mtime: i64) -> Item {
        Item {
            name: name.into(),
            lossy: false,
            raw_name: name.as_bytes().to_vec(),
            uuid: None,
            kind,
            size,
            counts: None,
            mtime_ns: mtime,
            created_ns: None,
            content_kind: ContentKind::Unknown,
            hidden: name.starts_with('.'),
            entry: None,
            cas: None,
        }
    }

    #[test]
    fn natural_order() {
        let mut v = vec![
            "file10.txt",
            "File2.txt",
            "file1.txt",
            "a",
            "B",
            "file02.txt",
            "IMG_0009",
            "IMG_10",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "a",
                "B",
                "file1.txt",
                "File2.txt",
                "file02.txt",
                "file10.txt",
                "IMG_0009",
                "IMG_10"
            ]
        );
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
        assert_ne!(natural_cmp("a", "A"), Ordering::Equal, "total order");
    }

    #[test]
    fn history_back_and_forward() {
        let p = |s: &str| PathBuf::from(s);
        let mut e = Explorer::default();
        e.open(p("/a"), true);
        e.open(p("/a/b"), true);
        e.open(p("/a/b/c"), true);
        let back = e.history.back(e.here()).unwrap();
        assert_eq!(back.folder, p("/a/b"));
        e.open_at(back);
        assert!(e.history.can_forward());
        let fwd = e.history.forward(e.here()).unwrap();
        assert_eq!(fwd.folder, p("/a/b/c"));
        e.open_at(fwd);
        e.history.back(e.here()).map(|b| e.open_at(b));
        // A new visit clears forward.
        e.open(p("/z"), true);
        assert!(!e.history.can_forward());
        assert_eq!(e.history.back(e.here()).map(|v| v.folder), Some(p("/a/b")));
    }

    #[test]
    fn each_history_step_keeps_its_scroll_and_selection() {
        let mut e = Explorer::default();
        let t = e.open(PathBuf::from("/long"), true);
        assert_eq!(
            e.scroll,
            Some(Scroll::ToOffset(0.0)),
            "a new folder opens at the top"
        );
        let items = |names: &[&str]| {
            names
                .iter()
                .map(|n| item(n, EntryKind::File, 1, 1))
                .collect::<Vec<_>>()
        };
        e.add_chunk(t, items(&["a", "b", "c", "d"]));
        e.loading = false;
        e.refresh_order();
        e.selection.click(&e.order.clone(), 2);
        e.scroll = None;
        e.scroll_offset = 480.0;
        // A new folder opens at the top, with nothing selected.
        e.open(PathBuf::from("/other"), true);
        assert_eq!(e.scroll, Some(Scroll::ToOffset(0.0)));
        assert_eq!(e.scroll_offset, 0.0);
        assert!(e.selection.items.is_empty());
        // Back: the listing comes, then the selection and the place in it.
        let back = e.history.back(e.here()).unwrap();
        let t = e.open_at(back);
        e.add_chunk(t, items(&["a", "b", "c", "d"]));
        e.finish_restore();
        assert!(e.restore.is_some(), "waits for the end of the listing");
        e.loading = false;
        e.finish_restore();
        assert_eq!(e.focused().map(|i| i.name.as_str()), Some("c"));
        assert_eq!(e.selection.items.len(), 1);
        assert_eq!(e.scroll, Some(Scroll::ToOffset(480.0)));
        // Forward: /other as it was left, at the top.
        let fwd = e.history.forward(e.here()).unwrap();
        assert_eq!(fwd, Visit::at_top(PathBuf::from("/other")));
    }

    #[test]
    fn creation_times_told_after_an_index_listing_fill_in_and_sort() {
        let mut e = Explorer::default();
        let t = e.open(PathBuf::from("/x"), true);
        e.add_chunk(
            t,
            vec![
                item("a", EntryKind::File, 1, 1),
                item("b", EntryKind::File, 1, 1),
                item("c", EntryKind::File, 1, 1),
            ],
        );
        e.listing_done();
        e.sort_by(SortKey::Created);
        e.refresh_order();
        // Stale times are dropped.
        e.set_created(t + 1, &[(b"a".to_vec(), 5)]);
        assert!(e.items.iter().all(|i| i.created_ns.is_none()));
        e.set_created(t, &[(b"b".to_vec(), 9), (b"c".to_vec(), 3)]);
        e.refresh_order();
        let names: Vec<_> = e
            .order
            .iter()
            .map(|&i| e.items[i as usize].name.clone())
            .collect();
        assert_eq!(
            names,
            ["b", "c", "a"],
            "newest first (as Modified), unknown last"
        );
    }

    #[test]
    fn order_sort_filter_hidden_and_stale_chunks() {
        let mut e = Explorer::default();
        let t = e.open(PathBuf::from("/x"), true);
        assert!(!e.add_chunk(t + 1, vec![item("stale", EntryKind::File, 1, 1)]));
        e.add_chunk(
            t,
            vec![
                item("b10.txt", EntryKind::File, 5, 3),
                item("b9.txt", EntryKind::File, 50, 1),
                item("zdir", EntryKind::Dir, 500, 2),
                item(".hidden", EntryKind::File, 1, 4),
            ],
        );
        e.listing_done();
        e.refresh_order();
        let names = |e: &Explorer| {
            e.order
                .iter()
                .map(|&i| e.items[i as usize].name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&e), ["zdir", "b9.txt", "b10.txt"]);
        e.sort_by(SortKey::Size);
        e.refresh_order();
        assert_eq!(
            names(&e),
            ["zdir", "b9.txt", "b10.txt"],
            "size sorts descending first"
        );
        e.sort_by(SortKey::Size);
        e.refresh_order();
        assert_eq!(names(&e), ["zdir", "b10.txt", "b9.txt"]);
        e.show_hidden = true;
        e.filter = "B1".into();
        e.dirty = true;
        e.refresh_order();
        assert_eq!(names(&e), ["b10.txt"]);
        // Preferences are per folder.
        e.open(PathBuf::from("/y"), true);
        assert_eq!(e.current_prefs(), FolderPrefs::default());
        e.open(PathBuf::from("/x"), true);
        assert_eq!(e.current_prefs().sort, SortKey::Size);
    }

    #[test]
    fn rows_keep_their_place_until_the_listing_is_complete() {
        let mut e = Explorer::default();
        let t = e.open(PathBuf::from("/big"), true);
        let names = |e: &Explorer| {
            e.order
                .iter()
                .map(|&i| e.items[i as usize].name.clone())
                .collect::<Vec<_>>()
        };
        let chunk = |n: &[&str]| n.iter().map(|n| item(n, EntryKind::File, 1, 1)).collect();
        e.add_chunk(t, chunk(&["m", "k", ".h"]));
        e.refresh_order();
        assert_eq!(names(&e), ["m", "k"], "as they come, hidden ones left out");
        e.selection.click(&e.order.clone(), 1);
        e.add_chunk(t, chunk(&["a", "z"]));
        e.refresh_order();
        assert_eq!(names(&e), ["m", "k", "a", "z"], "new ones below");
        assert_eq!(e.focused().map(|i| i.name.as_str()), Some("k"));
        e.listing_done();
        e.refresh_order();
        assert_eq!(names(&e), ["a", "k", "m", "z"], "sorted once, at the end");
        assert_eq!(e.focused().map(|i| i.name.as_str()), Some("k"));
    }

    #[test]
    fn selection_click_ctrl_shift_and_keys() {
        let order: Vec<u32> = vec![4, 3, 2, 1, 0];
        let mut s = Selection::default();
        s.click(&order, 1);
        assert_eq!(s.items, BTreeSet::from([3]));
        s.extend(&order, 3);
        assert_eq!(s.items, BTreeSet::from([3, 2, 1]));
        s.toggle(&order, 0);
        assert_eq!(s.items, BTreeSet::from([4, 3, 2, 1]));
        s.click(&order, 2);
        s.move_to(&order, 3, true);
        s.move_to(&order, 4, true);
        assert_eq!(s.items, BTreeSet::from([2, 1, 0]));
        s.move_to(&order, 0, false);
        assert_eq!((s.items.clone(), s.cursor), (BTreeSet::from([4]), Some(0)));
        s.all(&order);
        assert_eq!(s.items.len(), 5);
    }

    #[test]
    fn type_ahead_adds_up_letters_until_a_pause() {
        let mut t = TypeAhead::default();
        assert_eq!(t.push("n", 10.0), "n");
        assert_eq!(t.push("o", 10.4), "no");
        assert_eq!(t.push("t", 11.3), "not");
        assert_eq!(t.push("f", 12.5), "f", "a pause starts a new name");
        let mut e = Explorer::default();
        let tk = e.open(PathBuf::from("/x"), true);
        e.add_chunk(
            tk,
            ["Notes.md", "file10", "file2", "photos"]
                .iter()
                .map(|n| item(n, EntryKind::File, 1, 1))
                .collect(),
        );
        e.listing_done();
        e.refresh_order();
        assert_eq!(e.row_starting_with("fi"), Some(0), "file2 comes first");
        assert_eq!(e.row_starting_with("file1"), Some(1));
        assert_eq!(e.row_starting_with("NOT"), Some(2));
        assert_eq!(e.row_starting_with("nf"), None);
    }

    #[test]
    fn keyboard_moves_in_the_list_and_the_grid() {
        use CursorMove as M;
        let list = Geometry {
            columns: 1,
            page_rows: 10,
        };
        let mv = |c, to, g, v| move_target(c, 25, to, g, v);
        let l = ViewMode::List;
        // Nothing selected: End selects the last item, anything else the first.
        assert_eq!(mv(None, M::Last, list, l), Some(24));
        assert_eq!(mv(None, M::First, list, l), Some(0));
        assert_eq!(mv(None, M::Down, list, l), Some(0));
        assert_eq!(mv(None, M::PageDown, list, l), Some(0));
        assert_eq!(move_target(None, 0, M::Last, list, l), None);
        // The list: one row, a page, the ends; Left and Right do nothing.
        assert_eq!(mv(Some(3), M::Down, list, l), Some(4));
        assert_eq!(mv(Some(3), M::Up, list, l), Some(2));
        assert_eq!(mv(Some(0), M::Up, list, l), None);
        assert_eq!(mv(Some(24), M::Down, list, l), None);
        assert_eq!(mv(Some(3), M::Right, list, l), None);
        assert_eq!(mv(Some(3), M::PageDown, list, l), Some(13));
        assert_eq!(mv(Some(20), M::PageDown, list, l), Some(24));
        assert_eq!(mv(Some(13), M::PageUp, list, l), Some(3));
        assert_eq!(mv(Some(3), M::PageUp, list, l), Some(0));
        // The grid, 4 tiles a row, 2 rows a page (25 items: the last row holds item 24 only).
        let grid = Geometry {
            columns: 4,
            page_rows: 2,
        };
        let g = ViewMode::Grid;
        assert_eq!(mv(Some(5), M::Down, grid, g), Some(9));
        assert_eq!(mv(Some(5), M::Up, grid, g), Some(1));
        assert_eq!(mv(Some(1), M::Up, grid, g), None);
        assert_eq!(mv(Some(5), M::Right, grid, g), Some(6));
        assert_eq!(mv(Some(5), M::Left, grid, g), Some(4));
        assert_eq!(mv(Some(0), M::Left, grid, g), None);
        // Down into a last row that is shorter goes to the last item.
        assert_eq!(mv(Some(22), M::Down, grid, g), Some(24));
        assert_eq!(mv(Some(24), M::Down, grid, g), None);
        assert_eq!(mv(Some(5), M::PageDown, grid, g), Some(13));
        assert_eq!(mv(Some(20), M::PageDown, grid, g), Some(24));
        assert_eq!(mv(Some(17), M::PageDown, grid, g), Some(24));
        assert_eq!(mv(Some(13), M::PageUp, grid, g), Some(5));
        assert_eq!(mv(Some(6), M::PageUp, grid, g), Some(2));
    }
}
