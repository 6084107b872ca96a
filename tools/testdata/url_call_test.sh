#!/bin/sh
# warden call with an http:// URL as the plugin: a server on 127.0.0.1 (a free port) serves the
# plugins directory; the URL's host is the only source allowed. Usage: url_call_test.sh WARDEN DIR
set -u
warden=$1 dir=$2
log=$(mktemp)
python3 -m http.server 0 --bind 127.0.0.1 --directory "$dir" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
port=""
for _ in $(seq 50); do
  port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "the test server did not start"; cat "$log"; exit 1; }
"$warden" call "http://127.0.0.1:$port/count_vowels.wasm" count_vowels -i "aeiou" || exit 1
# A missing file is the server's 404, named.
"$warden" call "http://127.0.0.1:$port/no-such.wasm" count_vowels 2>&1
echo "exit $?"
