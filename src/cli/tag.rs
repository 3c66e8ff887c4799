//! `cairn tag …`: make, list, change and delete tags; put them on files and folders and take
//! them off; show a file's tags.

use std::ffi::OsString;

use clap::Subcommand;
use serde_json::json;

use super::Output;
use crate::vdfs::Core;
use crate::vdfs::index::tags::Privacy;
use crate::vdfs::library::{NewTag, TagInfo, TagVia};

/// `cairn tag …`
#[derive(Debug, Subcommand)]
pub enum TagCommand {
    /// Make a tag. `namespace::name` puts it in a namespace (two "Project" tags may live in
    /// different ones).
    Create {
        /// Its name.
        name: String,
        /// Another name that finds it (repeat for several).
        #[arg(long = "alias", value_name = "ALIAS")]
        aliases: Vec<String>,
        /// A colour, #rrggbb.
        #[arg(long)]
        colour: Option<String>,
        /// A tag to put it under ("Paris" under "France").
        #[arg(long)]
        parent: Option<String>,
        /// normal (default), archive (left out of the default list, and its files out of
        /// searches that name no tag) or hidden (shown only when asked for).
        #[arg(long, default_value = "normal", value_parser = parse_privacy)]
        privacy: Privacy,
    },
    /// List the tags as a tree, with how many files each is on (archive and hidden tags with
    /// --all).
    Ls {
        /// Show archive and hidden tags too.
        #[arg(long)]
        all: bool,
    },
    /// Put a tag on files and folders (one change, however many).
    Add(TagTargets),
    /// Take a tag off files and folders.
    Rm(TagTargets),
    /// The tags of a file or folder (on it, and on its content).
    Show {
        /// An indexed file or folder.
        path: OsString,
    },
    /// Rename a tag (`namespace::name` moves it to that namespace).
    Rename {
        /// The tag.
        tag: String,
        /// Its new name.
        new_name: String,
    },
    /// Change a tag's colour, aliases or privacy.
    Set {
        /// The tag.
        tag: String,
        /// A colour, #rrggbb; `none` clears it.
        #[arg(long)]
        colour: Option<String>,
        /// Its aliases (replacing the ones it has; repeat for several).
        #[arg(long = "alias", value_name = "ALIAS")]
        aliases: Option<Vec<String>>,
        /// normal, archive or hidden.
        #[arg(long, value_parser = parse_privacy)]
        privacy: Option<Privacy>,
        /// An icon: a short symbol or emoji shown before its name; `none` clears it.
        #[arg(long)]
        icon: Option<String>,
        /// Its namespace (two tags of one name may live in two namespaces); `none` clears it.
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Put a tag under another one (a tag may have several parents; cycles are refused).
    Parent {
        /// The child tag.
        child: String,
        /// The parent tag.
        parent: String,
    },
    /// Take a tag from under another one.
    Unparent {
        /// The child tag.
        child: String,
        /// The parent tag.
        parent: String,
    },
    /// Merge a tag into another: everything it is on gets the other, its children and
    /// parents become the other's, its name becomes an alias of the other; then it is gone.
    Merge {
        /// The tag that goes.
        from: String,
        /// The tag that stays.
        into: String,
    },
    /// Files that carried tags, a note or a rating, or were in a collection, and are gone
    /// from the index: what was on them is kept for 60 days (a file that comes back under the
    /// same identity finds it again), then forgotten.
    Missing {
        /// Forget what was on these missing items now (their entry UUIDs, as listed).
        #[arg(long, value_name = "UUID", num_args = 1..)]
        forget: Vec<uuid::Uuid>,
        /// Forget what was on every missing item now.
        #[arg(long, conflicts_with = "forget")]
        forget_all: bool,
    },
    /// Undo the newest tagging or untagging made on this device (one action, however many
    /// items); again for the one before.
    Undo,
    /// Delete a tag and take it off everything (your files are not touched).
    Delete {
        /// The tag.
        tag: String,
    },
    /// Write every tag and what carries it, every note and rating and every collection as
    /// JSON (keyed by UUID, with each file's path and content identity), to standard output or
    /// a new file.
    Export {
        /// A file to write (refused if it exists, unless --force).
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Bring tags, notes, ratings and collections from an export into this library: files are
    /// found by their entry, then by their content (any copy), then by path. Nothing is
    /// removed, a note already here is kept; importing twice changes nothing.
    Import {
        /// The export (`-` for standard input).
        file: std::path::PathBuf,
    },
}

/// The local paths of path arguments (plain paths or `cairn://` addresses).
fn local_paths(
    core: &Core,
    lib: &crate::vdfs::Library,
    ps: &[OsString],
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    ps.iter().map(|p| super::local_path(core, lib, p)).collect()
}

/// A tag and what it goes on or comes off.
#[derive(Debug, clap::Args)]
pub struct TagTargets {
    /// The tag (name, alias or namespace::name).
    tag: String,
    /// Indexed files and folders.
    #[arg(required = true)]
    paths: Vec<OsString>,
    /// The content instead: every copy of each file, wherever it is or will be.
    #[arg(long)]
    content: bool,
    /// Also everything below each folder.
    #[arg(short, long)]
    recursive: bool,
}

fn parse_privacy(s: &str) -> Result<Privacy, String> {
    match s {
        "normal" => Ok(Privacy::Normal),
        "archive" => Ok(Privacy::Archive),
        "hidden" => Ok(Privacy::Hidden),
        other => Err(format!(
            "unknown privacy {other:?}: normal, archive or hidden"
        )),
    }
}

fn info_json(t: &TagInfo) -> serde_json::Value {
    let mut v = serde_json::to_value(t).expect("json");
    v["qualified"] = json!(t.qualified());
    v
}

pub(super) fn tag(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    c: TagCommand,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    let paths = |ps: &[OsString]| local_paths(core, &lib, ps);
    match c {
        TagCommand::Create {
            name,
            aliases,
            colour,
            parent,
            privacy,
        } => {
            let t = lib.create_tag(&NewTag {
                name,
                aliases,
                colour,
                privacy,
                parent,
            })?;
            if out.json {
                out.json(&info_json(&t));
            } else {
                crate::outln!("Created tag \"{}\"", t.qualified());
            }
        }
        TagCommand::Ls { all } => {
            let tags: Vec<TagInfo> = lib
                .tags()?
                .into_iter()
                .filter(|t| all || t.record.privacy == Privacy::Normal)
                .collect();
            if out.json {
                out.json(&json!(tags.iter().map(info_json).collect::<Vec<_>>()));
                return Ok(());
            }
            if tags.is_empty() {
                crate::outln!("No tags yet (`cairn tag create NAME` makes one).");
                return Ok(());
            }
            // As a tree: roots first (tags without a shown parent), children indented below
            // each of their parents.
            let shown: std::collections::HashSet<uuid::Uuid> = tags.iter().map(|t| t.id).collect();
            fn print(t: &TagInfo, tags: &[TagInfo], depth: usize, path: &mut Vec<uuid::Uuid>) {
                let count = match (t.entries, t.contents) {
                    (0, 0) => String::new(),
                    (e, 0) => format!("  {e}"),
                    (0, c) => format!("  {c} content{}", if c == 1 { "" } else { "s" }),
                    (e, c) => format!("  {e} + {c} content{}", if c == 1 { "" } else { "s" }),
                };
                let extra = match t.record.privacy {
                    Privacy::Normal => String::new(),
                    Privacy::Archive => "  (archive)".to_owned(),
                    Privacy::Hidden => "  (hidden)".to_owned(),
                };
                let colour = t
                    .record
                    .colour
                    .as_deref()
                    .map(|c| format!("  {c}"))
                    .unwrap_or_default();
                crate::outln!(
                    "{}{}{count}{colour}{extra}",
                    "  ".repeat(depth),
                    t.qualified()
                );
                path.push(t.id);
                for c in tags.iter().filter(|c| c.parents.contains(&t.id)) {
                    if !path.contains(&c.id) {
                        print(c, tags, depth + 1, path);
                    }
                }
                path.pop();
            }
            for t in tags
                .iter()
                .filter(|t| !t.parents.iter().any(|p| shown.contains(p)))
            {
                print(t, &tags, 0, &mut Vec::new());
            }
        }
        TagCommand::Add(t) => tag_targets(&lib, out, &paths(&t.paths)?, &t, true)?,
        TagCommand::Rm(t) => tag_targets(&lib, out, &paths(&t.paths)?, &t, false)?,
        TagCommand::Show { path } => {
            let p = super::local_path(core, &lib, &path)?;
            let tags = lib.tags_of(&p)?;
            if out.json {
                out.json(&json!(
                    tags.iter()
                        .map(|(t, via)| json!({ "tag": info_json(t), "via": via }))
                        .collect::<Vec<_>>()
                ));
            } else if tags.is_empty() {
                crate::outln!("{} has no tags", p.display());
            } else {
                for (t, via) in tags {
                    match via {
                        TagVia::Entry => crate::outln!("{}", t.qualified()),
                        TagVia::Content => {
                            crate::outln!("{}  (on its content: every copy)", t.qualified())
                        }
                    }
                }
            }
        }
        TagCommand::Rename { tag, new_name } => {
            let t = lib.rename_tag(&tag, &new_name)?;
            if out.json {
                out.json(&info_json(&t));
            } else {
                crate::outln!("Renamed to \"{}\"", t.qualified());
            }
        }
        TagCommand::Set {
            tag,
            colour,
            aliases,
            privacy,
            icon,
            namespace,
        } => {
            let t = lib.find_tag(&tag)?;
            let none = |v: String| (v != "none").then_some(v);
            let r = t.record;
            let edit = crate::vdfs::library::TagEdit {
                name: r.name,
                namespace: namespace.map_or(r.namespace, none),
                aliases: aliases.unwrap_or(r.aliases),
                colour: colour.map_or(r.colour, none),
                icon: icon.map_or(r.icon, none),
                privacy: privacy.unwrap_or(r.privacy),
                parents: t.parents,
            };
            let t = lib.edit_tag(&t.id.to_string(), &edit)?;
            if out.json {
                out.json(&info_json(&t));
            } else {
                crate::outln!("Changed \"{}\"", t.qualified());
            }
        }
        TagCommand::Parent { child, parent } => {
            lib.add_tag_parent(&child, &parent)?;
            if !out.json {
                crate::outln!("\"{child}\" is now under \"{parent}\"");
            }
        }
        TagCommand::Unparent { child, parent } => {
            lib.remove_tag_parent(&child, &parent)?;
            if !out.json {
                crate::outln!("\"{child}\" is no longer under \"{parent}\"");
            }
        }
        TagCommand::Export { output, force } => {
            let export = lib.export_tags()?;
            let text = serde_json::to_string_pretty(&export)?;
            match output {
                None => crate::outln!("{text}"),
                Some(path) => {
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(force)
                        .create_new(!force)
                        .open(&path)
                        .map_err(|e| {
                            if e.kind() == std::io::ErrorKind::AlreadyExists {
                                anyhow::anyhow!(
                                    "{} exists; pass --force to replace it",
                                    path.display()
                                )
                            } else {
                                anyhow::anyhow!("{}: {e}", path.display())
                            }
                        })?;
                    f.write_all(text.as_bytes())
                        .and_then(|()| f.write_all(b"\n"))
                        .and_then(|()| f.sync_all())
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    if !out.json {
                        crate::outln!(
                            "Exported {} and {} to {}",
                            plural(export.tags.len() as u64, "tag"),
                            plural(export.assignments.len() as u64, "assignment"),
                            path.display()
                        );
                    }
                }
            }
        }
        TagCommand::Import { file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
            };
            let export: crate::vdfs::library::TagExport = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a tag export: {e}", file.display()))?;
            let r = lib.import_tags(&export)?;
            if out.json {
                out.json(&serde_json::to_value(&r)?);
            } else {
                crate::outln!(
                    "Tags: {} made, {} here already. Put back: {} on the same files, {} found by content, {} by path, {} on contents; {} not found here.",
                    r.tags_created,
                    r.tags_matched,
                    r.by_entry,
                    r.by_content,
                    r.by_path,
                    r.contents,
                    r.not_found
                );
            }
        }
        TagCommand::Missing { forget, forget_all } => {
            let missing = lib.missing_items()?;
            if forget_all || !forget.is_empty() {
                let which: Vec<uuid::Uuid> = if forget_all {
                    missing.iter().map(|m| m.entry).collect()
                } else {
                    for u in &forget {
                        if !missing.iter().any(|m| m.entry == *u) {
                            anyhow::bail!(
                                "{u} is not a missing item (see `cairn tag missing`); nothing was forgotten"
                            );
                        }
                    }
                    forget
                };
                let n = lib.forget_missing(&which)?;
                if out.json {
                    out.json(&json!({ "forgotten": n }));
                } else {
                    crate::outln!("Forgot what was on {}", plural(n, "missing item"));
                }
                return Ok(());
            }
            if out.json {
                out.json(&serde_json::to_value(&missing)?);
            } else if missing.is_empty() {
                crate::outln!(
                    "Nothing missing: every tagged, noted or collected file is in the index."
                );
            } else {
                for m in missing {
                    let when = m.gone_ms.map_or_else(
                        || "gone".to_owned(),
                        |t| format!("gone since {}", crate::format::time_ms(t)),
                    );
                    let mut what = Vec::new();
                    if !m.tags.is_empty() {
                        what.push(format!("tags {}", m.tags.join(", ")));
                    }
                    if let Some(n) = &m.note {
                        what.push(format!("note \"{n}\""));
                    }
                    if !m.collections.is_empty() {
                        what.push(format!("in {}", m.collections.join(", ")));
                    }
                    let shown = match (&m.path, &m.name) {
                        (Some(p), _) => p.display().to_string(),
                        (None, Some(n)) => n.clone(),
                        (None, None) => "(name not known)".to_owned(),
                    };
                    crate::outln!("{shown}  {when}: {}  [{}]", what.join("; "), m.entry);
                }
            }
        }
        TagCommand::Undo => match lib.undo_tagging()? {
            Some((tag, n, took_off)) => {
                if out.json {
                    out.json(&json!({ "tag": tag, "items": n, "taken_off": took_off }));
                } else if took_off {
                    crate::outln!("Undone: took \"{tag}\" off {} again", plural(n, "item"));
                } else {
                    crate::outln!("Undone: put \"{tag}\" back on {}", plural(n, "item"));
                }
            }
            None => {
                if !out.json {
                    crate::outln!("Nothing to undo: no tagging was made on this device.");
                }
            }
        },
        TagCommand::Merge { from, into } => {
            let t = lib.merge_tags(&from, &into)?;
            if out.json {
                out.json(&info_json(&t));
            } else {
                crate::outln!(
                    "Merged \"{from}\" into \"{}\" (now on {})",
                    t.qualified(),
                    plural(t.entries + t.contents, "item")
                );
            }
        }
        TagCommand::Delete { tag } => {
            let t = lib.delete_tag(&tag)?;
            if out.json {
                out.json(&json!({ "deleted": t.id }));
            } else {
                crate::outln!(
                    "Deleted tag \"{}\" (it was on {})",
                    t.qualified(),
                    plural(t.entries + t.contents, "item")
                );
            }
        }
    }
    Ok(())
}

/// `tag add` (`on`) and `tag rm`: one change, said with the tag's full name.
fn tag_targets(
    lib: &crate::vdfs::Library,
    out: &Output,
    ps: &[std::path::PathBuf],
    t: &TagTargets,
    on: bool,
) -> anyhow::Result<()> {
    let tag = lib.find_tag(&t.tag)?;
    let id = tag.id.to_string();
    let started = std::time::Instant::now();
    let n = if on {
        lib.tag_paths(&id, ps, t.content, t.recursive)?
    } else {
        lib.untag_paths(&id, ps, t.content, t.recursive)?
    };
    let what = plural(n, if t.content { "content" } else { "item" });
    let name = tag.qualified();
    match (out.json, on) {
        (true, true) => out.json(&json!({ "tagged": n })),
        (true, false) => out.json(&json!({ "untagged": n })),
        (false, true) => crate::outln!(
            "Tagged {what} with \"{name}\" ({:.0} ms)",
            started.elapsed().as_secs_f64() * 1000.0
        ),
        (false, false) => crate::outln!("Took \"{name}\" off {what}"),
    }
    Ok(())
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{} {what}s", crate::format::count(n))
    }
}

