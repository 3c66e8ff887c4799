//! Rename patterns: the new names of a batch rename, computed from each item's name, kind,
//! modification time, folder and place in the list. Pure (no I/O): the window runs it on every
//! key press for its live preview, the preview of [`OpKind::BatchRename`] runs it for the CLI.
//!
//! A [`Pattern`] is applied in three steps, in this order:
//!
//! 1. **Template.** Literal text with tokens in braces:
//!
//!    | token | becomes |
//!    |---|---|
//!    | `{name}` | the item's name without its extension (its *stem*; a folder's whole name) |
//!    | `{ext}` | its extension without the dot (empty for a folder or a name without one) |
//!    | `{n}`, `{n:3}` | the counter: `start + index × step`, zero-padded to 3 digits |
//!    | `{date}` | its modification date, `YYYY-MM-DD`, in the local time zone |
//!    | `{parent}` | the name of its folder |
//!
//!    `{{` and `}}` are a literal brace. A dot written just before `{ext}` goes with it when
//!    the item's name has no extension dot, so `{name}.{ext}` (the default) gives every name back
//!    unchanged and `photo-{n:3}.{ext}` names a file without an extension `photo-001`.
//! 2. **Find and replace** (when `find` is not empty), every match in the name the template
//!    made: plain text, optionally case-insensitive, or a regular expression of the
//!    [`regex`] crate's syntax whose replacement may name groups (`$1`, `${word}`).
//! 3. **Case**: lower, upper or title case (each word's first letter upper, the rest lower),
//!    of the stem only or of the whole name.
//!
//! Names are bytes. Bytes that are not UTF-8 pass through wherever the pattern does not
//! touch them: `{name}` of a stem `caf\xe9` is `caf\xe9`, a case change leaves them alone,
//! and a regular expression never matches inside them.
//!
//! ```
//! use cairn::vdfs::actions::pattern::{Pattern, PatternItem};
//!
//! let p = Pattern { template: "holiday-{n:2}.{ext}".into(), ..Pattern::default() };
//! let items = [PatternItem::file(b"IMG_0001.JPG"), PatternItem::file(b"IMG_0002.JPG")];
//! let names = p.compile().unwrap().apply(&items).unwrap();
//! assert_eq!(names, [b"holiday-01.JPG".to_vec(), b"holiday-02.JPG".to_vec()]);
//! ```
//!
//! [`OpKind::BatchRename`]: super::OpKind::BatchRename

use serde::{Deserialize, Serialize};

use crate::vdfs::fs::ops::stem_and_extension;

/// The widest counter padding `{n:W}` accepts.
pub const MAX_WIDTH: usize = 32;

/// A case change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    /// `holiday photo`.
    Lower,
    /// `HOLIDAY PHOTO`.
    Upper,
    /// `Holiday Photo`: each word's first letter upper, the rest lower.
    Title,
}

/// What a case change applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseScope {
    /// The name without its extension (the default: `.JPG` stays `.JPG`).
    #[default]
    Stem,
    /// The whole name, extension included.
    Name,
}

/// A rename pattern as typed: a template, a find/replace and a case change (see the module
/// docs for the syntax and the order they apply in). [`Pattern::compile`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pattern {
    /// The template; `{name}.{ext}` keeps each name.
    pub template: String,
    /// Text (or, with `regex`, a regular expression) to find; empty: no find/replace.
    pub find: String,
    /// What replaces each match (with `regex`, `$1` and `${name}` name groups).
    pub replace: String,
    /// `find` is a regular expression.
    pub regex: bool,
    /// `find` matches regardless of case.
    pub ignore_case: bool,
    /// The case change, if any.
    pub case: Option<Case>,
    /// What the case change applies to.
    pub case_scope: CaseScope,
    /// The counter's first value (`{n}` of the first item).
    pub start: u64,
    /// What the counter adds per item.
    pub step: u64,
}

impl Default for Pattern {
    fn default() -> Pattern {
        Pattern {
            template: "{name}.{ext}".into(),
            find: String::new(),
            replace: String::new(),
            regex: false,
            ignore_case: false,
            case: None,
            case_scope: CaseScope::Stem,
            start: 1,
            step: 1,
        }
    }
}

