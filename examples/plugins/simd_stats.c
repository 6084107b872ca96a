// simd_stats: byte statistics of the input and the input upper-cased, computed 16 bytes at a
// time with wasm_simd128.h (built with -msimd128: every loop body is vector instructions, the
// last partial block included). Output: {"bytes":N,"letters":L,"digits":D,"spaces":S,
// "sum":X,"max":M} and a newline, then the input with ASCII letters upper-cased.
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>

#include "extism.h"

static uint32_t count(v128_t mask) { return (uint32_t)__builtin_popcount(wasm_i8x16_bitmask(mask)); }

EXPORT(byte_stats) int32_t byte_stats(void) {
  const uint64_t n = extism_input_length();
  // 16 bytes of zeros past the input: the last vector is read whole, its tail masked off.
  uint8_t* text = calloc(n + 16, 1);
  if (!text) return 1;
  for (uint64_t i = 0; i < n; ++i) text[i] = extism_input_load_u8(i);

  const v128_t a = wasm_i8x16_splat('a'), z = wasm_i8x16_splat('z');
  const v128_t A = wasm_i8x16_splat('A'), Z = wasm_i8x16_splat('Z');
  const v128_t zero = wasm_i8x16_splat('0'), nine = wasm_i8x16_splat('9');
  const v128_t space = wasm_i8x16_splat(' '), case_bit = wasm_i8x16_splat(0x20);
  const v128_t lane_index = wasm_i8x16_make(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  uint64_t letters = 0, digits = 0, spaces = 0;
  v128_t sum = wasm_i32x4_splat(0), max = wasm_i8x16_splat(0);
  for (uint64_t i = 0; i < n; i += 16) {
    v128_t v = wasm_v128_load(text + i);
    const uint64_t left = n - i;
    // Lanes past the end of the input count as nothing.
    const v128_t live = wasm_u8x16_lt(lane_index, wasm_i8x16_splat(left > 16 ? 16 : (int8_t)left));
    v = wasm_v128_and(v, live);
    const v128_t lower = wasm_v128_and(wasm_u8x16_ge(v, a), wasm_u8x16_le(v, z));
    const v128_t upper = wasm_v128_and(wasm_u8x16_ge(v, A), wasm_u8x16_le(v, Z));
    letters += count(wasm_v128_or(lower, upper));
    digits += count(wasm_v128_and(wasm_u8x16_ge(v, zero), wasm_u8x16_le(v, nine)));
    spaces += count(wasm_i8x16_eq(v, space));
    sum = wasm_i32x4_add(sum, wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(v)));
    max = wasm_u8x16_max(max, v);
    wasm_v128_store(text + i, wasm_i8x16_sub(v, wasm_v128_and(lower, case_bit)));
  }
  uint64_t total = 0;
  uint8_t top = 0;
  total += (uint32_t)wasm_i32x4_extract_lane(sum, 0) + (uint64_t)(uint32_t)wasm_i32x4_extract_lane(sum, 1) +
           (uint64_t)(uint32_t)wasm_i32x4_extract_lane(sum, 2) +
           (uint64_t)(uint32_t)wasm_i32x4_extract_lane(sum, 3);
  uint8_t lanes[16];
  wasm_v128_store(lanes, max);
  for (int l = 0; l < 16; ++l) top = lanes[l] > top ? lanes[l] : top;

  char head[256] = "{\"bytes\":";
  append_u64(head, n);
  strcat(head, ",\"letters\":");
  append_u64(head, letters);
  strcat(head, ",\"digits\":");
  append_u64(head, digits);
  strcat(head, ",\"spaces\":");
  append_u64(head, spaces);
  strcat(head, ",\"sum\":");
  append_u64(head, total);
  strcat(head, ",\"max\":");
  append_u64(head, top);
  strcat(head, "}\n");
  const uint64_t head_length = strlen(head);
  char* out = malloc(head_length + n + 1);
  if (!out) return 1;
  memcpy(out, head, head_length);
  memcpy(out + head_length, text, n);
  extism_output_set(to_kernel(out, head_length + n), head_length + n);
  free(out);
  free(text);
  return 0;
}
