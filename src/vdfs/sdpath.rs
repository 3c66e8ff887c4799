//! `SdPath`: the universal address of a file.
//!
//! - `cairn://<device-uuid>/abs/path` — a path on a device;
//! - `cairn://content/<content-uuid>` — a content, wherever a copy of it is.
//!
//! Plain paths parse as physical paths on this device. Path bytes that are not URI-safe are
//! percent-encoded (RFC 3986), so non-UTF-8 names round-trip.

use std::fmt;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::vdfs::fs::entry::{os_bytes, os_from_bytes};

/// The scheme prefix.
pub const SCHEME: &str = "cairn://";

/// A parsed address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdPath {
    /// A path on a device.
    Physical {
        /// The device.
        device: Uuid,
        /// The absolute path on it.
        path: PathBuf,
    },
    /// A content, by its content UUID.
    Content {
        /// UUID v5 of the cas_id.
        content_id: Uuid,
    },
}

/// Errors parsing an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not a Cairn address ({reason}); use a path, cairn://<device>/path or cairn://content/<uuid>"
)]
pub struct SdPathError {
    /// What was given.
    pub input: String,
    /// Why it was refused.
    pub reason: &'static str,
}

impl SdPath {
    /// Parses a `cairn://` URI, or a plain path (relative paths are made absolute against the
    /// current folder) on `this_device`.
    ///
    /// # Errors
    /// [`SdPathError`] for a malformed URI.
    pub fn parse(input: &str, this_device: Uuid) -> Result<SdPath, SdPathError> {
        let err = |reason| SdPathError {
            input: input.to_owned(),
            reason,
        };
        let Some(rest) = input.strip_prefix(SCHEME) else {
            let p = std::path::absolute(input).unwrap_or_else(|_| PathBuf::from(input));
            return Ok(SdPath::Physical {
                device: this_device,
                path: p,
            });
        };
        let (host, tail) = rest.split_once('/').unwrap_or((rest, ""));
        if host == "content" {
            let id =
                Uuid::parse_str(tail.trim_end_matches('/')).map_err(|_| err("bad content uuid"))?;
            return Ok(SdPath::Content { content_id: id });
        }
        let device = Uuid::parse_str(host).map_err(|_| err("bad device uuid"))?;
        let bytes = percent_decode(tail).ok_or_else(|| err("bad percent-encoding"))?;
        let mut path = PathBuf::from("/");
        path.push(os_from_bytes(&bytes));
        Ok(SdPath::Physical { device, path })
    }

    /// A physical address on `device`.
    pub fn physical(device: Uuid, path: &Path) -> SdPath {
        SdPath::Physical {
            device,
            path: path.to_owned(),
        }
    }
}

impl fmt::Display for SdPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdPath::Physical { device, path } => {
                let bytes = os_bytes(path.as_os_str());
                let trimmed = bytes.strip_prefix(b"/").unwrap_or(bytes);
                write!(f, "{SCHEME}{device}/{}", percent_encode(trimmed))
            }
            SdPath::Content { content_id } => write!(f, "{SCHEME}content/{content_id}"),
        }
    }
}

fn percent_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let dev = Uuid::new_v4();
        let p = SdPath::physical(dev, Path::new("/home/me/Résumé 2026.pdf"));
        let s = p.to_string();
        assert!(
            s.starts_with(&format!(
                "cairn://{dev}/home/me/R%C3%A9sum%C3%A9%202026.pdf"
            )),
            "{s}"
        );
        assert_eq!(SdPath::parse(&s, Uuid::nil()).unwrap(), p);
        let c = SdPath::Content {
            content_id: Uuid::new_v4(),
        };
        assert_eq!(SdPath::parse(&c.to_string(), dev).unwrap(), c);
        assert_eq!(
            SdPath::parse("/tmp/x", dev).unwrap(),
            SdPath::physical(dev, Path::new("/tmp/x"))
        );
        assert!(SdPath::parse("cairn://nope/x", dev).is_err());
        assert!(SdPath::parse("cairn://content/zzz", dev).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_round_trip() {
        let dev = Uuid::new_v4();
        let path = PathBuf::from(os_from_bytes(b"/data/caf\xe9"));
        let p = SdPath::physical(dev, &path);
        assert!(p.to_string().ends_with("caf%E9"));
        assert_eq!(SdPath::parse(&p.to_string(), dev).unwrap(), p);
    }
}
