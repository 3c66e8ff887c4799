//! The panels around the central view, one file each.

mod inspector;
mod jobs;
mod path_bar;
mod sidebar;
mod status_bar;
mod top_bar;
