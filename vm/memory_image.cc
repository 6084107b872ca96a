#include "vm/memory_image.h"

#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#define WARDEN_MEMFD 1
#endif

namespace warden {
namespace {

constexpr uint64_t kChunk = 4096;  // zero pages are found (and skipped) at this grain

bool all_zero(const uint8_t* p, uint64_t n) {
  uint64_t acc = 0;
  for (uint64_t i = 0; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (uint64_t i = n & ~uint64_t{7}; i < n; ++i) acc |= p[i];
  return acc == 0;
}

// Calls `run(offset, length)` for each maximal stretch of non-zero chunks of `bytes`.
template <typename F>
void for_each_nonzero_run(std::span<const uint8_t> bytes, F&& run) {
  uint64_t start = 0;
  bool in_run = false;
  for (uint64_t at = 0; at < bytes.size(); at += kChunk) {
    const uint64_t n = std::min<uint64_t>(kChunk, bytes.size() - at);
    const bool zero = all_zero(bytes.data() + at, n);
    if (!zero && !in_run) start = at, in_run = true;
    if (zero && in_run) run(start, at - start), in_run = false;
  }
  if (in_run) run(start, bytes.size() - start);
}

#if WARDEN_MEMFD
// A sealed memfd holding `bytes` (holes where they are zero), or -1.
int memfd_of(std::span<const uint8_t> bytes, uint64_t& resident) {
  const int fd = memfd_create("warden-memory-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  bool ok = ftruncate(fd, static_cast<off_t>(bytes.size())) == 0;
  for_each_nonzero_run(bytes, [&](uint64_t offset, uint64_t length) {
    for (uint64_t done = 0; ok && done < length;) {
      const ssize_t n = pwrite(fd, bytes.data() + offset + done, length - done,
                               static_cast<off_t>(offset + done));
      if (n <= 0)
        ok = false;
      else
        done += static_cast<uint64_t>(n);
    }
    resident += length;
  });
  // Sealed: nothing (not even a bug of ours) can change the picture once instances map it.
  if (ok)
    ok = fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0;
  if (!ok) {
    close(fd);
    return -1;
  }
  return fd;
}
#endif

}  // namespace

std::shared_ptr<const MemoryImage> MemoryImage::capture(std::span<const uint8_t> bytes, Mode mode) {
  try {
    std::shared_ptr<MemoryImage> image(new MemoryImage());
    image->size_ = bytes.size();
#if WARDEN_MEMFD
    if (mode == Mode::CopyOnWrite) {
      image->fd_ = memfd_of(bytes, image->resident_);
      if (image->fd_ >= 0) return image;
      image->resident_ = 0;
    }
#else
    (void)mode;
#endif
    for_each_nonzero_run(bytes, [&](uint64_t offset, uint64_t length) {
      image->runs_.push_back(Run{offset, length, image->bytes_.size()});
      image->bytes_.insert(image->bytes_.end(), bytes.begin() + static_cast<ptrdiff_t>(offset),
                           bytes.begin() + static_cast<ptrdiff_t>(offset + length));
    });
    image->resident_ = image->bytes_.size();
    return image;
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

MemoryImage::~MemoryImage() {
#if WARDEN_MEMFD
  if (fd_ >= 0) close(fd_);  // the mappings made from it keep the file alive
#endif
}

bool MemoryImage::fill(uint8_t*& out, bool& mapped, uint64_t capacity) const {
#if WARDEN_MEMFD
  if (fd_ >= 0) {
    // Address space for the whole capacity (zero pages, committed only when touched), then the
    // picture over its start, private: a write copies the page for this memory alone.
    void* base = mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return false;
    if (size_ &&
        mmap(base, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd_, 0) == MAP_FAILED) {
      munmap(base, capacity);
      return false;
    }
    out = static_cast<uint8_t*>(base);
    mapped = true;
    return true;
  }
#endif
  auto* fresh = static_cast<uint8_t*>(std::calloc(capacity ? capacity : 1, 1));
  if (!fresh) return false;
  for (const Run& r : runs_) std::memcpy(fresh + r.offset, bytes_.data() + r.at, r.length);
  out = fresh;
  mapped = false;
  return true;
}

void release_bytes(uint8_t* data, bool mapped, uint64_t capacity) {
  if (!data) return;
#if WARDEN_MEMFD
  if (mapped) {
    munmap(data, capacity);
    return;
  }
#else
  (void)mapped;
  (void)capacity;
#endif
  std::free(data);
}

}  // namespace warden
