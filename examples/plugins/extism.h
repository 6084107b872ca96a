// The Extism kernel imports (extism:host/env) for plugins written in C, declared from
// ../shared/extism-abi.md, plus a few helpers. Plugins include this, compile with
// clang --target=wasm32 and export functions of type () -> i32.
#pragma once
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("extism:host/env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

typedef uint64_t Handle;

IMPORT(alloc) Handle extism_alloc(uint64_t n);
IMPORT(free) void extism_free(Handle h);
IMPORT(length) uint64_t extism_length(Handle h);
IMPORT(load_u8) uint8_t extism_load_u8(Handle p);
IMPORT(load_u64) uint64_t extism_load_u64(Handle p);
IMPORT(store_u8) void extism_store_u8(Handle p, uint8_t v);
IMPORT(store_u64) void extism_store_u64(Handle p, uint64_t v);
IMPORT(input_length) uint64_t extism_input_length(void);
IMPORT(input_offset) Handle extism_input_offset(void);
IMPORT(input_load_u8) uint8_t extism_input_load_u8(uint64_t off);
IMPORT(input_load_u64) uint64_t extism_input_load_u64(uint64_t off);
IMPORT(output_set) void extism_output_set(Handle h, uint64_t n);
IMPORT(error_set) void extism_error_set(Handle h);
IMPORT(config_get) Handle extism_config_get(Handle key);
IMPORT(var_get) Handle extism_var_get(Handle key);
IMPORT(var_set) void extism_var_set(Handle key, Handle value);
IMPORT(http_request) Handle extism_http_request(Handle request, Handle body);
IMPORT(http_status_code) int32_t extism_http_status_code(void);
IMPORT(http_headers) Handle extism_http_headers(void);
IMPORT(log_info) void extism_log_info(Handle msg);
IMPORT(log_warn) void extism_log_warn(Handle msg);
IMPORT(log_error) void extism_log_error(Handle msg);

// Copies `n` bytes of plugin memory into a new kernel block.
static inline Handle to_kernel(const void* data, uint64_t n) {
  Handle h = extism_alloc(n);
  const uint8_t* p = (const uint8_t*)data;
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = 0;
    for (int k = 0; k < 8; ++k) w |= (uint64_t)p[i + k] << (8 * k);
    extism_store_u64(h + i, w);
  }
  for (; i < n; ++i) extism_store_u8(h + i, p[i]);
  return h;
}

// Copies a kernel block into plugin memory (at most `cap` bytes); returns its length.
static inline uint64_t from_kernel(Handle h, void* out, uint64_t cap) {
  uint64_t n = extism_length(h);
  uint8_t* p = (uint8_t*)out;
  for (uint64_t i = 0; i < n && i < cap; ++i) p[i] = extism_load_u8(h + i);
  return n;
}

static inline uint64_t c_strlen(const char* s) {
  uint64_t n = 0;
  while (s[n]) ++n;
  return n;
}

static inline Handle to_kernel_str(const char* s) { return to_kernel(s, c_strlen(s)); }

// Appends the decimal digits of `v` to the C string `out` (no printf: stdio would import WASI).
static inline void append_u64(char* out, uint64_t v) {
  char digits[24];
  int n = 0;
  do digits[n++] = (char)('0' + v % 10), v /= 10;
  while (v);
  out += c_strlen(out);
  while (n) *out++ = digits[--n];
  *out = 0;
}

// Sets the output to the bytes of a C string.
static inline void output_str(const char* s) {
  uint64_t n = c_strlen(s);
  extism_output_set(to_kernel(s, n), n);
}
