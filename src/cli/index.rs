//! `cairn location …`, `cairn ls`, `cairn stat`, `cairn index status`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use super::{Output, follow};
use crate::format;
use crate::vdfs::content::filetype::Registry;
use crate::vdfs::content::sample_file;
use crate::vdfs::fs::entry::{EntryKind, os_bytes};
use crate::vdfs::fs::rules::{Compiled, Rules};
use crate::vdfs::fs::walk::{Tree, WalkOptions, walk};
use crate::vdfs::index::location::{Availability, IndexMode, LocationRecord};
use crate::vdfs::index::{self, EntryRecord};
use crate::vdfs::sdpath::SdPath;
use crate::vdfs::{Core, Library};

/// `cairn location …`
#[derive(Debug, Subcommand)]
pub enum LocationCommand {
    /// Add a folder and index it (waits with a progress bar unless --background).
    Add {
        /// The folder.
        path: PathBuf,
        /// shallow (metadata), content (+ content identity; the default) or deep
        /// (+ thumbnails).
        #[arg(long, default_value = "content")]
        mode: IndexMode,
        /// none, default, or a list of: no-system-files, no-hidden, no-dev-dirs, gitignore,
        /// only-images.
        #[arg(long, default_value = "default")]
        rules: String,
        /// Also skip paths matching this glob (repeatable), e.g. --exclude '*.tmp'.
        #[arg(long, value_name = "GLOB")]
        exclude: Vec<String>,
        /// Record the location and its indexing job, and return at once; the job runs in
        /// the window or with `cairn jobs resume --all`.
        #[arg(long)]
        background: bool,
    },
    /// List locations with their state.
    List,
    /// Index a location again (only what changed is written).
    Rescan {
        /// Id, path or folder name.
        location: String,
        /// Return at once (see `location add --background`).
        #[arg(long)]
        background: bool,
    },
    /// Change a location's mode or rules (used from its next scan).
    Set {
        /// Id, path or folder name.
        location: String,
        /// New mode.
        #[arg(long)]
        mode: Option<IndexMode>,
        /// New rules (none, default, or a list).
        #[arg(long)]
        rules: Option<String>,
        /// Globs to skip (replace the current ones).
        #[arg(long, value_name = "GLOB")]
        exclude: Vec<String>,
    },
    /// Forget a location's index. Your files are not touched.
    Remove {
        /// Id, path or folder name.
        location: String,
    },
}

/// `cairn ls`
#[derive(Debug, Args)]
pub struct LsArgs {
    /// A folder (default: the current one), or a cairn:// address.
    pub path: Option<String>,
    /// List everything below, as paths relative to the folder.
    #[arg(short, long)]
    pub recursive: bool,
    /// Show kind, size and modification time.
    #[arg(short, long)]
    pub long: bool,
    /// none, default, or a list of rule toggles (unindexed folders only; default: none).
    #[arg(long, default_value = "none")]
    pub rules: String,
}

/// `cairn stat`
#[derive(Debug, Args)]
pub struct StatArgs {
    /// A file or folder, or a cairn:// address.
    pub path: String,
}

/// `cairn verify-content`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Only the location holding this path (default: every location).
    pub path: Option<PathBuf>,
}

/// `cairn search`
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Text to find in names (case- and accent-form-insensitive); empty lists everything.
    pub query: Option<String>,
    /// Only names starting with the text.
    #[arg(long, conflicts_with = "glob")]
    pub prefix: bool,
    /// The text is a shell glob over the whole name (e.g. 'IMG_*.jpg').
    #[arg(long)]
    pub glob: bool,
    /// Match case exactly.
    #[arg(long)]
    pub case_sensitive: bool,
    /// Content kinds, comma-separated (image, video, document, code …).
    #[arg(long, value_delimiter = ',')]
    pub kind: Vec<String>,
    /// Extensions, comma-separated (jpg,png).
    #[arg(long, value_delimiter = ',')]
    pub ext: Vec<String>,
    /// Size range, e.g. 1M..10M, 100k.., ..1k.
    #[arg(long)]
    pub size: Option<String>,
    /// Modification date range, e.g. 2024-01-01..2024-12-31, 2025-01-01..
    #[arg(long)]
    pub modified: Option<String>,
    /// Only below this folder.
    #[arg(long = "in", value_name = "PATH")]
    pub within: Option<PathBuf>,
    /// Include names starting with a dot.
    #[arg(long)]
    pub hidden: bool,
    /// Only files with at least this many copies in the library.
    #[arg(long)]
    pub min_copies: Option<u64>,
    /// MIME types, comma-separated: exact (image/png) or a prefix (image/ or image/*).
    #[arg(long, value_delimiter = ',')]
    pub mime: Vec<String>,
    /// Date range when the index first saw the entry, e.g. 2025-06-01..
    #[arg(long)]
    pub indexed: Option<String>,
    /// Entry types, comma-separated: file, dir, symlink, fifo, socket.
    #[arg(long = "type", value_delimiter = ',', value_name = "TYPE")]
    pub entry_type: Vec<String>,
    /// Only files whose content has no copy in this location (id, path or name).
    #[arg(long, value_name = "LOCATION")]
    pub missing_from: Option<String>,
    /// Order: relevance (default), name, size (largest first), modified (newest first).
    #[arg(long, default_value = "relevance")]
    pub sort: String,
    /// Reverse the order.
    #[arg(long)]
    pub reverse: bool,
    /// Results to show.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Results to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Print CSV: path, kind, size, mtime_ns.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

