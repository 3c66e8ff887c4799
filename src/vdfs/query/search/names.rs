//! The name index: a compact, column-oriented snapshot of every entry's name and of the fields
//! search filters need, written to `cache/names.idx` in the library folder and mapped into
//! memory, so a query scans flat arrays instead of decoding store records.
//!
//! # Layout
//!
//! Entries are numbered in the order of a depth-first walk of the folders: first the location
//! roots, then the children of folder 0, of folder 1, … where folders are numbered in
//! pre-order. Every subtree is therefore one contiguous run of folder numbers and one
//! contiguous run of entries, so a scope is a range, not a set (the same idea as the closure
//! relations of the store, laid out flat).
//!
//! The file is a 32-byte header (`CAIRNNX1`, format version `u32`, section count `u32`,
//! generation `u64`, entries `u32`, folders `u32`), a table of `(offset u64, length u64)` per
//! section, then the sections, each 8-byte aligned, all integers little-endian:
//!
//! | section | per | content |
//! |---|---|---|
//! | folded offsets | entry + 1 | `u32` start of each name in the folded blob |
//! | folded blob | — | `\0`, then every name NFC + lower case, each followed by `\0` |
//! | exact offsets | entry + 1 | `u32` start in the exact blob; an empty span means "same as folded" |
//! | exact blob | — | exact name bytes where they differ from the folded ones (a root: its full path) |
//! | dir | entry | `u32` folder number of the parent (`u32::MAX` for a location root) |
//! | attr | entry | `u32`: bits 0–3 entry kind, 4 hidden, 8–15 content kind, 16–31 copies |
//! | mask | entry | `u32` bit set of the folded name's bytes (a–z, digits, 5 buckets for the rest) |
//! | size | entry | `u64` bytes |
//! | mtime | entry | `i64` ns since the epoch |
//! | id | entry | `u64` entry id (0 in an ephemeral index) |
//! | indexed | entry | `u32` seconds since the epoch when the index first saw it |
//! | mime | entry | `u16` index into the MIME table + 1 (0: none); from the content when identified, else from the extension |
//! | mime table | — | MIME types, each followed by `\n` |
//! | folder entry | folder | `u32` the folder's own entry number |
//! | folder end | folder | `u32` first folder number after its subtree |
//! | folder first | folder + 1 | `u32` first entry whose parent is this folder |
//! | folder depth | folder | `u16` depth below its location root (root = 0) |
//!
//! A name query reads the folded blob and offsets, `dir` and `attr`: about 30 bytes per entry
//! on typical names. The other columns are read only for the entries a filter or a result
//! needs.
//!
//! # Damage
//!
//! The file is written to a temporary name, fsynced and renamed, so it is never torn. A file
//! damaged afterwards is caught by the header and section checks when it opens (and rebuilt);
//! damage inside the columns cannot make a query panic or loop: every access is bounded and
//! every walk moves forward. Such a file gives wrong answers until the next rebuild, which
//! is why it is not checked in full on every open (that would cost more than most queries).
//!
//! # Staleness
//!
//! Every store transaction that changes entries or content gives the store's names generation
//! a new random value ([`crate::store::schema::META_NAMES_GENERATION`], see
//! [`crate::vdfs::index::note_index_changed`]); the file records the generation it was built
//! from and is rebuilt when they differ. (A count would repeat itself after lost commits.)

use std::path::{Path, PathBuf};

use redb::ReadableTable;

mod overlay;
mod scan;

pub use overlay::{NameView, Overlay, overlay};

pub(crate) use scan::{subsequence_within, word_start};

use crate::store::schema::CONTENT;
use crate::store::{Store, StoreError};
use crate::vdfs::content::filetype::ContentKind;
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::index::ContentRecord;
use crate::vdfs::query::search::fold;

const MAGIC: &[u8; 8] = b"CAIRNNX1";
/// Raised whenever what the columns hold changes (folding, MIME source), so old files are rebuilt.
const VERSION: u32 = 2;
const HEADER: usize = 32;
/// No parent folder: a location root.
const NO_DIR: u32 = u32::MAX;

