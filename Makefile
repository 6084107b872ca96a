# warden's entry points. `make demo` and `make test` work on a fresh Debian bookworm machine:
# they install missing packages first (scripts/install-deps.sh).
PRESET ?= release
BUILD := build/$(PRESET)
WARDEN := $(BUILD)/tools/warden
FUZZ_SECONDS ?= 60

.PHONY: all deps build demo test asan-test tsan-test fuzz-smoke diff-fuzz bench pgo clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET)

# The main job: a real Extism plugin call through the CLI (examples/plugins/count_vowels.c,
# built with clang's wasm32 target): what it asks for, three calls sharing variables, a config
# override, then a hostile plugin stopped by each limit ("! cmd": the demo fails if one is not
# stopped); then the same plugins under the capability gate, a signed plugin; then the WASI
# examples; then a short `warden serve` session.
PLUGINS := $(BUILD)/examples/plugins
demo: build
	$(WARDEN) inspect $(PLUGINS)/count_vowels.wasm | sed -n '1,4p'
	$(WARDEN) call $(PLUGINS)/count_vowels.wasm count_vowels --input "Hello, World!" --loop 3
	$(WARDEN) call $(PLUGINS)/count_vowels.wasm count_vowels --input "Hello, World!" --config vowels=lo
	! $(WARDEN) call --timeout 200 $(PLUGINS)/hostile.wasm infinite_loop
	! $(WARDEN) call --fuel 10000000 $(PLUGINS)/hostile.wasm infinite_loop
	! $(WARDEN) call --memory-max 64 $(PLUGINS)/hostile.wasm alloc_bomb
	! $(WARDEN) call $(PLUGINS)/http_fetcher.wasm fetch --input https://example.com/
	# The capability gate (examples/policy): check the documents, audit, call under the policy;
	# a customer plugin that imports HTTP is refused at link, a spinning one stops on CPU time.
	$(WARDEN) policy check examples/policy/tier-policy.yaml
	$(WARDEN) audit $(PLUGINS)/count_vowels.wasm --policy examples/policy/tier-policy.yaml --plugin-id count-vowels
	$(WARDEN) call --policy examples/policy/tier-policy.yaml --plugin-id count-vowels $(PLUGINS)/count_vowels.wasm count_vowels --input "Hello, World!" --loop 2
	! $(WARDEN) call --policy examples/policy/tier-policy.yaml --source customer-uploaded $(PLUGINS)/http_fetcher.wasm fetch --input https://example.com/
	! $(WARDEN) call --policy examples/policy/tier-policy.yaml $(PLUGINS)/hostile.wasm infinite_loop
	# Signed plugins: a fresh Ed25519 key signs a DSSE statement for count_vowels; the envelope
	# verifies for it and is refused for another plugin.
	mkdir -p $(BUILD)/demo && openssl genpkey -algorithm ed25519 -out $(BUILD)/demo/vendor.pem \
	  && openssl pkey -in $(BUILD)/demo/vendor.pem -pubout -out $(BUILD)/demo/vendor.pub.pem
	$(WARDEN) sign --key $(BUILD)/demo/vendor.pem --name count-vowels --version 1.0 \
	  --capabilities memory_only,config_read,vars -o $(BUILD)/demo/count_vowels.dsse $(PLUGINS)/count_vowels.wasm
	$(WARDEN) verify --key $(BUILD)/demo/vendor.pub.pem --signature $(BUILD)/demo/count_vowels.dsse $(PLUGINS)/count_vowels.wasm
	! $(WARDEN) verify --key $(BUILD)/demo/vendor.pub.pem --signature $(BUILD)/demo/count_vowels.dsse $(PLUGINS)/http_fetcher.wasm
	$(WARDEN) run $(BUILD)/examples/hello.wasm
	printf 'piped into the guest\n' | $(WARDEN) run --dir ro:examples/wasi:/src $(BUILD)/examples/wasi/cat.wasm - /src/cat.c | head -3
	$(WARDEN) run --stats --fuel 10000000000 $(BUILD)/bench/workloads/coremark_like.wasm
	# The multi-tenant service: warden serve, two tenants, a refusal, metrics, SIGTERM.
	scripts/demo-serve.sh $(WARDEN) $(PLUGINS)

# Every test: unit, CLI and the spec suite (one CTest test per core/*.wast).
test: build
	ctest --preset $(PRESET)

# A profile-guided build in build/pgo (docs/building.md): instrumented, trained on the bench
# workloads and plugin calls (scripts/pgo-train.sh), rebuilt with the profile, and its workload
# checksums checked. Use it as any build: bench/compare.sh build/pgo, build/pgo/tools/warden.
PGO_TARGETS := warden warden-full workloads example-plugins
pgo: deps
	cmake --preset pgo -DWARDEN_PGO=generate >/dev/null
	cmake --build --preset pgo --target $(PGO_TARGETS)
	scripts/pgo-train.sh build/pgo
	cmake --preset pgo -DWARDEN_PGO=use >/dev/null
	cmake --build --preset pgo
	ctest --preset pgo -L workload

# Unit and spec tests under AddressSanitizer + UndefinedBehaviorSanitizer.
asan-test: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan
	ctest --preset asan -L "unit|spec"

# The tests that run threads (plugins on many threads, cancel and deadlines from other threads,
# shared compiled modules, the HTTP test server) under ThreadSanitizer.
TSAN_TESTS := interpreter_test plugin_test plugin_sdk_test wasi_test compiler_test gate_test plugin_host_test kv_test
tsan-test: deps
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan --target $(TSAN_TESTS)
	set -e; for t in $(TSAN_TESTS); do \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build/tsan/tests/$$t --gtest_brief=1; \
	done

# Differential execution fuzzing against V8 (fuzz/differential): DIFF_MODULES binaryen-made
# modules, every export run under warden (fuel on) and Node; any divergence fails.
DIFF_MODULES ?= 300
diff-fuzz: build
	fuzz/differential/differential.sh $(DIFF_MODULES)

# The fuzzers (clang libFuzzer): decode+validate and execute for FUZZ_SECONDS each over the suite's
# modules, and the Extism kernel ABI (hostile call sequences) for 30 s. decode+validate,
# and instantiate+execute every export under a fuel budget.
fuzz-smoke: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	fuzz/run-fuzzer.sh build/fuzz $(FUZZ_SECONDS) decode_validate_fuzzer
	fuzz/run-fuzzer.sh build/fuzz $(FUZZ_SECONDS) execute_fuzzer
	fuzz/run-fuzzer.sh build/fuzz 30 kernel_fuzzer
	fuzz/run-fuzzer.sh build/fuzz 30 policy_fuzzer

bench: deps
	cmake --preset release >/dev/null
	cmake --build --preset release
	$(BUILD)/bench/decode_validate_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
	bench/compare-validate.sh $(BUILD)
	bench/plugin-compare.sh $(BUILD)
	bench/serve-load.sh $(BUILD)

clean:
	rm -rf build
