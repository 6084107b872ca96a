// The semantics of every 0xFD (SIMD and relaxed SIMD) instruction, once, generated from
// opcodes.def: an instruction's text ("i16x8.extmul_low_i8x16_s") names its lane shape and its
// operation, and the templates below take both apart at compile time. Lanewise operations run
// on GCC/Clang vector types (SSE2 on x86-64, NEON on Arm); the rest are loops over lanes.
//
// A v128 lives in two consecutive 8-byte frame slots, lanes in little-endian order (docs/vm.md).
// Operand cells (vm/compiler.cc emits the same):
//   plain         [dst|a] unary, [dst|a][b|charge] binary, [dst|a][b|c] ternary
//   lane          [dst|a][b|lane]                      (extract_lane: b unused)
//   shuffle       [dst|a][b][16 bytes: lanes from a][16 bytes: lanes from b] (pshufb masks)
//   load, store   [dst|addr][offset|charge], [addr|value][offset|charge]
//   load_lane     [dst|addr][v|lane][offset];  store_lane [addr|v][offset|lane]
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

#include "decoder/opcode.h"
#include "vm/code.h"
#include "vm/numeric.h"

// Every instruction's semantics are inlined into its handler: as calls, base64 runs 2x slower.
#if defined(__GNUC__)
#define WARDEN_SIMD_INLINE inline __attribute__((always_inline))
#else
#define WARDEN_SIMD_INLINE inline
#endif

