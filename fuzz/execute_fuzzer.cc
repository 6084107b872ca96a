// libFuzzer target: any byte sequence that loads is instantiated (every import satisfied by a
// stub of the right type) and every exported function is called with zero arguments, under a
// small fuel budget, call depth, value stack and memory budget. Nothing may crash, hang, leak,
// read out of bounds or trip UBSan; traps, running out of fuel and refusals are fine.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vm/store.h"

namespace {

using namespace warden;

EngineConfig fuzz_config() {
  EngineConfig c;
  c.fuel = true;
  c.max_call_depth = 500;
  c.value_stack_slots = 1u << 16;
  c.max_memory_pages = 16;
  c.max_table_elements = 10'000;
  return c;
}

// Defines every import of `module` with a stub: functions return zeros, memories/tables/globals
// are fresh objects of the wanted type.
void stub_imports(const Module& module, Store& store, Linker& linker) {
  for (const Import& im : module.imports) {
    Extern x;
    x.kind = im.kind;
    switch (im.kind) {
      case ExternKind::Func: {
        const FuncType& type = module.types[im.func_type.value];
        linker.define_function(im.module, im.name, type,
                               [](CallContext&, std::span<const Value>,
                                  std::span<Value>) -> HostResult { return {}; });
        continue;
      }
      case ExternKind::Memory:
        x.memory = store.create_memory(im.memory);
        if (!x.memory) return;
        break;
      case ExternKind::Table:
        x.table = store.create_table(im.table);
        if (!x.table) return;
        break;
      case ExternKind::Global:
        x.global = store.create_global(im.global, Value{im.global.type, 0});
        break;
    }
    linker.define(im.module, im.name, x);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Engine engine(fuzz_config());
  auto compiled = CompiledModule::compile(engine, std::vector<uint8_t>(data, data + size));
  if (!compiled) return 0;
  const Module& module = (*compiled)->module();
  for (const MemoryType& m : module.memories) {
    if (m.limits.min > 16) return 0;  // would be refused anyway; keep executions cheap
  }
  Store store(engine);
  Linker linker;
  stub_imports(module, store, linker);
  store.set_fuel(100'000);
  auto instance = store.instantiate(*compiled, linker);
  if (!instance) return 0;
  for (const Export& e : module.exports) {
    if (e.kind != ExternKind::Func) continue;
    const Function* f = (*instance)->functions[e.index];
    std::vector<Value> args;
    for (ValType t : f->type->params) args.push_back(default_value(t));
    store.set_fuel(100'000);
    auto r = store.call(*f, args);
    (void)r;
  }
  return 0;
}
