// Extism plugin costs on warden: a call of the echo plugin with a 16-byte input (call overhead:
// kernel reset, input copy, export call, output copy), and plugin creation from a ~2 MB module,
// cold (decode + validate, forced by a unique custom section) and warm (the compiled module is
// shared with an earlier plugin of the same bytes). bench/js-sdk-bench.mjs measures the same on
// the Extism JS SDK; bench/plugin-compare.sh runs both.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "capi/extism.h"
#include "hostabi/plugin.h"
#include "policy/gate.h"

namespace {

using warden::extism::Plugin;

std::vector<uint8_t> read(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The same call under the capability gate: grants (every built-in capability, so the plugin
// links) and a quota with the run-time checks that cost per call (output size; with
// `concurrent`, the concurrent_calls account too: two atomic read-modify-writes per call). The
// gate's cost is the difference to BM_EchoCall16B.
warden::extism::PluginOptions gated_options(bool concurrent = true) {
  warden::extism::PluginOptions options;
  warden::extism::Grants grants;
  grants.capabilities.emplace();
  for (std::string_view c : warden::extism::kBuiltinCapabilities) grants.capabilities->emplace(c);
  grants.plugin_id = "bench";
  grants.tier = "bench";
  options.grants = std::move(grants);
  if (concurrent) options.quota.concurrent_calls = 1000;
  options.quota.max_output_bytes = 1 << 20;
  return options;
}

void echo_call(benchmark::State& state, warden::extism::PluginOptions options) {
  auto created = Plugin::create(read(WARDEN_BENCH_BIG_PLUGIN), std::move(options));
  if (!created) return state.SkipWithError(created.error().message.c_str());
  auto plugin = std::move(*created);
  const std::string input(16, 'x');
  for (auto _ : state) {
    auto out = plugin->call("echo", input);
    if (!out || out->size() != 16) state.SkipWithError("echo failed");
    benchmark::DoNotOptimize(out);
  }
  state.counters["calls/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
void BM_EchoCall16BGated(benchmark::State& state) { echo_call(state, gated_options(false)); }
void BM_EchoCall16BGatedConcurrent(benchmark::State& state) {
  echo_call(state, gated_options(true));
}
void BM_EchoCall16B(benchmark::State& state) { echo_call(state, {}); }
BENCHMARK(BM_EchoCall16B);

// The same call through the libextism C API (libextism.so): its cost over BM_EchoCall16B is the
// C layer's (a mutex, the error and output bookkeeping, the call across the shared library).
void BM_EchoCall16BCApi(benchmark::State& state) {
  const std::vector<uint8_t> wasm = read(WARDEN_BENCH_BIG_PLUGIN);
  char* error = nullptr;
  ExtismPlugin* plugin = extism_plugin_new(wasm.data(), wasm.size(), nullptr, 0, false, &error);
  if (!plugin) {
    state.SkipWithError(error);
    return extism_plugin_new_error_free(error);
  }
  const std::string input(16, 'x');
  for (auto _ : state) {
    const int32_t rc =
        extism_plugin_call(plugin, "echo", reinterpret_cast<const uint8_t*>(input.data()), 16);
    if (rc != 0 || extism_plugin_output_length(plugin) != 16) state.SkipWithError("echo failed");
    benchmark::DoNotOptimize(extism_plugin_output_data(plugin));
  }
  state.counters["calls/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  extism_plugin_free(plugin);
}
BENCHMARK(BM_EchoCall16BCApi);
BENCHMARK(BM_EchoCall16BGated);
BENCHMARK(BM_EchoCall16BGatedConcurrent);

// A host-call-heavy loop: tests/testdata/gate_plugin.wat's "echo" copies 4 KiB of input with two
// kernel calls per byte (input_load_u8, store_u8): 8,192 host calls per plugin call.
void host_call_loop(benchmark::State& state, warden::extism::PluginOptions options) {
  auto created = Plugin::create(read(WARDEN_BENCH_GATE_PLUGIN), std::move(options));
  if (!created) return state.SkipWithError(created.error().message.c_str());
  auto plugin = std::move(*created);
  const std::string input(4096, 'x');
  for (auto _ : state) {
    auto out = plugin->call("echo", input);
    if (!out || out->size() != input.size()) state.SkipWithError("echo failed");
    benchmark::DoNotOptimize(out);
  }
  state.counters["host calls/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 8192, benchmark::Counter::kIsRate);
}
void BM_HostCallLoop4KiB(benchmark::State& state) { host_call_loop(state, {}); }
void BM_HostCallLoop4KiBGated(benchmark::State& state) { host_call_loop(state, gated_options()); }
BENCHMARK(BM_HostCallLoop4KiB);
BENCHMARK(BM_HostCallLoop4KiBGated);

// A custom section named "bench" holding `n`, so every iteration's bytes differ.
std::vector<uint8_t> with_unique_section(std::vector<uint8_t> bytes, uint64_t n) {
  const uint8_t section[] = {0, 14, 5, 'b', 'e', 'n', 'c', 'h'};
  bytes.insert(bytes.end(), section, section + sizeof section);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(n >> (8 * i)));
  return bytes;
}

void BM_CreatePlugin2MBCold(benchmark::State& state) {
  const auto bytes = read(WARDEN_BENCH_BIG_PLUGIN);
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto unique = with_unique_section(bytes, ++n);
    state.ResumeTiming();
    auto plugin = Plugin::create(unique);
    if (!plugin) state.SkipWithError(plugin.error().message.c_str());
    // First call too: instantiation happens lazily, on it.
    auto out = (*plugin)->call("echo", "x");
    if (!out) state.SkipWithError(out.error().message.c_str());
  }
  state.counters["module_bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_CreatePlugin2MBCold)->Unit(benchmark::kMillisecond);

void BM_CreatePlugin2MBWarm(benchmark::State& state) {
  const auto bytes = read(WARDEN_BENCH_BIG_PLUGIN);
  auto keep = Plugin::create(bytes);  // holds the shared compiled module
  for (auto _ : state) {
    auto plugin = Plugin::create(bytes);
    auto out = (*plugin)->call("echo", "x");
    if (!out) state.SkipWithError(out.error().message.c_str());
  }
}
BENCHMARK(BM_CreatePlugin2MBWarm)->Unit(benchmark::kMillisecond);

// A restart with the on-disk module cache (hostabi/module_cache.h): the bytes were validated by
// an earlier run, nothing holds them compiled in memory; creation reads the entry instead of
// validating. The cold case's cost minus this one is what the cache saves.
void BM_CreatePlugin2MBDiskCacheHit(benchmark::State& state) {
  const auto bytes = read(WARDEN_BENCH_BIG_PLUGIN);
  const auto dir =
      std::filesystem::temp_directory_path() / ("warden-bench-cache-" + std::to_string(::getpid()));
  auto cache = warden::extism::ModuleCache::open(dir);
  if (!cache) {
    state.SkipWithError(cache.error().message.c_str());
    return;
  }
  warden::extism::PluginOptions options;
  options.module_cache = *cache;
  (void)Plugin::create(bytes, options);  // the earlier run: validates and stores
  for (auto _ : state) {
    auto plugin = Plugin::create(bytes, options);
    if (!plugin) state.SkipWithError(plugin.error().message.c_str());
    auto out = (*plugin)->call("echo", "x");
    if (!out) state.SkipWithError(out.error().message.c_str());
  }
  const auto stats = (*cache)->stats();
  if (stats.misses != 1) state.SkipWithError("module cache missed after the first creation");
  state.counters["hits"] = static_cast<double>(stats.hits);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CreatePlugin2MBDiskCacheHit)->Unit(benchmark::kMillisecond);

// A new tenant's instance as the multi-tenant host's pool makes it (policy/host/): spawned from
// the admitted prototype (the compiled module shared), then started either afresh (instantiated,
// init run: `warm`) or from the snapshot the host takes of the prototype after its init
// (`warm_from`: the memory mapped copy-on-write, no init).
std::unique_ptr<warden::policy::GatedPlugin> bench_prototype(const char* path) {
  warden::extism::Manifest manifest;
  warden::extism::WasmSource source;
  source.data = read(path);
  manifest.wasm.push_back(std::move(source));
  warden::policy::Admission admission;
  admission.grants = gated_options(false).grants.value();
  auto prototype = warden::policy::GatedPlugin::create(admission, manifest, std::nullopt);
  if (!prototype) return nullptr;
  return std::move(*prototype);
}

void new_tenant_instance(benchmark::State& state, const char* path, bool from_snapshot) {
  auto prototype = bench_prototype(path);
  if (!prototype) return state.SkipWithError("the prototype was refused");
  std::shared_ptr<const warden::extism::PluginSnapshot> snapshot;
  if (from_snapshot) {
    if (!prototype->plugin().warm()) return state.SkipWithError("init failed");
    auto snap = prototype->plugin().snapshot();
    if (!snap) return state.SkipWithError(snap.error().message.c_str());
    snapshot = std::move(*snap);
  }
  for (auto _ : state) {
    auto instance = prototype->spawn();
    if (!instance) return state.SkipWithError("spawn failed");
    auto& plugin = (*instance)->plugin();
    if (!(snapshot ? plugin.warm_from(*snapshot) : plugin.warm()))
      return state.SkipWithError("start failed");
    benchmark::DoNotOptimize(instance);
  }
}

void BM_NewTenantInstance2MB(benchmark::State& state) {
  new_tenant_instance(state, WARDEN_BENCH_BIG_PLUGIN, false);
}
BENCHMARK(BM_NewTenantInstance2MB)->Unit(benchmark::kMicrosecond);
void BM_NewTenantInstance2MBFromSnapshot(benchmark::State& state) {
  new_tenant_instance(state, WARDEN_BENCH_BIG_PLUGIN, true);
}
BENCHMARK(BM_NewTenantInstance2MBFromSnapshot)->Unit(benchmark::kMicrosecond);
// bench/heavy_init.wat: an init that builds 4 MiB of tables.
void BM_NewTenantInstanceHeavyInit(benchmark::State& state) {
  new_tenant_instance(state, WARDEN_BENCH_HEAVY_INIT_PLUGIN, false);
}
BENCHMARK(BM_NewTenantInstanceHeavyInit)->Unit(benchmark::kMicrosecond);
void BM_NewTenantInstanceHeavyInitFromSnapshot(benchmark::State& state) {
  new_tenant_instance(state, WARDEN_BENCH_HEAVY_INIT_PLUGIN, true);
}
BENCHMARK(BM_NewTenantInstanceHeavyInitFromSnapshot)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
