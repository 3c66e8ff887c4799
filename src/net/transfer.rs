//! Copying files from a paired device (`cairn/transfer/1`), verified end to end, resumable.
//!
//! The receiver asks; the sender answers, one request per stream:
//! - [`TransferReq::Manifest`]: what is at a path (a file, or a folder and everything below
//!   it, walked through folder handles without following a link; links and special files
//!   are listed as skipped). Answered with [`TransferResp::Entries`] chunks and one
//!   [`TransferResp::End`].
//! - [`TransferReq::Read`]: a file's bytes from an offset. Answered with
//!   [`TransferResp::Header`] (its size and modification time as the sender opened it), then
//!   raw frames ([`super::wire::write_out`]) holding exactly `size − offset` bytes, then
//!   [`TransferResp::Done`] with the BLAKE3 of the **whole** file (the sender hashes the part
//!   before the offset too). The receiver hashes what it already had plus what came and
//!   compares: a mismatch discards the partial file (and, when it was resumed, starts that
//!   file once more from its beginning), so a file is never kept unless its bytes are the
//!   sender's.
//!
//! The sender serves only paths [`super::browse::confine`] accepts (inside its locations,
//! plain, free of links), and opens files through folder handles with `O_NOFOLLOW`.
//!
//! The receiver writes by `DESIGN.md`'s rules: each file goes to
//! `.cairn-pull-<16 hex>.part` in its destination folder (`O_EXCL` when new; the name is
//! derived from the sender's key and path, so a second run finds it and goes on from its
//! length), is verified, made durable (one `syncfs` per batch), given its modification time,
//! and renamed into place with `RENAME_NOREPLACE`; the folders are then fsynced. An existing
//! name is never replaced: a file already there with the same size and modification time is
//! taken as done (a rerun), anything else keeps both ("name (2)"). Names from the sender are
//! checked component by component (no `/`, `.`, `..`, NUL, empty, over 255 bytes).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{Seek, SeekFrom, Write as _};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::wire::{self, WireError};
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::fs::ops::Dir;

/// Bytes per raw data frame.
pub const DATA_CHUNK: usize = 256 * 1024;
/// The largest message a receiver reads (a manifest chunk with long names).
pub const MAX_ANSWER: u32 = 4 * 1024 * 1024;
/// The largest request a sender reads.
pub const MAX_REQUEST: u32 = 64 * 1024;
/// Entries per manifest chunk.
pub const MANIFEST_CHUNK: usize = 1000;
/// A file being received is handed to the disk's write-back every this many bytes.
const WRITE_BACK_EVERY: u64 = 32 << 20;
/// Files fetched at once (each on its own stream).
pub const PARALLEL: usize = 8;
/// Files made durable together (one `syncfs`).
pub const BATCH_FILES: usize = 512;
/// Bytes made durable together.
pub const BATCH_BYTES: u64 = 512 << 20;
/// Skipped names listed in a manifest's end (the count is exact).
const MAX_SKIPPED_NAMES: usize = 100;

/// A request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferReq {
    /// What is at `path` (absolute, exact bytes).
    Manifest {
        /// The path.
        path: Vec<u8>,
    },
    /// The bytes of the file at `path` from `offset`.
    Read {
        /// The path.
        path: Vec<u8>,
        /// Bytes the receiver already has.
        offset: u64,
    },
    /// A push: "copy my `path` (absolute, exact bytes) into your folder `dest`". The
    /// receiving device pulls it over the same connection (it asks [`TransferReq::Manifest`]
    /// and [`TransferReq::Read`] of the pusher, who serves `path` and what is below it,
    /// nothing else), and answers on this stream with [`TransferResp::Progress`] and one
    /// [`TransferResp::Pushed`] or [`TransferResp::Error`].
    Push {
        /// The pusher's item.
        path: Vec<u8>,
        /// The receiver's folder (inside one of its locations).
        dest: Vec<u8>,
    },
    /// A cancelled push: "remove the partial files my push of `path` into your folder `dest`
    /// left". The receiving device asks [`TransferReq::Manifest`] of the pusher over the same
    /// connection (as for a push) to know the names, removes exactly those partial files, and
    /// answers [`TransferResp::Forgot`] or [`TransferResp::Error`].
    Forget {
        /// The pusher's item.
        path: Vec<u8>,
        /// The receiver's folder.
        dest: Vec<u8>,
    },
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferResp {
    /// Manifest entries, parents before children.
    Entries(Vec<ManifestEntry>),
    /// The end of a manifest.
    End {
        /// Files listed.
        files: u64,
        /// Their bytes.
        bytes: u64,
        /// Links and special files left out: how many, and the first names (relative).
        skipped: u64,
        /// Up to 100 of their relative names.
        skipped_names: Vec<Vec<u8>>,
    },
    /// A file's size and modification time as opened; `size − offset` raw bytes follow.
    Header {
        /// Bytes.
        size: u64,
        /// Modification time, ns since the epoch.
        mtime_ns: i64,
    },
    /// The whole file's BLAKE3, after its bytes.
    Done {
        /// BLAKE3-256.
        hash: [u8; 32],
    },
    /// Refused or failed, in words.
    Error(String),
    /// A push's progress: bytes received by the receiving device, and in all.
    Progress {
        /// Bytes received.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
    /// A push ended: what the receiving device did.
    Pushed(CopyReport),
    /// The partial files of a cancelled push were removed: how many.
    Forgot {
        /// Partial files removed.
        removed: u64,
    },
}

/// One item of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The path below the requested one, components joined by `/` (empty: the requested
    /// path itself).
    pub rel: Vec<u8>,
    /// File or folder.
    pub kind: EntryKind,
    /// Bytes (files).
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Permission bits.
    pub mode: u32,
}

