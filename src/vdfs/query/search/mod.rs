//! Search over the index: one query type for the CLI, the window and (later) plugins and
//! peers.
//!
//! Names are compared after Unicode normalisation (NFC) and, unless the query is
//! case-sensitive, lower-casing, so `Montréal` matches whether it was typed or stored composed
//! or decomposed. Ranking: exact name (or exact but for the last extension) > prefix > word start > substring > fuzzy (the query's
//! characters in order), then fewer folders below the location root, then most recently
//! modified.
//!
//! Queries run over a [`NameIndex`] (see [`names`]): the library's, kept in a file beside the
//! store and rebuilt when the store's names generation moves on, or an ephemeral one built
//! from a walk of a folder outside every location. The same [`Query`] runs over both.

pub mod ephemeral;
pub mod names;

use std::path::PathBuf;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

pub use names::NameIndex;

use crate::vdfs::content::filetype::ContentKind;
use crate::vdfs::fs::entry::EntryKind;

/// How the name part of a query matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
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

/// A search query. Empty fields do not filter. Serialisable: a saved search keeps one.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Query {
    /// Text to find in names.
    pub text: String,
    /// How `text` matches.
    pub mode: NameMatch,
    /// Compare case exactly.
    pub case_sensitive: bool,
    /// Extensions without the dot, any case; several parts work too (`tar.gz`).
    pub extensions: Vec<String>,
    /// Content kinds.
    pub kinds: Vec<ContentKind>,
    /// Size range in bytes (inclusive); folders never match a size range.
    pub size: Option<(u64, u64)>,
    /// Modification time range, ns since the epoch (inclusive).
    pub modified: Option<(i64, i64)>,
    /// Only below this folder.
    pub within: Option<PathBuf>,
    /// Include hidden entries: names starting with a dot, and everything inside a folder whose
    /// name does (below the location root). A scope inside a hidden folder shows what is in
    /// it.
    pub include_hidden: bool,
    /// Only files whose content has at least this many copies.
    pub min_copies: Option<u64>,
    /// MIME types of the content: exact (`image/png`) or a prefix (`image/`, `image/*`).
    pub mime: Vec<String>,
    /// When the index first saw the entry, ns since the epoch (inclusive).
    pub indexed: Option<(i64, i64)>,
    /// Entry kinds (file, folder, symlink …); empty means all.
    pub entry_kinds: Vec<EntryKind>,
    /// Only files whose content has no copy in the location with this id (a backup gap; a
    /// hard link of the file there is no copy; files whose content is not identified are
    /// left out). Applied by
    /// [`crate::vdfs::library::Library::search`], which reads the store for it.
    pub missing_from: Option<u32>,
    /// Only entries carrying every one of these tags (by UUID), on the entry or on its
    /// content, each tag with the tags below it in the graph. Applied by
    /// [`crate::vdfs::library::Library::search`], which reads the store for it.
    pub tags: Vec<uuid::Uuid>,
    /// With [`Query::tags`]: a tagged folder passes its tags to everything below it.
    pub tags_inherited: bool,
    /// Only the items of this collection (by UUID). Applied by
    /// [`crate::vdfs::library::Library::search`].
    pub collection: Option<uuid::Uuid>,
    /// Only entries whose note (on the entry or its content) contains this text, case and
    /// accents ignored. Applied by [`crate::vdfs::library::Library::search`].
    pub note: Option<String>,
    /// Order of the results.
    pub sort: Sort,
    /// Reverse the order.
    pub reverse: bool,
    /// Results to return.
    pub limit: usize,
    /// Results to skip.
    pub offset: usize,
}

impl Query {
    /// Whether it asks for what only indexed files have: tags (or `tag:` in its text), a
    /// note, a collection, or copies missing from a location.
    pub fn indexed_only(&self) -> bool {
        !self.tags.is_empty()
            || self.text.contains("tag:")
            || self.note.as_deref().is_some_and(|n| !n.trim().is_empty())
            || self.collection.is_some()
            || self.missing_from.is_some()
    }
}

/// The order of results. In every order, fuzzy matches (rank 4) come after the names that
/// contain the text, even reversed; ties are broken by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Sort {
    /// Best match first: rank, then fewer folders below the location root, then most
    /// recently modified.
    #[default]
    Relevance,
    /// By name, A to Z (folded).
    Name,
    /// Largest first.
    Size,
    /// Most recently modified first.
    Modified,
}

impl std::str::FromStr for Sort {
    type Err = String;
    fn from_str(s: &str) -> Result<Sort, String> {
        match s {
            "relevance" => Ok(Sort::Relevance),
            "name" => Ok(Sort::Name),
            "size" => Ok(Sort::Size),
            "modified" | "date" => Ok(Sort::Modified),
            other => Err(format!(
                "{other:?} is not a sort order (relevance, name, size, modified)"
            )),
        }
    }
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Entry id (0 in an ephemeral index).
    pub entry: u64,
    /// Absolute path.
    #[serde(serialize_with = "crate::format::lossy_path")]
    pub path: PathBuf,
    /// Kind.
    pub kind: EntryKind,
    /// Bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Content kind.
    pub content_kind: ContentKind,
    /// Copies of its content in the library (1 when not identified or unique).
    pub copies: u32,
    /// How the name matched (0 exact … 4 fuzzy; 3 when no text was given).
    pub rank: u8,
}

