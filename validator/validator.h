// validate_module: the spec's validation algorithm for all of Wasm 2.0 (SIMD included).
// On success it fills module.function_info (frame layout, max operand-stack height, block table)
// and sets module.validated, so the compiler never re-derives them.
#pragma once

#include "decoder/features.h"
#include "decoder/module.h"
#include "decoder/result.h"
#include "validator/validation_error.h"

namespace warden {

// How validation may use the host's cores. Function bodies are independent, so a large
// module's are checked on several threads; the error is the same either way (the first invalid
// function's, in index order).
struct ValidationOptions {
  // 0: automatic (up to the hardware's threads, at most 8, one per 256 KiB of code; small
  // modules stay on the calling thread); 1: the calling thread only; N: at most N.
  unsigned threads = 0;
};

[[nodiscard]] Result<void, ValidationError> validate_module(Module& module,
                                                            const Features& features = {},
                                                            ValidationOptions options = {});

}  // namespace warden
