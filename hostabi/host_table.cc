#include "hostabi/host_table.h"

namespace warden::extism {

std::string ArgRole::text() const {
  switch (kind) {
    case Kind::Value: return "value";
    case Kind::Handle: return "handle";
    case Kind::Size: return "size";
    case Kind::Offset: return "offset";
    case Kind::Byte: return "byte";
    case Kind::Word: return "word";
    case Kind::Fd: return "fd";
    case Kind::Memory:
      if (count_arg < 0) return "ptr[" + std::to_string(unit) + "]";
      if (unit == 1) return "ptr[arg " + std::to_string(count_arg) + "]";
      return "ptr[" + std::to_string(unit) + " x arg " + std::to_string(count_arg) + "]";
  }
  return "?";
}

const std::vector<HostFunctionInfo>& builtin_host_functions() {
  using enum ValType;
  using namespace roles;
  using enum HostClass;
  constexpr bool Carried = true, Lost = false;  // the Snapshot column
#define UNPAREN(...) __VA_ARGS__
#define KERNEL_FUNCTION(Name, Params, Results, Roles, Fuel, Cap, Class, Snapshot)           \
  HostFunctionInfo{kEnvModule,      #Name,   FuncType{{UNPAREN Params}, {UNPAREN Results}}, \
                   {UNPAREN Roles}, Fuel,    std::string(capability::Cap),                  \
                   Class,           Snapshot},
#define WASI_FUNCTION(Name, Params, Results, Roles, Fuel, Cap, Class, Snapshot)             \
  HostFunctionInfo{kWasiModule,     #Name,   FuncType{{UNPAREN Params}, {UNPAREN Results}}, \
                   {UNPAREN Roles}, Fuel,    std::string(capability::Cap),                  \
                   Class,           Snapshot},
  static const std::vector<HostFunctionInfo> table = {
#include "hostabi/kernel_functions.def"
#include "hostabi/wasi/wasi_functions.def"
  };
#undef KERNEL_FUNCTION
#undef WASI_FUNCTION
#undef UNPAREN
  return table;
}

const HostFunctionInfo* find_builtin_host_function(std::string_view module, std::string_view name) {
  for (const HostFunctionInfo& row : builtin_host_functions())
    if (row.module == module && row.name == name) return &row;
  return nullptr;
}

bool is_builtin_module(std::string_view module) {
  return module == kEnvModule || module == kWasiModule;
}

}  // namespace warden::extism
