#!/usr/bin/env bash
# Figures of the index model (issue "Index model v4", targets), on gen_tree's L tree:
#  1. store size per entry after a shallow index of L;
#  2. the rescan of a 10-file location in a library that also holds L (hyperfine, ROUNDS runs,
#     whole command; and the job's own time from `jobs list --json`);
#  3. the upgrade of a schema-3 library of L (made by OLD_V3, a build of the release before
#     schema 4) to the current schema: `index status` on a fresh copy, ROUNDS runs, beside
#     copying that library (`cp -a`) in the same hyperfine invocation.
# Anchors in the same hyperfine invocation: `find -printf` of the 10-file folder; `cp -a`.
#
#   benches/index-model.sh NEW_CAIRN OLD_V3_CAIRN [ROUNDS]
set -euo pipefail
NEW=$(realpath "$1"); OLD=$(realpath "$2"); ROUNDS=${3:-5}
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/cairn/bench}"
L="$BENCH_DIR/L"; OUT="$BENCH_DIR/results/index-model"
for b in "$@"; do
  case $b in [0-9]*) ;; *) if "$b" --version | grep -q "debug build"; then
    echo "refused: $b is a debug build; benchmark release builds" >&2; exit 1; fi ;; esac
done
mkdir -p "$BENCH_DIR"; D=$(mktemp -d "$BENCH_DIR/data.XXXXXX"); trap 'rm -rf "$D"' EXIT
[ -d "$L" ] || { echo "no $L: run benches/vs-anchors.sh shallow first"; exit 1; }
mkdir -p "$OUT"

echo "== 1. store size after a shallow index of L"
"$NEW" --data-dir "$D/big" location add "$L" --mode shallow --rules none >/dev/null
entries=$("$NEW" --data-dir "$D/big" --json index status | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')
bytes=$(stat -c %s "$D"/big/libraries/*/library.redb)
echo "entries $entries, library.redb $bytes bytes: $((bytes / entries)) bytes per entry"
# The anchor: plocate's database of the same tree (paths only, compressed).
updatedb -U "$L" -o "$D/plocate.db" --require-visibility 0
pbytes=$(stat -c %s "$D/plocate.db")
echo "plocate.db of L: $pbytes bytes: $((pbytes / entries)) bytes per entry"

echo "== 2. rescan of a 10-file location in the library that holds L"
SMALL="$D/small"; mkdir -p "$SMALL"
for i in $(seq 10); do echo "$i" > "$SMALL/f$i.txt"; done
"$NEW" --data-dir "$D/big" location add "$SMALL" --mode shallow --rules none >/dev/null
hyperfine --style basic --warmup 1 --runs "$ROUNDS" --export-json "$OUT/small-rescan.json" \
  -n find-small "find $SMALL -printf '%p %s %T@ %i\n' > /dev/null" \
  -n small-rescan "$NEW --data-dir $D/big location rescan $SMALL"
"$NEW" --data-dir "$D/big" --json jobs list --all | python3 -c '
import json, sys, statistics
jobs = [j for j in json.load(sys.stdin) if j["title"].startswith("Index ") and j["title"].endswith("/small")]
ms = sorted(j["run_ms"] for j in jobs)
print(f"job time of the {len(ms)} small rescans: median {statistics.median(ms)} ms, spread {ms[0]}-{ms[-1]} ms")'

echo "== 3. upgrade of a schema-3 library of L"
"$OLD" --data-dir "$D/v3" location add "$L" --mode shallow --rules none >/dev/null
# The anchor: copying the schema-3 library (the bytes an upgrade must at least rewrite).
hyperfine --style basic --runs "$ROUNDS" --export-json "$OUT/upgrade.json" \
  --prepare "rm -rf $D/copied" --prepare "rm -rf $D/upgraded && cp -a $D/v3 $D/upgraded" \
  -n copy-library "cp -a $D/v3 $D/copied" \
  -n upgrade "$NEW --data-dir $D/upgraded index status"
