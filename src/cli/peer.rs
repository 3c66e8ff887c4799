//! Paired devices from the command line: `cairn device pair|list|unpair`, `cairn peer …`,
//! `cairn serve`.

use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use super::Output;
use crate::format;
use crate::net::browse::RemoteItem;
use crate::net::job::TransferJob;
use crate::net::pair::PairingCode;
use crate::net::peers::PairedDevice;
use crate::net::{Net, NetOptions, PeerAddr};
use crate::vdfs::Core;

/// Where this process's endpoint listens.
#[derive(Debug, Clone, clap::Args)]
pub struct ListenArgs {
    /// Listen on this address (e.g. 127.0.0.1:0 to stay on this machine); default: the
    /// `[net] listen` setting, else any free port.
    #[arg(long, env = "CAIRN_LISTEN", value_name = "IP:PORT")]
    pub listen: Option<SocketAddr>,
}

/// `cairn device pair`
#[derive(Debug, clap::Args)]
pub struct PairArgs {
    /// The code shown on the other device; without it, this device shows a code to type
    /// there and waits.
    pub code: Option<String>,
    /// The other device's address, as it printed it (`ID@IP:PORT`); without it, the device
    /// showing the code is looked for on the local network (mDNS).
    #[arg(long, value_name = "ID@IP:PORT")]
    pub host: Option<PeerAddr>,
    #[command(flatten)]
    pub listen: ListenArgs,
}

/// `--addr`: where to reach the device this time.
#[derive(Debug, Clone, clap::Args)]
pub struct ReachArgs {
    /// Reach the device at this address (repeatable); default: where it was last reached.
    #[arg(long = "addr", value_name = "IP:PORT")]
    pub addrs: Vec<SocketAddr>,
    #[command(flatten)]
    pub listen: ListenArgs,
}

impl ReachArgs {
    /// Where the device was last reached, listening where `CAIRN_LISTEN` says (for
    /// `cairn cp`, which has no `--addr` or `--listen` of its own).
    fn from_env() -> ReachArgs {
        ReachArgs {
            addrs: Vec::new(),
            listen: ListenArgs {
                listen: std::env::var("CAIRN_LISTEN")
                    .ok()
                    .and_then(|l| l.parse().ok()),
            },
        }
    }
}

/// `cairn peer …`
#[derive(Debug, clap::Subcommand)]
pub enum PeerCommand {
    /// The locations a paired device shares.
    Locations {
        /// The device (name or id).
        device: String,
        #[command(flatten)]
        reach: ReachArgs,
    },
    /// List a folder on a paired device: `cairn peer ls DEVICE:/path` (the folder must be in
    /// one of its locations).
    Ls {
        /// `DEVICE:/absolute/path` (or `DEVICE` alone for its locations).
        target: String,
        #[command(flatten)]
        reach: ReachArgs,
    },
    /// Copy files or folders from a paired device into a local folder, verified by BLAKE3
    /// end to end; run it again after an interruption to go on where it stopped. (`cairn cp
    /// DEVICE:/path DEST` does the same.)
    Get {
        /// `DEVICE:/absolute/path` items, then the local destination folder.
        #[arg(required = true, num_args = 2..)]
        paths: Vec<String>,
        #[command(flatten)]
        reach: ReachArgs,
    },
    /// Copy local files or folders into a folder of a paired device (inside one of its
    /// locations); the device pulls them, verified by BLAKE3 end to end, and indexes them.
    /// Run it again after an interruption to go on where it stopped. (`cairn cp PATH…
    /// DEVICE:/folder` does the same.)
    Put {
        /// The local items (any bytes), then `DEVICE:/absolute/folder`.
        #[arg(required = true, num_args = 2..)]
        paths: Vec<std::ffi::OsString>,
        #[command(flatten)]
        reach: ReachArgs,
    },
    /// Time searches on a paired device from one process (for the benchmark): each query
    /// `--runs` times over one endpoint; prints the latencies' percentiles.
    #[command(hide = true)]
    BenchSearch {
        /// The device.
        device: String,
        /// The queries (each run in turn).
        #[arg(required = true)]
        queries: Vec<String>,
        /// Rounds over the queries.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        #[command(flatten)]
        reach: ReachArgs,
    },
    /// Search a paired device's library by name.
    Search {
        /// The device (name or id).
        device: String,
        /// Text to find in names.
        text: String,
        /// Only below this folder of the device.
        #[arg(long, value_name = "PATH")]
        within: Option<String>,
        /// At most this many results.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        reach: ReachArgs,
    },
}

