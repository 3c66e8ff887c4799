//! The window, driven headless with egui_kittest through accessibility labels.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cairn::ui::bridge::Bridge;
use cairn::ui::{AppState, CairnApp};
use cairn::vdfs::fs::rules::Rules;
use cairn::vdfs::index::location::IndexMode;
use cairn::vdfs::jobs::JobStatus;
use cairn::{Core, CoreOptions};
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

type H<'a> = Harness<'a, CairnApp>;

/// Steps frames (letting background updates arrive) until a widget labelled `label` shows
/// and the folder's listing is complete: rows are sorted once when it completes, so a row
/// found earlier may be somewhere else by the next frame (a click then lands on its neighbour).
fn step_until(h: &mut H<'_>, label: &str) {
    step_until_by(h, label, |h, l| settled(h) && h.query_by_label(l).is_some());
}

/// Like [`step_until`], for a label that contains `part`.
fn step_until_contains(h: &mut H<'_>, part: &str) {
    step_until_by(h, part, |h, l| {
        settled(h) && h.query_by_label_contains(l).is_some()
    });
}

/// Whether the folder shown has its whole listing (its rows no longer move).
fn settled(h: &H<'_>) -> bool {
    !h.state().state().explorer.loading
}

/// Steps until `label` is gone.
fn step_until_gone(h: &mut H<'_>, label: &str) {
    step_until_by(h, label, |h, l| h.query_by_label(l).is_none());
}

/// How long a step-until waits before it fails: generous, since the whole suite runs on two
/// cores beside heavy file-operation tests (a listing that takes 0.1 s alone can take
/// seconds then).
const PATIENCE: Duration = Duration::from_secs(30);

fn step_until_by(h: &mut H<'_>, label: &str, found: impl Fn(&H<'_>, &str) -> bool) {
    let start = std::time::Instant::now();
    while start.elapsed() < PATIENCE {
        h.step();
        if found(h, label) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let s = h.state().state();
    panic!(
        "\"{label}\" never appeared (or never went away); last error: {:?}; last operation: {:?}",
        s.error.as_ref().map(|e| &e.0),
        s.toast.as_ref().map(|t| &t.text)
    );
}

/// Types `text` into the newest text field of role `role` (a field in a menu just opened),
/// focusing it first.
fn type_in_newest_field(h: &mut H<'_>, role: egui::accesskit::Role, text: &str) {
    h.get_all_by_role(role).last().unwrap().focus();
    h.run_steps(2);
    h.get_all_by_role(role).last().unwrap().type_text(text);
}

/// Steps until the app state satisfies `cond`.
fn step_until_state(h: &mut H<'_>, what: &str, cond: impl Fn(&AppState) -> bool) {
    let start = std::time::Instant::now();
    while start.elapsed() < PATIENCE {
        h.step();
        if cond(h.state().state()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let s = h.state().state();
    panic!(
        "{what} never happened; shown: {:?} (loading: {}); last error: {:?}; last operation: {:?}",
        s.explorer.folder,
        s.explorer.loading,
        s.error.as_ref().map(|e| &e.0),
        s.toast.as_ref().map(|t| &t.text)
    );
}

struct Fixture {
    _data: tempfile::TempDir,
    files: tempfile::TempDir,
    core: Core,
}

/// A data folder and a small tree to browse.
fn fixture() -> Fixture {
    // Every test of this process trashes into one trash of its own, never the person's.
    static TRASH: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let trash = TRASH.get_or_init(|| tempfile::tempdir().unwrap());
    cairn::vdfs::fs::trash::use_home_trash(trash.path().join("Trash"));
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let f = files.path();
    std::fs::create_dir_all(f.join("photos/2024")).unwrap();
    std::fs::write(
        f.join("photos/2024/beach.jpg"),
        b"\xFF\xD8\xFF\xE0same bytes",
    )
    .unwrap();
    std::fs::write(
        f.join("photos/beach copy.jpg"),
        b"\xFF\xD8\xFF\xE0same bytes",
    )
    .unwrap();
    std::fs::write(f.join("file2.txt"), b"two").unwrap();
    std::fs::write(f.join("file10.txt"), "ten ".repeat(100)).unwrap();
    std::fs::write(f.join("notes.md"), b"# Notes\nhello from the preview\n").unwrap();
    std::fs::write(f.join(".hidden-config"), b"x").unwrap();
    let core = Core::start(CoreOptions::at(data.path())).unwrap();
    Fixture {
        _data: data,
        files,
        core,
    }
}

/// Opens the default library and indexes `root` as a location, waiting for the scan to
/// complete.
fn indexed(fx: &Fixture, root: &Path, mode: IndexMode, rules: Rules) -> Arc<cairn::vdfs::Library> {
    let lib = fx.core.open_library(None).unwrap();
    let (_, job) = lib.add_location(root, mode, rules).unwrap();
    assert_eq!(job.wait(), JobStatus::Completed);
    lib
}

/// The fixture, its folder (canonical) and a window showing it, its listing complete.
fn at_root() -> (Fixture, PathBuf, H<'static>) {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    (fx, root, h)
}

fn harness(fx: &Fixture, start: &Path) -> H<'static> {
    harness_dt(fx, start, 0.25)
}

/// A harness that runs like the window: frames at 60 Hz, and scrolling animated as egui does
/// by default (kittest turns that off).
fn harness_live(fx: &Fixture, start: &Path) -> H<'static> {
    let h = harness_dt(fx, start, 1.0 / 60.0);
    h.ctx.all_styles_mut(|s| {
        let egui_default = egui::Style::default();
        s.scroll_animation = egui_default.scroll_animation;
        s.animation_time = egui_default.animation_time;
    });
    h
}

/// A harness whose frames are `dt` seconds apart.
fn harness_dt(fx: &Fixture, start: &Path, dt: f32) -> H<'static> {
    let lib = fx.core.open_library(None).unwrap();
    let opened = Ok((lib.config(), lib.path().to_owned()));
    // The window's endpoint stays on loopback (no local discovery on this machine's networks).
    let bridge = Bridge::start_with(
        fx.core.clone(),
        Arc::new(|| {}),
        Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
    );
    let mut state = AppState::new(fx.core.device().name, fx.files.path().to_owned(), opened);
    state.start_folder = Some(start.to_owned());
    let app = CairnApp::new(bridge, state, None);
    Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .with_step_dt(dt)
        .build_ui_state(|ui, app: &mut CairnApp| app.show(ui), app)
}

fn names_in_order(h: &H<'_>) -> Vec<String> {
    let e = &h.state().state().explorer;
    e.order
        .iter()
        .map(|&i| e.items[i as usize].name.clone())
        .collect()
}

#[test]
fn browse_sort_filter_and_toggle_hidden() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "file10.txt");
    assert!(h.query_by_label("file2.txt").is_some());
    assert!(
        h.query_by_label(".hidden-config").is_none(),
        "hidden files are hidden by default"
    );
    assert_eq!(
        names_in_order(&h),
        ["photos", "file2.txt", "file10.txt", "notes.md"],
        "natural sort, folders first"
    );
    assert!(h.query_by_label_contains("4 items").is_some());

    // Sort by size, largest first.
    h.get_by_label("Size").click();
    step_until_state(&mut h, "sort by size", |s| {
        s.explorer.current_prefs().sort == cairn::ui::explorer::SortKey::Size
    });
    h.run_steps(2);
    assert_eq!(
        names_in_order(&h),
        ["photos", "file10.txt", "notes.md", "file2.txt"]
    );

    // Hidden files with the checkbox (Ctrl+H does the same).
    h.get_by_label("Show hidden files").click();
    step_until(&mut h, ".hidden-config");

    // The search field filters the folder as you type.
    h.get_by_label("Search").focus();
    h.run_steps(2);
    h.get_by_label("Search").type_text("file");
    step_until_gone(&mut h, "notes.md");
    assert!(h.query_by_label("file2.txt").is_some());
    h.get_by_label("Search").type_text("1");
    step_until_gone(&mut h, "file2.txt");
    assert!(h.query_by_label("file10.txt").is_some());
    assert!(h.state().state().found.is_none(), "a filter, not a search");
}

#[test]
fn folders_open_and_history_goes_back_and_forward() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "photos");
    h.get_by_label("photos").click();
    h.run_steps(2);
    // Enter opens the selected folder.
    h.key_press(egui::Key::Enter);
    step_until(&mut h, "beach copy.jpg");
    assert_eq!(
        h.state().state().explorer.folder.as_deref(),
        Some(root.join("photos").as_path())
    );
    // The breadcrumb shows the path; Back returns, Forward goes again.
    assert!(h.query_by_label("photos").is_some());
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowLeft);
    step_until(&mut h, "notes.md");
    assert_eq!(
        h.state().state().explorer.folder.as_deref(),
        Some(root.as_path())
    );
    h.get_by_label("Forward").click();
    step_until(&mut h, "beach copy.jpg");
    // Up goes to the parent.
    h.get_by_label("Up").click();
    step_until(&mut h, "notes.md");
}

#[test]
fn keyboard_selection_and_status_bar() {
    let (_fx, _root, mut h) = at_root();
    h.key_press(egui::Key::ArrowDown);
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(h.state().state().explorer.selection.cursor, Some(1));
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowDown);
    h.run_steps(2);
    step_until_contains(&mut h, "2 selected");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    step_until_contains(&mut h, "4 selected");
}

/// A column of the list view is hidden and shown again from the menu of a column's title.
#[test]
fn columns_of_the_list_are_hidden_and_shown_from_a_titles_menu() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    image::RgbImage::new(30, 20)
        .save(root.join("pic.png"))
        .unwrap();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    assert!(h.query_by_label("Kind").is_some());
    h.get_by_label("Size").click_secondary();
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, "Kind")
        .click();
    step_until_state(&mut h, "Kind hidden", |s| {
        s.explorer
            .hidden_columns
            .contains(&cairn::ui::explorer::SortKey::Kind)
    });
    // Remembered for the next start (window.toml), and read back as the same choice.
    step_until_state(&mut h, "the choice remembered", |_| {
        fx.core.window_state().hidden_columns
            == Some(vec!["kind".into(), "created".into(), "dimensions".into()])
    });
    assert_eq!(
        cairn::ui::explorer::SortKey::hidden_from(&fx.core.window_state().hidden_columns.unwrap()),
        [
            cairn::ui::explorer::SortKey::Kind,
            cairn::ui::explorer::SortKey::Created,
            cairn::ui::explorer::SortKey::Dimensions,
        ]
        .into()
    );
    assert_eq!(
        cairn::ui::explorer::SortKey::hidden_from(&["name".into(), "colour".into()]),
        Default::default(),
        "the name always shows; unknown names are ignored"
    );
    h.run_steps(3);
    assert_eq!(
        h.query_all_by_label("Kind").count(),
        0,
        "the menu closed, the column gone"
    );
    assert!(h.query_by_label("Modified").is_some() && h.query_by_label("notes.md").is_some());
    h.get_by_label("Name").click_secondary();
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, "Kind")
        .click();
    step_until_state(&mut h, "Kind shown again", |s| {
        s.explorer.hidden_columns == cairn::ui::explorer::SortKey::hidden_by_default()
    });
    step_until_state(&mut h, "the columns remembered", |_| {
        fx.core.window_state().hidden_columns == Some(vec!["created".into(), "dimensions".into()])
    });
    h.run_steps(3);
    assert_eq!(h.query_all_by_label("Kind").count(), 1, "its title is back");
    // Created is hidden until chosen; shown, it has each file's creation time, and sorts.
    assert!(h.query_by_label("Created").is_none());
    h.get_by_label("Name").click_secondary();
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, "Created")
        .click();
    step_until_state(&mut h, "Created shown", |s| {
        !s.explorer
            .hidden_columns
            .contains(&cairn::ui::explorer::SortKey::Created)
    });
    // Shown, the folder is listed again for the times (wait for that listing).
    step_until(&mut h, "Created");
    let born = std::fs::metadata(root.join("notes.md"))
        .unwrap()
        .created()
        .unwrap();
    let ns = born
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let shown = cairn::format::time_ms(ns / 1_000_000);
    step_until_by(&mut h, &shown, |h, l| {
        settled(h) && h.query_all_by_label(l).count() >= 1
    });
    // Dimensions: an image's pixels, read for the rows shown; other files have none.
    h.get_by_label("Name").click_secondary();
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, "Dimensions")
        .click();
    step_until(&mut h, "30 × 20");
    assert!(h.state().state().explorer.hidden_columns.is_empty());
}

/// The inspector previews code with line numbers (coloured for the languages egui_extras'
/// highlighter knows).
#[test]
fn the_inspector_previews_code_with_line_numbers() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let code = "fn main() {\n    println!(\"hi\");\n}\n";
    std::fs::write(root.join("main.rs"), code).unwrap();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "main.rs");
    h.get_by_label("main.rs").click();
    h.run_steps(2);
    h.get_by_label("Inspector").click();
    step_until(&mut h, "1\n2\n3");
    assert!(
        h.query_by_label(code).is_some(),
        "the code itself, unwrapped"
    );
}

#[test]
fn inspector_shows_cas_id_and_other_copies_of_indexed_files() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let lib = indexed(&fx, &root, IndexMode::Content, Rules::none());
    let cas = {
        lib.entry_at(&root.join("photos/beach copy.jpg"))
            .unwrap()
            .unwrap()
            .record
            .cas
            .unwrap()
    };
    drop(lib);
    let mut h = harness(&fx, &root.join("photos"));
    step_until(&mut h, "beach copy.jpg");
    h.get_by_label("beach copy.jpg").click();
    h.run_steps(2);
    h.get_by_label("Inspector").click();
    step_until(&mut h, &cas.to_string());
    assert!(h.query_by_label("cas_id").is_some());
    step_until(&mut h, "2 copies in this library: this one and 1 other");
    let other = root.join("photos/2024/beach.jpg");
    h.get_by_label(&other.display().to_string()).click();
    step_until(&mut h, "beach.jpg");
    assert_eq!(
        h.state().state().explorer.folder.as_deref(),
        Some(root.join("photos/2024").as_path())
    );
    // Indexed folders show their total size.
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowLeft);
    step_until_state(
        &mut h,
        "back in photos, beach copy.jpg selected again",
        |s| {
            s.explorer
                .focused()
                .is_some_and(|i| i.name == "beach copy.jpg")
        },
    );
    step_until_contains(&mut h, "from the index");
}

#[test]
fn index_this_folder_runs_a_job_to_completion() {
    let (_fx, root, mut h) = at_root();
    // The first start says what indexing is, with the folder shown one click away.
    step_until_contains(&mut h, "Cairn keeps a catalogue of the folders you index");
    let name = root.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        h.query_by_label(&format!("Index \u{201c}{name}\u{201d}"))
            .is_some()
    );
    h.get_by_label(&format!("Index \u{201c}{name}\u{201d}"))
        .click();
    step_until(&mut h, &format!("Index {}", root.display()));
    step_until(&mut h, "completed");
    step_until_contains(&mut h, "identified");
    // The sidebar now lists the location, and the folder comes from the index.
    step_until_state(&mut h, "the location is listed", |s| {
        s.locations.iter().any(|l| l.record.path() == root)
    });
    step_until_contains(&mut h, "from the index");
    assert!(
        h.query_by_label_contains("Cairn keeps a catalogue")
            .is_none(),
        "the first start's banner goes once a folder is indexed"
    );
}

#[test]
fn errors_are_explained_in_place() {
    let fx = fixture();
    let gone: PathBuf = fx.files.path().join("no-such-folder");
    let mut h = harness(&fx, &gone);
    step_until(&mut h, "This folder is gone");
    let empty = fx.files.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let mut h = harness(&fx, &empty);
    step_until(&mut h, "This folder is empty");
}

#[test]
fn creates_a_library_from_the_sidebar() {
    let fx = fixture();
    let mut h = harness(&fx, fx.files.path());
    step_until(&mut h, "New library…");
    h.get_by_label("New library…").click();
    step_until(&mut h, "Library name");
    h.get_by_label("Library name").type_text("Holiday photos");
    h.step();
    h.get_by_label("Create").click();
    step_until_state(
        &mut h,
        "the new library opens",
        |s| matches!(&s.library, Some(Ok((c, _))) if c.name == "Holiday photos"),
    );
    assert_eq!(fx.core.library().unwrap().config().name, "Holiday photos");
}

#[test]
fn favourites_are_added_from_the_context_menu_and_kept() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "photos");
    h.get_by_label("photos").click_secondary();
    step_until(&mut h, "Add to favourites");
    h.get_by_label("Add to favourites").click();
    step_until_state(&mut h, "the favourite is listed", |s| {
        s.favourites == [(root.join("photos"), true)]
    });
    // Kept in the library: a fresh look at the store has it.
    assert_eq!(
        fx.core.library().unwrap().favourites().unwrap(),
        [root.join("photos")]
    );
    // Clicking it in the sidebar opens it.
    h.get_by_label("Up").click();
    step_until_state(&mut h, "went up", |s| {
        s.explorer.folder.as_deref() != Some(root.as_path())
    });
    h.get_by_label("photos").click();
    step_until(&mut h, "beach copy.jpg");
}

#[test]
fn an_indexed_folder_is_checked_against_the_disk() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let lib = indexed(&fx, &root, IndexMode::Shallow, Rules::none());
    drop(lib);
    // Changed after the scan: one file added, one removed.
    std::fs::write(root.join("added-later.txt"), b"new").unwrap();
    std::fs::remove_file(root.join("file2.txt")).unwrap();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "added-later.txt");
    step_until_gone(&mut h, "file2.txt");
    step_until(&mut h, "changed since the last scan");
    // Unchanged items keep what the index knows (folder totals).
    let e = &h.state().state().explorer;
    let photos = e.items.iter().find(|i| i.name == "photos").unwrap();
    assert!(photos.counts.is_some(), "{photos:?}");
    // Rescan brings the index up to date.
    h.get_by_label("Rescan").click();
    step_until(&mut h, "from the index");
}