/// What a copy between devices did on the receiving side (a pull here, a push or a nearby
/// send there, whose answer carries it): paths are absolute and exact bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyReport {
    /// Files written (verified).
    pub files: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Files that went on from a partial file left by an earlier run.
    pub resumed: u64,
    /// Files already there (same size and modification time).
    pub already: u64,
    /// Files and folders stored under another name because the name was taken.
    pub renamed: Vec<Vec<u8>>,
    /// Links and special files the sender left out.
    pub skipped: u64,
    /// Where the top item landed.
    pub top: Vec<u8>,
}

impl CopyReport {
    /// [`CopyReport::top`] as a path.
    pub fn top_path(&self) -> PathBuf {
        PathBuf::from(os(&self.top))
    }

    /// Files there after the copies (written or already there), and bytes received, in all.
    pub fn totals(reports: &[CopyReport]) -> (u64, u64) {
        reports
            .iter()
            .fold((0, 0), |(f, b), r| (f + r.files + r.already, b + r.bytes))
    }
}

/// A path's exact bytes.
fn path_bytes(p: &Path) -> Vec<u8> {
    p.as_os_str().as_bytes().to_vec()
}

/// Checks a relative name from a peer: `/`-separated components, each non-empty, not `.`
/// or `..`, without NUL, at most 255 bytes.
///
/// # Errors
/// Why, naming the (lossy) name.
pub fn check_rel(rel: &[u8]) -> Result<Vec<&[u8]>, String> {
    if rel.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&[u8]> = rel.split(|&b| b == b'/').collect();
    for p in &parts {
        if p.is_empty() || *p == b"." || *p == b".." || p.contains(&0) || p.len() > 255 {
            return Err(format!(
                "the device sent an unsafe name “{}”",
                String::from_utf8_lossy(rel)
            ));
        }
    }
    Ok(parts)
}

// ---------------------------------------------------------------------------------------
// The sender.

/// What the sender's blocking side produces for the stream writer.
pub(crate) type Out = wire::Out<TransferResp>;

/// Which paths a sender serves: the checked path, or why not (see
/// [`super::browse::confine`] and [`super::browse::confine_below`]).
pub(crate) type Confine<'a> = &'a dyn Fn(&[u8]) -> Result<PathBuf, String>;

/// Answers one request (blocking: disk reads) into `tx`; stops when the receiver goes. A
/// [`TransferReq::Push`] or [`TransferReq::Forget`] is not answered here (the receiving
/// device's server takes them before): it is refused.
pub(crate) fn answer(confine: Confine<'_>, req: TransferReq, tx: &tokio::sync::mpsc::Sender<Out>) {
    let send = |o: Out| tx.blocking_send(o).is_ok();
    let result = match req {
        TransferReq::Manifest { path } => manifest(confine, &path, &send),
        TransferReq::Read { path, offset } => read(confine, &path, offset, &send),
        TransferReq::Push { .. } | TransferReq::Forget { .. } => {
            Err("a push is not taken on this stream".to_owned())
        }
    };
    if let Err(why) = result {
        send(Out::Msg(TransferResp::Error(why)));
    }
}

fn open_parent(path: &Path) -> Result<(Dir, &OsStr), String> {
    let (parent, name) = crate::vdfs::fs::ops::split(path)
        .ok_or_else(|| format!("{} has no parent folder", path.display()))?;
    let dir = Dir::open(parent).map_err(|e| e.to_string())?;
    Ok((dir, name))
}

