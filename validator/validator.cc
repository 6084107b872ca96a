// Module-level validation, in the spec's order: imports, functions, tables, memories, globals,
// element and data segments, start, exports, then function bodies.
#include "validator/validator.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <unordered_set>

// The validator also runs as Wasm itself (bench/selfhost_main.cc, wasm32-wasi: no threads).
#if defined(__wasi__)
#define WARDEN_VALIDATOR_THREADS 0
#else
#define WARDEN_VALIDATOR_THREADS 1
#include <system_error>
#include <thread>
#endif

#include "validator/const_expr.h"
#include "validator/context.h"
#include "decoder/limits.h"
#include "validator/function_validator.h"
#include "decoder/untrusted_text.h"

namespace warden {

// An index detail follows the text with a space ("unknown function 7", the spec's wording);
// any other detail after ": ".
bool ValidationContext::fail(ValidationErrorCode code, uint64_t offset, std::string_view detail,
                             SectionId section, uint32_t index) {
  if (failed) return false;
  failed = true;
  error.code = code;
  error.offset = offset;
  error.section = section;
  error.index = index;
  error.message = std::string(validation_error_text(code));
  if (!detail.empty()) {
    error.message += (detail[0] >= '0' && detail[0] <= '9') ? " " : ": ";
    error.message += detail;
  }
  return false;
}

std::string index_detail(uint32_t index) { return std::to_string(index); }

namespace {

class ModuleValidator {
 public:
  ModuleValidator(Module& module, const Features& features, ValidationOptions options)
      : module_(module), ctx_{module, features, {}, {}, false}, options_(options) {}

  Result<void, ValidationError> run();

 private:
  bool check_imports();
  bool check_functions();
  bool check_tables();
  bool check_memories();
  bool check_globals();
  bool check_elems();
  bool check_datas();
  bool check_start();
  bool check_exports();
  bool check_bodies();
  unsigned body_threads() const;
  void collect_declared_refs();

  bool check_limits(const Limits& limits, uint64_t bound, ValidationErrorCode too_large,
                    uint64_t offset, SectionId section, uint32_t index);
  bool check_type_index(uint32_t type, uint64_t offset, SectionId section, uint32_t index);
  uint64_t section_offset(SectionId id) const;

