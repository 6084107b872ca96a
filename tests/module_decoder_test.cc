// Positive decoding: every section of a hand-built module lands in the right Module field.
#include <gtest/gtest.h>

#include "decoder/module_decoder.h"
#include "test_binary.h"

namespace warden {
namespace {

using test::B;
using test::Bytes;
using test::header;
using test::section;
using test::operator+;

Bytes full_module() {
  return header() +
         section(1, B("\x02\x60\x00\x00\x60\x01\x7f\x01\x7f")) +  // () -> (), (i32) -> (i32)
         section(2, B("\x04"
                      "\x03"
                      "env"
                      "\x01"
                      "f"
                      "\x00\x01"  // func of type 1
                      "\x03"
                      "env"
                      "\x01"
                      "t"
                      "\x01\x70\x00\x01"  // table funcref min 1
                      "\x03"
                      "env"
                      "\x01"
                      "m"
                      "\x02\x01\x01\x02"  // memory 1..2
                      "\x03"
                      "env"
                      "\x01"
                      "g"
                      "\x03\x7f\x00")) +              // global const i32
         section(3, B("\x01\x00")) +                  // function 1: type 0
         section(6, B("\x01\x7e\x01\x42\x05\x0b")) +  // global mut i64 = 5
         section(7, B("\x02\x03"
                      "run"
                      "\x00\x01\x03"
                      "mem"
                      "\x02\x00")) +
         section(8, B("\x01")) +  // start: function 1
         section(9, B("\x02"
                      "\x00\x41\x00\x0b\x01\x01"           // active, table 0, [1]
                      "\x01\x00\x02\x00\x01")) +           // passive, [0, 1]
         section(12, B("\x02")) +                          // data count 2
         section(10, B("\x01\x05\x01\x02\x7f\x01\x0b")) +  // 2 i32 locals; nop
         section(11, B("\x02"
                       "\x00\x41\x00\x0b\x02"
                       "hi"  // active at 0
                       "\x01\x03"
                       "abc")) +  // passive
         section(0, B("\x04"
                      "name"
                      "\x00\x04\x03"
                      "mod"
                      "\x01\x06\x01\x01\x03"
                      "run"));
}

TEST(ModuleDecoder, EverySection) {
  const Bytes bytes = full_module();
  auto result = decode_module(bytes);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const Module& m = *result;

  ASSERT_EQ(m.types.size(), 2u);
  EXPECT_EQ(m.types[1].params, std::vector<ValType>{ValType::I32});

  ASSERT_EQ(m.imports.size(), 4u);
  EXPECT_EQ(m.imports[0].module, "env");
  EXPECT_EQ(m.imports[0].name, "f");
  EXPECT_EQ(m.imports[0].kind, ExternKind::Func);
  EXPECT_EQ(m.imports[1].kind, ExternKind::Table);
  EXPECT_EQ(m.imports[2].memory.limits.max, std::optional<uint64_t>(2));
  EXPECT_FALSE(m.imports[3].global.is_mutable);

  EXPECT_EQ(m.functions.size(), 2u);
  EXPECT_EQ(m.functions_imported, 1u);
  EXPECT_EQ(m.functions[0], TypeIdx(1));
  EXPECT_EQ(m.functions[1], TypeIdx(0));
  EXPECT_EQ(m.tables_imported, 1u);
  EXPECT_EQ(m.memories_imported, 1u);
  ASSERT_EQ(m.globals.size(), 2u);
  EXPECT_EQ(m.globals_imported, 1u);
  EXPECT_TRUE(m.globals[1].is_mutable);
  EXPECT_EQ(m.globals[1].type, ValType::I64);
  ASSERT_EQ(m.global_inits.size(), 1u);
  EXPECT_EQ(m.global_inits[0].range.size, 3u);  // i64.const 5, end

  ASSERT_EQ(m.exports.size(), 2u);
  EXPECT_EQ(m.exports[0].name, "run");
  EXPECT_EQ(m.exports[0].index, 1u);
  EXPECT_EQ(m.exports[1].kind, ExternKind::Memory);
  EXPECT_EQ(m.start, std::optional<FuncIdx>(FuncIdx(1)));

  ASSERT_EQ(m.elems.size(), 2u);
  EXPECT_EQ(m.elems[0].mode, SegmentMode::Active);
  EXPECT_EQ(m.elems[0].func_indices, std::vector<FuncIdx>{FuncIdx(1)});
  EXPECT_EQ(m.elems[1].mode, SegmentMode::Passive);
  EXPECT_EQ(m.elems[1].size(), 2u);

  EXPECT_EQ(m.data_count, std::optional<uint32_t>(2));
  ASSERT_EQ(m.bodies.size(), 1u);
  EXPECT_EQ(m.bodies[0].local_count, 2u);
  EXPECT_EQ(m.bodies[0].code.size, 2u);  // nop, end

  ASSERT_EQ(m.datas.size(), 2u);
  EXPECT_EQ(m.bytes_of(m.datas[0].init), "hi");
  EXPECT_EQ(m.datas[1].mode, SegmentMode::Passive);
  EXPECT_EQ(m.bytes_of(m.datas[1].init), "abc");

  EXPECT_EQ(m.names.module_name, std::optional<std::string>("mod"));
  EXPECT_EQ(m.names.function_names.at(1), "run");

  // Sections in order of appearance, with offsets that point at their ids.
  ASSERT_EQ(m.sections.size(), 11u);
  for (const SectionInfo& s : m.sections) {
    EXPECT_EQ(bytes[s.header_offset], static_cast<uint8_t>(s.id));
    EXPECT_LE(s.payload.end(), bytes.size());
  }
  EXPECT_EQ(m.sections.back().custom_name, "name");
}

TEST(ModuleDecoder, AllElementSegmentEncodings) {
  // flags 0..7, each with one item; tables and functions need not exist to decode.
  const Bytes elems =
      B("\x08"
        "\x00\x41\x00\x0b\x01\x00"                  // 0: active, funcidx
        "\x01\x00\x01\x00"                          // 1: passive, elemkind
        "\x02\x01\x41\x00\x0b\x00\x01\x00"          // 2: active, table 1, elemkind
        "\x03\x00\x01\x00"                          // 3: declarative, elemkind
        "\x04\x41\x00\x0b\x01\xd2\x00\x0b"          // 4: active, exprs
        "\x05\x70\x01\xd0\x70\x0b"                  // 5: passive, reftype, exprs
        "\x06\x01\x41\x00\x0b\x6f\x01\xd0\x6f\x0b"  // 6: active table 1
        "\x07\x70\x01\xd2\x00\x0b");                // 7: declarative, exprs
  auto result = decode_module(header() + section(9, elems));
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const auto& e = result->elems;
  ASSERT_EQ(e.size(), 8u);
  const SegmentMode modes[] = {
      SegmentMode::Active, SegmentMode::Passive, SegmentMode::Active, SegmentMode::Declarative,
      SegmentMode::Active, SegmentMode::Passive, SegmentMode::Active, SegmentMode::Declarative};
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(e[i].mode, modes[i]) << i;
    EXPECT_EQ(e[i].uses_exprs, i >= 4) << i;
    EXPECT_EQ(e[i].size(), 1u) << i;
  }
  EXPECT_EQ(e[2].table, TableIdx(1));
  EXPECT_EQ(e[6].type, ValType::ExternRef);
}

}  // namespace
}  // namespace warden
