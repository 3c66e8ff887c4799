//! Integration tests: one binary (so the full dependency stack links once), one module per area.
//! Tests drive the real `cairn` binary or the `Core` API, always in temporary folders.

mod absence;
mod architecture;
mod common;
mod device;
mod dupes;
mod fileops;
mod fortress;
mod indexing;
mod jobs;
mod libraries;
mod ls;
mod net_in_process;
mod peers;
mod portable;
mod records;
mod scoped;
mod search;
mod serve;
mod tags;
mod upgrade;
mod volume;
mod watch;
mod window;
