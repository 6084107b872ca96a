// Engine: the configuration every module compiled for it shares (features, limits, whether fuel
// metering is compiled in) and the registry that gives structurally equal function types one id,
// so call_indirect compares types with one integer compare across modules. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "decoder/features.h"
#include "decoder/types.h"

namespace warden {

struct EngineConfig {
  Features features{};
  bool fuel = false;                               // compile metering into the code
  uint32_t max_call_depth = 10'000;                // Wasm frames; beyond: "call stack exhausted"
  uint32_t value_stack_slots = 1u << 20;           // 8-byte slots shared by all frames (8 MiB)
  uint32_t max_memory_pages = 65'536;              // per memory, on top of the module's own maximum
  uint32_t max_table_elements = 10'000'000;        // per table
  uint64_t max_store_table_elements = 10'000'000;  // all the tables of one Store together
  uint32_t max_tables = 10'000;                    // tables one Store may create
  // Calls into a Store nested inside a host function's call (guest -> host -> guest ...): each
  // level is native recursion in the host, so it is bounded well below any thread's stack.
  uint32_t max_host_reentry = 16;
  // Threads that may validate one module's function bodies (ValidationOptions::threads: 0 is
  // automatic, 1 the calling thread only).
  unsigned validation_threads = 0;
};

class Engine {
 public:
  explicit Engine(EngineConfig config = {}) : config_(config) {}
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const EngineConfig& config() const { return config_; }
  // The canonical id of a function type; equal types get equal ids.
  uint32_t type_id(const FuncType& type) const;

 private:
  EngineConfig config_;
  mutable std::mutex types_mutex_;
  mutable std::map<std::pair<std::vector<ValType>, std::vector<ValType>>, uint32_t> type_ids_;
};

}  // namespace warden
