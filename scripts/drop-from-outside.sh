#!/usr/bin/env bash
# Drags a file from another application (a small GTK window, the drag source a file manager
# would be) into the real Cairn window under Xvfb, over X11's drag-and-drop protocol (XDND):
# saves a PNG of the window while the file hovers (what a drop would do) and after the drop,
# and checks the file was copied into the folder shown. In the dark and the light theme.
#
#   scripts/drop-from-outside.sh [OUT_DIR]        (default: ./screenshots)
#
# Needs Xvfb, ImageMagick, xdotool and GTK 3's Python bindings; installs them if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-screenshots}"
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
if ! command -v Xvfb >/dev/null || ! command -v import >/dev/null || ! command -v xdotool >/dev/null \
   || ! /usr/bin/python3 -c 'import gi; gi.require_version("Gtk", "3.0")' 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb imagemagick xdotool python3-gi gir1.2-gtk-3.0
fi
cargo build --release --quiet
CAIRN="$CARGO_TARGET_DIR/release/cairn"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cat > "$WORK/source.py" <<'PY'
import sys, gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gtk, Gdk
w = Gtk.Window(title="drag source")
b = Gtk.Button(label="drag me")
b.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
b.drag_source_add_uri_targets()
b.connect("drag-data-get", lambda _w, _c, data, _i, _t: data.set_uris(["file://" + p for p in sys.argv[1:]]))
w.add(b); w.set_default_size(200, 100); w.move(1300, 100)
w.connect("destroy", Gtk.main_quit); w.show_all(); Gtk.main()
PY
Xvfb :96 -screen 0 1600x900x24 -nolisten tcp >/dev/null 2>&1 &
sleep 1
export DISPLAY=:96 XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" "$WORK/out"
echo "from another application" > "$WORK/out/card.txt"
shot() { import -window root -crop 1200x760+0+0 "$OUT/$1.png"; echo "saved $OUT/$1.png"; }
/usr/bin/python3 "$WORK/source.py" "$WORK/out/card.txt" &
for theme in dark light; do
  inbox="$WORK/Home/inbox-$theme"; mkdir -p "$inbox"
  HOME="$WORK/Home" CAIRN_THEME=$theme "$CAIRN" --data-dir "$WORK/data" >/dev/null 2>&1 &
  pid=$!
  sleep 4
  win=$(xdotool search --name Cairn | head -1)
  xdotool windowsize "$win" 1200 760 windowmove "$win" 0 0 windowfocus "$win"; sleep 0.5
  xdotool key ctrl+l; sleep 0.3; xdotool type --delay 5 "$inbox"; xdotool key Return; sleep 1
  # Press on the source's button, then move into the window in steps, as a hand would.
  xdotool mousemove 1390 150 mousedown 1; sleep 0.2
  for x in 1380 1350 1300 1200 1000 800 700 650 600; do xdotool mousemove $x 350; sleep 0.1; done
  sleep 0.8
  shot "$theme-drop-hover"
  xdotool mouseup 1; sleep 2.5
  shot "$theme-drop-done"
  cmp "$WORK/out/card.txt" "$inbox/card.txt" && echo "$theme: copied into $(basename "$inbox")"
  kill $pid; wait $pid 2>/dev/null || true
done
