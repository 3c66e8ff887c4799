//! The command line: `cairn` opens the window; `cairn <subcommand>` works headless.
//!
//! Every subcommand is a thin call into [`Core`]; output is a table for people or, with
//! `--json`, JSON for scripts (one document, or one object per line for progress streams).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

mod debug;
mod device;
mod dupes;
mod files;
mod index;
mod jobs;
mod library;
mod live_bench;
mod location;
mod ls;
pub mod out;
mod peer;
mod search;
pub mod serve;
mod stat;
mod tag;
mod volume;
mod watch;

use crate::vdfs::sdpath::SdPath;
use crate::vdfs::{Core, CoreOptions, Library};

/// Cairn — a local-first file manager.
///
/// Run `cairn` alone to open the explorer window on your default library ("My Library" is
/// created the first time). Use a subcommand to work without a window.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// Keep everything (device identity, settings, libraries, logs) in DIR. Without it, Cairn
    /// uses a `cairn-data` folder beside the executable if there is one, else your user data
    /// folders.
    #[arg(long, global = true, env = "CAIRN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The library to use, by name or id (default: the default library).
    #[arg(long, global = true, value_name = "NAME")]
    pub library: Option<String>,

    /// Print JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    pub json: bool,

    /// Also log to stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// What to do; none opens the window.
    #[command(subcommand)]
    pub command: Option<Command>,
}

const AFTER_HELP: &str = "\
Examples:
  cairn                               open the explorer window
  cairn library list                  show your libraries
  cairn library create \"Photos\"       make a new library
  cairn --library Photos jobs list    show the jobs of the library \"Photos\"
  cairn --data-dir /media/usb/cairn-data library list
                                      use a portable data folder";

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, inspect, rename and delete libraries.
    #[command(subcommand)]
    Library(library::LibraryCommand),
    /// Show or rename this device.
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// List, pause, resume and cancel background jobs.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// Add, list, rescan, change and remove indexed folders (locations).
    #[command(subcommand)]
    Location(location::LocationCommand),
    /// The mounted volumes (disks, partitions, network shares): identity, kind, free space.
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// List a folder: inside a location, the index's view (as of the last scan, after the
    /// location's rules); outside every location, or a folder the index does not hold, the
    /// disk now. A note on stderr says which.
    Ls(ls::LsArgs),
    /// Show everything Cairn knows about a file or folder.
    Stat(stat::StatArgs),
    /// Index status of every location.
    #[command(subcommand)]
    Index(index::IndexCommand),
    /// Hash every copy of each content in full (BLAKE3) and report copies that only look
    /// alike and files changed without a new modification time.
    VerifyContent(index::VerifyArgs),
    /// Find files in the library by name, kind, extension, size, date and place.
    Search(Box<search::SearchArgs>),
    /// Duplicate files, from the index: groups, wasted space, which copy to keep.
    Dupes(dupes::DupesArgs),
    /// How many copies of a file exist and where; files that exist only once; files missing
    /// from a backup location.
    Redundancy(dupes::RedundancyArgs),
    /// Copy files and folders into a folder: previewed, verified (BLAKE3), resumable.
    Cp(files::CopyArgs),
    /// Move files and folders into a folder (a rename on one volume; across volumes a
    /// verified copy, then the source is removed).
    Mv(files::CopyArgs),
    /// Give a file or folder a new name (`rename PATH NEW`), or several at once with a
    /// pattern (`rename --pattern '{name}-{n:3}.{ext}' PATHS…`, previewed, undone as one).
    Rename(files::RenameArgs),
    /// Create a folder.
    Mkdir(files::MkdirArgs),
    /// Move items to the desktop trash; `trash list|restore|empty`.
    Trash(files::TrashArgs),
    /// Delete items for good (`--permanent` required; prefer `cairn trash`).
    Rm(files::RmArgs),
    /// The file operations done in this library (the audit log).
    History(files::HistoryArgs),
    /// Undo a file operation (the newest by default).
    Undo(files::UndoArgs),
    /// Redo the newest undone file operation.
    Redo,
    /// Tags: make them, arrange them in a tree, put them on files, folders and contents
    /// (every copy), and find what carries them (`cairn search --tag`).
    #[command(subcommand)]
    Tag(tag::TagCommand),
    /// Collections: named, ordered sets of files and contents from anywhere in the library.
    #[command(subcommand)]
    Collection(tag::CollectionCommand),
    /// Show or set the note of an indexed file or folder (or, with --content, of every copy).
    Note(tag::MetaArgs),
    /// Show or set the rating (0–5 stars) of an indexed file or folder.
    Rate(tag::MetaArgs),
    /// Show or set the label colour (red, orange, yellow, green, blue, purple, grey, none) of
    /// an indexed file or folder.
    Label(tag::MetaArgs),
    /// Show or set the favourite mark (on, off) of an indexed file or folder, or with
    /// --content of every copy; favourites are listed in the window's sidebar.
    Favourite(tag::MetaArgs),
    /// Keep the index live without the window (a server, a drive left plugged in): watch
    /// every watched location, write what changes, and log each change to stdout.
    Watch(watch::WatchArgs),
    /// Browse and search the devices this one is paired with (`cairn device pair`).
    #[command(subcommand)]
    Peer(peer::PeerCommand),
    /// Keep this device reachable for its paired devices without the window (a home server,
    /// a drive left plugged in): serve the library's locations and keep its index live.
    Serve(peer::ServeArgs),
    /// Send files or folders to a nearby device (paired or not): it is asked, and they land
    /// in its drop folder only if its person accepts. `--to` names it (`ID@IP:PORT` as
    /// `cairn receive` prints it, a paired device, or a name found on this network);
    /// without it, the one device receiving on this network.
    Send(peer::SendArgs),
    /// Receive files from nearby devices (paired or not): each offer is shown with who sends
    /// what, and is taken only if you accept it (y); accepted files land in `--into`
    /// (default: your Downloads folder), never replacing anything.
    Receive(peer::ReceiveArgs),
    /// Self-checks for developers.
    #[command(subcommand, hide = true)]
    Debug(debug::DebugCommand),
}

