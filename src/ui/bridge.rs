//! The channels between the window and the core.
//!
//! The UI sends [`Command`]s; a task on the core's runtime carries each out (blocking core calls
//! run on the blocking pool) and answers with [`Update`]s. Core [`Event`]s are forwarded as
//! updates too. Every update is followed by a call to the repaint waker, so the window redraws
//! only when there is news.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::{broadcast, mpsc as tmpsc};
use uuid::Uuid;

use crate::ui::dnd::DropOp;
use crate::vdfs::actions::{Committed, OpKind, Preview, Request};
use crate::vdfs::fs::mounts::space_of;
use crate::vdfs::fs::rules::Rules;
pub use crate::vdfs::fs::trash::Trashed;
pub use crate::vdfs::fs::volumes::Volume;
use crate::vdfs::index::location::IndexMode;
use crate::vdfs::jobs::diagnostic::DiagnosticJob;
use crate::vdfs::jobs::{JobId, JobRecord};
pub use crate::vdfs::library::LocationStatus as LocationView;
use crate::vdfs::query::browse::{Details, Item, ListError, Source};
use crate::vdfs::{Core, Event, LibraryConfig, LibrarySummary};

/// What the window asks the core to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Re-read the library list and the open library's jobs.
    Refresh,
    /// Open another library.
    OpenLibrary(Uuid),
    /// Create a library with this name and open it.
    CreateLibrary(String),
    /// Pause a job.
    PauseJob(JobId),
    /// Resume a job.
    ResumeJob(JobId),
    /// Cancel a job.
    CancelJob(JobId),
    /// Run the diagnostic self-check job (N batches).
    RunDiagnostic(u64),
    /// List a folder; chunks come back tagged with `ticket`.
    Navigate {
        /// The UI's ticket for this listing.
        ticket: u64,
        /// The folder.
        path: PathBuf,
    },
    /// List the folder shown again after a live change: the whole listing comes back at once
    /// as `Update::Replace` tagged with the same `ticket` (the rows, the selection and the
    /// scroll stay until it is swapped in; a navigation since drops it).
    Relist {
        /// The ticket of the listing shown.
        ticket: u64,
        /// The folder.
        path: PathBuf,
    },
    /// Gather the inspector's details of a path.
    Inspect(PathBuf),
    /// Add a folder as a location and index it.
    AddLocation(PathBuf, IndexMode),
    /// Index a location again.
    RescanLocation(u32),
    /// Forget a location's index.
    RemoveLocation(u32),
    /// Change a location's index mode (and rescan).
    SetLocationMode(u32, IndexMode),
    /// Open a file or folder with the system's default application.
    OpenPath(PathBuf),
    /// Show a path in the system file manager.
    Reveal(PathBuf),
    /// Ask for a folder with the system's folder picker and add it as a location.
    PickLocation,
    /// Add (`true`) or remove a favourite folder.
    Favourite(PathBuf, bool),
    /// Find the applications that open this file.
    AppsFor(PathBuf),
    /// Find the best local copy of a content (a `cairn://content/<uuid>` address) and show it.
    ShowContent(Uuid),
    /// The search box was cleared: stop a walk made for an ephemeral search.
    StopSearch,
    /// Compute the library's duplicate groups.
    FindDupes,
    /// Search; results come back tagged with `ticket`. A query scoped to a folder outside
    /// every location runs over an ephemeral index of a walk of that folder.
    Search {
        /// The UI's ticket for this search.
        ticket: u64,
        /// The query.
        query: Box<crate::vdfs::query::search::Query>,
    },
    /// Open a file with this application.
    OpenWith(PathBuf, crate::vdfs::platform::open_with::App),
    /// Start a terminal in this folder.
    OpenTerminal(PathBuf),
    /// Remember this folder as the one to open next time (it was just listed).
    RememberFolder(PathBuf),
    /// Remember the list view's hidden columns (by name) for the next start.
    RememberColumns(Vec<String>),
    /// Preview a file operation on the blocking pool (touching nothing). With `ask`, the
    /// preview always comes back ([`Update::Previewed`]) for the person to confirm; without,
    /// it is committed at once unless it needs attention (a conflict, a warning, a refusal).
    FileOp {
        /// The operation.
        request: Box<Request>,
        /// Always show the preview first (permanent delete).
        ask: bool,
    },
    /// Items dropped on a folder: [`DropOp::Auto`] becomes a move when every item's folder
    /// is on the destination's file system (their `st_dev`, read here, off the UI thread)
    /// and a copy otherwise; then it goes on as a [`Command::FileOp`] without `ask`, like a
    /// paste.
    Drop {
        /// The items, exact paths.
        paths: Vec<PathBuf>,
        /// The folder they were dropped on.
        to: PathBuf,
        /// Move, copy, or as the file systems decide.
        op: DropOp,
    },
    /// Carry out a preview the person confirmed.
    Commit(Box<Preview>),
    /// Undo the newest file operation that can be undone.
    Undo,
    /// Redo the newest undo.
    Redo,
    /// List the desktop trash ([`Update::Trash`]).
    ListTrash,
    /// Paired devices: pairing, browsing, copying ([`Update::Peer`]).
    Peer(crate::ui::peers::PeerCommand),
    /// Delete everything in the trash for good (the person confirmed).
    EmptyTrash,
    /// Trash the copies of duplicate groups that are not kept, as one undoable trash: each
    /// group is first confirmed by full-file hashes (copies that differ, or cannot be read,
    /// are left alone and said in an [`Update::Error`]), then every copy not in `keep` and
    /// not a hard link of a kept file goes. A group left with no kept copy is not touched.
    /// Reported like [`Command::FileOp`]; [`Update::OpFailed`] when nothing is left to trash.
    ///
    /// With `link`, the copies are not trashed but replaced by hard links to a kept copy on
    /// their volume (copies with none there are left alone and said); the preview is then
    /// always shown first ([`Update::Previewed`]).
    TrashDupes {
        /// The groups, as the view showed them.
        groups: Vec<crate::vdfs::query::dupes::Group>,
        /// The copies to keep, exact paths.
        keep: Vec<PathBuf>,
        /// Replace by hard links instead of trashing.
        link: bool,
    },
    /// Read the library's tags and which entries and contents carry them
    /// ([`Update::Tags`]).
    ListTags,
    /// Put a tag on (`on`) or take it off items (their entries).
    SetTag {
        /// The tag.
        tag: Uuid,
        /// The items, exact paths.
        paths: Vec<PathBuf>,
        /// Put on, or take off.
        on: bool,
    },
    /// Add items to a collection (`collection`), or make one named `name` with them.
    Collect {
        /// The collection.
        collection: Option<Uuid>,
        /// A new collection's name.
        name: Option<String>,
        /// The items.
        paths: Vec<PathBuf>,
    },
    /// Save a search under a name.
    SaveSearch {
        /// Its name.
        name: String,
        /// The query.
        query: Box<crate::vdfs::query::search::Query>,
    },
    /// Undo the newest tagging made on this device ([`Update::Said`] says what).
    UndoTagging,
    /// Rename a tag and/or set its colour.
    EditTag {
        /// The tag.
        tag: Uuid,
        /// A new name.
        name: Option<String>,
        /// A new colour (`Some(None)` clears it).
        colour: Option<Option<String>>,
    },
    /// Delete a tag.
    DeleteTag(Uuid),
    /// List the missing items ([`Update::Missing`]).
    ListMissing,
    /// Forget what was on these missing items, then list them again.
    ForgetMissing(Vec<Uuid>),
    /// Change every field of a tag (the tag editor).
    UpdateTag {
        /// The tag.
        tag: Uuid,
        /// What it becomes.
        edit: Box<crate::vdfs::library::TagEdit>,
    },
    /// Merge tag `from` into tag `into`.
    MergeTags {
        /// The tag merged away.
        from: Uuid,
        /// The tag kept.
        into: Uuid,
    },
    /// Put tag `tag` under `to` instead of under `from` (`None`: at the top).
    ReparentTag {
        /// The tag.
        tag: Uuid,
        /// The parent it leaves.
        from: Option<Uuid>,
        /// The parent it goes under.
        to: Option<Uuid>,
    },
    /// Set an item's marks (note, rating, label, favourite), or with `content` its content's
    /// (every copy); [`Update::Meta`] comes back.
    SetMeta {
        /// The item.
        path: PathBuf,
        /// On its content instead.
        content: bool,
        /// What changes.
        change: crate::vdfs::library::MetaChange,
    },
    /// Make a tag and put it on items (their entries).
    CreateTag {
        /// Its name.
        name: String,
        /// The items.
        paths: Vec<PathBuf>,
    },
    /// Whether the list shows its Created column (creation times are read for an index
    /// listing only then).
    WantCreated(bool),
    /// Read the pixel size of these images from their headers (the rows the list shows).
    Dimensions(Vec<PathBuf>),
    /// Make (or load) the thumbnail of an image; the newest request is served first.
    Thumbnail {
        /// The image.
        path: PathBuf,
        /// Its content identity, when indexed (the sidecar is shared by every copy).
        content: Option<Uuid>,
    },
}

