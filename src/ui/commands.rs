//! Every user action of the window, as one [`UiCommand`] value that carries its targets, and
//! the label and shortcuts of each kind of action, declared once. Buttons, menus, context
//! menus and the key handler all build a `UiCommand`; [`crate::ui::AppState::run`] carries it
//! out.
//!
//! Targets are exact paths (built from an item's exact name bytes with
//! [`Item::path_in`](crate::vdfs::query::browse::Item::path_in)), library UUIDs, location ids
//! or job ids: never a lossy display name.

use std::path::{Path, PathBuf};

use eframe::egui::{Key, KeyboardShortcut, Modifiers};
use uuid::Uuid;

use crate::ui::dnd::DropOp;
use crate::ui::explorer::SortKey;
use crate::vdfs::actions::OnConflict;
use crate::vdfs::index::location::IndexMode;
use crate::vdfs::jobs::JobId;
use crate::vdfs::platform::open_with::App;
use crate::vdfs::query::dupes::Keep;
use crate::vdfs::query::search::Sort;

/// A user action, with what it acts on.
#[derive(Debug, Clone, PartialEq)]
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
    /// Open an item of the folder shown (a folder is shown, a file opened with its
    /// application); from a key, the item under the cursor.
    Open(PathBuf),
    /// Select every visible item.
    SelectAll,
    /// Switch between list and grid.
    ToggleView,
    /// Add the folder shown as a location.
    AddLocation,
    /// Stop choosing a folder to index in the window (no picker of the system).
    StopChoosing,
    /// Open the settings window.
    Settings,
    /// Move the keyboard cursor; with `extend` the selection grows from its anchor.
    MoveCursor {
        /// Where to.
        to: CursorMove,
        /// Extend the selection (Shift).
        extend: bool,
    },
    /// Letters typed over the folder: jump to the first name starting with what was typed
    /// since the last pause.
    TypeAhead {
        /// The letters of this key press.
        text: String,
        /// When they were typed, in seconds (egui's input clock).
        at: f64,
    },
    /// A click on an item of the folder shown.
    Select {
        /// The item.
        path: PathBuf,
        /// Plain, Ctrl or Shift click.
        how: SelectHow,
    },
    /// Show an item in the system file manager.
    Reveal(PathBuf),
    /// Put an item's path on the clipboard.
    CopyPath(PathBuf),
    /// Show an item's details in the inspector.
    Inspect(PathBuf),
    /// Add an item's folder (the item itself when it is one) to the favourites.
    AddFavourite(PathBuf),
    /// Remove a folder from the favourites.
    RemoveFavourite(PathBuf),
    /// Show every file and folder with this tag (or a tag below it), in the whole library.
    ShowTag(Uuid),
    /// Put a tag on (`on`) or take it off items.
    SetTag {
        /// The tag.
        tag: Uuid,
        /// The items, exact paths.
        paths: Vec<PathBuf>,
        /// Put on, or take off.
        on: bool,
    },
    /// Rename a tag and/or set its colour (`Some(None)` clears it).
    EditTag {
        /// The tag.
        tag: Uuid,
        /// A new name.
        name: Option<String>,
        /// A new colour, `#rrggbb`.
        colour: Option<Option<String>>,
    },
    /// Delete a tag (the person confirmed): it comes off everything; no file is touched.
    DeleteTag(Uuid),
    /// Put tag `tag` under `to` (`None`: at the top) instead of under `from` (dragged in the
    /// sidebar).
    ReparentTag {
        /// The tag.
        tag: Uuid,
        /// The parent it was shown under (`None`: none).
        from: Option<Uuid>,
        /// Its new parent (`None`: none, at the top).
        to: Option<Uuid>,
    },
    /// Open the tag editor on a tag.
    OpenTagEditor(Uuid),
    /// Show (or leave) the missing items: tagged, noted or collected files gone from the index.
    ShowMissing,
    /// Select a missing item (`toggle`: add or remove it, else it alone).
    SelectMissing {
        /// Its entry UUID.
        entry: Uuid,
        /// Ctrl held.
        toggle: bool,
    },
    /// Forget what was on missing items (the person confirmed).
    ForgetMissing(Vec<Uuid>),
    /// Save what the tag editor holds.
    SaveTagEditor,
    /// Close the tag editor without saving.
    CloseTagEditor,
    /// Merge tag `from` into tag `into` (the person confirmed): everything tagged `from` gets
    /// `into`, `from`'s names become aliases of `into`, `from` is deleted.
    MergeTag {
        /// The tag merged away.
        from: Uuid,
        /// The tag kept.
        into: Uuid,
    },
    /// Open the tag popup on items: type a tag's name (completed from the tags), Enter puts it
    /// on them (making it when it is new).
    TagPopup(Vec<PathBuf>),
    /// Close the tag popup.
    CloseTagPopup,
    /// Show or leave out the hidden tags.
    ToggleHiddenTags,
    /// Open the command palette.
    OpenPalette,
    /// Start a terminal in a folder.
    OpenTerminal(PathBuf),
    /// Make the grid's pictures bigger (`true`) or smaller, when the grid is shown.
    ZoomGrid(bool),
    /// Close the command palette.
    ClosePalette,
    /// Show the items of a collection.
    ShowCollection(Uuid),
    /// Save the search shown under a name.
    SaveSearch(String),
    /// Run a saved search (by name).
    RunSaved(String),
    /// Add items to a collection, or to a new one of this name.
    Collect {
        /// The collection (`None`: a new one named `name`).
        collection: Option<Uuid>,
        /// A new collection's name.
        name: Option<String>,
        /// The items, exact paths.
        paths: Vec<PathBuf>,
    },
    /// Set the marks of an indexed item (note, rating, label colour, favourite; each `Some`
    /// field of `change`), or with `content` of its content (every copy).
    SetMeta {
        /// The item, exact path.
        path: PathBuf,
        /// On its content instead.
        content: bool,
        /// What changes.
        change: crate::vdfs::library::MetaChange,
    },
    /// Make a tag and put it on items.
    NewTag {
        /// Its name (`namespace::name` works too).
        name: String,
        /// The items to put it on, exact paths (none: only make it).
        paths: Vec<PathBuf>,
    },
    /// Ask which applications open a file (the "Open with" menu).
    FindApps(PathBuf),
    /// Open a file with an application.
    OpenWith(PathBuf, App),
    /// Show a folder.
    GoTo(PathBuf),
    /// Show a file or folder in its parent folder, selected.
    GoToItem(PathBuf),
    /// Go to a typed path or `cairn://` address.
    GoToAddress(String),
    /// Sort the folder by a column (again: the other way).
    SortBy(SortKey),
    /// Show or hide a column of the list view (Size, Modified or Kind; the name always
    /// shows), from the menu of a column's title.
    ToggleColumn(SortKey),
    /// Run the search again with the search box, the filter chips and the scope as they are.
    Search,
    /// Search the whole library (`true`) or the folder shown and below.
    SearchEverywhere(bool),
    /// Order the search results.
    SortResults {
        /// The order.
        by: Sort,
        /// The other way round.
        reverse: bool,
    },
    /// Open another library.
    OpenLibrary(Uuid),
    /// Open the "New library" dialog.
    NewLibrary,
    /// Create a library with this name and open it.
    CreateLibrary(String),
    /// Close the "New library" dialog.
    CloseNewLibrary,
    /// Show or hide the duplicates view.
    ToggleDupes,
    /// Ask for a folder with the system's picker and add it as a location.
    PickLocation,
    /// Index a location again.
    RescanLocation(u32),
    /// Change a location's index mode.
    SetLocationMode(u32, IndexMode),
    /// Forget a location's index (no file is touched).
    RemoveLocation(u32),
    /// Show or hide the jobs drawer.
    ToggleJobs,
    /// Show every job in the drawer, or only what runs (the newest when nothing does).
    ToggleAllJobs,
    /// Make the search field filter the folder, search below it or search the library (its
    /// text goes with it).
    FindIn(crate::ui::search::FindMode),
    /// Send local items into the folder of the paired device shown (dropped there).
    SendToDevice(Vec<PathBuf>),
    /// Open a new tab at the folder shown (Ctrl+T).
    NewTab,
    /// Open a folder in a new tab (a middle click, its menu).
    OpenInNewTab(PathBuf),
    /// Close a tab (`None`: the active one; Ctrl+W). The last tab stays.
    CloseTab(Option<usize>),
    /// Show tab `n` (from 0).
    SwitchTab(usize),
    /// Show the next tab (`true`, Ctrl+Tab) or the one before (Ctrl+Shift+Tab), round.
    CycleTab(bool),
    /// Show a second pane beside the folder, or close it (F3).
    ToggleSplit,
    /// Give the keyboard to side `n` (from 0) of the split view.
    FocusPane(usize),
    /// Pause a job.
    PauseJob(JobId),
    /// Resume a job.
    ResumeJob(JobId),
    /// Cancel a job.
    CancelJob(JobId),
    /// Put items on the window's clipboard, to be copied by the next paste (their paths go
    /// on the system clipboard as text too).
    Copy(Vec<PathBuf>),
    /// Put items on the window's clipboard, to be moved by the next paste.
    Cut(Vec<PathBuf>),
    /// Copy or move what is on the window's clipboard into a folder.
    Paste(PathBuf),
    /// Items dragged onto a folder and let go there: moved or copied into it as `op` says
    /// (see [`crate::ui::dnd`]), like a paste.
    Drop {
        /// The items, exact paths.
        paths: Vec<PathBuf>,
        /// The folder they were dropped on.
        to: PathBuf,
        /// Move, copy, or as the file systems decide (the modifiers held at the drop).
        op: DropOp,
    },
    /// Items of a paired device dragged onto a local folder and let go there: copied into
    /// it from the device, each file checked by BLAKE3 (never moved off the device).
    DropFromDevice {
        /// The device (its UUID).
        device: uuid::Uuid,
        /// The items, absolute paths on the device (exact bytes).
        paths: Vec<Vec<u8>>,
        /// The local folder they were dropped on.
        to: PathBuf,
    },
    /// Files dragged from another application and let go over the window: copied into the
    /// folder shown, or sent into the device's folder shown (never moved: the other
    /// application keeps its files).
    DropFiles(Vec<PathBuf>),
    /// Start renaming an item in place.
    Rename(PathBuf),
    /// Give an item the name typed in place (Enter).
    RenameTo {
        /// The item.
        path: PathBuf,
        /// The new name.
        name: String,
    },
    /// Stop renaming in place, changing nothing (Esc).
    CancelRename,
    /// Open the batch-rename dialog on several items (F2 or "Rename…" with several
    /// selected), in the order shown.
    RenameMany(Vec<PathBuf>),
    /// Give the batch-rename dialog's items the names its table shows (Enter).
    ConfirmBatchRename,
    /// Close the batch-rename dialog, changing nothing (Esc).
    CancelBatchRename,
    /// Copy items beside themselves, as "name (copy)".
    Duplicate(Vec<PathBuf>),
    /// Move items to the trash (no dialog; undo brings them back).
    Trash(Vec<PathBuf>),
    /// Delete items for good, once a dialog naming their count and size is confirmed.
    Delete(Vec<PathBuf>),
    /// Make a folder "New folder" (or "New folder (2)" …) in a folder, then rename it in
    /// place.
    NewFolder(PathBuf),
    /// Undo the last file operation.
    Undo,
    /// Redo the last undone file operation.
    Redo,
    /// Go ahead with the operation the dialog shows.
    ConfirmOp,
    /// Ask again, answering every conflict the same way.
    ResolveConflicts(OnConflict),
    /// Close the operation dialog, changing nothing.
    CancelOp,
    /// Show the trash instead of the folder, or leave it.
    ShowTrash,
    /// Show a paired device (its shared locations) instead of the folder.
    ShowDevice(uuid::Uuid),
    /// Open a folder of the device shown (exact bytes; `None`: its locations).
    PeerOpen(Option<Vec<u8>>),
    /// A click on an item of the device's folder (by its exact name).
    SelectPeerItem {
        /// The item's name.
        name: Vec<u8>,
        /// Ctrl held: add or remove it.
        toggle: bool,
    },
    /// Copy the selected items of the device's folder into the local folder shown before it.
    PeerCopy,
    /// Offer these items to a nearby device: opens the dialog that finds the devices
    /// receiving on this network.
    SendNearby(Vec<PathBuf>),
    /// Send the dialog's items to the device at `to` (`ID@IP:PORT`), called `name`.
    SendNearbyTo {
        /// Its address.
        to: String,
        /// Its name, as shown.
        name: String,
    },
    /// Close the send dialog.
    CloseSendNearby,
    /// Take offers of files from nearby devices (asked about one by one), or stop.
    SetReceiving(bool),
    /// Answer an offer of files from a nearby device.
    AnswerOffer {
        /// The offer's number.
        id: u64,
        /// Accept it.
        accept: bool,
    },
    /// Open the folder of a device's search hit (absolute, exact bytes) with the hit selected.
    PeerReveal(Vec<u8>),
    /// Put the selected items of the device's folder on the clipboard (Ctrl+C there); a
    /// paste into a local folder copies them here.
    PeerClip,
    /// Copy the local items on the clipboard into the device's folder shown (Ctrl+V there).
    PeerPaste,
    /// Open the pairing dialog.
    PairDevice,
    /// Show a code here for another device to type.
    PairShowCode,
    /// Pair with the device that shows `code`, at `host` (`ID@IP:PORT`).
    PairJoin {
        /// The code typed.
        code: String,
        /// The other device's address, as it shows it.
        host: String,
    },
    /// Close the pairing dialog (the code shown stops working).
    ClosePairing,
    /// Forget a paired device (and ask it to forget this one).
    Unpair(uuid::Uuid),
    /// Put trashed items (by their path in the trash) back where they were.
    Restore(Vec<PathBuf>),
    /// A click on an item of the trash (by its path in the trash).
    SelectTrashed {
        /// The item.
        path: PathBuf,
        /// Ctrl: add or remove it; else it alone.
        toggle: bool,
    },
    /// Ask to empty the trash.
    EmptyTrash,
    /// Empty the trash for good (confirmed).
    ConfirmEmptyTrash,
    /// Mark (`keep`) or unmark a copy in the duplicates view as one to keep.
    KeepCopy {
        /// The copy, its exact path.
        path: PathBuf,
        /// Keep it (checked) or not.
        keep: bool,
    },
    /// Mark the copies to keep in every duplicate group by a rule (newest, oldest, in a
    /// folder, shortest path); what was marked by hand is replaced.
    KeepPreset(Keep),
    /// Move every copy of the duplicate groups not marked to keep to the trash, as one
    /// undoable operation, once each group is confirmed by full-file hashes. Refused when a
    /// group has no copy marked to keep.
    TrashOtherCopies,
    /// Replace every copy of the duplicate groups not marked to keep by a hard link to a
    /// kept copy on its volume, as one undoable operation, once each group is confirmed by
    /// full-file hashes; the preview is shown first (linked files share their edits).
    LinkOtherCopies,
}

