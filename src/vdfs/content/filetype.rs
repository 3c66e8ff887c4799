//! File types: a registry of declarative definitions (TOML in `assets/filetypes/`, embedded at
//! build time, extensible by a user file) and the resolution of a file's type from its
//! extension, its first bytes (at most 8 KiB) and a text/binary heuristic.
//!
//! A definition:
//!
//! ```toml
//! [[file_types]]
//! id = "image/jpeg"
//! name = "JPEG image"
//! extensions = ["jpg", "jpeg"]
//! mime_types = ["image/jpeg"]
//! category = "image"          # a ContentKind, snake_case
//! priority = 100              # 0–255; wins among types sharing an extension
//! [[file_types.magic]]
//! pattern = "FF D8 FF"        # hex bytes, `??` any byte, `00-1F` a byte range
//! offset = 0
//! priority = 100
//! ```
//!
//! The format and the resolution rules follow Spacedrive's `filetype` module (its TOML schema
//! and pattern syntax), with one change: a file whose bytes clearly match another type's magic
//! than its extension claims is identified by its bytes.

pub use crate::vdfs::fs::entry::extension_of;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The built-in definitions, concatenated by `build.rs`.
const BUILTIN: &str = include_str!(concat!(env!("OUT_DIR"), "/filetypes.toml"));

static ACTIVE: OnceLock<Registry> = OnceLock::new();

/// At most this many bytes of a file are read for magic-byte matching.
pub const MAX_MAGIC_BYTES: usize = 8192;

/// The broad kind of a file's content. The numbering matches Spacedrive's `ContentKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
#[allow(missing_docs)]
pub enum ContentKind {
    Unknown = 0,
    Image = 1,
    Video = 2,
    Audio = 3,
    Document = 4,
    Archive = 5,
    Code = 6,
    Text = 7,
    Database = 8,
    Book = 9,
    Font = 10,
    Mesh = 11,
    Config = 12,
    Encrypted = 13,
    Key = 14,
    Executable = 15,
    Binary = 16,
    Spreadsheet = 17,
    Presentation = 18,
    Email = 19,
    Calendar = 20,
    Contact = 21,
    Web = 22,
    Shortcut = 23,
    Package = 24,
}

impl ContentKind {
    /// Every kind, in numeric order.
    pub const ALL: [ContentKind; 25] = [
        ContentKind::Unknown,
        ContentKind::Image,
        ContentKind::Video,
        ContentKind::Audio,
        ContentKind::Document,
        ContentKind::Archive,
        ContentKind::Code,
        ContentKind::Text,
        ContentKind::Database,
        ContentKind::Book,
        ContentKind::Font,
        ContentKind::Mesh,
        ContentKind::Config,
        ContentKind::Encrypted,
        ContentKind::Key,
        ContentKind::Executable,
        ContentKind::Binary,
        ContentKind::Spreadsheet,
        ContentKind::Presentation,
        ContentKind::Email,
        ContentKind::Calendar,
        ContentKind::Contact,
        ContentKind::Web,
        ContentKind::Shortcut,
        ContentKind::Package,
    ];

    /// The kind with this number, `Unknown` if out of range.
    pub fn from_u8(n: u8) -> ContentKind {
        ContentKind::ALL
            .get(n as usize)
            .copied()
            .unwrap_or(ContentKind::Unknown)
    }

    /// Lower-case name, as in definitions and `--kind` filters.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Unknown => "unknown",
            ContentKind::Image => "image",
            ContentKind::Video => "video",
            ContentKind::Audio => "audio",
            ContentKind::Document => "document",
            ContentKind::Archive => "archive",
            ContentKind::Code => "code",
            ContentKind::Text => "text",
            ContentKind::Database => "database",
            ContentKind::Book => "book",
            ContentKind::Font => "font",
            ContentKind::Mesh => "mesh",
            ContentKind::Config => "config",
            ContentKind::Encrypted => "encrypted",
            ContentKind::Key => "key",
            ContentKind::Executable => "executable",
            ContentKind::Binary => "binary",
            ContentKind::Spreadsheet => "spreadsheet",
            ContentKind::Presentation => "presentation",
            ContentKind::Email => "email",
            ContentKind::Calendar => "calendar",
            ContentKind::Contact => "contact",
            ContentKind::Web => "web",
            ContentKind::Shortcut => "shortcut",
            ContentKind::Package => "package",
        }
    }
}

