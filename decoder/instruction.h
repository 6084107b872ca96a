// One decoded instruction: the opcode, where it is, and its immediates. Filled by
// InstructionReader; which fields are meaningful follows from opcode_info(op).imm.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "decoder/opcode.h"
#include "decoder/types.h"

namespace warden {

struct MemArg {
  uint32_t align = 0;   // log2 of the alignment hint
  uint32_t memory = 0;  // always 0 in Wasm 2.0
  uint64_t offset = 0;
};

struct Instruction {
  Opcode op = Opcode::Nop;
  uint32_t offset = 0;  // of the first opcode byte in the module

  BlockType block;      // BlockType
  uint32_t index = 0;   // Label, Func, Local, Global, Table, Memory, Data, Elem, the type
                        // index of CallIndirect, the destination of TableCopy/MemoryCopy,
                        // the segment of TableInit/MemoryInit
  uint32_t index2 = 0;  // the table of CallIndirect/TableInit, source of TableCopy/MemoryCopy,
                        // the memory of MemoryInit
  MemArg memarg;        // MemArg, MemArgLane
  uint8_t lane = 0;     // Lane, MemArgLane
  ValType ref_type = ValType::FuncRef;  // RefType
  int32_t i32 = 0;                      // I32
  int64_t i64 = 0;                      // I64
  uint32_t f32_bits = 0;                // F32
  uint64_t f64_bits = 0;                // F64
  std::array<uint8_t, 16> v128{};       // V128, Shuffle (lane indices)
  // BrTable: the targets, the default last (so never empty). SelectTypes: the types.
  // Both point into the reader's scratch storage and are valid until its next read().
  std::span<const uint32_t> br_targets;
  std::span<const ValType> select_types;
};

}  // namespace warden
