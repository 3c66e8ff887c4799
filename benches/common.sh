# Shared by the benchmark scripts (sourced, not run): the bench folder, the anchor tools, a
# release build of Cairn (a debug build is refused), a throwaway data folder, and `rounds`, which
# times an anchor and Cairn in the same hyperfine invocation, alternating.
#
# Environment: BENCH_DIR (default ~/.cache/cairn/bench), CARGO_TARGET_DIR (where to build),
# CAIRN (a release binary to use instead of building), ROUNDS (timed rounds, default 5).

BENCH_DIR="${BENCH_DIR:-$HOME/.cache/cairn/bench}"
ROUNDS="${ROUNDS:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
OUT="$BENCH_DIR/results"
mkdir -p "$BENCH_DIR" "$OUT"

need() { command -v "$1" >/dev/null 2>&1; }

# install_tools: hyperfine, fd, b3sum, jdupes, rdfind, GNU time, if any is missing.
install_tools() {
  if ! need hyperfine || ! need fdfind || ! need b3sum || ! need jdupes || ! need rdfind || ! [ -x /usr/bin/time ]; then
    echo "== installing anchor tools (hyperfine, fd-find, b3sum, jdupes, rdfind, time)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine fd-find b3sum jdupes rdfind time
  fi
}

# cairn_release: sets CAIRN to a release build (built here unless CAIRN is given) and refuses a
# build with debug assertions (`cairn --version` says "debug build"): its times mean nothing.
cairn_release() {
  if [ -z "${CAIRN:-}" ]; then
    echo "== building cairn (release)"
    (cd "$(dirname "${BASH_SOURCE[0]}")/.." && cargo build --release --quiet)
    CAIRN="$CARGO_TARGET_DIR/release/cairn"
  fi
  CAIRN=$(realpath "$CAIRN")
  if "$CAIRN" --version | grep -q "debug build"; then
    echo "refused: $CAIRN is a debug build; benchmark a release build (cargo build --release)" >&2
    exit 1
  fi
}

# throwaway_data: sets DATA to a new empty folder for --data-dir, removed when the script ends.
throwaway_data() {
  DATA=$(mktemp -d "$BENCH_DIR/data.XXXXXX")
  trap 'rm -rf "$DATA"' EXIT
}

# rounds NAME LABEL PREPARE COMMAND [LABEL PREPARE COMMAND …]
#
# One hyperfine invocation per round running every command once (the first is the anchor),
# ROUNDS timed rounds after one warm-up round that is thrown away (this machine's page cache is
# cold after a pause). The order is reversed every other round so that drift on a busy machine
# falls on both sides. PREPARE runs before its command in every round ("true" for nothing).
# Prints, per command, the median and the spread (min–max) over the rounds, the ratio of the
# medians to the anchor and the median of the per-round ratios; the rounds' JSON is kept in
# $OUT/NAME-R.json.
rounds() {
  local name=$1; shift
  local -a labels=() preps=() cmds=()
  while [ $# -gt 0 ]; do labels+=("$1"); preps+=("$2"); cmds+=("$3"); shift 3; done
  local n=${#labels[@]} r i j
  rm -f "$OUT/$name"-*.json
  for r in $(seq 0 "$ROUNDS"); do
    # hyperfine wants every --prepare before the commands, in the commands' order.
    local -a preps_args=() cmd_args=()
    for j in $(seq 0 $((n - 1))); do
      if (( r % 2 == 1 )); then i=$((n - 1 - j)); else i=$j; fi
      preps_args+=(--prepare "${preps[$i]}")
      cmd_args+=(-n "${labels[$i]}" "${cmds[$i]}")
    done
    if ! hyperfine --style none --runs 1 --export-json "$OUT/$name-$r.json" \
      "${preps_args[@]}" "${cmd_args[@]}" >/dev/null 2>"$OUT/$name.err"; then
      cat "$OUT/$name.err" >&2
      exit 1
    fi
  done
  python3 - "$OUT" "$name" "$ROUNDS" "${labels[@]}" <<'PY'
import json, statistics, sys
out, name, rounds, labels = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
t = {l: [] for l in labels}
for r in range(1, rounds + 1):  # round 0 is the warm-up
    for res in json.load(open(f"{out}/{name}-{r}.json"))["results"]:
        t[res["command"]].append(res["mean"])
anchor = labels[0]
med = {l: statistics.median(v) for l, v in t.items()}
for l in labels:
    v = t[l]
    line = f"{name:<26} {l:<14} median {med[l]:8.3f} s  spread {min(v):.3f}–{max(v):.3f} s"
    if l != anchor:
        per_round = statistics.median(a / b for a, b in zip(v, t[anchor]))
        line += f"  ×{med[l] / med[anchor]:.2f} {anchor} (per-round median ×{per_round:.2f})"
    print(line)
PY
}