/// Results and the number of all matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Results {
    /// The page of results asked for, best first.
    pub hits: Vec<Hit>,
    /// How many entries match in all (fuzzy matches included).
    pub total: usize,
    /// How many of them match only fuzzily (rank 4).
    pub fuzzy: usize,
}

/// NFC and, unless `case_sensitive`, lower case with the Greek final sigma folded to σ (so
/// `ΟΔΟΣ` typed on its own matches the `ΟΔΟΣ` inside `ΟΔΟΣ.txt`: lower-casing alone gives ς
/// at the end of a word and σ elsewhere).
pub fn fold(s: &str, case_sensitive: bool) -> String {
    let nfc: String = s.nfc().collect();
    if case_sensitive {
        nfc
    } else {
        nfc.to_lowercase().replace('ς', "σ")
    }
}

/// How `needle` occurs in `hay` as a substring (both folded the same way): 0 the whole
/// name, 1 at the start, 2 at a word start (after a character that is not alphanumeric;
/// every occurrence is looked at, overlapping ones too), 3 elsewhere; `None` if it does not.
pub fn substring_rank(hay: &[u8], needle: &[u8]) -> Option<u8> {
    let finder = memchr::memmem::Finder::new(needle);
    let first = finder.find(hay)?;
    Some(rank_at(hay, &finder, first))
}

/// Queries shorter than this (in characters) match no name fuzzily.
pub const FUZZY_MIN_CHARS: usize = 3;

/// True if `needle`'s characters occur in `hay` in order within a window of three times the
/// needle's length: the fuzzy match (rank 4). Both folded the same way.
pub fn fuzzy_match(hay: &[u8], needle: &str) -> bool {
    names::subsequence_within(hay, needle, needle.chars().count() * 3)
}

/// [`substring_rank`] given the first occurrence `first` of `finder`'s needle in `hay`.
pub(crate) fn rank_at(hay: &[u8], finder: &memchr::memmem::Finder<'_>, first: usize) -> u8 {
    if first == 0 {
        // The whole name, or the whole name but its last extension ("app" finds `app.rs`
        // before `apps.rs`): an exact match.
        let n = finder.needle().len();
        let stem_only = hay.get(n) == Some(&b'.')
            && n > 0
            && hay
                .get(n + 1..)
                .is_some_and(|ext| !ext.is_empty() && !ext.contains(&b'.'));
        return u8::from(hay.len() != n && !stem_only);
    }
    let mut at = first;
    loop {
        if names::word_start(hay, at) {
            return 2;
        }
        match hay.get(at + 1..).and_then(|rest| finder.find(rest)) {
            Some(o) => at += 1 + o,
            None => return 3,
        }
    }
}

/// The rank of name `hay` for `needle` (both folded) under [`NameMatch::Smart`]: 0 exact (the
/// whole name, or the name without its last extension), 1 prefix, 2 word start, 3 substring, 4 fuzzy (the needle's characters in order within a
/// window of three times its length, for needles of three or more characters); `None` if it
/// does not match. The index ranks the same way.
pub fn rank_of(hay: &str, needle: &str) -> Option<u8> {
    if needle.is_empty() {
        return Some(3);
    }
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    substring_rank(h, n).or_else(|| {
        (needle.chars().count() >= FUZZY_MIN_CHARS && fuzzy_match(h, needle)).then_some(4)
    })
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
        assert_eq!(
            rank_of(&fold("README.md", false), &n),
            Some(0),
            "the stem is exact"
        );
        assert_eq!(rank_of(&fold("README.md.bak", false), &n), Some(1));
        assert_eq!(rank_of(&fold("READMEs.md", false), &n), Some(1));
        assert_eq!(rank_of(&fold("old-readme.txt", false), &n), Some(2));
        assert_eq!(rank_of(&fold("myreadme", false), &n), Some(3));
        assert_eq!(rank_of(&fold("r-e-a-d-m-e", false), &n), Some(4));
        assert_eq!(rank_of(&fold("notes", false), &n), None);
        // Regression (issue "explorer"): "app" ranked `apps.rs` above `app.rs`.
        assert!(rank_of("app.rs", "app") < rank_of("apps.rs", "app"));
        // A word start overlapping an earlier occurrence still counts.
        assert_eq!(rank_of("ba-aca-a-a", "a-a"), Some(2));
        assert_eq!(rank_of("ba-aca", "a-a"), Some(3));
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
        assert_eq!(fold("ΟΔΟΣ", false), fold("οδοσ", false));
        assert!(fold("ΟΔΟΣ.txt", false).starts_with(&fold("ΟΔΟΣ", false)));
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
