// Module-level validation, in the spec's order: imports, functions, tables, memories, globals,
// element and data segments, start, exports, then function bodies.
#include "validator/validator.h"

#include <string>
#include <unordered_set>

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
  ModuleValidator(Module& module, const Features& features)
      : module_(module), ctx_{module, features, {}, {}, false} {}

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
  void collect_declared_refs();

  bool check_limits(const Limits& limits, uint64_t bound, ValidationErrorCode too_large,
                    uint64_t offset, SectionId section, uint32_t index);
  bool check_type_index(uint32_t type, uint64_t offset, SectionId section, uint32_t index);
  uint64_t section_offset(SectionId id) const;

  Module& module_;
  ValidationContext ctx_;
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

bool ModuleValidator::check_bodies() {
  module_.function_info.assign(module_.bodies.size(), {});
  FunctionValidator validator(ctx_);
  for (uint32_t i = 0; i < module_.bodies.size(); ++i) {
    const uint32_t func = module_.functions_imported + i;
    if (!validator.validate(func, module_.function_info[i])) return false;
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

Result<void, ValidationError> validate_module(Module& module, const Features& features) {
  return ModuleValidator(module, features).run();
}

}  // namespace warden
