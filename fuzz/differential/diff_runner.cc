// diff_runner: the warden half of the differential fuzzer (run-v8.mjs is the V8 half; both print
// the same protocol, see README.md). For each module given: instantiate it with every function
// import logging its arguments, call every exported function in export order with zero
// arguments, and print the results, the import log and a hash of the exported memory.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "vm/store.h"

namespace {

using namespace warden;

constexpr uint64_t kFuelPerCall = 100'000'000;  // fuzz modules are hang-limited; this is a backstop
constexpr uint32_t kCallDepth = 10'000;

// A value exactly: ints in signed decimal, floats as bit patterns, every NaN as "nan" because
// engines may legitimately produce different NaN bits.
std::string format_value(ValType type, uint64_t bits) {
  char buf[32];
  switch (type) {
    case ValType::I32: snprintf(buf, sizeof buf, "%" PRId32, int32_t(uint32_t(bits))); break;
    case ValType::I64: snprintf(buf, sizeof buf, "%" PRId64, int64_t(bits)); break;
    case ValType::F32:
      if ((bits & 0x7f800000) == 0x7f800000 && (bits & 0x007fffff)) return "nan";
      snprintf(buf, sizeof buf, "0x%08" PRIx32, uint32_t(bits));
      break;
    case ValType::F64:
      if ((bits & 0x7ff0000000000000) == 0x7ff0000000000000 && (bits & 0x000fffffffffffff))
        return "nan";
      snprintf(buf, sizeof buf, "0x%016" PRIx64, bits);
      break;
    case ValType::FuncRef:
    case ValType::ExternRef: return bits ? "ref" : "null";
    default: return "v128";
  }
  return buf;
}

// FNV-1a 64 of the memory up to its last non-zero byte, with the size in pages: the same
// information as hashing every byte, but cheap for the mostly-zero memories fuzz modules have
// (the JS side has to do this in JS).
std::string memory_hash(const Memory* memory) {
  if (!memory) return "mem none";
  const uint8_t* data = memory->data();
  uint64_t end = memory->size();  // a multiple of 8: skip zero words, then zero bytes
  while (end >= 8) {
    uint64_t word;
    memcpy(&word, data + end - 8, 8);
    if (word != 0) break;
    end -= 8;
  }
  while (end > 0 && data[end - 1] == 0) --end;
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t i = 0; i < end; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  char buf[64];
  snprintf(buf, sizeof buf, "mem %" PRIu32 " %016" PRIx64, memory->pages(), h);
  return buf;
}

// For triage: with DIFF_DUMP_DIR set, the memory after export call k goes to DIR/k.mem.
void dump_memory(const Memory* memory, int k) {
  const char* dir = getenv("DIFF_DUMP_DIR");
  if (!dir || !memory) return;
  std::ofstream(std::string(dir) + "/" + std::to_string(k) + ".mem", std::ios::binary)
      .write(reinterpret_cast<const char*>(memory->data()), std::streamsize(memory->size()));
}

bool read_bytes(const char* path, std::vector<uint8_t>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

void run_module(const char* path) {
  printf("module %s\n", path);
  fflush(stdout);  // so a crash in this module is attributed to it
  std::vector<uint8_t> bytes;
  if (!read_bytes(path, bytes)) {
    printf("unreadable\n");
    return;
  }
  EngineConfig config;
  config.fuel = true;
  config.max_call_depth = kCallDepth;
  Engine engine(config);
  auto compiled = CompiledModule::compile(engine, std::move(bytes));
  if (!compiled) {
    printf("invalid\n");  // binaryen validated it, so V8 and warden must agree it is valid
    return;
  }
  const Module& m = (*compiled)->module();

  // Every function import logs its arguments and returns zeros; other imports are not
  // provided by either runner (binaryen's fuzz modules only import functions).
  std::vector<std::string> log;
  Linker linker;
  for (const Import& im : m.imports) {
    if (im.kind != ExternKind::Func) {
      printf("unsupported-import\n");
      return;
    }
    const FuncType type = m.types[im.func_type.value];
    linker.define_function(
        im.module, im.name, type,
        [&log, name = im.module + "." + im.name, type](CallContext&, std::span<const Value> args,
                                                       std::span<Value> results) -> HostResult {
          // V8 cannot pass a v128 to or from a JS function: its call throws a TypeError (an
          // "error"). The same here, so that the rest of the call stays comparable.
          bool simd = false;
          for (ValType t : type.params) simd |= t == ValType::V128;
          for (ValType t : type.results) simd |= t == ValType::V128;
          if (simd) {
            ExecError e;
            e.kind = ExecError::Kind::Usage;
            e.detail = "v128 cannot cross the JS boundary";
            return Failure{std::move(e)};
          }
          std::string line = "log " + name;
          for (const Value& v : args) line.append(1, ' ').append(format_value(v.type, v.bits));
          log.push_back(std::move(line));
          for (size_t i = 0; i < results.size(); ++i) results[i] = default_value(type.results[i]);
          return {};
        });
  }

  Store store(engine);
  store.set_fuel(kFuelPerCall);
  auto instance = store.instantiate(*compiled, linker);
  if (!instance) {
    const ExecError& e = instance.error();
    printf("instantiate: %s\n", e.kind == ExecError::Kind::Trap ? "trap" : "error");
    return;
  }
  Instance& inst = **instance;
  printf("instantiate: ok\n");

  // Only an exported memory is visible to the JS side, so only that one is hashed.
  const Memory* memory = nullptr;
  for (const Export& ex : m.exports) {
    if (ex.kind == ExternKind::Memory) {
      memory = inst.memories[ex.index];
      break;
    }
  }
  // binaryen's fuzz-exec resets the hang limit before every export; so do both runners.
  Function* hang_reset = inst.exported_function("hangLimitInitializer");

  int calls = 0;
  for (const Export& ex : m.exports) {
    if (ex.kind != ExternKind::Func) continue;
    Function* f = inst.functions[ex.index];
    std::vector<Value> args;
    bool simd = false;
    for (ValType t : f->type->params) {
      args.push_back(default_value(t));
      simd |= t == ValType::V128;
    }
    for (ValType t : f->type->results) simd |= t == ValType::V128;
    if (simd) {
      // v128 cannot cross the JS boundary: not called on either side, the next export is.
      printf("%s: skip\n", ex.name.c_str());
      continue;
    }
    log.clear();
    if (hang_reset && hang_reset->type->params.empty()) {
      store.set_fuel(kFuelPerCall);
      (void)store.call(*hang_reset, {});
    }
    store.set_fuel(kFuelPerCall);
    auto r = store.call(*f, args);
    std::string line = ex.name + ":";
    bool stop = false;
    if (r) {
      line += " ok";
      for (const Value& v : *r) line.append(1, ' ').append(format_value(v.type, v.bits));
    } else {
      const ExecError& e = r.error();
      const bool exhausted =
          e.kind == ExecError::Kind::OutOfFuel || e.kind == ExecError::Kind::Limit ||
          (e.kind == ExecError::Kind::Trap && e.trap == TrapCode::CallStackExhausted);
      line += exhausted ? " exhausted" : (e.kind == ExecError::Kind::Trap ? " trap" : " error");
      stop = exhausted;  // V8 has other limits: nothing after this is comparable
    }
    printf("%s\n", line.c_str());
    for (const std::string& l : log) printf("%s\n", l.c_str());
    printf("%s\n", memory_hash(memory).c_str());
    dump_memory(memory, ++calls);
    if (stop) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: diff_runner MODULE.wasm...\n");
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    run_module(argv[i]);
    printf("end\n");
    fflush(stdout);  // a crash must not lose the output of earlier modules
  }
  return 0;
}
