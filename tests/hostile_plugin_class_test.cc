// The hostile-class suite at the Extism plugin level (classes 20-24 of
// ../shared/hostile-classes.md): kernel handles, timeouts over several calls, guest-filled
// buffers, host functions that allocate while the region moves. The module-level classes are in
// hostile_class_test.cc; tests/README.md maps each class to its tests.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "hostabi/plugin.h"
#include "test_guest.h"
#include "vm/store.h"

namespace warden::extism {
namespace {

using test::guest_bytes;

using enum ValType;

PluginOptions plugin_options(PluginHostCallback dup = {}) {
  PluginOptions o;
  if (!dup) {
    dup = [](CurrentPlugin& p, std::span<const Value> args, std::span<Value> r) -> HostResult {
      // Copy out of the kernel region first: alloc may move the region.
      const std::string copy(p.text(args[0].bits));
      r[0] = Value::i64(static_cast<int64_t>(p.alloc_copy(copy)));
      return {};
    };
  }
  o.functions.push_back(
      PluginFunction{.name = "dup", .type = FuncType{{I64}, {I64}}, .callback = std::move(dup)});
  return o;
}
std::unique_ptr<Plugin> hostile(Manifest m = {}, PluginOptions o = plugin_options()) {
  m.wasm.clear();
  WasmSource s;
  s.data = guest_bytes("hostile_plugin");
  m.wasm.push_back(std::move(s));
  auto p = Plugin::create(m, std::move(o));
  EXPECT_TRUE(p) << p.error().message;
  return p ? std::move(*p) : nullptr;
}
std::string ok(Plugin& p, std::string_view f, std::string_view input = "") {
  auto r = p.call(f, input);
  EXPECT_TRUE(r) << f << ": " << r.error().message;
  return r ? std::string(*r) : std::string();
}
PluginError err(Plugin& p, std::string_view f, std::string_view input = "") {
  auto r = p.call(f, input);
  EXPECT_FALSE(r) << f << " succeeded";
  return r ? PluginError{ErrorKind::HostError, "<no error>", 0} : r.error();
}
std::vector<uint64_t> words(const std::string& out) {
  std::vector<uint64_t> w(out.size() / 8);
  std::memcpy(w.data(), out.data(), w.size() * 8);
  return w;
}

TEST(HostileClass, C20_KernelBytesOfAnEarlierCallAreNotReadable) {
  auto p = hostile();
  ASSERT_TRUE(p);
  // Call 1 leaves 0x5A bytes in the region; call 2's 1-byte block starts at the same handle,
  // and the 7 bytes after it (the block's rounding) are readable through load_u64.
  ok(*p, "fill_block");
  auto peek = words(ok(*p, "peek_alloc"));
  ASSERT_EQ(peek.size(), 1u);
  // The same with the input: a secret input, then a 1-byte input in the same place.
  ok(*p, "echo", "SECRET!!");
  auto input = words(ok(*p, "peek_input", "x"));
  ASSERT_EQ(input.size(), 1u);
  // (At commit 5ebcdaf KernelRegion::alloc zeroed only the n bytes asked for, so both words
  // carried 7 bytes of the earlier call: 0x5a5a5a5a5a5a5a00 and "xECRET!!".)
  EXPECT_EQ(peek[0], 0u) << std::hex << peek[0];
  EXPECT_EQ(input[0], uint64_t{'x'}) << std::hex << input[0];
}

TEST(HostileClass, C20_PluginsFromTheSameBytesShareNoState) {
  // Covered at length by Plugin.StartGivesAFreshInstanceWithEmptyVariables; here: plugin memory
  // written by one plugin is not seen by the next plugin made from the same bytes.
  auto a = hostile();
  auto b = hostile();
  ASSERT_TRUE(a && b);
  ok(*a, "set_var", "secret");
  EXPECT_EQ(a->vars().at("k"), "secret");
  EXPECT_TRUE(b->vars().empty());
}

TEST(HostileClass, C21_ForgedFreedAndWrappingHandlesOffsetsAndLengths) {
  auto p = hostile();
  ASSERT_TRUE(p);
  const std::string input = "0123456789abcdef";
  auto w = words(ok(*p, "probe_handles", input));
  ASSERT_EQ(w.size(), 17u);
  EXPECT_EQ(w[0], 0u) << "alloc(0)";
  EXPECT_EQ(w[1], 0u) << "alloc(2^64 - 1)";
  EXPECT_EQ(w[2], 0u) << "alloc(2^32 + 1)";
  EXPECT_EQ(w[3], 0u) << "length(0)";
  EXPECT_EQ(w[4], 0u) << "length(forged)";
  EXPECT_EQ(w[5], 0u) << "length(freed)";
  EXPECT_EQ(w[6], 1u) << "a double free made two allocations alias";
  EXPECT_EQ(w[7], 0u) << "length(inside a block)";
  EXPECT_EQ(w[8], 0x1122334455667788u) << "load_u64 inside a block";
  EXPECT_EQ(w[9], 0u) << "load_u64(2^64 - 7): p + 8 wraps";
  EXPECT_EQ(w[10], 0u) << "input_load_u8(input_length)";
  EXPECT_EQ(w[11], 0u) << "input_load_u64(input_length - 7)";
  EXPECT_EQ(w[12], 0u) << "input_load_u64(2^64 - 7)";
  uint64_t last8;
  std::memcpy(&last8, input.data() + 8, 8);
  EXPECT_EQ(w[13], last8) << "input_load_u64(input_length - 8)";
  EXPECT_EQ(w[14], 0x1122334455667788u) << "a wrapping or forged store wrote into a block";
  EXPECT_EQ(w[15], 0u) << "store_u8 below the first handle";
  EXPECT_EQ(w[16], 16u) << "length of a live block";
  // error_set with a forged or a freed handle.
  auto e = err(*p, "error_forged");
  EXPECT_EQ(e.message, "plugin set an error with an invalid handle");
  EXPECT_EQ(e.rc, 1);
  e = err(*p, "error_freed");
  EXPECT_EQ(e.message, "plugin set an error with an invalid handle");
  // output_set: exactly the block, one byte past the used region, a wrapping length, 0 at the end.
  EXPECT_EQ(ok(*p, "output_len", std::string(16, '.')), "AAAAAAAABBBBBBBB");
  e = err(*p, "output_len", std::string(17, '.'));
  EXPECT_EQ(e.message, "output_set: bytes out of bounds of the kernel region");
  e = err(*p, "output_wrap");
  EXPECT_EQ(e.message, "output_set: bytes out of bounds of the kernel region");
  EXPECT_EQ(ok(*p, "output_empty_at_end"), "");
  EXPECT_EQ(ok(*p, "echo", "usable"), "usable");
}

TEST(HostileClass, C22_TimeoutIsRearmedOnEveryCall) {
  Manifest m;
  m.timeout_ms = 100;
  auto p = hostile(m);
  ASSERT_TRUE(p);
  for (int call = 0; call < 3; ++call) {
    const auto start = std::chrono::steady_clock::now();
    auto e = err(*p, "spin");
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(e.message, "timeout") << "call " << call;
    EXPECT_EQ(e.rc, -1);
    EXPECT_GE(took, std::chrono::milliseconds(90)) << "call " << call;
    EXPECT_LT(took, std::chrono::seconds(5)) << "call " << call;
    EXPECT_EQ(ok(*p, "echo", "between"), "between");
  }
}

TEST(HostileClass, C22_HostCallsHonourTheRemainingTimeout) {
  Manifest m;
  WasmSource s;
  s.data = guest_bytes("hostile_plugin_wasi");
  m.wasm.push_back(std::move(s));
  m.timeout_ms = 150;
  PluginOptions o;
  o.wasi = true;
  auto p = Plugin::create(m, o);
  ASSERT_TRUE(p) << p.error().message;
  // A one-minute WASI sleep, three times: each call ends at its own timeout.
  for (int call = 0; call < 3; ++call) {
    const auto start = std::chrono::steady_clock::now();
    auto r = (*p)->call("sleep", "");
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r) << "call " << call;
    EXPECT_EQ(r.error().message, "timeout") << "call " << call;
    EXPECT_GE(took, std::chrono::milliseconds(140)) << "call " << call;
    EXPECT_LT(took, std::chrono::seconds(3)) << "call " << call;
  }
  // 600 ms of Wasm, then the sleep: the call ends at the 1000 ms budget, not 600 + 1000 ms.
  m.timeout_ms = 1000;
  auto q = Plugin::create(m, o);
  ASSERT_TRUE(q) << q.error().message;
  const auto start = std::chrono::steady_clock::now();
  auto r = (*q)->call("spin_then_sleep", "");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "timeout");
  EXPECT_GE(took, std::chrono::milliseconds(990));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

TEST(HostileClass, C23_VarOutputAndLogCapsUnderAtAndOver) {
  // Vars: key "k" (1 byte) + value + 48 bytes per entry.
  Manifest m;
  m.max_var_bytes = 1 + 51 + 48;
  auto p = hostile(m);
  ASSERT_TRUE(p);
  ok(*p, "set_var", std::string(50, 'a'));  // under
  EXPECT_EQ(p->vars().at("k"), std::string(50, 'a'));
  ok(*p, "set_var", std::string(51, 'b'));  // at (the old entry is given back first)
  EXPECT_EQ(p->vars().at("k"), std::string(51, 'b'));
  auto e = err(*p, "set_var", std::string(52, 'c'));  // over
  EXPECT_EQ(e.message, "Variable store is full");
  EXPECT_EQ(e.rc, -1);
  EXPECT_EQ(p->vars().at("k"), std::string(51, 'b'));  // unchanged
  EXPECT_EQ(ok(*p, "echo", "reusable"), "reusable");
  ok(*p, "set_var", "");  // an empty value removes the key and gives its bytes back
  EXPECT_TRUE(p->vars().empty());
  ok(*p, "set_var", std::string(51, 'd'));
  EXPECT_EQ(p->vars().at("k"), std::string(51, 'd'));

  // Output: bounded by the memory budget (the region holds it). 4 MiB budget: a 2 MiB output
  // works, 8 MiB is "oom", and the plugin goes on.
  Manifest budget;
  budget.max_pages = 64;
  auto q = hostile(budget);
  ASSERT_TRUE(q);
  EXPECT_EQ(ok(*q, "big_output", std::string(32, '.')).size(), 2u << 20);
  EXPECT_EQ(err(*q, "big_output", std::string(128, '.')).message, "oom");
  EXPECT_EQ(ok(*q, "echo", "after oom"), "after oom");

  // Logs: a message just under, at and over max_log_message_bytes; the per-call byte cap.
  for (size_t len : {99u, 100u, 101u}) {
    PluginOptions o = plugin_options();
    o.log_level = LogLevel::Info;
    o.quota.max_log_message_bytes = 100;
    std::vector<std::string> lines;
    o.log_sink = [&](LogLevel, std::string_view line) { lines.emplace_back(line); };
    auto l = hostile({}, o);
    ASSERT_TRUE(l);
    ok(*l, "log3", std::string(len, 'x'));
    ASSERT_EQ(lines.size(), 3u) << len;
    if (len <= 100) {
      EXPECT_EQ(lines[0], std::string(len, 'x'));
    } else {
      EXPECT_EQ(lines[0], std::string(100, 'x') + " [truncated]");
    }
  }
  for (size_t cap : {30u, 29u}) {  // three 10-byte messages
    PluginOptions o = plugin_options();
    o.log_level = LogLevel::Info;
    o.quota.max_log_bytes_per_call = cap;
    std::vector<std::string> lines;
    o.log_sink = [&](LogLevel, std::string_view line) { lines.emplace_back(line); };
    auto l = hostile({}, o);
    ASSERT_TRUE(l);
    ok(*l, "log3", "0123456789");
    if (cap == 30) {
      EXPECT_EQ(lines.size(), 3u);
    } else {
      ASSERT_EQ(lines.size(), 3u);  // two messages, then the notice
      EXPECT_EQ(lines[2], "plugin log output over 29 bytes in this call; further messages dropped");
    }
    lines.clear();
    ok(*l, "log3", "0123456789");  // the cap is per call
    EXPECT_EQ(lines.size(), 3u);
  }
}

TEST(HostileClass, C24_HostFunctionsSurviveTheRegionMoving) {
  // The embedder's host function reads the input block and copies it into a new block. The new
  // allocation grows the kernel region (the input is 70,000 bytes: 2 pages, the copy needs a
  // third), which moves its bytes. A view into the region taken before the allocation dangles.
  const std::string input(70'000, 'q');
  // 1) The documented way: copy out, then allocate.
  {
    auto p = hostile();
    ASSERT_TRUE(p);
    EXPECT_EQ(ok(*p, "host_dup", input), input);
  }
}

TEST(HostileClass, C24_AllocCopyOfAViewIntoTheRegionSurvivesGrowth) {
  // The natural one-liner, alloc_copy(text(h)): the API must not let its source dangle.
  const std::string input(70'000, 'q');
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto p =
            hostile({}, plugin_options([](CurrentPlugin& cp, std::span<const Value> args,
                                          std::span<Value> r) -> HostResult {
                      r[0] = Value::i64(static_cast<int64_t>(cp.alloc_copy(cp.text(args[0].bits))));
                      return {};
                    }));
        auto out = p->call("host_dup", input);
        if (!out)
          fprintf(stderr, "error: %s\n", out.error().message.c_str());
        else if (*out != input) {
          size_t i = 0;
          while (i < out->size() && i < input.size() && (*out)[i] == input[i]) ++i;
          fprintf(stderr, "output of %zu bytes differs from byte %zu\n", out->size(), i);
        }
        std::exit(out && *out == input ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace warden::extism