/// Regression: Ctrl+L opened the path field with the cursor after the current path, so typing
/// a new path was appended to the old one.
#[test]
fn regression_ctrl_l_replaces_the_path() {
    let (_fx, root, mut h) = at_root();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    step_until(&mut h, "Location");
    h.run_steps(2);
    let target = root.join("photos");
    h.get_by_label("Location")
        .type_text(&target.display().to_string());
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    step_until(&mut h, "beach copy.jpg");
    assert_eq!(
        h.state().state().explorer.folder.as_deref(),
        Some(target.as_path())
    );
}

#[test]
fn a_content_address_opens_its_copy_and_images_are_previewed() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    image::RgbImage::from_pixel(64, 32, image::Rgb([10, 200, 30]))
        .save(root.join("photos/green.png"))
        .unwrap();
    let lib = indexed(&fx, &root, IndexMode::Content, Rules::none());
    let green = lib
        .entry_at(&root.join("photos/green.png"))
        .unwrap()
        .unwrap()
        .record;
    drop(lib);
    let address = format!("cairn://content/{}", green.cas.unwrap().content_uuid());
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    step_until(&mut h, "Location");
    h.run_steps(2);
    h.get_by_label("Location").type_text(&address);
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    step_until_state(&mut h, "the copy is shown and selected", |s| {
        s.explorer.focused().is_some_and(|i| i.name == "green.png")
    });
    // The inspector previews the image.
    h.key_press(egui::Key::Space);
    step_until_state(&mut h, "the preview arrives", |s| {
        matches!(s.thumbs.get(&root.join("photos/green.png")), Some(Some(_)))
    });
}

#[test]
fn the_duplicates_view_lists_groups_and_jumps_to_a_copy() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let lib = indexed(&fx, &root, IndexMode::Content, Rules::none());
    drop(lib);
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    h.get_by_label("Duplicates").click();
    step_until(&mut h, "1 groups of identical files");
    step_until_contains(&mut h, "2 copies of");
    let copy = root.join("photos/2024/beach.jpg");
    h.get_by_label(&copy.display().to_string()).click();
    step_until_state(&mut h, "the copy is shown and selected", |s| {
        s.explorer.folder.as_deref() == Some(root.join("photos/2024").as_path())
            && s.explorer.focused().is_some_and(|i| i.name == "beach.jpg")
    });
}

/// Regression: folders holding items the location's rules leave out of the index (e.g.
/// node_modules, .DS_Store) were flagged as "changed since the last scan", and those items
/// were hidden from the listing.
#[test]
fn regression_rule_skipped_items_are_shown_and_are_not_a_change() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    std::fs::create_dir_all(root.join("node_modules/left-pad")).unwrap();
    std::fs::write(root.join(".DS_Store"), b"junk").unwrap();
    let lib = indexed(&fx, &root, IndexMode::Shallow, Rules::default());
    drop(lib);
    let mut h = harness(&fx, &root);
    step_until(&mut h, "node_modules");
    h.run_steps(3);
    assert!(h.query_by_label("changed since the last scan").is_none());
    assert!(h.query_by_label("from the index").is_some());
}

/// With no folder picker on this system, "Add a folder…" makes the window the chooser (see
/// `without_a_folder_picker_the_window_is_the_chooser` for the banner itself).
#[test]
fn add_a_folder_without_a_picker_makes_the_window_the_chooser() {
    let has_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    let has_zenity = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("zenity").is_file()));
    if has_bus || has_zenity {
        eprintln!("skipped: a real folder picker could open here");
        return;
    }
    let fx = fixture();
    let mut h = harness(&fx, fx.files.path());
    step_until(&mut h, "Add a folder…");
    h.get_by_label("Add a folder…").click();
    step_until(&mut h, "Choose a folder to index");
    assert!(
        h.state().state().error.is_none(),
        "no error: the window is the chooser"
    );
}

/// The fixture with a third "beach" name, indexed in Shallow mode.
fn beach_fixture() -> (Fixture, PathBuf) {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    std::fs::write(root.join("photos/beach-notes.txt"), b"x").unwrap();
    drop(indexed(&fx, &root, IndexMode::Shallow, Rules::none()));
    (fx, root)
}

/// Opens the window on `root`, focuses the search box with Ctrl+F, types `text` and waits
/// for a heading containing `expect` (e.g. "3 matches for").
fn searched(fx: &Fixture, root: &Path, text: &str, expect: &str) -> H<'static> {
    let mut h = harness(fx, root);
    step_until(&mut h, "notes.md");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    h.get_by_label("Search").type_text(text);
    // What is typed filters the folder; Enter searches below it.
    h.key_press(egui::Key::Enter);
    step_until_contains(&mut h, expect);
    h
}

/// The file names of the search results shown, in their order.
fn found_names(h: &H<'_>) -> Vec<String> {
    h.state()
        .state()
        .found
        .as_ref()
        .map(|f| {
            f.0.iter()
                .map(|hit| hit.path.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn typing_a_search_shows_ranked_results_and_opens_one() {
    let (fx, root) = beach_fixture();
    let mut h = searched(&fx, &root, "beach", "3 matches for");
    // All three names start with "beach"; `beach.jpg` is "beach" but for its extension, an
    // exact match, so it ranks first although its path is the deepest.
    let order = found_names(&h);
    assert_eq!(order.len(), 3);
    assert_eq!(order[0], "beach.jpg", "{order:?}");
    h.get_by_label("beach.jpg").click();
    step_until_state(&mut h, "the result is shown in its folder", |s| {
        s.explorer.folder.as_deref() == Some(root.join("photos/2024").as_path())
            && s.explorer.focused().is_some_and(|i| i.name == "beach.jpg")
            && s.search_text.is_empty()
    });
}

#[test]
fn the_kind_chip_narrows_search_results_and_clear_filters_restores_them() {
    let (fx, root) = beach_fixture();
    let mut h = searched(&fx, &root, "beach", "3 matches for");
    assert_eq!(
        sorted(found_names(&h)),
        ["beach copy.jpg", "beach-notes.txt", "beach.jpg"]
    );
    assert!(h.query_by_label("Clear filters").is_none());

    // The kind chip: only images remain.
    h.get_by_value("Any kind").click();
    step_until(&mut h, "Image");
    h.get_by_label("Image").click();
    step_until_contains(&mut h, "2 matches for");
    step_until_gone(&mut h, "beach-notes.txt");
    assert_eq!(sorted(found_names(&h)), ["beach copy.jpg", "beach.jpg"]);
    assert!(
        h.state()
            .state()
            .found
            .as_ref()
            .unwrap()
            .0
            .iter()
            .all(|hit| { hit.content_kind == cairn::vdfs::content::filetype::ContentKind::Image })
    );
    assert!(
        h.query_by_value("Image").is_some(),
        "the chip shows the kind"
    );

    // Clear filters brings the text file back.
    h.get_by_label("Clear filters").click();
    step_until_contains(&mut h, "3 matches for");
    step_until(&mut h, "beach-notes.txt");
    assert_eq!(
        sorted(found_names(&h)),
        ["beach copy.jpg", "beach-notes.txt", "beach.jpg"]
    );
    assert!(h.query_by_value("Any kind").is_some());
    assert!(h.query_by_label("Clear filters").is_none());
}

/// Searching while browsing a folder no location covers walks it and searches that walk.
#[test]
fn searching_a_folder_outside_the_locations_walks_it() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    // The library has no location at all.
    let h = searched(&fx, &root, "beach", "2 matches for");
    let found = h.state().state().found.as_ref().unwrap().0.clone();
    assert!(found.iter().all(|hit| hit.entry == 0), "{found:?}");
    assert!(found.iter().all(|hit| hit.path.starts_with(&root)));
}

/// Results on screen follow the library: when a rescan adds a match, the search shown is
/// run again without a key press.
#[test]
fn search_results_follow_a_rescan() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    drop(indexed(&fx, &root, IndexMode::Shallow, Rules::none()));
    let mut h = searched(&fx, &root, "beach", "2 matches for");
    std::fs::write(root.join("beach-hut.txt"), b"x").unwrap();
    let lib = fx.core.library().unwrap();
    let id = lib.locations().unwrap()[0].id;
    assert_eq!(lib.rescan(id).unwrap().wait(), JobStatus::Completed);
    step_until_contains(&mut h, "3 matches for");
    assert!(h.query_by_label("beach-hut.txt").is_some());
}

/// A click on a column header of the search results sorts by it, again reverses, a third
/// time goes back to best match first.
#[test]
fn search_results_sort_by_column() {
    let (fx, root) = beach_fixture();
    let mut h = searched(&fx, &root, "beach", "3 matches for");
    h.get_by_label("Size").click();
    step_until_state(&mut h, "largest first", |s| {
        s.found.as_ref().is_some_and(|f| {
            f.0.last()
                .is_some_and(|hit| hit.path.ends_with("beach-notes.txt"))
        })
    });
    h.get_by_label("Size").click();
    step_until_state(&mut h, "smallest first", |s| {
        s.found.as_ref().is_some_and(|f| {
            f.0.first()
                .is_some_and(|hit| hit.path.ends_with("beach-notes.txt"))
        })
    });
    h.get_by_label("Size").click();
    step_until_state(&mut h, "best match first", |s| {
        s.search_sort == cairn::vdfs::query::search::Sort::Relevance
    });
    assert_eq!(found_names(&h).len(), 3);
}

/// A folder of `n` files `item-000.txt`, `item-001.txt`, … beside the fixture's files.
fn long_folder(fx: &Fixture, n: usize) -> PathBuf {
    named_folder(fx, "long", "item", n)
}

/// A folder `name` of `n` files `PREFIX-000.txt`, … (each with its own content) beside the
/// fixture's files.
fn named_folder(fx: &Fixture, name: &str, prefix: &str, n: usize) -> PathBuf {
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let dir = root.join(name);
    std::fs::create_dir(&dir).unwrap();
    for i in 0..n {
        let content = format!("{name} {i}");
        std::fs::write(dir.join(format!("{prefix}-{i:03}.txt")), content).unwrap();
    }
    dir
}

/// The numbers of the `item-NNN.txt` rows on screen.
fn visible_items(h: &H<'_>) -> Vec<usize> {
    visible_numbered(h, "item-")
}

/// The numbers NNN of the widgets on screen whose label holds a name `PREFIXNNN.…` or
/// `PREFIXNNN-…`, in screen order.
fn visible_numbered(h: &H<'_>, prefix: &str) -> Vec<usize> {
    h.query_all_by_label_contains(prefix)
        .filter_map(|n| {
            // A label's text is its accessibility value.
            let node = n.accesskit_node();
            let label = node.label().or_else(|| node.value())?;
            let after = &label[label.rfind(prefix)? + prefix.len()..];
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            // Not the text typed in a box ("item-1").
            let rest = &after[digits.len()..];
            (rest.starts_with('.') || rest.starts_with('-'))
                .then(|| digits.parse().ok())
                .flatten()
        })
        .collect()
}

/// Turns the mouse wheel by `notches` (down when positive) with the pointer at `at`.
fn wheel(h: &mut H<'_>, at: egui::Pos2, notches: i32) {
    h.hover_at(at);
    h.step();
    for _ in 0..notches.abs() {
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Line,
            delta: egui::vec2(0.0, -(notches.signum() as f32)),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        // Frames at 60 Hz while the wheel's smooth scrolling plays out, as in the window.
        h.run_steps(6);
    }
}

/// Regression: once a row was selected, the mouse wheel no longer scrolled the list: it
/// snapped back to the selected row every frame.
#[test]
fn regression_the_wheel_scrolls_away_from_the_selected_row() {
    let fx = fixture();
    let long = long_folder(&fx, 300);
    let mut h = harness_live(&fx, &long);
    step_until(&mut h, "item-002.txt");
    h.get_by_label("item-002.txt").click();
    step_until_state(&mut h, "the row is selected", |s| {
        s.explorer.selection.cursor == Some(2)
    });
    let at = h.get_by_label("item-010.txt").rect().center();
    wheel(&mut h, at, 8);
    h.run_steps(60);
    let shown = visible_items(&h);
    assert!(
        !shown.contains(&2) && shown.contains(&30),
        "the list stays where the wheel took it: {shown:?}"
    );
    // The keyboard brings the selection back into view, once.
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(60);
    assert_eq!(h.state().state().explorer.selection.cursor, Some(3));
    let shown = visible_items(&h);
    assert!(shown.contains(&3), "{shown:?}");
    wheel(&mut h, at, 8);
    h.run_steps(60);
    let shown = visible_items(&h);
    assert!(!shown.contains(&3), "{shown:?}");
}

/// How many of `n` frames asked egui for another frame at once (an idle window must ask for
/// none), with the causes egui gives for the last such request.
fn repaints_while_idle(h: &mut H<'_>, n: usize) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut causes = Vec::new();
    for _ in 0..n {
        h.step();
        let delay = h.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay;
        if delay < Duration::from_secs(1) {
            count += 1;
            causes = h
                .ctx
                .repaint_causes()
                .iter()
                .map(|c| format!("{c:?}"))
                .collect();
        }
    }
    (count, causes)
}

/// Rests the pointer on the widget labelled `label`, lets the frames settle, and asserts the
/// window then stops asking to be redrawn.
fn assert_idle_over(h: &mut H<'_>, label: &str, view: &str) {
    let at = h.get_by_label(label).rect().center();
    h.hover_at(at);
    h.run_steps(20);
    let (frames, causes) = repaints_while_idle(h, 10);
    assert_eq!(
        frames, 0,
        "the {view} view repaints while idle with the pointer on {label}: {causes:?}"
    );
}

/// Regression: with the pointer resting on the last row of a long list the window kept
/// repainting (~95% of a core) until the pointer moved. No view repaints while idle.
#[test]
fn regression_an_idle_window_does_not_repaint() {
    let fx = fixture();
    let long = long_folder(&fx, 300);
    drop(indexed(
        &fx,
        fx.files.path(),
        IndexMode::Content,
        Rules::none(),
    ));
    let mut h = harness_live(&fx, &long);
    step_until(&mut h, "item-002.txt");
    step_until_state(&mut h, "the listing is done", |s| !s.explorer.loading);
    // The list: the last row on screen, then the last row of the folder.
    let last = *visible_items(&h).iter().max().unwrap();
    assert_idle_over(&mut h, &format!("item-{last:03}.txt"), "list");
    h.key_press(egui::Key::ArrowDown);
    h.key_press(egui::Key::End);
    step_until(&mut h, "item-299.txt");
    h.run_steps(30);
    h.get_by_label("item-299.txt").click();
    assert_idle_over(&mut h, "item-299.txt", "list");
    // The grid.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::G);
    step_until_state(&mut h, "the grid shows", |s| {
        s.explorer.current_prefs().view == cairn::ui::explorer::ViewMode::Grid
    });
    h.run_steps(5);
    let last = *visible_items(&h).iter().max().unwrap();
    assert_idle_over(&mut h, &format!("item-{last:03}.txt"), "grid");
    // Search results.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    h.get_by_label("Search").type_text("item-1");
    h.key_press(egui::Key::Enter);
    step_until_contains(&mut h, "matches for");
    let first = *visible_items(&h).first().unwrap();
    h.key_press(egui::Key::Escape);
    assert_idle_over(&mut h, &format!("item-{first:03}.txt"), "search results");
    // Duplicates.
    h.get_by_label("Duplicates").click();
    step_until(&mut h, "1 groups of identical files");
    let copy = std::fs::canonicalize(fx.files.path())
        .unwrap()
        .join("photos/2024/beach.jpg");
    assert_idle_over(&mut h, &copy.display().to_string(), "duplicates");
}

/// Opens `folder` by typing it into the path bar (Ctrl+L), and waits for its listing.
fn go_to(h: &mut H<'_>, folder: &Path) {
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    step_until(h, "Location");
    h.run_steps(2);
    h.get_by_label("Location")
        .type_text(&folder.display().to_string());
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    step_until_state(h, "the folder is listed", |s| {
        s.explorer.folder.as_deref() == Some(folder) && !s.explorer.loading
    });
    h.run_steps(3);
}

/// Regression: the scroll position leaked between folders and views (a folder opened scrolled
/// to where the last one was; the duplicates view opened mid-list), and Back/Forward restored
/// neither the scroll position nor the selection.
#[test]
fn regression_each_folder_and_history_step_keeps_its_scroll_and_selection() {
    let fx = fixture();
    let long = long_folder(&fx, 300);
    let other = named_folder(&fx, "other", "other", 300);
    // 100 pairs of copies, the largest (d-099) first in the duplicates view.
    let dupes = fx.files.path().join("dupes");
    std::fs::create_dir(&dupes).unwrap();
    for k in 0..100 {
        let content = "x".repeat(10 * (k + 1));
        for copy in ["a", "b"] {
            std::fs::write(dupes.join(format!("d-{k:03}-{copy}.txt")), &content).unwrap();
        }
    }
    drop(indexed(
        &fx,
        fx.files.path(),
        IndexMode::Content,
        Rules::none(),
    ));
    let mut h = harness(&fx, &long);
    step_until(&mut h, "item-002.txt");
    let at = h.get_by_label("item-010.txt").rect().center();
    wheel(&mut h, at, 20);
    h.run_steps(3);
    let shown = visible_items(&h);
    assert!(!shown.contains(&0), "{shown:?}");
    let row = shown[shown.len() / 2];
    h.get_by_label(&format!("item-{row:03}.txt")).click();
    h.run_steps(3);
    let long_shown = visible_items(&h);

    // Another folder opens at the top, with nothing selected.
    go_to(&mut h, &other);
    let shown = visible_numbered(&h, "other-");
    assert_eq!(
        shown.first(),
        Some(&0),
        "a new folder opens at the top: {shown:?}"
    );
    assert!(h.state().state().explorer.selection.items.is_empty());
    wheel(&mut h, at, 5);
    h.run_steps(3);
    let other_shown = visible_numbered(&h, "other-");
    assert!(!other_shown.contains(&0), "{other_shown:?}");

    // Back: the first folder as it was left, scrolled and selected.
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowLeft);
    step_until_state(&mut h, "back in the first folder", |s| {
        s.explorer.folder.as_deref() == Some(long.as_path()) && !s.explorer.loading
    });
    h.run_steps(3);
    assert_eq!(
        visible_items(&h),
        long_shown,
        "Back restores the scroll position"
    );
    let e = &h.state().state().explorer;
    assert_eq!(e.selection.cursor, Some(row), "Back restores the selection");
    assert_eq!(
        e.selected().map(|i| i.name.clone()).collect::<Vec<_>>(),
        [format!("item-{row:03}.txt")]
    );
    // Forward: the other folder where it was left.
    h.get_by_label("Forward").click();
    step_until_state(&mut h, "forward in the other folder", |s| {
        s.explorer.folder.as_deref() == Some(other.as_path()) && !s.explorer.loading
    });
    h.run_steps(3);
    assert_eq!(visible_numbered(&h, "other-"), other_shown);

    // The duplicates view opens at the top, whatever the grid or the list showed, and again
    // at the top after it was scrolled and closed.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::G);
    h.run_steps(2);
    wheel(&mut h, at, 10);
    h.run_steps(2);
    for _ in 0..2 {
        h.get_by_label("Duplicates").click();
        step_until_contains(&mut h, "groups of identical files");
        h.run_steps(2);
        let shown = visible_numbered(&h, "d-");
        assert_eq!(
            shown.first(),
            Some(&99),
            "the duplicates view opens at the top: {shown:?}"
        );
        wheel(&mut h, at, 10);
        h.run_steps(2);
        assert_ne!(visible_numbered(&h, "d-").first(), Some(&99));
        h.get_by_label("Duplicates").click();
        h.run_steps(2);
    }
}

/// The home folder, as the window finds it.
fn home_folder() -> PathBuf {
    directories::UserDirs::new()
        .map(|d| d.home_dir().to_owned())
        .expect("a home folder")
}

/// Regression: "Home" in the sidebar opened the first location, not the home folder, and the
/// window always started in the first location instead of where it was left.
#[test]
fn regression_home_is_the_home_folder_and_the_window_reopens_where_it_was_left() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    drop(indexed(
        &fx,
        &root.join("photos"),
        IndexMode::Shallow,
        Rules::none(),
    ));
    let home = home_folder();
    // The first run opens the home folder, not the first location.
    let start = cairn::ui::start_folder(&fx.core);
    assert_eq!(start.as_deref(), Some(home.as_path()));
    let mut h = harness(&fx, &start.unwrap());
    step_until_state(&mut h, "the home folder is shown", |s| {
        s.explorer.folder.as_deref() == Some(home.as_path()) && !s.explorer.loading
    });
    // "Home" in the sidebar is the home folder.
    let inner = root.join("photos/2024");
    go_to(&mut h, &inner);
    h.get_by_label("Home").click();
    step_until_state(&mut h, "Home opens the home folder", |s| {
        s.explorer.folder.as_deref() == Some(home.as_path())
    });
    // The next window opens where this one was left.
    go_to(&mut h, &inner);
    step_until_state(&mut h, "the folder is remembered", |_| {
        cairn::ui::start_folder(&fx.core).as_deref() == Some(inner.as_path())
    });
    drop(h);
    let mut h = harness(&fx, &cairn::ui::start_folder(&fx.core).unwrap());
    step_until(&mut h, "beach.jpg");
    // A remembered folder that is gone falls back to the home folder.
    std::fs::remove_dir_all(&inner).unwrap();
    assert_eq!(
        cairn::ui::start_folder(&fx.core).as_deref(),
        Some(home.as_path())
    );
}

