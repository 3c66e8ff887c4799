//! File operations: `cp`, `mv`, `rename` (one item, or several with a pattern), `mkdir`, `trash` (`list`, `restore`, `empty`),
//! `rm --permanent`, `history` and `undo`. Each previews first (`--dry-run` prints only the
//! preview, `--json` as JSON), refuses with exit status 1 and the reasons, and follows its job
//! with a progress bar.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::Output;
use super::jobs::follow;
use crate::format;
use crate::vdfs::actions::pattern::{Case, CaseScope, Pattern};
use crate::vdfs::actions::{Committed, OnConflict, OpKind, Outcome, Preview, Request};
use crate::vdfs::fs::entry::os_bytes;
use crate::vdfs::{Core, Library};

/// What to do with a name that is taken at the destination.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConflictArg {
    /// Refuse (the default: nothing is ever overwritten silently).
    Ask,
    /// Leave the existing item; skip this one.
    Skip,
    /// Replace existing files; merge folders.
    Replace,
    /// Keep both: the new item is named "name (2)".
    KeepBoth,
    /// Merge folders; skip files that are taken.
    Merge,
}

impl From<ConflictArg> for OnConflict {
    fn from(c: ConflictArg) -> OnConflict {
        match c {
            ConflictArg::Ask => OnConflict::Ask,
            ConflictArg::Skip => OnConflict::Skip,
            ConflictArg::Replace => OnConflict::Replace,
            ConflictArg::KeepBoth => OnConflict::KeepBoth,
            ConflictArg::Merge => OnConflict::Merge,
        }
    }
}

/// Options shared by every file operation.
#[derive(Debug, Args)]
pub struct OpOptions {
    /// Print the preview (what would happen) and change nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// What to do when a name is taken at the destination.
    #[arg(long, value_enum, default_value = "ask")]
    pub on_conflict: ConflictArg,
}

/// `cairn cp` / `cairn mv`
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The items, then the destination folder (any bytes, UTF-8 or not).
    #[arg(required = true, num_args = 2..)]
    pub paths: Vec<OsString>,
    /// Do not re-read each copy to check it against its source (faster; sizes still checked).
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub opts: OpOptions,
}

/// `cairn rename PATH NEW`, or a batch rename: `cairn rename --pattern TEMPLATE PATHS…`
/// (any of the pattern options makes every argument an item to rename).
#[derive(Debug, Args)]
pub struct RenameArgs {
    /// The item and its new name (a name, not a path); with a pattern option, the items,
    /// named in this order (the counter counts in it).
    #[arg(required = true, num_args = 1..)]
    pub paths: Vec<OsString>,
    /// Batch rename with this template: `{name}` (the name without its extension), `{ext}`
    /// (the extension, no dot; a dot before it goes when there is none), `{n}` or `{n:3}`
    /// (a counter, zero-padded), `{date}` (modification date, YYYY-MM-DD), `{parent}` (the
    /// folder's name), `{{`/`}}` (braces). Default `{name}.{ext}` (the name unchanged).
    #[arg(long, value_name = "TEMPLATE")]
    pub pattern: Option<String>,
    /// Replace this text in each new name (after the template).
    #[arg(long, value_name = "TEXT")]
    pub find: Option<String>,
    /// What replaces `--find` (default: nothing); with `--regex`, `$1` names a group.
    #[arg(long, value_name = "TEXT", requires = "find")]
    pub replace: Option<String>,
    /// `--find` is a regular expression (Rust `regex` syntax).
    #[arg(long, requires = "find")]
    pub regex: bool,
    /// `--find` ignores case.
    #[arg(long, requires = "find")]
    pub ignore_case: bool,
    /// Change the case of each new name's stem (or, with `--case-scope name`, all of it).
    #[arg(long, value_enum)]
    pub case: Option<CaseArg>,
    /// What `--case` changes.
    #[arg(long, value_enum, default_value = "stem", requires = "case")]
    pub case_scope: CaseScopeArg,
    /// The counter's first value.
    #[arg(long, value_name = "N")]
    pub start: Option<u64>,
    /// What the counter adds per item.
    #[arg(long, value_name = "N")]
    pub step: Option<u64>,
    #[command(flatten)]
    pub opts: OpOptions,
}

