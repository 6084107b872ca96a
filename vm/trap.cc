#include "vm/trap.h"

namespace warden {

std::string_view trap_message(TrapCode code) {
  switch (code) {
#define TRAP(name, text) \
  case TrapCode::name:   \
    return text;
#include "vm/traps.def"
#undef TRAP
  }
  return "unknown trap";
}

std::string ExecError::message() const {
  switch (kind) {
    case Kind::Trap: {
      std::string m = "trap: " + std::string(trap_message(trap));
      if (!detail.empty()) m += ": " + detail;
      return m;
    }
    case Kind::OutOfFuel: return "out of fuel";
    case Kind::Interrupted: return detail.empty() ? "interrupted" : detail;
    case Kind::Exit: return "exit with code " + std::to_string(exit_code);
    case Kind::Link:
    case Kind::Usage:
    case Kind::Limit: return detail;
  }
  return detail;
}

}  // namespace warden
