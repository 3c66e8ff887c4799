//! Peer-to-peer networking: this device's one iroh endpoint and its protocols.
//!
//! The endpoint's identity is the device key (`device.key`): a peer's iroh endpoint id *is*
//! its device public key, so pairing binds exactly the keys QUIC/TLS then authenticates.
//! One protocol per ALPN `cairn/<feature>/<version>` ([`alpn`]) on one router:
//! - [`pair`] (`cairn/pair/1`): pairing with a short code (SPAKE2), and unpairing;
//! - [`browse`] (`cairn/browse/1`): a paired device's locations, folders and search;
//! - [`transfer`] (`cairn/transfer/1`): copying files and folders from and to a paired
//!   device;
//! - [`nearby`] (`cairn/drop/1`): sending files to a device that is not paired, with its
//!   person's consent.
//!
//! Connections to a paired device are kept and reused while they live (one per ALPN), so a
//! listing, a search or a copy after the first costs a stream, not a handshake.
//!
//! **Authorisation.** iroh authenticates every peer but lets any of them connect; Cairn
//! decides in an `after_handshake` hook (`Gate`), before any stream is read: a connection
//! on any ALPN but pairing from a device not in `paired.toml` is closed with
//! [`CLOSE_NOT_PAIRED`]. Pairing connections are taken only while a code is open here, or
//! from a paired device (to unpair); offers of files from any device only while this one
//! receives them ([`Net::receive_nearby`]), else [`CLOSE_NOT_RECEIVING`].
//!
//! **What leaves the machine.** Relays, port mapping (UPnP/PCP/NAT-PMP) and DNS/pkarr lookup
//! are off unless the user turns them on in `settings.toml` (`[net]`); local discovery
//! (mDNS) is on when the endpoint listens on a LAN address, and never when it listens on
//! loopback only (how the tests run).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iroh::endpoint::{AfterHandshakeOutcome, Connection, EndpointHooks, VarInt, presets};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, EndpointId, RelayMode, SecretKey};
use tokio::sync::watch;

use crate::vdfs::{Core, CoreError};

pub mod browse;
pub mod job;
pub mod nearby;
pub mod pair;
pub mod peers;
pub mod transfer;
pub mod wire;

use browse::{BrowseReq, BrowseResp, RemoteHit, RemoteItem, RemoteLocation};
use pair::{Card, HostOutcome, HostSession, PairError, PairMsg, PairingCode};
use peers::{PairedDevice, PairedDevices};

/// The ALPNs, one per protocol and version.
pub mod alpn {
    /// Pairing and unpairing.
    pub const PAIR: &[u8] = b"cairn/pair/1";
    /// Browsing a paired device.
    pub const BROWSE: &[u8] = b"cairn/browse/1";
    /// Copying files from and to a paired device.
    pub const TRANSFER: &[u8] = b"cairn/transfer/1";
    /// Sending files to a nearby device that is not paired.
    pub const DROP: &[u8] = b"cairn/drop/1";
}

/// What a pairing host announces in its mDNS user data, followed by the code's 4-digit slot.
pub const PAIR_SLOT_PREFIX: &str = "cairn-pair:";
/// What a device receiving files from nearby devices announces in its mDNS user data,
/// followed by its name.
pub const DROP_PREFIX: &str = "cairn-drop:";
/// The close code for a connection from a device that is not paired.
pub const CLOSE_NOT_PAIRED: u32 = 403;
/// The close code for a pairing connection while no code is open.
pub const CLOSE_NO_CODE: u32 = 404;
/// The close code for an offer of files while this device does not receive them.
pub const CLOSE_NOT_RECEIVING: u32 = 423;
/// How long a connection attempt to a peer may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(8);

/// What went wrong talking to peers, in words for the user.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// This device's own files (identity, paired list, settings).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// No paired device matches what was asked.
    #[error("{0}")]
    UnknownDevice(String),
    /// The endpoint could not start.
    #[error("cannot start networking: {0}")]
    Bind(String),
    /// The peer could not be reached.
    #[error("cannot reach {device}: {reason}")]
    Unreachable {
        /// The device, as the user knows it.
        device: String,
        /// Why.
        reason: String,
    },
    /// The peer broke the protocol or the connection failed mid-way.
    #[error("{device}: {reason}")]
    Protocol {
        /// The device.
        device: String,
        /// Why.
        reason: String,
    },
    /// The peer answered with a refusal or an error.
    #[error("{device} says: {reason}")]
    Remote {
        /// The device.
        device: String,
        /// What it said.
        reason: String,
    },
    /// Pairing did not pair.
    #[error("pairing failed: {0}")]
    Pairing(#[from] PairError),
    /// A pairing session ended without a pairing.
    #[error("{0}")]
    SessionEnded(String),
    /// The destination's drive has too little free space for a copy (no file was written).
    #[error(
        "not enough free space in {}: the copy needs {} more, {} is free",
        path.display(),
        crate::format::bytes(*needed),
        crate::format::bytes(*free)
    )]
    NoSpace {
        /// The destination folder.
        path: std::path::PathBuf,
        /// Bytes still to write.
        needed: u64,
        /// Bytes free there.
        free: u64,
    },
}

/// An endpoint to dial: its id and where it listens, written `ID@IP:PORT` (several
/// addresses separated by commas: `ID@IP:PORT,IP:PORT`), as `cairn device pair` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddr {
    /// The endpoint id (the device public key).
    pub id: EndpointId,
    /// Its socket addresses.
    pub addrs: Vec<SocketAddr>,
}

impl std::fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@", self.id)?;
        for (i, a) in self.addrs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for PeerAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<PeerAddr, String> {
        let bad = || format!("“{s}” is not ID@IP:PORT (as `cairn device pair` prints it)");
        let (id, rest) = s.trim().split_once('@').ok_or_else(bad)?;
        let id: EndpointId = id.parse().map_err(|_| bad())?;
        let addrs = rest
            .split(',')
            .map(|a| a.trim().parse::<SocketAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| bad())?;
        if addrs.is_empty() {
            return Err(bad());
        }
        Ok(PeerAddr { id, addrs })
    }
}

/// How to run the endpoint.
#[derive(Debug, Clone, Default)]
pub struct NetOptions {
    /// Listen here (for example `127.0.0.1:0`, or `0.0.0.0:47700`); `None` takes the
    /// `[net] listen` setting, else any free port on every interface.
    pub listen: Option<SocketAddr>,
}

impl NetOptions {
    /// Listening where `CAIRN_LISTEN` says (`IP:PORT`), else as the settings say.
    pub fn from_env() -> NetOptions {
        NetOptions {
            listen: std::env::var("CAIRN_LISTEN")
                .ok()
                .and_then(|l| l.parse().ok()),
        }
    }
}

/// The core's running endpoint, shared by everything in the process that talks to peers
/// (the window, a command, transfer jobs): see [`Net::shared`].
#[derive(Default)]
pub struct NetSlot(tokio::sync::Mutex<Option<Net>>);

/// Where a pairing session stands (see [`Net::open_pairing`]).
#[derive(Debug, Clone, PartialEq)]
pub enum PairingState {
    /// No code is open.
    Idle,
    /// A code is shown and waits for the other device.
    Open {
        /// The code to type on the other device.
        code: String,
        /// Seconds left.
        expires_in: u64,
    },
    /// The session paired with this device.
    Paired(PairedDevice),
    /// The session ended without pairing, and why.
    Failed(String),
}

/// The running endpoint. Cheap to clone.
#[derive(Clone)]
pub struct Net {
    inner: Arc<NetInner>,
}

struct NetInner {
    endpoint: Endpoint,
    /// Open connections to paired devices, by device and ALPN.
    conns: Mutex<std::collections::HashMap<(EndpointId, &'static [u8]), Connection>>,
    /// Local discovery (mDNS), when on.
    mdns: Option<iroh_mdns_address_lookup::MdnsAddressLookup>,
    router: Router,
    shared: Arc<Shared>,
}

/// What the protocol handlers share with [`Net`].
struct Shared {
    /// Weak: the endpoint's tasks run on the core's runtime, which must not be dropped by
    /// one of them.
    core: crate::vdfs::WeakCore,
    /// The device key's public half (this endpoint's id).
    me: [u8; 32],
    paired: PairedDevices,
    card: Mutex<Card>,
    session: Mutex<Option<HostSession>>,
    /// Offers of files are taken (to this channel, into this folder) while set.
    drops: Mutex<
        Option<(
            tokio::sync::mpsc::Sender<nearby::DropEvent>,
            std::path::PathBuf,
        )>,
    >,
    state: watch::Sender<PairingState>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    fn is_paired(&self, id: &EndpointId) -> bool {
        self.paired.by_key(&id.to_string()).ok().flatten().is_some()
    }

