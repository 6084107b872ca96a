// Opcodes and their static facts, all generated from opcodes.def.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "decoder/immediate_kind.h"
#include "decoder/types.h"

namespace warden {

enum class Opcode : uint16_t {
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) name,
#include "decoder/opcodes.def"
#undef OP
};

inline constexpr size_t kOpcodeCount = 0
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) +1
#include "decoder/opcodes.def"
#undef OP
    ;

// A fixed operand signature, or `special` when the validator types the instruction by hand.
struct Signature {
  enum Token : uint8_t { I32, I64, F32, F64, V128, SPECIAL };
  static constexpr size_t kMax = 3;
  bool special = false;
  uint8_t param_count = 0;
  uint8_t result_count = 0;
  std::array<ValType, kMax> params{};
  std::array<ValType, kMax> results{};

  static constexpr ValType to_valtype(Token t) {
    constexpr ValType map[] = {ValType::I32, ValType::I64,  ValType::F32,
                               ValType::F64, ValType::V128, ValType::I32};
    return map[t];
  }
  constexpr Signature(std::initializer_list<Token> ps, std::initializer_list<Token> rs) {
    for (Token t : ps) {
      if (t == SPECIAL)
        special = true;
      else
        params[param_count++] = to_valtype(t);
    }
    for (Token t : rs) {
      if (t == SPECIAL)
        special = true;
      else
        results[result_count++] = to_valtype(t);
    }
  }
};

struct OpcodeInfo {
  uint8_t prefix;  // 0, 0xFC or 0xFD
  uint32_t code;
  std::string_view text;
  ImmKind imm;
  uint8_t fuel;
  uint8_t mem_bytes;  // natural access width for loads/stores, else 0
  Signature sig;
};

namespace detail {
#define WARDEN_UNPAREN(...) __VA_ARGS__
inline constexpr OpcodeInfo kOpcodeInfo[] = {
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) \
  {prefix, code, text, ImmKind::imm, fuel, mem_bytes, [] {                  \
     using enum Signature::Token;                                           \
     return Signature({WARDEN_UNPAREN params}, {WARDEN_UNPAREN results});   \
   }()},
#include "decoder/opcodes.def"
#undef OP
};
#undef WARDEN_UNPAREN
}  // namespace detail

static_assert(std::size(detail::kOpcodeInfo) == kOpcodeCount);

constexpr const OpcodeInfo& opcode_info(Opcode op) {
  return detail::kOpcodeInfo[static_cast<size_t>(op)];
}
constexpr std::string_view opcode_name(Opcode op) { return opcode_info(op).text; }

namespace detail {
inline constexpr uint16_t kNoOpcode = UINT16_MAX;
// Opcode index of each code under `prefix` (0, 0xFC or 0xFD), kNoOpcode where there is none.
template <size_t N>
constexpr std::array<uint16_t, N> make_opcode_table(uint8_t prefix) {
  std::array<uint16_t, N> table{};
  table.fill(kNoOpcode);
  for (size_t i = 0; i < kOpcodeCount; ++i) {
    const auto& info = kOpcodeInfo[i];
    // SelectT shares text with Select but has its own byte; first row for a code wins.
    if (info.prefix == prefix && table[info.code] == kNoOpcode) table[info.code] = uint16_t(i);
  }
  return table;
}
// Unprefixed bytes, here so that the decoder's hottest lookup inlines.
inline constexpr auto kOpcodeOfByte = make_opcode_table<256>(0);
inline std::optional<Opcode> opcode_of_entry(uint16_t entry) {
  if (entry == kNoOpcode) return std::nullopt;
  return Opcode(entry);
}
}  // namespace detail

// Byte(s) -> opcode; nullopt for codes that are not instructions (an "illegal opcode").
inline std::optional<Opcode> opcode_from_byte(uint8_t byte) {
  return detail::opcode_of_entry(detail::kOpcodeOfByte[byte]);  // prefix bytes have no entry
}
std::optional<Opcode> opcode_from_prefixed(uint8_t prefix, uint32_t code);
// Text -> opcode ("i32.add"); for typed select this yields the untyped Select.
std::optional<Opcode> opcode_from_text(std::string_view text);

constexpr bool is_prefix_byte(uint8_t b) { return b == 0xFC || b == 0xFD; }

}  // namespace warden