/// `cairn dupes`
#[derive(Debug, Args)]
pub struct DupesArgs {
    /// Only copies inside this folder (a location or any folder in one).
    #[arg(long = "in", value_name = "PATH")]
    pub within: Option<PathBuf>,
    /// Only files at least this large (e.g. 100k, 1M).
    #[arg(long, default_value = "1")]
    pub min_size: String,
    /// Compare full-file hashes before reporting a group (reads every copy in full).
    #[arg(long)]
    pub confirm: bool,
    /// Which copy of each group to keep: newest, oldest, or in:PATH (a reference folder).
    #[arg(long, default_value = "newest")]
    pub keep: String,
    /// Print CSV: group, cas_id, size, keep, path.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

/// `cairn redundancy`
#[derive(Debug, Args)]
pub struct RedundancyArgs {
    /// A file (its copies) or a folder (a summary; with --at-risk or --missing-from, the list).
    pub path: Option<PathBuf>,
    /// List the files under PATH whose content exists only once in the library.
    #[arg(long)]
    pub at_risk: bool,
    /// List the files under PATH with no copy in this location (id, path or name).
    #[arg(long, value_name = "LOCATION")]
    pub missing_from: Option<String>,
}

/// `cairn index …`
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Show every location's state and the index's size.
    Status,
}

fn parse_rules(text: &str, exclude: &[String]) -> anyhow::Result<Rules> {
    let mut r = Rules::parse(text).map_err(anyhow::Error::msg)?;
    r.exclude_globs.extend(exclude.iter().cloned());
    Compiled::new(&r).map_err(anyhow::Error::msg)?;
    Ok(r)
}

pub(super) fn location(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    c: LocationCommand,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    match c {
        LocationCommand::Add {
            path,
            mode,
            rules,
            exclude,
            background,
        } => {
            let rules = parse_rules(&rules, &exclude)?;
            let mut events = core.events().subscribe();
            let (rec, handle) = lib.add_location(&path, mode, rules)?;
            if !out.json {
                println!(
                    "Added location {} ({}, {})",
                    rec.id,
                    rec.path().display(),
                    rec.mode.as_str()
                );
            }
            if background {
                report_location(
                    out,
                    &lib.locations()?
                        .into_iter()
                        .find(|l| l.id == rec.id)
                        .context("location vanished")?,
                );
                return Ok(());
            }
            follow(out, &lib, &handle, &mut events)?;
        }
        LocationCommand::List => {
            let list = lib.locations()?;
            if out.json {
                let rows: Vec<_> = list.iter().map(|l| location_json(&lib, l)).collect();
                out.json(&json!(rows));
            } else if list.is_empty() {
                println!("No locations. Add one with `cairn location add PATH`.");
            } else {
                println!(
                    "{:>3}  {:8}  {:>9}  {:>7}  {:>10}  {:28}  PATH",
                    "ID", "MODE", "FILES", "FOLDERS", "SIZE", "STATE"
                );
                for l in &list {
                    println!(
                        "{:>3}  {:8}  {:>9}  {:>7}  {:>10}  {:28}  {}",
                        l.id,
                        l.mode.as_str(),
                        l.stats.files,
                        l.stats.dirs,
                        format::bytes(l.stats.bytes),
                        state_text(&lib, l),
                        l.path().display()
                    );
                }
            }
        }
        LocationCommand::Rescan {
            location,
            background,
        } => {
            let rec = crate::vdfs::index::location::find(lib.store(), &location)?;
            let mut events = core.events().subscribe();
            let handle = lib.rescan(rec.id)?;
            if !background {
                follow(out, &lib, &handle, &mut events)?;
            } else {
                report_location(out, &rec);
            }
        }
        LocationCommand::Set {
            location,
            mode,
            rules,
            exclude,
        } => {
            let rec = crate::vdfs::index::location::find(lib.store(), &location)?;
            let rules = match (rules, exclude.is_empty()) {
                (Some(r), _) => Some(parse_rules(&r, &exclude)?),
                (None, false) => Some(Rules {
                    exclude_globs: exclude,
                    ..rec.rules.clone()
                }),
                (None, true) => None,
            };
            let rec = lib.set_location(rec.id, mode, rules)?;
            report_location(out, &rec);
        }
        LocationCommand::Remove { location } => {
            let rec = crate::vdfs::index::location::find(lib.store(), &location)?;
            let rec = lib.remove_location(rec.id)?;
            if out.json {
                out.json(&json!({ "removed": rec.id, "path": rec.path().to_string_lossy() }));
            } else {
                println!(
                    "Removed location {} ({}); no file was touched",
                    rec.id,
                    rec.path().display()
                );
            }
        }
    }
    Ok(())
}

