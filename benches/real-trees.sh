#!/usr/bin/env bash
# Cairn on real trees no generator made, against find, fd and b3sum in the same hyperfine
# invocations (alternating; see `rounds` in benches/common.sh), and its duplicate groups against
# jdupes' and rdfind's.
#
#   benches/real-trees.sh [content|shallow|rescan|dupes|all] [linux|papirus|usr-share …]
#
# Trees: the Linux source (`apt-get install linux-source`, extracted once into
# $BENCH_DIR/linux), the Papirus icon theme (`apt-get install papirus-icon-theme`, half of it
# symlinks) and /usr/share. For each tree:
#  * content: `location add --mode content` from scratch against
#    `find -type f -print0 | xargs -0 -P2 -n 2000 b3sum --no-mmap` (both read every byte of
#    files up to 100 KB);
#  * shallow: `location add --mode shallow` from scratch against `find -printf '%p %s %T@ %i\n'`
#    and `fd -HI .`;
#  * rescan (Linux only): on a copy of the tree indexed shallow, a rescan after a realistic change
#    (benches/change-tree.py: 500 files touched, 200 deleted, 50 folders renamed; undone and
#    redone before every round, the library restored from a copy) and an unchanged rescan,
#    against find and fd;
#  * dupes: the groups of `cairn dupes` (after a content index) must equal the groups of
#    `jdupes -r` and of `rdfind` exactly (empty files, symlinks and hard links are not
#    duplicates for any of the three).
# A release build is required (a debug build is refused); every library is in a throwaway
# --data-dir.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/common.sh

what="${1:-all}"
shift || true
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(linux papirus usr-share)
install_tools
if [ ! -f /usr/src/linux-source-6.1.tar.xz ] && ! ls /usr/src/linux-source-*.tar.xz >/dev/null 2>&1; then
  echo "== installing linux-source"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-source
fi
if [ ! -d /usr/share/icons/Papirus ]; then
  echo "== installing papirus-icon-theme"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq papirus-icon-theme
fi
LINUX_TAR=$(ls /usr/src/linux-source-*.tar.xz | sort -V | tail -1)
LINUX_DIR="$BENCH_DIR/linux"
if [ ! -f "$LINUX_DIR/.extracted" ]; then
  echo "== extracting $LINUX_TAR into $LINUX_DIR"
  rm -rf "$LINUX_DIR" && mkdir -p "$LINUX_DIR"
  tar -xJf "$LINUX_TAR" -C "$LINUX_DIR"
  touch "$LINUX_DIR/.extracted"
fi
LINUX=$(ls -d "$LINUX_DIR"/linux-source-* | tail -1)
cairn_release
throwaway_data

path_of() {
  case $1 in
    linux) echo "$LINUX" ;;
    papirus) echo /usr/share/icons/Papirus ;;
    usr-share) echo /usr/share ;;
    *) echo "unknown tree $1" >&2; exit 1 ;;
  esac
}
find_cmd() { echo "find $1 -printf '%p %s %T@ %i\\n' > /dev/null"; }
b3sum_cmd() { echo "find $1 -type f -print0 | xargs -0 -P2 -n 2000 b3sum --no-mmap > /dev/null"; }

