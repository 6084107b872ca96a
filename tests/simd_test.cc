// SIMD through the embedding API: v128 values in every place a value can be (parameters,
// results, locals, globals, blocks, branches, select, Wasm and host calls), memory accesses at
// and past the edge of memory, fuel, relaxed SIMD's chosen results, and the feature switches.
// The spec suites (simd_*.wast, proposals/relaxed-simd) check each instruction's semantics; this
// checks what they cannot see: the layout of v128s among scalars in warden's frames.
// The guest is tests/testdata/simd.wat.
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>

#include "test_binary.h"
#include "test_guest.h"
#include "validator/load_module.h"
#include "vm/simd.h"
#include "vm/store.h"

namespace warden {
namespace {

template <class T, size_t N>
Value v128_of(const std::array<T, N>& lanes) {
  static_assert(sizeof(T) * N == 16);
  uint64_t half[2];
  std::memcpy(half, lanes.data(), 16);
  return Value::v128(half[0], half[1]);
}
Value i32x4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return v128_of(std::array<uint32_t, 4>{a, b, c, d});
}
Value f32x4(float a, float b, float c, float d) {
  return v128_of(std::array<float, 4>{a, b, c, d});
}
Value f64x2(double a, double b) { return v128_of(std::array<double, 2>{a, b}); }
template <class T>
std::array<T, 16 / sizeof(T)> lanes(const Value& v) {
  EXPECT_EQ(v.type, ValType::V128);
  std::array<T, 16 / sizeof(T)> out;
  std::memcpy(out.data(), &v.bits, 8);
  std::memcpy(reinterpret_cast<uint8_t*>(out.data()) + 8, &v.hi, 8);
  return out;
}

struct SimdGuest {
  explicit SimdGuest(EngineConfig config = {}) : engine(config), store(engine) {
    using enum ValType;
    // (i32 a, v128 v, i64 b) -> (v128 with a and b folded in, i32 a * 2)
    linker.define_function(
        "env", "host_swap", FuncType{{I32, V128, I64}, {V128, I32}},
        [](CallContext&, std::span<const Value> args, std::span<Value> results) -> HostResult {
          EXPECT_EQ(args[1].type, V128);
          results[0] = Value::v128(args[1].bits ^ uint32_t(args[0].as_i32()),
                                   args[1].hi ^ uint64_t(args[2].as_i64()));
          results[1] = Value::i32(args[0].as_i32() * 2);
          return {};
        });
    Extern global;
    global.kind = ExternKind::Global;
    global.global = store.create_global(GlobalType{V128, false}, i32x4(10, 20, 30, 40));
    linker.define("env", "imported", global);
    auto compiled = CompiledModule::compile(engine, test::guest_bytes("simd"));
    EXPECT_TRUE(compiled) << compiled.error().to_string();
    module = *compiled;
    auto inst = store.instantiate(module, linker);
    EXPECT_TRUE(inst) << inst.error().message();
    instance = *inst;
  }
  std::vector<Value> call(std::string_view name, std::vector<Value> args) {
    auto r = store.call(*instance, name, args);
    EXPECT_TRUE(r) << name << ": " << r.error().message();
    return r ? *r : std::vector<Value>{};
  }
  ExecError fails(std::string_view name, std::vector<Value> args) {
    auto r = store.call(*instance, name, args);
    EXPECT_FALSE(r) << name << " returned";
    return r ? ExecError{} : r.error();
  }

  Engine engine;
  Store store;
  Linker linker;
  std::shared_ptr<const CompiledModule> module;
  Instance* instance = nullptr;
};

TEST(Simd, ValuesKeepTheirPlacesAmongScalars) {
  SimdGuest g;
  const Value a = i32x4(1, 2, 3, 4), b = i32x4(0xA, 0xB, 0xC, 0xD);
  auto r = g.call("shuffle_args", {Value::i32(-7), a, Value::f64(2.5), b});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], b);
  EXPECT_EQ(r[1], Value::i64(0xFFFFFFF9));
  EXPECT_EQ(r[2], a);
}