/// What a shortcut can act on: the folder shown, the item under the keyboard cursor and the
/// selection, as exact paths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyTargets {
    /// The folder shown.
    pub folder: Option<PathBuf>,
    /// The item under the keyboard cursor.
    pub focused: Option<PathBuf>,
    /// The selected items, in the order shown.
    pub selected: Vec<PathBuf>,
    /// A paired device's folder is shown: Ctrl+C and Ctrl+V act on it
    /// ([`UiCommand::PeerClip`], [`UiCommand::PeerPaste`]), keys that act on local items do
    /// nothing (the local folder behind it is not what the person sees).
    pub device: bool,
}

/// Where a [`UiCommand::MoveCursor`] moves the keyboard cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorMove {
    /// One row down: the next item in the list, the tile below in the grid.
    Down,
    /// One row up: the previous item in the list, the tile above in the grid.
    Up,
    /// The previous tile (the grid only).
    Left,
    /// The next tile (the grid only).
    Right,
    /// A screenful down.
    PageDown,
    /// A screenful up.
    PageUp,
    /// The first item.
    First,
    /// The last item.
    Last,
}

/// How a click selects (see [`crate::ui::explorer::Selection`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectHow {
    /// The item alone.
    Click,
    /// Ctrl: add or remove it.
    Toggle,
    /// Shift: from the anchor to it.
    Extend,
    /// A right click: the item alone, unless it is in the selection already (the context
    /// menu then acts on the whole selection).
    Context,
}

