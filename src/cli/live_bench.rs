//! `cairn debug live-bench`: the live index's figures on a real location, in this process
//! (see `DebugCommand::LiveBench`). Every figure is measured here, none is assumed.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::vdfs::Library;
use crate::vdfs::jobs::JobStatus;

/// Resident memory of this process in bytes (`VmRSS` of `/proc/self/status`).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// CPU time of this process (user + system) in ms, from `/proc/self/stat` (clock ticks of
/// 10 ms on Linux).
fn cpu_ms() -> u64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = s.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (t(11) + t(12)) * 10
}

fn wait_until(
    what: &str,
    limit: Duration,
    mut cond: impl FnMut() -> bool,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > limit {
            anyhow::bail!("{what} did not happen within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(start.elapsed())
}

/// The value at fraction `p` (0 to 1) of `sorted` (nearest rank); 0 when empty.
pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn no_job_running(lib: &Library) -> bool {
    lib.jobs()
        .list()
        .is_ok_and(|l| l.iter().all(|j| j.finished_ms.is_some()))
}

/// Entries below `dir` (not `dir` itself), counted on disk.
fn count_below(dir: &Path) -> u64 {
    let mut n = 0;
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            n += 1;
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(e.path());
            }
        }
    }
    n
}

/// Entries below `dir` in the index, from its folder totals (0 if it is not indexed).
fn indexed_below(lib: &Library, dir: &Path) -> u64 {
    match lib.entry_at(dir) {
        Ok(Some(e)) => lib
            .dir_stats(e.id)
            .ok()
            .flatten()
            .map_or(0, |s| s.files + s.dirs + s.symlinks),
        _ => 0,
    }
}