TEST(Simd, CallsWithInterleavedScalarsAndVectors) {
  SimdGuest g;
  auto r = g.call("call_mixed", {Value::i32(3), i32x4(100, 200, 300, 400)});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], Value::i32(4));
  // splat(3) ^ i64x2.splat(1 << 32): lanes 3, 3^1, 3, 3^1 = 3, 2, 3, 2.
  EXPECT_EQ(r[1], i32x4(103, 202, 303, 402));
  EXPECT_EQ(r[2], Value::i32(77));  // the caller's local survived the call
}

TEST(Simd, BlocksBranchesAndSelectCarryVectors) {
  SimdGuest g;
  const Value a = i32x4(5, 6, 7, 8), b = i32x4(1, 1, 1, 1);
  EXPECT_EQ(g.call("control", {Value::i32(0), a, b})[0], i32x4(6, 7, 8, 9));  // $one: i8x16.add
  EXPECT_EQ(g.call("control", {Value::i32(1), a, b})[0], i32x4(4, 5, 6, 7));  // $two: the if
  EXPECT_EQ(g.call("control", {Value::i32(2), a, b})[0], a);                  // straight out
  EXPECT_EQ(g.call("control", {Value::i32(9), a, b})[0], a);                  // default
  EXPECT_EQ(g.call("loop_sum", {Value::i32(10)})[0], i32x4(45, 45, 45, 45));
  EXPECT_EQ(g.call("select_v", {Value::i32(1), a, b})[0], a);
  EXPECT_EQ(g.call("select_v", {Value::i32(0), a, b})[0], b);
  EXPECT_EQ(g.call("typed_select", {Value::i32(0), a, b})[0], b);
}

// Values that move by less than their own width (a v128 one slot down, a lane load whose result
// home starts inside its vector operand's): the copies overlap and must still be exact.
TEST(Simd, OverlappingMovesAreExact) {
  SimdGuest g;
  EXPECT_EQ(g.call("shift_down", {i32x4(1, 2, 3, 4)})[0], i32x4(2, 4, 6, 8));
  g.call("store", {Value::i32(0), i32x4(0xAB, 0, 0, 0)});
  EXPECT_EQ(g.call("lane_over_address", {Value::i32(0), i32x4(0x100, 2, 3, 4)})[0],
            i32x4(0x2AB, 4, 6, 8));
}

TEST(Simd, GlobalsImportedAndMutable) {
  SimdGuest g;
  EXPECT_EQ(g.call("bump_global", {})[0], Value::i32(11));
  EXPECT_EQ(g.call("bump_global", {})[0], Value::i32(21));
  const Global* exported = g.instance->find_export("g")->global;
  EXPECT_EQ(exported->value(), i32x4(21, 42, 63, 84));
}

TEST(Simd, HostFunctionsTakeAndReturnVectors) {
  SimdGuest g;
  auto r = g.call("through_host", {i32x4(1, 2, 3, 4)});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], Value::i32(10));
  EXPECT_EQ(r[1], i32x4(1 ^ 5, 2, ~3u, ~4u));
}