    fn session_open(&self) -> bool {
        self.session
            .lock()
            .expect("session")
            .as_ref()
            .is_some_and(|s| s.expires > Instant::now())
    }
}

/// The QUIC transport settings: iroh's, with path MTU discovery (RFC 8899) allowed to climb
/// past Ethernet's 1,500 bytes when the path carries more (loopback, jumbo-frame LANs); a
/// path that carries less stays where the probes stop, and a lost probe costs nothing.
fn transport_config() -> iroh::endpoint::QuicTransportConfig {
    let mut mtu = iroh::endpoint::MtuDiscoveryConfig::default();
    mtu.upper_bound(MTU_UPPER_BOUND);
    iroh::endpoint::QuicTransportConfig::builder()
        .mtu_discovery_config(Some(mtu))
        .build()
}

/// The largest UDP payload path MTU discovery tries (bytes).
const MTU_UPPER_BOUND: u16 = 65_000;

/// The authorisation gate, run after every handshake before any stream is read.
#[derive(Debug)]
struct Gate(Arc<Shared>);

impl EndpointHooks for Gate {
    async fn after_handshake<'a>(&'a self, conn: &'a Connection) -> AfterHandshakeOutcome {
        // Our own connections out are to devices we chose; this gate is for those coming in.
        if conn.side().is_client() {
            return AfterHandshakeOutcome::accept();
        }
        let id = conn.remote_id();
        // Whether it may come in, and else the code and words it is closed with.
        let (allowed, code, why): (bool, u32, &[u8]) = match conn.alpn() {
            a if a == alpn::PAIR => (
                self.0.session_open() || self.0.is_paired(&id),
                CLOSE_NO_CODE,
                b"no pairing code is open on this device",
            ),
            a if a == alpn::DROP => (
                self.0.drops.lock().expect("drops").is_some(),
                CLOSE_NOT_RECEIVING,
                b"this device is not receiving files now",
            ),
            _ => (
                self.0.is_paired(&id),
                CLOSE_NOT_PAIRED,
                b"this device is not paired with you",
            ),
        };
        if allowed {
            return AfterHandshakeOutcome::accept();
        }
        tracing::info!(peer = %id.fmt_short(), alpn = %String::from_utf8_lossy(conn.alpn()), "refused a connection");
        AfterHandshakeOutcome::Reject {
            error_code: VarInt::from_u32(code),
            reason: why.to_vec(),
        }
    }
}

impl Net {
    /// Starts the endpoint with the device's identity, and its protocols.
    ///
    /// # Errors
    /// [`NetError::Bind`] when the address cannot be bound; [`NetError::Core`] for the
    /// settings or the device key.
    pub async fn start(core: &Core, options: NetOptions) -> Result<Net, NetError> {
        let settings = core.data_dir().load_settings()?.net;
        let secret = SecretKey::from_bytes(&core.device_secret());
        let shared = Arc::new(Shared {
            core: core.downgrade(),
            me: *secret.public().as_bytes(),
            paired: PairedDevices::at(core.data_dir().config()),
            card: Mutex::new(Card {
                id: core.device().id,
                name: core.device().name,
                addrs: Vec::new(),
            }),
            session: Mutex::new(None),
            drops: Mutex::new(None),
            state: watch::channel(PairingState::Idle).0,
        });
        let mut builder = Endpoint::builder(presets::Minimal)
            .secret_key(secret)
            .relay_mode(if settings.relays {
                RelayMode::Default
            } else {
                RelayMode::Disabled
            })
            .clear_address_lookup()
            .net_report_config(iroh::NetReportConfig::minimal())
            .hooks(Gate(shared.clone()))
            .transport_config(transport_config())
            .alpns(vec![
                alpn::PAIR.to_vec(),
                alpn::BROWSE.to_vec(),
                alpn::TRANSFER.to_vec(),
            ]);
        if !settings.port_mapping {
            builder = builder.portmapper_config(iroh::endpoint::PortmapperConfig::Disabled);
        }
        let listen = options.listen.or(settings.listen);
        // mDNS on loopback would only reach this machine (and the tests run there).
        let mdns = if settings.local_discovery && !listen.is_some_and(|a| a.ip().is_loopback()) {
            let m = iroh_mdns_address_lookup::MdnsAddressLookup::builder()
                .build(
                    iroh::PublicKey::from_bytes(&shared.me)
                        .map_err(|e| NetError::Bind(e.to_string()))?,
                )
                .map_err(|e| {
                    NetError::Bind(format!("local discovery: {}", crate::format::one_line(&e)))
                })?;
            builder = builder.address_lookup(m.clone());
            Some(m)
        } else {
            None
        };
        if let Some(addr) = listen {
            builder = builder
                .clear_ip_transports()
                .bind_addr(addr)
                .map_err(|e| NetError::Bind(format!("{addr}: {e}")))?;
        }
        let endpoint = builder
            .bind()
            .await
            .map_err(|e| NetError::Bind(crate::format::one_line(&e)))?;
        let addrs = dialable(&endpoint);
        shared.card.lock().expect("card").addrs = addrs.iter().copied().take(8).collect();
        let router = Router::builder(endpoint.clone())
            .accept(alpn::PAIR, PairHandler(shared.clone()))
            .accept(alpn::BROWSE, BrowseHandler(shared.clone()))
            .accept(alpn::TRANSFER, TransferHandler(shared.clone()))
            .accept(alpn::DROP, DropHandler(shared.clone()))
            .spawn();
        tracing::info!(id = %endpoint.id(), ?addrs, "networking started");
        Ok(Net {
            inner: Arc::new(NetInner {
                endpoint,
                conns: Mutex::default(),
                mdns,
                router,
                shared,
            }),
        })
    }

    /// The core's running endpoint, started with `options` when none runs: one endpoint per
    /// device and process, shared by the window, the command line and the transfer jobs
    /// (a second endpoint with the same key would split the device's connections).
    ///
    /// # Errors
    /// As [`Net::start`].
    pub async fn shared(core: &Core, options: NetOptions) -> Result<Net, NetError> {
        let slot = core.extension::<NetSlot>();
        let mut held = slot.0.lock().await;
        if let Some(net) = held.as_ref() {
            return Ok(net.clone());
        }
        let net = Net::start(core, options).await?;
        *held = Some(net.clone());
        Ok(net)
    }

    /// True when the core's shared endpoint runs (see [`Net::shared`]).
    pub fn shared_running(core: &Core) -> bool {
        let slot = core.extension::<NetSlot>();
        slot.0.try_lock().map_or(true, |held| held.is_some())
    }

    /// This endpoint's id: the device public key, 64 hex characters.
    pub fn id(&self) -> String {
        self.inner.endpoint.id().to_string()
    }

    /// The socket addresses a peer can dial this endpoint at: its interfaces' addresses at
    /// the bound ports, never an unspecified one (`0.0.0.0`, `[::]`).
    pub fn addrs(&self) -> Vec<SocketAddr> {
        dialable(&self.inner.endpoint)
    }

    /// This endpoint as a peer dials it (its id and listening addresses).
    pub fn peer_addr(&self) -> PeerAddr {
        PeerAddr {
            id: self.inner.endpoint.id(),
            addrs: self.addrs(),
        }
    }

    /// The paired devices.
    pub fn paired(&self) -> &PairedDevices {
        &self.inner.shared.paired
    }

    /// Opens a pairing session with a fresh code (closing any open one) for [`pair::CODE_TTL`].
    /// Follow it with [`Net::pairing_state`].
    pub fn open_pairing(&self) -> PairingCode {
        let s = HostSession::new();
        let code = s.code.clone();
        // Joiners on the LAN find this endpoint by the code's slot (never the code itself).
        if self.inner.mdns.is_some()
            && let Ok(data) = format!("{PAIR_SLOT_PREFIX}{:04}", code.slot()).parse()
        {
            self.inner
                .endpoint
                .set_user_data_for_address_lookup(Some(data));
        }
        *self.inner.shared.session.lock().expect("session") = Some(s);
        self.inner.shared.state.send_replace(PairingState::Open {
            code: code.to_string(),
            expires_in: pair::CODE_TTL.as_secs(),
        });
        code
    }