fn state_text(lib: &Library, l: &LocationRecord) -> String {
    if let Some(job) = l.job
        && let Ok(j) = lib.jobs().get(job)
        && !j.status.is_terminal()
    {
        return format!("indexing ({})", j.status);
    }
    match l.availability() {
        Availability::Offline(_) => return "offline".to_owned(),
        Availability::Missing(_) => return "missing".to_owned(),
        Availability::Online => {}
    }
    if let Some(e) = &l.error {
        return format!("error: {}", e.chars().take(20).collect::<String>());
    }
    match l.indexed_ms {
        Some(t) => format!("indexed {}", format::time_ms(t)),
        None => "not indexed".to_owned(),
    }
}

fn location_json(lib: &Library, l: &LocationRecord) -> serde_json::Value {
    json!({
        "id": l.id,
        "uuid": l.uuid,
        "path": l.path(),
        "mode": l.mode,
        "rules": l.rules,
        "volume": l.volume,
        "availability": l.availability(),
        "state": state_text(lib, l),
        "indexed_ms": l.indexed_ms,
        "job": l.job,
        "stats": l.stats,
        "skipped_summary": l.stats.skipped.summary(),
        "error": l.error,
    })
}

fn report_location(out: &Output, l: &LocationRecord) {
    if out.json {
        out.json(&json!({ "id": l.id, "path": l.path().to_string_lossy(), "mode": l.mode, "rules": l.rules, "job": l.job }));
    } else {
        println!(
            "Location {}: {} (mode {}, rules: {})",
            l.id,
            l.path().display(),
            l.mode.as_str(),
            l.rules.describe()
        );
    }
}

/// Resolves a CLI path argument (plain path or cairn:// address) to a local path.
fn local_path(core: &Core, lib: &Library, text: &str) -> anyhow::Result<PathBuf> {
    let me = core.device().id;
    match SdPath::parse(text, me)? {
        SdPath::Physical { device, path } if device == me => Ok(path),
        SdPath::Physical { device, .. } => {
            bail!(
                "{text} is on device {device}; browsing other devices needs pairing (not available yet)"
            )
        }
        SdPath::Content { content_id } => {
            let c = index::content_by_uuid(lib.store(), content_id)?
                .with_context(|| format!("no file in this library has content {content_id}"))?;
            index::best_instance(lib.store(), c.cas)?.with_context(|| {
                format!("no copy of content {content_id} is reachable on this device")
            })
        }
    }
}

pub(super) fn ls(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &LsArgs,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    let path = match &a.path {
        Some(p) => local_path(core, &lib, p)?,
        None => std::env::current_dir()?,
    };
    let canon = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if !a.recursive {
        let locations = lib.locations()?;
        if let Some((_, id, rec)) = index::find_by_path(lib.store(), &locations, &canon)?
            && rec.kind == EntryKind::Dir
        {
            let mut kids = lib.store().read(|tx| index::children(tx, id))?;
            kids.sort_by(|x, y| x.1.name.cmp(&y.1.name));
            if out.json {
                let rows: Vec<_> = kids
                    .iter()
                    .map(|(id, r)| entry_json(Some(*id), r))
                    .collect();
                out.json(
                    &json!({ "path": canon.to_string_lossy(), "source": "index", "entries": rows }),
                );
            } else {
                for (_, r) in &kids {
                    print_row(&mut w, a.long, &r.name, r.kind, r.size, r.mtime_ns)?;
                }
            }
            return Ok(w.flush()?);
        }
    }
    // Not indexed (or recursive): the ephemeral index, straight from the disk.
    let rules = Compiled::new(&Rules::parse(&a.rules).map_err(anyhow::Error::msg)?)
        .map_err(anyhow::Error::msg)?;
    let mut opts = WalkOptions::new(rules);
    opts.max_depth = (!a.recursive).then_some(1);
    opts.stat = a.long || out.json;
    let tree = walk(&canon, &opts)?;
    if out.json {
        let rows: Vec<_> = (1..tree.len())
            .map(|i| tree_json(&tree, i, a.recursive))
            .collect();
        out.json(
            &json!({ "path": canon.to_string_lossy(), "source": "disk", "entries": rows, "errors": tree.errors }),
        );
    } else {
        let mut order: Vec<u32> = (1..tree.len()).collect();
        if !a.recursive {
            order.sort_by(|&x, &y| tree.name(x).cmp(tree.name(y)));
        }
        for i in order {
            let n = tree.node(i);
            let name_buf;
            let name: &[u8] = if a.recursive {
                name_buf = tree.rel_path(i);
                os_bytes(name_buf.as_os_str())
            } else {
                tree.name(i)
            };
            print_row(&mut w, a.long, name, n.kind, n.size, n.mtime_ns)?;
        }
        for e in &tree.errors {
            eprintln!("warning: {}: {}", e.path.display(), e.message);
        }
    }
    Ok(w.flush()?)
}

