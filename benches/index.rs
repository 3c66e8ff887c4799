//! Criterion benchmarks of the index's lookups (issue "Index model v4", targets):
//! `entry_at` of the last file of a 100,000-entry folder (one `get` of the name key per path
//! component), `entry_by_uuid` (one `get` of the UUID key), and a folder listing. Besides
//! criterion's estimates, prints the p50/p99 of 20,000 single lookups, the figure the target
//! names.

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Instant;

use cairn::vdfs::fs::rules::Rules;
use cairn::vdfs::index::location::IndexMode;
use cairn::vdfs::jobs::JobStatus;
use cairn::vdfs::{Core, CoreOptions};
use criterion::{Criterion, criterion_group};

const FILES: usize = 100_000;

fn lookups(c: &mut Criterion) {
    let tree = tempfile::tempdir().unwrap();
    let big = tree.path().join("big");
    std::fs::create_dir(&big).unwrap();
    for i in 0..FILES {
        std::fs::File::create(big.join(format!("file-{i:06}.dat"))).unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let core = Core::start(CoreOptions::at(data.path())).unwrap();
    let lib = core.open_library(None).unwrap();
    let (_, h) = lib
        .add_location(tree.path(), IndexMode::Shallow, Rules::none())
        .unwrap();
    assert_eq!(h.wait(), JobStatus::Completed);
    let root = std::fs::canonicalize(tree.path()).unwrap();
    let last = root.join("big").join(format!("file-{:06}.dat", FILES - 1));
    let found = lib.entry_at(&last).unwrap().expect("indexed");
    let uuid = found.record.uuid;

    // The target's figure: percentiles of single lookups.
    let mut times: Vec<f64> = (0..20_000)
        .map(|_| {
            let t = Instant::now();
            black_box(lib.entry_at(black_box(&last)).unwrap());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "entry_at(last of {FILES}-entry folder): p50 {:.4} ms, p99 {:.4} ms, max {:.4} ms (20,000 lookups)",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );

    let mut g = c.benchmark_group("index");
    g.bench_function("entry_at/last-of-100k-folder", |b| {
        b.iter(|| lib.entry_at(black_box(&last)).unwrap())
    });
    g.bench_function("entry_by_uuid", |b| {
        b.iter(|| lib.entry_by_uuid(black_box(uuid)).unwrap())
    });
    g.sample_size(10);
    g.bench_function("children/100k-folder", |b| {
        b.iter(|| lib.children(black_box(found.record.parent)).unwrap().len())
    });
    g.finish();
}

criterion_group!(benches, lookups);

fn main() {
    support::refuse_test_build();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