/// `cairn note`, `cairn rate`, `cairn label` and `cairn favourite`: a mark on an indexed file
/// (or its content).
#[derive(Debug, clap::Args)]
pub struct MetaArgs {
    /// An indexed file or folder.
    pub path: OsString,
    /// The new value; without it, the file's marks are shown. A note ("" clears it), a rating
    /// 0–5 (0 clears it), a label colour (red, orange, yellow, green, blue, purple, grey or
    /// none) or a favourite mark (on or off).
    pub value: Option<String>,
    /// On the content instead: every copy of the file.
    #[arg(long)]
    pub content: bool,
}

/// Which mark a [`MetaArgs`] command sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaField {
    /// `cairn note`.
    Note,
    /// `cairn rate`.
    Rating,
    /// `cairn label`.
    Label,
    /// `cairn favourite`.
    Favourite,
}

/// The name of label colour `n` (0 is none).
fn label_name(n: u8) -> &'static str {
    if n == 0 {
        return "none";
    }
    crate::vdfs::index::tags::LABELS
        .get(usize::from(n) - 1)
        .copied()
        .unwrap_or("unknown")
}

pub(super) fn note(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &MetaArgs,
    field: MetaField,
) -> anyhow::Result<()> {
    use crate::vdfs::library::MetaChange;
    let lib = core.open_library(selected)?;
    let path = super::local_path(core, &lib, &a.path)?;
    match &a.value {
        None => {
            let m = lib.meta_of(&path)?;
            if out.json {
                out.json(&serde_json::to_value(&m)?);
                return Ok(());
            }
            let show = |what: &str, meta: &Option<crate::vdfs::index::tags::UserMeta>| {
                if let Some(m) = meta {
                    if m.favourite {
                        crate::outln!("Favourite{what}");
                    }
                    if m.rating > 0 {
                        crate::outln!("Rating{what}: {} of 5", m.rating);
                    }
                    if m.label > 0 {
                        crate::outln!("Label{what}: {}", label_name(m.label));
                    }
                    if !m.note.is_empty() {
                        crate::outln!("Note{what}:\n{}", m.note);
                    }
                }
            };
            show("", &m.entry);
            show(" (on its content: every copy)", &m.content);
            if m.entry.is_none() && m.content.is_none() {
                crate::outln!(
                    "{} has no note, rating, label or favourite mark",
                    path.display()
                );
            }
        }
        Some(v) => {
            let change = match field {
                MetaField::Note => MetaChange {
                    note: Some(v.clone()),
                    ..MetaChange::default()
                },
                MetaField::Rating => MetaChange {
                    rating: Some(
                        v.trim()
                            .parse()
                            .map_err(|_| anyhow::anyhow!("a rating is 0 to 5 stars, not {v:?}"))?,
                    ),
                    ..MetaChange::default()
                },
                MetaField::Label => MetaChange {
                    label: Some(crate::vdfs::index::tags::label_number(v).ok_or_else(|| {
                        anyhow::anyhow!(
                            "there is no label colour {v:?}: use one of {} or none",
                            crate::vdfs::index::tags::LABELS.join(", ")
                        )
                    })?),
                    ..MetaChange::default()
                },
                MetaField::Favourite => MetaChange {
                    favourite: Some(match v.trim().to_lowercase().as_str() {
                        "on" | "yes" | "true" | "1" => true,
                        "off" | "no" | "false" | "0" => false,
                        _ => anyhow::bail!("a favourite mark is on or off, not {v:?}"),
                    }),
                    ..MetaChange::default()
                },
            };
            if field == MetaField::Favourite && !a.content {
                // A file's own favourite mark is the sidebar's favourite, as in the window.
                let on = change.favourite == Some(true);
                lib.set_favourite(&path, on)?;
                if out.json {
                    out.json(&serde_json::json!({ "path": path, "favourite": on }));
                } else if on {
                    crate::outln!("Added {} to the favourites", path.display());
                } else {
                    crate::outln!("Took {} out of the favourites", path.display());
                }
                return Ok(());
            }
            let meta = lib.set_meta(&path, a.content, change)?;
            let what = if a.content {
                format!("every copy of {}", path.display())
            } else {
                path.display().to_string()
            };
            if out.json {
                out.json(&serde_json::to_value(&meta)?);
            } else {
                match field {
                    MetaField::Rating => crate::outln!("Rated {what} {} of 5", meta.rating),
                    MetaField::Note if meta.note.is_empty() => {
                        crate::outln!("Cleared the note of {what}")
                    }
                    MetaField::Note => crate::outln!("Noted {what}"),
                    MetaField::Label => crate::outln!("Labelled {what} {}", label_name(meta.label)),
                    MetaField::Favourite if meta.favourite => {
                        crate::outln!("Marked {what} as a favourite")
                    }
                    MetaField::Favourite => crate::outln!("{what} is no longer a favourite"),
                }
            }
        }
    }
    Ok(())
}