fn manifest(confine: Confine<'_>, path: &[u8], send: &dyn Fn(Out) -> bool) -> Result<(), String> {
    let path = confine(path)?;
    let (parent, name) = open_parent(&path)?;
    let st = parent
        .stat(name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{} no longer exists", path.display()))?;
    let mut chunk = Vec::new();
    let (mut files, mut bytes, mut skipped) = (0u64, 0u64, 0u64);
    let mut skipped_names = Vec::new();
    let flush = |chunk: &mut Vec<ManifestEntry>| -> bool {
        chunk.is_empty() || send(Out::Msg(TransferResp::Entries(std::mem::take(chunk))))
    };
    match st.kind {
        EntryKind::File => {
            files = 1;
            bytes = st.size;
            chunk.push(ManifestEntry {
                rel: Vec::new(),
                kind: EntryKind::File,
                size: st.size,
                mtime_ns: st.mtime_ns,
                mode: st.mode,
            });
        }
        EntryKind::Dir => {
            chunk.push(ManifestEntry {
                rel: Vec::new(),
                kind: EntryKind::Dir,
                size: 0,
                mtime_ns: st.mtime_ns,
                mode: st.mode,
            });
            let root = parent.open_dir(name).map_err(|e| e.to_string())?;
            let mut stack: Vec<(Dir, Vec<u8>)> = vec![(root, Vec::new())];
            while let Some((dir, rel)) = stack.pop() {
                let names = dir.list().map_err(|e| e.to_string())?;
                for (n, kind) in names {
                    let mut r = rel.clone();
                    if !r.is_empty() {
                        r.push(b'/');
                    }
                    r.extend_from_slice(n.as_bytes());
                    match kind {
                        EntryKind::File | EntryKind::Dir => {
                            let Some(s) = dir.stat(&n).map_err(|e| e.to_string())? else {
                                continue; // gone meanwhile
                            };
                            if s.kind != kind {
                                continue; // replaced meanwhile
                            }
                            if kind == EntryKind::Dir {
                                let sub = dir.open_dir(&n).map_err(|e| e.to_string())?;
                                stack.push((sub, r.clone()));
                            } else {
                                files += 1;
                                bytes += s.size;
                            }
                            chunk.push(ManifestEntry {
                                rel: r,
                                kind,
                                size: if kind == EntryKind::File { s.size } else { 0 },
                                mtime_ns: s.mtime_ns,
                                mode: s.mode,
                            });
                        }
                        _ => {
                            skipped += 1;
                            if skipped_names.len() < MAX_SKIPPED_NAMES {
                                skipped_names.push(r);
                            }
                        }
                    }
                    if chunk.len() >= MANIFEST_CHUNK && !flush(&mut chunk) {
                        return Ok(());
                    }
                }
            }
        }
        _ => {
            return Err(format!(
                "{} is a link or a special file; only files and folders are sent",
                path.display()
            ));
        }
    }
    if flush(&mut chunk) {
        send(Out::Msg(TransferResp::End {
            files,
            bytes,
            skipped,
            skipped_names,
        }));
    }
    Ok(())
}

fn read(
    confine: Confine<'_>,
    path: &[u8],
    offset: u64,
    send: &dyn Fn(Out) -> bool,
) -> Result<(), String> {
    let path = confine(path)?;
    let (parent, name) = open_parent(&path)?;
    let file = parent.open_file(name).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    let size = meta.len();
    if offset > size {
        return Err(format!(
            "{} has {size} bytes; cannot start at {offset}",
            path.display()
        ));
    }
    let mtime_ns = crate::vdfs::fs::entry::Meta::of(&meta).mtime_ns;
    if !send(Out::Msg(TransferResp::Header { size, mtime_ns })) {
        return Ok(());
    }
    let mut hasher = blake3::Hasher::new();
    let mut pos = 0u64;
    // Read in order from the start (the file was just opened), each chunk into a buffer of
    // its own that goes to the connection as it is (no zeroing, no copy).
    let mut reader = &file;
    while pos < size {
        let want = (size - pos).min(DATA_CHUNK as u64);
        let mut buf = Vec::with_capacity(want as usize);
        let n =
            match std::io::Read::read_to_end(&mut std::io::Read::take(&mut reader, want), &mut buf)
            {
                Ok(0) => {
                    return Err(format!(
                        "{} became shorter while being sent",
                        path.display()
                    ));
                }
                Ok(n) => n,
                Err(e) => return Err(format!("{}: {e}", path.display())),
            };
        hasher.update(&buf[..n]);
        let end = pos + n as u64;
        if end > offset {
            let from = usize::try_from(offset.saturating_sub(pos)).expect("in chunk");
            let mut out = if from == 0 && n == buf.len() {
                std::mem::take(&mut buf)
            } else {
                buf[from..n].to_vec()
            };
            if flip_sent_bytes() {
                out[0] ^= 1;
            }
            if !send(Out::Raw(out)) {
                return Ok(());
            }
        }
        pos = end;
    }
    send(Out::Msg(TransferResp::Done {
        hash: *hasher.finalize().as_bytes(),
    }));
    Ok(())
}

/// Tests only: `CAIRN_FAULT_FLIP_SENT_BYTES=1` makes this sender flip a bit in every data
/// frame after hashing it (a peer whose bytes do not match the hash it announces).
fn flip_sent_bytes() -> bool {
    static FLIP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FLIP.get_or_init(|| std::env::var_os("CAIRN_FAULT_FLIP_SENT_BYTES").is_some_and(|v| v == "1"))
}

// ---------------------------------------------------------------------------------------
// The receiver.

/// A file to fetch.
struct Fetch {
    /// The sender's absolute path.
    remote: Vec<u8>,
    /// Its name there.
    name: Vec<u8>,
    size: u64,
}

/// A fetched, verified partial file waiting for its batch's `syncfs` and rename.
struct Fetched {
    dir: Arc<Dir>,
    part: Vec<u8>,
    name: Vec<u8>,
    mtime_ns: i64,
    bytes: u64,
    resumed: bool,
    /// The file's size, cas_id and first bytes, computed as its bytes came (see
    /// `content::known`).
    content: Option<(u64, crate::vdfs::content::CasId, Vec<u8>)>,
}

/// Bytes received so far by a pull, told to its progress callback as each chunk comes.
struct Seen<'a> {
    bytes: std::sync::atomic::AtomicU64,
    total: u64,
    progress: &'a (dyn Fn(u64, u64) + Sync),
}

