// A plugin that misbehaves on purpose, one export per attack. Each must end with the documented
// error and leave the plugin usable.
#include "extism.h"

EXPORT(echo) int32_t echo(void) {
  extism_output_set(extism_input_offset(), extism_input_length());
  return 0;
}

// Spins forever: only fuel, a timeout or a cancel ends it.
EXPORT(infinite_loop) int32_t infinite_loop(void) {
  volatile uint64_t i = 0;
  for (;;) ++i;
}

// Called through a volatile pointer so the compiler cannot turn the recursion into a loop
// (infinite recursion is undefined behaviour in C, and clang would).
static int32_t depth(int32_t n);
static int32_t (*volatile next_level)(int32_t) = depth;
static int32_t depth(int32_t n) { return next_level(n + 1) + n; }
// Recurses without bound.
EXPORT(recurse) int32_t recurse(void) { return depth(0); }

// Grows linear memory 16 pages at a time until it fails.
EXPORT(memory_bomb) int32_t memory_bomb(void) {
  for (;;)
    if (__builtin_wasm_memory_grow(0, 16) == (__SIZE_TYPE__)-1) break;
  output_str("memory.grow failed");
  return 0;
}

// Allocates kernel blocks of 1 MiB without bound.
EXPORT(alloc_bomb) int32_t alloc_bomb(void) {
  for (;;)
    if (extism_alloc(1 << 20) == 0) break;
  output_str("alloc returned 0");
  return 0;
}

// Reads and writes through forged, freed and out-of-range handles. Everything must read as 0 and
// write nowhere; the output reports what the plugin saw (all zeros expected).
EXPORT(forge) int32_t forge(void) {
  uint64_t seen = 0;
  Handle h = extism_alloc(16);
  extism_free(h);
  seen |= extism_length(h);                     // freed
  seen |= extism_length(h + 1);                 // inside a block, not its start
  seen |= extism_load_u64(0xFFFFFFFFFFFFFFF9ull);  // wraps around
  seen |= extism_load_u64(1ull << 40);
  seen |= extism_load_u8(0);
  seen |= extism_input_load_u64(0xFFFFFFFFFFFFFFFFull);
  seen |= extism_input_load_u8(1ull << 62);
  extism_store_u64(0xFFFFFFFFFFFFFFF9ull, ~0ull);
  extism_store_u8(1ull << 40, 1);
  extism_store_u8(3, 1);                        // below the first block
  extism_free(0xdeadbeef);
  extism_free(0);
  Handle v = extism_var_get(0xdeadbeef);        // forged key: empty name, no value
  seen |= v;
  Handle c = extism_config_get(12345);
  seen |= c;
  char out[64] = "seen=";
  int n = 5;
  for (int i = 60; i >= 0; i -= 4) out[n++] = "0123456789abcdef"[(seen >> i) & 15];
  out[n] = 0;
  output_str(out);
  return 0;
}

// Output pointing outside the region.
EXPORT(bad_output) int32_t bad_output(void) {
  extism_output_set(1ull << 40, 100);
  return 0;
}

// Logs without bound, with control characters that must not reach a terminal raw.
EXPORT(log_spam) int32_t log_spam(void) {
  for (int i = 0; i < 100000; ++i) extism_log_info(to_kernel_str("spam \x1b[31mred\x1b[0m\nforged line"));
  output_str("done");
  return 0;
}

// Stores a variable of the input's size under the key "big".
EXPORT(store_var) int32_t store_var(void) {
  extism_var_set(to_kernel_str("big"), extism_input_offset());
  output_str("stored");
  return 0;
}
