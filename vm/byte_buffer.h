// ByteBuffer: zeroed bytes that grow in place where the allocator can (glibc's realloc moves a
// large block by remapping its pages, without copying them), and that commit only what is in
// use: capacity past size() is reserved address space, zeroed lazily as the buffer grows into
// it. Linear memories and the Extism kernel region live in one, so a guest's resident memory
// is its size, not twice its size while it grows. A buffer may also start from a MemoryImage
// (copy-on-write pages, mapped rather than allocated).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "vm/memory_image.h"

namespace warden {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ~ByteBuffer() { release_bytes(data_, mapped_, capacity_); }
  ByteBuffer(ByteBuffer&& other) noexcept { swap(other); }
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    ByteBuffer gone(std::move(other));
    swap(gone);
    return *this;
  }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  uint64_t capacity() const { return capacity_; }

  // Grows to `new_size` zeroed bytes inside at least `capacity` reserved ones (both are raised to
  // what is already there). False, and nothing changes, when the host has no memory for it.
  bool grow(uint64_t new_size, uint64_t capacity) {
    if (new_size < size_) new_size = size_;
    if (capacity < new_size) capacity = new_size;
    if (capacity > capacity_) {
      if (capacity > SIZE_MAX) return false;
      if (!data_ || mapped_) {
        auto* fresh = static_cast<uint8_t*>(std::calloc(capacity, 1));
        if (!fresh) return false;
        // A mapped image is copied out of its mapping (realloc cannot move it).
        if (data_) std::memcpy(fresh, data_, size_);
        release_bytes(data_, mapped_, capacity_);
        data_ = fresh;
        mapped_ = false;
        zero_until_ = capacity;  // calloc's pages are zero and stay uncommitted until touched
      } else {
        auto* moved = static_cast<uint8_t*>(std::realloc(data_, capacity));
        if (!moved) return false;
        data_ = moved;  // bytes past the old capacity are unspecified: zeroed on use
      }
      capacity_ = capacity;
    }
    if (new_size > zero_until_) {
      std::memset(data_ + zero_until_, 0, new_size - zero_until_);
      zero_until_ = new_size;
    }
    size_ = new_size;
    return true;
  }
  // Zeroes [offset, offset + n) (inside size()).
  void clear(uint64_t offset, uint64_t n) { std::memset(data_ + offset, 0, n); }

  // Replaces the contents with `image`'s bytes (size: the image's) inside at least `capacity`
  // reserved ones. False, and nothing changes, when the host refuses the memory.
  bool assign(const MemoryImage& image, uint64_t capacity) {
    if (capacity < image.size()) capacity = image.size();
    if (capacity > SIZE_MAX) return false;
    uint8_t* fresh = nullptr;
    bool mapped = false;
    if (!image.fill(fresh, mapped, capacity)) return false;
    release_bytes(data_, mapped_, capacity_);
    data_ = fresh;
    mapped_ = mapped;
    size_ = image.size();
    capacity_ = capacity;
    zero_until_ = capacity;  // past the image: fresh zero pages either way
    return true;
  }

 private:
  void swap(ByteBuffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(mapped_, o.mapped_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
    std::swap(zero_until_, o.zero_until_);
  }
  uint8_t* data_ = nullptr;
  bool mapped_ = false;  // data_ is an mmap of capacity_ bytes (an image's copy-on-write pages)
  uint64_t size_ = 0;
  uint64_t capacity_ = 0;
  uint64_t zero_until_ = 0;  // bytes [size_, zero_until_) are known to be zero
};

}  // namespace warden
