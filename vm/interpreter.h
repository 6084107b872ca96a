// The interpreter: runs threaded code (vm/code.h) with an explicit frame stack, so guest
// recursion never grows the host's C stack. Handlers are defined once; they are dispatched by
// computed goto (GCC/clang) or, with WARDEN_SWITCH_DISPATCH, by a switch over handler numbers
// (debug and sanitizer builds).
#pragma once

#include <cstdint>

#include "decoder/result.h"
#include "vm/code.h"
#include "vm/trap.h"

namespace warden {

class Store;
struct Function;

// No default member initializers: the Store allocates max_call_depth + 1 of them without
// touching the pages (each frame is written when it is pushed), so a plugin at rest does not
// keep 240 KB of zeroed frames resident.
struct CallFrame {
  const Cell* return_pc;
  Slot* fp;
  const Function* function;  // the caller; nullptr for an entry from the host
};

// Calls `function` with its arguments in slots[0..params); its results replace them in
// slots[0..results). `slots` must have room for max(params, results) values.
Result<void, ExecError> run_function(Store& store, const Function& function, uint64_t* slots);

// The handler address table for the compiler (nullptr in the switch build).
const void* const* threaded_handlers();

}  // namespace warden