/// The kind of a [`UiCommand`], without its targets: what labels and shortcuts are declared
/// for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandKind {
    /// [`UiCommand::Back`].
    Back,
    /// [`UiCommand::Forward`].
    Forward,
    /// [`UiCommand::Up`].
    Up,
    /// [`UiCommand::Refresh`].
    Refresh,
    /// [`UiCommand::ToggleHidden`].
    ToggleHidden,
    /// [`UiCommand::EditPath`].
    EditPath,
    /// [`UiCommand::Find`].
    Find,
    /// [`UiCommand::TogglePreview`].
    TogglePreview,
    /// [`UiCommand::Open`].
    Open,
    /// [`UiCommand::SelectAll`].
    SelectAll,
    /// [`UiCommand::ToggleView`].
    ToggleView,
    /// [`UiCommand::AddLocation`].
    AddLocation,
    /// [`UiCommand::StopChoosing`].
    StopChoosing,
    /// [`UiCommand::Settings`].
    Settings,
    /// [`UiCommand::MoveCursor`].
    MoveCursor,
    /// [`UiCommand::TypeAhead`].
    TypeAhead,
    /// [`UiCommand::Select`].
    Select,
    /// [`UiCommand::Reveal`].
    Reveal,
    /// [`UiCommand::CopyPath`].
    CopyPath,
    /// [`UiCommand::Inspect`].
    Inspect,
    /// [`UiCommand::AddFavourite`].
    AddFavourite,
    /// [`UiCommand::RemoveFavourite`].
    RemoveFavourite,
    /// [`UiCommand::ShowTag`].
    ShowTag,
    /// [`UiCommand::SetTag`].
    SetTag,
    /// [`UiCommand::NewTag`].
    NewTag,
    /// [`UiCommand::EditTag`].
    EditTag,
    /// [`UiCommand::DeleteTag`].
    DeleteTag,
    /// [`UiCommand::ReparentTag`].
    ReparentTag,
    /// [`UiCommand::OpenTagEditor`].
    OpenTagEditor,
    /// [`UiCommand::ShowMissing`].
    ShowMissing,
    /// [`UiCommand::SelectMissing`].
    SelectMissing,
    /// [`UiCommand::ForgetMissing`].
    ForgetMissing,
    /// [`UiCommand::SaveTagEditor`].
    SaveTagEditor,
    /// [`UiCommand::CloseTagEditor`].
    CloseTagEditor,
    /// [`UiCommand::MergeTag`].
    MergeTag,
    /// [`UiCommand::TagPopup`].
    TagPopup,
    /// [`UiCommand::CloseTagPopup`].
    CloseTagPopup,
    /// [`UiCommand::ToggleHiddenTags`].
    ToggleHiddenTags,
    /// [`UiCommand::OpenPalette`].
    OpenPalette,
    /// [`UiCommand::OpenTerminal`].
    OpenTerminal,
    /// [`UiCommand::ZoomGrid`].
    ZoomGrid,
    /// [`UiCommand::ClosePalette`].
    ClosePalette,
    /// [`UiCommand::SetMeta`].
    SetMeta,
    /// [`UiCommand::ShowCollection`].
    ShowCollection,
    /// [`UiCommand::SaveSearch`].
    SaveSearch,
    /// [`UiCommand::RunSaved`].
    RunSaved,
    /// [`UiCommand::Collect`].
    Collect,
    /// [`UiCommand::FindApps`].
    FindApps,
    /// [`UiCommand::OpenWith`].
    OpenWith,
    /// [`UiCommand::GoTo`].
    GoTo,
    /// [`UiCommand::GoToItem`].
    GoToItem,
    /// [`UiCommand::GoToAddress`].
    GoToAddress,
    /// [`UiCommand::SortBy`].
    SortBy,
    /// [`UiCommand::ToggleColumn`].
    ToggleColumn,
    /// [`UiCommand::Search`].
    Search,
    /// [`UiCommand::SearchEverywhere`].
    SearchEverywhere,
    /// [`UiCommand::SortResults`].
    SortResults,
    /// [`UiCommand::OpenLibrary`].
    OpenLibrary,
    /// [`UiCommand::NewLibrary`].
    NewLibrary,
    /// [`UiCommand::CreateLibrary`].
    CreateLibrary,
    /// [`UiCommand::CloseNewLibrary`].
    CloseNewLibrary,
    /// [`UiCommand::ToggleDupes`].
    ToggleDupes,
    /// [`UiCommand::PickLocation`].
    PickLocation,
    /// [`UiCommand::RescanLocation`].
    RescanLocation,
    /// [`UiCommand::SetLocationMode`].
    SetLocationMode,
    /// [`UiCommand::RemoveLocation`].
    RemoveLocation,
    /// [`UiCommand::ToggleJobs`].
    ToggleJobs,
    /// [`UiCommand::ToggleAllJobs`].
    ToggleAllJobs,
    /// [`UiCommand::FindIn`].
    FindIn,
    /// [`UiCommand::SendToDevice`].
    SendToDevice,
    /// [`UiCommand::NewTab`].
    NewTab,
    /// [`UiCommand::OpenInNewTab`].
    OpenInNewTab,
    /// [`UiCommand::CloseTab`].
    CloseTab,
    /// [`UiCommand::SwitchTab`].
    SwitchTab,
    /// [`UiCommand::CycleTab`] forward.
    NextTab,
    /// [`UiCommand::CycleTab`] back.
    PrevTab,
    /// [`UiCommand::ToggleSplit`].
    ToggleSplit,
    /// [`UiCommand::FocusPane`].
    FocusPane,
    /// [`UiCommand::PauseJob`].
    PauseJob,
    /// [`UiCommand::ResumeJob`].
    ResumeJob,
    /// [`UiCommand::CancelJob`].
    CancelJob,
    /// [`UiCommand::Copy`].
    Copy,
    /// [`UiCommand::Cut`].
    Cut,
    /// [`UiCommand::Paste`].
    Paste,
    /// [`UiCommand::Drop`].
    Drop,
    /// [`UiCommand::DropFromDevice`].
    DropFromDevice,
    /// [`UiCommand::DropFiles`].
    DropFiles,
    /// [`UiCommand::Rename`].
    Rename,
    /// [`UiCommand::RenameTo`].
    RenameTo,
    /// [`UiCommand::CancelRename`].
    CancelRename,
    /// [`UiCommand::RenameMany`].
    RenameMany,
    /// [`UiCommand::ConfirmBatchRename`].
    ConfirmBatchRename,
    /// [`UiCommand::CancelBatchRename`].
    CancelBatchRename,
    /// [`UiCommand::Duplicate`].
    Duplicate,
    /// [`UiCommand::Trash`].
    Trash,
    /// [`UiCommand::Delete`].
    Delete,
    /// [`UiCommand::NewFolder`].
    NewFolder,
    /// [`UiCommand::Undo`].
    Undo,
    /// [`UiCommand::Redo`].
    Redo,
    /// [`UiCommand::ConfirmOp`].
    ConfirmOp,
    /// [`UiCommand::ResolveConflicts`].
    ResolveConflicts,
    /// [`UiCommand::CancelOp`].
    CancelOp,
    /// [`UiCommand::ShowTrash`].
    ShowTrash,
    /// [`UiCommand::ShowDevice`].
    ShowDevice,
    /// [`UiCommand::PeerOpen`].
    PeerOpen,
    /// [`UiCommand::SelectPeerItem`].
    SelectPeerItem,
    /// [`UiCommand::PeerCopy`].
    PeerCopy,
    /// [`UiCommand::SendNearby`].
    SendNearby,
    /// [`UiCommand::SendNearbyTo`].
    SendNearbyTo,
    /// [`UiCommand::CloseSendNearby`].
    CloseSendNearby,
    /// [`UiCommand::SetReceiving`].
    SetReceiving,
    /// [`UiCommand::AnswerOffer`].
    AnswerOffer,
    /// [`UiCommand::PeerReveal`].
    PeerReveal,
    /// [`UiCommand::PeerClip`].
    PeerClip,
    /// [`UiCommand::PeerPaste`].
    PeerPaste,
    /// [`UiCommand::PairDevice`].
    PairDevice,
    /// [`UiCommand::PairShowCode`].
    PairShowCode,
    /// [`UiCommand::PairJoin`].
    PairJoin,
    /// [`UiCommand::ClosePairing`].
    ClosePairing,
    /// [`UiCommand::Unpair`].
    Unpair,
    /// [`UiCommand::Restore`].
    Restore,
    /// [`UiCommand::SelectTrashed`].
    SelectTrashed,
    /// [`UiCommand::EmptyTrash`].
    EmptyTrash,
    /// [`UiCommand::ConfirmEmptyTrash`].
    ConfirmEmptyTrash,
    /// [`UiCommand::KeepCopy`].
    KeepCopy,
    /// [`UiCommand::KeepPreset`].
    KeepPreset,
    /// [`UiCommand::TrashOtherCopies`].
    TrashOtherCopies,
    /// [`UiCommand::LinkOtherCopies`].
    LinkOtherCopies,
}

