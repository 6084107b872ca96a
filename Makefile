# warden's entry points. `make demo` and `make test` work on a fresh Debian bookworm machine:
# they install missing packages first (scripts/install-deps.sh).
PRESET ?= release
BUILD := build/$(PRESET)
WARDEN := $(BUILD)/tools/warden
FUZZ_SECONDS ?= 60

.PHONY: all deps build demo test asan-test fuzz-smoke bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET)

# The main job: for now, inspect the example module (imports = host capabilities requested).
demo: build
	$(WARDEN) validate -v $(BUILD)/examples/hello.wasm
	$(WARDEN) inspect $(BUILD)/examples/hello.wasm
	$(WARDEN) run $(BUILD)/examples/hello.wasm
	$(WARDEN) run --stats --fuel 10000000000 $(BUILD)/bench/workloads/coremark_like.wasm

# Every test: unit, CLI and the spec suite (one CTest test per core/*.wast).
test: build
	ctest --preset $(PRESET)

# Unit and spec tests under AddressSanitizer + UndefinedBehaviorSanitizer.
asan-test: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan
	ctest --preset asan -L "unit|spec"

# Both fuzzers (clang libFuzzer) for FUZZ_SECONDS each over the suite's modules: decode+validate,
# and instantiate+execute every export under a fuel budget.
fuzz-smoke: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	fuzz/run-fuzzer.sh build/fuzz $(FUZZ_SECONDS) decode_validate_fuzzer
	fuzz/run-fuzzer.sh build/fuzz $(FUZZ_SECONDS) execute_fuzzer

bench: deps
	cmake --preset release >/dev/null
	cmake --build --preset release
	$(BUILD)/bench/decode_validate_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
	bench/compare-validate.sh $(BUILD)

clean:
	rm -rf build
