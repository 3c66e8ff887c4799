//! Drag and drop of items onto folders, as in Dolphin or Finder, and onto tags (tagging
//! them); tags dragged onto tags (putting one under another).
//!
//! What is dragged is a [`Dragged`]: the item pressed, or the whole selection when that item
//! is in it. A folder takes it ([`accepts`]) unless it is one of the items, lies inside one,
//! or is where the items already are. How a drop acts is a [`DropOp`] read from the
//! modifiers held when the items are let go: Shift moves, Ctrl copies, no modifier moves
//! within one file system and copies across. A drop is a [`UiCommand::Drop`]; the bridge
//! settles [`DropOp::Auto`] by the folders' device ids ([`same_device`], off the UI thread)
//! and sends the copy or move down the paste's path (preview, then commit unless it needs a
//! look), so Ctrl+Z undoes it like any other operation.
//!
//! The egui side: `source` starts a drag once the pointer has moved past egui's click
//! distance (a click stays a click, a double click opens), `target` highlights a folder
//! that takes what is dragged and turns a release over it into the drop, `preview` follows
//! the pointer with what would happen. Esc cancels a drag (egui's drag and drop drops its
//! payload on Esc).
//!
//! Items of a paired device's folder are a [`DraggedRemote`]: any local folder target
//! (the sidebar's places, the path bar) takes them as a copy from that device
//! ([`UiCommand::DropFromDevice`]). Files dragged in from another application arrive as
//! egui's dropped files; `external` turns them into [`UiCommand::DropFiles`] (copied into
//! the folder shown, or sent into the device's folder shown) and says where they would go
//! while they hover.

use std::path::{Path, PathBuf};

use eframe::egui;

use crate::ui::commands::UiCommand;
use crate::ui::state::items_text;
use crate::ui::theme;
use crate::vdfs::actions::OpKind;
use crate::vdfs::fs::volumes::Volume;

/// What is being dragged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dragged {
    /// The items, exact paths, in the order shown.
    pub paths: Vec<PathBuf>,
}

/// Items of a paired device being dragged from its folder in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraggedRemote {
    /// The device (its UUID).
    pub device: uuid::Uuid,
    /// Its name, for the preview.
    pub device_name: String,
    /// The items, absolute paths on the device (exact bytes), in the order shown.
    pub paths: Vec<Vec<u8>>,
}

/// How a drop acts, from the modifiers held when the items are let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropOp {
    /// Shift: move.
    Move,
    /// Ctrl: copy.
    Copy,
    /// No modifier: move within one file system, copy across file systems.
    Auto,
}

impl DropOp {
    /// The drop `mods` ask for: Ctrl (Cmd on a Mac) copies, Shift moves, neither lets the
    /// file systems decide. With both, Ctrl wins: a copy never takes the originals away.
    pub fn from_modifiers(mods: egui::Modifiers) -> DropOp {
        if mods.ctrl || mods.command {
            DropOp::Copy
        } else if mods.shift {
            DropOp::Move
        } else {
            DropOp::Auto
        }
    }

    /// The file operation this drop is: [`OpKind::Move`] or [`OpKind::Copy`].
    /// `same_volume` says whether every item is on the destination's file system; it is
    /// asked only for [`DropOp::Auto`] (it may have to look at the disk).
    pub fn kind(self, same_volume: impl FnOnce() -> bool) -> OpKind {
        match self {
            DropOp::Move => OpKind::Move,
            DropOp::Copy => OpKind::Copy,
            DropOp::Auto if same_volume() => OpKind::Move,
            DropOp::Auto => OpKind::Copy,
        }
    }
}

/// Whether the folder `folder` takes a drop of `paths`: something is dragged, and no item is
/// the folder itself, a folder above it (a folder cannot go into its own subtree) or already
/// in it (dropping items where they are does nothing).
pub fn accepts(paths: &[PathBuf], folder: &Path) -> bool {
    !paths.is_empty()
        && paths
            .iter()
            .all(|p| !folder.starts_with(p) && p.parent() != Some(folder))
}