// Section numbers.
const FOLDED_OFF: usize = 0;
const FOLDED: usize = 1;
const EXACT_OFF: usize = 2;
const EXACT: usize = 3;
const DIR: usize = 4;
const ATTR: usize = 5;
const MASK: usize = 6;
const SIZE: usize = 7;
const MTIME: usize = 8;
const ID: usize = 9;
const INDEXED: usize = 10;
const MIME: usize = 11;
const MIME_TABLE: usize = 12;
const F_ENTRY: usize = 13;
const F_END: usize = 14;
const F_FIRST: usize = 15;
const F_DEPTH: usize = 16;
const SECTIONS: usize = 17;

const ATTR_HIDDEN: u32 = 1 << 4;

/// The generation recorded in the header of the index file at `path`, if it is a readable
/// index of this format version (reads 32 bytes).
pub fn file_generation(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut head = [0u8; HEADER];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    Header::parse(&head).ok().map(|h| h.generation)
}

/// The fixed 32-byte header.
struct Header {
    generation: u64,
    entries: u32,
    folders: u32,
}

impl Header {
    /// Reads the header at the start of `d`, checking the magic, the format version and the
    /// section count.
    fn parse(d: &[u8]) -> Result<Header, String> {
        if d.len() < HEADER || &d[..8] != MAGIC {
            return Err("no CAIRNNX1 header".into());
        }
        let version = rd32(&d[8..12], 0);
        if version != VERSION {
            return Err(format!("format version {version}, expected {VERSION}"));
        }
        if rd32(&d[12..16], 0) as usize != SECTIONS {
            return Err("unexpected section count".into());
        }
        Ok(Header {
            generation: rd64(&d[16..24], 0),
            entries: rd32(&d[24..28], 0),
            folders: rd32(&d[28..32], 0),
        })
    }
}

/// The last component of a location root's stored name (its full path), by which it is found.
fn last_component(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/')
        .find(|c| !c.is_empty())
        .unwrap_or(path)
}

/// Why a name index file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum NameIndexError {
    /// Reading, mapping or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a name index of this version, or is damaged.
    #[error("{path}: not a usable name index ({why}); it will be rebuilt")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

enum Backing {
    Map(memmap2::Mmap),
    Mem(Vec<u8>),
}

impl std::ops::Deref for Backing {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Backing::Map(m) => m,
            Backing::Mem(v) => v,
        }
    }
}

/// A name index, mapped from its file or held in memory (ephemeral).
pub struct NameIndex {
    data: Backing,
    sec: [(usize, usize); SECTIONS],
    entries: u32,
    folders: u32,
    generation: u64,
}

impl std::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameIndex")
            .field("entries", &self.entries)
            .field("folders", &self.folders)
            .field("generation", &self.generation)
            .field("bytes", &self.data.len())
            .finish()
    }
}

#[inline]
fn rd32(b: &[u8], i: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[i * 4..i * 4 + 4]);
    u32::from_le_bytes(a)
}

#[inline]
fn rd64(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i * 8..i * 8 + 8]);
    u64::from_le_bytes(a)
}

#[inline]
fn rd16(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i * 2], b[i * 2 + 1]])
}

/// The mask bit of one byte of a folded name: a–z one bit each, digits one bit, every other
/// byte one of five buckets. A name can only contain a needle (even as a subsequence) if its
/// mask holds every bit of the needle's.
#[inline]
fn mask_bit(b: u8) -> u32 {
    match b {
        b'a'..=b'z' => 1 << (b - b'a'),
        b'0'..=b'9' => 1 << 26,
        _ => 1 << (27 + u32::from(b % 5)),
    }
}

fn mask_of(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0, |m, &b| m | mask_bit(b))
}

/// One entry handed to the builder.
struct Input {
    id: u64,
    parent: u64,
    name: (u32, u32),
    kind: EntryKind,
    content_kind: ContentKind,
    size: u64,
    mtime_ns: i64,
    copies: u16,
    mime: u16,
    indexed_s: u32,
}

/// Collects entries (sorted by id, parents before nothing in particular) and lays them out.
#[derive(Default)]
struct Builder {
    inputs: Vec<Input>,
    names: Vec<u8>,
    mimes: Vec<String>,
    mime_ids: std::collections::HashMap<String, u16>,
}