/// The row under the keyboard cursor.
fn cursor(h: &H<'_>) -> Option<usize> {
    h.state().state().explorer.selection.cursor
}

/// Presses `key` and lets the view follow.
fn press(h: &mut H<'_>, key: egui::Key) {
    h.key_press(key);
    h.run_steps(3);
}

/// Regression: in the grid, Up/Down moved one tile (not one row), Left/Right did nothing, the
/// grid did not follow the keyboard and had no context menu; End with nothing selected
/// selected the first item; PageUp/PageDown and type-ahead did nothing.
#[test]
fn regression_the_keyboard_moves_through_the_grid_and_the_list() {
    let fx = fixture();
    let long = long_folder(&fx, 300);
    let mut h = harness(&fx, &long);
    step_until(&mut h, "item-002.txt");
    step_until_state(&mut h, "the listing is done", |s| !s.explorer.loading);

    // The list: End and Home with nothing selected, PageDown/PageUp by a screenful.
    press(&mut h, egui::Key::End);
    assert_eq!(cursor(&h), Some(299), "End selects the last item");
    assert!(visible_items(&h).contains(&299));
    press(&mut h, egui::Key::Home);
    assert_eq!(cursor(&h), Some(0));
    assert!(visible_items(&h).contains(&0));
    let page = visible_items(&h).len();
    press(&mut h, egui::Key::PageDown);
    let down = cursor(&h).unwrap();
    assert!(
        down + 5 >= page && down < page + 5,
        "a page is a screenful: {down} of {page}"
    );
    assert!(visible_items(&h).contains(&down));
    press(&mut h, egui::Key::PageDown);
    assert!(cursor(&h).unwrap() > down);
    press(&mut h, egui::Key::PageUp);
    assert_eq!(cursor(&h), Some(down));
    press(&mut h, egui::Key::PageUp);
    assert_eq!(cursor(&h), Some(0));

    // The grid: Up/Down by a row of tiles, Left/Right by a tile, and it follows.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::G);
    h.run_steps(3);
    let shown = visible_items(&h);
    let top = h.get_by_label("item-000.txt").rect().top();
    let columns = shown
        .iter()
        .filter(|&&i| h.get_by_label(&format!("item-{i:03}.txt")).rect().top() == top)
        .count();
    assert!(columns > 1, "{shown:?}");
    press(&mut h, egui::Key::ArrowDown);
    assert_eq!(cursor(&h), Some(columns), "Down goes one row of tiles down");
    press(&mut h, egui::Key::ArrowRight);
    assert_eq!(cursor(&h), Some(columns + 1));
    press(&mut h, egui::Key::ArrowLeft);
    assert_eq!(cursor(&h), Some(columns));
    press(&mut h, egui::Key::ArrowUp);
    assert_eq!(cursor(&h), Some(0));
    press(&mut h, egui::Key::End);
    assert_eq!(cursor(&h), Some(299));
    assert!(
        visible_items(&h).contains(&299),
        "the grid follows the keyboard"
    );
    press(&mut h, egui::Key::PageUp);
    let up = cursor(&h).unwrap();
    assert!(up < 299 && up % columns == 299 % columns, "{up}");
    assert!(visible_items(&h).contains(&up));
    press(&mut h, egui::Key::Home);
    assert!(visible_items(&h).contains(&0));

    // The grid has the list's context menu, and a right click acts on its tile.
    h.get_by_label("item-001.txt").click_secondary();
    step_until(&mut h, "Properties");
    h.get_by_label("Properties").click();
    step_until_state(&mut h, "the inspector shows item-001", |s| {
        s.explorer.inspector
            && s.explorer
                .focused()
                .is_some_and(|i| i.name == "item-001.txt")
    });
}

/// Typing letters quickly jumps to the first name starting with them; a pause starts over.
#[test]
fn typing_a_name_jumps_to_it() {
    let (_fx, _root, mut h) = at_root();
    let focused = |h: &H<'_>| h.state().state().explorer.focused().map(|i| i.name.clone());
    let type_ = |h: &mut H<'_>, text: &str| {
        for c in text.chars() {
            h.event(egui::Event::Text(c.to_string()));
            h.step();
        }
    };
    type_(&mut h, "n");
    assert_eq!(focused(&h).as_deref(), Some("notes.md"));
    // Quickly: "nf" names nothing, so the selection stays.
    type_(&mut h, "f");
    assert_eq!(focused(&h).as_deref(), Some("notes.md"));
    // After a pause, a new name: the first "file…" in the order shown, then "file1…".
    h.run_steps(8);
    type_(&mut h, "fi");
    assert_eq!(focused(&h).as_deref(), Some("file2.txt"));
    type_(&mut h, "le1");
    assert_eq!(focused(&h).as_deref(), Some("file10.txt"));
    h.run_steps(8);
    type_(&mut h, "P");
    assert_eq!(
        focused(&h).as_deref(),
        Some("photos"),
        "letters match either case"
    );
}

/// The status bar's selection count, e.g. "2 selected".
fn selected_names(h: &H<'_>) -> Vec<String> {
    let e = &h.state().state().explorer;
    let mut v: Vec<String> = e.selected().map(|i| i.name.clone()).collect();
    v.sort();
    v
}

/// Regression: a right click opened the context menu without selecting its row, so the
/// selection shown was not what the menu acted on.
#[test]
fn regression_a_right_click_selects_its_row_first() {
    let (_fx, _root, mut h) = at_root();
    h.get_by_label("file2.txt").click();
    h.run_steps(2);
    h.get_by_label("notes.md").click_secondary();
    step_until(&mut h, "Copy path");
    assert_eq!(
        selected_names(&h),
        ["notes.md"],
        "selected before a menu entry is chosen"
    );
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    // A right click inside the selection keeps it.
    h.get_by_label("file2.txt").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(selected_names(&h), ["file10.txt", "file2.txt"]);
    h.get_by_label("file10.txt").click_secondary();
    step_until(&mut h, "Copy path");
    assert_eq!(selected_names(&h), ["file10.txt", "file2.txt"]);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    // The grid too.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::G);
    h.run_steps(3);
    h.get_by_label("photos").click_secondary();
    step_until(&mut h, "Copy path");
    assert_eq!(selected_names(&h), ["photos"]);
}

/// Regression: job titles showed internal ids ("Thumbnails for location 6").
#[test]
fn regression_job_titles_name_the_folder_not_an_id() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    // Deep mode queues the thumbnails job after the scan.
    drop(indexed(
        &fx,
        &root.join("photos"),
        IndexMode::Deep,
        Rules::none(),
    ));
    let mut h = harness(&fx, &root);
    step_until_contains(&mut h, "Thumbnails for");
    let titles: Vec<String> = h
        .query_all_by_label_contains("Thumbnails for")
        .filter_map(|n| {
            let node = n.accesskit_node();
            node.label().or_else(|| node.value())
        })
        .collect();
    assert!(
        titles.iter().all(|t| t == "Thumbnails for photos"),
        "{titles:?}"
    );
}

/// A job record as the core would list it.
fn job_record(id: u64, status: JobStatus) -> cairn::vdfs::jobs::JobRecord {
    cairn::vdfs::jobs::JobRecord {
        id,
        status,
        created_ms: 0,
        updated_ms: 0,
        ..cairn::vdfs::jobs::JobRecord::new(
            "indexer",
            "Index /somewhere".into(),
            Vec::new(),
            uuid::Uuid::nil(),
        )
    }
}

/// Regression: a job at the end of its work, and a finished one, showed "0 ms left".
#[test]
fn regression_a_finished_job_shows_no_time_left() {
    use cairn::ui::bridge::Update;
    use cairn::vdfs::Event;
    use cairn::vdfs::jobs::JobProgress;
    let (_fx, _root, mut h) = at_root();
    step_until_state(&mut h, "the first refresh arrived", |s| {
        !s.libraries.is_empty()
    });
    h.run_steps(5);
    let progress = |completed| {
        Update::Event(Event::JobProgress {
            job: 7,
            progress: JobProgress {
                phase: "content".into(),
                completed,
                total: Some(1000),
                ..JobProgress::default()
            },
        })
    };
    let s = h.state_mut().state_mut();
    s.apply(Update::Jobs(vec![job_record(7, JobStatus::Running)]));
    s.apply(progress(0));
    std::thread::sleep(Duration::from_millis(600));
    h.state_mut().state_mut().apply(progress(500));
    h.run_steps(2);
    step_until_contains(&mut h, "left");
    // The last item done, the job not yet finished: nothing is left.
    h.state_mut().state_mut().apply(progress(1000));
    h.run_steps(2);
    assert!(h.query_by_label_contains("left").is_none());
    // Finished.
    h.state_mut()
        .state_mut()
        .apply(Update::Event(Event::JobFinished {
            job: 7,
            status: JobStatus::Completed,
            outcome: Some("1000 identified".into()),
        }));
    h.run_steps(2);
    assert!(h.query_by_label_contains("left").is_none());
    assert!(h.query_by_label("completed").is_some());
}

/// An item named `name` of the folder view.
fn listed(name: &str) -> cairn::vdfs::query::browse::Item {
    cairn::vdfs::query::browse::Item {
        name: name.into(),
        lossy: false,
        raw_name: name.as_bytes().to_vec(),
        uuid: None,
        kind: cairn::vdfs::fs::entry::EntryKind::File,
        size: 1,
        counts: None,
        mtime_ns: 0,
        created_ns: None,
        content_kind: cairn::vdfs::content::filetype::ContentKind::Unknown,
        hidden: false,
        entry: None,
        cas: None,
    }
}

/// Regression: rows reshuffled under the pointer while a big folder was still loading (each
/// chunk was sorted in among the rows shown).
#[test]
fn regression_rows_keep_their_place_while_a_folder_loads() {
    use cairn::ui::bridge::{Command, Update};
    let (_fx, root, mut h) = at_root();
    // A listing that arrives in chunks (the core is not asked for it: the chunks are the
    // core's answer).
    let s = h.state_mut().state_mut();
    let Command::Navigate { ticket, .. } = s.navigate(root.join("big"), true) else {
        panic!("not a listing")
    };
    let names = |h: &H<'_>| visible_numbered(h, "f-");
    let chunk = |from: usize| Update::Chunk {
        ticket,
        items: (from..from + 5)
            .rev()
            .map(|i| listed(&format!("f-{i:02}.txt")))
            .collect(),
    };
    s.apply(chunk(10));
    h.run_steps(2);
    let first = names(&h);
    assert_eq!(first.len(), 5);
    h.state_mut().state_mut().apply(chunk(0));
    h.run_steps(2);
    assert_eq!(
        names(&h)[..5],
        first[..],
        "the rows shown stay where they are while the folder loads"
    );
    // Done: sorted once.
    h.state_mut().state_mut().apply(Update::ListingDone {
        ticket,
        result: Ok(cairn::vdfs::query::browse::Source::Disk),
        space: None,
    });
    h.run_steps(2);
    assert_eq!(names(&h), (0..5).chain(10..15).collect::<Vec<_>>());
}

/// Regression: a file with no application set showed the launcher's raw error (`Launcher "gio"
/// … failed with ExitStatus(…)`); it says so in words and offers "Open with…".
#[test]
fn regression_an_open_failure_says_what_to_do() {
    use cairn::ui::bridge::Update;
    use cairn::vdfs::platform::OpenError;
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let pdf = root.join("x.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n").unwrap();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "x.pdf");
    // What the core answers when the desktop's launcher refuses the file.
    let launcher = std::io::Error::other(format!(
        "Launcher \"gio\" \"open\" \"{}\" failed with ExitStatus(unix_wait_status(512))",
        pdf.display()
    ));
    let failure = OpenError::from_launcher(&pdf, &launcher);
    h.state_mut().state_mut().apply(Update::OpenFailed(failure));
    step_until(&mut h, "No application is set to open 'x.pdf'.");
    assert!(h.query_by_label_contains("Launcher").is_none());
    h.get_by_label("Open with…").click();
    step_until_state(&mut h, "the applications are asked for", |s| {
        s.requested_apps.as_deref() == Some(pdf.as_path()) || s.apps.is_some()
    });
}

/// Steps until `cond` holds of the disk (a file operation's job finished).
fn step_until_disk(h: &mut H<'_>, what: &str, cond: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while start.elapsed() < PATIENCE {
        h.step();
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{what} never happened on disk");
}

/// Deletes for good, when dropped (even by a failing test), what was trashed from `root`: the
/// tests share one test trash (see `fixture`), and one test's items must not show in another's
/// trash view.
struct TrashedFrom(PathBuf, Arc<cairn::vdfs::Library>);

impl Drop for TrashedFrom {
    fn drop(&mut self) {
        let ours: Vec<_> = self
            .1
            .trash_items()
            .into_iter()
            .filter(|i| i.original.starts_with(&self.0))
            .collect();
        let _ = self.1.empty_trash(Some(&ours));
    }
}

/// The text of the in-place name editor, while one is open.
fn rename_text(h: &H<'_>) -> Option<String> {
    h.state().state().renaming.as_ref().map(|r| r.text.clone())
}