/// Whether the folder of every item in `paths` is on the file system of `dest`, by
/// `device`, the device id of a folder
/// ([`folder_device`](crate::vdfs::fs::entry::folder_device) reads `st_dev`; each folder is
/// asked once). `false` when a device cannot be read: the drop then copies, which never
/// takes the originals away.
pub fn same_device(paths: &[PathBuf], dest: &Path, device: impl Fn(&Path) -> Option<u64>) -> bool {
    let Some(here) = device(dest) else {
        return false;
    };
    let mut seen = std::collections::HashSet::new();
    paths.iter().all(|p| match p.parent() {
        Some(parent) => !seen.insert(parent) || device(parent) == Some(here),
        None => false,
    })
}

/// Which volume holds `path`, given the mount points of each volume: the one with the
/// longest mount point above `path` (`None` when no mount point is above it). What the drag
/// preview names before the drop; the drop itself goes by [`same_device`].
pub fn volume_of<'a>(
    path: &Path,
    mounts: impl IntoIterator<Item = (usize, &'a Path)>,
) -> Option<usize> {
    mounts
        .into_iter()
        .filter(|(_, m)| path.starts_with(m))
        .max_by_key(|(_, m)| m.components().count())
        .map(|(v, _)| v)
}

/// Whether every item of `paths` is on the volume of `dest`, as the mount table the window
/// was last sent says (no disk access: this is for the preview drawn every frame).
fn same_volume_shown(paths: &[PathBuf], dest: &Path, volumes: &[Volume]) -> bool {
    let mounts: Vec<(usize, &Path)> = volumes
        .iter()
        .enumerate()
        .flat_map(|(i, v)| {
            std::iter::once(v.mount_point.as_path())
                .chain(v.other_mount_points.iter().map(PathBuf::as_path))
                .map(move |m| (i, m))
        })
        .collect();
    let here = volume_of(dest, mounts.iter().copied());
    paths
        .iter()
        .all(|p| volume_of(p, mounts.iter().copied()) == here)
}

/// The id under which the folder hovered by a drag this frame is kept for [`preview`].
fn hovered_id() -> egui::Id {
    egui::Id::unique("cairn drop target")
}

/// Makes `resp` (an item) a drag source: when a drag with the primary button begins on it
/// (the pointer moved past egui's click distance while pressed), `paths()` is what is
/// dragged. A press released before that stays a click.
pub(crate) fn source(resp: &egui::Response, paths: impl FnOnce() -> Vec<PathBuf>) {
    if resp.drag_started_by(egui::PointerButton::Primary) {
        egui::DragAndDrop::set_payload(&resp.ctx, Dragged { paths: paths() });
    }
}

/// Makes `resp` (an item of a paired device) a drag source of what `dragged()` gives.
pub(crate) fn remote_source(resp: &egui::Response, dragged: impl FnOnce() -> DraggedRemote) {
    if resp.drag_started_by(egui::PointerButton::Primary) {
        egui::DragAndDrop::set_payload(&resp.ctx, dragged());
    }
}

/// Makes `resp` a drop target standing for the folder `folder`: while something it
/// [`accepts`] is dragged over it, it is highlighted; let go there, the drop (with the
/// modifiers held then) is pushed to `actions`. Over a folder that does not take it, nothing
/// shows and a release does nothing. Items of a paired device are always taken, as a copy.
pub(crate) fn target(resp: &egui::Response, folder: &Path, actions: &mut Vec<UiCommand>) {
    if let Some(remote) = resp.dnd_hover_payload::<DraggedRemote>() {
        if remote.paths.is_empty() {
            return;
        }
        if resp.dnd_release_payload::<DraggedRemote>().is_some() {
            actions.push(UiCommand::DropFromDevice {
                device: remote.device,
                paths: remote.paths.clone(),
                to: folder.to_owned(),
            });
        }
        let hint = format!("Copy from {} to {}", remote.device_name, shown_name(folder));
        highlight(resp, hint);
        return;
    }
    let Some(dragged) = resp.dnd_hover_payload::<Dragged>() else {
        return;
    };
    if !accepts(&dragged.paths, folder) {
        return;
    }
    let painter = resp.ctx.layer_painter(resp.layer_id);
    theme::drop_target(
        &painter,
        resp.interact_rect,
        resp.ctx.theme() == egui::Theme::Dark,
    );
    resp.ctx
        .data_mut(|d| d.insert_temp(hovered_id(), folder.to_owned()));
    if resp.dnd_release_payload::<Dragged>().is_some() {
        let op = DropOp::from_modifiers(resp.ctx.input(|i| i.modifiers));
        actions.push(UiCommand::Drop {
            paths: dragged.paths.clone(),
            to: folder.to_owned(),
            op,
        });
    }
}

