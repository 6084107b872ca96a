// The interpreter through the embedding API, with hostile inputs: every trap, limit and refusal,
// fuel determinism, interruption, host functions (failing, re-entering), link and usage errors.
// The guest is tests/testdata/interpreter.wat.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <cmath>
#include <iterator>
#include <thread>

#include "vm/store.h"

namespace warden {
namespace {

std::vector<uint8_t> read_guest(const std::string& name) {
  std::ifstream in(std::string(WARDEN_TEST_DATA) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A Store with the test guest instantiated; the host imports are defined here.
struct Guest {
  explicit Guest(EngineConfig config = {}) : engine(config), store(engine) {
    auto compiled = CompiledModule::compile(engine, read_guest("interpreter.wasm"));
    EXPECT_TRUE(compiled) << compiled.error().to_string();
    module = *compiled;
    define_imports(linker, &instance);
    auto inst = store.instantiate(module, linker);
    EXPECT_TRUE(inst) << inst.error().message();
    instance = *inst;
  }

  // "reenter" calls back into `*target` (nullptr: it is never called).
  static void define_imports(Linker& l, Instance* const* target = nullptr) {
    using enum ValType;
    l.define_function("env", "fail", FuncType{},
                      [](CallContext&, std::span<const Value>, std::span<Value>) -> HostResult {
                        ExecError e;
                        e.kind = ExecError::Kind::Trap;
                        e.trap = TrapCode::HostError;
                        e.detail = "the host said no";
                        return Failure{e};
                      });
    l.define_function(
        "env", "host_add", FuncType{{I32, I32}, {I32}},
        [](CallContext&, std::span<const Value> args, std::span<Value> results) -> HostResult {
          results[0] = Value::i32(args[0].as_i32() + args[1].as_i32());
          return {};
        });
    // Grows the caller's memory by one page; returns the old size in pages.
    l.define_function("env", "host_grow", FuncType{{}, {I32}},
                      [](CallContext& ctx, std::span<const Value>, std::span<Value> results)
                          -> HostResult {
                        results[0] = Value::i32(ctx.memory()->grow(1));
                        return {};
                      });
    // Calls back into the guest's "add" (a nested call on the same Store).
    l.define_function("env", "reenter", FuncType{{I32}, {I32}},
                      [target](CallContext& ctx, std::span<const Value> args,
                               std::span<Value> results) -> HostResult {
                        const Value two[] = {args[0], Value::i32(100)};
                        auto r = ctx.store.call(**target, "add", two);
                        if (!r) return Failure{r.take_error()};
                        results[0] = (*r)[0];
                        return {};
                      });
  }

  Result<std::vector<Value>, ExecError> call(std::string_view name, std::vector<Value> args = {}) {
    return store.call(*instance, name, args);
  }
  TrapCode trap_of(std::string_view name, std::vector<Value> args = {}) {
    auto r = call(name, std::move(args));
    EXPECT_FALSE(r) << name << " returned";
    if (r) return TrapCode::Unsupported;
    EXPECT_EQ(r.error().kind, ExecError::Kind::Trap) << r.error().message();
    return r.error().trap;
  }
  int32_t progress() const {
    return static_cast<int32_t>(instance->find_export("progress")->global->bits);
  }

  Engine engine;
  Store store;
  Linker linker;
  std::shared_ptr<const CompiledModule> module;
  Instance* instance = nullptr;
};

TEST(Interpreter, ReturnsTypedResultsIncludingMultiValue) {
  Guest g;
  auto r = g.call("add", {Value::i32(40), Value::i32(2)});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], Value::i32(42));
  auto s = g.call("swap", {Value::i32(-1), Value::i64(1LL << 40)});
  ASSERT_TRUE(s);
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0], Value::i64(1LL << 40));
  EXPECT_EQ((*s)[1], Value::i32(-1));
}

TEST(Interpreter, EveryTrapHasItsCodeAndTheSpecMessage) {
  Guest g;
  EXPECT_EQ(g.trap_of("unreachable"), TrapCode::Unreachable);
  EXPECT_EQ(g.trap_of("div_s", {Value::i32(1), Value::i32(0)}), TrapCode::IntegerDivideByZero);
  EXPECT_EQ(g.trap_of("div_s", {Value::i32(INT32_MIN), Value::i32(-1)}), TrapCode::IntegerOverflow);
  EXPECT_EQ(g.trap_of("trunc", {Value::f32(std::nanf(""))}), TrapCode::InvalidConversionToInteger);
  EXPECT_EQ(g.trap_of("trunc", {Value::f32(2147483648.0f)}), TrapCode::IntegerOverflow);
  EXPECT_EQ(g.trap_of("call_slot", {Value::i32(1)}), TrapCode::IndirectCallTypeMismatch);
  EXPECT_EQ(g.trap_of("call_slot", {Value::i32(2)}), TrapCode::UninitializedElement);
  EXPECT_EQ(g.trap_of("call_slot", {Value::i32(3)}), TrapCode::UndefinedElement);
  EXPECT_EQ(g.trap_of("call_slot", {Value::i32(-1)}), TrapCode::UndefinedElement);
  EXPECT_EQ(g.trap_of("table_get", {Value::i32(3)}), TrapCode::TableOutOfBounds);
  EXPECT_EQ(trap_message(TrapCode::MemoryOutOfBounds), "out of bounds memory access");
  // Still usable after all of that.
  auto ok = g.call("call_slot", {Value::i32(0)});
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)[0], Value::i32(7));
}