impl UiCommand {
    /// What kind of command this is.
    pub fn kind(&self) -> CommandKind {
        use CommandKind as K;
        match self {
            UiCommand::Back => K::Back,
            UiCommand::Forward => K::Forward,
            UiCommand::Up => K::Up,
            UiCommand::Refresh => K::Refresh,
            UiCommand::ToggleHidden => K::ToggleHidden,
            UiCommand::EditPath => K::EditPath,
            UiCommand::Find => K::Find,
            UiCommand::TogglePreview => K::TogglePreview,
            UiCommand::Open(_) => K::Open,
            UiCommand::SelectAll => K::SelectAll,
            UiCommand::ToggleView => K::ToggleView,
            UiCommand::AddLocation => K::AddLocation,
            UiCommand::StopChoosing => K::StopChoosing,
            UiCommand::Settings => K::Settings,
            UiCommand::MoveCursor { .. } => K::MoveCursor,
            UiCommand::TypeAhead { .. } => K::TypeAhead,
            UiCommand::Select { .. } => K::Select,
            UiCommand::Reveal(_) => K::Reveal,
            UiCommand::CopyPath(_) => K::CopyPath,
            UiCommand::Inspect(_) => K::Inspect,
            UiCommand::AddFavourite(_) => K::AddFavourite,
            UiCommand::RemoveFavourite(_) => K::RemoveFavourite,
            UiCommand::ShowTag(_) => K::ShowTag,
            UiCommand::SetTag { .. } => K::SetTag,
            UiCommand::NewTag { .. } => K::NewTag,
            UiCommand::EditTag { .. } => K::EditTag,
            UiCommand::DeleteTag(_) => K::DeleteTag,
            UiCommand::ReparentTag { .. } => K::ReparentTag,
            UiCommand::OpenTagEditor(_) => K::OpenTagEditor,
            UiCommand::ShowMissing => K::ShowMissing,
            UiCommand::SelectMissing { .. } => K::SelectMissing,
            UiCommand::ForgetMissing(_) => K::ForgetMissing,
            UiCommand::SaveTagEditor => K::SaveTagEditor,
            UiCommand::CloseTagEditor => K::CloseTagEditor,
            UiCommand::MergeTag { .. } => K::MergeTag,
            UiCommand::TagPopup(_) => K::TagPopup,
            UiCommand::CloseTagPopup => K::CloseTagPopup,
            UiCommand::ToggleHiddenTags => K::ToggleHiddenTags,
            UiCommand::OpenPalette => K::OpenPalette,
            UiCommand::OpenTerminal(_) => K::OpenTerminal,
            UiCommand::ZoomGrid(_) => K::ZoomGrid,
            UiCommand::ClosePalette => K::ClosePalette,
            UiCommand::SetMeta { .. } => K::SetMeta,
            UiCommand::ShowCollection(_) => K::ShowCollection,
            UiCommand::SaveSearch(_) => K::SaveSearch,
            UiCommand::RunSaved(_) => K::RunSaved,
            UiCommand::Collect { .. } => K::Collect,
            UiCommand::FindApps(_) => K::FindApps,
            UiCommand::OpenWith(..) => K::OpenWith,
            UiCommand::GoTo(_) => K::GoTo,
            UiCommand::GoToItem(_) => K::GoToItem,
            UiCommand::GoToAddress(_) => K::GoToAddress,
            UiCommand::SortBy(_) => K::SortBy,
            UiCommand::ToggleColumn(_) => K::ToggleColumn,
            UiCommand::Search => K::Search,
            UiCommand::SearchEverywhere(_) => K::SearchEverywhere,
            UiCommand::SortResults { .. } => K::SortResults,
            UiCommand::OpenLibrary(_) => K::OpenLibrary,
            UiCommand::NewLibrary => K::NewLibrary,
            UiCommand::CreateLibrary(_) => K::CreateLibrary,
            UiCommand::CloseNewLibrary => K::CloseNewLibrary,
            UiCommand::ToggleDupes => K::ToggleDupes,
            UiCommand::PickLocation => K::PickLocation,
            UiCommand::RescanLocation(_) => K::RescanLocation,
            UiCommand::SetLocationMode(..) => K::SetLocationMode,
            UiCommand::RemoveLocation(_) => K::RemoveLocation,
            UiCommand::ToggleJobs => K::ToggleJobs,
            UiCommand::ToggleAllJobs => K::ToggleAllJobs,
            UiCommand::FindIn(_) => K::FindIn,
            UiCommand::SendToDevice(_) => K::SendToDevice,
            UiCommand::NewTab => K::NewTab,
            UiCommand::OpenInNewTab(_) => K::OpenInNewTab,
            UiCommand::CloseTab(_) => K::CloseTab,
            UiCommand::SwitchTab(_) => K::SwitchTab,
            UiCommand::CycleTab(true) => K::NextTab,
            UiCommand::CycleTab(false) => K::PrevTab,
            UiCommand::ToggleSplit => K::ToggleSplit,
            UiCommand::FocusPane(_) => K::FocusPane,
            UiCommand::PauseJob(_) => K::PauseJob,
            UiCommand::ResumeJob(_) => K::ResumeJob,
            UiCommand::CancelJob(_) => K::CancelJob,
            UiCommand::Copy(_) => K::Copy,
            UiCommand::Cut(_) => K::Cut,
            UiCommand::Paste(_) => K::Paste,
            UiCommand::Drop { .. } => K::Drop,
            UiCommand::DropFromDevice { .. } => K::DropFromDevice,
            UiCommand::DropFiles(_) => K::DropFiles,
            UiCommand::Rename(_) => K::Rename,
            UiCommand::RenameTo { .. } => K::RenameTo,
            UiCommand::CancelRename => K::CancelRename,
            UiCommand::RenameMany(_) => K::RenameMany,
            UiCommand::ConfirmBatchRename => K::ConfirmBatchRename,
            UiCommand::CancelBatchRename => K::CancelBatchRename,
            UiCommand::Duplicate(_) => K::Duplicate,
            UiCommand::Trash(_) => K::Trash,
            UiCommand::Delete(_) => K::Delete,
            UiCommand::NewFolder(_) => K::NewFolder,
            UiCommand::Undo => K::Undo,
            UiCommand::Redo => K::Redo,
            UiCommand::ConfirmOp => K::ConfirmOp,
            UiCommand::ResolveConflicts(_) => K::ResolveConflicts,
            UiCommand::CancelOp => K::CancelOp,
            UiCommand::ShowTrash => K::ShowTrash,
            UiCommand::ShowDevice(_) => K::ShowDevice,
            UiCommand::PeerOpen(_) => K::PeerOpen,
            UiCommand::SelectPeerItem { .. } => K::SelectPeerItem,
            UiCommand::PeerCopy => K::PeerCopy,
            UiCommand::SendNearby(_) => K::SendNearby,
            UiCommand::SendNearbyTo { .. } => K::SendNearbyTo,
            UiCommand::CloseSendNearby => K::CloseSendNearby,
            UiCommand::SetReceiving(_) => K::SetReceiving,
            UiCommand::AnswerOffer { .. } => K::AnswerOffer,
            UiCommand::PeerReveal(_) => K::PeerReveal,
            UiCommand::PeerClip => K::PeerClip,
            UiCommand::PeerPaste => K::PeerPaste,
            UiCommand::PairDevice => K::PairDevice,
            UiCommand::PairShowCode => K::PairShowCode,
            UiCommand::PairJoin { .. } => K::PairJoin,
            UiCommand::ClosePairing => K::ClosePairing,
            UiCommand::Unpair(_) => K::Unpair,
            UiCommand::Restore(_) => K::Restore,
            UiCommand::SelectTrashed { .. } => K::SelectTrashed,
            UiCommand::EmptyTrash => K::EmptyTrash,
            UiCommand::ConfirmEmptyTrash => K::ConfirmEmptyTrash,
            UiCommand::KeepCopy { .. } => K::KeepCopy,
            UiCommand::KeepPreset(_) => K::KeepPreset,
            UiCommand::TrashOtherCopies => K::TrashOtherCopies,
            UiCommand::LinkOtherCopies => K::LinkOtherCopies,
        }
    }

