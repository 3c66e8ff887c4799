//! Indexer rules: which files and folders a walk leaves out, applied at the edge (a skipped
//! folder is never opened), with a count of everything skipped so the UI can say so.
//!
//! The defaults leave out only things that are not a person's documents: operating-system
//! clutter (`.DS_Store`, `Thumbs.db`, `$RECYCLE.BIN`, `lost+found` …) and the internals of
//! developer folders (`node_modules`, `.git`, `__pycache__`, a Rust `target/` next to its
//! `Cargo.toml` …). Hidden files and `.gitignore`d files are kept unless asked.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::vdfs::fs::entry::EntryKind;

/// Per-location rule toggles and user globs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rules {
    /// Skip operating-system clutter.
    pub no_system_files: bool,
    /// Skip names starting with a dot.
    pub no_hidden: bool,
    /// Skip dependency and build folders and VCS internals.
    pub no_dev_dirs: bool,
    /// Inside git repositories, skip what `.gitignore` and `.git/info/exclude` ignore
    /// (negations honoured).
    pub respect_gitignore: bool,
    /// Keep only images (and the folders leading to them).
    pub only_images: bool,
    /// Skip paths matching these globs (`*.tmp`, `**/cache/**`), matched against the path
    /// relative to the location root and against the bare name.
    pub exclude_globs: Vec<String>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            no_system_files: true,
            no_hidden: false,
            no_dev_dirs: true,
            respect_gitignore: false,
            only_images: false,
            exclude_globs: Vec::new(),
        }
    }
}

/// The toggle names accepted by [`Rules::parse`].
pub const TOGGLES: [&str; 5] = [
    "no-system-files",
    "no-hidden",
    "no-dev-dirs",
    "gitignore",
    "only-images",
];

impl Rules {
    /// No rule at all: everything is indexed.
    pub fn none() -> Rules {
        Rules {
            no_system_files: false,
            no_hidden: false,
            no_dev_dirs: false,
            respect_gitignore: false,
            only_images: false,
            exclude_globs: Vec::new(),
        }
    }

    /// Parses a comma-separated list of `none`, `default` and toggles from [`TOGGLES`]
    /// (e.g. `default,gitignore` or `no-hidden`); a list without `default` starts from none.
    ///
    /// # Errors
    /// A message naming the unknown toggle and listing the valid ones.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let mut r = Rules::none();
        for t in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            match t {
                "none" => r = Rules::none(),
                "default" => {
                    let globs = std::mem::take(&mut r.exclude_globs);
                    r = Rules {
                        exclude_globs: globs,
                        ..Rules::default()
                    };
                }
                "no-system-files" => r.no_system_files = true,
                "no-hidden" => r.no_hidden = true,
                "no-dev-dirs" => r.no_dev_dirs = true,
                "gitignore" => r.respect_gitignore = true,
                "only-images" => r.only_images = true,
                other => {
                    return Err(format!(
                        "unknown rule {other:?}; use none, default, or a list of: {}",
                        TOGGLES.join(", ")
                    ));
                }
            }
        }
        Ok(r)
    }

    /// A short description, e.g. `no-system-files, no-dev-dirs, exclude *.tmp`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = [
            (self.no_system_files, "no-system-files"),
            (self.no_hidden, "no-hidden"),
            (self.no_dev_dirs, "no-dev-dirs"),
            (self.respect_gitignore, "gitignore"),
            (self.only_images, "only-images"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| (*n).to_owned())
        .collect();
        parts.extend(self.exclude_globs.iter().map(|g| format!("exclude {g}")));
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// Which rule skipped something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// Operating-system clutter.
    System,
    /// A hidden name.
    Hidden,
    /// A developer folder.
    DevDir,
    /// Ignored by git.
    GitIgnored,
    /// Not an image.
    NotImage,
    /// A user glob.
    Glob,
}

/// Counts of skipped files and folders, per rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipCounts {
    /// Folders skipped (their contents were never read).
    pub folders: u64,
    /// Files (and other non-folders) skipped.
    pub files: u64,
    /// `(rule, folders, files)` for each rule that skipped something.
    pub by_rule: Vec<(Skip, u64, u64)>,
}

