//! The store's floor for a first index (issue 14): what redb alone costs per insert, for
//! the shapes of rows a first index writes, in batches committed without waiting for the disk
//! as `FirstWrites` commits them (2,500 entries, doubling up to 20,000) and one durable commit
//! at the end. No Cairn code runs here: it is the least the store's writer thread can spend,
//! against which its measured time (`perf` of the `cairn-store-writer` thread) is compared.
//!
//! The rows, per entry: its record under an increasing `u64` id (~100 bytes), its name key
//! (parent id and name bytes, in key order) and its UUID key (an increasing version-7 UUID);
//! per file: its instance row, its content record (~80 bytes) and its content UUID key, all
//! keyed by the content's hash, so in random order (each batch sorted first, as the writer
//! sorts them). Prints the median and the spread of `ROUNDS` (default 7) runs of `N` entries
//! (default 83,485, half of them files: the Papirus icon theme's shape), in ns per insert and
//! in ms for the whole index.
//!
//! `cargo bench --profile release --bench store_floor [-- N ROUNDS]`

use std::time::Instant;

use redb::{Database, Durability, ReadableDatabase as _, TableDefinition};

const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");
const NAMES: TableDefinition<&[u8], u64> = TableDefinition::new("names");
const UUIDS: TableDefinition<u128, u64> = TableDefinition::new("uuids");
const INSTANCES: TableDefinition<(u64, u64), ()> = TableDefinition::new("instances");
const CONTENT: TableDefinition<u64, &[u8]> = TableDefinition::new("content");
const CONTENT_UUIDS: TableDefinition<u128, u64> = TableDefinition::new("content_uuids");

/// Nanoseconds spent in each kind of row, and in commits, for one run.
#[derive(Default, Clone, Copy)]
struct Spent {
    entries: f64,
    names: f64,
    uuids: f64,
    instances: f64,
    content: f64,
    content_uuids: f64,
    commits: f64,
}

/// A well-mixed 64-bit value (splitmix64's finaliser): stands in for a content hash.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Adds the time `f` takes to `slot` (ns).
fn timed(slot: &mut f64, f: impl FnOnce()) {
    let t = Instant::now();
    f();
    *slot += t.elapsed().as_nanos() as f64;
}

fn run(n: u64) -> Spent {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::builder()
        .set_cache_size(64 << 20)
        .create(dir.path().join("floor.redb"))
        .unwrap();
    let record = [7u8; 100];
    let content_record = [9u8; 80];
    let mut s = Spent::default();
    let (mut start, mut batch) = (0u64, 2_500u64);
    while start < n {
        let end = (start + batch).min(n);
        let mut tx = db.begin_write().unwrap();
        tx.set_durability(Durability::None).unwrap();
        {
            let mut t = tx.open_table(ENTRIES).unwrap();
            timed(&mut s.entries, || {
                for id in start..end {
                    t.insert(id, record.as_slice()).unwrap();
                }
            });
            let mut t = tx.open_table(NAMES).unwrap();
            let mut key = Vec::with_capacity(40);
            timed(&mut s.names, || {
                for id in start..end {
                    key.clear();
                    key.extend_from_slice(&(id / 1_000).to_be_bytes());
                    key.extend_from_slice(format!("icon-{id:08}-symbolic.svg").as_bytes());
                    t.insert(key.as_slice(), id).unwrap();
                }
            });
            let mut t = tx.open_table(UUIDS).unwrap();
            timed(&mut s.uuids, || {
                for id in start..end {
                    t.insert((u128::from(id) << 64) | 0x7000_8000_0000_0000, id)
                        .unwrap();
                }
            });
            // Half of the entries are files, each its own content.
            let mut cas: Vec<(u64, u64)> = (start..end)
                .filter(|id| id % 2 == 0)
                .map(|id| (mix(id), id))
                .collect();
            cas.sort_unstable();
            let mut t = tx.open_table(INSTANCES).unwrap();
            timed(&mut s.instances, || {
                for &(c, id) in &cas {
                    t.insert((c, id), ()).unwrap();
                }
            });
            let mut t = tx.open_table(CONTENT).unwrap();
            timed(&mut s.content, || {
                for &(c, _) in &cas {
                    t.insert(c, content_record.as_slice()).unwrap();
                }
            });
            let mut uuids: Vec<(u128, u64)> = cas
                .iter()
                .map(|&(c, _)| ((u128::from(mix(c)) << 64) | u128::from(c), c))
                .collect();
            uuids.sort_unstable();
            let mut t = tx.open_table(CONTENT_UUIDS).unwrap();
            timed(&mut s.content_uuids, || {
                for &(u, c) in &uuids {
                    t.insert(u, c).unwrap();
                }
            });
        }
        timed(&mut s.commits, || tx.commit().unwrap());
        start = end;
        batch = (batch * 2).min(20_000);
    }
    let tx = db.begin_write().unwrap();
    timed(&mut s.commits, || tx.commit().unwrap());
    let read = db.begin_read().unwrap();
    assert_eq!(
        redb::ReadableTableMetadata::len(&read.open_table(ENTRIES).unwrap()).unwrap(),
        n
    );
    s
}

fn main() {
    // `cargo bench` passes `--bench`; the figures are the two numbers after it, if any.
    let nums: Vec<u64> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let n = nums.first().copied().unwrap_or(83_485);
    let rounds = nums.get(1).copied().unwrap_or(7) as usize;
    let runs: Vec<Spent> = (0..rounds).map(|_| run(n)).collect();
    let files = n.div_ceil(2) as f64;
    let n = n as f64;
    let show = |what: &str, per: f64, f: &dyn Fn(&Spent) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        let (lo, mid, hi) = (v[0], v[v.len() / 2], v[v.len() - 1]);
        println!(
            "{what:<34} {:>7.0} ns/insert [{:.0}-{:.0}]  {:>6.1} ms [{:.1}-{:.1}]",
            mid / per,
            lo / per,
            hi / per,
            mid / 1e6,
            lo / 1e6,
            hi / 1e6
        );
    };
    println!(
        "redb floor of a first index: {n} entries, {files} files, {rounds} runs (median [min-max])"
    );
    show("entry records (u64, in order)", n, &|s| s.entries);
    show("name keys (bytes, in order)", n, &|s| s.names);
    show("entry UUID keys (u128, in order)", n, &|s| s.uuids);
    show("instances (by hash, sorted batch)", files, &|s| s.instances);
    show("content records (by hash)", files, &|s| s.content);
    show("content UUID keys (random)", files, &|s| s.content_uuids);
    show("commits (per entry)", n, &|s| s.commits);
    show("all (per entry)", n, &|s| {
        s.entries + s.names + s.uuids + s.instances + s.content + s.content_uuids + s.commits
    });
}