#[test]
fn f2_renames_in_place_and_a_taken_name_is_refused_beside_it() {
    let (_fx, root, mut h) = at_root();
    h.get_by_label("notes.md").click();
    h.run_steps(2);
    h.key_press(egui::Key::F2);
    step_until_state(&mut h, "the editor opens", |s| s.renaming.is_some());
    h.run_steps(2);
    assert!(
        h.query_all_by_value("notes.md").any(|n| n.is_focused()),
        "the name has the keyboard"
    );
    // The name is selected without its extension: typing replaces "notes" only.
    h.event(egui::Event::Text("journal".into()));
    h.run_steps(2);
    assert_eq!(rename_text(&h).as_deref(), Some("journal.md"));
    h.key_press(egui::Key::Enter);
    step_until(&mut h, "journal.md");
    assert!(root.join("journal.md").is_file());
    assert!(!root.join("notes.md").exists());
    assert_eq!(
        selected_names(&h),
        ["journal.md"],
        "the renamed item stays selected"
    );

    // A name that is taken is refused beside the field, which stays open.
    h.key_press(egui::Key::F2);
    step_until_state(&mut h, "the editor opens", |s| s.renaming.is_some());
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.event(egui::Event::Text("file2.txt".into()));
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    step_until_contains(&mut h, "already exists; choose another name");
    assert!(rename_text(&h).is_some(), "still renaming");
    assert_eq!(std::fs::read(root.join("file2.txt")).unwrap(), b"two");
    // Esc leaves it as it was.
    h.key_press(egui::Key::Escape);
    step_until_state(&mut h, "the editor closes", |s| s.renaming.is_none());
    assert!(root.join("journal.md").is_file());
}

#[test]
fn del_trashes_the_selection_with_its_count_and_ctrl_z_brings_it_back() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let mut h = harness(&fx, &root);
    let _clean = TrashedFrom(root.clone(), fx.core.library().unwrap());
    step_until(&mut h, "notes.md");
    h.get_by_label("file2.txt").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(selected_names(&h), ["file10.txt", "file2.txt"]);
    h.key_press(egui::Key::Delete);
    step_until_gone(&mut h, "file2.txt");
    step_until_state(&mut h, "the count is shown", |s| {
        s.toast
            .as_ref()
            .is_some_and(|t| t.text.starts_with("Trash 2 items"))
    });
    assert!(
        h.query_all_by_label_contains("Trash 2 items")
            .next()
            .is_some()
    );
    assert!(h.query_by_label("file10.txt").is_none());
    assert!(!root.join("file2.txt").exists() && !root.join("file10.txt").exists());
    assert!(
        h.query_by_label_contains("Delete 2 items").is_none(),
        "no dialog for a trash"
    );
    // Undo puts both back (and leaves nothing in the trash).
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut h, "file2.txt");
    step_until(&mut h, "file10.txt");
    assert_eq!(std::fs::read(root.join("file2.txt")).unwrap(), b"two");
}

#[test]
fn shift_del_asks_with_the_count_and_size_then_deletes_for_good() {
    let (_fx, root, mut h) = at_root();
    h.get_by_label("file10.txt").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::Delete);
    step_until_contains(&mut h, "for good? This cannot be undone.");
    assert!(
        h.query_by_label_contains("Delete “file10.txt” (1 file, 400 B)")
            .is_some()
    );
    // Cancel changes nothing.
    h.get_by_label("Cancel").click();
    step_until_state(&mut h, "the dialog closes", |s| s.dialog.is_none());
    assert!(root.join("file10.txt").is_file());
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::Delete);
    step_until(&mut h, "Delete permanently");
    h.get_by_label("Delete permanently").click();
    step_until_gone(&mut h, "file10.txt");
    assert!(!root.join("file10.txt").exists());
}

#[test]
fn ctrl_c_ctrl_v_pastes_a_copy_and_a_conflict_asks_first() {
    let (_fx, root, mut h) = at_root();
    h.get_by_label("notes.md").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::C);
    h.run_steps(2);
    let clip = h
        .state()
        .state()
        .clipboard
        .clone()
        .expect("on the clipboard");
    assert_eq!(clip.paths, [root.join("notes.md")]);
    assert!(!clip.cut);
    go_to(&mut h, &root.join("photos"));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::V);
    // No conflict: no dialog, the copy appears when its job is done.
    step_until(&mut h, "notes.md");
    assert_eq!(
        std::fs::read(root.join("photos/notes.md")).unwrap(),
        std::fs::read(root.join("notes.md")).unwrap()
    );
    assert!(h.state().state().dialog.is_none());
    // Again: the name is taken, so the dialog asks.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::V);
    step_until_contains(&mut h, "1 item already exists at the destination");
    assert!(h.query_by_label("identical").is_some());
    h.get_by_label("Keep both").click();
    step_until(&mut h, "notes (2).md");
    assert!(root.join("photos/notes (2).md").is_file());
    assert!(h.state().state().dialog.is_none());

    // Cut and paste moves (and the clipboard is used up).
    go_to(&mut h, &root);
    h.get_by_label("file2.txt").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::X);
    h.run_steps(2);
    go_to(&mut h, &root.join("photos"));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::V);
    step_until(&mut h, "file2.txt");
    assert!(!root.join("file2.txt").exists());
    assert!(root.join("photos/file2.txt").is_file());
    assert!(h.state().state().clipboard.is_none());
}

#[test]
fn ctrl_shift_n_makes_a_new_folder_renamed_in_place_and_undo_steps_back() {
    let (_fx, root, mut h) = at_root();
    let new_folder = egui::Modifiers::COMMAND | egui::Modifiers::SHIFT;
    h.key_press_modifiers(new_folder, egui::Key::N);
    step_until_state(&mut h, "the new folder is being renamed", |s| {
        s.renaming.as_ref().map(|r| r.text.as_str()) == Some("New Folder")
    });
    assert!(root.join("New Folder").is_dir());
    h.run_steps(2);
    // The whole name is selected: typing replaces it.
    h.event(egui::Event::Text("Trips".into()));
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    step_until(&mut h, "Trips");
    assert!(root.join("Trips").is_dir());
    // A second one is "New Folder" again (the first was renamed); Esc keeps its name.
    h.key_press_modifiers(new_folder, egui::Key::N);
    step_until_state(&mut h, "renaming", |s| s.renaming.is_some());
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    step_until(&mut h, "New Folder");
    h.key_press_modifiers(new_folder, egui::Key::N);
    step_until_state(&mut h, "the third is being renamed", |s| {
        s.renaming.as_ref().map(|r| r.text.as_str()) == Some("New Folder (2)")
    });
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    step_until(&mut h, "New Folder (2)");

    // Undo removes the newest (empty) folder; undo again the one before; redo makes it again.
    // Each step waits for the disk as well as the list: a list being listed again can lack a
    // row for a frame.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until_state(&mut h, "New Folder (2) removed", |_| {
        !root.join("New Folder (2)").exists()
    });
    step_until_gone(&mut h, "New Folder (2)");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until_state(&mut h, "New Folder removed", |_| {
        !root.join("New Folder").exists()
    });
    step_until_gone(&mut h, "New Folder");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Y);
    step_until_state(&mut h, "New Folder made again", |_| {
        root.join("New Folder").is_dir()
    });
    step_until(&mut h, "New Folder");
    // Undo of a rename names it back.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until_gone(&mut h, "New Folder");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until_gone(&mut h, "Trips");
    // The list may drop "Trips" while it is listed again; the renamed folder shows after.
    step_until(&mut h, "New Folder");
    assert!(root.join("New Folder").is_dir());
    assert!(!root.join("Trips").exists());
}

#[test]
fn the_context_menu_has_the_file_operations() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let mut h = harness(&fx, &root);
    let _clean = TrashedFrom(root.clone(), fx.core.library().unwrap());
    step_until(&mut h, "notes.md");
    h.get_by_label("notes.md").click_secondary();
    step_until(&mut h, "Move to trash");
    for label in [
        "Cut",
        "Copy",
        "Paste",
        "Rename",
        "Duplicate",
        "Move to trash",
        "Delete permanently…",
        "New folder",
        "Copy path",
    ] {
        assert!(h.query_by_label(label).is_some(), "{label}");
    }
    h.get_by_label("Duplicate").click();
    step_until(&mut h, "notes (copy).md");
    assert!(root.join("notes (copy).md").is_file());
    // Rename from the menu opens the editor in place.
    h.get_by_label("notes (copy).md").click_secondary();
    step_until(&mut h, "Rename");
    h.get_by_label("Rename").click();
    step_until_state(&mut h, "renaming", |s| {
        s.renaming.as_ref().map(|r| r.text.as_str()) == Some("notes (copy).md")
    });
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    step_until(&mut h, "notes (copy).md");
    // Move to trash from the menu; the trash view lists it and restores it.
    h.get_by_label("notes (copy).md").click_secondary();
    step_until(&mut h, "Move to trash");
    h.get_by_label("Move to trash").click();
    step_until_gone(&mut h, "notes (copy).md");
    assert!(!root.join("notes (copy).md").exists());
    h.get_by_label("Trash").click();
    step_until_state(&mut h, "the trash is listed", |s| s.trash.is_some());
    step_until(&mut h, "notes (copy).md");
    assert!(h.query_by_label(&root.display().to_string()).is_some());
    h.get_by_label("notes (copy).md").click();
    h.run_steps(2);
    h.get_by_label("Restore").click();
    step_until_disk(&mut h, "the restore", || {
        root.join("notes (copy).md").is_file()
    });
    // Emptying asks first (and is cancelled here: the trash is the person's).
    step_until_state(&mut h, "the trash is listed again", |s| {
        s.trash
            .as_ref()
            .is_some_and(|t| !t.iter().any(|i| i.original == root.join("notes (copy).md")))
    });
    if h.state()
        .state()
        .trash
        .as_ref()
        .is_some_and(|t| !t.is_empty())
    {
        h.get_by_label("Empty trash…").click();
        step_until_contains(&mut h, "will be deleted for good");
        h.get_by_label("Cancel").click();
        step_until_state(&mut h, "the dialog closes", |s| s.dialog.is_none());
    }
    // Back to the folder from the sidebar.
    h.get_by_label("Trash").click();
    step_until(&mut h, "notes (copy).md");
}

/// Sets the modification time of `path` to `secs` seconds after the epoch.
fn set_mtime(path: &Path, secs: u64) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

#[test]
fn the_duplicates_view_trashes_the_copies_not_kept_and_ctrl_z_brings_them_back() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    // Besides the fixture's two beach photos: three copies of "a" (one with a hard link),
    // two of "b", oldest first.
    let d = root.join("d");
    std::fs::create_dir(&d).unwrap();
    let p = |name: &str| d.join(name);
    for (name, content, secs) in [
        ("a1.txt", "alpha ", 1_000_000),
        ("a2.txt", "alpha ", 2_000_000),
        ("a3.txt", "alpha ", 3_000_000),
        ("b1.txt", "bravo ", 1_000_000),
        ("b2.txt", "bravo ", 2_000_000),
    ] {
        std::fs::write(p(name), content.repeat(50)).unwrap();
        set_mtime(&p(name), secs);
    }
    std::fs::hard_link(p("a3.txt"), p("a3-link.txt")).unwrap();
    drop(indexed(&fx, &root, IndexMode::Content, Rules::none()));
    let mut h = harness(&fx, &root);
    let _clean = TrashedFrom(root.clone(), fx.core.library().unwrap());
    step_until(&mut h, "notes.md");
    h.get_by_label("Duplicates").click();
    step_until(&mut h, "3 groups of identical files");
    let keep = |name: &Path| format!("Keep {}", name.display());
    let checked = |h: &H<'_>, path: &Path| h.state().state().dupes_keep.contains(path);
    // Newest is marked by default: one copy per group (the link of a3 is the same file).
    step_until(&mut h, &keep(&p("a3.txt")));
    assert!(checked(&h, &p("a3.txt")) && checked(&h, &p("b2.txt")));
    assert!(!checked(&h, &p("a1.txt")) && !checked(&h, &p("a3-link.txt")));
    // Keep a1 as well; of "b", uncheck the only copy kept: refused, nothing moves.
    h.get_by_label(&keep(&p("a1.txt"))).click();
    h.get_by_label(&keep(&p("b2.txt"))).click();
    h.run_steps(2);
    assert!(checked(&h, &p("a1.txt")) && !checked(&h, &p("b2.txt")));
    h.get_by_label_contains("Trash the others").click();
    step_until_contains(&mut h, "mark at least one copy in each group");
    assert!(p("b1.txt").is_file() && p("b2.txt").is_file() && p("a2.txt").is_file());
    // Keep b1 instead: a2, b2 and one beach photo go (3 copies, 900 B and the photo).
    h.get_by_label(&keep(&p("b1.txt"))).click();
    h.run_steps(2);
    let beach = [
        root.join("photos/2024/beach.jpg"),
        root.join("photos/beach copy.jpg"),
    ];
    let beach_kept = beach.iter().find(|b| checked(&h, b)).unwrap().clone();
    step_until_contains(&mut h, "Trash the others (3 copies,");
    h.get_by_label_contains("Trash the others").click();
    step_until_disk(&mut h, "the trash of the others", || {
        !p("a2.txt").exists() && !p("b2.txt").exists() && beach.iter().any(|b| !b.exists())
    });
    for kept in ["a1.txt", "a3.txt", "a3-link.txt", "b1.txt"] {
        assert!(p(kept).is_file(), "{kept} was kept");
    }
    assert!(beach_kept.is_file(), "the beach photo kept stays");
    // The view follows: only "a" is left a group (a1 and a3, and a3's link).
    step_until(&mut h, "1 groups of identical files");
    step_until_state(&mut h, "one undoable trash", |s| {
        s.toast
            .as_ref()
            .is_some_and(|t| t.text.starts_with("Trash 3 items") && t.undo)
    });
    // One Ctrl+Z brings all three back.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until_disk(&mut h, "the undo", || {
        p("a2.txt").is_file() && p("b2.txt").is_file() && beach.iter().all(|b| b.is_file())
    });
    step_until(&mut h, "3 groups of identical files");
}

#[test]
fn the_duplicates_view_replaces_the_others_with_hard_links_after_the_preview_and_ctrl_z_separates_them()
 {
    use std::os::unix::fs::MetadataExt;
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let d = root.join("d");
    std::fs::create_dir(&d).unwrap();
    let p = |name: &str| d.join(name);
    for (name, secs) in [
        ("c1.txt", 1_000_000),
        ("c2.txt", 2_000_000),
        ("c3.txt", 3_000_000),
    ] {
        std::fs::write(p(name), "charlie ".repeat(80)).unwrap();
        set_mtime(&p(name), secs);
    }
    let ino = |name: &str| std::fs::symlink_metadata(p(name)).unwrap().ino();
    drop(indexed(&fx, &root, IndexMode::Content, Rules::none()));
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    h.get_by_label("Duplicates").click();
    step_until(&mut h, "2 groups of identical files");
    // Newest is kept: c3, and one of the beach photos. The preview comes first and says
    // what a user must know.
    h.get_by_label("Replace the others with hard links…")
        .click();
    step_until_contains(&mut h, "an edit to one shows in all");
    assert_ne!(
        ino("c1.txt"),
        ino("c3.txt"),
        "nothing changes before Continue"
    );
    h.get_by_label("Continue").click();
    step_until_disk(&mut h, "the links", || {
        ino("c1.txt") == ino("c3.txt") && ino("c2.txt") == ino("c3.txt")
    });
    for name in ["c1.txt", "c2.txt", "c3.txt"] {
        assert_eq!(
            std::fs::read(p(name)).unwrap(),
            "charlie ".repeat(80).as_bytes()
        );
    }
    step_until_state(&mut h, "one undoable operation", |s| {
        s.toast.as_ref().is_some_and(|t| t.undo)
    });
    // Ctrl+Z: each file has its own copy again.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until_disk(&mut h, "the undo", || {
        ino("c1.txt") != ino("c3.txt") && ino("c2.txt") != ino("c3.txt")
    });
    assert_eq!(
        std::fs::read(p("c1.txt")).unwrap(),
        "charlie ".repeat(80).as_bytes()
    );
}

#[test]
fn f2_on_several_items_opens_a_batch_rename_with_a_live_preview_and_ctrl_z_undoes_it() {
    let (_fx, root, mut h) = at_root();
    // file2.txt, file10.txt, notes.md, in the order shown.
    h.get_by_label("file2.txt").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowDown);
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(selected_names(&h), ["file10.txt", "file2.txt", "notes.md"]);
    h.key_press(egui::Key::F2);
    step_until(&mut h, "Rename 3 items");
    assert!(
        h.state().state().renaming.is_none(),
        "not the in-place editor"
    );
    h.run_steps(2);
    assert!(
        h.query_all_by_value("{name}.{ext}").any(|n| n.is_focused()),
        "the template has the keyboard"
    );
    // Two names the same: both red, said, and no Rename.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.event(egui::Event::Text("same.{ext}".into()));
    h.run_steps(2);
    step_until_contains(&mut h, "is also the new name of “file10.txt”");
    assert!(h.get_by_label("Rename").accesskit_node().is_disabled());
    // The preview follows each key press.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.event(egui::Event::Text("doc-{n:2}.{ext}".into()));
    h.run_steps(2);
    for name in ["doc-01.txt", "doc-02.txt", "doc-03.md"] {
        assert!(h.query_by_label(name).is_some(), "{name} is previewed");
    }
    assert!(h.query_by_label_contains("3 of 3 names change").is_some());
    assert!(!h.get_by_label("Rename").accesskit_node().is_disabled());
    assert!(
        root.join("file2.txt").exists(),
        "nothing is renamed while typing"
    );
    h.key_press(egui::Key::Enter);
    step_until_disk(&mut h, "the batch rename", || {
        root.join("doc-03.md").exists()
    });
    step_until_state(&mut h, "the dialog closes", |s| s.batch_rename.is_none());
    assert_eq!(std::fs::read(root.join("doc-01.txt")).unwrap(), b"two");
    assert!(root.join("doc-02.txt").exists() && !root.join("file10.txt").exists());
    step_until(&mut h, "doc-01.txt");
    // Ctrl+Z undoes the whole batch at once.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until_disk(&mut h, "the undo", || {
        root.join("file2.txt").exists()
            && root.join("file10.txt").exists()
            && root.join("notes.md").exists()
    });
    assert_eq!(std::fs::read(root.join("file2.txt")).unwrap(), b"two");
    assert!(!root.join("doc-01.txt").exists() && !root.join("doc-03.md").exists());
    step_until(&mut h, "notes.md");
    // Esc closes the dialog, changing nothing.
    h.get_by_label("file2.txt").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowDown);
    h.run_steps(2);
    h.key_press(egui::Key::F2);
    step_until(&mut h, "Rename 2 items");
    h.key_press(egui::Key::Escape);
    step_until_state(&mut h, "the dialog closes", |s| s.batch_rename.is_none());
    assert!(root.join("file2.txt").exists() && root.join("file10.txt").exists());
}

