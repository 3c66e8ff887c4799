//! Read-side queries over the index: folder listings for the explorer ([`browse`]), the
//! details of one file or folder for the inspector and `cairn stat` ([`details`]), search
//! ([`search`]), duplicates ([`dupes`]) and copies/at-risk/backup-gap reports
//! ([`redundancy`]).
//!
//! Queries read the store in short read transactions and never write the index (the search
//! name index is a derived cache file under the library's `cache/`).
//!
//! May use: `index`, `content`, `fs`, `home`, `error`.

pub mod browse;
pub mod details;
pub mod dupes;
pub mod redundancy;
pub mod search;
