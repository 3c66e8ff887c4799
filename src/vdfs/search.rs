//! Search over the index: one query type for the CLI, the window and (later) plugins and
//! peers.
//!
//! Names are compared after Unicode normalisation (NFC) and, unless the query is
//! case-sensitive, lower-casing, so `Montréal` matches whether it was typed or stored composed
//! or decomposed. Ranking: exact name > prefix > word start > substring > fuzzy (the query's
//! characters in order), then shorter path, then most recently modified.
//!
//! This first version scans an in-memory [`NameIndex`] built from the store; the persistent
//! name index that makes cold queries as fast as warm ones is a later step.

use std::path::PathBuf;

use redb::ReadableTable;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::entry::{EntryKind, os_from_bytes};
use super::filetype::{ContentKind, extension_of};
use super::index::EntryRecord;
use crate::store::schema::{CONTENT, ENTRIES};
use crate::store::{Store, StoreError, decode};

/// How the name part of a query matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameMatch {
    /// Anywhere in the name, ranked exact > prefix > word start > substring; names that only
    /// contain the query's characters in order also match, ranked last.
    #[default]
    Smart,
    /// Only names starting with the text.
    Prefix,
    /// A shell glob over the whole name (`*.jpg`, `IMG_??.png`).
    Glob,
}

/// A search query. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Text to find in names.
    pub text: String,
    /// How `text` matches.
    pub mode: NameMatch,
    /// Compare case exactly.
    pub case_sensitive: bool,
    /// Extensions (lower case, no dot).
    pub extensions: Vec<String>,
    /// Content kinds.
    pub kinds: Vec<ContentKind>,
    /// Size range in bytes (inclusive).
    pub size: Option<(u64, u64)>,
    /// Modification time range, ns since the epoch (inclusive).
    pub modified: Option<(i64, i64)>,
    /// Only below this folder.
    pub within: Option<PathBuf>,
    /// Include names starting with a dot.
    pub include_hidden: bool,
    /// Only files whose content has at least this many copies.
    pub min_copies: Option<u64>,
    /// Results to return.
    pub limit: usize,
    /// Results to skip.
    pub offset: usize,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Entry id.
    pub entry: u64,
    /// Absolute path.
    pub path: PathBuf,
    /// Kind.
    pub kind: EntryKind,
    /// Bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Content kind.
    pub content_kind: ContentKind,
    /// How the name matched (0 exact … 4 fuzzy).
    pub rank: u8,
}

/// Results and the number of all matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Results {
    /// The page of results asked for, best first.
    pub hits: Vec<Hit>,
    /// How many entries match in all.
    pub total: usize,
}

struct Row {
    id: u64,
    parent: u64,
    name_off: u32,
    name_len: u16,
    kind: EntryKind,
    content_kind: ContentKind,
    hidden: bool,
    depth: u16,
    size: u64,
    mtime_ns: i64,
    copies: u32,
}

/// The names of every entry, normalised for matching, with the fields filters need.
#[derive(Default)]
pub struct NameIndex {
    rows: Vec<Row>,
    /// Exact name bytes (paths of results are built from these, so they exist on disk).
    names: Vec<u8>,
    /// NFC, lower-cased names, for matching.
    folded: String,
    folded_off: Vec<(u32, u16)>,
    /// Folders, for paths of results and depths.
    dirs: super::index::DirTree,
}

/// NFC and, unless `case_sensitive`, lower case.
pub fn fold(s: &str, case_sensitive: bool) -> String {
    let nfc: String = s.nfc().collect();
    if case_sensitive {
        nfc
    } else {
        nfc.to_lowercase()
    }
}

