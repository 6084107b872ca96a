// StoreSnapshot: what Store::snapshot() saw of a store, to start other stores from (a
// multi-tenant host's instances start from one taken after init, instead of instantiating and
// initialising each). Immutable, shareable between threads. References to functions are kept as
// positions in the store, so that they name the same function in a restored store; the memories
// are MemoryImages, which restored memories map copy-on-write.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "vm/memory_image.h"

namespace warden {

class CompiledModule;

struct StoreSnapshot {
  struct InstanceState {
    const CompiledModule* module = nullptr;    // identity only: the restored store's must match
    std::vector<std::vector<uint64_t>> elems;  // element segments (encoded refs); empty: dropped
    std::vector<bool> data_dropped;
  };
  std::vector<InstanceState> instances;  // in creation order
  std::vector<uint32_t> function_types;  // each function's type id (the shape check)
  std::vector<std::shared_ptr<const MemoryImage>> memories;
  std::vector<std::vector<uint64_t>> tables;  // encoded refs
  std::vector<uint64_t> globals;              // bits (funcref globals encoded)
  std::vector<uint64_t> globals_hi;           // a v128 global's high half, else 0

  // An encoded reference: 0 is null, n is the store's function n - 1.
  static constexpr uint64_t kNull = 0;

  // Bytes of host memory the snapshot holds (the images' non-zero pages, tables, segments).
  uint64_t resident_bytes() const;
};

}  // namespace warden
