#include "hostabi/kernel_region.h"

#include <algorithm>
#include <cstring>

namespace warden::extism {

uint64_t KernelRegion::alloc(uint64_t n) {
  if (n == 0 || n > kMaxBytes || live_.size() >= kMaxLiveBlocks) return 0;
  const uint64_t size = (n + 7) & ~uint64_t{7};
  uint64_t offset;
  // Best fit among freed blocks; split off what is left.
  if (auto fit = free_by_size_.lower_bound(size); fit != free_by_size_.end()) {
    if (!charge_for(used_, live_.size() + 1)) return 0;
    offset = fit->second;
    const uint64_t free_size = fit->first;
    remove_free(free_by_offset_.find(offset));
    if (free_size > size) add_free(offset + size, free_size - size);
  } else {
    if (used_ + size > kMaxBytes || !charge_for(used_ + size, live_.size() + 1)) return 0;
    if (used_ + size > bytes_.size() && !grow_to(used_ + size)) return 0;
    offset = used_;
    used_ += size;
  }
  live_[offset] = Block{size, n};
  // The whole block, padding included: a load_u64 at its last byte must not see an old call's.
  bytes_.clear(offset, size);
  return offset;
}

// The budget pays, in whole pages and for the instance's lifetime, for the region's used bytes
// plus the bookkeeping of its live blocks (as the reference's in-memory block headers would).
bool KernelRegion::charge_for(uint64_t used_bytes, size_t live_blocks) {
  const uint64_t need = used_bytes + live_blocks * kBlockBookkeeping;
  const uint64_t pages = (need + kPageSize - 1) / kPageSize;
  if (pages <= charged_pages_) return true;
  if (budget_ && !budget_->take((pages - charged_pages_) * kPageSize)) return false;
  charged_pages_ = pages;
  return true;
}

bool KernelRegion::grow_to(uint64_t bytes) {
  const uint64_t size = (bytes + kPageSize - 1) / kPageSize * kPageSize;
  // Geometric capacity (address space only: ByteBuffer commits what is used), but never more
  // than the budget could ever pay for: a reservation is an allocation to an allocator that
  // counts it (libFuzzer's malloc limit found a 2 GiB realloc under a 4 MiB budget).
  uint64_t capacity = std::min(std::max(size, bytes_.capacity() * 2), kMaxBytes);
  if (budget_)
    capacity = std::min(capacity, std::max(size, charged_pages_ * kPageSize + budget_->left()));
  return bytes_.grow(size, capacity) || bytes_.grow(size, 0);
}

void KernelRegion::free(uint64_t handle) {
  auto it = live_.find(handle);
  if (it == live_.end()) return;
  const uint64_t size = it->second.capacity;
  live_.erase(it);
  add_free(handle, size);
}

void KernelRegion::add_free(uint64_t offset, uint64_t size) {
  // Merge with the free neighbours on both sides.
  auto next = free_by_offset_.find(offset + size);
  if (next != free_by_offset_.end()) {
    size += next->second;
    remove_free(next);
  }
  auto prev = free_by_offset_.lower_bound(offset);
  if (prev != free_by_offset_.begin()) {
    --prev;
    if (prev->first + prev->second == offset) {
      offset = prev->first;
      size += prev->second;
      remove_free(prev);
    }
  }
  // A free block that ends at the bump pointer gives its bytes back to it.
  if (offset + size == used_) {
    used_ = offset;
    return;
  }
  free_by_offset_[offset] = size;
  free_by_size_.emplace(size, offset);
}

void KernelRegion::remove_free(std::map<uint64_t, uint64_t>::iterator it) {
  auto [first, last] = free_by_size_.equal_range(it->second);
  for (auto s = first; s != last; ++s) {
    if (s->second == it->first) {
      free_by_size_.erase(s);
      break;
    }
  }
  free_by_offset_.erase(it);
}

uint64_t KernelRegion::length(uint64_t handle) const {
  auto it = live_.find(handle);
  return it == live_.end() ? 0 : it->second.length;
}

uint64_t KernelRegion::alloc_copy(std::span<const uint8_t> bytes) {
  // The source may be a view into this region (a host function copying a block): the
  // allocation can move the region, so such a source is found again by its offset afterwards.
  const uint8_t* base = bytes_.data();
  const bool inside = base && bytes.data() >= base && bytes.data() < base + bytes_.size();
  const uint64_t source = inside ? static_cast<uint64_t>(bytes.data() - base) : 0;
  const uint64_t h = alloc(bytes.size());
  if (h) std::memmove(at(h), inside ? at(source) : bytes.data(), bytes.size());
  return h;
}

std::span<const uint8_t> KernelRegion::block(uint64_t handle) const {
  auto it = live_.find(handle);
  if (it == live_.end()) return {};
  return {at(handle), it->second.length};
}

void KernelRegion::reset() {
  live_.clear();
  free_by_offset_.clear();
  free_by_size_.clear();
  used_ = kFirstHandle;
}

}  // namespace warden::extism
