#!/usr/bin/env bash
# Screenshots of the file operations in the real window under Xvfb: the context menu, F2 in the
# list and the grid, the paste conflict dialog, Del with Undo, a new folder, a copy in the jobs
# drawer, the batch-rename dialog, the duplicates view and the trash view. HOME and XDG_DATA_HOME are a temp folder, so the trash is too.
#
#   [THEME=light] scripts/screenshot-ops.sh [OUT_DIR]        (default: ./screenshots; dark)
#
# Needs Xvfb, ImageMagick (import) and xdotool (see scripts/screenshot.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-screenshots}"
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
cargo build --release --quiet
CAIRN="$CARGO_TARGET_DIR/release/cairn"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
H="$WORK/Home"
mkdir -p "$H/Documents/Backup" "$H/Pictures" "$H/.local/share"
for n in report.pdf budget.ods notes.md todo.txt letter.odt; do head -c $((RANDOM*7)) /dev/urandom > "$H/Documents/$n"; done
cp "$H/Documents/notes.md" "$H/Documents/Backup/notes.md"
head -c 5000 /dev/urandom > "$H/Documents/Backup/todo.txt"
head -c 200000000 /dev/urandom > "$H/Pictures/big.iso"
# Two copies of two images, for the duplicates view's thumbnails.
for img in /usr/share/doc/python3-pip/html/topics/deps.png /usr/share/icons/hicolor/48x48/apps/*.png; do
  [ -f "$img" ] || continue
  n=$(basename "$img")
  cp "$img" "$H/Pictures/$n"; cp "$img" "$H/Documents/Backup/copy of $n"
  [ "$(ls "$H/Pictures" | wc -l)" -ge 3 ] && break
done
"$CAIRN" --data-dir "$WORK/data" location add "$H" --mode content >/dev/null
Xvfb :98 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
sleep 1
export DISPLAY=:98 XDG_RUNTIME_DIR="$WORK/xdg" XDG_DATA_HOME="$H/.local/share"
mkdir -p "$XDG_RUNTIME_DIR"
THEME="${THEME:-dark}"
shot() { import -window root -crop 1200x760+0+0 "$OUT/$THEME-$1.png"; echo "saved $OUT/$THEME-$1.png"; }
HOME="$H" CAIRN_THEME=$THEME "$CAIRN" --data-dir "$WORK/data" >"$WORK/log" 2>&1 &
pid=$!
sleep 5
win=$(xdotool search --name Cairn | head -1)
xdotool windowsize "$win" 1200 760 windowmove "$win" 0 0 windowfocus "$win"
sleep 1
xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "$H/Documents"; xdotool key Return; sleep 2
# Row 2 (after the Backup folder): a right click opens the context menu.
xdotool mousemove 400 215 click 1; sleep 0.5
xdotool mousemove 400 215 click 3; sleep 1
shot ops-context-menu
xdotool key Escape; sleep 0.5
# F2: rename in place.
xdotool key F2; sleep 0.8
shot ops-rename
xdotool key Escape; sleep 0.5
# Copy notes.md and todo.txt, paste into Backup: both names are taken there.
xdotool key ctrl+a; sleep 0.3
xdotool key ctrl+c; sleep 0.3
xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "$H/Documents/Backup"; xdotool key Return; sleep 2
xdotool key ctrl+v; sleep 2
shot ops-conflict-dialog
xdotool key Escape; sleep 0.5
# Del: to the trash, with the count and Undo in the status line.
xdotool key ctrl+a Delete; sleep 2
shot ops-trashed
# A new folder, renamed in place.
xdotool key ctrl+shift+n; sleep 1.5
shot ops-new-folder
xdotool key Escape; sleep 0.5
# A big copy in the jobs drawer.
xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "$H/Pictures"; xdotool key Return; sleep 2
xdotool key ctrl+a ctrl+c; sleep 0.3
xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "$H/Documents"; xdotool key Return; sleep 1
xdotool key ctrl+v; sleep 0.6
shot ops-copy-progress
sleep 3
shot ops-after-copy
# Rename in the grid.
xdotool key ctrl+g; sleep 1; xdotool key Right; sleep 0.3; xdotool key F2; sleep 0.8
shot ops-grid-rename
xdotool key Escape ctrl+g; sleep 0.5
# Batch rename: every item of Documents, F2, a template typed (the preview follows).
xdotool key ctrl+l; sleep 0.5; xdotool type --delay 5 "$H/Documents"; xdotool key Return; sleep 2
xdotool mousemove 400 245 click 1; sleep 0.3; xdotool key ctrl+a; sleep 0.3; xdotool key F2; sleep 1
xdotool type --delay 30 "{n:2} {name}"; sleep 1
shot ops-batch-rename
xdotool key Escape; sleep 0.5
# The duplicates view: thumbnails of image groups, keep boxes, trash or link the others.
xdotool mousemove 48 150 click 1; sleep 3
shot ops-duplicates
xdotool mousemove 48 150 click 1; sleep 1
# The trash in the sidebar.
xdotool mousemove 33 179 click 1; sleep 1.5
xdotool mousemove 400 120 click 1; sleep 0.5
shot ops-trash-view
xdotool mousemove 33 179 click 1; sleep 1
kill $pid; wait $pid 2>/dev/null || true
cat "$WORK/log" | tail -5