/// Makes `resp` (the folder of a paired device shown, `dir` on the device named `device`)
/// take local items dragged onto it (from the other side of the split view): let go there,
/// they are sent into that folder, a copy whatever the modifiers (`UiCommand::SendToDevice`).
pub(crate) fn device_target(
    resp: &egui::Response,
    device: &str,
    dir: &[u8],
    actions: &mut Vec<UiCommand>,
) {
    let Some(dragged) = resp.dnd_hover_payload::<Dragged>() else {
        return;
    };
    if dragged.paths.is_empty() {
        return;
    }
    if resp.dnd_release_payload::<Dragged>().is_some() {
        actions.push(UiCommand::SendToDevice(dragged.paths.clone()));
    }
    let name = dir
        .rsplit(|&b| b == b'/')
        .find(|s| !s.is_empty())
        .unwrap_or(dir);
    highlight(
        resp,
        format!("Copy to {} on {device}", String::from_utf8_lossy(name)),
    );
}

/// A tag dragged in the sidebar, from under `from` (`None`: at the top): dropped on another
/// tag it goes under that one instead, dropped on the TAGS heading it goes to the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraggedTag {
    /// The tag.
    pub id: uuid::Uuid,
    /// Its name, for the preview.
    pub name: String,
    /// The parent it is shown under where the drag began.
    pub from: Option<uuid::Uuid>,
}

/// The id under which what a drop on a tag would do is kept for [`preview`].
fn hint_id() -> egui::Id {
    egui::Id::unique("cairn drop hint")
}

/// Makes `resp` (a tag's row) the source of a [`DraggedTag`].
pub(crate) fn tag_source(resp: &egui::Response, tag: impl FnOnce() -> DraggedTag) {
    if resp.drag_started_by(egui::PointerButton::Primary) {
        egui::DragAndDrop::set_payload(&resp.ctx, tag());
    }
}

/// Whether tag `onto` may become the parent of the dragged tag `d`: not itself, not a tag
/// below it (a cycle), not the parent it is already shown under.
pub fn tag_accepts(
    d: &DraggedTag,
    onto: uuid::Uuid,
    all: &[crate::vdfs::library::TagInfo],
) -> bool {
    if d.id == onto || d.from == Some(onto) {
        return false;
    }
    // Below `d`: walk down from it.
    let mut stack = vec![d.id];
    let mut seen = std::collections::HashSet::new();
    while let Some(t) = stack.pop() {
        if t == onto {
            return false;
        }
        if seen.insert(t) {
            stack.extend(all.iter().filter(|x| x.parents.contains(&t)).map(|x| x.id));
        }
    }
    true
}

/// Makes `resp` (tag `tag`'s row) a drop target: items dropped on it are tagged with it, a
/// tag dropped on it goes under it (see [`tag_accepts`]). Highlighted while it would take
/// what is dragged.
pub(crate) fn tag_target(
    resp: &egui::Response,
    tag: &crate::vdfs::library::TagInfo,
    all: &[crate::vdfs::library::TagInfo],
    actions: &mut Vec<UiCommand>,
) {
    let hint = if let Some(items) = resp.dnd_hover_payload::<Dragged>() {
        if items.paths.is_empty() {
            return;
        }
        if resp.dnd_release_payload::<Dragged>().is_some() {
            actions.push(UiCommand::SetTag {
                tag: tag.id,
                paths: items.paths.clone(),
                on: true,
            });
        }
        format!("Tag with \u{201c}{}\u{201d}", tag.qualified())
    } else if let Some(d) = resp.dnd_hover_payload::<DraggedTag>() {
        if !tag_accepts(&d, tag.id, all) {
            return;
        }
        if resp.dnd_release_payload::<DraggedTag>().is_some() {
            actions.push(UiCommand::ReparentTag {
                tag: d.id,
                from: d.from,
                to: Some(tag.id),
            });
        }
        format!("Put under \u{201c}{}\u{201d}", tag.qualified())
    } else {
        return;
    };
    highlight(resp, hint);
}

/// Makes `resp` (the TAGS heading) the place a dragged tag is let go to put it at the top
/// (out from under the tag it was shown under).
pub(crate) fn tag_top_target(resp: &egui::Response, actions: &mut Vec<UiCommand>) {
    let Some(d) = resp.dnd_hover_payload::<DraggedTag>() else {
        return;
    };
    if d.from.is_none() {
        return;
    }
    if resp.dnd_release_payload::<DraggedTag>().is_some() {
        actions.push(UiCommand::ReparentTag {
            tag: d.id,
            from: d.from,
            to: None,
        });
    }
    highlight(resp, "Move to the top".to_owned());
}