fn print_row(
    w: &mut impl Write,
    long: bool,
    name: &[u8],
    kind: EntryKind,
    size: u64,
    mtime_ns: i64,
) -> std::io::Result<()> {
    if long {
        write!(
            w,
            "{:8} {:>10}  {}  ",
            kind.as_str(),
            if kind == EntryKind::Dir {
                "-".to_owned()
            } else {
                format::bytes(size)
            },
            format::time_ms(mtime_ns / 1_000_000)
        )?;
    }
    w.write_all(name)?;
    if kind == EntryKind::Dir {
        w.write_all(b"/")?;
    }
    w.write_all(b"\n")
}

fn entry_json(id: Option<u64>, r: &EntryRecord) -> serde_json::Value {
    json!({
        "id": id,
        "uuid": r.uuid,
        "name": String::from_utf8_lossy(&r.name),
        "name_bytes": (std::str::from_utf8(&r.name).is_err()).then(|| r.name.clone()),
        "kind": r.kind,
        "size": r.size,
        "mtime_ns": r.mtime_ns,
        "inode": r.inode,
        "hidden": r.is_hidden(),
        "content_kind": r.content_kind,
        "cas_id": r.cas.map(|c| c.to_string()),
    })
}

fn tree_json(t: &Tree, i: u32, rel: bool) -> serde_json::Value {
    let n = t.node(i);
    let name = if rel {
        t.rel_path(i).to_string_lossy().into_owned()
    } else {
        String::from_utf8_lossy(t.name(i)).into_owned()
    };
    json!({
        "name": name,
        "kind": n.kind,
        "size": n.size,
        "mtime_ns": n.mtime_ns,
        "inode": n.inode,
    })
}

pub(super) fn stat(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &StatArgs,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    let path = local_path(core, &lib, &a.path)?;
    let canon = crate::vdfs::fs::entry::canonical_no_follow(&path);
    let locations = lib.locations()?;
    let registry = Registry::active();
    let found = index::find_by_path(lib.store(), &locations, &canon)?;
    let mut v = serde_json::Map::new();
    v.insert("path".into(), json!(canon.to_string_lossy()));
    match &found {
        Some((loc, id, rec)) => {
            v.insert("indexed".into(), json!(true));
            v.insert("location".into(), json!(loc));
            v.insert("entry".into(), entry_json(Some(*id), rec));
            let (content, others, stats) = lib.store().read(|tx| {
                let content = match rec.cas {
                    Some(c) => index::content(tx, c)?,
                    None => None,
                };
                let mut others = Vec::new();
                if let Some(c) = rec.cas {
                    for other in index::instances(tx, c)? {
                        if other != *id {
                            others.push(index::path_of(tx, other)?);
                        }
                    }
                }
                let stats = if rec.kind == EntryKind::Dir {
                    index::dir_stats(tx, *id)?
                } else {
                    None
                };
                Ok((content, others, stats))
            })?;
            if let Some(c) = &content {
                v.insert(
                    "content".into(),
                    json!({
                        "cas_id": c.cas.to_string(),
                        "content_uuid": c.uuid,
                        "kind": c.kind,
                        "file_type": c.file_type,
                        "mime": c.mime,
                        "instances": c.instances,
                        "address": SdPath::Content { content_id: c.uuid }.to_string(),
                    }),
                );
            } else if rec.kind == EntryKind::File {
                let t = registry
                    .identify(&rec.name, None)
                    .and_then(|i| registry.get(i.type_index));
                v.insert(
                    "type_by_extension".into(),
                    json!(t.map(|t| (&t.id, t.mime(), t.kind))),
                );
            }
            v.insert("other_copies".into(), json!(others));
            if let Some(s) = stats {
                v.insert("folder".into(), json!(s));
            }
        }
        None => {
            v.insert("indexed".into(), json!(false));
            let m =
                std::fs::symlink_metadata(&canon).with_context(|| canon.display().to_string())?;
            let kind = EntryKind::of(m.file_type());
            let meta = crate::vdfs::fs::entry::Meta::of(&m);
            v.insert("entry".into(), json!({ "kind": kind, "size": meta.size, "mtime_ns": meta.mtime_ns, "inode": meta.inode }));
            if kind == EntryKind::File {
                let name = canon
                    .file_name()
                    .map(|n| os_bytes(n).to_vec())
                    .unwrap_or_default();
                match sample_file(&canon) {
                    Ok(s) => {
                        let t = registry.identify(&name, Some(&s.head));
                        let ft = t.and_then(|i| registry.get(i.type_index));
                        v.insert(
                            "content".into(),
                            json!({
                                "cas_id": s.cas_id.map(|c| c.to_string()),
                                "content_uuid": s.cas_id.map(|c| c.content_uuid()),
                                "kind": ft.map(|t| t.kind),
                                "file_type": ft.map(|t| &t.id),
                                "mime": ft.map(|t| t.mime()),
                                "confidence": t.map(|t| t.confidence),
                                "method": t.map(|t| t.method),
                            }),
                        );
                    }
                    Err(e) => {
                        v.insert("content_error".into(), json!(e.to_string()));
                    }
                }
            } else if kind == EntryKind::Dir {
                let tree = walk(
                    &canon,
                    &WalkOptions::new(Compiled::new(&Rules::none()).map_err(anyhow::Error::msg)?),
                )?;
                let (mut bytes, mut files, mut dirs) = (0u64, 0u64, 0u64);
                for i in 1..tree.len() {
                    let n = tree.node(i);
                    if n.kind == EntryKind::Dir {
                        dirs += 1;
                    } else {
                        files += 1;
                        if n.kind == EntryKind::File {
                            bytes += n.size;
                        }
                    }
                }
                v.insert(
                    "folder".into(),
                    json!({ "bytes": bytes, "files": files, "dirs": dirs }),
                );
            }
        }
    }
    let v = serde_json::Value::Object(v);
    if out.json {
        out.json(&v);
    } else {
        print_stat(&v);
    }
    Ok(())
}