/// Presses the primary button at `from`, moves past egui's drag distance and on to `to` in a
/// few frames, holding `mods` once there: the items hover over `to`, not yet dropped.
fn drag_over(h: &mut H<'_>, from: egui::Pos2, to: egui::Pos2, mods: egui::Modifiers) {
    h.hover_at(from);
    h.drag_at(from);
    // Sideways first: past the 6 points a click may wander, still on the row pressed.
    h.hover_at(from + egui::vec2(12.0, 0.0));
    h.hover_at(from.lerp(to, 0.5));
    h.hover_at(to);
    h.event(egui::Event::ModifiersChanged(mods));
    h.step();
    h.run_steps(1);
}

/// Lets go of the primary button at `at` with `mods` held, then of the modifiers.
fn let_go(h: &mut H<'_>, at: egui::Pos2, mods: egui::Modifiers) {
    h.event(egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: mods,
    });
    h.event(egui::Event::ModifiersChanged(egui::Modifiers::NONE));
    h.step();
    h.run_steps(1);
}

/// Steps until the operation titled `title` (e.g. `Move “a.txt” to photos`) has ended and
/// the folder shown is listed again.
fn step_until_done(h: &mut H<'_>, title: &str) {
    step_until_state(h, title, |s| {
        s.toast
            .as_ref()
            .is_some_and(|t| t.undo && t.text.starts_with(title))
            && !s.explorer.loading
    });
    h.run_steps(2);
}

/// Drags the widget labelled `from` onto the widget labelled `onto` and lets go there with
/// `mods` held.
fn drag_onto(h: &mut H<'_>, from: &str, onto: &str, mods: egui::Modifiers) {
    let a = h.get_by_label(from).rect().center();
    let b = h.get_by_label(onto).rect().center();
    drag_over(h, a, b, mods);
    let_go(h, b, mods);
}

/// Lets `file` go over the window as if dragged in from another application.
fn drop_from_outside(h: &mut H<'_>, file: &Path) {
    #[derive(Debug)]
    struct Dropped(PathBuf);
    impl egui::DroppedFile for Dropped {
        fn path(&self) -> &Path {
            &self.0
        }
        fn bytes(&self) -> Result<Vec<u8>, String> {
            std::fs::read(&self.0).map_err(|e| e.to_string())
        }
    }
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(file.to_owned())));
    h.run_steps(2);
}

#[test]
fn dragging_onto_a_folder_moves_ctrl_copies_and_shift_moves_the_selection_in_the_grid() {
    let (_fx, root, mut h) = at_root();
    // Over the folder, the preview names the item and what a drop does.
    let (notes, photos) = (
        h.get_by_label("notes.md").rect().center(),
        h.get_by_label("photos").rect().center(),
    );
    drag_over(&mut h, notes, photos, egui::Modifiers::NONE);
    assert!(h.query_by_label("Move to photos").is_some());
    h.event(egui::Event::ModifiersChanged(egui::Modifiers::CTRL));
    h.step();
    h.run_steps(1);
    assert!(h.query_by_label("Copy to photos").is_some());
    h.event(egui::Event::ModifiersChanged(egui::Modifiers::NONE));
    h.step();
    // No modifier, one file system: a move.
    let_go(&mut h, photos, egui::Modifiers::NONE);
    step_until_disk(&mut h, "the move", || {
        root.join("photos/notes.md").is_file() && !root.join("notes.md").exists()
    });
    assert!(
        h.query_by_label("Move to photos").is_none(),
        "the preview is gone"
    );
    // An ordinary operation: Ctrl+Z moves it back.
    step_until_done(&mut h, "Move “notes.md” to photos");
    assert!(h.query_by_label("notes.md").is_none());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut h, "notes.md");
    assert!(root.join("notes.md").is_file() && !root.join("photos/notes.md").exists());

    // Ctrl held as it is let go: a copy.
    drag_onto(&mut h, "file2.txt", "photos", egui::Modifiers::CTRL);
    step_until_disk(&mut h, "the copy", || {
        root.join("photos/file2.txt").is_file()
    });
    assert_eq!(std::fs::read(root.join("file2.txt")).unwrap(), b"two");
    step_until_done(&mut h, "Copy “file2.txt” to photos");
    assert!(h.state().state().dialog.is_none(), "no conflict, no dialog");

    // In the grid, dragging a selected tile takes the whole selection; Shift moves.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::G);
    h.run_steps(3);
    h.get_by_label("file10.txt").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(selected_names(&h), ["file10.txt", "notes.md"]);
    let (from, to) = (
        h.get_by_label("notes.md").rect().center(),
        h.get_by_label("photos").rect().center(),
    );
    drag_over(&mut h, from, to, egui::Modifiers::SHIFT);
    assert!(h.query_by_label("2 items").is_some());
    assert!(h.query_by_label("Move to photos").is_some());
    let_go(&mut h, to, egui::Modifiers::SHIFT);
    step_until_disk(&mut h, "the move of the selection", || {
        root.join("photos/file10.txt").is_file()
            && root.join("photos/notes.md").is_file()
            && !root.join("file10.txt").exists()
            && !root.join("notes.md").exists()
    });
    assert!(root.join("file2.txt").is_file(), "not selected, not moved");
    // Dragging an item outside the selection takes it alone.
    step_until_done(&mut h, "Move 2 items to photos");
    h.get_by_label("photos").click();
    h.run_steps(2);
    drag_onto(&mut h, "file2.txt", "photos", egui::Modifiers::SHIFT);
    // photos/file2.txt is there already (the copy): the paste's conflict dialog asks.
    step_until_contains(&mut h, "1 item already exists at the destination");
    h.key_press(egui::Key::Escape);
    step_until_state(&mut h, "the dialog closes", |s| s.dialog.is_none());
    assert!(root.join("photos").is_dir() && root.join("file2.txt").is_file());
}

#[test]
fn a_click_stays_a_click_a_folder_dropped_on_itself_does_nothing_and_esc_cancels() {
    let (_fx, root, mut h) = at_root();
    // A press that wanders less than the drag distance is a click: it selects.
    let file2 = h.get_by_label("file2.txt").rect().center();
    h.hover_at(file2);
    h.drag_at(file2);
    h.hover_at(file2 + egui::vec2(3.0, 0.0));
    h.event(egui::Event::PointerButton {
        pos: file2 + egui::vec2(3.0, 0.0),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    h.run_steps(1);
    assert_eq!(selected_names(&h), ["file2.txt"]);
    assert!(!egui::DragAndDrop::has_any_payload(&h.ctx));

    // A folder dragged along its own row and let go there: nothing is shown or done.
    let photos = h.get_by_label("photos").rect().center();
    let along = photos + egui::vec2(200.0, 0.0);
    drag_over(&mut h, photos, along, egui::Modifiers::NONE);
    assert!(egui::DragAndDrop::has_any_payload(&h.ctx), "dragging");
    assert!(h.query_by_label_contains("Move to").is_none());
    let_go(&mut h, along, egui::Modifiers::NONE);
    h.run_steps(3);
    let s = h.state().state();
    assert!(s.toast.is_none() && s.dialog.is_none(), "no operation");
    assert_eq!(selected_names(&h), ["file2.txt"], "a drag is not a click");
    assert!(root.join("photos/2024/beach.jpg").is_file());

    // Esc while over a folder cancels: letting go then does nothing.
    let notes = h.get_by_label("notes.md").rect().center();
    drag_over(&mut h, notes, photos, egui::Modifiers::NONE);
    assert!(h.query_by_label("Move to photos").is_some());
    h.key_press(egui::Key::Escape);
    h.run_steps(1);
    assert!(h.query_by_label("Move to photos").is_none());
    let_go(&mut h, photos, egui::Modifiers::NONE);
    h.run_steps(3);
    assert!(h.state().state().toast.is_none());
    assert!(root.join("notes.md").is_file() && !root.join("photos/notes.md").exists());

    // A double click still opens (both clicks in one frame: the harness's frames are
    // further apart than a double click).
    let photos = h.get_by_label("photos").rect().center();
    h.hover_at(photos);
    h.step();
    for pressed in [true, false, true, false] {
        h.input_mut().events.push(egui::Event::PointerButton {
            pos: photos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    step_until(&mut h, "beach copy.jpg");
}

#[test]
fn dropping_on_a_breadcrumb_a_sidebar_location_or_beside_the_items_moves_there() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    drop(indexed(&fx, &root, IndexMode::Content, Rules::none()));
    let photos = root.join("photos");
    let mut h = harness(&fx, &photos);
    step_until(&mut h, "beach copy.jpg");
    let name = root.file_name().unwrap().to_string_lossy().into_owned();
    // A breadcrumb segment: the folder above.
    drag_onto(&mut h, "beach copy.jpg", &name, egui::Modifiers::NONE);
    step_until_disk(&mut h, "the move to the breadcrumb's folder", || {
        root.join("beach copy.jpg").is_file() && !photos.join("beach copy.jpg").exists()
    });
    step_until_done(&mut h, &format!("Move “beach copy.jpg” to {name}"));
    assert!(h.query_by_label("beach copy.jpg").is_none());

    // A location in the sidebar.
    go_to(&mut h, &photos.join("2024"));
    step_until(&mut h, "beach.jpg");
    let location = h
        .get_by_label_contains(&format!("{name}  \u{b7}"))
        .rect()
        .center();
    let beach = h.get_by_label("beach.jpg").rect().center();
    drag_over(&mut h, beach, location, egui::Modifiers::NONE);
    assert!(h.query_by_label(&format!("Move to {name}")).is_some());
    let_go(&mut h, location, egui::Modifiers::NONE);
    step_until_disk(&mut h, "the move to the location", || {
        root.join("beach.jpg").is_file() && !photos.join("2024/beach.jpg").exists()
    });
    step_until_done(&mut h, &format!("Move “beach.jpg” to {name}"));

    // Beside the items: the folder shown. Dragged from photos, Backspace goes up meanwhile,
    // and the drop below the rows lands in the folder now shown.
    go_to(&mut h, &photos);
    step_until(&mut h, "2024");
    let folder = h.get_by_label("2024").rect().center();
    let below = folder + egui::vec2(0.0, 250.0);
    drag_over(&mut h, folder, below, egui::Modifiers::NONE);
    assert!(
        h.query_by_label_contains("Move to").is_none(),
        "photos is where 2024 is already"
    );
    h.key_press(egui::Key::Backspace);
    step_until(&mut h, "notes.md");
    h.hover_at(below + egui::vec2(0.0, 10.0));
    h.step();
    assert!(h.query_by_label(&format!("Move to {name}")).is_some());
    let_go(&mut h, below + egui::vec2(0.0, 10.0), egui::Modifiers::NONE);
    step_until_disk(&mut h, "the move beside the items", || {
        root.join("2024").is_dir() && !photos.join("2024").exists()
    });
    step_until(&mut h, "2024");
}

#[test]
fn a_search_result_dragged_onto_a_breadcrumb_moves_there() {
    let (fx, root) = beach_fixture();
    let mut h = searched(&fx, &root, "beach", "3 matches for");
    let name = root.file_name().unwrap().to_string_lossy().into_owned();
    drag_onto(&mut h, "beach.jpg", &name, egui::Modifiers::NONE);
    step_until_disk(&mut h, "the move of the result", || {
        root.join("beach.jpg").is_file() && !root.join("photos/2024/beach.jpg").exists()
    });
    assert!(
        h.state().state().searching(),
        "the drag did not open the result"
    );
}

#[test]
fn del_on_a_large_folder_asks_first_with_the_count_and_a_small_one_does_not() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let big = root.join("big");
    std::fs::create_dir(&big).unwrap();
    for i in 0..1_001 {
        std::fs::write(big.join(format!("n{i:04}")), b"x").unwrap();
    }
    let mut h = harness(&fx, &root);
    let _clean = TrashedFrom(root.clone(), fx.core.library().unwrap());
    step_until(&mut h, "big");
    h.get_by_label("big").click();
    h.run_steps(2);
    h.key_press(egui::Key::Delete);
    step_until_contains(&mut h, "Move 1,001 files to the trash?");
    assert!(big.is_dir(), "nothing moves before Continue");
    // Escape: nothing happens.
    h.key_press(egui::Key::Escape);
    step_until_state(&mut h, "the dialog closed", |s| s.dialog.is_none());
    assert!(big.is_dir());
    h.key_press(egui::Key::Delete);
    step_until_contains(&mut h, "Move 1,001 files to the trash?");
    h.get_by_label("Continue").click();
    step_until_gone(&mut h, "big");
    assert!(!big.exists());
    // The folder leaves the view when it leaves the disk, before the trash job has ended (an
    // undo then is refused, naming it): wait for its end, which offers the undo.
    step_until_state(&mut h, "the trash ended", |s| {
        s.op_totals.is_empty() && s.toast.as_ref().is_some_and(|t| t.undo)
    });
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut h, "big");
    assert_eq!(std::fs::read_dir(&big).unwrap().count(), 1_001);
}

#[test]
fn close_matches_stand_under_their_own_heading_after_the_real_ones() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    std::fs::write(root.join("photos/beach-notes.txt"), b"x").unwrap();
    // "note" is not in this name, but its letters are, in order: a close match.
    std::fs::write(root.join("new tone test.txt"), b"x").unwrap();
    drop(indexed(&fx, &root, IndexMode::Shallow, Rules::none()));
    let mut h = searched(&fx, &root, "note", "3 matches for");
    assert!(
        h.query_by_label_contains("(1 similar)").is_some(),
        "the heading counts the close match"
    );
    assert_eq!(
        found_names(&h),
        ["notes.md", "beach-notes.txt", "new tone test.txt"],
        "the real matches first"
    );
    step_until(&mut h, "Close matches");
    // The heading is not a result: the rows keep their order and the last one still opens.
    h.get_by_label("new tone test.txt").click();
    step_until_state(&mut h, "the close match is shown in its folder", |s| {
        s.explorer.folder.as_deref() == Some(root.as_path())
            && s.explorer
                .focused()
                .is_some_and(|i| i.name == "new tone test.txt")
    });
    // Without close matches there is no heading.
    let h = searched(&fx, &root, "notes.md", "1 match for");
    assert!(h.query_by_label("Close matches").is_none());
}

#[test]
fn a_folder_outside_the_locations_updates_live() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "file10.txt");
    // Another program creates and deletes files: the list follows without F5.
    std::fs::write(root.join("appeared.txt"), b"new").unwrap();
    step_until(&mut h, "appeared.txt");
    std::fs::remove_file(root.join("file2.txt")).unwrap();
    step_until_gone(&mut h, "file2.txt");
}

#[test]
fn an_indexed_folder_updates_live_and_keeps_the_selection() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    indexed(&fx, &root, IndexMode::Content, Rules::none());
    let mut h = harness(&fx, &root);
    let lib = fx.core.library().unwrap();
    lib.start_watching().unwrap();
    step_until(&mut h, "file10.txt");
    h.get_by_label("notes.md").click();
    step_until_state(&mut h, "notes.md selected", |s| {
        s.explorer.focused().is_some_and(|i| i.name == "notes.md")
    });
    // Wait until the location is watched, then change it from outside.
    let start = std::time::Instant::now();
    while lib.watch_status().values().all(|s| s.watched == 0) {
        assert!(start.elapsed() < Duration::from_secs(10), "never watched");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::write(
        root.join("from-elsewhere.txt"),
        b"written by another program",
    )
    .unwrap();
    step_until(&mut h, "from-elsewhere.txt");
    // It is in the index too, not only on screen, and the selection stayed.
    assert!(
        lib.entry_at(&root.join("from-elsewhere.txt"))
            .unwrap()
            .is_some()
    );
    let s = h.state().state();
    assert_eq!(
        s.explorer.focused().map(|i| i.name.as_str()),
        Some("notes.md")
    );
    // The sidebar's count follows too.
    let files = lib
        .location(lib.locations().unwrap()[0].id)
        .unwrap()
        .stats
        .files;
    step_until_state(&mut h, "the location's count follows", |s| {
        s.locations
            .first()
            .is_some_and(|l| l.record.stats.files == files)
    });
}

