//! Running a [`Query`] over a [`NameIndex`]: scopes as entry ranges, one scan of the folded
//! names for substring and prefix matches, a mask-prefiltered pass for fuzzy ones, the
//! non-name filters, and the ranked page of hits.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::vdfs::content::filetype::ContentKind;
use crate::vdfs::fs::entry::os_from_bytes;
use crate::vdfs::query::search::names::{
    ATTR_HIDDEN, EntryKind, FOLDED, ID, INDEXED, MASK, MIME, MIME_TABLE, NO_DIR, NameIndex,
    mask_of, rd16, rd32, rd64,
};
use crate::vdfs::query::search::{
    FUZZY_MIN_CHARS, Hit, NameMatch, Query, Results, Sort, fold, fuzzy_match, rank_at,
    substring_rank,
};

impl NameIndex {
    /// The absolute path of entry `i`.
    fn path(&self, i: usize) -> PathBuf {
        let mut parts = vec![i];
        let mut d = self.dir(i);
        let mut guard = 0;
        while d != NO_DIR && guard < 4096 {
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
    /// Also says whether `within` itself is hidden (then what is in it is shown).
    fn scope(&self, within: &Path) -> (Vec<Range<u32>>, bool) {
        let mut hidden = false;
        let mut out = Vec::new();
        let subtree = |f: u32| {
            let end = self.f_first(self.f_end(f));
            self.f_first(f).min(end)..end
        };
        for (r, folder) in self.roots() {
            let root = PathBuf::from(os_from_bytes(self.exact(r as usize)));
            if root.starts_with(within) {
                // Everything below `within`: the root itself unless it is `within`.
                if root != within {
                    out.push(r..r + 1);
                }
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
                let name = crate::vdfs::fs::entry::os_bytes(comp.as_os_str());
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
                    None => {
                        hidden |= self.attr(self.f_entry(f) as usize) & ATTR_HIDDEN != 0;
                        out.push(subtree(f));
                    }
                }
            }
        }
        out.sort_by_key(|r| r.start);
        (out, hidden)
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
        self.search_masked(q, only, None)
    }

    /// [`NameIndex::search_in`] that also leaves out the entries with the ids in `except`
    /// (entries changed since this index was built, searched in an overlay instead).
    pub fn search_masked(
        &self,
        q: &Query,
        only: Option<&std::collections::HashSet<u64>>,
        except: Option<&std::collections::HashSet<u64>>,
    ) -> Results {
        let (mut ranges, scope_hidden) = match &q.within {
            Some(w) => self.scope(w),
            None => (std::iter::once(0..self.entries).collect(), false),
        };
        let text = q.text.trim().replace('\0', "");
        let scan = Scan {
            ix: self,
            q,
            filter: Filter::new(self, q, only, except, q.include_hidden || scope_hidden),
            needle: fold(&text, false),
            exact_needle: fold(&text, true),
        };
        // Large scans are shared by two threads (this machine's cores) in chunks of CHUNK
        // entries that each takes in turn: when another program holds a core and one thread
        // is not running, the other scans the rest, and waits at the end for one chunk at
        // most (halves fixed in advance made it wait for the whole other half).
        let work: u64 = ranges.iter().map(|r| u64::from(r.end - r.start)).sum();
        let parallel = work >= PARALLEL_FROM;
        let chunks = if parallel {
            let mut chunks = Vec::new();
            while !ranges.is_empty() {
                let rest = split_ranges(&mut ranges, CHUNK);
                chunks.push(std::mem::replace(&mut ranges, rest));
            }
            chunks
        } else {
            vec![ranges]
        };
        // The names that contain the text, then (only when they are few) the close ones.
        let exact = each_chunk(&chunks, parallel, |_, c| scan.run(c));
        let real: usize = exact.iter().map(|(f, _)| f.len()).sum();
        let close = if scan.close_applies() && real < CLOSE_WHEN_FEWER {
            each_chunk(&chunks, parallel, |k, c| scan.close(c, &exact[k].1))
        } else {
            Vec::new()
        };
        let fuzzy = close.iter().map(Vec::len).sum();
        let mut found = Vec::with_capacity(real + fuzzy);
        for (f, _) in exact {
            found.extend(f);
        }
        for f in close {
            found.extend(f);
        }
        let total = found.len();
        let hits = self.page(found, q);
        Results { hits, total, fuzzy }
    }

    /// Runs `q` (without [`Query::missing_from`], which needs the store).
    pub fn search(&self, q: &Query) -> Results {
        self.search_in(q, None)
    }

    /// Orders the matches as `q.sort` asks and builds the page of hits.
    fn page(&self, mut found: Vec<Cand>, q: &Query) -> Vec<Hit> {
        if q.limit == 0 {
            return Vec::new();
        }
        let want = q.offset.saturating_add(q.limit).min(found.len());
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
            // In any order, names that contain the text come before the merely similar ones.
            (a.rank == 4)
                .cmp(&(b.rank == 4))
                .then(by)
                .then_with(|| self.folded(ia).cmp(self.folded(ib)))
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
/// Entries per chunk of a scan shared by two threads.
const CHUNK: u64 = 32_768;

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

/// Close (fuzzy) matches are looked for only when fewer names than this contain the text: they
/// help find a name half-remembered, and are noise after thousands of real matches (which
/// they would follow in every order), where they cost most of a short query's time.
pub const CLOSE_WHEN_FEWER: usize = 1_000;

/// `f(k, chunk)` over each of `chunks`, in chunk order; on two threads taking chunks in turn when
/// `parallel` (when another program holds a core and one thread is not running, the other
/// scans the rest, and waits at the end for one chunk at most).
fn each_chunk<T: Send>(
    chunks: &[Vec<Range<u32>>],
    parallel: bool,
    f: impl Fn(usize, &Vec<Range<u32>>) -> T + Sync,
) -> Vec<T> {
    if !parallel {
        return chunks.iter().enumerate().map(|(k, c)| f(k, c)).collect();
    }
    let next = AtomicUsize::new(0);
    let take = || {
        let mut out = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(c) = chunks.get(k) else {
                return out;
            };
            out.push((k, f(k, c)));
        }
    };
    let mut all = std::thread::scope(|sc| {
        let other = sc.spawn(take);
        let mut mine = take();
        mine.extend(other.join().expect("search thread"));
        mine
    });
    all.sort_unstable_by_key(|(k, _)| *k);
    all.into_iter().map(|(_, t)| t).collect()
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
    /// Whether this query looks for close matches at all: a smart (substring) query of at
    /// least [`FUZZY_MIN_CHARS`] characters.
    fn close_applies(&self) -> bool {
        self.q.mode == NameMatch::Smart && self.needle.chars().count() >= FUZZY_MIN_CHARS
    }

    /// The close matches in `ranges`: the needle's characters in order, within a window three
    /// times its length, in names not among `matched` (those containing it outright, in
    /// entry order, found by [`Scan::run`] over the same ranges).
    fn close(&self, ranges: &[Range<u32>], matched: &[u32]) -> Vec<Cand> {
        let ix = self.ix;
        let q = self.q;
        let needle = &self.needle;
        let exact_needle = &self.exact_needle;
        let window = needle.chars().count() * 3;
        let nm = mask_of(needle.as_bytes());
        let masks = ix.col(MASK);
        let mut next = matched.iter().peekable();
        let mut found = Vec::new();
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
                // A case-sensitive close match is found on folded names, then checked on the
                // NFC name with its case.
                if subsequence_within(ix.folded(i), needle, window)
                    && self.filter.pass(i)
                    && (!q.case_sensitive || {
                        let exact = fold(&String::from_utf8_lossy(ix.exact_name(i)), true);
                        fuzzy_match(exact.as_bytes(), exact_needle)
                    })
                {
                    found.push(Cand {
                        rank: 4,
                        depth: ix.depth(i),
                        i: i as u32,
                    });
                }
            }
        }
        found
    }

