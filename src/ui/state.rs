//! What the window shows, and the two ways it changes: [`AppState::apply`] takes an
//! [`Update`] from the core, [`AppState::run`] carries out a user's [`UiCommand`]. Both return
//! the [`Command`]s to send to the core; neither draws, so both are unit-tested without egui.

use crate::ui::peers::{Listing, PeerCommand, PeerUpdate};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use eframe::egui;

use crate::ui::bridge::{Command, LocationView, OpReport, Trashed, Update, Volume};
use crate::ui::commands::{SelectHow, UiCommand};
use crate::ui::explorer::{Explorer, Scroll, ViewMode, Visit, move_target};
use crate::ui::search::SearchFilters;
use crate::vdfs::actions::{OnConflict, OpKind, Preview, Request};
use crate::vdfs::fs::entry::{EntryKind, os_bytes};
use crate::vdfs::index::location::IndexMode;
use crate::vdfs::jobs::{Job as _, JobId, JobProgress, JobRecord, JobStatus};
use crate::vdfs::query::browse::Source;
use crate::vdfs::query::dupes::{Group, Keep, Reclaim};
use crate::vdfs::sdpath::SdPath;
use crate::vdfs::{Event, LibraryConfig, LibrarySummary};

/// What the tag editor holds: a tag's fields as typed, saved together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEditor {
    /// The tag edited.
    pub id: uuid::Uuid,
    /// Its fields as typed.
    pub edit: crate::vdfs::library::TagEdit,
    /// Its aliases as typed, separated by commas.
    pub aliases: String,
    /// The tag chosen to merge it into, if any.
    pub merge_into: Option<uuid::Uuid>,
}

/// The smallest and largest grid picture, in points (the zoom slider's range).
pub const GRID_ZOOM: (f32, f32) = (48.0, 256.0);

/// The command palette: the text typed and the entry chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Palette {
    /// The text typed.
    pub text: String,
    /// The entry chosen with Up and Down (an index in those shown).
    pub chosen: usize,
}

/// The tag popup: the items it tags and the name typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPopup {
    /// The items, exact paths.
    pub paths: Vec<PathBuf>,
    /// The name typed.
    pub text: String,
    /// The completion chosen with Up and Down (an index in those shown).
    pub chosen: usize,
}

/// Everything the window shows; changed only by updates from the core and by pure UI
/// interaction (text being typed, panels toggled).
#[derive(Debug, Default)]
pub struct AppState {
    /// This device's name.
    pub device_name: String,
    /// The data folder, shown in the status bar.
    pub data_dir: PathBuf,
    /// The open library and its folder, or why it could not be opened.
    pub library: Option<Result<(LibraryConfig, PathBuf), String>>,
    /// Libraries in the data folder.
    pub libraries: Vec<LibrarySummary>,
    /// The open library's jobs, newest first.
    pub jobs: Vec<JobRecord>,
    /// Live progress newer than `jobs`.
    pub live: std::collections::HashMap<JobId, JobProgress>,
    /// The open library's locations.
    pub locations: Vec<LocationView>,
    /// The mounted volumes, in mount order (the sidebar shows a person's drives among them).
    pub volumes: Vec<Volume>,
    /// The favourites, each with whether it is a folder.
    pub favourites: Vec<(PathBuf, bool)>,
    /// The library's tags, sorted by name.
    pub tags: Vec<crate::vdfs::library::TagInfo>,
    /// The library's collections, sorted by name.
    pub collections: Vec<crate::vdfs::library::CollectionInfo>,
    /// The library's saved searches.
    pub saved_searches: Vec<crate::vdfs::library::SavedSearch>,
    /// Which tags each entry and content carries (by UUID).
    pub tag_map: crate::vdfs::library::TagMap,
    /// The label colour of each entry and content that has one (by UUID).
    pub label_map: crate::vdfs::library::LabelMap,
    /// The name typed for a new tag in a context menu.
    pub new_tag_text: String,
    /// The tag editor, while it is open.
    pub tag_editor: Option<TagEditor>,
    /// Hidden tags are shown (in the sidebar and on files) because the person asked.
    pub show_hidden_tags: bool,
    /// The command palette, while it is open.
    pub palette: Option<Palette>,
    /// The tag popup (Alt+T), while it is open.
    pub tag_popup: Option<TagPopup>,
    /// Tags changed while a search by tag was shown: it is run again when they are read.
    pub tags_rerun: bool,
    /// The note and rating of the item inspected, with its path.
    pub meta: Option<(PathBuf, crate::vdfs::library::MetaOf)>,
    /// The note being written in the inspector, with the path it is for.
    pub note_draft: Option<(PathBuf, String)>,
    /// Taggings made in this window since its last file operation: Ctrl+Z undoes them first,
    /// newest first (then file operations).
    pub tag_undos: u32,
    /// The applications that open a file (for "Open with").
    pub apps: Option<(PathBuf, Vec<crate::vdfs::platform::open_with::App>)>,
    /// An item to select once the listing shows it (after "go to this copy"), by its exact
    /// path.
    pub reveal: Option<PathBuf>,
    /// The Duplicates view is shown instead of the folder.
    pub show_dupes: bool,
    /// The search box's text; when not empty, results replace the folder view.
    pub search_text: String,
    /// Search the whole library instead of the folder shown and below.
    pub search_everywhere: bool,
    /// Tag of the search in flight.
    pub search_ticket: u64,
    /// The search's filter chips.
    pub search_filters: SearchFilters,
    /// The search shown should be run again (the name index changed under it).
    pub search_again: bool,
    /// Order of the search results (a click on a column header).
    pub search_sort: crate::vdfs::query::search::Sort,
    /// Reverse that order.
    pub search_reverse: bool,
    /// Results of the last search: the best hits, the number of all matches and how many of
    /// them match only fuzzily.
    pub found: Option<(Vec<crate::vdfs::query::search::Hit>, usize, usize)>,
    /// The duplicate groups, once computed.
    pub dupes: Option<Vec<crate::vdfs::query::dupes::Group>>,
    /// The rule the copies to keep were last marked by in the Duplicates view (newest by
    /// default); new groups are marked by it.
    pub dupes_preset: Keep,
    /// The copies of the duplicate groups marked to keep (exact paths); "Trash the others"
    /// trashes the rest.
    pub dupes_keep: std::collections::BTreeSet<PathBuf>,
    /// The folder typed in the Duplicates view for the "keep the copy in this folder" rule.
    pub dupes_folder: String,
    /// "Trash the others" was sent: waiting for its end (the button is disabled).
    pub dupes_trashing: bool,
    /// The folder view.
    pub explorer: Explorer,
    /// Free and total bytes of the shown folder's volume.
    pub space: Option<(u64, u64)>,
    /// The last error to show, with when it arrived.
    pub error: Option<(String, Instant)>,
    /// The file the last error could not open, offered to "Open with…" beside the error.
    pub open_with_offer: Option<PathBuf>,
    /// Text of the "New library" dialog, when it is open.
    pub new_library: Option<String>,
    /// Whether the jobs drawer is shown.
    pub jobs_open: bool,
    /// The person is choosing a folder to index in the window (no picker of the system is
    /// available): the folder view says so, with a button that indexes the folder shown.
    pub choosing_location: bool,
    /// Whether the drawer lists every job (else what runs, or the newest one when nothing
    /// does, on a single line).
    pub jobs_all: bool,
    /// Whether the settings window is open.
    pub settings_open: bool,
    /// The folder to show first.
    pub start_folder: Option<PathBuf>,
    /// The person's home folder ("Home" in the sidebar).
    pub home: Option<PathBuf>,
    /// The folder last sent to be remembered for the next run.
    pub remembered: Option<PathBuf>,
    /// Thumbnails received, by path; `None` = cannot be previewed.
    pub thumbs: std::collections::HashMap<PathBuf, Option<Arc<egui::ColorImage>>>,
    /// Thumbnails asked for and not yet received.
    pub thumbs_pending: std::collections::HashSet<PathBuf>,
    /// Images' pixel sizes read for the list's Dimensions column (`None`: not readable).
    pub dims: std::collections::HashMap<PathBuf, Option<(u32, u32)>>,
    /// Images whose pixel sizes were asked for and have not come yet.
    pub dims_pending: std::collections::HashSet<PathBuf>,
    /// Size of a grid cell's picture, in points (the zoom slider).
    pub grid_zoom: f32,
    /// The view new folders open in.
    pub default_view: ViewMode,
    /// Per running job: when its current phase was first seen and with which count and
    /// bytes, for the rate and the time left.
    pub job_rates: std::collections::HashMap<JobId, (String, Instant, u64, u64)>,
    /// Focus the search box on the next frame.
    pub focus_search: bool,
    /// The path the inspector's details were last asked for.
    pub inspected: Option<PathBuf>,
    /// The file whose "Open with" applications were asked for.
    pub requested_apps: Option<PathBuf>,
    /// Thumbnails asked for by the views this frame, to send after it is drawn.
    pub fetches: Vec<Command>,
    /// The ticket of the last search the person asked for (not a re-run after the library
    /// changed): its results open at the top.
    pub fresh_search: u64,
    /// The results view opens at the top on its next frame (new results of a new query).
    pub results_top: bool,
    /// The duplicates view opens at the top on its next frame.
    pub dupes_top: bool,
    /// The window's clipboard of files: exact paths, and whether a paste moves them.
    pub clipboard: Option<Clip>,
    /// Files from or to a nearby device under way (one at a time). Copies with a paired
    /// device are jobs, in the jobs drawer.
    pub transfer: Option<Transfer>,
    /// Copies with paired devices (jobs of kind `transfer`) queued since the window opened:
    /// their end is told in a toast.
    pub transfer_jobs: std::collections::HashSet<crate::vdfs::jobs::JobId>,
    /// Offers of files from nearby devices waiting for an answer, oldest first, with when
    /// each came.
    pub offers: Vec<(u64, crate::net::nearby::Offer, Instant)>,
    /// Files from nearby devices are taken (asked about) into this folder, at this address
    /// (`ID@IP:PORT`); `None`: off.
    pub receiving: Option<(PathBuf, String)>,
    /// Where files from nearby devices go; `None`: the Downloads folder.
    pub drop_folder: Option<PathBuf>,
    /// The "Send to a nearby device" dialog, when open.
    pub send_dialog: Option<SendDialog>,
    /// Whether each paired device answered when last asked (`Err`: why not); a device not
    /// asked yet is absent.
    pub reach: std::collections::HashMap<uuid::Uuid, Result<(), String>>,
    /// The item being renamed in place.
    pub renaming: Option<Renaming>,
    /// The batch-rename dialog, when it is open.
    pub batch_rename: Option<crate::ui::batch_rename::BatchRename>,
    /// A folder just made, to rename in place once the listing shows it.
    pub rename_when_listed: Option<PathBuf>,
    /// The operation dialog, when one is open.
    pub dialog: Option<OpDialog>,
    /// The line the last file operation left in the status bar.
    pub toast: Option<Toast>,
    /// Files and bytes of each file operation job started from this window (the jobs
    /// drawer's time left).
    pub op_totals: std::collections::HashMap<JobId, (u64, u64)>,
    /// The trash is shown instead of the folder.
    pub show_trash: bool,
    /// The devices this one is paired with (the sidebar's DEVICES).
    pub devices: Vec<crate::net::peers::PairedDevice>,
    /// The pairing dialog, while open.
    pub pairing: Option<PairingDialog>,
    /// A paired device shown instead of the folder.
    pub peer: Option<PeerView>,
    /// The last ticket of a device listing.
    pub peer_ticket: u64,
    /// The missing items are shown instead of a folder.
    pub show_missing: bool,
    /// The missing items, once read.
    pub missing: Option<Vec<crate::vdfs::library::MissingItem>>,
    /// The missing items selected, by entry UUID.
    pub missing_selected: std::collections::HashSet<uuid::Uuid>,
    /// The trash's items, newest first, once listed.
    pub trash: Option<Vec<Trashed>>,
    /// The trash items selected (by their path in the trash).
    pub trash_selected: std::collections::BTreeSet<PathBuf>,
    /// What is shown changed on disk (the live index, or a view's watch, said so): listed
    /// again at most every [`LIVE_GAP`] ([`AppState::live_refresh`]).
    pub relist_later: Later,
    /// The live index changed a location: its totals (the sidebar's counts) are read again at
    /// most every [`LOCATIONS_GAP`] ([`AppState::locations_refresh`]).
    pub locations_later: Later,
    /// What the search field does (filter, search below, search the library).
    pub find_mode: crate::ui::search::FindMode,
    /// The open tabs (none until a second is opened: one tab with the pane acted on).
    pub tabs: Vec<crate::ui::tabs::Tab>,
    /// The active tab.
    pub tab: usize,
    /// The serial number of the pane acted on (see [`crate::ui::tabs::Pane::serial`]).
    pub pane: u32,
    /// How many panes were made (the last serial number given).
    pub panes_made: u32,
}

/// Work asked for by changes that come in bursts, done at most once per gap: the last request
/// of a burst is never lost, it waits for the gap's end.
#[derive(Debug, Default, Clone, Copy)]
pub struct Later {
    asked: bool,
    last: Option<Instant>,
}

impl Later {
    /// Asks for the work (again).
    pub fn ask(&mut self) {
        self.asked = true;
    }

    /// True while the work is asked for and not done.
    pub fn is_asked(&self) -> bool {
        self.asked
    }

    /// `Ok(true)` if the work is due at `now` (it then counts as done), `Ok(false)` if
    /// nothing is asked, `Err(wait)` if it must wait `wait` for the gap's end.
    pub fn take(
        &mut self,
        now: Instant,
        gap: std::time::Duration,
    ) -> Result<bool, std::time::Duration> {
        if !self.asked {
            return Ok(false);
        }
        if let Some(last) = self.last
            && now < last + gap
        {
            return Err(last + gap - now);
        }
        self.asked = false;
        self.last = Some(now);
        Ok(true)
    }
}

#[cfg(test)]
mod later_tests {
    use super::Later;
    use std::time::{Duration, Instant};

    #[test]
    fn a_burst_is_done_once_now_and_once_after_the_gap() {
        let gap = Duration::from_millis(250);
        let t0 = Instant::now();
        let mut l = Later::default();
        assert_eq!(l.take(t0, gap), Ok(false), "nothing asked");
        l.ask();
        assert_eq!(l.take(t0, gap), Ok(true));
        // Asked twice more within the gap: it waits for the gap's end, then is done once.
        l.ask();
        l.ask();
        assert_eq!(
            l.take(t0 + Duration::from_millis(100), gap),
            Err(Duration::from_millis(150))
        );
        assert!(l.is_asked());
        assert_eq!(l.take(t0 + gap, gap), Ok(true));
        assert_eq!(l.take(t0 + gap * 3, gap), Ok(false));
    }
}

/// Why a second copy between devices waits.
const BUSY: &str = "A copy between devices is under way; wait for it to end";

/// The shortest time between two readings of the locations' totals for live changes.
pub const LOCATIONS_GAP: std::time::Duration = std::time::Duration::from_secs(1);

/// The shortest time between two listings of what is shown for live changes (a flood of
/// changes — an archive being extracted — lists it a few times a second, not on every batch).
pub const LIVE_GAP: std::time::Duration = std::time::Duration::from_millis(250);

/// The window's clipboard of files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    /// The items, exact paths (on `device` when it is set).
    pub paths: Vec<PathBuf>,
    /// A paste moves them (Ctrl+X) instead of copying them (Ctrl+C).
    pub cut: bool,
    /// The paired device the items are on (id, name); `None`: this one.
    pub device: Option<(uuid::Uuid, String)>,
}

/// The "Send to a nearby device" dialog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendDialog {
    /// The items to send.
    pub paths: Vec<PathBuf>,
    /// The devices found receiving on this network (`ID@IP:PORT`, name), or why none could
    /// be looked for; `None` while looking.
    pub found: Option<Result<Vec<(String, String)>, String>>,
    /// An address typed by hand.
    pub address: String,
    /// The address field was given the keyboard (once, when the dialog opened).
    pub focused: bool,
}

/// A copy to or from a paired device under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// What it does, e.g. "Copying from desk".
    pub title: String,
    /// Bytes written at the destination so far.
    pub done: u64,
    /// Bytes in all (0 until known).
    pub total: u64,
    /// Files coming here from a nearby device (else a copy this window started).
    pub incoming: bool,
}

