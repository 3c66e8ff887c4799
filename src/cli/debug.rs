//! `cairn debug …` (hidden): the diagnostic job, the index dump and the search benchmark.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use super::Output;
use super::jobs::follow;
use crate::format;
use crate::vdfs::Core;
use crate::vdfs::jobs::JobId;
use crate::vdfs::jobs::diagnostic::DiagnosticJob;

/// `cairn debug …` (hidden).
#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Hold the library open and run other `cairn` commands for them, as the window does,
    /// until standard input closes (for tests of the CLI beside a running Cairn).
    Serve,
    /// Run the diagnostic job in the foreground: N batches, each committed with its checkpoint.
    DiagnosticJob {
        /// Number of batches.
        #[arg(long, default_value_t = 20)]
        batches: u64,
        /// Simulated work per batch, in ms.
        #[arg(long, default_value_t = 50)]
        batch_ms: u64,
    },
    /// Measure the live index on location LOCATION (id, path or name): memory of its watches,
    /// idle CPU, latency from a file's creation to its entry (N files, one at a time), with
    /// `--tar` the time from an archive's extraction into it to the index holding every
    /// entry, with `--catch-up` a rescan of it unchanged against the catch-up after 1,000
    /// changes made while not watched. Prints JSON. Creates and removes `live-bench-*`
    /// folders in the location.
    LiveBench {
        /// The location.
        location: String,
        /// Files created one at a time for the latency.
        #[arg(long, default_value_t = 200)]
        n: usize,
        /// An archive to extract into the location (with `tar -xf`).
        #[arg(long)]
        tar: Option<PathBuf>,
        /// Also time the catch-up after 1,000 changes.
        #[arg(long)]
        catch_up: bool,
        /// Measure the memory baseline after an unchanged rescan of the location (the store's
        /// page cache warm, as in a session that has indexed it), not right after opening.
        #[arg(long)]
        warm: bool,
    },
    /// Time thumbnails of the images (and PDFs) in folder DIR (not below it; by name, as the grid shows
    /// them), as the window makes them for a folder outside the locations (made, written to
    /// the data folder's thumbnail cache, read back): the first FIRST with the window's two
    /// threads (the first screen of the grid), then every one on its own (per-file median and
    /// p99, failures), then the first FIRST again from the cache. Use a data folder of its
    /// own (`--data-dir`): its cache must start empty. Prints JSON.
    ThumbBench {
        /// The folder.
        dir: PathBuf,
        /// Images in the first screen.
        #[arg(long, default_value_t = 48)]
        first: usize,
        /// At most this many images in all.
        #[arg(long, default_value_t = 10_000)]
        limit: usize,
    },
    /// Show how many times each batch of a diagnostic job was committed.
    DiagnosticReport {
        /// Job id.
        id: JobId,
    },
    /// Print every entry of the index (path, kind, size, mtime, cas_id), sorted, one per line.
    DumpIndex,
    /// Check that the index's keys, links, counts and aggregates agree with its entries;
    /// prints each problem and exits with an error if there is one.
    CheckIndex,
    /// The size of every table of the library's store (entries, bytes stored, structure,
    /// unused).
    StoreStats,
    /// Time name queries in this process (index already loaded): each query of FILE (one
    /// per line; `\t`-separated `kind=…`, `size=LO..HI`, `in=PATH` add filters) RUNS times;
    /// prints each query's median and the percentiles over all of them.
    SearchBench {
        /// The queries, one per line: the text, then tab-separated filters (kind=…,
        /// size=LO..HI, in=PATH, tag=NAME).
        file: PathBuf,
        /// Runs per query (after one warm-up run).
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Results per query.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

pub(super) fn debug(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    c: DebugCommand,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    match c {
        DebugCommand::Serve => {
            let _server = super::serve::Server::start(core.clone(), lib.path())?;
            crate::outln!(
                "serving {}",
                lib.path().join(super::serve::SOCKET_FILE).display()
            );
            let mut sink = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink)?;
        }
        DebugCommand::DiagnosticJob { batches, batch_ms } => {
            let mut events = core.events().subscribe();
            let handle = lib.jobs().spawn(DiagnosticJob::new(batches, batch_ms))?;
            follow(out, &lib, &handle, &mut events)?;
        }
        DebugCommand::DumpIndex => {
            for line in lib.dump_index()? {
                crate::outln!("{line}");
            }
        }
        DebugCommand::CheckIndex => {
            let problems = lib.check_index()?;
            for p in &problems {
                crate::outln!("{p}");
            }
            if !problems.is_empty() {
                anyhow::bail!("the index has {} problems", problems.len());
            }
            if !out.json {
                crate::outln!("The index is consistent.");
            }
        }
        DebugCommand::LiveBench {
            location,
            n,
            tar,
            catch_up,
            warm,
        } => {
            let id = lib.find_location(&location)?.id;
            let report = crate::cli::live_bench::run(&lib, id, n, tar.as_deref(), catch_up, warm)?;
            crate::outln!("{}", serde_json::to_string_pretty(&report)?);
        }
        DebugCommand::StoreStats => {
            let sizes = lib.table_sizes()?;
            if out.json {
                out.json(&serde_json::to_value(&sizes)?);
            } else {
                crate::outln!(
                    "{:24} {:>10} {:>14} {:>12} {:>12}",
                    "TABLE",
                    "ENTRIES",
                    "STORED",
                    "STRUCTURE",
                    "UNUSED"
                );
                for t in sizes {
                    crate::outln!(
                        "{:24} {:>10} {:>14} {:>12} {:>12}",
                        t.table,
                        t.entries,
                        t.stored_bytes,
                        t.metadata_bytes,
                        t.fragmented_bytes
                    );
                }
            }
        }
        DebugCommand::SearchBench { file, runs, limit } => {
            search_bench(out, &lib, &file, runs, limit)?;
        }
        DebugCommand::ThumbBench { dir, first, limit } => thumb_bench(core, &dir, first, limit)?,
        DebugCommand::DiagnosticReport { id } => {
            let counts = lib.diagnostic_batch_counts(id)?;
            if out.json {
                out.json(&json!({ "job": id, "batches": counts }));
            } else {
                for (batch, n) in counts {
                    crate::outln!("batch {batch}: committed {n}×");
                }
            }
        }
    }
    Ok(())
}

