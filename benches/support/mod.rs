//! What every benchmark binary shares.

/// The benches measure optimised code: under `cargo bench` without `--profile release`, Cairn's
/// crate is built as for the tests (opt-level 1, debug assertions), so refuse (exit 2) rather
/// than report misleading figures.
pub fn refuse_test_build() {
    if cfg!(debug_assertions) {
        eprintln!(
            "run the benchmarks with `cargo bench --profile release` (this build has debug assertions)"
        );
        std::process::exit(2);
    }
}