TEST(Simd, EmbeddingApiChecksVectorArguments) {
  SimdGuest g;
  auto r = g.store.call(*g.instance, "load", std::vector<Value>{i32x4(0, 0, 0, 0)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ExecError::Kind::Usage);
  EXPECT_NE(r.error().message().find("should be i32, got v128"), std::string::npos)
      << r.error().message();
  EXPECT_EQ(to_string(i32x4(1, 0xFFFFFFFF, 0x10, 0)),
            "v128:0x00000001 0xffffffff 0x00000010 0x00000000");
}

// Hostile addresses: a 16-byte access that does not fit entirely traps, wherever it starts, and
// the effective address is computed without 32-bit wrap-around.
TEST(Simd, MemoryAccessesAreBoundsChecked) {
  SimdGuest g;
  const Value pattern =
      v128_of(std::array<uint8_t, 16>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  g.call("store", {Value::i32(65536 - 16), pattern});
  EXPECT_EQ(g.call("load", {Value::i32(65536 - 16)})[0], pattern);
  EXPECT_EQ(g.call("load_offset", {Value::i32(0)})[0], pattern);
  for (int32_t address : {65536 - 15, 65536 - 1, 65536, -1, -16, 0x7FFFFFFF}) {
    EXPECT_EQ(g.fails("load", {Value::i32(address)}).trap, TrapCode::MemoryOutOfBounds) << address;
    EXPECT_EQ(g.fails("store", {Value::i32(address), pattern}).trap, TrapCode::MemoryOutOfBounds)
        << address;
  }
  EXPECT_EQ(g.fails("load_offset", {Value::i32(1)}).trap, TrapCode::MemoryOutOfBounds);
  EXPECT_EQ(g.fails("load_offset", {Value::i32(-1)}).trap, TrapCode::MemoryOutOfBounds);
  // Narrow accesses are checked by their own width.
  EXPECT_EQ(lanes<uint64_t>(g.call("load64_splat", {Value::i32(65536 - 8)})[0])[1],
            0x0F0E0D0C0B0A0908u);
  EXPECT_EQ(g.fails("load64_splat", {Value::i32(65536 - 7)}).trap, TrapCode::MemoryOutOfBounds);
  EXPECT_EQ(g.call("load32_zero", {Value::i32(65536 - 4)})[0], i32x4(0x0F0E0D0C, 0, 0, 0));
  EXPECT_EQ(g.fails("load32_zero", {Value::i32(65536 - 3)}).trap, TrapCode::MemoryOutOfBounds);
  EXPECT_EQ(lanes<int32_t>(g.call("load16x4_s", {Value::i32(65536 - 8)})[0])[3], 0x0F0E);
  EXPECT_EQ(g.fails("load16x4_s", {Value::i32(65536 - 7)}).trap, TrapCode::MemoryOutOfBounds);
  const Value zero = i32x4(0, 0, 0, 0);
  EXPECT_EQ(lanes<uint8_t>(g.call("load8_lane", {Value::i32(65535), zero})[0])[15], 15);
  EXPECT_EQ(g.fails("load8_lane", {Value::i32(65536), zero}).trap, TrapCode::MemoryOutOfBounds);
  g.call("store64_lane", {Value::i32(65536 - 8), i32x4(1, 2, 3, 4)});
  EXPECT_EQ(lanes<uint32_t>(g.call("load", {Value::i32(65536 - 16)})[0])[2], 3u);
  EXPECT_EQ(g.fails("store64_lane", {Value::i32(65536 - 7), zero}).trap,
            TrapCode::MemoryOutOfBounds);
}

// Every vector instruction is charged like a scalar one: the same budget stops at the same
// point on every run, and a vector loop runs out of fuel.
TEST(Simd, FuelIsChargedAndDeterministic) {
  SimdGuest g(EngineConfig{.fuel = true});
  uint64_t used[2];
  for (uint64_t& u : used) {
    g.store.set_fuel(1'000'000);
    EXPECT_EQ(lanes<float>(g.call("vector_loop", {Value::i32(1000)})[0])[2], 500.0f);
    u = 1'000'000 - g.store.fuel();
  }
  EXPECT_EQ(used[0], used[1]);
  EXPECT_GT(used[0], 1000u * 5);
  g.store.set_fuel(used[0] - 1);
  EXPECT_EQ(g.fails("vector_loop", {Value::i32(1000)}).kind, ExecError::Kind::OutOfFuel);
}

// Relaxed SIMD: one result among the allowed ones, the same on every host (docs/vm.md).
TEST(Simd, RelaxedInstructionsGiveTheDocumentedChoice) {
  SimdGuest g;
  // madd is fused: (1 + 2^-23) * (1 - 2^-23) - 1 is -2^-46 with one rounding, 0 with two.
  const float x = 1.0f + std::ldexp(1.0f, -23), y = 1.0f - std::ldexp(1.0f, -23);
  auto madd = lanes<float>(
      g.call("relaxed_madd", {f32x4(x, 2, 0, 1), f32x4(y, 3, 5, 1), f32x4(-1, 1, -0.0f, 0)})[0]);
  EXPECT_EQ(madd[0], -std::ldexp(1.0f, -46));
  EXPECT_EQ(madd[1], 7.0f);
  EXPECT_EQ(madd[3], 1.0f);
  auto nmadd = lanes<double>(
      g.call("relaxed_nmadd_f64", {f64x2(2, 1.5), f64x2(3, 2), f64x2(1, 0)})[0]);  // -(a*b) + c
  EXPECT_EQ(nmadd[0], -5.0);
  EXPECT_EQ(nmadd[1], -3.0);
  // swizzle: an index past 15 selects 0, whatever its top bit.
  auto sw = lanes<uint8_t>(
      g.call("relaxed_swizzle", {v128_of(std::array<uint8_t, 16>{10, 11, 12, 13, 14, 15, 16, 17, 18,
                                                                 19, 20, 21, 22, 23, 24, 25}),
                                 v128_of(std::array<uint8_t, 16>{0, 15, 16, 0x80, 0xFF, 3, 31, 2, 0,
                                                                 0, 0, 0, 0, 0, 0, 1})})[0]);
  EXPECT_EQ(sw[0], 10);
  EXPECT_EQ(sw[1], 25);
  EXPECT_EQ(sw[2], 0);
  EXPECT_EQ(sw[3], 0);
  EXPECT_EQ(sw[4], 0);
  EXPECT_EQ(sw[5], 13);
  EXPECT_EQ(sw[6], 0);
  EXPECT_EQ(sw[15], 11);
  // trunc saturates and maps NaN to 0.
  EXPECT_EQ(g.call("relaxed_trunc_s", {f32x4(NAN, 3e9f, -3e9f, -2.7f)})[0],
            i32x4(0, 0x7FFFFFFF, 0x80000000, uint32_t(-2)));
  EXPECT_EQ(g.call("relaxed_trunc_u_zero", {f64x2(-1, 5e9)})[0], i32x4(0, 0xFFFFFFFF, 0, 0));
  // laneselect is bitselect: bit by bit, whatever the mask lanes look like.
  EXPECT_EQ(g.call("relaxed_laneselect", {i32x4(0xFFFFFFFF, 0xFFFFFFFF, 0, 0x12345678),
                                          i32x4(0, 0, 0xFFFFFFFF, 0x9ABCDEF0),
                                          i32x4(0x0F0F0F0F, 0xFFFFFFFF, 0, 0xFFFF0000)})[0],
            i32x4(0x0F0F0F0F, 0xFFFFFFFF, 0xFFFFFFFF, 0x1234DEF0));
  // min/max as the non-relaxed ones: NaN in gives NaN, -0 < +0.
  auto mn = lanes<float>(
      g.call("relaxed_min", {f32x4(NAN, 1, -0.0f, 0.0f), f32x4(1, NAN, 0.0f, -0.0f)})[0]);
  EXPECT_TRUE(std::isnan(mn[0]));
  EXPECT_TRUE(std::isnan(mn[1]));
  EXPECT_TRUE(std::signbit(mn[2]));
  EXPECT_TRUE(std::signbit(mn[3]));
  auto mx = lanes<double>(g.call("relaxed_max_f64", {f64x2(-0.0, NAN), f64x2(0.0, 2)})[0]);
  EXPECT_FALSE(std::signbit(mx[0]));
  EXPECT_TRUE(std::isnan(mx[1]));
  // q15mulr saturates -1 * -1.
  auto q =
      lanes<int16_t>(g.call("relaxed_q15", {v128_of(std::array<int16_t, 8>{-32768, 16384}),
                                            v128_of(std::array<int16_t, 8>{-32768, 16384})})[0]);
  EXPECT_EQ(q[0], 32767);
  EXPECT_EQ(q[1], 8192);
  // dot: the second operand's lanes are signed, top bit included.
  auto d = lanes<int16_t>(
      g.call("relaxed_dot", {v128_of(std::array<int8_t, 16>{2, 3, -128, -128, 127, 127}),
                             v128_of(std::array<int8_t, 16>{5, 7, -128, -128, -1, 1})})[0]);
  EXPECT_EQ(d[0], 2 * 5 + 3 * 7);
  EXPECT_EQ(d[1], int16_t(uint16_t(32768)));  // 16384 + 16384 wraps
  EXPECT_EQ(d[2], 0);
  auto da = lanes<int32_t>(g.call(
      "relaxed_dot_add", {v128_of(std::array<int8_t, 16>{1, 2, 3, 4, -128, -128, -128, -128}),
                          v128_of(std::array<int8_t, 16>{1, 1, 1, 1, -128, -128, -128, -128}),
                          i32x4(100, 1, 0, 0)})[0]);
  EXPECT_EQ(da[0], 110);
  // Each pair wraps to 16 bits before the sum (as the 16-bit dot gives them): -32768 twice.
  EXPECT_EQ(da[1], 1 - 65536);
}

// The switches: SIMD off refuses any 0xFD instruction; relaxed SIMD off refuses only its own.
TEST(Simd, FeaturesCanBeTurnedOff) {
  const auto bytes = test::guest_bytes("simd");
  Features no_relaxed;
  no_relaxed.relaxed_simd = false;
  auto r = load_module(bytes, no_relaxed);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("relaxed SIMD"), std::string::npos) << r.error().to_string();
  Features no_simd;
  no_simd.simd = false;
  auto s = load_module(bytes, no_simd);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().to_string().find("SIMD"), std::string::npos) << s.error().to_string();
  EXPECT_TRUE(load_module(bytes, Features{}));
}

