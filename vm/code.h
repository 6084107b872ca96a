// The compiled form of one function: threaded code. Each instruction is a handler cell (the
// handler's address with computed goto, its number in the switch build) followed by operand
// cells. Operands are frame slots (indices into the 8-byte slot array at the frame pointer),
// immediates, or absolute branch targets. No Wasm byte is read at run time.
#pragma once

#include <cstdint>
#include <vector>

#include "decoder/opcode.h"

namespace warden {

// Handler numbers: every opcode (numeric ones, loads and stores are handlers of their own),
// then the internal handlers of handlers.def.
enum class Handler : uint16_t {
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) name,
#include "decoder/opcodes.def"
#undef OP
#define HANDLER(name, cells) name,
#include "vm/handlers.def"
#undef HANDLER
// Compare-and-branch: a comparison fused with the br_if / if that consumes it,
// [handler][a|b][target]. Generated for every opcode; only comparisons are ever emitted.
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) JumpIf_##name,
#include "decoder/opcodes.def"
#undef OP
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) JumpUnless_##name,
#include "decoder/opcodes.def"
#undef OP
// With fuel metering, br_if charges the block it falls through to: [handler][a|b][target][cost].
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) JumpIfFuel_##name,
#include "decoder/opcodes.def"
#undef OP
// With fuel metering, an instruction that also charges its basic block (cell 2, second half):
// binary numeric instructions, loads and stores that start a block.
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) Charged_##name,
#include "decoder/opcodes.def"
#undef OP
  Count,
};
inline constexpr Handler handler_for(Opcode op) { return static_cast<Handler>(op); }

// Comparisons (i32.eqz .. f64.ge) can be fused into a branch.
constexpr bool is_comparison(Opcode op) { return op >= Opcode::I32Eqz && op <= Opcode::F64Ge; }
inline constexpr Handler charged(Opcode op) {
  return static_cast<Handler>(static_cast<uint16_t>(Handler::Charged_Unreachable) +
                              static_cast<uint16_t>(op));
}
inline constexpr Handler fused_branch_with_fuel(Opcode compare) {
  return static_cast<Handler>(static_cast<uint16_t>(Handler::JumpIfFuel_Unreachable) +
                              static_cast<uint16_t>(compare));
}
inline constexpr Handler fused_branch(Opcode compare, bool branch_if_true) {
  const uint16_t base = static_cast<uint16_t>(branch_if_true ? Handler::JumpIf_Unreachable
                                                             : Handler::JumpUnless_Unreachable);
  return static_cast<Handler>(base + static_cast<uint16_t>(compare));
}

// One 8-byte frame slot. i32 lives in the low 32 bits (upper bits zero), f32 likewise.
union Slot {
  uint64_t u64;
  uint32_t u32;
  float f32;
  double f64;
};
static_assert(sizeof(Slot) == 8);

union Cell {
  const void* handler;  // threaded build
  uint64_t u64;         // switch build: the Handler number; 64-bit immediates
  uint32_t u32[2];      // two operands
  const Cell* target;   // branch target
};
static_assert(sizeof(Cell) == 8);

struct CompiledFunction {
  std::vector<Cell> code;
  // Counts in slots: a v128 parameter, result or local takes two (vm/value.h slot_width).
  uint32_t param_slots = 0;
  uint32_t result_slots = 0;
  uint32_t local_slots = 0;  // parameters + declared locals
  uint32_t frame_slots = 0;  // locals + constants + operand stack: what a call needs
  uint32_t entry = 0;        // cell where execution starts
  uint32_t entry_fuel = 0;   // the first basic block's cost, charged by the call itself
  // Copied to [param_slots, local_slots + constants) at entry: zeros, then the constant pool,
  // then zeros up to a multiple of kFrameInitChunk (frame_slots covers them), so that a call
  // copies whole chunks inline instead of calling memcpy.
  static constexpr size_t kFrameInitChunk = 4;
  std::vector<uint64_t> frame_init;
  // (cell index of an instruction, byte offset of its Wasm instruction), sorted: for backtraces.
  std::vector<std::pair<uint32_t, uint32_t>> offsets;

  uint32_t code_offset_at(const Cell* pc) const;
};

}  // namespace warden