#[test]
fn the_status_bar_says_when_the_watch_limit_is_reached() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    indexed(&fx, &root, IndexMode::Shallow, Rules::none());
    let mut h = harness(&fx, &root);
    step_until(&mut h, "file10.txt");
    step_until_state(&mut h, "the location is listed", |s| {
        !s.locations.is_empty()
    });
    // What the live index reports when the system's inotify limit stopped it.
    h.state_mut().state_mut().locations[0].watch = Some(cairn::vdfs::indexer::live::WatchStatus {
        folders: 23_000,
        watched: 8_192,
        limit_reached: true,
        catching_up: 0,
    });
    h.run_steps(2);
    assert!(
        h.query_by_label_contains(
            "watching 8,192 of 23,000 folders — raise fs.inotify.max_user_watches"
        )
        .is_some()
    );
}

/// Tags in the window (issue "Tags…"): a file is tagged from its context menu (a new tag typed
/// there, then an existing one ticked), its row shows the tags as chips, the sidebar lists
/// them with their counts, and a click on one shows everything with it and the tags below it.
#[test]
fn files_are_tagged_from_the_context_menu_and_found_from_the_sidebar() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let lib = indexed(&fx, &root, IndexMode::Content, Rules::none());
    lib.create_tag(&cairn::vdfs::library::NewTag {
        name: "Travel".into(),
        colour: Some("#3b82f6".into()),
        ..Default::default()
    })
    .unwrap();
    drop(lib);
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    step_until(&mut h, "Travel");
    // A new tag, typed in the context menu.
    h.get_by_label("notes.md").click_secondary();
    step_until(&mut h, "Tags");
    h.get_by_label("Tags").hover();
    step_until(&mut h, "New tag");
    type_in_newest_field(&mut h, egui::accesskit::Role::TextInput, "Holidays");
    h.step();
    h.get_all_by_label("New tag")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
        .unwrap()
        .click();
    step_until_state(&mut h, "the new tag is on notes.md", |s| {
        s.tags
            .iter()
            .any(|t| t.record.name == "Holidays" && t.entries == 1)
    });
    // An existing tag, ticked.
    h.get_by_label("file2.txt").click_secondary();
    step_until(&mut h, "Tags");
    h.get_by_label("Tags").hover();
    step_until_by(&mut h, "Travel", |h, l| {
        h.query_all_by_label(l)
            .any(|n| n.accesskit_node().role() == egui::accesskit::Role::CheckBox)
    });
    h.get_all_by_label("Travel")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::CheckBox)
        .unwrap()
        .click();
    step_until_state(&mut h, "Travel is on file2.txt", |s| {
        s.tags
            .iter()
            .any(|t| t.record.name == "Travel" && t.entries == 1)
    });
    // Holidays goes under Travel (from the CLI's API): the sidebar's Travel finds both.
    fx.core
        .library()
        .unwrap()
        .add_tag_parent("Holidays", "Travel")
        .unwrap();
    step_until_state(&mut h, "the tree is read again", |s| {
        s.tags
            .iter()
            .any(|t| t.record.name == "Holidays" && !t.parents.is_empty())
    });
    // The rows carry their tags as chips (each a label with the tag's name).
    step_until(&mut h, "Holidays");
    step_until(&mut h, "Holidays  \u{00b7} 1");
    // The sidebar shows Travel with how many items carry it; a click shows them, with the
    // items of the tags below it.
    h.get_by_label("Travel  \u{00b7} 1").click();
    step_until_state(&mut h, "the tag's files are shown", |s| {
        s.found.as_ref().is_some_and(|(hits, _, _)| {
            let mut names: Vec<String> = hits
                .iter()
                .map(|x| x.path.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names == ["file2.txt", "notes.md"]
        })
    });
    // The search shows its tag among its filters.
    let s = h.state().state();
    let travel = s.tags.iter().find(|t| t.record.name == "Travel").unwrap();
    assert_eq!(s.search_filters.tag, Some(travel.id));
    // Ctrl+Z undoes the newest tagging: Travel comes off file2.txt, and the search shown
    // follows.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until_state(&mut h, "the tagging is undone", |s| {
        s.tags
            .iter()
            .any(|t| t.record.name == "Travel" && t.entries == 0)
            && s.found
                .as_ref()
                .is_some_and(|(hits, _, _)| hits.len() == 1 && hits[0].path.ends_with("notes.md"))
    });
    assert!(
        h.state()
            .state()
            .toast
            .as_ref()
            .is_some_and(|t| t.text.contains("took \"Travel\" off 1 item")),
        "{:?}",
        h.state().state().toast
    );
}

/// A tag is renamed, coloured and deleted from its context menu in the sidebar; deleting asks
/// again and says how many items it is on.
#[test]
fn a_tag_is_renamed_coloured_and_deleted_from_the_sidebar() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let lib = indexed(&fx, &root, IndexMode::Shallow, Rules::none());
    lib.create_tag(&cairn::vdfs::library::NewTag {
        name: "Old name".into(),
        ..Default::default()
    })
    .unwrap();
    lib.tag_paths("Old name", &[root.join("notes.md")], false, false)
        .unwrap();
    drop(lib);
    let mut h = harness(&fx, &root);
    let row = "Old name  \u{00b7} 1";
    step_until(&mut h, row);
    h.get_by_label(row).click_secondary();
    step_until(&mut h, "Rename");
    h.get_by_label("Rename").hover();
    step_until(&mut h, "Rename tag");
    let field = || egui::accesskit::Role::TextInput;
    h.get_all_by_role(field()).last().unwrap().focus();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_all_by_role(field())
        .last()
        .unwrap()
        .type_text("New name");
    h.step();
    h.get_by_label("Rename tag").click();
    step_until_state(&mut h, "renamed", |s| {
        s.tags.iter().any(|t| t.record.name == "New name")
    });
    let row = "New name  \u{00b7} 1";
    step_until(&mut h, row);
    h.get_by_label(row).click_secondary();
    step_until(&mut h, "Colour");
    h.get_by_label("Colour").hover();
    step_until_contains(&mut h, "Blue");
    h.get_by_label_contains("Blue").click();
    step_until_state(&mut h, "coloured", |s| {
        s.tags
            .iter()
            .any(|t| t.record.colour.as_deref() == Some("#3b82f6"))
    });
    h.get_by_label(row).click_secondary();
    step_until(&mut h, "Delete tag");
    h.get_by_label("Delete tag").hover();
    step_until_contains(&mut h, "off 1 item");
    h.get_by_label("Delete \"New name\"").click();
    step_until_state(&mut h, "deleted", |s| s.tags.is_empty());
    assert!(root.join("notes.md").is_file());
}

/// The inspector shows an indexed file's tags, rating and note; a rating is set by a click
/// and the note is saved from its field (issue "Tags, notes…").
#[test]
fn the_inspector_rates_and_notes_a_file() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    drop(indexed(&fx, &root, IndexMode::Shallow, Rules::none()));
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    h.get_by_label("notes.md").click();
    h.get_by_label("Inspector").click();
    step_until(&mut h, "Rating");
    h.run_steps(3);
    h.get_by_label("4").click();
    step_until_state(&mut h, "rated", |s| {
        s.meta
            .as_ref()
            .and_then(|(_, m)| m.entry.as_ref())
            .is_some_and(|m| m.rating == 4)
    });
    type_in_newest_field(
        &mut h,
        egui::accesskit::Role::MultilineTextInput,
        "Read before Friday",
    );
    h.step();
    h.get_by_label("Save note").click();
    step_until_state(&mut h, "noted", |s| {
        s.meta
            .as_ref()
            .and_then(|(_, m)| m.entry.as_ref())
            .is_some_and(|m| m.note == "Read before Friday" && m.rating == 4)
    });
    // A label colour, shown as a dot on its row, and a favourite mark, listed in the sidebar.
    h.get_by_label("green").click();
    step_until_state(&mut h, "labelled", |s| {
        s.meta
            .as_ref()
            .and_then(|(_, m)| m.entry.as_ref())
            .is_some_and(|m| m.label == 4)
            && s.label_map.values().any(|l| *l == 4)
    });
    h.get_by_label("Favourite").click();
    step_until_state(&mut h, "a favourite", |s| {
        s.favourites == [(root.join("notes.md"), false)]
    });
    let lib = fx.core.library().unwrap();
    let m = lib.meta_of(&root.join("notes.md")).unwrap();
    let m = m.entry.unwrap();
    assert_eq!(
        (m.note.as_str(), m.rating, m.label, m.favourite),
        ("Read before Friday", 4, 4, true)
    );
    // Taken out of the favourites from the inspector: the mark goes.
    h.get_by_label("Favourite").click();
    step_until_state(&mut h, "no favourite", |s| s.favourites.is_empty());
    let m = lib.meta_of(&root.join("notes.md")).unwrap();
    assert!(!m.entry.unwrap().favourite);
}

/// Collections in the window: items are added from their context menu (a new collection typed
/// there), the sidebar lists it with its size, and a click shows its items.
#[test]
fn items_are_collected_from_the_context_menu_and_shown_from_the_sidebar() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    drop(indexed(&fx, &root, IndexMode::Shallow, Rules::none()));
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    h.get_by_label("notes.md").click_secondary();
    step_until(&mut h, "Add to collection");
    h.get_by_label("Add to collection").hover();
    step_until(&mut h, "New collection");
    type_in_newest_field(&mut h, egui::accesskit::Role::TextInput, "Reading list");
    h.step();
    h.get_all_by_label("New collection")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
        .unwrap()
        .click();
    let row = "Reading list  \u{00b7} 1";
    step_until(&mut h, row);
    h.get_by_label("file2.txt").click_secondary();
    step_until(&mut h, "Add to collection");
    h.get_by_label("Add to collection").hover();
    step_until(&mut h, "Reading list");
    h.get_by_label("Reading list").click();
    let row = "Reading list  \u{00b7} 2";
    step_until(&mut h, row);
    h.get_by_label(row).click();
    step_until_state(&mut h, "the collection's items are shown", |s| {
        s.found.as_ref().is_some_and(|(hits, _, _)| {
            let mut names: Vec<String> = hits
                .iter()
                .map(|x| x.path.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names == ["file2.txt", "notes.md"]
        })
    });
}

/// A search is saved from the results ("Save search"), listed in the sidebar, and run again
/// from there after the search box was cleared.
#[test]
fn a_search_is_saved_and_run_again_from_the_sidebar() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    drop(indexed(&fx, &root, IndexMode::Shallow, Rules::none()));
    let mut h = searched(&fx, &root, "beach", "beach copy.jpg");
    h.get_by_label("Save search").click();
    step_until(&mut h, "Save as");
    type_in_newest_field(&mut h, egui::accesskit::Role::TextInput, "Beaches");
    h.step();
    h.get_all_by_label("Save as")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
        .unwrap()
        .click();
    step_until_state(&mut h, "the search is saved", |s| {
        s.saved_searches.iter().any(|x| x.name == "Beaches")
    });
    // Cleared, then run again from the sidebar.
    h.state_mut().state_mut().search_text.clear();
    h.step();
    h.get_by_label("Beaches").click();
    step_until_state(&mut h, "the saved search runs", |s| {
        s.search_text == "beach" && s.found.as_ref().is_some_and(|(hits, _, _)| hits.len() == 2)
    });
}

/// Tagging from the keyboard: Alt+T opens the tag popup on the selection, typing completes
/// from the tags' names and aliases (accents ignored), Enter puts the chosen tag on; a name
/// that is no tag makes a new one; Esc closes it.
#[test]
fn alt_t_tags_the_selection_with_a_completed_or_new_tag() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let lib = indexed(&fx, &root, IndexMode::Shallow, Rules::none());
    lib.create_tag(&cairn::vdfs::library::NewTag {
        name: "Réunion".into(),
        aliases: vec!["meeting".into()],
        ..Default::default()
    })
    .unwrap();
    drop(lib);
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    h.get_by_label("notes.md").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::T);
    step_until(&mut h, "Tag 1 item");
    // By its alias, accents ignored: the tag is offered, Enter puts it on.
    h.get_all_by_role(egui::accesskit::Role::TextInput)
        .last()
        .unwrap()
        .type_text("meet");
    h.run_steps(2);
    assert!(h.query_by_label("Réunion  (meeting)").is_some());
    h.key_press(egui::Key::Enter);
    step_until_state(&mut h, "tagged by the popup", |s| {
        s.tag_popup.is_none() && s.tag_map.values().any(|t| t.len() == 1)
    });
    let lib = fx.core.library().unwrap();
    let on = lib.tags_of(&root.join("notes.md")).unwrap();
    assert_eq!(on.len(), 1);
    assert_eq!(on[0].0.record.name, "Réunion");
    // A new name makes a new tag.
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::T);
    step_until(&mut h, "Tag 1 item");
    h.get_all_by_role(egui::accesskit::Role::TextInput)
        .last()
        .unwrap()
        .type_text("Urgent");
    h.run_steps(2);
    assert!(h.query_by_label("New tag \u{201c}Urgent\u{201d}").is_some());
    h.key_press(egui::Key::Enter);
    step_until_state(&mut h, "a new tag", |s| s.tags.len() == 2);
    step_until_state(&mut h, "on the file", |s| {
        s.tag_map.values().any(|t| t.len() == 2)
    });
    // Esc closes it and tags nothing.
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::T);
    step_until(&mut h, "Tag 1 item");
    h.key_press(egui::Key::Escape);
    step_until_state(&mut h, "closed", |s| s.tag_popup.is_none());
    assert_eq!(lib.tags_of(&root.join("notes.md")).unwrap().len(), 2);
}

/// Drag and drop with tags: files dropped on a tag in the sidebar are tagged with it; a tag
/// dropped on another goes under it, onto the TAGS heading back to the top; a tag dropped
/// on a tag below it (a cycle) does nothing.
#[test]
fn files_and_tags_are_dropped_onto_tags() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let lib = indexed(&fx, &root, IndexMode::Shallow, Rules::none());
    for name in ["Travel", "Paris"] {
        lib.create_tag(&cairn::vdfs::library::NewTag {
            name: name.into(),
            ..Default::default()
        })
        .unwrap();
    }
    drop(lib);
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    step_until(&mut h, "Paris");
    drag_onto(&mut h, "notes.md", "Travel", egui::Modifiers::NONE);
    let lib = fx.core.library().unwrap();
    step_until_state(&mut h, "tagged by a drop", |s| !s.tag_map.is_empty());
    let on = lib.tags_of(&root.join("notes.md")).unwrap();
    assert_eq!(on[0].0.record.name, "Travel");
    assert!(
        root.join("notes.md").is_file(),
        "a file dropped on a tag stays"
    );
    // Paris under Travel.
    drag_onto(&mut h, "Paris", "Travel  \u{00b7} 1", egui::Modifiers::NONE);
    let travel = lib.find_tag("Travel").unwrap().id;
    step_until_state(&mut h, "put under", |s| {
        s.tags
            .iter()
            .any(|t| t.record.name == "Paris" && t.parents == [travel])
    });
    // Travel onto Paris (below it): refused, nothing changes.
    drag_onto(&mut h, "Travel  \u{00b7} 1", "Paris", egui::Modifiers::NONE);
    h.run_steps(5);
    assert!(lib.find_tag("Travel").unwrap().parents.is_empty());
    // Paris onto the heading: at the top again.
    drag_onto(&mut h, "Paris", "TAGS", egui::Modifiers::NONE);
    step_until_state(&mut h, "at the top", |s| {
        s.tags.iter().all(|t| t.parents.is_empty())
    });
}

/// The tag editor: name, namespace, aliases, icon, colour, privacy and parents saved
/// together; merging into another tag asks first and moves the tagged files over.
#[test]
fn the_tag_editor_changes_a_tag_and_merges_it() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let lib = indexed(&fx, &root, IndexMode::Shallow, Rules::none());
    for name in ["Travel", "Trips", "Work"] {
        lib.create_tag(&cairn::vdfs::library::NewTag {
            name: name.into(),
            ..Default::default()
        })
        .unwrap();
    }
    lib.tag_paths("Trips", &[root.join("notes.md")], false, false)
        .unwrap();
    drop(lib);
    let mut h = harness(&fx, &root);
    step_until(&mut h, "Work");
    h.get_by_label("Work").click_secondary();
    step_until(&mut h, "Edit tag…");
    h.get_by_label("Edit tag…").click();
    step_until(&mut h, "Edit tag \u{201c}Work\u{201d}");
    h.get_by_label("Namespace").focus();
    h.run_steps(1);
    h.get_by_label("Namespace").type_text("job");
    h.get_by_label("Aliases").focus();
    h.run_steps(1);
    h.get_by_label("Aliases").type_text("office, boulot");
    h.get_by_label("Green").click();
    h.run_steps(1);
    h.get_by_label("Archive: its files are left out of searches unless asked for")
        .click();
    h.run_steps(1);
    h.get_by_label("Put under…").click();
    h.run_steps(2);
    rightmost(&h, "Travel").click();
    h.run_steps(2);
    h.get_by_label("Save tag").click();
    let lib = fx.core.library().unwrap();
    step_until_state(&mut h, "saved", |s| {
        s.tags
            .iter()
            .any(|t| t.record.namespace.as_deref() == Some("job"))
    });
    let work = lib.find_tag("boulot").unwrap();
    assert_eq!(work.qualified(), "job::Work");
    assert_eq!(work.record.aliases, ["office", "boulot"]);
    assert_eq!(work.record.colour.as_deref(), Some("#16a34a"));
    assert_eq!(
        work.record.privacy,
        cairn::vdfs::index::tags::Privacy::Archive
    );
    assert_eq!(work.parents, [lib.find_tag("Travel").unwrap().id]);
    // Trips merged into Travel: the file tagged Trips now carries Travel.
    let row = "Trips  \u{00b7} 1";
    step_until(&mut h, row);
    h.get_by_label(row).click_secondary();
    step_until(&mut h, "Edit tag…");
    h.get_by_label("Edit tag…").click();
    step_until(&mut h, "another tag…");
    h.run_steps(2);
    h.get_by_label("another tag…").click();
    h.run_steps(2);
    rightmost(&h, "Travel").click();
    step_until(&mut h, "Merge into \u{201c}Travel\u{201d}");
    h.run_steps(2);
    h.get_by_label("Merge into \u{201c}Travel\u{201d}").click();
    step_until_state(&mut h, "merged", |s| {
        s.tag_editor.is_none() && !s.tags.iter().any(|t| t.record.name == "Trips")
    });
    let on = lib.tags_of(&root.join("notes.md")).unwrap();
    assert_eq!(on.len(), 1);
    assert_eq!(on[0].0.record.name, "Travel");
    assert!(
        lib.find_tag("Travel")
            .unwrap()
            .record
            .aliases
            .contains(&"Trips".to_owned())
    );
}