/// Highlights `resp` as a drop target and keeps `hint` for [`preview`].
fn highlight(resp: &egui::Response, hint: String) {
    let painter = resp.ctx.layer_painter(resp.layer_id);
    theme::drop_target(
        &painter,
        resp.interact_rect,
        resp.ctx.theme() == egui::Theme::Dark,
    );
    resp.ctx.data_mut(|d| d.insert_temp(hint_id(), hint));
}

/// The name a folder or item is shown by in the preview (the whole path for `/`).
fn shown_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Files dragged in from another application: while they hover over the window, what a
/// drop would do (`hint(n)`, for `n` files) is shown in its middle; once dropped, they are
/// pushed to `actions` as one [`UiCommand::DropFiles`].
pub(crate) fn external(
    ctx: &egui::Context,
    hint: impl FnOnce(usize) -> String,
    actions: &mut Vec<UiCommand>,
) {
    let (hovering, dropped) = ctx.input(|i| {
        let dropped: Vec<PathBuf> = i
            .raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_owned())
            .collect();
        (i.raw.hovered_files.len(), dropped)
    });
    if !dropped.is_empty() {
        actions.push(UiCommand::DropFiles(dropped));
        return;
    }
    if hovering == 0 {
        return;
    }
    let text = hint(hovering);
    egui::Area::new(egui::Id::unique("cairn external drop"))
        .order(egui::Order::Foreground)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.label(egui::RichText::new(text).heading());
            });
        });
}

