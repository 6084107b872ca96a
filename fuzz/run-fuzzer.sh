#!/usr/bin/env bash
# Runs a fuzzer for N seconds over the seed corpus and prints its speed.
# Usage: fuzz/run-fuzzer.sh BUILD_DIR SECONDS [TARGET] (TARGET: decode_validate_fuzzer, the
# default, execute_fuzzer, kernel_fuzzer or policy_fuzzer, whose seeds are the policy documents
# and schemas of tests/testdata/policy and examples/policy). Exit status non-zero on any crash, leak, timeout or
# sanitizer report (libFuzzer's own exit status).
set -euo pipefail
build=${1:?build dir}
seconds=${2:-60}
target=${3:-decode_validate_fuzzer}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$build/artifacts"
log="$build/$target.log"
status=0
seeds=("$build/corpus") options=(-dict="$here/wasm.dict")
if [[ "$target" == policy_fuzzer ]]; then
  # One seed per document, with the selector byte of each parser in front.
  mkdir -p "$work/seeds"
  i=0
  while IFS= read -r -d '' f; do
    for kind in 0 1 2 3; do
      { printf "\\$(printf '%03o' "$kind")"; cat "$f"; } >"$work/seeds/$i-$kind"
    done
    i=$((i + 1))
  done < <(find "$here/../tests/testdata/policy" "$here/../examples/policy" -type f -print0)
  seeds=("$work/seeds") options=()
fi
"$build/fuzz/$target" "$work/corpus" "${seeds[@]}" \
  "${options[@]}" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/" \
  >"$log" 2>&1 || status=$?
tail -n 25 "$log"
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
echo "fuzz ($target): ${runs} executions in ${seconds} s ($(( runs / seconds )) execs/s), exit status ${status}"
exit "$status"