impl Builder {
    fn mime_id(&mut self, mime: Option<&str>) -> u16 {
        let Some(m) = mime else { return 0 };
        if let Some(&id) = self.mime_ids.get(m) {
            return id;
        }
        if self.mimes.len() >= usize::from(u16::MAX - 1) {
            return 0;
        }
        self.mimes.push(m.to_owned());
        let id = self.mimes.len() as u16;
        self.mime_ids.insert(m.to_owned(), id);
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        id: u64,
        parent: u64,
        name: &[u8],
        kind: EntryKind,
        content_kind: ContentKind,
        size: u64,
        mtime_ns: i64,
        copies: u64,
        mime: u16,
        indexed_ms: i64,
    ) {
        let off = self.names.len() as u32;
        self.names.extend_from_slice(name);
        self.inputs.push(Input {
            id,
            parent,
            name: (off, name.len() as u32),
            kind,
            content_kind,
            size,
            mtime_ns,
            copies: copies.min(u64::from(u16::MAX)) as u16,
            mime,
            indexed_s: (indexed_ms / 1000).clamp(0, i64::from(u32::MAX)) as u32,
        });
    }

    /// Adds entry `id` from its stored record, with its content's number of copies and
    /// MIME type id (0 when not identified from its bytes, as in Shallow mode: then the MIME
    /// type of its extension).
    fn push_record(
        &mut self,
        id: u64,
        rec: &crate::vdfs::index::EntryRecord,
        copies: u64,
        mime: u16,
        registry: &crate::vdfs::content::filetype::Registry,
    ) {
        let mut mime = mime;
        if mime == 0 && rec.kind == EntryKind::File {
            let by_ext = registry
                .identify(&rec.name, None)
                .and_then(|id| registry.get(id.type_index))
                .map(|t| t.mime());
            mime = self.mime_id(by_ext);
        }
        self.push(
            id,
            rec.parent,
            &rec.name,
            rec.kind,
            rec.content_kind,
            rec.size,
            rec.mtime_ns,
            copies,
            mime,
            rec.first_seen_ms,
        );
    }

    fn name(&self, p: usize) -> &[u8] {
        let (o, l) = self.inputs[p].name;
        &self.names[o as usize..(o + l) as usize]
    }

