//! `cairn library …`: create, list, inspect, rename, set the default and delete libraries.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;

use super::Output;
use crate::format;
use crate::vdfs::Core;

/// `cairn library …`
#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// Create a library.
    Create {
        /// Display name; any characters are fine, the folder name is made safe.
        name: String,
        /// A short description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List libraries (`*` marks the default).
    List,
    /// Show a library's details (default: the --library one, else the default).
    Info {
        /// Name or id.
        library: Option<String>,
    },
    /// Rename a library (its display name and its folder).
    Rename {
        /// Current name or id.
        library: String,
        /// New display name.
        new_name: String,
    },
    /// Make a library the one opened when none is named.
    SetDefault {
        /// Name or id.
        library: String,
    },
    /// Check a library's catalogue: every stored record's checksum, table by table, then that
    /// every key, link, count and folder total of the index agrees with its entries. Reads
    /// only; exits with an error if anything is damaged.
    Check {
        /// Name or id (default: the --library one, else the default).
        library: Option<String>,
    },
    /// Repair a damaged catalogue: a new library.redb keeps every record that is still whole
    /// (locations, entries with their UUIDs, content identities, favourites, jobs, history),
    /// the damaged file is kept beside it as library.redb.damaged-DATE, then every location is
    /// rescanned so the disks fill in what was lost. A catalogue without damage is left as it
    /// is.
    Repair {
        /// Name or id (default: the --library one, else the default).
        library: Option<String>,
        /// Do not rescan the locations afterwards (`cairn location rescan` does it later).
        #[arg(long)]
        no_rescan: bool,
    },
    /// Delete a library's catalogue (index, tags, notes, jobs). Your files are not touched.
    Delete {
        /// Name or id.
        library: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

pub(super) fn library(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    c: LibraryCommand,
) -> anyhow::Result<()> {
    match c {
        LibraryCommand::Create { name, description } => {
            let s = core.create_library(&name, &description)?;
            if out.json {
                out.json(&serde_json::to_value(&s)?);
            } else {
                crate::outln!("Created library \"{}\" ({})", s.config.name, s.config.id);
                crate::outln!("  {}", s.path.display());
            }
        }
        LibraryCommand::List => {
            let (list, damaged) = core.list_libraries()?;
            if out.json {
                out.json(&json!({ "libraries": list, "damaged": damaged }));
                return Ok(());
            }
            let width = list
                .iter()
                .map(|l| l.config.name.chars().count())
                .max()
                .unwrap_or(4)
                .max(4);
            crate::outln!("  {:width$}  {:36}  {:>10}  STATUS", "NAME", "ID", "SIZE");
            for l in &list {
                let status = match (&l.damaged, &l.in_use_by) {
                    (Some(why), _) => format!("damaged: {why}"),
                    (None, Some(h)) => format!("in use by {h}"),
                    (None, None) => "closed".to_owned(),
                };
                crate::outln!(
                    "{} {:width$}  {}  {:>10}  {}",
                    if l.is_default { '*' } else { ' ' },
                    l.config.name,
                    l.config.id,
                    format::bytes(l.size_bytes),
                    status
                );
            }
            for d in &damaged {
                crate::outln!("! {} — {}", d.path.display(), d.problem);
            }
        }
        LibraryCommand::Check { library } => {
            let lib = core.open_library(library.as_deref().or(selected))?;
            let (records, structure) = lib.check()?;
            if out.json {
                out.json(&json!({ "records": records, "structure": structure }));
            } else {
                let total: u64 = records.tables.iter().map(|t| t.1).sum();
                crate::outln!(
                    "Checked {total} records in {} tables of {}.",
                    records.tables.len(),
                    lib.path().join("library.redb").display()
                );
                for d in &records.damaged {
                    crate::outln!("  damaged: table {}, key {}: {}", d.table, d.key, d.problem);
                }
                for p in &structure {
                    crate::outln!("  index: {p}");
                }
            }
            let problems = records.damaged.len() + structure.len();
            if problems > 0 {
                anyhow::bail!(
                    "{} is damaged: {problems} problem{} (see above); restore library.redb from a copy of the library folder, or run `cairn library repair`",
                    lib.path().join("library.redb").display(),
                    if problems == 1 { "" } else { "s" }
                );
            }
            if !out.json {
                crate::outln!("No damage found.");
            }
        }
        LibraryCommand::Repair { library, no_rescan } => {
            let (path, _) = match library.as_deref().or(selected) {
                Some(q) => core.find_library(q)?,
                None => core.default_library()?,
            };
            repair(core, out, &path, no_rescan)?;
        }
        LibraryCommand::Info { library } => {
            let info = core.library_info(library.as_deref().or(selected))?;
            if out.json {
                out.json(&serde_json::to_value(&info)?);
                return Ok(());
            }
            let c = &info.summary.config;
            crate::outln!("Name:         {}", c.name);
            crate::outln!("Id:           {}", c.id);
            if !c.description.is_empty() {
                crate::outln!("Description:  {}", c.description);
            }
            crate::outln!("Folder:       {}", info.summary.path.display());
            crate::outln!(
                "Created:      {}",
                format::time_ms(c.created_at.as_millisecond())
            );
            crate::outln!("Size:         {}", format::bytes(info.summary.size_bytes));
            crate::outln!(
                "Default:      {}",
                if info.summary.is_default { "yes" } else { "no" }
            );
            match (&info.summary.in_use_by, info.schema_version, info.jobs) {
                (Some(h), _, _) => crate::outln!("Status:       in use by {h}"),
                (None, Some(v), Some(j)) => {
                    crate::outln!("Status:       closed");
                    crate::outln!("Schema:       version {v}");
                    crate::outln!("Jobs:         {j}");
                }
                _ => {}
            }
            crate::outln!(
                "Settings:     job_concurrency = {}, log_level = {}",
                c.settings.job_concurrency,
                c.settings.log_level
            );
        }
        LibraryCommand::Rename { library, new_name } => {
            let s = core.rename_library(&library, &new_name)?;
            if out.json {
                out.json(&serde_json::to_value(&s)?);
            } else {
                crate::outln!("Renamed to \"{}\" ({})", s.config.name, s.path.display());
            }
        }
        LibraryCommand::SetDefault { library } => {
            let c = core.set_default_library(&library)?;
            if out.json {
                out.json(&json!({ "default_library": c.id }));
            } else {
                crate::outln!("\"{}\" is now the default library", c.name);
            }
        }
        LibraryCommand::Delete { library, yes } => {
            let (path, config) = core.find_library(&library)?;
            if !yes {
                confirm_delete(&config.name, &path)?;
            }
            let c = core.delete_library(&config.id.to_string())?;
            if out.json {
                out.json(&json!({ "deleted": c.id, "name": c.name }));
            } else {
                crate::outln!("Deleted library \"{}\"", c.name);
            }
        }
    }
    Ok(())
}

fn confirm_delete(name: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("refusing to delete library \"{name}\" without confirmation; pass --yes");
    }
    crate::errln!(
        "This deletes the catalogue of \"{name}\" ({}): its index, tags, notes and jobs.\n\
         Your files are not touched. Type the library name to confirm:",
        path.display()
    );
    crate::err!("> ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the confirmation")?;
    if line.trim() != name {
        bail!("the name did not match; nothing was deleted");
    }
    Ok(())
}

/// `cairn library repair`: the repair, what it found and kept, then the rescans.
fn repair(
    core: &Core,
    out: &Output,
    path: &std::path::Path,
    no_rescan: bool,
) -> anyhow::Result<()> {
    let r = core.repair_library_at(path)?;
    let store = path.join(crate::vdfs::home::libraries::STORE_FILE);
    let Some(report) = &r.report else {
        if out.json {
            out.json(&serde_json::to_value(&r)?);
        } else {
            crate::outln!(
                "No damage found in {}; nothing was changed.",
                store.display()
            );
        }
        return Ok(());
    };
    if out.json {
        out.json(&serde_json::to_value(&r)?);
    } else {
        crate::outln!("{} was damaged:", store.display());
        const SHOWN: usize = 20;
        for f in r.found.iter().take(SHOWN) {
            crate::outln!("  {f}");
        }
        if r.found.len() > SHOWN {
            crate::outln!("  … and {} more", r.found.len() - SHOWN);
        }
        match &report.unreadable {
            Some(why) => crate::outln!(
                "Nothing could be read from it ({why}): the catalogue is new and empty; add the library's folders again with `cairn location add`."
            ),
            None => {
                let kept: Vec<String> = report
                    .kept
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(t, n)| format!("{} {t}", format::count(*n)))
                    .collect();
                crate::outln!(
                    "Kept: {}.",
                    if kept.is_empty() {
                        "nothing".to_owned()
                    } else {
                        kept.join(", ")
                    }
                );
            }
        }
        for (table, n, why) in &report.dropped {
            if *n > 0 {
                crate::outln!("Dropped {} from {table}: {why}.", format::count(*n));
            } else {
                crate::outln!("In {table}: {why}.");
            }
        }
        if let Some(kept) = &r.damaged_copy {
            crate::outln!("The damaged file is kept as {}.", kept.display());
        }
    }
    if no_rescan || report.locations.is_empty() {
        if !out.json && !report.locations.is_empty() {
            crate::outln!("Run `cairn location rescan` for each location to find what was lost.");
        }
        return Ok(());
    }
    let lib = core.open_library_at(path)?;
    for id in &report.locations {
        let mut events = core.events().subscribe();
        match lib.rescan(*id) {
            Ok(handle) => super::jobs::follow(out, &lib, &handle, &mut events)?,
            Err(e) => {
                if !out.json {
                    crate::outln!("Location {id} was not rescanned: {e}");
                }
            }
        }
    }
    Ok(())
}