/// `cairn send`
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// The files and folders (any bytes).
    #[arg(required = true)]
    pub paths: Vec<std::ffi::OsString>,
    /// The device: `ID@IP:PORT`, a paired device's name, or a name a receiving device
    /// announces on this network.
    #[arg(long, value_name = "DEVICE")]
    pub to: Option<String>,
    #[command(flatten)]
    pub listen: ListenArgs,
}

/// `cairn receive`
#[derive(Debug, clap::Args)]
pub struct ReceiveArgs {
    /// Where accepted files land (default: the Downloads folder).
    #[arg(long, value_name = "FOLDER")]
    pub into: Option<std::path::PathBuf>,
    /// Stop after this many seconds (default: run until stopped).
    #[arg(long = "for", value_name = "SECONDS")]
    pub for_secs: Option<u64>,
    #[command(flatten)]
    pub listen: ListenArgs,
}

/// `cairn serve`
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub listen: ListenArgs,
    /// Do not keep the index live (no file-system watches): serve it as last indexed.
    #[arg(long)]
    pub no_watch: bool,
    /// Stop after this many seconds (default: run until stopped).
    #[arg(long = "for", value_name = "SECONDS")]
    pub for_secs: Option<u64>,
}

fn start(core: &Core, listen: &ListenArgs) -> anyhow::Result<Net> {
    Ok(core.runtime().block_on(Net::shared(
        core,
        NetOptions {
            listen: listen.listen,
        },
    ))?)
}

fn device_json(d: &PairedDevice) -> serde_json::Value {
    json!({
        "id": d.id,
        "name": d.name,
        "public_key": d.public_key,
        "paired_at": d.paired_at.to_string(),
        "addrs": d.addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "last_seen": d.last_seen.map(|t| t.to_string()),
    })
}

/// `cairn device pair [CODE]`.
pub(super) fn pair(core: &Core, out: &Output, args: &PairArgs) -> anyhow::Result<()> {
    let net = start(core, &args.listen)?;
    let rt = core.runtime();
    let result = match &args.code {
        Some(text) => {
            let code = PairingCode::parse(text)?;
            let host = match args.host.clone() {
                Some(h) => h,
                None => rt.block_on(net.find_pairing_host(&code, Duration::from_secs(10)))?,
            };
            let d = rt.block_on(net.join(&code, &host))?;
            if out.json {
                out.json(&json!({ "paired": device_json(&d) }));
            } else {
                crate::outln!("Paired with {} ({}).", d.name, d.id);
            }
            Ok(())
        }
        None => {
            let code = net.open_pairing();
            let me = net.peer_addr();
            if out.json {
                crate::outln!(
                    "{}",
                    json!({
                        "code": code.to_string(),
                        "host": me.to_string(),
                        "expires_in": crate::net::pair::CODE_TTL.as_secs(),
                    })
                );
            } else {
                crate::outln!("Pairing code: {code}");
                crate::outln!(
                    "Type it on the other device within {} minutes (it works once):",
                    crate::net::pair::CODE_TTL.as_secs() / 60
                );
                crate::outln!("  cairn device pair {code} --host {me}");
                crate::outln!("Waiting…");
            }
            let d = rt.block_on(net.wait_paired())?;
            if out.json {
                crate::outln!("{}", json!({ "paired": device_json(&d) }));
            } else {
                crate::outln!("Paired with {} ({}).", d.name, d.id);
            }
            Ok(())
        }
    };
    rt.block_on(net.close());
    result
}