impl SkipCounts {
    /// Records one skip.
    pub fn add(&mut self, rule: Skip, is_dir: bool) {
        let (d, f) = if is_dir { (1, 0) } else { (0, 1) };
        self.folders += d;
        self.files += f;
        match self.by_rule.iter_mut().find(|r| r.0 == rule) {
            Some(r) => {
                r.1 += d;
                r.2 += f;
            }
            None => self.by_rule.push((rule, d, f)),
        }
    }

    /// Adds another count into this one.
    pub fn merge(&mut self, other: &SkipCounts) {
        self.folders += other.folders;
        self.files += other.files;
        for &(rule, d, f) in &other.by_rule {
            match self.by_rule.iter_mut().find(|r| r.0 == rule) {
                Some(r) => {
                    r.1 += d;
                    r.2 += f;
                }
                None => self.by_rule.push((rule, d, f)),
            }
        }
    }

    /// E.g. `412 folders and 3 files skipped by rules`, or `None` if nothing was skipped.
    pub fn summary(&self) -> Option<String> {
        if self.folders == 0 && self.files == 0 {
            return None;
        }
        Some(format!(
            "{} folder{} and {} file{} skipped by rules",
            self.folders,
            if self.folders == 1 { "" } else { "s" },
            self.files,
            if self.files == 1 { "" } else { "s" }
        ))
    }
}

/// Names of operating-system clutter (compared exactly).
const SYSTEM_NAMES: &[&[u8]] = &[
    b".DS_Store",
    b".AppleDouble",
    b".LSOverride",
    b".Spotlight-V100",
    b".Trashes",
    b".fseventsd",
    b".TemporaryItems",
    b".DocumentRevisions-V100",
    b"Thumbs.db",
    b"ehthumbs.db",
    b"desktop.ini",
    b"$RECYCLE.BIN",
    b"System Volume Information",
    b"lost+found",
    b".directory",
];

/// Folders that are dependency caches or VCS internals wherever they are.
const DEV_DIRS: &[&[u8]] = &[
    b"node_modules",
    b".git",
    b".hg",
    b".svn",
    b"__pycache__",
    b".venv",
    b".tox",
    b".mypy_cache",
    b".pytest_cache",
    b".gradle",
    b".next",
    b".nuxt",
    b".parcel-cache",
    b".terraform",
    b"bower_components",
];

/// Image extensions for `only_images` (lower case).
const IMAGE_EXTS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "gif", "webp", "bmp", "tif", "tiff", "heic", "heif",
    "avif", "svg", "ico", "psd", "raw", "cr2", "cr3", "nef", "arw", "dng", "orf", "rw2", "raf",
    "jxl", "qoi", "tga",
];

/// Rules compiled for fast matching during a walk.
#[derive(Debug, Clone)]
pub struct Compiled {
    rules: Rules,
    globs: Option<globset::GlobSet>,
}

impl Compiled {
    /// Compiles `rules`.
    ///
    /// # Errors
    /// A message naming the glob that does not parse.
    pub fn new(rules: &Rules) -> Result<Compiled, String> {
        let globs = if rules.exclude_globs.is_empty() {
            None
        } else {
            let mut b = globset::GlobSetBuilder::new();
            for g in &rules.exclude_globs {
                b.add(globset::Glob::new(g).map_err(|e| format!("bad glob {g:?}: {e}"))?);
            }
            Some(b.build().map_err(|e| e.to_string())?)
        };
        Ok(Compiled {
            rules: rules.clone(),
            globs,
        })
    }

