#!/usr/bin/env python3
"""Search benchmark: Cairn's name index against plocate on the same tree, in the same run.

    benches/search-vs-plocate.py [--runs N] [--quick]

Uses gen_tree's L tree (1,096,000 entries, generated if missing) indexed by Cairn in Shallow
mode (in a throwaway data folder, removed at the end; a debug build is refused; $CAIRN names a
release binary to use instead of building one) and a plocate database of the same tree built with
`updatedb -U L -o L.plocate.db`. Prints, and writes to $BENCH_DIR/results/search.json:

* build: plocate's `updatedb` against Cairn's name-index rebuild (both from scratch);
* per query of benches/search-queries.txt, whole-process medians (hyperfine -N, warm-up
  first): `cairn search Q --limit 100` (top 100 ranked + total count, case-insensitive),
  `plocate -d DB Q` (case-sensitive, every match printed) and `plocate -i` (case-insensitive,
  the same semantics as Cairn's);
* percentiles of those medians, split into selective (< 10,000 matches) and common queries;
* in-process latency (`cairn debug search-bench`: index loaded, 10 runs per query) for the
  plain list (alone, and with two busy-loop processes beside it) and for
  benches/search-filtered.txt (kind + size + subtree);
* bytes per entry of the index file and of the structures a name query reads.
"""