/// `cairn device list`.
pub(super) fn list(core: &Core, out: &Output) -> anyhow::Result<()> {
    let paired = crate::net::peers::PairedDevices::at(core.data_dir().config()).list()?;
    if out.json {
        out.json(&json!(paired.iter().map(device_json).collect::<Vec<_>>()));
        return Ok(());
    }
    if paired.is_empty() {
        crate::outln!("No paired devices. Pair one with `cairn device pair`.");
        return Ok(());
    }
    for d in &paired {
        let seen = d.last_seen.map_or_else(
            || "never".to_owned(),
            |t| format::time_ms(t.as_millisecond()),
        );
        let at = d
            .addrs
            .first()
            .map_or_else(|| "no address known".to_owned(), ToString::to_string);
        crate::outln!("{}  {}  last reached {seen} at {at}", d.name, d.id);
    }
    Ok(())
}

/// `cairn device unpair DEVICE`.
pub(super) fn unpair(
    core: &Core,
    out: &Output,
    device: &str,
    reach: &ReachArgs,
) -> anyhow::Result<()> {
    let net = start(core, &reach.listen)?;
    let d = net.paired().find(device)?;
    let told = core.runtime().block_on(net.unpair(&d, &reach.addrs))?;
    core.runtime().block_on(net.close());
    if out.json {
        out.json(&json!({ "unpaired": device_json(&d), "told": told }));
    } else if told {
        crate::outln!("Unpaired from {}; it forgot this device too.", d.name);
    } else {
        crate::outln!(
            "Unpaired from {} here. It could not be reached, so it still lists this device until it unpairs too (it can no longer reach anything here).",
            d.name
        );
    }
    Ok(())
}

