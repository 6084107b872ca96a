// CompiledModule: a decoded, validated module ready to instantiate. Immutable after creation and
// shareable between threads and Stores; each function is translated to threaded code on its
// first call (thread-safe, once).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "decoder/module.h"
#include "validator/load_module.h"
#include "vm/code.h"
#include "vm/engine.h"
#include "vm/module_interface.h"

namespace warden {

class CompiledModule {
 public:
  // Decodes and validates `bytes` with the engine's features. The engine must outlive the result.
  static Result<std::shared_ptr<const CompiledModule>, LoadError> compile(
      const Engine& engine, std::vector<uint8_t> bytes);
  // The same for a module load_module (or load_prevalidated_module) made with the engine's
  // features.
  static std::shared_ptr<const CompiledModule> compile(const Engine& engine, Module module);

  const Module& module() const { return module_; }
  // The module's imports and exports in module order, with kinds and types.
  std::vector<ExternDescription> imports() const { return module_imports(module_); }
  std::vector<ExternDescription> exports() const { return module_exports(module_); }
  const Engine& engine() const { return engine_; }
  // Canonical type id (Engine::type_id) of type section entry `index`.
  uint32_t type_id(uint32_t index) const { return type_ids_[index]; }
  // The threaded code of defined function `defined_index` (0 = first non-imported), compiled
  // on first use.
  const CompiledFunction& code(uint32_t defined_index) const;

  CompiledModule(const Engine& engine, Module module);

 private:
  const Engine& engine_;
  Module module_;
  std::vector<uint32_t> type_ids_;
  mutable std::mutex compile_mutex_;
  mutable std::unique_ptr<std::atomic<const CompiledFunction*>[]> code_;
  mutable std::vector<std::unique_ptr<CompiledFunction>> owned_;
};

}  // namespace warden