    /// The rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Whether the name-based rules skip a child named `name` of kind `kind`.
    /// `parent_has_cargo_toml` tells whether the folder also holds a `Cargo.toml` (a `target`
    /// folder next to one is Rust build output). `rel` is the path relative to the root, for
    /// globs. Git-ignore is checked separately by the walker.
    pub fn skip(
        &self,
        name: &[u8],
        kind: EntryKind,
        rel: &Path,
        parent_has_cargo_toml: bool,
    ) -> Option<Skip> {
        let r = &self.rules;
        let is_dir = kind == EntryKind::Dir;
        if r.no_system_files && (SYSTEM_NAMES.contains(&name) || name.starts_with(b".Trash-")) {
            return Some(Skip::System);
        }
        if r.no_dev_dirs
            && is_dir
            && (DEV_DIRS.contains(&name) || (name == b"target" && parent_has_cargo_toml))
        {
            return Some(Skip::DevDir);
        }
        if r.no_hidden && name.first() == Some(&b'.') {
            return Some(Skip::Hidden);
        }
        if let Some(g) = &self.globs {
            let bare = Path::new(std::ffi::OsStr::new(
                std::str::from_utf8(name).unwrap_or_default(),
            ));
            if g.is_match(rel) || (!bare.as_os_str().is_empty() && g.is_match(bare)) {
                return Some(Skip::Glob);
            }
        }
        if r.only_images && !is_dir {
            let is_image = crate::vdfs::fs::entry::extension_of(name)
                .is_some_and(|e| IMAGE_EXTS.iter().any(|x| x.eq_ignore_ascii_case(e)));
            if !is_image {
                return Some(Skip::NotImage);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_describe() {
        assert_eq!(Rules::parse("none").unwrap(), Rules::none());
        assert_eq!(Rules::parse("default").unwrap(), Rules::default());
        let r = Rules::parse("no-hidden, gitignore").unwrap();
        assert!(r.no_hidden && r.respect_gitignore && !r.no_dev_dirs);
        assert_eq!(r.describe(), "no-hidden, gitignore");
        assert!(Rules::parse("no-cats").unwrap_err().contains("no-cats"));
        let d = Rules::parse("default,gitignore").unwrap();
        assert!(d.no_dev_dirs && d.no_system_files && d.respect_gitignore);
        assert_eq!(Rules::none().describe(), "none");
    }

    #[test]
    fn defaults_keep_ordinary_documents() {
        let c = Compiled::new(&Rules::default()).unwrap();
        let keep = |n: &str, k| c.skip(n.as_bytes(), k, Path::new(n), false);
        assert_eq!(keep("Résumé.docx", EntryKind::File), None);
        assert_eq!(keep(".bashrc", EntryKind::File), None);
        assert_eq!(
            keep("target", EntryKind::Dir),
            None,
            "a folder named target is kept"
        );
        assert_eq!(keep("build", EntryKind::Dir), None);
        assert_eq!(keep(".DS_Store", EntryKind::File), Some(Skip::System));
        assert_eq!(keep("node_modules", EntryKind::Dir), Some(Skip::DevDir));
        assert_eq!(keep("node_modules", EntryKind::File), None);
        assert_eq!(
            c.skip(b"target", EntryKind::Dir, Path::new("target"), true),
            Some(Skip::DevDir)
        );
    }

    #[test]
    fn globs_and_only_images() {
        let c = Compiled::new(&Rules {
            exclude_globs: vec!["*.tmp".into(), "cache/**".into()],
            only_images: true,
            ..Rules::none()
        })
        .unwrap();
        assert_eq!(
            c.skip(b"a.tmp", EntryKind::File, Path::new("x/a.tmp"), false),
            Some(Skip::Glob)
        );
        assert_eq!(
            c.skip(b"f.png", EntryKind::File, Path::new("cache/f.png"), false),
            Some(Skip::Glob)
        );
        assert_eq!(
            c.skip(b"f.PNG", EntryKind::File, Path::new("p/f.PNG"), false),
            None
        );
        assert_eq!(
            c.skip(b"f.txt", EntryKind::File, Path::new("p/f.txt"), false),
            Some(Skip::NotImage)
        );
        assert_eq!(
            c.skip(b"photos", EntryKind::Dir, Path::new("photos"), false),
            None
        );
    }

    #[test]
    fn counts_summarise() {
        let mut s = SkipCounts::default();
        assert_eq!(s.summary(), None);
        s.add(Skip::DevDir, true);
        s.add(Skip::System, false);
        s.add(Skip::DevDir, true);
        assert_eq!(
            s.summary().unwrap(),
            "2 folders and 1 file skipped by rules"
        );
        assert_eq!(s.by_rule, vec![(Skip::DevDir, 2, 0), (Skip::System, 0, 1)]);
    }
}
