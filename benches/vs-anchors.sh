#!/usr/bin/env bash
# Indexing benchmarks on gen_tree's trees: Cairn against the tools a user would otherwise run,
# each anchor and Cairn in the SAME hyperfine invocation, alternating (see `rounds` in
# benches/common.sh: ROUNDS timed rounds after a warm-up round, order reversed every other
# round; medians, spreads and ratios to the anchor).
#
#   benches/vs-anchors.sh [shallow|rescan|content|ephemeral|dupes|all]
#
# Generates the standard trees with shared/bench/gen_tree.py (cached in $BENCH_DIR, default
# ~/.cache/cairn/bench), installs the anchor tools if missing, builds Cairn in release mode
# (or uses $CAIRN; a debug build is refused) and works in a throwaway --data-dir.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/common.sh

what="${1:-all}"
GEN="${GEN_TREE:-../shared/bench/gen_tree.py}"
install_tools
cairn_release
throwaway_data

tree() { # name files profile
  if [ ! -f "$BENCH_DIR/$1.json" ] || [ ! -d "$BENCH_DIR/$1" ]; then
    echo "== generating the $1 tree ($2 files, $3 profile)"
    rm -rf "${BENCH_DIR:?}/$1"
    python3 "$GEN" --files "$2" --size-profile "$3" --seed 1 --manifest "$BENCH_DIR/$1.dups" "$BENCH_DIR/$1" > "$BENCH_DIR/$1.json"
  fi
}

# The same find for every comparison: what a shallow index records (path, size, mtime, inode).
find_cmd() { echo "find $1 -printf '%p %s %T@ %i\\n' > /dev/null"; }
b3sum_cmd() { echo "find $1 -type f -print0 | xargs -0 -P2 -n 2000 b3sum --no-mmap > /dev/null"; }

if [[ $what == all || $what == shallow || $what == rescan ]]; then
  tree L 1000000 tiny
  L="$BENCH_DIR/L"
  if [[ $what != rescan ]]; then
    rounds shallow-index-L \
      find true "$(find_cmd "$L")" \
      fd true "fdfind -HI . $L > /dev/null" \
      cairn "rm -rf $DATA/shallow" "$CAIRN --data-dir $DATA/shallow location add $L --mode shallow --rules none"
  fi
  if [ ! -d "$DATA/shallow" ]; then
    "$CAIRN" --data-dir "$DATA/shallow" location add "$L" --mode shallow --rules none >/dev/null
  fi
  rounds rescan-unchanged-L \
    find true "$(find_cmd "$L")" \
    cairn true "$CAIRN --data-dir $DATA/shallow location rescan 1"
  store=$(echo "$DATA"/shallow/libraries/*/library.redb)
  entries=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["find_entries"])' "$BENCH_DIR/L.json")
  bytes=$(stat -c %s "$store")
  printf '%-26s %d bytes for %d entries = %s bytes/entry\n' "store-size-L" "$bytes" "$entries" \
    "$(python3 -c "print(round($bytes/$entries,1))")"
fi

if [[ $what == all || $what == content ]]; then
  tree M 100000 mixed
  M="$BENCH_DIR/M"
  rounds content-index-M \
    b3sum true "$(b3sum_cmd "$M")" \
    cairn "rm -rf $DATA/content" "$CAIRN --data-dir $DATA/content location add $M --mode content --rules none"
fi

if [[ $what == all || $what == ephemeral ]]; then
  tree L 1000000 tiny
  L="$BENCH_DIR/L"
  rounds ephemeral-list-L \
    fd true "fdfind -HI . $L > /dev/null" \
    cairn true "$CAIRN --data-dir $DATA/eph ls -r $L > /dev/null"
  /usr/bin/time -f '%M' -o "$OUT/eph-rss.txt" "$CAIRN" --data-dir "$DATA/eph" ls -r "$L" >/dev/null
  /usr/bin/time -f '%M' -o "$OUT/fd-rss.txt" fdfind -HI . "$L" >/dev/null
  printf '%-26s cairn %s MB   fd %s MB\n' "ephemeral-list-L peak RSS" \
    "$(($(cat "$OUT/eph-rss.txt") / 1024))" "$(($(cat "$OUT/fd-rss.txt") / 1024))"
fi

if [[ $what == all || $what == dupes ]]; then
  tree M 100000 mixed
  M="$BENCH_DIR/M"
  if [ ! -d "$DATA/content" ]; then
    "$CAIRN" --data-dir "$DATA/content" location add "$M" --mode content --rules none >/dev/null
  fi
  # fclones is not packaged by Debian 12: built once from crates.io into the bench cache.
  FCLONES="$(command -v fclones || echo "$BENCH_DIR/../tools/bin/fclones")"
  if [ ! -x "$FCLONES" ]; then
    echo "== building fclones (once; a few minutes)"
    cargo install fclones --locked --quiet --root "$BENCH_DIR/../tools"
    FCLONES="$BENCH_DIR/../tools/bin/fclones"
  fi
  # czkawka takes ~20 minutes to build on 2 cores, so it is compared only once built:
  #   cargo install czkawka_cli --locked --root ~/.cache/cairn/tools
  CZKAWKA="$(command -v czkawka_cli || echo "$BENCH_DIR/../tools/bin/czkawka_cli")"
  czk=()
  if [ -x "$CZKAWKA" ]; then
    # -m 1: its default minimum is 8 KiB; -H: no hash cache between runs.
    czk=(czkawka true "$CZKAWKA dup -d $M -m 1 -H -N -M -W -C /dev/null")
  else
    echo "dupes-M: czkawka skipped: czkawka_cli not built (see the comment in this script)"
  fi
  rounds dupes-M \
    jdupes true "jdupes -r -q $M > /dev/null" \
    rdfind true "rdfind -dryrun true -outputname /dev/null $M > /dev/null" \
    fclones true "$FCLONES group $M --hidden --no-ignore -o /dev/null 2>/dev/null" \
    "${czk[@]}" \
    cairn true "$CAIRN --data-dir $DATA/content dupes > /dev/null" \
    cairn-confirm true "$CAIRN --data-dir $DATA/content dupes --confirm > /dev/null"
  "$CAIRN" --data-dir "$DATA/content" --json dupes > "$OUT/dupes-M.json"
  python3 - "$OUT/dupes-M.json" "$BENCH_DIR/M.dups" "$M" <<'PY'
import json, sys
v = json.load(open(sys.argv[1])); root = sys.argv[3].rstrip('/') + '/'
mine = {tuple(sorted(m['path'][len(root):] for m in g['group']['members'])) for g in v['groups']}
exp = {tuple(sorted(json.loads(l)['paths'])) for l in open(sys.argv[2])}
print(f"dupes-M exactness           {len(mine)} groups; manifest {len(exp)}; missing {len(exp - mine)}; extra {len(mine - exp)}")
PY
fi
