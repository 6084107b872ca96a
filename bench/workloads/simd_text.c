// Text scanning with wasm_simd128.h intrinsics (and the same work in scalar C where they are not
// available: natively, or a Wasm build without -msimd128): over a generated 4 MiB text, count
// newlines, spaces and non-ASCII bytes, and upper-case the ASCII letters into a second buffer.
// Every build prints the same checksum.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

enum { kSize = 4 << 20, kRounds = 12 };

struct Counts {
  uint32_t newlines, spaces, non_ascii;
};

#if defined(__wasm_simd128__)
static struct Counts scan(const uint8_t* in, uint8_t* out, size_t n) {
  struct Counts c = {0, 0, 0};
  const v128_t nl = wasm_i8x16_splat('\n'), sp = wasm_i8x16_splat(' ');
  const v128_t a = wasm_i8x16_splat('a'), z = wasm_i8x16_splat('z');
  const v128_t case_bit = wasm_i8x16_splat(0x20);
  for (size_t i = 0; i < n; i += 16) {
    const v128_t v = wasm_v128_load(in + i);
    c.newlines += __builtin_popcount(wasm_i8x16_bitmask(wasm_i8x16_eq(v, nl)));
    c.spaces += __builtin_popcount(wasm_i8x16_bitmask(wasm_i8x16_eq(v, sp)));
    c.non_ascii += __builtin_popcount(wasm_i8x16_bitmask(v));
    const v128_t lower = wasm_v128_and(wasm_u8x16_ge(v, a), wasm_u8x16_le(v, z));
    wasm_v128_store(out + i, wasm_i8x16_sub(v, wasm_v128_and(lower, case_bit)));
  }
  return c;
}
#else
static struct Counts scan(const uint8_t* in, uint8_t* out, size_t n) {
  struct Counts c = {0, 0, 0};
  for (size_t i = 0; i < n; ++i) {
    const uint8_t b = in[i];
    c.newlines += b == '\n';
    c.spaces += b == ' ';
    c.non_ascii += b >= 0x80;
    out[i] = b >= 'a' && b <= 'z' ? (uint8_t)(b - 0x20) : b;
  }
  return c;
}
#endif

int main(void) {
  uint8_t* in = malloc(kSize);
  uint8_t* out = malloc(kSize);
  if (!in || !out) return 1;
  uint32_t x = 2463534242u;  // xorshift32: words, spaces, newlines, a little UTF-8
  static const char kAlphabet[] = "etaoinshrdlucmfwypvbgkqjxzETAOINSHRDLU0123456789.,;:!?";
  for (size_t i = 0; i < kSize; ++i) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    const uint32_t r = x % 100;
    in[i] = r < 15 ? ' ' : r < 17 ? '\n' : r < 19 ? (uint8_t)(0xC0 | (x >> 24 & 0x3F))
                                                  : (uint8_t)kAlphabet[(x >> 8) % (sizeof kAlphabet - 1)];
  }
  uint64_t sum = 0;
  for (int round = 0; round < kRounds; ++round) {
    in[round * 977] ^= (uint8_t)round;  // each round sees slightly different text
    const struct Counts c = scan(in, out, kSize);
    sum = sum * 31 + c.newlines * 7 + c.spaces * 3 + c.non_ascii;
  }
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the last round's output
  for (size_t i = 0; i < kSize; ++i) h = (h ^ out[i]) * 1099511628211ull;
  printf("checksum: %llu %llu\n", (unsigned long long)sum, (unsigned long long)h);
  return 0;
}
