#include "vm/runtime.h"

#include "vm/store.h"

namespace warden {

Memory* CallContext::memory() const { return instance ? instance->memory0() : nullptr; }

int32_t Memory::grow(uint32_t delta) {
  const uint32_t old = pages();
  if (uint64_t{old} + delta > max_pages) return -1;
  bytes.resize((uint64_t{old} + delta) * kPageSize, 0);
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
