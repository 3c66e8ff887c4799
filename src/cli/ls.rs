//! `cairn ls`: a folder from the index inside a location, else straight from the disk.
//!
//! Inside a location (a folder the index holds), plain and `-r` listings are the index's view:
//! what the last scan recorded, after the location's rules — a file deleted since is still
//! listed, one the rules leave out is not. Anywhere else (outside every location, or a folder
//! the index does not hold) the disk is read now, with `--rules`. A note on stderr (or
//! `source` in `--json`) says which.

use std::io::Write;
use std::path::Path;

use clap::Args;
use serde_json::json;

use super::{Output, local_path};
use crate::format;
use crate::vdfs::fs::entry::{EntryKind, os_bytes};
use crate::vdfs::fs::rules::{Compiled, Rules};
use crate::vdfs::fs::walk::{Tree, WalkOptions, walk, walk_streaming};
use crate::vdfs::index::location::containing;
use crate::vdfs::index::{EntryRecord, IndexedEntry};
use crate::vdfs::{Core, Library};

/// `cairn ls`
#[derive(Debug, Args)]
pub struct LsArgs {
    /// A folder (default: the current one; any bytes, UTF-8 or not), or a cairn:// address.
    pub path: Option<std::ffi::OsString>,
    /// List everything below, as paths relative to the folder (from the index: depth first,
    /// in name order).
    #[arg(short, long)]
    pub recursive: bool,
    /// Show kind, size and modification time.
    #[arg(short, long)]
    pub long: bool,
    /// For a listing from the disk: none, default, or a list of rule toggles (default: none).
    /// A listing from the index shows what its location's rules let in.
    #[arg(long, default_value = "none")]
    pub rules: String,
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
    let found = lib.entry_at(&canon)?;
    match found {
        Some(found) if found.record.kind == EntryKind::Dir => {
            ls_index(&lib, out, a, &canon, &found)
        }
        _ => ls_disk(&lib, out, a, &canon),
    }
}

