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
//! | mime | entry | `u16` index into the MIME table + 1 (0: none) |
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
//! # Staleness
//!
//! Every store transaction that changes entries or content bumps the store's names generation
//! ([`crate::store::schema::META_NAMES_GENERATION`], see [`note_index_changed`]); the file
//! records the generation it was built from and is rebuilt when they differ.

use std::ops::Range;
use std::path::{Path, PathBuf};

use redb::{ReadableTable, WriteTransaction};

use super::{Hit, NameMatch, Query, Results, Sort, fold};
use crate::store::schema::{CONTENT, ENTRIES, META, META_NAMES_GENERATION};
use crate::store::{Store, StoreError, decode, encode};
use crate::vdfs::entry::{EntryKind, os_from_bytes};
use crate::vdfs::filetype::{ContentKind, extension_of};
use crate::vdfs::index::{ContentRecord, EntryRecord};

const MAGIC: &[u8; 8] = b"CAIRNNX1";
const VERSION: u32 = 1;
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

/// Bumps the names generation inside a write transaction that changes entries, their names,
/// parents, sizes, times, kinds or content links, so the next search rebuilds the name index.
///
/// # Errors
/// [`StoreError`].
pub fn note_index_changed(tx: &WriteTransaction) -> Result<(), StoreError> {
    let mut meta = tx.open_table(META)?;
    let current: u64 = match meta.get(META_NAMES_GENERATION)? {
        Some(v) => decode("meta", v.value())?,
        None => 0,
    };
    meta.insert(META_NAMES_GENERATION, encode(&(current + 1)).as_slice())?;
    Ok(())
}

/// The store's current names generation (0 before anything was indexed).
///
/// # Errors
/// [`StoreError`].
pub fn generation(store: &Store) -> Result<u64, StoreError> {
    store.read(read_generation)
}

