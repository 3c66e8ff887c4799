#!/usr/bin/env bash
# Indexing benchmarks: Cairn against the tools a user would otherwise run, in the same run.
#
#   benches/vs-anchors.sh [shallow|rescan|content|ephemeral|dupes|all]
#
# Generates the standard trees with shared/bench/gen_tree.py (cached in $BENCH_DIR, default
# ~/.cache/cairn/bench), installs the anchor tools if missing (fd-find, b3sum, hyperfine, time),
# builds Cairn in release mode, and runs each Cairn command and its anchor back to back with
# hyperfine, after a warm-up run immediately before each (the page cache of this machine is
# evicted after ~30 s idle). Prints medians, the ratio Cairn/anchor, and the store size per entry.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-all}"
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/cairn/bench}"
GEN="${GEN_TREE:-../shared/bench/gen_tree.py}"
RUNS="${RUNS:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
mkdir -p "$BENCH_DIR"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need hyperfine || ! need fdfind || ! need b3sum || ! need jdupes || ! need rdfind || ! [ -x /usr/bin/time ]; then
  echo "== installing anchor tools (hyperfine, fd-find, b3sum, jdupes, rdfind, time)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine fd-find b3sum jdupes rdfind time
fi

tree() { # name files profile
  if [ ! -f "$BENCH_DIR/$1.json" ] || [ ! -d "$BENCH_DIR/$1" ]; then
    echo "== generating the $1 tree ($2 files, $3 profile)"
    rm -rf "${BENCH_DIR:?}/$1"
    python3 "$GEN" --files "$2" --size-profile "$3" --seed 1 --manifest "$BENCH_DIR/$1.dups" "$BENCH_DIR/$1" > "$BENCH_DIR/$1.json"
  fi
}

echo "== building cairn (release)"
cargo build --release --quiet
CAIRN="$CARGO_TARGET_DIR/release/cairn"
DATA="$BENCH_DIR/data"
OUT="$BENCH_DIR/results"
mkdir -p "$OUT"

# median SECONDS of a hyperfine JSON export
median() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"; }
ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.2f}")' "$1" "$2"; }

# compare NAME ANCHOR_CMD CAIRN_CMD [CAIRN_PREPARE]
compare() {
  local name=$1 anchor=$2 cmd=$3 prep=${4:-true}
  hyperfine -N --style basic -w 1 -r "$RUNS" --export-json "$OUT/$name-anchor.json" "$anchor" >/dev/null 2>&1 ||
    hyperfine --style basic -w 1 -r "$RUNS" --export-json "$OUT/$name-anchor.json" "$anchor" >/dev/null
  hyperfine --style basic -w 1 -r "$RUNS" --prepare "$prep" --export-json "$OUT/$name-cairn.json" "$cmd" >/dev/null
  local a c
  a=$(median "$OUT/$name-anchor.json"); c=$(median "$OUT/$name-cairn.json")
  printf '%-28s anchor %8.3f s   cairn %8.3f s   ratio %s\n' "$name" "$a" "$c" "$(ratio "$c" "$a")"
}

if [[ $what == all || $what == shallow || $what == rescan ]]; then
  tree L 1000000 tiny
  L="$BENCH_DIR/L"
  FIND="bash -c \"find $L -printf '%s %T@ %i\\n' > /dev/null\""
  if [[ $what != rescan ]]; then
    compare shallow-index-L "$FIND" \
      "$CAIRN --data-dir $DATA/shallow location add $L --mode shallow --rules none" \
      "rm -rf $DATA/shallow"
  fi
  if [ ! -d "$DATA/shallow" ]; then
    "$CAIRN" --data-dir "$DATA/shallow" location add "$L" --mode shallow --rules none >/dev/null
  fi
  compare rescan-unchanged-L "$FIND" "$CAIRN --data-dir $DATA/shallow location rescan 1"
  store="$DATA/shallow/libraries/My Library.cairnlib/library.redb"
  entries=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["find_entries"])' "$BENCH_DIR/L.json")
  bytes=$(stat -c %s "$store")
  printf '%-28s %d bytes for %d entries = %s bytes/entry\n' "store-size-L" "$bytes" "$entries" \
    "$(python3 -c "print(round($bytes/$entries,1))")"
