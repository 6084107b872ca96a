#!/usr/bin/env bash
# layout-spread.sh BUILD_DIR [RUNS] [NUDGES]: how much a build's interpreter speed depends on
# where its code happens to sit. Rebuilds BUILD_DIR's `warden` once per nudge (WARDEN_LAYOUT_NUDGE:
# N bytes of no-ops before the handlers, every instruction unchanged), keeps each binary, then
# runs every workload under each binary with fuel on, interleaved (binary A, B, C, A, B, C, ...),
# RUNS rounds (default 5). Prints each workload's median per nudge and its spread: the slowest
# median over the fastest. Restores BUILD_DIR to nudge 0 at the end. Works on any configured tree
# (build/release, or build/pgo after `make pgo`: its profile still applies, since the no-ops
# change no control flow). WORKLOADS="a b" runs only those.
set -euo pipefail
BUILD=${1:?usage: bench/layout-spread.sh BUILD_DIR [RUNS] [NUDGES]}
RUNS=${2:-5}
NUDGES=${3:-"0 8 24 40"}
WORKLOADS=${WORKLOADS:-"fib sieve nbody sha256 matmul bytecode strings coremark_like"}
WL="$BUILD/bench/workloads"
FUEL=100000000000000
KEEP=$(mktemp -d)
trap 'rm -rf "$KEEP"' EXIT

[ -f "$BUILD/CMakeCache.txt" ] || { echo "layout-spread.sh: $BUILD is not a configured build" >&2; exit 2; }
[ -f "$WL/fib.wasm" ] || { echo "layout-spread.sh: workloads not built in $BUILD" >&2; exit 2; }
restore() { cmake -S . -B "$BUILD" -DWARDEN_LAYOUT_NUDGE=0 >/dev/null && cmake --build "$BUILD" --target warden >/dev/null; }
for n in $NUDGES; do
  echo "layout-spread: building warden with a $n-byte nudge" >&2
  cmake -S . -B "$BUILD" -DWARDEN_LAYOUT_NUDGE="$n" >/dev/null
  cmake --build "$BUILD" --target warden >/dev/null || { restore; exit 1; }
  cp "$BUILD/tools/warden" "$KEEP/warden-$n"
done
restore

declare -A samples expected
for w in $WORKLOADS; do expected[$w]=$("$WL/$w.native"); done
for ((i = 0; i < RUNS; i++)); do
  for w in $WORKLOADS; do
    for n in $NUDGES; do
      start=$(date +%s%N)
      out=$("$KEEP/warden-$n" run --fuel $FUEL "$WL/$w.wasm")
      end=$(date +%s%N)
      [ "$out" = "${expected[$w]}" ] || { echo "layout-spread.sh: $w with nudge $n printed '$out'" >&2; exit 1; }
      samples[$w,$n]="${samples[$w,$n]:-} $(( (end - start) / 1000 ))"
    done
  done
  printf '.' >&2
done
echo >&2

python3 - "$NUDGES" "$WORKLOADS" "$(for w in $WORKLOADS; do for n in $NUDGES; do echo "$w $n ${samples[$w,$n]}"; done; done)" <<'PY'
import math, statistics, sys
nudges, workloads = sys.argv[1].split(), sys.argv[2].split()
med = {}
for line in sys.argv[3].splitlines():
    w, n, *v = line.split()
    med[w, n] = statistics.median(int(x) for x in v) / 1e6
head = ["workload"] + [f"nudge {n}" for n in nudges] + ["spread"]
rows, logs = [], []
for w in workloads:
    m = [med[w, n] for n in nudges]
    spread = max(m) / min(m)
    logs.append(math.log(spread))
    rows.append([w] + [f"{x:.3f}" for x in m] + [f"{spread:.3f}"])
rows.append(["geomean"] + [""] * len(nudges) + [f"{math.exp(sum(logs) / len(logs)):.3f}"])
widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
fmt = lambda r: " | ".join(c.rjust(widths[i]) for i, c in enumerate(r))
print("median wall seconds with fuel on, per nudge; spread = slowest / fastest")
print(fmt(head))
print("-+-".join("-" * x for x in widths))
for r in rows: print(fmt(r))
PY