    /// Closes the open pairing session, if any.
    pub fn close_pairing(&self) {
        self.announce_receiving();
        if self
            .inner
            .shared
            .session
            .lock()
            .expect("session")
            .take()
            .is_some()
        {
            self.inner
                .shared
                .state
                .send_replace(PairingState::Failed("pairing was cancelled".into()));
        }
    }

    /// Where the pairing session stands, as it changes.
    pub fn pairing_state(&self) -> watch::Receiver<PairingState> {
        self.inner.shared.state.subscribe()
    }

    /// Waits until the open session pairs, fails, or expires.
    ///
    /// # Errors
    /// [`NetError::SessionEnded`] saying why it ended without pairing.
    pub async fn wait_paired(&self) -> Result<PairedDevice, NetError> {
        let mut rx = self.pairing_state();
        let deadline = tokio::time::Instant::now() + pair::CODE_TTL;
        loop {
            match &*rx.borrow_and_update() {
                PairingState::Paired(d) => return Ok(d.clone()),
                PairingState::Failed(why) => return Err(NetError::SessionEnded(why.clone())),
                PairingState::Idle => {
                    return Err(NetError::SessionEnded("no pairing code is open".into()));
                }
                PairingState::Open { .. } => {}
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => {
                    self.inner.shared.session.lock().expect("session").take();
                    return Err(NetError::SessionEnded(format!(
                        "the code expired after {} minutes without a device using it",
                        pair::CODE_TTL.as_secs() / 60
                    )));
                }
            }
        }
    }

