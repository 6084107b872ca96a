// The semantics of every numeric instruction, once: Numeric<Opcode::X>::apply. Operands and
// results use the slot representation (i32 -> uint32_t, i64 -> uint64_t, f32 -> float,
// f64 -> double); signedness is the instruction's business. Instructions that can trap take a
// TrapCode& and return a value that is ignored when they set it. The interpreter's numeric
// handlers are generated from opcodes.def and call these; numeric_test.cc checks the edges.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "decoder/opcode.h"
#include "vm/trap.h"

namespace warden::numeric {

template <Opcode op>
struct Numeric {
  static constexpr bool kDefined = false;
};

// Float helpers that must not touch the FPU (sign bit operations keep NaN payloads).
inline uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
inline uint64_t bits(double d) { return std::bit_cast<uint64_t>(d); }
inline float from_bits(uint32_t b) { return std::bit_cast<float>(b); }
inline double from_bits(uint64_t b) { return std::bit_cast<double>(b); }

template <class F>
F wasm_min(F a, F b) {
  if (std::isnan(a) || std::isnan(b)) return a + b;  // propagates a quiet NaN
  if (a == b) return std::signbit(a) ? a : b;        // min(-0, +0) = -0
  return a < b ? a : b;
}
template <class F>
F wasm_max(F a, F b) {
  if (std::isnan(a) || std::isnan(b)) return a + b;
  if (a == b) return std::signbit(a) ? b : a;  // max(-0, +0) = +0
  return a > b ? a : b;
}
// Rounding keeps NaNs NaN but quiet (libm may hand a signalling NaN back unchanged).
template <class F>
F wasm_nearest(F a) {
  return std::isnan(a) ? a + a : std::nearbyint(a);  // default mode: round half to even
}
template <class F>
F wasm_ceil(F a) {
  return std::isnan(a) ? a + a : std::ceil(a);
}
template <class F>
F wasm_floor(F a) {
  return std::isnan(a) ? a + a : std::floor(a);
}
template <class F>
F wasm_trunc(F a) {
  return std::isnan(a) ? a + a : std::trunc(a);
}
template <class F>
F wasm_abs(F a) {
  return from_bits(bits(a) & ~(decltype(bits(a))(1) << (sizeof(F) * 8 - 1)));
}
template <class F>
F wasm_neg(F a) {
  return from_bits(bits(a) ^ (decltype(bits(a))(1) << (sizeof(F) * 8 - 1)));
}
template <class F>
F wasm_copysign(F a, F b) {
  using U = decltype(bits(a));
  constexpr U sign = U(1) << (sizeof(F) * 8 - 1);
  return from_bits((bits(a) & ~sign) | (bits(b) & sign));
}

// Float -> integer truncation: trapping, and saturating. The bounds are exact in both float types:
// `lo` is the largest value that truncates out of range below, `hi` the smallest above.
template <class I, class F>
I trunc_checked(F f, TrapCode& trap) {
  if (std::isnan(f)) {
    trap = TrapCode::InvalidConversionToInteger;
    return 0;
  }
  constexpr bool is_signed = std::numeric_limits<I>::is_signed;
  constexpr F hi = is_signed ? -static_cast<F>(std::numeric_limits<I>::min())
                             : static_cast<F>(std::numeric_limits<I>::max()) + F(1);
  constexpr F lo = is_signed ? static_cast<F>(std::numeric_limits<I>::min()) : F(0);
  // Signed: valid iff lo - 1 < f < hi (in exact arithmetic); trunc(f) >= lo covers the low side.
  const F t = std::trunc(f);
  if (!(t >= (is_signed ? lo : F(-0.0)) && t < hi) || (!is_signed && t <= F(-1))) {
    trap = TrapCode::IntegerOverflow;
    return 0;
  }
  return static_cast<I>(t);
}
template <class I, class F>
I trunc_saturating(F f) {
  if (std::isnan(f)) return 0;
  constexpr bool is_signed = std::numeric_limits<I>::is_signed;
  constexpr F hi = is_signed ? -static_cast<F>(std::numeric_limits<I>::min())
                             : static_cast<F>(std::numeric_limits<I>::max()) + F(1);
  if (f >= hi) return std::numeric_limits<I>::max();
  if (is_signed ? f <= static_cast<F>(std::numeric_limits<I>::min()) : f <= F(0)) {
    return std::numeric_limits<I>::min();
  }
  return static_cast<I>(std::trunc(f));
}

template <class U>
U shift_mask(U b) {
  return b & (sizeof(U) * 8 - 1);
}

}  // namespace warden::numeric