/// Runs a parsed command line. With no subcommand it opens the window.
///
/// # Errors
/// Any failure, as one message naming what it concerns.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = &cli.command else {
        return crate::ui::run(cli.data_dir, cli.library);
    };
    crate::vdfs::index::upgrade::on_progress(|done, total| {
        if done == 0 {
            crate::errln!("Upgrading the library to this version of Cairn: {total} entries…");
        } else if done == total {
            crate::errln!("Upgraded {total} entries.");
        } else {
            crate::errln!("  {done} of {total} entries");
        }
    });
    let watching = matches!(command, Command::Watch(_));
    let core = Core::start(CoreOptions {
        data_dir: cli.data_dir.clone(),
        resume_jobs: watching,
        worker_threads: 2,
        watch: watching,
    })?;
    // Copies between devices are jobs (`cairn jobs resume` goes on with them).
    crate::net::job::register(&core);
    // The library is open in a running Cairn (the window): it runs the command for us.
    // (Copies with a paired device are jobs of the library, so they go there too.)
    let local = matches!(
        command,
        Command::Device(_)
            | Command::Library(_)
            | Command::Serve(_)
            | Command::Send(_)
            | Command::Receive(_)
    ) || matches!(
        command,
        Command::Peer(p) if !matches!(p, peer::PeerCommand::Get { .. } | peer::PeerCommand::Put { .. })
    );
    if !local && let Some(code) = serve::forward_if_held(&core, &cli)? {
        drop(core);
        std::process::exit(code);
    }
    dispatch(&core, cli)
}