fn print_stat(v: &serde_json::Value) {
    let s = |x: &serde_json::Value| match x {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".to_owned(),
        other => other.to_string(),
    };
    println!("Path:        {}", s(&v["path"]));
    let e = &v["entry"];
    println!("Kind:        {}", s(&e["kind"]));
    if let Some(size) = e["size"].as_u64() {
        println!("Size:        {} ({size} bytes)", format::bytes(size));
    }
    if let Some(m) = e["mtime_ns"].as_i64() {
        println!("Modified:    {}", format::time_ms(m / 1_000_000));
    }
    println!(
        "Indexed:     {}",
        if v["indexed"] == true {
            format!("yes, location {}", s(&v["location"]))
        } else {
            "no".to_owned()
        }
    );
    if !e["uuid"].is_null() {
        println!("Entry UUID:  {}", s(&e["uuid"]));
    }
    let c = &v["content"];
    if c.is_object() {
        println!("Content:     {} ({})", s(&c["file_type"]), s(&c["kind"]));
        println!("MIME:        {}", s(&c["mime"]));
        println!("cas_id:      {}", s(&c["cas_id"]));
        println!("Content id:  {}", s(&c["content_uuid"]));
        if let Some(n) = c["instances"].as_u64() {
            println!("Copies:      {n} in this library");
        }
    } else if let Some(t) = v["type_by_extension"].as_array() {
        println!(
            "Type:        {} ({}; by extension, content not identified)",
            s(&t[0]),
            s(&t[2])
        );
    }
    if let Some(others) = v["other_copies"].as_array() {
        for o in others {
            println!("  also at    {}", s(o));
        }
    }
    let f = &v["folder"];
    if f.is_object() {
        println!(
            "Contains:    {} in {} files and {} folders",
            format::bytes(f["bytes"].as_u64().unwrap_or(0)),
            s(&f["files"]),
            s(&f["dirs"])
        );
    }
}

pub(super) fn index(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    c: IndexCommand,
) -> anyhow::Result<()> {
    let IndexCommand::Status = c;
    let lib = core.open_library(selected)?;
    let list = lib.locations()?;
    let (entries, contents) = lib.store().read(|tx| {
        use redb::ReadableTableMetadata;
        let e = tx.open_table(crate::store::schema::ENTRIES)?.len()?;
        let c = tx.open_table(crate::store::schema::CONTENT)?.len()?;
        Ok((e, c))
    })?;
    let store_bytes = std::fs::metadata(lib.store().path())
        .map(|m| m.len())
        .unwrap_or(0);
    if out.json {
        let rows: Vec<_> = list.iter().map(|l| location_json(&lib, l)).collect();
        out.json(&json!({
            "library": lib.config().name,
            "entries": entries,
            "content_identities": contents,
            "store_bytes": store_bytes,
            "locations": rows,
        }));
        return Ok(());
    }
    println!(
        "Library \"{}\": {entries} entries, {contents} content identities, store {}",
        lib.config().name,
        format::bytes(store_bytes)
    );
    if list.is_empty() {
        println!("No locations. Add one with `cairn location add PATH`.");
    }
    for l in &list {
        println!(
            "{:>3}  {}  {}",
            l.id,
            state_text(&lib, l),
            l.path().display()
        );
        if let Some(s) = l.stats.skipped.summary() {
            println!("     {s}");
        }
        if l.stats.errors > 0 {
            println!(
                "     {} paths could not be read (see `cairn jobs list --all`)",
                l.stats.errors
            );
        }
        match l.availability() {
            Availability::Online => {}
            Availability::Offline(why) | Availability::Missing(why) => println!("     {why}"),
        }
    }
    Ok(())
}