  Module& module_;
  ValidationContext ctx_;
  ValidationOptions options_;
};

Result<void, ValidationError> ModuleValidator::run() {
  collect_declared_refs();
  const bool ok = check_imports() && check_functions() && check_tables() && check_memories() &&
                  check_globals() && check_elems() && check_datas() && check_start() &&
                  check_exports() && check_bodies();
  if (!ok) return Failure{std::move(ctx_.error)};
  module_.validated = true;
  return {};
}

uint64_t ModuleValidator::section_offset(SectionId id) const {
  for (const SectionInfo& s : module_.sections) {
    if (s.id == id) return s.payload.offset;
  }
  return 0;
}

bool ModuleValidator::check_type_index(uint32_t type, uint64_t offset, SectionId section,
                                       uint32_t index) {
  if (type < module_.types.size()) return true;
  return ctx_.fail(ValidationErrorCode::UnknownType, offset, index_detail(type), section, index);
}

// Limits are valid within range k: min <= k, max <= k, min <= max, checked in that order.
bool ModuleValidator::check_limits(const Limits& limits, uint64_t bound,
                                   ValidationErrorCode too_large, uint64_t offset,
                                   SectionId section, uint32_t index) {
  if (limits.min > bound || (limits.max && *limits.max > bound)) {
    return ctx_.fail(too_large, offset, {}, section, index);
  }
  if (limits.max && limits.min > *limits.max) {
    return ctx_.fail(ValidationErrorCode::LimitsMinGreaterThanMax, offset,
                     std::to_string(limits.min) + " > " + std::to_string(*limits.max), section,
                     index);
  }
  return true;
}

bool ModuleValidator::check_imports() {
  for (uint32_t i = 0; i < module_.imports.size(); ++i) {
    const Import& im = module_.imports[i];
    bool ok = true;
    switch (im.kind) {
      case ExternKind::Func:
        ok = check_type_index(im.func_type.value, im.offset, SectionId::Import, i);
        break;
      case ExternKind::Table:
        ok = check_limits(im.table.limits, UINT32_MAX, ValidationErrorCode::TableSizeTooLarge,
                          im.offset, SectionId::Import, i);
        break;
      case ExternKind::Memory:
        ok = check_limits(im.memory.limits, limits::kMaxMemoryPages,
                          ValidationErrorCode::MemorySizeTooLarge, im.offset, SectionId::Import, i);
        break;
      case ExternKind::Global: break;
    }
    if (!ok) return false;
  }
  return true;
}

bool ModuleValidator::check_functions() {
  const uint64_t at = section_offset(SectionId::Function);
  for (uint32_t i = module_.functions_imported; i < module_.functions.size(); ++i) {
    if (!check_type_index(module_.functions[i].value, at, SectionId::Function, i)) return false;
  }
  return true;
}

bool ModuleValidator::check_tables() {
  const uint64_t at = section_offset(SectionId::Table);
  for (uint32_t i = module_.tables_imported; i < module_.tables.size(); ++i) {
    if (!check_limits(module_.tables[i].limits, UINT32_MAX, ValidationErrorCode::TableSizeTooLarge,
                      at, SectionId::Table, i)) {
      return false;
    }
  }
  return true;
}

bool ModuleValidator::check_memories() {
  const uint64_t at = section_offset(SectionId::Memory);
  for (uint32_t i = module_.memories_imported; i < module_.memories.size(); ++i) {
    if (!check_limits(module_.memories[i].limits, limits::kMaxMemoryPages,
                      ValidationErrorCode::MemorySizeTooLarge, at, SectionId::Memory, i)) {
      return false;
    }
  }
  if (module_.memories.size() > 1 && !ctx_.features.multi_memory) {
    return ctx_.fail(ValidationErrorCode::MultipleMemories, at,
                     std::to_string(module_.memories.size()) + " memories", SectionId::Memory);
  }
  return true;
}

// Global initializers may read only imported globals (Wasm 2.0).
bool ModuleValidator::check_globals() {
  for (uint32_t i = 0; i < module_.global_inits.size(); ++i) {
    const GlobalType& type = module_.globals[module_.globals_imported + i];
    if (!validate_const_expr(ctx_, module_.global_inits[i], type.type, module_.globals_imported)) {
      ctx_.error.section = SectionId::Global;
      ctx_.error.index = module_.globals_imported + i;
      return false;
    }
  }
  return true;
}

bool ModuleValidator::check_elems() {
  for (uint32_t i = 0; i < module_.elems.size(); ++i) {
    const ElemSegment& seg = module_.elems[i];
    const uint64_t at = seg.offset_in_binary;
    if (seg.mode == SegmentMode::Active) {
      if (seg.table.value >= module_.tables.size()) {
        return ctx_.fail(ValidationErrorCode::UnknownTable, at, index_detail(seg.table.value),
                         SectionId::Element, i);
      }
      if (module_.tables[seg.table.value].element != seg.type) {
        return ctx_.fail(ValidationErrorCode::TypeMismatch, at,
                         "element segment of " + std::string(valtype_name(seg.type)) +
                             " for a table of " +
                             std::string(valtype_name(module_.tables[seg.table.value].element)),
                         SectionId::Element, i);
      }
      if (!validate_const_expr(ctx_, seg.offset, ValType::I32, module_.globals_imported))
        return false;
    }
    for (const ConstExpr& e : seg.exprs) {
      if (!validate_const_expr(ctx_, e, seg.type, module_.globals_imported)) return false;
    }
    for (FuncIdx f : seg.func_indices) {
      if (f.value >= module_.functions.size()) {
        return ctx_.fail(ValidationErrorCode::UnknownFunction, at, index_detail(f.value),
                         SectionId::Element, i);
      }
    }
  }
  return true;
}

bool ModuleValidator::check_datas() {
  for (uint32_t i = 0; i < module_.datas.size(); ++i) {
    const DataSegment& seg = module_.datas[i];
    if (seg.mode != SegmentMode::Active) continue;
    if (seg.memory.value >= module_.memories.size()) {
      return ctx_.fail(ValidationErrorCode::UnknownMemory, seg.offset_in_binary,
                       index_detail(seg.memory.value), SectionId::Data, i);
    }
    if (!validate_const_expr(ctx_, seg.offset, ValType::I32, module_.globals_imported))
      return false;
  }
  return true;
}

bool ModuleValidator::check_start() {
  if (!module_.start) return true;
  const uint64_t at = section_offset(SectionId::Start);
  const uint32_t f = module_.start->value;
  if (f >= module_.functions.size()) {
    return ctx_.fail(ValidationErrorCode::UnknownFunction, at, index_detail(f), SectionId::Start);
  }
  const FuncType& type = module_.func_type(FuncIdx(f));
  if (!type.params.empty() || !type.results.empty()) {
    return ctx_.fail(
        ValidationErrorCode::StartFunction, at,
        "function " + std::to_string(f) + " has type " + to_string(type) + ", expected () -> ()",
        SectionId::Start);
  }
  return true;
}

bool ModuleValidator::check_exports() {
  std::unordered_set<std::string_view> names;
  names.reserve(module_.exports.size());
  for (uint32_t i = 0; i < module_.exports.size(); ++i) {
    const Export& ex = module_.exports[i];
    size_t bound = 0;
    ValidationErrorCode code = ValidationErrorCode::UnknownFunction;
    switch (ex.kind) {
      case ExternKind::Func: bound = module_.functions.size(); break;
      case ExternKind::Table:
        bound = module_.tables.size(), code = ValidationErrorCode::UnknownTable;
        break;
      case ExternKind::Memory:
        bound = module_.memories.size(), code = ValidationErrorCode::UnknownMemory;
        break;
      case ExternKind::Global:
        bound = module_.globals.size(), code = ValidationErrorCode::UnknownGlobal;
        break;
    }
    if (ex.index >= bound) {
      return ctx_.fail(code, ex.offset, index_detail(ex.index), SectionId::Export, i);
    }
    if (!names.insert(ex.name).second) {
      return ctx_.fail(ValidationErrorCode::DuplicateExportName, ex.offset,
                       quote_untrusted(ex.name), SectionId::Export, i);
    }
  }
  return true;
}

constexpr uint64_t kCodeBytesPerThread = 256 * 1024;
constexpr unsigned kMaxValidationThreads = 8;

unsigned ModuleValidator::body_threads() const {
  uint64_t code_bytes = 0;
  for (const FunctionBody& b : module_.bodies) code_bytes += b.code.size;
  const uint64_t by_size = std::max<uint64_t>(1, code_bytes / kCodeBytesPerThread);
#if WARDEN_VALIDATOR_THREADS
  const unsigned wanted =
      options_.threads
          ? options_.threads
          : std::min(std::max(1u, std::thread::hardware_concurrency()), kMaxValidationThreads);
#else
  const unsigned wanted = 1;
#endif
  return static_cast<unsigned>(
      std::min<uint64_t>({wanted, by_size, module_.bodies.size() ? module_.bodies.size() : 1}));
}

// Bodies are cut into contiguous ranges of about equal code size, one per thread. Each range
// stops at its first invalid function, and ranges after a known failure stop early; the error
// kept is the lowest-indexed failure, so it does not depend on the number of threads.
bool ModuleValidator::check_bodies() {
  const uint32_t count = static_cast<uint32_t>(module_.bodies.size());
  module_.function_info.assign(count, {});
  const auto validate_range = [&](ValidationContext& ctx, uint32_t begin, uint32_t end,
                                  std::atomic<uint32_t>* first_failure) {
    FunctionValidator validator(ctx);
    for (uint32_t i = begin; i < end; ++i) {
      if (first_failure && i > first_failure->load(std::memory_order_relaxed)) return;
      if (!validator.validate(module_.functions_imported + i, module_.function_info[i])) {
        if (first_failure) {
          uint32_t seen = first_failure->load(std::memory_order_relaxed);
          while (i < seen && !first_failure->compare_exchange_weak(seen, i)) {
          }
        }
        return;
      }
    }
  };
  const unsigned threads = body_threads();
  if (threads <= 1) {
    validate_range(ctx_, 0, count, nullptr);
    return !ctx_.failed;
  }

  uint64_t total = 0;
  for (const FunctionBody& b : module_.bodies) total += b.code.size;
  std::vector<uint32_t> bounds{0};
  uint64_t acc = 0;
  for (uint32_t i = 0; i < count && bounds.size() < threads; ++i) {
    acc += module_.bodies[i].code.size;
    if (acc * threads >= total * bounds.size()) bounds.push_back(i + 1);
  }
  if (bounds.back() != count) bounds.push_back(count);

  const size_t parts = bounds.size() - 1;
  std::vector<ValidationContext> contexts;
  contexts.reserve(parts);
  for (size_t k = 0; k < parts; ++k) {
    contexts.push_back({module_, ctx_.features, ctx_.declared_refs, {}, false});
  }
  std::atomic<uint32_t> first_failure{UINT32_MAX};
  std::vector<size_t> inline_parts{0};  // range 0 runs here, as does any a thread was refused for
#if WARDEN_VALIDATOR_THREADS
  std::vector<std::thread> workers;
  for (size_t k = 1; k < parts; ++k) {
    try {
      workers.emplace_back(validate_range, std::ref(contexts[k]), bounds[k], bounds[k + 1],
                           &first_failure);
    } catch (const std::system_error&) {
      inline_parts.push_back(k);
    }
  }
#else
  for (size_t k = 1; k < parts; ++k) inline_parts.push_back(k);
#endif
  for (size_t k : inline_parts) {
    validate_range(contexts[k], bounds[k], bounds[k + 1], &first_failure);
  }
#if WARDEN_VALIDATOR_THREADS
  for (std::thread& t : workers) t.join();
#endif
  for (ValidationContext& c : contexts) {  // in index order: the first failed range has it
    if (c.failed) {
      ctx_.failed = true;
      ctx_.error = std::move(c.error);
      return false;
    }
  }
  return true;
}

// C.refs: the functions that ref.func may name inside bodies: those named in element segments,
// exports and global initializers.
void ModuleValidator::collect_declared_refs() {
  ctx_.declared_refs.assign(module_.functions.size(), false);
  auto declare = [&](uint32_t f) {
    if (f < ctx_.declared_refs.size()) ctx_.declared_refs[f] = true;
  };
  for (const ElemSegment& seg : module_.elems) {
    for (FuncIdx f : seg.func_indices) declare(f.value);
    for (const ConstExpr& e : seg.exprs) collect_const_expr_refs(ctx_, e);
  }
  for (const Export& ex : module_.exports) {
    if (ex.kind == ExternKind::Func) declare(ex.index);
  }
  for (const ConstExpr& e : module_.global_inits) collect_const_expr_refs(ctx_, e);
}

}  // namespace

Result<void, ValidationError> validate_module(Module& module, const Features& features,
                                              ValidationOptions options) {
  return ModuleValidator(module, features, options).run();
}

}  // namespace warden
