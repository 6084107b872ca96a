// Round trips of every table generated from opcodes.def.
#include <gtest/gtest.h>

#include <set>

#include "decoder/opcode.h"

namespace warden {
namespace {

// Instruction counts of the WebAssembly 2.0 spec's binary format: 183 single-byte instructions
// (both select encodings included), 18 with the 0xFC prefix, 236 with 0xFD (SIMD); and the 20
// instructions of relaxed SIMD (Wasm 3.0), 0xFD 0x100..0x113.
constexpr size_t kSingleByte = 183, kPrefixFc = 18, kPrefixFd = 236 + 20;

TEST(OpcodeTable, CountsPerPrefix) {
  size_t single = 0, fc = 0, fd = 0;
  for (size_t i = 0; i < kOpcodeCount; ++i) {
    const auto& info = opcode_info(Opcode(i));
    (info.prefix == 0 ? single : info.prefix == 0xFC ? fc : fd)++;
  }
  EXPECT_EQ(single, kSingleByte);
  EXPECT_EQ(fc, kPrefixFc);
  EXPECT_EQ(fd, kPrefixFd);
}

TEST(OpcodeTable, BytesToOpcodeRoundTrip) {
  for (size_t i = 0; i < kOpcodeCount; ++i) {
    const Opcode op = Opcode(i);
    const auto& info = opcode_info(op);
    const auto back = opcode_from_prefixed(info.prefix, info.code);
    ASSERT_TRUE(back.has_value()) << info.text;
    EXPECT_EQ(*back, op) << info.text;
    if (info.prefix == 0) {
      EXPECT_EQ(opcode_from_byte(uint8_t(info.code)), op);
    }
  }
}

TEST(OpcodeTable, TextToOpcodeRoundTrip) {
  for (size_t i = 0; i < kOpcodeCount; ++i) {
    const Opcode op = Opcode(i);
    if (op == Opcode::SelectT) continue;  // shares "select" with Select
    EXPECT_EQ(opcode_from_text(opcode_name(op)), op) << opcode_name(op);
  }
  EXPECT_EQ(opcode_from_text("select"), Opcode::Select);
  EXPECT_FALSE(opcode_from_text("i32.frobnicate").has_value());
}

TEST(OpcodeTable, NamesAreUniqueExceptSelect) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kOpcodeCount; ++i) {
    if (Opcode(i) == Opcode::SelectT) continue;
    EXPECT_TRUE(names.insert(opcode_name(Opcode(i))).second) << opcode_name(Opcode(i));
  }
}

TEST(OpcodeTable, UnassignedBytesAreNotOpcodes) {
  std::set<int> unassigned;
  for (int b = 0x06; b <= 0x0A; ++b) unassigned.insert(b);
  for (int b = 0x12; b <= 0x19; ++b) unassigned.insert(b);
  for (int b = 0x1D; b <= 0x1F; ++b) unassigned.insert(b);
  unassigned.insert(0x27);
  for (int b = 0xC5; b <= 0xCF; ++b) unassigned.insert(b);
  for (int b = 0xD3; b <= 0xFB; ++b) unassigned.insert(b);
  unassigned.insert({0xFC, 0xFD, 0xFE, 0xFF});  // prefixes are not opcodes themselves
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(opcode_from_byte(uint8_t(b)).has_value(), !unassigned.contains(b)) << std::hex << b;
  }
  EXPECT_FALSE(opcode_from_prefixed(0xFC, 18).has_value());
  EXPECT_FALSE(opcode_from_prefixed(0xFC, 1u << 20).has_value());
  for (uint32_t gap : {0x9Au, 0xA2u, 0xA5u, 0xA6u, 0xAFu, 0xB0u, 0xB2u, 0xB3u, 0xB4u, 0xBBu,
                       0xC2u, 0xC5u, 0xC6u, 0xCFu, 0xD0u, 0xD2u, 0xD3u, 0xD4u, 0xE2u, 0xEEu}) {
    EXPECT_FALSE(opcode_from_prefixed(0xFD, gap).has_value()) << std::hex << gap;
  }
  EXPECT_TRUE(opcode_from_prefixed(0xFD, 0x100).has_value());  // relaxed SIMD: 0x100..0x113
  EXPECT_TRUE(opcode_from_prefixed(0xFD, 0x113).has_value());
  EXPECT_FALSE(opcode_from_prefixed(0xFD, 0x114).has_value());
  EXPECT_FALSE(opcode_from_prefixed(0xFD, 1u << 20).has_value());
}

TEST(OpcodeTable, SpotChecks) {
  const auto& add = opcode_info(Opcode::I32Add);
  EXPECT_EQ(add.code, 0x6Au);
  EXPECT_FALSE(add.sig.special);
  ASSERT_EQ(add.sig.param_count, 2);
  EXPECT_EQ(add.sig.params[0], ValType::I32);
  EXPECT_EQ(add.sig.results[0], ValType::I32);

  const auto& store = opcode_info(Opcode::I64Store32);
  EXPECT_EQ(store.code, 0x3Eu);
  EXPECT_EQ(store.imm, ImmKind::MemArg);
  EXPECT_EQ(store.mem_bytes, 4);
  EXPECT_EQ(store.sig.params[1], ValType::I64);
  EXPECT_EQ(store.sig.result_count, 0);

  EXPECT_EQ(opcode_info(Opcode::V128Load16x4U).mem_bytes, 8);
  EXPECT_EQ(opcode_info(Opcode::V128Load16x4U).code, 0x04u);
  EXPECT_EQ(opcode_info(Opcode::I8x16Shuffle).imm, ImmKind::Shuffle);
  EXPECT_EQ(opcode_info(Opcode::V128Load64Lane).imm, ImmKind::MemArgLane);
  EXPECT_EQ(opcode_info(Opcode::V128Load64Lane).mem_bytes, 8);
  EXPECT_EQ(opcode_from_prefixed(0xFD, 0x5F), Opcode::F64x2PromoteLowF32x4);
  EXPECT_EQ(opcode_from_prefixed(0xFD, 0xBA), Opcode::I32x4DotI16x8S);
  EXPECT_EQ(opcode_from_prefixed(0xFD, 0xFF), Opcode::F64x2ConvertLowI32x4U);
  EXPECT_EQ(opcode_from_prefixed(0xFC, 17), Opcode::TableFill);
  EXPECT_TRUE(opcode_info(Opcode::Block).sig.special);
  EXPECT_EQ(opcode_info(Opcode::I8x16ExtractLaneS).sig.results[0], ValType::I32);
}

TEST(OpcodeTable, MemBytesExactlyOnMemoryAccesses) {
  for (size_t i = 0; i < kOpcodeCount; ++i) {
    const auto& info = opcode_info(Opcode(i));
    const bool access = info.imm == ImmKind::MemArg || info.imm == ImmKind::MemArgLane;
    EXPECT_EQ(access, info.mem_bytes != 0) << info.text;
    if (access) {
      EXPECT_TRUE(info.mem_bytes == 1 || info.mem_bytes == 2 || info.mem_bytes == 4 ||
                  info.mem_bytes == 8 || info.mem_bytes == 16);
    }
  }
}

TEST(OpcodeTable, ImmediateKindNames) {
  for (int k = 0; k <= static_cast<int>(ImmKind::MemArgLane); ++k) {
    EXPECT_STRNE(imm_kind_name(ImmKind(k)), "?");
  }
}

}  // namespace
}  // namespace warden