fn read_generation(tx: &redb::ReadTransaction) -> Result<u64, StoreError> {
    let meta = tx.open_table(META)?;
    Ok(match meta.get(META_NAMES_GENERATION)? {
        Some(v) => decode("meta", v.value())?,
        None => 0,
    })
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

        // Folders in pre-order.
        let mut f_pos: Vec<u32> = Vec::new();
        let mut f_end: Vec<u32> = Vec::new();
        let mut f_depth: Vec<u16> = Vec::new();
        let mut f_hidden: Vec<bool> = Vec::new();
        for &r in &roots {
            if !is_dir(r) {
                continue;
            }
            // (position, next child slot, folder number)
            let mut stack: Vec<(u32, usize, u32)> = Vec::new();
            let open = |p: u32,
                        depth: u16,
                        hidden: bool,
                        f_pos: &mut Vec<u32>,
                        f_end: &mut Vec<u32>,
                        f_depth: &mut Vec<u16>,
                        f_hidden: &mut Vec<bool>| {
                let f = f_pos.len() as u32;
                f_pos.push(p);
                f_end.push(0);
                f_depth.push(depth);
                f_hidden.push(hidden);
                f
            };
            let f = open(
                r,
                0,
                false,
                &mut f_pos,
                &mut f_end,
                &mut f_depth,
                &mut f_hidden,
            );
            stack.push((r, 0, f));
            while let Some(top) = stack.last_mut() {
                let (p, slot, f) = *top;
                let ks = children(p);
                if let Some(at) = (slot..ks.len()).find(|&k| is_dir(ks[k])) {
                    let c = ks[at];
                    top.1 = at + 1;
                    let depth = f_depth[f as usize].saturating_add(1);
                    let hidden = f_hidden[f as usize] || dotted(c);
                    let g = open(
                        c,
                        depth,
                        hidden,
                        &mut f_pos,
                        &mut f_end,
                        &mut f_depth,
                        &mut f_hidden,
                    );
                    stack.push((c, 0, g));
                } else {
                    f_end[f as usize] = f_pos.len() as u32;
                    stack.pop();
                }
            }
        }
        let folders = f_pos.len();

        // Entry order: roots, then each folder's children in folder order.
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut dir: Vec<u32> = Vec::with_capacity(n);
        order.extend_from_slice(&roots);
        dir.resize(roots.len(), NO_DIR);
        let mut f_first = Vec::with_capacity(folders + 1);
        for (f, &p) in f_pos.iter().enumerate() {
            f_first.push(order.len() as u32);
            for &c in children(p) {
                order.push(c);
                dir.push(f as u32);
            }
        }
        f_first.push(order.len() as u32);
        let mut entry_of_pos = vec![u32::MAX; n];
        for (e, &p) in order.iter().enumerate() {
            entry_of_pos[p as usize] = e as u32;
        }
        let f_entry: Vec<u32> = f_pos.iter().map(|&p| entry_of_pos[p as usize]).collect();
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
                raw.rsplit(|&b| b == b'/')
                    .find(|c| !c.is_empty())
                    .unwrap_or(raw)
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
            let hidden = d != NO_DIR && (f_hidden[d as usize] || raw.first() == Some(&b'.'));
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
            f_depth.iter().flat_map(|x| x.to_le_bytes()).collect(),
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
    pub fn from_tree(tree: &crate::vdfs::walk::Tree) -> NameIndex {
        let registry = crate::vdfs::filetype::Registry::active();
        let mut b = Builder::default();
        for i in 0..tree.len() {
            let node = tree.node(i);
            let name: &[u8] = if i == 0 {
                crate::vdfs::entry::os_bytes(tree.root().as_os_str())
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
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        crate::vdfs::fsutil::write_atomic(path, &bytes, None).map_err(io)?;
        drop(bytes);
        NameIndex::open(path)
    }

    fn from_bytes(data: Backing) -> Result<NameIndex, String> {
        let d: &[u8] = &data;
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
        let generation = rd64(&d[16..24], 0);
        let entries = rd32(&d[24..28], 0);
        let folders = rd32(&d[28..32], 0);
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
        &self.col(FOLDED)[a..b - 1]
    }

    /// Entry `i`'s exact name bytes (a root's full path).
    fn exact(&self, i: usize) -> &[u8] {
        let (a, b) = (self.exact_off(i) as usize, self.exact_off(i + 1) as usize);
        if a == b {
            self.folded(i)
        } else {
            &self.col(EXACT)[a..b]
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
            d => rd16(self.col(F_DEPTH), d as usize).saturating_add(1),
        }
    }

    fn f_entry(&self, f: u32) -> u32 {
        rd32(self.col(F_ENTRY), f as usize)
    }

    fn f_end(&self, f: u32) -> u32 {
        rd32(self.col(F_END), f as usize)
    }

    fn f_first(&self, f: u32) -> u32 {
        rd32(self.col(F_FIRST), f as usize)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries as usize
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
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

    /// The absolute path of entry `i`.
    fn path(&self, i: usize) -> PathBuf {
        let mut parts = vec![i];
        let mut d = self.dir(i);
        let mut guard = 0;
        while d != NO_DIR && guard < 100_000 {
            let e = self.f_entry(d) as usize;
            parts.push(e);
            d = self.dir(e);
            guard += 1;
        }
        let mut p = PathBuf::new();
        for &e in parts.iter().rev() {
            p.push(os_from_bytes(self.exact(e)));
        }
        p
    }

    /// The location roots: `(entry, folder)`.
    fn roots(&self) -> Vec<(u32, Option<u32>)> {
        let count = if self.folders == 0 {
            self.entries
        } else {
            self.f_first(0)
        };
        let mut f = 0;
        (0..count)
            .map(|r| {
                if self.kind(r as usize) == EntryKind::Dir && f < self.folders {
                    let this = f;
                    f = self.f_end(f);
                    (r, Some(this))
                } else {
                    (r, None)
                }
            })
            .collect()
    }

    /// The entry ranges inside `within` (its descendants; a location root below `within`
    /// with its own entry). Empty if `within` is not in the index.
    fn scope(&self, within: &Path) -> Vec<Range<u32>> {
        let mut out = Vec::new();
        let subtree = |f: u32| self.f_first(f)..self.f_first(self.f_end(f));
        for (r, folder) in self.roots() {
            let root = PathBuf::from(os_from_bytes(self.exact(r as usize)));
            if root.starts_with(within) {
                out.push(r..r + 1);
                if let Some(f) = folder {
                    out.push(subtree(f));
                }
                continue;
            }
            let (Ok(rest), Some(mut f)) = (within.strip_prefix(&root), folder) else {
                continue;
            };
            let mut found = true;
            let mut file = None;
            for comp in rest.components() {
                let name = crate::vdfs::entry::os_bytes(comp.as_os_str());
                let kids = self.f_first(f)..self.f_first(f + 1);
                let Some(e) = kids.into_iter().find(|&e| self.exact(e as usize) == name) else {
                    found = false;
                    break;
                };
                if self.kind(e as usize) != EntryKind::Dir {
                    file = Some(e);
                    break;
                }
                // Its folder number: one of f's child folders.
                let mut g = f + 1;
                while g < self.f_end(f) && self.f_entry(g) != e {
                    g = self.f_end(g);
                }
                if g >= self.f_end(f) {
                    found = false;
                    break;
                }
                f = g;
            }
            if found {
                match file {
                    Some(e) => out.push(e..e + 1),
                    None => out.push(subtree(f)),
                }
            }
        }
        out.sort_by_key(|r| r.start);
        out
    }

    /// [`Self::entry_at`] for a byte at or after entry `cur`'s name: gallops forward from
    /// `cur` first, since successive matches are usually close together.
    fn entry_from(&self, at: usize, cur: usize, hi: usize) -> usize {
        let mut lo = cur;
        let mut step = 1;
        while lo + step < hi && self.folded_off(lo + step) as usize <= at {
            lo += step;
            step *= 2;
        }
        self.entry_at(at, lo, (lo + step).min(hi))
    }

    /// The number of the entry whose folded name contains byte `at` of the folded blob,
    /// searching entries `lo..hi`.
    fn entry_at(&self, at: usize, mut lo: usize, mut hi: usize) -> usize {
        // Largest i in lo..hi with folded_off(i) <= at.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.folded_off(mid) as usize <= at {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Runs `q` over the index. `only`, if given, keeps just the entries with those ids (the
    /// library uses it for [`Query::missing_from`]).
    pub fn search_in(&self, q: &Query, only: Option<&std::collections::HashSet<u64>>) -> Results {
        let mut ranges = match &q.within {
            Some(w) => self.scope(w),
            None => std::iter::once(0..self.entries).collect(),
        };
        let text = q.text.trim().replace('\0', "");
        let scan = Scan {
            ix: self,
            q,
            filter: Filter::new(self, q, only),
            needle: fold(&text, false),
            exact_needle: fold(&text, true),
        };
        // Large scans are split between two threads (this machine's cores).
        let work: u64 = ranges.iter().map(|r| u64::from(r.end - r.start)).sum();
        let (found, fuzzy) = if work >= PARALLEL_FROM {
            let second = split_ranges(&mut ranges, work / 2);
            std::thread::scope(|sc| {
                let other = sc.spawn(|| scan.run(&second));
                let (mut found, fuzzy) = scan.run(&ranges);
                let (more, more_fuzzy) = other.join().expect("search thread");
                found.extend(more);
                (found, fuzzy + more_fuzzy)
            })
        } else {
            scan.run(&ranges)
        };
        let total = found.len();
        let hits = self.page(found, q);
        Results { hits, total, fuzzy }
    }

    /// Runs `q` (without [`Query::missing_from`], which needs the store).
    pub fn search(&self, q: &Query) -> Results {
        self.search_in(q, None)
    }

    fn folded_or_exact(&self, i: usize, q: &Query) -> &[u8] {
        if q.case_sensitive {
            self.exact(i)
        } else {
            self.folded(i)
        }
    }

    /// Orders the matches as `q.sort` asks and builds the page of hits.
    fn page(&self, mut found: Vec<Cand>, q: &Query) -> Vec<Hit> {
        let want = (q.offset + q.limit.max(1)).min(found.len());
        let cmp = |a: &Cand, b: &Cand| {
            let (ia, ib) = (a.i as usize, b.i as usize);
            let by = match q.sort {
                Sort::Relevance => a
                    .rank
                    .cmp(&b.rank)
                    .then(a.depth.cmp(&b.depth))
                    .then_with(|| self.mtime(ib).cmp(&self.mtime(ia))),
                Sort::Name => self.folded(ia).cmp(self.folded(ib)),
                Sort::Size => self.size(ib).cmp(&self.size(ia)),
                Sort::Modified => self.mtime(ib).cmp(&self.mtime(ia)),
            };
            let by = if q.reverse { by.reverse() } else { by };
            by.then_with(|| self.folded(ia).cmp(self.folded(ib)))
                .then(a.i.cmp(&b.i))
        };
        if want > 0 && want < found.len() {
            found.select_nth_unstable_by(want - 1, cmp);
            found.truncate(want);
        }
        found.sort_by(cmp);
        found
            .into_iter()
            .skip(q.offset)
            .map(|c| {
                let i = c.i as usize;
                let attr = self.attr(i);
                Hit {
                    entry: rd64(self.col(ID), i),
                    path: self.path(i),
                    kind: self.kind(i),
                    size: self.size(i),
                    mtime_ns: self.mtime(i),
                    content_kind: ContentKind::from_u8((attr >> 8) as u8),
                    copies: attr >> 16,
                    rank: c.rank,
                }
            })
            .collect()
    }
}

/// Entries per query from which the scan is split between two threads.
const PARALLEL_FROM: u64 = 200_000;

/// Cuts `ranges` after `keep` entries; returns the rest.
fn split_ranges(ranges: &mut Vec<Range<u32>>, keep: u64) -> Vec<Range<u32>> {
    let mut left = keep;
    let mut rest = Vec::new();
    let mut out = Vec::new();
    for r in ranges.drain(..) {
        let len = u64::from(r.end - r.start);
        if left >= len {
            left -= len;
            out.push(r);
        } else if left > 0 {
            let cut = r.start + left as u32;
            out.push(r.start..cut);
            rest.push(cut..r.end);
            left = 0;
        } else {
            rest.push(r);
        }
    }
    *ranges = out;
    rest
}

/// One query's matching, run over some entry ranges (possibly on several threads).
struct Scan<'a> {
    ix: &'a NameIndex,
    q: &'a Query,
    filter: Filter<'a>,
    needle: String,
    exact_needle: String,
}

impl Scan<'_> {
    /// The matches in `ranges` and how many of them are fuzzy.
    fn run(&self, ranges: &[Range<u32>]) -> (Vec<Cand>, usize) {
        let ix = self.ix;
        let q = self.q;
        let filter = &self.filter;
        let needle = &self.needle;
        let exact_needle = &self.exact_needle;
        let mut found: Vec<Cand> = Vec::new();
        let mut fuzzy = 0usize;
        let push = |found: &mut Vec<Cand>, i: usize, rank: u8| {
            found.push(Cand {
                rank,
                depth: ix.depth(i),
                i: i as u32,
            });
        };
        // A case-sensitive query is matched on folded names first, then checked exactly.
        let case_ok = |i: usize| {
            if !q.case_sensitive {
                return true;
            }
            let exact = fold(&String::from_utf8_lossy(ix.exact(i)), true);
            if q.mode == NameMatch::Prefix {
                exact.starts_with(exact_needle.as_str())
            } else {
                exact.contains(exact_needle.as_str())
            }
        };
        match q.mode {
            _ if needle.is_empty() => {
                for r in ranges {
                    for i in r.start as usize..r.end as usize {
                        if filter.pass(i) {
                            push(&mut found, i, 3);
                        }
                    }
                }
            }
            NameMatch::Glob => {
                let glob = globset::GlobBuilder::new(exact_needle)
                    .case_insensitive(!q.case_sensitive)
                    .literal_separator(true)
                    .build()
                    .map(|g| g.compile_matcher());
                if let Ok(g) = glob {
                    for r in ranges {
                        for i in r.start as usize..r.end as usize {
                            if filter.pass(i) && g.is_match(os_from_bytes(ix.folded_or_exact(i, q)))
                            {
                                push(&mut found, i, 3);
                            }
                        }
                    }
                }
            }
            NameMatch::Prefix | NameMatch::Smart => {
                let prefix = q.mode == NameMatch::Prefix;
                let pattern = if prefix {
                    [b"\0", needle.as_bytes()].concat()
                } else {
                    needle.as_bytes().to_vec()
                };
                let finder = memchr::memmem::Finder::new(&pattern);
                let blob = ix.col(FOLDED);
                let mut matched: Vec<u32> = Vec::new();
                for r in ranges {
                    if r.is_empty() {
                        continue;
                    }
                    let (lo, hi) = (r.start as usize, r.end as usize);
                    // Byte span of these names; a prefix pattern starts at the `\0` before.
                    let start = ix.folded_off(lo) as usize - usize::from(prefix);
                    let end = ix.folded_off(hi) as usize;
                    let mut pos = start;
                    let mut cur = lo;
                    while pos < end {
                        let Some(m) = finder.find(&blob[pos..end]) else {
                            break;
                        };
                        let at = pos + m + usize::from(prefix);
                        let i = ix.entry_from(at, cur, hi);
                        cur = i;
                        pos = ix.folded_off(i + 1) as usize - usize::from(prefix);
                        let name = ix.folded(i);
                        let off = at - ix.folded_off(i) as usize;
                        let rank = if off == 0 {
                            u8::from(name.len() != needle.len())
                        } else if word_start(name, off)
                            || memchr::memmem::find_iter(&name[off + 1..], needle.as_bytes())
                                .any(|o| word_start(name, off + 1 + o))
                        {
                            2
                        } else {
                            3
                        };
                        matched.push(i as u32);
                        if filter.pass(i) && case_ok(i) {
                            push(&mut found, i, rank);
                        }
                    }
                }
                // Fuzzy: the needle's characters in order, within a window three times its
                // length; names that contain it outright were ranked above.
                let chars = needle.chars().count();
                if !prefix && chars >= 3 {
                    let nm = mask_of(needle.as_bytes());
                    let masks = ix.col(MASK);
                    let mut next = matched.iter().peekable();
                    for r in ranges {
                        for i in r.start as usize..r.end as usize {
                            if rd32(masks, i) & nm != nm {
                                continue;
                            }
                            while next.peek().is_some_and(|&&m| (m as usize) < i) {
                                next.next();
                            }
                            if next.peek().is_some_and(|&&m| m as usize == i) {
                                continue;
                            }
                            if subsequence_within(ix.folded(i), needle, chars * 3)
                                && filter.pass(i)
                                && case_ok(i)
                            {
                                fuzzy += 1;
                                push(&mut found, i, 4);
                            }
                        }
                    }
                }
            }
        }
        (found, fuzzy)
    }
}

/// A match: its rank, its depth and its entry number.
#[derive(Clone, Copy)]
struct Cand {
    rank: u8,
    depth: u16,
    i: u32,
}

/// The non-name filters of a query, prepared once.
struct Filter<'a> {
    ix: &'a NameIndex,
    q: &'a Query,
    kinds: u32,
    mimes: Option<Vec<bool>>,
    only: Option<&'a std::collections::HashSet<u64>>,
    trivial: bool,
}

impl<'a> Filter<'a> {
    fn new(
        ix: &'a NameIndex,
        q: &'a Query,
        only: Option<&'a std::collections::HashSet<u64>>,
    ) -> Filter<'a> {
        let kinds = q.kinds.iter().fold(0u32, |m, k| m | 1 << (*k as u8));
        let mimes = (!q.mime.is_empty()).then(|| {
            let table = ix.col(MIME_TABLE);
            std::iter::once(false)
                .chain(table.split(|&b| b == b'\n').map(|m| {
                    let m = String::from_utf8_lossy(m);
                    q.mime.iter().any(|want| {
                        let want = want.trim().to_ascii_lowercase();
                        match want
                            .strip_suffix('*')
                            .or_else(|| want.ends_with('/').then_some(want.as_str()))
                        {
                            Some(prefix) => m.starts_with(prefix),
                            None => m == want,
                        }
                    })
                }))
                .collect()
        });
        let trivial = q.include_hidden
            && q.kinds.is_empty()
            && q.size.is_none()
            && q.modified.is_none()
            && q.indexed.is_none()
            && q.min_copies.is_none()
            && q.extensions.is_empty()
            && q.entry_kinds.is_empty()
            && mimes.is_none()
            && only.is_none();
        Filter {
            ix,
            q,
            kinds,
            mimes,
            only,
            trivial,
        }
    }

    #[inline]
    fn pass(&self, i: usize) -> bool {
        if self.trivial {
            return true;
        }
        let ix = self.ix;
        let q = self.q;
        let attr = ix.attr(i);
        if attr & ATTR_HIDDEN != 0 && !q.include_hidden {
            return false;
        }
        let kind = EntryKind::from_u8((attr & 0xf) as u8);
        if !q.entry_kinds.is_empty() && !q.entry_kinds.contains(&kind) {
            return false;
        }
        if self.kinds != 0 && self.kinds & (1 << ((attr >> 8) & 0x1f)) == 0 {
            return false;
        }
        if let Some(m) = q.min_copies
            && u64::from(attr >> 16) < m
        {
            return false;
        }
        if let Some((lo, hi)) = q.size {
            let s = ix.size(i);
            if kind == EntryKind::Dir || s < lo || s > hi {
                return false;
            }
        }
        if let Some((lo, hi)) = q.modified {
            let t = ix.mtime(i);
            if t < lo || t > hi {
                return false;
            }
        }
        if let Some((lo, hi)) = q.indexed {
            let t = i64::from(rd32(ix.col(INDEXED), i)) * 1_000_000_000;
            if t < lo || t > hi {
                return false;
            }
        }
        if !q.extensions.is_empty() {
            let Some(ext) = extension_of(ix.folded(i)) else {
                return false;
            };
            if !q.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)) {
                return false;
            }
        }
        if let Some(mimes) = &self.mimes
            && !mimes
                .get(usize::from(rd16(ix.col(MIME), i)))
                .copied()
                .unwrap_or(false)
        {
            return false;
        }
        if let Some(only) = self.only
            && !only.contains(&rd64(ix.col(ID), i))
        {
            return false;
        }
        true
    }
}

