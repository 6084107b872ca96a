// Budgets that hostile modules and plugins attack: a memory's initial pages, tables (per table,
// per store, and in host memory), std::bad_alloc anywhere, bulk instructions over a GiB against a
// deadline or cancel, and the host memory a plugin makes the host spend (checked by RSS in a
// child process, against the bound docs/extism.md states).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>

#include "hostabi/plugin.h"
#include "test_binary.h"
#include "test_guest.h"
#include "vm/store.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WARDEN_SANITIZED 1  // shadow memory and quarantines make RSS and RLIMIT_AS meaningless
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WARDEN_SANITIZED 1
#endif
#endif

namespace warden {
namespace {

using test::guest_bytes;

std::shared_ptr<const CompiledModule> compile(const Engine& engine, const std::string& name) {
  auto compiled = CompiledModule::compile(engine, guest_bytes(name));
  EXPECT_TRUE(compiled) << compiled.error().to_string();
  return compiled ? *compiled : nullptr;
}

// Runs `body` in a forked child and returns its exit status (the child's own checks decide it).
int in_child(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

uint64_t status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(std::strlen(field)));
  return 0;
}

// ---- 1. a memory's initial size ----

TEST(Budget, InitialPagesAreChargedBeforeAnythingIsAllocatedOrRuns) {
  Engine engine;
  Store store(engine);
  MemoryBudget budget = MemoryBudget::of_pages(1);
  store.set_budget(&budget);
  auto inst = store.instantiate(compile(engine, "initial_memory_bomb"), Linker{});
  ASSERT_FALSE(inst);
  EXPECT_EQ(inst.error().kind, ExecError::Kind::Limit);
  EXPECT_NE(inst.error().message().find("exceed the memory budget of 65536 bytes"),
            std::string::npos)
      << inst.error().message();
  EXPECT_TRUE(budget.exhausted);
  EXPECT_EQ(budget.used, 0u);  // nothing was charged, so nothing was allocated
}

TEST(Budget, InitialPagesWithinTheBudgetAreCharged) {
  Engine engine;
  Store store(engine);
  MemoryBudget budget = MemoryBudget::of_pages(70000);
  store.set_budget(&budget);
  auto inst = store.instantiate(compile(engine, "initial_memory_bomb"), Linker{});
  ASSERT_TRUE(inst) << inst.error().message();
  EXPECT_EQ(budget.used, 65536ull * 65536);
  EXPECT_EQ((*inst)->memory0()->pages(), 65536u);
}

// A memory whose initial pages the host cannot allocate is an error, never a 0-page memory
// (which the start function's store at the last byte would turn into a confusing trap).
TEST(Budget, AnInitialMemoryTheHostCannotAllocateIsAnError) {
#ifdef WARDEN_SANITIZED
  GTEST_SKIP() << "RLIMIT_AS does not mix with sanitizer shadow memory";
#endif
  const int status = in_child([] {
    const rlimit limit{1ull << 30, 1ull << 30};  // 1 GiB of address space: 4 GiB cannot be had
    setrlimit(RLIMIT_AS, &limit);
    Engine engine;
    Store store(engine);
    auto compiled = CompiledModule::compile(engine, guest_bytes("initial_memory_bomb"));
    if (!compiled) return 10;
    auto inst = store.instantiate(*compiled, Linker{});
    if (inst) return 11;
    if (inst.error().kind != ExecError::Kind::Limit) return 12;
    if (inst.error().message().find("out of host memory for a memory's initial pages") ==
        std::string::npos)
      return 13;
    return 0;
  });
  EXPECT_EQ(status, 0);
}

// ---- 2. tables ----

TEST(Budget, TablesAreBoundedPerStoreBeforeAllocation) {
  Engine engine;
  Store store(engine);
  auto inst = store.instantiate(compile(engine, "table_bomb"), Linker{});
  ASSERT_FALSE(inst);
  EXPECT_EQ(inst.error().kind, ExecError::Kind::Limit);
  EXPECT_EQ(inst.error().message(),
            "tables of 1000000000 elements in all exceed the 10000000 elements left in "
            "this store")
      << inst.error().message();
}

TEST(Budget, TheCountOfTablesIsBounded) {
  EngineConfig config;
  config.max_tables = 99;
  Engine engine(config);
  Store store(engine);
  auto inst = store.instantiate(compile(engine, "table_bomb"), Linker{});
  ASSERT_FALSE(inst);
  EXPECT_NE(inst.error().message().find("a store of 100 tables exceeds the limit of 99 tables"),
            std::string::npos)
      << inst.error().message();
}

TEST(Budget, TablesAreChargedToTheStoresBudget) {
  EngineConfig config;
  config.max_store_table_elements = 2'000'000'000;
  Engine engine(config);
  Store store(engine);
  MemoryBudget budget = MemoryBudget::of_pages(1000);  // 64 MB < 100 x 80 MB
  store.set_budget(&budget);
  auto inst = store.instantiate(compile(engine, "table_bomb"), Linker{});
  ASSERT_FALSE(inst);
  EXPECT_NE(inst.error().message().find("exceed the memory budget"), std::string::npos)
      << inst.error().message();
}

TEST(Budget, TableGrowReturnsMinusOneWhenTheStoreOrTheBudgetRefuses) {
  {
    EngineConfig config;
    config.max_store_table_elements = 1000;
    Engine engine(config);
    Store store(engine);
    auto inst = store.instantiate(compile(engine, "table_grow_bomb"), Linker{});
    ASSERT_TRUE(inst);
    auto grow = [&](int32_t n) { return store.call(**inst, "grow", {{Value::i32(n)}}); };
    EXPECT_EQ((*grow(600))[0].as_i32(), 0);
    EXPECT_EQ((*grow(600))[0].as_i32(), -1);  // 1200 > 1000 in this store
    EXPECT_EQ((*grow(400))[0].as_i32(), 600);
    EXPECT_EQ((*store.call(**inst, "size", {}))[0].as_i32(), 1000);
  }
  {
    Engine engine;
    Store store(engine);
    MemoryBudget budget = MemoryBudget::of_pages(1);  // 8192 elements of 8 bytes
    store.set_budget(&budget);
    auto inst = store.instantiate(compile(engine, "table_grow_bomb"), Linker{});
    ASSERT_TRUE(inst);
    auto grow = [&](int32_t n) { return store.call(**inst, "grow", {{Value::i32(n)}}); };
    EXPECT_EQ((*grow(8192))[0].as_i32(), 0);
    EXPECT_EQ((*grow(1))[0].as_i32(), -1);
    EXPECT_FALSE(budget.exhausted);          // a refused table.grow is not a failed call
    EXPECT_EQ((*grow(-1))[0].as_i32(), -1);  // 2^32 - 1 elements: past every maximum
    EXPECT_EQ((*store.call(**inst, "size", {}))[0].as_i32(), 8192);
  }
}

// No std::bad_alloc escapes: with every limit raised and the address space capped, a table the
// host cannot allocate makes table.grow return -1, and a module's tables fail instantiation.
TEST(Budget, AllocationFailuresBecomeErrorsNotAborts) {
#ifdef WARDEN_SANITIZED
  GTEST_SKIP() << "RLIMIT_AS does not mix with sanitizer shadow memory";
#endif
  const int status = in_child([] {
    const rlimit limit{512ull << 20, 512ull << 20};
    setrlimit(RLIMIT_AS, &limit);
    EngineConfig config;
    config.max_table_elements = UINT32_MAX;
    config.max_store_table_elements = UINT64_MAX;
    Engine engine(config);
    {
      Store store(engine);
      auto compiled = CompiledModule::compile(engine, guest_bytes("table_grow_bomb"));
      if (!compiled) return 10;
      auto inst = store.instantiate(*compiled, Linker{});
      if (!inst) return 11;
      const Value big[] = {Value::i32(0x40000000)};  // 8 GiB of elements
      auto r = store.call(**inst, "grow", big);
      if (!r || (*r)[0].as_i32() != -1) return 12;
    }
    {
      Store store(engine);
      auto compiled = CompiledModule::compile(engine, guest_bytes("table_bomb"));
      if (!compiled) return 13;
      auto inst = store.instantiate(*compiled, Linker{});
      if (inst) return 14;
      if (inst.error().kind != ExecError::Kind::Limit) return 15;
    }
    return 0;
  });
  EXPECT_EQ(status, 0);
}

// ---- 4. bulk instructions honour a cancel and a deadline between chunks ----

struct BulkGuest {
  explicit BulkGuest(const char* name, EngineConfig config = {}) : engine(config), store(engine) {
    auto inst = store.instantiate(compile(engine, name), Linker{});
    EXPECT_TRUE(inst) << inst.error().message();
    instance = *inst;
  }
  Result<std::vector<Value>, ExecError> call(std::string_view name, std::vector<Value> args = {}) {
    return store.call(*instance, name, args);
  }
  uint8_t* memory() { return instance->memory0()->data(); }
  Engine engine;
  Store store;
  Instance* instance = nullptr;
};

// A cancel that arrived before the call is seen by the first chunk boundary: one instruction
// over a GiB stops without finishing (before: it ran to the end and the call succeeded).
TEST(Budget, BulkMemoryInstructionsStopOnACancelBetweenChunks) {
  BulkGuest g("bulk_ops");
  for (const char* op : {"fill_gib", "copy_gib_up", "copy_gib_down"}) {
    std::memset(g.memory(), 0x11, 65536);
    g.store.interrupt();
    auto r = std::string(op) == "fill_gib" ? g.call(op, {Value::i32(0xAB)}) : g.call(op);
    ASSERT_FALSE(r) << op;
    EXPECT_EQ(r.error().kind, ExecError::Kind::Interrupted) << op;
    EXPECT_EQ(r.error().message(), "interrupted") << op;
    auto again = g.call("load", {Value::i32(0)});  // the plugin is usable afterwards
    ASSERT_TRUE(again) << op;
  }
  // The fill stopped after its first chunk: the end of the GiB is untouched.
  EXPECT_EQ(g.memory()[0x3FFFFFFF], 0);
}

TEST(Budget, BulkMemoryInstructionsStopOnADeadline) {
  BulkGuest g("bulk_ops");
  g.store.set_deadline(std::chrono::milliseconds(20));
  auto r = g.call("fill_gib", {Value::i32(0xAB)});
  g.store.clear_deadline();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ExecError::Kind::Interrupted);
  EXPECT_EQ(r.error().message(), "deadline exceeded");
}