impl Seen<'_> {
    fn add(&self, n: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let now = self.bytes.fetch_add(n, Relaxed) + n;
        // A file fetched once more (its start was not the sender's) counts twice: the
        // callback never hears more than the total.
        (self.progress)(now.min(self.total), self.total);
    }
}

/// The part-file name for `remote` from the device `key`.
pub fn part_name(key: &str, remote: &[u8]) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    h.update(key.as_bytes());
    h.update(&[0]);
    h.update(remote);
    format!(".cairn-pull-{}.part", &h.finalize().to_hex()[..16]).into_bytes()
}

fn os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

/// The receiving side of a pull, over `conn` (an open `cairn/transfer/1` connection).
pub(crate) struct Receiver<'a> {
    pub conn: &'a iroh::endpoint::Connection,
    pub key: String,
    pub device: String,
}

impl Receiver<'_> {
    fn protocol(&self, why: impl std::fmt::Display) -> super::NetError {
        super::NetError::Protocol {
            device: self.device.clone(),
            reason: why.to_string(),
        }
    }

    async fn stream(
        &self,
        req: &TransferReq,
    ) -> Result<(iroh::endpoint::SendStream, iroh::endpoint::RecvStream), super::NetError> {
        let (mut send, recv) = self.conn.open_bi().await.map_err(|e| self.protocol(e))?;
        wire::send(&mut send, req)
            .await
            .map_err(|e| self.protocol(e))?;
        let _ = send.finish();
        Ok((send, recv))
    }

    fn remote_error(&self, e: WireError) -> super::NetError {
        super::read_failed(self.conn, &self.device, &e)
    }

    /// The manifest of `remote`.
    async fn manifest(&self, remote: &[u8]) -> Result<(Vec<ManifestEntry>, u64), super::NetError> {
        let (_s, mut recv) = self
            .stream(&TransferReq::Manifest {
                path: remote.to_vec(),
            })
            .await?;
        let mut all = Vec::new();
        loop {
            match wire::recv::<TransferResp>(&mut recv, MAX_ANSWER)
                .await
                .map_err(|e| self.remote_error(e))?
            {
                TransferResp::Entries(e) => all.extend(e),
                TransferResp::End { skipped, .. } => return Ok((all, skipped)),
                TransferResp::Error(reason) => {
                    return Err(super::NetError::Remote {
                        device: self.device.clone(),
                        reason,
                    });
                }
                other => return Err(self.protocol(format!("{other:?} in a manifest"))),
            }
        }
    }

    /// Fetches one file into its part file and verifies it; a resumed file whose hash does
    /// not match is fetched once more from its start.
    async fn fetch(
        &self,
        dir: Arc<Dir>,
        f: Fetch,
        seen: &Seen<'_>,
    ) -> Result<Fetched, super::NetError> {
        let part = part_name(&self.key, &f.remote);
        let mut restarted = false;
        loop {
            let (mut file, have) = match dir.open_rw(os(&part)) {
                Ok(mut file) => {
                    let len = file.metadata().map_err(super::core_io(dir.path()))?.len();
                    let keep = if len > f.size { 0 } else { len };
                    if keep != len {
                        file.set_len(0).map_err(super::core_io(dir.path()))?;
                    }
                    file.seek(SeekFrom::Start(keep))
                        .map_err(super::core_io(dir.path()))?;
                    (file, keep)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                    dir.create_new(os(&part), 0o600)
                        .map_err(super::core_io(dir.path()))?,
                    0,
                ),
                Err(e) => return Err(super::core_io(dir.path())(e)),
            };
            let (_s, mut recv) = self
                .stream(&TransferReq::Read {
                    path: f.remote.clone(),
                    offset: have,
                })
                .await?;
            let (size, mtime_ns) = match wire::recv::<TransferResp>(&mut recv, MAX_ANSWER)
                .await
                .map_err(|e| self.remote_error(e))?
            {
                TransferResp::Header { size, mtime_ns } => (size, mtime_ns),
                TransferResp::Error(reason) => {
                    return Err(super::NetError::Remote {
                        device: self.device.clone(),
                        reason,
                    });
                }
                other => return Err(self.protocol(format!("{other:?} where a header was due"))),
            };
            if size < have {
                let _ = file.set_len(0);
                if restarted {
                    return Err(self.protocol("the file keeps changing"));
                }
                restarted = true;
                continue;
            }
            // What is there already (the whole part file: `have` is its length), hashed for
            // the check and for its cas_id.
            let mut hasher = blake3::Hasher::new();
            let mut cas = crate::vdfs::content::CasStream::new(size);
            crate::vdfs::fs::ops::feed_from(&file, |b| {
                hasher.update(b);
                cas.update(b);
            })
            .map_err(super::core_io(dir.path()))?;
            // The network is read here; hashing and writing run on a blocking thread beside
            // it, so neither waits for the other.
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
            let path = dir.path().to_owned();
            let writer = tokio::task::spawn_blocking(move || {
                // The bytes reach the disk as they come (the batch's sync then waits only
                // for the end).
                let mut back = (size - have > WRITE_BACK_EVERY)
                    .then(|| crate::vdfs::fs::ops::WriteBack::new(&file, WRITE_BACK_EVERY));
                while let Some(b) = rx.blocking_recv() {
                    hasher.update(&b);
                    cas.update(&b);
                    file.write_all(&b)?;
                    if let Some(back) = &mut back {
                        back.grew(b.len() as u64);
                    }
                }
                drop(back);
                Ok::<_, std::io::Error>((file, hasher, cas))
            });
            let mut left = size - have;
            let received = async {
                while left > 0 {
                    // One raw frame: its length, then its bytes.
                    let len = wire::recv_raw_len(&mut recv, DATA_CHUNK as u32)
                        .await
                        .map_err(|e| self.remote_error(e))?;
                    if u64::from(len) > left || len == 0 {
                        return Err(self.protocol("more bytes than the file has"));
                    }
                    // The connection's chunks are packet-sized: gathered into one buffer per
                    // frame, so the writer makes one write per 256 KiB (never zeroed first).
                    let mut buf = Vec::with_capacity(len as usize);
                    while buf.len() < len as usize {
                        let chunk = recv
                            .read_chunk(len as usize - buf.len())
                            .await
                            .map_err(|e| self.remote_error(WireError::Io(e.into())))?
                            .ok_or_else(|| self.remote_error(WireError::Truncated))?;
                        buf.extend_from_slice(&chunk);
                        seen.add(chunk.len() as u64);
                    }
                    left -= buf.len() as u64;
                    if tx.send(buf).await.is_err() {
                        break; // the writer failed: its error is below
                    }
                }
                Ok(())
            }
            .await;
            drop(tx);
            let (file, hasher, cas) = writer
                .await
                .map_err(|e| self.protocol(format!("the writer stopped: {e}")))?
                .map_err(super::core_io(&path))?;
            received?;
            let hash = match wire::recv::<TransferResp>(&mut recv, MAX_ANSWER)
                .await
                .map_err(|e| self.remote_error(e))?
            {
                TransferResp::Done { hash } => hash,
                TransferResp::Error(reason) => {
                    return Err(super::NetError::Remote {
                        device: self.device.clone(),
                        reason,
                    });
                }
                other => return Err(self.protocol(format!("{other:?} where the hash was due"))),
            };
            if hash == *hasher.finalize().as_bytes() {
                return Ok(Fetched {
                    dir,
                    part,
                    name: f.name,
                    mtime_ns,
                    bytes: size - have,
                    resumed: have > 0,
                    content: cas.finish().map(|(c, head)| (size, c, head)),
                });
            }
            // Not the sender's bytes: never kept. A resumed file may have been an older
            // version's start: once more from its beginning.
            drop(file);
            let _ = dir.unlink(os(&part));
            if have == 0 || restarted {
                return Err(self.protocol(format!(
                    "the bytes of “{}” do not match the BLAKE3 it announced; nothing was kept",
                    String::from_utf8_lossy(&f.remote)
                )));
            }
            restarted = true;
        }
    }

    /// Removes the partial files a pull of `remote` into the folder `dest` left (a cancelled
    /// push): the exact names [`part_name`] gives each of its files, in the folders the pull
    /// put them in, through folder handles (a link in the way is never followed). The names
    /// come from `remote`'s manifest; when the sender cannot list it any more (the item is
    /// gone there), only the part of `remote` itself, as a file, is looked for. Returns how
    /// many were removed.
    ///
    /// # Errors
    /// A local I/O error other than a missing file or folder.
    pub(crate) async fn forget(&self, remote: &[u8], dest: &Path) -> Result<u64, super::NetError> {
        let entries = self
            .manifest(remote)
            .await
            .map(|(e, _)| e)
            .unwrap_or_default();
        let root = Dir::open(dest).map_err(super::core_io(dest))?;
        let gone = |e: &std::io::Error| {
            matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            )
        };
        let mut removed = 0u64;
        let mut unlink = |dir: &Dir, remote_path: &[u8]| -> Result<(), super::NetError> {
            let part = part_name(&self.key, remote_path);
            match dir.stat(os(&part)) {
                Ok(Some(st)) if st.kind == EntryKind::File => match dir.unlink(os(&part)) {
                    Ok(()) => removed += 1,
                    Err(e) if gone(&e) => {}
                    Err(e) => return Err(super::core_io(dir.path())(e)),
                },
                _ => {}
            }
            Ok(())
        };
        let top_is_dir = entries
            .first()
            .is_some_and(|t| t.rel.is_empty() && t.kind == EntryKind::Dir);
        if !top_is_dir {
            unlink(&root, remote)?;
            return Ok(removed);
        }
        let Some(top_name) = remote
            .rsplit(|&b| b == b'/')
            .next()
            .filter(|n| check_rel(n).is_ok())
        else {
            return Ok(0);
        };
        let mut dirs: HashMap<Vec<u8>, Option<Dir>> = HashMap::new();
        dirs.insert(Vec::new(), root.open_dir(os(top_name)).ok());
        for e in entries.iter().skip(1) {
            let Ok(parts) = check_rel(&e.rel) else {
                continue;
            };
            let (name, parent_parts) = parts.split_last().expect("non-empty rel");
            let parent_rel = parent_parts.join(&b'/');
            let Some(Some(parent)) = dirs.get(&parent_rel) else {
                continue;
            };
            match e.kind {
                EntryKind::Dir => {
                    let sub = parent.open_dir(os(name)).ok();
                    dirs.insert(e.rel.clone(), sub);
                }
                EntryKind::File => {
                    let mut remote_path = remote.to_vec();
                    remote_path.push(b'/');
                    remote_path.extend_from_slice(&e.rel);
                    unlink(parent, &remote_path)?;
                }
                _ => {}
            }
        }
        Ok(removed)
    }

    /// Pulls `remote` into the folder `dest` (which must exist).
    pub(crate) async fn pull(
        &self,
        remote: &[u8],
        dest: &Path,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<CopyReport, super::NetError> {
        let (entries, skipped) = self.manifest(remote).await?;
        let Some(top) = entries.first() else {
            return Err(self.protocol("an empty manifest"));
        };
        if !top.rel.is_empty() {
            return Err(self.protocol("a manifest without its top item"));
        }
        let top_name = remote
            .rsplit(|&b| b == b'/')
            .next()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.protocol("no name to copy"))?
            .to_vec();
        check_rel(&top_name).map_err(|e| self.protocol(e))?;
        let dest = std::fs::canonicalize(dest).map_err(super::core_io(dest))?;
        let root = Arc::new(Dir::open(&dest).map_err(super::core_io(&dest))?);
        let mut report = CopyReport {
            skipped,
            ..CopyReport::default()
        };
        let total: u64 = entries.iter().map(|e| e.size).sum();

        // Where the top goes: a folder merges into a folder of its name (a rerun goes on
        // into it); anything else taken gets "name (2)".
        let taken = |dir: &Dir, n: &[u8]| dir.stat(os(n)).ok().flatten();
        let mut top_final = top_name.clone();
        let mut fetches: Vec<(Arc<Dir>, Fetch)> = Vec::new();
        if top.kind == EntryKind::File {
            if let Some(st) = taken(&root, &top_name) {
                if st.kind == EntryKind::File && st.size == top.size && st.mtime_ns == top.mtime_ns
                {
                    report.already = 1;
                    report.top = path_bytes(&dest.join(os(&top_name)));
                    return Ok(report);
                }
                top_final = crate::vdfs::fs::ops::keep_both_name(&top_name, false, |n| {
                    taken(&root, n).is_some()
                });
                report.renamed.push(path_bytes(&dest.join(os(&top_final))));
            }
            fetches.push((
                root.clone(),
                Fetch {
                    remote: remote.to_vec(),
                    name: top_final.clone(),
                    size: top.size,
                },
            ));
        } else {
            match taken(&root, &top_name) {
                Some(st) if st.kind == EntryKind::Dir => {}
                Some(_) => {
                    top_final = crate::vdfs::fs::ops::keep_both_name(&top_name, true, |n| {
                        taken(&root, n).is_some()
                    });
                    report.renamed.push(path_bytes(&dest.join(os(&top_final))));
                    root.mkdir(os(&top_final), 0o755)
                        .map_err(super::core_io(&dest))?;
                }
                None => root
                    .mkdir(os(&top_final), 0o755)
                    .map_err(super::core_io(&dest))?,
            }
            let top_dir = Arc::new(
                root.open_dir(os(&top_final))
                    .map_err(super::core_io(&dest))?,
            );
            let mut dirs: HashMap<Vec<u8>, Arc<Dir>> = HashMap::new();
            dirs.insert(Vec::new(), top_dir);
            for e in entries.iter().skip(1) {
                let parts = check_rel(&e.rel).map_err(|x| self.protocol(x))?;
                let (name, parent_parts) = parts.split_last().expect("non-empty rel");
                let parent_rel = parent_parts.join(&b'/');
                let Some(parent) = dirs.get(&parent_rel).cloned() else {
                    return Err(self.protocol("a manifest entry before its folder"));
                };
                let mut remote_path = remote.to_vec();
                remote_path.push(b'/');
                remote_path.extend_from_slice(&e.rel);
                match e.kind {
                    EntryKind::Dir => {
                        match parent.mkdir(os(name), 0o755) {
                            Ok(()) => {}
                            Err(x) if x.kind() == std::io::ErrorKind::AlreadyExists => {}
                            Err(x) => return Err(super::core_io(parent.path())(x)),
                        }
                        // open_dir refuses a link planted under the name.
                        let d = parent
                            .open_dir(os(name))
                            .map_err(super::core_io(parent.path()))?;
                        dirs.insert(e.rel.clone(), Arc::new(d));
                    }
                    EntryKind::File => {
                        if let Some(st) = taken(&parent, name)
                            && st.kind == EntryKind::File
                            && st.size == e.size
                            && st.mtime_ns == e.mtime_ns
                        {
                            report.already += 1;
                            continue;
                        }
                        fetches.push((
                            parent,
                            Fetch {
                                remote: remote_path,
                                name: name.to_vec(),
                                size: e.size,
                            },
                        ));
                    }
                    _ => {}
                }
            }
        }
        report.top = path_bytes(&dest.join(os(&top_final)));

        // Refused before a byte is written when the drive cannot hold it. What partial files
        // hold already counts as written; they are looked for only when the whole would not
        // fit (one stat per file, so not on every copy).
        let (free, _, _) = root.space().map_err(super::core_io(&dest))?;
        let mut needed: u64 = fetches.iter().map(|(_, f)| f.size).sum();
        if needed > free {
            needed = fetches
                .iter()
                .map(|(dir, f)| {
                    let have = dir
                        .stat(os(&part_name(&self.key, &f.remote)))
                        .ok()
                        .flatten()
                        .map_or(0, |s| s.size.min(f.size));
                    f.size - have
                })
                .sum();
        }
        if needed > free {
            return Err(super::NetError::NoSpace {
                path: dest,
                needed,
                free,
            });
        }

        // Fetch in batches: PARALLEL streams at once, one syncfs per batch, then renames.
        let seen = Seen {
            bytes: std::sync::atomic::AtomicU64::new(0),
            total,
            progress,
        };
        let mut queue = fetches.into_iter().peekable();
        while queue.peek().is_some() {
            let mut batch = Vec::new();
            let mut batch_bytes = 0u64;
            while let Some(next) = queue.peek() {
                if batch.len() >= BATCH_FILES || (batch_bytes >= BATCH_BYTES && !batch.is_empty()) {
                    break;
                }
                batch_bytes += next.1.size;
                batch.push(queue.next().expect("peeked"));
            }
            let mut fetched = Vec::with_capacity(batch.len());
            let mut pending = futures_lite_stream(batch, |(dir, f)| self.fetch(dir, f, &seen));
            while let Some(r) = pending.next().await {
                fetched.push(r?);
            }
            self.finish_batch(fetched, &mut report, &dest)?;
        }
        root.sync().map_err(super::core_io(&dest))?;
        Ok(report)
    }

    /// Makes a batch durable, then renames each file into place (never replacing).
    fn finish_batch(
        &self,
        fetched: Vec<Fetched>,
        report: &mut CopyReport,
        dest: &Path,
    ) -> Result<(), super::NetError> {
        let Some(first) = fetched.first() else {
            return Ok(());
        };
        first
            .dir
            .sync_filesystem()
            .map_err(super::core_io(first.dir.path()))?;
        let mut touched: Vec<Arc<Dir>> = Vec::new();
        for f in fetched {
            f.dir
                .set_times(os(&f.part), f.mtime_ns)
                .map_err(super::core_io(f.dir.path()))?;
            let mut name = f.name.clone();
            loop {
                match f.dir.rename_noreplace(os(&f.part), &f.dir, os(&name)) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        name = crate::vdfs::fs::ops::keep_both_name(&f.name, false, |n| {
                            f.dir.stat(os(n)).ok().flatten().is_some()
                        });
                        report
                            .renamed
                            .push(path_bytes(&f.dir.path().join(os(&name))));
                    }
                    Err(e) => return Err(super::core_io(dest)(e)),
                }
            }
            if let Some((size, cas, head)) = &f.content {
                let registry = crate::vdfs::content::filetype::Registry::active();
                crate::vdfs::content::known::remember(
                    f.dir.path().join(os(&name)),
                    *size,
                    f.mtime_ns,
                    crate::vdfs::content::known::Known {
                        cas: *cas,
                        type_index: registry.identify(&name, Some(head)).map(|i| i.type_index),
                    },
                );
            }
            report.files += 1;
            report.bytes += f.bytes;
            report.resumed += u64::from(f.resumed);
            if !touched.iter().any(|d| Arc::ptr_eq(d, &f.dir)) {
                touched.push(f.dir.clone());
            }
        }
        for d in touched {
            d.sync().map_err(super::core_io(d.path()))?;
        }
        Ok(())
    }
}

