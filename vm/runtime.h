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

// A growth budget shared by several memories (and host-side regions): Extism's memory.max_pages.
// A grow that would pass it fails and marks the budget exhausted, and the interpreter then traps
// with TrapCode::MemoryLimit instead of returning -1 (the embedder asked for a hard stop).
struct MemoryBudget {
  uint64_t pages_left = UINT64_MAX;
  bool exhausted = false;
  bool take(uint64_t pages) {
    if (pages > pages_left) {
      exhausted = true;
      return false;
    }
    pages_left -= pages;
    return true;
  }
};

// A linear memory. Storage comes from calloc, so pages the guest never touches are never
// committed; capacity grows geometrically (up to the maximum) and bytes past the size stay zero.
struct Memory {
  MemoryType type;
  uint32_t max_pages = 0;          // min(type max, engine limit)
  MemoryBudget* budget = nullptr;  // optional, set by the embedder after instantiation

  uint8_t* data() const { return data_.get(); }
  uint64_t size() const { return size_; }  // in bytes, a multiple of the page size
  uint32_t pages() const { return static_cast<uint32_t>(size_ / kPageSize); }
  // Old size in pages, or -1 when the result would pass the maximum or the budget (or the host
  // is out of memory).
  int32_t grow(uint32_t delta);

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t[], Free> data_;
  uint64_t size_ = 0;
  uint64_t capacity_ = 0;
};

struct Table {
  TableType type;
  uint32_t max_elements = 0;
  std::vector<uint64_t> elements;  // reference bits, 0 = null

  int32_t grow(uint32_t delta, uint64_t init);
};

struct Global {
  GlobalType type;
  uint64_t bits = 0;
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
