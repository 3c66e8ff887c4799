//! Criterion benchmarks of the indexer's hot parts: the sampled hash, file-type
//! identification and the parallel walk. The end-to-end comparisons with find, fd and b3sum
//! are in `vs-anchors.sh`.

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;

use cairn::vdfs::content::filetype::Registry;
use cairn::vdfs::content::{cas_id_of_bytes, sample_file};
use cairn::vdfs::fs::rules::{Compiled, Rules};
use cairn::vdfs::fs::walk::{WalkOptions, walk};
use criterion::{Criterion, Throughput, criterion_group};

fn hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("cas_id");
    for size in [4 * 1024usize, 100 * 1024, 8 << 20] {
        let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(format!("bytes/{size}"), |b| {
            b.iter(|| cas_id_of_bytes(black_box(&data)))
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 32 << 20]).unwrap();
    g.throughput(Throughput::Elements(1));
    g.bench_function("file/32MiB-sampled", |b| {
        b.iter(|| sample_file(black_box(&big)).unwrap())
    });
    g.finish();
}

fn identify(c: &mut Criterion) {
    let r = Registry::builtin();
    let cases: Vec<(&[u8], &[u8])> = vec![
        (b"IMG_1234.JPG", b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"),
        (b"main.rs", b"fn main() {}\n"),
        (b"noext", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
        (b"README", b"plain words of text\n"),
        (b"archive.tar.gz", b"\x1f\x8b\x08\x00"),
    ];
    c.bench_function("identify/5-files", |b| {
        b.iter(|| {
            for (name, head) in &cases {
                black_box(r.identify(name, Some(head)));
            }
        })
    });
    c.bench_function("identify/extension-only", |b| {
        b.iter(|| r.identify(black_box(b"photo.jpeg"), None))
    });
}

fn walking(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for d in 0..100 {
        let sub = dir.path().join(format!("d{d}/sub"));
        std::fs::create_dir_all(&sub).unwrap();
        for f in 0..100 {
            std::fs::write(sub.join(format!("f{f}.txt")), b"x").unwrap();
        }
    }
    let opts = WalkOptions::new(Compiled::new(&Rules::none()).unwrap());
    let mut g = c.benchmark_group("walk");
    g.throughput(Throughput::Elements(10_201));
    g.bench_function("10k-entries-stat", |b| {
        b.iter(|| walk(dir.path(), &opts).unwrap().len())
    });
    g.finish();
}

criterion_group!(benches, hashing, identify, walking);

fn main() {
    support::refuse_test_build();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
