#include "validator/function_validator.h"

#include <string>

#include "decoder/instruction_reader.h"

namespace warden {
namespace {

constexpr uint32_t kFunctionFrame = UINT32_MAX;

template <typename Operand>
std::string operand_name(Operand t) {
  return uint8_t(t) == 0 ? "unknown" : std::string(valtype_name(ValType(uint8_t(t))));
}

// Lanes of a SIMD shape from the instruction's text ("i16x8.extract_lane_s" -> 8).
uint32_t lane_count(Opcode op) {
  const std::string_view text = opcode_name(op);
  if (text.starts_with("i8x16")) return 16;
  if (text.starts_with("i16x8")) return 8;
  if (text.starts_with("i32x4") || text.starts_with("f32x4")) return 4;
  return 2;  // i64x2, f64x2
}

}  // namespace

bool FunctionValidator::validate(uint32_t func, FunctionInfo& info) {
  func_ = func;
  info_ = &info;
  const FuncType& type = m_.func_type(FuncIdx(func));
  const FunctionBody& body = m_.body(FuncIdx(func));
  info.locals.assign(type.params.begin(), type.params.end());
  info.locals.reserve(type.params.size() + body.local_count);
  for (const LocalRun& run : body.locals)
    info.locals.insert(info.locals.end(), run.count, run.type);
  info.blocks.clear();
  info.max_stack_height = 0;
  info.max_control_depth = 1;
  stack_.clear();
  frames_.clear();
  BlockType fn_type{BlockType::Kind::TypeIndex, ValType::I32, m_.functions[func].value};
  frames_.push_back({Opcode::End, fn_type, 0, kFunctionFrame, false});

  InstructionReader reader(ctx_.bytes_of(body.code), body.code.offset, ctx_.features);
  Instruction ins;
  current_ = &ins;
  while (!frames_.empty()) {
    if (!reader.read(ins)) {
      return ctx_.fail(ValidationErrorCode::TypeMismatch, reader.offset(),
                       "function body ends inside a block", SectionId::Code, func);
    }
    if (!step(ins)) return false;
  }
  // Bytes after the final end: the decoder's body scan refuses these (when it ran).
  if (!reader.at_end()) {
    return ctx_.fail(ValidationErrorCode::TypeMismatch, reader.offset(),
                     "bytes after the function's final end", SectionId::Code, func);
  }
  return true;
}

// The immediates check_immediates looks at; every other kind needs no check there.
constexpr uint32_t kCheckedImmediates =
    1u << unsigned(ImmKind::MemArg) | 1u << unsigned(ImmKind::MemArgLane) |
    1u << unsigned(ImmKind::Memory) | 1u << unsigned(ImmKind::MemoryCopy) |
    1u << unsigned(ImmKind::MemoryInit) | 1u << unsigned(ImmKind::Data) |
    1u << unsigned(ImmKind::Lane) | 1u << unsigned(ImmKind::Shuffle);
static_assert(unsigned(ImmKind::MemArgLane) < 32);

bool FunctionValidator::step(const Instruction& ins) {
  const OpcodeInfo& op = opcode_info(ins.op);
  if ((kCheckedImmediates >> unsigned(op.imm) & 1) && !check_immediates(ins)) return false;
  if (!op.sig.special) return check_fixed(op.sig);
  switch (ins.op) {
    case Opcode::Drop:
    case Opcode::Select:
    case Opcode::SelectT: return check_parametric(ins);
    case Opcode::LocalGet:
    case Opcode::LocalSet:
    case Opcode::LocalTee:
    case Opcode::GlobalGet:
    case Opcode::GlobalSet: return check_variable(ins);
    case Opcode::TableGet:
    case Opcode::TableSet:
    case Opcode::TableSize:
    case Opcode::TableGrow:
    case Opcode::TableFill:
    case Opcode::TableCopy:
    case Opcode::TableInit:
    case Opcode::ElemDrop: return check_table(ins);
    case Opcode::RefNull:
    case Opcode::RefIsNull:
    case Opcode::RefFunc: return check_reference(ins);
    default: return check_control(ins);
  }
}

// Instructions with a signature in opcodes.def: pop the params (last first), push the results.
// The common case, every operand present above the frame's height, compares them in place.
bool FunctionValidator::check_fixed(const Signature& sig) {
  const size_t n = sig.param_count, size = stack_.size();
  bool in_place = size >= frames_.back().height + n;
  if (in_place) {
    const Operand* operands = stack_.data() + size - n;
    for (size_t i = 0; i < n; ++i) in_place &= operands[i] == Operand(uint8_t(sig.params[i]));
  }
  if (in_place) {
    stack_.resize(size - n);
  } else {
    for (size_t i = n; i-- > 0;) {
      if (!pop_expect(sig.params[i])) return false;
    }
  }
  for (size_t i = 0; i < sig.result_count; ++i) push(sig.results[i]);
  return true;
}

// Checks that depend on immediates only: memory and alignment, lanes, segment indices.
bool FunctionValidator::check_immediates(const Instruction& ins) {
  const OpcodeInfo& op = opcode_info(ins.op);
  switch (op.imm) {
    case ImmKind::MemArg:
    case ImmKind::MemArgLane:
      if (!need_memory(ins.memarg.memory)) return false;
      if (ins.memarg.align >= 32 || (uint64_t(1) << ins.memarg.align) > op.mem_bytes) {
        return fail(ValidationErrorCode::InvalidAlignment,
                    "2**" + std::to_string(ins.memarg.align) + " for " + std::string(op.text) +
                        " of " + std::to_string(op.mem_bytes) + " bytes");
      }
      if (op.imm == ImmKind::MemArgLane && ins.lane >= 16 / op.mem_bytes) {
        return fail(ValidationErrorCode::InvalidLaneIndex, std::to_string(ins.lane));
      }
      return true;
    case ImmKind::Memory:
    case ImmKind::MemoryCopy:
      return need_memory(ins.index) && (op.imm != ImmKind::MemoryCopy || need_memory(ins.index2));
    case ImmKind::MemoryInit:
      if (!need_memory(ins.index2)) return false;
      [[fallthrough]];
    case ImmKind::Data:
      if (ins.index >= m_.data_count.value_or(0)) {
        return fail(ValidationErrorCode::UnknownDataSegment, index_detail(ins.index));
      }
      return true;
    case ImmKind::Lane:
      if (ins.lane >= lane_count(ins.op)) {
        return fail(ValidationErrorCode::InvalidLaneIndex, std::to_string(ins.lane));
      }
      return true;
    case ImmKind::Shuffle:
      for (uint8_t lane : ins.v128) {
        if (lane >= 32) return fail(ValidationErrorCode::InvalidLaneIndex, std::to_string(lane));
      }
      return true;
    default: return true;
  }
}

bool FunctionValidator::check_control(const Instruction& ins) {
  switch (ins.op) {
    case Opcode::Unreachable: mark_unreachable(); return true;
    case Opcode::Block:
    case Opcode::Loop:
    case Opcode::If: return enter_block(ins);
    case Opcode::Else: {
      Frame& frame = frames_.back();
      // Malformed, refused by the decoder's body scan (when it ran).
      if (frame.kind != Opcode::If) return mismatch("else without if");
      const BlockType type = frame.type;
      if (!pop_all(block_results(type))) return false;
      if (stack_.size() != frame.height) return mismatch("values remain at else");
      frame.kind = Opcode::Else;
      frame.unreachable = false;
      info_->blocks[frame.block_index].else_offset = ins.offset;
      push_all(block_params(type));
      return true;
    }
    case Opcode::End: return end_block(ins);
    case Opcode::Br:
      if (!branch_check(ins, ins.index, false)) return false;
      mark_unreachable();
      return true;
    case Opcode::BrIf:
      if (!pop_expect(ValType::I32)) return false;
      if (!branch_check(ins, ins.index, false)) return false;
      push_all(label_types(frames_[frames_.size() - 1 - ins.index]));
      return true;
    case Opcode::BrTable: {
      if (!pop_expect(ValType::I32)) return false;
      const uint32_t default_label = ins.br_targets.back();
      if (default_label >= frames_.size()) {
        return fail(ValidationErrorCode::UnknownLabel, index_detail(default_label));
      }
      const size_t arity = label_types(frames_[frames_.size() - 1 - default_label]).size();
      for (uint32_t target : ins.br_targets) {
        if (target >= frames_.size()) {
          return fail(ValidationErrorCode::UnknownLabel, index_detail(target));
        }
        if (label_types(frames_[frames_.size() - 1 - target]).size() != arity) {
          return mismatch("br_table targets have different arities");
        }
        if (!branch_check(ins, target, true)) return false;
      }
      mark_unreachable();
      return true;
    }
    case Opcode::Return:
      if (!pop_all(m_.func_type(FuncIdx(func_)).results)) return false;
      mark_unreachable();
      return true;
    case Opcode::Call: {
      if (ins.index >= m_.functions.size()) {
        return fail(ValidationErrorCode::UnknownFunction, index_detail(ins.index));
      }
      const FuncType& callee = m_.func_type(FuncIdx(ins.index));
      if (!pop_all(callee.params)) return false;
      push_all(callee.results);
      return true;
    }
    case Opcode::CallIndirect: {
      if (!need_table(ins.index2)) return false;
      if (m_.tables[ins.index2].element != ValType::FuncRef) {
        return mismatch("call_indirect through a table of externref");
      }
      if (ins.index >= m_.types.size()) {
        return fail(ValidationErrorCode::UnknownType, index_detail(ins.index));
      }
      const FuncType& callee = m_.types[ins.index];
      if (!pop_expect(ValType::I32) || !pop_all(callee.params)) return false;
      push_all(callee.results);
      return true;
    }
    default:
      return fail(ValidationErrorCode::TypeMismatch,
                  "no typing rule for " + std::string(opcode_name(ins.op)));
  }
}

bool FunctionValidator::enter_block(const Instruction& ins) {
  BlockType type = ins.block;
  if (type.kind == BlockType::Kind::TypeIndex && type.type_index >= m_.types.size()) {
    return fail(ValidationErrorCode::UnknownType, index_detail(type.type_index));
  }
  if (ins.op == Opcode::If && !pop_expect(ValType::I32)) return false;
  const auto params = block_params(type);
  if (!pop_all(params)) return false;
  const uint32_t block_index = static_cast<uint32_t>(info_->blocks.size());
  info_->blocks.push_back({ins.offset, 0, 0, static_cast<uint32_t>(params.size()),
                           static_cast<uint32_t>(block_results(type).size())});
  frames_.push_back({ins.op, type, static_cast<uint32_t>(stack_.size()), block_index, false});
  if (frames_.size() > info_->max_control_depth) {
    info_->max_control_depth = static_cast<uint32_t>(frames_.size());
  }
  push_all(params);
  return true;
}

bool FunctionValidator::end_block(const Instruction& ins) {
  const Frame frame = frames_.back();
  const auto results = block_results(frame.type);
  if (!pop_all(results)) return false;
  if (stack_.size() != frame.height) return mismatch("values remain at end of block");
  if (frame.kind == Opcode::If) {
    // An if without else behaves as if its else passed the params through unchanged.
    const auto params = block_params(frame.type);
    if (!std::equal(params.begin(), params.end(), results.begin(), results.end())) {
      return mismatch("if without else must have the same params and results");
    }
  }
  frames_.pop_back();
  if (frame.block_index != kFunctionFrame) info_->blocks[frame.block_index].end_offset = ins.offset;
  push_all(results);
  return true;
}

// Checks that the operands match the label's types; pops them unless peek_only (br_table).
bool FunctionValidator::branch_check(const Instruction& ins, uint32_t depth, bool peek_only) {
  if (depth >= frames_.size()) return fail(ValidationErrorCode::UnknownLabel, index_detail(depth));
  const Frame frame = frames_[frames_.size() - 1 - depth];
  const auto types = label_types(frame);
  return peek_only ? peek_all(types) : pop_all(types);
}

bool FunctionValidator::check_parametric(const Instruction& ins) {
  if (ins.op == Opcode::Drop) {
    Operand t = kUnknown;
    return pop(t);
  }
  if (ins.op == Opcode::SelectT) {
    if (ins.select_types.size() != 1) {
      return fail(ValidationErrorCode::InvalidResultArity,
                  "typed select with " + std::to_string(ins.select_types.size()) + " types");
    }
    const ValType t = ins.select_types[0];
    if (!pop_expect(ValType::I32) || !pop_expect(t) || !pop_expect(t)) return false;
    push(t);
    return true;
  }
  Operand a = kUnknown, b = kUnknown;
  if (!pop_expect(ValType::I32) || !pop(a) || !pop(b)) return false;
  const auto is_ref = [](Operand t) { return t != kUnknown && is_reftype(ValType(uint8_t(t))); };
  if (is_ref(a) || is_ref(b)) return mismatch("untyped select needs numeric or vector operands");
  if (a != kUnknown && b != kUnknown && a != b) {
    return mismatch("select operands " + operand_name(b) + " and " + operand_name(a));
  }
  push(a == kUnknown ? b : a);
  return true;
}

bool FunctionValidator::check_variable(const Instruction& ins) {
  const bool local =
      ins.op == Opcode::LocalGet || ins.op == Opcode::LocalSet || ins.op == Opcode::LocalTee;
  if (local) {
    if (ins.index >= info_->locals.size()) {
      return fail(ValidationErrorCode::UnknownLocal, index_detail(ins.index));
    }
    const ValType t = info_->locals[ins.index];
    if (ins.op != Opcode::LocalGet && !pop_expect(t)) return false;
    if (ins.op != Opcode::LocalSet) push(t);
    return true;
  }
  if (ins.index >= m_.globals.size()) {
    return fail(ValidationErrorCode::UnknownGlobal, index_detail(ins.index));
  }
  const GlobalType& g = m_.globals[ins.index];
  if (ins.op == Opcode::GlobalGet) {
    push(g.type);
    return true;
  }
  if (!g.is_mutable) return fail(ValidationErrorCode::GlobalIsImmutable, index_detail(ins.index));
  return pop_expect(g.type);
}

bool FunctionValidator::check_table(const Instruction& ins) {
  const auto need_elem = [&](uint32_t index) {
    return index < m_.elems.size() ||
           fail(ValidationErrorCode::UnknownElemSegment, index_detail(index));
  };
  switch (ins.op) {
    case Opcode::ElemDrop: return need_elem(ins.index);
    case Opcode::TableInit: {
      if (!need_table(ins.index2) || !need_elem(ins.index)) return false;
      if (m_.elems[ins.index].type != m_.tables[ins.index2].element) {
        return mismatch("element segment and table have different reference types");
      }
      return pop_expect(ValType::I32) && pop_expect(ValType::I32) && pop_expect(ValType::I32);
    }
    case Opcode::TableCopy:
      if (!need_table(ins.index) || !need_table(ins.index2)) return false;
      if (m_.tables[ins.index].element != m_.tables[ins.index2].element) {
        return mismatch("tables have different reference types");
      }
      return pop_expect(ValType::I32) && pop_expect(ValType::I32) && pop_expect(ValType::I32);
    default: break;
  }
  if (!need_table(ins.index)) return false;
  const ValType elem = m_.tables[ins.index].element;
  switch (ins.op) {
    case Opcode::TableGet:
      if (!pop_expect(ValType::I32)) return false;
      push(elem);
      return true;
    case Opcode::TableSet: return pop_expect(elem) && pop_expect(ValType::I32);
    case Opcode::TableSize: push(ValType::I32); return true;
    case Opcode::TableGrow:
      if (!pop_expect(ValType::I32) || !pop_expect(elem)) return false;
      push(ValType::I32);
      return true;
    default:  // TableFill
      return pop_expect(ValType::I32) && pop_expect(elem) && pop_expect(ValType::I32);
  }
}

bool FunctionValidator::check_reference(const Instruction& ins) {
  switch (ins.op) {
    case Opcode::RefNull: push(ins.ref_type); return true;
    case Opcode::RefIsNull: {
      Operand t = kUnknown;
      if (!pop(t)) return false;
      if (t != kUnknown && !is_reftype(ValType(uint8_t(t)))) {
        return mismatch("ref.is_null expects a reference, found " + operand_name(t));
      }
      push(ValType::I32);
      return true;
    }
    default:  // RefFunc
      if (ins.index >= m_.functions.size()) {
        return fail(ValidationErrorCode::UnknownFunction, index_detail(ins.index));
      }
      if (!ctx_.declared_refs[ins.index]) {
        return fail(ValidationErrorCode::UndeclaredFunctionReference, index_detail(ins.index));
      }
      push(ValType::FuncRef);
      return true;
  }
}

// ---- block types and labels ----

std::span<const ValType> FunctionValidator::block_params(const BlockType& type) const {
  if (type.kind != BlockType::Kind::TypeIndex) return {};
  return m_.types[type.type_index].params;
}

std::span<const ValType> FunctionValidator::block_results(const BlockType& type) const {
  switch (type.kind) {
    case BlockType::Kind::Empty: return {};
    case BlockType::Kind::Value: return {&type.value, 1};
    default: return m_.types[type.type_index].results;
  }
}

// A branch to a loop goes to its start (takes the params); to anything else, to its end.
std::span<const ValType> FunctionValidator::label_types(const Frame& frame) const {
  return frame.kind == Opcode::Loop ? block_params(frame.type) : block_results(frame.type);
}

// ---- the operand stack ----

void FunctionValidator::push_all(std::span<const ValType> types) {
  for (ValType t : types) push(t);
}

bool FunctionValidator::pop(Operand& out) {
  const Frame& frame = frames_.back();
  if (stack_.size() == frame.height) [[unlikely]] {
    if (frame.unreachable) {
      out = kUnknown;
      return true;
    }
    return mismatch("expected an operand, found none");
  }
  out = stack_.back();
  stack_.pop_back();
  return true;
}

bool FunctionValidator::pop_expect(ValType expected) {
  Operand actual = kUnknown;
  if (!pop(actual)) return false;
  if (actual != kUnknown && actual != Operand(uint8_t(expected))) [[unlikely]] {
    return operand_mismatch(expected, actual);
  }
  return true;
}

// Out of line so that pop_expect, run for most operands, stays small enough to inline.
bool FunctionValidator::operand_mismatch(ValType expected, Operand actual) {
  return mismatch("expected " + std::string(valtype_name(expected)) + ", found " +
                  operand_name(actual));
}

bool FunctionValidator::pop_all(std::span<const ValType> types) {
  for (size_t i = types.size(); i-- > 0;) {
    if (!pop_expect(types[i])) return false;
  }
  return true;
}

// Like pop_all, but leaves the stack as it was (br_table checks every target against it).
bool FunctionValidator::peek_all(std::span<const ValType> types) {
  const Frame& frame = frames_.back();
  size_t height = stack_.size();
  for (size_t i = types.size(); i-- > 0;) {
    if (height == frame.height) {
      if (frame.unreachable) return true;
      return mismatch("expected an operand, found none");
    }
    const Operand actual = stack_[--height];
    if (actual != kUnknown && actual != Operand(uint8_t(types[i]))) {
      return mismatch("expected " + std::string(valtype_name(types[i])) + ", found " +
                      operand_name(actual));
    }
  }
  return true;
}

void FunctionValidator::mark_unreachable() {
  Frame& frame = frames_.back();
  stack_.resize(frame.height);
  frame.unreachable = true;
}

// ---- errors and index checks ----

bool FunctionValidator::mismatch(std::string_view detail) {
  return fail(ValidationErrorCode::TypeMismatch,
              std::string(opcode_name(current_->op)) + ": " + std::string(detail));
}

bool FunctionValidator::fail(ValidationErrorCode code, std::string_view detail) {
  return ctx_.fail(code, current_->offset, detail, SectionId::Code, func_);
}

bool FunctionValidator::need_memory(uint32_t index) {
  return index < m_.memories.size() ||
         fail(ValidationErrorCode::UnknownMemory, index_detail(index));
}

bool FunctionValidator::need_table(uint32_t index) {
  return index < m_.tables.size() || fail(ValidationErrorCode::UnknownTable, index_detail(index));
}

}  // namespace warden