    /// Lays the entries out as the file format and returns its bytes.
    fn finish(mut self, generation: u64, ephemeral: bool) -> Vec<u8> {
        if !self.inputs.is_sorted_by_key(|i| i.id) {
            self.inputs.sort_by_key(|i| i.id);
        }
        let n = self.inputs.len();
        let pos_of = |inputs: &[Input], id: u64| inputs.binary_search_by_key(&id, |i| i.id).ok();
        // Children lists (compressed rows), each sorted by name.
        let mut parent_pos = vec![u32::MAX; n];
        let mut counts = vec![0u32; n + 1];
        let mut roots = Vec::new();
        for (p, inp) in self.inputs.iter().enumerate() {
            if inp.parent == 0 {
                roots.push(p as u32);
            } else if let Some(pp) = pos_of(&self.inputs, inp.parent) {
                parent_pos[p] = pp as u32;
                counts[pp] += 1;
            }
        }
        let mut start = vec![0u32; n + 1];
        for p in 0..n {
            start[p + 1] = start[p] + counts[p];
        }
        let mut fill = start.clone();
        let mut kids = vec![0u32; start[n] as usize];
        for (p, &pp) in parent_pos.iter().enumerate() {
            if pp != u32::MAX {
                kids[fill[pp as usize] as usize] = p as u32;
                fill[pp as usize] += 1;
            }
        }
        for p in 0..n {
            let r = start[p] as usize..start[p + 1] as usize;
            if r.len() > 1 {
                kids[r].sort_by(|&a, &b| self.name(a as usize).cmp(self.name(b as usize)));
            }
        }
        let children = |p: u32| &kids[start[p as usize] as usize..start[p as usize + 1] as usize];
        let is_dir = |p: u32| self.inputs[p as usize].kind == EntryKind::Dir;
        let dotted = |p: u32| self.name(p as usize).first() == Some(&b'.');

        // Folders in pre-order: a subtree is a run of consecutive folder numbers.
        struct Folder {
            pos: u32,
            end: u32,
            depth: u16,
            hidden: bool,
        }
        let mut folder_list: Vec<Folder> = Vec::new();
        for &r in &roots {
            if !is_dir(r) {
                continue;
            }
            // (position, next child slot, folder number)
            let mut stack: Vec<(u32, usize, usize)> = vec![(r, 0, folder_list.len())];
            folder_list.push(Folder {
                pos: r,
                end: 0,
                depth: 0,
                hidden: false,
            });
            while let Some(top) = stack.last_mut() {
                let (p, slot, f) = *top;
                let ks = children(p);
                if let Some(at) = (slot..ks.len()).find(|&k| is_dir(ks[k])) {
                    let c = ks[at];
                    top.1 = at + 1;
                    let parent = &folder_list[f];
                    let child = Folder {
                        pos: c,
                        end: 0,
                        depth: parent.depth.saturating_add(1),
                        hidden: parent.hidden || dotted(c),
                    };
                    stack.push((c, 0, folder_list.len()));
                    folder_list.push(child);
                } else {
                    folder_list[f].end = folder_list.len() as u32;
                    stack.pop();
                }
            }
        }
        let folders = folder_list.len();

        // Entry order: roots, then each folder's children in folder order.
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut dir: Vec<u32> = Vec::with_capacity(n);
        order.extend_from_slice(&roots);
        dir.resize(roots.len(), NO_DIR);
        let mut f_first = Vec::with_capacity(folders + 1);
        for (f, folder) in folder_list.iter().enumerate() {
            f_first.push(order.len() as u32);
            for &c in children(folder.pos) {
                order.push(c);
                dir.push(f as u32);
            }
        }
        f_first.push(order.len() as u32);
        let mut entry_of_pos = vec![u32::MAX; n];
        for (e, &p) in order.iter().enumerate() {
            entry_of_pos[p as usize] = e as u32;
        }
        let f_entry: Vec<u32> = folder_list
            .iter()
            .map(|f| entry_of_pos[f.pos as usize])
            .collect();
        let f_end: Vec<u32> = folder_list.iter().map(|f| f.end).collect();
        let count = order.len();

        // Columns.
        let mut folded_off = Vec::with_capacity((count + 1) * 4);
        let mut folded = vec![0u8];
        let mut exact_off = Vec::with_capacity((count + 1) * 4);
        let mut exact = Vec::new();
        let mut c_dir = Vec::with_capacity(count * 4);
        let mut attr = Vec::with_capacity(count * 4);
        let mut mask = Vec::with_capacity(count * 4);
        let mut size = Vec::with_capacity(count * 8);
        let mut mtime = Vec::with_capacity(count * 8);
        let mut ids = Vec::with_capacity(count * 8);
        let mut indexed = Vec::with_capacity(count * 4);
        let mut mime = Vec::with_capacity(count * 2);
        for (e, &p) in order.iter().enumerate() {
            let inp = &self.inputs[p as usize];
            let raw = self.name(p as usize);
            let d = dir[e];
            // A root's name is its full path; it is found by its last component.
            let match_name: &[u8] = if d == NO_DIR {
                last_component(raw)
            } else {
                raw
            };
            folded_off.extend_from_slice(&(folded.len() as u32).to_le_bytes());
            let start = folded.len();
            if match_name.is_ascii() {
                folded.extend(match_name.iter().map(u8::to_ascii_lowercase));
            } else {
                folded.extend_from_slice(
                    fold(&String::from_utf8_lossy(match_name), false).as_bytes(),
                );
            }
            let m = mask_of(&folded[start..]);
            let same = &folded[start..] == raw;
            folded.push(0);
            exact_off.extend_from_slice(&(exact.len() as u32).to_le_bytes());
            if !same {
                exact.extend_from_slice(raw);
            }
            c_dir.extend_from_slice(&d.to_le_bytes());
            let hidden =
                d != NO_DIR && (folder_list[d as usize].hidden || raw.first() == Some(&b'.'));
            let a = (inp.kind as u32 & 0xf)
                | if hidden { ATTR_HIDDEN } else { 0 }
                | (u32::from(inp.content_kind as u8) << 8)
                | (u32::from(inp.copies) << 16);
            attr.extend_from_slice(&a.to_le_bytes());
            mask.extend_from_slice(&m.to_le_bytes());
            size.extend_from_slice(&inp.size.to_le_bytes());
            mtime.extend_from_slice(&inp.mtime_ns.to_le_bytes());
            ids.extend_from_slice(&(if ephemeral { 0 } else { inp.id }).to_le_bytes());
            indexed.extend_from_slice(&inp.indexed_s.to_le_bytes());
            mime.extend_from_slice(&inp.mime.to_le_bytes());
        }
        folded_off.extend_from_slice(&(folded.len() as u32).to_le_bytes());
        exact_off.extend_from_slice(&(exact.len() as u32).to_le_bytes());
        let mut mime_table = Vec::new();
        for m in &self.mimes {
            mime_table.extend_from_slice(m.replace('\n', " ").as_bytes());
            mime_table.push(b'\n');
        }
        let le32 = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let sections: [Vec<u8>; SECTIONS] = [
            folded_off,
            folded,
            exact_off,
            exact,
            c_dir,
            attr,
            mask,
            size,
            mtime,
            ids,
            indexed,
            mime,
            mime_table,
            le32(&f_entry),
            le32(&f_end),
            le32(&f_first),
            folder_list
                .iter()
                .flat_map(|f| f.depth.to_le_bytes())
                .collect(),
        ];
        let mut out = Vec::with_capacity(
            HEADER + SECTIONS * 16 + sections.iter().map(|s| s.len() + 8).sum::<usize>(),
        );
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(SECTIONS as u32).to_le_bytes());
        out.extend_from_slice(&generation.to_le_bytes());
        out.extend_from_slice(&(count as u32).to_le_bytes());
        out.extend_from_slice(&(folders as u32).to_le_bytes());
        let table_at = out.len();
        out.resize(table_at + SECTIONS * 16, 0);
        for (k, s) in sections.iter().enumerate() {
            while !out.len().is_multiple_of(8) {
                out.push(0);
            }
            let off = out.len() as u64;
            out.extend_from_slice(s);
            let t = table_at + k * 16;
            out[t..t + 8].copy_from_slice(&off.to_le_bytes());
            out[t + 8..t + 16].copy_from_slice(&(s.len() as u64).to_le_bytes());
        }
        out
    }
}

