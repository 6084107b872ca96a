#!/usr/bin/env bash
# Differential test: the same Extism plugins, the same calls, on warden
# (`warden call`) and on the Extism JavaScript SDK (run-js-sdk.mjs); their
# outputs must be equal byte for byte, and they must fail together.
#
#   tests/pdk/differential.sh WARDEN_BIN OUTDIR
#
# OUTDIR receives the AssemblyScript plugins (built with build.sh, through the
# Extism AssemblyScript PDK). A python3 http.server on 127.0.0.1 (free port)
# serves the HTTP cases; it is stopped on exit.
#
# Environment:
#   EXTRA_PLUGINS_DIR  a directory of more plugins; if it has count_vowels.wasm
#                      (exporting count_vowels, e.g. a C plugin), its calls
#                      are compared too (no fixed expected output for them).
#   JS_ONLY=1          check only the JS SDK half against the expectations
#                      (for when WARDEN_BIN has no `call` command yet).
#   KEEP_WORK=1        keep the temporary directory (printed) for inspection.
#
# Each case checks:
#   1. the JS SDK's result against the case's expectation (exact stdout, or a
#      failure whose message contains a text): this keeps the reference honest;
#   2. warden against the JS SDK: same stdout bytes (each call's output then a
#      newline), both succeed or both fail; on failure warden's message
#      ("error: MESSAGE" on stderr) contains the expected text too, and for
#      errors a plugin sets with error_set it equals the SDK's message exactly.
# Cases marked with a known JS SDK deviation (see /work/shared/extism-abi.md:
# the SDK ignores the length given to output_set and non-zero returns without
# an error, fails on alloc(0), cannot run _start plugins, has no ro: mounts;
# and it treats max_var_bytes 0 as "no limit") compare warden against the
# expectation only, and print the deviation.
#
# Prints one line per case, then "differential: N passed, M failed"; exits 1
# when a case failed, 2 for a usage or setup error.
set -uo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 WARDEN_BIN OUTDIR" >&2
  exit 2
fi
warden="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$2"
outdir="$(cd "$2" && pwd)"
js_only="${JS_ONLY:-0}"
case_timeout=120

if [[ "$js_only" != 1 ]]; then
  if [[ ! -x "$warden" ]]; then
    echo "differential: $warden is not an executable (set JS_ONLY=1 to check only the JS half)" >&2
    exit 2
  fi
  warden="$(cd "$(dirname "$warden")" && pwd)/$(basename "$warden")"
  if ! "$warden" call --help >/dev/null 2>&1; then
    echo "differential: $warden has no 'call' command (set JS_ONLY=1 to check only the JS half)" >&2
    exit 2
  fi
fi
for tool in node python3 cmp; do
  if ! command -v "$tool" >/dev/null; then
    echo "differential: $tool is required" >&2
    exit 2
  fi
done

# --- build -------------------------------------------------------------------
if ! "$here/build.sh" "$outdir"; then
  echo "differential: building the AssemblyScript plugins failed" >&2
  exit 2
fi

# --- scratch space and the HTTP server --------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/warden-differential.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if [[ "${KEEP_WORK:-0}" == 1 ]]; then
    echo "differential: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/www"
printf 'hello from the warden differential test\n' > "$work/www/hello.txt"
# Fixed pseudo-random data: every byte value, deterministic across runs.
python3 - "$work" <<'PY'
import random, sys
work = sys.argv[1]
rng = random.Random(20251122)
open(f"{work}/www/bytes.bin", "wb").write(bytes(rng.randrange(256) for _ in range(4096)))
# 100 KiB of arbitrary bytes (NUL, invalid UTF-8, newlines, ...).
open(f"{work}/input-100k.bin", "wb").write(bytes(rng.randrange(256) for _ in range(100 * 1024)))
# 100 KiB of text for count_vowels.
words = ["warden", "extism", "plugin", "AUDIO", "queue", "rhythm", "Ioannina", "sky"]
text = []
size = 0
while size < 100 * 1024:
    w = rng.choice(words)
    text.append(w)
    size += len(w) + 1
open(f"{work}/input-100k.txt", "w").write(" ".join(text)[: 100 * 1024])
PY

