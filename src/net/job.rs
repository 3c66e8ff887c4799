//! Copies between devices as durable jobs (kind `transfer`): in the jobs drawer and
//! `cairn jobs`, with progress in bytes, pause, resume and cancel, and resumed after a
//! restart of either device or a dropped connection.
//!
//! A [`TransferJob`] holds the device, its items and where they go, and a cursor: the items
//! finished so far and what each did ([`CopyReport`]). It runs the items one after another
//! with [`Net::pull`] or [`Net::push`] on the core's endpoint ([`Net::shared`]) and
//! checkpoints after each. Inside an item, the partial files are the state: a resumed item
//! goes on from the `.part` files the receiver kept (see [`super::transfer`]), so a pause or
//! a kill loses at most what was in flight.
//!
//! How a run ends:
//! - a device that cannot be reached or stops answering, too little free space or a local
//!   write error **pause** the job with the reason ([`JobError::Stopped`]); resuming it goes
//!   on where it stopped;
//! - a device that is no longer paired, or that refuses (a folder outside its locations),
//!   fails it;
//! - a pause, a cancel or the window closing stop the item in flight at once (within
//!   [`POLL`]); a cancel also removes the partial files a pull left here, and asks the
//!   device of a push to remove those it left there (when it cannot be reached, they stay
//!   there, and the job's outcome says so).

use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::transfer::CopyReport;
use super::{Net, NetError, NetOptions};
use crate::vdfs::jobs::{Job, JobContext, JobError, JobProgress};
use crate::vdfs::{Core, WeakCore};

/// How often a running transfer reports its bytes and looks for a pause or cancel.
pub const POLL: Duration = Duration::from_millis(100);

/// Which way the bytes go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Way {
    /// From the device to here: its items (absolute paths there, exact bytes) into the
    /// local folder `dest` (exact bytes).
    Pull {
        /// The device's items.
        items: Vec<Vec<u8>>,
        /// The local folder.
        dest: Vec<u8>,
    },
    /// From here to the device: local items (exact bytes) into its folder `dest` (absolute
    /// there, exact bytes), which the device pulls.
    Push {
        /// The local items.
        items: Vec<Vec<u8>>,
        /// The device's folder.
        dest: Vec<u8>,
    },
}

impl Way {
    fn items(&self) -> &[Vec<u8>] {
        match self {
            Way::Pull { items, .. } | Way::Push { items, .. } => items,
        }
    }
}

/// A copy between this device and a paired one, as a durable job.
#[derive(Clone, Serialize, Deserialize)]
pub struct TransferJob {
    /// The paired device.
    pub device: Uuid,
    /// Its name when the job was made (for the title).
    pub device_name: String,
    /// Where to reach it first (`--addr`); empty: where it was last reached.
    pub addrs: Vec<SocketAddr>,
    /// What goes where.
    pub way: Way,
    /// Items finished (an index into the items).
    pub next: usize,
    /// What each finished item did, in order.
    pub reports: Vec<CopyReport>,
    /// The running core (not saved: given again when the job is rebuilt, see
    /// [`register`]).
    #[serde(skip)]
    core: Option<WeakCore>,
}

impl TransferJob {
    /// A copy of `device`'s items into the local folder `dest`.
    pub fn pull(
        core: &Core,
        device: Uuid,
        device_name: &str,
        addrs: Vec<SocketAddr>,
        items: Vec<Vec<u8>>,
        dest: &Path,
    ) -> TransferJob {
        TransferJob::new(
            core,
            device,
            device_name,
            addrs,
            Way::Pull {
                items,
                dest: dest.as_os_str().as_bytes().to_vec(),
            },
        )
    }

    /// A copy of local items into `device`'s folder `dest`.
    pub fn push(
        core: &Core,
        device: Uuid,
        device_name: &str,
        addrs: Vec<SocketAddr>,
        items: &[PathBuf],
        dest: Vec<u8>,
    ) -> TransferJob {
        TransferJob::new(
            core,
            device,
            device_name,
            addrs,
            Way::Push {
                items: items
                    .iter()
                    .map(|p| p.as_os_str().as_bytes().to_vec())
                    .collect(),
                dest,
            },
        )
    }

    fn new(
        core: &Core,
        device: Uuid,
        device_name: &str,
        addrs: Vec<SocketAddr>,
        way: Way,
    ) -> TransferJob {
        TransferJob {
            device,
            device_name: device_name.to_owned(),
            addrs,
            way,
            next: 0,
            reports: Vec::new(),
            core: Some(core.downgrade()),
        }
    }

