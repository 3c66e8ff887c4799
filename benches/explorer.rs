//! Explorer speed, driving the real app headless (egui `Context::run_ui` + tessellation, no
//! GPU): time to first rows after navigating into a 100 000-entry folder (from the index and
//! from the disk), CPU time per frame while scrolling it, CPU time per frame while scrolling
//! the grid of 100 000 pictures as their thumbnails arrive, resident memory with a large
//! library open, and the wall time of frames (paced at 60 Hz, scrolling) while a verified copy
//! runs in the same process (20,000 files of 4 KiB and one of 1 GiB, copied into a scratch
//! folder beside them and removed afterwards).
//!
//! ```text
//! cargo bench --bench explorer            # BENCH_DIR defaults to ~/.cache/cairn/bench
//! ```
//!
//! It creates `$BENCH_DIR/flat100k/` (100 000 empty files) once, and a library in
//! `$BENCH_DIR/data/explorer` indexing it. If `$BENCH_DIR/L` exists (gen_tree's 1M tree) it
//! is indexed into the same library too, so memory is measured with > 1M entries open.

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn::ui::bridge::Bridge;
use cairn::ui::{AppState, CairnApp};
use cairn::vdfs::fs::rules::Rules;
use cairn::vdfs::index::location::IndexMode;
use cairn::{Core, CoreOptions};
use eframe::egui;

const FILES: usize = 100_000;

fn bench_dir() -> PathBuf {
    std::env::var_os("BENCH_DIR").map_or_else(
        || {
            directories::UserDirs::new()
                .expect("home")
                .home_dir()
                .join(".cache/cairn/bench")
        },
        PathBuf::from,
    )
}

fn ensure_flat(dir: &Path) {
    let done = dir.join(".complete");
    if done.exists() {
        return;
    }
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..FILES {
        std::fs::write(dir.join(format!("photo-{i:06}.jpg")), b"").unwrap();
    }
    std::fs::write(done, b"").unwrap();
}

/// `FILES` pictures (made once): hard links to two small JPEGs (a file system allows some
/// tens of thousands of links to one file), each name its own thumbnail.
fn ensure_pictures(dir: &Path) {
    let done = dir.join(".complete");
    if done.exists() {
        return;
    }
    std::fs::create_dir_all(dir).unwrap();
    let originals = [dir.join(".original-a.jpg"), dir.join(".original-b.jpg")];
    for (n, o) in originals.iter().enumerate() {
        let img = image::RgbImage::from_fn(160, 120, |x, y| {
            image::Rgb([(x * 3) as u8, (y * 2) as u8, if n == 0 { 200 } else { 40 }])
        });
        img.save(o).unwrap();
    }
    for i in 0..FILES {
        let link = dir.join(format!("picture-{i:06}.jpg"));
        if !link.exists() {
            std::fs::hard_link(&originals[i % 2], link).unwrap();
        }
    }
    std::fs::write(done, b"").unwrap();
}

/// The copy's source: 20,000 files of 4 KiB in 20 folders and one 1 GiB file (made once).
fn ensure_copy_source(dir: &Path) {
    let done = dir.join(".complete");
    if done.exists() {
        return;
    }
    for d in 0..20 {
        let sub = dir.join(format!("d{d:02}"));
        std::fs::create_dir_all(&sub).unwrap();
        for i in 0..1000 {
            let body = vec![(d * 7 + i) as u8; 4096];
            std::fs::write(sub.join(format!("f{i:04}.bin")), body).unwrap();
        }
    }
    let mut big = std::fs::File::create(dir.join("big.bin")).unwrap();
    let chunk: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
        .collect();
    for _ in 0..1024 {
        std::io::Write::write_all(&mut big, &chunk).unwrap();
    }
    std::fs::write(done, b"").unwrap();
}

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Frame {
    ctx: egui::Context,
    time: f64,
}

impl Frame {
    fn new() -> Frame {
        Frame {
            ctx: egui::Context::default(),
            time: 0.0,
        }
    }

    /// Runs one whole-app frame with `events`; returns its CPU time (layout + tessellation).
    fn run(&mut self, app: &mut CairnApp, events: Vec<egui::Event>) -> Duration {
        self.time += 1.0 / 60.0;
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1600.0, 1000.0),
            )),
            time: Some(self.time),
            events,
            ..Default::default()
        };
        let t = Instant::now();
        let out = self.ctx.run_ui(input, |ui| app.show(ui));
        let _ = self.ctx.tessellate(out.shapes, out.pixels_per_point);
        t.elapsed()
    }
}

