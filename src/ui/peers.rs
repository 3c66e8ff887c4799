//! The window's side of paired devices: the bridge's network commands ([`PeerCommand`],
//! carried out on the core runtime with the window's own endpoint) and what they answer
//! ([`PeerUpdate`]).
//!
//! The endpoint starts with the first network command, or when the window opens if a device
//! is paired already (so that device can browse this one while the window is open). Its
//! address comes from `CAIRN_LISTEN`, else the `[net] listen` setting, else any free port.

use std::path::PathBuf;
use std::sync::Arc;

use uuid::Uuid;

use crate::net::browse::{RemoteHit, RemoteItem, RemoteLocation};
use crate::net::job::TransferJob;
use crate::net::pair::PairingCode;
use crate::net::peers::{PairedDevice, PairedDevices};
use crate::net::transfer::CopyReport;
use crate::net::{Net, NetOptions, PairingState, PeerAddr};
use crate::vdfs::Core;

/// A network command from the window.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerCommand {
    /// The paired devices ([`PeerUpdate::Devices`]).
    ListDevices,
    /// Take offers of files from nearby devices into this folder (`Some`), or stop (`None`)
    /// ([`PeerUpdate::Offered`], [`PeerUpdate::Receiving`]; an accepted offer's
    /// [`PeerUpdate::Copying`] and [`PeerUpdate::Copied`] are `incoming`).
    Receive(Option<PathBuf>),
    /// Look for devices receiving files on this network ([`PeerUpdate::Receivers`]).
    FindReceivers,
    /// Offer local items to the device at `to` (`ID@IP:PORT`), called `name`
    /// ([`PeerUpdate::Copying`] once accepted, then [`PeerUpdate::Copied`]).
    SendNearby {
        /// Its address.
        to: String,
        /// Its name, as shown.
        name: String,
        /// The items, exact paths.
        paths: Vec<PathBuf>,
    },
    /// Answer the offer `id` (`true`: accept).
    Answer {
        /// The offer.
        id: u64,
        /// Accept it.
        accept: bool,
    },
    /// Keep telling whether each paired device answers ([`PeerUpdate::Reach`]), every
    /// [`REACH_EVERY`], for as long as the window runs (sent once, when it opens).
    WatchReach,
    /// Open a pairing code here ([`PeerUpdate::Pairing`] as it goes).
    OpenPairing,
    /// Close the open code.
    ClosePairing,
    /// Pair with the device showing `code` at `host` ([`PeerUpdate::Joined`]).
    Join {
        /// The code typed.
        code: String,
        /// `ID@IP:PORT`.
        host: String,
    },
    /// Forget a device (asking it to forget this one).
    Unpair(Uuid),
    /// A device's locations (`path: None`) or a folder of it ([`PeerUpdate::Listing`]).
    List {
        /// Answers carry it; older ones are dropped.
        ticket: u64,
        /// The device.
        device: Uuid,
        /// The folder, exact bytes.
        path: Option<Vec<u8>>,
    },
    /// Search a device's library by name ([`PeerUpdate::Found`] chunks, the last with the
    /// total).
    Search {
        /// Answers carry it; older ones are dropped.
        ticket: u64,
        /// The device.
        device: Uuid,
        /// Text to find in names.
        text: String,
        /// Only below this folder of the device (exact bytes).
        within: Option<Vec<u8>>,
    },
    /// Copy items of a device into a local folder ([`PeerUpdate::Copying`], then
    /// [`PeerUpdate::Copied`]).
    Copy {
        /// The device.
        device: Uuid,
        /// Its items, absolute, exact bytes.
        paths: Vec<Vec<u8>>,
        /// The local folder.
        dest: PathBuf,
    },
    /// Copy local items into a folder of a device ([`PeerUpdate::Copying`], then
    /// [`PeerUpdate::Copied`]); the device pulls them and indexes them.
    Send {
        /// The device.
        device: Uuid,
        /// The local items, exact paths.
        paths: Vec<PathBuf>,
        /// Its folder, absolute, exact bytes.
        dest: Vec<u8>,
    },
}