/// Runs `f` over `items` with at most [`PARALLEL`] at once, yielding results as they end.
fn futures_lite_stream<'a, T, F, Fut, R>(items: Vec<T>, f: F) -> Buffered<'a, R>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = R> + Send + 'a,
    T: 'a,
{
    let futs: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = R> + Send + 'a>>> = items
        .into_iter()
        .map(|t| {
            Box::pin(f(t)) as std::pin::Pin<Box<dyn std::future::Future<Output = R> + Send + 'a>>
        })
        .collect();
    Buffered {
        waiting: futs.into_iter().collect(),
        running: Vec::new(),
    }
}

/// A small "buffer_unordered": polls up to [`PARALLEL`] futures, in the caller's task.
struct Buffered<'a, R> {
    waiting: std::collections::VecDeque<
        std::pin::Pin<Box<dyn std::future::Future<Output = R> + Send + 'a>>,
    >,
    running: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = R> + Send + 'a>>>,
}

impl<R> Buffered<'_, R> {
    async fn next(&mut self) -> Option<R> {
        while self.running.len() < PARALLEL
            && let Some(f) = self.waiting.pop_front()
        {
            self.running.push(f);
        }
        if self.running.is_empty() {
            return None;
        }
        std::future::poll_fn(|cx| {
            for i in 0..self.running.len() {
                if let std::task::Poll::Ready(r) = self.running[i].as_mut().poll(cx) {
                    drop(self.running.swap_remove(i));
                    return std::task::Poll::Ready(Some(r));
                }
            }
            std::task::Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_from_a_peer_are_refused() {
        assert_eq!(check_rel(b"a/b.txt").unwrap(), [b"a".as_slice(), b"b.txt"]);
        assert!(check_rel(b"").unwrap().is_empty());
        for bad in [
            &b"../x"[..],
            b"a/../../x",
            b"/etc/passwd",
            b"a//b",
            b"a/./b",
            b"a/",
            b"a\0b",
            &[b'x'; 256],
        ] {
            assert!(check_rel(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn part_names_are_stable_per_device_and_path() {
        let a = part_name("k1", b"/x/y");
        assert_eq!(a, part_name("k1", b"/x/y"));
        assert_ne!(a, part_name("k2", b"/x/y"));
        assert_ne!(a, part_name("k1", b"/x/z"));
        assert!(a.starts_with(b".cairn-pull-") && a.ends_with(b".part"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Any bytes as a transfer message give a message or an error, never a panic.
        #[test]
        fn arbitrary_transfer_messages_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = wire::decode::<TransferReq>(&bytes);
            let _ = wire::decode::<TransferResp>(&bytes);
        }
    }
}
