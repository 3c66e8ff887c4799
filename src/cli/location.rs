//! `cairn location …`: add, list, rescan, change and remove locations.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use super::Output;
use super::jobs::follow;
use crate::format;
use crate::vdfs::fs::rules::{Compiled, Rules};
use crate::vdfs::index::location::{Availability, IndexMode, LocationRecord};
use crate::vdfs::library::LocationStatus;
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
    /// Index a location again (only what changed is written), or only one folder of it.
    Rescan {
        /// Id, path or folder name.
        location: String,
        /// Rescan only this folder of the location and what is below it (absolute, or
        /// relative to the current folder). The location's root rescans it all. A folder not
        /// indexed yet, or gone, is rescanned from the nearest indexed folder above it.
        #[arg(long, value_name = "SUB")]
        path: Option<PathBuf>,
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
        /// Whether the live index (the window, `cairn watch`) watches it for changes.
        #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
        watch: Option<bool>,
    },
    /// Forget a location's index. Your files are not touched.
    Remove {
        /// Id, path or folder name.
        location: String,
    },
}

fn parse_on_off(text: &str) -> Result<bool, String> {
    match text {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(format!("{text:?} is not on or off")),
    }
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
                crate::outln!(
                    "Added location {} ({}, {})",
                    rec.id,
                    rec.path().display(),
                    rec.mode.as_str()
                );
            }
            if background {
                report_location(
                    out,
                    &lib,
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
            let list = lib.location_statuses(&[])?;
            if out.json {
                let rows: Vec<_> = list.iter().map(|l| location_json(&lib, l)).collect();
                out.json(&json!(rows));
            } else if list.is_empty() {
                crate::outln!("No locations. Add one with `cairn location add PATH`.");
            } else {
                crate::outln!(
                    "{:>3}  {:8}  {:>9}  {:>7}  {:>8}  {:>10}  {:28}  PATH",
                    "ID",
                    "MODE",
                    "FILES",
                    "FOLDERS",
                    "SYMLINKS",
                    "SIZE",
                    "STATE"
                );
                for st in &list {
                    let l = &st.record;
                    crate::outln!(
                        "{:>3}  {:8}  {:>9}  {:>7}  {:>8}  {:>10}  {:28}  {}",
                        l.id,
                        l.mode.as_str(),
                        l.stats.files,
                        l.stats.dirs,
                        l.stats.symlinks,
                        format::bytes(l.stats.bytes),
                        state_text(&lib, st),
                        l.path().display()
                    );
                }
            }
        }
        LocationCommand::Rescan {
            location,
            path,
            background,
        } => {
            let rec = lib.find_location(&location)?;
            let mut events = core.events().subscribe();
            let handle = match path {
                Some(sub) => lib.rescan_path(rec.id, &sub)?,
                None => lib.rescan(rec.id)?,
            };
            if !background {
                follow(out, &lib, &handle, &mut events)?;
            } else {
                report_location(out, &lib, &rec);
            }
        }
        LocationCommand::Set {
            location,
            mode,
            rules,
            exclude,
            watch,
        } => {
            let rec = lib.find_location(&location)?;
            if let Some(w) = watch {
                lib.set_location_watch(rec.id, w)?;
            }
            let rules = match (rules, exclude.is_empty()) {
                (Some(r), _) => Some(parse_rules(&r, &exclude)?),
                (None, false) => Some(Rules {
                    exclude_globs: exclude,
                    ..rec.rules.clone()
                }),
                (None, true) => None,
            };
            let rec = if mode.is_some() || rules.is_some() || watch.is_none() {
                lib.set_location(rec.id, mode, rules)?
            } else {
                lib.location(rec.id)?
            };
            report_location(out, &lib, &rec);
        }
        LocationCommand::Remove { location } => {
            let rec = lib.find_location(&location)?;
            let rec = lib.remove_location(rec.id)?;
            if out.json {
                out.json(&json!({ "removed": rec.id, "path": rec.path().to_string_lossy() }));
            } else {
                crate::outln!(
                    "Removed location {} ({}); no file was touched",
                    rec.id,
                    rec.path().display()
                );
            }
        }
    }
    Ok(())
}

/// A location's state in a few words, from its status (availability and unreadable folders,
/// found once per command by `crate::vdfs::Library::location_statuses`).
pub(super) fn state_text(lib: &Library, st: &LocationStatus) -> String {
    let l = &st.record;
    if let Ok(Some(job)) = lib.location_job(l.id)
        && let Ok(j) = lib.jobs().get(job)
        && !j.status.is_terminal()
    {
        return format!("indexing ({})", j.status);
    }
    match st.availability {
        Availability::Offline(_) => return "offline".to_owned(),
        Availability::Missing(_) => return "missing".to_owned(),
        Availability::Online => {}
    }
    if let Some(e) = &l.error {
        return format!("error: {}", e.chars().take(20).collect::<String>());
    }
    match (l.indexed_ms, st.unreadable) {
        (Some(t), 0) => format!("indexed {}", format::time_ms(t)),
        (Some(_), 1) => "1 folder could not be read".to_owned(),
        (Some(_), n) => format!("{n} folders could not be read"),
        (None, _) => "not indexed".to_owned(),
    }
}

pub(super) fn location_json(lib: &Library, st: &LocationStatus) -> serde_json::Value {
    let l = &st.record;
    json!({
        "id": l.id,
        "uuid": l.uuid,
        "device": l.device,
        "path": l.path(),
        "mode": l.mode,
        "rules": l.rules,
        "volume": l.volume,
        "availability": st.availability,
        "state": state_text(lib, st),
        "indexed_ms": l.indexed_ms,
        "job": lib.location_job(l.id).ok().flatten(),
        "stats": l.stats,
        "skipped_summary": l.stats.skipped.summary(),
        "error": l.error,
        "unreadable_folders": st.unreadable,
        "watch": l.watch,
    })
}

fn report_location(out: &Output, lib: &Library, l: &LocationRecord) {
    if out.json {
        let job = lib.location_job(l.id).ok().flatten();
        out.json(&json!({ "id": l.id, "path": l.path().to_string_lossy(), "mode": l.mode, "rules": l.rules, "watch": l.watch, "job": job }));
    } else {
        crate::outln!(
            "Location {}: {} (mode {}, rules: {}, watched for changes: {})",
            l.id,
            l.path().display(),
            l.mode.as_str(),
            l.rules.describe(),
            if l.watch { "yes" } else { "no" }
        );
    }
}