fi

if [[ $what == all || $what == content ]]; then
  tree M 100000 mixed
  M="$BENCH_DIR/M"
  compare content-index-M \
    "bash -c \"find $M -type f -print0 | xargs -0 -P2 -n 2000 b3sum --no-mmap > /dev/null\"" \
    "$CAIRN --data-dir $DATA/content location add $M --mode content --rules none" \
    "rm -rf $DATA/content"
fi

if [[ $what == all || $what == ephemeral ]]; then
  tree L 1000000 tiny
  L="$BENCH_DIR/L"
  compare ephemeral-list-L "bash -c \"fdfind -HI . $L > /dev/null\"" \
    "bash -c \"$CAIRN --data-dir $DATA/eph ls -r $L > /dev/null\""
  /usr/bin/time -f '%M' -o "$OUT/eph-rss.txt" "$CAIRN" --data-dir "$DATA/eph" ls -r "$L" >/dev/null
  /usr/bin/time -f '%M' -o "$OUT/fd-rss.txt" fdfind -HI . "$L" >/dev/null
  printf '%-28s cairn %s MB   fd %s MB\n' "ephemeral-list-L peak RSS" \
    "$(($(cat "$OUT/eph-rss.txt") / 1024))" "$(($(cat "$OUT/fd-rss.txt") / 1024))"
fi

if [[ $what == all || $what == dupes ]]; then
  tree M 100000 mixed
  M="$BENCH_DIR/M"
  if [ ! -d "$DATA/content" ]; then
    "$CAIRN" --data-dir "$DATA/content" location add "$M" --mode content --rules none >/dev/null
  fi
  compare dupes-M-vs-jdupes "jdupes -r -q $M" "$CAIRN --data-dir $DATA/content dupes"
  compare dupes-M-vs-rdfind "rdfind -dryrun true -outputname /dev/null $M" "$CAIRN --data-dir $DATA/content dupes"
  compare dupes-M-confirmed "jdupes -r -q $M" "$CAIRN --data-dir $DATA/content dupes --confirm"
  # fclones is not packaged by Debian 12: built once from crates.io into the bench cache.
  FCLONES="$(command -v fclones || echo "$BENCH_DIR/../tools/bin/fclones")"
  if [ ! -x "$FCLONES" ]; then
    echo "== building fclones (once; a few minutes)"
    cargo install fclones --locked --quiet --root "$BENCH_DIR/../tools"
    FCLONES="$BENCH_DIR/../tools/bin/fclones"
  fi
  compare dupes-M-vs-fclones "$FCLONES group $M --hidden --no-ignore -o /dev/null" "$CAIRN --data-dir $DATA/content dupes"
  # czkawka takes ~20 minutes to build on 2 cores, so it is compared only once built:
  #   cargo install czkawka_cli --locked --root ~/.cache/cairn/tools
  CZKAWKA="$(command -v czkawka_cli || echo "$BENCH_DIR/../tools/bin/czkawka_cli")"
  if [ -x "$CZKAWKA" ]; then
    # -m 1: its default minimum is 8 KiB; -H: no hash cache between runs.
    compare dupes-M-vs-czkawka "$CZKAWKA dup -d $M -m 1 -H -N -M -W -C /dev/null" "$CAIRN --data-dir $DATA/content dupes"
  else
    echo "dupes-M-vs-czkawka          skipped: czkawka_cli not built (see the comment in this script)"
  fi
  "$CAIRN" --data-dir "$DATA/content" --json dupes > "$OUT/dupes-M.json"
  python3 - "$OUT/dupes-M.json" "$BENCH_DIR/M.dups" "$M" <<'PY'
import json, sys
v = json.load(open(sys.argv[1])); root = sys.argv[3].rstrip('/') + '/'
mine = {tuple(sorted(m['path'][len(root):] for m in g['group']['members'])) for g in v['groups']}
exp = {tuple(sorted(json.loads(l)['paths'])) for l in open(sys.argv[2])}
print(f"dupes-M exactness           {len(mine)} groups; manifest {len(exp)}; missing {len(exp - mine)}; extra {len(mine - exp)}")
PY
fi