    /// The label of this command's kind.
    pub fn label(&self) -> &'static str {
        self.kind().label()
    }

    /// The entries of an item's context menu, in order ("Open with" follows them, for files).
    pub fn row_menu(path: &Path) -> [UiCommand; 5] {
        [
            UiCommand::Open(path.to_owned()),
            UiCommand::Reveal(path.to_owned()),
            UiCommand::CopyPath(path.to_owned()),
            UiCommand::Inspect(path.to_owned()),
            UiCommand::AddFavourite(path.to_owned()),
        ]
    }

    /// The file operations of an item's context menu, in order: `path` is the item, `targets`
    /// what the menu acts on (the selection when the item is in it, else the item alone),
    /// `folder` the folder shown (paste and new folder act there). Rename is the in-place
    /// rename of one item, or the batch-rename dialog for several.
    pub fn edit_menu(path: &Path, targets: &[PathBuf], folder: &Path) -> [UiCommand; 8] {
        let t = || targets.to_vec();
        [
            UiCommand::Cut(t()),
            UiCommand::Copy(t()),
            UiCommand::Paste(folder.to_owned()),
            UiCommand::rename(path, targets),
            UiCommand::Duplicate(t()),
            UiCommand::Trash(t()),
            UiCommand::Delete(t()),
            UiCommand::NewFolder(folder.to_owned()),
        ]
    }

    /// Rename for `targets`: several open the batch-rename dialog, else `path` is renamed
    /// in place.
    pub fn rename(path: &Path, targets: &[PathBuf]) -> UiCommand {
        if targets.len() > 1 {
            UiCommand::RenameMany(targets.to_vec())
        } else {
            UiCommand::Rename(path.to_owned())
        }
    }

    /// The entries of a location's context menu; the index modes (from
    /// [`UiCommand::location_modes`]) follow the first one in an "Index mode" submenu.
    pub fn location_menu(id: u32) -> [UiCommand; 2] {
        [UiCommand::RescanLocation(id), UiCommand::RemoveLocation(id)]
    }

    /// The choices of a location's "Index mode" submenu.
    pub fn location_modes(id: u32) -> [UiCommand; 3] {
        [IndexMode::Shallow, IndexMode::Content, IndexMode::Deep]
            .map(|m| UiCommand::SetLocationMode(id, m))
    }

    /// The command a shortcut of `kind` stands for, given the item under the keyboard cursor;
    /// `None` if it has nothing to act on.
    pub fn from_key(
        kind: CommandKind,
        key: &KeyboardShortcut,
        targets: &KeyTargets,
    ) -> Option<UiCommand> {
        use CommandKind as K;
        if targets.device {
            return match kind {
                K::Copy => Some(UiCommand::PeerClip),
                K::Paste => Some(UiCommand::PeerPaste),
                K::Back | K::Forward | K::Up | K::Refresh | K::ToggleHidden | K::EditPath => {
                    Self::from_key(kind, key, &KeyTargets::default())
                }
                K::Find | K::Settings | K::OpenPalette | K::ToggleView => {
                    Self::from_key(kind, key, &KeyTargets::default())
                }
                K::NewTab | K::CloseTab | K::NextTab | K::PrevTab | K::ToggleSplit => {
                    Self::from_key(kind, key, &KeyTargets::default())
                }
                _ => None,
            };
        }
        let focused = targets.focused.clone();
        let selected = || Some(targets.selected.clone()).filter(|s| !s.is_empty());
        Some(match kind {
            K::Back => UiCommand::Back,
            K::Forward => UiCommand::Forward,
            K::Up => UiCommand::Up,
            K::Refresh => UiCommand::Refresh,
            K::ToggleHidden => UiCommand::ToggleHidden,
            K::EditPath => UiCommand::EditPath,
            K::Find => UiCommand::Find,
            K::TogglePreview => UiCommand::TogglePreview,
            K::Open => UiCommand::Open(focused?),
            K::SelectAll => UiCommand::SelectAll,
            K::ToggleView => UiCommand::ToggleView,
            K::Settings => UiCommand::Settings,
            K::MoveCursor => UiCommand::MoveCursor {
                to: match key.logical_key {
                    Key::ArrowDown => CursorMove::Down,
                    Key::ArrowUp => CursorMove::Up,
                    Key::ArrowLeft => CursorMove::Left,
                    Key::ArrowRight => CursorMove::Right,
                    Key::PageDown => CursorMove::PageDown,
                    Key::PageUp => CursorMove::PageUp,
                    Key::Home => CursorMove::First,
                    Key::End => CursorMove::Last,
                    _ => return None,
                },
                extend: key.modifiers.shift,
            },
            K::Copy => UiCommand::Copy(selected()?),
            K::Cut => UiCommand::Cut(selected()?),
            K::Paste => UiCommand::Paste(targets.folder.clone()?),
            // F2: several selected open the batch-rename dialog; else the item under the
            // cursor (or the one selected) is renamed in place.
            K::Rename if targets.selected.len() > 1 => {
                UiCommand::RenameMany(targets.selected.clone())
            }
            K::Rename => {
                UiCommand::Rename(focused.or_else(|| match targets.selected.as_slice() {
                    [one] => Some(one.clone()),
                    _ => None,
                })?)
            }
            K::Trash => UiCommand::Trash(selected()?),
            K::Delete => UiCommand::Delete(selected()?),
            K::TagPopup => UiCommand::TagPopup(selected()?),
            K::OpenPalette => UiCommand::OpenPalette,
            K::Inspect => {
                UiCommand::Inspect(focused.or_else(|| targets.selected.first().cloned())?)
            }
            K::ZoomGrid => UiCommand::ZoomGrid(matches!(key.logical_key, Key::Plus | Key::Equals)),
            K::NewFolder => UiCommand::NewFolder(targets.folder.clone()?),
            K::Undo => UiCommand::Undo,
            K::Redo => UiCommand::Redo,
            K::NewTab => UiCommand::NewTab,
            K::CloseTab => UiCommand::CloseTab(None),
            K::NextTab => UiCommand::CycleTab(true),
            K::PrevTab => UiCommand::CycleTab(false),
            K::ToggleSplit => UiCommand::ToggleSplit,
            _ => return None,
        })
    }
}

