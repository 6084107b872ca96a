// Constant expressions: global initializers, segment offsets, element items.
#pragma once

#include "decoder/module.h"
#include "validator/context.h"

namespace warden {

// Checks that `expr` is constant and yields exactly one value of type `expected`.
// `visible_globals` bounds global.get: only imported globals for global initializers.
[[nodiscard]] bool validate_const_expr(ValidationContext& ctx, const ConstExpr& expr,
                                       ValType expected, uint32_t visible_globals);

// Marks every function named by ref.func in `expr` as declared (C.refs).
void collect_const_expr_refs(ValidationContext& ctx, const ConstExpr& expr);

}  // namespace warden