    /// Finds the device showing `code` on the local network: the endpoint whose mDNS
    /// announcement carries the code's slot, within `wait`.
    ///
    /// # Errors
    /// [`NetError::Unreachable`] when local discovery is off or nothing answers in time.
    pub async fn find_pairing_host(
        &self,
        code: &PairingCode,
        wait: Duration,
    ) -> Result<PeerAddr, NetError> {
        use n0_future::StreamExt as _;
        let unreachable = |reason: String| NetError::Unreachable {
            device: format!("the device showing {:04}-…", code.slot()),
            reason,
        };
        let Some(mdns) = &self.inner.mdns else {
            return Err(unreachable(
                "local discovery is off here (listening on loopback, or `[net] local_discovery = false`); give its address with --host ID@IP:PORT".into(),
            ));
        };
        let wanted = format!("{PAIR_SLOT_PREFIX}{:04}", code.slot());
        let mut events = mdns.subscribe().await;
        let found = tokio::time::timeout(wait, async {
            while let Some(ev) = events.next().await {
                if let iroh_mdns_address_lookup::DiscoveryEvent::Discovered {
                    endpoint_info, ..
                } = ev
                    && endpoint_info
                        .data
                        .user_data()
                        .is_some_and(|u| u.as_ref() == wanted)
                {
                    return Some(PeerAddr {
                        id: endpoint_info.endpoint_id,
                        addrs: endpoint_info.data.ip_addrs().copied().collect(),
                    });
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(p)) => Ok(p),
            _ => Err(unreachable(format!(
                "no device on this network shows that code (looked for {} s); check that it is open there, or give its address with --host",
                wait.as_secs()
            ))),
        }
    }

    /// Joins the device that shows `code`: the endpoint `host` (its id, as [`PeerAddr`]
    /// gives it) at `addrs`. The code, not the id, proves it is the device the user looks
    /// at. Stores it.
    ///
    /// # Errors
    /// [`NetError::Unreachable`], [`NetError::Pairing`] (a wrong code, a refusal…).
    pub async fn join(
        &self,
        code: &PairingCode,
        host: &PeerAddr,
    ) -> Result<PairedDevice, NetError> {
        let addrs = &host.addrs;
        let shown = host.to_string();
        let conn = self.dial(host.id, addrs, alpn::PAIR, &shown).await?;
        let peer_id = conn.remote_id();
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| failed(&shown, &e))?;
        let card = self.inner.shared.card.lock().expect("card").clone();
        let me = *self.inner.endpoint.id().as_bytes();
        let host = pair::join(&mut send, &mut recv, code, &me, peer_id.as_bytes(), &card).await;
        let host = match host {
            Err(PairError::Wire(e)) => {
                Err(refusal(&conn).map_or(PairError::Wire(e), PairError::Refused))
            }
            other => other,
        };
        let _ = send.finish();
        conn.close(VarInt::from_u32(0), b"done");
        let host = host?;
        let mut device = PairedDevice {
            id: host.id,
            name: host.name,
            public_key: peer_id.to_string(),
            paired_at: jiff::Timestamp::now(),
            addrs: host.addrs.clone(),
            last_seen: Some(jiff::Timestamp::now()),
        };
        for a in addrs.iter().rev() {
            device.remember_addr(*a);
        }
        self.paired().add(device.clone())?;
        Ok(device)
    }

    /// Forgets `device` here and, when it can be reached, there too. Returns whether the
    /// other device confirmed.
    ///
    /// # Errors
    /// [`NetError::Core`] when `paired.toml` cannot be written.
    pub async fn unpair(
        &self,
        device: &PairedDevice,
        addrs: &[SocketAddr],
    ) -> Result<bool, NetError> {
        let told = async {
            let conn = self.dial_device(device, addrs, alpn::PAIR).await?;
            let (mut send, mut recv) =
                conn.open_bi().await.map_err(|e| failed(&device.name, &e))?;
            wire::send(&mut send, &PairMsg::Unpair)
                .await
                .map_err(|e| failed(&device.name, &e))?;
            let _ = send.finish();
            let answer: PairMsg = wire::recv(&mut recv, pair::MAX_MSG)
                .await
                .map_err(|e| failed(&device.name, &e))?;
            conn.close(VarInt::from_u32(0), b"done");
            Ok::<bool, NetError>(answer == PairMsg::Unpaired)
        };
        let told = tokio::time::timeout(CONNECT_TIMEOUT * 2, told)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(false);
        self.paired().remove(device.id)?;
        Ok(told)
    }

    /// The locations `device` shares.
    ///
    /// # Errors
    /// [`NetError`] when it cannot be reached or refuses.
    pub async fn locations(
        &self,
        device: &PairedDevice,
        addrs: &[SocketAddr],
    ) -> Result<Vec<RemoteLocation>, NetError> {
        let mut out = Vec::new();
        self.request(device, addrs, &BrowseReq::Locations, |r| {
            if let BrowseResp::Locations(l) = r {
                out = l;
            }
            true
        })
        .await?;
        Ok(out)
    }

    /// Lists `folder` (absolute, exact bytes) on `device`, chunk by chunk into `sink`
    /// (which returns `false` to stop). Returns how many items came and whether the peer
    /// listed them from its index.
    ///
    /// # Errors
    /// [`NetError`] when it cannot be reached or refuses (naming why, e.g. a folder outside
    /// its locations).
    pub async fn list(
        &self,
        device: &PairedDevice,
        addrs: &[SocketAddr],
        folder: &[u8],
        mut sink: impl FnMut(Vec<RemoteItem>) -> bool,
    ) -> Result<(u64, bool), NetError> {
        let mut end = (0, false);
        let req = BrowseReq::List {
            path: folder.to_vec(),
        };
        self.request(device, addrs, &req, |r| match r {
            BrowseResp::Items(items) => sink(items),
            BrowseResp::End { total, from_index } => {
                end = (total, from_index);
                true
            }
            _ => true,
        })
        .await?;
        Ok(end)
    }

    /// Searches `device`'s library for names holding `text` (optionally `within` a folder of
    /// its), best first, into `sink`. Returns how many match in all.
    ///
    /// # Errors
    /// As [`Net::list`].
    pub async fn search(
        &self,
        device: &PairedDevice,
        addrs: &[SocketAddr],
        text: &str,
        within: Option<&[u8]>,
        limit: u32,
        mut sink: impl FnMut(Vec<RemoteHit>) -> bool,
    ) -> Result<u64, NetError> {
        let mut total = 0;
        let req = BrowseReq::Search {
            text: text.to_owned(),
            within: within.map(<[u8]>::to_vec),
            limit,
        };
        self.request(device, addrs, &req, |r| match r {
            BrowseResp::Hits(h) => sink(h),
            BrowseResp::End { total: t, .. } => {
                total = t;
                true
            }
            _ => true,
        })
        .await?;
        Ok(total)
    }

    /// Copies `remote` (a file or folder of `device`, absolute, exact bytes) into the local
    /// folder `dest`, verified by BLAKE3 end to end; a rerun goes on from partial files (see
    /// [`transfer`]). `progress` gets (bytes received, bytes in all).
    ///
    /// # Errors
    /// [`NetError`] when the device cannot be reached, refuses, sends bytes that do not
    /// match, or a local write fails (naming the path).
    pub async fn pull(
        &self,
        device: &PairedDevice,
        addrs: &[SocketAddr],
        remote: &[u8],
        dest: &std::path::Path,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<transfer::CopyReport, NetError> {
        let (conn, _) = self.connect(device, addrs, alpn::TRANSFER).await?;
        let receiver = transfer::Receiver {
            conn: &conn,
            key: device.public_key.clone(),
            device: device.name.clone(),
        };
        receiver.pull(remote, dest, progress).await
    }

    /// Copies the local `item` (a file or folder) into the folder `dest` (absolute, exact
    /// bytes) of `device`, which must be inside one of its locations. The device pulls it
    /// over a connection of its own for this push (see [`transfer::TransferReq::Push`]): it
    /// verifies every file by BLAKE3 and writes by the same rules as [`Net::pull`], and a
    /// rerun goes on from its partial files. While the push runs, this device serves `item`
    /// and what is below it to that device, nothing else. `progress` gets (bytes received
    /// there, bytes in all).
    ///
    /// # Errors
    /// [`NetError`] when `item` cannot be read, the device cannot be reached or refuses
    /// (a folder outside its locations, too little space), or the copy fails there.
    pub async fn push(
        &self,
        device: &PairedDevice,
        addrs: &[SocketAddr],
        item: &std::path::Path,
        dest: &[u8],
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<transfer::CopyReport, NetError> {
        use std::os::unix::ffi::OsStrExt;
        let root = std::fs::canonicalize(item).map_err(core_io(item))?;
        let meta = std::fs::symlink_metadata(&root).map_err(core_io(&root))?;
        if !(meta.is_file() || meta.is_dir()) {
            return Err(NetError::Core(CoreError::io(
                &root,
                std::io::Error::other("only files and folders can be sent"),
            )));
        }
        // A connection of its own: the device's requests on it are served from `root` only.
        let conn = self.dial_device(device, addrs, alpn::TRANSFER).await?;
        let req = transfer::TransferReq::Push {
            path: root.as_os_str().as_bytes().to_vec(),
            dest: dest.to_vec(),
        };
        offer_and_wait(conn, vec![root], &device.name, &req, |m| match m {
            transfer::TransferResp::Progress { done, total } => {
                progress(done, total);
                None
            }
            transfer::TransferResp::Pushed(report) => Some(Ok(report)),
            transfer::TransferResp::Error(reason) => Some(Err(Ok(reason))),
            other => Some(Err(Err(format!(
                "{other:?} where a push's progress was due"
            )))),
        })
        .await
    }

    /// Tells `device` that the push of the local `item` into its folder `dest` is cancelled:
    /// it removes the partial files that push left there (it lists `item` from here, on this
    /// connection only, to know their names). Returns how many it removed.
    ///
    /// # Errors
    /// [`NetError`]: the device cannot be reached, or refused.
    pub async fn forget_push(
        &self,
        device: &PairedDevice,
        addrs: &[SocketAddr],
        item: &std::path::Path,
        dest: &[u8],
    ) -> Result<u64, NetError> {
        use std::os::unix::ffi::OsStrExt;
        // The item as the push named it (canonical); when it is gone here, as it was given.
        let root = std::fs::canonicalize(item).unwrap_or_else(|_| item.to_owned());
        let conn = self.dial_device(device, addrs, alpn::TRANSFER).await?;
        let req = transfer::TransferReq::Forget {
            path: root.as_os_str().as_bytes().to_vec(),
            dest: dest.to_vec(),
        };
        offer_and_wait(conn, vec![root], &device.name, &req, |m| match m {
            transfer::TransferResp::Forgot { removed } => Some(Ok(removed)),
            transfer::TransferResp::Error(reason) => Some(Err(Ok(reason))),
            other => Some(Err(Err(format!(
                "{other:?} where a forget's answer was due"
            )))),
        })
        .await
    }

    /// Takes offers of files from nearby devices (paired or not) from now on: each reaches
    /// the returned channel as a [`nearby::DropEvent::Offer`] to accept or decline within
    /// [`nearby::ANSWER_WITHIN`]; accepted items land in `into` (created when the first
    /// offer is accepted), and a [`nearby::DropEvent::Finished`] follows. Replaces an
    /// earlier call's channel.
    pub fn receive_nearby(
        &self,
        into: std::path::PathBuf,
    ) -> tokio::sync::mpsc::Receiver<nearby::DropEvent> {
        let (tx, rx) = tokio::sync::mpsc::channel(nearby::WAITING);
        *self.inner.shared.drops.lock().expect("drops") = Some((tx, into));
        if !self.inner.shared.session_open() {
            self.announce_receiving();
        }
        rx
    }

    /// Stops taking offers of files (connections for them are refused again).
    pub fn stop_receiving(&self) {
        *self.inner.shared.drops.lock().expect("drops") = None;
        if !self.inner.shared.session_open() {
            self.announce_receiving();
        }
    }

    /// What local discovery announces when no pairing code is open: that this device
    /// receives files (and its name), or nothing.
    fn announce_receiving(&self) {
        if self.inner.mdns.is_none() {
            return;
        }
        let receiving = self.inner.shared.drops.lock().expect("drops").is_some();
        let data = receiving
            .then(|| {
                let name = self.inner.shared.card.lock().expect("card").name.clone();
                let short: String = name.chars().take(nearby::MAX_NAME).collect();
                format!("{DROP_PREFIX}{short}").parse().ok()
            })
            .flatten();
        self.inner.endpoint.set_user_data_for_address_lookup(data);
    }

    /// The devices on the local network receiving files now (mDNS), with the names they
    /// announce, as found within `wait`.
    ///
    /// # Errors
    /// [`NetError::Unreachable`] when local discovery is off here.
    pub async fn find_receivers(
        &self,
        wait: Duration,
    ) -> Result<Vec<(PeerAddr, String)>, NetError> {
        use n0_future::StreamExt as _;
        let Some(mdns) = &self.inner.mdns else {
            return Err(NetError::Unreachable {
                device: "nearby devices".into(),
                reason: "local discovery is off here (listening on loopback, or `[net] local_discovery = false`); give the device's address (ID@IP:PORT, as it shows it)".into(),
            });
        };
        let mut events = mdns.subscribe().await;
        let mut found: Vec<(PeerAddr, String)> = Vec::new();
        let _ = tokio::time::timeout(wait, async {
            while let Some(ev) = events.next().await {
                if let iroh_mdns_address_lookup::DiscoveryEvent::Discovered {
                    endpoint_info, ..
                } = ev
                    && let Some(name) = endpoint_info
                        .data
                        .user_data()
                        .and_then(|u| u.as_ref().strip_prefix(DROP_PREFIX).map(str::to_owned))
                    && !found.iter().any(|(p, _)| p.id == endpoint_info.endpoint_id)
                {
                    found.push((
                        PeerAddr {
                            id: endpoint_info.endpoint_id,
                            addrs: endpoint_info.data.ip_addrs().copied().collect(),
                        },
                        name,
                    ));
                }
            }
        })
        .await;
        Ok(found)
    }

    /// Offers the local `items` (files or folders) to the device at `to` — paired or not —
    /// and, when its person accepts, sends them (it pulls and verifies each file; see
    /// [`nearby`]). `progress` gets (0, 0) once accepted, then (bytes received there, bytes
    /// in all).
    ///
    /// # Errors
    /// [`NetError::Remote`] when it declines, is busy, or nobody answers in time (its
    /// words); [`NetError::Unreachable`]; [`NetError::Core`] for an item that cannot be read.
    pub async fn send_nearby(
        &self,
        to: &PeerAddr,
        items: &[std::path::PathBuf],
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Vec<transfer::CopyReport>, NetError> {
        let mut roots = Vec::new();
        let mut offered = Vec::new();
        for i in items {
            let root = std::fs::canonicalize(i).map_err(core_io(i))?;
            let r = root.clone();
            let measured = tokio::task::spawn_blocking(move || nearby::measure(&r))
                .await
                .map_err(|e| NetError::Bind(e.to_string()))??;
            offered.push(measured);
            roots.push(root);
        }
        let shown = self
            .paired()
            .by_key(&to.id.to_string())
            .ok()
            .flatten()
            .map_or_else(|| to.id.fmt_short().to_string(), |d| d.name);
        let conn = self.dial(to.id, &to.addrs, alpn::DROP, &shown).await?;
        let me = self.inner.shared.card.lock().expect("card").name.clone();
        let req = nearby::DropMsg::Offer {
            from: me,
            items: offered,
        };
        offer_and_wait(conn, roots, &shown, &req, |m| match m {
            nearby::DropMsg::Accepted => {
                progress(0, 0);
                None
            }
            nearby::DropMsg::Progress { done, total } => {
                progress(done, total);
                None
            }
            nearby::DropMsg::Received(r) => Some(Ok(r)),
            nearby::DropMsg::Declined(reason) | nearby::DropMsg::Error(reason) => {
                Some(Err(Ok(reason)))
            }
            nearby::DropMsg::Offer { .. } => {
                Some(Err(Err("an offer where an answer was due".into())))
            }
        })
        .await
    }

    /// Closes the endpoint (telling connected peers).
    pub async fn close(&self) {
        // No longer the core's shared endpoint.
        if let Some(core) = self.inner.shared.core.upgrade() {
            let slot = core.extension::<NetSlot>();
            let mut held = slot.0.lock().await;
            if held
                .as_ref()
                .is_some_and(|n| Arc::ptr_eq(&n.inner, &self.inner))
            {
                *held = None;
            }
        }
        let _ = self.inner.router.shutdown().await;
        self.inner.endpoint.close().await;
    }

    /// One browse request: answers into `on` until the end, an error, or `on` says stop. A
    /// kept connection that turns out dead (the device restarted) is replaced once: browse
    /// requests only read, so asking again is safe.
    async fn request(
        &self,
        device: &PairedDevice,
        addrs: &[SocketAddr],
        req: &BrowseReq,
        mut on: impl FnMut(BrowseResp) -> bool,
    ) -> Result<(), NetError> {
        let mut answered = false;
        for retry in [true, false] {
            let (conn, kept) = self.connect(device, addrs, alpn::BROWSE).await?;
            let r = ask(&conn, device, req, &mut |r| {
                answered = true;
                on(r)
            })
            .await;
            match r {
                Err(NetError::Protocol { .. }) if kept && retry && !answered => {
                    self.forget(&conn, alpn::BROWSE);
                }
                other => return other,
            }
        }
        unreachable!("the second try returns")
    }

    /// A connection to a paired device on `alpn`, and whether it was kept from before: the
    /// open one (it is that device, wherever it answered), else a new one (kept for next
    /// time) at `addrs` when given, else where the device was last reached.
    async fn connect(
        &self,
        device: &PairedDevice,
        addrs: &[SocketAddr],
        alpn: &'static [u8],
    ) -> Result<(Connection, bool), NetError> {
        let id = key_of(device)?;
        let kept = self
            .inner
            .conns
            .lock()
            .expect("connections")
            .get(&(id, alpn))
            .cloned();
        if let Some(c) = kept.filter(|c| c.close_reason().is_none()) {
            return Ok((c, true));
        }
        let conn = self.dial_device(device, addrs, alpn).await?;
        self.inner
            .conns
            .lock()
            .expect("connections")
            .insert((id, alpn), conn.clone());
        Ok((conn, false))
    }

    /// A new connection to a paired device on `alpn`: at `addrs` when given, else where it
    /// was last reached; the addresses asked for are remembered (the file is written only
    /// when something changed).
    async fn dial_device(
        &self,
        device: &PairedDevice,
        addrs: &[SocketAddr],
        alpn: &'static [u8],
    ) -> Result<Connection, NetError> {
        let id = key_of(device)?;
        let tried = if addrs.is_empty() {
            &device.addrs
        } else {
            addrs
        };
        if tried.is_empty() {
            return Err(NetError::Unreachable {
                device: device.name.clone(),
                reason: "no address is known for it; give one with --addr HOST:PORT".into(),
            });
        }
        let conn = self.dial(id, tried, alpn, &device.name).await?;
        let _ = self.paired().seen(&device.public_key, addrs);
        Ok(conn)
    }

    /// Drops the kept connection `conn` (it failed).
    fn forget(&self, conn: &Connection, alpn: &'static [u8]) {
        let mut conns = self.inner.conns.lock().expect("connections");
        let key = (conn.remote_id(), alpn);
        if conns
            .get(&key)
            .is_some_and(|c| c.stable_id() == conn.stable_id())
        {
            conns.remove(&key);
        }
    }

    /// Dials endpoint `id` at `addrs` on `alpn` within [`CONNECT_TIMEOUT`]; `shown` names it
    /// in errors.
    async fn dial(
        &self,
        id: EndpointId,
        addrs: &[SocketAddr],
        alpn: &[u8],
        shown: &str,
    ) -> Result<Connection, NetError> {
        let mut addr = EndpointAddr::new(id);
        for a in addrs {
            addr = addr.with_ip_addr(*a);
        }
        let unreachable = |reason: String| NetError::Unreachable {
            device: shown.to_owned(),
            reason,
        };
        tokio::time::timeout(CONNECT_TIMEOUT, self.inner.endpoint.connect(addr, alpn))
            .await
            .map_err(|_| unreachable(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
            .map_err(|e| unreachable(crate::format::one_line(&e)))
    }
}

/// What the answer to a push or an offer came to: the report, or `Err(Ok(words))` (the peer
/// refused or failed) or `Err(Err(why))` (it broke the protocol).
type Settled<T> = Result<T, Result<String, String>>;

/// The asking side of a push or a nearby offer: serves the peer's requests for `roots` (and
/// what is below them, nothing else) on `conn`, sends `req` on a stream of its own, and hands
/// each answer to `sort` until it says how things settled; then closes `conn`.
async fn offer_and_wait<Req: serde::Serialize, M: serde::de::DeserializeOwned, T>(
    conn: Connection,
    roots: Vec<std::path::PathBuf>,
    shown: &str,
    req: &Req,
    mut sort: impl FnMut(M) -> Option<Settled<T>>,
) -> Result<T, NetError> {
    // Ends the serving and the connection also when this future is dropped (a paused or
    // cancelled send): the device's pull then stops at once instead of going on.
    struct Serving(tokio::task::JoinHandle<()>, Connection);
    impl Drop for Serving {
        fn drop(&mut self) {
            self.1.close(VarInt::from_u32(0), b"done");
            self.0.abort();
        }
    }
    let _serving = Serving(
        tokio::spawn(serve_offer(conn.clone(), Arc::new(roots))),
        conn.clone(),
    );
    async {
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| failed(shown, &e))?;
        wire::send(&mut send, req)
            .await
            .map_err(|e| failed(shown, &e))?;
        let _ = send.finish();
        loop {
            let m = wire::recv::<M>(&mut recv, transfer::MAX_ANSWER)
                .await
                .map_err(|e| read_failed(&conn, shown, &e))?;
            match sort(m) {
                None => {}
                Some(Ok(t)) => return Ok(t),
                Some(Err(Ok(reason))) => {
                    return Err(NetError::Remote {
                        device: shown.to_owned(),
                        reason,
                    });
                }
                Some(Err(Err(why))) => return Err(failed(shown, &why)),
            }
        }
    }
    .await
}

/// Sends `req` on a new stream of `conn` and hands each answer to `on` until the end.
async fn ask(
    conn: &Connection,
    device: &PairedDevice,
    req: &BrowseReq,
    on: &mut impl FnMut(BrowseResp) -> bool,
) -> Result<(), NetError> {
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| failed(&device.name, &e))?;
    wire::send(&mut send, req)
        .await
        .map_err(|e| failed(&device.name, &e))?;
    let _ = send.finish();
    loop {
        let r: BrowseResp = match wire::recv(&mut recv, browse::MAX_ANSWER).await {
            Ok(r) => r,
            Err(e) => return Err(read_failed(conn, &device.name, &e)),
        };
        match r {
            BrowseResp::Error(reason) => {
                return Err(NetError::Remote {
                    device: device.name.clone(),
                    reason,
                });
            }
            r @ (BrowseResp::End { .. } | BrowseResp::Locations(_)) => {
                on(r);
                return Ok(());
            }
            r => {
                if !on(r) {
                    return Ok(());
                }
            }
        }
    }
}

/// The endpoint id of a paired device (its stored key).
fn key_of(device: &PairedDevice) -> Result<EndpointId, NetError> {
    device.public_key.parse().map_err(|_| NetError::Protocol {
        device: device.name.clone(),
        reason: format!("its stored key “{}” is not a key", device.public_key),
    })
}

/// A connection or stream failure talking to `device`.
fn failed(device: &str, e: &dyn std::fmt::Display) -> NetError {
    NetError::Protocol {
        device: device.to_owned(),
        reason: e.to_string(),
    }
}

/// A stream of `conn` to `device` could not be read: the peer's refusal when it closed the
/// connection on purpose (its words), else the failure.
fn read_failed(conn: &Connection, device: &str, e: &dyn std::fmt::Display) -> NetError {
    match refusal(conn) {
        Some(reason) => NetError::Remote {
            device: device.to_owned(),
            reason,
        },
        None => failed(device, e),
    }
}

/// Where a peer can reach `endpoint`: the addresses of this machine's interfaces at the
/// bound ports (iroh's direct addresses), else the bound sockets themselves; never an
/// unspecified address (`0.0.0.0`, `[::]`), which no peer can dial.
fn dialable(endpoint: &Endpoint) -> Vec<SocketAddr> {
    let usable = |a: &SocketAddr| !a.ip().is_unspecified();
    let direct: Vec<SocketAddr> = endpoint.addr().ip_addrs().copied().filter(usable).collect();
    if direct.is_empty() {
        endpoint
            .bound_sockets()
            .into_iter()
            .filter(usable)
            .collect()
    } else {
        direct
    }
}

/// What the peer said when it closed `conn` on purpose (a refusal), if it did.
fn refusal(conn: &Connection) -> Option<String> {
    match conn.close_reason()? {
        iroh::endpoint::ConnectionError::ApplicationClosed(c)
            if c.error_code != VarInt::from_u32(0) =>
        {
            Some(String::from_utf8_lossy(&c.reason).into_owned())
        }
        _ => None,
    }
}

/// A local I/O failure at `path`, as a [`NetError`].
fn core_io(path: &std::path::Path) -> impl Fn(std::io::Error) -> NetError + '_ {
    move |e| NetError::Core(CoreError::io(path, e))
}

/// The locations this device serves: its own in the open library.
fn served_locations(core: &Core) -> Vec<crate::vdfs::index::location::LocationRecord> {
    let me = core.device().id;
    core.library()
        .ok()
        .and_then(|l| l.locations().ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l.device == me)
        .collect()
}

/// `cairn/transfer/1`, the sending side, and the receiving side of a push. The gate let
/// only paired devices in.
#[derive(Debug, Clone)]
struct TransferHandler(Arc<Shared>);

impl ProtocolHandler for TransferHandler {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let c = conn.clone();
        serve_paired(&self.0, &conn, move |shared, send, recv| {
            serve_transfer(shared, c.clone(), send, recv)
        })
        .await;
        Ok(())
    }
}

async fn serve_transfer(
    shared: Arc<Shared>,
    conn: Connection,
    mut send: iroh::endpoint::SendStream,
    mut recv: iroh::endpoint::RecvStream,
) {
    let Some(req) = read_request(
        &mut send,
        &mut recv,
        transfer::MAX_REQUEST,
        transfer::TransferResp::Error,
    )
    .await
    else {
        return;
    };
    if let transfer::TransferReq::Push { path, dest } = req {
        let answer = match receive_push(&shared, &conn, &path, &dest, &mut send).await {
            Ok(report) => transfer::TransferResp::Pushed(report),
            Err(why) => transfer::TransferResp::Error(why),
        };
        let _ = wire::send(&mut send, &answer).await;
        let _ = send.finish();
        return;
    }
    if let transfer::TransferReq::Forget { path, dest } = req {
        let answer = match forget_push(&shared, &conn, &path, &dest).await {
            Ok(removed) => transfer::TransferResp::Forgot { removed },
            Err(why) => transfer::TransferResp::Error(why),
        };
        let _ = wire::send(&mut send, &answer).await;
        let _ = send.finish();
        return;
    }
    answer_stream(shared, send, req, |core, req, tx| {
        let locations = served_locations(core);
        transfer::answer(&|p| browse::confine(&locations, p), req, tx);
    })
    .await;
}

/// Who asks on `conn` (a push, or its cancel): this device's running core, the asker's key,
/// and its name as paired (else its key).
fn asker(shared: &Arc<Shared>, conn: &Connection) -> Result<(Core, String, String), String> {
    let core = shared
        .core
        .upgrade()
        .ok_or_else(|| "this device is stopping".to_owned())?;
    let key = conn.remote_id().to_string();
    let from = shared
        .paired
        .by_key(&key)
        .ok()
        .flatten()
        .map_or_else(|| key.clone(), |d| d.name);
    Ok((core, key, from))
}

/// The receiving side of a cancelled push: removes the partial files the push of `path` into
/// `dest` left here (see [`transfer::TransferReq::Forget`]).
async fn forget_push(
    shared: &Arc<Shared>,
    conn: &Connection,
    path: &[u8],
    dest: &[u8],
) -> Result<u64, String> {
    let (core, key, from) = asker(shared, conn)?;
    let locations = served_locations(&core);
    let dest_bytes = dest.to_vec();
    let folder = tokio::task::spawn_blocking(move || browse::confine(&locations, &dest_bytes))
        .await
        .map_err(|e| e.to_string())??;
    let receiver = transfer::Receiver {
        conn,
        key,
        device: from.clone(),
    };
    let removed = receiver
        .forget(path, &folder)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(device = %from, removed, dest = %folder.display(), "a cancelled push's partial files were removed");
    Ok(removed)
}

/// The receiving side of a push: pulls the pusher's `path` over `conn` into this device's
/// folder `dest` (inside one of its locations), telling the pusher how far it got on `send`,
/// then has the folder indexed.
async fn receive_push(
    shared: &Arc<Shared>,
    conn: &Connection,
    path: &[u8],
    dest: &[u8],
    send: &mut iroh::endpoint::SendStream,
) -> Result<transfer::CopyReport, String> {
    let (core, key, from) = asker(shared, conn)?;
    let locations = served_locations(&core);
    let dest_bytes = dest.to_vec();
    let folder = tokio::task::spawn_blocking(move || {
        let folder = browse::confine(&locations, &dest_bytes)?;
        match std::fs::metadata(&folder) {
            Ok(m) if m.is_dir() => Ok(folder),
            Ok(_) => Err(format!("{} is not a folder", folder.display())),
            Err(e) => Err(format!("{}: {e}", folder.display())),
        }
    })
    .await
    .map_err(|e| e.to_string())??;
    tracing::info!(device = %from, dest = %folder.display(), "receiving a push");
    let receiver = transfer::Receiver {
        conn,
        key,
        device: from,
    };
    let report = pull_reporting(&receiver, path, &folder, send, |done, total| {
        transfer::TransferResp::Progress { done, total }
    })
    .await
    .map_err(|e| e.to_string())?;
    index_copied_async(core, &report).await;
    Ok(report)
}

/// Pulls `path` with `receiver` into `folder`, telling the other side how far it got on
/// `send` (`progress(done, total)` at most every 100 ms).
async fn pull_reporting<M: serde::Serialize>(
    receiver: &transfer::Receiver<'_>,
    path: &[u8],
    folder: &std::path::Path,
    send: &mut iroh::endpoint::SendStream,
    progress: impl Fn(u64, u64) -> M,
) -> Result<transfer::CopyReport, NetError> {
    let (tx, mut rx) = watch::channel((0u64, 0u64));
    let note = move |done: u64, total: u64| {
        let _ = tx.send((done, total));
    };
    let pulling = receiver.pull(path, folder, &note);
    tokio::pin!(pulling);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            r = &mut pulling => return r,
            _ = tick.tick() => {
                if rx.has_changed().unwrap_or(false) {
                    let (done, total) = *rx.borrow_and_update();
                    let _ = wire::send(send, &progress(done, total)).await;
                }
            }
        }
    }
}

