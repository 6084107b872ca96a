#!/usr/bin/env bash
# The end of `make demo`: a short warden serve session. Starts the server on 127.0.0.1 (a free
# port) with the demo's tier policy, calls count_vowels as two tenants (each keeps its own
# running total), shows a refusal and a few metrics, then stops it with SIGTERM.
# usage: scripts/demo-serve.sh WARDEN PLUGINS_DIR
set -euo pipefail
warden=$1 plugins=$2
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/plugins"
cp "$plugins/count_vowels.wasm" "$plugins/hostile.wasm" "$work/plugins/"
"$warden" serve --policy examples/policy/tier-policy.yaml --plugins "$work/plugins" \
  --listen 127.0.0.1:0 --audit-log "$work/audit.jsonl" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
cat "$work/serve.log"
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1)
show() { echo "\$ curl $*"; curl -s -w '  [HTTP %{http_code}]\n' "$@"; }
show -H 'X-Tenant-Id: alice' --data 'Hello, World!' "$url/v1/plugins/count_vowels/call/count_vowels"
show -H 'X-Tenant-Id: alice' --data 'Hello, World!' "$url/v1/plugins/count_vowels/call/count_vowels"
show -H 'X-Tenant-Id: bob' --data 'aeiou' "$url/v1/plugins/count_vowels/call/count_vowels"
show --data 'no tenant' "$url/v1/plugins/count_vowels/call/count_vowels"
show -H 'X-Tenant-Id: mallory' --data '' "$url/v1/plugins/hostile/call/infinite_loop"
echo "\$ curl $url/metrics | grep plugin_invocations_total"
curl -s "$url/metrics" | grep '^plugin_invocations_total'
kill -TERM "$pid"
wait "$pid"
tail -2 "$work/serve.log"
echo "audit records: $(wc -l < "$work/audit.jsonl")"
