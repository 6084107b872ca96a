// Float dot products and a matrix multiply with wasm_simd128.h intrinsics (scalar C elsewhere).
// The scalar code adds in the same order as the vector code (four partial sums, lane by lane),
// so every build prints the same checksum, bit for bit.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

enum { kN = 256, kLen = 4096, kDots = 4000 };
static float A[kN * kN], B[kN * kN], C[kN * kN];
static float X[kLen], Y[kLen];

#if defined(__wasm_simd128__)
static float dot(const float* x, const float* y, int n) {
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int i = 0; i < n; i += 4)
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
  return (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
         (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
}
static void matmul(void) {
  for (int i = 0; i < kN; ++i) {
    float* c = C + i * kN;
    for (int j = 0; j < kN; j += 4) wasm_v128_store(c + j, wasm_f32x4_splat(0.0f));
    for (int k = 0; k < kN; ++k) {
      const v128_t a = wasm_f32x4_splat(A[i * kN + k]);
      const float* b = B + k * kN;
      for (int j = 0; j < kN; j += 4)
        wasm_v128_store(c + j, wasm_f32x4_add(wasm_v128_load(c + j),
                                              wasm_f32x4_mul(a, wasm_v128_load(b + j))));
    }
  }
}
#else
static float dot(const float* x, const float* y, int n) {
  float acc[4] = {0, 0, 0, 0};
  for (int i = 0; i < n; i += 4)
    for (int l = 0; l < 4; ++l) acc[l] = acc[l] + x[i + l] * y[i + l];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}
static void matmul(void) {
  for (int i = 0; i < kN; ++i) {
    float* c = C + i * kN;
    for (int j = 0; j < kN; ++j) c[j] = 0.0f;
    for (int k = 0; k < kN; ++k) {
      const float a = A[i * kN + k];
      const float* b = B + k * kN;
      for (int j = 0; j < kN; ++j) c[j] = c[j] + a * b[j];
    }
  }
}
#endif

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

int main(void) {
  uint32_t s = 12345u;  // LCG: values in [-1, 1)
  for (int i = 0; i < kN * kN; ++i) {
    s = s * 1664525u + 1013904223u;
    A[i] = (float)(int32_t)s / 2147483648.0f;
    s = s * 1664525u + 1013904223u;
    B[i] = (float)(int32_t)s / 2147483648.0f;
  }
  for (int i = 0; i < kLen; ++i) {
    s = s * 1664525u + 1013904223u;
    X[i] = (float)(int32_t)s / 2147483648.0f;
    s = s * 1664525u + 1013904223u;
    Y[i] = (float)(int32_t)s / 2147483648.0f;
  }
  uint64_t sum = 0;
  for (int r = 0; r < kDots; ++r) {
    X[r % kLen] += 0.25f;  // a different product each time
    sum = sum * 31 + bits(dot(X, Y, kLen));
  }
  matmul();
  for (int i = 0; i < kN * kN; ++i) sum = sum * 31 + bits(C[i]);
  printf("checksum: %llu\n", (unsigned long long)sum);
  return 0;
}
