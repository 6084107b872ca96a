// The validator: invalid modules with their error code and offset; valid ones with the
// FunctionInfo the compiler will use.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "validator/load_module.h"
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
using Code = ValidationErrorCode;

const Bytes kType = B("\x01\x04\x01\x60\x00\x00");  // 8..13
const Bytes kFunc = B("\x03\x02\x01\x00");          // 14..17
const Bytes kEmptyBody = B("\x0a\x04\x01\x02\x00\x0b");

void expect_invalid(const Bytes& bytes, Code code, uint64_t offset, const char* text_start) {
  Module module;
  auto decoded = decode_module(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  module = std::move(decoded).value();
  auto result = validate_module(module);
  ASSERT_FALSE(result.ok()) << "validated";
  EXPECT_EQ(validation_error_name(result.error().code), validation_error_name(code))
      << result.error().message;
  EXPECT_EQ(result.error().offset, offset) << result.error().to_string();
  EXPECT_TRUE(result.error().message.starts_with(text_start)) << result.error().message;
  EXPECT_FALSE(module.validated);
}

Module expect_valid(const Bytes& bytes) {
  auto result = load_module(bytes);
  EXPECT_TRUE(result.ok()) << result.error().to_string();
  return result.ok() ? std::move(result).value() : Module{};
}

TEST(Validator, AddOfF32IsATypeMismatch) {
  // i32.const 1 (23), f32.const 1.0 (25), i32.add (30)
  expect_invalid(module_with_body(B("\x00\x41\x01\x43\x00\x00\x80\x3f\x6a\x1a\x0b")),
                 Code::TypeMismatch, 30, "type mismatch: i32.add: expected i32, found f32");
}

TEST(Validator, UnknownLocal) {
  expect_invalid(module_with_body(B("\x00\x20\x05\x1a\x0b")), Code::UnknownLocal, 23,
                 "unknown local 5");
}

TEST(Validator, UnknownLabel) {
  expect_invalid(module_with_body(B("\x00\x0c\x01\x0b")), Code::UnknownLabel, 23,
                 "unknown label 1");
}

TEST(Validator, GlobalSetOnImmutable) {
  // global section 18..25, code body locals at 30, i32.const at 31, global.set at 33.
  expect_invalid(header() + kType + kFunc + B("\x06\x06\x01\x7f\x00\x41\x00\x0b") +
                     B("\x0a\x08\x01\x06\x00\x41\x01\x24\x00\x0b"),
                 Code::GlobalIsImmutable, 33, "global is immutable");
}

TEST(Validator, AlignmentLargerThanNatural) {
  // memory 18..22; i32.const at 28, i32.load align=8 at 30.
  expect_invalid(header() + kType + kFunc + B("\x05\x03\x01\x00\x01") +
                     B("\x0a\x0a\x01\x08\x00\x41\x00\x28\x03\x00\x1a\x0b"),
                 Code::InvalidAlignment, 30, "alignment must not be larger than natural");
}

TEST(Validator, LoadWithoutMemory) {
  expect_invalid(module_with_body(B("\x00\x41\x00\x28\x02\x00\x1a\x0b")), Code::UnknownMemory, 25,
                 "unknown memory 0");
}

TEST(Validator, LaneIndexOutOfRange) {
  // v128.const (23..40: prefix, code, 16 bytes), i8x16.extract_lane_s 16 at 41.
  const Bytes body = B("\x00\xfd\x0c") + Bytes(16, 0) + B("\xfd\x15\x10\x1a\x0b");
  expect_invalid(module_with_body(body), Code::InvalidLaneIndex, 41, "invalid lane index");
}

TEST(Validator, ShuffleLaneOutOfRange) {
  // two v128.const (23..40, 41..58), i8x16.shuffle with lane 32 at 59.
  Bytes lanes(16, 0);
  lanes[5] = 32;
  const Bytes body = B("\x00\xfd\x0c") + Bytes(16, 0) + B("\xfd\x0c") + Bytes(16, 0) +
                     B("\xfd\x0d") + lanes + B("\x1a\x0b");
  expect_invalid(module_with_body(body), Code::InvalidLaneIndex, 59, "invalid lane index");
}

TEST(Validator, DuplicateExportName) {
  expect_invalid(header() + kType + kFunc +
                     B("\x07\x09\x02\x01"
                       "f"
                       "\x00\x00\x01"
                       "f"
                       "\x00\x00") +
                     kEmptyBody,
                 Code::DuplicateExportName, 25, "duplicate export name");
}

TEST(Validator, TwoMemories) {
  expect_invalid(header() + B("\x05\x05\x02\x00\x01\x00\x01"), Code::MultipleMemories, 10,
                 "multiple memories");
}

TEST(Validator, StartFunctionWithParameters) {
  expect_invalid(header() + B("\x01\x05\x01\x60\x01\x7f\x00") + B("\x03\x02\x01\x00") +
                     B("\x08\x01\x00") + kEmptyBody,
                 Code::StartFunction, 21, "start function");
}

TEST(Validator, UndeclaredFunctionReference) {
  expect_invalid(module_with_body(B("\x00\xd2\x00\x1a\x0b")), Code::UndeclaredFunctionReference, 23,
                 "undeclared function reference");
  // Exporting the function declares it.
  expect_valid(header() + kType + kFunc +
               B("\x07\x05\x01\x01"
                 "f"
                 "\x00\x00") +
               B("\x0a\x07\x01\x05\x00\xd2\x00\x1a\x0b"));
}

TEST(Validator, ConstantExpressionWithAdd) {
  expect_invalid(header() + B("\x06\x09\x01\x7f\x00\x41\x01\x41\x02\x6a\x0b"),
                 Code::ConstantExpressionRequired, 17, "constant expression required");
}

TEST(Validator, GlobalInitializerOfWrongType) {
  expect_invalid(header() + B("\x06\x06\x01\x7f\x00\x42\x00\x0b"), Code::TypeMismatch, 15,
                 "type mismatch");
}

TEST(Validator, MemoryOver65536Pages) {
  expect_invalid(header() + B("\x05\x05\x01\x00\x81\x80\x04"), Code::MemorySizeTooLarge, 10,
                 "memory size must be at most 65536 pages (4GiB)");
}

TEST(Validator, LimitsMinimumAboveMaximum) {
  expect_invalid(header() + B("\x05\x04\x01\x01\x02\x01"), Code::LimitsMinGreaterThanMax, 10,
                 "size minimum must not be greater than maximum");
}

TEST(Validator, IfWithoutElseMustNotProduceValues) {
  // i32.const (23), if (result i32) (25), i32.const (27), end (29)
  expect_invalid(module_with_body(B("\x00\x41\x01\x04\x7f\x41\x01\x0b\x1a\x0b")),
                 Code::TypeMismatch, 29, "type mismatch");
}

TEST(Validator, TypedSelectNeedsOneType) {
  expect_invalid(module_with_body(B("\x00\x41\x01\x41\x02\x41\x00\x1c\x02\x7f\x7f\x1a\x0b")),
                 Code::InvalidResultArity, 29, "invalid result arity");
  expect_valid(module_with_body(B("\x00\x41\x01\x41\x02\x41\x00\x1c\x01\x7f\x1a\x0b")));
}

TEST(Validator, UntypedSelectRejectsReferences) {
  expect_invalid(module_with_body(B("\x00\xd0\x70\xd0\x70\x41\x00\x1b\x1a\x0b")),
                 Code::TypeMismatch, 29, "type mismatch");
}

TEST(Validator, FunctionLeavingAValueIsRejected) {
  expect_invalid(module_with_body(B("\x00\x41\x01\x0b")), Code::TypeMismatch, 25, "type mismatch");
}

TEST(Validator, CodeAfterUnreachableIsPolymorphic) {
  expect_valid(module_with_body(B("\x00\x00\x6a\x1a\x0b")));
  expect_valid(module_with_body(B("\x00\x0c\x00\x6a\x1a\x0b")));  // after br
}

TEST(Validator, BrTableArityMismatch) {
  // block (result i32) (23), block (25), i32.const 0 (27), br_table 0 1 (29): arities differ.
  expect_invalid(
      module_with_body(B("\x00\x02\x7f\x02\x40\x41\x00\x0e\x01\x00\x01\x0b\x41\x00\x0b\x1a\x0b")),
      Code::TypeMismatch, 29, "type mismatch");
}

TEST(Validator, FunctionInfoForTheCompiler) {
  // type 1 = () -> (i32, i32); body: 2 locals i32 + 1 local i64;
  // block (type 1) (i32.const 1) (i32.const 2) end drop drop
  const Bytes bytes = header() + section(1, B("\x02\x60\x00\x00\x60\x00\x02\x7f\x7f")) + kFunc +
                      section(10, B("\x01\x0f\x02\x02\x7f\x01\x7e"
                                    "\x02\x01\x41\x01\x41\x02\x0b\x1a\x1a\x0b"));
  Module m = expect_valid(bytes);
  ASSERT_TRUE(m.validated);
  ASSERT_EQ(m.function_info.size(), 1u);
  const FunctionInfo& info = m.function_info[0];
  EXPECT_EQ(info.locals, (std::vector<ValType>{ValType::I32, ValType::I32, ValType::I64}));
  EXPECT_EQ(info.max_stack_height, 2u);
  EXPECT_EQ(info.max_control_depth, 2u);
  ASSERT_EQ(info.blocks.size(), 1u);
  const uint32_t code_start = m.bodies[0].code.offset;
  EXPECT_EQ(info.blocks[0].offset, code_start);
  EXPECT_EQ(info.blocks[0].end_offset, code_start + 6);
  EXPECT_EQ(info.blocks[0].param_count, 0u);
  EXPECT_EQ(info.blocks[0].result_count, 2u);
}

TEST(Validator, LoopLabelTakesParams) {
  // type 1 = (i32) -> (); i32.const 0, loop (type 1) br 0 end: br to a loop passes its params.
  const Bytes bytes = header() + section(1, B("\x02\x60\x00\x00\x60\x01\x7f\x00")) + kFunc +
                      section(10, B("\x01\x09\x00\x41\x00\x03\x01\x0c\x00\x0b\x0b"));
  Module m = expect_valid(bytes);
  ASSERT_EQ(m.function_info.size(), 1u);
  EXPECT_EQ(m.function_info[0].blocks[0].param_count, 1u);
}

TEST(Validator, DeepNestingUsesNoRecursion) {
  // 100,000 nested blocks: validation must neither recurse nor fail.
  Bytes body = B("\x00");
  for (int i = 0; i < 100'000; ++i) body = body + B("\x02\x40");
  body.insert(body.end(), 100'000, 0x0b);
  body.push_back(0x0b);
  Module m = expect_valid(header() + kType + kFunc +
                          section(10, B("\x01") + test::leb(body.size()) + body));
  ASSERT_EQ(m.function_info.size(), 1u);
  EXPECT_EQ(m.function_info[0].max_control_depth, 100'001u);
  EXPECT_EQ(m.function_info[0].blocks.size(), 100'000u);
}

// load_module leaves the function bodies' encoding to the validator. A malformed body must still
// give exactly the decoder's error, also when the validator would fail earlier in it.
// A module large enough for validation on several threads: `count` functions of type () -> (),
// each `i32.const 7; drop` repeated, with `i32.add` on an empty stack in the bodies of `bad`.
// Each function's i32.add offset goes to `bad_offsets`.
Bytes many_functions(uint32_t count, const std::vector<uint32_t>& bad,
                     std::vector<uint64_t>* bad_offsets = nullptr) {
  Bytes funcs = leb(count);
  for (uint32_t i = 0; i < count; ++i) funcs.push_back(0);
  Bytes bodies;
  std::vector<std::pair<uint32_t, size_t>> marks;  // (function, position of i32.add in bodies)
  for (uint32_t i = 0; i < count; ++i) {
    Bytes code = B("\x00");  // no locals
    const bool invalid = std::find(bad.begin(), bad.end(), i) != bad.end();
    for (int k = 0; k < 100; ++k) {
      if (invalid && k == 50) {
        marks.emplace_back(i, code.size());
        code.push_back(0x6a);  // i32.add with nothing to add
      }
      code = code + B("\x41\x07\x1a");
    }
    code.push_back(0x0b);
    const Bytes size = leb(code.size());
    for (auto& m : marks) {
      if (m.first == i) m.second += bodies.size() + size.size();
    }
    bodies = bodies + size + code;
  }
  const Bytes head = header() + section(1, B("\x01\x60\x00\x00")) + section(3, funcs);
  const Bytes code_payload = leb(count) + bodies;
  const Bytes code_section = Bytes{0x0A} + leb(code_payload.size());
  const size_t bodies_at = head.size() + code_section.size() + leb(count).size();
  if (bad_offsets) {
    for (auto& m : marks) bad_offsets->push_back(bodies_at + m.second);
  }
  return head + code_section + code_payload;
}

TEST(Validator, BodiesOnSeveralThreadsGiveTheSameResultAsOne) {
  const Bytes valid = many_functions(3000, {});  // about 900 KiB of code: several threads
  ASSERT_GT(valid.size(), 800u * 1024);
  auto serial = load_module(valid, {}, {.threads = 1});
  ASSERT_TRUE(serial.ok()) << serial.error().to_string();
  for (unsigned threads : {0u, 2u, 3u, 8u}) {
    auto parallel = load_module(valid, {}, {.threads = threads});
    ASSERT_TRUE(parallel.ok()) << threads << ": " << parallel.error().to_string();
    ASSERT_EQ(parallel->function_info.size(), 3000u);
    for (size_t i = 0; i < 3000; ++i) {
      EXPECT_EQ(parallel->function_info[i].max_stack_height,
                serial->function_info[i].max_stack_height);
      EXPECT_EQ(parallel->function_info[i].locals, serial->function_info[i].locals);
    }
  }
}

TEST(Validator, OnSeveralThreadsTheErrorIsTheFirstInvalidFunctions) {
  // Invalid functions in what would be different threads' ranges: the lowest index is reported
  // whatever the number of threads, and whichever thread finishes first.
  std::vector<uint64_t> offsets;
  const Bytes bytes = many_functions(3000, {2999, 1700, 2400}, &offsets);
  ASSERT_EQ(offsets.size(), 3u);
  const uint64_t first = offsets[0];  // function 1700's i32.add (offsets are in body order)
  for (unsigned threads : {1u, 0u, 2u, 3u, 8u}) {
    for (int run = 0; run < 3; ++run) {
      auto r = load_module(bytes, {}, {.threads = threads});
      ASSERT_FALSE(r.ok()) << threads;
      EXPECT_EQ(r.error().offset(), first) << threads << " threads: " << r.error().to_string();
      EXPECT_TRUE(r.error().message().starts_with(
          "type mismatch: i32.add: expected an operand, found none"))
          << r.error().message();
    }
  }
}

TEST(LoadModule, MalformedBodiesGiveTheDecodersErrorThoughOnlyTheValidatorReadsThem) {
  const Bytes cases[] = {
      module_with_body(B("\x00\x02\x40\x05\x0b\x0b")),  // block, else: else without if
      module_with_body(B("\x00\x05\x0b")),              // else in the function's own frame
      module_with_body(B("\x00\x0b\x01")),              // a nop after the final end
      module_with_body(B("\x00\x01")),                  // no final end
      module_with_body(B("\x00\x6a\xff\x0b")),          // invalid i32.add, then an illegal opcode
  };
  for (const Bytes& bytes : cases) {
    auto decoded = decode_module(bytes);
    ASSERT_FALSE(decoded.ok());
    auto loaded = load_module(bytes);
    ASSERT_FALSE(loaded.ok());
    EXPECT_TRUE(loaded.error().malformed()) << loaded.error().to_string();
    EXPECT_EQ(loaded.error().to_string(), decoded.error().to_string());
  }
}

TEST(LoadModule, AnInvalidModuleGivesTheValidatorsError) {
  const Bytes bytes = module_with_body(B("\x00\x6a\x0b"));  // i32.add without operands
  auto loaded = load_module(bytes);
  ASSERT_FALSE(loaded.ok());
  EXPECT_FALSE(loaded.error().malformed());
  EXPECT_EQ(loaded.error().offset(), 23u);
  EXPECT_TRUE(loaded.error().message().starts_with("type mismatch: i32.add"))
      << loaded.error().message();
}

}  // namespace
}  // namespace warden
