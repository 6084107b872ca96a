#include "vm/code_dump.h"

#include <cstdio>

namespace warden {

std::string_view handler_name(Handler h) {
  static constexpr std::string_view kNames[] = {
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) #name,
#include "decoder/opcodes.def"
#undef OP
#define HANDLER(name, cells) #name,
#include "vm/handlers.def"
#undef HANDLER
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) "JumpIf_" #name,
#include "decoder/opcodes.def"
#undef OP
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) "JumpUnless_" #name,
#include "decoder/opcodes.def"
#undef OP
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) "JumpIfFuel_" #name,
#include "decoder/opcodes.def"
#undef OP
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) "Charged_" #name,
#include "decoder/opcodes.def"
#undef OP
  };
  static_assert(std::size(kNames) == static_cast<size_t>(Handler::Count));
  const auto i = static_cast<size_t>(h);
  return i < std::size(kNames) ? kNames[i] : "?";
}

std::string dump_code(const CompiledFunction& f, const void* const* handlers) {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line,
                "; params %u, locals %u, frame %u slots, entry %u, entry fuel %u\n", f.param_slots,
                f.local_slots, f.frame_slots, f.entry, f.entry_fuel);
  out += line;
  for (size_t k = 0; k < f.offsets.size(); ++k) {
    const uint32_t at = f.offsets[k].first;
    const uint32_t end =
        k + 1 < f.offsets.size() ? f.offsets[k + 1].first : static_cast<uint32_t>(f.code.size());
    size_t id = f.code[at].u64;
    if (handlers) {
      for (id = 0; id < static_cast<size_t>(Handler::Count); ++id) {
        if (handlers[id] == f.code[at].handler) break;
      }
    }
    std::snprintf(line, sizeof line, "%5u  0x%05x  %-28s", at, f.offsets[k].second,
                  std::string(handler_name(static_cast<Handler>(id))).c_str());
    out += line;
    for (uint32_t c = at + 1; c < end; ++c) {
      const Cell cell = f.code[c];
      const auto* target = cell.target;
      if (target >= f.code.data() && target < f.code.data() + f.code.size()) {
        std::snprintf(line, sizeof line, " ->%u", static_cast<unsigned>(target - f.code.data()));
      } else {
        std::snprintf(line, sizeof line, " [%u %u]", cell.u32[0], cell.u32[1]);
      }
      out += line;
    }
    out += '\n';
  }
  return out;
}

}  // namespace warden