// More distinct v128 constants than the frame's constant pool holds: the rest are loaded by an
// instruction each, and every one keeps its value.
TEST(Simd, ConstantsBeyondThePool) {
  using namespace test;
  constexpr uint32_t kCount = 1500;  // 3000 slots: past the 2048 pooled
  Bytes body = B("\x00");            // no locals
  for (uint32_t i = 0; i < kCount; ++i) {
    body = body + B("\xfd\x0c");  // v128.const i32x4 i i i i
    for (int lane = 0; lane < 4; ++lane) {
      for (int k = 0; k < 4; ++k) body.push_back(uint8_t(i >> (8 * k)));
    }
    if (i > 0) body = body + B("\xfd\xae\x01");  // i32x4.add
  }
  body = body + B("\x0b");
  // (func (result v128) ...) exported as "sum"
  const Bytes module = header() + B("\x01\x05\x01\x60\x00\x01\x7b") + B("\x03\x02\x01\x00") +
                       B("\x07\x07\x01\x03sum\x00\x00") +
                       section(0x0A, B("\x01") + leb(body.size()) + body);
  Engine engine;
  auto compiled = CompiledModule::compile(engine, module);
  ASSERT_TRUE(compiled) << compiled.error().to_string();
  Store store(engine);
  Linker linker;
  auto inst = store.instantiate(*compiled, linker);
  ASSERT_TRUE(inst) << inst.error().message();
  auto r = store.call(**inst, "sum", {});
  ASSERT_TRUE(r) << r.error().message();
  const uint32_t sum = kCount * (kCount - 1) / 2;
  EXPECT_EQ((*r)[0], i32x4(sum, sum, sum, sum));
}