/// Of the widgets labelled `label`, the one furthest right (a menu's entry over the dialog,
/// not the sidebar's row of the same name).
fn rightmost<'a>(h: &'a H<'_>, label: &'a str) -> egui_kittest::Node<'a> {
    h.get_all_by_label(label)
        .max_by(|a, b| a.rect().min.x.total_cmp(&b.rect().min.x))
        .unwrap()
}

/// The missing items in the window: a tagged, noted file deleted outside Cairn is listed
/// under "Missing" with its name, where it was and what was on it; forgetting it asks first,
/// then it is gone from the list and from the library.
#[test]
fn a_tagged_file_deleted_elsewhere_is_listed_as_missing_and_forgotten() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let lib = indexed(&fx, &root, IndexMode::Shallow, Rules::none());
    lib.create_tag(&cairn::vdfs::library::NewTag {
        name: "Keep".into(),
        ..Default::default()
    })
    .unwrap();
    lib.tag_paths("Keep", &[root.join("notes.md")], false, false)
        .unwrap();
    std::fs::remove_file(root.join("notes.md")).unwrap();
    let id = lib.locations().unwrap()[0].id;
    assert_eq!(lib.rescan(id).unwrap().wait(), JobStatus::Completed);
    drop(lib);
    let mut h = harness(&fx, &root);
    step_until(&mut h, "Missing");
    h.get_by_label("Missing").click();
    step_until(&mut h, "1 item missing");
    assert!(h.query_by_label("notes.md").is_some());
    assert!(h.query_by_label("Keep").is_some());
    h.get_by_label("notes.md").click();
    h.run_steps(2);
    h.get_by_label("Forget selected…").click();
    step_until(&mut h, "Forget");
    h.get_by_label("Forget").click();
    step_until(&mut h, "Nothing is missing");
    let lib = fx.core.library().unwrap();
    assert!(lib.missing_items().unwrap().is_empty());
    assert_eq!(lib.find_tag("Keep").unwrap().entries, 0);
}

/// Privacy in the window: an archive tag is in the sidebar (faint); a hidden tag is neither
/// there nor on its files until the person asks to see hidden tags.
#[test]
fn hidden_tags_show_only_when_asked() {
    use cairn::vdfs::index::tags::Privacy;
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let lib = indexed(&fx, &root, IndexMode::Shallow, Rules::none());
    for (name, privacy) in [("Old", Privacy::Archive), ("Secret", Privacy::Hidden)] {
        lib.create_tag(&cairn::vdfs::library::NewTag {
            name: name.into(),
            privacy,
            ..Default::default()
        })
        .unwrap();
        lib.tag_paths(name, &[root.join("notes.md")], false, false)
            .unwrap();
    }
    drop(lib);
    let mut h = harness(&fx, &root);
    step_until(&mut h, "Old  \u{00b7} 1");
    h.run_steps(2);
    assert!(h.query_by_label("Secret  \u{00b7} 1").is_none());
    // The chips on the file's row: the archive tag's only.
    assert!(h.query_by_label("Old").is_some());
    assert!(h.query_by_label("Secret").is_none());
    h.get_by_label("Show the hidden tags (1)").click();
    step_until(&mut h, "Secret  \u{00b7} 1");
    assert!(h.query_by_label("Secret").is_some(), "its chip too");
    h.get_by_label("Leave out the hidden tags").click();
    h.run_steps(2);
    assert!(h.query_by_label("Secret  \u{00b7} 1").is_none());
}

/// Alt+T and its text ("t", which X11 sends too when Alt is let go quickly) within one frame
/// open the tag popup on the selection and do not jump to a name starting with "t". (This
/// harness does not run the type-ahead for that text even without the guard: the guard's own
/// regression test is `ui::app::tests::a_letter_of_a_chord_is_not_type_ahead`.)
#[test]
fn alt_t_does_not_type_ahead() {
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    drop(indexed(&fx, &root, IndexMode::Shallow, Rules::none()));
    std::fs::write(root.join("t-first.txt"), b"t").unwrap();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    h.get_by_label("notes.md").click();
    h.run_steps(2);
    let alt = egui::Modifiers::ALT;
    h.event(egui::Event::ModifiersChanged(alt));
    h.event(egui::Event::Key {
        key: egui::Key::T,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: alt,
    });
    h.event(egui::Event::Text("t".into()));
    h.event(egui::Event::Key {
        key: egui::Key::T,
        physical_key: None,
        pressed: false,
        repeat: false,
        modifiers: alt,
    });
    h.event(egui::Event::ModifiersChanged(egui::Modifiers::NONE));
    h.run_steps(3);
    assert!(h.query_by_label("t-first.txt").is_some());
    let s = h.state().state();
    assert_eq!(
        s.explorer.focused().map(|i| i.name.as_str()),
        Some("notes.md"),
        "the selection stayed"
    );
    assert!(s.tag_popup.is_some(), "the popup opened");
    assert_eq!(
        s.tag_popup.as_ref().unwrap().paths,
        [root.join("notes.md")],
        "on the selection, which did not move"
    );
}

/// The command palette: Ctrl+K opens it over the folder, typing filters the commands (the
/// letters in order), Enter runs the one chosen and closes it; Esc closes it doing nothing;
/// Ctrl+Shift+P opens it too, even from a text field.
#[test]
fn the_command_palette_runs_what_is_typed() {
    let (_fx, _root, mut h) = at_root();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::K);
    step_until_state(&mut h, "the palette open", |s| s.palette.is_some());
    h.run_steps(2);
    h.get_all_by_role(egui::accesskit::Role::TextInput)
        .last()
        .unwrap()
        .type_text("trsh");
    h.run_steps(2);
    assert!(h.query_by_label("Trash").is_some());
    h.key_press(egui::Key::Enter);
    step_until_state(&mut h, "the trash shown", |s| {
        s.show_trash && s.palette.is_none()
    });
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::P,
    );
    step_until_state(&mut h, "open again", |s| s.palette.is_some());
    h.key_press(egui::Key::Escape);
    step_until_state(&mut h, "closed", |s| s.palette.is_none() && s.show_trash);
}

/// Finish items of the explorer: Alt+Enter shows the item's properties in the inspector; the
/// List/Grid switch; Ctrl+plus/minus and Ctrl+wheel zoom the grid's pictures (not the list);
/// a folder's menu offers a terminal there; the window's title names the folder.
#[test]
fn properties_view_switch_grid_zoom_terminal_and_title() {
    let (_fx, root, mut h) = at_root();
    let name = root.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        h.state().state().window_title(),
        format!("{name} \u{2014} Cairn")
    );
    h.get_by_label("notes.md").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::Enter);
    step_until_state(&mut h, "the inspector open", |s| s.explorer.inspector);
    assert_eq!(
        h.state()
            .state()
            .explorer
            .focused()
            .map(|i| i.name.as_str()),
        Some("notes.md")
    );
    // Zoom keys do nothing to the list.
    let z0 = h.state().state().grid_zoom;
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Equals);
    h.run_steps(2);
    assert_eq!(h.state().state().grid_zoom, z0);
    h.get_by_label("Grid").click();
    step_until_state(&mut h, "the grid", |s| {
        s.explorer.current_prefs().view == cairn::ui::explorer::ViewMode::Grid
    });
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Equals);
    h.run_steps(2);
    let z1 = h.state().state().grid_zoom;
    assert!(z1 > z0, "{z1} > {z0}");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Minus);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Minus);
    h.run_steps(2);
    assert!(h.state().state().grid_zoom < z1);
    // Ctrl+wheel.
    let before = h.state().state().grid_zoom;
    h.event(egui::Event::Zoom(1.5));
    h.run_steps(2);
    assert!(h.state().state().grid_zoom > before);
    h.get_by_label("List").click();
    step_until_state(&mut h, "the list", |s| {
        s.explorer.current_prefs().view == cairn::ui::explorer::ViewMode::List
    });
    step_until(&mut h, "photos");
    h.get_by_label("photos").click_secondary();
    step_until(&mut h, "Open terminal here");
}