/// What a network command answers.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerUpdate {
    /// The paired devices.
    Devices(Vec<PairedDevice>),
    /// The pairing code's state, and this endpoint's address to show beside the code.
    Pairing {
        /// Where it stands.
        state: PairingState,
        /// `ID@IP:PORT`.
        host: String,
    },
    /// A join ended.
    Joined(Result<PairedDevice, String>),
    /// A listing's answer: locations, or a chunk of items (`done` on the last).
    Listing {
        /// The command's ticket.
        ticket: u64,
        /// What came.
        listing: Result<Listing, String>,
    },
    /// A copy's progress: bytes received and in all.
    Copying {
        /// Bytes received.
        done: u64,
        /// Bytes in all.
        total: u64,
        /// Files coming here from a nearby device (else a copy this window started).
        incoming: bool,
    },
    /// A copy ended: what it did, or why not.
    Copied {
        /// What it did, or why not, in words.
        result: Result<String, String>,
        /// Files that came here from a nearby device (else a copy this window started).
        incoming: bool,
    },
    /// Something else failed (an unpairing), in words.
    Failed(String),
    /// A chunk of a device's search results; the last one has `total` (all that match).
    Found {
        /// The command's ticket.
        ticket: u64,
        /// The hits, or why the search failed.
        hits: Result<Vec<RemoteHit>, String>,
        /// On the last chunk: how many match in all.
        total: Option<u64>,
    },
    /// Receiving from nearby devices is on (into this folder, at this `ID@IP:PORT`) or off,
    /// or could not start.
    Receiving(Result<Option<(PathBuf, String)>, String>),
    /// A nearby device offers files: answer with [`PeerCommand::Answer`] within
    /// [`crate::net::nearby::ANSWER_WITHIN`].
    Offered {
        /// Its number, for the answer.
        id: u64,
        /// What is offered, by whom.
        offer: crate::net::nearby::Offer,
    },
    /// The devices receiving on this network (`ID@IP:PORT`, name), or why none could be
    /// looked for.
    Receivers(Result<Vec<(String, String)>, String>),
    /// Whether a paired device answered just now: `Err` says why not.
    Reach {
        /// The device.
        id: Uuid,
        /// Online, or why it is taken as offline.
        online: Result<(), String>,
    },
}

/// Results a device's search brings into the window at most.
pub const SEARCH_LIMIT: u32 = 500;

/// How often the window asks each paired device whether it is there.
pub const REACH_EVERY: std::time::Duration = std::time::Duration::from_secs(20);

/// A listing's content.
#[derive(Debug, Clone, PartialEq)]
pub enum Listing {
    /// The device's locations.
    Locations(Vec<RemoteLocation>),
    /// A chunk of a folder's items.
    Items {
        /// The items.
        items: Vec<RemoteItem>,
        /// The last chunk.
        done: bool,
    },
}

/// The window's endpoint, started once.
#[derive(Clone, Default)]
pub struct WindowNet {
    cell: Arc<tokio::sync::OnceCell<Result<Net, String>>>,
    listen: Option<std::net::SocketAddr>,
    /// Offers waiting for the person's answer, by number.
    offers: Arc<std::sync::Mutex<OfferReplies>>,
}

/// Offers waiting for an answer: the next number, and each one's reply.
#[derive(Default)]
struct OfferReplies {
    next: u64,
    waiting: std::collections::HashMap<u64, tokio::sync::oneshot::Sender<bool>>,
}

impl WindowNet {
    /// An endpoint to start on `listen` (else `CAIRN_LISTEN`, else the settings).
    pub fn new(listen: Option<std::net::SocketAddr>) -> WindowNet {
        WindowNet {
            cell: Arc::default(),
            listen,
            offers: Arc::default(),
        }
    }

    /// The endpoint, started on first use.
    ///
    /// # Errors
    /// Why networking could not start, in words.
    pub async fn get(&self, core: &Core) -> Result<Net, String> {
        self.cell
            .get_or_init(|| async {
                let listen = self.listen.or_else(|| {
                    std::env::var("CAIRN_LISTEN")
                        .ok()
                        .and_then(|l| l.parse().ok())
                });
                Net::shared(core, NetOptions { listen })
                    .await
                    .map_err(|e| e.to_string())
            })
            .await
            .clone()
    }
}

