// Embedding warden: compile a module, give it a host function, run it under a fuel budget, and
// tell a result, running out of fuel and a trap apart. Build against the installed package:
//   cmake -S examples/embed -B build-embed -DCMAKE_PREFIX_PATH=<prefix> && cmake --build
//   build-embed build-embed/embed guest.wasm
#include <cstdio>
#include <fstream>
#include <iterator>

#include <warden/vm.h>

using namespace warden;

static void report(const char* what, const ExecError& error) {
  const char* kind = error.kind == ExecError::Kind::OutOfFuel ? "out of fuel (not a trap)"
                     : error.kind == ExecError::Kind::Trap    ? "trapped"
                                                              : "failed";
  std::printf("%s: %s: %s\n", what, kind, error.message().c_str());
  for (const TrapFrame& frame : error.backtrace) {
    std::printf("  at func[%u] %s (offset 0x%x)\n", frame.function_index,
                frame.function_name.c_str(), frame.code_offset);
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed GUEST.wasm\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});

  // One Engine per configuration; modules compiled for it can be shared by any number of Stores.
  Engine engine(EngineConfig{.fuel = true, .max_memory_pages = 16});
  auto module = CompiledModule::compile(engine, std::move(bytes));
  if (!module) {
    std::fprintf(stderr, "cannot load %s: %s\n", argv[1], module.error().to_string().c_str());
    return 1;
  }

  // A typed host function; its user data is whatever the callback captures.
  int calls = 0;
  Linker linker;
  linker.define_function(
      "env", "host_add", FuncType{{ValType::I32, ValType::I32}, {ValType::I32}},
      [&calls](CallContext&, std::span<const Value> args, std::span<Value> results) -> HostResult {
        ++calls;
        results[0] = Value::i32(args[0].as_i32() + args[1].as_i32());
        return {};
      });

  Store store(engine);  // one tenant: its instances, memories, fuel
  store.set_fuel(1'000'000);
  auto instance = store.instantiate(*module, linker);
  if (!instance) {
    report("instantiate", instance.error());
    return 1;
  }

  const Value ten[] = {Value::i32(10)};
  auto sum = store.call(**instance, "sum_squares", ten);
  if (!sum) {
    report("sum_squares", sum.error());
    return 1;
  }
  std::printf("sum_squares(10) = %d\n", (*sum)[0].as_i32());
  std::printf("host_add calls: %d, fuel left: %llu of 1000000\n", calls,
              static_cast<unsigned long long>(store.fuel()));

  store.set_fuel(10'000);
  if (auto r = store.call(**instance, "spin", {}); !r) report("spin", r.error());

  store.set_fuel(10'000);
  const Value one_by_zero[] = {Value::i32(1), Value::i32(0)};
  if (auto r = store.call(**instance, "divide", one_by_zero); !r) report("divide", r.error());
  return 0;
}