    /// Files there after the finished items (written or already there), and bytes received.
    pub fn totals(&self) -> (u64, u64) {
        CopyReport::totals(&self.reports)
    }

    /// The summary a finished job ends with, e.g. "Copied 43 files (3.1 MB) from desk into
    /// /home/me/inbox, each verified".
    pub fn summary(&self) -> String {
        let sum = |f: fn(&CopyReport) -> u64| self.reports.iter().map(f).sum::<u64>();
        let (written, already, bytes) = (sum(|r| r.files), sum(|r| r.already), sum(|r| r.bytes));
        let files = |n: u64| match n {
            1 => "1 file".to_owned(),
            n => format!("{} files", crate::format::count(n)),
        };
        let size = crate::format::bytes(bytes);
        let (name, dest) = (
            &self.device_name,
            match &self.way {
                Way::Pull { dest, .. } | Way::Push { dest, .. } => lossy(dest),
            },
        );
        let pull = matches!(self.way, Way::Pull { .. });
        if written == 0 && already > 0 {
            let are = if already == 1 { "is" } else { "are" };
            let all = files(already);
            return if pull {
                format!("Nothing to copy: the {all} from {name} {are} in {dest} already")
            } else {
                format!("Nothing to send: the {all} {are} on {name} in {dest} already")
            };
        }
        let mut text = if pull {
            format!(
                "Copied {} ({size}) from {name} into {dest}, each verified",
                files(written)
            )
        } else {
            format!(
                "Sent {} ({size}) to {name} in {dest}, each verified there",
                files(written)
            )
        };
        if already > 0 {
            text.push_str(&format!(
                "; {} {} there already",
                crate::format::count(already),
                if already == 1 { "was" } else { "were" }
            ));
        }
        let resumed: u64 = self.reports.iter().map(|r| r.resumed).sum();
        if resumed > 0 {
            text.push_str(&format!(
                "; {} went on from where an earlier run stopped",
                crate::format::count(resumed)
            ));
        }
        text
    }

    /// Runs item `i` on the core's runtime, reporting bytes into `seen` (done, total), and
    /// waits for it while looking for a pause or cancel every [`POLL`].
    fn run_item(
        &self,
        core: &Core,
        net: &Net,
        device: &super::peers::PairedDevice,
        i: usize,
        ctx: &mut JobContext,
    ) -> Result<CopyReport, JobError> {
        let seen = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let rt = core.runtime().clone();
        let (net2, d, addrs, way, seen2) = (
            net.clone(),
            device.clone(),
            self.addrs.clone(),
            self.way.clone(),
            seen.clone(),
        );
        let mut task = rt.spawn(async move {
            let progress = move |done: u64, total: u64| {
                seen2.0.store(done, Ordering::Relaxed);
                seen2.1.store(total, Ordering::Relaxed);
            };
            match way {
                Way::Pull { items, dest } => {
                    net2.pull(&d, &addrs, &items[i], Path::new(os(&dest)), &progress)
                        .await
                }
                Way::Push { items, dest } => {
                    net2.push(&d, &addrs, Path::new(os(&items[i])), &dest, &progress)
                        .await
                }
            }
        });
        let (done_before, _) = self.totals();
        let name = item_name(&self.way.items()[i]);
        loop {
            let ended = rt.block_on(async { tokio::time::timeout(POLL, &mut task).await });
            let (done, total) = (
                seen.0.load(Ordering::Relaxed),
                seen.1.load(Ordering::Relaxed),
            );
            ctx.progress(JobProgress {
                phase: "copying".into(),
                completed: done_before + done,
                total: (total > 0).then_some(done_before + total),
                bytes: done_before + done,
                message: format!(
                    "{name}: {} of {}",
                    crate::format::bytes(done),
                    crate::format::bytes(total)
                ),
            });
            match ended {
                Ok(Ok(result)) => return result.map_err(|e| self.stopped_or_failed(e)),
                Ok(Err(join)) => {
                    return Err(JobError::Failed(format!("the copy crashed: {join}")));
                }
                Err(_elapsed) => {
                    if let Err(stop) = ctx.check_interrupt() {
                        // The partial files stay: a resume goes on from them.
                        task.abort();
                        let _ = rt.block_on(task);
                        return Err(stop);
                    }
                }
            }
        }
    }

    /// Whether `e` pauses the job (it may pass: resume goes on) or fails it.
    fn stopped_or_failed(&self, e: NetError) -> JobError {
        match e {
            NetError::Unreachable { .. }
            | NetError::Protocol { .. }
            | NetError::NoSpace { .. }
            | NetError::Core(_)
            | NetError::Bind(_) => JobError::Stopped(format!(
                "{}; resume the job to go on from where it stopped",
                crate::format::one_line(&e)
            )),
            other => JobError::Failed(crate::format::one_line(&other)),
        }
    }

