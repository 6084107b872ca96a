// validate_module: the spec's validation algorithm for all of Wasm 2.0 (SIMD included).
// On success it fills module.function_info (frame layout, max operand-stack height, block table)
// and sets module.validated, so the compiler never re-derives them.
#pragma once

#include "decoder/features.h"
#include "decoder/module.h"
#include "decoder/result.h"
#include "validator/validation_error.h"

namespace warden {

[[nodiscard]] Result<void, ValidationError> validate_module(Module& module,
                                                            const Features& features = {});

}  // namespace warden
