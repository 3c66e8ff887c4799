#!/usr/bin/env bash
# Runs the real Cairn window under Xvfb on generated data and saves PNGs of the list view, the
# grid view, the inspector, the tag popup, the jobs drawer, the longest folder with a selection and after the
# mouse wheel, a folder of names in many scripts, the command palette, an SVG icon grid, search
# results, tabs, the split view (local beside a paired device), and a paired device (another
# Cairn on loopback: its longest folder with a selection and after the wheel, a search of it,
# the pairing dialog) and an offer of files from a nearby device, in the dark and the light
# theme.
#
#   scripts/screenshot.sh [OUT_DIR]        (default: ./screenshots)
#
# Needs Xvfb, ImageMagick (import) and xdotool; installs them with apt-get if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-screenshots}"
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"

if ! command -v Xvfb >/dev/null || ! command -v import >/dev/null || ! command -v xdotool >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb imagemagick xdotool
fi
# SVG drawings for the grid: the Papirus icon theme, if missing and installable.
SVGS=/usr/share/icons/Papirus/48x48/apps
if [ ! -d "$SVGS" ] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq papirus-icon-theme >/dev/null || true
fi
# Fonts for the folder of names in many scripts (see below), if missing and installable.
if command -v fc-list >/dev/null && ! fc-list :lang=ko | grep -q . && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-nanum fonts-lohit-deva fonts-thai-tlwg fonts-symbola >/dev/null || true
fi
cargo build --release --quiet
CAIRN="$CARGO_TARGET_DIR/release/cairn"

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
GEN=../shared/bench/gen_tree.py
if [ -f "$GEN" ]; then
  python3 "$GEN" --files 1500 --size-profile mixed --seed 3 "$WORK/Home" >/dev/null
else
  mkdir -p "$WORK/Home" && cp -r /usr/share/doc/bash /usr/share/doc/git "$WORK/Home/" 2>/dev/null || true
fi
# Names in many scripts (rendered with the system's fonts for each script: Korean, Devanagari,
# Thai and emoji need fonts-nanum, fonts-lohit-deva, fonts-thai-tlwg and fonts-symbola).
M="$WORK/Home/Mixed scripts"
mkdir -p "$M"
for n in "한국어 문서.txt" "हिन्दी फ़ाइल.txt" "ภาษาไทย.txt" "日本語のメモ.md" "Ελληνικά.pdf" \
         "Русский.odt" "العربية.txt" "emoji 🎉📁.txt" "café.txt"; do echo x > "$M/$n"; done
"$CAIRN" --data-dir "$WORK/data" location add "$WORK/Home" --mode deep >/dev/null
# Tags in a tree, chips and label colours on the first rows, a file gone with its tag.
C() { "$CAIRN" --data-dir "$WORK/data" "$@" >/dev/null; }
C tag create Travel --colour '#3b82f6'; C tag create France --parent Travel --colour '#16a34a'
C tag create Paris --parent France; C tag create work::Project --colour '#f97316'
first=$(find "$WORK/Home" -maxdepth 2 -type f | sort | head -3)
while IFS= read -r f; do C tag add Paris "$f"; C label "$f" red; done <<< "$first"

