#!/usr/bin/env bash
# warden vs wabt's wasm-validate on the benchmark modules. Each whole command is run RUNS times
# and the median taken; each tool's median on an empty module (its start-up) is subtracted, so
# "net" is the time spent validating, and the ratio compares that work.
# Usage: bench/compare-validate.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build/release}
runs=${2:-21}
warden="$build/tools/warden"
command -v wasm-validate >/dev/null || { echo "wasm-validate not found (apt-get install wabt)"; exit 2; }
empty=$(mktemp --suffix=.wasm)
trap 'rm -f "$empty"' EXIT
printf '\000asm\001\000\000\000' > "$empty"

median_ms() {  # median wall time in ms of running "$@" $runs times
  local times=() t0 t1
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1000}'
}

w0=$(median_ms "$warden" validate "$empty")
v0=$(median_ms wasm-validate "$empty")
echo "start-up (empty module): warden ${w0} ms, wasm-validate ${v0} ms; medians of $runs runs"
printf '%-20s %9s %15s %15s %12s %12s\n' module bytes "warden net ms" "wabt net ms" "warden MB/s" "warden/wabt"
for module in "$build/bench/largest-suite.wasm" "$build/bench/warden-core.wasm"; do
  size=$(stat -c %s "$module")
  w=$(median_ms "$warden" validate "$module")
  v=$(median_ms wasm-validate "$module")
  awk -v n="$(basename "$module")" -v s="$size" -v w="$w" -v v="$v" -v w0="$w0" -v v0="$v0" \
    'BEGIN { wn = w - w0; vn = v - v0; if (wn <= 0) wn = 0.001; if (vn <= 0) vn = 0.001;
             printf "%-20s %9d %15.3f %15.3f %12.1f %12.2f\n", n, s, wn, vn, s/1e6/(wn/1e3), wn/vn }'
done
echo "(ratio < 1: warden faster. Net times of a few ms are within noise; see decode_validate_bench.)"