/// The index's view of an indexed folder.
fn ls_index(
    lib: &Library,
    out: &Output,
    a: &LsArgs,
    canon: &Path,
    found: &IndexedEntry,
) -> anyhow::Result<()> {
    let loc = &found.location;
    if !out.json {
        crate::errln!(
            "note: from the index of location {} ({}), as of its last scan and after its rules",
            loc.id,
            loc.path().display()
        );
    }
    let mut w = std::io::BufWriter::with_capacity(1 << 16, crate::cli::out::stdout());
    if !a.recursive {
        let mut kids = lib.children(found.id)?;
        kids.sort_by(|x, y| x.1.name.cmp(&y.1.name));
        if out.json {
            let rows: Vec<_> = kids
                .iter()
                .map(|(id, r)| entry_json(Some(*id), r))
                .collect();
            out.json(
                &json!({ "path": canon.to_string_lossy(), "source": "index", "location": loc.id, "entries": rows }),
            );
        } else {
            for (_, r) in &kids {
                print_row(&mut w, a.long, &r.name, r.kind, r.size, r.mtime_ns)?;
            }
        }
        return Ok(w.flush()?);
    }
    if out.json {
        let mut rows = Vec::new();
        lib.list_index_tree(found.id, &mut |chunk| {
            rows.extend(chunk.iter().map(|row| {
                let mut v = entry_json(Some(row.id), &row.record);
                let rel = row.rel.as_os_str();
                v["name"] = json!(rel.to_string_lossy());
                v["name_bytes"] = json!(rel.to_str().is_none().then(|| os_bytes(rel).to_vec()));
                v
            }));
            true
        })?;
        out.json(
            &json!({ "path": canon.to_string_lossy(), "source": "index", "location": loc.id, "entries": rows }),
        );
        return Ok(());
    }
    // Written as the chunks arrive; a reader that went away (`| head`) stops the listing.
    let mut failed = None;
    lib.list_index_tree(found.id, &mut |chunk| {
        for row in &chunk {
            let r = &row.record;
            let name = os_bytes(row.rel.as_os_str());
            if let Err(e) = print_row(&mut w, a.long, name, r.kind, r.size, r.mtime_ns) {
                failed = Some(e);
                return false;
            }
        }
        true
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    Ok(w.flush()?)
}

/// A folder read from the disk now: outside every location, or not held by the index.
fn ls_disk(lib: &Library, out: &Output, a: &LsArgs, canon: &Path) -> anyhow::Result<()> {
    let rules = Compiled::new(&Rules::parse(&a.rules).map_err(anyhow::Error::msg)?)
        .map_err(anyhow::Error::msg)?;
    let mut opts = WalkOptions::new(rules);
    opts.max_depth = (!a.recursive).then_some(1);
    opts.stat = a.long || out.json;
    // Said once the folder could be read (a folder that cannot is one error line alone).
    let note = match containing(&lib.locations()?, canon) {
        Some(loc) => format!(
            "note: from the disk: location {} ({}) does not hold {} in its index (its rules \
             leave it out, or it is new since the last scan)",
            loc.id,
            loc.path().display(),
            canon.display()
        ),
        None => format!("note: from the disk: {} is in no location", canon.display()),
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 16, crate::cli::out::stdout());
    if a.recursive && !out.json {
        return ls_disk_streaming(&mut w, a.long, canon, opts, &note);
    }
    let tree = walk(canon, &opts)?;
    if !out.json {
        crate::errln!("{note}");
    }
    if out.json {
        let rows: Vec<_> = (1..tree.len())
            .map(|i| tree_json(&tree, i, a.recursive))
            .collect();
        out.json(
            &json!({ "path": canon.to_string_lossy(), "source": "disk", "entries": rows, "errors": tree.errors }),
        );
    } else {
        // One folder (`-r` streams above), in name order.
        let mut order: Vec<u32> = (1..tree.len()).collect();
        order.sort_by(|&x, &y| tree.name(x).cmp(tree.name(y)));
        for i in order {
            let n = tree.node(i);
            print_row(&mut w, a.long, tree.name(i), n.kind, n.size, n.mtime_ns)?;
        }
        for e in &tree.errors {
            crate::errln!("warning: {}: {}", e.path.display(), e.message);
        }
    }
    Ok(w.flush()?)
}

/// `ls -r` of a folder read from the disk: each folder's listing is written as the walk
/// gives it (the order of [`walk_streaming`]: a folder before what is inside it), so the
/// output flows while the walk goes on. A reader that went away (`| head`) stops the walk.
fn ls_disk_streaming(
    w: &mut impl Write,
    long: bool,
    canon: &Path,
    mut opts: WalkOptions,
    note: &str,
) -> anyhow::Result<()> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    opts.stop = Some(stop.clone());
    let mut failed = None;
    // The relative path of the folder whose listing was written last, and that folder.
    let mut prefix: Vec<u8> = Vec::new();
    let mut prefix_of = None;
    let mut row: Vec<u8> = Vec::new();
    let tree = walk_streaming(canon, &opts, &mut |tree, range| {
        if failed.is_some() {
            return;
        }
        for i in range {
            if i == 0 {
                crate::errln!("{note}");
                continue;
            }
            let n = tree.node(i);
            if prefix_of != Some(n.parent) {
                prefix.clear();
                prefix.extend_from_slice(os_bytes(tree.rel_path(n.parent).as_os_str()));
                if !prefix.is_empty() {
                    prefix.push(b'/');
                }
                prefix_of = Some(n.parent);
            }
            row.clear();
            row.extend_from_slice(&prefix);
            row.extend_from_slice(tree.name(i));
            if let Err(e) = print_row(w, long, &row, n.kind, n.size, n.mtime_ns) {
                failed = Some(e);
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                return;
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    for e in &tree.errors {
        crate::errln!("warning: {}: {}", e.path.display(), e.message);
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
    w.write_all(&format::escape_controls(name))?;
    if kind == EntryKind::Dir {
        w.write_all(b"/")?;
    }
    w.write_all(b"\n")
}

pub(super) fn entry_json(id: Option<u64>, r: &EntryRecord) -> serde_json::Value {
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
