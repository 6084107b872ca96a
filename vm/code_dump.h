// A readable listing of a compiled function, for people working on the compiler: one line per
// instruction, `cell: handler operands`. Not used at run time.
#pragma once

#include <string>

#include "vm/code.h"

namespace warden {

std::string_view handler_name(Handler h);
// `handlers` as given to the compiler (nullptr in the switch build), to map addresses back.
std::string dump_code(const CompiledFunction& f, const void* const* handlers);

}  // namespace warden
