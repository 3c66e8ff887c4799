#!/usr/bin/env python3
"""Paired devices on loopback: two Cairn processes with their own data folders, against the
anchors a user would otherwise use, in the same run, alternating.

    benches/peers.py CAIRN --flat FLAT100K --tree S --big BIG_DIR [--l-data L_DATA]
                     [--rounds N] [--work DIR] [--parts pair,ls,get,put,search]

CAIRN is a release build. FLAT100K is a folder of 100,000 files (gen: `python3 -c` below);
S is gen_tree.py's S tree; BIG_DIR holds one 2 GiB file `2g.bin`; L_DATA (optional) is a data
folder with gen_tree.py's L tree indexed (for peer search). Everything else is written under
--work (default ~/.cache/cairn/bench/peers/work).

Measured (issue 17's targets):
  pair          wall time of `cairn device pair CODE --host …` (the joiner, from start to
                "Paired", process start and endpoint bind included), against no anchor
  ls-100k       `cairn peer ls DEV:FLAT100K` (first rows and the whole listing, from the
                command's own report, and its wall time) vs `cairn ls FLAT100K` on the
                serving device (forwarded into the serving process, as a user's would be)
  get-2g        `cairn cp DEV:BIG/2g.bin` (verified, synced) vs `rsync` from an rsync daemon
                on 127.0.0.1 (plain, and with --fsync)
  get-s         the same for the S tree (10,000 files)
  put-2g, put-s `cairn cp BIG/2g.bin DEV:INBOX` (the device pulls, verifies, syncs and
                indexes) vs `rsync -a` into a writable rsync daemon module (plain, --fsync)
  search-l      `cairn peer bench-search` on L (one process, a new connection per query)
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ENV = dict(os.environ, CAIRN_LISTEN="127.0.0.1:0")


def run(cmd, check=True, capture=False):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if check and p.returncode != 0:
        sys.exit(f"{cmd[:4]} failed: {p.stderr.decode(errors='replace')[-2000:]}")
    return dt, p


def report(name, series, unit="s"):
    print(f"\n{name}")
    base = None
    for label, xs in series:
        med = statistics.median(xs)
        line = f"  {label:<44} median {med:9.3f} {unit}  spread {min(xs):.3f}–{max(xs):.3f}  (n={len(xs)})"
        if base is None:
            base = med
        else:
            line += f"  ratio {med / base:.2f}× the first"
        print(line)
    sys.stdout.flush()


def clean(path):
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["sync"])


def pair(cairn, host_data, joiner_data):
    p = subprocess.Popen([cairn, "--data-dir", host_data, "--json", "device", "pair"],
                         env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = json.loads(p.stdout.readline())
    dt, _ = run([cairn, "--data-dir", joiner_data, "device", "pair", first["code"],
                 "--host", first["host"]])
    p.wait()
    return dt


def serve(cairn, data):
    p = subprocess.Popen([cairn, "--data-dir", data, "--json", "serve", "--no-watch"], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    host = json.loads(p.stdout.readline())["host"]
    return p, host.split("@")[1].split(",")[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cairn")
    ap.add_argument("--flat", required=True)
    ap.add_argument("--tree", required=True)
    ap.add_argument("--big", required=True)
    ap.add_argument("--l-data")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--parts", default="pair,ls,get,put,search")
    ap.add_argument("--work", default=os.path.expanduser("~/.cache/cairn/bench/peers/work"))
    a = ap.parse_args()
    parts = set(a.parts.split(","))
    cairn = os.path.abspath(a.cairn)
    flat, tree, big = (os.path.realpath(x) for x in (a.flat, a.tree, a.big))
    clean(a.work)
    os.makedirs(a.work)
    desk, laptop = os.path.join(a.work, "desk"), os.path.join(a.work, "laptop")
    run([cairn, "--data-dir", desk, "device", "rename", "desk"])
    run([cairn, "--data-dir", laptop, "device", "rename", "laptop"])
    inbox = os.path.join(a.work, "inbox")
    os.makedirs(inbox)
    for loc in (flat, tree, big, inbox):
        run([cairn, "--data-dir", desk, "location", "add", "--mode", "shallow", loc])

    times = [pair(cairn, desk, laptop) for _ in range(a.rounds if "pair" in parts else 1)]
    if "pair" in parts:
        report("pair (joiner wall time, process start included)", [("cairn device pair CODE", times)])

    server, addr = serve(cairn, desk)
    try:
        run([cairn, "--data-dir", laptop, "peer", "locations", "desk", "--addr", addr])
        # ls-100k
        local, remote, first, whole = [], [], [], []
        for r in range(a.rounds if "ls" in parts else 0):
            order = ["local", "remote"] if r % 2 == 0 else ["remote", "local"]
            for which in order:
                if which == "local":
                    dt, _ = run([cairn, "--data-dir", desk, "ls", flat])
                    local.append(dt)
                else:
                    dt, p = run([cairn, "--data-dir", laptop, "peer", "ls", f"desk:{flat}"])
                    remote.append(dt)
                    words = p.stderr.decode().split()
                    # "… first rows after N ms, all after M ms"
                    first.append(float(words[words.index("rows") + 2]))
                    whole.append(float(words[words.index("all") + 2]))
        if "ls" in parts:
            report("ls of a 100,000-file folder (wall time)",
                   [("cairn ls (on the serving device)", local), ("cairn peer ls (from the peer)", remote)])
            report("peer ls inside the command", [("first rows", first), ("whole listing", whole)], unit="ms")

        # rsync daemon
        conf = os.path.join(a.work, "rsyncd.conf")
        with open(conf, "w") as f:
            f.write(f"use chroot = no\n[big]\npath = {big}\nread only = yes\n[tree]\npath = {tree}\nread only = yes\n"
                    f"[inbox]\npath = {inbox}\nread only = no\nuid = root\ngid = root\n")
        port = "8730"
        rsyncd = subprocess.Popen(["rsync", "--daemon", "--no-detach", "--address=127.0.0.1",
                                   f"--port={port}", f"--config={conf}"])
        time.sleep(0.5)
        try:
            cases = []
            if "get" in parts:
                cases += [
                    ("get-2g: one 2 GiB file", f"desk:{big}/2g.bin", f"rsync://127.0.0.1:{port}/big/2g.bin"),
                    ("get-s: the S tree (10,000 files)", f"desk:{tree}", f"rsync://127.0.0.1:{port}/tree"),
                ]
            if "put" in parts:
                cases += [
                    ("put-2g: one 2 GiB file to the device", f"{big}/2g.bin", f"{big}/2g.bin"),
                    ("put-s: the S tree to the device", tree, tree),
                ]
            for name, src_cairn, src_rsync in cases:
                put = name.startswith("put")
                c, r_plain, r_fsync = [], [], []
                rounds = 3 if "2g" in name else a.rounds
                for r in range(rounds):
                    jobs = ["cairn", "rsync", "rsync-fsync"]
                    if r % 2:
                        jobs.reverse()
                    for j in jobs:
                        dest = os.path.join(inbox if put else a.work, "dest")
                        clean(dest)
                        os.makedirs(dest)
                        if j == "cairn":
                            to = f"desk:{dest}" if put else dest
                            dt, _ = run([cairn, "--data-dir", laptop, "cp", src_cairn, to])
                            c.append(dt)
                        else:
                            extra = ["--fsync"] if j == "rsync-fsync" else []
                            to = f"rsync://127.0.0.1:{port}/inbox/dest/" if put else dest + "/"
                            dt, _ = run(["rsync", "-a", *extra, src_rsync, to])
                            (r_fsync if extra else r_plain).append(dt)
                report(name, [("rsync -a (daemon, loopback; no fsync)", r_plain),
                              ("rsync -a --fsync (daemon, loopback)", r_fsync),
                              ("cairn cp (BLAKE3-verified, synced)", c)])
        finally:
            rsyncd.terminate()
    finally:
        server.terminate()
        server.wait()

    if a.l_data and "search" in parts:
        server, addr = serve(cairn, a.l_data)
        try:
            # pair laptop with the L data folder's device (its own identity)
            p = subprocess.Popen([cairn, "--data-dir", a.l_data, "--json", "device", "pair"],
                                 env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            first_line = json.loads(p.stdout.readline())
            _, out = run([cairn, "--data-dir", laptop, "--json", "device", "pair", first_line["code"],
                          "--host", first_line["host"]], capture=True)
            p.wait()
            dev = json.loads(out.stdout)["paired"]["id"]
            queries = ["report", "photo 2021", "main.rs", "invoice", "a", "zzzz-none"]
            ps = []
            for _ in range(a.rounds):
                _, out = run([cairn, "--data-dir", laptop, "--json", "peer", "bench-search", dev,
                              *queries, "--runs", "5", "--addr", addr], capture=True)
                ps.append(json.loads(out.stdout))
            report("peer search on L, end to end in one process (ms per query)",
                   [("p50", [x["p50_ms"] for x in ps]), ("p99", [x["p99_ms"] for x in ps])], unit="ms")
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
