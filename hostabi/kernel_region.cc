#include "hostabi/kernel_region.h"

#include <cstring>

namespace warden::extism {

uint64_t KernelRegion::alloc(uint64_t n) {
  if (n == 0 || n > kMaxBytes) return 0;
  const uint64_t size = (n + 7) & ~uint64_t{7};
  // Best fit among freed blocks; split off what is left.
  if (auto fit = free_by_size_.lower_bound(size); fit != free_by_size_.end()) {
    const uint64_t offset = fit->second, free_size = fit->first;
    remove_free(free_by_offset_.find(offset));
    if (free_size > size) add_free(offset + size, free_size - size);
    live_[offset] = Block{size, n};
    std::memset(at(offset), 0, n);
    return offset;
  }
  if (used_ + size > kMaxBytes) return 0;
  if (used_ + size > bytes_.size() && !grow_to(used_ + size)) return 0;
  const uint64_t offset = used_;
  used_ += size;
  live_[offset] = Block{size, n};
  std::memset(at(offset), 0, n);
  return offset;
}

bool KernelRegion::grow_to(uint64_t bytes) {
  const uint64_t pages = (bytes + kPageSize - 1) / kPageSize;
  const uint64_t have = bytes_.size() / kPageSize;
  if (budget_ && !budget_->take(pages - have)) return false;
  try {
    bytes_.resize(pages * kPageSize);
  } catch (const std::bad_alloc&) {
    if (budget_) budget_->pages_left += pages - have;
    return false;
  }
  return true;
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
  const uint64_t h = alloc(bytes.size());
  if (h) std::memcpy(at(h), bytes.data(), bytes.size());
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