/// Why a pattern cannot be used; each names the bad part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The template is empty.
    #[error("the template is empty; `{{name}}.{{ext}}` keeps each name")]
    EmptyTemplate,
    /// A token the template does not know, e.g. `{nmae}`.
    #[error(
        "unknown token “{{{0}}}” in the template; the tokens are {{name}}, {{ext}}, {{n}}, {{n:3}}, {{date}} and {{parent}} (“{{{{” and “}}}}” are braces)"
    )]
    UnknownToken(String),
    /// A `{` without its `}`: the text from the brace on.
    #[error("“{0}” in the template has no closing “}}”")]
    Unclosed(String),
    /// A `}` without a `{` (a literal one is written `}}`), at this character.
    #[error("a lone “}}” at character {0} of the template; write “}}}}” for a brace")]
    LoneBrace(usize),
    /// A counter width that is not a number from 1 to [`MAX_WIDTH`], e.g. `{n:x}`.
    #[error("“{{{0}}}”: the counter's width must be a number from 1 to {MAX_WIDTH}")]
    BadWidth(String),
    /// A regular expression (or, with a case-insensitive plain find, its escaped text) that
    /// does not compile.
    #[error("the regular expression “{pattern}” is not valid: {error}")]
    Regex {
        /// The expression as typed.
        pattern: String,
        /// The regex crate's explanation.
        error: String,
    },
    /// The counter went past `u64::MAX` at this item (a huge start or step).
    #[error("the counter overflows at item {0}")]
    CounterOverflow(usize),
}

/// One item a pattern names: what the tokens read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternItem {
    /// Its current name, exact bytes.
    pub name: Vec<u8>,
    /// It is a folder (its whole name is its stem).
    pub is_dir: bool,
    /// Its modification time, ns since the epoch (`{date}`).
    pub mtime_ns: i64,
    /// The name of its folder, exact bytes (`{parent}`).
    pub parent: Vec<u8>,
}

impl PatternItem {
    /// A file named `name`, modified at the epoch, in a folder without a name (for examples
    /// and tests).
    pub fn file(name: &[u8]) -> PatternItem {
        PatternItem {
            name: name.to_vec(),
            is_dir: false,
            mtime_ns: 0,
            parent: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Text(String),
    Name,
    Ext,
    /// A `.` written just before `{ext}`: there only when the name has an extension dot.
    DotExt,
    Counter(usize),
    Date,
    Parent,
}

/// A checked pattern, ready to name items.
#[derive(Debug, Clone)]
pub struct Compiled {
    tokens: Vec<Token>,
    find: Option<regex::bytes::Regex>,
    replace: Vec<u8>,
    expand: bool,
    case: Option<Case>,
    scope: CaseScope,
    start: u64,
    step: u64,
    tz: jiff::tz::TimeZone,
}

impl Pattern {
    /// Checks the pattern and compiles its regular expression.
    ///
    /// # Errors
    /// [`PatternError`] naming the bad token or expression.
    pub fn compile(&self) -> Result<Compiled, PatternError> {
        let tokens = parse(&self.template)?;
        let find = if self.find.is_empty() {
            None
        } else {
            let source = if self.regex {
                self.find.clone()
            } else {
                regex::escape(&self.find)
            };
            let re = regex::bytes::RegexBuilder::new(&source)
                .case_insensitive(self.ignore_case)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| PatternError::Regex {
                    pattern: self.find.clone(),
                    error: e.to_string(),
                })?;
            Some(re)
        };
        Ok(Compiled {
            tokens,
            find,
            replace: self.replace.as_bytes().to_vec(),
            expand: self.regex,
            case: self.case,
            scope: self.case_scope,
            start: self.start,
            step: self.step,
            tz: jiff::tz::TimeZone::system(),
        })
    }
}

fn parse(template: &str) -> Result<Vec<Token>, PatternError> {
    if template.is_empty() {
        return Err(PatternError::EmptyTemplate);
    }
    let mut tokens = Vec::new();
    let mut text = String::new();
    let mut chars = template.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|x| x.1) == Some('{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek().map(|x| x.1) == Some('}') => {
                chars.next();
                text.push('}');
            }
            '}' => return Err(PatternError::LoneBrace(template[..at].chars().count() + 1)),
            '{' => {
                let rest = &template[at + 1..];
                let Some(end) = rest.find('}') else {
                    return Err(PatternError::Unclosed(template[at..].to_owned()));
                };
                let inner = &rest[..end];
                if inner.contains('{') {
                    return Err(PatternError::Unclosed(
                        template[at..at + 1 + inner.find('{').unwrap_or(0)].to_owned(),
                    ));
                }
                let token = match inner {
                    "name" => Token::Name,
                    "ext" => Token::Ext,
                    "n" => Token::Counter(1),
                    "date" => Token::Date,
                    "parent" => Token::Parent,
                    _ => match inner.strip_prefix("n:") {
                        Some(digits) => match digits.parse::<usize>() {
                            Ok(w)
                                if (1..=MAX_WIDTH).contains(&w)
                                    && digits.bytes().all(|b| b.is_ascii_digit()) =>
                            {
                                Token::Counter(w)
                            }
                            _ => return Err(PatternError::BadWidth(inner.to_owned())),
                        },
                        None => return Err(PatternError::UnknownToken(inner.to_owned())),
                    },
                };
                if token == Token::Ext && text.ends_with('.') {
                    text.pop();
                    if !text.is_empty() {
                        tokens.push(Token::Text(std::mem::take(&mut text)));
                    }
                    tokens.push(Token::DotExt);
                } else if !text.is_empty() {
                    tokens.push(Token::Text(std::mem::take(&mut text)));
                }
                tokens.push(token);
                // Skip the token's text and its closing brace.
                for _ in 0..inner.chars().count() + 1 {
                    chars.next();
                }
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        tokens.push(Token::Text(text));
    }
    Ok(tokens)
}

