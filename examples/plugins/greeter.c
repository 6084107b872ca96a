// A plugin that needs its host: it greets the input through a host function the embedder
// provides (extism:host/user::decorate), keeps a call counter in its vars, reads its greeting from
// the config and logs what it does. The C API's tests (tests/capi/) and examples use it.
#include "extism.h"

// The embedder's function: takes a block, returns a new one (the host decides what it holds).
__attribute__((import_module("extism:host/user"), import_name("decorate"))) Handle decorate(
    Handle text);

static char buffer[4096];

// "<greeting>, <decorate(input)>!", with greeting from config "greeting" (default "Hello").
EXPORT(greet) int32_t greet(void) {
  buffer[0] = 0;
  Handle key = to_kernel_str("greeting");
  Handle greeting = extism_config_get(key);
  if (greeting) {
    uint64_t n = from_kernel(greeting, buffer, sizeof buffer - 1024);
    buffer[n < sizeof buffer - 1024 ? n : sizeof buffer - 1024] = 0;
  } else {
    buffer[0] = 'H', buffer[1] = 'e', buffer[2] = 'l', buffer[3] = 'l', buffer[4] = 'o';
    buffer[5] = 0;
  }
  Handle name = decorate(extism_input_offset());
  uint64_t at = c_strlen(buffer);
  buffer[at++] = ',';
  buffer[at++] = ' ';
  uint64_t n = from_kernel(name, buffer + at, sizeof buffer - at - 2);
  at += n < sizeof buffer - at - 2 ? n : sizeof buffer - at - 2;
  buffer[at++] = '!';
  buffer[at] = 0;
  extism_log_info(to_kernel_str(buffer));
  output_str(buffer);
  return 0;
}

// The number of calls so far, kept in the var "count" (a decimal string), as the output.
EXPORT(count) int32_t count(void) {
  char digits[32] = {0};
  Handle key = to_kernel_str("count");
  Handle old = extism_var_get(key);
  uint64_t value = 0;
  if (old) {
    uint64_t n = from_kernel(old, digits, sizeof digits - 1);
    for (uint64_t i = 0; i < n && i < sizeof digits - 1; ++i)
      if (digits[i] >= '0' && digits[i] <= '9') value = value * 10 + (uint64_t)(digits[i] - '0');
  }
  digits[0] = 0;
  append_u64(digits, value + 1);
  extism_var_set(to_kernel_str("count"), to_kernel_str(digits));
  output_str(digits);
  return 0;
}

// Never returns: for fuel, timeouts and cancellation.
EXPORT(spin) int32_t spin(void) {
  volatile uint64_t n = 0;
  for (;;) n = n + 1;
}

// Fails with the input as its error message.
EXPORT(fail) int32_t fail(void) {
  extism_error_set(extism_input_offset());
  return 1;
}

// Traps (unreachable).
EXPORT(trap) int32_t trap(void) { __builtin_trap(); }