TEST(Interpreter, MemoryAccessesAreBoundsCheckedAtEveryEdge) {
  Guest g;
  EXPECT_TRUE(g.call("load", {Value::i32(65532)}));  // the last 4 bytes of the page
  EXPECT_EQ(g.trap_of("load", {Value::i32(65533)}), TrapCode::MemoryOutOfBounds);  // straddles
  EXPECT_EQ(g.trap_of("load", {Value::i32(-1)}), TrapCode::MemoryOutOfBounds);
  // address + offset overflows 32 bits: must not wrap around to a valid address.
  EXPECT_EQ(g.trap_of("load_offset", {Value::i32(1)}), TrapCode::MemoryOutOfBounds);
  EXPECT_EQ(g.trap_of("fill", {Value::i32(65537)}), TrapCode::MemoryOutOfBounds);
  EXPECT_TRUE(g.call("fill", {Value::i32(65536)}));
}

TEST(Interpreter, InfiniteRecursionExhaustsTheCallStackNotTheHost) {
  Guest g;
  EXPECT_EQ(g.trap_of("recurse", {Value::i32(0)}), TrapCode::CallStackExhausted);
  EXPECT_EQ(g.trap_of("recurse", {Value::i32(0)}), TrapCode::CallStackExhausted);  // again
  Guest shallow(EngineConfig{.max_call_depth = 10});
  EXPECT_EQ(shallow.trap_of("recurse", {Value::i32(0)}), TrapCode::CallStackExhausted);
  // A value stack too small for deep frames runs out first, with the same outcome.
  Guest tiny_stack(EngineConfig{.value_stack_slots = 256});
  EXPECT_EQ(tiny_stack.trap_of("recurse", {Value::i32(0)}), TrapCode::CallStackExhausted);
  auto r = tiny_stack.call("add", {Value::i32(1), Value::i32(2)});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], Value::i32(3));
}

TEST(Interpreter, TrapBacktraceIsInnermostFirstWithNames) {
  Guest g;
  auto r = g.call("outer");
  ASSERT_FALSE(r);
  const auto& bt = r.error().backtrace;
  ASSERT_EQ(bt.size(), 3u);
  EXPECT_EQ(bt[0].function_name, "inner");
  EXPECT_EQ(bt[1].function_name, "middle");
  EXPECT_EQ(bt[2].function_name, "outer");
  EXPECT_LT(bt[0].function_index, bt[1].function_index);
  EXPECT_GT(bt[0].code_offset, 0u);
}

TEST(Interpreter, MemoryGrowStopsAtTheModuleMaximumAndTheBudget) {
  Guest g;  // memory 1..10
  auto r = g.call("grow", {Value::i32(9)});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], Value::i32(1));
  r = g.call("grow", {Value::i32(1)});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], Value::i32(-1));
  Guest budget(EngineConfig{.max_memory_pages = 4});
  r = budget.call("grow", {Value::i32(3)});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], Value::i32(1));
  r = budget.call("grow", {Value::i32(1)});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], Value::i32(-1));
  r = budget.call("grow", {Value::i32(-1)});  // 4 Gi pages
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], Value::i32(-1));
}

TEST(Interpreter, MemoryGrownByACalleeOrTheHostIsSeenAfterTheReturn) {
  Guest g;  // memory 1..10: each call adds one page and writes its first word
  for (int i = 0; i < 3; ++i) {
    auto r = g.call("grow_in_callee");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ((*r)[0], Value::i32(42));
    r = g.call("grow_in_host");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ((*r)[0], Value::i32(42));
  }
  auto pages = g.call("grow", {Value::i32(0)});
  ASSERT_TRUE(pages);
  EXPECT_EQ((*pages)[0], Value::i32(7));
}

TEST(Interpreter, AModuleNeedingMoreMemoryThanTheBudgetIsRefused) {
  Engine engine(EngineConfig{.max_memory_pages = 0});
  Store store(engine);
  auto compiled = CompiledModule::compile(engine, read_guest("interpreter.wasm"));
  ASSERT_TRUE(compiled);
  Linker linker;
  Guest::define_imports(linker);
  auto inst = store.instantiate(*compiled, linker);
  ASSERT_FALSE(inst);
  EXPECT_EQ(inst.error().kind, ExecError::Kind::Limit);
  EXPECT_NE(inst.error().message().find("memory of 1 pages exceeds the limit of 0 pages"),
            std::string::npos);
}