/// What the core tells the window.
#[derive(Debug, Clone)]
pub enum Update {
    /// The libraries in the data directory.
    Libraries(Vec<LibrarySummary>),
    /// The open library changed (or could not be opened: `Err` with the reason).
    Library(Result<(LibraryConfig, std::path::PathBuf), String>),
    /// The open library's jobs, oldest first.
    Jobs(Vec<JobRecord>),
    /// A core event.
    Event(Event),
    /// Something done that the status bar says (an undone tagging).
    Said(String),
    /// A command failed.
    Error(String),
    /// No folder picker of the system is available: the person chooses the folder to index
    /// in the window itself.
    ChooseInWindow,
    /// An answer about paired devices.
    Peer(crate::ui::peers::PeerUpdate),
    /// A file or folder could not be opened (or revealed).
    OpenFailed(crate::vdfs::platform::OpenError),
    /// The open library's locations.
    Locations(Vec<LocationView>),
    /// The mounted volumes (pseudo file systems left out), in mount order.
    Volumes(Vec<Volume>),
    /// The open library's favourites, each with whether it is a folder (else a file, shown
    /// in its folder).
    Favourites(Vec<(PathBuf, bool)>),
    /// The note and rating of the item inspected.
    Meta {
        /// The item.
        path: PathBuf,
        /// Its note and rating, on it and on its content.
        meta: crate::vdfs::library::MetaOf,
    },
    /// The open library's tags, and which entries and contents carry them.
    Tags {
        /// Every tag, sorted by name.
        tags: Vec<crate::vdfs::library::TagInfo>,
        /// Every collection, sorted by name.
        collections: Vec<crate::vdfs::library::CollectionInfo>,
        /// Every saved search.
        saved: Vec<crate::vdfs::library::SavedSearch>,
        /// Entry or content UUID → its tags.
        map: crate::vdfs::library::TagMap,
        /// Entry or content UUID → its label colour.
        labels: crate::vdfs::library::LabelMap,
    },
    /// Part of a listing.
    Chunk {
        /// The listing's ticket.
        ticket: u64,
        /// Items.
        items: Vec<Item>,
    },
    /// A listing finished (or could not start).
    ListingDone {
        /// The listing's ticket.
        ticket: u64,
        /// Where it came from, or why it failed.
        result: Result<Source, ListError>,
        /// Free and total bytes of the folder's volume.
        space: Option<(u64, u64)>,
    },
    /// The inspector's details.
    Details(Details),
    /// Show this file: open its folder and select it.
    Reveal(PathBuf),
    /// The library's duplicate groups, largest waste first.
    Dupes(Vec<crate::vdfs::query::dupes::Group>),
    /// Search results.
    Found {
        /// The search's ticket.
        ticket: u64,
        /// The best results.
        hits: Vec<crate::vdfs::query::search::Hit>,
        /// All matches.
        total: usize,
        /// How many of them match only fuzzily.
        fuzzy: usize,
    },
    /// The library's name index was brought up to date: a search shown may be re-run.
    NamesUpdated,
    /// The applications that open a file.
    Apps {
        /// The file.
        path: PathBuf,
        /// Applications, by name.
        apps: Vec<crate::vdfs::platform::open_with::App>,
    },
    /// The creation times of a listing's items (exact name, ns since the epoch), read from the
    /// disk after an index listing.
    Created {
        /// The listing's ticket.
        ticket: u64,
        /// Each item's creation time by its exact name.
        times: Vec<(Vec<u8>, i64)>,
    },
    /// The folder as it is on disk, replacing the index listing: it changed since it was
    /// indexed, or holds items the location's rules leave out of the index.
    Replace {
        /// The listing's ticket.
        ticket: u64,
        /// Items.
        items: Vec<Item>,
        /// The folder changed since its scan (a rescan would update the index).
        changed: bool,
    },
    /// A preview for the person to look at: it has conflicts, warnings or refusals, or it
    /// was asked for with `ask` (permanent delete).
    Previewed {
        /// What was asked (to ask again with another conflict choice).
        request: Box<Request>,
        /// What would happen.
        preview: Box<Preview>,
    },
    /// A file operation went ahead: an immediate one is done, a job has started.
    OpStarted(OpReport),
    /// A file operation's job ended (its audit record says how).
    OpFinished(OpReport),
    /// A file operation (or an undo or a redo) could not be previewed or carried out.
    OpFailed {
        /// The operation, when known (an undo's is not).
        kind: Option<OpKind>,
        /// The item it was about (a rename's), if one.
        path: Option<PathBuf>,
        /// Why, in words.
        error: String,
    },
    /// The items of the desktop trash, newest first.
    Trash(Vec<Trashed>),
    /// The missing items (tagged, noted or collected entries gone from the index), newest
    /// gone first.
    Missing(Vec<crate::vdfs::library::MissingItem>),
    /// Images' pixel sizes (`None`: not an image that can be read).
    Dimensions(Vec<(PathBuf, Option<(u32, u32)>)>),
    /// A thumbnail (RGBA pixels), or `None` if the image cannot be previewed.
    Thumbnail {
        /// The image it belongs to.
        path: PathBuf,
        /// Pixels, at most 256 on the longest side.
        image: Option<Arc<eframe::egui::ColorImage>>,
    },
}