impl Compiled {
    /// The same pattern reading dates in `tz` instead of the system's time zone.
    pub fn with_time_zone(mut self, tz: jiff::tz::TimeZone) -> Compiled {
        self.tz = tz;
        self
    }

    /// Whether the pattern gives every name back unchanged whatever the items (the template
    /// `{name}.{ext}` alone): nothing to rename.
    pub fn is_identity(&self) -> bool {
        self.find.is_none()
            && self.case.is_none()
            && self.tokens == [Token::Name, Token::DotExt, Token::Ext]
    }

    /// The new names of `items` (in the order given: the counter counts in it), exact bytes.
    ///
    /// # Errors
    /// [`PatternError::CounterOverflow`].
    pub fn apply(&self, items: &[PatternItem]) -> Result<Vec<Vec<u8>>, PatternError> {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.name(i, item))
            .collect()
    }

    /// The new name of `item`, the `index`-th of the list (from 0).
    ///
    /// # Errors
    /// [`PatternError::CounterOverflow`].
    pub fn name(&self, index: usize, item: &PatternItem) -> Result<Vec<u8>, PatternError> {
        let (stem, dot_ext) = stem_and_extension(&item.name, item.is_dir);
        let ext = dot_ext.strip_prefix(b".").unwrap_or(dot_ext);
        let mut out = Vec::with_capacity(item.name.len() + 8);
        for t in &self.tokens {
            match t {
                Token::Text(s) => out.extend_from_slice(s.as_bytes()),
                Token::Name => out.extend_from_slice(stem),
                Token::Ext => out.extend_from_slice(ext),
                Token::DotExt if !dot_ext.is_empty() => out.push(b'.'),
                Token::DotExt => {}
                Token::Counter(width) => {
                    let n = u64::try_from(index)
                        .ok()
                        .and_then(|i| i.checked_mul(self.step))
                        .and_then(|x| x.checked_add(self.start))
                        .ok_or(PatternError::CounterOverflow(index + 1))?;
                    out.extend_from_slice(format!("{n:0width$}").as_bytes());
                }
                Token::Date => out.extend_from_slice(self.date(item.mtime_ns).as_bytes()),
                Token::Parent => out.extend_from_slice(&item.parent),
            }
        }
        if let Some(re) = &self.find {
            out = if self.expand {
                re.replace_all(&out, self.replace.as_slice()).into_owned()
            } else {
                re.replace_all(&out, regex::bytes::NoExpand(&self.replace))
                    .into_owned()
            };
        }
        if let Some(case) = self.case {
            out = match self.scope {
                CaseScope::Name => change_case(&out, case),
                CaseScope::Stem => {
                    let (stem, ext) = stem_and_extension(&out, item.is_dir);
                    let mut s = change_case(stem, case);
                    s.extend_from_slice(ext);
                    s
                }
            };
        }
        Ok(out)
    }

    fn date(&self, mtime_ns: i64) -> String {
        match jiff::Timestamp::from_nanosecond(i128::from(mtime_ns)) {
            Ok(t) => {
                let d = t.to_zoned(self.tz.clone()).date();
                format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
            }
            Err(_) => "0000-00-00".into(),
        }
    }
}

