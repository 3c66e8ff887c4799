#!/usr/bin/env bash
# The anchor and two Cairn builds in the same hyperfine invocation, ROUNDS times alternating
# (each round runs find, the old build and the new one once, in that order), on gen_tree's
# L tree: a shallow index from scratch and an unchanged rescan. Prints the median and the
# spread (min–max) over the rounds, and the ratios to find and old/new.
#
#   benches/same-run.sh OLD_CAIRN NEW_CAIRN [ROUNDS]      (L must exist: benches/vs-anchors.sh
#                                                          shallow generates it)
set -euo pipefail
OLD=$(realpath "$1"); NEW=$(realpath "$2"); ROUNDS=${3:-5}
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/cairn/bench}"
L="$BENCH_DIR/L"; OUT="$BENCH_DIR/results/same-run"
for b in "$@"; do
  case $b in [0-9]*) ;; *) if "$b" --version | grep -q "debug build"; then
    echo "refused: $b is a debug build; benchmark release builds" >&2; exit 1; fi ;; esac
done
mkdir -p "$BENCH_DIR"; D=$(mktemp -d "$BENCH_DIR/data.XXXXXX"); trap 'rm -rf "$D"' EXIT
[ -d "$L" ] || { echo "no $L: run benches/vs-anchors.sh shallow first"; exit 1; }
mkdir -p "$OUT"; rm -f "$OUT"/*.json
FIND="find $L -printf '%p %s %T@ %i\n' > /dev/null"
for r in $(seq "$ROUNDS"); do
  hyperfine --style none --runs 1 --export-json "$OUT/index-$r.json" \
    --prepare true --prepare "rm -rf $D/old" --prepare "rm -rf $D/new" \
    -n find "$FIND" \
    -n old "$OLD --data-dir $D/old location add $L --mode shallow --rules none" \
    -n new "$NEW --data-dir $D/new location add $L --mode shallow --rules none" >/dev/null
  hyperfine --style none --runs 1 --export-json "$OUT/rescan-$r.json" \
    -n find "$FIND" \
    -n old "$OLD --data-dir $D/old location rescan 1" \
    -n new "$NEW --data-dir $D/new location rescan 1" >/dev/null
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
for what in ("index", "rescan"):
    t = {"find": [], "old": [], "new": []}
    for r in range(1, rounds + 1):
        for res in json.load(open(f"{out}/{what}-{r}.json"))["results"]:
            t[res["command"]].append(res["mean"])
    med = {k: statistics.median(v) for k, v in t.items()}
    for k, v in t.items():
        print(f"{what:<7} {k:<5} median {med[k]:7.3f} s  spread {min(v):.3f}–{max(v):.3f}  ({len(v)} rounds)")
    print(f"{what:<7} old/find {med['old']/med['find']:.2f}  new/find {med['new']/med['find']:.2f}  new/old {med['new']/med['old']:.3f}")
PY