impl RenameArgs {
    /// The pattern, when any pattern option is given (a batch rename).
    fn batch_pattern(&self) -> Option<Pattern> {
        let batch = self.pattern.is_some()
            || self.find.is_some()
            || self.case.is_some()
            || self.start.is_some()
            || self.step.is_some();
        batch.then(|| {
            let d = Pattern::default();
            Pattern {
                template: self.pattern.clone().unwrap_or(d.template),
                find: self.find.clone().unwrap_or_default(),
                replace: self.replace.clone().unwrap_or_default(),
                regex: self.regex,
                ignore_case: self.ignore_case,
                case: self.case.map(|c| match c {
                    CaseArg::Lower => Case::Lower,
                    CaseArg::Upper => Case::Upper,
                    CaseArg::Title => Case::Title,
                }),
                case_scope: match self.case_scope {
                    CaseScopeArg::Stem => CaseScope::Stem,
                    CaseScopeArg::Name => CaseScope::Name,
                },
                start: self.start.unwrap_or(d.start),
                step: self.step.unwrap_or(d.step),
            }
        })
    }
}

/// `--case`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CaseArg {
    /// lower case
    Lower,
    /// UPPER CASE
    Upper,
    /// Title Case
    Title,
}

/// `--case-scope`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CaseScopeArg {
    /// The name without its extension.
    Stem,
    /// The whole name.
    Name,
}

/// `cairn mkdir`
#[derive(Debug, Args)]
pub struct MkdirArgs {
    /// The new folder's path (its parent must exist).
    pub path: OsString,
    #[command(flatten)]
    pub opts: OpOptions,
}

/// `cairn trash`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TrashArgs {
    /// Items to move to the trash.
    pub paths: Vec<OsString>,
    /// List, restore or empty the trash instead.
    #[command(subcommand)]
    pub command: Option<TrashCommand>,
    #[command(flatten)]
    pub opts: OpOptions,
}

/// `cairn trash list|restore|empty`
#[derive(Debug, Subcommand)]
pub enum TrashCommand {
    /// What is in the trash, newest first.
    List,
    /// Put items back where they were, by their original path (or their path in the trash).
    Restore {
        /// Original paths (the newest trashed item of that path) or paths inside a trash.
        #[arg(required = true)]
        paths: Vec<OsString>,
        #[command(flatten)]
        opts: OpOptions,
    },
    /// Delete everything in the trash for good.
    Empty {
        /// Really do it (without it, only says what would be deleted).
        #[arg(long)]
        yes: bool,
    },
}

/// `cairn rm`
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Items to delete.
    #[arg(required = true)]
    pub paths: Vec<OsString>,
    /// Delete for good instead of moving to the trash (required: `cairn trash` is the safe way).
    #[arg(long)]
    pub permanent: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub opts: OpOptions,
}

/// `cairn history`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How many operations to show.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// `cairn undo`
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The operation to undo (from `cairn history`); default: the newest that can be.
    pub id: Option<u64>,
}

fn abs(p: &OsString) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| PathBuf::from(p))
}

/// Runs one operation: preview, print or refuse, commit, follow.
pub(super) fn run(
    core: &Core,
    out: &Output,
    lib: &Library,
    req: Request,
    dry_run: bool,
) -> anyhow::Result<()> {
    let p = lib.preview(&req)?;
    if dry_run {
        print_preview(out, &p);
        if !p.can_commit() {
            bail!("refused: {}", p.refusals.join("; "));
        }
        return Ok(());
    }
    if !p.can_commit() {
        bail!("refused: {}", p.refusals.join("; "));
    }
    if !out.json {
        for w in &p.warnings {
            crate::errln!("warning: {w}");
        }
    }
    let mut events = core.events().subscribe();
    match lib.commit(&p)? {
        Committed::Job { handle, audit } => {
            follow(out, lib, &handle, &mut events)?;
            let rec = lib.audit_record(audit)?;
            if let Some(rec) = rec {
                if out.json {
                    out.json(&json!({ "audit": audit, "status": rec.status.as_str(), "summary": rec.summary, "errors": rec.errors }));
                } else if !rec.errors.is_empty() {
                    for e in &rec.errors {
                        crate::errln!("error: {e}");
                    }
                }
                let failed = lib.jobs().get(handle.id())?.error_count;
                if failed > 0 {
                    bail!(
                        "{} of the items could not be handled (see above); `cairn undo {audit}` undoes what was done",
                        failed
                    );
                }
            }
        }
        Committed::Done { audit, path } => {
            if out.json {
                out.json(&json!({ "audit": audit, "path": format::shown(&path) }));
            } else {
                crate::outln!("{}", format::shown(&path));
            }
        }
    }
    Ok(())
}

