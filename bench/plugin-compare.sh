#!/usr/bin/env bash
# Extism plugin costs, warden vs the Extism JS SDK on Node, in one run on the same ~2 MB plugin:
# echo calls with a 16-byte input (calls per second) and plugin creation + first call.
#   bench/plugin-compare.sh [BUILD_DIR]      (default build/release; needs tests/pdk npm packages)
set -euo pipefail
build="${1:-build/release}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -d "$here/../tests/pdk/node_modules/@extism/extism" ] || (cd "$here/../tests/pdk" && npm ci --silent)
big="$build/bench/big_plugin.wasm"
"$build/bench/plugin_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true 2>/dev/null |
  grep -E "_median" | sed 's/^/warden /'
node --no-warnings "$here/js-sdk-bench.mjs" "$big" 3
