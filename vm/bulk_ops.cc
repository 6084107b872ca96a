#include "vm/bulk_ops.h"

#include <algorithm>
#include <cstring>

namespace warden::bulk {
namespace {

// Runs op(offset, length) over [0, n) in chunks of `chunk`; with `backward` the last chunk goes
// first, which keeps an overlapping move to a higher address correct.
template <class Op>
bool in_chunks(uint64_t n, uint64_t chunk, bool backward, const std::atomic<uint32_t>& interrupt,
               Op op) {
  for (uint64_t done = 0; done < n;) {
    const uint64_t length = std::min(chunk, n - done);
    op(backward ? n - done - length : done, length);
    done += length;
    if (done < n && interrupt.load(std::memory_order_relaxed) != 0) return false;
  }
  return true;
}

// Whether a forward, chunk by chunk copy of `bytes` would overwrite source bytes before reading
// them: the destination starts inside the source. Then the chunks go last first. (Compared as
// addresses: the two may lie in different objects, as for memory.init.)
bool overlaps_upward(const void* dst, const void* src, uint64_t bytes) {
  const auto d = reinterpret_cast<uintptr_t>(dst), s = reinterpret_cast<uintptr_t>(src);
  return d > s && d - s < bytes;
}

}  // namespace

bool fill_bytes(uint8_t* dst, uint8_t value, uint64_t n, const std::atomic<uint32_t>& interrupt) {
  return in_chunks(n, kChunkBytes, false, interrupt,
                   [&](uint64_t at, uint64_t len) { std::memset(dst + at, value, len); });
}

bool move_bytes(uint8_t* dst, const uint8_t* src, uint64_t n,
                const std::atomic<uint32_t>& interrupt) {
  return in_chunks(n, kChunkBytes, overlaps_upward(dst, src, n), interrupt,
                   [&](uint64_t at, uint64_t len) { std::memmove(dst + at, src + at, len); });
}

bool fill_words(uint64_t* dst, uint64_t value, uint64_t n, const std::atomic<uint32_t>& interrupt) {
  return in_chunks(n, kChunkBytes / 8, false, interrupt,
                   [&](uint64_t at, uint64_t len) { std::fill_n(dst + at, len, value); });
}

bool move_words(uint64_t* dst, const uint64_t* src, uint64_t n,
                const std::atomic<uint32_t>& interrupt) {
  return in_chunks(
      n, kChunkBytes / 8, overlaps_upward(dst, src, n * sizeof(uint64_t)), interrupt,
      [&](uint64_t at, uint64_t len) { std::memmove(dst + at, src + at, len * sizeof(uint64_t)); });
}

}  // namespace warden::bulk