fn print_preview(out: &Output, p: &Preview) {
    if out.json {
        out.json(&serde_json::to_value(p).unwrap_or_default());
        return;
    }
    if p.kind == OpKind::BatchRename {
        print_renames(p);
        return;
    }
    for i in &p.items {
        let what = match i.outcome {
            crate::vdfs::actions::Outcome::Copy => "copy",
            crate::vdfs::actions::Outcome::Rename => "move",
            crate::vdfs::actions::Outcome::CopyThenRemove => "move (copy, verify, remove)",
            crate::vdfs::actions::Outcome::Replace => "replace",
            crate::vdfs::actions::Outcome::Merge => "merge into",
            crate::vdfs::actions::Outcome::Skip => "skip",
            crate::vdfs::actions::Outcome::Trash => "trash",
            crate::vdfs::actions::Outcome::Delete => "delete permanently",
            crate::vdfs::actions::Outcome::Create => "create",
            crate::vdfs::actions::Outcome::Restore => "restore",
            crate::vdfs::actions::Outcome::Link => "replace by a hard link",
        };
        let conflict = i
            .conflict
            .as_ref()
            .map(|c| {
                format!(
                    "  [exists: {} {}, {}]",
                    c.existing_kind.as_str(),
                    format::bytes(c.existing_size),
                    match c.identical {
                        Some(true) => "identical",
                        Some(false) => "different",
                        None => "not compared",
                    }
                )
            })
            .unwrap_or_default();
        if i.source.as_os_str().is_empty() {
            crate::outln!("{what} {}{conflict}", format::shown(&i.target));
        } else {
            crate::outln!(
                "{what} {} → {}{conflict}",
                format::shown(&i.source),
                format::shown(&i.target)
            );
        }
    }
    crate::outln!(
        "{} {}, {}{}",
        format::count(p.files),
        if p.files == 1 { "file" } else { "files" },
        format::bytes(p.bytes),
        p.dest_free
            .map(|f| format!("; {} free at the destination", format::bytes(f)))
            .unwrap_or_default()
    );
    for w in &p.warnings {
        crate::outln!("warning: {w}");
    }
    for r in &p.refusals {
        crate::outln!("refused: {r}");
    }
}

/// A batch rename's preview as a table: each item (its path), `→`, its new name.
fn print_renames(p: &Preview) {
    let rows: Vec<(String, String, bool)> = p
        .items
        .iter()
        .map(|i| {
            let new = format::shown(std::path::Path::new(
                i.target.file_name().unwrap_or_default(),
            ));
            (format::shown(&i.source), new, i.outcome == Outcome::Skip)
        })
        .collect();
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    for (old, new, same) in &rows {
        let pad = width - old.chars().count();
        if *same {
            crate::outln!("{old}{:pad$}   (unchanged)", "");
        } else {
            crate::outln!("{old}{:pad$} → {new}", "");
        }
    }
    crate::outln!(
        "{} of {} {} renamed",
        format::count(p.files),
        format::count(p.items.len() as u64),
        if p.items.len() == 1 { "item" } else { "items" }
    );
    for r in &p.refusals {
        crate::outln!("refused: {r}");
    }
}

pub(super) fn copy(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &CopyArgs,
    kind: OpKind,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    let (dest, sources) = a.paths.split_last().expect("clap requires two");
    let mut req = Request::new(kind, sources.iter().map(abs).collect())
        .to(abs(dest))
        .on_conflict(a.opts.on_conflict.into());
    req.verify = !a.no_verify;
    run(core, out, &lib, req, a.opts.dry_run)
}

pub(super) fn rename(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &RenameArgs,
) -> anyhow::Result<()> {
    let req = match (a.batch_pattern(), a.paths.as_slice()) {
        (Some(pattern), paths) => {
            Request::new(OpKind::BatchRename, paths.iter().map(abs).collect()).pattern(pattern)
        }
        (None, [path, name]) => Request::new(OpKind::Rename, vec![abs(path)])
            .named(os_bytes(name).to_vec())
            .on_conflict(a.opts.on_conflict.into()),
        (None, _) => bail!(
            "`cairn rename PATH NEW` takes an item and its new name; to rename several items, give a pattern (`--pattern '{{name}}-{{n:3}}.{{ext}}'`, `--find`, `--case`)"
        ),
    };
    let lib = core.open_library(selected)?;
    run(core, out, &lib, req, a.opts.dry_run)
}

