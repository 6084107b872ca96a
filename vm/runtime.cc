#include "vm/runtime.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "vm/store.h"

namespace warden {

Memory* CallContext::memory() const { return instance ? instance->memory0() : nullptr; }

int32_t Memory::grow(uint32_t delta) {
  const uint32_t old = pages();
  if (uint64_t{old} + delta > max_pages) return -1;
  const uint64_t new_size = (uint64_t{old} + delta) * kPageSize;
  const uint64_t charge = uint64_t{delta} * kPageSize;
  if (budget && !budget->take(charge)) return -1;
  const uint64_t capacity =
      std::max(new_size, std::min(bytes_.capacity() * 2, uint64_t{max_pages} * kPageSize));
  if (!bytes_.grow(new_size, capacity) && !bytes_.grow(new_size, new_size)) {
    if (budget) budget->give_back(charge);
    return -1;
  }
  return static_cast<int32_t>(old);
}

bool Memory::assign(const MemoryImage& image) {
  const uint64_t new_size = image.size();
  if (new_size % kPageSize || new_size < size() || new_size / kPageSize > max_pages) return false;
  const uint64_t charge = new_size - size();
  if (budget && !budget->take(charge)) return false;
  // Room to grow as grow() would leave it (address space only: nothing is committed).
  const uint64_t capacity =
      std::max(new_size, std::min(new_size * 2, uint64_t{max_pages} * kPageSize));
  if (!bytes_.assign(image, capacity) && !bytes_.assign(image, new_size)) {
    if (budget) budget->give_back(charge);
    return false;
  }
  return true;
}

int32_t Table::grow(uint32_t delta, uint64_t init) {
  const uint64_t old = elements.size();
  if (old + delta > max_elements) return -1;
  const uint64_t size = old + delta;
  if (size > elements.capacity()) {
    // Capacity is what costs host memory, so it is what the account pays for: geometric when it
    // fits, else exactly what was asked.
    MemoryBudget* budget = account ? account->budget : nullptr;
    auto affordable = [&](uint64_t extra) {
      return (!account || extra <= account->elements_left) &&
             (!budget || extra * sizeof(uint64_t) <= budget->left());
    };
    uint64_t capacity =
        std::max<uint64_t>(size, std::min<uint64_t>(elements.capacity() * 2, max_elements));
    if (!affordable(capacity - elements.capacity())) capacity = size;
    const uint64_t extra = capacity - elements.capacity();
    if (!affordable(extra)) return -1;
    try {
      elements.reserve(capacity);
    } catch (const std::bad_alloc&) {
      return -1;
    } catch (const std::length_error&) {
      return -1;
    }
    if (account) account->elements_left -= extra;
    if (budget) budget->used += extra * sizeof(uint64_t);
  }
  elements.resize(size, init);
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
