//! `cairn dupes` and `cairn redundancy`: duplicate groups, copies of a file, files that exist
//! only once and backup gaps, from the index.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;

use super::Output;
use crate::format;
use crate::vdfs::Core;
use crate::vdfs::fs::entry::EntryKind;

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
    /// Which copy of each group to keep: newest, oldest, shortest (path), or in:PATH (a
    /// reference folder).
    #[arg(long, default_value = "newest")]
    pub keep: String,
    /// Print CSV: group, cas_id, size, keep, path.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Move every copy but the kept one (--keep) to the trash, as one undoable operation.
    /// Implies --confirm: only groups whose every byte matches are touched; the kept copy must
    /// be on disk; hard links of a kept file are left alone (removing them frees nothing).
    #[arg(long, conflicts_with = "csv")]
    pub trash_others: bool,
    /// Replace every copy but the kept one (--keep) by a hard link to it, as one undoable
    /// operation: the space is freed and every path stays. Only copies on the kept copy's
    /// volume whose every byte matches; an edit to one linked file then shows in all.
    #[arg(long, conflicts_with_all = ["csv", "trash_others"])]
    pub link_others: bool,
    /// With --trash-others or --link-others: print the preview and change nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
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
        "shortest" => Keep::Shortest,
        other => match other.strip_prefix("in:") {
            Some(p) => Keep::In(std::fs::canonicalize(p).with_context(|| p.to_owned())?),
            None => bail!("--keep must be newest, oldest, shortest or in:PATH, not {other:?}"),
        },
    };
    let q = DupesQuery {
        within,
        min_size: crate::format::parse_bytes(&a.min_size).map_err(anyhow::Error::msg)?,
    };
    let mut groups = lib.dupes(&q)?;
    let mut unconfirmed = None;
    if a.dry_run && !a.trash_others && !a.link_others {
        bail!("--dry-run goes with --trash-others or --link-others");
    }
    if a.confirm || a.trash_others || a.link_others {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (g, u) = dupes::confirm(groups, threads);
        groups = g;
        unconfirmed = Some(u);
    }
    let keeps = dupes::keep(&groups, &keep);
    // Only groups whose every byte matches are touched, and never a group's last copy.
    let confirmed: Vec<dupes::Group> = groups
        .iter()
        .filter(|g| g.confirmed == Some(true) && g.members.len() >= 2)
        .cloned()
        .collect();
    let kept_paths: std::collections::HashSet<&std::path::Path> = groups
        .iter()
        .zip(&keeps)
        .filter_map(|(g, k)| k.map(|k| g.members[k].path.as_path()))
        .collect();
    let kept = |m: &dupes::Member| kept_paths.contains(m.path.as_path());
    if a.link_others {
        // Copies with no kept copy on their volume are left out, not refused.
        let (pairs, elsewhere) = dupes::link_pairs(&confirmed, kept);
        if elsewhere > 0 {
            crate::errln!("{elsewhere} copies left out: no kept copy on their volume");
        }
        if pairs.is_empty() {
            crate::outln!("No duplicate to link.");
            return Ok(());
        }
        let req = crate::vdfs::actions::Request::hard_links(pairs);
        return super::files::run(core, out, &lib, req, a.dry_run);
    }
    if a.trash_others {
        let others = dupes::others(&confirmed, kept).paths;
        if others.is_empty() {
            crate::outln!("No duplicate to trash.");
            return Ok(());
        }
        let req = crate::vdfs::actions::Request::new(crate::vdfs::actions::OpKind::Trash, others);
        return super::files::run(core, out, &lib, req, a.dry_run);
    }
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
    let mut w = std::io::BufWriter::new(crate::cli::out::stdout());
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
            writeln!(w, "  {mark}  {}", format::shown(&m.path))?;
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
    let lib = core.open_library(selected)?;
    let path = match &a.path {
        Some(p) => crate::vdfs::fs::entry::canonical_no_follow(p),
        None => std::env::current_dir()?,
    };
    let mut w = std::io::BufWriter::new(crate::cli::out::stdout());
    if let Some(target) = &a.missing_from {
        let t = lib.find_location(target)?;
        let gap = lib.missing_from(&path, t.id)?;
        if out.json {
            out.json(&json!({ "within": path.to_string_lossy(), "target": t.path().to_string_lossy(), "report": gap }));
            return Ok(());
        }
        for f in &gap.missing {
            writeln!(w, "{}  ({})", format::shown(&f.path), format::bytes(f.size))?;
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
        && let Some(found) = lib.entry_at(&path)?
        && found.record.kind != EntryKind::Dir
    {
        let copies = lib.copies(found.id)?;
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
                // Hard links: more names of that copy, not more copies.
                for l in &c.links {
                    writeln!(w, "    same file: {}", l.display())?;
                }
            }
        }
        return Ok(w.flush()?);
    }
    let report = lib.at_risk(&path)?;
    if out.json {
        out.json(&json!({ "within": path.to_string_lossy(), "report": report }));
        return Ok(());
    }
    if a.at_risk {
        for f in &report.single {
            writeln!(w, "{}  ({})", format::shown(&f.path), format::bytes(f.size))?;
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