/// What a file operation did (or, for a job, is doing), for the status line and the views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpReport {
    /// The operation (the one undone or redone, for an undo or a redo).
    pub kind: OpKind,
    /// Its audit record.
    pub audit: u64,
    /// Its job, if it runs as one.
    pub job: Option<JobId>,
    /// The path an immediate change made or renamed to.
    pub path: Option<PathBuf>,
    /// Files and bytes the preview counted (for the jobs drawer's rate and time left).
    pub files: u64,
    /// Bytes the preview counted.
    pub bytes: u64,
    /// Title and outcome, e.g. `Trash 3 items: 3 trashed`.
    pub text: String,
    /// It was an undo (or a redo).
    pub undo: bool,
    /// It ended with errors, failed or was cancelled.
    pub failed: bool,
}

/// The window's end of the channels.
pub struct Bridge {
    commands: tmpsc::UnboundedSender<Command>,
    updates: mpsc::Receiver<Update>,
}

/// Wakes the UI thread (eframe: `ctx.request_repaint()`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

impl Bridge {
    /// Starts the core-side tasks. `waker` is called after every update.
    pub fn start(core: Core, waker: Waker) -> Bridge {
        Bridge::start_with(core, waker, None)
    }

    /// [`Bridge::start`], with the window's endpoint listening on `listen` when given (tests
    /// keep it on loopback, where local discovery stays off).
    pub fn start_with(core: Core, waker: Waker, listen: Option<std::net::SocketAddr>) -> Bridge {
        let (cmd_tx, mut cmd_rx) = tmpsc::unbounded_channel::<Command>();
        let (up_tx, up_rx) = mpsc::channel::<Update>();
        let send = {
            let waker = waker.clone();
            move |u: Update| {
                let _ = up_tx.send(u);
                waker();
            }
        };
        let rt = core.runtime().clone();

        // Forward core events.
        let mut events = core.events().subscribe();
        let forward = send.clone();
        rt.spawn(async move {
            loop {
                match events.recv().await {
                    Ok(e) => forward(Update::Event(e)),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });

        // Thumbnails: a bounded pool of 2 threads serving the newest requests first, so what
        // is on screen now is made before what was scrolled past.
        let thumbs = Arc::new(ThumbQueue::default());
        for n in 0..2 {
            let q = thumbs.clone();
            let core = core.clone();
            let send = send.clone();
            std::thread::Builder::new()
                .name(format!("cairn-thumb-{n}"))
                .spawn(move || thumb_worker(&core, &q, &send))
                .expect("spawn a thumbnail thread");
        }
        // Carry out commands off the async workers: listings and inspections run side by side
        // (a new one makes the old one stop), everything else one at a time.
        let current = Arc::new(Current::default());
        // The library's name index is brought up to date as soon as a library opens or a job
        // ends, so the next search does not wait for it; an ephemeral one is kept for the
        // last folder outside the locations that was searched.
        let searching = Arc::new(Current::default());
        // Whether the list shows its Created column: only then are creation times read for
        // an index listing (a folder listed from the disk has them anyway).
        let want_created = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // The folder to reopen next time: the newest asked for, written under this lock, so
        // two writes on the blocking pool finishing out of order never leave an older one.
        let remembered: Arc<std::sync::Mutex<Option<PathBuf>>> = Arc::default();
        {
            let core = core.clone();
            let send = send.clone();
            let mut ev = core.events().subscribe();
            rt.spawn(async move {
                loop {
                    match ev.recv().await {
                        Ok(Event::JobFinished { .. } | Event::LibraryOpened { .. }) => {
                            core.forget_ephemeral_search();
                            let core = core.clone();
                            let send = send.clone();
                            tokio::task::spawn_blocking(move || {
                                let Ok(lib) = core.library() else { return };
                                let stale = lib.name_index_stale().unwrap_or(true);
                                match lib.name_index() {
                                    // Results shown from the index before may be out of date.
                                    Ok(_) if stale => send(Update::NamesUpdated),
                                    Ok(_) => {}
                                    Err(e) => tracing::warn!("name index: {e}"),
                                }
                            });
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
        }
        // The window's endpoint: started now if a device is paired (so it can browse this
        // one), else by the first network command.
        let window_net = crate::ui::peers::WindowNet::new(listen);
        if crate::net::peers::PairedDevices::at(core.data_dir().config())
            .list()
            .is_ok_and(|l| !l.is_empty())
        {
            let (n, core) = (window_net.clone(), core.clone());
            rt.spawn(async move {
                if let Err(e) = n.get(&core).await {
                    tracing::warn!("networking is off: {e}");
                }
            });
        }
        rt.spawn(async move {
            while let Some(cmd) = cmd_rx.recv().await {
                let core = core.clone();
                let send = send.clone();
                match cmd {
                    Command::Peer(pc) => {
                        let n = window_net.clone();
                        tokio::spawn(crate::ui::peers::handle(core, n, pc, move |u| {
                            send(Update::Peer(u));
                        }));
                    }
                    Command::Navigate { ticket, path } => {
                        current.set(ticket);
                        let current = current.clone();
                        let created = want_created.load(std::sync::atomic::Ordering::Relaxed);
                        tokio::task::spawn_blocking(move || {
                            navigate(&core, ticket, &path, &current, created, &send);
                        });
                    }
                    Command::WantCreated(on) => {
                        want_created.store(on, std::sync::atomic::Ordering::Relaxed);
                    }
                    Command::Relist { ticket, path } => {
                        let current = current.clone();
                        let created = want_created.load(std::sync::atomic::Ordering::Relaxed);
                        tokio::task::spawn_blocking(move || {
                            let mut items = Vec::new();
                            let listed = core.list_folder(&path, &mut |chunk: Vec<Item>| {
                                items.extend(chunk);
                                current.is(ticket)
                            });
                            let Ok(source) = listed else { return };
                            if !current.is(ticket) {
                                return;
                            }
                            // The index does not keep creation times: while they are shown,
                            // they come from the disk's check, after the rows.
                            let check = match source {
                                Source::Index { location, .. } if created => {
                                    Some((items.clone(), location))
                                }
                                _ => None,
                            };
                            send(Update::Replace {
                                ticket,
                                items,
                                changed: false,
                            });
                            if let Some((items, location)) = check
                                && current.is(ticket)
                                && let Some(checked) =
                                    core.check_folder(&path, &items, Some(location), true)
                            {
                                send_checked(ticket, checked, &send);
                            }
                        });
                    }
                    Command::Inspect(path) => {
                        tokio::task::spawn_blocking(move || inspect(&core, &path, &send));
                    }
                    Command::Thumbnail { path, content } => thumbs.push(path, content),
                    Command::Dimensions(paths) => {
                        tokio::task::spawn_blocking(move || {
                            let dims = paths
                                .into_iter()
                                .map(|p| {
                                    let d = crate::vdfs::sidecars::thumbnail::image_dimensions(&p);
                                    (p, d)
                                })
                                .collect();
                            send(Update::Dimensions(dims));
                        });
                    }
                    Command::StopSearch => core.stop_ephemeral_search_unless(None),
                    Command::Search { ticket, query } => {
                        searching.set(ticket);
                        // A walk for a search elsewhere is not wanted any more.
                        core.stop_ephemeral_search_unless(query.within.as_deref());
                        let searching = searching.clone();
                        tokio::task::spawn_blocking(move || {
                            search(&core, &searching, ticket, &query, &send);
                        });
                    }
                    Command::PickLocation => {
                        // The native picker blocks until the person answers: on its own
                        // blocking thread, so other commands go on meanwhile.
                        tokio::task::spawn_blocking(move || pick_location(&core, &send));
                    }
                    Command::RememberColumns(columns) => {
                        tokio::task::spawn_blocking(move || {
                            if let Err(e) = core.remember_hidden_columns(columns) {
                                tracing::warn!("{e}");
                            }
                        });
                    }
                    Command::RememberFolder(path) => {
                        *remembered.lock().unwrap_or_else(|p| p.into_inner()) = Some(path);
                        let remembered = remembered.clone();
                        tokio::task::spawn_blocking(move || {
                            let newest = remembered.lock().unwrap_or_else(|p| p.into_inner());
                            if let Some(path) = newest.as_ref()
                                && let Err(e) = core.remember_folder(path)
                            {
                                tracing::warn!("{e}");
                            }
                        });
                    }
                    Command::FileOp { .. }
                    | Command::Drop { .. }
                    | Command::Commit(_)
                    | Command::Undo
                    | Command::Redo
                    | Command::ListTrash
                    | Command::EmptyTrash
                    | Command::TrashDupes { .. } => {
                        // One at a time, in order (an undo after a trash undoes that trash);
                        // a job's end is awaited on a thread of its own.
                        let r =
                            tokio::task::spawn_blocking(move || file_op(&core, cmd, &send)).await;
                        if let Err(e) = r {
                            tracing::error!("a file operation crashed: {e}");
                        }
                    }
                    Command::AppsFor(path) => {
                        tokio::task::spawn_blocking(move || {
                            let apps = crate::vdfs::platform::open_with::apps_for_file(&path);
                            send(Update::Apps { path, apps });
                        });
                    }
                    cmd => {
                        let r =
                            tokio::task::spawn_blocking(move || handle(&core, cmd, &send)).await;
                        if let Err(e) = r {
                            tracing::error!("a UI command crashed: {e}");
                        }
                    }
                }
            }
        });
        Bridge {
            commands: cmd_tx,
            updates: up_rx,
        }
    }

    /// Queues a command; never blocks.
    pub fn send(&self, cmd: Command) {
        let _ = self.commands.send(cmd);
    }

    /// The next pending update, if any; never blocks.
    pub fn try_recv(&self) -> Option<Update> {
        self.updates.try_recv().ok()
    }
}

fn handle(core: &Core, cmd: Command, send: &impl Fn(Update)) {
    let result: Result<(), String> = (|| {
        match cmd {
            Command::Refresh => {}
            Command::OpenLibrary(id) => {
                let r = core
                    .open_library(Some(&id.to_string()))
                    .map(|l| (l.config(), l.path().to_owned()))
                    .map_err(|e| e.to_string());
                send(Update::Library(r));
            }
            Command::CreateLibrary(name) => {
                let s = core.create_library(&name, "").map_err(|e| e.to_string())?;
                let r = core
                    .open_library_at(&s.path)
                    .map(|l| (l.config(), l.path().to_owned()))
                    .map_err(|e| e.to_string());
                send(Update::Library(r));
            }
            Command::PauseJob(id) => jobs(core)?.pause(id).map_err(|e| e.to_string())?,
            Command::ResumeJob(id) => {
                jobs(core)?.resume(id).map_err(|e| e.to_string())?;
            }
            Command::CancelJob(id) => {
                jobs(core)?.cancel(id).map_err(|e| e.to_string())?;
            }
            Command::RunDiagnostic(n) => {
                jobs(core)?
                    .spawn(DiagnosticJob::new(n, 100))
                    .map_err(|e| e.to_string())?;
            }
            Command::OpenWith(path, app) => crate::vdfs::platform::open_with::launch(&app, &path)?,
            Command::OpenTerminal(folder) => {
                crate::vdfs::platform::terminal::open_in(
                    &folder,
                    std::env::var_os("TERMINAL"),
                    &std::env::var_os("PATH").unwrap_or_default(),
                )?;
            }
            Command::FindDupes => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let groups = lib
                    .dupes(&crate::vdfs::query::dupes::DupesQuery::default())
                    .map_err(|e| e.to_string())?;
                send(Update::Dupes(groups));
            }
            Command::ShowContent(uuid) => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let content = lib
                    .content_by_uuid(uuid)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("no file in this library has content {uuid}"))?;
                let path = lib
                    .best_copy(content.cas)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| {
                        format!("no copy of content {uuid} is reachable on this device")
                    })?;
                send(Update::Reveal(path));
            }
            Command::Favourite(path, on) => {
                let lib = core.library().map_err(|e| e.to_string())?;
                lib.set_favourite(&path, on).map_err(|e| e.to_string())?;
            }
            Command::ListTags => {
                let lib = core.library().map_err(|e| e.to_string())?;
                send_tags(&lib, send);
            }
            Command::SetTag { tag, paths, on } => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let tag = tag.to_string();
                if on {
                    lib.tag_paths(&tag, &paths, false, false)
                } else {
                    lib.untag_paths(&tag, &paths, false, false)
                }
                .map_err(|e| e.to_string())?;
            }
            Command::EditTag { tag, name, colour } => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let id = tag.to_string();
                if let Some(n) = name {
                    lib.rename_tag(&id, &n).map_err(|e| e.to_string())?;
                }
                if colour.is_some() {
                    lib.set_tag(&id, colour, None, None)
                        .map_err(|e| e.to_string())?;
                }
            }
            Command::SetMeta {
                path,
                content,
                change,
            } => {
                let lib = core.library().map_err(|e| e.to_string())?;
                lib.set_meta(&path, content, change)
                    .map_err(|e| e.to_string())?;
                if let Ok(meta) = lib.meta_of(&path) {
                    send(Update::Meta { path, meta });
                }
            }
            Command::Collect {
                collection,
                name,
                paths,
            } => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let id = match (collection, name) {
                    (Some(id), _) => id,
                    (None, Some(n)) => lib.create_collection(&n).map_err(|e| e.to_string())?.id,
                    (None, None) => return Ok(()),
                };
                lib.change_collection(&id.to_string(), &paths, false, true)
                    .map_err(|e| e.to_string())?;
            }
            Command::SaveSearch { name, query } => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let s = lib.save_search(&name, &query).map_err(|e| e.to_string())?;
                send(Update::Said(format!("Saved the search as \"{}\"", s.name)));
            }
            Command::UndoTagging => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let text = match lib.undo_tagging().map_err(|e| e.to_string())? {
                    Some((tag, n, true)) => format!(
                        "Undone: took \"{tag}\" off {n} item{}",
                        if n == 1 { "" } else { "s" }
                    ),
                    Some((tag, n, false)) => format!(
                        "Undone: put \"{tag}\" back on {n} item{}",
                        if n == 1 { "" } else { "s" }
                    ),
                    None => "Nothing to undo".to_owned(),
                };
                send(Update::Said(text));
            }
            Command::UpdateTag { tag, edit } => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let t = lib
                    .edit_tag(&tag.to_string(), &edit)
                    .map_err(|e| e.to_string())?;
                send(Update::Said(format!("Saved the tag \"{}\"", t.qualified())));
            }
            Command::MergeTags { from, into } => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let gone = lib.find_tag(&from.to_string()).map_err(|e| e.to_string())?;
                let t = lib
                    .merge_tags(&from.to_string(), &into.to_string())
                    .map_err(|e| e.to_string())?;
                send(Update::Said(format!(
                    "Merged \"{}\" into \"{}\"",
                    gone.qualified(),
                    t.qualified()
                )));
            }
            Command::ReparentTag { tag, from, to } => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let id = tag.to_string();
                // Under the new parent first: a failure (a cycle) leaves it where it was.
                if let Some(to) = to {
                    lib.add_tag_parent(&id, &to.to_string())
                        .map_err(|e| e.to_string())?;
                }
                if let Some(from) = from
                    && Some(from) != to
                {
                    lib.remove_tag_parent(&id, &from.to_string())
                        .map_err(|e| e.to_string())?;
                }
            }
            Command::ListMissing => {
                let lib = core.library().map_err(|e| e.to_string())?;
                send(Update::Missing(
                    lib.missing_items().map_err(|e| e.to_string())?,
                ));
            }
            Command::ForgetMissing(entries) => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let n = lib.forget_missing(&entries).map_err(|e| e.to_string())?;
                send(Update::Said(format!(
                    "Forgot what was on {}",
                    if n == 1 {
                        "1 missing item".to_owned()
                    } else {
                        format!("{} missing items", crate::format::count(n))
                    }
                )));
                send(Update::Missing(
                    lib.missing_items().map_err(|e| e.to_string())?,
                ));
            }
            Command::DeleteTag(tag) => {
                let lib = core.library().map_err(|e| e.to_string())?;
                lib.delete_tag(&tag.to_string())
                    .map_err(|e| e.to_string())?;
            }
            Command::CreateTag { name, paths } => {
                let lib = core.library().map_err(|e| e.to_string())?;
                let t = lib
                    .create_tag(&crate::vdfs::library::NewTag {
                        name,
                        ..Default::default()
                    })
                    .map_err(|e| e.to_string())?;
                if !paths.is_empty() {
                    lib.tag_paths(&t.id.to_string(), &paths, false, false)
                        .map_err(|e| e.to_string())?;
                }
            }

            Command::AddLocation(path, mode) => {
                let lib = core.library().map_err(|e| e.to_string())?;
                lib.add_location(&path, mode, Rules::default())
                    .map_err(|e| e.to_string())?;
            }
            Command::RescanLocation(id) => {
                let lib = core.library().map_err(|e| e.to_string())?;
                lib.rescan(id).map_err(|e| e.to_string())?;
            }
            Command::RemoveLocation(id) => {
                let lib = core.library().map_err(|e| e.to_string())?;
                lib.remove_location(id).map_err(|e| e.to_string())?;
            }
            Command::SetLocationMode(id, mode) => {
                let lib = core.library().map_err(|e| e.to_string())?;
                lib.set_location(id, Some(mode), None)
                    .map_err(|e| e.to_string())?;
                lib.rescan(id).map_err(|e| e.to_string())?;
            }
            Command::OpenPath(path) => {
                if let Err(e) = crate::vdfs::platform::open_path(&path) {
                    send(Update::OpenFailed(e));
                }
            }
            Command::Reveal(path) => {
                if let Err(e) = crate::vdfs::platform::reveal(&path) {
                    send(Update::OpenFailed(e));
                }
            }
            Command::Navigate { .. }
            | Command::Relist { .. }
            | Command::Search { .. }
            | Command::StopSearch
            | Command::PickLocation
            | Command::Inspect(_)
            | Command::Thumbnail { .. }
            | Command::Dimensions(_)
            | Command::WantCreated(_)
            | Command::RememberFolder(_)
            | Command::RememberColumns(_)
            | Command::AppsFor(_)
            | Command::FileOp { .. }
            | Command::Drop { .. }
            | Command::Commit(_)
            | Command::Undo
            | Command::Redo
            | Command::ListTrash
            | Command::EmptyTrash
            | Command::Peer(_)
            | Command::TrashDupes { .. } => {}
        }
        Ok(())
    })();
    if let Err(e) = result {
        send(Update::Error(e));
    }
    refresh(core, send);
}

