#!/usr/bin/env bash
# Differential fuzzing of warden against V8: binaryen turns seeded random bytes into valid
# modules, diff_runner (warden) and run-v8.mjs (Node) run each one and print the same protocol,
# and any difference is a divergence. See README.md.
#
#   differential.sh [N | --seconds S] [--seed BASE] [--keep DIR] [--jobs J]
#   differential.sh --replay FILE.wasm...
#
# N modules (default 200), or as many as fit in S seconds. Module k is made from the bytes of
# seed BASE+k (BASE is random unless given, and printed), so a run is reproducible. Divergent
# modules are saved with both outputs in DIR (default /tmp/diff-found); the exit status is 1 if
# there was any. J wasm-opt processes run at once (default: nproc). --replay compares the given
# modules instead (e.g. saved divergences, after a fix). Environment: DIFF_RUNNER (the
# diff_runner binary), NODE, WASM_OPT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runner=${DIFF_RUNNER:-$root/build/release/fuzz/differential/diff_runner}
node=${NODE:-node}
wasm_opt=${WASM_OPT:-wasm-opt}

count=200 seconds="" keep=/tmp/diff-found seed="" jobs=$(nproc) replay=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --replay) shift; replay=("$@"); break ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) count=$1; shift ;;
    *) echo "differential.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$runner" ] || { echo "differential.sh: no $runner (cmake --build build/release --target diff_runner)" >&2; exit 2; }
command -v "$wasm_opt" >/dev/null || { echo "differential.sh: no wasm-opt (apt-get install binaryen)" >&2; exit 2; }
command -v "$node" >/dev/null || { echo "differential.sh: no node" >&2; exit 2; }

# What warden executes: Wasm 2.0, SIMD included. Not reference types: binaryen 108 still emits
# the old proposal's anyref (funcref <: externref), which V8 and warden rightly reject.
features=(--mvp-features --enable-mutable-globals --enable-bulk-memory --enable-sign-ext
          --enable-nontrapping-float-to-int --enable-multivalue --enable-simd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$keep"

# $work/seed-S.wasm from $work/seed-S.dat; none if binaryen gives up (rare).
generate() {
  # A third of the modules as generated, a third through binaryen's random passes (-fp), a
  # third through -O3 (whose stack IR leaves values on the stack across drops and blocks):
  # different code shapes for warden's compiler.
  local passes=()
  case $(($1 % 3)) in 1) passes=(-fp) ;; 2) passes=(-O3) ;; esac
  # --denan: NaN bits from arithmetic may differ between engines (the spec allows any
  # arithmetic NaN), and a store or reinterpret makes them visible, so no float op may
  # produce a NaN. Constant NaNs stay, and must be kept bit-exact.
  "$wasm_opt" "$work/seed-$1.dat" -ttf --denan "${passes[@]}" "${features[@]}" \
    -o "$work/seed-$1.wasm" >/dev/null 2>&1 || rm -f "$work/seed-$1.wasm"
}