/// True if the character ending just before byte `at` of `name` is not alphanumeric (or
/// there is none).
pub(crate) fn word_start(name: &[u8], at: usize) -> bool {
    if at == 0 {
        return true;
    }
    let mut s = at - 1;
    while s > 0 && name[s] & 0xC0 == 0x80 {
        s -= 1;
    }
    std::str::from_utf8(&name[s..at])
        .ok()
        .and_then(|c| c.chars().next())
        .is_none_or(|c| !c.is_alphanumeric())
}

/// True if `needle`'s characters occur in `hay` in order within a window of at most
/// `window` characters (bytes, for an ASCII needle).
pub(crate) fn subsequence_within(hay: &[u8], needle: &str, window: usize) -> bool {
    if needle.is_ascii() {
        let n = needle.as_bytes();
        let first = n[0];
        let mut from = 0;
        while let Some(s) = memchr::memchr(first, &hay[from..]) {
            let s = from + s;
            let mut k = 1;
            let mut j = s + 1;
            while k < n.len() && j < hay.len() && j - s < window {
                if hay[j] == n[k] {
                    k += 1;
                }
                j += 1;
            }
            if k == n.len() {
                return true;
            }
            if j >= hay.len() {
                // Not even the rest of the name holds the needle from here on.
                return false;
            }
            from = s + 1;
        }
        false
    } else {
        let Ok(h) = std::str::from_utf8(hay) else {
            return false;
        };
        let hc: Vec<char> = h.chars().collect();
        let nc: Vec<char> = needle.chars().collect();
        for s in 0..hc.len() {
            if hc[s] != nc[0] {
                continue;
            }
            let mut k = 1;
            let mut j = s + 1;
            while k < nc.len() && j < hc.len() && j - s < window {
                if hc[j] == nc[k] {
                    k += 1;
                }
                j += 1;
            }
            if k == nc.len() {
                return true;
            }
            if j >= hc.len() {
                return false;
            }
        }
        false
    }
}