    /// Removes the partial files a pull of the items from `self.next` on left in the
    /// destination: `.cairn-pull-<16 hex>.part` files in the folder and, for an item that
    /// is a folder there, below it (through folder handles, never following a link).
    fn remove_parts(&self) -> Result<u64, std::io::Error> {
        let Way::Pull { items, dest } = &self.way else {
            return Ok(0);
        };
        let dir = crate::vdfs::fs::ops::Dir::open(Path::new(os(dest)))?;
        let mut removed = remove_parts_in(&dir, false)?;
        for item in &items[self.next.min(items.len())..] {
            let name = Path::new(os(item))
                .file_name()
                .map(|n| n.to_owned())
                .unwrap_or_default();
            if name.is_empty() {
                continue;
            }
            if let Ok(sub) = dir.open_dir(&name) {
                removed += remove_parts_in(&sub, true)?;
            }
        }
        Ok(removed)
    }
}

impl TransferJob {
    /// After a cancelled push: asks the device to remove the partial files the pushes of
    /// `items` (those not finished) into its folder `dest` left there, within
    /// [`FORGET_WITHIN`] in all.
    fn forget_pushed(&self, items: &[Vec<u8>], dest: &[u8]) -> Result<(), JobError> {
        let name = &self.device_name;
        let kept = |why: String| {
            JobError::Failed(format!(
                "{why}; the partial files it kept stay on {name} (a later send of the same items goes on from them)"
            ))
        };
        let (core, device) = self.core_and_device().map_err(|e| kept(e.to_string()))?;
        let rt = core.runtime();
        let removed = rt
            .block_on(async {
                tokio::time::timeout(FORGET_WITHIN, async {
                    let net = Net::shared(&core, NetOptions::from_env()).await?;
                    let mut removed = 0;
                    for item in items {
                        removed += net
                            .forget_push(&device, &self.addrs, Path::new(os(item)), dest)
                            .await?;
                    }
                    Ok::<_, NetError>(removed)
                })
                .await
            })
            .map_err(|_| kept(format!("{name} did not answer")))?
            .map_err(|e| kept(crate::format::one_line(&e)))?;
        tracing::info!(removed, device = %name, "a cancelled send's partial files were removed there");
        Ok(())
    }
}

impl TransferJob {
    /// The running core and the device as paired.
    ///
    /// # Errors
    /// [`JobError::Stopped`] while Cairn closes or when the paired devices cannot be read;
    /// [`JobError::Failed`] when the device is no longer paired.
    fn core_and_device(&self) -> Result<(Core, super::PairedDevice), JobError> {
        let core = self
            .core
            .as_ref()
            .and_then(WeakCore::upgrade)
            .ok_or_else(|| JobError::Stopped("Cairn is closing".into()))?;
        let device = super::peers::PairedDevices::at(core.data_dir().config())
            .list()
            .map_err(|e| JobError::Stopped(e.to_string()))?
            .into_iter()
            .find(|d| d.id == self.device)
            .ok_or_else(|| {
                JobError::Failed(format!(
                    "{} is no longer paired with this device",
                    self.device_name
                ))
            })?;
        Ok((core, device))
    }
}

/// How long a cancelled push waits for the device to remove its partial files.
pub const FORGET_WITHIN: Duration = Duration::from_secs(15);

/// Removes `.cairn-pull-…part` files in `dir` (and below, when `deep`).
fn remove_parts_in(dir: &crate::vdfs::fs::ops::Dir, deep: bool) -> std::io::Result<u64> {
    use crate::vdfs::fs::entry::EntryKind;
    let mut removed = 0;
    for (name, kind) in dir.list()? {
        match kind {
            EntryKind::File if is_part_name(name.as_bytes()) => {
                dir.unlink(&name)?;
                removed += 1;
            }
            EntryKind::Dir if deep => {
                if let Ok(sub) = dir.open_dir(&name) {
                    removed += remove_parts_in(&sub, true)?;
                }
            }
            _ => {}
        }
    }
    Ok(removed)
}

/// True for a name [`super::transfer::part_name`] makes: `.cairn-pull-` 16 hex `.part`.
fn is_part_name(name: &[u8]) -> bool {
    name.len() == ".cairn-pull-.part".len() + 16
        && name.starts_with(b".cairn-pull-")
        && name.ends_with(b".part")
        && name[12..28].iter().all(u8::is_ascii_hexdigit)
}