impl std::str::FromStr for ContentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<ContentKind, String> {
        ContentKind::ALL
            .iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .copied()
            .ok_or_else(|| {
                let names: Vec<_> = ContentKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind {s:?}; kinds are {}", names.join(", "))
            })
    }
}

impl std::fmt::Display for ContentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One token of a magic pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// Exactly this byte.
    Byte(u8),
    /// Any byte (`??`).
    Any,
    /// A byte in this inclusive range (`00-1F`).
    Range(u8, u8),
}

/// A magic-byte signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Magic {
    /// Where the pattern starts.
    pub offset: usize,
    /// The pattern.
    pub pattern: Vec<Token>,
    /// Trust in this signature, 0–255.
    pub priority: u8,
}

impl Magic {
    /// True if `head` (a file's first bytes) matches; a too-short head does not.
    pub fn matches(&self, head: &[u8]) -> bool {
        let Some(window) = head.get(self.offset..self.offset + self.pattern.len()) else {
            return false;
        };
        self.pattern.iter().zip(window).all(|(t, &b)| match *t {
            Token::Byte(x) => x == b,
            Token::Any => true,
            Token::Range(lo, hi) => (lo..=hi).contains(&b),
        })
    }
}

/// A file type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileType {
    /// Unique id, usually the MIME type.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Extensions, lower case, without dots.
    pub extensions: Vec<String>,
    /// MIME types; the first is canonical.
    pub mime_types: Vec<String>,
    /// Content kind.
    pub kind: ContentKind,
    /// Priority among types sharing an extension.
    pub priority: u8,
    /// Signatures.
    pub magic: Vec<Magic>,
}

impl FileType {
    /// The canonical MIME type.
    pub fn mime(&self) -> &str {
        self.mime_types
            .first()
            .map_or("application/octet-stream", String::as_str)
    }
}

/// How a type was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The extension alone.
    Extension,
    /// The extension, confirmed by magic bytes.
    Combined,
    /// Magic bytes alone (no or a wrong extension).
    Magic,
    /// The text/binary heuristic.
    Heuristic,
}

/// The result of identifying a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identified {
    /// Index of the type in the registry.
    pub type_index: u16,
    /// 0–100.
    pub confidence: u8,
    /// How it was decided.
    pub method: Method,
}

/// Errors loading definitions.
#[derive(Debug, thiserror::Error)]
pub enum FileTypeError {
    /// The TOML does not parse.
    #[error("file-type definitions in {source_name}: {detail}")]
    Parse {
        /// Which file.
        source_name: String,
        /// What is wrong.
        detail: String,
    },
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    file_types: Vec<RawType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    id: String,
    name: String,
    #[serde(default)]
    extensions: Vec<String>,
    #[serde(default)]
    mime_types: Vec<String>,
    category: String,
    #[serde(default = "default_priority")]
    priority: u8,
    #[serde(default)]
    magic: Vec<RawMagic>,
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<toml::Table>,
}

fn default_priority() -> u8 {
    50
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMagic {
    pattern: String,
    #[serde(default)]
    offset: usize,
    #[serde(default = "default_priority")]
    priority: u8,
}

/// Parses a magic pattern such as `"FF D8 ?? 00-1F"`.
///
/// # Errors
/// A message naming the bad token.
pub fn parse_pattern(text: &str) -> Result<Vec<Token>, String> {
    let hex = |s: &str| u8::from_str_radix(s, 16).ok().filter(|_| s.len() == 2);
    text.split_whitespace()
        .map(|tok| {
            if tok == "??" || tok == "?" {
                return Ok(Token::Any);
            }
            if let Some((a, b)) = tok.split_once('-') {
                return match (hex(a), hex(b)) {
                    (Some(lo), Some(hi)) if lo <= hi => Ok(Token::Range(lo, hi)),
                    _ => Err(format!("bad range {tok:?}")),
                };
            }
            hex(tok)
                .map(Token::Byte)
                .ok_or_else(|| format!("bad byte {tok:?}"))
        })
        .collect()
}

/// One signature of a type whose signatures are not all at byte 0 (see [`Registry`]).
#[derive(Debug, Clone, Copy)]
struct Probe {
    /// Where the pattern's first exact byte is and what it is (`None`: it has none).
    byte: Option<(usize, u8)>,
    /// The type (index in the registry) and the signature (index in its `magic`).
    ty: u16,
    magic: u16,
}

/// The set of known file types.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    types: Vec<FileType>,
    by_ext: HashMap<String, Vec<u16>>,
    /// Types with a signature fixed at byte 0, by that byte; the signatures of the rest are in
    /// `other_magic`.
    magic_by_first: Vec<Vec<u16>>,
    /// The signatures of types not in `magic_by_first`, in type order, each with its first
    /// exact byte (so most are ruled out by one comparison).
    other_magic: Vec<Probe>,
    text: Option<u16>,
    binary: Option<u16>,
}

