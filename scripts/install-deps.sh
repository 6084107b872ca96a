#!/usr/bin/env bash
# Installs the Debian packages warden's build, tests, fuzzers and benchmarks need, if missing.
# Run as root (or with sudo available). Prints nothing when everything is already there.
set -euo pipefail

packages=(
  cmake ninja-build g++ clang lld python3
  libgtest-dev libbenchmark-dev libfmt-dev nlohmann-json3-dev
  wabt                                   # wast2json for the spec suite, wat2wasm for examples
  binaryen                               # wasm-opt -ttf: modules for the V8 differential fuzzer
  libssl-dev libcurl4-openssl-dev         # SHA-256 of plugin modules, HTTP for plugins
  wasi-libc libclang-rt-14-dev-wasm32    # clang --target=wasm32-wasi for benchmark and plugin modules
  libc++-14-dev-wasm32 libc++abi-14-dev-wasm32
  libclang-rt-14-dev                     # libFuzzer and sanitizer runtimes for clang
  libyaml-cpp-dev libvalijson-dev        # policy documents (YAML), I/O schemas (JSON Schema draft 7)
  json-schema-test-suite                 # the official JSON Schema test cases for the I/O schema tests
  openssl signify-openbsd                # independent signers (Ed25519, ECDSA) for the signature tests
  prometheus-cpp-dev                     # the multi-tenant host's metrics (Prometheus text format)
  prometheus                             # promtool, which checks the metrics in the tests
  libcpp-httplib-dev curl                # warden serve's HTTP server; curl for the demo's calls
  wrk                                    # the load generator of bench/serve-load.sh
  libhiredis-dev redis-server            # the Redis backend of plugins' shared state, and its tests
  pkg-config                             # the C API test builds a C program with pkg-config
  libcli11-dev                           # the warden CLI's command lines
)

missing=()
# Node.js + npm run the Extism JS SDK and the AssemblyScript PDK in the differential test.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
# Go >= 1.21 (GOOS=wasip1) builds the Go guest of wasi_test. Bookworm itself has Go 1.19;
# bookworm-backports has 1.23, so on bookworm that suite is added to apt's sources if absent.
need_backports=0
if grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release; then
  packages+=(golang-1.23-go)
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ || need_backports=1
fi
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing missing packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# The archive that already serves bookworm on this machine (one-line or deb822 sources), so that
# no mirror's name is written here.
bookworm_archive() {
  local uri
  uri=$(grep -hE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        grep -E '\sbookworm(\s|$)' | sed -E 's/^\s*deb\s+(\[[^]]*\]\s+)?//' | awk '{print $1; exit}')
  if [ -z "$uri" ]; then
    uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ && u != "" {print u; exit}
               /^$/ {u=""}' /etc/apt/sources.list.d/*.sources 2>/dev/null)
  fi
  echo "$uri"
}
if [ "$need_backports" -eq 1 ] && [[ " ${missing[*]} " == *" golang-1.23-go "* ]]; then
  archive=$(bookworm_archive)
  if [ -z "$archive" ]; then
    echo "error: no bookworm archive in apt's sources to add bookworm-backports from" >&2
    exit 1
  fi
  echo "adding bookworm-backports from $archive to apt's sources (for golang-1.23-go)"
  echo "deb $archive bookworm-backports main" |
    $sudo tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
$sudo apt-get update -qq
# Packages are installed, never started: the prometheus package would start a server (on
# 0.0.0.0:9090) from its postinst. A policy-rc.d that refuses every start is in place for the
# install, unless the machine has its own.
own_policy=0
[ -e /usr/sbin/policy-rc.d ] && own_policy=1
if [ $own_policy -eq 0 ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