impl CommandKind {
    /// Every kind, in the order the key handler tries their shortcuts (a shortcut with more
    /// modifiers before the same key with fewer: egui ignores extra Shift and Alt).
    pub const ALL: [CommandKind; 128] = {
        use CommandKind as K;
        [
            K::Back,
            K::Forward,
            K::Up,
            K::Refresh,
            K::ToggleHidden,
            K::EditPath,
            K::Find,
            K::TogglePreview,
            // Alt+Enter before Enter (egui ignores an extra Alt).
            K::Inspect,
            K::Open,
            K::SelectAll,
            K::ToggleView,
            K::AddLocation,
            K::StopChoosing,
            K::Settings,
            K::MoveCursor,
            K::TypeAhead,
            K::Select,
            K::Reveal,
            K::CopyPath,
            K::AddFavourite,
            K::RemoveFavourite,
            K::ShowTag,
            K::SetTag,
            K::NewTag,
            K::EditTag,
            K::DeleteTag,
            K::ReparentTag,
            K::OpenTagEditor,
            K::ShowMissing,
            K::SelectMissing,
            K::ForgetMissing,
            K::SaveTagEditor,
            K::CloseTagEditor,
            K::MergeTag,
            K::TagPopup,
            K::CloseTagPopup,
            K::ToggleHiddenTags,
            K::OpenPalette,
            K::OpenTerminal,
            K::ZoomGrid,
            K::ClosePalette,
            K::SetMeta,
            K::ShowCollection,
            K::SaveSearch,
            K::RunSaved,
            K::Collect,
            K::FindApps,
            K::OpenWith,
            K::GoTo,
            K::GoToItem,
            K::GoToAddress,
            K::SortBy,
            K::ToggleColumn,
            K::Search,
            K::SearchEverywhere,
            K::SortResults,
            K::OpenLibrary,
            K::NewLibrary,
            K::CreateLibrary,
            K::CloseNewLibrary,
            K::ToggleDupes,
            K::PickLocation,
            K::RescanLocation,
            K::SetLocationMode,
            K::RemoveLocation,
            K::ToggleJobs,
            K::ToggleAllJobs,
            K::FindIn,
            K::SendToDevice,
            K::NewTab,
            K::OpenInNewTab,
            K::CloseTab,
            K::SwitchTab,
            // Ctrl+Shift+Tab before Ctrl+Tab (egui ignores an extra Shift).
            K::PrevTab,
            K::NextTab,
            K::ToggleSplit,
            K::FocusPane,
            K::PauseJob,
            K::ResumeJob,
            K::CancelJob,
            K::Copy,
            K::Cut,
            K::Paste,
            K::Drop,
            K::DropFromDevice,
            K::DropFiles,
            K::Rename,
            K::RenameTo,
            K::CancelRename,
            K::RenameMany,
            K::ConfirmBatchRename,
            K::CancelBatchRename,
            K::Duplicate,
            // Shift+Delete before Delete, Ctrl+Shift+Z before Ctrl+Z.
            K::Delete,
            K::Trash,
            K::NewFolder,
            K::Redo,
            K::Undo,
            K::ConfirmOp,
            K::ResolveConflicts,
            K::CancelOp,
            K::ShowTrash,
            K::ShowDevice,
            K::PeerOpen,
            K::SelectPeerItem,
            K::PeerCopy,
            K::SendNearby,
            K::SendNearbyTo,
            K::CloseSendNearby,
            K::SetReceiving,
            K::AnswerOffer,
            K::PeerReveal,
            K::PeerClip,
            K::PeerPaste,
            K::PairDevice,
            K::PairShowCode,
            K::PairJoin,
            K::ClosePairing,
            K::Unpair,
            K::Restore,
            K::SelectTrashed,
            K::EmptyTrash,
            K::ConfirmEmptyTrash,
            K::KeepCopy,
            K::KeepPreset,
            K::TrashOtherCopies,
            K::LinkOtherCopies,
        ]
    };

