// vm/numeric.h at the edges, with expected values taken from the WebAssembly spec's definitions
// (Numerics chapter), not from running warden.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "vm/numeric.h"

namespace warden {
namespace {

template <Opcode op, class... A>
auto apply(A... a) {
  return numeric::Numeric<op>::apply(a...);
}

// Runs a trapping operation; returns the trap (or kNone) and stores the value.
constexpr TrapCode kNone = static_cast<TrapCode>(0xFF);
template <Opcode op, class R, class... A>
TrapCode trapping(R& out, A... a) {
  TrapCode trap = kNone;
  out = static_cast<R>(numeric::Numeric<op>::apply(a..., trap));
  return trap;
}

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
uint64_t bits(double d) { return std::bit_cast<uint64_t>(d); }
float f32(uint32_t b) { return std::bit_cast<float>(b); }
double f64(uint64_t b) { return std::bit_cast<double>(b); }

TEST(Numeric, IntegerDivisionTrapsOnZeroAndSignedOverflow) {
  uint32_t r;
  EXPECT_EQ(trapping<Opcode::I32DivS>(r, 1u, 0u), TrapCode::IntegerDivideByZero);
  EXPECT_EQ(trapping<Opcode::I32DivU>(r, 1u, 0u), TrapCode::IntegerDivideByZero);
  EXPECT_EQ(trapping<Opcode::I32RemS>(r, 1u, 0u), TrapCode::IntegerDivideByZero);
  EXPECT_EQ(trapping<Opcode::I32RemU>(r, 1u, 0u), TrapCode::IntegerDivideByZero);
  EXPECT_EQ(trapping<Opcode::I32DivS>(r, 0x80000000u, 0xFFFFFFFFu), TrapCode::IntegerOverflow);
  // rem_s of INT_MIN by -1 is 0, not a trap.
  EXPECT_EQ(trapping<Opcode::I32RemS>(r, 0x80000000u, 0xFFFFFFFFu), kNone);
  EXPECT_EQ(r, 0u);
  // Division truncates toward zero; the remainder takes the dividend's sign.
  EXPECT_EQ(trapping<Opcode::I32DivS>(r, static_cast<uint32_t>(-7), 2u), kNone);
  EXPECT_EQ(static_cast<int32_t>(r), -3);
  EXPECT_EQ(trapping<Opcode::I32RemS>(r, static_cast<uint32_t>(-7), 2u), kNone);
  EXPECT_EQ(static_cast<int32_t>(r), -1);
  EXPECT_EQ(trapping<Opcode::I32DivU>(r, 0xFFFFFFFFu, 2u), kNone);
  EXPECT_EQ(r, 0x7FFFFFFFu);
  uint64_t q;
  EXPECT_EQ(trapping<Opcode::I64DivS>(q, 0x8000000000000000u, ~uint64_t{0}),
            TrapCode::IntegerOverflow);
  EXPECT_EQ(trapping<Opcode::I64RemS>(q, 0x8000000000000000u, ~uint64_t{0}), kNone);
  EXPECT_EQ(q, 0u);
  EXPECT_EQ(trapping<Opcode::I64RemU>(q, 5u, uint64_t{0}), TrapCode::IntegerDivideByZero);
}

TEST(Numeric, ShiftsAndRotatesTakeTheCountModuloTheWidth) {
  EXPECT_EQ(apply<Opcode::I32Shl>(1u, 32u), 1u);
  EXPECT_EQ(apply<Opcode::I32Shl>(1u, 33u), 2u);
  EXPECT_EQ(apply<Opcode::I32ShrS>(0x80000000u, 31u), 0xFFFFFFFFu);
  EXPECT_EQ(apply<Opcode::I32ShrU>(0x80000000u, 63u), 1u);
  EXPECT_EQ(apply<Opcode::I32Rotl>(0x80000001u, 1u), 3u);
  EXPECT_EQ(apply<Opcode::I32Rotr>(1u, 0xFFFFFFFFu), 2u);  // rotr by 31 == rotl by 1
  EXPECT_EQ(apply<Opcode::I64Shl>(uint64_t{1}, uint64_t{64}), 1u);
  EXPECT_EQ(apply<Opcode::I64ShrS>(uint64_t{1} << 63, uint64_t{127}), ~uint64_t{0});
  EXPECT_EQ(apply<Opcode::I64Rotl>(uint64_t{1} << 63, uint64_t{65}), 1u);
}

TEST(Numeric, BitCountsOfZeroAreTheWidth) {
  EXPECT_EQ(apply<Opcode::I32Clz>(0u), 32u);
  EXPECT_EQ(apply<Opcode::I32Ctz>(0u), 32u);
  EXPECT_EQ(apply<Opcode::I32Popcnt>(0xFFFFFFFFu), 32u);
  EXPECT_EQ(apply<Opcode::I64Clz>(uint64_t{0}), 64u);
  EXPECT_EQ(apply<Opcode::I64Ctz>(uint64_t{1} << 63), 63u);
  EXPECT_EQ(apply<Opcode::I32Extend8S>(0x80u), 0xFFFFFF80u);
  EXPECT_EQ(apply<Opcode::I32Extend16S>(0x17FFFu), 0x7FFFu);
  EXPECT_EQ(apply<Opcode::I64Extend32S>(uint64_t{0x80000000}), 0xFFFFFFFF80000000u);
}

TEST(Numeric, TruncationTrapsExactlyOutsideTheRange) {
  int32_t s;
  uint32_t u;
  EXPECT_EQ(trapping<Opcode::I32TruncF32S>(s, -2147483648.0f), kNone);
  EXPECT_EQ(s, INT32_MIN);
  EXPECT_EQ(trapping<Opcode::I32TruncF32S>(s, 2147483648.0f), TrapCode::IntegerOverflow);
  EXPECT_EQ(trapping<Opcode::I32TruncF32S>(s, -2147483904.0f), TrapCode::IntegerOverflow);
  EXPECT_EQ(trapping<Opcode::I32TruncF32S>(s, std::nanf("")), TrapCode::InvalidConversionToInteger);
  EXPECT_EQ(trapping<Opcode::I32TruncF64S>(s, -2147483648.9), kNone);
  EXPECT_EQ(s, INT32_MIN);
  EXPECT_EQ(trapping<Opcode::I32TruncF64S>(s, 2147483647.9), kNone);
  EXPECT_EQ(s, INT32_MAX);
  EXPECT_EQ(trapping<Opcode::I32TruncF64S>(s, 2147483648.0), TrapCode::IntegerOverflow);
  EXPECT_EQ(trapping<Opcode::I32TruncF64S>(s, -2147483649.0), TrapCode::IntegerOverflow);
  EXPECT_EQ(trapping<Opcode::I32TruncF64U>(u, -0.9), kNone);
  EXPECT_EQ(u, 0u);
  EXPECT_EQ(trapping<Opcode::I32TruncF64U>(u, -1.0), TrapCode::IntegerOverflow);
  EXPECT_EQ(trapping<Opcode::I32TruncF64U>(u, 4294967295.9), kNone);
  EXPECT_EQ(u, 0xFFFFFFFFu);
  EXPECT_EQ(trapping<Opcode::I32TruncF64U>(u, 4294967296.0), TrapCode::IntegerOverflow);
  EXPECT_EQ(trapping<Opcode::I32TruncF32U>(u, std::numeric_limits<float>::infinity()),
            TrapCode::IntegerOverflow);
  int64_t s64;
  uint64_t u64;
  EXPECT_EQ(trapping<Opcode::I64TruncF64S>(s64, -9223372036854775808.0), kNone);
  EXPECT_EQ(s64, INT64_MIN);
  EXPECT_EQ(trapping<Opcode::I64TruncF64S>(s64, 9223372036854775808.0), TrapCode::IntegerOverflow);
  EXPECT_EQ(trapping<Opcode::I64TruncF32U>(u64, 18446744073709551616.0f),
            TrapCode::IntegerOverflow);
  EXPECT_EQ(trapping<Opcode::I64TruncF32U>(u64, 18446742974197923840.0f), kNone);  // 2^64 - 2^40
  EXPECT_EQ(u64, 18446742974197923840u);
  EXPECT_EQ(trapping<Opcode::I64TruncF64U>(u64, -std::nan("")),
            TrapCode::InvalidConversionToInteger);
}

TEST(Numeric, SaturatingTruncationClampsAndMapsNanToZero) {
  EXPECT_EQ(apply<Opcode::I32TruncSatF32S>(std::nanf("")), 0u);
  EXPECT_EQ(apply<Opcode::I32TruncSatF32S>(3e9f), 0x7FFFFFFFu);
  EXPECT_EQ(apply<Opcode::I32TruncSatF32S>(-3e9f), 0x80000000u);
  EXPECT_EQ(apply<Opcode::I32TruncSatF64U>(-1.5), 0u);
  EXPECT_EQ(apply<Opcode::I32TruncSatF64U>(5e9), 0xFFFFFFFFu);
  EXPECT_EQ(apply<Opcode::I32TruncSatF64U>(4294967295.5), 0xFFFFFFFFu);
  EXPECT_EQ(apply<Opcode::I64TruncSatF64S>(-std::numeric_limits<double>::infinity()),
            0x8000000000000000u);
  EXPECT_EQ(apply<Opcode::I64TruncSatF32U>(std::numeric_limits<float>::infinity()), ~uint64_t{0});
  EXPECT_EQ(apply<Opcode::I64TruncSatF64S>(-1.9), ~uint64_t{0});  // -1
}

TEST(Numeric, MinMaxOrderZerosBySignAndPropagateNan) {
  EXPECT_TRUE(std::signbit(apply<Opcode::F32Min>(0.0f, -0.0f)));
  EXPECT_TRUE(std::signbit(apply<Opcode::F32Min>(-0.0f, 0.0f)));
  EXPECT_FALSE(std::signbit(apply<Opcode::F32Max>(-0.0f, 0.0f)));
  EXPECT_FALSE(std::signbit(apply<Opcode::F64Max>(0.0, -0.0)));
  EXPECT_TRUE(std::isnan(apply<Opcode::F32Min>(std::nanf(""), 1.0f)));
  EXPECT_TRUE(std::isnan(apply<Opcode::F64Max>(1.0, std::nan(""))));
  EXPECT_TRUE(
      std::isnan(apply<Opcode::F64Min>(-std::numeric_limits<double>::infinity(), std::nan(""))));
  EXPECT_EQ(apply<Opcode::F64Min>(-1.0, 2.0), -1.0);
}

TEST(Numeric, NearestRoundsHalfToEven) {
  EXPECT_EQ(apply<Opcode::F32Nearest>(0.5f), 0.0f);
  EXPECT_EQ(apply<Opcode::F32Nearest>(1.5f), 2.0f);
  EXPECT_EQ(apply<Opcode::F32Nearest>(2.5f), 2.0f);
  EXPECT_EQ(bits(apply<Opcode::F64Nearest>(-0.5)), bits(-0.0));
  EXPECT_EQ(apply<Opcode::F64Nearest>(4503599627370495.5), 4503599627370496.0);
}

TEST(Numeric, RoundingQuietsSignallingNans) {
  const float snan = f32(0x7FA00000);  // a signalling NaN with payload 0x200000
  for (float r : {apply<Opcode::F32Ceil>(snan), apply<Opcode::F32Floor>(snan),
                  apply<Opcode::F32Trunc>(snan), apply<Opcode::F32Nearest>(snan)}) {
    EXPECT_TRUE(std::isnan(r));
    EXPECT_EQ(bits(r) & 0x00400000u, 0x00400000u) << std::hex << bits(r);  // quiet bit set
  }
  const double snan64 = f64(0x7FF4000000000000);
  EXPECT_EQ(bits(apply<Opcode::F64Floor>(snan64)) & 0x0008000000000000u, 0x0008000000000000u);
}

TEST(Numeric, SignOperationsKeepNanPayloadsBitExact) {
  const float nan = f32(0x7FA00001);
  EXPECT_EQ(bits(apply<Opcode::F32Neg>(nan)), 0xFFA00001u);
  EXPECT_EQ(bits(apply<Opcode::F32Abs>(f32(0xFFA00001))), 0x7FA00001u);
  EXPECT_EQ(bits(apply<Opcode::F32Copysign>(nan, -1.0f)), 0xFFA00001u);
  EXPECT_EQ(bits(apply<Opcode::F64Neg>(f64(0x7FF0000000000001))), 0xFFF0000000000001u);
  EXPECT_EQ(bits(apply<Opcode::F64Copysign>(1.0, -0.0)), bits(-1.0));
}

TEST(Numeric, ConversionsRoundToNearestEven) {
  // 0x8000008000000001 is just above the midpoint between two floats: rounds up.
  EXPECT_EQ(bits(apply<Opcode::F32ConvertI64U>(uint64_t{0x8000008000000001})), 0x5F000001u);
  // Exactly at the midpoint (0x8000008000000000): ties to even, down.
  EXPECT_EQ(bits(apply<Opcode::F32ConvertI64U>(uint64_t{0x8000008000000000})), 0x5F000000u);
  EXPECT_EQ(apply<Opcode::F32ConvertI32U>(0xFFFFFFFFu), 4294967296.0f);
  EXPECT_EQ(apply<Opcode::F64ConvertI64S>(~uint64_t{0}), -1.0);
  // Demoting the largest double gives infinity; a value just past FLT_MAX's rounding range too.
  EXPECT_TRUE(std::isinf(apply<Opcode::F32DemoteF64>(std::numeric_limits<double>::max())));
  EXPECT_TRUE(std::isinf(apply<Opcode::F32DemoteF64>(3.4028235677973366e38)));
  EXPECT_EQ(apply<Opcode::F32DemoteF64>(3.4028234663852886e38), std::numeric_limits<float>::max());
  EXPECT_EQ(apply<Opcode::I32WrapI64>(uint64_t{0x123456789}), 0x23456789u);
  EXPECT_EQ(apply<Opcode::I64ExtendI32S>(0x80000000u), 0xFFFFFFFF80000000u);
  EXPECT_EQ(apply<Opcode::I64ExtendI32U>(0x80000000u), 0x80000000u);
}

TEST(Numeric, ComparisonsTreatNanAsUnordered) {
  const float nan = std::nanf("");
  EXPECT_EQ(apply<Opcode::F32Eq>(nan, nan), 0u);
  EXPECT_EQ(apply<Opcode::F32Ne>(nan, nan), 1u);
  EXPECT_EQ(apply<Opcode::F64Lt>(std::nan(""), 1.0), 0u);
  EXPECT_EQ(apply<Opcode::F64Ge>(std::nan(""), 1.0), 0u);
  EXPECT_EQ(apply<Opcode::F32Eq>(0.0f, -0.0f), 1u);
  EXPECT_EQ(apply<Opcode::I32LtS>(0x80000000u, 0u), 1u);
  EXPECT_EQ(apply<Opcode::I32LtU>(0x80000000u, 0u), 0u);
  EXPECT_EQ(apply<Opcode::I64GeS>(~uint64_t{0}, uint64_t{0}), 0u);
}

}  // namespace
}  // namespace warden
