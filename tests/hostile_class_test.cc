// The hostile-class regression suite: one or more tests per bug class of
// ../shared/hostile-classes.md (bugs found in other Wasm runtimes), each named after its class.
// Every test feeds warden a hostile module (hand-built bytes, or tests/testdata/hostile_*.wat)
// and asserts the exact outcome: the error code and offset, the trap code, the result values.
// tests/README.md maps each class to its tests and says why a class does not apply.
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

#include "decoder/module_decoder.h"
#include "hostabi/plugin.h"
#include "test_binary.h"
#include "validator/load_module.h"
#include "vm/store.h"

namespace warden {
namespace {

using test::B;
using test::Bytes;
using test::header;
using test::leb;
using test::module_with_body;
using test::section;
using test::operator+;
using DCode = DecodeErrorCode;
using VCode = ValidationErrorCode;
using enum ValType;

// ---------------------------------------------------------------------------------------------
// Helpers

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), {}};
}
Bytes guest(const std::string& name) {
  return read_file(std::string(WARDEN_TEST_DATA) + "/" + name);
}

// Signed LEB128 (for block types given as a type index, s33).
Bytes sleb(int64_t value) {
  Bytes out;
  for (;;) {
    uint8_t byte = value & 0x7F;
    value >>= 7;
    const bool done = (value == 0 && !(byte & 0x40)) || (value == -1 && (byte & 0x40));
    out.push_back(done ? byte : byte | 0x80);
    if (done) return out;
  }
}
Bytes vec(uint32_t count, const Bytes& items) { return leb(count) + items; }
Bytes name(std::string_view s) { return leb(s.size()) + Bytes(s.begin(), s.end()); }
// A code section entry: size, then the body (locals and instructions).
Bytes code_entry(const Bytes& body) { return leb(body.size()) + body; }

// The decode error of `bytes` through the full load path (decoder + validator), or a failure.
::testing::AssertionResult malformed_with(const Bytes& bytes, DCode code, const char* what) {
  auto r = load_module(bytes);
  if (r.ok()) return ::testing::AssertionFailure() << what << ": loaded without error";
  if (!r.error().malformed())
    return ::testing::AssertionFailure()
           << what << ": invalid, not malformed: " << r.error().to_string();
  const auto& e = std::get<DecodeError>(r.error().error);
  if (e.code != code)
    return ::testing::AssertionFailure()
           << what << ": expected " << decode_error_name(code) << ", got " << e.to_string();
  if (!e.message.starts_with(decode_error_text(code)))
    return ::testing::AssertionFailure() << what << ": message " << e.message;
  return ::testing::AssertionSuccess();
}
::testing::AssertionResult invalid_with(const Bytes& bytes, VCode code, const char* what) {
  auto r = load_module(bytes);
  if (r.ok()) return ::testing::AssertionFailure() << what << ": loaded without error";
  if (r.error().malformed())
    return ::testing::AssertionFailure()
           << what << ": malformed, not invalid: " << r.error().to_string();
  const auto& e = std::get<ValidationError>(r.error().error);
  if (e.code != code)
    return ::testing::AssertionFailure()
           << what << ": expected " << validation_error_name(code) << ", got " << e.to_string();
  if (!e.message.starts_with(validation_error_text(code)))
    return ::testing::AssertionFailure() << what << ": message " << e.message;
  return ::testing::AssertionSuccess();
}

// Section boundaries of a well-formed module: the offsets where a prefix ends between sections.
std::vector<size_t> section_boundaries(const Bytes& m) {
  std::vector<size_t> out{8};
  size_t p = 8;
  while (p < m.size()) {
    ++p;  // id
    uint64_t size = 0;
    for (int shift = 0;; shift += 7) {
      const uint8_t b = m[p++];
      size |= uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80)) break;
    }
    p += size;
    out.push_back(p);
  }
  return out;
}

// A Store with one module instantiated, through the embedding API.
struct Runner {
  explicit Runner(const Bytes& bytes, EngineConfig config = {},
                  std::function<void(Linker&, Instance* const*)> imports = {})
      : engine(std::make_unique<Engine>(config)), store(std::make_unique<Store>(*engine)) {
    auto compiled = CompiledModule::compile(*engine, bytes);
    if (!compiled) {
      ADD_FAILURE() << compiled.error().to_string();
      return;
    }
    module = *compiled;
    if (imports) imports(linker, &instance);
    auto inst = store->instantiate(module, linker);
    if (!inst) {
      ADD_FAILURE() << inst.error().message();
      return;
    }
    instance = *inst;
  }
  Result<std::vector<Value>, ExecError> call(std::string_view name, std::vector<Value> args = {}) {
    return store->call(*instance, name, args);
  }
  // The single i32 result, or a test failure.
  int32_t i32(std::string_view name, std::vector<Value> args = {}) {
    auto r = call(name, std::move(args));
    EXPECT_TRUE(r) << name << ": " << r.error().message();
    return r && !r->empty() ? (*r)[0].as_i32() : INT32_MIN;
  }
  int64_t i64(std::string_view name, std::vector<Value> args = {}) {
    auto r = call(name, std::move(args));
    EXPECT_TRUE(r) << name << ": " << r.error().message();
    return r && !r->empty() ? (*r)[0].as_i64() : INT64_MIN;
  }
  bool ok(std::string_view name, std::vector<Value> args = {}) {
    auto r = call(name, std::move(args));
    EXPECT_TRUE(r) << name << ": " << r.error().message();
    return bool(r);
  }
  // The trap code of a call that must trap (Unsupported when it did not).
  TrapCode trap(std::string_view name, std::vector<Value> args = {}) {
    auto r = call(name, std::move(args));
    EXPECT_FALSE(r) << name << " returned";
    if (r) return TrapCode::Unsupported;
    EXPECT_EQ(r.error().kind, ExecError::Kind::Trap) << r.error().message();
    return r.error().trap;
  }

  std::unique_ptr<Engine> engine;
  std::unique_ptr<Store> store;
  Linker linker;
  std::shared_ptr<const CompiledModule> module;
  Instance* instance = nullptr;
};

Value I(int32_t v) { return Value::i32(v); }
Value U(uint32_t v) { return Value::i32(static_cast<int32_t>(v)); }

// The host imports of hostile_exec.wat: host_grow grows the caller's memory; reenter calls the
// guest's "down" again (unbounded guest -> host -> guest recursion).
void exec_imports(Linker& l, Instance* const* instance) {
  l.define_function(
      "env", "host_grow", FuncType{{I32}, {I32}},
      [](CallContext& ctx, std::span<const Value> args, std::span<Value> results) -> HostResult {
        results[0] = Value::i32(ctx.memory()->grow(args[0].as_i32()));
        return {};
      });
  l.define_function("env", "reenter", FuncType{{I32}, {I32}},
                    [instance](CallContext& ctx, std::span<const Value> args,
                               std::span<Value> results) -> HostResult {
                      const Value arg[] = {args[0]};
                      auto r = ctx.store.call(**instance, "down", arg);
                      if (!r) return Failure{r.take_error()};
                      results[0] = (*r)[0];
                      return {};
                    });
}
struct Exec : Runner {
  explicit Exec(EngineConfig config = {})
      : Runner(guest("hostile_exec.wasm"), config, exec_imports) {}
};

// ---------------------------------------------------------------------------------------------
// A small module builder for the decode and index classes. Sections are given as payloads.

struct ModuleParts {
  Bytes types = vec(2, B("\x60\x00\x00\x60\x01\x7f\x01\x7f"));  // 0: () -> (), 1: (i32) -> (i32)
  Bytes imports;
  Bytes functions = vec(1, B("\x00"));
  Bytes tables = vec(1, B("\x70\x00\x01"));           // funcref, min 1
  Bytes memories = vec(1, B("\x00\x01"));             // min 1
  Bytes globals = vec(1, B("\x7f\x00\x41\x00\x0b"));  // immutable i32 = 0
  Bytes exports;
  Bytes start;
  Bytes elems = vec(1, B("\x01\x00\x01\x00"));  // passive, funcref, [func 0]
  Bytes datacount = B("\x01");
  Bytes body = B("\x00\x0b");           // the one function's body
  Bytes data = vec(1, B("\x01\x01x"));  // passive, "x"

  Bytes build() const {
    Bytes m = header() + section(1, types);
    if (!imports.empty()) m = m + section(2, imports);
    m = m + section(3, functions) + section(4, tables) + section(5, memories) + section(6, globals);
    if (!exports.empty()) m = m + section(7, exports);
    if (!start.empty()) m = m + section(8, start);
    m = m + section(9, elems);
    if (!datacount.empty()) m = m + section(12, datacount);
    return m + section(10, vec(1, code_entry(body))) + section(11, data);
  }
};
Bytes with_body(const Bytes& body) {
  ModuleParts p;
  p.body = body;
  return p.build();
}

// ---------------------------------------------------------------------------------------------
// Class 1: a section or vector length runs past the buffer (wasm3#153, a name read past the end).

TEST(HostileClass, C01_LengthPastBufferEveryPrefixIsRefused) {
  // A real module with every section kind, names (the name section) and segments.
  const Bytes full = guest("hostile_exec.wasm");
  ASSERT_TRUE(load_module(full).ok());
  const std::vector<size_t> boundaries = section_boundaries(full);
  ASSERT_GT(boundaries.size(), 10u);
  Engine engine;
  size_t refused = 0;
  for (size_t n = 0; n < full.size(); ++n) {
    const Bytes prefix(full.begin(), full.begin() + n);
    auto r = load_module(prefix);
    const bool at_boundary = std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end();
    if (at_boundary) continue;  // may be a complete (if unusual) module, or an invalid one
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes loaded";
    EXPECT_TRUE(r.error().malformed()) << n << ": " << r.error().to_string();
    EXPECT_LE(r.error().offset(), n) << n << ": the error is past the end of the bytes";
    ++refused;
  }
  EXPECT_GT(refused, full.size() - boundaries.size() - 1);
  // The same prefixes through the embedding API (CompiledModule::compile) are refused too.
  for (size_t n = 9; n < full.size(); n += 7) {
    if (std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end()) continue;
    EXPECT_FALSE(CompiledModule::compile(engine, Bytes(full.begin(), full.begin() + n))) << n;
  }
}

