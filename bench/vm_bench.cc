// Interpreter microbenchmarks: call overhead in both directions, the cost of an empty loop
// iteration with fuel metering on and off, and the latency from Store::interrupt() to the
// call returning, and how long after a deadline a GiB-sized bulk instruction stops.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "vm/store.h"

namespace {

using namespace warden;

struct Guest {
  explicit Guest(bool fuel) : engine(EngineConfig{.fuel = fuel}), store(engine) {
    std::ifstream in(WARDEN_BENCH_VM_MODULE, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    auto compiled = CompiledModule::compile(engine, std::move(bytes));
    if (!compiled) std::abort();
    linker.define_function(
        "host", "nop", FuncType{{ValType::I32}, {ValType::I32}},
        [](CallContext&, std::span<const Value> args, std::span<Value> results) -> HostResult {
          results[0] = args[0];
          return {};
        });
    auto inst = store.instantiate(*compiled, linker);
    if (!inst) std::abort();
    instance = *inst;
    store.set_fuel(uint64_t{1} << 62);
  }
  Engine engine;
  Store store;
  Linker linker;
  Instance* instance = nullptr;
};

void BM_HostToGuestCall(benchmark::State& state) {
  Guest g(false);
  Function* f = g.instance->exported_function("identity");
  const Value arg = Value::i32(7);
  for (auto _ : state) {
    auto r = g.store.call(*f, {&arg, 1});
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HostToGuestCall);

void BM_GuestToHostCall(benchmark::State& state) {
  Guest g(false);
  Function* f = g.instance->exported_function("call_host");
  const Value n = Value::i32(100'000);
  for (auto _ : state) {
    auto r = g.store.call(*f, {&n, 1});
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 100'000);  // items = guest->host calls
}
BENCHMARK(BM_GuestToHostCall);

// Arg 0: fuel off, 1: fuel on. Items = loop iterations (3 instructions + the back-edge).
void BM_EmptyLoop(benchmark::State& state) {
  Guest g(state.range(0) != 0);
  Function* f = g.instance->exported_function("count");
  const Value n = Value::i32(10'000'000);
  for (auto _ : state) {
    g.store.set_fuel(uint64_t{1} << 62);
    auto r = g.store.call(*f, {&n, 1});
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 10'000'000);
  state.SetLabel(state.range(0) ? "fuel on" : "fuel off");
}
BENCHMARK(BM_EmptyLoop)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Time from interrupt() on another thread to the guest's call returning (manual time).
void BM_InterruptLatency(benchmark::State& state) {
  Guest g(false);
  Function* f = g.instance->exported_function("spin");
  for (auto _ : state) {
    std::atomic<bool> running{false};
    std::chrono::steady_clock::time_point sent;
    std::thread canceller([&] {
      while (!running.load()) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      sent = std::chrono::steady_clock::now();
      g.store.interrupt();
    });
    running = true;
    auto r = g.store.call(*f, {});
    const auto stopped = std::chrono::steady_clock::now();
    canceller.join();
    if (r || r.error().kind != ExecError::Kind::Interrupted) state.SkipWithError("not interrupted");
    state.SetIterationTime(std::chrono::duration<double>(stopped - sent).count());
  }
}
BENCHMARK(BM_InterruptLatency)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(200);

// A 1 GiB memory.fill (arg 0) or memory.copy (arg 1) under a 20 ms deadline: the time from the
// deadline to the call's return (manual time). Bulk instructions look at the deadline between
// 1 MiB chunks; before they did, the call ran to its end (seconds).
void BM_BulkStopsOnDeadline(benchmark::State& state) {
  Engine engine;
  Store store(engine);
  std::ifstream in(WARDEN_BENCH_BULK_MODULE, std::ios::binary);
  auto compiled = CompiledModule::compile(engine, {std::istreambuf_iterator<char>(in), {}});
  if (!compiled) std::abort();
  auto inst = store.instantiate(*compiled, Linker{});
  if (!inst) std::abort();
  Function* f = (*inst)->exported_function(state.range(0) ? "copy_gib" : "fill_gib");
  for (auto _ : state) {
    constexpr auto kDeadline = std::chrono::milliseconds(20);
    const auto start = std::chrono::steady_clock::now();
    store.set_deadline(kDeadline);
    auto r = store.call(*f, {});
    const auto stopped = std::chrono::steady_clock::now();
    store.clear_deadline();
    if (r || r.error().kind != ExecError::Kind::Interrupted) state.SkipWithError("not stopped");
    state.SetIterationTime(std::chrono::duration<double>(stopped - start - kDeadline).count());
  }
  state.SetLabel(state.range(0) ? "memory.copy 1 GiB" : "memory.fill 1 GiB");
}
BENCHMARK(BM_BulkStopsOnDeadline)
    ->Arg(0)
    ->Arg(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(30);

}  // namespace

BENCHMARK_MAIN();
