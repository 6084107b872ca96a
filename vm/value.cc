#include "vm/value.h"

#include <cstdio>

namespace warden {

std::string to_string(const Value& v) {
  char buf[64] = "?";  // a type outside the enum (a corrupted Value) prints as ?
  switch (v.type) {
    case ValType::I32: std::snprintf(buf, sizeof buf, "i32:%d", v.as_i32()); break;
    case ValType::I64:
      std::snprintf(buf, sizeof buf, "i64:%lld", static_cast<long long>(v.as_i64()));
      break;
    case ValType::F32:
      std::snprintf(buf, sizeof buf, "f32:%.9g", static_cast<double>(v.as_f32()));
      break;
    case ValType::F64: std::snprintf(buf, sizeof buf, "f64:%.17g", v.as_f64()); break;
    case ValType::FuncRef:
    case ValType::ExternRef:
      if (v.is_null()) {
        std::snprintf(buf, sizeof buf, "%s:null",
                      v.type == ValType::FuncRef ? "funcref" : "externref");
      } else {
        std::snprintf(buf, sizeof buf, "%s:0x%llx",
                      v.type == ValType::FuncRef ? "funcref" : "externref",
                      static_cast<unsigned long long>(v.bits));
      }
      break;
    case ValType::V128:
      std::snprintf(buf, sizeof buf, "v128:0x%08x 0x%08x 0x%08x 0x%08x",
                    static_cast<unsigned>(v.bits), static_cast<unsigned>(v.bits >> 32),
                    static_cast<unsigned>(v.hi), static_cast<unsigned>(v.hi >> 32));
      break;
  }
  return buf;
}

}  // namespace warden