# diff_runner over the modules in $@ into $work/warden.out. A crash (or a hang despite fuel)
# ends that module's block with "crash", and the rest of the batch runs in a new process.
run_warden() {
  local files=("$@") rc done
  : >"$work/warden.out"
  while [ ${#files[@]} -gt 0 ]; do
    rc=0
    timeout 300 "$runner" "${files[@]}" >"$work/part.out" 2>/dev/null || rc=$?
    cat "$work/part.out" >>"$work/warden.out"
    [ $rc -eq 0 ] && return
    done=$(grep -c '^end$' "$work/part.out" || true)
    # diff_runner flushes each "module" line before running it, so that block is open.
    case "$(tail -n1 "$work/part.out")" in
      ""|end) echo "module ${files[$done]}" >>"$work/warden.out" ;;
    esac
    printf 'crash %s\nend\n' "$rc" >>"$work/warden.out"
    files=("${files[@]:$((done + 1))}")
  done
}

# Compares the two outputs module by module; prints a DIVERGENCE line for each divergent
# module (saved with both outputs under $keep), then "executed skipped divergent".
compare() {
  python3 - "$work/warden.out" "$work/v8.out" "$keep" "$runner" "$node" "$here/run-v8.mjs" <<'PY'
import os, shutil, struct, subprocess, sys, tempfile

# The spec lets a float operation with a NaN operand return any NaN of a set (and V8's SIMD
# min/max give different NaN signs from one instruction to the next), so two memories that
# differ only inside float NaNs are not a divergence. Each differing byte must lie in a 4-byte
# (f32) or 8-byte (f64) window that is a NaN in both memories.
def nan_only(a, b):
    if len(a) != len(b):
        return False
    def is_nan(m, s, width):
        if s < 0 or s + width > len(m):
            return False
        bits = int.from_bytes(m[s:s + width], "little")
        if width == 4:
            return bits & 0x7F800000 == 0x7F800000 and bits & 0x7FFFFF
        return bits & 0x7FF0000000000000 == 0x7FF0000000000000 and bits & 0xFFFFFFFFFFFFF
    for i in (i for i in range(len(a)) if a[i] != b[i]):
        if not any(is_nan(a, s, w) and is_nan(b, s, w) for w in (4, 8) for s in range(i - w + 1, i + 1)):
            return False
    return True

# For a module whose outputs differ only in memory hashes: runs it again on both engines with
# memory dumps, and returns the calls (1-based) whose memories differ by more than NaN bits.
def memory_calls_not_nan_only(path):
    with tempfile.TemporaryDirectory() as dw, tempfile.TemporaryDirectory() as dv:
        env = lambda d: dict(os.environ, DIFF_DUMP_DIR=d)
        subprocess.run([sys.argv[4], path], env=env(dw), stdout=subprocess.DEVNULL, timeout=300)
        subprocess.run([sys.argv[5], "--no-warnings", sys.argv[6], path], env=env(dv),
                       stdout=subprocess.DEVNULL, timeout=300)
        bad = set()
        for name in os.listdir(dw):
            a = open(os.path.join(dw, name), "rb").read()
            vp = os.path.join(dv, name)
            b = open(vp, "rb").read() if os.path.exists(vp) else b""
            if a != b and not nan_only(a, b):
                bad.add(int(name.split(".")[0]))
        return bad

def blocks(path):
    out, cur = {}, None
    for line in open(path, errors="replace").read().splitlines():
        if line.startswith("module "):
            cur = out.setdefault(line[7:], [])
        elif line == "end":
            cur = None
        elif cur is not None:
            cur.append(line)
    return out

warden, v8, keep = blocks(sys.argv[1]), blocks(sys.argv[2]), sys.argv[3]
executed = skipped = divergent = nan_tolerated = 0
for path, w in warden.items():
    v = v8.get(path, ["missing"])
    executed += 1
    why = None
    if any(l.startswith("crash") for l in w):
        why = "warden crashed"
    elif v == ["timeout"]:
        skipped += 1  # V8 ran past its time limit: nothing to compare
        continue
    else:
        mem_line, not_nan_only = 0, None
        for i in range(max(len(w), len(v))):
            a = w[i] if i < len(w) else "<none>"
            b = v[i] if i < len(v) else "<none>"
            if a.startswith("mem ") and b.startswith("mem "):
                mem_line += 1
                if a != b:
                    if not_nan_only is None:
                        not_nan_only = memory_calls_not_nan_only(path)
                    if mem_line not in not_nan_only:
                        nan_tolerated += 1
                        continue
            # Out of fuel or stack in either engine: their limits differ, so from here on the
            # results (and the state later exports see) are not comparable.
            if a.endswith(": exhausted") or b.endswith(": exhausted"):
                skipped += 1
                break
            # An export with a v128 in its signature is not called on either side (JS cannot
            # pass one); the exports after it still are, and are compared.
            if a == b and a.endswith(": skip"):
                continue
            if a != b:
                why = f"line {i + 1}: warden '{a}' vs v8 '{b}'"
                break
    if why:
        divergent += 1
        base = os.path.join(keep, os.path.basename(path)[:-5])
        if os.path.abspath(path) != os.path.abspath(base + ".wasm"):
            shutil.copy(path, base + ".wasm")
        open(base + ".warden", "w").write("\n".join(w) + "\n")
        open(base + ".v8", "w").write("\n".join(v) + "\n")
        print(f"DIVERGENCE {base}.wasm: {why}")
if nan_tolerated:
    print(f"note: {nan_tolerated} memory hashes differed only in float NaN bits (allowed)")
print(executed, skipped, divergent)
PY
}

executed=0 skipped=0 divergent=0
# Runs both engines over the modules in $@ and adds up the comparison.
check() {
  run_warden "$@" &
  "$node" "$here/run-v8.mjs" "$@" >"$work/v8.out"
  wait $!
  compare >"$work/compare.out" || { echo "differential: comparing failed" >&2; exit 2; }
  grep -E '^(DIVERGENCE|note:)' "$work/compare.out" || true
  local e s d
  read -r e s d < <(tail -n1 "$work/compare.out")
  executed=$((executed + e)) skipped=$((skipped + s)) divergent=$((divergent + d))
}

if [ ${#replay[@]} -gt 0 ]; then
  check "${replay[@]}"
else
  seed=${seed:-$(( (RANDOM << 15 | RANDOM) * 1000 ))}
  if [ -n "$seconds" ]; then what="$seconds s"; else what="$count modules"; fi
  echo "differential: seed $seed, $what"
  k=0 start=$SECONDS
  while :; do
    if [ -n "$seconds" ]; then
      [ $((SECONDS - start)) -ge "$seconds" ] && break
      n=100
    else
      n=$((count - k < 100 ? count - k : 100))
      [ "$n" -le 0 ] && break
    fi
    first=$((seed + k)) last=$((seed + k + n - 1))
    # Seeded bytes, 1-20 KB (more bytes give binaryen more to build with).
    python3 -c '
import random, sys
for s in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
    r = random.Random(s)
    open(f"{sys.argv[1]}/seed-{s}.dat", "wb").write(r.randbytes(r.randrange(1000, 20000)))
' "$work" "$first" "$last"
    for s in $(seq "$first" "$last"); do
      generate "$s" &
      [ $(((s - first + 1) % jobs)) -eq 0 ] && wait  # `jobs` wasm-opt at a time
    done
    wait
    files=()
    for s in $(seq "$first" "$last"); do
      [ -f "$work/seed-$s.wasm" ] && files+=("$work/seed-$s.wasm")
    done
    k=$((k + n))
    # binaryen's hang limit allows 10 loop iterations and calls per export call; 63, the largest
    # value with the same one-byte encoding, runs about 3x more of each module. Patched in
    # hangLimitInitializer's body, "i32.const 10; global.set N; end" (both engines see it).
    [ ${#files[@]} -gt 0 ] && python3 - "${files[@]}" <<'PY'
import re, sys
for path in sys.argv[1:]:
    b = open(path, "rb").read()
    b = re.sub(rb"\x06\x00\x41\x0a\x24([\x00-\x7f])\x0b",
               lambda m: b"\x06\x00\x41\x3f\x24" + m.group(1) + b"\x0b", b)
    open(path, "wb").write(b)
PY
    [ ${#files[@]} -gt 0 ] && check "${files[@]}"
    rm -f "$work"/seed-*
    echo "differential: $executed executed, $divergent divergences, $skipped skipped ($((SECONDS - start)) s)"
  done
fi

echo "differential: $executed executed, $divergent divergences, $skipped skipped"
[ "$divergent" -eq 0 ] || { echo "differential: divergent modules saved in $keep" >&2; exit 1; }