// A snapshot carries v128 globals whole (both halves) into a store made for the restore.
TEST(Simd, SnapshotsCarryVectorGlobals) {
  SimdGuest g;
  g.call("bump_global", {});  // g = (11, 22, 33, 44)
  auto snap = g.store.snapshot();
  ASSERT_TRUE(snap) << snap.error().message();
  Store restored(g.engine);
  Linker linker;
  linker.define_function(
      "env", "host_swap",
      FuncType{{ValType::I32, ValType::V128, ValType::I64}, {ValType::V128, ValType::I32}},
      [](CallContext&, std::span<const Value>, std::span<Value>) -> HostResult { return {}; });
  Extern global;
  global.kind = ExternKind::Global;
  global.global = restored.create_global(GlobalType{ValType::V128, false}, i32x4(10, 20, 30, 40));
  linker.define("env", "imported", global);
  auto inst = restored.instantiate(g.module, linker, Store::Segments::Skip);
  ASSERT_TRUE(inst) << inst.error().message();
  auto ok = restored.restore(**snap);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ((*inst)->find_export("g")->global->value(), i32x4(11, 22, 33, 44));
  auto r = restored.call(**inst, "bump_global", {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)[0], Value::i32(21));
}

// swizzle has a portable form and, on x86-64 with SSSE3, a pshufb form chosen at run time: both
// must give the spec's result for every index byte (0..255), so a host never changes a result.
TEST(Simd, SwizzleFormsAgreeOnEveryIndex) {
  uint8_t table[16];
  for (int i = 0; i < 16; ++i) table[i] = uint8_t(0xA0 + i);
  for (int base = 0; base < 256; base += 16) {
    uint8_t index[16], portable[16];
    for (int i = 0; i < 16; ++i) index[i] = uint8_t(base + ((i * 7) & 15));
    simd::swizzle_portable(portable, table, index);
    for (int i = 0; i < 16; ++i) {
      EXPECT_EQ(portable[i], index[i] < 16 ? table[index[i]] : 0) << int(index[i]);
    }
#if defined(__x86_64__) && defined(__GNUC__)
    if (simd::kHaveSsse3) {
      uint8_t fast[16];
      simd::swizzle_ssse3(fast, table, index);
      EXPECT_EQ(std::memcmp(fast, portable, 16), 0) << "indices from " << base;
    }
#endif
  }
}

