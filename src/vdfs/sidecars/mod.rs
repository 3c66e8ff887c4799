//! Sidecars: files derived from a content (thumbnails today, and the explorer's [`cache`] of
//! them; extracted text and media metadata
//! later), stored in the library's `sidecars/` folder keyed by content, never next to the
//! originals, which are only read.
//!
//! May use: `jobs`, `index`, `content`, `fs`, `home`.

pub mod cache;
pub mod thumbnail;
