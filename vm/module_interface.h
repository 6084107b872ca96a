// What a module imports and exports, as an embedder sees it: in module order, each with its kind
// and type, through the public API (an embedder stubbing imports needs no decoder internals).
#pragma once

#include <string>
#include <vector>

#include "decoder/module.h"

namespace warden {

struct ExternDescription {
  std::string module;  // imports only
  std::string name;
  ExternKind kind = ExternKind::Func;
  FuncType func;      // kind == Func
  TableType table;    // kind == Table
  MemoryType memory;  // kind == Memory
  GlobalType global;  // kind == Global
  // "func (i32) -> (i64)", "table funcref 1..10", "memory 1..", "global mut i64".
  std::string type_text() const;
};

std::vector<ExternDescription> module_imports(const Module& module);
std::vector<ExternDescription> module_exports(const Module& module);

}  // namespace warden