    /// The matches in `ranges` that contain the text (or match the pattern), and the entries
    /// whose names contain it whether or not they pass the other filters (for [`Scan::close`]).
    fn run(&self, ranges: &[Range<u32>]) -> (Vec<Cand>, Vec<u32>) {
        let ix = self.ix;
        let q = self.q;
        let filter = &self.filter;
        let needle = &self.needle;
        let exact_needle = &self.exact_needle;
        let mut found: Vec<Cand> = Vec::new();
        let mut matched: Vec<u32> = Vec::new();
        let push = |found: &mut Vec<Cand>, i: usize, rank: u8| {
            found.push(Cand {
                rank,
                depth: ix.depth(i),
                i: i as u32,
            });
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
                // Folded pattern over folded names (Unicode case folding, which globset's
                // case-insensitive option does only for ASCII), or NFC over NFC names.
                let pattern = if q.case_sensitive {
                    exact_needle
                } else {
                    needle
                };
                let glob = globset::GlobBuilder::new(pattern)
                    .literal_separator(true)
                    .build()
                    .map(|g| g.compile_matcher());
                if let Ok(g) = glob {
                    for r in ranges {
                        for i in r.start as usize..r.end as usize {
                            let hit = if q.case_sensitive {
                                let exact = fold(&String::from_utf8_lossy(ix.exact_name(i)), true);
                                g.is_match(exact.as_str())
                            } else {
                                g.is_match(os_from_bytes(ix.folded(i)))
                            };
                            if hit && filter.pass(i) {
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
                for r in ranges {
                    if r.is_empty() {
                        continue;
                    }
                    let (lo, hi) = (r.start as usize, r.end as usize);
                    // Byte span of these names; a prefix pattern starts at the `\0` before.
                    let start = (ix.folded_off(lo) as usize).saturating_sub(usize::from(prefix));
                    let end = (ix.folded_off(hi) as usize).min(blob.len());
                    let mut pos = start;
                    let mut cur = lo;
                    while pos < end {
                        let Some(m) = finder.find(&blob[pos..end]) else {
                            break;
                        };
                        let at = pos + m + usize::from(prefix);
                        let i = ix.entry_from(at, cur, hi);
                        cur = i;
                        // On to the next name (always forward, even over a damaged file).
                        pos = (ix.folded_off(i + 1) as usize)
                            .saturating_sub(usize::from(prefix))
                            .max(pos + m + 1);
                        let name = ix.folded(i);
                        let Some(off) = at
                            .checked_sub(ix.folded_off(i) as usize)
                            .filter(|&o| o < name.len())
                        else {
                            continue; // only in a damaged file
                        };
                        // The rank comes from the name as it is compared: folded, or NFC
                        // with its case for a case-sensitive query (which may then not
                        // contain the text at all, and stays open to the fuzzy pass).
                        let rank = if q.case_sensitive {
                            let exact = fold(&String::from_utf8_lossy(ix.exact_name(i)), true);
                            if prefix {
                                exact
                                    .starts_with(exact_needle.as_str())
                                    .then(|| u8::from(exact.len() != exact_needle.len()))
                            } else {
                                substring_rank(exact.as_bytes(), exact_needle.as_bytes())
                            }
                        } else if prefix {
                            Some(u8::from(name.len() != needle.len()))
                        } else {
                            Some(rank_at(name, &finder, off))
                        };
                        let Some(rank) = rank else { continue };
                        matched.push(i as u32);
                        if filter.pass(i) {
                            push(&mut found, i, rank);
                        }
                    }
                }
            }
        }
        (found, matched)
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
    only: Option<IdSet<'a>>,
    except: Option<&'a std::collections::HashSet<u64>>,
    include_hidden: bool,
    /// Each wanted extension as a folded `.ext` suffix.
    suffixes: Vec<Vec<u8>>,
    trivial: bool,
}

impl<'a> Filter<'a> {
    fn new(
        ix: &'a NameIndex,
        q: &'a Query,
        only: Option<&'a std::collections::HashSet<u64>>,
        except: Option<&'a std::collections::HashSet<u64>>,
        include_hidden: bool,
    ) -> Filter<'a> {
        let suffixes = q
            .extensions
            .iter()
            .map(|e| format!(".{}", fold(e.trim().trim_start_matches('.'), false)).into_bytes())
            .collect();
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
        let trivial = include_hidden
            && q.kinds.is_empty()
            && q.size.is_none()
            && q.modified.is_none()
            && q.indexed.is_none()
            && q.min_copies.is_none()
            && q.extensions.is_empty()
            && q.entry_kinds.is_empty()
            && mimes.is_none()
            && only.is_none()
            && except.is_none();
        Filter {
            ix,
            q,
            kinds,
            mimes,
            only: only.map(IdSet::new),
            except,
            include_hidden,
            suffixes,
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
        if attr & ATTR_HIDDEN != 0 && !self.include_hidden {
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
        if !self.suffixes.is_empty() {
            // `.ext` at the end of the folded name, not the whole name (`.bashrc` has none).
            let name = ix.folded(i);
            if !self
                .suffixes
                .iter()
                .any(|x| name.len() > x.len() && name.ends_with(x))
            {
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
        if let Some(only) = &self.only
            && !only.contains(rd64(ix.col(ID), i))
        {
            return false;
        }
        if let Some(except) = self.except
            && except.contains(&rd64(ix.col(ID), i))
        {
            return false;
        }
        true
    }
}

/// The entry ids a search keeps ([`NameIndex::search_in`]'s `only`: a tag's entries, a
/// collection's), looked up once per entry scanned. Entry ids are `location << 40 | n` with
/// `n` dense, so each location's ids become a bitmap (a lookup is a shift and a bit test, not
/// a hash: with a tag on 133,624 of the L tree's 937,951 entries, `benches/tags.sh` went from
/// a median of 11.3–13.5 ms to 4.2–4.4 ms per query); a set too
/// sparse for bits (a bitmap more than 16 times the size of the set) stays a hash set.
enum IdSet<'a> {
    /// Per location id, one bit per `n`.
    Bits(Vec<(u64, Vec<u64>)>),
    /// The set as given.
    Hash(&'a std::collections::HashSet<u64>),
}

impl<'a> IdSet<'a> {
    fn new(set: &'a std::collections::HashSet<u64>) -> IdSet<'a> {
        let low = (1u64 << crate::vdfs::index::ENTRY_ID_BITS) - 1;
        let mut top: Vec<(u64, u64)> = Vec::new();
        for &id in set {
            let (loc, n) = (id >> crate::vdfs::index::ENTRY_ID_BITS, id & low);
            match top.iter_mut().find(|(l, _)| *l == loc) {
                Some((_, m)) => *m = (*m).max(n),
                None => top.push((loc, n)),
            }
        }
        let words: u64 = top.iter().map(|(_, m)| m / 64 + 1).sum();
        // 16 times the size of the set, in 8-byte words: sparser sets keep their hash.
        if words.saturating_mul(8) > (set.len() as u64).saturating_mul(16 * 8).max(1 << 16) {
            return IdSet::Hash(set);
        }
        let mut bits: Vec<(u64, Vec<u64>)> = top
            .iter()
            .map(|(l, m)| (*l, vec![0u64; (m / 64 + 1) as usize]))
            .collect();
        for &id in set {
            let (loc, n) = (id >> crate::vdfs::index::ENTRY_ID_BITS, id & low);
            if let Some((_, b)) = bits.iter_mut().find(|(l, _)| *l == loc) {
                b[(n / 64) as usize] |= 1 << (n % 64);
            }
        }
        IdSet::Bits(bits)
    }

    #[inline]
    fn contains(&self, id: u64) -> bool {
        match self {
            IdSet::Hash(h) => h.contains(&id),
            IdSet::Bits(bits) => {
                let loc = id >> crate::vdfs::index::ENTRY_ID_BITS;
                let n = id & ((1u64 << crate::vdfs::index::ENTRY_ID_BITS) - 1);
                bits.iter().find(|(l, _)| *l == loc).is_some_and(|(_, b)| {
                    b.get((n / 64) as usize)
                        .is_some_and(|w| w & (1 << (n % 64)) != 0)
                })
            }
        }
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
        // ASCII bytes never occur inside a multi-byte character: bytes are characters here.
        within(hay, needle.as_bytes(), window)
    } else {
        let Ok(h) = std::str::from_utf8(hay) else {
            return false;
        };
        let hc: Vec<char> = h.chars().collect();
        let nc: Vec<char> = needle.chars().collect();
        within(&hc, &nc, window)
    }
}

/// True if `n` occurs in `hay` in order within `window` items, starting from any occurrence
/// of its first item (greedy from each start; later starts only shrink the room left).
fn within<T: PartialEq>(hay: &[T], n: &[T], window: usize) -> bool {
    let Some(first) = n.first() else {
        return true;
    };
    for s in (0..hay.len()).filter(|&s| hay[s] == *first) {
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
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bitmap of an id set answers exactly as the set: ids of several locations, the
    /// edges of a word, ids beyond every bitmap; a sparse set keeps its hash.
    #[test]
    fn an_id_set_as_bits_answers_as_the_set() {
        let id = |loc: u64, n: u64| loc << crate::vdfs::index::ENTRY_ID_BITS | n;
        let mut seed = 7u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut set = std::collections::HashSet::new();
        for _ in 0..5000 {
            let loc = 1 + next() % 3;
            set.insert(id(loc, next() % 20_000));
        }
        set.extend([id(1, 0), id(1, 63), id(1, 64), id(2, 127)]);
        let bits = IdSet::new(&set);
        assert!(matches!(bits, IdSet::Bits(_)));
        for loc in 0..5 {
            for n in (0..21_000).chain([1 << 39, (1 << 40) - 1]) {
                assert_eq!(
                    bits.contains(id(loc, n)),
                    set.contains(&id(loc, n)),
                    "{loc} {n}"
                );
            }
        }
        let sparse: std::collections::HashSet<u64> =
            [id(1, 5), id(1, 1 << 39), id(4, 3)].into_iter().collect();
        let s = IdSet::new(&sparse);
        assert!(matches!(s, IdSet::Hash(_)));
        assert!(s.contains(id(1, 1 << 39)) && !s.contains(id(1, 6)));
    }

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