/// `bytes` in `case`; bytes that are not UTF-8 are left as they are (and end a word).
fn change_case(bytes: &[u8], case: Case) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_word = false;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        match case {
            Case::Lower => out.extend_from_slice(valid.to_lowercase().as_bytes()),
            Case::Upper => out.extend_from_slice(valid.to_uppercase().as_bytes()),
            Case::Title => {
                let mut s = String::with_capacity(valid.len());
                for c in valid.chars() {
                    if c.is_alphanumeric() {
                        if in_word {
                            s.extend(c.to_lowercase());
                        } else {
                            s.extend(c.to_uppercase());
                        }
                        in_word = true;
                    } else {
                        // An apostrophe inside a word does not start a new one ("Don't").
                        in_word = in_word && matches!(c, '\'' | '\u{2019}');
                        s.push(c);
                    }
                }
                out.extend_from_slice(s.as_bytes());
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(chunk.invalid());
            in_word = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &[u8]) -> PatternItem {
        PatternItem {
            name: name.to_vec(),
            is_dir: false,
            // 2024-02-29T23:30:00Z
            mtime_ns: 1_709_249_400_000_000_000,
            parent: b"Trip".to_vec(),
        }
    }

    fn names(p: Pattern, items: &[PatternItem]) -> Vec<Vec<u8>> {
        p.compile()
            .unwrap()
            .with_time_zone(jiff::tz::TimeZone::UTC)
            .apply(items)
            .unwrap()
    }

    fn one(p: Pattern, name: &[u8]) -> String {
        String::from_utf8(names(p, &[item(name)]).remove(0)).unwrap()
    }

    fn template(t: &str) -> Pattern {
        Pattern {
            template: t.into(),
            ..Pattern::default()
        }
    }

    #[test]
    fn the_default_keeps_every_name() {
        for n in [
            &b"a.txt"[..],
            b"noext",
            b".hidden",
            b"archive.tar.gz",
            b"trailing.",
        ] {
            assert_eq!(names(Pattern::default(), &[item(n)]), [n.to_vec()]);
        }
        let dir = PatternItem {
            is_dir: true,
            ..item(b"my.folder")
        };
        assert_eq!(names(Pattern::default(), &[dir]), [b"my.folder".to_vec()]);
        assert!(Pattern::default().compile().unwrap().is_identity());
        assert!(!template("{name}").compile().unwrap().is_identity());
    }

    #[test]
    fn tokens_read_the_item() {
        assert_eq!(
            one(template("{parent} {date} {name} [{ext}]"), b"IMG_1.JPG"),
            "Trip 2024-02-29 IMG_1 [JPG]"
        );
        assert_eq!(one(template("{{{name}}}.{ext}"), b"a.b"), "{a}.b");
        // `.{ext}` vanishes without an extension; a dot elsewhere stays.
        assert_eq!(one(template("x-{n:3}.{ext}"), b"README"), "x-001");
        assert_eq!(one(template("{name}.{n}.bak"), b"README"), "README.1.bak");
        // The date is local to the time zone given.
        let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(2));
        let d = template("{date}")
            .compile()
            .unwrap()
            .with_time_zone(tz)
            .name(0, &item(b"x"))
            .unwrap();
        assert_eq!(d, b"2024-03-01");
    }

    #[test]
    fn the_counter_starts_steps_and_pads() {
        let p = Pattern {
            template: "{n:3}-{n}".into(),
            start: 8,
            step: 2,
            ..Pattern::default()
        };
        let items: Vec<_> = (0..3).map(|_| item(b"f")).collect();
        assert_eq!(
            names(p, &items),
            [b"008-8".to_vec(), b"010-10".to_vec(), b"012-12".to_vec()]
        );
        // Wider numbers are not cut.
        let p = Pattern {
            template: "{n:2}".into(),
            start: 123,
            ..Pattern::default()
        };
        assert_eq!(one(p, b"f"), "123");
        let p = Pattern {
            template: "{n}".into(),
            start: u64::MAX,
            ..Pattern::default()
        };
        let err = p
            .compile()
            .unwrap()
            .apply(&[item(b"a"), item(b"b")])
            .unwrap_err();
        assert_eq!(err, PatternError::CounterOverflow(2));
    }

    #[test]
    fn bytes_that_are_not_utf8_pass_through() {
        let n = b"caf\xe9 \xff.txt";
        let out = names(template("{name}-{n}.{ext}"), &[item(n)]);
        assert_eq!(out, [b"caf\xe9 \xff-1.txt".to_vec()]);
        let p = Pattern {
            case: Some(Case::Upper),
            ..Pattern::default()
        };
        assert_eq!(names(p, &[item(n)]), [b"CAF\xe9 \xff.txt".to_vec()]);
        let p = Pattern {
            find: ".".into(),
            replace: "_".into(),
            regex: true,
            ..Pattern::default()
        };
        // `.` matches characters, never a stray byte.
        assert_eq!(names(p, &[item(b"a\xe9b")]), [b"_\xe9_".to_vec()]);
        let parent = PatternItem {
            parent: b"d\xfe".to_vec(),
            ..item(b"x")
        };
        assert_eq!(names(template("{parent}"), &[parent]), [b"d\xfe".to_vec()]);
    }

    #[test]
    fn find_and_replace_plain_and_regex() {
        let p = |find: &str, replace: &str, regex: bool, ignore_case: bool| Pattern {
            find: find.into(),
            replace: replace.into(),
            regex,
            ignore_case,
            ..Pattern::default()
        };
        // Plain text: regex characters and `$` are literal.
        assert_eq!(one(p("a.b", "$1", false, false), b"xa.b.y"), "x$1.y");
        assert_eq!(one(p("a.b", "-", false, false), b"axb"), "axb");
        assert_eq!(
            one(p("img", "photo", false, true), b"IMG_1.jpg"),
            "photo_1.jpg"
        );
        assert_eq!(
            one(p("img", "photo", false, false), b"IMG_1.jpg"),
            "IMG_1.jpg"
        );
        assert_eq!(
            one(p(r"(\d+)-(\d+)", "${2}_$1", true, false), b"10-20.txt"),
            "20_10.txt"
        );
        assert_eq!(one(p(r"\s+", " ", true, false), b"a   b\tc"), "a b c");
        let err = p("(", "", true, false).compile().unwrap_err();
        assert!(matches!(&err, PatternError::Regex { pattern, .. } if pattern == "("));
        assert!(err.to_string().contains("“(”"), "{err}");
    }

    #[test]
    fn case_changes_the_stem_or_the_whole_name() {
        let p = |case, scope| Pattern {
            case: Some(case),
            case_scope: scope,
            ..Pattern::default()
        };
        assert_eq!(
            one(p(Case::Lower, CaseScope::Stem), b"My PHOTO.JPG"),
            "my photo.JPG"
        );
        assert_eq!(
            one(p(Case::Lower, CaseScope::Name), b"My PHOTO.JPG"),
            "my photo.jpg"
        );
        assert_eq!(
            one(p(Case::Upper, CaseScope::Stem), "straße.txt".as_bytes()),
            "STRASSE.txt"
        );
        assert_eq!(
            one(p(Case::Title, CaseScope::Stem), b"the CAT's-day_out 2.TXT"),
            "The Cat's-Day_Out 2.TXT"
        );
        assert_eq!(
            one(p(Case::Title, CaseScope::Name), b"\xc3\xa9t\xc3\xa9 x.TXT"),
            "Été X.Txt"
        );
    }

    #[test]
    fn bad_templates_name_the_bad_token() {
        let err = |t: &str| template(t).compile().unwrap_err();
        assert_eq!(err(""), PatternError::EmptyTemplate);
        assert_eq!(err("{nmae}"), PatternError::UnknownToken("nmae".into()));
        assert!(
            err("{nmae}").to_string().contains("{nmae}"),
            "{}",
            err("{nmae}")
        );
        assert_eq!(err("x{name"), PatternError::Unclosed("{name".into()));
        assert_eq!(err("{na{me}"), PatternError::Unclosed("{na".into()));
        assert_eq!(err("ab}c"), PatternError::LoneBrace(3));
        for w in ["n:", "n:0", "n:x", "n:99", "n: 3", "n:+3"] {
            assert_eq!(
                err(&format!("{{{w}}}")),
                PatternError::BadWidth(w.into()),
                "{w}"
            );
        }
        assert!(err("{n:x}").to_string().contains("{n:x}"));
    }
}
