#!/usr/bin/env bash
# pgo-train.sh BUILD_DIR: the training run of `make pgo`. Runs the instrumented CLI of BUILD_DIR
# (configured with WARDEN_PGO=generate) over what the profile should describe: every bench
# workload with fuel metering on and off (the interpreter's handlers, calls, memory, fuel
# checks), the SIMD builds, and Extism plugin calls (the kernel ABI, host functions). Each run
# must succeed and print the workload's native checksum: a profile of a failing run would
# teach the compiler the wrong paths. Old profiles are removed first, so the result describes
# exactly this build.
set -euo pipefail
BUILD=${1:?usage: scripts/pgo-train.sh BUILD_DIR}
WARDEN="$BUILD/tools/warden"
WL="$BUILD/bench/workloads"
PLUGINS="$BUILD/examples/plugins"
FUEL=100000000000000
WORKLOADS="fib sieve nbody sha256 matmul bytecode strings coremark_like simd_text simd_fdot simd_base64"

[ -x "$WARDEN" ] || { echo "pgo-train.sh: $WARDEN not found" >&2; exit 2; }
find "$BUILD" -name '*.gcda' -delete

check() {  # check WORKLOAD EXPECTED COMMAND...: runs COMMAND, which must print EXPECTED
  local w=$1 expected=$2 out
  shift 2
  out=$("$@") || { echo "pgo-train.sh: '$*' failed" >&2; exit 1; }
  [ "$out" = "$expected" ] || { echo "pgo-train.sh: $w printed '$out', expected '$expected'" >&2; exit 1; }
}

start=$(date +%s)
for w in $WORKLOADS; do
  expected=$("$WL/$w.native")
  printf 'pgo-train: %-14s' "$w" >&2
  check "$w" "$expected" "$WARDEN" run --fuel $FUEL "$WL/$w.wasm"
  check "$w" "$expected" "$WARDEN" run "$WL/$w.wasm"
  check "$w" "$expected" "$WARDEN" run --fuel $FUEL "$WL/$w.simd.wasm"
  echo " ok" >&2
done
if [ -f "$PLUGINS/count_vowels.wasm" ]; then
  printf 'pgo-train: %-14s' "count_vowels" >&2
  "$WARDEN" call "$PLUGINS/count_vowels.wasm" count_vowels --input "Hello, World! $(head -c 4000 /dev/zero | tr '\0' a)" \
    --loop 200 >/dev/null
  echo " ok" >&2
fi
echo "pgo-train: $(find "$BUILD" -name '*.gcda' | wc -l) profiles in $(( $(date +%s) - start )) s" >&2