TEST(Interpreter, OutOfFuelIsItsOwnOutcomeAndDeterministic) {
  auto run = [](uint64_t budget) {
    Guest g(EngineConfig{.fuel = true});
    g.store.set_fuel(budget);
    auto r = g.call("count");
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().kind, ExecError::Kind::OutOfFuel) << r.error().message();
    }
    EXPECT_EQ(g.store.fuel(), 0u);
    return g.progress();
  };
  const int32_t first = run(10'000);
  EXPECT_GT(first, 0);
  EXPECT_EQ(run(10'000), first);  // the same budget stops at the same point
  EXPECT_GT(run(20'000), first);  // a larger one gets further
  EXPECT_LT(run(20'000), 3 * first);
}

TEST(Interpreter, FuelIsChargedPerInstructionAndLeftOverIsReported) {
  Guest g(EngineConfig{.fuel = true});
  g.store.set_fuel(1'000);
  ASSERT_TRUE(g.call("add", {Value::i32(1), Value::i32(2)}));
  const uint64_t left = g.store.fuel();
  EXPECT_LT(left, 1'000u);
  EXPECT_GT(left, 990u);  // local.get, local.get, i32.add: a few units
  g.store.set_fuel(1'000);
  auto r = g.call("fill", {Value::i32(65536)});  // bulk memory charges per byte
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ExecError::Kind::OutOfFuel);
}

TEST(Interpreter, InterruptFromAnotherThreadStopsALoopWithoutCalls) {
  Guest g;  // fuel off: only the interrupt can stop "spin"
  std::atomic<bool> started{false};
  std::thread canceller([&] {
    while (!started) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    g.store.interrupt();
  });
  started = true;
  auto r = g.call("spin");
  canceller.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ExecError::Kind::Interrupted);
  EXPECT_EQ(r.error().message(), "interrupted");
  EXPECT_TRUE(g.call("add", {Value::i32(1), Value::i32(1)}));  // the flag was consumed
}

TEST(Interpreter, DeadlineStopsAnInfiniteLoop) {
  Guest g;
  g.store.set_deadline(std::chrono::milliseconds(100));
  auto r = g.call("spin");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ExecError::Kind::Interrupted);
  EXPECT_EQ(r.error().message(), "deadline exceeded");
  g.store.clear_deadline();
}

TEST(Interpreter, HostFunctionsFailReturnAndReenter) {
  Guest g;
  auto r = g.call("call_fail");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().trap, TrapCode::HostError);
  EXPECT_EQ(r.error().message(), "trap: host function failed: the host said no");
  ASSERT_FALSE(r.error().backtrace.empty());
  EXPECT_EQ(r.error().backtrace[0].function_name, "call_fail");
  auto sum = g.call("use_host");
  ASSERT_TRUE(sum);
  EXPECT_EQ((*sum)[0], Value::i32(5));
  auto nested = g.call("use_reenter", {Value::i32(23)});
  ASSERT_TRUE(nested) << nested.error().message();
  EXPECT_EQ((*nested)[0], Value::i32(123));
}

TEST(Interpreter, EmbedderMistakesAreUsageErrors) {
  Guest g;
  auto r = g.call("add", {Value::i32(1)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ExecError::Kind::Usage);
  r = g.call("add", {Value::i32(1), Value::i64(2)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "argument 2 should be i32, got i64");
  r = g.call("no_such_export");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "no exported function \"no_such_export\"");
}

TEST(Interpreter, MissingAndMistypedImportsAreLinkErrors) {
  Engine engine;
  Store store(engine);
  auto compiled = CompiledModule::compile(engine, read_guest("interpreter.wasm"));
  ASSERT_TRUE(compiled);
  Linker empty;
  auto r = store.instantiate(*compiled, empty);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ExecError::Kind::Link);
  EXPECT_EQ(r.error().message(), "unknown import \"env\".\"fail\"");
  Linker wrong;
  Guest::define_imports(wrong);
  wrong.define_function(
      "env", "host_add", FuncType{{ValType::I64}, {}},
      [](CallContext&, std::span<const Value>, std::span<Value>) -> HostResult { return {}; });
  r = store.instantiate(*compiled, wrong);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ExecError::Kind::Link);
  EXPECT_EQ(r.error().message(),
            "incompatible import type for \"env\".\"host_add\": expected (i32, i32) -> (i32), got "
            "(i64) -> ()");
}

TEST(Interpreter, ACompiledModuleIsSharedByStoresOnSeveralThreads) {
  Engine engine;
  auto compiled = CompiledModule::compile(engine, read_guest("interpreter.wasm"));
  ASSERT_TRUE(compiled);
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Store store(engine);
      Linker linker;
      Guest::define_imports(linker);
      auto inst = store.instantiate(*compiled, linker);
      if (!inst) return;
      for (int i = 0; i < 100; ++i) {
        const Value args[] = {Value::i32(t), Value::i32(i)};
        auto r = store.call(**inst, "add", args);
        if (r && (*r)[0] == Value::i32(t + i)) ++correct;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(correct, 400);
}

}  // namespace
}  // namespace warden
