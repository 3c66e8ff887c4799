//! Peer-to-peer networking (later issue).
//!
//! This module will hold the device's one iroh endpoint and one protocol handler per feature,
//! each under an ALPN `cairn/<feature>/<version>` (pairing, sync, browse, transfer, drop), as
//! `DESIGN.md` ("Later layers") describes. Nothing is built here yet: iroh is added to
//! `Cargo.toml` by the issue that first uses it, to keep a cold build short.
