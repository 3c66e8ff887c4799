//! Durable jobs: kill -9 and resume, pause, resume, cancel.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use cairn::vdfs::jobs::JobStatus;
use cairn::vdfs::jobs::diagnostic::DiagnosticJob;
use cairn::{Core, CoreOptions};

use crate::common::{cairn, json, ok};

/// Starts a diagnostic job in a child process and SIGKILLs it once at least `kill_after`
/// batches are committed. Returns the job id.
fn run_and_kill(data: &std::path::Path, args: &[&str], kill_after: u64) -> u64 {
    let mut child = cairn(data)
        .arg("--json")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut job = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        job = v["job"].as_u64().unwrap();
        if v["event"] == "job_progress"
            && v["progress"]["completed"].as_u64().unwrap() >= kill_after
        {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    job
}

#[test]
fn a_job_killed_with_sigkill_resumes_and_runs_every_batch_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    const N: u64 = 60;
    let job = run_and_kill(
        data,
        &[
            "debug",
            "diagnostic-job",
            "--batches",
            &N.to_string(),
            "--batch-ms",
            "15",
        ],
        8,
    );
    // Killed mid-way: found as interrupted on the next start, with its checkpoint kept.
    let list = json(&ok(cairn(data).args(["--json", "jobs", "list"])));
    assert_eq!(list[0]["id"], job);
    assert_eq!(list[0]["status"], "interrupted");
    let done_before = list[0]["checkpoints"].as_u64().unwrap();
    assert!((8..N).contains(&done_before), "checkpoints {done_before}");

    // Kill it twice more while resuming, then let it finish.
    for kill_after in [25, 40] {
        run_and_kill(data, &["jobs", "resume", &job.to_string()], kill_after);
    }
    ok(cairn(data).args(["jobs", "resume", "--all"]));

    let report = json(&ok(cairn(data).args([
        "--json",
        "debug",
        "diagnostic-report",
        &job.to_string(),
    ])));
    let batches = report["batches"].as_object().unwrap();
    assert_eq!(batches.len() as u64, N, "{report}");
    for (batch, count) in batches {
        assert_eq!(count, 1, "batch {batch} committed {count} times");
    }
    let list = json(&ok(cairn(data).args(["--json", "jobs", "list", "--all"])));
    assert_eq!(list[0]["status"], "completed");
    assert_eq!(list[0]["checkpoints"], N);
}

fn wait_for(mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("condition not reached in 5 s");
}

#[test]
fn pause_resume_and_cancel_in_process() {
    let tmp = tempfile::tempdir().unwrap();
    let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
    let lib = core.open_library(None).unwrap();
    let jobs = lib.jobs();

    let h = jobs.spawn(DiagnosticJob::new(200, 5)).unwrap();
    wait_for(|| jobs.get(h.id()).unwrap().checkpoints >= 3);
    jobs.pause(h.id()).unwrap();
    assert_eq!(h.wait(), JobStatus::Paused);
    let paused = jobs.get(h.id()).unwrap();
    assert_eq!(paused.status, JobStatus::Paused);
    assert!(paused.checkpoints < 200);
    // Paused jobs stay paused across a reopen; they are not resumed on their own.
    drop(lib);
    core.close_library();
    let lib = core.open_library(None).unwrap();
    let jobs = lib.jobs();
    assert_eq!(jobs.get(h.id()).unwrap().status, JobStatus::Paused);

    let h = jobs.resume(h.id()).unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    let counts = lib.diagnostic_batch_counts(h.id()).unwrap();
    assert_eq!(counts.len(), 200);
    assert!(counts.values().all(|&c| c == 1));
    assert!(
        jobs.resume(h.id()).is_err(),
        "a completed job cannot be resumed"
    );

    let c = jobs.spawn(DiagnosticJob::new(1000, 5)).unwrap();
    wait_for(|| jobs.get(c.id()).unwrap().checkpoints >= 1);
    jobs.cancel(c.id()).unwrap();
    assert_eq!(c.wait(), JobStatus::Cancelled);
    assert_eq!(jobs.get(c.id()).unwrap().status, JobStatus::Cancelled);
    assert!(jobs.pause(c.id()).is_err());
}