/// `cairn peer …`.
pub(super) fn peer(
    core: &Core,
    out: &Output,
    lib: Option<&str>,
    c: PeerCommand,
) -> anyhow::Result<()> {
    // Copies are jobs of the library, with the endpoint they start.
    match c {
        PeerCommand::Get { paths, reach } => {
            let (dest, sources) = paths.split_last().expect("clap requires two");
            return get(core, out, lib, sources, std::path::Path::new(dest), &reach);
        }
        PeerCommand::Put { paths, reach } => {
            let (dest, sources) = paths.split_last().expect("clap requires two");
            return put(core, out, lib, sources, &dest.to_string_lossy(), &reach);
        }
        _ => {}
    }
    let reach = match &c {
        PeerCommand::Locations { reach, .. }
        | PeerCommand::Ls { reach, .. }
        | PeerCommand::Get { reach, .. }
        | PeerCommand::Put { reach, .. }
        | PeerCommand::BenchSearch { reach, .. }
        | PeerCommand::Search { reach, .. } => reach.clone(),
    };
    let net = start(core, &reach.listen)?;
    let rt = core.runtime().clone();
    let result = match c {
        PeerCommand::Locations { device, .. } => locations(&net, &rt, out, &device, &reach),
        PeerCommand::Ls { target, .. } => match target.split_once(':') {
            Some((device, path)) if !path.is_empty() => ls(&net, &rt, out, device, path, &reach),
            Some((device, _)) => locations(&net, &rt, out, device, &reach),
            None => locations(&net, &rt, out, &target, &reach),
        },
        PeerCommand::BenchSearch {
            device,
            queries,
            runs,
            ..
        } => {
            let d = net.paired().find(&device)?;
            let mut ms = Vec::new();
            for _ in 0..runs {
                for q in &queries {
                    let t = std::time::Instant::now();
                    rt.block_on(net.search(&d, &reach.addrs, q, None, 50, |_| true))?;
                    ms.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
            ms.sort_by(f64::total_cmp);
            let pct = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
            out.json(&json!({
                "queries": ms.len(),
                "p50_ms": pct(0.5),
                "p90_ms": pct(0.9),
                "p99_ms": pct(0.99),
                "min_ms": ms[0],
                "max_ms": ms[ms.len() - 1],
            }));
            Ok(())
        }
        PeerCommand::Get { .. } | PeerCommand::Put { .. } => unreachable!("handled above"),
        PeerCommand::Search {
            device,
            text,
            within,
            limit,
            ..
        } => {
            let d = net.paired().find(&device)?;
            let mut hits = Vec::new();
            let total = rt.block_on(net.search(
                &d,
                &reach.addrs,
                &text,
                within.as_deref().map(str::as_bytes),
                limit,
                |h| {
                    hits.extend(h);
                    true
                },
            ))?;
            if out.json {
                out.json(&json!({
                    "device": d.name,
                    "total": total,
                    "hits": hits.iter().map(|h| json!({
                        "path": String::from_utf8_lossy(&h.path),
                        "kind": h.kind,
                        "size": h.size,
                        "modified": format::time_ms(h.mtime_ns / 1_000_000),
                        "copies": h.copies,
                    })).collect::<Vec<_>>(),
                }));
            } else {
                for h in &hits {
                    crate::outln!(
                        "{:>10}  {}",
                        format::bytes(h.size),
                        String::from_utf8_lossy(&h.path)
                    );
                }
                crate::errln!("{} of {total} matches on {}", hits.len(), d.name);
            }
            Ok(())
        }
    };
    rt.block_on(net.close());
    result
}

/// Splits `DEVICE:/path` (the part before the first `:` names a paired device).
fn remote_arg(core: &Core, arg: &str) -> anyhow::Result<(PairedDevice, Vec<u8>)> {
    let (device, path) = arg
        .split_once(':')
        .filter(|(_, p)| p.starts_with('/'))
        .with_context(|| format!("“{arg}” is not DEVICE:/absolute/path"))?;
    let paired = crate::net::peers::PairedDevices::at(core.data_dir().config());
    Ok((paired.find(device)?, path.as_bytes().to_vec()))
}

/// Whether `arg` reads as `DEVICE:/path` for a device this one is paired with (how `cairn cp`
/// tells a copy from a device apart from a local one).
pub(super) fn is_remote(core: &Core, arg: &std::ffi::OsStr) -> bool {
    let Some((device, path)) = arg.to_str().and_then(|a| a.split_once(':')) else {
        return false;
    };
    path.starts_with('/')
        && !device.is_empty()
        && !device.contains('/')
        && crate::net::peers::PairedDevices::at(core.data_dir().config())
            .find(device)
            .is_ok()
}

/// `cairn cp DEVICE:/path… DEST` (with every source on a paired device).
pub(super) fn cp_from_device(
    core: &Core,
    out: &Output,
    lib: Option<&str>,
    paths: &[std::ffi::OsString],
) -> anyhow::Result<()> {
    let (dest, sources) = paths.split_last().expect("clap requires two");
    let sources: Vec<String> = sources
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    get(
        core,
        out,
        lib,
        &sources,
        std::path::Path::new(dest),
        &ReachArgs::from_env(),
    )
}

/// `cairn cp PATH… DEVICE:/folder` (every source local, the destination on a paired device).
pub(super) fn cp_to_device(
    core: &Core,
    out: &Output,
    lib: Option<&str>,
    paths: &[std::ffi::OsString],
) -> anyhow::Result<()> {
    let (dest, sources) = paths.split_last().expect("clap requires two");
    put(
        core,
        out,
        lib,
        sources,
        &dest.to_string_lossy(),
        &ReachArgs::from_env(),
    )
}

/// `cairn peer get DEVICE:/path… DEST` (and `cairn cp` from a device): one transfer job.
fn get(
    core: &Core,
    out: &Output,
    lib: Option<&str>,
    sources: &[String],
    dest: &std::path::Path,
    reach: &ReachArgs,
) -> anyhow::Result<()> {
    let dest = std::fs::canonicalize(dest)
        .with_context(|| format!("the destination folder {} cannot be opened", dest.display()))?;
    anyhow::ensure!(dest.is_dir(), "{} is not a folder", dest.display());
    let mut device: Option<PairedDevice> = None;
    let mut items = Vec::new();
    for s in sources {
        let (d, remote) = remote_arg(core, s)?;
        if device.as_ref().is_some_and(|o| o.id != d.id) {
            anyhow::bail!("copy from one device at a time (“{s}” is on another one)");
        }
        device = Some(d);
        items.push(remote);
    }
    let d = device.context("nothing to copy")?;
    run_transfer(core, out, lib, reach, sources, |core| {
        TransferJob::pull(core, d.id, &d.name, reach.addrs.clone(), items, &dest)
    })
}

/// `cairn peer put PATH… DEVICE:/folder` (and `cairn cp` to a device): one transfer job.
fn put(
    core: &Core,
    out: &Output,
    lib: Option<&str>,
    sources: &[std::ffi::OsString],
    dest: &str,
    reach: &ReachArgs,
) -> anyhow::Result<()> {
    let (d, folder) = remote_arg(core, dest)?;
    let items = sources
        .iter()
        .map(|s| {
            std::fs::canonicalize(s)
                .with_context(|| format!("{} cannot be read", s.to_string_lossy()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let labels: Vec<String> = sources
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    run_transfer(core, out, lib, reach, &labels, |core| {
        TransferJob::push(core, d.id, &d.name, reach.addrs.clone(), &items, folder)
    })
}

/// Queues the transfer job `make` builds in the library, shows its bytes until it ends,
/// then what each item did (labelled by `sources`), and waits for the indexing of what
/// came. The endpoint is this process's (or the window's, for a command it runs).
///
/// # Errors
/// When the library cannot be opened or the job cannot be recorded; when the job did not
/// complete: how it ended, and `cairn jobs resume N` when it can go on.
fn run_transfer(
    core: &Core,
    out: &Output,
    lib: Option<&str>,
    reach: &ReachArgs,
    sources: &[String],
    make: impl FnOnce(&Core) -> TransferJob,
) -> anyhow::Result<()> {
    use crate::vdfs::Event;
    use crate::vdfs::jobs::{Job as _, JobStatus};
    let library = core.open_library(lib)?;
    // The endpoint the job uses: started here on `--listen`, unless one runs already (the
    // window's, when it runs this command for another process), which is left running.
    let ours = !Net::shared_running(core);
    let net = start(core, &reach.listen)?;
    let rt = core.runtime().clone();
    let mut events = core.events().subscribe();
    let started = std::time::Instant::now();
    let job = make(core);
    let to_device = matches!(job.way, crate::net::job::Way::Push { .. });
    let handle = library.jobs().spawn(job)?;
    let id = handle.id();
    let bar = progress_bar(out);
    let mut follow_ups = Vec::new();
    loop {
        match events.blocking_recv() {
            Ok(Event::JobQueued { job, .. }) if job != id => follow_ups.push(job),
            Ok(Event::JobProgress { job, progress }) if job == id => {
                bar.show(progress.completed, progress.total.unwrap_or(0));
            }
            Ok(Event::JobFinished { job, .. }) if job == id => break,
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        }
    }
    let status = handle.wait();
    bar.finish();
    let secs = started.elapsed().as_secs_f64();
    let record = library.jobs().get(id)?;
    let state = TransferJob::decode_state(&record.state)
        .map_err(|e| anyhow::anyhow!("the state of job {id} does not decode: {e}"))?;
    if ours {
        rt.block_on(net.close());
    }
    for (i, r) in state.reports.iter().enumerate() {
        let source = sources.get(i).map_or("", String::as_str);
        print_copy(out, &state.device_name, source, r, secs, to_device);
    }
    if status != JobStatus::Completed {
        let why = record.outcome.unwrap_or_else(|| status.to_string());
        let hint = if status.is_terminal() {
            String::new()
        } else {
            format!(" (`cairn jobs resume {id}` goes on from where it stopped)")
        };
        anyhow::bail!("the copy (job {id}) ended {status}: {why}{hint}");
    }
    let indexing: Vec<_> = follow_ups
        .into_iter()
        .filter_map(|j| library.jobs().handle(j))
        .collect();
    if !indexing.is_empty() && !out.json {
        crate::errln!("Indexing the copied files…");
    }
    for h in indexing {
        h.wait();
    }
    Ok(())
}

/// A byte progress bar on a terminal (nothing for JSON or a pipe).
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn show(&self, done: u64, total: u64) {
        if let Some(b) = &self.0 {
            b.set_length(total);
            b.set_position(done);
        }
    }

    fn finish(self) {
        if let Some(b) = self.0 {
            b.finish_and_clear();
        }
    }
}

fn progress_bar(out: &Output) -> Bar {
    Bar(
        (!out.json && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bytes}/{total_bytes} {bar:30} {bytes_per_sec}, {eta} left",
                )
                .expect("template"),
            );
            b
        }),
    )
}

/// What a copy between devices did: `to_device` for a push (paths are the device's).
fn print_copy(
    out: &Output,
    device: &str,
    source: &str,
    r: &crate::net::transfer::CopyReport,
    secs: f64,
    to_device: bool,
) {
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let top = if to_device {
        format!("{device}:{}", lossy(&r.top))
    } else {
        lossy(&r.top)
    };
    if out.json {
        out.json(&json!({
            "device": device,
            "direction": if to_device { "to device" } else { "from device" },
            "source": source,
            "top": top,
            "files": r.files,
            "bytes": r.bytes,
            "resumed": r.resumed,
            "already": r.already,
            "renamed": r.renamed.iter().map(|p| lossy(p)).collect::<Vec<_>>(),
            "skipped": r.skipped,
            "seconds": secs,
        }));
        return;
    }
    crate::outln!(
        "Copied {} files ({}) {} {device} to {top} in {secs:.1} s ({}/s), each verified by BLAKE3.",
        r.files,
        format::bytes(r.bytes),
        if to_device { "from here via" } else { "from" },
        format::bytes((r.bytes as f64 / secs.max(0.001)) as u64),
    );
    if r.resumed > 0 {
        crate::outln!("{} went on from where an earlier copy stopped.", r.resumed);
    }
    if r.already > 0 {
        crate::outln!("{} were there already (same size and date).", r.already);
    }
    for p in &r.renamed {
        crate::outln!("Kept both: stored as {}", lossy(p));
    }
    if r.skipped > 0 {
        crate::outln!("{} links or special files were not copied.", r.skipped);
    }
}

fn locations(
    net: &Net,
    rt: &tokio::runtime::Handle,
    out: &Output,
    device: &str,
    reach: &ReachArgs,
) -> anyhow::Result<()> {
    let d = net.paired().find(device)?;
    let locs = rt.block_on(net.locations(&d, &reach.addrs))?;
    if out.json {
        out.json(&json!(
            locs.iter()
                .map(|l| json!({
                    "path": String::from_utf8_lossy(&l.path),
                    "name": l.name,
                    "online": l.online,
                    "files": l.files,
                    "bytes": l.bytes,
                }))
                .collect::<Vec<_>>()
        ));
    } else if locs.is_empty() {
        crate::outln!("{} shares no locations.", d.name);
    } else {
        for l in &locs {
            crate::outln!(
                "{}  {} files, {}{}",
                String::from_utf8_lossy(&l.path),
                l.files,
                format::bytes(l.bytes),
                if l.online { "" } else { "  (offline)" }
            );
        }
    }
    Ok(())
}

fn ls(
    net: &Net,
    rt: &tokio::runtime::Handle,
    out: &Output,
    device: &str,
    path: &str,
    reach: &ReachArgs,
) -> anyhow::Result<()> {
    let d = net.paired().find(device)?;
    let started = std::time::Instant::now();
    let mut first: Option<Duration> = None;
    let mut items: Vec<RemoteItem> = Vec::new();
    let (total, from_index) = rt.block_on(net.list(
        &d,
        &reach.addrs,
        std::path::Path::new(path).as_os_str().as_bytes(),
        |chunk| {
            first.get_or_insert_with(|| started.elapsed());
            items.extend(chunk);
            true
        },
    ))?;
    items.sort_by(|a, b| {
        (b.kind == crate::vdfs::fs::entry::EntryKind::Dir)
            .cmp(&(a.kind == crate::vdfs::fs::entry::EntryKind::Dir))
            .then_with(|| a.name.cmp(&b.name))
    });
    if out.json {
        out.json(&json!({
            "device": d.name,
            "path": path,
            "from_index": from_index,
            "total": total,
            "items": items.iter().map(|i| json!({
                "name": i.display_name(),
                "kind": i.kind,
                "size": i.size,
                "modified": format::time_ms(i.mtime_ns / 1_000_000),
                "cas_id": i.cas.map(|c| format!("{c:016x}")),
            })).collect::<Vec<_>>(),
        }));
    } else {
        for i in &items {
            let slash = if i.kind == crate::vdfs::fs::entry::EntryKind::Dir {
                "/"
            } else {
                ""
            };
            crate::outln!(
                "{:>10}  {}  {}{slash}",
                format::bytes(i.size),
                format::time_ms(i.mtime_ns / 1_000_000),
                i.display_name()
            );
        }
        crate::errln!(
            "{total} items on {} ({}), first rows after {} ms, all after {} ms",
            d.name,
            if from_index {
                "from its index"
            } else {
                "from its disk"
            },
            first.unwrap_or_default().as_millis(),
            started.elapsed().as_millis()
        );
    }
    Ok(())
}

/// `cairn send PATH… [--to DEVICE]`.
pub(super) fn send(core: &Core, out: &Output, args: &SendArgs) -> anyhow::Result<()> {
    let net = start(core, &args.listen)?;
    let rt = core.runtime().clone();
    let r = rt.block_on(async {
        let to = pick_receiver(&net, args.to.as_deref()).await?;
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        if !out.json && tty {
            crate::errln!(
                "Asking {to} to accept… (it has {} s to answer)",
                crate::net::nearby::ANSWER_WITHIN.as_secs()
            );
        }
        let items: Vec<std::path::PathBuf> =
            args.paths.iter().map(std::path::PathBuf::from).collect();
        let started = std::time::Instant::now();
        let bar = progress_bar(out);
        let accepted = std::sync::atomic::AtomicBool::new(false);
        let progress = |done: u64, total: u64| {
            if !accepted.swap(true, std::sync::atomic::Ordering::Relaxed) && !out.json && tty {
                crate::errln!("Accepted; sending.");
            }
            bar.show(done, total);
        };
        let reports = net.send_nearby(&to, &items, &progress).await?;
        bar.finish();
        let secs = started.elapsed().as_secs_f64();
        for (r, p) in reports.iter().zip(&args.paths) {
            print_copy(out, &to.to_string(), &p.to_string_lossy(), r, secs, true);
        }
        anyhow::Ok(())
    });
    rt.block_on(net.close());
    r
}

/// The device `to` names (`ID@IP:PORT`, a paired device, or a name announced on this
/// network), or the one receiving on this network.
async fn pick_receiver(net: &Net, to: Option<&str>) -> anyhow::Result<PeerAddr> {
    if let Some(t) = to {
        if let Ok(p) = t.parse::<PeerAddr>() {
            return Ok(p);
        }
        if let Ok(d) = net.paired().find(t) {
            return Ok(PeerAddr {
                id: d
                    .public_key
                    .parse()
                    .with_context(|| format!("the stored key of {}", d.name))?,
                addrs: d.addrs,
            });
        }
    }
    let found = net.find_receivers(Duration::from_secs(3)).await?;
    let matching: Vec<_> = found
        .iter()
        .filter(|(_, name)| to.is_none_or(|t| name.eq_ignore_ascii_case(t)))
        .collect();
    let names = |list: &[&(PeerAddr, String)]| {
        list.iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match matching.as_slice() {
        [(p, _)] => Ok(p.clone()),
        [] if found.is_empty() => anyhow::bail!(
            "no device on this network is receiving files; run `cairn receive` there (or open its window), or give --to ID@IP:PORT"
        ),
        [] => anyhow::bail!(
            "no receiving device is called “{}”; these are: {}",
            to.unwrap_or_default(),
            names(&found.iter().collect::<Vec<_>>())
        ),
        many => anyhow::bail!(
            "several devices are receiving: {}; say which with --to NAME",
            names(many)
        ),
    }
}

/// `cairn receive [--into FOLDER]`: shows each offer and takes it only on "y".
pub(super) fn receive(core: &Core, out: &Output, args: &ReceiveArgs) -> anyhow::Result<()> {
    use crate::net::nearby::{ANSWER_WITHIN, DropEvent};
    let into = match &args.into {
        Some(p) => std::path::absolute(p).with_context(|| p.display().to_string())?,
        None => crate::net::nearby::default_drop_folder()
            .context("no Downloads folder is known here; give one with --into")?,
    };
    let net = start(core, &args.listen)?;
    let mut events = net.receive_nearby(into.clone());
    let me = net.peer_addr();
    if out.json {
        crate::outln!(
            "{}",
            json!({
                "receiving": me.to_string(),
                "device": core.device().name,
                "into": into.to_string_lossy(),
            })
        );
    } else {
        crate::outln!(
            "Receiving files as {} at {me}, into {}. Each offer is asked about here; stop with Ctrl+C.",
            core.device().name,
            into.display()
        );
    }
    let rt = core.runtime().clone();
    let until = args
        .for_secs
        .map(|s| std::time::Instant::now() + Duration::from_secs(s));
    let answers = stdin_lines();
    loop {
        let left = until.map(|u| u.saturating_duration_since(std::time::Instant::now()));
        if left == Some(Duration::ZERO) {
            break;
        }
        let ev = rt.block_on(async {
            match left {
                Some(l) => tokio::time::timeout(l, events.recv()).await.ok().flatten(),
                None => events.recv().await,
            }
        });
        let Some(ev) = ev else { break };
        match ev {
            DropEvent::Offer(offer, reply) => {
                if out.json {
                    crate::outln!(
                        "{}",
                        json!({
                            "offer": offer.summary(),
                            "from": offer.from,
                            "key": offer.key,
                            "files": offer.files(),
                            "bytes": offer.bytes(),
                        })
                    );
                } else {
                    crate::outln!("{}", offer.summary());
                    crate::outln!("Accept? [y/N]");
                }
                let yes = answers
                    .recv_timeout(ANSWER_WITHIN)
                    .is_ok_and(|l| matches!(l.trim(), "y" | "Y" | "yes"));
                let _ = reply.send(yes);
                if !yes && !out.json {
                    crate::outln!("Declined.");
                }
            }
            DropEvent::Progress { .. } => {}
            DropEvent::Finished { from, result } => match result {
                Ok(what) if out.json => {
                    crate::outln!("{}", json!({ "received": what, "from": from }))
                }
                Ok(what) => crate::outln!("From {from}: {what}."),
                Err(why) if out.json => crate::outln!("{}", json!({ "failed": why, "from": from })),
                Err(why) => crate::errln!("From {from}: the copy failed: {why}"),
            },
        }
    }
    net.stop_receiving();
    rt.block_on(net.close());
    Ok(())
}

/// The lines typed on stdin, read on a thread of their own.
fn stdin_lines() -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::stdin().lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// `cairn serve`: keep this device reachable for its paired devices (and the library's
/// index live) until stopped.
pub(super) fn serve(
    core: &Core,
    out: &Output,
    lib: Option<&str>,
    args: &ServeArgs,
) -> anyhow::Result<()> {
    let library = core.open_library(lib)?;
    if !args.no_watch
        && !library.is_watching()
        && let Err(e) = library.start_watching()
    {
        crate::errln!("warning: the index is not kept live: {e}");
    }
    crate::cli::serve::follow_open_library(core.clone());
    let net = start(core, &args.listen)?;
    let me = net.peer_addr();
    if out.json {
        crate::outln!(
            "{}",
            json!({ "serving": library.config().name, "device": core.device().name, "host": me.to_string() })
        );
    } else {
        crate::outln!(
            "Serving “{}” as {} at {me}",
            library.config().name,
            core.device().name
        );
        crate::outln!("Paired devices can browse its locations; stop with Ctrl+C.");
    }
    let rt = core.runtime();
    // (A sleep must be made inside the runtime, hence the async blocks.)
    match args.for_secs {
        Some(s) => rt.block_on(async { tokio::time::sleep(Duration::from_secs(s)).await }),
        None => loop {
            rt.block_on(async { tokio::time::sleep(Duration::from_secs(3600)).await });
        },
    }
    rt.block_on(net.close());
    Ok(())
}
