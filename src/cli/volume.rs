//! `cairn volume …`: the mounted file systems, with their identity, kind and free space.

use std::os::unix::ffi::OsStrExt;

use clap::Subcommand;
use serde_json::json;

use super::Output;
use crate::format;
use crate::vdfs::Core;
use crate::vdfs::fs::volumes::Volume;

/// `cairn volume …`
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// List the mounted volumes: mount point, label, type, kind, size, free space, flags
    /// and fingerprint (what recognises the disk under another mount point); then the
    /// volumes the library knows that are not mounted now. Reads the disks only; records
    /// what it saw in the library.
    List,
}

pub(super) fn volume(
    core: &Core,
    out: &Output,
    lib: Option<&str>,
    c: VolumeCommand,
) -> anyhow::Result<()> {
    let VolumeCommand::List = c;
    // The library records what is mounted (so its locations are found by fingerprint later)
    // and remembers the volumes that are not mounted now.
    let library = core.open_library(lib)?;
    let list = library.refresh_volumes()?;
    let fingerprints: Vec<String> = list.iter().map(|v| v.fingerprint.as_string()).collect();
    let away: Vec<_> = library
        .volumes()?
        .into_iter()
        .filter(|r| !fingerprints.contains(&r.fingerprint))
        .collect();
    if out.json {
        let mut rows = list
            .iter()
            .map(|v| {
                let mut j = volume_json(v)?;
                j["mounted"] = json!(true);
                Ok(j)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        for r in &away {
            let mut j = serde_json::to_value(r)?;
            j["mounted"] = json!(false);
            j["last_mount_point"] =
                json!(crate::vdfs::fs::entry::os_from_bytes(&r.last_mount_point).to_string_lossy());
            rows.push(j);
        }
        out.json(&json!(rows));
        return Ok(());
    }
    if list.is_empty() {
        crate::outln!("No volumes found (the mount table could not be read).");
        return Ok(());
    }
    let size = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), format::bytes);
    let rows: Vec<[String; 8]> = list
        .iter()
        .map(|v| {
            [
                format::shown(&v.mount_point),
                v.label.as_deref().map_or_else(|| "-".to_owned(), escaped),
                v.fs_type.clone(),
                v.kind.as_str().to_owned(),
                size(v.capacity),
                size(v.free),
                flags(v),
                v.fingerprint.as_string(),
            ]
        })
        .collect();
    let header = [
        "MOUNT POINT",
        "LABEL",
        "TYPE",
        "KIND",
        "SIZE",
        "FREE",
        "FLAGS",
        "FINGERPRINT",
    ];
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 8]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            let right = matches!(i, 4 | 5);
            if right {
                text.push_str(&" ".repeat(pad));
            }
            text.push_str(cell);
            if i + 1 < cells.len() {
                if !right {
                    text.push_str(&" ".repeat(pad));
                }
                text.push_str("  ");
            }
        }
        crate::outln!("{}", text.trim_end());
    };
    line(header);
    for (v, r) in list.iter().zip(&rows) {
        line(r.each_ref().map(String::as_str));
        for m in &v.other_mount_points {
            crate::outln!("  also mounted at {}", format::shown(m));
        }
    }
    if !away.is_empty() {
        crate::outln!();
        crate::outln!("Known to the library, not mounted now:");
        for r in &away {
            let mp = std::path::PathBuf::from(crate::vdfs::fs::entry::os_from_bytes(
                &r.last_mount_point,
            ));
            crate::outln!(
                "  {} ({}, {}, {}), last mounted at {}, last seen {}  {}",
                r.label.as_deref().map_or_else(|| "-".to_owned(), escaped),
                r.fs_type,
                r.kind,
                format::bytes(r.capacity),
                format::shown(&mp),
                format::time_ms(r.last_seen_ms),
                r.fingerprint
            );
        }
    }
    Ok(())
}

/// `removable`, `ro`, both (comma-separated) or `-`.
fn flags(v: &Volume) -> String {
    let mut f = Vec::new();
    if v.removable {
        f.push("removable");
    }
    if v.read_only {
        f.push("ro");
    }
    if f.is_empty() {
        "-".to_owned()
    } else {
        f.join(",")
    }
}

/// A label for a table row, control characters escaped as `ls -b` does.
fn escaped(text: &str) -> String {
    String::from_utf8_lossy(&format::escape_controls(text.as_bytes())).into_owned()
}

/// Every field of a volume; the fingerprint as its text (`fingerprint`) and its parts
/// (`fingerprint_parts`); the exact bytes of a mount point that is not UTF-8
/// (`mount_point_bytes`, `other_mount_points_bytes`), as `cairn ls --json` gives `name_bytes`.
fn volume_json(v: &Volume) -> anyhow::Result<serde_json::Value> {
    let mut j = serde_json::to_value(v)?;
    let bytes = |p: &std::path::Path| {
        let b = p.as_os_str().as_bytes();
        std::str::from_utf8(b).is_err().then(|| b.to_vec())
    };
    j["name"] = json!(v.name());
    j["fingerprint_parts"] = serde_json::to_value(&v.fingerprint)?;
    j["fingerprint"] = json!(v.fingerprint.as_string());
    j["strong_fingerprint"] = json!(v.fingerprint.is_strong());
    j["mount_point_bytes"] = json!(bytes(&v.mount_point));
    let others: Vec<_> = v.other_mount_points.iter().map(|p| bytes(p)).collect();
    j["other_mount_points_bytes"] = json!(others.iter().any(Option::is_some).then_some(others));
    Ok(j)
}