impl NameIndex {
    /// Builds the index from every entry of the store, in one read transaction (so the
    /// generation recorded matches what was read). About 1 s per million entries here.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn build(store: &Store) -> Result<NameIndex, StoreError> {
        let bytes = build_bytes(store)?;
        Ok(NameIndex::from_bytes(Backing::Mem(bytes)).expect("a freshly built index is valid"))
    }

    /// Builds an ephemeral index over a walked tree (a folder outside every location). Entry
    /// ids are 0; copies are 1; content kinds and MIME types come from the extension.
    pub fn from_tree(tree: &crate::vdfs::fs::walk::Tree) -> NameIndex {
        let registry = crate::vdfs::content::filetype::Registry::active();
        let mut b = Builder::default();
        for i in 0..tree.len() {
            let node = tree.node(i);
            let name: &[u8] = if i == 0 {
                crate::vdfs::fs::entry::os_bytes(tree.root().as_os_str())
            } else {
                tree.name(i)
            };
            let ft = (node.kind == EntryKind::File)
                .then(|| registry.identify(name, None))
                .flatten()
                .and_then(|id| registry.get(id.type_index));
            let mime = b.mime_id(ft.map(|t| t.mime()));
            let parent = if i == 0 {
                0
            } else {
                u64::from(node.parent) + 1
            };
            b.push(
                u64::from(i) + 1,
                parent,
                name,
                node.kind,
                ft.map_or(ContentKind::Unknown, |t| t.kind),
                node.size,
                node.mtime_ns,
                1,
                mime,
                0,
            );
        }
        NameIndex::from_bytes(Backing::Mem(b.finish(0, true)))
            .expect("a freshly built index is valid")
    }

    /// Walks `folder` with the default rules and builds an ephemeral index of it (what a
    /// search scoped to a folder outside every location runs over). `Ok(None)` if `stop` was
    /// set during the walk.
    ///
    /// # Errors
    /// [`crate::vdfs::fs::walk::WalkStartError`] if `folder` cannot be walked at all.
    pub fn of_folder(
        folder: &Path,
        stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    ) -> Result<Option<NameIndex>, crate::vdfs::fs::walk::WalkStartError> {
        use crate::vdfs::fs::rules::{Compiled, Rules};
        let rules = Compiled::new(&Rules::default()).expect("the default rules compile");
        let mut opts = crate::vdfs::fs::walk::WalkOptions::new(rules);
        opts.stop = stop.clone();
        let tree = crate::vdfs::fs::walk::walk(folder, &opts)?;
        if stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst)) {
            return Ok(None);
        }
        Ok(Some(NameIndex::from_tree(&tree)))
    }

    /// Opens the index file at `path` (memory-mapped).
    ///
    /// # Errors
    /// [`NameIndexError::Io`] if it cannot be opened or mapped, [`NameIndexError::Invalid`] if
    /// it is not a name index of this version or its sections do not fit.
    pub fn open(path: &Path) -> Result<NameIndex, NameIndexError> {
        let io = |source| NameIndexError::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the map is read-only and the file is only ever replaced by a rename (see
        // `save`), never written in place, so the mapped inode does not change under us. The
        // library lock keeps other Cairn processes out of the library folder.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        NameIndex::from_bytes(Backing::Map(map)).map_err(|why| NameIndexError::Invalid {
            path: path.to_owned(),
            why,
        })
    }

    /// Builds the index from the store and writes it to `path` atomically (temporary file,
    /// fsync, rename), then maps it.
    ///
    /// # Errors
    /// [`NameIndexError`].
    pub fn rebuild(store: &Store, path: &Path) -> Result<NameIndex, NameIndexError> {
        let bytes = build_bytes(store)?;
        let io = |source| NameIndexError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            crate::vdfs::home::atomic::ensure_own_dirs(dir, 1).map_err(io)?;
        }
        crate::vdfs::home::atomic::write_atomic(path, &bytes, None).map_err(io)?;
        drop(bytes);
        NameIndex::open(path)
    }

    fn from_bytes(data: Backing) -> Result<NameIndex, String> {
        let d: &[u8] = &data;
        let Header {
            generation,
            entries,
            folders,
        } = Header::parse(d)?;
        if d.len() < HEADER + SECTIONS * 16 {
            return Err("truncated section table".into());
        }
        let mut sec = [(0usize, 0usize); SECTIONS];
        for (k, s) in sec.iter_mut().enumerate() {
            let t = &d[HEADER + k * 16..HEADER + k * 16 + 16];
            let off = rd64(t, 0) as usize;
            let len = rd64(t, 1) as usize;
            if off.checked_add(len).is_none_or(|end| end > d.len()) {
                return Err(format!("section {k} runs past the end of the file"));
            }
            *s = (off, len);
        }
        let (n, f) = (entries as usize, folders as usize);
        let want = [
            (FOLDED_OFF, (n + 1) * 4),
            (EXACT_OFF, (n + 1) * 4),
            (DIR, n * 4),
            (ATTR, n * 4),
            (MASK, n * 4),
            (SIZE, n * 8),
            (MTIME, n * 8),
            (ID, n * 8),
            (INDEXED, n * 4),
            (MIME, n * 2),
            (F_ENTRY, f * 4),
            (F_END, f * 4),
            (F_FIRST, (f + 1) * 4),
            (F_DEPTH, f * 2),
        ];
        for (k, len) in want {
            if sec[k].1 != len {
                return Err(format!(
                    "section {k} has {} bytes, expected {len}",
                    sec[k].1
                ));
            }
        }
        let ix = NameIndex {
            data,
            sec,
            entries,
            folders,
            generation,
        };
        if ix.folded_off(n) as usize != ix.sec[FOLDED].1
            || ix.exact_off(n) as usize != ix.sec[EXACT].1
            || rd32(ix.col(F_FIRST), f) != entries
        {
            return Err("offsets do not end at their blobs".into());
        }
        Ok(ix)
    }

    #[inline]
    fn col(&self, k: usize) -> &[u8] {
        let (o, l) = self.sec[k];
        &self.data[o..o + l]
    }

    #[inline]
    fn folded_off(&self, i: usize) -> u32 {
        rd32(self.col(FOLDED_OFF), i)
    }

    #[inline]
    fn exact_off(&self, i: usize) -> u32 {
        rd32(self.col(EXACT_OFF), i)
    }

    /// Entry `i`'s folded name (NFC, lower case).
    fn folded(&self, i: usize) -> &[u8] {
        let (a, b) = (self.folded_off(i) as usize, self.folded_off(i + 1) as usize);
        self.col(FOLDED)
            .get(a..b.saturating_sub(1))
            .unwrap_or_default()
    }

    /// Entry `i`'s exact name bytes (a root's full path).
    fn exact(&self, i: usize) -> &[u8] {
        let (a, b) = (self.exact_off(i) as usize, self.exact_off(i + 1) as usize);
        if a == b {
            self.folded(i)
        } else {
            self.col(EXACT).get(a..b).unwrap_or_default()
        }
    }

    /// Entry `i`'s exact name: a root's last path component, else [`Self::exact`].
    fn exact_name(&self, i: usize) -> &[u8] {
        let raw = self.exact(i);
        if self.dir(i) == NO_DIR {
            last_component(raw)
        } else {
            raw
        }
    }

    fn dir(&self, i: usize) -> u32 {
        rd32(self.col(DIR), i)
    }

    fn attr(&self, i: usize) -> u32 {
        rd32(self.col(ATTR), i)
    }

    fn kind(&self, i: usize) -> EntryKind {
        EntryKind::from_u8((self.attr(i) & 0xf) as u8)
    }

    fn size(&self, i: usize) -> u64 {
        rd64(self.col(SIZE), i)
    }

    fn mtime(&self, i: usize) -> i64 {
        rd64(self.col(MTIME), i) as i64
    }

    fn depth(&self, i: usize) -> u16 {
        match self.dir(i) {
            NO_DIR => 0,
            d if d < self.folders => rd16(self.col(F_DEPTH), d as usize).saturating_add(1),
            _ => 0,
        }
    }

    /// Folder `f`'s own entry (0 if `f` or the stored value is out of range).
    fn f_entry(&self, f: u32) -> u32 {
        if f >= self.folders {
            return 0;
        }
        let e = rd32(self.col(F_ENTRY), f as usize);
        if e < self.entries { e } else { 0 }
    }

    /// The first folder after `f`'s subtree: always in `f + 1..=folders`, so walks over
    /// sibling folders always move on.
    fn f_end(&self, f: u32) -> u32 {
        if f >= self.folders {
            return self.folders;
        }
        rd32(self.col(F_END), f as usize).clamp(f + 1, self.folders)
    }

    /// The first entry whose parent is folder `f` (`f == folders`: the end), at most
    /// `entries`.
    fn f_first(&self, f: u32) -> u32 {
        if f > self.folders {
            return self.entries;
        }
        rd32(self.col(F_FIRST), f as usize).min(self.entries)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries as usize
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Number of folders indexed.
    pub fn folders(&self) -> u64 {
        u64::from(self.folders)
    }

    /// The store generation it was built from.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Bytes of the whole index (the file's size).
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Bytes a name query reads: folded names and their offsets, `dir` and `attr`.
    pub fn name_bytes(&self) -> usize {
        [FOLDED_OFF, FOLDED, DIR, ATTR]
            .iter()
            .map(|&k| self.sec[k].1)
            .sum()
    }
}

