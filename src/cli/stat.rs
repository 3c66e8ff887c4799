//! `cairn stat`: everything Cairn knows about one file or folder — the inspector's details
//! ([`crate::vdfs::query::details`]), sampled and walked where the index has nothing.

use clap::Args;
use serde_json::json;

use super::ls::entry_json;
use super::{Output, local_path};
use crate::format;
use crate::vdfs::fs::entry::EntryKind;
use crate::vdfs::query::details::{DetailOptions, Details};
use crate::vdfs::sdpath::SdPath;
use crate::vdfs::{Core, CoreError};

/// `cairn stat`
#[derive(Debug, Args)]
pub struct StatArgs {
    /// A file or folder (any bytes, UTF-8 or not), or a cairn:// address.
    pub path: std::ffi::OsString,
}

pub(super) fn stat(
    core: &Core,
    out: &Output,
    selected: Option<&str>,
    a: &StatArgs,
) -> anyhow::Result<()> {
    let lib = core.open_library(selected)?;
    let path = local_path(core, &lib, &a.path)?;
    let details = lib.stat(&path, DetailOptions::STAT).map_err(|e| match e {
        // `CoreError::Io` shows its source in its own message too; print it once.
        CoreError::Io { path, source } => {
            anyhow::Error::new(source).context(path.display().to_string())
        }
        e => e.into(),
    })?;
    let v = stat_json(&details);
    if out.json {
        out.json(&v);
    } else {
        print_stat(&v);
    }
    Ok(())
}

/// The `--json` document of `cairn stat` (the human form is printed from it).
fn stat_json(d: &Details) -> serde_json::Value {
    let f = &d.facts;
    let mut v = serde_json::Map::new();
    v.insert("path".into(), json!(d.path.to_string_lossy()));
    let folder = d
        .folder
        .map(|(bytes, files, dirs)| json!({ "bytes": bytes, "files": files, "dirs": dirs }));
    match &f.indexed {
        Some(found) => {
            v.insert("indexed".into(), json!(true));
            v.insert("location".into(), json!(found.location.id));
            v.insert("entry".into(), entry_json(Some(found.id), &found.record));
            if let Some(t) = d.unreadable_since {
                v.insert("unreadable_since_ms".into(), json!(t));
            }
            if let Some(c) = &f.content {
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
            } else if found.record.kind == EntryKind::File {
                v.insert(
                    "type_by_extension".into(),
                    json!(f.file_type.as_ref().map(|t| (&t.id, &t.mime, t.kind))),
                );
            }
            // A copy is one file on disk: hard links are more names of it, not more copies.
            let others: Vec<_> = d
                .other_copies
                .iter()
                .map(|c| c.path.to_string_lossy())
                .collect();
            v.insert("other_copies".into(), json!(others));
            let other_links: Vec<Vec<_>> = d
                .other_copies
                .iter()
                .map(|c| c.links.iter().map(|l| l.to_string_lossy()).collect())
                .collect();
            v.insert("other_copies_links".into(), json!(other_links));
            let links: Vec<_> = d.links.iter().map(|l| l.to_string_lossy()).collect();
            v.insert("links".into(), json!(links));
            if d.cas.is_some() {
                v.insert("copies".into(), json!(d.other_copies.len() + 1));
            }
        }
        None => {
            v.insert("indexed".into(), json!(false));
            v.insert(
                "entry".into(),
                json!({ "kind": f.kind, "size": f.meta.size, "mtime_ns": f.meta.mtime_ns, "inode": f.meta.inode }),
            );
            if let Some(cas) = f.sampled {
                let t = f.file_type.as_ref();
                v.insert(
                    "content".into(),
                    json!({
                        "cas_id": cas.map(|c| c.to_string()),
                        "content_uuid": cas.map(|c| c.content_uuid()),
                        "kind": t.map(|t| t.kind),
                        "file_type": t.map(|t| &t.id),
                        "mime": t.map(|t| &t.mime),
                        "confidence": t.map(|t| t.confidence),
                        "method": t.map(|t| t.method),
                    }),
                );
            } else if let Some(e) = &f.sample_error {
                v.insert("content_error".into(), json!(e));
            }
        }
    }
    if let Some(folder) = folder {
        v.insert("folder".into(), folder);
    }
    if let Some(p) = &d.picture {
        v.insert("picture".into(), json!(p));
    }
    serde_json::Value::Object(v)
}