fn os(b: &[u8]) -> &std::ffi::OsStr {
    std::ffi::OsStr::from_bytes(b)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The last component of an item's path, for titles and progress.
fn item_name(item: &[u8]) -> String {
    let p = Path::new(os(item));
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

impl Job for TransferJob {
    const KIND: &'static str = "transfer";

    fn title(&self) -> String {
        let items = self.way.items();
        let what = match items {
            [one] => format!("“{}”", item_name(one)),
            many => format!("{} items", many.len()),
        };
        match &self.way {
            Way::Pull { dest, .. } => format!(
                "Copy {what} from {} into {}",
                self.device_name,
                item_name(dest)
            ),
            Way::Push { dest, .. } => {
                format!("Send {what} to {} in {}", self.device_name, lossy(dest))
            }
        }
    }

    fn run(&mut self, ctx: &mut JobContext) -> Result<String, JobError> {
        let (core, device) = self.core_and_device()?;
        let net = core
            .runtime()
            .block_on(Net::shared(&core, NetOptions::from_env()))
            .map_err(|e| self.stopped_or_failed(e))?;
        while self.next < self.way.items().len() {
            let report = self.run_item(&core, &net, &device, self.next, ctx)?;
            if matches!(self.way, Way::Pull { .. }) {
                // The folder's index (and so the views) shows what came.
                super::index_copied(&core, &report.top_path());
            }
            self.reports.push(report);
            self.next += 1;
            ctx.checkpoint(self, |_| Ok(()))?;
        }
        Ok(self.summary())
    }

    fn on_cancel(&mut self, ctx: &mut JobContext) -> Result<(), JobError> {
        let _ = ctx;
        if let Way::Push { items, dest } = &self.way {
            return self.forget_pushed(&items[self.next.min(items.len())..], dest);
        }
        match self.remove_parts() {
            Ok(n) => {
                tracing::info!(removed = n, "a cancelled copy's partial files were removed");
                Ok(())
            }
            Err(e) => Err(JobError::Failed(format!(
                "the partial files could not all be removed: {e}"
            ))),
        }
    }
}

/// Registers [`TransferJob`] with `core`, so that transfers it left interrupted or paused
/// resume. Call it after [`Core::start`] and before a library opens.
pub fn register(core: &Core) {
    let weak = core.downgrade();
    core.register_job_with::<TransferJob>(move |job| job.core = Some(weak.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_are_recognised_and_nothing_else() {
        let made = super::super::transfer::part_name("key", b"/a/b");
        assert!(is_part_name(&made));
        for other in [
            &b".cairn-pull-.part"[..],
            b".cairn-pull-0123456789abcdeg.part",
            b"cairn-pull-0123456789abcdef.part",
            b".cairn-pull-0123456789abcdef.partx",
            b"photo.jpg",
        ] {
            assert!(!is_part_name(other), "{}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn the_state_survives_a_round_trip_and_titles_name_the_device() {
        let job = TransferJob {
            device: Uuid::nil(),
            device_name: "desk".into(),
            addrs: vec!["127.0.0.1:4000".parse().unwrap()],
            way: Way::Pull {
                items: vec![b"/share/photos".to_vec()],
                dest: b"/home/me/inbox".to_vec(),
            },
            next: 0,
            reports: vec![CopyReport {
                files: 3,
                bytes: 10,
                ..CopyReport::default()
            }],
            core: None,
        };
        let back: TransferJob =
            postcard::from_bytes(&postcard::to_allocvec(&job).unwrap()).unwrap();
        assert_eq!(back.way, job.way);
        assert_eq!(back.reports, job.reports);
        assert_eq!(back.addrs, job.addrs);
        assert_eq!(job.title(), "Copy “photos” from desk into inbox");
        assert_eq!(
            job.summary(),
            "Copied 3 files (10 B) from desk into /home/me/inbox, each verified"
        );
        let mut again = job.clone();
        again.reports = vec![CopyReport {
            already: 3,
            ..CopyReport::default()
        }];
        assert_eq!(
            again.summary(),
            "Nothing to copy: the 3 files from desk are in /home/me/inbox already"
        );
        again.reports.push(CopyReport {
            files: 1,
            bytes: 2048,
            resumed: 1,
            ..CopyReport::default()
        });
        assert_eq!(
            again.summary(),
            "Copied 1 file (2.0 KiB) from desk into /home/me/inbox, each verified; 3 were \
             there already; 1 went on from where an earlier run stopped"
        );
    }
}