/// An item being renamed in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renaming {
    /// The item.
    pub path: PathBuf,
    /// The name as typed so far.
    pub text: String,
    /// Select the name without its extension on the next frame (the field just opened).
    pub select_stem: bool,
    /// Why the last name typed was refused.
    pub error: Option<String>,
    /// The name was sent; waiting for the answer.
    pub pending: bool,
}

/// The operation dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum OpDialog {
    /// A preview to look at before it goes ahead: conflicts, warnings, refusals, or a
    /// permanent delete.
    Preview {
        /// What was asked.
        request: Box<Request>,
        /// What would happen.
        preview: Box<Preview>,
    },
    /// Emptying the trash, to confirm.
    EmptyTrash {
        /// Items in the trash.
        items: usize,
    },
}

/// What the last file operation did, shown in the status bar for a while.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    /// What happened.
    pub text: String,
    /// When.
    pub at: Instant,
    /// Offer "Undo".
    pub undo: bool,
    /// It went wrong (partly).
    pub failed: bool,
}

impl Toast {
    fn new(text: String, undo: bool, failed: bool) -> Toast {
        Toast {
            text,
            at: Instant::now(),
            undo,
            failed,
        }
    }
}

/// The name new folders get (then "New Folder (2)" …).
pub const NEW_FOLDER_NAME: &str = "New Folder";

/// How many characters of `name` to select when it is renamed: all of a folder's, a file's
/// up to its last dot (not a leading one).
pub fn stem_chars(name: &str, kind: EntryKind) -> usize {
    let all = name.chars().count();
    if kind == EntryKind::Dir {
        return all;
    }
    match name.rfind('.') {
        Some(i) if i > 0 => name[..i].chars().count(),
        _ => all,
    }
}

impl PeerView {
    /// The items shown: all, or (`show_hidden` off) those whose name does not start with a
    /// dot, as the local folders do.
    pub fn visible(
        &self,
        show_hidden: bool,
    ) -> impl Iterator<Item = &crate::net::browse::RemoteItem> {
        self.items
            .iter()
            .filter(move |i| show_hidden || !i.name.starts_with(b"."))
    }
}

/// The pairing dialog: a code shown here, or a code typed from another device.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PairingDialog {
    /// The code shown here and this device's address, once asked for.
    pub shown: Option<(crate::net::PairingState, String)>,
    /// The code typed (from the other device).
    pub code: String,
    /// The other device's address, as it shows it (`ID@IP:PORT`).
    pub host: String,
    /// A join is under way.
    pub joining: bool,
    /// How the last join ended.
    pub outcome: Option<Result<String, String>>,
}

/// Where files dropped from another application go (see `AppState::drop_place`).
enum DropPlace<'a> {
    /// Into this folder (exact bytes) of the device shown.
    Device(&'a PeerView, &'a Vec<u8>),
    /// Into this local folder.
    Folder(&'a PathBuf),
}

/// A paired device shown in the window: its locations, or a folder of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerView {
    /// The device.
    pub device: crate::net::peers::PairedDevice,
    /// The folder shown (exact bytes); `None`: its locations.
    pub path: Option<Vec<u8>>,
    /// The listing's ticket.
    pub ticket: u64,
    /// The first ticket of this view (its locations' listing).
    pub since: u64,
    /// Its locations (when `path` is `None`).
    pub locations: Vec<crate::net::browse::RemoteLocation>,
    /// The folder's items, as they came.
    pub items: Vec<crate::net::browse::RemoteItem>,
    /// Still listing.
    pub loading: bool,
    /// Why it could not be listed.
    pub error: Option<String>,
    /// Selected item names.
    pub selected: std::collections::BTreeSet<Vec<u8>>,
    /// The local folder shown before the device (where "Copy to this device" puts items).
    pub dest: Option<PathBuf>,
    /// The device's search results while the search box has text.
    pub found: Option<PeerFound>,
}

/// A search on a paired device, as it comes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerFound {
    /// The search's ticket.
    pub ticket: u64,
    /// The hits so far, best first.
    pub hits: Vec<crate::net::browse::RemoteHit>,
    /// All that match, once the device said.
    pub total: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// What carrying out a [`UiCommand`] asks of the world outside the state.
#[derive(Debug, Default, PartialEq)]
pub struct Outbox {
    /// Commands for the core, in order.
    pub commands: Vec<Command>,
    /// Text to put on the clipboard.
    pub clipboard: Option<String>,
}

impl AppState {
    /// The state before the first update.
    pub fn new(
        device_name: String,
        data_dir: PathBuf,
        library: Result<(LibraryConfig, PathBuf), String>,
    ) -> AppState {
        AppState {
            device_name,
            data_dir,
            library: Some(library),
            jobs_open: true,
            grid_zoom: 96.0,
            default_view: ViewMode::List,
            start_folder: crate::ui::home_folder(),
            home: crate::ui::home_folder(),
            explorer: Explorer {
                hidden_columns: crate::ui::explorer::SortKey::hidden_by_default(),
                ..Explorer::default()
            },
            ..AppState::default()
        }
    }

    /// True while search results replace the folder view: there is text in the search box
    /// or a filter chip is set.
    pub fn searching(&self) -> bool {
        !self.search_text.trim().is_empty() || !self.search_filters.is_empty()
    }

    /// Applies one update from the core. Returns a command to send, if the update calls for
    /// one.
    pub fn apply(&mut self, update: Update) -> Option<Command> {
        // An answer for a pane not acted on (a tab in the background, the other side of the
        // split view) is applied to that pane.
        if let Some(slot) = self.route(&update) {
            let r = self.with_parked(slot, |s| s.apply(update));
            // Where the window reopens is the pane acted on's folder.
            return r.filter(|c| !matches!(c, Command::RememberFolder(_)));
        }
        match update {
            Update::Libraries(list) => self.libraries = list,
            Update::Library(r) => {
                if r.is_ok() {
                    self.jobs.clear();
                    self.live.clear();
                    self.locations.clear();
                }
                self.library = Some(r);
                self.each_parked(|s| s.relist_later.ask());
                return self.relist();
            }
            Update::Jobs(mut jobs) => {
                jobs.reverse();
                for j in &jobs {
                    if j.status != JobStatus::Running {
                        self.live.remove(&j.id);
                    }
                }
                self.jobs = jobs;
            }
            Update::Locations(l) => {
                self.locations = l;
                // A folder listed from the disk (or found changed since its scan) that an index
                // finished covering after it was listed is listed again, from the new index.
                let e = &self.explorer;
                let stale = e.source == Some(Source::Disk) || e.changed_on_disk;
                let rescanned = !e.loading
                    && e.folder.as_ref().is_some_and(|f| {
                        self.locations.iter().any(|l| {
                            !l.indexing
                                && l.record.indexed_ms.is_some_and(|t| t > e.listed_ms)
                                && f.starts_with(l.record.path())
                        })
                    });
                if rescanned && stale {
                    return self.relist();
                }
                // A rescan (or the live index's catch-up) may have changed what the index
                // shows: the rows are swapped in place once listed again.
                if rescanned
                    && !self.searching()
                    && !self.show_dupes
                    && !self.show_trash
                    && !self.show_missing
                {
                    self.explorer.listed_ms = crate::vdfs::jobs::now_ms();
                    self.relist_later.ask();
                }
            }
            Update::Volumes(v) => self.volumes = v,
            Update::Favourites(f) => self.favourites = f,
            Update::Tags {
                tags,
                collections,
                saved,
                map,
                labels,
            } => {
                self.label_map = labels;
                self.tags = tags;
                self.collections = collections;
                self.saved_searches = saved;
                if let Some(c) = self.search_filters.collection
                    && !self.collections.iter().any(|x| x.id == c)
                {
                    self.search_filters.collection = None;
                }
                self.tag_map = map;
                // A tag filter whose tag is gone filters nothing any more.
                if let Some(t) = self.search_filters.tag
                    && !self.tags.iter().any(|x| x.id == t)
                {
                    self.search_filters.tag = None;
                }
                if std::mem::take(&mut self.tags_rerun) && self.searching() {
                    return Some(self.rerun_search());
                }
                // What is missing changes with the marks (a file tagged, a mark forgotten).
                if self.show_missing {
                    return Some(Command::ListMissing);
                }
            }
            Update::Apps { path, apps } => self.apps = Some((path, apps)),
            Update::Dupes(g) => self.set_dupes(g),
            Update::Found {
                ticket,
                hits,
                total,
                fuzzy,
            } => {
                if ticket == self.search_ticket {
                    self.found = Some((hits, total, fuzzy));
                    self.results_top |= ticket == self.fresh_search;
                }
            }
            Update::NamesUpdated => self.search_again = self.searching(),
            Update::Reveal(path) => return self.reveal(path),
            Update::Chunk { ticket, items } => {
                self.explorer.add_chunk(ticket, items);
            }
            Update::Replace {
                ticket,
                items,
                changed,
            } => {
                self.explorer.replace(ticket, items, changed);
            }
            Update::Created { ticket, times } => self.explorer.set_created(ticket, &times),
            Update::ListingDone {
                ticket,
                result,
                space,
            } => {
                if ticket == self.explorer.ticket {
                    self.explorer.listing_done();
                    self.space = space;
                    match result {
                        Ok(s) => {
                            self.explorer.source = Some(s);
                            // The next run opens where this one was left.
                            if self.explorer.folder != self.remembered {
                                self.remembered.clone_from(&self.explorer.folder);
                                return self.remembered.clone().map(Command::RememberFolder);
                            }
                        }
                        Err(e) => self.explorer.error = Some(e),
                    }
                }
            }
            Update::Meta { path, meta } => {
                if self.note_draft.as_ref().is_some_and(|(p, _)| p != &path) {
                    self.note_draft = None;
                }
                self.meta = Some((path, meta));
            }
            Update::Details(d) => {
                if self
                    .explorer
                    .focused()
                    .and_then(|i| self.explorer.path_of(i))
                    .as_deref()
                    == Some(d.path.as_path())
                    || self.explorer.folder.as_deref() == Some(d.path.as_path())
                {
                    self.explorer.details = Some(d);
                }
            }
            Update::Previewed { request, preview } => {
                if request.kind == OpKind::Rename {
                    self.renaming = None;
                }
                if request.kind == OpKind::BatchRename {
                    self.batch_rename = None;
                }
                self.dialog = Some(OpDialog::Preview { request, preview });
            }
            Update::OpStarted(r) => return self.op_started(r),
            Update::OpFinished(r) => {
                self.op_totals.remove(&r.job.unwrap_or_default());
                // Undo is offered for what can be undone (an undo's own line offers no
                // "Undo": it would undo the operation before).
                let offer = !r.undo && r.kind != OpKind::Delete;
                self.toast = Some(Toast::new(r.text, offer, r.failed));
                return self.after_op(None);
            }
            Update::OpFailed { kind, path, error } => {
                self.dupes_trashing = false;
                if kind == Some(OpKind::BatchRename)
                    && let Some(b) = &mut self.batch_rename
                {
                    // Said in the dialog, which stays open.
                    b.refused = Some(error);
                    b.pending = false;
                    return None;
                }
                match &mut self.renaming {
                    Some(edit)
                        if kind == Some(OpKind::Rename) && path.as_ref() == Some(&edit.path) =>
                    {
                        // Said beside the name, which has the keyboard again.
                        edit.error = Some(error);
                        edit.pending = false;
                        edit.select_stem = true;
                    }
                    _ => self.error = Some((error, Instant::now())),
                }
            }
            Update::Missing(items) => {
                self.missing_selected
                    .retain(|u| items.iter().any(|i| i.entry == *u));
                self.missing = Some(items);
            }
            Update::Trash(items) => {
                self.trash_selected
                    .retain(|p| items.iter().any(|i| &i.path() == p));
                self.trash = Some(items);
            }
            Update::Dimensions(dims) => {
                if self.dims.len() > 20_000 {
                    self.dims.clear();
                }
                for (path, d) in dims {
                    self.dims_pending.remove(&path);
                    self.dims.insert(path, d);
                }
            }
            Update::Thumbnail { path, image } => {
                self.thumbs_pending.remove(&path);
                if self.thumbs.len() > 2000 {
                    self.thumbs.clear();
                }
                self.thumbs.insert(path, image);
            }
            Update::Said(text) => self.toast = Some(Toast::new(text, false, false)),
            Update::Peer(u) => self.apply_peer(u),
            Update::Error(e) => {
                self.error = Some((e, Instant::now()));
                self.open_with_offer = None;
            }
            Update::ChooseInWindow => self.choosing_location = true,
            Update::OpenFailed(e) => {
                use crate::vdfs::platform::OpenError;
                // A file that has no application set (or would not open) can still be opened
                // with one chosen by hand.
                let path = e.path().to_owned();
                let file = self
                    .explorer
                    .item_at(&path)
                    .is_some_and(|i| i.kind == EntryKind::File);
                let offer = file
                    && matches!(
                        e,
                        OpenError::NoApplication { .. } | OpenError::Failed { .. }
                    );
                self.open_with_offer = offer.then_some(path);
                self.error = Some((e.to_string(), Instant::now()));
            }
            Update::Event(e) => match e {
                Event::JobProgress { job, progress } => {
                    let start = || {
                        (
                            progress.phase.clone(),
                            Instant::now(),
                            progress.completed,
                            progress.bytes,
                        )
                    };
                    let entry = self.job_rates.entry(job).or_insert_with(start);
                    if entry.0 != progress.phase {
                        *entry = start();
                    }
                    self.live.insert(job, progress);
                }
                Event::JobStatusChanged { job, status } => {
                    if let Some(j) = self.jobs.iter_mut().find(|j| j.id == job) {
                        j.status = status;
                    }
                }
                Event::JobFinished {
                    job,
                    status,
                    outcome,
                } => {
                    // A copy with a device says how it ended, or why it paused (a device that
                    // stopped answering) and how to go on; a pause asked for says nothing.
                    if self.transfer_jobs.contains(&job)
                        && let Some(text) = outcome.clone()
                        && matches!(
                            status,
                            JobStatus::Completed | JobStatus::Failed | JobStatus::Paused
                        )
                    {
                        let ok = status == JobStatus::Completed;
                        self.toast = Some(Toast::new(text, false, !ok));
                    }
                    if status.is_terminal() {
                        self.transfer_jobs.remove(&job);
                    }
                    // The row shows the end at once (no rate, no time left), before the
                    // refreshed list arrives.
                    if let Some(j) = self.jobs.iter_mut().find(|j| j.id == job) {
                        j.status = status;
                        if outcome.is_some() {
                            j.outcome = outcome;
                        }
                    }
                    self.live.remove(&job);
                    self.job_rates.remove(&job);
                    // An index just finished: the folder shown may now come from the index.
                    return Some(Command::Refresh);
                }
                Event::JobQueued { job, kind, .. } => {
                    if kind == crate::net::job::TransferJob::KIND {
                        self.transfer_jobs.insert(job);
                    }
                    return Some(Command::Refresh);
                }
                Event::LibrariesChanged => return Some(Command::Refresh),
                Event::IndexChanged { folders, .. } => {
                    self.locations_later.ask();
                    let notice = |s: &mut AppState| {
                        // The folder shown lists a changed folder or holds one below it (its
                        // folder sizes); results and duplicates may change with any change.
                        let shown = s.explorer.folder.as_deref();
                        let concerns = s.searching()
                            || s.show_dupes
                            || shown.is_some_and(|f| folders.iter().any(|c| c.starts_with(f)));
                        if concerns && !s.show_trash {
                            s.relist_later.ask();
                        }
                    };
                    notice(self);
                    self.each_parked(notice);
                }
                Event::FolderChanged { folder } => {
                    let notice = |s: &mut AppState| {
                        let shown = s.explorer.folder.as_deref();
                        if shown.is_some_and(|f| f.starts_with(&folder)) && !s.show_trash {
                            s.relist_later.ask();
                        }
                    };
                    notice(self);
                    self.each_parked(notice);
                }
                Event::WatchChanged { .. } | Event::LocationsChanged => {
                    return Some(Command::Refresh);
                }
                // The tags, their counts and the rows' chips are read again; a search by tag
                // (or of a collection) is run again once they are here.
                Event::TagsChanged => {
                    // (Notes, collections and archive tags change what any search finds.)
                    if self.searching() {
                        self.tags_rerun = true;
                    }
                    return Some(Command::ListTags);
                }
                Event::DeviceRenamed { name } => self.device_name = name,
                Event::LibraryOpened { .. } | Event::LibraryClosed { .. } => {}
            },
        }
        None
    }