TEST(Budget, BulkTableInstructionsStopOnACancelBetweenChunks) {
  BulkGuest g("bulk_tables");
  for (const char* op : {"fill_all", "copy_up"}) {
    g.store.interrupt();
    auto r = g.call(op);
    ASSERT_FALSE(r) << op;
    EXPECT_EQ(r.error().kind, ExecError::Kind::Interrupted) << op;
  }
  EXPECT_EQ((*g.call("is_null", {Value::i32(9999999)}))[0].as_i32(), 1);
  EXPECT_EQ((*g.call("is_null", {Value::i32(0)}))[0].as_i32(), 0);
}

// Chunked copies keep memmove's result when source and destination overlap, in both directions.
TEST(Budget, ChunkedCopiesOfOverlappingRangesMatchMemmove) {
  BulkGuest g("bulk_ops");
  constexpr uint32_t n = (3u << 20) + 12345;  // more than three chunks
  for (uint32_t shift : {1u, 4096u, (1u << 20) + 7}) {
    for (bool up : {true, false}) {
      uint8_t* mem = g.memory();
      for (uint32_t i = 0; i < n + shift + 16; ++i)
        mem[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
      std::vector<uint8_t> expected(mem, mem + n + shift + 16);
      const uint32_t dst = up ? shift : 0, src = up ? 0 : shift;
      std::memmove(expected.data() + dst, expected.data() + src, n);
      ASSERT_TRUE(g.call("copy", {Value::i32(dst), Value::i32(src), Value::i32(n)}));
      EXPECT_EQ(std::memcmp(g.memory(), expected.data(), expected.size()), 0)
          << "shift " << shift << (up ? " up" : " down");
    }
  }
}

// memory.init from a 3 MiB passive segment (built here: too big for a .wat file) stops too.
TEST(Budget, MemoryInitStopsOnACancelBetweenChunks) {
  using namespace test;
  constexpr uint32_t n = 3u << 20;
  Bytes segment(n, 0x5A);
  // (memory 64) (func (memory.init 0 (i32.const 0) (i32.const 0) (i32.const n))) (data "...")
  const Bytes n_sleb = {0x80, 0x80, 0xC0, 0x01};  // 3 << 20 as a signed LEB128
  const Bytes body =
      B("\x00") + B("\x41\x00\x41\x00\x41") + n_sleb + B("\xFC\x08\x00\x00") + B("\x0B");
  const Bytes wasm = header() + section(1, B("\x01\x60\x00\x00")) + section(3, B("\x01\x00")) +
                     section(5, B("\x01\x00\x40")) + section(7, B("\x01\x03run\x00\x00")) +
                     section(12, B("\x01")) + section(10, B("\x01") + leb(body.size()) + body) +
                     section(11, B("\x01\x01") + leb(n) + segment);
  Engine engine;
  Store store(engine);
  auto compiled = CompiledModule::compile(engine, wasm);
  ASSERT_TRUE(compiled) << compiled.error().to_string();
  auto inst = store.instantiate(*compiled, Linker{});
  ASSERT_TRUE(inst) << inst.error().message();
  store.interrupt();
  auto r = store.call(**inst, "run", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ExecError::Kind::Interrupted);
  EXPECT_EQ((*inst)->memory0()->data()[n - 1], 0);  // the last chunk was not written
  auto whole = store.call(**inst, "run", {});
  ASSERT_TRUE(whole) << whole.error().message();
  EXPECT_EQ((*inst)->memory0()->data()[n - 1], 0x5A);
}

}  // namespace
}  // namespace warden

