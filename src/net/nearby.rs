//! Sending files to a nearby device that is not paired (`cairn/drop/1`), like Spacedrop or
//! LocalSend, with the receiver's consent.
//!
//! A device takes offers only while the person there lets it (`cairn receive`, or the window
//! open with "Receive from nearby devices" on); otherwise the gate closes the connection
//! before a stream is read. The exchange, on one stream:
//! 1. The sender sends [`DropMsg::Offer`]: who it says it is (a name) and what it sends (each
//!    item's name, kind, file count and bytes). The receiver's person sees that with the
//!    sender's key (which the name cannot fake) and accepts or declines.
//! 2. The receiver answers [`DropMsg::Declined`] (declined, busy, or no answer within
//!    [`ANSWER_WITHIN`]) or [`DropMsg::Accepted`]. Nothing is written before it accepts.
//! 3. Accepted: the receiver pulls each item over the same connection as a paired copy does
//!    ([`super::transfer`]: verified by BLAKE3, written beside its final name and renamed
//!    without replacing; a taken name keeps both), into its drop folder, telling the sender
//!    with [`DropMsg::Progress`], then [`DropMsg::Received`] or [`DropMsg::Error`]. While it
//!    runs the sender serves the offered items and what is below them, nothing else.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::transfer::{CopyReport, check_rel};
use crate::vdfs::fs::entry::EntryKind;

/// How long a receiver waits for its person to answer an offer.
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);
/// The largest offer a receiver reads.
pub const MAX_OFFER: u32 = 256 * 1024;
/// The most items one offer may list.
pub const MAX_ITEMS: usize = 1000;
/// The longest sender name shown (characters).
pub const MAX_NAME: usize = 64;
/// Offers waiting for an answer at once; more are declined as busy.
pub const WAITING: usize = 4;

/// A message of `cairn/drop/1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DropMsg {
    /// Sender → receiver, first: what it offers.
    Offer {
        /// The sender's device name, as it says.
        from: String,
        /// The items.
        items: Vec<OfferItem>,
    },
    /// Receiver → sender: the person accepted; the copy starts.
    Accepted,
    /// Receiver → sender: not taken, and why (declined, busy, no answer).
    Declined(String),
    /// Receiver → sender: bytes received, and in all.
    Progress {
        /// Bytes received.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
    /// Receiver → sender: what was received, item by item.
    Received(Vec<CopyReport>),
    /// Either way: refused or failed, in words.
    Error(String),
}

/// One offered item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferItem {
    /// The sender's path (absolute, exact bytes); the receiver asks for it.
    pub path: Vec<u8>,
    /// File or folder.
    pub kind: EntryKind,
    /// Files in it (1 for a file).
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl OfferItem {
    /// The item's name (the last component of its path), exact bytes.
    pub fn name(&self) -> &[u8] {
        self.path.rsplit(|&b| b == b'/').next().unwrap_or_default()
    }
}

/// Where accepted files land unless the person says otherwise: the Downloads folder.
pub fn default_drop_folder() -> Option<PathBuf> {
    directories::UserDirs::new()
        .and_then(|u| u.download_dir().map(Path::to_owned))
        .or_else(|| directories::UserDirs::new().map(|u| u.home_dir().join("Downloads")))
}

/// An offer as the receiving side shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The name the sender gave (cleaned of control characters, at most [`MAX_NAME`]).
    pub from: String,
    /// The sender's key (endpoint id), hex: what a name cannot fake.
    pub key: String,
    /// The items.
    pub items: Vec<OfferItem>,
}

impl Offer {
    /// Files in all.
    pub fn files(&self) -> u64 {
        self.items.iter().map(|i| i.files).sum()
    }

    /// Bytes in all.
    pub fn bytes(&self) -> u64 {
        self.items.iter().map(|i| i.bytes).sum()
    }

    /// The sender as shown: "name (first 8 hex digits of its key)".
    pub fn sender(&self) -> String {
        format!("{} ({})", self.from, &self.key[..self.key.len().min(8)])
    }

    /// One line: who, how many files, how much, and the first names.
    pub fn summary(&self) -> String {
        let mut names: Vec<String> = self
            .items
            .iter()
            .take(5)
            .map(|i| {
                let n = String::from_utf8_lossy(i.name()).into_owned();
                if i.kind == EntryKind::Dir { n + "/" } else { n }
            })
            .collect();
        if self.items.len() > 5 {
            names.push(format!("and {} more", self.items.len() - 5));
        }
        format!(
            "{} wants to send you {} ({}): {}",
            self.sender(),
            files_text(self.files()),
            crate::format::bytes(self.bytes()),
            names.join(", ")
        )
    }
}

