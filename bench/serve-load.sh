#!/usr/bin/env bash
# Load on warden serve (a benchmark, not a test): wrk on 127.0.0.1 with TENANTS tenants (1000)
# over CONNECTIONS connections (64) for SECONDS (20), calling a plugin that keeps each tenant's
# secret in a var; every response is checked to carry its own tenant's secret. Meanwhile a
# looping, a memory-exhausting and a trapping plugin are called in a loop: they must fail alone.
# Prints throughput, p50/p99 latency, the server's peak RSS and the hostile calls' statuses.
# SERVE_ARGS adds options to warden serve (e.g. --no-snapshots).
# usage: bench/serve-load.sh BUILD_DIR
set -euo pipefail
build=${1:?build dir}
tenants=${TENANTS:-1000} connections=${CONNECTIONS:-64} seconds=${SECONDS_OF_LOAD:-20}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'touch "$work/stop"; kill "$pid" 2>/dev/null || true; wait; rm -rf "$work"' EXIT
mkdir "$work/plugins"
wat2wasm "$here/serve/secrets.wat" -o "$work/plugins/secrets.wasm"
cp "$build/examples/plugins/hostile.wasm" "$build/examples/plugins/errors.wasm" "$work/plugins/"
cat > "$work/policy.yaml" <<'YAML'
default_tier: tenants
tiers:
  tenants:
    capabilities: [vars, config_read, log_emit]
    resource_limits:
      memory: 16MiB
      timeout_ms: 500
YAML
"$build/tools/warden" serve --policy "$work/policy.yaml" --plugins "$work/plugins" \
  --listen 127.0.0.1:0 --threads 64 --max-instances $((tenants + 100)) ${SERVE_ARGS:-} 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1)
[ -n "$url" ] || { cat "$work/serve.log"; exit 1; }
echo "warden serve at $url; $tenants tenants, $connections connections, ${seconds} s"

hostile() {  # the hostile calls, in a loop, while the load runs; their status codes counted
  while [ ! -e "$work/stop" ]; do
    for call in hostile/call/infinite_loop hostile/call/memory_bomb errors/call/trap; do
      curl -s -o /dev/null -w "$call %{http_code}\n" -H 'X-Tenant-Id: mallory' --data '' \
        "$url/v1/plugins/$call" >> "$work/hostile.txt"
    done
  done
}
hostile &
hostile_pid=$!
TENANTS=$tenants wrk -t 4 -c "$connections" -d "${seconds}s" --latency -s "$here/serve/tenants.lua" \
  "$url" | tee "$work/wrk.txt"
touch "$work/stop"
wait "$hostile_pid"
echo "hostile calls during the load (status: count):"
sort "$work/hostile.txt" | uniq -c | sed 's/^/  /'
echo "server peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
kill -TERM "$pid"
wait "$pid" || true
grep -q "checked .*: 0 carried another tenant's secret, 0 not 200" "$work/wrk.txt" ||
  { echo "serve-load: FAILED: a response was wrong (see above)"; exit 1; }
echo "serve-load: every response carried its own tenant's secret"