/// Carries out a file-operation command: previews on this (blocking) thread, commits, and
/// reports; a job's end is awaited on another blocking thread, then reported with its audit
/// record's outcome.
fn file_op(core: &Core, cmd: Command, send: &(impl Fn(Update) + Clone + Send + 'static)) {
    let lib = match core.library() {
        Ok(l) => l,
        Err(e) => {
            send(Update::Error(e.to_string()));
            return;
        }
    };
    let failed = |kind: Option<OpKind>, path: Option<PathBuf>, error: String| {
        send(Update::OpFailed { kind, path, error });
    };
    let (kind, undo, done) = match cmd {
        Command::FileOp { request, ask } => {
            let path = (request.kind == OpKind::Rename)
                .then(|| request.sources.first().cloned())
                .flatten();
            let preview = match lib.preview(&request) {
                Ok(p) => p,
                Err(e) => return failed(Some(request.kind), path, e.to_string()),
            };
            // A rename's refusal (the name is taken, not allowed) is shown in its field, a
            // batch rename's in its dialog.
            if matches!(request.kind, OpKind::Rename | OpKind::BatchRename) && !preview.can_commit()
            {
                return failed(Some(request.kind), path, preview.refusals.join("; "));
            }
            let look = match preview.kind {
                // A trash is undone with Ctrl+Z: only a refusal, or a large trash, stops it.
                OpKind::Trash => !preview.can_commit() || preview.files > ASK_TRASH_FILES,
                // Conflicts with an answer chosen for all are not asked about again.
                _ => !preview.can_commit() || !preview.warnings.is_empty(),
            };
            if ask || look {
                send(Update::Previewed {
                    request,
                    preview: Box::new(preview),
                });
                return;
            }
            let totals = (preview.files, preview.bytes);
            match lib.commit(&preview) {
                Ok(c) => (preview.kind, false, Ok((c, totals))),
                Err(e) => return failed(Some(preview.kind), path, e.to_string()),
            }
        }
        Command::Drop { paths, to, op } => {
            let kind = op.kind(|| {
                crate::ui::dnd::same_device(&paths, &to, crate::vdfs::fs::entry::folder_device)
            });
            let request = Request::new(kind, paths).to(to);
            return file_op(
                core,
                Command::FileOp {
                    request: Box::new(request),
                    ask: false,
                },
                send,
            );
        }
        Command::Commit(preview) => {
            let totals = (preview.files, preview.bytes);
            (
                preview.kind,
                false,
                lib.commit(&preview).map(|c| (c, totals)),
            )
        }
        Command::Undo | Command::Redo => {
            let r = if cmd == Command::Undo {
                lib.undo(None)
            } else {
                lib.redo()
            };
            let kind = r
                .as_ref()
                .ok()
                .and_then(|c| lib.audit_record(c.audit()).ok().flatten())
                .map_or(OpKind::Restore, |r| r.kind);
            (kind, true, r.map(|c| (c, (0, 0))))
        }
        Command::ListTrash => {
            send(Update::Trash(lib.trash_items()));
            return;
        }
        Command::TrashDupes { groups, keep, link } => {
            let kind = if link {
                OpKind::HardLink
            } else {
                OpKind::Trash
            };
            let request = match dupes_to_trash(groups, &keep, link, send) {
                Ok(r) => r,
                Err(e) => return failed(Some(kind), None, e),
            };
            return file_op(
                core,
                Command::FileOp {
                    request: Box::new(request),
                    ask: link,
                },
                send,
            );
        }
        Command::EmptyTrash => {
            if let Err(e) = lib.empty_trash(None) {
                send(Update::Error(e.to_string()));
            }
            send(Update::Trash(lib.trash_items()));
            return;
        }
        _ => return,
    };
    let (committed, (files, bytes)) = match done {
        Ok(c) => c,
        Err(e) => return failed((!undo).then_some(kind), None, e.to_string()),
    };
    let audit = committed.audit();
    let outcome = move |lib: &crate::vdfs::Library| {
        lib.audit_record(audit)
            .ok()
            .flatten()
            .map(|r| {
                let failed = matches!(
                    r.status,
                    crate::vdfs::actions::audit::AuditStatus::Failed
                        | crate::vdfs::actions::audit::AuditStatus::Partial
                        | crate::vdfs::actions::audit::AuditStatus::Cancelled
                ) || !r.errors.is_empty();
                let text = if r.summary.is_empty() {
                    r.title
                } else {
                    format!("{}: {}", r.title, r.summary)
                };
                (text, failed)
            })
            .unwrap_or_default()
    };
    match committed {
        Committed::Done { path, .. } => {
            let (text, failed) = outcome(&lib);
            send(Update::OpStarted(OpReport {
                kind,
                audit,
                job: None,
                path: Some(path),
                files,
                bytes,
                text,
                undo,
                failed,
            }));
        }
        Committed::Job { handle, .. } => {
            let (text, _) = outcome(&lib);
            let report = OpReport {
                kind,
                audit,
                job: Some(handle.id()),
                path: None,
                files,
                bytes,
                text,
                undo,
                failed: false,
            };
            send(Update::OpStarted(report.clone()));
            let send = send.clone();
            tokio::task::spawn_blocking(move || {
                handle.wait();
                let (text, failed) = outcome(&lib);
                send(Update::OpFinished(OpReport {
                    text,
                    failed,
                    ..report
                }));
            });
        }
    }
}

/// The trash of the copies of `groups` not in `keep`, once the groups are confirmed by
/// full-file hashes (this reads every copy in full: on a blocking thread). Copies that turn
/// out to differ, or cannot be read, are left alone and said; `Err` when nothing is left.
/// A trash of more files than this (folders counted with what they hold) shows its preview
/// first: one Del on the wrong folder should not need an undo to find out.
pub const ASK_TRASH_FILES: u64 = 1_000;

fn dupes_to_trash(
    groups: Vec<crate::vdfs::query::dupes::Group>,
    keep: &[PathBuf],
    link: bool,
    send: &impl Fn(Update),
) -> Result<Request, String> {
    use crate::vdfs::query::dupes;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (confirmed, un) = dupes::confirm(groups, threads);
    let keep: std::collections::HashSet<&PathBuf> = keep.iter().collect();
    // A group whose kept copy differs from the rest (or is gone) has no kept copy left
    // among its confirmed part: it is counted as unkept and left whole.
    let r = dupes::others(&confirmed, |m| keep.contains(&m.path));
    let mut left = Vec::new();
    if !un.differ.is_empty() {
        left.push(format!(
            "{} differ from the rest of their group beyond the sampled hash",
            copies_text(un.differ.len())
        ));
    }
    if !un.unreadable.is_empty() {
        left.push(format!(
            "{} could not be read",
            copies_text(un.unreadable.len())
        ));
    }
    if r.unkept > 0 {
        left.push(format!(
            "{} no kept copy identical to the others",
            if r.unkept == 1 {
                "1 group has".to_owned()
            } else {
                format!("{} groups have", r.unkept)
            }
        ));
    }
    // A link needs a kept copy of the group on the copy's own volume.
    let mut pairs = Vec::new();
    if link {
        let (p, elsewhere) = dupes::link_pairs(&confirmed, |m| keep.contains(&m.path));
        pairs = p;
        if elsewhere > 0 {
            left.push(format!(
                "{} no kept copy on their volume",
                if elsewhere == 1 {
                    "1 copy has".to_owned()
                } else {
                    format!("{elsewhere} copies have")
                }
            ));
        }
    }
    let left = (!left.is_empty()).then(|| format!("left alone: {}", left.join("; ")));
    if r.paths.is_empty() || (link && pairs.is_empty()) {
        return Err(format!(
            "Nothing was {}{}",
            if link { "linked" } else { "trashed" },
            left.map(|l| format!(" ({l})")).unwrap_or_default()
        ));
    }
    if let Some(l) = left {
        send(Update::Error(format!("Some duplicates were {l}")));
    }
    if link {
        return Ok(Request::hard_links(pairs));
    }
    Ok(Request::new(OpKind::Trash, r.paths))
}

/// "1 copy", "3 copies".
fn copies_text(n: usize) -> String {
    if n == 1 {
        "1 copy".to_owned()
    } else {
        format!("{n} copies")
    }
}

fn jobs(core: &Core) -> Result<crate::vdfs::jobs::JobManager, String> {
    core.library()
        .map(|l| l.jobs().clone())
        .map_err(|e| e.to_string())
}

/// Sends the library list, the open library's jobs and locations, and the volumes.
pub fn refresh(core: &Core, send: &impl Fn(Update)) {
    match core.list_libraries() {
        Ok((list, _)) => send(Update::Libraries(list)),
        Err(e) => send(Update::Error(e.to_string())),
    }
    // Detection reads every mount (a hung network share up to a second): once per refresh,
    // for the locations and the drives alike.
    let mounted = crate::vdfs::fs::volumes::detect();
    if let Ok(lib) = core.library() {
        match lib.jobs().list() {
            Ok(jobs) => {
                let running: Vec<JobId> = jobs
                    .iter()
                    .filter(|j| !j.status.is_terminal())
                    .map(|j| j.id)
                    .collect();
                if let Ok(views) = lib.location_statuses_on(&running, &mounted) {
                    send(Update::Locations(views));
                }
                send(Update::Jobs(jobs));
                if let Ok(f) = lib.favourites() {
                    let f = f
                        .into_iter()
                        .map(|p| {
                            // An unreachable favourite opens as a folder (and says why not).
                            let dir = std::fs::metadata(&p).ok().is_none_or(|m| m.is_dir());
                            (p, dir)
                        })
                        .collect();
                    send(Update::Favourites(f));
                }
                send_tags(&lib, send);
            }
            Err(e) => send(Update::Error(e.to_string())),
        }
    }
    send(Update::Volumes(mounted));
}

/// The ticket each pane waits for: a listing or a search goes on only while it is its
/// pane's newest. A pane's tickets carry its serial number in their high 32 bits
/// ([`crate::ui::tabs::Pane::serial`]), so a new listing in one tab never stops another's.
#[derive(Debug, Default)]
struct Current(std::sync::Mutex<std::collections::HashMap<u32, u64>>);

impl Current {
    /// `ticket` is now its pane's newest.
    fn set(&self, ticket: u64) {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.insert((ticket >> 32) as u32, ticket);
    }

    /// Whether `ticket` is still its pane's newest.
    fn is(&self, ticket: u64) -> bool {
        let m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(&((ticket >> 32) as u32)) == Some(&ticket)
    }
}

fn navigate(
    core: &Core,
    ticket: u64,
    path: &std::path::Path,
    current: &Current,
    created: bool,
    send: &impl Fn(Update),
) {
    let listing_started = std::time::SystemTime::now();
    let mut listed_items = Vec::new();
    let mut sink = |items: Vec<Item>| {
        if !current.is(ticket) {
            return false;
        }
        listed_items.extend(items.iter().cloned());
        send(Update::Chunk { ticket, items });
        true
    };
    let result = core.list_folder(path, &mut sink);
    let from_index = matches!(result, Ok(Source::Index { .. }));
    let location_id = match &result {
        Ok(Source::Index { location, .. }) => Some(*location),
        _ => None,
    };
    let listed = result.is_ok();
    send(Update::ListingDone {
        ticket,
        result,
        space: space_of(path),
    });
    // The index answered at once; now check it against the disk, and show the disk's truth
    // if the folder changed since the last scan (else only the creation times the index
    // does not keep).
    if from_index
        && current.is(ticket)
        && let Some(checked) = core.check_folder(path, &listed_items, location_id, created)
    {
        send_checked(ticket, checked, send);
    }
    // A folder outside the locations is watched while it is shown (the live index watches
    // the locations' own); set up after the listing is out, so it never delays it.
    if current.is(ticket) {
        core.watch_view(listed.then_some(path), listing_started);
    }
}

/// What the disk's check of an index listing (ticket `ticket`) found, to the window: the disk's
/// rows when the folder changed since the last scan, else the creation times it read, if any.
fn send_checked(ticket: u64, checked: crate::vdfs::query::browse::Checked, send: &impl Fn(Update)) {
    match checked.replace {
        Some((items, changed)) => send(Update::Replace {
            ticket,
            items,
            changed,
        }),
        None if !checked.created.is_empty() => send(Update::Created {
            ticket,
            times: checked.created,
        }),
        None => {}
    }
}

fn inspect(core: &Core, path: &std::path::Path, send: &impl Fn(Update)) {
    send(Update::Details(core.inspect(path)));
    // An indexed item's note and rating (nothing for one outside the index).
    if let Ok(lib) = core.library()
        && let Ok(meta) = lib.meta_of(path)
    {
        send(Update::Meta {
            path: path.to_owned(),
            meta,
        });
    }
}

/// Pending thumbnail requests, newest last; at most [`ThumbQueue::CAP`] are kept.
#[derive(Default)]
struct ThumbQueue {
    items: std::sync::Mutex<Vec<(PathBuf, Option<Uuid>)>>,
    cv: std::sync::Condvar,
}

impl ThumbQueue {
    const CAP: usize = 256;

    fn push(&self, path: PathBuf, content: Option<Uuid>) {
        let mut q = self.items.lock().expect("thumb queue");
        q.retain(|(p, _)| p != &path);
        q.push((path, content));
        if q.len() > Self::CAP {
            let excess = q.len() - Self::CAP;
            q.drain(..excess);
        }
        self.cv.notify_one();
    }

    fn pop(&self) -> (PathBuf, Option<Uuid>) {
        let mut q = self.items.lock().expect("thumb queue");
        loop {
            if let Some(x) = q.pop() {
                return x;
            }
            q = self.cv.wait(q).expect("thumb queue");
        }
    }
}

fn thumb_worker(core: &Core, q: &ThumbQueue, send: &impl Fn(Update)) {
    loop {
        let (path, content) = q.pop();
        let image = core.thumbnail(&path, content).map(|img| {
            let size = [img.width() as usize, img.height() as usize];
            Arc::new(eframe::egui::ColorImage::from_rgba_unmultiplied(
                size,
                img.as_raw(),
            ))
        });
        send(Update::Thumbnail { path, image });
    }
}

/// Asks for a folder with the system's picker (xdg-desktop-portal, else zenity) and adds it as
/// a location. Says so when no picker can be shown, instead of doing nothing.
fn pick_location(core: &Core, send: &impl Fn(Update)) {
    let has_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    let has_zenity = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("zenity").is_file()));
    if cfg!(target_os = "linux") && !has_bus && !has_zenity {
        // No picker of the system (it needs xdg-desktop-portal or zenity): the window is one.
        send(Update::ChooseInWindow);
        return;
    }
    let Some(path) = rfd::FileDialog::new()
        .set_title("Choose a folder to index")
        .pick_folder()
    else {
        return;
    };
    match core.library() {
        Ok(lib) => {
            if let Err(e) = lib.add_location(&path, IndexMode::Content, Rules::default()) {
                send(Update::Error(e.to_string()));
            }
        }
        Err(e) => send(Update::Error(e.to_string())),
    }
    refresh(core, send);
}

fn search(
    core: &Core,
    searching: &Current,
    ticket: u64,
    q: &crate::vdfs::query::search::Query,
    send: &impl Fn(Update),
) {
    // A newer search typed meanwhile makes this one unwanted: only the newest is answered.
    let wanted = || searching.is(ticket);
    match core.search(q, std::time::Duration::from_secs(10), &wanted) {
        Ok(Some(res)) if wanted() => send(Update::Found {
            ticket,
            hits: res.hits,
            total: res.total,
            fuzzy: res.fuzzy,
        }),
        Ok(_) => {}
        Err(e) => send(Update::Error(e.to_string())),
    }
}

/// Sends the library's tags and tag map; a failure is logged (the window keeps what it had).
fn send_tags(lib: &crate::vdfs::Library, send: &dyn Fn(Update)) {
    let read = || -> Result<Update, crate::vdfs::CoreError> {
        Ok(Update::Tags {
            tags: lib.tags()?,
            collections: lib.collections()?,
            saved: lib.saved_searches()?,
            map: lib.tag_map()?,
            labels: lib.label_map()?,
        })
    };
    match read() {
        Ok(u) => send(u),
        Err(e) => tracing::warn!("cannot read the tags: {e}"),
    }
}