impl Registry {
    /// The built-in registry (parsed once).
    pub fn builtin() -> &'static Registry {
        static REG: OnceLock<Registry> = OnceLock::new();
        REG.get_or_init(|| {
            let mut r = Registry::default();
            r.add_toml("built-in definitions", BUILTIN)
                .expect("built-in file types are valid (checked by tests)");
            r
        })
    }

    /// The registry in use: the built-in one, plus the user's definitions if
    /// [`Registry::install`] was called (at start-up, from `filetypes.toml` in the config
    /// folder).
    pub fn active() -> &'static Registry {
        ACTIVE.get().unwrap_or_else(|| Registry::builtin())
    }

    /// Makes `registry` the [`Registry::active`] one. Only the first call has an effect.
    pub fn install(registry: Registry) {
        let _ = ACTIVE.set(registry);
    }

    /// The built-in registry plus the definitions in a user TOML file; a user type with the
    /// id of a built-in one replaces it.
    ///
    /// # Errors
    /// [`FileTypeError::Parse`] naming the file and the problem.
    pub fn with_user_file(path: &Path) -> Result<Registry, FileTypeError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileTypeError::Parse {
            source_name: path.display().to_string(),
            detail: e.to_string(),
        })?;
        let mut r = Registry::builtin().clone();
        r.add_toml(&path.display().to_string(), &text)?;
        Ok(r)
    }

    /// Adds the definitions of one TOML document.
    ///
    /// # Errors
    /// [`FileTypeError::Parse`].
    pub fn add_toml(&mut self, source_name: &str, text: &str) -> Result<(), FileTypeError> {
        let err = |detail: String| FileTypeError::Parse {
            source_name: source_name.to_owned(),
            detail,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        for t in raw.file_types {
            let kind: ContentKind = t
                .category
                .parse()
                .map_err(|e| err(format!("type {}: {e}", t.id)))?;
            let mut magic = Vec::new();
            for m in t.magic {
                let pattern =
                    parse_pattern(&m.pattern).map_err(|e| err(format!("type {}: {e}", t.id)))?;
                if pattern.is_empty() || m.offset + pattern.len() > MAX_MAGIC_BYTES {
                    return Err(err(format!(
                        "type {}: pattern {:?} at offset {} does not fit in {MAX_MAGIC_BYTES} bytes",
                        t.id, m.pattern, m.offset
                    )));
                }
                magic.push(Magic {
                    offset: m.offset,
                    pattern,
                    priority: m.priority,
                });
            }
            let ft = FileType {
                id: t.id,
                name: t.name,
                extensions: t
                    .extensions
                    .iter()
                    .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
                    .collect(),
                mime_types: t.mime_types,
                kind,
                priority: t.priority,
                magic,
            };
            match self.types.iter().position(|x| x.id == ft.id) {
                Some(i) => self.types[i] = ft,
                None => self.types.push(ft),
            }
        }
        self.reindex();
        Ok(())
    }

    fn reindex(&mut self) {
        self.by_ext.clear();
        self.magic_by_first = vec![Vec::new(); 256];
        self.other_magic.clear();
        for (i, t) in self.types.iter().enumerate() {
            let i = i as u16;
            for e in &t.extensions {
                self.by_ext.entry(e.clone()).or_default().push(i);
            }
            if !t.magic.is_empty() {
                let mut firsts = Vec::new();
                let all_fixed = t.magic.iter().all(|m| match (m.offset, m.pattern.first()) {
                    (0, Some(Token::Byte(b))) => {
                        firsts.push(*b);
                        true
                    }
                    _ => false,
                });
                if all_fixed {
                    firsts.sort_unstable();
                    firsts.dedup();
                    for b in firsts {
                        self.magic_by_first[b as usize].push(i);
                    }
                } else {
                    for (k, m) in t.magic.iter().enumerate() {
                        // The pattern's first exact byte (`?? ?? ?? ?? 66 74 79 70` → `66`
                        // at offset + 4).
                        let byte = m.pattern.iter().enumerate().find_map(|(j, t)| match t {
                            Token::Byte(b) => Some((m.offset + j, *b)),
                            _ => None,
                        });
                        self.other_magic.push(Probe {
                            byte,
                            ty: i,
                            magic: k as u16,
                        });
                    }
                }
            }
        }
        for list in self.by_ext.values_mut() {
            let types = &self.types;
            list.sort_by_key(|&i| std::cmp::Reverse(types[i as usize].priority));
        }
        self.text = self.index_of("text/plain");
        self.binary = self.index_of("application/octet-stream");
    }

    /// Number of types.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// True if there are no types.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// Every type.
    pub fn types(&self) -> &[FileType] {
        &self.types
    }

    /// The type at `index`.
    pub fn get(&self, index: u16) -> Option<&FileType> {
        self.types.get(index as usize)
    }

    /// The index of the type with this id.
    pub fn index_of(&self, id: &str) -> Option<u16> {
        self.types.iter().position(|t| t.id == id).map(|i| i as u16)
    }

    /// Types claiming an extension (case-insensitive), highest priority first.
    pub fn by_extension(&self, ext: &str) -> &[u16] {
        let lower;
        let key = if ext.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = ext.to_ascii_lowercase();
            lower.as_str()
        } else {
            ext
        };
        self.by_ext.get(key).map_or(&[], Vec::as_slice)
    }

    /// Identifies a file from its name and, if read, its first bytes (`head`, at most
    /// [`MAX_MAGIC_BYTES`]). Without `head` only the extension is used (no I/O: Shallow mode).
    /// Returns `None` when nothing is known (no extension match and no bytes).
    pub fn identify(&self, name: &[u8], head: Option<&[u8]>) -> Option<Identified> {
        let candidates = extension_of(name)
            .map(|e| self.by_extension(e))
            .unwrap_or(&[]);
        let Some(head) = head else {
            return candidates.first().map(|&i| Identified {
                type_index: i,
                confidence: 90,
                method: Method::Extension,
            });
        };
        let head = &head[..head.len().min(MAX_MAGIC_BYTES)];
        // The candidate whose magic matches best.
        let candidate_magic = candidates
            .iter()
            .filter_map(|&i| self.magic_score(i, head).map(|p| (p, i)))
            .max_by_key(|&(p, i)| (p, self.types[i as usize].priority));
        if let Some((_, i)) = candidate_magic {
            return Some(Identified {
                type_index: i,
                confidence: 100,
                method: Method::Combined,
            });
        }
        // The best magic match among all types. Signatures of priority 10 or less (one or two
        // common bytes, e.g. MPEG-TS's `47`) only confirm an extension, never decide alone.
        let by_first = head
            .first()
            .and_then(|&b| self.magic_by_first.get(b as usize))
            .map_or(&[][..], Vec::as_slice);
        let other = self
            .other_magic
            .iter()
            .filter(|probe| probe.byte.is_none_or(|(at, b)| head.get(at) == Some(&b)))
            .filter_map(|probe| {
                let m = &self.types[probe.ty as usize].magic[probe.magic as usize];
                m.matches(head).then_some((m.priority, probe.ty))
            });
        // Signature by signature, in type order: the best of each type is its score, and the
        // last of the best wins as it did type by type.
        let any_magic = by_first
            .iter()
            .filter_map(|&i| self.magic_score(i, head).map(|p| (p, i)))
            .chain(other)
            .filter(|&(p, _)| p > 10)
            .max_by_key(|&(p, i)| (p, self.types[i as usize].priority));
        // The text heuristic reads every byte of the head: only asked when a rule needs it.
        let text = std::cell::OnceCell::new();
        let is_text = || *text.get_or_init(|| looks_like_text(head));
        // A strong signature (priority above 50, i.e. not a generic container such as ZIP or
        // OLE that many formats share) beats an extension whose type has no signature.
        if let Some((p, i)) = any_magic
            && p > 50
            && !candidates.is_empty()
            && !is_textual(self.types[i as usize].kind)
        {
            return Some(Identified {
                type_index: i,
                confidence: 80,
                method: Method::Magic,
            });
        }
        // Candidates that make no claim about bytes (text formats, ZIP-based documents …)
        // are trusted, unless the bytes contradict a text type.
        let trusted = candidates.iter().copied().find(|&i| {
            let t = &self.types[i as usize];
            t.magic.is_empty() && (!is_textual(t.kind) || is_text())
        });
        if let Some(i) = trusted {
            return Some(Identified {
                type_index: i,
                confidence: 90,
                method: Method::Extension,
            });
        }
        if let Some((p, i)) = any_magic
            && (candidates.is_empty() || p >= 40)
        {
            return Some(Identified {
                type_index: i,
                confidence: if candidates.is_empty() { 95 } else { 80 },
                method: Method::Magic,
            });
        }
        if let Some(&i) = candidates.first() {
            // The extension names a format whose signature is absent: trust it, less.
            return Some(Identified {
                type_index: i,
                confidence: 60,
                method: Method::Extension,
            });
        }
        let fallback = if head.is_empty() {
            None
        } else if is_text() {
            self.text
        } else {
            self.binary
        };
        fallback.map(|i| Identified {
            type_index: i,
            confidence: 50,
            method: Method::Heuristic,
        })
    }

    fn magic_score(&self, i: u16, head: &[u8]) -> Option<u8> {
        self.types[i as usize]
            .magic
            .iter()
            .filter(|m| m.matches(head))
            .map(|m| m.priority)
            .max()
    }
}

