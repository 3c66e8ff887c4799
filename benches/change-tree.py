#!/usr/bin/env python3
"""A realistic change to a copy of a tree, and its exact undo (for benches/real-trees.sh).

    benches/change-tree.py apply|revert ORIGINAL COPY [--touch 500] [--delete 200] [--rename 50]

The same choices every time (seeded, from ORIGINAL's listing in sorted order): TOUCH files get a
new mtime, DELETE files are moved out of the tree (to COPY.deleted, so that
`revert` puts back the same inodes), RENAME folders get a new name (` renamed` appended); no
chosen folder is inside another, and no chosen file is inside a chosen folder. `revert` puts COPY
back as ORIGINAL is: mtimes copied from ORIGINAL (`touch -r`), deleted files moved back, folders renamed back. Both are idempotent.
"""

import os
import random
import sys


def choose(original, n_touch, n_delete, n_rename):
    files, dirs = [], []
    for root, ds, fs in os.walk(original):
        ds.sort()
        rel = os.path.relpath(root, original)
        for d in ds:
            dirs.append(os.path.normpath(os.path.join(rel, d)))
        for f in sorted(fs):
            p = os.path.join(root, f)
            if os.path.isfile(p) and not os.path.islink(p):
                files.append(os.path.normpath(os.path.join(rel, f)))
    rng = random.Random(14)
    rng.shuffle(dirs)
    renamed = []
    for d in dirs:
        if len(renamed) == n_rename:
            break
        if any(d.startswith(r + "/") or r.startswith(d + "/") or r == d for r in renamed):
            continue
        renamed.append(d)
    inside = tuple(r + "/" for r in renamed)
    files = [f for f in files if not f.startswith(inside)]
    picked = rng.sample(files, n_touch + n_delete)
    return picked[:n_touch], picked[n_touch:], renamed


def main():
    args = sys.argv[1:]
    opts = {"--touch": 500, "--delete": 200, "--rename": 50}
    for k in list(opts):
        if k in args:
            i = args.index(k)
            opts[k] = int(args[i + 1])
            del args[i:i + 2]
    mode, original, copy = args
    stash = copy.rstrip("/") + ".deleted"
    touch, delete, rename = choose(original, opts["--touch"], opts["--delete"], opts["--rename"])
    if mode == "apply":
        for f in touch:
            os.utime(os.path.join(copy, f))
        os.makedirs(stash, exist_ok=True)
        for i, f in enumerate(delete):
            p = os.path.join(copy, f)
            if os.path.lexists(p):
                os.rename(p, os.path.join(stash, str(i)))
        for d in rename:
            p = os.path.join(copy, d)
            if os.path.isdir(p):
                os.rename(p, p + " renamed")
    elif mode == "revert":
        for d in rename:
            p = os.path.join(copy, d)
            if os.path.isdir(p + " renamed"):
                os.rename(p + " renamed", p)
        for i, f in enumerate(delete):
            s = os.path.join(stash, str(i))
            if os.path.lexists(s):
                os.rename(s, os.path.join(copy, f))
        for f in touch + delete:
            st = os.stat(os.path.join(original, f))
            os.utime(os.path.join(copy, f), ns=(st.st_atime_ns, st.st_mtime_ns))
        # Renaming a folder (and deleting in one) changes its parent's mtime: put those back too.
        for d in {os.path.dirname(x) for x in rename + delete} | set(rename):
            st = os.stat(os.path.join(original, d))
            os.utime(os.path.join(copy, d), ns=(st.st_atime_ns, st.st_mtime_ns))
    else:
        sys.exit("mode must be apply or revert")


if __name__ == "__main__":
    main()
