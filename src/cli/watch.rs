//! `cairn watch`: the live index without the window. The library is opened with the live
//! index on (see `vdfs::indexer::live`); each batch of changes it writes is logged as one
//! line (or one JSON object per line with `--json`), and what it watches of each location is
//! said when that changes. Runs until interrupted (Ctrl+C; a kill loses nothing: what the index
//! did not learn is caught up with at the next start) or for `--for SECONDS`.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::cli::Output;
use crate::vdfs::Core;
use crate::vdfs::events::Event;

/// Arguments of `cairn watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long = "for", value_name = "SECONDS")]
    pub for_secs: Option<u64>,
}

/// Runs `cairn watch`.
///
/// # Errors
/// The library cannot be opened, or the live index cannot start (no inotify instance).
pub fn watch(core: &Core, out: &Output, lib: Option<&str>, args: &WatchArgs) -> anyhow::Result<()> {
    let mut events = core.events().subscribe();
    let library = core.open_library(lib)?;
    if !library.is_watching() {
        // Opened with the live index on; it could not start (the reason is in the log).
        library.start_watching().context("cannot watch")?;
    }
    let names: std::collections::HashMap<u32, String> = library
        .locations()?
        .into_iter()
        .map(|l| (l.id, l.path().display().to_string()))
        .collect();
    if !out.json {
        let off: Vec<&String> = library
            .locations()?
            .iter()
            .filter(|l| !l.watch)
            .filter_map(|l| names.get(&l.id))
            .collect();
        for n in off {
            crate::outln!("not watched (switched off): {n}");
        }
    }
    let deadline = args
        .for_secs
        .map(|s| Instant::now() + Duration::from_secs(s));
    let name = |id: u32| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("location {id}"))
    };
    loop {
        let wait = deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        if wait.is_zero() {
            return Ok(());
        }
        let got = core
            .runtime()
            .block_on(async { tokio::time::timeout(wait, events.recv()).await });
        let ev = match got {
            Err(_) => continue,
            Ok(Ok(ev)) => ev,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => {
                crate::errln!("({n} events not shown: too many at once)");
                continue;
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return Ok(()),
        };
        match ev {
            Event::IndexChanged {
                location,
                folders,
                created,
                modified,
                moved,
                deleted,
            } => {
                if out.json {
                    out.json(&json!({
                        "event": "index_changed",
                        "location": location,
                        "folders": folders.iter().map(|f| f.to_string_lossy()).collect::<Vec<_>>(),
                        "created": created,
                        "modified": modified,
                        "moved": moved,
                        "deleted": deleted,
                    }));
                } else {
                    let first = folders
                        .first()
                        .map_or_else(String::new, |f| f.display().to_string());
                    let more = if folders.len() > 1 {
                        format!(" and {} other folders", folders.len() - 1)
                    } else {
                        String::new()
                    };
                    crate::outln!(
                        "{}  {first}{more}: {created} new, {modified} changed, {moved} moved, {deleted} gone",
                        jiff::Zoned::now().strftime("%H:%M:%S%.3f"),
                    );
                }
            }
            Event::WatchChanged { location } => {
                let st = library.watch_status().get(&location).cloned();
                if out.json {
                    out.json(&json!({ "event": "watch", "location": location, "status": st }));
                } else {
                    match st {
                        Some(s) => crate::outln!("{}: {}", name(location), s.describe()),
                        None => crate::outln!(
                            "{}: not watched (offline, removed or switched off)",
                            name(location)
                        ),
                    }
                }
            }
            Event::JobFinished {
                job,
                status,
                outcome,
            } if !out.json => {
                crate::outln!(
                    "job {job} {status:?}{}",
                    outcome.map(|o| format!(": {o}")).unwrap_or_default()
                );
            }
            _ => {}
        }
    }
}