impl NameIndex {
    /// Builds the index from every entry of the store.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn build(store: &Store) -> Result<NameIndex, StoreError> {
        store.read(|tx| {
            let t = tx.open_table(ENTRIES)?;
            let c = tx.open_table(CONTENT)?;
            let mut ix = NameIndex::default();
            let mut depth_of: std::collections::HashMap<u64, u16> =
                std::collections::HashMap::new();
            // Two passes over the table (folders, then everything) rather than holding every
            // decoded record at once.
            for row in t.iter()? {
                let (k, v) = row?;
                let rec: EntryRecord = decode("entries", v.value())?;
                if rec.kind == EntryKind::Dir {
                    ix.dirs.insert(k.value(), rec.parent, rec.name);
                }
            }
            for row in t.iter()? {
                let (k, v) = row?;
                let id = k.value();
                let rec: EntryRecord = decode("entries", v.value())?;
                let depth = depth(&ix.dirs, &mut depth_of, rec.parent);
                let folded = fold(&String::from_utf8_lossy(&rec.name), false);
                let copies = match rec.cas {
                    Some(cas) => c
                        .get(cas.0)?
                        .map(|v| decode::<super::index::ContentRecord>("content", v.value()))
                        .transpose()?
                        .map_or(1, |r| r.instances.min(u32::MAX as u64) as u32),
                    None => 1,
                };
                ix.rows.push(Row {
                    id,
                    parent: rec.parent,
                    name_off: ix.names.len() as u32,
                    name_len: rec.name.len().min(u16::MAX as usize) as u16,
                    kind: rec.kind,
                    content_kind: rec.content_kind,
                    hidden: rec.is_hidden(),
                    depth,
                    size: rec.size,
                    mtime_ns: rec.mtime_ns,
                    copies,
                });
                ix.names.extend_from_slice(&rec.name);
                ix.folded_off.push((
                    ix.folded.len() as u32,
                    folded.len().min(u16::MAX as usize) as u16,
                ));
                ix.folded.push_str(&folded);
            }
            Ok(ix)
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn raw_name(&self, i: usize) -> &[u8] {
        let r = &self.rows[i];
        &self.names[r.name_off as usize..r.name_off as usize + r.name_len as usize]
    }

    fn name(&self, i: usize) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.raw_name(i))
    }

    fn folded_name(&self, i: usize) -> &str {
        let (o, l) = self.folded_off[i];
        &self.folded[o as usize..o as usize + l as usize]
    }

    /// Runs `q`.
    pub fn search(&self, q: &Query) -> Results {
        let needle = fold(q.text.trim(), q.case_sensitive);
        let glob = (q.mode == NameMatch::Glob && !needle.is_empty())
            .then(|| {
                globset::GlobBuilder::new(&needle)
                    .case_insensitive(!q.case_sensitive)
                    .literal_separator(true)
                    .build()
                    .ok()
                    .map(|g| g.compile_matcher())
            })
            .flatten();
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let mut memo = std::collections::HashMap::new();
        let within = q.within.as_deref();
        let mut matches: Vec<(u8, u16, i64, usize)> = Vec::new();
        for (i, r) in self.rows.iter().enumerate() {
            if r.hidden && !q.include_hidden {
                continue;
            }
            if let Some((lo, hi)) = q.size
                && (r.kind == EntryKind::Dir || r.size < lo || r.size > hi)
            {
                continue;
            }
            if let Some((lo, hi)) = q.modified
                && (r.mtime_ns < lo || r.mtime_ns > hi)
            {
                continue;
            }
            if !q.kinds.is_empty() && !q.kinds.contains(&r.content_kind) {
                continue;
            }
            if q.min_copies.is_some_and(|m| u64::from(r.copies) < m) {
                continue;
            }
            if !q.extensions.is_empty() {
                let ext = extension_of(self.raw_name(i)).map(str::to_ascii_lowercase);
                if !ext.is_some_and(|e| q.extensions.iter().any(|x| x == &e)) {
                    continue;
                }
            }
            let exact;
            let hay = if q.case_sensitive {
                exact = fold(&self.name(i), true);
                exact.as_str()
            } else {
                self.folded_name(i)
            };
            let rank = match (&glob, q.mode) {
                (Some(g), _) => {
                    if g.is_match(self.name(i).as_ref()) {
                        3
                    } else {
                        continue;
                    }
                }
                _ if needle.is_empty() => 3,
                (None, NameMatch::Prefix) => {
                    if hay.starts_with(&needle) {
                        if hay == needle { 0 } else { 1 }
                    } else {
                        continue;
                    }
                }
                (None, _) => match rank_with(&finder, hay, &needle) {
                    Some(r) => r,
                    None => continue,
                },
            };
            if let Some(w) = within {
                let Some(dir) = self.dirs.path(&mut memo, r.parent) else {
                    continue;
                };
                if !dir.starts_with(w) && dir.join(os_from_bytes(self.raw_name(i))) != w {
                    continue;
                }
            }
            matches.push((rank, r.depth, r.mtime_ns, i));
        }
        let total = matches.len();
        let want = (q.offset + q.limit.max(1)).min(total);
        let cmp = |a: &(u8, u16, i64, usize), b: &(u8, u16, i64, usize)| {
            a.0.cmp(&b.0)
                .then(a.1.cmp(&b.1))
                .then(b.2.cmp(&a.2))
                .then_with(|| self.raw_name(a.3).cmp(self.raw_name(b.3)))
        };
        if want < matches.len() && want > 0 {
            matches.select_nth_unstable_by(want - 1, cmp);
            matches.truncate(want);
        }
        matches.sort_by(cmp);
        let hits = matches
            .into_iter()
            .skip(q.offset)
            .filter_map(|(rank, _, _, i)| {
                let r = &self.rows[i];
                let name = os_from_bytes(self.raw_name(i));
                let path = if r.parent == 0 {
                    PathBuf::from(name)
                } else {
                    self.dirs.path(&mut memo, r.parent)?.join(name)
                };
                Some(Hit {
                    entry: r.id,
                    path,
                    kind: r.kind,
                    size: r.size,
                    mtime_ns: r.mtime_ns,
                    content_kind: r.content_kind,
                    rank,
                })
            })
            .collect();
        Results { hits, total }
    }
}

