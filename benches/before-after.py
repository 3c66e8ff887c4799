#!/usr/bin/env python3
"""Two Cairn builds side by side on the same data, runs alternating (old, new, old, new, …).

    benches/before-after.py OLD_CAIRN NEW_CAIRN [--runs N]

For a change that must not move the figures (a restructure, a refactor): on gen_tree's L tree
(generated if missing, as benches/vs-anchors.sh does) it times, for each binary,

* a shallow index of L from scratch (`location add L --mode shallow --rules none`),
* an unchanged rescan of L (`location rescan 1`),
* in-process search latency (`debug search-bench benches/search-queries.txt`: p50 and p99 over
  the 50 queries, the name index loaded, 10 runs per query),

and prints the median and the spread (min–max) of each, and the ratio new/old of the medians.
Runs alternate so that the machine's drift (page cache, other load) falls on both alike.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BENCH = os.environ.get("BENCH_DIR", os.path.expanduser("~/.cache/cairn/bench"))
GEN = os.environ.get("GEN_TREE", os.path.join(ROOT, "..", "shared", "bench", "gen_tree.py"))

if len(sys.argv) < 3:
    sys.exit(__doc__)
BINS = {"old": os.path.abspath(sys.argv[1]), "new": os.path.abspath(sys.argv[2])}
RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5

L = os.path.join(BENCH, "L")
if not os.path.isfile(os.path.join(BENCH, "L.json")):
    shutil.rmtree(L, ignore_errors=True)
    with open(os.path.join(BENCH, "L.json"), "w") as out:
        subprocess.run([sys.executable, GEN, "--files", "1000000", "--size-profile", "tiny",
                        "--seed", "1", "--manifest", os.path.join(BENCH, "L.dups"), L],
                       stdout=out, check=True)
DATA = os.path.join(BENCH, "data", "before-after")


def run(args):
    t = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def data(which):
    return os.path.join(DATA, which)


def index(which):
    shutil.rmtree(data(which), ignore_errors=True)
    return run([BINS[which], "--data-dir", data(which), "location", "add", L,
                "--mode", "shallow", "--rules", "none"])


def rescan(which):
    return run([BINS[which], "--data-dir", data(which), "location", "rescan", "1"])


def search(which):
    out = subprocess.run([BINS[which], "--data-dir", data(which), "--json", "debug",
                          "search-bench", os.path.join(HERE, "search-queries.txt"),
                          "--runs", "10"], check=True, capture_output=True, text=True).stdout
    v = json.loads(out)
    return v["p50_ms"], v["p99_ms"]


def report(name, unit, samples):
    meds = {}
    for which in ("old", "new"):
        s = samples[which]
        meds[which] = statistics.median(s)
        print(f"  {name:<26} {which}: median {meds[which]:8.3f} {unit}   "
              f"spread {min(s):.3f}–{max(s):.3f}   ({len(s)} runs)")
    print(f"  {name:<26} new/old {meds['new'] / meds['old']:.3f}")


results = {}
# A warm-up run of each (the page cache of this machine is evicted after ~30 s idle).
for which in ("old", "new"):
    index(which)
for name, fn in (("shallow index L", index), ("unchanged rescan L", rescan)):
    samples = {"old": [], "new": []}
    for _ in range(RUNS):
        for which in ("old", "new"):
            samples[which].append(fn(which))
    report(name, "s", samples)
    results[name] = samples
p50 = {"old": [], "new": []}
p99 = {"old": [], "new": []}
for which in ("old", "new"):
    search(which)  # builds the name index file once
for _ in range(RUNS):
    for which in ("old", "new"):
        a, b = search(which)
        p50[which].append(a)
        p99[which].append(b)
report("search p50 (in-process)", "ms", p50)
report("search p99 (in-process)", "ms", p99)
results["search p50 ms"] = p50
results["search p99 ms"] = p99
os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
with open(os.path.join(BENCH, "results", "before-after.json"), "w") as f:
    json.dump({"bins": BINS, "runs": RUNS, "results": results}, f, indent=1)