    /// Label in sentence case; "…" when it opens a dialog. Where a widget shows its target
    /// instead (a folder, a library, an application, an index mode), this names the action.
    pub fn label(self) -> &'static str {
        use CommandKind as K;
        match self {
            K::Back => "Back",
            K::Forward => "Forward",
            K::Up => "Up",
            K::Refresh => "Refresh",
            K::ToggleHidden => "Show hidden files",
            K::EditPath => "Go to location…",
            K::Find => "Search",
            K::TogglePreview => "Inspector",
            K::Open => "Open",
            K::SelectAll => "Select all",
            K::ToggleView => "Grid view",
            K::AddLocation => "Index this folder",
            K::StopChoosing => "Cancel",
            K::Settings => "Settings…",
            K::MoveCursor => "Move the cursor",
            K::TypeAhead => "Go to the name typed",
            K::Select => "Select",
            K::Reveal => "Reveal in file manager",
            K::CopyPath => "Copy path",
            K::Inspect => "Properties",
            K::AddFavourite => "Add to favourites",
            K::RemoveFavourite => "Remove from favourites",
            K::ShowTag => "Show files with this tag",
            K::SetTag => "Tags",
            K::NewTag => "New tag",
            K::EditTag => "Rename",
            K::DeleteTag => "Delete tag",
            K::ReparentTag => "Put under",
            K::OpenTagEditor => "Edit tag…",
            K::ShowMissing => "Missing",
            K::SelectMissing => "Select",
            K::ForgetMissing => "Forget",
            K::SaveTagEditor => "Save tag",
            K::CloseTagEditor => "Close",
            K::MergeTag => "Merge",
            K::TagPopup => "Tag…",
            K::CloseTagPopup => "Close",
            K::ToggleHiddenTags => "Show the hidden tags",
            K::OpenPalette => "Commands…",
            K::OpenTerminal => "Open terminal here",
            K::ZoomGrid => "Zoom the grid",
            K::ClosePalette => "Close",
            K::SetMeta => "Save note",
            K::ShowCollection => "Show this collection",
            K::SaveSearch => "Save search",
            K::RunSaved => "Run this search",
            K::Collect => "Add to collection",
            K::FindApps | K::OpenWith => "Open with",
            K::GoTo => "Open folder",
            K::GoToItem => "Go there",
            K::GoToAddress => "Go",
            K::SortBy => "Sort by this column",
            K::ToggleColumn => "Show or hide this column",
            K::Search => "Search again",
            K::SearchEverywhere => "Whole library",
            K::SortResults => "Sort the results by this column",
            K::OpenLibrary => "Open library",
            K::NewLibrary => "New library…",
            K::CreateLibrary => "Create",
            K::CloseNewLibrary => "Cancel",
            K::ToggleDupes => "Duplicates",
            K::PickLocation => "Add a folder…",
            K::RescanLocation => "Rescan",
            K::SetLocationMode => "Index mode",
            K::RemoveLocation => "Remove from library",
            // The button reads "Hide jobs" while the drawer is open.
            K::ToggleJobs => "Show jobs",
            // The button reads "Fewer" while every job is shown.
            K::ToggleAllJobs => "All jobs",
            K::FindIn => "Search in",
            K::SendToDevice => "Send to the device's folder",
            K::NewTab => "New tab",
            K::OpenInNewTab => "Open in new tab",
            K::CloseTab => "Close tab",
            K::SwitchTab => "Show tab",
            K::NextTab => "Next tab",
            K::PrevTab => "Previous tab",
            K::ToggleSplit => "Split view",
            K::FocusPane => "Other pane",
            K::PauseJob => "Pause",
            K::ResumeJob => "Resume",
            K::CancelJob => "Cancel",
            K::Copy => "Copy",
            K::Cut => "Cut",
            K::Paste => "Paste",
            K::Drop => "Move or copy here",
            K::DropFromDevice => "Copy here from the device",
            K::DropFiles => "Copy the dropped files here",
            K::Rename => "Rename",
            K::RenameTo => "Rename to the name typed",
            K::CancelRename => "Stop renaming",
            K::RenameMany => "Rename…",
            K::ConfirmBatchRename => "Rename",
            K::CancelBatchRename => "Cancel",
            K::Duplicate => "Duplicate",
            K::Trash => "Move to trash",
            K::Delete => "Delete permanently…",
            K::NewFolder => "New folder",
            K::Undo => "Undo",
            K::Redo => "Redo",
            K::ConfirmOp => "Continue",
            K::ResolveConflicts => "Apply to all",
            K::CancelOp => "Cancel",
            K::ShowTrash => "Trash",
            K::ShowDevice => "Show device",
            K::PeerOpen => "Open",
            K::SelectPeerItem => "Select",
            K::PeerCopy => "Copy to this device",
            K::SendNearby => "Send to a nearby device…",
            K::SendNearbyTo => "Send",
            K::CloseSendNearby => "Cancel",
            K::SetReceiving => "Receive files from nearby devices",
            K::AnswerOffer => "Answer",
            K::PeerReveal => "Show in its folder",
            K::PeerClip => "Copy",
            K::PeerPaste => "Paste here",
            K::PairDevice => "Pair a device…",
            K::PairShowCode => "Show a code",
            K::PairJoin => "Pair",
            K::ClosePairing => "Close",
            K::Unpair => "Unpair",
            K::Restore => "Restore",
            K::SelectTrashed => "Select",
            K::EmptyTrash => "Empty trash…",
            K::ConfirmEmptyTrash => "Empty trash",
            K::KeepCopy => "Keep this copy",
            K::KeepPreset => "Keep",
            K::TrashOtherCopies => "Trash the others",
            K::LinkOtherCopies => "Replace the others with hard links…",
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
        use CommandKind as K;
        match self {
            K::Back => keys!(Modifiers::ALT, Key::ArrowLeft),
            K::Forward => keys!(Modifiers::ALT, Key::ArrowRight),
            K::Up => keys!(Modifiers::ALT, Key::ArrowUp; Modifiers::NONE, Key::Backspace),
            K::Refresh => keys!(Modifiers::NONE, Key::F5),
            K::ToggleHidden => keys!(Modifiers::COMMAND, Key::H),
            K::EditPath => keys!(Modifiers::COMMAND, Key::L),
            K::Find => keys!(Modifiers::COMMAND, Key::F),
            K::TogglePreview => keys!(Modifiers::NONE, Key::Space),
            K::Open => keys!(Modifiers::NONE, Key::Enter),
            K::SelectAll => keys!(Modifiers::COMMAND, Key::A),
            K::ToggleView => keys!(Modifiers::COMMAND, Key::G),
            K::Settings => keys!(Modifiers::COMMAND, Key::Comma),
            // Shift first: a plain arrow's shortcut would also match Shift+arrow.
            K::MoveCursor => keys!(
                Modifiers::SHIFT, Key::ArrowDown;
                Modifiers::SHIFT, Key::ArrowUp;
                Modifiers::SHIFT, Key::ArrowLeft;
                Modifiers::SHIFT, Key::ArrowRight;
                Modifiers::SHIFT, Key::PageDown;
                Modifiers::SHIFT, Key::PageUp;
                Modifiers::SHIFT, Key::Home;
                Modifiers::SHIFT, Key::End;
                Modifiers::NONE, Key::ArrowDown;
                Modifiers::NONE, Key::ArrowUp;
                Modifiers::NONE, Key::ArrowLeft;
                Modifiers::NONE, Key::ArrowRight;
                Modifiers::NONE, Key::PageDown;
                Modifiers::NONE, Key::PageUp;
                Modifiers::NONE, Key::Home;
                Modifiers::NONE, Key::End
            ),
            K::Copy => keys!(Modifiers::COMMAND, Key::C),
            K::Cut => keys!(Modifiers::COMMAND, Key::X),
            K::Paste => keys!(Modifiers::COMMAND, Key::V),
            K::Rename => keys!(Modifiers::NONE, Key::F2),
            K::Delete => keys!(Modifiers::SHIFT, Key::Delete),
            K::Trash => keys!(Modifiers::NONE, Key::Delete),
            K::NewFolder => keys!(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::N),
            K::Redo => keys!(
                Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z;
                Modifiers::COMMAND, Key::Y
            ),
            K::Undo => keys!(Modifiers::COMMAND, Key::Z),
            // T for tag; Alt because plain letters jump to a name (type-ahead).
            K::TagPopup => keys!(Modifiers::ALT, Key::T),
            K::Inspect => keys!(Modifiers::ALT, Key::Enter),
            // Ctrl+= is Ctrl++ without Shift on most layouts.
            K::ZoomGrid => keys!(
                Modifiers::COMMAND, Key::Plus;
                Modifiers::COMMAND, Key::Equals;
                Modifiers::COMMAND, Key::Minus
            ),
            // Shift first (a plain Ctrl+P would match Ctrl+Shift+P too); Ctrl+K as in editors.
            K::NewTab => keys!(Modifiers::COMMAND, Key::T),
            K::CloseTab => keys!(Modifiers::COMMAND, Key::W),
            K::NextTab => keys!(Modifiers::COMMAND, Key::Tab),
            K::PrevTab => keys!(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Tab),
            K::ToggleSplit => keys!(Modifiers::NONE, Key::F3),
            K::OpenPalette => keys!(
                Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::P;
                Modifiers::COMMAND, Key::K
            ),
            _ => &[],
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
        use CommandKind as K;
        matches!(
            self,
            K::Back
                | K::Forward
                | K::Refresh
                | K::EditPath
                | K::Find
                | K::OpenPalette
                | K::NewTab
                | K::CloseTab
                | K::NextTab
                | K::PrevTab
                | K::ToggleSplit
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in CommandKind::ALL {
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
        assert_eq!(CommandKind::Back.shortcut_text().unwrap(), "Alt+Left");
    }

    #[test]
    fn keys_over_a_device_never_act_on_local_items() {
        let device = KeyTargets {
            device: true,
            ..KeyTargets::default()
        };
        let cmd = |k: CommandKind| {
            let s = k.shortcuts().first().expect("a shortcut");
            UiCommand::from_key(k, s, &device)
        };
        for k in [
            CommandKind::Trash,
            CommandKind::Delete,
            CommandKind::Rename,
            CommandKind::Cut,
            CommandKind::SelectAll,
            CommandKind::NewFolder,
            CommandKind::Open,
            CommandKind::Undo,
        ] {
            assert_eq!(cmd(k), None, "{k:?}");
        }
        assert_eq!(cmd(CommandKind::Copy), Some(UiCommand::PeerClip));
        assert_eq!(cmd(CommandKind::Paste), Some(UiCommand::PeerPaste));
        assert_eq!(cmd(CommandKind::Up), Some(UiCommand::Up));
        assert_eq!(cmd(CommandKind::EditPath), Some(UiCommand::EditPath));
    }

    #[test]
    fn every_shortcut_stands_for_a_command() {
        let targets = KeyTargets {
            folder: Some(PathBuf::from("/f")),
            focused: Some(PathBuf::from("/f/a")),
            selected: vec![PathBuf::from("/f/a")],
            device: false,
        };
        for k in CommandKind::ALL {
            for s in k.shortcuts() {
                let c = UiCommand::from_key(k, s, &targets).expect("a command");
                assert_eq!(c.kind(), k);
            }
        }
        let down = KeyboardShortcut::new(Modifiers::SHIFT, Key::ArrowDown);
        assert_eq!(
            UiCommand::from_key(CommandKind::MoveCursor, &down, &KeyTargets::default()),
            Some(UiCommand::MoveCursor {
                to: CursorMove::Down,
                extend: true
            })
        );
        // Enter with nothing under the cursor does nothing.
        let enter = CommandKind::Open.shortcuts()[0];
        assert_eq!(
            UiCommand::from_key(CommandKind::Open, &enter, &KeyTargets::default()),
            None
        );
        // Del with nothing selected does nothing; F2 renames the item under the cursor.
        let del = CommandKind::Trash.shortcuts()[0];
        assert_eq!(
            UiCommand::from_key(CommandKind::Trash, &del, &KeyTargets::default()),
            None
        );
        let f2 = CommandKind::Rename.shortcuts()[0];
        assert_eq!(
            UiCommand::from_key(CommandKind::Rename, &f2, &targets),
            Some(UiCommand::Rename(PathBuf::from("/f/a")))
        );
        // F2 with several selected opens the batch-rename dialog on them.
        let many = KeyTargets {
            selected: vec![PathBuf::from("/f/a"), PathBuf::from("/f/b")],
            ..targets.clone()
        };
        assert_eq!(
            UiCommand::from_key(CommandKind::Rename, &f2, &many),
            Some(UiCommand::RenameMany(many.selected.clone()))
        );
        let menu = UiCommand::edit_menu(Path::new("/f/a"), &many.selected, Path::new("/f"));
        assert_eq!(menu[3].label(), "Rename…");
        let menu = UiCommand::edit_menu(Path::new("/f/a"), &targets.selected, Path::new("/f"));
        assert_eq!(menu[3], UiCommand::Rename(PathBuf::from("/f/a")));
        assert_eq!(CommandKind::Redo.shortcut_text().unwrap(), "Ctrl+Shift+Z");
    }

    #[test]
    fn every_context_menu_entry_and_sidebar_action_is_a_labelled_command() {
        let p = PathBuf::from("/f/a");
        let row = UiCommand::row_menu(&p);
        assert_eq!(
            row.each_ref().map(UiCommand::label),
            [
                "Open",
                "Reveal in file manager",
                "Copy path",
                "Properties",
                "Add to favourites"
            ]
        );
        let sidebar = [
            UiCommand::OpenLibrary(Uuid::nil()),
            UiCommand::NewLibrary,
            UiCommand::ToggleDupes,
            UiCommand::GoTo(p.clone()),
            UiCommand::AddLocation,
            UiCommand::PickLocation,
            UiCommand::RemoveFavourite(p.clone()),
            UiCommand::FindApps(p.clone()),
        ];
        let menus = row
            .into_iter()
            .chain(UiCommand::location_menu(1))
            .chain(UiCommand::location_modes(1))
            .chain(sidebar);
        for c in menus {
            assert!(!c.label().is_empty(), "{c:?}");
            assert!(CommandKind::ALL.contains(&c.kind()), "{c:?}");
        }
        assert_eq!(
            UiCommand::location_menu(1).each_ref().map(UiCommand::label),
            ["Rescan", "Remove from library"]
        );
        assert_eq!(CommandKind::SetLocationMode.label(), "Index mode");
    }
}
