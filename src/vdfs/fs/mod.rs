//! The user's files: the only sub-system that reads users' folders and files.
//!
//! What an entry is on disk ([`entry`]: kind, metadata, exact name bytes), the parallel walker
//! and the compact ephemeral tree it builds ([`walk`]), the indexer rules applied at the edge of
//! a walk ([`rules`]), the mount table that tells which mount a path is on ([`mounts`]), and
//! the volumes — mounted file systems with a fingerprint, a kind and free space — detected
//! from it ([`volumes`]; read-only). The only code that changes users' files is here too: the
//! file operations' primitives on folder handles ([`ops`]) and the desktop trash ([`trash`]),
//! called only by the file-operation jobs (`vdfs::actions`).
//! Later: a provider trait so cloud volumes are walked and read the same way.
//!
//! May use: nothing else in `vdfs` (it is the bottom layer).

pub mod entry;
pub mod mounts;
pub mod ops;
pub mod rules;
pub mod trash;
pub mod volumes;
pub mod walk;
pub mod watch;

#[cfg(all(test, unix))]
pub(crate) mod testing;