pub(super) fn verify(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &VerifyArgs,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    let location = match &a.path {
        Some(p) => Some(crate::vdfs::index::location::find(lib.store(), &p.to_string_lossy())?.id),
        None => None,
    };
    let mut events = core.events().subscribe();
    let handle = lib
        .jobs()
        .spawn(crate::vdfs::indexer::integrity::IntegrityJob {
            location,
            ..Default::default()
        })?;
    follow(out, &lib, &handle, &mut events)
}

pub(super) fn dupes(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &DupesArgs,
) -> anyhow::Result<()> {
    use crate::vdfs::query::dupes::{self, DupesQuery, Keep};
    let lib = core.open_library(selected)?;
    let within = a
        .within
        .as_ref()
        .map(|p| std::fs::canonicalize(p).with_context(|| p.display().to_string()))
        .transpose()?;
    let keep = match a.keep.as_str() {
        "newest" => Keep::Newest,
        "oldest" => Keep::Oldest,
        other => match other.strip_prefix("in:") {
            Some(p) => Keep::In(std::fs::canonicalize(p).with_context(|| p.to_owned())?),
            None => bail!("--keep must be newest, oldest or in:PATH, not {other:?}"),
        },
    };
    let q = DupesQuery {
        within,
        min_size: crate::format::parse_bytes(&a.min_size).map_err(anyhow::Error::msg)?,
    };
    let mut groups = dupes::find(lib.store(), &q)?;
    let mut unconfirmed = None;
    if a.confirm {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (g, u) = dupes::confirm(groups, threads);
        groups = g;
        unconfirmed = Some(u);
    }
    let keeps = dupes::keep(&groups, &keep);
    let wasted = dupes::total_wasted(&groups);
    if out.json {
        let rows: Vec<_> = groups
            .iter()
            .zip(&keeps)
            .map(|(g, k)| json!({ "group": g, "keep": k.map(|i| g.members[i].path.to_string_lossy()) }))
            .collect();
        out.json(&json!({ "groups": rows, "group_count": groups.len(), "wasted_bytes": wasted, "unconfirmed": unconfirmed }));
        return Ok(());
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if a.csv {
        writeln!(w, "group,cas_id,size,keep,path")?;
        for (n, (g, k)) in groups.iter().zip(&keeps).enumerate() {
            for (i, m) in g.members.iter().enumerate() {
                let p = m.path.display().to_string().replace('"', "\"\"");
                writeln!(
                    w,
                    "{},{},{},{},\"{p}\"",
                    n + 1,
                    g.cas_id,
                    g.size,
                    *k == Some(i)
                )?;
            }
        }
        return Ok(w.flush()?);
    }
    for (g, k) in groups.iter().zip(&keeps) {
        writeln!(
            w,
            "{} copies of {} — {} wasted ({})",
            g.members.len(),
            format::bytes(g.size),
            format::bytes(g.wasted),
            g.cas_id
        )?;
        for (i, m) in g.members.iter().enumerate() {
            let mark = if *k == Some(i) { "keep" } else { "    " };
            writeln!(w, "  {mark}  {}", m.path.display())?;
        }
    }
    writeln!(
        w,
        "{} groups, {} wasted{}",
        groups.len(),
        format::bytes(wasted),
        if a.confirm {
            " (confirmed by full-file hashes)"
        } else {
            " (by sampled hash; --confirm to check every byte)"
        }
    )?;
    if let Some(u) = unconfirmed {
        for (cas, p) in &u.differ {
            writeln!(
                w,
                "not a duplicate (differs beyond the sampled hash {cas}): {}",
                p.display()
            )?;
        }
        for (p, e) in &u.unreadable {
            writeln!(w, "could not read {}: {e}", p.display())?;
        }
    }
    Ok(w.flush()?)
}

pub(super) fn redundancy(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &RedundancyArgs,
) -> anyhow::Result<()> {
    use crate::vdfs::query::redundancy;
    let lib = core.open_library(selected)?;
    let path = match &a.path {
        Some(p) => crate::vdfs::fs::entry::canonical_no_follow(p),
        None => std::env::current_dir()?,
    };
    let locations = lib.locations()?;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if let Some(target) = &a.missing_from {
        let t = crate::vdfs::index::location::find(lib.store(), target)?;
        let gap = redundancy::missing_from(lib.store(), &path, t.id)?;
        if out.json {
            out.json(&json!({ "within": path.to_string_lossy(), "target": t.path().to_string_lossy(), "report": gap }));
            return Ok(());
        }
        for f in &gap.missing {
            writeln!(w, "{}  ({})", f.path.display(), format::bytes(f.size))?;
        }
        let bytes: u64 = gap.missing.iter().map(|f| f.size).sum();
        writeln!(
            w,
            "{} files ({}) under {} have no copy in {}; {} have one{}",
            gap.missing.len(),
            format::bytes(bytes),
            path.display(),
            t.path().display(),
            gap.covered,
            if gap.unknown > 0 {
                format!("; {} not identified yet (Shallow mode?)", gap.unknown)
            } else {
                String::new()
            }
        )?;
        return Ok(w.flush()?);
    }
    if !a.at_risk
        && let Some((_, id, rec)) = index::find_by_path(lib.store(), &locations, &path)?
        && rec.kind != EntryKind::Dir
    {
        let copies = redundancy::copies(lib.store(), &locations, id)?;
        if out.json {
            out.json(&json!({ "path": path.to_string_lossy(), "copies": copies }));
            return Ok(());
        }
        if copies.is_empty() {
            writeln!(
                w,
                "{}: content not identified (index its location in Content mode)",
                path.display()
            )?;
        } else {
            writeln!(w, "{} copies of {}:", copies.len(), path.display())?;
            for c in &copies {
                writeln!(
                    w,
                    "  {}  (location {}, volume {})",
                    c.path.display(),
                    c.location,
                    c.volume.display()
                )?;
            }
        }
        return Ok(w.flush()?);
    }
    let report = redundancy::at_risk(lib.store(), &path)?;
    if out.json {
        out.json(&json!({ "within": path.to_string_lossy(), "report": report }));
        return Ok(());
    }
    if a.at_risk {
        for f in &report.single {
            writeln!(w, "{}  ({})", f.path.display(), format::bytes(f.size))?;
        }
    }
    let bytes: u64 = report.single.iter().map(|f| f.size).sum();
    writeln!(
        w,
        "{} files ({}) under {} exist only once in the library; {} have another copy{}",
        report.single.len(),
        format::bytes(bytes),
        path.display(),
        report.safe,
        if report.unknown > 0 {
            format!("; {} not identified yet", report.unknown)
        } else {
            String::new()
        }
    )?;
    Ok(w.flush()?)
}

pub(super) fn search(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &SearchArgs,
) -> anyhow::Result<()> {
    use crate::vdfs::query::search::{NameIndex, NameMatch, Query, parse_date_ns, parse_range};
    let lib = core.open_library(selected)?;
    let kinds = a
        .kind
        .iter()
        .map(|k| k.parse::<crate::vdfs::content::filetype::ContentKind>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let entry_kinds = a
        .entry_type
        .iter()
        .map(|t| match t.trim() {
            "file" | "f" => Ok(EntryKind::File),
            "dir" | "folder" | "d" => Ok(EntryKind::Dir),
            "symlink" | "link" | "l" => Ok(EntryKind::Symlink),
            "fifo" | "pipe" | "p" => Ok(EntryKind::Fifo),
            "socket" | "s" => Ok(EntryKind::Socket),
            other => Err(anyhow::anyhow!(
                "{other:?} is not an entry type (file, dir, symlink, fifo, socket)"
            )),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // A date range covers whole days: `..2024-12-31` includes that day.
    let days = |text: &Option<String>| -> anyhow::Result<Option<(i64, i64)>> {
        Ok(text
            .as_deref()
            .map(|s| parse_range(s, parse_date_ns, i64::MIN, i64::MAX))
            .transpose()
            .map_err(anyhow::Error::msg)?
            .map(|(lo, hi)| {
                (
                    lo,
                    if hi == i64::MAX {
                        hi
                    } else {
                        hi + 86_400_000_000_000 - 1
                    },
                )
            }))
    };
    let missing_from = match &a.missing_from {
        Some(t) => Some(crate::vdfs::index::location::find(lib.store(), t)?.id),
        None => None,
    };
    let within = a
        .within
        .as_ref()
        .map(|p| std::fs::canonicalize(p).with_context(|| p.display().to_string()))
        .transpose()?;
    let q = Query {
        text: a.query.clone().unwrap_or_default(),
        mode: if a.glob {
            NameMatch::Glob
        } else if a.prefix {
            NameMatch::Prefix
        } else {
            NameMatch::Smart
        },
        case_sensitive: a.case_sensitive,
        extensions: a
            .ext
            .iter()
            .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
            .collect(),
        kinds,
        size: a
            .size
            .as_deref()
            .map(|s| parse_range(s, format::parse_bytes, 0, u64::MAX))
            .transpose()
            .map_err(anyhow::Error::msg)?,
        modified: days(&a.modified)?,
        indexed: days(&a.indexed)?,
        within: within.clone(),
        include_hidden: a.hidden,
        min_copies: a.min_copies,
        mime: a.mime.clone(),
        entry_kinds,
        missing_from,
        sort: a.sort.parse().map_err(anyhow::Error::msg)?,
        reverse: a.reverse,
        limit: a.limit,
        offset: a.offset,
    };
    // A folder no location covers is searched through an ephemeral index of a walk.
    let locations = lib.locations()?;
    let outside = within
        .as_ref()
        .filter(|w| !crate::vdfs::index::location::overlaps(&locations, w));
    let started = std::time::Instant::now();
    let (index, ephemeral) = match outside {
        Some(w) => {
            let ix = NameIndex::of_folder(w, None)?.expect("a walk nobody stops");
            (std::sync::Arc::new(ix), true)
        }
        None => {
            if lib.name_index_stale()? {
                eprintln!("Updating the search index after changes to the library…");
            }
            (lib.name_index()?, false)
        }
    };
    let loaded = started.elapsed();
    let t = std::time::Instant::now();
    let res = if ephemeral {
        index.search(&q)
    } else {
        lib.search(&q)?
    };
    let queried = t.elapsed();
    tracing::debug!(
        entries = index.len(),
        ephemeral,
        "name index ready in {loaded:?}, query in {queried:?}"
    );
    if out.json {
        out.json(&json!({ "total": res.total, "fuzzy": res.fuzzy, "hits": res.hits }));
        return Ok(());
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if a.csv {
        writeln!(w, "path,kind,size,mtime_ns,copies")?;
        for h in &res.hits {
            let p = h.path.display().to_string().replace('"', "\"\"");
            writeln!(
                w,
                "\"{p}\",{},{},{},{}",
                h.kind.as_str(),
                h.size,
                h.mtime_ns,
                h.copies
            )?;
        }
        return Ok(w.flush()?);
    }
    for h in &res.hits {
        let size = if h.kind == EntryKind::Dir {
            "folder".to_owned()
        } else {
            format::bytes(h.size)
        };
        writeln!(
            w,
            "{:>10}  {}  {}",
            size,
            format::time_ms(h.mtime_ns / 1_000_000),
            h.path.display()
        )?;
    }
    let similar = if res.fuzzy > 0 {
        format!(", {} of them similar", res.fuzzy)
    } else {
        String::new()
    };
    writeln!(
        w,
        "{} of {} matches{similar} ({} entries{} searched in {:.1} ms)",
        res.hits.len(),
        res.total,
        index.len(),
        if ephemeral { ", walked now," } else { "" },
        queried.as_secs_f64() * 1e3
    )?;
    Ok(w.flush()?)
}

/// `cairn debug search-bench`: in-process query latency over a list of queries.
pub(super) fn search_bench(
    out: &Output,
    lib: &crate::vdfs::Library,
    file: &std::path::Path,
    runs: usize,
    limit: usize,
) -> anyhow::Result<()> {
    use crate::vdfs::query::search::{Query, parse_range};
    let text = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
    let started = std::time::Instant::now();
    let ix = lib.name_index()?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut rows = Vec::new();
    let mut all = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split('\t');
        let mut q = Query {
            text: parts.next().unwrap_or_default().to_owned(),
            limit,
            ..Query::default()
        };
        for p in parts {
            match p.split_once('=') {
                Some(("kind", k)) => q.kinds.push(k.parse().map_err(anyhow::Error::msg)?),
                Some(("size", r)) => {
                    q.size = Some(
                        parse_range(r, format::parse_bytes, 0, u64::MAX)
                            .map_err(anyhow::Error::msg)?,
                    );
                }
                Some(("in", w)) => q.within = Some(PathBuf::from(w)),
                _ => anyhow::bail!("{p:?}: expected kind=…, size=LO..HI or in=PATH"),
            }
        }
        let res = lib.search(&q)?;
        let mut times: Vec<f64> = (0..runs.max(1))
            .map(|_| {
                let t = std::time::Instant::now();
                let r = lib.search(&q);
                let ms = t.elapsed().as_secs_f64() * 1e3;
                drop(r);
                ms
            })
            .collect();
        all.extend_from_slice(&times);
        times.sort_by(f64::total_cmp);
        rows.push(json!({
            "query": line,
            "total": res.total,
            "fuzzy": res.fuzzy,
            "median_ms": times[times.len() / 2],
        }));
    }
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        all[((all.len() as f64 - 1.0) * p).round() as usize]
    };
    let summary = json!({
        "entries": ix.len(),
        "index_bytes": ix.bytes(),
        "name_bytes": ix.name_bytes(),
        "load_ms": load_ms,
        "runs": all.len(),
        "p50_ms": pct(0.5),
        "p90_ms": pct(0.9),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "queries": rows,
    });
    if out.json {
        out.json(&summary);
        return Ok(());
    }
    for r in summary["queries"].as_array().into_iter().flatten() {
        println!(
            "{:>8.2} ms  {:>7} matches  {}",
            r["median_ms"].as_f64().unwrap_or(0.0),
            r["total"],
            r["query"].as_str().unwrap_or_default()
        );
    }
    println!(
        "{} entries; index {} ({:.1} B/entry), name structures {:.1} B/entry; ready in {load_ms:.1} ms",
        ix.len(),
        format::bytes(ix.bytes() as u64),
        ix.bytes() as f64 / ix.len().max(1) as f64,
        ix.name_bytes() as f64 / ix.len().max(1) as f64,
    );
    println!(
        "{} runs: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