/// `cairn debug thumb-bench`: see [`DebugCommand::ThumbBench`].
fn thumb_bench(core: &Core, dir: &Path, first: usize, limit: usize) -> anyhow::Result<()> {
    use crate::vdfs::content::filetype::{ContentKind, Registry};
    use std::time::Instant;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .map(|e| e.path())
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            let r = Registry::active();
            // What the grid shows a picture of: images and PDFs (their first page).
            crate::vdfs::sidecars::thumbnail::is_pdf_name(p)
                || r.by_extension(ext)
                    .first()
                    .and_then(|&i| r.get(i))
                    .is_some_and(|t| t.kind == ContentKind::Image)
        })
        .collect();
    files.sort();
    files.truncate(limit);
    anyhow::ensure!(!files.is_empty(), "no images or PDFs in {}", dir.display());
    let head = &files[..first.min(files.len())];
    // The first screen, cold, on two threads as the window's thumbnail pool.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let screen = |files: &[PathBuf]| {
        let t = Instant::now();
        next.store(0, std::sync::atomic::Ordering::Relaxed);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    while let Some(p) =
                        files.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        let _ = core.thumbnail(p, None);
                    }
                });
            }
        });
        t.elapsed().as_secs_f64() * 1e3
    };
    let first_cold_ms = screen(head);
    // The rest, one at a time.
    let mut each = Vec::new();
    let mut failed = 0u64;
    let t = Instant::now();
    for p in &files[head.len()..] {
        let t = Instant::now();
        if core.thumbnail(p, None).is_none() {
            failed += 1;
        }
        each.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let rest_ms = t.elapsed().as_secs_f64() * 1e3;
    each.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        each.get(((each.len() as f64 - 1.0) * q).round() as usize)
            .copied()
    };
    let first_warm_ms = screen(head);
    crate::outln!(
        "{}",
        json!({
            "dir": dir.display().to_string(),
            "images": files.len(),
            "first": head.len(),
            "first_screen_cold_ms": first_cold_ms,
            "first_screen_cached_ms": first_warm_ms,
            "rest": each.len(),
            "rest_ms": rest_ms,
            "rest_failed": failed,
            "per_image_median_ms": pct(0.5),
            "per_image_p99_ms": pct(0.99),
        })
    );
    Ok(())
}

/// `cairn debug search-bench`: in-process query latency over a list of queries.
fn search_bench(
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
                Some(("tag", t)) => q.tags.push(lib.find_tag(t)?.id),
                _ => anyhow::bail!("{p:?}: expected kind=…, size=LO..HI, in=PATH or tag=NAME"),
            }
        }
        // The first run (the warm-up) builds what later runs reuse, such as a tag's entries.
        let t = std::time::Instant::now();
        let res = lib.search(&q)?;
        let first_ms = t.elapsed().as_secs_f64() * 1e3;
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
            "first_ms": first_ms,
        }));
    }
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| crate::cli::live_bench::percentile(&all, p);
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
        crate::outln!(
            "{:>8.2} ms (first {:>7.2} ms)  {:>7} matches  {}",
            r["median_ms"].as_f64().unwrap_or(0.0),
            r["first_ms"].as_f64().unwrap_or(0.0),
            r["total"],
            r["query"].as_str().unwrap_or_default()
        );
    }
    crate::outln!(
        "{} entries; index {} ({:.1} B/entry), name structures {:.1} B/entry; ready in {load_ms:.1} ms",
        ix.len(),
        format::bytes(ix.bytes() as u64),
        ix.bytes() as f64 / ix.len().max(1) as f64,
        ix.name_bytes() as f64 / ix.len().max(1) as f64,
    );
    crate::outln!(
        "{} runs: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
