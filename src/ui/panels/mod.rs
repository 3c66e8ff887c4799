//! The panels around the central view, one file each. Each draws from the [`AppState`] and
//! pushes the [`UiCommand`]s of what the person did; it edits the state directly only for
//! values being typed or dragged (text fields, sliders).
//!
//! [`AppState`]: crate::ui::AppState
//! [`UiCommand`]: crate::ui::commands::UiCommand

pub(crate) mod inspector;
pub(crate) mod jobs;
pub(crate) mod path_bar;
pub(crate) mod sidebar;
pub(crate) mod status_bar;
pub(crate) mod tabs;
pub(crate) mod top_bar;
