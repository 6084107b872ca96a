#include "vm/runtime.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "vm/store.h"

namespace warden {

Memory* CallContext::memory() const { return instance ? instance->memory0() : nullptr; }

void Memory::Free::operator()(uint8_t* p) const { std::free(p); }

int32_t Memory::grow(uint32_t delta) {
  const uint32_t old = pages();
  if (uint64_t{old} + delta > max_pages) return -1;
  const uint64_t new_size = (uint64_t{old} + delta) * kPageSize;
  if (budget && !budget->take(delta)) return -1;
  if (new_size > capacity_) {
    const uint64_t cap =
        std::max(new_size, std::min(capacity_ * 2, uint64_t{max_pages} * kPageSize));
    auto* fresh = static_cast<uint8_t*>(std::calloc(cap, 1));
    if (!fresh) {
      if (budget) budget->pages_left += delta;
      return -1;
    }
    if (size_) std::memcpy(fresh, data_.get(), size_);
    data_.reset(fresh);
    capacity_ = cap;
  }
  size_ = new_size;
  return static_cast<int32_t>(old);
}

int32_t Table::grow(uint32_t delta, uint64_t init) {
  const uint64_t old = elements.size();
  if (old + delta > max_elements) return -1;
  elements.resize(old + delta, init);
  return static_cast<int32_t>(old);
}

const Extern* Instance::find_export(std::string_view name) const {
  auto it = exports.find(std::string(name));
  return it == exports.end() ? nullptr : &it->second;
}

Function* Instance::exported_function(std::string_view name) const {
  const Extern* e = find_export(name);
  return e && e->kind == ExternKind::Func ? e->function : nullptr;
}

}  // namespace warden
