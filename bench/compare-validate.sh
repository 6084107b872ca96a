#!/usr/bin/env bash
# warden vs wabt's wasm-validate on the benchmark modules: medians of several runs of each
# whole command (process start included for both), and the ratio.
# Usage: bench/compare-validate.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build/release}
runs=${2:-11}
warden="$build/tools/warden"
command -v wasm-validate >/dev/null || { echo "wasm-validate not found (apt-get install wabt)"; exit 2; }

median_ms() {  # median wall time in ms of running "$@" $runs times
  local times=()
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}

printf '%-22s %10s %12s %12s %12s %14s\n' module bytes "warden ms" "wabt ms" "warden MB/s" "warden/wabt"
for module in "$build/bench/largest-suite.wasm" "$build/bench/warden-core.wasm"; do
  size=$(stat -c %s "$module")
  w=$(median_ms "$warden" validate "$module")
  v=$(median_ms wasm-validate "$module")
  awk -v n="$(basename "$module")" -v s="$size" -v w="$w" -v v="$v" \
    'BEGIN {printf "%-22s %10d %12.2f %12.2f %12.1f %14.2f\n", n, s, w, v, s/1e6/(w/1e3), w/v}'
done
echo "(ratio < 1: warden faster; times include process start-up of each tool)"