/// Frame `i` of a scroll over `at`: the wheel 400 points down for 150 frames, then up.
fn scroll(at: egui::Pos2, i: usize) -> Vec<egui::Event> {
    let dy = if (i / 150).is_multiple_of(2) {
        -400.0
    } else {
        400.0
    };
    vec![
        egui::Event::PointerMoved(at),
        egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, dy),
            phase: egui::TouchPhase::Move,
            modifiers: egui::Modifiers::NONE,
            source: egui::MouseWheelSource::Wheel,
        },
    ]
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Navigates into `folder` and returns (time to first drawn rows, time to all rows).
fn first_rows(app: &mut CairnApp, frame: &mut Frame, folder: &Path) -> (Duration, Duration) {
    app.go(folder.to_owned());
    let start = Instant::now();
    let mut first = None;
    loop {
        frame.run(app, Vec::new());
        let e = &app.state().explorer;
        if first.is_none() && !e.order.is_empty() {
            first = Some(start.elapsed());
        }
        if !e.loading && e.order.len() >= FILES {
            return (first.unwrap_or(start.elapsed()), start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(60) {
            panic!("listing never completed");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The explorer window on `lib`, with its first frames run (nothing shown yet).
fn explorer(core: &Core, lib: &cairn::vdfs::Library, home: &Path) -> (CairnApp, Frame) {
    let opened = Ok((lib.config(), lib.path().to_owned()));
    let bridge = Bridge::start(core.clone(), Arc::new(|| {}));
    let mut state = AppState::new(core.device().name, home.to_owned(), opened);
    state.start_folder = None;
    let mut app = CairnApp::new(bridge, state, None);
    let mut frame = Frame::new();
    for _ in 0..5 {
        frame.run(&mut app, Vec::new());
    }
    (app, frame)
}

/// [`first_rows`] of `folder` five times, leaving for another folder in between.
fn first_rows_five_times(
    app: &mut CairnApp,
    frame: &mut Frame,
    folder: &Path,
) -> Vec<(Duration, Duration)> {
    let mut out = Vec::new();
    for _ in 0..5 {
        out.push(first_rows(app, frame, folder));
        app.go(std::env::temp_dir());
        std::thread::sleep(Duration::from_millis(50));
    }
    out
}

fn main() {
    support::refuse_test_build();
    let base = bench_dir();
    let flat = base.join("flat100k");
    ensure_flat(&flat);
    let data = base.join("data/explorer");
    let core = Core::start(CoreOptions::at(&data)).unwrap();
    let lib = core.open_library(None).unwrap();
    let canon = std::fs::canonicalize(&flat).unwrap();
    let mut roots = vec![canon.clone()];
    if base.join("L").is_dir() {
        roots.push(std::fs::canonicalize(base.join("L")).unwrap());
    }
    for r in &roots {
        if !lib.locations().unwrap().iter().any(|l| &l.path() == r) {
            eprintln!("indexing {} (once)…", r.display());
            let (_, h) = lib
                .add_location(r, IndexMode::Shallow, Rules::none())
                .unwrap();
            h.wait();
        }
    }
    let entries = lib.index_counts().unwrap().entries;
    let (mut app, mut frame) = explorer(&core, &lib, &data);
    drop(lib);

    // From the index.
    let mut idx = first_rows_five_times(&mut app, &mut frame, &canon);
    // From the disk: a copy of the folder outside any location is too costly to make, so
    // the same folder is listed after its location is forgotten in a scratch library.
    let scratch = tempfile::tempdir().unwrap();
    let core2 = Core::start(CoreOptions::at(scratch.path())).unwrap();
    let lib2 = core2.open_library(None).unwrap();
    let (mut app2, mut frame2) = explorer(&core2, &lib2, scratch.path());
    let mut disk = first_rows_five_times(&mut app2, &mut frame2, &canon);
    drop(app2);

    // Scrolling the indexed folder: mouse-wheel events over the list, 600 frames.
    first_rows(&mut app, &mut frame, &canon);
    for _ in 0..10 {
        frame.run(&mut app, Vec::new());
    }
    let mut frames = Vec::new();
    let over_list = egui::pos2(700.0, 500.0);
    for i in 0..600 {
        frames.push(frame.run(&mut app, scroll(over_list, i)));
    }
    let idle = frame.run(&mut app, Vec::new());
    let rss = rss_mb();

    // The grid of a folder of 100,000 pictures, listed from the disk: CPU time of each frame
    // (paced at 60 Hz) while the wheel scrolls it and thumbnails are made on the window's two
    // threads and uploaded as they arrive.
    let pictures = base.join("pictures100k");
    ensure_pictures(&pictures);
    let pictures = std::fs::canonicalize(&pictures).unwrap();
    let (mut app3, mut frame3) = explorer(&core2, &lib2, scratch.path());
    first_rows(&mut app3, &mut frame3, &pictures);
    let ctrl_g = egui::Event::Key {
        key: egui::Key::G,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: egui::Modifiers::COMMAND,
    };
    frame3.run(&mut app3, vec![ctrl_g]);
    for _ in 0..30 {
        frame3.run(&mut app3, Vec::new());
        std::thread::sleep(Duration::from_micros(16_667));
    }
    let mut grid_frames = Vec::new();
    for i in 0..600 {
        let took = frame3.run(&mut app3, scroll(over_list, i));
        grid_frames.push(took);
        std::thread::sleep(Duration::from_micros(16_667).saturating_sub(took));
    }
    let grid_thumbs = app3.state().thumbs.values().filter(|t| t.is_some()).count();
    drop(app3);

    // Frames while a verified copy runs (the jobs drawer shows its progress): wall time of
    // each frame, paced at 60 Hz, scrolling as above.
    let source = base.join("copy-source");
    ensure_copy_source(&source);
    let dest = base.join("copy-dest");
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(&dest).unwrap();
    let lib = core.library().unwrap();
    let preview = lib
        .preview(
            &cairn::vdfs::actions::Request::new(
                cairn::vdfs::actions::OpKind::Copy,
                vec![source.clone()],
            )
            .to(&dest),
        )
        .unwrap();
    let started = Instant::now();
    let cairn::vdfs::actions::Committed::Job { handle, .. } = lib.commit(&preview).unwrap() else {
        panic!("a copy is a job");
    };
    let mut busy = Vec::new();
    let mut i = 0;
    while handle.wait_timeout(Duration::ZERO).is_none() {
        let t = Instant::now();
        frame.run(&mut app, scroll(over_list, i));
        i += 1;
        let took = t.elapsed();
        busy.push(took);
        std::thread::sleep(Duration::from_micros(16_667).saturating_sub(took));
    }
    let copy_secs = started.elapsed().as_secs_f64();
    drop(lib);
    let _ = std::fs::remove_dir_all(&dest);

    // Frames while an archive of 10,000 files is extracted into a watched location shown in
    // the window (the live index writes it and the window lists it again as it grows).
    let archive = ensure_archive(&base);
    let live = base.join("live-extract");
    let _ = std::fs::remove_dir_all(&live);
    std::fs::create_dir_all(&live).unwrap();
    let live = std::fs::canonicalize(&live).unwrap();
    let lib = core.library().unwrap();
    // Left by an earlier run that stopped half-way.
    for l in lib.locations().unwrap() {
        if l.path() == live {
            lib.remove_location(l.id).unwrap();
        }
    }
    let (_, h) = lib
        .add_location(&live, IndexMode::Shallow, Rules::none())
        .unwrap();
    h.wait();
    lib.start_watching_with(false).unwrap();
    while lib.watch_status().values().all(|s| s.watched == 0) {
        std::thread::sleep(Duration::from_millis(10));
    }
    app.go(live.clone());
    for _ in 0..20 {
        frame.run(&mut app, Vec::new());
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut tar = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&live)
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut extracting = Vec::new();
    let mut tar_secs = None;
    let mut i = 0;
    loop {
        let t = Instant::now();
        frame.run(&mut app, scroll(over_list, i));
        i += 1;
        let took = t.elapsed();
        extracting.push(took);
        if tar_secs.is_none() && tar.try_wait().unwrap().is_some() {
            tar_secs = Some(started.elapsed().as_secs_f64());
        }
        if tar_secs.is_some() {
            let root = lib.entry_at(&live).unwrap().unwrap();
            let s = lib.dir_stats(root.id).unwrap().unwrap_or_default();
            if s.files + s.dirs + s.symlinks >= ARCHIVE_ENTRIES {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(16_667).saturating_sub(took));
    }
    let live_secs = started.elapsed().as_secs_f64();
    lib.stop_watching();
    let live_id = lib.entry_at(&live).unwrap().unwrap().location.id;
    lib.remove_location(live_id).unwrap();
    drop(lib);
    let _ = std::fs::remove_dir_all(&live);

    let med = |v: &mut Vec<(Duration, Duration)>, f: fn(&(Duration, Duration)) -> Duration| {
        let mut x: Vec<Duration> = v.iter().map(f).collect();
        percentile(&mut x, 0.5)
    };
    println!("library entries open: {entries}");
    println!(
        "navigate into {FILES} entries, from the index: first rows {:.1} ms (median of 5), all rows {:.1} ms",
        med(&mut idx, |x| x.0).as_secs_f64() * 1e3,
        med(&mut idx, |x| x.1).as_secs_f64() * 1e3
    );
    println!(
        "navigate into {FILES} entries, from the disk:  first rows {:.1} ms (median of 5), all rows {:.1} ms",
        med(&mut disk, |x| x.0).as_secs_f64() * 1e3,
        med(&mut disk, |x| x.1).as_secs_f64() * 1e3
    );
    println!(
        "scrolling frame (layout + tessellation): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} frames; idle frame {:.2} ms",
        percentile(&mut frames, 0.5).as_secs_f64() * 1e3,
        percentile(&mut frames, 0.99).as_secs_f64() * 1e3,
        percentile(&mut frames, 1.0).as_secs_f64() * 1e3,
        frames.len(),
        idle.as_secs_f64() * 1e3
    );
    println!("resident memory with the folder shown: {rss:.0} MB");
    println!(
        "grid of {FILES} pictures (from the disk), scrolling at 60 Hz: frame p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} frames; {grid_thumbs} thumbnails shown",
        percentile(&mut grid_frames, 0.5).as_secs_f64() * 1e3,
        percentile(&mut grid_frames, 0.99).as_secs_f64() * 1e3,
        percentile(&mut grid_frames, 1.0).as_secs_f64() * 1e3,
        grid_frames.len(),
    );
    println!(
        "frame wall time while a verified copy of 20,000 files + 1 GiB runs ({copy_secs:.1} s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} frames",
        percentile(&mut busy, 0.5).as_secs_f64() * 1e3,
        percentile(&mut busy, 0.99).as_secs_f64() * 1e3,
        percentile(&mut busy, 1.0).as_secs_f64() * 1e3,
        busy.len(),
    );
    println!(
        "frame wall time while {ARCHIVE_ENTRIES} entries are extracted into a watched folder shown (tar {:.2} s, all indexed {live_secs:.2} s after tar started): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} frames",
        tar_secs.unwrap_or_default(),
        percentile(&mut extracting, 0.5).as_secs_f64() * 1e3,
        percentile(&mut extracting, 0.99).as_secs_f64() * 1e3,
        percentile(&mut extracting, 1.0).as_secs_f64() * 1e3,
        extracting.len(),
    );
}

/// Entries below the extraction folder once the archive of [`ensure_archive`] is extracted
/// (10,000 files and their folders).
const ARCHIVE_ENTRIES: u64 = 10_000 + 21;

/// An archive of 10,000 small files in 20 folders below one (made once).
fn ensure_archive(base: &Path) -> PathBuf {
    let archive = base.join("live-10k.tar");
    if archive.is_file() {
        return archive;
    }
    let src = tempfile::tempdir().unwrap();
    for i in 0..10_000 {
        let dir = src
            .path()
            .join("extract")
            .join(format!("part{:02}", i % 20));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("file{i:05}.c")),
            format!("/* {i} */\n").repeat(40),
        )
        .unwrap();
    }
    let ok = std::process::Command::new("tar")
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(src.path())
        .arg("extract")
        .status()
        .unwrap()
        .success();
    assert!(ok, "tar could not make {}", archive.display());
    archive
}