# A paired device, "desk", sharing a copy of the tree, served on loopback (no discovery on
# this machine's networks): paired from the port it then serves on.
DESK="$WORK/desk-data"; SHARE="$WORK/Desk share"
cp -r "$WORK/Home" "$SHARE"
"$CAIRN" --data-dir "$DESK" device rename desk >/dev/null
"$CAIRN" --data-dir "$DESK" location add "$SHARE" --mode shallow >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CAIRN" --data-dir "$DESK" --json device pair --listen "127.0.0.1:$PORT" > "$WORK/pair.json" &
sleep 1
CODE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["code"])' "$WORK/pair.json")
HOST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["host"])' "$WORK/pair.json")
CAIRN_LISTEN=127.0.0.1:0 "$CAIRN" --data-dir "$WORK/data" device pair "$CODE" --host "$HOST" >/dev/null
wait
"$CAIRN" --data-dir "$DESK" serve --no-watch --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
# The longest folder, in the tree and in desk's copy of it.
long=$(find "$WORK/Home" -mindepth 1 -printf '%h\n' | sort | uniq -c | sort -rn | awk 'NR==1 {print $2}')
desk_long="$SHARE${long#"$WORK/Home"}"
# The window listens on a known port, so "laptop" can offer it a file (send to nearby).
WPORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WKEY=$("$CAIRN" --data-dir "$WORK/data" --json device show | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
"$CAIRN" --data-dir "$WORK/laptop" device rename laptop >/dev/null
offered=$(find "$WORK/Home" -mindepth 1 -maxdepth 1 -type d -not -name '.*' | sort | head -1)

DISPLAY_NUM=:97
Xvfb $DISPLAY_NUM -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
sleep 1
export DISPLAY=$DISPLAY_NUM XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR"

shot() { import -window root -crop 1200x760+0+0 "$OUT/$1.png"; echo "saved $OUT/$1.png"; }

for theme in dark light; do
  # The window opens on the home folder the first time (then where it was left): the
  # generated tree is the home folder, and each theme starts afresh.
  rm -f "$WORK/data/window.toml"
  HOME="$WORK/Home" CAIRN_LISTEN=127.0.0.1:$WPORT CAIRN_THEME=$theme "$CAIRN" --data-dir "$WORK/data" >/dev/null 2>&1 &
  pid=$!
  sleep 5
  win=$(xdotool search --name Cairn | head -1)
  xdotool windowsize "$win" 1200 760 windowmove "$win" 0 0 windowfocus "$win"
  sleep 1
  # Open the "Documents" folder if there is one, else stay in the location root.
  xdotool key Down; sleep 0.3
  shot "$theme-list"
  xdotool key space; sleep 1.2
  shot "$theme-inspector"
  # The tag popup (Alt+T) on the selection, completing "pa".
  xdotool key space alt+t; sleep 0.6; xdotool type --delay 40 "pa"; sleep 0.6
  shot "$theme-tag-popup"
  xdotool key Escape space; sleep 0.5
  xdotool key space ctrl+g; sleep 1.5
  shot "$theme-grid"
  # The grid of a photo folder, with thumbnails.
  pics=$(find "$WORK/Home/Pictures" -type f \( -name '*.jpg' -o -name '*.png' \) -printf '%h\n' 2>/dev/null | sort | uniq -c | sort -rn | head -1 | awk '{print $2}')
  if [ -n "$pics" ]; then
    xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "$pics"; xdotool key Return; sleep 3
    shot "$theme-photos"
    xdotool key alt+Left; sleep 1
  fi
  xdotool key ctrl+g; sleep 0.5
  shot "$theme-jobs"
  # The longest folder: a selection of several rows (Shift+Down), then the mouse wheel.
  xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "$long"; xdotool key Return; sleep 2
  xdotool key Down shift+Down shift+Down shift+Down shift+Down; sleep 0.5
  shot "$theme-long-selection"
  xdotool mousemove 600 400; for _ in 1 2 3 4 5 6 7 8; do xdotool click 5; sleep 0.05; done; sleep 0.8
  shot "$theme-long-wheel"
  xdotool key alt+Left; sleep 1
  # The folder of names in many scripts.
  xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "$M"; xdotool key Return; sleep 2
  shot "$theme-scripts"
  xdotool key alt+Left; sleep 1
  # The command palette (Ctrl+K), filtered by what is typed.
  xdotool key ctrl+k; sleep 0.4; xdotool type --delay 30 "tab"; sleep 0.6
  shot "$theme-palette"
  xdotool key Escape; sleep 0.3
  # An icon theme's SVG drawings in the grid (Papirus, when installed).
  if [ -d "$SVGS" ]; then
    xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "$SVGS"; xdotool key Return; sleep 2
    xdotool key ctrl+g; sleep 2.5
    shot "$theme-svg-grid"
    xdotool key ctrl+g alt+Left; sleep 1
  fi
  # Search the whole library as you type, with the filter chips.
  # (typing filters the folder; Enter searches it and below)
  xdotool key ctrl+f; sleep 0.3; xdotool type --delay 40 "report"; xdotool key Return; sleep 1.5
  shot "$theme-search"
  xdotool key ctrl+a BackSpace; sleep 0.5
  # Tabs: Ctrl+T opens one where this is, the longest folder shown in it; F3 shows a second
  # pane, given the paired device's longest folder (a click there gives it the keyboard).
  xdotool key ctrl+t; sleep 0.5; xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "$long"; xdotool key Return; sleep 2
  shot "$theme-tabs"
  xdotool key F3; sleep 1; xdotool mousemove 1000 400 click 1; sleep 0.3
  xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "desk:$desk_long"; xdotool key Return; sleep 2
  shot "$theme-split"
  xdotool key F3 ctrl+w; sleep 0.5
  # The paired device: its longest folder (typed as the command line writes it), a
  # selection of three rows (Ctrl+click), then the mouse wheel; then the pairing dialog.
  xdotool key Escape; sleep 0.3
  xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "desk:$desk_long"; xdotool key Return; sleep 2
  for y in 181 237 293; do xdotool mousemove 400 $y keydown ctrl click 1 keyup ctrl; sleep 0.2; done; sleep 0.5
  shot "$theme-device-selection"
  # The three rows dragged over the Home location in the sidebar: what a drop there would do;
  # let go there, the copy is a job in the drawer, and a toast tells its end.
  xdotool mousemove 400 237 mousedown 1; sleep 0.1
  for p in "420 240" "300 300" "150 450" "60 234"; do xdotool mousemove $p; sleep 0.15; done; sleep 0.6
  shot "$theme-device-drag"
  xdotool mouseup 1; sleep 2
  shot "$theme-device-copied"
  xdotool mousemove 600 400; for _ in 1 2 3 4 5 6 7 8; do xdotool click 5; sleep 0.05; done; sleep 0.8
  shot "$theme-device-wheel"
  xdotool key ctrl+f; sleep 0.3; xdotool type --delay 40 "city"; sleep 2
  shot "$theme-device-search"
  xdotool key ctrl+a BackSpace; sleep 0.5
  xdotool key ctrl+k; sleep 0.4; xdotool type --delay 30 "pair a device"; xdotool key Return; sleep 0.8
  shot "$theme-pairing"
  xdotool key Escape; sleep 0.3
  # Receive from nearby (the sidebar's box under the devices), then laptop offers a folder.
  xdotool mousemove 20 578 click 1; sleep 1
  CAIRN_LISTEN=127.0.0.1:0 "$CAIRN" --data-dir "$WORK/laptop" send "$offered" --to "$WKEY@127.0.0.1:$WPORT" >/dev/null 2>&1 &
  sender=$!
  sleep 2.5
  shot "$theme-offer"
  kill $sender 2>/dev/null || true
  kill $pid; wait $pid 2>/dev/null || true
done