    /// A file operation went ahead: a job's totals are kept for the drawer; an immediate
    /// change is shown at once (the folder listed again with the new item selected, a new
    /// folder then renamed in place).
    fn op_started(&mut self, r: OpReport) -> Option<Command> {
        // Ctrl+Z undoes this operation next, not the taggings before it.
        if !r.undo {
            self.tag_undos = 0;
        }
        if r.kind == OpKind::BatchRename && !r.undo {
            self.batch_rename = None;
        }
        if let Some(job) = r.job {
            self.op_totals.insert(job, (r.files, r.bytes));
            self.toast = Some(Toast::new(format!("{}…", r.text), false, false));
            return None;
        }
        if r.kind == OpKind::Rename {
            self.renaming = None;
        }
        if r.kind == OpKind::NewFolder && !r.undo {
            self.rename_when_listed.clone_from(&r.path);
        }
        self.toast = Some(Toast::new(r.text, !r.undo, r.failed));
        self.after_op(r.path.as_deref())
    }

    /// What follows a file operation: the trash or the folder shown is listed again, with
    /// `select` selected if it is in that folder.
    fn after_op(&mut self, select: Option<&Path>) -> Option<Command> {
        // The other panes may show what changed (a move between the two sides of the split
        // view changes both).
        self.each_parked(|s| s.relist_later.ask());
        if self.show_trash {
            return Some(Command::ListTrash);
        }
        if self.show_dupes {
            return Some(Command::FindDupes);
        }
        let mut here = self.explorer.here()?;
        if let Some(p) = select
            && p.parent() == Some(here.folder.as_path())
            && let Some(name) = p.file_name()
        {
            let name = os_bytes(name).to_vec();
            here.selected = vec![name.clone()];
            here.cursor = Some(name);
        }
        Some(self.show_again(here))
    }

    /// Shows new duplicate groups. The marks of copies still shown are kept; a group with no
    /// copy marked (a new one) is marked by the last rule.
    fn set_dupes(&mut self, groups: Vec<Group>) {
        self.dupes_trashing = false;
        self.dupes_keep.retain(|p| {
            groups
                .iter()
                .any(|g| g.members.iter().any(|m| &m.path == p))
        });
        for g in &groups {
            if !g.members.iter().any(|m| self.dupes_keep.contains(&m.path)) {
                self.dupes_keep.extend(preset_keeps(g, &self.dupes_preset));
            }
        }
        self.dupes = Some(groups);
    }

    /// Marks the copies to keep in every group by `rule`.
    fn keep_by(&mut self, rule: Keep) {
        self.dupes_keep.clear();
        for g in self.dupes.iter().flatten() {
            self.dupes_keep.extend(preset_keeps(g, &rule));
        }
        self.dupes_preset = rule;
    }

    /// What "Trash the others" would trash now, and the bytes it would free (before the
    /// groups are confirmed by full-file hashes, which may leave some copies alone).
    pub fn dupes_reclaim(&self) -> Reclaim {
        crate::vdfs::query::dupes::others(self.dupes.as_deref().unwrap_or_default(), |m| {
            self.dupes_keep.contains(&m.path)
        })
    }

    /// "Trash the others": the command that trashes every copy not marked to keep, or why
    /// not (a group has no copy marked, or nothing would be trashed).
    fn trash_other_copies(&mut self, link: bool) -> Result<Command, String> {
        if self.dupes_trashing {
            return Err("The duplicates are being trashed already".into());
        }
        let r = self.dupes_reclaim();
        if r.unkept > 0 {
            return Err(format!(
                "{} no copy marked to keep, and the last copy of a file is never trashed: \
                 mark at least one copy in each group. Nothing was trashed.",
                if r.unkept == 1 {
                    "1 group has".to_owned()
                } else {
                    format!("{} groups have", r.unkept)
                }
            ));
        }
        if r.paths.is_empty() {
            return Err("Nothing to trash: every copy is marked to keep".into());
        }
        let keep = |m: &crate::vdfs::query::dupes::Member| self.dupes_keep.contains(&m.path);
        // Only the groups with something to trash are read in full to confirm them.
        let groups: Vec<Group> = self
            .dupes
            .iter()
            .flatten()
            .filter(|g| {
                !crate::vdfs::query::dupes::others(std::slice::from_ref(g), keep)
                    .paths
                    .is_empty()
            })
            .cloned()
            .collect();
        let keep = groups
            .iter()
            .flat_map(|g| &g.members)
            .filter(|m| keep(m))
            .map(|m| m.path.clone())
            .collect();
        self.dupes_trashing = true;
        Ok(Command::TrashDupes { groups, keep, link })
    }

    /// Shows the paired device `id` instead of the folder, at `path` (`None`: its
    /// locations, which are asked for either way: Up stops at them); returns the commands.
    /// `record` puts what is shown now on the back stack.
    fn show_device(&mut self, id: uuid::Uuid, path: Option<Vec<u8>>, record: bool) -> Vec<Command> {
        let Some(d) = self.devices.iter().find(|d| d.id == id).cloned() else {
            return Vec::new();
        };
        if record {
            let here = self.here();
            self.explorer.history.visit(here);
        }
        self.show_trash = false;
        self.show_missing = false;
        self.show_dupes = false;
        self.renaming = None;
        // A local search shown ends, as when an item is revealed: its text would otherwise
        // stay in the box and be run on the device at the next refresh.
        if self.peer.is_none() && self.searching() {
            self.end_local_search();
        }
        let dest = self.explorer.folder.clone();
        self.peer = Some(PeerView {
            device: d,
            dest,
            path: None,
            ticket: 0,
            since: self.peer_ticket + 1,
            locations: Vec::new(),
            items: Vec::new(),
            loading: false,
            error: None,
            selected: Default::default(),
            found: None,
        });
        let mut out = vec![self.peer_list(None)];
        if path.is_some() {
            out.push(self.peer_list(path));
        }
        out
    }

    /// Lists `path` of the device shown (`None`: its locations); returns the command.
    /// Starts the copy between devices `cmd`. A copy with a paired device is a job: it is
    /// queued at once (several may wait and run), and the jobs drawer shows it. Files sent to
    /// a nearby device are shown as `title` in the status bar, one offer at a time: while one
    /// runs, the person is told to wait and nothing is sent.
    fn start_transfer(&mut self, title: String, cmd: PeerCommand) -> Option<Command> {
        if matches!(cmd, PeerCommand::Copy { .. } | PeerCommand::Send { .. }) {
            self.jobs_open = true;
            return Some(Command::Peer(cmd));
        }
        if self.transfer.is_some() {
            self.toast = Some(Toast::new(BUSY.to_owned(), false, true));
            return None;
        }
        self.transfer = Some(Transfer {
            title,
            done: 0,
            total: 0,
            incoming: false,
        });
        Some(Command::Peer(cmd))
    }

    /// Opens `path` of the device shown (`None`: its locations), putting the folder shown now
    /// on the back stack; returns the command.
    fn peer_go(&mut self, path: Option<Vec<u8>>) -> Command {
        let here = self.here();
        self.explorer.history.visit(here);
        self.peer_list(path)
    }

    /// What is shown now, as a step of the history: the folder with its scroll position and
    /// selection, or the device's folder over it.
    pub fn here(&self) -> Option<Visit> {
        let mut v = self.explorer.here()?;
        if let Some(p) = &self.peer {
            v.device = Some(crate::ui::explorer::DeviceVisit {
                id: p.device.id,
                path: p.path.clone(),
            });
            v.selected = p.selected.iter().cloned().collect();
            v.cursor = None;
        }
        Some(v)
    }

    /// Shows a step of the history (Back, Forward): a device's folder with its selection, or
    /// a local folder as it was. A device no longer paired gives the local folder behind it.
    fn show_step(&mut self, to: Visit) -> Vec<Command> {
        if let Some(d) = &to.device {
            let same = self.peer.as_ref().is_some_and(|p| p.device.id == d.id);
            let out = if same {
                vec![self.peer_list(d.path.clone())]
            } else {
                self.show_device(d.id, d.path.clone(), false)
            };
            if let Some(p) = &mut self.peer {
                p.selected = to.selected.iter().cloned().collect();
                return out;
            }
        }
        if self.peer.take().is_some_and(|p| p.found.is_some()) {
            self.search_text.clear();
        }
        vec![self.show_again(Visit { device: None, ..to })]
    }

    /// Copies `paths` (absolute on paired device `device`, called `name`; exact bytes) into
    /// the local folder `dest` (see [`AppState::start_transfer`]).
    fn copy_from_device(
        &mut self,
        device: uuid::Uuid,
        name: &str,
        paths: Vec<Vec<u8>>,
        dest: PathBuf,
    ) -> Option<Command> {
        if paths.is_empty() {
            return None;
        }
        let copy = PeerCommand::Copy {
            device,
            paths,
            dest,
        };
        self.start_transfer(format!("Copying from {name}"), copy)
    }

    /// True while the trash, the missing items, the duplicates or search results are shown
    /// instead of the folder: no key or drop acts on the folder behind them.
    fn folder_hidden(&self) -> bool {
        self.show_trash || self.show_missing || self.show_dupes || self.searching()
    }

    /// Where files dropped from another application would go now: the device's folder
    /// shown, or the local folder shown; `Err` says where to drop them instead.
    fn drop_place(&self) -> Result<DropPlace<'_>, &'static str> {
        if let Some(p) = &self.peer {
            return match &p.path {
                Some(dir) => Ok(DropPlace::Device(p, dir)),
                None => Err("Open a folder of the device to drop files into"),
            };
        }
        match &self.explorer.folder {
            Some(f) if !self.folder_hidden() => Ok(DropPlace::Folder(f)),
            _ => Err("Open a folder to drop files into"),
        }
    }

    /// What dropping `n` files from another application would do now (see
    /// `AppState::drop_files`), as the window says it while they hover.
    pub fn drop_files_hint(&self, n: usize) -> String {
        let what = items_text(n as u64);
        match self.drop_place() {
            Ok(DropPlace::Device(p, dir)) => format!(
                "Drop to send {what} to {} on {}",
                String::from_utf8_lossy(dir),
                p.device.name
            ),
            Ok(DropPlace::Folder(f)) => format!("Drop to copy {what} into {}", f.display()),
            Err(why) => why.to_owned(),
        }
    }

    /// Files dropped on the window from another application: sent into the device's folder
    /// shown, or copied into the local folder shown (a preview first where a paste would
    /// show one). Where they cannot go (a device's locations, the trash, results, their own
    /// folder), the person is told where to drop them instead.
    fn drop_files(&mut self, paths: Vec<PathBuf>) -> Option<Command> {
        if paths.is_empty() {
            return None;
        }
        let why = match self.drop_place() {
            Ok(DropPlace::Device(p, dir)) => {
                let title = format!("Sending to {}", p.device.name);
                let push = PeerCommand::Send {
                    device: p.device.id,
                    paths,
                    dest: dir.clone(),
                };
                return self.start_transfer(title, push);
            }
            Ok(DropPlace::Folder(to)) if crate::ui::dnd::accepts(&paths, to) => {
                return Some(Command::Drop {
                    paths,
                    to: to.clone(),
                    op: crate::ui::dnd::DropOp::Copy,
                });
            }
            Ok(DropPlace::Folder(_)) => "These files are in this folder already",
            Err(why) => why,
        };
        self.toast = Some(Toast::new(why.to_owned(), false, true));
        None
    }

    fn peer_list(&mut self, path: Option<Vec<u8>>) -> Command {
        self.peer_ticket += 1;
        let ticket = self.peer_ticket;
        let p = self.peer.as_mut().expect("a device is shown");
        // Opening a folder ends a search of the device.
        if p.found.take().is_some() {
            self.search_text.clear();
        }
        p.path = path.clone();
        p.ticket = ticket;
        p.items.clear();
        if path.is_none() {
            p.locations.clear();
        }
        p.selected.clear();
        p.error = None;
        p.loading = true;
        Command::Peer(PeerCommand::List {
            ticket,
            device: p.device.id,
            path,
        })
    }

    fn apply_peer(&mut self, u: PeerUpdate) {
        match u {
            PeerUpdate::Devices(d) => self.devices = d,
            PeerUpdate::Pairing { state, host } => {
                if let crate::net::PairingState::Paired(d) = &state {
                    self.toast = Some(Toast::new(format!("Paired with {}", d.name), false, false));
                }
                if let Some(p) = &mut self.pairing {
                    p.shown = Some((state, host));
                }
            }
            PeerUpdate::Joined(r) => {
                if let Ok(d) = &r {
                    self.toast = Some(Toast::new(format!("Paired with {}", d.name), false, false));
                }
                if let Some(p) = &mut self.pairing {
                    p.joining = false;
                    p.outcome = Some(r.map(|d| format!("Paired with {}", d.name)));
                }
            }
            PeerUpdate::Listing { ticket, listing } => {
                let Some(p) = self.peer.as_mut() else {
                    return;
                };
                // The device's locations hold for every folder of this view; the rest only
                // for the listing asked last.
                if let Ok(Listing::Locations(l)) = listing {
                    if ticket >= p.since {
                        p.locations = l;
                        p.loading &= p.path.is_some();
                    }
                    return;
                }
                if p.ticket != ticket {
                    return;
                }
                match listing {
                    Ok(Listing::Locations(_)) => {}
                    Ok(Listing::Items { items, done }) => {
                        p.items.extend(items);
                        if done {
                            p.loading = false;
                            p.items.sort_by(|a, b| {
                                (b.kind == crate::vdfs::fs::entry::EntryKind::Dir)
                                    .cmp(&(a.kind == crate::vdfs::fs::entry::EntryKind::Dir))
                                    .then_with(|| {
                                        crate::ui::explorer::natural_cmp(
                                            &a.display_name(),
                                            &b.display_name(),
                                        )
                                    })
                            });
                        }
                    }
                    Err(e) => {
                        p.loading = false;
                        p.error = Some(e);
                    }
                }
            }
            PeerUpdate::Copying {
                done,
                total,
                incoming,
            } => {
                if let Some(t) = &mut self.transfer
                    && t.incoming == incoming
                {
                    (t.done, t.total) = (done, total);
                }
            }
            PeerUpdate::Failed(e) => self.toast = Some(Toast::new(e, false, true)),
            PeerUpdate::Found {
                ticket,
                hits,
                total,
            } => {
                if let Some(f) = self.peer.as_mut().and_then(|p| p.found.as_mut())
                    && f.ticket == ticket
                {
                    match hits {
                        Ok(h) => {
                            f.hits.extend(h);
                            f.total = total.or(f.total);
                        }
                        Err(e) => f.error = Some(e),
                    }
                }
            }
            PeerUpdate::Receiving(r) => match r {
                Ok(into) => self.receiving = into,
                Err(e) => {
                    self.receiving = None;
                    self.toast = Some(Toast::new(e, false, true));
                }
            },
            PeerUpdate::Offered { id, offer } => self.offers.push((id, offer, Instant::now())),
            PeerUpdate::Receivers(r) => {
                if let Some(d) = &mut self.send_dialog {
                    d.found = Some(r);
                }
            }
            PeerUpdate::Reach { id, online } => {
                self.reach.insert(id, online);
            }
            PeerUpdate::Copied { result, incoming } => {
                // Only the copy that ended leaves the status bar (one the other way goes on).
                if self
                    .transfer
                    .as_ref()
                    .is_some_and(|t| t.incoming == incoming)
                {
                    self.transfer = None;
                }
                self.toast = Some(match result {
                    Ok(t) => Toast::new(t, false, false),
                    Err(e) => Toast::new(e, false, true),
                });
            }
        }
    }

    /// Starts showing `folder`; returns the listing command to send.
    pub fn navigate(&mut self, folder: PathBuf, record: bool) -> Command {
        // Leaving a device: its folder is the step to come back to (the explorer knows only
        // the local folder behind it).
        let mut record = record;
        if record && self.peer.is_some() {
            let here = self.here();
            self.explorer.history.visit(here);
            record = false;
        }
        // A search of the device shown ends with it.
        if self.peer.take().is_some_and(|p| p.found.is_some()) {
            self.search_text.clear();
        }
        self.show_trash = false;
        self.show_missing = false;
        self.renaming = None;
        self.batch_rename = None;
        let ticket = self.explorer.open(folder.clone(), record);
        Command::Navigate {
            ticket,
            path: folder,
        }
    }

    /// Shows a step of the history again, with its selection and scroll position; returns
    /// the listing command.
    pub fn show_again(&mut self, visit: Visit) -> Command {
        let path = visit.folder.clone();
        let ticket = self.explorer.open_at(visit);
        Command::Navigate { ticket, path }
    }

