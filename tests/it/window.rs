//! The window, driven headless with egui_kittest through accessibility labels.

use std::sync::Arc;
use std::time::Duration;

use cairn::ui::bridge::Bridge;
use cairn::ui::{AppState, CairnApp};
use cairn::{Core, CoreOptions};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

/// Steps frames (letting background updates arrive) until a widget labelled `label` shows.
fn step_until(h: &mut Harness<'_, CairnApp>, label: &str) {
    step_until_by(h, label, |h, l| h.query_by_label(l).is_some());
}

/// Like [`step_until`], for a label that contains `part`.
fn step_until_contains(h: &mut Harness<'_, CairnApp>, part: &str) {
    step_until_by(h, part, |h, l| h.query_by_label_contains(l).is_some());
}

fn step_until_by(
    h: &mut Harness<'_, CairnApp>,
    label: &str,
    found: impl Fn(&Harness<'_, CairnApp>, &str) -> bool,
) {
    for _ in 0..500 {
        h.step();
        if found(h, label) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("\"{label}\" never appeared");
}

#[test]
fn shows_the_library_and_creates_a_new_one() {
    let tmp = tempfile::tempdir().unwrap();
    let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
    let lib = core.open_library(None).unwrap();
    let opened = Ok((lib.config(), lib.path().to_owned()));
    drop(lib);
    let bridge = Bridge::start(core.clone(), Arc::new(|| {}));
    let state = AppState::new(core.device().name, tmp.path().to_owned(), opened);
    let app = CairnApp::new(bridge, state, Some(core.clone()));
    let mut h = Harness::builder()
        .with_size(eframe::egui::vec2(1000.0, 700.0))
        .build_ui_state(|ui, app: &mut CairnApp| app.show(ui), app);

    step_until(&mut h, "\u{201c}My Library\u{201d} has no locations yet");
    step_until(&mut h, "My Library (default)");

    h.get_by_label("New library…").click();
    step_until(&mut h, "Name");
    h.get_by_label("Name").type_text("Holiday photos");
    h.step();
    h.get_by_label("Create").click();
    step_until(
        &mut h,
        "\u{201c}Holiday photos\u{201d} has no locations yet",
    );
    assert_eq!(core.library().unwrap().config().name, "Holiday photos");
}

#[test]
fn jobs_drawer_shows_a_job_reaching_completion() {
    let tmp = tempfile::tempdir().unwrap();
    let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
    let lib = core.open_library(None).unwrap();
    let opened = Ok((lib.config(), lib.path().to_owned()));
    let bridge = Bridge::start(core.clone(), Arc::new(|| {}));
    let state = AppState::new(core.device().name, tmp.path().to_owned(), opened);
    let mut h = Harness::builder()
        .with_size(eframe::egui::vec2(1000.0, 700.0))
        .build_ui_state(
            |ui, app: &mut CairnApp| app.show(ui),
            CairnApp::new(bridge, state, None),
        );
    step_until(
        &mut h,
        "No jobs yet. Indexing and other long work will show here.",
    );
    lib.jobs()
        .spawn(cairn::vdfs::jobs::diagnostic::DiagnosticJob::new(10, 5))
        .unwrap();
    step_until(&mut h, "Diagnostic: 10 batches");
    step_until_contains(&mut h, "10 batches committed");
    step_until(&mut h, "completed");
}