fn is_textual(kind: ContentKind) -> bool {
    matches!(
        kind,
        ContentKind::Text | ContentKind::Code | ContentKind::Config | ContentKind::Web
    )
}

/// The text/binary heuristic: no NUL byte, valid UTF-8 (a character cut at the end of the
/// buffer is allowed), and at most 1 % control characters other than whitespace.
pub fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    };
    if !valid {
        return false;
    }
    let controls = count_controls(head);
    controls * 100 <= head.len()
}

/// The control characters in `bytes` other than `\t \n \x0c \r \x1b`, counted branch-free in
/// blocks of 255 into a byte counter, which the compiler turns into vector compares (this runs
/// over the first 8 KiB of every text file identified).
fn count_controls(bytes: &[u8]) -> usize {
    let mut total = 0usize;
    for block in bytes.chunks(255) {
        let mut n = 0u8;
        for &b in block {
            n += u8::from(
                (b < 0x20) & (b != b'\n') & (b != b'\r') & (b != b'\t') & (b != 0x0c) & (b != 0x1b),
            );
        }
        total += usize::from(n);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> &'static Registry {
        Registry::builtin()
    }

    fn id_of(name: &str, head: Option<&[u8]>) -> String {
        let r = reg();
        r.identify(name.as_bytes(), head)
            .map(|i| r.get(i.type_index).unwrap().id.clone())
            .unwrap_or_default()
    }

    #[test]
    fn builtin_is_large_and_covers_every_kind() {
        let r = reg();
        assert!(r.len() >= 150, "only {} types", r.len());
        for kind in ContentKind::ALL.iter().skip(1) {
            assert!(
                r.types().iter().any(|t| t.kind == *kind),
                "no type of kind {kind}"
            );
        }
        let mut ids: Vec<_> = r.types().iter().map(|t| &t.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), r.len(), "duplicate ids");
    }

    #[test]
    fn patterns_parse() {
        assert_eq!(
            parse_pattern("FF ?? 00-1F").unwrap(),
            vec![Token::Byte(0xFF), Token::Any, Token::Range(0, 0x1F)]
        );
        assert!(parse_pattern("GG").is_err());
        assert!(parse_pattern("1F-00").is_err());
        let m = Magic {
            offset: 1,
            pattern: parse_pattern("50 ?? 10-20").unwrap(),
            priority: 1,
        };
        assert!(m.matches(b"x\x50\xAA\x15"));
        assert!(!m.matches(b"x\x50\xAA\x21"));
        assert!(!m.matches(b"x\x50"));
    }

    #[test]
    fn extension_magic_and_heuristic() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let jpeg = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0";
        assert_eq!(id_of("a.JPG", None), "image/jpeg");
        assert_eq!(id_of("a.png", Some(png)), "image/png");
        // No extension, or a wrong one: the bytes decide.
        assert_eq!(id_of("photo", Some(jpeg)), "image/jpeg");
        assert_eq!(id_of("photo.txt", Some(jpeg)), "image/jpeg");
        assert_eq!(
            id_of("report.pdf.png", Some(b"%PDF-1.4\n")),
            "application/pdf"
        );
        // Text without a known extension.
        assert_eq!(id_of("NOTES", Some(b"hello world\n")), "text/plain");
        assert_eq!(
            id_of("blob", Some(b"\x00\x01\x02\x03garbage")),
            "application/octet-stream"
        );
        // A code file is trusted by extension.
        assert_eq!(
            id_of("main.rs", Some(b"fn main() {}\n")),
            id_of("main.rs", None)
        );
        assert_eq!(
            reg()
                .get(reg().identify(b"main.rs", None).unwrap().type_index)
                .unwrap()
                .kind,
            ContentKind::Code
        );
        // Shared extension: MPEG-TS bytes vs TypeScript text.
        let ts_kind = |head: &[u8]| {
            let i = reg().identify(b"x.ts", Some(head)).unwrap();
            reg().get(i.type_index).unwrap().kind
        };
        let mut mpeg = vec![0u8; 400];
        mpeg[0] = 0x47;
        mpeg[188] = 0x47;
        assert_eq!(ts_kind(&mpeg), ContentKind::Video);
        assert_eq!(ts_kind(b"export const x: number = 1;\n"), ContentKind::Code);
    }

    #[test]
    fn signatures_away_from_byte_zero_decide_too() {
        // `ustar` at 257 (a tar archive), under no extension and under a wrong one.
        let mut tar = vec![0u8; 512];
        tar[..8].copy_from_slice(b"notes.md");
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(id_of("backup", Some(&tar)), "application/x-tar");
        assert_eq!(id_of("backup.svg", Some(&tar)), "application/x-tar");
        // `????ftypM4A ` (an MPEG-4 audio file): the first four bytes are any.
        let m4a = b"\0\0\0\x20ftypM4A \0\0\0\0";
        assert_eq!(id_of("song", Some(m4a)), id_of("song.m4a", None));
        let mut almost = *m4a;
        almost[4] = b'g';
        assert_ne!(id_of("song", Some(&almost)), id_of("song.m4a", None));
    }

    #[test]
    fn a_user_file_adds_and_overrides_types() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("filetypes.toml");
        std::fs::write(
            &path,
            r#"
[[file_types]]
id = "application/x-cairn-scene"
name = "Cairn test scene"
extensions = ["cscene"]
mime_types = ["application/x-cairn-scene"]
category = "mesh"
[[file_types.magic]]
pattern = "43 53 ?? 01-0F"
offset = 0
priority = 90
"#,
        )
        .unwrap();
        let r = Registry::with_user_file(&path).unwrap();
        assert_eq!(r.len(), reg().len() + 1);
        let i = r.identify(b"noname", Some(b"CSxrest")).unwrap();
        assert_eq!(r.get(i.type_index).unwrap().id, "application/x-cairn-scene");
        assert_eq!(i.method, Method::Magic);
        std::fs::write(&path, "[[file_types]]\nid = 1\n").unwrap();
        let err = Registry::with_user_file(&path).unwrap_err().to_string();
        assert!(err.contains("filetypes.toml"), "{err}");
    }

    #[test]
    fn control_count_matches_the_plain_rule() {
        let bytes: Vec<u8> = (0..3000u32).map(|i| (i * 7919 % 256) as u8).collect();
        let plain = bytes
            .iter()
            .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b))
            .count();
        assert_eq!(count_controls(&bytes), plain);
        assert_eq!(count_controls(&[1; 600]), 600);
        assert_eq!(count_controls(b""), 0);
    }

    #[test]
    fn text_heuristic() {
        assert!(looks_like_text(b"plain ascii\n"));
        assert!(looks_like_text("Montréal 東京\n".as_bytes()));
        assert!(looks_like_text(&"é".as_bytes()[..1]));
        assert!(!looks_like_text(b"\x00abc"));
        assert!(!looks_like_text(b"\xff\xfe\xfd\xfc\xfb"));
    }
}
