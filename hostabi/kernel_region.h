// KernelRegion: the Extism kernel's byte region, separate from the plugin's linear memory. A
// handle is an offset into it; 0 is null. Block bookkeeping lives on the host side, so nothing a
// plugin writes into the region can corrupt it, and every access is checked against the region:
// a forged, freed or out-of-range handle reads zeros and writes nowhere.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vm/byte_buffer.h"
#include "vm/runtime.h"

namespace warden::extism {

class KernelRegion {
 public:
  static constexpr uint64_t kFirstHandle = 16;       // nothing starts below: 0 stays null
  static constexpr uint64_t kPageSize = 65536;       // growth unit, charged to the budget
  static constexpr uint64_t kMaxBytes = 4ull << 30;  // as large as a wasm32 memory
  // What one live block costs the host beyond its bytes (its entry in live_, and the free-list
  // entries it can become), charged to the budget with the block: a plugin that allocates
  // millions of 1-byte blocks pays for their bookkeeping, not only for 8 bytes each.
  static constexpr uint64_t kBlockBookkeeping = 192;
  static constexpr size_t kMaxLiveBlocks = 1u << 20;  // with or without a budget

  // `budget` (optional) is charged in pages for the region's bytes and the bookkeeping of its
  // live blocks.
  explicit KernelRegion(MemoryBudget* budget = nullptr) : budget_(budget) {}

  // A new block of n bytes, zeroed (its rounding padding too); 0 for n == 0, past
  // kMaxLiveBlocks, or when the region cannot grow (then budget_exhausted() says whether the
  // memory budget was the reason).
  uint64_t alloc(uint64_t n);
  // Releases a live block; anything else (0, freed, forged) is ignored.
  void free(uint64_t handle);
  // Length of the live block starting exactly at `handle`, else 0.
  uint64_t length(uint64_t handle) const;
  // Copies `bytes` into a new block; 0 if empty or out of room.
  uint64_t alloc_copy(std::span<const uint8_t> bytes);
  uint64_t alloc_copy(std::string_view text) {
    return alloc_copy({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  }

  // [p, p + n) lies inside the used part of the region.
  bool in_bounds(uint64_t p, uint64_t n) const {
    return p >= kFirstHandle && p <= used_ && n <= used_ - p;
  }
  uint8_t* at(uint64_t p) { return bytes_.data() + p; }
  const uint8_t* at(uint64_t p) const { return bytes_.data() + p; }
  // [p, p + n) as text, or empty when it is out of bounds.
  std::string_view text(uint64_t p, uint64_t n) const {
    if (n == 0 || !in_bounds(p, n)) return {};
    return {reinterpret_cast<const char*>(at(p)), n};
  }
  // The bytes of a live block (empty span for anything else).
  std::span<const uint8_t> block(uint64_t handle) const;
  std::string_view block_text(uint64_t handle) const {
    auto b = block(handle);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }

  // Every handle dies; the capacity already charged stays.
  void reset();

  bool budget_exhausted() const { return budget_ && budget_->exhausted; }
  uint64_t capacity() const { return bytes_.size(); }
  size_t live_blocks() const { return live_.size(); }

 private:
  struct Block {
    uint64_t capacity;  // bytes reserved (a multiple of 8)
    uint64_t length;    // bytes asked for
  };
  bool grow_to(uint64_t bytes);
  bool charge_for(uint64_t used_bytes, size_t live_blocks);
  void add_free(uint64_t offset, uint64_t size);
  void remove_free(std::map<uint64_t, uint64_t>::iterator it);

  MemoryBudget* budget_;
  ByteBuffer bytes_;
  uint64_t charged_pages_ = 0;    // what the budget has paid for (never given back)
  uint64_t used_ = kFirstHandle;  // bump pointer: everything below is a block or free
  std::unordered_map<uint64_t, Block> live_;
  std::map<uint64_t, uint64_t> free_by_offset_;     // offset -> size, for coalescing
  std::multimap<uint64_t, uint64_t> free_by_size_;  // size -> offset, for best fit
};

}  // namespace warden::extism