    /// Lists the folder shown again, keeping its selection and scroll position.
    pub fn relist(&mut self) -> Option<Command> {
        let here = self.explorer.here()?;
        Some(self.show_again(here))
    }

    /// The open library's configuration, if one is open.
    pub fn library_config(&self) -> Option<&LibraryConfig> {
        match &self.library {
            Some(Ok((c, _))) => Some(c),
            _ => None,
        }
    }

    /// Ends the local search shown: the box, its filter chips and its results are cleared, and
    /// an answer still on its way (an older ticket) is dropped.
    fn end_local_search(&mut self) {
        self.search_text.clear();
        self.search_filters = SearchFilters::default();
        self.found = None;
        self.search_ticket += 1;
    }

    /// Shows `path` selected in its folder, leaving the duplicates and search views; returns
    /// the listing command.
    pub fn reveal(&mut self, path: PathBuf) -> Option<Command> {
        self.show_dupes = false;
        self.end_local_search();
        // The search field filters the folder the item is shown in.
        self.find_mode = crate::ui::search::FindMode::Filter;
        self.search_everywhere = false;
        let parent = path.parent()?.to_path_buf();
        self.reveal = Some(path);
        Some(self.navigate(parent, true))
    }

    /// Brings the derived view state up to date before a frame is drawn: the visible order,
    /// and the selection of an item being revealed once the listing shows it.
    pub fn settle(&mut self) {
        self.settle_pane();
        if let Some(path) = &self.rename_when_listed
            && !self.explorer.loading
        {
            let path = path.clone();
            self.rename_when_listed = None;
            self.start_rename(path);
        }
        if let Some(path) = &self.reveal {
            let e = &mut self.explorer;
            if let Some(row) = e.row_of(path) {
                let order = std::mem::take(&mut e.order);
                e.selection.click(&order, row);
                e.order = order;
                e.scroll = Some(Scroll::ToRow(row));
                self.reveal = None;
            } else if !e.loading {
                self.reveal = None;
            }
        }
    }

    /// What shows a live change (the folder listed again keeping its selection and scroll,
    /// the search run again, the duplicates found again) once [`LIVE_GAP`] has passed since the
    /// last time; else how long to wait before asking again.
    pub fn live_refresh(&mut self, now: Instant) -> (Option<Command>, Option<std::time::Duration>) {
        // Not while a listing is still arriving, a name is being typed in place or a dialog
        // waits: the next frame after them.
        if self.relist_later.is_asked()
            && (self.explorer.loading || self.renaming.is_some() || self.batch_rename.is_some())
        {
            return (None, Some(LIVE_GAP));
        }
        match self.relist_later.take(now, LIVE_GAP) {
            Ok(true) => {}
            Ok(false) => return (None, None),
            Err(wait) => return (None, Some(wait)),
        }
        // (A device shown is not changed by a change here: its search is not run again.)
        let cmd = if self.peer.is_some() {
            None
        } else if self.searching() {
            Some(self.rerun_search())
        } else if self.show_dupes {
            Some(Command::FindDupes)
        } else {
            // Swapped in whole when it is complete, rows kept until then: a click meanwhile
            // acts on the row it was meant for.
            self.explorer.folder.clone().map(|path| Command::Relist {
                ticket: self.explorer.ticket,
                path,
            })
        };
        (cmd, None)
    }

    /// Whether the locations (the sidebar's counts) are to be read again now after live
    /// changes; else how long to wait before asking again.
    pub fn locations_refresh(&mut self, now: Instant) -> Result<bool, std::time::Duration> {
        self.locations_later.take(now, LOCATIONS_GAP)
    }

    /// The inspector's details to ask for, when the focused item (or, with none, the folder)
    /// changed since they were last asked for.
    pub fn details_request(&mut self) -> Option<Command> {
        if !self.explorer.inspector {
            return None;
        }
        let e = &self.explorer;
        let target = e
            .focused()
            .and_then(|i| e.path_of(i))
            .or_else(|| e.folder.clone());
        if target == self.inspected {
            return None;
        }
        self.inspected.clone_from(&target);
        target.map(Command::Inspect)
    }

    /// Asks for the thumbnail of the image at `path` (its content identity, when indexed,
    /// names the shared sidecar), unless it was asked for already.
    pub fn want_thumbnail(&mut self, path: PathBuf, content: Option<uuid::Uuid>) {
        if self.thumbs_pending.insert(path.clone()) {
            self.fetches.push(Command::Thumbnail { path, content });
        }
    }

    /// Whether the list shows its Created column.
    pub fn created_shown(&self) -> bool {
        !self
            .explorer
            .hidden_columns
            .contains(&crate::ui::explorer::SortKey::Created)
    }

    /// Asks for the pixel sizes of the images at `paths` not known or asked for already.
    pub fn want_dimensions(&mut self, paths: Vec<PathBuf>) {
        let new: Vec<PathBuf> = paths
            .into_iter()
            .filter(|p| !self.dims.contains_key(p) && self.dims_pending.insert(p.clone()))
            .collect();
        if !new.is_empty() {
            self.fetches.push(Command::Dimensions(new));
        }
    }

    /// Opens the in-place editor on the item at `path`, if the folder shows it.
    fn start_rename(&mut self, path: PathBuf) {
        let e = &mut self.explorer;
        let Some(item) = e.item_at(&path) else {
            return;
        };
        let text = item.name.clone();
        e.select_unless_selected(&path);
        if let Some(row) = e.row_of(&path) {
            e.scroll = Some(Scroll::ToRow(row));
        }
        self.renaming = Some(Renaming {
            path,
            text,
            select_stem: true,
            error: None,
            pending: false,
        });
    }

    /// Opens the batch-rename dialog on the items at `paths` that the folder shows (in the
    /// order given); with one, the in-place rename instead.
    fn start_batch_rename(&mut self, paths: Vec<PathBuf>) {
        let e = &self.explorer;
        let Some(folder) = e.folder.clone() else {
            return;
        };
        // One pass over the listing, not one per item (a selection of thousands).
        let by_name: std::collections::HashMap<&[u8], &crate::vdfs::query::browse::Item> =
            e.items.iter().map(|i| (i.raw_name.as_slice(), i)).collect();
        let items: Vec<_> = paths
            .into_iter()
            .filter_map(|p| {
                let name = (p.parent() == Some(folder.as_path()))
                    .then(|| p.file_name())
                    .flatten()?;
                let item = *by_name.get(os_bytes(name))?;
                Some((p, item))
            })
            .collect();
        match items.as_slice() {
            [] => {}
            [(one, _)] => {
                let one = one.clone();
                self.start_rename(one);
            }
            _ => {
                let taken = by_name.keys().map(|n| n.to_vec()).collect();
                self.renaming = None;
                self.batch_rename = Some(crate::ui::batch_rename::BatchRename::open(
                    &folder, items, taken,
                ));
            }
        }
    }

    /// Shows a search of the whole library for `text` with `filters` (a tag, a collection or a
    /// saved search clicked in the sidebar) instead of the trash, the duplicates or the missing
    /// items; the caller sends the query.
    fn search_whole_library(&mut self, text: String, filters: SearchFilters) {
        self.search_text = text;
        self.search_filters = filters;
        self.search_everywhere = true;
        self.peer = None;
        self.show_dupes = false;
        self.show_trash = false;
        self.show_missing = false;
    }

    /// The window's title: what is shown (the folder's name, the search, the trash…), then
    /// "Cairn".
    pub fn window_title(&self) -> String {
        let what = self.view_title();
        if what.is_empty() {
            return "Cairn".to_owned();
        }
        format!("{what} \u{2014} Cairn")
    }