/// Reads every entry and content record in one read transaction and lays out the index.
fn build_bytes(store: &Store) -> Result<Vec<u8>, StoreError> {
    store.read(|tx| {
        let generation = read_generation(tx)?;
        let mut b = Builder::default();
        let mut content: std::collections::HashMap<u64, (u64, u16)> =
            std::collections::HashMap::new();
        for row in tx.open_table(CONTENT)?.iter()? {
            let (k, v) = row?;
            let rec: ContentRecord = decode("content", v.value())?;
            let mime = b.mime_id(rec.mime.as_deref());
            content.insert(k.value(), (rec.instances, mime));
        }
        for row in tx.open_table(ENTRIES)?.iter()? {
            let (k, v) = row?;
            let rec: EntryRecord = decode("entries", v.value())?;
            let (copies, mime) = rec
                .cas
                .and_then(|c| content.get(&c.0).copied())
                .unwrap_or((1, 0));
            b.push(
                k.value(),
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
        Ok(b.finish(generation, false))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsequence_respects_the_window() {
        assert!(subsequence_within(b"r-e-a-d-m-e", "readme", 18));
        assert!(!subsequence_within(b"r-e-a-d-m-e", "readme", 6));
        assert!(subsequence_within(b"xxreadme", "rdme", 12));
        assert!(!subsequence_within(b"emdaer", "readme", 18));
        assert!(subsequence_within("montréal".as_bytes(), "mtré", 12));
    }

    #[test]
    fn word_starts() {
        assert!(word_start(b"old-readme", 4));
        assert!(!word_start(b"myreadme", 2));
        assert!(word_start("é readme".as_bytes(), 3));
        assert!(!word_start("éreadme".as_bytes(), 2));
    }

    #[test]
    fn masks_cover_needles() {
        assert_eq!(mask_of(b"readme") & !mask_of(b"my-readme.txt"), 0);
        assert_ne!(mask_of(b"zq") & !mask_of(b"readme"), 0);
    }
}
