#include "vm/module_interface.h"

namespace warden {
namespace {

std::string limits_text(const Limits& limits) {
  std::string text = std::to_string(limits.min) + "..";
  if (limits.max) text += std::to_string(*limits.max);
  return text;
}

}  // namespace

std::string ExternDescription::type_text() const {
  std::string text(extern_kind_name(kind));
  switch (kind) {
    case ExternKind::Func: return text + " " + to_string(func);
    case ExternKind::Table:
      return text + " " + std::string(valtype_name(table.element)) + " " +
             limits_text(table.limits);
    case ExternKind::Memory: return text + " " + limits_text(memory.limits);
    case ExternKind::Global:
      return text + (global.is_mutable ? " mut " : " ") + std::string(valtype_name(global.type));
  }
  return text;
}

std::vector<ExternDescription> module_imports(const Module& module) {
  std::vector<ExternDescription> out;
  out.reserve(module.imports.size());
  for (const Import& import : module.imports) {
    ExternDescription d;
    d.module = import.module;
    d.name = import.name;
    d.kind = import.kind;
    if (import.kind == ExternKind::Func) d.func = module.types[import.func_type.value];
    d.table = import.table;
    d.memory = import.memory;
    d.global = import.global;
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<ExternDescription> module_exports(const Module& module) {
  std::vector<ExternDescription> out;
  out.reserve(module.exports.size());
  for (const Export& e : module.exports) {
    ExternDescription d;
    d.name = e.name;
    d.kind = e.kind;
    switch (e.kind) {
      case ExternKind::Func: d.func = module.func_type(FuncIdx{e.index}); break;
      case ExternKind::Table: d.table = module.tables[e.index]; break;
      case ExternKind::Memory: d.memory = module.memories[e.index]; break;
      case ExternKind::Global: d.global = module.globals[e.index]; break;
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace warden
