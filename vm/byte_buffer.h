// ByteBuffer: zeroed bytes that grow in place where the allocator can (glibc's realloc moves a
// large block by remapping its pages, without copying them), and that commit only what is in
// use: capacity past size() is reserved address space, zeroed lazily as the buffer grows into
// it. Linear memories and the Extism kernel region live in one, so a guest's resident memory
// is its size, not twice its size while it grows.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace warden {

class ByteBuffer {
 public:
  uint8_t* data() const { return data_.get(); }
  uint64_t size() const { return size_; }
  uint64_t capacity() const { return capacity_; }

  // Grows to `new_size` zeroed bytes inside at least `capacity` reserved ones (both are raised to
  // what is already there). False, and nothing changes, when the host has no memory for it.
  bool grow(uint64_t new_size, uint64_t capacity) {
    if (new_size < size_) new_size = size_;
    if (capacity < new_size) capacity = new_size;
    if (capacity > capacity_) {
      if (capacity > SIZE_MAX) return false;
      if (!data_) {
        auto* fresh = static_cast<uint8_t*>(std::calloc(capacity, 1));
        if (!fresh) return false;
        data_.reset(fresh);
        zero_until_ = capacity;  // calloc's pages are zero and stay uncommitted until touched
      } else {
        auto* moved = static_cast<uint8_t*>(std::realloc(data_.get(), capacity));
        if (!moved) return false;
        data_.release();
        data_.reset(moved);  // bytes past the old capacity are unspecified: zeroed on use
      }
      capacity_ = capacity;
    }
    if (new_size > zero_until_) {
      std::memset(data_.get() + zero_until_, 0, new_size - zero_until_);
      zero_until_ = new_size;
    }
    size_ = new_size;
    return true;
  }
  // Zeroes [offset, offset + n) (inside size()).
  void clear(uint64_t offset, uint64_t n) { std::memset(data_.get() + offset, 0, n); }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t[], Free> data_;
  uint64_t size_ = 0;
  uint64_t capacity_ = 0;
  uint64_t zero_until_ = 0;  // bytes [size_, zero_until_) are known to be zero
};

}  // namespace warden