TEST(HostileClass, C01_LengthPastBufferNamesAndVectors) {
  // An export name 16 bytes long in an export section with 3 bytes left; the file goes on (a
  // custom section follows), so a check against the file alone would read the next section.
  const Bytes export_name_past_section = header() +
                                         section(7, B("\x01\x10"
                                                      "ab")) +
                                         section(0, name("pad") + Bytes(32, 'z'));
  EXPECT_TRUE(malformed_with(export_name_past_section, DCode::LengthOutOfBounds, "export name"));
  // Name lengths of 2^32 - 1 (import module name, import field name).
  EXPECT_TRUE(malformed_with(header() + section(2, B("\x01") + leb(0xFFFFFFFF) + B("m")),
                             DCode::LengthOutOfBounds, "import module name 2^32-1"));
  EXPECT_TRUE(malformed_with(header() + section(2, B("\x01\x01m") + leb(0xFFFFFFFF) + B("f")),
                             DCode::LengthOutOfBounds, "import name 2^32-1"));
  // A custom section whose name runs past its section but not past the file.
  EXPECT_TRUE(malformed_with(header() +
                                 section(0, B("\x08"
                                              "abc")) +
                                 section(0, name("x")),
                             DCode::LengthOutOfBounds, "custom name"));
  // A data segment of 2^32 - 1 bytes in a file of a few bytes: refused before allocating.
  ModuleParts p;
  p.data = vec(1, B("\x01") + leb(0xFFFFFFFF) + B("xyz"));
  EXPECT_TRUE(malformed_with(p.build(), DCode::UnexpectedEndOfSection, "data bytes 2^32-1"));
  // A section size larger than the file.
  EXPECT_TRUE(malformed_with(header() + B("\x01") + leb(0xFFFFFFF0) + B("\x01\x60\x00\x00"),
                             DCode::LengthOutOfBounds, "section size"));
  // Vectors whose count is far larger than the bytes left (each entry needs at least a byte).
  EXPECT_FALSE(load_module(header() + section(1, leb(999'999))).ok());
  EXPECT_FALSE(load_module(header() + section(7, leb(99'999))).ok());
  EXPECT_FALSE(load_module(header() + section(11, leb(99'999))).ok());
  // A body size past the code section, and a locals vector count past the body.
  ModuleParts q;
  Bytes m = q.build();
  EXPECT_FALSE(load_module(header() + section(1, q.types) + section(3, q.functions) +
                           section(10, B("\x01") + leb(0x7FFFFFF) + B("\x00\x0b")))
                   .ok());
  q.body = leb(0xFFFF) + B("\x0b");
  EXPECT_FALSE(load_module(q.build()).ok());
}

// ---------------------------------------------------------------------------------------------
// Class 2: a truncated module or body ending inside a block, a prefix opcode or an init
// expression (CVE-2023-48105).

TEST(HostileClass, C02_TruncatedBodyAndInitExpressionsAreRefused) {
  // A body with blocks, if/else, prefix opcodes, memargs, LEB immediates and a br_table. Every
  // strict prefix of it, framed correctly (so only the body checks can catch it), is refused.
  const Bytes body =
      B("\x00"                                      // no locals
        "\x02\x40"                                  // block
        "\x41\x80\x80\x04"                          // i32.const 65536 (3-byte LEB)
        "\x04\x7f\x41\x01\x05\x41\x02\x0b"          // if (result i32) 1 else 2 end (pops 65536)
        "\x1a"                                      // drop (the if's result)
        "\x41\x00\x41\x00\x41\x00\xfc\x0a\x00\x00"  // memory.copy
        "\x41\x00\x41\x00\x41\x00\xfc\x08\x00\x00"  // memory.init 0
        "\xfc\x09\x00"                              // data.drop 0
        "\x41\x00\x28\x02\x80\x01\x1a"              // i32.load offset=128, drop
        "\x42\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x1a"  // i64.const -1 (10 bytes)
        "\x44\x00\x00\x00\x00\x00\x00\xf0\x3f\x1a"          // f64.const 1
        "\x41\x00\x0e\x02\x00\x00\x00"                      // br_table 0 0 0
        "\x0b"                                              // end (block)
        "\xd2\x00\x1a"                                      // ref.func 0, drop
        "\x0b");                                            // end (function)
  ASSERT_TRUE(load_module(with_body(body)).ok())
      << load_module(with_body(body)).error().to_string();
  for (size_t n = 1; n < body.size(); ++n) {
    auto r = load_module(with_body(Bytes(body.begin(), body.begin() + n)));
    ASSERT_FALSE(r.ok()) << "body cut at " << n << " loaded";
    EXPECT_TRUE(r.error().malformed()) << n << ": " << r.error().to_string();
  }
  // The module ends inside a block / a prefix opcode / an LEB (no framing: the file just stops).
  const Bytes m = with_body(body);
  const size_t code_body_start = m.size() - section(11, ModuleParts{}.data).size() - body.size();
  for (size_t cut : {size_t{3}, size_t{5}, size_t{26}, size_t{27}, size_t{40}, size_t{44}}) {
    auto r = load_module(Bytes(m.begin(), m.begin() + code_body_start + cut));
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_TRUE(r.error().malformed()) << cut << ": " << r.error().to_string();
  }
  // Init expressions: cut inside the opcode's LEB, without end, and with the file ending there.
  ModuleParts p;
  p.globals = vec(1, B("\x7f\x00\x41\x80"));
  EXPECT_TRUE(malformed_with(p.build(), DCode::UnexpectedEndOfSection, "global init in LEB"));
  p.globals = vec(1, B("\x7f\x00\x41\x00"));
  EXPECT_FALSE(load_module(p.build()).ok());
  // The file ends inside the init expression: the section size is checked against the file
  // first; with a size that fits, the section ends inside the expression.
  EXPECT_TRUE(malformed_with(header() + B("\x06\x05\x01\x7f\x00\x41"), DCode::LengthOutOfBounds,
                             "file ends in global init"));
  EXPECT_TRUE(malformed_with(header() + B("\x06\x04\x01\x7f\x00\x41"),
                             DCode::UnexpectedEndOfSection, "section ends in global init"));
  // An active data segment whose offset expression is cut off.
  p = ModuleParts{};
  p.data = vec(1, B("\x00\x41"));
  EXPECT_FALSE(load_module(p.build()).ok());
  // An element segment whose offset expression is cut off.
  p = ModuleParts{};
  p.elems = vec(1, B("\x00\x41\x00"));
  EXPECT_FALSE(load_module(p.build()).ok());
}

// ---------------------------------------------------------------------------------------------
// Class 3: a size computed in 32 bits wraps (wasm3#570: br_table targetCount + 4).

Bytes br_table_module(uint32_t count, const Bytes& rest) {
  return with_body(B("\x00\x41\x00\x0e") + leb(count) + rest);
}

TEST(HostileClass, C03_BrTableTargetCountWraps) {
  for (uint32_t count :
       {0xFFFFFFFCu, 0xFFFFFFFDu, 0xFFFFFFFEu, 0xFFFFFFFFu, 0x80000000u, 0x40000000u, 1'000'001u}) {
    const Bytes m = br_table_module(count, B("\x00\x00\x0b"));
    auto r = load_module(m);
    ASSERT_FALSE(r.ok()) << count;
    ASSERT_TRUE(r.error().malformed()) << count << ": " << r.error().to_string();
    const auto& e = std::get<DecodeError>(r.error().error);
    EXPECT_EQ(e.code, DCode::ImplementationLimit) << count << ": " << e.to_string();
    Engine engine;
    EXPECT_FALSE(CompiledModule::compile(engine, m)) << count;
  }
  // At the limit but with 2 target bytes in the body: the end of the body, not an allocation.
  auto r = load_module(br_table_module(1'000'000, B("\x00\x00\x0b")));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().malformed()) << r.error().to_string();
}

TEST(HostileClass, C03_BrTableWithAMillionTargetsCompilesAndRuns) {
  // (param i32) (result i32): targets 0..N-2 -> 10, target N-1 -> 20, default -> 30.
  constexpr uint32_t kTargets = 1'000'000;
  Bytes body = B("\x00\x02\x40\x02\x40\x02\x40\x20\x00\x0e") + leb(kTargets);
  body.insert(body.end(), kTargets - 1, 0x00);
  body = body + B("\x01\x02\x0b\x41\x0a\x0f\x0b\x41\x14\x0f\x0b\x41\x1e\x0b");
  ModuleParts p;
  p.functions = vec(1, B("\x01"));
  p.exports = vec(1, name("f") + B("\x00\x00"));
  p.body = body;
  Runner run(p.build());
  ASSERT_NE(run.instance, nullptr);
  EXPECT_EQ(run.i32("f", {I(0)}), 10);
  EXPECT_EQ(run.i32("f", {I(kTargets - 2)}), 10);
  EXPECT_EQ(run.i32("f", {I(kTargets - 1)}), 20);
  EXPECT_EQ(run.i32("f", {I(kTargets)}), 30);
  EXPECT_EQ(run.i32("f", {U(0xFFFFFFFF)}), 30);
  EXPECT_EQ(run.i32("f", {U(0x80000000)}), 30);
}

// ---------------------------------------------------------------------------------------------
// Class 4: br_table branch-depth bookkeeping (CVE-2024-34250, WAMR#3580).

TEST(HostileClass, C04_BrTableLabelsWithDifferentAritiesOrDepthsPastTheStack) {
  // block (result i32) { block { br_table [0] default 1 (i32.const 0) (i32.const 0) } i32.const 0 }
  // drop: label 0 has arity 0, label 1 arity 1.
  EXPECT_TRUE(invalid_with(
      with_body(B("\x00\x02\x7f\x02\x40\x41\x00\x41\x00\x0e\x01\x00\x01\x0b\x41\x00\x0b\x1a\x0b")),
      VCode::TypeMismatch, "arity 0 vs 1"));
  // Same arity, different types: block (result i32) { block (result f32) { br_table [0] 1 } }.
  EXPECT_TRUE(invalid_with(
      with_body(
          B("\x00\x02\x7f\x02\x7d\x41\x00\x41\x00\x0e\x01\x00\x01\x0b\x1a\x41\x00\x0b\x1a\x0b")),
      VCode::TypeMismatch, "f32 vs i32"));
  // Depths: the function body alone has 1 label; two blocks make 3.
  for (uint32_t depth : {1u, 2u, 0xFFFFFFFFu, 0x80000000u}) {
    EXPECT_TRUE(invalid_with(with_body(B("\x00\x41\x00\x0e\x01") + leb(depth) + B("\x00\x0b")),
                             VCode::UnknownLabel, "target depth"))
        << depth;
    EXPECT_TRUE(invalid_with(with_body(B("\x00\x41\x00\x0e\x01\x00") + leb(depth) + B("\x0b")),
                             VCode::UnknownLabel, "default depth"))
        << depth;
  }
  EXPECT_TRUE(invalid_with(with_body(B("\x00\x02\x40\x02\x40\x41\x00\x0e\x01\x03\x00\x0b\x0b\x0b")),
                           VCode::UnknownLabel, "depth 3 under two blocks"));
  // Depth = height - 1 (the function's own label) is valid, and runs.
  ModuleParts p;
  p.functions = vec(1, B("\x01"));
  p.exports = vec(1, name("f") + B("\x00\x00"));
  // block { block { br_table [2 0] default 1 (i32.const 5) (local.get 0) } } ; i32.const 9
  p.body = B("\x00\x02\x7f\x02\x7f\x41\x05\x20\x00\x0e\x02\x02\x00\x01\x0b\x0b\x1a\x41\x09\x0b");
  ASSERT_TRUE(load_module(p.build()).ok()) << load_module(p.build()).error().to_string();
  Runner run(p.build());
  EXPECT_EQ(run.i32("f", {I(0)}), 5);  // to the function label: returns 5
  EXPECT_EQ(run.i32("f", {I(1)}), 9);
  EXPECT_EQ(run.i32("f", {I(2)}), 9);
}

// ---------------------------------------------------------------------------------------------
// Class 5: an opcode or immediate read past the end of the function body (WAMR#65).

TEST(HostileClass, C05_ImmediatePastBodyEndMissingOrExtraEnd) {
  struct Case {
    const char* what;
    Bytes body;
    DCode code;
  };
  const Case cases[] = {
      {"i32.const without immediate", B("\x00\x41"), DCode::UnexpectedEndOfSection},
      {"i32.const LEB continues", B("\x00\x41\x80\x80"), DCode::UnexpectedEndOfSection},
      {"i64.const LEB continues", B("\x00\x42\xff\xff\xff"), DCode::UnexpectedEndOfSection},
      {"f64.const with 3 bytes", B("\x00\x44\x00\x00\x00"), DCode::UnexpectedEndOfSection},
      {"call index LEB continues", B("\x00\x10\x80"), DCode::UnexpectedEndOfSection},
      {"memarg without offset", B("\x00\x41\x00\x28\x02"), DCode::UnexpectedEndOfSection},
      {"br_table without its targets", B("\x00\x41\x00\x0e\x02\x00"),
       DCode::UnexpectedEndOfSection},
      {"0xfc prefix alone", B("\x00\xfc"), DCode::UnexpectedEndOfSection},
      {"0xfc sub-opcode LEB continues", B("\x00\xfc\x80"), DCode::UnexpectedEndOfSection},
      {"memory.fill without its zero byte", B("\x00\x41\x00\x41\x00\x41\x00\xfc\x0b"),
       DCode::UnexpectedEndOfSection},
      {"block type missing", B("\x00\x02"), DCode::UnexpectedEndOfSection},
      {"locals count without type", B("\x01\x01"), DCode::UnexpectedEndOfSection},
      {"block without end", B("\x00\x02\x40\x0b"), DCode::UnexpectedEndOfSection},
      {"function without end", B("\x00\x01\x01"), DCode::UnexpectedEndOfSection},
      {"one end too many", B("\x00\x0b\x0b"), DCode::JunkAfterEnd},
      {"one end too many after a block", B("\x00\x02\x40\x0b\x0b\x0b"), DCode::JunkAfterEnd},
  };
  for (const Case& c : cases) EXPECT_TRUE(malformed_with(with_body(c.body), c.code, c.what));

  // A body cut inside an LEB, followed by a valid body: the reader must stop at the first body's
  // end rather than read the second body's bytes as the rest of the immediate.
  const Bytes first = B("\x00\x41\x80");
  const Bytes second = B("\x00\x0b");
  const Bytes m = header() + section(1, vec(1, B("\x60\x00\x00"))) +
                  section(3, vec(2, B("\x00\x00"))) +
                  section(10, vec(2, code_entry(first) + code_entry(second)));
  auto r = load_module(m);
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(r.error().malformed()) << r.error().to_string();
  const size_t first_end = m.size() - code_entry(second).size();
  EXPECT_LE(r.error().offset(), first_end) << r.error().to_string();
}

// ---------------------------------------------------------------------------------------------
// Class 6: an index immediate into a type, function, table, memory, global, local, segment or
// label vector is not range-checked (wabt#2556, #2557, #1981).

TEST(HostileClass, C06_IndexImmediatesAtCountCountPlusOneAndMax) {
  // ModuleParts: 2 types, 1 function, 1 table, 1 memory, 1 global, 1 elem and 1 data segment;
  // the function has no locals and 1 label.
  struct Case {
    const char* what;
    uint32_t count;
    std::function<Bytes(const Bytes& index)> body;
    VCode code;
  };
  const auto z = B("\x41\x00");
  const Case body_cases[] = {
      {"call", 1, [](const Bytes& i) { return B("\x10") + i; }, VCode::UnknownFunction},
      {"ref.func", 1, [](const Bytes& i) { return B("\xd2") + i + B("\x1a"); },
       VCode::UnknownFunction},
      {"call_indirect type", 2, [&](const Bytes& i) { return z + B("\x11") + i + B("\x00"); },
       VCode::UnknownType},
      {"call_indirect table", 1, [&](const Bytes& i) { return z + B("\x11\x00") + i; },
       VCode::UnknownTable},
      {"block type index", 2,
       [](const Bytes& i) {
         uint64_t v = 0;
         for (size_t k = 0; k < i.size(); ++k) v |= uint64_t{i[k] & 0x7Fu} << (7 * k);
         return B("\x02") + sleb(static_cast<int64_t>(v)) + B("\x0b");
       },
       VCode::UnknownType},
      {"global.get", 1, [](const Bytes& i) { return B("\x23") + i + B("\x1a"); },
       VCode::UnknownGlobal},
      {"global.set", 1, [&](const Bytes& i) { return z + B("\x24") + i; }, VCode::UnknownGlobal},
      {"local.get", 0, [](const Bytes& i) { return B("\x20") + i + B("\x1a"); },
       VCode::UnknownLocal},
      {"local.set", 0, [&](const Bytes& i) { return z + B("\x21") + i; }, VCode::UnknownLocal},
      {"table.get", 1, [&](const Bytes& i) { return z + B("\x25") + i + B("\x1a"); },
       VCode::UnknownTable},
      {"table.size", 1, [](const Bytes& i) { return B("\xfc\x10") + i + B("\x1a"); },
       VCode::UnknownTable},
      {"table.init elem", 1,
       [&](const Bytes& i) { return z + z + z + B("\xfc\x0c") + i + B("\x00"); },
       VCode::UnknownElemSegment},
      {"table.init table", 1, [&](const Bytes& i) { return z + z + z + B("\xfc\x0c\x00") + i; },
       VCode::UnknownTable},
      {"elem.drop", 1, [](const Bytes& i) { return B("\xfc\x0d") + i; }, VCode::UnknownElemSegment},
      {"memory.init", 1, [&](const Bytes& i) { return z + z + z + B("\xfc\x08") + i + B("\x00"); },
       VCode::UnknownDataSegment},
      {"data.drop", 1, [](const Bytes& i) { return B("\xfc\x09") + i; }, VCode::UnknownDataSegment},
      {"br", 1, [](const Bytes& i) { return B("\x0c") + i; }, VCode::UnknownLabel},
      {"br_if", 1, [&](const Bytes& i) { return z + B("\x0d") + i; }, VCode::UnknownLabel},
  };
  for (const Case& c : body_cases) {
    for (uint32_t index : {c.count, c.count + 1, 0xFFFFFFFFu}) {
      const Bytes body = B("\x00") + c.body(leb(index)) + B("\x0b");
      EXPECT_TRUE(invalid_with(with_body(body), c.code, c.what)) << "index " << index;
    }
    // count - 1 is valid (where there is one).
    if (c.count > 0 && c.code != VCode::UnknownLabel) {
      const Bytes body = B("\x00") + c.body(leb(c.count - 1)) + B("\x0b");
      auto r = load_module(with_body(body));
      if (!r.ok()) {
        // Only a type error may remain (call_indirect through type 1 needs an argument; the
        // one global is immutable).
        ASSERT_FALSE(r.error().malformed()) << c.what << ": " << r.error().to_string();
        const VCode code = std::get<ValidationError>(r.error().error).code;
        EXPECT_TRUE(code == VCode::TypeMismatch || code == VCode::GlobalIsImmutable)
            << c.what << ": " << r.error().to_string();
      }
    }
  }
  // Indices in sections.
  for (uint32_t k : {0u, 1u, 2u}) {
    const uint32_t idx[] = {0, 1, 0xFFFFFFFF};
    auto at = [&](uint32_t count) { return leb(k == 2 ? idx[2] : count + k); };
    ModuleParts p;
    p.functions = vec(1, at(2));
    EXPECT_TRUE(invalid_with(p.build(), VCode::UnknownType, "function type")) << k;
    p = ModuleParts{};
    p.imports = vec(1, name("m") + name("f") + B("\x00") + at(2));
    EXPECT_TRUE(invalid_with(p.build(), VCode::UnknownType, "import type")) << k;
    p = ModuleParts{};
    p.exports = vec(1, name("e") + B("\x00") + at(1));
    EXPECT_TRUE(invalid_with(p.build(), VCode::UnknownFunction, "export func")) << k;
    p.exports = vec(1, name("e") + B("\x01") + at(1));
    EXPECT_TRUE(invalid_with(p.build(), VCode::UnknownTable, "export table")) << k;
    p.exports = vec(1, name("e") + B("\x02") + at(1));
    EXPECT_TRUE(invalid_with(p.build(), VCode::UnknownMemory, "export memory")) << k;
    p.exports = vec(1, name("e") + B("\x03") + at(1));
    EXPECT_TRUE(invalid_with(p.build(), VCode::UnknownGlobal, "export global")) << k;
    p = ModuleParts{};
    p.start = at(1);
    EXPECT_TRUE(invalid_with(p.build(), VCode::UnknownFunction, "start")) << k;
    p = ModuleParts{};
    p.elems = vec(1, B("\x01\x00\x01") + at(1));
    EXPECT_TRUE(invalid_with(p.build(), VCode::UnknownFunction, "elem func")) << k;
    p = ModuleParts{};
    p.elems = vec(1, B("\x02") + at(1) + B("\x41\x00\x0b\x00\x01\x00"));  // active, table idx
    EXPECT_TRUE(invalid_with(p.build(), VCode::UnknownTable, "elem table")) << k;
    p = ModuleParts{};
    p.globals = vec(1, B("\x7f\x00\x23") + at(0) + B("\x0b"));  // global.get in an init expr
    EXPECT_TRUE(invalid_with(p.build(), VCode::UnknownGlobal, "global init global.get")) << k;
  }
}

// ---------------------------------------------------------------------------------------------
// Class 7: use-after-free or stale references in the loader or the store (wabt#2614, #2398).

TEST(HostileClass, C07_DropAndReinstantiateLeavesNoStaleReferences) {
  const Bytes bytes = guest("hostile_exec.wasm");
  for (int round = 0; round < 20; ++round) {
    auto engine = std::make_unique<Engine>();
    auto store = std::make_unique<Store>(*engine);
    Instance* instance = nullptr;
    {
      // The module and the linker are dropped before any call: the instance keeps the module
      // (its functions compile lazily, on the first call) and the store its host functions.
      auto compiled = CompiledModule::compile(*engine, bytes);
      ASSERT_TRUE(compiled);
      Linker linker;
      exec_imports(linker, &instance);
      auto inst = store->instantiate(*compiled, linker);
      ASSERT_TRUE(inst) << inst.error().message();
      instance = *inst;
    }
    auto r = store->call(*instance, "call_slot", std::vector<Value>{I(3)});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ((*r)[0], I(8));
    r = store->call(*instance, "grow_through_host", std::vector<Value>{I(1)});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ((*r)[0], I(0x0A0B0C0D + 0x01020304));
    // A second instance importing the first one's memory and table, in the same store.
    const Bytes importer =
        header() + section(1, vec(1, B("\x60\x00\x01\x7f"))) +
        section(2, vec(2, name("x") + name("memory") + B("\x02\x00\x00") + name("x") +
                              name("slots") + B("\x01\x70\x00\x00"))) +
        section(3, vec(1, B("\x00"))) + section(7, vec(1, name("peek") + B("\x00\x00"))) +
        section(10, vec(1, code_entry(B("\x00\x41\x00\x28\x02\x08\x0b"))));  // i32.load offset 8
    Instance* second = nullptr;
    {
      auto imp = CompiledModule::compile(*engine, importer);
      ASSERT_TRUE(imp) << imp.error().to_string();
      Linker l2;
      l2.define_instance("x", *instance);
      auto inst2 = store->instantiate(*imp, l2);
      ASSERT_TRUE(inst2) << inst2.error().message();
      second = *inst2;
    }
    auto peek = store->call(*second, "peek", {});
    ASSERT_TRUE(peek) << peek.error().message();
    EXPECT_EQ((*peek)[0], I(0x01020304));
    store.reset();   // instances, memories and code die with the store ...
    engine.reset();  // ... and the engine after it
  }
}

TEST(HostileClass, C07_PluginsCreatedAndDroppedRepeatedly) {
  using namespace extism;
  const Bytes bytes = guest("hostile_plugin.wasm");
  auto options = [] {
    PluginOptions o;
    o.functions.push_back(PluginFunction{
        .name = "dup",
        .type = FuncType{{I64}, {I64}},
        .callback = [](CurrentPlugin&, std::span<const Value>, std::span<Value> r) -> HostResult {
          r[0] = Value::i64(0);
          return {};
        }});
    return o;
  };
  auto keep = Plugin::create(bytes, options());  // shares the compiled module with the others
  ASSERT_TRUE(keep);
  for (int i = 0; i < 20; ++i) {
    auto p = Plugin::create(bytes, options());
    ASSERT_TRUE(p) << p.error().message;
    const std::string input = "round " + std::to_string(i);
    auto r = (*p)->call("echo", input);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, input);
  }
  auto r = (*keep)->call("echo", "still here");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "still here");
}

// ---------------------------------------------------------------------------------------------
// Class 8: skipping validation (wasm3#344/#563; #514-516: call_indirect without a table, on an
// externref table, or with an i64 index, was accepted).

TEST(HostileClass, C08_InvalidModulesAreRefusedNotTrusted) {
  Engine engine;
  // call_indirect with no table at all.
  {
    const Bytes m = header() + section(1, vec(1, B("\x60\x00\x00"))) +
                    section(3, vec(1, B("\x00"))) +
                    section(10, vec(1, code_entry(B("\x00\x41\x00\x11\x00\x00\x0b"))));
    EXPECT_TRUE(invalid_with(m, VCode::UnknownTable, "call_indirect without a table"));
    EXPECT_FALSE(CompiledModule::compile(engine, m));
  }
  // call_indirect through an externref table.
  {
    ModuleParts p;
    p.tables = vec(1, B("\x6f\x00\x01"));
    p.elems = vec(0, {});
    p.body = B("\x00\x41\x00\x11\x00\x00\x0b");
    EXPECT_TRUE(invalid_with(p.build(), VCode::TypeMismatch, "call_indirect on externref table"));
  }
  // call_indirect with an i64 index.
  EXPECT_TRUE(invalid_with(with_body(B("\x00\x42\x00\x11\x00\x00\x0b")), VCode::TypeMismatch,
                           "call_indirect with i64 index"));
  // A load without a memory; a store of the wrong type; global.set of an immutable global.
  {
    const Bytes m = header() + section(1, vec(1, B("\x60\x00\x00"))) +
                    section(3, vec(1, B("\x00"))) +
                    section(10, vec(1, code_entry(B("\x00\x41\x00\x28\x02\x00\x1a\x0b"))));
    EXPECT_TRUE(invalid_with(m, VCode::UnknownMemory, "load without memory"));
  }
  EXPECT_TRUE(invalid_with(with_body(B("\x00\x41\x00\x42\x00\x36\x02\x00\x0b")),
                           VCode::TypeMismatch, "i32.store of an i64"));
  EXPECT_TRUE(invalid_with(with_body(B("\x00\x41\x00\x24\x00\x0b")), VCode::GlobalIsImmutable,
                           "global.set immutable"));
  // A function whose declared result is missing; a br_if whose label needs a value.
  ModuleParts p;
  p.functions = vec(1, B("\x01"));
  p.body = B("\x00\x0b");
  EXPECT_TRUE(invalid_with(p.build(), VCode::TypeMismatch, "missing result"));
  p.body = B("\x00\x20\x00\x0d\x00\x20\x00\x0b");
  EXPECT_TRUE(invalid_with(p.build(), VCode::TypeMismatch, "br_if without its value"));
  // Through the plugin API too: refused at creation with the validator's message.
  auto plugin = extism::Plugin::create(with_body(B("\x00\x42\x00\x11\x00\x00\x0b")));
  ASSERT_FALSE(plugin);
  EXPECT_NE(plugin.error().message.find("type mismatch"), std::string::npos)
      << plugin.error().message;
}

// ---------------------------------------------------------------------------------------------
// Class 9: operand-stack slot bookkeeping wrong for a *valid* module (wasm3#477, #485).

TEST(HostileClass, C09_SlotBookkeepingOnValidModules) {
  Runner run(guest("hostile_slots.wasm"));
  ASSERT_NE(run.instance, nullptr);
  for (int32_t x : {0, 1, -3, 12345, INT32_MAX}) {
    EXPECT_EQ(run.i32("deep_stack", {I(x)}), static_cast<int32_t>(48u * static_cast<uint32_t>(x)));
    EXPECT_EQ(run.i32("stale_local", {I(x)}), static_cast<int32_t>(7u * static_cast<uint32_t>(x)));
    EXPECT_EQ(run.i32("under_call", {I(x % 100000)}), 100 + 2 * (x % 100000));
  }
  auto f = run.call("f64_select", {Value::f64(1.5), Value::f64(-2.25), I(1)});
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)[0].as_f64(), 1.5 + 1.5 * -2.25);
  f = run.call("f64_select", {Value::f64(1.5), Value::f64(-2.25), I(0)});
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)[0].as_f64(), -2.25 + 1.5 * -2.25);
  EXPECT_EQ(run.i32("multi_br", {I(1)}), 12);
  EXPECT_EQ(run.i32("multi_br", {I(0)}), 21);
  EXPECT_EQ(run.i64("fib", {I(1)}), 1);
  EXPECT_EQ(run.i64("fib", {I(10)}), 55);
  EXPECT_EQ(run.i64("fib", {I(90)}), 2880067194370816120LL);
}

// ---------------------------------------------------------------------------------------------
// Classes 10 and 19: loads and stores at every edge, 64-bit effective addresses, memory of 0 pages.

struct MemOp {
  uint8_t opcode;
  uint32_t width;
  bool store;
  Bytes value;  // the constant a store writes
};
const std::vector<MemOp>& mem_ops() {
  static const std::vector<MemOp> ops = {
      {0x28, 4, false, {}},
      {0x29, 8, false, {}},
      {0x2a, 4, false, {}},
      {0x2b, 8, false, {}},
      {0x2c, 1, false, {}},
      {0x2d, 1, false, {}},
      {0x2e, 2, false, {}},
      {0x2f, 2, false, {}},
      {0x30, 1, false, {}},
      {0x31, 1, false, {}},
      {0x32, 2, false, {}},
      {0x33, 2, false, {}},
      {0x34, 4, false, {}},
      {0x35, 4, false, {}},
      {0x36, 4, true, B("\x41\x7f")},
      {0x37, 8, true, B("\x42\x7f")},
      {0x38, 4, true, B("\x43\x00\x00\x80\x3f")},
      {0x39, 8, true, B("\x44\x00\x00\x00\x00\x00\x00\xf0\x3f")},
      {0x3a, 1, true, B("\x41\x7f")},
      {0x3b, 2, true, B("\x41\x7f")},
      {0x3c, 1, true, B("\x42\x7f")},
      {0x3d, 2, true, B("\x42\x7f")},
      {0x3e, 4, true, B("\x42\x7f")},
  };
  return ops;
}

// One function (param i32) per (op, offset): "f<op index>_<offset index>", plus "peek"
// (i32.load8_u), "grow" and "size". `memory` is the memory section's entry.
struct MemModule {
  std::vector<uint32_t> offsets;
  Bytes bytes;
};
// The export name of the function for (op, offset index).
std::string fn(size_t op, size_t offset_index) {
  std::string out(1, 'f');
  out += std::to_string(op);
  out += '_';
  out += std::to_string(offset_index);
  return out;
}
MemModule mem_module(const Bytes& memory, const std::vector<uint32_t>& offsets) {
  Bytes funcs, exports, codes;
  uint32_t n = 0;
  for (size_t o = 0; o < mem_ops().size(); ++o) {
    const MemOp& op = mem_ops()[o];
    for (size_t k = 0; k < offsets.size(); ++k) {
      funcs = funcs + B("\x00");
      exports = exports + name(fn(o, k)) + B("\x00") + leb(n);
      Bytes body = B("\x00\x20\x00");
      if (op.store) body = body + op.value;
      body = body + Bytes{op.opcode, 0x00} + leb(offsets[k]);
      if (!op.store) body = body + B("\x1a");
      codes = codes + code_entry(body + B("\x0b"));
      ++n;
    }
  }
  // peek, grow, size
  funcs = funcs + B("\x01\x01\x02");
  exports = exports + name("peek") + B("\x00") + leb(n) + name("grow") + B("\x00") + leb(n + 1) +
            name("size") + B("\x00") + leb(n + 2);
  codes = codes + code_entry(B("\x00\x20\x00\x2d\x00\x00\x0b")) +
          code_entry(B("\x00\x20\x00\x40\x00\x0b")) + code_entry(B("\x00\x3f\x00\x0b"));
  const uint32_t total = n + 3;
  MemModule m;
  m.offsets = offsets;
  m.bytes = header() +
            section(1, vec(3, B("\x60\x01\x7f\x00\x60\x01\x7f\x01\x7f\x60\x00\x01\x7f"))) +
            section(3, vec(total, funcs)) + section(5, vec(1, memory)) +
            section(7, vec(total, exports)) + section(10, vec(total, codes));
  return m;
}
bool accesses(Runner& run, size_t op, size_t k, uint32_t addr) {
  auto r = run.call(fn(op, k), {U(addr)});
  if (r) return true;
  EXPECT_EQ(r.error().kind, ExecError::Kind::Trap) << r.error().message();
  EXPECT_EQ(r.error().trap, TrapCode::MemoryOutOfBounds) << r.error().message();
  return false;
}

TEST(HostileClass, C10_LoadStoreBoundsAtEveryWidthAndOffset) {
  constexpr uint32_t kSize = 65536;
  // offsets: 0, 1, 16, 0xFFFFFFFF, 0x80000000
  MemModule m = mem_module(B("\x00\x01"), {0, 1, 16, 0xFFFFFFFF, 0x80000000});
  Runner run(m.bytes);
  ASSERT_NE(run.instance, nullptr);
  for (size_t o = 0; o < mem_ops().size(); ++o) {
    const MemOp& op = mem_ops()[o];
    SCOPED_TRACE("opcode 0x" + std::to_string(op.opcode) + " width " + std::to_string(op.width));
    for (uint32_t k = 0; k <= 8; ++k) {
      EXPECT_EQ(accesses(run, o, 0, kSize - k), k >= op.width) << "addr = size - " << k;
      EXPECT_EQ(accesses(run, o, 1, kSize - 1 - k), k >= op.width) << "offset 1, size - 1 - " << k;
    }
    // address + offset = 2^32 exactly: wraps to 0 in 32-bit arithmetic.
    EXPECT_FALSE(accesses(run, o, 1, 0xFFFFFFFF));
    EXPECT_FALSE(accesses(run, o, 2, 0xFFFFFFF0));
    EXPECT_FALSE(accesses(run, o, 3, 1));
    EXPECT_FALSE(accesses(run, o, 3, 0));
    EXPECT_FALSE(accesses(run, o, 3, 0xFFFFFFFF));
    EXPECT_FALSE(accesses(run, o, 4, 0x80000000));
    EXPECT_FALSE(accesses(run, o, 4, 0));
    EXPECT_FALSE(accesses(run, o, 0, 0xFFFFFFFF));
    EXPECT_FALSE(accesses(run, o, 0, 0x80000000));
    EXPECT_TRUE(accesses(run, o, 0, 0));
  }
  // A store that straddles the end traps and writes nothing (a fresh memory: still all zero).
  Runner fresh(m.bytes);
  for (size_t o = 0; o < mem_ops().size(); ++o) {
    if (!mem_ops()[o].store) continue;
    for (uint32_t k = 1; k < mem_ops()[o].width; ++k)
      EXPECT_FALSE(accesses(fresh, o, 0, kSize - k));
  }
  for (uint32_t i = kSize - 8; i < kSize; ++i) ASSERT_EQ(fresh.i32("peek", {U(i)}), 0) << i;
  // Stores that fit write their bytes (i64.store of -1 at size - 8).
  EXPECT_TRUE(accesses(fresh, 15, 0, kSize - 8));
  for (uint32_t i = kSize - 8; i < kSize; ++i) EXPECT_EQ(fresh.i32("peek", {U(i)}), 0xff) << i;
  // After growing, the bounds move with the memory (the cached size is reloaded).
  EXPECT_EQ(run.i32("grow", {I(1)}), 1);
  EXPECT_TRUE(accesses(run, 0, 0, 2 * kSize - 4));
  EXPECT_FALSE(accesses(run, 0, 0, 2 * kSize - 3));
  EXPECT_FALSE(accesses(run, 1, 3, 2 * kSize - 8 + 1));  // offset 0xFFFFFFFF: still out
}

TEST(HostileClass, C19_MemoryOfSizeZero) {
  for (const Bytes& memory : {B("\x00\x00"), B("\x01\x00\x00")}) {  // min 0; min 0 max 0
    const bool fixed = memory[0] == 1;
    MemModule m = mem_module(memory, {0, 1, 0xFFFFFFFF});
    Runner run(m.bytes);
    ASSERT_NE(run.instance, nullptr);
    EXPECT_EQ(run.i32("size"), 0);
    for (size_t o = 0; o < mem_ops().size(); ++o) {
      for (uint32_t addr : {0u, 1u, 0xFFFFFFFFu, 0x80000000u, 65535u, 65536u}) {
        for (size_t k = 0; k < 3; ++k) EXPECT_FALSE(accesses(run, o, k, addr)) << o << " " << addr;
      }
    }
    EXPECT_EQ(run.trap("peek", {I(0)}), TrapCode::MemoryOutOfBounds);
    if (fixed) {
      EXPECT_EQ(run.i32("grow", {I(1)}), -1);
      EXPECT_EQ(run.i32("grow", {I(0)}), 0);
      EXPECT_EQ(run.i32("size"), 0);
      continue;
    }
    // Grown to one page, the edges are those of a one-page memory.
    EXPECT_EQ(run.i32("grow", {I(1)}), 0);
    EXPECT_TRUE(accesses(run, 0, 0, 65532));
    EXPECT_FALSE(accesses(run, 0, 0, 65533));
    EXPECT_FALSE(accesses(run, 0, 2, 1));
  }
  // Bulk operations on a zero-page memory: n = 0 at 0 is fine, anything else traps.
  const Bytes bulk =
      header() + section(1, vec(1, B("\x60\x03\x7f\x7f\x7f\x00"))) +
      section(3, vec(2, B("\x00\x00"))) + section(5, vec(1, B("\x00\x00"))) +
      section(7, vec(2, name("fill") + B("\x00\x00") + name("copy") + B("\x00\x01"))) +
      section(10, vec(2, code_entry(B("\x00\x20\x00\x20\x01\x20\x02\xfc\x0b\x00\x0b")) +
                             code_entry(B("\x00\x20\x00\x20\x01\x20\x02\xfc\x0a\x00\x00\x0b"))));
  Runner run(bulk);
  ASSERT_NE(run.instance, nullptr);
  EXPECT_TRUE(run.ok("fill", {I(0), I(1), I(0)}));
  EXPECT_EQ(run.trap("fill", {I(1), I(1), I(0)}), TrapCode::MemoryOutOfBounds);
  EXPECT_EQ(run.trap("fill", {I(0), I(1), I(1)}), TrapCode::MemoryOutOfBounds);
  EXPECT_EQ(run.trap("fill", {I(0), I(1), I(-1)}), TrapCode::MemoryOutOfBounds);
  EXPECT_TRUE(run.ok("copy", {I(0), I(0), I(0)}));
  EXPECT_EQ(run.trap("copy", {I(0), I(1), I(0)}), TrapCode::MemoryOutOfBounds);
  EXPECT_EQ(run.trap("copy", {I(-1), I(0), I(1)}), TrapCode::MemoryOutOfBounds);
}

// ---------------------------------------------------------------------------------------------
// Class 11: call_indirect index and signature checks (WAMR#55, wasm3#547/#380, wasm3 PR#11).

TEST(HostileClass, C11_CallIndirectIndexAndSignature) {
  Exec run;
  ASSERT_NE(run.instance, nullptr);
  EXPECT_EQ(run.i32("call_slot", {I(0)}), 7);
  // slot 3 holds $eight, declared with $to_i32_again: structurally equal, another type index.
  EXPECT_EQ(run.i32("call_slot", {I(3)}), 8);
  EXPECT_EQ(run.i32("call_slot_again", {I(0)}), 7);
  EXPECT_EQ(run.i32("call_slot_again", {I(3)}), 8);
  EXPECT_EQ(run.trap("call_slot", {I(1)}), TrapCode::IndirectCallTypeMismatch);  // () -> i64
  EXPECT_EQ(run.trap("call_t2", {I(0)}), TrapCode::UninitializedElement);        // null entry
  for (uint32_t index : {4u, 5u, 0xFFFFFFFFu, 0x80000000u, 0x7FFFFFFFu}) {
    EXPECT_EQ(run.trap("call_slot", {U(index)}), TrapCode::UndefinedElement) << index;
  }
  // A function of another module, with its own (equal) type section, reached through a shared
  // table: the type check compares canonical types across modules.
  const Bytes other =
      header() + section(1, vec(2, B("\x60\x00\x01\x7e\x60\x00\x01\x7f"))) +  // i64 first
      section(2, vec(1, name("x") + name("slots") + B("\x01\x70\x00\x00"))) +
      section(3, vec(2, B("\x01\x00"))) +
      section(9, vec(1, B("\x00\x41\x01\x0b\x02\x00\x01"))) +  // slots[1..2] = f0, f1
      section(10, vec(2, code_entry(B("\x00\x41\x2a\x0b")) + code_entry(B("\x00\x42\x2b\x0b"))));
  auto compiled = CompiledModule::compile(*run.engine, other);
  ASSERT_TRUE(compiled) << compiled.error().to_string();
  Linker l;
  l.define_instance("x", *run.instance);
  auto inst = run.store->instantiate(*compiled, l);
  ASSERT_TRUE(inst) << inst.error().message();
  EXPECT_EQ(run.i32("call_slot", {I(1)}), 42);  // other's type 1 = () -> i32
  EXPECT_EQ(run.trap("call_slot", {I(2)}), TrapCode::IndirectCallTypeMismatch);  // () -> i64
}

// ---------------------------------------------------------------------------------------------
// Class 12: the br_table index is not clamped to the default (wasm3#549, WAMR#81).

TEST(HostileClass, C12_BrTableIndexOutOfRangeTakesTheDefault) {
  Exec run;
  ASSERT_NE(run.instance, nullptr);
  EXPECT_EQ(run.i32("br_table3", {I(0)}), 10);
  EXPECT_EQ(run.i32("br_table3", {I(1)}), 11);
  EXPECT_EQ(run.i32("br_table3", {I(2)}), 12);
  for (uint32_t index : {3u, 4u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu}) {
    EXPECT_EQ(run.i32("br_table3", {U(index)}), 99) << index;
    EXPECT_EQ(run.i32("br_table0", {U(index)}), 99) << index;
    EXPECT_EQ(run.i32("br_table_value", {U(index)}), 1005) << index;
  }
  EXPECT_EQ(run.i32("br_table0", {I(0)}), 99);
  EXPECT_EQ(run.i32("br_table_value", {I(0)}), 1105);
  EXPECT_EQ(run.i32("br_table_value", {I(1)}), 1005);
}

// ---------------------------------------------------------------------------------------------
// Class 13: bulk memory and table operations: bounds checked before writing, n = 0 edges,
// overlapping copies (bulk-memory-operations PR#123).

TEST(HostileClass, C13_MemoryFillCopyInitEdges) {
  constexpr int32_t kSize = 65536;
  constexpr auto kOob = TrapCode::MemoryOutOfBounds;
  Exec run;
  ASSERT_NE(run.instance, nullptr);
  // fill: the exact end, one past it (nothing written), n = 0 at size (ok) and size + 1 (trap).
  EXPECT_TRUE(run.ok("fill", {I(kSize - 4), I(0x11), I(4)}));
  EXPECT_EQ(run.i32("load8", {I(kSize - 1)}), 0x11);
  EXPECT_EQ(run.trap("fill", {I(kSize - 3), I(0x22), I(4)}), kOob);
  EXPECT_EQ(run.i32("load8", {I(kSize - 3)}), 0x11);
  EXPECT_TRUE(run.ok("fill", {I(kSize), I(0x33), I(0)}));
  EXPECT_EQ(run.trap("fill", {I(kSize + 1), I(0x33), I(0)}), kOob);
  EXPECT_EQ(run.trap("fill", {I(1), I(0x44), I(-1)}), kOob);  // d + n = 2^32: wraps to 0
  EXPECT_EQ(run.trap("fill", {I(-1), I(0x44), I(1)}), kOob);
  EXPECT_EQ(run.i32("load8", {I(1)}), 'n');  // "init" at 0 untouched
  // copy: overlapping in both directions.
  EXPECT_TRUE(run.ok("copy", {I(1), I(0), I(4)}));  // "init" -> "iinit"
  EXPECT_EQ(run.i32("load8", {I(0)}), 'i');
  EXPECT_EQ(run.i32("load8", {I(1)}), 'i');
  EXPECT_EQ(run.i32("load8", {I(2)}), 'n');
  EXPECT_EQ(run.i32("load8", {I(4)}), 't');
  EXPECT_TRUE(run.ok("copy", {I(0), I(1), I(4)}));  // back to "init" + 't'
  EXPECT_EQ(run.i32("load8", {I(0)}), 'i');
  EXPECT_EQ(run.i32("load8", {I(1)}), 'n');
  EXPECT_EQ(run.i32("load8", {I(3)}), 't');
  // copy at the edges.
  EXPECT_TRUE(run.ok("copy", {I(kSize - 4), I(0), I(4)}));
  EXPECT_EQ(run.i32("load8", {I(kSize - 4)}), 'i');
  EXPECT_TRUE(run.ok("fill", {I(kSize - 8), I(0), I(8)}));
  EXPECT_EQ(run.trap("copy", {I(kSize - 3), I(0), I(4)}), kOob);
  EXPECT_EQ(run.i32("load8", {I(kSize - 3)}), 0);  // nothing written
  EXPECT_EQ(run.trap("copy", {I(100), I(kSize - 3), I(4)}), kOob);
  EXPECT_EQ(run.i32("load8", {I(100)}), 0);
  EXPECT_TRUE(run.ok("copy", {I(kSize), I(0), I(0)}));
  EXPECT_TRUE(run.ok("copy", {I(0), I(kSize), I(0)}));
  EXPECT_EQ(run.trap("copy", {I(kSize + 1), I(0), I(0)}), kOob);
  EXPECT_EQ(run.trap("copy", {I(0), I(kSize + 1), I(0)}), kOob);
  EXPECT_EQ(run.trap("copy", {I(1), I(0), I(-1)}), kOob);
  EXPECT_EQ(run.trap("copy", {I(0), I(1), I(-1)}), kOob);
  // init from the passive segment "ABCD".
  EXPECT_TRUE(run.ok("init", {I(100), I(0), I(4)}));
  EXPECT_EQ(run.i32("load8", {I(100)}), 'A');
  EXPECT_EQ(run.i32("load8", {I(103)}), 'D');
  EXPECT_EQ(run.trap("init", {I(200), I(1), I(4)}), kOob);  // past the segment
  EXPECT_EQ(run.i32("load8", {I(200)}), 0);
  EXPECT_EQ(run.trap("init", {I(kSize - 3), I(0), I(4)}), kOob);  // past the memory
  EXPECT_EQ(run.i32("load8", {I(kSize - 3)}), 0);
  EXPECT_TRUE(run.ok("init", {I(200), I(4), I(0)}));
  EXPECT_EQ(run.trap("init", {I(200), I(5), I(0)}), kOob);
  EXPECT_TRUE(run.ok("init", {I(kSize), I(0), I(0)}));
  EXPECT_EQ(run.trap("init", {I(kSize + 1), I(0), I(0)}), kOob);
  EXPECT_EQ(run.trap("init", {I(0), I(-1), I(1)}), kOob);
  EXPECT_EQ(run.trap("init", {I(0), I(1), I(-1)}), kOob);
  // After data.drop the segment has length 0: n = 0 at 0 is fine, more traps.
  EXPECT_TRUE(run.ok("drop_data"));
  EXPECT_TRUE(run.ok("drop_data"));  // idempotent
  EXPECT_TRUE(run.ok("init", {I(0), I(0), I(0)}));
  EXPECT_EQ(run.trap("init", {I(300), I(0), I(1)}), kOob);
  EXPECT_EQ(run.i32("load8", {I(300)}), 0);
}

TEST(HostileClass, C13_TableCopyInitEdges) {
  constexpr auto kOob = TrapCode::TableOutOfBounds;
  Exec run;
  ASSERT_NE(run.instance, nullptr);
  // t2 has 4 slots, the passive segment 3 functions returning 1, 2, 3.
  EXPECT_TRUE(run.ok("table_init", {I(0), I(0), I(3)}));
  EXPECT_EQ(run.i32("call_t2", {I(0)}), 1);
  EXPECT_EQ(run.i32("call_t2", {I(2)}), 3);
  EXPECT_EQ(run.i32("t2_is_null", {I(3)}), 1);
  EXPECT_EQ(run.trap("table_init", {I(2), I(0), I(3)}), kOob);  // past the table
  EXPECT_EQ(run.i32("call_t2", {I(2)}), 3);                     // nothing written
  EXPECT_EQ(run.i32("t2_is_null", {I(3)}), 1);
  EXPECT_EQ(run.trap("table_init", {I(0), I(1), I(3)}), kOob);  // past the segment
  EXPECT_EQ(run.i32("call_t2", {I(0)}), 1);
  EXPECT_TRUE(run.ok("table_init", {I(4), I(0), I(0)}));
  EXPECT_EQ(run.trap("table_init", {I(5), I(0), I(0)}), kOob);
  EXPECT_TRUE(run.ok("table_init", {I(0), I(3), I(0)}));
  EXPECT_EQ(run.trap("table_init", {I(0), I(4), I(0)}), kOob);
  EXPECT_EQ(run.trap("table_init", {I(1), I(0), I(-1)}), kOob);
  // copy, overlapping both ways: [1 2 3 null] -> [1 1 2 3] -> [1 2 3 3].
  EXPECT_TRUE(run.ok("table_copy", {I(1), I(0), I(3)}));
  EXPECT_EQ(run.i32("call_t2", {I(1)}), 1);
  EXPECT_EQ(run.i32("call_t2", {I(2)}), 2);
  EXPECT_EQ(run.i32("call_t2", {I(3)}), 3);
  EXPECT_TRUE(run.ok("table_copy", {I(0), I(1), I(3)}));
  EXPECT_EQ(run.i32("call_t2", {I(0)}), 1);
  EXPECT_EQ(run.i32("call_t2", {I(1)}), 2);
  EXPECT_EQ(run.i32("call_t2", {I(2)}), 3);
  EXPECT_EQ(run.i32("call_t2", {I(3)}), 3);
  EXPECT_EQ(run.trap("table_copy", {I(2), I(0), I(3)}), kOob);
  EXPECT_EQ(run.i32("call_t2", {I(2)}), 3);  // nothing written
  EXPECT_TRUE(run.ok("table_copy", {I(4), I(0), I(0)}));
  EXPECT_TRUE(run.ok("table_copy", {I(0), I(4), I(0)}));
  EXPECT_EQ(run.trap("table_copy", {I(5), I(0), I(0)}), kOob);
  EXPECT_EQ(run.trap("table_copy", {I(0), I(5), I(0)}), kOob);
  EXPECT_EQ(run.trap("table_copy", {I(1), I(0), I(-1)}), kOob);
  // Between tables: slots -> t2.
  EXPECT_TRUE(run.ok("table_copy_from_slots", {I(0), I(3), I(1)}));
  EXPECT_EQ(run.i32("call_t2", {I(0)}), 8);
  EXPECT_EQ(run.trap("table_copy_from_slots", {I(0), I(2), I(3)}), kOob);
  // elem.drop: the segment is empty afterwards.
  EXPECT_TRUE(run.ok("drop_elem"));
  EXPECT_TRUE(run.ok("table_init", {I(0), I(0), I(0)}));
  EXPECT_EQ(run.trap("table_init", {I(0), I(0), I(1)}), kOob);
}

// ---------------------------------------------------------------------------------------------
// Class 14: memory.grow arithmetic (WAMR#4684 delta truncated, wabt PR#2786, spec#307).

TEST(HostileClass, C14_MemoryGrowByEveryEdgeDelta) {
  Exec run;  // memory 1..10
  ASSERT_NE(run.instance, nullptr);
  EXPECT_TRUE(run.ok("store8", {I(65535), I(0x77)}));
  auto failed = [&](uint32_t delta) {
    EXPECT_EQ(run.i32("grow", {U(delta)}), -1) << delta;
    EXPECT_EQ(run.i32("size"), 1) << "size changed by a failed grow of " << delta;
  };
  failed(10);  // max - current + 1
  failed(0x10000);
  failed(0x10001);
  failed(0xFFFFFFFF);
  failed(0x80000000);
  failed(0xFFFF);
  EXPECT_EQ(run.i32("grow", {I(0)}), 1);
  EXPECT_EQ(run.i32("size"), 1);
  EXPECT_EQ(run.i32("grow", {I(1)}), 1);
  EXPECT_EQ(run.i32("size"), 2);
  EXPECT_EQ(run.i32("grow", {I(8)}), 2);  // max - current
  EXPECT_EQ(run.i32("size"), 10);
  EXPECT_EQ(run.i32("grow", {I(1)}), -1);
  EXPECT_EQ(run.i32("grow", {I(0)}), 10);
  EXPECT_EQ(run.i32("load8", {I(65535)}), 0x77);  // contents survived the moves
  EXPECT_EQ(run.i32("load8", {I(10 * 65536 - 1)}), 0);
  EXPECT_EQ(run.trap("load8", {I(10 * 65536)}), TrapCode::MemoryOutOfBounds);

  // No declared maximum: the engine's limit (65,536 pages by default, or smaller) applies.
  MemModule m = mem_module(B("\x00\x01"), {0});
  Runner unbounded(m.bytes);
  for (uint32_t delta : {0x10000u, 0xFFFFFFFFu, 0x80000000u, 0x7FFFFFFFu}) {
    EXPECT_EQ(unbounded.i32("grow", {U(delta)}), -1) << delta;
    EXPECT_EQ(unbounded.i32("size"), 1);
  }
  Runner small(m.bytes, EngineConfig{.max_memory_pages = 4});
  EXPECT_EQ(small.i32("grow", {I(4)}), -1);
  EXPECT_EQ(small.i32("grow", {I(3)}), 1);
  EXPECT_EQ(small.i32("grow", {I(1)}), -1);
  EXPECT_EQ(small.i32("grow", {I(0)}), 4);
  EXPECT_EQ(small.i32("size"), 4);
}

// ---------------------------------------------------------------------------------------------
// Class 15: tail calls. warden implements Wasm 2.0 without the tail-call proposal: return_call
// (0x12) and return_call_indirect (0x13) are not opcodes, so no frame-reuse path exists.

TEST(HostileClass, C15_TailCallsAreRefusedAtDecode) {
  EXPECT_TRUE(
      malformed_with(with_body(B("\x00\x12\x00\x0b")), DCode::IllegalOpcode, "return_call"));
  EXPECT_TRUE(malformed_with(with_body(B("\x00\x41\x00\x13\x00\x00\x0b")), DCode::IllegalOpcode,
                             "return_call_indirect"));
  auto r = load_module(with_body(B("\x00\x12\x00\x0b")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset(),
            with_body(B("\x00\x12\x00\x0b")).size() - section(11, ModuleParts{}.data).size() - 3);
  Engine engine;
  EXPECT_FALSE(CompiledModule::compile(engine, with_body(B("\x00\x12\x00\x0b"))));
  EXPECT_FALSE(extism::Plugin::create(with_body(B("\x00\x12\x00\x0b"))));
}

// ---------------------------------------------------------------------------------------------
// Class 16: native-stack recursion inside the interpreter (wasm3#479).

// Runs `body` on a thread with a small native stack (the host's C++ recursion must not depend on
// the guest's call depth).
void on_small_stack(size_t stack_bytes, std::function<void()> body) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_t thread;
  auto* task = new std::function<void()>(std::move(body));
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                [](void* p) -> void* {
                  auto* f = static_cast<std::function<void()>*>(p);
                  (*f)();
                  delete f;
                  return nullptr;
                },
                task),
            0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

TEST(HostileClass, C16_DeepRecursionTrapsWithoutNativeRecursion) {
  // 300,000 Wasm frames on a 256 KiB native stack: only an explicit frame stack survives that.
  std::atomic<int> outcomes{0};
  on_small_stack(256 << 10, [&] {
    Exec run(EngineConfig{.max_call_depth = 300'000, .value_stack_slots = 1u << 22});
    EXPECT_EQ(run.trap("recurse", {I(0)}), TrapCode::CallStackExhausted);
    EXPECT_EQ(run.trap("bounce"), TrapCode::CallStackExhausted);           // through call_indirect
    EXPECT_EQ(run.trap("recurse", {I(0)}), TrapCode::CallStackExhausted);  // and again
    EXPECT_EQ(run.i32("call_slot", {I(0)}), 7);  // the store is still usable
    ++outcomes;
  });
  EXPECT_EQ(outcomes, 1);
  // The default limits, and a value stack that runs out before the frame count.
  Exec def;
  auto r = def.call("recurse", {I(0)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().trap, TrapCode::CallStackExhausted);
  EXPECT_EQ(r.error().message(), "trap: call stack exhausted");
  Exec tiny(EngineConfig{.value_stack_slots = 64});
  EXPECT_EQ(tiny.trap("recurse", {I(0)}), TrapCode::CallStackExhausted);
}

TEST(HostileClass, C16_GuestHostGuestReentryIsBounded) {
  // Guest -> host -> guest -> ... without end: each level is a nested Store::call, i.e. native
  // recursion in the host. It must end with a clean error, not a native stack overflow. Run in a
  // child process so that an overflow fails this test instead of killing the suite.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Exec run;
        auto r = run.call("down", {I(0)});
        const bool clean = !r && r.error().kind == ExecError::Kind::Trap &&
                           r.error().trap == TrapCode::CallStackExhausted;
        if (!clean) fprintf(stderr, "outcome: %s\n", r ? "returned" : r.error().message().c_str());
        std::exit(clean ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// ---------------------------------------------------------------------------------------------
// Class 17: deep nesting and native recursion in the decoder, validator, compiler or destructors
// (wabt#2151 / PR#2169). warden has no nesting cap: everything is iterative, bounded by the body
// size limit (7,654,321 bytes, so at most ~3.8M levels).

Bytes nested(uint32_t depth, const Bytes& open, const Bytes& inner, const Bytes& close) {
  Bytes body = B("\x00");
  body.reserve(depth * (open.size() + close.size()) + 16);
  for (uint32_t i = 0; i < depth; ++i) body.insert(body.end(), open.begin(), open.end());
  body = body + inner;
  for (uint32_t i = 0; i < depth; ++i) body.insert(body.end(), close.begin(), close.end());
  return body + B("\x0b");
}
Bytes exported_run(const Bytes& body) {
  return header() + section(1, vec(1, B("\x60\x00\x01\x7f"))) + section(3, vec(1, B("\x00"))) +
         section(7, vec(1, name("run") + B("\x00\x00"))) + section(10, vec(1, code_entry(body)));
}

TEST(HostileClass, C17_DeepNestingCompilesRunsAndTearsDown) {
  constexpr uint32_t kDepth = 100'000;
  struct Case {
    const char* what;
    Bytes body;
    int32_t result;
  };
  // Each function returns an i32; the innermost instruction branches to the outermost label.
  const Case cases[] = {
      {"blocks", nested(kDepth, B("\x02\x7f"), B("\x41\x07\x0c") + leb(kDepth - 1), B("\x0b")), 7},
      {"loops", nested(kDepth, B("\x03\x7f"), B("\x41\x08"), B("\x0b")), 8},
      {"ifs", nested(kDepth, B("\x41\x01\x04\x7f"), B("\x41\x09"), B("\x05\x41\x00\x0b")), 9},
      {"return from the deepest block", nested(kDepth, B("\x02\x40"), B("\x41\x0a\x0f"), B("\x0b")),
       10},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Bytes body = c.body;
    if (std::string_view(c.what).starts_with("return")) {
      body.pop_back();
      body = body + B("\x41\x00\x0b");
    }
    // On a 512 KiB native stack: decode, validate, compile, run and tear down.
    on_small_stack(512 << 10, [&] {
      Runner run(exported_run(body));
      ASSERT_NE(run.instance, nullptr);
      EXPECT_EQ(run.i32("run"), c.result);
    });
  }
  // A million nested blocks: still no recursion anywhere.
  on_small_stack(512 << 10, [&] {
    Runner run(exported_run(nested(1'000'000, B("\x02\x7f"), B("\x41\x05"), B("\x0b"))));
    ASSERT_NE(run.instance, nullptr);
    EXPECT_EQ(run.i32("run"), 5);
  });
}

// ---------------------------------------------------------------------------------------------
// Class 18: an assertion or abort reachable from a crafted module or API use (wabt#1108, #2242).

TEST(HostileClass, C18_HostApiArgumentMismatchesAreErrors) {
  Exec run;
  ASSERT_NE(run.instance, nullptr);
  auto usage = [&](std::string_view name, std::vector<Value> args, std::string_view message) {
    auto r = run.call(name, std::move(args));
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().kind, ExecError::Kind::Usage) << r.error().message();
    EXPECT_NE(r.error().message().find(message), std::string::npos) << r.error().message();
  };
  usage("call_slot", {}, "argument");
  usage("call_slot", {I(0), I(0)}, "argument");
  usage("call_slot", {Value::i64(0)}, "argument 1 should be i32, got i64");
  usage("call_slot", {Value::f32(0)}, "argument 1 should be i32, got f32");
  usage("call_slot", {Value::null(FuncRef)}, "argument 1 should be i32");
  usage("fill", {I(0), I(0), Value::f64(0)}, "argument 3 should be i32, got f64");
  usage("memory", {}, "no exported function \"memory\"");  // a memory, not a function
  usage("g", {}, "no exported function \"g\"");            // a global
  usage("", {}, "no exported function");
  EXPECT_EQ(run.i32("call_slot", {I(0)}), 7);  // still fine
  // Imports: the wrong kind, the wrong type.
  auto compiled = CompiledModule::compile(*run.engine, guest("hostile_exec.wasm"));
  ASSERT_TRUE(compiled);
  Linker bad;
  bad.define("env", "host_grow",
             Extern{.kind = ExternKind::Memory, .memory = run.instance->memory0()});
  bad.define_function(
      "env", "reenter", FuncType{{I32}, {I32}},
      [](CallContext&, std::span<const Value>, std::span<Value>) -> HostResult { return {}; });
  auto inst = run.store->instantiate(*compiled, bad);
  ASSERT_FALSE(inst);
  EXPECT_EQ(inst.error().kind, ExecError::Kind::Link);
  EXPECT_NE(inst.error().message().find("\"env\".\"host_grow\""), std::string::npos)
      << inst.error().message();
  Linker typed;
  exec_imports(typed, nullptr);
  typed.define_function(
      "env", "host_grow", FuncType{{I64}, {I32}},
      [](CallContext&, std::span<const Value>, std::span<Value>) -> HostResult { return {}; });
  inst = run.store->instantiate(*compiled, typed);
  ASSERT_FALSE(inst);
  EXPECT_EQ(inst.error().kind, ExecError::Kind::Link);
  EXPECT_NE(inst.error().message().find("incompatible import type"), std::string::npos)
      << inst.error().message();
  // Plugin level: an export with parameters is not callable; a host function of the wrong type.
  using namespace extism;
  auto p = Plugin::create(guest("hostile_exec.wasm"));
  EXPECT_FALSE(p);  // imports from "env" that no plugin host provides
  PluginOptions options;
  options.functions.push_back(
      PluginFunction{.name = "dup", .type = FuncType{{I32}, {I32}}, .callback = {}});
  auto q = Plugin::create(guest("hostile_plugin.wasm"), options);
  ASSERT_FALSE(q);
  EXPECT_NE(q.error().message.find("dup"), std::string::npos) << q.error().message;
}

// ---------------------------------------------------------------------------------------------
// Class 20: state leaking between instances (CVE-2022-39393).

TEST(HostileClass, C20_NoStateLeaksIntoTheNextInstance) {
  const Bytes bytes = guest("hostile_exec.wasm");
  Engine engine;
  auto compiled = CompiledModule::compile(engine, bytes);
  ASSERT_TRUE(compiled);
  const int64_t fresh_sum = 'i' + 'n' + 'i' + 't';
  auto check_fresh = [&](Store& store, Instance& instance) {
    auto call = [&](std::string_view f, std::vector<Value> args = {}) {
      auto r = store.call(instance, f, args);
      EXPECT_TRUE(r || f == "call_slot") << f << ": " << r.error().message();
      return r;
    };
    auto sum = call("memory_sum");
    ASSERT_TRUE(sum);
    EXPECT_EQ((*sum)[0].as_i64(), fresh_sum);
    EXPECT_EQ(static_cast<int32_t>(instance.find_export("g")->global->bits), 42);
    EXPECT_EQ((*call("gl"))[0].as_i64(), -7);
    auto slot1 = call("call_slot", {I(1)});  // $seven_i64: a type mismatch, unless overwritten
    ASSERT_FALSE(slot1);
    EXPECT_EQ(slot1.error().trap, TrapCode::IndirectCallTypeMismatch);
    EXPECT_EQ((*call("t2_is_null", {I(0)}))[0], I(1));
    EXPECT_EQ((*call("size"))[0], I(1));
  };
  for (int round = 0; round < 3; ++round) {
    auto store = std::make_unique<Store>(engine);
    Linker linker;
    Instance* self = nullptr;
    exec_imports(linker, &self);
    auto a = store->instantiate(*compiled, linker);
    ASSERT_TRUE(a);
    check_fresh(*store, **a);
    ASSERT_TRUE(store->call(**a, "grow", std::vector<Value>{I(9)}));
    ASSERT_TRUE(store->call(**a, "write_secret", {}));
    ASSERT_TRUE(store->call(**a, "fill", std::vector<Value>{I(65536), I(0x5A), I(9 * 65536)}));
    EXPECT_EQ((*store->call(**a, "call_slot", std::vector<Value>{I(1)}))[0], I(7));
    // A second instance in the same store while the first is alive.
    auto b = store->instantiate(*compiled, linker);
    ASSERT_TRUE(b);
    check_fresh(*store, **b);
  }
}

}  // namespace
}  // namespace warden

namespace warden {
namespace {

TEST(HostileClass, C24_GuestSeesMemoryMovedByAHostCall) {
  // The host grows the guest's memory during a call (the base moves: 1 -> 9 pages is past the
  // first allocation); the guest then writes and reads the new top and its old data.
  Exec run;
  ASSERT_NE(run.instance, nullptr);
  const uint8_t* before = run.instance->memory0()->data();
  EXPECT_EQ(run.i32("grow_through_host", {I(8)}), 0x0A0B0C0D + 0x01020304);
  EXPECT_EQ(run.i32("size"), 9);
  EXPECT_NE(run.instance->memory0()->data(), before) << "the memory did not move: a weak test";
  EXPECT_EQ(run.i32("load8", {I(9 * 65536 - 1)}), 0x0A);
  // A grow that fails leaves everything in place.
  EXPECT_EQ(run.i32("grow_through_host", {I(5)}), 0x0A0B0C0D + 0x01020304);
  EXPECT_EQ(run.i32("size"), 9);
}

}  // namespace
}  // namespace warden