python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$work/www" >"$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/^Serving HTTP on .* port \([0-9][0-9]*\).*/\1/p' "$work/server.log" | head -n 1)"
  [[ -n "$port" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "differential: the HTTP server did not start:" >&2
  cat "$work/server.log" >&2
  exit 2
fi
base_url="http://127.0.0.1:$port"

# --- the case runner ---------------------------------------------------------
passed=0
failed=0
case_no=0

# Shows at most 120 bytes of a file, escaped, on one line.
show() {
  python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print(repr(d[:120]) + (" ... (%d bytes)" % len(d) if len(d) > 120 else ""))' "$1"
}

# run_case KEY=VALUE... -- FLAG...
#   name=TEXT          the case's name (required)
#   wasm=PATH func=NAME  the plugin and the function to call (required)
#   input=TEXT | input_file=PATH   the call's input (default: empty)
#   expect=TEXT        expected stdout minus its final newline (calls' outputs,
#                      one per line); or
#   expect_file=PATH   expected stdout is this file's bytes plus a newline; or
#   expect_fail=TEXT   the call fails and both messages contain TEXT; or
#   expect_ok=1        only: the JS SDK call succeeds
#   exact_error=1      warden's error message must equal the JS SDK's
#   compare_logs=1     the plugin log lines on stderr ("[level] message")
#                      must be the same on both hosts
#   expect_logs=N      the JS SDK prints N such log lines
#   expect_rc=N        the rc in warden's "error: MESSAGE (rc N)" must be N (the exit status is 1)
#   js_deviation=TEXT  known JS SDK deviation: compare warden with the
#                      expectation only (JS is run and shown, not compared)
# FLAGS (after --) go to both hosts unchanged: --config K=V, --wasi,
# --allow-host GLOB, --loop N, --log-level L, --timeout MS, --memory-max PAGES,
# --var-max B.
run_case() {
  local name="" wasm="" func="" input="" input_file="" have_input_file=0
  local expect="" expect_file="" expect_fail="" expect_ok=0 have_expect=0
  local exact_error=0 expect_rc="" js_deviation="" compare_logs=0 expect_logs=""
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    case "$1" in
      name=*) name="${1#name=}" ;;
      wasm=*) wasm="${1#wasm=}" ;;
      func=*) func="${1#func=}" ;;
      input=*) input="${1#input=}" ;;
      input_file=*) input_file="${1#input_file=}"; have_input_file=1 ;;
      expect=*) expect="${1#expect=}"; have_expect=1 ;;
      expect_file=*) expect_file="${1#expect_file=}" ;;
      expect_fail=*) expect_fail="${1#expect_fail=}" ;;
      expect_ok=*) expect_ok="${1#expect_ok=}" ;;
      exact_error=*) exact_error="${1#exact_error=}" ;;
      compare_logs=*) compare_logs="${1#compare_logs=}" ;;
      expect_logs=*) expect_logs="${1#expect_logs=}" ;;
      expect_rc=*) expect_rc="${1#expect_rc=}" ;;
      js_deviation=*) js_deviation="${1#js_deviation=}" ;;
      *) echo "differential: run_case: bad argument $1" >&2; exit 2 ;;
    esac
    shift
  done
  [[ "${1:-}" == "--" ]] && shift
  local flags=("$@")

  case_no=$((case_no + 1))
  local dir="$work/case-$case_no"
  mkdir -p "$dir"
  local problems=()

  # The expected stdout, when the case fixes it.
  local want_stdout=""
  if [[ -n "$expect_file" ]]; then
    cat "$expect_file" > "$dir/expected.out" && printf '\n' >> "$dir/expected.out"
    want_stdout="$dir/expected.out"
  elif [[ "$have_expect" == 1 ]]; then
    printf '%s\n' "$expect" > "$dir/expected.out"
    want_stdout="$dir/expected.out"
  fi

  # --- the JS SDK ---
  local js_input=(--input "$input")
  [[ "$have_input_file" == 1 ]] && js_input=(--input-file "$input_file")
  timeout "$case_timeout" node "$here/run-js-sdk.mjs" --wasm "$wasm" --func "$func" \
    "${js_input[@]}" "${flags[@]}" >"$dir/js.jsonl" 2>"$dir/js.stderr"
  local js_status=$?
  node "$here/decode-results.mjs" "$dir/js.jsonl" "$dir/js.out" "$dir/js.err" 2>>"$dir/js.stderr"
  local js_rc=$?   # 0 ok, 1 a call failed, 3 malformed
  local js_err=""
  if [[ "$js_rc" == 3 ]]; then
    problems+=("JS SDK run gave no usable result (exit $js_status): $(tail -c 400 "$dir/js.stderr" | tr '\n' ' ')")
  else
    js_err="$(cat "$dir/js.err")"
  fi

  # The JS SDK against the expectation.
  if [[ "$js_rc" != 3 && -z "$js_deviation" ]]; then
    if [[ -n "$want_stdout" ]]; then
      if [[ "$js_rc" != 0 ]]; then
        problems+=("JS SDK failed: $js_err")
      elif ! cmp -s "$want_stdout" "$dir/js.out"; then
        problems+=("JS SDK output differs from the expectation: got $(show "$dir/js.out"), want $(show "$want_stdout")")
      fi
    elif [[ -n "$expect_fail" ]]; then
      if [[ "$js_rc" == 0 ]]; then
        problems+=("JS SDK succeeded, expected a failure containing '$expect_fail'")
      elif [[ "$js_err" != *"$expect_fail"* ]]; then
        problems+=("JS SDK error '$js_err' does not contain '$expect_fail'")
      fi
    elif [[ "$expect_ok" == 1 && "$js_rc" != 0 ]]; then
      problems+=("JS SDK failed: $js_err")
    fi
    if [[ -n "$expect_logs" ]]; then
      local js_logs
      js_logs="$(grep -acE '^\[(trace|debug|info|warn|error)\] ' "$dir/js.stderr")"
      if [[ "$js_logs" != "$expect_logs" ]]; then
        problems+=("JS SDK printed $js_logs log lines, expected $expect_logs")
      fi
    fi
  fi

  # --- warden ---
  if [[ "$js_only" != 1 ]]; then
    local w_status
    if [[ "$have_input_file" == 1 ]]; then
      timeout "$case_timeout" "$warden" call "$wasm" "$func" --stdin "${flags[@]}" \
        <"$input_file" >"$dir/warden.out" 2>"$dir/warden.stderr"
      w_status=$?
    else
      timeout "$case_timeout" "$warden" call "$wasm" "$func" -i "$input" "${flags[@]}" \
        </dev/null >"$dir/warden.out" 2>"$dir/warden.stderr"
      w_status=$?
    fi
    local w_err="" w_rc=""
    w_err="$(sed -n 's/^error: //p' "$dir/warden.stderr" | tail -n 1)"
    # A failed call is "error: MESSAGE (rc N)": the message is compared, the rc checked apart.
    if [[ "$w_err" =~ ^(.*)\ \(rc\ (-?[0-9]+)\)$ ]]; then
      w_err="${BASH_REMATCH[1]}"
      w_rc="${BASH_REMATCH[2]}"
    fi

    if [[ "$w_status" == 124 ]]; then
      problems+=("warden timed out after ${case_timeout}s")
    elif [[ "$w_status" -ge 2 ]]; then
      problems+=("warden exited with status $w_status (0 or 1 expected): $(tail -c 400 "$dir/warden.stderr" | tr '\n' ' ')")
    fi
    if [[ "$w_status" != 0 && -z "$w_err" ]]; then
      problems+=("warden failed (status $w_status) without an 'error: MESSAGE' line: $(tail -c 400 "$dir/warden.stderr" | tr '\n' ' ')")
    fi
    if [[ -n "$expect_rc" && "$w_rc" != "$expect_rc" ]]; then
      problems+=("warden rc '$w_rc', expected $expect_rc")
    fi

    if [[ -n "$js_deviation" ]]; then
      # Known JS SDK deviation: warden against the expectation only.
      if [[ -n "$want_stdout" ]]; then
        if [[ "$w_status" != 0 ]]; then
          problems+=("warden failed: $w_err")
        elif ! cmp -s "$want_stdout" "$dir/warden.out"; then
          problems+=("warden output differs from the expectation: got $(show "$dir/warden.out"), want $(show "$want_stdout")")
        fi
      elif [[ -n "$expect_fail" ]]; then
        if [[ "$w_status" == 0 ]]; then
          problems+=("warden succeeded, expected a failure containing '$expect_fail'")
        elif [[ "$w_err" != *"$expect_fail"* ]]; then
          problems+=("warden error '$w_err' does not contain '$expect_fail'")
        fi
      fi
    elif [[ "$js_rc" != 3 ]]; then
      # warden against the JS SDK.
      if [[ "$js_rc" == 0 && "$w_status" != 0 ]]; then
        problems+=("warden failed (status $w_status: $w_err) but the JS SDK succeeded")
      elif [[ "$js_rc" != 0 && "$w_status" == 0 ]]; then
        problems+=("warden succeeded but the JS SDK failed ($js_err)")
      fi
      if ! cmp -s "$dir/js.out" "$dir/warden.out"; then
        problems+=("stdout differs: warden $(show "$dir/warden.out"), JS SDK $(show "$dir/js.out"); $(cmp "$dir/js.out" "$dir/warden.out" 2>&1 | head -n 1)")
      fi
      if [[ "$compare_logs" == 1 ]]; then
        grep -aE '^\[(trace|debug|info|warn|error)\] ' "$dir/js.stderr" > "$dir/js.logs"
        grep -aE '^\[(trace|debug|info|warn|error)\] ' "$dir/warden.stderr" > "$dir/warden.logs"
        if ! cmp -s "$dir/js.logs" "$dir/warden.logs"; then
          problems+=("log lines differ: warden $(show "$dir/warden.logs"), JS SDK $(show "$dir/js.logs")")
        fi
      fi
      if [[ "$js_rc" != 0 && "$w_status" != 0 ]]; then
        if [[ -n "$expect_fail" && "$w_err" != *"$expect_fail"* ]]; then
          problems+=("warden error '$w_err' does not contain '$expect_fail'")
        fi
        if [[ "$exact_error" == 1 && "$w_err" != "$js_err" ]]; then
          problems+=("error messages differ: warden '$w_err', JS SDK '$js_err'")
        fi
      fi
    fi
  fi

  local note=""
  [[ -n "$js_deviation" ]] && note=" (known JS SDK deviation: $js_deviation; JS SDK gave: $(if [[ "$js_rc" == 0 ]]; then show "$dir/js.out"; else echo "error '$js_err'"; fi))"
  [[ "$js_only" == 1 ]] && note="$note (JS half only)"
  if [[ ${#problems[@]} -eq 0 ]]; then
    passed=$((passed + 1))
    echo "PASS  $name$note"
  else
    failed=$((failed + 1))
    echo "FAIL  $name$note"
    local p
    for p in "${problems[@]}"; do echo "      - $p"; done
    echo "      (files: $dir)"
  fi
}

# --- the cases ---------------------------------------------------------------
as="$outdir"
cv_default='"vowels":"aeiouAEIOU"'

run_case name="count_vowels: default vowels" wasm="$as/count_vowels.wasm" func=count_vowels \
  input="Hello, World!" expect="{\"count\":3,\"total\":3,$cv_default}"
run_case name="count_vowels: config vowels=xyz" wasm="$as/count_vowels.wasm" func=count_vowels \
  input="Hello, World! xyzzy" expect='{"count":5,"total":5,"vowels":"xyz"}' -- --config vowels=xyz
run_case name="count_vowels: non-ASCII config and input" wasm="$as/count_vowels.wasm" func=count_vowels \
  input="Grüße aus Köln, schön" expect='{"count":3,"total":3,"vowels":"äöü"}' -- --config vowels=äöü
run_case name="count_vowels: config value with JSON specials" wasm="$as/count_vowels.wasm" func=count_vowels \
  input='say "hi" \o/' expect='{"count":3,"total":3,"vowels":"\"\\"}' -- --config 'vowels="\'
run_case name="count_vowels: --loop 3 (vars persist)" wasm="$as/count_vowels.wasm" func=count_vowels \
  input="banana" expect=$'{"count":3,"total":3,'"$cv_default"$'}\n{"count":3,"total":6,'"$cv_default"$'}\n{"count":3,"total":9,'"$cv_default"'}' \
  -- --loop 3
run_case name="count_vowels: 100 KiB text (--stdin)" wasm="$as/count_vowels.wasm" func=count_vowels \
  input_file="$work/input-100k.txt" expect_ok=1
run_case name="count_vowels: empty input" wasm="$as/count_vowels.wasm" func=count_vowels \
  input="" expect="{\"count\":0,\"total\":0,$cv_default}"

run_case name="echo: empty input" wasm="$as/echo.wasm" func=echo input="" expect=""
run_case name="echo: short text" wasm="$as/echo.wasm" func=echo input="hello, warden" expect="hello, warden"
run_case name="echo: 100 KiB of arbitrary bytes (--stdin)" wasm="$as/echo.wasm" func=echo \
  input_file="$work/input-100k.bin" expect_file="$work/input-100k.bin"
run_case name="echo: --loop 2" wasm="$as/echo.wasm" func=echo input="again" expect=$'again\nagain' -- --loop 2

run_case name="fail: error_set message" wasm="$as/fail.wasm" func=fail input="disk on fire" \
  expect_fail="something went wrong: disk on fire" exact_error=1 expect_rc=1
run_case name="fail: empty input" wasm="$as/fail.wasm" func=fail input="" \
  expect_fail="something went wrong: " exact_error=1 expect_rc=1

run_case name="log: five levels, logging off" wasm="$as/log.wasm" func=log input="a log line" expect="logged" \
  compare_logs=1 expect_logs=0
run_case name="log: --log-level trace" wasm="$as/log.wasm" func=log input="a log line" expect="logged" \
  compare_logs=1 expect_logs=5 -- --log-level trace
run_case name="log: --log-level warn" wasm="$as/log.wasm" func=log input="a log line" expect="logged" \
  compare_logs=1 expect_logs=2 -- --log-level warn

run_case name="http_get: allowed host" wasm="$as/http_get.wasm" func=http_get \
  input="$base_url/hello.txt" expect=$'200\nhello from the warden differential test\n' -- --allow-host 127.0.0.1
run_case name="http_get: allowed by glob, binary body" wasm="$as/http_get.wasm" func=http_get \
  input="$base_url/bytes.bin" expect_ok=1 -- --allow-host '127.0.0.*'
run_case name="http_get: 404 is not an error" wasm="$as/http_get.wasm" func=http_get \
  input="$base_url/missing.txt" expect_ok=1 -- --allow-host 127.0.0.1
run_case name="http_get: no --allow-host (denied)" wasm="$as/http_get.wasm" func=http_get \
  input="$base_url/hello.txt" expect_fail="is not allowed"
run_case name="http_get: other host allowed only (denied)" wasm="$as/http_get.wasm" func=http_get \
  input="$base_url/hello.txt" expect_fail="is not allowed" -- --allow-host example.com

run_case name="missing function" wasm="$as/echo.wasm" func=no_such_function input="x" \
  expect_fail="no_such_function"

run_case name="exit_code: non-zero return without an error" wasm="$as/exit_code.wasm" func=exit_code \
  input="" expect_fail="Returned non-zero exit code: 3" expect_rc=3 \
  js_deviation="the SDK ignores a non-zero return when no error is set"
run_case name="count_vowels: --var-max 0 disables vars" wasm="$as/count_vowels.wasm" func=count_vowels \
  input="abc" expect_fail="Vars are disabled by this host" \
  js_deviation="the SDK treats maxVarBytes 0 as no limit" -- --var-max 0

# Extra plugins (for example C plugins built with clang), when present.
if [[ -n "${EXTRA_PLUGINS_DIR:-}" ]]; then
  if [[ -f "$EXTRA_PLUGINS_DIR/count_vowels.wasm" ]]; then
    extra="$(cd "$EXTRA_PLUGINS_DIR" && pwd)/count_vowels.wasm"
    run_case name="extra count_vowels: default" wasm="$extra" func=count_vowels \
      input="Hello, World!" expect_ok=1
    run_case name="extra count_vowels: config vowels=xyz" wasm="$extra" func=count_vowels \
      input="Hello, World! xyzzy" expect_ok=1 -- --config vowels=xyz
    run_case name="extra count_vowels: --loop 3" wasm="$extra" func=count_vowels \
      input="banana" expect_ok=1 -- --loop 3
    run_case name="extra count_vowels: 100 KiB text (--stdin)" wasm="$extra" func=count_vowels \
      input_file="$work/input-100k.txt" expect_ok=1
    run_case name="extra count_vowels: empty input" wasm="$extra" func=count_vowels \
      input="" expect_ok=1
  else
    echo "differential: EXTRA_PLUGINS_DIR=$EXTRA_PLUGINS_DIR has no count_vowels.wasm; skipped" >&2
  fi
  # A plugin whose loops are SIMD instructions (built with -msimd128): V8 runs them natively.
  if [[ -f "$EXTRA_PLUGINS_DIR/simd_stats.wasm" ]]; then
    simd="$(cd "$EXTRA_PLUGINS_DIR" && pwd)/simd_stats.wasm"
    run_case name="extra simd_stats: short text" wasm="$simd" func=byte_stats \
      input="Hello, World! 123 zz" expect_ok=1
    run_case name="extra simd_stats: 100 KiB text (--stdin)" wasm="$simd" func=byte_stats \
      input_file="$work/input-100k.txt" expect_ok=1
    run_case name="extra simd_stats: 100 KiB of every byte value" wasm="$simd" func=byte_stats \
      input_file="$work/input-100k.bin" expect_ok=1
    run_case name="extra simd_stats: empty input" wasm="$simd" func=byte_stats \
      input="" expect_ok=1
  else
    echo "differential: EXTRA_PLUGINS_DIR=$EXTRA_PLUGINS_DIR has no simd_stats.wasm; skipped" >&2
  fi
fi

echo "differential: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
