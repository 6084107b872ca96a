// Bounds-checked access to the calling guest's memory 0 for the WASI functions. A pointer and
// length are checked together (in 64 bits, so nothing wraps) before any byte is touched; every
// failure becomes EFAULT for the guest.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "vm/runtime.h"

namespace warden::wasi {

class GuestMemory {
 public:
  explicit GuestMemory(CallContext& ctx) : memory_(ctx.memory()) {}

  // True when [addr, addr + len) lies inside memory.
  bool ok(uint64_t addr, uint64_t len) const {
    return memory_ && addr <= memory_->size() && len <= memory_->size() - addr;
  }
  // The host address of a checked guest address.
  uint8_t* at(uint64_t addr) const { return memory_->data() + addr; }

  template <typename T>
  bool put(uint64_t addr, T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!ok(addr, sizeof v)) return false;
    std::memcpy(at(addr), &v, sizeof v);
    return true;
  }
  template <typename T>
  bool get(uint64_t addr, T& v) const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!ok(addr, sizeof v)) return false;
    std::memcpy(&v, at(addr), sizeof v);
    return true;
  }
  bool write(uint64_t addr, const void* data, uint64_t len) {
    if (!ok(addr, len)) return false;
    if (len) std::memcpy(at(addr), data, len);
    return true;
  }
  bool string(uint64_t addr, uint32_t len, std::string& out) const {
    if (!ok(addr, len)) return false;
    out.assign(reinterpret_cast<const char*>(at(addr)), len);
    return true;
  }

 private:
  Memory* memory_;
};

inline uint32_t u32(const Value& v) { return static_cast<uint32_t>(v.bits); }

}  // namespace warden::wasi
