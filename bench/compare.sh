#!/usr/bin/env bash
# compare.sh BUILD_DIR [RUNS]: runs every benchmark workload under warden (fuel metering on and
# off), natively (the same C source, -O2), under Node's WebAssembly, and under peer engines given
# by environment variable (WASM3=/path/to/wasm3, IWASM=/path/to/iwasm); and the SIMD build of
# each workload (-msimd128) under warden and Node. Each cell is the median wall time of RUNS runs
# (default 5); every engine's checksum must equal the native one (else the cell says MISMATCH;
# an engine that fails says FAIL). Prints one table with the ratios warden(fuel)/wasm3,
# warden(fuel)/warden(no fuel), SIMD build/scalar build under warden and under Node, and a
# geometric-mean row. WORKLOADS="a b" runs only those, SKIP="node node-simd" leaves engines out;
# WARDEN_B=path adds a second warden binary (another build or commit) and its ratios to the first.
# Peers are built by you, outside this repository; nothing here fetches or builds them.
set -u
BUILD=${1:?usage: bench/compare.sh BUILD_DIR [RUNS]}
RUNS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
WARDEN="$BUILD/tools/warden"
WL="$BUILD/bench/workloads"
WORKLOADS=${WORKLOADS:-"fib sieve nbody sha256 matmul bytecode strings coremark_like simd_text simd_fdot simd_base64"}
FUEL=100000000000000

[ -x "$WARDEN" ] || { echo "compare.sh: $WARDEN not found: build first (make build)" >&2; exit 2; }
[ -f "$WL/fib.wasm" ] || { echo "compare.sh: workloads not built in $WL" >&2; exit 2; }

declare -A CMD
ENGINES="native warden warden-nofuel warden-simd"
CMD[native]='$WL/$w.native'
CMD[warden]='$WARDEN run --fuel $FUEL $WL/$w.wasm'
CMD[warden-nofuel]='$WARDEN run $WL/$w.wasm'
CMD[warden-simd]='$WARDEN run --fuel $FUEL $WL/$w.simd.wasm'
if command -v node >/dev/null; then
  ENGINES="$ENGINES node node-simd"
  CMD[node]='node --no-warnings $HERE/node-wasi.mjs $WL/$w.wasm'
  CMD[node-simd]='node --no-warnings $HERE/node-wasi.mjs $WL/$w.simd.wasm'
fi
# A second warden build beside the first (WARDEN_B=build/pgo/tools/warden, or another commit's
# binary): fuel on and off, and the ratios B/warden.
if [ -n "${WARDEN_B:-}" ]; then
  ENGINES="$ENGINES warden-b warden-b-nofuel"
  CMD[warden-b]='$WARDEN_B run --fuel $FUEL $WL/$w.wasm'
  CMD[warden-b-nofuel]='$WARDEN_B run $WL/$w.wasm'
fi
if [ -n "${WASM3:-}" ]; then ENGINES="$ENGINES wasm3"; CMD[wasm3]='$WASM3 $WL/$w.wasm'; fi
if [ -n "${IWASM:-}" ]; then ENGINES="$ENGINES iwasm"; CMD[iwasm]='$IWASM $WL/$w.wasm'; fi
# SKIP="node node-simd" leaves those engines out.
for e in ${SKIP:-}; do ENGINES=$(echo " $ENGINES " | sed "s/ $e / /"); done

# time ENGINE WORKLOAD: prints the wall seconds of one run, or FAIL / MISMATCH.
time_one() {
  local engine=$1 w=$2 out start end
  start=$(date +%s%N)
  out=$(eval "${CMD[$engine]}" 2>/dev/null) || { echo FAIL; return; }
  end=$(date +%s%N)
  [ "$out" = "${EXPECTED[$w]}" ] || { echo MISMATCH; return; }
  echo $(( (end - start) / 1000 ))
}

# Runs are interleaved (engine A, B, C, A, B, C, ...) so that drift in the machine's speed
# falls on every engine alike; each cell is the median of its RUNS runs.
declare -A T EXPECTED
echo "runs per cell: $RUNS (median wall seconds, including process start-up; runs interleaved)" >&2
for w in $WORKLOADS; do
  EXPECTED[$w]=$("$WL/$w.native")
  declare -A samples=()
  for ((i = 0; i < RUNS; i++)); do
    for e in $ENGINES; do
      samples[$e]="${samples[$e]:-} $(time_one "$e" "$w")"
    done
    printf '.' >&2
  done
  for e in $ENGINES; do
    T[$w,$e]=$(echo ${samples[$e]} | tr ' ' '\n' | python3 -c '
import sys
v = sys.stdin.read().split()
bad = [x for x in v if not x.isdigit()]
if bad: print(bad[0])
else:
    v = sorted(int(x) for x in v); n = len(v)
    m = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    print(f"{m / 1e6:.3f}")')
  done
  unset samples
done
echo >&2

python3 - "$ENGINES" "$WORKLOADS" "$(for w in $WORKLOADS; do for e in $ENGINES; do echo "$w $e ${T[$w,$e]}"; done; done)" <<'PY'
import math, sys
engines, workloads, cells = sys.argv[1].split(), sys.argv[2].split(), sys.argv[3]
t = {}
for line in cells.splitlines():
    w, e, v = line.split()
    t[w, e] = v
def num(w, e):
    try: return float(t.get((w, e), '-'))
    except ValueError: return None
ratios = [("warden/wasm3", "warden", "wasm3"), ("warden/native", "warden", "native"),
          ("fuel on/off", "warden", "warden-nofuel"), ("simd/scalar", "warden-simd", "warden"),
          ("node simd/scalar", "node-simd", "node"), ("b/warden", "warden-b", "warden"),
          ("b nofuel/nofuel", "warden-b-nofuel", "warden-nofuel"),
          ("b fuel on/off", "warden-b", "warden-b-nofuel"), ("b/wasm3", "warden-b", "wasm3")]
ratios = [r for r in ratios if r[1] in engines]
ratios = [r for r in ratios if r[2] in engines]
head = ["workload"] + engines + [r[0] for r in ratios]
rows, logs = [], {r[0]: [] for r in ratios}
for w in workloads:
    row = [w] + [t.get((w, e), '-') for e in engines]
    for name, a, b in ratios:
        x, y = num(w, a), num(w, b)
        if x and y:
            row.append(f"{x / y:.2f}")
            logs[name].append(math.log(x / y))
        else:
            row.append('-')
    rows.append(row)
geo = ["geomean"] + [''] * len(engines)
for name, _, _ in ratios:
    v = logs[name]
    geo.append(f"{math.exp(sum(v) / len(v)):.2f}" if v else '-')
rows.append(geo)
widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
fmt = lambda r: ' | '.join(str(c).rjust(widths[i]) for i, c in enumerate(r))
print(fmt(head))
print('-+-'.join('-' * x for x in widths))
for r in rows: print(fmt(r))
PY