/// Queues the copy with the paired device `id` that `make` builds, as a job of the open
/// library (on the blocking pool: it writes the job's record); a failure is told.
fn queue_transfer(
    core: &Core,
    send: &(impl Fn(PeerUpdate) + Clone + Send + Sync + 'static),
    id: Uuid,
    make: impl FnOnce(&Core, &PairedDevice) -> TransferJob + Send + 'static,
) {
    let (core, send) = (core.clone(), send.clone());
    tokio::task::spawn_blocking(move || {
        let r = (|| {
            let d = PairedDevices::at(core.data_dir().config())
                .find(&id.to_string())
                .map_err(|e| e.to_string())?;
            let lib = core.library().map_err(|e| e.to_string())?;
            lib.jobs()
                .spawn(make(&core, &d))
                .map(|_| ())
                .map_err(|e| format!("cannot start the copy: {e}"))
        })();
        if let Err(e) = r {
            send(PeerUpdate::Failed(e));
        }
    });
}

/// The paired devices, as an update.
fn devices(core: &Core) -> PeerUpdate {
    PeerUpdate::Devices(
        PairedDevices::at(core.data_dir().config())
            .list()
            .unwrap_or_default(),
    )
}

/// The paired device `id`, and the window's endpoint to reach it with.
async fn reach(core: &Core, net: &WindowNet, id: Uuid) -> Result<(PairedDevice, Net), String> {
    let d = PairedDevices::at(core.data_dir().config())
        .find(&id.to_string())
        .map_err(|e| e.to_string())?;
    Ok((d, net.get(core).await?))
}

/// A copy's progress callback: [`PeerUpdate::Copying`] at most every 100 ms, and at the end.
fn throttled(send: impl Fn(PeerUpdate) + Sync) -> impl Fn(u64, u64) + Sync {
    let last = std::sync::Mutex::new(std::time::Instant::now());
    move |done: u64, total: u64| {
        let mut l = last.lock().expect("progress clock");
        if l.elapsed() >= std::time::Duration::from_millis(100) || done == total {
            *l = std::time::Instant::now();
            send(PeerUpdate::Copying {
                done,
                total,
                incoming: false,
            });
        }
    }
}

/// Carries out `cmd` (on the core runtime); answers with `send`.
pub async fn handle(
    core: Core,
    net: WindowNet,
    cmd: PeerCommand,
    send: impl Fn(PeerUpdate) + Clone + Send + Sync + 'static,
) {
    match cmd {
        PeerCommand::ListDevices => {
            send(devices(&core));
        }
        PeerCommand::Receive(None) => {
            if let Ok(n) = net.get(&core).await {
                n.stop_receiving();
            }
            send(PeerUpdate::Receiving(Ok(None)));
        }
        PeerCommand::Receive(Some(into)) => {
            let n = match net.get(&core).await {
                Ok(n) => n,
                Err(e) => {
                    send(PeerUpdate::Receiving(Err(e)));
                    return;
                }
            };
            let mut events = n.receive_nearby(into.clone());
            send(PeerUpdate::Receiving(Ok(Some((
                into,
                n.peer_addr().to_string(),
            )))));
            // Until receiving stops (a later call replaces the channel, closing this one).
            while let Some(ev) = events.recv().await {
                match ev {
                    crate::net::nearby::DropEvent::Offer(offer, reply) => {
                        let id = {
                            let mut o = net.offers.lock().expect("offers");
                            o.next += 1;
                            let id = o.next;
                            o.waiting.insert(id, reply);
                            id
                        };
                        send(PeerUpdate::Offered { id, offer });
                    }
                    crate::net::nearby::DropEvent::Progress { done, total } => {
                        send(PeerUpdate::Copying {
                            done,
                            total,
                            incoming: true,
                        });
                    }
                    crate::net::nearby::DropEvent::Finished { from, result } => {
                        send(PeerUpdate::Copied {
                            result: result
                                .map(|w| format!("From {from}: {w}"))
                                .map_err(|e| format!("From {from}: {e}")),
                            incoming: true,
                        });
                    }
                }
            }
        }
        PeerCommand::FindReceivers => {
            let r = async {
                let n = net.get(&core).await?;
                let found = n
                    .find_receivers(std::time::Duration::from_secs(3))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(found
                    .into_iter()
                    .map(|(addr, name)| (addr.to_string(), name))
                    .collect())
            }
            .await;
            send(PeerUpdate::Receivers(r));
        }
        PeerCommand::SendNearby { to, name, paths } => {
            let r = async {
                let to: PeerAddr = to.trim().parse()?;
                let n = net.get(&core).await?;
                let progress = throttled(send.clone());
                let reports = n
                    .send_nearby(&to, &paths, &progress)
                    .await
                    .map_err(|e| e.to_string())?;
                let (files, bytes) = CopyReport::totals(&reports);
                Ok::<String, String>(format!(
                    "Sent {files} files ({}) to {name}, each verified there",
                    crate::format::bytes(bytes)
                ))
            }
            .await;
            send(PeerUpdate::Copied {
                result: r,
                incoming: false,
            });
        }
        PeerCommand::Answer { id, accept } => {
            if let Some(reply) = net.offers.lock().expect("offers").waiting.remove(&id) {
                let _ = reply.send(accept);
            }
        }
        PeerCommand::WatchReach => {
            // Only changes are sent: an idle window is not woken to draw the same dot.
            let mut last: std::collections::HashMap<Uuid, bool> = Default::default();
            loop {
                let paired = PairedDevices::at(core.data_dir().config())
                    .list()
                    .unwrap_or_default();
                if !paired.is_empty()
                    && let Ok(n) = net.get(&core).await
                {
                    for d in paired {
                        // Its locations: the cheapest question every device answers.
                        let online = n
                            .locations(&d, &[])
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string());
                        if last.insert(d.id, online.is_ok()) != Some(online.is_ok()) {
                            send(PeerUpdate::Reach { id: d.id, online });
                        }
                    }
                }
                tokio::time::sleep(REACH_EVERY).await;
            }
        }
        PeerCommand::OpenPairing => {
            let n = match net.get(&core).await {
                Ok(n) => n,
                Err(e) => {
                    send(PeerUpdate::Pairing {
                        state: PairingState::Failed(e),
                        host: String::new(),
                    });
                    return;
                }
            };
            n.open_pairing();
            let host = n.peer_addr().to_string();
            let mut rx = n.pairing_state();
            loop {
                let state = rx.borrow_and_update().clone();
                let end = !matches!(state, PairingState::Open { .. });
                send(PeerUpdate::Pairing {
                    state: state.clone(),
                    host: host.clone(),
                });
                if end {
                    if matches!(state, PairingState::Paired(_)) {
                        send(devices(&core));
                    }
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        }
        PeerCommand::ClosePairing => {
            if let Ok(n) = net.get(&core).await {
                n.close_pairing();
            }
        }
        PeerCommand::Join { code, host } => {
            let r = async {
                let code = PairingCode::parse(&code).map_err(|e| e.to_string())?;
                let n = net.get(&core).await?;
                let host: PeerAddr = if host.trim().is_empty() {
                    n.find_pairing_host(&code, std::time::Duration::from_secs(10))
                        .await
                        .map_err(|e| e.to_string())?
                } else {
                    host.trim().parse()?
                };
                n.join(&code, &host).await.map_err(|e| e.to_string())
            }
            .await;
            send(PeerUpdate::Joined(r));
            send(devices(&core));
        }
        PeerCommand::Unpair(id) => {
            let r = async {
                let (d, n) = reach(&core, &net, id).await?;
                n.unpair(&d, &[]).await.map_err(|e| e.to_string())
            }
            .await;
            if let Err(e) = r {
                send(PeerUpdate::Failed(e));
            }
            send(devices(&core));
        }
        PeerCommand::List {
            ticket,
            device,
            path,
        } => {
            let r = async {
                let (d, n) = reach(&core, &net, device).await?;
                match path {
                    None => n
                        .locations(&d, &[])
                        .await
                        .map(|l| {
                            send(PeerUpdate::Listing {
                                ticket,
                                listing: Ok(Listing::Locations(l)),
                            });
                        })
                        .map_err(|e| e.to_string()),
                    Some(p) => {
                        let s = send.clone();
                        n.list(&d, &[], &p, move |items| {
                            s(PeerUpdate::Listing {
                                ticket,
                                listing: Ok(Listing::Items { items, done: false }),
                            });
                            true
                        })
                        .await
                        .map(|_| {
                            send(PeerUpdate::Listing {
                                ticket,
                                listing: Ok(Listing::Items {
                                    items: Vec::new(),
                                    done: true,
                                }),
                            });
                        })
                        .map_err(|e| e.to_string())
                    }
                }
            }
            .await;
            if let Err(e) = r {
                send(PeerUpdate::Listing {
                    ticket,
                    listing: Err(e),
                });
            }
        }
        PeerCommand::Search {
            ticket,
            device,
            text,
            within,
        } => {
            let r = async {
                let (d, n) = reach(&core, &net, device).await?;
                let s = send.clone();
                n.search(
                    &d,
                    &[],
                    &text,
                    within.as_deref(),
                    SEARCH_LIMIT,
                    move |hits| {
                        s(PeerUpdate::Found {
                            ticket,
                            hits: Ok(hits),
                            total: None,
                        });
                        true
                    },
                )
                .await
                .map_err(|e| e.to_string())
            }
            .await;
            send(match r {
                Ok(total) => PeerUpdate::Found {
                    ticket,
                    hits: Ok(Vec::new()),
                    total: Some(total),
                },
                Err(e) => PeerUpdate::Found {
                    ticket,
                    hits: Err(e),
                    total: None,
                },
            });
        }
        // Copies with a paired device are jobs of the open library: the jobs drawer shows
        // them, and the window toasts their end (`AppState::transfer_jobs`).
        PeerCommand::Copy {
            device,
            paths,
            dest,
        } => queue_transfer(&core, &send, device, move |core, d| {
            TransferJob::pull(core, d.id, &d.name, Vec::new(), paths, &dest)
        }),
        PeerCommand::Send {
            device,
            paths,
            dest,
        } => queue_transfer(&core, &send, device, move |core, d| {
            TransferJob::push(core, d.id, &d.name, Vec::new(), &paths, dest)
        }),
    }
}
