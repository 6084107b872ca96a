// Decode and decode+validate throughput (MB/s) on whole modules. By default the largest module
// of the spec suite and warden's own core compiled to wasm32-wasi; or the .wasm files given as
// arguments (after Google Benchmark's own flags).
#include <benchmark/benchmark.h>

#include <fstream>
#include <memory>
#include <iterator>
#include <string>
#include <vector>

#include "validator/load_module.h"

namespace {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void register_module(const std::string& path) {
  auto bytes = std::make_shared<std::vector<uint8_t>>(read_file(path));
  if (bytes->empty()) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(2);
  }
  const std::string name = path.substr(path.find_last_of('/') + 1);
  benchmark::RegisterBenchmark(("decode/" + name).c_str(), [bytes](benchmark::State& state) {
    for (auto _ : state) {
      auto module = warden::decode_module(*bytes);
      if (!module) state.SkipWithError(module.error().to_string().c_str());
      benchmark::DoNotOptimize(module);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes->size()));
  })->Unit(benchmark::kMillisecond);
  // Automatic threads (function bodies of large modules on several threads), then one thread.
  for (const unsigned threads : {0u, 1u}) {
    const std::string label = threads ? "decode+validate(1 thread)/" : "decode+validate/";
    benchmark::RegisterBenchmark(
        (label + name).c_str(),
        [bytes, threads](benchmark::State& state) {
          for (auto _ : state) {
            auto module = warden::load_module(*bytes, {}, {.threads = threads});
            if (!module) state.SkipWithError("invalid module");
            benchmark::DoNotOptimize(module);
          }
          state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes->size()));
        })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::vector<std::string> files(argv + 1, argv + argc);
  if (files.empty()) files = {WARDEN_BENCH_SUITE_MODULE, WARDEN_BENCH_CORE_MODULE};
  for (const std::string& file : files) register_module(file);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