fn print_stat(v: &serde_json::Value) {
    let s = |x: &serde_json::Value| match x {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".to_owned(),
        other => other.to_string(),
    };
    crate::outln!("Path:        {}", s(&v["path"]));
    let e = &v["entry"];
    crate::outln!("Kind:        {}", s(&e["kind"]));
    if let Some(size) = e["size"].as_u64() {
        crate::outln!("Size:        {} ({size} bytes)", format::bytes(size));
    }
    if let Some(m) = e["mtime_ns"].as_i64() {
        crate::outln!("Modified:    {}", format::time_ms(m / 1_000_000));
    }
    crate::outln!(
        "Indexed:     {}",
        if v["indexed"] == true {
            format!("yes, location {}", s(&v["location"]))
        } else {
            "no".to_owned()
        }
    );
    if !e["uuid"].is_null() {
        crate::outln!("Entry UUID:  {}", s(&e["uuid"]));
    }
    if let Some(t) = v["unreadable_since_ms"].as_i64() {
        crate::outln!(
            "Unreadable:  since {} (its folder could not be read; shown as the index last saw it)",
            format::time_ms(t)
        );
    }
    let c = &v["content"];
    if c.is_object() {
        crate::outln!("Content:     {} ({})", s(&c["file_type"]), s(&c["kind"]));
        crate::outln!("MIME:        {}", s(&c["mime"]));
        crate::outln!("cas_id:      {}", s(&c["cas_id"]));
        crate::outln!("Content id:  {}", s(&c["content_uuid"]));
        if let Some(n) = v["copies"].as_u64() {
            match c["instances"].as_u64() {
                Some(names) if names != n => {
                    crate::outln!("Copies:      {n} in this library ({names} names: hard links)");
                }
                _ => crate::outln!("Copies:      {n} in this library"),
            }
        }
    } else if let Some(t) = v["type_by_extension"].as_array() {
        crate::outln!(
            "Type:        {} ({}; by extension, content not identified)",
            s(&t[0]),
            s(&t[2])
        );
    }
    if let Some(links) = v["links"].as_array() {
        for l in links {
            crate::outln!("  also named {} (a hard link: this same file)", s(l));
        }
    }
    if let Some(others) = v["other_copies"].as_array() {
        for (i, o) in others.iter().enumerate() {
            crate::outln!("  also at    {}", s(o));
            for l in v["other_copies_links"][i].as_array().into_iter().flatten() {
                crate::outln!("             {} (a hard link of it)", s(l));
            }
        }
    }
    let f = &v["folder"];
    if f.is_object() {
        crate::outln!(
            "Contains:    {} in {} files and {} folders",
            format::bytes(f["bytes"].as_u64().unwrap_or(0)),
            s(&f["files"]),
            s(&f["dirs"])
        );
    }
    let p = &v["picture"];
    if let Some([w, h]) = p["pixels"].as_array().map(Vec::as_slice) {
        crate::outln!("Picture:     {} × {} pixels", s(w), s(h));
    }
    for (label, key) in [
        ("Camera:", "camera"),
        ("Lens:", "lens"),
        ("Taken:", "taken"),
    ] {
        if let Some(t) = p[key].as_str() {
            crate::outln!("{label:<13}{t}");
        }
    }
    if let Some(parts) = p["exposure"].as_array().filter(|a| !a.is_empty()) {
        let parts: Vec<String> = parts.iter().map(s).collect();
        crate::outln!("Exposure:    {}", parts.join(" · "));
    }
}