/// Runs a command line with a subcommand on `core` (here, or inside a running Cairn for
/// another process: see [`serve`]).
///
/// # Errors
/// Any failure, as one message naming what it concerns.
pub(crate) fn dispatch(core: &Core, cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        anyhow::bail!("no command");
    };
    let core = core.clone();
    let out = Output { json: cli.json };
    let lib = cli.library.as_deref();
    match command {
        Command::Library(c) => library::library(&core, &out, lib, c),
        Command::Watch(a) => watch::watch(&core, &out, lib, &a),
        Command::Device(c) => device::device(&core, &out, c),
        Command::Peer(c) => peer::peer(&core, &out, lib, c),
        Command::Serve(a) => peer::serve(&core, &out, lib, &a),
        Command::Send(a) => peer::send(&core, &out, &a),
        Command::Receive(a) => peer::receive(&core, &out, &a),
        Command::Jobs(c) => jobs::jobs(&core, &out, lib, c),
        Command::Debug(c) => debug::debug(&core, &out, lib, c),
        Command::Location(c) => location::location(&core, &out, lib, c),
        Command::Volume(c) => volume::volume(&core, &out, lib, c),
        Command::Ls(a) => ls::ls(&core, &out, lib, &a),
        Command::Stat(a) => stat::stat(&core, &out, lib, &a),
        Command::Index(c) => index::index(&core, &out, lib, c),
        Command::VerifyContent(a) => index::verify(&core, &out, lib, &a),
        Command::Dupes(a) => dupes::dupes(&core, &out, lib, &a),
        Command::Search(a) => search::search(&core, &out, lib, &a),
        Command::Redundancy(a) => dupes::redundancy(&core, &out, lib, &a),
        // From a paired device (`cairn cp DEVICE:/path… DEST`), or to one (`cairn cp PATH…
        // DEVICE:/folder`, that device writes): a transfer job.
        Command::Cp(a)
            if a.paths.len() >= 2
                && a.paths[..a.paths.len() - 1]
                    .iter()
                    .all(|p| peer::is_remote(&core, p)) =>
        {
            peer::cp_from_device(&core, &out, lib, &a.paths)
        }
        Command::Cp(a)
            if a.paths.split_last().is_some_and(|(dest, sources)| {
                peer::is_remote(&core, dest) && !sources.iter().any(|p| peer::is_remote(&core, p))
            }) =>
        {
            peer::cp_to_device(&core, &out, lib, &a.paths)
        }
        Command::Cp(a) => files::copy(&core, &out, lib, &a, crate::vdfs::actions::OpKind::Copy),
        Command::Mv(a) => files::copy(&core, &out, lib, &a, crate::vdfs::actions::OpKind::Move),
        Command::Rename(a) => files::rename(&core, &out, lib, &a),
        Command::Mkdir(a) => files::mkdir(&core, &out, lib, &a),
        Command::Trash(a) => files::trash(&core, &out, lib, &a),
        Command::Rm(a) => files::rm(&core, &out, lib, &a),
        Command::History(a) => files::history(&core, &out, lib, &a),
        Command::Undo(a) => files::undo(&core, &out, lib, Some(&a)),
        Command::Redo => files::undo(&core, &out, lib, None),
        Command::Tag(c) => tag::tag(&core, &out, lib, c),
        Command::Note(a) => tag::note(&core, &out, lib, &a, tag::MetaField::Note),
        Command::Collection(c) => tag::collection(&core, &out, lib, c),
        Command::Rate(a) => tag::note(&core, &out, lib, &a, tag::MetaField::Rating),
        Command::Label(a) => tag::note(&core, &out, lib, &a, tag::MetaField::Label),
        Command::Favourite(a) => tag::note(&core, &out, lib, &a, tag::MetaField::Favourite),
    }
}

/// An error and its causes as one line, each cause once (`a: b: c`).
pub fn one_message(e: &anyhow::Error) -> String {
    crate::format::one_line(e.as_ref())
}

pub(crate) struct Output {
    json: bool,
}

impl Output {
    pub(crate) fn json(&self, value: &serde_json::Value) {
        crate::outln!("{}", serde_json::to_string_pretty(value).expect("json"));
    }
}

/// Resolves a CLI path argument (plain path or cairn:// address) to a local path.
fn local_path(core: &Core, lib: &Library, arg: &std::ffi::OsStr) -> anyhow::Result<PathBuf> {
    // A name that is not UTF-8 is a plain path (every cairn:// address is UTF-8).
    let Some(text) = arg.to_str() else {
        return Ok(std::path::absolute(arg).unwrap_or_else(|_| PathBuf::from(arg)));
    };
    let me = core.device().id;
    match SdPath::parse(text, me)? {
        SdPath::Physical { device, path } if device == me => Ok(path),
        SdPath::Physical { device, .. } => {
            bail!(
                "{text} is on device {device}; browsing other devices needs pairing (not available yet)"
            )
        }
        SdPath::Content { content_id } => {
            let c = lib
                .content_by_uuid(content_id)?
                .with_context(|| format!("no file in this library has content {content_id}"))?;
            lib.best_copy(c.cas)?.with_context(|| {
                format!("no copy of content {content_id} is reachable on this device")
            })
        }
    }
}