/// `cairn collection …`
#[derive(Debug, clap::Subcommand)]
pub enum CollectionCommand {
    /// Make an empty collection.
    Create {
        /// Its name.
        name: String,
    },
    /// List the collections and how many items each holds.
    Ls,
    /// The items of a collection, in order (an item whose file is gone or offline says so).
    Show {
        /// The collection.
        name: String,
    },
    /// Add files and folders (or, with --content, their contents) to the end of a collection.
    Add {
        /// The collection.
        name: String,
        /// Indexed files and folders.
        #[arg(required = true)]
        paths: Vec<OsString>,
        /// Add the content: whichever copy is at hand.
        #[arg(long)]
        content: bool,
    },
    /// Take files and folders out of a collection (the files are not touched).
    Rm {
        /// The collection.
        name: String,
        /// Indexed files and folders.
        #[arg(required = true)]
        paths: Vec<OsString>,
        /// Take out the content.
        #[arg(long)]
        content: bool,
    },
    /// Delete a collection (its items are not touched).
    Delete {
        /// The collection.
        name: String,
    },
}

pub(super) fn collection(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    c: CollectionCommand,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    let paths = |ps: &[OsString]| local_paths(core, &lib, ps);
    match c {
        CollectionCommand::Create { name } => {
            let c = lib.create_collection(&name)?;
            if out.json {
                out.json(&serde_json::to_value(&c)?);
            } else {
                crate::outln!("Created collection \"{}\"", c.record.name);
            }
        }
        CollectionCommand::Ls => {
            let all = lib.collections()?;
            if out.json {
                out.json(&serde_json::to_value(&all)?);
            } else if all.is_empty() {
                crate::outln!("No collections yet (`cairn collection create NAME` makes one).");
            } else {
                for c in all {
                    crate::outln!(
                        "{}  {}",
                        c.record.name,
                        plural(c.record.items.len() as u64, "item")
                    );
                }
            }
        }
        CollectionCommand::Show { name } => {
            let items = lib.collection_items(&name)?;
            if out.json {
                out.json(&json!(
                    items
                        .iter()
                        .map(|(t, p)| json!({ "item": t, "path": p.as_ref().map(|p| p.to_string_lossy()) }))
                        .collect::<Vec<_>>()
                ));
            } else if items.is_empty() {
                crate::outln!("\"{name}\" is empty");
            } else {
                for (t, p) in items {
                    let via = if matches!(t, crate::vdfs::index::tags::Target::Content(_)) {
                        "  (content: a copy)"
                    } else {
                        ""
                    };
                    match p {
                        Some(p) => crate::outln!("{}{via}", p.display()),
                        None => crate::outln!("(not here: its file is gone or not indexed){via}"),
                    }
                }
            }
        }
        CollectionCommand::Add {
            name,
            paths: ps,
            content,
        } => {
            let n = lib.change_collection(&name, &paths(&ps)?, content, true)?;
            if !out.json {
                crate::outln!("Added {} to \"{name}\"", plural(n, "item"));
            }
        }
        CollectionCommand::Rm {
            name,
            paths: ps,
            content,
        } => {
            let n = lib.change_collection(&name, &paths(&ps)?, content, false)?;
            if !out.json {
                crate::outln!("Took {} out of \"{name}\"", plural(n, "item"));
            }
        }
        CollectionCommand::Delete { name } => {
            let c = lib.delete_collection(&name)?;
            if !out.json {
                crate::outln!("Deleted collection \"{}\"", c.record.name);
            }
        }
    }
    Ok(())
}