// The same for i8x16.shuffle's two forms, over lane indices 0..31 in every position.
TEST(Simd, ShuffleFormsAgree) {
  uint8_t a[16], b[16];
  for (int i = 0; i < 16; ++i) a[i] = uint8_t(0x10 + i), b[i] = uint8_t(0x80 + i);
  for (int rotation = 0; rotation < 32; ++rotation) {
    uint8_t lanes[16], from_a[16], from_b[16], portable[16];
    for (int i = 0; i < 16; ++i) {
      lanes[i] = uint8_t((i * 5 + rotation) & 31);
      from_a[i] = lanes[i] < 16 ? lanes[i] : 0x80;
      from_b[i] = lanes[i] < 16 ? 0x80 : uint8_t(lanes[i] - 16);
    }
    simd::shuffle_portable(portable, a, b, from_a, from_b);
    for (int i = 0; i < 16; ++i) {
      EXPECT_EQ(portable[i], lanes[i] < 16 ? a[lanes[i]] : b[lanes[i] - 16]) << int(lanes[i]);
    }
#if defined(__x86_64__) && defined(__GNUC__)
    if (simd::kHaveSsse3) {
      uint8_t fast[16];
      simd::shuffle_ssse3(fast, a, b, from_a, from_b);
      EXPECT_EQ(std::memcmp(fast, portable, 16), 0) << "rotation " << rotation;
    }
#endif
  }
}

}  // namespace
}  // namespace warden