/// Draws what is dragged beside the pointer: its name or "3 items" and, over a folder that
/// takes it, "Move to …" or "Copy to …" as the modifiers held and the volumes (`volumes`,
/// the mount table) say. The pointer shows whether a drop there would do anything. Called
/// once a frame, after every drop target was drawn.
pub(crate) fn preview(ctx: &egui::Context, volumes: &[Volume]) {
    let over: Option<PathBuf> = ctx.data_mut(|d| d.remove_temp(hovered_id()));
    let hint: Option<String> = ctx.data_mut(|d| d.remove_temp(hint_id()));
    let Some(pos) = ctx.pointer_latest_pos() else {
        return;
    };
    let (what, action) = if let Some(dragged) = egui::DragAndDrop::payload::<Dragged>(ctx) {
        let what = match dragged.paths.as_slice() {
            [one] => shown_name(one),
            many => items_text(many.len() as u64),
        };
        let action = match (hint, over) {
            (Some(h), _) => Some((OpKind::Move, h)),
            (None, Some(to)) => {
                let op = DropOp::from_modifiers(ctx.input(|i| i.modifiers));
                let kind = op.kind(|| same_volume_shown(&dragged.paths, &to, volumes));
                let verb = if kind == OpKind::Copy { "Copy" } else { "Move" };
                Some((kind, format!("{verb} to {}", shown_name(&to))))
            }
            (None, None) => None,
        };
        (what, action)
    } else if let Some(tag) = egui::DragAndDrop::payload::<DraggedTag>(ctx) {
        (tag.name.clone(), hint.map(|h| (OpKind::Move, h)))
    } else if let Some(remote) = egui::DragAndDrop::payload::<DraggedRemote>(ctx) {
        let what = match remote.paths.as_slice() {
            [one] => {
                let name = one.rsplit(|&b| b == b'/').next().unwrap_or(one);
                String::from_utf8_lossy(name).into_owned()
            }
            many => format!(
                "{} on {}",
                items_text(many.len() as u64),
                remote.device_name
            ),
        };
        (what, hint.map(|h| (OpKind::Copy, h)))
    } else {
        return;
    };
    ctx.set_cursor_icon(match action {
        None => egui::CursorIcon::NoDrop,
        Some((OpKind::Copy, _)) => egui::CursorIcon::Copy,
        Some(_) => egui::CursorIcon::Grabbing,
    });
    egui::Area::new(egui::Id::unique("cairn drag preview"))
        .order(egui::Order::Tooltip)
        .fixed_pos(pos + egui::vec2(16.0, 12.0))
        .interactable(false)
        .show(ctx, |ui| {
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.label(egui::RichText::new(what).strong());
                if let Some((_, said)) = action {
                    ui.label(said);
                }
            });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(v: &[&str]) -> Vec<PathBuf> {
        v.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn a_folder_takes_items_from_elsewhere_but_not_itself_its_subtree_or_their_own_folder() {
        let items = paths(&["/a/photos", "/a/notes.md"]);
        assert!(accepts(&items, Path::new("/b")));
        assert!(accepts(&items, Path::new("/a/other")));
        // A sibling whose name starts like an item's is not inside it.
        assert!(accepts(&items, Path::new("/a/photos-old")));
        assert!(!accepts(&items, Path::new("/a/photos")), "onto itself");
        assert!(
            !accepts(&items, Path::new("/a/photos/2024")),
            "into its subtree"
        );
        assert!(!accepts(&items, Path::new("/a")), "where they are");
        assert!(accepts(&items, Path::new("/")), "above the items' folder");
        // Items from two folders (search results): not where either of them is.
        let mixed = paths(&["/a/x", "/c/y"]);
        assert!(accepts(&mixed, Path::new("/d")));
        assert!(!accepts(&mixed, Path::new("/c")));
        assert!(!accepts(&[], Path::new("/d")), "nothing dragged");
    }

    #[test]
    fn shift_moves_ctrl_copies_and_no_modifier_goes_by_the_volume() {
        use egui::Modifiers as M;
        assert_eq!(DropOp::from_modifiers(M::SHIFT), DropOp::Move);
        assert_eq!(DropOp::from_modifiers(M::CTRL), DropOp::Copy);
        assert_eq!(DropOp::from_modifiers(M::COMMAND), DropOp::Copy);
        assert_eq!(DropOp::from_modifiers(M::CTRL | M::SHIFT), DropOp::Copy);
        assert_eq!(DropOp::from_modifiers(M::NONE), DropOp::Auto);
        assert_eq!(DropOp::from_modifiers(M::ALT), DropOp::Auto);
        // An explicit choice never looks at the volumes.
        assert_eq!(DropOp::Move.kind(|| unreachable!()), OpKind::Move);
        assert_eq!(DropOp::Copy.kind(|| unreachable!()), OpKind::Copy);
        assert_eq!(DropOp::Auto.kind(|| true), OpKind::Move);
        assert_eq!(DropOp::Auto.kind(|| false), OpKind::Copy);
    }

    #[test]
    fn the_device_of_every_items_folder_must_be_the_destinations() {
        let asked = std::cell::RefCell::new(Vec::new());
        let dev = |p: &Path| {
            asked.borrow_mut().push(p.to_owned());
            if p.starts_with("/mnt/usb") {
                Some(2)
            } else if p.starts_with("/gone") {
                None
            } else {
                Some(1)
            }
        };
        let home = paths(&["/home/a/x", "/home/a/y", "/home/b/z"]);
        assert!(same_device(&home, Path::new("/home/c"), dev));
        assert_eq!(
            *asked.borrow(),
            paths(&["/home/c", "/home/a", "/home/b"]),
            "each folder is asked once"
        );
        assert!(!same_device(&home, Path::new("/mnt/usb/in"), dev));
        let mixed = paths(&["/home/a/x", "/mnt/usb/y"]);
        assert!(!same_device(&mixed, Path::new("/home/c"), dev));
        // What cannot be read copies.
        assert!(!same_device(&home, Path::new("/gone/f"), dev));
        assert!(!same_device(&paths(&["/gone/x"]), Path::new("/home"), dev));
    }

    #[test]
    fn the_volume_shown_is_the_longest_mount_point_above() {
        let mounts = [
            (0, Path::new("/")),
            (1, Path::new("/mnt/usb")),
            (2, Path::new("/home")),
            (1, Path::new("/media/stick")),
        ];
        let of = |p: &str| volume_of(Path::new(p), mounts.iter().copied());
        assert_eq!(of("/etc/x"), Some(0));
        assert_eq!(of("/mnt/usb/a/b"), Some(1));
        assert_eq!(
            of("/media/stick/a"),
            Some(1),
            "another mount point of volume 1"
        );
        assert_eq!(of("/mnt/usbx"), Some(0), "not below /mnt/usb");
        assert_eq!(of("/home"), Some(2));
        assert_eq!(volume_of(Path::new("/x"), []), None);
    }
}
