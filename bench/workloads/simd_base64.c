// Base64 encoding with wasm_simd128.h shuffles and swizzles (scalar C elsewhere): 12 input bytes
// become 16 characters per step. Every build prints the same checksum.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

enum { kInput = 3 << 20, kOutput = kInput / 3 * 4, kRounds = 10 };
static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#if defined(__wasm_simd128__)
static void encode(const uint8_t* in, size_t n, uint8_t* out) {  // n: a multiple of 12
  const v128_t t0 = wasm_v128_load(kAlphabet), t1 = wasm_v128_load(kAlphabet + 16);
  const v128_t t2 = wasm_v128_load(kAlphabet + 32), t3 = wasm_v128_load(kAlphabet + 48);
  const v128_t zero = wasm_i32x4_splat(0), six = wasm_i32x4_splat(63);
  const v128_t k16 = wasm_i8x16_splat(16), k32 = wasm_i8x16_splat(32), k48 = wasm_i8x16_splat(48);
  for (size_t i = 0; i < n; i += 12, out += 16) {
    // Each 32-bit lane: the 24 bits of three input bytes, first byte highest.
    const v128_t v = wasm_i8x16_shuffle(wasm_v128_load(in + i), zero, 2, 1, 0, 16, 5, 4, 3, 16, 8,
                                        7, 6, 16, 11, 10, 9, 16);
    const v128_t idx = wasm_v128_or(
        wasm_v128_or(wasm_v128_and(wasm_u32x4_shr(v, 18), six),
                     wasm_i32x4_shl(wasm_v128_and(wasm_u32x4_shr(v, 12), six), 8)),
        wasm_v128_or(wasm_i32x4_shl(wasm_v128_and(wasm_u32x4_shr(v, 6), six), 16),
                     wasm_i32x4_shl(wasm_v128_and(v, six), 24)));
    // 64 characters as four 16-entry tables: an index outside a table's range selects 0.
    const v128_t chars = wasm_v128_or(
        wasm_v128_or(wasm_i8x16_swizzle(t0, idx), wasm_i8x16_swizzle(t1, wasm_i8x16_sub(idx, k16))),
        wasm_v128_or(wasm_i8x16_swizzle(t2, wasm_i8x16_sub(idx, k32)),
                     wasm_i8x16_swizzle(t3, wasm_i8x16_sub(idx, k48))));
    wasm_v128_store(out, chars);
  }
}
#else
static void encode(const uint8_t* in, size_t n, uint8_t* out) {
  for (size_t i = 0; i < n; i += 3, out += 4) {
    const uint32_t x = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[0] = (uint8_t)kAlphabet[x >> 18];
    out[1] = (uint8_t)kAlphabet[x >> 12 & 63];
    out[2] = (uint8_t)kAlphabet[x >> 6 & 63];
    out[3] = (uint8_t)kAlphabet[x & 63];
  }
}
#endif

int main(void) {
  uint8_t* in = malloc(kInput + 16);  // the vector loads read 4 bytes past the last group
  uint8_t* out = malloc(kOutput);
  if (!in || !out) return 1;
  uint32_t x = 88172645u;
  for (size_t i = 0; i < kInput + 16; ++i) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    in[i] = (uint8_t)(x >> 11);
  }
  uint64_t sum = 0;
  for (int round = 0; round < kRounds; ++round) {
    in[round * 4099] += 1;
    encode(in, kInput, out);
    for (size_t i = 0; i < kOutput; i += 4093) sum = sum * 31 + out[i];
  }
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < kOutput; ++i) h = (h ^ out[i]) * 1099511628211ull;
  printf("checksum: %llu %llu\n", (unsigned long long)sum, (unsigned long long)h);
  return 0;
}
