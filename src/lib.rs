//! Cairn: a local-first file manager in one binary.
//!
//! The crate is laid out as `ARCHITECTURE.md` describes:
//!
//! - [`vdfs`] — the [`Core`]: data directory, device identity, libraries, the
//!   event bus and the durable job system. The window, the CLI and the tests all drive it.
//! - [`store`] — the library's redb store: every table in one schema module, one writer thread.
//! - [`ui`] — the egui/eframe explorer window. It reads a snapshot and sends commands; it does
//!   no I/O of its own.
//! - [`cli`] — the headless subcommands (`cairn library …`, `cairn jobs …`).
//! - [`net`] and [`plugins`] — the peer-to-peer and WASM-plugin layers (later issues).

pub mod cli;
pub mod format;
pub mod logging;
pub mod net;
pub mod plugins;
pub mod store;
pub mod ui;
pub mod vdfs;

pub use vdfs::{Core, CoreError, CoreOptions, Event};
