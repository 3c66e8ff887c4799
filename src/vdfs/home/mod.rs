//! Cairn's own home: the data directory ([`data_dir`]), the device identity ([`device`]), the
//! library folders' lock ([`lock`]) and the careful writes of Cairn's own files ([`atomic`]).
//!
//! Nothing here touches a user's file; everything here writes only inside Cairn's own folders.
//!
//! May use: `fs` (names as bytes), `error`.

pub mod atomic;
pub mod data_dir;
pub mod device;
pub mod libraries;
pub mod lock;