fn depth(
    dirs: &super::index::DirTree,
    memo: &mut std::collections::HashMap<u64, u16>,
    id: u64,
) -> u16 {
    if id == 0 {
        return 0;
    }
    if let Some(&d) = memo.get(&id) {
        return d;
    }
    let d = match dirs.parent(id) {
        Some(parent) => depth(dirs, memo, parent).saturating_add(1),
        None => 0,
    };
    memo.insert(id, d);
    d
}

/// The rank of `hay` for `needle` (both folded): 0 exact, 1 prefix, 2 word start, 3
/// substring, 4 fuzzy (all of the needle's characters in order); `None` if it does not match.
pub fn rank_of(hay: &str, needle: &str) -> Option<u8> {
    rank_with(&memchr::memmem::Finder::new(needle.as_bytes()), hay, needle)
}

/// [`rank_of`] with the substring finder built once per query.
fn rank_with(finder: &memchr::memmem::Finder<'_>, hay: &str, needle: &str) -> Option<u8> {
    if hay == needle {
        return Some(0);
    }
    if hay.starts_with(needle) {
        return Some(1);
    }
    if finder.find(hay.as_bytes()).is_some() {
        let word_start = finder.find_iter(hay.as_bytes()).any(|at| {
            hay[..at]
                .chars()
                .next_back()
                .is_some_and(|c| !c.is_alphanumeric())
        });
        return Some(if word_start { 2 } else { 3 });
    }
    let mut chars = hay.chars();
    needle
        .chars()
        .all(|n| chars.by_ref().any(|h| h == n))
        .then_some(4)
}

/// Parses `LO..HI`, `LO..`, `..HI` or a single value into an inclusive range with `parse`.
///
/// # Errors
/// The message of `parse`.
pub fn parse_range<T: Copy>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, String>,
    min: T,
    max: T,
) -> Result<(T, T), String> {
    match text.split_once("..") {
        Some((a, b)) => {
            let lo = if a.trim().is_empty() { min } else { parse(a)? };
            let hi = if b.trim().is_empty() { max } else { parse(b)? };
            Ok((lo, hi))
        }
        None => {
            let v = parse(text)?;
            Ok((v, v))
        }
    }
}

/// Parses a date `YYYY-MM-DD` (local midnight) into ns since the epoch.
///
/// # Errors
/// A message naming the text.
pub fn parse_date_ns(text: &str) -> Result<i64, String> {
    let d: jiff::civil::Date = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD)"))?;
    let z = d
        .to_zoned(jiff::tz::TimeZone::system())
        .map_err(|e| e.to_string())?;
    Ok(z.timestamp().as_nanosecond() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_order() {
        let n = fold("readme", false);
        assert_eq!(rank_of(&fold("README", false), &n), Some(0));
        assert_eq!(rank_of(&fold("README.md", false), &n), Some(1));
        assert_eq!(rank_of(&fold("old-readme.txt", false), &n), Some(2));
        assert_eq!(rank_of(&fold("myreadme", false), &n), Some(3));
        assert_eq!(rank_of(&fold("r-e-a-d-m-e", false), &n), Some(4));
        assert_eq!(rank_of(&fold("notes", false), &n), None);
    }

    #[test]
    fn unicode_folding_is_nfc_and_case_insensitive() {
        let composed = "Montr\u{e9}al";
        let decomposed = "Montre\u{301}al";
        assert_ne!(composed, decomposed);
        assert_eq!(fold(composed, false), fold(decomposed, false));
        assert_eq!(
            rank_of(&fold("MONTRÉAL 2024.jpg", false), &fold(decomposed, false)),
            Some(1)
        );
        assert_eq!(fold("Straße", false), "straße");
    }

    #[test]
    fn ranges_parse() {
        let p = |s: &str| crate::format::parse_bytes(s);
        assert_eq!(parse_range("1k..2k", p, 0, u64::MAX).unwrap(), (1024, 2048));
        assert_eq!(
            parse_range("1M..", p, 0, u64::MAX).unwrap(),
            (1 << 20, u64::MAX)
        );
        assert_eq!(parse_range("..10", p, 0, u64::MAX).unwrap(), (0, 10));
        assert!(parse_date_ns("2024-02-30").is_err());
        assert!(parse_date_ns("2024-02-29").is_ok());
    }
}