import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BENCH = os.environ.get("BENCH_DIR", os.path.expanduser("~/.cache/cairn/bench"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/cairn/target"))
GEN = os.environ.get("GEN_TREE", os.path.join(ROOT, "..", "shared", "bench", "gen_tree.py"))
RUNS = 10
for i, a in enumerate(sys.argv):
    if a == "--runs":
        RUNS = int(sys.argv[i + 1])
QUICK = "--quick" in sys.argv


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def need(tool, package):
    if shutil.which(tool) is None:
        print(f"== installing {package}")
        sh("apt-get", "update", "-qq")
        sh("apt-get", "install", "-y", "-qq", package,
           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


need("hyperfine", "hyperfine")
need("plocate", "plocate")

L = os.path.join(BENCH, "L")
if not os.path.isdir(L):
    print("== generating the L tree (1M files, tiny profile)")
    with open(os.path.join(BENCH, "L.json"), "w") as out:
        sh("python3", GEN, "--files", "1000000", "--size-profile", "tiny", "--seed", "1",
           "--manifest", os.path.join(BENCH, "L.dups"), L, stdout=out)

if os.environ.get("CAIRN"):
    CAIRN = os.path.realpath(os.environ["CAIRN"])
else:
    print("== building cairn (release)")
    sh("cargo", "build", "--release", "--quiet", cwd=ROOT, env=dict(os.environ, CARGO_TARGET_DIR=TARGET))
    CAIRN = os.path.join(TARGET, "release", "cairn")
if "debug build" in subprocess.run([CAIRN, "--version"], capture_output=True, text=True).stdout:
    sys.exit(f"refused: {CAIRN} is a debug build; benchmark a release build (cargo build --release)")
DATA = tempfile.mkdtemp(prefix="data.", dir=BENCH)
atexit.register(shutil.rmtree, DATA, ignore_errors=True)
OUT = os.path.join(BENCH, "results")
os.makedirs(OUT, exist_ok=True)

print("== indexing L (shallow)")
sh(CAIRN, "--data-dir", DATA, "location", "add", "--mode", "shallow", "--background", L,
   stdout=subprocess.DEVNULL)
sh(CAIRN, "--data-dir", DATA, "jobs", "resume", "--all", stdout=subprocess.DEVNULL)

DB = os.path.join(BENCH, "L.plocate.db")
idx_files = [os.path.join(DATA, "libraries", d, "cache", "names.idx")
             for d in os.listdir(os.path.join(DATA, "libraries"))]


def hyperfine(cmds, runs=RUNS, prepare=None, shell=False):
    """Median seconds of each command (hyperfine, warm-up run first)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        args = ["hyperfine", "-i", "--style", "none", "-w", "1", "-r", str(runs), "--export-json", f.name]
        if not shell:
            args.append("-N")
        if prepare:
            args += ["--prepare", prepare]
        sh(*args, *cmds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return [r["median"] for r in json.load(open(f.name))["results"]]


def q(s):
    return "'" + s.replace("'", "'\\''") + "'"


results = {}
print("== index build from scratch (plocate updatedb vs Cairn name index)")
updatedb = f"updatedb --prunepaths '' --prunenames '' --prunefs '' -l no -U {L} -o {DB}"
rm = "rm -f " + " ".join(q(p) for p in idx_files)
b_plocate = hyperfine([f"bash -c {q('rm -f ' + DB + ' && ' + updatedb)}"], runs=3, shell=True)[0]
b_cairn = hyperfine([f"{CAIRN} --data-dir {DATA} search zzqqxx"], runs=3, prepare=rm, shell=True)[0]
results["build"] = {"plocate_s": b_plocate, "cairn_s": b_cairn}
print(f"   updatedb {b_plocate:.3f} s   cairn name index {b_cairn:.3f} s   ratio {b_cairn / b_plocate:.2f}")

bench = json.loads(subprocess.run(
    [CAIRN, "--data-dir", DATA, "--json", "debug", "search-bench",
     os.path.join(HERE, "search-queries.txt"), "--runs", "10"],
    capture_output=True, text=True, check=True).stdout)
totals = {r["query"]: r["total"] for r in bench["queries"]}
queries = [l.rstrip("\n") for l in open(os.path.join(HERE, "search-queries.txt")) if l.strip()]
if QUICK:
    queries = queries[::5]

print(f"== {len(queries)} queries, whole process, medians of {RUNS} (ms)")
print(f"   {'query':<14} {'matches':>8} {'cairn':>7} {'plocate':>8} {'-i':>8} {'vs plocate':>10} {'vs -i':>7}")
rows = []
for text in queries:
    c, p, pi = hyperfine([
        f"{CAIRN} --data-dir {DATA} search {q(text)} --limit 100",
        f"plocate -d {DB} {q(text)}",
        f"plocate -d {DB} -i {q(text)}",
    ])
    row = {"query": text, "matches": totals.get(text), "cairn_ms": c * 1e3,
           "plocate_ms": p * 1e3, "plocate_i_ms": pi * 1e3}
    rows.append(row)
    print(f"   {text:<14} {row['matches']:>8} {c * 1e3:7.2f} {p * 1e3:8.2f} {pi * 1e3:8.2f}"
          f" {c / p:10.2f} {c / pi:7.2f}")
results["queries"] = rows


def pct(xs, p):
    xs = sorted(xs)
    return xs[round((len(xs) - 1) * p)] if xs else float("nan")


for name, sel in [("selective", lambda r: (r["matches"] or 0) < 10_000),
                  ("common", lambda r: (r["matches"] or 0) >= 10_000),
                  ("all", lambda r: True)]:
    part = [r for r in rows if sel(r)]
    if not part:
        continue
    c = [r["cairn_ms"] for r in part]
    p = [r["plocate_ms"] for r in part]
    pi = [r["plocate_i_ms"] for r in part]
    ratio = [r["cairn_ms"] / r["plocate_ms"] for r in part]
    ratio_i = [r["cairn_ms"] / r["plocate_i_ms"] for r in part]
    summary = {"n": len(part), "cairn_p50": pct(c, .5), "cairn_p99": pct(c, .99),
               "plocate_p50": pct(p, .5), "plocate_i_p50": pct(pi, .5),
               "ratio_median": statistics.median(ratio), "ratio_max": max(ratio),
               "ratio_i_median": statistics.median(ratio_i), "ratio_i_max": max(ratio_i)}
    results[name] = summary
    print(f"   {name:<9} n={len(part):>2}  cairn p50 {summary['cairn_p50']:.2f} ms p99 "
          f"{summary['cairn_p99']:.2f} ms | plocate p50 {summary['plocate_p50']:.2f} ms, -i p50 "
          f"{summary['plocate_i_p50']:.2f} ms | cairn/plocate median {summary['ratio_median']:.2f} "
          f"max {summary['ratio_max']:.2f}; cairn/plocate -i median {summary['ratio_i_median']:.2f} "
          f"max {summary['ratio_i_max']:.2f}")

print("== in process (index loaded; 10 runs per query)")
results["in_process"] = {k: bench[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "runs")}
print(f"   plain:    p50 {bench['p50_ms']:.2f} ms  p90 {bench['p90_ms']:.2f} ms  "
      f"p99 {bench['p99_ms']:.2f} ms  max {bench['max_ms']:.2f} ms")
# The same, with two busy loops beside it (a user's laptop is never idle).
busy = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(2)]
try:
    loaded = json.loads(subprocess.run(
        [CAIRN, "--data-dir", DATA, "--json", "debug", "search-bench",
         os.path.join(HERE, "search-queries.txt"), "--runs", "10"],
        capture_output=True, text=True, check=True).stdout)
finally:
    for b in busy:
        b.kill()
        b.wait()
results["in_process_busy"] = {k: loaded[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "runs")}
print(f"   plain, two busy threads beside: p50 {loaded['p50_ms']:.2f} ms  p90 {loaded['p90_ms']:.2f} ms  "
      f"p99 {loaded['p99_ms']:.2f} ms  max {loaded['max_ms']:.2f} ms")
with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    for line in open(os.path.join(HERE, "search-filtered.txt")):
        f.write(line.replace("$L", L))
    filtered_file = f.name
fb = json.loads(subprocess.run(
    [CAIRN, "--data-dir", DATA, "--json", "debug", "search-bench", filtered_file, "--runs", "10"],
    capture_output=True, text=True, check=True).stdout)
os.unlink(filtered_file)
results["filtered"] = {k: fb[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "runs")}
results["filtered"]["queries"] = fb["queries"]
print(f"   filtered: p50 {fb['p50_ms']:.2f} ms  p90 {fb['p90_ms']:.2f} ms  "
      f"p99 {fb['p99_ms']:.2f} ms  max {fb['max_ms']:.2f} ms")
for r in fb["queries"]:
    print(f"     {r['median_ms']:7.2f} ms {r['total']:>7} matches  {r['query'].replace(L, '$L')}")

n = bench["entries"]
results["memory"] = {"entries": n, "index_bytes": bench["index_bytes"],
                     "name_bytes": bench["name_bytes"], "plocate_db_bytes": os.path.getsize(DB)}
print(f"== memory: index file {bench['index_bytes'] / n:.1f} B/entry, name structures "
      f"{bench['name_bytes'] / n:.1f} B/entry; plocate database {os.path.getsize(DB) / n:.1f} B/entry")
json.dump(results, open(os.path.join(OUT, "search.json"), "w"), indent=1)
print(f"== written {os.path.join(OUT, 'search.json')}")
