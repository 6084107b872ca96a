#include "validator/const_expr.h"

#include "decoder/instruction_reader.h"

namespace warden {

bool validate_const_expr(ValidationContext& ctx, const ConstExpr& expr, ValType expected,
                         uint32_t visible_globals) {
  const Module& m = ctx.module;
  InstructionReader reader(ctx.bytes_of(expr.range), expr.range.offset, ctx.features);
  std::vector<ValType> stack;
  Instruction ins;
  while (reader.read(ins)) {
    switch (ins.op) {
      case Opcode::I32Const:
      case Opcode::I64Const:
      case Opcode::F32Const:
      case Opcode::F64Const:
      case Opcode::V128Const: stack.push_back(opcode_info(ins.op).sig.results[0]); break;
      case Opcode::RefNull: stack.push_back(ins.ref_type); break;
      case Opcode::RefFunc:
        if (ins.index >= m.functions.size()) {
          return ctx.fail(ValidationErrorCode::UnknownFunction, ins.offset,
                          index_detail(ins.index));
        }
        stack.push_back(ValType::FuncRef);
        break;
      case Opcode::GlobalGet:
        if (ins.index >= visible_globals) {
          return ctx.fail(ValidationErrorCode::UnknownGlobal, ins.offset, index_detail(ins.index));
        }
        if (m.globals[ins.index].is_mutable) {
          return ctx.fail(ValidationErrorCode::ConstantExpressionRequired, ins.offset,
                          "global.get of mutable global " + std::to_string(ins.index));
        }
        stack.push_back(m.globals[ins.index].type);
        break;
      case Opcode::End:
        if (stack.size() != 1 || stack[0] != expected) {
          std::string found = stack.empty() ? "nothing" : std::string(valtype_name(stack.back()));
          if (stack.size() > 1) found = std::to_string(stack.size()) + " values";
          return ctx.fail(ValidationErrorCode::TypeMismatch, ins.offset,
                          "constant expression must produce one " +
                              std::string(valtype_name(expected)) + ", found " + found);
        }
        return true;
      default:
        return ctx.fail(ValidationErrorCode::ConstantExpressionRequired, ins.offset,
                        std::string(opcode_name(ins.op)) + " is not constant");
    }
  }
  // The decoder already checked the encoding; a failure here means the range is wrong.
  return ctx.fail(ValidationErrorCode::ConstantExpressionRequired, reader.offset(),
                  "unterminated constant expression");
}

void collect_const_expr_refs(ValidationContext& ctx, const ConstExpr& expr) {
  InstructionReader reader(ctx.bytes_of(expr.range), expr.range.offset, ctx.features);
  Instruction ins;
  while (reader.read(ins)) {
    if (ins.op == Opcode::RefFunc && ins.index < ctx.declared_refs.size()) {
      ctx.declared_refs[ins.index] = true;
    }
    if (ins.op == Opcode::End) return;
  }
}

}  // namespace warden
