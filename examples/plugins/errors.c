// Failure paths: error_set with a non-zero return, error_set with 0, a bare non-zero return,
// a trap, error_set then a trap, and proc_exit-free freestanding code (no libc).
#include "extism.h"

static char buffer[4096];

EXPORT(fail) int32_t fail(void) {
  static const char prefix[] = "something went wrong: ";
  uint64_t n = sizeof prefix - 1;
  for (uint64_t i = 0; i < n; ++i) buffer[i] = prefix[i];
  uint64_t len = extism_input_length();
  for (uint64_t i = 0; i < len && n < sizeof buffer; ++i) buffer[n++] = (char)extism_input_load_u8(i);
  extism_error_set(to_kernel(buffer, n));
  return 1;
}

EXPORT(fail_with_zero) int32_t fail_with_zero(void) {
  extism_error_set(to_kernel_str("error set, but returned 0"));
  return 0;
}

EXPORT(nonzero) int32_t nonzero(void) { return 7; }

EXPORT(trap) int32_t trap(void) { __builtin_trap(); }

// What the AssemblyScript PDK's abort handlers do: set the error, then trap.
EXPORT(fail_then_trap) int32_t fail_then_trap(void) {
  extism_error_set(to_kernel_str("abort: index out of range"));
  __builtin_trap();
}

EXPORT(void_ok) void void_ok(void) { output_str("void function ran"); }

// Not an Extism function: takes a parameter.
EXPORT(takes_param) int32_t takes_param(int32_t x) { return x; }
