#!/usr/bin/env python3
"""File operations against the tools a user would otherwise use, in the same run, alternating.

    benches/fileops.py CAIRN M_TREE [--rounds N] [--work DIR] [--only NAME,...]

CAIRN is a release build (`cargo build --release`); M_TREE is gen_tree.py's M tree
(`python3 gen_tree.py --files 100000 --size-profile mixed --seed 1 M`). Everything is written
under --work (default: beside M_TREE, so on the same volume), in a throwaway data folder and
home trash. Each round runs the anchor and Cairn one after the other (order alternating by
round); the report gives the median, the spread (min–max) and the ratio of medians.

Benchmarks (issue 12's targets):
  copy-m        cairn cp M (verified)         vs cp -a M (and cp -a M; sync: Cairn's copies
                are on disk when it ends, cp's are still in the page cache)
  copy-m-nv     cairn cp --no-verify M        vs cp -a M
  copy-2g       cairn cp of one 2 GiB file    vs cp
  move-10k      cairn mv of 10,000 files inside a location (index updated) vs mv
  undo-10k      cairn undo of that move       vs the move itself
  trash-10k     cairn trash of 10,000 files   vs trash-put and gio trash
  preview-m     cairn cp --dry-run M (from the index; no anchor, target 300 ms)
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def run(cmd, env=None, check=True):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if check and p.returncode != 0:
        sys.exit(f"{cmd[:3]} failed: {p.stderr.decode(errors='replace')[-2000:]}")
    return dt


def report(name, series):
    print(f"\n{name}")
    base = None
    for label, xs in series:
        med = statistics.median(xs)
        line = f"  {label:<34} median {med:8.3f} s  spread {min(xs):.3f}–{max(xs):.3f} s  (n={len(xs)})"
        if base is None:
            base = med
        else:
            line += f"  ratio {med / base:.2f}×"
        print(line)
    sys.stdout.flush()


def sync():
    subprocess.run(["sync"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cairn")
    ap.add_argument("m_tree")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work")
    ap.add_argument("--only")
    a = ap.parse_args()
    cairn = os.path.abspath(a.cairn)
    m = os.path.abspath(a.m_tree)
    work = os.path.abspath(a.work or os.path.join(os.path.dirname(m), "fileops-work"))
    only = set(a.only.split(",")) if a.only else None
    version = subprocess.run([cairn, "--version"], capture_output=True, text=True).stdout
    if "debug" in cairn or "debug build" in version:
        sys.exit("refusing a debug build (cargo test --profile bench leaves one in target/release): run cargo build --release")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    env = dict(os.environ)
    env["CAIRN_DATA_DIR"] = os.path.join(work, "data")
    env["XDG_DATA_HOME"] = os.path.join(work, "xdg")
    c = lambda *args: [cairn, *args]
    want = lambda n: only is None or n in only

    if want("copy-m") or want("copy-m-nv"):
        dst = os.path.join(work, "dst")
        series = {"cp -a": [], "cp -a; sync": [], "cairn cp (verified)": [], "cairn cp --no-verify": []}
        for r in range(a.rounds):
            order = list(series)
            if r % 2:
                order.reverse()
            for label in order:
                if label.startswith("cairn") and not want("copy-m" if "verified" in label else "copy-m-nv"):
                    continue
                shutil.rmtree(dst, ignore_errors=True)
                os.makedirs(dst)
                sync()
                if label == "cp -a":
                    cmd = ["cp", "-a", m, dst]
                elif label == "cp -a; sync":
                    cmd = ["sh", "-c", 'cp -a "$0" "$1" && sync', m, dst]
                elif "verified" in label:
                    cmd = c("cp", m, dst)
                else:
                    cmd = c("cp", "--no-verify", m, dst)
                series[label].append(run(cmd, env))
                sync()
        shutil.rmtree(dst, ignore_errors=True)
        report("Copy of M (same volume)", [(k, v) for k, v in series.items() if v])

    if want("copy-2g"):
        big = os.path.join(work, "big.bin")
        with open(big, "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(2048):
                f.write(chunk)
        dst = os.path.join(work, "dst2")
        series = {"cp": [], "cp; sync": [], "cairn cp (verified)": [], "cairn cp --no-verify": []}
        for r in range(a.rounds):
            order = list(series) if r % 2 == 0 else list(reversed(series))
            for label in order:
                shutil.rmtree(dst, ignore_errors=True)
                os.makedirs(dst)
                sync()
                cmd = {
                    "cp": ["cp", big, dst],
                    "cp; sync": ["sh", "-c", 'cp "$0" "$1" && sync', big, dst],
                    "cairn cp (verified)": c("cp", big, dst),
                    "cairn cp --no-verify": c("cp", "--no-verify", big, dst),
                }[label]
                series[label].append(run(cmd, env))
        os.remove(big)
        shutil.rmtree(dst, ignore_errors=True)
        report("Copy of one 2 GiB file", list(series.items()))

    if want("move-10k") or want("undo-10k"):
        loc = os.path.join(work, "loc")
        src, dst = os.path.join(loc, "src"), os.path.join(loc, "dst")
        os.makedirs(src)
        os.makedirs(dst)
        for i in range(10000):
            with open(os.path.join(src, f"f{i:05d}.txt"), "w") as f:
                f.write(str(i))
        run(c("location", "add", "--mode", "shallow", loc), env)
        names = sorted(os.listdir(src))
        series = {"mv": [], "cairn mv (index updated)": [], "cairn undo of the move": []}
        for r in range(a.rounds):
            for label in (["mv", "cairn"] if r % 2 == 0 else ["cairn", "mv"]):
                if label == "mv":
                    series["mv"].append(run(["mv", *[os.path.join(src, n) for n in names], dst], env))
                    run(["mv", *[os.path.join(dst, n) for n in names], src], env)
                else:
                    series["cairn mv (index updated)"].append(
                        run(c("mv", *[os.path.join(src, n) for n in names], dst), env))
                    series["cairn undo of the move"].append(run(c("undo"), env))
        report("Move of 10,000 files into another folder (same volume)", list(series.items()))

    if want("trash-10k"):
        tdir = os.path.join(work, "t")
        have_gio = shutil.which("gio") is not None
        have_trash_put = shutil.which("trash-put") is not None
        labels = (["trash-put"] if have_trash_put else []) + (["gio trash"] if have_gio else []) + ["cairn trash"]
        series = {k: [] for k in labels}
        for r in range(a.rounds):
            order = labels if r % 2 == 0 else list(reversed(labels))
            for label in order:
                shutil.rmtree(tdir, ignore_errors=True)
                shutil.rmtree(os.path.join(work, "xdg", "Trash"), ignore_errors=True)
                os.makedirs(tdir)
                for i in range(10000):
                    with open(os.path.join(tdir, f"f{i:05d}.txt"), "w") as f:
                        f.write(str(i))
                paths = [os.path.join(tdir, n) for n in sorted(os.listdir(tdir))]
                sync()
                if label == "trash-put":
                    cmd = ["trash-put", *paths]
                elif label == "gio trash":
                    cmd = ["gio", "trash", *paths]
                else:
                    cmd = c("trash", *paths)
                series[label].append(run(cmd, env))
                left = len(os.listdir(tdir))
                if left:
                    sys.exit(f"{label} left {left} files")
        report("Trash of 10,000 files", list(series.items()))

    if want("preview-m"):
        run(c("location", "add", "--mode", "shallow", m), env)
        dst = os.path.join(work, "dstp")
        os.makedirs(dst, exist_ok=True)
        xs = [run(c("cp", "--dry-run", m, dst), env) for _ in range(max(5, a.rounds))]
        report("Preview of a copy of M (from the index, whole command)", [("cairn cp --dry-run", xs)])


if __name__ == "__main__":
    main()
