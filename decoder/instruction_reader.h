// InstructionReader: decodes one instruction at a time (opcode and immediates) from a code
// range. The decoder, the validator, `warden inspect`, the compiler and the fuzzers all read code
// through it, so the encoding rules live here only.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "decoder/byte_reader.h"
#include "decoder/features.h"
#include "decoder/instruction.h"

namespace warden {

class InstructionReader {
 public:
  // `code` is the range to read; `base` its absolute offset in the module.
  InstructionReader(std::span<const uint8_t> code, uint64_t base, const Features& features)
      : reader_(code, base), features_(features) {}

  bool at_end() const { return reader_.at_end(); }
  uint64_t offset() const { return reader_.offset(); }
  // Decodes the next instruction into `out`. False on malformed input; see error().
  [[nodiscard]] bool read(Instruction& out);
  const DecodeError& error() const { return reader_.error(); }
  bool failed() const { return reader_.failed(); }

 private:
  [[gnu::always_inline]] inline bool read_immediates(Instruction& out);
  bool illegal_opcode(uint64_t at, uint8_t byte, std::optional<uint32_t> code);
  bool read_block_type(BlockType& out);
  bool read_memarg(MemArg& out);
  bool read_zero_byte(uint32_t& out);

  ByteReader reader_;
  Features features_;
  std::vector<uint32_t> br_targets_;
  std::vector<ValType> select_types_;
};

}  // namespace warden