/// `cairn/drop/1`, the receiving side. The gate let connections in only while this device
/// receives ([`Net::receive_nearby`]).
#[derive(Debug, Clone)]
struct DropHandler(Arc<Shared>);

impl ProtocolHandler for DropHandler {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let Some((events, into)) = self.0.drops.lock().expect("drops").clone() else {
            conn.close(VarInt::from_u32(CLOSE_NOT_RECEIVING), b"not receiving");
            return Ok(());
        };
        let (mut send, mut recv) = conn.accept_bi().await?;
        let result = receive_nearby(&self.0, &conn, &events, &into, &mut send, &mut recv).await;
        let last = match result {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(()),
            Err(why) => nearby::DropMsg::Error(why),
        };
        let _ = wire::send(&mut send, &last).await;
        let _ = send.finish();
        // Let the sender read the answer before the connection goes.
        let _ = tokio::time::timeout(Duration::from_secs(5), conn.closed()).await;
        Ok(())
    }
}

/// One offer: read, checked, put to the person, then (accepted) pulled into `into`.
/// Returns the last message for the sender (`None`: the sender left).
async fn receive_nearby(
    shared: &Arc<Shared>,
    conn: &Connection,
    events: &tokio::sync::mpsc::Sender<nearby::DropEvent>,
    into: &std::path::Path,
    send: &mut iroh::endpoint::SendStream,
    recv: &mut iroh::endpoint::RecvStream,
) -> Result<Option<nearby::DropMsg>, String> {
    let key = conn.remote_id().to_string();
    let (from, items) = match wire::recv::<nearby::DropMsg>(recv, nearby::MAX_OFFER).await {
        Ok(nearby::DropMsg::Offer { from, items }) => (from, items),
        Ok(other) => return Err(format!("{other:?} where an offer was due")),
        Err(e) => return Err(e.to_string()),
    };
    let offer = nearby::check_offer(&from, items, key.clone())?;
    let sender = offer.sender();
    tracing::info!(from = %sender, files = offer.files(), "an offer of files");
    let (reply, answer) = tokio::sync::oneshot::channel();
    let items = offer.items.clone();
    if events
        .try_send(nearby::DropEvent::Offer(offer, reply))
        .is_err()
    {
        return Ok(Some(nearby::DropMsg::Declined(
            "the device is busy with other offers".into(),
        )));
    }
    let accepted = tokio::select! {
        a = tokio::time::timeout(nearby::ANSWER_WITHIN, answer) => a,
        _ = conn.closed() => return Ok(None),
    };
    match accepted {
        Ok(Ok(true)) => {}
        Ok(_) => return Ok(Some(nearby::DropMsg::Declined("declined".into()))),
        Err(_) => {
            return Ok(Some(nearby::DropMsg::Declined(format!(
                "no answer within {} s",
                nearby::ANSWER_WITHIN.as_secs()
            ))));
        }
    }
    // Accepted: only now is anything written.
    std::fs::create_dir_all(into).map_err(|e| format!("{}: {e}", into.display()))?;
    wire::send(send, &nearby::DropMsg::Accepted)
        .await
        .map_err(|e| e.to_string())?;
    let receiver = transfer::Receiver {
        conn,
        key,
        device: sender.clone(),
    };
    let mut reports = Vec::new();
    let mut outcome = Ok(());
    for item in &items {
        match pull_reporting(&receiver, &item.path, into, send, |done, total| {
            // The person here sees it too.
            let _ = events.try_send(nearby::DropEvent::Progress { done, total });
            nearby::DropMsg::Progress { done, total }
        })
        .await
        {
            Ok(r) => {
                if let Some(core) = shared.core.upgrade() {
                    index_copied_async(core, &r).await;
                }
                reports.push(r);
            }
            Err(e) => {
                outcome = Err(e.to_string());
                break;
            }
        }
    }
    let (files, bytes) = transfer::CopyReport::totals(&reports);
    let _ = events.try_send(nearby::DropEvent::Finished {
        from: sender,
        result: outcome.clone().map(|()| {
            format!(
                "{files} files ({}) received into {}, each verified",
                crate::format::bytes(bytes),
                into.display()
            )
        }),
    });
    outcome?;
    Ok(Some(nearby::DropMsg::Received(reports)))
}