namespace warden::simd {

// ---- lane types ----
typedef int8_t s8v __attribute__((vector_size(16)));
typedef uint8_t u8v __attribute__((vector_size(16)));
typedef int16_t s16v __attribute__((vector_size(16)));
typedef uint16_t u16v __attribute__((vector_size(16)));
typedef int32_t s32v __attribute__((vector_size(16)));
typedef uint32_t u32v __attribute__((vector_size(16)));
typedef int64_t s64v __attribute__((vector_size(16)));
typedef uint64_t u64v __attribute__((vector_size(16)));
typedef float f32v __attribute__((vector_size(16)));
typedef double f64v __attribute__((vector_size(16)));

template <class T>
struct VecOf;
template <>
struct VecOf<int8_t> {
  using type = s8v;
};
template <>
struct VecOf<uint8_t> {
  using type = u8v;
};
template <>
struct VecOf<int16_t> {
  using type = s16v;
};
template <>
struct VecOf<uint16_t> {
  using type = u16v;
};
template <>
struct VecOf<int32_t> {
  using type = s32v;
};
template <>
struct VecOf<uint32_t> {
  using type = u32v;
};
template <>
struct VecOf<int64_t> {
  using type = s64v;
};
template <>
struct VecOf<uint64_t> {
  using type = u64v;
};
template <>
struct VecOf<float> {
  using type = f32v;
};
template <>
struct VecOf<double> {
  using type = f64v;
};
template <class T>
using Vec = typename VecOf<T>::type;

// 16 bytes as an array of lanes, for the operations that are loops over lanes.
template <class T>
struct Lanes {
  static constexpr int kCount = 16 / sizeof(T);
  T v[kCount];
  T& operator[](int i) { return v[i]; }
  T operator[](int i) const { return v[i]; }
};

template <class V>
WARDEN_SIMD_INLINE V load(const Slot* fp, uint32_t slot) {
  V v;
  std::memcpy(&v, fp + slot, 16);
  return v;
}
template <class V>
WARDEN_SIMD_INLINE void store(Slot* fp, uint32_t slot, const V& v) {
  static_assert(sizeof(V) == 16);
  std::memcpy(fp + slot, &v, 16);
}

// ---- the shape of an instruction, from its text ----
struct Shape {
  bool is_float = false;
  int bits = 8;  // lane width
  constexpr int lanes() const { return 128 / bits; }
};
constexpr Shape shape_named(std::string_view s) {
  if (s.starts_with("i8x16")) return {false, 8};
  if (s.starts_with("i16x8")) return {false, 16};
  if (s.starts_with("i32x4")) return {false, 32};
  if (s.starts_with("i64x2")) return {false, 64};
  if (s.starts_with("f32x4")) return {true, 32};
  if (s.starts_with("f64x2")) return {true, 64};
  return {false, 64};  // v128: bitwise, any 64-bit lanes do
}
// The shape of an operand named inside the operation ("extend_low_i8x16_s" -> i8x16).
constexpr Shape inner_shape(std::string_view name) {
  for (std::string_view s : {"i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2"}) {
    if (name.find(s) != std::string_view::npos) return shape_named(s);
  }
  return {false, 64};
}

template <int bits, bool is_signed>
using Int = std::conditional_t<
    bits == 8, std::conditional_t<is_signed, int8_t, uint8_t>,
    std::conditional_t<
        bits == 16, std::conditional_t<is_signed, int16_t, uint16_t>,
        std::conditional_t<bits == 32, std::conditional_t<is_signed, int32_t, uint32_t>,
                           std::conditional_t<is_signed, int64_t, uint64_t>>>>;
// A shape's lane type: its float type, or its integer type signed or unsigned.
template <bool is_float, int bits, bool is_signed>
using LaneOf = std::conditional_t<is_float, std::conditional_t<bits == 32, float, double>,
                                  Int<bits, is_signed>>;
#define WARDEN_LANE(shape, is_signed) LaneOf<(shape).is_float, (shape).bits, is_signed>

template <Opcode op>
struct Parts {
  static constexpr std::string_view text = opcode_info(op).text;
  static constexpr std::string_view name = text.substr(text.find('.') + 1);
  static constexpr Shape shape = shape_named(text);
  static constexpr Shape inner = inner_shape(name);
  static constexpr bool is_signed = name.ends_with("_s") || name.ends_with("_s_zero") ||
                                    name.find("_s_") != std::string_view::npos;
  static constexpr bool high = name.find("_high") != std::string_view::npos;
  template <std::string_view::size_type N>
  static constexpr bool is(const char (&s)[N]) {
    return name == std::string_view(s, N - 1);
  }
  static constexpr bool starts(std::string_view s) { return name.starts_with(s); }
};

// ---- lane arithmetic that is not one vector operator ----
template <class T, class W>
constexpr T saturate(W x) {
  if (x < W(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
  if (x > W(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return T(x);
}
template <class F>
WARDEN_SIMD_INLINE F lane_sqrt(F a) {
  return std::sqrt(a);  // IEEE: correctly rounded, NaN in gives a quiet NaN out
}
template <class F>
inline const F kDefaultNaN = numeric::wasm_neg(std::numeric_limits<F>::quiet_NaN());

// Float -> int32 saturating truncation (NaN -> 0), the scalar instruction's semantics.
template <bool is_signed, class F>
WARDEN_SIMD_INLINE uint32_t trunc_sat32(F f) {
  if constexpr (is_signed) {
    return uint32_t(numeric::trunc_saturating<int32_t>(f));
  } else {
    return numeric::trunc_saturating<uint32_t>(f);
  }
}

// i8x16.swizzle: r[i] = x[s[i]], 0 for an index past 15. The one instruction SSE2 and portable
// vector code have no good form for; x86-64 CPUs from 2006 on have SSSE3's pshufb, chosen at
// run time (the same results either way).
inline void swizzle_portable(uint8_t* r, const uint8_t* x, const uint8_t* s) {
  // Branch-free: indices are data (often random), so a branch per lane would mispredict.
  uint8_t table[17] = {};
  std::memcpy(table, x, 16);
  uint8_t out[16];
  for (int i = 0; i < 16; ++i) out[i] = table[s[i] < 16 ? s[i] : 16];
  std::memcpy(r, out, 16);
}
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("ssse3"))) inline void swizzle_ssse3(uint8_t* r, const uint8_t* x,
                                                           const uint8_t* s) {
  typedef long long m128 __attribute__((vector_size(16)));
  typedef char c128 __attribute__((vector_size(16)));
  m128 table, index;
  std::memcpy(&table, x, 16);
  std::memcpy(&index, s, 16);
  // Saturating + 0x70 sets bit 7 (pshufb's "zero this lane") exactly for indices past 15.
  const m128 saturated = (m128)__builtin_ia32_paddusb128((c128)index, (c128)(u8v{} + 0x70));
  const m128 out = (m128)__builtin_ia32_pshufb128((c128)table, (c128)saturated);
  std::memcpy(r, &out, 16);
}
inline const bool kHaveSsse3 = (__builtin_cpu_init(), __builtin_cpu_supports("ssse3"));
inline void swizzle(uint8_t* r, const uint8_t* x, const uint8_t* s) {
  if (kHaveSsse3) [[likely]]
    return swizzle_ssse3(r, x, s);
  swizzle_portable(r, x, s);
}
#else
inline void swizzle(uint8_t* r, const uint8_t* x, const uint8_t* s) { swizzle_portable(r, x, s); }
#endif

// Every instruction with no immediate: operands and result in slots, [dst|a][b|c].
template <Opcode op>
WARDEN_SIMD_INLINE void apply_plain(Slot* fp, const Cell* pc) {
  using P = Parts<op>;
  constexpr Signature sig = opcode_info(op).sig;
  constexpr Shape S = P::shape;
  using SL = WARDEN_LANE(S, true);   // signed (or float) lanes
  using UL = WARDEN_LANE(S, false);  // unsigned (or float) lanes
  using SV = Vec<SL>;
  using UV = Vec<UL>;
  const uint32_t dst = pc[1].u32[0], a = pc[1].u32[1];
  const uint32_t b = pc[2].u32[0], c = pc[2].u32[1];

  // ---- splat: a scalar into every lane ----
  if constexpr (P::is("splat")) {
    Lanes<UL> r;
    UL x;
    if constexpr (S.is_float) {
      x = S.bits == 32 ? UL(fp[a].f32) : UL(fp[a].f64);
    } else {
      x = UL(fp[a].u64);
    }
    for (int i = 0; i < r.kCount; ++i) r[i] = x;
    store(fp, dst, r);
  }
  // ---- bitwise ----
  else if constexpr (P::is("not")) {
    store(fp, dst, ~load<u64v>(fp, a));
  } else if constexpr (P::is("and")) {
    store(fp, dst, load<u64v>(fp, a) & load<u64v>(fp, b));
  } else if constexpr (P::is("andnot")) {
    store(fp, dst, load<u64v>(fp, a) & ~load<u64v>(fp, b));
  } else if constexpr (P::is("or")) {
    store(fp, dst, load<u64v>(fp, a) | load<u64v>(fp, b));
  } else if constexpr (P::is("xor")) {
    store(fp, dst, load<u64v>(fp, a) ^ load<u64v>(fp, b));
  } else if constexpr (P::is("bitselect") || P::starts("relaxed_laneselect")) {
    // laneselect's allowed results include bitselect's: the one chosen everywhere.
    const u64v m = load<u64v>(fp, c);
    store(fp, dst, (load<u64v>(fp, a) & m) | (load<u64v>(fp, b) & ~m));
  } else if constexpr (P::is("any_true")) {
    const u64v x = load<u64v>(fp, a);
    fp[dst].u64 = (x[0] | x[1]) != 0;
  } else if constexpr (P::is("all_true")) {
    const Lanes<UL> x = load<Lanes<UL>>(fp, a);
    bool all = true;
    for (int i = 0; i < x.kCount; ++i) all &= x[i] != 0;
    fp[dst].u64 = all;
  } else if constexpr (P::is("bitmask")) {
    const Lanes<SL> x = load<Lanes<SL>>(fp, a);
    uint32_t m = 0;
    for (int i = 0; i < x.kCount; ++i) m |= uint32_t(x[i] < 0) << i;
    fp[dst].u64 = m;
  }
  // ---- integer and float arithmetic, lanewise on vector types ----
  else if constexpr (P::is("add")) {
    store(fp, dst, load<UV>(fp, a) + load<UV>(fp, b));
  } else if constexpr (P::is("sub")) {
    store(fp, dst, load<UV>(fp, a) - load<UV>(fp, b));
  } else if constexpr (P::is("mul")) {
    store(fp, dst, load<UV>(fp, a) * load<UV>(fp, b));
  } else if constexpr (P::is("div")) {
    store(fp, dst, load<UV>(fp, a) / load<UV>(fp, b));
  } else if constexpr (P::is("neg")) {
    if constexpr (S.is_float) {  // the sign bit only: NaN payloads are kept
      using B = Vec<Int<S.bits, false>>;
      store(fp, dst, load<B>(fp, a) ^ (B{} + (Int<S.bits, false>(1) << (S.bits - 1))));
    } else {
      store(fp, dst, UV{} - load<UV>(fp, a));
    }
  } else if constexpr (P::is("abs")) {
    if constexpr (S.is_float) {
      using B = Vec<Int<S.bits, false>>;
      store(fp, dst, load<B>(fp, a) & ~(B{} + (Int<S.bits, false>(1) << (S.bits - 1))));
    } else {
      const SV x = load<SV>(fp, a);
      const UV ux = (UV)x;
      store(fp, dst, x < 0 ? UV{} - ux : ux);
    }
  } else if constexpr (P::is("min_s") || P::is("max_s") || P::is("min_u") || P::is("max_u")) {
    using L = std::conditional_t<P::is_signed, SL, UL>;
    const Vec<L> x = load<Vec<L>>(fp, a), y = load<Vec<L>>(fp, b);
    store(fp, dst, P::starts("min") ? (x < y ? x : y) : (x > y ? x : y));
  } else if constexpr (P::is("eq") || P::is("ne") || P::starts("lt") || P::starts("gt") ||
                       P::starts("le") || P::starts("ge")) {
    using L = std::conditional_t<P::is_signed || S.is_float, SL, UL>;
    const Vec<L> x = load<Vec<L>>(fp, a), y = load<Vec<L>>(fp, b);
    if constexpr (P::is("eq")) store(fp, dst, x == y);
    if constexpr (P::is("ne")) store(fp, dst, x != y);
    if constexpr (P::starts("lt")) store(fp, dst, x < y);
    if constexpr (P::starts("gt")) store(fp, dst, x > y);
    if constexpr (P::starts("le")) store(fp, dst, x <= y);
    if constexpr (P::starts("ge")) store(fp, dst, x >= y);
  } else if constexpr (P::is("shl") || P::is("shr_s") || P::is("shr_u")) {
    const int count = int(fp[b].u32 & (S.bits - 1));
    if constexpr (P::is("shl")) store(fp, dst, load<UV>(fp, a) << count);
    if constexpr (P::is("shr_s")) store(fp, dst, load<SV>(fp, a) >> count);
    if constexpr (P::is("shr_u")) store(fp, dst, load<UV>(fp, a) >> count);
  }
  // ---- lane loops ----
  else if constexpr (P::starts("add_sat") || P::starts("sub_sat") || P::is("avgr_u") ||
                     P::is("q15mulr_sat_s") || P::is("relaxed_q15mulr_s")) {
    using L = std::conditional_t<P::is_signed, SL, UL>;
    const Lanes<L> x = load<Lanes<L>>(fp, a), y = load<Lanes<L>>(fp, b);
    Lanes<L> r;
    for (int i = 0; i < r.kCount; ++i) {
      const int32_t p = x[i], q = y[i];
      if constexpr (P::starts("add_sat")) r[i] = saturate<L>(p + q);
      if constexpr (P::starts("sub_sat")) r[i] = saturate<L>(p - q);
      if constexpr (P::is("avgr_u")) r[i] = L((p + q + 1) >> 1);
      // relaxed_q15mulr: of the allowed results, the saturating one (q15mulr_sat_s's).
      if constexpr (P::starts("q15") || P::starts("relaxed_q15"))
        r[i] = saturate<L>((p * q + 0x4000) >> 15);
    }
    store(fp, dst, r);
  } else if constexpr (P::is("min") || P::is("max") || P::is("pmin") || P::is("pmax") ||
                       P::is("relaxed_min") || P::is("relaxed_max")) {
    // relaxed_min/max: of the allowed results, min's and max's (NaN and -0 as the spec's).
    const Lanes<SL> x = load<Lanes<SL>>(fp, a), y = load<Lanes<SL>>(fp, b);
    Lanes<SL> r;
    for (int i = 0; i < r.kCount; ++i) {
      // A NaN operand gives a canonical NaN (quiet, no payload; sign set, x86's "default NaN"):
      // one of the results the spec allows, the one V8 gives, the same whatever NaN came in.
      if constexpr (P::is("min") || P::is("relaxed_min"))
        r[i] =
            std::isnan(x[i]) || std::isnan(y[i]) ? kDefaultNaN<SL> : numeric::wasm_min(x[i], y[i]);
      if constexpr (P::is("max") || P::is("relaxed_max"))
        r[i] =
            std::isnan(x[i]) || std::isnan(y[i]) ? kDefaultNaN<SL> : numeric::wasm_max(x[i], y[i]);
      if constexpr (P::is("pmin")) r[i] = y[i] < x[i] ? y[i] : x[i];
      if constexpr (P::is("pmax")) r[i] = x[i] < y[i] ? y[i] : x[i];
    }
    store(fp, dst, r);
  } else if constexpr (P::is("sqrt") || P::is("ceil") || P::is("floor") || P::is("trunc") ||
                       P::is("nearest")) {
    Lanes<SL> x = load<Lanes<SL>>(fp, a);
    for (int i = 0; i < x.kCount; ++i) {
      if constexpr (P::is("sqrt")) x[i] = lane_sqrt(x[i]);
      if constexpr (P::is("ceil")) x[i] = numeric::wasm_ceil(x[i]);
      if constexpr (P::is("floor")) x[i] = numeric::wasm_floor(x[i]);
      if constexpr (P::is("trunc")) x[i] = numeric::wasm_trunc(x[i]);
      if constexpr (P::is("nearest")) x[i] = numeric::wasm_nearest(x[i]);
    }
    store(fp, dst, x);
  } else if constexpr (P::is("popcnt")) {
    Lanes<uint8_t> x = load<Lanes<uint8_t>>(fp, a);
    for (int i = 0; i < 16; ++i) x[i] = uint8_t(std::popcount(x[i]));
    store(fp, dst, x);
  } else if constexpr (P::is("swizzle") || P::is("relaxed_swizzle")) {
    // relaxed_swizzle: of the allowed results, swizzle's (an index past 15 gives 0).
    swizzle(reinterpret_cast<uint8_t*>(fp + dst), reinterpret_cast<const uint8_t*>(fp + a),
            reinterpret_cast<const uint8_t*>(fp + b));
  } else if constexpr (P::starts("narrow")) {
    using From = WARDEN_LANE(P::inner, true);
    using To = WARDEN_LANE(S, P::is_signed);
    const Lanes<From> x = load<Lanes<From>>(fp, a), y = load<Lanes<From>>(fp, b);
    Lanes<To> r;
    constexpr int half = Lanes<From>::kCount;
    for (int i = 0; i < half; ++i) {
      r[i] = saturate<To>(int64_t(x[i]));
      r[i + half] = saturate<To>(int64_t(y[i]));
    }
    store(fp, dst, r);
  } else if constexpr (P::starts("extend")) {
    using From = WARDEN_LANE(P::inner, P::is_signed);
    using To = WARDEN_LANE(S, P::is_signed);
    const Lanes<From> x = load<Lanes<From>>(fp, a);
    Lanes<To> r;
    constexpr int base = P::high ? Lanes<To>::kCount : 0;
    for (int i = 0; i < r.kCount; ++i) r[i] = To(x[base + i]);
    store(fp, dst, r);
  } else if constexpr (P::starts("extmul")) {
    using From = WARDEN_LANE(P::inner, P::is_signed);
    using To = WARDEN_LANE(S, P::is_signed);
    const Lanes<From> x = load<Lanes<From>>(fp, a), y = load<Lanes<From>>(fp, b);
    Lanes<To> r;
    constexpr int base = P::high ? Lanes<To>::kCount : 0;
    using U = std::make_unsigned_t<To>;  // products wrap (u32 * u32 fits, i64 lanes wrap)
    for (int i = 0; i < r.kCount; ++i) r[i] = To(U(To(x[base + i])) * U(To(y[base + i])));
    store(fp, dst, r);
  } else if constexpr (P::starts("extadd_pairwise")) {
    using From = WARDEN_LANE(P::inner, P::is_signed);
    using To = WARDEN_LANE(S, P::is_signed);
    const Lanes<From> x = load<Lanes<From>>(fp, a);
    Lanes<To> r;
    for (int i = 0; i < r.kCount; ++i) r[i] = To(To(x[2 * i]) + To(x[2 * i + 1]));
    store(fp, dst, r);
  } else if constexpr (P::is("dot_i16x8_s")) {
    const Lanes<int16_t> x = load<Lanes<int16_t>>(fp, a), y = load<Lanes<int16_t>>(fp, b);
    Lanes<uint32_t> r;
    for (int i = 0; i < 4; ++i)
      r[i] =
          uint32_t(int32_t(x[2 * i]) * y[2 * i]) + uint32_t(int32_t(x[2 * i + 1]) * y[2 * i + 1]);
    store(fp, dst, r);
  } else if constexpr (P::is("relaxed_dot_i8x16_i7x16_s") ||
                       P::is("relaxed_dot_i8x16_i7x16_add_s")) {
    // The second operand's lanes are read as signed (an allowed result whatever their top bit).
    const Lanes<int8_t> x = load<Lanes<int8_t>>(fp, a), y = load<Lanes<int8_t>>(fp, b);
    if constexpr (P::is("relaxed_dot_i8x16_i7x16_s")) {
      Lanes<uint16_t> r;
      for (int i = 0; i < 8; ++i)
        r[i] = uint16_t(x[2 * i] * y[2 * i] + x[2 * i + 1] * y[2 * i + 1]);
      store(fp, dst, r);
    } else {
      const Lanes<uint32_t> acc = load<Lanes<uint32_t>>(fp, c);
      Lanes<uint32_t> r;
      for (int i = 0; i < 4; ++i) {
        // Pairs first, to 16 bits as relaxed_dot_i8x16_i7x16_s gives them, then summed.
        const int16_t lo = int16_t(x[4 * i] * y[4 * i] + x[4 * i + 1] * y[4 * i + 1]);
        const int16_t hi = int16_t(x[4 * i + 2] * y[4 * i + 2] + x[4 * i + 3] * y[4 * i + 3]);
        r[i] = acc[i] + uint32_t(int32_t(lo) + int32_t(hi));
      }
      store(fp, dst, r);
    }
  } else if constexpr (P::is("relaxed_madd") || P::is("relaxed_nmadd")) {
    // Of the allowed results (fused or not), the fused one: std::fma is exact everywhere.
    const Lanes<SL> x = load<Lanes<SL>>(fp, a), y = load<Lanes<SL>>(fp, b),
                    z = load<Lanes<SL>>(fp, c);
    Lanes<SL> r;
    for (int i = 0; i < r.kCount; ++i)
      r[i] = std::fma(P::is("relaxed_nmadd") ? numeric::wasm_neg(x[i]) : x[i], y[i], z[i]);
    store(fp, dst, r);
  }
  // ---- conversions ----
  else if constexpr (P::starts("convert")) {  // convert_i32x4_s/u, convert_low_i32x4_s/u
    const Lanes<uint32_t> x = load<Lanes<uint32_t>>(fp, a);
    Lanes<SL> r;
    for (int i = 0; i < r.kCount; ++i) r[i] = P::is_signed ? SL(int32_t(x[i])) : SL(x[i]);
    store(fp, dst, r);
  } else if constexpr (P::starts("trunc_sat") || P::starts("relaxed_trunc")) {
    // relaxed_trunc: of the allowed results, trunc_sat's (NaN 0, out of range saturated).
    using From = WARDEN_LANE(P::inner, true);
    const Lanes<From> x = load<Lanes<From>>(fp, a);
    Lanes<uint32_t> r{};
    for (int i = 0; i < x.kCount; ++i) r[i] = trunc_sat32<P::is_signed>(x[i]);
    store(fp, dst, r);
  } else if constexpr (P::is("demote_f64x2_zero")) {
    const Lanes<double> x = load<Lanes<double>>(fp, a);
    Lanes<float> r{};
    for (int i = 0; i < 2; ++i) r[i] = float(x[i]);  // a NaN stays NaN, quiet
    store(fp, dst, r);
  } else if constexpr (P::is("promote_low_f32x4")) {
    const Lanes<float> x = load<Lanes<float>>(fp, a);
    Lanes<double> r;
    for (int i = 0; i < 2; ++i) r[i] = double(x[i]);
    store(fp, dst, r);
  } else {
    static_assert(sig.special, "an 0xFD instruction without semantics");
  }
}

// extract_lane / replace_lane: [dst|a][b|lane].
template <Opcode op>
WARDEN_SIMD_INLINE void apply_lane(Slot* fp, const Cell* pc) {
  using P = Parts<op>;
  constexpr Shape S = P::shape;
  const uint32_t dst = pc[1].u32[0], a = pc[1].u32[1], b = pc[2].u32[0];
  const int lane = int(pc[2].u32[1]);  // validated: below the lane count
  if constexpr (P::starts("extract_lane")) {
    using L = WARDEN_LANE(S, P::is_signed);
    const Lanes<L> x = load<Lanes<L>>(fp, a);
    if constexpr (S.is_float) {
      uint64_t raw = 0;
      std::memcpy(&raw, &x.v[lane], sizeof(L));
      fp[dst].u64 = raw;
    } else if constexpr (S.bits == 64) {
      fp[dst].u64 = uint64_t(x[lane]);
    } else {
      fp[dst].u64 = uint32_t(int32_t(x[lane]));  // _s extends the sign, _u zeros; 32 bits kept
    }
  } else {  // replace_lane: the vector, then the lane written over it in place
    using L = WARDEN_LANE(S, false);
    std::memmove(fp + dst, fp + a, 16);  // dst may start inside a's slots
    std::memcpy(reinterpret_cast<uint8_t*>(fp + dst) + lane * sizeof(L), &fp[b], sizeof(L));
  }
}

// i8x16.shuffle: [dst|a][b][16 bytes: the lanes taken from a][16 bytes: those taken from b].
// The compiler splits the instruction's lane indices into two pshufb masks (an index into a, or
// 0x80 where the lane comes from b; the same for b), so with SSSE3 a shuffle is two pshufb and an
// or, and the portable form needs no 32-byte copy.
inline void shuffle_portable(uint8_t* r, const uint8_t* a, const uint8_t* b, const uint8_t* from_a,
                             const uint8_t* from_b) {
  uint8_t out[16];
  for (int i = 0; i < 16; ++i) out[i] = from_a[i] < 16 ? a[from_a[i]] : b[from_b[i] & 15];
  std::memcpy(r, out, 16);
}
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("ssse3"))) inline void shuffle_ssse3(uint8_t* r, const uint8_t* a,
                                                           const uint8_t* b, const uint8_t* from_a,
                                                           const uint8_t* from_b) {
  typedef long long m128 __attribute__((vector_size(16)));
  typedef char c128 __attribute__((vector_size(16)));
  m128 x, y, mx, my;
  std::memcpy(&x, a, 16);
  std::memcpy(&y, b, 16);
  std::memcpy(&mx, from_a, 16);
  std::memcpy(&my, from_b, 16);
  const m128 out = (m128)__builtin_ia32_pshufb128((c128)x, (c128)mx) |
                   (m128)__builtin_ia32_pshufb128((c128)y, (c128)my);
  std::memcpy(r, &out, 16);
}
#endif
WARDEN_SIMD_INLINE void apply_shuffle(Slot* fp, const Cell* pc) {
  uint8_t* r = reinterpret_cast<uint8_t*>(fp + pc[1].u32[0]);
  const uint8_t* a = reinterpret_cast<const uint8_t*>(fp + pc[1].u32[1]);
  const uint8_t* b = reinterpret_cast<const uint8_t*>(fp + pc[2].u32[0]);
  const uint8_t* masks = reinterpret_cast<const uint8_t*>(pc + 3);
#if defined(__x86_64__) && defined(__GNUC__)
  if (kHaveSsse3) [[likely]]
    return shuffle_ssse3(r, a, b, masks, masks + 16);
#endif
  shuffle_portable(r, a, b, masks, masks + 16);
}

// Loads and stores, bounds-checked like scalar accesses. False: out of bounds.
template <Opcode op>
WARDEN_SIMD_INLINE bool apply_memory(Slot* fp, const Cell* pc, uint8_t* mem, uint64_t mem_size) {
  using P = Parts<op>;
  constexpr OpcodeInfo info = opcode_info(op);
  constexpr uint32_t n = info.mem_bytes;
  constexpr bool lane_access = info.imm == ImmKind::MemArgLane;
  constexpr bool is_store = info.sig.result_count == 0;
  const uint32_t addr = is_store ? pc[1].u32[0] : pc[1].u32[1];
  const uint32_t offset = lane_access && !is_store ? pc[3].u32[0] : pc[2].u32[0];
  const uint64_t ea = uint64_t{fp[addr].u32} + offset;
  if (ea + n > mem_size) [[unlikely]]
    return false;
  const uint8_t* from = mem + ea;
  if constexpr (P::is("store")) {
    std::memcpy(mem + ea, fp + pc[1].u32[1], 16);
  } else if constexpr (lane_access && is_store) {  // store8_lane ..: [addr|v][offset|lane]
    std::memcpy(mem + ea, reinterpret_cast<const uint8_t*>(fp + pc[1].u32[1]) + pc[2].u32[1] * n,
                n);
  } else if constexpr (lane_access) {  // load8_lane ..: [dst|addr][v|lane][offset]
    const uint32_t dst = pc[1].u32[0], v = pc[2].u32[0];
    std::memmove(fp + dst, fp + v, 16);  // dst (the address's home) may start inside v's slots
    std::memcpy(reinterpret_cast<uint8_t*>(fp + dst) + pc[2].u32[1] * n, from, n);
  } else {
    const uint32_t dst = pc[1].u32[0];
    if constexpr (P::is("load")) {
      std::memcpy(fp + dst, from, 16);
    } else if constexpr (P::name.ends_with("_splat")) {
      using U = Int<int(n * 8), false>;
      U x;
      std::memcpy(&x, from, n);
      Lanes<U> r;
      for (int i = 0; i < r.kCount; ++i) r[i] = x;
      store(fp, dst, r);
    } else if constexpr (P::name.ends_with("_zero")) {
      uint8_t bytes[16] = {};
      std::memcpy(bytes, from, n);
      std::memcpy(fp + dst, bytes, 16);
    } else {  // load8x8_s/u, load16x4_s/u, load32x2_s/u: 8 bytes, each lane widened
      constexpr int from_bits = P::is("load8x8_s") || P::is("load8x8_u")     ? 8
                                : P::is("load16x4_s") || P::is("load16x4_u") ? 16
                                                                             : 32;
      using From = Int<from_bits, P::is_signed>;
      using To = Int<from_bits * 2, P::is_signed>;
      From x[64 / from_bits];
      std::memcpy(x, from, 8);
      Lanes<To> r;
      for (int i = 0; i < r.kCount; ++i) r[i] = To(x[i]);
      store(fp, dst, r);
    }
  }
  return true;
}

// The operand cells an 0xFD instruction takes after its handler cell.
constexpr uint32_t operand_cells(Opcode op) {
  const OpcodeInfo& info = opcode_info(op);
  switch (info.imm) {
    case ImmKind::Shuffle: return 6;
    case ImmKind::MemArgLane: return info.sig.result_count == 1 ? 3 : 2;
    case ImmKind::MemArg:
    case ImmKind::Lane: return 2;
    default: return info.sig.param_count >= 2 ? 2 : 1;
  }
}

}  // namespace warden::simd

#undef WARDEN_SIMD_INLINE
#undef WARDEN_LANE