// ---- 3. host memory spent on a plugin's behalf, by RSS ----

namespace warden::extism {
namespace {

// Runs `function` of tests/testdata/kernel_hostile.wat in a child under a budget of
// `budget_pages`, and returns the child's peak RSS growth in KiB (or a negative failure code).
// The peak is reset (clear_refs 5) after the plugin is created, so it measures the call.
long call_peak_rss_kib(const char* function, uint32_t budget_pages, const char* expected_error) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return -1;
  const int status = in_child([&]() -> int {
    close(pipe_fds[0]);
    Manifest m;
    WasmSource s;
    s.data = guest_bytes("kernel_hostile");
    m.wasm.push_back(std::move(s));
    m.max_pages = budget_pages;
    PluginOptions options;
    options.log_level = LogLevel::Info;
    size_t logged = 0;
    options.log_sink = [&](LogLevel, std::string_view text) { logged += text.size(); };
    auto plugin = Plugin::create(m, std::move(options));
    if (!plugin) return 20;
    if (!(*plugin)->call("input_after_free", std::string_view("X"))) return 21;  // instantiated
    std::ofstream("/proc/self/clear_refs") << "5";
    const uint64_t before = status_kib("VmRSS:");
    auto r = (*plugin)->call(function, std::string_view());
    if (expected_error ? (r || r.error().message != expected_error) : !r) return 22;
    if (std::string(function) == "log_200mb" && logged > (64u << 10)) return 23;  // capped
    const long peak = static_cast<long>(status_kib("VmHWM:") - before);
    if (write(pipe_fds[1], &peak, sizeof peak) != sizeof peak) return 24;
    return 0;
  });
  close(pipe_fds[1]);
  long peak = -100;
  if (status != 0 || read(pipe_fds[0], &peak, sizeof peak) != sizeof peak) peak = -status;
  close(pipe_fds[0]);
  return peak;
}

// docs/extism.md: a plugin's host memory stays below its initial memories and tables (at most
// the budget) + the budget (growth, kernel region with its bookkeeping) + a fixed overhead.
// These guests have a 1-page memory, so the bound is the budget plus the overhead.
constexpr long kOverheadKib = 32 << 10;

// Each bomb's peak RSS stays under its budget plus the overhead. Before: 1-byte allocations under
// 64 MiB took ~570 MB of bookkeeping; the 200 MB log message, output and var key ~400 MB each
// (the block and a copy).
struct Bomb {
  const char* function;
  uint32_t budget_pages;
  const char* expected_error;  // nullptr: the call succeeds
};
class HostMemory : public ::testing::TestWithParam<Bomb> {};

TEST_P(HostMemory, PeakRssStaysUnderTheBudget) {
#ifdef WARDEN_SANITIZED
  GTEST_SKIP() << "RSS under a sanitizer is not the program's";
#endif
  const Bomb& bomb = GetParam();
  const long peak = call_peak_rss_kib(bomb.function, bomb.budget_pages, bomb.expected_error);
  ASSERT_GE(peak, 0) << "child failed: " << -peak;
  const long budget_kib = long{bomb.budget_pages} * 64;
  std::cerr << bomb.function << " under " << budget_kib / 1024 << " MiB: peak RSS +" << peak / 1024
            << " MiB\n";
  EXPECT_LE(peak, budget_kib + kOverheadKib);
}

INSTANTIATE_TEST_SUITE_P(
    Bombs, HostMemory,
    ::testing::Values(Bomb{"tiny_allocs", 1024, "oom"}, Bomb{"log_200mb", 4096, nullptr},
                      Bomb{"output_200mb", 4096, nullptr},
                      Bomb{"var_set_200mb_key", 4096, "Variable store is full"}),
    [](const auto& info) { return std::string(info.param.function); });

// ---- 11. one function frees blocks, for every caller ----

TEST(Kernel, AnImportThatFreesItsArgumentForgetsTheInputToo) {
  Manifest m;
  WasmSource s;
  s.data = guest_bytes("kernel_hostile");
  m.wasm.push_back(std::move(s));
  auto plugin = Plugin::create(m);
  ASSERT_TRUE(plugin) << plugin.error().message;
  for (const char* f :
       {"input_after_free", "input_after_config_get", "input_after_var_get", "input_after_log"}) {
    auto r = (*plugin)->call(f, std::string_view("X"));
    ASSERT_TRUE(r) << f << ": " << r.error().message;
    EXPECT_EQ(*r, "0") << f << ": input_load_u8 read a block allocated after the input was freed";
  }
}

}  // namespace
}  // namespace warden::extism