/// Runs the benchmark; see the module docs.
///
/// # Errors
/// A step that did not happen within its time limit, or an I/O error in the location.
pub fn run(
    lib: &Library,
    id: u32,
    n: usize,
    tar: Option<&Path>,
    catch_up: bool,
    warm: bool,
) -> anyhow::Result<Value> {
    let root = lib.location(id)?.path();
    lib.stop_watching();
    wait_until("the jobs to end", Duration::from_secs(3600), || {
        no_job_running(lib)
    })?;
    if warm {
        let h = lib.rescan(id)?;
        anyhow::ensure!(
            h.wait() == JobStatus::Completed,
            "the rescan did not complete"
        );
    }
    // The search name index, built before the changes (a search after them follows them by an
    // overlay, see below).
    let t = Instant::now();
    lib.name_index()?;
    let name_index_build_ms = t.elapsed().as_millis() as u64;
    let probe = crate::vdfs::query::search::Query {
        text: "report".into(),
        limit: 100,
        ..Default::default()
    };
    let t = Instant::now();
    lib.search(&probe)?;
    let search_unchanged_ms = t.elapsed().as_secs_f64() * 1000.0;
    std::thread::sleep(Duration::from_millis(500));
    let rss_before = rss();
    let t = Instant::now();
    lib.start_watching_with(false)?;
    let setup = wait_until("the watches", Duration::from_secs(600), || {
        lib.watch_status()
            .get(&id)
            .is_some_and(|s| s.watched > 0 && s.catching_up == 0)
    })?;
    let _ = t;
    std::thread::sleep(Duration::from_millis(500));
    let status = lib.watch_status().get(&id).cloned().unwrap_or_default();
    let rss_after = rss();
    // Idle: no event, no timer.
    let cpu0 = cpu_ms();
    std::thread::sleep(Duration::from_secs(5));
    let idle_cpu_ms = cpu_ms() - cpu0;

    // Latency, one file at a time.
    let dir = root.join("live-bench-latency");
    std::fs::create_dir_all(&dir)?;
    wait_until("the bench folder", Duration::from_secs(10), || {
        lib.entry_at(&dir).is_ok_and(|e| e.is_some())
    })?;
    std::thread::sleep(Duration::from_millis(200));
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let p = dir.join(format!("f{i:05}.txt"));
        let t = Instant::now();
        std::fs::write(&p, b"live")?;
        wait_until("an entry", Duration::from_secs(10), || {
            lib.entry_at(&p).is_ok_and(|e| e.is_some())
        })?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(30));
    }
    lat.sort_by(f64::total_cmp);
    std::fs::remove_dir_all(&dir)?;
    wait_until("the bench folder to go", Duration::from_secs(10), || {
        lib.entry_at(&dir).is_ok_and(|e| e.is_none())
    })?;

    // A search after those 400 changes (200 files made, then their folder removed): by
    // overlay when the live index recorded them all, else a rebuild.
    let names_file = lib.path().join("cache").join("names.idx");
    let before_gen = crate::vdfs::query::search::names::file_generation(&names_file);
    let t = Instant::now();
    lib.search(&probe)?;
    let search_after_changes_ms = t.elapsed().as_secs_f64() * 1000.0;
    let rebuilt = crate::vdfs::query::search::names::file_generation(&names_file) != before_gen;
    let mut report = json!({
        "location": root.to_string_lossy(),
        "baseline": if warm { "after an unchanged rescan" } else { "right after opening the library" },
        "folders": status.folders,
        "watched": status.watched,
        "watch_setup_ms": setup.as_millis() as u64,
        "rss_before_mb": rss_before as f64 / 1e6,
        "rss_watching_mb": rss_after as f64 / 1e6,
        "rss_per_watched_folder_bytes": (rss_after.saturating_sub(rss_before)) / status.watched.max(1),
        "idle_cpu_ms_in_5s": idle_cpu_ms,
        "search": {
            "name_index_build_ms": name_index_build_ms,
            "unchanged_ms": search_unchanged_ms,
            "after_changes_ms": search_after_changes_ms,
            "rebuilt": rebuilt,
        },
        "latency_ms": {
            "n": n,
            "p50": percentile(&lat, 0.5),
            "p90": percentile(&lat, 0.9),
            "p99": percentile(&lat, 0.99),
            "max": lat.last().copied().unwrap_or(0.0),
        },
    });

    if let Some(archive) = tar {
        let into = root.join("live-bench-tar");
        std::fs::create_dir_all(&into)?;
        std::thread::sleep(Duration::from_millis(300));
        let t = Instant::now();
        let st = std::process::Command::new("tar")
            .arg("-xf")
            .arg(archive)
            .arg("-C")
            .arg(&into)
            .status()?;
        anyhow::ensure!(st.success(), "tar failed");
        let tar_ms = t.elapsed().as_millis() as u64;
        let want = count_below(&into);
        let after = wait_until("the extracted entries", Duration::from_secs(120), || {
            indexed_below(lib, &into) == want
        })?;
        let problems = lib.check_index()?;
        report["tar"] = json!({
            "entries": want,
            "tar_ms": tar_ms,
            "index_complete_after_tar_ms": after.as_millis() as u64,
            "index_sound": problems.is_empty(),
        });
        std::fs::remove_dir_all(&into)?;
        wait_until(
            "the extracted folder to go",
            Duration::from_secs(60),
            || lib.entry_at(&into).is_ok_and(|e| e.is_none()),
        )?;
    }

    if catch_up {
        lib.stop_watching();
        // An unchanged rescan.
        let t = Instant::now();
        let h = lib.rescan(id)?;
        anyhow::ensure!(
            h.wait() == JobStatus::Completed,
            "the rescan did not complete"
        );
        let rescan_ms = t.elapsed().as_millis() as u64;
        // 1,000 changes while nobody watches, in a folder of the bench's own (the location's
        // files are left alone): 500 files rewritten, 200 deleted, 300 created.
        let made = root.join("live-bench-catch-up");
        std::fs::create_dir_all(&made)?;
        for i in 0..700 {
            std::fs::write(made.join(format!("old{i}")), b"there before")?;
        }
        let h = lib.rescan(id)?;
        anyhow::ensure!(
            h.wait() == JobStatus::Completed,
            "the rescan did not complete"
        );
        std::thread::sleep(Duration::from_millis(20));
        for i in 0..500 {
            std::fs::write(made.join(format!("old{i}")), b"there before, changed")?;
        }
        for i in 500..700 {
            std::fs::remove_file(made.join(format!("old{i}")))?;
        }
        for i in 0..300 {
            std::fs::write(made.join(format!("new{i}")), b"made while closed")?;
        }
        let t = Instant::now();
        lib.start_watching()?;
        wait_until("the catch-up", Duration::from_secs(3600), || {
            lib.watch_status()
                .get(&id)
                .is_some_and(|s| s.catching_up == 0)
                && indexed_below(lib, &made) == 800
                && no_job_running(lib)
        })?;
        let catch_up_ms = t.elapsed().as_millis() as u64;
        // The index holds every change: the rewritten files' new sizes.
        let stale = (0..500)
            .filter(|i| {
                lib.entry_at(&made.join(format!("old{i}")))
                    .ok()
                    .flatten()
                    .is_none_or(|e| e.record.size != 21)
            })
            .count();
        report["catch_up"] = json!({
            "unchanged_rescan_ms": rescan_ms,
            "catch_up_ms": catch_up_ms,
            "ratio": catch_up_ms as f64 / rescan_ms.max(1) as f64,
            "rewritten_not_caught": stale,
        });
        std::fs::remove_dir_all(&made)?;
        wait_until("the catch-up folder to go", Duration::from_secs(60), || {
            lib.entry_at(&made).is_ok_and(|e| e.is_none())
        })?;
    }
    Ok(report)
}
