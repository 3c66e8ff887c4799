//! `cairn search`: files by name, kind, extension, size, date and place.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::json;

use super::Output;
use crate::format;
use crate::vdfs::Core;
use crate::vdfs::fs::entry::EntryKind;

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
    /// Only files and folders with this tag (or a tag below it); repeat for several (all must
    /// match). `namespace::name` picks one of two tags of one name.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// With --tag: a tagged folder passes its tags to everything below it.
    #[arg(long, requires = "tags")]
    pub inherited: bool,
    /// Only the items of this collection.
    #[arg(long, value_name = "NAME")]
    pub collection: Option<String>,
    /// Only files and folders whose note contains this text (case and accents ignored).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
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
    /// Save this search under a name (it runs too); `--saved NAME` runs it again.
    #[arg(long, value_name = "NAME")]
    pub save: Option<String>,
    /// Run a saved search (text given here replaces its text, kinds, extensions and tags are
    /// added to its own; --limit and --offset apply).
    #[arg(long, value_name = "NAME", conflicts_with = "save")]
    pub saved: Option<String>,
    /// List the saved searches.
    #[arg(long)]
    pub list_saved: bool,
    /// Delete a saved search.
    #[arg(long, value_name = "NAME")]
    pub delete_saved: Option<String>,
}

pub(super) fn search(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &SearchArgs,
) -> anyhow::Result<()> {
    use crate::vdfs::query::search::{NameIndex, NameMatch, Query, parse_date_ns, parse_range};
    let lib = core.open_library(selected)?;
    if a.list_saved {
        let all = lib.saved_searches()?;
        if out.json {
            out.json(&serde_json::to_value(&all)?);
        } else if all.is_empty() {
            crate::outln!("No saved searches (`cairn search … --save NAME` saves one).");
        } else {
            for s in all {
                crate::outln!("{}  \"{}\"", s.name, s.query.text);
            }
        }
        return Ok(());
    }
    if let Some(name) = &a.delete_saved {
        let s = lib.delete_saved_search(name)?;
        if !out.json {
            crate::outln!("Deleted the saved search \"{}\"", s.name);
        }
        return Ok(());
    }
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
        Some(t) => Some(lib.find_location(t)?.id),
        None => None,
    };
    let tags = a
        .tags
        .iter()
        .map(|t| lib.find_tag(t).map(|t| t.id))
        .collect::<Result<Vec<_>, _>>()?;
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
        tags,
        tags_inherited: a.inherited,
        collection: a
            .collection
            .as_deref()
            .map(|c| lib.find_collection(c).map(|c| c.id))
            .transpose()?,
        note: a.note.clone(),
        sort: a.sort.parse().map_err(anyhow::Error::msg)?,
        reverse: a.reverse,
        limit: a.limit,
        offset: a.offset,
    };
    // A saved search: its query, with what this command line adds.
    let q = match &a.saved {
        Some(name) => {
            let saved = lib.saved_search(name)?.query;
            Query {
                // Text given here replaces the saved text.
                text: if q.text.is_empty() {
                    saved.text.clone()
                } else {
                    q.text.clone()
                },
                kinds: [saved.kinds.clone(), q.kinds.clone()].concat(),
                extensions: [saved.extensions.clone(), q.extensions.clone()].concat(),
                tags: [saved.tags.clone(), q.tags.clone()].concat(),
                within: q.within.clone().or(saved.within.clone()),
                limit: q.limit,
                offset: q.offset,
                ..saved
            }
        }
        None => q,
    };
    if let Some(name) = &a.save {
        let s = lib.save_search(name, &q)?;
        if !out.json {
            crate::errln!(
                "Saved as \"{}\" (`cairn search --saved \"{}\"`)",
                s.name,
                s.name
            );
        }
    }
    // A folder no location covers is searched through an ephemeral index of a walk.
    let locations = lib.locations()?;
    let outside = within
        .as_ref()
        .filter(|w| crate::vdfs::index::location::search_walks(&locations, w, q.indexed_only()));
    let started = std::time::Instant::now();
    let (index, ephemeral) = match outside {
        Some(w) if !q.tags.is_empty() || q.note.is_some() || q.collection.is_some() => {
            anyhow::bail!(
                "{} is outside the library's locations, and only indexed files carry tags and notes",
                w.display()
            );
        }
        Some(w) => {
            let ix = NameIndex::of_folder(w, None)?.expect("a walk nobody stops");
            (std::sync::Arc::new(ix), true)
        }
        None => {
            if lib.name_index_stale()? {
                crate::errln!("Updating the search index after changes to the library…");
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
        // A path that is not UTF-8 is shown lossily in "path" and exactly in "path_bytes",
        // as `ls --json` does with "name_bytes".
        let hits: Vec<serde_json::Value> = res
            .hits
            .iter()
            .map(|h| {
                let mut v = serde_json::to_value(h).unwrap_or_default();
                if h.path.to_str().is_none() {
                    v["path_bytes"] = json!(h.path.as_os_str().as_encoded_bytes());
                }
                v
            })
            .collect();
        out.json(&json!({ "total": res.total, "fuzzy": res.fuzzy, "hits": hits }));
        return Ok(());
    }
    let mut w = std::io::BufWriter::new(crate::cli::out::stdout());
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
            format::shown(&h.path)
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