/// Reads every entry and content record in one read transaction and lays out the index.
fn build_bytes(store: &Store) -> Result<Vec<u8>, StoreError> {
    store.read(|tx| {
        let generation = crate::vdfs::index::read_names_generation(tx)?;
        let registry = crate::vdfs::content::filetype::Registry::active();
        let mut b = Builder::default();
        let mut content: std::collections::HashMap<u64, (u64, u16)> =
            std::collections::HashMap::new();
        for row in tx.open_table(CONTENT)?.iter()? {
            let (k, v) = row?;
            let rec: ContentRecord = crate::store::record::decode_record(v.value())?;
            let mime = b.mime_id(rec.mime.as_deref());
            content.insert(k.value(), (rec.instances, mime));
        }
        crate::vdfs::index::each_entry(tx, |id, rec| {
            let (copies, mime) = rec
                .cas
                .and_then(|c| content.get(&c.0).copied())
                .unwrap_or((1, 0));
            b.push_record(id, &rec, copies, mime, registry);
            Ok(())
        })?;
        Ok(b.finish(generation, false))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vdfs::query::search::{NameMatch, Query, Sort};

    /// A small library: one location with nested folders and a few dozen names.
    fn sample() -> Vec<u8> {
        let mut b = Builder::default();
        let mut id = 1;
        let mut add = |b: &mut Builder, parent: u64, name: &str, kind: EntryKind| {
            b.push(
                id,
                parent,
                name.as_bytes(),
                kind,
                ContentKind::Text,
                id * 10,
                id as i64,
                1,
                0,
                0,
            );
            id += 1;
            id - 1
        };
        let root = add(&mut b, 0, "/home/me/Files", EntryKind::Dir);
        for d in ["docs", "Photos", ".hidden", "Montréal"] {
            let dir = add(&mut b, root, d, EntryKind::Dir);
            for f in [
                "README.md",
                "readme-old.txt",
                "notes",
                "r-e-a-d-m-e",
                "IMG_0001.JPG",
            ] {
                add(&mut b, dir, f, EntryKind::File);
            }
            let sub = add(&mut b, dir, "deeper", EntryKind::Dir);
            add(&mut b, sub, "report final.pdf", EntryKind::File);
        }
        b.finish(7, false)
    }

    fn queries() -> Vec<Query> {
        let base = |text: &str, mode: NameMatch| Query {
            text: text.into(),
            mode,
            limit: 10,
            include_hidden: true,
            ..Query::default()
        };
        vec![
            base("readme", NameMatch::Smart),
            base("read", NameMatch::Prefix),
            base("*.JPG", NameMatch::Glob),
            base("rdme", NameMatch::Smart),
            base("", NameMatch::Smart),
            Query {
                within: Some("/home/me/Files/docs".into()),
                sort: Sort::Name,
                case_sensitive: true,
                ..base("READ", NameMatch::Smart)
            },
            Query {
                within: Some("/home/me".into()),
                sort: Sort::Size,
                size: Some((0, 300)),
                ..base("e", NameMatch::Smart)
            },
        ]
    }

    #[test]
    fn layout_is_depth_first_and_scopes_are_ranges() {
        let ix = NameIndex::from_bytes(Backing::Mem(sample())).unwrap();
        assert_eq!(ix.len(), 1 + 4 * 8);
        assert_eq!(ix.generation(), 7);
        let docs = ix.search(&Query {
            within: Some("/home/me/Files/docs".into()),
            include_hidden: true,
            limit: 100,
            ..Query::default()
        });
        assert_eq!(docs.total, 7);
        assert!(
            docs.hits
                .iter()
                .all(|h| h.path.starts_with("/home/me/Files/docs/"))
        );
        let hidden = ix.search(&Query {
            text: "report".into(),
            limit: 10,
            ..Query::default()
        });
        // The one under `.hidden/` is hidden because its folder is.
        assert_eq!(hidden.total, 3);
    }

    /// A file damaged behind an intact header never makes a query panic or hang.
    #[test]
    fn damaged_columns_never_panic() {
        let good = sample();
        let body = HEADER + SECTIONS * 16;
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut opened = 0;
        for round in 0..400 {
            let mut bytes = good.clone();
            for _ in 0..1 + round % 8 {
                let at = body + (next() as usize) % (bytes.len() - body - 4);
                let v = match next() % 4 {
                    0 => u32::MAX,
                    1 => 0,
                    2 => next() as u32,
                    _ => (next() % 64) as u32,
                };
                bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
            let Ok(ix) = NameIndex::from_bytes(Backing::Mem(bytes)) else {
                continue;
            };
            opened += 1;
            for q in queries() {
                let r = ix.search(&q);
                assert!(r.hits.len() <= q.limit);
            }
        }
        // Most damage is past the checks made at open, so the queries really ran on it.
        assert!(opened > 200, "only {opened} damaged files opened");
    }

    /// Runs every sample query on `bytes` if they open as an index: none may panic or return
    /// more than its limit.
    fn open_and_query(bytes: Vec<u8>) {
        if let Ok(ix) = NameIndex::from_bytes(Backing::Mem(bytes)) {
            for q in queries() {
                let r = ix.search(&q);
                assert!(r.hits.len() <= q.limit);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1500))]

        /// Fuzz (issue "fortress"): arbitrary bytes, with or without a valid header in front,
        /// never make opening `names.idx` or a query panic.
        #[test]
        fn arbitrary_bytes_never_panic(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            keep_header in proptest::prelude::any::<bool>(),
        ) {
            let mut bytes = if keep_header { sample()[..HEADER].to_vec() } else { Vec::new() };
            bytes.extend_from_slice(&tail);
            open_and_query(bytes);
        }

        /// Fuzz: a valid file with bytes changed anywhere (the header and section table
        /// included), cut short or grown never makes opening it or a query panic.
        #[test]
        fn a_valid_file_changed_anywhere_never_panics(
            edits in proptest::collection::vec(
                (proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()),
                1..6,
            ),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
            how in 0u8..3,
        ) {
            let mut bytes = sample();
            for (at, v) in &edits {
                let i = at.index(bytes.len());
                bytes[i] = *v;
            }
            match how {
                0 => bytes.truncate(cut.index(bytes.len())),
                1 => bytes.extend(std::iter::repeat_n(0xA5, cut.index(512))),
                _ => {}
            }
            open_and_query(bytes);
        }
    }
}
