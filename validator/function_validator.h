// Validates one function body with the spec's algorithm: an operand stack of value types (or
// Unknown, below an unreachable point) and a control stack of frames. Fills FunctionInfo.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "decoder/instruction.h"
#include "decoder/module.h"
#include "validator/context.h"

namespace warden {

class FunctionValidator {
 public:
  explicit FunctionValidator(ValidationContext& ctx) : ctx_(ctx), m_(ctx.module) {}

  // Validates defined function `func` (an index into the function index space).
  [[nodiscard]] bool validate(uint32_t func, FunctionInfo& info);

 private:
  // An operand type; kUnknown stands for "any type", produced by popping an empty stack in
  // unreachable code.
  // (An enum, not uint8_t: stores through a character type may alias anything, which made the
  // compiler reload the stack's pointers after every push.)
  enum class Operand : uint8_t {};
  static constexpr Operand kUnknown{0};

  struct Frame {
    Opcode kind;           // Block, Loop, If, Else (an if after its else), or End (function)
    BlockType type;        // resolved through module types for TypeIndex
    uint32_t height;       // operand stack height at entry (after params are popped)
    uint32_t block_index;  // entry in FunctionInfo::blocks, or UINT32_MAX for the function
    bool unreachable;
  };

  bool step(const Instruction& ins);
  bool check_fixed(const Signature& sig);
  bool check_immediates(const Instruction& ins);
  bool check_control(const Instruction& ins);
  bool check_variable(const Instruction& ins);
  bool check_table(const Instruction& ins);
  bool check_reference(const Instruction& ins);
  bool check_parametric(const Instruction& ins);

  bool enter_block(const Instruction& ins);
  bool end_block(const Instruction& ins);
  bool branch_check(const Instruction& ins, uint32_t depth, bool peek_only);

  std::span<const ValType> block_params(const BlockType& type) const;
  std::span<const ValType> block_results(const BlockType& type) const;
  std::span<const ValType> label_types(const Frame& frame) const;

  void push(Operand t) {  // inline: run for nearly every instruction
    stack_.push_back(t);
    if (stack_.size() > info_->max_stack_height) [[unlikely]] {
      info_->max_stack_height = static_cast<uint32_t>(stack_.size());
    }
  }
  void push(ValType t) { push(Operand(uint8_t(t))); }
  void push_all(std::span<const ValType> types);
  bool pop(Operand& out);
  bool pop_expect(ValType expected);
  bool pop_all(std::span<const ValType> types);
  bool peek_all(std::span<const ValType> types);
  void mark_unreachable();

  [[gnu::cold]] bool mismatch(std::string_view detail);
  [[gnu::cold, gnu::noinline]] bool operand_mismatch(ValType expected, Operand actual);
  [[gnu::cold]] bool fail(ValidationErrorCode code, std::string_view detail = {});
  bool need_memory(uint32_t index);
  bool need_table(uint32_t index);

  ValidationContext& ctx_;
  const Module& m_;
  const Instruction* current_ = nullptr;
  uint32_t func_ = 0;
  FunctionInfo* info_ = nullptr;
  std::vector<Operand> stack_;
  std::vector<Frame> frames_;
};

}  // namespace warden
