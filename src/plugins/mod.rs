//! Sandboxed WASM plugins (later issue).
//!
//! This module will run extensions on wasmi with a manifest of permissions and fuel and memory
//! limits, as `DESIGN.md` ("Later layers") describes. Nothing is built here yet: wasmi is added
//! to `Cargo.toml` by the issue that first uses it.
