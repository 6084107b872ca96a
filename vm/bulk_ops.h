// The bulk instructions' byte and element moves (memory.fill/copy/init, table.fill/copy/init),
// in chunks, looking at the interrupt flag between them: a deadline or cancel stops a GiB-sized
// instruction within a chunk's time. Out of line, so that the interpreter's dispatch function
// stays small. Each returns false when an interrupt arrived; the chunks done stay written, as the
// writes before any interruption do. Bounds are the caller's: checked before anything moves.
#pragma once

#include <atomic>
#include <cstdint>

namespace warden::bulk {

constexpr uint64_t kChunkBytes = 1u << 20;

bool fill_bytes(uint8_t* dst, uint8_t value, uint64_t n, const std::atomic<uint32_t>& interrupt);
// memmove semantics: overlapping ranges in either direction. Chunks go in address order unless
// the destination starts inside the source (then last first), so a non-overlapping move that is
// interrupted has written a prefix.
bool move_bytes(uint8_t* dst, const uint8_t* src, uint64_t n,
                const std::atomic<uint32_t>& interrupt);
bool fill_words(uint64_t* dst, uint64_t value, uint64_t n, const std::atomic<uint32_t>& interrupt);
bool move_words(uint64_t* dst, const uint64_t* src, uint64_t n,
                const std::atomic<uint32_t>& interrupt);

}  // namespace warden::bulk
