// The mutable objects a Store owns: functions, memories, tables, globals and instances. Instances
// refer to them by pointer, so an import is the exporting instance's object itself.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "decoder/result.h"
#include "decoder/types.h"
#include "vm/byte_buffer.h"
#include "vm/trap.h"
#include "vm/value.h"

namespace warden {

class CompiledModule;
class Store;
struct CompiledFunction;
struct Instance;
struct Memory;

// What a host function sees of its caller.
struct CallContext {
  Store& store;
  Instance* instance;      // the calling instance (nullptr when called from the host)
  Memory* memory() const;  // the caller's memory 0, or nullptr
};

using HostResult = Result<void, ExecError>;
using HostCallback =
    std::function<HostResult(CallContext&, std::span<const Value> args, std::span<Value> results)>;

struct HostFunction {
  FuncType type;
  HostCallback callback;
};

struct Function {
  uint32_t type_id = 0;  // Engine::type_id
  const FuncType* type = nullptr;
  // A Wasm function: its instance and index in the module's function space.
  Instance* instance = nullptr;
  uint32_t index = 0;
  mutable const CompiledFunction* code = nullptr;  // cached from the CompiledModule
  // A host function (instance == nullptr).
  std::shared_ptr<const HostFunction> host;

  bool is_host() const { return instance == nullptr; }
};

// The host memory one tenant may take, in bytes (Extism's memory.max_pages × 64 KiB), shared by
// its memories, tables, the kernel region and the host's bookkeeping for them. Every charge is
// taken before the allocation it pays for. A refused take() marks the budget exhausted: the
// interpreter then traps with TrapCode::MemoryLimit instead of returning -1 from memory.grow
// (the embedder asked for a hard stop), and the Extism layer reports "oom".
struct MemoryBudget {
  uint64_t limit = UINT64_MAX;  // bytes
  uint64_t used = 0;
  bool exhausted = false;

  static MemoryBudget of_pages(uint64_t pages) {
    MemoryBudget b;
    b.limit = pages > UINT64_MAX / kPageSize ? UINT64_MAX : pages * kPageSize;
    return b;
  }
  uint64_t left() const { return limit - used; }
  // Takes `bytes`, or marks the budget exhausted and returns false.
  bool take(uint64_t bytes) {
    if (!try_take(bytes)) {
      exhausted = true;
      return false;
    }
    return true;
  }
  // Takes `bytes` if they are left; a refusal is not a failure of the call (table.grow's -1).
  bool try_take(uint64_t bytes) {
    if (bytes > left()) return false;
    used += bytes;
    return true;
  }
  void give_back(uint64_t bytes) { used -= bytes < used ? bytes : used; }
};

// A linear memory. Its bytes live in a ByteBuffer: pages the guest never touches are never
// committed, capacity grows geometrically (up to the maximum) and the budget pays for the size.
struct Memory {
  MemoryType type;
  uint32_t max_pages = 0;          // min(type max, engine limit)
  MemoryBudget* budget = nullptr;  // the owning Store's, when it has one

  uint8_t* data() const { return bytes_.data(); }
  uint64_t size() const { return bytes_.size(); }  // in bytes, a multiple of the page size
  uint32_t pages() const { return static_cast<uint32_t>(size() / kPageSize); }
  // Old size in pages, or -1 when the result would pass the maximum or the budget (or the host
  // is out of memory).
  int32_t grow(uint32_t delta);
  // Replaces the bytes with `image`'s, which is at least as large (the growth charged like
  // grow's). False, and nothing changes, past the maximum, the budget or the host's memory.
  bool assign(const MemoryImage& image);

 private:
  ByteBuffer bytes_;
};

// What all the tables of one Store may hold together: a count of elements (8 bytes each) and the
// Store's budget, if any. Both pay for a table's capacity, before it is allocated.
struct TableAccount {
  uint64_t elements_left = UINT64_MAX;
  MemoryBudget* budget = nullptr;
};

struct Table {
  TableType type;
  uint32_t max_elements = 0;
  TableAccount* account = nullptr;
  std::vector<uint64_t> elements;  // reference bits, 0 = null

  // Old size, or -1 when the maximum, the account or the host's memory refuses the growth.
  int32_t grow(uint32_t delta, uint64_t init);
};

struct Global {
  GlobalType type;
  uint64_t bits = 0;
  uint64_t hi = 0;  // a v128's high half
  Value value() const {
    const ValType t = type.type;
    return {t, t == ValType::I32 || t == ValType::F32 ? bits & 0xFFFFFFFFu : bits, hi};
  }
};

// An external value: what an import needs and an export gives.
struct Extern {
  ExternKind kind = ExternKind::Func;
  Function* function = nullptr;
  Table* table = nullptr;
  Memory* memory = nullptr;
  Global* global = nullptr;
};

struct Instance {
  Store* store = nullptr;
  std::shared_ptr<const CompiledModule> module;
  std::vector<Function*> functions;
  std::vector<Table*> tables;
  std::vector<Memory*> memories;
  std::vector<Global*> globals;
  Memory* memory = nullptr;                  // memories[0], cached for the interpreter
  std::vector<std::vector<uint64_t>> elems;  // element segments (refs); empty once dropped
  std::vector<bool> data_dropped;
  std::unordered_map<std::string, Extern> exports;

  const Extern* find_export(std::string_view name) const;
  Function* exported_function(std::string_view name) const;
  Memory* memory0() const { return memories.empty() ? nullptr : memories[0]; }
};

}  // namespace warden
