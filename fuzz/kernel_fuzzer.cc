// Fuzzes the Extism kernel ABI as a hostile plugin would use it: the input is a program of kernel
// calls (every import except http_request) with arbitrary handles, offsets and sizes. Nothing may
// read or write outside the kernel region (ASan), and the answers must be consistent: loads out of
// bounds give 0, length() is 0 except at the start of a live block.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "hostabi/kernel.h"
#include "vm/store.h"

using namespace warden;
using namespace warden::extism;

namespace {

struct Reader {
  const uint8_t* data;
  size_t size;
  uint8_t byte() { return size ? (--size, *data++) : 0; }
  uint64_t u64() {
    uint64_t v = 0;
    const size_t n = size < 8 ? size : 8;
    std::memcpy(&v, data, n);
    data += n;
    size -= n;
    return v;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Engine engine;
  Store store(engine);
  MemoryBudget budget = MemoryBudget::of_pages(64);  // 4 MiB of kernel region at most
  Kernel kernel(&budget);
  kernel.config["key"] = "value";
  kernel.quota.max_var_bytes = 4096;
  kernel.log_level = LogLevel::Trace;
  kernel.log_sink = [](LogLevel, std::string_view) {};
  Linker linker;
  define_kernel(linker, kernel, false);
  std::vector<const HostFunction*> callable;
  for (const auto& f : builtin_host_functions())
    if (f.module == kEnvModule && f.name != "http_request")
      callable.push_back(linker.find(kEnvModule, f.name)->host.get());

  Reader in{data, size};
  const std::string input = "fuzz input";
  kernel.begin_call({reinterpret_cast<const uint8_t*>(input.data()), input.size()});
  std::vector<uint64_t> handles = {0, kernel.input_handle};
  CallContext ctx{store, nullptr};
  while (in.size) {
    const uint8_t op = in.byte();
    if (op == 0xff) {  // a new call: every handle dies
      kernel.begin_call({reinterpret_cast<const uint8_t*>(input.data()), input.size()});
      handles = {0, kernel.input_handle};
      continue;
    }
    const HostFunction& f = *callable[op % callable.size()];
    Value args[2], results[1];
    for (size_t i = 0; i < f.type.params.size(); ++i) {
      // Mostly handles we have seen (+ a small skew), sometimes anything at all.
      const uint8_t how = in.byte();
      uint64_t v = in.u64();
      if (how < 200) v = handles[how % handles.size()] + (v % 17) - 8;
      if (f.type.params[i] == ValType::I64 && how >= 200 && how < 230) v %= 1 << 20;  // sizes
      args[i] = Value{f.type.params[i], f.type.params[i] == ValType::I32 ? (v & 0xffffffffu) : v};
    }
    auto r = f.callback(ctx, {args, f.type.params.size()}, {results, f.type.results.size()});
    if (r && !f.type.results.empty() && f.type.results[0] == ValType::I64 && results[0].bits)
      handles.push_back(results[0].bits);
    if (handles.size() > 256) handles.erase(handles.begin() + 2, handles.begin() + 130);
  }
  // Consistency: every handle we hold answers length() only if it is live, and live blocks lie
  // inside the region.
  for (uint64_t h : handles) {
    const uint64_t n = kernel.region.length(h);
    if (n && !kernel.region.in_bounds(h, n)) __builtin_trap();
  }
  return 0;
}