for t in "${trees[@]}"; do
  T=$(path_of "$t")
  printf '== %s: %s entries (find), %s\n' "$t" "$(find "$T" | wc -l)" "$(du -sh "$T" | cut -f1)"
  if [[ $what == all || $what == content ]]; then
    rounds "content-$t" \
      b3sum true "$(b3sum_cmd "$T")" \
      cairn "rm -rf $DATA/content-$t" \
      "$CAIRN --data-dir $DATA/content-$t location add $T --mode content --rules none > /dev/null"
  fi
  if [[ $what == all || $what == shallow ]]; then
    rounds "shallow-$t" \
      find true "$(find_cmd "$T")" \
      fd true "fdfind -HI . $T > /dev/null" \
      cairn "rm -rf $DATA/shallow-$t" \
      "$CAIRN --data-dir $DATA/shallow-$t location add $T --mode shallow --rules none > /dev/null"
  fi
  if [[ ($what == all || $what == rescan) && $t == linux ]]; then
    COPY="$BENCH_DIR/linux-changed"
    if [ ! -f "$COPY.ready" ]; then
      echo "== copying the Linux tree to $COPY"
      rm -rf "$COPY" "$COPY.deleted"
      cp -a "$LINUX" "$COPY"
      touch "$COPY.ready"
    fi
    python3 benches/change-tree.py revert "$LINUX" "$COPY"
    rm -rf "$DATA/rescan-pristine"
    "$CAIRN" --data-dir "$DATA/rescan-pristine" location add "$COPY" --mode shallow --rules none > /dev/null
    rm -rf "$DATA/rescan-unchanged"
    cp -a "$DATA/rescan-pristine" "$DATA/rescan-unchanged"
    rounds "rescan-$t" \
      find true "$(find_cmd "$COPY")" \
      fd true "fdfind -HI . $COPY > /dev/null" \
      cairn-changed "python3 benches/change-tree.py revert $LINUX $COPY && rm -rf $DATA/rescan && cp -a $DATA/rescan-pristine $DATA/rescan && python3 benches/change-tree.py apply $LINUX $COPY" \
      "$CAIRN --data-dir $DATA/rescan location rescan 1 > /dev/null" \
      cairn-unchanged "python3 benches/change-tree.py revert $LINUX $COPY" \
      "$CAIRN --data-dir $DATA/rescan-unchanged location rescan 1 > /dev/null"
    python3 benches/change-tree.py revert "$LINUX" "$COPY"
    "$CAIRN" --data-dir "$DATA/rescan" --json jobs list --all | python3 -c '
import json, sys
j = max(json.load(sys.stdin), key=lambda j: j["id"])
print("rescan-linux: the last changed rescan found:", j["outcome"], "(%d ms in the job)" % j["run_ms"])'
  fi
  if [[ $what == all || $what == dupes ]]; then
    if [ ! -d "$DATA/content-$t" ]; then
      "$CAIRN" --data-dir "$DATA/content-$t" location add "$T" --mode content --rules none > /dev/null
    fi
    "$CAIRN" --data-dir "$DATA/content-$t" --json dupes > "$OUT/dupes-$t.json"
    jdupes -r -q "$T" > "$OUT/jdupes-$t.txt" || true
    rdfind -dryrun true -outputname "$OUT/rdfind-$t.txt" "$T" > /dev/null
    python3 - "$T" "$OUT/dupes-$t.json" "$OUT/jdupes-$t.txt" "$OUT/rdfind-$t.txt" "$t" <<'PY'
import json, os, sys
from collections import defaultdict
root, mine_f, jd_f, rd_f, name = sys.argv[1:]
v = json.load(open(mine_f))
mine = {frozenset(m["path"] for m in g["group"]["members"]) for g in v["groups"]}
jd, cur = set(), []
for line in open(jd_f, "rb").read().decode("utf-8", "surrogateescape").split("\n"):
    if line:
        cur.append(line)
    elif cur:
        jd.add(frozenset(cur)); cur = []
if cur:
    jd.add(frozenset(cur))
groups = defaultdict(set)
for line in open(rd_f, "rb").read().decode("utf-8", "surrogateescape").splitlines():
    if line.startswith("#"):
        continue
    f = line.split(" ", 7)
    groups[abs(int(f[1]))].add(f[7])
rd = {frozenset(g) for g in groups.values() if len(g) > 1}
ok = mine == jd == rd
print(f"dupes-{name}: cairn {len(mine)} groups, jdupes {len(jd)}, rdfind {len(rd)}; "
      f"cairn−jdupes {len(mine - jd)}, jdupes−cairn {len(jd - mine)}, "
      f"cairn−rdfind {len(mine - rd)}, rdfind−cairn {len(rd - mine)}: {'EQUAL' if ok else 'DIFFERENT'}")
for g in list(mine ^ jd)[:3] + list(mine ^ rd)[:3]:
    print("  differs:", sorted(g)[:4])
PY
  fi
done