#[test]
fn closing_the_library_interrupts_jobs_and_reopening_resumes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let id = {
        let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
        let lib = core.open_library(None).unwrap();
        let h = lib.jobs().spawn(DiagnosticJob::new(100, 5)).unwrap();
        wait_for(|| lib.jobs().get(h.id()).unwrap().checkpoints >= 2);
        drop(lib);
        core.close_library();
        assert_eq!(h.wait(), JobStatus::Interrupted);
        h.id()
    };
    let core = Core::start(CoreOptions {
        resume_jobs: true,
        ..CoreOptions::at(tmp.path())
    })
    .unwrap();
    let lib = core.open_library(None).unwrap();
    let h = lib.jobs().handle(id).expect("resumed on open");
    assert_eq!(h.wait(), JobStatus::Completed);
    let counts = lib.diagnostic_batch_counts(id).unwrap();
    assert_eq!(counts.len(), 100);
    assert!(counts.values().all(|&c| c == 1));
}

#[test]
fn progress_events_are_throttled() {
    let tmp = tempfile::tempdir().unwrap();
    let core = Core::start(CoreOptions::at(tmp.path())).unwrap();
    let lib = core.open_library(None).unwrap();
    let mut rx = core.events().subscribe();
    let h = lib.jobs().spawn(DiagnosticJob::new(100, 2)).unwrap();
    h.wait();
    let mut progress = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let cairn::Event::JobProgress { progress: p, .. } = e {
            progress.push(p.completed);
        }
    }
    // 100 checkpoints over ≥200 ms give a handful of events, not 100; the last one is final.
    assert!(
        progress.len() >= 2 && progress.len() <= 40,
        "{} events",
        progress.len()
    );
    assert_eq!(progress.last(), Some(&100));
    assert!(progress.windows(2).all(|w| w[0] < w[1]));
}

/// Records when each run of a [`Writer`] job started and ended.
static RUNS: std::sync::Mutex<Vec<(u32, u64, std::time::Instant, std::time::Instant)>> =
    std::sync::Mutex::new(Vec::new());

/// A test job that "writes" one location for a while.
#[derive(serde::Serialize, serde::Deserialize)]
struct Writer {
    location: u32,
    tag: u64,
}

impl cairn::vdfs::jobs::Job for Writer {
    const KIND: &'static str = "test-writer";

    fn title(&self) -> String {
        format!("write location {}", self.location)
    }

    fn resources(&self) -> Vec<cairn::vdfs::jobs::Resource> {
        vec![cairn::vdfs::jobs::Resource::Location(self.location)]
    }

    fn run(
        &mut self,
        ctx: &mut cairn::vdfs::jobs::JobContext,
    ) -> Result<String, cairn::vdfs::jobs::JobError> {
        let start = std::time::Instant::now();
        std::thread::sleep(Duration::from_millis(300));
        ctx.checkpoint(self, |_| Ok(()))?;
        RUNS.lock()
            .unwrap()
            .push((self.location, self.tag, start, std::time::Instant::now()));
        Ok("done".into())
    }
}

/// Two jobs that write the same location never run at once (the later one waits and says
/// for which job); jobs on different locations run side by side.
#[test]
fn jobs_writing_one_location_take_turns() {
    let data = tempfile::tempdir().unwrap();
    let core = Core::start(CoreOptions::at(data.path())).unwrap();
    let lib = core.open_library(None).unwrap();
    let mut events = core.events().subscribe();
    let a = lib
        .jobs()
        .spawn(Writer {
            location: 7,
            tag: 1,
        })
        .unwrap();
    let b = lib
        .jobs()
        .spawn(Writer {
            location: 7,
            tag: 2,
        })
        .unwrap();
    let c = lib
        .jobs()
        .spawn(Writer {
            location: 8,
            tag: 3,
        })
        .unwrap();
    for h in [&a, &b, &c] {
        assert_eq!(h.wait(), JobStatus::Completed);
    }
    let runs: Vec<_> = RUNS
        .lock()
        .unwrap()
        .iter()
        .filter(|r| [1, 2, 3].contains(&r.1))
        .cloned()
        .collect();
    let of = |tag| *runs.iter().find(|r| r.1 == tag).unwrap();
    let (r1, r2, r3) = (of(1), of(2), of(3));
    let overlap =
        |x: (u32, u64, std::time::Instant, std::time::Instant),
         y: (u32, u64, std::time::Instant, std::time::Instant)| { x.2 < y.3 && y.2 < x.3 };
    assert!(!overlap(r1, r2), "the two writers of location 7 overlapped");
    assert!(
        overlap(r1, r3) || overlap(r2, r3),
        "location 8 waited for location 7"
    );
    // The one that waited said so.
    let mut waited = false;
    while let Ok(e) = events.try_recv() {
        if let cairn::Event::JobProgress { progress, .. } = e
            && progress.phase == "waiting"
            && progress.message.contains("writes the same location")
        {
            waited = true;
        }
    }
    assert!(waited);
}