/// Issue "Paired devices": the window lists a paired device in the sidebar, browses its
/// shared location and folders (listed by that device, another process on loopback), and
/// copies a selected file into the folder shown before, verified.
#[test]
fn the_window_browses_a_paired_device_and_copies_from_it() {
    use std::io::BufRead;
    let fx = fixture();
    let bin = env!("CARGO_BIN_EXE_cairn");
    let desk = tempfile::tempdir().unwrap();
    let shared = std::fs::canonicalize(desk.path()).unwrap().join("shared");
    std::fs::create_dir_all(shared.join("reports")).unwrap();
    std::fs::write(shared.join("reports/q3.txt"), b"quarter three").unwrap();
    let cli = |data: &Path| {
        let mut c = std::process::Command::new(bin);
        c.arg("--data-dir")
            .arg(data)
            .env_remove("CAIRN_DATA_DIR")
            .env("CAIRN_LISTEN", "127.0.0.1:0");
        c
    };
    let data = desk.path().join("data");
    assert!(
        cli(&data)
            .args(["device", "rename", "desk"])
            .status()
            .unwrap()
            .success()
    );
    assert!(
        cli(&data)
            .args(["location", "add"])
            .arg(&shared)
            .status()
            .unwrap()
            .success()
    );
    // Pair the window's data folder with desk, then serve desk on the port it paired from
    // (where the window will look for it).
    let mut host = cli(&data)
        .args(["--json", "device", "pair"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(host.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let addr = v["host"].as_str().unwrap().to_owned();
    let port = addr.rsplit(':').next().unwrap().to_owned();
    let window_data = fx.core.data_dir().data().to_owned();
    assert!(
        cli(&window_data)
            .args([
                "device",
                "pair",
                v["code"].as_str().unwrap(),
                "--host",
                &addr
            ])
            .status()
            .unwrap()
            .success()
    );
    host.wait().unwrap();
    /// Killed when the test ends, passed or not (a server left running holds the test's
    /// output pipe open).
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut server = Server(
        cli(&data)
            .args([
                "serve",
                "--no-watch",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(server.0.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("Serving"), "{line}");

    let mut h = harness(&fx, fx.files.path());
    // A local item selected before the device is shown: keys over the device must leave it.
    step_until(&mut h, "notes.md");
    h.get_by_label("notes.md").click();
    h.run_steps(2);
    assert_eq!(h.state().state().selected_paths().len(), 1);
    step_until(&mut h, "desk");
    h.get_by_label("desk").click();
    let root = shared.display().to_string();
    step_until(&mut h, &root);
    h.get_by_label(&root).click();
    step_until(&mut h, "reports/");
    h.get_by_label("reports/").click();
    h.run_steps(2);
    h.get_by_label("Open").click();
    step_until(&mut h, "q3.txt");
    h.get_by_label("q3.txt").click();
    h.run_steps(2);
    h.get_by_label("Copy to this device").click();
    let copied = fx.files.path().join("q3.txt");
    step_until_state(&mut h, "the copy", |_| copied.exists());
    assert_eq!(std::fs::read(&copied).unwrap(), b"quarter three");
    // The copy is a job: the drawer lists it by what it did, and a toast tells its end.
    step_until_state(&mut h, "the copy's toast", |s| {
        s.toast
            .as_ref()
            .is_some_and(|t| t.text.starts_with("Copied 1 file (") && t.text.contains("desk"))
    });
    step_until_contains(&mut h, "Copy “q3.txt” from desk into");

    // Keys in the device view never act on the local folder behind it: Delete there trashes
    // nothing here; Ctrl+C takes the device's selected item.
    h.key_press(egui::Key::Delete);
    h.key_press(egui::Key::F2);
    h.run_steps(3);
    assert!(
        fx.files.path().join("notes.md").exists() && copied.exists(),
        "a key in the device view acted on a local item"
    );
    assert!(h.state().state().renaming.is_none());
    h.event(egui::Event::Copy);
    h.run_steps(2);
    let desk_clip = h
        .state()
        .state()
        .clipboard
        .as_ref()
        .and_then(|c| c.device.clone());
    assert!(desk_clip.is_some(), "the device's item is on the clipboard");

    // A local file on the clipboard is sent into the device's folder with "Paste here".
    let note = fx.files.path().join("note-for-desk.txt");
    std::fs::write(&note, b"from the window").unwrap();
    h.state_mut().state_mut().clipboard = Some(cairn::ui::state::Clip {
        paths: vec![note.clone()],
        cut: false,
        device: None,
    });
    h.run_steps(2);
    h.get_by_label("Paste here").click();
    let sent = shared.join("reports/note-for-desk.txt");
    step_until_state(&mut h, "the send", |_| sent.exists());
    step_until_state(&mut h, "the send's toast", |s| {
        s.toast.as_ref().is_some_and(|t| {
            t.text.starts_with("Sent 1 file (") && t.text.contains("each verified there")
        })
    });
    assert_eq!(std::fs::read(&sent).unwrap(), b"from the window");

    // Up goes up within the device: back to the location's root.
    h.get_by_label("Up").click();
    step_until(&mut h, "reports/");
    step_until_state(&mut h, "desk answering", |s| {
        s.reach.values().any(std::result::Result::is_ok)
    });

    // The search box searches the device shown; a hit opens its folder with it selected.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    // Letters in order but not the words: the device's close match, under its heading.
    h.get_by_label("Search").type_text("q3tx");
    step_until(&mut h, "Close matches");
    assert!(h.query_by_label("q3.txt").is_some(), "the close match");
    h.key_press(egui::Key::Backspace);
    h.key_press(egui::Key::Backspace);
    // The hit by its name, its folder below the one searched beside it; a real match has
    // no heading.
    step_until_state(&mut h, "the search for q3", |s| {
        s.search_text == "q3"
            && s.peer.as_ref().is_some_and(|p| {
                p.found
                    .as_ref()
                    .is_some_and(|f| f.total.is_some() && f.hits.iter().all(|h| h.rank < 4))
            })
    });
    step_until(&mut h, "q3.txt");
    assert!(h.query_by_label("Close matches").is_none());
    assert!(h.query_by_label("reports").is_some(), "its folder");
    h.get_by_label("q3.txt").click();
    step_until_state(&mut h, "the hit's folder", |s| {
        s.peer.as_ref().is_some_and(|p| {
            p.found.is_none()
                && p.selected.contains(b"q3.txt".as_slice())
                && p.items.iter().any(|i| i.name == b"note-for-desk.txt")
        })
    });
    assert_eq!(h.state().state().search_text, "");

    // Dragged from the device's folder onto Home in the sidebar (here the test's folder,
    // never the person's): copied there.
    h.state_mut().state_mut().home = Some(fx.files.path().to_owned());
    h.run_steps(1);
    std::fs::remove_file(&copied).unwrap();
    drag_onto(&mut h, "q3.txt", "Home", egui::Modifiers::NONE);
    step_until_state(&mut h, "the dragged copy", |s| {
        copied.exists() && s.transfer.is_none()
    });
    assert_eq!(std::fs::read(&copied).unwrap(), b"quarter three");

    // The device's item put on the clipboard above is copied into a local folder with Ctrl+V
    // there (kept both: q3.txt is there already).
    h.state_mut().state_mut().clipboard = Some(cairn::ui::state::Clip {
        paths: vec![shared.join("reports/q3.txt")],
        cut: false,
        device: desk_clip,
    });
    let inbox = fx.files.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    h.run_steps(2);
    h.event(egui::Event::Text(inbox.display().to_string()));
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    step_until_state(&mut h, "the inbox", |s| {
        s.explorer.folder.as_deref() == Some(inbox.as_path()) && !s.explorer.loading
    });
    h.event(egui::Event::Paste(String::new()));
    let pasted = inbox.join("q3.txt");
    step_until_state(&mut h, "the paste", |s| {
        pasted.exists() && s.transfer.is_none()
    });
    assert_eq!(std::fs::read(&pasted).unwrap(), b"quarter three");

    // A file dragged in from another application: copied into the local folder shown…
    let outside = tempfile::tempdir().unwrap();
    let card = outside.path().join("card.txt");
    std::fs::write(&card, b"from elsewhere").unwrap();
    drop_from_outside(&mut h, &card);
    let landed = inbox.join("card.txt");
    step_until_state(&mut h, "the dropped file", |_| landed.exists());
    assert_eq!(std::fs::read(&landed).unwrap(), b"from elsewhere");
    assert!(card.exists(), "the other application keeps its file");
    // …and, Back on the device's folder the inbox was typed from, sent into that folder.
    h.get_by_label("Back").click();
    step_until_state(&mut h, "the device's folder again", |s| {
        s.peer.as_ref().is_some_and(|p| {
            p.path.as_deref() == Some(shared.join("reports").as_os_str().as_encoded_bytes())
                && !p.loading
        })
    });
    drop_from_outside(&mut h, &card);
    let there = shared.join("reports/card.txt");
    step_until_state(&mut h, "the dropped file sent", |s| {
        there.exists() && s.transfer.is_none()
    });
    assert_eq!(std::fs::read(&there).unwrap(), b"from elsewhere");

    // The split view: the local folder behind beside the device's; a local file dragged from
    // the local side onto the device's folder is sent into it.
    let beside = inbox.join("split.txt");
    std::fs::write(&beside, b"dragged across").unwrap();
    h.key_press(egui::Key::F3);
    step_until(&mut h, "split.txt");
    let from = h.get_by_label("split.txt").rect().center();
    let onto = h.get_by_label("note-for-desk.txt").rect().center();
    assert!(from.x > onto.x, "the local side on the right");
    let below = onto + egui::vec2(0.0, 150.0);
    drag_over(&mut h, from, below, egui::Modifiers::NONE);
    assert!(h.query_by_label("Copy to reports on desk").is_some());
    let_go(&mut h, below, egui::Modifiers::NONE);
    let across = shared.join("reports/split.txt");
    step_until_state(&mut h, "the file dragged across", |s| {
        across.exists() && s.transfer.is_none()
    });
    assert_eq!(std::fs::read(&across).unwrap(), b"dragged across");
    assert!(beside.exists(), "a copy: the local file stays");
    drop(server);
}

/// Files offered by a nearby device: "Receive from nearby" in the sidebar takes offers, a
/// dialog shows who sends what, and only Accept writes anything.
#[test]
fn the_window_asks_before_taking_files_from_a_nearby_device() {
    let fx = fixture();
    let mut h = harness(&fx, fx.files.path());
    let other = tempfile::tempdir().unwrap();
    let laptop = other.path().join("laptop");
    let send = |file: &Path, to: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("--data-dir")
            .arg(&laptop)
            .env_remove("CAIRN_DATA_DIR")
            .env("CAIRN_LISTEN", "127.0.0.1:0")
            .arg("send")
            .arg(file)
            .args(["--to", to])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let file = other.path().join("postcard.txt");
    std::fs::write(&file, b"greetings").unwrap();
    let inbox = other.path().join("Downloads");
    h.state_mut().state_mut().drop_folder = Some(inbox.clone());
    step_until(&mut h, "Receive from nearby");
    h.get_by_label("Receive from nearby").click();
    step_until_state(&mut h, "receiving", |s| s.receiving.is_some());
    let at = h.state().state().receiving.clone().unwrap().1;

    // Declined: the sender is told; nothing is written.
    let declined = send(&file, &at);
    step_until_contains(&mut h, "wants to send you 1 file");
    step_until(&mut h, "Decline");
    h.get_by_label("Decline").click();
    h.run_steps(2);
    let out = declined.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("declined"));
    assert!(!inbox.exists());

    // Accepted: the file lands, verified, and the window says so.
    let accepted = send(&file, &at);
    step_until_contains(&mut h, "postcard.txt");
    h.get_by_label("Accept").click();
    let landed = inbox.join("postcard.txt");
    step_until_state(&mut h, "the file", |_| landed.exists());
    step_until_contains(&mut h, "received into");
    assert!(accepted.wait_with_output().unwrap().status.success());
    assert_eq!(std::fs::read(&landed).unwrap(), b"greetings");
}

/// "Send to a nearby device…" in an item's context menu: the dialog says why it cannot look
/// on this network here (the window is on loopback), takes an address, and the receiver's
/// person accepts.
#[test]
fn the_window_sends_files_to_a_nearby_device_that_accepts() {
    use std::io::{BufRead, Write};
    let fx = fixture();
    let root = std::fs::canonicalize(fx.files.path()).unwrap();
    let other = tempfile::tempdir().unwrap();
    let inbox = other.path().join("inbox");
    let mut phone = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--data-dir")
        .arg(other.path().join("phone"))
        .env_remove("CAIRN_DATA_DIR")
        .env("CAIRN_LISTEN", "127.0.0.1:0")
        .args(["--json", "receive", "--into"])
        .arg(&inbox)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(phone.stdout.take().unwrap());
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in out.lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let line = lines.recv_timeout(Duration::from_secs(60)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let at = v["receiving"].as_str().unwrap().to_owned();

    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    h.get_by_label("notes.md").click_secondary();
    step_until(&mut h, "Send to a nearby device…");
    h.get_by_label("Send to a nearby device…").click();
    step_until_contains(&mut h, "local discovery is off");
    // The address field has the keyboard when the dialog opens.
    h.run_steps(2);
    h.event(egui::Event::Text(at.clone()));
    h.run_steps(2);
    assert_eq!(
        h.state()
            .state()
            .send_dialog
            .as_ref()
            .map(|d| d.address.clone()),
        Some(at.clone())
    );
    h.get_by_label("Send").click();
    // The receiver is asked (the window keeps drawing meanwhile); it accepts.
    let deadline = std::time::Instant::now() + PATIENCE;
    let line = loop {
        h.run_steps(1);
        if let Ok(l) = lines.try_recv() {
            break l;
        }
        let s = h.state().state();
        assert!(
            std::time::Instant::now() < deadline,
            "no offer reached the receiver; toast: {:?}, transfer: {:?}",
            s.toast.as_ref().map(|t| t.text.clone()),
            s.transfer
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(line.contains("wants to send you 1 file"), "{line}");
    writeln!(phone.stdin.as_mut().unwrap(), "y").unwrap();
    step_until_contains(&mut h, "each verified there");
    assert_eq!(
        std::fs::read(inbox.join("notes.md")).unwrap(),
        std::fs::read(root.join("notes.md")).unwrap()
    );
    let _ = phone.kill();
    let _ = phone.wait();
}

/// The jobs drawer is sized to what it shows: the newest job on one line when nothing runs
/// ("All N jobs" lists the rest), and only what runs while something does.
#[test]
fn the_jobs_drawer_is_one_line_when_nothing_runs_and_lists_what_runs() {
    use cairn::ui::bridge::Update;
    let (_fx, _root, mut h) = at_root();
    step_until_state(&mut h, "the first refresh arrived", |s| {
        !s.libraries.is_empty()
    });
    h.run_steps(5);
    let titled = |id, status, title: &str| cairn::vdfs::jobs::JobRecord {
        title: title.into(),
        ..job_record(id, status)
    };
    // (The list comes oldest first, as the core sends it.)
    h.state_mut().state_mut().apply(Update::Jobs(vec![
        titled(1, JobStatus::Completed, "Index older"),
        titled(2, JobStatus::Completed, "Index newest"),
    ]));
    h.run_steps(2);
    let drawer = |h: &H<'_>| cairn::ui::jobs_drawer_height(h.state().state());
    let one_line = drawer(&h);
    assert!(h.query_by_label("Index newest").is_some());
    assert!(h.query_by_label("Index older").is_none());
    h.get_by_label("All 2 jobs").click();
    h.run_steps(2);
    assert!(h.query_by_label("Index older").is_some());
    assert!(drawer(&h) > one_line + 40.0, "sized to its two rows");
    h.get_by_label("Fewer").click();
    h.run_steps(2);
    assert!(h.query_by_label("Index older").is_none());
    assert_eq!(drawer(&h), one_line);
    // Something runs: it is listed (with its buttons), the ended ones are not.
    h.state_mut().state_mut().apply(Update::Jobs(vec![
        titled(1, JobStatus::Completed, "Index older"),
        titled(2, JobStatus::Completed, "Index newest"),
        titled(3, JobStatus::Running, "Copy “a” from desk into inbox"),
    ]));
    h.run_steps(2);
    assert!(h.query_by_label("Copy “a” from desk into inbox").is_some());
    assert!(h.query_by_label("Pause").is_some());
    assert!(h.query_by_label("Index newest").is_none());
    assert!(h.query_by_label("1 active").is_some());
    assert!(drawer(&h) > one_line);
}

/// Regression: in the grid (with its zoom slider) and the inspector on, a 1200-point window
/// drew the "Inspector" box under "Settings…". The fields give up width instead.
#[test]
fn regression_the_top_bar_fits_a_1200_point_window_in_the_grid() {
    use egui::accesskit::Role;
    let (_fx, _root, mut h) = at_root();
    h.get_by_label("notes.md").click();
    h.key_press(egui::Key::Space);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::G);
    h.run_steps(3);
    assert!(
        h.query_by_label("Zoom").is_some(),
        "the grid shows its zoom"
    );
    let inspector = h.get_by_role_and_label(Role::CheckBox, "Inspector").rect();
    assert!(inspector.width() > 0.0);
    let settings = h.get_by_label("Settings…").rect();
    assert!(
        inspector.max.x <= settings.min.x,
        "Inspector {inspector:?} runs under Settings… {settings:?}"
    );
}

/// With no folder picker on the system (no portal, no zenity), "Add a folder…" makes the
/// window the chooser: a banner over the folder shown indexes it, or is cancelled.
#[test]
fn without_a_folder_picker_the_window_is_the_chooser() {
    use cairn::ui::bridge::Update;
    let (_fx, root, mut h) = at_root();
    h.state_mut().state_mut().apply(Update::ChooseInWindow);
    step_until(&mut h, "Choose a folder to index");
    h.get_by_label("Cancel").click();
    step_until_gone(&mut h, "Choose a folder to index");
    assert!(h.state().state().locations.is_empty());
    h.state_mut().state_mut().apply(Update::ChooseInWindow);
    step_until(&mut h, "Choose a folder to index");
    let name = root.file_name().unwrap().to_string_lossy().into_owned();
    h.get_by_label(&format!("Index \u{201c}{name}\u{201d}"))
        .click();
    step_until_state(&mut h, "the folder indexed", |s| {
        !s.choosing_location && s.locations.iter().any(|l| l.record.path() == root)
    });
}

/// Clicks `button` at `at` `times` times within one frame (two: a double click).
fn click_at(h: &mut H<'_>, at: egui::Pos2, button: egui::PointerButton, times: usize) {
    h.hover_at(at);
    h.step();
    for _ in 0..times {
        for pressed in [true, false] {
            h.input_mut().events.push(egui::Event::PointerButton {
                pos: at,
                button,
                pressed,
                modifiers: egui::Modifiers::NONE,
            });
        }
    }
    h.run_steps(2);
}

#[test]
fn tabs_open_switch_and_close_each_with_its_own_folder() {
    let (_fx, root, mut h) = at_root();
    assert!(
        h.query_by_label("New tab").is_none(),
        "no tab bar for one tab"
    );
    // A middle click on a folder opens it in a new tab, shown.
    let photos = h.get_by_label("photos").rect().center();
    click_at(&mut h, photos, egui::PointerButton::Middle, 1);
    step_until(&mut h, "beach copy.jpg");
    assert_eq!(h.state().state().tab_count(), 2);
    assert!(h.query_by_label("notes.md").is_none());
    assert_eq!(h.get_all_by_label("Close tab").count(), 2);
    // Ctrl+Tab goes round to the first tab, as it was left.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Tab);
    step_until(&mut h, "notes.md");
    assert_eq!(h.state().state().tab, 0);
    // Ctrl+T opens a tab where this one is; Ctrl+W closes it.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::T);
    h.run_steps(2);
    assert_eq!(h.state().state().tab_count(), 3);
    assert_eq!(h.state().state().tab, 1);
    step_until(&mut h, "notes.md");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::W);
    h.run_steps(2);
    assert_eq!(h.state().state().tab_count(), 2);
    // The photos tab's × closes it; the bar goes with the last but one tab.
    h.get_all_by_label("Close tab").nth(1).unwrap().click();
    h.run_steps(2);
    assert_eq!(h.state().state().tab_count(), 1);
    assert!(h.query_by_label("New tab").is_none());
    assert_eq!(
        h.state().state().explorer.folder.as_deref(),
        Some(root.as_path())
    );
    step_until(&mut h, "notes.md");
}

#[test]
fn the_split_view_has_two_folders_and_a_drag_between_them_moves() {
    let (_fx, root, mut h) = at_root();
    h.key_press(egui::Key::F3);
    step_until_state(&mut h, "both sides listed", |s| s.split_focus() == Some(0));
    // The second side lists its folder on its own thread: on a loaded machine, a few frames
    // after the first.
    step_until_by(&mut h, "notes.md on both sides", |h, _| {
        h.query_all_by_label("notes.md").count() == 2
    });
    // A double click on the right side's folder opens it there, and gives it the keyboard.
    let right_photos = h
        .get_all_by_label("photos")
        .map(|n| n.rect().center())
        .max_by(|a, b| a.x.total_cmp(&b.x))
        .unwrap();
    click_at(&mut h, right_photos, egui::PointerButton::Primary, 2);
    step_until(&mut h, "beach copy.jpg");
    assert_eq!(h.state().state().split_focus(), Some(1));
    assert_eq!(
        h.state().state().explorer.folder.as_deref(),
        Some(root.join("photos").as_path())
    );
    assert_eq!(h.get_all_by_label("notes.md").count(), 1, "left only");
    // notes.md dragged from the left side onto the empty part of the right side: moved there.
    let notes = h.get_by_label("notes.md").rect().center();
    let below = h.get_by_label("beach copy.jpg").rect().center() + egui::vec2(0.0, 200.0);
    drag_over(&mut h, notes, below, egui::Modifiers::NONE);
    assert!(h.query_by_label("Move to photos").is_some());
    let_go(&mut h, below, egui::Modifiers::NONE);
    step_until_disk(&mut h, "the move", || {
        root.join("photos/notes.md").is_file() && !root.join("notes.md").exists()
    });
    // Both sides show it: arrived on the right, gone from the left.
    let on_the_right = |h: &H<'_>| {
        let notes: Vec<_> = h.query_all_by_label("notes.md").map(|n| n.rect()).collect();
        let file2 = h.query_by_label("file2.txt").map(|n| n.rect());
        matches!((notes.as_slice(), file2), ([n], Some(f)) if n.left() > f.right())
    };
    let start = std::time::Instant::now();
    while !on_the_right(&h) {
        assert!(
            start.elapsed() < PATIENCE,
            "the two sides never showed the move"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    // F3 again closes the other side; the side with the keyboard stays.
    h.key_press(egui::Key::F3);
    h.run_steps(2);
    assert_eq!(h.state().state().split_focus(), None);
    assert!(h.query_by_label("beach copy.jpg").is_some());
}

#[test]
fn the_one_search_field_filters_as_you_type_and_enter_searches_below() {
    let (fx, root) = beach_fixture();
    let mut h = harness(&fx, &root);
    step_until(&mut h, "notes.md");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    // Typing filters the folder shown: no search, nothing from below.
    h.get_by_label("Search").type_text("beach");
    step_until_gone(&mut h, "notes.md");
    assert!(h.state().state().found.is_none());
    assert!(h.query_by_label("photos").is_none());
    assert!(
        h.query_by_label("beach.jpg").is_none(),
        "not in this folder"
    );
    assert!(
        h.query_by_label_contains("Press Enter in the search field")
            .is_some(),
        "says how to look below"
    );
    // Enter searches the folder and below, with what was typed.
    h.key_press(egui::Key::Enter);
    step_until_contains(&mut h, "3 matches for");
    assert!(h.state().state().explorer.filter.is_empty());
    // "Library" searches the whole library; "This folder" filters again, the text kept.
    h.get_by_label("Library").click();
    step_until_state(&mut h, "a library search", |s| {
        s.search_everywhere && s.found.is_some()
    });
    h.get_by_label("This folder").click();
    step_until_state(&mut h, "the folder filtered", |s| s.found.is_none());
    let s = h.state().state();
    assert!(s.found.is_none() && s.search_text.is_empty());
    assert_eq!(s.explorer.filter, "beach");
    // Ctrl+F again selects what the field holds: typing replaces it.
    h.key_press(egui::Key::Escape);
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    h.get_by_label("Search").type_text("notes");
    h.run_steps(2);
    assert_eq!(h.state().state().explorer.filter, "notes");
}

/// The list's column widths are each folder's own: widened in one folder, the column keeps
/// its width there and not in another.
#[test]
fn a_column_widened_in_one_folder_stays_so_there_only() {
    let (_fx, _root, mut h) = at_root();
    let size = |h: &H<'_>| h.get_by_label("Size").rect();
    let modified = |h: &H<'_>| h.get_by_label("Modified").rect();
    let before = modified(&h).left() - size(&h).left();
    // The border between Size and Modified, dragged 60 points right.
    let edge = egui::pos2(modified(&h).left() - 4.0, size(&h).center().y);
    h.hover_at(edge);
    h.drag_at(edge);
    for dx in [10.0, 30.0, 60.0] {
        h.hover_at(edge + egui::vec2(dx, 0.0));
    }
    let_go(&mut h, edge + egui::vec2(60.0, 0.0), egui::Modifiers::NONE);
    h.run_steps(2);
    let widened = modified(&h).left() - size(&h).left();
    assert!(widened > before + 30.0, "{before} → {widened}");
    // Another folder has its own widths; back here, the widened one.
    h.get_by_label("photos").click();
    h.key_press(egui::Key::Enter);
    step_until(&mut h, "beach copy.jpg");
    h.run_steps(2);
    let there = modified(&h).left() - size(&h).left();
    assert!((there - before).abs() < 2.0, "{before} vs {there}");
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowLeft);
    step_until(&mut h, "notes.md");
    h.run_steps(2);
    let back = modified(&h).left() - size(&h).left();
    assert!((back - widened).abs() < 2.0, "{widened} vs {back}");
}
