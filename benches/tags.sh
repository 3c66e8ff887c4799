#!/usr/bin/env bash
# Tagging on a large library (issue "Tags, notes…" targets): tag every entry below a folder
# with the leaf of a 4-level tag, search by the root tag (its descendants included) alone, with
# a name and with a kind, measure the store's growth per assignment (tag_assignments and
# sync_log tables, from `cairn debug store-stats`), then undo the tagging. Each round on a
# fresh copy of the data folder.
#
#   benches/tags.sh DATA_DIR FOLDER [ROUNDS]
#
# DATA_DIR holds a library whose location contains FOLDER (e.g. the generated L tree indexed
# with `cairn --data-dir DATA location add L`, FOLDER = L/Pictures: 87,450 entries). Needs a
# release build (`cargo build --release`).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="$1"; FOLDER="$2"; ROUNDS="${3:-3}"
C="${CAIRN:-target/release/cairn}"
if "$C" --version | grep -q debug; then echo "refusing a debug build: cargo build --release" >&2; exit 1; fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
printf 'jpg\ttag=Media\n\ttag=Media\nIMG\ttag=Media\tkind=image\nscreenshot\ttag=Media\nreport\ttag=Media\n' > "$WORK/queries.txt"
size() {
  "$C" --data-dir "$1" --json debug store-stats | python3 -c '
import json, sys
t = {x["table"]: x for x in json.load(sys.stdin)}
b = sum(t[n]["stored_bytes"] + t[n]["metadata_bytes"] + t[n]["fragmented_bytes"] for n in ("tag_assignments", "sync_log"))
print(b, t["tag_assignments"]["entries"])'
}
for round in $(seq 1 "$ROUNDS"); do
  rm -rf "$WORK/data" && cp -r "$DATA" "$WORK/data"
  D="$WORK/data"
  "$C" --data-dir "$D" tag create Media >/dev/null
  "$C" --data-dir "$D" tag create Photos --parent Media >/dev/null
  "$C" --data-dir "$D" tag create Holidays --parent Photos >/dev/null
  "$C" --data-dir "$D" tag create Beach --parent Holidays >/dev/null
  read -r before _ < <(size "$D")
  tagged=$("$C" --data-dir "$D" tag add Beach -r "$FOLDER")
  read -r after n < <(size "$D")
  echo "round $round: $tagged; store growth $(python3 -c "print(round(($after - $before) / $n, 1))") B per assignment"
  "$C" --data-dir "$D" debug search-bench "$WORK/queries.txt" --runs 20 | sed 's/^/  /'
  start=$(date +%s%N)
  undone=$("$C" --data-dir "$D" tag undo)
  echo "  $undone: $(( ($(date +%s%N) - start) / 1000000 )) ms (the whole command)"
done