/// "1 file", "1,234 files".
fn files_text(n: u64) -> String {
    format!(
        "{} file{}",
        crate::format::count(n),
        if n == 1 { "" } else { "s" }
    )
}

/// What reaches the receiving side's person.
#[derive(Debug)]
pub enum DropEvent {
    /// An offer to answer with [`Offer`]'s reply (`true`: accept).
    Offer(Offer, tokio::sync::oneshot::Sender<bool>),
    /// An accepted offer's progress: bytes received, and in all (at most every 100 ms).
    Progress {
        /// Bytes received.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
    /// An accepted offer ended: where things landed, or why it failed.
    Finished {
        /// The sender as shown.
        from: String,
        /// What it did (one line), or why not.
        result: Result<String, String>,
    },
}

/// Checks an offer from a peer: at least one item, at most [`MAX_ITEMS`], each an absolute
/// path whose name is safe ([`check_rel`]), a file or a folder; the name is cleaned.
///
/// # Errors
/// Why the offer is refused, in words.
pub fn check_offer(from: &str, items: Vec<OfferItem>, key: String) -> Result<Offer, String> {
    if items.is_empty() {
        return Err("the offer lists nothing".into());
    }
    if items.len() > MAX_ITEMS {
        return Err(format!("the offer lists more than {MAX_ITEMS} items"));
    }
    for i in &items {
        if i.path.first() != Some(&b'/') {
            return Err("an offered item has no absolute path".into());
        }
        let name = i.name();
        check_rel(name)?;
        if name.is_empty() || !matches!(i.kind, EntryKind::File | EntryKind::Dir) {
            return Err("an offered item is neither a file nor a folder".into());
        }
    }
    let clean: String = from
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect();
    let from = if clean.trim().is_empty() {
        "A device".to_owned()
    } else {
        clean.trim().to_owned()
    };
    Ok(Offer { from, key, items })
}

/// What the sender offers for `item` (canonical): its kind, files and bytes, walked without
/// following links (links and special files are not sent, so not counted).
///
/// # Errors
/// The I/O error, naming the path.
pub fn measure(item: &Path) -> Result<OfferItem, crate::vdfs::CoreError> {
    use std::os::unix::ffi::OsStrExt;
    let io = |p: &Path| {
        let p = p.to_owned();
        move |e| crate::vdfs::CoreError::io(&p, e)
    };
    let meta = std::fs::symlink_metadata(item).map_err(io(item))?;
    let path = item.as_os_str().as_bytes().to_vec();
    if meta.is_file() {
        return Ok(OfferItem {
            path,
            kind: EntryKind::File,
            files: 1,
            bytes: meta.len(),
        });
    }
    if !meta.is_dir() {
        return Err(crate::vdfs::CoreError::io(
            item,
            std::io::Error::other("only files and folders can be sent"),
        ));
    }
    let (mut files, mut bytes) = (0u64, 0u64);
    let mut stack: Vec<PathBuf> = vec![item.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let e = e.map_err(io(&dir))?;
            let t = e.file_type().map_err(io(&e.path()))?;
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                files += 1;
                bytes += e.metadata().map_err(io(&e.path()))?.len();
            }
        }
    }
    Ok(OfferItem {
        path,
        kind: EntryKind::Dir,
        files,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &[u8], kind: EntryKind) -> OfferItem {
        OfferItem {
            path: path.to_vec(),
            kind,
            files: 1,
            bytes: 10,
        }
    }

    #[test]
    fn offers_are_checked_and_the_name_cleaned() {
        let key = "ab".repeat(32);
        let ok = check_offer(
            "lap\u{7}top\n",
            vec![item(b"/home/a/x.txt", EntryKind::File)],
            key.clone(),
        )
        .unwrap();
        assert_eq!(ok.from, "laptop");
        assert!(
            ok.summary()
                .starts_with("laptop (abababab) wants to send you 1 file")
        );
        for bad in [
            vec![],
            vec![item(b"x.txt", EntryKind::File)],
            vec![item(b"/a/..", EntryKind::File)],
            vec![item(b"/", EntryKind::Dir)],
            vec![item(b"/a/link", EntryKind::Symlink)],
        ] {
            assert!(
                check_offer("x", bad.clone(), key.clone()).is_err(),
                "{bad:?}"
            );
        }
        let many = vec![item(b"/a/b", EntryKind::File); MAX_ITEMS + 1];
        assert!(check_offer("x", many, key.clone()).is_err());
        assert_eq!(
            check_offer(" ", vec![item(b"/a/b", EntryKind::File)], key)
                .unwrap()
                .from,
            "A device"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Any bytes as a drop message give a message or an error, never a panic.
        #[test]
        fn arbitrary_drop_messages_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = super::super::wire::decode::<DropMsg>(&bytes);
        }
    }
}