/// After a copy from a device landed at `top` (blocking: not on an async task): when that is inside a location of this
/// device's open library, the folder holding it is rescanned (a scoped rescan), so the
/// index and its views show the new files. Best effort: a library that is not open, or a
/// folder outside every location, is left as it is.
///
/// Returns the rescan's job, when one was started.
pub fn index_copied(core: &Core, top: &std::path::Path) -> Option<crate::vdfs::jobs::JobHandle> {
    let lib = core.library().ok()?;
    let me = core.device().id;
    let parent = top.parent()?;
    let loc = lib
        .locations()
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l.device == me && parent.starts_with(l.path()))
        .max_by_key(|l| l.path.len())?;
    lib.rescan_path(loc.id, parent)
        .map_err(|e| {
            tracing::warn!(path = %parent.display(), "could not index the copied files: {e}");
        })
        .ok()
}

/// [`index_copied`] for what `report` says landed, from an async task (on the blocking pool).
pub async fn index_copied_async(core: Core, report: &transfer::CopyReport) {
    let top = report.top_path();
    let _ = tokio::task::spawn_blocking(move || index_copied(&core, &top)).await;
}

/// Serves the receiving device's requests on a push's (or an offer's) connection:
/// [`transfer::TransferReq::Manifest`] and [`transfer::TransferReq::Read`] of the `roots`
/// and what is below them, nothing else.
async fn serve_offer(conn: Connection, roots: Arc<Vec<std::path::PathBuf>>) {
    while let Ok((mut send, mut recv)) = conn.accept_bi().await {
        let roots = roots.clone();
        tokio::spawn(async move {
            let Some(req) = read_request(
                &mut send,
                &mut recv,
                transfer::MAX_REQUEST,
                transfer::TransferResp::Error,
            )
            .await
            else {
                return;
            };
            answer_blocking(send, move |tx| {
                let confine = |p: &[u8]| {
                    let mut why = String::new();
                    for root in roots.iter() {
                        match browse::confine_below(root, p) {
                            Ok(path) => return Ok(path),
                            Err(e) => why = e,
                        }
                    }
                    Err(why)
                };
                transfer::answer(&confine, req, tx);
            })
            .await;
        });
    }
}

