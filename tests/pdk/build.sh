#!/usr/bin/env bash
# Builds warden's AssemblyScript test plugins with the Extism AssemblyScript
# PDK (@extism/as-pdk, from npm): tests/pdk/as/NAME.ts -> OUTDIR/NAME.wasm.
#
#   tests/pdk/build.sh OUTDIR
#
# Installs the pinned packages (npm ci, from package-lock.json) first when
# node_modules is missing. Needs node and npm.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$1"
outdir="$(cd "$1" && pwd)"

cd "$here"
if [[ ! -x node_modules/.bin/asc || ! -d node_modules/@extism/as-pdk ]]; then
  echo "build.sh: installing the pinned npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

plugins=(count_vowels echo fail log http_get exit_code)

# Options: the PDK's README compiles with `--use abort=FILE/FUNCTION`, which
# replaces AssemblyScript's default abort (an import of env.abort, which an
# Extism host does not provide) with a function of the plugin; ours sets the
# call's error and traps. -O2 optimises without the size-for-speed trade-offs
# of -O3; the runtime is AssemblyScript's default (incremental GC), which
# keeps memory bounded across repeated calls on one instance. No SIMD or other
# non-default Wasm features are enabled.
for name in "${plugins[@]}"; do
  node_modules/.bin/asc "as/$name.ts" \
    --outFile "$outdir/$name.wasm" \
    -O2 \
    --runtime incremental \
    --use abort=as/lib/support/pluginAbort \
    --disableWarning
  echo "built $outdir/$name.wasm" >&2
done
