#include "vm/compiled_module.h"

#include "vm/compiler.h"
#include "vm/interpreter.h"

namespace warden {

CompiledModule::CompiledModule(const Engine& engine, Module module)
    : engine_(engine), module_(std::move(module)) {
  type_ids_.reserve(module_.types.size());
  for (const FuncType& t : module_.types) type_ids_.push_back(engine_.type_id(t));
  code_ = std::make_unique<std::atomic<const CompiledFunction*>[]>(module_.bodies.size());
  owned_.resize(module_.bodies.size());
}

Result<std::shared_ptr<const CompiledModule>, LoadError> CompiledModule::compile(
    const Engine& engine, std::vector<uint8_t> bytes) {
  Result<Module, LoadError> loaded = load_module(std::move(bytes), engine.config().features,
                                                 {.threads = engine.config().validation_threads});
  if (!loaded) return Failure{loaded.take_error()};
  return std::shared_ptr<const CompiledModule>(
      std::make_shared<CompiledModule>(engine, std::move(loaded).value()));
}

std::shared_ptr<const CompiledModule> CompiledModule::compile(const Engine& engine, Module module) {
  return std::make_shared<CompiledModule>(engine, std::move(module));
}

const CompiledFunction& CompiledModule::code(uint32_t defined_index) const {
  if (const CompiledFunction* c = code_[defined_index].load(std::memory_order_acquire)) return *c;
  std::lock_guard lock(compile_mutex_);
  if (const CompiledFunction* c = code_[defined_index].load(std::memory_order_relaxed)) return *c;
  owned_[defined_index] = compile_function(*this, defined_index, threaded_handlers());
  code_[defined_index].store(owned_[defined_index].get(), std::memory_order_release);
  return *owned_[defined_index];
}

}  // namespace warden
