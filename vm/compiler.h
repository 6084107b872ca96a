// Translates one validated function body into threaded code (vm/code.h). One pass over the
// instructions with a compile-time model of the operand stack: every stack entry has a home slot
// (its position above the locals and constants) and a source slot where its value is now.
// local.get and constants cost nothing (the entry's source is the local or the constant's slot);
// values move to their homes only where control flow merges or a call needs its arguments.
#pragma once

#include <memory>

#include "vm/code.h"

namespace warden {

class CompiledModule;

// `handlers` maps Handler numbers to addresses (threaded build) or is null (switch build).
std::unique_ptr<CompiledFunction> compile_function(const CompiledModule& module,
                                                   uint32_t defined_index,
                                                   const void* const* handlers);

}  // namespace warden
