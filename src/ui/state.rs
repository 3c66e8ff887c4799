//! What the window shows, and how updates from the core change it. No egui drawing here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use eframe::egui;

use crate::ui::bridge::{Command, Drive, LocationView, Update};
use crate::ui::explorer::{Explorer, ViewMode};
use crate::ui::search::SearchFilters;
use crate::vdfs::jobs::{JobId, JobProgress, JobRecord, JobStatus};
use crate::vdfs::query::browse::Source;
use crate::vdfs::{Event, LibraryConfig, LibrarySummary};

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
    /// Mounted volumes.
    pub drives: Vec<Drive>,
    /// Favourite folders.
    pub favourites: Vec<PathBuf>,
    /// The applications that open a file (for "Open with").
    pub apps: Option<(PathBuf, Vec<crate::vdfs::platform::open_with::App>)>,
    /// A name to select once the listing shows it (after "go to this copy").
    pub reveal: Option<String>,
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
    /// Which copy the Duplicates view marks as kept: newest (`true`) or oldest.
    pub keep_newest: bool,
    /// The folder view.
    pub explorer: Explorer,
    /// Free and total bytes of the shown folder's volume.
    pub space: Option<(u64, u64)>,
    /// The last error to show, with when it arrived.
    pub error: Option<(String, Instant)>,
    /// Text of the "New library" dialog, when it is open.
    pub new_library: Option<String>,
    /// Whether the jobs drawer is expanded.
    pub jobs_open: bool,
    /// Whether the settings window is open.
    pub settings_open: bool,
    /// The folder to show first.
    pub start_folder: Option<PathBuf>,
    /// Thumbnails received, by path; `None` = cannot be previewed.
    pub thumbs: std::collections::HashMap<PathBuf, Option<Arc<egui::ColorImage>>>,
    /// Thumbnails asked for and not yet received.
    pub thumbs_pending: std::collections::HashSet<PathBuf>,
    /// Size of a grid cell's picture, in points (the zoom slider).
    pub grid_zoom: f32,
    /// The view new folders open in.
    pub default_view: ViewMode,
    /// Per running job: when its current phase was first seen and with which count, for the
    /// rate and the time left.
    pub job_rates: std::collections::HashMap<JobId, (String, Instant, u64)>,
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
            keep_newest: true,
            default_view: ViewMode::List,
            start_folder: directories::UserDirs::new().map(|d| d.home_dir().to_owned()),
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
        match update {
            Update::Libraries(list) => self.libraries = list,
            Update::Library(r) => {
                if r.is_ok() {
                    self.jobs.clear();
                    self.live.clear();
                    self.locations.clear();
                }
                self.library = Some(r);
                return self
                    .explorer
                    .folder
                    .clone()
                    .map(|f| self.navigate(f, false));
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
                if stale
                    && !e.loading
                    && let Some(f) = e.folder.clone()
                    && self.locations.iter().any(|l| {
                        !l.indexing
                            && l.record.indexed_ms.is_some_and(|t| t > e.listed_ms)
                            && f.starts_with(l.record.path())
                    })
                {
                    return Some(self.navigate(f, false));
                }
            }
            Update::Drives(d) => self.drives = d,
            Update::Favourites(f) => self.favourites = f,
            Update::Apps { path, apps } => self.apps = Some((path, apps)),
            Update::Dupes(g) => self.dupes = Some(g),
            Update::Found {
                ticket,
                hits,
                total,
                fuzzy,
            } => {
                if ticket == self.search_ticket {
                    self.found = Some((hits, total, fuzzy));
                }
            }
            Update::NamesUpdated => self.search_again = self.searching(),
            Update::Reveal(path) => {
                self.show_dupes = false;
                self.search_text.clear();
                self.search_filters = SearchFilters::default();
                self.found = None;
                if let Some(parent) = path.parent() {
                    self.reveal = path.file_name().map(|n| n.to_string_lossy().into_owned());
                    return Some(self.navigate(parent.to_path_buf(), true));
                }
            }
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
            Update::ListingDone {
                ticket,
                result,
                space,
            } => {
                if ticket == self.explorer.ticket {
                    self.explorer.loading = false;
                    self.space = space;
                    match result {
                        Ok(s) => self.explorer.source = Some(s),
                        Err(e) => self.explorer.error = Some(e),
                    }
                }
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
            Update::Thumbnail { path, image } => {
                self.thumbs_pending.remove(&path);
                if self.thumbs.len() > 2000 {
                    self.thumbs.clear();
                }
                self.thumbs.insert(path, image);
            }
            Update::Error(e) => self.error = Some((e, Instant::now())),
            Update::Event(e) => match e {
                Event::JobProgress { job, progress } => {
                    let entry = self.job_rates.entry(job).or_insert_with(|| {
                        (progress.phase.clone(), Instant::now(), progress.completed)
                    });
                    if entry.0 != progress.phase {
                        *entry = (progress.phase.clone(), Instant::now(), progress.completed);
                    }
                    self.live.insert(job, progress);
                }
                Event::JobStatusChanged { job, status } => {
                    if let Some(j) = self.jobs.iter_mut().find(|j| j.id == job) {
                        j.status = status;
                    }
                }
                Event::JobFinished { .. } => {
                    // An index just finished: the folder shown may now come from the index.
                    return Some(Command::Refresh);
                }
                Event::JobQueued { .. } | Event::LibrariesChanged => return Some(Command::Refresh),
                Event::DeviceRenamed { name } => self.device_name = name,
                Event::LibraryOpened { .. } | Event::LibraryClosed { .. } => {}
            },
        }
        None
    }

    /// Starts showing `folder`; returns the listing command to send.
    pub fn navigate(&mut self, folder: PathBuf, record: bool) -> Command {
        let ticket = self.explorer.open(folder.clone(), record);
        Command::Navigate {
            ticket,
            path: folder,
        }
    }

    /// The open library's configuration, if one is open.
    pub fn library_config(&self) -> Option<&LibraryConfig> {
        match &self.library {
            Some(Ok((c, _))) => Some(c),
            _ => None,
        }
    }
}
