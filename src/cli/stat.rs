//! `cairn stat`: everything Cairn knows about one file or folder.

use anyhow::Context;
use clap::Args;
use serde_json::json;

use super::ls::entry_json;
use super::{Output, local_path};
use crate::format;
use crate::vdfs::Core;
use crate::vdfs::content::filetype::Registry;
use crate::vdfs::content::sample_file;
use crate::vdfs::fs::entry::{EntryKind, os_bytes};
use crate::vdfs::fs::rules::{Compiled, Rules};
use crate::vdfs::fs::walk::{WalkOptions, walk};
use crate::vdfs::index;
use crate::vdfs::sdpath::SdPath;

/// `cairn stat`
#[derive(Debug, Args)]
pub struct StatArgs {
    /// A file or folder, or a cairn:// address.
    pub path: String,
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
