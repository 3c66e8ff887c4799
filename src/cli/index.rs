//! `cairn index status` and `cairn verify-content`: the index as a whole.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::Output;
use super::jobs::follow;
use super::location::{location_json, state_text};
use crate::format;
use crate::vdfs::Core;
use crate::vdfs::index::location::Availability;
use crate::vdfs::library::IndexCounts;

/// `cairn index …`
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Show every location's state and the index's size.
    Status,
}

/// `cairn verify-content`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Only the location holding this path (default: every location).
    pub path: Option<PathBuf>,
}

pub(super) fn index(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    c: IndexCommand,
) -> anyhow::Result<()> {
    let IndexCommand::Status = c;
    let lib = core.open_library(selected)?;
    let list = lib.location_statuses(&[])?;
    let IndexCounts { entries, contents } = lib.index_counts()?;
    let store_bytes = lib.store_bytes();
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
    crate::outln!(
        "Library \"{}\": {entries} entries, {contents} content identities, store {}",
        lib.config().name,
        format::bytes(store_bytes)
    );
    if list.is_empty() {
        crate::outln!("No locations. Add one with `cairn location add PATH`.");
    }
    for st in &list {
        let l = &st.record;
        crate::outln!(
            "{:>3}  {}  {}",
            l.id,
            state_text(&lib, st),
            l.path().display()
        );
        if let Some(s) = l.stats.skipped.summary() {
            crate::outln!("     {s}");
        }
        if l.stats.errors > 0 {
            crate::outln!(
                "     {} paths could not be read (see `cairn jobs list --all`)",
                l.stats.errors
            );
        }
        match &st.availability {
            Availability::Online => {}
            Availability::Offline(why) | Availability::Missing(why) => crate::outln!("     {why}"),
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
        Some(p) => Some(lib.find_location(&p.to_string_lossy())?.id),
        None => None,
    };
    let mut events = core.events().subscribe();
    let handle = lib.verify_content(location)?;
    follow(out, &lib, &handle, &mut events)
}
