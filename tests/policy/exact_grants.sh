#!/usr/bin/env bash
# Runs a real plugin under a policy that grants exactly what `warden audit` says it needs, then
# shows that each of those capabilities is needed: without any one of them, creation is refused
# and the refusal names it.
#
#   tests/policy/exact_grants.sh WARDEN WORKDIR GUEST FUNCTION INPUT EXPECTED [LIMITS_YAML]
#
# EXPECTED is a substring of the call's output; LIMITS_YAML is extra `resource_limits:` lines
# (e.g. allowed_paths for a plugin that reads files).
set -euo pipefail
if [[ $# -lt 6 ]]; then
  echo "usage: $0 WARDEN WORKDIR GUEST FUNCTION INPUT EXPECTED [LIMITS_YAML]" >&2
  exit 2
fi
warden=$1 workdir=$2 guest=$3 function=$4 input=$5 expected=$6 limits=${7:-}
mkdir -p "$workdir"
fail() { echo "exact_grants: $*" >&2; exit 1; }

needed=$("$warden" audit "$guest" --json |
         python3 -c 'import json, sys; print(" ".join(json.load(sys.stdin)["capabilities_needed"]))')
[[ -n "$needed" ]] || fail "audit reported no capabilities for $guest"

write_policy() {  # FILE CAPABILITY...
  local file=$1; shift
  local list
  list=$(printf '%s, ' "$@")
  {
    echo "default_tier: exact"
    echo "tiers:"
    echo "  exact:"
    echo "    capabilities: [${list%, }]"
    echo "    resource_limits:"
    echo "      memory: 256MiB"
    [[ -n "$limits" ]] && printf '%s\n' "$limits"
    echo "    deny: at_link"
  } >"$file"
}

# shellcheck disable=SC2086
write_policy "$workdir/exact.yaml" $needed
"$warden" policy check "$workdir/exact.yaml" >/dev/null || fail "the generated policy is invalid"
"$warden" audit "$guest" --policy "$workdir/exact.yaml" >"$workdir/audit.txt" ||
  fail "audit refuses $guest under the exact grants: $(cat "$workdir/audit.txt")"
output=$("$warden" call --policy "$workdir/exact.yaml" "$guest" "$function" --input "$input") ||
  fail "$guest $function failed under exactly [$needed]"
[[ "$output" == *"$expected"* ]] || fail "output of $guest $function: '$output', expected '$expected'"

# Each capability is needed: without it, refused at creation, naming it.
for drop in $needed; do
  [[ "$drop" == memory_only ]] && continue
  rest=()
  for c in $needed; do [[ "$c" == "$drop" ]] || rest+=("$c"); done
  write_policy "$workdir/without-$drop.yaml" "${rest[@]}"
  if err=$("$warden" call --policy "$workdir/without-$drop.yaml" "$guest" "$function" \
             --input "$input" 2>&1 >/dev/null); then
    fail "$guest ran without $drop"
  fi
  [[ "$err" == *"which needs $drop"* ]] || fail "refusal without $drop does not name it: $err"
done
echo "exact grants for $(basename "$guest"): $needed"
