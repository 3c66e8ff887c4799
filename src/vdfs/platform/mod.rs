//! Desktop integration: what the operating system offers around a file ("Open with…" from
//! the freedesktop desktop entries in [`open_with`]).
//!
//! May use: `content` (file types), `fs`.

pub mod open_with;
