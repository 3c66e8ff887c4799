#!/usr/bin/env bash
# File operations against the tools a user would otherwise use: each anchor and Cairn in the
# same hyperfine invocation per round, alternating (benches/common.sh `rounds`), every round
# starting from the same state (its --prepare).
#
#   benches/fileops.sh [copy-2g] [move-10k] [trash-10k] [copy-m]     (default: all four)
#
#   copy-2g    cp, cp; sync, dd oflag=direct (the time this disk takes to write 2 GiB, which
#              no durable copy can beat), cairn cp (verified), cairn cp --no-verify of one
#              2 GiB file
#   move-10k   mv vs cairn mv of 10,000 files into another folder of a location (index updated)
#   trash-10k  trash-put, gio trash vs cairn trash of 10,000 files
#   copy-m     cp -a vs cairn cp (verified, and --no-verify) of the M tree (gen_tree.py
#              --files 100000 --size-profile mixed --seed 1, in $BENCH_DIR/M); long
#
# Everything is written under $BENCH_DIR/fileops-work (the volume of the M tree), with a
# throwaway data folder and home trash. ROUNDS (default 5) timed rounds after a warm-up.
set -euo pipefail
. "$(dirname "$0")/common.sh"
install_tools
cairn_release
throwaway_data
need trash-put || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq trash-cli >/dev/null
W="$BENCH_DIR/fileops-work"
rm -rf "$W"; mkdir -p "$W"
export XDG_DATA_HOME="$W/xdg" W CAIRN DATA
C="\"$CAIRN\" --data-dir \"$DATA\""
want() { [ $# -eq 0 ] && return 0; for a in "${ARGS[@]}"; do [ "$a" = "$1" ] && return 0; done; return 1; }
ARGS=("$@")
all() { [ ${#ARGS[@]} -eq 0 ] || want "$1"; }

if all copy-2g; then
  head -c 2G /dev/urandom > "$W/big.bin"
  P='rm -rf "$W/d2" && mkdir "$W/d2" && sync'
  rounds copy-2g \
    cp "$P" 'cp "$W/big.bin" "$W/d2"' \
    "cp;sync" "$P" 'cp "$W/big.bin" "$W/d2" && sync' \
    dd-direct "$P" 'dd if="$W/big.bin" of="$W/d2/big.bin" bs=4M oflag=direct status=none' \
    cairn "$P" "$C cp \"\$W/big.bin\" \"\$W/d2\" >/dev/null" \
    cairn-nv "$P" "$C cp --no-verify \"\$W/big.bin\" \"\$W/d2\" >/dev/null"
  rm -f "$W/big.bin"; rm -rf "$W/d2"
fi

if all move-10k; then
  mkdir -p "$W/loc/src" "$W/loc/dst"
  python3 -c "
import sys
for i in range(10000): open(f'$W/loc/src/f{i:05d}.txt', 'w').write(str(i))"
  "$CAIRN" --data-dir "$DATA" location add --mode shallow "$W/loc" >/dev/null
  # Back to src before each run, through Cairn (so the index matches the disk: after mv it
  # finds nothing to follow and leaves the index as it was, at src).
  P="if [ -e \"\$W/loc/dst/f00000.txt\" ]; then $C mv \"\$W\"/loc/dst/* \"\$W/loc/src\" >/dev/null; fi; sync"
  rounds move-10k \
    mv "$P" 'mv "$W"/loc/src/* "$W/loc/dst"' \
    cairn "$P" "$C mv \"\$W\"/loc/src/* \"\$W/loc/dst\" >/dev/null"
fi

if all trash-10k; then
  P='rm -rf "$W/t" "$XDG_DATA_HOME/Trash" && mkdir "$W/t" && python3 -c "
import os
for i in range(10000): open(os.path.join(os.environ[\"W\"], \"t\", f\"f{i:05d}.txt\"), \"w\").write(str(i))" && sync'
  rounds trash-10k \
    gio "$P" 'gio trash "$W"/t/*' \
    trash-put "$P" 'trash-put "$W"/t/*' \
    cairn "$P" "$C trash \"\$W\"/t/* >/dev/null"
fi

if all copy-m; then
  M="$BENCH_DIR/M"
  [ -d "$M" ] || { echo "no $M: python3 ../shared/bench/gen_tree.py --files 100000 --size-profile mixed --seed 1 $M"; exit 1; }
  export M
  P='rm -rf "$W/dm" && mkdir "$W/dm" && sync'
  rounds copy-m \
    "cp-a" "$P" 'cp -a "$M" "$W/dm"' \
    cairn "$P" "$C cp \"\$M\" \"\$W/dm\" >/dev/null" \
    cairn-nv "$P" "$C cp --no-verify \"\$M\" \"\$W/dm\" >/dev/null"
  rm -rf "$W/dm"
fi
