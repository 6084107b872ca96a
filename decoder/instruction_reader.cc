#include "decoder/instruction_reader.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "decoder/limits.h"

namespace warden {

// Inlined into read(): one call per instruction instead of two.
bool InstructionReader::read_immediates(Instruction& out) {
  ByteReader& r = reader_;
  switch (opcode_info(out.op).imm) {
    case ImmKind::None: return true;
    case ImmKind::BlockType: return read_block_type(out.block);
    case ImmKind::Label:
    case ImmKind::Func:
    case ImmKind::Local:
    case ImmKind::Global:
    case ImmKind::Table:
    case ImmKind::Data:
    case ImmKind::Elem: return r.read_u32(out.index);
    case ImmKind::Memory: return read_zero_byte(out.index);
    case ImmKind::CallIndirect:
    case ImmKind::TableInit:
    case ImmKind::TableCopy: return r.read_u32(out.index) && r.read_u32(out.index2);
    case ImmKind::MemoryInit: return r.read_u32(out.index) && read_zero_byte(out.index2);
    case ImmKind::MemoryCopy: return read_zero_byte(out.index) && read_zero_byte(out.index2);
    case ImmKind::MemArg: return read_memarg(out.memarg);
    case ImmKind::MemArgLane: return read_memarg(out.memarg) && r.read_u8(out.lane);
    case ImmKind::Lane: return r.read_u8(out.lane);
    case ImmKind::I32: return r.read_s32(out.i32);
    case ImmKind::I64: return r.read_s64(out.i64);
    case ImmKind::F32: return r.read_fixed_u32(out.f32_bits);
    case ImmKind::F64: return r.read_fixed_u64(out.f64_bits);
    case ImmKind::V128:
    case ImmKind::Shuffle: {
      const uint8_t* p;
      if (!r.read_bytes(16, p)) return false;
      std::copy(p, p + 16, out.v128.begin());
      return true;
    }
    case ImmKind::RefType: {
      uint8_t b = 0;
      const uint64_t at = r.offset();
      if (!r.read_u8(b)) return false;
      if (b != uint8_t(ValType::FuncRef) && b != uint8_t(ValType::ExternRef)) {
        return r.fail_at(at, DecodeErrorCode::MalformedReferenceType);
      }
      out.ref_type = ValType(b);
      return true;
    }
    case ImmKind::BrTable: {
      uint32_t count;
      if (!r.read_count(count, limits::kMaxBrTableTargets, "br_table targets")) return false;
      br_targets_.clear();
      for (uint32_t i = 0; i <= count; ++i) {
        if (!r.read_u32(br_targets_.emplace_back())) return false;
      }
      out.br_targets = br_targets_;
      return true;
    }
    case ImmKind::SelectTypes: {
      uint32_t count;
      if (!r.read_count(count, limits::kMaxSelectTypes, "select types")) return false;
      select_types_.clear();
      for (uint32_t i = 0; i < count; ++i) {
        const uint64_t at = r.offset();
        uint8_t b = 0;
        if (!r.read_u8(b)) return false;
        if (!is_valtype_byte(b)) return r.fail_at(at, DecodeErrorCode::MalformedValueType);
        select_types_.push_back(ValType(b));
      }
      out.select_types = select_types_;
      return true;
    }
  }
  return r.fail_at(out.offset, DecodeErrorCode::IllegalOpcode);
}

bool InstructionReader::read(Instruction& out) {
  out.offset = static_cast<uint32_t>(reader_.offset());
  uint8_t byte = 0;
  if (!reader_.read_u8(byte)) return false;
  if (!is_prefix_byte(byte)) {
    const std::optional<Opcode> op = opcode_from_byte(byte);
    if (!op) return illegal_opcode(out.offset, byte, std::nullopt);
    out.op = *op;
    return read_immediates(out);
  }
  uint32_t code = 0;
  if (!reader_.read_u32(code)) return false;
  if (byte == 0xFD && !features_.simd) {
    return reader_.fail_at(out.offset, DecodeErrorCode::FeatureDisabled, "SIMD (0xfd prefix)");
  }
  if (byte == 0xFD && code >= 0x100 && !features_.relaxed_simd) {
    return reader_.fail_at(out.offset, DecodeErrorCode::FeatureDisabled, "relaxed SIMD");
  }
  const std::optional<Opcode> op = opcode_from_prefixed(byte, code);
  if (!op) return illegal_opcode(out.offset, byte, code);
  out.op = *op;
  return read_immediates(out);
}

// Formatted only on failure: read() is the decoder's hottest function.
bool InstructionReader::illegal_opcode(uint64_t at, uint8_t byte, std::optional<uint32_t> code) {
  char name[32];
  if (code) {
    std::snprintf(name, sizeof name, "0x%02x 0x%x", byte, *code);
  } else {
    std::snprintf(name, sizeof name, "0x%02x", byte);
  }
  return reader_.fail_at(at, DecodeErrorCode::IllegalOpcode, name);
}

// blocktype ::= 0x40 | valtype | s33 (a type index, >= 0)
bool InstructionReader::read_block_type(BlockType& out) {
  const uint64_t at = reader_.offset();
  int64_t value;
  if (!reader_.read_s33(value)) return false;
  if (value >= 0) {
    out.kind = BlockType::Kind::TypeIndex;
    out.type_index = static_cast<uint32_t>(value);
    return true;
  }
  const uint8_t byte = static_cast<uint8_t>(value & 0x7F);
  const bool one_byte = reader_.offset() - at == 1;
  if (one_byte && value == -64) {
    out.kind = BlockType::Kind::Empty;
    return true;
  }
  if (one_byte && is_valtype_byte(byte)) {
    out.kind = BlockType::Kind::Value;
    out.value = ValType(byte);
    return true;
  }
  return reader_.fail_at(at, DecodeErrorCode::MalformedValueType, "in block type");
}

// memarg ::= align:u32 offset:u32. Bit 6 of align announces a memory index (multi-memory);
// an alignment exponent of 32 or more cannot be valid for any access.
bool InstructionReader::read_memarg(MemArg& out) {
  const uint64_t at = reader_.offset();
  uint32_t flags;
  if (!reader_.read_u32(flags)) return false;
  out.memory = 0;
  if (flags & 0x40) {
    if (!features_.multi_memory) return reader_.fail_at(at, DecodeErrorCode::MalformedMemop);
    flags &= ~0x40u;
    if (!reader_.read_u32(out.memory)) return false;
  }
  if (flags >= 32) return reader_.fail_at(at, DecodeErrorCode::MalformedMemop);
  out.align = flags;
  uint32_t offset;
  if (!reader_.read_u32(offset)) return false;
  out.offset = offset;
  return true;
}

// A memory index: in Wasm 2.0 a single reserved 0x00 byte; with multi-memory a u32 index.
bool InstructionReader::read_zero_byte(uint32_t& out) {
  if (features_.multi_memory) return reader_.read_u32(out);
  const uint64_t at = reader_.offset();
  uint8_t b = 0;
  if (!reader_.read_u8(b)) return false;
  if (b != 0) return reader_.fail_at(at, DecodeErrorCode::ZeroByteExpected);
  out = 0;
  return true;
}

}  // namespace warden