#define WARDEN_NUMERIC(Name, ...)          \
  template <>                              \
  struct numeric::Numeric<Opcode::Name> {  \
    static constexpr bool kDefined = true; \
    __VA_ARGS__                            \
  };
#define WARDEN_UN(Name, T, expr) \
  WARDEN_NUMERIC(                \
      Name, static auto apply(T a) { return expr; })
#define WARDEN_BIN(Name, T, expr) \
  WARDEN_NUMERIC(                 \
      Name, static auto apply(T a, T b) { return expr; })
#define WARDEN_BIN_TRAP(Name, T, ...) \
  WARDEN_NUMERIC(Name, static T apply(T a, T b, TrapCode& trap) __VA_ARGS__)
#define WARDEN_CONV(Name, From, expr) \
  WARDEN_NUMERIC(                     \
      Name, static auto apply(From a) { return expr; })
#define WARDEN_CONV_TRAP(Name, From, To) \
  WARDEN_NUMERIC(                        \
      Name, static auto apply(From a, TrapCode& trap) { return trunc_checked<To>(a, trap); })

namespace warden {
namespace numeric {
using u32 = uint32_t;
using u64 = uint64_t;
using s32 = int32_t;
using s64 = int64_t;
using f32 = float;
using f64 = double;
}  // namespace numeric

// ---- comparisons (results are i32 0/1) ----
WARDEN_UN(I32Eqz, numeric::u32, numeric::u32(a == 0))
WARDEN_BIN(I32Eq, numeric::u32, numeric::u32(a == b))
WARDEN_BIN(I32Ne, numeric::u32, numeric::u32(a != b))
WARDEN_BIN(I32LtS, numeric::u32, numeric::u32(numeric::s32(a) < numeric::s32(b)))
WARDEN_BIN(I32LtU, numeric::u32, numeric::u32(a < b))
WARDEN_BIN(I32GtS, numeric::u32, numeric::u32(numeric::s32(a) > numeric::s32(b)))
WARDEN_BIN(I32GtU, numeric::u32, numeric::u32(a > b))
WARDEN_BIN(I32LeS, numeric::u32, numeric::u32(numeric::s32(a) <= numeric::s32(b)))
WARDEN_BIN(I32LeU, numeric::u32, numeric::u32(a <= b))
WARDEN_BIN(I32GeS, numeric::u32, numeric::u32(numeric::s32(a) >= numeric::s32(b)))
WARDEN_BIN(I32GeU, numeric::u32, numeric::u32(a >= b))
WARDEN_UN(I64Eqz, numeric::u64, numeric::u32(a == 0))
WARDEN_BIN(I64Eq, numeric::u64, numeric::u32(a == b))
WARDEN_BIN(I64Ne, numeric::u64, numeric::u32(a != b))
WARDEN_BIN(I64LtS, numeric::u64, numeric::u32(numeric::s64(a) < numeric::s64(b)))
WARDEN_BIN(I64LtU, numeric::u64, numeric::u32(a < b))
WARDEN_BIN(I64GtS, numeric::u64, numeric::u32(numeric::s64(a) > numeric::s64(b)))
WARDEN_BIN(I64GtU, numeric::u64, numeric::u32(a > b))
WARDEN_BIN(I64LeS, numeric::u64, numeric::u32(numeric::s64(a) <= numeric::s64(b)))
WARDEN_BIN(I64LeU, numeric::u64, numeric::u32(a <= b))
WARDEN_BIN(I64GeS, numeric::u64, numeric::u32(numeric::s64(a) >= numeric::s64(b)))
WARDEN_BIN(I64GeU, numeric::u64, numeric::u32(a >= b))
WARDEN_BIN(F32Eq, numeric::f32, numeric::u32(a == b))
WARDEN_BIN(F32Ne, numeric::f32, numeric::u32(a != b))
WARDEN_BIN(F32Lt, numeric::f32, numeric::u32(a < b))
WARDEN_BIN(F32Gt, numeric::f32, numeric::u32(a > b))
WARDEN_BIN(F32Le, numeric::f32, numeric::u32(a <= b))
WARDEN_BIN(F32Ge, numeric::f32, numeric::u32(a >= b))
WARDEN_BIN(F64Eq, numeric::f64, numeric::u32(a == b))
WARDEN_BIN(F64Ne, numeric::f64, numeric::u32(a != b))
WARDEN_BIN(F64Lt, numeric::f64, numeric::u32(a < b))
WARDEN_BIN(F64Gt, numeric::f64, numeric::u32(a > b))
WARDEN_BIN(F64Le, numeric::f64, numeric::u32(a <= b))
WARDEN_BIN(F64Ge, numeric::f64, numeric::u32(a >= b))

// ---- integer arithmetic ----
WARDEN_UN(I32Clz, numeric::u32, numeric::u32(std::countl_zero(a)))
WARDEN_UN(I32Ctz, numeric::u32, numeric::u32(std::countr_zero(a)))
WARDEN_UN(I32Popcnt, numeric::u32, numeric::u32(std::popcount(a)))
WARDEN_BIN(I32Add, numeric::u32, numeric::u32(a + b))
WARDEN_BIN(I32Sub, numeric::u32, numeric::u32(a - b))
WARDEN_BIN(I32Mul, numeric::u32, numeric::u32(a* b))
WARDEN_BIN_TRAP(I32DivS, numeric::u32, {
  if (b == 0) return trap = TrapCode::IntegerDivideByZero, 0;
  if (a == 0x80000000u && b == 0xFFFFFFFFu) return trap = TrapCode::IntegerOverflow, 0;
  return numeric::u32(numeric::s32(a) / numeric::s32(b));
})
WARDEN_BIN_TRAP(I32DivU, numeric::u32, {
  if (b == 0) return trap = TrapCode::IntegerDivideByZero, 0;
  return a / b;
})
WARDEN_BIN_TRAP(I32RemS, numeric::u32, {
  if (b == 0) return trap = TrapCode::IntegerDivideByZero, 0;
  if (b == 0xFFFFFFFFu) return 0;  // INT_MIN % -1 is 0, not a trap
  return numeric::u32(numeric::s32(a) % numeric::s32(b));
})
WARDEN_BIN_TRAP(I32RemU, numeric::u32, {
  if (b == 0) return trap = TrapCode::IntegerDivideByZero, 0;
  return a % b;
})
WARDEN_BIN(I32And, numeric::u32, numeric::u32(a& b))
WARDEN_BIN(I32Or, numeric::u32, numeric::u32(a | b))
WARDEN_BIN(I32Xor, numeric::u32, numeric::u32(a ^ b))
WARDEN_BIN(I32Shl, numeric::u32, numeric::u32(a << numeric::shift_mask(b)))
WARDEN_BIN(I32ShrS, numeric::u32, numeric::u32(numeric::s32(a) >> numeric::shift_mask(b)))
WARDEN_BIN(I32ShrU, numeric::u32, numeric::u32(a >> numeric::shift_mask(b)))
WARDEN_BIN(I32Rotl, numeric::u32, std::rotl(a, int(numeric::shift_mask(b))))
WARDEN_BIN(I32Rotr, numeric::u32, std::rotr(a, int(numeric::shift_mask(b))))
WARDEN_UN(I64Clz, numeric::u64, numeric::u64(std::countl_zero(a)))
WARDEN_UN(I64Ctz, numeric::u64, numeric::u64(std::countr_zero(a)))
WARDEN_UN(I64Popcnt, numeric::u64, numeric::u64(std::popcount(a)))
WARDEN_BIN(I64Add, numeric::u64, numeric::u64(a + b))
WARDEN_BIN(I64Sub, numeric::u64, numeric::u64(a - b))
WARDEN_BIN(I64Mul, numeric::u64, numeric::u64(a* b))
WARDEN_BIN_TRAP(I64DivS, numeric::u64, {
  if (b == 0) return trap = TrapCode::IntegerDivideByZero, 0;
  if (a == 0x8000000000000000u && b == ~numeric::u64(0)) return trap = TrapCode::IntegerOverflow, 0;
  return numeric::u64(numeric::s64(a) / numeric::s64(b));
})
WARDEN_BIN_TRAP(I64DivU, numeric::u64, {
  if (b == 0) return trap = TrapCode::IntegerDivideByZero, 0;
  return a / b;
})
WARDEN_BIN_TRAP(I64RemS, numeric::u64, {
  if (b == 0) return trap = TrapCode::IntegerDivideByZero, 0;
  if (b == ~numeric::u64(0)) return 0;
  return numeric::u64(numeric::s64(a) % numeric::s64(b));
})
WARDEN_BIN_TRAP(I64RemU, numeric::u64, {
  if (b == 0) return trap = TrapCode::IntegerDivideByZero, 0;
  return a % b;
})
WARDEN_BIN(I64And, numeric::u64, numeric::u64(a& b))
WARDEN_BIN(I64Or, numeric::u64, numeric::u64(a | b))
WARDEN_BIN(I64Xor, numeric::u64, numeric::u64(a ^ b))
WARDEN_BIN(I64Shl, numeric::u64, numeric::u64(a << numeric::shift_mask(b)))
WARDEN_BIN(I64ShrS, numeric::u64, numeric::u64(numeric::s64(a) >> numeric::shift_mask(b)))
WARDEN_BIN(I64ShrU, numeric::u64, numeric::u64(a >> numeric::shift_mask(b)))
WARDEN_BIN(I64Rotl, numeric::u64, std::rotl(a, int(numeric::shift_mask(b))))
WARDEN_BIN(I64Rotr, numeric::u64, std::rotr(a, int(numeric::shift_mask(b))))

// ---- float arithmetic (IEEE 754 as the hardware does it; sign ops on bits) ----
#define WARDEN_FLOAT_OPS(P, T)                       \
  WARDEN_UN(P##Abs, T, numeric::wasm_abs(a))         \
  WARDEN_UN(P##Neg, T, numeric::wasm_neg(a))         \
  WARDEN_UN(P##Ceil, T, numeric::wasm_ceil(a))       \
  WARDEN_UN(P##Floor, T, numeric::wasm_floor(a))     \
  WARDEN_UN(P##Trunc, T, numeric::wasm_trunc(a))     \
  WARDEN_UN(P##Nearest, T, numeric::wasm_nearest(a)) \
  WARDEN_UN(P##Sqrt, T, T(std::sqrt(a)))             \
  WARDEN_BIN(P##Add, T, T(a + b))                    \
  WARDEN_BIN(P##Sub, T, T(a - b))                    \
  WARDEN_BIN(P##Mul, T, T(a* b))                     \
  WARDEN_BIN(P##Div, T, T(a / b))                    \
  WARDEN_BIN(P##Min, T, numeric::wasm_min(a, b))     \
  WARDEN_BIN(P##Max, T, numeric::wasm_max(a, b))     \
  WARDEN_BIN(P##Copysign, T, numeric::wasm_copysign(a, b))
WARDEN_FLOAT_OPS(F32, numeric::f32)
WARDEN_FLOAT_OPS(F64, numeric::f64)
#undef WARDEN_FLOAT_OPS

// ---- conversions ----
WARDEN_CONV(I32WrapI64, numeric::u64, numeric::u32(a))
WARDEN_CONV_TRAP(I32TruncF32S, numeric::f32, numeric::s32)
WARDEN_CONV_TRAP(I32TruncF32U, numeric::f32, numeric::u32)
WARDEN_CONV_TRAP(I32TruncF64S, numeric::f64, numeric::s32)
WARDEN_CONV_TRAP(I32TruncF64U, numeric::f64, numeric::u32)
WARDEN_CONV(I64ExtendI32S, numeric::u32, numeric::u64(numeric::s64(numeric::s32(a))))
WARDEN_CONV(I64ExtendI32U, numeric::u32, numeric::u64(a))
WARDEN_CONV_TRAP(I64TruncF32S, numeric::f32, numeric::s64)
WARDEN_CONV_TRAP(I64TruncF32U, numeric::f32, numeric::u64)
WARDEN_CONV_TRAP(I64TruncF64S, numeric::f64, numeric::s64)
WARDEN_CONV_TRAP(I64TruncF64U, numeric::f64, numeric::u64)
WARDEN_CONV(F32ConvertI32S, numeric::u32, numeric::f32(numeric::s32(a)))
WARDEN_CONV(F32ConvertI32U, numeric::u32, numeric::f32(a))
WARDEN_CONV(F32ConvertI64S, numeric::u64, numeric::f32(numeric::s64(a)))
WARDEN_CONV(F32ConvertI64U, numeric::u64, numeric::f32(a))
WARDEN_CONV(F32DemoteF64, numeric::f64, numeric::f32(a))
WARDEN_CONV(F64ConvertI32S, numeric::u32, numeric::f64(numeric::s32(a)))
WARDEN_CONV(F64ConvertI32U, numeric::u32, numeric::f64(a))
WARDEN_CONV(F64ConvertI64S, numeric::u64, numeric::f64(numeric::s64(a)))
WARDEN_CONV(F64ConvertI64U, numeric::u64, numeric::f64(a))
WARDEN_CONV(F64PromoteF32, numeric::f32, numeric::f64(a))
WARDEN_CONV(I32ReinterpretF32, numeric::f32, numeric::bits(a))
WARDEN_CONV(I64ReinterpretF64, numeric::f64, numeric::bits(a))
WARDEN_CONV(F32ReinterpretI32, numeric::u32, numeric::from_bits(a))
WARDEN_CONV(F64ReinterpretI64, numeric::u64, numeric::from_bits(a))

// ---- sign extension ----
WARDEN_UN(I32Extend8S, numeric::u32, numeric::u32(numeric::s32(int8_t(a))))
WARDEN_UN(I32Extend16S, numeric::u32, numeric::u32(numeric::s32(int16_t(a))))
WARDEN_UN(I64Extend8S, numeric::u64, numeric::u64(numeric::s64(int8_t(a))))
WARDEN_UN(I64Extend16S, numeric::u64, numeric::u64(numeric::s64(int16_t(a))))
WARDEN_UN(I64Extend32S, numeric::u64, numeric::u64(numeric::s64(int32_t(a))))

// ---- saturating truncation ----
WARDEN_CONV(I32TruncSatF32S, numeric::f32, numeric::u32(numeric::trunc_saturating<numeric::s32>(a)))
WARDEN_CONV(I32TruncSatF32U, numeric::f32, numeric::trunc_saturating<numeric::u32>(a))
WARDEN_CONV(I32TruncSatF64S, numeric::f64, numeric::u32(numeric::trunc_saturating<numeric::s32>(a)))
WARDEN_CONV(I32TruncSatF64U, numeric::f64, numeric::trunc_saturating<numeric::u32>(a))
WARDEN_CONV(I64TruncSatF32S, numeric::f32, numeric::u64(numeric::trunc_saturating<numeric::s64>(a)))
WARDEN_CONV(I64TruncSatF32U, numeric::f32, numeric::trunc_saturating<numeric::u64>(a))
WARDEN_CONV(I64TruncSatF64S, numeric::f64, numeric::u64(numeric::trunc_saturating<numeric::s64>(a)))
WARDEN_CONV(I64TruncSatF64U, numeric::f64, numeric::trunc_saturating<numeric::u64>(a))

}  // namespace warden

#undef WARDEN_NUMERIC
#undef WARDEN_UN
#undef WARDEN_BIN
#undef WARDEN_BIN_TRAP
#undef WARDEN_CONV
#undef WARDEN_CONV_TRAP