/// Serves one request stream: reads a `Req` of at most `max` bytes and answers it with
/// [`answer_stream`]. A request that cannot be read is answered with `error(why)`.
async fn serve_stream<Req, Resp>(
    shared: Arc<Shared>,
    mut send: iroh::endpoint::SendStream,
    mut recv: iroh::endpoint::RecvStream,
    max: u32,
    error: fn(String) -> Resp,
    answer: fn(&Core, Req, &tokio::sync::mpsc::Sender<wire::Out<Resp>>),
) where
    Req: serde::de::DeserializeOwned + Send + 'static,
    Resp: serde::Serialize + Send + 'static,
{
    let Some(req) = read_request(&mut send, &mut recv, max, error).await else {
        return;
    };
    answer_stream(shared, send, req, answer).await;
}

/// Reads one request of at most `max` bytes; one that cannot be read is answered with
/// `error(why)` and the stream finished (`None`).
async fn read_request<Req, Resp>(
    send: &mut iroh::endpoint::SendStream,
    recv: &mut iroh::endpoint::RecvStream,
    max: u32,
    error: fn(String) -> Resp,
) -> Option<Req>
where
    Req: serde::de::DeserializeOwned,
    Resp: serde::Serialize,
{
    match wire::recv(recv, max).await {
        Ok(r) => Some(r),
        Err(e) => {
            let _ = wire::send(send, &error(e.to_string())).await;
            let _ = send.finish();
            None
        }
    }
}

/// Answers `req` on the blocking pool with `answer` (store and disk reads), which sends
/// what it produces over a bounded channel to this stream's writer (a slow peer holds the
/// reader back instead of filling memory).
async fn answer_stream<Req, Resp>(
    shared: Arc<Shared>,
    send: iroh::endpoint::SendStream,
    req: Req,
    answer: fn(&Core, Req, &tokio::sync::mpsc::Sender<wire::Out<Resp>>),
) where
    Req: Send + 'static,
    Resp: serde::Serialize + Send + 'static,
{
    let Some(core) = shared.core.upgrade() else {
        return;
    };
    answer_blocking(send, move |tx| answer(&core, req, tx)).await;
}

/// Runs `work` on the blocking pool; what it produces goes over a bounded channel to this
/// stream's writer (a slow peer holds the work back instead of filling memory), then the
/// stream is finished.
async fn answer_blocking<Resp: serde::Serialize + Send + 'static>(
    mut send: iroh::endpoint::SendStream,
    work: impl FnOnce(&tokio::sync::mpsc::Sender<wire::Out<Resp>>) + Send + 'static,
) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let work = tokio::task::spawn_blocking(move || work(&tx));
    let _ = wire::write_out(&mut send, &mut rx).await;
    drop(rx);
    let _ = work.await;
    let _ = send.finish();
}

