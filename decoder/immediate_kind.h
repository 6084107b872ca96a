// What follows an opcode in the binary. The instruction reader decodes exactly this, for every
// opcode, from the ImmKind column of opcodes.def.
#pragma once

#include <cstdint>

namespace warden {

enum class ImmKind : uint8_t {
  None,
  BlockType,     // blocktype: 0x40 | valtype | s33 type index
  Label,         // labelidx (br, br_if)
  BrTable,       // vec(labelidx) labelidx
  Func,          // funcidx (call, ref.func)
  CallIndirect,  // typeidx tableidx
  Local,         // localidx
  Global,        // globalidx
  Table,         // tableidx (table.get/set/size/grow/fill)
  Memory,        // memidx, a reserved 0x00 byte in Wasm 2.0 (memory.size/grow/fill)
  MemArg,        // align:u32 offset:u32
  I32,           // i32.const: s32
  I64,           // i64.const: s64
  F32,           // f32.const: 4 bytes
  F64,           // f64.const: 8 bytes
  SelectTypes,   // vec(valtype) (typed select)
  RefType,       // reftype (ref.null)
  MemoryInit,    // dataidx memidx
  Data,          // dataidx (data.drop)
  MemoryCopy,    // memidx memidx
  TableInit,     // elemidx tableidx
  Elem,          // elemidx (elem.drop)
  TableCopy,     // tableidx tableidx
  V128,          // v128.const: 16 bytes
  Shuffle,       // i8x16.shuffle: 16 lane indices
  Lane,          // laneidx: 1 byte (extract/replace_lane)
  MemArgLane,    // memarg laneidx (v128.load8_lane ...)
};

const char* imm_kind_name(ImmKind kind);

}  // namespace warden