pub(super) fn mkdir(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &MkdirArgs,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    let path = abs(&a.path);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        bail!("{} cannot be created", path.display());
    };
    let req = Request::new(OpKind::NewFolder, Vec::new())
        .to(parent)
        .named(os_bytes(name).to_vec())
        .on_conflict(a.opts.on_conflict.into());
    run(core, out, &lib, req, a.opts.dry_run)
}

pub(super) fn trash(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &TrashArgs,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    match &a.command {
        None => {
            if a.paths.is_empty() {
                bail!("name the items to trash, or use `cairn trash list`");
            }
            let req = Request::new(OpKind::Trash, a.paths.iter().map(abs).collect());
            run(core, out, &lib, req, a.opts.dry_run)
        }
        Some(TrashCommand::List) => {
            let items = lib.trash_items();
            if out.json {
                let rows: Vec<_> = items
                    .iter()
                    .map(|i| json!({ "original": format::shown(&i.original), "deleted": i.deleted, "path": format::shown(&i.path()) }))
                    .collect();
                out.json(&json!(rows));
            } else if items.is_empty() {
                crate::outln!("The trash is empty.");
            } else {
                for i in &items {
                    crate::outln!("{}  {}", i.deleted, format::shown(&i.original));
                }
            }
            Ok(())
        }
        Some(TrashCommand::Restore { paths, opts }) => {
            let items = lib.trash_items();
            let mut sources = Vec::new();
            for p in paths {
                let p = abs(p);
                // A path inside a trash, or the newest item trashed from that original path.
                if let Some(i) = items.iter().find(|i| i.path() == p || i.original == p) {
                    sources.push(i.path());
                } else {
                    bail!(
                        "{} is not in the trash (`cairn trash list` shows what is)",
                        p.display()
                    );
                }
            }
            let req = Request::new(OpKind::Restore, sources).on_conflict(opts.on_conflict.into());
            run(core, out, &lib, req, opts.dry_run)
        }
        Some(TrashCommand::Empty { yes }) => {
            let items = lib.trash_items();
            if !yes {
                crate::outln!(
                    "{} {} in the trash would be deleted for good; run `cairn trash empty --yes` to do it",
                    items.len(),
                    if items.len() == 1 { "item" } else { "items" }
                );
                return Ok(());
            }
            let n = lib.empty_trash(Some(&items))?;
            crate::outln!(
                "Deleted {n} {} for good.",
                if n == 1 { "item" } else { "items" }
            );
            Ok(())
        }
    }
}

pub(super) fn rm(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &RmArgs,
) -> anyhow::Result<()> {
    if !a.permanent {
        bail!(
            "`cairn rm` deletes for good only with --permanent; `cairn trash` moves items to the trash, where they can be restored"
        );
    }
    let lib = core.open_library(selected)?;
    let req = Request::new(OpKind::Delete, a.paths.iter().map(abs).collect());
    if !a.yes && !a.opts.dry_run {
        let p = lib.preview(&req)?;
        print_preview(out, &p);
        bail!("add --yes to delete these for good");
    }
    run(core, out, &lib, req, a.opts.dry_run)
}

pub(super) fn history(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &HistoryArgs,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    let list = lib.history(a.limit)?;
    if out.json {
        out.json(&serde_json::to_value(&list).unwrap_or_default());
        return Ok(());
    }
    if list.is_empty() {
        crate::outln!("No file operations yet.");
    }
    for r in &list {
        let undo = match (r.undone_by, r.undo_hint()) {
            (Some(by), _) => format!("undone by #{by}"),
            (None, Ok(h)) => format!("undo: {h}"),
            (None, Err(_)) => String::new(),
        };
        crate::outln!(
            "#{:<4} {}  {:<11} {}  {}  {}",
            r.id,
            format::time_ms(r.started_ms),
            r.status.as_str(),
            r.title,
            r.summary,
            undo
        );
    }
    Ok(())
}

/// `cairn undo [ID]` (`a` given) or `cairn redo` (`a` is `None`).
pub(super) fn undo(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: Option<&UndoArgs>,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    let mut events = core.events().subscribe();
    let done = match a {
        Some(a) => lib.undo(a.id)?,
        None => lib.redo()?,
    };
    match done {
        Committed::Job { handle, audit } => {
            follow(out, &lib, &handle, &mut events)?;
            if !out.json {
                crate::outln!("Done (#{audit}).");
            }
        }
        Committed::Done { audit, path } => {
            if !out.json {
                crate::outln!("Done (#{audit}): {}", format::shown(&path));
            }
        }
    }
    Ok(())
}
