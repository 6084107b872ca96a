// How a call ends when it does not return: a trap (one code per reason, traps.def), running out
// of fuel, or an interrupt (cancel or deadline). ExecError is the vm layer's one error type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace warden {

enum class TrapCode : uint8_t {
#define TRAP(name, text) name,
#include "vm/traps.def"
#undef TRAP
};
std::string_view trap_message(TrapCode code);  // the spec's text

// One frame of a trap backtrace, innermost first.
struct TrapFrame {
  uint32_t function_index = 0;  // in the module's function index space
  uint32_t code_offset = 0;     // byte offset of the instruction in the module binary
  std::string function_name;    // from the name section, empty if none
};

struct ExecError {
  enum class Kind : uint8_t {
    Trap,         // the guest did something the spec defines as a trap
    OutOfFuel,    // the fuel budget ran out (deterministic)
    Interrupted,  // Store::interrupt() was called, or the deadline passed
    Link,         // instantiation: an import is missing or has the wrong type
    Usage,        // the embedder's mistake: unknown export, wrong argument count or types
    Limit,        // a configured limit refused the request (memory budget, table size)
    Exit,         // a host function ended the program on purpose (WASI proc_exit)
  };
  Kind kind = Kind::Trap;
  TrapCode trap = TrapCode::Unreachable;  // Kind::Trap
  std::string detail;                     // host error text, link error text, ...
  int exit_code = 0;                      // Kind::Exit
  std::vector<TrapFrame> backtrace;

  // "trap: out of bounds memory access", "out of fuel", "unknown import: env.f" ...
  std::string message() const;
};

}  // namespace warden
