// MemoryImage: an immutable picture of a linear memory's bytes, from which new memories start
// copy-on-write (the multi-tenant host's snapshots). On Linux the picture is a sealed memfd that
// every memory made from it maps MAP_PRIVATE: the pages are shared until an instance writes one,
// and a write copies that page for that instance alone, so no instance sees another's writes.
// Elsewhere (or when memfd is refused) a memory made from it is a copy of its non-zero pages.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace warden {

class MemoryImage {
 public:
  enum class Mode { CopyOnWrite, Copy };

  // The bytes as they are now (their size a multiple of the Wasm page size); nullptr when the
  // host has no memory for the picture. Mode::Copy forces the portable form (for tests).
  static std::shared_ptr<const MemoryImage> capture(std::span<const uint8_t> bytes,
                                                    Mode mode = Mode::CopyOnWrite);
  ~MemoryImage();

  uint64_t size() const { return size_; }
  // What the picture keeps: its non-zero pages (zero pages cost nothing).
  uint64_t resident_bytes() const { return resident_; }
  bool copy_on_write() const { return fd_ >= 0; }

  // Fills `out` (which it replaces) with the picture's bytes; false when the host refuses the
  // memory. `capacity` bytes of address space are reserved, zero past size().
  bool fill(uint8_t*& out, bool& mapped, uint64_t capacity) const;

  MemoryImage(const MemoryImage&) = delete;
  MemoryImage& operator=(const MemoryImage&) = delete;

 private:
  MemoryImage() = default;
  struct Run {
    uint64_t offset = 0, length = 0;  // in the memory
    size_t at = 0;                    // in bytes_
  };
  int fd_ = -1;  // the sealed memfd (copy-on-write), or -1
  uint64_t size_ = 0;
  uint64_t resident_ = 0;
  std::vector<Run> runs_;       // the non-zero stretches (the copy form only)
  std::vector<uint8_t> bytes_;  // their bytes
};

// Releases what MemoryImage::fill or ByteBuffer allocated (`mapped`: an mmap of `capacity`).
void release_bytes(uint8_t* data, bool mapped, uint64_t capacity);

}  // namespace warden
