#include "vm/engine.h"

namespace warden {

uint32_t Engine::type_id(const FuncType& type) const {
  std::lock_guard lock(types_mutex_);
  auto [it, inserted] =
      type_ids_.try_emplace({type.params, type.results}, static_cast<uint32_t>(type_ids_.size()));
  return it->second;
}

}  // namespace warden