/// `cairn/pair/1`, the accepting side.
#[derive(Debug, Clone)]
struct PairHandler(Arc<Shared>);

impl ProtocolHandler for PairHandler {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id();
        let (mut send, mut recv) = conn.accept_bi().await?;
        let first = match pair::read_first(&mut recv).await {
            Ok(m) => m,
            Err(e) => {
                let _ = pair::refuse(&mut send, &e.to_string()).await;
                let _ = send.finish();
                conn.closed().await;
                return Ok(());
            }
        };
        let shared = &self.0;
        let mut ending = None;
        match first {
            PairMsg::Unpair => {
                let answer = match shared.paired.by_key(&peer.to_string()) {
                    Ok(Some(d)) => match shared.paired.remove(d.id) {
                        Ok(_) => {
                            tracing::info!(device = %d.name, "unpaired at the other device's request");
                            PairMsg::Unpaired
                        }
                        Err(e) => PairMsg::Refused {
                            reason: e.to_string(),
                        },
                    },
                    _ => PairMsg::Refused {
                        reason: "you are not paired with this device".into(),
                    },
                };
                let _ = wire::send(&mut send, &answer).await;
            }
            PairMsg::Hello { slot, spake, card } => {
                ending = self
                    .attempt(&mut send, &mut recv, peer, slot, spake, card)
                    .await;
            }
            other => {
                let _ = pair::refuse(&mut send, &format!("{other:?} cannot open a pairing")).await;
            }
        }
        let _ = send.finish();
        // The joiner closes once it has read the last word. Only then is the session's end
        // made known here: a `cairn device pair` that exits on it would cut that word off.
        let _ = tokio::time::timeout(Duration::from_secs(5), conn.closed()).await;
        if let Some(state) = ending {
            shared.state.send_replace(state);
        }
        conn.closed().await;
        Ok(())
    }
}

impl PairHandler {
    async fn attempt(
        &self,
        send: &mut iroh::endpoint::SendStream,
        recv: &mut iroh::endpoint::RecvStream,
        peer: EndpointId,
        slot: u16,
        spake: Vec<u8>,
        card: Card,
    ) -> Option<PairingState> {
        let shared = &self.0;
        // Take the session for the attempt: a second joiner meanwhile finds none.
        let taken = {
            let mut s = shared.session.lock().expect("session");
            match s.take() {
                Some(x) if x.expires <= Instant::now() => Err("the pairing code has expired"),
                Some(x) if x.code.slot() != slot => {
                    *s = Some(x);
                    Err("this is not the code shown on this device (it may be an old one)")
                }
                Some(x) => Ok(x),
                None => Err("no pairing code is open on this device"),
            }
        };
        let session = match taken {
            Ok(x) => x,
            Err(why) => {
                let _ = pair::refuse(send, why).await;
                return why
                    .contains("expired")
                    .then(|| PairingState::Failed("the code expired".into()));
            }
        };
        let me_card = shared.card.lock().expect("card").clone();
        let me = shared.me;
        let outcome = pair::host(
            send,
            recv,
            (spake, card),
            &session.code,
            &me,
            peer.as_bytes(),
            &me_card,
        )
        .await;
        match outcome {
            HostOutcome::Matched(card) => {
                let device = PairedDevice {
                    id: card.id,
                    name: card.name,
                    public_key: peer.to_string(),
                    paired_at: jiff::Timestamp::now(),
                    addrs: card.addrs,
                    last_seen: Some(jiff::Timestamp::now()),
                };
                match shared.paired.add(device.clone()) {
                    Ok(()) => {
                        let _ = pair::finish_host(send).await;
                        tracing::info!(device = %device.name, "paired");
                        Some(PairingState::Paired(device))
                    }
                    Err(e) => {
                        let _ = pair::refuse(send, "this device could not store the pairing").await;
                        Some(PairingState::Failed(e.to_string()))
                    }
                }
            }
            HostOutcome::Failed { error, counts } => {
                tracing::info!(%error, "a pairing attempt failed");
                let mut session = session;
                if counts {
                    session.failures += 1;
                }
                let ending = (session.failures >= pair::MAX_ATTEMPTS).then(|| {
                    PairingState::Failed(format!(
                        "a wrong code was tried {} times; pairing stopped (start again for a new code)",
                        session.failures
                    ))
                });
                if ending.is_none() {
                    let mut s = shared.session.lock().expect("session");
                    // Unless a new session was opened meanwhile, this one goes on.
                    if s.is_none() {
                        *s = Some(session);
                    }
                }
                let reason = match error {
                    PairError::WrongCode => "the codes do not match".to_owned(),
                    other => other.to_string(),
                };
                let _ = pair::refuse(send, &reason).await;
                ending
            }
        }
    }
}

/// `cairn/browse/1`, the serving side. The gate let only paired devices in.
#[derive(Debug, Clone)]
struct BrowseHandler(Arc<Shared>);

impl ProtocolHandler for BrowseHandler {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        serve_paired(&self.0, &conn, serve_browse).await;
        Ok(())
    }
}

/// Serves every stream of `conn` with `serve`, each in a task of its own, until the
/// connection ends; a device that is not paired is closed at once (defence in depth: the
/// gate closed it already).
async fn serve_paired<F, Fut>(shared: &Arc<Shared>, conn: &Connection, serve: F)
where
    F: Fn(Arc<Shared>, iroh::endpoint::SendStream, iroh::endpoint::RecvStream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if !shared.is_paired(&conn.remote_id()) {
        conn.close(VarInt::from_u32(CLOSE_NOT_PAIRED), b"not paired");
        return;
    }
    while let Ok((send, recv)) = conn.accept_bi().await {
        tokio::spawn(serve(shared.clone(), send, recv));
    }
}

async fn serve_browse(
    shared: Arc<Shared>,
    send: iroh::endpoint::SendStream,
    recv: iroh::endpoint::RecvStream,
) {
    serve_stream(
        shared,
        send,
        recv,
        browse::MAX_REQUEST,
        BrowseResp::Error,
        browse_answer,
    )
    .await;
}

/// Answers one browse request (blocking: it reads the store and the disk) into `tx`.
fn browse_answer(
    core: &Core,
    req: BrowseReq,
    tx: &tokio::sync::mpsc::Sender<wire::Out<BrowseResp>>,
) {
    let locations = served_locations(core);
    let send = |r: BrowseResp| tx.blocking_send(wire::Out::Msg(r)).is_ok();
    match req {
        BrowseReq::Locations => {
            send(BrowseResp::Locations(
                locations.iter().map(RemoteLocation::from).collect(),
            ));
        }
        BrowseReq::List { path } => {
            let folder = match browse::confine(&locations, &path) {
                Ok(f) => f,
                Err(why) => {
                    send(BrowseResp::Error(why));
                    return;
                }
            };
            let mut total = 0u64;
            let mut open = true;
            let listed = core.list_folder(&folder, &mut |items| {
                for chunk in items.chunks(browse::CHUNK) {
                    total += chunk.len() as u64;
                    open = send(BrowseResp::Items(
                        chunk.iter().map(RemoteItem::from).collect(),
                    ));
                    if !open {
                        break;
                    }
                }
                open
            });
            match listed {
                Ok(source) if open => {
                    send(BrowseResp::End {
                        total,
                        from_index: matches!(
                            source,
                            crate::vdfs::query::browse::Source::Index { .. }
                        ),
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    send(BrowseResp::Error(e.to_string()));
                }
            }
        }
        BrowseReq::Search {
            text,
            within,
            limit,
        } => {
            let within = match within.map(|w| browse::confine(&locations, &w)).transpose() {
                Ok(w) => w,
                Err(why) => {
                    send(BrowseResp::Error(why));
                    return;
                }
            };
            let q = crate::vdfs::query::search::Query {
                text,
                within,
                limit: limit.min(browse::MAX_HITS) as usize,
                ..Default::default()
            };
            match core.search(&q, Duration::from_secs(2), &|| true) {
                Ok(Some(results)) => {
                    let total = results.total as u64;
                    for chunk in results.hits.chunks(browse::CHUNK) {
                        if !send(BrowseResp::Hits(
                            chunk.iter().map(RemoteHit::from).collect(),
                        )) {
                            return;
                        }
                    }
                    send(BrowseResp::End {
                        total,
                        from_index: true,
                    });
                }
                Ok(None) => {
                    send(BrowseResp::Error("the search was stopped".into()));
                }
                Err(e) => {
                    send(BrowseResp::Error(e.to_string()));
                }
            }
        }
    }
}
