// Hand-built malformed binaries. Each states the bytes, the error code and the byte offset the
// decoder must report (wabt style: the expectation next to the bytes), and the spec text the
// message must start with.
#include <gtest/gtest.h>

#include "decoder/module_decoder.h"
#include "test_binary.h"

namespace warden {
namespace {

using test::B;
using test::Bytes;
using test::header;
using test::leb;
using test::module_with_body;
using test::section;
using test::operator+;
using Code = DecodeErrorCode;

struct BadBinary {
  const char* name;
  Bytes bytes;
  Code code;
  uint64_t offset;
};

const Bytes kType = B("\x01\x04\x01\x60\x00\x00");  // offsets 8..13
const Bytes kFunc = B("\x03\x02\x01\x00");          // offsets 14..17

std::vector<BadBinary> cases() {
  return {
      // ---- header ----
      {"empty file", {}, Code::UnexpectedEnd, 0x0},
      {"truncated magic", B("\0as"), Code::UnexpectedEnd, 0x3},
      {"wrong magic", B("\0asn\1\0\0\0"), Code::MagicMismatch, 0x0},
      {"wrong version", B("\0asm\2\0\0\0"), Code::VersionMismatch, 0x4},
      {"truncated version", B("\0asm\1\0"), Code::UnexpectedEnd, 0x6},
      // ---- section framing ----
      {"section id 13", header() + B("\x0d\x00"), Code::MalformedSectionId, 0x8},
      {"section id 255", header() + B("\xff\x00"), Code::MalformedSectionId, 0x8},
      {"section size past end of module", header() + B("\x01\xff\x01"), Code::LengthOutOfBounds,
       0x9},
      {"section longer than its content", header() + B("\x01\x05\x01\x60\x00\x00\x00"),
       Code::SectionSizeMismatch, 0xe},
      {"function section before type section", header() + B("\x03\x01\x00\x01\x01\x00"),
       Code::SectionOutOfOrder, 0xb},
      {"duplicate type section", header() + B("\x01\x01\x00\x01\x01\x00"), Code::DuplicateSection,
       0xb},
      {"data count section after code section", header() + B("\x0a\x01\x00\x0c\x01\x00"),
       Code::SectionOutOfOrder, 0xb},
      // ---- cross-section counts ----
      {"function without code section", header() + kType + kFunc, Code::FunctionCodeMismatch, 0x12},
      {"code without function section", header() + kType + B("\x0a\x04\x01\x02\x00\x0b"),
       Code::FunctionCodeMismatch, 0x10},
      {"data count 2, data section with 0",
       header() + B("\x05\x03\x01\x00\x01") + B("\x0c\x01\x02") + B("\x0b\x01\x00"),
       Code::DataCountMismatch, 0x12},
      {"data count 1, no data section", header() + B("\x05\x03\x01\x00\x01") + B("\x0c\x01\x01"),
       Code::DataCountMismatch, 0x10},
      {"data.drop without data count section", module_with_body(B("\x00\xfc\x09\x00\x0b")),
       Code::DataCountRequired, 0x17},
      {"memory.init without data count section",
       module_with_body(B("\x00\x41\x00\x41\x00\x41\x00\xfc\x08\x00\x00\x0b")),
       Code::DataCountRequired, 0x1d},
      // ---- LEB128 ----
      {"type count with 6 bytes", header() + B("\x01\x06\x80\x80\x80\x80\x80\x00"),
       Code::IntegerTooLong, 0xe},
      {"type count with unused bits set", header() + B("\x01\x05\xff\xff\xff\xff\x1f"),
       Code::IntegerTooLarge, 0xe},
      {"i32.const with unused bits not a sign extension",
       module_with_body(B("\x00\x41\xff\xff\xff\xff\x4f\x1a\x0b")), Code::IntegerTooLarge, 0x1c},
      // ---- types, imports, exports ----
      {"import kind 4",
       header() + kType +
           B("\x02\x07\x01\x01"
             "m"
             "\x01"
             "f"
             "\x04\x00"),
       Code::MalformedImportKind, 0x15},
      {"export kind 4",
       header() + B("\x07\x05\x01\x01"
                    "e"
                    "\x04\x00"),
       Code::MalformedExportKind, 0xd},
      {"global mutability 2", header() + B("\x06\x06\x01\x7f\x02\x41\x00\x0b"),
       Code::MalformedMutability, 0xc},
      {"parameter of type 0x7a", header() + B("\x01\x05\x01\x60\x01\x7a\x00"),
       Code::MalformedValueType, 0xd},
      {"function type form 0x61", header() + B("\x01\x04\x01\x61\x00\x00"), Code::MalformedFuncType,
       0xb},
      {"function type form as 2-byte LEB", header() + B("\x01\x05\x01\xe0\x7f\x00\x00"),
       Code::IntegerTooLong, 0xb},
      {"table of type 0x7f", header() + B("\x04\x04\x01\x7f\x00\x00"), Code::MalformedReferenceType,
       0xb},
      {"memory limits flags 2", header() + B("\x05\x03\x01\x02\x00"), Code::MalformedLimits, 0xb},
      {"memory limits flags as LEB", header() + B("\x05\x04\x01\x81\x00\x00"), Code::IntegerTooLong,
       0xb},
      {"table minimum over 10,000,000", header() + B("\x04\x07\x01\x70\x00\x81\xad\xe2\x04"),
       Code::ImplementationLimit, 0xd},
      // ---- names ----
      {"import module name 0xff",
       header() + kType +
           B("\x02\x07\x01\x01\xff\x01"
             "f"
             "\x00\x00"),
       Code::MalformedUtf8, 0x11},
      {"export name lone 0xc0", header() + B("\x07\x05\x01\x01\xc0\x00\x00"), Code::MalformedUtf8,
       0xb},
      {"custom section name overlong NUL", header() + B("\x00\x03\x02\xc0\x80"),
       Code::MalformedUtf8, 0xa},
      {"custom section name surrogate", header() + B("\x00\x04\x03\xed\xa0\x80"),
       Code::MalformedUtf8, 0xa},
      {"custom section name past its section",
       header() + B("\x00\x03\x05"
                    "ab"),
       Code::LengthOutOfBounds, 0xa},
      // ---- function bodies ----
      {"50,001 locals", module_with_body(B("\x02\xd0\x86\x03\x7f\x01\x7f\x0b")),
       Code::TooManyLocals, 0x1b},
      {"local count near 2^32", module_with_body(B("\x01\xff\xff\xff\xff\x0f\x7f\x0b")),
       Code::TooManyLocals, 0x17},
      {"body size past its section", header() + kType + kFunc + B("\x0a\x04\x01\x10\x00\x0b"),
       Code::UnexpectedEndOfSection, 0x16},
      {"last body without end", module_with_body(B("\x00\x01")), Code::UnexpectedEndOfSection,
       0x18},
      {"body without end, another follows",
       header() + kType + B("\x03\x03\x02\x00\x00") + B("\x0a\x07\x02\x02\x00\x01\x02\x00\x0b"),
       Code::EndOpcodeExpected, 0x19},
      {"bytes after the final end", module_with_body(B("\x00\x0b\x01")), Code::JunkAfterEnd, 0x18},
      {"else outside if", module_with_body(B("\x00\x05\x0b")), Code::ElseWithoutIf, 0x17},
      {"illegal opcode 0x06", module_with_body(B("\x00\x06\x0b")), Code::IllegalOpcode, 0x17},
      {"illegal opcode 0xfc 0x20", module_with_body(B("\x00\xfc\x20\x0b")), Code::IllegalOpcode,
       0x17},
      {"illegal opcode 0xfd 0x114", module_with_body(B("\x00\xfd\x94\x02\x0b")),
       Code::IllegalOpcode, 0x17},
      {"memory.size reserved byte 1", module_with_body(B("\x00\x3f\x01\x1a\x0b")),
       Code::ZeroByteExpected, 0x18},
      {"memory.grow reserved byte as 2-byte LEB",
       module_with_body(B("\x00\x41\x00\x40\x80\x00\x1a\x0b")), Code::ZeroByteExpected, 0x1a},
      {"memarg with memory-index flag", module_with_body(B("\x00\x41\x00\x28\x40\x00\x1a\x0b")),
       Code::MalformedMemop, 0x1a},
      {"memarg alignment 2^32", module_with_body(B("\x00\x41\x00\x28\x20\x00\x1a\x0b")),
       Code::MalformedMemop, 0x1a},
      {"block type 0x7a", module_with_body(B("\x00\x02\x7a\x0b\x0b")), Code::MalformedValueType,
       0x18},
      {"block type -1 in 2 bytes", module_with_body(B("\x00\x02\xff\x7f\x0b\x0b")),
       Code::MalformedValueType, 0x18},
      {"ref.null of type 0x7f", module_with_body(B("\x00\xd0\x7f\x1a\x0b")),
       Code::MalformedReferenceType, 0x18},
      {"select type count with 6 bytes",
       module_with_body(B("\x00\x1c\x80\x80\x80\x80\x80\x00\x0b")), Code::IntegerTooLong, 0x1c},
      {"br_table with 1,000,001 targets", module_with_body(B("\x00\x0e\xc1\x84\x3d")),
       Code::ImplementationLimit, 0x18},
      {"i32.const cut short", module_with_body(B("\x00\x41\x80")), Code::UnexpectedEndOfSection,
       0x19},
      // ---- segments and constant expressions ----
      {"element segment flags 8", header() + B("\x09\x02\x01\x08"), Code::MalformedSegmentFlags,
       0xb},
      {"data segment flags 3", header() + B("\x0b\x02\x01\x03"), Code::MalformedSegmentFlags, 0xb},
      {"element kind 1", header() + B("\x09\x04\x01\x01\x01\x00"), Code::MalformedElemKind, 0xc},
      {"global initializer cut short", header() + B("\x06\x04\x01\x7f\x00\x41"),
       Code::UnexpectedEndOfSection, 0xe},
      {"data segment longer than its section",
       header() + B("\x05\x03\x01\x00\x01") + B("\x0b\x07\x01\x00\x41\x00\x0b\x09\x00"),
       Code::UnexpectedEndOfSection, 0x14},
      // ---- implementation limits: refused from the count, before reading entries ----
      {"1,000,001 types", header() + B("\x01\x03\xc1\x84\x3d"), Code::ImplementationLimit, 0xa},
      {"1,001 parameters", header() + B("\x01\x04\x01\x60\xe9\x07"), Code::ImplementationLimit,
       0xc},
      {"100,001 imports", header() + B("\x02\x03\xa1\x8d\x06"), Code::ImplementationLimit, 0xa},
      {"function body over 7,654,321 bytes",
       header() + kType + kFunc + section(0x0a, B("\x01") + leb(7654322)),
       Code::ImplementationLimit, 0x15},
  };
}

class BadBinaryTest : public ::testing::TestWithParam<BadBinary> {};

TEST_P(BadBinaryTest, ReportsCodeAndOffset) {
  const BadBinary& c = GetParam();
  auto result = decode_module(c.bytes);
  ASSERT_FALSE(result.ok()) << c.name << ": decoded without error";
  const DecodeError& e = result.error();
  EXPECT_EQ(decode_error_name(e.code), decode_error_name(c.code)) << c.name << ": " << e.message;
  EXPECT_EQ(e.offset, c.offset) << c.name << ": " << e.to_string();
  EXPECT_TRUE(e.message.starts_with(decode_error_text(c.code))) << e.message;
  EXPECT_NE(e.to_string().find("decode error at offset 0x"), std::string::npos);
}

std::string case_name(const ::testing::TestParamInfo<BadBinary>& info) {
  std::string name;
  for (const char* p = info.param.name; *p; ++p) {
    name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Decoder, BadBinaryTest, ::testing::ValuesIn(cases()), case_name);

TEST(BadBinary, AtLeastFortyCases) { EXPECT_GE(cases().size(), 40u); }

TEST(BadBinary, EveryPrefixOfAValidModuleFailsCleanly) {
  // Truncating a valid module anywhere must give an error, never a crash or a module.
  const Bytes full = module_with_body(B("\x01\x01\x7f\x41\x2a\x21\x00\x0b"));
  ASSERT_TRUE(decode_module(full).ok());
  for (size_t n = 0; n < full.size(); ++n) {
    Bytes prefix(full.begin(), full.begin() + n);
    auto result = decode_module(prefix);
    if (n == 8 || n == 14) {  // the bare header; header + type section
      EXPECT_TRUE(result.ok()) << "prefix of " << n << " bytes ends between sections";
      continue;
    }
    EXPECT_FALSE(result.ok()) << "prefix of " << n << " bytes decoded";
  }
}

TEST(BadBinary, SectionAndIndexAreReported) {
  // The second import has a bad kind: section = import, index = 1.
  const Bytes bytes = header() + kType +
                      B("\x02\x0c\x02\x01"
                        "m"
                        "\x01"
                        "f"
                        "\x00\x00\x01"
                        "m"
                        "\x01"
                        "g"
                        "\x05");
  auto result = decode_module(bytes);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::MalformedImportKind);
  EXPECT_EQ(result.error().section, SectionId::Import);
  EXPECT_EQ(result.error().index, 1u);
}

TEST(CustomSections, GarbageContentIsNotAnError) {
  auto result = decode_module(header() + B("\x00\x06\x03"
                                           "abc"
                                           "\xff\x00"));
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  ASSERT_EQ(result->sections.size(), 1u);
  EXPECT_EQ(result->sections[0].custom_name, "abc");
}

TEST(CustomSections, MalformedNameSectionIsIgnored) {
  // A "name" section whose function-names subsection claims 9 bytes but has 2.
  auto result = decode_module(header() + B("\x00\x08\x04"
                                           "name"
                                           "\x01\x09\x01"));
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_TRUE(result->names.function_names.empty());
}

}  // namespace
}  // namespace warden