    /// What the pane acted on shows, in a few words (its folder's name, the search, the
    /// trash…); empty when it shows nothing yet.
    pub fn view_title(&self) -> String {
        if let Some(p) = &self.peer {
            match &p.path {
                Some(path) => format!(
                    "{} on {}",
                    String::from_utf8_lossy(path.rsplit(|&b| b == b'/').next().unwrap_or(path)),
                    p.device.name
                ),
                None => p.device.name.clone(),
            }
        } else if self.show_trash {
            "Trash".to_owned()
        } else if self.show_missing {
            "Missing".to_owned()
        } else if self.show_dupes {
            "Duplicates".to_owned()
        } else if self.searching() {
            format!("Search \u{201c}{}\u{201d}", self.search_text.trim())
        } else if let Some(f) = &self.explorer.folder {
            f.file_name().map_or_else(
                || f.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        } else {
            String::new()
        }
    }

    /// What a shortcut acts on now: the folder shown, the item under the cursor and the
    /// selection (none while the trash, the duplicates or search results are shown).
    pub fn key_targets(&self) -> crate::ui::commands::KeyTargets {
        let e = &self.explorer;
        if self.peer.is_some() {
            return crate::ui::commands::KeyTargets {
                device: true,
                ..Default::default()
            };
        }
        if self.folder_hidden() {
            return Default::default();
        }
        crate::ui::commands::KeyTargets {
            folder: e.folder.clone(),
            focused: self.focused_path(),
            selected: self.selected_paths(),
            device: false,
        }
    }

    /// The selected items of the folder shown, in the order shown.
    pub fn selected_paths(&self) -> Vec<PathBuf> {
        let e = &self.explorer;
        let Some(folder) = &e.folder else {
            return Vec::new();
        };
        e.order
            .iter()
            .filter(|i| e.selection.items.contains(i))
            .map(|&i| e.items[i as usize].path_in(folder))
            .collect()
    }

    /// What a context menu opened on the item at `path` acts on: the selection if the item
    /// is in it, else the item alone.
    pub fn menu_targets(&self, path: &Path) -> Vec<PathBuf> {
        let selected = self.selected_paths();
        if selected.iter().any(|p| p == path) {
            selected
        } else {
            vec![path.to_owned()]
        }
    }

    /// The path of the item under the keyboard cursor.
    pub fn focused_path(&self) -> Option<PathBuf> {
        let e = &self.explorer;
        e.focused().and_then(|i| e.path_of(i))
    }

    /// The search command for the search box, chips and scope as the person just set them,
    /// under a new ticket (an empty search stops the one in flight); its results open at the
    /// top.
    pub fn search(&mut self) -> Command {
        let cmd = self.rerun_search();
        self.fresh_search = self.search_ticket;
        cmd
    }

    /// The search shown, run again under a new ticket (the library changed under it): its
    /// results replace the old ones where the view is.
    pub fn rerun_search(&mut self) -> Command {
        if self.peer.is_some() {
            return self.peer_search();
        }
        self.search_ticket += 1;
        if !self.searching() {
            self.found = None;
            return Command::StopSearch;
        }
        Command::Search {
            ticket: self.search_ticket,
            query: Box::new(self.current_query()),
        }
    }

    /// Sends local `paths` into the folder of the paired device shown (a job); nothing when
    /// no folder of a device is shown.
    fn send_to_device(&mut self, paths: Vec<PathBuf>) -> Option<Command> {
        let p = self.peer.as_ref()?;
        let dir = p.path.clone()?;
        let title = format!("Sending to {}", p.device.name);
        let push = PeerCommand::Send {
            device: p.device.id,
            paths,
            dest: dir,
        };
        self.start_transfer(title, push)
    }

    /// Makes the search field look at `mode`: its text goes with it (from the folder's
    /// filter to the search, or back); returns the search command (a search stopped, when
    /// back to filtering).
    pub fn find_in(&mut self, mode: crate::ui::search::FindMode) -> Command {
        use crate::ui::search::FindMode;
        let e = &mut self.explorer;
        let text = if self.find_mode == FindMode::Filter && self.peer.is_none() {
            e.dirty = true;
            std::mem::take(&mut e.filter)
        } else {
            std::mem::take(&mut self.search_text)
        };
        self.find_mode = mode;
        self.search_everywhere = mode == FindMode::Library;
        if mode == FindMode::Filter && self.peer.is_none() {
            e.filter = text;
            e.dirty = true;
        } else {
            self.search_text = text;
        }
        self.search()
    }

    /// The search box's text as a search of the device shown (its name search: the filter
    /// chips are the local library's), below the folder shown unless it looks at the whole library;
    /// an empty box goes back to the folder.
    fn peer_search(&mut self) -> Command {
        self.peer_ticket += 1;
        let ticket = self.peer_ticket;
        let text = self.search_text.trim().to_owned();
        let everywhere = self.search_everywhere;
        let p = self.peer.as_mut().expect("a device is shown");
        if text.is_empty() {
            p.found = None;
            return Command::StopSearch;
        }
        p.found = Some(PeerFound {
            ticket,
            ..PeerFound::default()
        });
        Command::Peer(PeerCommand::Search {
            ticket,
            device: p.device.id,
            text,
            within: if everywhere { None } else { p.path.clone() },
        })
    }

    /// The query of the search box and its filters, as shown.
    pub fn current_query(&self) -> crate::vdfs::query::search::Query {
        let within = if self.search_everywhere {
            None
        } else {
            self.explorer.folder.clone()
        };
        let now_ns = jiff::Timestamp::now().as_nanosecond() as i64;
        let f = &self.search_filters;
        crate::vdfs::query::search::Query {
            text: self.search_text.trim().to_owned(),
            within,
            kinds: f.kind.into_iter().collect(),
            tags: f.tag.into_iter().collect(),
            tags_inherited: f.tag_inherited,
            collection: f.collection,
            size: f.size.range(),
            modified: f.modified.range(now_ns),
            include_hidden: self.explorer.show_hidden,
            sort: self.search_sort,
            reverse: self.search_reverse,
            limit: 500,
            ..Default::default()
        }
    }

    /// Carries out a user command: changes the state and puts what the core must do in `out`.
    /// The one place every button, menu entry and key of the window ends up.
    pub fn run(&mut self, cmd: UiCommand, out: &mut Outbox) {
        let cmd_kind = cmd.kind();
        let send = &mut out.commands;
        let e = &mut self.explorer;
        match cmd {
            UiCommand::Back => {
                let here = self.here();
                if let Some(to) = self.explorer.history.back(here) {
                    send.extend(self.show_step(to));
                }
            }
            UiCommand::Forward => {
                let here = self.here();
                if let Some(to) = self.explorer.history.forward(here) {
                    send.extend(self.show_step(to));
                }
            }
            UiCommand::Up => {
                // A device's folder goes up within the device (to its locations at a root).
                if let Some(p) = &self.peer {
                    if let Some(path) = &p.path {
                        let up = crate::ui::views::peer_parent(p, path);
                        send.push(self.peer_go(up));
                    }
                } else if let Some(p) = e.parent() {
                    send.push(self.navigate(p, true));
                }
            }
            UiCommand::Refresh => {
                send.extend(self.relist());
                send.push(Command::Refresh);
            }
            UiCommand::ToggleHidden => {
                e.show_hidden = !e.show_hidden;
                e.dirty = true;
            }
            UiCommand::EditPath => {
                e.path_edit = Some(
                    e.folder
                        .as_ref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_default(),
                );
            }
            UiCommand::Find => self.focus_search = true,
            UiCommand::TogglePreview => {
                e.inspector = !e.inspector;
                self.inspected = None;
            }
            UiCommand::Open(path) => match e.item_at(&path).map(|i| i.kind) {
                Some(EntryKind::Dir) => send.push(self.navigate(path, true)),
                Some(_) => send.push(Command::OpenPath(path)),
                None => {}
            },
            UiCommand::SelectAll => {
                let order = std::mem::take(&mut e.order);
                e.selection.all(&order);
                e.order = order;
            }
            UiCommand::ToggleView => {
                // This folder remembers its view, and folders without their own choice follow.
                let mut p = e.current_prefs();
                p.view = if p.view == ViewMode::List {
                    ViewMode::Grid
                } else {
                    ViewMode::List
                };
                e.set_prefs(p);
                self.default_view = p.view;
                // The other view has its own geometry: show the cursor's item, else the top.
                e.scroll = Some(
                    e.selection
                        .cursor
                        .map_or(Scroll::ToOffset(0.0), Scroll::ToRow),
                );
            }
            UiCommand::StopChoosing => self.choosing_location = false,
            UiCommand::AddLocation => {
                self.choosing_location = false;
                if let Some(f) = e.folder.clone() {
                    send.push(Command::AddLocation(f, IndexMode::Content));
                }
            }
            UiCommand::Settings => self.settings_open = true,
            UiCommand::MoveCursor { to, extend } => {
                let view = e.current_prefs().view;
                if let Some(row) =
                    move_target(e.selection.cursor, e.order.len(), to, e.geometry, view)
                {
                    let order = std::mem::take(&mut e.order);
                    e.selection.move_to(&order, row, extend);
                    e.order = order;
                    // The view follows the keyboard once; the wheel is free again next frame.
                    e.scroll = Some(Scroll::ToRow(row));
                }
            }
            UiCommand::TypeAhead { text, at } => {
                let typed = e.type_ahead.push(&text, at).to_owned();
                if let Some(row) = e.row_starting_with(&typed) {
                    let order = std::mem::take(&mut e.order);
                    e.selection.click(&order, row);
                    e.order = order;
                    e.scroll = Some(Scroll::ToRow(row));
                }
            }
            UiCommand::Select { path, how } => {
                if let Some(row) = e.row_of(&path) {
                    let order = &e.order;
                    match how {
                        SelectHow::Click => e.selection.click(order, row),
                        SelectHow::Toggle => e.selection.toggle(order, row),
                        SelectHow::Extend => e.selection.extend(order, row),
                        SelectHow::Context => e.select_unless_selected(&path),
                    }
                }
            }
            UiCommand::Reveal(path) => {
                e.select_unless_selected(&path);
                send.push(Command::Reveal(path));
            }
            UiCommand::CopyPath(path) => {
                e.select_unless_selected(&path);
                out.clipboard = Some(path.display().to_string());
            }
            UiCommand::Inspect(path) => {
                e.select_unless_selected(&path);
                e.inspector = true;
                self.inspected = None;
            }
            UiCommand::AddFavourite(path) => {
                e.select_unless_selected(&path);
                let folder = if e.item_at(&path).is_some_and(|i| i.kind == EntryKind::Dir) {
                    path
                } else {
                    path.parent().map_or(path.clone(), Path::to_path_buf)
                };
                send.push(Command::Favourite(folder, true));
            }
            UiCommand::RemoveFavourite(path) => send.push(Command::Favourite(path, false)),
            UiCommand::ShowTag(tag) => {
                self.search_whole_library(
                    String::new(),
                    SearchFilters {
                        tag: Some(tag),
                        ..SearchFilters::default()
                    },
                );
                send.push(self.rerun_search());
            }
            UiCommand::SetTag { tag, paths, on } => {
                self.tag_undos += 1;
                send.push(Command::SetTag { tag, paths, on });
            }
            UiCommand::EditTag { tag, name, colour } => {
                send.push(Command::EditTag { tag, name, colour });
            }
            UiCommand::DeleteTag(tag) => {
                if self.tag_editor.as_ref().is_some_and(|t| t.id == tag) {
                    self.tag_editor = None;
                }
                send.push(Command::DeleteTag(tag));
            }
            UiCommand::ReparentTag { tag, from, to } => {
                send.push(Command::ReparentTag { tag, from, to });
            }
            UiCommand::OpenTagEditor(id) => {
                if let Some(t) = self.tags.iter().find(|t| t.id == id) {
                    let r = &t.record;
                    self.tag_editor = Some(TagEditor {
                        id,
                        edit: crate::vdfs::library::TagEdit {
                            name: r.name.clone(),
                            namespace: r.namespace.clone(),
                            aliases: r.aliases.clone(),
                            colour: r.colour.clone(),
                            icon: r.icon.clone(),
                            privacy: r.privacy,
                            parents: t.parents.clone(),
                        },
                        aliases: r.aliases.join(", "),
                        merge_into: None,
                    });
                }
            }
            UiCommand::SaveTagEditor => {
                if let Some(mut t) = self.tag_editor.take() {
                    t.edit.aliases = t
                        .aliases
                        .split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned)
                        .collect();
                    send.push(Command::UpdateTag {
                        tag: t.id,
                        edit: Box::new(t.edit),
                    });
                }
            }
            UiCommand::CloseTagEditor => self.tag_editor = None,
            UiCommand::MergeTag { from, into } => {
                self.tag_editor = None;
                send.push(Command::MergeTags { from, into });
            }
            UiCommand::TagPopup(paths) => {
                self.tag_popup = Some(TagPopup {
                    paths,
                    text: String::new(),
                    chosen: 0,
                });
            }
            UiCommand::CloseTagPopup => self.tag_popup = None,
            UiCommand::ToggleHiddenTags => self.show_hidden_tags = !self.show_hidden_tags,
            UiCommand::OpenPalette => self.palette = Some(Palette::default()),
            UiCommand::OpenTerminal(folder) => send.push(Command::OpenTerminal(folder)),
            UiCommand::ZoomGrid(bigger) => {
                if e.current_prefs().view == crate::ui::explorer::ViewMode::Grid {
                    let z = if bigger { 1.25 } else { 0.8 };
                    self.grid_zoom = (self.grid_zoom * z).clamp(GRID_ZOOM.0, GRID_ZOOM.1);
                }
            }
            UiCommand::ClosePalette => self.palette = None,
            // The draft stays as typed; it equals the saved note once that is read back.
            UiCommand::SaveSearch(name) => send.push(Command::SaveSearch {
                name,
                query: Box::new(self.current_query()),
            }),
            UiCommand::RunSaved(name) => {
                if let Some(s) = self.saved_searches.iter().find(|s| s.name == name) {
                    let q = s.query.clone();
                    self.search_whole_library(
                        q.text.clone(),
                        SearchFilters {
                            kind: q.kinds.first().copied(),
                            tag: q.tags.first().copied(),
                            tag_inherited: q.tags_inherited,
                            collection: q.collection,
                            ..SearchFilters::default()
                        },
                    );
                    self.search_ticket += 1;
                    send.push(Command::Search {
                        ticket: self.search_ticket,
                        query: Box::new(crate::vdfs::query::search::Query { limit: 500, ..q }),
                    });
                }
            }
            UiCommand::ShowCollection(id) => {
                self.search_whole_library(
                    String::new(),
                    SearchFilters {
                        collection: Some(id),
                        ..SearchFilters::default()
                    },
                );
                send.push(self.rerun_search());
            }
            UiCommand::Collect {
                collection,
                name,
                paths,
            } => send.push(Command::Collect {
                collection,
                name,
                paths,
            }),
            UiCommand::SetMeta {
                path,
                content,
                change,
            } => {
                send.push(Command::SetMeta {
                    path,
                    content,
                    change,
                });
            }
            UiCommand::NewTag { name, paths } => {
                self.new_tag_text.clear();
                if !paths.is_empty() {
                    self.tag_undos += 1;
                }
                send.push(Command::CreateTag { name, paths });
            }
            UiCommand::FindApps(path) => {
                if self.apps.as_ref().is_none_or(|(q, _)| q != &path)
                    && self.requested_apps.as_ref() != Some(&path)
                {
                    self.requested_apps = Some(path.clone());
                    send.push(Command::AppsFor(path));
                }
            }
            UiCommand::OpenWith(path, app) => send.push(Command::OpenWith(path, app)),
            UiCommand::GoTo(path) => send.push(self.navigate(path, true)),
            UiCommand::GoToItem(path) => send.extend(self.reveal(path)),
            UiCommand::GoToAddress(typed) => {
                e.path_edit = None;
                // `DEVICE:/path` (as the command line writes it) opens a paired device.
                if let Some((name, path)) = typed.trim().split_once(':')
                    && path.starts_with('/')
                    && let Some(d) = self
                        .devices
                        .iter()
                        .find(|d| d.name.eq_ignore_ascii_case(name))
                {
                    let id = d.id;
                    send.extend(self.show_device(id, Some(path.as_bytes().to_vec()), true));
                    return;
                }
                match SdPath::parse(&typed, uuid::Uuid::nil()) {
                    Ok(SdPath::Physical { path, .. }) => send.push(self.navigate(path, true)),
                    Ok(SdPath::Content { content_id }) => {
                        send.push(Command::ShowContent(content_id));
                    }
                    Err(e) => self.error = Some((e.to_string(), Instant::now())),
                }
            }
            UiCommand::SortBy(key) => e.sort_by(key),
            UiCommand::ToggleColumn(key) => {
                if key != crate::ui::explorer::SortKey::Name && !e.hidden_columns.remove(&key) {
                    e.hidden_columns.insert(key);
                }
                // Remembered for the next start.
                send.push(Command::RememberColumns(
                    e.hidden_columns
                        .iter()
                        .map(|k| k.as_str().to_owned())
                        .collect(),
                ));
                if key == crate::ui::explorer::SortKey::Created {
                    let shown = self.created_shown();
                    send.push(Command::WantCreated(shown));
                    // Listed again, so an indexed folder gets its times: swapped in whole when
                    // complete, the rows kept until then (no blank list, no jump).
                    if shown && let Some(path) = self.explorer.folder.clone() {
                        send.push(Command::Relist {
                            ticket: self.explorer.ticket,
                            path,
                        });
                    }
                }
            }
            UiCommand::Search => send.push(self.search()),
            UiCommand::SearchEverywhere(on) => {
                use crate::ui::search::FindMode;
                send.push(self.find_in(if on {
                    FindMode::Library
                } else {
                    FindMode::Below
                }));
            }
            UiCommand::FindIn(mode) => send.push(self.find_in(mode)),
            UiCommand::SendToDevice(paths) => send.extend(self.send_to_device(paths)),
            UiCommand::SortResults { by, reverse } => {
                self.search_sort = by;
                self.search_reverse = reverse;
                send.push(self.search());
            }
            UiCommand::OpenLibrary(id) => send.push(Command::OpenLibrary(id)),
            UiCommand::NewLibrary => self.new_library = Some(String::new()),
            UiCommand::CreateLibrary(name) => {
                self.new_library = None;
                send.push(Command::CreateLibrary(name));
            }
            UiCommand::CloseNewLibrary => self.new_library = None,
            UiCommand::ToggleDupes => {
                self.peer = None;
                self.show_trash = false;
                self.show_missing = false;
                self.show_dupes = !self.show_dupes;
                if self.show_dupes {
                    self.dupes = None;
                    self.dupes_top = true;
                    send.push(Command::FindDupes);
                }
            }
            UiCommand::PickLocation => send.push(Command::PickLocation),
            UiCommand::RescanLocation(id) => send.push(Command::RescanLocation(id)),
            UiCommand::SetLocationMode(id, mode) => send.push(Command::SetLocationMode(id, mode)),
            UiCommand::RemoveLocation(id) => send.push(Command::RemoveLocation(id)),
            UiCommand::ToggleJobs => self.jobs_open = !self.jobs_open,
            UiCommand::ToggleAllJobs => self.jobs_all = !self.jobs_all,
            UiCommand::NewTab => {
                // The new tab opens where this one is (the home folder when nothing is shown).
                if let Some(f) = self.explorer.folder.clone().or_else(|| self.home.clone()) {
                    send.push(self.new_tab(f));
                }
            }
            UiCommand::OpenInNewTab(folder) => send.push(self.new_tab(folder)),
            UiCommand::CloseTab(i) => self.close_tab(i.unwrap_or(self.tab)),
            UiCommand::SwitchTab(i) => self.switch_tab(i),
            UiCommand::CycleTab(forward) => self.cycle_tab(forward),
            UiCommand::ToggleSplit => send.extend(self.toggle_split()),
            UiCommand::FocusPane(j) => self.focus_pane(j),
            UiCommand::PauseJob(id) => send.push(Command::PauseJob(id)),
            UiCommand::ResumeJob(id) => send.push(Command::ResumeJob(id)),
            UiCommand::CancelJob(id) => send.push(Command::CancelJob(id)),
            UiCommand::Copy(paths) | UiCommand::Cut(paths) => {
                let cut = matches!(cmd_kind, crate::ui::commands::CommandKind::Cut);
                out.clipboard = Some(
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                let n = paths.len();
                self.toast = Some(Toast::new(
                    format!(
                        "{} on the clipboard, to {} with Ctrl+V",
                        items_text(n as u64),
                        if cut { "move" } else { "copy" }
                    ),
                    false,
                    false,
                ));
                self.clipboard = Some(Clip {
                    paths,
                    cut,
                    device: None,
                });
            }
            UiCommand::Paste(folder) => {
                if let Some(Clip {
                    paths,
                    device: Some((id, name)),
                    ..
                }) = &self.clipboard
                {
                    // Items of a paired device: copied here (never moved off it).
                    let paths = paths
                        .iter()
                        .map(|p| p.as_os_str().as_encoded_bytes().to_vec())
                        .collect();
                    let (id, name) = (*id, name.clone());
                    send.extend(self.copy_from_device(id, &name, paths, folder));
                } else if let Some(clip) = &self.clipboard {
                    let kind = if clip.cut { OpKind::Move } else { OpKind::Copy };
                    let request = Request::new(kind, clip.paths.clone()).to(folder);
                    // What was cut is moved once; what was copied can be pasted again.
                    if clip.cut {
                        self.clipboard = None;
                    }
                    send.push(file_op(request, false));
                }
            }
            UiCommand::Drop { paths, to, op } => {
                // The views offer only folders that take the items; a drop is checked again
                // here, so no path can send a folder into itself.
                if crate::ui::dnd::accepts(&paths, &to) {
                    send.push(Command::Drop { paths, to, op });
                }
            }
            UiCommand::DropFromDevice { device, paths, to } => {
                let name = self
                    .devices
                    .iter()
                    .find(|d| d.id == device)
                    .map_or_else(|| "the device".to_owned(), |d| d.name.clone());
                send.extend(self.copy_from_device(device, &name, paths, to));
            }
            UiCommand::DropFiles(paths) => send.extend(self.drop_files(paths)),
            UiCommand::Rename(path) => self.start_rename(path),
            UiCommand::RenameTo { path, name } => {
                let Some(edit) = &mut self.renaming else {
                    return;
                };
                let unchanged = e.item_at(&path).is_some_and(|i| i.name == name);
                if name.is_empty() || unchanged {
                    self.renaming = None;
                } else if name.contains('/') || name == "." || name == ".." {
                    edit.error = Some(format!("\u{201c}{name}\u{201d} cannot be a name"));
                } else {
                    edit.error = None;
                    edit.pending = true;
                    let request = Request::new(OpKind::Rename, vec![path]).named(name.into_bytes());
                    send.push(file_op(request, false));
                }
            }
            UiCommand::CancelRename => self.renaming = None,
            UiCommand::RenameMany(paths) => self.start_batch_rename(paths),
            UiCommand::ConfirmBatchRename => {
                if let Some(b) = &mut self.batch_rename {
                    b.refresh();
                    if b.can_rename() {
                        b.pending = true;
                        b.refused = None;
                        send.push(file_op(b.request(), false));
                    }
                }
            }
            UiCommand::CancelBatchRename => self.batch_rename = None,
            UiCommand::Duplicate(paths) => {
                send.push(file_op(Request::new(OpKind::Duplicate, paths), false));
            }
            UiCommand::Trash(paths) => {
                send.push(file_op(Request::new(OpKind::Trash, paths), false));
            }
            UiCommand::Delete(paths) => {
                send.push(file_op(Request::new(OpKind::Delete, paths), true));
            }
            UiCommand::NewFolder(folder) => {
                let request = Request::new(OpKind::NewFolder, Vec::new())
                    .to(folder)
                    .named(NEW_FOLDER_NAME)
                    .on_conflict(OnConflict::KeepBoth);
                send.push(file_op(request, false));
            }
            UiCommand::Undo if self.tag_undos > 0 => {
                self.tag_undos -= 1;
                send.push(Command::UndoTagging);
            }
            UiCommand::Undo => send.push(Command::Undo),
            UiCommand::Redo => send.push(Command::Redo),
            UiCommand::ConfirmOp => {
                if let Some(OpDialog::Preview { preview, .. }) = self.dialog.take()
                    && preview.can_commit()
                {
                    send.push(Command::Commit(preview));
                }
            }
            UiCommand::ResolveConflicts(choice) => {
                if let Some(OpDialog::Preview { mut request, .. }) = self.dialog.take() {
                    request.on_conflict = choice;
                    send.push(Command::FileOp {
                        request,
                        ask: false,
                    });
                }
            }
            UiCommand::CancelOp => self.dialog = None,
            UiCommand::ShowMissing => {
                self.peer = None;
                self.show_missing = !self.show_missing;
                if self.show_missing {
                    self.show_trash = false;
                    self.show_dupes = false;
                    self.renaming = None;
                    send.push(Command::ListMissing);
                } else {
                    send.extend(self.relist());
                }
            }
            UiCommand::SelectMissing { entry, toggle } => {
                if toggle {
                    if !self.missing_selected.remove(&entry) {
                        self.missing_selected.insert(entry);
                    }
                } else {
                    self.missing_selected.clear();
                    self.missing_selected.insert(entry);
                }
            }
            UiCommand::ForgetMissing(entries) => {
                for e in &entries {
                    self.missing_selected.remove(e);
                }
                send.push(Command::ForgetMissing(entries));
            }
            UiCommand::ShowDevice(id) => send.extend(self.show_device(id, None, true)),
            UiCommand::PeerOpen(path) => {
                if self.peer.is_some() {
                    send.push(self.peer_go(path));
                }
            }
            UiCommand::PeerReveal(path) => {
                if self.peer.is_some()
                    && let Some(cut) = path.iter().rposition(|&b| b == b'/')
                {
                    let parent = if cut == 0 {
                        b"/".to_vec()
                    } else {
                        path[..cut].to_vec()
                    };
                    send.push(self.peer_go(Some(parent)));
                    if let Some(p) = &mut self.peer {
                        p.selected.insert(path[cut + 1..].to_vec());
                    }
                }
            }
            UiCommand::SelectPeerItem { name, toggle } => {
                if let Some(p) = &mut self.peer {
                    if !toggle {
                        p.selected.clear();
                        p.selected.insert(name);
                    } else if !p.selected.remove(&name) {
                        p.selected.insert(name);
                    }
                }
            }
            UiCommand::PeerCopy => {
                if let Some(p) = &self.peer
                    && let (Some(dir), Some(dest)) = (&p.path, &p.dest)
                    && !p.selected.is_empty()
                {
                    let paths = p
                        .selected
                        .iter()
                        .map(|n| crate::net::browse::child_path(dir, n))
                        .collect();
                    let (id, name, dest) = (p.device.id, p.device.name.clone(), dest.clone());
                    send.extend(self.copy_from_device(id, &name, paths, dest));
                }
            }
            UiCommand::PeerClip => {
                if let Some(p) = &self.peer
                    && let Some(dir) = &p.path
                    && !p.selected.is_empty()
                {
                    let paths: Vec<PathBuf> = p
                        .selected
                        .iter()
                        .map(|n| {
                            PathBuf::from(
                                <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(
                                    &crate::net::browse::child_path(dir, n),
                                ),
                            )
                        })
                        .collect();
                    self.toast = Some(Toast::new(
                        format!(
                            "{} of {} on the clipboard, to copy here with Ctrl+V in a folder",
                            items_text(paths.len() as u64),
                            p.device.name
                        ),
                        false,
                        false,
                    ));
                    out.clipboard = Some(
                        paths
                            .iter()
                            .map(|x| format!("{}:{}", p.device.name, x.display()))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                    self.clipboard = Some(Clip {
                        paths,
                        cut: false,
                        device: Some((p.device.id, p.device.name.clone())),
                    });
                }
            }
            UiCommand::PeerPaste => {
                let Some(p) = &self.peer else { return };
                if p.path.is_none() {
                    self.toast = Some(Toast::new(
                        "Open a folder of the device to paste into".to_owned(),
                        false,
                        true,
                    ));
                    return;
                }
                match &self.clipboard {
                    None => {}
                    Some(Clip {
                        device: Some(_), ..
                    }) => {
                        self.toast = Some(Toast::new(
                            "These items are on a device already; copy local items to send them"
                                .to_owned(),
                            false,
                            true,
                        ));
                    }
                    Some(clip) => {
                        let paths = clip.paths.clone();
                        send.extend(self.send_to_device(paths));
                    }
                }
            }
            UiCommand::SendNearby(paths) => {
                self.send_dialog = Some(SendDialog {
                    paths,
                    ..SendDialog::default()
                });
                send.push(Command::Peer(PeerCommand::FindReceivers));
            }
            UiCommand::SendNearbyTo { to, name } => {
                if let Some(d) = self.send_dialog.take() {
                    let title = format!("Offering to {name}");
                    let offer = PeerCommand::SendNearby {
                        to,
                        name,
                        paths: d.paths,
                    };
                    send.extend(self.start_transfer(title, offer));
                }
            }
            UiCommand::CloseSendNearby => self.send_dialog = None,
            UiCommand::SetReceiving(on) => {
                let into = on.then(|| {
                    self.drop_folder
                        .clone()
                        .or_else(crate::net::nearby::default_drop_folder)
                        .unwrap_or_else(|| self.home.clone().unwrap_or_default().join("Downloads"))
                });
                send.push(Command::Peer(PeerCommand::Receive(into)));
            }
            UiCommand::AnswerOffer { id, accept } => {
                if let Some(i) = self.offers.iter().position(|(o, _, _)| *o == id) {
                    let (_, offer, _) = self.offers.remove(i);
                    if accept && self.transfer.is_none() {
                        self.transfer = Some(Transfer {
                            title: format!("Receiving from {}", offer.from),
                            done: 0,
                            total: offer.bytes(),
                            incoming: true,
                        });
                    }
                }
                send.push(Command::Peer(PeerCommand::Answer { id, accept }));
            }
            UiCommand::PairDevice => {
                self.pairing = Some(PairingDialog::default());
            }
            UiCommand::PairShowCode => {
                if let Some(d) = &mut self.pairing {
                    d.shown = Some((crate::net::PairingState::Idle, String::new()));
                    send.push(Command::Peer(PeerCommand::OpenPairing));
                }
            }
            UiCommand::PairJoin { code, host } => {
                if let Some(d) = &mut self.pairing {
                    d.joining = true;
                    d.outcome = None;
                    send.push(Command::Peer(PeerCommand::Join { code, host }));
                }
            }
            UiCommand::ClosePairing => {
                if self.pairing.take().is_some_and(|d| {
                    matches!(d.shown, Some((crate::net::PairingState::Open { .. }, _)))
                }) {
                    send.push(Command::Peer(PeerCommand::ClosePairing));
                }
            }
            UiCommand::Unpair(id) => {
                if self.peer.as_ref().is_some_and(|p| p.device.id == id) {
                    self.peer = None;
                    send.extend(self.relist());
                }
                send.push(Command::Peer(PeerCommand::Unpair(id)));
            }
            UiCommand::ShowTrash => {
                self.peer = None;
                self.show_trash = !self.show_trash;
                if self.show_trash {
                    self.show_missing = false;
                    self.show_dupes = false;
                    self.renaming = None;
                    send.push(Command::ListTrash);
                } else {
                    send.extend(self.relist());
                }
            }
            UiCommand::Restore(paths) => {
                send.push(file_op(Request::new(OpKind::Restore, paths), false));
            }
            UiCommand::SelectTrashed { path, toggle } => {
                let sel = &mut self.trash_selected;
                if toggle {
                    if !sel.remove(&path) {
                        sel.insert(path);
                    }
                } else {
                    sel.clear();
                    sel.insert(path);
                }
            }
            UiCommand::EmptyTrash => {
                let items = self.trash.as_ref().map_or(0, Vec::len);
                if items > 0 {
                    self.dialog = Some(OpDialog::EmptyTrash { items });
                }
            }
            UiCommand::ConfirmEmptyTrash => {
                if matches!(self.dialog.take(), Some(OpDialog::EmptyTrash { .. })) {
                    self.trash_selected.clear();
                    send.push(Command::EmptyTrash);
                }
            }
            UiCommand::KeepCopy { path, keep } => {
                if keep {
                    self.dupes_keep.insert(path);
                } else {
                    self.dupes_keep.remove(&path);
                }
            }
            UiCommand::KeepPreset(rule) => self.keep_by(rule),
            UiCommand::TrashOtherCopies => match self.trash_other_copies(false) {
                Ok(c) => send.push(c),
                Err(e) => self.error = Some((e, Instant::now())),
            },
            UiCommand::LinkOtherCopies => match self.trash_other_copies(true) {
                Ok(c) => send.push(c),
                Err(e) => self.error = Some((e, Instant::now())),
            },
        }
    }
}

/// The copies of `g` that `rule` marks to keep: one, or, when no copy matches the rule (none
/// in its folder), every copy (the group is left alone).
fn preset_keeps(g: &Group, rule: &Keep) -> Vec<PathBuf> {
    match crate::vdfs::query::dupes::keep(std::slice::from_ref(g), rule)[0] {
        Some(i) => vec![g.members[i].path.clone()],
        None => g.members.iter().map(|m| m.path.clone()).collect(),
    }
}

/// The core command for a file operation (previewed first; `ask`: always shown to confirm).
fn file_op(request: Request, ask: bool) -> Command {
    Command::FileOp {
        request: Box::new(request),
        ask,
    }
}

/// "1 item", "3 items".
pub fn items_text(n: u64) -> String {
    format!(
        "{} {}",
        crate::format::count(n),
        if n == 1 { "item" } else { "items" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vdfs::query::browse::{Item, ListError};
    use crate::vdfs::query::dupes::Member;

    fn state() -> AppState {
        AppState::new("here".into(), PathBuf::from("/data"), Err("none".into()))
    }

    /// Copies with a paired device queue as jobs and toast their end; files for a nearby
    /// device go one offer at a time, and the end of files coming the other way does not
    /// take the one under way off the status bar.
    #[test]
    fn device_copies_queue_as_jobs_and_nearby_offers_wait_their_turn() {
        let mut s = state();
        s.clipboard = Some(Clip {
            paths: vec![PathBuf::from("/share/a.txt")],
            cut: false,
            device: Some((uuid::Uuid::nil(), "desk".into())),
        });
        // Copies with a paired device are jobs: each paste queues one at once.
        for _ in 0..2 {
            let mut out = Outbox::default();
            s.run(UiCommand::Paste(PathBuf::from("/f")), &mut out);
            assert!(
                matches!(out.commands[..], [Command::Peer(PeerCommand::Copy { .. })]),
                "{:?}",
                out.commands
            );
            assert!(s.transfer.is_none() && s.toast.is_none());
        }
        // Their ends are told: how a copy ended, why one paused; a cancel says nothing.
        for (job, status, text) in [
            (
                7,
                JobStatus::Completed,
                Some("Copied 1 file (3 B) from desk"),
            ),
            (
                8,
                JobStatus::Paused,
                Some("cannot reach desk: …; resume the job"),
            ),
            (9, JobStatus::Cancelled, Some("cancelled")),
            (10, JobStatus::Completed, Some("an index of /f")),
        ] {
            s.toast = None;
            let kind = if job == 10 { "index" } else { "transfer" };
            s.apply(Update::Event(Event::JobQueued {
                job,
                kind: kind.into(),
                title: String::new(),
            }));
            s.apply(Update::Event(Event::JobFinished {
                job,
                status,
                outcome: text.map(str::to_owned),
            }));
            let told = s.toast.as_ref().map(|t| (t.text.as_str(), t.failed));
            match status {
                JobStatus::Completed if kind == "transfer" => {
                    assert_eq!(told, Some((text.unwrap(), false)))
                }
                JobStatus::Paused => assert_eq!(told, Some((text.unwrap(), true))),
                _ => assert_eq!(told, None, "{job}"),
            }
        }
        // Files for a nearby device wait for the offer under way.
        s.transfer = Some(Transfer {
            title: "Sending to phone".into(),
            done: 0,
            total: 0,
            incoming: false,
        });
        let offer = PeerCommand::SendNearby {
            to: "x@127.0.0.1:1".into(),
            name: "phone".into(),
            paths: vec![PathBuf::from("/f/a")],
        };
        assert!(
            s.start_transfer("Sending to phone".into(), offer).is_none(),
            "a second offer waits"
        );
        assert!(s.toast.as_ref().unwrap().text.contains("under way"));
        let copied = |incoming| {
            Update::Peer(PeerUpdate::Copied {
                result: Ok("done".into()),
                incoming,
            })
        };
        s.apply(Update::Peer(PeerUpdate::Copying {
            done: 7,
            total: 9,
            incoming: true,
        }));
        s.apply(copied(true));
        let t = s.transfer.as_ref().expect("still under way");
        assert_eq!(
            (t.done, t.total),
            (0, 0),
            "another copy's progress is not this one's"
        );
        s.apply(Update::Peer(PeerUpdate::Copying {
            done: 5,
            total: 10,
            incoming: false,
        }));
        assert_eq!(s.transfer.as_ref().unwrap().done, 5);
        s.apply(copied(false));
        assert!(s.transfer.is_none());
    }

    /// An item named by `raw` bytes (its display name is the lossy decoding), of one byte.
    fn item(raw: &[u8], kind: EntryKind) -> Item {
        Item {
            size: 1,
            ..Item::named(raw, kind)
        }
    }

    /// `state` showing `/f` with `items`, listing done.
    fn listing(state: &mut AppState, items: Vec<Item>) -> u64 {
        let Command::Navigate { ticket, .. } = state.navigate(PathBuf::from("/f"), true) else {
            panic!("not a listing")
        };
        state.apply(Update::Chunk { ticket, items });
        state.apply(Update::ListingDone {
            ticket,
            result: Ok(Source::Disk),
            space: None,
        });
        state.settle();
        ticket
    }

    fn run(state: &mut AppState, cmd: UiCommand) -> Outbox {
        let mut out = Outbox::default();
        state.run(cmd, &mut out);
        out
    }

    fn job(id: JobId, status: JobStatus) -> JobRecord {
        JobRecord {
            id,
            status,
            created_ms: 0,
            updated_ms: 0,
            ..JobRecord::new(
                "diagnostic",
                format!("job {id}"),
                Vec::new(),
                uuid::Uuid::nil(),
            )
        }
    }

    /// Showing the Created column lists the folder again for the times, keeping its rows and
    /// ticket until the new listing is swapped in (no blank list, no jump to the top).
    #[test]
    fn showing_created_lists_again_keeping_the_rows() {
        let mut s = state();
        let ticket = listing(
            &mut s,
            vec![
                item(b"a.txt", EntryKind::File),
                item(b"b.txt", EntryKind::File),
            ],
        );
        let out = run(
            &mut s,
            UiCommand::ToggleColumn(crate::ui::explorer::SortKey::Created),
        );
        assert_eq!(s.explorer.items.len(), 2, "the rows stay");
        assert!(!s.explorer.loading);
        assert!(
            matches!(out.commands.as_slice(), [
            Command::RememberColumns(_),
            Command::WantCreated(true),
            Command::Relist { ticket: t, .. },
        ] if *t == ticket),
            "{:?}",
            out.commands
        );
    }

    #[test]
    fn chunks_of_a_folder_left_behind_are_dropped() {
        let mut s = state();
        let old = listing(&mut s, vec![item(b"a", EntryKind::File)]);
        let Some(Command::Navigate { ticket, .. }) =
            run(&mut s, UiCommand::GoTo("/g".into())).commands.pop()
        else {
            panic!("no listing")
        };
        assert_ne!(ticket, old);
        s.apply(Update::Chunk {
            ticket: old,
            items: vec![item(b"stale", EntryKind::File)],
        });
        s.apply(Update::ListingDone {
            ticket: old,
            result: Err(ListError::Missing("gone".into())),
            space: Some((1, 2)),
        });
        assert!(s.explorer.items.is_empty());
        assert!(
            s.explorer.loading,
            "the old listing's end is not this one's"
        );
        assert_eq!(s.explorer.error, None);
        s.apply(Update::Chunk {
            ticket,
            items: vec![item(b"fresh", EntryKind::File)],
        });
        assert_eq!(s.explorer.items.len(), 1);
        assert_eq!(s.explorer.items[0].name, "fresh");
    }

    #[test]
    fn results_of_an_old_search_are_ignored() {
        let mut s = state();
        s.search_text = "bea".into();
        let first = run(&mut s, UiCommand::Search);
        s.search_text = "beach".into();
        let second = run(&mut s, UiCommand::Search);
        let ticket = |o: &Outbox| match o.commands.as_slice() {
            [Command::Search { ticket, .. }] => *ticket,
            other => panic!("{other:?}"),
        };
        let (old, new) = (ticket(&first), ticket(&second));
        assert!(new > old);
        let found = |ticket, total| Update::Found {
            ticket,
            hits: Vec::new(),
            total,
            fuzzy: 0,
        };
        s.apply(found(old, 7));
        assert_eq!(s.found, None);
        s.apply(found(new, 3));
        assert_eq!(s.found.as_ref().map(|f| f.1), Some(3));
        // Clearing the box stops the search and forgets its results.
        s.search_text.clear();
        assert_eq!(
            run(&mut s, UiCommand::Search).commands,
            [Command::StopSearch]
        );
        assert_eq!(s.found, None);
    }

    #[test]
    fn job_events_change_the_job_row() {
        let mut s = state();
        // Oldest first from the core, newest first in the drawer.
        s.apply(Update::Jobs(vec![
            job(1, JobStatus::Completed),
            job(2, JobStatus::Running),
        ]));
        assert_eq!(s.jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [2, 1]);
        let progress = JobProgress {
            phase: "discovery".into(),
            completed: 40,
            total: Some(100),
            ..JobProgress::default()
        };
        s.apply(Update::Event(Event::JobProgress {
            job: 2,
            progress: progress.clone(),
        }));
        assert_eq!(s.live.get(&2), Some(&progress));
        assert_eq!(s.job_rates[&2].0, "discovery");
        s.apply(Update::Event(Event::JobStatusChanged {
            job: 2,
            status: JobStatus::Paused,
        }));
        assert_eq!(s.jobs[0].status, JobStatus::Paused);
        // A job that ends asks for the list again; once it is not running its live progress
        // is dropped.
        assert_eq!(
            s.apply(Update::Event(Event::JobFinished {
                job: 2,
                status: JobStatus::Completed,
                outcome: None,
            })),
            Some(Command::Refresh)
        );
        s.apply(Update::Jobs(vec![job(2, JobStatus::Completed)]));
        assert!(s.live.is_empty());
    }

    #[test]
    fn rows_are_found_by_exact_name_bytes_not_by_display_name() {
        // Latin-1 "é" is not UTF-8: its display name is the same as the real "\u{fffd}".
        let latin1 = item(b"caf\xe9", EntryKind::File);
        let twin = item("caf\u{fffd}".as_bytes(), EntryKind::Dir);
        assert_eq!(latin1.name, twin.name);
        let mut s = state();
        listing(&mut s, vec![twin.clone(), latin1.clone()]);
        let path = latin1.path_in(Path::new("/f"));
        run(
            &mut s,
            UiCommand::Select {
                path: path.clone(),
                how: SelectHow::Click,
            },
        );
        assert_eq!(s.explorer.focused(), Some(&latin1));
        // Opening it opens that file, not the folder with the same display name.
        assert_eq!(
            run(&mut s, UiCommand::Open(path.clone())).commands,
            [Command::OpenPath(path.clone())]
        );
        // Its folder is the favourite, since it is a file.
        assert_eq!(
            run(&mut s, UiCommand::AddFavourite(path.clone())).commands,
            [Command::Favourite(PathBuf::from("/f"), true)]
        );
        // A revealed path selects that item once the listing shows it.
        let twin_path = twin.path_in(Path::new("/f"));
        let _ = s.reveal(twin_path);
        listing_again(&mut s, vec![latin1.clone(), twin.clone()]);
        assert_eq!(s.explorer.focused(), Some(&twin));
    }

    /// Feeds the listing in flight (after a reveal) with `items`.
    fn listing_again(s: &mut AppState, items: Vec<Item>) {
        let ticket = s.explorer.ticket;
        s.apply(Update::Chunk { ticket, items });
        s.settle();
    }

    #[test]
    fn a_context_menu_acts_on_its_row_and_selects_it() {
        let mut s = state();
        let a = item(b"a", EntryKind::Dir);
        let b = item(b"b", EntryKind::File);
        listing(&mut s, vec![a.clone(), b.clone()]);
        let b_path = b.path_in(Path::new("/f"));
        let out = run(&mut s, UiCommand::CopyPath(b_path.clone()));
        assert_eq!(out.clipboard.as_deref(), Some("/f/b"));
        assert_eq!(s.explorer.focused(), Some(&b));
        let out = run(&mut s, UiCommand::AddFavourite(a.path_in(Path::new("/f"))));
        assert_eq!(
            out.commands,
            [Command::Favourite(PathBuf::from("/f/a"), true)]
        );
        assert_eq!(s.explorer.focused(), Some(&a));
        run(&mut s, UiCommand::Inspect(b_path.clone()));
        assert!(s.explorer.inspector);
        assert_eq!(s.details_request(), Some(Command::Inspect(b_path)));
        assert_eq!(s.details_request(), None, "asked once");
    }

    #[test]
    fn a_new_listing_of_the_folder_shown_keeps_its_place_and_selection() {
        let mut s = state();
        let items = vec![item(b"a", EntryKind::File), item(b"b", EntryKind::File)];
        listing(&mut s, items.clone());
        run(
            &mut s,
            UiCommand::Select {
                path: PathBuf::from("/f/b"),
                how: SelectHow::Click,
            },
        );
        s.explorer.scroll = None;
        s.explorer.scroll_offset = 120.0;
        let out = run(&mut s, UiCommand::Refresh);
        assert!(matches!(out.commands[0], Command::Navigate { .. }));
        listing_again(&mut s, items);
        s.apply(Update::ListingDone {
            ticket: s.explorer.ticket,
            result: Ok(Source::Disk),
            space: None,
        });
        s.settle();
        assert_eq!(s.explorer.focused().map(|i| i.name.as_str()), Some("b"));
        assert_eq!(s.explorer.scroll, Some(Scroll::ToOffset(120.0)));
    }

    #[test]
    fn new_results_open_at_the_top_and_a_rerun_stays_put() {
        let mut s = state();
        s.search_text = "bea".into();
        let ticket = |o: &Outbox| match o.commands.as_slice() {
            [Command::Search { ticket, .. }] => *ticket,
            other => panic!("{other:?}"),
        };
        let found = |ticket| Update::Found {
            ticket,
            hits: Vec::new(),
            total: 0,
            fuzzy: 0,
        };
        let t = ticket(&run(&mut s, UiCommand::Search));
        s.apply(found(t));
        assert!(std::mem::take(&mut s.results_top));
        let Command::Search { ticket: t, .. } = s.rerun_search() else {
            panic!("not a search")
        };
        s.apply(found(t));
        assert!(!s.results_top);
    }

    #[test]
    fn the_apps_of_a_file_are_asked_for_once() {
        let mut s = state();
        let p = PathBuf::from("/f/b");
        assert_eq!(
            run(&mut s, UiCommand::FindApps(p.clone())).commands,
            [Command::AppsFor(p.clone())]
        );
        assert!(
            run(&mut s, UiCommand::FindApps(p.clone()))
                .commands
                .is_empty()
        );
    }

    fn report(kind: OpKind, job: Option<JobId>, path: Option<&str>) -> OpReport {
        OpReport {
            kind,
            audit: 1,
            job,
            path: path.map(PathBuf::from),
            files: 2,
            bytes: 10,
            text: "done".into(),
            undo: false,
            failed: false,
        }
    }

    #[test]
    fn copy_then_paste_asks_the_core_for_a_copy_and_cut_moves_once() {
        let mut s = state();
        listing(
            &mut s,
            vec![item(b"a", EntryKind::File), item(b"b", EntryKind::File)],
        );
        let paths = vec![PathBuf::from("/f/a"), PathBuf::from("/f/b")];
        let out = run(&mut s, UiCommand::Copy(paths.clone()));
        assert_eq!(
            out.clipboard.as_deref(),
            Some("/f/a\n/f/b"),
            "paths as text too"
        );
        let paste = |s: &mut AppState| run(s, UiCommand::Paste(PathBuf::from("/g"))).commands;
        let expect = |kind| {
            vec![Command::FileOp {
                request: Box::new(Request::new(kind, paths.clone()).to("/g")),
                ask: false,
            }]
        };
        assert_eq!(paste(&mut s), expect(OpKind::Copy));
        assert_eq!(
            paste(&mut s),
            expect(OpKind::Copy),
            "a copy can be pasted again"
        );
        run(&mut s, UiCommand::Cut(paths.clone()));
        assert_eq!(paste(&mut s), expect(OpKind::Move));
        assert!(paste(&mut s).is_empty(), "what was cut moves once");
    }

    #[test]
    fn a_drop_goes_to_the_core_unless_the_folder_cannot_take_it() {
        use crate::ui::dnd::DropOp;
        let mut s = state();
        let paths = |v: &[&str]| v.iter().map(PathBuf::from).collect::<Vec<_>>();
        let mut drop = |items: &[&str], to: &str, op| {
            let cmd = UiCommand::Drop {
                paths: paths(items),
                to: PathBuf::from(to),
                op,
            };
            run(&mut s, cmd).commands
        };
        assert_eq!(
            drop(&["/f/a", "/f/b"], "/g", DropOp::Auto),
            [Command::Drop {
                paths: paths(&["/f/a", "/f/b"]),
                to: PathBuf::from("/g"),
                op: DropOp::Auto
            }]
        );
        assert!(
            drop(&["/f/d"], "/f/d/e", DropOp::Copy).is_empty(),
            "into itself"
        );
        assert!(
            drop(&["/f/a"], "/f", DropOp::Move).is_empty(),
            "where it is"
        );
    }

    #[test]
    fn stem_selection_leaves_the_extension_out() {
        assert_eq!(stem_chars("notes.md", EntryKind::File), 5);
        assert_eq!(stem_chars("archive.tar.gz", EntryKind::File), 11);
        assert_eq!(stem_chars(".bashrc", EntryKind::File), 7);
        assert_eq!(stem_chars("no-dot", EntryKind::File), 6);
        assert_eq!(stem_chars("my.folder", EntryKind::Dir), 9);
        assert_eq!(
            stem_chars("été.txt", EntryKind::File),
            3,
            "characters, not bytes"
        );
    }

    #[test]
    fn renaming_in_place_sends_the_name_and_a_refusal_stays_in_the_field() {
        let mut s = state();
        listing(&mut s, vec![item(b"notes.md", EntryKind::File)]);
        let path = PathBuf::from("/f/notes.md");
        run(&mut s, UiCommand::Rename(path.clone()));
        let edit = s.renaming.clone().expect("editing");
        assert_eq!((edit.text.as_str(), edit.select_stem), ("notes.md", true));
        assert_eq!(s.selected_paths(), std::slice::from_ref(&path));
        // The same name, or none, changes nothing.
        let rename_to = |name: &str| UiCommand::RenameTo {
            path: path.clone(),
            name: name.into(),
        };
        assert!(run(&mut s, rename_to("notes.md")).commands.is_empty());
        assert_eq!(s.renaming, None);
        run(&mut s, UiCommand::Rename(path.clone()));
        assert!(run(&mut s, rename_to("a/b")).commands.is_empty());
        assert!(s.renaming.as_ref().unwrap().error.is_some());
        let out = run(&mut s, rename_to("journal.md"));
        assert_eq!(
            out.commands,
            [Command::FileOp {
                request: Box::new(
                    Request::new(OpKind::Rename, vec![path.clone()]).named("journal.md")
                ),
                ask: false,
            }]
        );
        assert!(s.renaming.as_ref().unwrap().pending);
        s.apply(Update::OpFailed {
            kind: Some(OpKind::Rename),
            path: Some(path.clone()),
            error: "taken".into(),
        });
        let edit = s.renaming.clone().unwrap();
        assert_eq!(edit.error.as_deref(), Some("taken"));
        assert!(
            !edit.pending && edit.select_stem,
            "the field has the keyboard again"
        );
        // Done: the editor closes, the folder is listed again with the new name selected.
        let relist = s.apply(Update::OpStarted(report(
            OpKind::Rename,
            None,
            Some("/f/journal.md"),
        )));
        assert!(matches!(relist, Some(Command::Navigate { .. })));
        assert_eq!(s.renaming, None);
        assert_eq!(
            s.explorer.restore.as_ref().map(|v| v.selected.clone()),
            Some(vec![b"journal.md".to_vec()])
        );
        assert!(s.toast.as_ref().unwrap().undo);
    }

    #[test]
    fn renaming_several_opens_the_batch_dialog_and_a_refusal_stays_in_it() {
        let mut s = state();
        listing(
            &mut s,
            vec![
                item(b"a.txt", EntryKind::File),
                item(b"b.txt", EntryKind::File),
                item(b"c\xe9.txt", EntryKind::File),
            ],
        );
        // One item: the in-place rename.
        run(
            &mut s,
            UiCommand::RenameMany(vec![PathBuf::from("/f/a.txt")]),
        );
        assert!(s.renaming.is_some() && s.batch_rename.is_none());
        let paths = vec![
            PathBuf::from("/f/b.txt"),
            PathBuf::from(
                <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"/f/c\xe9.txt"),
            ),
            PathBuf::from("/f/gone.txt"),
        ];
        run(&mut s, UiCommand::RenameMany(paths.clone()));
        assert!(s.renaming.is_none());
        let b = s.batch_rename.as_mut().expect("the dialog");
        assert_eq!(
            b.items.len(),
            2,
            "an item the folder does not show is left out"
        );
        // Nothing changes yet: Enter sends nothing.
        assert!(
            run(&mut s, UiCommand::ConfirmBatchRename)
                .commands
                .is_empty()
        );
        let b = s.batch_rename.as_mut().unwrap();
        b.edited.template = "{n}-{name}.{ext}".into();
        let out = run(&mut s, UiCommand::ConfirmBatchRename);
        assert_eq!(
            out.commands,
            [Command::FileOp {
                request: Box::new(
                    Request::new(OpKind::BatchRename, paths[..2].to_vec())
                        .names(vec![b"1-b.txt".to_vec(), b"2-c\xe9.txt".to_vec()])
                ),
                ask: false,
            }]
        );
        assert!(s.batch_rename.as_ref().unwrap().pending);
        assert!(
            run(&mut s, UiCommand::ConfirmBatchRename)
                .commands
                .is_empty(),
            "sent once"
        );
        // The core's refusal is said in the dialog, which stays open.
        s.apply(Update::OpFailed {
            kind: Some(OpKind::BatchRename),
            path: None,
            error: "/f/b.txt: taken".into(),
        });
        let b = s.batch_rename.as_ref().unwrap();
        assert_eq!(b.refused.as_deref(), Some("/f/b.txt: taken"));
        assert!(!b.pending && s.error.is_none());
        // Started: the dialog closes. Esc closes it too.
        s.apply(Update::OpStarted(report(
            OpKind::BatchRename,
            Some(7),
            None,
        )));
        assert!(s.batch_rename.is_none());
        run(&mut s, UiCommand::RenameMany(paths.clone()));
        run(&mut s, UiCommand::CancelBatchRename);
        assert!(s.batch_rename.is_none());
    }

    /// A paired device called "desk", for the window's device tests.
    fn desk() -> crate::net::peers::PairedDevice {
        crate::net::peers::PairedDevice {
            id: uuid::Uuid::from_bytes([1; 16]),
            name: "desk".into(),
            public_key: hex::encode([1; 32]),
            paired_at: jiff::Timestamp::UNIX_EPOCH,
            addrs: vec![],
            last_seen: None,
        }
    }

    #[test]
    fn files_dropped_from_elsewhere_are_copied_here_or_sent_into_the_devices_folder() {
        use crate::ui::dnd::DropOp;
        use crate::ui::peers::{PeerCommand, PeerUpdate};
        let mut s = state();
        listing(&mut s, vec![item(b"a", EntryKind::File)]);
        let outside = vec![PathBuf::from("/elsewhere/x")];
        let said = |s: &AppState| s.toast.as_ref().map(|t| t.text.clone()).unwrap_or_default();
        // Into the local folder shown: a copy (the other application keeps its files), by
        // the paste's path.
        let out = run(&mut s, UiCommand::DropFiles(outside.clone()));
        assert!(
            matches!(out.commands.as_slice(), [Command::Drop { paths, to, op: DropOp::Copy }]
                if *paths == outside && to == Path::new("/f")),
            "{:?}",
            out.commands
        );
        assert!(
            s.drop_files_hint(1)
                .starts_with("Drop to copy 1 item into /f")
        );
        // Files of this folder itself: nothing, and said.
        let out = run(&mut s, UiCommand::DropFiles(vec![PathBuf::from("/f/a")]));
        assert!(out.commands.is_empty());
        assert!(said(&s).contains("in this folder already"));
        // A device's locations are no folder to put them in.
        let desk = desk();
        s.apply(Update::Peer(PeerUpdate::Devices(vec![desk.clone()])));
        run(&mut s, UiCommand::ShowDevice(desk.id));
        let out = run(&mut s, UiCommand::DropFiles(outside.clone()));
        assert!(out.commands.is_empty());
        assert!(said(&s).starts_with("Open a folder of the device"));
        // A folder of it: sent there.
        run(&mut s, UiCommand::PeerOpen(Some(b"/share".to_vec())));
        assert_eq!(
            s.drop_files_hint(2),
            "Drop to send 2 items to /share on desk"
        );
        let out = run(&mut s, UiCommand::DropFiles(outside.clone()));
        assert!(
            matches!(out.commands.as_slice(), [Command::Peer(PeerCommand::Send { device, paths, dest })]
                if *device == desk.id && *paths == outside && dest == b"/share"),
            "{:?}",
            out.commands
        );
        // Items dragged from the device onto a local folder are copied from it (a job: it
        // does not wait for the send above).
        let from = || UiCommand::DropFromDevice {
            device: desk.id,
            paths: vec![b"/share/q3.txt".to_vec()],
            to: PathBuf::from("/g"),
        };
        let out = run(&mut s, from());
        assert!(
            matches!(out.commands.as_slice(), [Command::Peer(PeerCommand::Copy { device, paths, dest })]
                if *device == desk.id && paths[0] == b"/share/q3.txt" && dest == Path::new("/g")),
            "{:?}",
            out.commands
        );
    }

    /// Seen in a screenshot: a local search's text stayed in the box when a device was
    /// opened, and once a copy changed the library the live refresh ran it on the device.
    #[test]
    fn opening_a_device_ends_a_local_search_and_local_changes_do_not_search_the_device() {
        use crate::ui::peers::PeerCommand;
        let mut s = state();
        listing(&mut s, vec![]);
        s.search_text = "report".into();
        let out = run(&mut s, UiCommand::Search);
        assert!(matches!(out.commands.as_slice(), [Command::Search { .. }]));
        let desk = desk();
        s.apply(Update::Peer(crate::ui::peers::PeerUpdate::Devices(vec![
            desk.clone(),
        ])));
        run(&mut s, UiCommand::ShowDevice(desk.id));
        assert!(!s.searching(), "the local search ended");
        assert!(s.found.is_none());
        // A change in the library (a copy landed): nothing is searched, here or there.
        s.relist_later.ask();
        let later = Instant::now() + LIVE_GAP * 2;
        let (cmd, _) = s.live_refresh(later);
        assert!(
            !matches!(
                cmd,
                Some(Command::Peer(PeerCommand::Search { .. }) | Command::Search { .. })
            ),
            "{cmd:?}"
        );
        // A search typed on the device is the device's.
        s.search_text = "city".into();
        let out = run(&mut s, UiCommand::Search);
        assert!(
            matches!(out.commands.as_slice(), [Command::Peer(PeerCommand::Search { text, .. })] if text == "city"),
            "{:?}",
            out.commands
        );
    }

    #[test]
    fn a_device_address_opens_the_device_and_up_stops_at_its_locations() {
        use crate::net::browse::RemoteLocation;
        use crate::ui::peers::{Listing, PeerCommand, PeerUpdate};
        let mut s = state();
        listing(&mut s, vec![]);
        let desk = desk();
        s.apply(Update::Peer(PeerUpdate::Devices(vec![desk.clone()])));
        // As the command line writes it (any case for the name).
        let out = run(&mut s, UiCommand::GoToAddress("Desk:/share/docs".into()));
        let lists: Vec<_> = out
            .commands
            .iter()
            .map(|c| match c {
                Command::Peer(PeerCommand::List { ticket, path, .. }) => (*ticket, path.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(lists.len(), 2, "its locations, then the folder");
        assert_eq!(lists[1].1.as_deref(), Some(&b"/share/docs"[..]));
        assert_eq!(
            s.peer.as_ref().unwrap().dest.as_deref(),
            Some(Path::new("/f"))
        );
        // The locations come after the folder was asked for: still taken.
        s.apply(Update::Peer(PeerUpdate::Listing {
            ticket: lists[0].0,
            listing: Ok(Listing::Locations(vec![RemoteLocation {
                path: b"/share".to_vec(),
                name: "share".into(),
                online: true,
                files: 1,
                bytes: 1,
            }])),
        }));
        assert_eq!(s.peer.as_ref().unwrap().locations.len(), 1);
        assert!(
            s.peer.as_ref().unwrap().loading,
            "the folder is still listing"
        );
        s.peer.as_mut().unwrap().selected.insert(b"a.txt".to_vec());
        // Up: the location's root, then its locations, never above.
        let list = |s: &mut AppState, cmd| match run(s, cmd).commands.as_slice() {
            [Command::Peer(PeerCommand::List { path, .. })] => path.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(list(&mut s, UiCommand::Up).as_deref(), Some(&b"/share"[..]));
        assert_eq!(list(&mut s, UiCommand::Up), None);
        // A name that is no paired device is a path as before.
        let out = run(&mut s, UiCommand::GoToAddress("/tmp".into()));
        assert!(matches!(
            out.commands.as_slice(),
            [Command::Navigate { .. }]
        ));
        assert!(s.peer.is_none());
        // Back walks the device's folders again, the selection with them, then the local
        // folder before it; Forward goes back onto the device.
        assert_eq!(list(&mut s, UiCommand::Back), None);
        assert_eq!(s.peer.as_ref().unwrap().device.id, desk.id);
        assert_eq!(
            list(&mut s, UiCommand::Back).as_deref(),
            Some(&b"/share"[..])
        );
        assert_eq!(
            list(&mut s, UiCommand::Back).as_deref(),
            Some(&b"/share/docs"[..])
        );
        assert!(s.peer.as_ref().unwrap().selected.contains(&b"a.txt"[..]));
        let out = run(&mut s, UiCommand::Back);
        assert!(
            matches!(out.commands.as_slice(), [Command::Navigate { path, .. }] if path == Path::new("/f")),
            "{:?}",
            out.commands
        );
        assert!(s.peer.is_none());
        assert!(!s.explorer.history.can_back());
        let out = run(&mut s, UiCommand::Forward);
        assert_eq!(out.commands.len(), 2, "its locations, then the folder");
        assert_eq!(
            s.peer.as_ref().unwrap().path.as_deref(),
            Some(&b"/share/docs"[..])
        );
    }

    #[test]
    fn a_new_folder_is_renamed_in_place_once_listed() {
        let mut s = state();
        listing(&mut s, vec![item(b"a", EntryKind::File)]);
        let out = run(&mut s, UiCommand::NewFolder(PathBuf::from("/f")));
        let [
            Command::FileOp {
                request,
                ask: false,
            },
        ] = out.commands.as_slice()
        else {
            panic!("{:?}", out.commands)
        };
        assert_eq!(request.kind, OpKind::NewFolder);
        assert_eq!(request.name.as_deref(), Some(NEW_FOLDER_NAME.as_bytes()));
        assert_eq!(
            request.on_conflict,
            OnConflict::KeepBoth,
            "then New Folder (2) …"
        );
        s.apply(Update::OpStarted(report(
            OpKind::NewFolder,
            None,
            Some("/f/New Folder (2)"),
        )));
        listing_again(
            &mut s,
            vec![
                item(b"a", EntryKind::File),
                item(b"New Folder (2)", EntryKind::Dir),
            ],
        );
        s.apply(Update::ListingDone {
            ticket: s.explorer.ticket,
            result: Ok(Source::Disk),
            space: None,
        });
        s.settle();
        let edit = s.renaming.clone().expect("renaming the new folder");
        assert_eq!(edit.text, "New Folder (2)");
        assert_eq!(s.rename_when_listed, None);
    }

    #[test]
    fn trash_has_no_dialog_delete_asks_and_conflict_choices_ask_again() {
        let mut s = state();
        listing(&mut s, vec![item(b"a", EntryKind::File)]);
        let a = vec![PathBuf::from("/f/a")];
        assert_eq!(
            run(&mut s, UiCommand::Trash(a.clone())).commands,
            [Command::FileOp {
                request: Box::new(Request::new(OpKind::Trash, a.clone())),
                ask: false
            }]
        );
        let out = run(&mut s, UiCommand::Delete(a.clone()));
        assert!(matches!(
            out.commands.as_slice(),
            [Command::FileOp { ask: true, .. }]
        ));
        // The preview comes back as a dialog; confirming commits that very preview.
        let preview = Preview {
            kind: OpKind::Delete,
            items: Vec::new(),
            files: 1,
            bytes: 1,
            dest_free: None,
            refusals: Vec::new(),
            warnings: Vec::new(),
            conflicts: 0,
            on_conflict: OnConflict::Ask,
            verify: true,
        };
        s.apply(Update::Previewed {
            request: Box::new(Request::new(OpKind::Delete, a.clone())),
            preview: Box::new(preview.clone()),
        });
        assert!(s.dialog.is_some());
        assert_eq!(
            run(&mut s, UiCommand::ConfirmOp).commands,
            [Command::Commit(Box::new(preview.clone()))]
        );
        assert_eq!(s.dialog, None);
        // A paste with conflicts: a choice for all asks the core again with it.
        let copy = Request::new(OpKind::Copy, a.clone()).to("/g");
        s.apply(Update::Previewed {
            request: Box::new(copy.clone()),
            preview: Box::new(Preview {
                kind: OpKind::Copy,
                conflicts: 1,
                refusals: vec!["1 item already exists".into()],
                ..preview
            }),
        });
        assert!(
            run(&mut s, UiCommand::ConfirmOp).commands.is_empty(),
            "refused"
        );
        s.apply(Update::Previewed {
            request: Box::new(copy.clone()),
            preview: Box::new(Preview {
                kind: OpKind::Copy,
                conflicts: 1,
                refusals: vec!["1 item already exists".into()],
                items: Vec::new(),
                files: 1,
                bytes: 1,
                dest_free: None,
                warnings: Vec::new(),
                on_conflict: OnConflict::Ask,
                verify: true,
            }),
        });
        assert_eq!(
            run(&mut s, UiCommand::ResolveConflicts(OnConflict::KeepBoth)).commands,
            [Command::FileOp {
                request: Box::new(copy.on_conflict(OnConflict::KeepBoth)),
                ask: false
            }]
        );
        assert_eq!(s.dialog, None);
    }

    fn member(entry: u64, path: &str, mtime_ns: i64, same_file_as: Option<u64>) -> Member {
        Member {
            entry,
            location: 1,
            path: PathBuf::from(path),
            mtime_ns,
            same_file_as,
        }
    }

    fn group(cas: &str, size: u64, members: Vec<Member>) -> Group {
        let files = members.iter().filter(|m| m.same_file_as.is_none()).count() as u64;
        Group {
            cas_id: cas.into(),
            size,
            wasted: size * (files - 1),
            members,
            confirmed: None,
        }
    }

    /// Two groups: three copies of 10 bytes; two copies of 100 bytes, the second with a
    /// hard link.
    fn two_groups() -> Vec<Group> {
        vec![
            group(
                "one",
                10,
                vec![
                    member(1, "/a/one", 1, None),
                    member(2, "/b/deeper/one", 3, None),
                    member(3, "/c/one", 2, None),
                ],
            ),
            group(
                "two",
                100,
                vec![
                    member(4, "/a/two", 5, None),
                    member(5, "/b/two", 4, None),
                    member(6, "/b/two-link", 4, Some(5)),
                ],
            ),
        ]
    }

    fn kept(s: &AppState) -> Vec<&str> {
        s.dupes_keep.iter().map(|p| p.to_str().unwrap()).collect()
    }

    /// What "Trash the others" would trash, and the bytes freed.
    fn trashed(s: &AppState) -> (Vec<String>, u64) {
        let r = s.dupes_reclaim();
        let paths = r.paths.iter().map(|p| p.display().to_string()).collect();
        (paths, r.bytes)
    }

    #[test]
    fn keep_presets_mark_one_copy_per_group_and_the_last_copy_is_never_trashed() {
        let mut s = state();
        assert_eq!(
            run(&mut s, UiCommand::ToggleDupes).commands,
            [Command::FindDupes]
        );
        s.apply(Update::Dupes(two_groups()));
        // Newest by default, one per group.
        assert_eq!(kept(&s), ["/a/two", "/b/deeper/one"]);
        assert_eq!(
            trashed(&s),
            (
                ["/a/one", "/c/one", "/b/two", "/b/two-link"]
                    .map(String::from)
                    .to_vec(),
                10 * 2 + 100
            )
        );
        // Oldest: the hard link of the kept file is the kept file, left alone.
        run(&mut s, UiCommand::KeepPreset(Keep::Oldest));
        assert_eq!(kept(&s), ["/a/one", "/b/two"]);
        assert_eq!(
            trashed(&s),
            (
                ["/b/deeper/one", "/c/one", "/a/two"]
                    .map(String::from)
                    .to_vec(),
                10 * 2 + 100
            )
        );
        run(&mut s, UiCommand::KeepPreset(Keep::Shortest));
        assert_eq!(kept(&s), ["/a/one", "/a/two"]);
        run(&mut s, UiCommand::KeepPreset(Keep::In("/b".into())));
        assert_eq!(kept(&s), ["/b/deeper/one", "/b/two"]);
        // A folder holding no copy of a group keeps all of that group's: nothing to trash.
        run(&mut s, UiCommand::KeepPreset(Keep::In("/z".into())));
        assert_eq!(s.dupes_keep.len(), 6);
        assert!(run(&mut s, UiCommand::TrashOtherCopies).commands.is_empty());
        assert!(s.error.as_ref().unwrap().0.starts_with("Nothing to trash"));

        // Unchecking the last kept copy of a group refuses the whole trash, saying why.
        run(&mut s, UiCommand::KeepPreset(Keep::Newest));
        run(
            &mut s,
            UiCommand::KeepCopy {
                path: "/b/deeper/one".into(),
                keep: false,
            },
        );
        assert_eq!(s.dupes_reclaim().unkept, 1);
        s.error = None;
        assert!(run(&mut s, UiCommand::TrashOtherCopies).commands.is_empty());
        let said = &s.error.as_ref().unwrap().0;
        assert!(
            said.contains("1 group has no copy marked to keep") && said.contains("Nothing"),
            "{said}"
        );
        assert!(!s.dupes_trashing);

        // Checked again (two copies of it kept), the trash goes to the core as one command
        // with the groups to confirm and the copies kept.
        for p in ["/b/deeper/one", "/c/one"] {
            run(
                &mut s,
                UiCommand::KeepCopy {
                    path: p.into(),
                    keep: true,
                },
            );
        }
        assert_eq!(
            run(&mut s, UiCommand::TrashOtherCopies).commands,
            [Command::TrashDupes {
                groups: two_groups(),
                keep: ["/b/deeper/one", "/c/one", "/a/two"]
                    .map(PathBuf::from)
                    .to_vec(),
                link: false,
            }]
        );
        assert!(s.dupes_trashing);
        assert!(
            run(&mut s, UiCommand::TrashOtherCopies).commands.is_empty(),
            "once"
        );
        // The job's end finds the duplicates again; marks of copies still shown stay.
        assert_eq!(
            s.apply(Update::OpFinished(report(OpKind::Trash, Some(3), None))),
            Some(Command::FindDupes)
        );
        let mut left = two_groups();
        left.truncate(1);
        left[0].members.remove(0);
        s.apply(Update::Dupes(left));
        assert!(!s.dupes_trashing);
        assert_eq!(kept(&s), ["/b/deeper/one", "/c/one"]);
    }

    #[test]
    fn a_job_that_ends_lists_the_folder_or_the_trash_again() {
        let mut s = state();
        listing(&mut s, vec![item(b"a", EntryKind::File)]);
        assert_eq!(
            s.apply(Update::OpStarted(report(OpKind::Copy, Some(9), None))),
            None
        );
        assert_eq!(s.op_totals.get(&9), Some(&(2, 10)));
        assert!(matches!(
            s.apply(Update::OpFinished(report(OpKind::Copy, Some(9), None))),
            Some(Command::Navigate { .. })
        ));
        assert!(s.op_totals.is_empty());
        assert!(s.toast.as_ref().unwrap().undo);
        // The trash shown is listed again instead; leaving it lists the folder.
        assert_eq!(
            run(&mut s, UiCommand::ShowTrash).commands,
            [Command::ListTrash]
        );
        assert_eq!(
            s.apply(Update::OpFinished(report(OpKind::Restore, Some(10), None))),
            Some(Command::ListTrash)
        );
        assert!(run(&mut s, UiCommand::EmptyTrash).commands.is_empty());
        assert_eq!(s.dialog, None, "nothing to empty");
        for (p, toggle) in [
            ("/t/a", false),
            ("/t/b", true),
            ("/t/c", true),
            ("/t/c", true),
        ] {
            run(
                &mut s,
                UiCommand::SelectTrashed {
                    path: p.into(),
                    toggle,
                },
            );
        }
        assert_eq!(s.trash_selected.len(), 2, "a and b");
        // What is no longer in the trash is no longer selected.
        s.apply(Update::Trash(Vec::new()));
        assert!(s.trash_selected.is_empty());
        assert!(matches!(
            run(&mut s, UiCommand::ShowTrash).commands.as_slice(),
            [Command::Navigate { .. }]
        ));
        assert!(!s.show_trash);
    }
}
